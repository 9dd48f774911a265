//! Who can come: workers of agencies that sell the item, free for the whole slot, on shift (for
//! visits), and meeting the workforce rules for the item on the day. The database narrows by
//! place, skill, menu, shift and bookings, walking workers in id order so a page stops early; the
//! rules in core then decide on the few it found.

use chrono::Duration;
use jiazheng_core::calendar::{beijing, beijing_date};
use jiazheng_core::market::slot::Slot;
use jiazheng_core::market::{CatalogItem, PriceMode};
use jiazheng_core::workforce::SkillLevel;
use jiazheng_core::workforce::compliance::assess;
use serde::Serialize;

use crate::{Result, Store, on_pool};

/// What a resident looks for.
#[derive(Debug, Clone)]
pub struct WorkerQuery {
    pub item: CatalogItem,
    pub mode: PriceMode,
    pub slot: Slot,
    /// A district (6-digit prefix code) or a community the worker lives in or near.
    pub district: Option<String>,
    pub level: Option<SkillLevel>,
    /// Whose previous workers come first.
    pub resident: Option<i64>,
    /// Only workers with a larger id (the next page).
    pub after: i64,
    /// Only this menu item's agency and terms (an agency assigning an order); its length is
    /// the order's, whatever the slot left of it.
    pub menu_item: Option<i64>,
    pub limit: usize,
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct AvailableWorker {
        pub worker_id: i64,
        pub worker_name: String,
        pub district_code: String,
        pub agency_id: i64,
        pub agency_name: String,
        pub menu_item_id: i64,
        pub price_fen: i64,
        pub mode: String,
        pub amount: i64,
        pub level: String,
        /// The resident had this worker on a completed order.
        pub previous: bool,
    }
}

/// A page of workers found, and where the next page starts.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub workers: Vec<AvailableWorker>,
    /// The `after` of the next page, when there may be more.
    pub next_after: Option<i64>,
}

/// Workers read per window, and windows per search at most (a page then says "more").
const WINDOW: i64 = 250;
const MAX_WINDOWS: usize = 24;

