//! A real browser (Debian's headless Chromium through ChromeDriver) against the running server:
//! an agency admin signs in, adds a worker with a wrong ID check digit, sees the field error,
//! corrects it, sees the worker listed masked on the public page, and switches to English; an
//! agency admin filters the compliance board to expiring health checks and exports them; and a
//! resident books, signs, pays at the sandbox's cashier and sees the money settled on completion.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PASSWORD, TestApp, id_number, with_wrong_check};
use fantoccini::{Client, ClientBuilder, Locator};
use jiazheng_core::market::payment::Account;
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn browser() -> (Client, Driver, tempdir::Dir) {
    browser_at(None).await
}

/// A browser whose viewport is `width` CSS pixels wide (a phone's, by device emulation: headless
/// Chromium will not make a window narrower than 500 px), or a 412 px window.
async fn browser_at(width: Option<u32>) -> (Client, Driver, tempdir::Dir) {
    let driver_path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let port = free_port();
    let child = Command::new(&driver_path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {driver_path} (install chromium-driver; scripts/setup does): {e}"));
    let driver = Driver(child);
    let profile = tempdir::Dir::new();
    let mut caps = serde_json::Map::new();
    let mut options = json!({
        "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=412,915", format!("--user-data-dir={}", profile.0.display())],
    });
    if let Some(width) = width {
        options["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": 844, "pixelRatio": 2}});
    }
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (client, driver, profile),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not answer: {last:?}");
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> Self {
            // One profile per browser: tests run in parallel, and Chromium locks its profile.
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("jz-chrome-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

async fn fill(client: &Client, name: &str, value: &str) {
    let field = client.find(Locator::Css(&format!("[name='{name}']"))).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// The text of the first element matching `css` once it satisfies `ready`. A click that submits a
/// form returns before the next page loads, so the old page's element may be read (or go stale)
/// first: keep asking until the new page answers, for at most ten seconds.
async fn text_when(client: &Client, css: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.ok(),
            Err(_) => None,
        };
        match text {
            Some(text) if ready(&text) => return text,
            last if std::time::Instant::now() > deadline => panic!("{css}: last text {last:?}"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn text_of(client: &Client, css: &str) -> String {
    text_when(client, css, |_| true).await
}

/// Signs in as agency A's admin through the login form and waits for the workers page.
async fn sign_in_as_agency_a(client: &Client, app: &TestApp) {
    client.goto(&app.url("/login")).await.unwrap();
    fill(client, "username", "agency_a").await;
    fill(client, "password", PASSWORD).await;
    client.find(Locator::Id("login-submit")).await.unwrap().click().await.unwrap();
    text_when(client, "h1", |t| t.contains("服务员管理")).await;
}

#[tokio::test]
async fn agency_admin_adds_a_worker_fixes_a_bad_id_and_the_public_sees_it_masked() {
    let app = TestApp::spawn().await;
    let (client, _driver, _profile) = browser().await;

    sign_in_as_agency_a(&client, &app).await;

    client.find(Locator::Id("add-worker")).await.unwrap().click().await.unwrap();
    let good = id_number("220102", 21);
    fill(&client, "id_number", &with_wrong_check(&good)).await;
    fill(&client, "name", "冯秀兰").await;
    fill(&client, "phone", "139 0431 2222").await;
    choose(&client, "home_street", "220102001").await;
    client.find(Locator::Css("input[name='services'][value='elderly_care']")).await.unwrap().click().await.unwrap();
    client.find(Locator::Id("save-worker")).await.unwrap().click().await.unwrap();

    assert_eq!(text_when(&client, "#id_number-error", |t| !t.is_empty()).await, "身份证号码校验位错误");
    let marked = client.find(Locator::Id("id_number")).await.unwrap().attr("aria-invalid").await.unwrap();
    assert_eq!(marked.as_deref(), Some("true"));
    // What was typed is kept, so only the bad field needs fixing.
    let kept = client.find(Locator::Css("[name='name']")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("冯秀兰"));
    assert_eq!(app.worker_count().await, 0);

    fill(&client, "id_number", &good).await;
    client.find(Locator::Id("save-worker")).await.unwrap().click().await.unwrap();
    text_when(&client, ".notice", |t| t.contains("已登记服务员")).await;
    assert_eq!(app.worker_count().await, 1);

    client.goto(&app.url("/workers?name=%E5%86%AF%E7%A7%80")).await.unwrap();
    let row = text_of(&client, "table.workers tbody tr").await;
    assert!(row.contains("冯秀兰") && !row.contains(&good[14..]), "no digit of the ID number: {row}");
    assert!(!client.source().await.unwrap().contains(&good));

    client.find(Locator::Id("lang-switch")).await.unwrap().click().await.unwrap();
    text_when(&client, "h1", |t| t == "Find a worker").await;
    let header = text_of(&client, "table.workers thead").await;
    assert!(header.contains("Mobile") && header.contains("Services") && !header.contains("ID number"), "{header}");
    assert!(text_of(&client, "table.workers tbody tr").await.contains("Elderly care at home"));
    client.close().await.unwrap();
}

#[tokio::test]
async fn agency_admin_filters_the_compliance_board_to_expiring_health_checks_and_exports_them() {
    let app = TestApp::spawn().await;
    let store = &app.db.store;
    let today = jiazheng_server::api::workers::today();
    let people = [("张丽", 300), ("刘洋", 350), ("陈红", 400), ("周敏", 355)];
    for (seq, (name, age_days)) in people.iter().enumerate() {
        let worker = app.employ(40 + seq as u16, name, "cleaning").await;
        let checked = today - chrono::Duration::days(*age_days);
        jiazheng_store::testing::give_cleaning_records(store, app.agency_a, worker, checked, today).await.unwrap();
    }
    // Checks 350 and 355 days old expire within 30 days; 300 is valid; 400 has lapsed.
    let expected = ["刘洋", "周敏"];

    let (client, _driver, _profile) = browser().await;
    sign_in_as_agency_a(&client, &app).await;

    go_by_menu(&client, "/agency/compliance").await;
    assert!(text_when(&client, "#board-total", |t| t.contains('4')).await.contains('4'));
    client.find(Locator::Id("board-condition")).await.unwrap().select_by_value("health_check").await.unwrap();
    client.find(Locator::Id("board-filter")).await.unwrap().select_by_value("expiring").await.unwrap();
    client.find(Locator::Id("board-apply")).await.unwrap().click().await.unwrap();
    text_when(&client, "#board-total", |t| t.ends_with('2')).await;
    let table = text_of(&client, "#board tbody").await;
    for name in expected {
        assert!(table.contains(name), "{name} in {table}");
    }
    assert!(!table.contains("张丽") && !table.contains("陈红"), "{table}");

    // Download what the export link points at, as this browser session.
    let href = client.find(Locator::Id("board-export")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert!(href.contains("condition=health_check") && href.contains("filter=expiring"), "{href}");
    let session = client.get_named_cookie("jz_session").await.unwrap();
    let url = if href.starts_with("http") { href } else { app.url(&href) };
    let response =
        app.client.get(url).header("cookie", format!("jz_session={}", session.value())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let bytes = response.bytes().await.unwrap().to_vec();
    let rows = jiazheng_store::excel::read_sheet(
        bytes,
        &[("name", "姓名", "Name"), ("health", "健康体检", "Health check")],
        |_| true,
    )
    .unwrap();
    let mut names: Vec<&str> = rows.iter().map(|(_, r)| r["name"].as_str()).collect();
    names.sort();
    assert_eq!(names, expected);
    assert!(rows.iter().all(|(_, r)| r["health"] == "即将到期"), "{rows:?}");
    client.close().await.unwrap();
}

/// Signs in through the form and waits until the browser has left the login page.
/// Follows a link of the header's navigation as a person would: on a phone, through the menu.
async fn go_by_menu(client: &Client, href: &str) {
    let menu = client.find(Locator::Css(".menu-button")).await.unwrap();
    if menu.is_displayed().await.unwrap() {
        menu.click().await.unwrap();
    }
    client.find(Locator::Css(&format!("header nav a[href='{href}']"))).await.unwrap().click().await.unwrap();
}

async fn sign_in_as(client: &Client, app: &TestApp, username: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    fill(client, "username", username).await;
    fill(client, "password", PASSWORD).await;
    client.find(Locator::Id("login-submit")).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.current_url().await.unwrap().path() == "/login" {
        assert!(std::time::Instant::now() < deadline, "sign in as {username}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_out(client: &Client) {
    client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.find(Locator::Css("form[action='/logout']")).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "sign out");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_resident_sees_the_card_asks_for_the_record_and_the_worker_approves_and_sees_the_view() {
    let app = TestApp::spawn().await;
    let (worker, issued) = app.certified(90, "赵秀梅").await;
    app.worker_account("zhao", "赵秀梅", worker).await;
    let link = app.url(&format!("/v/{}", issued.token));

    let (client, _driver, _profile) = browser().await;
    // The resident scans the card at the door.
    sign_in_as(&client, &app, "resident").await;
    client.goto(&link).await.unwrap();
    let colour = client.find(Locator::Id("live-colour")).await.unwrap().attr("data-colour").await.unwrap();
    assert_eq!(colour.as_deref(), Some("green"));
    assert!(client.find(Locator::Id("open-record")).await.is_err(), "no record without consent");
    client.find(Locator::Id("request-record")).await.unwrap().click().await.unwrap();
    text_when(&client, "#consent", |t| t.contains("24")).await;
    sign_out(&client).await;

    // The worker approves on their own page.
    sign_in_as(&client, &app, "zhao").await;
    client.goto(&app.url("/me")).await.unwrap();
    assert!(text_of(&client, "#consents").await.contains("resident"));
    client.find(Locator::Css("#consents button[id^='approve-']")).await.unwrap().click().await.unwrap();
    text_when(&client, "#consents", |t| !t.contains("resident ·")).await;
    sign_out(&client).await;

    // The resident now opens the full record.
    sign_in_as(&client, &app, "resident").await;
    client.goto(&link).await.unwrap();
    client.find(Locator::Id("open-record")).await.unwrap().click().await.unwrap();
    let record = text_when(&client, "#full-record", |t| !t.is_empty()).await;
    assert!(record.contains("健康体检") && record.contains("有效至"), "{record}");
    sign_out(&client).await;

    // And the worker sees who looked.
    sign_in_as(&client, &app, "zhao").await;
    client.goto(&app.url("/me")).await.unwrap();
    let views = text_of(&client, "#record-views").await;
    assert!(views.contains("resident"), "{views}");
    client.close().await.unwrap();
}

/// Internal codes a person should never read: snake_case words (`pre_job`, `sum_insured_fen`) and
/// sources such as `agency:19` or `regulator:city`.
fn codes_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|raw| {
            let word = raw.trim_matches(':');
            let snake = word.split('_').count() > 1
                && word
                    .split('_')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
            let source =
                ["agency:", "regulator:", "provider:", "resident:", "order:"].iter().any(|p| word.starts_with(p));
            // A `key: value` dump: a lower-case field name followed by a colon ("level: level5").
            let dump = raw.ends_with(':')
                && !matches!(word, "http" | "https")
                && word.len() > 1
                && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && word.chars().next().is_some_and(|c| c.is_ascii_lowercase());
            snake || source || dump
        })
        .map(|raw| raw.trim_matches(':').to_string())
        .collect()
}

#[test]
fn the_code_finder_finds_codes_and_leaves_words() {
    assert_eq!(codes_in("课程 · course_kind: pre_job · 来源 agency:19"), ["course_kind", "pre_job", "agency:19"]);
    assert_eq!(codes_in("等级 level: level5 · Decision: upheld · http://127.0.0.1/v/x"), ["level"]);
    assert!(codes_in("2026-12-02 10:31 · 岗前培训 · Level 5 (junior) · JZ-220102-000042-2").is_empty());
}

/// Checks the page a person is on: nothing wider than the screen, no code in the visible text;
/// and keeps a screenshot in `target/screens/` for anyone to look at.
async fn look_at(client: &Client, name: &str) {
    let overflow = client
        .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
        .await
        .unwrap();
    // People's own names (the signed-in person's in the header, an uploader's) are theirs to
    // choose; the rest is ours.
    let script = "return [...document.querySelectorAll('header nav, main')].map(e => { const c = e.cloneNode(true); \
                  c.querySelectorAll('.person').forEach(p => p.remove()); document.body.appendChild(c); \
                  const t = c.innerText; c.remove(); return t; }).join('\\n')";
    let text = client.execute(script, vec![]).await.unwrap();
    let text = text.as_str().unwrap_or_default().to_string();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screens");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), client.screenshot().await.unwrap()).unwrap();
    if overflow.as_i64() != Some(0) {
        let culprits = client
            .execute(
                "const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]\
                 .filter(e => e.getBoundingClientRect().right > w + 1 && ![...e.children].some(c => c.getBoundingClientRect().right > w + 1))\
                 .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + (e.innerText || '').slice(0, 60))",
                vec![],
            )
            .await
            .unwrap();
        panic!("{name}: the page is {overflow} px wider than the screen: {culprits}");
    }
    assert_eq!(codes_in(&text), Vec::<String>::new(), "{name}: codes in the visible text:\n{text}");
}

/// A 600 × 800 picture saved as PNG in the browser's profile folder, for file inputs.
fn portrait_file(profile: &tempdir::Dir) -> std::path::PathBuf {
    let path = profile.path().join("portrait.png");
    let picture = image::RgbImage::from_fn(600, 800, |x, y| image::Rgb([(x / 3) as u8, (y / 4) as u8, 150]));
    picture.save(&path).unwrap();
    path
}

/// Puts a file in a file input, as a person choosing it would.
async fn choose_file(client: &Client, id: &str, path: &std::path::Path) {
    client.find(Locator::Id(id)).await.unwrap().send_keys(&path.display().to_string()).await.unwrap();
}

/// Both sizes every journey is walked at: a phone and a desktop.
const WIDTHS: [(Option<u32>, &str); 2] = [(Some(390), "390"), (None, "1366")];

async fn browser_for(width: Option<u32>) -> (Client, Driver, tempdir::Dir) {
    let (client, driver, profile) = browser_at(width).await;
    if width.is_none() {
        client.set_window_size(1366, 900).await.unwrap();
    }
    (client, driver, profile)
}

/// A resident complains about a service from the service itself: no number typed, the empty
/// form answered beside the field, the filed complaint confirmed on their services page.
#[tokio::test]
async fn a_resident_files_a_complaint_from_a_service_on_a_phone_and_a_desktop() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let worker = app.employ(62, "蒋丽", "cleaning").await;
        let service = json!({"worker_id": worker, "resident": "resident", "service": "cleaning",
            "performed_on": jiazheng_server::api::workers::today().to_string()});
        let (status, recorded) = app.post_json("/api/v1/services", &app.token("agency_a").await, &service).await;
        assert_eq!(status, 201, "{recorded}");
        let id = recorded["id"].as_i64().unwrap();
        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "resident").await;
        client.goto(&app.url("/my/services")).await.unwrap();
        look_at(&client, &format!("resident-services-{label}")).await;
        client.find(Locator::Id(&format!("complain-worker-{id}"))).await.unwrap().click().await.unwrap();
        let subject = text_when(&client, "#complaint-subject", |t| !t.is_empty()).await;
        assert!(subject.contains("蒋丽"), "{subject}");
        assert!(client.find(Locator::Css("input[inputmode='numeric']")).await.is_err(), "no number to type");
        client.find(Locator::Id("file-complaint")).await.unwrap().click().await.unwrap();
        text_when(&client, "#body-error", |t| !t.is_empty()).await;
        look_at(&client, &format!("resident-complaint-refused-{label}")).await;
        fill(&client, "body", "约定上午九点，十点半才到，也没有提前告知。").await;
        client.find(Locator::Id("file-complaint")).await.unwrap().click().await.unwrap();
        text_when(&client, "#filed", |t| !t.is_empty()).await;
        let list = text_of(&client, "#complaints").await;
        assert!(list.contains("蒋丽") && list.contains("十点半才到"), "{list}");
        look_at(&client, &format!("resident-complaint-filed-{label}")).await;
        client.close().await.unwrap();
    }
}

/// A worker sees their record, puts up their own photo and opens their card to show at a door.
#[tokio::test]
async fn a_worker_uploads_their_photo_and_shows_their_card_on_a_phone_and_a_desktop() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let (worker, _) = app.certified(63, "曹敏").await;
        app.worker_account("caomin", "曹敏", worker).await;
        let (client, _driver, profile) = browser_for(width).await;
        sign_in_as(&client, &app, "caomin").await;
        client.goto(&app.url("/me")).await.unwrap();
        look_at(&client, &format!("worker-me-{label}")).await;
        choose_file(&client, "photo-file", &portrait_file(&profile)).await;
        client.find(Locator::Id("upload-photo")).await.unwrap().click().await.unwrap();
        text_when(&client, "#photo-saved", |t| !t.is_empty()).await;
        client.find(Locator::Id("photo-image")).await.expect("the photo shown");
        look_at(&client, &format!("worker-photo-{label}")).await;
        client.find(Locator::Id("show-card")).await.unwrap().click().await.unwrap();
        let card = text_when(&client, ".service-card", |t| t.contains("曹敏")).await;
        assert!(card.contains("JZ-"), "{card}");
        client.find(Locator::Id("card-photo")).await.expect("the photo on the card");
        look_at(&client, &format!("worker-card-{label}")).await;
        client.close().await.unwrap();
    }
}

/// A school enters a class's results from the sheet it downloaded, refused rows listed first.
#[tokio::test]
async fn a_school_imports_a_class_results_on_a_phone_and_a_desktop() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let course = common::school_with_course(&app, "school", 40).await;
        let student = id_number("220102", 64);
        let worker = common::worker_json(&student, "袁芳", "220102001");
        assert_eq!(app.post_json("/api/v1/workers", &app.token("agency_a").await, &worker).await.0, 201);
        let started = (jiazheng_server::api::workers::today() - chrono::Duration::days(20)).to_string();
        let enrol = json!({"id_number": student, "started_on": started});
        let path = format!("/api/v1/courses/{course}/enrolments");
        assert_eq!(app.post_json(&path, &app.token("school").await, &enrol).await.0, 201);

        let (client, _driver, profile) = browser_for(width).await;
        sign_in_as(&client, &app, "school").await;
        assert_eq!(client.current_url().await.unwrap().path(), "/school");
        look_at(&client, &format!("school-desk-{label}")).await;
        client.goto(&app.url(&format!("/school/courses/{course}"))).await.unwrap();
        look_at(&client, &format!("school-course-{label}")).await;
        let day = |n: i64| (jiazheng_server::api::workers::today() - chrono::Duration::days(n)).to_string();
        let sheet = profile.path().join("results.xlsx");
        std::fs::write(&sheet, common::results_sheet(&[[student.as_str(), "袁芳", &day(19), "合格", "30"]])).unwrap();
        choose_file(&client, "results-file", &sheet).await;
        client.find(Locator::Id("import-results")).await.unwrap().click().await.unwrap();
        let report = text_when(&client, "#results-report", |t| !t.is_empty()).await;
        assert!(report.contains("不低于60分") && report.contains("至少需要5天"), "{report}");
        look_at(&client, &format!("school-results-refused-{label}")).await;
        std::fs::write(&sheet, common::results_sheet(&[[student.as_str(), "袁芳", &day(5), "合格", "88"]])).unwrap();
        choose_file(&client, "results-file", &sheet).await;
        client.find(Locator::Id("import-results")).await.unwrap().click().await.unwrap();
        text_when(&client, "#results-report", |t| t.contains("已录入成绩")).await;
        let table = text_of(&client, "#enrolments").await;
        assert!(table.contains("合格 (88)"), "{table}");
        look_at(&client, &format!("school-results-{label}")).await;
        client.close().await.unwrap();
    }
}

