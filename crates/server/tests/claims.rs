//! Subsidy claims and rectification over HTTP: a worker-month claimed twice answers 409 naming
//! the earlier claim, a report on a closed order 422, another district's regulator and another
//! agency 404, a wrong role 403, nobody signed in 401; the pages show errors beside their fields
//! and the public agency page counts overdue orders.

mod common;

use chrono::Duration;
use common::{TestApp, csrf_in, sign_in};
use jiazheng_core::calendar::beijing_today;
use jiazheng_store::testing::run_sql;
use serde_json::{Value, json};

/// Two of agency A's workers, employed since 2024 and insured since 2025.
async fn insured_workers(app: &TestApp) -> Vec<i64> {
    let people = vec![app.employ(301, "孙丽", "cleaning").await, app.employ(302, "周敏", "cleaning").await];
    let store = &app.db.store;
    run_sql(
        store,
        &format!("UPDATE bindings SET started_at = '2024-01-01T00:00:00+00:00' WHERE agency_id = {}", app.agency_a),
    )
    .await
    .unwrap();
    run_sql(
        store,
        &format!(
            "INSERT INTO social_insurance (worker_id, agency_id, enrolled, since, updated_at)
             SELECT worker_id, agency_id, TRUE, '2025-01-01', '2024-01-01T00:00:00+00:00' FROM bindings WHERE agency_id = {}",
            app.agency_a
        ),
    )
    .await
    .unwrap();
    people
}

async fn standards(app: &TestApp) {
    let city = app.token("city").await;
    for kind in ["social_insurance", "training", "appraisal", "point_rent"] {
        let (status, body) =
            app.put_json("/api/v1/claims/standards", &city, &json!({"kind": kind, "amount": "300"})).await;
        assert_eq!(status, 204, "{body}");
    }
}

