//! Rectification (plan task 25): after a penalty or an upheld complaint, the regulator orders an
//! agency to put something right by a deadline (a Beijing date); the agency reports what it did
//! with evidence; the regulator accepts (the order closes), extends the deadline, or returns the
//! report for more. An order past its deadline and not accepted is overdue, unless the agency's
//! report came in time and waits for the regulator.

use chrono::NaiveDate;

use crate::choice;
use crate::field::{FieldErrors, Invalid, optional_text, required_paragraphs};
use crate::workforce::parse_date;

pub const MAX_REQUIREMENT_CHARS: usize = 2000;
pub const MAX_REPORT_CHARS: usize = 2000;
pub const MAX_REASON_CHARS: usize = 1000;
/// The furthest a deadline may be set: a year and a day ahead.
pub const MAX_DEADLINE_DAYS: i64 = 366;

choice!(
    /// What an order follows from.
    RectificationSource {
        Penalty = ("penalty", "行政处罚", "Penalty"),
        Complaint = ("complaint", "成立的投诉", "Upheld complaint"),
    }
);

choice!(
    RectificationStatus {
        Open = ("open", "待整改", "Waiting for the agency"),
        Reported = ("reported", "已报告，待验收", "Reported, waiting for review"),
        Accepted = ("accepted", "已验收，已关闭", "Accepted and closed"),
    }
);

choice!(
    /// One step in an order's history.
    RectificationStep {
        Opened = ("opened", "下达整改", "Order opened"),
        Reported = ("reported", "企业报告整改情况", "The agency reported"),
        Returned = ("returned", "退回补充", "Returned for more"),
        Extended = ("extended", "延长期限", "Deadline extended"),
        Accepted = ("accepted", "验收通过", "Accepted"),
    }
);

choice!(
    /// What the regulator does with an order.
    ReviewAction {
        Accept = ("accept", "验收通过并关闭", "Accept and close"),
        Extend = ("extend", "延长期限", "Extend the deadline"),
        Return = ("return", "退回补充", "Return for more"),
    }
);

fn closed() -> Invalid {
    Invalid::new(
        "order_closed",
        "该整改已验收关闭，不能再操作",
        "this order is accepted and closed; nothing more can be done",
    )
}

/// A deadline: a Beijing date after today, within a year and a day.
pub fn parse_deadline(raw: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let day = parse_date(raw)?;
    if day <= today {
        return Err(Invalid::new("deadline_past", "整改期限应晚于今天", "the deadline must be after today"));
    }
    if (day - today).num_days() > MAX_DEADLINE_DAYS {
        return Err(Invalid::new("deadline_far", "整改期限不能超过一年", "the deadline must be within a year"));
    }
    Ok(day)
}

/// An order as the regulator opens it; the source is picked from the list of penalties and
/// upheld complaints without an order.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct OrderForm {
    /// `penalty` or `complaint`.
    pub source: String,
    /// The penalty's ledger entry (`seq`) or the complaint's id, from `/api/v1/rectifications/sources`.
    pub source_id: i64,
    /// Beijing date, `YYYY-MM-DD`, after today.
    pub deadline: String,
    /// What must be put right, at most 2000 characters.
    pub requirement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDraft {
    pub source: RectificationSource,
    pub source_id: i64,
    pub deadline: NaiveDate,
    pub requirement: String,
}

impl OrderForm {
    pub fn parse(&self, today: NaiveDate) -> Result<OrderDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let source = e.take("source", RectificationSource::parse(&self.source));
        if self.source_id <= 0 {
            e.0.push(Invalid::new("pick_from_list", "请从列表中选择", "pick from the list").at("source_id"));
        }
        let deadline = e.take("deadline", parse_deadline(&self.deadline, today));
        let requirement = e.take("requirement", required_paragraphs(&self.requirement, MAX_REQUIREMENT_CHARS));
        match (source, deadline, requirement) {
            (Some(source), Some(deadline), Some(requirement)) if e.is_empty() => {
                Ok(OrderDraft { source, source_id: self.source_id, deadline, requirement })
            }
            _ => Err(e),
        }
    }
}

/// What the agency did, as it reports it (the evidence file comes beside it).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ReportForm {
    /// At most 2000 characters.
    pub text: String,
}

