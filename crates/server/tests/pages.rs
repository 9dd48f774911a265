//! The server-rendered pages over HTTP: sign-in, CSRF, object-level access, language, uploads.

mod common;

use common::{PASSWORD, TestApp, browser_client, csrf_in, id_number, pdf_images, sign_in};
use reqwest::multipart;

#[tokio::test]
async fn sign_in_needs_the_form_token_and_wrong_passwords_say_so() {
    let app = TestApp::spawn().await;
    let forged = browser_client()
        .post(app.url("/login"))
        .form(&[("username", "agency_a"), ("password", PASSWORD), ("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let client = browser_client();
    let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let wrong = client
        .post(app.url("/login"))
        .form(&[("username", "agency_a"), ("password", "nope"), ("csrf", &csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("用户名或密码错误"));
}

#[tokio::test]
async fn the_worker_form_refuses_a_forged_post_and_shows_field_errors() {
    let app = TestApp::spawn().await;
    let client = sign_in(&app, "agency_a").await;
    let form_page = client.get(app.url("/agency/workers/new")).send().await.unwrap().text().await.unwrap();
    let fields = |csrf: &str, id: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("id_number", id.to_string()),
            ("name", "周敏".to_string()),
            ("phone", "13904310000".to_string()),
            ("education_level", "senior".to_string()),
            ("home_street", "220102001".to_string()),
            ("services", "cleaning".to_string()),
            ("services", "childcare".to_string()),
        ]
    };
    let good = id_number("220102", 40);
    let forged = client.post(app.url("/agency/workers/new")).form(&fields("forged", &good)).send().await.unwrap();
    assert_eq!(forged.status(), 400);
    assert_eq!(app.worker_count().await, 0);

    let csrf = csrf_in(&form_page);
    let bad = client.post(app.url("/agency/workers/new")).form(&fields(&csrf, "22010219850612")).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"id_number-error\">身份证号码应为18位"), "{html}");
    assert_eq!(app.worker_count().await, 0);

    let created = client.post(app.url("/agency/workers/new")).form(&fields(&csrf, &good)).send().await.unwrap();
    assert_eq!(created.status(), 303);
    let worker = app.db.store.worker_id_by_id_number(&good).await.unwrap().unwrap();
    let stored = app.db.store.worker(worker).await.unwrap();
    assert_eq!(jiazheng_core::registry::ServiceSet::from_bits(stored.services).kinds().len(), 2);
    let again = client.post(app.url("/agency/workers/new")).form(&fields(&csrf, &good)).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains(&format!("/workers/{worker}")));

    // Until the worker confirms, the registering agency cannot open the edit page either.
    let edit_url = app.url(&format!("/agency/workers/{worker}/edit"));
    assert_eq!(client.get(&edit_url).send().await.unwrap().status(), 403);
    app.confirm_binding(worker, app.agency_a).await;
    // Another agency cannot open the edit page, which shows the identifiers unmasked.
    let other = sign_in(&app, "agency_b").await;
    assert_eq!(other.get(app.url(&format!("/agency/workers/{worker}/edit"))).send().await.unwrap().status(), 403);
    let edit =
        client.get(app.url(&format!("/agency/workers/{worker}/edit"))).send().await.unwrap().text().await.unwrap();
    assert!(edit.contains(&good));
    assert_eq!(app.db.store.access_log("worker", worker).await.unwrap().len(), 1);
}

#[tokio::test]
async fn pages_check_roles_and_regulators_see_only_their_district() {
    let app = TestApp::spawn().await;
    let anonymous = browser_client();
    let response = anonymous.get(app.url("/agency/workers")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("请先登录"));
    let agency = sign_in(&app, "agency_a").await;
    assert_eq!(agency.get(app.url("/regulator")).send().await.unwrap().status(), 403);

    let nanguan = sign_in(&app, "nanguan").await;
    let html = nanguan.get(app.url("/regulator")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("南关区") && html.contains("长春市安心家政服务有限公司"));
    assert!(!html.contains("朝阳区好帮手家政"));
    let city = sign_in(&app, "city").await;
    let html = city.get(app.url("/regulator")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("朝阳区好帮手家政") && html.contains("长春市安心家政服务有限公司"));
    // A district regulator asking for another district still gets their own.
    let html = nanguan.get(app.url("/regulator/workers?district=220104")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("value=\"220102000000\" selected"), "scope kept");
}

