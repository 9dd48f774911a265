//! Orders: a resident books an agency's item for a slot (and, if they like, a worker); the agency
//! confirms and assigns; the service runs, completes and is rated. Every step is a row of
//! `order_events` written in the transaction that moves the status, and a status moves only from
//! the one it was read in, so two people acting at once cannot both win.

use chrono::{DateTime, Duration, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role};
use jiazheng_core::calendar::beijing_date;
use jiazheng_core::credit::casework::Rating;
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::field::Invalid;
use jiazheng_core::market::menu::{CancelTerms, Unit};
use jiazheng_core::market::order::{self, OrderStatus, OrderStep, Party};
use jiazheng_core::market::slot::{Slot, day_start};
use jiazheng_core::market::{CatalogItem, PriceMode};
use jiazheng_core::workforce::SkillLevel;
use jiazheng_core::workforce::compliance::{assess, first_unready_day};
use serde::Serialize;
use serde_json::json;

use super::contracts::void_order_contract_in;
use super::subsidies::{admit_subsidy_in, pay_subsidy_in};
use super::{take_time_in, write_tx};
use crate::credit::ledger::{NewEntry, append_in, ledger_tx};
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

pub const MAX_NOTE_CHARS: usize = 300;
pub const MAX_KEY_CHARS: usize = 100;

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct OrderRow {
        pub id: i64,
        pub resident_account_id: i64,
        /// The resident's shown name (a masked phone, or a pseudonym once erased).
        pub resident_name: String,
        pub agency_id: i64,
        pub agency_name: String,
        pub agency_district: String,
        pub menu_item_id: i64,
        pub item: String,
        pub mode: String,
        pub level: String,
        pub unit_price_fen: i64,
        pub quantity: i64,
        pub total_fen: i64,
        pub free_cancel_hours: i64,
        pub cancel_fee_percent: i64,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        pub requested_worker_id: Option<i64>,
        /// The worker the resident chose, by name (pages mask it for the resident).
        pub requested_worker_name: Option<String>,
        pub worker_id: Option<i64>,
        pub worker_name: Option<String>,
        pub community_code: String,
        pub community_name: String,
        pub note: String,
        pub status: String,
        pub cancel_fee_fen: Option<i64>,
        pub service_id: Option<i64>,
        pub version: i64,
        pub created_at: DateTime<Utc>,
        /// The subsidy grant that pays for the order, if the district pays.
        pub subsidy_grant_id: Option<i64>,
    }
}

pub(crate) const SELECT_ORDER: &str = "SELECT o.id, o.resident_account_id, r.display_name AS resident_name, o.agency_id,
    a.name AS agency_name, a.district_code AS agency_district, o.menu_item_id, o.item, o.mode, o.level,
    o.unit_price_fen, o.quantity, o.total_fen, o.free_cancel_hours, o.cancel_fee_percent, o.starts_at, o.ends_at,
    o.requested_worker_id, rw.name AS requested_worker_name, o.worker_id, w.name AS worker_name, o.community_code, d.name AS community_name, o.note,
    o.status, o.cancel_fee_fen, o.service_id, o.version, o.created_at, o.subsidy_grant_id
    FROM orders o JOIN accounts r ON r.id = o.resident_account_id JOIN agencies a ON a.id = o.agency_id
    JOIN divisions d ON d.code = o.community_code LEFT JOIN workers w ON w.id = o.worker_id
    LEFT JOIN workers rw ON rw.id = o.requested_worker_id";

impl OrderRow {
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Requested)
    }

    pub fn slot(&self) -> Slot {
        Slot { start: self.starts_at, end: self.ends_at }
    }

    pub fn catalog_item(&self) -> Option<CatalogItem> {
        CatalogItem::parse(&self.item).ok()
    }

    pub fn terms(&self) -> CancelTerms {
        CancelTerms {
            free_hours: u32::try_from(self.free_cancel_hours).unwrap_or(0),
            fee_percent: u32::try_from(self.cancel_fee_percent).unwrap_or(0),
        }
    }

    /// The order number people quote: JZ and eight digits.
    pub fn number(&self) -> String {
        format!("JZ{:08}", self.id)
    }

    pub fn is_package(&self) -> bool {
        self.mode == PriceMode::Package.as_str()
    }

    pub fn is_subsidised(&self) -> bool {
        self.subsidy_grant_id.is_some()
    }

    /// How long the service runs, in minutes: what an hours quota counts.
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct OrderEvent {
        pub id: i64,
        pub step: String,
        pub from_status: Option<String>,
        pub to_status: String,
        pub party: String,
        pub actor_name: String,
        pub reason: String,
        pub at: DateTime<Utc>,
    }
}

