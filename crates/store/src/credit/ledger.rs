//! The append-only ledger: entries hash-chained in order, refused updates and deletes (by the
//! database's own triggers as well as this code), signed checkpoints, and verification.

use chrono::{DateTime, Utc};
use jiazheng_core::credit::ledger::{
    Break, ChainWalker, EntryFields, GENESIS, canonical, checkpoint_is_valid, entry_hash, sign_checkpoint,
};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::field::Invalid;
use serde::Serialize;

use crate::{Result, Store, StoreError, now, on_pool};
#[allow(unused_imports)]
use LedgerPool as _;

/// Entries between automatic checkpoints.
pub const CHECKPOINT_EVERY: i64 = 1000;

/// A fact to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub subject_kind: SubjectKind,
    pub subject_id: i64,
    pub kind: EntryKind,
    pub payload: serde_json::Value,
    /// Who the fact comes from, e.g. `agency:12`, `regulator:220102`, `provider:3`.
    pub source: String,
    pub recorded_by: Option<i64>,
    /// The entry this one corrects.
    pub corrects: Option<i64>,
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Entry {
        pub seq: i64,
        pub subject_kind: String,
        pub subject_id: i64,
        pub kind: String,
        pub payload: String,
        pub source: String,
        pub recorded_by: Option<i64>,
        pub recorded_at: String,
        pub corrects: Option<i64>,
        #[serde(serialize_with = "as_hex")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        pub prev_hash: Vec<u8>,
        #[serde(serialize_with = "as_hex")]
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        pub hash: Vec<u8>,
    }
}

fn as_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

impl Entry {
    fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            seq: self.seq,
            subject_kind: &self.subject_kind,
            subject_id: self.subject_id,
            kind: &self.kind,
            payload: &self.payload,
            source: &self.source,
            recorded_by: self.recorded_by,
            recorded_at: &self.recorded_at,
            corrects: self.corrects,
        }
    }
}

const ENTRY_COLUMNS: &str =
    "seq, subject_kind, subject_id, kind, payload, source, recorded_by, recorded_at, corrects, prev_hash, hash";

/// What `verify_ledger` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LedgerReport {
    pub entries: i64,
    pub checkpoints: i64,
    /// Entries after the last signed checkpoint: the chain alone vouches for them, so someone
    /// with write access could rewrite them with fresh hashes. The server signs the head every
    /// minute it moved; `jiazheng ledger checkpoint` signs it now.
    pub unsigned_tail: i64,
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

/// Up to which entry, head hash, signed at, key id, signature.
type CheckpointRow = (i64, Vec<u8>, String, i64, Vec<u8>);

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The next link of the chain after `head` (the last entry's seq and hash): the row that appends
/// `entry`, recorded at `recorded_at` (the text of `timestamp`).
pub(crate) fn chain_row(head: Option<(i64, Vec<u8>)>, entry: &NewEntry, recorded_at: &str) -> Result<Entry> {
    let (last_seq, prev) = head.unwrap_or((0, GENESIS.to_vec()));
    let prev: [u8; 32] = prev.try_into().map_err(|_| StoreError::Crypto("bad stored hash"))?;
    let mut row = Entry {
        seq: last_seq + 1,
        subject_kind: entry.subject_kind.as_str().to_string(),
        subject_id: entry.subject_id,
        kind: entry.kind.as_str().to_string(),
        payload: canonical(&entry.payload),
        source: entry.source.clone(),
        recorded_by: entry.recorded_by,
        recorded_at: recorded_at.to_string(),
        corrects: entry.corrects,
        prev_hash: prev.to_vec(),
        hash: Vec::new(),
    };
    row.hash = entry_hash(&prev, &row.fields()).to_vec();
    Ok(row)
}

pub(crate) const INSERT_ENTRY: &str = "INSERT INTO credit_ledger (seq, subject_kind, subject_id, kind, payload, source,
    recorded_by, recorded_at, corrects, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Opens a transaction that may append to the ledger. Appends are serialised: SQLite takes the
/// write lock at BEGIN, PostgreSQL a transaction-scoped advisory lock, so the head read inside
/// stays the head until commit.
pub(crate) trait LedgerPool {
    type Db: sqlx::Database;
    async fn begin_ledger(&self) -> std::result::Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl LedgerPool for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_ledger(&self) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl LedgerPool for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn begin_ledger(&self) -> std::result::Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7310)").execute(&mut *tx).await?;
        Ok(tx)
    }
}

