//! The one rule set that says whether a worker may be sent to a home for a service: pre-job
//! training passed, training renewed within two years, a health check of the strictest needed
//! category within twelve months, insurance in force, and a skill certificate where the service
//! requires one. Every unmet condition comes back with its reason; every date coming due
//! becomes a reminder.

use chrono::NaiveDate;
use serde::Serialize;

use super::{
    CertificateKind, CourseKind, HealthCategory, REMINDER_DAYS, SkillLevel, Source, Trade, health_check_expiry,
    retraining_due,
};
use crate::choice;
use crate::registry::{ServiceKind, ServiceSet};

/// One training record as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingFact {
    /// The provider's course, when the record names one; records of one course are compared.
    pub course_id: Option<i64>,
    pub kind: CourseKind,
    pub completed_on: Option<NaiveDate>,
    pub passed: Option<bool>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthFact {
    pub checked_on: NaiveDate,
    pub category: HealthCategory,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFact {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CertificateFact {
    pub kind: CertificateKind,
    pub trade: Option<Trade>,
    pub level: Option<SkillLevel>,
    pub valid_until: Option<NaiveDate>,
}

/// Everything recorded about one worker that the rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub trainings: Vec<TrainingFact>,
    pub health_checks: Vec<HealthFact>,
    /// The worker's own policies and those of agencies covering all their workers.
    pub policies: Vec<PolicyFact>,
    pub certificates: Vec<CertificateFact>,
}

/// A certificate that satisfies a skill requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// 家政服务员 in this trade at this level or above.
    Trade(Trade, SkillLevel),
    /// A certificate of this kind (育婴员, 养老护理员), any level.
    Kind(CertificateKind),
}

/// What a service (or a package of the market) asks of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub health: HealthCategory,
    /// Each entry is one skill need; a need is met by any certificate it accepts.
    pub skills: Vec<Vec<Accepts>>,
}

impl Requirement {
    /// What one service needs. Maternity and childcare need mother-and-baby health checks and a
    /// maternal-care certificate; elderly and patient care the elderly-care category and a
    /// home-care certificate; other in-home work the in-home category.
    pub fn for_service(service: ServiceKind) -> Self {
        use ServiceKind::*;
        let (health, skills) = match service {
            ApplianceCleaning => (HealthCategory::General, vec![]),
            Cleaning | DeepCleaning | Cooking | Laundry | LiveIn => (HealthCategory::InHome, vec![]),
            ElderlyCare | PatientCare => (
                HealthCategory::ElderlyCare,
                vec![vec![
                    Accepts::Trade(Trade::HomeCare, SkillLevel::Level5),
                    Accepts::Kind(CertificateKind::ElderlyCare),
                ]],
            ),
            Maternity => (HealthCategory::Maternity, vec![vec![Accepts::Trade(Trade::Maternity, SkillLevel::Level5)]]),
            Childcare => (
                HealthCategory::Maternity,
                vec![vec![
                    Accepts::Trade(Trade::Maternity, SkillLevel::Level5),
                    Accepts::Kind(CertificateKind::Childcare),
                ]],
            ),
        };
        Self { health, skills }
    }

    /// What a worker offering all these services needs: the strictest health category and
    /// every skill need.
    pub fn for_services(services: ServiceSet) -> Self {
        let mut combined = Self { health: HealthCategory::General, skills: Vec::new() };
        for service in services.kinds() {
            let one = Self::for_service(service);
            if one.health.rank() > combined.health.rank() {
                combined.health = one.health;
            }
            for need in one.skills {
                if !combined.skills.contains(&need) {
                    combined.skills.push(need);
                }
            }
        }
        combined
    }

    /// A package that asks for a higher level in a trade (金牌月嫂: 三级 母婴护理员).
    pub fn with_level(mut self, trade: Trade, level: SkillLevel) -> Self {
        self.skills.retain(|need| !need.iter().any(|a| matches!(a, Accepts::Trade(t, _) if *t == trade)));
        self.skills.push(vec![Accepts::Trade(trade, level)]);
        self
    }
}

choice!(
    Condition {
        PreJobTraining = ("pre_job_training", "岗前培训", "Pre-job training"),
        Retraining = ("retraining", "两年内复训", "Retraining within 2 years"),
        HealthCheck = ("health_check", "健康体检", "Health check"),
        Insurance = ("insurance", "保险", "Insurance"),
        Skill = ("skill", "技能等级", "Skill level"),
    }
);