/// A bank opens a credit report an agency released to it and sees that its signature checks out.
#[tokio::test]
async fn a_bank_opens_a_released_report_on_a_phone_and_a_desktop() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let bank = app.bank_account("jlbank", "吉林银行长春分行").await;
        let url = format!("/api/v1/agencies/{}/credit-report", app.agency_a);
        let request = json!({"bank_id": bank, "purpose": "流动资金贷款", "consent": true});
        let token = app.token("agency_a").await;
        let response = app.client.post(app.url(&url)).bearer_auth(&token).json(&request).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "jlbank").await;
        assert_eq!(client.current_url().await.unwrap().path(), "/bank");
        let list = text_of(&client, "#reports").await;
        assert!(list.contains("长春市安心家政服务有限公司") && list.contains("流动资金贷款"), "{list}");
        look_at(&client, &format!("bank-desk-{label}")).await;
        client.find(Locator::Css("#reports a.button")).await.unwrap().click().await.unwrap();
        let verdict = text_when(&client, "#signature", |t| !t.is_empty()).await;
        assert!(verdict.contains("签名核验通过"), "{verdict}");
        look_at(&client, &format!("bank-report-{label}")).await;
        client.close().await.unwrap();
    }
}

/// The system admin creates an agency admin on a phone and a desktop: the agency found by name, the password
/// shown once, the new account able to sign in with it, and no page wider than the screen.
#[tokio::test]
async fn the_system_admin_creates_an_account_on_a_phone_and_a_desktop() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "admin").await;
        assert_eq!(client.current_url().await.unwrap().path(), "/admin/accounts");
        // Sign-in names are the holders' own (some have underscores): regulators' have none.
        client.goto(&app.url("/admin/accounts?role=regulator")).await.unwrap();
        let table = text_of(&client, "#accounts").await;
        assert!(table.contains("监管部门") && table.contains("南关区") && table.contains("全市"), "{table}");
        look_at(&client, &format!("admin-accounts-{label}")).await;

        client.goto(&app.url("/admin/accounts/new")).await.unwrap();
        look_at(&client, &format!("admin-new-{label}")).await;
        fill(&client, "username", "anxin").await;
        fill(&client, "display_name", "安心家政管理员").await;
        client.find(Locator::Css("#role option[value='agency_admin']")).await.unwrap().click().await.unwrap();
        client.find(Locator::Id("create-account")).await.unwrap().click().await.unwrap();
        let error = text_when(&client, "#agency-error", |t| !t.is_empty()).await;
        assert!(error.contains("必填"), "{error}");
        look_at(&client, &format!("admin-new-refused-{label}")).await;
        fill(&client, "agency_q", "安心").await;
        client.find(Locator::Id("create-account")).await.unwrap().click().await.unwrap();
        let password = text_when(&client, "#new-password", |t| t.len() == 12).await;
        let created = text_of(&client, "#created-account").await;
        assert!(created.contains("企业管理员") && created.contains("长春市安心家政服务有限公司"), "{created}");
        look_at(&client, &format!("admin-created-{label}")).await;
        client.find(Locator::LinkText("查看该账号")).await.unwrap().click().await.unwrap();
        text_when(&client, "#log", |t| t.contains("创建账号")).await;
        look_at(&client, &format!("admin-account-{label}")).await;
        sign_out(&client).await;

        client.goto(&app.url("/login")).await.unwrap();
        fill(&client, "username", "anxin").await;
        fill(&client, "password", &password).await;
        client.find(Locator::Id("login-submit")).await.unwrap().click().await.unwrap();
        text_when(&client, "h1", |t| t.contains("服务员管理")).await;
        client.close().await.unwrap();
    }
}

