//! Certificates against a running server: issued only when the rules allow, checked at the door
//! from the QR link, forged or edited codes answered with a clear page (never a 500), and
//! revocation seen by online and offline checkers alike.

mod common;

use common::TestApp;
use serde_json::{Value, json};

async fn employee(app: &TestApp) -> i64 {
    app.employ(77, "王秀英", "cleaning").await
}

fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_certificate_is_issued_checked_at_the_door_and_revoked() {
    let app = TestApp::spawn().await;
    let agency = app.token("agency_a").await;
    let worker = employee(&app).await;
    let issue = format!("/api/v1/workers/{worker}/certificate");
    let (status, refused) = app.post_json(&issue, &agency, &json!({})).await;
    assert_eq!(status, 422);
    assert_eq!(fields(&refused), ["identity", "health_check", "pre_job_training"]);

    let today = jiazheng_server::api::workers::today();
    jiazheng_store::testing::give_cleaning_records(
        &app.db.store,
        app.agency_a,
        worker,
        today - chrono::Duration::days(30),
        today,
    )
    .await
    .unwrap();
    let other = app.token("agency_b").await;
    let verify = format!("/api/v1/workers/{worker}/identity-verification");
    assert_eq!(app.post_json(&verify, &other, &json!({})).await.0, 403, "not agency B's worker");
    assert_eq!(app.post_json(&verify, &agency, &json!({"method": "magic"})).await.0, 422);
    assert_eq!(app.post_json(&verify, &agency, &json!({"method": "id_card"})).await.0, 201);
    let (status, issued) = app.post_json(&issue, &agency, &json!({})).await;
    assert_eq!(status, 201, "{issued}");
    assert_eq!(issued["status"], "green");
    let token = issued["token"].as_str().unwrap().to_string();
    let number = issued["number"].as_str().unwrap().to_string();

    // At the door: the QR link shows the card and today's colour, nothing more.
    let page = app.client.get(app.url(&format!("/v/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-colour=\"green\"") && html.contains(&number) && html.contains("王*英"), "{html}");
    assert!(!html.contains("王秀英"), "the full name is not shown");

    // Edited, truncated and foreign codes: a clear page, never a 500.
    let mut edited: Vec<char> = token.chars().collect();
    let i = 20;
    edited[i] = if edited[i] == 'A' { 'B' } else { 'A' };
    let edited: String = edited.into_iter().collect();
    for bad in [edited.as_str(), &token[..30], "not-a-certificate"] {
        let response = app.client.get(app.url(&format!("/v/{bad}"))).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
        assert!(response.text().await.unwrap().contains("证书无效"));
    }
    let (_, check) = app.get_json(&format!("/api/v1/certificates/check?token={edited}"), None).await;
    assert!(check["verdict"] == "tampered" || check["verdict"] == "malformed", "{check}");
    let (_, check) = app.get_json(&format!("/api/v1/certificates/check?token={token}"), None).await;
    assert_eq!((check["verdict"].clone(), check["differs"].clone()), (json!("valid"), json!(false)));

    // Revocation: agencies may not, regulators in scope may; the door page and the list say so.
    let revoke = format!("/api/v1/certificates/{number}/revocation");
    assert_eq!(app.post_json(&revoke, &agency, &json!({"reason": "x"})).await.0, 403);
    let regulator = app.token("nanguan").await;
    assert_eq!(app.post_json(&revoke, &regulator, &json!({"reason": ""})).await.0, 422);
    assert_eq!(app.post_json(&revoke, &regulator, &json!({"reason": "提供虚假健康证明"})).await.0, 201);
    let (_, check) = app.get_json(&format!("/api/v1/certificates/check?token={token}"), None).await;
    assert_eq!((check["live"]["status"].clone(), check["differs"].clone()), (json!("red"), json!(true)));
    let html = app.client.get(app.url(&format!("/v/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"differs\"") && html.contains("已被吊销"), "{html}");
    let (_, list) = app.get_json("/api/v1/credit/revocations", None).await;
    assert_eq!(list["revoked"][0]["number"], number.as_str());
    let (_, keys) = app.get_json("/api/v1/credit/keys", None).await;
    assert_eq!(keys[0]["public_key"].as_str().unwrap().len(), 64);

    // The timeline: the worker's entries with their sources, for those allowed.
    let (status, timeline) = app.get_json(&format!("/api/v1/workers/{worker}/ledger"), Some(&agency)).await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["training", "health_check", "insurance", "identity_verified", "certificate_issued", "certificate_revoked"]
    );
    assert_eq!(
        app.get_json(&format!("/api/v1/workers/{worker}/ledger"), Some(&app.token("resident").await)).await.0,
        403
    );
    // The grade: every point traced to ledger entries; the agency's is public.
    let (status, grade) = app.get_json(&format!("/api/v1/workers/{worker}/grade"), Some(&agency)).await;
    assert_eq!(status, 200);
    assert_eq!((grade["score"].as_f64(), grade["letter"].as_str()), (Some(74.0), Some("B")), "{grade}");
    let training =
        grade["contributions"].as_array().unwrap().iter().find(|c| c["reason_en"] == "1 training passed").unwrap();
    assert_eq!(training["entries"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get_json(&format!("/api/v1/workers/{worker}/grade"), Some(&app.token("resident").await)).await.0,
        403
    );
    let (status, agency_grade) = app.get_json(&format!("/api/v1/agencies/{}/grade", app.agency_a), None).await;
    assert_eq!((status, agency_grade["letter"].as_str()), (200, Some("C")));
    assert_eq!(app.get_json("/api/v1/credit/weights", None).await.1["grade_a"], 85.0);
    // A typed number finds today's status, an unknown one says so.
    let found = app.client.get(app.url(&format!("/certificates/check?number={number}"))).send().await.unwrap();
    assert_eq!(found.status(), 200);
    let missing = app.client.get(app.url("/certificates/check?number=JZ-000000-000000")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_one_time_code_opens_the_record_once_and_nobody_sees_it_without_consent() {
    let app = TestApp::spawn().await;
    let (worker, issued) = app.certified(77, "王秀英").await;
    let number = issued.number;
    app.worker_account("worker77", "worker77", worker).await;
    let resident = app.token("resident").await;
    let record = format!("/api/v1/certificates/{number}/record");
    assert_eq!(app.get_json(&record, Some(&resident)).await.0, 403, "no consent, no record");
    assert_eq!(app.get_json(&record, None).await.0, 401);

    let me = app.token("worker77").await;
    let (status, code) = app.post_json("/api/v1/me/consent-codes", &me, &json!({})).await;
    assert_eq!(status, 201);
    let code = code["code"].as_str().unwrap().to_string();
    let claim = format!("/api/v1/certificates/{number}/consent-code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) = app.post_json(&claim, &resident, &json!({"code": wrong})).await;
    assert_eq!((status, fields(&body)), (422, vec!["code".to_string()]));
    assert_eq!(app.post_json(&claim, &resident, &json!({"code": code})).await.0, 204);
    let (status, body) = app.post_json(&claim, &resident, &json!({"code": code})).await;
    assert_eq!(status, 422, "a code works once: {body}");
    assert!(body["error"]["fields"][0]["message_en"].as_str().unwrap().contains("already been used"));

    let (status, full) = app.get_json(&record, Some(&resident)).await;
    assert_eq!(status, 200);
    assert!(full["access_until"].is_string());
    assert!(full["checks"].as_array().unwrap().iter().any(|c| c["condition"] == "health_check"));
    let views = app.db.store.record_views(worker).await.unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].viewer, "resident");
    // Background checks: the regulator only, fixed categories, sealed in the ledger.
    let check = format!("/api/v1/workers/{worker}/background-checks");
    let result = json!({"checked_on": "2026-11-01", "authority": "长春市公安局南关分局", "identity_genuine": "yes",
        "offences_5y": "none", "severe_mental_illness": "none", "drugs_3y": "none"});
    assert_eq!(app.post_json(&check, &app.token("agency_a").await, &result).await.0, 403, "agencies may not");
    let regulator = app.token("nanguan").await;
    let mut free_text = result.clone();
    free_text["offences_5y"] = json!("有一次小偷小摸");
    let (status, body) = app.post_json(&check, &regulator, &free_text).await;
    assert_eq!((status, fields(&body)), (422, vec!["offences_5y".to_string()]));
    assert_eq!(app.post_json(&check, &regulator, &result).await.0, 201);
    let (_, full) = app.get_json(&record, Some(&resident)).await;
    assert!(full["background_check"].as_str().unwrap().contains("通过"), "{full}");
    let entries = app.db.store.ledger_of(jiazheng_core::credit::SubjectKind::Worker, worker).await.unwrap();
    let sealed = &entries.last().unwrap().payload;
    assert!(sealed.contains("sealed_result") && !sealed.contains("none"), "{sealed}");
    // Another resident still sees nothing.
    let other = app.token("admin").await;
    assert_eq!(app.get_json(&record, Some(&other)).await.0, 403);
}
