//! Workforce persistence: schools and courses, the records agencies and schools write about a
//! worker, the facts the compliance rules read, the agency board, reminders and city rates.

pub mod board;
pub mod facts;
pub mod import;
pub mod jobs;
pub mod providers;
pub mod readiness;
pub mod results;

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::workforce::Source;
use jiazheng_core::workforce::health_check_expiry;
use jiazheng_core::workforce::records::{
    CertificateDraft, EducationDraft, HealthCheckDraft, InsuranceDraft, SocialInsuranceDraft, TrainingDraft,
};
use serde::Serialize;
use serde_json::json;
use sha2::Digest;
use sqlx::QueryBuilder;

use crate::credit::ledger::{append_many_in, ledger_tx};
use crate::{Result, Store, each_chunk, now, on_pool};

/// Who wrote a record: the kind of source, which agency or provider, and the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorder {
    pub source: Source,
    pub source_id: Option<i64>,
    pub account_id: Option<i64>,
}

impl Recorder {
    pub fn agency(agency_id: i64, account_id: Option<i64>) -> Self {
        Self { source: Source::Agency, source_id: Some(agency_id), account_id }
    }

    pub fn provider(provider_id: i64, account_id: Option<i64>) -> Self {
        Self { source: Source::Provider, source_id: Some(provider_id), account_id }
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct TrainingRecord {
        pub id: i64,
        pub worker_id: i64,
        pub course_id: Option<i64>,
        pub course_kind: String,
        pub course_name: String,
        pub provider_name: String,
        pub mode: String,
        pub hours: i64,
        pub started_on: NaiveDate,
        pub completed_on: Option<NaiveDate>,
        pub exam_passed: Option<bool>,
        pub exam_score: Option<i64>,
        pub source: String,
        pub source_id: Option<i64>,
        pub created_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Certificate {
        pub id: i64,
        pub worker_id: i64,
        pub kind: String,
        pub trade: Option<String>,
        pub level: Option<String>,
        pub issuer: String,
        pub number: String,
        pub issued_on: NaiveDate,
        pub valid_until: Option<NaiveDate>,
        pub source: String,
        pub source_id: Option<i64>,
        pub created_at: DateTime<Utc>,
    }
}

/// A health check; `result` is present only for readers allowed to see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCheck {
    pub id: i64,
    pub worker_id: i64,
    pub checked_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub institution: String,
    pub category: String,
    pub result: Option<HealthResult>,
    pub source: String,
    pub source_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResult {
    pub passed: bool,
    pub notes: Option<String>,
}

impl HealthResult {
    /// The sealed form: "pass" or "fail", then the notes after a newline.
    pub(crate) fn to_plain(&self) -> String {
        format!("{}\n{}", if self.passed { "pass" } else { "fail" }, self.notes.as_deref().unwrap_or(""))
    }

    pub(crate) fn from_plain(plain: &str) -> Self {
        let (verdict, notes) = plain.split_once('\n').unwrap_or((plain, ""));
        Self { passed: verdict == "pass", notes: Some(notes.to_string()).filter(|n| !n.is_empty()) }
    }
}

row! {
    struct HealthRow {
        id: i64,
        worker_id: i64,
        checked_on: NaiveDate,
        expires_on: NaiveDate,
        institution: String,
        category: String,
        result_cipher: Vec<u8>,
        source: String,
        source_id: Option<i64>,
        created_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Policy {
        pub id: i64,
        /// Absent for a policy covering all of an agency's workers.
        pub worker_id: Option<i64>,
        pub agency_id: Option<i64>,
        pub kind: String,
        pub insurer: String,
        pub policy_number: String,
        pub starts_on: NaiveDate,
        pub ends_on: NaiveDate,
        pub sum_insured_fen: i64,
        pub source: String,
        pub source_id: Option<i64>,
        pub created_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct SocialInsurance {
        pub agency_id: i64,
        pub agency_name: String,
        pub enrolled: bool,
        pub since: Option<NaiveDate>,
        pub updated_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Education {
        pub level: String,
        pub school: Option<String>,
        pub major: Option<String>,
        pub related: bool,
        pub evidence: Option<String>,
    }
}

/// Everything the platform knows of a worker's qualifications, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkforceRecord {
    pub trainings: Vec<TrainingRecord>,
    pub certificates: Vec<Certificate>,
    pub health_checks: Vec<HealthCheck>,
    pub policies: Vec<Policy>,
    pub social_insurance: Vec<SocialInsurance>,
    pub education: Education,
}

pub(crate) const TRAINING_COLUMNS: &str =
    "id, worker_id, course_id, course_kind, course_name, provider_name, mode, hours,
    started_on, completed_on, exam_passed, exam_score, source, source_id, created_at";
const CERTIFICATE_COLUMNS: &str =
    "id, worker_id, kind, trade, level, issuer, number, issued_on, valid_until, source, source_id, created_at";
const HEALTH_COLUMNS: &str =
    "id, worker_id, checked_on, expires_on, institution, category, result_cipher, source, source_id, created_at";
const POLICY_COLUMNS: &str = "p.id, p.worker_id, p.agency_id, p.kind, p.insurer, p.policy_number, p.starts_on,
    p.ends_on, p.sum_insured_fen, p.source, p.source_id, p.created_at";

/// The ledger's name for who recorded a fact, e.g. `agency:12`.
fn source_label(by: &Recorder) -> String {
    match by.source_id {
        Some(id) => format!("{}:{id}", by.source.as_str()),
        None => by.source.as_str().to_string(),
    }
}

/// A credit ledger entry for a workforce record just written.
fn ledger_entry(
    subject: (SubjectKind, i64),
    kind: EntryKind,
    by: &Recorder,
    payload: serde_json::Value,
) -> crate::credit::ledger::NewEntry {
    crate::credit::ledger::NewEntry {
        subject_kind: subject.0,
        subject_id: subject.1,
        kind,
        payload,
        source: source_label(by),
        recorded_by: by.account_id,
        corrects: None,
    }
}

/// Rows per INSERT statement: well under both engines' parameter limits.
const BATCH: usize = 400;

impl Store {
    /// Writes training records, each with who recorded it, in one transaction: all or none.
    pub async fn add_trainings(&self, rows: &[(i64, &TrainingDraft, Recorder)]) -> Result<Vec<i64>> {
        let at = now();
        ledger_tx!(self, tx => async {
            let ids: Vec<i64> = each_chunk!(rows.chunks(BATCH), |chunk| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO training_records (worker_id, course_kind, course_name, provider_name, mode, hours,
                        started_on, completed_on, exam_passed, exam_score, source, source_id, recorded_by, created_at) ",
                );
                qb.push_values(chunk, |mut b, (worker, t, by)| {
                    b.push_bind(*worker).push_bind(t.course_kind.as_str()).push_bind(t.course_name.clone())
                        .push_bind(t.provider_name.clone()).push_bind(t.mode.as_str()).push_bind(i64::from(t.hours))
                        .push_bind(t.started_on).push_bind(t.completed_on).push_bind(t.exam_passed)
                        .push_bind(t.exam_score.map(i64::from)).push_bind(by.source.as_str()).push_bind(by.source_id)
                        .push_bind(by.account_id).push_bind(at);
                });
                qb.push(" RETURNING id");
                qb
            }, |qb| qb.build_query_as::<(i64,)>().fetch_all(&mut *tx))
            .into_iter()
            .flatten()
            .map(|(id,)| id)
            .collect();
        let entries: Vec<_> = rows
            .iter()
            .zip(&ids)
            .map(|((worker, t, by), id)| {
                let payload = json!({
                    "record": id, "course_kind": t.course_kind.as_str(), "course": t.course_name,
                    "provider": t.provider_name, "hours": t.hours, "completed_on": t.completed_on.to_string(),
                    "exam_passed": t.exam_passed, "exam_score": t.exam_score,
                });
                ledger_entry((SubjectKind::Worker, *worker), EntryKind::Training, by, payload)
            })
            .collect();
        append_many_in!(tx, &entries)?;
        Ok(ids)
        }.await)
    }

    pub async fn add_certificates(&self, rows: &[(i64, &CertificateDraft, Recorder)]) -> Result<Vec<i64>> {
        let at = now();
        ledger_tx!(self, tx => async {
            let ids: Vec<i64> = each_chunk!(rows.chunks(BATCH), |chunk| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO skill_certificates (worker_id, kind, trade, level, issuer, number, issued_on,
                        valid_until, source, source_id, recorded_by, created_at) ",
                );
                qb.push_values(chunk, |mut b, (worker, c, by)| {
                    b.push_bind(*worker).push_bind(c.kind.as_str()).push_bind(c.trade.map(|t| t.as_str()))
                        .push_bind(c.level.map(|l| l.as_str())).push_bind(c.issuer.clone()).push_bind(c.number.clone())
                        .push_bind(c.issued_on).push_bind(c.valid_until).push_bind(by.source.as_str())
                        .push_bind(by.source_id).push_bind(by.account_id).push_bind(at);
                });
                qb.push(" RETURNING id");
                qb
            }, |qb| qb.build_query_as::<(i64,)>().fetch_all(&mut *tx))
            .into_iter()
            .flatten()
            .map(|(id,)| id)
            .collect();
        let entries: Vec<_> = rows
            .iter()
            .zip(&ids)
            .map(|((worker, c, by), id)| {
                let payload = json!({
                    "record": id, "kind": c.kind.as_str(), "trade": c.trade.map(|t| t.as_str()),
                    "level": c.level.map(|l| l.as_str()), "issuer": c.issuer, "number": c.number,
                    "issued_on": c.issued_on.to_string(), "valid_until": c.valid_until.map(|d| d.to_string()),
                });
                ledger_entry((SubjectKind::Worker, *worker), EntryKind::Certificate, by, payload)
            })
            .collect();
        append_many_in!(tx, &entries)?;
        Ok(ids)
        }.await)
    }

