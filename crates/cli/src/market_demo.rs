//! Synthetic market data: every agency's menu at plausible prices, weekly shifts for every
//! employed worker, residents, and orders holding workers' time over the coming week. For the
//! demo, also one order of the demo agency in every state, made through the live paths.

use std::collections::HashMap;

use chrono::Duration;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::credit::casework::RatingForm;
use jiazheng_core::market::menu::MenuForm;
use jiazheng_core::market::slot::{Shift, Slot, day_start};
use jiazheng_core::market::{CatalogItem, OrderStatus, PriceMode};
use jiazheng_store::Store;
use jiazheng_store::market::bulk::{BulkOrder, MenuFacts};
use jiazheng_store::market::orders::BookingRequest;
use jiazheng_store::market::search::WorkerQuery;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::commands::progress_bar;

/// (item, mode, amount, lowest and highest price in yuan, level).
const OFFERS: &[(&str, &str, u32, u32, u32, &str)] = &[
    ("daily_cleaning", "per_item", 120, 100, 160, ""),
    ("deep_cleaning", "per_item", 240, 300, 500, ""),
    ("move_in_cleaning", "per_item", 480, 600, 1000, ""),
    ("organising", "per_item", 180, 200, 400, ""),
    ("appliance_cleaning", "per_item", 90, 80, 150, ""),
    ("cooking", "per_hour", 2, 50, 70, ""),
    ("hourly_help", "per_hour", 2, 35, 50, ""),
    ("maternity", "package", 26, 9800, 13800, "level5"),
    ("maternity", "package", 26, 15800, 22800, "level3"),
    ("childcare", "per_hour", 4, 40, 60, ""),
    ("elderly_care", "per_hour", 2, 45, 65, ""),
    ("patient_care", "per_hour", 4, 50, 70, ""),
    ("live_in", "package", 30, 5500, 8000, ""),
];

/// What a market run made.
#[derive(Debug, Default)]
pub struct MarketSummary {
    pub menu_items: usize,
    pub workers_with_shifts: usize,
    pub orders: usize,
}

impl std::fmt::Display for MarketSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "market: {} menu items, shifts for {} workers, {} orders",
            self.menu_items, self.workers_with_shifts, self.orders
        )
    }
}

fn menu_form(item: &str, mode: &str, amount: u32, yuan: u32, level: &str) -> MenuForm {
    MenuForm {
        item: item.into(),
        mode: mode.into(),
        price: yuan.to_string(),
        amount: amount.to_string(),
        level: level.into(),
        description: String::new(),
        free_cancel_hours: "24".into(),
        cancel_fee_percent: "20".into(),
    }
}

