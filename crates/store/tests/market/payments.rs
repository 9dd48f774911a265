//! Money on a real database: notifications applied once, refunds never above what is held,
//! completion and cancellation settling what was paid, a journal whose every transaction sums to
//! zero and whose balances equal its rows after a random mix, and the sandbox's bill reconciled.

use chrono::Utc;
use jiazheng_core::account::Principal;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::market::payment::{Account, BillKind, Discrepancy, reconcile};
use jiazheng_store::market::payments::{Applied, PaidNotice, RefundedNotice};
use jiazheng_store::{Store, StoreError};
use rand::{RngExt, SeedableRng};

use super::{Market, market, request, resident, slot};

fn paid(out_trade_no: &str, transaction_id: &str, amount_fen: i64) -> PaidNotice {
    PaidNotice {
        out_trade_no: out_trade_no.into(),
        transaction_id: transaction_id.into(),
        amount_fen,
        paid_at: Utc::now(),
    }
}

/// Books an order of `hours` on day `day`, `n`-th resident, and opens its payment.
async fn booked_and_opened(m: &Market, n: u32, day: i64, hours: u32) -> (Principal, i64, String, i64) {
    let store = &m.db.store;
    let someone = resident(store, &format!("1370000{n:04}")).await;
    let order = store.book(someone.account_id, &request(m.menu, slot(day, "10:00", hours), None), None).await.unwrap();
    let payment = store.open_payment(order.order.id, &someone).await.unwrap();
    (someone, order.order.id, payment.out_trade_no, payment.amount_fen)
}

async fn assert_balanced(store: &Store) {
    let audit = store.audit_journal().await.unwrap();
    assert!(audit.is_clean(), "unbalanced {:?}, mismatched {:?}", audit.unbalanced, audit.mismatched);
}

pub(super) async fn complete(m: &Market, order: i64, worker: i64) {
    let store = &m.db.store;
    store.confirm_order(order, &m.agency_admin).await.unwrap();
    store.assign_order(order, worker, &m.agency_admin).await.unwrap();
    jiazheng_store::testing::let_order_begin(store, order).await.unwrap();
    store.start_order(order, &m.agency_admin).await.unwrap();
    store.complete_order(order, &m.agency_admin).await.unwrap();
}

#[tokio::test]
async fn a_notification_is_applied_once_and_a_wrong_amount_or_number_changes_nothing() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let (someone, order, number, amount) = booked_and_opened(&m, 1, 3, 2).await;
    assert_eq!(amount, 9000);
    assert_eq!(store.open_payment(order, &someone).await.unwrap().out_trade_no, number, "the same payment order");

    match store.apply_payment(&paid(&number, "4200000001", amount + 1)).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "amount_mismatch"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        store.apply_payment(&paid("JZ99999999P1", "4200000002", amount)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), 0, "nothing changed");

    assert_eq!(store.apply_payment(&paid(&number, "4200000001", amount)).await.unwrap(), Applied::Now);
    for _ in 0..3 {
        assert_eq!(store.apply_payment(&paid(&number, "4200000001", amount)).await.unwrap(), Applied::Already);
    }
    assert!(matches!(
        store.apply_payment(&paid(&number, "4200000999", amount)).await,
        Err(StoreError::Conflict { what: "paid_by_another_transaction", .. })
    ));
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), amount);
    assert_eq!(store.balance(Account::Held(order)).await.unwrap(), -amount);
    assert_eq!(store.held_for_order(order).await.unwrap().held_fen(), amount);
    assert!(matches!(
        store.open_payment(order, &someone).await,
        Err(StoreError::Conflict { what: "already_paid", .. })
    ));
    assert_balanced(store).await;
}

