//! The system admin's desk: accounts listed, created, reset, disabled and given a role and a
//! scope. Scopes are picked by name (an agency found by name or USCC, a district from the list,
//! a worker by name, ID number or certificate number), never typed as ids; every change is
//! logged on the account's page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::{CookieJar, Form};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{AccessForm, AccountEventKind, AccountForm, InitialPassword, Role, ScopeNeed};
use jiazheng_core::field::{Invalid, optional_text};
use jiazheng_store::PageRequest;
use jiazheng_store::accounts::{AccountListing, AccountQuery, NewAccount, generate_password};
use jiazheng_store::registry::agencies::AgencyQuery;
use jiazheng_store::registry::workers::WorkerQuery;
use serde::Deserialize;

use super::{Chrome, Pager, beijing_minutes, field_message, render};
use crate::auth::{Viewer, session_cookie};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list))
        .route("/admin/accounts/new", get(new_form).post(create))
        .route("/admin/accounts/{id}", get(detail))
        .route("/admin/accounts/{id}/password", post(reset_password))
        .route("/admin/accounts/{id}/disable", post(disable))
        .route("/admin/accounts/{id}/enable", post(enable))
        .route("/admin/accounts/{id}/access", post(change_access))
}

/// The signed-in system admin's account id.
fn admin(viewer: &Viewer) -> Result<i64, AppError> {
    Ok(viewer.require_role(&[Role::SystemAdmin])?.principal.account_id)
}

/// The names a scope points to, from a listing or a log line.
struct ScopeNames<'a> {
    role: &'a str,
    agency: Option<&'a str>,
    district: Option<&'a str>,
    worker: Option<&'a str>,
    provider: Option<&'a str>,
    bank: Option<&'a str>,
    evaluator: Option<&'a str>,
}

impl ScopeNames<'_> {
    /// The scope as a person reads it: the name it points to, the whole city, or a dash.
    fn words(&self, lang: Lang) -> String {
        let named = [self.agency, self.provider, self.bank, self.evaluator, self.worker, self.district]
            .into_iter()
            .flatten()
            .next();
        match named {
            Some(name) => name.to_string(),
            None if matches!(Role::parse(self.role), Ok(Role::Regulator | Role::SystemAdmin)) => lang.t("admin.city"),
            None => "—".to_string(),
        }
    }
}

fn listing_scope(a: &AccountListing) -> ScopeNames<'_> {
    ScopeNames {
        role: &a.role,
        agency: a.agency_name.as_deref(),
        district: a.district_name.as_deref(),
        worker: a.worker_name.as_deref(),
        provider: a.provider_name.as_deref(),
        bank: a.bank_name.as_deref(),
        evaluator: a.evaluator_name.as_deref(),
    }
}

/// An account as the list and its own page show it.
struct AccountLine {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    scope: String,
    state: String,
    disabled: bool,
    created: String,
}

impl AccountLine {
    fn new(a: &AccountListing, lang: Lang) -> Self {
        Self {
            id: a.id,
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: Role::label_of(&a.role, lang.is_en()).to_string(),
            scope: listing_scope(a).words(lang),
            state: lang.t(if a.disabled { "admin.disabled" } else { "admin.enabled" }),
            disabled: a.disabled,
            created: beijing_minutes(a.created_at),
        }
    }
}

/// A role's label and code for a <select>, the chosen one marked.
fn role_options(lang: Lang, chosen: &str) -> Vec<(&'static str, &'static str, bool)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label(lang.is_en()), r.as_str() == chosen)).collect()
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct ListPage {
    chrome: Chrome,
    q: String,
    roles: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<AccountLine>,
    pager: Pager,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    role: String,
    page: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    admin(&viewer)?;
    // A search longer than any name finds nothing anyway; bounded so the LIKE stays cheap.
    let text = optional_text(&query.q, 64).unwrap_or(None);
    let role = Role::parse(&query.role).ok();
    let page = state
        .store
        .accounts(&AccountQuery { text: text.clone(), role, page: PageRequest::new(query.page, Some(20)) })
        .await?;
    let mut base = Vec::new();
    if let Some(text) = &text {
        base.push(format!("q={}", super::encode(text)));
    }
    if let Some(role) = role {
        base.push(format!("role={}", role.as_str()));
    }
    render(&ListPage {
        chrome: Chrome::new(lang, &viewer, "/admin/accounts", lang.t("admin.title")),
        q: text.unwrap_or_default(),
        roles: role_options(lang, role.map_or("", Role::as_str)),
        rows: page.items.iter().map(|a| AccountLine::new(a, lang)).collect(),
        pager: Pager::new(&page, "/admin/accounts", &base.join("&")),
    })
}

