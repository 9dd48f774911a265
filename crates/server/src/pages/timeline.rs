//! Credit timelines: a worker's or an agency's ledger entries with their sources, corrections
//! beside what they correct, and an appeal form for the subject itself.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{Chrome, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workers/{id}/timeline", get(worker_timeline))
        .route("/agencies/{id}/timeline", get(agency_timeline))
        .route("/appeals/{seq}", post(appeal))
}

/// One ledger entry as the timeline shows it.
struct TimelineLine {
    seq: i64,
    at: String,
    kind: String,
    summary: String,
    source: String,
    corrects: Option<i64>,
    corrected_by: Option<i64>,
    hash: String,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePage {
    chrome: Chrome,
    subject: String,
    back: String,
    lines: Vec<TimelineLine>,
    /// The viewer is the subject and may appeal an entry.
    may_appeal: bool,
}

async fn timeline_lines(
    store: &jiazheng_store::Store,
    entries: &[jiazheng_store::credit::ledger::Entry],
    lang: Lang,
) -> Vec<TimelineLine> {
    let sources = super::words::source_names(store, entries.iter().map(|e| e.source.as_str()), lang).await;
    let corrected: std::collections::HashMap<i64, i64> =
        entries.iter().filter_map(|e| e.corrects.map(|target| (target, e.seq))).collect();
    entries
        .iter()
        .rev()
        .map(|e| TimelineLine {
            seq: e.seq,
            at: super::beijing_time(&e.recorded_at),
            kind: jiazheng_core::credit::EntryKind::label_of(&e.kind, lang.is_en()).to_string(),
            summary: super::words::entry_in_words(&e.kind, &e.payload, lang),
            source: sources.get(&e.source).cloned().unwrap_or_default(),
            corrects: e.corrects,
            corrected_by: corrected.get(&e.seq).copied(),
            hash: hex::encode(&e.hash[..e.hash.len().min(6)]),
        })
        .collect()
}

/// A worker's credit history with its sources: for the worker, their agencies and regulators in scope.
async fn worker_timeline(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let worker = crate::api::workforce::readable_worker(&state, &viewer, id, "credit timeline").await?;
    let entries = state.store.ledger_of(jiazheng_core::credit::SubjectKind::Worker, id).await?;
    let own = viewer.session.as_ref().map(|s| s.principal.scope.clone());
    render(&TimelinePage {
        chrome: Chrome::new(lang, &viewer, &format!("/workers/{id}/timeline"), lang.t("timeline.title")),
        subject: worker.name,
        back: format!("/workers/{id}"),
        lines: timeline_lines(&state.store, &entries, lang).await,
        may_appeal: own == Some(jiazheng_core::account::Scope::Worker(id)),
    })
}

/// An agency's credit history: public, as its record is.
async fn agency_timeline(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let agency = state.store.agency(id).await?;
    let entries = state.store.ledger_of(jiazheng_core::credit::SubjectKind::Agency, id).await?;
    let own = viewer.session.as_ref().and_then(|s| s.principal.agency_id());
    render(&TimelinePage {
        chrome: Chrome::new(lang, &viewer, &format!("/agencies/{id}/timeline"), lang.t("timeline.title")),
        subject: agency.name,
        back: format!("/agencies/{id}"),
        lines: timeline_lines(&state.store, &entries, lang).await,
        may_appeal: own == Some(id),
    })
}

#[derive(Deserialize)]
struct AppealPost {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// The subject of an entry appeals it from their timeline.
async fn appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(seq): Path<i64>,
    Form(form): Form<AppealPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let session =
        viewer.require_role(&[jiazheng_core::account::Role::Worker, jiazheng_core::account::Role::AgencyAdmin])?;
    let (own, back) = match session.principal.scope {
        jiazheng_core::account::Scope::Worker(id) => {
            ((jiazheng_core::credit::SubjectKind::Worker, id), format!("/workers/{id}/timeline"))
        }
        jiazheng_core::account::Scope::Agency(id) => {
            ((jiazheng_core::credit::SubjectKind::Agency, id), format!("/agencies/{id}/timeline"))
        }
        _ => return Err(AppError::Forbidden),
    };
    let reason = jiazheng_core::field::required_text(&form.reason, 1000).map_err(crate::api::field_error("reason"))?;
    state.store.file_appeal(seq, session.principal.account_id, own, &reason).await?;
    Ok(Redirect::to(&format!("{back}#entry-{seq}")).into_response())
}
