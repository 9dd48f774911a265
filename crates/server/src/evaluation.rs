//! Third-party evaluation below the pages and the API: who acts (the city's regulator opens and
//! publishes; a district regulator reads their district; an evaluator acts for its organisation),
//! which rounds a viewer may see (unpublished ones only regulators and the organisations assigned),
//! the platform's own figures offered beside the scoring form, and results in words.

use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::oversight::evaluation::{Dimension, EvaluatedKind, points};
use jiazheng_core::workforce::compliance::Condition;
use jiazheng_store::accounts::Session;
use jiazheng_store::oversight::evaluation::{
    AgencyEvaluation, EvaluationResult, EvaluationRound, EvaluationSubject, RoundsFor,
};
use jiazheng_store::workforce::board::BoardQuery;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

/// How a viewer stands towards evaluation rounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// A regulator: every round; a district regulator only their district's subjects.
    Regulator { district: Option<DivisionCode>, city: bool },
    /// An evaluator: the rounds its organisation is assigned to (and published ones).
    Evaluator { org: i64 },
    /// Anyone else, signed in or not: published rounds only.
    Public,
}

impl Reader {
    pub fn of(viewer: &Viewer) -> Self {
        match viewer.session.as_ref().map(|s| &s.principal) {
            Some(Principal { role: Role::Regulator, scope: Scope::City, .. }) => {
                Reader::Regulator { district: None, city: true }
            }
            Some(Principal { role: Role::Regulator, scope: Scope::District(d), .. }) => {
                Reader::Regulator { district: Some(d.clone()), city: false }
            }
            Some(p) if p.evaluator_org().is_some() => Reader::Evaluator { org: p.evaluator_org().unwrap_or(0) },
            _ => Reader::Public,
        }
    }

    pub fn rounds(&self) -> RoundsFor {
        match self {
            Reader::Regulator { .. } => RoundsFor::All,
            Reader::Evaluator { org } => RoundsFor::Org(*org),
            Reader::Public => RoundsFor::Published,
        }
    }

    /// The district whose subjects a district regulator sees.
    pub fn district(&self) -> Option<&DivisionCode> {
        match self {
            Reader::Regulator { district, .. } => district.as_ref(),
            _ => None,
        }
    }
}

/// The city's regulator, who opens, assigns and publishes; a district regulator only reads.
pub fn city_regulator(viewer: &Viewer) -> Result<&Session, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    match session.principal.scope {
        Scope::City => Ok(session),
        _ => Err(AppError::Forbidden),
    }
}

/// An evaluator account and its organisation.
pub fn evaluator(viewer: &Viewer) -> Result<(&Session, i64), AppError> {
    let session = viewer.require_role(&[Role::Evaluator])?;
    session.principal.evaluator_org().map(|org| (session, org)).ok_or(AppError::Forbidden)
}

/// A round the viewer may see: regulators any; an organisation those it is assigned to; anyone
/// else a published one. Others are not found.
pub async fn readable_round(state: &AppState, viewer: &Viewer, id: i64) -> Result<(EvaluationRound, Reader), AppError> {
    let round = state.store.evaluation_round(id).await?;
    let reader = Reader::of(viewer);
    let visible = match &reader {
        Reader::Regulator { .. } => true,
        _ if round.is_published() => true,
        Reader::Evaluator { org } => {
            state.store.evaluator_subjects(id, *org, jiazheng_store::PageRequest::new(Some(1), Some(1))).await.is_ok()
        }
        Reader::Public => false,
    };
    if visible { Ok((round, reader)) } else { Err(AppError::NotFound) }
}

/// A subject a regulator of that district (or the city) may read.
pub fn regulator_sees(reader: &Reader, subject: &EvaluationSubject) -> bool {
    match reader {
        Reader::Regulator { district: Some(d), .. } => subject.district().is_some_and(|s| s.is_within(d)),
        Reader::Regulator { district: None, .. } => true,
        _ => false,
    }
}

