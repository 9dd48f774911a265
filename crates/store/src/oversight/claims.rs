//! Agencies' subsidy claims. An agency picks from its own records (workers bound to it, trainings
//! passed, certificates, its points); every line is checked against the platform's records when
//! the claim is made and the result kept with the line; the regulator of the agency's district
//! (or the city) approves every matching line, chosen lines, or none. A live line (waiting or
//! approved) holds its unit through a partial unique index, so no worker-month (or point-month,
//! training, certificate) is claimed twice however many claims race; rejecting a line frees its
//! unit in the same transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::claims::{
    ClaimDecision, ClaimDraft, ClaimKind, ClaimStatus, ClaimVerdict, InsuranceFacts, LineProblem, MonthRange,
    PointFacts, RecordFacts, Span, certificate_unit, check_point_month, check_record, check_worker_month, claim_number,
    month_code, month_window, outcome, training_unit,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Viewing;
use super::audit::{AuditRecord, audit_in};
use crate::market::write_tx;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

fn evidence_place(claim: i64) -> String {
    format!("subsidy_claim_evidence.sealed:{claim}")
}

/// Rows per multi-row statement and ids per `IN` list.
const CHUNK: usize = 1000;

row! {
    /// A standard amount per unit.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ClaimStandard {
        /// `social_insurance`, `training`, `appraisal` or `point_rent`.
        pub kind: String,
        pub amount_fen: i64,
        pub set_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ClaimRow {
        pub id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub district_code: String,
        pub district_name: String,
        pub kind: String,
        /// First day of the first month claimed.
        pub period_from: NaiveDate,
        /// First day of the last month claimed.
        pub period_to: NaiveDate,
        pub note: Option<String>,
        /// `submitted`, `approved`, `partly_approved` or `rejected`.
        pub status: String,
        pub lines: i64,
        /// Lines that matched the platform's records when claimed.
        pub matching: i64,
        pub claimed_fen: i64,
        /// What is to be paid, once decided.
        pub approved_fen: Option<i64>,
        pub approved_lines: i64,
        pub submitted_at: DateTime<Utc>,
        pub decided_at: Option<DateTime<Utc>>,
        pub decided_by_name: Option<String>,
        pub decision_reason: Option<String>,
        pub has_evidence: bool,
    }
}

impl ClaimRow {
    /// `BT2026-000012`.
    pub fn number(&self) -> String {
        claim_number(self.id, self.submitted_at)
    }

    pub fn kind(&self) -> Option<ClaimKind> {
        ClaimKind::parse(&self.kind).ok()
    }

    pub fn period(&self) -> MonthRange {
        MonthRange { first: self.period_from, last: self.period_to }
    }

    pub fn is_open(&self) -> bool {
        self.status == ClaimStatus::Submitted.as_str()
    }
}

const SELECT_CLAIM: &str = "SELECT c.id, c.agency_id, a.name AS agency_name, c.district_code, d.name AS district_name,
    c.kind, c.period_from, c.period_to, c.note, c.status, c.lines, c.matching, c.claimed_fen, c.approved_fen,
    COALESCE(c.approved_lines, 0) AS approved_lines,
    c.submitted_at, c.decided_at, r.display_name AS decided_by_name, c.decision_reason,
    EXISTS (SELECT 1 FROM subsidy_claim_evidence e WHERE e.claim_id = c.id) AS has_evidence
    FROM subsidy_claims c JOIN agencies a ON a.id = c.agency_id JOIN divisions d ON d.code = c.district_code
    LEFT JOIN accounts r ON r.id = c.decided_by";

row! {
    /// One line of a claim with what the platform found.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ClaimLine {
        pub id: i64,
        pub claim_id: i64,
        /// A worker, or a service point for rent.
        pub subject_id: i64,
        pub subject_name: String,
        /// The worker's masked ID number, or the point's address.
        pub subject_detail: String,
        /// `2026-03` for a month; `pre_job:2026` for a training; `occupational:maternity:level4` for a certificate.
        pub unit: String,
        /// The training's course, or the certificate's number.
        pub record_name: Option<String>,
        pub amount_fen: i64,
        /// Codes of what does not match, comma-separated; empty when the line matches.
        pub problems: String,
        /// `pending`, `approved` or `rejected`.
        pub status: String,
    }
}

impl ClaimLine {
    pub fn matches(&self) -> bool {
        self.problems.is_empty()
    }
}

