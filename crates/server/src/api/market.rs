//! The market: the catalog, agencies' menus and price history, available workers, residents'
//! sign-in by phone and their household, orders and every step on them, workers' shifts and
//! leave, and the regulator's list of price rises.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::credit::casework::RatingForm;
use jiazheng_core::market::menu::MenuForm;
use jiazheng_core::market::slot::{LeaveForm, WeekForm};
use jiazheng_core::market::{CatalogItem, OrderStep, PriceMode};
use jiazheng_store::PageRequest;
use jiazheng_store::market::availability::BookingRow;
use jiazheng_store::market::menus::{MenuRow, PriceRise, PriceRow};
use jiazheng_store::market::orders::{Board, OrderEvent, OrderRow};
use jiazheng_store::market::residents::ResidentProfile;
use jiazheng_store::market::search::AvailableWorker;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::workers::today;
use super::{ApiJson, ApiQuery, PageOf};
use crate::auth::Viewer;
use crate::limits::ClientAddr;
use crate::market::{BookingForm, SearchForm, StepForm};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(catalog))
        .route("/agencies/{id}/menu", get(agency_menu))
        .route("/menu-items/{id}/prices", get(price_history))
        .route("/market/offers", get(offers))
        .route("/market/workers", get(available))
        .route("/resident/codes", post(send_code))
        .route("/resident/session", post(resident_session))
        .route("/resident/profile", get(profile).put(set_profile).delete(erase))
        .route("/agency/menu", post(publish))
        .route("/agency/menu/{id}", put(update_item).delete(withdraw))
        .route("/workers/{id}/shifts", get(shifts).put(set_shifts))
        .route("/workers/{id}/calendar", get(calendar))
        .route("/workers/{id}/leave", post(add_leave))
        .route("/workers/{id}/leave/{leave_id}", axum::routing::delete(remove_leave))
        .route("/orders", post(create_order).get(orders))
        .route("/orders/{id}", get(order))
        .route("/orders/{id}/steps", post(step))
        .route("/orders/{id}/rating", post(rate))
        .route("/agency/next-day-assignment", post(assign_next_day))
        .route("/agency/next-day-assignment/nightly", put(set_nightly))
        .route("/regulator/price-rises", get(price_rises))
}

/// A catalog item with what it asks of a worker.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntry {
    pub code: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// How it may be sold.
    pub modes: Vec<PriceMode>,
    /// The health-check category a worker needs.
    pub health_category: jiazheng_core::workforce::HealthCategory,
    /// Whether a skill certificate is needed.
    pub certificate_needed: bool,
}

/// The items residents can book, each with the rules a worker must meet.
#[utoipa::path(get, path = "/api/v1/catalog", tag = "market", responses((status = 200, body = Vec<CatalogEntry>)))]
pub async fn catalog() -> Json<Vec<CatalogEntry>> {
    Json(
        CatalogItem::ALL
            .iter()
            .map(|item| {
                let needs = item.requirement(None);
                CatalogEntry {
                    code: item.as_str(),
                    label_zh: item.label_zh(),
                    label_en: item.label_en(),
                    modes: item.modes().to_vec(),
                    health_category: needs.health,
                    certificate_needed: !needs.skills.is_empty(),
                }
            })
            .collect(),
    )
}

