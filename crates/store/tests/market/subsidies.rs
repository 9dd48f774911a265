//! Subsidised service on a real database: the district pays for orders against a resident's
//! quota, over-quota and over-budget orders are refused whole, concurrent bookings never spend
//! past a quota, cancellations give back to the district, and the month's statement finds the
//! patterns the audit looks for.

use chrono::{Datelike, NaiveDate};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::market::payment::Account;
use jiazheng_core::market::subsidy::{EvidenceType, GrantForm, Oddity, audit};
use jiazheng_store::StoreError;
use jiazheng_store::market::subsidies::StatementScope;

use super::{Market, account, market, request, resident, slot, today};

const DISTRICT: &str = "220102000000";
const PDF: &[u8] = b"%PDF-1.4\n% evidence of a minimum living allowance\n";

fn district() -> DivisionCode {
    DivisionCode::parse(DISTRICT).unwrap()
}

fn budget_account() -> Account {
    Account::Subsidy(DISTRICT.parse().unwrap())
}

struct Office {
    staff: Principal,
    regulator: Principal,
}

async fn office(m: &Market) -> Office {
    let store = &m.db.store;
    let scope = Scope::District(district());
    Office {
        staff: account(store, "staff1", Role::CommunityStaff, &scope).await,
        regulator: account(store, "reg1", Role::Regulator, &scope).await,
    }
}

/// The Beijing year of the slots the tests book (three days ahead).
fn year() -> i32 {
    (today() + chrono::Duration::days(3)).year()
}

fn form(phone: &str, kind: &str, amount: &str) -> GrantForm {
    GrantForm {
        legal_name: "李桂英".into(),
        phone: phone.into(),
        id_number: ResidentId::compose("220102", NaiveDate::from_ymd_opt(1948, 5, 6).unwrap(), 21),
        category: "dibao".into(),
        community: super::COMMUNITY.into(),
        year: year().to_string(),
        quota_kind: kind.into(),
        quota_amount: amount.into(),
        evidence_note: "低保证 长南民 2026-0001".into(),
    }
}

async fn grant(m: &Market, o: &Office, phone: &str, kind: &str, amount: &str) -> i64 {
    let draft = form(phone, kind, amount).parse(&district(), today()).unwrap();
    m.db.store.register_subsidy_grant(&o.staff, &draft, PDF, EvidenceType::Pdf).await.unwrap()
}

fn subsidised(
    menu: i64,
    day: i64,
    time: &str,
    hours: u32,
    worker: Option<i64>,
) -> jiazheng_store::market::orders::BookingRequest {
    jiazheng_store::market::orders::BookingRequest { subsidised: true, ..request(menu, slot(day, time, hours), worker) }
}

fn refusal(result: Result<impl std::fmt::Debug, StoreError>) -> (String, String, String) {
    match result {
        Err(StoreError::Invalid(errors)) => {
            let e = &errors.0[0];
            (format!("{}:{}", e.field, e.code), e.message_zh.clone(), e.message_en.clone())
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn assert_balanced(m: &Market) {
    let audit = m.db.store.audit_journal().await.unwrap();
    assert!(audit.is_clean(), "unbalanced {:?}, mismatched {:?}", audit.unbalanced, audit.mismatched);
}

#[tokio::test]
async fn the_district_pays_against_the_quota_and_an_order_past_it_is_refused_whole() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let o = office(&m).await;
    store.set_subsidy_budget(&o.regulator, &district(), year(), 1_000_000).await.unwrap();
    let id = grant(&m, &o, "13700000101", "money", "200").await;
    let someone = resident(store, "13700000101").await;

    // ¥45 an hour: two orders of two hours (¥90 each) fit ¥200; a third does not.
    let first = store.book(someone.account_id, &subsidised(m.menu, 3, "08:00", 2, None), None).await.unwrap().order;
    assert!(first.is_subsidised());
    assert_eq!(store.balance(budget_account()).await.unwrap(), 9000, "the district owes what it paid");
    assert_eq!(store.held_for_order(first.id).await.unwrap().held_fen(), 9000);
    assert!(store.open_payment(first.id, &someone).await.is_err(), "nothing for the resident to pay");
    let second = store.book(someone.account_id, &subsidised(m.menu, 3, "11:00", 2, None), None).await.unwrap().order;
    let orders_before =
        store.orders_of_resident(someone.account_id, jiazheng_store::PageRequest::new(None, None)).await.unwrap().total;
    let (code, zh, en) = refusal(store.book(someone.account_id, &subsidised(m.menu, 3, "14:00", 2, None), None).await);
    assert_eq!(code, "subsidy:over_quota");
    assert!(zh.contains("¥200.00") && zh.contains("剩余¥20.00") && zh.contains("本单需¥90.00"), "{zh}");
    assert!(en.contains("¥20.00 left"), "{en}");
    let orders_after =
        store.orders_of_resident(someone.account_id, jiazheng_store::PageRequest::new(None, None)).await.unwrap().total;
    assert_eq!(orders_after, orders_before, "a refused order leaves no row");
    assert_eq!(store.balance(budget_account()).await.unwrap(), 18_000, "and moves no money");

    // Cancelled before the agency confirms: free, so all of it goes back to the district.
    store.cancel_order(second.id, &someone, "").await.unwrap();
    assert_eq!(store.balance(budget_account()).await.unwrap(), 9000);
    let row = store.subsidy_grant(id, &o.staff).await.unwrap();
    assert_eq!((row.used, row.orders), (9000, 2));
    let third = store.book(someone.account_id, &subsidised(m.menu, 3, "14:00", 2, None), None).await.unwrap().order;

    // Done: what the district paid is settled to the agency, and the journal balances.
    super::payments::complete(&m, first.id, m.workers[0]).await;
    assert_eq!(store.held_for_order(first.id).await.unwrap().held_fen(), 0);
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), -9000);
    // An agency's refund of a subsidised order returns to the district, never to the provider.
    assert!(store.refund_order(third.id, &m.agency_admin, 1000, "少做半小时").await.unwrap().is_none());
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), 0, "no money ever passed the provider");
    assert_balanced(&m).await;
}

