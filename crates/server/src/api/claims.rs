//! Agencies' subsidy claims in the API: the city's standard amounts, what an agency may pick,
//! making a claim (a unit already claimed: 409 naming the earlier claim), reading claims and
//! their lines with what matches, and the regulator's decision. The evidence file of a claim is
//! taken on the agency's page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::oversight::claims::{
    ClaimDecisionForm, ClaimForm, ClaimKind, ClaimStatus, MonthRange, StandardForm,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::Viewing;
use jiazheng_store::oversight::claims::{ClaimCandidate, ClaimLine, ClaimRow, ClaimStandard};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, PageOf};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/claims/standards", get(standards).put(set_standard))
        .route("/claims/candidates", get(candidates))
        .route("/claims", get(list).post(create))
        .route("/claims/{id}", get(detail))
        .route("/claims/{id}/lines", get(lines))
        .route("/claims/{id}/decision", post(decide))
}

/// The standard amount per unit of each kind the city has set.
#[utoipa::path(get, path = "/api/v1/claims/standards", tag = "oversight", security(("bearer" = [])),
    responses((status = 200, body = Vec<ClaimStandard>)))]
pub async fn standards(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<ClaimStandard>>, AppError> {
    viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?;
    Ok(Json(state.store.claim_standards().await?))
}

/// Sets a kind's standard amount per unit (the city's regulators only; claims already made keep theirs).
#[utoipa::path(put, path = "/api/v1/claims/standards", tag = "oversight", request_body = StandardForm,
    security(("bearer" = [])), responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_standard(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<StandardForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    let (kind, fen) = form.parse().map_err(AppError::Invalid)?;
    state.store.set_claim_standard(who, kind, fen).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    /// `social_insurance`, `training`, `appraisal` or `point_rent`.
    pub kind: String,
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
}

/// What the agency may pick for a claim: its employee-based workers in the months (social
/// insurance), trainings passed or certificates issued in them, its service points.
#[utoipa::path(get, path = "/api/v1/claims/candidates", tag = "oversight", params(CandidatesQuery),
    security(("bearer" = [])), responses((status = 200, body = Vec<ClaimCandidate>)))]
pub async fn candidates(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<CandidatesQuery>,
) -> Result<Json<Vec<ClaimCandidate>>, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let mut errors = jiazheng_core::FieldErrors::default();
    let kind = errors.take("kind", ClaimKind::parse(&q.kind));
    let period = MonthRange::parse(&q.from, &q.to, beijing_today()).map_err(|e| errors.0.extend(e.0)).ok();
    match (kind, period) {
        (Some(kind), Some(period)) if errors.is_empty() => {
            Ok(Json(state.store.claim_candidates(agency, kind, &period).await?))
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimListQuery {
    /// `submitted`, `approved`, `partly_approved` or `rejected`.
    pub status: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// A claim with the number people read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimBody {
    /// `BT2026-000012`.
    pub number: String,
    #[serde(flatten)]
    pub claim: ClaimRow,
}

impl From<ClaimRow> for ClaimBody {
    fn from(claim: ClaimRow) -> Self {
        Self { number: claim.number(), claim }
    }
}

/// The agency's own claims, or the claims of the regulator's area; newest first.
#[utoipa::path(get, path = "/api/v1/claims", tag = "oversight", params(ClaimListQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<ClaimBody>)))]
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<ClaimListQuery>,
) -> Result<Json<PageOf<ClaimBody>>, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let scope = Viewing::of(who).ok_or(AppError::Forbidden)?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            ClaimStatus::parse(s).map_err(|e| AppError::Invalid(jiazheng_core::FieldErrors(vec![e.at("status")])))?,
        ),
        None => None,
    };
    let page = state.store.subsidy_claims(&scope, status, PageRequest::new(q.page, q.per_page)).await?;
    Ok(Json(PageOf::from_page(page, ClaimBody::from)))
}

/// Created, with the number people read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimCreated {
    pub id: i64,
    pub number: String,
}

/// Makes a claim: each line checked against the platform's records. A worker-month (or other
/// unit) already in a live claim answers 409 naming that claim and the date it was submitted.
#[utoipa::path(post, path = "/api/v1/claims", tag = "oversight", request_body = ClaimForm, security(("bearer" = [])),
    responses((status = 201, body = ClaimCreated), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ClaimForm>,
) -> Result<(StatusCode, Json<ClaimCreated>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (session, _) = viewer.require_agency()?;
    let who = session.principal.clone();
    let id = crate::claims::submit(&state, &who, &form, &[]).await?;
    let claim = state.store.subsidy_claim(id, &who).await?;
    Ok((StatusCode::CREATED, Json(ClaimCreated { id, number: claim.number() })))
}

/// How many lines have a problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemCount {
    /// A problem's code, e.g. `not_insured`.
    pub problem: String,
    pub label_zh: String,
    pub label_en: String,
    pub lines: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDetail {
    #[serde(flatten)]
    pub claim: ClaimBody,
    pub problems: Vec<ProblemCount>,
}

/// One claim: its agency's, or a regulator's over the agency's district (anyone else: 404).
#[utoipa::path(get, path = "/api/v1/claims/{id}", tag = "oversight", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = ClaimDetail)))]
pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<ClaimDetail>, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let claim = state.store.subsidy_claim(id, who).await?;
    let problems = state
        .store
        .claim_problem_counts(id)
        .await?
        .into_iter()
        .map(|(p, n)| ProblemCount {
            problem: p.as_str().into(),
            label_zh: p.label_zh().into(),
            label_en: p.label_en().into(),
            lines: n,
        })
        .collect();
    Ok(Json(ClaimDetail { claim: claim.into(), problems }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinesQuery {
    /// Only lines that do not match the platform's records.
    #[serde(default)]
    pub mismatching: bool,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// A claim's lines, each with what does not match (`problems`, empty when it matches).
#[utoipa::path(get, path = "/api/v1/claims/{id}/lines", tag = "oversight", params(("id" = i64, Path), LinesQuery),
    security(("bearer" = [])), responses((status = 200, body = PageOf<ClaimLine>)))]
pub async fn lines(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<LinesQuery>,
) -> Result<Json<PageOf<ClaimLine>>, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let claim = state.store.subsidy_claim(id, who).await?;
    Ok(Json(state.store.claim_lines(&claim, q.mismatching, PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// The regulator's decision: approve every matching line, the chosen lines, or none (with a
/// reason). Lines not approved free their units. A claim is decided once (409 after).
#[utoipa::path(post, path = "/api/v1/claims/{id}/decision", tag = "oversight", params(("id" = i64, Path)),
    request_body = ClaimDecisionForm, security(("bearer" = [])),
    responses((status = 200, body = ClaimBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<ClaimDecisionForm>,
) -> Result<Json<ClaimBody>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    state.store.subsidy_claim(id, who).await?;
    let verdict = form.parse().map_err(AppError::Invalid)?;
    Ok(Json(state.store.decide_claim(id, who, &verdict).await?.into()))
}
