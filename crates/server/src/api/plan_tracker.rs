//! The plan's task tracker in the API (regulators): the tasks with their units, status, deadlines
//! and overdue flags; a task with its progress; a unit's report (JSON) and its evidence file (the
//! raw bytes); the overseer's deadline and reopening.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiazheng_core::account::{Principal, Role};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::field::required_paragraphs;
use jiazheng_core::market::subsidy::MAX_EVIDENCE_BYTES;
use jiazheng_core::oversight::plan::{
    DeadlineForm, MAX_REASON_CHARS, ProgressForm, TaskStatus, days_overdue, plan_floor,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::plan::{PlanSummary, PlanTask, PlanUnit, ProgressReport, TaskFilter, TaskUnit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf, field_error};
use crate::auth::Viewer;
use crate::plan_tracker::{evidence, tracker_error};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    let limit = axum::extract::DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 1024);
    Router::new()
        .route("/plan/units", get(units))
        .route("/plan/tasks", get(tasks))
        .route("/plan/tasks/{number}", get(task))
        .route("/plan/tasks/{number}/progress", post(report))
        .route("/plan/progress/{id}/evidence", put(attach).layer(limit))
        .route("/plan/tasks/{number}/deadline", put(set_deadline))
        .route("/plan/tasks/{number}/reopen", post(reopen))
}

fn regulator(viewer: &Viewer) -> Result<Principal, AppError> {
    Ok(viewer.require_role(&[Role::Regulator])?.principal.clone())
}

fn writer(viewer: &Viewer, headers: &HeaderMap) -> Result<Principal, AppError> {
    let who = regulator(viewer)?;
    viewer.check_csrf(csrf_header(headers))?;
    Ok(who)
}

/// A task in the tracker: the task, its units (the lead first), and whether it is overdue today.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackedTask {
    pub task: PlanTask,
    pub units: Vec<TaskUnit>,
    pub overdue: bool,
    pub days_overdue: i64,
}

fn tracked(task: PlanTask, all: &[TaskUnit], today: chrono::NaiveDate) -> TrackedTask {
    let days = days_overdue(task.status(), task.deadline, today);
    TrackedTask {
        units: all.iter().filter(|u| u.task_number == task.number).cloned().collect(),
        overdue: days > 0,
        days_overdue: days,
        task,
    }
}

/// The tracker: how many tasks stand where, the account's own unit, one page of tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackerBody {
    /// The Beijing date the overdue flags are as of.
    pub as_of: chrono::NaiveDate,
    pub summary: PlanSummary,
    /// The unit this account acts for, if any.
    pub my_unit: Option<PlanUnit>,
    pub tasks: PageOf<TrackedTask>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct TrackerQuery {
    /// A unit's id (`GET /api/v1/plan/units`).
    pub unit: Option<i64>,
    /// `not_started`, `in_progress`, `done` or `delayed`.
    pub status: Option<String>,
    /// Only tasks past their deadline and not done.
    pub overdue: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The responsible units (责任单位) of the plan.
#[utoipa::path(get, path = "/api/v1/plan/units", tag = "oversight", security(("bearer" = [])),
    responses((status = 200, body = Vec<PlanUnit>)))]
pub async fn units(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<PlanUnit>>, AppError> {
    regulator(&viewer)?;
    Ok(Json(state.store.plan_units().await?))
}

/// The plan's tasks with their units, status and deadlines (regulators).
#[utoipa::path(get, path = "/api/v1/plan/tasks", tag = "oversight", params(TrackerQuery), security(("bearer" = [])),
    responses((status = 200, body = TrackerBody)))]
pub async fn tasks(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<TrackerQuery>,
) -> Result<Json<TrackerBody>, AppError> {
    let who = regulator(&viewer)?;
    let today = beijing_today();
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => Some(TaskStatus::parse(raw).map_err(field_error("status"))?),
        None => None,
    };
    let filter = TaskFilter { unit: q.unit, status, overdue_on: q.overdue.unwrap_or(false).then_some(today) };
    let page = state.store.plan_tasks(&filter, PageRequest::new(q.page, q.per_page)).await?;
    let all = state.store.task_units().await?;
    Ok(Json(TrackerBody {
        as_of: today,
        summary: state.store.plan_summary(today).await?,
        my_unit: state.store.plan_unit_of(who.account_id).await?,
        tasks: PageOf::from_page(page, |t| tracked(t, &all, today)),
    }))
}

