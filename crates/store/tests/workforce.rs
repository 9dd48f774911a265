//! Workforce records, the compliance board, bulk entry and the daily job on a real database.

use chrono::NaiveDate;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::{WorkerDraft, WorkerForm};
use jiazheng_core::workforce::compliance::{Condition, Requirement, Standing, assess};
use jiazheng_core::workforce::records::{HealthCheckForm, TrainingForm};
use jiazheng_store::Store;
use jiazheng_store::StoreError;
use jiazheng_store::excel::ImportMode;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::TestDb;
use jiazheng_store::workforce::Recorder;
use jiazheng_store::workforce::board::{BoardFilter, BoardQuery};
use jiazheng_store::workforce::import::RecordKind;
use jiazheng_store::workforce::jobs::InboxDelivery;
use rust_xlsxwriter::Workbook;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn id_number(seq: u16) -> String {
    ResidentId::compose(
        "220102",
        NaiveDate::from_ymd_opt(1985, 1, 1).unwrap() + chrono::Duration::days(i64::from(seq)),
        seq,
    )
}

fn worker(seq: u16, name: &str, services: &str, related: bool) -> WorkerDraft {
    WorkerForm {
        id_number: id_number(seq),
        name: name.into(),
        phone: format!("138{seq:08}"),
        education_level: "college".into(),
        education_related: if related { "是" } else { "否" }.into(),
        home_street: "220102001".into(),
        services: vec![services.into()],
        ..Default::default()
    }
    .parse(today())
    .unwrap()
}

use jiazheng_store::testing::agency;

/// Workers actively bound to the agency (both sides confirmed).
async fn hire(store: &Store, agency_id: i64, drafts: &[WorkerDraft]) -> Vec<i64> {
    let binding = Some(NewBinding { agency_id, kind: BindingKind::Employee, active: true });
    let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
    store.insert_workers(&rows).await.unwrap()
}

fn training(kind: &str, completed: &str) -> TrainingForm {
    TrainingForm {
        course_kind: kind.into(),
        course_name: "家政服务员岗前培训".into(),
        provider_name: "长春职业技术学院".into(),
        hours: "40".into(),
        started_on: "2025-03-01".into(),
        completed_on: completed.into(),
        exam_result: "合格".into(),
        ..Default::default()
    }
}

fn health(on: &str, category: &str, result: &str) -> HealthCheckForm {
    HealthCheckForm {
        checked_on: on.into(),
        institution: "长春市南关区疾控中心".into(),
        category: category.into(),
        result: result.into(),
        notes: "乙肝表面抗原阴性".into(),
    }
}

/// Gives a worker everything cleaning work needs, with the health check dated `checked_on`.
async fn qualify(store: &Store, agency_id: i64, worker_id: i64, checked_on: &str) {
    let checked_on = NaiveDate::parse_from_str(checked_on, "%Y-%m-%d").unwrap();
    jiazheng_store::testing::give_cleaning_records(store, agency_id, worker_id, checked_on, today()).await.unwrap();
}

#[tokio::test]
async fn stored_facts_drive_the_rules_and_the_health_result_is_sealed() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0001").await;
    let ids = hire(store, agency_id, &[worker(1, "王芳", "cleaning", false)]).await;
    let cleaning = Requirement::for_services(store.worker(ids[0]).await.unwrap().services.pipe());
    let before = assess(&store.worker_facts(ids[0]).await.unwrap(), &cleaning, today());
    let unmet: Vec<Condition> = before.unmet().map(|c| c.condition).collect();
    assert_eq!(unmet, [Condition::PreJobTraining, Condition::Retraining, Condition::HealthCheck, Condition::Insurance]);

    qualify(store, agency_id, ids[0], "2026-06-01").await;
    let after = assess(&store.worker_facts(ids[0]).await.unwrap(), &cleaning, today());
    assert!(after.compliant, "{after:?}");

    // The result is readable through the store, and nowhere in the table in clear.
    let record = store.workforce_record(ids[0], true).await.unwrap();
    let result = record.health_checks[0].result.clone().unwrap();
    assert!(result.passed);
    assert_eq!(result.notes.as_deref(), Some("乙肝表面抗原阴性"));
    assert!(store.workforce_record(ids[0], false).await.unwrap().health_checks[0].result.is_none());
    let raw: Vec<u8> = match store.pool() {
        jiazheng_store::Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT result_cipher FROM health_checks").fetch_one(p).await.unwrap()
        }
        jiazheng_store::Pool::Postgres(p) => {
            sqlx::query_scalar("SELECT result_cipher FROM health_checks").fetch_one(p).await.unwrap()
        }
    };
    assert!(!String::from_utf8_lossy(&raw).contains("pass"));
    assert_eq!(record.health_checks[0].expires_on, NaiveDate::from_ymd_opt(2027, 6, 1).unwrap());
}