#[tokio::test]
async fn the_language_switch_sets_a_cookie_and_returns_to_the_page() {
    let app = TestApp::spawn().await;
    let client = browser_client();
    let response = client.get(app.url("/lang/en")).header("referer", app.url("/agencies?q=x")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/agencies?q=x");
    let html = client.get(app.url("/agencies")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Unified social credit code"));
    let evil = client.get(app.url("/lang/zh-CN")).header("referer", "http://evil.example//x").send().await.unwrap();
    assert_eq!(evil.headers()["location"], "/");
}

#[tokio::test]
async fn upload_import_reports_bad_rows_and_export_downloads() {
    let app = TestApp::spawn().await;
    let client = sign_in(&app, "agency_a").await;
    let page = client.get(app.url("/agency/import")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&page);
    let template = client.get(app.url("/templates/workers.xlsx")).send().await.unwrap().bytes().await.unwrap();
    assert!(template.starts_with(b"PK"));

    let line = |seq: u16, phone: &str| jiazheng_store::excel::WorkerLine {
        id_number: id_number("220102", seq),
        name: "吴丽".into(),
        phone: phone.into(),
        ethnicity: "汉族".into(),
        education_level: jiazheng_core::registry::worker::EducationLevel::Senior,
        education_major: None,
        education_related: false,
        home_street: "220102001000".into(),
        services: [jiazheng_core::registry::ServiceKind::Cleaning].into_iter().collect(),
        kind: jiazheng_core::registry::binding::BindingKind::Employee,
    };
    let sheet = jiazheng_store::excel::workers_sheet(&[line(51, "13900000051"), line(52, "123")]).unwrap();
    let upload = |skip: bool| {
        let mut form = multipart::Form::new()
            .text("csrf", csrf.clone())
            .part("file", multipart::Part::bytes(sheet.clone()).file_name("w.xlsx"));
        if skip {
            form = form.text("skip_invalid", "yes");
        }
        client.post(app.url("/agency/import")).multipart(form).send()
    };
    // Not a workbook: the same page, the choice of kind kept, the error beside the file field.
    let form = multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("kind", "training")
        .part("file", multipart::Part::bytes(b"name,phone\n".to_vec()).file_name("w.csv"));
    let wrong = client.post(app.url("/agency/import")).multipart(form).send().await.unwrap();
    assert_eq!(wrong.status(), 422);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("id=\"file-error\"") && wrong.contains("不是有效的 Excel"), "{wrong}");
    assert!(wrong.contains("value=\"training\" selected") && wrong.contains("action=\"/logout\""), "kept, signed in");
    let refused = upload(false).await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("手机号码应为1开头"));
    assert_eq!(app.worker_count().await, 0);
    let report = client.get(app.url("/agency/import/errors.xlsx")).send().await.unwrap();
    let report = jiazheng_store::excel::read_worker_rows(report.bytes().await.unwrap().to_vec());
    assert!(report.is_err(), "the report has its own columns");

    assert_eq!(upload(true).await.unwrap().status(), 422);
    assert_eq!(app.worker_count().await, 1);
    let imported = app.db.store.worker_id_by_id_number(&id_number("220102", 51)).await.unwrap().unwrap();
    app.confirm_binding(imported, app.agency_a).await;
    let export = client.get(app.url("/agency/workers.xlsx")).send().await.unwrap();
    assert_eq!(export.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let rows = jiazheng_store::excel::read_worker_rows(export.bytes().await.unwrap().to_vec()).unwrap();
    assert_eq!((rows.len(), rows[0].form.id_number.as_str()), (1, id_number("220102", 51).as_str()));
}

#[tokio::test]
async fn a_worker_sees_their_own_record_and_answers_binding_requests() {
    let app = TestApp::spawn().await;
    let store = &app.db.store;
    let number = id_number("220102", 60);
    let draft = jiazheng_core::registry::worker::WorkerForm {
        id_number: number.clone(),
        name: "何淑珍".into(),
        phone: "13904316060".into(),
        education_level: "junior".into(),
        home_street: "220102001".into(),
        services: vec!["cleaning".into()],
        ..Default::default()
    }
    .parse(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap())
    .unwrap();
    let kind = jiazheng_core::registry::binding::BindingKind::Employee;
    let worker = store.create_worker(&draft, Some((app.agency_a, kind))).await.unwrap();
    app.worker_account("hsz", "何淑珍", worker).await;
    let client = sign_in(&app, "hsz").await;
    let html = client.get(app.url("/me")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&number) && html.contains("13904316060"), "the worker reads their own identifiers");
    let binding = store.open_binding(worker, app.agency_a).await.unwrap().unwrap();
    assert!(html.contains(&format!("/me/bindings/{}/confirm", binding.id)));
    let confirm = client
        .post(app.url(&format!("/me/bindings/{}/confirm", binding.id)))
        .form(&[("csrf", csrf_in(&html))])
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 303);
    assert_eq!(store.binding(binding.id).await.unwrap().status, "active");
    // The worker asks the other agency to take them on; that agency sees the request.
    let html = client.get(app.url("/me")).send().await.unwrap().text().await.unwrap();
    // By the name the worker knows, not a code to copy; a name that fits nothing says so.
    let ask = |name: &'static str| {
        client
            .post(app.url("/me/bindings"))
            .form(&[("csrf", csrf_in(&html)), ("uscc", name.to_string()), ("kind", "intermediary".into())])
            .send()
    };
    let unknown = ask("没有这家家政公司").await.unwrap();
    assert_eq!(unknown.status(), 422);
    assert!(unknown.text().await.unwrap().contains("没有找到这家企业"));
    assert_eq!(ask("朝阳区好帮手家政").await.unwrap().status(), 303);
    let request = store.open_binding(worker, app.agency_b).await.unwrap().unwrap();
    assert_eq!((request.requested_by.as_str(), request.kind.as_str()), ("worker", "intermediary"));
    let agency_b = sign_in(&app, "agency_b").await;
    let pending = agency_b.get(app.url("/agency/bindings")).send().await.unwrap().text().await.unwrap();
    assert!(pending.contains(&format!("/agency/bindings/{}/confirm", request.id)));
    // An agency admin has no worker page.
    let agency = sign_in(&app, "agency_a").await;
    assert_eq!(agency.get(app.url("/me")).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn agency_admins_open_and_close_service_points_with_field_errors() {
    let app = TestApp::spawn().await;
    let client = sign_in(&app, "agency_a").await;
    let html = client.get(app.url("/agency/points")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&html);
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(&str, String)> = vec![("csrf", csrf.clone())];
        form.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
        client.post(app.url("/agency/points")).form(&form).send()
    };
    let bad = post(vec![
        ("name", "华阳站"),
        ("community_code", "220102001"),
        ("address", "华阳街1号"),
        ("opening_hours", "8-18"),
    ])
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("id=\"community_code-error\">请填写12位村（居）委会代码"));
    let unknown = post(vec![
        ("name", "华阳站"),
        ("community_code", "220102001001"),
        ("address", "华阳街1号"),
        ("opening_hours", "8-18"),
        ("serves", "220102001999"),
    ])
    .await
    .unwrap();
    assert_eq!(unknown.status(), 422);
    let points = |store: &jiazheng_store::Store| {
        let store = store.clone();
        async move { store.service_points(None, None, jiazheng_store::PageRequest::default()).await.unwrap() }
    };
    assert_eq!(points(&app.db.store).await.total, 0);
    let good = post(vec![
        ("name", "华阳站"),
        ("community_code", "220102001001"),
        ("address", "华阳街1号"),
        ("opening_hours", "8-18"),
        ("serves", "220102001002, 220102001003"),
    ])
    .await
    .unwrap();
    assert_eq!(good.status(), 303);
    let listed = points(&app.db.store).await;
    assert_eq!((listed.total, listed.items[0].communities_served), (1, 3));
    let id = listed.items[0].id;
    let other = sign_in(&app, "agency_b").await;
    let html_b = other.get(app.url("/agency/points")).send().await.unwrap().text().await.unwrap();
    let foreign = other
        .post(app.url(&format!("/agency/points/{id}/close")))
        .form(&[("csrf", csrf_in(&html_b))])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);
    let closed = client
        .post(app.url(&format!("/agency/points/{id}/close")))
        .form(&[("csrf", csrf.clone())])
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 303);
    assert_eq!(points(&app.db.store).await.items[0].status, "closed");
}

#[tokio::test]
async fn the_record_form_shows_field_errors_keeps_what_was_typed_and_saves_a_good_record() {
    let app = TestApp::spawn().await;
    let client = sign_in(&app, "agency_a").await;
    let token = app.token("agency_a").await;
    let (_, created) = app
        .post_json("/api/v1/workers", &token, &common::worker_json(&id_number("220102", 61), "郑云", "220102001"))
        .await;
    let worker = created["id"].as_i64().unwrap();
    app.confirm_binding(worker, app.agency_a).await;
    let form_url = app.url(&format!("/agency/workers/{worker}/records/health"));
    let page = client.get(&form_url).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&page);
    let future = (jiazheng_server::api::workers::today() + chrono::Duration::days(2)).to_string();
    let fields = |date: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("checked_on", date.to_string()),
            ("institution", "南关区疾控中心".to_string()),
            ("category", "maternity".to_string()),
            ("result", "pass".to_string()),
        ]
    };
    let bad = client.post(&form_url).form(&fields(&future)).send().await.unwrap();
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(html.contains("日期不能晚于今天"), "the reason is shown");
    assert!(
        html.contains("id=\"f-checked_on\" name=\"checked_on\" type=\"date\" value=\"")
            && html.contains("aria-invalid=\"true\"")
    );
    assert!(html.contains("南关区疾控中心"), "typed values are kept");
    assert!(app.db.store.workforce_record(worker, true).await.unwrap().health_checks.is_empty());

    let good = client.post(&form_url).form(&fields("2026-10-01")).send().await.unwrap();
    assert_eq!(good.status(), 303);
    let record = client.get(app.url(&format!("/agency/workers/{worker}/workforce"))).send().await.unwrap();
    let html = record.text().await.unwrap();
    assert!(html.contains("2026-10-01 → 2027-10-01") && html.contains("母婴照护类"), "the new check is listed");
    let forged = browser_client().post(&form_url).form(&fields("2026-10-01")).send().await.unwrap();
    assert_eq!(forged.status(), 401, "no session, no write");
    let other = sign_in(&app, "agency_b").await;
    assert_eq!(other.get(&form_url).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn regulators_see_workforce_rates_and_others_do_not() {
    let app = TestApp::spawn().await;
    let empty = sign_in(&app, "city").await.get(app.url("/regulator/workforce")).send().await.unwrap();
    assert!(empty.text().await.unwrap().contains("jiazheng jobs run"), "says how to get figures");
    app.db
        .store
        .run_daily_job(
            jiazheng_server::api::workers::today(),
            &jiazheng_store::workforce::jobs::InboxDelivery,
            &|_, _| {},
        )
        .await
        .unwrap();
    let page = sign_in(&app, "city").await.get(app.url("/regulator/workforce")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"city-rates\"") && html.contains("家政相关学历"), "the education bar is drawn");
    let agency = sign_in(&app, "agency_a").await.get(app.url("/regulator/workforce")).send().await.unwrap();
    assert_eq!(agency.status(), 403);
}

