//! The market as residents see it: sign in with a phone code, set the household, find a worker,
//! book at the published price, follow the order, rate it. And the public price lists.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::cookie::{Cookie, SameSite};
use axum_extra::extract::{CookieJar, Form};
use jiazheng_core::FieldErrors;
use jiazheng_core::credit::casework::RatingForm;
use jiazheng_core::market::menu::{Unit, yuan};
use jiazheng_core::market::slot::Slot;
use jiazheng_core::market::{CatalogItem, OrderStatus, OrderStep, Party, PriceMode};
use jiazheng_core::workforce::SkillLevel;
use jiazheng_store::PageRequest;
use jiazheng_store::market::menus::{MenuRow, PriceRow};
use jiazheng_store::market::orders::{OrderEvent, OrderRow};
use jiazheng_store::market::residents::ResidentProfile;
use jiazheng_store::market::search::AvailableWorker;
use jiazheng_store::registry::divisions::Division;
use serde::Deserialize;

use super::{Chrome, Pager, beijing_minutes, field_message, render};
use crate::auth::{LOGIN_CSRF_COOKIE, Viewer, constant_time_eq, expired_cookie, session_cookie};
use crate::i18n::Lang;
use crate::limits::ClientAddr;
use crate::market::{BookingForm, SearchForm, StepForm};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/phone", get(phone_form).post(phone_sign_in))
        .route("/market/login", get(|| async { Redirect::permanent("/login/phone") }))
        .route("/login/phone/code", post(phone_code))
        .route("/my/profile", get(profile).post(save_profile))
        .route("/my/profile/delete", post(delete_account))
        .route("/market", get(find))
        .route("/market/book", get(book_form))
        .route("/my/orders", get(my_orders).post(place_order))
        .route("/my/orders/{id}", get(my_order))
        .route("/my/orders/{id}/step", post(resident_step))
        .route("/my/orders/{id}/rating", post(rate_order))
        .route("/agencies/{id}/prices", get(agency_prices))
        .route("/prices/{id}", get(price_history))
}

// ---- words shared by the market's pages -------------------------------------------------

/// "¥45.00 / 小时（2 小时起）", "¥120.00 / 次（约 2 小时）", "¥16,800.00 / 26 天".
pub fn price_text(lang: Lang, mode: &str, amount: i64, price_fen: i64) -> String {
    let price = yuan(price_fen);
    let en = lang.is_en();
    match PriceMode::parse(mode) {
        Ok(PriceMode::PerHour) => {
            if en {
                format!("{price} / hour (at least {amount} h)")
            } else {
                format!("{price} / 小时（{amount} 小时起）")
            }
        }
        Ok(PriceMode::Package) => {
            if en {
                format!("{price} / {amount} days")
            } else {
                format!("{price} / {amount} 天")
            }
        }
        _ => {
            let length =
                if amount % 60 == 0 { format!("{}", amount / 60) } else { format!("{:.1}", amount as f64 / 60.0) };
            if en {
                format!("{price} / visit (about {length} h)")
            } else {
                format!("{price} / 次（约 {length} 小时）")
            }
        }
    }
}

pub fn item_label(lang: Lang, code: &str) -> &'static str {
    CatalogItem::label_of(code, lang.is_en())
}

pub fn level_label(lang: Lang, code: &str) -> &'static str {
    SkillLevel::label_of(code, lang.is_en())
}

pub fn status_label(lang: Lang, code: &str) -> &'static str {
    OrderStatus::label_of(code, lang.is_en())
}

pub fn step_label(lang: Lang, code: &str) -> &'static str {
    OrderStep::label_of(code, lang.is_en())
}

pub fn party_label(lang: Lang, code: &str) -> &'static str {
    Party::label_of(code, lang.is_en())
}

/// When an order runs, in Beijing time.
pub fn when(order: &OrderRow) -> String {
    order.slot().describe()
}

/// The cancellation terms as a sentence.
pub fn terms_text(lang: Lang, free_hours: i64, fee_percent: i64) -> String {
    match (lang.is_en(), fee_percent) {
        (false, 0) => "随时免费取消".into(),
        (true, 0) => "free to cancel at any time".into(),
        (false, _) => format!("开始前 {free_hours} 小时以上取消免费，之后取消收取 {fee_percent}%"),
        (true, _) => format!("free to cancel until {free_hours} h before the start; {fee_percent}% after that"),
    }
}

/// An order step as a history line: who, what, when, why.
pub struct EventLine {
    pub at: String,
    pub what: String,
    /// The account's shown name: a person's own words.
    pub actor: String,
    pub party: &'static str,
    pub reason: String,
}

