//! Schools and training bases, their courses, enrolments and exam results. A provider's
//! record of its own course is the authoritative one.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::workforce::records::{CourseDraft, ProviderDraft, ResultDraft};
use serde::Serialize;

use super::TrainingRecord;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Provider {
        pub id: i64,
        pub kind: String,
        pub name: String,
        pub code: String,
        pub district_code: String,
        pub teaches: String,
        pub created_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Course {
        pub id: i64,
        pub provider_id: i64,
        pub name: String,
        pub kind: String,
        pub mode: String,
        pub hours: i64,
        pub trade: Option<String>,
        pub enrolled: i64,
        pub created_at: DateTime<Utc>,
    }
}

row! {
    /// An enrolment as the school's course page lists it.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Enrolment {
        pub record_id: i64,
        pub worker_id: i64,
        pub worker_name: String,
        pub id_masked: String,
        pub started_on: NaiveDate,
        pub completed_on: Option<NaiveDate>,
        pub exam_passed: Option<bool>,
        pub exam_score: Option<i64>,
    }
}

const COURSE_COLUMNS: &str = "c.id, c.provider_id, c.name, c.kind, c.mode, c.hours, c.trade,
    (SELECT COUNT(*) FROM training_records t WHERE t.course_id = c.id AND t.source = 'provider') AS enrolled, c.created_at";

row! {
    /// One exam result as the school entered it.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ExamResult {
        pub completed_on: NaiveDate,
        pub exam_passed: bool,
        pub exam_score: Option<i64>,
        pub entry_seq: Option<i64>,
    }
}