#[tokio::test]
async fn a_refund_is_never_more_than_is_held_and_its_notice_applies_once() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let (someone, order, number, amount) = booked_and_opened(&m, 2, 3, 2).await;
    match store.refund_order(order, &m.agency_admin, 100, "部分退款").await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "not_paid"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    store.apply_payment(&paid(&number, "4200000003", amount)).await.unwrap();
    assert!(matches!(store.refund_order(order, &someone, 100, "自己退").await, Err(StoreError::Refused(_))));
    let first = store.refund_order(order, &m.agency_admin, 3000, "少做一小时").await.unwrap().unwrap();
    assert_eq!((first.out_refund_no.as_str(), first.amount_fen), (format!("{number}R1").as_str(), 3000));
    match store.refund_order(order, &m.agency_admin, amount - 3000 + 1, "再退").await {
        Err(StoreError::Invalid(errors)) => {
            assert_eq!((errors.0[0].field.as_str(), errors.0[0].code), ("amount_fen", "refund_above_paid"))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(store.refunds_to_submit(10).await.unwrap().len(), 1);
    let notice = RefundedNotice {
        out_refund_no: first.out_refund_no.clone(),
        refund_id: "503000001".into(),
        amount_fen: 3000,
        refunded_at: Utc::now(),
    };
    assert_eq!(store.apply_refund(&notice).await.unwrap(), Applied::Now);
    assert_eq!(store.apply_refund(&notice).await.unwrap(), Applied::Already);
    assert!(store.apply_refund(&RefundedNotice { amount_fen: 2999, ..notice }).await.is_err());
    assert_eq!(store.refunds_of_order(order).await.unwrap()[0].status, "succeeded");
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), amount - 3000);
    assert_eq!(store.held_for_order(order).await.unwrap().held_fen(), amount - 3000);
    assert_balanced(store).await;
}

#[tokio::test]
async fn completion_settles_to_the_agency_or_splits_with_an_intermediary_worker_and_cancelling_keeps_the_fee() {
    let m = market(3, 3).await;
    let store = &m.db.store;
    // The second worker works through the agency as an intermediary; the agency's fee is 20%.
    jiazheng_store::testing::run_sql(
        store,
        &format!("UPDATE bindings SET kind = 'intermediary' WHERE worker_id = {}", m.workers[1]),
    )
    .await
    .unwrap();

    let (_, employee_order, number, amount) = booked_and_opened(&m, 3, 3, 2).await;
    store.apply_payment(&paid(&number, "4200000010", amount)).await.unwrap();
    complete(&m, employee_order, m.workers[0]).await;
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), -amount);
    assert_eq!(store.held_for_order(employee_order).await.unwrap().held_fen(), 0);

    let (_, split_order, number, amount) = booked_and_opened(&m, 4, 4, 3).await;
    store.apply_payment(&paid(&number, "4200000011", amount)).await.unwrap();
    complete(&m, split_order, m.workers[1]).await;
    assert_eq!(store.balance(Account::Worker(m.workers[1])).await.unwrap(), -(amount - amount / 5));
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), -(9000 + amount / 5));

    // An unpaid order completes and settles nothing.
    let (_, unpaid, _, _) = booked_and_opened(&m, 5, 5, 2).await;
    complete(&m, unpaid, m.workers[2]).await;
    assert_eq!(store.held_for_order(unpaid).await.unwrap().paid_fen, 0);

    // Cancelled inside the window after confirmation: 20% to the agency, the rest refunded.
    let (someone, late, number, amount) = booked_and_opened(&m, 6, 3, 2).await;
    store.apply_payment(&paid(&number, "4200000012", amount)).await.unwrap();
    store.confirm_order(late, &m.agency_admin).await.unwrap();
    jiazheng_store::testing::run_sql(store, &format!("UPDATE orders SET free_cancel_hours = 1000 WHERE id = {late}"))
        .await
        .unwrap();
    let before = store.balance(Account::Agency(m.agency)).await.unwrap();
    let cancelled = store.cancel_order(late, &someone, "临时有事").await.unwrap();
    assert_eq!(cancelled.cancel_fee_fen, Some(amount / 5));
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), before - amount / 5);
    let refunds = store.refunds_of_order(late).await.unwrap();
    assert_eq!(refunds.iter().map(|r| r.amount_fen).collect::<Vec<_>>(), [amount - amount / 5]);

    // Paid after it was cancelled (the notice arrived late): all of it refunded at once.
    let (someone, gone, number, amount) = booked_and_opened(&m, 7, 5, 2).await;
    store.cancel_order(gone, &someone, "").await.unwrap();
    store.apply_payment(&paid(&number, "4200000013", amount)).await.unwrap();
    assert_eq!(store.refunds_of_order(gone).await.unwrap()[0].amount_fen, amount);
    assert_eq!(store.held_for_order(gone).await.unwrap().held_fen(), 0);
    assert_balanced(store).await;
}

