//! The credit ledger and certificates on a real database: an edited row is caught on either
//! engine, the database itself refuses updates and deletes, concurrent appends keep one chain,
//! and a certificate's colour follows today's facts.

use chrono::NaiveDate;
use jiazheng_core::credit::certificate::Colour;
use jiazheng_core::credit::token;
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::ids::{ResidentId, Uscc};
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_store::credit::ledger::NewEntry;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::{TestDb, give_cleaning_records};
use jiazheng_store::{Pool, Store, StoreError};
use serde_json::json;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn fact(subject_id: i64, n: i64) -> NewEntry {
    NewEntry {
        subject_kind: SubjectKind::Worker,
        subject_id,
        kind: EntryKind::Rating,
        payload: json!({ "quality": 5, "n": n }),
        source: "agency:1".into(),
        recorded_by: None,
        corrects: None,
    }
}

/// Runs raw SQL as someone with direct access to the database would.
async fn raw(store: &Store, sql: &str) -> Result<u64, sqlx::Error> {
    match store.pool() {
        Pool::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.map(|r| r.rows_affected())
        }
        Pool::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.map(|r| r.rows_affected())
        }
    }
}

#[tokio::test]
async fn an_edited_row_is_caught_and_the_database_refuses_edits_itself() {
    let db = TestDb::new().await;
    let store = &db.store;
    for n in 1..=5 {
        store.append_entry(&fact(7, n)).await.unwrap();
    }
    store.checkpoint().await.unwrap();
    let clean = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((clean.entries, clean.checkpoints, clean.first_bad_seq), (5, 1, None));

    // The ledger's own guard: updates and deletes are refused by the database.
    assert!(raw(store, "UPDATE credit_ledger SET payload = '{}' WHERE seq = 3").await.is_err());
    assert!(raw(store, "DELETE FROM credit_ledger WHERE seq = 5").await.is_err());

    // Someone with the power to remove the guard edits entry 3; verification names it.
    let drop_guard = match store.pool() {
        Pool::Sqlite(_) => "DROP TRIGGER credit_ledger_no_update",
        Pool::Postgres(_) => "DROP TRIGGER credit_ledger_append_only ON credit_ledger",
    };
    raw(store, drop_guard).await.unwrap();
    assert_eq!(
        raw(store, r#"UPDATE credit_ledger SET payload = '{"n":3,"quality":1}' WHERE seq = 3"#).await.unwrap(),
        1
    );
    let caught = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!(caught.first_bad_seq, Some(3), "{caught:?}");
    assert!(caught.problem.unwrap().contains("altered"));
}

#[tokio::test]
async fn replace_inserts_and_truncation_are_refused_and_the_unsigned_tail_is_reported() {
    let db = TestDb::new().await;
    let store = &db.store;
    for n in 1..=3 {
        store.append_entry(&fact(9, n)).await.unwrap();
    }
    store.checkpoint().await.unwrap();
    for n in 4..=5 {
        store.append_entry(&fact(9, n)).await.unwrap();
    }
    let report = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((report.entries, report.checkpoints, report.unsigned_tail, report.first_bad_seq), (5, 1, 2, None));

    // SQLite's REPLACE deletes the old row without firing delete triggers: refused all the same.
    let copy =
        "SELECT seq, subject_kind, subject_id, kind, '{}', source, recorded_by, recorded_at, corrects, prev_hash, hash
                FROM credit_ledger WHERE seq = 4";
    let replace = match store.pool() {
        Pool::Sqlite(_) => format!("INSERT OR REPLACE INTO credit_ledger {copy}"),
        Pool::Postgres(_) => {
            format!("INSERT INTO credit_ledger {copy} ON CONFLICT (seq) DO UPDATE SET payload = '{{}}'")
        }
    };
    assert!(raw(store, &replace).await.is_err(), "a ledger row was replaced");
    let replace_checkpoint = match store.pool() {
        Pool::Sqlite(_) => "INSERT OR REPLACE INTO credit_checkpoints SELECT * FROM credit_checkpoints",
        Pool::Postgres(_) => "TRUNCATE credit_checkpoints",
    };
    assert!(raw(store, replace_checkpoint).await.is_err(), "a checkpoint was replaced");
    if let Pool::Postgres(_) = store.pool() {
        assert!(raw(store, "TRUNCATE credit_ledger CASCADE").await.is_err(), "the ledger was truncated");
    }
    let after = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((after.entries, after.first_bad_seq), (5, None));

    // The timer signs only when the head moved.
    assert_eq!(store.checkpoint_if_moved().await.unwrap(), Some(5));
    assert_eq!(store.checkpoint_if_moved().await.unwrap(), None);
    assert_eq!(store.verify_ledger(&|_, _| {}).await.unwrap().unsigned_tail, 0);
}

/// Rewrites one entry's payload and recomputes its hash and every later one, as a careful forger
/// with write access would.
async fn rewrite(store: &Store, seq: i64, payload: &str) {
    use jiazheng_core::credit::ledger::{EntryFields, entry_hash};
    let mut entries = store.ledger_of(SubjectKind::Worker, 8).await.unwrap();
    let mut prev: [u8; 32] = entries[(seq - 2).max(0) as usize].hash.clone().try_into().unwrap();
    if seq == 1 {
        prev = jiazheng_core::credit::ledger::GENESIS;
    }
    for e in entries.iter_mut().filter(|e| e.seq >= seq) {
        if e.seq == seq {
            e.payload = payload.to_string();
        }
        let fields = EntryFields {
            seq: e.seq,
            subject_kind: &e.subject_kind,
            subject_id: e.subject_id,
            kind: &e.kind,
            payload: &e.payload,
            source: &e.source,
            recorded_by: e.recorded_by,
            recorded_at: &e.recorded_at,
            corrects: e.corrects,
        };
        let hash = entry_hash(&prev, &fields);
        let sql = "UPDATE credit_ledger SET payload = $1, prev_hash = $2, hash = $3 WHERE seq = $4";
        match store.pool() {
            Pool::Sqlite(p) => sqlx::query(sql)
                .bind(&e.payload)
                .bind(prev.to_vec())
                .bind(hash.to_vec())
                .bind(e.seq)
                .execute(p)
                .await
                .unwrap()
                .rows_affected(),
            Pool::Postgres(p) => sqlx::query(sql)
                .bind(&e.payload)
                .bind(prev.to_vec())
                .bind(hash.to_vec())
                .bind(e.seq)
                .execute(p)
                .await
                .unwrap()
                .rows_affected(),
        };
        prev = hash;
    }
}

#[tokio::test]
async fn a_chain_rewritten_with_fresh_hashes_is_caught_by_the_signed_checkpoint() {
    let db = TestDb::new().await;
    let store = &db.store;
    for n in 1..=3 {
        store.append_entry(&fact(8, n)).await.unwrap();
    }
    store.checkpoint().await.unwrap();
    let drop_guard = match store.pool() {
        Pool::Sqlite(_) => "DROP TRIGGER credit_ledger_no_update",
        Pool::Postgres(_) => "DROP TRIGGER credit_ledger_append_only ON credit_ledger",
    };
    raw(store, drop_guard).await.unwrap();
    rewrite(store, 2, r#"{"n":2,"quality":1}"#).await;
    let report = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!(report.first_bad_seq, Some(3), "{report:?}");
    assert!(report.problem.unwrap().contains("checkpoint"));
}

#[tokio::test]
async fn concurrent_appends_keep_one_unbroken_chain() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { store.append_entry(&fact(9, n)).await.unwrap().seq })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=16).collect::<Vec<_>>());
    let report = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((report.entries, report.first_bad_seq), (16, None));
}

