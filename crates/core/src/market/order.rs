//! An order's life: requested → confirmed → assigned → in service → completed → rated, with
//! cancellation inside the published terms, a free change of worker in the first days of
//! long-term care, and disputes. Every step names who may take it; the store records each one.

use chrono::{DateTime, Duration, Utc};

use crate::choice;
use crate::field::Invalid;

choice!(
    OrderStatus {
        Requested = ("requested", "待确认", "Requested"),
        Confirmed = ("confirmed", "已确认，待派单", "Confirmed, awaiting a worker"),
        Assigned = ("assigned", "已派单", "Worker assigned"),
        InService = ("in_service", "服务中", "In service"),
        Completed = ("completed", "已完成", "Completed"),
        Rated = ("rated", "已评价", "Rated"),
        Cancelled = ("cancelled", "已取消", "Cancelled"),
        Disputed = ("disputed", "有争议", "Disputed"),
    }
);

choice!(
    /// A step someone takes on an order.
    OrderStep {
        Request = ("request", "提交订单", "Place the order"),
        Confirm = ("confirm", "确认订单", "Confirm"),
        Assign = ("assign", "派单", "Assign a worker"),
        Start = ("start", "开始服务", "Start the service"),
        Complete = ("complete", "服务完成", "Complete"),
        Rate = ("rate", "评价", "Rate"),
        Cancel = ("cancel", "取消订单", "Cancel"),
        Replace = ("replace", "申请更换服务员", "Ask for another worker"),
        Dispute = ("dispute", "提出争议", "Dispute"),
        Resolve = ("resolve", "处理完毕", "Resolve"),
        // Recorded when money of a subsidised order goes back to the district; nobody takes it.
        Refund = ("refund", "退款", "Refund"),
    }
);

choice!(
    /// Who takes a step.
    Party {
        Resident = ("resident", "居民", "Resident"),
        Agency = ("agency", "家政企业", "Agency"),
        Regulator = ("regulator", "监管部门", "Regulator"),
    }
);

/// A long-term service's worker may be changed at no charge within this many days of the start.
pub const FREE_REPLACEMENT_DAYS: i64 = 3;

/// The status after `step`, or why it cannot be taken.
pub fn next(status: OrderStatus, step: OrderStep, by: Party) -> Result<OrderStatus, Invalid> {
    use OrderStatus::*;
    use OrderStep::*;
    let to = match (status, step, by) {
        (Requested, Confirm, Party::Agency) => Confirmed,
        (Requested | Confirmed, Assign, Party::Agency) => Assigned,
        (Assigned, Start, Party::Agency) => InService,
        (Assigned | InService, Complete, Party::Agency) => Completed,
        (Completed, Rate, Party::Resident) => Rated,
        (Requested | Confirmed | Assigned, Cancel, Party::Resident | Party::Agency) => Cancelled,
        (Assigned | InService, Replace, Party::Resident) => Confirmed,
        // Before the service starts there is nothing to dispute: the resident cancels instead.
        (InService | Completed, Dispute, Party::Resident) => Disputed,
        (Disputed, Resolve, Party::Agency | Party::Regulator) => Completed,
        _ => {
            return Err(Invalid::new(
                "step_not_allowed",
                format!("订单{}时，{}不能{}", status.label_zh(), by.label_zh(), step.label_zh()),
                format!(
                    "a {} order cannot be given “{}” by the {}",
                    status.label_en().to_lowercase(),
                    step.label_en().to_lowercase(),
                    by.label_en().to_lowercase()
                ),
            ));
        }
    };
    Ok(to)
}

