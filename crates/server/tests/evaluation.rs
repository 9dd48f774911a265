//! Third-party evaluation over HTTP: the city's regulator opens a round and publishes it, an
//! evaluator scores what its organisation is assigned; every bad input the issue names is
//! answered: a score outside 0–100 or without evidence 422 beside the field, a tied evaluator
//! 403, nobody signed in 401, an agency 403, an unpublished round invisible to the public and
//! to agencies; the pages say the same beside their fields.

mod common;

use common::{PASSWORD, TestApp, csrf_in, sign_in};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::oversight::evaluation::{Dimension, OrgForm};
use jiazheng_store::accounts::NewAccount;
use serde_json::{Value, json};

/// An evaluator organisation with one account `username`; returns the organisation's id.
async fn evaluator(app: &TestApp, username: &str, org: &str) -> i64 {
    let form = OrgForm { name: org.into(), contact: "王经理 13900000000".into(), ..Default::default() };
    let id = app.db.store.create_evaluator_org(&form.parse().unwrap(), None).await.unwrap();
    app.db
        .store
        .create_account(&NewAccount {
            username: username.into(),
            display_name: org.into(),
            password: PASSWORD.into(),
            role: Role::Evaluator,
            agency_id: None,
            district_code: None,
            worker_id: None,
            provider_id: None,
            bank_id: None,
            evaluator_id: Some(id),
        })
        .await
        .unwrap();
    id
}

fn last_year() -> String {
    (beijing_today().format("%Y").to_string().parse::<i32>().unwrap() - 1).to_string()
}

fn round_json(employment: i64) -> Value {
    json!({"name": "2025年度家政企业第三方评价", "year": last_year(), "period": "year", "kinds": ["agency"],
        "weight_employment": employment, "weight_community": 15, "weight_brand": 15, "weight_quality": 15,
        "weight_training": 15, "weight_integrity": 10, "weight_standards": 10})
}

/// Seven scores with notes, `first` for the first dimension and `rest` for the others.
fn seven(first: i64, rest: i64) -> Value {
    let scores: Vec<Value> = Dimension::ALL
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"dimension": d.as_str(), "score": if i == 0 { first } else { rest }, "note": "现场核查记录"}))
        .collect();
    json!({ "scores": scores })
}

fn field_codes(body: &Value) -> Vec<(String, String)> {
    body["error"]["fields"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|f| (f["field"].as_str().unwrap().to_string(), f["code"].as_str().unwrap().to_string()))
        .collect()
}

