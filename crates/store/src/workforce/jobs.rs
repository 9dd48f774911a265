//! The daily workforce job: walks the register in id ranges, checks every worker with the core
//! rules, writes reminders to the outbox (once per recipient and event), tallies the city's and
//! each district's rates, and hands pending reminders to a delivery.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::registry::ServiceSet;
use jiazheng_core::workforce::compliance::{Condition, Requirement, Tally, assess, is_certified};
use serde::Serialize;
use sqlx::QueryBuilder;

use super::facts::FactsScope;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

/// Workers per range: enough to keep statements few, small enough to keep memory flat.
const RANGE: i64 = 20_000;

/// Deliveries give up on a reminder after this many failed attempts.
const MAX_ATTEMPTS: i64 = 5;

row! {
    /// A reminder in the outbox or an inbox.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Notification {
        pub id: i64,
        pub recipient_kind: String,
        pub recipient_id: i64,
        pub worker_id: i64,
        pub worker_name: String,
        pub condition: String,
        pub event_key: String,
        pub due_on: NaiveDate,
        pub overdue: bool,
        pub channel: String,
        pub created_at: DateTime<Utc>,
        pub delivered_at: Option<DateTime<Utc>>,
        pub read_at: Option<DateTime<Utc>>,
    }
}

impl Notification {
    /// The reminder's sentence in Chinese and English.
    pub fn message(&self, english: bool) -> String {
        let condition = Condition::parse(&self.condition).map(|c| c.label(english)).unwrap_or("");
        let due = self.due_on;
        match (english, self.overdue) {
            (false, false) => format!("{}的{condition}将于{due}到期，请及时办理。", self.worker_name),
            (false, true) => format!("{}的{condition}已于{due}过期，须补办后方可上户。", self.worker_name),
            (true, false) => format!("{}'s {condition} expires on {due}; please renew it in time.", self.worker_name),
            (true, true) => {
                format!("{}'s {condition} lapsed on {due}; renew it before the next home visit.", self.worker_name)
            }
        }
    }
}

pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;

/// Where reminders go. The built-in inbox needs no outside service; an SMS gateway implements
/// this trait and is handed to the job in its place.
pub trait Delivery: Send + Sync {
    fn channel(&self) -> &'static str;
    fn deliver<'a>(&'a self, notification: &'a Notification) -> DeliveryFuture<'a>;
    /// True when writing the reminder is itself the delivery (an inbox): it is written delivered.
    fn delivered_on_write(&self) -> bool {
        false
    }
    /// Sends a text message (a sign-in code) to a phone; channels that cannot say so.
    fn send_text<'a>(&'a self, _phone: &'a jiazheng_core::ids::Mobile, _text: &'a str) -> DeliveryFuture<'a> {
        Box::pin(async { Err("this channel sends no text messages".to_string()) })
    }
}

/// The built-in delivery of a machine without an SMS gateway: every message goes to the server
/// log (the number masked), and the last ones are kept in memory so that a demo or a test can
/// read a code sent to a number.
#[derive(Default)]
pub struct LogDelivery {
    recent: std::sync::Mutex<std::collections::VecDeque<(String, String)>>,
}

/// Messages kept in memory by `LogDelivery`.
const RECENT_TEXTS: usize = 1000;

impl LogDelivery {
    /// The last text sent to `phone`, if it is still kept.
    pub fn last_text_to(&self, phone: &str) -> Option<String> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.iter().rev().find(|(to, _)| to == phone).map(|(_, text)| text.clone())
    }
}

impl Delivery for LogDelivery {
    fn channel(&self) -> &'static str {
        "log"
    }

    fn deliver<'a>(&'a self, notification: &'a Notification) -> DeliveryFuture<'a> {
        Box::pin(async move {
            tracing::info!(recipient = notification.recipient_id, text = %notification.message(false), "reminder");
            Ok(())
        })
    }

    fn send_text<'a>(&'a self, phone: &'a jiazheng_core::ids::Mobile, text: &'a str) -> DeliveryFuture<'a> {
        Box::pin(async move {
            tracing::info!(to = %phone.masked(), %text, "SMS (no gateway configured: written to this log)");
            let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            if recent.len() >= RECENT_TEXTS {
                recent.pop_front();
            }
            recent.push_back((phone.as_str().to_string(), text.to_string()));
            Ok(())
        })
    }
}

