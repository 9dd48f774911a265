//! The built-in sandbox provider: it keeps its transactions in the `sandbox_*` tables, gives the
//! payer a cashier page (`/sandbox/pay/{id}`), and delivers signed, encrypted notifications to
//! the platform over real HTTP, again on WeChat's schedule until one is answered 2xx.

use std::sync::Arc;

use axum::body::Bytes;
use chrono::{NaiveDate, Utc};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jiazheng_core::market::payment::bill_csv;
use jiazheng_store::Store;
use jiazheng_store::market::payments::{PaidNotice, PaymentRow, RefundToSubmit};
use jiazheng_store::market::sandbox::SandboxNotification;

use super::wire::NotifyKeys;
use super::{PaymentProvider, ProviderFuture};
use crate::AppError;

/// How many notifications are sent at once.
const BATCH: i64 = 64;
/// How long a refund stays PROCESSING at the sandbox before it succeeds (WeChat's take from
/// seconds to days; the platform must wait for the notification either way).
const REFUND_PROCESSING: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

pub struct SandboxProvider {
    store: Store,
    keys: Arc<NotifyKeys>,
    notify_url: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl SandboxProvider {
    pub fn new(store: Store, keys: Arc<NotifyKeys>, notify_url: String) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self { store, keys, notify_url, client }
    }

    async fn deliver(&self, note: &SandboxNotification) -> Result<(), String> {
        let original = if note.event_type == "REFUND.SUCCESS" { "refund" } else { "transaction" };
        let body = self.keys.seal(&note.event_type, original, &note.resource);
        let signed = self.keys.sign(Utc::now().timestamp(), &body);
        let mut request = axum::http::Request::post(&note.notify_url).header("content-type", "application/json");
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| e.to_string())?;
        let sent = tokio::time::timeout(std::time::Duration::from_secs(10), self.client.request(request)).await;
        match sent {
            Ok(Ok(response)) if response.status().is_success() => Ok(()),
            Ok(Ok(response)) => Err(format!("HTTP {}", response.status())),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("timed out".into()),
        }
    }

    /// Sends what is due, a batch at a time; answers how many were sent (delivered or not).
    async fn deliver_due(&self) -> Result<usize, AppError> {
        self.store.sandbox_complete_refunds(Utc::now() - REFUND_PROCESSING, BATCH).await?;
        let due = self.store.sandbox_due(Utc::now(), BATCH).await?;
        let sent = due.len();
        let outcomes = futures_join(due.iter().map(|note| self.deliver(note))).await;
        for (note, outcome) in due.iter().zip(outcomes) {
            match outcome {
                Ok(()) => self.store.sandbox_delivered(note.id).await?,
                Err(error) => {
                    tracing::info!(notification = note.id, attempts = note.attempts + 1, %error, "notification not acknowledged");
                    self.store.sandbox_failed(note, &error).await?;
                }
            }
        }
        Ok(sent)
    }
}

/// Awaits futures together (they borrow `self`, so no task is spawned).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut waiting = false;
        for (i, future) in pending.iter_mut().enumerate() {
            if done[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => done[i] = Some(value),
                    std::task::Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(done.iter_mut().map(|d| d.take().expect("each is done")).collect())
        }
    })
    .await
}

impl PaymentProvider for SandboxProvider {
    fn create<'a>(&'a self, payment: &'a PaymentRow, return_to: &'a str) -> ProviderFuture<'a, String> {
        Box::pin(async move {
            let txn = self
                .store
                .sandbox_create(&payment.out_trade_no, payment.amount_fen, &payment.description, &self.notify_url)
                .await?;
            Ok(format!("/sandbox/pay/{}?return={}", txn.id, safe_return(return_to)))
        })
    }

    fn query<'a>(&'a self, out_trade_no: &'a str) -> ProviderFuture<'a, Option<PaidNotice>> {
        Box::pin(async move {
            let txn = match self.store.sandbox_by_number(out_trade_no).await {
                Ok(txn) => txn,
                Err(jiazheng_store::StoreError::NotFound) => return Ok(None),
                Err(other) => return Err(other.into()),
            };
            Ok(match (txn.trade_state.as_str(), txn.success_time) {
                ("SUCCESS", Some(paid_at)) => Some(PaidNotice {
                    out_trade_no: txn.out_trade_no,
                    transaction_id: txn.transaction_id,
                    amount_fen: txn.amount_fen,
                    paid_at,
                }),
                _ => None,
            })
        })
    }

    fn refund<'a>(&'a self, refund: &'a RefundToSubmit) -> ProviderFuture<'a, ()> {
        Box::pin(async move {
            self.store.sandbox_refund(&refund.out_refund_no, &refund.out_trade_no, refund.amount_fen).await?;
            Ok(())
        })
    }

    fn bill(&self, day: NaiveDate) -> ProviderFuture<'_, String> {
        Box::pin(async move { Ok(bill_csv(&self.store.sandbox_bill(day).await?)) })
    }

    fn tick(&self) -> ProviderFuture<'_, usize> {
        Box::pin(self.deliver_due())
    }
}

/// A return address on this site only (a path, never `//host`), else the orders page.
pub fn safe_return(raw: &str) -> &str {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && raw.len() <= 200
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_".contains(&b));
    if ok { raw } else { "/my/orders" }
}
