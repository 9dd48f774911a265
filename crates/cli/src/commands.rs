//! What each command does; the heavy lifting lives in the store and server crates.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiazheng_core::account::Role;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::{Mobile, ResidentId, Uscc};
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::excel::{ImportMode, error_report, worker_template};
use jiazheng_store::{Crypto, Store, Workload};

use crate::cli::{
    CertificateCommand, Cli, Command, DataOptions, DemoCommand, DivisionsCommand, ExportCommand, IdentifierKind,
    ImportCommand, JobsCommand, LedgerCommand, PaymentsCommand, RecordKindArg, TemplateKind, UserCommand,
};
use crate::demo;
use jiazheng_store::excel::ImportReport;
use jiazheng_store::workforce::import::RecordKind;
use jiazheng_store::workforce::jobs::InboxDelivery;

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { data, bind, demo: with_demo, secure_cookies, trusted_proxies, no_jobs, read_cache_mib } => {
            let import_reports = Some(data.data_dir.join("import-reports"));
            let photos = Some(data.data_dir.join("photos"));
            let config = jiazheng_server::Config {
                secure_cookies,
                trusted_proxies,
                import_reports,
                photos,
                read_cache_mib,
                ..Default::default()
            };
            let jobs = if no_jobs { Jobs::Elsewhere } else { Jobs::Here };
            serve(&data, &bind, with_demo, jobs, config).await
        }
        Command::Demo { command: DemoCommand::Generate { data, agencies, workers, seed, histories } } => {
            let store = open_bulk(&data).await?;
            let histories = demo::Histories::percent(histories);
            let summary = demo::generate(&store, agencies, workers, seed, histories, true).await?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Market { data, bookings, residents, seed } } => {
            let store = open_bulk(&data).await?;
            let summary = crate::market_demo::generate(&store, bookings, residents, seed, true).await?;
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Certificates { data, count, output } } => {
            let store = open(&data).await?;
            let tokens = demo::certificates(&store, count, beijing_today()).await?;
            std::fs::write(&output, tokens.join("\n"))?;
            println!("issued {} certificates; tokens in {}", tokens.len(), output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Ledger { data, entries } } => {
            let store = open_bulk(&data).await?;
            demo::ledger(&store, entries).await?;
            println!("appended {entries} entries");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Community { data, points, answers, seed } } => {
            let store = open_bulk(&data).await?;
            store.ensure_default_divisions().await?;
            println!("{}", crate::survey_demo::bench(&store, points, answers, seed).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Claims { data, workers, months, rounds } } => {
            let store = open_bulk(&data).await?;
            store.ensure_default_divisions().await?;
            println!("{}", crate::claims_demo::bench(&store, workers, months, rounds).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::ContractPdf { count, output } } => {
            let (report, last) = demo::contract_pdf_timing(count.max(1))?;
            if let Some(output) = output {
                std::fs::write(&output, last)?;
            }
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Payments { data, paid, pending, date, residents, seed } } => {
            let store = open_bulk(&data).await?;
            let day = date.unwrap_or_else(|| beijing_today() - chrono::Duration::days(1));
            let summary = crate::payments_demo::generate(&store, paid, pending, day, residents, seed).await?;
            println!("{summary} (paid on {day})");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Notifications { data, copies, limit, seed, output } } => {
            let store = open(&data).await?;
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(&output).with_context(|| format!("create {}", output.display()))?,
            );
            let lines = crate::payments_demo::notifications(&store, copies.max(1), limit, seed, &mut file).await?;
            std::io::Write::flush(&mut file)?;
            println!("wrote {lines} signed notifications to {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { command: DemoCommand::Xlsx { data, rows, seed, output } } => {
            let store = open(&data).await?;
            std::fs::write(&output, demo::worker_sheet(&store, rows, seed).await?)?;
            println!("wrote {rows} synthetic workers to {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Divisions { command: DivisionsCommand::Import { data, file, city_name, city_config } } => {
            use jiazheng_store::registry::city::CityProfile;
            let profile = match &city_config {
                Some(path) => {
                    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
                    CityProfile::from_json(&bytes, &city_name)?
                }
                None => CityProfile::default().filled(&city_name)?,
            };
            let store = open(&data).await?;
            let reader = std::fs::File::open(&file).with_context(|| format!("open {}", file.display()))?;
            let (divisions, counts) = jiazheng_store::registry::divisions::parse_divisions_csv(reader, &city_name)?;
            store.import_divisions(&divisions).await?;
            store.set_city_profile(&profile).await?;
            println!("the platform is called {} / {}", profile.platform_zh, profile.platform_en);
            println!(
                "loaded {} districts, {} streets, {} village-level units ({} communities, {} village committees, {} other)",
                counts.districts,
                counts.streets,
                counts.village_level_units(),
                counts.communities,
                counts.village_committees,
                counts.other_units
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    data,
                    role,
                    name,
                    display_name,
                    agency,
                    district,
                    worker_id,
                    provider,
                    bank,
                    evaluator,
                    password_stdin,
                },
        } => {
            let store = open(&data).await?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--role: {}", e.message_en))?;
            let agency_id = match agency {
                Some(uscc) => Some(agency_by_uscc(&store, &uscc).await?),
                None => None,
            };
            let district_code = match district {
                Some(raw) => Some(
                    DivisionCode::parse(&raw).map_err(|e| anyhow::anyhow!("--district: {}", e.message_en))?.to_string(),
                ),
                None => None,
            };
            let password = read_password(password_stdin)?;
            // The same rule as the admin's account page.
            jiazheng_core::account::parse_password(&password)
                .map_err(|e| anyhow::anyhow!("the password {}", e.message_en))?;
            let account = NewAccount {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                username: name,
                password,
                role,
                agency_id,
                district_code,
                worker_id,
                provider_id: match provider {
                    Some(code) => Some(provider_by_code(&store, &code).await?),
                    None => None,
                },
                bank_id: match bank {
                    Some(name) => Some(store.create_bank(name.trim()).await?),
                    None => None,
                },
                evaluator_id: match evaluator {
                    Some(name) => Some(store.evaluator_org_by_name(name.trim()).await?.id),
                    None => None,
                },
            };
            if role == Role::Evaluator && account.evaluator_id.is_none() {
                bail!("an evaluator account needs --evaluator NAME (its organisation, registered by the regulator)");
            }
            if role == Role::Bank && account.bank_id.is_none() {
                bail!("a bank account needs --bank NAME (the bank it reads reports for)");
            }
            let id = store.create_account(&account).await?;
            println!("created account {} ({}) with id {id}", account.username, role.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { command: ImportCommand::Workers { data, file, agency, skip_invalid, report } } => {
            let store = open_bulk(&data).await?;
            let agency_id = agency_by_uscc(&store, &agency).await?;
            let bytes = std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
            let bar = progress_bar(0, "importing");
            let mode = if skip_invalid { ImportMode::SkipInvalid } else { ImportMode::AllOrNothing };
            let result = store
                .import_workers(bytes, agency_id, mode, beijing_today(), &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            finish_import(&result, &file, report)
        }
        Command::Import { command: ImportCommand::Records { data, kind, file, agency, skip_invalid, report } } => {
            let store = open_bulk(&data).await?;
            let agency_id = agency_by_uscc(&store, &agency).await?;
            let bytes = std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
            let mode = if skip_invalid { ImportMode::SkipInvalid } else { ImportMode::AllOrNothing };
            let bar = progress_bar(0, "importing");
            let result = store
                .import_records(record_kind(kind), bytes, agency_id, None, mode, beijing_today(), &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            finish_import(&result, &file, report)
        }
        Command::Jobs { command: JobsCommand::Run { data, date } } => {
            let store = open(&data).await?;
            let day = date.unwrap_or_else(beijing_today);
            let bar = progress_bar(0, "workers");
            let report = store
                .run_daily_job(day, &InboxDelivery, &|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            println!(
                "{day}: checked {} workers ({} active), {} new reminders, {} delivered, {} failed, in {:.1} s",
                report.workers,
                report.active_workers,
                report.reminders_new,
                report.delivered,
                report.failed,
                report.elapsed_ms as f64 / 1000.0
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { command: ExportCommand::Workers { data, agency, output } } => {
            let store = open(&data).await?;
            let agency_id = agency_by_uscc(&store, &agency).await?;
            std::fs::write(&output, store.export_workers(agency_id, None).await?)?;
            println!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { command: ExportCommand::Template { kind, output } } => {
            let bytes = match kind {
                TemplateKind::Workers => worker_template()?,
                TemplateKind::Training => RecordKind::Training.template()?,
                TemplateKind::Certificates => RecordKind::Certificates.template()?,
                TemplateKind::Health => RecordKind::HealthChecks.template()?,
                TemplateKind::Insurance => RecordKind::Insurance.template()?,
            };
            std::fs::write(&output, bytes)?;
            println!("wrote {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Payments { command: PaymentsCommand::Reconcile { data, date, bill } } => {
            let store = open(&data).await?;
            reconcile(&store, date, bill.as_deref()).await
        }
        Command::Payments { command: PaymentsCommand::Audit { data } } => {
            let store = open(&data).await?;
            let started = std::time::Instant::now();
            let audit = store.audit_journal().await?;
            for (txn, sum) in &audit.unbalanced {
                println!("transaction {txn} sums to {sum} fen, not 0");
            }
            for (account, rows, balance) in &audit.mismatched {
                println!("account {account}: its rows sum to {rows} fen, its balance says {balance}");
            }
            println!(
                "{}: {} journal transactions, {} unbalanced, {} balances off ({:.2} s)",
                if audit.is_clean() { "ok" } else { "BROKEN" },
                audit.transactions,
                audit.unbalanced.len(),
                audit.mismatched.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(if audit.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Ledger { command: LedgerCommand::Verify { data } } => {
            let store = open(&data).await?;
            let bar = progress_bar(0, "entries");
            let started = std::time::Instant::now();
            let report = store
                .verify_ledger(&|done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            let took = started.elapsed().as_secs_f64();
            match (report.first_bad_seq, &report.problem) {
                (Some(seq), Some(problem)) => {
                    println!("BROKEN at entry {seq}: {problem} ({} entries checked before it)", report.entries);
                    Ok(ExitCode::from(1))
                }
                _ => {
                    println!(
                        "ok: {} entries chained, {} signed checkpoints verified, in {took:.1} s",
                        report.entries, report.checkpoints
                    );
                    if report.unsigned_tail > 0 {
                        println!(
                            "note: the last {} entries come after the last signed checkpoint; only the chain vouches \
                             for them (`jiazheng ledger checkpoint` signs the head)",
                            report.unsigned_tail
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Backup { data, output } => {
            let store = open(&data).await?;
            store.backup_to(&database_url(&data), &output).await?;
            let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
            println!("backup written: {} ({size} bytes); the secret key is not in it", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { data, file } => {
            std::fs::create_dir_all(&data.data_dir)?;
            let key_path = data.data_dir.join("secret.key");
            if std::env::var_os("JIAZHENG_SECRET_KEY").is_none() && !key_path.exists() {
                bail!(
                    "put the secret key of the backed-up platform in {} (or JIAZHENG_SECRET_KEY) first",
                    key_path.display()
                );
            }
            let crypto = Crypto::load_or_create(&data.data_dir)?;
            let store = Store::restore_from(&file, &database_url(&data), crypto).await?;
            let report = store.verify_ledger(&|_, _| {}).await?;
            println!(
                "restored {} workers; ledger: {} entries, {}",
                store.count_workers().await?,
                report.entries,
                if report.first_bad_seq.is_none() { "chain intact" } else { "CHAIN BROKEN" }
            );
            Ok(if report.first_bad_seq.is_none() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Ledger { command: LedgerCommand::RetireKey { data } } => {
            let store = open(&data).await?;
            if let Some(id) = store.retire_signing_key().await? {
                println!("retired signing key {id}; a new key signs from now on");
            }
            store.checkpoint().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command: LedgerCommand::Checkpoint { data } } => {
            let store = open(&data).await?;
            match store.checkpoint().await? {
                Some(seq) => println!("signed the chain up to entry {seq}"),
                None => println!("the ledger is empty"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Certificate { command: CertificateCommand::Verify { token, keys, revocations, date, data } } => {
            let keys: Vec<jiazheng_store::credit::keys::PublicKey> = match keys {
                Some(path) => serde_json::from_slice(&std::fs::read(&path)?).context("read the keys file")?,
                None => open(&data).await?.public_keys().await?,
            };
            let revoked: Vec<String> = match revocations {
                Some(path) => {
                    let list: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
                    list["revoked"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|r| r["number"].as_str().map(String::from)).collect())
                        .unwrap_or_default()
                }
                None => Vec::new(),
            };
            Ok(verify_certificate(&token, &keys, &revoked, date.unwrap_or_else(beijing_today)))
        }
        Command::Validate { kind, value } => Ok(validate(kind, &value)),
    }
}

/// Opens (and migrates) the store the options point at, with the Changchun divisions loaded.
pub async fn open(data: &DataOptions) -> anyhow::Result<Store> {
    open_for(data, Workload::Serve).await
}

/// Opens the store for a long write (generation, import).
pub async fn open_bulk(data: &DataOptions) -> anyhow::Result<Store> {
    open_for(data, Workload::BulkLoad).await
}

/// The database a command works on: `--database`, else SQLite in the data directory.
fn database_url(data: &DataOptions) -> String {
    data.database.clone().unwrap_or_else(|| Store::sqlite_url(&data.data_dir))
}

async fn open_for(data: &DataOptions, workload: Workload) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&data.data_dir).with_context(|| format!("create {}", data.data_dir.display()))?;
    let crypto = Crypto::load_or_create(&data.data_dir)?;
    let url = data.database.clone().unwrap_or_else(|| Store::sqlite_url(&data.data_dir));
    let store = Store::open_for(&url, crypto, workload).await.context("open the database")?;
    store.ensure_default_divisions().await?;
    store.ensure_default_plan().await?;
    Ok(store)
}

async fn agency_by_uscc(store: &Store, raw: &str) -> anyhow::Result<i64> {
    let uscc = Uscc::parse(raw).map_err(|e| anyhow::anyhow!("--agency: {}", e.message_en))?;
    Ok(store.agency_by_uscc(uscc.as_str()).await.with_context(|| format!("no agency with code {uscc}"))?.id)
}

/// The offline check: the signature with the known keys, then expiry and the revocation list.
pub fn verify_certificate(
    token: &str,
    keys: &[jiazheng_store::credit::keys::PublicKey],
    revoked: &[String],
    today: chrono::NaiveDate,
) -> ExitCode {
    let verified = jiazheng_store::credit::keys::PublicKey::verify_token(keys, token);
    match verified {
        Err(error) => {
            println!("NOT VALID ({}): the code was altered, forged, or is not a certificate", error.code());
            ExitCode::from(1)
        }
        Ok(claims) if revoked.contains(&claims.number) => {
            println!("REVOKED as of the last known list: {} ({})", claims.number, claims.name_masked);
            ExitCode::from(1)
        }
        Ok(claims) if claims.valid_until < today => {
            println!("EXPIRED on {}: {} ({})", claims.valid_until, claims.number, claims.name_masked);
            ExitCode::from(1)
        }
        Ok(claims) => {
            println!(
                "VALID: {} {} · card colour {} · valid until {} · key {}",
                claims.number,
                claims.name_masked,
                claims.status.as_str(),
                claims.valid_until,
                claims.key_id
            );
            ExitCode::SUCCESS
        }
    }
}

fn record_kind(kind: RecordKindArg) -> RecordKind {
    match kind {
        RecordKindArg::Training => RecordKind::Training,
        RecordKindArg::Certificates => RecordKind::Certificates,
        RecordKindArg::Health => RecordKind::HealthChecks,
        RecordKindArg::Insurance => RecordKind::Insurance,
    }
}

/// Today in Beijing, the day records and reminders are dated by.
pub fn beijing_today() -> chrono::NaiveDate {
    jiazheng_server::api::workers::today()
}

/// Prints an import's outcome and writes its error report; exit 1 when rows were refused.
fn finish_import(
    result: &ImportReport,
    file: &std::path::Path,
    report: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    println!("{} rows, {} imported, {} rows with errors", result.rows, result.imported, result.bad_rows());
    if !result.has_errors() {
        return Ok(ExitCode::SUCCESS);
    }
    if result.error_count > result.errors.len() {
        println!("{} refused cells; the report lists the first {}", result.error_count, result.errors.len());
    }
    let path = report.unwrap_or_else(|| file.with_extension("errors.xlsx"));
    std::fs::write(&path, error_report(&result.errors)?)?;
    for e in result.errors.iter().take(20) {
        println!("  row {}, {}: {} / {}", e.row, e.column, e.message_zh, e.message_en);
    }
    println!("error report: {}", path.display());
    if result.imported == 0 {
        println!("nothing was imported");
    }
    Ok(ExitCode::from(1))
}

async fn provider_by_code(store: &Store, code: &str) -> anyhow::Result<i64> {
    let mut page = 1;
    loop {
        let found = store.providers(jiazheng_store::PageRequest::new(Some(page), Some(100))).await?;
        if let Some(p) = found.items.iter().find(|p| p.code == code.trim()) {
            return Ok(p.id);
        }
        if found.items.len() < 100 {
            anyhow::bail!("no school or training base with code {code}");
        }
        page += 1;
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("password: ")?;
    let second = rpassword::prompt_password("again: ")?;
    if first != second {
        bail!("the passwords differ");
    }
    Ok(first)
}

/// Matches a day's bill against the platform, in three steps on a bar (read the bill, read the
/// platform's records, match), and prints every discrepancy.
async fn reconcile(store: &Store, date: chrono::NaiveDate, bill: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    use jiazheng_core::market::payment::{parse_bill_csv, reconcile};
    let started = std::time::Instant::now();
    let bar = progress_bar(3, "reconcile");
    let provider = match bill {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
            parse_bill_csv(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message_en))?
        }
        None => store.sandbox_bill(date).await?,
    };
    bar.inc(1);
    let platform = store.platform_bill(date).await?;
    bar.inc(1);
    let found = reconcile(&provider, &platform);
    bar.finish_and_clear();
    for discrepancy in &found {
        println!("{discrepancy}");
    }
    println!(
        "{date}: {} bill lines, {} platform lines, {} discrepancies ({:.2} s)",
        provider.len(),
        platform.len(),
        found.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(if found.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

pub fn progress_bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message);
    bar
}

fn validate(kind: IdentifierKind, value: &str) -> ExitCode {
    let today = chrono::Local::now().date_naive();
    let result = match kind {
        IdentifierKind::Id => ResidentId::parse(value, today)
            .map(|id| format!("valid: born {}, {}, region {}", id.birth_date(), id.sex().as_str(), id.region_code())),
        IdentifierKind::Uscc => Uscc::parse(value).map(|u| format!("valid: {u}")),
        IdentifierKind::Phone => Mobile::parse(value).map(|m| format!("valid: {}", m.as_str())),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(invalid) => {
            println!("invalid ({}): {} / {}", invalid.code, invalid.message_zh, invalid.message_en);
            ExitCode::from(1)
        }
    }
}

/// Whether this server runs the scheduled work (one server of several on a database does).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Jobs {
    Here,
    Elsewhere,
}

async fn serve(
    data: &DataOptions,
    bind: &str,
    with_demo: bool,
    jobs: Jobs,
    config: jiazheng_server::Config,
) -> anyhow::Result<ExitCode> {
    let store = open(data).await?;
    if with_demo {
        demo::ensure_demo(&store).await?;
    }
    let config_has_no_gateway = config.texts.is_none();
    let app = jiazheng_server::Application::build(store.clone(), bind, config)
        .await
        .with_context(|| format!("bind {bind}"))?;
    let addr = app.local_addr()?;
    println!("jiazheng is listening on http://{addr}/");
    if config_has_no_gateway {
        println!("no SMS gateway is configured: residents' sign-in codes are written to this log (look for \"SMS\")");
    }
    if jobs == Jobs::Here {
        tokio::spawn(daily_jobs(store.clone()));
        tokio::spawn(readiness_keeper(store.clone()));
    }
    tokio::spawn(checkpoint_timer(store.clone()));
    if with_demo {
        demo::print_logins(&format!("http://{addr}"));
    }
    app.run_until(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Signs the ledger's head every minute it moved, so at most a minute of entries waits for a
/// signature however slowly they come (a checkpoint is also signed every 1,000 entries).
async fn checkpoint_timer(store: Store) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(error) = store.checkpoint_if_moved().await {
            tracing::error!(%error, "signing the ledger head failed");
        }
    }
}

/// Recomputes the readiness of workers whose facts changed, a batch at a time, soon after the
/// change (the search assesses a stale worker itself meanwhile, so this is for speed only).
async fn readiness_keeper(store: Store) {
    loop {
        let pause = match store.refresh_readiness(500, beijing_today()).await {
            Ok(0) => std::time::Duration::from_secs(1),
            Ok(_) => std::time::Duration::from_millis(10),
            Err(error) => {
                tracing::error!(%error, "refreshing readiness failed");
                std::time::Duration::from_secs(10)
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// Runs the daily job now if it has not run today, then every day at 02:00 Beijing time.
async fn daily_jobs(store: Store) {
    let ran_today = store.last_job_run("workforce_daily").await.ok().flatten().is_some_and(|at| {
        at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset")).date_naive()
            == beijing_today()
    });
    let mut wait = if ran_today {
        jiazheng_store::workforce::jobs::until_next_run(chrono::Utc::now())
    } else {
        Default::default()
    };
    loop {
        tokio::time::sleep(wait).await;
        match store.run_daily_job(beijing_today(), &InboxDelivery, &|_, _| {}).await {
            Ok(report) => tracing::info!(?report, "daily workforce job"),
            Err(error) => tracing::error!(%error, "daily workforce job failed"),
        }
        match store.settle_periods(beijing_today()).await {
            Ok(orders) => tracing::info!(orders, "long services settled for the weeks they have run"),
            Err(error) => tracing::error!(%error, "settling long services failed"),
        }
        match store.assign_next_day_everywhere().await {
            Ok(runs) => {
                for (agency, run) in runs {
                    match run {
                        Ok(run) => tracing::info!(
                            agency,
                            assigned = run.assigned.len(),
                            left_open = run.left_open.len(),
                            "next-day assignment"
                        ),
                        Err(error) => tracing::error!(agency, %error, "next-day assignment failed"),
                    }
                }
            }
            Err(error) => tracing::error!(%error, "next-day assignment failed"),
        }
        wait = jiazheng_store::workforce::jobs::until_next_run(chrono::Utc::now());
    }
}
