//! Sensitive fields (ID numbers, phones) are sealed with ChaCha20-Poly1305 and looked up by
//! a keyed hash (HMAC-SHA256), both derived from one master key that never leaves config.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

use crate::{Result, StoreError};

type HmacSha256 = Hmac<Sha256>;

/// First byte of a value sealed with `seal_at`.
const BOUND: u8 = 2;

#[derive(Clone)]
pub struct Crypto {
    cipher: ChaCha20Poly1305,
    hash_key: [u8; 32],
    /// The root of the payment keys (the API v3 key, the sandbox's signing key).
    payment_root: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(..)")
    }
}

fn derive(master: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

impl Crypto {
    pub fn from_master_key(master: &[u8; 32]) -> Self {
        let cipher = ChaCha20Poly1305::new(&derive(master, "jiazheng/seal/v1").into());
        Self {
            cipher,
            hash_key: derive(master, "jiazheng/lookup/v1"),
            payment_root: derive(master, "jiazheng/payments/v1"),
        }
    }

    /// A throw-away key, for tests and benchmarks.
    pub fn ephemeral() -> Self {
        Self::from_master_key(&random_bytes())
    }

    /// Reads the hex master key from `JIAZHENG_SECRET_KEY`, else from `data_dir/secret.key`,
    /// creating that file (mode 0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self> {
        let from_env = std::env::var("JIAZHENG_SECRET_KEY").ok();
        let path = data_dir.join("secret.key");
        let text = match from_env {
            Some(text) => text,
            None if path.exists() => std::fs::read_to_string(&path).map_err(|e| StoreError::File(e.to_string()))?,
            None => {
                let text = hex::encode(random_bytes::<32>());
                write_private(&path, &text)?;
                text
            }
        };
        let bytes = hex::decode(text.trim()).map_err(|_| StoreError::Crypto("the secret key is not hex"))?;
        let master: [u8; 32] =
            bytes.try_into().map_err(|_| StoreError::Crypto("the secret key must be 32 bytes (64 hex digits)"))?;
        Ok(Self::from_master_key(&master))
    }

    /// Seals a value bound to where it is kept (`place`: table, column and the row's own key), so
    /// a ciphertext copied to another row or column does not open. Version byte, nonce, then
    /// ciphertext and tag.
    pub fn seal_at(&self, plain: &str, place: &str) -> Vec<u8> {
        self.seal_bytes_at(plain.as_bytes(), place)
    }

    /// `seal_at` for a file.
    pub fn seal_bytes_at(&self, plain: &[u8], place: &str) -> Vec<u8> {
        let nonce = random_bytes::<12>();
        let mut out = vec![BOUND];
        out.extend(nonce);
        let payload = Payload { msg: plain, aad: place.as_bytes() };
        out.extend(self.cipher.encrypt(Nonce::from_slice(&nonce), payload).expect("in-memory encryption"));
        out
    }

    /// Opens a value sealed with `seal_at` for the same place; anything else is refused.
    pub fn open_at(&self, sealed: &[u8], place: &str) -> Result<String> {
        String::from_utf8(self.open_bytes_at(sealed, place)?).map_err(|_| StoreError::Crypto("not text"))
    }

    /// Opens a file sealed with `seal_bytes_at` for the same place.
    pub fn open_bytes_at(&self, sealed: &[u8], place: &str) -> Result<Vec<u8>> {
        let Some((&BOUND, rest)) = sealed.split_first() else {
            return Err(StoreError::Crypto("not a bound sealed value"));
        };
        if rest.len() < 12 {
            return Err(StoreError::Crypto("sealed value too short"));
        }
        let (nonce, body) = rest.split_at(12);
        let payload = Payload { msg: body, aad: place.as_bytes() };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| StoreError::Crypto("cannot open (moved or altered)"))
    }

    /// Nonce followed by ciphertext and tag, bound to nothing: the format before `seal_at`, kept
    /// for values that cannot be re-sealed (inside ledger entries) and for the one-time re-seal.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let nonce = random_bytes::<12>();
        let mut out = nonce.to_vec();
        out.extend(self.cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).expect("in-memory encryption"));
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<String> {
        if sealed.len() < 12 {
            return Err(StoreError::Crypto("sealed value too short"));
        }
        let (nonce, body) = sealed.split_at(12);
        let plain =
            self.cipher.decrypt(Nonce::from_slice(nonce), body).map_err(|_| StoreError::Crypto("cannot open"))?;
        String::from_utf8(plain).map_err(|_| StoreError::Crypto("not text"))
    }

    /// A 32-byte key for one purpose of the payments (the API v3 key, the sandbox's signing
    /// seed), derived from the master key so that it survives restarts without its own file.
    pub fn payment_key(&self, purpose: &str) -> [u8; 32] {
        derive(&self.payment_root, purpose)
    }

    /// Keyed hash for equality look-ups; `kind` keeps an ID and a phone with the same digits apart.
    pub fn lookup_hash(&self, kind: &str, value: &str) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.hash_key).expect("any key length");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::File(format!("{}: {e}", path.display())))?;
    file.write_all(text.as_bytes()).map_err(|e| StoreError::File(e.to_string()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| StoreError::File(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_open_and_detect_tampering() {
        let crypto = Crypto::ephemeral();
        let sealed = crypto.seal("11010519491231002X");
        assert!(!sealed.windows(6).any(|w| w == b"110105"));
        assert_eq!(crypto.open(&sealed).unwrap(), "11010519491231002X");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(crypto.open(&tampered).is_err());
        assert!(Crypto::ephemeral().open(&sealed).is_err());
    }

    #[test]
    fn a_bound_value_opens_only_where_it_was_sealed() {
        let crypto = Crypto::ephemeral();
        let sealed = crypto.seal_at("13900000001", "workers.phone:abc");
        assert_eq!(crypto.open_at(&sealed, "workers.phone:abc").unwrap(), "13900000001");
        assert!(crypto.open_at(&sealed, "workers.phone:def").is_err(), "another row");
        assert!(crypto.open_at(&sealed, "workers.id:abc").is_err(), "another column");
        assert!(crypto.open_at(&crypto.seal("13900000001"), "workers.phone:abc").is_err(), "an unbound value");
    }

    #[test]
    fn lookup_hash_is_keyed_and_kind_separated() {
        let crypto = Crypto::from_master_key(&[7; 32]);
        assert_eq!(crypto.lookup_hash("id", "x"), crypto.lookup_hash("id", "x"));
        assert_ne!(crypto.lookup_hash("id", "x"), crypto.lookup_hash("phone", "x"));
        assert_ne!(crypto.lookup_hash("id", "x"), Crypto::from_master_key(&[8; 32]).lookup_hash("id", "x"));
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("jz-key-{}", hex::encode(random_bytes::<6>())));
        std::fs::create_dir_all(&dir).unwrap();
        let first = Crypto::load_or_create(&dir).unwrap();
        let second = Crypto::load_or_create(&dir).unwrap();
        assert_eq!(first.lookup_hash("id", "a"), second.lookup_hash("id", "a"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
