//! Fresh databases for tests. `JIAZHENG_TEST_DATABASE` picks the engine: unset or `sqlite`
//! for a temporary SQLite file, or a PostgreSQL server URL, on which each test gets a new
//! database of its own. The whole suite runs once per engine.

use std::path::PathBuf;

use crate::crypto::random_bytes;
use crate::{Crypto, Result, Store};

/// A store on a new, migrated database with the Changchun divisions and plan tasks loaded.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    dir: Option<PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The URL of a new empty database on the engine under test.
pub async fn fresh_database_url() -> Result<(String, Option<PathBuf>)> {
    let name = format!("jz_test_{}", hex::encode(random_bytes::<6>()));
    match std::env::var("JIAZHENG_TEST_DATABASE").ok().filter(|v| !v.is_empty() && v != "sqlite") {
        Some(server) => {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&server).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
            admin.close().await?;
            let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base).to_string();
            Ok((format!("{base}/{name}"), None))
        }
        None => {
            let dir = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&dir).map_err(|e| crate::StoreError::File(e.to_string()))?;
            Ok((Store::sqlite_url(&dir), Some(dir)))
        }
    }
}

impl TestDb {
    pub async fn new() -> Self {
        let (url, dir) = fresh_database_url().await.expect("a test database");
        let store = Store::open(&url, Crypto::ephemeral()).await.expect("open the test database");
        store.ensure_default_divisions().await.expect("load divisions");
        store.ensure_default_plan().await.expect("load the plan's tasks");
        Self { store, url, dir }
    }
}

/// An employee-based agency in 南关区 whose code is composed from `body` (8 characters).
pub async fn agency(store: &Store, body: &str) -> i64 {
    let form = jiazheng_core::registry::agency::AgencyForm {
        uscc: jiazheng_core::ids::Uscc::compose("220102", body),
        name: format!("长春市{body}家政服务有限公司"),
        brand_name: String::new(),
        legal_representative: "李明".into(),
        address: "人民大街1号".into(),
        street_code: "220102001".into(),
        phone: "043188886666".into(),
        business_model: "employee".into(),
    };
    store.create_agency(&form.parse().expect("a valid agency")).await.expect("agency created")
}

/// 日常保洁 by the hour: ¥45, at least 2 hours, free cancellation until 24 hours before, 20% after.
pub fn hourly_cleaning() -> jiazheng_core::market::menu::MenuDraft {
    jiazheng_core::market::menu::MenuForm {
        item: "日常保洁".into(),
        mode: "per_hour".into(),
        price: "45".into(),
        amount: "2".into(),
        free_cancel_hours: "24".into(),
        cancel_fee_percent: "20".into(),
        ..Default::default()
    }
    .parse()
    .expect("a valid menu item")
}

/// Gives a worker of `agency_id` what cleaning work needs: pre-job training passed 30 days
/// ago, an in-home health check on `checked_on`, and an accident policy running a year from
/// 60 days ago. Tests move `checked_on` to make the check valid, expiring or lapsed.
pub async fn give_cleaning_records(
    store: &Store,
    agency_id: i64,
    worker_id: i64,
    checked_on: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> Result<()> {
    use jiazheng_core::workforce::records::{HealthCheckDraft, InsuranceDraft, TrainingDraft};
    use jiazheng_core::workforce::{CourseKind, CourseMode, HealthCategory, InsuranceKind};

    use crate::workforce::Recorder;

    let by = Recorder::agency(agency_id, None);
    let day = |n: i64| today - chrono::Duration::days(n);
    let training = TrainingDraft {
        course_kind: CourseKind::PreJob,
        course_name: "家政服务员岗前培训".into(),
        provider_name: "长春市春城家政职业培训学校".into(),
        mode: CourseMode::InPerson,
        hours: 40,
        started_on: day(40),
        completed_on: day(30),
        exam_passed: Some(true),
        exam_score: Some(85),
    };
    let check = HealthCheckDraft {
        checked_on,
        institution: "长春市南关区疾控中心".into(),
        category: HealthCategory::InHome,
        passed: true,
        notes: Some("乙肝表面抗原阴性".into()),
    };
    let policy = InsuranceDraft {
        kind: InsuranceKind::Accident,
        insurer: "中国人寿长春分公司".into(),
        policy_number: format!("P{worker_id}"),
        starts_on: day(60),
        ends_on: day(60) + chrono::Duration::days(365),
        sum_insured_fen: 50_000_000,
    };
    store.add_trainings(&[(worker_id, &training, by)]).await?;
    store.add_health_checks(&[(worker_id, &check, by)]).await?;
    store.add_policies(&[(Some(worker_id), agency_id, &policy, by)]).await?;
    Ok(())
}

/// Moves an order (and the worker's time it holds) so that it began up to three hours ago, but
/// today in Beijing (so "today's orders" hold it just after midnight too), as if the days until
/// it had passed: tests of steps that wait for the service to begin.
pub async fn let_order_begin(store: &Store, order_id: i64) -> Result<()> {
    let order = store.order(order_id).await?;
    let now = chrono::Utc::now();
    let minute = chrono::DateTime::from_timestamp(now.timestamp() - now.timestamp() % 60, 0).unwrap_or(now);
    let midnight = jiazheng_core::market::slot::day_start(jiazheng_core::calendar::beijing_date(now));
    let start = (minute - chrono::Duration::hours(3)).max(midnight);
    let end = start + (order.ends_at - order.starts_at);
    crate::on_pool!(store, p => {
        sqlx::query("UPDATE orders SET starts_at = $1, ends_at = $2 WHERE id = $3")
            .bind(start).bind(end).bind(order_id).execute(p).await?;
        sqlx::query("UPDATE worker_bookings SET starts_at = $1, ends_at = $2 WHERE order_id = $3")
            .bind(start).bind(end).bind(order_id).execute(p).await?;
    });
    Ok(())
}

/// Moves every one-time code sent in the last minute back by a minute (but not before today's
/// Beijing midnight, so they still count in the day): tests of daily limits need not wait
/// a minute between codes.
pub async fn age_codes(store: &Store) -> Result<()> {
    let now = chrono::Utc::now();
    let midnight = jiazheng_core::market::slot::day_start(jiazheng_core::calendar::beijing_date(now));
    let earlier = (now - chrono::Duration::seconds(61)).max(midnight);
    crate::on_pool!(store, p => {
        sqlx::query("UPDATE sms_codes SET sent_at = $1 WHERE sent_at > $1").bind(earlier).execute(p).await?;
    });
    Ok(())
}

/// Runs a statement as it is, for tests that plant a fault no API would write.
pub async fn run_sql(store: &Store, sql: &str) -> Result<u64> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    Ok(crate::on_pool!(store, p => sqlx::query(sql).execute(p).await?.rows_affected()))
}
