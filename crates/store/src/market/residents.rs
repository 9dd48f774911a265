//! Residents: accounts that sign in with a mobile number and a one-time code, a household
//! address sealed like other personal data, and erasure that keeps orders under a pseudonym.

use chrono::{DateTime, Utc};
use jiazheng_core::account::Role;
use jiazheng_core::division::{DivisionCode, DivisionLevel};
use jiazheng_core::field::{FieldErrors, Invalid};
use jiazheng_core::ids::Mobile;
use jiazheng_core::market::sms::{
    CODE_LIFETIME, CODES_PER_ADDRESS_PER_DAY, CODES_PER_NUMBER_PER_DAY, CodeCheck, MAX_TRIES, RESEND_AFTER,
    after_wrong_try,
};
use serde::Serialize;

use super::write_tx;
use crate::crypto::random_bytes;
use crate::{Result, Store, StoreError, now, on_pool};

pub const MAX_ADDRESS_CHARS: usize = 120;

/// What a sign-in code is for (other codes name the contract they sign).
const SIGN_IN: &str = "sign_in";

/// A stored resident's password hash that no password matches: residents sign in by code.
const NO_PASSWORD: &str = "!";

/// Statuses of orders still running; a resident with one cannot erase the account yet.
pub(crate) const OPEN_STATUSES: &str = "('requested', 'confirmed', 'assigned', 'in_service', 'disputed')";

/// Name, masked phone, community, sealed address, community name.
type ProfileColumns = (String, Option<String>, Option<String>, Option<Vec<u8>>, Option<String>);

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentProfile {
    pub account_id: i64,
    pub display_name: String,
    pub phone_masked: Option<String>,
    pub community_code: Option<String>,
    /// Community, street and district as people read them.
    pub community_name: Option<String>,
    /// The household address (opened for the resident only).
    pub address: Option<String>,
}

fn address_place(account_id: i64) -> String {
    format!("resident_profiles.address:{account_id}")
}

pub(crate) fn phone_place(account_id: i64) -> String {
    format!("resident_profiles.phone:{account_id}")
}

fn beijing_midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    jiazheng_core::market::slot::day_start(jiazheng_core::calendar::beijing_date(at))
}

