//! Community operations on a real database (SQLite, or PostgreSQL when JIAZHENG_TEST_DATABASE
//! is a URL): the last unit of a tool lent once however many ask at once, duty that never
//! overlaps for one worker across points, another agency's point not found, 家政驿站 seen and
//! confirmed only inside the staff's area, volunteer hours counted once confirmed, and stable
//! relationships on a hand-made set of orders.

use chrono::{Duration, NaiveDate, Utc};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::operations::{Borrower, CheckoutDraft, DutyDraft, ToolDraft};
use jiazheng_core::community::volunteer::{JoinDraft, ProjectForm, StationForm, VolunteerEventForm, VolunteerJoinForm};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::{Mobile, ResidentId};
use jiazheng_core::market::slot::{Shift, Slot, SlotForm, day_start};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::service_point::ServicePointForm;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_store::community::volunteer::Participant;
use jiazheng_store::market::orders::BookingRequest;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::{TestDb, agency, run_sql};
use jiazheng_store::{Store, StoreError};

const HUAYANG: &str = "220102001001";
const HENGAN: &str = "220102001002";

async fn account(store: &Store, name: &str, role: Role, scope: &Scope) -> Principal {
    let new =
        jiazheng_store::accounts::NewAccount::scoped(name.into(), name.into(), "password-123".into(), role, scope);
    let id = store.create_account(&new).await.unwrap();
    Principal { account_id: id, role, scope: scope.clone() }
}

async fn workers(store: &Store, agency_id: i64, first: u16, n: u16) -> Vec<i64> {
    let drafts: Vec<_> = (first..first + n)
        .map(|seq| {
            WorkerForm {
                id_number: ResidentId::compose(
                    "220102",
                    NaiveDate::from_ymd_opt(1981, 3, 1).unwrap() + Duration::days(seq.into()),
                    seq,
                ),
                name: format!("李{}", ["芳", "静", "敏", "燕"][usize::from(seq) % 4]),
                phone: format!("137{seq:08}"),
                education_level: "college".into(),
                education_related: "否".into(),
                home_street: "220102001".into(),
                services: vec!["cleaning".into()],
                ..Default::default()
            }
            .parse(beijing_today())
            .unwrap()
        })
        .collect();
    let binding = Some(NewBinding { agency_id, kind: BindingKind::Employee, active: true });
    let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
    store.insert_workers(&rows).await.unwrap()
}

async fn point(store: &Store, agency_id: i64, name: &str, community: &str) -> i64 {
    let form = ServicePointForm {
        name: name.into(),
        community_code: community.into(),
        address: "人民大街100号".into(),
        opening_hours: "08:00-18:00".into(),
        serves: vec![],
        ..Default::default()
    };
    store.create_service_point(agency_id, &form.parse().unwrap()).await.unwrap()
}

fn at(days: i64, from: &str, to: &str) -> Slot {
    let shift = Shift::parse(from, to).unwrap();
    let start = day_start(beijing_today() + Duration::days(days));
    Slot { start: start + Duration::minutes(shift.from.into()), end: start + Duration::minutes(shift.to.into()) }
}

#[tokio::test]
async fn of_sixteen_check_outs_of_the_last_unit_exactly_one_wins_and_a_return_frees_it() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let a = agency(&store, "MC0T0001").await;
    let admin = account(&store, "ops_a", Role::AgencyAdmin, &Scope::Agency(a)).await;
    let people = workers(&store, a, 1, 2).await;
    let p = point(&store, a, "华阳社区服务站", HUAYANG).await;
    let tool = store.add_tool(p, a, &ToolDraft { name: "蒸汽清洁机".into(), count: 1 }).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let borrower =
            if i % 2 == 0 { Borrower::Worker(people[i % 2]) } else { Borrower::Volunteer(format!("志愿者{i}")) };
        let draft = CheckoutDraft { borrower, due_on: beijing_today() + Duration::days(1) };
        tasks.push(tokio::spawn(async move { store.check_out_tool(p, tool, a, admin.account_id, &draft).await }));
    }
    let (mut won, mut refused) = (Vec::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(loan) => won.push(loan),
            Err(StoreError::Conflict { what: "tool_all_out", .. }) => refused += 1,
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!((won.len(), refused), (1, 15));
    let ops = store.point_operations(p, a).await.unwrap();
    assert_eq!((ops.tools[0].out_count, ops.loans.len()), (1, 1));
    // Back, then out again; a second return of the same loan is refused.
    store.return_tool(p, won[0], a, admin.account_id).await.unwrap();
    assert!(matches!(
        store.return_tool(p, won[0], a, admin.account_id).await,
        Err(StoreError::Conflict { what: "already_returned", .. })
    ));
    let again = CheckoutDraft { borrower: Borrower::Worker(people[0]), due_on: beijing_today() - Duration::days(1) };
    store.check_out_tool(p, tool, a, admin.account_id, &again).await.unwrap();
    let overdue = store.overdue_loans(a, beijing_today()).await.unwrap();
    assert_eq!(overdue.len(), 1, "due yesterday and not back");
    assert!(overdue[0].is_overdue(beijing_today()));
}

