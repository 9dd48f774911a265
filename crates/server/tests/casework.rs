//! Credit inputs against a running server: ratings only of confirmed services and only once,
//! complaints that count only when upheld, the review queue, red/black lists reviewed by a
//! second regulator, rewards and penalties, and appeals whose outcome is a ledger entry.

mod common;

use common::TestApp;
use serde_json::{Value, json};

fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap().to_string()).collect()
}

fn has_contribution(grade: &Value, reason_en: &str) -> Option<Value> {
    grade["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["reason_en"].as_str().unwrap().contains(reason_en))
        .cloned()
}

async fn health_standing(app: &TestApp, token: &str, worker: i64) -> Value {
    let (_, body) = app.get_json(&format!("/api/v1/workers/{worker}/compliance"), Some(token)).await;
    let checks = body["checks"].as_array().unwrap().clone();
    checks.into_iter().find(|c| c["condition"] == "health_check").unwrap()["standing"].clone()
}

fn today() -> String {
    jiazheng_server::api::workers::today().to_string()
}

#[tokio::test]
async fn a_confirmed_service_is_rated_once_in_four_dimensions() {
    let app = TestApp::spawn().await;
    let agency = app.token("agency_a").await;
    let resident = app.token("resident").await;
    let worker = app.employ(31, "赵桂兰", "cleaning").await;
    let service = json!({"worker_id": worker, "resident": "resident", "service": "cleaning", "performed_on": today()});

    let (status, body) = app.post_json("/api/v1/services", &app.token("agency_b").await, &service).await;
    assert_eq!((status, fields(&body)), (422, vec!["worker_id".to_string()]), "not agency B's worker");
    let nobody = json!({"worker_id": worker, "resident": "nobody", "service": "flying", "performed_on": "2099-01-01"});
    let (status, body) = app.post_json("/api/v1/services", &agency, &nobody).await;
    assert_eq!((status, fields(&body)), (422, vec!["service".into(), "performed_on".into()]));
    let nobody = json!({"worker_id": worker, "resident": "nobody", "service": "cleaning", "performed_on": today()});
    let (status, body) = app.post_json("/api/v1/services", &agency, &nobody).await;
    assert_eq!((status, fields(&body)), (422, vec!["resident".to_string()]));
    let (status, recorded) = app.post_json("/api/v1/services", &agency, &service).await;
    assert_eq!(status, 201, "{recorded}");
    let id = recorded["id"].as_i64().unwrap();

    let rate = format!("/api/v1/services/{id}/rating");
    let stars = json!({"quality": 5, "punctuality": "4", "attitude": 5, "communication": 4, "comment": "很细心"});
    let (status, body) = app.post_json(&rate, &resident, &stars).await;
    assert_eq!((status, fields(&body)), (422, vec!["service_id".to_string()]), "confirm first");

    let confirm = format!("/api/v1/services/{id}/confirmation");
    assert_eq!(app.post_json(&confirm, &agency, &json!({})).await.0, 403, "only the resident confirms");
    assert_eq!(app.post_json(&confirm, &resident, &json!({})).await.0, 200);
    assert_eq!(app.post_json(&confirm, &resident, &json!({})).await.0, 409);

    let (status, body) = app.post_json(&rate, &resident, &json!({"quality": 6, "punctuality": 4})).await;
    assert_eq!(status, 422);
    assert_eq!(fields(&body), ["quality", "attitude", "communication"]);
    assert_eq!(app.post_json(&rate, &resident, &stars).await.0, 201);
    assert_eq!(app.post_json(&rate, &resident, &stars).await.0, 409, "one rating per service");

    let (_, mine) = app.get_json("/api/v1/me/services", Some(&resident)).await;
    assert_eq!(mine[0]["rated"], true);
    let (_, grade) = app.get_json(&format!("/api/v1/workers/{worker}/grade"), Some(&agency)).await;
    let rating = has_contribution(&grade, "Bayesian").expect("the rating counts");
    assert!(rating["reason_en"].as_str().unwrap().starts_with("1 rating,"), "{rating}");
    let (_, ledger) = app.get_json(&format!("/api/v1/workers/{worker}/ledger"), Some(&agency)).await;
    let kinds: Vec<&str> = ledger.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.ends_with(&["service", "rating"]), "{kinds:?}");

    // A complaint about a service names one of its parties, not someone else.
    let stranger = json!({"subject_kind": "agency", "subject_id": app.agency_b, "service_id": id, "body": "多收费"});
    let (status, body) = app.post_json("/api/v1/complaints", &resident, &stranger).await;
    assert_eq!((status, fields(&body)), (422, vec!["subject_id".to_string()]));
    let party = json!({"subject_kind": "agency", "subject_id": app.agency_a, "service_id": id, "body": "多收费"});
    assert_eq!(app.post_json("/api/v1/complaints", &resident, &party).await.0, 201);
}

