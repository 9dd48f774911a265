//! The market as agencies run it: the menu and its prices, the order board, assigning a worker
//! who meets the rules, workers' shifts and leave. Also the worker's own leave, and the
//! regulator's list of price rises.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::market::menu::{MenuForm, yuan};
use jiazheng_core::market::slot::{DayForm, LeaveForm, Slot, WeekForm};
use jiazheng_core::market::{CatalogItem, OrderStep, PriceMode};
use jiazheng_store::PageRequest;
use jiazheng_store::market::assignment::{AssignmentRun, OpenOrder};
use jiazheng_store::market::availability::BookingRow;
use jiazheng_store::market::menus::{MenuRow, PriceRise};
use jiazheng_store::market::orders::{Board, OrderRow};
use jiazheng_store::market::search::{AvailableWorker, WorkerQuery};
use serde::Deserialize;

use super::market::{
    EventLine, event_lines, item_label, level_label, price_text, status_label, step_from_page, terms_text,
};
use super::{Chrome, Pager, field_message, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agency/menu", get(menu).post(publish))
        .route("/agency/menu/{id}", post(update))
        .route("/agency/menu/{id}/withdraw", post(withdraw))
        .route("/agency/orders", get(board))
        .route("/agency/orders/{id}", get(order))
        .route("/agency/orders/assign-next-day", post(assign_next_day))
        .route("/agency/orders/nightly-assignment", post(set_nightly))
        .route("/agency/orders/{id}/step", post(step))
        .route("/agency/workers/{id}/availability", get(availability))
        .route("/agency/workers/{id}/shifts", post(save_shifts))
        .route("/agency/workers/{id}/leave", post(agency_leave))
        .route("/agency/workers/{id}/leave/{leave_id}/remove", post(agency_remove_leave))
        .route("/me/leave", get(my_leave).post(add_my_leave))
        .route("/me/leave/{leave_id}/remove", post(remove_my_leave))
        .route("/regulator/prices", get(price_rises))
}

// ---- the menu ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "agency_menu.html")]
struct MenuPage {
    chrome: Chrome,
    menu: Vec<MenuRow>,
    items: Vec<(&'static str, &'static str)>,
    form: MenuForm,
    errors: FieldErrors,
    /// The item whose edit failed, so its errors sit beside its own form.
    editing: Option<i64>,
    edit_form: MenuForm,
    notice: Option<String>,
}

impl MenuPage {
    fn err(&self, field: &str) -> Option<String> {
        if self.editing.is_some() { None } else { field_message(&self.errors, self.chrome.lang, field) }
    }

    fn is_editing(&self, id: &i64) -> bool {
        self.editing == Some(*id)
    }

    fn edit_err(&self, id: &i64, field: &str) -> Option<String> {
        if self.editing == Some(*id) { field_message(&self.errors, self.chrome.lang, field) } else { None }
    }

    fn item(&self, code: &str) -> &'static str {
        item_label(self.chrome.lang, code)
    }

    fn level(&self, code: &str) -> &'static str {
        level_label(self.chrome.lang, code)
    }

    fn price(&self, m: &MenuRow) -> String {
        price_text(self.chrome.lang, &m.mode, m.amount, m.price_fen)
    }

    fn terms(&self, m: &MenuRow) -> String {
        terms_text(self.chrome.lang, m.free_cancel_hours, m.cancel_fee_percent)
    }

    /// The value an item's edit form shows: what was typed when it failed, else what is stored.
    fn edit_value(&self, m: &MenuRow, field: &str) -> String {
        if self.editing == Some(m.id) {
            let f = &self.edit_form;
            return match field {
                "price" => f.price.clone(),
                "amount" => f.amount.clone(),
                "description" => f.description.clone(),
                "free_cancel_hours" => f.free_cancel_hours.clone(),
                _ => f.cancel_fee_percent.clone(),
            };
        }
        match field {
            "price" => yuan(m.price_fen).trim_start_matches('¥').replace(',', ""),
            "amount" => m.amount.to_string(),
            "description" => m.description.clone(),
            "free_cancel_hours" => m.free_cancel_hours.to_string(),
            _ => m.cancel_fee_percent.to_string(),
        }
    }

    fn amount_hint(&self, mode: &str) -> String {
        self.chrome.t(match mode {
            "per_hour" => "menu.amount_per_hour",
            "package" => "menu.amount_package",
            _ => "menu.amount_per_item",
        })
    }
}