/// Delivery to the inbox pages: recording the reminder is the delivery.
pub struct InboxDelivery;

impl Delivery for InboxDelivery {
    fn channel(&self) -> &'static str {
        "inbox"
    }

    fn deliver<'a>(&'a self, _notification: &'a Notification) -> DeliveryFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    fn delivered_on_write(&self) -> bool {
        true
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct JobReport {
    pub as_of: Option<NaiveDate>,
    pub workers: i64,
    pub active_workers: i64,
    pub reminders_new: u64,
    pub delivered: u64,
    pub failed: u64,
    pub elapsed_ms: u128,
}

row! {
    /// The rates the daily job found for one area.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Rates {
        pub area_code: String,
        pub as_of: NaiveDate,
        pub active_workers: i64,
        pub pre_job_trained: i64,
        pub retraining_current: i64,
        pub health_valid: i64,
        pub insured: i64,
        pub certified: i64,
        pub education_related: i64,
        pub compliant: i64,
        pub computed_at: DateTime<Utc>,
    }
}

impl Rates {
    pub fn tally(&self) -> Tally {
        Tally {
            active_workers: self.active_workers,
            pre_job_trained: self.pre_job_trained,
            retraining_current: self.retraining_current,
            health_valid: self.health_valid,
            insured: self.insured,
            certified: self.certified,
            education_related: self.education_related,
            compliant: self.compliant,
        }
    }
}

struct OutboxRow {
    recipient_kind: &'static str,
    recipient_id: i64,
    worker_id: i64,
    condition: Condition,
    event_key: String,
    due_on: NaiveDate,
    overdue: bool,
}

const RATE_COLUMNS: &str =
    "area_code, as_of, active_workers, pre_job_trained, retraining_current, health_valid, insured,
    certified, education_related, compliant, computed_at";

impl Store {
    /// Runs the daily job for `today`. Running it again the same day writes no new reminders.
    pub async fn run_daily_job(
        &self,
        today: NaiveDate,
        delivery: &dyn Delivery,
        progress: &(dyn Fn(i64, i64) + Sync),
    ) -> Result<JobReport> {
        let started = Instant::now();
        let run_id = self.start_job_run("workforce_daily").await?;
        // The readiness spans are exact until a fact changes; this only catches up on workers
        // the server's keeper has not reached (a bulk import, a server that was down).
        self.refresh_all_readiness(today, &|_, _| {}).await?;
        let (max_id,): (Option<i64>,) =
            on_pool!(self, p => sqlx::query_as("SELECT MAX(id) FROM workers").fetch_one(p).await?);
        let max_id = max_id.unwrap_or(0);
        let mut report = JobReport { as_of: Some(today), ..Default::default() };
        let mut tallies: HashMap<String, Tally> = HashMap::new();
        // The next range is read (on another thread) while this one is checked and written.
        let load = |lo: i64| {
            let store = self.clone();
            tokio::spawn(async move { store.load_worker_facts(FactsScope::Range(lo, lo + RANGE - 1)).await })
        };
        let mut lo = 1;
        let mut next = (lo <= max_id).then(|| load(lo));
        while let Some(loading) = next.take() {
            let workers = loading.await.map_err(|_| StoreError::File("the reading task failed".into()))??;
            let hi = lo + RANGE - 1;
            if hi < max_id {
                next = Some(load(hi + 1));
            }
            let mut outbox = Vec::new();
            for worker in workers {
                let requirement = Requirement::for_services(ServiceSet::from_bits(worker.services));
                let result = assess(&worker.facts, &requirement, today);
                report.workers += 1;
                if !worker.agencies.is_empty() {
                    report.active_workers += 1;
                    tallies.entry(worker.district_code.clone()).or_default().add(
                        &result,
                        is_certified(&worker.facts, today),
                        worker.education_related,
                    );
                }
                for reminder in result.reminders() {
                    let recipients =
                        std::iter::once(("worker", worker.id)).chain(worker.agencies.iter().map(|a| ("agency", *a)));
                    for (recipient_kind, recipient_id) in recipients {
                        outbox.push(OutboxRow {
                            recipient_kind,
                            recipient_id,
                            worker_id: worker.id,
                            condition: reminder.condition,
                            event_key: reminder.event_key.clone(),
                            due_on: reminder.due_on,
                            overdue: reminder.overdue,
                        });
                    }
                }
            }
            let written = self.write_outbox(&outbox, delivery).await?;
            report.reminders_new += written;
            if delivery.delivered_on_write() {
                report.delivered += written;
            }
            progress(hi.min(max_id), max_id);
            lo = hi + 1;
        }
        self.write_rates(today, &tallies).await?;
        // The plan's figures for the month, beside the rates just counted.
        let figures = self.plan_figures(&tallies).await?;
        self.write_plan_month(today, &figures).await?;
        let (delivered, failed) = self.deliver_pending(delivery).await?;
        report.delivered += delivered;
        report.failed = failed;
        report.elapsed_ms = started.elapsed().as_millis();
        self.finish_job_run(run_id, &report).await?;
        Ok(report)
    }