#[tokio::test]
async fn the_agency_prints_a_card_whose_qr_link_checks_out() {
    let app = TestApp::spawn().await;
    let worker = app.employ(81, "孙丽华", "cleaning").await;
    let client = sign_in(&app, "agency_a").await;
    let page =
        client.get(app.url(&format!("/agency/workers/{worker}/workforce"))).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&page);
    let card = format!("/agency/workers/{worker}/card");
    let refused = client.post(app.url(&card)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(refused.status(), 422, "no records, no identity check: no card");
    assert!(refused.text().await.unwrap().contains("身份尚未核验"));

    let today = jiazheng_server::api::workers::today();
    let store = &app.db.store;
    jiazheng_store::testing::give_cleaning_records(
        store,
        app.agency_a,
        worker,
        today - chrono::Duration::days(5),
        today,
    )
    .await
    .unwrap();
    store.verify_identity(worker, format!("agency:{}", app.agency_a), None, "id_card").await.unwrap();
    let printed = client.post(app.url(&card)).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(printed.status(), 303, "issued, then shown at its own address");
    assert_eq!(printed.headers()["location"], card.as_str());
    let issued = store.current_card(worker).await.unwrap().unwrap().0;
    let html = client.get(app.url(&card)).send().await.unwrap().text().await.unwrap();
    let again = client.get(app.url(&card)).send().await.unwrap().text().await.unwrap();
    assert_eq!(store.current_card(worker).await.unwrap().unwrap().0, issued, "looking again issues nothing");
    assert!(again.contains(&issued));
    assert!(html.contains("<svg") && html.contains("孙丽华") && html.contains("JZ-220102-"), "the card has a QR code");
    let marker = "id=\"card-link\" class=\"long-link\">";
    let start = html.find(marker).unwrap() + marker.len();
    let link = html[start..].split('<').next().unwrap();
    let door = reqwest::get(link).await.unwrap();
    assert_eq!(door.status(), 200, "{link}");
    assert!(door.text().await.unwrap().contains("data-colour=\"green\""));
}

/// A PNG of `width` × `height` with a text chunk naming a place, as a phone might leave.
fn tagged_png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut plain = Vec::new();
    picture.write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Png).unwrap();
    // A tEXt chunk after the header chunk (8 + 25 bytes); its checksum is not checked by decoders.
    let text = b"Location\0GPS 43.88N 125.35E";
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(text);
    chunk.extend_from_slice(&[0, 0, 0, 0]);
    [&plain[..33], &chunk[..], &plain[33..]].concat()
}

