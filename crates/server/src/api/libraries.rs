//! The key-agency and talent libraries in the API: the public list (published, or removed with
//! the date and reason) and the entry criteria; nominations by agencies, schools and district
//! regulators; the overseeing city regulator's decision and removal.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiazheng_core::account::{Principal, Role};
use jiazheng_core::calendar::{beijing_date, beijing_today};
use jiazheng_core::oversight::library::{
    Criterion, CriterionCheck, EntryStatus, LibraryKind, NominationForm, parse_decision_note, parse_note,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::library::{EntryFilter, EntryScope, LibraryEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf, field_error};
use crate::auth::Viewer;
use crate::plan_tracker::tracker_error;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/libraries", get(list))
        .route("/libraries/criteria", get(criteria))
        .route("/libraries/nominations", get(nominations).post(nominate))
        .route("/libraries/nominations/{id}/decision", post(decide))
        .route("/libraries/entries/{id}/removal", post(remove))
}

/// An entry as the public reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicEntry {
    pub id: i64,
    /// `agency`, `skilled_worker`, `manager` or `trainer`.
    pub kind: String,
    pub name: String,
    pub person_role: Option<String>,
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    pub school_name: Option<String>,
    pub worker_id: Option<i64>,
    pub district_name: String,
    pub reason: String,
    /// `published` or `removed`.
    pub status: String,
    /// Beijing date.
    pub published_on: Option<chrono::NaiveDate>,
    pub removed_on: Option<chrono::NaiveDate>,
    pub removal_reason: Option<String>,
}

impl From<LibraryEntry> for PublicEntry {
    fn from(e: LibraryEntry) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            name: e.name,
            person_role: e.person_role,
            agency_id: e.agency_id,
            agency_name: e.agency_name,
            school_name: e.provider_name,
            worker_id: e.worker_id,
            district_name: e.district_name,
            reason: e.reason,
            status: e.status,
            published_on: e.decided_at.map(beijing_date),
            removed_on: e.removed_at.map(beijing_date),
            removal_reason: e.removal_reason,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct LibraryQuery {
    /// `agency`, `skilled_worker`, `manager` or `trainer`; all when absent.
    pub kind: Option<String>,
    /// The removed entries instead of the published ones.
    pub removed: Option<bool>,
    /// `pending`, `published`, `rejected` or `removed` (nominations only).
    pub status: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn kind_of(raw: Option<&str>) -> Result<Option<LibraryKind>, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Ok(Some(LibraryKind::parse(raw).map_err(field_error("kind"))?)),
        None => Ok(None),
    }
}

/// The published libraries (or, with `removed=true`, the entries removed, with date and reason).
#[utoipa::path(get, path = "/api/v1/libraries", tag = "oversight", params(LibraryQuery),
    responses((status = 200, body = PageOf<PublicEntry>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LibraryQuery>,
) -> Result<Json<PageOf<PublicEntry>>, AppError> {
    let kind = kind_of(q.kind.as_deref())?;
    let page =
        state.store.public_library(kind, q.removed.unwrap_or(false), PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(PageOf::from_page(page, PublicEntry::from)))
}

/// The entry criteria of each kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindCriteria {
    pub kind: LibraryKind,
    pub criteria: Vec<CriterionText>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionText {
    pub criterion: Criterion,
    pub label_zh: &'static str,
    pub label_en: &'static str,
}

/// What each kind of entry must meet; the platform checks them against its records.
#[utoipa::path(get, path = "/api/v1/libraries/criteria", tag = "oversight",
    responses((status = 200, body = Vec<KindCriteria>)))]
pub async fn criteria() -> Json<Vec<KindCriteria>> {
    use Criterion::*;
    let text = |list: &[Criterion]| {
        list.iter().map(|c| CriterionText { criterion: *c, label_zh: c.label_zh(), label_en: c.label_en() }).collect()
    };
    Json(vec![
        KindCriteria {
            kind: LibraryKind::Agency,
            criteria: text(&[AgencyActive, NotBlackListed, NoRecentPenalty, CreditGrade]),
        },
        KindCriteria {
            kind: LibraryKind::SkilledWorker,
            criteria: text(&[SkillLevel, NoUpheldComplaints, NotBlackListed]),
        },
        KindCriteria { kind: LibraryKind::Manager, criteria: text(&[Affiliation, NoUpheldComplaints, NotBlackListed]) },
        KindCriteria { kind: LibraryKind::Trainer, criteria: text(&[Affiliation, NoUpheldComplaints, NotBlackListed]) },
    ])
}

