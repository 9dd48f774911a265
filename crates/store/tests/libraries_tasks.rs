//! The plan's 34 tasks and the key-agency and talent libraries on a real database (SQLite, or
//! PostgreSQL with JIAZHENG_TEST_DATABASE): the seeded tasks and their units, progress reports
//! by units with evidence, a closed task refusing reports, deadlines and overdue tasks, and
//! nominations tied to their nominator, one live nomination per subject, review against the
//! criteria, publication and removal kept in history.

use chrono::{Duration, NaiveDate};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::library::{CheckOutcome, Criterion, LibraryKind, NominationForm};
use jiazheng_core::oversight::plan::{ProgressForm, TaskStatus};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_core::workforce::records::CertificateDraft;
use jiazheng_core::workforce::{CertificateKind, SkillLevel, Trade};
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::credit::ledger::NewEntry;
use jiazheng_store::oversight::audit::AuditQuery;
use jiazheng_store::oversight::library::{EntryFilter, EntryScope};
use jiazheng_store::oversight::plan::{EvidenceFile, PlanFile, TaskFilter};
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::testing::{TestDb, agency};
use jiazheng_store::workforce::Recorder;
use jiazheng_store::{PageRequest, Store, StoreError};

async fn account(store: &Store, name: &str, role: Role, scope: Scope) -> Principal {
    let new = NewAccount::scoped(name.into(), name.into(), "password-123".into(), role, &scope);
    let id = store.create_account(&new).await.unwrap();
    Principal { account_id: id, role, scope }
}

async fn unit_account(store: &Store, name: &str, unit_code: &str, scope: Scope, admin: i64) -> Principal {
    let who = account(store, name, Role::Regulator, scope).await;
    let unit = store.plan_units().await.unwrap().into_iter().find(|u| u.code == unit_code).unwrap();
    store.set_account_plan_unit(who.account_id, Some(unit.id), admin).await.unwrap();
    who
}

fn report(status: &str, text: &str) -> jiazheng_core::oversight::plan::ProgressDraft {
    let today = beijing_today();
    ProgressForm { reported_on: today.to_string(), status: status.into(), text: text.into() }
        .parse(today, NaiveDate::from_ymd_opt(2021, 1, 1).unwrap())
        .unwrap()
}

#[tokio::test]
async fn the_plan_is_seeded_with_its_34_tasks_and_their_units() {
    let db = TestDb::new().await;
    let s = &db.store;
    let info = s.plan_info().await.unwrap().expect("the plan is loaded");
    assert_eq!(info.ends_on, NaiveDate::from_ymd_opt(2023, 12, 31).unwrap());
    let tasks = s.all_plan_tasks().await.unwrap();
    assert_eq!(tasks.len(), 34);
    assert_eq!(tasks.iter().map(|t| t.number).collect::<Vec<_>>(), (1..=34).collect::<Vec<_>>());
    assert!(tasks.iter().all(|t| t.deadline == info.ends_on && t.status() == TaskStatus::NotStarted));
    let units = s.task_units().await.unwrap();
    for t in &tasks {
        let mine: Vec<_> = units.iter().filter(|u| u.task_number == t.number).collect();
        assert!(!mine.is_empty(), "task {} has units", t.number);
        assert_eq!(mine[0].position, 0, "the first unit leads");
    }
    let names =
        |n: i64| -> Vec<String> { units.iter().filter(|u| u.task_number == n).map(|u| u.unit.name.clone()).collect() };
    assert_eq!(tasks[12].title, "积极开展优质家政企业交流活动");
    assert_eq!(names(13), ["市商务局", "市贸促会"]);
    assert_eq!(names(29), ["市市场监管局", "市商务局"], "市市场局 is the same unit");
    assert_eq!(names(5).last().unwrap(), "开发区管委会");
    for n in 32..=34 {
        assert_eq!(names(n), ["市发改委", "市商务局"]);
        let t = &tasks[n as usize - 1];
        assert!(t.units_as_written.is_none() && t.units_note.as_deref().unwrap().contains("保障措施"));
    }
    assert_eq!(tasks[33].section, "三");
    assert!(tasks[0].body.contains("社会保险补贴"));
    // Loading twice is refused; the shipped file parses and a broken one does not.
    let file = PlanFile::parse(jiazheng_store::oversight::plan::CHANGCHUN_PLAN).unwrap();
    assert!(matches!(s.import_plan(&file).await, Err(StoreError::Conflict { what: "plan_loaded", .. })));
    s.ensure_default_plan().await.unwrap();
    assert_eq!(s.all_plan_tasks().await.unwrap().len(), 34);
    let broken = jiazheng_store::oversight::plan::CHANGCHUN_PLAN.replace("\"code\": \"ccpit\"", "\"code\": \"nobody\"");
    assert!(PlanFile::parse(&broken).is_err());
}

