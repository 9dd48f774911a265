//! Model contracts over HTTP: drafted once an order has a worker and the resident's identity,
//! the real PDF (text extracted, QR read), signed by each party (codes to their own phones, the
//! agency by account), written to the agency's ledger, and checked by anyone holding the file.

mod common;

use chrono::Duration;
use common::{TestApp, pdf_text, qr_in_pdf};
use jiazheng_core::calendar::beijing_today;
use serde_json::{Value, json};
use sha2::Digest;

fn day(n: i64) -> String {
    (beijing_today() + Duration::days(n)).to_string()
}

async fn get_bytes(app: &TestApp, path: &str, token: &str) -> (u16, Vec<u8>) {
    let response = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
}

async fn check(app: &TestApp, number: &str, file: &[u8]) -> (u16, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/contracts/check?number={number}")))
        .header("content-type", "application/pdf")
        .body(file.to_vec())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A booked, confirmed order of `worker` for a new resident with a phone; returns (resident token, order id).
async fn confirmed_order(app: &TestApp, agency: &str, menu: i64, worker: i64, phone: &str, days: i64) -> (String, i64) {
    let resident = app.phone_resident(phone).await;
    let body = json!({"menu_item_id": menu, "date": day(days), "time": "09:00", "hours": "2", "worker_id": worker});
    let (status, order) = app.post_json("/api/v1/orders", &resident, &body).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_i64().unwrap();
    let (status, body) =
        app.post_json(&format!("/api/v1/orders/{id}/steps"), agency, &json!({"step": "confirm"})).await;
    assert_eq!(status, 200, "{body}");
    (resident, id)
}

async fn put_identity(app: &TestApp, token: &str, name: &str, id_number: &str) -> (u16, Value) {
    let response = app
        .client
        .put(app.url("/api/v1/resident/identity"))
        .bearer_auth(token)
        .json(&json!({"legal_name": name, "id_number": id_number}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_two_party_contract_is_drafted_signed_and_checked_by_its_file() {
    let app = TestApp::spawn().await;
    let (agency, worker, menu) = app.cleaning_market(21).await;
    let (resident, id) = confirmed_order(&app, &agency, menu, worker, "13700000021", 3).await;

    let (status, body) = app.get_json(&format!("/api/v1/orders/{id}/contract"), Some(&resident)).await;
    assert_eq!((status, body["waiting_on"].as_str()), (200, Some("ResidentIdentity")), "{body}");
    let (status, body) = put_identity(&app, &resident, "", "22010219851").await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["legal_name", "id_number"]);
    assert_eq!(put_identity(&app, &resident, "李秀兰", &common::id_number("220104", 77)).await.0, 204);

    let (status, body) = app.get_json(&format!("/api/v1/orders/{id}/contract"), Some(&resident)).await;
    assert_eq!(status, 200, "{body}");
    let contract = &body["contract"]["contract"];
    assert_eq!(contract["kind"], "employee_service");
    assert_eq!(body["contract"]["waiting_for"], json!(["resident", "agency"]));
    assert_eq!(body["contract"]["you_sign_as"], "resident");
    let (cid, number, sha) = (
        contract["id"].as_i64().unwrap(),
        contract["number"].as_str().unwrap().to_string(),
        contract["sha256"].as_str().unwrap().to_string(),
    );
    // The agency sees the same contract, not a second one.
    let (_, theirs) = app.get_json(&format!("/api/v1/orders/{id}/contract"), Some(&agency)).await;
    assert_eq!(theirs["contract"]["contract"]["id"].as_i64(), Some(cid));

    // The PDF is the file whose digest the parties sign: text a reader extracts, a QR to the check.
    let (status, pdf) = get_bytes(&app, &format!("/api/v1/contracts/{cid}/pdf"), &resident).await;
    assert_eq!(status, 200);
    assert_eq!(hex::encode(sha2::Sha256::digest(&pdf)), sha);
    let text = pdf_text(&pdf);
    for needed in
        [number.as_str(), "李秀兰", "长春市安心家政服务有限公司", "王芳", "¥90.00", "华阳小区3栋2单元501", "第十二条"]
    {
        assert!(text.contains(needed), "the contract does not say {needed}: {text}");
    }
    assert!(!text.contains(&common::id_number("220104", 77)), "the ID number is printed masked");
    assert!(qr_in_pdf(&pdf).ends_with(&format!("/contracts/check?number={number}")));

    // Strangers see nothing.
    let other = app.token("agency_b").await;
    assert_eq!(get_bytes(&app, &format!("/api/v1/contracts/{cid}/pdf"), &other).await.0, 404);
    assert_eq!(app.get_json(&format!("/api/v1/contracts/{cid}"), Some(&other)).await.0, 404);
    let stranger = app.phone_resident("13700000099").await;
    assert_eq!(app.get_json(&format!("/api/v1/orders/{id}/contract"), Some(&stranger)).await.0, 404);
    let sign = |code: &str, sha: &str| json!({"code": code, "sha256": sha});
    assert_eq!(app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &stranger, &sign("", &sha)).await.0, 404);

    // The agency signs with its account, once.
    let (status, body) = app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &agency, &sign("", &sha)).await;
    assert_eq!((status, body["waiting_for"].clone()), (200, json!(["resident"])), "{body}");
    let (status, body) = app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &agency, &sign("", &sha)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("already_signed")));

    // The resident signs with a code sent to their own phone, for this contract only.
    let (status, body) =
        app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &resident, &sign("", &sha)).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("code")));
    let (status, sent) = app.post_json(&format!("/api/v1/contracts/{cid}/code"), &resident, &json!({})).await;
    assert_eq!((status, sent["sent_to"].as_str()), (202, Some("137****0021")));
    let code = app.code_sent_to("13700000021");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &resident, &sign(wrong, &sha)).await.0,
        422
    );
    let (status, body) =
        app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &resident, &sign(&code, &"ab".repeat(32))).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("contract_changed")), "{body}");
    let (status, _) = app.post_json(&format!("/api/v1/contracts/{cid}/code"), &resident, &json!({})).await;
    assert_eq!(status, 429, "one code a minute");
    let (status, body) =
        app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &resident, &sign(&code, &sha)).await;
    assert_eq!((status, body["contract"]["status"].as_str()), (200, Some("signed")), "{body}");

    // The signed digest is on the agency's credit ledger.
    let (_, ledger) = app.get_json(&format!("/api/v1/credit/agencies/{}/ledger", app.agency_a), Some(&agency)).await;
    let entries = ledger.as_array().or_else(|| ledger["entries"].as_array()).cloned().unwrap_or_default();
    if !entries.is_empty() {
        assert!(entries.iter().any(|e| e["source"] == format!("contract:{number}")), "{ledger}");
    }
    let store_ledger = app.db.store.ledger_of(jiazheng_core::credit::SubjectKind::Agency, app.agency_a).await.unwrap();
    assert!(store_ledger.iter().any(|e| e.kind == "contract" && e.payload.contains(&sha)));

    // Anyone holding the file checks it; one byte changed differs.
    let (status, body) = check(&app, "", &pdf).await;
    assert_eq!(
        (status, body["verdict"].as_str(), body["number"].as_str()),
        (200, Some("unchanged"), Some(number.as_str()))
    );
    let names: Vec<&str> = body["signatures"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"李秀兰"), "{body}");
    let mut changed = pdf.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x20;
    assert_eq!(check(&app, &number, &changed).await.1["verdict"], "differs");
    // A changed file still names its contract: without the number typed it differs too.
    assert_eq!(check(&app, "", &changed).await.1["verdict"], "differs");
    assert_eq!(check(&app, "", b"not a contract at all").await.1["verdict"], "unknown");
    let (_, by_number) = check(&app, &number, &[]).await;
    assert_eq!(by_number["verdict"], "found");
    let signatures = by_number["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);
    assert!(signatures.iter().all(|s| s["name"] == ""), "a number alone names nobody: {by_number}");
    let (status, body) = check(&app, "HT2026", &[]).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("number")));
    assert_eq!(check(&app, "", &[]).await.0, 422);

    // The rate counts the begun service as under a model contract.
    jiazheng_store::testing::let_order_begin(&app.db.store, id).await.unwrap();
    let (status, _) = app.post_json(&format!("/api/v1/orders/{id}/steps"), &agency, &json!({"step": "start"})).await;
    assert_eq!(status, 200);
    let city = app.token("city").await;
    let (status, usage) = app.get_json("/api/v1/contracts/use", Some(&city)).await;
    assert_eq!(
        (status, usage["rate"].as_f64(), usage["employee_based_rate"].as_f64()),
        (200, Some(100.0), Some(100.0)),
        "{usage}"
    );
}