async fn upload_photo(client: &reqwest::Client, url: String, csrf: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("photo.png").mime_str("image/png").unwrap();
    let form = reqwest::multipart::Form::new().text("csrf", csrf.to_string()).part("photo", part);
    client.post(url).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn a_photo_is_reencoded_shown_to_those_allowed_and_printed_on_the_card() {
    let app = TestApp::spawn().await;
    let worker = app.employ(84, "周雅琴", "cleaning").await;
    let agency = sign_in(&app, "agency_a").await;
    let record = format!("/agency/workers/{worker}/workforce");
    let page = agency.get(app.url(&record)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("尚无照片"), "no photo yet");
    let csrf = csrf_in(&page);
    let upload = format!("/agency/workers/{worker}/photo");

    let refused = upload_photo(&agency, app.url(&upload), &csrf, b"%PDF-1.7 a contract, not a face".to_vec()).await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("id=\"photo-error\"") && refused.contains("不是有效的 JPEG 或 PNG 图片"), "{refused}");
    assert!(refused.contains("周雅琴") && refused.contains("退出"), "the same page, still signed in");
    let tiny = upload_photo(&agency, app.url(&upload), &csrf, tagged_png(60, 80)).await;
    assert_eq!(tiny.status(), 422);
    assert!(tiny.text().await.unwrap().contains("照片太小"));
    let forged = upload_photo(&agency, app.url(&upload), "not-the-token", tagged_png(600, 800)).await;
    assert_eq!(forged.status(), 400);
    let other_agency = sign_in(&app, "agency_b").await;
    let b_page = other_agency.get(app.url("/agency/workers")).send().await.unwrap().text().await.unwrap();
    let b_upload = upload_photo(&other_agency, app.url(&upload), &csrf_in(&b_page), tagged_png(600, 800)).await;
    assert_eq!(b_upload.status(), 403, "another agency cannot change this worker's face");
    assert!(app.db.store.photo(worker).await.unwrap().is_none(), "nothing kept from refused uploads");

    let saved = upload_photo(&agency, app.url(&upload), &csrf, tagged_png(900, 1000)).await;
    assert_eq!(saved.status(), 303);
    let page = agency.get(app.url(&record)).send().await.unwrap().text().await.unwrap();
    let marker = "id=\"photo-image\" src=\"";
    let start = page.find(marker).expect("the photo is shown") + marker.len();
    let src = page[start..].split('"').next().unwrap().replace("&amp;", "&");
    assert!(src.starts_with(&format!("/workers/{worker}/photo.jpg?v=")), "{src}");
    let served = agency.get(app.url(&src)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert!(served.headers()["cache-control"].to_str().unwrap().starts_with("private"));
    let jpeg = served.bytes().await.unwrap().to_vec();
    let stored = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((stored.width(), stored.height()), (360, 480), "cropped to a 3:4 portrait");
    assert!(!jpeg.windows(3).any(|w| w == b"GPS"), "the place it was taken is not kept");

    // Only those who may see the record see the face; the public worker page does not show it.
    assert_eq!(other_agency.get(app.url(&src)).send().await.unwrap().status(), 403);
    assert_eq!(reqwest::get(app.url(&src)).await.unwrap().status(), 401);
    assert_eq!(sign_in(&app, "city").await.get(app.url(&src)).send().await.unwrap().status(), 200);
    let public = reqwest::get(app.url(&format!("/workers/{worker}"))).await.unwrap().text().await.unwrap();
    assert!(!public.contains("photo.jpg"));

    // On the card, on its PDF and on the door page its QR code opens; not for a typed number.
    let today = jiazheng_server::api::workers::today();
    let store = &app.db.store;
    jiazheng_store::testing::give_cleaning_records(
        store,
        app.agency_a,
        worker,
        today - chrono::Duration::days(5),
        today,
    )
    .await
    .unwrap();
    store.verify_identity(worker, format!("agency:{}", app.agency_a), None, "id_card").await.unwrap();
    let card_url = app.url(&format!("/agency/workers/{worker}/card"));
    let issued = agency.post(&card_url).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(issued.status(), 303);
    let card = agency.get(&card_url).send().await.unwrap().text().await.unwrap();
    assert!(card.contains("id=\"card-photo\""), "{card}");
    let pdf = agency.get(app.url(&format!("/agency/workers/{worker}/card.pdf"))).send().await.unwrap();
    let pdf = pdf.bytes().await.unwrap().to_vec();
    assert_eq!(pdf_images(&pdf), vec![(360, 480)], "the photo printed on the card");
    let marker = "id=\"card-link\" class=\"long-link\">";
    let start = card.find(marker).unwrap() + marker.len();
    let link = card[start..].split('<').next().unwrap().to_string();
    let door = reqwest::get(&link).await.unwrap().text().await.unwrap();
    assert!(door.contains("id=\"door-photo\""), "{door}");
    let face = reqwest::get(format!("{link}/photo.jpg")).await.unwrap();
    assert_eq!(face.status(), 200);
    assert_eq!(face.bytes().await.unwrap().to_vec(), jpeg);
    let (base, token) = link.rsplit_once('/').unwrap();
    let forged = format!("{base}/{}x/photo.jpg", &token[..token.len() - 1]);
    assert_eq!(reqwest::get(forged).await.unwrap().status(), 404, "a forged token shows no face");
    let number = store.current_card(worker).await.unwrap().unwrap().0;
    let typed = reqwest::get(app.url(&format!("/certificates/check?number={number}"))).await.unwrap();
    assert!(!typed.text().await.unwrap().contains("photo.jpg"), "a typed number shows no face");

    // The worker sees and replaces their own photo; the door page then shows the new one.
    app.worker_account("zhouyaqin", "周雅琴", worker).await;
    let me = sign_in(&app, "zhouyaqin").await;
    let own = me.get(app.url("/me")).send().await.unwrap().text().await.unwrap();
    assert!(own.contains(&src.replace('&', "&amp;")), "the worker sees the photo");
    assert_eq!(upload_photo(&me, app.url("/me/photo"), &csrf_in(&own), tagged_png(400, 300)).await.status(), 303);
    let door = reqwest::get(&link).await.unwrap().text().await.unwrap();
    let new_digest = app.db.store.photo(worker).await.unwrap().unwrap().digest;
    assert!(door.contains(&new_digest[..12]), "the door page follows the change");
}

#[tokio::test]
async fn a_resident_rates_and_complains_and_the_regulator_decides_on_pages() {
    let app = TestApp::spawn().await;
    let worker = app.employ(82, "钱玉梅", "cleaning").await;
    let agency = sign_in(&app, "agency_a").await;
    let desk = agency.get(app.url("/agency/credit")).send().await.unwrap().text().await.unwrap();
    assert!(desk.contains("id=\"grade-letter\""), "the agency sees its own grade");
    let today = jiazheng_server::api::workers::today().to_string();
    let worker_id = worker.to_string();
    let desk_csrf = csrf_in(&desk);
    let service = [
        ("csrf", desk_csrf.as_str()),
        ("worker_id", worker_id.as_str()),
        ("resident", "resident"),
        ("service", "cleaning"),
        ("performed_on", today.as_str()),
    ];
    // The worker is picked from the agency's list: the form names them, nobody types a number.
    let list = agency.get(app.url("/agency/workers")).send().await.unwrap().text().await.unwrap();
    let form_url = format!("/agency/services/new?worker={worker}");
    assert!(list.contains(&form_url.replace('&', "&amp;")), "a 记录服务 link on the worker's row");
    let form = agency.get(app.url(&form_url)).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("钱玉梅") && form.contains("日常保洁"), "{form}");
    let other = app.employ_at(app.agency_b, 83, "别家的", "cleaning").await;
    let refused = agency.get(app.url(&format!("/agency/services/new?worker={other}"))).send().await.unwrap();
    assert_eq!(refused.status(), 403, "not the agency's worker");
    let mut blank = service;
    blank[2] = ("resident", "");
    blank[4] = ("performed_on", "2020-13-40");
    let again = agency.post(app.url("/agency/services")).form(&blank).send().await.unwrap();
    assert_eq!(again.status(), 422);
    let again = again.text().await.unwrap();
    assert!(again.contains("id=\"resident-error\"") && again.contains("id=\"performed-on-error\""), "{again}");
    assert!(again.contains("value=\"2020-13-40\"") && again.contains("钱玉梅"), "what was typed is kept");
    let recorded = agency.post(app.url("/agency/services")).form(&service).send().await.unwrap();
    assert_eq!(recorded.status(), 303);
    assert_eq!(recorded.headers()["location"], "/agency/credit?recorded=1#services");
    let desk = agency.get(app.url("/agency/credit?recorded=1")).send().await.unwrap().text().await.unwrap();
    assert!(desk.contains("id=\"recorded\""), "a confirmation");

    let resident = sign_in(&app, "resident").await;
    let mine = resident.get(app.url("/my/services")).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("钱玉梅"), "{mine}");
    let csrf = csrf_in(&mine);
    let id = app.db.store.services_of_agency(app.agency_a).await.unwrap()[0].id;
    let confirm = resident.post(app.url(&format!("/my/services/{id}/confirm"))).form(&[("csrf", &csrf)]).send();
    assert_eq!(confirm.await.unwrap().status(), 303);
    let rate = |stars: &'static str| {
        let form = [
            ("csrf", csrf.clone()),
            ("quality", stars.into()),
            ("punctuality", "4".into()),
            ("attitude", "5".into()),
            ("communication", "4".into()),
            ("comment", "准时细致".into()),
        ];
        resident.post(app.url(&format!("/my/services/{id}/rating"))).form(&form).send()
    };
    let refused = rate("9").await.unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("请给出1到5星"));
    assert_eq!(rate("5").await.unwrap().status(), 303);
    let mine = resident.get(app.url("/my/services")).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("已评价"));
    let agency_id = app.agency_a.to_string();
    // The complaint starts from the service: nobody types which agency or which service.
    let link = format!("/my/complaints/new?service={id}&amp;against=agency");
    assert!(mine.contains(&link), "a complaint button on the service: {mine}");
    let form = resident.get(app.url(&link.replace("&amp;", "&"))).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("id=\"complaint-subject\"") && form.contains("日常保洁"), "{form}");
    assert!(!form.contains("name=\"subject_id\"") && !form.contains("inputmode=\"numeric\""), "no number to type");
    let service_id = id.to_string();
    let complaint = |body: &'static str| {
        [("csrf", csrf.clone()), ("service", service_id.clone()), ("against", "agency".into()), ("body", body.into())]
    };
    let blank = resident.post(app.url("/my/complaints")).form(&complaint("  ")).send().await.unwrap();
    assert_eq!(blank.status(), 422);
    let blank = blank.text().await.unwrap();
    assert!(blank.contains("id=\"body-error\"") && blank.contains("id=\"complaint-subject\""), "{blank}");
    let filed = resident.post(app.url("/my/complaints")).form(&complaint("收费高于公示价格")).send().await.unwrap();
    assert_eq!(filed.status(), 303);
    let back = filed.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with("/my/services?filed="), "{back}");
    let mine = resident.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(mine.contains("id=\"filed\"") && mine.contains("已提交"), "{mine}");
    // Without a subject the page says where to start, beside the form; another's service is not found.
    let nothing = resident.post(app.url("/my/complaints")).form(&[("csrf", csrf.as_str()), ("body", "x")]).send();
    let nothing = nothing.await.unwrap();
    assert_eq!(nothing.status(), 422);
    assert!(nothing.text().await.unwrap().contains("id=\"subject-error\""));
    let other_service = app.db.store.services_of_agency(app.agency_a).await.unwrap()[0].id + 1000;
    let missing = resident.get(app.url(&format!("/my/complaints/new?service={other_service}"))).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    // From an agency's page, a resident sees the button; a visitor does not.
    let agency_page =
        resident.get(app.url(&format!("/agencies/{agency_id}"))).send().await.unwrap().text().await.unwrap();
    assert!(agency_page.contains(&format!("/my/complaints/new?agency={agency_id}")));
    let public = reqwest::get(app.url(&format!("/agencies/{agency_id}"))).await.unwrap().text().await.unwrap();
    assert!(!public.contains("/my/complaints/new"));

    let city = sign_in(&app, "city").await;
    assert_eq!(resident.get(app.url("/regulator/credit")).send().await.unwrap().status(), 403);
    let page = city.get(app.url("/regulator/credit")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("收费高于公示价格") && page.contains("value=\"acknowledge\""), "{page}");
    let csrf = csrf_in(&page);
    let complaint_id =
        app.db.store.complaints(None, None, None, jiazheng_store::PageRequest::new(None, None)).await.unwrap().items[0]
            .id;
    let decide = |decision: &'static str, reason: &'static str| {
        city.post(app.url(&format!("/regulator/complaints/{complaint_id}")))
            .form(&[("csrf", csrf.as_str()), ("decision", decision), ("reason", reason)])
            .send()
    };
    assert_eq!(decide("acknowledge", "").await.unwrap().status(), 303);
    assert_eq!(decide("uphold", "").await.unwrap().status(), 422, "a decision needs a reason");
    assert_eq!(decide("uphold", "核实多收费用").await.unwrap().status(), 303);

    let public = reqwest::get(app.url(&format!("/agencies/{}", app.agency_a))).await.unwrap().text().await.unwrap();
    assert!(public.contains("id=\"grade-letter\"") && public.contains("(1 / 1)"), "complaint rate shown");

    // The regulator names the agency as people know it; a name that fits nothing stays on the
    // form with what was typed and the reason beside the field.
    let listing = |subject: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("subject_kind", "agency".to_string()),
            ("subject", subject.to_string()),
            ("list", "black".to_string()),
            ("reason", "多次投诉成立".to_string()),
            ("document", "长商务信〔2026〕40号".to_string()),
        ]
    };
    let unknown = city.post(app.url("/regulator/listings")).form(&listing("长春市不存在家政")).send().await.unwrap();
    assert_eq!(unknown.status(), 422);
    let unknown = unknown.text().await.unwrap();
    assert!(unknown.contains("id=\"listing-subject-error\"") && unknown.contains("没有找到这家企业"), "{unknown}");
    assert!(unknown.contains("value=\"长春市不存在家政\"") && unknown.contains("value=\"长商务信〔2026〕40号\""));
    assert!(!unknown.contains("name=\"subject_id\""), "no number to type");
    // A district regulator naming an agency of another district by its credit code hears "not
    // found", as for one that does not exist, with the form kept.
    let chaoyang = sign_in(&app, "chaoyang").await;
    let csrf_c = csrf_in(&chaoyang.get(app.url("/regulator/credit")).send().await.unwrap().text().await.unwrap());
    let mut outside = listing("");
    outside[0].1 = csrf_c;
    outside[2].1 = app.db.store.agency(app.agency_a).await.unwrap().uscc;
    let outside = chaoyang.post(app.url("/regulator/listings")).form(&outside).send().await.unwrap();
    assert_eq!(outside.status(), 422);
    assert!(outside.text().await.unwrap().contains("没有找到这家企业"));
    let empty = city.post(app.url("/regulator/listings")).form(&[("csrf", csrf.as_str()), ("subject_kind", "agency")]);
    let empty = empty.send().await.unwrap().text().await.unwrap();
    assert!(empty.matches("class=\"error\"").count() >= 3, "every missing field at once: {empty}");
    let named =
        city.post(app.url("/regulator/listings")).form(&listing("长春市安心家政服务有限公司")).send().await.unwrap();
    assert_eq!(named.status(), 303);
    let lists = reqwest::get(app.url("/credit/lists")).await.unwrap().text().await.unwrap();
    assert!(!lists.contains("长商务信〔2026〕40号"), "not listed before a second regulator reviews it");
    let nanguan = sign_in(&app, "nanguan").await;
    let page = nanguan.get(app.url("/regulator/credit")).send().await.unwrap().text().await.unwrap();
    let proposal = app.db.store.open_listings(None).await.unwrap()[0].id;
    let approve = nanguan
        .post(app.url(&format!("/regulator/listings/{proposal}")))
        .form(&[("csrf", csrf_in(&page).as_str()), ("decision", "approve"), ("reason", "")])
        .send();
    assert_eq!(approve.await.unwrap().status(), 303);
    let lists = reqwest::get(app.url("/credit/lists")).await.unwrap().text().await.unwrap();
    let black = &lists[lists.find("id=\"black-list\"").unwrap()..];
    assert!(black.contains("长春市安心家政服务有限公司") && black.contains("长商务信〔2026〕40号"), "{lists}");
}

