//! The plan's targets over HTTP: a small city where exactly three recognised brands are more than
//! half employee-based and a fourth sits at exactly half (which does not pass); brand recognition
//! belongs to city regulators, with field errors, a 409 for a second one and an audit row each;
//! the workbook and the monthly report read back.

mod common;

use common::{TestApp, agency_form, csrf_in, id_number, pdf_text, sign_in};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use serde_json::{Value, json};

const NAMES: &[&str] = &["秀英", "桂兰", "玉兰", "淑华", "丽娟", "春梅", "海燕", "凤英"];

/// `employees` employee-based and `others` intermediary workers with active bindings.
async fn staff(app: &TestApp, agency: i64, first: u16, employees: u16, others: u16) {
    let drafts: Vec<_> = (first..first + employees + others)
        .map(|seq| {
            jiazheng_core::registry::worker::WorkerForm {
                id_number: id_number("220102", seq),
                name: format!("张{}", NAMES[usize::from(seq) % NAMES.len()]),
                phone: format!("139{:08}", 5310000 + u32::from(seq)),
                education_level: "college".into(),
                home_street: "220102001".into(),
                services: vec!["cleaning".into()],
                ..Default::default()
            }
            .parse(jiazheng_server::api::workers::today())
            .unwrap()
        })
        .collect();
    let rows: Vec<NewWorker> = drafts
        .iter()
        .enumerate()
        .map(|(i, draft)| NewWorker {
            draft,
            binding: Some(NewBinding {
                agency_id: agency,
                kind: if i < usize::from(employees) { BindingKind::Employee } else { BindingKind::Intermediary },
                active: true,
            }),
        })
        .collect();
    app.db.store.insert_workers(&rows).await.unwrap();
}

fn figure<'a>(report: &'a Value, metric: &str) -> &'a Value {
    report["area"]["figures"].as_array().unwrap().iter().find(|f| f["metric"] == metric).unwrap()
}

