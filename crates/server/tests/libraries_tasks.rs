//! The plan's tasks and the libraries over HTTP: outsiders 401, other roles 403; units report on
//! their own tasks only (403 otherwise) and a report against a closed task is 422; the evaluation
//! report as a PDF that reads back with a task title, and as a workbook; nominations tied to the
//! nominator (403/404), one live nomination each (409), the city regulator's review, the public
//! page, removal kept in history; pages with errors beside their fields.

mod common;

use common::{TestApp, csrf_in, pdf_text, sign_in};
use jiazheng_core::account::Role;
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_store::credit::ledger::NewEntry;
use serde_json::{Value, json};

/// A city regulator account acting for `unit` (its code), tagged by the admin on the account page.
async fn unit_account(app: &TestApp, admin: &reqwest::Client, username: &str, unit: &str) -> String {
    let id = app.plain_account(username, Role::Regulator).await;
    let unit_id = app.db.store.plan_units().await.unwrap().into_iter().find(|u| u.code == unit).unwrap().id;
    let page = admin.get(app.url(&format!("/admin/accounts/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"plan-unit\""), "a regulator's page offers the unit");
    let form = [("csrf", csrf_in(&page)), ("unit", unit_id.to_string())];
    let response = admin.post(app.url(&format!("/admin/accounts/{id}/unit"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), 303);
    app.token(username).await
}

fn today() -> String {
    jiazheng_core::calendar::beijing_today().to_string()
}

fn progress(status: &str, text: &str) -> Value {
    json!({"reported_on": today(), "status": status, "text": text})
}

#[tokio::test]
async fn units_report_on_their_own_tasks_and_a_closed_task_takes_no_report() {
    let app = TestApp::spawn().await;
    let admin = sign_in(&app, "admin").await;
    let ccpit = unit_account(&app, &admin, "ccpit", "ccpit").await;
    let commerce = unit_account(&app, &admin, "commerce", "commerce").await;
    let city = app.token("city").await;
    let resident = app.token("resident").await;
    let agency = app.token("agency_a").await;

    // Outsiders: 401; other roles: 403; regulators read the 34 tasks.
    let (status, _) = app.get_json("/api/v1/plan/tasks", None).await;
    assert_eq!(status, 401);
    let (status, _) = app.post_json("/api/v1/plan/tasks/13/progress", "", &progress("in_progress", "x")).await;
    assert_eq!(status, 401);
    let (status, _) = app.get_json("/api/v1/plan/tasks", Some(&resident)).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json("/api/v1/plan/tasks/13/progress", &agency, &progress("in_progress", "x")).await;
    assert_eq!(status, 403);
    let (status, body) = app.get_json("/api/v1/plan/tasks?per_page=100", Some(&city)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tasks"]["total"], 34);
    assert_eq!(body["tasks"]["items"][12]["task"]["title"], "积极开展优质家政企业交流活动");
    assert_eq!(body["tasks"]["items"][12]["units"][1]["unit"]["name"], "市贸促会");
    assert_eq!(body["summary"]["overdue"], 34, "every deadline is the plan's end, 2023-12-31");
    let (_, mine) = app.get_json("/api/v1/plan/tasks", Some(&ccpit)).await;
    assert_eq!(mine["my_unit"]["name"], "市贸促会");

    // A unit reports on its task; on another unit's task, or with no unit: 403.
    let (status, body) =
        app.post_json("/api/v1/plan/tasks/13/progress", &ccpit, &progress("in_progress", "组织企业参加博览会")).await;
    assert_eq!(status, 201, "{body}");
    let report = body["id"].as_i64().unwrap();
    let (status, _) = app.post_json("/api/v1/plan/tasks/1/progress", &ccpit, &progress("in_progress", "x")).await;
    assert_eq!(status, 403, "not the unit's task");
    let (status, _) = app.post_json("/api/v1/plan/tasks/13/progress", &city, &progress("in_progress", "x")).await;
    assert_eq!(status, 403, "an account acting for no unit");
    // Bad input: each field says why.
    let bad = json!({"reported_on": "2099-01-01", "status": "finished", "text": "字".repeat(2001)});
    let (status, body) = app.post_json("/api/v1/plan/tasks/13/progress", &ccpit, &bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["reported_on", "status", "text"]);
    // Only the lead closes; then the task is closed: the bad input, 422.
    let (status, body) = app.post_json("/api/v1/plan/tasks/13/progress", &ccpit, &progress("done", "完成")).await;
    assert_eq!((status, body["error"]["fields"][0]["code"].as_str()), (422, Some("not_lead")), "{body}");
    let (status, _) =
        app.post_json("/api/v1/plan/tasks/13/progress", &commerce, &progress("done", "两库建成并公示")).await;
    assert_eq!(status, 201);
    let (status, body) =
        app.post_json("/api/v1/plan/tasks/13/progress", &ccpit, &progress("in_progress", "补充")).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "task_closed");
    let (_, task) = app.get_json("/api/v1/plan/tasks/13", Some(&city)).await;
    assert_eq!(
        (task["tracked"]["task"]["status"].as_str(), task["progress"]["total"].as_i64()),
        (Some("done"), Some(2))
    );
    assert_eq!(task["tracked"]["overdue"], false, "done is never overdue");

    // Evidence: a PDF once (409 after), nothing else; another unit's report: 403.
    let put = |token: &str, id: i64, bytes: Vec<u8>| {
        app.client
            .put(app.url(&format!("/api/v1/plan/progress/{id}/evidence?name=纪要.pdf")))
            .bearer_auth(token.to_string())
            .body(bytes)
            .send()
    };
    assert_eq!(put(&ccpit, report, b"MZ not a pdf".to_vec()).await.unwrap().status(), 422);
    // 200 KB: more than the 64 KB the JSON and form writes may carry.
    let mut minutes = b"%PDF-1.4 minutes".to_vec();
    minutes.resize(200_000, b' ');
    assert_eq!(put(&ccpit, report, minutes).await.unwrap().status(), 204);
    assert_eq!(put(&ccpit, report, b"%PDF-1.4 again".to_vec()).await.unwrap().status(), 409);
    assert_eq!(put(&commerce, report, b"%PDF-1.4 theirs".to_vec()).await.unwrap().status(), 403);

    // Deadlines: the overseer only; then the tracker's overdue list and alerts follow.
    let later = (jiazheng_core::calendar::beijing_today() + chrono::Duration::days(60)).to_string();
    let (status, _) = app.put_json("/api/v1/plan/tasks/2/deadline", &ccpit, &json!({"deadline": later})).await;
    assert_eq!(status, 403);
    let (status, body) = app.put_json("/api/v1/plan/tasks/2/deadline", &city, &json!({"deadline": "2099-01-01"})).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("deadline")));
    let (status, _) = app.put_json("/api/v1/plan/tasks/2/deadline", &commerce, &json!({"deadline": later})).await;
    assert_eq!(status, 204);
    let (_, overdue) = app.get_json("/api/v1/plan/tasks?overdue=true&per_page=100", Some(&city)).await;
    assert_eq!(overdue["tasks"]["total"], 32, "not 13 (done), not 2 (moved on)");
    let regulator = sign_in(&app, "city").await;
    let html = regulator.get(app.url("/regulator")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"plan-overdue\"") && html.contains("32"), "the overview's alert");
    let html = regulator.get(app.url("/plan")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"overdue-alert\"") && html.contains("积极开展优质家政企业交流活动"));

    // Reopening: the overseer, a done task only.
    let (status, _) = app.post_json("/api/v1/plan/tasks/1/reopen", &city, &json!({"reason": "x"})).await;
    assert_eq!(status, 409);
    let (status, _) = app.post_json("/api/v1/plan/tasks/13/reopen", &city, &json!({"reason": ""})).await;
    assert_eq!(status, 422);
    let (status, _) = app.post_json("/api/v1/plan/tasks/13/reopen", &city, &json!({"reason": "名单需补充"})).await;
    assert_eq!(status, 204);
    let (status, _) =
        app.post_json("/api/v1/plan/tasks/13/progress", &ccpit, &progress("in_progress", "补充推荐")).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_tracker_pages_take_reports_with_evidence_and_the_report_reads_back() {
    let app = TestApp::spawn().await;
    let admin = sign_in(&app, "admin").await;
    let commerce_token = unit_account(&app, &admin, "commerce", "commerce").await;
    unit_account(&app, &admin, "finance", "finance").await;
    let unit = sign_in(&app, "commerce").await;
    let page = unit.get(app.url("/plan/tasks/3")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("制定推行合同示范文本") && page.contains("id=\"submit-report\""));
    let csrf = csrf_in(&page);
    let send = |fields: Vec<(&'static str, String)>, file: Option<Vec<u8>>| {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        if let Some(bytes) = file {
            form = form.part("evidence", reqwest::multipart::Part::bytes(bytes).file_name("合同范本.pdf"));
        }
        unit.post(app.url("/plan/tasks/3/progress")).multipart(form).send()
    };
    // Refused: the errors beside their fields, the typed text kept.
    let response = send(
        vec![
            ("csrf", csrf.clone()),
            ("reported_on", "2020-01-01".into()),
            ("status", "in_progress".into()),
            ("text", "印发示范文本".into()),
        ],
        Some(b"not a document".to_vec()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"reported_on-error\"") && html.contains("id=\"evidence-error\""));
    assert!(html.contains(">印发示范文本</textarea>"), "the typed text is kept");
    // Accepted with its evidence: the task shows it.
    let response = send(
        vec![
            ("csrf", csrf.clone()),
            ("reported_on", today()),
            ("status", "done".into()),
            ("text", "印发家政服务合同示范文本".into()),
        ],
        Some(b"%PDF-1.4 contract".to_vec()),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 303);
    let html = unit.get(app.url("/plan/tasks/3")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"closed\"") && html.contains("合同范本.pdf"));
    let report = app.db.store.task_progress(3, jiazheng_store::PageRequest::default()).await.unwrap().items[0].id;
    let file = unit.get(app.url(&format!("/plan/progress/{report}/evidence"))).send().await.unwrap();
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF-1.4 contract");
    // A closed task on the page: 422 with the reason shown.
    let response = send(
        vec![
            ("csrf", csrf.clone()),
            ("reported_on", today()),
            ("status", "in_progress".into()),
            ("text", "补充".into()),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("不再接受进展报告"));
    // A unit not responsible for the task: 403.
    let finance = sign_in(&app, "finance").await;
    let page = finance.get(app.url("/plan/tasks/3")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("id=\"submit-report\""));
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf_in(&page))
        .text("reported_on", today())
        .text("status", "in_progress")
        .text("text", "x");
    let response = finance.post(app.url("/plan/tasks/3/progress")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 403);

    // The evaluation report: a PDF that reads back with a task title and the done one's report.
    let pdf = app.client.get(app.url("/plan/report.pdf")).send().await.unwrap();
    assert_eq!(pdf.status(), 401, "for regulators");
    let pdf = app.client.get(app.url("/plan/report.pdf")).bearer_auth(&commerce_token).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let text = pdf_text(&bytes);
    for expected in
        ["任务推进评估报告", "积极开展优质家政企业交流活动", "制定推行合同示范文本", "主要目标", "品牌化员工制家政企业"]
    {
        assert!(text.contains(expected), "{expected} in the PDF");
    }
    let xlsx = app.client.get(app.url("/plan/report.xlsx")).bearer_auth(&commerce_token).send().await.unwrap();
    assert_eq!(xlsx.status(), 200);
    let columns = [
        ("number", "序号", "No."),
        ("title", "任务", "Task"),
        ("lead", "牵头单位", "Lead unit"),
        ("status", "状态", "Status"),
    ];
    let rows = jiazheng_store::excel::read_sheet(xlsx.bytes().await.unwrap().to_vec(), &columns, |_| true).unwrap();
    assert_eq!(rows.len(), 34);
    let third = &rows[2].1;
    assert_eq!(
        (third["number"].as_str(), third["title"].as_str(), third["lead"].as_str()),
        ("3", "制定推行合同示范文本", "市商务局")
    );
    assert!(third["status"].starts_with("已完成"));
}