/// An agency's published menu: each item with its price, since when, and cancellation terms.
#[utoipa::path(get, path = "/api/v1/agencies/{id}/menu", tag = "market", responses((status = 200, body = Vec<MenuRow>)))]
pub async fn agency_menu(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Vec<MenuRow>>, AppError> {
    state.store.agency(id).await?;
    Ok(Json(state.store.menu_of_agency(id).await?))
}

/// Every price an item has had, newest first.
#[utoipa::path(get, path = "/api/v1/menu-items/{id}/prices", tag = "market", responses((status = 200, body = Vec<PriceRow>)))]
pub async fn price_history(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PriceRow>>, AppError> {
    state.store.published_item(id).await?;
    Ok(Json(state.store.price_history(id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OffersQuery {
    /// Catalog item code.
    pub item: String,
    /// District code (6 or 12 digits).
    pub district: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// The prices of one item across agencies, cheapest first.
#[utoipa::path(get, path = "/api/v1/market/offers", tag = "market", params(OffersQuery), responses((status = 200, body = PageOf<MenuRow>)))]
pub async fn offers(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OffersQuery>,
) -> Result<Json<PageOf<MenuRow>>, AppError> {
    let item = CatalogItem::parse(&query.item).map_err(super::field_error("item"))?;
    let district = super::optional_division(query.district.as_deref()).map_err(super::field_error("district"))?;
    let district = district.map(|d| d.district().as_str().to_string());
    let page = PageRequest::new(query.page, query.per_page);
    Ok(Json(state.store.offers_of_item(item, district.as_deref(), page).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AvailableWorkers {
    pub workers: Vec<AvailableWorker>,
    /// Pass as `after` for the next page; absent when there is none.
    pub next_after: Option<i64>,
}

/// Workers free for the whole slot, on shift, and meeting the workforce rules for the item on
/// the day; a resident's earlier workers first. Names are masked.
#[utoipa::path(get, path = "/api/v1/market/workers", tag = "market", params(SearchForm),
    responses((status = 200, body = AvailableWorkers), (status = 422, body = crate::error::ErrorBody)))]
pub async fn available(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(form): ApiQuery<SearchForm>,
) -> Result<crate::cache::Body, AppError> {
    let found = crate::market::search(&state, &viewer, &form).await?.1;
    crate::reads::json(&AvailableWorkers { workers: found.workers, next_after: found.next_after })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeRequest {
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSent {
    pub phone_masked: String,
    pub expires_in_secs: i64,
}

/// Sends a six-digit sign-in code (5 minutes; one a minute, 10 a day per number, 30 a day per
/// address). Answers alike whether or not the number has an account.
#[utoipa::path(post, path = "/api/v1/resident/codes", tag = "market", request_body = CodeRequest,
    responses((status = 202, body = CodeSent), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn send_code(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<(StatusCode, Json<CodeSent>), AppError> {
    let phone = crate::market::send_sign_in_code(&state, peer, &body.phone).await?;
    let expires = jiazheng_core::market::sms::CODE_LIFETIME.num_seconds();
    Ok((StatusCode::ACCEPTED, Json(CodeSent { phone_masked: phone.masked(), expires_in_secs: expires })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeSignIn {
    pub phone: String,
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentSession {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// True on the first sign-in of this number: the account was made now.
    pub new_account: bool,
    pub expires_in_secs: i64,
}

/// Signs a resident in with the code sent to their phone; the first sign-in makes the account.
#[utoipa::path(post, path = "/api/v1/resident/session", tag = "market", request_body = CodeSignIn,
    responses((status = 200, body = ResidentSession), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn resident_session(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    ApiJson(body): ApiJson<CodeSignIn>,
) -> Result<Json<ResidentSession>, AppError> {
    let (token, new_account) = crate::market::sign_in_with_code(&state, peer, &body.phone, &body.code).await?;
    let expires_in_secs = jiazheng_store::accounts::SESSION_HOURS * 3600;
    Ok(Json(ResidentSession { token, new_account, expires_in_secs }))
}

fn resident(viewer: &Viewer) -> Result<i64, AppError> {
    Ok(viewer.require_role(&[Role::Resident])?.principal.account_id)
}

/// The signed-in resident's phone (masked) and household address.
#[utoipa::path(get, path = "/api/v1/resident/profile", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = ResidentProfile)))]
pub async fn profile(State(state): State<AppState>, viewer: Viewer) -> Result<Json<ResidentProfile>, AppError> {
    Ok(Json(state.store.resident_profile(resident(&viewer)?).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HouseholdForm {
    /// The community (12-digit division code) of the household.
    pub community: String,
    /// The rest of the address: building, unit, door.
    pub address: String,
}

/// Sets the household address (sealed at rest).
#[utoipa::path(put, path = "/api/v1/resident/profile", tag = "market", request_body = HouseholdForm, security(("bearer" = [])),
    responses((status = 200, body = ResidentProfile), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_profile(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<HouseholdForm>,
) -> Result<Json<ResidentProfile>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = resident(&viewer)?;
    state.store.set_resident_address(me, &form.community, &form.address).await?;
    Ok(Json(state.store.resident_profile(me).await?))
}

/// Deletes the account: phone, address and name erased; orders stay under a pseudonym for the
/// credit record. Refused while an order runs.
#[utoipa::path(delete, path = "/api/v1/resident/profile", tag = "market", security(("bearer" = [])),
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn erase(State(state): State<AppState>, viewer: Viewer, headers: HeaderMap) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    state.store.erase_resident(resident(&viewer)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publishes an item on the signed-in agency's menu.
#[utoipa::path(post, path = "/api/v1/agency/menu", tag = "market", request_body = MenuForm, security(("bearer" = [])),
    responses((status = 201, body = MenuRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<MenuForm>,
) -> Result<(StatusCode, Json<MenuRow>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (session, agency) = viewer.require_agency()?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let row = state.store.publish_menu_item(agency, &draft, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MenuUpdate {
    /// The version read; a change made since is refused (409).
    pub version: i64,
    #[serde(flatten)]
    pub form: MenuForm,
}

/// Changes an item's price, length, description or terms; a new price starts a history row.
#[utoipa::path(put, path = "/api/v1/agency/menu/{id}", tag = "market", request_body = MenuUpdate, security(("bearer" = [])),
    responses((status = 200, body = MenuRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_item(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MenuUpdate>,
) -> Result<Json<MenuRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (session, agency) = viewer.require_agency()?;
    let draft = body.form.parse().map_err(AppError::Invalid)?;
    Ok(Json(state.store.update_menu_item(agency, id, body.version, &draft, session.principal.account_id).await?))
}

/// Takes an item off the menu; orders placed keep their price.
#[utoipa::path(delete, path = "/api/v1/agency/menu/{id}", tag = "market", security(("bearer" = [])), responses((status = 204)))]
pub async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (_, agency) = viewer.require_agency()?;
    state.store.withdraw_menu_item(agency, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftRow {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Beijing time, HH:MM.
    pub from: String,
    pub to: String,
}

fn shift_rows(week: Vec<(u8, jiazheng_core::market::slot::Shift)>) -> Vec<ShiftRow> {
    week.into_iter()
        .map(|(weekday, s)| {
            let t = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            ShiftRow { weekday, from: t(s.from), to: t(s.to) }
        })
        .collect()
}

/// A worker's weekly working hours (days without are days off).
#[utoipa::path(get, path = "/api/v1/workers/{id}/shifts", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = Vec<ShiftRow>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn shifts(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ShiftRow>>, AppError> {
    crate::market::calendar_keeper(&state, &viewer, id, true).await?;
    Ok(Json(shift_rows(state.store.shifts(id).await?)))
}

/// Replaces a worker's weekly hours (the employing agency).
#[utoipa::path(put, path = "/api/v1/workers/{id}/shifts", tag = "market", request_body = WeekForm, security(("bearer" = [])),
    responses((status = 200, body = Vec<ShiftRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_shifts(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<WeekForm>,
) -> Result<Json<Vec<ShiftRow>>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let by = crate::market::calendar_keeper(&state, &viewer, id, false).await?;
    let week = form.parse().map_err(AppError::Invalid)?;
    state.store.set_shifts(id, &week, by).await?;
    Ok(Json(shift_rows(state.store.shifts(id).await?)))
}

/// A worker's bookings and leave from now on.
#[utoipa::path(get, path = "/api/v1/workers/{id}/calendar", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = Vec<BookingRow>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn calendar(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<BookingRow>>, AppError> {
    crate::market::calendar_keeper(&state, &viewer, id, true).await?;
    let seen_by = viewer.session.as_ref().and_then(|s| s.principal.agency_id());
    Ok(Json(state.store.calendar(id, chrono::Utc::now(), seen_by).await?))
}

/// Takes whole days of leave (the employing agency, or the worker for themselves); refused with
/// 409 where it meets a booking.
#[utoipa::path(post, path = "/api/v1/workers/{id}/leave", tag = "market", request_body = LeaveForm, security(("bearer" = [])),
    responses((status = 201, body = super::Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_leave(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<LeaveForm>,
) -> Result<(StatusCode, Json<super::Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let by = crate::market::calendar_keeper(&state, &viewer, id, true).await?;
    let slot = form.parse(today()).map_err(AppError::Invalid)?;
    let leave = state.store.add_leave(id, &slot, &form.note, by).await?;
    Ok((StatusCode::CREATED, Json(super::Created { id: leave })))
}

/// Cancels leave that is not over.
#[utoipa::path(delete, path = "/api/v1/workers/{id}/leave/{leave_id}", tag = "market", security(("bearer" = [])), responses((status = 204)))]
pub async fn remove_leave(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, leave_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    crate::market::calendar_keeper(&state, &viewer, id, true).await?;
    let session = viewer.require()?;
    // A worker removes only the leave they entered; the agency any.
    let only = (session.principal.role == Role::Worker).then_some(session.principal.account_id);
    state.store.remove_leave(id, leave_id, only).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Books an item (and, if chosen, a worker) for the signed-in resident. Send an
/// `Idempotency-Key` header: a retry with the same key and body returns the first order
/// (header `Idempotency-Replayed: true`) and books nothing more. An overlap answers 409 naming
/// the time taken.
#[utoipa::path(post, path = "/api/v1/orders", tag = "market", request_body = BookingForm, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Up to 100 visible ASCII characters, unique per request")),
    responses((status = 201, body = OrderRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_order(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<BookingForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("\u{0}"));
    let booked = crate::market::book(&state, &viewer, &form, key).await?;
    let mut response = (StatusCode::CREATED, Json(booked.order)).into_response();
    if booked.replayed {
        response.headers_mut().insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrdersQuery {
    /// For agencies: today, upcoming, unassigned, disputes or all (default).
    pub board: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Parses a board name; an unknown one is refused.
pub fn parse_board(raw: Option<&str>) -> Result<Board, AppError> {
    match raw.unwrap_or("all") {
        "today" => Ok(Board::Today),
        "upcoming" => Ok(Board::Upcoming),
        "unassigned" => Ok(Board::Unassigned),
        "disputes" => Ok(Board::Disputes),
        "all" | "" => Ok(Board::All),
        _ => Err(AppError::invalid(
            "board",
            "unknown_choice",
            "取值无效，可选：今日、待服务、待派单、争议、全部",
            "is not one of: today, upcoming, unassigned, disputes, all",
        )),
    }
}

/// A resident's orders, or an agency's board.
#[utoipa::path(get, path = "/api/v1/orders", tag = "market", params(OrdersQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<OrderRow>)))]
pub async fn orders(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<OrdersQuery>,
) -> Result<Json<PageOf<OrderRow>>, AppError> {
    let session = viewer.require_role(&[Role::Resident, Role::AgencyAdmin])?;
    let page = PageRequest::new(query.page, query.per_page);
    let rows = match session.principal.agency_id() {
        Some(agency) => state.store.order_board(agency, parse_board(query.board.as_deref())?, page).await?,
        None => {
            let mut rows = state.store.orders_of_resident(session.principal.account_id, page).await?;
            rows.items.iter_mut().for_each(mask_chosen_worker);
            rows
        }
    };
    Ok(Json(rows.into()))
}

/// A resident sees the worker they chose from the search as the search showed them: masked.
fn mask_chosen_worker(order: &mut OrderRow) {
    order.requested_worker_name =
        order.requested_worker_name.as_deref().map(jiazheng_core::credit::certificate::mask_name);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    pub order: OrderRow,
    /// Every step taken, oldest first.
    pub events: Vec<OrderEvent>,
    /// The steps the viewer may take now.
    pub steps: Vec<OrderStep>,
    /// The household address, for the resident and the agency serving it.
    pub address: Option<String>,
}

/// One order with its steps, for the resident, its agency, or a regulator in scope.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = OrderDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn order(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<OrderDetail>, AppError> {
    let who = &viewer.require()?.principal;
    let (mut order, party) = state.store.order_for(id, who).await?;
    if party == jiazheng_core::market::Party::Resident {
        mask_chosen_worker(&mut order);
    }
    let address = match party {
        jiazheng_core::market::Party::Regulator => None,
        _ => Some(state.store.order_address(&order).await?),
    };
    let steps = crate::market::steps_for(&order, party);
    let events = state.store.order_events(id).await?;
    Ok(Json(OrderDetail { order, events, steps, address }))
}

/// Takes a step: the agency confirms, assigns (`worker_id`), starts, completes, cancels or
/// resolves; the resident cancels, asks for another worker, or disputes (`reason` says what
/// happened; it becomes a complaint).
#[utoipa::path(post, path = "/api/v1/orders/{id}/steps", tag = "market", request_body = StepForm, security(("bearer" = [])),
    responses((status = 200, body = OrderRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn step(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<StepForm>,
) -> Result<Json<OrderRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    Ok(Json(crate::market::take_step(&state, &viewer, id, &form).await?))
}

/// Assigns tomorrow's (Beijing) confirmed orders of the agency that still wait for a worker: the
/// nearest free, compliant worker, or the one the resident had last time where possible; each
/// through the same checks as a manual assignment. Orders left open are listed with the reason.
#[utoipa::path(post, path = "/api/v1/agency/next-day-assignment", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = jiazheng_store::market::assignment::AssignmentRun)))]
pub async fn assign_next_day(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<Json<jiazheng_store::market::assignment::AssignmentRun>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    Ok(Json(crate::market::assign_next_day(&state, &viewer).await?))
}

/// Whether the nightly job (02:00 Beijing) assigns the next day's orders of the agency.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Nightly {
    pub on: bool,
}

/// Turns the nightly next-day assignment on or off; when on, its assignments carry the name of the
/// admin who turned it on.
#[utoipa::path(put, path = "/api/v1/agency/next-day-assignment/nightly", tag = "market", request_body = Nightly,
    security(("bearer" = [])), responses((status = 200, body = Nightly)))]
pub async fn set_nightly(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<Nightly>,
) -> Result<Json<Nightly>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    Ok(Json(Nightly { on: crate::market::set_auto_assign(&state, &viewer, form.on).await? }))
}

/// Rates a completed order in four dimensions (1–5); one rating per order (409 after).
#[utoipa::path(post, path = "/api/v1/orders/{id}/rating", tag = "market", request_body = RatingForm, security(("bearer" = [])),
    responses((status = 200, body = OrderRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RatingForm>,
) -> Result<Json<OrderRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Resident])?.principal;
    let rating = form.parse().map_err(AppError::Invalid)?;
    let order = state.store.rate_order(id, who, &rating).await?;
    Ok(Json(order))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RisesQuery {
    pub page: Option<u32>,
}

/// Items whose price rose more than the configured rate (10% unless set) within twelve months,
/// in the regulator's area, steepest first.
#[utoipa::path(get, path = "/api/v1/regulator/price-rises", tag = "market", params(RisesQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<PriceRise>)))]
pub async fn price_rises(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<RisesQuery>,
) -> Result<Json<PageOf<PriceRise>>, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.as_str().to_string());
    let page = PageRequest::new(query.page, None);
    let percent = state.config.price_alert_percent();
    Ok(Json(state.store.price_rises(area.as_deref(), percent, page).await?.into()))
}
