//! The coverage page: the plan's 90% target over 社区 and over all village-level units, for the
//! city, a district or a street; the map; where new points would help most; what is uncovered.
//! Anyone may read it. A city regulator sets how far points reach; a regulator decides on points
//! that declared communities across a district line into their area.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::community::coverage::{CoverageTally, CoveredBy, Radius, Tally};
use jiazheng_core::division::{DivisionCode, UnitType};
use jiazheng_store::community::coverage::{Coverage, PendingDeclaration};
use serde::Deserialize;

use super::{Chrome, CsrfForm, Pager, field_message, render};
use crate::auth::Viewer;
use crate::community::{greedy_promise, parse_area};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coverage", get(page))
        .route("/coverage/radius", post(set_radius))
        .route("/coverage/declarations/{point}/{community}/{decision}", post(decide))
}

/// Most suggested sites a page asks for.
pub const MAX_SUGGESTIONS: usize = 30;
const UNCOVERED_PER_PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct CoverageQuery {
    pub area: Option<String>,
    pub k: Option<usize>,
    pub page: Option<u32>,
    pub decided: Option<String>,
}

/// A figure as the page shows it: the share, the bar, whether it meets the target.
pub struct Figure {
    pub covered: u32,
    pub total: u32,
    pub percent: String,
    pub width: u32,
    pub met: bool,
    pub short: u32,
}

impl From<Tally> for Figure {
    fn from(t: Tally) -> Self {
        Self {
            covered: t.covered,
            total: t.total,
            percent: t.percent(),
            width: t.per_mille() / 10,
            met: t.meets_target(),
            short: t.short_of_target(),
        }
    }
}

pub struct AreaLine {
    pub code: String,
    pub name: String,
    pub communities: Figure,
    pub all_units: Figure,
}

pub struct SuggestionLine {
    pub site: String,
    pub street: String,
    pub gain: usize,
    pub also: String,
    pub demand: u32,
}

pub struct UncoveredLine {
    pub code: String,
    pub name: String,
    pub street: String,
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    chrome: Chrome,
    area_code: String,
    area_name: String,
    communities: Figure,
    all_units: Figure,
    breakdown: Vec<AreaLine>,
    breakdown_is_streets: bool,
    map_svg: std::sync::Arc<String>,
    k: usize,
    suggestions: Vec<SuggestionLine>,
    promise: String,
    uncovered: Vec<UncoveredLine>,
    uncovered_pager: Pager,
    radius: u32,
    by_distance: usize,
    points: usize,
    may_set_radius: bool,
    radius_typed: String,
    errors: FieldErrors,
    pending: Vec<PendingDeclaration>,
    computed_at: String,
    districts: Vec<(String, String)>,
    decided: bool,
}

impl CoveragePage {
    fn figures(&self) -> [(&'static str, &Figure, &'static str); 2] {
        let lang = self.chrome.lang;
        [
            (lang.pick("城市社区（社区）", "Urban communities (社区)"), &self.communities, "rate-communities"),
            (lang.pick("全部村（居）委会", "All village-level units"), &self.all_units, "rate-all"),
        ]
    }

    /// A street or community is shown: it is not among the district choices.
    fn area_is_narrower(&self) -> bool {
        !self.area_code.is_empty() && !self.districts.iter().any(|(code, _)| *code == self.area_code)
    }

    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

fn street_name(coverage: &Coverage, code: &str) -> String {
    coverage.name_of(&format!("{:0<12}", &code[..9]))
}

fn kind_label(kind: UnitType, lang: Lang) -> &'static str {
    match kind {
        UnitType::Community => lang.pick("社区", "Urban community"),
        UnitType::VillageCommittee => lang.pick("村", "Village"),
        UnitType::Other => lang.pick("其他", "Other"),
    }
}

/// Suggestions as both the page and the API show them.
pub fn suggestion_lines(coverage: &Coverage, area: Option<&DivisionCode>, k: usize, lang: Lang) -> Vec<SuggestionLine> {
    coverage
        .suggest(area, k)
        .into_iter()
        .map(|s| {
            let unit = &coverage.units[s.site];
            let others: Vec<&str> =
                s.gain.iter().filter(|&&g| g != s.site).map(|&g| coverage.units[g].name.as_str()).collect();
            SuggestionLine {
                site: unit.name.clone(),
                street: street_name(coverage, &unit.code),
                gain: s.gain.len(),
                also: if others.is_empty() {
                    lang.pick("仅本社区", "itself only").to_string()
                } else {
                    others.join("、")
                },
                demand: unit.demand,
            }
        })
        .collect()
}