    /// Writes reminders; ones already in the outbox are skipped. Returns how many were new.
    async fn write_outbox(&self, rows: &[OutboxRow], delivery: &dyn Delivery) -> Result<u64> {
        let at = now();
        let channel = delivery.channel();
        let delivered_at = delivery.delivered_on_write().then_some(at);
        let mut written = 0;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(500) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO notifications (recipient_kind, recipient_id, worker_id, condition, event_key, due_on,
                        overdue, channel, created_at, delivered_at, attempts) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.recipient_kind).push_bind(r.recipient_id).push_bind(r.worker_id)
                        .push_bind(r.condition.as_str()).push_bind(r.event_key.clone()).push_bind(r.due_on)
                        .push_bind(r.overdue).push_bind(channel.to_string()).push_bind(at).push_bind(delivered_at)
                        .push_bind(i64::from(delivered_at.is_some()));
                });
                qb.push(" ON CONFLICT (recipient_kind, recipient_id, worker_id, event_key) DO NOTHING");
                written += qb.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(written)
    }

    async fn write_rates(&self, today: NaiveDate, by_district: &HashMap<String, Tally>) -> Result<()> {
        let mut city = Tally::default();
        for tally in by_district.values() {
            city.merge(tally);
        }
        let mut rows: Vec<(String, Tally)> = by_district.iter().map(|(k, v)| (k.clone(), *v)).collect();
        // The city's own totals are kept under the loaded city's code.
        rows.push((self.city().await?.code, city));
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query("DELETE FROM workforce_rates WHERE as_of = $1").bind(today).execute(&mut *tx).await?;
            let mut qb = QueryBuilder::new(format!("INSERT INTO workforce_rates ({RATE_COLUMNS}) "));
            qb.push_values(&rows, |mut b, (area, t)| {
                b.push_bind(area.clone()).push_bind(today).push_bind(t.active_workers).push_bind(t.pre_job_trained)
                    .push_bind(t.retraining_current).push_bind(t.health_valid).push_bind(t.insured)
                    .push_bind(t.certified).push_bind(t.education_related).push_bind(t.compliant).push_bind(at);
            });
            qb.build().execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Hands undelivered reminders to `delivery`; failures are retried on later runs, up to a limit.
    pub async fn deliver_pending(&self, delivery: &dyn Delivery) -> Result<(u64, u64)> {
        let (mut delivered, mut failed) = (0, 0);
        let mut after = 0;
        loop {
            let batch: Vec<Notification> = on_pool!(self, p => sqlx::query_as(
                "SELECT n.id, n.recipient_kind, n.recipient_id, n.worker_id, w.name AS worker_name, n.condition,
                        n.event_key, n.due_on, n.overdue, n.channel, n.created_at, n.delivered_at, n.read_at
                 FROM notifications n JOIN workers w ON w.id = n.worker_id
                 WHERE n.delivered_at IS NULL AND n.attempts < $1 AND n.id > $2 ORDER BY n.id LIMIT 1000",
            ).bind(MAX_ATTEMPTS).bind(after).fetch_all(p).await?);
            let Some(last) = batch.last() else { break };
            after = last.id;
            let mut ok = Vec::new();
            let mut errors = Vec::new();
            for notification in &batch {
                match delivery.deliver(notification).await {
                    Ok(()) => ok.push(notification.id),
                    Err(reason) => errors.push((notification.id, reason)),
                }
            }
            let at = now();
            on_pool!(self, p => {
                let mut tx = p.begin().await?;
                for chunk in ok.chunks(500) {
                    let mut qb = QueryBuilder::new("UPDATE notifications SET delivered_at = ");
                    qb.push_bind(at).push(", attempts = attempts + 1 WHERE id IN (");
                    let mut list = qb.separated(", ");
                    for id in chunk {
                        list.push_bind(*id);
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await?;
                }
                for (id, reason) in &errors {
                    tracing::warn!(notification = id, %reason, "reminder delivery failed");
                    sqlx::query("UPDATE notifications SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
                        .bind(reason).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            });
            delivered += ok.len() as u64;
            failed += errors.len() as u64;
        }
        Ok((delivered, failed))
    }

    /// Delivered reminders for a worker or an agency, newest first.
    pub async fn inbox(
        &self,
        recipient_kind: &str,
        recipient_id: i64,
        page: PageRequest,
    ) -> Result<Page<Notification>> {
        let (items, (total,)): (Vec<Notification>, (i64,)) = on_pool!(self, p => (
            sqlx::query_as(
                "SELECT n.id, n.recipient_kind, n.recipient_id, n.worker_id, w.name AS worker_name, n.condition,
                        n.event_key, n.due_on, n.overdue, n.channel, n.created_at, n.delivered_at, n.read_at
                 FROM notifications n JOIN workers w ON w.id = n.worker_id
                 WHERE n.recipient_kind = $1 AND n.recipient_id = $2 AND n.delivered_at IS NOT NULL
                 ORDER BY n.id DESC LIMIT $3 OFFSET $4",
            ).bind(recipient_kind).bind(recipient_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?,
            sqlx::query_as(
                "SELECT COUNT(*) FROM notifications WHERE recipient_kind = $1 AND recipient_id = $2
                 AND delivered_at IS NOT NULL",
            ).bind(recipient_kind).bind(recipient_id).fetch_one(p).await?,
        ));
        Ok(page.wrap(items, total))
    }

    /// Marks a recipient's reminder read; another recipient's reminder is not found.
    pub async fn mark_read(&self, recipient_kind: &str, recipient_id: i64, id: i64) -> Result<()> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE id = $2 AND recipient_kind = $3 AND recipient_id = $4",
        ).bind(now()).bind(id).bind(recipient_kind).bind(recipient_id).execute(p).await?.rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// The latest rates for the city and each district, city first.
    pub async fn latest_rates(&self) -> Result<Vec<Rates>> {
        let sql = format!(
            "SELECT {RATE_COLUMNS} FROM workforce_rates
             WHERE as_of = (SELECT MAX(as_of) FROM workforce_rates) ORDER BY area_code = $1 DESC, area_code"
        );
        let city = self.city().await?.code;
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(city).fetch_all(p).await?))
    }

    async fn start_job_run(&self, job: &str) -> Result<i64> {
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO job_runs (job, started_at) VALUES ($1, $2) RETURNING id",
        ).bind(job).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    async fn finish_job_run(&self, id: i64, report: &JobReport) -> Result<()> {
        let summary = serde_json::to_string(report).unwrap_or_default();
        on_pool!(self, p => sqlx::query("UPDATE job_runs SET finished_at = $1, summary = $2 WHERE id = $3")
            .bind(now()).bind(summary).bind(id).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// When the named job last finished.
    pub async fn last_job_run(&self, job: &str) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(Option<DateTime<Utc>>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT MAX(finished_at) FROM job_runs WHERE job = $1",
        ).bind(job).fetch_optional(p).await?);
        Ok(row.and_then(|(at,)| at))
    }
}

/// How long to wait before the next daily run at 02:00 Beijing time.
pub fn until_next_run(now: DateTime<Utc>) -> Duration {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    let local = now.with_timezone(&beijing);
    let today_run = local.date_naive().and_hms_opt(2, 0, 0).expect("valid time");
    let next = if local.naive_local() < today_run { today_run } else { today_run + chrono::Duration::days(1) };
    (next - local.naive_local()).to_std().unwrap_or(Duration::from_secs(60))
}
