//! Third-party evaluation: evaluator organisations and their declared ties to agencies; rounds
//! opened by the regulator with their weights, subjects and assigned organisations; scores with
//! evidence, replaced until the scorecard is submitted; publication, which freezes the results;
//! and the front-runners designated from a published round.
//!
//! Every write that changes a round first takes the round's row (`UPDATE … SET status = status`):
//! on PostgreSQL that row lock orders scoring, submission and publication; SQLite has one writer.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::evaluation::{
    Dimension, EvaluatedKind, Missing, OrgDraft, Period, RoundDraft, RoundStatus, ScoreDraft, Scorecard, SubjectResult,
    Weights, kinds_mask, kinds_of, points, tally,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::market::write_tx;
use crate::oversight::audit::{AuditRecord, audit_in};
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    /// A third-party evaluator organisation (第三方评价机构).
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct EvaluatorOrg {
        pub id: i64,
        pub name: String,
        pub uscc: Option<String>,
        pub contact: String,
        pub created_at: DateTime<Utc>,
        /// Evaluator accounts of the organisation that can sign in.
        pub accounts: i64,
        /// Agencies it has declared ties to.
        pub conflicts: i64,
    }
}

row! {
    /// An organisation's declared tie to an agency: it may not score that agency.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct DeclaredTie {
        pub org_id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub tie: String,
        pub declared_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct EvaluationRound {
        pub id: i64,
        pub name: String,
        pub year: i64,
        /// `year`, `h1`, `h2`, `q1` … `q4`.
        pub period: String,
        /// What is evaluated, a bit mask over agency (1), provider (2), community (4).
        pub kinds: i64,
        /// `open` or `published`.
        pub status: String,
        pub opened_at: DateTime<Utc>,
        pub published_at: Option<DateTime<Utc>>,
        pub subjects: i64,
    }
}

impl EvaluationRound {
    pub fn status(&self) -> RoundStatus {
        RoundStatus::parse(&self.status).unwrap_or(RoundStatus::Open)
    }

    pub fn is_published(&self) -> bool {
        self.status() == RoundStatus::Published
    }

    pub fn kind_list(&self) -> Vec<EvaluatedKind> {
        kinds_of(self.kinds)
    }

    /// `2025 全年` / `2025 · Whole year`.
    pub fn period_words(&self, english: bool) -> String {
        let period = Period::label_of(&self.period, english);
        if english { format!("{} · {period}", self.year) } else { format!("{}年{period}", self.year) }
    }
}

const SELECT_ROUND: &str = "SELECT r.id, r.name, r.year, r.period, r.kinds, r.status, r.opened_at, r.published_at,
        (SELECT COUNT(*) FROM evaluation_subjects s WHERE s.round_id = r.id) AS subjects
    FROM evaluation_rounds r";

/// Which rounds a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundsFor {
    /// Regulators: every round.
    All,
    /// The public and agencies: published rounds only.
    Published,
    /// An evaluator organisation: the rounds it is assigned to.
    Org(i64),
}

row! {
    /// What a round evaluates: an agency, a school or a community.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct EvaluationSubject {
        pub id: i64,
        pub round_id: i64,
        /// `agency`, `provider` or `community`.
        pub kind: String,
        pub agency_id: Option<i64>,
        pub provider_id: Option<i64>,
        pub community_code: Option<String>,
        pub name: String,
        pub district_code: String,
        pub district_name: String,
    }
}

impl EvaluationSubject {
    pub fn kind(&self) -> EvaluatedKind {
        EvaluatedKind::parse(&self.kind).unwrap_or(EvaluatedKind::Agency)
    }

    pub fn district(&self) -> Option<DivisionCode> {
        DivisionCode::parse(&self.district_code).ok()
    }
}

const SELECT_SUBJECT: &str = "SELECT s.id, s.round_id, s.kind, s.agency_id, s.provider_id, s.community_code,
        COALESCE(ag.name, tp.name, cm.name, '') AS name, s.district_code, dv.name AS district_name
    FROM evaluation_subjects s LEFT JOIN agencies ag ON ag.id = s.agency_id
    LEFT JOIN training_providers tp ON tp.id = s.provider_id LEFT JOIN divisions cm ON cm.code = s.community_code
    JOIN divisions dv ON dv.code = s.district_code";

/// A subject as the audit names it: `round · subject`.
const SUBJECT_LABEL: &str =
    "SELECT r.name || ' · ' || COALESCE(ag.name, tp.name, cm.name, '') FROM evaluation_subjects s
    JOIN evaluation_rounds r ON r.id = s.round_id LEFT JOIN agencies ag ON ag.id = s.agency_id
    LEFT JOIN training_providers tp ON tp.id = s.provider_id LEFT JOIN divisions cm ON cm.code = s.community_code
    WHERE s.id = $1";

/// Agencies, then schools, then communities.
const KIND_ORDER: &str = "CASE s.kind WHEN 'agency' THEN 1 WHEN 'provider' THEN 2 ELSE 3 END";

/// A subject a regulator adds to a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewSubject {
    Agency(i64),
    Provider(i64),
    Community(DivisionCode),
}

impl NewSubject {
    pub fn kind(&self) -> EvaluatedKind {
        match self {
            Self::Agency(_) => EvaluatedKind::Agency,
            Self::Provider(_) => EvaluatedKind::Provider,
            Self::Community(_) => EvaluatedKind::Community,
        }
    }
}

row! {
    /// An organisation assigned to a round: to one subject, or to all (`subject_id` empty).
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct EvaluationAssignment {
        pub id: i64,
        pub org_id: i64,
        pub org_name: String,
        pub subject_id: Option<i64>,
        pub subject_name: Option<String>,
        pub assigned_at: DateTime<Utc>,
    }
}

/// How far one organisation is with one subject.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardProgress {
    pub org_id: i64,
    pub org_name: String,
    /// Dimensions scored, of seven.
    pub scored: i64,
    pub submitted: bool,
}

/// A subject of an evaluator's list: what it is, whether the organisation is tied to it, and how
/// far its own scorecard is.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvaluatorSubject {
    pub subject: EvaluationSubject,
    /// A tie the organisation declared: it may not score this subject.
    pub tied: bool,
    pub scored: i64,
    pub submitted: bool,
}

row! {
    /// One dimension's score by one organisation, with its evidence.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct EvaluationScore {
        pub org_id: i64,
        pub org_name: String,
        pub dimension: String,
        pub score: i64,
        pub note: Option<String>,
        pub evidence_id: Option<i64>,
        /// `application/pdf`, `image/jpeg` or `image/png`.
        pub evidence_mime: Option<String>,
        pub scored_by_name: String,
        pub scored_at: DateTime<Utc>,
    }
}

/// One dimension scored, with a new evidence file when one came.
#[derive(Debug, Clone)]
pub struct ScoreEntry {
    pub draft: ScoreDraft,
    pub file: Option<(EvidenceType, Vec<u8>)>,
}

/// A subject's result in a round, frozen (published) or as it stands (open).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvaluationResult {
    pub subject: EvaluationSubject,
    /// The weighted total in hundredths of a point (8635 is 86.35).
    pub total_hundredths: i64,
    /// Rank within its kind; equal totals share a rank.
    pub rank: i64,
    /// Submitted scorecards counted.
    pub cards: i64,
    /// Each dimension's mean in hundredths, in the plan's order.
    pub dimensions: Vec<i64>,
    pub front_runner: bool,
}

row! {
    struct FrozenRow {
        subject_id: i64,
        total_hundredths: i64,
        rank: i64,
        cards: i64,
        front_runner: bool,
    }
}

