//! Subsidised service over HTTP: a regulator sets the district's budget, community staff register
//! a resident with evidence through the form (mistakes shown beside their fields, typed values
//! kept), the resident books with the subsidy and pays nothing, an order past the quota is
//! refused naming it, and statements and evidence reach only those who may read them.

mod common;

use chrono::{Datelike, Duration};
use common::{TestApp, browser_client, csrf_in, id_number, sign_in};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use reqwest::multipart::{Form, Part};
use serde_json::json;

const DISTRICT: &str = "220102000000";
const PDF: &[u8] = b"%PDF-1.4\n% a minimum living allowance certificate\n";

fn day(n: i64) -> String {
    (beijing_today() + Duration::days(n)).to_string()
}

fn year() -> i32 {
    (beijing_today() + Duration::days(3)).year()
}

async fn district_account(app: &TestApp, username: &str, role: Role, district: &str) {
    common::area_account(app, username, role, district).await;
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn registration(csrf: &str, phone: &str, community: &str, amount: &str, file: &[u8]) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .text("legal_name", "李桂英")
        .text("phone", phone.to_string())
        .text("id_number", id_number("220102", 77))
        .text("category", "dibao")
        .text("community", community.to_string())
        .text("year", year().to_string())
        .text("quota_kind", "money")
        .text("quota_amount", amount.to_string())
        .text("evidence_note", "低保证 长南民 2026-0001")
        .part("evidence", Part::bytes(file.to_vec()).file_name("evidence.pdf"))
}