#[tokio::test]
async fn an_hours_quota_counts_time_and_the_budget_refuses_what_it_cannot_pay() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let o = office(&m).await;
    store.set_subsidy_budget(&o.regulator, &district(), year(), 20_000).await.unwrap();
    grant(&m, &o, "13700000102", "hours", "5").await;
    let someone = resident(store, "13700000102").await;
    let first = store.book(someone.account_id, &subsidised(m.menu, 3, "08:00", 3, None), None).await.unwrap().order;
    let _ = first;
    let (code, zh, _) = refusal(store.book(someone.account_id, &subsidised(m.menu, 3, "12:00", 3, None), None).await);
    assert_eq!(code, "subsidy:over_quota");
    assert!(zh.contains("剩余2小时") && zh.contains("本单需3小时"), "{zh}");
    // Two hours fit the quota, but ¥90 more passes the ¥200 budget (¥135 spent).
    let (code, zh, _) = refusal(store.book(someone.account_id, &subsidised(m.menu, 3, "12:00", 2, None), None).await);
    assert_eq!(code, "subsidy:over_budget");
    assert!(zh.contains("剩余¥65.00"), "{zh}");
    // A budget below what is spent is refused; raising it lets the order through.
    assert_eq!(
        refusal(store.set_subsidy_budget(&o.regulator, &district(), year(), 13_000).await).0,
        "amount:below_spent"
    );
    store.set_subsidy_budget(&o.regulator, &district(), year(), 30_000).await.unwrap();
    let second = store.book(someone.account_id, &subsidised(m.menu, 3, "12:00", 2, None), None).await.unwrap().order;
    // Refunded in full and then cancelled: no service, so its hours come back.
    assert!(store.refund_order(second.id, &m.agency_admin, 9000, "未上门").await.unwrap().is_none());
    store.cancel_order(second.id, &someone, "").await.unwrap();
    let events = store.order_events(second.id).await.unwrap();
    assert!(events.iter().any(|e| e.step == "refund" && e.reason.contains("未上门")), "the reason is kept");
    let used = store.live_grant_of_resident(someone.account_id, year()).await.unwrap().unwrap();
    assert_eq!(used.used, 180, "three hours of the first order, none of the second");
    // Cancelled late (a 20% fee the district pays): a fifth of its two hours stays used, rounded up.
    let late = store.book(someone.account_id, &subsidised(m.menu, 4, "15:00", 2, None), None).await.unwrap().order;
    store.confirm_order(late.id, &m.agency_admin).await.unwrap();
    // Its day has come closer: it starts in two hours.
    let soon = chrono::Utc::now() + chrono::Duration::hours(2);
    let moved = jiazheng_store::testing::run_sql(
        store,
        &format!(
            "UPDATE orders SET starts_at = '{}', ends_at = '{}' WHERE id = {}",
            soon.format("%Y-%m-%dT%H:%M:%S%.fZ"),
            (soon + chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S%.fZ"),
            late.id
        ),
    )
    .await
    .unwrap();
    assert_eq!(moved, 1);
    store.cancel_order(late.id, &someone, "").await.unwrap();
    let row = store.order(late.id).await.unwrap();
    assert_eq!(row.cancel_fee_fen, Some(1800));
    let live = store.live_grant_of_resident(someone.account_id, year()).await.unwrap().unwrap();
    assert_eq!(live.used, 180 + 24, "the fee's share of 120 minutes");
    // Ended and registered again, the person keeps what they used.
    store.revoke_subsidy_grant(live.id, &o.staff, "类别变更").await.unwrap();
    let again = grant(&m, &o, "13700000102", "hours", "5").await;
    assert_eq!(store.subsidy_grant(again, &o.staff).await.unwrap().used, 204);
    assert_balanced(&m).await;
}