/// What a resident asks for.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub menu_item_id: i64,
    pub slot: Slot,
    pub worker_id: Option<i64>,
    pub note: String,
    /// The unit price the resident was shown; a different price now refuses the booking.
    pub expected_price_fen: Option<i64>,
    /// The menu item's version the resident was shown (its length and terms); a change since
    /// refuses the booking too.
    pub expected_version: Option<i64>,
    /// Paid by the district from the resident's subsidy quota rather than by the resident.
    pub subsidised: bool,
}

/// A retried create: the key the client sent and a digest of what it asked.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub digest: Vec<u8>,
}

/// Which of an agency's orders a board shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    Today,
    Upcoming,
    Unassigned,
    Disputes,
    All,
}

/// The outcome of a booking.
#[derive(Debug, Clone)]
pub struct Booked {
    pub order: OrderRow,
    /// True when the key was seen before: this is the first answer again.
    pub replayed: bool,
}

/// Where the step's status moves, recorded with who and why. Evaluates to `Result<()>`.
macro_rules! move_in {
    ($tx:ident, $order:expr, $step:expr, $to:expr, $party:expr, $actor:expr, $reason:expr) => {
        async {
            let order: &OrderRow = $order;
            let to: OrderStatus = $to;
            let at = now();
            let done = sqlx::query(
                "UPDATE orders SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND status = $4",
            )
            .bind(to.as_str())
            .bind(at)
            .bind(order.id)
            .bind(&order.status)
            .execute(&mut *$tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            sqlx::query(
                "INSERT INTO order_events (order_id, step, from_status, to_status, party, actor_account_id, reason, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(order.id)
            .bind($step.as_str())
            .bind(&order.status)
            .bind(to.as_str())
            .bind($party.as_str())
            .bind($actor)
            .bind($reason)
            .bind(at)
            .execute(&mut *$tx)
            .await?;
            ::std::result::Result::<(), StoreError>::Ok(())
        }
        .await
    };
}

fn reason_text(reason: &str) -> Result<String> {
    free_text("reason", reason)
}

/// A note or reason: optional, at most `MAX_NOTE_CHARS`, lines of text without control characters.
fn free_text(field: &str, raw: &str) -> Result<String> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    jiazheng_core::field::required_paragraphs(raw, MAX_NOTE_CHARS).map_err(|e| invalid(field, e))
}

/// Orders a resident may have waiting for agencies at once: each with a chosen worker holds
/// that worker's time, so an unbounded number would let one account empty a worker's calendar.
/// `JIAZHENG_MAX_WAITING_ORDERS` changes it; 0 lifts it (the booking benchmark books as one
/// resident).
pub fn max_waiting_orders() -> i64 {
    static MAX: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::env::var("JIAZHENG_MAX_WAITING_ORDERS").ok().and_then(|v| v.parse().ok()).unwrap_or(5))
}

/// What cancelling costs the resident now: nothing while the agency has not confirmed, nothing
/// when the agency cancels, else what the published terms say.
pub fn cancel_fee(order: &OrderRow, party: Party, at: DateTime<Utc>) -> i64 {
    match (party, order.status()) {
        (Party::Resident, OrderStatus::Confirmed | OrderStatus::Assigned) => {
            order.terms().fee(order.total_fen, (order.starts_at - at).num_minutes())
        }
        _ => 0,
    }
}

impl Store {
    /// Books an item for a resident. With a chosen worker, their time is taken now (or not at
    /// all: an overlap refuses the whole order). With a key, a retry returns the first answer.
    pub async fn book(&self, resident: i64, request: &BookingRequest, key: Option<&IdempotencyKey>) -> Result<Booked> {
        // A retry answers with the first order even if the item or the time has gone since.
        if let Some(key) = key
            && let Some(order) = self.replay(resident, key).await?
        {
            return Ok(Booked { order, replayed: true });
        }
        let menu = self.menu_item(request.menu_item_id).await.map_err(|_| {
            invalid("menu_item_id", Invalid::new("no_such_item", "没有这个服务项目", "no such item on any menu"))
        })?;
        self.book_item(resident, &menu, request, key).await
    }