/// The role and scope fields as posted: the role, and for each kind of scope either the id
/// picked from a list or the words to search by.
#[derive(Deserialize, Default, Clone)]
struct AccessPost {
    #[serde(default)]
    role: String,
    #[serde(default)]
    agency_q: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    worker_q: String,
    #[serde(default)]
    worker_id: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    bank_id: String,
    #[serde(default)]
    evaluator_id: String,
}

/// One option of a picker: its value, its words, whether it is chosen.
type Choice = (String, String, bool);

/// The role and scope pickers, shared by the new-account form and an account's page.
struct Picker {
    roles: Vec<(&'static str, &'static str, bool)>,
    agency_q: String,
    /// The agency picked, or the ones the search found: id, words, chosen.
    agencies: Vec<(i64, String, bool)>,
    worker_q: String,
    workers: Vec<(i64, String, bool)>,
    districts: Vec<(String, String, bool)>,
    /// Streets by district (community staff may be narrowed to one): district name, (code, name, chosen).
    streets: Vec<(String, Vec<Choice>)>,
    providers: Vec<(i64, String, bool)>,
    banks: Vec<(i64, String, bool)>,
    evaluators: Vec<(i64, String, bool)>,
    role_error: Option<String>,
    agency_error: Option<String>,
    worker_error: Option<String>,
    district_error: Option<String>,
    street_error: Option<String>,
    provider_error: Option<String>,
    bank_error: Option<String>,
    evaluator_error: Option<String>,
}

/// What a name search found for one scope field.
enum Found {
    One(i64, String),
    Many(Vec<(i64, String)>),
    Nothing,
    NotAsked,
}

fn id_of(raw: &str) -> Option<i64> {
    raw.trim().parse().ok().filter(|id| *id > 0)
}

fn words_of(raw: &str) -> Option<String> {
    optional_text(raw, 64).ok().flatten()
}

async fn find_agency(state: &AppState, picked: &str, q: &str) -> Result<Found, AppError> {
    let words = |a: &jiazheng_store::registry::agencies::Agency| format!("{}（{}）", a.name, a.uscc);
    if let Some(id) = id_of(picked) {
        return match state.store.agency(id).await {
            Ok(agency) => Ok(Found::One(id, words(&agency))),
            Err(jiazheng_store::StoreError::NotFound) => Ok(Found::Nothing),
            Err(other) => Err(other.into()),
        };
    }
    let Some(text) = words_of(q) else { return Ok(Found::NotAsked) };
    let query = AgencyQuery { text: Some(text.clone()), district: None, page: PageRequest::new(Some(1), Some(20)) };
    let found = state.store.search_agencies(&query).await?.items;
    let exact = found.iter().find(|a| a.name == text || a.uscc.eq_ignore_ascii_case(&text));
    Ok(match (found.len(), exact) {
        (0, _) => Found::Nothing,
        (1, _) => Found::One(found[0].id, words(&found[0])),
        (_, Some(a)) => Found::One(a.id, words(a)),
        _ => Found::Many(found.iter().map(|a| (a.id, words(a))).collect()),
    })
}

