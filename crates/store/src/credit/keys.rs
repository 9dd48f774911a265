//! The platform's Ed25519 signing keys: made on first use, the secret half sealed with the data
//! key, the public halves served so anyone can check tokens and checkpoints offline.

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::Serialize;

use crate::crypto::random_bytes;
use crate::{Result, Store, StoreError, now, on_pool};

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicKey {
    pub key_id: u16,
    /// The 32-byte Ed25519 public key, hex.
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl PublicKey {
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        let bytes: [u8; 32] = hex::decode(&self.public_key).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }

    /// Checks a certificate token against these keys, each valid only until it was retired.
    pub fn verify_token(
        keys: &[PublicKey],
        token: &str,
    ) -> std::result::Result<jiazheng_core::credit::token::Claims, jiazheng_core::credit::token::TokenError> {
        jiazheng_core::credit::token::verify_with_retirement(token, |id| {
            let key = keys.iter().find(|k| k.key_id == id)?;
            Some((key.verifying_key()?, key.retired_at))
        })
    }
}

/// Key id, public key, created, retired.
type KeyRow = (i64, Vec<u8>, DateTime<Utc>, Option<DateTime<Utc>>);

impl Store {
    /// The current signing key and its id, made on first use.
    pub async fn signing_key(&self) -> Result<(u16, SigningKey)> {
        let row: Option<(i64, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, secret_cipher FROM credit_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1",
        ).fetch_optional(p).await?);
        if let Some((id, cipher)) = row {
            let secret: [u8; 32] = hex::decode(self.crypto().open(&cipher)?)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(StoreError::Crypto("bad stored signing key"))?;
            return Ok((id as u16, SigningKey::from_bytes(&secret)));
        }
        let key = SigningKey::from_bytes(&random_bytes::<32>());
        let sealed = self.crypto().seal(&hex::encode(key.to_bytes()));
        let public = key.verifying_key().to_bytes().to_vec();
        // Two first users racing: the second insert fails on the key id and reads the first's key.
        let inserted = on_pool!(self, p => sqlx::query(
            "INSERT INTO credit_keys (id, public_key, secret_cipher, created_at)
             VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM credit_keys), $1, $2, $3)",
        ).bind(public).bind(sealed).bind(now()).execute(p).await.map(|_| ()));
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {}
            Err(other) => return Err(other.into()),
        }
        Box::pin(self.signing_key()).await
    }

    /// Retires the current signing key: tokens and checkpoints it signed before now stay valid,
    /// anything it signs later is refused. The next signature makes a new key.
    pub async fn retire_signing_key(&self) -> Result<Option<u16>> {
        let (id, _) = self.signing_key().await?;
        on_pool!(self, p => sqlx::query("UPDATE credit_keys SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL")
            .bind(now()).bind(i64::from(id)).execute(p).await.map(|_| ())?);
        Ok(Some(id))
    }

    /// Every public key, current and retired, for offline checkers.
    pub async fn public_keys(&self) -> Result<Vec<PublicKey>> {
        let rows: Vec<KeyRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, public_key, created_at, retired_at FROM credit_keys ORDER BY id",
        ).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|(id, public, created_at, retired_at)| PublicKey {
                key_id: id as u16,
                public_key: hex::encode(public),
                created_at,
                retired_at,
            })
            .collect())
    }
}
