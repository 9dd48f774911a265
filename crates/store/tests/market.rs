//! The market on a real database: one-time codes, menus and their price history, shifts and
//! leave, bookings that never overlap (even 64 at once), idempotent creates, and an order's life.

use chrono::{Duration, NaiveDate, Utc};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::credit::casework::Rating;
use jiazheng_core::ids::{Mobile, ResidentId};
use jiazheng_core::market::menu::MenuForm;
use jiazheng_core::market::order::OrderStatus;
use jiazheng_core::market::slot::{Shift, Slot, SlotForm};
use jiazheng_core::market::sms::CodeCheck;
use jiazheng_core::market::{CatalogItem, PriceMode};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_store::market::orders::{BookingRequest, IdempotencyKey};
use jiazheng_store::market::search::WorkerQuery;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::TestDb;
use jiazheng_store::{PageRequest, Store, StoreError};

const COMMUNITY: &str = "220102001001";

struct Market {
    db: TestDb,
    agency: i64,
    agency_admin: Principal,
    workers: Vec<i64>,
    menu: i64,
}

fn today() -> NaiveDate {
    beijing_today()
}

use jiazheng_store::testing::agency;

async fn account(store: &Store, name: &str, role: Role, scope: &Scope) -> Principal {
    let new =
        jiazheng_store::accounts::NewAccount::scoped(name.into(), name.into(), "password-123".into(), role, scope);
    let id = store.create_account(&new).await.unwrap();
    Principal { account_id: id, role, scope: scope.clone() }
}

/// An agency selling 日常保洁 by the hour (¥45, at least 2 hours, free cancellation until 24 hours
/// before, 20% after), with `n` workers: the first `qualified` have what cleaning needs and work
/// 08:00–20:00 every day.
async fn market(n: u16, qualified: u16) -> Market {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency_id = agency(store, "MA0M0001").await;
    let agency_admin = account(store, "agency1", Role::AgencyAdmin, &Scope::Agency(agency_id)).await;
    let drafts: Vec<_> = (1..=n)
        .map(|seq| {
            WorkerForm {
                id_number: ResidentId::compose(
                    "220102",
                    NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + Duration::days(seq.into()),
                    seq,
                ),
                name: format!("王{}", ["芳", "丽", "静", "敏", "燕", "霞"][usize::from(seq) % 6]),
                phone: format!("139{seq:08}"),
                education_level: "college".into(),
                education_related: "否".into(),
                home_street: "220102001".into(),
                services: vec!["cleaning".into()],
                ..Default::default()
            }
            .parse(today())
            .unwrap()
        })
        .collect();
    let binding = Some(NewBinding { agency_id, kind: BindingKind::Employee, active: true });
    let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
    let workers = store.insert_workers(&rows).await.unwrap();
    let shift = Shift::parse("08:00", "20:00").unwrap();
    for &worker in workers.iter().take(usize::from(qualified)) {
        jiazheng_store::testing::give_cleaning_records(store, agency_id, worker, today() - Duration::days(30), today())
            .await
            .unwrap();
        let week: Vec<(u8, Shift)> = (1..=7).map(|d| (d, shift)).collect();
        store.set_shifts(worker, &week, agency_admin.account_id).await.unwrap();
    }
    let menu = jiazheng_store::testing::hourly_cleaning();
    let menu = store.publish_menu_item(agency_id, &menu, agency_admin.account_id).await.unwrap();
    Market { db, agency: agency_id, agency_admin, workers, menu: menu.id }
}

async fn resident(store: &Store, phone: &str) -> Principal {
    let (id, new) = store.resident_by_phone(&Mobile::parse(phone).unwrap()).await.unwrap();
    assert!(new);
    store.set_resident_address(id, COMMUNITY, "华阳小区3栋2单元501").await.unwrap();
    Principal { account_id: id, role: Role::Resident, scope: Scope::None }
}

/// A slot `days` ahead at `time`, Beijing.
fn slot(days: i64, time: &str, hours: u32) -> Slot {
    let form =
        SlotForm { date: (today() + Duration::days(days)).to_string(), time: time.into(), hours: hours.to_string() };
    form.parse(jiazheng_core::market::menu::Unit::Hours { min_hours: 1 }, Utc::now()).unwrap()
}

fn request(menu: i64, slot: Slot, worker: Option<i64>) -> BookingRequest {
    BookingRequest {
        menu_item_id: menu,
        slot,
        worker_id: worker,
        note: String::new(),
        expected_price_fen: None,
        expected_version: None,
        subsidised: false,
    }
}

fn stars(n: i64) -> Rating {
    Rating { quality: n, punctuality: n, attitude: n, communication: n, comment: "准时，认真".into() }
}

#[tokio::test]
async fn sixty_four_bookings_of_one_worker_at_overlapping_times_make_exactly_one_order() {
    let m = market(1, 1).await;
    let store = m.db.store.clone();
    let someone = resident(&store, "13800000001").await;
    let worker = m.workers[0];
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        // Every slot meets every other: 10:00–12:00, 10:30–12:30 and 11:00–13:00 on one day.
        let time = ["10:00", "10:30", "11:00"][i % 3];
        let request = request(m.menu, slot(3, time, 2), Some(worker));
        let resident = someone.account_id;
        tasks.push(tokio::spawn(async move { store.book(resident, &request, None).await }));
    }
    let mut booked = 0;
    let mut overlaps = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => booked += 1,
            Err(StoreError::Overlap { start, end }) => {
                assert!(end > start && start > Utc::now(), "the overlap names the time taken");
                overlaps += 1;
            }
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!((booked, overlaps), (1, 63));
    let calendar = store.calendar(worker, Utc::now(), None).await.unwrap();
    assert_eq!(calendar.len(), 1);
    let orders = store.orders_of_resident(someone.account_id, PageRequest::default()).await.unwrap();
    assert_eq!(orders.total, 1, "refused bookings leave no order behind");
}