trait Pipe {
    fn pipe(self) -> jiazheng_core::registry::ServiceSet;
}

impl Pipe for i64 {
    fn pipe(self) -> jiazheng_core::registry::ServiceSet {
        jiazheng_core::registry::ServiceSet::from_bits(self)
    }
}

#[tokio::test]
async fn a_batch_with_one_impossible_row_writes_nothing() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0002").await;
    let ids = hire(store, agency_id, &[worker(2, "李静", "cleaning", false)]).await;
    let good = training("pre_job", "2025-03-10").parse(today()).unwrap();
    let mut reversed = good.clone();
    reversed.completed_on = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let by = Recorder::agency(agency_id, None);
    let refused = store.add_trainings(&[(ids[0], &good, by), (ids[0], &reversed, by)]).await;
    assert!(matches!(refused, Err(StoreError::Database(_))), "the database's own check refuses it: {refused:?}");
    assert!(store.workforce_record(ids[0], false).await.unwrap().trainings.is_empty());
}

#[tokio::test]
async fn two_agencies_disagreeing_are_both_kept_with_their_source() {
    let db = TestDb::new().await;
    let store = &db.store;
    let first = agency(store, "MA0W0003").await;
    let second = agency(store, "MA0W0004").await;
    let ids = hire(store, first, &[worker(3, "赵敏", "maternity", false)]).await;
    store
        .request_binding(ids[0], second, BindingKind::Intermediary, jiazheng_core::registry::binding::Side::Agency)
        .await
        .unwrap();
    let pass = health("2026-10-01", "maternity", "合格").parse(today()).unwrap();
    let fail = health("2026-10-01", "maternity", "不合格").parse(today()).unwrap();
    let (pass_rows, fail_rows) =
        ([(ids[0], &pass, Recorder::agency(first, None))], [(ids[0], &fail, Recorder::agency(second, None))]);
    let (a, b) = tokio::join!(store.add_health_checks(&pass_rows), store.add_health_checks(&fail_rows),);
    a.unwrap();
    b.unwrap();
    let record = store.workforce_record(ids[0], true).await.unwrap();
    let mut sources: Vec<(Option<i64>, bool)> =
        record.health_checks.iter().map(|h| (h.source_id, h.result.as_ref().unwrap().passed)).collect();
    sources.sort();
    assert_eq!(sources, [(Some(first), true), (Some(second), false)]);
    // The cautious reading wins until the dispute is settled.
    let facts = store.worker_facts(ids[0]).await.unwrap();
    let result = assess(&facts, &Requirement::for_service(jiazheng_core::registry::ServiceKind::Maternity), today());
    assert_eq!(result.check(Condition::HealthCheck).standing, Standing::Failed);
}

#[tokio::test]
async fn the_board_filters_expiring_health_checks_and_exports_them() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0005").await;
    let ids = hire(
        store,
        agency_id,
        &[
            worker(4, "张丽", "cleaning", false),
            worker(5, "刘洋", "cleaning", false),
            worker(6, "陈红", "cleaning", false),
        ],
    )
    .await;
    qualify(store, agency_id, ids[0], "2026-06-01").await; // valid
    qualify(store, agency_id, ids[1], "2025-12-15").await; // expires 2026-12-15: within 30 days
    qualify(store, agency_id, ids[2], "2025-11-01").await; // lapsed 2026-11-01
    let query =
        BoardQuery { condition: Some(Condition::HealthCheck), filter: BoardFilter::Expiring, ..Default::default() };
    let page = store.compliance_board(agency_id, &query, today()).await.unwrap();
    let names: Vec<&str> = page.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!((names, page.total), (vec!["刘洋"], 1));
    let unmet = BoardQuery { filter: BoardFilter::Unmet, ..Default::default() };
    let page = store.compliance_board(agency_id, &unmet, today()).await.unwrap();
    assert_eq!(page.items.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["陈红"]);
    let all = store.compliance_board(agency_id, &BoardQuery::default(), today()).await.unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(all.items[0].name, "陈红", "most problems first");

    let board = store.compliance_board_rows(agency_id, &query, today()).await.unwrap();
    let bytes = board.to_xlsx(false).unwrap();
    let rows = jiazheng_store::excel::read_sheet(bytes, &[("name", "姓名", "Name")], |_| true).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1["name"], "刘洋");
}