#[tokio::test]
async fn the_timeline_keeps_a_withdrawn_entry_visible_and_its_subject_can_appeal() {
    let app = TestApp::spawn().await;
    let worker = app.employ(83, "周桂芳", "cleaning").await;
    let today = jiazheng_server::api::workers::today();
    let store = &app.db.store;
    jiazheng_store::testing::give_cleaning_records(store, app.agency_a, worker, today, today).await.unwrap();
    let entries = store.ledger_of(jiazheng_core::credit::SubjectKind::Worker, worker).await.unwrap();
    let health = entries.iter().find(|e| e.kind == "health_check").unwrap().seq;
    let regulator =
        jiazheng_store::credit::casework::Actor { account_id: 3, source: "regulator:city".into(), area: None };
    let returned = jiazheng_core::credit::casework::ReviewDecision::Returned;
    let correction = store.review_entry(health, returned, "查无此体检记录", false, &regulator).await.unwrap().unwrap();
    app.worker_account("zhou", "周桂芳", worker).await;

    let url = app.url(&format!("/workers/{worker}/timeline"));
    for outsider in ["agency_b", "resident"] {
        assert_eq!(sign_in(&app, outsider).await.get(&url).send().await.unwrap().status(), 403, "{outsider}");
    }
    let own = sign_in(&app, "zhou").await;
    let page = own.get(&url).send().await.unwrap().text().await.unwrap();
    let original = &page[page.find(&format!("id=\"entry-{health}\"")).expect("the original stays")..];
    assert!(original.starts_with(&format!("id=\"entry-{health}\" class=\"withdrawn\"")), "{original}");
    assert!(original.contains(&format!("href=\"#entry-{correction}\"")));
    assert!(page.contains("查无此体检记录"), "the correction says why");

    let appeal = own
        .post(app.url(&format!("/appeals/{correction}")))
        .form(&[("csrf", csrf_in(&page).as_str()), ("reason", "已补交体检报告原件")])
        .send()
        .await
        .unwrap();
    assert_eq!(appeal.status(), 303);
    let open = store.open_appeals(None).await.unwrap();
    assert_eq!((open.len(), open[0].entry_seq), (1, correction));
    let agency = sign_in(&app, "agency_a").await;
    assert_eq!(agency.get(&url).send().await.unwrap().status(), 200, "the employing agency reads it");
}