/// Whether an error is a lost race for the next sequence number (worth retrying).
pub(crate) fn lost_chain_race(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(e)) => {
            (e.is_unique_violation()
                && (e.message().contains("credit_ledger") || e.constraint() == Some("credit_ledger_pkey")))
                || e.message().contains("locked")
                || e.message().contains("busy")
        }
        _ => false,
    }
}

/// Appends `$entry` inside the open ledger transaction `$tx`; evaluates to `Result<Entry>`.
macro_rules! append_in {
    ($tx:ident, $entry:expr) => {
        async {
            let head: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, hash FROM credit_ledger ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *$tx)
                    .await?;
            let row =
                $crate::credit::ledger::chain_row(head, $entry, &$crate::credit::ledger::timestamp($crate::now()))?;
            sqlx::query($crate::credit::ledger::INSERT_ENTRY)
                .bind(row.seq)
                .bind(&row.subject_kind)
                .bind(row.subject_id)
                .bind(&row.kind)
                .bind(&row.payload)
                .bind(&row.source)
                .bind(row.recorded_by)
                .bind(&row.recorded_at)
                .bind(row.corrects)
                .bind(&row.prev_hash)
                .bind(&row.hash)
                .execute(&mut *$tx)
                .await?;
            ::std::result::Result::<_, $crate::StoreError>::Ok(row)
        }
        .await
    };
}
pub(crate) use append_in;

/// Appends `$entries` in order inside the open ledger transaction `$tx`, in batches; evaluates to
/// `Result<Vec<i64>>` (their sequence numbers).
macro_rules! append_many_in {
    ($tx:ident, $entries:expr) => {
        async {
            let entries: &[$crate::credit::ledger::NewEntry] = $entries;
            let mut head: Option<(i64, Vec<u8>)> =
                sqlx::query_as("SELECT seq, hash FROM credit_ledger ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *$tx)
                    .await?;
            let mut rows = Vec::with_capacity(entries.len());
            // One transaction, one moment: formatting it once per entry was a cost of bulk loads.
            let recorded_at = $crate::credit::ledger::timestamp($crate::now());
            for entry in entries {
                let row = $crate::credit::ledger::chain_row(head.take(), entry, &recorded_at)?;
                head = Some((row.seq, row.hash.clone()));
                rows.push(row);
            }
            $crate::each_chunk!(
                rows.chunks(500),
                |chunk| {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO credit_ledger (seq, subject_kind, subject_id, kind, payload, source, recorded_by,
                        recorded_at, corrects, prev_hash, hash) ",
                    );
                    qb.push_values(chunk, |mut b, r: &$crate::credit::ledger::Entry| {
                        b.push_bind(r.seq)
                            .push_bind(r.subject_kind.clone())
                            .push_bind(r.subject_id)
                            .push_bind(r.kind.clone())
                            .push_bind(r.payload.clone())
                            .push_bind(r.source.clone())
                            .push_bind(r.recorded_by)
                            .push_bind(r.recorded_at.clone())
                            .push_bind(r.corrects)
                            .push_bind(r.prev_hash.clone())
                            .push_bind(r.hash.clone());
                    });
                    qb
                },
                |qb| qb.build().execute(&mut *$tx)
            );
            ::std::result::Result::<_, $crate::StoreError>::Ok(rows.iter().map(|r| r.seq).collect::<Vec<i64>>())
        }
        .await
    };
}
pub(crate) use append_many_in;