const SELECT_LINE: &str = "SELECT l.id, l.claim_id, l.subject_id,
    COALESCE(w.name, sp.name, '') AS subject_name, COALESCE(w.id_masked, sp.address, '') AS subject_detail,
    l.unit, COALESCE(tr.course_name, sc.number) AS record_name, l.amount_fen, l.problems, l.status
    FROM subsidy_claim_lines l
    LEFT JOIN workers w ON l.kind <> 'point_rent' AND w.id = l.subject_id
    LEFT JOIN service_points sp ON l.kind = 'point_rent' AND sp.id = l.subject_id
    LEFT JOIN training_records tr ON l.kind = 'training' AND tr.id = l.record_id
    LEFT JOIN skill_certificates sc ON l.kind = 'appraisal' AND sc.id = l.record_id";

/// Something an agency may pick for a claim of a kind and period.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimCandidate {
    /// The id to send in `items`.
    pub id: i64,
    /// The worker's (or the point's) name.
    pub name: String,
    /// The worker's masked ID number; the course; the certificate's number; the point's address.
    pub detail: String,
    /// Insured since (social insurance); completed on (training); issued on (certificate).
    pub date: Option<NaiveDate>,
    /// The course kind, or the certificate kind.
    pub kind: Option<String>,
    /// Whether the platform's records look complete for it (insured; point still open).
    pub ready: bool,
}

/// Whether `who` may see a claim: its agency, or a regulator over its district.
fn may_see(who: &Principal, claim: &ClaimRow) -> bool {
    match who.agency_id() {
        Some(agency) => agency == claim.agency_id,
        None => DivisionCode::parse(&claim.district_code).is_ok_and(|d| who.regulates(&d)),
    }
}

/// An earlier live claim of a unit a new claim asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clash {
    pub claim_id: i64,
    /// `BT2026-000012`.
    pub number: String,
    /// The Beijing date it was submitted.
    pub submitted_on: NaiveDate,
    /// Whether it is the same agency's (only then is its page linked).
    pub own: bool,
    pub subject_id: i64,
    pub subject_name: String,
    pub unit: String,
}

/// What submitting a claim came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    Created(i64),
    /// A unit is already held by a live line of another claim: nothing was written.
    Taken(Clash),
}

/// A line before it is written.
#[derive(Debug, Clone)]
struct NewLine {
    subject_id: i64,
    unit: String,
    record_id: Option<i64>,
    problems: String,
}

row! {
    struct BindingFact {
        worker_id: i64,
        kind: String,
        started_at: Option<DateTime<Utc>>,
        ended_at: Option<DateTime<Utc>>,
    }
}

row! {
    struct RecordFact {
        id: i64,
        worker_id: i64,
        on_day: Option<NaiveDate>,
        passed: Option<bool>,
        withdrawn: bool,
        kind: String,
        trade: Option<String>,
        level: Option<String>,
    }
}

row! {
    struct PointFact {
        id: i64,
        name: String,
        address: String,
        status: String,
        created_at: DateTime<Utc>,
        closed_at: Option<DateTime<Utc>>,
    }
}

row! {
    struct LiveUnit {
        subject_id: i64,
        unit: String,
        claim_id: i64,
        agency_id: i64,
        submitted_at: DateTime<Utc>,
    }
}

/// A binding's time as a span; a binding never started (pending, refused) has none.
fn span(b: &BindingFact) -> Option<Span> {
    b.started_at.map(|from| Span { from, to: b.ended_at })
}

/// The live units of one kind held by lines that match the records (the unique index's rule),
/// to be followed by the kind and the subjects: what names the earlier claim of a clash.
const LIVE_UNITS: &str = "SELECT l.subject_id, l.unit, l.claim_id, c.agency_id, c.submitted_at
     FROM subsidy_claim_lines l JOIN subsidy_claims c ON c.id = l.claim_id
     WHERE l.status <> 'rejected' AND l.problems = '' AND l.kind = ";

impl Store {
    // ---- standards -------------------------------------------------------------------------

