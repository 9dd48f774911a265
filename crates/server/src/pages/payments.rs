//! Paying for an order: the resident's 支付 button, and the sandbox provider's cashier page where
//! the payer confirms (the sandbox then notifies the platform as WeChat Pay would).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::account::Role;
use jiazheng_core::market::payment::yuan;
use serde::Deserialize;

use super::{Chrome, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::payments::sandbox::safe_return;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/my/orders/{id}/pay", post(pay)).route("/sandbox/pay/{id}", get(cashier).post(confirm))
}

#[derive(Deserialize)]
struct PayPost {
    csrf: String,
}

/// The resident's 支付: the payment order, then off to the provider's cashier.
async fn pay(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<PayPost>,
) -> Result<Redirect, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let who = &viewer.require_role(&[Role::Resident])?.principal;
    let (_, url) = crate::payments::start(&state.store, &state.payments, id, who, &format!("/my/orders/{id}")).await?;
    Ok(Redirect::to(&url))
}

#[derive(Template)]
#[template(path = "sandbox_pay.html")]
struct CashierPage {
    chrome: Chrome,
    id: i64,
    description: String,
    amount: String,
    paid: bool,
    back: String,
}

#[derive(Deserialize)]
struct ReturnTo {
    #[serde(rename = "return", default)]
    back: String,
}

async fn cashier_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    back: &str,
) -> Result<Response, AppError> {
    let txn = state.store.sandbox_transaction(id).await?;
    render(&CashierPage {
        chrome: Chrome::new(lang, viewer, &format!("/sandbox/pay/{id}"), lang.t("sandbox.title")),
        id,
        description: txn.description,
        amount: yuan(txn.amount_fen),
        paid: txn.trade_state == "SUCCESS",
        back: safe_return(back).to_owned(),
    })
}

async fn cashier(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<ReturnTo>,
) -> Result<Response, AppError> {
    cashier_page(&state, lang, &viewer, id, &q.back).await
}

/// The payer pays: the sandbox marks it paid and queues the notification, then sends the payer
/// back to the platform's page (which asks the provider if the notification is not in yet).
async fn confirm(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<ReturnTo>,
) -> Result<Redirect, AppError> {
    state.store.sandbox_pay(id).await?;
    state.payments.wake.notify_one();
    Ok(Redirect::to(safe_return(&form.back)))
}
