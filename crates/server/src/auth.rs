//! Who is asking: the session behind a cookie or a bearer token, the CSRF token that forms
//! must carry, and a limit on failed sign-ins.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Failed sign-ins per name and address: after `MAX_FAILURES` within `WINDOW`, refuse until
/// the oldest failure leaves the window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub const MAX_FAILURES: usize = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    fn key(username: &str, address: &str) -> String {
        format!("{}\u{0}{address}", username.trim().to_lowercase())
    }

    /// `Err(seconds to wait)` when this name and address are locked out.
    pub fn check(&self, username: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = map.get_mut(&Self::key(username, address)) else { return Ok(()) };
        list.retain(|t| now.duration_since(*t) < Self::WINDOW);
        if list.len() >= Self::MAX_FAILURES {
            let oldest = list[0];
            Err((Self::WINDOW - now.duration_since(oldest)).as_secs().max(1))
        } else {
            Ok(())
        }
    }

    pub fn record_failure(&self, username: &str, address: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of names: forget the old entries.
            let now = Instant::now();
            map.retain(|_, list| list.last().is_some_and(|t| now.duration_since(*t) < Self::WINDOW));
        }
        map.entry(Self::key(username, address)).or_default().push(Instant::now());
    }

    pub fn clear(&self, username: &str, address: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&Self::key(username, address));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_out_after_repeated_failures_for_that_name_and_address_only() {
        let limiter = LoginLimiter::default();
        for _ in 0..LoginLimiter::MAX_FAILURES {
            assert!(limiter.check("Admin", "1.2.3.4").is_ok());
            limiter.record_failure("Admin", "1.2.3.4");
        }
        let wait = limiter.check("admin", "1.2.3.4").unwrap_err();
        assert!(wait > 800 && wait <= 900, "{wait}");
        assert!(limiter.check("admin", "5.6.7.8").is_ok());
        assert!(limiter.check("other", "1.2.3.4").is_ok());
        limiter.clear("admin", "1.2.3.4");
        assert!(limiter.check("admin", "1.2.3.4").is_ok());
    }

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
