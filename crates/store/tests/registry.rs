//! Registry behaviour on a real database: run with JIAZHENG_TEST_DATABASE unset (SQLite) or
//! set to a PostgreSQL URL.

use chrono::NaiveDate;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::{ResidentId, Uscc};
use jiazheng_core::registry::ServiceKind;
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_core::registry::binding::{BindingAction, BindingKind, Side};
use jiazheng_core::registry::service_point::ServicePointForm;
use jiazheng_core::registry::worker::{WorkerDraft, WorkerForm};
use jiazheng_store::StoreError;
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::registry::agencies::AgencyQuery;
use jiazheng_store::registry::workers::WorkerQuery;
use jiazheng_store::testing::TestDb;
use jiazheng_store::{PageRequest, Store};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn agency_form(uscc_body: &str, name: &str, street: &str) -> AgencyForm {
    AgencyForm {
        uscc: Uscc::compose("220102", uscc_body),
        name: name.into(),
        brand_name: String::new(),
        legal_representative: "李明".into(),
        address: "人民大街1号".into(),
        street_code: street.into(),
        phone: "043188886666".into(),
        business_model: "employee".into(),
    }
}

fn worker(seq: u16, name: &str, street: &str, services: &str) -> WorkerDraft {
    let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap() + chrono::Duration::days(i64::from(seq));
    WorkerForm {
        id_number: ResidentId::compose(&street[..6], birth, seq),
        name: name.into(),
        phone: format!("139{:08}", seq),
        ethnicity: String::new(),
        education_level: "senior".into(),
        education_major: String::new(),
        education_related: "否".into(),
        home_street: street.into(),
        services: vec![services.into()],
    }
    .parse(today())
    .unwrap()
}

async fn agency(store: &Store, body: &str) -> i64 {
    store.create_agency(&agency_form(body, "长春市安心家政服务有限公司", "220102001").parse().unwrap()).await.unwrap()
}

#[tokio::test]
async fn divisions_load_with_the_published_counts_and_reload_idempotently() {
    let db = TestDb::new().await;
    let counts = db.store.division_counts().await.unwrap();
    assert_eq!((counts.districts, counts.streets), (15, 231));
    assert_eq!((counts.communities, counts.village_committees, counts.other_units), (712, 2079, 7));
    assert_eq!(counts.village_level_units(), 2798);
    let (all, _) = jiazheng_store::registry::divisions::parse_divisions_csv(
        jiazheng_store::registry::divisions::CHANGCHUN_DIVISIONS.as_bytes(),
        "长春市",
    )
    .unwrap();
    db.store.import_divisions(&all).await.unwrap();
    assert_eq!(db.store.division_counts().await.unwrap(), counts);
    assert_eq!(db.store.division("220102001001").await.unwrap().name, "华阳社区");
    assert_eq!(db.store.districts().await.unwrap().len(), 15);
}

#[tokio::test]
async fn agencies_are_unique_by_uscc_searchable_and_protected_from_lost_updates() {
    let db = TestDb::new().await;
    let s = &db.store;
    let id = agency(s, "MA0Y1234").await;
    let duplicate = s.create_agency(&agency_form("MA0Y1234", "另一家", "220102001").parse().unwrap()).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict { what: "agency_uscc", .. })));
    let unknown_street = s.create_agency(&agency_form("MA0Y9999", "无名", "220102999").parse().unwrap()).await;
    match unknown_street {
        Err(StoreError::Invalid(e)) => assert_eq!(e.0[0].field, "street_code"),
        other => panic!("{other:?}"),
    }
    s.create_agency(&agency_form("MA0Y5555", "朝阳区好帮手家政", "220104001").parse().unwrap()).await.unwrap();

    let by_name = s.search_agencies(&AgencyQuery { text: Some("安心".into()), ..Default::default() }).await.unwrap();
    assert_eq!((by_name.total, by_name.items[0].id), (1, id));
    assert_eq!(by_name.items[0].district_name, "南关区");
    let by_district =
        s.search_agencies(&AgencyQuery { district: Some("220104000000".into()), ..Default::default() }).await.unwrap();
    assert_eq!(by_district.total, 1);
    let wildcard = s.search_agencies(&AgencyQuery { text: Some("%".into()), ..Default::default() }).await.unwrap();
    assert_eq!(wildcard.total, 0);

    let current = s.agency(id).await.unwrap();
    let mut edit = agency_form("MA0Y1234", "安心家政（改名）", "220102001");
    edit.brand_name = "安心".into();
    s.update_agency(id, current.version, &edit.parse().unwrap(), "regulator:city".into(), None).await.unwrap();
    let late_edit = agency_form("MA0Y1234", "迟到的修改", "220102001").parse().unwrap();
    assert!(matches!(
        s.update_agency(id, current.version, &late_edit, "regulator:city".into(), None).await,
        Err(StoreError::Stale)
    ));
    assert_eq!(s.agency(id).await.unwrap().name, "安心家政（改名）");
}

