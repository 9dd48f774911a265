//! The command line, declared once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "jiazheng", version, about = "家政服务平台 — a city's domestic-services platform")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives; every command that touches data takes these.
#[derive(Debug, Clone, Args)]
pub struct DataOptions {
    /// Directory for the SQLite file and the secret key.
    #[arg(long, env = "JIAZHENG_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL; `postgres://...` runs on PostgreSQL. Default: SQLite in the data directory.
    #[arg(long, env = "JIAZHENG_DATABASE")]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web server.
    Serve {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, env = "JIAZHENG_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Fill an empty database with demo data and print the demo logins.
        #[arg(long)]
        demo: bool,
        /// Mark cookies Secure and send HSTS (set when served over TLS).
        #[arg(long)]
        secure_cookies: bool,
        /// A reverse proxy whose X-Forwarded-For header names the client (repeat for several).
        #[arg(long = "trusted-proxy")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Leave the daily job and the readiness keeper to another server on the same database
        /// (run them on one server only) or to `jobs run`.
        #[arg(long, env = "JIAZHENG_NO_JOBS")]
        no_jobs: bool,
        /// MiB of memory for hot public reads (0 turns it off; default 128).
        #[arg(long, env = "JIAZHENG_READ_CACHE_MIB", value_parser = clap::value_parser!(u32).range(0..=65_536))]
        read_cache_mib: Option<u32>,
    },
    /// Demo and synthetic data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Administrative divisions.
    Divisions {
        #[command(subcommand)]
        command: DivisionsCommand,
    },
    /// Accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import from spreadsheets.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export to spreadsheets.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Scheduled work (also run daily by `serve`).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// The credit ledger.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Copy the whole database, consistently, while the platform runs (SQLite: `VACUUM INTO`;
    /// PostgreSQL: `pg_dump`). The secret key is not in the copy: keep it apart.
    Backup {
        #[command(flatten)]
        data: DataOptions,
        /// The backup file to write (must not exist).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Restore a backup into a new data directory or an empty PostgreSQL database; the same
    /// secret key (`JIAZHENG_SECRET_KEY` or DATA_DIR/secret.key) must be in place.
    Restore {
        #[command(flatten)]
        data: DataOptions,
        file: PathBuf,
    },
    /// Home-service certificates.
    Certificate {
        #[command(subcommand)]
        command: CertificateCommand,
    },
    /// Check an identifier: prints valid or the reason; exit 0 if valid, 1 if not.
    Validate { kind: IdentifierKind, value: String },
    /// Payments.
    Payments {
        #[command(subcommand)]
        command: PaymentsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Match a Beijing day's trade bill against the platform's payments and refunds; lists every
    /// discrepancy (exit 1 if there is any).
    Reconcile {
        #[command(flatten)]
        data: DataOptions,
        /// The Beijing date, YYYY-MM-DD.
        #[arg(long)]
        date: chrono::NaiveDate,
        /// The provider's bill (CSV in WeChat's trade-bill columns); without it, the built-in
        /// sandbox's bill of that day.
        #[arg(long)]
        bill: Option<PathBuf>,
    },
    /// Check the money journal: every transaction sums to zero and every balance equals its
    /// account's rows (exit 1 if not).
    Audit {
        #[command(flatten)]
        data: DataOptions,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Generate synthetic agencies, workers and service points on the real divisions.
    Generate {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 50)]
        agencies: usize,
        #[arg(long, default_value_t = 2000)]
        workers: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The share of agency workers, in percent, given training, health-check, insurance and
        /// certificate histories with their ledger entries. The rest are in the registry only
        /// (person and binding): a national-size load, where full histories would take 3 GB per
        /// million workers, keeps a few percent so the door still has cards to check.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(0..=100))]
        histories: u8,
    },
    /// Verify identity and issue certificates for up to COUNT eligible workers; writes their tokens
    /// (one per line) for benchmarks of the door check.
    Certificates {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Append N synthetic entries to the credit ledger (for benchmarking its verification).
    Ledger {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 1_000_000)]
        entries: usize,
    },
    /// Add the market: menus for every agency, weekly shifts for every employed worker, RESIDENTS
    /// residents and BOOKINGS orders per employed worker over the coming week.
    Market {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 10)]
        bookings: usize,
        #[arg(long, default_value_t = 1000)]
        residents: usize,
        #[arg(long, default_value_t = 3)]
        seed: u64,
    },
    /// Lay out a synthetic three-party contract COUNT times and report the time per PDF (the
    /// benchmark of contract rendering); writes the last PDF to OUTPUT when given.
    /// Service points and survey answers in bulk, then coverage and the survey's aggregation
    /// timed (scripts/benchmark-community).
    Community {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 10_000)]
        points: usize,
        #[arg(long, default_value_t = 1_000_000)]
        answers: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// An agency of WORKERS employee-based workers, insured, and ROUNDS social-insurance claims of
    /// MONTHS months each over all of them, each claim checked and decided timed in-process
    /// (scripts/benchmark-claims; the issue asks 5,000 worker-months in under 2 s).
    Claims {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 417)]
        workers: usize,
        #[arg(long, default_value_t = 12)]
        months: u32,
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
    ContractPdf {
        #[arg(long, default_value_t = 200)]
        count: usize,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Payment orders in bulk (scripts/benchmark-payments): PAID orders paid over DATE as the
    /// live path leaves them (the sandbox's side and the journal, so the day reconciles and the
    /// journal audits clean), and PENDING orders waiting for their notification. Needs menus
    /// (`demo market`).
    Payments {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 0)]
        paid: usize,
        #[arg(long, default_value_t = 0)]
        pending: usize,
        /// The Beijing day the paid ones were paid (default yesterday).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[arg(long, default_value_t = 1000)]
        residents: usize,
        #[arg(long, default_value_t = 5)]
        seed: u64,
    },
    /// The provider's notifications of the pending payments (at most LIMIT), COPIES of each,
    /// shuffled and signed now (the platform takes them for five minutes), one a line for
    /// scripts/bench/notify.lua: timestamp, nonce, serial, signature and body, tab-separated.
    Notifications {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 2)]
        copies: usize,
        #[arg(long, default_value_t = usize::MAX)]
        limit: usize,
        #[arg(long, default_value_t = 6)]
        seed: u64,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write a synthetic worker import sheet (for trying or benchmarking the import).
    Xlsx {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long, default_value_t = 1000)]
        rows: usize,
        #[arg(long, default_value_t = 2)]
        seed: u64,
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check the whole hash chain and every signed checkpoint; names the first bad entry (exit 1).
    Verify {
        #[command(flatten)]
        data: DataOptions,
    },
    /// Sign the chain's current head.
    Checkpoint {
        #[command(flatten)]
        data: DataOptions,
    },
    /// Retire the current signing key (after a suspected leak): what it signed stays valid,
    /// anything it would sign later is refused; a new key signs from now on.
    RetireKey {
        #[command(flatten)]
        data: DataOptions,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Check a certificate token offline: valid, tampered, expired, or revoked as of the last
    /// known list. Exit 0 only when valid.
    Verify {
        token: String,
        /// Public keys as served at /api/v1/credit/keys (JSON). Without it, the local database's.
        #[arg(long)]
        keys: Option<PathBuf>,
        /// The revocation list as served at /api/v1/credit/revocations (JSON), if any.
        #[arg(long)]
        revocations: Option<PathBuf>,
        /// The day to judge expiry by (default today in Beijing).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[command(flatten)]
        data: DataOptions,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The daily workforce job: reminders for health checks, insurance and retraining due within
    /// 30 days or overdue (each sent once), and the city's and districts' rates.
    Run {
        #[command(flatten)]
        data: DataOptions,
        /// The day to run for (YYYY-MM-DD); default today in Beijing time.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DivisionsCommand {
    /// Load a divisions CSV (same columns as the shipped Changchun file).
    Import {
        #[command(flatten)]
        data: DataOptions,
        file: PathBuf,
        /// The city's name, as the file's city row would say it (e.g. 吉林市).
        #[arg(long)]
        city_name: String,
        /// A JSON file with the city's names as people read them: name_zh, name_en, platform_zh,
        /// platform_en, regulator_zh, regulator_en (see crates/store/data/changchun_city.json);
        /// what it leaves out is derived from --city-name.
        #[arg(long)]
        city_config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is prompted for, or read from standard input.
    Add {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long)]
        role: String,
        /// Sign-in name.
        #[arg(long)]
        name: String,
        /// Shown name (defaults to the sign-in name).
        #[arg(long)]
        display_name: Option<String>,
        /// The agency (USCC) an agency admin acts for.
        #[arg(long)]
        agency: Option<String>,
        /// The district a regulator or community account is limited to.
        #[arg(long)]
        district: Option<String>,
        /// The worker record a worker account belongs to.
        #[arg(long)]
        worker_id: Option<i64>,
        /// The school or training base (its code) a school account acts for.
        #[arg(long)]
        provider: Option<String>,
        /// The bank a bank account reads released credit reports for (created if new).
        #[arg(long)]
        bank: Option<String>,
        /// The evaluator organisation (its registered name) an evaluator account scores for.
        #[arg(long)]
        evaluator: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import workers for an agency from an .xlsx file (all or nothing unless --skip-invalid).
    Workers {
        #[command(flatten)]
        data: DataOptions,
        file: PathBuf,
        #[arg(long)]
        agency: String,
        #[arg(long)]
        skip_invalid: bool,
        /// Where to write the error report (default: FILE.errors.xlsx).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Import training records, certificates, health checks or insurance policies for an
    /// agency's workers (all or nothing unless --skip-invalid).
    Records {
        #[command(flatten)]
        data: DataOptions,
        kind: RecordKindArg,
        file: PathBuf,
        #[arg(long)]
        agency: String,
        #[arg(long)]
        skip_invalid: bool,
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RecordKindArg {
    Training,
    Certificates,
    Health,
    Insurance,
}

/// What an import template is for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TemplateKind {
    Workers,
    Training,
    Certificates,
    Health,
    Insurance,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export an agency's workers to .xlsx.
    Workers {
        #[command(flatten)]
        data: DataOptions,
        #[arg(long)]
        agency: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write an empty import template.
    Template {
        #[arg(long, value_enum, default_value = "workers")]
        kind: TemplateKind,
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IdentifierKind {
    Id,
    Uscc,
    Phone,
}
