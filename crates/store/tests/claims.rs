//! Subsidy claims and rectification orders on a real database (SQLite, or PostgreSQL when
//! JIAZHENG_TEST_DATABASE is a URL): each line checked against the platform's records, no
//! worker-month claimed twice (the second claim names the first; of claims racing, one wins;
//! rejecting frees the month), 5,000 worker-months checked line by line, and orders that move only
//! forward, refuse reports once closed and count overdue.

use chrono::{Duration, NaiveDate};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::credit::casework::{ActionForm, ComplaintAction, ComplaintForm};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::oversight::claims::{ClaimDecisionForm, ClaimForm, ClaimKind, ClaimStatus, MonthRange};
use jiazheng_core::oversight::rectification::{OrderForm, ReviewForm};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::service_point::ServicePointForm;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_core::workforce::records::{CertificateDraft, TrainingDraft};
use jiazheng_core::workforce::{CertificateKind, CourseKind, CourseMode, SkillLevel, Trade};
use jiazheng_store::credit::casework::Actor;
use jiazheng_store::oversight::Viewing;
use jiazheng_store::oversight::claims::Submitted;
use jiazheng_store::oversight::rectification::MAX_WAITING_REPORTS;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::{TestDb, agency, run_sql};
use jiazheng_store::workforce::Recorder;
use jiazheng_store::{PageRequest, Store, StoreError};

async fn account(store: &Store, name: &str, role: Role, scope: &Scope) -> Principal {
    let new =
        jiazheng_store::accounts::NewAccount::scoped(name.into(), name.into(), "password-123".into(), role, scope);
    let id = store.create_account(&new).await.unwrap();
    Principal { account_id: id, role, scope: scope.clone() }
}

fn district(code: &str) -> Scope {
    Scope::District(DivisionCode::parse(code).unwrap())
}

const NAME_CHARS: [char; 10] = ['芳', '静', '敏', '燕', '丽', '娟', '霞', '梅', '兰', '英'];

