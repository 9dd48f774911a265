//! The public read paths served from a PostgreSQL hot standby (a streaming replica): the same
//! answers as the primary once the standby has replayed the writes, and a write sent to it
//! refused with 503 rather than failing. `scripts/test` starts the standby beside its test
//! cluster and runs this with `--ignored`, JIAZHENG_TEST_DATABASE naming the primary and
//! JIAZHENG_TEST_STANDBY the standby.

mod common;

use std::time::Duration;

use common::*;
use jiazheng_server::{Application, Config};
use serde_json::{Value, json};
use sqlx::Connection;

/// The standby's URL for the database behind `primary_db`.
fn on_standby(primary_db: &str) -> String {
    let standby = std::env::var("JIAZHENG_TEST_STANDBY").expect("JIAZHENG_TEST_STANDBY: the standby's URL");
    let name = primary_db.rsplit_once('/').map(|(_, name)| name).expect("a database name");
    let base = standby.rsplit_once('/').map_or(standby.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// Waits until the standby has replayed everything the primary had written when this was called.
async fn caught_up(primary_db: &str, standby_db: &str) {
    let mut primary = sqlx::PgConnection::connect(primary_db).await.unwrap();
    // The insert position, not the write position: the test cluster commits asynchronously
    // (synchronous_commit=off), so the last commits may not be written yet, and a standby that
    // replayed up to the write position could still miss them (a flaky market search once).
    let (lsn,): (String,) =
        sqlx::query_as("SELECT pg_current_wal_insert_lsn()::text").fetch_one(&mut primary).await.unwrap();
    for _ in 0..300 {
        if let Ok(mut standby) = sqlx::PgConnection::connect(standby_db).await {
            let (behind,): (bool,) = sqlx::query_as("SELECT pg_last_wal_replay_lsn() < $1::pg_lsn")
                .bind(&lsn)
                .fetch_one(&mut standby)
                .await
                .unwrap();
            if !behind {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the standby did not replay {lsn} within 15 s");
}

#[tokio::test]
#[ignore = "needs a hot standby: scripts/test starts one"]
async fn the_read_paths_answer_from_a_hot_standby_as_from_the_primary() {
    let app = TestApp::spawn().await;
    assert!(app.db.url.starts_with("postgres"), "JIAZHENG_TEST_DATABASE must name the primary");
    let (agency, worker, _) = app.cleaning_market(21).await;
    let verify = format!("/api/v1/workers/{worker}/identity-verification");
    assert_eq!(app.post_json(&verify, &agency, &json!({"method": "id_card"})).await.0, 201);
    let (status, issued) = app.post_json(&format!("/api/v1/workers/{worker}/certificate"), &agency, &json!({})).await;
    assert_eq!(status, 201, "{issued}");

    let standby_db = on_standby(&app.db.url);
    caught_up(&app.db.url, &standby_db).await;
    let replica = jiazheng_store::Store::open_replica(&standby_db, app.db.store.crypto().clone()).await.unwrap();
    let server = Application::build(replica, "127.0.0.1:0", Config::default()).await.unwrap();
    let standby_base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run());

    let day = jiazheng_core::calendar::beijing_today() + chrono::Duration::days(2);
    let reads = [
        "/api/v1/workers?name=%E7%8E%8B%E8%8A%B3".to_string(), // 王芳
        "/api/v1/workers?district=220102&service=cleaning&name=%E7%8E%8B".to_string(),
        format!("/api/v1/workers/{worker}"),
        format!("/api/v1/market/workers?item=daily_cleaning&mode=per_hour&hours=2&date={day}&time=10:00"),
        format!("/api/v1/certificates/check?token={}", issued["token"].as_str().unwrap()),
    ];
    for path in &reads {
        let from_primary = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(from_primary.status(), 200, "{path}");
        let from_primary: Value = from_primary.json().await.unwrap();
        let from_standby = app.client.get(format!("{standby_base}{path}")).send().await.unwrap();
        assert_eq!(from_standby.status(), 200, "{path}");
        let from_standby: Value = from_standby.json().await.unwrap();
        assert_eq!(from_standby, from_primary, "{path}");
    }
    let found = app.client.get(format!("{standby_base}{}", reads[0])).send().await.unwrap();
    assert_eq!(found.json::<Value>().await.unwrap()["items"][0]["id"], worker, "the standby holds the new worker");
    for (page, shows) in [
        (format!("/agencies/{}", app.agency_a), "王芳".to_string()),
        (format!("/agencies/{}/prices", app.agency_a), "擦拭、吸尘、拖地".to_string()),
        (format!("/v/{}", issued["token"].as_str().unwrap()), issued["number"].as_str().unwrap().to_string()),
    ] {
        let response = app.client.get(format!("{standby_base}{page}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        assert!(response.text().await.unwrap().contains(&shows), "{page}");
    }

    // A write sent to the standby: refused as busy (the primary takes writes), nothing half done.
    let sign_in = json!({"username": "agency_a", "password": PASSWORD});
    let response = app.client.post(format!("{standby_base}/api/v1/session")).json(&sign_in).send().await.unwrap();
    assert_eq!(response.status(), 503, "{}", response.text().await.unwrap());
}
