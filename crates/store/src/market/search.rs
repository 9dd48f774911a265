//! Who can come: workers of agencies that sell the item, free for the whole slot, on shift (for
//! visits), and meeting the workforce rules for the item on the day. The database narrows by
//! place, skill, menu, shift and bookings, walking workers in id order so a page stops early; the
//! rules in core then decide on the few it found.

use jiazheng_core::market::slot::Slot;
use jiazheng_core::market::{CatalogItem, PriceMode};
use jiazheng_core::workforce::SkillLevel;
use jiazheng_core::workforce::compliance::first_unready_day;
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
    /// The order being assigned: the time it holds does not make its own worker busy.
    pub for_order: Option<i64>,
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

/// Candidates in the first window; the next ones are sized by the share found free so far.
const FIRST_WINDOW: i64 = 48;
const MAX_WINDOW: i64 = 1000;
const MAX_WINDOWS: usize = 8;

impl Store {
    pub async fn available_workers(&self, query: &WorkerQuery) -> Result<Found> {
        let (weekday, from_minute, to_minute) = query.slot.on_the_week();
        let first_day = query.slot.day();
        let last_day = query.slot.last_day();
        // Candidates come in windows of ids: workers ready for the service through the slot's
        // days (from worker_readiness) and workers whose readiness is being recomputed; the joins
        // then run over one window, so a search costs a few windows however large the city.
        // SQLite's planner would start from the item's menus (every agency selling it) unless the
        // window of workers is made the outer loop; CROSS JOIN is how SQLite is told the order.
        let join = match self.engine() {
            crate::Engine::Sqlite => "CROSS JOIN",
            crate::Engine::Postgres => "JOIN",
        };
        let shift_join = if query.mode == PriceMode::Package {
            String::new()
        } else {
            format!(
                "{join} worker_shifts s ON s.worker_id = w.id AND s.weekday = $5 AND s.from_minute <= $6 AND s.to_minute >= $7"
            )
        };
        let previous =
            "($8 <> 0 AND EXISTS (SELECT 1 FROM orders o WHERE o.worker_id = w.id AND o.resident_account_id = $8
                 AND o.status IN ('completed', 'rated')))";
        let base = |workers: &str| {
            format!(
                "SELECT w.id AS worker_id, w.name AS worker_name, w.district_code, m.agency_id, a.name AS agency_name,
                    m.id AS menu_item_id, m.price_fen, m.mode, m.amount, m.level, {previous} AS previous
                 FROM workers w
                 {join} bindings b ON b.worker_id = w.id AND b.status = 'active'
                 {join} menu_items m ON m.agency_id = b.agency_id AND m.item = $1 AND m.mode = $2 AND m.withdrawn_at IS NULL
                     AND ($9 = '' OR m.level = $9)
                     AND ($12 <> 0 OR (m.mode = 'per_item' AND m.amount <= $11) OR (m.mode = 'per_hour' AND m.amount * 60 <= $11)
                          OR (m.mode = 'package' AND m.amount * 1440 = $11))
                     AND ($12 = 0 OR m.id = $12)
                 {join} agencies a ON a.id = m.agency_id
                 {shift_join}
                 WHERE {workers} AND (w.services & $3) <> 0 AND ($4 = '' OR w.district_code = $4)
                   AND NOT EXISTS (SELECT 1 FROM worker_bookings k WHERE k.worker_id = w.id
                                   AND k.starts_at < $10 AND k.ends_at > $13
                                   AND ($14 = 0 OR k.order_id IS NULL OR k.order_id <> $14))
                 ORDER BY w.id"
            )
        };
        let district = query.district.clone().unwrap_or_default();
        let level = query.level.map_or("", |l| l.as_str());
        let resident = query.resident.unwrap_or(0);
        let service = query.item.service();
        let bit = service.bit();
        macro_rules! run {
            ($sql:expr) => {
                on_pool!(self, p => sqlx::query_as::<_, AvailableWorker>(sqlx::AssertSqlSafe($sql))
                    .bind(query.item.as_str()).bind(query.mode.as_str()).bind(bit)
                    .bind(&district).bind(weekday).bind(from_minute).bind(to_minute).bind(resident).bind(level)
                    .bind(query.slot.end).bind(query.slot.minutes()).bind(query.menu_item.unwrap_or(0))
                    .bind(query.slot.start).bind(query.for_order.unwrap_or(0))
                    .fetch_all(p).await?)
            };
        }
        // Rows whose readiness the database could not vouch for: assessed in Rust below.
        let mut unvouched = std::collections::HashSet::new();
        let mut found: Vec<AvailableWorker> = Vec::new();
        let previous_first = query.resident.is_some() && query.after == 0;
        if previous_first {
            // The resident's earlier workers (few), first.
            let earlier = "w.id IN (SELECT o.worker_id FROM orders o WHERE o.resident_account_id = $8
                    AND o.status IN ('completed', 'rated') ORDER BY o.id DESC LIMIT 50)";
            found = run!(format!("{} LIMIT 20", base(earlier)));
            unvouched.extend(found.iter().map(|w| w.worker_id));
        }
        // Both lists come back as one row of comma-separated ids: SQLite hands every row to the
        // async side across threads, which costs more than reading the ids.
        let list_of = |ids: &str| match self.engine() {
            crate::Engine::Sqlite => format!("group_concat({ids})"),
            crate::Engine::Postgres => format!("string_agg({ids}::text, ',')"),
        };
        let candidates_sql = format!(
            "SELECT (SELECT {ready_list} FROM (
                        SELECT DISTINCT worker_id FROM worker_readiness
                        WHERE service = $1 {in_district} AND worker_id > $2 AND ready_from <= $3 AND ready_until > $4
                          {of_agency}
                        ORDER BY worker_id LIMIT $5) r),
                    (SELECT {stale_list} FROM (
                        SELECT t.worker_id FROM readiness_stale t {join} workers w ON w.id = t.worker_id
                        WHERE t.worker_id > $2 AND (w.services & $7) <> 0 AND ($6 = '' OR w.district_code = $6)
                          {of_agency}
                        ORDER BY t.worker_id LIMIT $5) s)",
            ready_list = list_of("r.worker_id"),
            stale_list = list_of("s.worker_id"),
            in_district = if district.is_empty() { "AND $6 = ''" } else { "AND district_code = $6" },
            // An agency assigning its order walks only its own workers, not the whole city's.
            of_agency = "AND ($8 = 0 OR worker_id IN (SELECT b.worker_id FROM bindings b
                             JOIN menu_items m ON m.agency_id = b.agency_id WHERE m.id = $8 AND b.status = 'active'))",
        );
        let ids_in = |text: Option<String>| -> Vec<i64> {
            text.unwrap_or_default().split(',').filter_map(|id| id.trim().parse().ok()).collect()
        };
        let fetch = query.limit + 1;
        let mut window = FIRST_WINDOW;
        let mut after = query.after;
        let mut exhausted = false;
        let mut rest: Vec<AvailableWorker> = Vec::new();
        let mut scanned = 0usize;
        for _ in 0..MAX_WINDOWS {
            let (ready, stale): (Option<String>, Option<String>) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(candidates_sql.as_str()))
                .bind(service.as_str()).bind(after).bind(first_day).bind(last_day).bind(window)
                .bind(&district).bind(bit).bind(query.menu_item.unwrap_or(0))
                .fetch_one(p).await?);
            let (ready, stale) = (ids_in(ready), ids_in(stale));
            let more = ready.len() as i64 == window || stale.len() as i64 == window;
            // The union's first `window` ids lie within the first `window` of each part.
            let mut ids: Vec<(i64, bool)> =
                ready.into_iter().map(|id| (id, false)).chain(stale.into_iter().map(|id| (id, true))).collect();
            ids.sort_unstable();
            ids.dedup_by(|next, kept| {
                let same = next.0 == kept.0;
                kept.1 |= same && next.1;
                same
            });
            ids.truncate(window as usize);
            let Some(&(last, _)) = ids.last() else {
                exhausted = true;
                break;
            };
            after = last;
            scanned += ids.len();
            unvouched.extend(ids.iter().filter(|(_, is_stale)| *is_stale).map(|(id, _)| *id));
            // Integers only, so the window is written into the text.
            let list = ids.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
            // Rows in id order, no more than the page still needs (with room for a worker listed
            // by several agencies): a free hour stops early.
            let cap = fetch.saturating_sub(rest.len()) + 8;
            let mut batch = run!(format!("{} LIMIT {cap}", base(&format!("w.id IN ({list})"))));
            let cut = batch.len() >= cap;
            if let (true, Some(last)) = (cut, batch.last().map(|w| w.worker_id)) {
                // The last worker's other rows may lie past the cut: they come with the next page.
                batch.retain(|w| w.worker_id != last);
                after = last - 1;
            }
            rest.extend(batch);
            if !cut && !more {
                exhausted = true;
                break;
            }
            if rest.len() >= fetch {
                break;
            }
            // The next window is sized by how often a candidate was free so far (busy hours
            // need many), with a margin, so a page is usually one or two windows.
            let hits = rest.len().max(1) as f64 / scanned as f64;
            let wanted = (fetch - rest.len()) as f64 / hits * 1.25;
            window = (wanted.ceil() as i64).clamp(FIRST_WINDOW, (window * 4).min(MAX_WINDOW));
        }
        let last_scanned = after;
        found.extend(rest.into_iter().filter(|w| !(previous_first && w.previous)));
        // The rules in Rust for what the spans do not vouch for: stale workers, the resident's
        // earlier workers, and menus asking for a level.
        let doubtful = |w: &AvailableWorker| !w.level.is_empty() || unvouched.contains(&w.worker_id);
        let ids: Vec<i64> = found.iter().filter(|w| doubtful(w)).map(|w| w.worker_id).collect();
        let facts = self.load_facts_of_workers(&ids).await?;
        let facts: std::collections::HashMap<i64, _> = facts.iter().map(|f| (f.id, &f.facts)).collect();
        let fits = |w: &AvailableWorker| {
            !doubtful(w) || {
                let requirement = query.item.requirement(SkillLevel::parse(&w.level).ok());
                facts
                    .get(&w.worker_id)
                    .is_some_and(|f| first_unready_day(f, &requirement, first_day, last_day).is_none())
            }
        };
        let mut seen = std::collections::HashSet::new();
        let mut workers: Vec<AvailableWorker> =
            found.into_iter().filter(|w| fits(w) && seen.insert((w.worker_id, w.agency_id))).collect();
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
