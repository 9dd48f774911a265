//! An agency admin's service points: open one in a community, list them, close one.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::registry::service_point::{PointStatus, ServicePointForm};
use jiazheng_store::registry::service_points::ServicePoint;
use jiazheng_store::{PageRequest, StoreError};
use serde::Deserialize;

use super::{Chrome, CsrfForm, field_message, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/agency/points", get(page).post(create)).route("/agency/points/{id}/close", post(close))
}

#[derive(Template)]
#[template(path = "agency_points.html")]
struct PointsPage {
    chrome: Chrome,
    rows: Vec<ServicePoint>,
    form: ServicePointForm,
    serves: String,
    errors: FieldErrors,
}

impl PointsPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn status(&self, code: &str) -> String {
        PointStatus::label_of(code, self.chrome.is_en()).to_string()
    }
}

async fn render_points(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: ServicePointForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let rows = state.store.service_points(None, Some(agency), PageRequest::new(Some(1), Some(100))).await?.items;
    let serves = form.serves.join(", ");
    let page = PointsPage {
        chrome: Chrome::new(lang, viewer, "/agency/points", lang.t("agency.points")),
        rows,
        form,
        serves,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

async fn page(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    render_points(&state, lang, &viewer, ServicePointForm::default(), FieldErrors::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct PointBody {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    community_code: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    opening_hours: String,
    #[serde(default)]
    serves: String,
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<PointBody>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(Some(&body.csrf))?;
    let form = ServicePointForm {
        name: body.name,
        community_code: body.community_code,
        address: body.address,
        opening_hours: body.opening_hours,
        serves: vec![body.serves],
    };
    let draft = match form.parse() {
        Ok(draft) => draft,
        Err(errors) => {
            return render_points(&state, lang, &viewer, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.create_service_point(agency, &draft).await {
        Ok(_) => Ok(Redirect::to("/agency/points").into_response()),
        Err(StoreError::Invalid(errors)) => {
            render_points(&state, lang, &viewer, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    viewer.check_csrf(Some(&form.csrf))?;
    state.store.close_service_point(id, agency).await?;
    Ok(Redirect::to("/agency/points").into_response())
}