#[tokio::test]
async fn a_key_repeated_ten_times_makes_one_order_and_a_reused_key_is_refused() {
    let m = market(2, 2).await;
    let store = m.db.store.clone();
    let someone = resident(&store, "13800000002").await;
    let key = IdempotencyKey { key: "c0ffee-1".into(), digest: vec![1; 32] };
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (store, key) = (store.clone(), key.clone());
        let request = request(m.menu, slot(4, "09:00", 2), None);
        let resident = someone.account_id;
        tasks.push(tokio::spawn(async move { store.book(resident, &request, Some(&key)).await }));
    }
    let mut ids = std::collections::HashSet::new();
    let mut replays = 0;
    for task in tasks {
        let booked = task.await.unwrap().unwrap();
        ids.insert(booked.order.id);
        replays += usize::from(booked.replayed);
    }
    assert_eq!((ids.len(), replays), (1, 9));
    assert_eq!(store.orders_of_resident(someone.account_id, PageRequest::default()).await.unwrap().total, 1);
    let other = IdempotencyKey { key: "c0ffee-1".into(), digest: vec![2; 32] };
    match store.book(someone.account_id, &request(m.menu, slot(5, "09:00", 2), None), Some(&other)).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "key_reused"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_order_runs_from_booking_to_a_rating_on_the_workers_record_and_keeps_its_price() {
    let m = market(2, 2).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000003").await;
    let booked = store.book(someone.account_id, &request(m.menu, slot(2, "14:00", 3), None), None).await.unwrap();
    let order = booked.order;
    assert_eq!((order.status(), order.total_fen, order.quantity), (OrderStatus::Requested, 13_500, 3));

    // The price rises after booking: the order keeps what it was booked at.
    let menu = store.menu_item(m.menu).await.unwrap();
    let dearer = MenuForm {
        item: "daily_cleaning".into(),
        mode: "per_hour".into(),
        price: "60".into(),
        amount: "2".into(),
        free_cancel_hours: "24".into(),
        cancel_fee_percent: "20".into(),
        ..Default::default()
    };
    store
        .update_menu_item(m.agency, m.menu, menu.version, &dearer.parse().unwrap(), m.agency_admin.account_id)
        .await
        .unwrap();
    assert_eq!(store.order(order.id).await.unwrap().total_fen, 13_500);
    let history = store.price_history(m.menu).await.unwrap();
    assert_eq!(history.iter().map(|p| p.price_fen).collect::<Vec<_>>(), [6000, 4500]);
    assert_eq!(history[0].previous_fen, Some(4500));
    let rises = store.price_rises(None, 10, PageRequest::default()).await.unwrap();
    assert_eq!(rises.total, 1);
    assert!((rises.items[0].percent() - 33.33).abs() < 0.01);
    assert_eq!(store.price_rises(None, 40, PageRequest::default()).await.unwrap().total, 0);
    // A stale edit loses.
    assert!(matches!(
        store
            .update_menu_item(m.agency, m.menu, menu.version, &dearer.parse().unwrap(), m.agency_admin.account_id)
            .await,
        Err(StoreError::Stale)
    ));

    // The resident cannot take the agency's steps, another agency cannot see the order.
    assert!(store.confirm_order(order.id, &someone).await.is_err());
    let other = agency(store, "MA0M0002").await;
    let stranger = account(store, "agency2", Role::AgencyAdmin, &Scope::Agency(other)).await;
    assert!(matches!(store.confirm_order(order.id, &stranger).await, Err(StoreError::NotFound)));

    let admin = &m.agency_admin;
    store.confirm_order(order.id, admin).await.unwrap();
    let assigned = store.assign_order(order.id, m.workers[1], admin).await.unwrap();
    assert_eq!((assigned.status(), assigned.worker_id), (OrderStatus::Assigned, Some(m.workers[1])));
    assert!(matches!(store.rate_order(order.id, &someone, &stars(5)).await, Err(StoreError::Invalid(_))));
    // Nobody starts or completes a visit days before it.
    match store.complete_order(order.id, admin).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "too_early"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    match store.start_order(order.id, admin).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "too_early"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    jiazheng_store::testing::let_order_begin(store, order.id).await.unwrap();
    store.start_order(order.id, admin).await.unwrap();
    let done = store.complete_order(order.id, admin).await.unwrap();
    assert_eq!(done.status(), OrderStatus::Completed);
    let rated = store.rate_order(order.id, &someone, &stars(4)).await.unwrap();
    assert_eq!(rated.status(), OrderStatus::Rated);
    assert!(matches!(
        store.rate_order(order.id, &someone, &stars(1)).await,
        Err(StoreError::Conflict { what: "already_rated", .. })
    ));
    let ledger = store.ledger_of(jiazheng_core::credit::SubjectKind::Worker, m.workers[1]).await.unwrap();
    let rating = ledger.iter().find(|e| e.kind == "rating").expect("a rating entry");
    assert_eq!(rating.source, format!("order:{}", order.id));
    assert!(ledger.iter().any(|e| e.kind == "service" && e.source == format!("order:{}", order.id)));
    let steps: Vec<String> = store.order_events(order.id).await.unwrap().into_iter().map(|e| e.step).collect();
    assert_eq!(steps, ["request", "confirm", "assign", "start", "complete", "rate"]);
}

