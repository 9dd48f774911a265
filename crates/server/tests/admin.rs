//! The system admin's account pages over HTTP: accounts of every scope created from the page and
//! signed in with the password it showed, errors beside their fields, resets and disabling that
//! end sessions, and the refusals (other roles, one's own account, a stale page).

mod common;

use common::{PASSWORD, TestApp, id_number};

fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

/// The password a page shows once.
fn password_in(html: &str) -> String {
    let start = html.find("id=\"new-password\">").expect("a password shown") + "id=\"new-password\">".len();
    html[start..].split('<').next().unwrap().to_string()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs in through the form: the client and where it was sent, or the refusal's status.
async fn try_sign_in(app: &TestApp, username: &str, password: &str) -> Result<(reqwest::Client, String), u16> {
    let client = browser();
    let page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let response = client
        .post(app.url("/login"))
        .form(&[("username", username), ("password", password), ("csrf", &csrf_in(&page))])
        .send()
        .await
        .unwrap();
    match response.status().as_u16() {
        303 => {
            let to = response.headers()["location"].to_str().unwrap().to_string();
            Ok((client, to))
        }
        other => Err(other),
    }
}

async fn admin(app: &TestApp) -> (reqwest::Client, String) {
    let (client, landing) = try_sign_in(app, "admin", PASSWORD).await.expect("the admin signs in");
    assert_eq!(landing, "/admin/accounts", "the admin lands on the account list");
    let page = client.get(app.url("/admin/accounts/new")).send().await.unwrap().text().await.unwrap();
    (client, csrf_in(&page))
}

async fn post(client: &reqwest::Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let response = client.post(app.url(path)).form(fields).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn account_id(app: &TestApp, username: &str) -> i64 {
    let query = jiazheng_store::accounts::AccountQuery { text: Some(username.into()), ..Default::default() };
    let found = app.db.store.accounts(&query).await.unwrap().items;
    found.iter().find(|a| a.username == username).expect("the account").id
}

async fn version(app: &TestApp, id: i64) -> String {
    app.db.store.account_listing(id).await.unwrap().version.to_string()
}

/// Sign-in name, role, scope fields, where the account lands, its scope in words.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn every_kind_of_scoped_account_is_created_from_the_page_and_signs_in_with_the_password_shown() {
    let app = TestApp::spawn().await;
    let store = &app.db.store;
    let worker = app.employ(7, "王芳", "cleaning").await;
    let provider = jiazheng_core::workforce::records::ProviderForm {
        kind: "college".into(),
        name: "长春职业技术学院".into(),
        code: "2122000001".into(),
        district: "220102".into(),
        teaches: "家政服务".into(),
    };
    let provider = store.create_provider(&provider.parse().unwrap()).await.unwrap().to_string();
    let bank = store.create_bank("吉林银行长春分行").await.unwrap().to_string();
    let (client, csrf) = admin(&app).await;

    let worker_id_number = id_number("220102", 7);
    let cases: [Case; 10] = [
        ("anxin", "agency_admin", &[("agency_q", "安心")], "/agency/workers", "长春市安心家政服务有限公司"),
        ("nanguan2", "regulator", &[("district", "220102000000")], "/regulator", "南关区"),
        ("citywide", "regulator", &[], "/regulator", "全市"),
        ("staff", "community_staff", &[("district", "220104000000")], "/community", "朝阳区"),
        (
            "nanling",
            "community_staff",
            &[("district", "220102000000"), ("street", "220102001000")],
            "/community",
            "南岭街道",
        ),
        ("college", "school", &[("provider_id", &provider)], "/school", "长春职业技术学院"),
        ("wangfang", "worker", &[("worker_q", &worker_id_number)], "/me", "王芳"),
        ("jlbank", "bank", &[("bank_id", &bank)], "/bank", "吉林银行长春分行"),
        ("zhangsan", "resident", &[], "/my/services", "—"),
        ("admin2", "system_admin", &[], "/admin/accounts", "全市"),
    ];
    for (username, role, scope, landing, scope_words) in cases {
        let mut fields = vec![("csrf", csrf.as_str()), ("username", username), ("role", role)];
        fields.extend_from_slice(scope);
        let (status, html) = post(&client, &app, "/admin/accounts/new", &fields).await;
        assert_eq!(status, 200, "{username}: {html}");
        let created = &html[html.find("id=\"created-account\"").expect("the account shown")..];
        assert!(created.contains(scope_words), "{username}: the scope in words: {created}");
        assert!(!role.contains('_') || !created.contains(role), "{username}: a code shown: {created}");
        let password = password_in(&html);
        assert_eq!(password.chars().count(), 12);
        let (_, to) = try_sign_in(&app, username, &password).await.unwrap_or_else(|s| panic!("{username}: {s}"));
        assert_eq!(to, landing, "{username}");
    }
    let principal = store.authenticate("wangfang", "x").await.unwrap();
    assert!(principal.is_none());
    let id = account_id(&app, "wangfang").await;
    assert_eq!(store.account_listing(id).await.unwrap().worker_id, Some(worker));

    // A typed password instead, of the required length.
    let short = [
        ("csrf", csrf.as_str()),
        ("username", "typed"),
        ("role", "resident"),
        ("password_mode", "typed"),
        ("password", "short"),
    ];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &short).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"password-error\">至少8个字符"), "{html}");
    let long = [
        ("csrf", csrf.as_str()),
        ("username", "typed"),
        ("role", "resident"),
        ("password_mode", "typed"),
        ("password", "typed-password-9"),
    ];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &long).await;
    assert_eq!(status, 200);
    assert!(!html.contains("new-password") && !html.contains("typed-password-9"), "{html}");
    assert!(try_sign_in(&app, "typed", "typed-password-9").await.is_ok());

    // The list: labels and names, never codes or ids.
    let list = client.get(app.url("/admin/accounts?role=regulator")).send().await.unwrap().text().await.unwrap();
    let table = &list[list.find("id=\"accounts\"").unwrap()..];
    assert!(table.contains("监管部门") && table.contains("nanguan2") && table.contains("南关区"), "{table}");
    assert!(table.contains("全市") && !table.contains("居民"), "{table}");
    for code in ["regulator<", "220102000000", "agency:", "agency_admin"] {
        assert!(!table.contains(code), "{code} in {table}");
    }
    let search = client.get(app.url("/admin/accounts?q=anx")).send().await.unwrap().text().await.unwrap();
    assert!(search.contains("企业管理员") && search.contains("长春市安心家政服务有限公司"), "{search}");
}

