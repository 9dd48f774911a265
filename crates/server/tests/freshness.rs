//! The hot public reads are served from memory between commits (`reads`): a read right after an
//! acknowledged write shows it, on the server that took the write and on a second server over the
//! same database (a second machine on PostgreSQL; a command beside the server on SQLite).

mod common;

use common::*;
use jiazheng_server::{Application, Config};
use serde_json::{Value, json};

struct Reader {
    client: reqwest::Client,
    bases: [String; 2],
}

impl Reader {
    async fn json(&self, server: usize, path: &str) -> Value {
        let response = self.client.get(format!("{}{path}", self.bases[server])).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    async fn text(&self, server: usize, path: &str) -> String {
        let response = self.client.get(format!("{}{path}", self.bases[server])).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }
}

async fn second_server(app: &TestApp) -> String {
    let store = jiazheng_store::Store::open(&app.db.url, app.db.store.crypto().clone()).await.unwrap();
    let server = Application::build(store, "127.0.0.1:0", Config::default()).await.unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    tokio::spawn(server.run());
    base
}

#[tokio::test]
async fn a_read_right_after_a_write_shows_it_on_this_server_and_on_another() {
    let app = TestApp::spawn().await;
    let reader = Reader { client: app.client.clone(), bases: [app.base.clone(), second_server(&app).await] };
    let search = "/api/v1/workers?name=%E5%91%A8%E7%8E%89"; // 周玉
    let agency_page = format!("/agencies/{}", app.agency_a);
    let prices = format!("/agencies/{}/prices", app.agency_a);

    // Each server answers twice before any write, so what it keeps is what it serves next.
    for server in 0..2 {
        for _ in 0..2 {
            assert_eq!(reader.json(server, search).await["total"], 0);
            assert!(reader.text(server, &agency_page).await.contains("(0)"));
            assert!(!reader.text(server, &prices).await.contains("擦拭、吸尘、拖地"));
        }
    }

    // Writes acknowledged by the first server.
    let agency = app.token("agency_a").await;
    let worker = worker_json(&id_number("220102", 7), "周玉兰", "220102001");
    assert_eq!(app.post_json("/api/v1/workers", &agency, &worker).await.0, 201);
    let menu = json!({"item": "日常保洁", "mode": "per_hour", "price": "45", "amount": "2",
        "free_cancel_hours": "24", "cancel_fee_percent": "20", "description": "擦拭、吸尘、拖地"});
    assert_eq!(app.post_json("/api/v1/agency/menu", &agency, &menu).await.0, 201);
    for server in 0..2 {
        let found = reader.json(server, search).await;
        assert_eq!(
            (found["total"].clone(), found["items"][0]["name"].clone()),
            (json!(1), json!("周玉兰")),
            "{server}"
        );
        assert!(reader.text(server, &prices).await.contains("擦拭、吸尘、拖地"), "server {server}");
    }

    // A kept page answers only at its own address: a door token spelled like another page's key
    // is still a bad token.
    for server in 0..2 {
        let response =
            app.client.get(format!("{}/v/agency%7C{}", reader.bases[server], app.agency_a)).send().await.unwrap();
        assert_eq!(response.status(), 400, "server {server}");
    }
    // A search fragment is no longer than a name.
    let (status, body) = app.get_json(&format!("/api/v1/workers?name={}", "王".repeat(31)), None).await;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("name")));

    // A write straight to the database (as an import or the daily job makes it).
    app.employ(8, "吴秀梅", "cleaning").await;
    for server in 0..2 {
        let page = reader.text(server, &agency_page).await;
        assert!(page.contains("(1)") && page.contains("吴秀梅"), "server {server}: {page}");
    }
}

#[tokio::test]
async fn the_door_shows_a_revocation_at_once_on_every_server() {
    let app = TestApp::spawn().await;
    let reader = Reader { client: app.client.clone(), bases: [app.base.clone(), second_server(&app).await] };
    let agency = app.token("agency_a").await;
    let worker = app.employ(9, "郑淑华", "cleaning").await;
    let today = jiazheng_server::api::workers::today();
    jiazheng_store::testing::give_cleaning_records(
        &app.db.store,
        app.agency_a,
        worker,
        today - chrono::Duration::days(30),
        today,
    )
    .await
    .unwrap();
    let verify = format!("/api/v1/workers/{worker}/identity-verification");
    assert_eq!(app.post_json(&verify, &agency, &json!({"method": "id_card"})).await.0, 201);
    let (status, issued) = app.post_json(&format!("/api/v1/workers/{worker}/certificate"), &agency, &json!({})).await;
    assert_eq!(status, 201, "{issued}");
    let door = format!("/v/{}", issued["token"].as_str().unwrap());
    for server in 0..2 {
        for _ in 0..2 {
            assert!(reader.text(server, &door).await.contains("data-colour=\"green\""));
        }
    }

    let regulator = app.token("nanguan").await;
    let revoke = format!("/api/v1/certificates/{}/revocation", issued["number"].as_str().unwrap());
    assert_eq!(app.post_json(&revoke, &regulator, &json!({"reason": "提供虚假健康证明"})).await.0, 201);
    for server in 0..2 {
        let page = reader.text(server, &door).await;
        assert!(page.contains("id=\"differs\"") && page.contains("已被吊销"), "server {server}: {page}");
    }
}

#[tokio::test]
async fn the_market_search_drops_a_worker_at_once_when_booked() {
    let app = TestApp::spawn().await;
    let reader = Reader { client: app.client.clone(), bases: [app.base.clone(), second_server(&app).await] };
    let (_, worker, menu) = app.cleaning_market(11).await;
    let day = jiazheng_core::calendar::beijing_today() + chrono::Duration::days(3);
    let search = format!("/api/v1/market/workers?item=daily_cleaning&mode=per_hour&hours=2&date={day}&time=10:00");
    for server in 0..2 {
        for _ in 0..2 {
            let found = reader.json(server, &search).await;
            assert_eq!(found["workers"][0]["worker_id"], worker, "server {server}: {found}");
        }
    }

    let resident = app.phone_resident("13700001111").await;
    let order =
        json!({"menu_item_id": menu, "worker_id": worker, "date": day.to_string(), "time": "10:00", "hours": "2"});
    let response = app.client.post(app.url("/api/v1/orders")).bearer_auth(&resident).json(&order).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    for server in 0..2 {
        let found = reader.json(server, &search).await;
        assert_eq!(found["workers"], json!([]), "server {server}: the booked worker is gone");
    }
}
