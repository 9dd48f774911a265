//! What the market's pages and its API both do: send and check sign-in codes, book with an
//! idempotency key, and search for available workers. Neither face imports the other; both call
//! these.

use std::net::IpAddr;

use jiazheng_core::FieldErrors;
use jiazheng_core::field::Invalid;
use jiazheng_core::ids::Mobile;
use jiazheng_core::market::slot::{Slot, SlotForm};
use jiazheng_core::market::sms::{CodeCheck, parse_code};
use jiazheng_core::market::{CatalogItem, PriceMode};
use jiazheng_core::workforce::SkillLevel;
use jiazheng_store::market::orders::{Booked, BookingRequest, IdempotencyKey, MAX_KEY_CHARS};
use jiazheng_store::market::search::{Found, WorkerQuery};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::Viewer;
use crate::{AppError, AppState};

fn invalid(field: &str, invalid: Invalid) -> AppError {
    AppError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

/// Sends a sign-in code to a phone. The answer is the same for a number with an account and one
/// without, so asking tells nobody who is registered.
pub async fn send_sign_in_code(state: &AppState, address: IpAddr, phone: &str) -> Result<Mobile, AppError> {
    let phone = Mobile::parse(phone).map_err(|e| invalid("phone", e))?;
    let code = state.store.issue_sign_in_code(&phone, &address.to_string()).await?;
    let text = format!("【家政服务平台】您的登录验证码是{code}，5分钟内有效，请勿告诉他人。");
    state.texts.send_text(&phone, &text).await.map_err(AppError::Internal)?;
    Ok(phone)
}

/// Signs a resident in with a code: an account is made on the first sign-in. Returns the
/// session token and whether the account is new. Wrong codes count per address too.
pub async fn sign_in_with_code(
    state: &AppState,
    address: IpAddr,
    phone: &str,
    code: &str,
) -> Result<(String, bool), AppError> {
    let address_key = format!("code:{address}");
    if let Err(retry_after_secs) = state.limits.login_address.check(&address_key) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    let mut errors = FieldErrors::default();
    let phone = errors.take("phone", Mobile::parse(phone));
    let code = errors.take("code", parse_code(code));
    let (Some(phone), Some(code)) = (phone, code) else { return Err(AppError::Invalid(errors)) };
    match state.store.check_sign_in_code(&phone, &code).await? {
        CodeCheck::Accepted => {
            let (account, new) = state.store.resident_by_phone(&phone).await?;
            let token = state.store.create_session(account).await?;
            Ok((token, new))
        }
        refused => {
            state.limits.login_address.record_failure(&address_key);
            Err(invalid("code", refused.refusal().unwrap_or_else(Invalid::required)))
        }
    }
}

/// A booking as a resident (or their app) sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct BookingForm {
    /// The menu item, as the search or the agency's price list gave it.
    pub menu_item_id: i64,
    /// Beijing date, YYYY-MM-DD.
    pub date: String,
    /// Beijing time on the half hour (not for packages).
    pub time: String,
    /// Hours, for items sold by the hour.
    pub hours: String,
    /// A worker the resident chose (from the search); empty to let the agency choose.
    pub worker_id: Option<i64>,
    pub note: String,
    /// The unit price (fen) the resident was shown; if the agency changed it since, the booking
    /// is refused (409) rather than made at a price nobody saw.
    pub price_fen: Option<i64>,
    /// The menu item's `version` the resident was shown: a change of its terms since refuses
    /// the booking (409) the same way.
    pub menu_version: Option<i64>,
    /// Paid by the district from the resident's subsidy quota (residents a community registered);
    /// over the quota or the district's budget is refused (422, field `subsidy`).
    pub subsidy: bool,
}

impl BookingForm {
    /// The digest a retry with the same key must match.
    fn digest(&self) -> Vec<u8> {
        let canonical = format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            self.menu_item_id,
            self.price_fen.unwrap_or(0),
            self.date.trim(),
            self.time.trim(),
            self.hours.trim(),
            self.worker_id.unwrap_or(0),
            self.note.trim(),
            self.subsidy
        );
        Sha256::digest(canonical.as_bytes()).to_vec()
    }
}

