//! The market over HTTP: residents sign in with a phone code, agencies publish prices and
//! shifts, 64 clients race for one worker's slot, retries with one key book once, bad input is
//! refused field by field, and an order runs to a rating on the worker's credit record.

mod common;

use chrono::Duration;
use common::TestApp;
use jiazheng_core::calendar::beijing_today;
use serde_json::{Value, json};

fn day(n: i64) -> String {
    (beijing_today() + Duration::days(n)).to_string()
}

#[tokio::test]
async fn sixty_four_clients_racing_for_one_slot_book_it_once_and_ten_retries_make_one_order() {
    let app = TestApp::spawn().await;
    let (_, worker, menu) = app.cleaning_market(1).await;
    let resident = app.phone_resident("13700000001").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/orders"), resident.clone());
        let time = ["10:00", "10:30", "11:00", "09:30"][i % 4];
        let body = json!({"menu_item_id": menu, "date": day(3), "time": time, "hours": "2", "worker_id": worker});
        tasks.push(tokio::spawn(async move {
            let response = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == 409 {
            assert_eq!(body["error"]["code"], "overlap");
            assert!(body["error"]["message_zh"].as_str().unwrap().contains(&day(3)), "{body}");
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert_eq!(statuses, [(201, 1), (409, 63)].into_iter().collect());

    // Ten sends of one request with one key: one order, the same answer each time.
    let body = json!({"menu_item_id": menu, "date": day(4), "time": "14:00", "hours": "3"});
    let mut ids = std::collections::BTreeSet::new();
    for attempt in 0..10 {
        let response = app
            .client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&resident)
            .header("Idempotency-Key", "retry-7f3a")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers().get("idempotency-replayed").is_some(), attempt > 0);
        ids.insert(response.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1);
    let (_, mine) = app.get_json("/api/v1/orders", Some(&resident)).await;
    assert_eq!(mine["total"], 2);
    // The worker the resident chose reads back as the search showed them: masked.
    let chosen = mine["items"].as_array().unwrap().iter().find(|o| o["requested_worker_id"] == worker).unwrap();
    assert!(chosen["requested_worker_name"].as_str().unwrap().contains('*'), "{chosen}");
    let (_, detail) = app.get_json(&format!("/api/v1/orders/{}", chosen["id"]), Some(&resident)).await;
    assert_eq!(detail["order"]["requested_worker_name"], chosen["requested_worker_name"]);
    // The same key with another body is refused, and books nothing.
    let other = json!({"menu_item_id": menu, "date": day(5), "time": "14:00", "hours": "3"});
    let response = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&resident)
        .header("Idempotency-Key", "retry-7f3a")
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn bad_bookings_prices_and_codes_are_refused_field_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (agency, _, menu) = app.cleaning_market(2).await;
    let resident = app.phone_resident("13700000002").await;
    let cases = [
        (json!({"menu_item_id": menu, "date": day(-1), "time": "10:00", "hours": "2"}), "date", "in_the_past"),
        (json!({"menu_item_id": menu, "date": day(2), "time": "10:00", "hours": "0"}), "hours", "out_of_range"),
        (json!({"menu_item_id": menu, "date": day(2), "time": "10:00", "hours": "-3"}), "hours", "out_of_range"),
        (
            json!({"menu_item_id": menu + 999, "date": day(2), "time": "10:00", "hours": "2"}),
            "menu_item_id",
            "no_such_item",
        ),
    ];
    for (body, field, code) in cases {
        let (status, answer) = app.post_json("/api/v1/orders", &resident, &body).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            (answer["error"]["fields"][0]["field"].as_str(), answer["error"]["fields"][0]["code"].as_str()),
            (Some(field), Some(code))
        );
    }
    let (_, mine) = app.get_json("/api/v1/orders", Some(&resident)).await;
    assert_eq!(mine["total"], 0);
    for (price, code) in [("0", "price_positive"), ("100000.01", "price_too_high"), ("-1", "amount")] {
        let form = json!({"item": "深度保洁", "mode": "per_item", "price": price, "amount": "240",
            "free_cancel_hours": "24", "cancel_fee_percent": "20"});
        let (status, answer) = app.post_json("/api/v1/agency/menu", &agency, &form).await;
        assert_eq!((status, answer["error"]["fields"][0]["code"].as_str()), (422, Some(code)));
    }
    let form = json!({"item": "足疗", "mode": "per_item", "price": "100", "amount": "60",
        "free_cancel_hours": "24", "cancel_fee_percent": "20"});
    let (status, answer) = app.post_json("/api/v1/agency/menu", &agency, &form).await;
    assert_eq!((status, answer["error"]["fields"][0]["field"].as_str()), (422, Some("item")));
    assert_eq!(app.db.store.menu_of_agency(app.agency_a).await.unwrap().len(), 1);

    // Five wrong codes lock the code, with a clear message; the right one no longer works.
    let phone = "13700000003";
    assert_eq!(app.post_json("/api/v1/resident/codes", "", &json!({"phone": phone})).await.0, 202);
    let code = app.code_sent_to(phone);
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let mut last = Value::Null;
    for _ in 0..5 {
        let (status, body) =
            app.post_json("/api/v1/resident/session", "", &json!({"phone": phone, "code": wrong})).await;
        assert_eq!(status, 422);
        last = body;
    }
    assert_eq!(last["error"]["fields"][0]["code"], "code_locked");
    assert!(last["error"]["fields"][0]["message_zh"].as_str().unwrap().contains("重新获取"));
    let (status, body) = app.post_json("/api/v1/resident/session", "", &json!({"phone": phone, "code": code})).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("code_locked")));
    // A second code within the minute waits.
    let (status, _) = app.post_json("/api/v1/resident/codes", "", &json!({"phone": phone})).await;
    assert_eq!(status, 429);
    let (status, body) = app.post_json("/api/v1/resident/codes", "", &json!({"phone": "1234"})).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("phone")));
}

