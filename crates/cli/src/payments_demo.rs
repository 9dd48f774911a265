//! Payments in bulk for scripts/benchmark-payments: a day of paid payments as the live path
//! would have left them (for reconciliation at scale), payments waiting for their notification,
//! and the provider's signed notifications of those, ready to be sent.

use std::io::Write;

use chrono::{Duration, NaiveDate};
use jiazheng_core::market::OrderStatus;
use jiazheng_core::market::slot::day_start;
use jiazheng_server::payments::wire::NotifyKeys;
use jiazheng_store::Store;
use jiazheng_store::market::bulk::BulkOrder;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::json;

use crate::commands::progress_bar;

/// Orders written per round: bounded memory, and a progress bar that moves.
const ROUND: usize = 10_000;

/// What a run made.
#[derive(Debug, Default)]
pub struct PaymentsSummary {
    pub paid: usize,
    pub pending: usize,
}

impl std::fmt::Display for PaymentsSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payments: {} paid, {} pending", self.paid, self.pending)
    }
}

/// `paid` orders paid over the Beijing day `day` and `pending` orders in the coming week waiting
/// for their payment's notification, spread over `residents` new residents and every hourly
/// menu item on sale.
pub async fn generate(
    store: &Store,
    paid: usize,
    pending: usize,
    day: NaiveDate,
    residents: usize,
    seed: u64,
) -> anyhow::Result<PaymentsSummary> {
    let facts = store.menu_facts().await?;
    let menus: Vec<_> = facts.iter().filter(|m| m.mode == "per_hour").collect();
    anyhow::ensure!(!menus.is_empty(), "no hourly menu items on sale: run `jiazheng demo market` first");
    let units = store.village_units().await?;
    anyhow::ensure!(!units.is_empty(), "no village-level units: the divisions are not loaded");
    // A run's own residents, so that a second run adds to the first instead of clashing with it.
    let run = chrono::Utc::now().timestamp();
    let households: Vec<(String, String, String)> = (0..residents.max(1))
        .map(|i| {
            let unit = &units[(i * 7919) % units.len()];
            (format!("pay-resident-{seed}-{run}-{i}"), unit.code.clone(), format!("{}小区{}栋", unit.name, 1 + i % 30))
        })
        .collect();
    let resident_ids = store.bulk_residents(&households).await?;
    let by_id: std::collections::HashMap<i64, _> = facts.iter().map(|m| (m.id, m.clone())).collect();
    let today = jiazheng_core::calendar::beijing_today();
    let bar = progress_bar((paid + pending) as u64, "payments");
    let mut summary = PaymentsSummary::default();
    for (count, is_paid) in [(paid, true), (pending, false)] {
        let mut made = 0;
        while made < count {
            let round = ROUND.min(count - made);
            let orders: Vec<BulkOrder> = (made..made + round)
                .map(|i| {
                    let menu = menus[i % menus.len()];
                    let resident = i % resident_ids.len();
                    // Paid ones on the day itself; pending ones over the coming week. No worker
                    // is named, so no one's time is held and any number fits in a day.
                    let on = if is_paid { day } else { today + Duration::days(1 + (i % 7) as i64) };
                    let start = day_start(on) + Duration::minutes(8 * 60 + (i % 600) as i64);
                    BulkOrder {
                        resident: resident_ids[resident],
                        menu_item_id: menu.id,
                        quantity: 2,
                        start,
                        end: start + Duration::hours(2),
                        worker: None,
                        community: households[resident].1.clone(),
                        status: OrderStatus::Confirmed,
                    }
                })
                .collect();
            let ids = store.bulk_orders(&orders, &by_id).await?;
            let totals: Vec<(i64, i64)> =
                ids.iter().zip(&orders).map(|(id, o)| (*id, by_id[&o.menu_item_id].price_fen * o.quantity)).collect();
            let window = is_paid.then(|| (day_start(day), day_start(day) + Duration::days(1) - Duration::seconds(1)));
            store.bulk_payments(&totals, window).await?;
            made += round;
            bar.inc(round as u64);
        }
        if is_paid {
            summary.paid = made;
        } else {
            summary.pending = made;
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// A notification's resource as the sandbox writes it, for a payment that succeeded now.
fn paid_resource(out_trade_no: &str, transaction_id: &str, amount_fen: i64) -> String {
    let now = chrono::Utc::now().with_timezone(&jiazheng_core::calendar::beijing());
    json!({
        "mchid": "1900000001",
        "appid": "wxjiazhengsandbox",
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "success_time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        "amount": { "total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY" },
    })
    .to_string()
}

/// Writes `copies` signed notifications of each pending payment (at most `limit` payments),
/// shuffled so that copies of one payment arrive apart and payments out of their order, one a
/// line: timestamp, nonce, serial, signature and body, tab-separated (the body is one line of
/// JSON). Signed now: the platform takes them for five minutes. Answers how many lines.
pub async fn notifications(
    store: &Store,
    copies: usize,
    limit: usize,
    seed: u64,
    out: &mut impl Write,
) -> anyhow::Result<usize> {
    let keys = NotifyKeys::from_crypto(store.crypto());
    let mut payments = Vec::new();
    let mut after = 0;
    while payments.len() < limit {
        let page = store.pending_payments(after, 10_000.min((limit - payments.len()) as i64)).await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        payments.extend(page);
    }
    let bar = progress_bar((payments.len() * copies) as u64, "notifications");
    let now = chrono::Utc::now().timestamp();
    let mut lines = Vec::with_capacity(payments.len() * copies);
    for (id, number, amount) in &payments {
        // One provider transaction per payment: every copy names the same one.
        let resource = paid_resource(number, &format!("4200{id:024}"), *amount);
        for _ in 0..copies {
            let body = keys.seal("TRANSACTION.SUCCESS", "transaction", &resource);
            let signed = keys.sign(now, &body);
            lines.push(format!(
                "{}\t{}\t{}\t{}\t{body}\n",
                signed.timestamp, signed.nonce, signed.serial, signed.signature
            ));
            bar.inc(1);
        }
    }
    lines.shuffle(&mut StdRng::seed_from_u64(seed));
    for line in &lines {
        out.write_all(line.as_bytes())?;
    }
    bar.finish_and_clear();
    Ok(lines.len())
}
