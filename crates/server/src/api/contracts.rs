//! Contracts: an order's model contract (drafted once it has a worker and the resident's
//! identity), the PDF, one-time codes and signatures, the public check, and the rate of use.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiazheng_core::account::Role;
use jiazheng_core::market::contract::{Signer, parse_number};
use jiazheng_store::PageRequest;
use jiazheng_store::market::contracts::{ContractRow, ContractUse, ContractUseTotals, Gap, SignatureRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, PageOf};
use crate::auth::Viewer;
use crate::contracts::{self as service, Checked};
use crate::limits::ClientAddr;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/resident/identity", put(set_identity))
        .route("/orders/{id}/contract", get(order_contract))
        .route("/contracts/check", post(check).layer(axum::extract::DefaultBodyLimit::max(service::MAX_CHECK_BYTES)))
        .route("/contracts/use", get(contract_use))
        .route("/contracts/{id}", get(contract))
        .route("/contracts/{id}/pdf", get(pdf))
        .route("/contracts/{id}/code", post(send_code))
        .route("/contracts/{id}/signatures", post(sign))
}

/// A contract with who signed it and who still has to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractView {
    pub contract: ContractRow,
    pub signatures: Vec<SignatureRow>,
    pub waiting_for: Vec<Signer>,
    /// The party the viewer signs as.
    pub you_sign_as: Option<Signer>,
}

async fn view(state: &AppState, contract: ContractRow, you: Option<Signer>) -> Result<ContractView, AppError> {
    let signatures = state.store.contract_signatures(contract.id).await?;
    let waiting_for = contract
        .kind()
        .signers()
        .iter()
        .copied()
        .filter(|s| !signatures.iter().any(|g| g.signer() == Some(*s)))
        .collect();
    Ok(ContractView { contract, signatures, waiting_for, you_sign_as: you })
}

/// An order's contract, or why it has none yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderContract {
    pub contract: Option<ContractView>,
    /// What the contract waits for: `ResidentIdentity`, `NoWorker`, `NotBound` or `Closed`.
    #[schema(value_type = Option<String>)]
    pub waiting_on: Option<Gap>,
    pub waiting_on_zh: Option<String>,
    pub waiting_on_en: Option<String>,
}

/// The order's live contract, drafted now if the order is ready for one (the resident of the
/// order and its agency).
#[utoipa::path(get, path = "/api/v1/orders/{id}/contract", tag = "contracts", security(("bearer" = [])),
    responses((status = 200, body = OrderContract), (status = 404, body = crate::error::ErrorBody)))]
