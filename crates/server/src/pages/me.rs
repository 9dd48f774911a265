//! A worker's own page: their record unmasked (they own it) and the binding requests that
//! wait for their answer.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::registry::binding::Side;
use serde::Deserialize;

use super::public::WorkerRow;
use super::{BindingRow, Chrome, CsrfForm, binding_step_from_page, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(page))
        .route("/me/bindings", post(ask_to_join))
        .route("/me/bindings/{id}/{action}", post(step))
        .route("/me/consents/{id}/{decision}", post(decide_consent))
        .route("/me/consent-code", post(new_code))
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    chrome: Chrome,
    worker: WorkerRow,
    id_number: String,
    phone: String,
    bindings: Vec<BindingRow>,
    message: Option<String>,
    view: super::workforce::RecordView,
    lines: Vec<super::workforce::InboxLine>,
    consents: Vec<jiazheng_store::credit::consent::ConsentRequest>,
    views: Vec<(String, String)>,
    code: Option<String>,
    /// The number of the worker's current card, when it can be shown here.
    card: Option<String>,
    photo: super::photos::PhotoPanel,
    /// Contracts waiting for the worker's signature.
    contracts_waiting: usize,
}

pub(super) fn own_worker(viewer: &Viewer) -> Result<i64, AppError> {
    let session = viewer.require_role(&[Role::Worker])?;
    match session.principal.scope {
        Scope::Worker(id) => Ok(id),
        _ => Err(AppError::Forbidden),
    }
}

async fn render_me(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    render_me_with_code(state, lang, viewer, message, status, None).await
}

async fn render_me_with_code(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    message: Option<String>,
    status: StatusCode,
    code: Option<String>,
) -> Result<Response, AppError> {
    let page = me_page(state, lang, viewer, message, code).await?;
    Ok((status, render(&page)?).into_response())
}

/// The page again, the refused photo's reason beside the file field.
pub async fn page_refusing_photo(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    refusal: crate::photo::Refusal,
) -> Result<Response, AppError> {
    let mut page = me_page(state, lang, viewer, None, None).await?;
    page.photo = page.photo.refused(refusal, lang);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn me_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    message: Option<String>,
    code: Option<String>,
) -> Result<MePage, AppError> {
    let id = own_worker(viewer)?;
    let session = viewer.require()?;
    let worker = state.store.worker(id).await?;
    let revealed = state.store.reveal_worker(&session.principal, &worker, "self").await?;
    let districts = state.districts().await?.to_vec();
    let view = super::workforce::record_view(state, id, worker.services, lang).await?;
    let inbox = state.store.inbox("worker", id, jiazheng_store::PageRequest::new(None, Some(20))).await?;
    Ok(MePage {
        contracts_waiting: state.store.contracts_waiting_for_worker(id).await?.len(),
        photo: super::photos::PhotoPanel::load(state, id, "/me/photo").await?,
        consents: state.store.pending_consents(id).await?,
        views: state
            .store
            .record_views(id)
            .await?
            .into_iter()
            .map(|v| (v.viewer, super::beijing_minutes(v.at)))
            .collect(),
        code,
        card: state.store.current_card(id).await?.map(|(number, _)| number),
        view,
        lines: super::workforce::inbox_lines(&inbox.items, lang),
        chrome: Chrome::new(lang, viewer, "/me", lang.t("me.title")),
        bindings: state
            .store
            .bindings_of_worker(id)
            .await?
            .into_iter()
            .map(|b| BindingRow::new(b, lang, Side::Worker))
            .collect(),
        worker: WorkerRow::new(worker, lang, &districts),
        id_number: revealed.id_number,
        phone: revealed.phone,
        message,
    })
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    axum::extract::Query(saved): axum::extract::Query<super::photos::Saved>,
) -> Result<Response, AppError> {
    let mut page = me_page(&state, lang, &viewer, None, None).await?;
    page.photo.saved = saved.is_saved();
    render(&page)
}

async fn step(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    own_worker(&viewer)?;
    match binding_step_from_page(&state, &viewer, lang, id, &action, &form.csrf).await? {
        None => Ok(Redirect::to("/me").into_response()),
        Some(message) => render_me(&state, lang, &viewer, Some(message), StatusCode::CONFLICT).await,
    }
}

#[derive(Deserialize)]
struct JoinForm {
    csrf: String,
    uscc: String,
    #[serde(default)]
    kind: String,
}

/// The worker asks an agency (found by its code) to take them on; the agency confirms.
async fn ask_to_join(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<JoinForm>,
) -> Result<Response, AppError> {
    let worker = own_worker(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    // The agency as the worker knows it: its full name or its credit code.
    let agency = match super::subjects::named(&state, "agency", &form.uscc, None).await {
        Ok(id) => state.store.agency(id).await?,
        Err(AppError::Invalid(errors)) => {
            let message = errors.0.first().map(|e| lang.pick(&e.message_zh, &e.message_en).to_string());
            return render_me(&state, lang, &viewer, message, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(other) => return Err(other),
    };
    let kind = crate::api::workers::parse_kind(Some(&form.kind))?;
    match state.store.request_binding(worker, agency.id, kind, Side::Worker).await {
        Ok(_) => Ok(Redirect::to("/me").into_response()),
        Err(jiazheng_store::StoreError::Conflict { .. }) => {
            render_me(&state, lang, &viewer, Some(lang.t("binding.exists")), StatusCode::CONFLICT).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn decide_consent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, decision)): Path<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let worker = own_worker(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return Err(AppError::NotFound),
    };
    state.store.decide_consent(worker, id, approve).await?;
    Ok(Redirect::to("/me#consents").into_response())
}

async fn new_code(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let worker = own_worker(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    let code = state.store.create_consent_code(worker).await?;
    render_me_with_code(&state, lang, &viewer, None, StatusCode::OK, Some(code)).await
}
