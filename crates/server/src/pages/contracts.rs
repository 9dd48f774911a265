//! Contracts on the pages: the card on an order, the contract page where each party reads the
//! PDF and signs, the worker's list, the public check, and the regulator's model-contract rate.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::market::contract::{ContractStatus, Signer};
use jiazheng_store::PageRequest;
use jiazheng_store::market::contracts::{ContractRow, ContractUse, ContractUseTotals, Gap, SignatureRow};
use jiazheng_store::market::orders::OrderRow;
use serde::Deserialize;

use super::{Chrome, Pager, beijing_minutes, field_message, render};
use crate::auth::Viewer;
use crate::contracts::{self as service, Checked};
use crate::i18n::Lang;
use crate::limits::ClientAddr;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    let upload = axum::extract::DefaultBodyLimit::max(service::MAX_CHECK_BYTES + 64 * 1024);
    Router::new()
        .route("/contracts/check", get(check_form).post(check_upload).layer(upload))
        .route("/contracts/{id}", get(contract_page))
        .route("/contracts/{id}/pdf", get(contract_pdf))
        .route("/contracts/{id}/code", post(send_code))
        .route("/contracts/{id}/sign", post(sign))
        .route("/my/orders/{id}/identity", post(save_identity))
        .route("/me/contracts", get(worker_contracts))
        .route("/agency/workers/{id}/agreement", post(draft_agreement))
        .route("/regulator/contracts", get(contract_use))
}

/// One signature as a page lists it.
pub struct SignatureLine {
    pub party: String,
    pub name: String,
    pub at: String,
    pub how: String,
}

/// `hidden`: a check by number alone says who signed by party and time, never by name.
fn signature_lines(lang: Lang, signatures: &[SignatureRow], hidden: bool) -> Vec<SignatureLine> {
    signatures
        .iter()
        .map(|s| {
            let signer = s.signer();
            let name = if hidden { String::new() } else { s.name.clone() };
            SignatureLine {
                party: signer.map_or("", |p| p.label(lang.is_en())).to_string(),
                name,
                at: beijing_minutes(s.signed_at),
                how: if s.method == "account" {
                    lang.pick("企业账户", "agency account").to_string()
                } else {
                    lang.pick("手机验证码", "code sent to the phone").to_string()
                },
            }
        })
        .collect()
}

/// Who still has to sign, as labels.
fn waiting_for(lang: Lang, contract: &ContractRow, signatures: &[SignatureRow]) -> Vec<String> {
    contract
        .kind()
        .signers()
        .iter()
        .filter(|s| !signatures.iter().any(|g| g.signer() == Some(**s)))
        .map(|s| s.label(lang.is_en()).to_string())
        .collect()
}

/// What an order page shows of its contract.
pub struct ContractCard {
    pub contract: Option<ContractRow>,
    pub signatures: Vec<SignatureLine>,
    pub waiting: Vec<String>,
    /// Why there is no contract yet.
    pub gap: Option<String>,
    /// The resident is asked for the name and ID number the contract states.
    pub ask_identity: bool,
    /// The viewer's party has signed.
    pub signed_by_me: bool,
}

impl ContractCard {
    pub fn status(&self, lang: &Lang) -> &'static str {
        self.contract.as_ref().map_or("", |c| c.status().label(lang.is_en()))
    }

    pub fn kind(&self, lang: &Lang) -> &'static str {
        self.contract.as_ref().map_or("", |c| c.kind().label(lang.is_en()))
    }
}

/// The card of an order's contract for `me` (drafting it now if the order is ready for one).
pub async fn contract_card(
    state: &AppState,
    lang: Lang,
    order: &OrderRow,
    headers: &HeaderMap,
    me: Signer,
) -> Result<ContractCard, AppError> {
    let origin = service::origin(state, headers);
    match service::for_order(state, order, &origin).await? {
        Ok(contract) => {
            let signatures = state.store.contract_signatures(contract.id).await?;
            Ok(ContractCard {
                waiting: waiting_for(lang, &contract, &signatures),
                signed_by_me: signatures.iter().any(|s| s.signer() == Some(me)),
                signatures: signature_lines(lang, &signatures, false),
                contract: Some(contract),
                gap: None,
                ask_identity: false,
            })
        }
        Err(gap) => Ok(ContractCard {
            contract: None,
            signatures: Vec::new(),
            waiting: Vec::new(),
            gap: Some(gap.label(lang.is_en()).to_string()),
            ask_identity: gap == Gap::ResidentIdentity && me == Signer::Resident,
            signed_by_me: false,
        }),
    }
}

