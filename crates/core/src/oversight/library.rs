//! The key-agency library (家政领域重点推介企业库) and the talent library (家政领域人才库: skilled
//! workers, managers, trainers) of plan task 13. Who may nominate what, the form, the entry
//! criteria checked against the platform's records, and what blocks publication.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::choice;
use crate::field::{FieldErrors, Invalid, required_paragraphs, required_text};
use crate::workforce::SkillLevel;

pub const MAX_REASON_CHARS: usize = 500;
pub const MAX_PERSON_CHARS: usize = 40;
/// An agency enters with no administrative penalty in this many months.
pub const PENALTY_FREE_MONTHS: u32 = 12;
/// An agency enters with a credit grade of this letter or better (A is best).
pub const MIN_GRADE: char = 'B';
/// A skilled worker enters with an occupational skill certificate of this level or higher.
pub const MIN_SKILL_LEVEL: SkillLevel = SkillLevel::Level4;

choice!(
    Library {
        Agency = ("agency", "家政领域重点推介企业库", "Key-agency library"),
        Talent = ("talent", "家政领域人才库", "Talent library"),
    }
);

choice!(
    /// What an entry is.
    LibraryKind {
        Agency = ("agency", "重点推介企业", "Key agency"),
        SkilledWorker = ("skilled_worker", "技能人才", "Skilled worker"),
        Manager = ("manager", "管理人才", "Manager"),
        Trainer = ("trainer", "培训师资", "Trainer"),
    }
);

impl LibraryKind {
    pub fn library(self) -> Library {
        if self == LibraryKind::Agency { Library::Agency } else { Library::Talent }
    }
}

choice!(
    EntryStatus {
        Pending = ("pending", "待审核", "Waiting for review"),
        Published = ("published", "已入库公示", "Published"),
        Rejected = ("rejected", "未入库", "Not admitted"),
        Removed = ("removed", "已移出", "Removed"),
    }
);

choice!(
    /// Who nominated.
    Nominator {
        Agency = ("agency", "企业推荐", "Agency"),
        School = ("school", "院校推荐", "School"),
        Regulator = ("regulator", "区县监管部门推荐", "District regulator"),
    }
);

impl Nominator {
    /// An agency nominates itself, its workers and its managers; a school its graduates and its
    /// trainers; a district regulator anyone in the district.
    pub fn may_nominate(self, kind: LibraryKind) -> bool {
        match self {
            Nominator::Agency => {
                matches!(kind, LibraryKind::Agency | LibraryKind::SkilledWorker | LibraryKind::Manager)
            }
            Nominator::School => matches!(kind, LibraryKind::SkilledWorker | LibraryKind::Trainer),
            Nominator::Regulator => true,
        }
    }

    pub fn kinds(self) -> Vec<LibraryKind> {
        LibraryKind::ALL.iter().copied().filter(|k| self.may_nominate(*k)).collect()
    }
}

/// A nomination as typed. The agency, school and worker are picked from lists (their ids);
/// which of them a kind needs depends on who nominates (an agency's own id is implied).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct NominationForm {
    /// `agency`, `skilled_worker`, `manager` or `trainer`.
    pub kind: String,
    /// The agency (a key agency; a manager's agency), picked by a district regulator.
    pub agency_id: Option<i64>,
    /// The school (a trainer's), picked by a district regulator.
    pub provider_id: Option<i64>,
    /// The worker record: required for a skilled worker; a manager's or trainer's where there is one.
    pub worker_id: Option<i64>,
    /// A manager's or trainer's name, when no worker record is picked (at most 40 characters).
    pub person_name: String,
    /// A manager's or trainer's role (职务), at most 40 characters.
    pub person_role: String,
    /// Why: achievements, awards, competitions (at most 500 characters).
    pub reason: String,
}

/// A named person without a worker record, or the role of one with a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominationDraft {
    pub kind: LibraryKind,
    pub agency_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub worker_id: Option<i64>,
    /// Managers and trainers only.
    pub person: Option<Person>,
    pub reason: String,
}

fn picked(id: Option<i64>) -> Option<i64> {
    id.filter(|id| *id > 0)
}

