use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiazheng_core::registry::service_point::ServicePointForm;
use jiazheng_store::PageRequest;
use jiazheng_store::registry::service_points::ServicePoint;
use serde::Deserialize;
use utoipa::IntoParams;

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf, field_error, optional_division};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/service-points", get(list).post(create))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PointQuery {
    pub district: Option<String>,
    pub agency: Option<i64>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl PointQuery {
    pub fn district(&self) -> Result<Option<String>, AppError> {
        Ok(optional_division(self.district.as_deref())
            .map_err(field_error("district"))?
            .map(|d| d.district().to_string()))
    }
}

/// Service points by district or agency.
#[utoipa::path(get, path = "/api/v1/service-points", tag = "registry", params(PointQuery),
    responses((status = 200, body = PageOf<ServicePoint>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PointQuery>,
) -> Result<Json<PageOf<ServicePoint>>, AppError> {
    let page =
        state.store.service_points(q.district()?.as_deref(), q.agency, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(page.into()))
}

/// Opens a service point for the caller's agency.
#[utoipa::path(post, path = "/api/v1/service-points", tag = "registry", request_body = ServicePointForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    ApiJson(form): ApiJson<ServicePointForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(csrf_header(&headers))?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.create_service_point(agency, &draft).await?;
    state.coverage_changed();
    Ok((StatusCode::CREATED, Json(Created { id })))
}