/// A worker by the id picked, an ID number, a certificate number or a name; shown with the
/// masked ID number only, as everywhere outside the worker's employers.
async fn find_worker(state: &AppState, picked: &str, q: &str) -> Result<Found, AppError> {
    let words = |w: &jiazheng_store::registry::workers::Worker| format!("{} · {}", w.name, w.id_masked);
    let one = |id: i64| async move {
        match state.store.worker(id).await {
            Ok(worker) => Ok(Found::One(id, words(&worker))),
            Err(jiazheng_store::StoreError::NotFound) => Ok(Found::Nothing),
            Err(other) => Err(AppError::from(other)),
        }
    };
    if let Some(id) = id_of(picked) {
        return one(id).await;
    }
    let Some(text) = words_of(q) else { return Ok(Found::NotAsked) };
    if let Some(id) = state.store.worker_id_by_id_number(&text.to_ascii_uppercase()).await? {
        return one(id).await;
    }
    match state.store.certificate(&text.to_ascii_uppercase()).await {
        Ok(card) => return one(card.worker_id).await,
        Err(jiazheng_store::StoreError::NotFound) => {}
        Err(other) => return Err(other.into()),
    }
    let query = WorkerQuery { name: Some(text), page: PageRequest::new(Some(1), Some(20)), ..Default::default() };
    let found = state.store.search_workers(&query).await?.items;
    Ok(match found.len() {
        0 => Found::Nothing,
        1 => Found::One(found[0].id, words(&found[0])),
        _ => Found::Many(found.iter().map(|w| (w.id, words(w))).collect()),
    })
}

/// Turns a search into the id the rules read, the options the page shows and, when the search
/// did not settle on one record, the error beside the field.
fn settle(found: Found, field: &str, errors: &mut FieldErrors) -> (Option<i64>, Vec<(i64, String, bool)>) {
    match found {
        Found::One(id, words) => (Some(id), vec![(id, words, true)]),
        Found::Many(options) => {
            errors.0.push(
                Invalid::new("pick_one", "有多条符合，请从列表中选择一项", "several match: pick one from the list")
                    .at(field),
            );
            (None, options.into_iter().map(|(id, words)| (id, words, false)).collect())
        }
        Found::Nothing => {
            errors.0.push(Invalid::new("no_match", "没有找到符合的记录", "nothing matches").at(field));
            (None, Vec::new())
        }
        Found::NotAsked => (None, Vec::new()),
    }
}

/// Reads the posted role and scope: searches resolved, the typed form for the rules, and the
/// search problems of the field the role needs.
async fn resolve(state: &AppState, post: &AccessPost) -> Result<(AccessForm, Picker, FieldErrors), AppError> {
    let need = Role::parse(&post.role).map(Role::scope_need).ok();
    let mut search_errors = FieldErrors::default();
    let mut agency_errors = FieldErrors::default();
    let mut worker_errors = FieldErrors::default();
    let (agency_id, agencies) =
        settle(find_agency(state, &post.agency_id, &post.agency_q).await?, "agency", &mut agency_errors);
    let (worker_id, workers) =
        settle(find_worker(state, &post.worker_id, &post.worker_q).await?, "worker", &mut worker_errors);
    // A search in a field the role does not use is not this form's problem.
    if need == Some(ScopeNeed::Agency) {
        search_errors.0.extend(agency_errors.0);
    }
    if need == Some(ScopeNeed::Worker) {
        search_errors.0.extend(worker_errors.0);
    }
    let provider_id = id_of(&post.provider_id);
    let bank_id = id_of(&post.bank_id);
    let evaluator_id = id_of(&post.evaluator_id);
    let form = AccessForm {
        role: post.role.clone(),
        agency_id,
        worker_id,
        provider_id,
        bank_id,
        evaluator_id,
        district: post.district.clone(),
        street: post.street.clone(),
    };
    let picked = |chosen: Option<i64>| move |(id, name): (i64, String)| (id, name, Some(id) == chosen);
    let chosen_district = post.district.trim().to_string();
    let chosen_street = post.street.trim().to_string();
    let picker = Picker {
        roles: Vec::new(),
        agency_q: post.agency_q.clone(),
        agencies,
        worker_q: post.worker_q.clone(),
        workers,
        districts: state
            .districts()
            .await?
            .iter()
            .map(|d| (d.code.clone(), d.name.clone(), d.code == chosen_district))
            .collect(),
        streets: state
            .street_groups()
            .await?
            .iter()
            .map(|g| {
                let streets = g.streets.iter().map(|(code, name)| {
                    let full = format!("{code:0<12}");
                    let chosen = full == chosen_street || *code == chosen_street;
                    (full, name.clone(), chosen)
                });
                (g.district.clone(), streets.collect())
            })
            .collect(),
        providers: state.store.provider_names().await?.into_iter().map(picked(provider_id)).collect(),
        banks: state.store.banks().await?.into_iter().map(|b| (b.id, b.name)).map(picked(bank_id)).collect(),
        evaluators: state.store.evaluator_org_names().await?.into_iter().map(picked(evaluator_id)).collect(),
        role_error: None,
        agency_error: None,
        worker_error: None,
        district_error: None,
        street_error: None,
        provider_error: None,
        bank_error: None,
        evaluator_error: None,
    };
    Ok((form, picker, search_errors))
}

