//! The workforce API against a running server: bad records refused with the field named and
//! nothing written, compliance that follows the records, the board's access rules, schools'
//! enrolments and results, and inboxes filled by the daily job.

mod common;

use chrono::NaiveDate;
use common::{PASSWORD, TestApp, id_number, worker_json};
use jiazheng_core::account::Role;
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::workforce::jobs::InboxDelivery;
use serde_json::{Value, json};

fn today() -> NaiveDate {
    jiazheng_server::api::workers::today()
}

fn days_ago(days: i64) -> String {
    (today() - chrono::Duration::days(days)).to_string()
}

async fn employee(app: &TestApp, seq: u16, services: &str) -> i64 {
    app.employ(seq, "王秀英", services).await
}

fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn bad_records_are_refused_with_the_field_named_and_nothing_written() {
    let app = TestApp::spawn().await;
    let token = app.token("agency_a").await;
    let worker = employee(&app, 1, "cleaning").await;
    let future = (today() + chrono::Duration::days(3)).to_string();
    let cases = [
        (
            "health-checks",
            json!({"checked_on": future, "institution": "南关区疾控", "category": "in_home", "result": "pass"}),
            "checked_on",
        ),
        (
            "certificates",
            json!({"kind": "childcare", "issuer": "人社局", "number": "C1", "issued_on": "2025-05-01", "valid_until": "2025-04-30"}),
            "valid_until",
        ),
        (
            "trainings",
            json!({"course_kind": "pre_job", "course_name": "岗前", "provider_name": "学校", "hours": "0", "started_on": "2025-01-01", "completed_on": "2025-01-05"}),
            "hours",
        ),
        (
            "insurance",
            json!({"kind": "accident", "insurer": "人寿", "policy_number": "P1", "starts_on": "2026-01-01", "ends_on": "2025-12-31", "sum_insured": "1000"}),
            "ends_on",
        ),
    ];
    for (path, body, field) in cases {
        let (status, answer) = app.post_json(&format!("/api/v1/workers/{worker}/{path}"), &token, &body).await;
        assert_eq!(status, 422, "{path}: {answer}");
        assert_eq!(fields(&answer), [field], "{path}");
        assert!(!answer["error"]["fields"][0]["message_zh"].as_str().unwrap().is_empty());
        assert!(!answer["error"]["fields"][0]["message_en"].as_str().unwrap().is_empty());
    }
    let (status, _) =
        app.post_json("/api/v1/workers/999999/health-checks", &token, &json!({"checked_on": days_ago(1)})).await;
    assert_eq!(status, 404, "unknown worker");
    let other = app.token("agency_b").await;
    let good =
        json!({"checked_on": days_ago(10), "institution": "南关区疾控", "category": "in_home", "result": "合格"});
    let (status, _) = app.post_json(&format!("/api/v1/workers/{worker}/health-checks"), &other, &good).await;
    assert_eq!(status, 403, "another agency's worker");
    let record = app.db.store.workforce_record(worker, true).await.unwrap();
    assert!(record.health_checks.is_empty() && record.trainings.is_empty() && record.policies.is_empty());
    assert!(record.certificates.is_empty());
}

