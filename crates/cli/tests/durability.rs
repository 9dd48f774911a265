//! What survives: a backup restored elsewhere reads the same sealed fields and the same intact
//! ledger; a server killed with SIGKILL while it acknowledges writes loses none it acknowledged;
//! and one killed amid a burst of payment notifications (duplicates, out of order) keeps every
//! payment it acknowledged and, once the provider sends them all again, has applied each exactly
//! once. All run on the engine under test (`JIAZHENG_TEST_DATABASE`: SQLite or a PostgreSQL URL).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::ids::{ResidentId, Uscc};
use jiazheng_core::market::payment::Account;
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_server::payments::wire::NotifyKeys;
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::{Crypto, Store};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

const KEY: &str = "5a1e8c0d3b7f4a2e9c6d1b0a8f7e6d5c4b3a29180f1e2d3c4b5a69788796a5b4";
const PASSWORD: &str = "durable-password-1";

fn master() -> Crypto {
    let bytes: Vec<u8> = (0..64).step_by(2).map(|i| u8::from_str_radix(&KEY[i..i + 2], 16).unwrap()).collect();
    Crypto::from_master_key(&bytes.try_into().unwrap())
}

fn today() -> NaiveDate {
    jiazheng_core::calendar::beijing_today()
}

/// A scratch directory removed when the test ends, passed or failed.
struct ScratchDir(PathBuf);

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(tag: &str) -> ScratchDir {
    let dir = std::env::temp_dir().join(format!("jz-durable-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    ScratchDir(dir)
}

fn jiazheng(data_dir: &Path, url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jiazheng"));
    command.env("JIAZHENG_SECRET_KEY", KEY).env("JIAZHENG_DATA_DIR", data_dir).env("JIAZHENG_DATABASE", url);
    command
}

fn worker_form(seq: u16) -> WorkerForm {
    let birth = NaiveDate::from_ymd_opt(1984, 2, 1).unwrap() + chrono::Duration::days(i64::from(seq));
    WorkerForm {
        id_number: ResidentId::compose("220102", birth, seq),
        name: "韩雪".into(),
        phone: format!("139{:08}", 5_000_000 + u32::from(seq)),
        education_level: "senior".into(),
        home_street: "220102001".into(),
        services: vec!["cleaning".into()],
        ..Default::default()
    }
}

/// An agency with an admin account and `workers` employed workers (both sides confirmed).
async fn seeded(url: &str, workers: u16) -> (Store, i64, Vec<i64>) {
    let store = Store::open(url, master()).await.unwrap();
    store.ensure_default_divisions().await.unwrap();
    let agency = AgencyForm {
        uscc: Uscc::compose("220102", "MA0Y4321"),
        name: "长春市恒久家政有限公司".into(),
        legal_representative: "刘强".into(),
        address: "人民大街9号".into(),
        street_code: "220102001".into(),
        phone: "043188880000".into(),
        business_model: "employee".into(),
        ..Default::default()
    };
    let agency = store.create_agency(&agency.parse().unwrap()).await.unwrap();
    store
        .create_account(&NewAccount {
            username: "keeper".into(),
            display_name: "keeper".into(),
            password: PASSWORD.into(),
            role: Role::AgencyAdmin,
            agency_id: Some(agency),
            district_code: None,
            worker_id: None,
            provider_id: None,
            bank_id: None,
            evaluator_id: None,
        })
        .await
        .unwrap();
    let drafts: Vec<_> = (1..=workers).map(|seq| worker_form(seq).parse(today()).unwrap()).collect();
    let binding = Some(NewBinding { agency_id: agency, kind: BindingKind::Employee, active: true });
    let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
    let ids = store.insert_workers(&rows).await.unwrap();
    for id in &ids {
        store.verify_identity(*id, format!("agency:{agency}"), None, "id_card").await.unwrap();
    }
    (store, agency, ids)
}

#[tokio::test]
async fn a_backup_restored_elsewhere_has_the_sealed_fields_and_an_intact_ledger() {
    let (url, _dir) = jiazheng_store::testing::fresh_database_url().await.unwrap();
    let (store, _, workers) = seeded(&url, 3).await;
    let before = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((before.entries, before.first_bad_seq), (3, None));
    store.close().await;

    let data = temp_dir("backup");
    let file = data.join("backup.bin");
    let out = jiazheng(&data, &url).args(["backup", "-o"]).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&file).unwrap().len() > 0);

    let (target, _target_dir) = jiazheng_store::testing::fresh_database_url().await.unwrap();
    let restored_dir = temp_dir("restored");
    let out = jiazheng(&restored_dir, &target).arg("restore").arg(&file).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said} {}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("3 workers") && said.contains("chain intact"), "{said}");

    let restored = Store::open(&target, master()).await.unwrap();
    let regulator = Principal { account_id: 1, role: Role::Regulator, scope: Scope::City };
    let worker = restored.worker(workers[1]).await.unwrap();
    let revealed = restored.reveal_worker(&regulator, &worker, "restore check").await.unwrap();
    assert_eq!(revealed.id_number, worker_form(2).id_number);
    let after = restored.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!((after.entries, after.first_bad_seq), (before.entries, None));
    // Restoring over an existing database is refused.
    let again = jiazheng(&restored_dir, &target).arg("restore").arg(&file).output().unwrap();
    assert!(!again.status.success());
}

