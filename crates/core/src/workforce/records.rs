//! What agencies, schools and imports type about a worker's training, certificates, health
//! checks, insurance and education, parsed into drafts that are known to be coherent.

use chrono::NaiveDate;

use super::{
    CertificateKind, CourseKind, CourseMode, HealthCategory, InsuranceKind, ProviderKind, SkillLevel, Trade,
    parse_date, parse_optional_date, parse_past_date,
};
use crate::division::DivisionCode;
use crate::field::{FieldErrors, Invalid, optional_text, required_text};
use crate::ids::Uscc;
use crate::registry::worker::{EducationLevel, parse_yes_no};

/// Collects the fields of a form, then builds the draft only when every field parsed.
macro_rules! draft {
    ($errors:ident, $ty:ident { $($field:ident),+ $(,)? }) => {
        match ($($field,)+) {
            ($(Some($field),)+) if $errors.is_empty() => Ok($ty { $($field),+ }),
            _ => Err($errors),
        }
    };
}

fn order_error(zh: &str, en: &str) -> Invalid {
    Invalid::new("date_order", zh, en)
}

/// Pass or fail, as forms and spreadsheets write it (合格/不合格, 通过/未通过).
pub fn parse_pass_fail(raw: &str) -> Result<bool, Invalid> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "pass" | "passed" | "合格" | "通过" | "是" | "yes" => Ok(true),
        "fail" | "failed" | "不合格" | "未通过" | "否" | "no" => Ok(false),
        "" => Err(Invalid::required()),
        _ => Err(Invalid::new("pass_fail", "请填写“合格”或“不合格”", "must be pass or fail")),
    }
}

fn optional_pass_fail(raw: &str) -> Result<Option<bool>, Invalid> {
    if raw.trim().is_empty() { Ok(None) } else { parse_pass_fail(raw).map(Some) }
}

fn positive_hours(raw: &str) -> Result<u32, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    match text.parse::<f64>() {
        Ok(h) if h.fract() == 0.0 && (1.0..=2000.0).contains(&h) => Ok(h as u32),
        Ok(h) if h <= 0.0 => Err(Invalid::new("hours", "学时必须大于0", "must be more than zero hours")),
        _ => Err(Invalid::new("hours", "学时应为1到2000的整数", "must be a whole number of hours, 1 to 2000")),
    }
}

/// The pass mark of a vocational exam out of 100.
pub const PASS_MARK: u8 = 60;
/// A training day holds at most this many course hours, so a course cannot end sooner than its
/// hours allow (a 40-hour course takes at least five days).
pub const MAX_HOURS_PER_DAY: u32 = 8;

/// A result and its score must agree: "合格" with 30 is a typing mistake, not a record.
fn check_score(e: &mut FieldErrors, passed: Option<bool>, score: Option<u8>) {
    match (passed, score) {
        (Some(true), Some(score)) if score < PASS_MARK => e.0.push(
            Invalid::new(
                "score_contradicts_result",
                format!("“合格”的分数应不低于{PASS_MARK}分，请核对结果或分数"),
                format!("a pass needs at least {PASS_MARK}; check the result or the score"),
            )
            .at("exam_score"),
        ),
        (Some(false), Some(score)) if score >= PASS_MARK => e.0.push(
            Invalid::new(
                "score_contradicts_result",
                format!("“不合格”的分数应低于{PASS_MARK}分，请核对结果或分数"),
                format!("a fail scores below {PASS_MARK}; check the result or the score"),
            )
            .at("exam_score"),
        ),
        _ => {}
    }
}

/// The course's hours must fit between its first and last day.
fn check_duration(e: &mut FieldErrors, hours: u32, started_on: NaiveDate, completed_on: NaiveDate) {
    let days = (completed_on - started_on).num_days() + 1;
    let needed = i64::from(hours.div_ceil(MAX_HOURS_PER_DAY));
    if days >= 1 && days < needed {
        e.0.push(
            Invalid::new(
                "too_short_for_hours",
                format!("{hours}学时的课程至少需要{needed}天（每天不超过{MAX_HOURS_PER_DAY}学时），请核对结业日期"),
                format!(
                    "a {hours}-hour course takes at least {needed} days (at most {MAX_HOURS_PER_DAY} hours a day); check the end date"
                ),
            )
            .at("completed_on"),
        );
    }
}

fn optional_score(raw: &str) -> Result<Option<u8>, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    // Whole points only: rounding 59.5 up would turn a fail into a pass.
    match text.parse::<u8>() {
        Ok(s) if s <= 100 => Ok(Some(s)),
        _ => Err(Invalid::new("score", "分数应为0到100之间的整数", "must be a whole score from 0 to 100")),
    }
}

