//! The hash chain: each entry's hash covers the previous entry's hash and every field of the
//! entry, so changing, removing or reordering any entry breaks every hash after it. Checkpoints
//! sign the head of the chain with Ed25519, so even a rewrite that recomputes all the hashes is
//! caught by anyone holding the public key.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// An entry's fields as they are hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub seq: i64,
    pub subject_kind: &'a str,
    pub subject_id: i64,
    pub kind: &'a str,
    /// Canonical JSON (keys sorted, no spaces), as stored.
    pub payload: &'a str,
    pub source: &'a str,
    pub recorded_by: Option<i64>,
    /// RFC 3339 UTC to the microsecond, as stored.
    pub recorded_at: &'a str,
    pub corrects: Option<i64>,
}

fn field(hasher: &mut Sha256, bytes: &[u8]) {
    // Length-prefixed, so no two different entries hash the same bytes.
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}

/// The hash of an entry chained to the previous one.
pub fn entry_hash(prev: &[u8; 32], e: &EntryFields<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"jiazheng-ledger-v1");
    h.update(prev);
    h.update(e.seq.to_be_bytes());
    field(&mut h, e.subject_kind.as_bytes());
    h.update(e.subject_id.to_be_bytes());
    field(&mut h, e.kind.as_bytes());
    field(&mut h, e.payload.as_bytes());
    field(&mut h, e.source.as_bytes());
    h.update(e.recorded_by.unwrap_or(-1).to_be_bytes());
    field(&mut h, e.recorded_at.as_bytes());
    h.update(e.corrects.unwrap_or(-1).to_be_bytes());
    h.finalize().into()
}

/// What a checkpoint signs: the sequence number and hash of the chain's head at a moment.
pub fn checkpoint_message(upto_seq: i64, head: &[u8; 32], signed_at: &str) -> Vec<u8> {
    let mut m = b"jiazheng-checkpoint-v1".to_vec();
    m.extend(upto_seq.to_be_bytes());
    m.extend(head);
    m.extend(signed_at.as_bytes());
    m
}

pub fn sign_checkpoint(key: &SigningKey, upto_seq: i64, head: &[u8; 32], signed_at: &str) -> [u8; 64] {
    key.sign(&checkpoint_message(upto_seq, head, signed_at)).to_bytes()
}

pub fn checkpoint_is_valid(
    key: &VerifyingKey,
    upto_seq: i64,
    head: &[u8; 32],
    signed_at: &str,
    signature: &[u8],
) -> bool {
    let Ok(bytes) = <[u8; 64]>::try_from(signature) else { return false };
    key.verify_strict(&checkpoint_message(upto_seq, head, signed_at), &Signature::from_bytes(&bytes)).is_ok()
}

/// Why verification stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry's stored previous hash is not the hash of the entry before it.
    Unlinked { seq: i64 },
    /// The entry's stored hash is not the hash of its fields.
    Altered { seq: i64 },
    /// Sequence numbers skip: an entry was removed.
    Missing { after: i64, found: i64 },
    /// A checkpoint's signature does not verify, or its head differs from the chain's.
    Checkpoint { upto_seq: i64 },
}

impl Break {
    /// The first entry that cannot be trusted.
    pub fn first_bad_seq(&self) -> i64 {
        match self {
            Break::Unlinked { seq } | Break::Altered { seq } => *seq,
            Break::Missing { after, .. } => after + 1,
            Break::Checkpoint { upto_seq } => *upto_seq,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Break::Unlinked { seq } => format!("entry {seq}: its previous hash does not match entry {}", seq - 1),
            Break::Altered { seq } => format!("entry {seq}: its contents do not match its hash (altered)"),
            Break::Missing { after, found } => format!("entries {}..{} are missing", after + 1, found - 1),
            Break::Checkpoint { upto_seq } => format!("the checkpoint at entry {upto_seq} does not verify"),
        }
    }
}

/// Walks the chain in order, entry by entry, keeping only the last hash.
#[derive(Debug, Clone)]
pub struct ChainWalker {
    last_seq: i64,
    last_hash: [u8; 32],
}

impl Default for ChainWalker {
    fn default() -> Self {
        Self { last_seq: 0, last_hash: GENESIS }
    }
}