    pub async fn claim_standards(&self) -> Result<Vec<ClaimStandard>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT kind, amount_fen, set_at FROM claim_standards ORDER BY kind",
        ).fetch_all(p).await?))
    }

    /// Sets a kind's standard amount per unit; the city's regulators only. Claims already made
    /// keep the amount they were made with.
    pub async fn set_claim_standard(&self, who: &Principal, kind: ClaimKind, amount_fen: i64) -> Result<()> {
        if !(who.role == Role::Regulator && who.scope == Scope::City) {
            return Err(StoreError::Refused("the city's regulator sets the standard amounts".into()));
        }
        let at = now();
        write_tx!(self, tx => async {
            let before: Option<(i64,)> = sqlx::query_as("SELECT amount_fen FROM claim_standards WHERE kind = $1")
                .bind(kind.as_str()).fetch_optional(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO claim_standards (kind, amount_fen, set_by, set_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind) DO UPDATE SET amount_fen = excluded.amount_fen, set_by = excluded.set_by,
                     set_at = excluded.set_at",
            ).bind(kind.as_str()).bind(amount_fen).bind(who.account_id).bind(at).execute(&mut *tx).await?;
            let record = AuditRecord {
                actor: who.account_id,
                action: "claims.standard",
                subject_kind: "claim_standard",
                subject_id: ClaimKind::ALL.iter().position(|k| *k == kind).map_or(0, |i| i as i64 + 1),
                subject_label: kind.label_zh().to_string(),
                before: before.map(|(fen,)| serde_json::json!({ "kind": kind.as_str(), "amount_fen": fen })),
                after: Some(serde_json::json!({ "kind": kind.as_str(), "amount_fen": amount_fen })),
            };
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)
    }

    /// Demo and benchmark data only: the agency's active bindings began at `started_at`, and it
    /// insures its employee-based workers from `insured_since`.
    pub async fn demo_employment(
        &self,
        agency_id: i64,
        started_at: DateTime<Utc>,
        insured_since: NaiveDate,
    ) -> Result<u64> {
        let at = now();
        write_tx!(self, tx => async {
            sqlx::query("UPDATE bindings SET started_at = $1 WHERE agency_id = $2 AND status = 'active'")
                .bind(started_at).bind(agency_id).execute(&mut *tx).await?;
            let done = sqlx::query(
                "INSERT INTO social_insurance (worker_id, agency_id, enrolled, since, updated_at)
                 SELECT worker_id, agency_id, TRUE, $1, $2 FROM bindings
                 WHERE agency_id = $3 AND status = 'active' AND kind = 'employee'
                 ON CONFLICT (worker_id, agency_id) DO UPDATE SET enrolled = excluded.enrolled, since = excluded.since,
                     updated_at = excluded.updated_at",
            ).bind(insured_since).bind(at).bind(agency_id).execute(&mut *tx).await?;
            Ok(done.rows_affected())
        }.await)
    }

    // ---- what an agency may pick -----------------------------------------------------------

    /// What the agency may pick for a claim of `kind` over `period`, at most [`MAX_ITEMS`].
    ///
    /// [`MAX_ITEMS`]: jiazheng_core::oversight::claims::MAX_ITEMS
    pub async fn claim_candidates(
        &self,
        agency: i64,
        kind: ClaimKind,
        period: &MonthRange,
    ) -> Result<Vec<ClaimCandidate>> {
        let (start, _) = month_window(period.first);
        let (_, end) = month_window(period.last);
        let limit = jiazheng_core::oversight::claims::MAX_ITEMS as i64;
        Ok(match kind {
            ClaimKind::SocialInsurance => {
                type Row = (i64, String, String, Option<bool>, Option<NaiveDate>);
                let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(
                    "SELECT w.id, w.name, w.id_masked, si.enrolled, si.since FROM workers w
                     JOIN (SELECT DISTINCT worker_id FROM bindings WHERE agency_id = $1 AND kind = 'employee'
                           AND started_at IS NOT NULL AND started_at < $2 AND (ended_at IS NULL OR ended_at >= $3)) b
                       ON b.worker_id = w.id
                     LEFT JOIN social_insurance si ON si.worker_id = w.id AND si.agency_id = $1
                     ORDER BY w.name, w.id LIMIT $4",
                ).bind(agency).bind(end).bind(start).bind(limit).fetch_all(p).await?);
                rows.into_iter()
                    .map(|(id, name, masked, enrolled, since)| ClaimCandidate {
                        id,
                        name,
                        detail: masked,
                        date: since.filter(|_| enrolled == Some(true)),
                        kind: None,
                        ready: enrolled == Some(true) && since.is_some(),
                    })
                    .collect()
            }
            ClaimKind::Training | ClaimKind::Appraisal => {
                let (table, on, kind_col, passed, name) = record_columns(kind);
                let kind_expr = match kind {
                    ClaimKind::Appraisal => {
                        "t.kind || ':' || COALESCE(t.trade, '-') || ':' || COALESCE(t.level, '-')".to_string()
                    }
                    _ => format!("t.{kind_col}"),
                };
                let sql = format!(
                    "SELECT t.id, t.worker_id, w.name, t.{on} AS on_day, {passed} AS passed,
                        (t.withdrawn_seq IS NOT NULL) AS withdrawn, {kind_expr} AS kind, {name} AS name2
                     FROM {table} t JOIN workers w ON w.id = t.worker_id
                     WHERE t.worker_id IN (SELECT worker_id FROM bindings WHERE agency_id = $1 AND started_at IS NOT NULL)
                       AND t.withdrawn_seq IS NULL AND t.{on} >= $2 AND t.{on} < $3
                     ORDER BY t.{on} DESC, t.id DESC LIMIT $4"
                );
                type Row = (i64, i64, String, Option<NaiveDate>, Option<bool>, bool, String, String);
                let rows: Vec<Row> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(agency).bind(period.first).bind(period.end()).bind(limit).fetch_all(p).await?);
                rows.into_iter()
                    .filter(|r| r.4 == Some(true))
                    .map(|(id, _, worker, on_day, _, _, kind, detail)| ClaimCandidate {
                        id,
                        name: worker,
                        detail,
                        date: on_day,
                        kind: Some(kind),
                        ready: true,
                    })
                    .collect()
            }
            ClaimKind::PointRent => {
                let rows: Vec<PointFact> = on_pool!(self, p => sqlx::query_as(
                    "SELECT id, name, address, status, created_at, closed_at FROM service_points
                     WHERE agency_id = $1 AND created_at < $2 AND (status = 'active' OR closed_at IS NULL OR closed_at >= $3)
                     ORDER BY name, id LIMIT $4",
                ).bind(agency).bind(end).bind(start).bind(limit).fetch_all(p).await?);
                rows.into_iter()
                    .map(|p| ClaimCandidate {
                        id: p.id,
                        ready: p.status == "active",
                        name: p.name,
                        detail: p.address,
                        date: None,
                        kind: None,
                    })
                    .collect()
            }
        })
    }

    // ---- submitting -------------------------------------------------------------------------

    /// Makes a claim: every line checked against the platform's records, all lines and the
    /// evidence in one transaction. A unit already held by a live line of any claim answers
    /// `Taken` with that claim, and nothing is written.
    pub async fn submit_claim(
        &self,
        who: &Principal,
        draft: &ClaimDraft,
        evidence: Option<(&[u8], EvidenceType)>,
    ) -> Result<Submitted> {
        let agency_id = who.agency_id().ok_or_else(|| StoreError::Refused("agencies make claims".into()))?;
        let agency = self.agency(agency_id).await?;
        let standard: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT amount_fen FROM claim_standards WHERE kind = $1",
        ).bind(draft.kind.as_str()).fetch_optional(p).await?);
        let Some((amount,)) = standard else {
            return Err(invalid(
                "kind",
                Invalid::new(
                    "no_standard",
                    "市主管部门尚未设定该项补贴的标准，暂不能申报",
                    "the city has not set the standard amount of this subsidy yet",
                ),
            ));
        };
        let lines = self.claim_lines_for(agency_id, draft).await?;
        let mut seen = HashSet::new();
        for line in &lines {
            if !seen.insert((line.subject_id, line.unit.as_str())) {
                return Err(invalid(
                    "items",
                    Invalid::new(
                        "picked_twice",
                        "同一服务员的同一类培训（同一年）或同一等级证书只能申报一次，请去掉重复的一项",
                        "one worker's course kind in a year, or certificate level, is claimed once; untick the repeat",
                    ),
                ));
            }
        }
        let matching = lines.iter().filter(|l| l.problems.is_empty()).count() as i64;
        let claimed = amount.checked_mul(lines.len() as i64).ok_or_else(|| StoreError::Crypto("claim total"))?;
        let sealed = evidence.map(|(bytes, kind)| (kind, hex::encode(Sha256::digest(bytes)), bytes.to_vec()));
        let at = now();
        let result = write_tx!(self, tx => async {
            // The look that names the earlier claim; the unique index is what holds the rule.
            let subjects: Vec<i64> = lines.iter().map(|l| l.subject_id).collect::<HashSet<_>>().into_iter().collect();
            for chunk in subjects.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(
                    LIVE_UNITS,
                );
                q.push_bind(draft.kind.as_str()).push(" AND l.subject_id IN (");
                let mut list = q.separated(", ");
                for s in chunk {
                    list.push_bind(*s);
                }
                q.push(")");
                let live: Vec<LiveUnit> = q.build_query_as().fetch_all(&mut *tx).await?;
                if let Some(clash) = first_clash(&lines, &live, agency_id) {
                    return Ok(Submitted::Taken(clash));
                }
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO subsidy_claims (agency_id, district_code, kind, period_from, period_to, note, status,
                     lines, matching, claimed_fen, submitted_by, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'submitted', $7, $8, $9, $10, $11) RETURNING id",
            ).bind(agency_id).bind(&agency.district_code).bind(draft.kind.as_str()).bind(draft.period.first)
            .bind(draft.period.last).bind(&draft.note).bind(lines.len() as i64).bind(matching).bind(claimed)
            .bind(who.account_id).bind(at).fetch_one(&mut *tx).await?;
            for chunk in lines.chunks(CHUNK) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO subsidy_claim_lines (claim_id, kind, subject_id, unit, record_id, amount_fen, problems, status) ",
                );
                q.push_values(chunk, |mut row, l| {
                    row.push_bind(id)
                        .push_bind(draft.kind.as_str())
                        .push_bind(l.subject_id)
                        .push_bind(l.unit.clone())
                        .push_bind(l.record_id)
                        .push_bind(amount)
                        .push_bind(l.problems.clone())
                        .push_bind("pending");
                });
                q.build().execute(&mut *tx).await.map_err(StoreError::conflict_on("claim_unit_taken"))?;
            }
            if let Some((kind, sha, bytes)) = &sealed {
                sqlx::query("INSERT INTO subsidy_claim_evidence (claim_id, mime, sealed, sha256) VALUES ($1, $2, $3, $4)")
                    .bind(id).bind(kind.mime()).bind(self.crypto().seal_bytes_at(bytes, &evidence_place(id)))
                    .bind(sha).execute(&mut *tx).await?;
            }
            Ok(Submitted::Created(id))
        }.await);
        let clash = match result {
            Ok(Submitted::Taken(clash)) => clash,
            // Another claim took a unit between the look and the insert (PostgreSQL): name it.
            Err(StoreError::Conflict { what: "claim_unit_taken", .. }) => {
                match self.live_clash(agency_id, draft.kind, &lines).await? {
                    Some(clash) => clash,
                    None => return Err(StoreError::Conflict { what: "claim_unit_taken", existing_id: None }),
                }
            }
            other => return other,
        };
        Ok(Submitted::Taken(self.named(draft.kind, clash).await?))
    }

    async fn live_clash(&self, agency_id: i64, kind: ClaimKind, lines: &[NewLine]) -> Result<Option<Clash>> {
        let subjects: Vec<i64> = lines.iter().map(|l| l.subject_id).collect::<HashSet<_>>().into_iter().collect();
        for chunk in subjects.chunks(CHUNK) {
            let live: Vec<LiveUnit> = on_pool!(self, p => {
                let mut q = sqlx::QueryBuilder::new(
                    LIVE_UNITS,
                );
                q.push_bind(kind.as_str()).push(" AND l.subject_id IN (");
                let mut list = q.separated(", ");
                for s in chunk {
                    list.push_bind(*s);
                }
                q.push(")");
                q.build_query_as().fetch_all(p).await?
            });
            if let Some(clash) = first_clash(lines, &live, agency_id) {
                return Ok(Some(clash));
            }
        }
        Ok(None)
    }

    /// Fills in the name of a clash's worker or point.
    async fn named(&self, kind: ClaimKind, mut clash: Clash) -> Result<Clash> {
        let sql = match kind {
            ClaimKind::PointRent => "SELECT name FROM service_points WHERE id = $1",
            _ => "SELECT name FROM workers WHERE id = $1",
        };
        let name: Option<(String,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(clash.subject_id).fetch_optional(p).await?);
        clash.subject_name = name.map(|n| n.0).unwrap_or_default();
        Ok(clash)
    }

    /// The lines of a draft, each with what does not match; refuses what is not the agency's.
    async fn claim_lines_for(&self, agency_id: i64, draft: &ClaimDraft) -> Result<Vec<NewLine>> {
        let not_yours = || {
            invalid(
                "items",
                Invalid::new(
                    "not_yours",
                    "所选内容不在本企业的列表中，请重新从列表中勾选",
                    "something picked is not on your agency's list; pick again from the list",
                ),
            )
        };
        let bindings: Vec<BindingFact> = on_pool!(self, p => sqlx::query_as(
            "SELECT worker_id, kind, started_at, ended_at FROM bindings
             WHERE agency_id = $1 AND status IN ('active', 'ended')",
        ).bind(agency_id).fetch_all(p).await?);
        let mut employee: HashMap<i64, Vec<Span>> = HashMap::new();
        let mut bound: HashMap<i64, Vec<Span>> = HashMap::new();
        for b in &bindings {
            if let Some(s) = span(b) {
                bound.entry(b.worker_id).or_default().push(s);
                if b.kind == "employee" {
                    employee.entry(b.worker_id).or_default().push(s);
                }
            }
        }
        let months = draft.period.months();
        let mut lines = Vec::with_capacity(draft.line_count());
        match draft.kind {
            ClaimKind::SocialInsurance => {
                let insured: Vec<(i64, bool, Option<NaiveDate>)> = on_pool!(self, p => sqlx::query_as(
                    "SELECT worker_id, enrolled, since FROM social_insurance WHERE agency_id = $1",
                ).bind(agency_id).fetch_all(p).await?);
                let insured: HashMap<i64, (bool, Option<NaiveDate>)> =
                    insured.into_iter().map(|(w, e, s)| (w, (e, s))).collect();
                for worker in &draft.items {
                    if !bound.contains_key(worker) {
                        return Err(not_yours());
                    }
                    let facts = InsuranceFacts {
                        employee: employee.get(worker).cloned().unwrap_or_default(),
                        insurance: insured.get(worker).copied(),
                    };
                    for month in &months {
                        lines.push(NewLine {
                            subject_id: *worker,
                            unit: month_code(*month),
                            record_id: None,
                            problems: LineProblem::store(&check_worker_month(Some(&facts), *month)),
                        });
                    }
                }
            }
            ClaimKind::Training | ClaimKind::Appraisal => {
                let records = self.record_facts(draft.kind, &draft.items).await?;
                for id in &draft.items {
                    let Some(r) = records.get(id) else { return Err(not_yours()) };
                    if !bound.contains_key(&r.worker_id) {
                        return Err(not_yours());
                    }
                    let facts = RecordFacts {
                        on: r.on_day,
                        passed: r.passed.unwrap_or(draft.kind == ClaimKind::Appraisal),
                        withdrawn: r.withdrawn,
                        bound: bound.get(&r.worker_id).cloned().unwrap_or_default(),
                    };
                    let unit = match draft.kind {
                        ClaimKind::Training => training_unit(&r.kind, r.on_day.filter(|_| facts.passed), r.id),
                        _ => certificate_unit(&r.kind, r.trade.as_deref(), r.level.as_deref()),
                    };
                    lines.push(NewLine {
                        subject_id: r.worker_id,
                        unit,
                        record_id: Some(r.id),
                        problems: LineProblem::store(&check_record(Some(&facts), &draft.period)),
                    });
                }
            }
            ClaimKind::PointRent => {
                let points: Vec<PointFact> = on_pool!(self, p => sqlx::query_as(
                    "SELECT id, name, address, status, created_at, closed_at FROM service_points WHERE agency_id = $1",
                ).bind(agency_id).fetch_all(p).await?);
                let points: HashMap<i64, PointFact> = points.into_iter().map(|p| (p.id, p)).collect();
                for id in &draft.items {
                    let Some(point) = points.get(id) else { return Err(not_yours()) };
                    let facts = PointFacts {
                        opened: point.created_at,
                        closed: point.closed_at,
                        closed_undated: point.status == "closed" && point.closed_at.is_none(),
                    };
                    for month in &months {
                        lines.push(NewLine {
                            subject_id: *id,
                            unit: month_code(*month),
                            record_id: None,
                            problems: LineProblem::store(&check_point_month(Some(&facts), *month)),
                        });
                    }
                }
            }
        }
        Ok(lines)
    }

    /// Training records or certificates by id, with what a claim reads of them.
    async fn record_facts(&self, kind: ClaimKind, ids: &[i64]) -> Result<HashMap<i64, RecordFact>> {
        let (table, on, kind_col, passed, _) = record_columns(kind);
        let (trade, level) = match kind {
            ClaimKind::Appraisal => ("t.trade", "t.level"),
            _ => ("CAST(NULL AS TEXT)", "CAST(NULL AS TEXT)"),
        };
        let head = format!(
            "SELECT t.id, t.worker_id, t.{on} AS on_day, {passed} AS passed,
                (t.withdrawn_seq IS NOT NULL) AS withdrawn, t.{kind_col} AS kind, {trade} AS trade, {level} AS level
             FROM {table} t WHERE t.id IN ("
        );
        let mut out = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<RecordFact> = on_pool!(self, p => {
                let mut q = sqlx::QueryBuilder::new(head.as_str());
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_as().fetch_all(p).await?
            });
            out.extend(rows.into_iter().map(|r| (r.id, r)));
        }
        Ok(out)
    }

    // ---- reading ----------------------------------------------------------------------------

    /// Claims in a scope, newest first; `status` narrows to one status.
    pub async fn subsidy_claims(
        &self,
        scope: &Viewing,
        status: Option<ClaimStatus>,
        page: PageRequest,
    ) -> Result<Page<ClaimRow>> {
        let (agency, district) = scope.binds();
        let filter =
            "($1 = 0 OR c.agency_id = $1) AND ($2 = '' OR c.district_code = $2) AND ($3 = '' OR c.status = $3)";
        let status = status.map_or("", |s| s.as_str());
        let sql = format!("{SELECT_CLAIM} WHERE {filter} ORDER BY c.id DESC LIMIT $4 OFFSET $5");
        let count = format!("SELECT COUNT(*) FROM subsidy_claims c WHERE {filter}");
        let (items, total): (Vec<ClaimRow>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency).bind(&district).bind(status).bind(page.limit())
                .bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as(sqlx::AssertSqlSafe(count)).bind(agency).bind(&district).bind(status).fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total.0))
    }

    /// One claim, for its agency and the regulators over its district; anyone else: not found.
    pub async fn subsidy_claim(&self, id: i64, who: &Principal) -> Result<ClaimRow> {
        let sql = format!("{SELECT_CLAIM} WHERE c.id = $1");
        let row: Option<ClaimRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
        row.filter(|c| may_see(who, c)).ok_or(StoreError::NotFound)
    }

    /// A page of a claim's lines; `mismatching` shows only lines that do not match.
    pub async fn claim_lines(&self, claim: &ClaimRow, mismatching: bool, page: PageRequest) -> Result<Page<ClaimLine>> {
        let sql = format!(
            "{SELECT_LINE} WHERE l.claim_id = $1 AND ($2 = 0 OR l.problems <> '') ORDER BY l.id LIMIT $3 OFFSET $4"
        );
        let flag = i64::from(mismatching);
        let items: Vec<ClaimLine> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(claim.id).bind(flag).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = if mismatching { claim.lines - claim.matching } else { claim.lines };
        Ok(page.wrap(items, total))
    }

    /// How many lines of a claim have each problem, most common first.
    pub async fn claim_problem_counts(&self, claim_id: i64) -> Result<Vec<(LineProblem, i64)>> {
        let rows: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT problems, COUNT(*) FROM subsidy_claim_lines WHERE claim_id = $1 AND problems <> '' GROUP BY problems",
        ).bind(claim_id).fetch_all(p).await?);
        let mut counts: HashMap<LineProblem, i64> = HashMap::new();
        for (problems, n) in rows {
            for code in problems.split(',') {
                if let Ok(p) = LineProblem::parse(code) {
                    *counts.entry(p).or_default() += n;
                }
            }
        }
        let mut out: Vec<(LineProblem, i64)> = counts.into_iter().collect();
        out.sort_by_key(|(p, n)| (-n, LineProblem::ALL.iter().position(|a| a == p)));
        Ok(out)
    }

    /// The evidence file of a claim, opened, for whom may see the claim.
    pub async fn claim_evidence(&self, id: i64, who: &Principal) -> Result<(EvidenceType, Vec<u8>)> {
        self.subsidy_claim(id, who).await?;
        let (mime, sealed): (String, Vec<u8>) = on_pool!(self, p => sqlx::query_as(
            "SELECT mime, sealed FROM subsidy_claim_evidence WHERE claim_id = $1",
        ).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)?;
        let kind = EvidenceType::from_mime(&mime).ok_or(StoreError::Crypto("unknown evidence type"))?;
        Ok((kind, self.crypto().open_bytes_at(&sealed, &evidence_place(id))?))
    }

    // ---- deciding ---------------------------------------------------------------------------

    /// The regulator's decision: approved lines are paid at their amounts; every other line is
    /// not approved, and its unit is free to be claimed again. Once only.
    pub async fn decide_claim(&self, id: i64, who: &Principal, verdict: &ClaimVerdict) -> Result<ClaimRow> {
        if who.role != Role::Regulator {
            return Err(StoreError::Refused("regulators decide claims".into()));
        }
        let before = self.subsidy_claim(id, who).await?;
        if !before.is_open() {
            return Err(StoreError::Conflict { what: "claim_decided", existing_id: Some(id) });
        }
        let at = now();
        let reason = verdict.reason.clone();
        write_tx!(self, tx => async {
            match verdict.decision {
                ClaimDecision::Matching => {
                    sqlx::query("UPDATE subsidy_claim_lines SET status = 'approved'
                                 WHERE claim_id = $1 AND status = 'pending' AND problems = ''")
                        .bind(id).execute(&mut *tx).await?;
                }
                ClaimDecision::Chosen => {
                    for chunk in verdict.lines.chunks(CHUNK) {
                        let mut q = sqlx::QueryBuilder::new(
                            "UPDATE subsidy_claim_lines SET status = 'approved' WHERE status = 'pending' AND problems = '' AND claim_id = ",
                        );
                        q.push_bind(id).push(" AND id IN (");
                        let mut list = q.separated(", ");
                        for line in chunk {
                            list.push_bind(*line);
                        }
                        q.push(")");
                        q.build().execute(&mut *tx).await?;
                    }
                }
                ClaimDecision::Reject => {}
            }
            let (approved, approved_fen): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM subsidy_claim_lines
                 WHERE claim_id = $1 AND status = 'approved'",
            ).bind(id).fetch_one(&mut *tx).await?;
            if verdict.decision == ClaimDecision::Chosen && approved as usize != verdict.lines.len() {
                return Err(invalid("lines", Invalid::new(
                    "not_in_claim",
                    "勾选的明细须属于这份申报且与平台记录相符",
                    "the lines ticked must be lines of this claim that match the records",
                )));
            }
            sqlx::query("UPDATE subsidy_claim_lines SET status = 'rejected' WHERE claim_id = $1 AND status = 'pending'")
                .bind(id).execute(&mut *tx).await?;
            let status = outcome(approved as usize, before.lines as usize);
            let done = sqlx::query(
                "UPDATE subsidy_claims SET status = $1, approved_fen = $2, approved_lines = $7, decided_by = $3,
                     decided_at = $4, decision_reason = $5 WHERE id = $6 AND status = 'submitted'",
            ).bind(status.as_str()).bind(approved_fen).bind(who.account_id).bind(at).bind(&reason).bind(id)
            .bind(approved)
            .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict { what: "claim_decided", existing_id: Some(id) });
            }
            let record = AuditRecord {
                actor: who.account_id,
                action: "claims.decide",
                subject_kind: "subsidy_claim",
                subject_id: id,
                subject_label: format!("{} {}", before.number(), before.agency_name),
                before: Some(serde_json::json!({
                    "status": before.status, "lines": before.lines, "matching": before.matching,
                    "claimed_fen": before.claimed_fen,
                })),
                after: Some(serde_json::json!({
                    "status": status.as_str(), "decision": verdict.decision.as_str(), "approved_lines": approved,
                    "approved_fen": approved_fen, "reason": reason,
                })),
            };
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)?;
        self.subsidy_claim(id, who).await
    }
}