impl NominationForm {
    pub fn parse(&self) -> Result<NominationDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", LibraryKind::parse(&self.kind));
        let reason = e.take("reason", required_paragraphs(&self.reason, MAX_REASON_CHARS));
        let worker_id = picked(self.worker_id);
        let mut person = None;
        match kind {
            Some(LibraryKind::SkilledWorker) if worker_id.is_none() => {
                e.0.push(Invalid::new("required", "请选择服务员", "pick the worker").at("worker_id"));
            }
            Some(LibraryKind::Manager | LibraryKind::Trainer) => {
                let role = e.take("person_role", required_text(&self.person_role, MAX_PERSON_CHARS));
                let name = if worker_id.is_some() {
                    Some(None)
                } else {
                    e.take("person_name", required_text(&self.person_name, MAX_PERSON_CHARS)).map(Some)
                };
                if let (Some(role), Some(name)) = (role, name) {
                    person = Some(Person { name, role });
                }
            }
            _ => {}
        }
        match (kind, reason) {
            (Some(kind), Some(reason)) if e.is_empty() => Ok(NominationDraft {
                kind,
                agency_id: picked(self.agency_id),
                provider_id: picked(self.provider_id),
                worker_id,
                person,
                reason,
            }),
            _ => Err(e),
        }
    }
}

/// The key of a subject for "one live nomination each": `agency:12`, `worker:34`, or a named
/// person of an agency or school (`agency:12:张伟`).
pub fn subject_key(
    kind: LibraryKind,
    agency: Option<i64>,
    provider: Option<i64>,
    worker: Option<i64>,
    name: &str,
) -> String {
    match (kind, worker) {
        (LibraryKind::Agency, _) => format!("agency:{}", agency.unwrap_or_default()),
        (_, Some(worker)) => format!("worker:{worker}"),
        (LibraryKind::Trainer, None) => format!("provider:{}:{name}", provider.unwrap_or_default()),
        (_, None) => format!("agency:{}:{name}", agency.unwrap_or_default()),
    }
}

choice!(
    /// The entry criteria.
    Criterion {
        AgencyActive = ("agency_active", "企业登记状态正常（在营）", "Agency registration active"),
        NotBlackListed = ("not_black_listed", "未列入黑名单", "Not on the black list"),
        NoRecentPenalty = ("no_recent_penalty", "近12个月无行政处罚", "No administrative penalty in the last 12 months"),
        CreditGrade = ("credit_grade", "信用等级B级及以上", "Credit grade B or better"),
        SkillLevel = (
            "skill_level",
            "持有四级/中级及以上职业技能等级证书",
            "An occupational skill certificate at level 4 (intermediate) or above"
        ),
        NoUpheldComplaints = ("no_upheld_complaints", "无成立的投诉", "No upheld complaints"),
        Affiliation = (
            "affiliation",
            "所属企业登记状态正常或所属院校在册",
            "Belongs to an active agency or a registered school"
        ),
    }
);

choice!(
    CheckOutcome {
        Met = ("met", "符合", "Met"),
        NotMet = ("not_met", "不符合", "Not met"),
        Unchecked = ("unchecked", "平台无记录，由审核人核实", "Not in the platform's records: the reviewer checks"),
    }
);

/// One criterion checked against the records, with what was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CriterionCheck {
    pub criterion: Criterion,
    pub outcome: CheckOutcome,
    /// What the records say, in Chinese.
    pub found_zh: String,
    pub found_en: String,
}

impl CriterionCheck {
    fn new(criterion: Criterion, met: bool, zh: impl Into<String>, en: impl Into<String>) -> Self {
        CriterionCheck {
            criterion,
            outcome: if met { CheckOutcome::Met } else { CheckOutcome::NotMet },
            found_zh: zh.into(),
            found_en: en.into(),
        }
    }

    fn unchecked(criterion: Criterion) -> Self {
        CriterionCheck {
            criterion,
            outcome: CheckOutcome::Unchecked,
            found_zh: "无服务员档案".into(),
            found_en: "no worker record".into(),
        }
    }
}

/// What the records say about an agency.
#[derive(Debug, Clone, PartialEq)]
pub struct AgencyFacts {
    /// `active`, `suspended` or `closed`.
    pub status: String,
    pub black_listed: bool,
    /// The latest administrative penalty still standing (not corrected away).
    pub last_penalty_on: Option<NaiveDate>,
    pub grade_letter: char,
    pub grade_score: f64,
}