/// Six random digits, every value equally likely.
fn six_digits() -> String {
    loop {
        let n = u32::from_le_bytes(random_bytes::<4>());
        // 4,294,000,000 is the largest multiple of a million below 2^32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

impl Store {
    /// A code is good only for what it was sent for: signing in, or signing one contract.
    fn sms_code_hash(&self, phone: &Mobile, purpose: &str, code: &str) -> Vec<u8> {
        self.crypto().lookup_hash("sms_code", &format!("{purpose}:{}:{code}", phone.as_str()))
    }

    /// Issues a sign-in code for `phone`, asked from network `address`; the caller delivers it.
    /// Refuses a second code within a minute, and past the daily limits per number and address.
    pub async fn issue_sign_in_code(&self, phone: &Mobile, address: &str) -> Result<String> {
        self.issue_code(phone, SIGN_IN, address).await
    }

    /// Issues a code for `purpose` (the limits count every code the number was sent).
    pub async fn issue_code(&self, phone: &Mobile, purpose: &str, address: &str) -> Result<String> {
        let phone_hash = self.crypto().lookup_hash("phone", phone.as_str());
        let code = six_digits();
        let code_hash = self.sms_code_hash(phone, purpose, &code);
        let at = now();
        let midnight = beijing_midnight(at);
        write_tx!(self, tx => async {
            if self.engine() == crate::Engine::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(7311)").execute(&mut *tx).await?;
            }
            // The day's count is the number's; the minute's wait is per purpose, so a resident who
            // has just signed in can be sent the code that signs their contract.
            // Sign-in codes and signing codes count apart: anyone may ask a sign-in code for a
            // number, and spending its day must not stop its owner signing a contract.
            let (today, last): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN (purpose = 'sign_in') = ($3 = 'sign_in') THEN 1 ELSE 0 END), 0),
                     MAX(CASE WHEN purpose = $3 THEN sent_at END)
                 FROM sms_codes WHERE phone_hash = $1 AND sent_at >= $2",
            ).bind(&phone_hash).bind(midnight).bind(purpose).fetch_one(&mut *tx).await?;
            if let Some(last) = last && at - last < RESEND_AFTER {
                return Err(StoreError::TooSoon((RESEND_AFTER - (at - last)).num_seconds().max(1) as u64));
            }
            if today >= CODES_PER_NUMBER_PER_DAY {
                return Err(StoreError::Limited("sms_codes_per_number"));
            }
            let (from_address,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM sms_codes WHERE address = $1 AND sent_at >= $2",
            ).bind(address).bind(midnight).fetch_one(&mut *tx).await?;
            if from_address >= CODES_PER_ADDRESS_PER_DAY {
                return Err(StoreError::Limited("sms_codes_per_address"));
            }
            // A new code replaces the one sent before it for the same purpose.
            sqlx::query("UPDATE sms_codes SET used_at = $1 WHERE phone_hash = $2 AND purpose = $3 AND used_at IS NULL")
                .bind(at).bind(&phone_hash).bind(purpose).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO sms_codes (phone_hash, code_hash, address, sent_at, expires_at, purpose)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            ).bind(&phone_hash).bind(&code_hash).bind(address).bind(at).bind(at + CODE_LIFETIME).bind(purpose)
            .execute(&mut *tx).await?;
            Ok(())
        }.await)?;
        Ok(code)
    }

    /// Checks a typed code against the live code of `phone`; a right code is spent, a wrong one
    /// counts, and the fifth wrong try spends it too.
    pub async fn check_sign_in_code(&self, phone: &Mobile, code: &str) -> Result<CodeCheck> {
        self.check_code(phone, SIGN_IN, code).await
    }

    /// Checks a typed code against the live code of `phone` sent for `purpose`.
    pub async fn check_code(&self, phone: &Mobile, purpose: &str, code: &str) -> Result<CodeCheck> {
        let phone_hash = self.crypto().lookup_hash("phone", phone.as_str());
        let typed = self.sms_code_hash(phone, purpose, code);
        let at = now();
        write_tx!(self, tx => async {
            let live: Option<(i64, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT id, code_hash, wrong_tries FROM sms_codes
                 WHERE phone_hash = $1 AND used_at IS NULL AND expires_at > $2 AND purpose = $3
                 ORDER BY id DESC LIMIT 1",
            ).bind(&phone_hash).bind(at).bind(purpose).fetch_optional(&mut *tx).await?;
            let Some((id, hash, tries)) = live else { return Ok(CodeCheck::Expired) };
            if tries >= MAX_TRIES {
                return Ok(CodeCheck::Locked);
            }
            if hash == typed {
                // Spent only if still unspent: two tabs sending one code sign in once.
                let spent = sqlx::query("UPDATE sms_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                    .bind(at).bind(id).execute(&mut *tx).await?;
                return Ok(if spent.rows_affected() == 1 { CodeCheck::Accepted } else { CodeCheck::Expired });
            }
            let (tries,): (i64,) = sqlx::query_as(
                "UPDATE sms_codes SET wrong_tries = wrong_tries + 1 WHERE id = $1 RETURNING wrong_tries",
            ).bind(id).fetch_one(&mut *tx).await?;
            Ok(after_wrong_try(tries))
        }.await)
    }

    /// The resident account of `phone`, created on first sign-in. Returns the id and whether it
    /// is new. A disabled account stays disabled.
    pub async fn resident_by_phone(&self, phone: &Mobile) -> Result<(i64, bool)> {
        let phone_hash = self.crypto().lookup_hash("phone", phone.as_str());
        let found: Option<(i64, String, bool)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, role, disabled FROM accounts WHERE phone_hash = $1",
        ).bind(&phone_hash).fetch_optional(p).await?);
        match found {
            Some((id, role, false)) if role == Role::Resident.as_str() => return Ok((id, false)),
            Some(_) => {
                return Err(StoreError::Refused("this phone belongs to an account that cannot sign in here".into()));
            }
            None => {}
        }
        let at = now();
        let username = format!("m{}", hex::encode(&phone_hash[..10]));
        let created = write_tx!(self, tx => async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO accounts (username, display_name, password_hash, role, disabled, created_at, phone_hash)
                 VALUES ($1, $2, $3, $4, FALSE, $5, $6) RETURNING id",
            ).bind(&username).bind(phone.masked()).bind(NO_PASSWORD).bind(Role::Resident.as_str()).bind(at)
            .bind(&phone_hash).fetch_one(&mut *tx).await.map_err(StoreError::conflict_on("resident_phone"))?;
            sqlx::query(
                "INSERT INTO resident_profiles (account_id, phone_cipher, phone_masked, updated_at) VALUES ($1, $2, $3, $4)",
            ).bind(id).bind(self.crypto().seal_at(phone.as_str(), &phone_place(id))).bind(phone.masked()).bind(at)
            .execute(&mut *tx).await?;
            Ok(id)
        }.await);
        match created {
            Ok(id) => Ok((id, true)),
            // Two first sign-ins at once: the other one made the account.
            Err(StoreError::Conflict { .. }) => Box::pin(self.resident_by_phone(phone)).await,
            Err(e) => Err(e),
        }
    }

    /// Gives a resident account made with a password (the demo's) a phone: codes to sign its
    /// contracts go there, and it may sign in by code too.
    pub async fn attach_resident_phone(&self, account_id: i64, phone: &Mobile) -> Result<()> {
        let phone_hash = self.crypto().lookup_hash("phone", phone.as_str());
        let sealed = self.crypto().seal_at(phone.as_str(), &phone_place(account_id));
        let at = now();
        write_tx!(self, tx => async {
            let done = sqlx::query("UPDATE accounts SET phone_hash = $1 WHERE id = $2 AND role = 'resident'")
                .bind(&phone_hash).bind(account_id).execute(&mut *tx).await
                .map_err(StoreError::conflict_on("resident_phone"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO resident_profiles (account_id, phone_cipher, phone_masked, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account_id) DO UPDATE SET phone_cipher = excluded.phone_cipher,
                     phone_masked = excluded.phone_masked, updated_at = excluded.updated_at",
            ).bind(account_id).bind(&sealed).bind(phone.masked()).bind(at).execute(&mut *tx).await?;
            Ok(())
        }.await)
    }

    pub async fn resident_profile(&self, account_id: i64) -> Result<ResidentProfile> {
        let row: Option<ProfileColumns> = on_pool!(self, p => sqlx::query_as(
            "SELECT a.display_name, r.phone_masked, r.community_code, r.address_cipher, d.name
             FROM accounts a LEFT JOIN resident_profiles r ON r.account_id = a.id
             LEFT JOIN divisions d ON d.code = r.community_code
             WHERE a.id = $1 AND a.role = 'resident'",
        ).bind(account_id).fetch_optional(p).await?);
        let (display_name, phone_masked, community_code, cipher, community) = row.ok_or(StoreError::NotFound)?;
        let address = match cipher {
            Some(c) if !c.is_empty() => Some(self.crypto().open_at(&c, &address_place(account_id))?),
            _ => None,
        };
        let community_name = match (&community_code, community) {
            (Some(code), Some(name)) => Some(self.place_name(code, &name).await?),
            _ => None,
        };
        Ok(ResidentProfile { account_id, display_name, phone_masked, community_code, community_name, address })
    }

    /// "朝阳区 · 南湖街道 · 某社区" for a community.
    pub async fn place_name(&self, community: &str, name: &str) -> Result<String> {
        let street = DivisionCode::parse(community).map(|c| c.street()).ok();
        let district = DivisionCode::parse(community).map(|c| c.district()).ok();
        let mut parts = Vec::new();
        for code in [district, street].into_iter().flatten() {
            if let Ok(d) = self.division(code.as_str()).await {
                parts.push(d.name);
            }
        }
        parts.push(name.to_string());
        Ok(parts.join(" · "))
    }

    /// Sets the household: a community of the divisions and the rest of the address as text.
    pub async fn set_resident_address(&self, account_id: i64, community: &str, address: &str) -> Result<()> {
        let mut errors = FieldErrors::default();
        let code = errors.take("community", DivisionCode::parse(community));
        if let Some(code) = &code {
            let known = self.division(code.as_str()).await.is_ok();
            if code.level() != DivisionLevel::Community || !known {
                errors.0.push(
                    Invalid::new("not_a_community", "请选择所在社区（村）", "pick your community or village")
                        .at("community"),
                );
            }
        }
        let text = address.trim();
        if text.is_empty() {
            errors.0.push(Invalid::required().at("address"));
        } else if text.chars().count() > MAX_ADDRESS_CHARS {
            errors.0.push(Invalid::too_long(MAX_ADDRESS_CHARS).at("address"));
        }
        let Some(code) = code.filter(|_| errors.0.is_empty()) else { return Err(StoreError::Invalid(errors)) };
        let sealed = self.crypto().seal_at(text, &address_place(account_id));
        // Residents made by an administrator (with a password) have no profile row yet.
        let done = on_pool!(self, p => sqlx::query(
            "INSERT INTO resident_profiles (account_id, community_code, address_cipher, updated_at)
             SELECT id, $1, $2, $3 FROM accounts WHERE id = $4 AND role = 'resident' AND disabled = FALSE
             ON CONFLICT (account_id) DO UPDATE SET community_code = excluded.community_code,
                 address_cipher = excluded.address_cipher, updated_at = excluded.updated_at
             WHERE resident_profiles.erased_at IS NULL",
        ).bind(code.as_str()).bind(sealed).bind(now()).bind(account_id).execute(p).await?.rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// The household address sealed for an order of this resident, or why there is none.
    pub(crate) async fn household(&self, account_id: i64) -> Result<(String, String)> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT community_code, address_cipher FROM resident_profiles WHERE account_id = $1",
        ).bind(account_id).fetch_optional(p).await?);
        match row {
            Some((Some(code), Some(cipher))) if !cipher.is_empty() => {
                Ok((code, self.crypto().open_at(&cipher, &address_place(account_id))?))
            }
            _ => Err(StoreError::Invalid(FieldErrors(vec![
                Invalid::new("no_address", "请先填写服务地址", "add your household address first").at("address"),
            ]))),
        }
    }

    /// Erases a resident's personal data: phone, address, name; orders stay under a pseudonym
    /// (`已注销居民 #12`) so the credit record keeps what happened. Refused while an order runs.
    pub async fn erase_resident(&self, account_id: i64) -> Result<()> {
        let at = now();
        let sql = format!("SELECT COUNT(*) FROM orders WHERE resident_account_id = $1 AND status IN {OPEN_STATUSES}");
        write_tx!(self, tx => async {
            let (open,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id).fetch_one(&mut *tx).await?;
            if open > 0 {
                return Err(StoreError::Invalid(FieldErrors(vec![Invalid::new(
                    "orders_open",
                    format!("您还有{open}个进行中的订单（含处理中的争议），请待其完成、取消或处理完毕后再注销"),
                    format!("{open} of your orders are still running (disputes included); delete the account once they are done, cancelled or resolved"),
                ).at("confirm")])));
            }
            let done = sqlx::query(
                "UPDATE accounts SET phone_hash = NULL, display_name = $1, username = $2, disabled = TRUE
                 WHERE id = $3 AND role = 'resident' AND disabled = FALSE",
            ).bind(format!("已注销居民 #{account_id}")).bind(format!("erased-{account_id}")).bind(account_id)
            .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "UPDATE resident_profiles SET phone_cipher = NULL, phone_masked = NULL, community_code = NULL,
                     address_cipher = NULL, legal_name = NULL, id_cipher = NULL, id_masked = NULL,
                     updated_at = $1, erased_at = $1 WHERE account_id = $2",
            ).bind(at).bind(account_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE orders SET address_cipher = $1 WHERE resident_account_id = $2")
                .bind(Vec::<u8>::new()).bind(account_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
            Ok(())
        }.await)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_six_digits_spread_over_every_value() {
        let codes: Vec<String> = (0..2000).map(|_| super::six_digits()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert!(distinct.len() > 1990, "codes repeat too often: {}", distinct.len());
        assert!(codes.iter().any(|c| c.starts_with('0')), "leading zeros are kept");
    }
}
