//! Rectification orders. A regulator over an agency's district (or the city) opens an order from
//! a penalty on the agency's ledger or from an upheld complaint about it (one order per source);
//! the agency reports what it did, with evidence; the regulator accepts (closes), extends the
//! deadline or returns the report. Every step is kept; a step moves the order only from the
//! state it was read in, so two people acting at once cannot both win.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::rectification::{
    OrderDraft, RectificationSource, RectificationStatus, Review, is_overdue, overdue_sql, report,
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

fn evidence_place(step: i64) -> String {
    format!("rectification_steps.evidence_sealed:{step}")
}

/// The most steps an order's page lists (an order has a handful).
pub const MAX_STEPS: i64 = 200;
/// Reports an agency may send before the regulator acts on them.
pub const MAX_WAITING_REPORTS: i64 = 3;

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RectificationRow {
        pub id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub district_code: String,
        pub district_name: String,
        /// `penalty` or `complaint`.
        pub source_kind: String,
        /// The penalty's ledger entry (seq) or the complaint's id.
        pub source_id: i64,
        /// The penalty's ledger payload (JSON), or the complaint's text.
        pub source_detail: String,
        pub requirement: String,
        /// Beijing date.
        pub deadline: NaiveDate,
        /// `open`, `reported` or `accepted`.
        pub status: String,
        /// The Beijing date of the latest report.
        pub reported_on: Option<NaiveDate>,
        pub opened_at: DateTime<Utc>,
        pub opened_by_name: String,
        pub updated_at: DateTime<Utc>,
        pub closed_at: Option<DateTime<Utc>>,
    }
}

impl RectificationRow {
    pub fn status(&self) -> RectificationStatus {
        RectificationStatus::parse(&self.status).unwrap_or(RectificationStatus::Open)
    }

    pub fn overdue(&self, today: NaiveDate) -> bool {
        is_overdue(self.status(), self.deadline, self.reported_on, today)
    }

    /// `ZG2026-000003`.
    pub fn number(&self) -> String {
        use chrono::Datelike;
        format!("ZG{}-{:06}", jiazheng_core::calendar::beijing_date(self.opened_at).year(), self.id)
    }
}

const SELECT_ORDER: &str = "SELECT o.id, o.agency_id, a.name AS agency_name, o.district_code, d.name AS district_name,
    o.source_kind, o.source_id, COALESCE(e.payload, c.body, '') AS source_detail, o.requirement, o.deadline, o.status,
    o.reported_on, o.opened_at, r.display_name AS opened_by_name, o.updated_at, o.closed_at
    FROM rectification_orders o JOIN agencies a ON a.id = o.agency_id JOIN divisions d ON d.code = o.district_code
    JOIN accounts r ON r.id = o.opened_by
    LEFT JOIN credit_ledger e ON o.source_kind = 'penalty' AND e.seq = o.source_id
    LEFT JOIN complaints c ON o.source_kind = 'complaint' AND c.id = o.source_id";

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RectificationStepRow {
        pub id: i64,
        pub order_id: i64,
        /// `opened`, `reported`, `returned`, `extended` or `accepted`.
        pub step: String,
        pub body: Option<String>,
        pub deadline_before: Option<NaiveDate>,
        pub deadline_after: Option<NaiveDate>,
        pub has_evidence: bool,
        pub by_name: String,
        pub at: DateTime<Utc>,
    }
}

row! {
    /// A penalty or an upheld complaint about an agency, without an order yet.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RectificationSourceRow {
        /// `penalty` or `complaint`.
        pub source_kind: String,
        pub source_id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        /// The penalty's ledger payload (JSON), or the complaint's text.
        pub detail: String,
        /// When the complaint was upheld (penalties carry their date in the payload).
        pub upheld_at: Option<DateTime<Utc>>,
    }
}

/// The agency a complaint is about: the agency itself, or the agency of the service complained of.
const COMPLAINT_AGENCY: &str = "CASE WHEN c.subject_kind = 'agency' THEN c.subject_id ELSE s.agency_id END";

/// Penalties on agencies and upheld complaints about them without an order, in the area `$1` ('' for all).
fn sources_union() -> String {
    format!(
            "SELECT 'penalty' AS source_kind, e.seq AS source_id, a.id AS agency_id, a.name AS agency_name,
                e.payload AS detail, CAST(NULL AS TIMESTAMPTZ) AS upheld_at
             FROM credit_ledger e JOIN agencies a ON a.id = e.subject_id
             WHERE e.kind = 'penalty' AND e.subject_kind = 'agency' AND ($1 = '' OR a.district_code = $1)
               AND NOT EXISTS (SELECT 1 FROM credit_ledger x WHERE x.corrects = e.seq)
               AND NOT EXISTS (SELECT 1 FROM rectification_orders o WHERE o.source_kind = 'penalty' AND o.source_id = e.seq)
             UNION ALL
             SELECT 'complaint' AS source_kind, c.id AS source_id, a.id AS agency_id, a.name AS agency_name,
                c.body AS detail, c.updated_at AS upheld_at
             FROM complaints c LEFT JOIN service_records s ON s.id = c.service_id
             JOIN agencies a ON a.id = {COMPLAINT_AGENCY}
             WHERE c.status = 'upheld' AND ($1 = '' OR a.district_code = $1)
               AND NOT EXISTS (SELECT 1 FROM rectification_orders o WHERE o.source_kind = 'complaint' AND o.source_id = c.id)"
        )
}

