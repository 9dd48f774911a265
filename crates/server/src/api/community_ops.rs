//! Community operations in the API: a service point's hours, duty, tool kit and events (its own
//! agency only; another agency's point is not found), 家政驿站 (proposed by schools, confirmed by
//! the community's staff), volunteer projects, events and participation, and the public facts
//! of a community.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::operations::{CheckoutForm, DutyForm, PointEventForm, ToolForm, open_at};
use jiazheng_core::community::volunteer::{ProjectForm, StationForm, VolunteerEventForm, VolunteerJoinForm};
use jiazheng_core::market::slot::WeekForm;
use jiazheng_store::community::operations::{PointDuty, PointEvent, PointTool, RepeatShare, ToolLoan};
use jiazheng_store::community::volunteer::{Station, VolunteerEvent, VolunteerProject, staff_area};
use jiazheng_store::registry::service_points::ServicePoint;
use serde::Serialize;
use utoipa::ToSchema;

use super::agencies::csrf_header;
use super::{ApiJson, Created};
use crate::auth::Viewer;
use crate::community_ops::{CommunityFacts, ops_error};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/service-points/{id}/operations", get(operations))
        .route("/service-points/{id}/hours", put(set_hours))
        .route("/service-points/{id}/duties", post(add_duty))
        .route("/service-points/{id}/tools", post(add_tool))
        .route("/service-points/{id}/tools/{tool_id}/loans", post(check_out))
        .route("/service-points/{id}/loans/{loan_id}/return", post(give_back))
        .route("/service-points/{id}/events", post(add_event))
        .route("/agency/overdue-tools", get(overdue))
        .route("/stations", get(stations).post(propose_station))
        .route("/stations/{id}/confirmation", post(confirm_station))
        .route("/stations/{id}/end", post(end_station))
        .route("/volunteer/projects", get(projects).post(create_project))
        .route("/volunteer/projects/{id}/events", post(add_volunteer_event))
        .route("/volunteer/events", get(volunteer_events))
        .route("/volunteer/events/{id}/participants", post(join_event))
        .route("/volunteer/participants/{id}/confirmation", post(confirm_participant))
        .route("/communities/{code}", get(community))
}

fn agency_of(viewer: &Viewer, headers: &HeaderMap) -> Result<(i64, i64), AppError> {
    viewer.check_csrf(csrf_header(headers))?;
    let (session, agency) = viewer.require_agency()?;
    Ok((agency, session.principal.account_id))
}

/// One weekday's opening hours, Beijing time.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointHoursDay {
    /// 1 is Monday.
    pub weekday: u8,
    /// `08:30`
    pub opens: String,
    /// `17:00`
    pub closes: String,
}

/// A point's operations as its agency sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointOperationsBody {
    pub point: ServicePoint,
    pub hours: Vec<PointHoursDay>,
    pub open_now: bool,
    pub duties: Vec<PointDuty>,
    pub tools: Vec<PointTool>,
    /// Loans out now, and those returned in the last 7 days.
    pub loans: Vec<ToolLoan>,
    pub events: Vec<PointEvent>,
}

fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The agency's own point with its hours, duty roster, tools, loans and events.
#[utoipa::path(get, path = "/api/v1/service-points/{id}/operations", tag = "registry", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = PointOperationsBody)))]
pub async fn operations(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<PointOperationsBody>, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let ops = state.store.point_operations(id, agency).await?;
    Ok(Json(PointOperationsBody {
        open_now: open_at(&ops.hours, chrono::Utc::now()),
        hours: ops
            .hours
            .iter()
            .map(|(d, s)| PointHoursDay { weekday: *d, opens: clock(s.from), closes: clock(s.to) })
            .collect(),
        point: ops.point,
        duties: ops.duties,
        tools: ops.tools,
        loans: ops.loans,
        events: ops.events,
    }))
}

/// Replaces the point's weekly hours (seven days, Monday first; both times empty is closed).
#[utoipa::path(put, path = "/api/v1/service-points/{id}/hours", tag = "registry", params(("id" = i64, Path)),
    request_body = WeekForm, security(("bearer" = [])), responses((status = 204)))]