    /// `book` for a caller that has read the menu item and looked for the key already
    /// (`request.menu_item_id` is the item's id).
    pub async fn book_item(
        &self,
        resident: i64,
        menu: &super::menus::MenuRow,
        request: &BookingRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<Booked> {
        let note = free_text("note", &request.note)?;
        let note = note.as_str();
        let unit = menu.unit()?;
        let expected = match unit {
            Unit::Visit { minutes } => Some(i64::from(minutes)),
            Unit::Days { days } => Some(i64::from(days) * 24 * 60),
            Unit::Hours { .. } => None,
        };
        if expected.is_some_and(|m| m != request.slot.minutes())
            || request.slot.minutes() % 60 != 0 && expected.is_none()
        {
            return Err(invalid(
                "hours",
                Invalid::new("wrong_length", "时长与该项目不符", "the length does not fit this item"),
            ));
        }
        let quantity = if matches!(unit, Unit::Hours { .. }) { request.slot.minutes() / 60 } else { 1 };
        let (community, address) = self.household(resident).await?;
        if let Some(worker) = request.worker_id {
            // The reasons name the worker and their records: for the agency, not for a resident.
            self.worker_fits(worker, &menu.agency_id, menu.catalog_item()?, menu.skill_level(), unit, &request.slot)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(_) => invalid(
                        "worker_id",
                        Invalid::new(
                            "worker_unavailable",
                            "该服务员此时段无法接单，请换一个时间或服务员",
                            "this worker cannot take this slot; pick another time or worker",
                        ),
                    ),
                    other => other,
                })?;
        }
        let grant = match request.subsidised {
            true => Some(self.grant_for_booking(resident, request.slot.start, &community).await?),
            false => None,
        };
        let sealed = self.crypto().seal_at(&address, &format!("orders.address:{resident}"));
        let at = now();
        let outcome = write_tx!(self, tx => async {
            // The price and terms in effect as the order is written are the ones it keeps, and
            // they must be the ones the resident was shown.
            let most = max_waiting_orders();
            // With the resident's orders waiting for agencies (as many as the limit), in one look.
            let (price_id, price_fen, free_hours, fee_percent, version, waiting): (i64, i64, i64, i64, i64, i64) =
                sqlx::query_as(
                    "SELECT p.id, p.price_fen, m.free_cancel_hours, m.cancel_fee_percent, m.version,
                        (SELECT COUNT(*) FROM (SELECT 1 FROM orders WHERE resident_account_id = $2
                             AND status = 'requested' LIMIT $3) w)
                     FROM menu_items m JOIN menu_prices p ON p.menu_item_id = m.id
                     WHERE m.id = $1 AND m.withdrawn_at IS NULL ORDER BY p.id DESC LIMIT 1",
                ).bind(menu.id).bind(resident).bind(most).fetch_one(&mut *tx).await?;
            if request.expected_price_fen.is_some_and(|seen| seen != price_fen)
                || request.expected_version.is_some_and(|seen| seen != version)
            {
                return Err(StoreError::Conflict { what: "price_changed", existing_id: None });
            }
            if most > 0 && waiting >= most {
                return Err(invalid("step", Invalid::new(
                    "too_many_waiting",
                    format!("您已有{most}个订单等待企业确认，请等确认或取消后再预约"),
                    format!("{most} of your orders are waiting for agencies; book more once one is confirmed or cancelled"),
                )));
            }
            let total_fen = price_fen * quantity;
            if let Some(grant) = &grant {
                admit_subsidy_in!(tx, grant, total_fen, request.slot.minutes())?;
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO orders (resident_account_id, agency_id, menu_item_id, price_id, item, mode, level,
                     unit_price_fen, quantity, total_fen, free_cancel_hours, cancel_fee_percent, starts_at, ends_at,
                     requested_worker_id, community_code, address_cipher, note, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'requested', $19, $19)
                 RETURNING id",
            ).bind(resident).bind(menu.agency_id).bind(menu.id).bind(price_id).bind(&menu.item).bind(&menu.mode)
            .bind(&menu.level).bind(price_fen).bind(quantity).bind(total_fen).bind(free_hours)
            .bind(fee_percent).bind(request.slot.start).bind(request.slot.end).bind(request.worker_id)
            .bind(&community).bind(&sealed).bind(note).bind(at).fetch_one(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO order_events (order_id, step, from_status, to_status, party, actor_account_id, reason, at)
                 VALUES ($1, 'request', NULL, 'requested', 'resident', $2, '', $3)",
            ).bind(id).bind(resident).bind(at).execute(&mut *tx).await?;
            if let Some(grant) = &grant {
                pay_subsidy_in!(tx, grant, id, total_fen, request.slot.minutes(), at)?;
            }
            if let Some(worker) = request.worker_id {
                take_time_in!(tx, worker, "order", Some(id), &request.slot, "", resident)?;
            }
            if let Some(key) = key {
                sqlx::query(
                    "INSERT INTO idempotency_keys (account_id, key, request_digest, order_id, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                ).bind(resident).bind(&key.key).bind(&key.digest).bind(id).bind(at).execute(&mut *tx).await
                .map_err(StoreError::conflict_on("idempotency_key"))?;
            }
            Ok(id)
        }.await);
        match outcome {
            Ok(id) => Ok(Booked { order: self.order(id).await?, replayed: false }),
            Err(error) => {
                // A twin request with the same key that won the race answers for both.
                if let Some(key) = key
                    && let Some(order) = self.replay(resident, key).await?
                {
                    return Ok(Booked { order, replayed: true });
                }
                match (request.worker_id, error) {
                    // The time asked for is named, not the other household's booking.
                    (Some(_), StoreError::Overlap { .. }) => {
                        Err(StoreError::Overlap { start: request.slot.start, end: request.slot.end })
                    }
                    (_, error) => Err(error),
                }
            }
        }
    }

