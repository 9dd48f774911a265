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
    Router::new().route("/regulator", get(overview)).route("/regulator/workers", get(workers))
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
    render(&RegulatorPage {
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
