//! Sign in and out. The sign-in form carries a token matched against a cookie (there is no
//! session yet to hold one), so another site cannot post it.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use jiazheng_core::account::Role;
use serde::Deserialize;

use super::{Chrome, render};
use crate::auth::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, Viewer, constant_time_eq, expired_cookie, session_cookie};
use crate::i18n::Lang;
use crate::limits::ClientAddr;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/login", get(form).post(submit)).route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    username: String,
    error: Option<String>,
    token: String,
    /// Where to go after signing in (a door page), carried through the form.
    next: String,
}

fn login_page(
    lang: Lang,
    username: String,
    error: Option<(axum::http::StatusCode, String)>,
    next: &str,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let token = hex::encode(jiazheng_store::crypto::random_bytes::<16>());
    let cookie =
        Cookie::build((LOGIN_CSRF_COOKIE, token.clone())).http_only(true).same_site(SameSite::Strict).path("/login");
    let mut chrome = Chrome::anonymous(lang, "/login", lang.t("login.title"));
    chrome.csrf = token.clone();
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (axum::http::StatusCode::OK, None),
    };
    let next = super::return_path(next).unwrap_or_default().to_string();
    Ok((status, jar.add(cookie), render(&LoginPage { chrome, username, error, token, next })?).into_response())
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    next: String,
}

async fn form(
    lang: Lang,
    jar: CookieJar,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> Result<Response, AppError> {
    login_page(lang, String::new(), None, &query.next, jar)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Where each role starts after signing in.
fn landing(role: Role) -> &'static str {
    match role {
        Role::AgencyAdmin => "/agency/workers",
        Role::Regulator => "/regulator",
        Role::Worker => "/me",
        Role::School => "/school",
        Role::Resident => "/my/services",
        Role::SystemAdmin => "/admin/accounts",
        Role::Bank => "/bank",
        Role::CommunityStaff => "/community",
        Role::Evaluator => "/evaluation",
    }
}

async fn submit(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.csrf.as_bytes()) {
        return Err(AppError::BadRequest("missing or stale form token (CSRF); reload the page".into()));
    }
    match crate::api::session::sign_in(&state, &peer.to_string(), &form.username, &form.password).await {
        Ok((token, role)) => {
            // A new session id at every sign-in; whatever session this browser held ends.
            if let Some(old) = jar.get(SESSION_COOKIE) {
                state.store.end_session(old.value()).await?;
            }
            let role = Role::parse(&role).unwrap_or(Role::Resident);
            let jar =
                jar.remove(expired_cookie(LOGIN_CSRF_COOKIE)).add(session_cookie(token, state.config.secure_cookies));
            let to = super::return_path(&form.next).unwrap_or(landing(role));
            Ok((jar, Redirect::to(to)).into_response())
        }
        Err(AppError::Invalid(_)) => {
            let failed = (axum::http::StatusCode::UNPROCESSABLE_ENTITY, lang.t("login.failed"));
            login_page(lang, form.username, Some(failed), &form.next, jar)
        }
        // Slowed down: said on the sign-in page itself, the name kept.
        Err(limited @ AppError::TooManyAttempts { .. }) => {
            let body = limited.body();
            let message = lang.pick(&body.error.message_zh, &body.error.message).to_string();
            let slowed = (axum::http::StatusCode::TOO_MANY_REQUESTS, message);
            let mut response = login_page(lang, form.username, Some(slowed), &form.next, jar)?;
            if let Some(value) = limited.retry_after().and_then(|secs| secs.to_string().parse().ok()) {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<LogoutForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    if let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
        state.store.end_session(&token).await?;
    }
    // The browser also drops the pages it kept of the session (Back shows none of them).
    let clear = [(axum::http::HeaderName::from_static("clear-site-data"), "\"cache\"")];
    Ok((jar.remove(expired_cookie(SESSION_COOKIE)), clear, Redirect::to("/")).into_response())
}