/// A report asked for without a bank or the agency's consent comes back as the same page with
/// the typed purpose kept and each error beside its field, still signed in.
#[tokio::test]
async fn the_credit_report_form_keeps_what_was_typed_and_says_what_is_missing() {
    let app = TestApp::spawn().await;
    let agency = sign_in(&app, "agency_a").await;
    let desk = agency.get(app.url("/agency/credit")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_in(&desk);
    let form = [("csrf", csrf.as_str()), ("bank_id", ""), ("purpose", "流动资金贷款")];
    let refused = agency.post(app.url("/agency/credit-report")).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"bank-error\"") && page.contains("id=\"consent-error\""), "{page}");
    assert!(!page.contains("id=\"purpose-error\"") && page.contains("value=\"流动资金贷款\""), "the purpose is kept");
    assert!(page.contains("请选择接收报告的银行") && page.contains("action=\"/logout\""), "in words, signed in");

    // Released to a bank, the report is on that bank's desk, checked; another bank never sees it.
    let bank = app.bank_account("jlbank", "吉林银行长春分行").await;
    app.bank_account("otherbank", "另一家银行").await;
    let bank_id = bank.to_string();
    let form = [("csrf", csrf.as_str()), ("bank_id", &bank_id), ("purpose", "流动资金贷款"), ("consent", "yes")];
    let released = agency.post(app.url("/agency/credit-report")).form(&form).send().await.unwrap();
    assert_eq!(released.status(), 200);
    let signed_in = browser_client();
    let login = signed_in.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let landed = signed_in
        .post(app.url("/login"))
        .form(&[("username", "jlbank"), ("password", PASSWORD), ("csrf", &csrf_in(&login))])
        .send()
        .await
        .unwrap();
    assert_eq!(landed.headers()["location"], "/bank", "the bank lands on its desk");
    let desk = signed_in.get(app.url("/bank")).send().await.unwrap().text().await.unwrap();
    assert!(desk.contains("长春市安心家政服务有限公司") && desk.contains("流动资金贷款"), "{desk}");
    let id: i64 = desk.split("id=\"report-").nth(1).and_then(|r| r.split('"').next()).unwrap().parse().unwrap();
    let report = signed_in.get(app.url(&format!("/bank/reports/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(report.contains("签名核验通过") && report.contains("吉林银行长春分行"), "{report}");
    let other = sign_in(&app, "otherbank").await;
    let other_desk = other.get(app.url("/bank")).send().await.unwrap().text().await.unwrap();
    assert!(!other_desk.contains("流动资金贷款"));
    assert_eq!(other.get(app.url(&format!("/bank/reports/{id}"))).send().await.unwrap().status(), 404);
    assert_eq!(agency.get(app.url("/bank")).send().await.unwrap().status(), 403);
    // Content changed after signing: the page says not to rely on it.
    let sql = "UPDATE credit_reports SET content = REPLACE(content, '流动资金贷款', '固定资产贷款') WHERE id = $1";
    match app.db.store.pool() {
        jiazheng_store::Pool::Sqlite(p) => sqlx::query(sql).bind(id).execute(p).await.map(drop),
        jiazheng_store::Pool::Postgres(p) => sqlx::query(sql).bind(id).execute(p).await.map(drop),
    }
    .unwrap();
    let report = signed_in.get(app.url(&format!("/bank/reports/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(report.contains("签名核验未通过"), "{report}");
}

/// The door page lists as servable only the services the worker meets every rule for today,
/// names the others apart, shows the certificates held, and signing in from it comes back to it.
#[tokio::test]
async fn the_door_page_says_only_what_the_facts_say_and_signing_in_returns_to_it() {
    use jiazheng_core::registry::{ServiceKind, ServiceSet};
    let app = TestApp::spawn().await;
    let (worker, issued) = app.certified(71, "周丽").await;
    // She also offers maternity care, with no maternal-care certificate and no such health check.
    let bits = ServiceSet::from_iter([ServiceKind::Cleaning, ServiceKind::Maternity]).bits();
    let sql = "UPDATE workers SET services = $1 WHERE id = $2";
    match app.db.store.pool() {
        jiazheng_store::Pool::Sqlite(p) => sqlx::query(sql).bind(bits).bind(worker).execute(p).await.map(drop),
        jiazheng_store::Pool::Postgres(p) => sqlx::query(sql).bind(bits).bind(worker).execute(p).await.map(drop),
    }
    .unwrap();
    let door = format!("/v/{}", issued.token);
    let page = reqwest::get(app.url(&door)).await.unwrap().text().await.unwrap();
    let between = |from: &str| page.split(from).nth(1).and_then(|rest| rest.split("</dd>").next()).unwrap_or_default();
    assert_eq!(between("id=\"may-serve\">"), "日常保洁", "{page}");
    assert!(between("id=\"not-ready\">").contains("月嫂"), "{page}");
    assert!(page.contains("data-colour=\"green\""), "green for the cleaning it lists");
    assert!(page.contains("无职业技能证书") && !page.contains("证书证书"));
    // The verdict's tag, for its class.
    let verdict =
        |page: &str| page.split("id=\"verdict\"").nth(1).and_then(|tag| tag.split('>').next()).map(str::to_owned);
    assert!(verdict(&page).unwrap_or_default().contains("alert ok"), "a good card's banner is good news");

    // Revoked: the banner says so in red, and nothing is listed as servable.
    app.db.store.revoke_certificate(&issued.number, "提供虚假健康证明", false, "regulator".into(), None).await.unwrap();
    let revoked = reqwest::get(app.url(&door)).await.unwrap().text().await.unwrap();
    assert!(verdict(&revoked).unwrap_or_default().contains("alert bad"), "{revoked}");
    assert!(revoked.contains("证书真实，但已被吊销"), "{revoked}");
    let may_serve = revoked.split("id=\"may-serve\">").nth(1).and_then(|r| r.split("</dd>").next()).unwrap_or_default();
    assert_eq!(may_serve, "今日暂无符合条件的服务", "{revoked}");
    assert!(revoked.contains("data-colour=\"red\""));

    // Signing in from the door page comes back to it; a link elsewhere is not followed.
    let login = format!("/login?next={}", jiazheng_server::pages::encode(&door));
    assert!(page.contains(&login.replace('&', "&amp;")), "the sign-in link carries the way back");
    let header = page.split("</header>").next().unwrap_or_default();
    assert!(header.contains(&login.replace('&', "&amp;")), "the header's too");
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let own_desk = "/my/services";
    for (next, expected) in
        [(door.as_str(), door.as_str()), ("//evil.example/v/x", own_desk), ("https://evil.example", own_desk)]
    {
        let form_page = client.get(app.url(&format!("/login?next={}", jiazheng_server::pages::encode(next)))).send();
        let form_page = form_page.await.unwrap().text().await.unwrap();
        let form = [("username", "resident"), ("password", PASSWORD), ("csrf", &csrf_in(&form_page)), ("next", next)];
        let answer = client.post(app.url("/login")).form(&form).send().await.unwrap();
        assert_eq!(answer.status(), 303);
        assert_eq!(answer.headers()["location"], expected, "{next}");
    }
}

/// Slowed sign-ins are said on the sign-in page itself, the name kept, with Retry-After.
#[tokio::test]
async fn a_slowed_sign_in_stays_on_the_form_with_the_name_kept() {
    let app = TestApp::spawn().await;
    let client = browser_client();
    let mut last = None;
    for _ in 0..8 {
        let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let form = [("username", "agency_a"), ("password", "wrong-password"), ("csrf", &csrf_in(&page))];
        let answer = client.post(app.url("/login")).form(&form).send().await.unwrap();
        if answer.status() == 429 {
            last = Some(answer);
            break;
        }
        assert_eq!(answer.status(), 422);
    }
    let slowed = last.expect("slowed after repeated failures");
    assert!(slowed.headers().contains_key("retry-after"));
    let page = slowed.text().await.unwrap();
    assert!(
        page.contains("尝试次数过多") && page.contains("value=\"agency_a\"") && page.contains("id=\"login-submit\"")
    );
}

/// The worker shows their own card and its QR code from /me; nobody else's, and none before one
/// is printed.
#[tokio::test]
async fn the_worker_shows_their_own_card_and_qr_from_their_page() {
    let app = TestApp::spawn().await;
    let (worker, issued) = app.certified(72, "吴敏").await;
    app.worker_account("wumin", "吴敏", worker).await;
    let uncarded = app.employ(73, "郑洁", "cleaning").await;
    app.worker_account("zhengjie", "郑洁", uncarded).await;

    let client = sign_in(&app, "wumin").await;
    let me = client.get(app.url("/me")).send().await.unwrap().text().await.unwrap();
    assert!(me.contains(&issued.number) && me.contains("href=\"/me/card\""), "{me}");
    let card = client.get(app.url("/me/card")).send().await.unwrap();
    assert_eq!(card.status(), 200);
    let card = card.text().await.unwrap();
    assert!(card.contains("<svg") && card.contains(&format!("/v/{}", issued.token)) && card.contains("吴敏"));

    // The same card as a PDF at ID-1 size (85.6 × 54 mm = 242.6 × 153.1 pt), its text readable.
    let pdf = client.get(app.url("/me/card.pdf")).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let pdf = pdf.bytes().await.unwrap();
    let (width, height) = common::pdf_page_size(&pdf);
    assert!((width - 242.65).abs() < 0.1 && (height - 153.07).abs() < 0.1, "an ID-1 page: {width} × {height}");
    let text = common::pdf_text(&pdf);
    assert!(text.contains("吴敏") && text.contains(&issued.number) && text.contains("日常保洁"), "{text}");
    let read = common::qr_in_pdf(&pdf);
    assert!(
        read.starts_with("http://") && read.ends_with(&format!("/v/{}", issued.token)),
        "the printed QR reads {read:?}"
    );
    let agency_a = sign_in(&app, "agency_a").await;
    let copy = agency_a.get(app.url(&format!("/agency/workers/{worker}/card.pdf"))).send().await.unwrap();
    assert_eq!(copy.status(), 200);
    let agency_b = sign_in(&app, "agency_b").await;
    let refused = agency_b.get(app.url(&format!("/agency/workers/{worker}/card.pdf"))).send().await.unwrap();
    assert_eq!(refused.status(), 403, "not its worker");

    let other = sign_in(&app, "zhengjie").await;
    let me = other.get(app.url("/me")).send().await.unwrap().text().await.unwrap();
    assert!(me.contains("暂无可出示的上门服务证"));
    assert_eq!(other.get(app.url("/me/card")).send().await.unwrap().status(), 404);
    let agency = sign_in(&app, "agency_a").await;
    assert_eq!(agency.get(app.url("/me/card")).send().await.unwrap().status(), 403);
}

/// A decision on a later page of the queue comes back to that page: refused with the error beside
/// its entry (the reason field focused), or done with a confirmation.
#[tokio::test]
async fn a_review_on_a_later_page_returns_to_that_page() {
    let app = TestApp::spawn().await;
    let today = jiazheng_server::api::workers::today();
    for seq in 0..12 {
        let worker = app.employ(120 + seq, "蒋红", "cleaning").await;
        jiazheng_store::testing::give_cleaning_records(&app.db.store, app.agency_a, worker, today, today)
            .await
            .unwrap();
    }
    let area = jiazheng_store::credit::casework::QueueFilter::area(Some("220102000000"));
    let waiting = app.db.store.review_queue(&area, jiazheng_store::PageRequest::new(None, Some(20)));
    let waiting = waiting.await.unwrap().total;
    assert!(waiting > 20, "two pages of records: {waiting}");
    let regulator = sign_in(&app, "nanguan").await;
    let second = regulator.get(app.url("/regulator/credit?page=2")).send().await.unwrap().text().await.unwrap();
    let seq: i64 = second.split("id=\"entry-").nth(1).and_then(|rest| rest.split('"').next()).unwrap().parse().unwrap();
    let csrf = csrf_in(&second);
    let url = app.url(&format!("/regulator/entries/{seq}"));
    let refused = regulator.post(&url).form(&[("csrf", csrf.as_str()), ("decision", "returned"), ("page", "2")]);
    let refused = refused.send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains(&format!("id=\"reason-error-{seq}\"")) && page.contains("autofocus"), "beside its entry");
    assert!(page.contains("请写明理由") && page.contains(" 2 / 2 "), "still page 2");
    let approved = regulator.post(&url).form(&[("csrf", csrf.as_str()), ("decision", "approved"), ("page", "2")]);
    let approved = approved.send().await.unwrap();
    assert_eq!(approved.status(), 303);
    assert_eq!(approved.headers()["location"], format!("/regulator/credit?page=2&decided={seq}#review-queue"));
}

/// The regulator narrows the queue, approves several at once and comes back to the same view;
/// a filter that names no agency says so beside its field.
#[tokio::test]
async fn the_queue_filters_and_approves_several_at_once_keeping_the_view() {
    let app = TestApp::spawn().await;
    let today = jiazheng_server::api::workers::today();
    for seq in 0..3 {
        let worker = app.employ(140 + seq, "韩丽", "cleaning").await;
        jiazheng_store::testing::give_cleaning_records(&app.db.store, app.agency_a, worker, today, today)
            .await
            .unwrap();
    }
    let regulator = sign_in(&app, "nanguan").await;
    let filtered = "/regulator/credit?kind=training&sort=newest";
    let page = regulator.get(app.url(filtered)).send().await.unwrap().text().await.unwrap();
    let seqs: Vec<String> =
        page.split("id=\"entry-").skip(1).filter_map(|rest| rest.split('"').next()).map(str::to_string).collect();
    assert_eq!(seqs.len(), 3, "one training record per worker: {page}");
    let numbers: Vec<i64> = seqs.iter().map(|s| s.parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] > w[1]), "newest first: {numbers:?}");
    assert!(page.contains("<option value=\"training\" selected>"), "the choice stays selected");
    let csrf = csrf_in(&page);

    let none = regulator
        .post(app.url("/regulator/entries/approve"))
        .form(&[("csrf", csrf.as_str()), ("kind", "training"), ("sort", "newest")])
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 422);
    assert!(none.text().await.unwrap().contains("id=\"bulk-error\""));
    let mut form =
        vec![("csrf", csrf.clone()), ("kind", "training".into()), ("sort", "newest".into()), ("page", "1".into())];
    form.extend(seqs[..2].iter().map(|s| ("seq", s.clone())));
    let approved = regulator.post(app.url("/regulator/entries/approve")).form(&form).send().await.unwrap();
    assert_eq!(approved.status(), 303);
    let back = approved.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(back, "/regulator/credit?kind=training&sort=newest&page=1&approved=2&skipped=0#review-queue");
    let after = regulator.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("id=\"approved\"") && after.split("id=\"entry-").count() == 2, "one training left");
    // Approving the same again: already decided, skipped, nothing breaks.
    let again = regulator.post(app.url("/regulator/entries/approve")).form(&form).send().await.unwrap();
    assert!(again.headers()["location"].to_str().unwrap().contains("approved=0&skipped=2"));

    let unknown = regulator.get(app.url("/regulator/credit?agency=%E6%B2%A1%E6%9C%89%E8%BF%99%E5%AE%B6")).send();
    let unknown = unknown.await.unwrap().text().await.unwrap();
    assert!(unknown.contains("id=\"agency-filter-error\"") && !unknown.contains("id=\"entry-"), "{unknown}");
    let by_name = regulator.get(app.url("/regulator/credit?agency=长春市安心家政服务有限公司")).send();
    assert_eq!(by_name.await.unwrap().text().await.unwrap().split("id=\"entry-").count(), 1 + 7);
}

