//! Server-rendered pages: Chinese by default, English on request, usable on a phone, and
//! served entirely from this binary (no CDN), so they work on an intranet.

pub mod admin;
pub mod agency;
pub mod agency_market;
pub mod assets;
pub mod bank;
pub mod certificate;
pub mod claims;
pub mod community;
pub mod complaints;
pub mod contracts;
pub mod coverage;
pub mod credit_work;
pub mod disclosure;
pub mod evaluation;
pub mod import;
pub mod libraries;
pub mod market;
pub mod me;
pub mod payments;
pub mod photos;
pub mod plan_tracker;
pub mod point_ops;
pub mod points;
pub mod public;
pub mod queue_view;
pub mod rectification;
pub mod regulator;
pub mod school;
pub mod session;
pub mod subjects;
pub mod subsidies;
pub mod surveys;
pub mod targets;
pub mod timeline;
pub mod volunteer;
pub mod words;
pub mod workforce;

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::registry::binding::{BindingKind, BindingStatus, Side};
use jiazheng_core::registry::{ServiceKind, ServiceSet};

use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(public::router())
        .merge(session::router())
        .merge(agency::router())
        .merge(import::router())
        .merge(regulator::router())
        .merge(me::router())
        .merge(points::router())
        .merge(coverage::router())
        .merge(community::router())
        .merge(surveys::router())
        .merge(targets::router())
        .merge(disclosure::router())
        .merge(workforce::router())
        .merge(school::router())
        .merge(certificate::router())
        .merge(credit_work::router())
        .merge(complaints::router())
        .merge(photos::router())
        .merge(bank::router())
        .merge(timeline::router())
        .merge(admin::router())
        .merge(market::router())
        .merge(agency_market::router())
        .merge(contracts::router())
        .merge(payments::router())
        .merge(subsidies::router())
        .merge(point_ops::router())
        .merge(volunteer::router())
        .merge(evaluation::router())
        .merge(libraries::router())
        .merge(plan_tracker::router())
        .merge(claims::router())
        .merge(rectification::router())
        .route("/lang/{code}", get(switch_language))
}

/// The frame around every page: language, who is signed in, navigation, form token.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub lang: Lang,
    pub path: String,
    pub title: String,
    pub user: Option<String>,
    pub role: Option<Role>,
    pub csrf: String,
    /// Community staff of a whole district (who run subsidised service), not of one street.
    pub district_staff: bool,
}

impl Chrome {
    /// The header's sign-in link: from a certificate check page it comes back to that page.
    pub fn login_link(&self) -> String {
        match return_path(&self.path) {
            Some(back) => format!("/login?next={}", encode(back)),
            None => "/login".to_string(),
        }
    }

    pub fn anonymous(lang: Lang, path: &str, title: String) -> Self {
        Self { lang, path: path.to_string(), title, user: None, role: None, csrf: String::new(), district_staff: false }
    }

    pub fn new(lang: Lang, viewer: &Viewer, path: &str, title: String) -> Self {
        let mut chrome = Self::anonymous(lang, path, title);
        if let Some(session) = &viewer.session {
            chrome.user = Some(session.display_name.clone());
            chrome.role = Some(session.principal.role);
            chrome.district_staff = matches!(&session.principal.scope,
                jiazheng_core::account::Scope::District(d) if d.level() == jiazheng_core::division::DivisionLevel::District);
            chrome.csrf = session.csrf_token.clone();
        }
        chrome
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    pub fn is_en(&self) -> bool {
        self.lang.is_en()
    }

    pub fn role_label(&self) -> String {
        self.role.map(|r| r.label(self.is_en()).to_string()).unwrap_or_default()
    }

    pub fn is_agency(&self) -> bool {
        self.role == Some(Role::AgencyAdmin)
    }

    pub fn is_worker(&self) -> bool {
        self.role == Some(Role::Worker)
    }

    pub fn is_resident(&self) -> bool {
        self.role == Some(Role::Resident)
    }

    pub fn is_school(&self) -> bool {
        self.role == Some(Role::School)
    }

    /// The half of a "中文 / English" label (as spreadsheet columns are named) in the page's language.
    pub fn in_language(&self, bilingual: &str) -> String {
        match bilingual.split_once(" / ") {
            Some((zh, en)) => if self.is_en() { en } else { zh }.to_string(),
            None => bilingual.to_string(),
        }
    }

    pub fn is_bank(&self) -> bool {
        self.role == Some(Role::Bank)
    }

    pub fn is_regulator(&self) -> bool {
        self.role == Some(Role::Regulator)
    }

    pub fn is_staff(&self) -> bool {
        self.role == Some(Role::CommunityStaff)
    }

    pub fn is_evaluator(&self) -> bool {
        self.role == Some(Role::Evaluator)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Some(Role::SystemAdmin)
    }

    pub fn other_lang_code(&self) -> &'static str {
        self.lang.other().code()
    }

    pub fn other_lang_name(&self) -> &'static str {
        if self.is_en() { "中文" } else { "English" }
    }
}

/// Renders a template, or answers 500 with the reason logged.
pub fn render(template: &impl Template) -> Result<Response, AppError> {
    html(template).map(|html| Html(html).into_response())
}