/// A task with one page of its progress reports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    pub tracked: TrackedTask,
    pub progress: PageOf<ProgressReport>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct ProgressPage {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// One task and its reports.
#[utoipa::path(get, path = "/api/v1/plan/tasks/{number}", tag = "oversight", params(("number" = i64, Path), ProgressPage),
    security(("bearer" = [])), responses((status = 200, body = TaskDetail)))]
pub async fn task(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<i64>,
    ApiQuery(q): ApiQuery<ProgressPage>,
) -> Result<Json<TaskDetail>, AppError> {
    regulator(&viewer)?;
    let task = state.store.plan_task(number).await?;
    let all = state.store.task_units().await?;
    let progress = state.store.task_progress(number, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(TaskDetail { tracked: tracked(task, &all, beijing_today()), progress: progress.into() }))
}

/// A unit reports progress on a task it is responsible for (403 otherwise, and for an account
/// acting for no unit); a report against a done task is refused (422, `task_closed`); `done`
/// comes from the lead unit only (422, `not_lead`). The evidence file follows with
/// `PUT /api/v1/plan/progress/{id}/evidence`.
#[utoipa::path(post, path = "/api/v1/plan/tasks/{number}/progress", tag = "oversight", params(("number" = i64, Path)),
    request_body = ProgressForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(number): Path<i64>,
    ApiJson(form): ApiJson<ProgressForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let who = writer(&viewer, &headers)?;
    let start = state.store.plan_info().await?.map_or_else(plan_floor, |i| i.starts_on);
    let draft = form.parse(beijing_today(), start).map_err(AppError::Invalid)?;
    let id = state.store.report_progress(&who, number, &draft, None).await.map_err(tracker_error)?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct EvidenceQuery {
    /// The file's name as it should be kept (at most 120 characters).
    pub name: String,
}

/// Attaches the evidence file (JPEG, PNG or PDF, at most 5 MB: the raw bytes as the body) to a
/// report of the account's own unit that has none yet (409 once it has one).
#[utoipa::path(put, path = "/api/v1/plan/progress/{id}/evidence", tag = "oversight", params(("id" = i64, Path), EvidenceQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn attach(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let who = writer(&viewer, &headers)?;
    let file = evidence(&q.name, body.to_vec())
        .map_err(field_error("evidence"))?
        .ok_or_else(|| AppError::invalid("evidence", "required", "请上传证明材料", "upload the evidence"))?;
    state.store.attach_progress_file(&who, id, &file).await.map_err(tracker_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The overseeing city regulator sets a task's deadline.
#[utoipa::path(put, path = "/api/v1/plan/tasks/{number}/deadline", tag = "oversight", params(("number" = i64, Path)),
    request_body = DeadlineForm, security(("bearer" = [])), responses((status = 204)))]
pub async fn set_deadline(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(number): Path<i64>,
    ApiJson(form): ApiJson<DeadlineForm>,
) -> Result<StatusCode, AppError> {
    let who = writer(&viewer, &headers)?;
    let deadline = form.parse().map_err(AppError::Invalid)?;
    state.store.set_task_deadline(&who, number, deadline).await.map_err(tracker_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReopenForm {
    /// Why the task is reopened, at most 500 characters.
    pub reason: String,
}

/// The overseeing city regulator reopens a done task (409 `task_not_done` otherwise).
#[utoipa::path(post, path = "/api/v1/plan/tasks/{number}/reopen", tag = "oversight", params(("number" = i64, Path)),
    request_body = ReopenForm, security(("bearer" = [])), responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn reopen(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(number): Path<i64>,
    ApiJson(form): ApiJson<ReopenForm>,
) -> Result<StatusCode, AppError> {
    let who = writer(&viewer, &headers)?;
    let reason = required_paragraphs(&form.reason, MAX_REASON_CHARS).map_err(field_error("reason"))?;
    state.store.reopen_task(&who, number, &reason).await.map_err(tracker_error)?;
    Ok(StatusCode::NO_CONTENT)
}
