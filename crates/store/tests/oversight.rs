//! The plan's targets on a real database (SQLite, or PostgreSQL with JIAZHENG_TEST_DATABASE):
//! target 1 from the running counts the triggers keep, which must equal a recount after any mix
//! of writes; brand recognition with its audit; the monthly series that a past month never
//! overwrites.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::ids::{ResidentId, Uscc};
use jiazheng_core::oversight::targets::{Figure, Metric, target_one};
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_core::registry::binding::{BindingAction, BindingKind, Side};
use jiazheng_core::registry::worker::{WorkerDraft, WorkerForm};
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::oversight::audit::AuditQuery;
use jiazheng_store::oversight::targets::{AgencyStanding, BrandDraft};
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::TestDb;
use jiazheng_store::{PageRequest, Store, StoreError};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn agency(store: &Store, body: &str, model: &str, street: &str) -> i64 {
    let form = AgencyForm {
        uscc: Uscc::compose(&street[..6], body),
        name: format!("长春市{body}家政服务有限公司"),
        brand_name: String::new(),
        legal_representative: "李明".into(),
        address: "人民大街1号".into(),
        street_code: street.into(),
        phone: "043188886666".into(),
        business_model: model.into(),
    };
    store.create_agency(&form.parse().unwrap()).await.unwrap()
}

const NAMES: &[&str] = &["秀英", "桂兰", "玉兰", "淑华", "丽娟", "春梅", "海燕"];

fn worker(seq: u32) -> WorkerDraft {
    let birth = day(1975, 1, 1) + chrono::Duration::days(i64::from(seq));
    WorkerForm {
        id_number: ResidentId::compose("220102", birth, (seq % 900) as u16 + 10),
        name: format!("王{}", NAMES[seq as usize % NAMES.len()]),
        phone: format!("139{seq:08}"),
        ethnicity: String::new(),
        education_level: "senior".into(),
        education_major: String::new(),
        education_related: "否".into(),
        home_street: "220102001".into(),
        services: vec!["cleaning".into()],
    }
    .parse(day(2026, 11, 28))
    .unwrap()
}

/// Registers `employees` employee-based and `others` intermediary workers with active bindings,
/// the way an import does.
async fn staff(store: &Store, agency_id: i64, first_seq: u32, employees: u32, others: u32) {
    let drafts: Vec<WorkerDraft> = (0..employees + others).map(|i| worker(first_seq + i)).collect();
    let rows: Vec<NewWorker> = drafts
        .iter()
        .enumerate()
        .map(|(i, draft)| NewWorker {
            draft,
            binding: Some(NewBinding {
                agency_id,
                kind: if (i as u32) < employees { BindingKind::Employee } else { BindingKind::Intermediary },
                active: true,
            }),
        })
        .collect();
    store.insert_workers(&rows).await.unwrap();
}

async fn regulator(store: &Store) -> i64 {
    let scope = Scope::City;
    let new = NewAccount::scoped("city-reg".into(), "市商务局".into(), "password-123".into(), Role::Regulator, &scope);
    store.create_account(&new).await.unwrap()
}

fn brand(agency_id: i64, name: &str) -> BrandDraft {
    BrandDraft {
        agency_id,
        brand_name: name.into(),
        document: "长商务字〔2026〕1号".into(),
        recognised_on: day(2026, 6, 1),
    }
}

fn counts(rows: &[AgencyStanding]) -> Vec<(i64, i64, i64)> {
    rows.iter().map(|r| (r.agency_id, r.active, r.active_employee)).collect()
}