row! {
    /// An agency's latest published result, for its public page.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct AgencyEvaluation {
        pub round_id: i64,
        pub round_name: String,
        pub published_at: DateTime<Utc>,
        pub total_hundredths: i64,
        pub rank: i64,
        /// Agencies ranked in the round.
        pub ranked: i64,
        pub front_runner: bool,
    }
}

/// Counts the scoring page offers beside the form, read from the platform's own records.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlatformCounts {
    pub service_points_open: i64,
    pub courses: i64,
    pub trainings: i64,
    pub trainings_passed: i64,
    pub stations_active: i64,
    pub survey_answers: i64,
    pub volunteer_events: i64,
}

/// Everything a round's results are computed from.
struct RoundFacts {
    subjects: Vec<(i64, EvaluatedKind)>,
    /// Assigned, free of ties: (subject, organisation).
    expected: Vec<(i64, i64)>,
    cards: Vec<(i64, i64, Scorecard)>,
}

/// Loads a round's facts with `$exec` (a pool, or `&mut *tx`); evaluates to `Result<RoundFacts>`.
macro_rules! load_facts {
    ($exec:expr, $round:expr) => {
        async {
            let subjects: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, kind FROM evaluation_subjects WHERE round_id = $1 ORDER BY id")
                    .bind($round)
                    .fetch_all($exec)
                    .await?;
            let expected: Vec<(i64, i64)> = sqlx::query_as(EXPECTED).bind($round).fetch_all($exec).await?;
            let scores: Vec<(i64, i64, String, i64)> = sqlx::query_as(
                "SELECT sc.subject_id, sc.org_id, sc.dimension, sc.score FROM evaluation_scores sc
                 JOIN evaluation_submissions sb
                   ON sb.round_id = sc.round_id AND sb.subject_id = sc.subject_id AND sb.org_id = sc.org_id
                 WHERE sc.round_id = $1",
            )
            .bind($round)
            .fetch_all($exec)
            .await?;
            Ok::<RoundFacts, StoreError>(RoundFacts::new(subjects, expected, scores))
        }
        .await
    };
}

/// The (subject, organisation) pairs a round expects a scorecard of: assigned to the subject or
/// to the whole round, and not tied to it.
const EXPECTED: &str = "SELECT DISTINCT s.id, a.org_id FROM evaluation_subjects s
    JOIN evaluation_assignments a ON a.round_id = s.round_id AND (a.subject_id IS NULL OR a.subject_id = s.id)
    WHERE s.round_id = $1
      AND NOT EXISTS (SELECT 1 FROM evaluator_conflicts c WHERE c.org_id = a.org_id AND c.agency_id = s.agency_id)
    ORDER BY s.id, a.org_id";

impl RoundFacts {
    fn new(subjects: Vec<(i64, String)>, expected: Vec<(i64, i64)>, scores: Vec<(i64, i64, String, i64)>) -> Self {
        let mut rows: HashMap<(i64, i64), Vec<(String, i64)>> = HashMap::new();
        for (subject, org, dimension, score) in scores {
            rows.entry((subject, org)).or_default().push((dimension, score));
        }
        let mut cards: Vec<(i64, i64, Scorecard)> = rows
            .into_iter()
            .filter_map(|((s, o), rows)| Scorecard::from_rows(&rows).map(|card| (s, o, card)))
            .collect();
        cards.sort_by_key(|(s, o, _)| (*s, *o));
        Self {
            subjects: subjects
                .into_iter()
                .filter_map(|(id, kind)| EvaluatedKind::parse(&kind).ok().map(|k| (id, k)))
                .collect(),
            expected,
            cards,
        }
    }

    fn tally(&self, weights: &Weights) -> (Vec<SubjectResult>, Vec<Missing>) {
        tally(weights, &self.subjects, &self.expected, &self.cards)
    }
}

/// Takes the round's row for this transaction while it is open: answers `NotFound` for no such
/// round and a conflict once it is published.
macro_rules! lock_open {
    ($tx:ident, $round:expr) => {{
        let done = sqlx::query("UPDATE evaluation_rounds SET status = status WHERE id = $1 AND status = 'open'")
            .bind($round)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if done == 0 {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM evaluation_rounds WHERE id = $1")
                .bind($round)
                .fetch_optional(&mut *$tx)
                .await?;
            return Err(match found {
                Some(_) => StoreError::Conflict { what: "round_published", existing_id: None },
                None => StoreError::NotFound,
            });
        }
    }};
}

/// Whether `$org` may score `$subject` of `$round` now, inside `$tx`: the organisation must be
/// assigned to the round (else not found), to this subject or the whole round, and free of a
/// declared tie to it (else refused). Evaluates to the subject's `(kind, agency_id)`.
macro_rules! may_score {
    ($tx:ident, $round:expr, $subject:expr, $org:expr) => {{
        let subject: Option<(String, Option<i64>)> =
            sqlx::query_as("SELECT kind, agency_id FROM evaluation_subjects WHERE id = $1 AND round_id = $2")
                .bind($subject)
                .bind($round)
                .fetch_optional(&mut *$tx)
                .await?;
        let assigned: Vec<(Option<i64>,)> =
            sqlx::query_as("SELECT subject_id FROM evaluation_assignments WHERE round_id = $1 AND org_id = $2")
                .bind($round)
                .bind($org)
                .fetch_all(&mut *$tx)
                .await?;
        let Some((kind, agency)) = subject else { return Err(StoreError::NotFound) };
        if assigned.is_empty() {
            return Err(StoreError::NotFound);
        }
        if !assigned.iter().any(|(s,)| s.is_none() || *s == Some($subject)) {
            return Err(StoreError::Refused("the organisation is not assigned to this subject".into()));
        }
        if let Some(agency) = agency {
            let tied: Option<(i64,)> =
                sqlx::query_as("SELECT agency_id FROM evaluator_conflicts WHERE org_id = $1 AND agency_id = $2")
                    .bind($org)
                    .bind(agency)
                    .fetch_optional(&mut *$tx)
                    .await?;
            if tied.is_some() {
                return Err(StoreError::Refused("the organisation declared a tie to this agency".into()));
            }
        }
        (kind, agency)
    }};
}

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

fn weights_json(weights: &Weights) -> Value {
    Value::Object(weights.pairs().map(|(d, w)| (d.as_str().to_string(), json!(w))).collect())
}

impl Store {
    // ---- evaluator organisations and their ties ----------------------------------------------

