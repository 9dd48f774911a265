//! Bindings between workers and agencies; each step follows the rule in core and is saved
//! only if nobody moved the binding in between.

use chrono::{DateTime, Utc};
use jiazheng_core::registry::binding::{BindingAction, BindingKind, BindingState, BindingStatus, Side};
use serde::Serialize;

use sqlx::AssertSqlSafe;

use crate::{Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Binding {
        pub id: i64,
        pub worker_id: i64,
        pub worker_name: String,
        pub agency_id: i64,
        pub agency_name: String,
        pub kind: String,
        pub status: String,
        pub requested_by: String,
        pub end_requested_by: Option<String>,
        pub requested_at: DateTime<Utc>,
        pub started_at: Option<DateTime<Utc>>,
        pub ended_at: Option<DateTime<Utc>>,
    }
}

impl Binding {
    pub fn state(&self) -> Result<BindingState> {
        let parse = |s: &str| Side::parse(s).map_err(|_| StoreError::Crypto("bad stored side"));
        Ok(BindingState {
            status: BindingStatus::parse(&self.status).map_err(|_| StoreError::Crypto("bad stored status"))?,
            requested_by: parse(&self.requested_by)?,
            end_requested_by: self.end_requested_by.as_deref().map(parse).transpose()?,
        })
    }
}

const SELECT_BINDING: &str = "SELECT b.id, b.worker_id, w.name AS worker_name, b.agency_id, a.name AS agency_name,
        b.kind, b.status, b.requested_by, b.end_requested_by, b.requested_at, b.started_at, b.ended_at
    FROM bindings b JOIN workers w ON w.id = b.worker_id JOIN agencies a ON a.id = b.agency_id";

impl Store {
    /// Opens a binding request; refused while the pair already has one pending or active.
    pub async fn request_binding(&self, worker_id: i64, agency_id: i64, kind: BindingKind, by: Side) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO bindings (worker_id, agency_id, kind, status, requested_by, requested_at)
             VALUES ($1, $2, $3, 'pending', $4, $5) RETURNING id",
        )
        .bind(worker_id).bind(agency_id).bind(kind.as_str()).bind(by.as_str()).bind(now())
        .fetch_one(p)
        .await
        .map_err(StoreError::conflict_on("binding_open"))?);
        Ok(id)
    }

    pub async fn binding(&self, id: i64) -> Result<Binding> {
        let sql = format!("{SELECT_BINDING} WHERE b.id = $1");
        on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Takes one step on a binding for `actor`; a concurrent step makes this one `Stale`.
    pub async fn act_on_binding(&self, id: i64, action: BindingAction, actor: Side) -> Result<Binding> {
        let current = self.binding(id).await?;
        let before = current.state()?;
        let after = before.apply(action, actor).map_err(|e| StoreError::Refused(e.message_zh()))?;
        let at = now();
        let started = (after.status == BindingStatus::Active && before.status == BindingStatus::Pending).then_some(at);
        let ended = matches!(after.status, BindingStatus::Ended | BindingStatus::Rejected | BindingStatus::Cancelled)
            .then_some(at);
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE bindings SET status = $1, end_requested_by = $2,
                 started_at = COALESCE($3, started_at), ended_at = COALESCE($4, ended_at)
             WHERE id = $5 AND status = $6 AND end_requested_by IS NOT DISTINCT FROM $7",
        )
        .bind(after.status.as_str())
        .bind(after.end_requested_by.map(Side::as_str))
        .bind(started)
        .bind(ended)
        .bind(id)
        .bind(before.status.as_str())
        .bind(before.end_requested_by.map(Side::as_str))
        .execute(p)
        .await?
        .rows_affected());
        if done != 1 {
            return Err(StoreError::Stale);
        }
        if after.status == BindingStatus::Ended {
            // Contracts still being signed named a relationship that is over. (Signing checks
            // the binding too, so a failure here cannot let one through.)
            on_pool!(self, p => sqlx::query(
                "UPDATE contracts SET status = 'void', voided_at = $1, void_reason = $2
                 WHERE worker_id = $3 AND agency_id = $4 AND status = 'signing'",
            ).bind(at).bind("服务员已离开企业 The worker left the agency").bind(current.worker_id)
            .bind(current.agency_id).execute(p).await?.rows_affected());
        }
        self.binding(id).await
    }

    pub async fn bindings_of_worker(&self, worker_id: i64) -> Result<Vec<Binding>> {
        let sql = format!("{SELECT_BINDING} WHERE b.worker_id = $1 ORDER BY b.id DESC");
        Ok(on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(worker_id).fetch_all(p).await?))
    }

    /// An agency's bindings that still need a step from someone, newest first.
    pub async fn open_bindings_of_agency(&self, agency_id: i64) -> Result<Vec<Binding>> {
        let sql = format!(
            "{SELECT_BINDING} WHERE b.agency_id = $1 AND (b.status = 'pending' OR b.end_requested_by IS NOT NULL)
               AND b.status IN ('pending', 'active') ORDER BY b.id DESC LIMIT 200"
        );
        Ok(on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(agency_id).fetch_all(p).await?))
    }

    /// The open binding between a worker and an agency, if any.
    pub async fn open_binding(&self, worker_id: i64, agency_id: i64) -> Result<Option<Binding>> {
        let sql = format!(
            "{SELECT_BINDING} WHERE b.worker_id = $1 AND b.agency_id = $2 AND b.status IN ('pending', 'active')"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(worker_id).bind(agency_id).fetch_optional(p).await?),
        )
    }
}