/// Menus for agencies without one, shifts for every employed worker, `residents` residents and
/// `per_worker` orders for each employed worker in the coming week (two-hour visits at 09:00 and
/// 14:00, so a worker's orders never meet).
pub async fn generate(
    store: &Store,
    per_worker: usize,
    residents: usize,
    seed: u64,
    show: bool,
) -> anyhow::Result<MarketSummary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut summary = MarketSummary::default();
    let agencies = store.agency_ids().await?;
    let have: std::collections::HashSet<i64> = store.menu_facts().await?.iter().map(|m| m.agency_id).collect();
    let mut menus = Vec::new();
    for agency in agencies.iter().filter(|a| !have.contains(a)) {
        // Everyone sells cleaning by the hour; then three or four more items.
        let price = rng.random_range(40..=60);
        menus.push((
            *agency,
            menu_form("daily_cleaning", "per_hour", 2, price, "").parse().map_err(|e| anyhow::anyhow!("{e:?}"))?,
        ));
        for _ in 0..rng.random_range(3..=4) {
            let (item, mode, amount, low, high, level) = OFFERS[rng.random_range(0..OFFERS.len())];
            let yuan = rng.random_range(low..=high) / 10 * 10;
            let draft = menu_form(item, mode, amount, yuan, level).parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
            if !menus.iter().any(|(a, d): &(i64, jiazheng_core::market::menu::MenuDraft)| {
                *a == *agency && d.item == draft.item && d.unit.mode() == draft.unit.mode() && d.level == draft.level
            }) {
                menus.push((*agency, draft));
            }
        }
    }
    summary.menu_items = menus.len();
    let by = store.system_account().await?;
    store.bulk_menus(&menus, by).await?;
    let facts: HashMap<i64, MenuFacts> = store.menu_facts().await?.into_iter().map(|m| (m.id, m)).collect();
    let mut by_agency: HashMap<i64, Vec<&MenuFacts>> = HashMap::new();
    for m in facts.values() {
        by_agency.entry(m.agency_id).or_default().push(m);
    }
    for list in by_agency.values_mut() {
        list.sort_by_key(|m| m.id);
    }
    let streets = store.village_units().await?;
    let households: Vec<(String, String, String)> = (0..residents)
        .map(|i| {
            let unit = &streets[rng.random_range(0..streets.len())];
            (
                format!("demo-resident-{seed}-{i}"),
                unit.code.clone(),
                format!(
                    "{}小区{}栋{}单元{}",
                    unit.name,
                    rng.random_range(1..30),
                    rng.random_range(1..6),
                    rng.random_range(101..1802)
                ),
            )
        })
        .collect();
    let resident_ids = store.bulk_residents(&households).await?;
    let communities: HashMap<i64, String> =
        resident_ids.iter().zip(&households).map(|(id, h)| (*id, h.1.clone())).collect();
    let shifts = [Shift { from: 8 * 60, to: 18 * 60 }, Shift { from: 9 * 60, to: 20 * 60 }];
    let today = jiazheng_core::calendar::beijing_today();
    let bar = progress_bar(0, "workers");
    if !show {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut after = 0;
    loop {
        let workers = store.bound_workers(after, 20_000).await?;
        let Some(last) = workers.last() else { break };
        after = last.0;
        let mut rows = Vec::with_capacity(workers.len() * 6);
        let mut orders = Vec::new();
        for (worker, agency, services) in &workers {
            let shift = shifts[rng.random_range(0..2)];
            let off = rng.random_range(1..=7u8);
            rows.extend((1..=7u8).filter(|d| *d != off).map(|d| (*worker, d, shift)));
            let Some(menu) = by_agency.get(agency).and_then(|list| {
                list.iter()
                    .find(|m| m.mode == "per_hour" && m.service_bit & services != 0)
                    .or_else(|| list.iter().find(|m| m.mode == "per_hour"))
            }) else {
                continue;
            };
            if resident_ids.is_empty() {
                continue;
            }
            // Distinct visits among the week's fourteen, drawn at random.
            let mut visits: Vec<usize> = (0..14).collect();
            for i in 0..per_worker.min(14) {
                let j = rng.random_range(i..14);
                visits.swap(i, j);
            }
            for &n in visits.iter().take(per_worker.min(14)) {
                let day = today + Duration::days(1 + (n / 2) as i64);
                let start = day_start(day) + Duration::hours(if n % 2 == 0 { 9 } else { 14 });
                let resident = resident_ids[rng.random_range(0..resident_ids.len())];
                orders.push(BulkOrder {
                    resident,
                    menu_item_id: menu.id,
                    quantity: 2,
                    start,
                    end: start + Duration::hours(2),
                    worker: Some(*worker),
                    community: communities[&resident].clone(),
                    status: OrderStatus::Assigned,
                });
            }
        }
        store.bulk_shifts(&rows, by).await?;
        summary.orders += store.bulk_orders(&orders, &facts).await?.len();
        summary.workers_with_shifts += workers.len();
        bar.set_position(summary.workers_with_shifts as u64);
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// One order of the demo agency in every state, for the demo resident, made through the live
/// paths (so each has its steps and ledger entries).
pub async fn every_state(store: &Store, agency: i64, agency_admin: i64, resident: i64) -> anyhow::Result<usize> {
    store.set_resident_address(resident, "220102001001", "华阳小区3栋2单元501").await?;
    let Some(menu) = store
        .menu_of_agency(agency)
        .await?
        .into_iter()
        .find(|m| m.item == CatalogItem::DailyCleaning.as_str() && m.mode == "per_hour")
    else {
        return Ok(0);
    };
    let admin = Principal { account_id: agency_admin, role: Role::AgencyAdmin, scope: Scope::Agency(agency) };
    let me = Principal { account_id: resident, role: Role::Resident, scope: Scope::None };
    let today = jiazheng_core::calendar::beijing_today();
    // Past days for what is done, coming days for what is waiting.
    let plan = [
        (-3, OrderStatus::Rated),
        (-2, OrderStatus::Completed),
        (-1, OrderStatus::Disputed),
        (0, OrderStatus::InService),
        (1, OrderStatus::Assigned),
        (2, OrderStatus::Confirmed),
        (3, OrderStatus::Requested),
        (4, OrderStatus::Cancelled),
    ];
    let mut made = 0;
    for (offset, status) in plan {
        let day = today + Duration::days(offset);
        // 16:00 Beijing: after the generated visits (09:00 and 14:00), inside every shift.
        let start = day_start(day) + Duration::hours(16);
        let slot = Slot { start, end: start + Duration::hours(2) };
        let query = WorkerQuery {
            item: CatalogItem::DailyCleaning,
            mode: PriceMode::PerHour,
            slot,
            district: None,
            level: None,
            resident: None,
            after: 0,
            limit: 1,
            menu_item: Some(menu.id),
            for_order: None,
        };
        // The rules are read for the day; a worker who is free and fit then is sent.
        let worker = store.available_workers(&query).await?.workers.first().map(|w| w.worker_id);
        let needs_worker = !matches!(status, OrderStatus::Requested | OrderStatus::Confirmed | OrderStatus::Cancelled);
        if needs_worker && worker.is_none() {
            continue;
        }
        // A chosen worker is accepted when the agency confirms: the path a resident's choice takes.
        let chosen = if needs_worker { worker } else { None };
        let request = BookingRequest {
            menu_item_id: menu.id,
            slot,
            worker_id: chosen,
            note: String::new(),
            expected_price_fen: None,
            expected_version: None,
            subsidised: false,
        };
        let id = store.book(resident, &request, None).await?.order.id;
        if status == OrderStatus::Cancelled {
            store.cancel_order(id, &me, "临时出差").await?;
        }
        if status != OrderStatus::Requested && status != OrderStatus::Cancelled {
            store.confirm_order(id, &admin).await?;
        }
        if matches!(
            status,
            OrderStatus::InService | OrderStatus::Completed | OrderStatus::Rated | OrderStatus::Disputed
        ) {
            store.start_order(id, &admin).await?;
        }
        if matches!(status, OrderStatus::Completed | OrderStatus::Rated) {
            store.complete_order(id, &admin).await?;
        }
        if status == OrderStatus::Rated {
            let rating = RatingForm {
                quality: "5".into(),
                punctuality: "5".into(),
                attitude: "5".into(),
                communication: "4".into(),
                comment: "准时，打扫得很干净".into(),
            };
            store.rate_order(id, &me, &rating.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?).await?;
        }
        if status == OrderStatus::Disputed {
            store.dispute_order(id, &me, "服务时间不足两小时，提前离开").await?;
        }
        made += 1;
    }
    Ok(made)
}