async fn menu_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: MenuForm,
    errors: FieldErrors,
    editing: Option<(i64, MenuForm)>,
    notice: Option<String>,
) -> Result<MenuPage, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let (editing, edit_form) = match editing {
        Some((id, f)) => (Some(id), f),
        None => (None, MenuForm::default()),
    };
    Ok(MenuPage {
        chrome: Chrome::new(lang, viewer, "/agency/menu", lang.t("menu.title")),
        menu: state.store.menu_of_agency(agency).await?,
        items: CatalogItem::ALL.iter().map(|i| (i.as_str(), i.label(lang.is_en()))).collect(),
        form,
        errors,
        editing,
        edit_form,
        notice,
    })
}

fn default_menu_form() -> MenuForm {
    MenuForm { free_cancel_hours: "24".into(), cancel_fee_percent: "20".into(), ..MenuForm::default() }
}

#[derive(Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

async fn menu(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, AppError> {
    let notice =
        q.done.map(|what| lang.t(&format!("menu.done_{}", if what == "withdrawn" { "withdrawn" } else { "saved" })));
    render(&menu_page(&state, lang, &viewer, default_menu_form(), FieldErrors::default(), None, notice).await?)
}

#[derive(Deserialize)]
struct MenuPost {
    csrf: String,
    #[serde(default)]
    version: i64,
    #[serde(flatten)]
    form: MenuForm,
}

async fn publish(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<MenuPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let (session, agency) = viewer.require_agency()?;
    let outcome = match post.form.parse() {
        Ok(draft) => {
            state.store.publish_menu_item(agency, &draft, session.principal.account_id).await.map_err(AppError::from)
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/agency/menu?done=saved").into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = menu_page(&state, lang, &viewer, post.form, errors, None, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(conflict @ AppError::Conflict { .. }) => {
            let body = conflict.body();
            let invalid = jiazheng_core::field::Invalid::new("conflict", body.error.message_zh, body.error.message);
            let page =
                menu_page(&state, lang, &viewer, post.form, FieldErrors(vec![invalid.at("item")]), None, None).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

async fn update(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<MenuPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let (session, agency) = viewer.require_agency()?;
    let current = state.store.menu_item(id).await?;
    if current.agency_id != agency {
        return Err(AppError::NotFound);
    }
    // What an item is does not change on edit: only the numbers and words typed.
    let form =
        MenuForm { item: current.item.clone(), mode: current.mode.clone(), level: current.level.clone(), ..post.form };
    let outcome = match form.parse() {
        Ok(draft) => state
            .store
            .update_menu_item(agency, id, post.version, &draft, session.principal.account_id)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/agency/menu?done=saved").into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = menu_page(&state, lang, &viewer, default_menu_form(), errors, Some((id, form)), None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(AppError::Conflict { message_zh, message_en, .. }) => {
            let notice = Some(lang.pick(&message_zh, &message_en).to_string());
            let page =
                menu_page(&state, lang, &viewer, default_menu_form(), FieldErrors::default(), None, notice).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let (_, agency) = viewer.require_agency()?;
    state.store.withdraw_menu_item(agency, id).await?;
    Ok(Redirect::to("/agency/menu?done=withdrawn").into_response())
}

// ---- the order board --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "agency_orders.html")]
struct BoardPage {
    chrome: Chrome,
    board: &'static str,
    tabs: Vec<(&'static str, String, i64)>,
    orders: Vec<OrderRow>,
    pager: Pager,
    /// The nightly job assigns the next day's orders.
    nightly: bool,
}

impl BoardPage {
    fn item(&self, code: &str) -> &'static str {
        item_label(self.chrome.lang, code)
    }

    fn status(&self, code: &str) -> &'static str {
        status_label(self.chrome.lang, code)
    }
}

#[derive(Deserialize)]
struct BoardQuery {
    board: Option<String>,
    page: Option<u32>,
}

async fn board(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let name = q.board.as_deref().unwrap_or("today");
    let board = crate::api::market::parse_board(Some(name))?;
    let counts = state.store.order_board_counts(agency).await?;
    let tabs = ["today", "upcoming", "unassigned", "disputes"]
        .into_iter()
        .enumerate()
        .map(|(i, code)| (code, lang.t(&format!("orderboard.{code}")), counts[i]))
        .chain([("all", lang.t("orderboard.all"), -1)])
        .collect();
    let page = state.store.order_board(agency, board, PageRequest::new(q.page, Some(20))).await?;
    let code = match board {
        Board::Today => "today",
        Board::Upcoming => "upcoming",
        Board::Unassigned => "unassigned",
        Board::Disputes => "disputes",
        Board::All => "all",
    };
    let pager = Pager::new(&page, "/agency/orders", &format!("board={code}"));
    render(&BoardPage {
        nightly: state.store.auto_assign_of(agency).await?,
        chrome: Chrome::new(lang, &viewer, "/agency/orders", lang.t("orderboard.title")),
        board: code,
        tabs,
        orders: page.items,
        pager,
    })
}

#[derive(Deserialize)]
struct CsrfPost {
    csrf: String,
}

#[derive(Template)]
#[template(path = "agency_assignment.html")]
struct AssignmentPage {
    chrome: Chrome,
    run: AssignmentRun,
}

impl AssignmentPage {
    fn km(&self, metres: &i64) -> String {
        format!("{:.1}", *metres as f64 / 1000.0)
    }

    fn reason<'a>(&self, open: &'a OpenOrder) -> &'a str {
        if self.chrome.is_en() { &open.reason_en } else { &open.reason_zh }
    }
}

/// The board's button: tomorrow's confirmed orders get workers, and the page says how it went.
async fn assign_next_day(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<CsrfPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let run = crate::market::assign_next_day(&state, &viewer).await?;
    render(&AssignmentPage { chrome: Chrome::new(lang, &viewer, "/agency/orders", lang.t("assignment.title")), run })
}

#[derive(Deserialize)]
struct NightlyPost {
    csrf: String,
    on: bool,
}

async fn set_nightly(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(post): Form<NightlyPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    crate::market::set_auto_assign(&state, &viewer, post.on).await?;
    Ok(Redirect::to("/agency/orders").into_response())
}

#[derive(Template)]
#[template(path = "agency_order.html")]
struct OrderPage {
    chrome: Chrome,
    order: OrderRow,
    address: String,
    events: Vec<EventLine>,
    steps: Vec<OrderStep>,
    /// Workers who may be sent now: employed, meeting the rules, free and on shift.
    candidates: Vec<AvailableWorker>,
    errors: FieldErrors,
    place: String,
    contract: super::contracts::ContractCard,
    /// The contract card's identity form is the resident's; the agency's page never shows it.
    typed_identity: (String, String),
}

impl OrderPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn can(&self, step: &str) -> bool {
        self.steps.iter().any(|s| s.as_str() == step)
    }

    fn chosen(&self, worker: &i64) -> bool {
        self.order.requested_worker_id == Some(*worker)
    }

    fn item(&self) -> &'static str {
        item_label(self.chrome.lang, &self.order.item)
    }

    fn status(&self) -> &'static str {
        status_label(self.chrome.lang, &self.order.status)
    }

    fn when(&self) -> String {
        self.order.slot().describe()
    }

    fn total(&self) -> String {
        yuan(self.order.total_fen)
    }

    fn step(&self, step: &OrderStep) -> &'static str {
        step.label(self.chrome.is_en())
    }
}