    /// Writes health checks; each result is sealed before it leaves this process, bound to its
    /// worker, date and category.
    pub async fn add_health_checks(&self, rows: &[(i64, &HealthCheckDraft, Recorder)]) -> Result<Vec<i64>> {
        let at = now();
        let sealed: Vec<Vec<u8>> = rows
            .iter()
            .map(|(worker, h, _)| {
                let plain = HealthResult { passed: h.passed, notes: h.notes.clone() }.to_plain();
                self.crypto().seal_at(&plain, &health_place(*worker, h.checked_on, h.category.as_str()))
            })
            .collect();
        ledger_tx!(self, tx => async {
            let ids: Vec<i64> = each_chunk!(rows.chunks(BATCH).zip(sealed.chunks(BATCH)), |(chunk, ciphers)| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO health_checks (worker_id, checked_on, expires_on, institution, category, result_cipher,
                        source, source_id, recorded_by, created_at) ",
                );
                qb.push_values(chunk.iter().zip(ciphers), |mut b, ((worker, h, by), cipher)| {
                    b.push_bind(*worker).push_bind(h.checked_on).push_bind(health_check_expiry(h.checked_on))
                        .push_bind(h.institution.clone()).push_bind(h.category.as_str()).push_bind(cipher.clone())
                        .push_bind(by.source.as_str()).push_bind(by.source_id).push_bind(by.account_id).push_bind(at);
                });
                qb.push(" RETURNING id");
                qb
            }, |qb| qb.build_query_as::<(i64,)>().fetch_all(&mut *tx))
            .into_iter()
            .flatten()
            .map(|(id,)| id)
            .collect();
        // The result stays sealed: the ledger holds a digest of the sealed result, so a changed
        // result is still caught, without the result itself.
        let entries: Vec<_> = rows
            .iter()
            .zip(&ids)
            .zip(&sealed)
            .map(|(((worker, h, by), id), cipher)| {
                let payload = json!({
                    "record": id, "checked_on": h.checked_on.to_string(), "category": h.category.as_str(),
                    "institution": h.institution, "sealed_result_sha256": hex::encode(sha2::Sha256::digest(cipher)),
                });
                ledger_entry((SubjectKind::Worker, *worker), EntryKind::HealthCheck, by, payload)
            })
            .collect();
        append_many_in!(tx, &entries)?;
        Ok(ids)
        }.await)
    }

    /// Writes policies: `(Some(worker), _)` covers one worker, `(None, agency)` all of an
    /// agency's workers.
    pub async fn add_policies(&self, rows: &[(Option<i64>, i64, &InsuranceDraft, Recorder)]) -> Result<Vec<i64>> {
        let at = now();
        ledger_tx!(self, tx => async {
            let ids: Vec<i64> = each_chunk!(rows.chunks(BATCH), |chunk| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO insurance_policies (worker_id, agency_id, kind, insurer, policy_number, starts_on,
                        ends_on, sum_insured_fen, source, source_id, recorded_by, created_at) ",
                );
                qb.push_values(chunk, |mut b, (worker, agency, i, by)| {
                    b.push_bind(*worker).push_bind(*agency).push_bind(i.kind.as_str()).push_bind(i.insurer.clone())
                        .push_bind(i.policy_number.clone()).push_bind(i.starts_on).push_bind(i.ends_on)
                        .push_bind(i.sum_insured_fen).push_bind(by.source.as_str()).push_bind(by.source_id)
                        .push_bind(by.account_id).push_bind(at);
                });
                qb.push(" RETURNING id");
                qb
            }, |qb| qb.build_query_as::<(i64,)>().fetch_all(&mut *tx))
            .into_iter()
            .flatten()
            .map(|(id,)| id)
            .collect();
        let entries: Vec<_> = rows
            .iter()
            .zip(&ids)
            .map(|((worker, agency, i, by), id)| {
                let subject = worker.map_or((SubjectKind::Agency, *agency), |w| (SubjectKind::Worker, w));
                let payload = json!({
                    "record": id, "kind": i.kind.as_str(), "insurer": i.insurer, "policy_number": i.policy_number,
                    "starts_on": i.starts_on.to_string(), "ends_on": i.ends_on.to_string(),
                    "sum_insured_fen": i.sum_insured_fen, "agency": agency,
                });
                ledger_entry(subject, EntryKind::Insurance, by, payload)
            })
            .collect();
        append_many_in!(tx, &entries)?;
        Ok(ids)
        }.await)
    }

    /// Records whether an employee-based worker is enrolled in social insurance by this agency.
    pub async fn set_social_insurance(
        &self,
        worker_id: i64,
        agency_id: i64,
        draft: &SocialInsuranceDraft,
    ) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO social_insurance (worker_id, agency_id, enrolled, since, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (worker_id, agency_id) DO UPDATE SET enrolled = excluded.enrolled, since = excluded.since,
                 updated_at = excluded.updated_at",
        ).bind(worker_id).bind(agency_id).bind(draft.enrolled).bind(draft.since).bind(now()).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// Sets a worker's education; the record's version moves so concurrent edits are noticed.
    pub async fn set_education(&self, worker_id: i64, draft: &EducationDraft) -> Result<()> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE workers SET education_level = $1, education_school = $2, education_major = $3,
                 education_related = $4, education_evidence = $5, version = version + 1, updated_at = $6 WHERE id = $7",
        ).bind(draft.level.as_str()).bind(&draft.school).bind(&draft.major).bind(draft.related).bind(&draft.evidence)
        .bind(now()).bind(worker_id).execute(p).await?.rows_affected());
        if done == 0 { Err(crate::StoreError::NotFound) } else { Ok(()) }
    }

    /// A worker's whole workforce record. Health results are opened only when `reveal` is set;
    /// the caller checks the reader and logs the read.
    pub async fn workforce_record(&self, worker_id: i64, reveal: bool) -> Result<WorkforceRecord> {
        let sql = |columns: &str, table: &str, order: &str| {
            format!("SELECT {columns} FROM {table} WHERE worker_id = $1 ORDER BY {order} DESC, id DESC")
        };
        let (trainings, certificates, health, policies, social, education) = on_pool!(self, p => {
            let trainings: Vec<TrainingRecord> = sqlx::query_as(sqlx::AssertSqlSafe(
                sql(TRAINING_COLUMNS, "training_records", "started_on"))).bind(worker_id).fetch_all(p).await?;
            let certificates: Vec<Certificate> = sqlx::query_as(sqlx::AssertSqlSafe(
                sql(CERTIFICATE_COLUMNS, "skill_certificates", "issued_on"))).bind(worker_id).fetch_all(p).await?;
            let health: Vec<HealthRow> = sqlx::query_as(sqlx::AssertSqlSafe(
                sql(HEALTH_COLUMNS, "health_checks", "checked_on"))).bind(worker_id).fetch_all(p).await?;
            let policies: Vec<Policy> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {POLICY_COLUMNS} FROM insurance_policies p
                 WHERE p.worker_id = $1 OR (p.worker_id IS NULL AND p.agency_id IN
                     (SELECT agency_id FROM bindings WHERE worker_id = $1 AND status = 'active'))
                 ORDER BY p.ends_on DESC, p.id DESC"))).bind(worker_id).fetch_all(p).await?;
            let social: Vec<SocialInsurance> = sqlx::query_as(
                "SELECT s.agency_id, a.name AS agency_name, s.enrolled, s.since, s.updated_at FROM social_insurance s
                 JOIN agencies a ON a.id = s.agency_id WHERE s.worker_id = $1 ORDER BY s.updated_at DESC",
            ).bind(worker_id).fetch_all(p).await?;
            let education: Option<Education> = sqlx::query_as(
                "SELECT education_level AS level, education_school AS school, education_major AS major,
                        education_related AS related, education_evidence AS evidence FROM workers WHERE id = $1",
            ).bind(worker_id).fetch_optional(p).await?;
            (trainings, certificates, health, policies, social, education)
        });
        let education = education.ok_or(crate::StoreError::NotFound)?;
        let health_checks = health
            .into_iter()
            .map(|h| {
                let place = health_place(h.worker_id, h.checked_on, &h.category);
                let result = if reveal {
                    Some(HealthResult::from_plain(&self.crypto().open_at(&h.result_cipher, &place)?))
                } else {
                    None
                };
                Ok(HealthCheck {
                    id: h.id,
                    worker_id: h.worker_id,
                    checked_on: h.checked_on,
                    expires_on: h.expires_on,
                    institution: h.institution,
                    category: h.category,
                    result,
                    source: h.source,
                    source_id: h.source_id,
                    created_at: h.created_at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(WorkforceRecord { trainings, certificates, health_checks, policies, social_insurance: social, education })
    }

    /// The agency's own policies that cover all its workers.
    pub async fn agency_policies(&self, agency_id: i64) -> Result<Vec<Policy>> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM insurance_policies p WHERE p.worker_id IS NULL AND p.agency_id = $1
             ORDER BY p.ends_on DESC, p.id DESC"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency_id).fetch_all(p).await?))
    }
}

/// Where a sealed health result belongs: its worker, date and category. A result copied onto
/// another check does not open.
pub(crate) fn health_place(worker_id: i64, checked_on: NaiveDate, category: &str) -> String {
    format!("health_checks.result:{worker_id}:{checked_on}:{category}")
}