#[tokio::test]
async fn bookings_at_once_never_spend_past_the_quota() {
    let m = market(1, 1).await;
    let store = m.db.store.clone();
    let o = office(&m).await;
    store.set_subsidy_budget(&o.regulator, &district(), year(), 1_000_000).await.unwrap();
    // ¥300: three orders of ¥90, not four.
    grant(&m, &o, "13700000103", "money", "300").await;
    let someone = resident(&store, "13700000103").await;
    let mut tasks = Vec::new();
    for i in 0..12_i64 {
        let store = store.clone();
        let request = subsidised(m.menu, 3 + i / 4, ["08:00", "11:00", "14:00", "17:00"][(i % 4) as usize], 2, None);
        let who = someone.account_id;
        tasks.push(tokio::spawn(async move { store.book(who, &request, None).await }));
    }
    let mut booked = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => booked += 1,
            Err(StoreError::Invalid(errors)) => {
                assert!(matches!(errors.0[0].code, "over_quota" | "too_many_waiting"), "{:?}", errors.0[0])
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(booked, 3);
    assert_eq!(store.balance(budget_account()).await.unwrap(), 27_000);
    assert_balanced(&m).await;
}

#[tokio::test]
async fn a_grant_is_only_for_its_district_its_year_and_whom_it_names() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let o = office(&m).await;
    // No budget yet: nobody can be registered against it.
    let draft = form("13700000104", "money", "100").parse(&district(), today()).unwrap();
    assert_eq!(
        refusal(store.register_subsidy_grant(&o.staff, &draft, PDF, EvidenceType::Pdf).await).0,
        "year:no_budget"
    );
    store.set_subsidy_budget(&o.regulator, &district(), year(), 1_000_000).await.unwrap();
    let id = grant(&m, &o, "13700000104", "money", "100").await;
    // One live grant per person and year.
    assert_eq!(
        refusal(store.register_subsidy_grant(&o.staff, &draft, PDF, EvidenceType::Pdf).await).0,
        "id_number:already_registered"
    );
    // The same person under another phone is the same person.
    let other_phone = form("13700000199", "money", "100").parse(&district(), today()).unwrap();
    assert_eq!(
        refusal(store.register_subsidy_grant(&o.staff, &other_phone, PDF, EvidenceType::Pdf).await).0,
        "id_number:already_registered"
    );
    // A community or district that does not exist is a field error, not a failure.
    let nowhere = GrantForm { community: "220102999999".into(), ..form("13700000198", "money", "1") }
        .parse(&district(), today())
        .unwrap();
    assert_eq!(
        refusal(store.register_subsidy_grant(&o.staff, &nowhere, PDF, EvidenceType::Pdf).await).0,
        "community:no_such_community"
    );
    let city = account(store, "city1", Role::Regulator, &Scope::City).await;
    let beijing = DivisionCode::parse("110101000000").unwrap();
    assert_eq!(refusal(store.set_subsidy_budget(&city, &beijing, year(), 100).await).0, "district:no_such_district");
    // Only staff register, and a regulator of another district sets no budget here.
    assert!(matches!(
        store.register_subsidy_grant(&o.regulator, &draft, PDF, EvidenceType::Pdf).await,
        Err(StoreError::Refused(_))
    ));
    let elsewhere = Scope::District(DivisionCode::parse("220104000000").unwrap());
    let other_staff = account(store, "staff2", Role::CommunityStaff, &elsewhere).await;
    let other_regulator = account(store, "reg2", Role::Regulator, &elsewhere).await;
    assert!(store.set_subsidy_budget(&other_regulator, &district(), year(), 1).await.is_err());
    // Another district's staff and regulator find nothing; the agency and the resident neither.
    for who in [&other_staff, &other_regulator, &m.agency_admin] {
        assert!(matches!(store.subsidy_grant(id, who).await, Err(StoreError::NotFound)));
        assert!(matches!(store.subsidy_evidence(id, who).await, Err(StoreError::NotFound)));
    }
    assert!(matches!(store.revoke_subsidy_grant(id, &other_staff, "搬走").await, Err(StoreError::NotFound)));
    let (kind, bytes) = store.subsidy_evidence(id, &o.regulator).await.unwrap();
    assert_eq!((kind, bytes.as_slice()), (EvidenceType::Pdf, PDF), "the evidence comes back as uploaded");

    // Someone else's phone gets nothing from the grant.
    let stranger = resident(store, "13700000105").await;
    let (code, _, _) = refusal(store.book(stranger.account_id, &subsidised(m.menu, 3, "08:00", 2, None), None).await);
    assert_eq!(code, "subsidy:no_subsidy");
    // The named resident living outside the district is refused too.
    let someone = resident(store, "13700000104").await;
    store.set_resident_address(someone.account_id, "220104001001", "朝阳小区1栋").await.unwrap();
    let (code, _, _) = refusal(store.book(someone.account_id, &subsidised(m.menu, 3, "08:00", 2, None), None).await);
    assert_eq!(code, "subsidy:outside_district");
    store.set_resident_address(someone.account_id, super::COMMUNITY, "华阳小区3栋").await.unwrap();
    // Ended: no new order draws on it.
    assert_eq!(refusal(store.revoke_subsidy_grant(id, &o.staff, " ").await).0, "reason:required");
    store.revoke_subsidy_grant(id, &o.staff, "已迁出本区").await.unwrap();
    let (code, _, _) = refusal(store.book(someone.account_id, &subsidised(m.menu, 3, "08:00", 2, None), None).await);
    assert_eq!(code, "subsidy:no_subsidy");
    // Not subsidised, the same resident books and pays as anyone.
    assert!(store.book(someone.account_id, &request(m.menu, slot(3, "08:00", 2), None), None).await.is_ok());
}