/// An amount in yuan, with at most two decimals, as integer fen.
pub fn parse_yuan(raw: &str) -> Result<i64, Invalid> {
    let text = raw.trim().trim_start_matches('¥').replace(',', "");
    let bad = || Invalid::new("amount", "金额应为不小于0的数字（元）", "must be an amount in yuan, not negative");
    if text.is_empty() {
        return Err(Invalid::required());
    }
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if frac.len() > 2 || whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole.checked_mul(100).and_then(|f| f.checked_add(frac)).ok_or_else(bad)
}

/// A training course taken, as the provider or the worker's agency records it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct TrainingForm {
    pub course_kind: String,
    pub course_name: String,
    pub provider_name: String,
    pub mode: String,
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub hours: String,
    pub started_on: String,
    pub completed_on: String,
    /// pass / fail, or empty when no exam has been taken yet.
    pub exam_result: String,
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub exam_score: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingDraft {
    pub course_kind: CourseKind,
    pub course_name: String,
    pub provider_name: String,
    pub mode: CourseMode,
    pub hours: u32,
    pub started_on: NaiveDate,
    pub completed_on: NaiveDate,
    pub exam_passed: Option<bool>,
    pub exam_score: Option<u8>,
}

impl TrainingForm {
    pub fn parse(&self, today: NaiveDate) -> Result<TrainingDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let course_kind = e.take("course_kind", CourseKind::parse(&self.course_kind));
        let course_name = e.take("course_name", required_text(&self.course_name, 100));
        let provider_name = e.take("provider_name", required_text(&self.provider_name, 100));
        let mode = e.take(
            "mode",
            if self.mode.trim().is_empty() { Ok(CourseMode::InPerson) } else { CourseMode::parse(&self.mode) },
        );
        let hours = e.take("hours", positive_hours(&self.hours));
        let started_on = e.take("started_on", parse_past_date(&self.started_on, today));
        let completed_on = e.take("completed_on", parse_past_date(&self.completed_on, today));
        if let (Some(start), Some(end)) = (started_on, completed_on)
            && end < start
        {
            e.0.push(order_error("结业日期不能早于开课日期", "cannot be before the start date").at("completed_on"));
        }
        let exam_passed = e.take("exam_result", optional_pass_fail(&self.exam_result));
        let exam_score = e.take("exam_score", optional_score(&self.exam_score));
        check_score(&mut e, exam_passed.flatten(), exam_score.flatten());
        if let (Some(hours), Some(start), Some(end)) = (hours, started_on, completed_on) {
            check_duration(&mut e, hours, start, end);
        }
        draft!(
            e,
            TrainingDraft {
                course_kind,
                course_name,
                provider_name,
                mode,
                hours,
                started_on,
                completed_on,
                exam_passed,
                exam_score
            }
        )
    }
}

/// A skill or qualification certificate.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CertificateForm {
    pub kind: String,
    /// Required for the 家政服务员 occupational certificate.
    pub trade: String,
    pub level: String,
    pub issuer: String,
    pub number: String,
    pub issued_on: String,
    /// Empty when the certificate does not expire.
    pub valid_until: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateDraft {
    pub kind: CertificateKind,
    pub trade: Option<Trade>,
    pub level: Option<SkillLevel>,
    pub issuer: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

fn optional_choice<T>(raw: &str, parse: impl Fn(&str) -> Result<T, Invalid>) -> Result<Option<T>, Invalid> {
    if raw.trim().is_empty() { Ok(None) } else { parse(raw).map(Some) }
}

impl CertificateForm {
    pub fn parse(&self, today: NaiveDate) -> Result<CertificateDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", CertificateKind::parse(&self.kind));
        let trade = e.take("trade", optional_choice(&self.trade, Trade::parse)).and_then(|trade| match (kind, trade) {
            (Some(CertificateKind::Occupational), None) => {
                e.0.push(Invalid::required().at("trade"));
                None
            }
            (_, trade) => Some(trade),
        });
        let level =
            e.take("level", optional_choice(&self.level, SkillLevel::parse)).and_then(|level| match (kind, level) {
                (Some(CertificateKind::Occupational), None) => {
                    e.0.push(Invalid::required().at("level"));
                    None
                }
                (_, level) => Some(level),
            });
        let issuer = e.take("issuer", required_text(&self.issuer, 100));
        let number = e.take("number", required_text(&self.number, 50));
        let issued_on = e.take("issued_on", parse_past_date(&self.issued_on, today));
        let valid_until = e.take("valid_until", parse_optional_date(&self.valid_until));
        if let (Some(issued), Some(Some(until))) = (issued_on, valid_until)
            && until < issued
        {
            e.0.push(order_error("有效期不能早于发证日期", "cannot end before the issue date").at("valid_until"));
        }
        draft!(e, CertificateDraft { kind, trade, level, issuer, number, issued_on, valid_until })
    }
}

