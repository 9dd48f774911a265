//! 家政进社区 in the API: coverage (public), the radius and cross-district declarations
//! (regulators), demand surveys (community staff publish, households answer by the survey's
//! link), each survey's demand list and gap, and the supply menus of an area.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::coverage::{Radius, Tally, greedy_bound};
use jiazheng_core::community::survey::{AnswerForm, QuestionKind, SurveyForm, SurveyState};
use jiazheng_core::division::{DivisionCode, UnitType};
use jiazheng_core::registry::service_point::parse_community;
use jiazheng_store::PageRequest;
use jiazheng_store::community::coverage::PendingDeclaration;
use jiazheng_store::community::supply::{GapRow, SupplyOffer};
use jiazheng_store::community::surveys::{CommunityDemand, Survey, roll_up};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf, field_error};
use crate::auth::Viewer;
use crate::community::{parse_area, staff_area, watched_area};
use crate::pages::coverage::MAX_SUGGESTIONS;
use crate::surveys::DemandLevel;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coverage", get(coverage))
        .route("/coverage/radius", put(set_radius))
        .route("/coverage/declarations", get(declarations))
        .route("/coverage/declarations/{point}/{community}", post(decide))
        .route("/surveys", get(surveys).post(create_survey))
        .route("/surveys/{id}", get(survey))
        .route("/surveys/{id}/demand", get(demand))
        .route("/surveys/{id}/gap", get(gap))
        .route("/surveys/{id}/close", post(close_survey))
        .route("/surveys/link/{token}", get(survey_by_link))
        .route("/surveys/link/{token}/answers", post(answer))
        .route("/supply", get(supply))
}