pub fn event_lines(lang: Lang, events: &[OrderEvent]) -> Vec<EventLine> {
    events
        .iter()
        .map(|e| EventLine {
            at: beijing_minutes(e.at),
            what: format!("{} → {}", step_label(lang, &e.step), status_label(lang, &e.to_status)),
            actor: e.actor_name.clone(),
            party: party_label(lang, &e.party),
            reason: e.reason.clone(),
        })
        .collect()
}

// ---- sign in with a phone code --------------------------------------------------------

#[derive(Template)]
#[template(path = "phone_login.html")]
struct PhoneLoginPage {
    chrome: Chrome,
    token: String,
    phone: String,
    /// "Sent to 138****5678": the code field is shown.
    sent_to: Option<String>,
    phone_error: Option<String>,
    code_error: Option<String>,
    /// The booking to return to once signed in.
    next: String,
}

fn phone_page(
    lang: Lang,
    jar: CookieJar,
    phone: String,
    sent_to: Option<String>,
    errors: &FieldErrors,
    status: StatusCode,
    next: &str,
) -> Result<Response, AppError> {
    let token = hex::encode(jiazheng_store::crypto::random_bytes::<16>());
    let cookie =
        Cookie::build((LOGIN_CSRF_COOKIE, token.clone())).http_only(true).same_site(SameSite::Strict).path("/login");
    let mut chrome = Chrome::anonymous(lang, "/login/phone", lang.t("phone_login.title"));
    chrome.csrf = token.clone();
    let page = PhoneLoginPage {
        chrome,
        token,
        phone,
        sent_to,
        phone_error: field_message(errors, lang, "phone"),
        code_error: field_message(errors, lang, "code"),
        next: booking_return(next).unwrap_or_default().to_string(),
    };
    Ok((status, jar.add(cookie), render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn phone_form(lang: Lang, jar: CookieJar, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    phone_page(lang, jar, String::new(), None, &FieldErrors::default(), StatusCode::OK, &q.next)
}

#[derive(Deserialize)]
struct PhoneForm {
    csrf: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

fn login_csrf(jar: &CookieJar, presented: &str) -> Result<(), AppError> {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), presented.as_bytes()) {
        return Err(AppError::BadRequest("missing or stale form token (CSRF); reload the page".into()));
    }
    Ok(())
}

/// An error said on the sign-in page itself, beside the field it concerns.
fn as_field_error(error: &AppError, lang: Lang, field: &str) -> FieldErrors {
    match error {
        AppError::Invalid(errors) => errors.clone(),
        other => {
            let body = other.body();
            let message = lang.pick(&body.error.message_zh, &body.error.message).to_string();
            FieldErrors(vec![jiazheng_core::field::Invalid::new("refused", message.clone(), message).at(field)])
        }
    }
}

async fn phone_code(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<PhoneForm>,
) -> Result<Response, AppError> {
    login_csrf(&jar, &form.csrf)?;
    match crate::market::send_sign_in_code(&state, peer, &form.phone).await {
        Ok(phone) => {
            let sent = Some(phone.masked());
            phone_page(lang, jar, phone.as_str().to_string(), sent, &FieldErrors::default(), StatusCode::OK, &form.next)
        }
        Err(error @ (AppError::Invalid(_) | AppError::TooManyAttempts { .. } | AppError::DailyLimit { .. })) => {
            let status = error.status();
            // Asked again within the minute: the code sent before still works.
            let sent = matches!(error, AppError::TooManyAttempts { .. })
                .then(|| jiazheng_core::ids::Mobile::parse(&form.phone).ok().map(|p| p.masked()))
                .flatten();
            phone_page(lang, jar, form.phone, sent, &as_field_error(&error, lang, "phone"), status, &form.next)
        }
        Err(other) => Err(other),
    }
}

async fn phone_sign_in(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    lang: Lang,
    jar: CookieJar,
    Form(form): Form<PhoneForm>,
) -> Result<Response, AppError> {
    login_csrf(&jar, &form.csrf)?;
    match crate::market::sign_in_with_code(&state, peer, &form.phone, &form.code).await {
        Ok((token, _)) => {
            if let Some(old) = jar.get(crate::auth::SESSION_COOKIE) {
                state.store.end_session(old.value()).await?;
            }
            let jar =
                jar.remove(expired_cookie(LOGIN_CSRF_COOKIE)).add(session_cookie(token, state.config.secure_cookies));
            Ok((jar, Redirect::to(booking_return(&form.next).unwrap_or("/market"))).into_response())
        }
        Err(error @ (AppError::Invalid(_) | AppError::TooManyAttempts { .. })) => {
            let status = error.status();
            let sent = jiazheng_core::ids::Mobile::parse(&form.phone).ok().map(|p| p.masked());
            phone_page(lang, jar, form.phone, sent, &as_field_error(&error, lang, "code"), status, &form.next)
        }
        Err(other) => Err(other),
    }
}

// ---- the household ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "my_profile.html")]
struct ProfilePage {
    chrome: Chrome,
    profile: ResidentProfile,
    streets: std::sync::Arc<Vec<crate::StreetGroup>>,
    communities: Vec<Division>,
    street: String,
    community: String,
    address: String,
    errors: FieldErrors,
    saved: bool,
    /// The booking to return to once the address is saved.
    next: String,
}

/// Only a booking page or a survey of our own is a place to return to after signing in by phone.
fn booking_return(next: &str) -> Option<&str> {
    let survey =
        next.strip_prefix("/surveys/").is_some_and(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    ((next.starts_with("/market/book?") && !next.contains("//") && !next.contains('\\')) || survey).then_some(next)
}

impl ProfilePage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

#[derive(Deserialize, Default)]
struct PlaceQuery {
    #[serde(default)]
    street: String,
    #[serde(default)]
    saved: Option<u8>,
    #[serde(default)]
    next: String,
}

fn resident_id(viewer: &Viewer) -> Result<i64, AppError> {
    Ok(viewer.require_role(&[jiazheng_core::account::Role::Resident])?.principal.account_id)
}

/// What the household form holds as typed: the street picked, the community, the address.
#[derive(Default)]
struct Household {
    street: String,
    community: String,
    address: String,
}

impl Household {
    /// Digits only, cut to their lengths; a community outside the street is dropped.
    fn tidy(street: &str, community: &str, address: String) -> Self {
        let digits = |raw: &str, n: usize| raw.chars().filter(char::is_ascii_digit).take(n).collect::<String>();
        let street = digits(street, 9);
        let community = digits(community, 12);
        let community = if street.is_empty() || community.starts_with(&street) { community } else { String::new() };
        Self { street, community, address }
    }
}

async fn profile_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    typed: Option<Household>,
    errors: FieldErrors,
    saved: bool,
    next: &str,
) -> Result<ProfilePage, AppError> {
    let me = resident_id(viewer)?;
    let profile = state.store.resident_profile(me).await?;
    // Until something is typed, the form opens on the household on record.
    let Household { street, community, address } = typed.unwrap_or_else(|| Household {
        street: profile.community_code.as_deref().and_then(|c| c.get(..9)).unwrap_or_default().to_string(),
        community: profile.community_code.clone().unwrap_or_default(),
        address: profile.address.clone().unwrap_or_default(),
    });
    let street = if street.is_empty() { community.get(..9).unwrap_or_default().to_string() } else { street };
    let communities = if street.len() == 9 {
        state.store.child_divisions(Some(&format!("{street:0<12}"))).await?
    } else {
        Vec::new()
    };
    Ok(ProfilePage {
        chrome: Chrome::new(lang, viewer, "/my/profile", lang.t("profile.title")),
        profile,
        streets: state.street_groups().await?,
        communities,
        street,
        community,
        address,
        errors,
        saved,
        next: booking_return(next).unwrap_or_default().to_string(),
    })
}

async fn profile(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PlaceQuery>,
) -> Result<Response, AppError> {
    let typed = (!q.street.is_empty()).then(|| Household::tidy(&q.street, "", String::new()));
    let page = profile_page(&state, lang, &viewer, typed, FieldErrors::default(), q.saved.is_some(), &q.next).await?;
    render(&page)
}

#[derive(Deserialize)]
struct HouseholdPost {
    csrf: String,
    /// `place`: show the communities of the street picked, keeping what was typed; no save.
    #[serde(default)]
    step: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    next: String,
}

async fn save_profile(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<HouseholdPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = resident_id(&viewer)?;
    let typed = Household::tidy(&form.street, &form.community, form.address.clone());
    if form.step == "place" {
        let page = profile_page(&state, lang, &viewer, Some(typed), FieldErrors::default(), false, &form.next).await?;
        return render(&page);
    }
    match state.store.set_resident_address(me, &form.community, &form.address).await {
        Ok(()) => Ok(Redirect::to(booking_return(&form.next).unwrap_or("/my/profile?saved=1")).into_response()),
        Err(jiazheng_store::StoreError::Invalid(errors)) => {
            let page = profile_page(&state, lang, &viewer, Some(typed), errors, false, &form.next).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct DeletePost {
    csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

async fn delete_account(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<DeletePost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = resident_id(&viewer)?;
    let outcome = match form.confirm {
        None => Err(jiazheng_store::StoreError::Invalid(FieldErrors(vec![
            jiazheng_core::field::Invalid::new("confirm", "请勾选确认注销", "tick the box to confirm").at("confirm"),
        ]))),
        Some(_) => state.store.erase_resident(me).await,
    };
    match outcome {
        Ok(()) => {
            Ok((jar.remove(expired_cookie(crate::auth::SESSION_COOKIE)), Redirect::to("/?erased=1")).into_response())
        }
        Err(jiazheng_store::StoreError::Invalid(errors)) => {
            let page = profile_page(&state, lang, &viewer, None, errors, false, "").await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// ---- find and book ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "market.html")]
struct FindPage {
    chrome: Chrome,
    form: SearchForm,
    items: Vec<(&'static str, &'static str)>,
    districts: Vec<Division>,
    times: Vec<String>,
    searched: bool,
    workers: Vec<AvailableWorker>,
    next: Option<String>,
    offers: Vec<MenuRow>,
    errors: FieldErrors,
}

impl FindPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn price(&self, w: &AvailableWorker) -> String {
        price_text(self.chrome.lang, &w.mode, w.amount, w.price_fen)
    }

    fn offer_price(&self, m: &MenuRow) -> String {
        price_text(self.chrome.lang, &m.mode, m.amount, m.price_fen)
    }

    fn level(&self, code: &str) -> &'static str {
        level_label(self.chrome.lang, code)
    }

    fn book_link(&self, menu: &i64, worker: Option<&i64>) -> String {
        let f = &self.form;
        let mut link = format!(
            "/market/book?menu={menu}&date={}&time={}&hours={}",
            super::encode(&f.date),
            super::encode(&f.time),
            super::encode(&f.hours)
        );
        if let Some(w) = worker {
            link.push_str(&format!("&worker={w}"));
        }
        link
    }
}

/// Half-hour start times a person would book: 06:00 to 21:30.
fn start_times() -> Vec<String> {
    (12..44).map(|h| format!("{:02}:{:02}", h / 2, (h % 2) * 30)).collect()
}

async fn find(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(mut form): Query<SearchForm>,
) -> Result<Response, AppError> {
    // Asked with a time or place but no item: said, not silently ignored.
    let searched = !form.item.is_empty() || !form.mode.is_empty() || !form.district.is_empty() || !form.date.is_empty();
    if form.date.is_empty() {
        form.date = (crate::api::workers::today() + chrono::Duration::days(1)).to_string();
    }
    if form.time.is_empty() {
        form.time = "09:00".into();
    }
    if form.hours.is_empty() {
        form.hours = "2".into();
    }
    let mut errors = FieldErrors::default();
    let mut workers = Vec::new();
    let mut next = None;
    let mut offers = Vec::new();
    if searched {
        match crate::market::search(&state, &viewer, &form).await {
            Ok((search, found)) => {
                workers = found.workers;
                next = found.next_after.map(|after| {
                    format!(
                        "/market?item={}&mode={}&date={}&time={}&hours={}&days={}&district={}&level={}&after={after}",
                        search.item.as_str(),
                        search.mode.as_str(),
                        super::encode(&form.date),
                        super::encode(&form.time),
                        super::encode(&form.hours),
                        super::encode(&form.days),
                        super::encode(&form.district),
                        super::encode(&form.level)
                    )
                });
                let district = form.district.get(..6).map(|d| format!("{d:0<12}"));
                let page = PageRequest::new(Some(1), Some(20));
                let level = SkillLevel::parse(form.level.trim()).ok();
                offers = state
                    .store
                    .offers_sold_as(search.item, Some(search.mode), level, district.as_deref(), page)
                    .await?
                    .items;
            }
            Err(AppError::Invalid(found)) => errors = found,
            Err(other) => return Err(other),
        }
    }
    let status = if errors.0.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = FindPage {
        chrome: Chrome::new(lang, &viewer, "/market", lang.t("market.title")),
        items: CatalogItem::ALL.iter().map(|i| (i.as_str(), i.label(lang.is_en()))).collect(),
        districts: state.districts().await?.to_vec(),
        times: start_times(),
        searched,
        workers,
        next,
        offers,
        errors,
        form,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage {
    chrome: Chrome,
    menu: MenuRow,
    form: BookingForm,
    worker_name: Option<String>,
    slot: Option<Slot>,
    total: Option<String>,
    terms: String,
    price: String,
    profile: ResidentProfile,
    key: String,
    errors: FieldErrors,
    /// A refusal that is not one field's (the worker is taken then).
    problem: Option<String>,
    times: Vec<String>,
    /// Said before booking when the slot is already inside the paid-cancellation window.
    fee_warning: Option<String>,
    /// The resident's subsidy this year, as offered beside the button: category and what is left.
    subsidy: Option<String>,
}

impl BookPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn shown(&self) -> String {
        shown_slot(&self.form)
    }

    fn item(&self) -> &'static str {
        item_label(self.chrome.lang, &self.menu.item)
    }

    fn level(&self) -> &'static str {
        level_label(self.chrome.lang, &self.menu.level)
    }

    /// The profile page that comes back to this booking once the address is saved.
    fn profile_link(&self) -> String {
        let f = &self.form;
        let mut back = format!(
            "/market/book?menu={}&date={}&time={}&hours={}",
            self.menu.id,
            super::encode(&f.date),
            super::encode(&f.time),
            super::encode(&f.hours)
        );
        if let Some(w) = f.worker_id {
            back.push_str(&format!("&worker={w}"));
        }
        format!("/my/profile?next={}", super::encode(&back))
    }

    fn by_hour(&self) -> bool {
        self.menu.mode == PriceMode::PerHour.as_str()
    }

    fn is_package(&self) -> bool {
        self.menu.mode == PriceMode::Package.as_str()
    }
}

#[derive(Deserialize)]
struct BookQuery {
    menu: i64,
    worker: Option<i64>,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    hours: String,
}

#[allow(clippy::too_many_arguments)]
async fn book_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: BookingForm,
    key: String,
    errors: FieldErrors,
    problem: Option<String>,
) -> Result<BookPage, AppError> {
    let me = resident_id(viewer)?;
    let menu = state.store.menu_item(form.menu_item_id).await?;
    let unit = menu.unit()?;
    let slot = jiazheng_core::market::slot::SlotForm {
        date: form.date.clone(),
        time: form.time.clone(),
        hours: form.hours.clone(),
    }
    .parse(unit, chrono::Utc::now())
    .ok();
    let quantity = match (unit, slot) {
        (Unit::Hours { .. }, Some(s)) => s.minutes() / 60,
        _ => 1,
    };
    let worker_name = match form.worker_id {
        Some(id) => Some(jiazheng_core::credit::certificate::mask_name(&state.store.worker(id).await?.name)),
        None => None,
    };
    let fee_warning = slot
        .filter(|s| {
            (s.start - chrono::Utc::now()).num_minutes() < menu.free_cancel_hours * 60 && menu.cancel_fee_percent > 0
        })
        .map(|_| {
            let fee = menu.price_fen * quantity * menu.cancel_fee_percent / 100;
            format!("{}{}", lang.t("book.fee_warning"), yuan(fee))
        });
    let year = chrono::Datelike::year(&slot.map_or_else(jiazheng_core::calendar::beijing_today, |s| s.day()));
    let subsidy = state.store.live_grant_of_resident(me, year).await?.map(|g| {
        let category = g.category().map_or("", |c| if lang.is_en() { c.label_en() } else { c.label_zh() });
        let left = g.quota().show(g.left(), lang.is_en());
        format!("{category} · {}{left}", lang.t("subsidy.left"))
    });
    Ok(BookPage {
        subsidy,
        chrome: Chrome::new(lang, viewer, "/market/book", lang.t("book.title")),
        fee_warning,
        total: slot.map(|_| yuan(menu.price_fen * quantity)),
        terms: terms_text(lang, menu.free_cancel_hours, menu.cancel_fee_percent),
        price: price_text(lang, &menu.mode, menu.amount, menu.price_fen),
        profile: state.store.resident_profile(me).await?,
        menu,
        form,
        worker_name,
        slot,
        key,
        errors,
        problem,
        times: start_times(),
    })
}

async fn book_form(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    uri: axum::http::Uri,
    Query(q): Query<BookQuery>,
) -> Result<Response, AppError> {
    if viewer.session.is_none() {
        // Signed in, the resident comes back to this booking.
        let here = uri.path_and_query().map_or("/market", |p| p.as_str());
        return Ok(Redirect::to(&format!("/login/phone?next={}", super::encode(here))).into_response());
    }
    let form = BookingForm {
        menu_item_id: q.menu,
        date: q.date,
        time: q.time,
        hours: q.hours,
        worker_id: q.worker,
        note: String::new(),
        price_fen: None,
        menu_version: None,
        subsidy: false,
    };
    // One key per page: a double click or a resend books once.
    let key = hex::encode(jiazheng_store::crypto::random_bytes::<16>());
    render(&book_page(&state, lang, &viewer, form, key, FieldErrors::default(), None).await?)
}

#[derive(Deserialize)]
struct BookPost {
    csrf: String,
    key: String,
    menu_item_id: i64,
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    worker_id: Option<i64>,
    #[serde(default)]
    note: String,
    /// The unit price the page showed.
    #[serde(default)]
    price_fen: Option<i64>,
    /// The menu item's version (length and terms) the page showed.
    #[serde(default)]
    menu_version: Option<i64>,
    /// The date, time and hours whose total the page showed.
    #[serde(default)]
    shown: String,
    /// The resident ticked "paid by my subsidy".
    #[serde(default)]
    subsidy: bool,
}

/// What a booking page's total was worked out for.
fn shown_slot(form: &BookingForm) -> String {
    format!("{}|{}|{}", form.date.trim(), form.time.trim(), form.hours.trim())
}

async fn place_order(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<BookPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let form = BookingForm {
        menu_item_id: post.menu_item_id,
        date: post.date,
        time: post.time,
        hours: post.hours,
        worker_id: post.worker_id,
        note: post.note,
        price_fen: post.price_fen,
        menu_version: post.menu_version,
        subsidy: post.subsidy,
    };
    if post.shown != shown_slot(&form) {
        // The time or length changed on the page: show the new total before anything is booked.
        let notice = Some(lang.t("book.check_again"));
        let page = book_page(&state, lang, &viewer, form, post.key, FieldErrors::default(), notice).await?;
        return render(&page);
    }
    match crate::market::book(&state, &viewer, &form, Some(&post.key)).await {
        Ok(booked) => Ok(Redirect::to(&format!("/my/orders/{}?placed=1", booked.order.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = book_page(&state, lang, &viewer, form, post.key, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(conflict @ AppError::Conflict { .. }) => {
            let body = conflict.body();
            let message = lang.pick(&body.error.message_zh, &body.error.message).to_string();
            // A new key: the resident will change the time or the worker and try again.
            let key = hex::encode(jiazheng_store::crypto::random_bytes::<16>());
            let page = book_page(&state, lang, &viewer, form, key, FieldErrors::default(), Some(message)).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

// ---- my orders --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "my_orders.html")]
struct MyOrdersPage {
    chrome: Chrome,
    orders: Vec<OrderRow>,
    pager: Pager,
}

impl MyOrdersPage {
    fn item(&self, code: &str) -> &'static str {
        item_label(self.chrome.lang, code)
    }

    fn status(&self, code: &str) -> &'static str {
        status_label(self.chrome.lang, code)
    }
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u32>,
}

async fn my_orders(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let me = resident_id(&viewer)?;
    let page = state.store.orders_of_resident(me, PageRequest::new(q.page, Some(20))).await?;
    let pager = Pager::new(&page, "/my/orders", "");
    render(&MyOrdersPage {
        chrome: Chrome::new(lang, &viewer, "/my/orders", lang.t("orders.mine")),
        orders: page.items,
        pager,
    })
}

#[derive(Template)]
#[template(path = "my_order.html")]
struct MyOrderPage {
    chrome: Chrome,
    order: OrderRow,
    address: String,
    events: Vec<EventLine>,
    steps: Vec<OrderStep>,
    /// What cancelling now costs, said before the button.
    cancel_fee: String,
    placed: bool,
    errors: FieldErrors,
    reason: String,
    /// The step whose form was refused: its errors and typed words stay in that form only.
    failed_step: String,
    /// Community, street and district as people read them.
    place: String,
    /// The resident's rating, once given.
    rating: Option<jiazheng_core::credit::casework::Rating>,
    /// A rating refused, as typed.
    typed_rating: RatingForm,
    contract: super::contracts::ContractCard,
    /// The contract name and ID number as typed, when refused.
    typed_identity: (String, String),
    payment: crate::payments::PaymentView,
}

impl MyOrderPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn pay_state(&self) -> &'static str {
        self.payment.state.label(self.chrome.lang.is_en())
    }

    fn refund_status(&self, code: &str) -> &'static str {
        jiazheng_core::market::payment::RefundStatus::label_of(code, self.chrome.lang.is_en())
    }

    /// What was typed in one field of a refused rating.
    fn typed_in_rating(&self, field: &str) -> &str {
        let r = &self.typed_rating;
        match field {
            "quality" => &r.quality,
            "punctuality" => &r.punctuality,
            "attitude" => &r.attitude,
            "communication" => &r.communication,
            _ => &r.comment,
        }
    }

    /// Each dimension of a rating: its label, the stars and the stars drawn (★★★★☆).
    fn rating_lines(&self, r: &jiazheng_core::credit::casework::Rating) -> Vec<(String, i64, String)> {
        [
            ("services.quality", r.quality),
            ("services.punctuality", r.punctuality),
            ("services.attitude", r.attitude),
            ("services.communication", r.communication),
        ]
        .into_iter()
        .map(|(key, stars)| {
            let drawn = (1..=5).map(|n| if n <= stars { '★' } else { '☆' }).collect();
            (self.chrome.t(key), stars, drawn)
        })
        .collect()
    }

    fn err_in(&self, step: &str, field: &str) -> Option<String> {
        if self.failed_step == step { self.err(field) } else { None }
    }

    fn typed(&self, step: &str) -> &str {
        if self.failed_step == step { &self.reason } else { "" }
    }

    fn chosen(&self) -> Option<String> {
        self.order.requested_worker_name.as_deref().map(jiazheng_core::credit::certificate::mask_name)
    }

    fn item(&self) -> &'static str {
        item_label(self.chrome.lang, &self.order.item)
    }

    fn status(&self) -> &'static str {
        status_label(self.chrome.lang, &self.order.status)
    }

    fn can(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s.as_str() == step)
    }

    fn when(&self) -> String {
        when(&self.order)
    }

    fn money(&self, fen: &i64) -> String {
        yuan(*fen)
    }

    fn terms(&self) -> String {
        terms_text(self.chrome.lang, self.order.free_cancel_hours, self.order.cancel_fee_percent)
    }
}

#[allow(clippy::too_many_arguments)]
async fn order_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    headers: &axum::http::HeaderMap,
    id: i64,
    placed: bool,
    errors: FieldErrors,
    reason: String,
    failed_step: String,
) -> Result<MyOrderPage, AppError> {
    let me = resident_id(viewer)?;
    let who = &viewer.require()?.principal;
    let (order, party) = state.store.order_for(id, who).await?;
    if order.resident_account_id != me {
        return Err(AppError::NotFound);
    }
    let fee = jiazheng_store::market::orders::cancel_fee(&order, party, chrono::Utc::now());
    let cancel_fee =
        if fee == 0 { lang.t("orders.cancel_free") } else { format!("{}{}", lang.t("orders.cancel_fee"), yuan(fee)) };
    let payment = crate::payments::view(&state.store, &state.payments, &order).await?;
    Ok(MyOrderPage {
        payment,
        chrome: Chrome::new(lang, viewer, &format!("/my/orders/{id}"), lang.t("orders.one")),
        address: state.store.order_address(&order).await?,
        events: event_lines(lang, &state.store.order_events(id).await?),
        steps: crate::market::steps_for(&order, party),
        cancel_fee,
        place: state.store.place_name(&order.community_code, &order.community_name).await?,
        rating: state.store.rating_of_order(&order).await?,
        typed_rating: RatingForm::default(),
        contract: super::contracts::contract_card(
            state,
            lang,
            &order,
            headers,
            jiazheng_core::market::contract::Signer::Resident,
        )
        .await?,
        typed_identity: Default::default(),
        order,
        placed,
        errors,
        reason,
        failed_step,
    })
}

#[derive(Deserialize)]
struct PlacedQuery {
    placed: Option<u8>,
}

async fn my_order(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<PlacedQuery>,
) -> Result<Response, AppError> {
    render(
        &order_page(
            &state,
            lang,
            &viewer,
            &headers,
            id,
            q.placed.is_some(),
            FieldErrors::default(),
            String::new(),
            String::new(),
        )
        .await?,
    )
}

#[derive(Deserialize)]
struct StepPost {
    csrf: String,
    step: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    worker_id: Option<i64>,
}

/// A step posted from a page; a refusal shows the order again with the reason beside the form.
pub async fn step_from_page(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    step: &str,
    reason: &str,
    worker_id: Option<i64>,
) -> Result<Result<(), FieldErrors>, AppError> {
    let form = StepForm { step: step.to_string(), worker_id, reason: reason.to_string() };
    match crate::market::take_step(state, viewer, id, &form).await {
        Ok(_) => Ok(Ok(())),
        Err(AppError::Invalid(errors)) => Ok(Err(errors)),
        Err(conflict @ AppError::Conflict { .. }) => {
            let body = conflict.body();
            let invalid = jiazheng_core::field::Invalid::new("conflict", body.error.message_zh, body.error.message);
            Ok(Err(FieldErrors(vec![invalid.at("step")])))
        }
        Err(other) => Err(other),
    }
}

async fn resident_step(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Form(post): Form<StepPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    resident_id(&viewer)?;
    match step_from_page(&state, &viewer, id, &post.step, &post.reason, post.worker_id).await? {
        Ok(()) => Ok(Redirect::to(&format!("/my/orders/{id}")).into_response()),
        Err(errors) => {
            let page = order_page(&state, lang, &viewer, &headers, id, false, errors, post.reason, post.step).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize)]
struct RatingPost {
    csrf: String,
    #[serde(flatten)]
    rating: RatingForm,
}

async fn rate_order(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Form(post): Form<RatingPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = &viewer.require_role(&[jiazheng_core::account::Role::Resident])?.principal;
    let outcome = match post.rating.parse() {
        Ok(rating) => state.store.rate_order(id, who, &rating).await.map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/my/orders/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let mut page =
                order_page(&state, lang, &viewer, &headers, id, false, errors, String::new(), "rate".into()).await?;
            page.typed_rating = post.rating;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

/// The order again with the contract identity form refused: its errors beside the fields and
/// the typed values kept.
#[allow(clippy::too_many_arguments)]
pub async fn order_with_identity_errors(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    headers: &axum::http::HeaderMap,
    id: i64,
    errors: FieldErrors,
    legal_name: String,
    id_number: String,
) -> Result<Response, AppError> {
    let mut page =
        order_page(state, lang, viewer, headers, id, false, errors, String::new(), "identity".into()).await?;
    page.typed_identity = (legal_name, id_number);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

// ---- public price lists -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "agency_prices.html")]
struct AgencyPricesPage {
    chrome: Chrome,
    agency: jiazheng_store::registry::agencies::Agency,
    menu: Vec<MenuRow>,
}

impl AgencyPricesPage {
    fn item(&self, code: &str) -> &'static str {
        item_label(self.chrome.lang, code)
    }

    fn price(&self, m: &MenuRow) -> String {
        price_text(self.chrome.lang, &m.mode, m.amount, m.price_fen)
    }

    fn level(&self, code: &str) -> &'static str {
        level_label(self.chrome.lang, code)
    }

    fn terms(&self, m: &MenuRow) -> String {
        terms_text(self.chrome.lang, m.free_cancel_hours, m.cancel_fee_percent)
    }

    fn since(&self, m: &MenuRow) -> String {
        beijing_minutes(m.price_since).chars().take(10).collect()
    }
}

async fn agency_prices(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    crate::reads::page(&state, &viewer, lang, &format!("prices|{id}"), async {
        let agency = state.store.agency(id).await?;
        let menu = state.store.menu_of_agency(id).await?;
        let title = format!("{} · {}", agency.name, lang.t("prices.title"));
        let chrome = Chrome::new(lang, &viewer, &format!("/agencies/{id}/prices"), title);
        super::html(&AgencyPricesPage { chrome, agency, menu })
    })
    .await
}

#[derive(Template)]
#[template(path = "price_history.html")]
struct PriceHistoryPage {
    chrome: Chrome,
    menu: MenuRow,
    prices: Vec<PriceRow>,
    /// The Beijing day the item left the menu, if it has.
    withdrawn: Option<String>,
}

impl PriceHistoryPage {
    fn item(&self) -> &'static str {
        item_label(self.chrome.lang, &self.menu.item)
    }

    fn price(&self, p: &PriceRow) -> String {
        price_text(self.chrome.lang, &self.menu.mode, self.menu.amount, p.price_fen)
    }

    fn change(&self, p: &PriceRow) -> String {
        match p.previous_fen {
            None => self.chrome.t("prices.first"),
            Some(old) => {
                let pct = jiazheng_core::market::menu::increase_percent(old, p.price_fen);
                format!("{} → {}（{:+.1}%）", yuan(old), yuan(p.price_fen), pct)
            }
        }
    }

    fn at(&self, p: &PriceRow) -> String {
        beijing_minutes(p.effective_from)
    }
}

async fn price_history(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (menu, withdrawn) = state.store.published_item(id).await?;
    let withdrawn = withdrawn.map(|at| jiazheng_core::calendar::beijing_date(at).to_string());
    let prices = state.store.price_history(id).await?;
    let title = format!("{} · {}", menu.agency_name, lang.t("prices.history"));
    let chrome = Chrome::new(lang, &viewer, &format!("/prices/{id}"), title);
    render(&PriceHistoryPage { chrome, menu, prices, withdrawn })
}
