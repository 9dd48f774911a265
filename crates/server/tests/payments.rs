//! Payments over HTTP: the resident pays at the sandbox's cashier and its notification reaches
//! the platform over real HTTP; a hundred duplicate and out-of-order notifications apply each
//! payment once; bad signatures, unknown numbers and wrong amounts are refused and change
//! nothing; a refund above what is held is a 422.

mod common;

use chrono::Duration;
use common::TestApp;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::market::payment::Account;
use jiazheng_server::payments::wire::NotifyKeys;
use serde_json::{Value, json};

fn day(n: i64) -> String {
    (beijing_today() + Duration::days(n)).to_string()
}

/// Books `n` orders for a resident (days apart) and opens their payments: (order, number, amount).
async fn opened(app: &TestApp, resident: &str, menu: i64, first_day: i64, n: i64) -> Vec<(i64, String, i64)> {
    let mut out = Vec::new();
    for i in 0..n {
        let body = json!({"menu_item_id": menu, "date": day(first_day + i), "time": "10:00", "hours": "2"});
        let (status, order) = app.post_json("/api/v1/orders", resident, &body).await;
        assert_eq!(status, 201, "{order}");
        let id = order["id"].as_i64().unwrap();
        let (status, started) = app.post_json(&format!("/api/v1/orders/{id}/payment"), resident, &json!({})).await;
        assert_eq!(status, 200, "{started}");
        let payment = &started["payment"];
        out.push((id, payment["out_trade_no"].as_str().unwrap().to_owned(), payment["amount_fen"].as_i64().unwrap()));
    }
    out
}

fn paid_resource(number: &str, transaction_id: &str, amount: i64) -> String {
    json!({"out_trade_no": number, "transaction_id": transaction_id, "trade_state": "SUCCESS",
        "success_time": "2026-12-02T10:00:00+08:00", "amount": {"total": amount, "payer_total": amount, "currency": "CNY"}})
    .to_string()
}

type Headers = [(String, String); 4];
type Spoil = Box<dyn FnOnce(&mut Headers)>;

/// Sends a notification as the provider would, with its headers possibly spoilt by `spoil`.
async fn send(app: &TestApp, keys: &NotifyKeys, body: &str, spoil: impl FnOnce(&mut Headers)) -> u16 {
    let signed = keys.sign(chrono::Utc::now().timestamp(), body);
    let mut headers = [
        ("Wechatpay-Timestamp".to_owned(), signed.timestamp),
        ("Wechatpay-Nonce".to_owned(), signed.nonce),
        ("Wechatpay-Serial".to_owned(), signed.serial),
        ("Wechatpay-Signature".to_owned(), signed.signature),
    ];
    spoil(&mut headers);
    let mut request = app.client.post(app.url("/api/v1/payments/notify")).body(body.to_owned());
    for (name, value) in headers.iter().filter(|(_, v)| !v.is_empty()) {
        request = request.header(name, value);
    }
    request.header("content-type", "application/json").send().await.unwrap().status().as_u16()
}