/// The agency checks a new worker's identity and prints the card from its screens, and the
/// regulator reads and decides on the records the agency entered: on a phone and on a desktop.
#[tokio::test]
async fn the_agency_verifies_identity_and_prints_a_card_and_the_regulator_reviews_on_a_phone_and_a_desktop() {
    for (width, label) in [(Some(390), "390"), (None, "1366")] {
        let app = TestApp::spawn().await;
        let worker = app.employ(61, "韩雪", "cleaning").await;
        let today = jiazheng_server::api::workers::today();
        jiazheng_store::testing::give_cleaning_records(&app.db.store, app.agency_a, worker, today, today)
            .await
            .unwrap();
        let (client, _driver, _profile) = browser_at(width).await;
        if width.is_none() {
            client.set_window_size(1366, 900).await.unwrap();
        }

        sign_in_as(&client, &app, "agency_a").await;
        client.goto(&app.url(&format!("/agency/workers/{worker}/workforce"))).await.unwrap();
        look_at(&client, &format!("agency-record-{label}")).await;
        client.find(Locator::Id("verify-identity")).await.unwrap().click().await.unwrap();
        text_when(&client, "#identity", |t| t.contains("身份已核验")).await;
        // The photo: a file that is not a picture is refused beside the field, then a real one.
        let not_a_photo = _profile.path().join("notes.txt");
        std::fs::write(&not_a_photo, "not a face").unwrap();
        choose_file(&client, "photo-file", &not_a_photo).await;
        client.find(Locator::Id("upload-photo")).await.unwrap().click().await.unwrap();
        let error = text_when(&client, "#photo-error", |t| !t.is_empty()).await;
        assert!(error.contains("不是有效的 JPEG 或 PNG 图片"), "{error}");
        look_at(&client, &format!("agency-photo-refused-{label}")).await;
        let photo = portrait_file(&_profile);
        choose_file(&client, "photo-file", &photo).await;
        client.find(Locator::Id("upload-photo")).await.unwrap().click().await.unwrap();
        text_when(&client, "#photo-saved", |t| !t.is_empty()).await;
        look_at(&client, &format!("agency-photo-{label}")).await;
        client.find(Locator::Id("issue-card")).await.unwrap().click().await.unwrap();
        let card = text_when(&client, ".service-card", |t| t.contains("韩雪")).await;
        assert!(card.contains("JZ-"), "{card}");
        client.find(Locator::Id("card-photo")).await.expect("the photo on the card");
        look_at(&client, &format!("agency-card-{label}")).await;
        client.goto(&app.url(&format!("/workers/{worker}/timeline"))).await.unwrap();
        let timeline = text_of(&client, "main").await;
        assert!(timeline.contains("长春市安心家政服务有限公司") && timeline.contains("查验身份证原件"), "{timeline}");
        look_at(&client, &format!("agency-timeline-{label}")).await;
        sign_out(&client).await;

        sign_in_as(&client, &app, "nanguan").await;
        client.goto(&app.url("/regulator/credit")).await.unwrap();
        let queue = text_of(&client, "#review-queue").await;
        assert!(queue.contains("韩雪") && queue.contains("岗前培训") && queue.contains("录入"), "{queue}");
        look_at(&client, &format!("regulator-credit-{label}")).await;
        // A return without a reason: said beside the entry, on the same page.
        client.find(Locator::Css("#review-queue button[value='returned']")).await.unwrap().click().await.unwrap();
        let error = text_of(&client, "#review-queue p.error").await;
        assert!(error.contains("原因") || error.contains("理由"), "{error}");
        look_at(&client, &format!("regulator-refused-{label}")).await;
        client.find(Locator::Css("#review-queue button[value='approved']")).await.unwrap().click().await.unwrap();
        text_when(&client, "#decided", |t| t.contains("已记录")).await;
        let after = text_of(&client, "#review-queue").await;
        assert!(after.matches("韩雪").count() < queue.matches("韩雪").count(), "{after}");
        client.close().await.unwrap();
    }
}

