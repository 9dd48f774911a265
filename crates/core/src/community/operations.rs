//! A service point's operations (服务工具包统一存取): structured opening hours per weekday
//! (Beijing time), staff on duty, the shared tool kit lent to workers or volunteers, and events.
//! Also the share of residents served again by the same worker (stable relationships).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::calendar::beijing;
use crate::field::{FieldErrors, Invalid, optional_text, required_paragraphs, required_text};
use crate::market::slot::{Shift, Slot, day_start};
use crate::workforce::parse_date;

pub const MAX_TOOL_NAME_CHARS: usize = 40;
pub const MAX_TOOL_COUNT: i64 = 999;
pub const MAX_VOLUNTEER_NAME_CHARS: usize = 30;
pub const MAX_EVENT_TITLE_CHARS: usize = 60;
pub const MAX_EVENT_DESCRIPTION_CHARS: usize = 500;
pub const MAX_ATTENDANCE: i64 = 10_000;
/// Duty, events and loans are planned at most this many days ahead.
pub const MAX_DAYS_AHEAD: i64 = 180;
/// Past duty and events may be entered up to this many days back (a record of what happened).
pub const MAX_DAYS_BACK: i64 = 30;

/// Whether a point with these weekly hours is open at `at`.
pub fn open_at(hours: &[(u8, Shift)], at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&beijing());
    let weekday = local.weekday().number_from_monday() as u8;
    let minute = (at - day_start(local.date_naive())).num_minutes();
    hours.iter().any(|(d, s)| *d == weekday && i64::from(s.from) <= minute && minute < i64::from(s.to))
}

/// A Beijing date and a time range on it, as typed, refused outside [today − 30 days, today + 180].
pub fn parse_day_range(e: &mut FieldErrors, date: &str, from: &str, to: &str, today: NaiveDate) -> Option<Slot> {
    let day = e.take("date", parse_date(date).and_then(|d| within_window(d, today)));
    let shift = e.take("from", Shift::parse(from, to));
    let (day, shift) = (day?, shift?);
    let start = day_start(day);
    Some(Slot { start: start + Duration::minutes(shift.from.into()), end: start + Duration::minutes(shift.to.into()) })
}

fn within_window(day: NaiveDate, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    if day < today - Duration::days(MAX_DAYS_BACK) {
        Err(Invalid::new("too_early", "最多补录30天内的记录", "at most 30 days back"))
    } else if day > today + Duration::days(MAX_DAYS_AHEAD) {
        Err(Invalid::new("too_far", "最多安排180天内的日期", "at most 180 days ahead"))
    } else {
        Ok(day)
    }
}

/// A worker put on duty at a point, as typed: the worker picked from the agency's list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DutyForm {
    /// One of the agency's workers with an active binding (picked from a list).
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub worker_id: String,
    /// Beijing date, `YYYY-MM-DD`.
    pub date: String,
    /// `08:00`
    pub from: String,
    /// `12:00`, after `from`.
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyDraft {
    pub worker_id: i64,
    pub slot: Slot,
}

fn parse_pick(raw: &str) -> Result<i64, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::new("required", "请从列表中选择", "pick one from the list"));
    }
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Invalid::new("unknown_choice", "请从列表中选择", "pick one from the list"))
}

impl DutyForm {
    pub fn parse(&self, today: NaiveDate) -> Result<DutyDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let worker_id = e.take("worker_id", parse_pick(&self.worker_id));
        let slot = parse_day_range(&mut e, &self.date, &self.from, &self.to, today);
        match (worker_id, slot) {
            (Some(worker_id), Some(slot)) if e.is_empty() => Ok(DutyDraft { worker_id, slot }),
            _ => Err(e),
        }
    }
}

/// A tool of the point's kit, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ToolForm {
    /// At most 40 characters.
    pub name: String,
    /// Units the point holds, 1 to 999.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub count: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDraft {
    pub name: String,
    pub count: i64,
}

pub fn parse_count(raw: &str, max: i64) -> Result<i64, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    text.parse::<i64>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
        Invalid::new(
            "out_of_range",
            format!("应为1到{max}之间的整数"),
            format!("must be a whole number from 1 to {max}"),
        )
    })
}