    /// Registers an organisation; a name or code already registered is a field error.
    pub async fn create_evaluator_org(&self, draft: &OrgDraft, actor: Option<i64>) -> Result<i64> {
        let at = now();
        write_tx!(self, tx => async {
            let named: Option<(i64,)> = sqlx::query_as("SELECT id FROM evaluator_orgs WHERE name = $1")
                .bind(&draft.name).fetch_optional(&mut *tx).await?;
            if named.is_some() {
                return Err(invalid("name", Invalid::new("taken", "该名称已登记", "this name is registered already")));
            }
            let coded: Option<(i64,)> = sqlx::query_as("SELECT id FROM evaluator_orgs WHERE uscc = $1")
                .bind(&draft.uscc).fetch_optional(&mut *tx).await?;
            if coded.is_some() {
                return Err(invalid("uscc", Invalid::new("taken", "该代码已登记", "this code is registered already")));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO evaluator_orgs (name, uscc, contact, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
                 RETURNING id",
            )
            .bind(&draft.name).bind(&draft.uscc).bind(&draft.contact).bind(actor).bind(at)
            .fetch_one(&mut *tx).await.map_err(StoreError::conflict_on("evaluator_org"))?;
            if let Some(actor) = actor {
                // Audit: evaluation.org_create
                audit_in!(&mut *tx, &AuditRecord {
                    actor, action: "evaluation.org_create", subject_kind: "evaluator_org", subject_id: id,
                    subject_label: draft.name.clone(), before: None,
                    after: Some(json!({"name": draft.name, "uscc": draft.uscc, "contact": draft.contact})),
                })?;
            }
            Ok(id)
        }.await)
    }

    pub async fn evaluator_orgs(&self, page: PageRequest) -> Result<Page<EvaluatorOrg>> {
        let items: Vec<EvaluatorOrg> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_ORG} ORDER BY o.name LIMIT $1 OFFSET $2"
        ))).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(t) => t,
            None => {
                let (n,): (i64,) =
                    on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM evaluator_orgs").fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// Every organisation by name, for pickers (they are few).
    pub async fn evaluator_org_names(&self) -> Result<Vec<(i64, String)>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT id, name FROM evaluator_orgs ORDER BY name LIMIT 500").fetch_all(p).await?),
        )
    }

    pub async fn evaluator_org(&self, id: i64) -> Result<EvaluatorOrg> {
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_ORG} WHERE o.id = $1"))).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn evaluator_org_by_name(&self, name: &str) -> Result<EvaluatorOrg> {
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_ORG} WHERE o.name = $1"))).bind(name).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The ties an organisation declared, newest first.
    pub async fn declared_ties(&self, org: i64) -> Result<Vec<DeclaredTie>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT c.org_id, c.agency_id, a.name AS agency_name, c.tie, c.declared_at FROM evaluator_conflicts c
             JOIN agencies a ON a.id = c.agency_id WHERE c.org_id = $1 ORDER BY c.declared_at DESC, c.agency_id LIMIT 500",
        ).bind(org).fetch_all(p).await?))
    }

    /// The organisation declares a tie to an agency; declaring it twice is a conflict.
    pub async fn declare_tie(&self, org: i64, agency: i64, tie: &str, actor: i64) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            let name: Option<(String,)> =
                sqlx::query_as("SELECT name FROM agencies WHERE id = $1").bind(agency).fetch_optional(&mut *tx).await?;
            let Some((agency_name,)) = name else {
                return Err(invalid("agency", Invalid::new("no_match", "没有找到该企业", "no such agency")));
            };
            sqlx::query(
                "INSERT INTO evaluator_conflicts (org_id, agency_id, tie, declared_by, declared_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org).bind(agency).bind(tie).bind(actor).bind(at)
            .execute(&mut *tx).await.map_err(StoreError::conflict_on("tie_declared"))?;
            // Audit: evaluation.tie_declare
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.tie_declare", subject_kind: "agency", subject_id: agency,
                subject_label: agency_name, before: None, after: Some(json!({"org_id": org, "tie": tie})),
            })?;
            Ok(())
        }.await)
    }

    /// The organisation withdraws a tie it declared.
    pub async fn withdraw_tie(&self, org: i64, agency: i64, actor: i64) -> Result<()> {
        write_tx!(self, tx => async {
            let before: Option<(String, String)> = sqlx::query_as(
                "SELECT c.tie, a.name FROM evaluator_conflicts c JOIN agencies a ON a.id = c.agency_id
                 WHERE c.org_id = $1 AND c.agency_id = $2",
            ).bind(org).bind(agency).fetch_optional(&mut *tx).await?;
            let Some((tie, agency_name)) = before else { return Err(StoreError::NotFound) };
            // A tie stands while a round that scores the agency is open: withdrawing it then would
            // let the organisation score the agency it declared itself tied to.
            let open: Option<(i64,)> = sqlx::query_as(
                "SELECT r.id FROM evaluation_subjects s JOIN evaluation_rounds r ON r.id = s.round_id
                 WHERE s.agency_id = $1 AND r.status <> 'published' LIMIT 1",
            ).bind(agency).fetch_optional(&mut *tx).await?;
            if let Some((round,)) = open {
                return Err(StoreError::Conflict { what: "tie_in_open_round", existing_id: Some(round) });
            }
            sqlx::query("DELETE FROM evaluator_conflicts WHERE org_id = $1 AND agency_id = $2")
                .bind(org).bind(agency).execute(&mut *tx).await?;
            // Audit: evaluation.tie_withdraw
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.tie_withdraw", subject_kind: "agency", subject_id: agency,
                subject_label: agency_name, before: Some(json!({"org_id": org, "tie": tie})), after: None,
            })?;
            Ok(())
        }.await)
    }

    // ---- rounds ------------------------------------------------------------------------------

    /// Opens a round with its published weights.
    pub async fn open_round(&self, draft: &RoundDraft, actor: i64) -> Result<i64> {
        let at = now();
        write_tx!(self, tx => async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO evaluation_rounds (name, year, period, kinds, status, opened_by, opened_at)
                 VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id",
            )
            .bind(&draft.name).bind(i64::from(draft.year)).bind(draft.period.as_str()).bind(kinds_mask(&draft.kinds))
            .bind(actor).bind(at)
            .fetch_one(&mut *tx).await?;
            for (d, w) in draft.weights.pairs() {
                sqlx::query("INSERT INTO evaluation_weights (round_id, dimension, weight) VALUES ($1, $2, $3)")
                    .bind(id).bind(d.as_str()).bind(w).execute(&mut *tx).await?;
            }
            // Audit: evaluation.round_open
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.round_open", subject_kind: "evaluation_round", subject_id: id,
                subject_label: draft.name.clone(), before: None,
                after: Some(json!({
                    "name": draft.name, "year": draft.year, "period": draft.period.as_str(),
                    "kinds": draft.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "weights": weights_json(&draft.weights),
                })),
            })?;
            Ok(id)
        }.await)
    }

    pub async fn evaluation_rounds(&self, who: RoundsFor, page: PageRequest) -> Result<Page<EvaluationRound>> {
        let (published, org) = match who {
            RoundsFor::All => (0_i64, 0_i64),
            RoundsFor::Published => (1, 0),
            RoundsFor::Org(org) => (0, org),
        };
        let filter = "WHERE ($1 = 0 OR r.status = 'published')
              AND ($2 = 0 OR EXISTS (SELECT 1 FROM evaluation_assignments a WHERE a.round_id = r.id AND a.org_id = $2))";
        let items: Vec<EvaluationRound> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_ROUND} {filter} ORDER BY r.status = 'published', COALESCE(r.published_at, r.opened_at) DESC, r.id DESC LIMIT $3 OFFSET $4"
        ))).bind(published).bind(org).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(t) => t,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM evaluation_rounds r {filter}"
                ))).bind(published).bind(org).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    pub async fn evaluation_round(&self, id: i64) -> Result<EvaluationRound> {
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_ROUND} WHERE r.id = $1"))).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn round_weights(&self, id: i64) -> Result<Weights> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT dimension, weight FROM evaluation_weights WHERE round_id = $1",
        ).bind(id).fetch_all(p).await?);
        Weights::from_pairs(&rows).ok_or(StoreError::NotFound)
    }

    /// Whether any score was recorded in the round: from then on its weights are fixed.
    pub async fn scoring_started(&self, id: i64) -> Result<bool> {
        let found: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM evaluation_scores WHERE round_id = $1 LIMIT 1",
        ).bind(id).fetch_optional(p).await?);
        Ok(found.is_some())
    }

    /// New weights for a round no one has scored yet.
    pub async fn set_round_weights(&self, id: i64, weights: &Weights, actor: i64) -> Result<()> {
        write_tx!(self, tx => async {
            lock_open!(tx, id);
            let scored: Option<(i64,)> = sqlx::query_as("SELECT id FROM evaluation_scores WHERE round_id = $1 LIMIT 1")
                .bind(id).fetch_optional(&mut *tx).await?;
            if scored.is_some() {
                return Err(StoreError::Conflict { what: "scoring_started", existing_id: None });
            }
            let before: Vec<(String, i64)> = sqlx::query_as("SELECT dimension, weight FROM evaluation_weights WHERE round_id = $1")
                .bind(id).fetch_all(&mut *tx).await?;
            let (name,): (String,) = sqlx::query_as("SELECT name FROM evaluation_rounds WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
            for (d, w) in weights.pairs() {
                sqlx::query("UPDATE evaluation_weights SET weight = $1 WHERE round_id = $2 AND dimension = $3")
                    .bind(w).bind(id).bind(d.as_str()).execute(&mut *tx).await?;
            }
            // Audit: evaluation.weights_set
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.weights_set", subject_kind: "evaluation_round", subject_id: id,
                subject_label: name, before: Weights::from_pairs(&before).map(|w| weights_json(&w)),
                after: Some(weights_json(weights)),
            })?;
            Ok(())
        }.await)
    }

    /// Adds a subject of a kind the round evaluates; the same subject twice is a conflict.
    pub async fn add_subject(&self, round: i64, subject: &NewSubject, actor: i64) -> Result<i64> {
        let at = now();
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            let (kinds, round_name): (i64, String) = sqlx::query_as("SELECT kinds, name FROM evaluation_rounds WHERE id = $1")
                .bind(round).fetch_one(&mut *tx).await?;
            let kind = subject.kind();
            if !kinds_of(kinds).contains(&kind) {
                return Err(invalid("kind", Invalid::new(
                    "kind_not_evaluated", "本轮评价不包括这类对象", "this round does not evaluate this kind",
                )));
            }
            let place: Option<(String, String)> = match subject {
                NewSubject::Agency(id) => sqlx::query_as("SELECT district_code, name FROM agencies WHERE id = $1")
                    .bind(id).fetch_optional(&mut *tx).await?,
                NewSubject::Provider(id) => sqlx::query_as("SELECT district_code, name FROM training_providers WHERE id = $1")
                    .bind(id).fetch_optional(&mut *tx).await?,
                NewSubject::Community(code) => sqlx::query_as::<_, (String,)>(
                    "SELECT name FROM divisions WHERE code = $1 AND level = 'community'",
                ).bind(code.as_str()).fetch_optional(&mut *tx).await?.map(|(name,)| (code.district().to_string(), name)),
            };
            let Some((district, name)) = place else {
                return Err(invalid(kind.as_str(), Invalid::new("no_match", "没有找到该对象", "no such record")));
            };
            let (agency, provider, community) = match subject {
                NewSubject::Agency(id) => (Some(*id), None, None),
                NewSubject::Provider(id) => (None, Some(*id), None),
                NewSubject::Community(code) => (None, None, Some(code.as_str().to_string())),
            };
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO evaluation_subjects (round_id, kind, agency_id, provider_id, community_code, district_code,
                     added_by, added_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(round).bind(kind.as_str()).bind(agency).bind(provider).bind(&community).bind(&district)
            .bind(actor).bind(at)
            .fetch_one(&mut *tx).await.map_err(StoreError::conflict_on("subject_added"))?;
            // Audit: evaluation.subject_add
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.subject_add", subject_kind: "evaluation_round", subject_id: round,
                subject_label: round_name, before: None,
                after: Some(json!({"subject_id": id, "kind": kind.as_str(), "name": name})),
            })?;
            Ok(id)
        }.await)
    }

    /// Takes a subject out of an open round, while no one has scored it.
    pub async fn remove_subject(&self, round: i64, subject: i64, actor: i64) -> Result<()> {
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            let found: Option<EvaluationSubject> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{SELECT_SUBJECT} WHERE s.id = $1 AND s.round_id = $2"
            ))).bind(subject).bind(round).fetch_optional(&mut *tx).await?;
            let Some(found) = found else { return Err(StoreError::NotFound) };
            let scored: Option<(i64,)> = sqlx::query_as("SELECT id FROM evaluation_scores WHERE subject_id = $1 LIMIT 1")
                .bind(subject).fetch_optional(&mut *tx).await?;
            if scored.is_some() {
                return Err(StoreError::Conflict { what: "subject_scored", existing_id: None });
            }
            sqlx::query("DELETE FROM evaluation_assignments WHERE subject_id = $1").bind(subject).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM evaluation_subjects WHERE id = $1").bind(subject).execute(&mut *tx).await?;
            let (round_name,): (String,) = sqlx::query_as("SELECT name FROM evaluation_rounds WHERE id = $1").bind(round).fetch_one(&mut *tx).await?;
            // Audit: evaluation.subject_remove
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.subject_remove", subject_kind: "evaluation_round", subject_id: round,
                subject_label: round_name,
                before: Some(json!({"subject_id": subject, "kind": found.kind, "name": found.name})), after: None,
            })?;
            Ok(())
        }.await)
    }

    /// A round's subjects, agencies first, optionally of one district.
    pub async fn round_subjects(
        &self,
        round: i64,
        district: Option<&DivisionCode>,
        page: PageRequest,
    ) -> Result<Page<EvaluationSubject>> {
        let district = district.map(|d| d.district().to_string()).unwrap_or_default();
        let filter = "WHERE s.round_id = $1 AND ($2 = '' OR s.district_code = $2)";
        let items: Vec<EvaluationSubject> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_SUBJECT} {filter} ORDER BY {KIND_ORDER}, name, s.id LIMIT $3 OFFSET $4"
        ))).bind(round).bind(&district).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(t) => t,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM evaluation_subjects s {filter}"
                ))).bind(round).bind(&district).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    pub async fn round_subject(&self, round: i64, subject: i64) -> Result<EvaluationSubject> {
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_SUBJECT} WHERE s.id = $1 AND s.round_id = $2")))
            .bind(subject).bind(round).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
    }

    /// Assigns an organisation to a subject of an open round, or to all of it. An organisation
    /// tied to the agency is refused beside the field; the same assignment twice is a conflict.
    pub async fn assign_evaluator(&self, round: i64, org: i64, subject: Option<i64>, actor: i64) -> Result<i64> {
        let at = now();
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            let org_name: Option<(String,)> = sqlx::query_as("SELECT name FROM evaluator_orgs WHERE id = $1")
                .bind(org).fetch_optional(&mut *tx).await?;
            let Some((org_name,)) = org_name else {
                return Err(invalid("org", Invalid::new("no_match", "请选择评价机构", "pick an evaluator organisation")));
            };
            let mut subject_name = None;
            if let Some(subject) = subject {
                let found: Option<(Option<i64>, String)> = sqlx::query_as(
                    "SELECT s.agency_id, COALESCE(ag.name, tp.name, cm.name, '') FROM evaluation_subjects s
                     LEFT JOIN agencies ag ON ag.id = s.agency_id LEFT JOIN training_providers tp ON tp.id = s.provider_id
                     LEFT JOIN divisions cm ON cm.code = s.community_code WHERE s.id = $1 AND s.round_id = $2"
                ).bind(subject).bind(round).fetch_optional(&mut *tx).await?;
                let Some((agency, name)) = found else {
                    return Err(invalid("subject", Invalid::new("no_match", "请选择本轮的评价对象", "pick a subject of this round")));
                };
                if let Some(agency) = agency {
                    let tied: Option<(i64,)> = sqlx::query_as(
                        "SELECT agency_id FROM evaluator_conflicts WHERE org_id = $1 AND agency_id = $2",
                    ).bind(org).bind(agency).fetch_optional(&mut *tx).await?;
                    if tied.is_some() {
                        return Err(invalid("org", Invalid::new(
                            "tied",
                            "该机构已声明与这家企业存在关联，不能评价它",
                            "this organisation has declared a tie to the agency and may not score it",
                        )));
                    }
                }
                subject_name = Some(name);
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO evaluation_assignments (round_id, org_id, subject_id, assigned_by, assigned_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(round).bind(org).bind(subject).bind(actor).bind(at)
            .fetch_one(&mut *tx).await.map_err(StoreError::conflict_on("already_assigned"))?;
            let (round_name,): (String,) = sqlx::query_as("SELECT name FROM evaluation_rounds WHERE id = $1").bind(round).fetch_one(&mut *tx).await?;
            // Audit: evaluation.assign
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.assign", subject_kind: "evaluation_round", subject_id: round,
                subject_label: round_name, before: None,
                after: Some(json!({"org": org_name, "subject_id": subject, "subject": subject_name})),
            })?;
            Ok(id)
        }.await)
    }

    pub async fn round_assignments(&self, round: i64) -> Result<Vec<EvaluationAssignment>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT a.id, a.org_id, o.name AS org_name, a.subject_id,
                    COALESCE(ag.name, tp.name, cm.name) AS subject_name, a.assigned_at
             FROM evaluation_assignments a JOIN evaluator_orgs o ON o.id = a.org_id
             LEFT JOIN evaluation_subjects s ON s.id = a.subject_id LEFT JOIN agencies ag ON ag.id = s.agency_id
             LEFT JOIN training_providers tp ON tp.id = s.provider_id LEFT JOIN divisions cm ON cm.code = s.community_code
             WHERE a.round_id = $1 ORDER BY a.subject_id IS NOT NULL, o.name, a.id LIMIT 1000",
        ).bind(round).fetch_all(p).await?))
    }

    /// For each of `subjects`, the organisations expected to score it (assigned, free of ties)
    /// and how far each is.
    pub async fn card_progress(&self, round: i64, subjects: &[i64]) -> Result<HashMap<i64, Vec<CardProgress>>> {
        let expected: Vec<(i64, i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT s.id, a.org_id, o.name FROM evaluation_subjects s
             JOIN evaluation_assignments a ON a.round_id = s.round_id AND (a.subject_id IS NULL OR a.subject_id = s.id)
             JOIN evaluator_orgs o ON o.id = a.org_id
             WHERE s.round_id = $1
               AND NOT EXISTS (SELECT 1 FROM evaluator_conflicts c WHERE c.org_id = a.org_id AND c.agency_id = s.agency_id)",
        ).bind(round).fetch_all(p).await?);
        let scored: Vec<(i64, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT subject_id, org_id, COUNT(*) FROM evaluation_scores WHERE round_id = $1 GROUP BY subject_id, org_id",
        ).bind(round).fetch_all(p).await?);
        let submitted: HashSet<(i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT subject_id, org_id FROM evaluation_submissions WHERE round_id = $1",
        ).bind(round).fetch_all(p).await?)
        .into_iter()
        .collect();
        let wanted: HashSet<i64> = subjects.iter().copied().collect();
        let mut out: HashMap<i64, Vec<CardProgress>> = subjects.iter().map(|s| (*s, Vec::new())).collect();
        for (subject, org_id, org_name) in expected.into_iter().filter(|(s, _, _)| wanted.contains(s)) {
            let n = scored.iter().find(|(s, o, _)| *s == subject && *o == org_id).map_or(0, |(_, _, n)| *n);
            out.entry(subject).or_default().push(CardProgress {
                org_id,
                org_name,
                scored: n,
                submitted: submitted.contains(&(subject, org_id)),
            });
        }
        for cards in out.values_mut() {
            cards.sort_by(|a, b| a.org_name.cmp(&b.org_name));
        }
        Ok(out)
    }

    // ---- scoring -----------------------------------------------------------------------------

    /// The subjects of a round an organisation is assigned to, with its own progress and ties.
    /// Not assigned to the round at all: not found.
    pub async fn evaluator_subjects(&self, round: i64, org: i64, page: PageRequest) -> Result<Page<EvaluatorSubject>> {
        let assigned: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM evaluation_assignments WHERE round_id = $1 AND org_id = $2 LIMIT 1",
        ).bind(round).bind(org).fetch_optional(p).await?);
        if assigned.is_none() {
            return Err(StoreError::NotFound);
        }
        let filter = "WHERE s.round_id = $1 AND EXISTS (SELECT 1 FROM evaluation_assignments a
                 WHERE a.round_id = s.round_id AND a.org_id = $2 AND (a.subject_id IS NULL OR a.subject_id = s.id))";
        let subjects: Vec<EvaluationSubject> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_SUBJECT} {filter} ORDER BY {KIND_ORDER}, name, s.id LIMIT $3 OFFSET $4"
        ))).bind(round).bind(org).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(subjects.len()) {
            Some(t) => t,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM evaluation_subjects s {filter}"
                ))).bind(round).bind(org).fetch_one(p).await?);
                n
            }
        };
        let ties: HashSet<i64> = self.declared_ties(org).await?.into_iter().map(|t| t.agency_id).collect();
        let scored: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT subject_id, COUNT(*) FROM evaluation_scores WHERE round_id = $1 AND org_id = $2 GROUP BY subject_id",
        ).bind(round).bind(org).fetch_all(p).await?);
        let submitted: HashSet<i64> = on_pool!(self, p => sqlx::query_as::<_, (i64,)>(
            "SELECT subject_id FROM evaluation_submissions WHERE round_id = $1 AND org_id = $2",
        ).bind(round).bind(org).fetch_all(p).await?)
        .into_iter()
        .map(|(s,)| s)
        .collect();
        let items = subjects
            .into_iter()
            .map(|subject| EvaluatorSubject {
                tied: subject.agency_id.is_some_and(|a| ties.contains(&a)),
                scored: scored.iter().find(|(s, _)| *s == subject.id).map_or(0, |(_, n)| *n),
                submitted: submitted.contains(&subject.id),
                subject,
            })
            .collect();
        Ok(page.wrap(items, total))
    }

    /// Whether an organisation may score a subject now: `Ok(true)` when it may, `Ok(false)` when
    /// it is tied to it; not assigned to the round (or no such subject): not found; assigned to
    /// the round but not to this subject: refused.
    pub async fn may_score(&self, round: i64, subject: i64, org: i64) -> Result<bool> {
        let outcome: Result<()> = on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            may_score!(tx, round, subject, org);
            Ok(())
        }.await);
        match outcome {
            Ok(()) => Ok(true),
            Err(StoreError::Refused(reason)) if reason.contains("tie") => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// Records (or replaces, before submission) an organisation's scores of one subject, all or
    /// none: each with its note or file, a file given earlier checked to be the organisation's
    /// own in this round.
    pub async fn record_scores(
        &self,
        round: i64,
        subject: i64,
        org: i64,
        entries: &[ScoreEntry],
        actor: i64,
    ) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            may_score!(tx, round, subject, org);
            let done: Option<(i64,)> = sqlx::query_as(
                "SELECT org_id FROM evaluation_submissions WHERE round_id = $1 AND subject_id = $2 AND org_id = $3",
            ).bind(round).bind(subject).bind(org).fetch_optional(&mut *tx).await?;
            if done.is_some() {
                return Err(StoreError::Conflict { what: "scorecard_submitted", existing_id: None });
            }
            let (label,): (String,) = sqlx::query_as(SUBJECT_LABEL).bind(subject).fetch_one(&mut *tx).await?;
            for entry in entries {
                let d = entry.draft.dimension;
                let mut evidence = entry.draft.evidence_id;
                if let Some(id) = evidence {
                    let own: Option<(i64,)> = sqlx::query_as(
                        "SELECT id FROM evaluation_evidence WHERE id = $1 AND round_id = $2 AND org_id = $3",
                    ).bind(id).bind(round).bind(org).fetch_optional(&mut *tx).await?;
                    if own.is_none() {
                        return Err(invalid(&format!("evidence_{}", d.as_str()), Invalid::new(
                            "unknown_evidence", "找不到该证明文件", "no such evidence file of yours in this round",
                        )));
                    }
                }
                if let Some((kind, bytes)) = &entry.file {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO evaluation_evidence (round_id, org_id, mime, bytes, sha256, uploaded_by, uploaded_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(round).bind(org).bind(kind.mime()).bind(bytes.as_slice())
                    .bind(hex::encode(Sha256::digest(bytes))).bind(actor).bind(at)
                    .fetch_one(&mut *tx).await?;
                    evidence = Some(id);
                }
                let before: Option<(i64, Option<String>, Option<i64>)> = sqlx::query_as(
                    "SELECT score, note, evidence_id FROM evaluation_scores
                     WHERE round_id = $1 AND subject_id = $2 AND dimension = $3 AND org_id = $4",
                ).bind(round).bind(subject).bind(d.as_str()).bind(org).fetch_optional(&mut *tx).await?;
                sqlx::query(
                    "INSERT INTO evaluation_scores (round_id, subject_id, org_id, dimension, score, note, evidence_id,
                         scored_by, scored_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (round_id, subject_id, dimension, org_id) DO UPDATE SET score = excluded.score,
                         note = excluded.note, evidence_id = excluded.evidence_id, scored_by = excluded.scored_by,
                         scored_at = excluded.scored_at",
                )
                .bind(round).bind(subject).bind(org).bind(d.as_str()).bind(entry.draft.score).bind(&entry.draft.note)
                .bind(evidence).bind(actor).bind(at)
                .execute(&mut *tx).await?;
                // Audit: evaluation.score
                audit_in!(&mut *tx, &AuditRecord {
                    actor, action: "evaluation.score", subject_kind: "evaluation_subject", subject_id: subject,
                    subject_label: format!("{label} · {}", d.label_zh()),
                    before: before.map(|(score, note, evidence)| json!({
                        "org_id": org, "dimension": d.as_str(), "score": score, "note": note, "evidence_id": evidence,
                    })),
                    after: Some(json!({
                        "org_id": org, "dimension": d.as_str(), "score": entry.draft.score, "note": entry.draft.note,
                        "evidence_id": evidence,
                    })),
                })?;
            }
            Ok(())
        }.await)
    }

    /// Scores of a subject: one organisation's, or (`None`) every organisation's.
    pub async fn subject_scores(&self, round: i64, subject: i64, org: Option<i64>) -> Result<Vec<EvaluationScore>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT sc.org_id, o.name AS org_name, sc.dimension, sc.score, sc.note, sc.evidence_id,
                    e.mime AS evidence_mime, a.display_name AS scored_by_name, sc.scored_at
             FROM evaluation_scores sc JOIN evaluator_orgs o ON o.id = sc.org_id JOIN accounts a ON a.id = sc.scored_by
             LEFT JOIN evaluation_evidence e ON e.id = sc.evidence_id
             WHERE sc.round_id = $1 AND sc.subject_id = $2 AND ($3 = 0 OR sc.org_id = $3)
             ORDER BY o.name, sc.id",
        ).bind(round).bind(subject).bind(org.unwrap_or(0)).fetch_all(p).await?))
    }

    /// Whether the organisation submitted its scorecard of the subject.
    pub async fn scorecard_submitted(&self, round: i64, subject: i64, org: i64) -> Result<Option<DateTime<Utc>>> {
        let found: Option<(DateTime<Utc>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT submitted_at FROM evaluation_submissions WHERE round_id = $1 AND subject_id = $2 AND org_id = $3",
        ).bind(round).bind(subject).bind(org).fetch_optional(p).await?);
        Ok(found.map(|(at,)| at))
    }

    /// Submits the organisation's scorecard of a subject: all seven dimensions scored, or a
    /// field error naming those missing. Its scores are locked from then on.
    pub async fn submit_scorecard(&self, round: i64, subject: i64, org: i64, actor: i64) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            may_score!(tx, round, subject, org);
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "SELECT dimension, score FROM evaluation_scores WHERE round_id = $1 AND subject_id = $2 AND org_id = $3",
            ).bind(round).bind(subject).bind(org).fetch_all(&mut *tx).await?;
            let missing: Vec<Dimension> =
                Dimension::ALL.iter().copied().filter(|d| !rows.iter().any(|(code, _)| code == d.as_str())).collect();
            if !missing.is_empty() {
                let zh: Vec<&str> = missing.iter().map(|d| d.label_zh()).collect();
                let en: Vec<&str> = missing.iter().map(|d| d.label_en()).collect();
                return Err(invalid("scorecard", Invalid::new(
                    "incomplete",
                    format!("还有{}项未评分：{}", missing.len(), zh.join("、")),
                    format!("{} not scored yet: {}", missing.len(), en.join(", ")),
                )));
            }
            sqlx::query(
                "INSERT INTO evaluation_submissions (round_id, subject_id, org_id, submitted_by, submitted_at)
                 VALUES ($1, $2, $3, $4, $5)",
            ).bind(round).bind(subject).bind(org).bind(actor).bind(at)
            .execute(&mut *tx).await.map_err(StoreError::conflict_on("scorecard_submitted"))?;
            // Audit: evaluation.submit
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.submit", subject_kind: "evaluation_subject", subject_id: subject,
                subject_label: sqlx::query_as::<_, (String,)>(SUBJECT_LABEL).bind(subject).fetch_one(&mut *tx).await?.0,
                before: None,
                after: Some(json!({"org_id": org, "scores": Value::Object(rows.iter().map(|(d, s)| (d.clone(), json!(s))).collect())})),
            })?;
            Ok(())
        }.await)
    }

    /// An evidence file: its round, organisation, type and bytes.
    pub async fn evaluation_evidence(&self, id: i64) -> Result<(i64, i64, EvidenceType, Vec<u8>)> {
        let row: Option<(i64, i64, String, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT round_id, org_id, mime, bytes FROM evaluation_evidence WHERE id = $1",
        ).bind(id).fetch_optional(p).await?);
        let (round, org, mime, bytes) = row.ok_or(StoreError::NotFound)?;
        let kind = EvidenceType::from_mime(&mime).ok_or(StoreError::Crypto("unknown evidence type"))?;
        Ok((round, org, kind, bytes))
    }

    /// The subjects whose scores rest on an evidence file (who may read it follows them).
    pub async fn evidence_subjects(&self, evidence: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT subject_id FROM evaluation_scores WHERE evidence_id = $1",
        ).bind(evidence).fetch_all(p).await?);
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Keeps an evidence file of an organisation for a round it is assigned to (the API's
    /// upload, referred to by a score afterwards).
    pub async fn add_evaluation_evidence(
        &self,
        round: i64,
        org: i64,
        kind: EvidenceType,
        bytes: &[u8],
        actor: i64,
    ) -> Result<i64> {
        let at = now();
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            let assigned: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM evaluation_assignments WHERE round_id = $1 AND org_id = $2 LIMIT 1",
            ).bind(round).bind(org).fetch_optional(&mut *tx).await?;
            if assigned.is_none() {
                return Err(StoreError::NotFound);
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO evaluation_evidence (round_id, org_id, mime, bytes, sha256, uploaded_by, uploaded_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(round).bind(org).bind(kind.mime()).bind(bytes).bind(hex::encode(Sha256::digest(bytes)))
            .bind(actor).bind(at)
            .fetch_one(&mut *tx).await?;
            // Audit: evaluation.evidence_upload
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.evidence_upload", subject_kind: "evaluation_round", subject_id: round,
                subject_label: sqlx::query_as::<_, (String,)>("SELECT name FROM evaluation_rounds WHERE id = $1")
                    .bind(round).fetch_one(&mut *tx).await?.0,
                before: None,
                after: Some(json!({"evidence_id": id, "org_id": org, "mime": kind.mime(), "bytes": bytes.len()})),
            })?;
            Ok(id)
        }.await)
    }

    // ---- results, publication, front-runners ---------------------------------------------------

    /// An open round's results as they stand (submitted cards only) and what is still missing.
    pub async fn provisional_results(&self, round: i64) -> Result<(Vec<SubjectResult>, Vec<Missing>)> {
        let weights = self.round_weights(round).await?;
        let facts = on_pool!(self, p => load_facts!(p, round))?;
        Ok(facts.tally(&weights))
    }

    /// Publishes an open round once every subject is fully scored: each has an organisation free
    /// of ties assigned, and each such organisation submitted its scorecard. Otherwise a field
    /// error under `round` names what is missing. The results are frozen as computed now.
    pub async fn publish_round(&self, round: i64, actor: i64) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            lock_open!(tx, round);
            let rows: Vec<(String, i64)> = sqlx::query_as("SELECT dimension, weight FROM evaluation_weights WHERE round_id = $1")
                .bind(round).fetch_all(&mut *tx).await?;
            let weights = Weights::from_pairs(&rows).ok_or(StoreError::NotFound)?;
            let facts = load_facts!(&mut *tx, round)?;
            if facts.subjects.is_empty() {
                return Err(invalid("round", Invalid::new(
                    "no_subjects", "本轮还没有评价对象，不能发布", "the round has no subjects to publish",
                )));
            }
            let (results, missing) = facts.tally(&weights);
            if !missing.is_empty() {
                let names: HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>(
                    "SELECT s.id, COALESCE(ag.name, tp.name, cm.name, '') FROM evaluation_subjects s
                     LEFT JOIN agencies ag ON ag.id = s.agency_id LEFT JOIN training_providers tp ON tp.id = s.provider_id
                     LEFT JOIN divisions cm ON cm.code = s.community_code WHERE s.round_id = $1"
                ).bind(round).fetch_all(&mut *tx).await?.into_iter().collect();
                let orgs: HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM evaluator_orgs")
                    .fetch_all(&mut *tx).await?.into_iter().collect();
                return Err(invalid("round", missing_words(&missing, &names, &orgs)));
            }
            for r in &results {
                sqlx::query(
                    "INSERT INTO evaluation_results (round_id, subject_id, total_hundredths, sum_hundredths, cards, rank)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                ).bind(round).bind(r.subject).bind(r.outcome.total_hundredths()).bind(r.outcome.sum_hundredths)
                .bind(r.outcome.cards).bind(r.rank).execute(&mut *tx).await?;
                for (d, mean) in Dimension::ALL.iter().zip(r.dimensions) {
                    sqlx::query(
                        "INSERT INTO evaluation_result_scores (round_id, subject_id, dimension, mean_hundredths)
                         VALUES ($1, $2, $3, $4)",
                    ).bind(round).bind(r.subject).bind(d.as_str()).bind(mean).execute(&mut *tx).await?;
                }
            }
            sqlx::query("UPDATE evaluation_rounds SET status = 'published', published_by = $1, published_at = $2 WHERE id = $3")
                .bind(actor).bind(at).bind(round).execute(&mut *tx).await?;
            let (name,): (String,) = sqlx::query_as("SELECT name FROM evaluation_rounds WHERE id = $1").bind(round).fetch_one(&mut *tx).await?;
            // Audit: evaluation.publish
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.publish", subject_kind: "evaluation_round", subject_id: round,
                subject_label: name, before: Some(json!({"status": "open"})),
                after: Some(json!({
                    "status": "published",
                    "results": results.iter().map(|r| json!({"subject_id": r.subject, "total": points(r.outcome.total_hundredths()), "rank": r.rank})).collect::<Vec<_>>(),
                })),
            })?;
            Ok(())
        }.await)
    }

    /// A published round's results, agencies first and by rank, optionally of one district or
    /// kind; or only its front-runners.
    pub async fn published_results(
        &self,
        round: i64,
        district: Option<&DivisionCode>,
        kind: Option<EvaluatedKind>,
        front_runners_only: bool,
        page: PageRequest,
    ) -> Result<Page<EvaluationResult>> {
        let district = district.map(|d| d.district().to_string()).unwrap_or_default();
        let kind = kind.map(EvaluatedKind::as_str).unwrap_or_default();
        let only = i64::from(front_runners_only);
        let from = "FROM evaluation_results r JOIN evaluation_subjects s ON s.id = r.subject_id
             WHERE r.round_id = $1 AND ($2 = '' OR s.district_code = $2) AND ($3 = '' OR s.kind = $3)
               AND ($4 = 0 OR EXISTS (SELECT 1 FROM evaluation_front_runners f WHERE f.round_id = r.round_id AND f.subject_id = r.subject_id))";
        let frozen: Vec<FrozenRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT r.subject_id, r.total_hundredths, r.rank, r.cards,
                    EXISTS (SELECT 1 FROM evaluation_front_runners f WHERE f.round_id = r.round_id AND f.subject_id = r.subject_id) AS front_runner
             {from} ORDER BY {KIND_ORDER}, r.rank, s.id LIMIT $5 OFFSET $6"
        ))).bind(round).bind(&district).bind(kind).bind(only).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(frozen.len()) {
            Some(t) => t,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {from}")))
                    .bind(round).bind(&district).bind(kind).bind(only).fetch_one(p).await?);
                n
            }
        };
        let ids: Vec<i64> = frozen.iter().map(|f| f.subject_id).collect();
        let subjects = self.subjects_by_id(round, &ids).await?;
        let means: Vec<(i64, String, i64)> = if ids.is_empty() {
            Vec::new()
        } else {
            on_pool!(self, p => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT subject_id, dimension, mean_hundredths FROM evaluation_result_scores WHERE round_id = ",
                );
                q.push_bind(round).push(" AND subject_id IN (");
                let mut list = q.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_as().fetch_all(p).await?
            })
        };
        let items = frozen
            .into_iter()
            .filter_map(|f| {
                let subject = subjects.get(&f.subject_id)?.clone();
                let dimensions = Dimension::ALL
                    .iter()
                    .map(|d| {
                        means.iter().find(|(s, code, _)| *s == f.subject_id && code == d.as_str()).map_or(0, |m| m.2)
                    })
                    .collect();
                Some(EvaluationResult {
                    subject,
                    total_hundredths: f.total_hundredths,
                    rank: f.rank,
                    cards: f.cards,
                    dimensions,
                    front_runner: f.front_runner,
                })
            })
            .collect();
        Ok(page.wrap(items, total))
    }

    async fn subjects_by_id(&self, round: i64, ids: &[i64]) -> Result<HashMap<i64, EvaluationSubject>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<EvaluationSubject> = on_pool!(self, p => {
            let mut q = sqlx::QueryBuilder::new(format!("{SELECT_SUBJECT} WHERE s.round_id = "));
            q.push_bind(round).push(" AND s.id IN (");
            let mut list = q.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            q.push(")");
            q.build_query_as().fetch_all(p).await?
        });
        Ok(rows.into_iter().map(|s| (s.id, s)).collect())
    }

    /// An open round's results as they stand, for the regulator: the same shape as published ones.
    pub async fn provisional_result_rows(
        &self,
        round: i64,
        district: Option<&DivisionCode>,
        page: PageRequest,
    ) -> Result<Page<EvaluationResult>> {
        let (results, _) = self.provisional_results(round).await?;
        let district = district.map(|d| d.district().to_string());
        let subjects = self.subjects_by_id(round, &results.iter().map(|r| r.subject).collect::<Vec<_>>()).await?;
        let rows: Vec<EvaluationResult> = results
            .into_iter()
            .filter_map(|r| {
                let subject = subjects.get(&r.subject)?.clone();
                district.as_ref().is_none_or(|d| subject.district_code == *d).then(|| EvaluationResult {
                    subject,
                    total_hundredths: r.outcome.total_hundredths(),
                    rank: r.rank,
                    cards: r.outcome.cards,
                    dimensions: r.dimensions.to_vec(),
                    front_runner: false,
                })
            })
            .collect();
        let total = rows.len() as i64;
        let items = rows.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
        Ok(page.wrap(items, total))
    }

    /// Designates the front-runners (领跑) of a published round: exactly the subjects listed,
    /// each with a published result.
    pub async fn designate_front_runners(&self, round: i64, subjects: &[i64], actor: i64) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            let found: Option<(String, String)> = sqlx::query_as("SELECT status, name FROM evaluation_rounds WHERE id = $1")
                .bind(round).fetch_optional(&mut *tx).await?;
            let Some((status, name)) = found else { return Err(StoreError::NotFound) };
            if status != RoundStatus::Published.as_str() {
                return Err(StoreError::Conflict { what: "round_not_published", existing_id: None });
            }
            let ranked: HashSet<i64> = sqlx::query_as::<_, (i64,)>("SELECT subject_id FROM evaluation_results WHERE round_id = $1")
                .bind(round).fetch_all(&mut *tx).await?.into_iter().map(|(s,)| s).collect();
            if let Some(stranger) = subjects.iter().find(|s| !ranked.contains(s)) {
                return Err(invalid("subjects", Invalid::new(
                    "not_ranked", format!("对象{stranger}不在本轮的评价结果中"), format!("subject {stranger} has no result in this round"),
                )));
            }
            let before: Vec<(i64,)> = sqlx::query_as("SELECT subject_id FROM evaluation_front_runners WHERE round_id = $1 ORDER BY subject_id")
                .bind(round).fetch_all(&mut *tx).await?;
            sqlx::query("DELETE FROM evaluation_front_runners WHERE round_id = $1").bind(round).execute(&mut *tx).await?;
            let mut after: Vec<i64> = subjects.to_vec();
            after.sort_unstable();
            after.dedup();
            for s in &after {
                sqlx::query("INSERT INTO evaluation_front_runners (round_id, subject_id, designated_by, designated_at) VALUES ($1, $2, $3, $4)")
                    .bind(round).bind(s).bind(actor).bind(at).execute(&mut *tx).await?;
            }
            // Audit: evaluation.front_runners
            audit_in!(&mut *tx, &AuditRecord {
                actor, action: "evaluation.front_runners", subject_kind: "evaluation_round", subject_id: round,
                subject_label: name, before: Some(json!(before.iter().map(|(s,)| *s).collect::<Vec<_>>())),
                after: Some(json!(after)),
            })?;
            Ok(())
        }.await)
    }

    /// An agency's latest published result, if any round has one.
    pub async fn latest_agency_evaluation(&self, agency: i64) -> Result<Option<AgencyEvaluation>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT r.id AS round_id, r.name AS round_name, r.published_at, res.total_hundredths, res.rank,
                    (SELECT COUNT(*) FROM evaluation_results x JOIN evaluation_subjects xs ON xs.id = x.subject_id
                     WHERE x.round_id = r.id AND xs.kind = 'agency') AS ranked,
                    EXISTS (SELECT 1 FROM evaluation_front_runners f WHERE f.round_id = r.id AND f.subject_id = s.id) AS front_runner
             FROM evaluation_subjects s JOIN evaluation_results res ON res.subject_id = s.id
             JOIN evaluation_rounds r ON r.id = s.round_id
             WHERE s.agency_id = $1 AND r.status = 'published' ORDER BY r.published_at DESC, r.id DESC LIMIT 1",
        ).bind(agency).fetch_optional(p).await?))
    }

    /// Counts from the platform's records about a school or a community (an agency's come from
    /// the registry, credit and workforce reads the server already makes).
    pub async fn platform_counts(&self, subject: &EvaluationSubject) -> Result<PlatformCounts> {
        let mut counts = PlatformCounts::default();
        if let Some(agency) = subject.agency_id {
            let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
                "SELECT COUNT(*) FROM service_points WHERE agency_id = $1 AND status = 'active'",
            ).bind(agency).fetch_one(p).await?);
            counts.service_points_open = n;
        }
        if let Some(provider) = subject.provider_id {
            let (courses, trainings, passed, stations): (i64, i64, i64, i64) = on_pool!(self, p => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM courses WHERE provider_id = $1),
                        (SELECT COUNT(*) FROM training_records t JOIN courses c ON c.id = t.course_id WHERE c.provider_id = $1),
                        (SELECT COUNT(*) FROM training_records t JOIN courses c ON c.id = t.course_id
                         WHERE c.provider_id = $1 AND t.exam_passed = TRUE),
                        (SELECT COUNT(*) FROM stations WHERE provider_id = $1 AND status = 'active')",
            ).bind(provider).fetch_one(p).await?);
            (counts.courses, counts.trainings, counts.trainings_passed, counts.stations_active) =
                (courses, trainings, passed, stations);
        }
        if let Some(code) = &subject.community_code {
            let (points, stations, answers, events): (i64, i64, i64, i64) = on_pool!(self, p => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM service_points WHERE community_code = $1 AND status = 'active'),
                        (SELECT COUNT(*) FROM stations WHERE community_code = $1 AND status = 'active'),
                        (SELECT COUNT(*) FROM survey_answers WHERE community_code = $1),
                        (SELECT COUNT(*) FROM volunteer_events WHERE community_code = $1)",
            ).bind(code).fetch_one(p).await?);
            (counts.service_points_open, counts.stations_active, counts.survey_answers, counts.volunteer_events) =
                (points, stations, answers, events);
        }
        Ok(counts)
    }
}