/// Picks an option of a select by its value, as a person choosing from the list.
async fn choose(client: &Client, id: &str, value: &str) {
    client.find(Locator::Id(id)).await.unwrap().select_by_value(value).await.unwrap();
}

/// Sets a date field (typing into one depends on the browser's locale).
async fn set_date(client: &Client, id: &str, day: &str) {
    client.execute(&format!("document.getElementById('{id}').value = '{day}'"), vec![]).await.unwrap();
}

/// The market's whole journey: a new resident signs up with a phone code, sets the household,
/// finds a worker and books two hours of 日常保洁; the agency (in its own browser) confirms the
/// resident's choice; both sign the model contract and the resident checks its file on the public
/// page; the resident pays at the sandbox's cashier, whose signed notification reaches the
/// platform; the agency starts and completes the order, which settles the money to the agency;
/// the resident rates it; the rating is on the worker's credit timeline with the order as its
/// source.
#[tokio::test]
async fn a_new_resident_books_a_cleaner_the_agency_serves_and_the_rating_reaches_the_timeline() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let (_, worker, _) = app.cleaning_market(64).await;
        let phone = "13911112222";
        let (client, _driver, profile) = browser_for(width).await;
        client.goto(&app.url("/login")).await.unwrap();
        client.find(Locator::Id("phone-login")).await.unwrap().click().await.unwrap();
        text_when(&client, "h1", |t| t.contains("手机验证码")).await;
        fill(&client, "phone", "1391111").await;
        client.find(Locator::Id("send-code")).await.unwrap().click().await.unwrap();
        text_when(&client, "#phone-error", |t| t.contains("11位")).await;
        look_at(&client, &format!("market-phone-refused-{label}")).await;
        fill(&client, "phone", phone).await;
        client.find(Locator::Id("send-code")).await.unwrap().click().await.unwrap();
        let sent = text_when(&client, "#code-sent", |t| !t.is_empty()).await;
        assert!(sent.contains("139****2222"), "{sent}");
        look_at(&client, &format!("market-code-sent-{label}")).await;
        fill(&client, "code", &app.code_sent_to(phone)).await;
        client.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
        text_when(&client, "h1", |t| t.contains("找服务")).await;

        // Find and book; the booking asks for the household first and comes back to itself.
        let day = (jiazheng_core::calendar::beijing_today() + chrono::Duration::days(2)).to_string();
        go_by_menu(&client, "/market").await;
        choose(&client, "item", "daily_cleaning").await;
        choose(&client, "mode", "per_hour").await;
        set_date(&client, "date", &day).await;
        choose(&client, "time", "10:00").await;
        choose(&client, "hours", "2").await;
        client.find(Locator::Id("search")).await.unwrap().click().await.unwrap();
        text_when(&client, &format!("#worker-{worker}"), |t| t.contains("王*")).await;
        look_at(&client, &format!("market-found-{label}")).await;
        client.find(Locator::Id(&format!("book-{worker}"))).await.unwrap().click().await.unwrap();
        client.find(Locator::Id("set-address")).await.unwrap().click().await.unwrap();

        // The household: street, then community picked from lists; the rest typed. What was
        // typed before a step survives it.
        text_when(&client, "h1", |t| t.contains("我的账户")).await;
        fill(&client, "address", "华阳小区3栋2单元501").await;
        choose(&client, "street", "220102001").await;
        client.find(Locator::Id("next-place")).await.unwrap().click().await.unwrap();
        text_when(&client, "#community option[value='220102001001']", |_| true).await;
        let kept = client.find(Locator::Id("address")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("华阳小区3栋2单元501"));
        client.find(Locator::Id("save-address")).await.unwrap().click().await.unwrap();
        text_when(&client, "#community-error", |t| !t.is_empty()).await;
        choose(&client, "community", "220102001001").await;
        look_at(&client, &format!("market-profile-{label}")).await;
        client.find(Locator::Id("save-address")).await.unwrap().click().await.unwrap();

        // Back on the booking, with the address.
        let total = text_when(&client, "#book-total", |t| !t.is_empty()).await;
        assert_eq!(total, "¥90.00");
        assert!(text_of(&client, "#book-when").await.contains("10:00–12:00"));
        let facts = text_of(&client, "dl.facts").await;
        assert!(facts.contains("华阳社区") && facts.contains("华阳小区3栋2单元501"), "{facts}");
        look_at(&client, &format!("market-confirm-{label}")).await;
        // A length changed on this page is priced again before anything is booked.
        choose(&client, "hours", "3").await;
        client.find(Locator::Id("place-order")).await.unwrap().click().await.unwrap();
        text_when(&client, "#problem", |t| t.contains("合计")).await;
        assert_eq!(text_of(&client, "#book-total").await, "¥135.00");
        choose(&client, "hours", "2").await;
        client.find(Locator::Id("place-order")).await.unwrap().click().await.unwrap();
        text_when(&client, "#book-total", |t| t == "¥90.00").await;
        client.find(Locator::Id("place-order")).await.unwrap().click().await.unwrap();
        text_when(&client, "#placed", |t| !t.is_empty()).await;
        let order_url = client.current_url().await.unwrap();
        let order_id: i64 = order_url.path().rsplit('/').next().unwrap().parse().unwrap();
        assert_eq!(text_of(&client, "#order-status").await, "待确认");
        look_at(&client, &format!("market-order-placed-{label}")).await;

        // The agency, in its own browser, confirms the resident's choice ahead (the confirmation
        // checks the worker's shift at the booked time); then the day comes (the order is moved
        // to have begun three hours ago) and the agency serves it.
        let (agency, _agency_driver, _agency_profile) = browser_for(width).await;
        sign_in_as(&agency, &app, "agency_a").await;
        agency.goto(&app.url(&format!("/agency/orders/{order_id}"))).await.unwrap();
        agency.find(Locator::Id("step-confirm")).await.unwrap().click().await.unwrap();
        text_when(&agency, "#order-status", |t| t == "已派单").await;

        // The contract: the resident gives the name and ID number it states (a wrong number is
        // said beside the field, the name kept), then each party signs the same file.
        client.refresh().await.unwrap();
        text_when(&client, "#order-status", |t| t == "已派单").await;
        fill(&client, "legal_name", "李秀兰").await;
        fill(&client, "id_number", "22010219850601").await;
        client.find(Locator::Id("save-identity")).await.unwrap().click().await.unwrap();
        text_when(&client, "#id-number-error", |t| !t.is_empty()).await;
        let kept = client.find(Locator::Id("legal-name")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("李秀兰"));
        look_at(&client, &format!("contract-identity-refused-{label}")).await;
        fill(&client, "id_number", &common::id_number("220104", 90)).await;
        client.find(Locator::Id("save-identity")).await.unwrap().click().await.unwrap();
        text_when(&client, "#contract-status", |t| t == "待签署").await;
        let number = text_of(&client, "#contract-number").await;
        look_at(&client, &format!("contract-card-{label}")).await;

        agency.refresh().await.unwrap();
        agency.find(Locator::Id("open-contract")).await.unwrap().click().await.unwrap();
        text_when(&agency, "#contract-number", |t| t == number).await;
        agency.find(Locator::Id("contract-read")).await.unwrap().click().await.unwrap();
        agency.find(Locator::Id("sign-contract")).await.unwrap().click().await.unwrap();
        text_when(&agency, "#signed-by-me", |t| !t.is_empty()).await;
        look_at(&agency, &format!("contract-agency-signed-{label}")).await;

        client.find(Locator::Id("open-contract")).await.unwrap().click().await.unwrap();
        text_when(&client, "#contract-waiting", |t| t.contains("消费者")).await;
        client.find(Locator::Id("send-code")).await.unwrap().click().await.unwrap();
        text_when(&client, "#code-sent", |t| t.contains("139****2222")).await;
        // Signing without ticking that the contract was read is refused beside the box.
        fill(&client, "code", &app.code_sent_to(phone)).await;
        client.find(Locator::Id("sign-contract")).await.unwrap().click().await.unwrap();
        text_when(&client, "#read-error", |t| !t.is_empty()).await;
        client.find(Locator::Id("contract-read")).await.unwrap().click().await.unwrap();
        fill(&client, "code", &app.code_sent_to(phone)).await;
        client.find(Locator::Id("sign-contract")).await.unwrap().click().await.unwrap();
        text_when(&client, "#contract-status", |t| t == "已签署").await;
        look_at(&client, &format!("contract-signed-{label}")).await;

        // Anyone holding the file checks it on the public page: this one is unchanged.
        let contract = app.db.store.contract_by_number(&number).await.unwrap().unwrap();
        let file = profile.path().join(format!("{number}.pdf"));
        std::fs::write(&file, app.db.store.contract_pdf(contract.id).await.unwrap()).unwrap();
        go_by_menu(&client, "/contracts/check").await;
        text_when(&client, "h1", |t| t.contains("合同核验")).await;
        choose_file(&client, "check-file", &file).await;
        client.find(Locator::Id("check-contract")).await.unwrap().click().await.unwrap();
        text_when(&client, "#verdict", |t| t.contains("与签署时一致")).await;
        assert!(text_of(&client, "#check-result").await.contains("李秀兰"));
        look_at(&client, &format!("contract-checked-{label}")).await;
        client.goto(&app.url(&format!("/my/orders/{order_id}"))).await.unwrap();

        // The resident pays: 支付 on the order, the provider's cashier, and back. The sandbox's
        // signed notification goes to the platform over HTTP and is answered 2xx; the money is
        // held for the order until the service is done.
        let store = &app.db.store;
        assert_eq!(text_when(&client, "#pay-state", |t| !t.is_empty()).await, "待支付");
        client.find(Locator::Id("pay-order")).await.unwrap().click().await.unwrap();
        assert_eq!(text_when(&client, "#sandbox-amount", |t| !t.is_empty()).await, "¥90.00");
        look_at(&client, &format!("pay-cashier-{label}")).await;
        client.find(Locator::Id("sandbox-pay")).await.unwrap().click().await.unwrap();
        text_when(&client, "#order-status", |t| t == "已派单").await;
        assert_eq!(client.current_url().await.unwrap().path(), format!("/my/orders/{order_id}"));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while store.sandbox_undelivered().await.unwrap() > 0 {
            assert!(std::time::Instant::now() < deadline, "the notification was not acknowledged in 10 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        client.refresh().await.unwrap();
        assert_eq!(text_when(&client, "#pay-state", |t| t.starts_with("已支付")).await, "已支付 ¥90.00");
        assert!(text_of(&client, "#pay-held").await.contains("¥90.00"));
        assert!(client.find(Locator::Id("pay-order")).await.is_err(), "nothing more to pay");
        client.execute("document.getElementById('payment').scrollIntoView()", vec![]).await.unwrap();
        look_at(&client, &format!("pay-paid-{label}")).await;
        assert_eq!(store.held_for_order(order_id).await.unwrap().held_fen(), 9000);
        let agency_before = store.balance(Account::Agency(app.agency_a)).await.unwrap();

        jiazheng_store::testing::let_order_begin(&app.db.store, order_id).await.unwrap();
        go_by_menu(&agency, "/agency/orders").await;
        agency.find(Locator::Id("tab-today")).await.unwrap().click().await.unwrap();
        text_when(&agency, &format!("#order-{order_id}"), |t| t.contains("日常保洁")).await;
        look_at(&agency, &format!("market-board-{label}")).await;
        agency.goto(&app.url(&format!("/agency/orders/{order_id}"))).await.unwrap();
        for (step, status) in [("start", "服务中"), ("complete", "已完成")] {
            agency.find(Locator::Id(&format!("step-{step}"))).await.unwrap().click().await.unwrap();
            text_when(&agency, "#order-status", |t| t == status).await;
        }
        look_at(&agency, &format!("market-agency-order-{label}")).await;

        // Completion settled the order: nothing held, the agency owed the order's total (its
        // account is a liability, so what it is owed is negative), and the journal balances with
        // exactly one payment and one settlement, however the notification and the page's query
        // to the provider raced.
        assert_eq!(store.held_for_order(order_id).await.unwrap().held_fen(), 0);
        assert_eq!(store.balance(Account::Held(order_id)).await.unwrap(), 0);
        assert_eq!(store.balance(Account::Agency(app.agency_a)).await.unwrap(), agency_before - 9000);
        let audit = store.audit_journal().await.unwrap();
        assert!(audit.is_clean(), "{audit:?}");
        assert_eq!(audit.transactions, 2, "one payment, one settlement");

        // The resident rates it, once.
        client.refresh().await.unwrap();
        text_when(&client, "#order-status", |t| t == "已完成").await;
        for dimension in ["quality", "attitude", "communication"] {
            choose(&client, &format!("rate-{dimension}"), "5").await;
        }
        fill(&client, "comment", "打扫得很仔细").await;
        // One dimension forgotten: said beside it, the rest kept.
        client.find(Locator::Id("submit-rating")).await.unwrap().click().await.unwrap();
        text_when(&client, "#rate .field-error", |t| !t.is_empty()).await;
        let kept = client.find(Locator::Id("rate-quality")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("5"));
        let kept = client.find(Locator::Id("rate-comment")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("打扫得很仔细"));
        choose(&client, "rate-punctuality", "4").await;
        client.find(Locator::Id("submit-rating")).await.unwrap().click().await.unwrap();
        text_when(&client, "#order-status", |t| t == "已评价").await;
        assert!(client.find(Locator::Id("submit-rating")).await.is_err(), "one rating per order");
        let mine = text_of(&client, "#my-rating").await;
        assert!(mine.contains("★★★★☆") && mine.contains("打扫得很仔细"), "{mine}");
        look_at(&client, &format!("market-rated-{label}")).await;

        // The rating is on the worker's credit timeline, from the platform order.
        agency.goto(&app.url(&format!("/workers/{worker}/timeline"))).await.unwrap();
        let timeline = text_when(&agency, "main", |t| t.contains("评价")).await;
        assert!(timeline.contains(&format!("平台订单 JZ{order_id:08}")), "{timeline}");
        look_at(&agency, &format!("market-timeline-{label}")).await;
        client.close().await.unwrap();
        agency.close().await.unwrap();
    }
}

