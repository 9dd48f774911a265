//! The key-agency and talent libraries (plan task 13): the public page of published entries (and
//! the removed ones, with the date and reason), the nomination page of agencies, schools and
//! district regulators, and the regulators' review with the entry criteria checked beside each
//! nomination (the overseeing city regulator decides and removes).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::oversight::library::{
    CheckOutcome, Criterion, CriterionCheck, EntryStatus, LibraryKind, NominationForm, Nominator, parse_decision_note,
    parse_note,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::library::{EntryFilter, EntryScope, LibraryEntry};
use jiazheng_store::registry::agencies::AgencyQuery;

use super::{Chrome, Pager, field_message, render};
use crate::auth::Viewer;
use crate::community_ops::conflict_text;
use crate::i18n::Lang;
use crate::plan_tracker::tracker_error;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/libraries", get(public))
        .route("/libraries/nominate", get(nominate_form).post(nominate))
        .route("/regulator/libraries", get(review))
        .route("/regulator/libraries/{id}/decision", post(decide))
        .route("/regulator/libraries/{id}/removal", post(remove))
}

type Body = HashMap<String, String>;

fn field(body: &Body, name: &str) -> String {
    body.get(name).map(|v| v.chars().take(2000).collect()).unwrap_or_default()
}

fn kind_label(code: &str, lang: Lang) -> &'static str {
    LibraryKind::label_of(code, lang.is_en())
}

fn status_badge(code: &str) -> &'static str {
    match code {
        "published" => "ok",
        "removed" | "rejected" => "bad",
        _ => "warn",
    }
}

/// What the page shows of a person or agency: the name, their role and where they belong.
fn affiliation(e: &LibraryEntry) -> String {
    let place = e.agency_name.clone().or_else(|| e.provider_name.clone()).unwrap_or_default();
    match (&e.person_role, place.is_empty()) {
        (Some(role), false) => format!("{role} · {place}"),
        (Some(role), true) => role.clone(),
        (None, _) => place,
    }
}

/// The entry criteria as people read them, for the public page and the forms.
fn criteria_lines(lang: Lang) -> Vec<(String, Vec<&'static str>)> {
    let en = lang.is_en();
    let of = |list: &[Criterion]| list.iter().map(|c| c.label(en)).collect::<Vec<_>>();
    vec![
        (
            LibraryKind::Agency.label(en).to_string(),
            of(&[
                Criterion::AgencyActive,
                Criterion::NotBlackListed,
                Criterion::NoRecentPenalty,
                Criterion::CreditGrade,
            ]),
        ),
        (
            LibraryKind::SkilledWorker.label(en).to_string(),
            of(&[Criterion::SkillLevel, Criterion::NoUpheldComplaints, Criterion::NotBlackListed]),
        ),
        (
            format!("{} / {}", LibraryKind::Manager.label(en), LibraryKind::Trainer.label(en)),
            of(&[Criterion::Affiliation, Criterion::NoUpheldComplaints, Criterion::NotBlackListed]),
        ),
    ]
}

// ---- the public page --------------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct PublicQuery {
    kind: String,
    removed: String,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "libraries.html")]
struct PublicPage {
    chrome: Chrome,
    rows: Vec<LibraryEntry>,
    pager: Pager,
    kind: String,
    removed: bool,
    today: String,
    criteria: Vec<(String, Vec<&'static str>)>,
}

impl PublicPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn kind_label(&self, code: &str) -> &'static str {
        kind_label(code, self.chrome.lang)
    }
    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        LibraryKind::ALL.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }
    fn affiliation(&self, e: &LibraryEntry) -> String {
        affiliation(e)
    }
    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(|t| jiazheng_core::calendar::beijing_date(t).to_string()).unwrap_or_default()
    }
    /// A kind's list, in the part (in the libraries, or removed) now shown.
    fn link(&self, kind: &str) -> String {
        format!("/libraries?kind={kind}{}", if self.removed { "&removed=1" } else { "" })
    }
    /// The other part of the same kind.
    fn toggle(&self) -> String {
        format!("/libraries?kind={}{}", self.kind, if self.removed { "" } else { "&removed=1" })
    }
}

