//! Workforce API: a worker's training, certificates, health checks, insurance and education;
//! compliance against the services offered; the agency's board; inboxes; city rates.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::registry::{ServiceKind, ServiceSet};
use jiazheng_core::workforce::compliance::{Compliance, Condition, EDUCATION_TARGET, Requirement, Tally, assess};
use jiazheng_core::workforce::records::{
    CertificateForm, EducationForm, HealthCheckForm, InsuranceForm, SocialInsuranceForm, TrainingForm,
};
use jiazheng_store::PageRequest;
use jiazheng_store::registry::workers::Worker;
use jiazheng_store::workforce::board::{BoardFilter, BoardQuery, BoardRow, BoardSort};
use jiazheng_store::workforce::jobs::{Notification, Rates};
use jiazheng_store::workforce::{Policy, Recorder, WorkforceRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::workers::today;
use super::{ApiJson, ApiQuery, Created, PageOf};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workers/{id}/workforce", get(record))
        .route("/workers/{id}/compliance", get(compliance))
        .route("/workers/{id}/trainings", post(add_training))
        .route("/workers/{id}/certificates", post(add_certificate))
        .route("/workers/{id}/health-checks", post(add_health_check))
        .route("/workers/{id}/insurance", post(add_insurance))
        .route("/workers/{id}/social-insurance", put(set_social_insurance))
        .route("/workers/{id}/education", put(set_education))
        .route("/agencies/{id}/insurance", get(agency_policies).post(add_agency_policy))
        .route("/agencies/{id}/compliance", get(board))
        .route("/notifications", get(inbox))
        .route("/notifications/{id}/read", post(mark_read))
        .route("/workforce/rates", get(rates))
}

/// Who may read a worker's workforce record (it holds health results): the worker, an owning
/// agency, a regulator in scope. The read of health results is logged.
pub async fn readable_worker(state: &AppState, viewer: &Viewer, id: i64, purpose: &str) -> Result<Worker, AppError> {
    let session = viewer.require()?;
    let worker = state.store.worker(id).await?;
    if !state.store.may_reveal(&session.principal, &worker).await? {
        return Err(AppError::Forbidden);
    }
    state.store.log_access(session.principal.account_id, "worker", id, "health_results", purpose).await?;
    Ok(worker)
}

/// The agency that may write records about this worker: an agency admin whose agency employs
/// them (an active binding; a pending request grants nothing).
pub async fn writing_agency(state: &AppState, viewer: &Viewer, worker_id: i64) -> Result<Recorder, AppError> {
    let (session, agency) = viewer.require_agency()?;
    state.store.worker(worker_id).await?;
    if !state.store.employing_agencies(worker_id).await?.contains(&agency) {
        return Err(AppError::Forbidden);
    }
    Ok(Recorder::agency(agency, Some(session.principal.account_id)))
}