/// An `area` query: empty or absent is none; anything but a district, street or community is a 422.
fn area_param(raw: Option<&str>) -> Result<Option<DivisionCode>, AppError> {
    match raw.map(str::trim).filter(|a| !a.is_empty()) {
        Some(raw) => parse_area(Some(raw)).map(Some).ok_or_else(|| {
            AppError::invalid(
                "area",
                "not_an_area",
                "请填写区、街道或社区代码",
                "must be a district, street or community code",
            )
        }),
        None => Ok(None),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// A district, street or community code; empty or absent: the whole city.
    pub area: Option<String>,
    /// How many new sites to suggest, 1 to 30 (default 5).
    pub k: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AreaCoverage {
    pub code: String,
    pub name: String,
    /// 社区 only.
    pub communities: Tally,
    /// Every village-level unit.
    pub all_units: Tally,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UncoveredUnit {
    pub code: String,
    pub name: String,
    /// `community`, `village_committee` or `other`.
    pub kind: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteSuggestion {
    /// Where to open a point.
    pub code: String,
    pub name: String,
    /// The units it would cover that are uncovered now (itself included).
    pub covers: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageReport {
    /// Empty for the whole city.
    pub area: String,
    pub area_name: String,
    /// How far a point with coordinates reaches.
    pub radius_m: u32,
    /// The plan's target, in per mille of units.
    pub target_per_mille: u32,
    pub communities: Tally,
    pub all_units: Tally,
    /// Districts (for the city) or streets (within an area).
    pub breakdown: Vec<AreaCoverage>,
    /// The first 500 uncovered units, 社区 first.
    pub uncovered: Vec<UncoveredUnit>,
    pub uncovered_total: usize,
    /// Greedy maximum coverage, best first.
    pub suggestions: Vec<SiteSuggestion>,
    /// Greedy covers at least this share of what the best `suggestions.len()` sites could.
    pub guarantee: f64,
    pub computed_at: DateTime<Utc>,
}

/// Coverage of the city or an area against the 90% target, with where new points would help.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "community", params(CoverageParams),
    responses((status = 200, body = CoverageReport)))]
pub async fn coverage(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> Result<Json<CoverageReport>, AppError> {
    let area = area_param(q.area.as_deref())?;
    let c = state.coverage().await?;
    let area_ref = area.as_ref();
    let k = q.k.unwrap_or(5).clamp(1, MAX_SUGGESTIONS);
    let tally = c.tally(area_ref);
    let uncovered = c.uncovered(area_ref);
    let suggestions: Vec<SiteSuggestion> = c
        .suggest(area_ref, k)
        .into_iter()
        .map(|s| SiteSuggestion {
            code: c.units[s.site].code.clone(),
            name: c.units[s.site].name.clone(),
            covers: s.gain.iter().map(|&g| c.units[g].code.clone()).collect(),
        })
        .collect();
    Ok(Json(CoverageReport {
        area: area.as_ref().map(|a| a.to_string()).unwrap_or_default(),
        area_name: area.as_ref().map(|a| c.name_of(a.as_str())).unwrap_or_else(|| "全市".into()),
        radius_m: c.radius.metres(),
        target_per_mille: jiazheng_core::community::coverage::TARGET_PER_MILLE,
        communities: tally.communities,
        all_units: tally.all_units,
        breakdown: c
            .breakdown(area_ref)
            .into_iter()
            .map(|(code, name, t)| AreaCoverage { code, name, communities: t.communities, all_units: t.all_units })
            .collect(),
        uncovered_total: uncovered.len(),
        uncovered: uncovered
            .iter()
            .take(500)
            .map(|u| UncoveredUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                kind: match u.kind {
                    UnitType::Community => "community",
                    UnitType::VillageCommittee => "village_committee",
                    UnitType::Other => "other",
                }
                .into(),
            })
            .collect(),
        guarantee: greedy_bound(suggestions.len().max(1)),
        suggestions,
        computed_at: c.computed_at,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RadiusForm {
    /// Metres, 100 to 10,000.
    #[serde(deserialize_with = "jiazheng_core::field::string_or_number")]
    pub radius_m: String,
}

/// Sets how far a point with coordinates reaches (a city-wide regulator).
#[utoipa::path(put, path = "/api/v1/coverage/radius", tag = "community", request_body = RadiusForm,
    security(("bearer" = [])), responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_radius(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RadiusForm>,
) -> Result<StatusCode, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    if session.principal.scope != Scope::City {
        return Err(AppError::Forbidden);
    }
    viewer.check_csrf(csrf_header(&headers))?;
    let radius = Radius::parse(&form.radius_m).map_err(field_error("radius_m"))?;
    state.store.set_coverage_radius(radius, session.principal.account_id).await?;
    state.coverage_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Declarations of communities in the regulator's area by points of another district.
#[utoipa::path(get, path = "/api/v1/coverage/declarations", tag = "community", security(("bearer" = [])),
    responses((status = 200, body = Vec<PendingDeclaration>)))]
pub async fn declarations(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Json<Vec<PendingDeclaration>>, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    let area = session.principal.regulated_area().ok_or(AppError::Forbidden)?;
    Ok(Json(state.store.pending_declarations(area).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclarationDecision {
    pub approve: bool,
}

/// Approves or refuses a point's declaration of a community in the regulator's area.
#[utoipa::path(post, path = "/api/v1/coverage/declarations/{point}/{community}", tag = "community",
    params(("point" = i64, Path), ("community" = String, Path)), request_body = DeclarationDecision,
    security(("bearer" = [])), responses((status = 204)))]
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((point, community)): Path<(i64, String)>,
    ApiJson(form): ApiJson<DeclarationDecision>,
) -> Result<StatusCode, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    viewer.check_csrf(csrf_header(&headers))?;
    let community = DivisionCode::parse(&community).map_err(|_| AppError::NotFound)?;
    let area = session.principal.regulated_area().ok_or(AppError::Forbidden)?;
    state.store.decide_declaration(point, &community, form.approve, area, session.principal.account_id).await?;
    state.coverage_changed();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SurveyListParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Surveys of the viewer's area (staff) or the regulator's.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "community", params(SurveyListParams), security(("bearer" = [])),
    responses((status = 200, body = PageOf<Survey>)))]
pub async fn surveys(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<SurveyListParams>,
) -> Result<Json<PageOf<Survey>>, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let area = watched_area(&session.principal)?;
    Ok(Json(state.store.surveys(area.as_ref(), PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// Publishes a survey for the staff member's area.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "community", request_body = SurveyForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_survey(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<SurveyForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff])?;
    viewer.check_csrf(csrf_header(&headers))?;
    let area = staff_area(&session.principal)?;
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.create_survey(&area, &draft, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyDetail {
    #[serde(flatten)]
    pub survey: Survey,
    pub state: SurveyState,
    /// The page households answer on (share it, or print its QR code).
    pub link_path: String,
}

async fn readable(state: &AppState, viewer: &Viewer, id: i64) -> Result<Survey, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let area = watched_area(&session.principal)?;
    Ok(state.store.survey_in(id, area.as_ref()).await?)
}

/// A survey of the viewer's area, with its link.
#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "community", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = SurveyDetail)))]
pub async fn survey(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<SurveyDetail>, AppError> {
    let survey = readable(&state, &viewer, id).await?;
    Ok(Json(SurveyDetail {
        state: survey.state(beijing_today()),
        link_path: format!("/surveys/{}", survey.link_token),
        survey,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DemandParams {
    /// `community` (default), `street` or `district`.
    pub level: Option<String>,
}

/// The survey's demand list: households and their answers added up per place.
#[utoipa::path(get, path = "/api/v1/surveys/{id}/demand", tag = "community", params(("id" = i64, Path), DemandParams),
    security(("bearer" = [])), responses((status = 200, body = Vec<CommunityDemand>)))]
pub async fn demand(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<DemandParams>,
) -> Result<Json<Vec<CommunityDemand>>, AppError> {
    let survey = readable(&state, &viewer, id).await?;
    let rows = state.store.survey_demand(survey.id).await?;
    let digits = match DemandLevel::parse(q.level.as_deref()) {
        DemandLevel::Community => return Ok(Json(rows)),
        DemandLevel::Street => 9,
        DemandLevel::District => 6,
    };
    Ok(Json(roll_up(&rows, digits)))
}

/// Demand against supply per community and service, demand without supply first.
#[utoipa::path(get, path = "/api/v1/surveys/{id}/gap", tag = "community", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<GapRow>)))]
pub async fn gap(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<GapRow>>, AppError> {
    let survey = readable(&state, &viewer, id).await?;
    Ok(Json(state.store.survey_gap(&survey).await?))
}

/// Closes a survey of the staff member's area now.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/close", tag = "community", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 204)))]
pub async fn close_survey(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff])?;
    viewer.check_csrf(csrf_header(&headers))?;
    state.store.close_survey(id, &staff_area(&session.principal)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyForHouseholds {
    pub title: String,
    pub intro: String,
    pub area_name: String,
    pub questions: Vec<QuestionKind>,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub state: SurveyState,
}

/// What a household sees of a survey by its link.
#[utoipa::path(get, path = "/api/v1/surveys/link/{token}", tag = "community", params(("token" = String, Path)),
    responses((status = 200, body = SurveyForHouseholds)))]
pub async fn survey_by_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SurveyForHouseholds>, AppError> {
    let s = state.store.survey_by_link(&token).await?;
    Ok(Json(SurveyForHouseholds {
        state: s.state(beijing_today()),
        questions: s.asked(),
        title: s.title,
        intro: s.intro,
        area_name: s.area_name,
        opens_on: s.opens_on,
        closes_on: s.closes_on,
    }))
}

/// A household's answer (the resident signed in by phone): once per household (409 after),
/// while the survey is open, for a community of its area.
#[utoipa::path(post, path = "/api/v1/surveys/link/{token}/answers", tag = "community", params(("token" = String, Path)),
    request_body = AnswerForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(token): Path<String>,
    ApiJson(form): ApiJson<AnswerForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = viewer.require_role(&[Role::Resident])?;
    viewer.check_csrf(csrf_header(&headers))?;
    let survey = state.store.survey_by_link(&token).await?;
    let mut errors = FieldErrors::default();
    let community = errors.take("community", parse_community(&form.community));
    let parsed = form.parse(&survey.asked());
    let (community, answer) = match (community, parsed) {
        (Some(c), Ok(a)) if errors.is_empty() => (c, a),
        (_, parsed) => {
            if let Err(more) = parsed {
                errors.0.extend(more.0);
            }
            return Err(AppError::Invalid(errors));
        }
    };
    let id =
        state.store.answer_survey(&survey, session.principal.account_id, &community, &answer, beijing_today()).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupplyParams {
    /// Within the viewer's area; absent: the whole of it (a city regulator must name a district).
    pub area: Option<String>,
}

/// What each agency offers in each community of an area.
#[utoipa::path(get, path = "/api/v1/supply", tag = "community", params(SupplyParams), security(("bearer" = [])),
    responses((status = 200, body = Vec<SupplyOffer>)))]
pub async fn supply(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<SupplyParams>,
) -> Result<Json<Vec<SupplyOffer>>, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let watched = watched_area(&session.principal)?;
    let asked = area_param(q.area.as_deref())?;
    let area = match (asked, watched) {
        (Some(a), Some(w)) if a.is_within(&w) => a,
        (Some(_), Some(_)) => return Err(AppError::NotFound),
        (Some(a), None) => a,
        (None, Some(w)) => w,
        (None, None) => {
            return Err(AppError::invalid("area", "required", "请选择一个区", "pick a district"));
        }
    };
    Ok(Json(state.store.supply_in(&area).await?))
}