#[tokio::test]
async fn a_taken_name_and_a_missing_or_ambiguous_scope_are_said_beside_the_field_with_the_values_kept() {
    let app = TestApp::spawn().await;
    let (client, csrf) = admin(&app).await;
    let taken = [("csrf", csrf.as_str()), ("username", "nanguan"), ("display_name", "另一个"), ("role", "resident")];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &taken).await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("id=\"username-error\">该用户名已被使用"), "{html}");
    assert!(html.contains("value=\"nanguan\"") && html.contains("value=\"另一个\""), "{html}");

    let missing = [("csrf", csrf.as_str()), ("username", "li"), ("display_name", "李经理"), ("role", "agency_admin")];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &missing).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"agency-error\">必填项"), "{html}");
    assert!(html.contains("value=\"li\"") && html.contains("value=\"李经理\""), "{html}");
    assert!(html.contains("<option value=\"agency_admin\" selected>企业管理员</option>"), "{html}");

    // Two agencies match: the page lists both to pick from, by name, and the pick is kept.
    let other = common::agency_form("MA0Y9999", "长春市安心保洁有限公司", "220102001").parse().unwrap();
    let second = app.db.store.create_agency(&other).await.unwrap();
    let ambiguous = [("csrf", csrf.as_str()), ("username", "li"), ("role", "agency_admin"), ("agency_q", "安心")];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &ambiguous).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"agency-error\">有多条符合"), "{html}");
    assert!(html.contains("长春市安心保洁有限公司") && html.contains("长春市安心家政服务有限公司"), "{html}");
    assert!(html.contains("value=\"安心\""), "{html}");
    let second = second.to_string();
    let picked = [
        ("csrf", csrf.as_str()),
        ("username", "li"),
        ("role", "agency_admin"),
        ("agency_q", "安心"),
        ("agency_id", &second),
    ];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &picked).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("长春市安心保洁有限公司"), "{html}");

    // Nothing found, a street instead of a district, and a forged form.
    let none = [("csrf", csrf.as_str()), ("username", "wu"), ("role", "worker"), ("worker_q", "不存在的人")];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &none).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"worker-error\">没有找到符合的记录") && html.contains("value=\"不存在的人\""), "{html}");
    let staff = [("csrf", csrf.as_str()), ("username", "wu"), ("role", "community_staff")];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &staff).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"district-error\">"), "{html}");
    let forged = [("csrf", "forged"), ("username", "wu"), ("role", "resident")];
    assert_eq!(post(&client, &app, "/admin/accounts/new", &forged).await.0, 400);
    let control = [("csrf", csrf.as_str()), ("username", "wu"), ("display_name", "a\u{202E}b"), ("role", "resident")];
    let (status, html) = post(&client, &app, "/admin/accounts/new", &control).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"display_name-error\">"), "{html}");
}