/// `n` employee-based workers of `agency_id`, numbered from `first`.
async fn workers(store: &Store, agency_id: i64, first: u16, n: u16) -> Vec<i64> {
    let drafts: Vec<_> = (first..first + n)
        .map(|seq| {
            WorkerForm {
                id_number: ResidentId::compose(
                    "220102",
                    NaiveDate::from_ymd_opt(1975, 3, 1).unwrap() + Duration::days(seq.into()),
                    seq,
                ),
                name: format!(
                    "赵{}",
                    seq.to_string().chars().map(|d| NAME_CHARS[d as usize - '0' as usize]).collect::<String>()
                ),
                phone: format!("136{seq:08}"),
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

/// The agency's bindings began on 1 January 2024, and it insures every worker from `since`.
async fn employed_and_insured(store: &Store, agency_id: i64, since: &str) {
    run_sql(
        store,
        &format!("UPDATE bindings SET started_at = '2024-01-01T00:00:00+00:00' WHERE agency_id = {agency_id}"),
    )
    .await
    .unwrap();
    run_sql(
        store,
        &format!(
            "INSERT INTO social_insurance (worker_id, agency_id, enrolled, since, updated_at)
             SELECT worker_id, agency_id, TRUE, '{since}', '2024-01-01T00:00:00+00:00' FROM bindings
             WHERE agency_id = {agency_id}"
        ),
    )
    .await
    .unwrap();
}

fn claim(kind: &str, from: &str, to: &str, items: &[i64]) -> jiazheng_core::oversight::claims::ClaimDraft {
    ClaimForm {
        kind: kind.into(),
        from: from.into(),
        to: to.into(),
        items: items.iter().map(|i| i.to_string()).collect(),
        note: String::new(),
    }
    .parse(beijing_today())
    .unwrap()
}

fn verdict(decision: &str, lines: &[i64], reason: &str) -> jiazheng_core::oversight::claims::ClaimVerdict {
    ClaimDecisionForm {
        decision: decision.into(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
        reason: reason.into(),
    }
    .parse()
    .unwrap()
}

struct City {
    db: TestDb,
    agency: i64,
    admin: Principal,
    nanguan: Principal,
    chaoyang: Principal,
    city: Principal,
}

async fn city(body: &str) -> City {
    let db = TestDb::new().await;
    let store = &db.store;
    let agency = agency(store, body).await;
    let admin = account(store, &format!("admin_{body}"), Role::AgencyAdmin, &Scope::Agency(agency)).await;
    let nanguan = account(store, "nanguan", Role::Regulator, &district("220102000000")).await;
    let chaoyang = account(store, "chaoyang", Role::Regulator, &district("220104000000")).await;
    let city = account(store, "city", Role::Regulator, &Scope::City).await;
    for kind in ClaimKind::ALL {
        store.set_claim_standard(&city, *kind, 30_000).await.unwrap();
    }
    City { db, agency, admin, nanguan, chaoyang, city }
}

fn created(s: Submitted) -> i64 {
    match s {
        Submitted::Created(id) => id,
        Submitted::Taken(clash) => panic!("taken: {clash:?}"),
    }
}

#[tokio::test]
async fn a_worker_month_is_claimed_once_the_second_claim_names_the_first_and_rejecting_frees_it() {
    let c = city("MC1A0001").await;
    let store = &c.db.store;
    let people = workers(store, c.agency, 1, 3).await;
    employed_and_insured(store, c.agency, "2025-01-01").await;
    // The third worker's insurance began in mid-March: January and February do not match.
    run_sql(store, &format!("UPDATE social_insurance SET since = '2025-03-15' WHERE worker_id = {}", people[2]))
        .await
        .unwrap();

    // Only a district or city regulator of the city may set standards; a district one is refused.
    assert!(matches!(
        store.set_claim_standard(&c.nanguan, ClaimKind::Training, 100).await,
        Err(StoreError::Refused(_))
    ));

    let first = created(
        store.submit_claim(&c.admin, &claim("social_insurance", "2025-01", "2025-03", &people), None).await.unwrap(),
    );
    let row = store.subsidy_claim(first, &c.admin).await.unwrap();
    assert_eq!((row.lines, row.matching, row.claimed_fen), (9, 7, 9 * 30_000));
    assert_eq!(row.status, "submitted");
    let mismatched = store.claim_lines(&row, true, PageRequest::default()).await.unwrap();
    assert_eq!(mismatched.total, 2);
    assert!(mismatched.items.iter().all(|l| l.subject_id == people[2] && l.problems == "not_insured"));
    assert_eq!(mismatched.items.iter().map(|l| l.unit.as_str()).collect::<Vec<_>>(), ["2025-01", "2025-02"]);
    let counts = store.claim_problem_counts(first).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0].1, 2);

    // February again for the second worker: refused, naming the first claim and its date.
    match store.submit_claim(&c.admin, &claim("social_insurance", "2025-02", "2025-04", &people[1..2]), None).await {
        Ok(Submitted::Taken(clash)) => {
            assert_eq!(clash.claim_id, first);
            assert_eq!(clash.number, row.number());
            assert_eq!(clash.submitted_on, beijing_today());
            assert_eq!(clash.unit, "2025-02");
            assert!(clash.own && clash.subject_name.starts_with('赵'), "{clash:?}");
        }
        other => panic!("expected the month to be taken, got {other:?}"),
    }
    assert_eq!(store.subsidy_claims(&Viewing::Agency(c.agency), None, PageRequest::default()).await.unwrap().total, 1);

    // Another agency cannot claim these workers at all; nor see the claim.
    let other = agency(store, "MC1A0002").await;
    let other_admin = account(store, "admin_other", Role::AgencyAdmin, &Scope::Agency(other)).await;
    match store.submit_claim(&other_admin, &claim("social_insurance", "2025-05", "2025-05", &people[..1]), None).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "not_yours"),
        other => panic!("expected not_yours, got {other:?}"),
    }
    assert!(matches!(store.subsidy_claim(first, &other_admin).await, Err(StoreError::NotFound)));
    // Another district's regulator neither sees nor decides it; the city's sees it.
    assert!(matches!(store.subsidy_claim(first, &c.chaoyang).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.decide_claim(first, &c.chaoyang, &verdict("matching", &[], "")).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.subsidy_claims(&Viewing::of(&c.chaoyang).unwrap(), None, PageRequest::default()).await.unwrap().total,
        0
    );
    assert_eq!(
        store.subsidy_claims(&Viewing::of(&c.city).unwrap(), None, PageRequest::default()).await.unwrap().total,
        1
    );

    // Approving every matching line rejects the two that do not, and frees their months.
    let decided = store.decide_claim(first, &c.nanguan, &verdict("matching", &[], "")).await.unwrap();
    assert_eq!(decided.status, ClaimStatus::PartlyApproved.as_str());
    assert_eq!((decided.approved_fen, decided.approved_lines), (Some(7 * 30_000), 7));
    assert!(matches!(
        store.decide_claim(first, &c.nanguan, &verdict("reject", &[], "再审")).await,
        Err(StoreError::Conflict { what: "claim_decided", .. })
    ));
    let again =
        store.submit_claim(&c.admin, &claim("social_insurance", "2025-01", "2025-02", &people[2..]), None).await;
    let second = created(again.unwrap());
    // The approved months stay held.
    assert!(matches!(
        store.submit_claim(&c.admin, &claim("social_insurance", "2025-01", "2025-01", &people[..1]), None).await,
        Ok(Submitted::Taken(clash)) if clash.claim_id == first
    ));
    // Rejecting the whole claim frees its months too.
    let rejected = store.decide_claim(second, &c.city, &verdict("reject", &[], "参保记录不符")).await.unwrap();
    assert_eq!((rejected.status.as_str(), rejected.approved_fen), ("rejected", Some(0)));
    assert_eq!(rejected.decision_reason.as_deref(), Some("参保记录不符"));
    created(
        store
            .submit_claim(&c.admin, &claim("social_insurance", "2025-01", "2025-02", &people[2..]), None)
            .await
            .unwrap(),
    );
}

/// An agency merely tied to a worker (an intermediary binding, no insurance) may file lines that
/// do not match, but they hold nothing: the employer's claim of the same months still lands, and
/// the regulator cannot approve the lines that do not match by ticking them.
#[tokio::test]
async fn lines_that_do_not_match_hold_no_worker_month() {
    let c = city("MC1A0010").await;
    let store = &c.db.store;
    let people = workers(store, c.agency, 1, 1).await;
    employed_and_insured(store, c.agency, "2024-01-01").await;
    let rogue = agency(store, "MC1A0011").await;
    let rogue_admin = account(store, "rogue", Role::AgencyAdmin, &Scope::Agency(rogue)).await;
    run_sql(
        store,
        &format!(
            "INSERT INTO bindings (worker_id, agency_id, kind, status, requested_by, requested_at, started_at)
             VALUES ({}, {rogue}, 'intermediary', 'active', 'agency', '2024-01-01T00:00:00+00:00',
                     '2024-01-01T00:00:00+00:00')",
            people[0]
        ),
    )
    .await
    .unwrap();
    let blocker = created(
        store
            .submit_claim(&rogue_admin, &claim("social_insurance", "2025-01", "2025-03", &people), None)
            .await
            .unwrap(),
    );
    let row = store.subsidy_claim(blocker, &rogue_admin).await.unwrap();
    assert_eq!((row.lines, row.matching), (3, 0));
    let own = created(
        store.submit_claim(&c.admin, &claim("social_insurance", "2025-01", "2025-03", &people), None).await.unwrap(),
    );
    assert_eq!(store.subsidy_claim(own, &c.admin).await.unwrap().matching, 3, "the employer's months were free");
    let blocking = store.subsidy_claim(blocker, &c.nanguan).await.unwrap();
    let lines = store.claim_lines(&blocking, false, PageRequest::default()).await.unwrap().items;
    let ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
    match store.decide_claim(blocker, &c.nanguan, &verdict("chosen", &ids, "")).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "not_in_claim"),
        other => panic!("a line that does not match is never approved: {other:?}"),
    }
}

