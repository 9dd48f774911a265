//! Consent to see a worker's full record: a resident asks and the worker approves, or the worker
//! hands over a one-time code. Access lasts 24 hours; every view is logged and shown to the worker.

use chrono::{DateTime, Duration, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::field::Invalid;
use rand::RngExt;
use serde::Serialize;

use crate::{Result, Store, StoreError, now, on_pool};

/// How long a granted view lasts.
pub const GRANT_HOURS: i64 = 24;
/// How long a one-time code can be claimed.
pub const CODE_MINUTES: i64 = 10;
/// Digits of a one-time code.
pub const CODE_DIGITS: u32 = 8;
/// Wrong tries against a worker's codes before every open code of theirs is dead.
///
/// Why this is enough: a guess hits one of the worker's open codes with probability
/// 1 / 10^8 (a worker rarely has more than one open), and the fifth wrong try kills it, so each
/// code the worker issues gives a guesser at most 5 tries: 5 × 10^-8. Expected guesses before a
/// hit are 5 × 10^7 spread over 10^7 codes the worker would have to issue — at a few a day, tens
/// of thousands of years — and the server slows each account and address after 5 and 20 wrong
/// tries on top of this.
pub const CODE_MAX_FAILURES: i64 = 5;
/// The purpose written in the access log for a consented view.
pub const VIEW_PURPOSE: &str = "consented view";

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ConsentRequest {
        pub id: i64,
        pub worker_id: i64,
        pub viewer: String,
        pub status: String,
        pub created_at: DateTime<Utc>,
        pub expires_at: DateTime<Utc>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RecordView {
        pub viewer: String,
        pub at: DateTime<Utc>,
    }
}

fn code_error(zh: &str, en: &str) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![Invalid::new("consent_code", zh, en).at("code")]))
}

impl Store {
    fn code_hash(&self, worker_id: i64, code: &str) -> Vec<u8> {
        self.crypto().lookup_hash("consent", &format!("{worker_id}:{}", code.trim()))
    }

    /// A viewer asks to see the record; one pending request per viewer and worker.
    pub async fn request_consent(&self, worker_id: i64, viewer: i64) -> Result<i64> {
        let at = now();
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO consents (worker_id, viewer_account_id, via, status, created_at, expires_at)
             VALUES ($1, $2, 'request', 'pending', $3, $4) RETURNING id",
        ).bind(worker_id).bind(viewer).bind(at).bind(at + Duration::days(7)).fetch_one(p).await
        .map_err(StoreError::conflict_on("consent_pending"))?);
        Ok(id)
    }

    /// The worker approves or denies a pending request; approval opens 24 hours of access.
    pub async fn decide_consent(&self, worker_id: i64, id: i64, approve: bool) -> Result<()> {
        let at = now();
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE consents SET status = $1, decided_at = $2, expires_at = $3
             WHERE id = $4 AND worker_id = $5 AND via = 'request' AND status = 'pending'",
        ).bind(if approve { "granted" } else { "denied" }).bind(at).bind(at + Duration::hours(GRANT_HOURS))
        .bind(id).bind(worker_id).execute(p).await?.rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// A fresh eight-digit code the worker can hand over; valid for ten minutes, once.
    pub async fn create_consent_code(&self, worker_id: i64) -> Result<String> {
        for _ in 0..5 {
            let code = format!("{:08}", rand::rng().random_range(0..10u32.pow(CODE_DIGITS)));
            let at = now();
            let inserted = on_pool!(self, p => sqlx::query(
                "INSERT INTO consents (worker_id, via, code_hash, status, created_at, expires_at)
                 VALUES ($1, 'code', $2, 'pending', $3, $4)",
            ).bind(worker_id).bind(self.code_hash(worker_id, &code)).bind(at).bind(at + Duration::minutes(CODE_MINUTES))
            .execute(p).await.map(|_| ()));
            match inserted {
                Ok(()) => return Ok(code),
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::Conflict { what: "consent_code", existing_id: None })
    }

    /// A viewer claims a code: it opens 24 hours of access, and cannot be used again. A wrong
    /// code counts against every open code of the worker's; after `CODE_MAX_FAILURES` they are dead.
    pub async fn claim_consent_code(&self, worker_id: i64, viewer: i64, code: &str) -> Result<()> {
        let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        let hash = self.code_hash(worker_id, &code);
        let at = now();
        let row: Option<(i64, String, DateTime<Utc>, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, status, expires_at, failed_attempts FROM consents WHERE code_hash = $1 AND worker_id = $2",
        ).bind(&hash).bind(worker_id).fetch_optional(p).await?);
        let Some((id, status, expires_at, failed)) = row else {
            on_pool!(self, p => sqlx::query(
                "UPDATE consents SET failed_attempts = failed_attempts + 1
                 WHERE worker_id = $1 AND via = 'code' AND status = 'pending' AND expires_at > $2",
            ).bind(worker_id).bind(at).execute(p).await.map(|_| ())?);
            return Err(code_error("验证码不正确", "the code is not right"));
        };
        if failed >= CODE_MAX_FAILURES {
            return Err(code_error(
                "错误次数过多，此验证码已失效，请服务员重新生成",
                "too many wrong tries: this code no longer works; ask the worker for a new one",
            ));
        }
        if status != "pending" {
            return Err(code_error("验证码已被使用", "the code has already been used"));
        }
        if expires_at <= at {
            return Err(code_error("验证码已过期，请服务员重新生成", "the code has expired; ask for a new one"));
        }
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE consents SET status = 'granted', viewer_account_id = $1, decided_at = $2, expires_at = $3
             WHERE id = $4 AND status = 'pending'",
        ).bind(viewer).bind(at).bind(at + Duration::hours(GRANT_HOURS)).bind(id).execute(p).await?.rows_affected());
        // Two claims of one code at once: only one wins.
        if done == 0 { Err(code_error("验证码已被使用", "the code has already been used")) } else { Ok(()) }
    }

    /// Until when the viewer may see the worker's full record, if at all.
    pub async fn consent_until(&self, worker_id: i64, viewer: i64) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(Option<DateTime<Utc>>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT MAX(expires_at) FROM consents WHERE worker_id = $1 AND viewer_account_id = $2
             AND status = 'granted' AND expires_at > $3",
        ).bind(worker_id).bind(viewer).bind(now()).fetch_optional(p).await?);
        Ok(row.and_then(|(at,)| at))
    }

    /// Requests waiting for the worker's answer.
    pub async fn pending_consents(&self, worker_id: i64) -> Result<Vec<ConsentRequest>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT c.id, c.worker_id, a.display_name AS viewer, c.status, c.created_at, c.expires_at
             FROM consents c JOIN accounts a ON a.id = c.viewer_account_id
             WHERE c.worker_id = $1 AND c.via = 'request' AND c.status = 'pending' AND c.expires_at > $2 ORDER BY c.id",
        ).bind(worker_id).bind(now()).fetch_all(p).await?))
    }

    /// Who looked at the worker's record with consent, newest first.
    pub async fn record_views(&self, worker_id: i64) -> Result<Vec<RecordView>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT a.display_name AS viewer, l.at FROM access_log l JOIN accounts a ON a.id = l.account_id
             WHERE l.subject_kind = 'worker' AND l.subject_id = $1 AND l.purpose = $2 ORDER BY l.id DESC LIMIT 100",
        ).bind(worker_id).bind(VIEW_PURPOSE).fetch_all(p).await?))
    }
}
