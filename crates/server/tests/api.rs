//! The JSON API as a client meets it, against a running server and a real database.

mod common;

use common::{TestApp, id_number, with_wrong_check, worker_json};
use serde_json::{Value, json};

#[tokio::test]
async fn health_unknown_routes_and_errors_have_the_documented_shape() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!((health.status().as_u16(), health.text().await.unwrap().as_str()), (200, "ok"));
    let (status, body) = app.get_json("/api/v1/nothing-here", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let page = app.client.get(app.url("/nothing-here")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("<html"));
    let (status, body) = app.get_json("/api/v1/workers?page=abc", None).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app.get_json("/api/v1/workers?district=99", None).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("district")));
}

#[tokio::test]
async fn a_bad_worker_gets_field_errors_in_both_languages_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("agency_a").await;
    let good_id = id_number("220102", 1);
    let mut bad = worker_json(&with_wrong_check(&good_id), "王秀英", "220102001");
    bad["phone"] = json!("12345");
    bad["home_street"] = json!("220102");
    let (status, body) = app.post_json("/api/v1/workers", &token, &bad).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["id_number", "phone", "home_street"]);
    let check = &body["error"]["fields"][0];
    assert_eq!(check["code"], "id_check_digit");
    assert_eq!(check["message_zh"], "身份证号码校验位错误");
    assert_eq!(check["message_en"], "the check digit is wrong");
    assert_eq!(app.worker_count().await, 0);

    let unknown_street = worker_json(&good_id, "王秀英", "220102999");
    let (status, body) = app.post_json("/api/v1/workers", &token, &unknown_street).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("unknown_division")));
    let (status, body) = app.post_json("/api/v1/workers", &token, &json!({"name": 5})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(app.worker_count().await, 0);

    let (status, created) =
        app.post_json("/api/v1/workers", &token, &worker_json(&good_id, "王秀英", "220102001")).await;
    assert_eq!(status, 201, "{created}");
    let (status, conflict) =
        app.post_json("/api/v1/workers", &token, &worker_json(&good_id, "王秀", "220102001")).await;
    assert_eq!(status, 409);
    assert_eq!(conflict["error"]["existing_id"], created["id"]);
    assert_eq!(app.worker_count().await, 1);
}

#[tokio::test]
async fn concurrent_registrations_of_one_person_create_one_record() {
    let app = TestApp::spawn().await;
    let tokens = [app.token("agency_a").await, app.token("agency_b").await];
    let id = id_number("220102", 9);
    let mut handles = Vec::new();
    for i in 0..8 {
        let request = app.client.post(app.url("/api/v1/workers")).bearer_auth(&tokens[i % 2]).json(&worker_json(
            &id,
            "赵丽",
            "220102001",
        ));
        handles.push(tokio::spawn(async move { request.send().await.unwrap().status().as_u16() }));
    }
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(app.worker_count().await, 1);
}

#[tokio::test]
async fn identifiers_are_masked_for_the_public_and_unmasked_only_for_owners_and_regulators_in_scope() {
    let app = TestApp::spawn().await;
    let token_a = app.token("agency_a").await;
    let id = id_number("220102", 3);
    let (_, created) = app.post_json("/api/v1/workers", &token_a, &worker_json(&id, "孙梅", "220102001")).await;
    let worker = created["id"].as_i64().unwrap();

    let (status, public) = app.get_json(&format!("/api/v1/workers/{worker}"), None).await;
    assert_eq!(status, 200);
    assert!(public.get("id_number_masked").is_none() && !public.to_string().contains(&id[14..]));
    let listed = app.client.get(app.url(&format!("/workers/{worker}"))).send().await.unwrap().text().await.unwrap();
    assert!(!listed.contains(&id) && !listed.contains(&id[14..]));
    // The worker confirms the agency's request; only then does the agency read the identifiers.
    app.worker_account("sunmei", "孙梅", worker).await;
    let binding = app.db.store.open_binding(worker, app.agency_a).await.unwrap().unwrap();
    let confirm = format!("/api/v1/bindings/{}/confirm", binding.id);
    assert_eq!(app.post_json(&confirm, &app.token("sunmei").await, &serde_json::json!({})).await.0, 200);

    let path = format!("/api/v1/workers/{worker}/identifiers?purpose=contract");
    assert_eq!(app.get_json(&path, None).await.0, 401);
    assert_eq!(app.get_json(&path, Some(&app.token("agency_b").await)).await.0, 403);
    assert_eq!(app.get_json(&path, Some(&app.token("chaoyang").await)).await.0, 403);
    assert_eq!(app.get_json(&path, Some(&app.token("resident").await)).await.0, 403);
    let (status, revealed) = app.get_json(&path, Some(&token_a)).await;
    assert_eq!((status, revealed["id_number"].as_str()), (200, Some(id.as_str())));
    let (status, _) = app.get_json(&path, Some(&app.token("nanguan").await)).await;
    assert_eq!(status, 200);
    let log = app.db.store.access_log("worker", worker).await.unwrap();
    let readers: Vec<&str> = log.iter().map(|l| l.username.as_str()).collect();
    assert_eq!(readers, ["nanguan", "agency_a"]);
    assert!(log.iter().all(|l| l.purpose == "contract"));
}