async fn payment_state(app: &TestApp, resident: &str, order: i64) -> Value {
    let (status, body) = app.get_json(&format!("/api/v1/orders/{order}/payment"), Some(resident)).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_resident_pays_at_the_cashier_and_the_notification_arrives_over_http() {
    let app = TestApp::spawn().await;
    let (agency, _, menu) = app.cleaning_market(1).await;
    let resident = app.phone_resident("13700000011").await;
    let (order, _, amount) = opened(&app, &resident, menu, 3, 1).await.remove(0);
    assert_eq!(payment_state(&app, &resident, order).await["state"], "processing");
    let (_, started) = app.post_json(&format!("/api/v1/orders/{order}/payment"), &resident, &json!({})).await;
    let pay_url = started["pay_url"].as_str().unwrap().to_owned();
    let page = app.client.get(app.url(&pay_url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("¥90.00"));
    let id = pay_url.trim_start_matches("/sandbox/pay/").split('?').next().unwrap();
    let back = app
        .client
        .post(app.url(&format!("/sandbox/pay/{id}")))
        .form(&[("return", format!("/my/orders/{order}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    assert_eq!(back.headers()["location"], format!("/my/orders/{order}").as_str());
    // The deliverer posts the signed notification to the platform; no query is made meanwhile.
    let store = &app.db.store;
    let mut waited = 0;
    while store.payment_of_order(order).await.unwrap().unwrap().status != "paid" {
        assert!(waited < 100, "the notification did not arrive in 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    while store.sandbox_undelivered().await.unwrap() > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let state = payment_state(&app, &resident, order).await;
    assert_eq!((state["state"].as_str(), state["held_fen"].as_i64()), (Some("paid"), Some(amount)));

    // The agency refunds: more than is held is a 422 naming the amount; part of it goes through
    // the provider and comes back as a REFUND.SUCCESS notification.
    let path = format!("/api/v1/orders/{order}/payment/refunds");
    let (status, body) = app.post_json(&path, &agency, &json!({"amount_fen": amount + 1, "reason": "多退"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "amount_fen", "{body}");
    let (status, body) = app.post_json(&path, &agency, &json!({"amount_fen": 1000, "reason": "少做一小时"})).await;
    assert_eq!(status, 200, "{body}");
    let mut waited = 0;
    while store.refunds_of_order(order).await.unwrap()[0].status != "succeeded" {
        assert!(waited < 100, "the refund notification did not arrive in 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), amount - 1000);
    assert!(store.audit_journal().await.unwrap().is_clean());
    // The resident's page says so, with labels.
    let page = app.client.get(app.url(&format!("/my/orders/{order}"))).bearer_auth(&resident).send().await.unwrap();
    let text = page.text().await.unwrap();
    assert!(text.contains("已支付 ¥90.00") && text.contains("已退款"), "{text}");
}

#[tokio::test]
async fn a_hundred_duplicate_and_out_of_order_notifications_apply_each_payment_once() {
    let app = TestApp::spawn().await;
    let (_, _, menu) = app.cleaning_market(1).await;
    let keys = NotifyKeys::from_crypto(app.db.store.crypto());
    let mut payments = Vec::new();
    for (n, phone) in ["13700000021", "13700000022"].into_iter().enumerate() {
        let resident = app.phone_resident(phone).await;
        payments.extend(opened(&app, &resident, menu, 2 + 5 * n as i64, 5).await);
    }
    // Ten copies of each payment's notification, shuffled, sent 20 at a time.
    let mut bodies: Vec<String> = payments
        .iter()
        .enumerate()
        .flat_map(|(i, (_, number, amount))| {
            let resource = paid_resource(number, &format!("42000000{i:04}"), *amount);
            (0..10).map(|_| keys.seal("TRANSACTION.SUCCESS", "transaction", &resource)).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(bodies.len(), 100);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
    rand::seq::SliceRandom::shuffle(&mut bodies[..], &mut rng);
    let app = std::sync::Arc::new(app);
    let keys = std::sync::Arc::new(keys);
    for chunk in bodies.chunks(20) {
        let mut tasks = Vec::new();
        for body in chunk {
            let (app, keys, body) = (app.clone(), keys.clone(), body.clone());
            tasks.push(tokio::spawn(async move { send(&app, &keys, &body, |_| {}).await }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 204, "each copy is acknowledged");
        }
    }
    let store = &app.db.store;
    let total: i64 = payments.iter().map(|p| p.2).sum();
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), total, "each applied once");
    for (order, _, amount) in &payments {
        assert_eq!(store.balance(Account::Held(*order)).await.unwrap(), -amount);
    }
    let audit = store.audit_journal().await.unwrap();
    assert_eq!(audit.transactions, 10);
    assert!(audit.is_clean());
}

#[tokio::test]
async fn bad_signatures_unknown_numbers_and_wrong_amounts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (_, _, menu) = app.cleaning_market(1).await;
    let keys = NotifyKeys::from_crypto(app.db.store.crypto());
    let resident = app.phone_resident("13700000031").await;
    let (_, number, amount) = opened(&app, &resident, menu, 3, 1).await.remove(0);
    let good = keys.seal("TRANSACTION.SUCCESS", "transaction", &paid_resource(&number, "4200000001", amount));
    let cases: Vec<(&str, Spoil)> = vec![
        ("bad_signature", Box::new(|h| h[3].1 = h[3].1.replace(['A', 'B', 'C'], "D"))),
        ("stale_timestamp", Box::new(|h| h[0].1 = (chrono::Utc::now().timestamp() - 600).to_string())),
        ("unknown_serial", Box::new(|h| h[2].1 = "0000".into())),
        ("missing_header", Box::new(|h| h[1].1 = String::new())),
    ];
    for (expected, spoil) in cases {
        let status = send(&app, &keys, &good, spoil).await;
        assert_eq!(status, 422, "{expected}");
    }
    // A body changed after signing fails the signature.
    let forged = keys.seal("TRANSACTION.SUCCESS", "transaction", &paid_resource(&number, "4200000001", amount));
    let signed = keys.sign(chrono::Utc::now().timestamp(), &good);
    let mut request = app.client.post(app.url("/api/v1/payments/notify"));
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let response = request.body(forged).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let unknown = keys.seal("TRANSACTION.SUCCESS", "transaction", &paid_resource("JZ99999999P1", "4200000002", amount));
    assert_eq!(send(&app, &keys, &unknown, |_| {}).await, 404);
    let wrong = keys.seal("TRANSACTION.SUCCESS", "transaction", &paid_resource(&number, "4200000003", amount - 1));
    assert_eq!(send(&app, &keys, &wrong, |_| {}).await, 422);
    let huge = "x".repeat(20 * 1024);
    assert_eq!(send(&app, &keys, &huge, |_| {}).await, 413);
    let store = &app.db.store;
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), 0, "nothing changed");
    assert_eq!(store.payment_by_number(&number).await.unwrap().status, "pending");
    // And the good one, twice: applied once.
    assert_eq!(send(&app, &keys, &good, |_| {}).await, 204);
    assert_eq!(send(&app, &keys, &good, |_| {}).await, 204);
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), amount);
}

#[tokio::test]
async fn an_agency_downloads_its_monthly_statement_with_each_settlement() {
    let app = TestApp::spawn().await;
    let (agency, worker, menu) = app.cleaning_market(1).await;
    let keys = NotifyKeys::from_crypto(app.db.store.crypto());
    let resident = app.phone_resident("13700000041").await;
    let (order, number, amount) = opened(&app, &resident, menu, 3, 1).await.remove(0);
    let body = keys.seal("TRANSACTION.SUCCESS", "transaction", &paid_resource(&number, "4200000041", amount));
    assert_eq!(send(&app, &keys, &body, |_| {}).await, 204);
    let steps = format!("/api/v1/orders/{order}/steps");
    for (i, step) in [
        json!({"step": "confirm"}),
        json!({"step": "assign", "worker_id": worker}),
        json!({"step": "start"}),
        json!({"step": "complete"}),
    ]
    .iter()
    .enumerate()
    {
        if i == 2 {
            jiazheng_store::testing::let_order_begin(&app.db.store, order).await.unwrap();
        }
        let (status, body) = app.post_json(&steps, &agency, step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let month = beijing_today().format("%Y-%m").to_string();
    let page = app.client.get(app.url(&format!("/agency/statements?month={month}"))).bearer_auth(&agency).send().await;
    let text = page.unwrap().text().await.unwrap();
    assert!(text.contains("¥90.00") && text.contains("statement-download"), "{text}");
    let bad = app.client.get(app.url("/agency/statements?month=2026-13")).bearer_auth(&agency).send().await.unwrap();
    assert!(bad.text().await.unwrap().contains("month-error"));
    let file = app
        .client
        .get(app.url(&format!("/agency/statements.xlsx?month={month}")))
        .bearer_auth(&agency)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    let bytes = file.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx (zip) file");
    assert_eq!(app.db.store.balance(Account::Agency(app.agency_a)).await.unwrap(), -amount, "settled to the agency");
    let resident_try = app.client.get(app.url("/agency/statements")).bearer_auth(&resident).send().await.unwrap();
    assert_eq!(resident_try.status(), 403);
}