/// Starts the server on a free port and returns it with its address; the caller kills and
/// waits for it.
#[allow(clippy::zombie_processes)]
fn start_server(data: &Path, url: &str) -> (Child, String) {
    start_server_with(data, url, &[])
}

#[allow(clippy::zombie_processes)]
fn start_server_with(data: &Path, url: &str, flags: &[&str]) -> (Child, String) {
    let mut child = jiazheng(data, url)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("the server prints its address").unwrap();
        if let Some(rest) = line.strip_prefix("jiazheng is listening on ") {
            std::thread::spawn(move || lines.for_each(drop));
            return (child, rest.trim_end_matches('/').to_string());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the server did not start");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_write_keeps_every_write_it_acknowledged() {
    let (url, _dir) = jiazheng_store::testing::fresh_database_url().await.unwrap();
    let (store, _, workers) = seeded(&url, 8).await;
    store.close().await;
    let data = temp_dir("kill");
    let (mut server, base) = start_server(&data, &url);
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "keeper", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();

    // Writers register workers and record health checks (each a ledger entry) until the kill.
    let registered = Arc::new(Mutex::new(Vec::<(u16, i64)>::new()));
    let checks = Arc::new(Mutex::new(Vec::<(i64, i64)>::new()));
    let mut writers = Vec::new();
    for lane in 0..4u16 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (registered, checks, workers) = (registered.clone(), checks.clone(), workers.clone());
        writers.push(tokio::spawn(async move {
            for n in 0..400u16 {
                let seq = 100 + lane * 400 + n;
                let form = worker_form(seq);
                let body = json!({"id_number": form.id_number, "name": form.name, "phone": form.phone,
                    "education_level": "senior", "home_street": "220102001", "services": ["cleaning"]});
                let Ok(response) =
                    client.post(format!("{base}/api/v1/workers")).bearer_auth(&token).json(&body).send().await
                else {
                    return;
                };
                if response.status() == 201 {
                    let id = response.json::<Value>().await.map(|v| v["id"].as_i64()).ok().flatten();
                    registered.lock().unwrap().extend(id.map(|id| (seq, id)));
                }
                let worker = workers[usize::from(n) % workers.len()];
                let check = json!({"checked_on": (today() - chrono::Duration::days(i64::from(n % 300))).to_string(),
                    "institution": "南关区疾控", "category": "in_home", "result": "合格"});
                let Ok(response) = client
                    .post(format!("{base}/api/v1/workers/{worker}/health-checks"))
                    .bearer_auth(&token)
                    .json(&check)
                    .send()
                    .await
                else {
                    return;
                };
                if response.status() == 201 {
                    let id = response.json::<Value>().await.map(|v| v["id"].as_i64()).ok().flatten();
                    checks.lock().unwrap().extend(id.map(|id| (worker, id)));
                }
            }
        }));
    }
    let started = Instant::now();
    while registered.lock().unwrap().len() + checks.lock().unwrap().len() < 150
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush beyond what each commit did.
    server.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let registered = registered.lock().unwrap().clone();
    let checks = checks.lock().unwrap().clone();
    assert!(registered.len() + checks.len() >= 150, "{} + {} writes acknowledged", registered.len(), checks.len());
    eprintln!("killed after {} registrations and {} health checks acknowledged", registered.len(), checks.len());

    // Restart: every acknowledged write is there, and the ledger verifies.
    let (mut server, base) = start_server(&data, &url);
    let store = Store::open(&url, master()).await.unwrap();
    for (seq, id) in &registered {
        let worker = store.worker(*id).await.unwrap_or_else(|e| panic!("acknowledged worker {id} lost: {e}"));
        assert_eq!(worker.name, worker_form(*seq).name);
    }
    for (worker, id) in &checks {
        let record = store.workforce_record(*worker, false).await.unwrap();
        assert!(record.health_checks.iter().any(|h| h.id == *id), "acknowledged health check {id} lost");
    }
    let report = store.verify_ledger(&|_, _| {}).await.unwrap();
    assert_eq!(report.first_bad_seq, None, "{report:?}");
    assert!(report.entries >= 8 + checks.len() as i64);
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    server.kill().unwrap();
    server.wait().unwrap();
}