impl ChainWalker {
    /// Checks the next entry with its stored previous hash and hash.
    pub fn step(&mut self, e: &EntryFields<'_>, stored_prev: &[u8], stored_hash: &[u8]) -> Result<(), Break> {
        if e.seq != self.last_seq + 1 {
            return Err(Break::Missing { after: self.last_seq, found: e.seq });
        }
        if stored_prev != self.last_hash {
            return Err(Break::Unlinked { seq: e.seq });
        }
        let hash = entry_hash(&self.last_hash, e);
        if stored_hash != hash {
            return Err(Break::Altered { seq: e.seq });
        }
        self.last_seq = e.seq;
        self.last_hash = hash;
        Ok(())
    }

    pub fn head(&self) -> (i64, [u8; 32]) {
        (self.last_seq, self.last_hash)
    }
}

/// A payload in canonical form: keys sorted (serde_json's map is ordered), no spaces.
pub fn canonical(value: &serde_json::Value) -> String {
    // Without serde_json's `preserve_order` every map is already sorted; the copy below is for
    // a build where some dependency turned that feature on.
    fn sorted(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Object(map) => map.keys().is_sorted() && map.values().all(sorted),
            serde_json::Value::Array(items) => items.iter().all(sorted),
            _ => true,
        }
    }
    if sorted(value) {
        return value.to_string();
    }
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                serde_json::Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&map[k]))).collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, payload: &str) -> EntryFields<'_> {
        EntryFields {
            seq,
            subject_kind: "worker",
            subject_id: 7,
            kind: "health_check",
            payload,
            source: "agency:3",
            recorded_by: Some(2),
            recorded_at: "2026-11-29T03:00:00.000000Z",
            corrects: None,
        }
    }

    fn chain(payloads: &[&'static str]) -> Vec<(EntryFields<'static>, [u8; 32], [u8; 32])> {
        let mut prev = GENESIS;
        payloads
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let e = entry(i as i64 + 1, p);
                let hash = entry_hash(&prev, &e);
                let out = (e, prev, hash);
                prev = hash;
                out
            })
            .collect()
    }

    fn walk(entries: &[(EntryFields<'_>, [u8; 32], [u8; 32])]) -> Result<(), Break> {
        let mut walker = ChainWalker::default();
        entries.iter().try_for_each(|(e, prev, hash)| walker.step(e, prev, hash))
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_is_named() {
        let good = chain(&["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]);
        assert_eq!(walk(&good), Ok(()));
        let mut altered = good.clone();
        altered[1].0.payload = "{\"a\":9}";
        assert_eq!(walk(&altered), Err(Break::Altered { seq: 2 }));
        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(walk(&removed), Err(Break::Missing { after: 1, found: 3 }));
        assert_eq!(Break::Missing { after: 1, found: 3 }.first_bad_seq(), 2);
        // Rewriting an entry and recomputing its hash still breaks the link to the next one.
        let mut rewritten = good.clone();
        rewritten[1].0.payload = "{\"a\":9}";
        rewritten[1].2 = entry_hash(&rewritten[1].1, &rewritten[1].0);
        assert_eq!(walk(&rewritten), Err(Break::Unlinked { seq: 3 }));
    }

    #[test]
    fn checkpoints_verify_only_with_the_right_key_and_head() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let other = SigningKey::from_bytes(&[8; 32]);
        let head = [1; 32];
        let sig = sign_checkpoint(&key, 3, &head, "2026-11-29T03:00:00Z");
        assert!(checkpoint_is_valid(&key.verifying_key(), 3, &head, "2026-11-29T03:00:00Z", &sig));
        assert!(!checkpoint_is_valid(&other.verifying_key(), 3, &head, "2026-11-29T03:00:00Z", &sig));
        assert!(!checkpoint_is_valid(&key.verifying_key(), 3, &[2; 32], "2026-11-29T03:00:00Z", &sig));
        assert!(!checkpoint_is_valid(&key.verifying_key(), 3, &head, "2026-11-29T03:00:00Z", &sig[..63]));
    }

    #[test]
    fn payloads_are_canonical_whatever_the_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"d":2,"c":3}}"#).unwrap();
        assert_eq!(canonical(&a), r#"{"a":{"c":3,"d":2},"b":1}"#);
    }
}