#[tokio::test]
async fn a_correction_must_point_at_an_entry_and_leaves_the_original_in_the_timeline() {
    let db = TestDb::new().await;
    let store = &db.store;
    let original = store.append_entry(&fact(10, 1)).await.unwrap();
    let missing = NewEntry { kind: EntryKind::Correction, corrects: Some(999), ..fact(10, 2) };
    match store.append_entry(&missing).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].field, "corrects"),
        other => panic!("expected a field error, got {other:?}"),
    }
    let correction = NewEntry { kind: EntryKind::Correction, corrects: Some(original.seq), ..fact(10, 2) };
    store.append_entry(&correction).await.unwrap();
    let timeline = store.ledger_of(SubjectKind::Worker, 10).await.unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[0].payload, original.payload, "the original is still there, unchanged");
    assert_eq!(timeline[1].corrects, Some(original.seq));
}

async fn employed_worker(store: &Store) -> (i64, i64) {
    let form = AgencyForm {
        uscc: Uscc::compose("220102", "MA0C0001"),
        name: "长春市安心家政服务有限公司".into(),
        brand_name: String::new(),
        legal_representative: "李明".into(),
        address: "人民大街1号".into(),
        street_code: "220102001".into(),
        phone: "043188886666".into(),
        business_model: "employee".into(),
    };
    let agency = store.create_agency(&form.parse().unwrap()).await.unwrap();
    let draft = WorkerForm {
        id_number: ResidentId::compose("220102", NaiveDate::from_ymd_opt(1984, 3, 3).unwrap(), 12),
        name: "王秀英".into(),
        phone: "13904310012".into(),
        education_level: "senior".into(),
        home_street: "220102001".into(),
        services: vec!["cleaning".into()],
        ..Default::default()
    }
    .parse(today())
    .unwrap();
    let binding = Some(NewBinding { agency_id: agency, kind: BindingKind::Employee, active: true });
    let worker = store.insert_workers(&[NewWorker { draft: &draft, binding }]).await.unwrap()[0];
    (agency, worker)
}

