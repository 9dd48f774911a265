//! A notification as WeChat Pay API v3 sends it: JSON whose `resource` is sealed with
//! AEAD_AES_256_GCM under the merchant's API v3 key, and headers that sign
//! `"{timestamp}\n{nonce}\n{body}\n"`.
//!
//! One deliberate difference: WeChat signs with RSA-SHA256 (its platform certificate); the sandbox
//! signs with Ed25519 (already in the platform for certificates), and `Wechatpay-Serial` names an
//! Ed25519 key. A real provider plugs in its own verifier behind the same headers.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use jiazheng_core::market::payment::{TIMESTAMP_WINDOW_SECS, signed_message};
use serde::{Deserialize, Serialize};

pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

/// The keys of the payment channel: the API v3 key both sides hold, and the provider's signing
/// key whose public half the platform verifies with.
pub struct NotifyKeys {
    api_v3_key: [u8; 32],
    signing: SigningKey,
    verifying: VerifyingKey,
    serial: String,
}

impl std::fmt::Debug for NotifyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NotifyKeys(serial {})", self.serial)
    }
}

/// What went wrong with a notification, for the log and a 4xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    MissingHeader(&'static str),
    StaleTimestamp,
    UnknownSerial,
    BadSignature,
    BadBody,
    CannotDecrypt,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Resource {
    pub original_type: String,
    pub algorithm: String,
    pub ciphertext: String,
    pub associated_data: String,
    pub nonce: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    pub resource_type: String,
    pub event_type: String,
    pub summary: String,
    pub resource: Resource,
}

/// The signature headers of one delivery.
#[derive(Debug, Clone)]
pub struct Signed {
    pub timestamp: String,
    pub nonce: String,
    pub serial: String,
    pub signature: String,
}

impl Signed {
    /// The four headers a delivery carries, by name.
    pub fn headers(&self) -> [(&'static str, &str); 4] {
        [
            ("Wechatpay-Timestamp", &self.timestamp),
            ("Wechatpay-Nonce", &self.nonce),
            ("Wechatpay-Serial", &self.serial),
            ("Wechatpay-Signature", &self.signature),
        ]
    }
}

fn random_text(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let bytes = jiazheng_store::crypto::random_bytes::<32>();
    bytes.iter().take(len).map(|b| CHARS[usize::from(*b) % CHARS.len()] as char).collect()
}

impl NotifyKeys {
    pub fn from_crypto(crypto: &jiazheng_store::Crypto) -> Self {
        let signing = SigningKey::from_bytes(&crypto.payment_key("sandbox/signing"));
        let verifying = signing.verifying_key();
        let serial = hex::encode_upper(&verifying.as_bytes()[..10]);
        Self { api_v3_key: crypto.payment_key("api-v3-key"), signing, verifying, serial }
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Seals a resource (JSON text) for a notification body.
    pub fn seal(&self, event_type: &str, original_type: &str, plain: &str) -> String {
        let nonce = random_text(12);
        let cipher = Aes256Gcm::new((&self.api_v3_key).into());
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(nonce.as_bytes()),
                Payload { msg: plain.as_bytes(), aad: original_type.as_bytes() },
            )
            .expect("in-memory encryption");
        let body = Notification {
            id: format!("EV-{}", random_text(20)),
            create_time: chrono::Utc::now()
                .with_timezone(&jiazheng_core::calendar::beijing())
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            resource_type: "encrypt-resource".into(),
            event_type: event_type.into(),
            summary: if event_type == "REFUND.SUCCESS" { "退款成功" } else { "支付成功" }.into(),
            resource: Resource {
                original_type: original_type.into(),
                algorithm: ALGORITHM.into(),
                ciphertext: B64.encode(sealed),
                associated_data: original_type.into(),
                nonce,
            },
        };
        serde_json::to_string(&body).expect("a notification serialises")
    }