impl ReportForm {
    pub fn parse(&self) -> Result<String, FieldErrors> {
        let mut e = FieldErrors::default();
        let text = e.take("text", required_paragraphs(&self.text, MAX_REPORT_CHARS));
        text.filter(|_| e.is_empty()).ok_or(e)
    }
}

/// The status after the agency reports, or why it may not.
pub fn report(from: RectificationStatus) -> Result<RectificationStatus, Invalid> {
    match from {
        RectificationStatus::Accepted => Err(closed()),
        _ => Ok(RectificationStatus::Reported),
    }
}

/// The regulator's review as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ReviewForm {
    /// `accept`, `extend` or `return`.
    pub action: String,
    /// For `extend`: the new deadline, after the old one and not before today.
    pub deadline: String,
    /// Required to extend or return; at most 1000 characters.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub action: ReviewAction,
    pub deadline: Option<NaiveDate>,
    pub reason: Option<String>,
}

impl ReviewForm {
    pub fn parse(&self, current_deadline: NaiveDate, today: NaiveDate) -> Result<Review, FieldErrors> {
        let mut e = FieldErrors::default();
        let action = e.take("action", ReviewAction::parse(&self.action));
        let deadline = match action {
            Some(ReviewAction::Extend) => e
                .take(
                    "deadline",
                    parse_date(&self.deadline).and_then(|day| {
                        if day <= current_deadline {
                            Err(Invalid::new(
                                "not_later",
                                format!("新期限应晚于原期限{current_deadline}"),
                                format!("the new deadline must be after the old one, {current_deadline}"),
                            ))
                        } else if day < today {
                            Err(Invalid::new(
                                "deadline_past",
                                "新期限不能早于今天",
                                "the new deadline cannot be before today",
                            ))
                        } else if (day - today).num_days() > MAX_DEADLINE_DAYS {
                            Err(Invalid::new(
                                "deadline_far",
                                "整改期限不能超过一年",
                                "the deadline must be within a year",
                            ))
                        } else {
                            Ok(day)
                        }
                    }),
                )
                .map(Some),
            _ => Some(None),
        };
        let reason = match action {
            Some(ReviewAction::Extend | ReviewAction::Return) => e
                .take(
                    "reason",
                    required_paragraphs(&self.reason, MAX_REASON_CHARS).map_err(|err| match err.code {
                        "required" => Invalid::new("required", "请写明理由", "give the reason"),
                        _ => err,
                    }),
                )
                .map(Some),
            _ => e.take("reason", optional_text(&self.reason, MAX_REASON_CHARS)),
        };
        match (action, deadline, reason) {
            (Some(action), Some(deadline), Some(reason)) if e.is_empty() => Ok(Review { action, deadline, reason }),
            _ => Err(e),
        }
    }
}

impl ReviewAction {
    /// The status after this review, or why it cannot be taken from `from`.
    pub fn apply(self, from: RectificationStatus) -> Result<RectificationStatus, Invalid> {
        use RectificationStatus as S;
        match (self, from) {
            (_, S::Accepted) => Err(closed()),
            (Self::Accept, S::Reported) => Ok(S::Accepted),
            (Self::Return, S::Reported) => Ok(S::Open),
            (Self::Extend, s) => Ok(s),
            (Self::Accept | Self::Return, S::Open) => {
                Err(Invalid::new("no_report", "企业尚未报告整改情况", "the agency has not reported what it did yet"))
            }
        }
    }

    pub fn step(self) -> RectificationStep {
        match self {
            Self::Accept => RectificationStep::Accepted,
            Self::Extend => RectificationStep::Extended,
            Self::Return => RectificationStep::Returned,
        }
    }
}

/// Overdue: not accepted, the deadline passed, and no report made by the deadline waiting for
/// the regulator (a report returned for more starts the clock again).
pub fn is_overdue(
    status: RectificationStatus,
    deadline: NaiveDate,
    reported_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    match status {
        RectificationStatus::Accepted => false,
        RectificationStatus::Reported if reported_on.is_some_and(|d| d <= deadline) => false,
        _ => deadline < today,
    }
}