/// A household answers a survey on a phone, signing in by its phone on the way: the link, the
/// phone's code, back to the survey, the answers (an empty first try is answered beside the
/// fields), thanks.
async fn answer_as_household(client: &Client, app: &TestApp, link: &str, phone: &str, community: &str, picks: &[&str]) {
    client.goto(link).await.unwrap();
    client.find(Locator::Id("sign-in-to-answer")).await.unwrap().click().await.unwrap();
    text_when(client, "h1", |t| t.contains("手机验证码")).await;
    fill(client, "phone", phone).await;
    client.find(Locator::Id("send-code")).await.unwrap().click().await.unwrap();
    text_when(client, "#code-sent", |t| !t.is_empty()).await;
    fill(client, "code", &app.code_sent_to(phone)).await;
    client.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
    text_when(client, "#send-answer", |_| true).await;
    choose(client, "community", community).await;
    for pick in picks {
        client.find(Locator::Css(pick)).await.unwrap().click().await.unwrap();
    }
    client.find(Locator::Id("send-answer")).await.unwrap().click().await.unwrap();
}

/// Community staff publish a demand survey; three households answer it on a phone-sized page
/// (the first leaves questions out and is told beside them); a second answer from a household,
/// sent from a tab opened before its first, is refused; the staff's demand list and gap report
/// show the answers against the agency's published price.
#[tokio::test]
async fn staff_publish_a_survey_households_answer_on_phones_and_the_demand_and_gap_show_it() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        app.db
            .store
            .create_account(&jiazheng_store::accounts::NewAccount {
                username: "nanling".into(),
                display_name: "南岭街道社区工作人员".into(),
                password: PASSWORD.into(),
                role: jiazheng_core::account::Role::CommunityStaff,
                agency_id: None,
                district_code: Some("220102001000".into()),
                worker_id: None,
                provider_id: None,
                bank_id: None,
                evaluator_id: None,
            })
            .await
            .unwrap();
        // Agency A sells 日常保洁 at ¥45 an hour from a point serving 华阳社区.
        let (agency, _, _) = app.cleaning_market(65).await;
        let point = json!({"name": "华阳社区家政服务站", "community_code": "220102001001", "address": "华阳街1号",
            "opening_hours": "08:00-18:00", "serves": []});
        assert_eq!(app.post_json("/api/v1/service-points", &agency, &point).await.0, 201);

        let (staff, _staff_driver, _staff_profile) = browser_for(width).await;
        sign_in_as(&staff, &app, "nanling").await;
        text_when(&staff, "h1", |t| t.contains("南岭街道")).await;
        look_at(&staff, &format!("community-desk-{label}")).await;
        staff.find(Locator::Css("main a[href='/community/surveys/new']")).await.unwrap().click().await.unwrap();
        text_when(&staff, "#publish", |_| true).await;
        fill(&staff, "title", "冬季家政服务需求调查").await;
        look_at(&staff, &format!("survey-new-{label}")).await;
        staff.find(Locator::Id("publish")).await.unwrap().click().await.unwrap();
        let link = text_when(&staff, "#survey-link", |t| t.contains("/surveys/")).await;
        look_at(&staff, &format!("survey-published-{label}")).await;

        // Three households, each on a phone.
        let (phone, _phone_driver, _phone_profile) = browser_for(Some(390)).await;
        answer_as_household(&phone, &app, &link, "13911110001", "220102001001", &[]).await;
        text_when(&phone, "#services-error", |t| !t.is_empty()).await;
        look_at(&phone, &format!("survey-answer-refused-{label}")).await;
        // A second tab, opened now, will try to answer again later.
        let first_tab = phone.window().await.unwrap();
        let second_tab = phone.new_window(true).await.unwrap().handle;
        phone.switch_to_window(second_tab.clone()).await.unwrap();
        phone.goto(&link).await.unwrap();
        text_when(&phone, "#send-answer", |_| true).await;
        phone.switch_to_window(first_tab).await.unwrap();
        for pick in [
            "input[value='daily_cleaning']",
            "input[value='weekly']",
            "input[value='morning']",
            "input[value='elderly']",
        ] {
            phone.find(Locator::Css(pick)).await.unwrap().click().await.unwrap();
        }
        fill(&phone, "price_min", "30").await;
        fill(&phone, "price_max", "40").await;
        phone.find(Locator::Id("send-answer")).await.unwrap().click().await.unwrap();
        text_when(&phone, "#thanks", |t| !t.is_empty()).await;
        look_at(&phone, &format!("survey-thanks-{label}")).await;
        phone.switch_to_window(second_tab).await.unwrap();
        for pick in
            ["input[value='cooking']", "input[value='monthly']", "input[value='evening']", "input[value='nobody']"]
        {
            phone.find(Locator::Css(pick)).await.unwrap().click().await.unwrap();
        }
        fill(&phone, "price_min", "20").await;
        fill(&phone, "price_max", "30").await;
        phone.find(Locator::Id("send-answer")).await.unwrap().click().await.unwrap();
        text_when(&phone, "#answered", |t| t.contains("只能填写一次")).await;
        look_at(&phone, &format!("survey-second-answer-refused-{label}")).await;
        phone.close().await.unwrap();

        let households = [
            (
                "13911110002",
                "220102001001",
                [
                    "input[value='daily_cleaning']",
                    "input[value='several_a_week']",
                    "input[value='afternoon']",
                    "input[value='child']",
                ],
            ),
            (
                "13911110003",
                "220102001002",
                [
                    "input[value='elderly_care']",
                    "input[value='weekly']",
                    "input[value='morning']",
                    "input[value='elderly']",
                ],
            ),
        ];
        for (number, community, picks) in households {
            let (phone, _driver, _profile) = browser_for(Some(390)).await;
            answer_as_household(&phone, &app, &link, number, community, &picks).await;
            // The prices were left empty: said beside them, the ticks kept.
            text_when(&phone, "#price_max-error", |t| !t.is_empty()).await;
            assert!(phone.find(Locator::Css(picks[0])).await.unwrap().is_selected().await.unwrap(), "ticks kept");
            fill(&phone, "price_min", "40").await;
            fill(&phone, "price_max", "60").await;
            phone.find(Locator::Id("send-answer")).await.unwrap().click().await.unwrap();
            text_when(&phone, "#thanks", |t| !t.is_empty()).await;
            phone.close().await.unwrap();
        }

        // The staff's survey page: three answers, the demand list per community, the gap.
        staff.refresh().await.unwrap();
        assert_eq!(text_when(&staff, "#answer-count", |t| t == "3").await, "3");
        let demand = text_of(&staff, "#demand-table").await;
        assert!(demand.contains("华阳社区") && demand.contains("恒安社区"), "{demand}");
        assert!(demand.contains("日常保洁") && demand.contains("居家养老照护"), "{demand}");
        let gap = text_of(&staff, "#gap-table").await;
        // 恒安社区 asked for elderly care and no point serves it; 华阳社区's cleaning is sold at
        // ¥45 an hour, above the ¥40 the first household accepts but within the average of ¥50.
        assert!(gap.contains("恒安社区") && gap.contains("有需求、无供给"), "{gap}");
        assert!(gap.contains("华阳社区") && gap.contains("¥45.00"), "{gap}");
        look_at(&staff, &format!("survey-demand-gap-{label}")).await;
        staff.find(Locator::Css("a[href$='?level=street#demand']")).await.unwrap().click().await.unwrap();
        text_when(&staff, "#demand-table", |t| t.contains("南岭街道")).await;
        staff.close().await.unwrap();
    }
}