impl Store {
    pub async fn available_workers(&self, query: &WorkerQuery) -> Result<Found> {
        let local = query.slot.start.with_timezone(&beijing());
        let weekday: i64 = local.format("%u").to_string().parse().unwrap_or(1);
        let from_minute = (query.slot.start - jiazheng_core::market::slot::day_start(local.date_naive())).num_minutes();
        let to_minute = from_minute + query.slot.minutes();
        let shift_join = if query.mode == PriceMode::Package {
            ""
        } else {
            "JOIN worker_shifts s ON s.worker_id = w.id AND s.weekday = $5 AND s.from_minute <= $6 AND s.to_minute >= $7"
        };
        let previous = "EXISTS (SELECT 1 FROM orders o WHERE o.worker_id = w.id AND o.resident_account_id = $8
                 AND o.status IN ('completed', 'rated'))";
        // Workers come in windows of ids (read from the district's index in id order); the joins
        // then run over one window, so a search costs a few windows however large the city.
        // SQLite's planner would start from the item's menus (every agency selling it) unless the
        // window of workers is made the outer loop; CROSS JOIN is how SQLite is told the order.
        let join = match self.engine() {
            crate::Engine::Sqlite => "CROSS JOIN",
            crate::Engine::Postgres => "JOIN",
        };
        let shift_join = shift_join.replace("JOIN", join);
        let base = |workers: &str| {
            format!(
                "SELECT w.id AS worker_id, w.name AS worker_name, w.district_code, m.agency_id, a.name AS agency_name,
                    m.id AS menu_item_id, m.price_fen, m.mode, m.amount, m.level, {previous} AS previous
                 FROM workers w
                 {join} bindings b ON b.worker_id = w.id AND b.status = 'active'
                 {join} menu_items m ON m.agency_id = b.agency_id AND m.item = $1 AND m.mode = $2 AND m.withdrawn_at IS NULL
                     AND ($9 = '' OR m.level = $9)
                     AND ($15 <> 0 OR (m.mode = 'per_item' AND m.amount <= $14) OR (m.mode = 'per_hour' AND m.amount * 60 <= $14)
                          OR (m.mode = 'package' AND m.amount * 1440 = $14))
                     AND ($15 = 0 OR m.id = $15)
                 {join} agencies a ON a.id = m.agency_id
                 {shift_join}
                 WHERE {workers} AND (w.services & $3) <> 0 AND ($4 = '' OR w.district_code = $4)
                   AND NOT EXISTS (SELECT 1 FROM worker_bookings k WHERE k.worker_id = w.id
                                   AND k.starts_at < $11 AND k.ends_at > $10)
                   AND $12 = $12 AND $13 = $13
                 ORDER BY w.id"
            )
        };
        let district = query.district.clone().unwrap_or_default();
        let level = query.level.map_or("", |l| l.as_str());
        let resident = query.resident.unwrap_or(0);
        let bit = query.item.service().bit();
        macro_rules! run {
            ($sql:expr) => {
                on_pool!(self, p => sqlx::query_as::<_, AvailableWorker>(sqlx::AssertSqlSafe($sql))
                    .bind(query.item.as_str()).bind(query.mode.as_str()).bind(bit)
                    .bind(&district).bind(weekday).bind(from_minute).bind(to_minute).bind(resident).bind(level)
                    .bind(query.slot.start).bind(query.slot.end).bind(0_i64).bind(0_i64).bind(query.slot.minutes())
                    .bind(query.menu_item.unwrap_or(0))
                    .fetch_all(p).await?)
            };
        }
        let mut found: Vec<AvailableWorker> = Vec::new();
        if query.resident.is_some() && query.after == 0 {
            // The resident's earlier workers (few), first.
            let earlier = "w.id IN (SELECT o.worker_id FROM orders o WHERE o.resident_account_id = $8
                    AND o.status IN ('completed', 'rated') ORDER BY o.id DESC LIMIT 50)";
            found = run!(format!("{} LIMIT 20", base(earlier)));
        }
        // Some found may fail the rules on the day: read a few more than the page.
        let fetch = query.limit * 2 + 5;
        let mut after = query.after;
        let mut exhausted = false;
        let mut rest = Vec::new();
        for _ in 0..MAX_WINDOWS {
            let ids: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as(
                "SELECT id FROM workers WHERE ($1 = '' OR district_code = $1) AND (services & $2) <> 0 AND id > $3
                 ORDER BY id LIMIT $4",
            ).bind(&district).bind(bit).bind(after).bind(WINDOW).fetch_all(p).await?);
            let Some(&(last,)) = ids.last() else {
                exhausted = true;
                break;
            };
            after = last;
            // Integers only, so the window is written into the text.
            let list = ids.iter().map(|(id,)| id.to_string()).collect::<Vec<_>>().join(",");
            rest.extend(run!(base(&format!("w.id IN ({list})"))));
            if (ids.len() as i64) < WINDOW {
                exhausted = true;
                break;
            }
            if rest.len() >= fetch {
                break;
            }
        }
        let last_scanned = after;
        let previous_first = query.resident.is_some() && query.after == 0;
        found.extend(rest.into_iter().filter(|w| !(previous_first && w.previous)));
        // The rules, on the first and the last day of the slot.
        let ids: Vec<i64> = found.iter().map(|w| w.worker_id).collect();
        let facts = self.load_facts_of_workers(&ids).await?;
        let requirement = query.item.requirement(query.level);
        let last_day = beijing_date(query.slot.end - Duration::seconds(1));
        let fit: std::collections::HashSet<i64> = facts
            .iter()
            .filter(|f| [query.slot.day(), last_day].iter().all(|d| assess(&f.facts, &requirement, *d).compliant))
            .map(|f| f.id)
            .collect();
        let mut seen = std::collections::HashSet::new();
        let mut workers: Vec<AvailableWorker> = found
            .into_iter()
            .filter(|w| fit.contains(&w.worker_id) && seen.insert((w.worker_id, w.agency_id)))
            .collect();
        let next_after = if workers.len() > query.limit {
            workers.truncate(query.limit);
            workers.iter().filter(|w| !w.previous || !previous_first).map(|w| w.worker_id).max()
        } else if exhausted {
            None
        } else {
            Some(last_scanned)
        };
        Ok(Found { workers, next_after })
    }
}
