//! The platform's calendar: people read dates and days in Beijing time (UTC+8, no daylight
//! saving), while times are stored in UTC.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The Beijing date of an instant.
pub fn beijing_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

pub fn beijing_today() -> NaiveDate {
    beijing_date(Utc::now())
}

/// Seconds from `at` to the next Beijing midnight (at least 1).
pub fn seconds_to_beijing_midnight(at: DateTime<Utc>) -> u64 {
    let local = at.with_timezone(&beijing());
    let next = local.date_naive().succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0));
    let next = next.and_then(|n| n.and_local_timezone(beijing()).single());
    next.map_or(1, |n| (n - local).num_seconds().max(1) as u64)
}

/// A month typed as `YYYY-MM`, as its first day; empty is `today`'s month.
pub fn parse_month(raw: &str, today: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    let raw = raw.trim();
    if raw.is_empty() {
        return today.with_day(1);
    }
    if raw.len() > 7 {
        return None;
    }
    NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_its_first_day_and_empty_is_this_month() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(parse_month("2026-11", today), NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(parse_month(" ", today), NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(parse_month("2026-13", today), None);
        assert_eq!(parse_month("2026-11-05", today), None);
    }

    #[test]
    fn the_beijing_day_starts_at_16_00_utc() {
        let before = "2026-11-30T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        let after = "2026-11-30T16:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(beijing_date(before).to_string(), "2026-11-30");
        assert_eq!(beijing_date(after).to_string(), "2026-12-01");
        assert_eq!(seconds_to_beijing_midnight(before), 1);
        assert_eq!(seconds_to_beijing_midnight(after), 24 * 3600);
    }
}