async fn order_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    headers: &axum::http::HeaderMap,
    id: i64,
    errors: FieldErrors,
) -> Result<OrderPage, AppError> {
    let (session, _) = viewer.require_agency()?;
    let (order, party) = state.store.order_for(id, &session.principal).await?;
    let steps = crate::market::steps_for(&order, party);
    let candidates = if steps.contains(&OrderStep::Assign) { assignable(state, &order).await? } else { Vec::new() };
    Ok(OrderPage {
        chrome: Chrome::new(
            lang,
            viewer,
            &format!("/agency/orders/{id}"),
            format!("{} {}", lang.t("orders.one"), order.number()),
        ),
        address: state.store.order_address(&order).await?,
        events: event_lines(lang, &state.store.order_events(id).await?),
        steps,
        candidates,
        place: state.store.place_name(&order.community_code, &order.community_name).await?,
        contract: super::contracts::contract_card(
            state,
            lang,
            &order,
            headers,
            jiazheng_core::market::contract::Signer::Agency,
        )
        .await?,
        typed_identity: Default::default(),
        order,
        errors,
    })
}

/// The agency's workers who may take the order: the resident's choice first when they asked for one.
async fn assignable(state: &AppState, order: &OrderRow) -> Result<Vec<AvailableWorker>, AppError> {
    let (Some(item), Ok(mode)) = (order.catalog_item(), PriceMode::parse(&order.mode)) else { return Ok(Vec::new()) };
    let now = chrono::Utc::now();
    let start = jiazheng_core::market::order::handover(order.starts_at, now);
    if start >= order.ends_at {
        return Ok(Vec::new());
    }
    let query = WorkerQuery {
        item,
        mode,
        slot: Slot { start, end: order.ends_at },
        district: None,
        level: jiazheng_core::workforce::SkillLevel::parse(&order.level).ok(),
        resident: None,
        after: 0,
        limit: 50,
        menu_item: Some(order.menu_item_id),
        for_order: Some(order.id),
    };
    let mut found = state.store.available_workers(&query).await?.workers;
    if let Some(chosen) = order.requested_worker_id {
        found.sort_by_key(|w| w.worker_id != chosen);
    }
    Ok(found)
}