impl Picker {
    /// The pickers with their values and each error beside its field.
    fn with(mut self, lang: Lang, role: &str, errors: &FieldErrors) -> Self {
        let message = |field| field_message(errors, lang, field);
        self.roles = role_options(lang, Role::parse(role).map_or("", Role::as_str));
        self.role_error = message("role");
        self.agency_error = message("agency");
        self.worker_error = message("worker");
        self.district_error = message("district");
        self.street_error = message("street");
        self.provider_error = message("provider");
        self.bank_error = message("bank");
        self.evaluator_error = message("evaluator");
        self
    }
}

/// The search problems first (they say more than "required"), then the rules' other errors.
fn merge(mut first: FieldErrors, rules: FieldErrors) -> FieldErrors {
    for error in rules.0 {
        if first.for_field(&error.field).is_none() {
            first.0.push(error);
        }
    }
    first
}

#[derive(Template)]
#[template(path = "admin_account_new.html")]
struct NewPage {
    chrome: Chrome,
    username: String,
    display_name: String,
    typed_password: bool,
    picker: Picker,
    username_error: Option<String>,
    display_name_error: Option<String>,
    password_error: Option<String>,
}

#[derive(Deserialize)]
struct NewPost {
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password_mode: String,
    #[serde(default)]
    password: String,
    #[serde(flatten)]
    access: AccessPost,
}

fn new_page(lang: Lang, viewer: &Viewer, post: &NewPost, picker: Picker, errors: &FieldErrors) -> NewPage {
    let message = |field| field_message(errors, lang, field);
    NewPage {
        chrome: Chrome::new(lang, viewer, "/admin/accounts", lang.t("admin.new")),
        username: post.username.clone(),
        display_name: post.display_name.clone(),
        typed_password: post.password_mode == "typed",
        picker: picker.with(lang, &post.access.role, errors),
        username_error: message("username"),
        display_name_error: message("display_name"),
        password_error: message("password"),
    }
}

async fn new_form(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    admin(&viewer)?;
    let blank = NewPost {
        csrf: String::new(),
        username: String::new(),
        display_name: String::new(),
        password_mode: String::new(),
        password: String::new(),
        access: AccessPost::default(),
    };
    let (_, picker, _) = resolve(&state, &blank.access).await?;
    render(&new_page(lang, &viewer, &blank, picker, &FieldErrors::default()))
}

/// The account just created, with the password to hand over, shown this once.
#[derive(Template)]
#[template(path = "admin_account_created.html")]
struct CreatedPage {
    chrome: Chrome,
    account: AccountLine,
    password: Option<String>,
}