#[tokio::test]
async fn workers_who_fail_the_rules_or_are_off_shift_are_refused_with_the_reason() {
    let m = market(2, 1).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000004").await;
    let unqualified = m.workers[1];
    let cleaning = jiazheng_core::market::menu::Unit::Hours { min_hours: 2 };
    // The agency is told why, by name; a resident only that the worker cannot come then.
    let refusal = |outcome: Result<(), StoreError>| match outcome {
        Err(StoreError::Invalid(errors)) => errors.0[0].clone(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let why = refusal(
        store
            .worker_fits(unqualified, &m.agency, CatalogItem::DailyCleaning, None, cleaning, &slot(2, "10:00", 2))
            .await,
    );
    assert_eq!((why.field.as_str(), why.code), ("worker_id", "not_compliant"));
    assert!(why.message_zh.contains("岗前培训") && why.message_zh.contains("王"), "{}", why.message_zh);
    let why = refusal(
        store
            .worker_fits(m.workers[0], &m.agency, CatalogItem::DailyCleaning, None, cleaning, &slot(2, "19:00", 2))
            .await,
    );
    assert_eq!(why.code, "off_shift");
    for (worker, time) in [(unqualified, "10:00"), (m.workers[0], "19:00")] {
        match store.book(someone.account_id, &request(m.menu, slot(2, time, 2), Some(worker)), None).await {
            Err(StoreError::Invalid(errors)) => {
                assert_eq!(errors.0[0].code, "worker_unavailable");
                assert!(!errors.0[0].message_zh.contains("王") && !errors.0[0].message_zh.contains("培训"));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Leave blocks bookings, and bookings block leave.
    let leave = slot(6, "08:00", 12);
    store.add_leave(m.workers[0], &leave, "回老家", m.agency_admin.account_id).await.unwrap();
    assert!(matches!(
        store.book(someone.account_id, &request(m.menu, slot(6, "10:00", 2), Some(m.workers[0])), None).await,
        Err(StoreError::Overlap { .. })
    ));
    let orders = store.orders_of_resident(someone.account_id, PageRequest::default()).await.unwrap();
    assert_eq!(orders.total, 0, "nothing half-written");
}

#[tokio::test]
async fn search_finds_only_free_compliant_workers_on_shift_and_puts_earlier_ones_first() {
    let m = market(6, 4).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000005").await;
    let when = slot(3, "09:00", 2);
    let query = |resident: Option<i64>| WorkerQuery {
        item: CatalogItem::DailyCleaning,
        mode: PriceMode::PerHour,
        slot: when,
        district: Some("220102000000".into()),
        level: None,
        resident,
        after: 0,
        limit: 10,
        menu_item: None,
        for_order: None,
    };
    let found = store.available_workers(&query(None)).await.unwrap();
    let ids: Vec<i64> = found.workers.iter().map(|w| w.worker_id).collect();
    assert_eq!(ids, m.workers[..4].to_vec(), "the two without records are left out");
    // One is booked then, one is on leave: both drop out.
    store.book(someone.account_id, &request(m.menu, when, Some(m.workers[0])), None).await.unwrap();
    store.add_leave(m.workers[1], &slot(3, "08:00", 4), "", m.agency_admin.account_id).await.unwrap();
    let ids: Vec<i64> =
        store.available_workers(&query(None)).await.unwrap().workers.iter().map(|w| w.worker_id).collect();
    assert_eq!(ids, m.workers[2..4].to_vec());
    // Nobody works at 21:00.
    let late = WorkerQuery { slot: slot(3, "20:00", 2), ..query(None) };
    assert!(store.available_workers(&late).await.unwrap().workers.is_empty());
    // A worker the resident had before comes first.
    let earlier =
        store.book(someone.account_id, &request(m.menu, slot(1, "09:00", 2), Some(m.workers[3])), None).await.unwrap();
    // Confirmed ahead (the confirmation checks the worker's shift at the booked time), then the
    // day comes.
    let admin = &m.agency_admin;
    store.confirm_order(earlier.order.id, admin).await.unwrap();
    jiazheng_store::testing::let_order_begin(store, earlier.order.id).await.unwrap();
    store.start_order(earlier.order.id, admin).await.unwrap();
    store.complete_order(earlier.order.id, admin).await.unwrap();
    let found = store.available_workers(&query(Some(someone.account_id))).await.unwrap();
    assert_eq!(found.workers[0].worker_id, m.workers[3]);
    assert!(found.workers[0].previous);
    assert_eq!(found.workers.iter().filter(|w| w.worker_id == m.workers[3]).count(), 1);
}

#[tokio::test]
async fn cancelling_costs_what_the_terms_say_and_frees_the_worker() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000006").await;
    // More than 24 hours ahead: free.
    let far =
        store.book(someone.account_id, &request(m.menu, slot(5, "10:00", 2), Some(m.workers[0])), None).await.unwrap();
    let cancelled = store.cancel_order(far.order.id, &someone, "临时有事").await.unwrap();
    assert_eq!((cancelled.status(), cancelled.cancel_fee_fen), (OrderStatus::Cancelled, Some(0)));
    assert!(store.calendar(m.workers[0], Utc::now(), None).await.unwrap().is_empty(), "the time is free again");
    // Inside 24 hours: 20%. The slot is the next whole half hour at least 90 minutes away.
    let start = Utc::now() + Duration::minutes(90);
    let start = chrono::DateTime::from_timestamp(start.timestamp() - start.timestamp() % 1800 + 1800, 0).unwrap();
    let soon = Slot { start, end: start + Duration::hours(2) };
    let near = store.book(someone.account_id, &request(m.menu, soon, None), None).await.unwrap();
    // Before the agency confirms, cancelling is free even then; after, the terms apply.
    let unconfirmed = store.book(someone.account_id, &request(m.menu, soon, None), None).await.unwrap();
    assert_eq!(store.cancel_order(unconfirmed.order.id, &someone, "").await.unwrap().cancel_fee_fen, Some(0));
    store.confirm_order(near.order.id, &m.agency_admin).await.unwrap();
    let cancelled = store.cancel_order(near.order.id, &someone, "").await.unwrap();
    assert_eq!(cancelled.cancel_fee_fen, Some(1800));
    assert!(store.cancel_order(near.order.id, &someone, "").await.is_err(), "once");
}

#[tokio::test]
async fn a_price_changed_since_the_page_refuses_the_booking_and_an_order_is_disputed_once() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000008").await;
    let seen = BookingRequest { expected_price_fen: Some(4500), ..request(m.menu, slot(2, "10:00", 2), None) };
    let menu = store.menu_item(m.menu).await.unwrap();
    let dearer = MenuForm {
        item: "daily_cleaning".into(),
        mode: "per_hour".into(),
        price: "99".into(),
        amount: "2".into(),
        free_cancel_hours: "168".into(),
        cancel_fee_percent: "100".into(),
        ..Default::default()
    };
    store
        .update_menu_item(m.agency, m.menu, menu.version, &dearer.parse().unwrap(), m.agency_admin.account_id)
        .await
        .unwrap();
    assert!(matches!(
        store.book(someone.account_id, &seen, None).await,
        Err(StoreError::Conflict { what: "price_changed", .. })
    ));
    // Harsher terms at the same price are refused the same way; a new length is a new item.
    let menu = store.menu_item(m.menu).await.unwrap();
    let seen_then =
        BookingRequest { expected_price_fen: Some(9900), expected_version: Some(menu.version), ..seen.clone() };
    let harsher = MenuForm { free_cancel_hours: "168".into(), cancel_fee_percent: "100".into(), ..dearer.clone() };
    let harsher = MenuForm { cancel_fee_percent: "50".into(), ..harsher };
    store
        .update_menu_item(m.agency, m.menu, menu.version, &harsher.parse().unwrap(), m.agency_admin.account_id)
        .await
        .unwrap();
    assert!(matches!(
        store.book(someone.account_id, &seen_then, None).await,
        Err(StoreError::Conflict { what: "price_changed", .. })
    ));
    let longer = MenuForm { amount: "4".into(), ..dearer.clone() };
    let version = store.menu_item(m.menu).await.unwrap().version;
    let longer = longer.parse().unwrap();
    let refused = store.update_menu_item(m.agency, m.menu, version, &longer, m.agency_admin.account_id).await;
    assert!(matches!(refused, Err(StoreError::Invalid(e)) if e.0[0].code == "fixed"));
    let restored = MenuForm { cancel_fee_percent: "100".into(), ..dearer.clone() };
    store
        .update_menu_item(m.agency, m.menu, version, &restored.parse().unwrap(), m.agency_admin.account_id)
        .await
        .unwrap();
    let now_seen = BookingRequest { expected_price_fen: Some(9900), ..seen };
    let order = store
        .book(someone.account_id, &now_seen, Some(&IdempotencyKey { key: "k".into(), digest: vec![3] }))
        .await
        .unwrap()
        .order;
    assert_eq!((order.total_fen, order.free_cancel_hours, order.cancel_fee_percent), (19_800, 168, 100));

    let admin = &m.agency_admin;
    store.confirm_order(order.id, admin).await.unwrap();
    store.assign_order(order.id, m.workers[0], admin).await.unwrap();
    jiazheng_store::testing::let_order_begin(store, order.id).await.unwrap();
    store.start_order(order.id, admin).await.unwrap();
    assert!(matches!(store.dispute_order(order.id, &someone, "短").await, Err(StoreError::Invalid(_))));
    let disputed = store.dispute_order(order.id, &someone, "只做了一个小时就走了").await.unwrap();
    assert_eq!(disputed.status(), OrderStatus::Disputed);
    store.resolve_order(order.id, admin, "已补做一小时").await.unwrap();
    assert!(matches!(
        store.dispute_order(order.id, &someone, "再次投诉同一订单").await,
        Err(StoreError::Conflict { what: "already_disputed", .. })
    ));
    let complaints = store.complaints(None, Some(someone.account_id), None, PageRequest::default()).await.unwrap();
    assert_eq!(complaints.total, 1);
}

#[tokio::test]
async fn sign_in_codes_expire_lock_after_five_wrong_tries_and_are_rationed() {
    let db = TestDb::new().await;
    let store = &db.store;
    let phone = Mobile::parse("13912345678").unwrap();
    let code = store.issue_sign_in_code(&phone, "10.0.0.1").await.unwrap();
    assert!(matches!(store.issue_sign_in_code(&phone, "10.0.0.1").await, Err(StoreError::TooSoon(s)) if s <= 60));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in (1..=4).rev() {
        assert_eq!(store.check_sign_in_code(&phone, wrong).await.unwrap(), CodeCheck::Wrong { tries_left: left });
    }
    assert_eq!(store.check_sign_in_code(&phone, wrong).await.unwrap(), CodeCheck::Locked);
    assert_eq!(store.check_sign_in_code(&phone, &code).await.unwrap(), CodeCheck::Locked, "even the right code");
    // Another number's code is another matter, and a right code works once.
    let other = Mobile::parse("13912345679").unwrap();
    let code = store.issue_sign_in_code(&other, "10.0.0.1").await.unwrap();
    assert_eq!(store.check_sign_in_code(&other, &code).await.unwrap(), CodeCheck::Accepted);
    assert_eq!(store.check_sign_in_code(&other, &code).await.unwrap(), CodeCheck::Expired);
    // One address asking for many numbers runs out.
    let mut refused = None;
    for n in 0..40 {
        let phone = Mobile::parse(&format!("137{n:08}")).unwrap();
        if let Err(e) = store.issue_sign_in_code(&phone, "10.9.9.9").await {
            refused = Some((n, e));
            break;
        }
    }
    assert!(matches!(refused, Some((30, StoreError::Limited("sms_codes_per_address")))), "{refused:?}");
}

#[tokio::test]
async fn an_erased_resident_leaves_orders_under_a_pseudonym() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000007").await;
    let profile = store.resident_profile(someone.account_id).await.unwrap();
    assert_eq!(profile.address.as_deref(), Some("华阳小区3栋2单元501"));
    assert!(profile.community_name.unwrap().contains("华阳社区"));
    let booked = store.book(someone.account_id, &request(m.menu, slot(2, "10:00", 2), None), None).await.unwrap();
    match store.erase_resident(someone.account_id).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "orders_open"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    store.cancel_order(booked.order.id, &someone, "").await.unwrap();
    store.erase_resident(someone.account_id).await.unwrap();
    let order = store.order(booked.order.id).await.unwrap();
    assert_eq!(order.resident_name, format!("已注销居民 #{}", someone.account_id));
    assert_eq!(store.order_address(&order).await.unwrap(), "");
    let profile = store.resident_profile(someone.account_id).await.unwrap();
    assert!(profile.phone_masked.is_none() && profile.address.is_none());
    // The number can sign up afresh, as a new account.
    let (again, new) = store.resident_by_phone(&Mobile::parse("13800000007").unwrap()).await.unwrap();
    assert!(new && again != someone.account_id);
    // Bad addresses are refused beside their fields.
    match store.set_resident_address(again, "220102001", &"长".repeat(121)).await {
        Err(StoreError::Invalid(errors)) => {
            let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["community", "address"]);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn postgres_itself_refuses_overlapping_rows_whoever_writes_them() {
    let m = market(1, 1).await;
    let jiazheng_store::Pool::Postgres(pool) = m.db.store.pool() else {
        return; // SQLite has no exclusion constraints: its single writer checks inside the transaction.
    };
    let insert = "INSERT INTO worker_bookings (worker_id, kind, starts_at, ends_at, note, entered_by, created_at)
        VALUES ($1, 'leave', $2, $3, '', $4, now())";
    let first = slot(3, "10:00", 2);
    sqlx::query(insert)
        .bind(m.workers[0])
        .bind(first.start)
        .bind(first.end)
        .bind(m.agency_admin.account_id)
        .execute(pool)
        .await
        .unwrap();
    let second = slot(3, "11:30", 2);
    let refused = sqlx::query(insert)
        .bind(m.workers[0])
        .bind(second.start)
        .bind(second.end)
        .bind(m.agency_admin.account_id)
        .execute(pool)
        .await
        .unwrap_err();
    assert_eq!(refused.as_database_error().and_then(|e| e.code()).as_deref(), Some("23P01"));
    let touching = slot(3, "12:00", 2);
    sqlx::query(insert)
        .bind(m.workers[0])
        .bind(touching.start)
        .bind(touching.end)
        .bind(m.agency_admin.account_id)
        .execute(pool)
        .await
        .expect("half-open ranges that touch do not overlap");
}

/// A failed in-home health check `days_ago`.
fn failed_check(days_ago: i64) -> jiazheng_core::workforce::records::HealthCheckDraft {
    jiazheng_core::workforce::records::HealthCheckDraft {
        checked_on: today() - Duration::days(days_ago),
        institution: "长春市南关区疾控中心".into(),
        category: jiazheng_core::workforce::HealthCategory::InHome,
        passed: false,
        notes: None,
    }
}

#[tokio::test]
async fn readiness_follows_every_fact_written_and_a_stale_worker_is_assessed_until_refreshed() {
    use jiazheng_core::registry::binding::{BindingAction, Side};
    use jiazheng_core::workforce::InsuranceKind;
    use jiazheng_core::workforce::records::InsuranceDraft;
    use jiazheng_store::workforce::Recorder;

    let m = market(3, 2).await;
    let store = &m.db.store;
    let query = WorkerQuery {
        item: CatalogItem::DailyCleaning,
        mode: PriceMode::PerHour,
        slot: slot(3, "09:00", 2),
        district: Some("220102000000".into()),
        level: None,
        resident: None,
        after: 0,
        limit: 10,
        menu_item: None,
        for_order: None,
    };
    let found = || async {
        store.available_workers(&query).await.unwrap().workers.iter().map(|w| w.worker_id).collect::<Vec<_>>()
    };
    let refresh = || async { store.refresh_all_readiness(today(), &|_, _| {}).await.unwrap() };
    // New workers wait for their spans; meanwhile the search assesses them itself.
    assert_eq!(store.stale_readiness().await.unwrap(), 3);
    assert_eq!(found().await, m.workers[..2]);
    assert_eq!(refresh().await, 3);
    assert_eq!(store.stale_readiness().await.unwrap(), 0);
    assert_eq!(found().await, m.workers[..2], "the spans give the same answer");
    // Ready from today until the day after the policy's last (a year from 60 days ago); no
    // span for the third.
    let lapses = today() - Duration::days(60) + Duration::days(366);
    assert_eq!(store.readiness_of(m.workers[0]).await.unwrap(), [("cleaning".to_string(), today(), lapses)]);
    assert!(store.readiness_of(m.workers[2]).await.unwrap().is_empty());

    // A failed check on the day of the passed one: the cautious reading wins, and the worker
    // drops out of the search before any refresh.
    let by = Recorder::agency(m.agency, None);
    store.add_health_checks(&[(m.workers[0], &failed_check(30), by)]).await.unwrap();
    assert_eq!(store.stale_readiness().await.unwrap(), 1);
    assert_eq!(found().await, m.workers[1..2]);
    refresh().await;
    assert!(store.readiness_of(m.workers[0]).await.unwrap().is_empty());
    assert_eq!(found().await, m.workers[1..2]);
    // Booking reads the same spans: refused without them, refused off shift, taken otherwise.
    let someone = resident(store, "13800000006").await;
    let refused = |worker: usize, when: Slot| {
        let request = request(m.menu, when, Some(m.workers[worker]));
        async move { store.book(someone.account_id, &request, None).await.unwrap_err() }
    };
    for error in [refused(0, slot(3, "09:00", 2)).await, refused(1, slot(3, "19:00", 2)).await] {
        assert!(matches!(&error, StoreError::Invalid(e) if e.0[0].code == "worker_unavailable"), "{error:?}");
    }
    store.book(someone.account_id, &request(m.menu, slot(3, "09:00", 2), Some(m.workers[1])), None).await.unwrap();

    // Every other fact the rules read marks its workers too: a policy of the agency marks all it
    // employs, and a step on a binding marks its worker.
    let policy = InsuranceDraft {
        kind: InsuranceKind::EmployerLiability,
        insurer: "中国人寿长春分公司".into(),
        policy_number: "PA-1".into(),
        starts_on: today(),
        ends_on: today() + Duration::days(365),
        sum_insured_fen: 50_000_000,
    };
    store.add_policies(&[(None, m.agency, &policy, by)]).await.unwrap();
    assert_eq!(store.stale_readiness().await.unwrap(), 3);
    refresh().await;
    let binding = store.open_binding(m.workers[1], m.agency).await.unwrap().unwrap();
    store.act_on_binding(binding.id, BindingAction::RequestEnd, Side::Agency).await.unwrap();
    assert_eq!(store.stale_readiness().await.unwrap(), 1);
}

#[tokio::test]
async fn a_readiness_plan_written_after_a_newer_fact_leaves_that_worker_stale() {
    use jiazheng_store::workforce::Recorder;
    use jiazheng_store::workforce::readiness::StaleScope;

    let m = market(3, 2).await;
    let store = &m.db.store;
    let only_second = store.plan_readiness(StaleScope::Range(m.workers[1], m.workers[1]), today()).await.unwrap();
    assert_eq!(only_second.len(), 1, "a range plans for the stale workers inside it only");
    let plan = store.plan_readiness(StaleScope::Range(m.workers[0], m.workers[2]), today()).await.unwrap();
    assert_eq!(plan.len(), 3);
    // Planned (the first worker ready), then a failed check arrives before the plan is written.
    store.add_health_checks(&[(m.workers[0], &failed_check(1), Recorder::agency(m.agency, None))]).await.unwrap();
    assert_eq!(store.apply_readiness(&plan).await.unwrap(), 3);
    assert_eq!(store.stale_readiness().await.unwrap(), 1, "the worker with the newer fact stays stale");
    assert!(!store.readiness_of(m.workers[0]).await.unwrap().is_empty(), "the plan's spans were written");
    store.refresh_all_readiness(today(), &|_, _| {}).await.unwrap();
    assert!(store.readiness_of(m.workers[0]).await.unwrap().is_empty(), "the next refresh reads the failed check");
    assert!(!store.readiness_of(m.workers[1]).await.unwrap().is_empty());
    assert_eq!(store.stale_readiness().await.unwrap(), 0);
}

#[tokio::test]
async fn paging_through_a_busy_hour_lists_every_free_worker_once() {
    let m = market(150, 150).await;
    let store = &m.db.store;
    let when = slot(2, "10:00", 2);
    // Nine of every ten are away then: a page needs more than one window of candidates.
    let mut free = Vec::new();
    for (i, &worker) in m.workers.iter().enumerate() {
        if i % 10 == 0 {
            free.push(worker);
        } else {
            store.add_leave(worker, &when, "", m.agency_admin.account_id).await.unwrap();
        }
    }
    let query = |slot: Slot, after: i64| WorkerQuery {
        item: CatalogItem::DailyCleaning,
        mode: PriceMode::PerHour,
        slot,
        district: Some("220102000000".into()),
        level: None,
        resident: None,
        after,
        limit: 7,
        menu_item: None,
        for_order: None,
    };
    let every_page = |slot: Slot| async move {
        let (mut seen, mut after, mut pages) = (Vec::new(), 0, 0);
        loop {
            let found = store.available_workers(&query(slot, after)).await.unwrap();
            assert!(found.workers.len() <= 7);
            seen.extend(found.workers.iter().map(|w| w.worker_id));
            pages += 1;
            match found.next_after {
                Some(next) => after = next,
                None => return (seen, pages),
            }
        }
    };
    for refreshed in [false, true] {
        if refreshed {
            store.refresh_all_readiness(today(), &|_, _| {}).await.unwrap();
        }
        assert_eq!(every_page(when).await, (free.clone(), 3), "15 free, 7 a page; refreshed: {refreshed}");
        // An hour nobody is booked: every page is cut short of its window.
        let (seen, pages) = every_page(slot(2, "15:00", 2)).await;
        assert_eq!((seen, pages), (m.workers.clone(), 22), "refreshed: {refreshed}");
    }
}

#[tokio::test]
async fn one_resident_cannot_hold_a_calendar_and_a_worker_who_left_is_not_sent() {
    use jiazheng_core::registry::binding::{BindingAction, Side};

    let m = market(2, 2).await;
    let store = &m.db.store;
    let hoarder = resident(store, "13800000009").await;
    for day in 1..=5 {
        store
            .book(hoarder.account_id, &request(m.menu, slot(day, "10:00", 2), Some(m.workers[0])), None)
            .await
            .unwrap();
    }
    let sixth = store.book(hoarder.account_id, &request(m.menu, slot(6, "10:00", 2), Some(m.workers[0])), None).await;
    assert!(matches!(&sixth, Err(StoreError::Invalid(e)) if e.0[0].code == "too_many_waiting"), "{sixth:?}");
    let orders = store.orders_of_resident(hoarder.account_id, PageRequest::default()).await.unwrap();
    assert_eq!(orders.total, 5, "nothing written for the sixth");

    // Another agency sees the worker's time taken, not whose orders fill it.
    let mine = store.calendar(m.workers[0], Utc::now(), Some(m.agency)).await.unwrap();
    assert!(mine.len() == 5 && mine.iter().all(|b| b.order_id.is_some() && b.item.is_some()));
    let theirs = store.calendar(m.workers[0], Utc::now(), Some(m.agency + 1000)).await.unwrap();
    assert_eq!(theirs.len(), 5);
    assert!(theirs.iter().all(|b| b.order_id.is_none() && b.item.is_none() && b.note.is_empty()));

    // Another resident asking for a taken time is told the time they asked, not whose it is.
    let other = resident(store, "13800000010").await;
    let asked = slot(1, "11:00", 2);
    match store.book(other.account_id, &request(m.menu, asked, Some(m.workers[0])), None).await {
        Err(StoreError::Overlap { start, end }) => assert_eq!((start, end), (asked.start, asked.end)),
        other => panic!("{other:?}"),
    }

    // The worker leaves the agency after being assigned: the order does not start with them.
    let order = store.book(other.account_id, &request(m.menu, slot(1, "15:00", 2), Some(m.workers[1])), None).await;
    let order = order.unwrap().order;
    store.confirm_order(order.id, &m.agency_admin).await.unwrap();
    jiazheng_store::testing::let_order_begin(store, order.id).await.unwrap();
    let binding = store.open_binding(m.workers[1], m.agency).await.unwrap().unwrap();
    store.act_on_binding(binding.id, BindingAction::RequestEnd, Side::Agency).await.unwrap();
    store.act_on_binding(binding.id, BindingAction::ConfirmEnd, Side::Worker).await.unwrap();
    let start = store.start_order(order.id, &m.agency_admin).await;
    assert!(matches!(&start, Err(StoreError::Invalid(e)) if e.0[0].code == "not_agency_worker"), "{start:?}");
}

/// A contract laid out as the server would, with a stand-in file: the store keeps bytes.
fn laid(draft: &jiazheng_store::market::contracts::Draft, file: &[u8]) -> jiazheng_store::market::contracts::Laid {
    use sha2::Digest;
    let number = jiazheng_core::market::contract::number(draft.kind, today(), rand::random());
    let mut facts = draft.facts.clone();
    facts.insert("contract_number", number.clone());
    facts.insert("drafted_on", today().to_string());
    let filled = jiazheng_core::market::contract::fill(draft.kind, &facts).unwrap();
    jiazheng_store::market::contracts::Laid {
        number,
        content: serde_json::to_value(&filled).unwrap(),
        template_version: filled.version,
        pdf: file.to_vec(),
        sha256: sha2::Sha256::digest(file).into(),
    }
}

#[tokio::test]
async fn a_contract_is_signed_by_its_parties_only_and_its_digest_reaches_the_ledger() {
    use jiazheng_core::market::contract::{ContractKind, ContractStatus, Signer};
    use jiazheng_store::market::contracts::Gap;
    let m = market(1, 1).await;
    let store = &m.db.store;
    let admin = &m.agency_admin;
    let someone = resident(store, "13800000011").await;
    let order = store.book(someone.account_id, &request(m.menu, slot(3, "09:00", 2), Some(m.workers[0])), None).await;
    let order = order.unwrap().order;
    let draft =
        |order| async move { store.order_contract_draft(&store.order(order).await.unwrap(), "平台", "商务局").await };
    assert_eq!(draft(order.id).await.unwrap().err(), Some(Gap::NoWorker));
    store.confirm_order(order.id, admin).await.unwrap();
    assert_eq!(draft(order.id).await.unwrap().err(), Some(Gap::ResidentIdentity));
    // The name and number are checked field by field.
    match store.set_resident_identity(someone.account_id, " ", "2201021980").await {
        Err(StoreError::Invalid(errors)) => {
            let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["legal_name", "id_number"]);
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    let id_number = ResidentId::compose("220102", NaiveDate::from_ymd_opt(1985, 6, 1).unwrap(), 7);
    store.set_resident_identity(someone.account_id, "李秀兰", &id_number).await.unwrap();
    let draft = draft(order.id).await.unwrap().expect("ready");
    assert_eq!(draft.kind, ContractKind::EmployeeService, "an employee serves under the two-party contract");
    assert_eq!(draft.facts["resident_name"], "李秀兰");
    let masked = ResidentId::parse(&id_number, today()).unwrap().masked();
    assert_eq!(draft.facts["resident_id"], masked, "the contract shows the number masked");
    assert!(draft.facts["service_address"].contains("华阳小区3栋2单元501"));
    assert_eq!(draft.facts["total_price"], "¥90.00");

    let file = b"%PDF-1.7 a contract as signed".to_vec();
    let kept = store.keep_contract(&draft, &laid(&draft, &file)).await.unwrap();
    // A second draft of the same order keeps the first.
    let again = store.keep_contract(&draft, &laid(&draft, b"%PDF another layout")).await.unwrap();
    assert_eq!(again.id, kept.id);
    assert_eq!(kept.status(), ContractStatus::Signing);

    // Only the parties sign, each their own part, and only the file they saw.
    let other = agency(store, "MA0M0009").await;
    let stranger = account(store, "agency9", Role::AgencyAdmin, &Scope::Agency(other)).await;
    assert!(matches!(
        store.sign_contract(kept.id, Signer::Agency, &stranger, "x", &kept.sha256).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.sign_contract(kept.id, Signer::Agency, &someone, "x", &kept.sha256).await,
        Err(StoreError::NotFound)
    ));
    match store.sign_contract(kept.id, Signer::Resident, &someone, "李秀兰", &"0".repeat(64)).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "contract_changed"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let half = store.sign_contract(kept.id, Signer::Agency, admin, "企业", &kept.sha256).await.unwrap();
    assert_eq!(half.status(), ContractStatus::Signing);
    assert!(matches!(
        store.sign_contract(kept.id, Signer::Agency, admin, "企业", &kept.sha256).await,
        Err(StoreError::Conflict { what: "already_signed", .. })
    ));
    let ledger = store.ledger_of(jiazheng_core::credit::SubjectKind::Agency, m.agency).await.unwrap();
    assert!(!ledger.iter().any(|e| e.kind == "contract"), "no entry before every party signed");
    let signed = store.sign_contract(kept.id, Signer::Resident, &someone, "李秀兰", &kept.sha256).await.unwrap();
    assert_eq!(signed.status(), ContractStatus::Signed);
    let ledger = store.ledger_of(jiazheng_core::credit::SubjectKind::Agency, m.agency).await.unwrap();
    let entry = ledger.iter().find(|e| e.kind == "contract").expect("the signed contract's entry");
    assert_eq!(entry.source, format!("contract:{}", kept.number));
    assert!(entry.payload.contains(&kept.sha256));
    let signatures = store.contract_signatures(kept.id).await.unwrap();
    assert_eq!(signatures.len(), 2);
    assert!(signatures.iter().all(|s| s.sha256 == kept.sha256));
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(&file).into();
    assert_eq!(store.contracts_by_digest(&digest).await.unwrap()[0].id, kept.id);
    let mut changed = file.clone();
    changed[3] ^= 1;
    let digest: [u8; 32] = sha2::Sha256::digest(&changed).into();
    assert!(store.contracts_by_digest(&digest).await.unwrap().is_empty());

    // The rate counts services begun, under a signed contract or not.
    assert_eq!(store.contract_use_totals(None).await.unwrap().services, 0);
    jiazheng_store::testing::let_order_begin(store, order.id).await.unwrap();
    store.start_order(order.id, admin).await.unwrap();
    let totals = store.contract_use_totals(None).await.unwrap();
    assert_eq!((totals.services, totals.under_contract, totals.rate()), (1, 1, Some(100.0)));

    // A signing code is good for that contract only, never for signing in.
    let phone = store.signing_phone(&kept, Signer::Resident).await.unwrap();
    assert_eq!(phone.as_str(), "13800000011");
    let purpose = jiazheng_store::market::contracts::code_purpose(&kept, Signer::Resident);
    let code = store.issue_code(&phone, &purpose, "10.0.0.1").await.unwrap();
    assert_eq!(store.check_sign_in_code(&phone, &code).await.unwrap(), CodeCheck::Expired);
    assert_eq!(store.check_code(&phone, &purpose, &code).await.unwrap(), CodeCheck::Accepted);
}

#[tokio::test]
async fn cancelling_or_replacing_voids_the_contract_and_the_signed_text_stays() {
    use jiazheng_core::market::contract::ContractStatus;
    let m = market(1, 1).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000012").await;
    let id_number = ResidentId::compose("220102", NaiveDate::from_ymd_opt(1990, 2, 3).unwrap(), 9);
    store.set_resident_identity(someone.account_id, "赵敏", &id_number).await.unwrap();
    let order = store.book(someone.account_id, &request(m.menu, slot(4, "09:00", 2), Some(m.workers[0])), None).await;
    let order = order.unwrap().order;
    store.confirm_order(order.id, &m.agency_admin).await.unwrap();
    let draft =
        store.order_contract_draft(&store.order(order.id).await.unwrap(), "平台", "商务局").await.unwrap().unwrap();
    let kept = store.keep_contract(&draft, &laid(&draft, b"%PDF one")).await.unwrap();
    store.cancel_order(order.id, &someone, "计划有变").await.unwrap();
    assert!(store.contract_of_order(order.id).await.unwrap().is_none(), "no live contract");
    let void = store.contract(kept.id).await.unwrap();
    assert_eq!(void.status(), ContractStatus::Void);
    assert_eq!(void.sha256, kept.sha256, "the file is kept as it was");
    assert_eq!(store.contract_pdf(kept.id).await.unwrap(), b"%PDF one");
    assert_eq!(
        store.order_contract_draft(&store.order(order.id).await.unwrap(), "平台", "商务局").await.unwrap().err(),
        Some(jiazheng_store::market::contracts::Gap::Closed)
    );
}

#[tokio::test]
async fn a_contract_names_the_parties_as_they_are_when_they_sign() {
    use jiazheng_core::market::contract::{ContractStatus, Signer};
    use jiazheng_core::registry::binding::{BindingAction, Side};
    let m = market(1, 1).await;
    let store = &m.db.store;
    let someone = resident(store, "13800000013").await;
    let first = ResidentId::compose("220102", NaiveDate::from_ymd_opt(1991, 3, 4).unwrap(), 11);
    store.set_resident_identity(someone.account_id, "李秀兰", &first).await.unwrap();
    let order = store.book(someone.account_id, &request(m.menu, slot(5, "09:00", 2), Some(m.workers[0])), None).await;
    let order = store.order(order.unwrap().order.id).await.unwrap();
    store.confirm_order(order.id, &m.agency_admin).await.unwrap();
    let order = store.order(order.id).await.unwrap();
    let draft = store.order_contract_draft(&order, "平台", "商务局").await.unwrap().unwrap();
    let kept = store.keep_contract(&draft, &laid(&draft, b"%PDF first")).await.unwrap();

    // The resident corrects their identity before signing: the contract naming the old one is void.
    let second = ResidentId::compose("220102", NaiveDate::from_ymd_opt(1991, 3, 4).unwrap(), 13);
    store.set_resident_identity(someone.account_id, "李秀英", &second).await.unwrap();
    assert_eq!(store.contract(kept.id).await.unwrap().status(), ContractStatus::Void);
    let draft = store.order_contract_draft(&order, "平台", "商务局").await.unwrap().unwrap();
    assert_eq!(draft.facts["resident_name"], "李秀英");
    let again = store.keep_contract(&draft, &laid(&draft, b"%PDF second")).await.unwrap();
    assert_ne!(again.id, kept.id);
    // Names that are not names are refused.
    assert!(matches!(
        store.set_resident_identity(someone.account_id, "\u{200b}\u{200b}", &second).await,
        Err(StoreError::Invalid(_))
    ));

    // The worker leaves the agency: the contract being signed is void and cannot be signed.
    store.sign_contract(again.id, Signer::Agency, &m.agency_admin, "企业", &again.sha256).await.unwrap();
    let binding = store.open_binding(m.workers[0], m.agency).await.unwrap().expect("the binding");
    store.act_on_binding(binding.id, BindingAction::RequestEnd, Side::Worker).await.unwrap();
    // Between the request and its confirmation the binding still holds; a signature checks it.
    store.act_on_binding(binding.id, BindingAction::ConfirmEnd, Side::Agency).await.unwrap();
    let void = store.contract(again.id).await.unwrap();
    assert_eq!(void.status(), ContractStatus::Void);
    assert!(void.void_reason.unwrap().contains("离开"));
    assert!(store.sign_contract(again.id, Signer::Resident, &someone, "李秀英", &again.sha256).await.is_err());
}

#[tokio::test]
async fn signing_codes_have_their_own_daily_allowance() {
    let db = TestDb::new().await;
    let store = &db.store;
    let phone = Mobile::parse("13800000014").unwrap();
    // A stranger spends the number's sign-in codes for the day (one a minute, so the clock is
    // not waited on: the rows are aged directly).
    for n in 0..10 {
        store.issue_sign_in_code(&phone, &format!("10.0.0.{n}")).await.unwrap();
        jiazheng_store::testing::age_codes(store).await.unwrap();
    }
    assert!(matches!(store.issue_sign_in_code(&phone, "10.0.0.99").await, Err(StoreError::Limited(_))));
    // Its owner can still be sent the code that signs their contract.
    store.issue_code(&phone, "sign:HT20261202ABCDEFGH:resident", "10.0.1.1").await.unwrap();
}
#[path = "market/payments.rs"]
mod payments;
#[path = "market/subsidies.rs"]
mod subsidies;