/// An agency runs its point's page (hours, duty, a tool lent, an event), a school proposes a
/// 家政驿站 that the community's staff confirm, and the public reads the community's page: each
/// page fits a phone and shows no code.
#[tokio::test]
async fn a_point_a_station_and_a_community_page_on_a_phone_and_a_desktop() {
    use jiazheng_core::community::operations::{Borrower, CheckoutDraft, DutyDraft, PointEventDraft, ToolDraft};
    use jiazheng_core::market::slot::{Shift, Slot, day_start};
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        let store = &app.db.store;
        let worker = app.employ(71, "韩梅", "cleaning").await;
        let form = jiazheng_core::registry::service_point::ServicePointForm {
            name: "华阳社区家政服务站".into(),
            community_code: "220102001001".into(),
            address: "华阳街1号".into(),
            opening_hours: "08:00-18:00".into(),
            serves: vec![],
            ..Default::default()
        };
        let point = store.create_service_point(app.agency_a, &form.parse().unwrap()).await.unwrap();
        let shift = Shift::parse("08:30", "17:30").unwrap();
        store.set_point_hours(point, app.agency_a, &(1..=7).map(|d| (d, shift)).collect::<Vec<_>>()).await.unwrap();
        let tomorrow = day_start(jiazheng_server::api::workers::today() + chrono::Duration::days(1));
        let slot = Slot { start: tomorrow + chrono::Duration::hours(9), end: tomorrow + chrono::Duration::hours(12) };
        let admin = store.authenticate("agency_a", PASSWORD).await.unwrap().unwrap().account_id;
        store.add_duty(point, app.agency_a, admin, &DutyDraft { worker_id: worker, slot }).await.unwrap();
        let tool =
            store.add_tool(point, app.agency_a, &ToolDraft { name: "高空擦窗器".into(), count: 1 }).await.unwrap();
        let lent = CheckoutDraft {
            borrower: Borrower::Volunteer("王秀兰".into()),
            due_on: jiazheng_server::api::workers::today(),
        };
        store.check_out_tool(point, tool, app.agency_a, admin, &lent).await.unwrap();
        let event = PointEventDraft {
            title: "家电清洗进社区".into(),
            slot,
            description: "免费清洗油烟机".into(),
            attendance: Some(30),
        };
        store.add_point_event(point, app.agency_a, admin, &event).await.unwrap();
        common::school_with_course(&app, "school1", 40).await;
        common::area_account(&app, "nanguan_staff", jiazheng_core::account::Role::CommunityStaff, "220102000000").await;

        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "agency_a").await;
        client.goto(&app.url("/agency/points")).await.unwrap();
        client.find(Locator::Css(&format!("a[href='/agency/points/{point}']"))).await.unwrap().click().await.unwrap();
        text_when(&client, "#week-hours", |t| !t.is_empty()).await;
        look_at(&client, &format!("point-ops-{label}")).await;
        // A duty that ends before it starts: refused beside the field, on the phone too.
        choose(&client, "duty-worker", &worker.to_string()).await;
        client.find(Locator::Id("add-duty")).await.unwrap().click().await.unwrap();
        text_when(&client, "#duty .alert", |t| !t.is_empty()).await;
        look_at(&client, &format!("point-ops-refused-{label}")).await;
        sign_out(&client).await;

        sign_in_as(&client, &app, "school1").await;
        client.goto(&app.url("/school/stations?street=220102001")).await.unwrap();
        fill(&client, "name", "春城家政驿站").await;
        choose(&client, "community", "220102001001").await;
        fill(&client, "address", "华阳街8号").await;
        client.find(Locator::Css("input[name='services'][value='elderly_care']")).await.unwrap().click().await.unwrap();
        fill(&client, "hours", "周一至周五 09:00-17:00").await;
        client.find(Locator::Id("propose-station")).await.unwrap().click().await.unwrap();
        text_when(&client, "#stations", |t| t.contains("春城家政驿站")).await;
        look_at(&client, &format!("school-stations-{label}")).await;
        sign_out(&client).await;

        sign_in_as(&client, &app, "nanguan_staff").await;
        client.goto(&app.url("/community/stations")).await.unwrap();
        look_at(&client, &format!("community-stations-{label}")).await;
        client.find(Locator::Css("form[action$='/confirm'] button")).await.unwrap().click().await.unwrap();
        text_when(&client, "#stations", |t| t.contains("运营中")).await;
        client.goto(&app.url("/community/volunteer")).await.unwrap();
        choose(&client, "p-kind", "red").await;
        fill(&client, "title", "党员家政服务队").await;
        fill(&client, "description", "为独居老人上门保洁").await;
        client.find(Locator::Id("create-project")).await.unwrap().click().await.unwrap();
        text_when(&client, "h1", |t| t.contains("党员家政服务队")).await;
        look_at(&client, &format!("volunteer-project-{label}")).await;
        sign_out(&client).await;

        client.goto(&app.url("/service-points")).await.unwrap();
        client.find(Locator::Css("a[href='/communities/220102001001']")).await.unwrap().click().await.unwrap();
        text_when(&client, "#stations", |t| t.contains("春城家政驿站")).await;
        look_at(&client, &format!("community-page-{label}")).await;
        client.close().await.unwrap();
    }
}