/// Books for the signed-in resident; a key already seen returns the first order again.
pub async fn book(
    state: &AppState,
    viewer: &Viewer,
    form: &BookingForm,
    key: Option<&str>,
) -> Result<Booked, AppError> {
    let session = viewer.require_role(&[jiazheng_core::account::Role::Resident])?;
    let key = match key.map(str::trim) {
        None | Some("") => None,
        Some(k) if k.len() > MAX_KEY_CHARS || !k.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(invalid(
                "Idempotency-Key",
                Invalid::new(
                    "bad_key",
                    "幂等键应为不超过100个可见ASCII字符",
                    "must be at most 100 visible ASCII characters",
                ),
            ));
        }
        Some(k) => Some(IdempotencyKey { key: k.to_string(), digest: form.digest() }),
    };
    // A retry answers with the first order even if the item or the time has gone since.
    if let Some(key) = &key
        && let Some(order) = state.store.replay(session.principal.account_id, key).await?
    {
        return Ok(Booked { order, replayed: true });
    }
    let menu = state.store.menu_item(form.menu_item_id).await.map_err(|_| {
        invalid("menu_item_id", Invalid::new("no_such_item", "没有这个服务项目", "no such item on any menu"))
    })?;
    let slot = SlotForm { date: form.date.clone(), time: form.time.clone(), hours: form.hours.clone() }
        .parse(menu.unit()?, chrono::Utc::now())
        .map_err(AppError::Invalid)?;
    let request = BookingRequest {
        menu_item_id: menu.id,
        slot,
        worker_id: form.worker_id,
        note: form.note.clone(),
        expected_price_fen: form.price_fen,
        expected_version: form.menu_version,
        subsidised: form.subsidy,
    };
    let booked = state.store.book_item(session.principal.account_id, &menu, &request, key.as_ref()).await?;
    Ok(booked)
}

/// What a resident searches with, as typed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct SearchForm {
    /// Catalog item code or label.
    pub item: String,
    /// `per_item`, `per_hour` or `package`; empty: the item's first mode.
    pub mode: String,
    pub date: String,
    pub time: String,
    pub hours: String,
    /// Package length in days (for packages; empty: any).
    pub days: String,
    /// District code (6 or 12 digits); empty: the whole city.
    pub district: String,
    /// Skill level a package asks for.
    pub level: String,
    /// The next page starts after this worker.
    pub after: Option<i64>,
}

/// A search, parsed.
pub struct Search {
    pub item: CatalogItem,
    pub mode: PriceMode,
    pub slot: Slot,
}

/// Finds available workers. The resident's earlier workers come first; everyone sees masked names.
pub async fn search(state: &AppState, viewer: &Viewer, form: &SearchForm) -> Result<(Search, Found), AppError> {
    let mut errors = FieldErrors::default();
    let item = errors.take("item", CatalogItem::parse(&form.item));
    let mode = match (item, form.mode.trim()) {
        (Some(item), "") => Some(item.modes()[0]),
        (_, text) => errors.take("mode", PriceMode::parse(text)),
    };
    let level = match form.level.trim() {
        "" => None,
        text => errors.take("level", SkillLevel::parse(text)),
    };
    let district = match form.district.trim() {
        "" => None,
        text => errors
            .take("district", jiazheng_core::division::DivisionCode::parse(text))
            .map(|d| d.district().as_str().to_string()),
    };
    let (Some(item), Some(mode)) = (item, mode) else { return Err(AppError::Invalid(errors)) };
    if !item.modes().contains(&mode) {
        errors.0.push(
            Invalid::new("mode_not_offered", "该项目不按此方式出售", "this item is not sold this way").at("mode"),
        );
    }
    let days = match (mode, form.days.trim()) {
        (PriceMode::Package, "") => 1,
        (PriceMode::Package, text) => errors.take("days", jiazheng_core::market::menu::whole_days(text)).unwrap_or(1),
        _ => 1,
    };
    let unit = match mode {
        // A visit's length differs by agency: the resident says how long it may take.
        PriceMode::PerItem | PriceMode::PerHour => jiazheng_core::market::menu::Unit::Hours { min_hours: 1 },
        PriceMode::Package => jiazheng_core::market::menu::Unit::Days { days },
    };
    let slot = SlotForm { date: form.date.clone(), time: form.time.clone(), hours: form.hours.clone() }
        .parse(unit, chrono::Utc::now());
    let slot = match slot {
        Ok(slot) if errors.0.is_empty() => slot,
        Ok(_) => return Err(AppError::Invalid(errors)),
        Err(more) => {
            errors.0.extend(more.0);
            return Err(AppError::Invalid(errors));
        }
    };
    let resident = viewer
        .session
        .as_ref()
        .filter(|s| s.principal.role == jiazheng_core::account::Role::Resident)
        .map(|s| s.principal.account_id);
    let query = WorkerQuery {
        item,
        mode,
        slot,
        district,
        level,
        resident,
        after: form.after.unwrap_or(0).max(0),
        limit: 20,
        menu_item: None,
        for_order: None,
    };
    // The slot was checked against the clock above; what is free in it depends on the records.
    let key = format!("{query:?}|{}", crate::api::workers::today());
    let found = crate::reads::current_in(
        &state.market,
        &state.store,
        key,
        async { Ok(state.store.available_workers(&query).await?) },
        |_| true,
    )
    .await?;
    let mut found = (*found).clone();
    for worker in &mut found.workers {
        worker.worker_name = jiazheng_core::credit::certificate::mask_name(&worker.worker_name);
    }
    Ok((Search { item, mode, slot }, found))
}