#[tokio::test]
async fn complaints_count_only_when_upheld_and_two_regulators_cannot_both_act() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let regulator = app.token("city").await;
    let complaint = json!({"subject_kind": "agency", "subject_id": app.agency_b, "body": "收费与公示价格不符"});
    assert_eq!(app.post_json("/api/v1/complaints", &regulator, &complaint).await.0, 403);
    let (status, body) =
        app.post_json("/api/v1/complaints", &resident, &json!({"subject_kind": "cat", "body": ""})).await;
    assert_eq!((status, fields(&body)), (422, vec!["subject_kind".into(), "body".into()]));
    let missing = json!({"subject_kind": "agency", "subject_id": 999_999, "body": "x"});
    assert_eq!(app.post_json("/api/v1/complaints", &resident, &missing).await.0, 422);
    let (status, filed) = app.post_json("/api/v1/complaints", &resident, &complaint).await;
    assert_eq!((status, filed["status"].clone()), (201, json!("filed")));
    let decide = format!("/api/v1/complaints/{}/decision", filed["id"]);

    let (status, body) = app.post_json(&decide, &regulator, &json!({"decision": "uphold", "reason": "查实"})).await;
    assert_eq!((status, fields(&body)), (422, vec!["decision".to_string()]), "acknowledged before upheld");

    // A district's regulator sees and decides only cases about its own district (agency B is in 朝阳区).
    let nanguan = app.token("nanguan").await;
    let (_, queue) = app.get_json("/api/v1/complaints", Some(&nanguan)).await;
    assert_eq!(queue["total"], 0);
    assert_eq!(app.post_json(&decide, &nanguan, &json!({"decision": "acknowledge"})).await.0, 403);
    let (_, queue) = app.get_json("/api/v1/complaints?status=filed", Some(&app.token("chaoyang").await)).await;
    assert_eq!(queue["total"], 1);

    // Two regulators acknowledge at once: exactly one wins, the other is told, nothing breaks.
    let other = app.token("chaoyang").await;
    let ack = json!({"decision": "acknowledge"});
    let (a, b) = tokio::join!(app.post_json(&decide, &regulator, &ack), app.post_json(&decide, &other, &ack));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert!(statuses == [200, 409] || statuses == [200, 422], "{statuses:?}");

    let (_, before) = app.get_json(&format!("/api/v1/agencies/{}/grade", app.agency_b), None).await;
    assert!(has_contribution(&before, "upheld").is_none(), "a complaint in progress counts for nothing");
    let (status, body) = app.post_json(&decide, &regulator, &json!({"decision": "uphold"})).await;
    assert_eq!((status, fields(&body)), (422, vec!["reason".to_string()]));
    let (status, upheld) =
        app.post_json(&decide, &regulator, &json!({"decision": "uphold", "reason": "查实多收费"})).await;
    assert_eq!((status, upheld["status"].clone()), (200, json!("upheld")));
    let seq = upheld["ledger_seq"].as_i64().unwrap();
    assert_eq!(app.post_json(&decide, &regulator, &json!({"decision": "dismiss", "reason": "x"})).await.0, 422);

    let (_, grade) = app.get_json(&format!("/api/v1/agencies/{}/grade", app.agency_b), None).await;
    let counted = has_contribution(&grade, "upheld").unwrap();
    assert_eq!(counted["entries"], json!([seq]));
    let (_, credit) = app.get_json(&format!("/api/v1/agencies/{}/credit", app.agency_b), None).await;
    assert_eq!(credit["upheld_complaints"], 1);
    let (_, mine) = app.get_json("/api/v1/complaints", Some(&resident)).await;
    assert_eq!((mine["total"].clone(), mine["items"][0]["status"].clone()), (json!(1), json!("upheld")));

    // Complaints are counted per resident and day.
    let limit = jiazheng_store::credit::casework::COMPLAINTS_PER_DAY;
    for _ in 1..limit {
        assert_eq!(app.post_json("/api/v1/complaints", &resident, &complaint).await.0, 201);
    }
    assert_eq!(
        app.post_json("/api/v1/complaints", &resident, &complaint).await.0,
        429,
        "the day's complaints are used"
    );
}

