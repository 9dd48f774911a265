//! Pages anyone may open: home, agencies, service points, workers (masked).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use jiazheng_core::FieldErrors;
use jiazheng_core::registry::ServiceKind;
use jiazheng_core::registry::agency::{AgencyStatus, BusinessModel};
use jiazheng_core::registry::service_point::PointStatus;
use jiazheng_core::registry::worker::EducationLevel;
use jiazheng_store::registry::agencies::{Agency, AgencyQuery, AgencyWorkforce};
use jiazheng_store::registry::divisions::Division;
use jiazheng_store::registry::service_points::ServicePoint;
use jiazheng_store::registry::workers::WorkerQuery;
use jiazheng_store::{Page, PageRequest};

use super::{Chrome, Pager, encode, render, service_labels};
use crate::api::agencies::AgencyListQuery;
use crate::api::service_points::PointQuery;
use crate::api::workers::{WorkerListQuery, age_on, today};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/agencies", get(agencies))
        .route("/agencies/{id}", get(agency))
        .route("/service-points", get(points))
        .route("/workers", get(workers))
        .route("/workers/{id}", get(worker))
}

/// A worker row as pages show it.
pub struct WorkerRow {
    pub id: i64,
    pub name: String,
    pub phone_masked: String,
    pub sex: String,
    pub age: i32,
    pub education: String,
    pub services: String,
    pub district: String,
}

impl WorkerRow {
    pub fn new(w: jiazheng_store::registry::workers::Worker, lang: Lang, districts: &[Division]) -> Self {
        Self {
            id: w.id,
            sex: lang.t(&format!("sex.{}", w.sex)),
            age: age_on(w.birth_date, today()),
            education: EducationLevel::parse(&w.education_level)
                .map(|l| l.label(lang.is_en()).to_string())
                .unwrap_or_default(),
            services: service_labels(lang, w.services),
            district: districts
                .iter()
                .find(|d| d.code == w.district_code)
                .map(|d| d.name.clone())
                .unwrap_or(w.district_code),
            name: w.name,
            phone_masked: w.phone_masked,
        }
    }
}

pub fn model_label(lang: Lang, code: &str) -> String {
    BusinessModel::label_of(code, lang.is_en()).to_string()
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    agencies: i64,
    workers: i64,
    points: i64,
    units: usize,
    districts: Vec<Division>,
}

/// The home page's counts, refreshed at most every 30 s: counting a million rows on every
/// visit would make the busiest page the slowest.
#[derive(Debug, Clone, Copy)]
pub struct HomeStats {
    agencies: i64,
    workers: i64,
    points: i64,
    units: usize,
}

impl HomeStats {
    async fn compute(store: &jiazheng_store::Store) -> Result<Self, AppError> {
        let one = PageRequest::new(Some(1), Some(1));
        Ok(Self {
            agencies: store.search_agencies(&AgencyQuery { page: one, ..Default::default() }).await?.total,
            workers: store.count_workers().await?,
            points: store.service_points(None, None, one).await?.total,
            units: store.division_counts().await?.village_level_units(),
        })
    }
}

