//! Hot public reads served from memory while the database has committed nothing since they were
//! computed (`jiazheng_store::commits`). A hit costs the commit mark (shared memory on SQLite,
//! one round trip on PostgreSQL) instead of the statements behind the page; any commit, by this
//! server or another, makes the next read compute afresh, so no reader sees a page older than
//! an acknowledged write. Only successful answers that are the same for every viewer are kept.

use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;

use crate::AppState;
use crate::auth::Viewer;
use crate::cache::{Body, Current, Weigh};
use crate::error::AppError;

/// The body for `key`: from memory when nothing was committed since it was computed, else
/// computed by `render` (and kept when it succeeded).
pub async fn current<F>(state: &AppState, key: String, render: F) -> Result<Body, AppError>
where
    F: Future<Output = Result<Body, AppError>>,
{
    let body = current_in(&state.reads, &state.store, key, render, |b| b.status.is_success()).await?;
    Ok((*body).clone())
}

/// A value of `cache` for `key`, current as of the last commit; computed by `compute` when it is
/// not, and kept when `keep` says so.
pub async fn current_in<V: Weigh, F>(
    cache: &Current<V>,
    store: &jiazheng_store::Store,
    key: String,
    compute: F,
    keep: impl FnOnce(&V) -> bool,
) -> Result<Arc<V>, AppError>
where
    F: Future<Output = Result<V, AppError>>,
{
    // Read before computing: a commit in between leaves the value stamped older than it is,
    // which only costs a recomputation.
    let mark = store.commit_mark().await?;
    if let Some(hit) = cache.get(&key, &mark) {
        return Ok(hit);
    }
    let value = Arc::new(compute.await?);
    if keep(&value) {
        cache.put(key, mark, value.clone());
    }
    Ok(value)
}

pub fn json<T: Serialize>(value: &T) -> Result<Body, AppError> {
    let bytes = serde_json::to_vec(value).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Body { status: StatusCode::OK, content_type: "application/json", bytes: bytes.into() })
}

pub fn html(status: StatusCode, page: String) -> Body {
    Body { status, content_type: "text/html; charset=utf-8", bytes: page.into() }
}

/// A page through `current`, kept only for visitors who are not signed in (a signed-in visitor's
/// page carries their name and form tokens). `key` names what the page shows; the language and
/// the Beijing day are added here.
pub async fn page<F>(
    state: &AppState,
    viewer: &Viewer,
    lang: crate::i18n::Lang,
    key: &str,
    render: F,
) -> Result<axum::response::Response, AppError>
where
    F: Future<Output = Result<String, AppError>>,
{
    use axum::response::IntoResponse;
    if viewer.session.is_some() {
        return Ok(axum::response::Html(render.await?).into_response());
    }
    let key = format!("{key}|{}|{}", lang.code(), crate::api::workers::today());
    Ok(current(state, key, async { Ok(html(StatusCode::OK, render.await?)) }).await?.into_response())
}