async fn public(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let kind = LibraryKind::parse(&q.kind).ok().filter(|_| !q.kind.trim().is_empty());
    let removed = q.removed == "1";
    let page = state.store.public_library(kind, removed, PageRequest::new(q.page, Some(30))).await?;
    let kind_code = kind.map_or("", |k| k.as_str());
    let base = format!("kind={kind_code}&removed={}", if removed { "1" } else { "" });
    render(&PublicPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/libraries",
            lang.pick("重点推介企业库与人才库", "Key agencies and talent").into(),
        ),
        pager: Pager::new(&page, "/libraries", &base),
        rows: page.items,
        kind: kind_code.to_string(),
        removed,
        today: beijing_today().to_string(),
        criteria: criteria_lines(lang),
    })
}

// ---- nominating ---------------------------------------------------------------------------------

fn nominator(viewer: &Viewer) -> Result<(Principal, Nominator), AppError> {
    let who = viewer.require_role(&[Role::AgencyAdmin, Role::School, Role::Regulator])?.principal.clone();
    let as_ = match (who.role, &who.scope) {
        (Role::AgencyAdmin, Scope::Agency(_)) => Nominator::Agency,
        (Role::School, Scope::Provider(_)) => Nominator::School,
        (Role::Regulator, Scope::District(_)) => Nominator::Regulator,
        _ => return Err(AppError::Forbidden),
    };
    Ok((who, as_))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct NominateQuery {
    /// A name fragment to find the worker by.
    q: String,
    /// A name fragment to find the agency by (district regulators).
    aq: String,
    kind: String,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "library_nominate.html")]
struct NominatePage {
    chrome: Chrome,
    nominator: Nominator,
    kinds: Vec<LibraryKind>,
    workers: Vec<(i64, String, String)>,
    agencies: Vec<(i64, String)>,
    schools: Vec<(i64, String)>,
    q: String,
    aq: String,
    values: Body,
    errors: FieldErrors,
    message: Option<String>,
    rows: Vec<LibraryEntry>,
    pager: Pager,
    criteria: Vec<(String, Vec<&'static str>)>,
}

impl NominatePage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn err(&self, f: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, f)
    }
    fn val(&self, f: &str) -> String {
        self.values.get(f).cloned().unwrap_or_default()
    }
    fn kind_label(&self, code: &str) -> &'static str {
        kind_label(code, self.chrome.lang)
    }
    fn kind_options(&self) -> Vec<(&'static str, &'static str)> {
        self.kinds.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }
    fn status_label(&self, code: &str) -> &'static str {
        EntryStatus::label_of(code, self.chrome.is_en())
    }
    fn badge(&self, code: &str) -> &'static str {
        status_badge(code)
    }
    fn affiliation(&self, e: &LibraryEntry) -> String {
        affiliation(e)
    }
    fn regulator(&self) -> bool {
        self.nominator == Nominator::Regulator
    }
    fn agency(&self) -> bool {
        self.nominator == Nominator::Agency
    }
    fn failed(&self) -> bool {
        !self.errors.is_empty() || self.message.is_some()
    }
}

async fn nominate_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    q: &NominateQuery,
    values: Body,
    errors: FieldErrors,
    message: Option<String>,
) -> Result<NominatePage, AppError> {
    let (who, as_) = nominator(viewer)?;
    let workers = state.store.nominable_workers(&who, q.q.chars().take(20).collect::<String>().as_str()).await?;
    let area = match &who.scope {
        Scope::District(d) => Some(d.clone()),
        _ => None,
    };
    let (agencies, schools) = match &area {
        Some(d) => {
            let query = AgencyQuery {
                text: Some(q.aq.trim().chars().take(40).collect::<String>()).filter(|t| !t.is_empty()),
                district: Some(d.to_string()),
                page: PageRequest::new(Some(1), Some(50)),
            };
            let agencies =
                state.store.search_agencies(&query).await?.items.into_iter().map(|a| (a.id, a.name)).collect();
            let schools = state
                .store
                .providers(PageRequest::new(Some(1), Some(100)))
                .await?
                .items
                .into_iter()
                .filter(|p| DivisionCode::parse(&format!("{:0<12}", p.district_code)).is_ok_and(|c| c.is_within(d)))
                .map(|p| (p.id, p.name))
                .collect();
            (agencies, schools)
        }
        None => (Vec::new(), Vec::new()),
    };
    let scope = EntryScope::of(&who).ok_or(AppError::Forbidden)?;
    let page =
        state.store.library_nominations(&scope, &EntryFilter::default(), PageRequest::new(q.page, Some(20))).await?;
    Ok(NominatePage {
        chrome: Chrome::new(lang, viewer, "/libraries/nominate", lang.pick("推荐入库", "Nominate").into()),
        nominator: as_,
        kinds: as_.kinds(),
        workers,
        agencies,
        schools,
        q: q.q.clone(),
        aq: q.aq.clone(),
        values,
        errors,
        message,
        pager: Pager::new(&page, "/libraries/nominate", ""),
        rows: page.items,
        criteria: criteria_lines(lang),
    })
}