fn may_see(who: &Principal, order: &RectificationRow) -> bool {
    match who.agency_id() {
        Some(agency) => agency == order.agency_id,
        None => DivisionCode::parse(&order.district_code).is_ok_and(|d| who.regulates(&d)),
    }
}

fn regulator(who: &Principal) -> Result<()> {
    if who.role == Role::Regulator { Ok(()) } else { Err(StoreError::Refused("regulators only".into())) }
}

impl Store {
    /// Penalties on agencies and upheld complaints about them, in a regulator's area, that have
    /// no order yet; newest first.
    pub async fn rectification_sources(
        &self,
        who: &Principal,
        page: PageRequest,
    ) -> Result<Page<RectificationSourceRow>> {
        regulator(who)?;
        let area = who.regulated_area().flatten().map(|d| d.to_string()).unwrap_or_default();
        let union = sources_union();
        let sql = format!("SELECT * FROM ({union}) u ORDER BY u.source_kind DESC, u.source_id DESC LIMIT $2 OFFSET $3");
        let count = format!("SELECT COUNT(*) FROM ({union}) u");
        let (items, total): (Vec<RectificationSourceRow>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&area).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as(sqlx::AssertSqlSafe(count)).bind(&area).fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total.0))
    }

    /// One source of the regulator's list (in the area, without an order yet); otherwise not found.
    pub async fn rectification_source(&self, who: &Principal, kind: &str, id: i64) -> Result<RectificationSourceRow> {
        regulator(who)?;
        let area = who.regulated_area().flatten().map(|d| d.to_string()).unwrap_or_default();
        let sql = format!("SELECT * FROM ({}) u WHERE u.source_kind = $2 AND u.source_id = $3", sources_union());
        let row: Option<RectificationSourceRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&area).bind(kind).bind(id).fetch_optional(p).await?);
        row.ok_or(StoreError::NotFound)
    }

    /// The agency a source is about, checked: a penalty on an agency's ledger, or an upheld
    /// complaint with an agency. Outside the regulator's area: not found.
    async fn source_agency(
        &self,
        who: &Principal,
        source: RectificationSource,
        id: i64,
    ) -> Result<(i64, String, String)> {
        let not_a_source = || {
            invalid(
                "source_id",
                Invalid::new(
                    "not_a_source",
                    "只能针对企业的行政处罚或成立的投诉下达整改",
                    "an order follows a penalty on an agency or an upheld complaint about one",
                ),
            )
        };
        let found: Option<(i64, String, String)> = match source {
            RectificationSource::Penalty => on_pool!(self, p => sqlx::query_as(
                "SELECT a.id, a.district_code, a.name FROM credit_ledger e JOIN agencies a ON a.id = e.subject_id
                 WHERE e.seq = $1 AND e.kind = 'penalty' AND e.subject_kind = 'agency'",
            ).bind(id).fetch_optional(p).await?),
            RectificationSource::Complaint => {
                let sql = format!(
                    "SELECT a.id, a.district_code, a.name FROM complaints c LEFT JOIN service_records s ON s.id = c.service_id
                     JOIN agencies a ON a.id = {COMPLAINT_AGENCY} WHERE c.id = $1 AND c.status = 'upheld'"
                );
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            }
        };
        let (agency, district, name) = found.ok_or_else(not_a_source)?;
        if !DivisionCode::parse(&district).is_ok_and(|d| who.regulates(&d)) {
            return Err(StoreError::NotFound);
        }
        Ok((agency, district, name))
    }

    /// Opens an order; one per penalty or complaint (a second answers 409 naming the first).
    pub async fn open_rectification(&self, who: &Principal, draft: &OrderDraft) -> Result<i64> {
        regulator(who)?;
        let (agency, district, agency_name) = self.source_agency(who, draft.source, draft.source_id).await?;
        let at = now();
        let opened = write_tx!(self, tx => async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO rectification_orders (agency_id, district_code, source_kind, source_id, requirement, deadline,
                     status, opened_by, opened_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $8) RETURNING id",
            ).bind(agency).bind(&district).bind(draft.source.as_str()).bind(draft.source_id).bind(&draft.requirement)
            .bind(draft.deadline).bind(who.account_id).bind(at).fetch_one(&mut *tx).await
            .map_err(StoreError::conflict_on("rectification_exists"))?;
            sqlx::query(
                "INSERT INTO rectification_steps (order_id, step, body, deadline_after, by_account, at)
                 VALUES ($1, 'opened', $2, $3, $4, $5)",
            ).bind(id).bind(&draft.requirement).bind(draft.deadline).bind(who.account_id).bind(at)
            .execute(&mut *tx).await?;
            let record = AuditRecord {
                actor: who.account_id,
                action: "rectification.open",
                subject_kind: "rectification_order",
                subject_id: id,
                subject_label: agency_name.clone(),
                before: None,
                after: Some(serde_json::json!({
                    "source": draft.source.as_str(), "source_id": draft.source_id,
                    "deadline": draft.deadline.to_string(), "requirement": draft.requirement,
                })),
            };
            audit_in!(&mut *tx, &record)?;
            Ok(id)
        }.await);
        match opened {
            Err(StoreError::Conflict { what: "rectification_exists", .. }) => {
                let existing: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
                    "SELECT id FROM rectification_orders WHERE source_kind = $1 AND source_id = $2",
                ).bind(draft.source.as_str()).bind(draft.source_id).fetch_optional(p).await?);
                Err(StoreError::Conflict { what: "rectification_exists", existing_id: existing.map(|e| e.0) })
            }
            other => other,
        }
    }

    /// Orders in a scope, most urgent first (open before closed, earliest deadline first);
    /// `overdue_only` keeps those overdue on `today`.
    pub async fn rectifications(
        &self,
        scope: &Viewing,
        overdue_only: bool,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Page<RectificationRow>> {
        let (agency, district) = scope.binds();
        let overdue = overdue_sql("o", "$3");
        let filter =
            format!("($1 = 0 OR o.agency_id = $1) AND ($2 = '' OR o.district_code = $2) AND ($4 = 0 OR {overdue})");
        let sql = format!(
            "{SELECT_ORDER} WHERE {filter}
             ORDER BY CASE WHEN o.status = 'accepted' THEN 1 ELSE 0 END, o.deadline, o.id LIMIT $5 OFFSET $6"
        );
        let count = format!("SELECT COUNT(*) FROM rectification_orders o WHERE {filter}");
        let flag = i64::from(overdue_only);
        let (items, total): (Vec<RectificationRow>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency).bind(&district).bind(today).bind(flag)
                .bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as(sqlx::AssertSqlSafe(count)).bind(agency).bind(&district).bind(today).bind(flag)
                .fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total.0))
    }

    /// How many of an agency's orders are overdue on `today`.
    pub async fn overdue_rectifications(&self, agency_id: i64, today: NaiveDate) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM rectification_orders o WHERE o.agency_id = $1 AND {}",
            overdue_sql("o", "$2")
        );
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency_id).bind(today).fetch_one(p).await?);
        Ok(n)
    }

    /// One order, for its agency and the regulators over its district; anyone else: not found.
    pub async fn rectification(&self, id: i64, who: &Principal) -> Result<RectificationRow> {
        let sql = format!("{SELECT_ORDER} WHERE o.id = $1");
        let row: Option<RectificationRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
        row.filter(|o| may_see(who, o)).ok_or(StoreError::NotFound)
    }

    /// An order's latest steps (at most `MAX_STEPS`), oldest first: the latest decision always shows.
    pub async fn rectification_steps(&self, id: i64) -> Result<Vec<RectificationStepRow>> {
        let mut steps: Vec<RectificationStepRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT s.id, s.order_id, s.step, s.body, s.deadline_before, s.deadline_after,
                (s.evidence_mime IS NOT NULL) AS has_evidence, a.display_name AS by_name, s.at
             FROM rectification_steps s JOIN accounts a ON a.id = s.by_account
             WHERE s.order_id = $1 ORDER BY s.id DESC LIMIT $2",
        ).bind(id).bind(MAX_STEPS).fetch_all(p).await?);
        steps.reverse();
        Ok(steps)
    }

    /// The agency reports what it did; refused (422) once the order is accepted and closed.
    pub async fn report_rectification(
        &self,
        id: i64,
        who: &Principal,
        text: &str,
        evidence: Option<(&[u8], EvidenceType)>,
        today: NaiveDate,
    ) -> Result<()> {
        if who.agency_id().is_none() {
            return Err(StoreError::Refused("the agency reports".into()));
        }
        let order = self.rectification(id, who).await?;
        let from = order.status();
        report(from).map_err(|e| invalid("text", e))?;
        let at = now();
        write_tx!(self, tx => async {
            // Reports wait for the regulator a few at a time, so an agency cannot bury the order.
            let (waiting,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM rectification_steps WHERE order_id = $1 AND step = 'reported'
                   AND id > COALESCE((SELECT MAX(id) FROM rectification_steps WHERE order_id = $1 AND step <> 'reported'), 0)",
            ).bind(id).fetch_one(&mut *tx).await?;
            if waiting >= MAX_WAITING_REPORTS {
                return Err(invalid("text", Invalid::new(
                    "reports_waiting",
                    format!("已有{MAX_WAITING_REPORTS}份报告等待验收，请待主管部门处理后再补充"),
                    format!("{MAX_WAITING_REPORTS} reports are already waiting for review; add more once the regulator has acted"),
                )));
            }
            let done = sqlx::query(
                "UPDATE rectification_orders SET status = 'reported', reported_on = $1, updated_at = $2
                 WHERE id = $3 AND status = $4",
            ).bind(today).bind(at).bind(id).bind(from.as_str()).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            let (step,): (i64,) = sqlx::query_as(
                "INSERT INTO rectification_steps (order_id, step, body, by_account, at) VALUES ($1, 'reported', $2, $3, $4)
                 RETURNING id",
            ).bind(id).bind(text).bind(who.account_id).bind(at).fetch_one(&mut *tx).await?;
            if let Some((bytes, kind)) = evidence {
                sqlx::query(
                    "UPDATE rectification_steps SET evidence_mime = $1, evidence_sealed = $2, evidence_sha256 = $3
                     WHERE id = $4",
                ).bind(kind.mime()).bind(self.crypto().seal_bytes_at(bytes, &evidence_place(step)))
                .bind(hex::encode(Sha256::digest(bytes))).bind(step).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)
    }

    /// The regulator accepts, extends or returns; the order must still be as it was read.
    pub async fn review_rectification(&self, id: i64, who: &Principal, review: &Review) -> Result<RectificationRow> {
        regulator(who)?;
        let order = self.rectification(id, who).await?;
        let from = order.status();
        let to = review.action.apply(from).map_err(|e| invalid("action", e))?;
        if let Some(day) = review.deadline.filter(|d| *d <= order.deadline) {
            return Err(invalid(
                "deadline",
                Invalid::new(
                    "not_later",
                    format!("新期限{day}应晚于现在的期限{}", order.deadline),
                    format!("the new deadline, {day}, must be after the present one, {}", order.deadline),
                ),
            ));
        }
        let deadline = review.deadline.unwrap_or(order.deadline);
        let at = now();
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE rectification_orders SET status = $1, deadline = $2, updated_at = $3,
                     closed_by = CASE WHEN $1 = 'accepted' THEN $4 ELSE closed_by END,
                     closed_at = CASE WHEN $1 = 'accepted' THEN $3 ELSE closed_at END
                 WHERE id = $5 AND status = $6 AND deadline = $7",
            ).bind(to.as_str()).bind(deadline).bind(at).bind(who.account_id).bind(id).bind(from.as_str())
            .bind(order.deadline).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            let changed = review.deadline.is_some();
            sqlx::query(
                "INSERT INTO rectification_steps (order_id, step, body, deadline_before, deadline_after, by_account, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ).bind(id).bind(review.action.step().as_str()).bind(&review.reason)
            .bind(changed.then_some(order.deadline)).bind(review.deadline).bind(who.account_id).bind(at)
            .execute(&mut *tx).await?;
            let record = AuditRecord {
                actor: who.account_id,
                action: "rectification.review",
                subject_kind: "rectification_order",
                subject_id: id,
                subject_label: format!("{} {}", order.number(), order.agency_name),
                before: Some(serde_json::json!({ "status": from.as_str(), "deadline": order.deadline.to_string() })),
                after: Some(serde_json::json!({
                    "action": review.action.as_str(), "status": to.as_str(), "deadline": deadline.to_string(),
                    "reason": review.reason,
                })),
            };
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)?;
        self.rectification(id, who).await
    }

    /// The evidence of a report, opened, for whom may see the order.
    pub async fn rectification_evidence(&self, id: i64, step: i64, who: &Principal) -> Result<(EvidenceType, Vec<u8>)> {
        self.rectification(id, who).await?;
        let found: Option<(Option<String>, Option<Vec<u8>>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT evidence_mime, evidence_sealed FROM rectification_steps WHERE id = $1 AND order_id = $2",
        ).bind(step).bind(id).fetch_optional(p).await?);
        let Some((Some(mime), Some(sealed))) = found else { return Err(StoreError::NotFound) };
        let kind = EvidenceType::from_mime(&mime).ok_or(StoreError::Crypto("unknown evidence type"))?;
        Ok((kind, self.crypto().open_bytes_at(&sealed, &evidence_place(step))?))
    }
}