fn record_sheet(kind: RecordKind, rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (col, (_, zh, _)) in kind.columns().iter().enumerate() {
        ws.write_string(0, col as u16, *zh).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *value).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_health_sheet_with_bad_rows_writes_nothing_and_names_each_problem() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0006").await;
    let other = agency(store, "MA0W0007").await;
    hire(store, agency_id, &[worker(7, "孙梅", "cleaning", false)]).await;
    hire(store, other, &[worker(8, "周洁", "cleaning", false)]).await;
    let ours = id_number(7);
    let theirs = id_number(8);
    let unknown = id_number(9);
    let bad = record_sheet(
        RecordKind::HealthChecks,
        &[
            vec![&ours, "2026-10-01", "南关区疾控中心", "居家服务类", "合格", ""],
            vec![&ours, "2026-12-30", "南关区疾控中心", "居家服务类", "合格", ""],
            vec![&unknown, "2026-10-01", "南关区疾控中心", "居家服务类", "合格", ""],
            vec![&theirs, "2026-10-01", "南关区疾控中心", "居家服务类", "合格", ""],
        ],
    );
    let report = store
        .import_records(RecordKind::HealthChecks, bad, agency_id, None, ImportMode::AllOrNothing, today(), &|_, _| {})
        .await
        .unwrap();
    let problems: Vec<(usize, &str)> = report.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(problems, [(3, "checked_on"), (4, "id_number"), (5, "id_number")]);
    // Unregistered and someone else's worker get the same answer: the import is no register look-up.
    assert!(report.errors[1].message_en.contains("no worker employed by your agency"));
    assert_eq!(report.errors[1].message_en, report.errors[2].message_en);
    assert_eq!(report.imported, 0);
    let worker_id = store.worker_id_by_id_number(&ours).await.unwrap().unwrap();
    assert!(store.workforce_record(worker_id, false).await.unwrap().health_checks.is_empty());

    let skipped = record_sheet(
        RecordKind::HealthChecks,
        &[
            vec![&ours, "2026-10-01", "南关区疾控中心", "居家服务类", "合格", ""],
            vec![&unknown, "2026-10-01", "x", "general", "pass", ""],
        ],
    );
    let report = store
        .import_records(
            RecordKind::HealthChecks,
            skipped,
            agency_id,
            None,
            ImportMode::SkipInvalid,
            today(),
            &|_, _| {},
        )
        .await
        .unwrap();
    assert_eq!((report.imported, report.errors.len()), (1, 1));
    assert_eq!(store.workforce_record(worker_id, false).await.unwrap().health_checks.len(), 1);
}

#[tokio::test]
async fn every_record_kind_imports_from_its_template_columns() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0008").await;
    let ids = hire(store, agency_id, &[worker(10, "吴霞", "maternity", true)]).await;
    let n = id_number(10);
    let sheets = [
        (
            RecordKind::Training,
            vec![
                &n as &str,
                "岗前培训",
                "母婴护理",
                "长春职院",
                "线下",
                "80",
                "2026-01-05",
                "2026-02-05",
                "合格",
                "88",
            ],
        ),
        (
            RecordKind::Certificates,
            vec![&n, "家政服务员职业技能等级证书", "母婴护理员", "四级/中级", "长春市人社局", "C-1", "2026-02-20", ""],
        ),
        (RecordKind::HealthChecks, vec![&n, "2026-09-01", "朝阳区疾控", "母婴照护类", "合格", ""]),
        (RecordKind::Insurance, vec![&n, "意外伤害险", "人保", "PX-1", "2026-01-01", "2026-12-31", "300000.00"]),
    ];
    for (kind, row) in sheets {
        RecordKind::parse(kind.code()).unwrap().template().unwrap();
        let report = store
            .import_records(
                kind,
                record_sheet(kind, &[row]),
                agency_id,
                None,
                ImportMode::AllOrNothing,
                today(),
                &|_, _| {},
            )
            .await
            .unwrap();
        assert_eq!((report.imported, report.errors.len()), (1, 0), "{kind:?}: {:?}", report.errors);
    }
    let facts = store.worker_facts(ids[0]).await.unwrap();
    let result = assess(&facts, &Requirement::for_service(jiazheng_core::registry::ServiceKind::Maternity), today());
    assert!(result.compliant, "{result:?}");
}