async fn nominate_form(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<NominateQuery>,
) -> Result<Response, AppError> {
    let mut values = Body::new();
    values.insert("kind".into(), q.kind.chars().take(20).collect());
    render(&nominate_page(&state, lang, &viewer, &q, values, FieldErrors::default(), None).await?)
}

fn picked_id(body: &Body, name: &str) -> Option<i64> {
    body.get(name).and_then(|v| v.trim().parse::<i64>().ok())
}

async fn nominate(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (who, _) = nominator(&viewer)?;
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let form = NominationForm {
        kind: field(&body, "kind"),
        agency_id: picked_id(&body, "agency_id"),
        provider_id: picked_id(&body, "provider_id"),
        worker_id: picked_id(&body, "worker_id"),
        person_name: field(&body, "person_name"),
        person_role: field(&body, "person_role"),
        reason: field(&body, "reason"),
    };
    let outcome = match form.parse() {
        Ok(draft) => state.store.nominate(&who, &draft, beijing_today()).await.map_err(tracker_error),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let (status, errors, message) = match outcome {
        Ok(_) => return Ok(Redirect::to("/libraries/nominate?done=1#mine").into_response()),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Err(e @ AppError::Conflict { .. }) => {
            (StatusCode::CONFLICT, FieldErrors::default(), conflict_text(&e, lang.is_en()))
        }
        Err(AppError::NotFound) => (
            StatusCode::NOT_FOUND,
            FieldErrors(vec![
                Invalid::new(
                    "not_found",
                    "找不到该对象，或其不属于本单位（本区）",
                    "Not found, or not yours (or not in your district) to nominate",
                )
                .at("subject"),
            ]),
            None,
        ),
        Err(other) => return Err(other),
    };
    let q = NominateQuery { q: field(&body, "q"), aq: field(&body, "aq"), ..Default::default() };
    let mut values = body;
    values.remove("csrf");
    let page = nominate_page(&state, lang, &viewer, &q, values, errors, message).await?;
    Ok((status, render(&page)?).into_response())
}

// ---- the regulators' review ---------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ReviewQuery {
    status: String,
    page: Option<u32>,
}

struct ReviewRow {
    entry: LibraryEntry,
    /// The criteria checked against today's records.
    now: Vec<CriterionCheck>,
}

#[derive(Template)]
#[template(path = "library_review.html")]
struct ReviewPage {
    chrome: Chrome,
    rows: Vec<ReviewRow>,
    pager: Pager,
    status: String,
    overseer: bool,
    /// A refused decision or removal: the row, the field errors or conflict message.
    row: i64,
    errors: FieldErrors,
    message: Option<String>,
    values: Body,
}

