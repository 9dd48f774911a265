use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_store::PageRequest;
use jiazheng_store::registry::agencies::{Agency, AgencyQuery, AgencyWorkforce};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiQuery, Created, PageOf, field_error, optional_division};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/agencies", get(list).post(create)).route("/agencies/{id}", get(detail).put(update))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyDetail {
    #[serde(flatten)]
    pub agency: Agency,
    pub employees: i64,
    pub intermediaries: i64,
    pub pending_bindings: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AgencyListQuery {
    /// Part of the name or brand, or a whole USCC.
    pub q: Option<String>,
    /// District code (6 or 12 digits).
    pub district: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

impl AgencyListQuery {
    pub fn parse(&self) -> Result<AgencyQuery, AppError> {
        let district = optional_division(self.district.as_deref())
            .map_err(field_error("district"))?
            .map(|d| d.district().to_string());
        Ok(AgencyQuery {
            text: self.q.clone().filter(|q| !q.trim().is_empty()),
            district,
            page: PageRequest::new(self.page, self.per_page),
        })
    }
}

/// Public agency list with search by name, brand, USCC and district.
#[utoipa::path(get, path = "/api/v1/agencies", tag = "registry", params(AgencyListQuery),
    responses((status = 200, body = PageOf<Agency>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AgencyListQuery>,
) -> Result<Json<PageOf<Agency>>, AppError> {
    let page = state.store.search_agencies(&q.parse()?).await?;
    Ok(Json(page.into()))
}

/// One agency's public record.
#[utoipa::path(get, path = "/api/v1/agencies/{id}", tag = "registry",
    responses((status = 200, body = AgencyDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<AgencyDetail>, AppError> {
    let agency = state.store.agency(id).await?;
    let AgencyWorkforce { employees, intermediaries, pending } = state.store.agency_workforce(id).await?;
    Ok(Json(AgencyDetail { agency, employees, intermediaries, pending_bindings: pending }))
}

/// Registers an agency (regulator or system admin).
#[utoipa::path(post, path = "/api/v1/agencies", tag = "registry", request_body = AgencyForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    ApiJson(form): ApiJson<AgencyForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = viewer.require_role(&[Role::Regulator, Role::SystemAdmin])?;
    viewer.check_csrf(csrf_header(&headers))?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    if let Some(Some(area)) = session.principal.regulated_area()
        && !draft.street_code.is_within(area)
    {
        return Err(AppError::Forbidden);
    }
    let id = state.store.create_agency(&draft).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AgencyUpdate {
    /// The version read; a newer one on the server answers 409.
    pub version: i64,
    #[serde(flatten)]
    pub form: AgencyForm,
}

/// Edits an agency: its own admin, a regulator in scope, or a system admin.
#[utoipa::path(put, path = "/api/v1/agencies/{id}", tag = "registry", request_body = AgencyUpdate, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<AgencyUpdate>,
) -> Result<StatusCode, AppError> {
    let session = viewer.require()?;
    viewer.check_csrf(csrf_header(&headers))?;
    let current = state.store.agency(id).await?;
    let p = &session.principal;
    let own = p.agency_id() == Some(id);
    let allowed = own || p.role == Role::SystemAdmin || regulates(p, &current);
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let draft = body.form.parse().map_err(AppError::Invalid)?;
    // The agency keeps its contact details; its USCC, name and district are the regulator's to
    // change, or it could move itself out of its district regulator's reach.
    let locked = jiazheng_store::registry::agencies::registration_fields_changed(&current, &draft);
    if own && !locked.is_empty() {
        let errors = locked.into_iter().map(|field| {
            jiazheng_core::field::Invalid::new(
                "regulator_only",
                "企业登记信息（信用代码、名称、所在街道、法定代表人、经营模式）须由监管部门变更",
                "the registration (USCC, name, street, legal representative, business model) is changed by the regulator",
            )
            .at(field)
        });
        return Err(AppError::Invalid(jiazheng_core::FieldErrors(errors.collect())));
    }
    let source = p.regulator_source().unwrap_or_else(|| format!("{}:{}", p.role.as_str(), p.account_id));
    state.store.update_agency(id, body.version, &draft, source, Some(p.account_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The CSRF token a cookie-authenticated API write carries in `X-CSRF-Token`.
pub fn csrf_header(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok())
}

/// Whether `principal` is a regulator whose area holds the agency.
pub fn regulates(principal: &jiazheng_core::account::Principal, agency: &Agency) -> bool {
    DivisionCode::parse(&agency.district_code).is_ok_and(|place| principal.regulates(&place))
}