/// The page as text, for a caller that keeps it (see `reads`).
pub fn html(template: &impl Template) -> Result<String, AppError> {
    template.render().map_err(|e| AppError::Internal(e.to_string()))
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Sets the language cookie and returns to the page the switch was clicked on.
async fn switch_language(
    Path(code): Path<String>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<(CookieJar, Redirect), AppError> {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let cookie = Cookie::build(("lang", lang.code())).path("/").max_age(time::Duration::days(365));
    Ok((jar.add(cookie), Redirect::to(&back)))
}

/// A field's error message in the page's language.
pub fn field_message(errors: &FieldErrors, lang: Lang, field: &str) -> Option<String> {
    errors.for_field(field).map(|e| lang.pick(&e.message_zh, &e.message_en).to_string())
}

/// A checkbox per service, ticked when in `selected`.
pub fn service_choices(lang: Lang, selected: ServiceSet) -> Vec<(String, String, bool)> {
    ServiceKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label(lang.is_en()).to_string(), selected.contains(*k)))
        .collect()
}

/// Service labels of a stored bit set, joined for display.
pub fn service_labels(lang: Lang, bits: i64) -> String {
    let labels: Vec<&str> = ServiceSet::from_bits(bits).kinds().iter().map(|k| k.label(lang.is_en())).collect();
    labels.join(if lang.is_en() { ", " } else { "、" })
}

/// Links to neighbouring pages of a list.
#[derive(Debug, Clone)]
pub struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the query string without `page`, e.g. `q=安心&district=220102`.
    pub fn new<T>(page: &jiazheng_store::Page<T>, path: &str, base: &str) -> Self {
        let link = |n: u32| {
            let sep = if base.is_empty() { "" } else { "&" };
            format!("{path}?{base}{sep}page={n}")
        };
        let pages = page.pages();
        Self {
            page: page.page,
            pages,
            total: page.total,
            prev: (page.page > 1).then(|| link(page.page - 1)),
            next: (page.page < pages).then(|| link(page.page + 1)),
        }
    }

    /// The same links with the page number under another name (two lists on one page).
    pub fn with_page_param(mut self, name: &str) -> Self {
        for link in [&mut self.prev, &mut self.next].into_iter().flatten() {
            if let Some(at) = link.rfind("page=") {
                link.replace_range(at..at + 4, name);
            }
        }
        self
    }
}

/// Where this site is reached, for links printed or shown as QR codes.
pub fn origin(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// A moment as pages show it: Beijing time to the minute.
pub fn beijing_minutes(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&jiazheng_core::calendar::beijing()).format("%Y-%m-%d %H:%M").to_string()
}

/// A stored RFC 3339 moment (the ledger's) as pages show it: Beijing time to the minute.
pub fn beijing_time(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|at| beijing_minutes(at.with_timezone(&chrono::Utc)))
        .unwrap_or_else(|_| stored.to_string())
}

/// A place to return to after signing in or asking for consent: only our own certificate check
/// pages, so that a link cannot send a person elsewhere. Their paths are printable ASCII; anything
/// else (a line break would not fit a `Location` header) is no place to return to.
pub fn return_path(back: &str) -> Option<&str> {
    let ours = back.starts_with("/v/") || back.starts_with("/certificates/");
    let plain = back.bytes().all(|b| b.is_ascii_graphic());
    (ours && plain && !back.contains("//") && !back.contains('\\')).then_some(back)
}

#[cfg(test)]
mod return_path_tests {
    use super::return_path;

    #[test]
    fn only_our_own_plain_paths_are_returned_to() {
        assert_eq!(return_path("/v/AbC-_9"), Some("/v/AbC-_9"));
        assert_eq!(return_path("/certificates/JZ-220102-000123/record"), Some("/certificates/JZ-220102-000123/record"));
        for elsewhere in
            ["/v/\r\nAbC", "/v/ AbC", "/v/\tAbC", "/v/\u{3000}AbC", "//evil.example", "/v//evil", "/my", "https://x"]
        {
            assert_eq!(return_path(elsewhere), None, "{elsewhere:?}");
        }
    }
}

/// Encodes a query-string value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A binding as the agency's and the worker's pages list it: labels in the page's language and
/// the steps the viewing side may take, with their URL codes.
pub struct BindingRow {
    pub binding: jiazheng_store::registry::bindings::Binding,
    pub kind: String,
    pub status: String,
    pub steps: Vec<(&'static str, String)>,
}

impl BindingRow {
    pub fn new(binding: jiazheng_store::registry::bindings::Binding, lang: Lang, side: Side) -> Self {
        let en = lang.is_en();
        let steps = binding
            .state()
            .map(|state| state.actions_for(side))
            .unwrap_or_default()
            .into_iter()
            .map(|action| (action.code(), lang.t(&format!("binding.{}", action.code().replace('-', "_")))))
            .collect();
        Self {
            kind: BindingKind::parse(&binding.kind).map(|k| k.label(en).to_string()).unwrap_or_default(),
            status: BindingStatus::parse(&binding.status).map(|s| s.label(en).to_string()).unwrap_or_default(),
            steps,
            binding,
        }
    }
}

/// A form that carries nothing but its CSRF token (buttons that take one step).
#[derive(serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// A binding step posted from a page: `Ok(None)` when taken, `Ok(Some(message))` when the
/// binding cannot take it now (the page shows it again with the message), errors otherwise.
pub async fn binding_step_from_page(
    state: &AppState,
    viewer: &Viewer,
    lang: Lang,
    id: i64,
    action: &str,
    csrf: &str,
) -> Result<Option<String>, AppError> {
    viewer.check_csrf(Some(csrf))?;
    match crate::api::bindings::take_step(state, viewer, id, action).await {
        Ok(_) => Ok(None),
        Err(AppError::Conflict { message_zh, message_en, .. }) => {
            Ok(Some(lang.pick(&message_zh, &message_en).to_string()))
        }
        Err(other) => Err(other),
    }
}
