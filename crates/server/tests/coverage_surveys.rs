//! 家政进社区 over HTTP: coverage moves when a point opens, the radius and declarations belong to
//! regulators, surveys belong to their area's staff, households answer once (409 after), closed
//! surveys say so, and pages show errors beside their fields.

mod common;

use chrono::Duration;
use common::{TestApp, area_account, csrf_in, sign_in};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use serde_json::{Value, json};

fn day(n: i64) -> String {
    (beijing_today() + Duration::days(n)).to_string()
}

#[tokio::test]
async fn coverage_is_public_and_moves_when_a_point_opens() {
    let app = TestApp::spawn().await;
    let (status, before) = app.get_json("/api/v1/coverage?area=220102001", None).await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["all_units"], json!({"covered": 0, "total": 3}));
    assert_eq!(before["suggestions"][0]["code"], "220102001001");
    assert!(before["guarantee"].as_f64().unwrap() >= 1.0 - 1.0 / std::f64::consts::E);

    let agency = app.token("agency_a").await;
    let point = json!({"name": "华阳社区家政服务站", "community_code": "220102001001", "address": "华阳街1号",
        "opening_hours": "08:00-18:00", "serves": ["220102001002"]});
    let (status, body) = app.post_json("/api/v1/service-points", &agency, &point).await;
    assert_eq!(status, 201, "{body}");
    let (_, after) = app.get_json("/api/v1/coverage?area=220102001", None).await;
    assert_eq!(after["all_units"], json!({"covered": 3, "total": 3}), "declared two, the third within 1,000 m");
    assert_eq!(after["suggestions"], json!([]));

    // The page says the same in words, with the bound of the suggestion.
    let html = app.client.get(app.url("/coverage?area=220102000000&k=3")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"rate-all\""));
    assert!(html.contains("63.2%"), "the guarantee is stated");
    assert!(html.contains("<svg class=\"map\""));
    // A bad area in the API is a field error, not a 500.
    let (status, body) = app.get_json("/api/v1/coverage?area=abc", None).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("area")), "{body}");

    // Across a district line without asking: refused beside `serves`; asked: pending for 朝阳区.
    let across = json!({"name": "跨区网点", "community_code": "220102001001", "address": "华阳街2号",
        "opening_hours": "08:00-18:00", "serves": ["220104001001"]});
    let (status, body) = app.post_json("/api/v1/service-points", &agency, &across).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("outside_district")), "{body}");
    let mut asked = across.clone();
    asked["cross_district"] = json!(true);
    let (status, _) = app.post_json("/api/v1/service-points", &agency, &asked).await;
    assert_eq!(status, 201);
    let chaoyang = app.token("chaoyang").await;
    let nanguan = app.token("nanguan").await;
    let (_, mine) = app.get_json("/api/v1/coverage/declarations", Some(&chaoyang)).await;
    let (_, not_mine) = app.get_json("/api/v1/coverage/declarations", Some(&nanguan)).await;
    assert_eq!((mine.as_array().unwrap().len(), not_mine.as_array().unwrap().len()), (1, 0));
    let path = format!("/api/v1/coverage/declarations/{}/220104001001", mine[0]["point_id"]);
    let (status, _) = app.post_json(&path, &nanguan, &json!({"approve": true})).await;
    assert_eq!(status, 404, "another district's regulator finds nothing to decide");
    let (status, _) = app.post_json(&path, &agency, &json!({"approve": true})).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json(&path, &chaoyang, &json!({"approve": true})).await;
    assert_eq!(status, 204);

    // The radius: only a city-wide regulator; zero or absurd is a 422.
    let city = app.token("city").await;
    let (status, _) = app.put_json("/api/v1/coverage/radius", &nanguan, &json!({"radius_m": 2000})).await;
    assert_eq!(status, 403);
    for bad in [json!({"radius_m": 0}), json!({"radius_m": 1_000_000}), json!({"radius_m": "far"})] {
        let (status, body) = app.put_json("/api/v1/coverage/radius", &city, &bad).await;
        assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("radius_m")), "{bad}: {body}");
    }
    let (status, _) = app.put_json("/api/v1/coverage/radius", &city, &json!({"radius_m": "2500"})).await;
    assert_eq!(status, 204);
    let (_, report) = app.get_json("/api/v1/coverage", None).await;
    assert_eq!(report["radius_m"], 2500);
}