/// The day from which a penalty counts against entry.
pub fn penalty_window_start(today: NaiveDate) -> NaiveDate {
    today.checked_sub_months(Months::new(PENALTY_FREE_MONTHS)).unwrap_or(today)
}

/// Whether `letter` is `MIN_GRADE` or better.
pub fn grade_meets(letter: char) -> bool {
    letter.is_ascii_uppercase() && letter <= MIN_GRADE
}

pub fn check_agency(f: &AgencyFacts, today: NaiveDate) -> Vec<CriterionCheck> {
    let status = crate::registry::agency::AgencyStatus::parse(&f.status).ok();
    let (status_zh, status_en) = status.map_or(("未知", "unknown"), |s| (s.label_zh(), s.label_en()));
    let since = penalty_window_start(today);
    let recent = f.last_penalty_on.filter(|d| *d > since);
    vec![
        CriterionCheck::new(Criterion::AgencyActive, f.status == "active", status_zh, status_en),
        CriterionCheck::new(
            Criterion::NotBlackListed,
            !f.black_listed,
            if f.black_listed { "列入黑名单" } else { "未列入" },
            if f.black_listed { "on the black list" } else { "not listed" },
        ),
        match (recent, f.last_penalty_on) {
            (Some(d), _) => CriterionCheck::new(
                Criterion::NoRecentPenalty,
                false,
                format!("{d} 受行政处罚"),
                format!("penalised on {d}"),
            ),
            (None, Some(d)) => CriterionCheck::new(
                Criterion::NoRecentPenalty,
                true,
                format!("最近一次处罚 {d}"),
                format!("last penalty {d}"),
            ),
            (None, None) => CriterionCheck::new(Criterion::NoRecentPenalty, true, "无处罚记录", "no penalty on record"),
        },
        CriterionCheck::new(
            Criterion::CreditGrade,
            grade_meets(f.grade_letter),
            format!("{}级（{:.1}分）", f.grade_letter, f.grade_score),
            format!("grade {} ({:.1} points)", f.grade_letter, f.grade_score),
        ),
    ]
}

/// What the records say about a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerFacts {
    /// The highest level of a valid occupational skill certificate.
    pub best_level: Option<SkillLevel>,
    pub upheld_complaints: i64,
    pub black_listed: bool,
}

fn level_rank(level: SkillLevel) -> usize {
    SkillLevel::ALL.iter().position(|l| *l == level).unwrap_or(0)
}

fn worker_checks(w: &WorkerFacts) -> [CriterionCheck; 2] {
    [
        CriterionCheck::new(
            Criterion::NoUpheldComplaints,
            w.upheld_complaints == 0,
            format!("成立的投诉{}次", w.upheld_complaints),
            format!("{} upheld complaint(s)", w.upheld_complaints),
        ),
        CriterionCheck::new(
            Criterion::NotBlackListed,
            !w.black_listed,
            if w.black_listed { "列入黑名单" } else { "未列入" },
            if w.black_listed { "on the black list" } else { "not listed" },
        ),
    ]
}

/// A talent entry: a skilled worker by the record; a manager or trainer by the agency or school
/// they belong to (`affiliation_active`), and by their worker record where there is one.
pub fn check_talent(
    kind: LibraryKind,
    affiliation_active: Option<bool>,
    worker: Option<&WorkerFacts>,
) -> Vec<CriterionCheck> {
    let mut checks = Vec::new();
    if kind == LibraryKind::SkilledWorker {
        let best = worker.and_then(|w| w.best_level);
        let met = best.is_some_and(|b| level_rank(b) >= level_rank(MIN_SKILL_LEVEL));
        checks.push(CriterionCheck::new(
            Criterion::SkillLevel,
            met,
            best.map_or("无有效的职业技能等级证书", |b| b.label_zh()),
            best.map_or("no valid occupational certificate", |b| b.label_en()),
        ));
    } else {
        let active = affiliation_active.unwrap_or(false);
        checks.push(CriterionCheck::new(
            Criterion::Affiliation,
            active,
            if active { "在册" } else { "停业、注销或未登记" },
            if active { "registered and active" } else { "suspended, closed or not registered" },
        ));
    }
    match worker {
        Some(w) => checks.extend(worker_checks(w)),
        None => {
            checks.push(CriterionCheck::unchecked(Criterion::NoUpheldComplaints));
            checks.push(CriterionCheck::unchecked(Criterion::NotBlackListed));
        }
    }
    checks
}

