//! Who is asking: the session behind a cookie or a bearer token, and the CSRF token that forms
//! must carry.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use jiazheng_core::account::Role;
use jiazheng_store::accounts::{SESSION_HOURS, Session};

use crate::{AppError, AppState};

pub const SESSION_COOKIE: &str = "jz_session";
pub const LOGIN_CSRF_COOKIE: &str = "jz_login_csrf";

/// Whatever answers a request that carries a session cookie is that person's own: no browser or
/// proxy keeps it, so Back after signing out on a shared phone shows nothing of who was signed in.
pub async fn no_store_when_signed_in(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let signed_in = CookieJar::from_headers(request.headers()).get(SESSION_COOKIE).is_some();
    let mut response = next.run(request).await;
    if signed_in && !response.headers().contains_key(axum::http::header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-store"));
    }
    response
}

/// The signed-in account, if any, and how it proved itself.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: Option<Session>,
    /// True when the session came from a cookie: such writes must also carry the CSRF token.
    pub via_cookie: bool,
}

impl Viewer {
    pub fn require(&self) -> Result<&Session, AppError> {
        self.session.as_ref().ok_or(AppError::Unauthorized)
    }

    pub fn require_role(&self, roles: &[Role]) -> Result<&Session, AppError> {
        let session = self.require()?;
        if roles.contains(&session.principal.role) { Ok(session) } else { Err(AppError::Forbidden) }
    }

    /// The agency an agency admin acts for.
    pub fn require_agency(&self) -> Result<(&Session, i64), AppError> {
        let session = self.require_role(&[Role::AgencyAdmin])?;
        session.principal.agency_id().map(|id| (session, id)).ok_or(AppError::Forbidden)
    }

    /// For writes: a cookie session must present its CSRF token; a bearer token needs none.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), AppError> {
        match &self.session {
            Some(session) if self.via_cookie => {
                if presented.is_some_and(|token| constant_time_eq(token.as_bytes(), session.csrf_token.as_bytes())) {
                    Ok(())
                } else {
                    Err(AppError::BadRequest("missing or stale form token (CSRF); reload the page".into()))
                }
            }
            _ => Ok(()),
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(viewer) = parts.extensions.get::<Viewer>() {
            return Ok(viewer.clone());
        }
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string);
        let cookie = CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE).map(|c| c.value().to_string());
        let (token, via_cookie) = match (bearer, cookie) {
            (Some(token), _) => (Some(token), false),
            (None, Some(token)) => (Some(token), true),
            (None, None) => (None, false),
        };
        let session = match token {
            Some(token) => state.store.session(&token).await?,
            None => None,
        };
        let viewer = Viewer { session, via_cookie };
        parts.extensions.insert(viewer.clone());
        Ok(viewer)
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure when served over TLS.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(time_hours(SESSION_HOURS))
        .build()
}

pub fn expired_cookie(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, "")).path("/").max_age(time_hours(0)).build()
}

fn time_hours(hours: i64) -> time::Duration {
    time::Duration::hours(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_required_for_cookie_sessions_only() {
        use jiazheng_core::account::{Principal, Scope};
        let session = Session {
            principal: Principal { account_id: 1, role: Role::Resident, scope: Scope::None },
            username: "u".into(),
            display_name: "u".into(),
            csrf_token: "abc".into(),
        };
        let cookie = Viewer { session: Some(session.clone()), via_cookie: true };
        assert!(cookie.check_csrf(Some("abc")).is_ok());
        assert!(cookie.check_csrf(Some("abd")).is_err());
        assert!(cookie.check_csrf(None).is_err());
        let bearer = Viewer { session: Some(session), via_cookie: false };
        assert!(bearer.check_csrf(None).is_ok());
    }
}
