//! Agencies: registration, edits guarded against lost updates, and the public search.

use chrono::{DateTime, Utc};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::registry::agency::AgencyDraft;
use serde::Serialize;

use sqlx::AssertSqlSafe;

use crate::credit::ledger::{NewEntry, append_in, ledger_tx};
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Agency {
        pub id: i64,
        pub uscc: String,
        pub name: String,
        pub brand_name: Option<String>,
        pub legal_representative: String,
        pub address: String,
        pub street_code: String,
        pub street_name: String,
        pub district_code: String,
        pub district_name: String,
        pub phone: String,
        pub business_model: String,
        pub status: String,
        pub version: i64,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

/// Filters of the public agency list.
#[derive(Debug, Clone, Default)]
pub struct AgencyQuery {
    /// Part of the name or brand, or a whole USCC.
    pub text: Option<String>,
    pub district: Option<String>,
    pub page: PageRequest,
}

const SELECT_AGENCY: &str = "SELECT a.id, a.uscc, a.name, a.brand_name, a.legal_representative, a.address,
        a.street_code, s.name AS street_name, a.district_code, d.name AS district_name, a.phone,
        a.business_model, a.status, a.version, a.created_at, a.updated_at
    FROM agencies a JOIN divisions s ON s.code = a.street_code JOIN divisions d ON d.code = a.district_code";

/// Worker counts of one agency, by binding kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgencyWorkforce {
    pub employees: i64,
    pub intermediaries: i64,
    pub pending: i64,
}

impl Store {
    pub async fn create_agency(&self, draft: &AgencyDraft) -> Result<i64> {
        Ok(self.create_agencies(std::slice::from_ref(draft)).await?[0])
    }