/// A page holding a password: never kept by the browser or a proxy.
fn secret(response: Response) -> Response {
    let mut response = response;
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<NewPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let actor = admin(&viewer)?;
    let (access, picker, search_errors) = resolve(&state, &post.access).await?;
    let form = AccountForm {
        username: post.username.clone(),
        display_name: post.display_name.clone(),
        password_mode: post.password_mode.clone(),
        password: post.password.clone(),
        access,
    };
    let outcome = match form.parse() {
        Ok(draft) if search_errors.is_empty() => {
            let (password, shown) = match draft.password {
                InitialPassword::Generated => {
                    let password = generate_password();
                    (password.clone(), Some(password))
                }
                InitialPassword::Typed(password) => (password, None),
            };
            let account = NewAccount::scoped(draft.username, draft.display_name, password, draft.role, &draft.scope);
            match state.store.create_account_as(&account, actor).await {
                Ok(id) => Ok((id, shown)),
                Err(jiazheng_store::StoreError::Invalid(errors)) => Err(errors),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(_) => Err(search_errors),
        Err(errors) => Err(merge(search_errors, errors)),
    };
    match outcome {
        Ok((id, password)) => {
            let account = AccountLine::new(&state.store.account_listing(id).await?, lang);
            let chrome = Chrome::new(lang, &viewer, "/admin/accounts", lang.t("admin.created"));
            Ok(secret(render(&CreatedPage { chrome, account, password })?))
        }
        // The form again, with what was typed (not the password) and each error beside its field.
        Err(errors) => {
            let page = new_page(lang, &viewer, &post, picker, &errors);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "admin_account.html")]
struct AccountPage {
    chrome: Chrome,
    account: AccountLine,
    version: i64,
    /// Whose page this is: the signed-in admin's own (no disable, no other role).
    own: bool,
    picker: Picker,
    /// A password just set, shown this once.
    password: Option<String>,
    /// What was just done, or why it was refused.
    notice: Option<String>,
    problem: Option<String>,
    log: Vec<LogLine>,
    /// The plan unit a regulator account acts for (issue 14, part 6).
    plan_unit: super::plan_tracker::UnitPicker,
}

struct LogLine {
    at: String,
    who: String,
    what: String,
}

async fn account_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    access: Option<(&AccessPost, Picker, &FieldErrors)>,
) -> Result<AccountPage, AppError> {
    let actor = admin(viewer)?;
    let listing = state.store.account_listing(id).await?;
    let picker = match access {
        Some((post, picker, errors)) => picker.with(lang, &post.role, errors),
        None => {
            // The current role and scope, preselected.
            let current = AccessPost {
                role: listing.role.clone(),
                agency_id: listing.agency_id.map(|i| i.to_string()).unwrap_or_default(),
                worker_id: listing.worker_id.map(|i| i.to_string()).unwrap_or_default(),
                // Staff narrowed to a street keep it in the same column as a district.
                district: listing
                    .district_code
                    .as_deref()
                    .map(|c| format!("{:0<12}", &c[..6.min(c.len())]))
                    .unwrap_or_default(),
                street: listing
                    .district_code
                    .clone()
                    .filter(|c| c.len() == 12 && &c[6..9] != "000")
                    .unwrap_or_default(),
                provider_id: listing.provider_id.map(|i| i.to_string()).unwrap_or_default(),
                bank_id: listing.bank_id.map(|i| i.to_string()).unwrap_or_default(),
                evaluator_id: listing.evaluator_id.map(|i| i.to_string()).unwrap_or_default(),
                ..Default::default()
            };
            let (_, picker, _) = resolve(state, &current).await?;
            picker.with(lang, &current.role, &FieldErrors::default())
        }
    };
    let log = state
        .store
        .account_events(id)
        .await?
        .into_iter()
        .map(|e| {
            let kind = AccountEventKind::label_of(&e.kind, lang.is_en()).to_string();
            let what = match e.role.as_deref() {
                Some(role) => {
                    let names = ScopeNames {
                        role,
                        agency: e.agency_name.as_deref(),
                        district: e.district_name.as_deref(),
                        worker: e.worker_name.as_deref(),
                        provider: e.provider_name.as_deref(),
                        bank: e.bank_name.as_deref(),
                        evaluator: e.evaluator_name.as_deref(),
                    };
                    let colon = lang.pick("：", ": ");
                    format!("{kind}{colon}{} · {}", Role::label_of(role, lang.is_en()), names.words(lang))
                }
                None => kind,
            };
            let who = match (e.actor_display_name, e.actor_username) {
                (Some(shown), Some(name)) => format!("{shown}（{name}）"),
                _ => lang.t("admin.system"),
            };
            LogLine { at: beijing_minutes(e.at), who, what }
        })
        .collect();
    Ok(AccountPage {
        plan_unit: super::plan_tracker::UnitPicker::load(state, id, &listing.role, lang).await?,
        chrome: Chrome::new(lang, viewer, "/admin/accounts", listing.display_name.clone()),
        version: listing.version,
        own: actor == id,
        account: AccountLine::new(&listing, lang),
        picker,
        password: None,
        notice: None,
        problem: None,
        log,
    })
}

#[derive(Deserialize)]
struct DetailQuery {
    #[serde(default)]
    done: String,
}

async fn detail(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, AppError> {
    let mut page = account_page(&state, lang, &viewer, id, None).await?;
    page.notice = match query.done.as_str() {
        "disabled" | "enabled" | "access" => Some(lang.t(&format!("admin.done_{}", query.done))),
        _ => None,
    };
    render(&page)
}

#[derive(Deserialize)]
struct StepPost {
    csrf: String,
    #[serde(default)]
    version: String,
    /// The box ticked to say the admin means it (reset and disable end the person's sessions).
    #[serde(default)]
    confirm: Option<String>,
}

/// Reset and disable act on someone else's working day: one stray click must not do it.
fn confirmed(post: &StepPost) -> Result<(), AppError> {
    match post.confirm.as_deref() {
        Some("yes") => Ok(()),
        _ => Err(AppError::invalid(
            "confirm",
            "required",
            "请先勾选确认框，再执行此操作",
            "tick the box to confirm, then press the button",
        )),
    }
}

async fn reset_password(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Path(id): Path<i64>,
    Form(post): Form<StepPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let actor = admin(&viewer)?;
    if let Err(error) = confirmed(&post) {
        return refused(&state, lang, &viewer, id, error).await;
    }
    let password = generate_password();
    state.store.reset_password(id, &password, actor).await?;
    // Every session of the account ended, this one too when the admin reset their own: they
    // get a new one here rather than being signed out before reading the new password.
    let (viewer, jar) = if actor == id {
        let token = state.store.create_session(actor).await?;
        let session = state.store.session(&token).await?;
        (Viewer { session, via_cookie: true }, Some(jar.add(session_cookie(token, state.config.secure_cookies))))
    } else {
        (viewer, None)
    };
    let mut page = account_page(&state, lang, &viewer, id, None).await?;
    page.password = Some(password);
    page.notice = Some(lang.t("admin.done_password"));
    Ok(secret((jar, render(&page)?).into_response()))
}

/// A step refused on the account's page: the page again with the reason at the top.
async fn refused(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    error: AppError,
) -> Result<Response, AppError> {
    let (status, problem) = match error {
        AppError::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors.0.first().map(|e| lang.pick(&e.message_zh, &e.message_en).to_string()).unwrap_or_default(),
        ),
        AppError::Conflict { message_zh, message_en, .. } => {
            (StatusCode::CONFLICT, lang.pick(&message_zh, &message_en).to_string())
        }
        other => return Err(other),
    };
    let mut page = account_page(state, lang, viewer, id, None).await?;
    page.problem = Some(problem);
    Ok((status, render(&page)?).into_response())
}

async fn set_disabled(
    state: AppState,
    lang: Lang,
    viewer: Viewer,
    id: i64,
    post: StepPost,
    disabled: bool,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let actor = admin(&viewer)?;
    if disabled && let Err(error) = confirmed(&post) {
        return refused(&state, lang, &viewer, id, error).await;
    }
    let version = id_of(&post.version).unwrap_or(0);
    match state.store.set_account_disabled(id, version, disabled, actor).await.map_err(AppError::from) {
        Ok(()) => {
            let done = if disabled { "disabled" } else { "enabled" };
            Ok(Redirect::to(&format!("/admin/accounts/{id}?done={done}")).into_response())
        }
        Err(error) => refused(&state, lang, &viewer, id, error).await,
    }
}

async fn disable(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<StepPost>,
) -> Result<Response, AppError> {
    set_disabled(state, lang, viewer, id, post, true).await
}

async fn enable(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<StepPost>,
) -> Result<Response, AppError> {
    set_disabled(state, lang, viewer, id, post, false).await
}

#[derive(Deserialize)]
struct AccessChangePost {
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(flatten)]
    access: AccessPost,
}

async fn change_access(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<AccessChangePost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let actor = admin(&viewer)?;
    let (form, picker, search_errors) = resolve(&state, &post.access).await?;
    let parsed = match form.parse() {
        Ok(parsed) if search_errors.is_empty() => Ok(parsed),
        Ok(_) => Err(search_errors),
        Err(errors) => Err(merge(search_errors, errors)),
    };
    let (role, scope) = match parsed {
        Ok(parsed) => parsed,
        Err(errors) => {
            let page = account_page(&state, lang, &viewer, id, Some((&post.access, picker, &errors))).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let version = id_of(&post.version).unwrap_or(0);
    match state.store.change_account_access(id, version, role, &scope, actor).await.map_err(AppError::from) {
        Ok(()) => Ok(Redirect::to(&format!("/admin/accounts/{id}?done=access")).into_response()),
        Err(error) => refused(&state, lang, &viewer, id, error).await,
    }
}