/// One figure the platform itself holds, offered beside the scoring form: what it is, the value
/// in words, and the dimension it speaks to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlatformFigure {
    /// `employment`, `community`, … ; empty when it speaks to none in particular.
    pub dimension: String,
    pub label_zh: String,
    pub label_en: String,
    pub value_zh: String,
    pub value_en: String,
}

impl PlatformFigure {
    pub fn label(&self, lang: Lang) -> &str {
        lang.pick(&self.label_zh, &self.label_en)
    }

    pub fn value(&self, lang: Lang) -> &str {
        lang.pick(&self.value_zh, &self.value_en)
    }
}

fn share(part: i64, whole: i64) -> String {
    if whole <= 0 { "—".to_string() } else { format!("{}% ({part}/{whole})", (part * 1000 / whole + 5) / 10) }
}

/// The same words in both languages (a number, a name).
fn same(value: String) -> (String, String) {
    (value.clone(), value)
}

/// The platform's own figures about a subject, as of now.
pub async fn platform_figures(state: &AppState, subject: &EvaluationSubject) -> Result<Vec<PlatformFigure>, AppError> {
    let store = &state.store;
    let counts = store.platform_counts(subject).await?;
    let mut out = Vec::new();
    let mut add = |d: Option<Dimension>, zh: &str, en: &str, (value_zh, value_en): (String, String)| {
        out.push(PlatformFigure {
            dimension: d.map(|d| d.as_str().to_string()).unwrap_or_default(),
            label_zh: zh.into(),
            label_en: en.into(),
            value_zh,
            value_en,
        })
    };
    match subject.kind() {
        EvaluatedKind::Agency => {
            let Some(id) = subject.agency_id else { return Ok(out) };
            let agency = store.agency(id).await?;
            let w = store.agency_workforce(id).await?;
            add(
                Some(Dimension::Employment),
                "员工制服务员占比（有效员工制关联/全部有效关联）",
                "Employee-based share (active employee bindings / all active bindings)",
                same(share(w.employees, w.employees + w.intermediaries)),
            );
            add(
                Some(Dimension::Community),
                "运营中的服务网点",
                "Service points open",
                same(counts.service_points_open.to_string()),
            );
            add(
                Some(Dimension::Brand),
                "登记的品牌",
                "Registered brand",
                same(agency.brand_name.clone().filter(|b| !b.is_empty()).unwrap_or_else(|| "—".into())),
            );
            let credit = store.agency_credit(id).await?;
            add(
                Some(Dimension::Quality),
                "经确认的服务 / 成立的投诉",
                "Confirmed services / upheld complaints",
                same(format!("{} / {}", credit.confirmed_services, credit.upheld_complaints)),
            );
            let board =
                store.compliance_board_rows(id, &BoardQuery::default(), crate::api::workers::today()).await?.rows;
            let met = |c: Condition| board.iter().filter(|r| r.compliance.check(c).standing.is_met()).count() as i64;
            let n = board.len() as i64;
            let rates = [
                (Dimension::Training, Condition::PreJobTraining, "岗前培训达标", "Pre-job training met"),
                (Dimension::Training, Condition::Retraining, "两年内复训达标", "Retraining within 2 years met"),
                (Dimension::Quality, Condition::HealthCheck, "健康体检有效", "Health check valid"),
                (Dimension::Integrity, Condition::Insurance, "保险有效", "Insurance valid"),
            ];
            for (d, c, zh, en) in rates {
                add(Some(d), zh, en, same(share(met(c), n)));
            }
            let grade = crate::api::credit::agency_grade_of(state, id).await?;
            add(
                Some(Dimension::Integrity),
                "信用评分（平台计算）",
                "Credit grade (computed by the platform)",
                same(format!("{} · {:.1}", grade.letter, grade.score)),
            );
            let listed = credit.listings.first().map(|l| l.list.clone()).unwrap_or_default();
            let list = match listed.as_str() {
                "red" => ("红名单".to_string(), "Red list".to_string()),
                "black" => ("黑名单".to_string(), "Black list".to_string()),
                _ => same("—".to_string()),
            };
            add(Some(Dimension::Integrity), "红黑名单", "Red or black list", list);
        }
        EvaluatedKind::Provider => {
            add(Some(Dimension::Training), "开设课程", "Courses", same(counts.courses.to_string()));
            add(
                Some(Dimension::Training),
                "培训人次 / 考试通过",
                "Trainees / exams passed",
                same(format!("{} / {}", counts.trainings, counts.trainings_passed)),
            );
            add(
                Some(Dimension::Community),
                "运营中的家政驿站",
                "Stations running",
                same(counts.stations_active.to_string()),
            );
        }
        EvaluatedKind::Community => {
            add(
                Some(Dimension::Community),
                "服务本社区的网点",
                "Service points in the community",
                same(counts.service_points_open.to_string()),
            );
            add(Some(Dimension::Community), "家政驿站", "Stations running", same(counts.stations_active.to_string()));
            add(Some(Dimension::Community), "需求调查答卷", "Survey answers", same(counts.survey_answers.to_string()));
            add(None, "志愿服务活动", "Volunteer events", same(counts.volunteer_events.to_string()));
            let coverage = state.coverage().await?;
            let covered = subject
                .community_code
                .as_deref()
                .and_then(|c| coverage.units.iter().find(|u| u.code == c))
                .is_some_and(|u| u.covered.is_some());
            let words =
                if covered { ("是".to_string(), "Yes".to_string()) } else { ("否".to_string(), "No".to_string()) };
            add(Some(Dimension::Community), "网点覆盖", "Covered by a service point", words);
        }
    }
    Ok(out)
}

