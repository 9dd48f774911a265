//! A worker's photo: uploaded by the employing agency or the worker, shown to those who may
//! see the record, and at the door to whoever holds the card's token (the face printed on it).
//! A typed certificate number does not show it: numbers can be guessed, the token cannot.

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::photo::{self, Refusal};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    // The file and a little room for the form around it; larger bodies stop at the limit.
    let limit = axum::extract::DefaultBodyLimit::max(photo::MAX_BYTES + 64 * 1024);
    Router::new()
        .route("/agency/workers/{id}/photo", post(agency_upload).layer(limit))
        .route("/me/photo", post(own_upload).layer(limit))
        .route("/workers/{id}/photo.jpg", get(record_photo))
        .route("/v/{token}/photo.jpg", get(door_photo))
}

/// `?photo=saved`, added by the redirect after an upload.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Saved {
    #[serde(default)]
    photo: String,
}

impl Saved {
    pub fn is_saved(&self) -> bool {
        self.photo == "saved"
    }
}

/// The photo block of a page that shows a worker's record and lets its reader change the photo.
pub struct PhotoPanel {
    /// Where the picture is served from, changing with the photo so a browser never shows an old one.
    pub src: Option<String>,
    /// Who put the photo there (a person's own name) and when, in Beijing time.
    pub uploaded: Option<(String, String)>,
    pub action: String,
    pub error: Option<String>,
    /// Just replaced: say so.
    pub saved: bool,
}

impl PhotoPanel {
    pub async fn load(state: &AppState, worker_id: i64, action: &str) -> Result<Self, AppError> {
        let current = state.store.photo(worker_id).await?;
        Ok(Self {
            src: current.as_ref().map(|p| format!("/workers/{worker_id}/photo.jpg?v={}", &p.digest[..12])),
            uploaded: current.map(|p| (p.uploaded_by_name, super::beijing_minutes(p.uploaded_at))),
            action: action.to_string(),
            error: None,
            saved: false,
        })
    }

    pub fn refused(mut self, refusal: Refusal, lang: Lang) -> Self {
        let invalid = refusal.invalid();
        self.error = Some(if lang.is_en() { invalid.message_en } else { invalid.message_zh });
        self
    }
}

/// The CSRF token and the file, read from the form.
async fn received(viewer: &Viewer, mut multipart: Multipart) -> Result<Vec<u8>, AppError> {
    let mut csrf = None;
    let mut file = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(AppError::from)?),
            Some("photo") => file = field.bytes().await.map_err(AppError::from)?.to_vec(),
            _ => {}
        }
    }
    viewer.check_csrf(csrf.as_deref())?;
    Ok(file)
}

/// Re-encodes off the request threads, one picture at a time (a large one takes a moment and
/// much memory), and keeps the result. Each account's uploads are counted.
async fn store_photo(
    state: &AppState,
    worker_id: i64,
    by: i64,
    file: Vec<u8>,
) -> Result<Result<(), Refusal>, AppError> {
    let key = by.to_string();
    if let Err(retry_after_secs) = state.limits.photo_uploads.check(&key) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    state.limits.photo_uploads.record_failure(&key);
    let _turn = tokio::time::timeout(std::time::Duration::from_secs(30), state.photo_work.acquire())
        .await
        .map_err(|_| AppError::Busy)?
        .map_err(|_| AppError::Busy)?;
    let normalised = tokio::task::spawn_blocking(move || photo::normalise(&file))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let jpeg = match normalised {
        Ok(jpeg) => jpeg,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let digest = state.photos.save(&jpeg)?;
    state.store.set_photo(worker_id, &digest, by).await?;
    Ok(Ok(()))
}

async fn agency_upload(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    crate::api::workforce::writing_agency(&state, &viewer, id).await?;
    let by = viewer.require()?.principal.account_id;
    let file = received(&viewer, multipart).await?;
    match store_photo(&state, id, by, file).await? {
        Ok(()) => Ok(Redirect::to(&format!("/agency/workers/{id}/workforce?photo=saved#photo")).into_response()),
        Err(refusal) => super::workforce::record_page_refusing_photo(&state, lang, &viewer, id, refusal).await,
    }
}

async fn own_upload(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let worker = super::me::own_worker(&viewer)?;
    let by = viewer.require()?.principal.account_id;
    let file = received(&viewer, multipart).await?;
    match store_photo(&state, worker, by, file).await? {
        Ok(()) => Ok(Redirect::to("/me?photo=saved#photo").into_response()),
        Err(refusal) => super::me::page_refusing_photo(&state, lang, &viewer, refusal).await,
    }
}

/// A card that still stands: a revoked or expired card (or a picture of one) shows no face,
/// least of all one uploaded after it stopped counting.
pub fn shows_face(live: &jiazheng_store::credit::certificates::LiveStatus) -> bool {
    !live.revoked && !live.expired
}

fn jpeg(bytes: Vec<u8>) -> Response {
    // Private: a face is personal data, and no shared cache should keep it.
    let headers = [(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=3600")];
    (StatusCode::OK, headers, bytes).into_response()
}

/// For the worker, the employing agency and a regulator in scope.
async fn record_photo(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let session = viewer.require()?;
    let worker = state.store.worker(id).await?;
    if !state.store.may_reveal(&session.principal, &worker).await? {
        return Err(AppError::Forbidden);
    }
    let current = state.store.photo(id).await?.ok_or(AppError::NotFound)?;
    state.photos.load(&current.digest).map(jpeg).ok_or(AppError::NotFound)
}

/// For whoever holds a genuine card: the same face is printed on it.
async fn door_photo(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, AppError> {
    let (result, claims, live) = crate::api::credit::check_token(&state, &token).await?;
    let genuine = claims.is_some() && jiazheng_core::credit::token::TokenError::from_code(&result.verdict).is_none();
    let digest = live.filter(|l| genuine && shows_face(l)).and_then(|l| l.photo.clone()).ok_or(AppError::NotFound)?;
    state.photos.load(&digest).map(jpeg).ok_or(AppError::NotFound)
}