#[tokio::test]
async fn search_is_paginated_and_filters_by_district_service_and_name() {
    let app = TestApp::spawn().await;
    let token = app.token("agency_a").await;
    for (seq, name, street) in [(1, "王秀英", "220102001"), (2, "李秀英", "220102002"), (3, "王芳", "220104001")]
    {
        let district = &street[..6];
        let (status, body) =
            app.post_json("/api/v1/workers", &token, &worker_json(&id_number(district, seq), name, street)).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, page) = app
        .get_json("/api/v1/workers?name=%E7%A7%80%E8%8B%B1&district=220102&service=maternity&per_page=1", None)
        .await;
    assert_eq!(
        (page["total"].as_i64(), page["per_page"].as_i64(), page["items"].as_array().unwrap().len()),
        (Some(2), Some(1), 1)
    );
    let (_, page) = app.get_json("/api/v1/workers?name=%E7%8E%8B&district=220104", None).await;
    assert_eq!(page["items"][0]["name"], "王芳");
    let (_, page) = app.get_json("/api/v1/workers?service=cooking", None).await;
    assert_eq!(page["total"], 0);
    let (_, agencies) = app.get_json("/api/v1/agencies?q=%E5%AE%89%E5%BF%83", None).await;
    assert_eq!((agencies["total"].as_i64(), agencies["items"][0]["district_name"].as_str()), (Some(1), Some("南关区")));
    let (status, detail) = app.get_json(&format!("/api/v1/agencies/{}", app.agency_a), None).await;
    assert_eq!((status, detail["pending_bindings"].as_i64()), (200, Some(3)));
    let (_, divisions) = app.get_json("/api/v1/divisions?parent=220102001000", None).await;
    assert!(divisions.as_array().unwrap().iter().any(|d| d["name"] == "华阳社区"));
}

#[tokio::test]
async fn agencies_are_edited_only_by_their_own_admin_or_regulators_in_scope_without_lost_updates() {
    let app = TestApp::spawn().await;
    let (_, agency) = app.get_json(&format!("/api/v1/agencies/{}", app.agency_a), None).await;
    let mut body = json!({
        "version": agency["version"], "uscc": agency["uscc"], "name": "安心家政（新名）", "legal_representative": "李明",
        "address": "人民大街2号", "street_code": "220102001", "phone": "13900001111", "business_model": "mixed",
    });
    let path = format!("/api/v1/agencies/{}", app.agency_a);
    let put = |token: String, body: Value| {
        let request = app.client.put(app.url(&path)).bearer_auth(token).json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(app.token("agency_b").await, body.clone()).await, 403);
    assert_eq!(put(app.token("chaoyang").await, body.clone()).await, 403);
    // The agency keeps its contact details but cannot rename itself or move out of its district.
    let token_a = app.token("agency_a").await;
    assert_eq!(put(token_a.clone(), body.clone()).await, 422);
    let mut moved = body.clone();
    moved["name"] = agency["name"].clone();
    moved["street_code"] = json!("220104001");
    let answer = app.client.put(app.url(&path)).bearer_auth(&token_a).json(&moved).send().await.unwrap();
    assert_eq!(answer.status(), 422);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["error"]["fields"][0]["field"], "street_code", "{answer}");
    let mut contact = body.clone();
    contact["name"] = agency["name"].clone();
    contact["business_model"] = agency["business_model"].clone();
    assert_eq!(put(token_a, contact).await, 204);
    // The same version again: someone saved in between.
    assert_eq!(put(app.token("nanguan").await, body.clone()).await, 409);
    body["version"] = json!(agency["version"].as_i64().unwrap() + 1);
    assert_eq!(put(app.token("nanguan").await, body).await, 204);
    let (_, after) = app.get_json(&path, None).await;
    assert_eq!((after["name"].as_str(), after["version"].as_i64()), (Some("安心家政（新名）"), Some(3)));
    let ledger = app.db.store.ledger_of(jiazheng_core::credit::SubjectKind::Agency, app.agency_a).await.unwrap();
    let changes: Vec<&str> =
        ledger.iter().filter(|e| e.kind == "registration_changed").map(|e| e.source.as_str()).collect();
    assert_eq!(changes, ["regulator:220102000000"], "the rename is on the ledger, by the regulator");
}