#[tokio::test]
async fn an_order_runs_from_booking_to_a_rating_on_the_workers_timeline() {
    let app = TestApp::spawn().await;
    let (agency, worker, menu) = app.cleaning_market(3).await;
    let resident = app.phone_resident("13700000004").await;
    let body = json!({"menu_item_id": menu, "date": day(2), "time": "09:00", "hours": "2"});
    let (status, order) = app.post_json("/api/v1/orders", &resident, &body).await;
    assert_eq!(status, 201, "{order}");
    let id = order["id"].as_i64().unwrap();
    assert_eq!((order["status"].as_str(), order["total_fen"].as_i64()), (Some("requested"), Some(9000)));

    // Another agency sees nothing; the resident cannot take the agency's steps.
    let other = app.token("agency_b").await;
    assert_eq!(app.get_json(&format!("/api/v1/orders/{id}"), Some(&other)).await.0, 404);
    let (status, _) =
        app.post_json(&format!("/api/v1/orders/{id}/steps"), &resident, &json!({"step": "confirm"})).await;
    assert_eq!(status, 422);

    let (_, detail) = app.get_json(&format!("/api/v1/orders/{id}"), Some(&agency)).await;
    assert_eq!(detail["steps"], json!(["confirm", "assign", "cancel"]));
    assert_eq!(detail["address"], "华阳小区3栋2单元501");
    for step in [json!({"step": "confirm"}), json!({"step": "assign", "worker_id": worker})] {
        let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/steps"), &agency, &step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    // Two days early the service cannot be started (nor disputed: the resident cancels instead).
    let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/steps"), &agency, &json!({"step": "start"})).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("too_early")));
    let dispute = json!({"step": "dispute", "reason": "还没来就想投诉"});
    assert_eq!(app.post_json(&format!("/api/v1/orders/{id}/steps"), &resident, &dispute).await.0, 422);
    jiazheng_store::testing::let_order_begin(&app.db.store, id).await.unwrap();
    for step in [json!({"step": "start"}), json!({"step": "complete"})] {
        let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/steps"), &agency, &step).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
    let rating = json!({"quality": 5, "punctuality": 4, "attitude": 5, "communication": 5, "comment": "很细致"});
    let (status, rated) = app.post_json(&format!("/api/v1/orders/{id}/rating"), &resident, &rating).await;
    assert_eq!((status, rated["status"].as_str()), (200, Some("rated")));
    let (status, again) = app.post_json(&format!("/api/v1/orders/{id}/rating"), &resident, &rating).await;
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("already_rated")));
    let (_, timeline) = app.get_json(&format!("/api/v1/workers/{worker}/ledger"), Some(&agency)).await;
    let entries = timeline.as_array().or_else(|| timeline["entries"].as_array()).expect("entries");
    let rating_entry = entries.iter().find(|e| e["kind"] == "rating").expect("the rating is on the record");
    assert_eq!(rating_entry["source"], format!("order:{id}"));
    // A rated order is closed to disputes (a complaint goes through the service record).
    let dispute = json!({"step": "dispute", "reason": "地板没有拖干净，留有水渍"});
    let (status, body) = app.post_json(&format!("/api/v1/orders/{id}/steps"), &resident, &dispute).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_signed_out_booking_goes_through_the_phone_sign_in_and_back_to_itself() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/market/book?menu=7&worker=3")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/login/phone?next=%2Fmarket%2Fbook%3Fmenu%3D7%26worker%3D3");
    let page = app.client.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="next" value="/market/book?menu=7&#38;worker=3""#), "{page}");
    // Only a booking page of ours is a place to return to.
    let page = app.client.get(app.url("/login/phone?next=https%3A%2F%2Fevil.example%2F")).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains(r#"name="next""#));
    let old = app.client.get(app.url("/market/login")).send().await.unwrap();
    assert_eq!((old.status().as_u16(), old.headers()["location"].to_str().unwrap()), (308, "/login/phone"));
}

