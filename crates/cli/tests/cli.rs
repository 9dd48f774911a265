//! The `jiazheng` binary as an operator runs it, on temporary SQLite data directories.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use jiazheng_store::excel::read_worker_rows;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jiazheng"))
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jz-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    let output = bin().args(args).env_remove("JIAZHENG_SECRET_KEY").output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn validate_prints_the_verdict_and_exits_accordingly() {
    let ok = run(&["validate", "id", "11010519491231002x"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(stdout(&ok).contains("born 1949-12-31, female"), "{}", stdout(&ok));
    let bad = run(&["validate", "id", "110105194912310021"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("id_check_digit") && stdout(&bad).contains("校验位"));
    assert_eq!(run(&["validate", "uscc", "91350100M000100Y43"]).status.code(), Some(0));
    assert_eq!(run(&["validate", "uscc", "91350100M000100Y44"]).status.code(), Some(1));
    assert_eq!(run(&["validate", "phone", "+86 139-0431-0000"]).status.code(), Some(0));
    assert_eq!(run(&["validate", "phone", "１３９０４３１００００"]).status.code(), Some(1));
}

fn first_agency_uscc(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("jiazheng.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let key = std::fs::read_to_string(dir.join("secret.key")).unwrap();
        let master: [u8; 32] = hex_decode(key.trim()).try_into().unwrap();
        let store = jiazheng_store::Store::open(&url, jiazheng_store::Crypto::from_master_key(&master)).await.unwrap();
        store.agency(1).await.unwrap().uscc
    })
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn demo_generation_is_deterministic_for_a_seed() {
    let (a, b) = (temp_dir("gen-a"), temp_dir("gen-b"));
    for dir in [&a, &b] {
        let out = run(&[
            "demo",
            "generate",
            "--data-dir",
            dir.to_str().unwrap(),
            "--agencies",
            "4",
            "--workers",
            "300",
            "--seed",
            "5",
        ]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("4 agencies") && stdout(&out).contains("300 workers"), "{}", stdout(&out));
    }
    let export = |dir: &Path| {
        let file = dir.join("out.xlsx");
        let uscc = first_agency_uscc(dir);
        let out = run(&[
            "export",
            "workers",
            "--data-dir",
            dir.to_str().unwrap(),
            "--agency",
            &uscc,
            "-o",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success());
        read_worker_rows(std::fs::read(file).unwrap()).unwrap()
    };
    let (rows_a, rows_b) = (export(&a), export(&b));
    assert!(!rows_a.is_empty());
    let key = |rows: &[jiazheng_store::excel::WorkerRow]| -> Vec<(String, String)> {
        rows.iter().map(|r| (r.form.id_number.clone(), r.form.name.clone())).collect()
    };
    assert_eq!(key(&rows_a), key(&rows_b));
    // Every generated ID number passes the same parser the platform uses.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    assert!(rows_a.iter().all(|r| jiazheng_core::ids::ResidentId::parse(&r.form.id_number, today).is_ok()));
    assert!(rows_a.iter().all(|r| r.form.id_number.starts_with("2201")));
    let _ = std::fs::remove_dir_all(a);
    let _ = std::fs::remove_dir_all(b);
}

#[test]
fn import_from_the_command_line_is_all_or_nothing_with_a_report() {
    let dir = temp_dir("import");
    let d = dir.to_str().unwrap();
    assert!(
        run(&["demo", "generate", "--data-dir", d, "--agencies", "1", "--workers", "10", "--seed", "3"])
            .status
            .success()
    );
    let uscc = first_agency_uscc(&dir);
    let sheet = dir.join("new.xlsx");
    assert!(
        run(&["demo", "xlsx", "--data-dir", d, "--rows", "20", "--seed", "8", "-o", sheet.to_str().unwrap()])
            .status
            .success()
    );

    // Break one row: the whole file is refused and the report names the row.
    let mut rows = read_worker_rows(std::fs::read(&sheet).unwrap()).unwrap();
    rows[4].form.phone = "12345".into();
    let lines: Vec<jiazheng_store::excel::WorkerLine> = rows
        .iter()
        .map(|r| {
            let mut draft = r.form.clone();
            draft.phone = "13900000000".into();
            let parsed = draft.parse(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()).unwrap();
            let mut line = jiazheng_store::excel::WorkerLine::from_draft(
                &parsed,
                jiazheng_core::registry::binding::BindingKind::Employee,
            );
            line.phone = r.form.phone.clone();
            line
        })
        .collect();
    let broken = dir.join("broken.xlsx");
    std::fs::write(&broken, jiazheng_store::excel::workers_sheet(&lines).unwrap()).unwrap();
    let report = dir.join("errors.xlsx");
    let out = run(&[
        "import",
        "workers",
        broken.to_str().unwrap(),
        "--data-dir",
        d,
        "--agency",
        &uscc,
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("0 imported") && stdout(&out).contains("row 6"), "{}", stdout(&out));
    assert!(report.exists());

    let out =
        run(&["import", "workers", broken.to_str().unwrap(), "--data-dir", d, "--agency", &uscc, "--skip-invalid"]);
    assert!(stdout(&out).contains("19 imported"), "{}", stdout(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn user_add_reads_the_password_from_stdin_and_refuses_unknown_roles() {
    let dir = temp_dir("user");
    let d = dir.to_str().unwrap();
    let mut child = bin()
        .args([
            "user",
            "add",
            "--data-dir",
            d,
            "--role",
            "regulator",
            "--name",
            "nanguan",
            "--district",
            "220102",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a good password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("created account nanguan (regulator)"));
    let bad = run(&["user", "add", "--data-dir", d, "--role", "emperor", "--name", "x", "--password-stdin"]);
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_daily_job_reminds_once_and_record_sheets_import_from_their_templates() {
    let dir = temp_dir("jobs");
    let data = dir.to_str().unwrap();
    let made = run(&["demo", "generate", "--data-dir", data, "--agencies", "3", "--workers", "300", "--seed", "3"]);
    assert!(made.status.success());
    let first = run(&["jobs", "run", "--data-dir", data, "--date", "2026-11-29"]);
    assert!(first.status.success());
    let line = stdout(&first);
    assert!(line.contains("checked 300 workers"), "{line}");
    let new: u64 = line.split(" new reminders").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(new > 0, "demo histories have something due: {line}");
    let second = stdout(&run(&["jobs", "run", "--data-dir", data, "--date", "2026-11-29"]));
    assert!(second.contains(", 0 new reminders"), "{second}");

    let template = dir.join("health.xlsx");
    let written = run(&["export", "template", "--kind", "health", "-o", template.to_str().unwrap()]);
    assert!(written.status.success());
    let uscc = first_agency_uscc(&dir);
    // The template has the columns but no rows: importing it writes nothing and succeeds.
    let imported =
        run(&["import", "records", "health", template.to_str().unwrap(), "--data-dir", data, "--agency", &uscc]);
    assert!(imported.status.success(), "{}", stdout(&imported));
    assert!(stdout(&imported).contains("0 rows, 0 imported"), "{}", stdout(&imported));
    let _ = std::fs::remove_dir_all(&dir);
}

fn open_store(dir: &Path) -> (tokio::runtime::Runtime, jiazheng_store::Store) {
    let url = format!("sqlite://{}", dir.join("jiazheng.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(async {
        let key = std::fs::read_to_string(dir.join("secret.key")).unwrap();
        let master: [u8; 32] = hex_decode(key.trim()).try_into().unwrap();
        jiazheng_store::Store::open(&url, jiazheng_store::Crypto::from_master_key(&master)).await.unwrap()
    });
    (runtime, store)
}

#[test]
fn ledger_and_certificates_verify_offline_and_a_tampered_row_is_named() {
    let dir = temp_dir("credit");
    let data = dir.to_str().unwrap();
    assert!(
        run(&["demo", "generate", "--data-dir", data, "--agencies", "1", "--workers", "20", "--seed", "4"])
            .status
            .success()
    );
    let (runtime, store) = open_store(&dir);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let issued = runtime.block_on(async {
        let worker = store
            .search_workers(&jiazheng_store::registry::workers::WorkerQuery { agency: Some(1), ..Default::default() })
            .await
            .unwrap()
            .items[0]
            .id;
        jiazheng_store::testing::give_cleaning_records(&store, 1, worker, today - chrono::Duration::days(20), today)
            .await
            .unwrap();
        store.verify_identity(worker, "agency:1".into(), None, "id_card").await.unwrap();
        let issued = store.issue_certificate(worker, "agency:1".into(), None, today).await.unwrap();
        store.checkpoint().await.unwrap();
        (issued, store.verify_ledger(&|_, _| {}).await.unwrap().entries)
    });
    let (issued, entries) = issued;
    let ok = run(&["ledger", "verify", "--data-dir", data]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(entries > 5, "demo histories are in the ledger too");
    assert!(stdout(&ok).contains(&format!("ok: {entries} entries chained, 1 signed checkpoints")), "{}", stdout(&ok));

    let valid = run(&["certificate", "verify", &issued.token, "--data-dir", data, "--date", "2026-11-29"]);
    assert_eq!(valid.status.code(), Some(0), "{}", stdout(&valid));
    assert!(stdout(&valid).starts_with("VALID"));
    let later = (issued.valid_until + chrono::Duration::days(1)).to_string();
    let expired = run(&["certificate", "verify", &issued.token, "--data-dir", data, "--date", &later]);
    assert!(stdout(&expired).starts_with("EXPIRED") && expired.status.code() == Some(1));
    // Offline: keys and the revocation list from files, no database.
    let keys = runtime.block_on(store.public_keys()).unwrap();
    let keys_file = dir.join("keys.json");
    std::fs::write(&keys_file, serde_json::to_vec(&keys).unwrap()).unwrap();
    let list_file = dir.join("revoked.json");
    std::fs::write(
        &list_file,
        format!(r#"{{"as_of":"x","revoked":[{{"number":"{}","revoked_at":"x"}}]}}"#, issued.number),
    )
    .unwrap();
    let keys_arg = keys_file.to_str().unwrap();
    let offline = run(&["certificate", "verify", &issued.token, "--keys", keys_arg, "--date", "2026-11-29"]);
    assert!(stdout(&offline).starts_with("VALID"), "{}", stdout(&offline));
    let revoked = run(&[
        "certificate",
        "verify",
        &issued.token,
        "--keys",
        keys_arg,
        "--revocations",
        list_file.to_str().unwrap(),
    ]);
    assert!(stdout(&revoked).starts_with("REVOKED"));
    let mut forged = issued.token.clone().into_bytes();
    forged[12] = if forged[12] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let tampered = run(&["certificate", "verify", &forged, "--keys", keys_arg]);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(stdout(&tampered).starts_with("NOT VALID"));

    // Someone with write access removes the guard and edits entry 2: the verifier names it.
    runtime.block_on(async {
        let jiazheng_store::Pool::Sqlite(pool) = store.pool() else { unreachable!() };
        sqlx::query("DROP TRIGGER credit_ledger_no_update").execute(pool).await.unwrap();
        sqlx::query("UPDATE credit_ledger SET source = 'agency:9' WHERE seq = $1")
            .bind(entries - 1)
            .execute(pool)
            .await
            .unwrap();
        store.close().await;
    });
    let broken = run(&["ledger", "verify", "--data-dir", data]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stdout(&broken).contains(&format!("BROKEN at entry {}", entries - 1)), "{}", stdout(&broken));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reconcile_lists_each_line_the_platform_lacks_and_exits_one() {
    let dir = temp_dir("reconcile");
    let data = dir.to_str().unwrap();
    let day = "2026-11-30";
    let quiet = run(&["payments", "reconcile", "--data-dir", data, "--date", day]);
    assert_eq!(quiet.status.code(), Some(0), "an empty day matches");
    assert!(stdout(&quiet).contains("0 discrepancies"), "{}", stdout(&quiet));
    let bill = dir.join("bill.csv");
    std::fs::write(
        &bill,
        format!(
            "{}\n`{day} 10:00:00,`4200000001,`JZ00000001P1,`SUCCESS,`90.00,`,`,`0.00,`\n\
             `{day} 11:00:00,`4200000001,`JZ00000001P1,`REFUND,`0.00,`503001,`JZ00000001P1R1,`10.00,`SUCCESS\n\
             总交易单数,应结订单总金额,退款总金额\n`2,`90.00,`10.00\n",
            jiazheng_core::market::payment::BILL_HEADER
        ),
    )
    .unwrap();
    let found = run(&["payments", "reconcile", "--data-dir", data, "--date", day, "--bill", bill.to_str().unwrap()]);
    assert_eq!(found.status.code(), Some(1));
    let text = stdout(&found);
    assert!(text.contains("JZ00000001P1 ¥90.00") && text.contains("JZ00000001P1R1 ¥10.00"), "{text}");
    assert!(text.contains("2 bill lines, 0 platform lines, 2 discrepancies"), "{text}");
    std::fs::write(&bill, "not,a,bill\n").unwrap();
    let refused = run(&["payments", "reconcile", "--data-dir", data, "--date", day, "--bill", bill.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("header"), "an unreadable bill is said to be one");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_generation_leaves_each_workers_readiness_as_a_full_recomputation_finds_it() {
    // Readiness is planned beside the writing of the next batch; a plan read before its batch's
    // histories were written would show here as spans a recomputation does not find.
    let dir = temp_dir("gen-readiness");
    let out = run(&["demo", "generate", "--data-dir", dir.to_str().unwrap(), "--agencies", "4", "--workers", "600"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (runtime, store) = open_store(&dir);
    let jiazheng_store::Pool::Sqlite(pool) = store.pool() else { unreachable!("a data directory is SQLite") };
    let spans = || -> Vec<(i64, String, String, String, String)> {
        runtime
            .block_on(
                sqlx::query_as(
                    "SELECT worker_id, service, district_code, ready_from, ready_until FROM worker_readiness
                     ORDER BY worker_id, service, ready_from",
                )
                .fetch_all(pool),
            )
            .unwrap()
    };
    let generated = spans();
    let ready = generated.iter().map(|s| s.0).collect::<std::collections::HashSet<_>>().len();
    assert!(ready > 50, "a fair share of 600 workers is ready for something: {ready}");
    assert_eq!(runtime.block_on(store.stale_readiness()).unwrap(), 0);
    runtime
        .block_on(sqlx::query("INSERT INTO readiness_stale (worker_id) SELECT id FROM workers").execute(pool))
        .unwrap();
    let today = jiazheng_core::calendar::beijing_today();
    assert_eq!(runtime.block_on(store.refresh_all_readiness(today, &|_, _| {})).unwrap(), 600);
    assert_eq!(spans(), generated);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_generation_gives_histories_to_the_share_of_agency_workers_asked_for() {
    // (percent, the least and the most of the bound workers that may have a training record)
    for (percent, least, most) in [(0, 0.0, 0.0), (20, 0.08, 0.35)] {
        let dir = temp_dir(&format!("gen-histories-{percent}"));
        let d = dir.to_str().unwrap();
        let percent_arg = percent.to_string();
        let out = run(&[
            "demo",
            "generate",
            "--data-dir",
            d,
            "--agencies",
            "3",
            "--workers",
            "300",
            "--seed",
            "6",
            "--histories",
            &percent_arg,
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (runtime, store) = open_store(&dir);
        let count = |sql: &str| -> i64 {
            let jiazheng_store::Pool::Sqlite(pool) = store.pool() else { unreachable!("a data directory is SQLite") };
            runtime.block_on(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(pool)).unwrap()
        };
        assert_eq!(count("SELECT COUNT(*) FROM workers"), 300);
        let bound = count("SELECT COUNT(DISTINCT worker_id) FROM bindings") as f64;
        assert!(bound > 100.0, "most agency workers are bound: {bound}");
        let trained = count("SELECT COUNT(DISTINCT worker_id) FROM training_records") as f64;
        assert!(
            trained >= least * bound && trained <= most * bound,
            "{percent}%: {trained} of {bound} bound workers have training records"
        );
        if percent == 0 {
            for history in ["health_checks", "skill_certificates"] {
                assert_eq!(count(&format!("SELECT COUNT(*) FROM {history}")), 0, "{history}");
            }
            assert_eq!(count("SELECT COUNT(*) FROM insurance_policies WHERE worker_id IS NOT NULL"), 0);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn a_read_memory_size_that_is_not_a_number_of_mib_stops_the_server_with_the_reason() {
    let dir = temp_dir("read-cache-mib");
    let d = dir.to_str().unwrap();
    for bad in ["abc", "-1", " 4", "17592186044416", "65537"] {
        let out = bin()
            .args(["serve", "--data-dir", d, "--bind", "127.0.0.1:0"])
            .env("JIAZHENG_READ_CACHE_MIB", bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("read-cache-mib"), "{bad:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