#[tokio::test]
async fn the_statement_lists_the_months_orders_and_the_audit_finds_odd_days() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let o = office(&m).await;
    store.set_subsidy_budget(&o.regulator, &district(), year(), 1_000_000).await.unwrap();
    grant(&m, &o, "13700000106", "money", "2000").await;
    let someone = resident(store, "13700000106").await;
    let worker = m.workers[0];
    // The same worker three times on one day at one home.
    for time in ["08:00", "11:00", "14:00"] {
        store.book(someone.account_id, &subsidised(m.menu, 3, time, 2, Some(worker)), None).await.unwrap();
    }
    // And, paid by another household, right as the last visit ends: no time to get there.
    let other = resident(store, "13700000107").await;
    store.set_resident_address(other.account_id, "220102001002", "另一小区").await.unwrap();
    store.book(other.account_id, &request(m.menu, slot(3, "16:00", 2), Some(worker)), None).await.unwrap();
    // Orders with a chosen worker carry that worker once the agency confirms.
    let all = store
        .order_board(m.agency, jiazheng_store::market::orders::Board::All, jiazheng_store::PageRequest::new(None, None))
        .await
        .unwrap();
    for order in &all.items {
        store.confirm_order(order.id, &m.agency_admin).await.unwrap();
    }

    let first = (today() + chrono::Duration::days(3)).with_day(1).unwrap();
    let statement = store.subsidy_statement(&StatementScope::District(DISTRICT.into()), first).await.unwrap();
    assert_eq!(statement.lines.len(), 3);
    assert_eq!(statement.lines.iter().map(|l| l.charged_fen()).sum::<i64>(), 27_000);
    let found = audit(&statement.services);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(matches!(&found[0], Oddity::SamePairOften { orders, .. } if orders.len() == 3));
    assert!(matches!(found[1], Oddity::BookedElsewhere { .. }));
    // The agency's own statement holds the same orders; another district's holds none.
    let agency = store.subsidy_statement(&StatementScope::Agency(m.agency), first).await.unwrap();
    assert_eq!(agency.lines.len(), 3);
    let elsewhere = store.subsidy_statement(&StatementScope::District("220104000000".into()), first).await.unwrap();
    assert!(elsewhere.lines.is_empty() && elsewhere.services.is_empty());
    let file =
        jiazheng_store::excel::subsidy_statement_xlsx("t", &statement.lines, false, &[("甲".into(), "a".into())])
            .unwrap();
    assert!(file.starts_with(b"PK"), "an xlsx file");
}