async fn put(app: &TestApp, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = app.client.put(app.url(path)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn upload(app: &TestApp, round: i64, token: &str, bytes: &[u8]) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("evidence.pdf");
    let form = reqwest::multipart::Form::new().part("file", part);
    let response = app
        .client
        .post(app.url(&format!("/api/v1/evaluation/rounds/{round}/evidence")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_round_through_the_api_answers_every_bad_input_the_issue_names() {
    let app = TestApp::spawn().await;
    let city = app.token("city").await;
    let nanguan = app.token("nanguan").await;
    let agency = app.token("agency_a").await;
    let x = evaluator(&app, "eval_x", "吉林省家政服务评价中心").await;
    let y = evaluator(&app, "eval_y", "长春市标准化研究院").await;
    let (ex, ey) = (app.token("eval_x").await, app.token("eval_y").await);
    app.employ(11, "王芳", "cleaning").await;

    // Opening: the city's regulator only; weights that do not add up to 100 are refused.
    let (status, body) = app.post_json("/api/v1/evaluation/rounds", &city, &round_json(19)).await;
    assert_eq!((status, field_codes(&body)), (422, vec![("weights".into(), "weights_sum".into())]), "{body}");
    let (status, _) = app.post_json("/api/v1/evaluation/rounds", &nanguan, &round_json(20)).await;
    assert_eq!(status, 403, "a district regulator reads, never opens");
    let (status, _) = app.post_json("/api/v1/evaluation/rounds", &agency, &round_json(20)).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json("/api/v1/evaluation/rounds", "", &round_json(20)).await;
    assert_eq!(status, 401);
    let (status, body) = app.post_json("/api/v1/evaluation/rounds", &city, &round_json(20)).await;
    assert_eq!(status, 201, "{body}");
    let round = body["id"].as_i64().unwrap();
    let path = |rest: &str| format!("/api/v1/evaluation/rounds/{round}{rest}");

    let subject = |agency_id: i64| {
        let (app, city, path) = (&app, &city, &path);
        async move {
            let (status, body) =
                app.post_json(&path("/subjects"), city, &json!({"kind": "agency", "agency_id": agency_id})).await;
            assert_eq!(status, 201, "{body}");
            body["id"].as_i64().unwrap()
        }
    };
    let sa = subject(app.agency_a).await;
    let sb = subject(app.agency_b).await;
    let (status, body) =
        app.post_json(&path("/subjects"), &city, &json!({"kind": "agency", "agency_id": app.agency_a})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("subject_added")));
    let (status, _) = app.post_json(&path("/assignments"), &city, &json!({"org_id": x})).await;
    assert_eq!(status, 201);

    // Unpublished: invisible to the public and to agencies; the assigned evaluator sees it.
    for token in [None, Some(agency.as_str()), Some(ey.as_str())] {
        let (status, _) = app.get_json(&path(""), token).await;
        assert_eq!(status, 404, "{token:?}");
        let (status, _) = app.get_json(&path("/results"), token).await;
        assert_eq!(status, 404, "{token:?}");
    }
    let (_, list) = app.get_json("/api/v1/evaluation/rounds", None).await;
    assert_eq!(list["total"], 0, "{list}");
    let (_, list) = app.get_json("/api/v1/evaluation/rounds", Some(&agency)).await;
    assert_eq!(list["total"], 0, "{list}");
    let page = app.client.get(app.url(&format!("/evaluations/{round}"))).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let (status, detail) = app.get_json(&path(""), Some(&ex)).await;
    assert_eq!((status, detail["weights"][0]["weight"].as_i64()), (200, Some(20)), "{detail}");
    let (status, _) = app.get_json(&path("/results"), Some(&nanguan)).await;
    assert_eq!(status, 200, "regulators follow the open round");

    // Not assigned: not found. Tied: forbidden. Nobody signed in: 401. An agency: 403.
    let scores_a = path(&format!("/subjects/{sa}/scores"));
    let scores_b = path(&format!("/subjects/{sb}/scores"));
    let (status, _) = put(&app, &scores_a, Some(&ey), &seven(80, 80)).await;
    assert_eq!(status, 404, "an organisation not assigned to the round");
    let (status, _) = app
        .post_json("/api/v1/evaluation/ties", &ex, &json!({"agency_id": app.agency_b, "tie": "2025年为该企业提供咨询"}))
        .await;
    assert_eq!(status, 204);
    let (status, body) = put(&app, &scores_b, Some(&ex), &seven(80, 80)).await;
    assert_eq!(status, 403, "a declared tie: {body}");
    let (status, _) = app.get_json(&path(&format!("/subjects/{sb}/scorecard")), Some(&ex)).await;
    assert_eq!(status, 403);
    let (status, _) = put(&app, &scores_a, None, &seven(80, 80)).await;
    assert_eq!(status, 401);
    let (status, _) = put(&app, &scores_a, Some(&agency), &seven(80, 80)).await;
    assert_eq!(status, 403);

    // Outside the scale, or without evidence: 422 beside the field, nothing kept.
    let bad = json!({"scores": [
        {"dimension": "brand", "score": 101, "note": "获评市级品牌"},
        {"dimension": "quality", "score": 80, "note": " "},
        {"dimension": "training", "score": -3, "note": "x"},
    ]});
    let (status, body) = put(&app, &scores_a, Some(&ex), &bad).await;
    assert_eq!(status, 422);
    assert_eq!(
        field_codes(&body),
        vec![
            ("score_brand".into(), "out_of_scale".into()),
            ("evidence_quality".into(), "no_evidence".into()),
            ("score_training".into(), "out_of_scale".into())
        ],
        "{body}"
    );
    let (_, card) = app.get_json(&path(&format!("/subjects/{sa}/scorecard")), Some(&ex)).await;
    assert_eq!(card["scores"], json!([]), "no partial write");
    let share = card["platform_figures"][0].clone();
    assert_eq!(
        (share["dimension"].as_str(), share["value_en"].as_str()),
        (Some("employment"), Some("100% (1/1)")),
        "{card}"
    );

    // Evidence files: a PDF is kept; anything else refused beside the field.
    let (status, body) = upload(&app, round, &ex, b"not a pdf").await;
    assert_eq!((status, field_codes(&body)), (422, vec![("file".into(), "not_evidence".into())]));
    let (status, body) = upload(&app, round, &ex, b"%PDF-1.4 site visit").await;
    assert_eq!(status, 201, "{body}");
    let evidence = body["id"].as_i64().unwrap();
    let mut card = seven(70, 80);
    card["scores"][2] = json!({"dimension": "brand", "score": 80, "evidence_id": evidence});
    let (status, body) = put(&app, &scores_a, Some(&ex), &card).await;
    assert_eq!(status, 204, "{body}");
    let (_, read) = app.get_json(&path(&format!("/subjects/{sa}/scorecard")), Some(&ex)).await;
    assert_eq!(read["scores"].as_array().unwrap().len(), 7);
    assert_eq!(read["submitted"], false);
    let (status, body) = put(&app, &path("/weights"), Some(&city), &round_json(20)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("scoring_started")),
        "weights are fixed once scoring starts"
    );

    // Publication names what is missing.
    let (status, body) = app.post_json(&path("/publication"), &city, &json!({})).await;
    assert_eq!(status, 422);
    let said = body["error"]["fields"][0]["message_zh"].as_str().unwrap();
    assert!(said.contains("吉林省家政服务评价中心未提交") && said.contains("朝阳区好帮手家政（未指派"), "{said}");

    let (status, _) = app.post_json(&path(&format!("/subjects/{sa}/submission")), &ex, &json!({})).await;
    assert_eq!(status, 204);
    let (status, body) = put(&app, &scores_a, Some(&ex), &seven(99, 99)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("scorecard_submitted")), "submission locks");
    let (status, _) = app.post_json(&path("/assignments"), &city, &json!({"org_id": y, "subject_id": sb})).await;
    assert_eq!(status, 201);
    let (status, _) = put(&app, &scores_b, Some(&ey), &seven(90, 90)).await;
    assert_eq!(status, 204);
    let (status, _) = app.post_json(&path(&format!("/subjects/{sb}/submission")), &ey, &json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = app.post_json(&path("/publication"), &nanguan, &json!({})).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json(&path("/publication"), &city, &json!({})).await;
    assert_eq!(status, 204, "{body}");

    // Published: everyone reads the results with the weights. a: 20·70 + 80·80 = 7800.
    let (status, detail) = app.get_json(&path(""), None).await;
    assert_eq!((status, detail["status"].as_str()), (200, Some("published")));
    let weights: i64 = detail["weights"].as_array().unwrap().iter().map(|w| w["weight"].as_i64().unwrap()).sum();
    assert_eq!(weights, 100);
    let (_, results) = app.get_json(&path("/results"), None).await;
    let lines: Vec<(i64, i64, i64)> = results["results"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["subject"]["id"].as_i64().unwrap(), r["total_hundredths"].as_i64().unwrap(), r["rank"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(lines, vec![(sb, 9000, 1), (sa, 7800, 2)]);
    let (status, _) = put(&app, &path("/front-runners"), Some(&city), &json!({"subject_ids": [sb]})).await;
    assert_eq!(status, 204);
    let (_, front) = app.get_json(&path("/results?front_runners=true"), None).await;
    assert_eq!(front["results"]["total"], 1);

    let html = app.client.get(app.url(&format!("/evaluations/{round}"))).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("员工制发展程度") && html.contains("20%") && html.contains("78.00") && html.contains("90.00")
    );
    assert!(html.contains("领跑"));
    let page =
        app.client.get(app.url(&format!("/agencies/{}", app.agency_b))).send().await.unwrap().text().await.unwrap();
    let line = &page[page.find("id=\"evaluation\"").unwrap()..];
    assert!(line.contains("90.00分 · 第1名（共2家） · 领跑企业"), "{}", &line[..300.min(line.len())]);
}

#[tokio::test]
async fn the_scoring_page_says_each_mistake_beside_its_field_and_keeps_what_was_typed() {
    let app = TestApp::spawn().await;
    let store = &app.db.store;
    let x = evaluator(&app, "eval_x", "吉林省家政服务评价中心").await;
    let city = app.token("city").await;
    let (_, body) = app.post_json("/api/v1/evaluation/rounds", &city, &round_json(20)).await;
    let round = body["id"].as_i64().unwrap();
    let (_, body) = app
        .post_json(
            &format!("/api/v1/evaluation/rounds/{round}/subjects"),
            &city,
            &json!({"kind": "agency", "agency_id": app.agency_a}),
        )
        .await;
    let sa = body["id"].as_i64().unwrap();
    let (_, body) = app
        .post_json(
            &format!("/api/v1/evaluation/rounds/{round}/subjects"),
            &city,
            &json!({"kind": "agency", "agency_id": app.agency_b}),
        )
        .await;
    let sb = body["id"].as_i64().unwrap();
    store.assign_evaluator(round, x, None, 1).await.unwrap();
    let ex = app.token("eval_x").await;
    app.post_json("/api/v1/evaluation/ties", &ex, &json!({"agency_id": app.agency_b, "tie": "参股"})).await;

    let client = sign_in(&app, "eval_x").await;
    let url = app.url(&format!("/evaluation/rounds/{round}/subjects/{sa}"));
    let html = client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("平台数据") && html.contains("员工制服务员占比"), "platform figures offered");
    let csrf = csrf_in(&html);
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("score_employment", "120")
        .text("note_employment", "员工制占比高")
        .text("score_brand", "85")
        .text("note_brand", "");
    let response = client.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("id=\"score_employment-error\"") && html.contains("id=\"evidence_brand-error\""),
        "beside the fields"
    );
    assert!(html.contains("value=\"120\"") && html.contains("员工制占比高"), "what was typed is kept");
    assert!(store.subject_scores(round, sa, Some(x)).await.unwrap().is_empty());

    // A file is evidence enough; a non-picture is refused beside its field.
    let pdf = reqwest::multipart::Part::bytes(b"%PDF-1.4 brand certificate".to_vec()).file_name("brand.pdf");
    let text = reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("notes.txt");
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("score_brand", "85")
        .part("file_brand", pdf)
        .text("score_quality", "70")
        .part("file_quality", text);
    let response = client.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"evidence_quality-error\""));
    let pdf = reqwest::multipart::Part::bytes(b"%PDF-1.4 brand certificate".to_vec()).file_name("brand.pdf");
    let form =
        reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("score_brand", "85").part("file_brand", pdf);
    let response = client.post(&url).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let scores = store.subject_scores(round, sa, Some(x)).await.unwrap();
    assert_eq!((scores.len(), scores[0].evidence_mime.as_deref()), (1, Some("application/pdf")));
    let evidence = scores[0].evidence_id.unwrap();
    // The write landed in the audit once, by the store (with the value after), not again by the gate.
    let me = store.authenticate("eval_x", PASSWORD).await.unwrap().unwrap().account_id;
    let query = jiazheng_store::oversight::audit::AuditQuery { actor: Some(me), ..Default::default() };
    let rows = store.audit(&query, jiazheng_store::PageRequest::default()).await.unwrap().items;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["evaluation.score", "evaluation.tie_declare"], "{rows:?}");
    assert!(rows[0].value_after.as_deref().unwrap().contains("\"score\":85"));
    let file = client.get(app.url(&format!("/evaluation/evidence/{evidence}"))).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF-1.4 brand certificate");
    let outsider = app.client.get(app.url(&format!("/evaluation/evidence/{evidence}"))).send().await.unwrap();
    assert_eq!(outsider.status(), 401, "evidence is not public");
    // A district's regulator reads a file through a subject of its district only.
    let evidence_url = app.url(&format!("/evaluation/evidence/{evidence}"));
    let nanguan = sign_in(&app, "nanguan").await.get(&evidence_url).send().await.unwrap();
    assert_eq!(nanguan.status(), 200, "the subject is in 南关区");
    let chaoyang = sign_in(&app, "chaoyang").await.get(&evidence_url).send().await.unwrap();
    assert_eq!(chaoyang.status(), 404, "not 朝阳区's subject");

    // Submitting with dimensions missing names them on the page.
    let response = client
        .post(app.url(&format!("/evaluation/rounds/{round}/subjects/{sa}/submit")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("还有6项未评分"));

    // A tied agency: the page shows no form, and a post is refused.
    let tied = app.url(&format!("/evaluation/rounds/{round}/subjects/{sb}"));
    let html = client.get(&tied).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"tied\"") && !html.contains("id=\"save-scores\""));
    let form = reqwest::multipart::Form::new().text("csrf", csrf).text("score_brand", "85").text("note_brand", "x");
    assert_eq!(client.post(&tied).multipart(form).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn the_regulator_works_a_round_on_pages_and_the_admin_gives_an_evaluator_its_organisation() {
    let app = TestApp::spawn().await;
    let client = sign_in(&app, "city").await;
    let html = client.get(app.url("/regulator/evaluation/new")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    let year = last_year();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("name", "2025年度评价"),
        ("year", year.as_str()),
        ("period", "year"),
        ("kinds", "agency"),
        ("kinds", "community"),
    ];
    let weights = ["20", "15", "15", "15", "15", "10", "11"];
    let names: Vec<String> = Dimension::ALL.iter().map(|d| format!("weight_{}", d.as_str())).collect();
    fields.extend(names.iter().map(String::as_str).zip(weights));
    let response = client.post(app.url("/regulator/evaluation")).form(&fields).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"weights-error\"") && html.contains("101%"), "the sum said beside the weights");
    assert!(html.contains("value=\"11\""), "typed values kept");
    let last = fields.len() - 1;
    fields[last].1 = "10";
    let response = client.post(app.url("/regulator/evaluation")).form(&fields).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let at = response.headers()["location"].to_str().unwrap().to_string();
    let round: i64 = at.rsplit('/').next().unwrap().parse().unwrap();

    // Organisations: registered on the page, a name twice refused beside the field.
    let html = client.get(app.url("/regulator/evaluation/orgs")).send().await.unwrap().text().await.unwrap();
    let org =
        [("csrf", csrf.as_str()), ("name", "吉林省家政服务评价中心"), ("uscc", ""), ("contact", "王经理 13900000000")];
    assert!(html.contains("id=\"create-org\""));
    assert_eq!(client.post(app.url("/regulator/evaluation/orgs")).form(&org).send().await.unwrap().status(), 303);
    let again = client.post(app.url("/regulator/evaluation/orgs")).form(&org).send().await.unwrap();
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("id=\"name-error\""));
    let org_id = app.db.store.evaluator_org_by_name("吉林省家政服务评价中心").await.unwrap().id;

    // Subjects and the assignment from the round page.
    let page = format!("/regulator/evaluation/{round}");
    let html = client.get(app.url(&format!("{page}?agency_q=安心"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"agency-found\""));
    let add = [("csrf", csrf.as_str()), ("kind", "agency"), ("agency_id", &app.agency_a.to_string())];
    assert_eq!(client.post(app.url(&format!("{page}/subjects"))).form(&add).send().await.unwrap().status(), 303);
    let html = client.get(app.url(&format!("{page}?street=220102001000"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("华阳社区"));
    let add = [("csrf", csrf.as_str()), ("kind", "community"), ("community", "220102001001")];
    assert_eq!(client.post(app.url(&format!("{page}/subjects"))).form(&add).send().await.unwrap().status(), 303);
    let assign = [("csrf", csrf.as_str()), ("org", ""), ("subject", "")];
    let refused = client.post(app.url(&format!("{page}/assignments"))).form(&assign).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("id=\"org-error\""));
    let org_text = org_id.to_string();
    let assign = [("csrf", csrf.as_str()), ("org", org_text.as_str()), ("subject", "")];
    assert_eq!(client.post(app.url(&format!("{page}/assignments"))).form(&assign).send().await.unwrap().status(), 303);
    let publish =
        client.post(app.url(&format!("{page}/publish"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(publish.status(), 422);
    let html = publish.text().await.unwrap();
    assert!(html.contains("id=\"round-error\"") && html.contains("华阳社区（吉林省家政服务评价中心未提交评分）"));

    // A district regulator reads the round (their district's subjects) but changes nothing.
    let district = sign_in(&app, "chaoyang").await;
    let html = district.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("安心家政") && !html.contains("id=\"publish\""), "朝阳区 sees none of 南关区's subjects");
    let html = client.get(app.url(&page)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("安心家政") && html.contains("id=\"publish\""));

    // The admin gives a new evaluator account its organisation, picked from the list.
    let admin = sign_in(&app, "admin").await;
    let html = admin.get(app.url("/admin/accounts/new")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("吉林省家政服务评价中心"));
    let admin_csrf = csrf_in(&html);
    let none = [("csrf", admin_csrf.as_str()), ("username", "pingjia"), ("role", "evaluator")];
    let response = admin.post(app.url("/admin/accounts/new")).form(&none).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"evaluator-error\""));
    let fields = [
        ("csrf", admin_csrf.as_str()),
        ("username", "pingjia"),
        ("role", "evaluator"),
        ("evaluator_id", org_text.as_str()),
    ];
    let response = admin.post(app.url("/admin/accounts/new")).form(&fields).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("吉林省家政服务评价中心"));
    let query = jiazheng_store::accounts::AccountQuery { text: Some("pingjia".into()), ..Default::default() };
    let listing = app.db.store.accounts(&query).await.unwrap().items.remove(0);
    assert_eq!(listing.evaluator_id, Some(org_id));
}