/// A health check and its result. The result is sensitive and is sealed when stored.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct HealthCheckForm {
    pub checked_on: String,
    pub institution: String,
    pub category: String,
    /// pass / fail (合格 / 不合格).
    pub result: String,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckDraft {
    pub checked_on: NaiveDate,
    pub institution: String,
    pub category: HealthCategory,
    pub passed: bool,
    pub notes: Option<String>,
}

impl HealthCheckForm {
    pub fn parse(&self, today: NaiveDate) -> Result<HealthCheckDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let checked_on = e.take("checked_on", parse_past_date(&self.checked_on, today));
        let institution = e.take("institution", required_text(&self.institution, 100));
        let category = e.take("category", HealthCategory::parse(&self.category));
        let passed = e.take("result", parse_pass_fail(&self.result));
        let notes = e.take("notes", optional_text(&self.notes, 500));
        draft!(e, HealthCheckDraft { checked_on, institution, category, passed, notes })
    }
}

/// An insurance policy, for one worker or for all of an agency's workers.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct InsuranceForm {
    pub kind: String,
    pub insurer: String,
    pub policy_number: String,
    pub starts_on: String,
    pub ends_on: String,
    /// Sum insured in yuan.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub sum_insured: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuranceDraft {
    pub kind: InsuranceKind,
    pub insurer: String,
    pub policy_number: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub sum_insured_fen: i64,
}

impl InsuranceForm {
    pub fn parse(&self) -> Result<InsuranceDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", InsuranceKind::parse(&self.kind));
        let insurer = e.take("insurer", required_text(&self.insurer, 100));
        let policy_number = e.take("policy_number", required_text(&self.policy_number, 60));
        let starts_on = e.take("starts_on", parse_date(&self.starts_on));
        let ends_on = e.take("ends_on", parse_date(&self.ends_on));
        if let (Some(start), Some(end)) = (starts_on, ends_on)
            && end < start
        {
            e.0.push(order_error("保险止期不能早于起期", "cannot end before it starts").at("ends_on"));
        }
        let sum_insured_fen = e.take("sum_insured", parse_yuan(&self.sum_insured));
        draft!(e, InsuranceDraft { kind, insurer, policy_number, starts_on, ends_on, sum_insured_fen })
    }
}

/// Social insurance of an employee-based worker (参保).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SocialInsuranceForm {
    pub enrolled: String,
    pub since: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialInsuranceDraft {
    pub enrolled: bool,
    pub since: Option<NaiveDate>,
}

impl SocialInsuranceForm {
    pub fn parse(&self, today: NaiveDate) -> Result<SocialInsuranceDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let enrolled = e.take("enrolled", parse_yes_no(&self.enrolled));
        let since = e.take(
            "since",
            if self.since.trim().is_empty() { Ok(None) } else { parse_past_date(&self.since, today).map(Some) },
        );
        if enrolled == Some(true) && since == Some(None) {
            e.0.push(Invalid::required().at("since"));
        }
        draft!(e, SocialInsuranceDraft { enrolled, since })
    }
}

/// The highest education, and whether it was in domestic service (家政相关学历教育).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct EducationForm {
    pub level: String,
    pub school: String,
    pub major: String,
    pub related: String,
    /// Diploma number or a note on the evidence seen.
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EducationDraft {
    pub level: EducationLevel,
    pub school: Option<String>,
    pub major: Option<String>,
    pub related: bool,
    pub evidence: Option<String>,
}

impl EducationForm {
    pub fn parse(&self) -> Result<EducationDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let level = e.take("level", EducationLevel::parse(&self.level));
        let school = e.take("school", optional_text(&self.school, 100));
        let major = e.take("major", optional_text(&self.major, 50));
        let related = e.take("related", parse_yes_no(&self.related));
        let evidence = e.take("evidence", optional_text(&self.evidence, 200));
        if related == Some(true) && evidence == Some(None) {
            e.0.push(
                Invalid::new("evidence_required", "家政相关学历须注明证明材料", "related education needs its evidence")
                    .at("evidence"),
            );
        }
        draft!(e, EducationDraft { level, school, major, related, evidence })
    }
}

