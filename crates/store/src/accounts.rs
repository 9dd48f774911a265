//! Accounts, sessions and the log of sensitive reads.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{AccountChange, AccountEventKind, Principal, Role, Scope, refuse_own_lockout};
use jiazheng_core::division::DivisionCode;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crypto::random_bytes;
use crate::registry::agencies::escape_like;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

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
    /// The organisation an evaluator account scores for.
    pub evaluator_id: Option<i64>,
}

impl NewAccount {
    /// An account of `role` acting on `scope`.
    pub fn scoped(username: String, display_name: String, password: String, role: Role, scope: &Scope) -> Self {
        let columns = ScopeColumns::of(scope);
        Self {
            username,
            display_name,
            password,
            role,
            agency_id: columns.agency_id,
            district_code: columns.district_code,
            worker_id: columns.worker_id,
            provider_id: columns.provider_id,
            bank_id: columns.bank_id,
            evaluator_id: columns.evaluator_id,
        }
    }
}

/// A scope as the account columns store it: at most one of them set.
#[derive(Debug, Clone, Default)]
struct ScopeColumns {
    agency_id: Option<i64>,
    district_code: Option<String>,
    worker_id: Option<i64>,
    provider_id: Option<i64>,
    bank_id: Option<i64>,
    evaluator_id: Option<i64>,
}

impl ScopeColumns {
    fn of(scope: &Scope) -> Self {
        let none = Self::default();
        match scope {
            Scope::None | Scope::City => none,
            Scope::Agency(id) => Self { agency_id: Some(*id), ..none },
            Scope::Worker(id) => Self { worker_id: Some(*id), ..none },
            Scope::Provider(id) => Self { provider_id: Some(*id), ..none },
            Scope::Bank(id) => Self { bank_id: Some(*id), ..none },
            Scope::Evaluator(id) => Self { evaluator_id: Some(*id), ..none },
            Scope::District(code) => Self { district_code: Some(code.to_string()), ..none },
        }
    }
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
        evaluator_id: Option<i64>,
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
        (Role::Evaluator, ..) if let Some(org) = row.evaluator_id => Scope::Evaluator(org),
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
                 provider_id, bank_id, evaluator_id, disabled, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11) RETURNING id",
        )
        .bind(account.username.trim()).bind(&account.display_name).bind(hash).bind(account.role.as_str())
        .bind(account.agency_id).bind(&account.district_code).bind(account.worker_id).bind(account.provider_id)
        .bind(account.bank_id).bind(account.evaluator_id).bind(now())
        .fetch_one(p)
        .await
        .map_err(StoreError::conflict_on("account_username"))?);
        Ok(id)
    }

    /// Checks a password; unknown names cost as much as wrong passwords, so timing tells nothing.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<Principal>> {
        let row: Option<AccountRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, username, display_name, password_hash, role, agency_id, district_code, worker_id, provider_id, bank_id,
                    evaluator_id
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
                    a.district_code, a.worker_id, a.provider_id, a.bank_id, a.evaluator_id
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

/// Filters of the admin's account list.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Part of the sign-in name or the shown name.
    pub text: Option<String>,
    pub role: Option<Role>,
    pub page: PageRequest,
}

row! {
    /// An account as the admin's pages show it, with the names its scope points to.
    #[derive(Debug, Clone, Serialize)]
    pub struct AccountListing {
        pub id: i64,
        pub username: String,
        pub display_name: String,
        pub role: String,
        pub disabled: bool,
        pub version: i64,
        pub created_at: DateTime<Utc>,
        pub agency_name: Option<String>,
        pub district_name: Option<String>,
        pub worker_name: Option<String>,
        pub provider_name: Option<String>,
        pub bank_name: Option<String>,
        pub agency_id: Option<i64>,
        pub district_code: Option<String>,
        pub worker_id: Option<i64>,
        pub provider_id: Option<i64>,
        pub bank_id: Option<i64>,
        pub evaluator_name: Option<String>,
        pub evaluator_id: Option<i64>,
    }
}

row! {
    /// One line of an account's log: who did what, when, and the role and scope it left.
    #[derive(Debug, Clone, Serialize)]
    pub struct AccountEvent {
        pub kind: String,
        pub at: DateTime<Utc>,
        pub actor_username: Option<String>,
        pub actor_display_name: Option<String>,
        pub role: Option<String>,
        pub agency_name: Option<String>,
        pub district_name: Option<String>,
        pub worker_name: Option<String>,
        pub provider_name: Option<String>,
        pub bank_name: Option<String>,
        pub evaluator_name: Option<String>,
    }
}

