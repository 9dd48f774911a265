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
use jiazheng_store::registry::divisions::Division;
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
    errors: FieldErrors,
    streets: std::sync::Arc<Vec<crate::StreetGroup>>,
    street: String,
    /// The picked street's units: the point's own community and the first it may serve.
    communities: Vec<Division>,
    /// The rest of the district's units by street, to serve as well.
    others: Vec<(String, Vec<Division>)>,
}

impl PointsPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn status(&self, code: &str) -> String {
        PointStatus::label_of(code, self.chrome.is_en()).to_string()
    }

    fn serves(&self, code: &str) -> bool {
        self.form.serves.iter().any(|s| s == code)
    }
}

async fn render_points(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    street: &str,
    form: ServicePointForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let rows = state.store.service_points(None, Some(agency), PageRequest::new(Some(1), Some(100))).await?.items;
    let street = match street.len() {
        9 if street.bytes().all(|b| b.is_ascii_digit()) => street.to_string(),
        _ => form.community_code.get(..9).unwrap_or_default().to_string(),
    };
    let (communities, others) = if street.len() == 9 {
        let district = format!("{:0<12}", &street[..6]);
        let mut others = Vec::new();
        for s in state.store.child_divisions(Some(&district)).await? {
            if !s.code.starts_with(&street) {
                let units = state.store.child_divisions(Some(&s.code)).await?;
                others.push((s.name, units));
            }
        }
        (state.store.child_divisions(Some(&format!("{street:0<12}"))).await?, others)
    } else {
        (Vec::new(), Vec::new())
    };
    let page = PointsPage {
        chrome: Chrome::new(lang, viewer, "/agency/points", lang.t("agency.points")),
        rows,
        form,
        errors,
        streets: state.street_groups().await?,
        street,
        communities,
        others,
    };
    Ok((status, render(&page)?).into_response())
}

async fn page(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    render_points(&state, lang, &viewer, "", ServicePointForm::default(), FieldErrors::default(), StatusCode::OK).await
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
    serves: Vec<String>,
    #[serde(default)]
    street: String,
    /// `place`: show the picked street's communities, keeping what was typed; no save.
    #[serde(default)]
    step: String,
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
        serves: body.serves,
        ..Default::default()
    };
    let street = body.street;
    if body.step == "place" {
        // A new street: its communities are offered, and a community of the old one is dropped.
        let form = ServicePointForm {
            community_code: if form.community_code.starts_with(&street) { form.community_code } else { String::new() },
            ..form
        };
        return render_points(&state, lang, &viewer, &street, form, FieldErrors::default(), StatusCode::OK).await;
    }
    let draft = match form.parse() {
        Ok(draft) => draft,
        Err(errors) => {
            return render_points(&state, lang, &viewer, &street, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.create_service_point(agency, &draft).await {
        Ok(_) => {
            state.coverage_changed();
            Ok(Redirect::to("/agency/points").into_response())
        }
        Err(StoreError::Invalid(errors)) => {
            render_points(&state, lang, &viewer, &street, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
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
    state.coverage_changed();
    Ok(Redirect::to("/agency/points").into_response())
}
