//! Credit reports an agency releases to a bank (信易贷): its consent, the signed content, and the
//! record a bank checks the PDF against.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Result, Store, StoreError, now, on_pool};

row! {
    /// A released credit report as the bank can check it.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ReleasedReport {
        pub id: i64,
        pub agency_id: i64,
        /// The bank the agency consented to; reports from before banks were registered have none.
        pub bank_id: Option<i64>,
        pub bank: String,
        pub purpose: String,
        /// The signed content as canonical JSON.
        pub content: String,
        pub consented_at: DateTime<Utc>,
        #[serde(serialize_with = "hex_bytes")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        pub digest: Vec<u8>,
        pub key_id: i64,
        #[serde(serialize_with = "hex_bytes")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        pub signature: Vec<u8>,
    }
}

row! {
    /// A released report as a bank's list shows it.
    #[derive(Debug, Clone, Serialize)]
    pub struct BankReportLine {
        pub id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub purpose: String,
        pub consented_at: DateTime<Utc>,
    }
}

fn hex_bytes<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

impl Store {
    /// Records the agency's consent to release `content` to a bank and signs its digest.
    pub async fn release_credit_report(
        &self,
        agency_id: i64,
        bank: &Bank,
        purpose: &str,
        by: i64,
        content: &serde_json::Value,
    ) -> Result<ReleasedReport> {
        let digest = jiazheng_core::credit::report::digest(content);
        let (key_id, key) = self.signing_key().await?;
        let signature = jiazheng_core::credit::report::sign(&key, &digest);
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO credit_reports (agency_id, bank_id, bank, purpose, content, consented_by, consented_at, digest, key_id, signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        ).bind(agency_id).bind(bank.id).bind(&bank.name).bind(purpose).bind(jiazheng_core::credit::ledger::canonical(content)).bind(by).bind(now()).bind(digest.to_vec()).bind(i64::from(key_id))
        .bind(signature.to_vec()).fetch_one(p).await?);
        self.released_report(id).await
    }

    /// The reports released to one bank, newest first.
    pub async fn reports_for_bank(
        &self,
        bank_id: i64,
        page: crate::PageRequest,
    ) -> Result<crate::Page<BankReportLine>> {
        let (items, (total,)): (Vec<BankReportLine>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(
                "SELECT r.id, r.agency_id, a.name AS agency_name, r.purpose, r.consented_at
                 FROM credit_reports r JOIN agencies a ON a.id = r.agency_id
                 WHERE r.bank_id = $1 ORDER BY r.id DESC LIMIT $2 OFFSET $3",
            ).bind(bank_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as("SELECT COUNT(*) FROM credit_reports WHERE bank_id = $1").bind(bank_id).fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total))
    }

    pub async fn released_report(&self, id: i64) -> Result<ReleasedReport> {
        on_pool!(self, p => sqlx::query_as(
            "SELECT id, agency_id, bank_id, bank, purpose, content, consented_at, digest, key_id, signature FROM credit_reports WHERE id = $1",
        ).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)
    }
}

row! {
    /// A bank that reads the credit reports agencies release to it.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Bank {
        pub id: i64,
        pub name: String,
    }
}

impl Store {
    /// The bank of this name, registered now if new.
    pub async fn create_bank(&self, name: &str) -> Result<i64> {
        on_pool!(self, p => sqlx::query("INSERT INTO banks (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name).bind(now()).execute(p).await.map(|_| ())?);
        let (id,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT id FROM banks WHERE name = $1").bind(name).fetch_one(p).await?);
        Ok(id)
    }

    /// Registered banks by name: what an agency picks from when it releases a report.
    pub async fn banks(&self) -> Result<Vec<Bank>> {
        Ok(on_pool!(self, p => sqlx::query_as("SELECT id, name FROM banks ORDER BY name").fetch_all(p).await?))
    }

    pub async fn bank(&self, id: i64) -> Result<Bank> {
        on_pool!(self, p => sqlx::query_as("SELECT id, name FROM banks WHERE id = $1").bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }
}