/// Runs `$body` (an expression that may `append_in!` and returns `Result<T>`) in one ledger
/// transaction: the record and its ledger entries are written together or not at all.
macro_rules! ledger_tx {
    ($store:expr, $tx:ident => $body:expr) => {{
        use $crate::credit::ledger::LedgerPool as _;
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            let result: $crate::Result<_> = $crate::on_pool!($store, p => async {
                let mut $tx = p.begin_ledger().await?;
                let value = { let body: $crate::Result<_> = $body; body }?;
                $tx.commit().await?;
                ::std::result::Result::<_, $crate::StoreError>::Ok(value)
            }.await);
            match result {
                Err(e) if attempts < 50 && $crate::credit::ledger::lost_chain_race(&e) => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                other => break other,
            }
        };
        if outcome.is_ok() {
            $store.checkpoint_if_due().await?;
        }
        outcome
    }};
}
pub(crate) use ledger_tx;

impl Store {
    /// Appends an entry at the end of the chain, on its own.
    pub async fn append_entry(&self, entry: &NewEntry) -> Result<Entry> {
        if let Some(target) = entry.corrects
            && self.ledger_entry(target).await.is_err()
        {
            let invalid = Invalid::new("no_such_entry", "被更正的记录不存在", "the entry to correct does not exist");
            return Err(StoreError::Invalid(jiazheng_core::FieldErrors(vec![invalid.at("corrects")])));
        }
        ledger_tx!(self, tx => append_in!(tx, entry))
    }

    /// Signs the head when the last checkpoint is `CHECKPOINT_EVERY` entries or more behind it.
    pub(crate) async fn checkpoint_if_due(&self) -> Result<()> {
        let (head, signed): (Option<i64>, Option<i64>) = on_pool!(self, p => sqlx::query_as(
            "SELECT (SELECT MAX(seq) FROM credit_ledger), (SELECT MAX(upto_seq) FROM credit_checkpoints)",
        ).fetch_one(p).await?);
        if head.unwrap_or(0) - signed.unwrap_or(0) >= CHECKPOINT_EVERY {
            self.checkpoint().await?;
        }
        Ok(())
    }