/// The table and columns a record claim reads: (table, date column, kind column, passed
/// expression, name shown).
fn record_columns(kind: ClaimKind) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
    match kind {
        ClaimKind::Appraisal => ("skill_certificates", "issued_on", "kind", "CAST(NULL AS BOOLEAN)", "t.number"),
        // (the candidates list shows a certificate's kind, trade and level: see `cert_kind`)
        _ => ("training_records", "completed_on", "course_kind", "t.exam_passed", "t.course_name"),
    }
}

/// The first of `lines` (in their order) that matches the records and whose unit a live line holds.
fn first_clash(lines: &[NewLine], live: &[LiveUnit], agency_id: i64) -> Option<Clash> {
    if live.is_empty() {
        return None;
    }
    let held: HashMap<(i64, &str), &LiveUnit> = live.iter().map(|u| ((u.subject_id, u.unit.as_str()), u)).collect();
    // Only a line that matches the records holds its unit (see the unique index).
    lines.iter().filter(|l| l.problems.is_empty()).find_map(|l| {
        held.get(&(l.subject_id, l.unit.as_str())).map(|u| Clash {
            claim_id: u.claim_id,
            number: claim_number(u.claim_id, u.submitted_at),
            submitted_on: jiazheng_core::calendar::beijing_date(u.submitted_at),
            own: u.agency_id == agency_id,
            subject_id: u.subject_id,
            subject_name: String::new(),
            unit: u.unit.clone(),
        })
    })
}