#[tokio::test]
async fn compliance_follows_the_records_and_the_board_follows_the_rules_of_access() {
    let app = TestApp::spawn().await;
    let token = app.token("agency_a").await;
    let worker = employee(&app, 2, "cleaning").await;
    let (_, before) = app.get_json(&format!("/api/v1/workers/{worker}/compliance"), Some(&token)).await;
    assert_eq!(before["compliant"], false);
    let posts = [
        (
            "trainings",
            json!({"course_kind": "岗前培训", "course_name": "岗前", "provider_name": "学校", "hours": 40, "started_on": days_ago(60), "completed_on": days_ago(50), "exam_result": "合格"}),
        ),
        (
            "health-checks",
            json!({"checked_on": days_ago(10), "institution": "南关区疾控", "category": "居家服务类", "result": "合格"}),
        ),
        (
            "insurance",
            json!({"kind": "accident", "insurer": "人寿", "policy_number": "P1", "starts_on": days_ago(30), "ends_on": (today() + chrono::Duration::days(300)).to_string(), "sum_insured": "500000"}),
        ),
    ];
    for (path, body) in posts {
        let (status, answer) = app.post_json(&format!("/api/v1/workers/{worker}/{path}"), &token, &body).await;
        assert_eq!(status, 201, "{path}: {answer}");
    }
    let (status, after) = app.get_json(&format!("/api/v1/workers/{worker}/compliance"), Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(after["compliant"], true, "{after}");
    // The same records are not enough for maternity work.
    let (_, maternity) =
        app.get_json(&format!("/api/v1/workers/{worker}/compliance?service=maternity"), Some(&token)).await;
    let standing = |c: &str| {
        maternity["checks"].as_array().unwrap().iter().find(|x| x["condition"] == c).unwrap()["standing"].clone()
    };
    assert_eq!((standing("health_check"), standing("skill")), (json!("weaker"), json!("missing")));
    let (status, _) = app.get_json(&format!("/api/v1/workers/{worker}/compliance?service=flying"), Some(&token)).await;
    assert_eq!(status, 422);
    // Health results are for the owners and regulators in scope.
    let resident = app.token("resident").await;
    assert_eq!(app.get_json(&format!("/api/v1/workers/{worker}/workforce"), Some(&resident)).await.0, 403);
    let (_, record) = app.get_json(&format!("/api/v1/workers/{worker}/workforce"), Some(&token)).await;
    assert_eq!(record["health_checks"][0]["result"]["passed"], true);
    let log = app.db.store.access_log("worker", worker).await.unwrap();
    assert!(log.iter().any(|e| e.fields == "health_results"), "the read was logged");

    let board = format!("/api/v1/agencies/{}/compliance?filter=all", app.agency_a);
    for (user, expected) in [("agency_a", 200), ("agency_b", 403), ("nanguan", 200), ("chaoyang", 403), ("city", 200)] {
        let token = app.token(user).await;
        assert_eq!(app.get_json(&board, Some(&token)).await.0, expected, "{user}");
    }
    let (_, page) = app.get_json(&board, Some(&token)).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["compliance"]["compliant"], true);
    let (status, bad) = app.get_json(&format!("{board}&sort=age"), Some(&token)).await;
    assert_eq!((status, fields(&bad)), (422, vec!["sort".to_string()]));
}