#[derive(Template)]
#[template(path = "contract.html")]
struct ContractPage {
    chrome: Chrome,
    contract: ContractRow,
    me: Signer,
    signatures: Vec<SignatureLine>,
    waiting: Vec<String>,
    signed_by_me: bool,
    /// The masked phone a code was just sent to.
    sent_to: Option<String>,
    errors: FieldErrors,
    back: String,
    /// The code and the tick as sent with a refused signature.
    typed_code: String,
    ticked: bool,
}

impl ContractPage {
    fn waiting_text(&self) -> String {
        self.waiting.join(self.chrome.lang.pick("、", ", "))
    }

    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn status(&self) -> &'static str {
        self.contract.status().label(self.chrome.lang.is_en())
    }

    fn kind(&self) -> &'static str {
        self.contract.kind().label(self.chrome.lang.is_en())
    }

    fn can_sign(&self) -> bool {
        !self.signed_by_me && self.contract.status() == ContractStatus::Signing
    }

    fn by_code(&self) -> bool {
        self.me != Signer::Agency
    }

    fn my_party(&self) -> &'static str {
        self.me.label(self.chrome.lang.is_en())
    }
}

/// Where a party goes back to from the contract.
fn back_link(contract: &ContractRow, me: Signer) -> String {
    match (me, contract.order_id) {
        (Signer::Resident, Some(order)) => format!("/my/orders/{order}"),
        (Signer::Agency, Some(order)) => format!("/agency/orders/{order}"),
        (Signer::Worker, _) => "/me/contracts".into(),
        (Signer::Agency, None) => format!("/agency/workers/{}/workforce", contract.worker_id),
        (Signer::Resident, None) => "/my/orders".into(),
    }
}

async fn contract_view(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    sent_to: Option<String>,
    errors: FieldErrors,
) -> Result<ContractPage, AppError> {
    let who = &viewer.require()?.principal;
    let (contract, me) = service::party_to(state, id, who).await?;
    let signatures = state.store.contract_signatures(id).await?;
    Ok(ContractPage {
        chrome: Chrome::new(lang, viewer, &format!("/contracts/{id}"), lang.pick("合同", "Contract").to_string()),
        back: back_link(&contract, me),
        waiting: waiting_for(lang, &contract, &signatures),
        signed_by_me: signatures.iter().any(|s| s.signer() == Some(me)),
        signatures: signature_lines(lang, &signatures, false),
        contract,
        me,
        sent_to,
        errors,
        typed_code: String::new(),
        ticked: false,
    })
}

async fn contract_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&contract_view(&state, lang, &viewer, id, None, FieldErrors::default()).await?)
}

async fn contract_pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let who = &viewer.require()?.principal;
    let (contract, _) = service::party_to(&state, id, who).await?;
    let pdf = state.store.contract_pdf(id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{}.pdf\"", contract.number)),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

