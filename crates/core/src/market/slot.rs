//! When a booking runs: a half-open range [start, end) in UTC, read from what a resident picks in
//! Beijing time. Visits and hours start on the half hour; packages take whole Beijing days.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc};

use super::menu::{MAX_HOURS, Unit, whole_in};
use crate::calendar::beijing;
use crate::field::{FieldErrors, Invalid};
use crate::workforce::parse_date;

/// Bookings are taken at most this far ahead.
pub const MAX_DAYS_AHEAD: i64 = 180;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Slot {
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    /// The Beijing date the slot starts on.
    pub fn day(&self) -> NaiveDate {
        crate::calendar::beijing_date(self.start)
    }

    /// The Beijing date of the slot's last minute.
    pub fn last_day(&self) -> NaiveDate {
        crate::calendar::beijing_date(self.end - Duration::seconds(1))
    }

    /// What a weekly shift is compared with: the Beijing weekday the slot starts on (1 is
    /// Monday) and the minutes from that day's midnight to the slot's start and to its end.
    pub fn on_the_week(&self) -> (i64, i64, i64) {
        let local = self.start.with_timezone(&beijing());
        let from = (self.start - day_start(local.date_naive())).num_minutes();
        (i64::from(local.weekday().number_from_monday()), from, from + self.minutes())
    }

    /// `2026-12-05 09:00–11:00` in Beijing time; a range of whole days as dates.
    pub fn describe(&self) -> String {
        let start = self.start.with_timezone(&beijing());
        let end = self.end.with_timezone(&beijing());
        let midnight = NaiveTime::MIN;
        if start.time() == midnight && end.time() == midnight && self.minutes() >= 24 * 60 {
            let last = end.date_naive().pred_opt().unwrap_or(end.date_naive());
            format!("{} – {}", start.date_naive(), last)
        } else if start.date_naive() == end.date_naive() {
            format!("{} {}–{}", start.date_naive(), start.format("%H:%M"), end.format("%H:%M"))
        } else {
            format!("{} {} – {} {}", start.date_naive(), start.format("%H:%M"), end.date_naive(), end.format("%H:%M"))
        }
    }
}

/// Beijing midnight starting `day`, in UTC.
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_local_timezone(beijing()).single().expect("UTC+8 has no gaps").to_utc()
}

/// What a resident picked, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SlotForm {
    /// Beijing date, YYYY-MM-DD.
    pub date: String,
    /// Beijing time, HH:MM on the half hour (not for packages).
    pub time: String,
    /// Hours, for items sold by the hour.
    pub hours: String,
}

fn parse_time(raw: &str) -> Result<NaiveTime, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| Invalid::new("time", "时间格式应为 时:分，如 09:30", "must be a time like 09:30"))?;
    if !time.minute().is_multiple_of(30) {
        return Err(Invalid::new("half_hours", "开始时间须为整点或半点", "must start on the hour or half hour"));
    }
    Ok(time)
}

impl SlotForm {
    /// The slot for an item sold in `unit`, starting after `now`.
    pub fn parse(&self, unit: Unit, now: DateTime<Utc>) -> Result<Slot, FieldErrors> {
        let mut errors = FieldErrors::default();
        let date = errors.take("date", parse_date(&self.date));
        let slot = match unit {
            Unit::Days { days } => {
                date.map(|d| Slot { start: day_start(d), end: day_start(d) + Duration::days(days.into()) })
            }
            Unit::Visit { minutes } => {
                let time = errors.take("time", parse_time(&self.time));
                date.zip(time).map(|(d, t)| local_slot(d, t, i64::from(minutes)))
            }
            Unit::Hours { min_hours } => {
                let time = errors.take("time", parse_time(&self.time));
                let hours = errors.take("hours", whole_in(&self.hours, min_hours, MAX_HOURS));
                match (date, time, hours) {
                    (Some(d), Some(t), Some(h)) => Some(local_slot(d, t, i64::from(h) * 60)),
                    _ => None,
                }
            }
        };
        let Some(slot) = slot else { return Err(errors) };
        if slot.start <= now {
            // A day gone is the date's fault; an hour gone today is the time's.
            let today = crate::calendar::beijing_date(now);
            let field = if matches!(unit, Unit::Days { .. }) || slot.day() < today { "date" } else { "time" };
            errors.0.push(
                Invalid::new("in_the_past", "开始时间已过，请选择以后的时间", "starts in the past; pick a later time")
                    .at(field),
            );
        } else if slot.start > now + Duration::days(MAX_DAYS_AHEAD) {
            errors
                .0
                .push(Invalid::new("too_far", "最多提前180天预约", "bookings open at most 180 days ahead").at("date"));
        }
        if errors.0.is_empty() { Ok(slot) } else { Err(errors) }
    }
}

fn local_slot(day: NaiveDate, time: NaiveTime, minutes: i64) -> Slot {
    let start = day.and_time(time).and_local_timezone(beijing()).single().expect("UTC+8 has no gaps").to_utc();
    Slot { start, end: start + Duration::minutes(minutes) }
}