    /// Whether the worker is employed by the agency, ready for the item's service through the
    /// slot by spans that are not being recomputed, and (for visits) on shift.
    async fn plainly_fits(
        &self,
        worker_id: i64,
        agency_id: i64,
        item: CatalogItem,
        unit: Unit,
        slot: &Slot,
    ) -> Result<bool> {
        let (weekday, from_minute, to_minute) = slot.on_the_week();
        let whole_days = matches!(unit, Unit::Days { .. });
        let (fits,): (bool,) = on_pool!(self, p => sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active')
                AND NOT EXISTS (SELECT 1 FROM readiness_stale WHERE worker_id = $1)
                AND EXISTS (SELECT 1 FROM worker_readiness WHERE worker_id = $1 AND service = $3
                            AND ready_from <= $4 AND ready_until > $5)
                AND ($6 OR EXISTS (SELECT 1 FROM worker_shifts WHERE worker_id = $1 AND weekday = $7
                                   AND from_minute <= $8 AND to_minute >= $9))",
        ).bind(worker_id).bind(agency_id).bind(item.service().as_str()).bind(slot.day()).bind(slot.last_day())
        .bind(whole_days).bind(weekday).bind(from_minute).bind(to_minute).fetch_one(p).await?);
        Ok(fits)
    }

    /// The assigned worker must still work for the agency when the service starts and ends: a
    /// worker who left is replaced (or the order cancelled) first.
    async fn still_employed(&self, order: &OrderRow) -> Result<()> {
        match order.worker_id {
            Some(worker) if !self.employs(order.agency_id, worker).await? => Err(invalid(
                "worker_id",
                Invalid::new(
                    "not_agency_worker",
                    "该服务员已不在本企业，请先改派或取消订单",
                    "the worker no longer works for this agency; assign another or cancel the order",
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The order a key already made, if any; the same key with another request is refused.
    pub async fn replay(&self, resident: i64, key: &IdempotencyKey) -> Result<Option<OrderRow>> {
        let seen: Option<(Vec<u8>, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT request_digest, order_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
        ).bind(resident).bind(&key.key).fetch_optional(p).await?);
        match seen {
            None => Ok(None),
            Some((digest, id)) if digest == key.digest => Ok(Some(self.order(id).await?)),
            Some(_) => Err(invalid(
                "Idempotency-Key",
                Invalid::new(
                    "key_reused",
                    "该幂等键已用于另一个不同的请求",
                    "this Idempotency-Key was already used for a different request",
                ),
            )),
        }
    }

    /// Whether a worker may be sent for this item in this slot: employed by the agency, meeting
    /// the workforce rules on the first and last day, and (for visits) on shift. Says why not.
    pub async fn worker_fits(
        &self,
        worker_id: i64,
        agency_id: &i64,
        item: CatalogItem,
        level: Option<SkillLevel>,
        unit: Unit,
        slot: &Slot,
    ) -> Result<()> {
        // Most bookings meet every rule, and the kept readiness, the binding and the shift say so
        // in one look; the facts are read only to say why not (or for a level, or a worker whose
        // readiness is being recomputed).
        if level.is_none() && self.plainly_fits(worker_id, *agency_id, item, unit, slot).await? {
            return Ok(());
        }
        if !self.employs(*agency_id, worker_id).await? {
            return Err(invalid(
                "worker_id",
                Invalid::new("not_agency_worker", "该服务员不在此企业", "the worker does not work for this agency"),
            ));
        }
        let facts = self.load_facts_of_workers(&[worker_id]).await?;
        let facts = facts.first().ok_or(StoreError::NotFound)?;
        let requirement = item.requirement(level);
        let last_day = beijing_date(slot.end - Duration::seconds(1));
        if let Some(day) = first_unready_day(&facts.facts, &requirement, slot.day(), last_day) {
            let unmet = assess(&facts.facts, &requirement, day);
            let (reasons_zh, reasons_en): (Vec<_>, Vec<_>) =
                unmet.unmet().map(|c| (c.reason_zh.clone(), c.reason_en.clone())).unzip();
            return Err(invalid(
                "worker_id",
                Invalid::new(
                    "not_compliant",
                    format!("{}不能承接{}：{}", facts.name, item.label_zh(), reasons_zh.join("；")),
                    format!(
                        "{} may not serve {}: {}",
                        facts.name,
                        item.label_en().to_lowercase(),
                        reasons_en.join("; ")
                    ),
                ),
            ));
        }
        if !matches!(unit, Unit::Days { .. }) {
            let weekday = slot.start.with_timezone(&jiazheng_core::calendar::beijing()).format("%u").to_string();
            let weekday: u8 = weekday.parse().unwrap_or(1);
            let shifts = self.shifts(worker_id).await?;
            let on_shift = shifts.iter().find(|(d, _)| *d == weekday).is_some_and(|(_, s)| s.holds(slot));
            if !on_shift {
                let hours = shifts.iter().find(|(d, _)| *d == weekday).map(|(_, s)| s.describe());
                return Err(invalid(
                    "worker_id",
                    Invalid::new(
                        "off_shift",
                        match &hours {
                            Some(h) => format!("{}当天的班次是{h}，所选时段不在班内", facts.name),
                            None => format!("{}当天休息", facts.name),
                        },
                        match &hours {
                            Some(h) => format!("{} works {h} that day; the slot is outside it", facts.name),
                            None => format!("{} is off that day", facts.name),
                        },
                    ),
                ));
            }
        }
        Ok(())
    }

    pub async fn order(&self, id: i64) -> Result<OrderRow> {
        let sql = format!("{SELECT_ORDER} WHERE o.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The part `who` plays in an order; someone with no part does not see it at all.
    pub fn party_in(&self, order: &OrderRow, who: &Principal) -> Result<Party> {
        match who.role {
            Role::Resident if who.account_id == order.resident_account_id => Ok(Party::Resident),
            Role::AgencyAdmin if who.agency_id() == Some(order.agency_id) => Ok(Party::Agency),
            Role::Regulator => {
                let place = jiazheng_core::division::DivisionCode::parse(&order.agency_district)
                    .map_err(|_| StoreError::NotFound)?;
                if who.regulates(&place) { Ok(Party::Regulator) } else { Err(StoreError::NotFound) }
            }
            _ => Err(StoreError::NotFound),
        }
    }

    /// An order as `who` may see it.
    pub async fn order_for(&self, id: i64, who: &Principal) -> Result<(OrderRow, Party)> {
        let order = self.order(id).await?;
        let party = self.party_in(&order, who)?;
        Ok((order, party))
    }

    /// The household address of an order, for the resident and the agency serving it.
    pub async fn order_address(&self, order: &OrderRow) -> Result<String> {
        let (cipher,): (Vec<u8>,) = on_pool!(self, p => sqlx::query_as("SELECT address_cipher FROM orders WHERE id = $1")
            .bind(order.id).fetch_one(p).await?);
        if cipher.is_empty() {
            return Ok(String::new());
        }
        self.crypto().open_at(&cipher, &format!("orders.address:{}", order.resident_account_id))
    }

    pub async fn order_events(&self, id: i64) -> Result<Vec<OrderEvent>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT e.id, e.step, e.from_status, e.to_status, e.party, a.display_name AS actor_name, e.reason, e.at
             FROM order_events e JOIN accounts a ON a.id = e.actor_account_id WHERE e.order_id = $1 ORDER BY e.id",
        ).bind(id).fetch_all(p).await?))
    }

    fn check_step(order: &OrderRow, step: OrderStep, party: Party) -> Result<OrderStatus> {
        let to = order::next(order.status(), step, party).map_err(|e| invalid("step", e))?;
        order::in_time(step, order.starts_at, now()).map_err(|e| invalid("step", e))?;
        Ok(to)
    }

    /// The agency confirms; a worker the resident chose (already booked) is accepted with it.
    pub async fn confirm_order(&self, id: i64, who: &Principal) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        Self::check_step(&order, OrderStep::Confirm, party)?;
        if let (Some(worker), Some(item), Ok(mode)) =
            (order.requested_worker_id, order.catalog_item(), PriceMode::parse(&order.mode))
        {
            // What held at booking may have lapsed since: checked again as the agency accepts.
            let level = SkillLevel::parse(&order.level).ok();
            self.worker_fits(worker, &order.agency_id, item, level, Unit::from_parts(mode, 1), &order.slot()).await?;
        }
        write_tx!(self, tx => async {
            move_in!(tx, &order, OrderStep::Confirm, OrderStatus::Confirmed, party, who.account_id, "")?;
            if let Some(worker) = order.requested_worker_id {
                let confirmed = OrderRow { status: OrderStatus::Confirmed.as_str().into(), ..order.clone() };
                move_in!(tx, &confirmed, OrderStep::Assign, OrderStatus::Assigned, party, who.account_id, "")?;
                sqlx::query("UPDATE orders SET worker_id = $1 WHERE id = $2").bind(worker).bind(id).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)?;
        self.order(id).await
    }

    /// The agency sends a worker: checked against the rules and shifts, and their time taken.
    /// A worker the order held before is released.
    pub async fn assign_order(&self, id: i64, worker_id: i64, who: &Principal) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        Self::check_step(&order, OrderStep::Assign, party)?;
        let item = order.catalog_item().ok_or(StoreError::Crypto("bad stored item"))?;
        let mode = PriceMode::parse(&order.mode).map_err(|_| StoreError::Crypto("bad stored mode"))?;
        // After a change of worker in a running service, the new worker starts the next day.
        let start = order::handover(order.starts_at, now());
        let slot = Slot { start, end: order.ends_at };
        if slot.start >= slot.end {
            return Err(invalid("step", Invalid::new("nothing_left", "服务期已结束", "the service period is over")));
        }
        let unit = Unit::from_parts(mode, 1);
        let level = SkillLevel::parse(&order.level).ok();
        self.worker_fits(worker_id, &order.agency_id, item, level, unit, &slot).await?;
        let outcome = write_tx!(self, tx => async {
            sqlx::query("DELETE FROM worker_bookings WHERE order_id = $1 AND starts_at >= $2")
                .bind(id).bind(slot.start).execute(&mut *tx).await?;
            take_time_in!(tx, worker_id, "order", Some(id), &slot, "", who.account_id)?;
            move_in!(tx, &order, OrderStep::Assign, OrderStatus::Assigned, party, who.account_id, "")?;
            sqlx::query("UPDATE orders SET worker_id = $1 WHERE id = $2").bind(worker_id).bind(id).execute(&mut *tx).await?;
            Ok(())
        }.await);
        if let Err(error) = outcome {
            return Err(self.name_overlap(error, worker_id, &slot).await);
        }
        self.order(id).await
    }

    pub async fn start_order(&self, id: i64, who: &Principal) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        let to = Self::check_step(&order, OrderStep::Start, party)?;
        self.still_employed(&order).await?;
        write_tx!(self, tx => move_in!(tx, &order, OrderStep::Start, to, party, who.account_id, ""))?;
        self.order(id).await
    }

    /// The service is done: a service record on the worker's credit record whose source is the
    /// order, written with the step.
    pub async fn complete_order(&self, id: i64, who: &Principal) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        let to = Self::check_step(&order, OrderStep::Complete, party)?;
        self.still_employed(&order).await?;
        self.finish(&order, OrderStep::Complete, to, party, who.account_id, "").await?;
        self.order(id).await
    }

    async fn finish(
        &self,
        order: &OrderRow,
        step: OrderStep,
        to: OrderStatus,
        party: Party,
        actor: i64,
        reason: &str,
    ) -> Result<()> {
        let (Some(worker), Some(item)) = (order.worker_id, order.catalog_item()) else {
            return Err(invalid("step", Invalid::new("no_worker", "订单尚未派单", "no worker was assigned")));
        };
        let performed_on = beijing_date(order.starts_at);
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: worker,
            kind: EntryKind::Service,
            payload: json!({ "order_id": order.id, "service": item.service().as_str(), "item": item.as_str(),
                "agency_id": order.agency_id, "performed_on": performed_on }),
            source: format!("order:{}", order.id),
            recorded_by: Some(actor),
            corrects: None,
        };
        let at = now();
        ledger_tx!(self, tx => async {
            let row = append_in!(tx, &entry)?;
            let service = if let Some(service) = order.service_id {
                service
            } else {
                let (service,): (i64,) = sqlx::query_as(
                    "INSERT INTO service_records (agency_id, worker_id, resident_account_id, service, performed_on,
                         recorded_by, recorded_at, confirmed_at, ledger_seq, order_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id",
                ).bind(order.agency_id).bind(worker).bind(order.resident_account_id).bind(item.service().as_str())
                .bind(performed_on).bind(actor).bind(at).bind(row.seq).bind(order.id).fetch_one(&mut *tx).await
                .map_err(StoreError::conflict_on("already_completed"))?;
                service
            };
            move_in!(tx, order, step, to, party, actor, reason)?;
            sqlx::query("UPDATE orders SET service_id = $1 WHERE id = $2").bind(service).bind(order.id)
                .execute(&mut *tx).await?;
            // What the order holds is settled with the step (an unpaid order settles nothing).
            super::payments::settle_in!(tx, order.id, at)?;
            Ok(())
        }.await)
    }

    /// Cancels inside the published terms: the resident pays the fee they set once inside the
    /// window; an agency cancelling costs the resident nothing. The worker's time is released.
    pub async fn cancel_order(&self, id: i64, who: &Principal, reason: &str) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        let to = Self::check_step(&order, OrderStep::Cancel, party)?;
        let reason = reason_text(reason)?;
        let at = now();
        let fee = cancel_fee(&order, party, at);
        write_tx!(self, tx => async {
            move_in!(tx, &order, OrderStep::Cancel, to, party, who.account_id, &reason)?;
            void_order_contract_in!(tx, id, "订单已取消 Order cancelled").await?;
            sqlx::query("UPDATE orders SET cancel_fee_fen = $1 WHERE id = $2").bind(fee).bind(id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM worker_bookings WHERE order_id = $1").bind(id).execute(&mut *tx).await?;
            // The fee to the agency and the rest refunded; the provider is asked after commit.
            super::payments::cancel_money_in!(tx, id, order.agency_id, fee, at)?;
            Ok(())
        }.await)?;
        self.order(id).await
    }

    /// A resident of long-term care asks for another worker in the first three days: free; the
    /// order goes back to the agency to assign, and the worker's remaining time is released.
    pub async fn replace_worker(&self, id: i64, who: &Principal, reason: &str) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        let to = Self::check_step(&order, OrderStep::Replace, party)?;
        let at = now();
        order::may_replace(order.starts_at, order.ends_at, at).map_err(|e| invalid("step", e))?;
        let reason = reason_text(reason)?;
        // The outgoing worker keeps today (whole days) or nothing not yet begun.
        let cut = order::handover(order.starts_at, at);
        write_tx!(self, tx => async {
            move_in!(tx, &order, OrderStep::Replace, to, party, who.account_id, &reason)?;
            void_order_contract_in!(tx, id, "更换服务员 Worker replaced").await?;
            sqlx::query("DELETE FROM worker_bookings WHERE order_id = $1 AND starts_at >= $2")
                .bind(id).bind(cut).execute(&mut *tx).await?;
            sqlx::query("UPDATE worker_bookings SET ends_at = $1 WHERE order_id = $2 AND ends_at > $1")
                .bind(cut).bind(id).execute(&mut *tx).await?;
            sqlx::query("UPDATE orders SET worker_id = NULL, requested_worker_id = NULL WHERE id = $1")
                .bind(id).execute(&mut *tx).await?;
            Ok(())
        }.await)?;
        self.order(id).await
    }

    /// The resident disputes the order: a complaint against the agency, filed on the order, enters
    /// the regulator's casework in the same transaction.
    pub async fn dispute_order(&self, id: i64, who: &Principal, body: &str) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        let to = Self::check_step(&order, OrderStep::Dispute, party)?;
        let body = jiazheng_core::field::required_paragraphs(body, 2000).map_err(|e| invalid("reason", e))?;
        if body.chars().count() < 5 {
            return Err(invalid(
                "reason",
                Invalid::new(
                    "too_short",
                    "请具体说明发生了什么（至少5个字）",
                    "say what happened (at least 5 characters)",
                ),
            ));
        }
        let at = now();
        write_tx!(self, tx => async {
            // One dispute per order: a resolved one is not reopened (the complaint stays with the regulator).
            let (earlier,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM complaints WHERE order_id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            if earlier > 0 {
                return Err(StoreError::Conflict { what: "already_disputed", existing_id: None });
            }
            move_in!(tx, &order, OrderStep::Dispute, to, party, who.account_id, &body)?;
            sqlx::query(
                "INSERT INTO complaints (resident_account_id, subject_kind, subject_id, service_id, body, status,
                     filed_at, updated_at, order_id)
                 VALUES ($1, 'agency', $2, $3, $4, 'filed', $5, $5, $6)",
            ).bind(order.resident_account_id).bind(order.agency_id).bind(order.service_id).bind(&body).bind(at)
            .bind(id).execute(&mut *tx).await?;
            Ok(())
        }.await)?;
        self.order(id).await
    }

    /// The agency or a regulator closes a dispute: the service counts as delivered.
    pub async fn resolve_order(&self, id: i64, who: &Principal, reason: &str) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        let to = Self::check_step(&order, OrderStep::Resolve, party)?;
        let reason = reason_text(reason)?;
        if order.service_id.is_some() {
            write_tx!(self, tx => move_in!(tx, &order, OrderStep::Resolve, to, party, who.account_id, &reason))?;
        } else {
            self.finish(&order, OrderStep::Resolve, to, party, who.account_id, &reason).await?;
        }
        self.order(id).await
    }

    /// One rating per completed order, by its resident: a rating entry on the worker's record
    /// whose source is the order.
    pub async fn rate_order(&self, id: i64, who: &Principal, rating: &Rating) -> Result<OrderRow> {
        let (order, party) = self.order_for(id, who).await?;
        if order.status() == OrderStatus::Rated {
            return Err(StoreError::Conflict { what: "already_rated", existing_id: None });
        }
        let to = Self::check_step(&order, OrderStep::Rate, party)?;
        let (Some(service), Some(worker)) = (order.service_id, order.worker_id) else {
            return Err(invalid("step", Invalid::new("not_completed", "订单尚未完成", "the order is not completed")));
        };
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: worker,
            kind: EntryKind::Rating,
            payload: json!({ "order_id": order.id, "service_id": service, "stars": rating.stars(),
                "quality": rating.quality, "punctuality": rating.punctuality, "attitude": rating.attitude,
                "communication": rating.communication }),
            source: format!("order:{}", order.id),
            recorded_by: Some(who.account_id),
            corrects: None,
        };
        ledger_tx!(self, tx => async {
            let row = append_in!(tx, &entry)?;
            sqlx::query(
                "INSERT INTO ratings (service_id, quality, punctuality, attitude, communication, comment, rated_at, ledger_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ).bind(service).bind(rating.quality).bind(rating.punctuality).bind(rating.attitude)
            .bind(rating.communication).bind(&rating.comment).bind(now()).bind(row.seq)
            .execute(&mut *tx).await.map_err(StoreError::conflict_on("already_rated"))?;
            move_in!(tx, &order, OrderStep::Rate, to, party, who.account_id, "")?;
            Ok(())
        }.await)?;
        self.order(id).await
    }

    /// The rating an order's resident gave, once given.
    pub async fn rating_of_order(&self, order: &OrderRow) -> Result<Option<Rating>> {
        let Some(service) = order.service_id else { return Ok(None) };
        let row: Option<(i64, i64, i64, i64, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT quality, punctuality, attitude, communication, comment FROM ratings WHERE service_id = $1",
        ).bind(service).fetch_optional(p).await?);
        Ok(row.map(|(quality, punctuality, attitude, communication, comment)| Rating {
            quality,
            punctuality,
            attitude,
            communication,
            comment: comment.unwrap_or_default(),
        }))
    }

    /// A resident's orders, newest first.
    pub async fn orders_of_resident(&self, resident: i64, page: PageRequest) -> Result<Page<OrderRow>> {
        let sql = format!("{SELECT_ORDER} WHERE o.resident_account_id = $1 ORDER BY o.id DESC LIMIT $2 OFFSET $3");
        let items: Vec<OrderRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident)
            .bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                on_pool!(self, p => sqlx::query_as::<_, (i64,)>(
                "SELECT COUNT(*) FROM orders WHERE resident_account_id = $1").bind(resident).fetch_one(p).await?)
                .0
            }
        };
        Ok(page.wrap(items, total))
    }

    /// An agency's order board: today's, upcoming, waiting for a worker, disputed, or all.
    pub async fn order_board(&self, agency: i64, board: Board, page: PageRequest) -> Result<Page<OrderRow>> {
        let at = now();
        let today = day_start(beijing_date(at));
        let (filter, order_by) = match board {
            Board::Today => ("o.starts_at < $3 AND o.ends_at > $2 AND o.status <> 'cancelled'", "o.starts_at"),
            Board::Upcoming => {
                ("o.starts_at >= $3 AND o.status IN ('requested', 'confirmed', 'assigned') AND $2 = $2", "o.starts_at")
            }
            Board::Unassigned => {
                ("o.status IN ('requested', 'confirmed') AND o.ends_at > $2 AND $3 = $3", "o.starts_at")
            }
            Board::Disputes => ("o.status = 'disputed' AND $2 = $2 AND $3 = $3", "o.id"),
            Board::All => ("$2 = $2 AND $3 = $3", "o.id DESC"),
        };
        let sql = format!("{SELECT_ORDER} WHERE o.agency_id = $1 AND {filter} ORDER BY {order_by} LIMIT $4 OFFSET $5");
        let tomorrow = today + Duration::days(1);
        let items: Vec<OrderRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency)
            .bind(today).bind(tomorrow).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                let sql = format!("SELECT COUNT(*) FROM orders o WHERE o.agency_id = $1 AND {filter}");
                on_pool!(self, p => sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql)).bind(agency).bind(today)
                    .bind(tomorrow).fetch_one(p).await?)
                .0
            }
        };
        Ok(page.wrap(items, total))
    }

    /// Counts of an agency's board, for its tabs.
    pub async fn order_board_counts(&self, agency: i64) -> Result<[i64; 4]> {
        let mut counts = [0; 4];
        for (i, board) in [Board::Today, Board::Upcoming, Board::Unassigned, Board::Disputes].into_iter().enumerate() {
            counts[i] = self.order_board(agency, board, PageRequest::new(Some(1), Some(1))).await?.total;
        }
        Ok(counts)
    }
}
