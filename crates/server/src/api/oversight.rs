//! Oversight in the API: the plan's targets for the city and each district (public), the monthly
//! series, each agency's employee-based share, brand recognition (city regulators) and the audit
//! of regulator and evaluator writes (city regulators and system admins).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::oversight::brand::{BrandForm, withdraw_reason};
use jiazheng_core::oversight::targets::{Figure, Metric};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::audit::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf, field_error};
use crate::auth::Viewer;
use crate::oversight::{AreaFigures, Targets};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/targets", get(targets))
        .route("/targets/series", get(series))
        .route("/targets/agencies", get(agencies))
        .route("/brands", post(recognise))
        .route("/brands/{agency}/withdrawal", post(withdraw))
        .route("/audit", get(audit))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FigureOut {
    /// `branded_employee_agencies`, `community_coverage`, …
    pub metric: Metric,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub numerator: i64,
    pub denominator: i64,
    /// A count, per cent, per mille or days, as the metric reads; absent with nothing to divide by.
    pub value: Option<f64>,
    /// Which of the plan's three targets this is.
    pub target_number: Option<u8>,
    /// Whether the plan's target is met; absent where the plan sets none.
    pub met: Option<bool>,
    /// Read live (true) or from the daily job's month (false).
    pub live: bool,
}

fn figure_out(f: Figure) -> FigureOut {
    FigureOut {
        metric: f.metric,
        label_zh: f.metric.label_zh(),
        label_en: f.metric.label_en(),
        numerator: f.numerator,
        denominator: f.denominator,
        value: f.value(),
        target_number: f.metric.target_number(),
        met: f.met(),
        live: crate::oversight::is_live(f.metric),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaTargets {
    pub code: String,
    pub name: String,
    pub figures: Vec<FigureOut>,
}

fn area_out(a: &AreaFigures) -> AreaTargets {
    AreaTargets {
        code: a.code.clone(),
        name: a.name.clone(),
        figures: a.figures.iter().copied().map(figure_out).collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetsReport {
    pub area: AreaTargets,
    /// Each district, when the area is the city.
    pub districts: Vec<AreaTargets>,
    pub live_at: DateTime<Utc>,
    /// The day of the daily job's figures; absent before its first run.
    pub job_as_of: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetsParams {
    /// A district's code; empty or absent: the city.
    pub area: Option<String>,
}

fn pick<'a>(t: &'a Targets, raw: Option<&str>) -> Result<&'a AreaFigures, AppError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(&t.city),
        Some(code) => t.districts.iter().find(|d| d.code == code || d.code.get(..6) == Some(code)).ok_or_else(|| {
            AppError::invalid("area", "not_a_district", "请填写本市的区代码", "must be a district of the city")
        }),
    }
}

/// The plan's targets and the figures beside them, for the city (with each district) or a district.
#[utoipa::path(get, path = "/api/v1/targets", tag = "oversight", params(TargetsParams),
    responses((status = 200, body = TargetsReport)))]