    /// Appends many entries in order in one transaction (demo data, benchmarks).
    pub async fn append_entries(&self, entries: &[NewEntry]) -> Result<Vec<i64>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        ledger_tx!(self, tx => append_many_in!(tx, entries))
    }

    pub async fn ledger_entry(&self, seq: i64) -> Result<Entry> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM credit_ledger WHERE seq = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(seq).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// A subject's entries, oldest first: its timeline. Corrections appear beside what they correct.
    pub async fn ledger_of(&self, subject_kind: SubjectKind, subject_id: i64) -> Result<Vec<Entry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM credit_ledger WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(subject_kind.as_str()).bind(subject_id).fetch_all(p).await?))
    }

    /// Signs the head if entries were added since the last checkpoint (the server's timer).
    pub async fn checkpoint_if_moved(&self) -> Result<Option<i64>> {
        let (head, signed): (Option<i64>, Option<i64>) = on_pool!(self, p => sqlx::query_as(
            "SELECT (SELECT MAX(seq) FROM credit_ledger), (SELECT MAX(upto_seq) FROM credit_checkpoints)",
        ).fetch_one(p).await?);
        if head.unwrap_or(0) > signed.unwrap_or(0) { self.checkpoint().await } else { Ok(None) }
    }

    /// Signs the chain's current head with the current key.
    pub async fn checkpoint(&self) -> Result<Option<i64>> {
        let head: Option<(i64, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT seq, hash FROM credit_ledger ORDER BY seq DESC LIMIT 1",
        ).fetch_optional(p).await?);
        let Some((seq, hash)) = head else { return Ok(None) };
        let hash: [u8; 32] = hash.try_into().map_err(|_| StoreError::Crypto("bad stored hash"))?;
        let (key_id, key) = self.signing_key().await?;
        let signed_at = timestamp(now());
        let signature = sign_checkpoint(&key, seq, &hash, &signed_at).to_vec();
        let done = on_pool!(self, p => sqlx::query(
            "INSERT INTO credit_checkpoints (upto_seq, head_hash, signed_at, key_id, signature) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (upto_seq) DO NOTHING",
        ).bind(seq).bind(hash.to_vec()).bind(signed_at).bind(i64::from(key_id)).bind(signature).execute(p).await.map(|_| ()));
        done?;
        Ok(Some(seq))
    }

    /// Walks the whole chain in order and checks every checkpoint against it. Stops at the first
    /// break and names the first entry that cannot be trusted.
    pub async fn verify_ledger(&self, progress: &(dyn Fn(i64, i64) + Sync)) -> Result<LedgerReport> {
        let keys = self.public_keys().await?;
        let checkpoints: Vec<CheckpointRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT upto_seq, head_hash, signed_at, key_id, signature FROM credit_checkpoints ORDER BY upto_seq",
        ).fetch_all(p).await?);
        let (total,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM credit_ledger").fetch_one(p).await?);
        let mut report = LedgerReport::default();
        let mut walker = ChainWalker::default();
        let mut next_checkpoint = checkpoints.iter().peekable();
        let fail = |mut report: LedgerReport, broken: Break| {
            report.first_bad_seq = Some(broken.first_bad_seq());
            report.problem = Some(broken.describe());
            report
        };
        let mut after = 0;
        let mut signed_through = 0;
        loop {
            let sql = format!("SELECT {ENTRY_COLUMNS} FROM credit_ledger WHERE seq > $1 ORDER BY seq LIMIT 20000");
            let batch: Vec<Entry> =
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).fetch_all(p).await?);
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for entry in &batch {
                if let Err(broken) = walker.step(&entry.fields(), &entry.prev_hash, &entry.hash) {
                    return Ok(fail(report, broken));
                }
                report.entries += 1;
                while let Some((upto, head, signed_at, key_id, signature)) =
                    next_checkpoint.next_if(|c| c.0 == entry.seq)
                {
                    let key = keys.iter().find(|k| i64::from(k.key_id) == *key_id).and_then(|k| k.verifying_key());
                    let (_, chain_head) = walker.head();
                    let signed = key.is_some_and(|k| {
                        head.as_slice() == chain_head
                            && checkpoint_is_valid(&k, *upto, &chain_head, signed_at, signature)
                    });
                    if !signed {
                        return Ok(fail(report, Break::Checkpoint { upto_seq: *upto }));
                    }
                    report.checkpoints += 1;
                    signed_through = *upto;
                }
            }
            progress(report.entries, total);
        }
        // A checkpoint beyond the end of the chain means entries were cut off the end.
        if let Some((upto, ..)) = next_checkpoint.next() {
            return Ok(fail(report, Break::Missing { after: walker.head().0, found: *upto + 1 }));
        }
        report.unsigned_tail = walker.head().0 - signed_through;
        Ok(report)
    }
}

impl Store {
    /// A subject's ledger as the grade reads it; entries that a later correction replaced are
    /// left out (the correction itself carries the corrected fact).
    pub async fn grade_facts(
        &self,
        subject_kind: SubjectKind,
        subject_id: i64,
    ) -> Result<Vec<jiazheng_core::credit::grade::Fact>> {
        let entries = self.ledger_of(subject_kind, subject_id).await?;
        // Newest first: a correction counts only if it was not itself corrected (an appeal granted
        // against a withdrawal restores what it withdrew).
        let mut corrected = std::collections::HashSet::new();
        for e in entries.iter().rev() {
            if let Some(target) = e.corrects
                && !corrected.contains(&e.seq)
            {
                corrected.insert(target);
            }
        }
        Ok(entries
            .iter()
            .filter(|e| !corrected.contains(&e.seq))
            .filter_map(|e| {
                let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
                // A correction counts as the kind of fact it restates, when it says so.
                let kind = match EntryKind::parse(&e.kind).ok()? {
                    EntryKind::Correction => payload["kind"].as_str().and_then(|k| EntryKind::parse(k).ok())?,
                    other => other,
                };
                let value = match kind {
                    EntryKind::Training => payload["exam_passed"].as_bool().map(|p| if p { 1.0 } else { 0.0 }),
                    EntryKind::Rating => payload["stars"].as_f64(),
                    _ => None,
                };
                let detail = payload["list"].as_str().map(String::from);
                Some(jiazheng_core::credit::grade::Fact { seq: e.seq, kind, value, detail })
            })
            .collect())
    }
}