/// A weekday's working hours, in minutes from Beijing midnight: [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Shift {
    pub from: u32,
    pub to: u32,
}

impl Shift {
    /// Whether a slot on one Beijing day lies inside the shift. Whole-day bookings do not ask for
    /// shifts: a live-in helper's day is the household's.
    pub fn holds(&self, slot: &Slot) -> bool {
        let start = slot.start.with_timezone(&beijing());
        let from = day_start(start.date_naive()) + Duration::minutes(self.from.into());
        let to = day_start(start.date_naive()) + Duration::minutes(self.to.into());
        from <= slot.start && slot.end <= to
    }

    /// Parses `08:00` and `18:00`; the end after the start.
    pub fn parse(from: &str, to: &str) -> Result<Self, Invalid> {
        let minutes = |raw: &str| -> Result<u32, Invalid> {
            let text = raw.trim();
            if text == "24:00" {
                return Ok(24 * 60);
            }
            let t = NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| Invalid::new("time", "时间格式应为 时:分，如 08:00", "must be a time like 08:00"))?;
            Ok(t.hour() * 60 + t.minute())
        };
        let (from, to) = (minutes(from)?, minutes(to)?);
        if to <= from {
            return Err(Invalid::new("end_before_start", "结束时间须晚于开始时间", "must end after it starts"));
        }
        Ok(Self { from, to })
    }

    pub fn describe(&self) -> String {
        format!("{:02}:{:02}–{:02}:{:02}", self.from / 60, self.from % 60, self.to / 60, self.to % 60)
    }
}

/// Leave in whole Beijing days, first to last, as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct LeaveForm {
    pub from: String,
    pub to: String,
    pub note: String,
}

/// Leave lasts at most this many days at a time.
pub const MAX_LEAVE_DAYS: i64 = 90;

impl LeaveForm {
    /// The days as a slot; leave starts today at the earliest.
    pub fn parse(&self, today: NaiveDate) -> Result<Slot, FieldErrors> {
        let mut errors = FieldErrors::default();
        let from = errors.take("from", parse_date(&self.from));
        let to = errors.take("to", parse_date(&self.to));
        let (Some(from), Some(to)) = (from, to) else { return Err(errors) };
        if from < today {
            errors.0.push(Invalid::new("in_the_past", "不能登记已过去的日期", "cannot start in the past").at("from"));
        } else if (from - today).num_days() > MAX_DAYS_AHEAD {
            errors.0.push(
                Invalid::new("too_far", "最多登记180天内的请假", "leave can be entered at most 180 days ahead")
                    .at("from"),
            );
        }
        if to < from {
            errors.0.push(
                Invalid::new("end_before_start", "结束日期不能早于开始日期", "must not end before it starts").at("to"),
            );
        } else if (to - from).num_days() >= MAX_LEAVE_DAYS {
            errors
                .0
                .push(Invalid::new("too_long", "单次请假最多90天", "leave lasts at most 90 days at a time").at("to"));
        }
        if !errors.0.is_empty() {
            return Err(errors);
        }
        Ok(Slot { start: day_start(from), end: day_start(to) + Duration::days(1) })
    }
}

/// Weekly working hours as typed: `from`/`to` per weekday (1 = Monday); both empty is a day off.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekForm {
    /// Seven entries, Monday first.
    pub days: Vec<DayForm>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DayForm {
    pub from: String,
    pub to: String,
}

impl WeekForm {
    pub fn parse(&self) -> Result<Vec<(u8, Shift)>, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.days.len() != 7 {
            errors.0.push(Invalid::new("seven_days", "请填写周一到周日", "give Monday to Sunday").at("days"));
            return Err(errors);
        }
        let mut week = Vec::new();
        for (i, day) in self.days.iter().enumerate() {
            let weekday = i as u8 + 1;
            match (day.from.trim(), day.to.trim()) {
                ("", "") => {}
                (from, to) => {
                    if let Some(shift) = errors.take(&format!("day{weekday}"), Shift::parse(from, to)) {
                        week.push((weekday, shift));
                    }
                }
            }
        }
        if errors.0.is_empty() { Ok(week) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-01T02:00:00Z".parse().unwrap() // 10:00 in Beijing
    }

    fn form(date: &str, time: &str, hours: &str) -> SlotForm {
        SlotForm { date: date.into(), time: time.into(), hours: hours.into() }
    }