    /// Signs a body at `timestamp` (Unix seconds).
    pub fn sign(&self, timestamp: i64, body: &str) -> Signed {
        let timestamp = timestamp.to_string();
        let nonce = random_text(32);
        let signature = self.signing.sign(signed_message(&timestamp, &nonce, body).as_bytes());
        Signed { timestamp, nonce, serial: self.serial.clone(), signature: B64.encode(signature.to_bytes()) }
    }

    /// Checks the headers against the body and the clock.
    pub fn verify(&self, signed: &Signed, body: &str, now: i64) -> Result<(), Refusal> {
        let at: i64 = signed.timestamp.parse().map_err(|_| Refusal::StaleTimestamp)?;
        if (now - at).abs() > TIMESTAMP_WINDOW_SECS {
            return Err(Refusal::StaleTimestamp);
        }
        if signed.serial != self.serial {
            return Err(Refusal::UnknownSerial);
        }
        let bytes = B64.decode(&signed.signature).map_err(|_| Refusal::BadSignature)?;
        let signature = Signature::from_slice(&bytes).map_err(|_| Refusal::BadSignature)?;
        self.verifying
            .verify(signed_message(&signed.timestamp, &signed.nonce, body).as_bytes(), &signature)
            .map_err(|_| Refusal::BadSignature)
    }

    /// Opens a verified body: its event type and the resource's JSON text.
    pub fn open(&self, body: &str) -> Result<(String, String), Refusal> {
        let note: Notification = serde_json::from_str(body).map_err(|_| Refusal::BadBody)?;
        let r = &note.resource;
        if r.algorithm != ALGORITHM || r.nonce.len() != 12 {
            return Err(Refusal::BadBody);
        }
        let sealed = B64.decode(&r.ciphertext).map_err(|_| Refusal::BadBody)?;
        let cipher = Aes256Gcm::new((&self.api_v3_key).into());
        let plain = cipher
            .decrypt(Nonce::from_slice(r.nonce.as_bytes()), Payload { msg: &sealed, aad: r.associated_data.as_bytes() })
            .map_err(|_| Refusal::CannotDecrypt)?;
        Ok((note.event_type, String::from_utf8(plain).map_err(|_| Refusal::CannotDecrypt)?))
    }
}

#[derive(Debug, Deserialize)]
pub struct Amount {
    pub total: i64,
    #[serde(default)]
    pub refund: Option<i64>,
}

/// The decrypted resource of either event, as far as the platform reads it.
#[derive(Debug, Deserialize)]
pub struct Decrypted {
    pub out_trade_no: String,
    pub transaction_id: String,
    #[serde(default)]
    pub trade_state: Option<String>,
    #[serde(default)]
    pub out_refund_no: Option<String>,
    #[serde(default)]
    pub refund_id: Option<String>,
    #[serde(default)]
    pub refund_status: Option<String>,
    pub success_time: String,
    pub amount: Amount,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_signed_notification_opens_and_any_change_is_refused() {
        let keys = NotifyKeys::from_crypto(&jiazheng_store::Crypto::ephemeral());
        let body = keys.seal("TRANSACTION.SUCCESS", "transaction", r#"{"out_trade_no":"JZ00000001P1"}"#);
        let signed = keys.sign(1_800_000_000, &body);
        assert_eq!(keys.verify(&signed, &body, 1_800_000_100), Ok(()));
        assert_eq!(keys.verify(&signed, &body, 1_800_000_400), Err(Refusal::StaleTimestamp));
        let tampered = body.replacen("TRANSACTION", "TRANSACTIOM", 1);
        assert_eq!(keys.verify(&signed, &tampered, 1_800_000_000), Err(Refusal::BadSignature));
        let (event, plain) = keys.open(&body).unwrap();
        assert_eq!((event.as_str(), plain.as_str()), ("TRANSACTION.SUCCESS", r#"{"out_trade_no":"JZ00000001P1"}"#));
        let other = NotifyKeys::from_crypto(&jiazheng_store::Crypto::ephemeral());
        assert_eq!(other.open(&body), Err(Refusal::CannotDecrypt));
        assert_eq!(other.verify(&signed, &body, 1_800_000_000), Err(Refusal::UnknownSerial));
    }
}