#[tokio::test]
async fn of_claims_racing_for_the_same_worker_months_exactly_one_wins() {
    let c = city("MC1A0003").await;
    let store = &c.db.store;
    let people = workers(store, c.agency, 21, 4).await;
    employed_and_insured(store, c.agency, "2024-01-01").await;
    let mut tasks = Vec::new();
    for i in 0..8usize {
        let store = store.clone();
        let admin = c.admin.clone();
        // Overlapping ranges: every claim holds March 2025 of the same workers.
        let from = ["2025-01", "2025-02", "2025-03"][i % 3];
        let draft = claim("social_insurance", from, "2025-04", &people);
        tasks.push(tokio::spawn(async move { store.submit_claim(&admin, &draft, None).await }));
    }
    let (mut won, mut taken) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            Ok(Submitted::Created(id)) => won.push(id),
            Ok(Submitted::Taken(clash)) => taken.push(clash),
            Err(other) => panic!("unexpected: {other:?}"),
        }
    }
    assert_eq!((won.len(), taken.len()), (1, 7));
    assert!(taken.iter().all(|clash| clash.claim_id == won[0]));
    let (n,): (i64,) = match store.pool() {
        jiazheng_store::Pool::Sqlite(p) => {
            sqlx::query_as("SELECT COUNT(*) FROM subsidy_claim_lines").fetch_one(p).await.unwrap()
        }
        jiazheng_store::Pool::Postgres(p) => {
            sqlx::query_as("SELECT COUNT(*) FROM subsidy_claim_lines").fetch_one(p).await.unwrap()
        }
    };
    let row = store.subsidy_claim(won[0], &c.admin).await.unwrap();
    assert_eq!(n, row.lines, "the losers wrote nothing");
}

