//! Subsidy claims of agencies (plan tasks 1, 5, 27 and 32): social insurance of employee-based
//! workers (per worker-month), pre-job and skill training (per worker who passed), skill
//! appraisal (per certificate) and service-point rent (per point-month). An agency picks the
//! lines from its own records; each line is checked against the platform's records and the
//! regulator sees, line by line, what matches and what does not. A line claims one *unit* (a
//! worker-month, a worker's course kind in a year, a worker's certificate level, a point-month),
//! and a unit is claimed by one live line at most (the database holds that rule).

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use crate::choice;
use crate::field::{FieldErrors, Invalid, optional_text, required_text};
use crate::market::slot::day_start;

/// The most months one claim covers.
pub const MAX_MONTHS: u32 = 12;
/// The most workers, records or points one claim picks.
pub const MAX_ITEMS: usize = 5_000;
/// The most lines one claim holds (items × months for the monthly kinds).
pub const MAX_LINES: usize = 12_000;
pub const MAX_NOTE_CHARS: usize = 500;
pub const MAX_REASON_CHARS: usize = 1000;
/// The most a standard amount per unit may be: ¥100,000.
pub const MAX_STANDARD_FEN: i64 = 10_000_000;

choice!(
    /// The subsidies the plan names that agencies claim from the regulator.
    ClaimKind {
        SocialInsurance = ("social_insurance", "员工制服务员社会保险补贴", "Social insurance of employee-based workers"),
        Training = ("training", "岗前及技能培训补贴", "Pre-job and skill training"),
        Appraisal = ("appraisal", "职业技能鉴定补贴", "Skill appraisal"),
        PointRent = ("point_rent", "服务网点租金补贴", "Service-point rent"),
    }
);

impl ClaimKind {
    /// Whether a line is one item in one month (social insurance, rent).
    pub fn per_month(self) -> bool {
        matches!(self, Self::SocialInsurance | Self::PointRent)
    }

    /// What one line is, as the standard amount is set for it.
    pub fn unit_label(self, english: bool) -> &'static str {
        match (self, english) {
            (Self::SocialInsurance, false) => "每人每月",
            (Self::SocialInsurance, true) => "per worker-month",
            (Self::Training, false) => "每人（培训考核合格）",
            (Self::Training, true) => "per worker who passed",
            (Self::Appraisal, false) => "每本证书",
            (Self::Appraisal, true) => "per certificate",
            (Self::PointRent, false) => "每个网点每月",
            (Self::PointRent, true) => "per point-month",
        }
    }

    /// What the agency picks for this kind.
    pub fn item_label(self, english: bool) -> &'static str {
        match (self, english) {
            (Self::SocialInsurance, false) => "员工制服务员",
            (Self::SocialInsurance, true) => "employee-based workers",
            (Self::Training, false) => "考核合格的培训",
            (Self::Training, true) => "trainings passed",
            (Self::Appraisal, false) => "技能证书",
            (Self::Appraisal, true) => "skill certificates",
            (Self::PointRent, false) => "服务网点",
            (Self::PointRent, true) => "service points",
        }
    }
}

choice!(
    ClaimStatus {
        Submitted = ("submitted", "待审核", "Waiting for review"),
        Approved = ("approved", "已批准", "Approved"),
        PartlyApproved = ("partly_approved", "部分批准", "Partly approved"),
        Rejected = ("rejected", "已驳回", "Rejected"),
    }
);

choice!(
    LineStatus {
        Pending = ("pending", "待审核", "Waiting"),
        Approved = ("approved", "批准", "Approved"),
        Rejected = ("rejected", "不予批准", "Not approved"),
    }
);

choice!(
    /// Why a line does not match the platform's records.
    LineProblem {
        NoRecord = ("no_record", "平台上没有这条记录", "no such record on the platform"),
        NotEmployee = ("not_employee", "该月不是本企业的员工制服务员", "not an employee-based worker of this agency that month"),
        NotInsured = ("not_insured", "该月没有本企业为其参加社保的记录", "not insured by this agency that month"),
        NotPassed = ("not_passed", "培训未结业或考核未通过", "training not completed or exam not passed"),
        OutsidePeriod = ("outside_period", "不在申报期间内", "outside the claimed period"),
        NotBound = ("not_bound", "当时不是本企业的服务员", "not with this agency at the time"),
        Withdrawn = ("withdrawn", "记录已被撤回", "the record was withdrawn"),
        PointNotOpen = ("point_not_open", "该月网点未开放", "the point was not open that month"),
        PointClosedUndated = ("point_closed_undated", "网点已关闭，关闭日期未记录", "the point is closed and the date it closed is not recorded"),
    }
);

