//! Rectification orders in the API: the penalties and upheld complaints a regulator may open an
//! order from, opening one, the orders of an agency or a regulator's area (overdue flagged), an
//! order with its steps, the agency's report (422 once the order is closed) and the regulator's
//! review. Evidence files are taken on the agency's page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::oversight::rectification::{OrderForm, ReportForm, ReviewForm};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::Viewing;
use jiazheng_store::oversight::rectification::{RectificationRow, RectificationSourceRow, RectificationStepRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, PageOf};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rectifications", get(list).post(open))
        .route("/rectifications/sources", get(sources))
        .route("/rectifications/{id}", get(detail))
        .route("/rectifications/{id}/reports", post(report))
        .route("/rectifications/{id}/review", post(review))
}

/// An order with its number and whether it is overdue today.
#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationBody {
    /// `ZG2026-000003`.
    pub number: String,
    /// Past the deadline and not accepted (a report made in time and waiting does not count).
    pub overdue: bool,
    #[serde(flatten)]
    pub order: RectificationRow,
}

impl RectificationBody {
    fn of(order: RectificationRow) -> Self {
        Self { number: order.number(), overdue: order.overdue(beijing_today()), order }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RectificationListQuery {
    /// Only orders overdue today.
    #[serde(default)]
    pub overdue: bool,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The agency's own orders, or those of the regulator's area; open ones first, earliest deadline first.
#[utoipa::path(get, path = "/api/v1/rectifications", tag = "oversight", params(RectificationListQuery),
    security(("bearer" = [])), responses((status = 200, body = PageOf<RectificationBody>)))]
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<RectificationListQuery>,
) -> Result<Json<PageOf<RectificationBody>>, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let scope = Viewing::of(who).ok_or(AppError::Forbidden)?;
    let page =
        state.store.rectifications(&scope, q.overdue, beijing_today(), PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(PageOf::from_page(page, RectificationBody::of)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourcesQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Penalties on agencies and upheld complaints about them in the regulator's area, without an order yet.
#[utoipa::path(get, path = "/api/v1/rectifications/sources", tag = "oversight", params(SourcesQuery),
    security(("bearer" = [])), responses((status = 200, body = PageOf<RectificationSourceRow>)))]
pub async fn sources(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<SourcesQuery>,
) -> Result<Json<PageOf<RectificationSourceRow>>, AppError> {
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    Ok(Json(state.store.rectification_sources(who, PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// Opens an order after a penalty or an upheld complaint (one order each: 409 after).
#[utoipa::path(post, path = "/api/v1/rectifications", tag = "oversight", request_body = OrderForm,
    security(("bearer" = [])),
    responses((status = 201, body = RectificationBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<OrderForm>,
) -> Result<(StatusCode, Json<RectificationBody>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.open_rectification(who, &draft).await?;
    Ok((StatusCode::CREATED, Json(RectificationBody::of(state.store.rectification(id, who).await?))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationDetail {
    #[serde(flatten)]
    pub order: RectificationBody,
    pub steps: Vec<RectificationStepRow>,
}

/// One order with its steps: its agency's, or a regulator's over the agency's district (anyone else: 404).
#[utoipa::path(get, path = "/api/v1/rectifications/{id}", tag = "oversight", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = RectificationDetail)))]
pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<RectificationDetail>, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let order = state.store.rectification(id, who).await?;
    let steps = state.store.rectification_steps(id).await?;
    Ok(Json(RectificationDetail { order: RectificationBody::of(order), steps }))
}

/// The agency reports what it did (text only here; with a file on its page). 422 once the order is closed.
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/reports", tag = "oversight", params(("id" = i64, Path)),
    request_body = ReportForm, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<ReportForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (session, _) = viewer.require_agency()?;
    let who = &session.principal;
    state.store.rectification(id, who).await?;
    let text = form.parse().map_err(AppError::Invalid)?;
    state.store.report_rectification(id, who, &text, None, beijing_today()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The regulator accepts (closes), extends (a later deadline, with the reason) or returns (with the reason).
#[utoipa::path(post, path = "/api/v1/rectifications/{id}/review", tag = "oversight", params(("id" = i64, Path)),
    request_body = ReviewForm, security(("bearer" = [])),
    responses((status = 200, body = RectificationBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<ReviewForm>,
) -> Result<Json<RectificationBody>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    let order = state.store.rectification(id, who).await?;
    let review = form.parse(order.deadline, beijing_today()).map_err(AppError::Invalid)?;
    Ok(Json(RectificationBody::of(state.store.review_rectification(id, who, &review).await?)))
}
