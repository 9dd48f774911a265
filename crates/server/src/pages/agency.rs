//! The agency admin's pages: its workers, adding and editing them, and binding requests.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::registry::ServiceSet;
use jiazheng_core::registry::binding::Side;
use jiazheng_core::registry::worker::{EducationLevel, WorkerForm};
use jiazheng_store::PageRequest;
use jiazheng_store::StoreError;
use jiazheng_store::registry::workers::WorkerQuery;
use serde::Deserialize;

use super::public::WorkerRow;
use super::{
    BindingRow, Chrome, CsrfForm, Pager, binding_step_from_page, encode, field_message, render, service_choices,
};
use crate::api::workers::{parse_kind, today};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agency/workers", get(workers))
        .route("/agency/workers/new", get(new_form).post(create))
        .route("/agency/workers/{id}/edit", get(edit_form).post(update))
        .route("/agency/bindings", get(bindings).post(request_binding))
        .route("/agency/bindings/{id}/{action}", post(binding_step))
}

#[derive(Deserialize)]
struct ListQuery {
    name: Option<String>,
    page: Option<u32>,
    created: Option<i64>,
}

#[derive(Template)]
#[template(path = "agency_workers.html")]
struct WorkersPage {
    chrome: Chrome,
    agency_name: String,
    name: String,
    rows: Vec<WorkerRow>,
    pager: Pager,
    created: Option<i64>,
}

async fn workers(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let name = q.name.clone().unwrap_or_default();
    let query = WorkerQuery {
        agency: Some(agency),
        pending_too: true,
        name: Some(name.trim().to_string()).filter(|n| !n.is_empty()),
        page: PageRequest::new(q.page, Some(20)),
        ..Default::default()
    };
    let page = state.store.search_workers(&query).await?;
    let districts = state.districts().await?.to_vec();
    render(&WorkersPage {
        chrome: Chrome::new(lang, &viewer, "/agency/workers", lang.t("agency.workers")),
        agency_name: state.store.agency(agency).await?.name,
        pager: Pager::new(&page, "/agency/workers", &format!("name={}", encode(&name))),
        rows: page.items.into_iter().map(|w| WorkerRow::new(w, lang, &districts)).collect(),
        name,
        created: q.created,
    })
}

/// The worker form as typed, with its errors, for both adding and editing.
#[derive(Template)]
#[template(path = "worker_form.html")]
struct WorkerFormPage {
    chrome: Chrome,
    action: String,
    form: WorkerForm,
    kind: String,
    version: Option<i64>,
    errors: FieldErrors,
    notice: Option<String>,
    existing_id: Option<i64>,
    streets: std::sync::Arc<Vec<crate::StreetGroup>>,
}

impl WorkerFormPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn services(&self) -> Vec<(String, String, bool)> {
        let selected = ServiceSet::parse_list(self.form.services.iter().map(String::as_str)).unwrap_or_default();
        service_choices(self.chrome.lang, selected)
    }

    fn levels(&self) -> Vec<(String, String, bool)> {
        EducationLevel::ALL
            .iter()
            .map(|l| {
                let chosen = EducationLevel::parse(&self.form.education_level).ok() == Some(*l);
                (l.as_str().to_string(), l.label(self.chrome.is_en()).to_string(), chosen)
            })
            .collect()
    }

    fn related(&self) -> bool {
        jiazheng_core::registry::worker::parse_yes_no(&self.form.education_related).unwrap_or(false)
    }
}

/// The posted form. Fields are listed (not flattened) so repeated `services` boxes arrive as a list.
#[derive(Deserialize)]
struct WorkerFormBody {
    csrf: String,
    #[serde(default)]
    kind: String,
    version: Option<i64>,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    ethnicity: String,
    #[serde(default)]
    education_level: String,
    #[serde(default)]
    education_major: String,
    #[serde(default)]
    education_related: String,
    #[serde(default)]
    home_street: String,
    #[serde(default)]
    services: Vec<String>,
}

impl WorkerFormBody {
    fn form(&self) -> WorkerForm {
        WorkerForm {
            id_number: self.id_number.clone(),
            name: self.name.clone(),
            phone: self.phone.clone(),
            ethnicity: self.ethnicity.clone(),
            education_level: self.education_level.clone(),
            education_major: self.education_major.clone(),
            education_related: self.education_related.clone(),
            home_street: self.home_street.clone(),
            services: self.services.clone(),
        }
    }
}

async fn new_form(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    viewer.require_agency()?;
    let form = WorkerForm { education_level: "senior".into(), ..Default::default() };
    render(&WorkerFormPage {
        chrome: Chrome::new(lang, &viewer, "/agency/workers/new", lang.t("agency.add_worker")),
        action: "/agency/workers/new".into(),
        form,
        kind: "employee".into(),
        version: None,
        errors: FieldErrors::default(),
        notice: None,
        existing_id: None,
        streets: state.street_groups().await?,
    })
}