/// Third-party evaluation (task 12), the "done when": the city's regulator opens a round
/// with its published weights and adds an agency, an evaluator scores the agency on the seven
/// dimensions with evidence (the platform's own figures beside each), the regulator publishes,
/// and the public page shows the result with its weights; on a phone and a desktop.
#[tokio::test]
async fn the_regulator_opens_a_round_an_evaluator_scores_and_the_public_reads_the_result_with_its_weights() {
    use jiazheng_core::oversight::evaluation::{Dimension, OrgForm};
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        app.employ(81, "孙丽", "cleaning").await;
        let org = OrgForm {
            name: "吉林省家政服务评价中心".into(),
            contact: "王经理 13900000000".into(),
            ..Default::default()
        };
        let org = app.db.store.create_evaluator_org(&org.parse().unwrap(), None).await.unwrap();
        app.db
            .store
            .create_account(&jiazheng_store::accounts::NewAccount::scoped(
                "pingjia".into(),
                "评价中心评价员".into(),
                PASSWORD.into(),
                jiazheng_core::account::Role::Evaluator,
                &jiazheng_core::account::Scope::Evaluator(org),
            ))
            .await
            .unwrap();
        let (client, _driver, profile) = browser_for(width).await;

        // The regulator opens the round: weights that do not add up are said beside them.
        sign_in_as(&client, &app, "city").await;
        go_by_menu(&client, "/regulator/evaluation").await;
        text_when(&client, "h1", |t| t.contains("第三方评价")).await;
        client.find(Locator::Id("new-round")).await.unwrap().click().await.unwrap();
        text_when(&client, "h1", |t| t.contains("开启一轮")).await;
        fill(&client, "name", "2025年度家政企业第三方评价").await;
        fill(&client, "weight_standards", "15").await;
        client.find(Locator::Id("open-round")).await.unwrap().click().await.unwrap();
        let said = text_when(&client, "#weights-error", |t| !t.is_empty()).await;
        assert!(said.contains("105%"), "{said}");
        look_at(&client, &format!("evaluation-round-form-refused-{label}")).await;
        fill(&client, "weight_standards", "10").await;
        client.find(Locator::Id("open-round")).await.unwrap().click().await.unwrap();
        text_when(&client, "h1", |t| t.contains("2025年度家政企业第三方评价")).await;
        fill(&client, "agency_q", "安心").await;
        client.find(Locator::Id("find-agency")).await.unwrap().click().await.unwrap();
        text_when(&client, "#agency-found", |t| t.contains("安心家政")).await;
        client.find(Locator::Css("#agency-found button")).await.unwrap().click().await.unwrap();
        text_when(&client, "#subject-list", |t| t.contains("安心家政")).await;
        choose(&client, "org", &org.to_string()).await;
        client.find(Locator::Id("assign")).await.unwrap().click().await.unwrap();
        text_when(&client, "#assignments", |t| t.contains("吉林省家政服务评价中心")).await;
        look_at(&client, &format!("evaluation-round-open-{label}")).await;
        client.goto(&app.url("/regulator/evaluation/orgs")).await.unwrap();
        text_when(&client, "#org-list", |t| t.contains("吉林省家政服务评价中心")).await;
        look_at(&client, &format!("evaluation-orgs-{label}")).await;
        sign_out(&client).await;

        // The evaluator scores the agency on the seven dimensions, a file as one score's evidence.
        sign_in_as(&client, &app, "pingjia").await;
        text_when(&client, "#my-rounds", |t| t.contains("2025年度")).await;
        look_at(&client, &format!("evaluation-desk-{label}")).await;
        client.find(Locator::Css("#my-rounds a")).await.unwrap().click().await.unwrap();
        text_when(&client, "#my-subjects", |t| t.contains("安心家政")).await;
        client.find(Locator::Css("#my-subjects a")).await.unwrap().click().await.unwrap();
        let figures = text_when(&client, "#dim-employment", |t| t.contains("平台数据")).await;
        assert!(figures.contains("100% (1/1)"), "the platform's own figure beside the dimension: {figures}");
        for (i, d) in Dimension::ALL.iter().enumerate() {
            let score = if i == 0 { "90" } else { "80" };
            fill(&client, &format!("score_{}", d.as_str()), score).await;
            if *d != Dimension::Brand {
                fill(&client, &format!("note_{}", d.as_str()), "现场核查及台账抽查").await;
            }
        }
        choose_file(&client, "file_brand", &portrait_file(&profile)).await;
        client.find(Locator::Id("save-scores")).await.unwrap().click().await.unwrap();
        text_when(&client, "[role='status']", |t| t.contains("已保存")).await;
        look_at(&client, &format!("evaluation-scoring-{label}")).await;
        client.find(Locator::Id("submit-scorecard")).await.unwrap().click().await.unwrap();
        text_when(&client, "#my-subjects", |t| t.contains("已提交")).await;
        sign_out(&client).await;

        // The regulator publishes.
        sign_in_as(&client, &app, "city").await;
        go_by_menu(&client, "/regulator/evaluation").await;
        client.find(Locator::Css("#round-list a")).await.unwrap().click().await.unwrap();
        text_when(&client, "#result-table", |t| t.contains("82.00")).await;
        client.find(Locator::Id("publish")).await.unwrap().click().await.unwrap();
        text_when(&client, "#round-facts", |t| t.contains("已发布")).await;
        look_at(&client, &format!("evaluation-round-published-{label}")).await;
        sign_out(&client).await;

        // The public reads the result with the weights: 20% × 90 + 80% × 80 = 82.00.
        go_by_menu(&client, "/evaluations").await;
        client.find(Locator::Css("#published-rounds a")).await.unwrap().click().await.unwrap();
        let weights = text_when(&client, "#weight-table", |t| t.contains("员工制发展程度")).await;
        for (dimension, weight) in [("员工制发展程度", "20%"), ("家政进社区", "15%"), ("标准与法规", "10%")]
        {
            let line = weights.lines().find(|l| l.contains(dimension)).unwrap_or_default();
            assert!(line.contains(weight), "{dimension} {weight}: {weights}");
        }
        let results = text_of(&client, "#result-table").await;
        assert!(
            results.contains("长春市安心家政服务有限公司") && results.contains("82.00") && results.contains("90.00"),
            "{results}"
        );
        let date = text_of(&client, "#data-date").await;
        assert!(date.contains(&jiazheng_server::api::workers::today().to_string()), "the date of the data: {date}");
        look_at(&client, &format!("evaluation-public-{label}")).await;
        client.find(Locator::Css("#result-table a")).await.unwrap().click().await.unwrap();
        let line = text_when(&client, "#evaluation", |t| !t.is_empty()).await;
        assert!(line.contains("82.00分 · 第1名（共1家）"), "{line}");
        client.close().await.unwrap();
    }
}