#[tokio::test]
async fn units_report_progress_and_a_closed_task_takes_no_report() {
    let db = TestDb::new().await;
    let s = &db.store;
    let admin = account(s, "admin", Role::SystemAdmin, Scope::City).await;
    let commerce = unit_account(s, "commerce", "commerce", Scope::City, admin.account_id).await;
    let ccpit = unit_account(s, "ccpit", "ccpit", Scope::City, admin.account_id).await;
    let district = DivisionCode::parse("220102000000").unwrap();
    let nanguan = unit_account(s, "nanguan-gov", "districts", Scope::District(district), admin.account_id).await;
    let untagged =
        account(s, "plain-reg", Role::Regulator, Scope::District(DivisionCode::parse("220104000000").unwrap())).await;

    // A unit of task 13 reports: the task moves, the report and its evidence are kept.
    let pdf = b"%PDF-1.4 minutes".to_vec();
    let file =
        EvidenceFile {
            name: "../会议纪要.pdf".into(), kind: EvidenceType::sniff(&pdf).unwrap(), bytes: pdf.clone()
        };
    let first = s
        .report_progress(&ccpit, 13, &report("in_progress", "组织12家企业参加东北亚博览会"), Some(&file))
        .await
        .unwrap();
    assert_eq!(s.plan_task(13).await.unwrap().status(), TaskStatus::InProgress);
    let (name, kind, bytes) = s.progress_file(first).await.unwrap();
    assert_eq!((name.as_str(), kind, bytes), ("会议纪要.pdf", EvidenceType::Pdf, pdf));
    // A district government reports its part of task 5, with its district.
    s.report_progress(&nanguan, 5, &report("delayed", "两处网点选址未落实"), None).await.unwrap();
    let shown = s.task_progress(5, PageRequest::default()).await.unwrap();
    assert_eq!(shown.items[0].district_name.as_deref(), Some("南关区"));
    assert_eq!(s.plan_task(5).await.unwrap().status(), TaskStatus::Delayed);

    // Not responsible → refused (403); no unit → refused; only the lead closes.
    assert!(matches!(
        s.report_progress(&ccpit, 1, &report("in_progress", "x"), None).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        s.report_progress(&untagged, 13, &report("in_progress", "x"), None).await,
        Err(StoreError::Refused(_))
    ));
    match s.report_progress(&ccpit, 13, &report("done", "完成"), None).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("status").unwrap().code, "not_lead"),
        other => panic!("{other:?}"),
    }
    s.report_progress(&commerce, 13, &report("done", "两库已建成并公示"), None).await.unwrap();
    assert_eq!(s.plan_task(13).await.unwrap().status(), TaskStatus::Done);
    // A closed task: 422, and nothing was written.
    match s.report_progress(&ccpit, 13, &report("in_progress", "补充材料"), Some(&file)).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("task").unwrap().code, "task_closed"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.task_progress(13, PageRequest::default()).await.unwrap().total, 2);
    let latest = s.latest_progress().await.unwrap();
    assert_eq!(latest.iter().find(|p| p.task_number == 13).unwrap().status, "done");

    // Deadlines: only the overseer; a past deadline makes a task overdue.
    let today = beijing_today();
    assert!(matches!(s.set_task_deadline(&ccpit, 1, today).await, Err(StoreError::Refused(_))));
    assert!(matches!(s.set_task_deadline(&nanguan, 1, today).await, Err(StoreError::Refused(_))));
    s.set_task_deadline(&commerce, 1, today - Duration::days(3)).await.unwrap();
    s.set_task_deadline(&commerce, 13, today - Duration::days(3)).await.unwrap();
    let overdue = s
        .plan_tasks(&TaskFilter { overdue_on: Some(today), ..Default::default() }, PageRequest::default())
        .await
        .unwrap();
    // Every task keeps the plan's end (2023-12-31) but 13 (done) and 1 (moved, still past).
    assert_eq!(overdue.total, 33);
    assert!(overdue.items.iter().all(|t| t.number != 13));
    let summary = s.plan_summary(today).await.unwrap();
    assert_eq!((summary.total, summary.done, summary.delayed, summary.in_progress, summary.overdue), (34, 1, 1, 0, 33));
    s.set_task_deadline(&commerce, 2, today + Duration::days(30)).await.unwrap();
    assert!(!s.plan_task(2).await.unwrap().overdue(today));
    let by_unit = s
        .plan_tasks(&TaskFilter { unit: Some(ccpit_unit(s).await), ..Default::default() }, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(by_unit.items.iter().map(|t| t.number).collect::<Vec<_>>(), [13]);

    // Reopening: overseer only, a done task only; it then takes reports again.
    assert!(matches!(s.reopen_task(&commerce, 1, "x").await, Err(StoreError::Conflict { what: "task_not_done", .. })));
    assert!(matches!(s.reopen_task(&ccpit, 13, "x").await, Err(StoreError::Refused(_))));
    s.reopen_task(&commerce, 13, "公示名单需补充").await.unwrap();
    s.report_progress(&ccpit, 13, &report("in_progress", "补充推荐"), None).await.unwrap();

    // Every write by a regulator (and the admin's unit tags) is in the audit.
    let audit = s.audit(&AuditQuery::default(), PageRequest::new(Some(1), Some(100))).await.unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|r| r.action.as_str()).collect();
    for action in ["plan.unit_assign", "plan.progress", "plan.deadline", "plan.reopen"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| **a == "plan.progress").count(), 4);
    // A unit tag is for regulators only.
    let agency_id = agency(s, "MA0Y1234").await;
    let agency_admin = account(s, "agency", Role::AgencyAdmin, Scope::Agency(agency_id)).await;
    assert!(matches!(
        s.set_account_plan_unit(agency_admin.account_id, Some(1), admin.account_id).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn ccpit_unit(s: &Store) -> i64 {
    s.plan_units().await.unwrap().into_iter().find(|u| u.code == "ccpit").unwrap().id
}

/// A worker of `agency` with an active employee binding.
async fn worker(s: &Store, agency: i64, seq: u16, name: &str) -> i64 {
    let birth = NaiveDate::from_ymd_opt(1980, 3, 1).unwrap() + Duration::days(i64::from(seq));
    let draft = WorkerForm {
        id_number: ResidentId::compose("220102", birth, seq + 10),
        name: name.into(),
        phone: format!("139{:08}", 4400000 + u32::from(seq)),
        education_level: "senior".into(),
        home_street: "220102001".into(),
        services: vec!["cleaning".into()],
        ..Default::default()
    }
    .parse(beijing_today())
    .unwrap();
    let binding = Some(NewBinding { agency_id: agency, kind: BindingKind::Employee, active: true });
    s.insert_workers(&[NewWorker { draft: &draft, binding }]).await.unwrap()[0]
}

async fn reward(s: &Store, agency: i64, times: usize) {
    for _ in 0..times {
        s.append_entry(&NewEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: agency,
            kind: EntryKind::Reward,
            payload: serde_json::json!({ "decided_on": "2025-06-01", "reason": "优秀家政企业" }),
            source: "regulator:city".into(),
            recorded_by: None,
            corrects: None,
        })
        .await
        .unwrap();
    }
}

fn nomination(kind: &str, f: impl FnOnce(&mut NominationForm)) -> jiazheng_core::oversight::library::NominationDraft {
    let mut form =
        NominationForm {
            kind: kind.into(), reason: "群众反映良好，服务质量突出".into(), ..Default::default()
        };
    f(&mut form);
    form.parse().unwrap()
}

#[tokio::test]
async fn nominations_are_tied_to_the_nominator_reviewed_against_the_criteria_and_kept_when_removed() {
    let db = TestDb::new().await;
    let s = &db.store;
    let today = beijing_today();
    let admin = account(s, "admin", Role::SystemAdmin, Scope::City).await;
    let a = agency(s, "MA0Y1234").await; // 南关区
    let b = agency(s, "MA0Y5678").await;
    let agency_a = account(s, "agency-a", Role::AgencyAdmin, Scope::Agency(a)).await;
    let nanguan =
        account(s, "nanguan", Role::Regulator, Scope::District(DivisionCode::parse("220102000000").unwrap())).await;
    let chaoyang =
        account(s, "chaoyang", Role::Regulator, Scope::District(DivisionCode::parse("220104000000").unwrap())).await;
    let city = account(s, "city", Role::Regulator, Scope::City).await;
    let finance = unit_account(s, "finance", "finance", Scope::City, admin.account_id).await;

    // An agency nominates itself; a second live nomination is a conflict naming the first.
    let own = s.nominate(&agency_a, &nomination("agency", |_| {}), today).await.unwrap();
    match s.nominate(&agency_a, &nomination("agency", |_| {}), today).await {
        Err(StoreError::Conflict { what: "library_duplicate", existing_id }) => assert_eq!(existing_id, Some(own)),
        other => panic!("{other:?}"),
    }
    // Another agency: refused; a trainer: not an agency's to nominate.
    assert!(matches!(
        s.nominate(&agency_a, &nomination("agency", |f| f.agency_id = Some(b)), today).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        s.nominate(
            &agency_a,
            &nomination("trainer", |f| {
                f.person_name = "李娜".into();
                f.person_role = "讲师".into()
            }),
            today
        )
        .await,
        Err(StoreError::Refused(_))
    ));
    // A worker of another agency is not found; its own worker is nominated.
    let theirs = worker(s, b, 1, "赵敏").await;
    let mine = worker(s, a, 2, "王芳").await;
    assert!(matches!(
        s.nominate(&agency_a, &nomination("skilled_worker", |f| f.worker_id = Some(theirs)), today).await,
        Err(StoreError::NotFound)
    ));
    let skilled =
        s.nominate(&agency_a, &nomination("skilled_worker", |f| f.worker_id = Some(mine)), today).await.unwrap();
    let manager = s
        .nominate(
            &agency_a,
            &nomination("manager", |f| {
                f.person_name = "张伟".into();
                f.person_role = "总经理".into()
            }),
            today,
        )
        .await
        .unwrap();
    // A district regulator: in its district only (agency B stands in 南关区 too, by its street).
    assert!(matches!(
        s.nominate(&chaoyang, &nomination("agency", |f| f.agency_id = Some(b)), today).await,
        Err(StoreError::NotFound)
    ));
    let by_district = s.nominate(&nanguan, &nomination("agency", |f| f.agency_id = Some(b)), today).await.unwrap();
    // The city regulator decides, and does not nominate.
    assert!(matches!(
        s.nominate(&city, &nomination("agency", |f| f.agency_id = Some(b)), today).await,
        Err(StoreError::Refused(_))
    ));

    // The criteria as checked: a new agency is graded C (60), below B; the worker holds no certificate.
    let entry = s.library_entry(own).await.unwrap();
    let checks = entry.criteria_at_nomination();
    let grade = checks.iter().find(|c| c.criterion == Criterion::CreditGrade).unwrap();
    assert_eq!(grade.outcome, CheckOutcome::NotMet);
    // Deciding: the overseer only; criteria not met → 422 naming them.
    assert!(matches!(s.decide_nomination(&nanguan, own, true, None, today).await, Err(StoreError::Refused(_))));
    assert!(matches!(s.decide_nomination(&finance, own, true, None, today).await, Err(StoreError::Refused(_))));
    match s.decide_nomination(&city, own, true, None, today).await {
        Err(StoreError::Invalid(e)) => assert!(e.for_field("criteria").unwrap().message_zh.contains("信用等级")),
        other => panic!("{other:?}"),
    }
    // Two rewards bring it to 70 (B): published.
    reward(s, a, 2).await;
    let live = s.entry_criteria(&s.library_entry(own).await.unwrap(), today).await.unwrap();
    assert!(live.iter().all(|c| c.outcome == CheckOutcome::Met), "{live:?}");
    let published = s.decide_nomination(&city, own, true, Some("符合条件"), today).await.unwrap();
    assert_eq!(published.status, "published");
    assert!(matches!(
        s.decide_nomination(&city, own, false, None, today).await,
        Err(StoreError::Conflict { what: "library_not_pending", .. })
    ));
    // The skilled worker needs a level 4 certificate.
    assert!(matches!(s.decide_nomination(&city, skilled, true, None, today).await, Err(StoreError::Invalid(_))));
    let certificate = CertificateDraft {
        kind: CertificateKind::Occupational,
        trade: Some(Trade::Housekeeping),
        level: Some(SkillLevel::Level3),
        issuer: "长春市人社局".into(),
        number: "JZ2025001".into(),
        issued_on: today - Duration::days(100),
        valid_until: None,
    };
    s.add_certificates(&[(mine, &certificate, Recorder::agency(a, None))]).await.unwrap();
    s.decide_nomination(&city, skilled, true, None, today).await.unwrap();
    // A manager without a worker record: the record checks are left to the reviewer.
    let m = s.library_entry(manager).await.unwrap();
    assert_eq!(m.name, "张伟");
    assert!(s.entry_criteria(&m, today).await.unwrap().iter().any(|c| c.outcome == CheckOutcome::Unchecked));
    s.decide_nomination(&city, by_district, false, Some("信用等级不足"), today).await.unwrap();

    // What each sees: the agency its own; a district its area; the public the published.
    let own_list =
        s.library_nominations(&EntryScope::Agency(a), &EntryFilter::default(), PageRequest::default()).await.unwrap();
    assert_eq!(own_list.total, 3);
    let waiting =
        EntryFilter { status: Some(jiazheng_core::oversight::library::EntryStatus::Pending), ..Default::default() };
    let pending = s.library_nominations(&EntryScope::Area(None), &waiting, PageRequest::default()).await.unwrap();
    assert_eq!(pending.items.iter().map(|e| e.id).collect::<Vec<_>>(), [manager]);
    let elsewhere = s
        .library_nominations(
            &EntryScope::Area(Some(DivisionCode::parse("220104000000").unwrap())),
            &EntryFilter::default(),
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(elsewhere.total, 0);
    assert!(matches!(s.library_entry_for(own, &chaoyang).await, Err(StoreError::NotFound)));
    let public = s.public_library(None, false, PageRequest::default()).await.unwrap();
    assert_eq!(public.items.iter().map(|e| e.id).collect::<Vec<_>>(), [own, skilled]);
    let agencies_only = s.public_library(Some(LibraryKind::Agency), false, PageRequest::default()).await.unwrap();
    assert_eq!(agencies_only.total, 1);

    // Removal with a reason: kept, shown as removed with its date; the subject may be nominated again.
    assert!(matches!(s.remove_library_entry(&nanguan, own, "x").await, Err(StoreError::Refused(_))));
    let removed = s.remove_library_entry(&city, own, "发生重大服务质量事故").await.unwrap();
    assert_eq!(removed.status, "removed");
    assert!(removed.removed_at.is_some());
    let history = s.public_library(None, true, PageRequest::default()).await.unwrap();
    assert_eq!(history.items[0].removal_reason.as_deref(), Some("发生重大服务质量事故"));
    assert!(matches!(
        s.remove_library_entry(&city, own, "again").await,
        Err(StoreError::Conflict { what: "library_not_published", .. })
    ));
    s.nominate(&agency_a, &nomination("agency", |_| {}), today).await.unwrap();

    // The regulators' writes are audited; the agency's own nominations are not regulator writes.
    let audit = s.audit(&AuditQuery::default(), PageRequest::new(Some(1), Some(100))).await.unwrap();
    let actions: Vec<&str> = audit.items.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "library.publish").count(), 2);
    for action in ["library.nominate", "library.reject", "library.remove"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let nominated = audit.items.iter().filter(|r| r.action == "library.nominate").count();
    assert_eq!(nominated, 1, "only the district regulator's nomination");
}
