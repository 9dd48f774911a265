//! Payments in the API: the resident's payment order for a booked order, what an order's money
//! is, the agency's refunds, and the provider's notification endpoint.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_store::market::payments::{PaymentRow, RefundRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiJson;
use super::agencies::csrf_header;
use crate::auth::Viewer;
use crate::payments::wire::{Refusal, Signed};
use crate::payments::{self, NOTIFY_BODY_LIMIT, PaymentView};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/payment", get(payment).post(pay))
        .route("/orders/{id}/payment/refunds", post(refund))
        .route("/payments/notify", post(notify).layer(DefaultBodyLimit::max(NOTIFY_BODY_LIMIT)))
}

/// An order's money: the payment order, refunds, what is held, and whether it can be paid now.
#[utoipa::path(get, path = "/api/v1/orders/{id}/payment", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = PaymentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn payment(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<PaymentView>, AppError> {
    let who = &viewer.require()?.principal;
    let (order, _) = state.store.order_for(id, who).await?;
    Ok(Json(payments::view(&state.store, &state.payments, &order).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStarted {
    pub payment: PaymentRow,
    /// Where the resident pays (the provider's cashier).
    pub pay_url: String,
}

/// The resident's payment order for a booked order (the same one again while it is pending).
#[utoipa::path(post, path = "/api/v1/orders/{id}/payment", tag = "market", security(("bearer" = [])),
    responses((status = 200, body = PaymentStarted), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn pay(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Json<PaymentStarted>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Resident])?.principal;
    let (payment, pay_url) =
        payments::start(&state.store, &state.payments, id, who, &format!("/my/orders/{id}")).await?;
    Ok(Json(PaymentStarted { payment, pay_url }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefundForm {
    /// In fen; at most what the order still holds.
    pub amount_fen: i64,
    /// Why, in a few words (at most 80 characters).
    pub reason: String,
}

/// The agency (or a regulator in scope) returns part or all of what an order holds; more than
/// that is refused (422). A subsidised order's money goes back to the district's budget, with no
/// refund at the provider (204).
#[utoipa::path(post, path = "/api/v1/orders/{id}/payment/refunds", tag = "market", request_body = RefundForm,
    security(("bearer" = [])),
    responses((status = 200, body = RefundRow), (status = 204, description = "returned to the district's subsidy budget"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RefundForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    match state.store.refund_order(id, who, form.amount_fen, &form.reason).await? {
        Some(row) => {
            state.payments.wake.notify_one();
            Ok(Json(row).into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, Refusal> {
    headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| v.len() <= 512).ok_or(Refusal::MissingHeader(name))
}

/// The provider's notification (WeChat Pay API v3 in shape): verified, decrypted, checked
/// against the payment order and applied once; a duplicate is answered 204 too. A bad signature,
/// an unknown number or a different amount is refused (4xx) and changes nothing.
#[utoipa::path(post, path = "/api/v1/payments/notify", tag = "market",
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn notify(State(state): State<AppState>, headers: HeaderMap, body: String) -> Result<StatusCode, AppError> {
    let signed = (|| {
        Ok(Signed {
            timestamp: header(&headers, "Wechatpay-Timestamp")?.to_owned(),
            nonce: header(&headers, "Wechatpay-Nonce")?.to_owned(),
            serial: header(&headers, "Wechatpay-Serial")?.to_owned(),
            signature: header(&headers, "Wechatpay-Signature")?.to_owned(),
        })
    })();
    match payments::receive(&state.store, &state.payments, signed, &body).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(error) => {
            tracing::warn!(?error, "payment notification refused");
            Err(error)
        }
    }
}