#[tokio::test]
async fn the_radius_form_keeps_a_bad_value_beside_its_field() {
    let app = TestApp::spawn().await;
    let city = sign_in(&app, "city").await;
    let html = city.get(app.url("/coverage")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    let response =
        city.post(app.url("/coverage/radius")).form(&[("csrf", csrf.as_str()), ("radius", "0")]).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"radius-error\""), "{html}");
    assert!(html.contains("value=\"0\""), "the typed value is kept");
    // A district regulator has no radius form, and a post is refused.
    let nanguan = sign_in(&app, "nanguan").await;
    let html = nanguan.get(app.url("/coverage")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("id=\"radius-m\""));
    let csrf = csrf_in(&html);
    let response = nanguan
        .post(app.url("/coverage/radius"))
        .form(&[("csrf", csrf.as_str()), ("radius", "900")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn surveys_belong_to_their_area_and_take_one_answer_per_household() {
    let app = TestApp::spawn().await;
    area_account(&app, "nanling", Role::CommunityStaff, "220102001000").await;
    area_account(&app, "chaoyang_staff", Role::CommunityStaff, "220104000000").await;
    let staff = app.token("nanling").await;
    let form = json!({"title": "冬季家政需求调查", "questions": ["services", "frequency", "price"],
        "opens_on": day(0), "closes_on": day(14)});
    let (status, body) = app.post_json("/api/v1/surveys", &staff, &form).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    // Bad input: every field named.
    let (status, body) = app
        .post_json(
            "/api/v1/surveys",
            &staff,
            &json!({"title": "", "questions": [],
        "opens_on": day(5), "closes_on": day(1)}),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, vec!["title", "questions", "closes_on"], "{body}");
    // Only staff publish; another area's staff and an agency see nothing.
    let agency = app.token("agency_a").await;
    assert_eq!(app.post_json("/api/v1/surveys", &agency, &form).await.0, 403);
    let other = app.token("chaoyang_staff").await;
    assert_eq!(app.get_json(&format!("/api/v1/surveys/{id}"), Some(&other)).await.0, 404);
    assert_eq!(app.get_json(&format!("/api/v1/surveys/{id}/demand"), Some(&other)).await.0, 404);
    assert_eq!(app.post_json(&format!("/api/v1/surveys/{id}/close"), &other, &json!({})).await.0, 404);
    let (_, list) = app.get_json("/api/v1/surveys", Some(&other)).await;
    assert_eq!(list["total"], 0);
    let nanguan = app.token("nanguan").await;
    assert_eq!(
        app.get_json(&format!("/api/v1/surveys/{id}"), Some(&nanguan)).await.0,
        200,
        "the district's regulator reads it"
    );
    assert_eq!(app.get_json(&format!("/api/v1/surveys/{id}"), None).await.0, 401);

    let (_, detail) = app.get_json(&format!("/api/v1/surveys/{id}"), Some(&staff)).await;
    let link = detail["link_path"].as_str().unwrap().to_string();
    let token = link.trim_start_matches("/surveys/");
    assert_eq!(token.len(), 32);
    let (status, public) = app.get_json(&format!("/api/v1/surveys/link/{token}"), None).await;
    assert_eq!((status, public["state"].as_str()), (200, Some("open")));
    assert!(public.get("link_token").is_none() && public.get("id").is_none());

    let answers = format!("/api/v1/surveys/link/{token}/answers");
    let answer = json!({"community": "220102001001", "services": ["elderly_care", "daily_cleaning"],
        "frequency": "weekly", "price_min": "30", "price_max": "50"});
    let (status, _) = app.post_json(&answers, "", &answer).await;
    assert_eq!(status, 401, "signed in by phone first");
    let household = app.phone_resident("13900000001").await;
    let (status, body) = app.post_json(&answers, &household, &answer).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app.post_json(&answers, &household, &answer).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("survey_answer")), "{body}");
    // Bad answers: named fields; a community outside the street.
    let second = app.phone_resident("13900000002").await;
    let (status, body) = app
        .post_json(&answers, &second, &json!({"community": "220102001002", "price_min": "80", "price_max": "20"}))
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, vec!["services", "frequency", "price_max"], "{body}");
    let mut outside = answer.clone();
    outside["community"] = json!("220102002001");
    let (status, body) = app.post_json(&answers, &second, &outside).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("community")), "{body}");
    assert_eq!(app.post_json(&answers, &agency, &answer).await.0, 403);

    let (_, demand) = app.get_json(&format!("/api/v1/surveys/{id}/demand?level=street"), Some(&staff)).await;
    assert_eq!(demand[0]["community_code"], "220102001000");
    assert_eq!(demand[0]["demand"]["households"], 1);
    let (_, gap) = app.get_json(&format!("/api/v1/surveys/{id}/gap"), Some(&staff)).await;
    assert_eq!(gap.as_array().unwrap().len(), 2);
    assert!(gap.as_array().unwrap().iter().all(|g| g["kind"] == "demand_only"), "{gap}");

    // Closed: a clear refusal.
    assert_eq!(app.post_json(&format!("/api/v1/surveys/{id}/close"), &staff, &json!({})).await.0, 204);
    let (status, body) = app.post_json(&answers, &second, &answer).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("closed")), "{body}");
    let xlsx = app.client.get(app.url(&format!("/community/surveys/{id}/demand.xlsx"))).send().await.unwrap();
    assert_eq!(xlsx.status(), 401, "the file is for staff");
    let staff_browser = sign_in(&app, "nanling").await;
    let xlsx = staff_browser.get(app.url(&format!("/community/surveys/{id}/demand.xlsx"))).send().await.unwrap();
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.unwrap();
    // The first sheet is the demand by community: 华阳社区 with one household, then the total.
    let columns = [("place", "地区 / Place", "Place"), ("households", "户数 / Households", "Households")];
    let rows = jiazheng_store::excel::read_sheet(bytes.to_vec(), &columns, |_| true).unwrap();
    let cells: Vec<(String, String)> =
        rows.iter().map(|(_, r)| (r["place"].clone(), r["households"].clone())).collect();
    assert_eq!(cells, vec![("华阳社区".into(), "1".into()), ("合计".into(), "1".into())]);
}