#[tokio::test]
async fn a_reset_ends_the_sessions_and_the_old_password_fails() {
    let app = TestApp::spawn().await;
    let (client, csrf) = admin(&app).await;
    let (nanguan, _) = try_sign_in(&app, "nanguan", PASSWORD).await.unwrap();
    assert_eq!(nanguan.get(app.url("/regulator")).send().await.unwrap().status(), 200);
    let id = account_id(&app, "nanguan").await;

    let (status, html) =
        post(&client, &app, &format!("/admin/accounts/{id}/password"), &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(status, 200, "{html}");
    let password = password_in(&html);
    assert_eq!(nanguan.get(app.url("/regulator")).send().await.unwrap().status(), 401, "the old session ended");
    assert_eq!(try_sign_in(&app, "nanguan", PASSWORD).await.err(), Some(422), "the old password fails");
    assert!(try_sign_in(&app, "nanguan", &password).await.is_ok());
    let page = client.get(app.url(&format!("/admin/accounts/{id}"))).send().await.unwrap().text().await.unwrap();
    let log = &page[page.find("id=\"log\"").unwrap()..];
    assert!(log.contains("重置密码") && log.contains("admin"), "{log}");
    assert!(!page.contains(&password), "shown once only");
}

#[tokio::test]
async fn disabling_ends_the_sessions_and_refuses_sign_in_until_enabled_again() {
    let app = TestApp::spawn().await;
    let (client, csrf) = admin(&app).await;
    let (agency, _) = try_sign_in(&app, "agency_a", PASSWORD).await.unwrap();
    let id = account_id(&app, "agency_a").await;
    let read = version(&app, id).await;

    let unconfirmed = [("csrf", csrf.as_str()), ("version", read.as_str())];
    let (status, html) = post(&client, &app, &format!("/admin/accounts/{id}/disable"), &unconfirmed).await;
    assert_eq!(status, 422, "one click without the box does nothing");
    assert!(html.contains("请先勾选确认框"), "{html}");
    assert_eq!(agency.get(app.url("/agency/workers")).send().await.unwrap().status(), 200, "still signed in");
    let fields = [("csrf", csrf.as_str()), ("version", read.as_str()), ("confirm", "yes")];
    let (status, _) = post(&client, &app, &format!("/admin/accounts/{id}/disable"), &fields).await;
    assert_eq!(status, 303);
    assert_eq!(agency.get(app.url("/agency/workers")).send().await.unwrap().status(), 401);
    assert_eq!(try_sign_in(&app, "agency_a", PASSWORD).await.err(), Some(422));
    let page = client.get(app.url(&format!("/admin/accounts/{id}?done=disabled"))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"state\">已停用") && page.contains("id=\"enable\""), "{page}");

    // A second admin's page, read before the change, cannot undo or repeat it unseen.
    let (status, html) = post(&client, &app, &format!("/admin/accounts/{id}/enable"), &fields).await;
    assert_eq!(status, 409);
    assert!(html.contains("id=\"problem\">该记录已被他人修改"), "{html}");

    let now = version(&app, id).await;
    let fields = [("csrf", csrf.as_str()), ("version", now.as_str())];
    assert_eq!(post(&client, &app, &format!("/admin/accounts/{id}/enable"), &fields).await.0, 303);
    assert!(try_sign_in(&app, "agency_a", PASSWORD).await.is_ok());
    let page = client.get(app.url(&format!("/admin/accounts/{id}"))).send().await.unwrap().text().await.unwrap();
    let log = &page[page.find("id=\"log\"").unwrap()..];
    assert!(log.contains("启用") && log.contains("停用"), "{log}");
}