async fn render_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    q: CoverageQuery,
    radius_typed: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let coverage = state.coverage().await?;
    // Staff and district regulators open on their own area; anyone may look elsewhere.
    let own_area = viewer.session.as_ref().and_then(|s| match (s.principal.role, &s.principal.scope) {
        (Role::CommunityStaff | Role::Regulator, Scope::District(d)) => Some(d.clone()),
        _ => None,
    });
    let area = match q.area.as_deref() {
        Some(raw) if raw.trim().is_empty() => None,
        Some(raw) => parse_area(Some(raw)),
        None => own_area,
    };
    let area_ref = area.as_ref();
    let decided = q.decided.is_some();
    let k = q.k.unwrap_or(5).clamp(1, MAX_SUGGESTIONS);
    let CoverageTally { communities, all_units } = coverage.tally(area_ref);
    let breakdown = coverage
        .breakdown(area_ref)
        .into_iter()
        .map(|(code, name, t)| AreaLine {
            code,
            name,
            communities: t.communities.into(),
            all_units: t.all_units.into(),
        })
        .collect();
    let uncovered_all = coverage.uncovered(area_ref);
    let page = q.page.unwrap_or(1).max(1);
    let slice: Vec<UncoveredLine> = uncovered_all
        .iter()
        .skip((page as usize - 1) * UNCOVERED_PER_PAGE)
        .take(UNCOVERED_PER_PAGE)
        .map(|u| UncoveredLine {
            code: u.code.clone(),
            name: u.name.clone(),
            street: street_name(&coverage, &u.code),
            kind: kind_label(u.kind, lang),
        })
        .collect();
    let listed = jiazheng_store::Page {
        items: Vec::<()>::new(),
        page,
        per_page: UNCOVERED_PER_PAGE as u32,
        total: uncovered_all.len() as i64,
    };
    let area_code = area.as_ref().map(|a| a.as_str().to_string()).unwrap_or_default();
    let base = format!("area={area_code}&k={k}");
    let session = viewer.session.as_ref();
    let regulator_area = session.and_then(|s| s.principal.regulated_area().map(|a| a.cloned()));
    let may_set_radius =
        session.is_some_and(|s| s.principal.role == Role::Regulator && s.principal.scope == Scope::City);
    let pending = match &regulator_area {
        Some(area) => state.store.pending_declarations(area.as_ref()).await?,
        None => Vec::new(),
    };
    let districts = state.districts().await?.iter().map(|d| (d.code.clone(), d.name.clone())).collect();
    let radius = coverage.radius.metres();
    let page = CoveragePage {
        chrome: Chrome::new(lang, viewer, "/coverage", lang.pick("社区网点覆盖", "Service point coverage").to_string()),
        area_name: area
            .as_ref()
            .map(|a| coverage.name_of(a.as_str()))
            .unwrap_or_else(|| lang.pick("全市", "Whole city").into()),
        communities: communities.into(),
        all_units: all_units.into(),
        breakdown,
        breakdown_is_streets: area.is_some(),
        map_svg: state.coverage_map(&coverage, area_ref, lang)?,
        k,
        suggestions: suggestion_lines(&coverage, area_ref, k, lang),
        promise: greedy_promise(k, lang),
        uncovered: slice,
        uncovered_pager: Pager::new(&listed, "/coverage", &base),
        radius,
        by_distance: coverage
            .units
            .iter()
            .filter(|u| {
                area_ref.is_none_or(|a| u.code.starts_with(jiazheng_store::community::coverage::area_prefix(a)))
            })
            .filter(|u| u.covered == Some(CoveredBy::Distance))
            .count(),
        points: coverage.points.len(),
        may_set_radius,
        radius_typed: radius_typed.unwrap_or_else(|| radius.to_string()),
        errors,
        pending,
        computed_at: super::beijing_minutes(coverage.computed_at),
        districts,
        area_code,
        decided,
    };
    Ok((status, render(&page)?).into_response())
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<CoverageQuery>,
) -> Result<Response, AppError> {
    render_page(&state, lang, &viewer, q, None, FieldErrors::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct RadiusBody {
    csrf: String,
    #[serde(default)]
    radius: String,
}

async fn set_radius(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<RadiusBody>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    if session.principal.scope != Scope::City {
        return Err(AppError::Forbidden);
    }
    viewer.check_csrf(Some(&body.csrf))?;
    match Radius::parse(&body.radius) {
        Ok(radius) => {
            state.store.set_coverage_radius(radius, session.principal.account_id).await?;
            state.coverage_changed();
            Ok(Redirect::to("/coverage?area=#radius").into_response())
        }
        Err(e) => {
            let errors = FieldErrors(vec![e.at("radius")]);
            let q = CoverageQuery { area: Some(String::new()), ..Default::default() };
            render_page(&state, lang, &viewer, q, Some(body.radius), errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((point, community, decision)): Path<(i64, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    viewer.check_csrf(Some(&form.csrf))?;
    let approve = match decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(AppError::NotFound),
    };
    let community = DivisionCode::parse(&community).map_err(|_| AppError::NotFound)?;
    let area = session.principal.regulated_area().ok_or(AppError::Forbidden)?;
    state.store.decide_declaration(point, &community, approve, area, session.principal.account_id).await?;
    state.coverage_changed();
    Ok(Redirect::to("/coverage?decided=1#decided").into_response())
}
