//! The holes found when the platform was attacked as a rogue agency and an outsider: each test
//! here failed before its fix.

mod common;

use common::{TestApp, id_number, worker_json};
use jiazheng_server::api::workers::today;
use serde_json::{Value, json};

fn days_ago(n: i64) -> String {
    (today() - chrono::Duration::days(n)).to_string()
}

async fn binding_step(app: &TestApp, worker: i64, agency: i64, action: &str, token: &str) -> u16 {
    let binding = app.db.store.open_binding(worker, agency).await.unwrap().expect("an open binding");
    app.post_json(&format!("/api/v1/bindings/{}/{action}", binding.id), token, &json!({})).await.0
}

async fn export_names(app: &TestApp, token: &str) -> String {
    let response = app.client.get(app.url("/agency/workers.xlsx")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap().to_vec();
    let rows = jiazheng_store::excel::read_worker_rows(bytes).unwrap();
    rows.iter().map(|r| format!("{}:{}", r.form.name, r.form.id_number)).collect::<Vec<_>>().join(",")
}

/// Defect 1: an agency that only asked to bind another agency's worker reads and writes nothing.
#[tokio::test]
async fn a_binding_request_the_worker_never_confirmed_grants_nothing() {
    let app = TestApp::spawn().await;
    let worker = app.employ(1, "王芳", "cleaning").await;
    let token_b = app.token("agency_b").await;
    let (status, _) = app.post_json("/api/v1/bindings", &token_b, &json!({"worker_id": worker})).await;
    assert_eq!(status, 201);

    assert_eq!(app.get_json(&format!("/api/v1/workers/{worker}/identifiers?purpose=x"), Some(&token_b)).await.0, 403);
    assert!(!export_names(&app, &token_b).await.contains("王芳"), "a pending request exports nothing");
    assert!(export_names(&app, &app.token("agency_a").await).await.contains(&id_number("220102", 1)));
    let writes = [
        (
            "health-checks",
            json!({"checked_on": days_ago(3), "institution": "疾控", "category": "in_home", "result": "不合格"}),
        ),
        ("identity-verification", json!({"method": "id_card"})),
    ];
    for (path, body) in writes {
        let (status, answer) = app.post_json(&format!("/api/v1/workers/{worker}/{path}"), &token_b, &body).await;
        assert_eq!(status, 403, "{path}: {answer}");
    }
    let education = app
        .client
        .put(app.url(&format!("/api/v1/workers/{worker}/education")))
        .bearer_auth(&token_b)
        .json(&json!({"level": "college", "school": "长春职业技术学院", "major": "家政服务", "related": "yes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(education.status(), 403);
    assert_eq!(app.get_json(&format!("/api/v1/workers/{worker}/workforce"), Some(&token_b)).await.0, 403);
    let record = app.db.store.workforce_record(worker, true).await.unwrap();
    assert!(record.health_checks.is_empty() && record.education.school.is_none());
}

/// Defect 2: registering a record grants nothing once the worker rejects the agency or leaves it.
#[tokio::test]
async fn access_follows_active_bindings_not_who_registered_the_record() {
    let app = TestApp::spawn().await;
    let token_a = app.token("agency_a").await;
    let id = id_number("220102", 5);
    let (status, created) = app.post_json("/api/v1/workers", &token_a, &worker_json(&id, "刘洋", "220102001")).await;
    assert_eq!(status, 201, "{created}");
    let worker = created["id"].as_i64().unwrap();
    let identifiers = format!("/api/v1/workers/{worker}/identifiers?purpose=contract");

    // Registered, but the worker has not confirmed: masked only.
    assert_eq!(app.get_json(&identifiers, Some(&token_a)).await.0, 403);
    app.worker_account("liuyang", "刘洋", worker).await;
    let token_w = app.token("liuyang").await;
    assert_eq!(binding_step(&app, worker, app.agency_a, "reject", &token_w).await, 200);
    assert_eq!(app.get_json(&identifiers, Some(&token_a)).await.0, 403, "rejected");
    let edit = app
        .client
        .put(app.url(&format!("/api/v1/workers/{worker}")))
        .bearer_auth(&token_a)
        .json(&json!({"version": 1, "id_number": id, "name": "改名", "phone": "13900000000",
            "education_level": "senior", "home_street": "220102001", "services": ["cleaning"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 403, "the registering agency no longer edits the record");

    // Asked again and confirmed: access; the binding ended: none, the history still there.
    let (status, _) = app.post_json("/api/v1/bindings", &token_a, &json!({"worker_id": worker})).await;
    assert_eq!(status, 201);
    assert_eq!(binding_step(&app, worker, app.agency_a, "confirm", &token_w).await, 200);
    let (status, revealed) = app.get_json(&identifiers, Some(&token_a)).await;
    assert_eq!((status, revealed["id_number"].as_str()), (200, Some(id.as_str())));
    assert_eq!(binding_step(&app, worker, app.agency_a, "request-end", &token_w).await, 200);
    assert_eq!(binding_step(&app, worker, app.agency_a, "confirm-end", &token_a).await, 200);
    assert_eq!(app.get_json(&identifiers, Some(&token_a)).await.0, 403, "ended");
    let history = app.db.store.bindings_of_worker(worker).await.unwrap();
    let states: Vec<&str> = history.iter().map(|b| b.status.as_str()).collect();
    assert_eq!(states, ["ended", "rejected"]);
    let _: Value = revealed;
}

/// Defect 4: consent codes are long, and guessing them is stopped per code, account and address.
#[tokio::test]
async fn consent_codes_lock_after_five_wrong_tries_and_slow_the_guesser() {
    let app = TestApp::spawn().await;
    let (worker, issued) = app.certified(2, "陈静").await;
    app.worker_account("chenjing", "陈静", worker).await;
    let me = app.token("chenjing").await;
    let (status, code) = app.post_json("/api/v1/me/consent-codes", &me, &json!({})).await;
    assert_eq!(status, 201);
    let code = code["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8, "eight digits: {code}");
    let claim = format!("/api/v1/certificates/{}/consent-code", issued.number);
    let resident = app.token("resident").await;
    for n in 0..5u32 {
        let wrong = format!("{:08}", (code.parse::<u32>().unwrap() + 1 + n) % 100_000_000);
        let (status, body) = app.post_json(&claim, &resident, &json!({"code": wrong})).await;
        assert_eq!(status, 422, "try {n}: {body}");
    }
    let (status, body) = app.post_json(&claim, &resident, &json!({"code": code})).await;
    assert_eq!(status, 429, "the account waits after five wrong codes: {body}");
    // Another account with the right code: the code is dead all the same.
    app.plain_account("neighbour", jiazheng_core::account::Role::Resident).await;
    let neighbour = app.token("neighbour").await;
    let (status, body) = app.post_json(&claim, &neighbour, &json!({"code": code})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("too many wrong tries"), "{body}");
    // A fresh code works.
    let (_, fresh) = app.post_json("/api/v1/me/consent-codes", &me, &json!({})).await;
    let fresh = fresh["code"].as_str().unwrap();
    assert_eq!(app.post_json(&claim, &neighbour, &json!({"code": fresh})).await.0, 204);
}

/// Defect 6: the public sees no digit of the ID number and no home street; what it sees leaves
/// more than 100,000 candidate numbers; "already registered" answers are limited per agency.
#[tokio::test]
async fn public_views_leave_the_id_number_unguessable_and_register_lookups_are_limited() {
    use jiazheng_core::ids::ResidentId;
    let app = TestApp::spawn().await;
    let worker = app.employ(7, "周敏", "cleaning").await;
    let id = id_number("220102", 7);
    let (status, public) = app.get_json(&format!("/api/v1/workers/{worker}"), None).await;
    assert_eq!(status, 200);
    let page = app.client.get(app.url(&format!("/workers/{worker}"))).send().await.unwrap().text().await.unwrap();
    for shown in [public.to_string(), page] {
        assert!(!shown.contains(&id[14..]) && !shown.contains("**********"), "{shown}");
        assert!(!shown.contains("220102001"), "no home street");
    }
    assert!(public.get("id_number_masked").is_none() && public.get("home_street").is_none(), "{public}");

    // Everything that fits what is public: age and sex, and (generously) the place of birth registration.
    let (age, sex) = (public["age"].as_i64().unwrap(), public["sex"].as_str().unwrap().to_string());
    let today = today();
    let mut candidates = 0u32;
    let mut day = today - chrono::Duration::days(366 * (age + 1) + 2);
    while day <= today {
        if jiazheng_server::api::workers::age_on(day, today) as i64 == age {
            for seq in 0..1000u16 {
                let number = ResidentId::compose("220102", day, seq);
                let parsed = ResidentId::parse(&number, today).unwrap();
                if parsed.sex().as_str() == sex {
                    candidates += 1;
                }
            }
        }
        day += chrono::Duration::days(1);
    }
    assert!(candidates >= 100_000, "only {candidates} candidates fit the public record");
    assert!(ResidentId::parse(&id, today).is_ok());

    // An agency asking about people it does not employ gets 50 answers a day, then nothing.
    let others: Vec<i64> = {
        let mut v = Vec::new();
        for seq in 100..151u16 {
            v.push(app.employ(seq, "某人", "cleaning").await);
        }
        v
    };
    assert_eq!(others.len(), 51);
    let token_b = app.token("agency_b").await;
    for (n, seq) in (100..151u16).enumerate() {
        let body = worker_json(&id_number("220102", seq), "某人", "220104001");
        let (status, answer) = app.post_json("/api/v1/workers", &token_b, &body).await;
        let expected = if n < 50 { 409 } else { 429 };
        assert_eq!(status, expected, "answer {n}: {answer}");
    }
    let fresh = worker_json(&id_number("220104", 900), "新人", "220104001");
    assert_eq!(app.post_json("/api/v1/workers", &token_b, &fresh).await.0, 429, "paused for the day");
    // Agency A asking about its own people is not counted.
    let token_a = app.token("agency_a").await;
    for seq in 100..151u16 {
        let body = worker_json(&id_number("220102", seq), "某人", "220102001");
        assert_eq!(app.post_json("/api/v1/workers", &token_a, &body).await.0, 409);
    }
    // The district's regulator sees the agency; another district's does not.
    let desk = |name: &'static str| {
        let app = &app;
        async move {
            let token = app.token(name).await;
            app.client.get(app.url("/regulator")).bearer_auth(token).send().await.unwrap().text().await.unwrap()
        }
    };
    assert!(desk("chaoyang").await.contains("朝阳区好帮手家政"));
    assert!(!desk("nanguan").await.contains("id=\"probes\""));
}

/// Defects 11 and 15: bodies are bounded before they are parsed, and every error the API gives,
/// the framework's own included, comes in the one JSON shape.
#[tokio::test]
async fn bodies_are_bounded_and_every_api_error_has_the_json_shape() {
    let app = TestApp::spawn().await;
    let big = format!(r#"{{"username":"{}","password":"x"}}"#, "a".repeat(100 * 1024));
    let response = app
        .client
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large", "{body}");

    for (method, path, status) in [
        ("GET", "/api/v1/workers/not-a-number", 400),
        ("DELETE", "/api/v1/workers", 405),
        ("GET", "/api/v1/no-such-thing", 404),
    ] {
        let request = app.client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), app.url(path));
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(body["error"]["code"].is_string() && body["error"]["message_zh"].is_string(), "{path}: {body}");
    }
    // A purpose longer than the log keeps is refused, not stored.
    let worker = app.employ(3, "林静", "cleaning").await;
    let long = "x".repeat(300);
    let path = format!("/api/v1/workers/{worker}/identifiers?purpose={long}");
    let (status, body) = app.get_json(&path, Some(&app.token("agency_a").await)).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("purpose")));
}

/// Defect 10: the import page lists the first errors and counts the rest; the full report is a
/// file that can be downloaded afterwards.
#[tokio::test]
async fn the_import_page_shows_the_first_errors_and_offers_the_whole_report() {
    let app = TestApp::spawn().await;
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf_of = |html: &str| {
        let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
        html[start..].split('"').next().unwrap().to_string()
    };
    let form = [("csrf", csrf_of(&login)), ("username", "agency_a".into()), ("password", common::PASSWORD.into())];
    assert_eq!(client.post(app.url("/login")).form(&form).send().await.unwrap().status(), 303);
    let page = client.get(app.url("/agency/import")).send().await.unwrap().text().await.unwrap();
    let lines: Vec<jiazheng_store::excel::WorkerLine> = (0..300u16)
        .map(|n| jiazheng_store::excel::WorkerLine {
            id_number: format!("bad{n}"),
            name: "某某".into(),
            phone: "123".into(),
            ethnicity: String::new(),
            education_level: jiazheng_core::registry::worker::EducationLevel::Senior,
            education_major: None,
            education_related: false,
            home_street: "220102001".into(),
            services: [jiazheng_core::registry::ServiceKind::Cleaning].into_iter().collect(),
            kind: jiazheng_core::registry::binding::BindingKind::Employee,
        })
        .collect();
    let sheet = jiazheng_store::excel::workers_sheet(&lines).unwrap();
    let upload = reqwest::multipart::Form::new()
        .text("csrf", csrf_of(&page))
        .part("file", reqwest::multipart::Part::bytes(sheet).file_name("w.xlsx"));
    let response = client.post(app.url("/agency/import")).multipart(upload).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    let result = &html[html.find("id=\"import-result\"").unwrap()..];
    let shown = result.matches("<tr><td>").count();
    assert_eq!(shown, jiazheng_server::pages::import::ERRORS_SHOWN, "the page lists the first errors only");
    assert!(result.contains("100 / 600"), "and says how many there are");
    let report = client.get(app.url("/agency/import/errors.xlsx")).send().await.unwrap();
    assert_eq!(report.status(), 200);
    let rows =
        jiazheng_store::excel::read_sheet(report.bytes().await.unwrap().to_vec(), &[("row", "行", "Row")], |_| false)
            .unwrap();
    assert_eq!(rows.len(), 600, "every refused cell is in the file");
}

/// A compliance board shows health-check standing: each view is one access-log entry naming the
/// workers shown.
#[tokio::test]
async fn a_board_view_is_logged_with_the_workers_it_showed() {
    let app = TestApp::spawn().await;
    let first = app.employ(11, "高燕", "cleaning").await;
    let second = app.employ(12, "罗敏", "cleaning").await;
    let token = app.token("agency_a").await;
    let response = app.client.get(app.url("/agency/compliance")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (status, _) = app.get_json(&format!("/api/v1/agencies/{}/compliance", app.agency_a), Some(&token)).await;
    assert_eq!(status, 200);
    let log = app.db.store.access_log("agency_board", app.agency_a).await.unwrap();
    assert_eq!(log.len(), 2, "one entry per view");
    for entry in &log {
        assert!(
            entry.fields.contains(&first.to_string()) && entry.fields.contains(&second.to_string()),
            "{}",
            entry.fields
        );
        assert_eq!(entry.username, "agency_a");
    }
}

/// A client holding a cookie session of `username`, signed in through the form.
async fn cookie_session(app: &TestApp, username: &str) -> reqwest::Client {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let form = [("csrf", csrf_in(&login)), ("username", username.into()), ("password", common::PASSWORD.into())];
    assert_eq!(client.post(app.url("/login")).form(&form).send().await.unwrap().status(), 303);
    client
}

fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Found by attacking the fixes: every other way to ask "is this ID number registered" is
/// counted or answers the same either way.
#[tokio::test]
async fn other_register_oracles_are_closed() {
    let app = TestApp::spawn().await;
    let theirs = app.employ(20, "许静", "cleaning").await;
    let token_b = app.token("agency_b").await;

    // A record import names no difference between "not registered" and "not yours".
    let client_b = cookie_session(&app, "agency_b").await;
    let page = client_b.get(app.url("/agency/import")).send().await.unwrap().text().await.unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, head) in ["身份证号", "体检日期", "体检机构", "体检类别", "体检结论"].iter().enumerate()
    {
        sheet.write_string(0, col as u16, *head).unwrap();
    }
    for (row, number) in [id_number("220102", 20), id_number("220102", 999)].iter().enumerate() {
        let cells = [number.as_str(), &days_ago(5), "疾控", "in_home", "合格"];
        for (col, value) in cells.iter().enumerate() {
            sheet.write_string(row as u32 + 1, col as u16, *value).unwrap();
        }
    }
    let upload = reqwest::multipart::Form::new()
        .text("csrf", csrf_in(&page))
        .text("kind", "health")
        .part("file", reqwest::multipart::Part::bytes(book.save_to_buffer().unwrap()).file_name("h.xlsx"));
    let html = client_b.post(app.url("/agency/import")).multipart(upload).send().await.unwrap().text().await.unwrap();
    let said = "本企业没有持此身份证号的在职服务员";
    assert_eq!(html.matches(said).count(), 2, "both rows get the same answer");

    // A pending request does not put the worker on the requesting agency's public list.
    assert_eq!(app.post_json("/api/v1/bindings", &token_b, &json!({"worker_id": theirs})).await.0, 201);
    let (_, listed) = app.get_json(&format!("/api/v1/workers?agency={}", app.agency_b), None).await;
    assert_eq!(listed["total"], 0, "{listed}");

    // Asking to bind by ID number, and editing a record to someone else's number, both count.
    let mine = app.employ(21, "贺兰", "cleaning").await;
    let token_a = app.token("agency_a").await;
    let body = json!({"version": 1, "id_number": id_number("220102", 20), "name": "贺兰", "phone": "13900000021",
        "education_level": "senior", "home_street": "220102001", "services": ["cleaning"]});
    let edit = app.client.put(app.url(&format!("/api/v1/workers/{mine}"))).bearer_auth(&token_a).json(&body).send();
    assert_eq!(edit.await.unwrap().status(), 409, "its own worker's number is refused but not counted");
    for n in 0..50u16 {
        app.employ_at(app.agency_b, 300 + n, "某人", "cleaning").await;
        let body = json!({"version": 1, "id_number": id_number("220102", 300 + n), "name": "贺兰", "phone": "13900000021",
            "education_level": "senior", "home_street": "220102001", "services": ["cleaning"]});
        let edit = app.client.put(app.url(&format!("/api/v1/workers/{mine}"))).bearer_auth(&token_a).json(&body).send();
        assert_eq!(edit.await.unwrap().status(), 409, "edit {n}");
    }
    app.employ_at(app.agency_b, 400, "外人", "cleaning").await;
    let body = json!({"version": 1, "id_number": id_number("220102", 400), "name": "贺兰", "phone": "13900000021",
        "education_level": "senior", "home_street": "220102001", "services": ["cleaning"]});
    let edit = app.client.put(app.url(&format!("/api/v1/workers/{mine}"))).bearer_auth(&token_a).json(&body).send();
    assert_eq!(edit.await.unwrap().status(), 429, "the 51st answer is withheld");
    let client_a = cookie_session(&app, "agency_a").await;
    let page = client_a.get(app.url("/agency/bindings")).send().await.unwrap().text().await.unwrap();
    let ask = [("csrf", csrf_in(&page)), ("id_number", id_number("220102", 999)), ("kind", "employee".into())];
    let asked = client_a.post(app.url("/agency/bindings")).form(&ask).send().await.unwrap();
    assert_eq!(asked.status(), 429, "no more look-ups today, found or not");
}

/// Signing out through the API ends a cookie session too, and needs its form token.
#[tokio::test]
async fn api_sign_out_ends_the_cookie_session_with_its_token() {
    let app = TestApp::spawn().await;
    let client = cookie_session(&app, "resident").await;
    let page = client.get(app.url("/my/services")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_in(&page.text().await.unwrap());
    assert_eq!(client.delete(app.url("/api/v1/session")).send().await.unwrap().status(), 400, "no form token");
    let out = client.delete(app.url("/api/v1/session")).header("x-csrf-token", csrf).send().await.unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(client.get(app.url("/my/services")).send().await.unwrap().status(), 401);
}

/// A write that finds the database locked past the store's wait answers 503 with Retry-After and
/// writes nothing; once the lock is gone the same request succeeds.
#[tokio::test]
async fn a_locked_database_answers_busy_and_loses_nothing() {
    use sqlx::Connection;
    let app = TestApp::spawn().await;
    let token = app.token("agency_a").await;
    let before = app.worker_count().await;
    let body = worker_json(&id_number("220102", 801), "锁等待", "220102001");
    // Another process holds the write lock for longer than the store waits.
    let held = if app.db.url.starts_with("postgres") {
        let mut pg = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE workers IN EXCLUSIVE MODE").execute(&mut pg).await.unwrap();
        Ok(pg)
    } else {
        let mut lite = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
        sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut lite).await.unwrap();
        Err(lite)
    };
    let started = std::time::Instant::now();
    let response = app.client.post(app.url("/api/v1/workers")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 503, "busy, not broken");
    assert!(started.elapsed() >= jiazheng_store::LOCK_WAIT / 2, "it waited for the lock first");
    assert_eq!(response.headers()["retry-after"], "1");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "busy", "{answer}");
    match held {
        Ok(mut pg) => sqlx::raw_sql("ROLLBACK").execute(&mut pg).await.map(drop).unwrap(),
        Err(mut lite) => sqlx::raw_sql("ROLLBACK").execute(&mut lite).await.map(drop).unwrap(),
    }
    assert_eq!(app.worker_count().await, before, "nothing written by the refused request");
    assert_eq!(app.post_json("/api/v1/workers", &token, &body).await.0, 201, "the retry goes through");
    assert_eq!(app.worker_count().await, before + 1);
}