    /// Registers agencies in one transaction: all or none.
    pub async fn create_agencies(&self, drafts: &[AgencyDraft]) -> Result<Vec<i64>> {
        let streets: Vec<(&str, &str)> = drafts.iter().map(|d| (d.street_code.as_str(), "street_code")).collect();
        self.require_divisions(&streets).await?;
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut ids = Vec::with_capacity(drafts.len());
            for draft in drafts {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO agencies (uscc, name, brand_name, legal_representative, address, street_code,
                         district_code, phone, business_model, status, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10) RETURNING id",
                )
                .bind(draft.uscc.as_str())
                .bind(&draft.name)
                .bind(&draft.brand_name)
                .bind(&draft.legal_representative)
                .bind(&draft.address)
                .bind(draft.street_code.as_str())
                .bind(draft.street_code.district().as_str())
                .bind(&draft.phone)
                .bind(draft.business_model.as_str())
                .bind(at)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("agency_uscc"))?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Saves an edit only if nobody saved another since `version` was read.
    /// Saves an edit unless someone saved another since `version`. A change of USCC, name or
    /// street (and so district) is also a ledger entry about the agency, in the same transaction:
    /// who may make it is the caller's rule (a regulator, not the agency itself).
    pub async fn update_agency(
        &self,
        id: i64,
        version: i64,
        draft: &AgencyDraft,
        source: String,
        by: Option<i64>,
    ) -> Result<()> {
        self.require_divisions(&[(draft.street_code.as_str(), "street_code")]).await?;
        let before = self.agency(id).await?;
        let registration = registration_change(&before, draft);
        let entry = registration.map(|payload| NewEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: id,
            kind: EntryKind::RegistrationChanged,
            payload,
            source,
            recorded_by: by,
            corrects: None,
        });
        let done: u64 = ledger_tx!(self, tx => async {
            if let Some(entry) = &entry {
                append_in!(tx, entry)?;
            }
            let done = sqlx::query(
                "UPDATE agencies SET uscc = $1, name = $2, brand_name = $3, legal_representative = $4, address = $5,
                     street_code = $6, district_code = $7, phone = $8, business_model = $9, version = version + 1,
                     updated_at = $10
                 WHERE id = $11 AND version = $12",
            )
            .bind(draft.uscc.as_str())
            .bind(&draft.name)
            .bind(&draft.brand_name)
            .bind(&draft.legal_representative)
            .bind(&draft.address)
            .bind(draft.street_code.as_str())
            .bind(draft.street_code.district().as_str())
            .bind(&draft.phone)
            .bind(draft.business_model.as_str())
            .bind(now())
            .bind(id)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::conflict_on("agency_uscc"))?
            .rows_affected();
            // A lost race must not leave a ledger entry behind.
            if done == 1 { Ok(done) } else { Err(StoreError::Stale) }
        }.await)?;
        debug_assert_eq!(done, 1);
        Ok(())
    }

    pub async fn agency(&self, id: i64) -> Result<Agency> {
        let sql = format!("{SELECT_AGENCY} WHERE a.id = $1");
        on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn agency_by_uscc(&self, uscc: &str) -> Result<Agency> {
        let sql = format!("{SELECT_AGENCY} WHERE a.uscc = $1");
        on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(uscc).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn search_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>> {
        let pattern = query.text.as_deref().map(|t| format!("%{}%", escape_like(t.trim())));
        let uscc = query.text.as_deref().map(|t| t.trim().to_ascii_uppercase());
        let filter =
            "WHERE ($1 IS NULL OR a.name LIKE $1 ESCAPE '\\' OR a.brand_name LIKE $1 ESCAPE '\\' OR a.uscc = $2)
                        AND ($3 IS NULL OR a.district_code = $3)";
        let list_sql = format!("{SELECT_AGENCY} {filter} ORDER BY a.id LIMIT $4 OFFSET $5");
        let count_sql = format!("SELECT COUNT(*) FROM agencies a {filter}");
        let district = query.district.clone();
        let items: Vec<Agency> = on_pool!(self, p => sqlx::query_as(AssertSqlSafe(list_sql.as_str()))
            .bind(&pattern).bind(&uscc).bind(&district)
            .bind(query.page.limit()).bind(query.page.offset())
            .fetch_all(p).await?);
        let total = match query.page.total_if_known(items.len()) {
            Some(total) => total,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(AssertSqlSafe(count_sql.as_str()))
                    .bind(&pattern).bind(&uscc).bind(&district).fetch_one(p).await?);
                n
            }
        };
        Ok(query.page.wrap(items, total))
    }

    pub async fn agency_workforce(&self, agency_id: i64) -> Result<AgencyWorkforce> {
        let rows: Vec<(String, String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT status, kind, COUNT(*) FROM bindings WHERE agency_id = $1 AND status IN ('pending', 'active')
             GROUP BY status, kind",
        ).bind(agency_id).fetch_all(p).await?);
        let mut workforce = AgencyWorkforce::default();
        for (status, kind, n) in rows {
            match (status.as_str(), kind.as_str()) {
                ("pending", _) => workforce.pending += n,
                (_, "employee") => workforce.employees += n,
                _ => workforce.intermediaries += n,
            }
        }
        Ok(workforce)
    }
}

/// Escapes LIKE wildcards so a user's `%` or `_` matches itself.
pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// What a registration change records: the old and new registration fields, when any differs.
fn registration_change(before: &Agency, draft: &AgencyDraft) -> Option<serde_json::Value> {
    (!registration_fields_changed(before, draft).is_empty()).then(|| {
        serde_json::json!({
            "uscc": [before.uscc, draft.uscc.as_str()],
            "name": [before.name, draft.name],
            "street_code": [before.street_code, draft.street_code.as_str()],
            "legal_representative": [before.legal_representative, draft.legal_representative],
            "business_model": [before.business_model, draft.business_model.as_str()],
        })
    })
}

/// What a draft changes of what only a regulator may change: USCC, name, street (and so
/// district), legal representative and business model.
pub fn registration_fields_changed(before: &Agency, draft: &AgencyDraft) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if before.uscc != draft.uscc.as_str() {
        fields.push("uscc");
    }
    if before.name != draft.name {
        fields.push("name");
    }
    if before.street_code != draft.street_code.as_str() {
        fields.push("street_code");
    }
    if before.legal_representative != draft.legal_representative {
        fields.push("legal_representative");
    }
    // 员工制 or 中介制 decides the plan's employee-based counts: the regulator's to confirm.
    if before.business_model != draft.business_model.as_str() {
        fields.push("business_model");
    }
    fields
}