/// A school or training base (院校, 培训基地, 实训基地).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ProviderForm {
    pub kind: String,
    pub name: String,
    /// A unified social credit code, or a 10-digit school code (学校标识码).
    pub code: String,
    pub district: String,
    pub teaches: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderDraft {
    pub kind: ProviderKind,
    pub name: String,
    pub code: String,
    pub district: DivisionCode,
    pub teaches: String,
}

/// A USCC, or the ten digits of a school code.
pub fn parse_provider_code(raw: &str) -> Result<String, Invalid> {
    let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(text);
    }
    Uscc::parse(raw).map(|u| u.as_str().to_string()).map_err(|e| {
        if e.code == "required" {
            e
        } else {
            Invalid::new(
                "provider_code",
                "应为统一社会信用代码或10位学校标识码",
                "must be a unified social credit code or a 10-digit school code",
            )
        }
    })
}

impl ProviderForm {
    pub fn parse(&self) -> Result<ProviderDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", ProviderKind::parse(&self.kind));
        let name = e.take("name", required_text(&self.name, 100));
        let code = e.take("code", parse_provider_code(&self.code));
        let district = e.take("district", DivisionCode::parse(&self.district).map(|d| d.district()));
        let teaches = e.take("teaches", required_text(&self.teaches, 200));
        draft!(e, ProviderDraft { kind, name, code, district, teaches })
    }
}

/// A course a provider offers.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CourseForm {
    pub name: String,
    pub kind: String,
    pub mode: String,
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub hours: String,
    pub trade: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseDraft {
    pub name: String,
    pub kind: CourseKind,
    pub mode: CourseMode,
    pub hours: u32,
    pub trade: Option<Trade>,
}

impl CourseForm {
    pub fn parse(&self) -> Result<CourseDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take("name", required_text(&self.name, 100));
        let kind = e.take("kind", CourseKind::parse(&self.kind));
        let mode = e.take("mode", CourseMode::parse(&self.mode));
        let hours = e.take("hours", positive_hours(&self.hours));
        let trade = e.take("trade", optional_choice(&self.trade, Trade::parse));
        draft!(e, CourseDraft { name, kind, mode, hours, trade })
    }
}

/// An exam result a provider enters for an enrolment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ResultForm {
    pub completed_on: String,
    pub exam_result: String,
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub exam_score: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultDraft {
    pub completed_on: NaiveDate,
    pub exam_passed: bool,
    pub exam_score: Option<u8>,
}

impl ResultForm {
    /// The result of an enrolment in a course of `hours` that started on `started_on`.
    pub fn parse(&self, started_on: NaiveDate, hours: u32, today: NaiveDate) -> Result<ResultDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let completed_on = e.take("completed_on", parse_past_date(&self.completed_on, today));
        if completed_on.is_some_and(|end| end < started_on) {
            e.0.push(order_error("结业日期不能早于开课日期", "cannot be before the start date").at("completed_on"));
        }
        let exam_passed = e.take("exam_result", parse_pass_fail(&self.exam_result));
        let exam_score = e.take("exam_score", optional_score(&self.exam_score));
        check_score(&mut e, exam_passed, exam_score.flatten());
        if let Some(end) = completed_on.filter(|end| *end >= started_on) {
            check_duration(&mut e, hours, started_on, end);
        }
        draft!(e, ResultDraft { completed_on, exam_passed, exam_score })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    fn codes(errors: &FieldErrors) -> Vec<(&str, &str)> {
        errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect()
    }