pub async fn targets(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TargetsParams>,
) -> Result<Json<TargetsReport>, AppError> {
    let t = state.targets().await?;
    let area = pick(&t, q.area.as_deref())?;
    let is_city = area.code == t.city.code;
    Ok(Json(TargetsReport {
        area: area_out(area),
        districts: if is_city { t.districts.iter().map(area_out).collect() } else { Vec::new() },
        live_at: t.live_at,
        job_as_of: t.job_as_of,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthFigure {
    /// YYYY-MM.
    pub month: String,
    pub metric: Metric,
    pub numerator: i64,
    pub denominator: i64,
    pub value: Option<f64>,
    /// The day the daily job last wrote this month.
    pub as_of: NaiveDate,
}

/// The monthly series of the city or a district, oldest first; a month is never rewritten once it has ended.
#[utoipa::path(get, path = "/api/v1/targets/series", tag = "oversight", params(TargetsParams),
    responses((status = 200, body = Vec<MonthFigure>)))]
pub async fn series(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TargetsParams>,
) -> Result<Json<Vec<MonthFigure>>, AppError> {
    let t = state.targets().await?;
    let area = pick(&t, q.area.as_deref())?;
    let rows = state.store.plan_series(&area.code).await?;
    Ok(Json(
        rows.iter()
            .filter_map(|r| {
                let f = r.figure()?;
                Some(MonthFigure {
                    month: r.month.clone(),
                    metric: f.metric,
                    numerator: f.numerator,
                    denominator: f.denominator,
                    value: f.value(),
                    as_of: r.as_of,
                })
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgencyTargetLine {
    pub agency_id: i64,
    pub name: String,
    pub district_code: String,
    /// `employee`, `intermediary` or `mixed`.
    pub business_model: String,
    /// Workers with an active binding (both sides confirmed).
    pub active: i64,
    pub active_employee: i64,
    /// The recognised brand, if any.
    pub brand: Option<String>,
    /// More than half employee-based.
    pub employee_based: bool,
    /// Counts towards target 1.
    pub counts: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyTargetParams {
    pub district: Option<String>,
    /// Only agencies counting towards target 1.
    pub counts: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Each active agency's employee-based share, those counting for target 1 first.
#[utoipa::path(get, path = "/api/v1/targets/agencies", tag = "oversight", params(AgencyTargetParams),
    responses((status = 200, body = PageOf<AgencyTargetLine>)))]
pub async fn agencies(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AgencyTargetParams>,
) -> Result<Json<PageOf<AgencyTargetLine>>, AppError> {
    let t = state.targets().await?;
    let area = pick(&t, q.district.as_deref())?;
    let in_district = area.code != t.city.code;
    let all = state.store.agency_standings(in_district.then_some(area.code.as_str())).await?;
    let mut lines: Vec<AgencyTargetLine> = all
        .iter()
        .filter(|s| !in_district || s.district_code == area.code)
        .map(|s| {
            let share = s.share();
            AgencyTargetLine {
                agency_id: s.agency_id,
                name: s.name.clone(),
                district_code: s.district_code.clone(),
                business_model: s.business_model.clone(),
                active: s.active,
                active_employee: s.active_employee,
                brand: s.brand.clone(),
                employee_based: share.employee_based(),
                counts: share.passes(),
            }
        })
        .filter(|l| !q.counts.unwrap_or(false) || l.counts)
        .collect();
    lines.sort_by_key(|l| (!l.counts, !l.employee_based, -l.active, l.agency_id));
    let page = PageRequest::new(q.page, q.per_page);
    let total = lines.len() as i64;
    let items = lines.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
    Ok(Json(page.wrap(items, total).into()))
}

fn city_regulator(viewer: &Viewer, headers: &HeaderMap) -> Result<i64, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    if session.principal.scope != Scope::City {
        return Err(AppError::Forbidden);
    }
    viewer.check_csrf(csrf_header(headers))?;
    Ok(session.principal.account_id)
}

/// Recognises an agency's brand (a city-wide regulator); one live recognition per agency (409).
#[utoipa::path(post, path = "/api/v1/brands", tag = "oversight", request_body = BrandForm,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn recognise(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<BrandForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let actor = city_regulator(&viewer, &headers)?;
    let draft = form.parse(super::workers::today()).map_err(AppError::Invalid)?;
    let id = match state.store.recognise_brand(&draft, actor).await {
        Err(jiazheng_store::StoreError::NotFound) => {
            return Err(AppError::invalid("agency", "unknown", "没有这家企业", "no such agency"));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct WithdrawalForm {
    /// Why, up to 300 characters.
    pub reason: String,
}

/// Withdraws an agency's live brand recognition (a city-wide regulator).
#[utoipa::path(post, path = "/api/v1/brands/{agency}/withdrawal", tag = "oversight", request_body = WithdrawalForm,
    security(("bearer" = [])), responses((status = 204), (status = 404, body = crate::error::ErrorBody),
    (status = 422, body = crate::error::ErrorBody)))]
pub async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(agency): Path<i64>,
    ApiJson(form): ApiJson<WithdrawalForm>,
) -> Result<StatusCode, AppError> {
    let actor = city_regulator(&viewer, &headers)?;
    let reason = withdraw_reason(&form.reason).map_err(field_error("reason"))?;
    state.store.withdraw_brand(agency, &reason, actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// An account id, from the rows' `actor_account_id`.
    pub actor: Option<i64>,
    /// An action key such as `brand.recognise`.
    pub action: Option<String>,
    /// Part of the subject's name.
    pub subject: Option<String>,
    /// Beijing dates, both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_account_id: i64,
    pub actor_name: String,
    pub actor_role: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: i64,
    pub subject_label: String,
    /// JSON, as it was before the write.
    pub before: Option<serde_json::Value>,
    /// JSON, as the write left it.
    pub after: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// Every write by a regulator or an evaluator, newest first (city regulators and system admins).
#[utoipa::path(get, path = "/api/v1/audit", tag = "oversight", params(AuditParams), security(("bearer" = [])),
    responses((status = 200, body = PageOf<AuditEntry>)))]
pub async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> Result<Json<PageOf<AuditEntry>>, AppError> {
    let session = viewer.require_role(&[Role::Regulator, Role::SystemAdmin])?;
    if session.principal.role == Role::Regulator && session.principal.scope != Scope::City {
        return Err(AppError::Forbidden);
    }
    let query = AuditQuery {
        actor: q.actor,
        action: q.action.filter(|a| !a.trim().is_empty()).map(|a| a.chars().take(60).collect()),
        subject_kind: None,
        subject: q.subject.filter(|s| !s.trim().is_empty()).map(|s| s.chars().take(50).collect()),
        from: q.from,
        to: q.to,
    };
    let page = state.store.audit(&query, PageRequest::new(q.page, q.per_page)).await?;
    let json = |raw: Option<String>| raw.and_then(|r| serde_json::from_str(&r).ok());
    Ok(Json(PageOf::from_page(page, |r| AuditEntry {
        id: r.id,
        actor_account_id: r.actor_account_id,
        actor_name: r.actor_name,
        actor_role: r.actor_role,
        action: r.action,
        subject_kind: r.subject_kind,
        subject_id: r.subject_id,
        subject_label: r.subject_label,
        before: json(r.value_before),
        after: json(r.value_after),
        at: r.at,
    })))
}