/// An error page is still the signed-in person's page: their header, and words, not field codes.
#[tokio::test]
async fn error_pages_keep_the_signed_in_header_and_say_words_not_codes() {
    let app = TestApp::spawn().await;
    let agency = sign_in(&app, "agency_a").await;
    let missing = agency.get(app.url("/workers/999999")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let page = missing.text().await.unwrap();
    assert!(page.contains("action=\"/logout\"") && !page.contains("href=\"/login\""), "signed in: {page}");
    let refused = agency.get(app.url("/regulator/credit")).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("action=\"/logout\""));
}

#[tokio::test]
async fn a_school_enters_a_class_from_a_sheet_all_or_nothing_with_results_that_agree() {
    let app = TestApp::spawn().await;
    let course = common::school_with_course(&app, "school", 40).await;
    let token = app.token("school").await;
    let today = jiazheng_server::api::workers::today();
    let day = |n: i64| (today - chrono::Duration::days(n)).to_string();
    let (first, second) = (id_number("220102", 91), id_number("220102", 92));
    let mut records = Vec::new();
    for (number, name) in [(&first, "冯淑英"), (&second, "陈秀兰")] {
        let worker = common::worker_json(number, name, "220102001");
        assert_eq!(app.post_json("/api/v1/workers", &app.token("agency_a").await, &worker).await.0, 201);
        let enrol = serde_json::json!({"id_number": number, "started_on": day(20)});
        let (_, record) = app.post_json(&format!("/api/v1/courses/{course}/enrolments"), &token, &enrol).await;
        records.push(record["id"].as_i64().unwrap());
    }

    let school = sign_in(&app, "school").await;
    let path = format!("/school/courses/{course}");
    let page = school.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let template_path = format!("/school/courses/{course}/results.xlsx");
    assert!(page.contains("id=\"import-results\"") && page.contains(&template_path));
    let template = school.get(app.url(&template_path)).send().await.unwrap();
    assert_eq!(template.status(), 200);
    assert!(template.bytes().await.unwrap().starts_with(b"PK"), "an xlsx file");
    let other_school = school.get(app.url("/school/courses/999999/results.xlsx")).send().await.unwrap();
    assert_eq!(other_school.status(), 404);
    // The sheet lists students by name and masked number, as the course page shows them.
    let listed = app.db.store.enrolments(course, jiazheng_store::PageRequest::new(None, Some(10))).await.unwrap();
    let masked_second = listed.items.iter().find(|e| e.worker_name == "陈秀兰").unwrap().id_masked.clone();
    let csrf = csrf_in(&page);
    let upload = |sheet: Vec<u8>| {
        let form = multipart::Form::new()
            .text("csrf", csrf.clone())
            .part("file", multipart::Part::bytes(sheet).file_name("results.xlsx"));
        school.post(app.url(&format!("{path}/results"))).multipart(form).send()
    };

    let not_excel = upload(b"name,score\n".to_vec()).await.unwrap();
    assert_eq!(not_excel.status(), 422);
    let not_excel = not_excel.text().await.unwrap();
    assert!(not_excel.contains("id=\"file-error\"") && not_excel.contains("不是有效的 Excel"), "{not_excel}");
    let outsider = id_number("220102", 93);
    let (d5, d10, d19) = (day(5), day(10), day(19));
    let bad = common::results_sheet(&[
        [first.as_str(), "冯淑英", d5.as_str(), "合格", "30"],
        [second.as_str(), "陈秀兰", d19.as_str(), "合格", "88"],
        [outsider.as_str(), "路人", d5.as_str(), "合格", "90"],
    ]);
    let refused = upload(bad).await.unwrap();
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    for words in ["“合格”的分数应不低于60分", "40学时的课程至少需要5天", "不是本课程的学员"]
    {
        assert!(refused.contains(words), "{words}: {refused}");
    }
    assert!(refused.contains("<td>分数</td>") && !refused.contains("ID number"), "columns in the page's language");
    for record in &records {
        assert!(app.db.store.exam_results(*record).await.unwrap().is_empty(), "one bad row: nothing entered");
    }

    let good = common::results_sheet(&[
        [first.as_str(), "冯淑英", d5.as_str(), "合格", "86"],
        [masked_second.as_str(), "陈秀兰", d10.as_str(), "不合格", "41"],
    ]);
    let entered = upload(good).await.unwrap();
    assert_eq!(entered.status(), 200);
    let entered = entered.text().await.unwrap();
    assert!(entered.contains("id=\"results-report\"") && entered.contains("已录入成绩： 2"), "{entered}");
    let results: Vec<(bool, Option<i64>)> = {
        let mut all = Vec::new();
        for record in &records {
            let r = app.db.store.exam_results(*record).await.unwrap();
            all.push((r[0].exam_passed, r[0].exam_score));
        }
        all
    };
    assert_eq!(results, [(true, Some(86)), (false, Some(41))]);
    // The same sheet again replaces the results instead of adding to the credit record.
    let good_again = common::results_sheet(&[[first.as_str(), "冯淑英", d5.as_str(), "合格", "86"]]);
    assert_eq!(upload(good_again).await.unwrap().status(), 200);
    let worker = app.db.store.training_record(records[0]).await.unwrap().worker_id;
    let facts = app.db.store.grade_facts(jiazheng_core::credit::SubjectKind::Worker, worker).await.unwrap();
    let trainings = facts.iter().filter(|f| f.kind == jiazheng_core::credit::EntryKind::Training).count();
    assert_eq!(trainings, 1, "one enrolment counts once");
    assert_eq!(app.db.store.exam_results(records[0]).await.unwrap().len(), 2, "both sittings kept");
}