#[tokio::test]
async fn a_new_role_and_scope_end_the_sessions_and_are_logged_in_words() {
    let app = TestApp::spawn().await;
    let (client, csrf) = admin(&app).await;
    let (nanguan, _) = try_sign_in(&app, "nanguan", PASSWORD).await.unwrap();
    let id = account_id(&app, "nanguan").await;
    let read = version(&app, id).await;
    let change =
        [("csrf", csrf.as_str()), ("version", read.as_str()), ("role", "regulator"), ("district", "220104000000")];
    let (status, html) = post(&client, &app, &format!("/admin/accounts/{id}/access"), &change).await;
    assert_eq!(status, 303, "{html}");
    assert_eq!(nanguan.get(app.url("/regulator")).send().await.unwrap().status(), 401);
    let page = client.get(app.url(&format!("/admin/accounts/{id}"))).send().await.unwrap().text().await.unwrap();
    let log = &page[page.find("id=\"log\"").unwrap()..];
    assert!(log.contains("更改角色和范围：监管部门 · 朝阳区"), "{log}");
    assert!(!log.contains("220104"), "{log}");

    // The same change from the page read before it: refused, nothing overwritten.
    let stale = [("csrf", csrf.as_str()), ("version", read.as_str()), ("role", "resident")];
    let (status, _) = post(&client, &app, &format!("/admin/accounts/{id}/access"), &stale).await;
    assert_eq!(status, 409);
    let principal = app.db.store.authenticate("nanguan", PASSWORD).await.unwrap().unwrap();
    assert_eq!(principal.role, jiazheng_core::account::Role::Regulator);

    // A missing scope is said beside the field on the account's page.
    let now = version(&app, id).await;
    let missing = [("csrf", csrf.as_str()), ("version", now.as_str()), ("role", "agency_admin")];
    let (status, html) = post(&client, &app, &format!("/admin/accounts/{id}/access"), &missing).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"agency-error\">必填项"), "{html}");
}

#[tokio::test]
async fn an_admin_cannot_disable_or_demote_their_own_account() {
    let app = TestApp::spawn().await;
    let (client, csrf) = admin(&app).await;
    let me = account_id(&app, "admin").await;
    let read = version(&app, me).await;
    let page = client.get(app.url(&format!("/admin/accounts/{me}"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"own\"") && !page.contains("id=\"disable\""), "{page}");
    let fields = [("csrf", csrf.as_str()), ("version", read.as_str()), ("confirm", "yes")];
    let (status, html) = post(&client, &app, &format!("/admin/accounts/{me}/disable"), &fields).await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"problem\">不能停用自己的账号"), "{html}");
    let demote = [("csrf", csrf.as_str()), ("version", read.as_str()), ("role", "resident")];
    let (status, html) = post(&client, &app, &format!("/admin/accounts/{me}/access"), &demote).await;
    assert_eq!(status, 422);
    assert!(html.contains("不能更改自己账号的系统管理员角色"), "{html}");
    assert_eq!(client.get(app.url("/admin/accounts")).send().await.unwrap().status(), 200, "still signed in");

    // Resetting one's own password ends one's sessions but keeps the admin signed in here.
    let (status, html) =
        post(&client, &app, &format!("/admin/accounts/{me}/password"), &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(status, 200, "{html}");
    let password = password_in(&html);
    assert_eq!(client.get(app.url("/admin/accounts")).send().await.unwrap().status(), 200);
    assert!(try_sign_in(&app, "admin", &password).await.is_ok());
}

#[tokio::test]
async fn other_roles_are_refused_the_account_pages() {
    let app = TestApp::spawn().await;
    let target = account_id(&app, "resident").await;
    for username in ["agency_a", "nanguan", "city", "resident"] {
        let (client, _) = try_sign_in(&app, username, PASSWORD).await.unwrap();
        for path in ["/admin/accounts".to_string(), "/admin/accounts/new".into(), format!("/admin/accounts/{target}")] {
            assert_eq!(client.get(app.url(&path)).send().await.unwrap().status(), 403, "{username} {path}");
        }
        let page = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_in(&page);
        let fields = [("csrf", csrf.as_str()), ("version", "1")];
        let (status, _) = post(&client, &app, &format!("/admin/accounts/{target}/disable"), &fields).await;
        assert_eq!(status, 403, "{username}");
    }
    assert!(try_sign_in(&app, "resident", PASSWORD).await.is_ok(), "nothing was disabled");
    assert_eq!(browser().get(app.url("/admin/accounts")).send().await.unwrap().status(), 401);
}