/// A worker's training, certificates, health checks (with results), insurance and education.
#[utoipa::path(get, path = "/api/v1/workers/{id}/workforce", tag = "workforce", security(("bearer" = [])),
    responses((status = 200, body = WorkforceRecord), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<WorkforceRecord>, AppError> {
    readable_worker(&state, &viewer, id, "api").await?;
    Ok(Json(state.store.workforce_record(id, true).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ComplianceQuery {
    /// Check for one service (e.g. `maternity`); by default, every service the worker offers.
    pub service: Option<String>,
}

/// Whether the worker may be sent into a home: each condition with its standing and reason.
#[utoipa::path(get, path = "/api/v1/workers/{id}/compliance", tag = "workforce", params(ComplianceQuery), security(("bearer" = [])),
    responses((status = 200, body = Compliance), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn compliance(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<ComplianceQuery>,
) -> Result<Json<Compliance>, AppError> {
    let worker = readable_worker(&state, &viewer, id, "compliance").await?;
    let requirement = match q.service.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(service) => Requirement::for_service(ServiceKind::parse(service).map_err(super::field_error("service"))?),
        None => Requirement::for_services(ServiceSet::from_bits(worker.services)),
    };
    let facts = state.store.worker_facts(id).await?;
    Ok(Json(assess(&facts, &requirement, today())))
}

macro_rules! add_record {
    ($name:ident, $path:literal, $form:ty, $parse:expr, $write:ident) => {
        #[utoipa::path(post, path = $path, tag = "workforce", request_body = $form, security(("bearer" = [])),
            responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
        pub async fn $name(
            State(state): State<AppState>,
            viewer: Viewer,
            Path(id): Path<i64>,
            headers: HeaderMap,
            ApiJson(form): ApiJson<$form>,
        ) -> Result<(StatusCode, Json<Created>), AppError> {
            viewer.check_csrf(csrf_header(&headers))?;
            let by = writing_agency(&state, &viewer, id).await?;
            #[allow(clippy::redundant_closure_call)]
            let draft = ($parse)(&form).map_err(AppError::Invalid)?;
            let ids = state.store.$write(&[(id, &draft, by)]).await?;
            Ok((StatusCode::CREATED, Json(Created { id: ids[0] })))
        }
    };
}

add_record!(
    add_training,
    "/api/v1/workers/{id}/trainings",
    TrainingForm,
    |f: &TrainingForm| f.parse(today()),
    add_trainings
);
add_record!(
    add_certificate,
    "/api/v1/workers/{id}/certificates",
    CertificateForm,
    |f: &CertificateForm| f.parse(today()),
    add_certificates
);
add_record!(
    add_health_check,
    "/api/v1/workers/{id}/health-checks",
    HealthCheckForm,
    |f: &HealthCheckForm| f.parse(today()),
    add_health_checks
);

/// Adds an insurance policy covering one worker.
#[utoipa::path(post, path = "/api/v1/workers/{id}/insurance", tag = "workforce", request_body = InsuranceForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_insurance(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<InsuranceForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let by = writing_agency(&state, &viewer, id).await?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let agency = by.source_id.unwrap_or_default();
    let ids = state.store.add_policies(&[(Some(id), agency, &draft, by)]).await?;
    Ok((StatusCode::CREATED, Json(Created { id: ids[0] })))
}

/// Records social insurance (参保) of an employee-based worker by the calling agency.
#[utoipa::path(put, path = "/api/v1/workers/{id}/social-insurance", tag = "workforce", request_body = SocialInsuranceForm, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_social_insurance(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<SocialInsuranceForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let by = writing_agency(&state, &viewer, id).await?;
    let draft = form.parse(today()).map_err(AppError::Invalid)?;
    state.store.set_social_insurance(id, by.source_id.unwrap_or_default(), &draft).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets the worker's highest education and whether it is domestic-service related.
#[utoipa::path(put, path = "/api/v1/workers/{id}/education", tag = "workforce", request_body = EducationForm, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_education(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<EducationForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    writing_agency(&state, &viewer, id).await?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    state.store.set_education(id, &draft).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn own_agency(viewer: &Viewer, id: i64) -> Result<i64, AppError> {
    let (_, agency) = viewer.require_agency()?;
    if agency == id { Ok(agency) } else { Err(AppError::Forbidden) }
}

/// The agency's policies that cover all its workers.
#[utoipa::path(get, path = "/api/v1/agencies/{id}/insurance", tag = "workforce", security(("bearer" = [])),
    responses((status = 200, body = Vec<Policy>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn agency_policies(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Policy>>, AppError> {
    own_agency(&viewer, id)?;
    Ok(Json(state.store.agency_policies(id).await?))
}

/// Adds a policy covering every worker actively bound to the agency (e.g. employer liability).
#[utoipa::path(post, path = "/api/v1/agencies/{id}/insurance", tag = "workforce", request_body = InsuranceForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_agency_policy(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<InsuranceForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let agency = own_agency(&viewer, id)?;
    let account = viewer.require()?.principal.account_id;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let ids = state.store.add_policies(&[(None, agency, &draft, Recorder::agency(agency, Some(account)))]).await?;
    // An agency-wide policy reaches every worker of the agency.
    Ok((StatusCode::CREATED, Json(Created { id: ids[0] })))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct BoardListQuery {
    /// Look at one condition: pre_job_training, retraining, health_check, insurance, skill.
    pub condition: Option<String>,
    /// all, attention (unmet or expiring), unmet, expiring.
    pub filter: Option<String>,
    /// problems (default), name, or a condition code to sort by its date.
    pub sort: Option<String>,
    /// Part of the name.
    pub name: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

fn present(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl BoardListQuery {
    pub fn parse(&self) -> Result<BoardQuery, AppError> {
        let mut errors = FieldErrors::default();
        let condition = present(&self.condition).and_then(|c| errors.take("condition", Condition::parse(c)));
        let choice = |field: &'static str, allowed: &str| {
            jiazheng_core::field::Invalid::unknown_choice(allowed, allowed).at(field)
        };
        let filter = BoardFilter::parse(present(&self.filter).unwrap_or("")).unwrap_or_else(|| {
            errors.0.push(choice("filter", "all, attention, unmet, expiring"));
            BoardFilter::All
        });
        let sort = BoardSort::parse(present(&self.sort).unwrap_or("")).unwrap_or_else(|| {
            errors
                .0
                .push(choice("sort", "problems, name, pre_job_training, retraining, health_check, insurance, skill"));
            BoardSort::Problems
        });
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(BoardQuery {
            condition,
            filter,
            sort,
            name: present(&self.name).map(String::from),
            page: PageRequest::new(self.page, self.per_page),
        })
    }
}

/// Who may see an agency's board: its own admin, or a regulator whose area holds the agency.
pub async fn board_reader(state: &AppState, viewer: &Viewer, agency_id: i64) -> Result<(), AppError> {
    let session = viewer.require()?;
    let principal = &session.principal;
    if principal.agency_id() == Some(agency_id) {
        return Ok(());
    }
    match principal.regulated_area() {
        Some(None) => Ok(()),
        Some(Some(area)) => {
            let agency = state.store.agency(agency_id).await?;
            let district = jiazheng_core::division::DivisionCode::parse(&agency.district_code)
                .map_err(|_| AppError::Internal("bad stored district".into()))?;
            if district.is_within(area) { Ok(()) } else { Err(AppError::Forbidden) }
        }
        None => Err(AppError::Forbidden),
    }
}

/// A board shows each worker's health-check standing: one access-log entry per view names the
/// workers shown.
pub async fn log_board_view(
    state: &AppState,
    viewer: &Viewer,
    agency_id: i64,
    workers: impl Iterator<Item = i64>,
    purpose: &str,
) -> Result<(), AppError> {
    let session = viewer.require()?;
    let ids: Vec<String> = workers.map(|w| w.to_string()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let fields = format!("health_results of {} workers: {}", ids.len(), ids.join(","));
    state.store.log_access(session.principal.account_id, "agency_board", agency_id, &fields, purpose).await?;
    Ok(())
}

/// The agency's compliance board: each actively bound worker against the services they offer.
#[utoipa::path(get, path = "/api/v1/agencies/{id}/compliance", tag = "workforce", params(BoardListQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<BoardRow>), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn board(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<BoardListQuery>,
) -> Result<Json<PageOf<BoardRow>>, AppError> {
    let query = q.parse()?;
    board_reader(&state, &viewer, id).await?;
    let page = state.store.compliance_board(id, &query, today()).await?;
    log_board_view(&state, &viewer, id, page.items.iter().map(|r| r.worker_id), "compliance board (api)").await?;
    Ok(Json(page.into()))
}

/// Whose inbox the signed-in account reads: a worker's own, or the agency's.
pub fn inbox_owner(viewer: &Viewer) -> Result<(&'static str, i64), AppError> {
    let session = viewer.require()?;
    match (&session.principal.role, &session.principal.scope) {
        (Role::Worker, jiazheng_core::account::Scope::Worker(id)) => Ok(("worker", *id)),
        (Role::AgencyAdmin, jiazheng_core::account::Scope::Agency(id)) => Ok(("agency", *id)),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Reminders delivered to the signed-in worker or agency, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "workforce", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<Notification>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> Result<Json<PageOf<Notification>>, AppError> {
    let (kind, id) = inbox_owner(&viewer)?;
    Ok(Json(state.store.inbox(kind, id, PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// Marks one of the caller's reminders read.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "workforce", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (kind, owner) = inbox_owner(&viewer)?;
    state.store.mark_read(kind, owner, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One area's rates as shares of its active workers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaRates {
    pub area_code: String,
    pub area_name: String,
    pub as_of: chrono::NaiveDate,
    pub counts: Tally,
    pub pre_job_training_rate: f64,
    pub retraining_currency: f64,
    pub health_check_validity: f64,
    pub insured_share: f64,
    pub certified_share: f64,
    pub related_education_share: f64,
    pub compliant_share: f64,
    /// The plan's target for the related-education share (0.10).
    pub education_target: f64,
    pub education_target_met: bool,
}

impl AreaRates {
    pub fn new(rates: &Rates, area_name: String) -> Self {
        let t = rates.tally();
        let education = t.share(t.education_related);
        Self {
            area_code: rates.area_code.clone(),
            area_name,
            as_of: rates.as_of,
            pre_job_training_rate: t.share(t.pre_job_trained),
            retraining_currency: t.share(t.retraining_current),
            health_check_validity: t.share(t.health_valid),
            insured_share: t.share(t.insured),
            certified_share: t.share(t.certified),
            related_education_share: education,
            compliant_share: t.share(t.compliant),
            education_target: EDUCATION_TARGET,
            education_target_met: education >= EDUCATION_TARGET,
            counts: t,
        }
    }
}

/// The city's and each district's workforce rates from the latest daily run, city first.
pub async fn area_rates(state: &AppState) -> Result<Vec<AreaRates>, AppError> {
    let rates = state.store.latest_rates().await?;
    let districts = state.districts().await?;
    let city = state.store.city().await?;
    Ok(rates
        .iter()
        .map(|r| {
            let name = districts
                .iter()
                .chain(std::iter::once(&city))
                .find(|d| d.code == r.area_code)
                .map_or_else(|| r.area_code.clone(), |d| d.name.clone());
            AreaRates::new(r, name)
        })
        .collect())
}

/// Workforce rates for the city and each district, with the 10% education target.
#[utoipa::path(get, path = "/api/v1/workforce/rates", tag = "workforce",
    responses((status = 200, body = Vec<AreaRates>)))]
pub async fn rates(State(state): State<AppState>) -> Result<Json<Vec<AreaRates>>, AppError> {
    Ok(Json(area_rates(&state).await?))
}