/// A page answered to someone signed in is kept by no browser or proxy, and signing out tells
/// the browser to drop what it kept: Back on a shared phone shows nobody's pages.
#[tokio::test]
async fn signed_in_pages_are_not_kept_and_signing_out_clears_the_browsers_copies() {
    let app = TestApp::spawn().await;
    let resident = sign_in(&app, "resident").await;
    for path in ["/", "/agencies", "/workers", "/market"] {
        let page = resident.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            page.headers().get("cache-control").map(|v| v.to_str().unwrap()),
            Some("private, no-store"),
            "{path}"
        );
        let anonymous = reqwest::get(app.url(path)).await.unwrap();
        assert!(anonymous.headers().get("cache-control").is_none(), "{path}: a visitor's page may be kept");
    }
    let home = resident.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let out = resident.post(app.url("/logout")).form(&[("csrf", csrf_in(&home))]).send().await.unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers().get("clear-site-data").map(|v| v.to_str().unwrap()), Some("\"cache\""));
}

/// A worker search the form would not send (a name longer than the 30 characters the box holds,
/// arriving in a link) comes back as the form with the reason beside the name and the name kept.
#[tokio::test]
async fn an_overlong_name_in_a_search_link_is_said_beside_the_box_with_the_name_kept() {
    let app = TestApp::spawn().await;
    let name = "王".repeat(31);
    let answer =
        reqwest::get(app.url(&format!("/workers?name={}&service=cleaning", jiazheng_server::pages::encode(&name))))
            .await
            .unwrap();
    assert_eq!(answer.status(), 422);
    let page = answer.text().await.unwrap();
    assert!(page.contains(&format!("value=\"{name}\"")), "the name is kept: {page}");
    let error = page.split("id=\"name-error\">").nth(1).and_then(|r| r.split('<').next()).unwrap_or_default();
    assert!(error.contains("30"), "the reason sits beside the box: {page}");
    assert!(page.contains("value=\"cleaning\" selected"), "the other choices are kept");
}

/// A card's token padded with line breaks, tabs or spaces is read as the card's, and the page
/// kept for every visitor carries the token alone in its links; a token longer than any card's
/// is refused before it is decoded.
#[tokio::test]
async fn a_padded_card_token_reads_as_the_card_and_nothing_padded_reaches_the_page() {
    let app = TestApp::spawn().await;
    let (_, issued) = app.certified(72, "吴芳").await;
    let padded = reqwest::get(app.url(&format!("/v/%0D%0A%09{}%20", issued.token))).await.unwrap();
    assert_eq!(padded.status(), 200);
    let page = padded.text().await.unwrap();
    assert!(page.contains(&format!("/login?next=%2Fv%2F{}\"", issued.token)), "{page}");
    assert!(!page.contains("%0D") && !page.contains("%09"), "{page}");
    // The plain scan after it gets the same clean page.
    let plain = reqwest::get(app.url(&format!("/v/{}", issued.token))).await.unwrap().text().await.unwrap();
    assert!(!plain.contains("%0D") && plain.contains(&format!("/login?next=%2Fv%2F{}\"", issued.token)));
    // Pasted into the number box, alone or as the link its code holds, it is checked as a scan.
    let client = browser_client();
    for pasted in [format!(" {} ", issued.token), format!("http://127.0.0.1/v/{}", issued.token)] {
        let url = app.url(&format!("/certificates/check?number={}", jiazheng_server::pages::encode(&pasted)));
        let answer = client.get(url).send().await.unwrap();
        assert_eq!(answer.status(), 303, "{pasted}");
        assert_eq!(answer.headers()["location"], format!("/v/{}", issued.token).as_str());
    }
    let overlong = format!("{}{}", issued.token, "A".repeat(800));
    assert_eq!(reqwest::get(app.url(&format!("/v/{overlong}"))).await.unwrap().status(), 400);
    let (status, body) = app.get_json(&format!("/api/v1/certificates/check?token={overlong}"), None).await;
    assert_eq!((status, body["verdict"].as_str()), (200, Some("malformed")), "{body}");
}