#[tokio::test]
async fn a_returned_false_entry_counts_against_the_agency_until_its_appeal_is_granted() {
    let app = TestApp::spawn().await;
    let worker = app.employ(32, "孙丽华", "cleaning").await;
    let today = jiazheng_server::api::workers::today();
    jiazheng_store::testing::give_cleaning_records(&app.db.store, app.agency_a, worker, today, today).await.unwrap();
    let regulator = app.token("city").await;
    let agency = app.token("agency_a").await;
    assert_eq!(app.get_json("/api/v1/credit/review-queue", Some(&agency)).await.0, 403);
    let (_, queue) = app.get_json("/api/v1/credit/review-queue", Some(&regulator)).await;
    let queued: Vec<&Value> = queue["items"].as_array().unwrap().iter().filter(|e| e["worker_id"] == worker).collect();
    assert!(queued.len() >= 3, "{queue}");
    let health = queued.iter().find(|e| e["kind"] == "health_check").unwrap()["seq"].as_i64().unwrap();
    let training = queued.iter().find(|e| e["kind"] == "training").unwrap()["seq"].as_i64().unwrap();

    let review = |seq: i64| format!("/api/v1/credit/entries/{seq}/review");
    let (status, body) =
        app.post_json(&review(training), &regulator, &json!({"decision": "approved", "false_entry": true})).await;
    assert_eq!((status, fields(&body)), (422, vec!["false_entry".to_string()]));
    assert_eq!(app.post_json(&review(training), &regulator, &json!({"decision": "approved"})).await.0, 200);
    assert_eq!(app.post_json(&review(training), &regulator, &json!({"decision": "approved"})).await.0, 409);
    let (status, body) = app.post_json(&review(health), &regulator, &json!({"decision": "returned"})).await;
    assert_eq!((status, fields(&body)), (422, vec!["reason".to_string()]), "a return says why");
    let returned = json!({"decision": "returned", "reason": "体检机构无此记录", "false_entry": true});
    let (status, reviewed) = app.post_json(&review(health), &regulator, &returned).await;
    assert_eq!(status, 200, "{reviewed}");
    let correction = reviewed["correction_seq"].as_i64().unwrap();
    assert_eq!(health_standing(&app, &agency, worker).await, "missing", "a returned record stops counting");

    let (_, queue) = app.get_json("/api/v1/credit/review-queue", Some(&regulator)).await;
    assert!(queue["items"].as_array().unwrap().iter().all(|e| e["seq"] != health && e["seq"] != training));
    // The timeline keeps the original beside the correction that withdrew it.
    let (_, ledger) = app.get_json(&format!("/api/v1/workers/{worker}/ledger"), Some(&agency)).await;
    let entries = ledger.as_array().unwrap();
    assert!(entries.iter().any(|e| e["seq"] == health));
    assert!(entries.iter().any(|e| e["seq"] == correction && e["corrects"] == health));

    let grade_url = format!("/api/v1/agencies/{}/grade", app.agency_a);
    let against =
        has_contribution(&app.get_json(&grade_url, None).await.1, "false entr").expect("counted against the agency");
    let false_seq = against["entries"][0].as_i64().unwrap();

    let appeal = format!("/api/v1/credit/entries/{false_seq}/appeals");
    let reason = json!({"reason": "体检机构系统故障，已补开证明"});
    assert_eq!(app.post_json(&appeal, &app.token("agency_b").await, &reason).await.0, 403, "not theirs");
    assert_eq!(app.post_json(&appeal, &agency, &json!({"reason": ""})).await.0, 422);
    let (status, filed) = app.post_json(&appeal, &agency, &reason).await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(app.post_json(&appeal, &agency, &reason).await.0, 409, "one open appeal per entry");
    let decide = format!("/api/v1/appeals/{}/decision", filed["id"]);
    assert_eq!(app.post_json(&decide, &regulator, &json!({"decision": "granted"})).await.0, 422);
    let (status, decided) =
        app.post_json(&decide, &regulator, &json!({"decision": "granted", "reason": "证明属实"})).await;
    assert_eq!((status, decided["status"].clone()), (200, json!("granted")));
    assert!(
        has_contribution(&app.get_json(&grade_url, None).await.1, "false entr").is_none(),
        "withdrawn by the appeal"
    );
    let entry = app.db.store.ledger_entry(decided["ledger_seq"].as_i64().unwrap()).await.unwrap();
    assert_eq!((entry.kind.as_str(), entry.corrects), ("appeal", Some(false_seq)));

    // The worker appeals the withdrawal itself; granted, the health check counts again.
    app.worker_account("sun", "孙丽华", worker).await;
    let (status, filed) =
        app.post_json(&format!("/api/v1/credit/entries/{correction}/appeals"), &app.token("sun").await, &reason).await;
    assert_eq!(status, 201, "{filed}");
    let decide = format!("/api/v1/appeals/{}/decision", filed["id"]);
    assert_eq!(
        app.post_json(&decide, &regulator, &json!({"decision": "granted", "reason": "原件核验无误"})).await.0,
        200
    );
    assert_eq!(health_standing(&app, &agency, worker).await, "met", "restored by the granted appeal");
    let (_, grade) = app.get_json(&format!("/api/v1/workers/{worker}/grade"), Some(&agency)).await;
    assert!(
        has_contribution(&grade, "health check valid").unwrap()["entries"].as_array().unwrap().contains(&json!(health))
    );
}

