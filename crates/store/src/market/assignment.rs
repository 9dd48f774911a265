//! Next-day assignment for one agency: tomorrow's (Beijing) confirmed orders that still wait for
//! a worker, each with the agency's workers the market search finds free and compliant for it,
//! matched by core's solver and written one by one through `assign_order`, so the checks, the
//! booking and the order's event are the ones a person assigning by hand gets.
//!
//! Only confirmed orders are taken: a requested order has not been accepted by the agency yet,
//! and accepting it (its price, the household, the time) is a decision this job does not make.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use jiazheng_core::account::Principal;
use jiazheng_core::calendar::beijing_date;
use jiazheng_core::market::PriceMode;
use jiazheng_core::market::assignment::{Need, Open, Place, PlacedBy, Problem, solve};
use jiazheng_core::market::slot::day_start;
use jiazheng_core::workforce::SkillLevel;
use serde::Serialize;

use super::orders::OrderRow;
use super::search::{AvailableWorker, WorkerQuery};
use crate::registry::places::locate;
use crate::{Result, Store, StoreError, now, on_pool};

/// Orders one run takes at most (an agency's day; the rest wait for the next run).
pub const MAX_ORDERS: i64 = 2_000;
/// Candidates read per order: enough to choose the nearest among an agency's free workers.
const MAX_CANDIDATES: usize = 300;
/// A worker takes at most one order per round; later rounds give free workers a second order
/// that does not overlap the first.
const MAX_ROUNDS: usize = 6;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignedOrder {
    pub order_id: i64,
    pub number: String,
    pub worker_id: i64,
    pub worker_name: String,
    /// Great-circle metres from the worker's home street to the household's community.
    pub metres: i64,
    /// The resident had this worker on their last completed order with the agency.
    pub preferred: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenOrder {
    pub order_id: i64,
    pub number: String,
    /// `no_candidate`, `candidates_taken` or the code of the check that refused the worker.
    pub reason: String,
    pub reason_zh: String,
    pub reason_en: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentRun {
    pub assigned: Vec<AssignedOrder>,
    pub left_open: Vec<OpenOrder>,
    pub total_metres: i64,
    /// Orders whose resident had a worker before, and how many got that worker again.
    pub preferred_asked: usize,
    pub preferred_kept: usize,
    /// Distinct divisions in the run (households' communities, workers' home streets) that had
    /// no point of their own and took their street's, district's or city's; and those with none.
    pub places_fallen_back: usize,
    pub places_unknown: usize,
}

struct Located {
    fallen_back: usize,
    unknown: usize,
    cache: HashMap<String, Option<Place>>,
}

impl Located {
    fn place(&mut self, code: &str) -> Option<Place> {
        if let Some(found) = self.cache.get(code) {
            return *found;
        }
        let found = locate(code);
        match found {
            Some((_, PlacedBy::Own)) => {}
            Some(_) => self.fallen_back += 1,
            None => self.unknown += 1,
        }
        let place = found.map(|(p, _)| p);
        self.cache.insert(code.to_string(), place);
        place
    }
}

impl Store {
    /// Assigns tomorrow's confirmed, unassigned orders of `who`'s agency.
    pub async fn assign_next_day(&self, agency: i64, who: &Principal) -> Result<AssignmentRun> {
        if who.agency_id() != Some(agency) {
            return Err(StoreError::NotFound);
        }
        let tomorrow = day_start(beijing_date(now()) + Duration::days(1));
        let mut orders = self.open_orders_starting(agency, tomorrow, tomorrow + Duration::days(1)).await?;
        let mut run = AssignmentRun::default();
        let mut located = Located { fallen_back: 0, unknown: 0, cache: HashMap::new() };
        let mut last_worker: HashMap<i64, Option<i64>> = HashMap::new();
        for order in &orders {
            let last = self.last_worker_of(order).await?;
            run.preferred_asked += usize::from(last.is_some());
            last_worker.insert(order.id, last);
        }
        for _ in 0..MAX_ROUNDS {
            if orders.is_empty() {
                break;
            }
            let mut workers: Vec<(i64, String)> = Vec::new();
            let mut index_of: HashMap<i64, usize> = HashMap::new();
            let mut needs = Vec::with_capacity(orders.len());
            // Orders of one item at one time have the same candidates (none of them holds any
            // worker's time yet), so the search runs once per item and slot.
            let mut searched: HashMap<(i64, DateTime<Utc>, DateTime<Utc>), Vec<AvailableWorker>> = HashMap::new();
            for order in &orders {
                let key = (order.menu_item_id, order.starts_at, order.ends_at);
                if let std::collections::hash_map::Entry::Vacant(slot) = searched.entry(key) {
                    slot.insert(self.candidates_for(order).await?);
                }
                let mut candidates = Vec::new();
                for found in &searched[&key] {
                    let w = *index_of.entry(found.worker_id).or_insert_with(|| {
                        workers.push((found.worker_id, found.worker_name.clone()));
                        workers.len() - 1
                    });
                    if !candidates.contains(&w) {
                        candidates.push(w);
                    }
                }
                let preferred = last_worker[&order.id].and_then(|id| index_of.get(&id).copied());
                let preferred = preferred.filter(|p| candidates.contains(p));
                needs.push(Need { at: located.place(&order.community_code), preferred, candidates });
            }
            let homes = self.home_streets(&workers.iter().map(|w| w.0).collect::<Vec<_>>()).await?;
            let places = workers.iter().map(|(id, _)| homes.get(id).and_then(|street| located.place(street))).collect();
            let problem = Problem { workers: places, needs };
            let solution = solve(&problem);
            let mut still_open = Vec::new();
            let mut progress = false;
            for (n, order) in orders.into_iter().enumerate() {
                let Some(w) = solution.worker_of[n] else {
                    let reason = solution.open_reason(&problem, n).unwrap_or(Open::CandidatesTaken);
                    still_open.push((order, open_because(reason)));
                    continue;
                };
                let (worker_id, worker_name) = workers[w].clone();
                match self.assign_order(order.id, worker_id, who).await {
                    Ok(_) => {
                        progress = true;
                        let preferred = problem.needs[n].preferred == Some(w);
                        run.preferred_kept += usize::from(preferred);
                        let metres = problem.metres(n, w);
                        run.total_metres += metres;
                        run.assigned.push(AssignedOrder {
                            order_id: order.id,
                            number: order.number(),
                            worker_id,
                            worker_name,
                            metres,
                            preferred,
                        });
                    }
                    // Someone else changed the order or the worker's time since it was read:
                    // it is tried again next round, and named if it stays open.
                    Err(StoreError::Invalid(errors)) => {
                        let first = errors.0.first();
                        still_open.push((
                            order,
                            (
                                first.map_or("refused".into(), |e| e.code.to_string()),
                                first.map_or(String::new(), |e| e.message_zh.clone()),
                                first.map_or(String::new(), |e| e.message_en.clone()),
                            ),
                        ))
                    }
                    Err(StoreError::Overlap { .. }) => still_open.push((order, overlap())),
                    Err(StoreError::Stale) => still_open.push((order, changed())),
                    Err(other) => return Err(other),
                }
            }
            let (retry, done): (Vec<_>, Vec<_>) =
                still_open.into_iter().partition(|(_, (code, _, _))| code != "no_candidate");
            run.left_open.extend(done.into_iter().map(|(order, reason)| opened(&order, reason)));
            if !progress {
                run.left_open.extend(retry.into_iter().map(|(order, reason)| opened(&order, reason)));
                orders = Vec::new();
                break;
            }
            orders = retry.into_iter().map(|(order, _)| order).collect();
        }
        // Orders still waiting after the last round.
        run.left_open.extend(orders.iter().map(|order| opened(order, open_because(Open::CandidatesTaken))));
        run.left_open.sort_by_key(|o| o.order_id);
        run.assigned.sort_by_key(|o| o.order_id);
        run.places_fallen_back = located.fallen_back;
        run.places_unknown = located.unknown;
        Ok(run)
    }

    /// Whether the nightly job assigns the agency's next-day orders.
    pub async fn auto_assign_of(&self, agency: i64) -> Result<bool> {
        let (by,): (Option<i64>,) =
            on_pool!(self, p => sqlx::query_as("SELECT auto_assign_by FROM agencies WHERE id = $1")
            .bind(agency).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)?;
        Ok(by.is_some())
    }

    /// The agency's admin turns the nightly assignment on (under their own name) or off.
    pub async fn set_auto_assign(&self, who: &Principal, on: bool) -> Result<()> {
        let agency = who.agency_id().ok_or(StoreError::NotFound)?;
        on_pool!(self, p => sqlx::query("UPDATE agencies SET auto_assign_by = $1 WHERE id = $2")
            .bind(on.then_some(who.account_id)).bind(agency).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// The nightly job: every agency that opted in, as the admin who did, while that account is
    /// still an enabled admin of the agency. One agency's failure does not stop the others.
    pub async fn assign_next_day_everywhere(&self) -> Result<Vec<(i64, Result<AssignmentRun>)>> {
        let agencies: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT g.id, a.id FROM agencies g JOIN accounts a ON a.id = g.auto_assign_by
             WHERE a.role = 'agency_admin' AND a.agency_id = g.id AND NOT a.disabled ORDER BY g.id",
        ).fetch_all(p).await?);
        let mut runs = Vec::with_capacity(agencies.len());
        for (agency, account_id) in agencies {
            let who = Principal {
                account_id,
                role: jiazheng_core::account::Role::AgencyAdmin,
                scope: jiazheng_core::account::Scope::Agency(agency),
            };
            runs.push((agency, self.assign_next_day(agency, &who).await));
        }
        Ok(runs)
    }

    /// Confirmed orders of the agency starting in [from, to) without a worker, oldest first.
    async fn open_orders_starting(&self, agency: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<OrderRow>> {
        let sql = format!(
            "{} WHERE o.agency_id = $1 AND o.status = 'confirmed' AND o.worker_id IS NULL
               AND o.starts_at >= $2 AND o.starts_at < $3 ORDER BY o.id LIMIT $4",
            super::orders::SELECT_ORDER
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency).bind(from).bind(to)
            .bind(MAX_ORDERS).fetch_all(p).await?))
    }

    /// The worker of the resident's last completed order with the agency.
    async fn last_worker_of(&self, order: &OrderRow) -> Result<Option<i64>> {
        let last: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT worker_id FROM orders WHERE resident_account_id = $1 AND agency_id = $2
                AND status IN ('completed', 'rated') AND worker_id IS NOT NULL ORDER BY ends_at DESC, id DESC LIMIT 1",
        ).bind(order.resident_account_id).bind(order.agency_id).fetch_optional(p).await?);
        Ok(last.map(|(id,)| id))
    }

    /// The agency's workers free and compliant for the order: the market search, page by page.
    async fn candidates_for(&self, order: &OrderRow) -> Result<Vec<AvailableWorker>> {
        let (Some(item), Ok(mode)) = (order.catalog_item(), PriceMode::parse(&order.mode)) else {
            return Ok(Vec::new());
        };
        let mut query = WorkerQuery {
            item,
            mode,
            slot: order.slot(),
            district: None,
            level: SkillLevel::parse(&order.level).ok(),
            resident: None,
            after: 0,
            limit: 100,
            menu_item: Some(order.menu_item_id),
            for_order: Some(order.id),
        };
        let mut all = Vec::new();
        loop {
            let found = self.available_workers(&query).await?;
            all.extend(found.workers);
            match found.next_after {
                Some(after) if all.len() < MAX_CANDIDATES => query.after = after,
                _ => break,
            }
        }
        Ok(all)
    }

    /// Each worker's home street.
    async fn home_streets(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut homes = HashMap::new();
        for chunk in ids.chunks(500) {
            // Integers only, so the list is written into the text.
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT id, home_street FROM workers WHERE id IN ({list})");
            let rows: Vec<(i64, String)> =
                on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?);
            homes.extend(rows);
        }
        Ok(homes)
    }
}

fn open_because(reason: Open) -> (String, String, String) {
    match reason {
        Open::NoCandidate => (
            "no_candidate".into(),
            "本企业没有当时有空、符合该项目要求的服务员".into(),
            "no worker of the agency is free and qualified for this item at that time".into(),
        ),
        Open::CandidatesTaken => (
            "candidates_taken".into(),
            "符合条件的服务员都已派给同一时段的其他订单".into(),
            "every qualified worker went to another order at the same time".into(),
        ),
    }
}

fn overlap() -> (String, String, String) {
    ("overlap".into(), "派单时该服务员的时间已被占用".into(), "the worker's time was taken while assigning".into())
}

fn changed() -> (String, String, String) {
    ("changed".into(), "派单时订单已被他人处理".into(), "someone else acted on the order while assigning".into())
}

fn opened(order: &OrderRow, (reason, reason_zh, reason_en): (String, String, String)) -> OpenOrder {
    OpenOrder { order_id: order.id, number: order.number(), reason, reason_zh, reason_en }
}