    #[test]
    fn a_beijing_morning_is_stored_in_utc_half_open() {
        let slot = form("2026-12-05", "09:00", "2").parse(Unit::Hours { min_hours: 2 }, now()).unwrap();
        assert_eq!(slot.start.to_rfc3339(), "2026-12-05T01:00:00+00:00");
        assert_eq!(slot.minutes(), 120);
        assert_eq!(slot.describe(), "2026-12-05 09:00–11:00");
        let after = form("2026-12-05", "11:00", "2").parse(Unit::Hours { min_hours: 2 }, now()).unwrap();
        assert!(!slot.overlaps(&after), "touching ranges do not overlap");
        let inside = form("2026-12-05", "10:30", "2").parse(Unit::Hours { min_hours: 2 }, now()).unwrap();
        assert!(slot.overlaps(&inside) && inside.overlaps(&slot));
    }

    #[test]
    fn packages_take_whole_beijing_days() {
        let slot = form("2026-12-05", "", "").parse(Unit::Days { days: 26 }, now()).unwrap();
        assert_eq!(slot.start.to_rfc3339(), "2026-12-04T16:00:00+00:00");
        assert_eq!(slot.minutes(), 26 * 24 * 60);
        assert_eq!(slot.describe(), "2026-12-05 – 2026-12-30");
    }

    #[test]
    fn past_short_and_odd_slots_are_refused_beside_their_fields() {
        let code = |f: SlotForm, unit| f.parse(unit, now()).unwrap_err().0[0].clone();
        let hours = Unit::Hours { min_hours: 2 };
        let earlier_today = code(form("2026-12-01", "09:30", "2"), hours);
        assert_eq!((earlier_today.field.as_str(), earlier_today.code), ("time", "in_the_past"));
        assert_eq!(code(form("2026-11-30", "11:00", "2"), hours).field, "date");
        assert_eq!(code(form("2026-12-05", "09:15", "2"), hours).code, "half_hours");
        let short = code(form("2026-12-05", "09:00", "1"), hours);
        assert_eq!((short.field.as_str(), short.code), ("hours", "out_of_range"));
        assert_eq!(code(form("2026-12-05", "09:00", "0"), hours).code, "out_of_range");
        assert_eq!(code(form("2026-12-05", "09:00", "-2"), hours).code, "out_of_range");
        assert_eq!(code(form("2027-12-05", "09:00", "2"), hours).code, "too_far");
        assert_eq!(code(form("", "", ""), Unit::Visit { minutes: 120 }).field, "date");
    }

    #[test]
    fn leave_takes_whole_days_from_today_on() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let leave = LeaveForm { from: "2026-12-03".into(), to: "2026-12-04".into(), note: String::new() };
        let slot = leave.parse(today).unwrap();
        assert_eq!(slot.minutes(), 2 * 24 * 60);
        assert_eq!(slot.describe(), "2026-12-03 – 2026-12-04");
        let past = LeaveForm { from: "2026-11-30".into(), to: "2026-11-29".into(), note: String::new() };
        let codes: Vec<_> = past.parse(today).unwrap_err().0.into_iter().map(|e| e.code).collect();
        assert_eq!(codes, ["in_the_past", "end_before_start"]);
        let far = LeaveForm { from: "9999-12-31".into(), to: "9999-12-31".into(), note: String::new() };
        assert_eq!(far.parse(today).unwrap_err().0[0].code, "too_far");
    }

    #[test]
    fn a_week_has_seven_days_and_empty_ones_are_off() {
        let day = |from: &str, to: &str| DayForm { from: from.into(), to: to.into() };
        let mut days = vec![day("08:00", "18:00"); 5];
        days.extend([day("", ""), day("09:00", "12:00")]);
        let week = WeekForm { days }.parse().unwrap();
        assert_eq!(week.iter().map(|(d, _)| *d).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 7]);
        let bad = WeekForm { days: vec![day("18:00", "08:00"); 7] }.parse().unwrap_err();
        assert_eq!((bad.0.len(), bad.0[0].field.as_str()), (7, "day1"));
        assert_eq!(WeekForm { days: vec![] }.parse().unwrap_err().0[0].code, "seven_days");
    }

    #[test]
    fn shifts_hold_slots_inside_them() {
        let shift = Shift::parse("08:00", "18:00").unwrap();
        let morning = form("2026-12-05", "08:00", "2").parse(Unit::Hours { min_hours: 1 }, now()).unwrap();
        let late = form("2026-12-05", "17:00", "2").parse(Unit::Hours { min_hours: 1 }, now()).unwrap();
        assert!(shift.holds(&morning));
        assert!(!shift.holds(&late));
        assert_eq!(Shift::parse("18:00", "08:00").unwrap_err().code, "end_before_start");
        assert_eq!(Shift::parse("08:00", "24:00").unwrap().to, 1440);
        // The week's view a database compares with shifts agrees with `holds`.
        for slot in [morning, late] {
            let (weekday, from, to) = slot.on_the_week();
            assert_eq!(weekday, 6, "2026-12-05 is a Saturday");
            assert_eq!(shift.holds(&slot), i64::from(shift.from) <= from && to <= i64::from(shift.to));
        }
        assert_eq!(late.on_the_week(), (6, 17 * 60, 19 * 60));
        assert_eq!(late.last_day(), late.day());
    }
}
