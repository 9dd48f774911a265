//! Workforce: training, skill certificates, health checks, insurance and education — the
//! facts that decide whether a worker may be sent into a home, and the one rule set that does.

pub mod compliance;
pub mod records;

use chrono::{Months, NaiveDate};

use crate::choice;
use crate::field::Invalid;

choice!(
    /// 院校, 培训基地, 实训基地.
    ProviderKind {
        College = ("college", "院校", "College"),
        TrainingBase = ("training_base", "培训基地", "Training base"),
        PracticeBase = ("practice_base", "实训基地", "Practice base"),
    }
);

choice!(
    CourseKind {
        PreJob = ("pre_job", "岗前培训", "Pre-job training"),
        Retraining = ("retraining", "回炉培训", "Retraining"),
        SkillUpgrade = ("skill_upgrade", "技能提升", "Skill upgrade"),
        Management = ("management", "职业经理人", "Management"),
    }
);

choice!(
    CourseMode {
        InPerson = ("in_person", "线下", "In person"),
        Online = ("online", "线上", "Online"),
    }
);

choice!(
    /// The three trades of the occupational standard 家政服务员 (4-10-01-06).
    Trade {
        Housekeeping = ("housekeeping", "家务服务员", "Housekeeping"),
        Maternity = ("maternity", "母婴护理员", "Maternal and infant care"),
        HomeCare = ("home_care", "家庭照护员", "Home care"),
    }
);

choice!(
    /// Occupational skill levels, lowest first.
    SkillLevel {
        Level5 = ("level5", "五级/初级", "Level 5 (junior)"),
        Level4 = ("level4", "四级/中级", "Level 4 (intermediate)"),
        Level3 = ("level3", "三级/高级", "Level 3 (senior)"),
        Level2 = ("level2", "二级/技师", "Level 2 (technician)"),
    }
);

impl SkillLevel {
    pub fn rank(self) -> u8 {
        self as u8
    }
}

choice!(
    CertificateKind {
        Occupational = ("occupational", "家政服务员职业技能等级证书", "Domestic service occupational certificate"),
        OnePlusX = ("one_plus_x", "1+X职业技能等级证书", "1+X vocational skill certificate"),
        Childcare = ("childcare", "育婴员证书", "Childcare certificate"),
        ElderlyCare = ("elderly_care", "养老护理员证书", "Elderly care certificate"),
        Other = ("other", "其他证书", "Other certificate"),
    }
);

choice!(
    /// Health-check categories of 商服贸规函〔2020〕191号, least strict first.
    HealthCategory {
        General = ("general", "通用类", "General"),
        InHome = ("in_home", "居家服务类", "In-home service"),
        ElderlyCare = ("elderly_care", "养老照护类", "Elderly care"),
        Maternity = ("maternity", "母婴照护类", "Mother and baby care"),
    }
);

impl HealthCategory {
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn covers(self, needed: HealthCategory) -> bool {
        self.rank() >= needed.rank()
    }
}

choice!(
    InsuranceKind {
        Accident = ("accident", "意外伤害险", "Accident"),
        Liability = ("liability", "职业责任险", "Occupational liability"),
        EmployerLiability = ("employer_liability", "雇主责任险", "Employer liability"),
    }
);

choice!(
    /// Who entered a record. A provider's record of its own course outranks an agency's.
    Source {
        Provider = ("provider", "培训机构", "Training provider"),
        Agency = ("agency", "家政企业", "Agency"),
        Regulator = ("regulator", "监管部门", "Regulator"),
        Worker = ("worker", "本人", "The worker"),
    }
);

/// A health check is valid for twelve months from the day it was done.
pub fn health_check_expiry(checked_on: NaiveDate) -> NaiveDate {
    checked_on.checked_add_months(Months::new(12)).unwrap_or(NaiveDate::MAX)
}

/// Training must be renewed within two years of the last one.
pub fn retraining_due(last_training: NaiveDate) -> NaiveDate {
    last_training.checked_add_months(Months::new(24)).unwrap_or(NaiveDate::MAX)
}

/// How far ahead reminders look.
pub const REMINDER_DAYS: i64 = 30;

/// A calendar date as spreadsheets and forms write it: 2026-03-01, 2026/3/1, 2026.03.01, 20260301.
pub fn parse_date(raw: &str) -> Result<NaiveDate, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    let date_part = text.split([' ', 'T']).next().unwrap_or(text);
    let normalized = date_part.replace(['/', '.'], "-");
    NaiveDate::parse_from_str(&normalized, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(date_part, "%Y%m%d"))
        .map_err(|_| Invalid::new("date", "日期格式应为 2026-03-01", "must be a date like 2026-03-01"))
}

/// A date that has already happened.
pub fn parse_past_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let date = parse_date(raw)?;
    if date > today {
        return Err(Invalid::new("future_date", "日期不能晚于今天", "cannot be in the future"));
    }
    Ok(date)
}

/// An optional date; empty is `None`.
pub fn parse_optional_date(raw: &str) -> Result<Option<NaiveDate>, Invalid> {
    if raw.trim().is_empty() { Ok(None) } else { parse_date(raw).map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_parse_in_the_forms_people_write() {
        for raw in ["2026-03-01", "2026/3/1", "2026.03.01", "20260301", " 2026-03-01 00:00:00 "] {
            assert_eq!(parse_date(raw).unwrap(), d("2026-03-01"), "{raw}");
        }
        assert_eq!(parse_date("").unwrap_err().code, "required");
        assert_eq!(parse_date("2026-02-30").unwrap_err().code, "date");
        assert_eq!(parse_past_date("2026-12-01", d("2026-11-29")).unwrap_err().code, "future_date");
        assert_eq!(parse_optional_date(" ").unwrap(), None);
    }

    #[test]
    fn strictness_orders_categories_and_levels() {
        assert!(HealthCategory::Maternity.covers(HealthCategory::InHome));
        assert!(!HealthCategory::General.covers(HealthCategory::InHome));
        assert!(SkillLevel::Level3.rank() > SkillLevel::Level5.rank());
        assert_eq!(health_check_expiry(d("2024-02-29")), d("2025-02-28"));
        assert_eq!(retraining_due(d("2024-06-01")), d("2026-06-01"));
    }
}