/// Publishes a survey on the staff's page and returns the path of its link.
async fn publish(app: &TestApp, staff: &reqwest::Client, title: &str, opens: i64) -> String {
    let html = staff.get(app.url("/community/surveys/new")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    let fields = [
        ("csrf", csrf.as_str()),
        ("title", title),
        ("questions", "services"),
        ("questions", "price"),
        ("opens_on", &day(opens)),
        ("closes_on", &day(opens + 6)),
    ];
    let response = staff.post(app.url("/community/surveys")).form(&fields).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let html = staff.get(app.url(&location)).send().await.unwrap().text().await.unwrap();
    let link = html.split("id=\"survey-link\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    format!("/{}", link.split_once("://").unwrap().1.split_once('/').unwrap().1)
}

#[tokio::test]
async fn a_household_answers_on_the_page_with_errors_beside_fields() {
    let app = TestApp::spawn().await;
    area_account(&app, "nanling", Role::CommunityStaff, "220102001000").await;
    let staff = sign_in(&app, "nanling").await;

    // Not open yet: said plainly, to anyone with the link.
    let later = publish(&app, &staff, "下周的调查", 3).await;
    let html = app.client.get(app.url(&later)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"refusal\"") && html.contains(&day(3)), "{html}");

    // Open: a visitor is shown the way to sign in by phone, coming back here.
    let path = publish(&app, &staff, "冬季需求调查", 0).await;
    let html = app.client.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"sign-in-to-answer\"") && html.contains(path.trim_start_matches("/surveys/")), "{html}");

    let household = app.phone_resident("13900000003").await;
    let html = app.client.get(app.url(&path)).bearer_auth(&household).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"send-answer\""));
    assert!(html.contains("value=\"220102001001\" selected"), "the household on record is picked");
    // Nothing ticked and a price upside down: errors beside their fields, typed values kept.
    let bad = [
        ("csrf", ""),
        ("street", "220102001"),
        ("community", "220102001001"),
        ("price_min", "80"),
        ("price_max", "20"),
    ];
    let response = app.client.post(app.url(&path)).bearer_auth(&household).form(&bad).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"services-error\"") && html.contains("id=\"price_max-error\""), "{html}");
    assert!(html.contains("value=\"80\""), "typed values kept");
    let good = [
        ("csrf", ""),
        ("street", "220102001"),
        ("community", "220102001001"),
        ("services", "cooking"),
        ("price_min", "30"),
        ("price_max", "45"),
    ];
    let response = app.client.post(app.url(&path)).bearer_auth(&household).form(&good).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let response = app.client.post(app.url(&path)).bearer_auth(&household).form(&good).send().await.unwrap();
    assert_eq!(response.status(), 409, "a second answer from the household");
    assert!(response.text().await.unwrap().contains("id=\"answered\""));

    // Empty title: the staff's form comes back with errors beside the fields, dates kept.
    let html = staff.get(app.url("/community/surveys/new")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    let response = staff
        .post(app.url("/community/surveys"))
        .form(&[("csrf", csrf.as_str()), ("title", ""), ("opens_on", &day(0)), ("closes_on", &day(9))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"title-error\"") && html.contains("id=\"questions-error\""));
    assert!(html.contains(&day(9)), "typed dates kept");
}

#[tokio::test]
async fn the_desk_shows_the_staff_area_only() {
    let app = TestApp::spawn().await;
    area_account(&app, "nanling", Role::CommunityStaff, "220102001000").await;
    let staff = sign_in(&app, "nanling").await;
    let response = staff.get(app.url("/community")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("南岭街道"), "{html}");
    assert!(html.contains("id=\"area-rate\""));
    // Street-level staff do not manage the district's subsidy list.
    assert_eq!(staff.get(app.url("/community/subsidies")).send().await.unwrap().status(), 403);
    let resident = sign_in(&app, "resident").await;
    assert_eq!(resident.get(app.url("/community")).send().await.unwrap().status(), 403);
    let (status, _): (u16, Value) = app.get_json("/api/v1/supply", Some(&app.token("city").await)).await;
    assert_eq!(status, 422, "a city-wide regulator names a district");
}