const SELECT_ORG: &str = "SELECT o.id, o.name, o.uscc, o.contact, o.created_at,
        (SELECT COUNT(*) FROM accounts a WHERE a.evaluator_id = o.id AND a.role = 'evaluator' AND a.disabled = FALSE) AS accounts,
        (SELECT COUNT(*) FROM evaluator_conflicts c WHERE c.org_id = o.id) AS conflicts
    FROM evaluator_orgs o";

/// What keeps a round from publication, in words naming the subjects and organisations (the
/// first ten, then how many more).
fn missing_words(missing: &[Missing], names: &HashMap<i64, String>, orgs: &HashMap<i64, String>) -> Invalid {
    let name = |id: &i64| names.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
    let org = |id: &i64| orgs.get(id).cloned().unwrap_or_else(|| format!("#{id}"));
    let (mut zh, mut en): (Vec<String>, Vec<String>) = missing
        .iter()
        .take(10)
        .map(|m| match m {
            Missing::NoEvaluator { subject } => (
                format!("{}（未指派无关联的评价机构）", name(subject)),
                format!("{} (no evaluator free of ties assigned)", name(subject)),
            ),
            Missing::NotSubmitted { subject, org: o } => (
                format!("{}（{}未提交评分）", name(subject), org(o)),
                format!("{} ({} has not submitted)", name(subject), org(o)),
            ),
        })
        .unzip();
    if missing.len() > 10 {
        zh.push(format!("等共{}项", missing.len()));
        en.push(format!("and {} more", missing.len() - 10));
    }
    Invalid::new(
        "incomplete",
        format!("尚有对象未评分完毕，不能发布：{}", zh.join("；")),
        format!("Not every subject is fully scored yet: {}", en.join("; ")),
    )
}