impl LineProblem {
    /// Stored problems (codes joined by commas) as labels.
    pub fn describe(stored: &str, english: bool) -> Vec<&'static str> {
        stored.split(',').filter(|c| !c.is_empty()).map(|c| Self::label_of(c, english)).collect()
    }

    pub fn store(problems: &[LineProblem]) -> String {
        problems.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
    }
}

// ---- months -------------------------------------------------------------------------------

/// A month as `YYYY-MM`, strictly.
pub fn parse_month_code(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    let (y, m) = raw.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

/// The `YYYY-MM` of a month's first day.
pub fn month_code(first: NaiveDate) -> String {
    first.format("%Y-%m").to_string()
}

fn next_month(first: NaiveDate) -> NaiveDate {
    first.checked_add_months(Months::new(1)).unwrap_or(first)
}

/// A Beijing month as UTC instants: its first midnight and the next month's.
pub fn month_window(first: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (day_start(first), day_start(next_month(first)))
}

/// Whole months, first to last inclusive, at most [`MAX_MONTHS`], none in the future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl MonthRange {
    /// From the form's two months; errors name the field they belong to.
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let month = |raw: &str| {
            if raw.trim().is_empty() {
                return Err(Invalid::required());
            }
            parse_month_code(raw)
                .ok_or_else(|| Invalid::new("month", "月份格式应为 2026-03", "must be a month like 2026-03"))
        };
        let first = e.take("from", month(from));
        let last = e.take("to", month(to));
        let (Some(first), Some(last)) = (first, last) else { return Err(e) };
        let this_month = today.with_day(1).unwrap_or(today);
        if first.year() < 2000 {
            e.0.push(Invalid::new("too_early", "月份不能早于2000年", "months before 2000 are not claimed").at("from"));
        } else if last > this_month {
            e.0.push(Invalid::new("future_month", "不能申报未来的月份", "future months cannot be claimed").at("to"));
        } else if last < first {
            e.0.push(
                Invalid::new("to_before_from", "结束月份不能早于开始月份", "the last month is before the first")
                    .at("to"),
            );
        } else {
            let range = Self { first, last };
            if range.len() > MAX_MONTHS {
                e.0.push(
                    Invalid::new(
                        "too_many_months",
                        format!("一次申报最多{MAX_MONTHS}个月"),
                        format!("a claim covers at most {MAX_MONTHS} months"),
                    )
                    .at("to"),
                );
            } else {
                return Ok(range);
            }
        }
        Err(e)
    }

    /// The months' first days, in order.
    pub fn months(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut m = self.first;
        while m <= self.last {
            out.push(m);
            m = next_month(m);
        }
        out
    }

    pub fn len(&self) -> u32 {
        let span = (self.last.year() - self.first.year()) * 12 + self.last.month() as i32 - self.first.month() as i32;
        (span + 1).max(0) as u32
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first day after the range.
    pub fn end(&self) -> NaiveDate {
        next_month(self.last)
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first <= day && day < self.end()
    }

    /// "2026-01 至 2026-03" / "2026-01 to 2026-03"; one month alone is itself.
    pub fn label(&self, english: bool) -> String {
        if self.first == self.last {
            month_code(self.first)
        } else {
            format!("{} {} {}", month_code(self.first), if english { "to" } else { "至" }, month_code(self.last))
        }
    }
}

// ---- the claim as typed -------------------------------------------------------------------