/// Exactly three recognised brands are more than half employee-based; a fourth sits at exactly
/// half and does not pass; an employee-based agency without a recognised brand does not count.
#[tokio::test]
async fn target_one_counts_three_and_not_the_one_at_half() {
    let db = TestDb::new().await;
    let s = &db.store;
    let reg = regulator(s).await;
    let streets = ["220102001", "220102001", "220104001", "220104001", "220102001"];
    let mut ids = Vec::new();
    for (i, street) in streets.iter().enumerate() {
        ids.push(agency(s, &format!("MA0T000{i}"), "employee", street).await);
    }
    staff(s, ids[0], 100, 3, 1).await; // 75%
    staff(s, ids[1], 200, 2, 0).await; // 100%
    staff(s, ids[2], 300, 2, 1).await; // 66.7%
    staff(s, ids[3], 400, 2, 2).await; // exactly 50%
    staff(s, ids[4], 500, 5, 0).await; // 100%, no recognised brand
    for (i, id) in ids.iter().take(4).enumerate() {
        s.recognise_brand(&brand(*id, &format!("品牌{i}")), reg).await.unwrap();
    }
    let standings = s.agency_standings(None).await.unwrap();
    let shares: Vec<_> = standings.iter().map(AgencyStanding::share).collect();
    let figure = target_one(&shares);
    assert_eq!((figure.numerator, figure.denominator), (3, 4));
    assert_eq!(figure.met(), Some(true));
    let at_half = shares.iter().find(|a| a.agency_id == ids[3]).unwrap();
    assert_eq!((at_half.active, at_half.active_employee), (4, 2));
    assert!(!at_half.passes());
    // 朝阳区 alone holds one passing brand and the one at half.
    let district = s.agency_standings(Some("220104000000")).await.unwrap();
    let figure = target_one(&district.iter().map(AgencyStanding::share).collect::<Vec<_>>());
    assert_eq!((figure.numerator, figure.denominator), (1, 2));

    // A second live recognition of one agency is refused; withdrawing one drops the count to 2.
    let again = s.recognise_brand(&brand(ids[0], "又一个"), reg).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "brand_recognised", .. })), "{again:?}");
    s.withdraw_brand(ids[1], "品牌停用", reg).await.unwrap();
    let shares: Vec<_> = s.agency_standings(None).await.unwrap().iter().map(AgencyStanding::share).collect();
    assert_eq!(target_one(&shares).numerator, 2);
    assert!(matches!(s.withdraw_brand(ids[1], "again", reg).await, Err(StoreError::NotFound)));

    // Each write left its audit row, with the value before and after.
    let audit = s.audit(&AuditQuery::default(), PageRequest::default()).await.unwrap();
    assert_eq!(audit.total, 5, "four recognitions and one withdrawal; the refused ones left nothing");
    let withdrawal = &audit.items[0];
    assert_eq!(withdrawal.action, "brand.withdraw");
    assert_eq!(withdrawal.actor_account_id, reg);
    assert!(withdrawal.subject_label.contains("MA0T0001"));
    assert!(withdrawal.value_before.as_deref().unwrap().contains("品牌1"));
    assert!(withdrawal.value_after.as_deref().unwrap().contains("品牌停用"));
    let only = AuditQuery { action: Some("brand.recognise".into()), ..Default::default() };
    assert_eq!(s.audit(&only, PageRequest::default()).await.unwrap().total, 4);
    let named = AuditQuery { subject: Some("MA0T0003".into()), ..Default::default() };
    assert_eq!(s.audit(&named, PageRequest::default()).await.unwrap().total, 1);
}