choice!(
    /// Where a condition stands today.
    Standing {
        Met = ("met", "符合", "Met"),
        Expiring = ("expiring", "即将到期", "Expiring"),
        NotRequired = ("not_required", "不要求", "Not required"),
        Missing = ("missing", "缺失", "Missing"),
        Expired = ("expired", "已过期", "Expired"),
        Failed = ("failed", "未通过", "Failed"),
        Weaker = ("weaker", "等级不足", "Not sufficient"),
    }
);

impl Standing {
    pub fn is_met(self) -> bool {
        matches!(self, Standing::Met | Standing::Expiring | Standing::NotRequired)
    }
}

/// One condition's standing, the date that matters (valid until, or lapsed on), and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    pub condition: Condition,
    pub standing: Standing,
    pub date: Option<NaiveDate>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// The result for one worker and one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Compliance {
    pub compliant: bool,
    pub checks: Vec<Check>,
}

impl Compliance {
    pub fn check(&self, condition: Condition) -> &Check {
        self.checks.iter().find(|c| c.condition == condition).expect("every condition is checked")
    }

    /// The conditions not met, each with its reason.
    pub fn unmet(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.standing.is_met())
    }

    /// Reminders due: what expires within the reminder window or has lapsed. Each has a key
    /// that names the event, so a job that runs twice sends each reminder once.
    pub fn reminders(&self) -> Vec<Reminder> {
        self.checks
            .iter()
            .filter(|c| matches!(c.condition, Condition::HealthCheck | Condition::Insurance | Condition::Retraining))
            .filter_map(|c| {
                let stage = match c.standing {
                    Standing::Expiring => "due",
                    Standing::Expired => "overdue",
                    _ => return None,
                };
                let date = c.date?;
                Some(Reminder {
                    condition: c.condition,
                    due_on: date,
                    overdue: stage == "overdue",
                    event_key: format!("{}:{}:{stage}", c.condition.as_str(), date),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub condition: Condition,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub event_key: String,
}

fn days_until(date: NaiveDate, today: NaiveDate) -> i64 {
    (date - today).num_days()
}

/// Met while `until` is after today; expiring within the reminder window.
fn dated(condition: Condition, until: NaiveDate, today: NaiveDate, zh: &str, en: &str) -> Check {
    let left = days_until(until, today);
    if left <= 0 {
        Check {
            condition,
            standing: Standing::Expired,
            date: Some(until),
            reason_zh: format!("{zh}已于{until}过期"),
            reason_en: format!("{en} lapsed on {until}"),
        }
    } else if left <= REMINDER_DAYS {
        Check {
            condition,
            standing: Standing::Expiring,
            date: Some(until),
            reason_zh: format!("{zh}将于{until}到期"),
            reason_en: format!("{en} expires on {until}"),
        }
    } else {
        Check {
            condition,
            standing: Standing::Met,
            date: Some(until),
            reason_zh: format!("{zh}有效至{until}"),
            reason_en: format!("{en} valid until {until}"),
        }
    }
}

fn undated(condition: Condition, standing: Standing, zh: impl Into<String>, en: impl Into<String>) -> Check {
    Check { condition, standing, date: None, reason_zh: zh.into(), reason_en: en.into() }
}

/// The training records that count: where a provider recorded a course, its record outranks
/// any agency's record of the same course.
fn effective_trainings(trainings: &[TrainingFact]) -> impl Iterator<Item = &TrainingFact> {
    trainings.iter().filter(move |t| {
        t.source == Source::Provider
            || t.course_id.is_none()
            || !trainings.iter().any(|o| o.course_id == t.course_id && o.source == Source::Provider)
    })
}

fn pre_job(facts: &Facts) -> Check {
    let pre_job: Vec<&TrainingFact> =
        effective_trainings(&facts.trainings).filter(|t| t.kind == CourseKind::PreJob).collect();
    let condition = Condition::PreJobTraining;
    if let Some(passed) = pre_job.iter().filter(|t| t.passed == Some(true)).filter_map(|t| t.completed_on).max() {
        return Check {
            condition,
            standing: Standing::Met,
            date: Some(passed),
            reason_zh: format!("{passed}岗前培训考核合格"),
            reason_en: format!("passed pre-job training on {passed}"),
        };
    }
    if pre_job.iter().any(|t| t.passed == Some(false)) {
        undated(condition, Standing::Failed, "岗前培训考核未通过", "failed the pre-job training exam")
    } else if !pre_job.is_empty() {
        undated(condition, Standing::Missing, "岗前培训尚无考核结果", "pre-job training has no exam result yet")
    } else {
        undated(condition, Standing::Missing, "没有岗前培训记录", "no pre-job training on record")
    }
}

fn retraining(facts: &Facts, today: NaiveDate) -> Check {
    let last =
        effective_trainings(&facts.trainings).filter(|t| t.passed == Some(true)).filter_map(|t| t.completed_on).max();
    match last {
        Some(last) => dated(Condition::Retraining, retraining_due(last), today, "两年复训期", "the two-year training"),
        None => undated(Condition::Retraining, Standing::Missing, "没有合格的培训记录", "no passed training on record"),
    }
}

fn health(facts: &Facts, needed: HealthCategory, today: NaiveDate) -> Check {
    let condition = Condition::HealthCheck;
    // A check counts as passed only if no record of the same day and category says it failed:
    // conflicting entries are kept, and the cautious reading wins.
    let disputed = |h: &HealthFact| {
        facts.health_checks.iter().any(|o| !o.passed && o.checked_on == h.checked_on && o.category == h.category)
    };
    let passed = |h: &&HealthFact| h.passed && !disputed(h);
    let sufficient = facts.health_checks.iter().filter(|h| h.category.covers(needed));
    let last_pass = sufficient.clone().filter(passed).map(|h| h.checked_on).max();
    let last_fail = sufficient.filter(|h| !h.passed).map(|h| h.checked_on).max();
    let needed_zh = needed.label_zh();
    let needed_en = needed.label_en();
    match (last_pass, last_fail) {
        (Some(pass), fail) if fail.is_none_or(|f| f < pass) => {
            let until = health_check_expiry(pass);
            let in_force = days_until(until, today) > 0;
            if in_force || !has_weaker_valid(facts, needed, today) {
                return dated(
                    condition,
                    until,
                    today,
                    &format!("{needed_zh}体检"),
                    &format!("{needed_en} health check"),
                );
            }
            undated(
                condition,
                Standing::Weaker,
                format!("体检类别低于所需的{needed_zh}"),
                format!("the health check is of a weaker category than {needed_en}"),
            )
        }
        (_, Some(fail)) => undated(
            condition,
            Standing::Failed,
            format!("{fail}的{needed_zh}体检不合格"),
            format!("failed the {needed_en} health check on {fail}"),
        ),
        (None, None) if has_weaker_valid(facts, needed, today) => undated(
            condition,
            Standing::Weaker,
            format!("体检类别低于所需的{needed_zh}"),
            format!("the health check is of a weaker category than {needed_en}"),
        ),
        _ => undated(
            condition,
            Standing::Missing,
            format!("没有{needed_zh}体检记录"),
            format!("no {needed_en} health check on record"),
        ),
    }
}

fn has_weaker_valid(facts: &Facts, needed: HealthCategory, today: NaiveDate) -> bool {
    facts
        .health_checks
        .iter()
        .any(|h| h.passed && !h.category.covers(needed) && days_until(health_check_expiry(h.checked_on), today) > 0)
}

fn insurance(facts: &Facts, today: NaiveDate) -> Check {
    let in_force =
        facts.policies.iter().filter(|p| p.starts_on <= today && today <= p.ends_on).map(|p| p.ends_on).max();
    let lapsed = facts.policies.iter().filter(|p| p.ends_on < today).map(|p| p.ends_on).max();
    match (in_force, lapsed) {
        // A policy is in force through its last day, so it lapses the day after.
        (Some(end), _) => dated(Condition::Insurance, end.succ_opt().unwrap_or(end), today, "保险", "insurance"),
        (None, Some(end)) => dated(Condition::Insurance, end.succ_opt().unwrap_or(end), today, "保险", "insurance"),
        (None, None) => {
            undated(Condition::Insurance, Standing::Missing, "没有有效保单", "no insurance policy in force")
        }
    }
}

fn accepts(accept: &Accepts, cert: &CertificateFact) -> Option<bool> {
    match accept {
        Accepts::Trade(trade, level) => (cert.kind == CertificateKind::Occupational && cert.trade == Some(*trade))
            .then(|| cert.level.is_some_and(|l| l.rank() >= level.rank())),
        Accepts::Kind(kind) => (cert.kind == *kind).then_some(true),
    }
}

fn describe(need: &[Accepts], english: bool) -> String {
    let parts: Vec<String> = need
        .iter()
        .map(|a| match a {
            Accepts::Trade(trade, level) if english => {
                format!("a {} certificate at {} or above", trade.label_en().to_lowercase(), level.label_en())
            }
            Accepts::Trade(trade, level) => format!("{}{}及以上证书", trade.label_zh(), level.label_zh()),
            Accepts::Kind(kind) if english => {
                let label = kind.label_en().to_lowercase();
                let article = if label.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                format!("{article} {label}")
            }
            Accepts::Kind(kind) => kind.label_zh().to_string(),
        })
        .collect();
    parts.join(if english { " or " } else { "或" })
}

fn skill(facts: &Facts, requirement: &Requirement, today: NaiveDate) -> Check {
    let condition = Condition::Skill;
    if requirement.skills.is_empty() {
        return undated(condition, Standing::NotRequired, "该服务不要求技能证书", "the service needs no certificate");
    }
    let mut earliest_end: Option<NaiveDate> = None;
    for need in &requirement.skills {
        let matching: Vec<(&CertificateFact, bool)> = facts
            .certificates
            .iter()
            .filter_map(|c| need.iter().filter_map(|a| accepts(a, c)).max().map(|enough| (c, enough)))
            .collect();
        let valid = |c: &CertificateFact| c.valid_until.is_none_or(|u| u >= today);
        let good: Vec<&CertificateFact> =
            matching.iter().filter(|(c, enough)| *enough && valid(c)).map(|(c, _)| *c).collect();
        if good.is_empty() {
            let (zh, en) = (describe(need, false), describe(need, true));
            return if matching.iter().any(|(c, enough)| !enough && valid(c)) {
                undated(
                    condition,
                    Standing::Weaker,
                    format!("技能等级不足，需要{zh}"),
                    format!("skill level too low: needs {en}"),
                )
            } else if matching.iter().any(|(_, enough)| *enough) {
                undated(condition, Standing::Expired, format!("{zh}已过期"), format!("{en} has expired"))
            } else {
                undated(condition, Standing::Missing, format!("需要{zh}"), format!("needs {en}"))
            };
        }
        // A need met by a lifelong certificate has no end; otherwise the latest end counts.
        if good.iter().all(|c| c.valid_until.is_some()) {
            let end = good.iter().filter_map(|c| c.valid_until).max().expect("all dated");
            earliest_end = Some(earliest_end.map_or(end, |e| e.min(end)));
        }
    }
    match earliest_end {
        Some(end) => dated(condition, end.succ_opt().unwrap_or(end), today, "技能证书", "the skill certificate"),
        None => undated(condition, Standing::Met, "技能证书有效", "skill certificate valid"),
    }
}

/// Checks a worker's facts against a requirement on a day.
pub fn assess(facts: &Facts, requirement: &Requirement, today: NaiveDate) -> Compliance {
    let checks = vec![
        pre_job(facts),
        retraining(facts, today),
        health(facts, requirement.health, today),
        insurance(facts, today),
        skill(facts, requirement, today),
    ];
    Compliance { compliant: checks.iter().all(|c| c.standing.is_met()), checks }
}

/// The days from `from` on when a worker meets a requirement, as half-open spans
/// `[start, end)`; `end` is `None` when nothing on record lapses. The rules compare today only
/// with dates the facts name or derive (an expiry, a policy's first day and the day after its
/// last), so assessing on `from` and on each of those dates gives the answer for every day.
pub fn ready_spans(facts: &Facts, requirement: &Requirement, from: NaiveDate) -> Vec<(NaiveDate, Option<NaiveDate>)> {
    let mut turns: Vec<NaiveDate> = Vec::new();
    for completed in facts.trainings.iter().filter_map(|t| t.completed_on) {
        turns.push(retraining_due(completed));
    }
    for check in &facts.health_checks {
        turns.push(health_check_expiry(check.checked_on));
    }
    for policy in &facts.policies {
        turns.push(policy.starts_on);
        turns.extend(policy.ends_on.succ_opt());
    }
    turns.extend(facts.certificates.iter().filter_map(|c| c.valid_until?.succ_opt()));
    turns.retain(|day| *day > from);
    turns.sort_unstable();
    turns.dedup();
    let mut spans = Vec::new();
    let mut open: Option<NaiveDate> = None;
    for day in std::iter::once(from).chain(turns) {
        match (assess(facts, requirement, day).compliant, open) {
            (true, None) => open = Some(day),
            (false, Some(start)) => {
                spans.push((start, Some(day)));
                open = None;
            }
            _ => {}
        }
    }
    spans.extend(open.map(|start| (start, None)));
    spans
}

/// The first day in `first..=last` on which the worker does not meet the requirement, if any.
pub fn first_unready_day(
    facts: &Facts,
    requirement: &Requirement,
    first: NaiveDate,
    last: NaiveDate,
) -> Option<NaiveDate> {
    match ready_spans(facts, requirement, first).first() {
        Some((start, end)) if *start == first => end.filter(|end| *end <= last),
        _ => Some(first),
    }
}

/// Whether a worker holds any certificate valid today (the certified share).
pub fn is_certified(facts: &Facts, today: NaiveDate) -> bool {
    facts.certificates.iter().any(|c| c.valid_until.is_none_or(|u| u >= today))
}

/// Counts toward the plan's workforce rates, over active workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tally {
    pub active_workers: i64,
    pub pre_job_trained: i64,
    pub retraining_current: i64,
    pub health_valid: i64,
    pub insured: i64,
    pub certified: i64,
    pub education_related: i64,
    pub compliant: i64,
}

impl Tally {
    pub fn add(&mut self, result: &Compliance, certified: bool, education_related: bool) {
        let met = |condition| i64::from(result.check(condition).standing.is_met());
        self.active_workers += 1;
        self.pre_job_trained += met(Condition::PreJobTraining);
        self.retraining_current += met(Condition::Retraining);
        self.health_valid += met(Condition::HealthCheck);
        self.insured += met(Condition::Insurance);
        self.certified += i64::from(certified);
        self.education_related += i64::from(education_related);
        self.compliant += i64::from(result.compliant);
    }

    pub fn merge(&mut self, other: &Tally) {
        self.active_workers += other.active_workers;
        self.pre_job_trained += other.pre_job_trained;
        self.retraining_current += other.retraining_current;
        self.health_valid += other.health_valid;
        self.insured += other.insured;
        self.certified += other.certified;
        self.education_related += other.education_related;
        self.compliant += other.compliant;
    }

    /// A count as a share of active workers, 0 when there are none.
    pub fn share(&self, count: i64) -> f64 {
        if self.active_workers == 0 { 0.0 } else { count as f64 / self.active_workers as f64 }
    }
}

/// The plan's target: at least 10% of active workers with domestic-service education.
pub const EDUCATION_TARGET: f64 = 0.10;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const TODAY: &str = "2026-11-29";

    fn training(kind: CourseKind, on: &str, passed: bool) -> TrainingFact {
        TrainingFact { course_id: None, kind, completed_on: Some(d(on)), passed: Some(passed), source: Source::Agency }
    }

    /// A worker who meets every condition for maternity work.
    fn complete() -> Facts {
        Facts {
            trainings: vec![training(CourseKind::PreJob, "2026-03-01", true)],
            health_checks: vec![HealthFact {
                checked_on: d("2026-06-01"),
                category: HealthCategory::Maternity,
                passed: true,
            }],
            policies: vec![PolicyFact { starts_on: d("2026-01-01"), ends_on: d("2027-06-30") }],
            certificates: vec![CertificateFact {
                kind: CertificateKind::Occupational,
                trade: Some(Trade::Maternity),
                level: Some(SkillLevel::Level4),
                valid_until: None,
            }],
        }
    }

    fn maternity(facts: &Facts) -> Compliance {
        assess(facts, &Requirement::for_service(ServiceKind::Maternity), d(TODAY))
    }

    fn standing(result: &Compliance, condition: Condition) -> Standing {
        result.check(condition).standing
    }

    #[test]
    fn a_worker_with_every_fact_current_is_compliant() {
        let result = maternity(&complete());
        assert!(result.compliant, "{result:?}");
        assert_eq!(result.unmet().count(), 0);
        assert_eq!(result.check(Condition::HealthCheck).date, Some(d("2027-06-01")));
    }

    #[test]
    fn no_pre_job_training_is_reported_and_training_fixes_it() {
        let mut facts = complete();
        facts.trainings = vec![training(CourseKind::SkillUpgrade, "2026-03-01", true)];
        let result = maternity(&facts);
        assert!(!result.compliant);
        let unmet: Vec<Condition> = result.unmet().map(|c| c.condition).collect();
        assert_eq!(unmet, [Condition::PreJobTraining]);
        assert_eq!(result.check(Condition::PreJobTraining).reason_en, "no pre-job training on record");

        facts.trainings.push(training(CourseKind::PreJob, "2026-04-01", false));
        assert_eq!(standing(&maternity(&facts), Condition::PreJobTraining), Standing::Failed);
        facts.trainings.push(training(CourseKind::PreJob, "2026-05-01", true));
        assert!(maternity(&facts).compliant);
    }

    #[test]
    fn an_expired_health_check_is_reported_and_a_new_one_fixes_it() {
        let mut facts = complete();
        facts.health_checks[0].checked_on = d("2025-11-01");
        let result = maternity(&facts);
        let check = result.check(Condition::HealthCheck);
        assert_eq!((check.standing, check.date), (Standing::Expired, Some(d("2026-11-01"))));
        assert!(check.reason_zh.contains("过期"));
        facts.health_checks.push(HealthFact {
            checked_on: d("2026-11-20"),
            category: HealthCategory::Maternity,
            passed: true,
        });
        assert!(maternity(&facts).compliant);
    }

    #[test]
    fn a_check_of_a_weaker_category_than_the_services_need_is_not_enough() {
        let mut facts = complete();
        facts.health_checks[0].category = HealthCategory::InHome;
        let result = maternity(&facts);
        assert_eq!(standing(&result, Condition::HealthCheck), Standing::Weaker);
        assert!(result.check(Condition::HealthCheck).reason_en.contains("Mother and baby care"));
        // The same check is enough for cleaning.
        let cleaning = assess(&facts, &Requirement::for_service(ServiceKind::Cleaning), d(TODAY));
        assert!(cleaning.compliant, "{cleaning:?}");
        // A worker offering both is checked to the strictest.
        let both: ServiceSet = [ServiceKind::Cleaning, ServiceKind::ElderlyCare].into_iter().collect();
        assert_eq!(Requirement::for_services(both).health, HealthCategory::ElderlyCare);
        facts.health_checks.push(HealthFact {
            checked_on: d("2026-10-01"),
            category: HealthCategory::Maternity,
            passed: true,
        });
        assert!(maternity(&facts).compliant);
    }

    #[test]
    fn a_failed_check_after_a_pass_stands_and_a_disputed_pass_does_not_count() {
        let mut facts = complete();
        facts.health_checks.push(HealthFact {
            checked_on: d("2026-09-01"),
            category: HealthCategory::Maternity,
            passed: false,
        });
        assert_eq!(standing(&maternity(&facts), Condition::HealthCheck), Standing::Failed);
        let mut disputed = complete();
        disputed.health_checks.push(HealthFact { passed: false, ..disputed.health_checks[0].clone() });
        assert_eq!(standing(&maternity(&disputed), Condition::HealthCheck), Standing::Failed);
    }

    #[test]
    fn lapsed_insurance_is_reported_and_a_new_policy_fixes_it() {
        let mut facts = complete();
        facts.policies = vec![PolicyFact { starts_on: d("2025-01-01"), ends_on: d("2025-12-31") }];
        let result = maternity(&facts);
        assert_eq!(standing(&result, Condition::Insurance), Standing::Expired);
        assert_eq!(result.check(Condition::Insurance).date, Some(d("2026-01-01")));
        facts.policies.push(PolicyFact { starts_on: d("2026-12-01"), ends_on: d("2027-11-30") });
        assert_eq!(standing(&maternity(&facts), Condition::Insurance), Standing::Expired, "not yet in force");
        facts.policies.push(PolicyFact { starts_on: d("2026-11-01"), ends_on: d("2027-10-31") });
        assert!(maternity(&facts).compliant);
    }

    #[test]
    fn training_over_two_years_old_needs_retraining() {
        let mut facts = complete();
        facts.trainings = vec![training(CourseKind::PreJob, "2024-10-01", true)];
        let result = maternity(&facts);
        assert_eq!(result.unmet().map(|c| c.condition).collect::<Vec<_>>(), [Condition::Retraining]);
        assert_eq!(result.check(Condition::Retraining).date, Some(d("2026-10-01")));
        facts.trainings.push(training(CourseKind::Retraining, "2026-11-15", true));
        assert!(maternity(&facts).compliant);
    }

    #[test]
    fn a_missing_certificate_is_said_once_in_each_language() {
        let facts = Facts::default();
        for service in [ServiceKind::ElderlyCare, ServiceKind::Maternity, ServiceKind::Childcare] {
            let check =
                assess(&facts, &Requirement::for_service(service), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
                    .check(Condition::Skill)
                    .clone();
            assert!(!check.reason_zh.contains("证书证书"), "{}", check.reason_zh);
            let en = &check.reason_en;
            assert!(!en.contains("a a ") && !en.contains("certificate certificate"), "{en}");
            assert!(en.is_ascii(), "no Chinese on English pages: {en}");
        }
    }

    #[test]
    fn maternity_work_needs_a_maternal_care_certificate_at_the_level_asked() {
        let mut facts = complete();
        facts.certificates[0].trade = Some(Trade::HomeCare);
        assert_eq!(standing(&maternity(&facts), Condition::Skill), Standing::Missing);
        facts.certificates[0].trade = Some(Trade::Maternity);
        let gold = Requirement::for_service(ServiceKind::Maternity).with_level(Trade::Maternity, SkillLevel::Level3);
        let result = assess(&facts, &gold, d(TODAY));
        assert_eq!(standing(&result, Condition::Skill), Standing::Weaker);
        facts.certificates[0].level = Some(SkillLevel::Level3);
        assert!(assess(&facts, &gold, d(TODAY)).compliant);
        // Childcare also accepts an 育婴员 certificate.
        let childcare = Requirement::for_service(ServiceKind::Childcare);
        let nanny = Facts {
            certificates: vec![CertificateFact {
                kind: CertificateKind::Childcare,
                trade: None,
                level: None,
                valid_until: Some(d("2026-12-10")),
            }],
            ..complete()
        };
        assert_eq!(standing(&assess(&nanny, &childcare, d(TODAY)), Condition::Skill), Standing::Expiring);
    }

    #[test]
    fn a_providers_record_outranks_the_agencys_for_the_same_course() {
        let mut facts = complete();
        facts.trainings = vec![
            TrainingFact {
                course_id: Some(9),
                source: Source::Agency,
                ..training(CourseKind::PreJob, "2026-03-01", true)
            },
            TrainingFact {
                course_id: Some(9),
                source: Source::Provider,
                ..training(CourseKind::PreJob, "2026-03-01", false)
            },
        ];
        assert_eq!(standing(&maternity(&facts), Condition::PreJobTraining), Standing::Failed);
    }

    #[test]
    fn a_tally_counts_each_condition_met() {
        let mut tally = Tally::default();
        tally.add(&maternity(&complete()), true, false);
        let mut lapsed = complete();
        lapsed.policies.clear();
        tally.add(&maternity(&lapsed), false, true);
        assert_eq!((tally.active_workers, tally.insured, tally.compliant, tally.certified), (2, 1, 1, 1));
        assert_eq!(tally.share(tally.education_related), 0.5);
        assert_eq!(Tally::default().share(0), 0.0);
    }

    #[test]
    fn reminders_name_each_event_once() {
        let mut facts = complete();
        facts.health_checks[0].checked_on = d("2025-12-10");
        facts.policies[0].ends_on = d("2026-11-01");
        let reminders = maternity(&facts).reminders();
        let keys: Vec<&str> = reminders.iter().map(|r| r.event_key.as_str()).collect();
        assert_eq!(keys, ["health_check:2026-12-10:due", "insurance:2026-11-02:overdue"]);
        assert!(!reminders[0].overdue && reminders[1].overdue);
        assert!(maternity(&complete()).reminders().is_empty());
    }
}