#[tokio::test]
async fn the_daily_job_reminds_once_per_event_and_tallies_rates() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0009").await;
    let ids =
        hire(store, agency_id, &[worker(11, "郑云", "cleaning", true), worker(12, "钱芳", "cleaning", false)]).await;
    qualify(store, agency_id, ids[0], "2026-06-01").await; // all current
    qualify(store, agency_id, ids[1], "2025-12-15").await; // health check due 2026-12-15
    let first = store.run_daily_job(today(), &InboxDelivery, &|_, _| {}).await.unwrap();
    assert_eq!((first.workers, first.active_workers), (2, 2));
    assert_eq!(first.reminders_new, 2, "one to the worker, one to the agency");
    assert_eq!(first.delivered, 2);
    let again = store.run_daily_job(today(), &InboxDelivery, &|_, _| {}).await.unwrap();
    assert_eq!((again.reminders_new, again.delivered), (0, 0));

    let inbox = store.inbox("agency", agency_id, Default::default()).await.unwrap();
    assert_eq!(inbox.total, 1);
    assert_eq!(inbox.items[0].event_key, "health_check:2026-12-15:due");
    assert!(inbox.items[0].message(false).contains("钱芳"));
    let worker_inbox = store.inbox("worker", ids[1], Default::default()).await.unwrap();
    assert_eq!(worker_inbox.total, 1);
    store.mark_read("worker", ids[1], worker_inbox.items[0].id).await.unwrap();
    assert!(matches!(store.mark_read("worker", ids[0], worker_inbox.items[0].id).await, Err(StoreError::NotFound)));

    // Once lapsed it is a new event: one more reminder each.
    let later = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    assert_eq!(store.run_daily_job(later, &InboxDelivery, &|_, _| {}).await.unwrap().reminders_new, 2);

    let rates = store.latest_rates().await.unwrap();
    let city = &rates[0];
    assert_eq!((city.area_code.as_str(), store.city().await.unwrap().name.as_str()), ("220100000000", "长春市"));
    assert_eq!((city.active_workers, city.education_related, city.health_valid, city.pre_job_trained), (2, 1, 1, 2));
    assert_eq!(rates.iter().find(|r| r.area_code == "220102000000").map(|r| r.active_workers), Some(2));
}

/// A gateway that refuses its first `failures` messages, as an SMS service that is down would.
struct FlakyGateway {
    failures: std::sync::atomic::AtomicUsize,
    sent: std::sync::Mutex<Vec<String>>,
}

impl jiazheng_store::workforce::jobs::Delivery for FlakyGateway {
    fn channel(&self) -> &'static str {
        "sms"
    }

    fn deliver<'a>(
        &'a self,
        notification: &'a jiazheng_store::workforce::jobs::Notification,
    ) -> jiazheng_store::workforce::jobs::DeliveryFuture<'a> {
        Box::pin(async move {
            let left = self.failures.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, std::sync::atomic::Ordering::SeqCst);
                return Err("gateway unavailable".to_string());
            }
            self.sent.lock().unwrap().push(notification.message(false));
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_on_the_next_run_and_sent_once() {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0W0010").await;
    let ids = hire(store, agency_id, &[worker(13, "冯霞", "cleaning", false)]).await;
    qualify(store, agency_id, ids[0], "2025-12-15").await;
    let gateway = FlakyGateway { failures: 1.into(), sent: Default::default() };
    let first = store.run_daily_job(today(), &gateway, &|_, _| {}).await.unwrap();
    assert_eq!((first.reminders_new, first.delivered, first.failed), (2, 1, 1));
    assert_eq!(
        store.inbox("worker", ids[0], Default::default()).await.unwrap().total
            + store.inbox("agency", agency_id, Default::default()).await.unwrap().total,
        1
    );
    let second = store.run_daily_job(today(), &gateway, &|_, _| {}).await.unwrap();
    assert_eq!((second.reminders_new, second.delivered, second.failed), (0, 1, 0));
    let sent = gateway.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "each recipient once: {sent:?}");
    assert!(sent.iter().all(|m| m.contains("冯霞") && m.contains("2026-12-15")));
    let third = store.run_daily_job(today(), &gateway, &|_, _| {}).await.unwrap();
    assert_eq!((third.reminders_new, third.delivered), (0, 0));
}