pub async fn set_hours(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<WeekForm>,
) -> Result<StatusCode, AppError> {
    let (agency, _) = agency_of(&viewer, &headers)?;
    let week = form.parse().map_err(AppError::Invalid)?;
    state.store.set_point_hours(id, agency, &week).await.map_err(ops_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts one of the agency's workers (active binding) on duty; 409 when the worker is already on
/// duty then, at this or another point.
#[utoipa::path(post, path = "/api/v1/service-points/{id}/duties", tag = "registry", params(("id" = i64, Path)),
    request_body = DutyForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_duty(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<DutyForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (agency, account) = agency_of(&viewer, &headers)?;
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.add_duty(id, agency, account, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Adds a tool to the point's kit.
#[utoipa::path(post, path = "/api/v1/service-points/{id}/tools", tag = "registry", params(("id" = i64, Path)),
    request_body = ToolForm, security(("bearer" = [])), responses((status = 201, body = Created)))]
pub async fn add_tool(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<ToolForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (agency, _) = agency_of(&viewer, &headers)?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.add_tool(id, agency, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Lends a unit of a tool to one of the agency's workers or a named volunteer; 409 when every
/// unit is out (of two requests for the last unit, exactly one wins).
#[utoipa::path(post, path = "/api/v1/service-points/{id}/tools/{tool_id}/loans", tag = "registry",
    params(("id" = i64, Path), ("tool_id" = i64, Path)), request_body = CheckoutForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody)))]
pub async fn check_out(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, tool)): Path<(i64, i64)>,
    ApiJson(form): ApiJson<CheckoutForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (agency, account) = agency_of(&viewer, &headers)?;
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.check_out_tool(id, tool, agency, account, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Takes a lent tool back; 409 when it is already back.
#[utoipa::path(post, path = "/api/v1/service-points/{id}/loans/{loan_id}/return", tag = "registry",
    params(("id" = i64, Path), ("loan_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn give_back(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, loan)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (agency, account) = agency_of(&viewer, &headers)?;
    state.store.return_tool(id, loan, agency, account).await.map_err(ops_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records an event held at the point.
#[utoipa::path(post, path = "/api/v1/service-points/{id}/events", tag = "registry", params(("id" = i64, Path)),
    request_body = PointEventForm, security(("bearer" = [])), responses((status = 201, body = Created)))]
pub async fn add_event(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<PointEventForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (agency, account) = agency_of(&viewer, &headers)?;
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.add_point_event(id, agency, account, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Tools of the agency's points not back by their date.
#[utoipa::path(get, path = "/api/v1/agency/overdue-tools", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = Vec<ToolLoan>)))]
pub async fn overdue(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<ToolLoan>>, AppError> {
    let (_, agency) = viewer.require_agency()?;
    Ok(Json(state.store.overdue_loans(agency, beijing_today()).await?))
}

/// A school's own stations, or the stations of a community staff member's area.
#[utoipa::path(get, path = "/api/v1/stations", tag = "community", security(("bearer" = [])),
    responses((status = 200, body = Vec<Station>)))]
pub async fn stations(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<Station>>, AppError> {
    let who = viewer.require_role(&[Role::School, Role::CommunityStaff])?.principal.clone();
    match who.provider_id() {
        Some(provider) => Ok(Json(state.store.stations_of_provider(provider).await?)),
        None => {
            let area = staff_area(&who).map_err(ops_error)?;
            Ok(Json(state.store.stations_in_area(&area).await?))
        }
    }
}

/// A school proposes a 家政驿站 in a community; it waits for the community's staff.
#[utoipa::path(post, path = "/api/v1/stations", tag = "community", request_body = StationForm,
    security(("bearer" = [])), responses((status = 201, body = Created)))]
pub async fn propose_station(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<StationForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::School])?.principal.clone();
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.propose_station(&who, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Staff whose area holds the station's community confirm it; it becomes active.
#[utoipa::path(post, path = "/api/v1/stations/{id}/confirmation", tag = "community", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn confirm_station(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    state.store.confirm_station(id, &who).await.map_err(ops_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Either side (the school, or staff of the community's area) ends a station.
#[utoipa::path(post, path = "/api/v1/stations/{id}/end", tag = "community", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn end_station(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::School, Role::CommunityStaff])?.principal.clone();
    state.store.end_station(id, &who).await.map_err(ops_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The volunteer projects of the staff member's area.
#[utoipa::path(get, path = "/api/v1/volunteer/projects", tag = "community", security(("bearer" = [])),
    responses((status = 200, body = Vec<VolunteerProject>)))]
pub async fn projects(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<VolunteerProject>>, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let area = staff_area(&who).map_err(ops_error)?;
    Ok(Json(state.store.volunteer_projects(&area).await?))
}

/// Community staff create a volunteer or public-welfare project for their area.
#[utoipa::path(post, path = "/api/v1/volunteer/projects", tag = "community", request_body = ProjectForm,
    security(("bearer" = [])), responses((status = 201, body = Created)))]