impl Store {
    pub async fn create_provider(&self, draft: &ProviderDraft) -> Result<i64> {
        self.require_divisions(&[(draft.district.as_str(), "district")]).await?;
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO training_providers (kind, name, code, district_code, teaches, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        ).bind(draft.kind.as_str()).bind(&draft.name).bind(&draft.code).bind(draft.district.as_str())
        .bind(&draft.teaches).bind(now()).fetch_one(p).await.map_err(StoreError::conflict_on("provider_code"))?);
        Ok(id)
    }

    pub async fn provider(&self, id: i64) -> Result<Provider> {
        on_pool!(self, p => sqlx::query_as(
            "SELECT id, kind, name, code, district_code, teaches, created_at FROM training_providers WHERE id = $1",
        ).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
    }

    /// Every school and training base by name, for a picker: there are tens, not thousands.
    pub async fn provider_names(&self) -> Result<Vec<(i64, String)>> {
        Ok(
            on_pool!(self, p => sqlx::query_as("SELECT id, name FROM training_providers ORDER BY name, id").fetch_all(p).await?),
        )
    }

    pub async fn providers(&self, page: PageRequest) -> Result<Page<Provider>> {
        let (items, (total,)): (Vec<Provider>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(
                "SELECT id, kind, name, code, district_code, teaches, created_at FROM training_providers
                 ORDER BY id LIMIT $1 OFFSET $2",
            ).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as("SELECT COUNT(*) FROM training_providers").fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total))
    }

    pub async fn create_course(&self, provider_id: i64, draft: &CourseDraft) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO courses (provider_id, name, kind, mode, hours, trade, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        ).bind(provider_id).bind(&draft.name).bind(draft.kind.as_str()).bind(draft.mode.as_str())
        .bind(i64::from(draft.hours)).bind(draft.trade.map(|t| t.as_str())).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    pub async fn course(&self, id: i64) -> Result<Course> {
        let sql = format!("SELECT {COURSE_COLUMNS} FROM courses c WHERE c.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn courses(&self, provider_id: i64, page: PageRequest) -> Result<Page<Course>> {
        let sql = format!(
            "SELECT {COURSE_COLUMNS} FROM courses c WHERE c.provider_id = $1 ORDER BY c.id DESC LIMIT $2 OFFSET $3"
        );
        let (items, (total,)): (Vec<Course>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(provider_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as("SELECT COUNT(*) FROM courses WHERE provider_id = $1").bind(provider_id).fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total))
    }

    /// Enrols a worker in a course; a second enrolment in the same course is a conflict.
    pub async fn enrol(
        &self,
        course: &Course,
        provider_name: &str,
        worker_id: i64,
        started_on: NaiveDate,
        account: Option<i64>,
    ) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO training_records (worker_id, course_id, course_kind, course_name, provider_name, mode, hours,
                 started_on, source, source_id, recorded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'provider', $9, $10, $11) RETURNING id",
        ).bind(worker_id).bind(course.id).bind(&course.kind).bind(&course.name).bind(provider_name).bind(&course.mode)
        .bind(course.hours).bind(started_on).bind(course.provider_id).bind(account).bind(now())
        .fetch_one(p).await.map_err(StoreError::conflict_on("already_enrolled"))?);
        Ok(id)
    }

    pub async fn enrolments(&self, course_id: i64, page: PageRequest) -> Result<Page<Enrolment>> {
        let (items, (total,)): (Vec<Enrolment>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(
                "SELECT t.id AS record_id, t.worker_id, w.name AS worker_name, w.id_masked, t.started_on, t.completed_on,
                        t.exam_passed, t.exam_score
                 FROM training_records t JOIN workers w ON w.id = t.worker_id
                 WHERE t.course_id = $1 AND t.source = 'provider' ORDER BY t.id LIMIT $2 OFFSET $3",
            ).bind(course_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as("SELECT COUNT(*) FROM training_records WHERE course_id = $1 AND source = 'provider'")
                .bind(course_id).fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total))
    }

    pub async fn training_record(&self, id: i64) -> Result<TrainingRecord> {
        let sql = format!("SELECT {} FROM training_records WHERE id = $1", super::TRAINING_COLUMNS);
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Enters an exam result of an enrolment; only the provider that holds the record may. A
    /// retake adds a result: the record shows the latest, `exam_results` keeps them all.
    pub async fn record_result(&self, record_id: i64, provider_id: i64, result: &ResultDraft) -> Result<()> {
        self.record_results(provider_id, &[(record_id, result.clone())]).await
    }

    /// Enters several results at once: all of them, or none if any cannot be written.
    pub async fn record_results(&self, provider_id: i64, results: &[(i64, ResultDraft)]) -> Result<()> {
        // Each result is a credit fact: the provider's exam result goes into the worker's
        // ledger, in the same transaction as the result itself.
        let mut entries = Vec::with_capacity(results.len());
        for (record_id, result) in results {
            let record = self.training_record(*record_id).await?;
            entries.push(crate::credit::ledger::NewEntry {
                subject_kind: jiazheng_core::credit::SubjectKind::Worker,
                subject_id: record.worker_id,
                kind: jiazheng_core::credit::EntryKind::Training,
                payload: serde_json::json!({
                    "record": record_id, "course": record.course_id, "course_kind": record.course_kind,
                    "course_name": record.course_name, "provider": record.provider_name, "hours": record.hours,
                    "completed_on": result.completed_on.to_string(), "exam_passed": result.exam_passed,
                    "exam_score": result.exam_score,
                }),
                source: format!("provider:{provider_id}"),
                recorded_by: None,
                corrects: None,
            });
        }
        crate::credit::ledger::ledger_tx!(self, tx => async {
            for ((record_id, result), entry) in results.iter().zip(&entries) {
                let done = sqlx::query(
                    "UPDATE training_records SET completed_on = $1, exam_passed = $2, exam_score = $3
                     WHERE id = $4 AND source = 'provider' AND source_id = $5",
                ).bind(result.completed_on).bind(result.exam_passed).bind(result.exam_score.map(i64::from))
                .bind(record_id).bind(provider_id).execute(&mut *tx).await?.rows_affected();
                if done == 0 {
                    return Err(StoreError::NotFound);
                }
                // A result entered again (a retake, a fixed typo) replaces the earlier one in the
                // credit record: it corrects that entry, so one enrolment counts once.
                let previous: Option<(Option<i64>,)> = sqlx::query_as(
                    "SELECT entry_seq FROM exam_results WHERE record_id = $1 ORDER BY id DESC LIMIT 1",
                ).bind(record_id).fetch_optional(&mut *tx).await?;
                let mut entry = entry.clone();
                entry.corrects = previous.and_then(|(seq,)| seq);
                let entry = crate::credit::ledger::append_in!(tx, &entry)?;
                sqlx::query(
                    "INSERT INTO exam_results (record_id, completed_on, exam_passed, exam_score, entry_seq, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                ).bind(record_id).bind(result.completed_on).bind(result.exam_passed).bind(result.exam_score.map(i64::from))
                .bind(entry.seq).bind(now()).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)?;
        Ok(())
    }

    /// Every result entered for an enrolment, first to last.
    pub async fn exam_results(&self, record_id: i64) -> Result<Vec<ExamResult>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT completed_on, exam_passed, exam_score, entry_seq FROM exam_results WHERE record_id = $1 ORDER BY id",
        ).bind(record_id).fetch_all(p).await?))
    }
}