/// The names a row's scope columns point to, joined from alias `x`.
const SCOPE_NAMES: &str = "ag.name AS agency_name, dv.name AS district_name, wk.name AS worker_name,
        tp.name AS provider_name, bk.name AS bank_name, ev.name AS evaluator_name";

fn scope_joins(x: &str) -> String {
    format!(
        "LEFT JOIN agencies ag ON ag.id = {x}.agency_id LEFT JOIN divisions dv ON dv.code = {x}.district_code
         LEFT JOIN workers wk ON wk.id = {x}.worker_id LEFT JOIN training_providers tp ON tp.id = {x}.provider_id
         LEFT JOIN banks bk ON bk.id = {x}.bank_id LEFT JOIN evaluator_orgs ev ON ev.id = {x}.evaluator_id"
    )
}

fn select_listing() -> String {
    format!(
        "SELECT a.id, a.username, a.display_name, a.role, a.disabled, a.version, a.created_at, {SCOPE_NAMES},
                a.agency_id, a.district_code, a.worker_id, a.provider_id, a.bank_id, a.evaluator_id
         FROM accounts a {}",
        scope_joins("a")
    )
}

const INSERT_EVENT: &str =
    "INSERT INTO account_events (account_id, actor_account_id, kind, role, agency_id, district_code,
        worker_id, provider_id, bank_id, evaluator_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Letters and digits nobody misreads when the password is read out or copied from paper.
const READABLE: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

/// A new random password of 12 readable characters (about 69 bits).
pub fn generate_password() -> String {
    // Bytes past the last whole multiple of the alphabet are skipped, so no letter is likelier.
    let limit = 256 - 256 % READABLE.len();
    let mut out = String::with_capacity(12);
    while out.len() < 12 {
        for byte in random_bytes::<32>() {
            if usize::from(byte) < limit && out.len() < 12 {
                out.push(char::from(READABLE[usize::from(byte) % READABLE.len()]));
            }
        }
    }
    out
}

fn refused(invalid: jiazheng_core::field::Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at("account")]))
}

