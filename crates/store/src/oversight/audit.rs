//! The audit of regulator and evaluator writes: who did what to which record, when, with the
//! value before and after. A write records its row in its own transaction (`audit_in!`), so an
//! action that did not happen leaves no row and one that happened cannot lose its row.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Page, PageRequest, Result, Store, on_pool};

/// One write as the audit keeps it.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The account that acted.
    pub actor: i64,
    /// What was done, a key such as `brand.recognise` (labelled in the server's locale file).
    pub action: &'static str,
    /// What it was done to: `agency`, `worker`, `evaluation_round`, …
    pub subject_kind: &'static str,
    pub subject_id: i64,
    /// A name a person reads (the agency's name, the round's title), as it was at the time.
    pub subject_label: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditRecord {
    fn json(value: &Option<serde_json::Value>) -> Option<String> {
        value.as_ref().map(|v| v.to_string())
    }

    fn label(&self) -> String {
        self.subject_label.chars().take(200).collect()
    }
}

/// Writes `record` inside the caller's transaction: `audit_in!(&mut *tx, &record)`.
macro_rules! audit_in {
    ($executor:expr, $record:expr) => {{
        let record: &$crate::oversight::audit::AuditRecord = $record;
        sqlx::query(
            "INSERT INTO audit_log (actor_account_id, action, subject_kind, subject_id, subject_label,
                value_before, value_after, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(record.actor)
        .bind(record.action)
        .bind(record.subject_kind)
        .bind(record.subject_id)
        .bind(record.label_for_row())
        .bind(record.before_for_row())
        .bind(record.after_for_row())
        .bind($crate::now())
        .execute($executor)
        .await
        .map(|_| ())
    }};
}
pub(crate) use audit_in;

impl AuditRecord {
    #[doc(hidden)]
    pub fn label_for_row(&self) -> String {
        self.label()
    }
    #[doc(hidden)]
    pub fn before_for_row(&self) -> Option<String> {
        Self::json(&self.before)
    }
    #[doc(hidden)]
    pub fn after_for_row(&self) -> Option<String> {
        Self::json(&self.after)
    }
}

/// What the audit page searches by; empty fields do not narrow.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<i64>,
    pub action: Option<String>,
    pub subject_kind: Option<String>,
    /// Part of the subject's name.
    pub subject: Option<String>,
    /// Beijing dates, both ends included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

row! {
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub actor_account_id: i64,
    pub actor_name: String,
    pub actor_role: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: i64,
    pub subject_label: String,
    pub value_before: Option<String>,
    pub value_after: Option<String>,
    pub at: DateTime<Utc>,
}
}

row! {
/// An account that has written to the audit, for the search form's list.
#[derive(Debug, Clone)]
pub struct AuditActor {
    pub id: i64,
    pub display_name: String,
    pub username: String,
}
}

/// The start of a Beijing day in UTC.
fn beijing_midnight(day: NaiveDate) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    DateTime::from_naive_utc_and_offset(local - chrono::Duration::hours(8), Utc)
}

impl Store {
    /// Writes one audit row in a transaction of its own, for writes that have none.
    pub async fn record_audit(&self, record: &AuditRecord) -> Result<()> {
        on_pool!(self, p => audit_in!(p, record)?);
        Ok(())
    }

    /// The id of the account's latest audit row (0 without any): a write that moved it recorded itself.
    pub async fn audit_high_water(&self, actor: i64) -> Result<i64> {
        let (id,): (Option<i64>,) = on_pool!(self, p => sqlx::query_as(
            "SELECT MAX(id) FROM audit_log WHERE actor_account_id = $1",
        ).bind(actor).fetch_one(p).await?);
        Ok(id.unwrap_or(0))
    }

    /// The audit, newest first.
    pub async fn audit(&self, query: &AuditQuery, page: PageRequest) -> Result<Page<AuditRow>> {
        let from = query.from.map(beijing_midnight);
        let to = query.to.map(|d| beijing_midnight(d + chrono::Duration::days(1)));
        let subject = query.subject.as_deref().map(|s| format!("%{}%", s.replace(['%', '_'], "")));
        let rows: Vec<(i64, AuditRow)> = on_pool!(self, p => {
            let rows = sqlx::query_as::<_, CountedAudit>(
                "SELECT COUNT(*) OVER () AS total, l.id, l.actor_account_id, a.display_name AS actor_name,
                        a.role AS actor_role, l.action, l.subject_kind, l.subject_id, l.subject_label,
                        l.value_before, l.value_after, l.at
                 FROM audit_log l JOIN accounts a ON a.id = l.actor_account_id
                 WHERE ($1 IS NULL OR l.actor_account_id = $1)
                   AND ($2 IS NULL OR l.action = $2)
                   AND ($3 IS NULL OR l.subject_kind = $3)
                   AND ($4 IS NULL OR l.subject_label LIKE $4)
                   AND ($5 IS NULL OR l.at >= $5)
                   AND ($6 IS NULL OR l.at < $6)
                 ORDER BY l.at DESC, l.id DESC LIMIT $7 OFFSET $8",
            )
            .bind(query.actor).bind(query.action.as_deref()).bind(query.subject_kind.as_deref())
            .bind(subject).bind(from).bind(to).bind(page.limit()).bind(page.offset())
            .fetch_all(p).await?;
            rows.into_iter().map(|r| (r.total, r.row)).collect()
        });
        let total = rows.first().map_or(0, |(t, _)| *t);
        Ok(page.wrap(rows.into_iter().map(|(_, r)| r).collect(), total))
    }

    /// Accounts with at least one audit row, by name.
    pub async fn audit_actors(&self) -> Result<Vec<AuditActor>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, display_name, username FROM accounts
             WHERE id IN (SELECT DISTINCT actor_account_id FROM audit_log) ORDER BY display_name, id LIMIT 500",
        ).fetch_all(p).await?))
    }

    /// The actions that occur in the audit, for the search form's list.
    pub async fn audit_actions(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT action FROM audit_log ORDER BY action LIMIT 500",
        ).fetch_all(p).await?);
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }
}

row! {
    struct CountedAudit {
        #[flatten] row: AuditRow,
        total: i64,
    }
}