#[tokio::test]
async fn a_certificate_is_issued_only_when_allowed_and_its_colour_follows_the_facts() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (agency, worker) = employed_worker(store).await;
    match store.issue_certificate(worker, format!("agency:{agency}"), None, today()).await {
        Err(StoreError::Invalid(errors)) => {
            let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["identity", "health_check", "pre_job_training"]);
        }
        other => panic!("expected refusals, got {other:?}"),
    }
    assert_eq!(store.verify_ledger(&|_, _| {}).await.unwrap().entries, 0, "a refusal writes nothing");

    // A health check 300 days old: valid until day 365.
    give_cleaning_records(store, agency, worker, today() - chrono::Duration::days(300), today()).await.unwrap();
    store.verify_identity(worker, format!("agency:{agency}"), None, "id_card").await.unwrap();
    let issued = store.issue_certificate(worker, format!("agency:{agency}"), None, today()).await.unwrap();
    assert_eq!(issued.status, Colour::Green);
    assert_eq!(issued.valid_until, today() + chrono::Duration::days(64), "no later than the health check");

    let keys = store.public_keys().await.unwrap();
    let claims =
        token::verify(&issued.token, |id| keys.iter().find(|k| k.key_id == id).and_then(|k| k.verifying_key()))
            .unwrap();
    assert_eq!((claims.number.as_str(), claims.name_masked.as_str()), (issued.number.as_str(), "王*英"));

    assert_eq!(store.live_status(&issued.number, today()).await.unwrap().status, Colour::Green);
    // Seventy days on, the health check has lapsed: the same card now reads yellow.
    let later = today() + chrono::Duration::days(70);
    let live = store.live_status(&issued.number, later).await.unwrap();
    assert_eq!((live.status, live.expired), (Colour::Yellow, true));

    store.revoke_certificate(&issued.number, "虚假材料", false, "regulator:220102".into(), None).await.unwrap();
    assert_eq!(store.live_status(&issued.number, today()).await.unwrap().status, Colour::Red);
    assert_eq!(store.revocations().await.unwrap()[0].0, issued.number);
    let again = store.revoke_certificate(&issued.number, "again", false, "regulator:220102".into(), None).await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })));
    let report = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((report.entries, report.first_bad_seq), (6, None));

    // Issuing again gives a new card with a new number; the revoked number stays revoked.
    let second = store.issue_certificate(worker, "agency:1".into(), None, today()).await.unwrap();
    assert_ne!(second.number, issued.number);
    assert_eq!(store.live_status(&issued.number, today()).await.unwrap().status, Colour::Red);
    assert_eq!(store.live_status(&second.number, today()).await.unwrap().status, Colour::Green);
    let revoked: Vec<String> = store.revocations().await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(revoked, std::slice::from_ref(&issued.number));
    // Renewing the current card keeps its number.
    assert_eq!(store.issue_certificate(worker, "agency:1".into(), None, today()).await.unwrap().number, second.number);
    // A revocation that bars re-issue leaves the worker without a card.
    store.revoke_certificate(&second.number, "冒用", true, "regulator:220102".into(), None).await.unwrap();
    let barred = store.issue_certificate(worker, "agency:1".into(), None, today()).await;
    assert!(matches!(&barred, Err(StoreError::Invalid(e)) if e.0[0].field == "certificate"), "{barred:?}");
    assert_eq!(store.revocations().await.unwrap().len(), 2);
    // Nor can the database be talked into un-revoking a card.
    let unrevoke = format!("UPDATE certificates SET revoked_seq = NULL WHERE number = '{}'", issued.number);
    assert!(raw(store, &unrevoke).await.is_err(), "a revoked card was revived");
    // Every fact behind the certificate is in the worker's timeline, with its source.
    let kinds: Vec<String> =
        store.ledger_of(SubjectKind::Worker, worker).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            "training",
            "health_check",
            "insurance",
            "identity_verified",
            "certificate_issued",
            "certificate_revoked",
            "certificate_issued",
            "certificate_issued",
            "certificate_revoked"
        ]
    );
    let health = &store.ledger_of(SubjectKind::Worker, worker).await.unwrap()[1];
    assert!(!health.payload.contains("pass") && health.payload.contains("sealed_result_sha256"), "{}", health.payload);
}