#[tokio::test]
async fn workers_are_sealed_unique_and_found_by_district_service_and_name_fragment() {
    let db = TestDb::new().await;
    let s = &db.store;
    let a = agency(s, "MA0Y1234").await;
    let first = worker(1, "王秀英", "220102001", "cleaning、maternity");
    let id = s.create_worker(&first, Some((a, BindingKind::Employee))).await.unwrap();
    s.create_worker(&worker(2, "王芳", "220102001", "cleaning"), Some((a, BindingKind::Employee))).await.unwrap();
    s.create_worker(&worker(3, "李秀英", "220104001", "maternity"), None).await.unwrap();
    s.create_worker(&worker(4, "欧阳秀英", "220102002", "childcare"), None).await.unwrap();

    let again = s.create_worker(&first, None).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "worker_id_number", existing_id: Some(x) }) if x == id));

    let search = |name: &str, district: Option<&str>, service: Option<ServiceKind>| WorkerQuery {
        name: Some(name.into()),
        district: district.map(|d| DivisionCode::parse(d).unwrap()),
        service,
        ..Default::default()
    };
    let names = |page: jiazheng_store::Page<jiazheng_store::registry::workers::Worker>| {
        let mut n: Vec<String> = page.items.into_iter().map(|w| w.name).collect();
        n.sort();
        n
    };
    assert_eq!(names(s.search_workers(&search("秀英", None, None)).await.unwrap()), ["李秀英", "欧阳秀英", "王秀英"]);
    assert_eq!(names(s.search_workers(&search("秀英", Some("220102"), None)).await.unwrap()), ["欧阳秀英", "王秀英"]);
    let maternity = s.search_workers(&search("秀英", Some("220102"), Some(ServiceKind::Maternity))).await.unwrap();
    assert_eq!(names(maternity), ["王秀英"]);
    assert_eq!(names(s.search_workers(&search("王", Some("220102"), None)).await.unwrap()), ["王秀英", "王芳"]);
    assert_eq!(names(s.search_workers(&search("欧阳秀", None, None)).await.unwrap()), ["欧阳秀英"]);
    assert_eq!(names(s.search_workers(&search("王秀", Some("220102002"), None)).await.unwrap()), Vec::<String>::new());
    let agency_query = WorkerQuery {
        agency: Some(a),
        pending_too: true,
        page: PageRequest::new(Some(1), Some(1)),
        ..Default::default()
    };
    let agency_list = s.search_workers(&agency_query).await.unwrap();
    assert_eq!((agency_list.total, agency_list.items.len(), agency_list.pages()), (2, 1, 2));
    // The public sees an agency's workers only once they confirmed.
    let public = s.search_workers(&WorkerQuery { pending_too: false, ..agency_query }).await.unwrap();
    assert_eq!(public.total, 0);

    // Renaming a worker (and moving district) moves them in the search too.
    let mut renamed = worker(1, "王桂兰", "220104001", "cleaning");
    renamed.id_number = first.id_number.clone();
    s.update_worker(id, 1, &renamed, a).await.unwrap();
    assert_eq!(names(s.search_workers(&search("秀英", Some("220102"), None)).await.unwrap()), ["欧阳秀英"]);
    assert_eq!(names(s.search_workers(&search("桂兰", Some("220104"), None)).await.unwrap()), ["王桂兰"]);
    assert!(matches!(s.update_worker(id, 1, &first, a).await, Err(StoreError::Stale)));
    s.update_worker(id, 2, &first, a).await.unwrap();

    let stored = s.worker(id).await.unwrap();
    assert_eq!(stored.id_masked, first.id_number.masked());
    assert_eq!(stored.phone_masked, "139****0001");
    assert_eq!(stored.sex, "male");
    // Nothing in the row spells out the number.
    let raw: Vec<u8> = match s.pool() {
        jiazheng_store::Pool::Sqlite(p) => {
            sqlx::query_scalar("SELECT id_cipher FROM workers WHERE id = $1").bind(id).fetch_one(p).await.unwrap()
        }
        jiazheng_store::Pool::Postgres(p) => {
            sqlx::query_scalar("SELECT id_cipher FROM workers WHERE id = $1").bind(id).fetch_one(p).await.unwrap()
        }
    };
    assert!(!String::from_utf8_lossy(&raw).contains(first.id_number.as_str()));
}