impl Store {
    /// The admin's list: newest first, filtered by a name fragment and a role.
    pub async fn accounts(&self, query: &AccountQuery) -> Result<Page<AccountListing>> {
        let pattern =
            query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|t| format!("%{}%", escape_like(t)));
        let role = query.role.map(Role::as_str);
        let filter = "WHERE ($1 IS NULL OR a.username LIKE $1 ESCAPE '\\' OR a.display_name LIKE $1 ESCAPE '\\')
                        AND ($2 IS NULL OR a.role = $2)";
        let list_sql = format!("{} {filter} ORDER BY a.id DESC LIMIT $3 OFFSET $4", select_listing());
        let count_sql = format!("SELECT COUNT(*) FROM accounts a {filter}");
        let items: Vec<AccountListing> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(list_sql.as_str()))
            .bind(&pattern).bind(role).bind(query.page.limit()).bind(query.page.offset())
            .fetch_all(p).await?);
        let total = match query.page.total_if_known(items.len()) {
            Some(total) => total,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(count_sql.as_str()))
                    .bind(&pattern).bind(role).fetch_one(p).await?);
                n
            }
        };
        Ok(query.page.wrap(items, total))
    }

    pub async fn account_listing(&self, id: i64) -> Result<AccountListing> {
        let sql = format!("{} WHERE a.id = $1", select_listing());
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// An account's log, newest first.
    pub async fn account_events(&self, id: i64) -> Result<Vec<AccountEvent>> {
        let sql = format!(
            "SELECT e.kind, e.at, x.username AS actor_username, x.display_name AS actor_display_name, e.role, {SCOPE_NAMES}
             FROM account_events e LEFT JOIN accounts x ON x.id = e.actor_account_id {}
             WHERE e.account_id = $1 ORDER BY e.id DESC LIMIT 200",
            scope_joins("e")
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_all(p).await?))
    }

    /// Creates an account on an admin's behalf and logs it, in one transaction. A taken name is
    /// a field error on `username`.
    pub async fn create_account_as(&self, account: &NewAccount, actor: i64) -> Result<i64> {
        let hash = hash_password(account.password.clone()).await?;
        let at = now();
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let inserted: std::result::Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO accounts (username, display_name, password_hash, role, agency_id, district_code, worker_id,
                     provider_id, bank_id, evaluator_id, disabled, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, $11) RETURNING id",
            )
            .bind(account.username.trim()).bind(&account.display_name).bind(hash).bind(account.role.as_str())
            .bind(account.agency_id).bind(&account.district_code).bind(account.worker_id).bind(account.provider_id)
            .bind(account.bank_id).bind(account.evaluator_id).bind(at)
            .fetch_one(&mut *tx)
            .await;
            let (id,) = inserted.map_err(|e| match StoreError::conflict_on("account_username")(e) {
                StoreError::Conflict { .. } => StoreError::Invalid(FieldErrors(vec![jiazheng_core::field::Invalid::new(
                    "taken",
                    "该用户名已被使用",
                    "this sign-in name is taken",
                ).at("username")])),
                other => other,
            })?;
            sqlx::query(INSERT_EVENT)
                .bind(id).bind(actor).bind(AccountEventKind::Created.as_str()).bind(account.role.as_str())
                .bind(account.agency_id).bind(&account.district_code).bind(account.worker_id)
                .bind(account.provider_id).bind(account.bank_id).bind(account.evaluator_id).bind(at)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Sets a new password and ends every session of the account. Not guarded by the version:
    /// two resets do not lose anything (the last one holds, both are logged).
    pub async fn reset_password(&self, id: i64, password: &str, actor: i64) -> Result<()> {
        refuse_own_lockout(actor, id, AccountChange::ResetPassword).map_err(refused)?;
        let hash = hash_password(password.to_string()).await?;
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(hash).bind(id).execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query(INSERT_EVENT)
                .bind(id).bind(actor).bind(AccountEventKind::PasswordReset.as_str()).bind(None::<String>)
                .bind(None::<i64>).bind(None::<String>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>)
                .bind(None::<i64>).bind(at)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Disables or enables an account read at `version`; disabling ends its sessions at once.
    /// Someone else's change since then answers `Stale`, never overwritten.
    pub async fn set_account_disabled(&self, id: i64, version: i64, disabled: bool, actor: i64) -> Result<()> {
        let change = if disabled { AccountChange::Disable } else { AccountChange::Enable };
        refuse_own_lockout(actor, id, change).map_err(refused)?;
        let kind = if disabled { AccountEventKind::Disabled } else { AccountEventKind::Enabled };
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query("UPDATE accounts SET disabled = $1, version = version + 1 WHERE id = $2 AND version = $3")
                .bind(disabled).bind(id).bind(version).execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
                return Err(if n == 0 { StoreError::NotFound } else { StoreError::Stale });
            }
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query(INSERT_EVENT)
                .bind(id).bind(actor).bind(kind.as_str()).bind(None::<String>)
                .bind(None::<i64>).bind(None::<String>).bind(None::<i64>).bind(None::<i64>).bind(None::<i64>)
                .bind(None::<i64>).bind(at)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Gives an account read at `version` a new role and scope and ends its sessions (they
    /// carry the old ones). Someone else's change since then answers `Stale`.
    pub async fn change_account_access(
        &self,
        id: i64,
        version: i64,
        role: Role,
        scope: &Scope,
        actor: i64,
    ) -> Result<()> {
        refuse_own_lockout(actor, id, AccountChange::Access(role)).map_err(refused)?;
        let c = ScopeColumns::of(scope);
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE accounts SET role = $1, agency_id = $2, district_code = $3, worker_id = $4, provider_id = $5,
                     bank_id = $6, evaluator_id = $7, version = version + 1
                 WHERE id = $8 AND version = $9",
            )
            .bind(role.as_str()).bind(c.agency_id).bind(&c.district_code).bind(c.worker_id).bind(c.provider_id)
            .bind(c.bank_id).bind(c.evaluator_id).bind(id).bind(version)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
                return Err(if n == 0 { StoreError::NotFound } else { StoreError::Stale });
            }
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query(INSERT_EVENT)
                .bind(id).bind(actor).bind(AccountEventKind::AccessChanged.as_str()).bind(role.as_str())
                .bind(c.agency_id).bind(&c.district_code).bind(c.worker_id).bind(c.provider_id).bind(c.bank_id)
                .bind(c.evaluator_id).bind(at)
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