/// A key verifies what it signed before it was retired, never what it signs after.
#[tokio::test]
async fn a_retired_key_does_not_verify_tokens_signed_after_its_retirement() {
    use jiazheng_core::credit::token::{Claims, TokenError};
    use jiazheng_store::credit::keys::PublicKey;
    let db = TestDb::new().await;
    let store = &db.store;
    let (old_id, old_key) = store.signing_key().await.unwrap();
    let claims = |key_id, issued_at| Claims {
        number: "JZ-220102-000001".into(),
        name_masked: "王*英".into(),
        status: Colour::Green,
        valid_until: today(),
        key_id,
        issued_at,
    };
    let before = token::issue(&claims(old_id, chrono::Utc::now() - chrono::Duration::minutes(5)), &old_key);
    store.retire_signing_key().await.unwrap();
    let keys = store.public_keys().await.unwrap();
    assert!(PublicKey::verify_token(&keys, &before).is_ok(), "signed before retirement");
    // Whoever kept the old secret signs a new card with it: refused.
    let after = token::issue(&claims(old_id, chrono::Utc::now() + chrono::Duration::seconds(5)), &old_key);
    assert_eq!(PublicKey::verify_token(&keys, &after).unwrap_err(), TokenError::RetiredKey);
    let (new_id, new_key) = store.signing_key().await.unwrap();
    assert_ne!(new_id, old_id);
    let keys = store.public_keys().await.unwrap();
    let fresh = token::issue(&claims(new_id, chrono::Utc::now()), &new_key);
    assert!(PublicKey::verify_token(&keys, &fresh).is_ok());
}