async fn register(client: &reqwest::Client, app: &TestApp, form: Form) -> (u16, String) {
    let response = client.post(app.url("/community/subsidies")).multipart(form).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn staff_register_a_resident_who_then_books_paid_by_the_district_up_to_the_quota() {
    let app = TestApp::spawn().await;
    let (agency, worker, menu) = app.cleaning_market(1).await;
    district_account(&app, "nanguan_reg", Role::Regulator, DISTRICT).await;
    district_account(&app, "nanguan_staff", Role::CommunityStaff, DISTRICT).await;
    district_account(&app, "chaoyang_staff", Role::CommunityStaff, "220104000000").await;

    // The regulator's budget form: a bad amount is said beside the field, the typed value kept.
    let regulator = sign_in(&app, "nanguan_reg").await;
    let (status, html) = page(&regulator, &app, "/regulator/subsidies").await;
    assert_eq!(status, 200);
    let csrf = csrf_in(&html);
    let post = |amount: &'static str| {
        let form = [
            ("csrf", csrf.clone()),
            ("district", DISTRICT.into()),
            ("year", year().to_string()),
            ("amount", amount.into()),
        ];
        regulator.post(app.url("/regulator/subsidies")).form(&form).send()
    };
    let refused = post("十万").await.unwrap();
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("id=\"amount-error\"") && html.contains("value=\"十万\""),
        "the error beside the typed value"
    );
    let saved = post("100000").await.unwrap();
    assert_eq!(saved.status(), 303);
    let location = saved.headers()["location"].to_str().unwrap().to_string();
    let (_, html) = page(&regulator, &app, &location).await;
    assert!(html.contains("id=\"budget-saved\"") && html.contains("¥100000.00"), "the budget is shown, and said saved");

    // Staff register: an HTML file is not evidence, a community of another district is refused.
    let staff = sign_in(&app, "nanguan_staff").await;
    let (status, html) = page(&staff, &app, "/community/subsidies/new").await;
    assert_eq!(status, 200);
    assert!(html.contains("华阳社区"), "the district's communities are offered by name");
    let csrf = csrf_in(&html);
    let (status, html) =
        register(&staff, &app, registration(&csrf, "13700000201", "220102001001", "200", b"<html>")).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"evidence-error\"") && html.contains("value=\"13700000201\""));
    let (status, html) = register(&staff, &app, registration(&csrf, "13700000201", "220104001001", "200", PDF)).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"community-error\""));
    let (status, _) = register(&staff, &app, registration(&csrf, "13700000201", "220102001001", "200", PDF)).await;
    assert_eq!(status, 303);
    let (_, list) = page(&staff, &app, &format!("/community/subsidies?year={}", year())).await;
    assert!(list.contains("李桂英") && list.contains("低保对象") && list.contains("¥200.00"));
    let grant = list
        .split("/community/subsidies/")
        .find_map(|rest| rest.split('"').next().unwrap().parse::<i64>().ok())
        .expect("a link to the grant");

    // The resident books with the subsidy: nothing to pay; a third order of ¥90 passes ¥200.
    let resident = app.phone_resident("13700000201").await;
    let body = |time: &str| json!({"menu_item_id": menu, "date": day(3), "time": time, "hours": "2", "subsidy": true});
    let (status, order) = app.post_json("/api/v1/orders", &resident, &body("08:00")).await;
    assert_eq!(status, 201, "{order}");
    let first = order["id"].as_i64().unwrap();
    let (status, payment) = app.get_json(&format!("/api/v1/orders/{first}/payment"), Some(&resident)).await;
    assert_eq!(status, 200);
    assert_eq!(payment["state"], "subsidy");
    assert_eq!(payment["payable"], false);
    let (status, _) = app.post_json(&format!("/api/v1/orders/{first}/payment"), &resident, &json!({})).await;
    assert_eq!(status, 422, "the resident cannot pay what the district paid");
    let (status, _) = app.post_json("/api/v1/orders", &resident, &body("11:00")).await;
    assert_eq!(status, 201);
    let (status, refused) = app.post_json("/api/v1/orders", &resident, &body("14:00")).await;
    assert_eq!(status, 422);
    assert_eq!(refused["error"]["fields"][0]["field"], "subsidy", "{refused}");
    assert!(refused["error"]["fields"][0]["message_zh"].as_str().unwrap().contains("剩余¥20.00"), "{refused}");

    // The booking page offers the subsidy and shows the refusal beside it.
    let (status, html) =
        page_with_token(&app, &resident, &format!("/market/book?menu={menu}&date={}&time=14:00&hours=2", day(3))).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"subsidy\"") && html.contains("¥20.00"), "what is left is shown");
    let (_, order_page) = page_with_token(&app, &resident, &format!("/my/orders/{first}")).await;
    assert!(order_page.contains("由政府补贴支付") && !order_page.contains("id=\"pay-order\""));

    // The agency sees the order is the district's; completing it settles to the agency.
    let (status, _) =
        app.post_json(&format!("/api/v1/orders/{first}/steps"), &agency, &json!({"step": "confirm"})).await;
    assert_eq!(status, 200);
    let (status, _) = app
        .post_json(&format!("/api/v1/orders/{first}/steps"), &agency, &json!({"step": "assign", "worker_id": worker}))
        .await;
    assert_eq!(status, 200);
    jiazheng_store::testing::let_order_begin(&app.db.store, first).await.unwrap();
    for step in ["start", "complete"] {
        let (status, body) =
            app.post_json(&format!("/api/v1/orders/{first}/steps"), &agency, &json!({"step": step})).await;
        assert_eq!(status, 200, "{body}");
    }
    let audit = app.db.store.audit_journal().await.unwrap();
    assert!(audit.is_clean());
    assert_eq!(app.db.store.held_for_order(first).await.unwrap().held_fen(), 0);

    // Statements: the staff's district and the agency's own; xlsx files both.
    let month = (beijing_today() + Duration::days(3)).format("%Y-%m").to_string();
    let (status, html) = page(&staff, &app, &format!("/subsidies/statement?month={month}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"statement-count\">2<"), "two orders this month");
    let file = staff.get(app.url(&format!("/subsidies/statement.xlsx?month={month}"))).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert!(file.bytes().await.unwrap().starts_with(b"PK"));
    let (status, html) = page(&staff, &app, "/subsidies/statement?month=2026-13").await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"month-error\""));
    let agency_client = sign_in(&app, "agency_a").await;
    let (status, html) = page(&agency_client, &app, &format!("/subsidies/statement?month={month}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"statement-count\">2<"));
    // The agency's file names its orders, not why the resident is subsidised nor their legal name.
    let agency_token = app.token("agency_a").await;
    let (_, statement) = app.get_json(&format!("/api/v1/subsidies/statement?month={month}"), Some(&agency_token)).await;
    let text = statement.to_string();
    assert!(!text.contains("李桂英") && !text.contains("dibao"), "{text}");
    assert!(text.contains("137****0201"), "the resident as the agency knows them: {text}");

    // Evidence: for the district's staff and regulator, served so that it cannot run.
    let evidence = staff.get(app.url(&format!("/community/subsidies/{grant}/evidence"))).send().await.unwrap();
    assert_eq!(evidence.status(), 200);
    assert_eq!(evidence.headers()["content-type"], "application/pdf");
    assert!(
        evidence.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"evidence-")
    );
    assert!(evidence.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(evidence.bytes().await.unwrap().as_ref(), PDF);
    let other = sign_in(&app, "chaoyang_staff").await;
    assert_eq!(other.get(app.url(&format!("/community/subsidies/{grant}"))).send().await.unwrap().status(), 404);
    assert_eq!(
        other.get(app.url(&format!("/community/subsidies/{grant}/evidence"))).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        agency_client.get(app.url(&format!("/community/subsidies/{grant}/evidence"))).send().await.unwrap().status(),
        403
    );
    let resident_evidence =
        app.client.get(app.url(&format!("/community/subsidies/{grant}"))).bearer_auth(&resident).send().await.unwrap();
    assert_eq!(resident_evidence.status(), 403);
    let (status, _) = page(&browser_client(), &app, "/community/subsidies").await;
    assert_eq!(status, 401, "strangers are asked to sign in");

    // Another district's staff cannot end the grant; its own staff can, with a reason.
    let html = page(&other, &app, "/community/subsidies").await.1;
    let form = [("csrf", csrf_in(&html)), ("reason", "迁出".into())];
    let response =
        other.post(app.url(&format!("/community/subsidies/{grant}/revoke"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let html = page(&staff, &app, &format!("/community/subsidies/{grant}")).await.1;
    let form = [("csrf", csrf_in(&html)), ("reason", "已迁出本区".into())];
    let response =
        staff.post(app.url(&format!("/community/subsidies/{grant}/revoke"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let (status, _) = app
        .post_json(
            "/api/v1/orders",
            &resident,
            &json!({"menu_item_id": menu, "date": day(4), "time": "08:00", "hours": "2", "subsidy": true}),
        )
        .await;
    assert_eq!(status, 422, "an ended grant pays nothing");
}

async fn page_with_token(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn the_api_sets_budgets_lists_a_districts_residents_and_reads_the_statement() {
    let app = TestApp::spawn().await;
    let (_, _, menu) = app.cleaning_market(1).await;
    district_account(&app, "nanguan_reg", Role::Regulator, DISTRICT).await;
    district_account(&app, "nanguan_staff", Role::CommunityStaff, DISTRICT).await;
    district_account(&app, "chaoyang_staff", Role::CommunityStaff, "220104000000").await;
    let regulator = app.token("nanguan_reg").await;
    let put = |body: serde_json::Value| {
        app.client.put(app.url("/api/v1/subsidies/budgets")).bearer_auth(&regulator).json(&body).send()
    };
    let refused = put(json!({"district": "220104000000", "year": year().to_string(), "amount": "-5"})).await.unwrap();
    assert_eq!(refused.status(), 422);
    let body: serde_json::Value = refused.json().await.unwrap();
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["district", "amount"], "another district's budget and a negative amount: both named");
    let done = put(json!({"district": DISTRICT, "year": year().to_string(), "amount": "50000"})).await.unwrap();
    assert_eq!(done.status(), 204);
    let (status, rows) = app.get_json(&format!("/api/v1/subsidies/budgets?year={}", year()), Some(&regulator)).await;
    assert_eq!(status, 200);
    assert_eq!(rows.as_array().unwrap().len(), 1, "a district regulator sees their district");
    assert_eq!(rows[0]["amount_fen"], 5_000_000);

    let staff = sign_in(&app, "nanguan_staff").await;
    let csrf = csrf_in(&page(&staff, &app, "/community/subsidies/new").await.1);
    let form = registration(&csrf, "13700000301", "220102001001", "500", PDF);
    assert_eq!(register(&staff, &app, form).await.0, 303);
    let nanguan = app.token("nanguan_staff").await;
    let (status, list) = app.get_json(&format!("/api/v1/subsidies/grants?year={}&q=桂", year()), Some(&nanguan)).await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id_masked"].as_str().unwrap().len(), 18, "masked, never the number");
    assert!(list["items"][0]["id_masked"].as_str().unwrap().contains('*'));
    let chaoyang = app.token("chaoyang_staff").await;
    let (_, other) = app.get_json(&format!("/api/v1/subsidies/grants?year={}", year()), Some(&chaoyang)).await;
    assert_eq!(other["total"], 0, "another district's staff see none of them");

    let resident = app.phone_resident("13700000301").await;
    let (status, own) = app.get_json("/api/v1/resident/subsidy", Some(&resident)).await;
    if year() == beijing_today().year() {
        assert_eq!(status, 200);
        assert_eq!((own["quota_kind"].as_str(), own["left"].as_i64()), (Some("money"), Some(50_000)));
    }
    let stranger = app.phone_resident("13700000302").await;
    assert_eq!(app.get_json("/api/v1/resident/subsidy", Some(&stranger)).await.0, 404);
    let body = json!({"menu_item_id": menu, "date": day(3), "time": "08:00", "hours": "2", "subsidy": true});
    assert_eq!(app.post_json("/api/v1/orders", &resident, &body).await.0, 201);
    let month = (beijing_today() + Duration::days(3)).format("%Y-%m").to_string();
    let (status, statement) = app.get_json(&format!("/api/v1/subsidies/statement?month={month}"), Some(&nanguan)).await;
    assert_eq!(status, 200);
    assert_eq!(statement["orders"].as_array().unwrap().len(), 1);
    assert_eq!(statement["charged_fen"], 9000);
    let (_, empty) = app.get_json(&format!("/api/v1/subsidies/statement?month={month}"), Some(&chaoyang)).await;
    assert_eq!(empty["orders"].as_array().unwrap().len(), 0);
    assert_eq!(app.get_json("/api/v1/subsidies/statement?month=13", Some(&nanguan)).await.0, 422);
    assert_eq!(app.get_json("/api/v1/subsidies/grants", Some(&resident)).await.0, 403);
}
