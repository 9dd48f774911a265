//! The credit report an agency releases to a bank (信易贷): its content is hashed as canonical
//! JSON and the digest signed with the platform's credit key, so the bank can check that the
//! PDF it holds says what the platform said, online or offline.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::ledger::canonical;

const DOMAIN: &[u8] = b"jiazheng credit report v1\n";

/// The digest of a report's content.
pub fn digest(content: &serde_json::Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(canonical(content).as_bytes());
    hasher.finalize().into()
}

pub fn sign(key: &SigningKey, digest: &[u8; 32]) -> [u8; 64] {
    key.sign(digest).to_bytes()
}

pub fn is_valid(key: &VerifyingKey, digest: &[u8; 32], signature: &[u8]) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(signature) else { return false };
    key.verify(digest, &Signature::from_bytes(&bytes)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_every_field_in_any_key_order() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let report = serde_json::json!({"agency": "长春市安心家政", "grade": "A", "score": 88.0});
        let same = serde_json::json!({"score": 88.0, "grade": "A", "agency": "长春市安心家政"});
        let signature = sign(&key, &digest(&report));
        assert!(is_valid(&key.verifying_key(), &digest(&same), &signature));
        let edited = serde_json::json!({"agency": "长春市安心家政", "grade": "A", "score": 98.0});
        assert!(!is_valid(&key.verifying_key(), &digest(&edited), &signature));
    }
}