/// A refusal shown on the contract page beside `field`, the rest passed on.
async fn refused_on_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    error: AppError,
    field: &str,
    typed: Option<&SignPost>,
) -> Result<Response, AppError> {
    let errors = match error {
        AppError::Invalid(errors) => errors,
        AppError::TooManyAttempts { retry_after_secs } if field == "send" => {
            let invalid = jiazheng_core::field::Invalid::new(
                "wait",
                format!("验证码已发送，{retry_after_secs} 秒后可重新获取"),
                format!("a code was sent; ask for another in {retry_after_secs} seconds"),
            );
            FieldErrors(vec![invalid.at("send")])
        }
        error @ (AppError::TooManyAttempts { .. } | AppError::DailyLimit { .. } | AppError::Conflict { .. }) => {
            let body = error.body();
            let invalid = jiazheng_core::field::Invalid::new("refused", body.error.message_zh, body.error.message);
            FieldErrors(vec![invalid.at(field)])
        }
        other => return Err(other),
    };
    let mut page = contract_view(state, lang, viewer, id, None, errors).await?;
    if let Some(typed) = typed {
        page.typed_code = typed.code.chars().filter(char::is_ascii_digit).take(6).collect();
        page.ticked = typed.read.is_some();
    }
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn send_code(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require()?.principal.clone();
    match service::send_code(&state, id, &who, peer).await {
        Ok(masked) => render(&contract_view(&state, lang, &viewer, id, Some(masked), FieldErrors::default()).await?),
        Err(error) => refused_on_page(&state, lang, &viewer, id, error, "send", None).await,
    }
}

#[derive(Deserialize)]
struct SignPost {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    sha256: String,
    #[serde(default)]
    read: Option<String>,
}

async fn sign(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<SignPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require()?.principal.clone();
    let (_, me) = service::party_to(&state, id, &who).await?;
    let mut missing = FieldErrors::default();
    if post.read.is_none() {
        let invalid = jiazheng_core::field::Invalid::new(
            "not_read",
            "请先阅读合同全文并勾选确认",
            "read the whole contract and tick the box first",
        );
        missing.0.push(invalid.at("read"));
    }
    if me != Signer::Agency && post.code.trim().is_empty() {
        let invalid = jiazheng_core::field::Invalid::new(
            "required",
            "请输入手机收到的验证码",
            "type the code sent to your phone",
        );
        missing.0.push(invalid.at("code"));
    }
    if !missing.is_empty() {
        return refused_on_page(&state, lang, &viewer, id, AppError::Invalid(missing), "code", Some(&post)).await;
    }
    match service::sign(&state, id, &who, &post.code, &post.sha256).await {
        Ok(_) => Ok(Redirect::to(&format!("/contracts/{id}#signed-by-me")).into_response()),
        Err(error) => refused_on_page(&state, lang, &viewer, id, error, "code", Some(&post)).await,
    }
}

#[derive(Deserialize)]
struct IdentityPost {
    csrf: String,
    #[serde(default)]
    legal_name: String,
    #[serde(default)]
    id_number: String,
}

/// The resident gives the name and ID number their contracts state; the order's contract is
/// drafted as the order page shows again. A refusal comes back beside the fields, typed values kept.
async fn save_identity(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(post): Form<IdentityPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require_role(&[Role::Resident])?.principal.clone();
    let (order, _) = state.store.order_for(id, &who).await?;
    if order.resident_account_id != who.account_id {
        return Err(AppError::NotFound);
    }
    match state.store.set_resident_identity(who.account_id, &post.legal_name, &post.id_number).await {
        Ok(()) => Ok(Redirect::to(&format!("/my/orders/{id}#contract")).into_response()),
        Err(jiazheng_store::StoreError::Invalid(errors)) => {
            super::market::order_with_identity_errors(
                &state,
                lang,
                &viewer,
                &headers,
                id,
                errors,
                post.legal_name,
                // Not sent back: a page with a full ID number in it may be cached or shared.
                String::new(),
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

// ---- the worker's contracts -------------------------------------------------------------

#[derive(Template)]
#[template(path = "my_contracts.html")]
struct WorkerContractsPage {
    chrome: Chrome,
    contracts: Vec<ContractRow>,
    /// Those still waiting for the worker's own signature.
    waiting: Vec<i64>,
    pager: Pager,
}

impl WorkerContractsPage {
    fn kind(&self, c: &ContractRow) -> &'static str {
        c.kind().label(self.chrome.lang.is_en())
    }

    fn status(&self, c: &ContractRow) -> &'static str {
        if self.waiting.contains(&c.id) {
            return self.chrome.lang.pick("等待您签署", "Waiting for your signature");
        }
        c.status().label(self.chrome.lang.is_en())
    }

    fn drafted(&self, c: &ContractRow) -> String {
        beijing_minutes(c.drafted_at)
    }
}

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<u32>,
}

async fn worker_contracts(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let who = &viewer.require_role(&[Role::Worker])?.principal;
    let jiazheng_core::account::Scope::Worker(worker) = who.scope else { return Err(AppError::Forbidden) };
    let page = state.store.contracts_of_worker(worker, PageRequest::new(q.page, None)).await?;
    render(&WorkerContractsPage {
        chrome: Chrome::new(lang, &viewer, "/me/contracts", lang.pick("我的合同", "My contracts").to_string()),
        waiting: state.store.contracts_waiting_for_worker(worker).await?,
        pager: Pager::new(&page, "/me/contracts", ""),
        contracts: page.items,
    })
}

/// The agency drafts the worker's agreement for their active binding, then signs it on its page.
async fn draft_agreement(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(worker_id): Path<i64>,
    Form(post): Form<CsrfOnly>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = &viewer.require_role(&[Role::AgencyAdmin])?.principal;
    let jiazheng_core::account::Scope::Agency(agency) = who.scope else { return Err(AppError::Forbidden) };
    let binding = state.store.active_binding_id(worker_id, agency).await?.ok_or(AppError::NotFound)?;
    let contract = service::for_binding(&state, binding, &service::origin(&state, &headers)).await?;
    Ok(Redirect::to(&format!("/contracts/{}", contract.id)).into_response())
}

// ---- the public check -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "contract_check.html")]
struct CheckPage {
    chrome: Chrome,
    number: String,
    outcome: Option<Outcome>,
    errors: FieldErrors,
}

enum Outcome {
    Unchanged { contract: ContractRow, signatures: Vec<SignatureLine> },
    Differs { number: String },
    Found { contract: ContractRow, signatures: Vec<SignatureLine>, waiting: Vec<String> },
    Unknown,
}

impl CheckPage {
    fn joined(&self, items: &[String]) -> String {
        items.join(self.chrome.lang.pick("、", ", "))
    }

    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn kind(&self, c: &ContractRow) -> &'static str {
        c.kind().label(self.chrome.lang.is_en())
    }

    fn status(&self, c: &ContractRow) -> &'static str {
        c.status().label(self.chrome.lang.is_en())
    }

    fn when(&self, c: &ContractRow) -> String {
        c.signed_at.map(beijing_minutes).unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn check_page(
    state: &AppState,
    address: std::net::IpAddr,
    lang: Lang,
    viewer: &Viewer,
    number: &str,
    file: Option<&[u8]>,
    posted: bool,
) -> Result<Response, AppError> {
    let chrome = Chrome::new(lang, viewer, "/contracts/check", lang.pick("合同核验", "Check a contract").to_string());
    let asked = posted || !number.trim().is_empty() || file.is_some();
    let (outcome, errors) = if asked {
        match service::check(state, address, number, file).await {
            Ok(checked) => {
                let outcome = match checked {
                    Checked::Unchanged(contract, signatures) => {
                        Outcome::Unchanged { signatures: signature_lines(lang, &signatures, false), contract }
                    }
                    Checked::Differs(contract) => Outcome::Differs { number: contract.number },
                    Checked::Found(contract, signatures) => Outcome::Found {
                        waiting: waiting_for(lang, &contract, &signatures),
                        signatures: signature_lines(lang, &signatures, true),
                        contract,
                    },
                    Checked::Unknown => Outcome::Unknown,
                };
                (Some(outcome), FieldErrors::default())
            }
            Err(AppError::Invalid(errors)) => (None, errors),
            Err(error @ AppError::TooManyAttempts { .. }) => {
                let body = error.body();
                let invalid = jiazheng_core::field::Invalid::new("refused", body.error.message_zh, body.error.message);
                (None, FieldErrors(vec![invalid.at("number")]))
            }
            Err(other) => return Err(other),
        }
    } else {
        (None, FieldErrors::default())
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = CheckPage { chrome, number: number.trim().to_string(), outcome, errors };
    Ok((status, render(&page)?).into_response())
}

#[derive(Deserialize, Default)]
struct CheckQuery {
    #[serde(default)]
    number: String,
}

async fn check_form(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<CheckQuery>,
) -> Result<Response, AppError> {
    check_page(&state, peer, lang, &viewer, &q.number, None, false).await
}

/// Checking a file changes nothing, so it needs no sign-in and no CSRF token.
async fn check_upload(
    State(state): State<AppState>,
    ClientAddr(peer): ClientAddr,
    lang: Lang,
    viewer: Viewer,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut number = String::new();
    let mut file = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        match field.name() {
            Some("number") => number = field.text().await.map_err(AppError::from)?.chars().take(40).collect(),
            Some("file") => file = field.bytes().await.map_err(AppError::from)?.to_vec(),
            _ => {}
        }
    }
    let file = (!file.is_empty()).then_some(file);
    check_page(&state, peer, lang, &viewer, &number, file.as_deref(), true).await
}

// ---- the regulator's rate ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "regulator_contracts.html")]
struct ContractUsePage {
    chrome: Chrome,
    totals: ContractUseTotals,
    rows: Vec<ContractUse>,
    pager: Pager,
}

impl ContractUsePage {
    fn rate(&self, rate: Option<f64>) -> String {
        rate.map_or("—".to_string(), |r| format!("{r:.1}%"))
    }

    fn model(&self, code: &str) -> &'static str {
        jiazheng_core::registry::agency::BusinessModel::label_of(code, self.chrome.lang.is_en())
    }

    fn width(&self, rate: Option<f64>) -> String {
        format!("{:.0}", rate.unwrap_or(0.0).clamp(0.0, 100.0))
    }
}

async fn contract_use(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.as_str().to_string());
    let page = state.store.contract_use(area.as_deref(), PageRequest::new(q.page, None)).await?;
    render(&ContractUsePage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/regulator/contracts",
            lang.pick("示范合同使用率", "Model-contract use").to_string(),
        ),
        totals: state.store.contract_use_totals(area.as_deref()).await?,
        pager: Pager::new(&page, "/regulator/contracts", ""),
        rows: page.items,
    })
}