fn rejected(page: WorkerFormPage, status: StatusCode) -> Result<Response, AppError> {
    Ok((status, render(&page)?).into_response())
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<WorkerFormBody>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(Some(&body.csrf))?;
    let mut page = WorkerFormPage {
        chrome: Chrome::new(lang, &viewer, "/agency/workers/new", lang.t("agency.add_worker")),
        action: "/agency/workers/new".into(),
        form: body.form(),
        kind: body.kind.clone(),
        version: None,
        errors: FieldErrors::default(),
        notice: None,
        existing_id: None,
        streets: state.street_groups().await?,
    };
    let kind = parse_kind(Some(&body.kind));
    let (draft, kind) = match (body.form().parse(today()), kind) {
        (Ok(draft), Ok(kind)) => (draft, kind),
        (draft, kind) => {
            page.errors = draft.err().unwrap_or_default();
            if let Err(AppError::Invalid(e)) = kind {
                page.errors.0.extend(e.0);
            }
            return rejected(page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match state.store.create_worker(&draft, Some((agency, kind))).await {
        Ok(id) => Ok(Redirect::to(&format!("/agency/workers?created={id}")).into_response()),
        Err(StoreError::Conflict { what: "worker_id_number", existing_id }) => {
            page.notice = Some(lang.t("agency.duplicate_worker"));
            page.existing_id = existing_id;
            page.errors.0.push(
                jiazheng_core::field::Invalid::new(
                    "duplicate",
                    "该身份证号已登记",
                    "this ID number is already registered",
                )
                .at("id_number"),
            );
            rejected(page, StatusCode::CONFLICT)
        }
        Err(StoreError::Invalid(errors)) => {
            page.errors = errors;
            rejected(page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other.into()),
    }
}

async fn edit_form(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (session, _) = viewer.require_agency()?;
    let w = state.store.worker(id).await?;
    let revealed = state.store.reveal_worker(&session.principal, &w, "edit").await?;
    let kind = state
        .store
        .open_binding(id, session.principal.agency_id().unwrap_or_default())
        .await?
        .map_or_else(|| "employee".to_string(), |b| b.kind);
    let form = WorkerForm {
        id_number: revealed.id_number,
        name: w.name.clone(),
        phone: revealed.phone,
        ethnicity: w.ethnicity.clone(),
        education_level: w.education_level.clone(),
        education_major: w.education_major.clone().unwrap_or_default(),
        education_related: if w.education_related { "yes".into() } else { String::new() },
        home_street: w.home_street.clone(),
        services: ServiceSet::from_bits(w.services).kinds().iter().map(|k| k.as_str().to_string()).collect(),
    };
    let action = format!("/agency/workers/{id}/edit");
    render(&WorkerFormPage {
        chrome: Chrome::new(lang, &viewer, &action, w.name),
        action,
        form,
        kind,
        version: Some(w.version),
        errors: FieldErrors::default(),
        notice: None,
        existing_id: None,
        streets: state.street_groups().await?,
    })
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<WorkerFormBody>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(Some(&body.csrf))?;
    let worker = state.store.worker(id).await?;
    if !state.store.employing_agencies(worker.id).await?.contains(&agency) {
        return Err(AppError::Forbidden);
    }
    let action = format!("/agency/workers/{id}/edit");
    let mut page = WorkerFormPage {
        chrome: Chrome::new(lang, &viewer, &action, worker.name.clone()),
        action,
        form: body.form(),
        kind: body.kind.clone(),
        version: body.version,
        errors: FieldErrors::default(),
        notice: None,
        existing_id: None,
        streets: state.street_groups().await?,
    };
    let draft = match body.form().parse(today()) {
        Ok(draft) => draft,
        Err(errors) => {
            page.errors = errors;
            return rejected(page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match state.store.update_worker(id, body.version.unwrap_or_default(), &draft, agency).await {
        Ok(()) => Ok(Redirect::to("/agency/workers").into_response()),
        Err(StoreError::Stale) => {
            page.notice = Some(lang.t("form.stale"));
            rejected(page, StatusCode::CONFLICT)
        }
        Err(StoreError::Conflict { existing_id, .. }) => {
            page.notice = Some(lang.t("agency.duplicate_worker"));
            page.existing_id = existing_id;
            rejected(page, StatusCode::CONFLICT)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "bindings.html")]
struct BindingsPage {
    chrome: Chrome,
    rows: Vec<BindingRow>,
    message: Option<String>,
}

async fn bindings_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let rows = state
        .store
        .open_bindings_of_agency(agency)
        .await?
        .into_iter()
        .map(|b| BindingRow::new(b, lang, Side::Agency))
        .collect();
    let page = BindingsPage {
        chrome: Chrome::new(lang, viewer, "/agency/bindings", lang.t("agency.bindings")),
        rows,
        message,
    };
    Ok((status, render(&page)?).into_response())
}

async fn bindings(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    bindings_page(&state, lang, &viewer, None, StatusCode::OK).await
}

async fn binding_step(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    viewer.require_agency()?;
    match binding_step_from_page(&state, &viewer, lang, id, &action, &form.csrf).await? {
        None => Ok(Redirect::to("/agency/bindings").into_response()),
        Some(message) => bindings_page(&state, lang, &viewer, Some(message), StatusCode::CONFLICT).await,
    }
}

#[derive(Deserialize)]
struct RequestForm {
    csrf: String,
    id_number: String,
    #[serde(default)]
    kind: String,
}

/// Asks an already registered worker (found by ID number) to join this agency.
async fn request_binding(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<RequestForm>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(Some(&form.csrf))?;
    let id_number = jiazheng_core::ids::ResidentId::parse(&form.id_number, today())
        .map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("id_number")])))?;
    // Found or not, the answer says whether the person is registered: it counts like one.
    state.store.require_registration_budget(agency).await?;
    let found = state.store.worker_id_by_id_number(id_number.as_str()).await?;
    if let Some(worker) = found {
        state.store.count_registered_answers(agency, &[worker]).await?;
    }
    let Some(worker) = found else {
        return bindings_page(&state, lang, &viewer, Some(lang.t("binding.no_worker")), StatusCode::NOT_FOUND).await;
    };
    let kind = parse_kind(Some(&form.kind))?;
    match state.store.request_binding(worker, agency, kind, Side::Agency).await {
        Ok(_) => Ok(Redirect::to("/agency/bindings").into_response()),
        Err(StoreError::Conflict { .. }) => {
            bindings_page(&state, lang, &viewer, Some(lang.t("binding.exists")), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}
