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
        let base = format!(
            "SELECT w.id AS worker_id, w.name AS worker_name, w.district_code, m.agency_id, a.name AS agency_name,
                m.id AS menu_item_id, m.price_fen, m.mode, m.amount, m.level, {previous} AS previous
             FROM workers w
             JOIN bindings b ON b.worker_id = w.id AND b.status = 'active'
             JOIN menu_items m ON m.agency_id = b.agency_id AND m.item = $1 AND m.mode = $2 AND m.withdrawn_at IS NULL
                 AND ($9 = '' OR m.level = $9)
                 AND ($15 <> 0 OR (m.mode = 'per_item' AND m.amount <= $14) OR (m.mode = 'per_hour' AND m.amount * 60 <= $14)
                      OR (m.mode = 'package' AND m.amount * 1440 = $14))
                 AND ($15 = 0 OR m.id = $15)
             JOIN agencies a ON a.id = m.agency_id
             {shift_join}
             WHERE (w.services & $3) <> 0 AND ($4 = '' OR w.district_code = $4)
               AND NOT EXISTS (SELECT 1 FROM worker_bookings k WHERE k.worker_id = w.id
                               AND k.starts_at < $11 AND k.ends_at > $10)"
        );
        let district = query.district.clone().unwrap_or_default();
        let level = query.level.map_or("", |l| l.as_str());
        let resident = query.resident.unwrap_or(0);
        // The resident's earlier workers first (few), then everyone else in id order.
        let earlier_sql = format!("{base} AND {previous} AND $12 = $12 AND $13 = $13 ORDER BY w.id LIMIT 20");
        let rest_sql = format!("{base} AND w.id > $12 ORDER BY w.id LIMIT $13");
        // Some found may fail the rules on the day: read a few more than the page.
        let fetch = (query.limit * 2 + 5) as i64;
        macro_rules! run {
            ($sql:expr, $after:expr, $limit:expr) => {
                on_pool!(self, p => sqlx::query_as::<_, AvailableWorker>(sqlx::AssertSqlSafe($sql.clone()))
                    .bind(query.item.as_str()).bind(query.mode.as_str()).bind(query.item.service().bit())
                    .bind(&district).bind(weekday).bind(from_minute).bind(to_minute).bind(resident).bind(level)
                    .bind(query.slot.start).bind(query.slot.end).bind($after).bind($limit).bind(query.slot.minutes()).bind(query.menu_item.unwrap_or(0))
                    .fetch_all(p).await?)
            };
        }
        let mut found: Vec<AvailableWorker> = Vec::new();
        if query.resident.is_some() && query.after == 0 {
            found = run!(earlier_sql, 0_i64, 0_i64);
        }
        let rest = run!(rest_sql, query.after, fetch);
        let full = rest.len() as i64 == fetch;
        let last_seen = rest.last().map(|w| w.worker_id);
        found.extend(rest.into_iter().filter(|w| !w.previous || query.after > 0 || query.resident.is_none()));
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
            workers.iter().filter(|w| !w.previous).map(|w| w.worker_id).max()
        } else if full {
            last_seen
        } else {
            None
        };
        Ok(Found { workers, next_after })
    }
}
