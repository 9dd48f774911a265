use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use jiazheng_store::accounts::SESSION_HOURS;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
use crate::auth::Viewer;
use crate::limits::ClientAddr;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(login).delete(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionToken {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub role: String,
    pub expires_in_secs: i64,
}

/// Checks a password and starts a session; failures slow down the name (from any address) and
/// the address (across names).
pub async fn sign_in(
    state: &AppState,
    address: &str,
    username: &str,
    password: &str,
) -> Result<(String, String), AppError> {
    if let Err(retry_after_secs) = state.limits.check_login(username, address) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    match state.store.authenticate(username, password).await? {
        Some(principal) => {
            state.limits.login_succeeded(username);
            let token = state.store.create_session(principal.account_id).await?;
            Ok((token, principal.role.as_str().to_string()))
        }
        None => {
            state.limits.login_failed(username, address);
            Err(AppError::invalid("password", "bad_credentials", "用户名或密码错误", "wrong username or password"))
        }
    }
}

/// Signs in and returns a bearer token.
#[utoipa::path(post, path = "/api/v1/session", tag = "registry", request_body = Credentials,
    responses((status = 200, body = SessionToken), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Json<SessionToken>, AppError> {
    let (token, role) = sign_in(&state, &peer.to_string(), &body.username, &body.password).await?;
    Ok(Json(SessionToken { token, role, expires_in_secs: SESSION_HOURS * 3600 }))
}

/// Ends the session the request carries: its bearer token, or its cookie (which, as every
/// cookie write, must carry the CSRF token).
#[utoipa::path(delete, path = "/api/v1/session", tag = "registry", security(("bearer" = [])), responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, AppError> {
    viewer.require()?;
    viewer.check_csrf(super::agencies::csrf_header(&headers))?;
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let cookie = axum_extra::extract::CookieJar::from_headers(&headers)
        .get(crate::auth::SESSION_COOKIE)
        .map(|c| c.value().to_string());
    if let Some(token) = if viewer.via_cookie { cookie } else { bearer } {
        state.store.end_session(&token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