/// `n` orders at `agency`, each with the payment order its resident opened through the live
/// path: (order, out_trade_no, amount in fen).
async fn pending_payments(store: &Store, agency: i64, n: usize) -> Vec<(i64, String, i64)> {
    use jiazheng_store::market::bulk::BulkOrder;
    let by = store.system_account().await.unwrap();
    store.bulk_menus(&[(agency, jiazheng_store::testing::hourly_cleaning())], by).await.unwrap();
    let menus: HashMap<i64, _> = store.menu_facts().await.unwrap().into_iter().map(|m| (m.id, m)).collect();
    let menu = *menus.keys().next().unwrap();
    let households: Vec<(String, String, String)> =
        (0..20).map(|i| (format!("payer-{i}"), "220102001001".to_owned(), format!("华阳小区{}栋", i + 1))).collect();
    let residents = store.bulk_residents(&households).await.unwrap();
    // No worker is named: the orders hold no one's time, so any number fit in the week.
    let orders: Vec<BulkOrder> = (0..n)
        .map(|i| {
            let start = jiazheng_core::market::slot::day_start(today() + chrono::Duration::days(1 + (i % 7) as i64))
                + chrono::Duration::minutes(8 * 60 + i as i64);
            BulkOrder {
                resident: residents[i % residents.len()],
                menu_item_id: menu,
                quantity: 2,
                start,
                end: start + chrono::Duration::hours(2),
                worker: None,
                community: "220102001001".into(),
                status: jiazheng_core::market::OrderStatus::Confirmed,
            }
        })
        .collect();
    let ids = store.bulk_orders(&orders, &menus).await.unwrap();
    let mut out = Vec::with_capacity(n);
    for (i, order) in ids.into_iter().enumerate() {
        let payer = Principal { account_id: residents[i % residents.len()], role: Role::Resident, scope: Scope::None };
        let payment = store.open_payment(order, &payer).await.unwrap();
        out.push((order, payment.out_trade_no, payment.amount_fen));
    }
    out
}

/// A payment's success notification sealed as the provider seals it; every copy names the same
/// provider transaction.
fn paid_body(keys: &NotifyKeys, number: &str, n: usize, amount: i64) -> String {
    let resource = json!({"out_trade_no": number, "transaction_id": format!("4200{n:024}"), "trade_state": "SUCCESS",
        "success_time": "2026-12-02T10:00:00+08:00", "amount": {"total": amount, "payer_total": amount, "currency": "CNY"}});
    keys.seal("TRANSACTION.SUCCESS", "transaction", &resource.to_string())
}

/// Sends `bodies` (payment index, body), signed at the moment of sending, from `lanes` senders at
/// once; each 2xx adds its payment to `acked`. A sender stops at the first request that gets no
/// answer (the server is gone); any answer but 204 is kept in `refused`.
async fn burst(
    base: &str,
    keys: &Arc<NotifyKeys>,
    bodies: Vec<(usize, String)>,
    lanes: usize,
    acked: &Arc<Mutex<Vec<usize>>>,
    refused: &Arc<Mutex<Vec<u16>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let queue = Arc::new(Mutex::new(bodies));
    let client = reqwest::Client::new();
    (0..lanes)
        .map(|_| {
            let (queue, client, keys, acked, refused) =
                (queue.clone(), client.clone(), keys.clone(), acked.clone(), refused.clone());
            let url = format!("{base}/api/v1/payments/notify");
            tokio::spawn(async move {
                loop {
                    let Some((payment, body)) = queue.lock().unwrap().pop() else { return };
                    let signed = keys.sign(chrono::Utc::now().timestamp(), &body);
                    let mut request = client.post(&url).header("content-type", "application/json");
                    for (name, value) in signed.headers() {
                        request = request.header(name, value);
                    }
                    let sent = request.body(body).send().await;
                    match sent.map(|r| r.status().as_u16()) {
                        Ok(204) => acked.lock().unwrap().push(payment),
                        Ok(other) => refused.lock().unwrap().push(other),
                        Err(_) => return,
                    }
                }
            })
        })
        .collect()
}