#[tokio::test]
async fn chosen_lines_are_approved_alone_and_lines_of_another_claim_are_refused() {
    let c = city("MC1A0004").await;
    let store = &c.db.store;
    let people = workers(store, c.agency, 31, 2).await;
    employed_and_insured(store, c.agency, "2024-01-01").await;
    let a = created(
        store
            .submit_claim(&c.admin, &claim("social_insurance", "2025-06", "2025-07", &people[..1]), None)
            .await
            .unwrap(),
    );
    let b = created(
        store
            .submit_claim(&c.admin, &claim("social_insurance", "2025-06", "2025-07", &people[1..]), None)
            .await
            .unwrap(),
    );
    let row_a = store.subsidy_claim(a, &c.nanguan).await.unwrap();
    let row_b = store.subsidy_claim(b, &c.nanguan).await.unwrap();
    let lines_a = store.claim_lines(&row_a, false, PageRequest::default()).await.unwrap().items;
    let lines_b = store.claim_lines(&row_b, false, PageRequest::default()).await.unwrap().items;
    match store.decide_claim(a, &c.nanguan, &verdict("chosen", &[lines_a[0].id, lines_b[0].id], "")).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "not_in_claim"),
        other => panic!("expected not_in_claim, got {other:?}"),
    }
    assert_eq!(store.subsidy_claim(a, &c.nanguan).await.unwrap().status, "submitted", "nothing was written");
    let decided = store.decide_claim(a, &c.nanguan, &verdict("chosen", &[lines_a[1].id], "")).await.unwrap();
    assert_eq!(
        (decided.status.as_str(), decided.approved_lines, decided.approved_fen),
        ("partly_approved", 1, Some(30_000))
    );
    // June is free again, July is not.
    created(
        store
            .submit_claim(&c.admin, &claim("social_insurance", "2025-06", "2025-06", &people[..1]), None)
            .await
            .unwrap(),
    );
    assert!(matches!(
        store.submit_claim(&c.admin, &claim("social_insurance", "2025-07", "2025-07", &people[..1]), None).await,
        Ok(Submitted::Taken(_))
    ));
}