#[tokio::test]
async fn three_brands_pass_target_one_and_the_one_at_half_does_not() {
    let app = TestApp::spawn().await;
    let store = &app.db.store;
    let mut agencies = vec![app.agency_a, app.agency_b];
    for (body, name) in [
        ("MA0W0001", "长春市春城家政有限公司"),
        ("MA0W0002", "长春市北国家政有限公司"),
        ("MA0W0003", "长春市暖家家政有限公司"),
    ] {
        agencies.push(store.create_agency(&agency_form(body, name, "220102001").parse().unwrap()).await.unwrap());
    }
    staff(&app, agencies[0], 100, 3, 1).await; // 75%
    staff(&app, agencies[1], 200, 2, 0).await; // 100%
    staff(&app, agencies[2], 300, 2, 1).await; // 66.7%
    staff(&app, agencies[3], 400, 2, 2).await; // exactly 50%
    staff(&app, agencies[4], 500, 4, 0).await; // 100% but never recognised

    let city = app.token("city").await;
    let nanguan = app.token("nanguan").await;
    let brand = |agency: i64, name: &str| json!({"agency": agency, "brand_name": name, "document": "长商务字〔2026〕8号", "recognised_on": "2026-06-01"});
    // Only a city-wide regulator recognises; a bad form is refused field by field.
    let (status, _) = app.post_json("/api/v1/brands", &nanguan, &brand(agencies[0], "安心")).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json("/api/v1/brands", &app.token("agency_a").await, &brand(agencies[0], "安心")).await;
    assert_eq!(status, 403);
    let anonymous = app.client.post(app.url("/api/v1/brands")).json(&brand(agencies[0], "安心")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let (status, body) = app.post_json("/api/v1/brands", &city, &json!({"recognised_on": "2999-01-01"})).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> =
        body["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["agency", "brand_name", "document", "recognised_on"]);
    let (status, body) = app.post_json("/api/v1/brands", &city, &brand(999_999, "无此企业")).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("agency")), "{body}");
    for (i, agency) in agencies.iter().take(4).enumerate() {
        let (status, body) = app.post_json("/api/v1/brands", &city, &brand(*agency, &format!("品牌{i}"))).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = app.post_json("/api/v1/brands", &city, &brand(agencies[0], "再认定")).await;
    assert_eq!(status, 409, "{body}");

    let (status, report) = app.get_json("/api/v1/targets", None).await;
    assert_eq!(status, 200, "{report}");
    let one = figure(&report, "branded_employee_agencies");
    assert_eq!(
        (one["numerator"].as_i64(), one["denominator"].as_i64(), one["met"].as_bool()),
        (Some(3), Some(4), Some(true))
    );
    assert_eq!(one["live"], true);
    let share = figure(&report, "employee_share");
    assert_eq!((share["numerator"].as_i64(), share["denominator"].as_i64()), (Some(13), Some(17)));
    let (_, listed) = app.get_json("/api/v1/targets/agencies?counts=true", None).await;
    let counted: Vec<i64> =
        listed["items"].as_array().unwrap().iter().map(|l| l["agency_id"].as_i64().unwrap()).collect();
    assert_eq!(counted.len(), 3);
    assert!(!counted.contains(&agencies[3]) && !counted.contains(&agencies[4]));

    // The page says so in words; the agency at half is listed as not counting.
    let html = app.client.get(app.url("/targets")).send().await.unwrap().text().await.unwrap();
    let card = html.split("id=\"figure-branded_employee_agencies\"").nth(1).unwrap();
    let card = &card[..card.find("</li>").unwrap()];
    assert!(card.contains("3 家") && card.contains("达标") && !card.contains("未达标"), "{card}");
    let html = app.client.get(app.url("/targets/agencies")).send().await.unwrap().text().await.unwrap();
    let half = html.split("长春市北国家政有限公司").nth(1).unwrap();
    let half = &half[..half.find("</tr>").unwrap()];
    assert!(half.contains("50.0%") && half.contains(">否<"), "{half}");
    assert!(html.contains("id=\"passing\">3<"));

    // Withdrawing one brand leaves two: the target is no longer met, and the audit has it all.
    let path = format!("/api/v1/brands/{}/withdrawal", agencies[1]);
    let (status, body) = app.post_json(&path, &city, &json!({"reason": ""})).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("reason")));
    let (status, _) = app.post_json(&path, &city, &json!({"reason": "品牌已注销"})).await;
    assert_eq!(status, 204);
    let (_, report) = app.get_json("/api/v1/targets", None).await;
    assert_eq!(figure(&report, "branded_employee_agencies")["met"], false);
    let html = app.client.get(app.url("/targets")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("未达标"));
    let (status, audit) = app.get_json("/api/v1/audit?action=brand.withdraw", Some(&city)).await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["before"]["brand_name"], "品牌1");
    assert_eq!(audit["items"][0]["after"]["reason"], "品牌已注销");
    let (_, all) = app.get_json("/api/v1/audit", Some(&city)).await;
    assert_eq!(all["total"], 5, "four recognitions and a withdrawal; refused writes left nothing");
    let (status, _) = app.get_json("/api/v1/audit", Some(&nanguan)).await;
    assert_eq!(status, 403, "a district regulator does not read the city's audit");

    // The daily job writes the month; the workbook and the monthly report read it back.
    store
        .run_daily_job(
            jiazheng_server::api::workers::today(),
            &jiazheng_store::workforce::jobs::InboxDelivery,
            &|_, _| {},
        )
        .await
        .unwrap();
    let (_, series) = app.get_json("/api/v1/targets/series", None).await;
    let kept = series.as_array().unwrap().iter().find(|r| r["metric"] == "branded_employee_agencies").unwrap();
    assert_eq!(kept["numerator"], 2);
    let xlsx = app.client.get(app.url("/targets.xlsx")).send().await.unwrap();
    assert_eq!(xlsx.status(), 200);
    let columns =
        [("area", "地区 Area", "Area"), ("one", "品牌化员工制家政企业 Branded employee-based agencies", "target 1")];
    let rows = jiazheng_store::excel::read_sheet(xlsx.bytes().await.unwrap().to_vec(), &columns, |_| true).unwrap();
    assert_eq!(rows[0].1["one"], "2 家");
    assert_eq!(rows.len(), 1 + store.districts().await.unwrap().len(), "the city and each district");
    let month = jiazheng_core::oversight::targets::month_key(jiazheng_server::api::workers::today());
    let pdf = app.client.get(app.url(&format!("/targets/report.pdf?month={month}"))).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    let text = pdf_text(&pdf.bytes().await.unwrap());
    assert!(text.contains("规划目标月报") && text.contains(&month), "{text}");
    assert!(text.contains("未达标"), "two of three: not met");
    let missing = app.client.get(app.url("/targets/report.pdf?month=2001-01")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_brand_form_keeps_what_was_typed_and_says_what_is_wrong() {
    let app = TestApp::spawn().await;
    let browser = sign_in(&app, "city").await;
    let html = browser.get(app.url("/regulator/brands")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    let agency = app.agency_a.to_string();
    let form = [
        ("csrf", csrf.as_str()),
        ("agency", agency.as_str()),
        ("brand_name", "安心到家"),
        ("document", ""),
        ("recognised_on", "2026-06-01"),
    ];
    let answer = browser.post(app.url("/regulator/brands")).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.unwrap();
    assert!(html.contains("id=\"document-error\""), "the error sits beside the field");
    assert!(html.contains("value=\"安心到家\""), "the typed name is kept");
    assert!(html.contains(&format!("<option value=\"{agency}\" selected>")));
    // A district regulator reads the page but cannot recognise.
    let district = sign_in(&app, "nanguan").await;
    let html = district.get(app.url("/regulator/brands")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("id=\"recognise\""));
    let answer =
        district.post(app.url("/regulator/brands")).form(&[("csrf", csrf_in(&html).as_str())]).send().await.unwrap();
    assert_eq!(answer.status(), 403);
    let audit = district.get(app.url("/regulator/audit")).send().await.unwrap();
    assert_eq!(audit.status(), 403);
    let audit = browser.get(app.url("/regulator/audit")).send().await.unwrap();
    assert_eq!(audit.status(), 200);
}

/// Writes whose store function records its own row are not recorded twice; the others get a row
/// from the layer with the fields submitted (secrets dropped); refused writes leave nothing.
#[tokio::test]
async fn every_regulator_write_lands_in_the_audit_once() {
    let app = TestApp::spawn().await;
    let city = app.token("city").await;
    let nanguan = app.token("nanguan").await;
    let (status, _) = app.put_json("/api/v1/coverage/radius", &city, &json!({"radius_m": 1500})).await;
    assert_eq!(status, 204);
    let (status, _) = app.put_json("/api/v1/coverage/radius", &city, &json!({"radius_m": 0})).await;
    assert_eq!(status, 422);
    let year = jiazheng_server::api::workers::today().format("%Y").to_string();
    let budget = json!({"district": "220102000000", "year": year, "amount": "50000"});
    let (status, body) = app.put_json("/api/v1/subsidies/budgets", &nanguan, &budget).await;
    assert!(status == 200 || status == 204, "{status} {body}");
    let (_, audit) = app.get_json("/api/v1/audit", Some(&city)).await;
    assert_eq!(audit["total"], 2, "{audit}");
    let budget_row = &audit["items"][0];
    assert_eq!(budget_row["action"], "subsidy.budget");
    assert_eq!(budget_row["actor_name"], "nanguan");
    assert_eq!(budget_row["after"]["amount"], "50000");
    assert!(budget_row["after"].get("csrf").is_none());
    let radius = &audit["items"][1];
    assert_eq!(
        (radius["action"].as_str(), radius["before"]["radius_m"].as_i64(), radius["after"]["radius_m"].as_i64()),
        (Some("coverage.radius"), Some(1000), Some(1500))
    );
    // The page shows labels, not keys.
    let browser = sign_in(&app, "city").await;
    let html =
        browser.get(app.url("/regulator/audit?action=coverage.radius")).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("设置网点服务半径") && html.contains("服务半径（米）: 1000"),
        "field names read as words: {html}"
    );
    assert!(!html.contains("设置补贴预算</td>"), "filtered to the radius");
}

/// The public section names each published thing with its count and date; a penalty recorded by
/// a regulator shows in the rewards and penalties list with its document.
#[tokio::test]
async fn the_public_section_shows_what_is_published_and_when() {
    let app = TestApp::spawn().await;
    let city = app.token("city").await;
    let penalty = json!({"subject_kind": "agency", "subject_id": app.agency_b, "kind": "penalty",
        "decided_on": jiazheng_server::api::workers::today(), "authority": "朝阳区市场监管局",
        "document": "朝市监罚〔2026〕3号", "reason": "未明码标价"});
    assert_eq!(app.post_json("/api/v1/credit/actions", &city, &penalty).await.0, 201);
    let html = app.client.get(app.url("/disclosure")).send().await.unwrap().text().await.unwrap();
    for href in
        ["/targets", "/coverage", "/evaluations", "/libraries", "/credit/lists", "/disclosure/actions", "/agencies"]
    {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href} is listed: {html}");
    }
    let actions = html.split("href=\"/disclosure/actions\"").nth(1).unwrap();
    let actions = &actions[..actions.find("</li>").unwrap()];
    assert!(actions.contains("1 条") && actions.contains("最近更新"), "{actions}");
    let list = app.client.get(app.url("/disclosure/actions?kind=penalty")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("朝市监罚〔2026〕3号") && list.contains("朝阳区好帮手家政") && list.contains("行政处罚"));
    let rewards =
        app.client.get(app.url("/disclosure/actions?kind=reward")).send().await.unwrap().text().await.unwrap();
    assert!(!rewards.contains("朝市监罚"));
}
