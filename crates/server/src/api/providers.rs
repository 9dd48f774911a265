//! Schools and training bases: the public list, courses, and for the school's own accounts,
//! enrolments and exam results.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::workforce::parse_past_date;
use jiazheng_core::workforce::records::{CourseForm, ProviderForm, ResultForm};
use jiazheng_store::PageRequest;
use jiazheng_store::workforce::providers::{Course, Enrolment, Provider};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::workers::today;
use super::{ApiJson, ApiQuery, Created, PageOf};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/providers", get(list).post(create))
        .route("/providers/{id}", get(detail))
        .route("/providers/{id}/courses", get(courses).post(create_course))
        .route("/courses/{id}/enrolments", get(enrolments).post(enrol))
        .route("/training-records/{id}/result", put(enter_result))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Paging {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Schools and training bases.
#[utoipa::path(get, path = "/api/v1/providers", tag = "workforce", params(Paging),
    responses((status = 200, body = PageOf<Provider>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<Paging>,
) -> Result<Json<PageOf<Provider>>, AppError> {
    Ok(Json(state.store.providers(PageRequest::new(q.page, q.per_page)).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "workforce",
    responses((status = 200, body = Provider), (status = 404, body = crate::error::ErrorBody)))]
pub async fn detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Provider>, AppError> {
    Ok(Json(state.store.provider(id).await?))
}

/// Registers a school or training base (regulator or system admin).
#[utoipa::path(post, path = "/api/v1/providers", tag = "workforce", request_body = ProviderForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ProviderForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.require_role(&[Role::Regulator, Role::SystemAdmin])?;
    viewer.check_csrf(csrf_header(&headers))?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.create_provider(&draft).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A provider's courses, newest first.
#[utoipa::path(get, path = "/api/v1/providers/{id}/courses", tag = "workforce", params(Paging),
    responses((status = 200, body = PageOf<Course>)))]
pub async fn courses(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<Paging>,
) -> Result<Json<PageOf<Course>>, AppError> {
    state.store.provider(id).await?;
    Ok(Json(state.store.courses(id, PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// The provider a school account acts for.
pub fn require_school(viewer: &Viewer) -> Result<(i64, i64), AppError> {
    let session = viewer.require_role(&[Role::School])?;
    let provider = session.principal.provider_id().ok_or(AppError::Forbidden)?;
    Ok((provider, session.principal.account_id))
}

fn own_provider(viewer: &Viewer, id: i64) -> Result<(i64, i64), AppError> {
    let (provider, account) = require_school(viewer)?;
    if provider == id { Ok((provider, account)) } else { Err(AppError::Forbidden) }
}

/// Adds a course (the provider's own school account).
#[utoipa::path(post, path = "/api/v1/providers/{id}/courses", tag = "workforce", request_body = CourseForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_course(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<CourseForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    own_provider(&viewer, id)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let course = state.store.create_course(id, &draft).await?;
    Ok((StatusCode::CREATED, Json(Created { id: course })))
}

/// A course of the caller's own provider.
pub async fn own_course(state: &AppState, viewer: &Viewer, id: i64) -> Result<(Course, i64), AppError> {
    let course = state.store.course(id).await?;
    let (_, account) = own_provider(viewer, course.provider_id)?;
    Ok((course, account))
}

/// Who took the course and with what result (the provider's school account).
#[utoipa::path(get, path = "/api/v1/courses/{id}/enrolments", tag = "workforce", params(Paging), security(("bearer" = [])),
    responses((status = 200, body = PageOf<Enrolment>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn enrolments(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<Paging>,
) -> Result<Json<PageOf<Enrolment>>, AppError> {
    own_course(&state, &viewer, id).await?;
    Ok(Json(state.store.enrolments(id, PageRequest::new(q.page, q.per_page)).await?.into()))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EnrolmentForm {
    /// The worker's resident ID number.
    pub id_number: String,
    pub started_on: String,
}

/// Enrols a registered worker, named by ID number, in the course.
pub async fn enrol_worker(
    state: &AppState,
    viewer: &Viewer,
    course_id: i64,
    form: &EnrolmentForm,
) -> Result<i64, AppError> {
    let (course, account) = own_course(state, viewer, course_id).await?;
    let mut errors = FieldErrors::default();
    let number = errors.take("id_number", ResidentId::parse(&form.id_number, today()));
    let started = errors.take("started_on", parse_past_date(&form.started_on, today()));
    let (Some(number), Some(started)) = (number, started) else {
        return Err(AppError::Invalid(errors));
    };
    // Each look-up says whether a person is registered: counted per school, found or not.
    let key = course.provider_id.to_string();
    if let Err(retry_after_secs) = state.limits.school_lookups.check(&key) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    state.limits.school_lookups.record_failure(&key);
    let worker = state.store.worker_id_by_id_number(number.as_str()).await?.ok_or_else(|| {
        AppError::invalid(
            "id_number",
            "unknown_worker",
            "没有登记此身份证号的服务员",
            "no worker is registered with this ID number",
        )
    })?;
    let provider = state.store.provider(course.provider_id).await?;
    Ok(state.store.enrol(&course, &provider.name, worker, started, Some(account)).await?)
}

#[utoipa::path(post, path = "/api/v1/courses/{id}/enrolments", tag = "workforce", request_body = EnrolmentForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn enrol(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<EnrolmentForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let record = enrol_worker(&state, &viewer, id, &form).await?;
    Ok((StatusCode::CREATED, Json(Created { id: record })))
}

/// Enters an exam result for an enrolment of the caller's provider.
pub async fn enter_result_for(
    state: &AppState,
    viewer: &Viewer,
    record_id: i64,
    form: &ResultForm,
) -> Result<(), AppError> {
    let (provider, _) = require_school(viewer)?;
    let record = state.store.training_record(record_id).await?;
    if record.source != "provider" || record.source_id != Some(provider) {
        return Err(AppError::Forbidden);
    }
    let draft =
        form.parse(record.started_on, u32::try_from(record.hours).unwrap_or(0), today()).map_err(AppError::Invalid)?;
    Ok(state.store.record_result(record_id, provider, &draft).await?)
}

#[utoipa::path(put, path = "/api/v1/training-records/{id}/result", tag = "workforce", request_body = ResultForm, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn enter_result(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ResultForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    enter_result_for(&state, &viewer, id, &form).await?;
    Ok(StatusCode::NO_CONTENT)
}
