//! Paying for an order: the resident's 支付 button, and the sandbox provider's cashier page where
//! the payer confirms (the sandbox then notifies the platform as WeChat Pay would). And the
//! agency's monthly statements.

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
    Router::new()
        .route("/my/orders/{id}/pay", post(pay))
        .route("/sandbox/pay/{id}", get(cashier).post(confirm))
        .route("/agency/statements", get(statements))
        .route("/agency/statements.xlsx", get(statement_file))
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

#[derive(Template)]
#[template(path = "agency_statements.html")]
struct StatementsPage {
    chrome: Chrome,
    month: String,
    error: Option<String>,
    lines: usize,
    total: String,
}

#[derive(Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// `YYYY-MM` as its first day; empty is this Beijing month.
pub(super) fn parse_month(raw: &str) -> Option<chrono::NaiveDate> {
    jiazheng_core::calendar::parse_month(raw, jiazheng_core::calendar::beijing_today())
}

async fn statements(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let chrome = Chrome::new(lang, &viewer, "/agency/statements", lang.t("statements.title"));
    let Some(first) = parse_month(&q.month) else {
        let month: String = q.month.chars().take(20).collect();
        return render(&StatementsPage {
            chrome,
            month,
            error: Some(lang.t("statements.bad_month")),
            lines: 0,
            total: String::new(),
        });
    };
    let lines = state.store.agency_statement(agency, first).await?;
    render(&StatementsPage {
        chrome,
        month: first.format("%Y-%m").to_string(),
        error: None,
        lines: lines.len(),
        total: yuan(lines.iter().map(|l| l.amount_fen).sum()),
    })
}

async fn statement_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let first = parse_month(&q.month).ok_or_else(|| {
        AppError::invalid("month", "bad_month", "请按 年-月 填写，例如 2026-11", "use year-month, e.g. 2026-11")
    })?;
    let lines = state.store.agency_statement(agency, first).await?;
    let month = first.format("%Y-%m").to_string();
    let bytes = jiazheng_store::excel::statement_xlsx(&format!("结算单 Statement {month}"), &lines)?;
    Ok(super::import::xlsx(bytes, &format!("statement-{month}.xlsx")))
}