#[tokio::test]
async fn balances_equal_the_journal_after_a_random_mix_of_pays_refunds_completions_and_cancels() {
    const ORDERS: u16 = 10;
    let m = market(ORDERS, ORDERS).await;
    let store = &m.db.store;
    let mut rng = rand::rngs::StdRng::seed_from_u64(
        std::env::var("PAYMENT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(12),
    );
    let mut expected_clearing = 0;
    for i in 0..ORDERS {
        let (someone, order, number, amount) =
            booked_and_opened(&m, 100 + u32::from(i), 2 + i64::from(i % 6), 2 + u32::from(i % 3)).await;
        let pays = rng.random_bool(0.8);
        if pays {
            for _ in 0..rng.random_range(1..4) {
                store.apply_payment(&paid(&number, &format!("42000{i:05}"), amount)).await.unwrap();
            }
            expected_clearing += amount;
        }
        for _ in 0..rng.random_range(0..3) {
            let ask = rng.random_range(1..=amount);
            let held = store.held_for_order(order).await.unwrap().held_fen();
            match store.refund_order(order, &m.agency_admin, ask, "部分退款").await {
                Ok(refund) => {
                    assert!(ask <= held);
                    expected_clearing -= refund.expect("a paid order refunds at the provider").amount_fen;
                }
                Err(StoreError::Invalid(_)) => assert!(!pays || ask > held),
                Err(other) => panic!("{other:?}"),
            }
        }
        if rng.random_bool(0.5) {
            complete(&m, order, m.workers[usize::from(i)]).await;
            assert_eq!(store.held_for_order(order).await.unwrap().held_fen(), 0);
        } else {
            if rng.random_bool(0.5) {
                store.confirm_order(order, &m.agency_admin).await.unwrap();
            }
            let held = store.held_for_order(order).await.unwrap().held_fen();
            let cancelled = store.cancel_order(order, &someone, "").await.unwrap();
            let fee = cancelled.cancel_fee_fen.unwrap_or(0).min(held);
            expected_clearing -= held - fee;
        }
        let money = store.held_for_order(order).await.unwrap();
        assert!(money.refunded_fen <= money.paid_fen);
    }
    assert_eq!(store.balance(Account::Clearing).await.unwrap(), expected_clearing);
    let audit = store.audit_journal().await.unwrap();
    assert!(audit.transactions > 0);
    assert_balanced(store).await;
}

#[tokio::test]
async fn the_sandbox_is_idempotent_and_its_bill_reconciles_with_the_platform_but_for_planted_faults() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let url = "http://127.0.0.1:1/api/v1/payments/notify";
    let mut numbers = Vec::new();
    for n in 0..4 {
        let (_, order, number, amount) = booked_and_opened(&m, 200 + n, 3 + i64::from(n), 2).await;
        let txn = store.sandbox_create(&number, amount, "保洁", url).await.unwrap();
        assert_eq!(store.sandbox_create(&number, amount, "保洁", url).await.unwrap().id, txn.id, "idempotent");
        assert!(store.sandbox_create(&number, amount + 1, "保洁", url).await.is_err());
        let done = store.sandbox_pay(txn.id).await.unwrap();
        store.sandbox_pay(txn.id).await.unwrap();
        store.apply_payment(&paid(&number, &done.transaction_id, amount)).await.unwrap();
        numbers.push((order, number, amount));
    }
    assert_eq!(store.sandbox_due(Utc::now(), 100).await.unwrap().len(), 4, "one notification per payment");
    // A refund through both sides.
    let (order, number, _) = &numbers[0];
    let refund = store.refund_order(*order, &m.agency_admin, 1000, "部分退款").await.unwrap().unwrap();
    let accepted = store.sandbox_refund(&refund.out_refund_no, number, 1000).await.unwrap();
    assert_eq!(accepted.status, "PROCESSING", "accepted, not yet done");
    match store.sandbox_refund("other", number, 1_000_000).await {
        Err(StoreError::Invalid(errors)) => assert_eq!(errors.0[0].code, "refund_above_paid"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let today = beijing_today();
    // Both sides list it as processing: no difference yet, and no notification either.
    let found = reconcile(&store.sandbox_bill(today).await.unwrap(), &store.platform_bill(today).await.unwrap());
    assert!(found.is_empty(), "{found:?}");
    assert!(store.sandbox_due(Utc::now(), 100).await.unwrap().iter().all(|n| n.event_type != "REFUND.SUCCESS"));
    assert_eq!(store.sandbox_complete_refunds(Utc::now() + chrono::Duration::seconds(1), 100).await.unwrap(), 1);
    assert_eq!(store.sandbox_complete_refunds(Utc::now() + chrono::Duration::seconds(1), 100).await.unwrap(), 0);
    let bill = store.sandbox_bill(today).await.unwrap();
    assert_eq!(bill.len(), 5);
    let platform = store.platform_bill(today).await.unwrap();
    // The platform has not heard of the refund's success yet: that is a status difference.
    let found = reconcile(&bill, &platform);
    assert!(matches!(&found[..], [Discrepancy::StatusDiffers { kind: BillKind::Refund, .. }]), "{found:?}");
    let sandbox_refund = store.sandbox_due(Utc::now(), 100).await.unwrap();
    let refund_note = sandbox_refund.iter().find(|n| n.event_type == "REFUND.SUCCESS").unwrap();
    let resource: serde_json::Value = serde_json::from_str(&refund_note.resource).unwrap();
    store
        .apply_refund(&RefundedNotice {
            out_refund_no: refund.out_refund_no.clone(),
            refund_id: resource["refund_id"].as_str().unwrap().into(),
            amount_fen: 1000,
            refunded_at: Utc::now(),
        })
        .await
        .unwrap();
    assert!(
        reconcile(&store.sandbox_bill(today).await.unwrap(), &store.platform_bill(today).await.unwrap()).is_empty()
    );

    // Planted: the provider took a payment the platform never heard of, the platform holds a
    // payment the provider never took, and an amount the provider changed.
    let stray = store.sandbox_create("JZ77777777P1", 500, "?", url).await.unwrap();
    store.sandbox_pay(stray.id).await.unwrap();
    let (_, _, ghost, amount) = booked_and_opened(&m, 300, 8, 2).await;
    store.apply_payment(&paid(&ghost, "4200000999", amount)).await.unwrap();
    let changed = &numbers[2].1;
    jiazheng_store::testing::run_sql(
        store,
        &format!("UPDATE sandbox_transactions SET amount_fen = amount_fen - 1 WHERE out_trade_no = '{changed}'"),
    )
    .await
    .unwrap();
    let found = reconcile(&store.sandbox_bill(today).await.unwrap(), &store.platform_bill(today).await.unwrap());
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().any(|d| matches!(d, Discrepancy::MissingOnPlatform(l) if l.out_trade_no == "JZ77777777P1")));
    assert!(found.iter().any(|d| matches!(d, Discrepancy::MissingAtProvider(l) if l.out_trade_no == ghost)));
    assert!(found.iter().any(
        |d| matches!(d, Discrepancy::AmountDiffers { number, provider_fen, platform_fen, .. } if number == changed && provider_fen + 1 == *platform_fen)
    ));
}

#[tokio::test]
async fn a_notification_not_acknowledged_waits_by_the_schedule_and_is_given_up_after_it() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    let (_, _, number, amount) = booked_and_opened(&m, 400, 3, 2).await;
    let txn = store.sandbox_create(&number, amount, "保洁", "http://127.0.0.1:1/").await.unwrap();
    store.sandbox_pay(txn.id).await.unwrap();
    let note = store.sandbox_due(Utc::now(), 10).await.unwrap().remove(0);
    store.sandbox_failed(&note, "connection refused").await.unwrap();
    assert!(store.sandbox_due(Utc::now(), 10).await.unwrap().is_empty(), "not before 15 s");
    let later = store.sandbox_due(Utc::now() + chrono::Duration::seconds(16), 10).await.unwrap();
    assert_eq!(later[0].attempts, 1);
    jiazheng_store::testing::run_sql(store, "UPDATE sandbox_notifications SET attempts = 15").await.unwrap();
    let note = store.sandbox_due(Utc::now() + chrono::Duration::days(2), 10).await.unwrap().remove(0);
    store.sandbox_failed(&note, "still refused").await.unwrap();
    assert_eq!(store.sandbox_undelivered().await.unwrap(), 0, "given up after the 16th try");
}