/// Publication needs every criterion the records can check to be met; the refusal names them.
pub fn admissible(checks: &[CriterionCheck]) -> Result<(), FieldErrors> {
    let failed: Vec<&CriterionCheck> = checks.iter().filter(|c| c.outcome == CheckOutcome::NotMet).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let zh: Vec<&str> = failed.iter().map(|c| c.criterion.label_zh()).collect();
    let en: Vec<&str> = failed.iter().map(|c| c.criterion.label_en()).collect();
    Err(FieldErrors(vec![
        Invalid::new(
            "criteria_not_met",
            format!("不符合入库标准：{}", zh.join("；")),
            format!("Entry criteria not met: {}", en.join("; ")),
        )
        .at("criteria"),
    ]))
}

/// A decision's note or a removal's reason.
pub fn parse_note(raw: &str, required: bool) -> Result<Option<String>, FieldErrors> {
    let mut e = FieldErrors::default();
    if raw.trim().is_empty() && !required {
        return Ok(None);
    }
    let field = if required { "reason" } else { "note" };
    e.take(field, required_paragraphs(raw, MAX_REASON_CHARS)).map(Some).ok_or(e)
}

/// A review's note: optional when the entry is published, required (under `note`) when it is not,
/// so the nominator learns why.
pub fn parse_decision_note(raw: &str, publish: bool) -> Result<Option<String>, FieldErrors> {
    if !publish && raw.trim().is_empty() {
        let why = Invalid::new("required", "不予入库请写明理由", "give the reason for not admitting");
        return Err(FieldErrors(vec![why.at("note")]));
    }
    parse_note(raw, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn who_nominates_what() {
        assert!(Nominator::Agency.may_nominate(LibraryKind::Agency));
        assert!(Nominator::Agency.may_nominate(LibraryKind::Manager));
        assert!(!Nominator::Agency.may_nominate(LibraryKind::Trainer));
        assert!(!Nominator::School.may_nominate(LibraryKind::Agency));
        assert!(Nominator::School.may_nominate(LibraryKind::Trainer));
        assert_eq!(Nominator::Regulator.kinds().len(), 4);
        assert_eq!(LibraryKind::Trainer.library(), Library::Talent);
    }

    #[test]
    fn the_form_asks_for_what_the_kind_needs() {
        let worker =
            NominationForm {
                kind: "技能人才".into(), reason: "全市家政技能大赛一等奖".into(), ..Default::default()
            };
        assert_eq!(worker.parse().unwrap_err().for_field("worker_id").unwrap().code, "required");
        let ok = NominationForm { worker_id: Some(7), ..worker }.parse().unwrap();
        assert_eq!((ok.kind, ok.worker_id, ok.person), (LibraryKind::SkilledWorker, Some(7), None));

        let manager =
            NominationForm { kind: "manager".into(), reason: "十年管理经验".into(), ..Default::default() };
        let errors = manager.parse().unwrap_err();
        assert!(errors.for_field("person_name").is_some() && errors.for_field("person_role").is_some());
        let named =
            NominationForm { person_name: " 张伟 ".into(), person_role: "总经理".into(), ..manager.clone() };
        assert_eq!(named.parse().unwrap().person, Some(Person { name: Some("张伟".into()), role: "总经理".into() }));
        let with_record = NominationForm { worker_id: Some(3), person_role: "运营主管".into(), ..manager };
        assert_eq!(with_record.parse().unwrap().person.unwrap().name, None, "the record names them");

        let bad = NominationForm { kind: "master".into(), reason: "".into(), ..Default::default() };
        let errors = bad.parse().unwrap_err();
        assert!(errors.for_field("kind").is_some() && errors.for_field("reason").is_some());
        let long = NominationForm {
            kind: "agency".into(),
            reason: "好".repeat(MAX_REASON_CHARS + 1),
            agency_id: Some(-3),
            ..Default::default()
        };
        assert_eq!(long.parse().unwrap_err().for_field("reason").unwrap().code, "too_long");
    }

    #[test]
    fn subject_keys_make_one_live_nomination_each() {
        assert_eq!(subject_key(LibraryKind::Agency, Some(4), None, None, ""), "agency:4");
        assert_eq!(subject_key(LibraryKind::Manager, Some(4), None, Some(9), "x"), "worker:9");
        assert_eq!(subject_key(LibraryKind::Manager, Some(4), None, None, "张伟"), "agency:4:张伟");
        assert_eq!(subject_key(LibraryKind::Trainer, None, Some(2), None, "李娜"), "provider:2:李娜");
    }

    #[test]
    fn an_agency_enters_active_unlisted_unpenalised_and_graded_b_or_better() {
        let today = d("2026-05-01");
        let good = AgencyFacts {
            status: "active".into(),
            black_listed: false,
            last_penalty_on: Some(d("2025-04-30")),
            grade_letter: 'B',
            grade_score: 72.0,
        };
        let checks = check_agency(&good, today);
        assert!(checks.iter().all(|c| c.outcome == CheckOutcome::Met), "{checks:?}");
        assert!(admissible(&checks).is_ok());
        let recent = AgencyFacts { last_penalty_on: Some(d("2025-05-02")), grade_letter: 'C', ..good.clone() };
        let checks = check_agency(&recent, today);
        let failed: Vec<Criterion> =
            checks.iter().filter(|c| c.outcome == CheckOutcome::NotMet).map(|c| c.criterion).collect();
        assert_eq!(failed, vec![Criterion::NoRecentPenalty, Criterion::CreditGrade]);
        let refused = admissible(&checks).unwrap_err();
        let message = &refused.for_field("criteria").unwrap().message_zh;
        assert!(message.contains("近12个月无行政处罚") && message.contains("信用等级"), "{message}");
        assert!(grade_meets('A') && !grade_meets('D') && !grade_meets('?'));
        assert_eq!(penalty_window_start(d("2024-02-29")), d("2023-02-28"));
    }

    #[test]
    fn the_labels_say_the_thresholds_the_code_applies() {
        assert!(Criterion::NoRecentPenalty.label_zh().contains(&PENALTY_FREE_MONTHS.to_string()));
        assert!(Criterion::CreditGrade.label_zh().contains(MIN_GRADE));
        assert!(Criterion::SkillLevel.label_zh().contains(MIN_SKILL_LEVEL.label_zh()));
    }

    #[test]
    fn talent_is_checked_by_the_record_where_there_is_one() {
        let skilled = WorkerFacts { best_level: Some(SkillLevel::Level3), upheld_complaints: 0, black_listed: false };
        let checks = check_talent(LibraryKind::SkilledWorker, None, Some(&skilled));
        assert!(admissible(&checks).is_ok());
        let junior = WorkerFacts { best_level: Some(SkillLevel::Level5), upheld_complaints: 1, ..skilled.clone() };
        let checks = check_talent(LibraryKind::SkilledWorker, None, Some(&junior));
        assert_eq!(checks.iter().filter(|c| c.outcome == CheckOutcome::NotMet).count(), 2);
        let trainer = check_talent(LibraryKind::Trainer, Some(true), None);
        assert_eq!(trainer.iter().filter(|c| c.outcome == CheckOutcome::Unchecked).count(), 2);
        assert!(admissible(&trainer).is_ok(), "what the records cannot check does not block");
        let closed = check_talent(LibraryKind::Manager, Some(false), Some(&skilled));
        assert_eq!(closed[0].criterion, Criterion::Affiliation);
        assert_eq!(closed[0].outcome, CheckOutcome::NotMet);
    }

    #[test]
    fn notes_and_reasons_are_bounded() {
        assert_eq!(parse_note("", false).unwrap(), None);
        assert_eq!(parse_decision_note("", true).unwrap(), None);
        assert_eq!(parse_decision_note(" ", false).unwrap_err().for_field("note").unwrap().code, "required");
        assert_eq!(parse_decision_note("材料不全", false).unwrap(), Some("材料不全".into()));
        assert_eq!(parse_note("", true).unwrap_err().for_field("reason").unwrap().code, "required");
        assert_eq!(parse_note("经营异常", true).unwrap(), Some("经营异常".into()));
        assert!(parse_note(&"字".repeat(MAX_REASON_CHARS + 1), false).is_err());
    }
}