/// A small deterministic generator, so that a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Requests, confirmations, rejections, cancellations and ends in random order: the running
/// counts equal a recount after every batch.
#[tokio::test]
async fn running_counts_equal_a_recount_after_random_writes() {
    let db = TestDb::new().await;
    let s = &db.store;
    let agencies =
        [agency(s, "MA0R0001", "employee", "220102001").await, agency(s, "MA0R0002", "mixed", "220104001").await];
    staff(s, agencies[0], 1000, 3, 2).await;
    let mut workers = Vec::new();
    for i in 0..12 {
        workers.push(s.create_worker(&worker(2000 + i), None).await.unwrap());
    }
    let mut rng = Lcg(14);
    let actions = [
        BindingAction::Confirm,
        BindingAction::Reject,
        BindingAction::Cancel,
        BindingAction::RequestEnd,
        BindingAction::ConfirmEnd,
    ];
    for round in 0..8 {
        for _ in 0..25 {
            let w = workers[rng.below(workers.len())];
            let a = agencies[rng.below(2)];
            match s.open_binding(w, a).await.unwrap() {
                None => {
                    let kind = if rng.below(2) == 0 { BindingKind::Employee } else { BindingKind::Intermediary };
                    let side = if rng.below(2) == 0 { Side::Agency } else { Side::Worker };
                    s.request_binding(w, a, kind, side).await.unwrap();
                }
                Some(b) => {
                    let action = actions[rng.below(actions.len())];
                    let side = if rng.below(2) == 0 { Side::Agency } else { Side::Worker };
                    // Refused steps (the wrong side, the wrong state) change nothing.
                    let _ = s.act_on_binding(b.id, action, side).await;
                }
            }
        }
        let kept = s.agency_standings(None).await.unwrap();
        let recount = s.agency_standings_recount(None).await.unwrap();
        assert_eq!(counts(&kept), counts(&recount), "round {round}");
    }
    let total: i64 = s.agency_standings(None).await.unwrap().iter().map(|r| r.active).sum();
    assert!(total > 5, "the walk made some bindings active: {total}");
}

/// The month's row follows the latest day; an older day does not overwrite it; an ended month
/// stays as it was.
#[tokio::test]
async fn a_month_keeps_its_latest_day_and_past_months_stay() {
    let db = TestDb::new().await;
    let s = &db.store;
    let city = s.city().await.unwrap().code;
    let write = |n: i64, on: NaiveDate| {
        let figures: BTreeMap<String, Vec<Figure>> =
            BTreeMap::from([(city.clone(), vec![Figure::new(Metric::CommunityCoverage, n, 100)])]);
        async move { s.write_plan_month(on, &figures).await.unwrap() }
    };
    write(40, day(2026, 10, 31)).await;
    write(50, day(2026, 11, 10)).await;
    write(55, day(2026, 11, 20)).await;
    write(45, day(2026, 11, 15)).await; // a replayed older run
    let series = s.plan_series(&city).await.unwrap();
    let got: Vec<(String, i64, NaiveDate)> = series.iter().map(|r| (r.month.clone(), r.numerator, r.as_of)).collect();
    assert_eq!(
        got,
        vec![("2026-10".to_string(), 40, day(2026, 10, 31)), ("2026-11".to_string(), 55, day(2026, 11, 20))]
    );
    assert_eq!(series[1].figure().unwrap().met(), Some(false));
}

/// The daily job writes every figure for the city and each district, and its target 1 equals
/// the one counted here.
#[tokio::test]
async fn the_daily_job_writes_the_month() {
    let db = TestDb::new().await;
    let s = &db.store;
    let reg = regulator(s).await;
    let a = agency(s, "MA0D0001", "employee", "220102001").await;
    staff(s, a, 3000, 3, 1).await;
    s.recognise_brand(&brand(a, "春城"), reg).await.unwrap();
    let today = day(2026, 12, 3);
    let delivery = jiazheng_store::workforce::jobs::InboxDelivery;
    s.run_daily_job(today, &delivery, &|_, _| {}).await.unwrap();
    let city = s.city().await.unwrap().code;
    let rows = s.plan_series(&city).await.unwrap();
    let by: HashMap<&str, (i64, i64)> =
        rows.iter().map(|r| (r.metric.as_str(), (r.numerator, r.denominator))).collect();
    assert_eq!(by["branded_employee_agencies"], (1, 1));
    assert_eq!(by["employee_share"], (3, 4));
    assert_eq!(by["community_coverage"].0, 0);
    assert_eq!(by["related_education"], (0, 4));
    assert_eq!(rows.len(), Metric::ALL.len());
    assert!(rows.iter().all(|r| r.month == "2026-12" && r.as_of == today));
    let district = s.plan_series("220102000000").await.unwrap();
    assert_eq!(district.iter().find(|r| r.metric == "branded_employee_agencies").unwrap().numerator, 1);
    assert_eq!(
        s.plan_series("220104000000").await.unwrap().iter().find(|r| r.metric == "employee_share").unwrap().denominator,
        0
    );
}
