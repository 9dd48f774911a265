//! The regulator's view: agencies and workers within the district (or city) in scope.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use jiazheng_store::PageRequest;
use jiazheng_store::registry::agencies::{Agency, AgencyQuery};

use super::public::{model_label, worker_search_page};
use super::{Chrome, Pager, encode, render};
use crate::api::workers::WorkerListQuery;
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regulator", get(overview))
        .route("/regulator/workers", get(workers))
        .route("/regulator/workforce", get(workforce))
}

#[derive(serde::Deserialize)]
struct OverviewQuery {
    q: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "regulator.html")]
struct RegulatorPage {
    chrome: Chrome,
    area: String,
    q: String,
    rows: Vec<Agency>,
    pager: Pager,
    workers: i64,
    /// Agencies in the area that used up today's "already registered" answers.
    probes: Vec<jiazheng_store::registry::workers::RegistrationProbe>,
    /// The plan's tasks past their deadline and not done (issue 14, part 6).
    plan_overdue: i64,
}

impl RegulatorPage {
    fn model(&self, code: &str) -> String {
        model_label(self.chrome.lang, code)
    }
}

/// The district a regulator may see, `None` for the whole city.
fn scope(viewer: &Viewer) -> Result<Option<String>, AppError> {
    let session = viewer.require()?;
    match session.principal.regulated_area() {
        Some(area) => Ok(area.map(|d| d.to_string())),
        None => Err(AppError::Forbidden),
    }
}

async fn overview(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, AppError> {
    let district = scope(&viewer)?;
    let text = q.q.clone().unwrap_or_default();
    let query = AgencyQuery {
        text: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        district: district.clone(),
        page: PageRequest::new(q.page, Some(20)),
    };
    let page = state.store.search_agencies(&query).await?;
    let area = match &district {
        Some(code) => state.store.division(code).await?.name,
        None => lang.t("regulator.city"),
    };
    let workers = state
        .store
        .search_workers(&jiazheng_store::registry::workers::WorkerQuery {
            district: district.as_deref().and_then(|d| jiazheng_core::division::DivisionCode::parse(d).ok()),
            page: PageRequest::new(Some(1), Some(1)),
            ..Default::default()
        })
        .await?
        .total;
    let probes = state
        .store
        .registration_probes(jiazheng_core::calendar::beijing_today())
        .await?
        .into_iter()
        .filter(|p| {
            let area = district.as_deref().and_then(|d| jiazheng_core::division::DivisionCode::parse(d).ok());
            area.is_none_or(|area| {
                jiazheng_core::division::DivisionCode::parse(&p.district_code).is_ok_and(|c| c.is_within(&area))
            })
        })
        .collect();
    let plan_overdue = state.store.plan_summary(jiazheng_core::calendar::beijing_today()).await?.overdue;
    render(&RegulatorPage {
        plan_overdue,
        probes,
        chrome: Chrome::new(lang, &viewer, "/regulator", lang.t("regulator.title")),
        area,
        pager: Pager::new(&page, "/regulator", &format!("q={}", encode(&text))),
        rows: page.items,
        q: text,
        workers,
    })
}

async fn workers(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<WorkerListQuery>,
) -> Result<Response, AppError> {
    let district = scope(&viewer)?;
    worker_search_page(
        &state,
        lang,
        &viewer,
        &q,
        "/regulator/workers",
        lang.t("regulator.workers"),
        district.as_deref(),
    )
    .await
}

/// One rate as a bar: label, share in percent, and the counts behind it.
pub struct RateBar {
    pub label: String,
    pub percent: f64,
    pub count: i64,
    pub target: Option<f64>,
    pub met: bool,
}

pub struct AreaLine {
    pub code: String,
    pub name: String,
    pub active: i64,
    pub bars: Vec<RateBar>,
}

#[derive(Template)]
#[template(path = "regulator_workforce.html")]
struct WorkforcePage {
    chrome: Chrome,
    as_of: String,
    city: Option<AreaLine>,
    districts: Vec<AreaLine>,
}

fn area_line(rates: &crate::api::workforce::AreaRates, lang: Lang) -> AreaLine {
    let t = &rates.counts;
    let bar = |key: &str, share: f64, count: i64, target: Option<f64>| RateBar {
        label: lang.t(key),
        percent: (share * 1000.0).round() / 10.0,
        count,
        target: target.map(|t| t * 100.0),
        met: target.is_none_or(|t| share >= t),
    };
    AreaLine {
        code: rates.area_code.clone(),
        name: rates.area_name.clone(),
        active: t.active_workers,
        bars: vec![
            bar("rates.pre_job", rates.pre_job_training_rate, t.pre_job_trained, None),
            bar("rates.retraining", rates.retraining_currency, t.retraining_current, None),
            bar("rates.health", rates.health_check_validity, t.health_valid, None),
            bar("rates.insured", rates.insured_share, t.insured, None),
            bar("rates.certified", rates.certified_share, t.certified, None),
            bar("rates.education", rates.related_education_share, t.education_related, Some(rates.education_target)),
            bar("rates.compliant", rates.compliant_share, t.compliant, None),
        ],
    }
}

/// The plan's workforce rates for the city and each district (a district regulator sees the
/// city line and their own district).
async fn workforce(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let district = scope(&viewer)?;
    let rates = crate::api::workforce::area_rates(&state).await?;
    let as_of = rates.first().map(|r| r.as_of.to_string()).unwrap_or_default();
    let mut lines = rates.iter().map(|r| area_line(r, lang));
    let city = lines.next();
    let districts = lines.filter(|l| district.as_deref().is_none_or(|d| l.code.starts_with(&d[..6]))).collect();
    render(&WorkforcePage {
        chrome: Chrome::new(lang, &viewer, "/regulator/workforce", lang.t("rates.title")),
        as_of,
        city,
        districts,
    })
}