#[tokio::test]
async fn duty_never_overlaps_for_one_worker_across_points_and_only_own_workers_and_points_count() {
    let db = TestDb::new().await;
    let store = db.store.clone();
    let a = agency(&store, "MC0T0002").await;
    let b = agency(&store, "MC0T0003").await;
    let admin = account(&store, "ops_b", Role::AgencyAdmin, &Scope::Agency(a)).await;
    let mine = workers(&store, a, 11, 1).await[0];
    let theirs = workers(&store, b, 12, 1).await[0];
    let (p1, p2) = (point(&store, a, "华阳站", HUAYANG).await, point(&store, a, "恒安站", HENGAN).await);
    let other_point = point(&store, b, "别家的站", HUAYANG).await;
    let duty = |slot| DutyDraft { worker_id: mine, slot };
    store.add_duty(p1, a, admin.account_id, &duty(at(2, "08:00", "12:00"))).await.unwrap();
    match store.add_duty(p2, a, admin.account_id, &duty(at(2, "11:00", "13:00"))).await {
        Err(StoreError::Overlap { start, end }) => assert_eq!(Slot { start, end }, at(2, "08:00", "12:00")),
        other => panic!("expected an overlap, got {other:?}"),
    }
    store.add_duty(p2, a, admin.account_id, &duty(at(2, "12:00", "14:00"))).await.unwrap();
    // Sixteen at once for the same worker and overlapping times: one wins.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let slot = at(5, ["09:00", "09:30", "10:00", "10:30"][i % 4], "12:00");
        let point = if i % 2 == 0 { p1 } else { p2 };
        tasks.push(tokio::spawn(async move {
            store.add_duty(point, a, admin.account_id, &DutyDraft { worker_id: mine, slot }).await
        }));
    }
    let mut results = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => results.0 += 1,
            Err(StoreError::Overlap { start, .. }) => {
                assert!(start > Utc::now(), "the overlap names the duty taken");
                results.1 += 1;
            }
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!(results, (1, 15));
    // Another agency's worker, another agency's point.
    match store.add_duty(p1, a, admin.account_id, &DutyDraft { worker_id: theirs, slot: at(3, "08:00", "09:00") }).await
    {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "worker_id"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let refused = store.add_duty(other_point, a, admin.account_id, &duty(at(3, "08:00", "09:00"))).await;
    assert!(matches!(refused, Err(StoreError::NotFound)));
    assert!(matches!(store.point_operations(other_point, a).await, Err(StoreError::NotFound)));
    let tool = ToolDraft { name: "吸尘器".into(), count: 2 };
    assert!(matches!(store.add_tool(other_point, a, &tool).await, Err(StoreError::NotFound)));
    store.add_tool(p1, a, &tool).await.unwrap();
    match store.add_tool(p1, a, &tool).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "tool_exists"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(store.set_point_hours(other_point, a, &[]).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn a_station_is_seen_and_confirmed_only_inside_the_staffs_area_and_either_side_ends_it() {
    let db = TestDb::new().await;
    let store = &db.store;
    let provider = store
        .create_provider(
            &jiazheng_core::workforce::records::ProviderForm {
                kind: "training_base".into(),
                name: "长春市春城家政职业培训学校".into(),
                code: "4122010209".into(),
                district: "220102".into(),
                teaches: "岗前培训".into(),
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap();
    let school = account(store, "school1", Role::School, &Scope::Provider(provider)).await;
    let nanguan =
        account(store, "staff_ng", Role::CommunityStaff, &Scope::District(DivisionCode::parse("220102").unwrap()))
            .await;
    let street = account(
        store,
        "staff_street",
        Role::CommunityStaff,
        &Scope::District(DivisionCode::parse("220102001").unwrap()),
    )
    .await;
    let chaoyang =
        account(store, "staff_cy", Role::CommunityStaff, &Scope::District(DivisionCode::parse("220104").unwrap()))
            .await;
    let form = StationForm {
        name: "春城家政驿站".into(),
        community: HUAYANG.into(),
        address: "华阳街8号".into(),
        services: vec!["elderly_care".into()],
        hours: "周一至周五 09:00-17:00".into(),
    };
    let id = store.propose_station(&school, &form.parse().unwrap()).await.unwrap();
    assert!(store.active_stations(HUAYANG).await.unwrap().is_empty(), "waiting for the community");
    assert!(store.stations_in_area(&DivisionCode::parse("220104").unwrap()).await.unwrap().is_empty());
    assert!(matches!(store.confirm_station(id, &chaoyang).await, Err(StoreError::NotFound)));
    assert!(matches!(store.end_station(id, &chaoyang).await, Err(StoreError::NotFound)));
    assert!(matches!(store.station(id, &chaoyang).await, Err(StoreError::NotFound)));
    assert!(matches!(store.confirm_station(id, &school).await, Err(StoreError::Refused(_))));
    // A staff member whose area is the street holds the community too.
    store.confirm_station(id, &street).await.unwrap();
    assert!(matches!(store.confirm_station(id, &nanguan).await, Err(StoreError::Conflict { .. })));
    assert_eq!(store.active_stations(HUAYANG).await.unwrap().len(), 1);
    store.end_station(id, &school).await.unwrap();
    let ended = store.station(id, &nanguan).await.unwrap();
    assert_eq!((ended.status.as_str(), ended.ended_side.as_deref()), ("ended", Some("school")));
    assert!(store.active_stations(HUAYANG).await.unwrap().is_empty());

    // Volunteer service: a project of 南关区 with an event; agencies and schools join.
    let project =
        ProjectForm {
            kind: "志愿服务".into(), title: "家政志愿服务周".into(), description: "上门保洁".into()
        };
    let project = store.create_volunteer_project(&nanguan, &project.parse().unwrap()).await.unwrap();
    assert!(matches!(store.volunteer_project(project, &chaoyang).await, Err(StoreError::NotFound)));
    // A street's staff see the district's project (its events may reach the street).
    assert_eq!(store.volunteer_project(project, &street).await.unwrap().id, project);
    assert_eq!(store.volunteer_projects(&DivisionCode::parse("220102001").unwrap()).await.unwrap().len(), 1);
    assert!(store.volunteer_projects(&DivisionCode::parse("220104").unwrap()).await.unwrap().is_empty());
    let event = |community: &str| VolunteerEventForm {
        community: community.into(),
        date: (beijing_today() - Duration::days(1)).to_string(),
        from: "09:00".into(),
        to: "11:00".into(),
        description: "为独居老人保洁".into(),
    };
    match store.add_volunteer_event(project, &nanguan, &event("220104001001").parse(beijing_today()).unwrap()).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "community"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let e =
        store.add_volunteer_event(project, &nanguan, &event(HUAYANG).parse(beijing_today()).unwrap()).await.unwrap();
    let a = agency(store, "MC0T0004").await;
    let admin = account(store, "ops_c", Role::AgencyAdmin, &Scope::Agency(a)).await;
    // Nobody gives more hours than the two the event lasts.
    let too_long = VolunteerJoinForm { people: "4".into(), hours: "2.5".into() }.parse().unwrap();
    match store.join_volunteer_event(e, &admin, &too_long).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "longer_than_event"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let join = VolunteerJoinForm { people: "4".into(), hours: "2".into() }.parse().unwrap();
    let joined = store.join_volunteer_event(e, &admin, &join).await.unwrap();
    // Joining again changes the figures until the community confirms.
    let again = store.join_volunteer_event(e, &admin, &JoinDraft { people: 5, minutes_each: 120 }).await.unwrap();
    assert_eq!(joined, again);
    let by_school = store.join_volunteer_event(e, &school, &JoinDraft { people: 2, minutes_each: 60 }).await.unwrap();
    assert_eq!(store.volunteer_totals(Participant::Agency(a)).await.unwrap().minutes, 0, "not confirmed yet");
    assert!(matches!(store.confirm_participation(joined, &chaoyang).await, Err(StoreError::NotFound)));
    store.confirm_participation(joined, &nanguan).await.unwrap();
    store.confirm_participation(by_school, &street).await.unwrap();
    assert!(matches!(
        store.join_volunteer_event(e, &admin, &join).await,
        Err(StoreError::Conflict { what: "already_joined", .. })
    ));
    let totals = store.volunteer_totals(Participant::Agency(a)).await.unwrap();
    assert_eq!((totals.events, totals.minutes), (1, 600));
    let totals = store.volunteer_totals(Participant::Provider(provider)).await.unwrap();
    assert_eq!((totals.events, totals.minutes), (1, 120));
    let here = store.community_volunteer_events(HUAYANG).await.unwrap();
    assert_eq!((here.len(), here[0].participants, here[0].minutes), (1, 2, 720));
}

/// Copies a booked order as a completed (or other) one: resident, agency, worker, community,
/// status and start time changed, the rest (menu, price, address) kept.
/// One hand-made order: resident, agency, worker, community, status, day of January 2026.
type Made<'a> = (i64, i64, i64, &'a str, &'a str, u32);

async fn order_like(store: &Store, template: i64, (resident, agency, worker, community, status, day): Made<'_>) {
    let start = format!("2026-01-{day:02}T01:00:00+00:00");
    let end = format!("2026-01-{day:02}T03:00:00+00:00");
    let sql = format!(
        "INSERT INTO orders (resident_account_id, agency_id, menu_item_id, price_id, item, mode, level, unit_price_fen,
             quantity, total_fen, free_cancel_hours, cancel_fee_percent, starts_at, ends_at, requested_worker_id,
             worker_id, community_code, address_cipher, note, status, version, created_at, updated_at)
         SELECT {resident}, {agency}, menu_item_id, price_id, item, mode, level, unit_price_fen, quantity, total_fen,
             free_cancel_hours, cancel_fee_percent, '{start}', '{end}', NULL, {worker}, '{community}', address_cipher,
             note, '{status}', 1, created_at, updated_at FROM orders WHERE id = {template}"
    );
    assert_eq!(run_sql(store, &sql).await.unwrap(), 1);
}

#[tokio::test]
async fn the_repeat_share_counts_residents_whose_latest_order_had_a_worker_from_before() {
    let db = TestDb::new().await;
    let store = &db.store;
    let a = agency(store, "MC0T0005").await;
    let b = agency(store, "MC0T0006").await;
    let admin = account(store, "ops_d", Role::AgencyAdmin, &Scope::Agency(a)).await;
    let w = workers(store, a, 21, 3).await;
    let menu = jiazheng_store::testing::hourly_cleaning();
    let menu = store.publish_menu_item(a, &menu, admin.account_id).await.unwrap();
    let mut residents = Vec::new();
    for n in 1..=8 {
        let (id, _) = store.resident_by_phone(&Mobile::parse(&format!("1360000000{n}")).unwrap()).await.unwrap();
        store.set_resident_address(id, HUAYANG, "华阳小区1栋").await.unwrap();
        residents.push(id);
    }
    // One real booking, as the row the hand-made orders copy.
    let slot =
        SlotForm { date: (beijing_today() + Duration::days(3)).to_string(), time: "09:00".into(), hours: "2".into() }
            .parse(jiazheng_core::market::menu::Unit::Hours { min_hours: 1 }, Utc::now())
            .unwrap();
    let request = BookingRequest {
        menu_item_id: menu.id,
        slot,
        worker_id: None,
        note: String::new(),
        expected_price_fen: None,
        expected_version: None,
        subsidised: false,
    };
    let template = store.book(residents[0], &request, None).await.unwrap().order.id;
    let r = |n: usize| residents[n - 1];
    let (w1, w2, w3) = (w[0], w[1], w[2]);
    // 华阳: R1 kept w1; R2 changed to w2; R3 came back to w2 after w3; R4 one order only;
    // R6 one completed, one cancelled; R7 completed then rated with w1.
    for (resident, worker, status, day) in [
        (1, w1, "completed", 5),
        (1, w1, "completed", 12),
        (2, w1, "completed", 5),
        (2, w2, "completed", 12),
        (3, w2, "completed", 3),
        (3, w3, "completed", 10),
        (3, w2, "rated", 20),
        (4, w1, "completed", 5),
        (6, w1, "completed", 5),
        (6, w1, "cancelled", 12),
        (7, w3, "completed", 6),
        (7, w3, "rated", 9),
    ] {
        order_like(store, template, (r(resident), a, worker, HUAYANG, status, day)).await;
    }
    // R5 in 恒安 with w1 twice; R8 with agency B in 华阳, twice w1.
    order_like(store, template, (r(5), a, w1, HENGAN, "completed", 4)).await;
    order_like(store, template, (r(5), a, w1, HENGAN, "completed", 8)).await;
    order_like(store, template, (r(8), b, w1, HUAYANG, "completed", 4)).await;
    order_like(store, template, (r(8), b, w2, HUAYANG, "completed", 8)).await;

    let here = store.repeat_shares(Some(HUAYANG), None).await.unwrap();
    let of = |agency: i64| here.iter().find(|s| s.agency_id == agency).unwrap();
    assert_eq!((of(a).residents, of(a).kept, of(a).percent()), (4, 3, 75), "R1, R2, R3, R7; R2 changed worker");
    assert_eq!((of(b).residents, of(b).kept, of(b).percent()), (1, 0, 0));
    let agency_a = store.repeat_shares(None, Some(a)).await.unwrap();
    assert_eq!(agency_a.len(), 2);
    let hengan = agency_a.iter().find(|s| s.community_code == HENGAN).unwrap();
    assert_eq!((hengan.residents, hengan.kept), (1, 1));
    assert!(store.repeat_shares(Some("220104001001"), None).await.unwrap().is_empty());
}