/// Who keeps a worker's calendar: the employing agency (shifts and leave) or, for their own
/// leave, the worker. Returns the acting account.
pub async fn calendar_keeper(
    state: &AppState,
    viewer: &Viewer,
    worker_id: i64,
    worker_may: bool,
) -> Result<i64, AppError> {
    let session = viewer.require()?;
    let principal = &session.principal;
    match (principal.role, &principal.scope) {
        (jiazheng_core::account::Role::Worker, jiazheng_core::account::Scope::Worker(own))
            if worker_may && *own == worker_id =>
        {
            Ok(principal.account_id)
        }
        (jiazheng_core::account::Role::AgencyAdmin, _) => {
            crate::api::workforce::writing_agency(state, viewer, worker_id).await?;
            Ok(principal.account_id)
        }
        _ => Err(AppError::Forbidden),
    }
}

/// The steps a party may take on an order, for buttons and the API.
pub fn steps_for(
    order: &jiazheng_store::market::orders::OrderRow,
    party: jiazheng_core::market::Party,
) -> Vec<jiazheng_core::market::OrderStep> {
    use jiazheng_core::market::OrderStep;
    jiazheng_core::market::order::steps(order.status(), party)
        .into_iter()
        .filter(|step| match step {
            OrderStep::Replace => {
                jiazheng_core::market::order::may_replace(order.starts_at, order.ends_at, chrono::Utc::now()).is_ok()
            }
            _ => true,
        })
        .collect()
}

/// One step on an order, as both faces send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepForm {
    /// confirm, assign, start, complete, cancel, replace, dispute, resolve.
    pub step: String,
    /// For `assign`: the worker sent.
    pub worker_id: Option<i64>,
    /// Why (cancel, replace, resolve), or what happened (dispute).
    pub reason: String,
}

/// Takes a step on an order for the signed-in person; ratings go through `rate`.
pub async fn take_step(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    form: &StepForm,
) -> Result<jiazheng_store::market::orders::OrderRow, AppError> {
    use jiazheng_core::market::OrderStep;
    let who = &viewer.require()?.principal;
    let step = OrderStep::parse(&form.step).map_err(|e| invalid("step", e))?;
    let store = &state.store;
    let order = match step {
        OrderStep::Confirm => store.confirm_order(id, who).await?,
        OrderStep::Assign => {
            let worker = form.worker_id.ok_or_else(|| invalid("worker_id", Invalid::required()))?;
            store.assign_order(id, worker, who).await?
        }
        OrderStep::Start => store.start_order(id, who).await?,
        OrderStep::Complete => store.complete_order(id, who).await?,
        OrderStep::Cancel => store.cancel_order(id, who, &form.reason).await?,
        OrderStep::Replace => store.replace_worker(id, who, &form.reason).await?,
        OrderStep::Dispute => store.dispute_order(id, who, &form.reason).await?,
        OrderStep::Resolve => store.resolve_order(id, who, &form.reason).await?,
        OrderStep::Rate | OrderStep::Request => {
            return Err(invalid("step", Invalid::new("not_a_step", "请使用评价表单", "use the rating form")));
        }
        OrderStep::Refund => {
            return Err(invalid(
                "step",
                Invalid::new("not_a_step", "退款请使用退款接口", "refunds have their own operation"),
            ));
        }
    };
    Ok(order)
}

/// Assigns tomorrow's confirmed orders of the viewer's agency: the board's button and the API.
pub async fn assign_next_day(
    state: &AppState,
    viewer: &Viewer,
) -> Result<jiazheng_store::market::assignment::AssignmentRun, AppError> {
    let (session, agency) = viewer.require_agency()?;
    Ok(state.store.assign_next_day(agency, &session.principal).await?)
}

/// Turns the nightly next-day assignment of the viewer's agency on (under the viewer's name) or off.
pub async fn set_auto_assign(state: &AppState, viewer: &Viewer, on: bool) -> Result<bool, AppError> {
    let (session, agency) = viewer.require_agency()?;
    state.store.set_auto_assign(&session.principal, on).await?;
    Ok(state.store.auto_assign_of(agency).await?)
}