#[tokio::test]
async fn a_long_service_is_settled_week_by_week_and_a_refund_after_settlement_comes_back_from_the_agency() {
    let m = market(1, 1).await;
    let store = &m.db.store;
    // A 28-day live-in package at ¥8,400 (¥300 a day).
    let live_in = jiazheng_core::market::menu::MenuForm {
        item: "住家保姆".into(),
        mode: "package".into(),
        price: "8400".into(),
        amount: "28".into(),
        free_cancel_hours: "72".into(),
        cancel_fee_percent: "10".into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let menu = store.publish_menu_item(m.agency, &live_in, m.agency_admin.account_id).await.unwrap();
    let someone = resident(store, "13700000401").await;
    let start = jiazheng_core::market::slot::day_start(beijing_today() + chrono::Duration::days(5));
    let slot = jiazheng_core::market::slot::Slot { start, end: start + chrono::Duration::days(28) };
    let order = store.book(someone.account_id, &request(menu.id, slot, None), None).await.unwrap().order;
    let payment = store.open_payment(order.id, &someone).await.unwrap();
    assert_eq!(payment.amount_fen, 840_000, "paid in full through the platform, as the contract says");
    store.apply_payment(&paid(&payment.out_trade_no, "4200000401", 840_000)).await.unwrap();
    // The service has run ten days (the worker's part of it is another test's business).
    let began = jiazheng_store::testing::run_sql(
        store,
        &format!(
            "UPDATE orders SET status = 'in_service', starts_at = '{}', ends_at = '{}' WHERE id = {}",
            (start - chrono::Duration::days(15)).format("%Y-%m-%dT%H:%M:%S%.fZ"),
            (start + chrono::Duration::days(13)).format("%Y-%m-%dT%H:%M:%S%.fZ"),
            order.id
        ),
    )
    .await
    .unwrap();
    assert_eq!(began, 1);
    let today = jiazheng_core::calendar::beijing_date(start - chrono::Duration::days(15)) + chrono::Duration::days(10);
    assert_eq!(store.settle_periods(today).await.unwrap(), 1);
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), -210_000, "one week of four");
    assert_eq!(store.settle_periods(today).await.unwrap(), 0, "a second run the same day moves nothing");
    assert_eq!(store.settle_periods(today + chrono::Duration::days(4)).await.unwrap(), 1);
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), -420_000, "two weeks");
    assert_eq!(store.held_for_order(order.id).await.unwrap().held_fen(), 420_000);
    // A refund of ¥5,000 once two weeks are settled: ¥4,200 held, ¥800 back from the agency.
    let refund = store.refund_order(order.id, &m.agency_admin, 500_000, "提前终止").await.unwrap().unwrap();
    assert_eq!(refund.amount_fen, 500_000);
    assert_eq!(store.held_for_order(order.id).await.unwrap().held_fen(), 0);
    assert_eq!(store.balance(Account::Agency(m.agency)).await.unwrap(), -340_000);
    match store.refund_order(order.id, &m.agency_admin, 340_001, "再退").await {
        Err(StoreError::Invalid(errors)) => {
            assert_eq!(errors.0[0].code, "refund_above_paid");
            assert!(errors.0[0].message_zh.contains("¥3400.00"), "{}", errors.0[0].message_zh);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_balanced(store).await;
}