    #[test]
    fn a_result_must_agree_with_its_score_and_fit_the_course_hours() {
        let started = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let form = |completed: &str, result: &str, score: &str| ResultForm {
            completed_on: completed.into(),
            exam_result: result.into(),
            exam_score: score.into(),
        };
        let refused = |f: ResultForm| -> Vec<&'static str> {
            f.parse(started, 40, today()).unwrap_err().0.iter().map(|e| e.code).collect()
        };
        assert_eq!(refused(form("2026-11-20", "合格", "30")), ["score_contradicts_result"]);
        assert_eq!(refused(form("2026-11-20", "不合格", "85")), ["score_contradicts_result"]);
        assert_eq!(refused(form("2026-11-03", "合格", "88")), ["too_short_for_hours"], "40 hours in two days");
        // Five days of eight hours is the least a 40-hour course takes; a pass with 60 is a pass.
        let ok = form("2026-11-06", "合格", "60").parse(started, 40, today()).unwrap();
        assert_eq!((ok.exam_passed, ok.exam_score), (true, Some(60)));
        assert!(form("2026-11-06", "不合格", "59").parse(started, 40, today()).is_ok());
        assert!(form("2026-11-02", "合格", "").parse(started, 8, today()).is_ok(), "a one-day course, no score");
        assert_eq!(refused(form("2026-11-20", "合格", "59.5")), ["score"], "no rounding into a pass");
        let training = TrainingForm {
            course_kind: "pre_job".into(),
            course_name: "家政服务员岗前培训".into(),
            provider_name: "长春市家政职业培训学校".into(),
            mode: String::new(),
            hours: "40".into(),
            started_on: "2026-11-02".into(),
            completed_on: "2026-11-03".into(),
            exam_result: "合格".into(),
            exam_score: "30".into(),
        };
        let errors = training.parse(today()).unwrap_err();
        assert_eq!(
            codes(&errors),
            [("exam_score", "score_contradicts_result"), ("completed_on", "too_short_for_hours")]
        );
    }

    #[test]
    fn a_health_check_in_the_future_is_refused_with_its_field() {
        let form = HealthCheckForm {
            checked_on: "2026-12-05".into(),
            institution: "长春市朝阳区疾控中心".into(),
            category: "母婴照护类".into(),
            result: "合格".into(),
            notes: String::new(),
        };
        assert_eq!(codes(&form.parse(today()).unwrap_err()), [("checked_on", "future_date")]);
        let ok = HealthCheckForm { checked_on: "2026-11-01".into(), ..form }.parse(today()).unwrap();
        assert_eq!(ok.category, HealthCategory::Maternity);
        assert!(ok.passed);
    }

    #[test]
    fn zero_hours_and_reversed_dates_are_refused() {
        let form = TrainingForm {
            course_kind: "pre_job".into(),
            course_name: "家政服务员岗前培训".into(),
            provider_name: "长春职业技术学院".into(),
            hours: "0".into(),
            started_on: "2026-05-10".into(),
            completed_on: "2026-05-01".into(),
            ..Default::default()
        };
        assert_eq!(codes(&form.parse(today()).unwrap_err()), [("hours", "hours"), ("completed_on", "date_order")]);
        let ok =
            TrainingForm {
                hours: "40".into(), completed_on: "2026-05-20".into(), exam_result: "通过".into(), ..form
            }
            .parse(today())
            .unwrap();
        assert_eq!((ok.hours, ok.exam_passed, ok.mode), (40, Some(true), CourseMode::InPerson));
    }

    #[test]
    fn certificates_and_policies_must_end_after_they_begin() {
        let cert = CertificateForm {
            kind: "occupational".into(),
            trade: "母婴护理员".into(),
            level: "level4".into(),
            issuer: "长春市人社局".into(),
            number: "2201-0001".into(),
            issued_on: "2025-01-01".into(),
            valid_until: "2024-12-31".into(),
        };
        assert_eq!(codes(&cert.parse(today()).unwrap_err()), [("valid_until", "date_order")]);
        let missing_trade = CertificateForm { trade: String::new(), valid_until: String::new(), ..cert.clone() };
        assert_eq!(codes(&missing_trade.parse(today()).unwrap_err()), [("trade", "required")]);
        let other =
            CertificateForm { kind: "育婴员证书".into(), trade: String::new(), level: String::new(), ..cert };
        assert!(other.clone().parse(today()).is_err(), "valid_until still before issue");
        assert_eq!(CertificateForm { valid_until: String::new(), ..other }.parse(today()).unwrap().trade, None);

        let policy = InsuranceForm {
            kind: "accident".into(),
            insurer: "中国人寿".into(),
            policy_number: "P-1".into(),
            starts_on: "2026-01-01".into(),
            ends_on: "2025-12-31".into(),
            sum_insured: "500000".into(),
        };
        assert_eq!(codes(&policy.parse().unwrap_err()), [("ends_on", "date_order")]);
        let ok =
            InsuranceForm { ends_on: "2026-12-31".into(), sum_insured: "1,000.5".into(), ..policy }.parse().unwrap();
        assert_eq!(ok.sum_insured_fen, 100_050);
    }

    #[test]
    fn amounts_scores_and_codes_parse_strictly() {
        assert_eq!(parse_yuan("12.34").unwrap(), 1234);
        assert_eq!(parse_yuan("¥3").unwrap(), 300);
        for bad in ["-1", "1.234", "abc", "1e5"] {
            assert_eq!(parse_yuan(bad).unwrap_err().code, "amount", "{bad}");
        }
        assert_eq!(optional_score("101").unwrap_err().code, "score");
        assert_eq!(parse_provider_code("4122010123").unwrap(), "4122010123");
        assert_eq!(parse_provider_code("12345").unwrap_err().code, "provider_code");
        let related = EducationForm { level: "college".into(), related: "是".into(), ..Default::default() };
        assert_eq!(codes(&related.parse().unwrap_err()), [("evidence", "evidence_required")]);
    }
}