#[tokio::test]
async fn trainings_certificates_and_points_are_checked_against_their_records() {
    let c = city("MC1A0005").await;
    let store = &c.db.store;
    let people = workers(store, c.agency, 41, 2).await;
    employed_and_insured(store, c.agency, "2024-01-01").await;
    let by = Recorder::agency(c.agency, None);
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
    let training = |done: NaiveDate, passed: bool| TrainingDraft {
        course_kind: CourseKind::PreJob,
        course_name: "家政服务员岗前培训".into(),
        provider_name: "长春市春城家政职业培训学校".into(),
        mode: CourseMode::InPerson,
        hours: 40,
        started_on: done - Duration::days(10),
        completed_on: done,
        exam_passed: Some(passed),
        exam_score: Some(if passed { 80 } else { 40 }),
    };
    let (t1, t2, t3) = (training(day(3, 10), true), training(day(3, 12), false), training(day(5, 2), true));
    let records =
        store.add_trainings(&[(people[0], &t1, by), (people[1], &t2, by), (people[1], &t3, by)]).await.unwrap();
    let period = MonthRange::parse("2025-03", "2025-04", beijing_today()).unwrap();
    let candidates = store.claim_candidates(c.agency, ClaimKind::Training, &period).await.unwrap();
    assert_eq!(
        candidates.iter().map(|c| c.id).collect::<Vec<_>>(),
        [records[0]],
        "failed and later trainings are not offered"
    );
    // A failed training picked anyway (an API client) is a line that does not match; one outside the period too.
    let id =
        created(store.submit_claim(&c.admin, &claim("training", "2025-03", "2025-04", &records), None).await.unwrap());
    let row = store.subsidy_claim(id, &c.admin).await.unwrap();
    let lines = store.claim_lines(&row, false, PageRequest::default()).await.unwrap().items;
    let problems: Vec<&str> = lines.iter().map(|l| l.problems.as_str()).collect();
    assert_eq!(problems, ["", "not_passed", "outside_period"]);
    assert_eq!(lines[0].unit, "pre_job:2025");
    assert_eq!(lines[0].record_name.as_deref(), Some("家政服务员岗前培训"));

    let cert = CertificateDraft {
        kind: CertificateKind::Occupational,
        trade: Some(Trade::Maternity),
        level: Some(SkillLevel::Level4),
        issuer: "长春市职业技能鉴定中心".into(),
        number: "2522010000123".into(),
        issued_on: day(4, 1),
        valid_until: None,
    };
    let certs = store.add_certificates(&[(people[0], &cert, by), (people[0], &cert, by)]).await.unwrap();
    // The same level twice for one worker is one unit: picked twice, refused.
    match store.submit_claim(&c.admin, &claim("appraisal", "2025-04", "2025-04", &certs), None).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "picked_twice"),
        other => panic!("expected picked_twice, got {other:?}"),
    }
    let id = created(
        store.submit_claim(&c.admin, &claim("appraisal", "2025-04", "2025-04", &certs[..1]), None).await.unwrap(),
    );
    assert_eq!(store.subsidy_claim(id, &c.admin).await.unwrap().matching, 1);
    assert!(matches!(
        store.submit_claim(&c.admin, &claim("appraisal", "2025-04", "2025-04", &certs[1..]), None).await,
        Ok(Submitted::Taken(clash)) if clash.unit == "occupational:maternity:level4"
    ));

    // A point opened in February and closed now: months before it opened do not match.
    let form = ServicePointForm {
        name: "华阳社区家政服务站".into(),
        community_code: "220102001001".into(),
        address: "人民大街100号".into(),
        opening_hours: "08:00-18:00".into(),
        serves: vec![],
        ..Default::default()
    };
    let point = store.create_service_point(c.agency, &form.parse().unwrap()).await.unwrap();
    run_sql(store, &format!("UPDATE service_points SET created_at = '2025-02-10T02:00:00+00:00' WHERE id = {point}"))
        .await
        .unwrap();
    store.close_service_point(point, c.agency).await.unwrap();
    let id = created(
        store.submit_claim(&c.admin, &claim("point_rent", "2025-01", "2025-03", &[point]), None).await.unwrap(),
    );
    let row = store.subsidy_claim(id, &c.admin).await.unwrap();
    let lines = store.claim_lines(&row, false, PageRequest::default()).await.unwrap().items;
    let problems: Vec<&str> = lines.iter().map(|l| l.problems.as_str()).collect();
    assert_eq!(problems, ["point_not_open", "", ""]);
    let other = agency(store, "MC1A0006").await;
    let other_admin = account(store, "admin_other2", Role::AgencyAdmin, &Scope::Agency(other)).await;
    assert!(matches!(
        store.submit_claim(&other_admin, &claim("point_rent", "2025-01", "2025-03", &[point]), None).await,
        Err(StoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_claim_needs_the_citys_standard() {
    let db = TestDb::new().await;
    let store = &db.store;
    let a = agency(store, "MC1A0007").await;
    let admin = account(store, "admin_nostd", Role::AgencyAdmin, &Scope::Agency(a)).await;
    let people = workers(store, a, 51, 1).await;
    match store.submit_claim(&admin, &claim("social_insurance", "2025-01", "2025-01", &people), None).await {
        Err(StoreError::Invalid(e)) => assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("kind", "no_standard")),
        other => panic!("expected no_standard, got {other:?}"),
    }
}

#[tokio::test]
/// A claim of 5,004 worker-months is checked line by line (the speed is scripts/benchmark-claims').
async fn five_thousand_worker_months_are_checked_line_by_line() {
    let c = city("MC1A0008").await;
    let store = &c.db.store;
    let mut people = Vec::new();
    for batch in 0..3u16 {
        people.extend(workers(store, c.agency, 100 + batch * 139, 139).await);
    }
    assert_eq!(people.len(), 417);
    employed_and_insured(store, c.agency, "2024-06-01").await;
    let period = MonthRange::parse("2024-01", "2024-12", beijing_today()).unwrap();
    let candidates = store.claim_candidates(c.agency, ClaimKind::SocialInsurance, &period).await.unwrap();
    assert_eq!(candidates.len(), 417);
    let draft = claim("social_insurance", "2024-01", "2024-12", &people);
    assert_eq!(draft.line_count(), 5_004);
    let id = created(store.submit_claim(&c.admin, &draft, None).await.unwrap());
    let row = store.subsidy_claim(id, &c.admin).await.unwrap();
    // Insured from June: January to May do not match.
    assert_eq!((row.lines, row.matching), (5_004, 417 * 7));
    let decided = store.decide_claim(id, &c.nanguan, &verdict("matching", &[], "")).await.unwrap();
    assert_eq!(decided.approved_lines, 417 * 7);
}

#[tokio::test]
async fn a_rectification_order_moves_forward_refuses_reports_once_closed_and_counts_overdue() {
    let c = city("MC1A0009").await;
    let store = &c.db.store;
    let today = beijing_today();
    let actor = |p: &Principal, area: Option<&str>| Actor {
        account_id: p.account_id,
        source: p.regulator_source().unwrap(),
        area: area.map(String::from),
    };
    let penalty = ActionForm {
        subject_kind: "agency".into(),
        subject_id: c.agency,
        kind: "penalty".into(),
        decided_on: today.to_string(),
        authority: "长春市南关区商务局".into(),
        document: "南商罚〔2026〕3号".into(),
        reason: "未与员工制服务员签订劳动合同".into(),
    }
    .parse(today)
    .unwrap();
    let seq = store.record_action(&penalty, &actor(&c.nanguan, Some("220102000000"))).await.unwrap();
    let sources = store.rectification_sources(&c.nanguan, PageRequest::default()).await.unwrap();
    assert_eq!((sources.total, sources.items[0].source_id), (1, seq));
    assert_eq!(store.rectification_sources(&c.chaoyang, PageRequest::default()).await.unwrap().total, 0);

    let order = |deadline: NaiveDate| {
        OrderForm {
            source: "penalty".into(),
            source_id: seq,
            deadline: deadline.to_string(),
            requirement: "为全部员工制服务员补签劳动合同".into(),
        }
        .parse(today)
        .unwrap()
    };
    assert!(matches!(
        store.open_rectification(&c.chaoyang, &order(today + Duration::days(10))).await,
        Err(StoreError::NotFound)
    ));
    let id = store.open_rectification(&c.nanguan, &order(today + Duration::days(10))).await.unwrap();
    assert!(matches!(
        store.open_rectification(&c.city, &order(today + Duration::days(5))).await,
        Err(StoreError::Conflict { what: "rectification_exists", existing_id: Some(e) }) if e == id
    ));
    assert_eq!(store.rectification_sources(&c.nanguan, PageRequest::default()).await.unwrap().total, 0);
    assert!(matches!(store.rectification(id, &c.chaoyang).await, Err(StoreError::NotFound)));
    let other = agency(store, "MC1A0010").await;
    let other_admin = account(store, "admin_rect_other", Role::AgencyAdmin, &Scope::Agency(other)).await;
    assert!(matches!(
        store.report_rectification(id, &other_admin, "已整改", None, today).await,
        Err(StoreError::NotFound)
    ));

    // Accepting before any report is refused; the agency reports; the regulator returns it.
    let review = |action: &str, deadline: &str, reason: &str, current: NaiveDate| {
        ReviewForm { action: action.into(), deadline: deadline.into(), reason: reason.into() }
            .parse(current, today)
            .unwrap()
    };
    let row = store.rectification(id, &c.admin).await.unwrap();
    match store.review_rectification(id, &c.nanguan, &review("accept", "", "", row.deadline)).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "no_report"),
        other => panic!("expected no_report, got {other:?}"),
    }
    let pdf = b"%PDF-1.4 contracts".as_slice();
    store
        .report_rectification(
            id,
            &c.admin,
            "已补签12份劳动合同",
            Some((pdf, jiazheng_core::market::subsidy::EvidenceType::Pdf)),
            today,
        )
        .await
        .unwrap();
    let steps = store.rectification_steps(id).await.unwrap();
    assert_eq!(steps.iter().map(|s| s.step.as_str()).collect::<Vec<_>>(), ["opened", "reported"]);
    // Reports wait a few at a time: the agency cannot bury the order under them.
    for more in 1..MAX_WAITING_REPORTS {
        store.report_rectification(id, &c.admin, &format!("补充材料{more}"), None, today).await.unwrap();
    }
    match store.report_rectification(id, &c.admin, "再补充", None, today).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "reports_waiting"),
        other => panic!("expected reports_waiting, got {other:?}"),
    }
    let (_, file) = store.rectification_evidence(id, steps[1].id, &c.nanguan).await.unwrap();
    assert_eq!(file, pdf);
    assert!(matches!(store.rectification_evidence(id, steps[1].id, &other_admin).await, Err(StoreError::NotFound)));
    let returned = store
        .review_rectification(id, &c.nanguan, &review("return", "", "缺少社保缴费凭证", row.deadline))
        .await
        .unwrap();
    assert_eq!(returned.status, "open");
    // Extended: the new deadline after the old; then reported and accepted.
    let later = (row.deadline + Duration::days(20)).to_string();
    let extended =
        store.review_rectification(id, &c.city, &review("extend", &later, "材料较多", row.deadline)).await.unwrap();
    assert_eq!(extended.deadline, row.deadline + Duration::days(20));
    // An extension typed against the old deadline, to a day not after the new one, is refused.
    let between = (row.deadline + Duration::days(5)).to_string();
    match store.review_rectification(id, &c.nanguan, &review("extend", &between, "再延", row.deadline)).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "not_later"),
        other => panic!("expected not_later, got {other:?}"),
    }
    store.report_rectification(id, &c.admin, "已补交社保缴费凭证", None, today).await.unwrap();
    let closed =
        store.review_rectification(id, &c.nanguan, &review("accept", "", "", extended.deadline)).await.unwrap();
    assert_eq!(closed.status, "accepted");
    assert!(closed.closed_at.is_some());
    match store.report_rectification(id, &c.admin, "补充说明", None, today).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].code, "order_closed"),
        other => panic!("expected order_closed, got {other:?}"),
    }

    // An upheld complaint opens a second order; its deadline passes without a report: overdue.
    let resident = account(store, "resident_rect", Role::Resident, &Scope::None).await;
    let complaint = ComplaintForm {
        subject_kind: "agency".into(),
        subject_id: c.agency,
        service_id: None,
        body: "服务员迟到两小时且未告知".into(),
    }
    .parse()
    .unwrap();
    let filed = store.file_complaint(resident.account_id, &complaint).await.unwrap();
    let regulator = actor(&c.nanguan, Some("220102000000"));
    store.act_on_complaint(filed.id, ComplaintAction::Acknowledge, "", &regulator).await.unwrap();
    store.act_on_complaint(filed.id, ComplaintAction::Uphold, "迟到属实", &regulator).await.unwrap();
    let draft = OrderForm {
        source: "complaint".into(),
        source_id: filed.id,
        deadline: (today + Duration::days(3)).to_string(),
        requirement: "建立服务员迟到告知制度".into(),
    }
    .parse(today)
    .unwrap();
    let second = store.open_rectification(&c.nanguan, &draft).await.unwrap();
    assert_eq!(store.overdue_rectifications(c.agency, today).await.unwrap(), 0);
    run_sql(
        store,
        &format!("UPDATE rectification_orders SET deadline = '{}' WHERE id = {second}", today - Duration::days(1)),
    )
    .await
    .unwrap();
    assert_eq!(store.overdue_rectifications(c.agency, today).await.unwrap(), 1);
    let overdue =
        store.rectifications(&Viewing::of(&c.nanguan).unwrap(), true, today, PageRequest::default()).await.unwrap();
    assert_eq!((overdue.total, overdue.items[0].id), (1, second));
    assert!(overdue.items[0].overdue(today));
    let all = store.rectifications(&Viewing::Agency(c.agency), false, today, PageRequest::default()).await.unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(store.agency_credit(c.agency).await.unwrap().overdue_rectifications, 1);
    // A late report still leaves it overdue until accepted.
    store.report_rectification(second, &c.admin, "已建立告知制度", None, today).await.unwrap();
    assert_eq!(store.overdue_rectifications(c.agency, today).await.unwrap(), 1);
}