/// A result as a line of a table: rank, name, kind, district, the total and each dimension in
/// points (`86.35`), and whether a front-runner.
#[derive(Debug, Clone)]
pub struct ResultLine {
    pub subject_id: i64,
    pub rank: i64,
    pub name: String,
    pub kind: &'static str,
    pub district: String,
    pub total: String,
    pub dimensions: Vec<String>,
    pub cards: i64,
    pub front_runner: bool,
    pub agency_id: Option<i64>,
}

impl ResultLine {
    pub fn new(r: &EvaluationResult, lang: Lang) -> Self {
        Self {
            subject_id: r.subject.id,
            rank: r.rank,
            name: r.subject.name.clone(),
            kind: r.subject.kind().label(lang.is_en()),
            district: r.subject.district_name.clone(),
            total: points(r.total_hundredths),
            dimensions: r.dimensions.iter().map(|d| points(*d)).collect(),
            cards: r.cards,
            front_runner: r.front_runner,
            agency_id: r.subject.agency_id,
        }
    }
}

/// An agency's latest published result in one line: the round, the total, the rank among the
/// agencies ranked, front-runner or not, and the date of the data.
pub fn agency_evaluation_words(e: &AgencyEvaluation, lang: Lang) -> String {
    let day = e.published_at.with_timezone(&jiazheng_core::calendar::beijing()).format("%Y-%m-%d");
    let total = points(e.total_hundredths);
    match lang {
        Lang::Zh => format!(
            "{} · {}分 · 第{}名（共{}家）{} · {}发布",
            e.round_name,
            total,
            e.rank,
            e.ranked,
            if e.front_runner { " · 领跑企业" } else { "" },
            day
        ),
        Lang::En => format!(
            "{} · {} points · ranked {} of {}{} · published {}",
            e.round_name,
            total,
            e.rank,
            e.ranked,
            if e.front_runner { " · front-runner" } else { "" },
            day
        ),
    }
}

/// The dimensions with their weights, as a round shows them: (label, weight%).
pub fn weight_lines(weights: &jiazheng_core::oversight::evaluation::Weights, lang: Lang) -> Vec<(&'static str, i64)> {
    weights.pairs().map(|(d, w)| (d.label(lang.is_en()), w)).collect()
}