#[tokio::test]
async fn a_worker_month_claimed_twice_is_409_naming_the_earlier_claim_and_others_see_nothing() {
    let app = TestApp::spawn().await;
    let people = insured_workers(&app).await;
    // A district regulator may not set the city's standards; nobody signed in may not either.
    let nanguan = app.token("nanguan").await;
    let (status, _) =
        app.put_json("/api/v1/claims/standards", &nanguan, &json!({"kind": "training", "amount": "300"})).await;
    assert_eq!(status, 403);
    let (status, _) = app.put_json("/api/v1/claims/standards", "", &json!({"kind": "training", "amount": "300"})).await;
    assert_eq!(status, 401);
    standards(&app).await;
    let city = app.token("city").await;
    let (status, body) =
        app.put_json("/api/v1/claims/standards", &city, &json!({"kind": "pension", "amount": "0"})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["kind", "amount"]);

    let agency = app.token("agency_a").await;
    let (status, list) =
        app.get_json("/api/v1/claims/candidates?kind=social_insurance&from=2025-01&to=2025-03", Some(&agency)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    let claim = json!({"kind": "social_insurance", "from": "2025-01", "to": "2025-03", "items": people});
    let (status, created) = app.post_json("/api/v1/claims", &agency, &claim).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    let number = created["number"].as_str().unwrap().to_string();
    assert!(number.starts_with("BT"), "{number}");

    // February again: 409, naming the claim and the day it was submitted.
    let again = json!({"kind": "social_insurance", "from": "2025-02", "to": "2025-02", "items": [people[1]]});
    let (status, body) = app.post_json("/api/v1/claims", &agency, &again).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_claimed");
    assert_eq!(body["error"]["existing_id"], id);
    let message = body["error"]["message_zh"].as_str().unwrap();
    assert!(message.contains(&number) && message.contains(&beijing_today().to_string()), "{message}");
    assert!(message.contains("周敏") && message.contains("2025-02"), "{message}");
    assert!(body["error"]["message"].as_str().unwrap().contains(&number));

    // Bad input: a future month, nothing picked, a kind that is not one → 422 per field.
    let bad = json!({"kind": "pension", "from": "2025-03", "to": "2099-01", "items": []});
    let (status, body) = app.post_json("/api/v1/claims", &agency, &bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["kind", "to", "items"]);

    // Nobody signed in: 401. A resident: 403. Agency B and Chaoyang's regulator: 404.
    assert_eq!(app.get_json("/api/v1/claims", None).await.0, 401);
    assert_eq!(app.post_json("/api/v1/claims", "", &claim).await.0, 401);
    assert_eq!(app.get_json(&format!("/api/v1/claims/{id}"), None).await.0, 401);
    let resident = app.token("resident").await;
    assert_eq!(app.get_json("/api/v1/claims", Some(&resident)).await.0, 403);
    let agency_b = app.token("agency_b").await;
    assert_eq!(app.get_json(&format!("/api/v1/claims/{id}"), Some(&agency_b)).await.0, 404);
    assert_eq!(app.get_json(&format!("/api/v1/claims/{id}/lines"), Some(&agency_b)).await.0, 404);
    let (status, mine) = app.get_json("/api/v1/claims", Some(&agency_b)).await;
    assert_eq!((status, mine["total"].as_i64()), (200, Some(0)));
    // Agency B cannot claim agency A's workers.
    let (status, body) = app
        .post_json(
            "/api/v1/claims",
            &agency_b,
            &json!({"kind": "social_insurance", "from": "2025-05", "to": "2025-05", "items": [people[0]]}),
        )
        .await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("not_yours")));
    let chaoyang = app.token("chaoyang").await;
    assert_eq!(app.get_json(&format!("/api/v1/claims/{id}"), Some(&chaoyang)).await.0, 404);
    let decision = json!({"decision": "matching"});
    assert_eq!(app.post_json(&format!("/api/v1/claims/{id}/decision"), &chaoyang, &decision).await.0, 404);
    assert_eq!(app.post_json(&format!("/api/v1/claims/{id}/decision"), &agency, &decision).await.0, 403);

    // The district's regulator reads the lines and decides, once.
    let (status, detail) = app.get_json(&format!("/api/v1/claims/{id}"), Some(&nanguan)).await;
    assert_eq!(status, 200);
    assert_eq!((detail["lines"].as_i64(), detail["matching"].as_i64()), (Some(6), Some(6)));
    let (status, lines) = app.get_json(&format!("/api/v1/claims/{id}/lines?mismatching=true"), Some(&nanguan)).await;
    assert_eq!((status, lines["total"].as_i64()), (200, Some(0)));
    let (status, body) =
        app.post_json(&format!("/api/v1/claims/{id}/decision"), &nanguan, &json!({"decision": "reject"})).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("reason")));
    let (status, decided) = app.post_json(&format!("/api/v1/claims/{id}/decision"), &nanguan, &decision).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!((decided["status"].as_str(), decided["approved_fen"].as_i64()), (Some("approved"), Some(6 * 30_000)));
    let (status, body) = app.post_json(&format!("/api/v1/claims/{id}/decision"), &nanguan, &decision).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("claim_decided")));
    // The audit has the decision once, with the value before and after, and the four standards.
    let (_, audit) = app.get_json("/api/v1/audit?action=claims.decide", Some(&city)).await;
    assert_eq!(audit["total"], 1, "{audit}");
    assert_eq!(audit["items"][0]["before"]["status"], "submitted");
    assert_eq!(audit["items"][0]["after"]["approved_fen"], 6 * 30_000);
    let (_, audit) = app.get_json("/api/v1/audit?action=claims.standard", Some(&city)).await;
    assert_eq!(audit["total"], 4, "{audit}");
    let (_, audit) = app.get_json("/api/v1/audit?action=other.write", Some(&city)).await;
    assert_eq!(audit["total"], 0, "{audit}");
}

