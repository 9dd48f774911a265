//! The public disclosure section (公示公开): what is published, how much of it, and the date of
//! its latest change; and the administrative rewards and penalties of agencies, newest first.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Page, PageRequest, Result, Store, on_pool};

/// Counts and dates of what the public section shows.
#[derive(Debug, Clone, Default)]
pub struct DisclosureSummary {
    pub rounds_published: i64,
    pub rounds_at: Option<DateTime<Utc>>,
    pub listed: i64,
    pub listed_at: Option<DateTime<Utc>>,
    pub actions: i64,
    pub actions_at: Option<DateTime<Utc>>,
    pub pricing_agencies: i64,
    pub prices_at: Option<DateTime<Utc>>,
    pub brands: i64,
    pub brands_on: Option<NaiveDate>,
    pub library_entries: i64,
    pub libraries_at: Option<DateTime<Utc>>,
}

row! {
    /// A reward or penalty recorded on an agency's credit ledger.
    #[derive(Debug, Clone)]
    pub struct PublicAction {
        pub seq: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub kind: String,
        /// JSON: decided_on, authority, document, reason.
        pub payload: String,
        /// The ledger's own text form (RFC 3339, UTC), as it was hashed.
        pub recorded_at: String,
    }
}

row! {
    struct CountedAction {
        #[flatten] action: PublicAction,
        total: i64,
    }
}

impl Store {
    pub async fn disclosure_summary(&self) -> Result<DisclosureSummary> {
        let mut s = DisclosureSummary::default();
        (s.rounds_published, s.rounds_at) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*), MAX(published_at) FROM evaluation_rounds WHERE status = 'published'",
        ).fetch_one(p).await?);
        // The latest decision per subject names its list; `removed` takes a subject off.
        (s.listed, s.listed_at) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*), MAX(d.reviewed_at) FROM list_decisions d
             WHERE d.status = 'listed' AND d.list IN ('red', 'black')
               AND NOT EXISTS (SELECT 1 FROM list_decisions later WHERE later.subject_kind = d.subject_kind
                   AND later.subject_id = d.subject_id AND later.status = 'listed' AND later.id > d.id)",
        ).fetch_one(p).await?);
        // The ledger keeps its times as the text it hashed.
        let (actions, actions_at): (i64, Option<String>) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*), MAX(recorded_at) FROM credit_ledger
             WHERE subject_kind = 'agency' AND kind IN ('reward', 'penalty')",
        ).fetch_one(p).await?);
        s.actions = actions;
        s.actions_at = actions_at.and_then(|at| DateTime::parse_from_rfc3339(&at).ok()).map(|at| at.to_utc());
        (s.pricing_agencies, s.prices_at) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(DISTINCT m.agency_id), MAX(m.price_since) FROM menu_items m
             JOIN agencies a ON a.id = m.agency_id WHERE m.withdrawn_at IS NULL AND a.status = 'active'",
        ).fetch_one(p).await?);
        (s.brands, s.brands_on) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*), MAX(recognised_on) FROM brand_recognitions WHERE withdrawn_at IS NULL",
        ).fetch_one(p).await?);
        // A removal is a change of the published libraries too.
        (s.library_entries, s.libraries_at) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE status = 'published'), MAX(COALESCE(removed_at, decided_at))
             FROM library_entries WHERE status IN ('published', 'removed')",
        ).fetch_one(p).await?);
        Ok(s)
    }

    /// Agencies' rewards and penalties (`kind` narrows to one), newest first.
    pub async fn public_actions(&self, kind: Option<&str>, page: PageRequest) -> Result<Page<PublicAction>> {
        let rows: Vec<CountedAction> = on_pool!(self, p => sqlx::query_as(
            "SELECT l.seq, a.id AS agency_id, a.name AS agency_name, l.kind, l.payload, l.recorded_at,
                    COUNT(*) OVER () AS total
             FROM credit_ledger l JOIN agencies a ON l.subject_kind = 'agency' AND a.id = l.subject_id
             WHERE l.kind IN ('reward', 'penalty') AND ($1 = '' OR l.kind = $1)
             ORDER BY l.seq DESC LIMIT $2 OFFSET $3",
        ).bind(kind.unwrap_or("")).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = rows.first().map_or(0, |r| r.total);
        Ok(page.wrap(rows.into_iter().map(|r| r.action).collect(), total))
    }
}