#[tokio::test]
async fn schools_enrol_registered_workers_and_enter_results() {
    let app = TestApp::spawn().await;
    let admin = app.token("admin").await;
    let provider = json!({"kind": "training_base", "name": "长春市春城家政职业培训学校", "code": "4122010200", "district": "220102", "teaches": "岗前培训"});
    let (status, created) = app.post_json("/api/v1/providers", &admin, &provider).await;
    assert_eq!(status, 201, "{created}");
    let provider_id = created["id"].as_i64().unwrap();
    assert_eq!(app.post_json("/api/v1/providers", &admin, &provider).await.0, 409, "one code, one provider");
    app.db
        .store
        .create_account(&NewAccount {
            username: "school".into(),
            display_name: "school".into(),
            password: PASSWORD.into(),
            role: Role::School,
            agency_id: None,
            district_code: None,
            worker_id: None,
            provider_id: Some(provider_id),
            bank_id: None,
            evaluator_id: None,
        })
        .await
        .unwrap();
    let school = app.token("school").await;
    let courses = format!("/api/v1/providers/{provider_id}/courses");
    let (status, bad) = app
        .post_json(&courses, &school, &json!({"name": "岗前", "kind": "pre_job", "mode": "in_person", "hours": "0"}))
        .await;
    assert_eq!((status, fields(&bad)), (422, vec!["hours".to_string()]));
    let (status, course) = app
        .post_json(&courses, &school, &json!({"name": "岗前", "kind": "pre_job", "mode": "in_person", "hours": "40"}))
        .await;
    assert_eq!(status, 201);
    let course = course["id"].as_i64().unwrap();
    assert_eq!(app.post_json(&courses, &admin, &json!({})).await.0, 403, "only the school's own account");

    let agency = app.token("agency_a").await;
    let (_, worker) =
        app.post_json("/api/v1/workers", &agency, &worker_json(&id_number("220102", 3), "李静", "220102001")).await;
    let worker = worker["id"].as_i64().unwrap();
    let enrolments = format!("/api/v1/courses/{course}/enrolments");
    let unknown = json!({"id_number": id_number("220102", 4), "started_on": days_ago(20)});
    let (status, answer) = app.post_json(&enrolments, &school, &unknown).await;
    assert_eq!((status, fields(&answer)), (422, vec!["id_number".to_string()]));
    let enrol = json!({"id_number": id_number("220102", 3), "started_on": days_ago(20)});
    let (status, record) = app.post_json(&enrolments, &school, &enrol).await;
    assert_eq!(status, 201, "{record}");
    assert_eq!(app.post_json(&enrolments, &school, &enrol).await.0, 409, "enrolled once");
    let record = record["id"].as_i64().unwrap();
    let result = |body: Value| {
        let app = &app;
        let school = school.clone();
        async move {
            let response = app
                .client
                .put(app.url(&format!("/api/v1/training-records/{record}/result")))
                .bearer_auth(school)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        }
    };
    assert_eq!(result(json!({"completed_on": days_ago(25), "exam_result": "pass"})).await, 422, "before it started");
    // A failed first sitting and a retake: both results are kept, the record shows the latest.
    assert_eq!(result(json!({"completed_on": days_ago(12), "exam_result": "fail", "exam_score": "41"})).await, 204);
    assert_eq!(result(json!({"completed_on": days_ago(10), "exam_result": "pass", "exam_score": "91"})).await, 204);
    let (_, list) = app.get_json(&enrolments, Some(&school)).await;
    assert_eq!((list["total"].clone(), list["items"][0]["exam_score"].clone()), (json!(1), json!(91)));
    let record_id = list["items"][0]["record_id"].as_i64().unwrap();
    let sittings: Vec<(bool, Option<i64>)> = app
        .db
        .store
        .exam_results(record_id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.exam_passed, r.exam_score))
        .collect();
    assert_eq!(sittings, [(false, Some(41)), (true, Some(91))]);
    let facts = app.db.store.worker_facts(worker).await.unwrap();
    assert_eq!(facts.trainings[0].source, jiazheng_core::workforce::Source::Provider);
    assert_eq!(facts.trainings[0].passed, Some(true));
}

#[tokio::test]
async fn the_daily_job_fills_inboxes_and_the_public_rates() {
    let app = TestApp::spawn().await;
    let token = app.token("agency_a").await;
    let worker = employee(&app, 5, "cleaning").await;
    // A health check 350 days old: due within the month.
    let body =
        json!({"checked_on": days_ago(350), "institution": "南关区疾控", "category": "in_home", "result": "pass"});
    assert_eq!(app.post_json(&format!("/api/v1/workers/{worker}/health-checks"), &token, &body).await.0, 201);
    let report = app.db.store.run_daily_job(today(), &InboxDelivery, &|_, _| {}).await.unwrap();
    assert!(report.reminders_new >= 2, "{report:?}");
    let (status, inbox) = app.get_json("/api/v1/notifications", Some(&token)).await;
    assert_eq!(status, 200);
    let health = inbox["items"].as_array().unwrap().iter().find(|n| n["condition"] == "health_check").unwrap();
    let id = health["id"].as_i64().unwrap();
    let (status, _) =
        app.post_json(&format!("/api/v1/notifications/{id}/read"), &app.token("agency_b").await, &json!({})).await;
    assert_eq!(status, 404, "not agency B's reminder");
    assert_eq!(app.post_json(&format!("/api/v1/notifications/{id}/read"), &token, &json!({})).await.0, 204);
    assert_eq!(app.get_json("/api/v1/notifications", Some(&app.token("resident").await)).await.0, 403);

    let (status, rates) = app.get_json("/api/v1/workforce/rates", None).await;
    assert_eq!(status, 200);
    assert_eq!(rates[0]["area_code"], "220100000000");
    assert_eq!(rates[0]["counts"]["active_workers"], 1);
    assert_eq!(rates[0]["health_check_validity"], 1.0);
    assert_eq!(rates[0]["education_target"], 0.1);
}
