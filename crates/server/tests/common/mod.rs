//! A running server on a fresh database (SQLite, or PostgreSQL when JIAZHENG_TEST_DATABASE is
//! a URL), with two agencies and accounts of each kind the tests need.

#![allow(dead_code)]

use chrono::NaiveDate;
use jiazheng_core::account::Role;
use jiazheng_core::ids::{ResidentId, Uscc};
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_server::{Application, Config};
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::testing::TestDb;
use serde_json::{Value, json};

pub const PASSWORD: &str = "test-password-1";

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub agency_a: i64,
    pub agency_b: i64,
    pub uscc_a: String,
    pub client: reqwest::Client,
    /// The built-in text channel: sign-in codes sent land here (and in the log).
    pub texts: std::sync::Arc<jiazheng_store::workforce::jobs::LogDelivery>,
}

pub fn agency_form(body: &str, name: &str, street: &str) -> AgencyForm {
    AgencyForm {
        uscc: Uscc::compose(&street[..6], body),
        name: name.into(),
        brand_name: String::new(),
        legal_representative: "李明".into(),
        address: "人民大街1号".into(),
        street_code: street.into(),
        phone: "043188886666".into(),
        business_model: "employee".into(),
    }
}

/// A valid ID number for a person born in 1985 in `district` (6 digits), numbered `seq`.
pub fn id_number(district: &str, seq: u16) -> String {
    let birth = NaiveDate::from_ymd_opt(1985, 6, 12).unwrap() + chrono::Duration::days(i64::from(seq));
    ResidentId::compose(district, birth, seq)
}

/// The same number with its check character changed.
pub fn with_wrong_check(id: &str) -> String {
    let last = id.chars().last().unwrap();
    let wrong = if last == '1' { '2' } else { '1' };
    format!("{}{}", &id[..17], wrong)
}