async fn home(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let HomeStats { agencies, workers, points, units } =
        *state.home_stats.get_or_try(|| HomeStats::compute(&state.store)).await?;
    render(&HomePage {
        chrome: Chrome::new(lang, &viewer, "/", lang.t("home.title")),
        agencies,
        workers,
        points,
        units,
        districts: state.districts().await?.to_vec(),
    })
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct AgenciesPage {
    chrome: Chrome,
    q: String,
    district: String,
    districts: Vec<Division>,
    rows: Vec<Agency>,
    pager: Pager,
}

impl AgenciesPage {
    fn model(&self, code: &str) -> String {
        model_label(self.chrome.lang, code)
    }
}

async fn agencies(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<AgencyListQuery>,
) -> Result<Response, AppError> {
    let query = q.parse()?;
    let page = state.store.search_agencies(&query).await?;
    let q_text = q.q.clone().unwrap_or_default();
    let district = query.district.clone().unwrap_or_default();
    let base = format!("q={}&district={}", encode(&q_text), encode(&district));
    render(&AgenciesPage {
        chrome: Chrome::new(lang, &viewer, "/agencies", lang.t("agencies.title")),
        pager: Pager::new(&page, "/agencies", &base),
        rows: page.items,
        q: q_text,
        district,
        districts: state.districts().await?.to_vec(),
    })
}

#[derive(Template)]
#[template(path = "agency.html")]
struct AgencyPage {
    chrome: Chrome,
    agency: Agency,
    model: String,
    status: String,
    workforce: AgencyWorkforce,
    points: Vec<ServicePoint>,
    workers: Vec<WorkerRow>,
    workers_total: i64,
    grade: super::credit_work::GradeView,
    credit: jiazheng_store::credit::casework::AgencyCredit,
    /// Confirmed volunteer events and minutes.
    volunteer: jiazheng_store::community::volunteer::VolunteerTotals,
    /// Stable relationships per community.
    shares: Vec<jiazheng_store::community::operations::RepeatShare>,
    /// The latest published third-party evaluation, in words, and its round.
    evaluation: Option<(String, i64)>,
}

impl AgencyPage {
    fn volunteer_hours(&self) -> String {
        jiazheng_core::community::volunteer::hours_text(self.volunteer.minutes)
    }

    /// Stable relationships over all its communities, in percent, with the residents counted.
    fn repeat_overall(&self) -> Option<(i64, i64)> {
        let residents: i64 = self.shares.iter().map(|s| s.residents).sum();
        let kept: i64 = self.shares.iter().map(|s| s.kept).sum();
        jiazheng_core::community::operations::percent(kept, residents).map(|p| (p, residents))
    }

    fn list_name(&self, code: &str) -> String {
        jiazheng_core::credit::casework::CreditList::label_of(code, self.chrome.is_en()).to_string()
    }

    fn action_line(&self, entry: &jiazheng_store::credit::ledger::Entry) -> String {
        let payload: serde_json::Value = serde_json::from_str(&entry.payload).unwrap_or_default();
        let kind = jiazheng_core::credit::EntryKind::label_of(&entry.kind, self.chrome.is_en());
        let field = |k: &str| payload[k].as_str().unwrap_or_default().to_string();
        format!(
            "{} · {kind} · {} · {} · {}",
            field("decided_on"),
            field("authority"),
            field("document"),
            field("reason")
        )
    }
}

async fn agency(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    crate::reads::page(&state, &viewer, lang, &format!("agency|{id}"), agency_page(&state, lang, &viewer, id)).await
}

async fn agency_page(state: &AppState, lang: Lang, viewer: &Viewer, id: i64) -> Result<String, AppError> {
    let store = &state.store;
    let agency = store.agency(id).await?;
    let workforce = store.agency_workforce(id).await?;
    let points = store.service_points(None, Some(id), PageRequest::new(Some(1), Some(50))).await?.items;
    let bound = WorkerQuery { agency: Some(id), page: PageRequest::new(Some(1), Some(20)), ..Default::default() };
    let workers = store.search_workers(&bound).await?;
    let districts = state.districts().await?.to_vec();
    let grade = crate::api::credit::agency_grade_of(state, id).await?;
    super::html(&AgencyPage {
        grade: super::credit_work::GradeView::new(grade, lang),
        credit: store.agency_credit(id).await?,
        volunteer: store.volunteer_totals(jiazheng_store::community::volunteer::Participant::Agency(id)).await?,
        shares: store.repeat_shares(None, Some(id)).await?,
        evaluation: store
            .latest_agency_evaluation(id)
            .await?
            .map(|e| (crate::evaluation::agency_evaluation_words(&e, lang), e.round_id)),
        chrome: Chrome::new(lang, viewer, &format!("/agencies/{id}"), agency.name.clone()),
        model: model_label(lang, &agency.business_model),
        status: AgencyStatus::label_of(&agency.status, lang.is_en()).to_string(),
        agency,
        workforce,
        points,
        workers_total: workers.total,
        workers: workers.items.into_iter().map(|w| WorkerRow::new(w, lang, &districts)).collect(),
    })
}

#[derive(Template)]
#[template(path = "points.html")]
struct PointsPage {
    chrome: Chrome,
    district: String,
    districts: Vec<Division>,
    rows: Vec<ServicePoint>,
    pager: Pager,
    /// Points open now by their weekly hours.
    open: std::collections::HashSet<i64>,
}

impl PointsPage {
    fn open_now(&self, id: &i64) -> bool {
        self.open.contains(id)
    }

    fn status(&self, code: &str) -> String {
        PointStatus::label_of(code, self.chrome.is_en()).to_string()
    }
}

async fn points(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PointQuery>,
) -> Result<Response, AppError> {
    let district = q.district()?;
    let page = state.store.service_points(district.as_deref(), q.agency, PageRequest::new(q.page, q.per_page)).await?;
    let district = district.unwrap_or_default();
    let ids: Vec<i64> = page.items.iter().map(|p| p.id).collect();
    let now = chrono::Utc::now();
    let open = state
        .store
        .hours_of_points(&ids)
        .await?
        .into_iter()
        .filter(|(_, week)| jiazheng_core::community::operations::open_at(week, now))
        .map(|(id, _)| id)
        .collect();
    render(&PointsPage {
        open,
        chrome: Chrome::new(lang, &viewer, "/service-points", lang.t("points.title")),
        pager: Pager::new(&page, "/service-points", &format!("district={}", encode(&district))),
        rows: page.items,
        district,
        districts: state.districts().await?.to_vec(),
    })
}

#[derive(Template)]
#[template(path = "workers.html")]
pub struct WorkersPage {
    pub chrome: Chrome,
    pub name: String,
    pub district: String,
    pub service: String,
    pub districts: Vec<Division>,
    pub services: Vec<(String, String)>,
    pub rows: Vec<WorkerRow>,
    pub pager: Pager,
    pub action: String,
    /// Only this agency's workers (from its page's "see all" link), kept through the search.
    agency: Option<i64>,
    errors: FieldErrors,
}

impl WorkersPage {
    fn err(&self, field: &str) -> Option<String> {
        super::field_message(&self.errors, self.chrome.lang, field)
    }
}

/// The masked worker search, shared by the public page and the regulator's view.
pub async fn worker_search_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    q: &WorkerListQuery,
    action: &str,
    title: String,
    force_district: Option<&str>,
) -> Result<Response, AppError> {
    // The public page searches by district; a regulator's (forced to an area) also by street.
    let parsed = if force_district.is_some() { q.parse() } else { q.parse_public() };
    // A query the form would not send (a shared link, a script): the form says why beside the
    // field, with what was asked kept, and nothing is searched.
    let mut query = match parsed {
        Ok(query) => query,
        Err(AppError::Invalid(errors)) => {
            let raw = |v: &Option<String>| v.clone().unwrap_or_default();
            let mut response = render(&WorkersPage {
                chrome: Chrome::new(lang, viewer, action, title),
                pager: Pager::new(&Page { items: Vec::<()>::new(), page: 1, per_page: 1, total: 0 }, action, ""),
                rows: Vec::new(),
                services: service_choices(lang),
                districts: state.districts().await?.to_vec(),
                name: raw(&q.name),
                district: raw(&q.district),
                service: raw(&q.service),
                action: action.to_string(),
                agency: q.agency,
                errors,
            })?;
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
        Err(other) => return Err(other),
    };
    if let Some(area) = force_district {
        let area = jiazheng_core::division::DivisionCode::parse(area).map_err(|_| AppError::Forbidden)?;
        if !query.district.as_ref().is_some_and(|d| d.is_within(&area)) {
            query.district = Some(area);
        }
    }
    let page = state.store.search_workers(&query).await?;
    let districts = state.districts().await?.to_vec();
    let name = q.name.clone().unwrap_or_default();
    let district = query.district.as_ref().map(|d| d.to_string()).unwrap_or_default();
    let service = query.service.map(|s| s.as_str().to_string()).unwrap_or_default();
    let mut base = format!("name={}&district={}&service={}", encode(&name), encode(&district), encode(&service));
    if let Some(agency) = query.agency {
        base.push_str(&format!("&agency={agency}"));
    }
    render(&WorkersPage {
        chrome: Chrome::new(lang, viewer, action, title),
        pager: Pager::new(&page, action, &base),
        rows: page.items.into_iter().map(|w| WorkerRow::new(w, lang, &districts)).collect(),
        services: service_choices(lang),
        districts,
        name,
        district,
        service,
        action: action.to_string(),
        agency: query.agency,
        errors: FieldErrors::default(),
    })
}

/// Every service as (code, label), for a select.
fn service_choices(lang: Lang) -> Vec<(String, String)> {
    ServiceKind::ALL.iter().map(|k| (k.as_str().to_string(), k.label(lang.is_en()).to_string())).collect()
}

async fn workers(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<WorkerListQuery>,
) -> Result<Response, AppError> {
    worker_search_page(&state, lang, &viewer, &q, "/workers", lang.t("workers.title"), None).await
}

#[derive(Template)]
#[template(path = "worker.html")]
struct WorkerPage {
    chrome: Chrome,
    fit: bool,
    worker: WorkerRow,
    ethnicity: String,
    related: bool,
    bindings: Vec<(String, i64, String, String)>,
}

async fn worker(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let w = state.store.worker(id).await?;
    let bindings = state
        .store
        .bindings_of_worker(id)
        .await?
        .into_iter()
        .filter(|b| b.status == "active")
        .map(|b| {
            let kind = jiazheng_core::registry::binding::BindingKind::parse(&b.kind)
                .map(|k| k.label(lang.is_en()).to_string());
            (
                b.agency_name,
                b.agency_id,
                kind.unwrap_or_default(),
                b.started_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let districts = state.districts().await?.to_vec();
    // The public learns whether the worker may be sent into a home today, not why: the reasons
    // (a failed health check, say) are for the worker, their agency and the regulator.
    let fit = state.store.worker_compliance(id, w.services, crate::api::workers::today()).await?.compliant;
    render(&WorkerPage {
        fit,
        chrome: Chrome::new(lang, &viewer, &format!("/workers/{id}"), w.name.clone()),
        ethnicity: w.ethnicity.clone(),
        related: w.education_related,
        worker: WorkerRow::new(w, lang, &districts),
        bindings,
    })
}
