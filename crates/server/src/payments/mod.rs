//! Payments below both the pages and the API: the provider behind a trait, the resident's
//! payment order and what an order's page shows of its money, refunds sent to the provider after
//! the transaction that decided them, and the notification the provider sends back.

pub mod sandbox;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::account::Principal;
use jiazheng_store::Store;
use jiazheng_store::market::orders::OrderRow;
use jiazheng_store::market::payments::{Applied, PaidNotice, PaymentRow, RefundRow, RefundToSubmit, RefundedNotice};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppError;
use wire::{Decrypted, NotifyKeys, Refusal, Signed};

pub type ProviderFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// A payment provider as the platform uses it (WeChat Pay API v3 in shape).
pub trait PaymentProvider: Send + Sync {
    /// Creates the provider's payment order for `payment` (idempotent on its number) and answers
    /// where the payer pays; `return_to` is the platform page to come back to.
    fn create<'a>(&'a self, payment: &'a PaymentRow, return_to: &'a str) -> ProviderFuture<'a, String>;
    /// Asks whether a payment succeeded; `None` while it has not.
    fn query<'a>(&'a self, out_trade_no: &'a str) -> ProviderFuture<'a, Option<PaidNotice>>;
    /// Asks for a refund (idempotent on its number); its success arrives as a notification.
    fn refund<'a>(&'a self, refund: &'a RefundToSubmit) -> ProviderFuture<'a, ()>;
    /// The trade bill of a Beijing day, as CSV.
    fn bill(&self, day: NaiveDate) -> ProviderFuture<'_, String>;
    /// The provider's own background work (the sandbox delivers its notifications); answers how
    /// many things it did.
    fn tick(&self) -> ProviderFuture<'_, usize> {
        Box::pin(async { Ok(0) })
    }
}

/// The payments part of the server's state.
#[derive(Clone)]
pub struct Payments {
    pub provider: Arc<dyn PaymentProvider>,
    pub keys: Arc<NotifyKeys>,
    /// Wakes the background loop: a notification was queued or a refund decided.
    pub wake: Arc<tokio::sync::Notify>,
}

/// The largest notification body taken (WeChat's are about 1 KB).
pub const NOTIFY_BODY_LIMIT: usize = 16 * 1024;

/// Where an order's money stands, as the resident's page and the API show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayState {
    /// Nothing paid and nothing to pay now.
    None,
    Unpaid,
    Processing,
    Paid,
    /// Paid by the district from the resident's subsidy quota.
    Subsidy,
}

impl PayState {
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (PayState::None, false) => "无需支付",
            (PayState::None, true) => "Nothing to pay",
            (PayState::Unpaid, false) => "待支付",
            (PayState::Unpaid, true) => "Awaiting payment",
            (PayState::Processing, false) => "支付处理中",
            (PayState::Processing, true) => "Payment in progress",
            (PayState::Paid, false) => "已支付",
            (PayState::Paid, true) => "Paid",
            (PayState::Subsidy, false) => "由政府补贴支付",
            (PayState::Subsidy, true) => "Paid by the government subsidy",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub state: PayState,
    pub payment: Option<PaymentRow>,
    pub refunds: Vec<RefundRow>,
    /// Paid and still held for the order, in fen.
    pub held_fen: i64,
    /// Whether the resident may pay now.
    pub payable: bool,
}

/// Whether an order waits for its resident's payment: booked and not yet in service.
pub fn payable_status(order: &OrderRow) -> bool {
    use jiazheng_core::market::OrderStatus::*;
    matches!(order.status(), Requested | Confirmed | Assigned)
}

/// An order's money; a payment still pending after the payer was sent to pay is asked about
/// (the notification may be late or lost).
pub async fn view(store: &Store, payments: &Payments, order: &OrderRow) -> Result<PaymentView, AppError> {
    let mut payment = store.payment_of_order(order.id).await?;
    if let Some(p) = &payment
        && p.status == "pending"
        && p.pay_url.is_some()
        && let Ok(Some(notice)) = payments.provider.query(&p.out_trade_no).await
    {
        store.apply_payment(&notice).await?;
        payments.wake.notify_one();
        payment = store.payment_of_order(order.id).await?;
    }
    let refunds = store.refunds_of_order(order.id).await?;
    let held_fen = store.held_for_order(order.id).await?.held_fen();
    let state = match &payment {
        _ if order.is_subsidised() => PayState::Subsidy,
        Some(p) if p.status == "paid" => PayState::Paid,
        Some(p) if p.status == "pending" && p.pay_url.is_some() => PayState::Processing,
        _ if payable_status(order) => PayState::Unpaid,
        _ => PayState::None,
    };
    let payable = payable_status(order) && state == PayState::Unpaid;
    Ok(PaymentView { state, payment, refunds, held_fen, payable })
}