#[tokio::test]
async fn an_intermediary_worker_signs_the_three_party_contract_with_a_code_to_their_phone() {
    let app = TestApp::spawn().await;
    let (agency, _, menu) = app.cleaning_market(31).await;
    // A second cleaner, introduced by the agency rather than employed.
    let store = &app.db.store;
    let draft = jiazheng_core::registry::worker::WorkerForm {
        id_number: common::id_number("220102", 32),
        name: "刘桂香".into(),
        phone: "13943100032".into(),
        education_level: "college".into(),
        home_street: "220102001".into(),
        services: vec!["cleaning".into()],
        ..Default::default()
    }
    .parse(beijing_today())
    .unwrap();
    let binding = Some(jiazheng_store::registry::workers::NewBinding {
        agency_id: app.agency_a,
        kind: jiazheng_core::registry::binding::BindingKind::Intermediary,
        active: true,
    });
    let worker =
        store.insert_workers(&[jiazheng_store::registry::workers::NewWorker { draft: &draft, binding }]).await.unwrap()
            [0];
    jiazheng_store::testing::give_cleaning_records(
        store,
        app.agency_a,
        worker,
        beijing_today() - Duration::days(30),
        beijing_today(),
    )
    .await
    .unwrap();
    let week: Vec<(u8, jiazheng_core::market::slot::Shift)> =
        (1..=7).map(|d| (d, jiazheng_core::market::slot::Shift::parse("08:00", "20:00").unwrap())).collect();
    store.set_shifts(worker, &week, 1).await.unwrap();
    app.worker_account("liuguixiang", "刘桂香", worker).await;
    let (resident, id) = confirmed_order(&app, &agency, menu, worker, "13700000031", 4).await;
    assert_eq!(put_identity(&app, &resident, "周明", &common::id_number("220104", 78)).await.0, 204);
    let (_, body) = app.get_json(&format!("/api/v1/orders/{id}/contract"), Some(&agency)).await;
    let contract = &body["contract"]["contract"];
    assert_eq!(contract["kind"], "intermediary_service", "{body}");
    assert_eq!(body["contract"]["waiting_for"], json!(["resident", "worker", "agency"]));
    let (cid, sha) = (contract["id"].as_i64().unwrap(), contract["sha256"].as_str().unwrap().to_string());
    let (_, pdf) = get_bytes(&app, &format!("/api/v1/contracts/{cid}/pdf"), &agency).await;
    let text = pdf_text(&pdf);
    assert!(text.contains("丙方（家政企业，中介方）") && text.contains("刘桂香"), "{text}");

    // The worker is told by text, and the contract waits at the top of their page.
    let told = app.texts.last_text_to("13943100032").expect("a text to the worker");
    assert!(told.contains("等待您签署") && told.contains(contract["number"].as_str().unwrap()), "{told}");
    let me = app.token("liuguixiang").await;
    let worker_page = |token: String| {
        let request = app.client.get(app.url("/me/contracts")).bearer_auth(token).send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let html = worker_page(me.clone()).await;
    assert!(html.contains("id=\"contracts-waiting\"") && html.contains("<strong>等待您签署</strong>"), "{html}");
    let (status, sent) = app.post_json(&format!("/api/v1/contracts/{cid}/code"), &me, &json!({})).await;
    assert_eq!((status, sent["sent_to"].as_str()), (202, Some("139****0032")), "{sent}");
    let code = app.code_sent_to("13943100032");
    // The worker's code is no good to the resident.
    let (status, _) = app
        .post_json(&format!("/api/v1/contracts/{cid}/signatures"), &resident, &json!({"code": code, "sha256": sha}))
        .await;
    assert_eq!(status, 422);
    let (status, body) =
        app.post_json(&format!("/api/v1/contracts/{cid}/signatures"), &me, &json!({"code": code, "sha256": sha})).await;
    assert_eq!((status, body["waiting_for"].clone()), (200, json!(["resident", "agency"])), "{body}");
    assert!(!worker_page(me.clone()).await.contains("id=\"contracts-waiting\""), "signed: no longer waiting");

    // A service begun before every party signed counts against the agency's rate.
    jiazheng_store::testing::let_order_begin(store, id).await.unwrap();
    let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/steps"), &agency, &json!({"step": "start"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = app.get_json(&format!("/api/v1/contracts/{cid}"), Some(&me)).await;
    assert_eq!(detail["contract"]["status"], "signing");
    let city = app.token("city").await;
    let (_, usage) = app.get_json("/api/v1/contracts/use", Some(&city)).await;
    assert_eq!((usage["totals"]["services"].as_i64(), usage["rate"].as_f64()), (Some(1), Some(0.0)), "{usage}");
}
