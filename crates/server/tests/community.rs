//! Community operations over HTTP: an agency's point page and API (another agency's admin gets
//! 404, outsiders 401/403, bad input 422 beside the field, a duty overlap 409, two check-outs of
//! the last unit: one wins), 家政驿站 proposed by a school and confirmed only by staff of the
//! community's area, volunteer hours counted on the agency's and the school's pages, and the
//! public community page.

mod common;

use chrono::Duration;
use common::{TestApp, csrf_in, school_with_course, sign_in};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::registry::service_point::ServicePointForm;
use serde_json::json;

const HUAYANG: &str = "220102001001";

fn day(n: i64) -> String {
    (beijing_today() + Duration::days(n)).to_string()
}

async fn staff(app: &TestApp, username: &str, area: &str) {
    common::area_account(app, username, Role::CommunityStaff, area).await;
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post_form(client: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = client.post(app.url(path)).form(form).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn a_point(app: &TestApp, agency: i64) -> i64 {
    let form = ServicePointForm {
        name: "华阳社区家政服务站".into(),
        community_code: HUAYANG.into(),
        address: "华阳街1号".into(),
        opening_hours: "08:00-18:00".into(),
        serves: vec![],
        ..Default::default()
    };
    app.db.store.create_service_point(agency, &form.parse().unwrap()).await.unwrap()
}

#[tokio::test]
async fn an_agency_runs_its_point_and_nobody_else_reaches_it() {
    let app = TestApp::spawn().await;
    let worker = app.employ(31, "王芳", "cleaning").await;
    let point = a_point(&app, app.agency_a).await;
    let path = format!("/agency/points/{point}");

    // Outsiders: not signed in 401, a resident 403, another agency's admin 404 (page and API).
    let (status, _) = page(&common::browser_client(), &app, &path).await;
    assert_eq!(status, 401);
    let resident = sign_in(&app, "resident").await;
    assert_eq!(page(&resident, &app, &path).await.0, 403);
    let rogue = sign_in(&app, "agency_b").await;
    assert_eq!(page(&rogue, &app, &path).await.0, 404);
    let rogue_token = app.token("agency_b").await;
    let (status, _) = app.get_json(&format!("/api/v1/service-points/{point}/operations"), Some(&rogue_token)).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_json(
            &format!("/api/v1/service-points/{point}/tools"),
            &rogue_token,
            &json!({"name": "吸尘器", "count": 1}),
        )
        .await;
    assert_eq!(status, 404);
    let rogue_page = page(&rogue, &app, "/agency/points").await.1;
    let (status, _) = post_form(
        &rogue,
        &app,
        &format!("{path}/tools"),
        &[("csrf", &csrf_in(&rogue_page)), ("name", "吸尘器"), ("count", "1")],
    )
    .await;
    assert_eq!(status, 404);

    // The owner: the list links the page; the worker is picked from a list, never typed.
    let owner = sign_in(&app, "agency_a").await;
    let list = page(&owner, &app, "/agency/points").await.1;
    assert!(list.contains(&format!("href=\"/agency/points/{point}\"")));
    let (status, html) = page(&owner, &app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<option value=\"{worker}\"")), "the worker is offered in the picker");
    let csrf = csrf_in(&html);

    // Hours: a bad time is refused beside its day, what was typed kept.
    let mut hours: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for d in 1..=7 {
        hours.push((format!("from{d}"), if d == 4 { "25:00".into() } else { "08:30".into() }));
        hours.push((format!("to{d}"), "17:00".into()));
    }
    let response = owner.post(app.url(&format!("{path}/hours"))).form(&hours).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("id=\"day4-error\"") && html.contains("value=\"25:00\""));
    hours[7].1 = "08:30".into();
    let response = owner.post(app.url(&format!("{path}/hours"))).form(&hours).send().await.unwrap();
    assert_eq!(response.status(), 303);

    // Duty: bad input 422 beside the fields; an overlap 409 beside the worker; the API says 409 too.
    let (status, html) = post_form(
        &owner,
        &app,
        &format!("{path}/duties"),
        &[("csrf", &csrf), ("worker_id", ""), ("date", "2020-01-01"), ("from", "09:00"), ("to", "08:00")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\"") && html.contains("duty-worker-error") && html.contains("value=\"09:00\""));
    let duty = [
        ("csrf", csrf.as_str()),
        ("worker_id", &worker.to_string()),
        ("date", &day(2)),
        ("from", "08:00"),
        ("to", "12:00"),
    ];
    assert_eq!(post_form(&owner, &app, &format!("{path}/duties"), &duty).await.0, 303);
    let (status, html) = post_form(&owner, &app, &format!("{path}/duties"), &duty).await;
    assert_eq!(status, 409);
    assert!(
        html.contains("已有网点值班安排") && html.contains("duty-worker-error"),
        "the clash is named beside the worker"
    );
    let token = app.token("agency_a").await;
    let other_point = a_point(&app, app.agency_a).await;
    let overlap = json!({"worker_id": worker, "date": day(2), "from": "11:00", "to": "13:00"});
    let (status, body) = app.post_json(&format!("/api/v1/service-points/{other_point}/duties"), &token, &overlap).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("duty_overlap")), "{body}");
    let stranger = app.employ_at(app.agency_b, 32, "赵敏", "cleaning").await;
    let theirs = json!({"worker_id": stranger, "date": day(3), "from": "08:00", "to": "09:00"});
    let (status, body) = app.post_json(&format!("/api/v1/service-points/{point}/duties"), &token, &theirs).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("worker_id")), "{body}");

    // Tools: the last unit, asked for eight times at once, goes once.
    let (status, body) = app
        .post_json(&format!("/api/v1/service-points/{point}/tools"), &token, &json!({"name": "蒸汽清洁机", "count": 1}))
        .await;
    assert_eq!(status, 201, "{body}");
    let tool = body["id"].as_i64().unwrap();
    let (status, body) =
        app.post_json(&format!("/api/v1/service-points/{point}/tools"), &token, &json!({"name": "", "count": 0})).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"].as_array().unwrap().len(), 2);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, url, token) =
            (app.client.clone(), app.url(&format!("/api/v1/service-points/{point}/tools/{tool}/loans")), token.clone());
        let body = json!({"worker_id": "", "volunteer": format!("志愿者{i}"), "due": day(1)});
        tasks.push(tokio::spawn(async move {
            client.post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap());
    }
    codes.sort_unstable();
    assert_eq!(codes, [201, 409, 409, 409, 409, 409, 409, 409]);
    let (_, ops) = app.get_json(&format!("/api/v1/service-points/{point}/operations"), Some(&token)).await;
    assert_eq!(ops["tools"][0]["out_count"], 1);
    assert_eq!(ops["hours"].as_array().unwrap().len(), 7);
    let loan = ops["loans"][0]["id"].as_i64().unwrap();
    let html = page(&owner, &app, &path).await.1;
    assert!(html.contains("已全部借出") || html.contains("All out"));
    let (status, _) = post_form(&owner, &app, &format!("{path}/loans/{loan}/return"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let (status, html) = post_form(&owner, &app, &format!("{path}/loans/{loan}/return"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 409);
    assert!(html.contains("role=\"alert\""));
    // A check-out with nobody named, from the page: 422 beside the worker picker.
    let (status, html) = post_form(
        &owner,
        &app,
        &format!("{path}/tools/{tool}/checkout"),
        &[("csrf", &csrf), ("worker_id", ""), ("volunteer", ""), ("due", &day(1))],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("请选择服务员或填写志愿者姓名"));

    // Events, and a page without the form's token is refused.
    let event = [
        ("csrf", csrf.as_str()),
        ("title", "家政服务进社区"),
        ("date", &day(4)),
        ("from", "09:00"),
        ("to", "11:00"),
        ("description", "免费家电清洗"),
        ("attendance", ""),
    ];
    assert_eq!(post_form(&owner, &app, &format!("{path}/events"), &event).await.0, 303);
    let (status, _) = post_form(&owner, &app, &format!("{path}/events"), &event[1..]).await;
    assert_eq!(status, 400, "no form token");
    let long = "长".repeat(61);
    let (status, html) = post_form(
        &owner,
        &app,
        &format!("{path}/events"),
        &[
            ("csrf", &csrf),
            ("title", &long),
            ("date", &day(4)),
            ("from", "09:00"),
            ("to", "11:00"),
            ("description", "x"),
            ("attendance", "-3"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("不能超过60个字符") && html.contains("参加人数应为0到10000之间的整数"));

    // Open all day every day: the badge shows on the public list and in the API.
    let day = json!({"from": "00:00", "to": "24:00"});
    let week = json!({"days": [day, day, day, day, day, day, day]});
    let (status, _) = app.put_json(&format!("/api/v1/service-points/{point}/hours"), &token, &week).await;
    assert_eq!(status, 204);
    let (status, body) = app.put_json(&format!("/api/v1/service-points/{point}/hours"), &rogue_token, &week).await;
    assert_eq!(status, 404, "{body}");
    let (_, ops) = app.get_json(&format!("/api/v1/service-points/{point}/operations"), Some(&token)).await;
    assert_eq!(ops["open_now"], true);
    let list = page(&common::browser_client(), &app, "/service-points").await.1;
    assert!(list.contains("营业中") && list.contains(&format!("href=\"/communities/{HUAYANG}\"")));
}

#[tokio::test]
async fn stations_and_volunteer_hours_pass_through_the_community_of_their_area_only() {
    let app = TestApp::spawn().await;
    school_with_course(&app, "school1", 40).await;
    staff(&app, "nanguan_staff", "220102000000").await;
    staff(&app, "chaoyang_staff", "220104000000").await;

    // The school picks the street, then the community, and proposes a station.
    let school = sign_in(&app, "school1").await;
    let (status, html) = page(&school, &app, "/school/stations?street=220102001").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<option value=\"{HUAYANG}\"")));
    let csrf = csrf_in(&html);
    let (status, html) = post_form(
        &school,
        &app,
        "/school/stations",
        &[
            ("csrf", &csrf),
            ("name", "春城家政驿站"),
            ("street", "220102001"),
            ("community", HUAYANG),
            ("address", "华阳街8号"),
            ("hours", "周一至周五 09:00-17:00"),
        ],
    )
    .await;
    assert_eq!(status, 422, "no service ticked");
    assert!(html.contains("services-error") && html.contains("value=\"春城家政驿站\""));
    let proposal = [
        ("csrf", csrf.as_str()),
        ("name", "春城家政驿站"),
        ("street", "220102001"),
        ("community", HUAYANG),
        ("address", "华阳街8号"),
        ("services", "elderly_care"),
        ("services", "daily_cleaning"),
        ("hours", "周一至周五 09:00-17:00"),
    ];
    assert_eq!(post_form(&school, &app, "/school/stations", &proposal).await.0, 303);
    let station =
        app.db.store.stations_in_area(&jiazheng_core::division::DivisionCode::parse("220102").unwrap()).await.unwrap()
            [0]
        .id;

    // Another district's staff neither see nor confirm it; the district's staff do.
    let other = sign_in(&app, "chaoyang_staff").await;
    let html = page(&other, &app, "/community/stations").await.1;
    assert!(!html.contains("春城家政驿站"));
    let other_csrf = csrf_in(&html);
    assert_eq!(
        post_form(&other, &app, &format!("/community/stations/{station}/confirm"), &[("csrf", &other_csrf)]).await.0,
        404
    );
    assert_eq!(
        post_form(&other, &app, &format!("/community/stations/{station}/end"), &[("csrf", &other_csrf)]).await.0,
        404
    );
    let agency = sign_in(&app, "agency_a").await;
    assert_eq!(page(&agency, &app, "/community/stations").await.0, 403);
    assert!(
        !page(&common::browser_client(), &app, &format!("/communities/{HUAYANG}")).await.1.contains("春城家政驿站")
    );
    let mine = sign_in(&app, "nanguan_staff").await;
    let html = page(&mine, &app, "/community/stations").await.1;
    assert!(html.contains("春城家政驿站") && html.contains("居家养老照护"));
    let staff_csrf = csrf_in(&html);
    assert_eq!(
        post_form(&mine, &app, &format!("/community/stations/{station}/confirm"), &[("csrf", &staff_csrf)]).await.0,
        303
    );
    let token = app.token("nanguan_staff").await;
    let (status, body) = app.post_json(&format!("/api/v1/stations/{station}/confirmation"), &token, &json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("station_not_waiting")));

    // A project of 南关区; another district's staff cannot reach it.
    let (status, body) = app
        .post_json(
            "/api/v1/volunteer/projects",
            &token,
            &json!({"kind": "red", "title": "党员家政服务队", "description": "上门保洁"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let project = body["id"].as_i64().unwrap();
    let (status, body) = app
        .post_json("/api/v1/volunteer/projects", &token, &json!({"kind": "慈善", "title": "", "description": "x"}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"].as_array().unwrap().len(), 2);
    assert_eq!(page(&other, &app, &format!("/community/volunteer/{project}")).await.0, 404);
    let other_token = app.token("chaoyang_staff").await;
    let event =
        json!({"community": HUAYANG, "date": day(-1), "from": "09:00", "to": "12:00", "description": "为独居老人保洁"});
    let (status, _) =
        app.post_json(&format!("/api/v1/volunteer/projects/{project}/events"), &other_token, &event).await;
    assert_eq!(status, 404);
    let (status, body) = app.post_json(&format!("/api/v1/volunteer/projects/{project}/events"), &token, &event).await;
    assert_eq!(status, 201, "{body}");
    let event = body["id"].as_i64().unwrap();

    // The agency joins from its page (a bad figure first); the school by the API.
    let html = page(&agency, &app, "/volunteer").await.1;
    assert!(html.contains("党员家政服务队"));
    let agency_csrf = csrf_in(&html);
    let (status, html) = post_form(
        &agency,
        &app,
        &format!("/volunteer/events/{event}/join"),
        &[("csrf", &agency_csrf), ("people", "4"), ("hours", "2.25")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("role=\"alert\"") && html.contains("value=\"2.25\""));
    let (status, _) = post_form(
        &agency,
        &app,
        &format!("/volunteer/events/{event}/join"),
        &[("csrf", &agency_csrf), ("people", "4"), ("hours", "2.5")],
    )
    .await;
    assert_eq!(status, 303);
    let school_token = app.token("school1").await;
    let (status, body) = app
        .post_json(
            &format!("/api/v1/volunteer/events/{event}/participants"),
            &school_token,
            &json!({"people": 2, "hours": "3"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let school_part = body["id"].as_i64().unwrap();
    let resident = app.token("resident").await;
    let (status, _) = app
        .post_json(
            &format!("/api/v1/volunteer/events/{event}/participants"),
            &resident,
            &json!({"people": 2, "hours": "3"}),
        )
        .await;
    assert_eq!(status, 403);

    // Confirmations: only the district's staff.
    let html = page(&mine, &app, &format!("/community/volunteer/{project}")).await.1;
    assert!(html.contains("4 × 2.5 = 10"));
    let (status, _) = app
        .post_json(&format!("/api/v1/volunteer/participants/{school_part}/confirmation"), &other_token, &json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, _) =
        app.post_json(&format!("/api/v1/volunteer/participants/{school_part}/confirmation"), &token, &json!({})).await;
    assert_eq!(status, 204);
    let agency_part = app
        .db
        .store
        .project_participants(project)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.agency_id.is_some())
        .unwrap()
        .id;
    assert_eq!(
        post_form(
            &mine,
            &app,
            &format!("/community/volunteer/participants/{agency_part}/confirm"),
            &[("csrf", &staff_csrf)]
        )
        .await
        .0,
        303
    );

    // Counted on the agency's public page and the school's page; the community's page has it all.
    let html = page(&common::browser_client(), &app, &format!("/agencies/{}", app.agency_a)).await.1;
    assert!(html.contains("id=\"volunteer-totals\">1 · 10"), "one event, ten hours");
    let html = page(&school, &app, "/school").await.1;
    assert!(html.contains("1 · 6"), "one event, six hours");
    let (status, html) = page(&common::browser_client(), &app, &format!("/communities/{HUAYANG}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("华阳社区") && html.contains("春城家政驿站") && html.contains("党员家政服务队"));
    let (status, body) = app.get_json(&format!("/api/v1/communities/{HUAYANG}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body["volunteer_events"][0]["minutes"], 960);
    assert_eq!(body["stations"][0]["status"], "active");
    assert_eq!(app.get_json("/api/v1/communities/220102001", None).await.0, 404, "a street is not a community");
    assert_eq!(app.get_json("/api/v1/communities/x", None).await.0, 404);

    // The school ends the station: gone from the public page.
    let html = page(&school, &app, "/school/stations").await.1;
    let csrf = csrf_in(&html);
    assert_eq!(post_form(&school, &app, &format!("/school/stations/{station}/end"), &[("csrf", &csrf)]).await.0, 303);
    assert!(
        !page(&common::browser_client(), &app, &format!("/communities/{HUAYANG}")).await.1.contains("春城家政驿站")
    );
}
