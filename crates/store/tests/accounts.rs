//! Accounts managed by a system admin, on a real database: run with JIAZHENG_TEST_DATABASE
//! unset (SQLite) or set to a PostgreSQL URL.

use jiazheng_core::account::{AccountEventKind, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_store::accounts::{AccountQuery, NewAccount, generate_password};
use jiazheng_store::testing::TestDb;
use jiazheng_store::{PageRequest, Store, StoreError};

const PASSWORD: &str = "first-password";

async fn admin(store: &Store) -> i64 {
    let account = NewAccount::scoped("root".into(), "管理员".into(), PASSWORD.into(), Role::SystemAdmin, &Scope::City);
    store.create_account(&account).await.unwrap()
}

async fn regulator(store: &Store, by: i64, name: &str) -> i64 {
    let district = Scope::District(DivisionCode::parse("220102").unwrap());
    let account = NewAccount::scoped(name.into(), "南关区商务局".into(), PASSWORD.into(), Role::Regulator, &district);
    store.create_account_as(&account, by).await.unwrap()
}

#[tokio::test]
async fn a_disabled_account_cannot_sign_in_and_its_sessions_end_at_once() {
    let db = TestDb::new().await;
    let store = &db.store;
    let root = admin(store).await;
    let id = regulator(store, root, "nanguan").await;
    let token = store.create_session(id).await.unwrap();
    assert!(store.session(&token).await.unwrap().is_some());

    let version = store.account_listing(id).await.unwrap().version;
    store.set_account_disabled(id, version, true, root).await.unwrap();
    assert!(store.session(&token).await.unwrap().is_none(), "the session ended");
    assert!(store.authenticate("nanguan", PASSWORD).await.unwrap().is_none(), "sign-in refused");
    // Even a session started after disabling (a race with sign-in) is not honoured.
    let late = store.create_session(id).await.unwrap();
    assert!(store.session(&late).await.unwrap().is_none());

    let listing = store.account_listing(id).await.unwrap();
    assert!(listing.disabled);
    store.set_account_disabled(id, listing.version, false, root).await.unwrap();
    let principal = store.authenticate("nanguan", PASSWORD).await.unwrap().expect("enabled again");
    assert_eq!(principal.scope, Scope::District(DivisionCode::parse("220102").unwrap()));

    let kinds: Vec<String> = store.account_events(id).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["enabled", "disabled", "created"]);
}

#[tokio::test]
async fn a_second_admin_working_from_a_stale_read_is_refused_not_overwritten() {
    let db = TestDb::new().await;
    let store = &db.store;
    let root = admin(store).await;
    let other = store
        .create_account(&NewAccount::scoped(
            "root2".into(),
            "管理员2".into(),
            PASSWORD.into(),
            Role::SystemAdmin,
            &Scope::City,
        ))
        .await
        .unwrap();
    let id = regulator(store, root, "nanguan").await;
    let read = store.account_listing(id).await.unwrap().version;
    store.change_account_access(id, read, Role::Regulator, &Scope::City, root).await.unwrap();
    let stale = store.set_account_disabled(id, read, true, other).await;
    assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
    let stale = store.change_account_access(id, read, Role::Resident, &Scope::None, other).await;
    assert!(matches!(stale, Err(StoreError::Stale)), "{stale:?}");
    let now = store.account_listing(id).await.unwrap();
    assert_eq!((now.role.as_str(), now.district_code, now.disabled), ("regulator", None, false));
    assert!(matches!(store.set_account_disabled(9999, 1, true, root).await, Err(StoreError::NotFound)));

    let events = store.account_events(id).await.unwrap();
    assert_eq!(events[0].kind, AccountEventKind::AccessChanged.as_str());
    assert_eq!(events[0].actor_username.as_deref(), Some("root"));
    assert_eq!(events[1].district_name.as_deref(), Some("南关区"), "the log names the scope it gave");
}

#[tokio::test]
async fn a_reset_password_ends_sessions_and_the_old_one_stops_working() {
    let db = TestDb::new().await;
    let store = &db.store;
    let root = admin(store).await;
    let id = regulator(store, root, "nanguan").await;
    let token = store.create_session(id).await.unwrap();
    let fresh = generate_password();
    assert_eq!(fresh.chars().count(), 12);
    assert!(fresh.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)), "{fresh}");
    assert_ne!(fresh, generate_password());
    store.reset_password(id, &fresh, root).await.unwrap();
    assert!(store.session(&token).await.unwrap().is_none());
    assert!(store.authenticate("nanguan", PASSWORD).await.unwrap().is_none());
    assert!(store.authenticate("nanguan", &fresh).await.unwrap().is_some());
}

#[tokio::test]
async fn an_admin_cannot_disable_or_demote_themselves_and_taken_names_are_field_errors() {
    let db = TestDb::new().await;
    let store = &db.store;
    let root = admin(store).await;
    let version = store.account_listing(root).await.unwrap().version;
    for refused in [
        store.set_account_disabled(root, version, true, root).await,
        store.change_account_access(root, version, Role::Regulator, &Scope::City, root).await,
    ] {
        match refused {
            Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "own_account"),
            other => panic!("{other:?}"),
        }
    }
    assert!(store.authenticate("root", PASSWORD).await.unwrap().is_some());

    regulator(store, root, "nanguan").await;
    let again = NewAccount::scoped("nanguan".into(), "x".into(), PASSWORD.into(), Role::Resident, &Scope::None);
    match store.create_account_as(&again, root).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.for_field("username").unwrap().code, "taken"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_list_searches_names_filters_roles_and_pages() {
    let db = TestDb::new().await;
    let store = &db.store;
    let root = admin(store).await;
    for n in 0..5 {
        regulator(store, root, &format!("reg{n}")).await;
    }
    let resident = NewAccount::scoped("zhang_san".into(), "张三".into(), PASSWORD.into(), Role::Resident, &Scope::None);
    store.create_account_as(&resident, root).await.unwrap();
    let query = |text: Option<&str>, role, page| AccountQuery {
        text: text.map(String::from),
        role,
        page: PageRequest::new(Some(page), Some(2)),
    };
    let regulators = store.accounts(&query(None, Some(Role::Regulator), 3)).await.unwrap();
    assert_eq!((regulators.total, regulators.items.len()), (5, 1));
    let found = store.accounts(&query(Some("张"), None, 1)).await.unwrap();
    assert_eq!(found.items.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(), ["zhang_san"]);
    // `_` is a letter here, not a LIKE wildcard.
    assert_eq!(store.accounts(&query(Some("g_s"), None, 1)).await.unwrap().total, 1);
    assert_eq!(store.accounts(&query(Some("gXs"), None, 1)).await.unwrap().total, 0);
    let listed = &regulators.items[0];
    assert_eq!(listed.district_name.as_deref(), Some("南关区"));
}