async fn reward(app: &TestApp, agency: i64, times: usize) {
    for _ in 0..times {
        app.db
            .store
            .append_entry(&NewEntry {
                subject_kind: SubjectKind::Agency,
                subject_id: agency,
                kind: EntryKind::Reward,
                payload: json!({"decided_on": "2025-06-01", "reason": "优秀家政企业"}),
                source: "regulator:city".into(),
                recorded_by: None,
                corrects: None,
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn nominations_are_tied_reviewed_published_and_removed_in_history() {
    let app = TestApp::spawn().await;
    let agency = app.token("agency_a").await;
    let city = app.token("city").await;
    let nanguan = app.token("nanguan").await;
    let chaoyang = app.token("chaoyang").await;
    let resident = app.token("resident").await;
    let own = json!({"kind": "agency", "reason": "群众反映良好，连续三年零投诉"});

    let (status, _) = app.post_json("/api/v1/libraries/nominations", "", &own).await;
    assert_eq!(status, 401);
    let (status, _) = app.post_json("/api/v1/libraries/nominations", &resident, &own).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json("/api/v1/libraries/nominations", &agency, &own).await;
    assert_eq!(status, 201, "{body}");
    let entry = body["id"].as_i64().unwrap();
    let (status, body) = app.post_json("/api/v1/libraries/nominations", &agency, &own).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["existing_id"].as_i64()),
        (409, Some("library_duplicate"), Some(entry))
    );
    // Not tied: another agency 403, another agency's worker 404; a district regulator elsewhere 404.
    let other = json!({"kind": "agency", "agency_id": app.agency_b, "reason": "x"});
    let (status, _) = app.post_json("/api/v1/libraries/nominations", &agency, &other).await;
    assert_eq!(status, 403);
    let theirs = app.employ_at(app.agency_b, 5, "赵敏", "cleaning").await;
    let (status, _) = app
        .post_json(
            "/api/v1/libraries/nominations",
            &agency,
            &json!({"kind": "skilled_worker", "worker_id": theirs, "reason": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .post_json(
            "/api/v1/libraries/nominations",
            &chaoyang,
            &json!({"kind": "agency", "agency_id": app.agency_a, "reason": "x"}),
        )
        .await;
    assert_eq!(status, 404, "agency A stands in 南关区");
    // Bad input: each field says why.
    let (status, body) =
        app.post_json("/api/v1/libraries/nominations", &agency, &json!({"kind": "manager", "reason": ""})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["reason", "person_role", "person_name"]);

    // The review shows the criteria; a district regulator does not decide; B or better to enter.
    let (_, list) = app.get_json("/api/v1/libraries/nominations?status=pending", Some(&nanguan)).await;
    let criteria = &list["items"][0]["criteria_now"];
    assert!(
        criteria.as_array().unwrap().iter().any(|c| c["criterion"] == "credit_grade" && c["outcome"] == "not_met"),
        "{criteria}"
    );
    let decide = format!("/api/v1/libraries/nominations/{entry}/decision");
    let (status, _) = app.post_json(&decide, &nanguan, &json!({"publish": true})).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json(&decide, &city, &json!({"publish": true})).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("criteria")), "{body}");
    reward(&app, app.agency_a, 2).await;
    let (status, body) = app.post_json(&decide, &city, &json!({"publish": true, "note": "符合入库标准"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("published")), "{body}");

    // Public: the API and the page, with the data's date.
    let (status, public) = app.get_json("/api/v1/libraries", None).await;
    assert_eq!((status, public["total"].as_i64()), (200, Some(1)));
    assert_eq!(public["items"][0]["name"], "长春市安心家政服务有限公司");
    let html = app.client.get(app.url("/libraries")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("长春市安心家政服务有限公司") && html.contains("id=\"as-of\"") && html.contains("入库标准"));

    // Removal: the overseer, with a reason; kept and shown as removed with its date.
    let remove = format!("/api/v1/libraries/entries/{entry}/removal");
    let (status, _) = app.post_json(&remove, &nanguan, &json!({"reason": "x"})).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json(&remove, &city, &json!({"reason": ""})).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("reason")));
    let (status, _) = app.post_json(&remove, &city, &json!({"reason": "发生重大服务质量事故"})).await;
    assert_eq!(status, 200);
    let (_, public) = app.get_json("/api/v1/libraries", None).await;
    assert_eq!(public["total"], 0);
    let (_, removed) = app.get_json("/api/v1/libraries?removed=true", None).await;
    assert_eq!(removed["items"][0]["removal_reason"], "发生重大服务质量事故");
    assert_eq!(removed["items"][0]["removed_on"], today());
    let html = app.client.get(app.url("/libraries?removed=1")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("发生重大服务质量事故") && html.contains(&today()));
}

#[tokio::test]
async fn the_nomination_and_review_pages_show_errors_beside_their_fields() {
    let app = TestApp::spawn().await;
    let agency = sign_in(&app, "agency_a").await;
    let page = agency.get(app.url("/libraries/nominate")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&page);
    let response = agency
        .post(app.url("/libraries/nominate"))
        .form(&[("csrf", csrf.as_str()), ("kind", "skilled_worker"), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"worker-error\"") && html.contains("id=\"reason-error\""));
    let response = agency
        .post(app.url("/libraries/nominate"))
        .form(&[("csrf", csrf.as_str()), ("kind", "agency"), ("reason", "服务规范")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let response = agency
        .post(app.url("/libraries/nominate"))
        .form(&[("csrf", csrf.as_str()), ("kind", "agency"), ("reason", "再次推荐")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    assert!(response.text().await.unwrap().contains("已有待审核或已入库的推荐"));

    // The city regulator's review: the criteria beside the nomination, the refusal beside it too.
    let city = sign_in(&app, "city").await;
    let html = city.get(app.url("/regulator/libraries")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("信用等级B级及以上") && html.contains("不符合"));
    let entry = html.split("id=\"entry-").nth(1).unwrap().split('"').next().unwrap().to_string();
    let response = city
        .post(app.url(&format!("/regulator/libraries/{entry}/decision")))
        .form(&[("csrf", csrf_in(&html).as_str()), ("decision", "publish"), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("不符合入库标准"));
    // A district regulator reads its district's nominations but has no decision buttons.
    let district = sign_in(&app, "nanguan").await;
    let html = district.get(app.url("/regulator/libraries")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("id=\"entry-{entry}\"")) && !html.contains("value=\"publish\""));
}