/// The same rule in SQL, over columns `status`, `deadline` and `reported_on` of `table`, with
/// today's Beijing date as `param` (e.g. `$2`).
pub fn overdue_sql(table: &str, param: &str) -> String {
    format!(
        "({table}.status <> 'accepted' AND {table}.deadline < {param}
          AND NOT ({table}.status = 'reported' AND {table}.reported_on IS NOT NULL AND {table}.reported_on <= {table}.deadline))"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    #[test]
    fn an_order_needs_a_source_a_future_deadline_and_what_to_fix() {
        let today = day(3, 1);
        let form = OrderForm {
            source: "penalty".into(),
            source_id: 12,
            deadline: "2026-03-31".into(),
            requirement: "补签劳动合同\n为全部员工制服务员参加社保".into(),
        };
        let draft = form.parse(today).unwrap();
        assert_eq!(draft.deadline, day(3, 31));
        assert_eq!(draft.source, RectificationSource::Penalty);
        let bad = OrderForm { source_id: 0, deadline: "2026-03-01".into(), requirement: " ".into(), ..form.clone() };
        let errors = bad.parse(today).unwrap_err();
        let codes: Vec<(&str, &str)> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            codes,
            [("source_id", "pick_from_list"), ("deadline", "deadline_past"), ("requirement", "required")]
        );
        let far = OrderForm { deadline: "2027-03-03".into(), ..form.clone() };
        assert_eq!(far.parse(today).unwrap_err().0[0].code, "deadline_far");
        let long = OrderForm { requirement: "改".repeat(2001), ..form };
        assert_eq!(long.parse(today).unwrap_err().0[0].code, "too_long");
    }

    #[test]
    fn reports_are_refused_on_a_closed_order_and_reviews_move_only_where_they_may() {
        use RectificationStatus as S;
        assert_eq!(report(S::Open), Ok(S::Reported));
        assert_eq!(report(S::Reported), Ok(S::Reported), "more can be added while waiting");
        assert_eq!(report(S::Accepted).unwrap_err().code, "order_closed");
        assert_eq!(ReviewAction::Accept.apply(S::Reported), Ok(S::Accepted));
        assert_eq!(ReviewAction::Return.apply(S::Reported), Ok(S::Open));
        assert_eq!(ReviewAction::Extend.apply(S::Open), Ok(S::Open));
        assert_eq!(ReviewAction::Accept.apply(S::Open).unwrap_err().code, "no_report");
        assert_eq!(ReviewAction::Extend.apply(S::Accepted).unwrap_err().code, "order_closed");
    }

    #[test]
    fn an_extension_is_later_than_the_old_deadline_and_says_why() {
        let today = day(3, 10);
        let old = day(3, 5);
        let form = ReviewForm { action: "extend".into(), deadline: "2026-03-05".into(), reason: String::new() };
        let errors = form.parse(old, today).unwrap_err();
        let codes: Vec<&str> = errors.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["not_later", "required"]);
        let past = ReviewForm { deadline: "2026-03-08".into(), reason: "材料待补".into(), ..form.clone() };
        assert_eq!(past.parse(old, today).unwrap_err().0[0].code, "deadline_past");
        let ok = ReviewForm { deadline: "2026-04-10".into(), reason: "材料待补".into(), ..form };
        assert_eq!(ok.parse(old, today).unwrap().deadline, Some(day(4, 10)));
        let accept = ReviewForm { action: "accept".into(), ..Default::default() };
        assert_eq!(
            accept.parse(old, today).unwrap(),
            Review { action: ReviewAction::Accept, deadline: None, reason: None }
        );
        let back = ReviewForm { action: "return".into(), ..Default::default() };
        assert_eq!(back.parse(old, today).unwrap_err().0[0].field, "reason");
    }

    #[test]
    fn overdue_is_past_the_deadline_without_a_timely_report_waiting() {
        use RectificationStatus as S;
        let deadline = day(3, 5);
        assert!(!is_overdue(S::Open, deadline, None, day(3, 5)), "the deadline day itself is in time");
        assert!(is_overdue(S::Open, deadline, None, day(3, 6)));
        assert!(!is_overdue(S::Reported, deadline, Some(day(3, 4)), day(3, 20)), "reported in time, waiting");
        assert!(is_overdue(S::Reported, deadline, Some(day(3, 8)), day(3, 20)), "reported late");
        assert!(is_overdue(S::Open, deadline, Some(day(3, 4)), day(3, 20)), "returned, and the deadline passed");
        assert!(!is_overdue(S::Accepted, deadline, None, day(9, 1)));
    }
}