pub fn worker_json(id: &str, name: &str, street: &str) -> Value {
    json!({
        "id_number": id,
        "name": name,
        "phone": "13904310000",
        "education_level": "senior",
        "home_street": street,
        "services": ["cleaning", "maternity"],
    })
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let store = db.store.clone();
        let form_a = agency_form("MA0Y1234", "长春市安心家政服务有限公司", "220102001");
        let uscc_a = form_a.uscc.clone();
        let agency_a = store.create_agency(&form_a.parse().unwrap()).await.unwrap();
        let agency_b = store
            .create_agency(&agency_form("MA0Y5678", "朝阳区好帮手家政", "220104001").parse().unwrap())
            .await
            .unwrap();
        let accounts = [
            ("agency_a", Role::AgencyAdmin, Some(agency_a), None),
            ("agency_b", Role::AgencyAdmin, Some(agency_b), None),
            ("nanguan", Role::Regulator, None, Some("220102000000")),
            ("chaoyang", Role::Regulator, None, Some("220104000000")),
            ("city", Role::Regulator, None, None),
            ("admin", Role::SystemAdmin, None, None),
            ("resident", Role::Resident, None, None),
        ];
        for (name, role, agency_id, district) in accounts {
            store
                .create_account(&NewAccount {
                    username: name.into(),
                    display_name: name.into(),
                    password: PASSWORD.into(),
                    role,
                    agency_id,
                    district_code: district.map(String::from),
                    worker_id: None,
                    provider_id: None,
                    bank_id: None,
                    evaluator_id: None,
                })
                .await
                .unwrap();
        }
        let texts = std::sync::Arc::new(jiazheng_store::workforce::jobs::LogDelivery::default());
        let config = Config { texts: Some(jiazheng_server::TextChannel(texts.clone())), ..Config::default() };
        let app = Application::build(store, "127.0.0.1:0", config).await.unwrap();
        let base = format!("http://{}", app.local_addr().unwrap());
        tokio::spawn(app.run());
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { base, db, agency_a, agency_b, uscc_a, client, texts }
    }

    /// The sign-in code last sent to `phone`.
    pub fn code_sent_to(&self, phone: &str) -> String {
        let text = self.texts.last_text_to(phone).expect("a text was sent");
        text.chars().filter(char::is_ascii_digit).take(6).collect()
    }

    /// A resident signed in by phone code, with a household in 华阳社区; returns the bearer token.
    pub async fn phone_resident(&self, phone: &str) -> String {
        let (status, _) = self.post_json("/api/v1/resident/codes", "", &json!({"phone": phone})).await;
        assert_eq!(status, 202);
        let code = self.code_sent_to(phone);
        let (status, body) =
            self.post_json("/api/v1/resident/session", "", &json!({"phone": phone, "code": code})).await;
        assert_eq!(status, 200, "{body}");
        let token = body["token"].as_str().unwrap().to_string();
        let household = json!({"community": "220102001001", "address": "华阳小区3栋2单元501"});
        let response = self
            .client
            .put(self.url("/api/v1/resident/profile"))
            .bearer_auth(&token)
            .json(&household)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        token
    }

    /// A qualified cleaner of agency A working 08:00–20:00 every day, and the agency's 日常保洁 by
    /// the hour at ¥45 (at least 2 hours). Returns (agency token, worker id, menu item id).
    pub async fn cleaning_market(&self, seq: u16) -> (String, i64, i64) {
        let worker = self.employ(seq, "王芳", "cleaning").await;
        let today = jiazheng_core::calendar::beijing_today();
        jiazheng_store::testing::give_cleaning_records(
            &self.db.store,
            self.agency_a,
            worker,
            today - chrono::Duration::days(30),
            today,
        )
        .await
        .unwrap();
        let agency = self.token("agency_a").await;
        let day = json!({"from": "08:00", "to": "20:00"});
        let week = json!({"days": [day, day, day, day, day, day, day]});
        let response = self
            .client
            .put(self.url(&format!("/api/v1/workers/{worker}/shifts")))
            .bearer_auth(&agency)
            .json(&week)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let menu = self.db.store.menu_of_agency(self.agency_a).await.unwrap();
        let menu_id = match menu.first() {
            Some(item) => item.id,
            None => {
                let form = json!({"item": "日常保洁", "mode": "per_hour", "price": "45", "amount": "2",
                    "free_cancel_hours": "24", "cancel_fee_percent": "20", "description": "擦拭、吸尘、拖地"});
                let (status, body) = self.post_json("/api/v1/agency/menu", &agency, &form).await;
                assert_eq!(status, 201, "{body}");
                body["id"].as_i64().unwrap()
            }
        };
        (agency, worker, menu_id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A bearer token for `username`.
    pub async fn token(&self, username: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login {username}");
        response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }

    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self.client.post(self.url(path)).bearer_auth(token).json(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let response = self.client.put(self.url(path)).bearer_auth(token).json(body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A worker of agency A, both sides confirmed, offering `services` (codes, comma-separated).
    pub async fn employ(&self, seq: u16, name: &str, services: &str) -> i64 {
        self.employ_at(self.agency_a, seq, name, services).await
    }

    /// A worker of `agency`, both sides confirmed.
    pub async fn employ_at(&self, agency: i64, seq: u16, name: &str, services: &str) -> i64 {
        let draft = jiazheng_core::registry::worker::WorkerForm {
            id_number: id_number("220102", seq),
            name: name.into(),
            phone: format!("139{:08}", 4310000 + u32::from(seq)),
            education_level: "college".into(),
            home_street: "220102001".into(),
            services: vec![services.into()],
            ..Default::default()
        }
        .parse(jiazheng_server::api::workers::today())
        .unwrap();
        let binding = Some(jiazheng_store::registry::workers::NewBinding {
            agency_id: agency,
            kind: jiazheng_core::registry::binding::BindingKind::Employee,
            active: true,
        });
        let rows = [jiazheng_store::registry::workers::NewWorker { draft: &draft, binding }];
        self.db.store.insert_workers(&rows).await.unwrap()[0]
    }

    /// The worker confirms the agency's open binding request, as they would from `/me`.
    pub async fn confirm_binding(&self, worker: i64, agency: i64) {
        let store = &self.db.store;
        let binding = store.open_binding(worker, agency).await.unwrap().expect("an open binding");
        store
            .act_on_binding(
                binding.id,
                jiazheng_core::registry::binding::BindingAction::Confirm,
                jiazheng_core::registry::binding::Side::Worker,
            )
            .await
            .unwrap();
    }

    /// An account of `role` with no agency, district or record of its own.
    pub async fn plain_account(&self, username: &str, role: Role) -> i64 {
        self.db
            .store
            .create_account(&NewAccount {
                username: username.into(),
                display_name: username.into(),
                password: PASSWORD.into(),
                role,
                agency_id: None,
                district_code: None,
                worker_id: None,
                provider_id: None,
                bank_id: None,
                evaluator_id: None,
            })
            .await
            .unwrap()
    }

    /// A bank and an account of it; returns the bank's id.
    pub async fn bank_account(&self, username: &str, bank: &str) -> i64 {
        let bank_id = self.db.store.create_bank(bank).await.unwrap();
        self.db
            .store
            .create_account(&NewAccount {
                username: username.into(),
                display_name: bank.into(),
                password: PASSWORD.into(),
                role: Role::Bank,
                agency_id: None,
                district_code: None,
                worker_id: None,
                provider_id: None,
                bank_id: Some(bank_id),
                evaluator_id: None,
            })
            .await
            .unwrap();
        bank_id
    }

    /// A worker account for the worker record `worker_id`.
    pub async fn worker_account(&self, username: &str, display_name: &str, worker_id: i64) {
        self.db
            .store
            .create_account(&NewAccount {
                username: username.into(),
                display_name: display_name.into(),
                password: PASSWORD.into(),
                role: Role::Worker,
                agency_id: None,
                district_code: None,
                worker_id: Some(worker_id),
                provider_id: None,
                bank_id: None,
                evaluator_id: None,
            })
            .await
            .unwrap();
    }

    /// An employed worker with current records, identity verified and a certificate issued.
    pub async fn certified(&self, seq: u16, name: &str) -> (i64, jiazheng_store::credit::certificates::Issued) {
        let today = jiazheng_server::api::workers::today();
        let worker = self.employ(seq, name, "cleaning").await;
        let store = &self.db.store;
        let checked = today - chrono::Duration::days(40);
        jiazheng_store::testing::give_cleaning_records(store, self.agency_a, worker, checked, today).await.unwrap();
        let source = format!("agency:{}", self.agency_a);
        store.verify_identity(worker, source.clone(), None, "id_card").await.unwrap();
        (worker, store.issue_certificate(worker, source, None, today).await.unwrap())
    }

    pub async fn worker_count(&self) -> i64 {
        self.db.store.count_workers().await.unwrap()
    }
}

/// The text a reader extracts from a PDF (poppler's `pdftotext`, installed by `.ci/run`): proof
/// that the font is embedded with a character map, not just that the bytes start with `%PDF`.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("jz-pdf-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doc.pdf");
    std::fs::write(&file, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    std::fs::remove_dir_all(&dir).ok();
    assert!(output.status.success(), "pdftotext: {}", String::from_utf8_lossy(&output.stderr));
    if let Ok(keep) = std::env::var("JIAZHENG_KEEP_PDF") {
        std::fs::write(keep, pdf).unwrap();
    }
    String::from_utf8(output.stdout).unwrap()
}

/// The first page's size in points, as poppler's `pdfinfo` reads it.
pub fn pdf_page_size(pdf: &[u8]) -> (f32, f32) {
    let file = std::env::temp_dir().join(format!("jz-pdfinfo-{}-{}.pdf", std::process::id(), rand::random::<u32>()));
    std::fs::write(&file, pdf).unwrap();
    let output = std::process::Command::new("pdfinfo").arg(&file).output().expect("pdfinfo (poppler-utils)");
    std::fs::remove_file(&file).ok();
    let info = String::from_utf8_lossy(&output.stdout).to_string();
    let line = info.lines().find(|l| l.starts_with("Page size:")).unwrap_or_else(|| panic!("no page size: {info}"));
    let numbers: Vec<f32> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    (numbers[0], numbers[1])
}

/// What the QR code on a PDF's first page says, read from a 300 dpi print of it (poppler's
/// `pdftoppm`, then `zbarimg` of zbar-tools, both installed by `.ci/run`).
pub fn qr_in_pdf(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("jz-qr-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("card.pdf"), pdf).unwrap();
    let printed = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-singlefile"])
        .arg(dir.join("card.pdf"))
        .arg(dir.join("card"))
        .status()
        .expect("pdftoppm (poppler-utils)");
    assert!(printed.success());
    let read = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(dir.join("card.png"))
        .output()
        .expect("zbarimg (zbar-tools)");
    std::fs::remove_dir_all(&dir).ok();
    String::from_utf8_lossy(&read.stdout).trim().to_string()
}

/// The size in pixels of each image a PDF holds, as poppler's `pdfimages -list` reads them.
pub fn pdf_images(pdf: &[u8]) -> Vec<(u32, u32)> {
    let file = std::env::temp_dir().join(format!("jz-pdfimages-{}-{}.pdf", std::process::id(), rand::random::<u32>()));
    std::fs::write(&file, pdf).unwrap();
    let output =
        std::process::Command::new("pdfimages").arg("-list").arg(&file).output().expect("pdfimages (poppler-utils)");
    std::fs::remove_file(&file).ok();
    let list = String::from_utf8_lossy(&output.stdout).to_string();
    // Two header lines, then: page num type width height …
    list.lines()
        .skip(2)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            Some((columns.get(3)?.parse().ok()?, columns.get(4)?.parse().ok()?))
        })
        .collect()
}

/// A results sheet with these rows under the template's header.
pub fn results_sheet(rows: &[[&str; 5]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (column, title) in ["身份证号", "姓名", "结业日期", "考核结果", "分数"].iter().enumerate() {
        sheet.write_string(0, column as u16, *title).unwrap();
    }
    for (row, cells) in rows.iter().enumerate() {
        for (column, value) in cells.iter().enumerate() {
            sheet.write_string(row as u32 + 1, column as u16, *value).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// A training base with a school account (`username`) and one pre-job course of `hours`; the course's id.
pub async fn school_with_course(app: &TestApp, username: &str, hours: u32) -> i64 {
    let admin = app.token("admin").await;
    let provider = serde_json::json!({"kind": "training_base", "name": "长春市春城家政职业培训学校",
        "code": "4122010209", "district": "220102", "teaches": "岗前培训"});
    let (status, created) = app.post_json("/api/v1/providers", &admin, &provider).await;
    assert_eq!(status, 201, "{created}");
    let provider_id = created["id"].as_i64().unwrap();
    app.db
        .store
        .create_account(&jiazheng_store::accounts::NewAccount {
            username: username.into(),
            display_name: "春城培训学校".into(),
            password: PASSWORD.into(),
            role: jiazheng_core::account::Role::School,
            agency_id: None,
            district_code: None,
            worker_id: None,
            provider_id: Some(provider_id),
            bank_id: None,
            evaluator_id: None,
        })
        .await
        .unwrap();
    let token = app.token(username).await;
    let course = serde_json::json!({"name": "家政服务员岗前培训", "kind": "pre_job", "mode": "in_person", "hours": hours.to_string()});
    let (status, course) = app.post_json(&format!("/api/v1/providers/{provider_id}/courses"), &token, &course).await;
    assert_eq!(status, 201, "{course}");
    course["id"].as_i64().unwrap()
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs in through the login form and returns the client holding the session cookie.
pub async fn sign_in(app: &TestApp, username: &str) -> reqwest::Client {
    let client = browser_client();
    let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let response = client
        .post(app.url("/login"))
        .form(&[("username", username), ("password", PASSWORD), ("csrf", &csrf_in(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "sign in {username}");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("jz_session="));
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    client
}

/// An account of `role` scoped to a district (or street, or community) `area`.
pub async fn area_account(app: &TestApp, username: &str, role: Role, area: &str) {
    app.db
        .store
        .create_account(&NewAccount {
            username: username.into(),
            display_name: username.into(),
            password: PASSWORD.into(),
            role,
            agency_id: None,
            district_code: Some(area.into()),
            worker_id: None,
            provider_id: None,
            bank_id: None,
            evaluator_id: None,
        })
        .await
        .unwrap();
}
