//! The commit mark on a real database (SQLite, or PostgreSQL with JIAZHENG_TEST_DATABASE): a
//! mark read after a commit was acknowledged differs from one read before it, also while many
//! readers ask for marks at once (on PostgreSQL they share snapshot reads, and a shared read
//! that started before the commit must not answer a request that came after it).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiazheng_store::testing::{TestDb, agency};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mark_read_after_a_commit_differs_from_one_read_before_it_under_concurrent_readers() {
    let db = TestDb::new().await;
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (store, stop) = (db.store.clone(), stop.clone());
            tokio::spawn(async move {
                let mut read = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    store.commit_mark().await.expect("a mark");
                    read += 1;
                    // A SQLite mark is read without waiting: let the runtime's other tasks run.
                    tokio::task::yield_now().await;
                }
                read
            })
        })
        .collect();
    for round in 0..60u32 {
        let before = db.store.commit_mark().await.unwrap();
        agency(&db.store, &format!("10{round:06}")).await;
        let after = db.store.commit_mark().await.unwrap();
        assert!(!before.still(&after), "round {round}: the mark did not move over a commit ({before:?})");
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0, "every reader got marks");
    }
}