async fn order(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&order_page(&state, lang, &viewer, &headers, id, FieldErrors::default()).await?)
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

async fn step(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Form(post): Form<StepPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    viewer.require_agency()?;
    match step_from_page(&state, &viewer, id, &post.step, &post.reason, post.worker_id).await? {
        Ok(()) => Ok(Redirect::to(&format!("/agency/orders/{id}")).into_response()),
        Err(errors) => {
            let page = order_page(&state, lang, &viewer, &headers, id, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

// ---- shifts and leave -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "availability.html")]
struct AvailabilityPage {
    chrome: Chrome,
    worker_id: i64,
    worker_name: String,
    /// Where the forms post: the agency's pages or the worker's own.
    base: String,
    may_set_shifts: bool,
    week: Vec<(u8, String, String, String)>,
    calendar: Vec<BookingRow>,
    leave: LeaveForm,
    errors: FieldErrors,
    saved: bool,
}

impl AvailabilityPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn what(&self, b: &BookingRow) -> String {
        match &b.item {
            Some(item) => format!("{} · {}", self.chrome.t("availability.order"), item_label(self.chrome.lang, item)),
            None => self.chrome.t("availability.leave"),
        }
    }
}

const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const WEEKDAYS_EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

#[allow(clippy::too_many_arguments)]
async fn availability_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    worker_id: i64,
    own: bool,
    typed_week: Option<&WeekForm>,
    leave: LeaveForm,
    errors: FieldErrors,
    saved: bool,
) -> Result<AvailabilityPage, AppError> {
    let worker = state.store.worker(worker_id).await?;
    let shifts = state.store.shifts(worker_id).await?;
    let week = (1..=7u8)
        .map(|d| {
            let name = if lang.is_en() { WEEKDAYS_EN[usize::from(d - 1)] } else { WEEKDAYS_ZH[usize::from(d - 1)] };
            let (from, to) = match typed_week.and_then(|w| w.days.get(usize::from(d - 1))) {
                Some(day) => (day.from.clone(), day.to.clone()),
                None => match shifts.iter().find(|(w, _)| *w == d) {
                    Some((_, s)) => {
                        let t = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
                        (t(s.from), t(s.to))
                    }
                    None => (String::new(), String::new()),
                },
            };
            (d, name.to_string(), from, to)
        })
        .collect();
    let base = if own { "/me".to_string() } else { format!("/agency/workers/{worker_id}") };
    let path = if own { "/me/leave".to_string() } else { format!("/agency/workers/{worker_id}/availability") };
    Ok(AvailabilityPage {
        chrome: Chrome::new(lang, viewer, &path, format!("{} · {}", worker.name, lang.t("availability.title"))),
        worker_id,
        worker_name: worker.name,
        base,
        may_set_shifts: !own,
        week,
        calendar: state
            .store
            .calendar(worker_id, chrono::Utc::now(), viewer.session.as_ref().and_then(|s| s.principal.agency_id()))
            .await?,
        leave,
        errors,
        saved,
    })
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<u8>,
}

async fn availability(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    crate::market::calendar_keeper(&state, &viewer, id, false).await?;
    let page = availability_page(
        &state,
        lang,
        &viewer,
        id,
        false,
        None,
        LeaveForm::default(),
        FieldErrors::default(),
        q.saved.is_some(),
    )
    .await?;
    render(&page)
}

#[derive(Deserialize)]
struct ShiftsPost {
    csrf: String,
    #[serde(default)]
    from: Vec<String>,
    #[serde(default)]
    to: Vec<String>,
}

async fn save_shifts(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<ShiftsPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let by = crate::market::calendar_keeper(&state, &viewer, id, false).await?;
    let days =
        post.from.iter().zip(post.to.iter()).map(|(from, to)| DayForm { from: from.clone(), to: to.clone() }).collect();
    let week = WeekForm { days };
    match week.parse() {
        Ok(shifts) => {
            state.store.set_shifts(id, &shifts, by).await?;
            Ok(Redirect::to(&format!("/agency/workers/{id}/availability?saved=1")).into_response())
        }
        Err(errors) => {
            let page =
                availability_page(&state, lang, &viewer, id, false, Some(&week), LeaveForm::default(), errors, false)
                    .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Deserialize)]
struct LeavePost {
    csrf: String,
    #[serde(flatten)]
    leave: LeaveForm,
}

/// Adds leave from a page: the page again with errors beside the fields, or a 409 naming the
/// booking it meets.
async fn leave_from_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    worker_id: i64,
    own: bool,
    post: LeavePost,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let by = crate::market::calendar_keeper(state, viewer, worker_id, true).await?;
    let outcome = match post.leave.parse(crate::api::workers::today()) {
        Ok(slot) => state.store.add_leave(worker_id, &slot, &post.leave.note, by).await.map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let back =
        if own { "/me/leave?saved=1".to_string() } else { format!("/agency/workers/{worker_id}/availability?saved=1") };
    let errors = match outcome {
        Ok(_) => return Ok(Redirect::to(&back).into_response()),
        Err(AppError::Invalid(errors)) => errors,
        Err(AppError::Conflict { message_zh, message_en, .. }) => {
            FieldErrors(vec![jiazheng_core::field::Invalid::new("overlap", message_zh, message_en).at("from")])
        }
        Err(other) => return Err(other),
    };
    let page = availability_page(state, lang, viewer, worker_id, own, None, post.leave, errors, false).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn agency_leave(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<LeavePost>,
) -> Result<Response, AppError> {
    viewer.require_agency()?;
    leave_from_page(&state, lang, &viewer, id, false, post).await
}

async fn agency_remove_leave(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, leave_id)): Path<(i64, i64)>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    crate::market::calendar_keeper(&state, &viewer, id, false).await?;
    state.store.remove_leave(id, leave_id, None).await?;
    Ok(Redirect::to(&format!("/agency/workers/{id}/availability")).into_response())
}

fn own_worker(viewer: &Viewer) -> Result<i64, AppError> {
    let session = viewer.require_role(&[jiazheng_core::account::Role::Worker])?;
    match session.principal.scope {
        jiazheng_core::account::Scope::Worker(id) => Ok(id),
        _ => Err(AppError::Forbidden),
    }
}

async fn my_leave(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    let id = own_worker(&viewer)?;
    let page = availability_page(
        &state,
        lang,
        &viewer,
        id,
        true,
        None,
        LeaveForm::default(),
        FieldErrors::default(),
        q.saved.is_some(),
    )
    .await?;
    render(&page)
}

async fn add_my_leave(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<LeavePost>,
) -> Result<Response, AppError> {
    let id = own_worker(&viewer)?;
    leave_from_page(&state, lang, &viewer, id, true, post).await
}

async fn remove_my_leave(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(leave_id): Path<i64>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let id = own_worker(&viewer)?;
    let me = viewer.require()?.principal.account_id;
    state.store.remove_leave(id, leave_id, Some(me)).await?;
    Ok(Redirect::to("/me/leave").into_response())
}

// ---- the regulator's price watch -------------------------------------------------------

#[derive(Template)]
#[template(path = "regulator_prices.html")]
struct RisesPage {
    chrome: Chrome,
    percent: i64,
    rises: Vec<PriceRise>,
    pager: Pager,
}

impl RisesPage {
    fn item(&self, r: &PriceRise) -> String {
        let item = item_label(self.chrome.lang, &r.item);
        if r.level.is_empty() {
            item.to_string()
        } else {
            format!("{item}（{}）", level_label(self.chrome.lang, &r.level))
        }
    }

    fn base(&self, r: &PriceRise) -> String {
        price_text(self.chrome.lang, &r.mode, r.amount, r.base_fen)
    }

    fn now(&self, r: &PriceRise) -> String {
        price_text(self.chrome.lang, &r.mode, r.amount, r.price_fen)
    }

    fn rise(&self, r: &PriceRise) -> String {
        format!("+{:.1}%", r.percent())
    }

    fn since(&self, r: &PriceRise) -> String {
        super::beijing_minutes(r.price_since)
    }

    /// A bar a person can compare at a glance: the rise against twice the alert rate.
    fn bar(&self, r: &PriceRise) -> u32 {
        ((r.percent() / (self.percent as f64 * 4.0)) * 100.0).clamp(2.0, 100.0) as u32
    }
}

#[derive(Deserialize)]
struct RisesQuery {
    page: Option<u32>,
}

async fn price_rises(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<RisesQuery>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.as_str().to_string());
    let percent = state.config.price_alert_percent();
    let page = state.store.price_rises(area.as_deref(), percent, PageRequest::new(q.page, Some(20))).await?;
    let pager = Pager::new(&page, "/regulator/prices", "");
    render(&RisesPage {
        chrome: Chrome::new(lang, &viewer, "/regulator/prices", lang.t("rises.title")),
        percent,
        rises: page.items,
        pager,
    })
}