pub async fn order_contract(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<OrderContract>, AppError> {
    let who = &viewer.require_role(&[Role::Resident, Role::AgencyAdmin])?.principal;
    let (order, _) = state.store.order_for(id, who).await?;
    if who.role == Role::Resident && order.resident_account_id != who.account_id {
        return Err(AppError::NotFound);
    }
    Ok(Json(match service::for_order(&state, &order, &service::origin(&state, &headers)).await? {
        Ok(contract) => {
            let you = state.store.signer_in(&contract, who);
            OrderContract {
                contract: Some(view(&state, contract, you).await?),
                waiting_on: None,
                waiting_on_zh: None,
                waiting_on_en: None,
            }
        }
        Err(gap) => OrderContract {
            contract: None,
            waiting_on: Some(gap),
            waiting_on_zh: Some(gap.label(false).into()),
            waiting_on_en: Some(gap.label(true).into()),
        },
    }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct IdentityForm {
    /// The name on the ID card (30 characters at most).
    pub legal_name: String,
    /// An 18-character resident ID number; kept sealed, shown masked.
    pub id_number: String,
}

/// The resident's name and ID number, as their contracts state them.
#[utoipa::path(put, path = "/api/v1/resident/identity", tag = "contracts", request_body = IdentityForm, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_identity(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<IdentityForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require_role(&[Role::Resident])?.principal;
    state.store.set_resident_identity(who.account_id, &form.legal_name, &form.id_number).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A contract, for its parties.
#[utoipa::path(get, path = "/api/v1/contracts/{id}", tag = "contracts", security(("bearer" = [])),
    responses((status = 200, body = ContractView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn contract(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<ContractView>, AppError> {
    let who = &viewer.require()?.principal;
    let (contract, me) = service::party_to(&state, id, who).await?;
    Ok(Json(view(&state, contract, Some(me)).await?))
}

/// The contract's PDF, byte for byte the file its parties sign.
#[utoipa::path(get, path = "/api/v1/contracts/{id}/pdf", tag = "contracts", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn pdf(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, AppError> {
    let who = &viewer.require()?.principal;
    let (contract, _) = service::party_to(&state, id, who).await?;
    let bytes = state.store.contract_pdf(contract.id).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf"), (header::CACHE_CONTROL, "private, no-store")], bytes)
        .into_response())
}

#[derive(Debug, Serialize, ToSchema)]
/// Named apart from the sign-in code's answer: two schemas of one name would share one entry.
pub struct SigningCodeSent {
    /// The masked phone the code went to.
    pub sent_to: String,
}

/// Sends the resident or worker a one-time code to sign with, to their own phone.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/code", tag = "contracts", security(("bearer" = [])),
    responses((status = 202, body = SigningCodeSent), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn send_code(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<SigningCodeSent>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require()?.principal;
    let sent_to = service::send_code(&state, id, who, peer).await?;
    Ok((StatusCode::ACCEPTED, Json(SigningCodeSent { sent_to })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct SignForm {
    /// The one-time code (residents and workers; agencies sign with their account).
    pub code: String,
    /// The SHA-256 (hex) of the PDF the party read: a file changed since is not signed.
    pub sha256: String,
}

/// Signs as the viewer's party.
#[utoipa::path(post, path = "/api/v1/contracts/{id}/signatures", tag = "contracts", request_body = SignForm, security(("bearer" = [])),
    responses((status = 200, body = ContractView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn sign(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<SignForm>,
) -> Result<Json<ContractView>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let who = &viewer.require()?.principal;
    let signed = service::sign(&state, id, who, &form.code, &form.sha256).await?;
    let me = state.store.signer_in(&signed, who);
    Ok(Json(view(&state, signed, me).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// The contract number printed on the file (optional with a file).
    pub number: Option<String>,
}

/// What a check found: `unchanged` (the file is the one signed), `differs` (not the file of this
/// number), `found` (a number alone: its state), `unknown`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    pub verdict: String,
    pub number: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub signed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Signers' parties and times; their names only when the file itself was given.
    pub signatures: Vec<CheckedSignature>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedSignature {
    pub signer: String,
    pub name: String,
    pub signed_at: chrono::DateTime<chrono::Utc>,
}

/// Checks a contract: the PDF as the request body (its bytes, any content type; 2 MB at most), its number
/// as `?number=`, or both. Public: the file or the number is the key, and nothing is written.
#[utoipa::path(post, path = "/api/v1/contracts/check", tag = "contracts", params(CheckQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the PDF file, as bytes"),
    responses((status = 200, body = CheckResult), (status = 422, body = crate::error::ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    ApiQuery(query): ApiQuery<CheckQuery>,
    body: Bytes,
) -> Result<Json<CheckResult>, AppError> {
    let number = query.number.unwrap_or_default();
    if !number.trim().is_empty() {
        parse_number(&number).map_err(super::field_error("number"))?;
    }
    let checked = service::check(&state, peer, &number, (!body.is_empty()).then_some(&body[..])).await?;
    let result = |verdict: &str, c: Option<&ContractRow>, signatures: Vec<CheckedSignature>| CheckResult {
        verdict: verdict.into(),
        number: c.map(|c| c.number.clone()),
        status: c.map(|c| c.status.clone()),
        kind: c.map(|c| c.kind.clone()),
        signed_at: c.and_then(|c| c.signed_at),
        signatures,
    };
    // A number alone says who signed by party and time, never by name.
    let named = |signatures: Vec<SignatureRow>, hidden: bool| -> Vec<CheckedSignature> {
        signatures
            .into_iter()
            .map(|s| CheckedSignature {
                name: if hidden { String::new() } else { s.name.clone() },
                signer: s.signer,
                signed_at: s.signed_at,
            })
            .collect()
    };
    Ok(Json(match checked {
        Checked::Unchanged(c, s) => result("unchanged", Some(&c), named(s, false)),
        Checked::Differs(c) => result("differs", Some(&c), Vec::new()),
        Checked::Found(c, s) => result("found", Some(&c), named(s, true)),
        Checked::Unknown => result("unknown", None, Vec::new()),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UseQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContractUseReport {
    pub totals: ContractUseTotals,
    /// Percent of begun services under a signed model contract (one decimal).
    pub rate: Option<f64>,
    /// The same in employee-based agencies (the plan's target: 100).
    pub employee_based_rate: Option<f64>,
    pub agencies: PageOf<ContractUse>,
}

/// Model-contract use in the regulator's area: per agency, and in employee-based agencies.
#[utoipa::path(get, path = "/api/v1/contracts/use", tag = "contracts", params(UseQuery), security(("bearer" = [])),
    responses((status = 200, body = ContractUseReport)))]
pub async fn contract_use(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(query): ApiQuery<UseQuery>,
) -> Result<Json<ContractUseReport>, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.as_str().to_string());
    let totals = state.store.contract_use_totals(area.as_deref()).await?;
    let page = state.store.contract_use(area.as_deref(), PageRequest::new(query.page, query.per_page)).await?;
    Ok(Json(ContractUseReport {
        rate: totals.rate(),
        employee_based_rate: totals.employee_based_rate(),
        totals,
        agencies: page.into(),
    }))
}