#[tokio::test]
async fn sensitive_reads_are_checked_on_the_object_and_logged() {
    let db = TestDb::new().await;
    let s = &db.store;
    let owner = agency(s, "MA0Y1234").await;
    let other = agency(s, "MA0Y5678").await;
    let draft = worker(7, "赵丽", "220102001", "cleaning");
    let id = s.create_worker(&draft, Some((owner, BindingKind::Employee))).await.unwrap();
    let account = |role, agency_id, district_code: Option<&str>, name: &str| NewAccount {
        username: name.into(),
        display_name: name.into(),
        password: "correct horse battery".into(),
        role,
        agency_id,
        district_code: district_code.map(String::from),
        worker_id: None,
        provider_id: None,
        bank_id: None,
        evaluator_id: None,
    };
    let owner_account = s.create_account(&account(Role::AgencyAdmin, Some(owner), None, "owner")).await.unwrap();
    s.create_account(&account(Role::AgencyAdmin, Some(other), None, "other")).await.unwrap();
    let w = s.worker(id).await.unwrap();
    let principal = Principal { account_id: owner_account, role: Role::AgencyAdmin, scope: Scope::Agency(owner) };
    // Registering the record grants nothing until the worker confirms the binding.
    assert!(matches!(s.reveal_worker(&principal, &w, "edit").await, Err(StoreError::Refused(_))));
    let binding = s.open_binding(id, owner).await.unwrap().unwrap();
    s.act_on_binding(binding.id, BindingAction::Confirm, Side::Worker).await.unwrap();

    let revealed = s.reveal_worker(&principal, &w, "edit").await.unwrap();
    assert_eq!(revealed.id_number, draft.id_number.as_str());
    assert_eq!(revealed.phone, "13900000007");
    let log = s.access_log("worker", id).await.unwrap();
    assert_eq!((log.len(), log[0].username.as_str(), log[0].purpose.as_str()), (1, "owner", "edit"));

    let outsider = Principal { account_id: owner_account, role: Role::AgencyAdmin, scope: Scope::Agency(other) };
    assert!(matches!(s.reveal_worker(&outsider, &w, "peek").await, Err(StoreError::Refused(_))));
    let elsewhere = Principal {
        account_id: owner_account,
        role: Role::Regulator,
        scope: Scope::District(DivisionCode::parse("220104").unwrap()),
    };
    assert!(!s.may_reveal(&elsewhere, &w).await.unwrap());
    assert_eq!(s.access_log("worker", id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn bindings_need_both_sides_and_concurrent_steps_do_not_both_win() {
    let db = TestDb::new().await;
    let s = &db.store;
    let first = agency(s, "MA0Y1234").await;
    let second = agency(s, "MA0Y5678").await;
    let id = s
        .create_worker(&worker(9, "孙梅", "220102001", "cleaning"), Some((first, BindingKind::Employee)))
        .await
        .unwrap();
    let pending = s.open_binding(id, first).await.unwrap().unwrap();
    assert!(matches!(
        s.act_on_binding(pending.id, BindingAction::Confirm, Side::Agency).await,
        Err(StoreError::Refused(_))
    ));
    let active = s.act_on_binding(pending.id, BindingAction::Confirm, Side::Worker).await.unwrap();
    assert_eq!(active.status, "active");
    assert!(active.started_at.is_some());

    // A second open binding with the same agency is refused by the database itself.
    let again = s.request_binding(id, first, BindingKind::Intermediary, Side::Agency).await;
    assert!(matches!(again, Err(StoreError::Conflict { what: "binding_open", .. })));
    // Another agency may ask; two confirmations racing: exactly one wins.
    let ask = s.request_binding(id, second, BindingKind::Intermediary, Side::Worker).await.unwrap();
    let (a, b) = tokio::join!(
        s.act_on_binding(ask, BindingAction::Confirm, Side::Agency),
        s.act_on_binding(ask, BindingAction::Reject, Side::Agency)
    );
    assert_eq!(a.is_ok() as u8 + b.is_ok() as u8, 1, "{a:?} {b:?}");

    s.act_on_binding(active.id, BindingAction::RequestEnd, Side::Worker).await.unwrap();
    let ended = s.act_on_binding(active.id, BindingAction::ConfirmEnd, Side::Agency).await.unwrap();
    assert_eq!(ended.status, "ended");
    assert!(ended.ended_at.is_some());
    let history = s.bindings_of_worker(id).await.unwrap();
    assert_eq!(history.len(), 2);
}

#[tokio::test]
async fn service_points_list_by_district_and_refuse_unknown_communities() {
    let db = TestDb::new().await;
    let s = &db.store;
    let a = agency(s, "MA0Y1234").await;
    let form = ServicePointForm {
        name: "华阳社区家政服务站".into(),
        community_code: "220102001001".into(),
        address: "华阳街1号".into(),
        opening_hours: "08:00-18:00".into(),
        serves: vec!["220102001002".into()],
        ..Default::default()
    };
    let id = s.create_service_point(a, &form.parse().unwrap()).await.unwrap();
    let listed = s.service_points(Some("220102000000"), None, PageRequest::default()).await.unwrap();
    assert_eq!((listed.total, listed.items[0].communities_served), (1, 2));
    assert_eq!(listed.items[0].community_name, "华阳社区");
    assert_eq!(s.service_points(Some("220104000000"), None, PageRequest::default()).await.unwrap().total, 0);
    let unknown = ServicePointForm { community_code: "220102001999".into(), ..form };
    assert!(matches!(s.create_service_point(a, &unknown.parse().unwrap()).await, Err(StoreError::Invalid(_))));
    s.close_service_point(id, a).await.unwrap();
    assert!(matches!(s.close_service_point(id, a).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn accounts_authenticate_and_sessions_expire_on_logout() {
    let db = TestDb::new().await;
    let s = &db.store;
    let account = NewAccount {
        username: "regulator".into(),
        display_name: "南关区商务局".into(),
        password: "a long enough secret".into(),
        role: Role::Regulator,
        agency_id: None,
        district_code: Some("220102000000".into()),
        worker_id: None,
        provider_id: None,
        bank_id: None,
        evaluator_id: None,
    };
    let id = s.create_account(&account).await.unwrap();
    assert!(matches!(s.create_account(&account).await, Err(StoreError::Conflict { what: "account_username", .. })));
    assert!(s.authenticate("regulator", "wrong").await.unwrap().is_none());
    assert!(s.authenticate("nobody", "a long enough secret").await.unwrap().is_none());
    let principal = s.authenticate("regulator", "a long enough secret").await.unwrap().unwrap();
    assert_eq!(principal.account_id, id);
    assert_eq!(principal.scope, Scope::District(DivisionCode::parse("220102").unwrap()));
    let token = s.create_session(id).await.unwrap();
    let session = s.session(&token).await.unwrap().unwrap();
    assert_eq!(session.principal, principal);
    assert_eq!(session.csrf_token.len(), 32);
    assert!(s.session("not-a-token").await.unwrap().is_none());
    s.end_session(&token).await.unwrap();
    assert!(s.session(&token).await.unwrap().is_none());
}

/// Sealed values are bound to their row: two rows' ciphertexts swapped open for neither; values
/// sealed the old way are re-sealed by the next start.
#[tokio::test]
async fn swapped_ciphertexts_do_not_open_and_old_seals_are_re_sealed() {
    let db = TestDb::new().await;
    let s = &db.store;
    let a = agency(s, "MA0Y1234").await;
    let first =
        s.create_worker(&worker(21, "赵一", "220102001", "cleaning"), Some((a, BindingKind::Employee))).await.unwrap();
    let second =
        s.create_worker(&worker(22, "钱二", "220102001", "cleaning"), Some((a, BindingKind::Employee))).await.unwrap();
    let account = NewAccount {
        username: "city".into(),
        display_name: "city".into(),
        password: "correct horse battery".into(),
        role: Role::Regulator,
        agency_id: None,
        district_code: None,
        worker_id: None,
        provider_id: None,
        bank_id: None,
        evaluator_id: None,
    };
    let regulator =
        Principal { account_id: s.create_account(&account).await.unwrap(), role: Role::Regulator, scope: Scope::City };
    let w1 = s.worker(first).await.unwrap();
    assert_eq!(s.reveal_worker(&regulator, &w1, "check").await.unwrap().phone, "13900000021");

    // Someone with write access moves the second row's ID ciphertext onto the first.
    let swap = format!(
        "UPDATE workers SET id_cipher = (SELECT id_cipher FROM workers WHERE id = {second}) WHERE id = {first}"
    );
    raw(s, &swap).await;
    assert!(s.reveal_worker(&regulator, &w1, "check").await.is_err(), "a moved ciphertext opened");

    // A row sealed the old way (no associated data) and queued, as migration 0008 queues them.
    let legacy_id = s.crypto().seal(worker(22, "钱二", "220102001", "cleaning").id_number.as_str());
    let legacy_phone = s.crypto().seal("13900000022");
    set_legacy(s, second, legacy_id, legacy_phone).await;
    let w2 = s.worker(second).await.unwrap();
    assert!(s.reveal_worker(&regulator, &w2, "check").await.is_err(), "old seals are not read as they are");
    assert_eq!(s.reseal_queued().await.unwrap(), 1);
    assert_eq!(s.reveal_worker(&regulator, &w2, "check").await.unwrap().phone, "13900000022");
    assert_eq!(s.reseal_queued().await.unwrap(), 0, "the queue is empty");
}

async fn raw(store: &jiazheng_store::Store, sql: &str) {
    match store.pool() {
        jiazheng_store::Pool::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.unwrap();
        }
        jiazheng_store::Pool::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.unwrap();
        }
    }
}

async fn set_legacy(store: &jiazheng_store::Store, worker: i64, id: Vec<u8>, phone: Vec<u8>) {
    let update = "UPDATE workers SET id_cipher = $1, phone_cipher = $2 WHERE id = $3";
    let queue = "INSERT INTO reseal_queue (table_name, row_id) VALUES ('workers', $1)";
    match store.pool() {
        jiazheng_store::Pool::Sqlite(p) => {
            sqlx::query(update).bind(id).bind(phone).bind(worker).execute(p).await.unwrap();
            sqlx::query(queue).bind(worker).execute(p).await.unwrap();
        }
        jiazheng_store::Pool::Postgres(p) => {
            sqlx::query(update).bind(id).bind(phone).bind(worker).execute(p).await.unwrap();
            sqlx::query(queue).bind(worker).execute(p).await.unwrap();
        }
    }
}

#[tokio::test]
async fn the_latest_photo_is_current_and_a_missing_worker_gets_none() {
    let db = TestDb::new().await;
    let s = &db.store;
    let worker = s.create_worker(&worker(71, "林秀珍", "220102001", "cleaning"), None).await.unwrap();
    let account = NewAccount {
        username: "clerk".into(),
        display_name: "办事员".into(),
        password: "a long enough secret".into(),
        role: Role::Regulator,
        agency_id: None,
        district_code: None,
        worker_id: None,
        provider_id: None,
        bank_id: None,
        evaluator_id: None,
    };
    let by = s.create_account(&account).await.unwrap();
    assert_eq!(s.photo(worker).await.unwrap(), None);
    s.set_photo(worker, &"a".repeat(64), by).await.unwrap();
    s.set_photo(worker, &"b".repeat(64), by).await.unwrap();
    let current = s.photo(worker).await.unwrap().unwrap();
    assert_eq!((current.digest, current.uploaded_by_name), ("b".repeat(64), "办事员".to_string()));
    assert!(matches!(s.set_photo(worker + 1000, &"c".repeat(64), by).await, Err(StoreError::NotFound)));
    assert!(s.set_photo(worker, "short", by).await.is_err(), "a digest is 64 hex characters");
}
