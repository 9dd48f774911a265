//! Subsidised service in the API: districts' budgets (set by regulators), the residents a
//! district registered, the month's statement with its audit list, and a resident's own quota.
//! Registering a resident takes an evidence file, so it is done on the community staff's page.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_store::PageRequest;
use jiazheng_store::market::subsidies::{BudgetRow, GrantRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, PageOf};
use crate::auth::Viewer;
use crate::subsidies::{MonthStatement, year_or_this};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subsidies/budgets", get(budgets).put(set_budget))
        .route("/subsidies/grants", get(grants))
        .route("/subsidies/statement", get(statement))
        .route("/resident/subsidy", get(own_subsidy))
}

/// The district a viewer's lists are limited to: a staff member's or a district regulator's;
/// `None` for a city regulator.
fn area(who: &Principal) -> Result<Option<String>, AppError> {
    match (who.role, &who.scope) {
        (Role::CommunityStaff | Role::Regulator, Scope::District(d)) => Ok(Some(d.to_string())),
        (Role::Regulator, Scope::City) => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// A Beijing year from five years back to next year; other values read this year.
    pub year: Option<i32>,
}

/// Each district's budget for a year with what is spent and promised (a district's staff and
/// regulator see their district).
#[utoipa::path(get, path = "/api/v1/subsidies/budgets", tag = "market", params(YearQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<BudgetRow>)))]
pub async fn budgets(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<YearQuery>,
) -> Result<Json<Vec<BudgetRow>>, AppError> {
    let who = &viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?.principal;
    let area = area(who)?;
    Ok(Json(state.store.subsidy_budgets(year_or_this(query.year), area.as_deref()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BudgetForm {
    /// A district's 12-digit code, in the regulator's area.
    pub district: String,
    /// This Beijing year or the next.
    pub year: String,
    /// Yuan, at most two decimals; not below what is already spent.
    pub amount: String,
}

/// Sets a district's yearly budget.
#[utoipa::path(put, path = "/api/v1/subsidies/budgets", tag = "market", request_body = BudgetForm,
    security(("bearer" = [])), responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_budget(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<BudgetForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    let (district, year, amount) = crate::subsidies::parse_budget_form(who, &form.district, &form.year, &form.amount)
        .map_err(AppError::Invalid)?;
    state.store.set_subsidy_budget(who, &district, year, amount).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    pub year: Option<i32>,
    /// Part of the name.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The residents registered for a year in the viewer's district (or the city), with their use.
#[utoipa::path(get, path = "/api/v1/subsidies/grants", tag = "market", params(GrantQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<GrantRow>)))]
pub async fn grants(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<GrantQuery>,
) -> Result<Json<PageOf<GrantRow>>, AppError> {
    let who = &viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?.principal;
    let area = area(who)?;
    let page = state
        .store
        .subsidy_grants(
            area.as_deref(),
            year_or_this(query.year),
            query.q.as_deref().unwrap_or_default(),
            PageRequest::new(query.page, query.per_page),
        )
        .await?;
    Ok(Json(page.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; empty is this Beijing month.
    pub month: Option<String>,
}

/// One subsidised order of a statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementOrder {
    pub order_id: i64,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub status: String,
    pub item: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub worker_name: Option<String>,
    pub resident_name: String,
    pub category: String,
    pub district_code: String,
    pub community_name: String,
    pub minutes: i64,
    /// What the district paid in the end (paid less returned), in fen.
    pub charged_fen: i64,
}

/// A pattern the audit asks someone to look at.
#[derive(Debug, Serialize, ToSchema)]
pub struct Finding {
    pub message_zh: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubsidyStatement {
    pub month: String,
    pub orders: Vec<StatementOrder>,
    pub charged_fen: i64,
    pub audit: Vec<Finding>,
}

/// The month's subsidised orders in the viewer's scope (a district for its staff and regulator,
/// the city for a city regulator, an agency's own orders) and the audit list.
#[utoipa::path(get, path = "/api/v1/subsidies/statement", tag = "market", params(MonthQuery), security(("bearer" = [])),
    responses((status = 200, body = SubsidyStatement), (status = 422, body = crate::error::ErrorBody)))]
pub async fn statement(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<MonthQuery>,
) -> Result<Json<SubsidyStatement>, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff, Role::Regulator, Role::AgencyAdmin])?.principal.clone();
    let first = jiazheng_core::calendar::parse_month(query.month.as_deref().unwrap_or_default(), beijing_today())
        .ok_or_else(|| {
            AppError::invalid("month", "bad_month", "请按 年-月 填写，例如 2026-11", "use year-month, e.g. 2026-11")
        })?;
    let s = MonthStatement::load(&state, &who, first).await?;
    Ok(Json(SubsidyStatement {
        month: s.month(),
        charged_fen: s.charged_fen(),
        orders: s
            .lines
            .iter()
            .map(|l| StatementOrder {
                order_id: l.order_id,
                starts_at: l.starts_at,
                status: l.status.clone(),
                item: l.item.clone(),
                agency_id: l.agency_id,
                agency_name: l.agency_name.clone(),
                worker_name: l.worker_name.clone(),
                resident_name: l.legal_name.clone(),
                category: l.category.clone(),
                district_code: l.district_code.clone(),
                community_name: l.community_name.clone(),
                minutes: (l.ends_at - l.starts_at).num_minutes(),
                charged_fen: l.charged_fen(),
            })
            .collect(),
        audit: s.oddities.into_iter().map(|(zh, en)| Finding { message_zh: zh, message: en }).collect(),
    }))
}

/// The resident's own quota this year.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnSubsidy {
    pub category: String,
    pub year: i64,
    /// `money` (fen) or `hours` (minutes).
    pub quota_kind: String,
    pub quota_amount: i64,
    pub used: i64,
    pub left: i64,
}

/// The signed-in resident's subsidy for this Beijing year; 404 when they have none.
#[utoipa::path(get, path = "/api/v1/resident/subsidy", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = OwnSubsidy), (status = 404, body = crate::error::ErrorBody)))]
pub async fn own_subsidy(State(state): State<AppState>, viewer: Viewer) -> Result<Json<OwnSubsidy>, AppError> {
    let me = viewer.require_role(&[Role::Resident])?.principal.account_id;
    let g = state.store.live_grant_of_resident(me, beijing_today().year()).await?.ok_or(AppError::NotFound)?;
    Ok(Json(OwnSubsidy {
        left: g.left(),
        category: g.category,
        year: g.year,
        quota_kind: g.quota_kind,
        quota_amount: g.quota_amount,
        used: g.used,
    }))
}