#[tokio::test]
async fn a_listing_takes_effect_only_after_a_second_regulator_approves_it() {
    let app = TestApp::spawn().await;
    let chaoyang = app.token("chaoyang").await;
    let nanguan = app.token("nanguan").await;
    let city = app.token("city").await;
    let proposal = json!({"subject_kind": "agency", "subject_id": app.agency_b, "list": "black",
        "reason": "多次提供虚假培训记录", "document": "长商务信〔2026〕12号"});
    let (status, body) = app.post_json("/api/v1/credit/list-proposals", &chaoyang, &json!({"list": "grey"})).await;
    assert_eq!(
        (status, fields(&body)),
        (422, vec!["subject_kind".into(), "list".into(), "reason".into(), "document".into()])
    );
    assert_eq!(app.post_json("/api/v1/credit/list-proposals", &nanguan, &proposal).await.0, 403, "outside 南关区");
    let (status, proposed) = app.post_json("/api/v1/credit/list-proposals", &chaoyang, &proposal).await;
    assert_eq!(status, 201, "{proposed}");
    assert_eq!(app.post_json("/api/v1/credit/list-proposals", &city, &proposal).await.0, 409, "one open proposal");
    let (_, black) = app.get_json("/api/v1/credit/lists/black", None).await;
    assert_eq!(black, json!([]), "not listed before review");

    let review = format!("/api/v1/credit/list-proposals/{}/review", proposed["id"]);
    let (status, body) = app.post_json(&review, &chaoyang, &json!({"decision": "approve"})).await;
    assert_eq!((status, fields(&body)), (422, vec!["decision".to_string()]), "not by the proposer");
    assert_eq!(app.post_json(&review, &nanguan, &json!({"decision": "approve"})).await.0, 403, "not outside its area");
    assert_eq!(app.post_json(&review, &city, &json!({"decision": "approve", "note": "同意"})).await.0, 200);
    let (_, black) = app.get_json("/api/v1/credit/lists/black", None).await;
    assert_eq!(
        (black[0]["subject_id"].as_i64(), black[0]["document"].clone()),
        (Some(app.agency_b), json!("长商务信〔2026〕12号"))
    );
    assert_eq!(app.get_json("/api/v1/credit/lists/grey", None).await.0, 422);
    let (_, grade) = app.get_json(&format!("/api/v1/agencies/{}/grade", app.agency_b), None).await;
    assert_eq!(grade["letter"], "D", "{grade}");

    let removal = json!({"subject_kind": "agency", "subject_id": app.agency_b, "list": "removed",
        "reason": "整改完成", "document": "长商务信〔2026〕30号"});
    let (_, proposed) = app.post_json("/api/v1/credit/list-proposals", &city, &removal).await;
    let review = format!("/api/v1/credit/list-proposals/{}/review", proposed["id"]);
    assert_eq!(app.post_json(&review, &chaoyang, &json!({"decision": "approve"})).await.0, 200);
    assert_eq!(app.get_json("/api/v1/credit/lists/black", None).await.1, json!([]));

    // Rewards and penalties carry their date, authority and document.
    let reward = json!({"subject_kind": "agency", "subject_id": app.agency_a, "kind": "reward",
        "decided_on": today(), "authority": "长春市商务局", "document": "长商务〔2026〕8号", "reason": "诚信示范企业"});
    assert_eq!(app.post_json("/api/v1/credit/actions", &app.token("resident").await, &reward).await.0, 403);
    let future = json!({"subject_kind": "agency", "subject_id": app.agency_a, "kind": "reward", "decided_on": "2099-01-01",
        "authority": "x", "document": "x", "reason": "x"});
    let (status, body) = app.post_json("/api/v1/credit/actions", &city, &future).await;
    assert_eq!((status, fields(&body)), (422, vec!["decided_on".to_string()]));
    assert_eq!(app.post_json("/api/v1/credit/actions", &city, &reward).await.0, 201);
    let (_, credit) = app.get_json(&format!("/api/v1/agencies/{}/credit", app.agency_a), None).await;
    assert_eq!(credit["actions"][0]["kind"], "reward");
    assert!(credit["actions"][0]["payload"].as_str().unwrap().contains("长商务〔2026〕8号"));
}