impl ReviewPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn kind_label(&self, code: &str) -> &'static str {
        kind_label(code, self.chrome.lang)
    }
    fn status_label(&self, code: &str) -> &'static str {
        EntryStatus::label_of(code, self.chrome.is_en())
    }
    fn badge(&self, code: &str) -> &'static str {
        status_badge(code)
    }
    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        EntryStatus::ALL.iter().map(|s| (s.as_str(), s.label(self.chrome.is_en()))).collect()
    }
    fn affiliation(&self, e: &LibraryEntry) -> String {
        affiliation(e)
    }
    fn criterion(&self, c: &CriterionCheck) -> &'static str {
        c.criterion.label(self.chrome.is_en())
    }
    fn outcome(&self, c: &CriterionCheck) -> &'static str {
        c.outcome.label(self.chrome.is_en())
    }
    fn outcome_badge(&self, c: &CriterionCheck) -> &'static str {
        match c.outcome {
            CheckOutcome::Met => "ok",
            CheckOutcome::NotMet => "bad",
            CheckOutcome::Unchecked => "warn",
        }
    }
    fn found<'a>(&self, c: &'a CriterionCheck) -> &'a str {
        if self.chrome.is_en() { &c.found_en } else { &c.found_zh }
    }
    fn nominator(&self, code: &str) -> &'static str {
        Nominator::label_of(code, self.chrome.is_en())
    }
    fn here(&self, id: &i64) -> bool {
        self.row == *id && (!self.errors.is_empty() || self.message.is_some())
    }
    fn err(&self, id: &i64, f: &str) -> Option<String> {
        if self.row == *id { field_message(&self.errors, self.chrome.lang, f) } else { None }
    }
    fn val(&self, id: &i64, f: &str) -> String {
        if self.row == *id { self.values.get(f).cloned().unwrap_or_default() } else { String::new() }
    }
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::beijing_minutes(*at)
    }
    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map(|t| jiazheng_core::calendar::beijing_date(t).to_string()).unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn review_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    q: &ReviewQuery,
    row: i64,
    errors: FieldErrors,
    message: Option<String>,
    values: Body,
) -> Result<ReviewPage, AppError> {
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    let scope = EntryScope::of(&who).ok_or(AppError::Forbidden)?;
    let status = if q.status.is_empty() { Some(EntryStatus::Pending) } else { EntryStatus::parse(&q.status).ok() };
    let filter = EntryFilter { status, ..Default::default() };
    let page = state.store.library_nominations(&scope, &filter, PageRequest::new(q.page, Some(20))).await?;
    let today = beijing_today();
    let mut rows = Vec::new();
    for entry in page.items.iter().cloned() {
        let now = state.store.entry_criteria(&entry, today).await?;
        rows.push(ReviewRow { entry, now });
    }
    let status_code = status.map_or("all", |s| s.as_str()).to_string();
    Ok(ReviewPage {
        chrome: Chrome::new(lang, viewer, "/regulator/libraries", lang.pick("入库审核", "Library review").into()),
        pager: Pager::new(&page, "/regulator/libraries", &format!("status={status_code}")),
        rows,
        status: status_code,
        overseer: state.store.may_oversee(&who).await?,
        row,
        errors,
        message,
        values,
    })
}

async fn review(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ReviewQuery>,
) -> Result<Response, AppError> {
    render(&review_page(&state, lang, &viewer, &q, 0, FieldErrors::default(), None, Body::new()).await?)
}

async fn refused_review(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    error: AppError,
    values: Body,
) -> Result<Response, AppError> {
    let (status, errors, message) = match error {
        AppError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        e @ AppError::Conflict { .. } => {
            (StatusCode::CONFLICT, FieldErrors::default(), conflict_text(&e, lang.is_en()))
        }
        other => return Err(other),
    };
    let q = ReviewQuery { status: values.get("status").cloned().unwrap_or_default(), page: None };
    let page = review_page(state, lang, viewer, &q, id, errors, message, values).await?;
    Ok((status, render(&page)?).into_response())
}

async fn decide(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let publish = match body.get("decision").map(String::as_str) {
        Some("publish") => Some(true),
        Some("reject") => Some(false),
        _ => None,
    };
    let outcome = async {
        let publish = publish.ok_or_else(|| {
            AppError::Invalid(FieldErrors(vec![
                Invalid::new("required", "请选择入库或不入库", "choose publish or reject").at("decision"),
            ]))
        })?;
        let note = parse_decision_note(&field(&body, "note"), publish).map_err(AppError::Invalid)?;
        state.store.library_entry_for(id, &who).await?;
        state.store.decide_nomination(&who, id, publish, note.as_deref(), beijing_today()).await.map_err(tracker_error)
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/regulator/libraries#entry-{id}")).into_response()),
        Err(e) => refused_review(&state, lang, &viewer, id, e, body).await,
    }
}

async fn remove(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let outcome = async {
        let reason = parse_note(&field(&body, "reason"), true).map_err(AppError::Invalid)?.unwrap_or_default();
        state.store.library_entry_for(id, &who).await?;
        state.store.remove_library_entry(&who, id, &reason).await.map_err(tracker_error)
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/regulator/libraries?status=removed").into_response()),
        Err(e) => refused_review(&state, lang, &viewer, id, e, body).await,
    }
}