impl ToolForm {
    pub fn parse(&self) -> Result<ToolDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take("name", required_text(&self.name, MAX_TOOL_NAME_CHARS));
        let count = e.take("count", parse_count(&self.count, MAX_TOOL_COUNT));
        match (name, count) {
            (Some(name), Some(count)) if e.is_empty() => Ok(ToolDraft { name, count }),
            _ => Err(e),
        }
    }
}

/// Who takes a tool out: one of the agency's workers, or a community volunteer by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Borrower {
    Worker(i64),
    Volunteer(String),
}

/// A check-out as typed: a worker picked from the list, or a volunteer's name; the return date.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CheckoutForm {
    /// One of the agency's workers (picked from a list); empty when a volunteer borrows.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub worker_id: String,
    /// A community volunteer's name, when no worker is picked (at most 30 characters).
    pub volunteer: String,
    /// Beijing date by which it comes back, today to 180 days ahead.
    pub due: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutDraft {
    pub borrower: Borrower,
    pub due_on: NaiveDate,
}

impl CheckoutForm {
    pub fn parse(&self, today: NaiveDate) -> Result<CheckoutDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let volunteer = e.take("volunteer", optional_text(&self.volunteer, MAX_VOLUNTEER_NAME_CHARS)).flatten();
        let borrower = match (self.worker_id.trim().is_empty(), volunteer) {
            (true, None) => {
                e.0.push(
                    Invalid::new(
                        "required",
                        "请选择服务员或填写志愿者姓名",
                        "pick a worker or give a volunteer's name",
                    )
                    .at("worker_id"),
                );
                None
            }
            (false, Some(_)) => {
                e.0.push(
                    Invalid::new("both", "服务员和志愿者只能选一个", "a worker or a volunteer, not both")
                        .at("volunteer"),
                );
                None
            }
            (false, None) => e.take("worker_id", parse_pick(&self.worker_id)).map(Borrower::Worker),
            (true, Some(name)) => Some(Borrower::Volunteer(name)),
        };
        let due_on = e.take(
            "due",
            parse_date(&self.due).and_then(|d| {
                if d < today {
                    Err(Invalid::new("in_the_past", "归还日期不能早于今天", "the return date cannot be in the past"))
                } else if d > today + Duration::days(MAX_DAYS_AHEAD) {
                    Err(Invalid::new("too_far", "最多借用180天", "at most 180 days"))
                } else {
                    Ok(d)
                }
            }),
        );
        match (borrower, due_on) {
            (Some(borrower), Some(due_on)) if e.is_empty() => Ok(CheckoutDraft { borrower, due_on }),
            _ => Err(e),
        }
    }
}

/// Whether a loan due on `due_on` and not back is overdue on `today`.
pub fn is_overdue(due_on: NaiveDate, returned: bool, today: NaiveDate) -> bool {
    !returned && due_on < today
}

/// An event held at a point, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PointEventForm {
    /// At most 60 characters.
    pub title: String,
    /// Beijing date, `YYYY-MM-DD`.
    pub date: String,
    pub from: String,
    pub to: String,
    /// At most 500 characters; line breaks kept.
    pub description: String,
    /// People who came; empty until known.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub attendance: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointEventDraft {
    pub title: String,
    pub slot: Slot,
    pub description: String,
    pub attendance: Option<i64>,
}

/// People who came to an event: 0 to 10,000; empty is not yet known.
pub fn parse_attendance(raw: &str) -> Result<Option<i64>, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().ok().filter(|n| (0..=MAX_ATTENDANCE).contains(n)).map(Some).ok_or_else(|| {
        Invalid::new(
            "out_of_range",
            "参加人数应为0到10000之间的整数",
            "attendance must be a whole number from 0 to 10,000",
        )
    })
}

impl PointEventForm {
    pub fn parse(&self, today: NaiveDate) -> Result<PointEventDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = e.take("title", required_text(&self.title, MAX_EVENT_TITLE_CHARS));
        let slot = parse_day_range(&mut e, &self.date, &self.from, &self.to, today);
        let description = e.take("description", required_paragraphs(&self.description, MAX_EVENT_DESCRIPTION_CHARS));
        let attendance = e.take("attendance", parse_attendance(&self.attendance));
        match (title, slot, description, attendance) {
            (Some(title), Some(slot), Some(description), Some(attendance)) if e.is_empty() => {
                Ok(PointEventDraft { title, slot, description, attendance })
            }
            _ => Err(e),
        }
    }
}