#[tokio::test]
async fn an_agency_releases_a_signed_credit_report_to_a_bank_with_its_consent() {
    let app = TestApp::spawn().await;
    let agency = app.token("agency_a").await;
    let url = format!("/api/v1/agencies/{}/credit-report", app.agency_a);
    let jilin = app.bank_account("jilin_bank", "吉林银行长春分行").await;
    app.bank_account("other_bank", "长春农商银行").await;
    let (status, body) = app.post_json(&url, &agency, &json!({"purpose": "流动资金贷款"})).await;
    assert_eq!((status, fields(&body)), (422, vec!["bank_id".into(), "consent".into()]), "no consent, no report");
    let request = json!({"bank_id": jilin, "purpose": "流动资金贷款", "consent": true});
    assert_eq!(app.post_json(&url, &app.token("agency_b").await, &request).await.0, 403, "only its own report");

    let response = app.client.post(app.url(&url)).bearer_auth(&agency).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let id: i64 = response.headers()["x-report-id"].to_str().unwrap().parse().unwrap();
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-") && pdf.windows(8).any(|w| w == b"FontFile"), "a PDF with its font embedded");
    let text = common::pdf_text(&pdf);
    for shown in ["家政企业信用报告", "吉林银行长春分行", "流动资金贷款", &format!("Report No. {id}"), "第 1/"]
    {
        assert!(text.contains(shown), "the PDF reads {shown:?}: {text}");
    }

    // The bank checks what it holds against the platform's signature.
    let report_url = format!("/api/v1/credit/reports/{id}");
    // Read by the bank named in the consent, the agency, and regulators over its district only.
    for (reader, expected) in [
        ("resident", 403),
        ("other_bank", 403),
        ("chaoyang", 403),
        ("agency_b", 403),
        ("jilin_bank", 200),
        ("agency_a", 200),
        ("nanguan", 200),
    ] {
        assert_eq!(app.get_json(&report_url, Some(&app.token(reader).await)).await.0, expected, "{reader}");
    }
    let (status, report) = app.get_json(&report_url, Some(&app.token("city").await)).await;
    assert_eq!(status, 200);
    assert_eq!(report["bank"], "吉林银行长春分行", "the consent names the bank");
    let content: Value = serde_json::from_str(report["content"].as_str().unwrap()).unwrap();
    assert_eq!(content["agency"]["name"], "长春市安心家政服务有限公司");
    let digest = jiazheng_core::credit::report::digest(&content);
    assert_eq!(report["digest"], hex::encode(digest));
    let (_, keys) = app.get_json("/api/v1/credit/keys", None).await;
    let keys: Vec<jiazheng_store::credit::keys::PublicKey> = serde_json::from_value(keys).unwrap();
    let key = keys.iter().find(|k| i64::from(k.key_id) == report["key_id"].as_i64().unwrap()).unwrap();
    let signature = hex::decode(report["signature"].as_str().unwrap()).unwrap();
    assert!(jiazheng_core::credit::report::is_valid(&key.verifying_key().unwrap(), &digest, &signature));
    let mut edited = content.clone();
    edited["grade"]["letter"] = json!("A+");
    let edited = jiazheng_core::credit::report::digest(&edited);
    assert!(!jiazheng_core::credit::report::is_valid(&key.verifying_key().unwrap(), &edited, &signature));
}