#[tokio::test]
async fn the_claim_pages_list_the_agencys_records_keep_ticks_and_show_the_clash_beside_the_list() {
    let app = TestApp::spawn().await;
    let people = insured_workers(&app).await;
    standards(&app).await;
    let agency = sign_in(&app, "agency_a").await;
    let page = agency
        .get(app.url("/agency/claims/new?kind=social_insurance&from=2025-01&to=2025-02"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("孙丽") && page.contains("周敏") && page.contains("参保自 2025-01-01"), "{page}");
    assert!(!page.contains("social_insurance</"), "codes are not shown as text");
    let csrf = csrf_in(&page);
    let submit = |items: Vec<i64>| {
        let mut form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("kind", "social_insurance")
            .text("from", "2025-01")
            .text("to", "2025-02")
            .text("note", "2025年1-2月社保补贴");
        for i in items {
            form = form.text("items", i.to_string());
        }
        form
    };
    let response = agency.post(app.url("/agency/claims")).multipart(submit(people.clone())).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/agency/claims/"), "{location}");
    let claim_page = agency.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    assert!(claim_page.contains("id=\"submitted\"") && claim_page.contains("相符"));
    let number = claim_page.split("<h1>补贴申报 ").nth(1).unwrap().split('<').next().unwrap().trim().to_string();

    // The same months again: 409, the earlier claim named beside the list, the ticks kept.
    let response = agency.post(app.url("/agency/claims")).multipart(submit(vec![people[0]])).send().await.unwrap();
    assert_eq!(response.status(), 409);
    let page = response.text().await.unwrap();
    let beside = page.split("id=\"items-error\">").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(beside.contains(&number), "{beside}");
    assert!(page.contains(&format!("value=\"{}\" checked", people[0])));
    assert!(!page.contains(&format!("value=\"{}\" checked", people[1])), "only what was posted stays ticked");
    // A sheet of ID numbers ticks the workers it names that are on the list, and says why the
    // other rows ticked nothing.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let unknown = common::id_number("220102", 399);
    for (row, value) in ["身份证号", &common::id_number("220102", 302), &unknown, "12345"].iter().enumerate() {
        sheet.write_string(row as u32, 0, *value).unwrap();
    }
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "social_insurance")
        .text("from", "2025-03")
        .text("to", "2025-03")
        .part("sheet", reqwest::multipart::Part::bytes(book.save_to_buffer().unwrap()).file_name("list.xlsx"));
    let response = agency.post(app.url("/agency/claims/new/sheet")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"sheet-summary\""), "{page}");
    assert!(page.contains(&format!("value=\"{}\" checked", people[1])));
    assert!(!page.contains(&format!("value=\"{}\" checked", people[0])), "a sheet ticks only whom it names");
    let rows = page.split("id=\"sheet-rows\"").nth(1).unwrap().split("</ul>").next().unwrap();
    // An unknown number reads as "not yours": the sheet does not tell who is registered.
    assert!(rows.contains("第 3 行") && rows.contains("第 4 行") && rows.contains("（或未在平台登记）"), "{rows}");
    assert!(!rows.contains("平台上没有"), "{rows}");
    let not_a_sheet = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "social_insurance")
        .text("from", "2025-03")
        .text("to", "2025-03")
        .part("sheet", reqwest::multipart::Part::bytes(b"name,id".to_vec()).file_name("list.csv"));
    let response = agency.post(app.url("/agency/claims/new/sheet")).multipart(not_a_sheet).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"sheet-error\""));
    // Nothing ticked and a file that is no evidence: both said beside their fields.
    let bad = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "social_insurance")
        .text("from", "2025-03")
        .text("to", "2025-03")
        .part("evidence", reqwest::multipart::Part::bytes(b"<html>".to_vec()).file_name("a.html"));
    let response = agency.post(app.url("/agency/claims")).multipart(bad).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"items-error\"") && page.contains("id=\"evidence-error\""));

    // The regulator's pages: the list, the claim line by line, a rejection needs its reason.
    let regulator = sign_in(&app, "nanguan").await;
    let list = regulator.get(app.url("/regulator/claims")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains(&number) && list.contains("长春市安心家政服务有限公司"));
    let id: i64 = location.trim_start_matches("/agency/claims/").split('?').next().unwrap().parse().unwrap();
    let page = regulator.get(app.url(&format!("/regulator/claims/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("孙丽") && page.contains("2025-02") && page.contains("id=\"decision-form\""));
    let csrf = csrf_in(&page);
    let response = regulator
        .post(app.url(&format!("/regulator/claims/{id}/decision")))
        .form(&[("csrf", csrf.as_str()), ("decision", "reject"), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"reason-error\""));
    let response = regulator
        .post(app.url(&format!("/regulator/claims/{id}/decision")))
        .form(&[("csrf", csrf.as_str()), ("decision", "reject"), ("reason", "社保缴费凭证不全")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    // Rejected: the months are free to claim again.
    let response = agency.post(app.url("/agency/claims")).multipart(submit(vec![people[0]])).send().await.unwrap();
    assert_eq!(response.status(), 303);
    // Another district's regulator: not found.
    let chaoyang = sign_in(&app, "chaoyang").await;
    assert_eq!(chaoyang.get(app.url(&format!("/regulator/claims/{id}"))).send().await.unwrap().status(), 404);
    let other = sign_in(&app, "agency_b").await;
    assert_eq!(other.get(app.url(&format!("/agency/claims/{id}"))).send().await.unwrap().status(), 404);
}

async fn penalty(app: &TestApp, token: &str) -> i64 {
    let form = json!({"subject_kind": "agency", "subject_id": app.agency_a, "kind": "penalty",
        "decided_on": beijing_today().to_string(), "authority": "长春市南关区商务局", "document": "南商罚〔2026〕7号",
        "reason": "未按规定为员工制服务员缴纳社保"});
    let (status, body) = app.post_json("/api/v1/credit/actions", token, &form).await;
    assert_eq!(status, 201, "{body}");
    body["seq"].as_i64().unwrap()
}

#[tokio::test]
async fn a_report_on_a_closed_order_is_422_and_overdue_orders_show_on_the_public_page() {
    let app = TestApp::spawn().await;
    let nanguan = app.token("nanguan").await;
    let seq = penalty(&app, &nanguan).await;
    let (status, sources) = app.get_json("/api/v1/rectifications/sources", Some(&nanguan)).await;
    assert_eq!((status, sources["items"][0]["source_id"].as_i64()), (200, Some(seq)));
    let deadline = (beijing_today() + Duration::days(14)).to_string();
    let order = json!({"source": "penalty", "source_id": seq, "deadline": deadline, "requirement": "为全部员工制服务员补缴社保"});
    let chaoyang = app.token("chaoyang").await;
    assert_eq!(app.post_json("/api/v1/rectifications", &chaoyang, &order).await.0, 404);
    assert_eq!(app.post_json("/api/v1/rectifications", "", &order).await.0, 401);
    let agency = app.token("agency_a").await;
    assert_eq!(app.post_json("/api/v1/rectifications", &agency, &order).await.0, 403);
    let past =
        json!({"source": "penalty", "source_id": seq, "deadline": beijing_today().to_string(), "requirement": ""});
    let (status, body) = app.post_json("/api/v1/rectifications", &nanguan, &past).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"].as_array().unwrap().len(), 2);
    let (status, opened) = app.post_json("/api/v1/rectifications", &nanguan, &order).await;
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_i64().unwrap();
    let (status, body) = app.post_json("/api/v1/rectifications", &nanguan, &order).await;
    assert_eq!((status, body["error"]["existing_id"].as_i64()), (409, Some(id)));

    let agency_b = app.token("agency_b").await;
    assert_eq!(app.get_json(&format!("/api/v1/rectifications/{id}"), Some(&agency_b)).await.0, 404);
    assert_eq!(
        app.post_json(&format!("/api/v1/rectifications/{id}/reports"), &agency_b, &json!({"text": "已整改"})).await.0,
        404
    );
    assert_eq!(app.get_json(&format!("/api/v1/rectifications/{id}"), Some(&chaoyang)).await.0, 404);
    assert_eq!(
        app.post_json(&format!("/api/v1/rectifications/{id}/review"), &chaoyang, &json!({"action": "accept"})).await.0,
        404
    );
    assert_eq!(app.get_json(&format!("/api/v1/rectifications/{id}"), None).await.0, 401);

    let (status, _) = app
        .post_json(&format!("/api/v1/rectifications/{id}/reports"), &agency, &json!({"text": "已为12名员工补缴社保"}))
        .await;
    assert_eq!(status, 204);
    let (status, body) = app
        .post_json(
            &format!("/api/v1/rectifications/{id}/review"),
            &nanguan,
            &json!({"action": "extend", "deadline": deadline}),
        )
        .await;
    assert_eq!(status, 422);
    let codes: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["not_later", "required"]);
    let (status, accepted) =
        app.post_json(&format!("/api/v1/rectifications/{id}/review"), &nanguan, &json!({"action": "accept"})).await;
    assert_eq!((status, accepted["status"].as_str()), (200, Some("accepted")));
    // A report against a closed order: 422.
    let (status, body) =
        app.post_json(&format!("/api/v1/rectifications/{id}/reports"), &agency, &json!({"text": "补充"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "order_closed");
    let city = app.token("city").await;
    let (_, audit) = app.get_json("/api/v1/audit?action=rectification.review", Some(&city)).await;
    assert_eq!(audit["total"], 1, "the refused extension is not recorded: {audit}");
    assert_eq!(
        (audit["items"][0]["before"]["status"].as_str(), audit["items"][0]["after"]["status"].as_str()),
        (Some("reported"), Some("accepted"))
    );
    let (_, audit) = app.get_json("/api/v1/audit?action=rectification.open", Some(&city)).await;
    assert_eq!(audit["total"], 1, "{audit}");
    let (_, detail) = app.get_json(&format!("/api/v1/rectifications/{id}"), Some(&agency)).await;
    let steps: Vec<&str> = detail["steps"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["opened", "reported", "accepted"]);

    // A second penalty, an order whose deadline has passed: overdue, on every page that counts it.
    let public =
        app.client.get(app.url(&format!("/agencies/{}", app.agency_a))).send().await.unwrap().text().await.unwrap();
    assert!(public.contains("无逾期整改"));
    let (_, grade_before) = app.get_json(&format!("/api/v1/agencies/{}/grade", app.agency_a), None).await;
    let seq = penalty(&app, &nanguan).await;
    let order = json!({"source": "penalty", "source_id": seq, "deadline": deadline, "requirement": "建立社保缴纳台账"});
    let (_, opened) = app.post_json("/api/v1/rectifications", &nanguan, &order).await;
    let late = opened["id"].as_i64().unwrap();
    let yesterday = beijing_today() - Duration::days(1);
    run_sql(&app.db.store, &format!("UPDATE rectification_orders SET deadline = '{yesterday}' WHERE id = {late}"))
        .await
        .unwrap();
    let public =
        app.client.get(app.url(&format!("/agencies/{}", app.agency_a))).send().await.unwrap().text().await.unwrap();
    assert!(public.contains("整改逾期 1 项"), "the public credit page counts it");
    let (_, grade) = app.get_json(&format!("/api/v1/agencies/{}/grade", app.agency_a), None).await;
    let reasons: Vec<&str> =
        grade["contributions"].as_array().unwrap().iter().map(|c| c["reason_zh"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"整改逾期1项"), "{reasons:?}");
    assert!(grade["score"].as_f64().unwrap() < grade_before["score"].as_f64().unwrap() - 15.0 + 0.01);
    let (_, overdue) = app.get_json("/api/v1/rectifications?overdue=true", Some(&nanguan)).await;
    assert_eq!((overdue["total"].as_i64(), overdue["items"][0]["overdue"].as_bool()), (Some(1), Some(true)));

    // The pages: the regulator's list flags it; the agency's report form shows errors beside the field.
    let regulator = sign_in(&app, "nanguan").await;
    let list = regulator.get(app.url("/regulator/rectifications")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("id=\"overdue-count\"") && list.contains("逾期"));
    let agency_page = sign_in(&app, "agency_a").await;
    let page =
        agency_page.get(app.url(&format!("/agency/rectifications/{late}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"overdue\""));
    let form = reqwest::multipart::Form::new().text("csrf", csrf_in(&page)).text("text", "  ");
    let response = agency_page
        .post(app.url(&format!("/agency/rectifications/{late}/report")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"text-error\""));
    let pdf = b"%PDF-1.4 ledger".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_in(&page))
        .text("text", "已建立社保缴纳台账\n每月核对")
        .part("evidence", reqwest::multipart::Part::bytes(pdf.clone()).file_name("ledger.pdf"));
    let response = agency_page
        .post(app.url(&format!("/agency/rectifications/{late}/report")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let (_, detail) = app.get_json(&format!("/api/v1/rectifications/{late}"), Some(&nanguan)).await;
    let step =
        detail["steps"].as_array().unwrap().iter().find(|s| s["has_evidence"] == Value::Bool(true)).unwrap()["id"]
            .as_i64()
            .unwrap();
    let file = regulator.get(app.url(&format!("/rectifications/{late}/steps/{step}/evidence"))).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().to_vec(), pdf);
    let other = sign_in(&app, "agency_b").await;
    assert_eq!(
        other.get(app.url(&format!("/rectifications/{late}/steps/{step}/evidence"))).send().await.unwrap().status(),
        404
    );
    // The regulator's review page: extending to an earlier day is said beside the deadline field.
    let page = regulator
        .get(app.url(&format!("/regulator/rectifications/{late}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = regulator
        .post(app.url(&format!("/regulator/rectifications/{late}/review")))
        .form(&[
            ("csrf", csrf_in(&page).as_str()),
            ("action", "extend"),
            ("deadline", &yesterday.to_string()),
            ("reason", "材料较多"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"deadline-error\""));
}
