//! The certificate check a resident opens at the door: from the QR code (`/v/{token}`) or a
//! typed number. It shows only the card's fields and today's colour, and says so when today's
//! status differs from what the card claims. A bad code gets a clear "not valid" page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiazheng_core::credit::token::TokenError;

use super::{Chrome, render, service_labels};
use crate::api::credit::check_token;
use crate::api::workers::today;
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/v/{token}", get(by_token)).route("/certificates/check", get(by_number))
}

#[derive(Template)]
#[template(path = "certificate_check.html")]
struct CheckPage {
    chrome: Chrome,
    verdict: String,
    genuine: bool,
    card: Option<Card>,
    live: Option<Live>,
    differs: Option<String>,
    number: String,
}

struct Card {
    number: String,
    name: String,
    colour: String,
    colour_label: String,
    valid_until: String,
}

struct Live {
    colour: String,
    colour_label: String,
    agencies: String,
    services: String,
    skill: String,
    note: Option<String>,
}

fn live_view(live: &jiazheng_store::credit::certificates::LiveStatus, lang: Lang) -> Live {
    let note = if live.revoked {
        Some(lang.t("cert.revoked"))
    } else if live.expired {
        Some(lang.t("cert.expired"))
    } else {
        None
    };
    Live {
        colour: live.status.as_str().into(),
        colour_label: live.status.label(lang.is_en()).into(),
        agencies: live.agencies.join("、"),
        services: service_labels(lang, live.services),
        skill: live.skill.clone(),
        note,
    }
}

async fn by_token(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let (result, claims, live) = check_token(&state, &token).await?;
    let error = match result.verdict.as_str() {
        "tampered" => Some(TokenError::Tampered),
        "unknown_key" => Some(TokenError::UnknownKey),
        "malformed" => Some(TokenError::Malformed),
        _ => None,
    };
    let en = lang.is_en();
    let card = claims.as_ref().map(|c| Card {
        number: c.number.clone(),
        name: c.name_masked.clone(),
        colour: c.status.as_str().into(),
        colour_label: c.status.label(en).into(),
        valid_until: c.valid_until.to_string(),
    });
    let differs = match (&claims, &live) {
        (Some(_), None) => Some(lang.t("cert.unknown_number")),
        (Some(c), Some(l)) if result.differs => {
            Some(format!("{} {} → {}", lang.t("cert.differs"), c.status.label(en), l.status.label(en)))
        }
        _ => None,
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page = CheckPage {
        chrome: Chrome::new(lang, &viewer, "/certificates/check", lang.t("cert.title")),
        verdict: crate::api::credit::verdict_words(error, en).into(),
        genuine: error.is_none() && live.is_some(),
        live: live.as_ref().map(|l| live_view(l, lang)),
        number: card.as_ref().map(|c| c.number.clone()).unwrap_or_default(),
        card,
        differs,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(serde::Deserialize)]
struct NumberQuery {
    number: Option<String>,
}

/// A typed certificate number: today's status only (a number proves nothing about the card).
async fn by_number(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<NumberQuery>,
) -> Result<Response, AppError> {
    let number = q.number.unwrap_or_default().trim().to_uppercase();
    let live = if number.is_empty() {
        None
    } else {
        match state.store.live_status(&number, today()).await {
            Ok(live) => Some(live),
            Err(jiazheng_store::StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        }
    };
    let verdict = match (&live, number.is_empty()) {
        (_, true) => String::new(),
        (Some(_), _) => lang.t("cert.found"),
        (None, _) => lang.t("cert.unknown_number"),
    };
    let status = if live.is_none() && !number.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let page = CheckPage {
        chrome: Chrome::new(lang, &viewer, "/certificates/check", lang.t("cert.title")),
        genuine: live.is_some(),
        live: live.as_ref().map(|l| live_view(l, lang)),
        verdict,
        card: None,
        differs: None,
        number,
    };
    Ok((status, render(&page)?).into_response())
}