/// Whether a step may be taken yet: a service starts on its day at the earliest and is
/// completed only once it has begun, so nobody records (or rates) a visit before it happens.
pub fn in_time(step: OrderStep, start: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Invalid> {
    let start_day = crate::market::slot::day_start(crate::calendar::beijing_date(start));
    match step {
        OrderStep::Start if now < start_day => Err(Invalid::new(
            "too_early",
            "服务当天才能开始服务",
            "a service can be started on its day at the earliest",
        )),
        OrderStep::Complete if now < start => Err(Invalid::new(
            "too_early",
            "服务开始后才能标记完成",
            "a service can be completed only after it has begun",
        )),
        _ => Ok(()),
    }
}

/// When a change of worker takes effect: at the start of a service not yet begun, else at the
/// next Beijing midnight (the outgoing worker keeps the day they are in).
pub fn handover(start: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    if start > now {
        start
    } else {
        let today = crate::calendar::beijing_date(now);
        crate::market::slot::day_start(today.succ_opt().unwrap_or(today))
    }
}

/// The steps `by` may take now, for buttons.
pub fn steps(status: OrderStatus, by: Party) -> Vec<OrderStep> {
    OrderStep::ALL.iter().copied().filter(|s| next(status, *s, by).is_ok()).collect()
}

/// A free replacement is for services of several days, asked within the first three days.
pub fn may_replace(start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Invalid> {
    if end - start < Duration::days(2) {
        return Err(Invalid::new(
            "not_long_term",
            "仅长期服务可申请更换服务员",
            "only long-term services may ask for another worker",
        ));
    }
    if now > start + Duration::days(FREE_REPLACEMENT_DAYS) {
        return Err(Invalid::new(
            "replacement_window_over",
            "服务开始3天内可免费更换，现已超过",
            "the free change of worker is open for the first 3 days only",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;
    use OrderStep::*;

    #[test]
    fn the_happy_path_runs_from_request_to_rating() {
        let mut status = Requested;
        for (step, by) in [
            (Confirm, Party::Agency),
            (Assign, Party::Agency),
            (Start, Party::Agency),
            (Complete, Party::Agency),
            (Rate, Party::Resident),
        ] {
            status = next(status, step, by).unwrap();
        }
        assert_eq!(status, Rated);
    }

    #[test]
    fn steps_out_of_turn_or_by_the_wrong_party_are_refused() {
        assert!(next(Requested, Rate, Party::Resident).is_err());
        assert!(next(Completed, Rate, Party::Agency).is_err(), "an agency cannot rate itself");
        assert!(next(Rated, Rate, Party::Resident).is_err(), "one rating");
        assert!(next(InService, Cancel, Party::Resident).is_err(), "a started service is disputed, not cancelled");
        assert!(next(Cancelled, Confirm, Party::Agency).is_err());
        let refusal = next(Requested, Complete, Party::Agency).unwrap_err();
        assert_eq!(refusal.message_zh, "订单待确认时，家政企业不能服务完成");
        assert_eq!(steps(Requested, Party::Agency), vec![Confirm, Assign, Cancel]);
        assert_eq!(steps(Completed, Party::Resident), vec![Rate, Dispute]);
        assert!(next(Assigned, Dispute, Party::Resident).is_err(), "cancel before the service, dispute after");
    }

    #[test]
    fn a_visit_is_started_on_its_day_and_completed_once_begun() {
        let start: DateTime<Utc> = "2026-12-05T02:00:00Z".parse().unwrap(); // 10:00 Beijing
        let night_before: DateTime<Utc> = "2026-12-04T15:59:00Z".parse().unwrap();
        let morning: DateTime<Utc> = "2026-12-04T16:30:00Z".parse().unwrap(); // 00:30 Beijing, that day
        assert_eq!(in_time(Start, start, night_before).unwrap_err().code, "too_early");
        assert!(in_time(Start, start, morning).is_ok());
        assert_eq!(in_time(Complete, start, morning).unwrap_err().code, "too_early");
        assert!(in_time(Complete, start, start).is_ok());
        assert!(in_time(Cancel, start, night_before).is_ok());
    }

    #[test]
    fn a_new_worker_takes_over_at_the_start_or_the_next_beijing_midnight() {
        let start: DateTime<Utc> = "2026-12-05T16:00:00Z".parse().unwrap();
        assert_eq!(handover(start, start - Duration::hours(1)), start);
        let running: DateTime<Utc> = "2026-12-07T03:00:00Z".parse().unwrap(); // 11:00 Beijing, 12-07
        assert_eq!(handover(start, running).to_rfc3339(), "2026-12-07T16:00:00+00:00");
    }

    #[test]
    fn a_free_replacement_is_for_long_services_in_their_first_three_days() {
        let start: DateTime<Utc> = "2026-12-05T16:00:00Z".parse().unwrap();
        let month = start + Duration::days(26);
        assert!(may_replace(start, month, start + Duration::days(2)).is_ok());
        assert_eq!(may_replace(start, month, start + Duration::days(4)).unwrap_err().code, "replacement_window_over");
        assert_eq!(may_replace(start, start + Duration::hours(2), start).unwrap_err().code, "not_long_term");
        assert_eq!(next(InService, Replace, Party::Resident).unwrap(), Confirmed);
    }
}