#[tokio::test]
async fn a_withdrawn_items_price_history_stays_public() {
    let app = TestApp::spawn().await;
    let (_, _, menu) = app.cleaning_market(1).await;
    app.db.store.withdraw_menu_item(app.agency_a, menu).await.unwrap();
    let page = app.client.get(app.url(&format!("/prices/{menu}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let text = page.text().await.unwrap();
    assert!(text.contains("id=\"withdrawn\"") && text.contains("¥45.00"), "{text}");
    let (status, prices) = app.get_json(&format!("/api/v1/menu-items/{menu}/prices"), None).await;
    assert_eq!((status, prices.as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(app.get_json("/api/v1/menu-items/999999/prices", None).await.0, 404);
}

#[tokio::test]
async fn the_board_assigns_tomorrows_orders_and_says_what_stayed_open() {
    let app = TestApp::spawn().await;
    let (agency, worker, menu) = app.cleaning_market(5).await;
    // Two households want the one worker at the same hour tomorrow.
    let mut ids = Vec::new();
    for phone in ["13700000021", "13700000022"] {
        let resident = app.phone_resident(phone).await;
        let body = json!({"menu_item_id": menu, "date": day(1), "time": "10:00", "hours": "2"});
        let (status, order) = app.post_json("/api/v1/orders", &resident, &body).await;
        assert_eq!(status, 201, "{order}");
        let id = order["id"].as_i64().unwrap();
        let (status, _) =
            app.post_json(&format!("/api/v1/orders/{id}/steps"), &agency, &json!({"step": "confirm"})).await;
        assert_eq!(status, 200);
        ids.push(id);
    }
    // A resident may not run it; the agency's board button does, through the page.
    let resident = app.phone_resident("13700000023").await;
    assert_eq!(app.post_json("/api/v1/agency/next-day-assignment", &resident, &json!({})).await.0, 403);
    let client = common::sign_in(&app, "agency_a").await;
    let board = client.get(app.url("/agency/orders")).send().await.unwrap().text().await.unwrap();
    assert!(board.contains("为明日订单派单"), "the button is on the board");
    let response = client
        .post(app.url("/agency/orders/assign-next-day"))
        .form(&[("csrf", common::csrf_in(&board))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(r#"<dd id="assigned-count">1</dd>"#) && page.contains(r#"<dd id="open-count">1</dd>"#),
        "{page}"
    );
    assert!(page.contains("符合条件的服务员") || page.contains("没有当时有空"), "the reason is said in words: {page}");
    let (_, first) = app.get_json(&format!("/api/v1/orders/{}", ids[0]), Some(&agency)).await;
    let (_, second) = app.get_json(&format!("/api/v1/orders/{}", ids[1]), Some(&agency)).await;
    let workers = [first["order"]["worker_id"].as_i64(), second["order"]["worker_id"].as_i64()];
    assert!(workers.contains(&Some(worker)) && workers.contains(&None), "{workers:?}");
    // Without the form token nothing runs; the API answers the same run as JSON.
    let forged =
        client.post(app.url("/agency/orders/assign-next-day")).form(&[("csrf", "guess")]).send().await.unwrap();
    assert_eq!(forged.status(), 400);
    let (status, run) = app.post_json("/api/v1/agency/next-day-assignment", &agency, &json!({})).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!((run["assigned"].as_array().unwrap().len(), run["left_open"].as_array().unwrap().len()), (0, 1));
    assert_eq!(run["left_open"][0]["reason"], "no_candidate");

    // The nightly run is off until the agency turns it on, from the board or the API.
    assert!(board.contains("未开启"), "{board}");
    let response = client
        .post(app.url("/agency/orders/nightly-assignment"))
        .form(&[("csrf", common::csrf_in(&board).as_str()), ("on", "true")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let board = client.get(app.url("/agency/orders")).send().await.unwrap().text().await.unwrap();
    assert!(board.contains("已开启") && board.contains("关闭自动派单"), "{board}");
    let (status, nightly) =
        app.put_json("/api/v1/agency/next-day-assignment/nightly", &agency, &json!({"on": false})).await;
    assert_eq!((status, nightly["on"].as_bool()), (200, Some(false)));
    let (status, _) = app.put_json("/api/v1/agency/next-day-assignment/nightly", &agency, &json!({"on": "yes"})).await;
    assert_eq!(status, 422);
    let (status, _) = app.put_json("/api/v1/agency/next-day-assignment/nightly", &resident, &json!({"on": true})).await;
    assert_eq!(status, 403);
}