/// A claim as an agency submits it: the kind, the months, and what it picked from its lists.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ClaimForm {
    /// `social_insurance`, `training`, `appraisal` or `point_rent`.
    pub kind: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM` (at most 12 months, none in the future).
    pub to: String,
    /// What was picked from the candidates list (`/api/v1/claims/candidates`): workers for social
    /// insurance, training records, certificates, or service points.
    #[serde(deserialize_with = "ids_or_texts")]
    pub items: Vec<String>,
    /// At most 500 characters.
    pub note: String,
}

/// Accepts a list of numbers or strings (page checkboxes send strings, API clients numbers).
fn ids_or_texts<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Integer(i64),
    }
    let raw: Vec<Raw> = serde::Deserialize::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|r| match r {
            Raw::Text(t) => t,
            Raw::Integer(n) => n.to_string(),
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimDraft {
    pub kind: ClaimKind,
    pub period: MonthRange,
    /// Distinct, in the order picked.
    pub items: Vec<i64>,
    pub note: Option<String>,
}

impl ClaimDraft {
    /// How many lines the claim will hold.
    pub fn line_count(&self) -> usize {
        if self.kind.per_month() { self.items.len() * self.period.len() as usize } else { self.items.len() }
    }
}

/// Picked ids: each a positive number, at least one, at most `max`; repeats dropped.
pub fn parse_picks(raw: &[String], max: usize) -> Result<Vec<i64>, Invalid> {
    let pick = || Invalid::new("pick_from_list", "请从列表中勾选", "pick from the list");
    if raw.len() > max {
        return Err(Invalid::new("too_many", format!("一次最多勾选{max}项"), format!("pick at most {max}")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for text in raw {
        let id: i64 = text.trim().parse().ok().filter(|n| *n > 0).ok_or_else(pick)?;
        if seen.insert(id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(Invalid::new("required", "请至少勾选一项", "pick at least one"));
    }
    Ok(out)
}

impl ClaimForm {
    pub fn parse(&self, today: NaiveDate) -> Result<ClaimDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", ClaimKind::parse(&self.kind));
        let period = match MonthRange::parse(&self.from, &self.to, today) {
            Ok(p) => Some(p),
            Err(errors) => {
                e.0.extend(errors.0);
                None
            }
        };
        let items = e.take("items", parse_picks(&self.items, MAX_ITEMS));
        let note = e.take("note", optional_text(&self.note, MAX_NOTE_CHARS));
        let (Some(kind), Some(period), Some(items), Some(note)) = (kind, period, items, note) else { return Err(e) };
        let draft = ClaimDraft { kind, period, items, note };
        if draft.line_count() > MAX_LINES {
            e.0.push(
                Invalid::new(
                    "too_many_lines",
                    format!("一次申报最多{MAX_LINES}条明细（本次{}条），请分批申报", draft.line_count()),
                    format!(
                        "a claim holds at most {MAX_LINES} lines (this one {}); claim in parts",
                        draft.line_count()
                    ),
                )
                .at("items"),
            );
        }
        if e.is_empty() { Ok(draft) } else { Err(e) }
    }
}

// ---- the checks ---------------------------------------------------------------------------

/// A time a worker was with an agency (a binding from its start to its end, if it ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

impl Span {
    /// Whether the span meets `[start, end)`.
    pub fn meets(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        self.from < end && self.to.is_none_or(|t| t >= start)
    }

    /// Whether the span meets a Beijing day.
    pub fn meets_day(&self, day: NaiveDate) -> bool {
        self.meets(day_start(day), day_start(day.succ_opt().unwrap_or(day)))
    }
}

/// What the platform knows of a worker for a social-insurance month: the worker's employee
/// bindings with the claiming agency and the agency's social insurance record for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsuranceFacts {
    pub employee: Vec<Span>,
    /// `Some((enrolled, since))` when the agency keeps a record for the worker.
    pub insurance: Option<(bool, Option<NaiveDate>)>,
}

/// A worker-month matches when the worker was an employee-based worker of the agency for some
/// of the month and the agency's social insurance for them had begun by the month's last day.
pub fn check_worker_month(facts: Option<&InsuranceFacts>, month: NaiveDate) -> Vec<LineProblem> {
    let Some(f) = facts else { return vec![LineProblem::NoRecord] };
    let mut problems = Vec::new();
    let (start, end) = month_window(month);
    if !f.employee.iter().any(|s| s.meets(start, end)) {
        problems.push(LineProblem::NotEmployee);
    }
    let last_day = next_month(month).pred_opt().unwrap_or(month);
    let insured = matches!(f.insurance, Some((true, Some(since))) if since <= last_day);
    if !insured {
        problems.push(LineProblem::NotInsured);
    }
    problems
}

/// A training record or a certificate as a claim reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFacts {
    /// Completed (training) or issued (certificate) on.
    pub on: Option<NaiveDate>,
    /// Training: the exam was passed. Certificates are always "passed".
    pub passed: bool,
    pub withdrawn: bool,
    /// The worker's bindings (of any kind) with the claiming agency.
    pub bound: Vec<Span>,
}

/// A training (or certificate) matches when it is on the record, not withdrawn, passed, dated in
/// the claimed months, and the worker was with the agency on that day.
pub fn check_record(facts: Option<&RecordFacts>, period: &MonthRange) -> Vec<LineProblem> {
    let Some(f) = facts else { return vec![LineProblem::NoRecord] };
    let mut problems = Vec::new();
    if f.withdrawn {
        problems.push(LineProblem::Withdrawn);
    }
    match f.on {
        Some(day) if f.passed => {
            if !period.contains(day) {
                problems.push(LineProblem::OutsidePeriod);
            }
            if !f.bound.iter().any(|s| s.meets_day(day)) {
                problems.push(LineProblem::NotBound);
            }
        }
        _ => problems.push(LineProblem::NotPassed),
    }
    problems
}

/// A service point as a rent claim reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointFacts {
    pub opened: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
    /// Closed, but when is not recorded (closed before the platform kept the date).
    pub closed_undated: bool,
}

/// A point-month matches when the point was open for some of the month.
pub fn check_point_month(facts: Option<&PointFacts>, month: NaiveDate) -> Vec<LineProblem> {
    let Some(f) = facts else { return vec![LineProblem::NoRecord] };
    if f.closed_undated {
        return vec![LineProblem::PointClosedUndated];
    }
    let (start, end) = month_window(month);
    let open = Span { from: f.opened, to: f.closed };
    if open.meets(start, end) { Vec::new() } else { vec![LineProblem::PointNotOpen] }
}

/// The unit a training claims: one course kind per worker and year.
pub fn training_unit(course_kind: &str, completed: Option<NaiveDate>, record_id: i64) -> String {
    match completed {
        Some(day) => format!("{course_kind}:{}", day.year()),
        // Not completed: the line cannot match and blocks nothing.
        None => format!("record:{record_id}"),
    }
}

/// The unit a certificate claims: one certificate kind, trade and level per worker.
pub fn certificate_unit(kind: &str, trade: Option<&str>, level: Option<&str>) -> String {
    format!("{kind}:{}:{}", trade.unwrap_or("-"), level.unwrap_or("-"))
}

/// A stored unit as people read it: the month; the course kind and year; the certificate's
/// kind, trade and level.
pub fn unit_label(kind: ClaimKind, unit: &str, english: bool) -> String {
    use crate::workforce::{CertificateKind, CourseKind, SkillLevel, Trade};
    match kind {
        ClaimKind::SocialInsurance | ClaimKind::PointRent => unit.to_string(),
        ClaimKind::Training => match unit.split_once(':') {
            Some(("record", _)) => if english { "not completed" } else { "未结业" }.to_string(),
            Some((course, year)) => format!("{} · {year}", CourseKind::label_of(course, english)),
            None => unit.to_string(),
        },
        ClaimKind::Appraisal => unit
            .split(':')
            .enumerate()
            .map(|(i, code)| match i {
                0 => CertificateKind::label_of(code, english),
                1 => Trade::label_of(code, english),
                _ => SkillLevel::label_of(code, english),
            })
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// The number people read for a claim: `BT2026-000012`.
pub fn claim_number(id: i64, submitted_at: DateTime<Utc>) -> String {
    format!("BT{}-{id:06}", crate::calendar::beijing_date(submitted_at).year())
}

// ---- the standard amounts -----------------------------------------------------------------

/// A standard amount per unit, as the city's regulator sets it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct StandardForm {
    pub kind: String,
    /// Yuan per unit, two decimals at most, up to ¥100,000.
    #[serde(deserialize_with = "crate::field::string_or_number")]
    pub amount: String,
}

impl StandardForm {
    pub fn parse(&self) -> Result<(ClaimKind, i64), FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("kind", ClaimKind::parse(&self.kind));
        let amount = e.take(
            "amount",
            crate::workforce::records::parse_yuan(&self.amount).and_then(|fen| {
                if (1..=MAX_STANDARD_FEN).contains(&fen) {
                    Ok(fen)
                } else {
                    Err(Invalid::new(
                        "out_of_range",
                        "标准应在0.01元到100,000元之间",
                        "the standard must be from ¥0.01 to ¥100,000",
                    ))
                }
            }),
        );
        match (kind, amount) {
            (Some(k), Some(a)) if e.is_empty() => Ok((k, a)),
            _ => Err(e),
        }
    }
}

// ---- the regulator's decision -------------------------------------------------------------

choice!(
    ClaimDecision {
        Matching = ("matching", "批准全部相符的明细", "Approve every matching line"),
        Chosen = ("chosen", "只批准勾选的明细", "Approve the chosen lines only"),
        Reject = ("reject", "驳回申报", "Reject the claim"),
    }
);

/// The regulator's decision as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ClaimDecisionForm {
    /// `matching`, `chosen` or `reject`.
    pub decision: String,
    /// For `chosen`: the lines approved (every other line is not).
    #[serde(deserialize_with = "ids_or_texts")]
    pub lines: Vec<String>,
    /// Required to reject; at most 1000 characters.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimVerdict {
    pub decision: ClaimDecision,
    pub lines: Vec<i64>,
    pub reason: Option<String>,
}

impl ClaimDecisionForm {
    pub fn parse(&self) -> Result<ClaimVerdict, FieldErrors> {
        let mut e = FieldErrors::default();
        let decision = e.take("decision", ClaimDecision::parse(&self.decision));
        let reason = match decision {
            Some(ClaimDecision::Reject) => e.take(
                "reason",
                required_text(&self.reason, MAX_REASON_CHARS).map(Some).map_err(|err| match err.code {
                    "required" => Invalid::new("required", "驳回请写明理由", "give the reason for rejecting"),
                    _ => err,
                }),
            ),
            _ => e.take("reason", optional_text(&self.reason, MAX_REASON_CHARS)),
        };
        let lines = match decision {
            Some(ClaimDecision::Chosen) => e.take(
                "lines",
                parse_picks(&self.lines, MAX_LINES).map_err(|err| match err.code {
                    "required" => Invalid::new("required", "请勾选要批准的明细", "tick the lines to approve"),
                    _ => err,
                }),
            ),
            _ => Some(Vec::new()),
        };
        match (decision, lines, reason) {
            (Some(decision), Some(lines), Some(reason)) if e.is_empty() => Ok(ClaimVerdict { decision, lines, reason }),
            _ => Err(e),
        }
    }
}

/// The claim's status once decided, from how many lines were approved.
pub fn outcome(approved: usize, lines: usize) -> ClaimStatus {
    if approved == 0 {
        ClaimStatus::Rejected
    } else if approved == lines {
        ClaimStatus::Approved
    } else {
        ClaimStatus::PartlyApproved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        day_start(day(y, m, d))
    }

    #[test]
    fn a_month_range_is_whole_months_in_the_past_at_most_twelve() {
        let today = day(2026, 6, 15);
        let r = MonthRange::parse("2026-01", "2026-03", today).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r.months(), vec![day(2026, 1, 1), day(2026, 2, 1), day(2026, 3, 1)]);
        assert!(r.contains(day(2026, 3, 31)) && !r.contains(day(2026, 4, 1)) && !r.contains(day(2025, 12, 31)));
        assert_eq!(r.label(false), "2026-01 至 2026-03");
        let across = MonthRange::parse("2025-11", "2026-02", today).unwrap();
        assert_eq!(across.len(), 4);
        assert_eq!(MonthRange::parse("2026-06", "2026-06", today).unwrap().label(true), "2026-06");
        let field = |from: &str, to: &str| {
            let e = MonthRange::parse(from, to, today).unwrap_err();
            (e.0[0].field.clone(), e.0[0].code)
        };
        assert_eq!(field("2026-07", "2026-07"), ("to".into(), "future_month"));
        assert_eq!(field("2026-03", "2026-01"), ("to".into(), "to_before_from"));
        assert_eq!(field("2025-01", "2026-01"), ("to".into(), "too_many_months"));
        assert_eq!(field("2026-1", "2026-02"), ("from".into(), "month"));
        assert_eq!(field("", "2026-02"), ("from".into(), "required"));
        assert_eq!(field("2026-13", "2026-02"), ("from".into(), "month"));
        assert_eq!(MonthRange::parse("2025-02", "2026-01", today).unwrap().len(), 12);
    }

    #[test]
    fn a_claim_form_parses_picks_and_bounds_its_lines() {
        let today = day(2026, 6, 15);
        let form = ClaimForm {
            kind: "social_insurance".into(),
            from: "2026-01".into(),
            to: "2026-03".into(),
            items: vec!["7".into(), "9".into(), "7".into()],
            note: String::new(),
        };
        let draft = form.parse(today).unwrap();
        assert_eq!(draft.items, vec![7, 9]);
        assert_eq!(draft.line_count(), 6);
        let training = ClaimForm { kind: "training".into(), ..form.clone() };
        assert_eq!(training.parse(today).unwrap().line_count(), 2);
        let bad = ClaimForm { kind: "pension".into(), items: vec!["x".into()], to: "2027-01".into(), ..form.clone() };
        let errors = bad.parse(today).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "to", "items"]);
        let none = ClaimForm { items: vec![], ..form.clone() };
        assert_eq!(none.parse(today).unwrap_err().0[0].code, "required");
        let many = ClaimForm {
            items: (1..=1001).map(|n| n.to_string()).collect(),
            from: "2025-07".into(),
            to: "2026-06".into(),
            ..form
        };
        assert_eq!(many.parse(today).unwrap_err().0[0].code, "too_many_lines");
        let json: ClaimForm = serde_json::from_str(r#"{"kind":"training","items":[3,"4"]}"#).unwrap();
        assert_eq!(json.items, vec!["3", "4"]);
    }

    #[test]
    fn a_worker_month_needs_employment_and_insurance_in_that_month() {
        let employed = Span { from: at(2026, 2, 10), to: None };
        let facts = InsuranceFacts { employee: vec![employed], insurance: Some((true, Some(day(2026, 3, 31)))) };
        assert_eq!(
            check_worker_month(Some(&facts), day(2026, 1, 1)),
            [LineProblem::NotEmployee, LineProblem::NotInsured]
        );
        assert_eq!(check_worker_month(Some(&facts), day(2026, 2, 1)), [LineProblem::NotInsured]);
        assert!(check_worker_month(Some(&facts), day(2026, 3, 1)).is_empty(), "insured from the month's last day");
        assert!(check_worker_month(Some(&facts), day(2026, 5, 1)).is_empty());
        let ended = InsuranceFacts {
            employee: vec![Span { from: at(2025, 1, 1), to: Some(at(2026, 3, 5)) }],
            insurance: Some((true, Some(day(2025, 1, 1)))),
        };
        assert!(check_worker_month(Some(&ended), day(2026, 3, 1)).is_empty(), "employed for part of March");
        assert_eq!(check_worker_month(Some(&ended), day(2026, 4, 1)), [LineProblem::NotEmployee]);
        let left = InsuranceFacts { insurance: Some((false, Some(day(2025, 1, 1)))), ..ended.clone() };
        assert_eq!(check_worker_month(Some(&left), day(2026, 2, 1)), [LineProblem::NotInsured]);
        let none = InsuranceFacts { insurance: None, ..ended };
        assert_eq!(check_worker_month(Some(&none), day(2026, 2, 1)), [LineProblem::NotInsured]);
        assert_eq!(check_worker_month(None, day(2026, 2, 1)), [LineProblem::NoRecord]);
        // The Beijing month: a binding that ended at 23:30 on 31 January, Beijing time, is not February's.
        let late = InsuranceFacts {
            employee: vec![Span { from: at(2025, 1, 1), to: Some(at(2026, 2, 1) - chrono::Duration::minutes(30)) }],
            insurance: Some((true, Some(day(2025, 1, 1)))),
        };
        assert_eq!(check_worker_month(Some(&late), day(2026, 2, 1)), [LineProblem::NotEmployee]);
    }

    #[test]
    fn a_training_or_certificate_is_passed_dated_in_the_period_and_the_worker_was_with_the_agency() {
        let period = MonthRange { first: day(2026, 1, 1), last: day(2026, 3, 1) };
        let bound = vec![Span { from: at(2025, 6, 1), to: None }];
        let good = RecordFacts { on: Some(day(2026, 2, 14)), passed: true, withdrawn: false, bound: bound.clone() };
        assert!(check_record(Some(&good), &period).is_empty());
        let failed = RecordFacts { passed: false, ..good.clone() };
        assert_eq!(check_record(Some(&failed), &period), [LineProblem::NotPassed]);
        let late = RecordFacts { on: Some(day(2026, 4, 2)), ..good.clone() };
        assert_eq!(check_record(Some(&late), &period), [LineProblem::OutsidePeriod]);
        let before = RecordFacts { bound: vec![Span { from: at(2026, 3, 1), to: None }], ..good.clone() };
        assert_eq!(check_record(Some(&before), &period), [LineProblem::NotBound]);
        let withdrawn = RecordFacts { withdrawn: true, ..good };
        assert_eq!(check_record(Some(&withdrawn), &period), [LineProblem::Withdrawn]);
        assert_eq!(check_record(None, &period), [LineProblem::NoRecord]);
    }

    #[test]
    fn a_point_month_needs_the_point_open_for_part_of_it() {
        let point = PointFacts { opened: at(2026, 2, 20), closed: Some(at(2026, 4, 3)), closed_undated: false };
        assert_eq!(check_point_month(Some(&point), day(2026, 1, 1)), [LineProblem::PointNotOpen]);
        assert!(check_point_month(Some(&point), day(2026, 2, 1)).is_empty());
        assert!(check_point_month(Some(&point), day(2026, 4, 1)).is_empty());
        assert_eq!(check_point_month(Some(&point), day(2026, 5, 1)), [LineProblem::PointNotOpen]);
        let undated = PointFacts { closed: None, closed_undated: true, ..point };
        assert_eq!(check_point_month(Some(&undated), day(2026, 3, 1)), [LineProblem::PointClosedUndated]);
    }

    #[test]
    fn units_and_numbers() {
        assert_eq!(training_unit("pre_job", Some(day(2026, 2, 1)), 9), "pre_job:2026");
        assert_eq!(training_unit("pre_job", None, 9), "record:9");
        assert_eq!(
            certificate_unit("occupational", Some("maternity"), Some("level4")),
            "occupational:maternity:level4"
        );
        assert_eq!(claim_number(12, at(2026, 1, 1)), "BT2026-000012");
        assert_eq!(unit_label(ClaimKind::Training, "pre_job:2026", false), "岗前培训 · 2026");
        assert_eq!(unit_label(ClaimKind::Appraisal, "occupational:maternity:level4", true).matches(" · ").count(), 2);
        assert_eq!(unit_label(ClaimKind::Appraisal, "childcare:-:-", false), "育婴员证书");
        assert_eq!(unit_label(ClaimKind::SocialInsurance, "2026-03", true), "2026-03");
        assert_eq!(LineProblem::describe("not_employee,not_insured", true).len(), 2);
        assert_eq!(LineProblem::store(&[LineProblem::NotPassed, LineProblem::NotBound]), "not_passed,not_bound");
    }

    #[test]
    fn decisions_need_a_reason_to_reject_and_lines_to_choose() {
        let reject = ClaimDecisionForm { decision: "reject".into(), ..Default::default() };
        assert_eq!(reject.parse().unwrap_err().0[0].field, "reason");
        let chosen = ClaimDecisionForm { decision: "chosen".into(), ..Default::default() };
        assert_eq!(chosen.parse().unwrap_err().0[0].field, "lines");
        let chosen = ClaimDecisionForm { decision: "chosen".into(), lines: vec!["4".into()], ..Default::default() };
        assert_eq!(chosen.parse().unwrap().lines, vec![4]);
        let matching = ClaimDecisionForm { decision: "matching".into(), ..Default::default() };
        assert_eq!(matching.parse().unwrap().decision, ClaimDecision::Matching);
        assert_eq!(outcome(0, 3), ClaimStatus::Rejected);
        assert_eq!(outcome(3, 3), ClaimStatus::Approved);
        assert_eq!(outcome(1, 3), ClaimStatus::PartlyApproved);
    }

    #[test]
    fn standards_are_in_range() {
        let ok = StandardForm { kind: "social_insurance".into(), amount: "300".into() };
        assert_eq!(ok.parse().unwrap(), (ClaimKind::SocialInsurance, 30_000));
        let zero = StandardForm { amount: "0".into(), ..ok.clone() };
        assert_eq!(zero.parse().unwrap_err().0[0].code, "out_of_range");
        let huge = StandardForm { amount: "100000.01".into(), ..ok };
        assert_eq!(huge.parse().unwrap_err().0[0].code, "out_of_range");
    }
}
