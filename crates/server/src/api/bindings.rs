use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::registry::binding::{BindingAction, Side};
use jiazheng_store::registry::bindings::Binding;
use serde::Deserialize;
use utoipa::ToSchema;

use super::agencies::csrf_header;
use super::workers::parse_kind;
use super::{ApiJson, Created};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/bindings", post(request)).route("/bindings/{id}/{action}", post(act))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BindingRequest {
    /// For an agency admin: the worker to bind. A worker binds themself.
    pub worker_id: Option<i64>,
    /// For a worker: the agency to join. An agency admin binds to their own agency.
    pub agency_id: Option<i64>,
    /// `employee` or `intermediary`.
    pub kind: Option<String>,
}

/// Which side of a binding the viewer speaks for, if any.
pub fn side_of(viewer: &Viewer, worker_id: i64, agency_id: i64) -> Result<Side, AppError> {
    let session = viewer.require()?;
    let p = &session.principal;
    match p.role {
        Role::AgencyAdmin if p.agency_id() == Some(agency_id) => Ok(Side::Agency),
        Role::Worker if p.scope == jiazheng_core::account::Scope::Worker(worker_id) => Ok(Side::Worker),
        _ => Err(AppError::Forbidden),
    }
}

/// Asks to bind a worker and an agency; the other side must confirm.
#[utoipa::path(post, path = "/api/v1/bindings", tag = "registry", request_body = BindingRequest, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<BindingRequest>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = viewer.require()?;
    viewer.check_csrf(csrf_header(&headers))?;
    let (worker_id, agency_id) = match &session.principal.scope {
        jiazheng_core::account::Scope::Agency(a) => (body.worker_id, Some(*a)),
        jiazheng_core::account::Scope::Worker(w) => (Some(*w), body.agency_id),
        _ => return Err(AppError::Forbidden),
    };
    let worker_id = worker_id.ok_or_else(|| AppError::invalid("worker_id", "required", "必填项", "is required"))?;
    let agency_id = agency_id.ok_or_else(|| AppError::invalid("agency_id", "required", "必填项", "is required"))?;
    let side = side_of(&viewer, worker_id, agency_id)?;
    state.store.worker(worker_id).await?;
    state.store.agency(agency_id).await?;
    let kind = parse_kind(body.kind.as_deref())?;
    let id = state.store.request_binding(worker_id, agency_id, kind, side).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

pub fn parse_action(raw: &str) -> Result<BindingAction, AppError> {
    BindingAction::from_code(raw).ok_or(AppError::NotFound)
}

/// Takes a step on a binding: confirm, reject, cancel, request-end, confirm-end.
#[utoipa::path(post, path = "/api/v1/bindings/{id}/{action}", tag = "registry", security(("bearer" = [])),
    responses((status = 200, body = Binding), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Json<Binding>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    Ok(Json(take_step(&state, &viewer, id, &action).await?))
}

/// Shared by the API and the pages: checks the viewer's side and applies the step.
pub async fn take_step(state: &AppState, viewer: &Viewer, id: i64, action: &str) -> Result<Binding, AppError> {
    let action = parse_action(action)?;
    let binding = state.store.binding(id).await?;
    let side = side_of(viewer, binding.worker_id, binding.agency_id)?;
    let result = state.store.act_on_binding(id, action, side).await.map_err(|e| match e {
        jiazheng_store::StoreError::Refused(reason) => AppError::Conflict {
            code: "binding_step",
            message_zh: reason,
            message_en: "This step is not possible for this binding now".into(),
            existing_id: None,
        },
        other => other.into(),
    });
    // The worker's employing agencies (and agency-wide insurance) may have changed.
    result
}