/// An agency claims two workers' social insurance from its list, is told beside the list that
/// the months are already claimed when it tries again, and the district's regulator approves the
/// matching lines; the regulator's rectification order is reported on and accepted. Each page
/// fits a phone and shows no codes.
#[tokio::test]
async fn an_agency_claims_a_subsidy_and_reports_on_a_rectification_order_on_a_phone_and_a_desktop() {
    for (width, label) in WIDTHS {
        let app = TestApp::spawn().await;
        app.employ(71, "孙丽", "cleaning").await;
        app.employ(72, "周敏", "cleaning").await;
        let store = &app.db.store;
        let sql = format!(
            "UPDATE bindings SET started_at = '2024-01-01T00:00:00+00:00' WHERE agency_id = {a};
             INSERT INTO social_insurance (worker_id, agency_id, enrolled, since, updated_at)
             SELECT worker_id, agency_id, TRUE, '2025-02-01', '2024-01-01T00:00:00+00:00' FROM bindings WHERE agency_id = {a}",
            a = app.agency_a
        );
        for statement in sql.split(';') {
            jiazheng_store::testing::run_sql(store, statement).await.unwrap();
        }
        let city = app.token("city").await;
        let standard = json!({"kind": "social_insurance", "amount": "320"});
        assert_eq!(app.put_json("/api/v1/claims/standards", &city, &standard).await.0, 204);

        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "agency_a").await;
        client.goto(&app.url("/agency/claims/new?kind=social_insurance&from=2025-01&to=2025-03")).await.unwrap();
        let listed = text_of(&client, "#items").await;
        assert!(listed.contains("孙丽") && listed.contains("参保自 2025-02-01"), "{listed}");
        look_at(&client, &format!("claim-new-{label}")).await;
        client.find(Locator::Id("submit-claim")).await.unwrap().click().await.unwrap();
        text_when(&client, "#submitted", |t| !t.is_empty()).await;
        let counts = text_of(&client, "#line-counts").await;
        assert!(counts.contains("6") && counts.contains("4") && counts.contains("2"), "{counts}");
        look_at(&client, &format!("claim-submitted-{label}")).await;
        let number = text_of(&client, "h1").await.split_whitespace().last().unwrap().to_string();
        client.goto(&app.url("/agency/claims/new?kind=social_insurance&from=2025-03&to=2025-03")).await.unwrap();
        client.find(Locator::Id("submit-claim")).await.unwrap().click().await.unwrap();
        let beside = text_when(&client, "#items-error", |t| !t.is_empty()).await;
        assert!(beside.contains(&number), "{beside}");
        look_at(&client, &format!("claim-clash-{label}")).await;
        client.close().await.unwrap();

        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "nanguan").await;
        client.goto(&app.url("/regulator/claims")).await.unwrap();
        look_at(&client, &format!("regulator-claims-{label}")).await;
        client.find(Locator::LinkText(&number)).await.unwrap().click().await.unwrap();
        let problems = text_of(&client, "#problems").await;
        assert!(problems.contains("没有本企业为其参加社保"), "{problems}");
        look_at(&client, &format!("regulator-claim-{label}")).await;
        // Nothing is preselected: sent as it stands, the form asks for a decision.
        client.find(Locator::Id("decide-claim")).await.unwrap().click().await.unwrap();
        text_when(&client, "#decision-error", |t| !t.is_empty()).await;
        client.find(Locator::Css("input[name='decision'][value='matching']")).await.unwrap().click().await.unwrap();
        client.find(Locator::Id("decide-claim")).await.unwrap().click().await.unwrap();
        text_when(&client, "#decided", |t| t.contains("审核结果已保存")).await;
        let status = text_when(&client, "#claim-status", |t| t.contains("部分批准")).await;
        assert!(status.contains("部分批准"));
        assert!(text_of(&client, "#approved").await.contains("¥1280.00"));

        // A penalty, an order opened from the regulator's list.
        let nanguan = app.token("nanguan").await;
        let penalty = json!({"subject_kind": "agency", "subject_id": app.agency_a, "kind": "penalty",
            "decided_on": jiazheng_server::api::workers::today().to_string(), "authority": "长春市南关区商务局",
            "document": "南商罚〔2026〕9号", "reason": "未为员工制服务员缴纳社保"});
        assert_eq!(app.post_json("/api/v1/credit/actions", &nanguan, &penalty).await.0, 201);
        client.goto(&app.url("/regulator/rectifications")).await.unwrap();
        look_at(&client, &format!("regulator-rectifications-{label}")).await;
        client.find(Locator::Css("a.open-order")).await.unwrap().click().await.unwrap();
        let deadline =
            (jiazheng_server::api::workers::today() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
        client.execute(&format!("document.getElementById('deadline').value = '{deadline}'"), vec![]).await.unwrap();
        fill(&client, "requirement", "为全部员工制服务员补缴社保，并提交缴费凭证").await;
        look_at(&client, &format!("rectification-new-{label}")).await;
        client.find(Locator::Id("open-order")).await.unwrap().click().await.unwrap();
        let status = text_of(&client, "#order-status").await;
        assert!(status.contains("待整改"), "{status}");
        let order = client.current_url().await.unwrap().path().rsplit('/').next().unwrap().to_string();
        client.close().await.unwrap();

        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "agency_a").await;
        client.goto(&app.url("/agency/rectifications")).await.unwrap();
        look_at(&client, &format!("agency-rectifications-{label}")).await;
        client.goto(&app.url(&format!("/agency/rectifications/{order}"))).await.unwrap();
        client.find(Locator::Id("send-report")).await.unwrap().click().await.unwrap();
        text_when(&client, "#text-error", |t| !t.is_empty()).await;
        look_at(&client, &format!("rectification-report-refused-{label}")).await;
        fill(&client, "text", "已为2名员工补缴2025年1月社保").await;
        client.find(Locator::Id("send-report")).await.unwrap().click().await.unwrap();
        text_when(&client, "#reported", |t| !t.is_empty()).await;
        look_at(&client, &format!("rectification-reported-{label}")).await;
        client.close().await.unwrap();

        let (client, _driver, _profile) = browser_for(width).await;
        sign_in_as(&client, &app, "nanguan").await;
        client.goto(&app.url(&format!("/regulator/rectifications/{order}"))).await.unwrap();
        client.find(Locator::Css("input[name='action'][value='accept']")).await.unwrap().click().await.unwrap();
        client.find(Locator::Id("review-order")).await.unwrap().click().await.unwrap();
        let status = text_when(&client, "#order-status", |t| t.contains("已验收")).await;
        assert!(status.contains("已验收"));
        look_at(&client, &format!("rectification-accepted-{label}")).await;
        client.close().await.unwrap();
    }
}