pub async fn create_project(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ProjectForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.create_volunteer_project(&who, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Adds an event, in a community of the area, to a project of the area.
#[utoipa::path(post, path = "/api/v1/volunteer/projects/{id}/events", tag = "community", params(("id" = i64, Path)),
    request_body = VolunteerEventForm, security(("bearer" = [])), responses((status = 201, body = Created)))]
pub async fn add_volunteer_event(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<VolunteerEventForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.add_volunteer_event(id, &who, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Volunteer events from 30 days back on, for agencies and schools to join.
#[utoipa::path(get, path = "/api/v1/volunteer/events", tag = "community",
    responses((status = 200, body = Vec<VolunteerEvent>)))]
pub async fn volunteer_events(State(state): State<AppState>) -> Result<Json<Vec<VolunteerEvent>>, AppError> {
    Ok(Json(state.store.joinable_volunteer_events().await?))
}

/// An agency or school joins an event with the people it sent and the hours each gave (again,
/// to change it, until the community confirms).
#[utoipa::path(post, path = "/api/v1/volunteer/events/{id}/participants", tag = "community", params(("id" = i64, Path)),
    request_body = VolunteerJoinForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody)))]
pub async fn join_event(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<VolunteerJoinForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::AgencyAdmin, Role::School])?.principal.clone();
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.join_volunteer_event(id, &who, &draft).await.map_err(ops_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Staff whose area holds the event's community confirm a participation.
#[utoipa::path(post, path = "/api/v1/volunteer/participants/{id}/confirmation", tag = "community",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn confirm_participant(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    state.store.confirm_participation(id, &who).await.map_err(ops_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A point serving a community, with whether it is open now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityPoint {
    pub point: ServicePoint,
    pub open_now: bool,
}

/// What anyone may read about a community.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityOverview {
    pub code: String,
    pub name: String,
    pub street_name: String,
    pub district_name: String,
    pub points: Vec<CommunityPoint>,
    pub stations: Vec<Station>,
    pub volunteer_events: Vec<VolunteerEvent>,
    /// Per agency: residents with two or more completed orders here, and those whose latest had a
    /// worker who served them before.
    pub stable_relationships: Vec<RepeatShare>,
}

/// A community's service points, 家政驿站, volunteer events and stable relationships.
#[utoipa::path(get, path = "/api/v1/communities/{code}", tag = "community", params(("code" = String, Path)),
    responses((status = 200, body = CommunityOverview)))]
pub async fn community(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<CommunityOverview>, AppError> {
    let facts = CommunityFacts::load(&state, &code).await?;
    Ok(Json(CommunityOverview {
        code: facts.community.code,
        name: facts.community.name,
        street_name: facts.street,
        district_name: facts.district,
        points: facts.points.into_iter().map(|(point, open_now)| CommunityPoint { point, open_now }).collect(),
        stations: facts.stations,
        volunteer_events: facts.events,
        stable_relationships: facts.shares,
    }))
}