/// A share as a whole percentage, rounded half up; `None` when there is nobody to count.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part.max(0) * 200 + whole) / (2 * whole))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::slot::WeekForm;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    #[test]
    fn a_point_is_open_inside_its_beijing_hours_only() {
        // 2026-12-03 is a Thursday.
        let week = WeekForm {
            days: (1..=7)
                .map(|d| crate::market::slot::DayForm {
                    from: if d == 4 { "08:30".into() } else { String::new() },
                    to: if d == 4 { "17:00".into() } else { String::new() },
                })
                .collect(),
        }
        .parse()
        .unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(open_at(&week, at("2026-12-03T00:30:00Z")), "08:30 Beijing");
        assert!(!open_at(&week, at("2026-12-03T00:29:00Z")));
        assert!(!open_at(&week, at("2026-12-03T09:00:00Z")), "17:00 Beijing is closing time");
        assert!(!open_at(&week, at("2026-12-04T01:00:00Z")), "Friday is closed");
    }

    #[test]
    fn duty_is_a_beijing_day_range_for_a_worker_picked() {
        let form =
            DutyForm { worker_id: "7".into(), date: "2026-12-05".into(), from: "08:00".into(), to: "12:00".into() };
        let draft = form.parse(today()).unwrap();
        assert_eq!(draft.slot.start.to_rfc3339(), "2026-12-05T00:00:00+00:00");
        assert_eq!(draft.slot.minutes(), 240);
        let bad = DutyForm { worker_id: "x".into(), to: "07:00".into(), date: "2027-09-01".into(), ..form };
        let errors = bad.parse(today()).unwrap_err();
        for field in ["worker_id", "date", "from"] {
            assert!(errors.for_field(field).is_some(), "{field}: {errors:?}");
        }
    }

    #[test]
    fn a_checkout_names_one_borrower_and_a_return_date() {
        let worker = CheckoutForm { worker_id: "3".into(), volunteer: String::new(), due: "2026-12-10".into() };
        assert_eq!(worker.parse(today()).unwrap().borrower, Borrower::Worker(3));
        let volunteer =
            CheckoutForm { worker_id: String::new(), volunteer: " 张大姐 ".into(), due: "2026-12-03".into() };
        assert_eq!(volunteer.parse(today()).unwrap().borrower, Borrower::Volunteer("张大姐".into()));
        let both = CheckoutForm { volunteer: "张大姐".into(), ..worker.clone() };
        assert_eq!(both.parse(today()).unwrap_err().for_field("volunteer").unwrap().code, "both");
        let nobody = CheckoutForm { worker_id: String::new(), volunteer: String::new(), due: "2026-12-01".into() };
        let errors = nobody.parse(today()).unwrap_err();
        assert!(errors.for_field("worker_id").is_some() && errors.for_field("due").is_some());
        assert!(is_overdue(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap(), false, today()));
        assert!(!is_overdue(today(), false, today()));
    }

    #[test]
    fn tools_and_events_are_bounded() {
        assert!(ToolForm { name: "吸尘器".into(), count: "2".into() }.parse().is_ok());
        assert_eq!(ToolForm { name: "吸尘器".into(), count: "1000".into() }.parse().unwrap_err().0[0].field, "count");
        assert_eq!(parse_attendance("").unwrap(), None);
        assert!(parse_attendance("-1").is_err());
        let event = PointEventForm {
            title: "家政服务进社区".into(),
            date: "2026-12-06".into(),
            from: "09:00".into(),
            to: "11:00".into(),
            description: "免费家电清洗体验".into(),
            attendance: "35".into(),
        };
        assert_eq!(event.parse(today()).unwrap().attendance, Some(35));
    }

    #[test]
    fn shares_round_half_up_and_nobody_is_no_share() {
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(1, 2), Some(50));
        assert_eq!(percent(0, 0), None);
    }
}