#[tokio::test]
async fn regulators_register_agencies_in_their_district_only() {
    let app = TestApp::spawn().await;
    let form = common::agency_form("MA0Y9999", "新开家政", "220104002");
    let body = serde_json::to_value(json!({
        "uscc": form.uscc, "name": form.name, "legal_representative": "张三", "address": "一号",
        "street_code": form.street_code, "phone": "13900001111", "business_model": "intermediary",
    }))
    .unwrap();
    assert_eq!(app.post_json("/api/v1/agencies", &app.token("agency_a").await, &body).await.0, 403);
    assert_eq!(app.post_json("/api/v1/agencies", &app.token("nanguan").await, &body).await.0, 403);
    assert_eq!(app.post_json("/api/v1/agencies", &app.token("chaoyang").await, &body).await.0, 201);
    let (status, conflict) = app.post_json("/api/v1/agencies", &app.token("city").await, &body).await;
    assert_eq!((status, conflict["error"]["code"].as_str()), (409, Some("agency_uscc")));
    let mut bad = body.clone();
    bad["uscc"] = json!("91220104MA0Y99990O");
    let (status, errors) = app.post_json("/api/v1/agencies", &app.token("city").await, &bad).await;
    assert_eq!((status, errors["error"]["fields"][0]["field"].as_str()), (422, Some("uscc")));
}

#[tokio::test]
async fn sign_in_is_rate_limited_and_cookie_writes_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let (status, _) =
            app.post_json("/api/v1/session", "", &json!({"username": "agency_a", "password": "wrong"})).await;
        assert_eq!(status, 422);
    }
    let (status, body) =
        app.post_json("/api/v1/session", "", &json!({"username": "agency_a", "password": common::PASSWORD})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_attempts")));
    // Another account from the same address is not locked.
    let token = app.token("agency_b").await;

    // A cookie session must send X-CSRF-Token on API writes.
    let body = worker_json(&id_number("220104", 5), "周敏", "220104001");
    let response = app
        .client
        .post(app.url("/api/v1/workers"))
        .header("cookie", format!("jz_session={token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(app.worker_count().await, 0);
    let session = app.db.store.session(&token).await.unwrap().unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/workers"))
        .header("cookie", format!("jz_session={token}"))
        .header("x-csrf-token", session.csrf_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let logout = app.client.delete(app.url("/api/v1/session")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(app.get_json("/api/v1/workers/1/identifiers", Some(&token)).await.0, 401);
}

#[tokio::test]
async fn bindings_start_and_end_only_when_both_sides_agree() {
    let app = TestApp::spawn().await;
    let token_a = app.token("agency_a").await;
    let (_, created) =
        app.post_json("/api/v1/workers", &token_a, &worker_json(&id_number("220102", 4), "钱红", "220102001")).await;
    let worker = created["id"].as_i64().unwrap();
    let token_b = app.token("agency_b").await;
    let (status, request) =
        app.post_json("/api/v1/bindings", &token_b, &json!({"worker_id": worker, "kind": "intermediary"})).await;
    assert_eq!(status, 201, "{request}");
    let binding = request["id"].as_i64().unwrap();
    // The asking agency cannot confirm its own request, and the other agency has no say.
    let (status, body) = app.post_json(&format!("/api/v1/bindings/{binding}/confirm"), &token_b, &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("binding_step")));
    assert_eq!(app.post_json(&format!("/api/v1/bindings/{binding}/confirm"), &token_a, &json!({})).await.0, 403);
    assert_eq!(app.post_json(&format!("/api/v1/bindings/{binding}/fly"), &token_b, &json!({})).await.0, 404);
    let (status, _) = app.post_json("/api/v1/bindings", &token_b, &json!({"worker_id": worker})).await;
    assert_eq!(status, 409);
    assert_eq!(app.post_json(&format!("/api/v1/bindings/{binding}/cancel"), &token_b, &json!({})).await.0, 200);
}

#[tokio::test]
async fn the_openapi_document_matches_the_committed_snapshot() {
    let app = TestApp::spawn().await;
    let (status, spec) = app.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    for path in
        ["/api/v1/workers", "/api/v1/agencies/{id}", "/api/v1/service-points", "/api/v1/session", "/api/v1/divisions"]
    {
        assert!(spec["paths"].get(path).is_some(), "{path}");
    }
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let text = serde_json::to_string_pretty(&spec).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&snapshot).expect("docs/openapi.json (run with UPDATE_SNAPSHOTS=1)");
    assert_eq!(committed, text, "the API changed: review and run with UPDATE_SNAPSHOTS=1");
    let docs = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
}