fn nominator(viewer: &Viewer, headers: &HeaderMap) -> Result<Principal, AppError> {
    let who = viewer.require_role(&[Role::AgencyAdmin, Role::School, Role::Regulator])?.principal.clone();
    viewer.check_csrf(csrf_header(headers))?;
    Ok(who)
}

/// Nominates to a library: an agency itself, its workers (active binding) and managers; a school
/// its graduates and trainers; a district regulator anyone in the district. 403 for a kind the
/// nominator does not nominate (or another agency); 404 for someone not tied to the nominator;
/// 409 `library_duplicate` (naming the live entry) for a second live nomination.
#[utoipa::path(post, path = "/api/v1/libraries/nominations", tag = "oversight", request_body = NominationForm,
    security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn nominate(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<NominationForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let who = nominator(&viewer, &headers)?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.nominate(&who, &draft, beijing_today()).await.map_err(tracker_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A nomination with its entry criteria as checked today.
#[derive(Debug, Serialize, ToSchema)]
pub struct Nomination {
    pub entry: LibraryEntry,
    pub criteria_now: Vec<CriterionCheck>,
    pub criteria_at_nomination: Vec<CriterionCheck>,
}

/// Nominations the account reads: an agency's or school's own, a regulator's district (or city).
#[utoipa::path(get, path = "/api/v1/libraries/nominations", tag = "oversight", params(LibraryQuery),
    security(("bearer" = [])), responses((status = 200, body = PageOf<Nomination>)))]
pub async fn nominations(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<LibraryQuery>,
) -> Result<Json<PageOf<Nomination>>, AppError> {
    let who = viewer.require_role(&[Role::AgencyAdmin, Role::School, Role::Regulator])?.principal.clone();
    let scope = EntryScope::of(&who).ok_or(AppError::Forbidden)?;
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(EntryStatus::parse(raw).map_err(field_error("status"))?),
        None => None,
    };
    let filter = EntryFilter { kind: kind_of(q.kind.as_deref())?, status };
    let page = state.store.library_nominations(&scope, &filter, PageRequest::new(q.page, q.per_page)).await?;
    let today = beijing_today();
    let mut items = Vec::with_capacity(page.items.len());
    for entry in &page.items {
        items.push(Nomination {
            criteria_now: state.store.entry_criteria(entry, today).await?,
            criteria_at_nomination: entry.criteria_at_nomination(),
            entry: entry.clone(),
        });
    }
    Ok(Json(PageOf { items, page: page.page, per_page: page.per_page, total: page.total }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct DecisionForm {
    /// True publishes (every checkable criterion must be met, else 422), false rejects.
    pub publish: bool,
    /// At most 500 characters.
    pub note: String,
}

/// The overseeing city regulator publishes or rejects a pending nomination.
#[utoipa::path(post, path = "/api/v1/libraries/nominations/{id}/decision", tag = "oversight", params(("id" = i64, Path)),
    request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = LibraryEntry), (status = 409, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<LibraryEntry>, AppError> {
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    viewer.check_csrf(csrf_header(&headers))?;
    let note = parse_decision_note(&form.note, form.publish).map_err(AppError::Invalid)?;
    state.store.library_entry_for(id, &who).await?;
    let entry = state
        .store
        .decide_nomination(&who, id, form.publish, note.as_deref(), beijing_today())
        .await
        .map_err(tracker_error)?;
    Ok(Json(entry))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RemovalForm {
    /// Why, at most 500 characters; published with the entry's removal.
    pub reason: String,
}

/// The overseeing city regulator removes a published entry; it stays listed as removed.
#[utoipa::path(post, path = "/api/v1/libraries/entries/{id}/removal", tag = "oversight", params(("id" = i64, Path)),
    request_body = RemovalForm, security(("bearer" = [])),
    responses((status = 200, body = LibraryEntry), (status = 409, body = crate::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<RemovalForm>,
) -> Result<Json<LibraryEntry>, AppError> {
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    viewer.check_csrf(csrf_header(&headers))?;
    let reason = parse_note(&form.reason, true).map_err(AppError::Invalid)?.unwrap_or_default();
    state.store.library_entry_for(id, &who).await?;
    Ok(Json(state.store.remove_library_entry(&who, id, &reason).await.map_err(tracker_error)?))
}