/// Three copies of each payment's notification, shuffled: duplicates, and payments out of order.
fn shuffled_copies(keys: &NotifyKeys, payments: &[(i64, String, i64)], seed: u64) -> Vec<(usize, String)> {
    let mut bodies: Vec<(usize, String)> = payments
        .iter()
        .enumerate()
        .flat_map(|(i, (_, number, amount))| (0..3).map(move |_| (i, paid_body(keys, number, i, *amount))))
        .collect();
    bodies.shuffle(&mut StdRng::seed_from_u64(seed));
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_amid_payment_notifications_applies_each_payment_exactly_once_after_the_retries() {
    const PAYMENTS: usize = 400;
    let (url, _dir) = jiazheng_store::testing::fresh_database_url().await.unwrap();
    let (store, agency, _) = seeded(&url, 1).await;
    let payments = pending_payments(&store, agency, PAYMENTS).await;
    store.close().await;
    let keys = Arc::new(NotifyKeys::from_crypto(&master()));
    let data = temp_dir("notify");

    // The burst: 1,200 notifications from 16 senders; SIGKILL once a quarter are acknowledged.
    let (mut server, base) = start_server(&data, &url);
    let (acked, refused) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    let senders = burst(&base, &keys, shuffled_copies(&keys, &payments, 11), 16, &acked, &refused).await;
    let started = Instant::now();
    while acked.lock().unwrap().len() < PAYMENTS * 3 / 4 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill().unwrap(); // SIGKILL: transactions in flight are cut off wherever they are.
    server.wait().unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let acked_copies = acked.lock().unwrap().len();
    let acked_before: std::collections::HashSet<usize> = acked.lock().unwrap().iter().copied().collect();
    assert!(refused.lock().unwrap().is_empty(), "refused: {:?}", refused.lock().unwrap());
    assert!(acked_copies >= PAYMENTS * 3 / 4, "{acked_copies} acknowledged");

    // Down: each acknowledged payment is paid, nothing half-written, and work is left over.
    let store = Store::open(&url, master()).await.unwrap();
    let mut paid = 0;
    for (i, (_, number, _)) in payments.iter().enumerate() {
        let status = store.payment_by_number(number).await.unwrap().status;
        assert!(status == "paid" || !acked_before.contains(&i), "acknowledged payment {number} lost");
        paid += usize::from(status == "paid");
    }
    let audit = store.audit_journal().await.unwrap();
    assert!(audit.is_clean(), "after the kill: {audit:?}");
    assert_eq!(audit.transactions, paid as i64, "one journal transaction per paid payment");
    assert!(paid < PAYMENTS, "killed mid-burst: {paid} of {PAYMENTS} already paid");
    eprintln!(
        "killed with {acked_copies} notifications acknowledged ({} payments), {paid} of {PAYMENTS} payments paid",
        acked_before.len()
    );

    // Up again: the provider sends every notification again (it cannot know which got through).
    let (mut server, base) = start_server(&data, &url);
    let (acked, refused) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
    for sender in burst(&base, &keys, shuffled_copies(&keys, &payments, 12), 16, &acked, &refused).await {
        sender.await.unwrap();
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(refused.lock().unwrap().is_empty(), "refused: {:?}", refused.lock().unwrap());
    assert_eq!(acked.lock().unwrap().len(), PAYMENTS * 3, "every copy acknowledged");
    for (order, number, amount) in &payments {
        assert_eq!(store.payment_by_number(number).await.unwrap().status, "paid");
        assert_eq!(store.balance(Account::Held(*order)).await.unwrap(), -amount, "order {order} held once");
    }
    let total: i64 = payments.iter().map(|p| p.2).sum();
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), total);
    let audit = store.audit_journal().await.unwrap();
    assert!(audit.is_clean(), "{audit:?}");
    assert_eq!(audit.transactions, PAYMENTS as i64, "exactly one payment transaction each");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_without_jobs_leaves_the_daily_job_to_the_one_that_runs_them() {
    let (url, _dir) = jiazheng_store::testing::fresh_database_url().await.unwrap();
    let (store, _, _) = seeded(&url, 3).await;
    let data = temp_dir("no-jobs");
    let (mut quiet, base) = start_server_with(&data, &url, &["--no-jobs"]);
    assert!(reqwest::get(format!("{base}/healthz")).await.unwrap().status().is_success());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(store.last_job_run("workforce_daily").await.unwrap(), None, "a server without jobs ran one");
    quiet.kill().unwrap();
    quiet.wait().unwrap();

    // A server that runs them catches up on today's run as it starts.
    let (mut keeper, _) = start_server(&data, &url);
    let started = Instant::now();
    while store.last_job_run("workforce_daily").await.unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "the daily job did not run at start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    keeper.kill().unwrap();
    keeper.wait().unwrap();
}