/// The review queue follows the ledger whichever way it is written: agency-entered records
/// enter it in their worker's district, a correction takes the corrected one out, and a worker
/// who moves takes their waiting records to the new district's regulator.
#[tokio::test]
async fn the_review_queue_follows_corrections_and_the_workers_district() {
    use jiazheng_store::PageRequest;
    let db = TestDb::new().await;
    let store = &db.store;
    let (agency, worker) = employed_worker(store).await;
    give_cleaning_records(store, agency, worker, today(), today()).await.unwrap();
    let queue = |area: &'static str| async move {
        let page = store
            .review_queue(
                &jiazheng_store::credit::casework::QueueFilter::area(Some(area)),
                PageRequest::new(None, Some(100)),
            )
            .await
            .unwrap();
        page.items.iter().filter(|e| e.worker_id == worker).map(|e| e.seq).collect::<Vec<i64>>()
    };
    let waiting = queue("220102000000").await;
    assert_eq!(waiting.len(), 3, "training, health check and insurance wait in 南关区");
    assert!(queue("220104000000").await.is_empty(), "not in 朝阳区");
    let city = store
        .review_queue(&jiazheng_store::credit::casework::QueueFilter::default(), PageRequest::new(None, Some(100)))
        .await
        .unwrap();
    assert_eq!(city.total, 3);

    let correction = NewEntry {
        subject_kind: SubjectKind::Worker,
        subject_id: worker,
        kind: EntryKind::Correction,
        payload: json!({"reason": "录入错误"}),
        source: format!("agency:{agency}"),
        recorded_by: None,
        corrects: Some(waiting[0]),
    };
    store.append_entry(&correction).await.unwrap();
    assert_eq!(queue("220102000000").await, waiting[1..].to_vec(), "the corrected record leaves the queue");

    raw(store, &format!("UPDATE workers SET district_code = '220104000000' WHERE id = {worker}")).await.unwrap();
    assert!(queue("220102000000").await.is_empty());
    assert_eq!(queue("220104000000").await, waiting[1..].to_vec(), "the records moved with the worker");
}

/// The desk narrows the queue by kind, agency, district and age, newest or oldest first; a
/// district regulator asking for another district sees nothing of it.
#[tokio::test]
async fn the_review_queue_narrows_by_kind_agency_district_and_age() {
    use jiazheng_store::PageRequest;
    use jiazheng_store::credit::casework::QueueFilter;
    let db = TestDb::new().await;
    let store = &db.store;
    let (agency, worker) = employed_worker(store).await;
    give_cleaning_records(store, agency, worker, today(), today()).await.unwrap();
    let seqs = |filter: QueueFilter| async move {
        let page = store.review_queue(&filter, PageRequest::new(None, Some(100))).await.unwrap();
        page.items.iter().map(|e| e.seq).collect::<Vec<i64>>()
    };
    let all = seqs(QueueFilter::default()).await;
    assert_eq!(all.len(), 3);
    let training = seqs(QueueFilter { kind: Some(EntryKind::Training), ..QueueFilter::default() }).await;
    assert_eq!(training.len(), 1);
    assert_eq!(store.ledger_entry(training[0]).await.unwrap().kind, "training");
    assert_eq!(seqs(QueueFilter { agency: Some(agency), ..QueueFilter::default() }).await, all);
    assert!(seqs(QueueFilter { agency: Some(agency + 1), ..QueueFilter::default() }).await.is_empty());
    let newest = seqs(QueueFilter { newest_first: true, ..QueueFilter::default() }).await;
    assert_eq!(newest, all.iter().rev().copied().collect::<Vec<_>>());
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    assert!(seqs(QueueFilter { entered_before: Some(an_hour_ago), ..QueueFilter::default() }).await.is_empty());
    let soon = chrono::Utc::now() + chrono::Duration::minutes(1);
    assert_eq!(seqs(QueueFilter { entered_before: Some(soon), ..QueueFilter::default() }).await, all);
    let district = |d: &str| QueueFilter { district: Some(d.into()), ..QueueFilter::default() };
    assert_eq!(seqs(district("220102000000")).await, all);
    assert!(seqs(district("220104000000")).await.is_empty());
    let elsewhere = QueueFilter { district: Some("220102000000".into()), ..QueueFilter::area(Some("220104000000")) };
    assert!(seqs(elsewhere).await.is_empty(), "a district regulator cannot look into another district");
    // A full page counts the rest, with and without the waiting time.
    for filter in [QueueFilter::default(), QueueFilter { entered_before: Some(soon), ..QueueFilter::default() }] {
        let first = store.review_queue(&filter, PageRequest::new(None, Some(1))).await.unwrap();
        assert_eq!((first.items.len(), first.total), (1, 3), "{filter:?}");
    }
    let old = QueueFilter { entered_before: Some(an_hour_ago), ..QueueFilter::default() };
    assert_eq!(store.review_queue(&old, PageRequest::new(None, Some(1))).await.unwrap().total, 0);
}