/// The resident's payment order and where to pay it.
pub async fn start(
    store: &Store,
    payments: &Payments,
    order_id: i64,
    who: &Principal,
    return_to: &str,
) -> Result<(PaymentRow, String), AppError> {
    let payment = store.open_payment(order_id, who).await?;
    let url = payments.provider.create(&payment, return_to).await?;
    store.set_pay_url(payment.id, &url).await?;
    Ok((store.payment(payment.id).await?, url))
}

/// Sends decided refunds to the provider; what fails is sent again on the next round.
pub async fn submit_refunds(store: &Store, payments: &Payments) -> Result<usize, AppError> {
    let mut sent = 0;
    for refund in store.refunds_to_submit(100).await? {
        match payments.provider.refund(&refund).await {
            Ok(()) => {
                store.mark_refund_submitted(refund.id).await?;
                sent += 1;
            }
            Err(error) => {
                tracing::warn!(out_refund_no = %refund.out_refund_no, ?error, "refund not accepted yet");
                break;
            }
        }
    }
    Ok(sent)
}

/// Runs the provider's work and the refund round whenever woken, and every second regardless.
pub fn spawn_background(store: Store, payments: Payments) {
    tokio::spawn(async move {
        loop {
            let mut busy = 0;
            match submit_refunds(&store, &payments).await {
                Ok(n) => busy += n,
                Err(error) => tracing::warn!(?error, "refund round failed"),
            }
            match payments.provider.tick().await {
                Ok(n) => busy += n,
                Err(error) => tracing::warn!(?error, "payment provider round failed"),
            }
            if busy == 0 {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), payments.wake.notified()).await;
            }
        }
    });
}

fn refused(refusal: Refusal) -> AppError {
    let (field, code, zh, en) = match refusal {
        Refusal::MissingHeader(h) => (h, "missing_header", "缺少签名头", "a signature header is missing"),
        Refusal::StaleTimestamp => {
            ("Wechatpay-Timestamp", "stale_timestamp", "通知时间超出允许范围", "the timestamp is outside the window")
        }
        Refusal::UnknownSerial => ("Wechatpay-Serial", "unknown_serial", "未知的平台证书序列号", "unknown key serial"),
        Refusal::BadSignature => {
            ("Wechatpay-Signature", "bad_signature", "签名验证失败", "the signature does not verify")
        }
        Refusal::BadBody => ("resource", "bad_body", "通知内容无法读取", "the notification cannot be read"),
        Refusal::CannotDecrypt => {
            ("resource", "cannot_decrypt", "通知内容无法解密", "the resource cannot be decrypted")
        }
    };
    AppError::invalid(field, code, zh, en)
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, AppError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).map_err(|_| refused(Refusal::BadBody))
}

/// Verifies, opens and applies one notification; a duplicate is applied once and answered OK.
pub async fn receive(
    store: &Store,
    payments: &Payments,
    signed: Result<Signed, Refusal>,
    body: &str,
) -> Result<Applied, AppError> {
    let signed = signed.map_err(refused)?;
    payments.keys.verify(&signed, body, Utc::now().timestamp()).map_err(refused)?;
    let (event, plain) = payments.keys.open(body).map_err(refused)?;
    let resource: Decrypted = serde_json::from_str(&plain).map_err(|_| refused(Refusal::BadBody))?;
    let applied = match event.as_str() {
        "TRANSACTION.SUCCESS" if resource.trade_state.as_deref() == Some("SUCCESS") => {
            let notice = PaidNotice {
                out_trade_no: resource.out_trade_no,
                transaction_id: resource.transaction_id,
                amount_fen: resource.amount.total,
                paid_at: parse_time(&resource.success_time)?,
            };
            store.apply_payment(&notice).await?
        }
        "REFUND.SUCCESS" if resource.refund_status.as_deref() == Some("SUCCESS") => {
            let (Some(out_refund_no), Some(refund_id), Some(amount_fen)) =
                (resource.out_refund_no, resource.refund_id, resource.amount.refund)
            else {
                return Err(refused(Refusal::BadBody));
            };
            let notice = RefundedNotice {
                out_refund_no,
                refund_id,
                amount_fen,
                refunded_at: parse_time(&resource.success_time)?,
            };
            store.apply_refund(&notice).await?
        }
        _ => return Err(refused(Refusal::BadBody)),
    };
    // A payment for an order cancelled meanwhile was refunded in that transaction; the
    // background round sends it within a second. Not woken here: under a burst of notifications
    // each wake cost two more queries per notification, for a case that is rare.
    Ok(applied)
}
