//! Accounts, sessions and the log of sensitive reads.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crypto::random_bytes;
use crate::{Result, Store, StoreError, now, on_pool};

/// Sessions last a working day.
pub const SESSION_HOURS: i64 = 12;

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub agency_id: Option<i64>,
    pub district_code: Option<String>,
    pub worker_id: Option<i64>,
    pub provider_id: Option<i64>,
    /// The bank a bank account reads released credit reports for.
    pub bank_id: Option<i64>,
}

row! {
    #[derive(Debug, Clone)]
    struct AccountRow {
        id: i64,
        username: String,
        display_name: String,
        password_hash: String,
        role: String,
        agency_id: Option<i64>,
        district_code: Option<String>,
        worker_id: Option<i64>,
        provider_id: Option<i64>,
        bank_id: Option<i64>,
    }
}

row! {
    #[derive(Debug, Clone)]
    struct SessionRow {
        #[flatten] account: AccountRow,
        csrf_token: String,
    }
}

/// Who is signed in, and the token their forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub username: String,
    pub display_name: String,
    pub csrf_token: String,
}

row! {
    #[derive(Debug, Clone, Serialize)]
    pub struct AccessLogEntry {
        pub account_id: i64,
        pub username: String,
        pub fields: String,
        pub purpose: String,
        pub at: DateTime<Utc>,
    }
}

fn principal_of(row: &AccountRow) -> Result<Principal> {
    let role = Role::parse(&row.role).map_err(|_| StoreError::Crypto("bad stored role"))?;
    let scope = match (role, row.agency_id, row.worker_id, &row.district_code) {
        (Role::School, ..) if let Some(provider) = row.provider_id => Scope::Provider(provider),
        (Role::Bank, ..) if let Some(bank) = row.bank_id => Scope::Bank(bank),
        (Role::AgencyAdmin, Some(agency), _, _) => Scope::Agency(agency),
        (Role::Worker, _, Some(worker), _) => Scope::Worker(worker),
        (_, _, _, Some(district)) => {
            Scope::District(DivisionCode::parse(district).map_err(|_| StoreError::Crypto("bad stored district"))?)
        }
        (Role::Regulator | Role::SystemAdmin, _, _, None) => Scope::City,
        _ => Scope::None,
    };
    Ok(Principal { account_id: row.id, role, scope })
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Hashes a password with Argon2id; slow on purpose, so it runs off the async threads.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await
    .map_err(|_| StoreError::Crypto("hashing task failed"))?
    .map_err(|_| StoreError::Crypto("cannot hash password"))
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

impl Store {
    pub async fn create_account(&self, account: &NewAccount) -> Result<i64> {
        let hash = hash_password(account.password.clone()).await?;
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO accounts (username, display_name, password_hash, role, agency_id, district_code, worker_id,
                 provider_id, bank_id, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, FALSE, $10) RETURNING id",
        )
        .bind(account.username.trim()).bind(&account.display_name).bind(hash).bind(account.role.as_str())
        .bind(account.agency_id).bind(&account.district_code).bind(account.worker_id).bind(account.provider_id)
        .bind(account.bank_id).bind(now())
        .fetch_one(p)
        .await
        .map_err(StoreError::conflict_on("account_username"))?);
        Ok(id)
    }

    /// Checks a password; unknown names cost as much as wrong passwords, so timing tells nothing.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<Principal>> {
        let row: Option<AccountRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, username, display_name, password_hash, role, agency_id, district_code, worker_id, provider_id, bank_id
             FROM accounts WHERE username = $1 AND disabled = FALSE",
        ).bind(username.trim()).fetch_optional(p).await?);
        let stand_in =
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1b3VaYHl9yZf3Bv0ZbG1Yr9HcYy8p6oKxE4B7F9H1Dw";
        let hash = row.as_ref().map_or(stand_in.to_string(), |r| r.password_hash.clone());
        let ok = verify_password(password.to_string(), hash).await;
        match row {
            Some(row) if ok => Ok(Some(principal_of(&row)?)),
            _ => Ok(None),
        }
    }

    /// Starts a session; the returned token goes into the cookie and only its hash is stored.
    pub async fn create_session(&self, account_id: i64) -> Result<String> {
        let token = hex::encode(random_bytes::<32>());
        let csrf = hex::encode(random_bytes::<16>());
        let at = now();
        on_pool!(self, p => sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token)).bind(account_id).bind(csrf).bind(at).bind(at + Duration::hours(SESSION_HOURS))
        .execute(p).await.map(|_| ())?);
        Ok(token)
    }

    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT s.csrf_token, a.id, a.username, a.display_name, a.password_hash, a.role, a.agency_id,
                    a.district_code, a.worker_id, a.provider_id, a.bank_id
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled = FALSE",
        ).bind(token_hash(token)).bind(now()).fetch_optional(p).await?);
        let Some(SessionRow { csrf_token, account }) = row else {
            return Ok(None);
        };
        Ok(Some(Session {
            principal: principal_of(&account)?,
            username: account.username,
            display_name: account.display_name,
            csrf_token,
        }))
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        on_pool!(self, p => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// Records who read which sensitive fields of whom, and why.
    pub async fn log_access(
        &self,
        account_id: i64,
        kind: &str,
        subject_id: i64,
        fields: &str,
        purpose: &str,
    ) -> Result<()> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO access_log (account_id, subject_kind, subject_id, fields, purpose, at) VALUES ($1, $2, $3, $4, $5, $6)",
        ).bind(account_id).bind(kind).bind(subject_id).bind(fields).bind(purpose).bind(now()).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn access_log(&self, kind: &str, subject_id: i64) -> Result<Vec<AccessLogEntry>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT l.account_id, a.username, l.fields, l.purpose, l.at FROM access_log l
             JOIN accounts a ON a.id = l.account_id WHERE l.subject_kind = $1 AND l.subject_id = $2 ORDER BY l.id DESC LIMIT 200",
        ).bind(kind).bind(subject_id).fetch_all(p).await?))
    }
}
