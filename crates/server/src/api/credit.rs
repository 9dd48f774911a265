//! Credit API: the public keys and revocation list for offline checkers, identity verification,
//! issuing and revoking certificates, a worker's ledger timeline, and checking a token.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use jiazheng_core::account::Role;
use jiazheng_core::credit::certificate::Colour;
use jiazheng_core::credit::token::{Claims, TokenError};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_store::credit::certificates::LiveStatus;
use jiazheng_store::credit::keys::PublicKey;
use jiazheng_store::credit::ledger::Entry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::workers::today;
use super::{ApiJson, ApiQuery};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/credit/keys", get(keys))
        .route("/credit/revocations", get(revocations))
        .route("/workers/{id}/identity-verification", post(verify_identity))
        .route("/workers/{id}/certificate", post(issue))
        .route("/workers/{id}/ledger", get(timeline))
        .route("/certificates/{number}/revocation", post(revoke))
        .route("/certificates/check", get(check))
        .route("/workers/{id}/background-checks", post(background_check))
        .route("/credit/weights", get(weights))
        .route("/agencies/{id}/grade", get(agency_grade))
        .route("/workers/{id}/grade", get(worker_grade_api))
        .route("/certificates/{number}/record", get(record))
        .route("/certificates/{number}/consent-requests", post(request_consent))
        .route("/certificates/{number}/consent-code", post(claim_code))
        .route("/me/consent-codes", post(create_code))
        .route("/consents/{id}/decision", post(decide))
}

/// The public keys that sign certificate tokens and ledger checkpoints, current and retired.
#[utoipa::path(get, path = "/api/v1/credit/keys", tag = "credit", responses((status = 200, body = Vec<PublicKey>)))]
pub async fn keys(State(state): State<AppState>) -> Result<Json<Vec<PublicKey>>, AppError> {
    state.store.signing_key().await?;
    Ok(Json(state.store.public_keys().await?))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Revocation {
    pub number: String,
    pub revoked_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevocationList {
    pub as_of: String,
    pub revoked: Vec<Revocation>,
}

/// Revoked certificate numbers, for checkers that work offline.
#[utoipa::path(get, path = "/api/v1/credit/revocations", tag = "credit", responses((status = 200, body = RevocationList)))]
pub async fn revocations(State(state): State<AppState>) -> Result<Json<RevocationList>, AppError> {
    let revoked = state.store.revocations().await?;
    Ok(Json(RevocationList {
        as_of: chrono::Utc::now().to_rfc3339(),
        revoked: revoked.into_iter().map(|(number, revoked_at)| Revocation { number, revoked_at }).collect(),
    }))
}

/// Who acts on a worker's credit: an agency admin bound to the worker, or a regulator in scope.
/// Returns the ledger source and the account.
async fn credit_actor(state: &AppState, viewer: &Viewer, worker_id: i64) -> Result<(String, i64), AppError> {
    let session = viewer.require()?;
    let principal = &session.principal;
    let worker = state.store.worker(worker_id).await?;
    if let Some(agency) = principal.agency_id() {
        if state.store.employing_agencies(worker_id).await?.contains(&agency) {
            return Ok((format!("agency:{agency}"), principal.account_id));
        }
        return Err(AppError::Forbidden);
    }
    if let Some(source) = principal.regulator_source()
        && state.store.may_reveal(principal, &worker).await?
    {
        return Ok((source, principal.account_id));
    }
    Err(AppError::Forbidden)
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct IdentityForm {
    /// How identity was checked, e.g. `id_card` (original seen) or `face_match`.
    pub method: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    pub seq: i64,
}

/// Records that the worker's identity was verified (ledger entry).
#[utoipa::path(post, path = "/api/v1/workers/{id}/identity-verification", tag = "credit", request_body = IdentityForm, security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn verify_identity(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<IdentityForm>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (source, account) = credit_actor(&state, &viewer, id).await?;
    let method = match form.method.trim() {
        "" => jiazheng_core::credit::IdentityMethod::IdCard,
        raw => jiazheng_core::credit::IdentityMethod::parse(raw).map_err(super::field_error("method"))?,
    };
    let seq = state.store.verify_identity(id, source, Some(account), method.as_str()).await?;
    Ok((StatusCode::CREATED, Json(Recorded { seq })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedCertificate {
    pub number: String,
    pub token: String,
    /// The page the QR code opens.
    pub url: String,
    pub valid_until: NaiveDate,
    pub status: String,
}

/// Issues the worker's home-service certificate: needs verified identity, a current health check
/// and pre-job training passed; otherwise 422 with each reason.
#[utoipa::path(post, path = "/api/v1/workers/{id}/certificate", tag = "credit", security(("bearer" = [])),
    responses((status = 201, body = IssuedCertificate), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<IssuedCertificate>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (source, account) = credit_actor(&state, &viewer, id).await?;
    let issued = state.store.issue_certificate(id, source, Some(account), today()).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedCertificate {
            url: format!("/v/{}", issued.token),
            number: issued.number,
            token: issued.token,
            valid_until: issued.valid_until,
            status: issued.status.as_str().to_string(),
        }),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RevokeForm {
    pub reason: String,
    /// No further card for this worker (a new card otherwise needs the rules met again).
    pub bar_reissue: bool,
}

/// Revokes a certificate (regulator): a ledger entry, and the number joins the revocation list.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/revocation", tag = "credit", request_body = RevokeForm, security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RevokeForm>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let cert = state.store.certificate(&number).await?;
    let (source, account) = credit_actor(&state, &viewer, cert.worker_id).await?;
    if !source.starts_with("regulator:") {
        return Err(AppError::Forbidden);
    }
    let reason = jiazheng_core::field::required_text(&form.reason, 200).map_err(super::field_error("reason"))?;
    let seq = state.store.revoke_certificate(&number, &reason, form.bar_reissue, source, Some(account)).await?;
    Ok((StatusCode::CREATED, Json(Recorded { seq })))
}

/// A worker's credit timeline with sources: the worker, an owning agency, a regulator in scope.
#[utoipa::path(get, path = "/api/v1/workers/{id}/ledger", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = Vec<Entry>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn timeline(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Entry>>, AppError> {
    super::workforce::readable_worker(&state, &viewer, id, "credit timeline").await?;
    Ok(Json(state.store.ledger_of(SubjectKind::Worker, id).await?))
}

/// What checking a token found.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// valid, malformed, unknown_key, tampered, not_found.
    pub verdict: String,
    pub card: Option<CardView>,
    pub live: Option<LiveView>,
    /// True when today's status differs from what the card claims.
    pub differs: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    pub number: String,
    pub name_masked: String,
    pub status: String,
    pub valid_until: NaiveDate,
    pub issued_at: String,
    pub key_id: u16,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LiveView {
    pub status: String,
    pub revoked: bool,
    pub expired: bool,
    pub valid_until: NaiveDate,
    pub agencies: Vec<String>,
    /// Services the worker meets every rule for today; `status` is their colour.
    pub services: Vec<String>,
    /// Services the worker offers but does not meet the rules for today.
    pub services_not_ready: Vec<String>,
}

fn codes(services: i64) -> Vec<String> {
    jiazheng_core::registry::ServiceSet::from_bits(services).kinds().iter().map(|k| k.as_str().to_string()).collect()
}

/// Checks a token offline-style (signature with the served keys), then the live status.
pub async fn check_token(
    state: &AppState,
    raw: &str,
) -> Result<(CheckResult, Option<Claims>, Option<std::sync::Arc<LiveStatus>>), AppError> {
    // Kept under the trimmed token: padding a card's token must not make a new entry per request.
    let raw = raw.trim();
    let verified = match state.verified.get(raw) {
        Some(claims) => Ok(Claims::clone(&claims)),
        None => {
            let keys = state.public_keys().await?;
            let verified = PublicKey::verify_token(&keys, raw);
            if let Ok(claims) = &verified {
                state.verified.put(raw.to_string(), std::sync::Arc::new(claims.clone()));
            }
            verified
        }
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(e) => {
            let result = CheckResult { verdict: e.code().into(), card: None, live: None, differs: false };
            return Ok((result, None, None));
        }
    };
    let card = CardView {
        number: claims.number.clone(),
        name_masked: claims.name_masked.clone(),
        status: claims.status.as_str().into(),
        valid_until: claims.valid_until,
        issued_at: claims.issued_at.to_rfc3339(),
        key_id: claims.key_id,
    };
    let live = match state.live_status(&claims.number).await {
        Ok(live) => live,
        Err(AppError::NotFound) => {
            let result = CheckResult { verdict: "not_found".into(), card: Some(card), live: None, differs: true };
            return Ok((result, Some(claims), None));
        }
        Err(other) => return Err(other),
    };
    let differs = live.status != claims.status || live.revoked || live.expired;
    let result = CheckResult {
        verdict: "valid".into(),
        card: Some(card),
        live: Some(LiveView {
            status: live.status.as_str().into(),
            revoked: live.revoked,
            expired: live.expired,
            valid_until: live.valid_until,
            agencies: live.agencies.clone(),
            services: codes(live.ready_services),
            services_not_ready: codes(live.other_services),
        }),
        differs,
    };
    Ok((result, Some(claims), Some(live)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CheckQuery {
    /// The token from the certificate's QR code.
    pub token: String,
}

/// Checks a certificate token: its signature, and today's status beside what the card claims.
#[utoipa::path(get, path = "/api/v1/certificates/check", tag = "credit", params(CheckQuery),
    responses((status = 200, body = CheckResult)))]
pub async fn check(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CheckQuery>,
) -> Result<Json<CheckResult>, AppError> {
    Ok(Json(check_token(&state, &q.token).await?.0))
}

/// Labels for a colour, for pages.
pub fn colour_label(colour: Colour, english: bool) -> &'static str {
    colour.label(english)
}

/// The verdict's words, for pages.
pub fn verdict_words(error: Option<TokenError>, english: bool) -> &'static str {
    match (error, english) {
        (None, false) => "证书真实：由平台签发",
        (None, true) => "The certificate is genuine",
        (Some(TokenError::Tampered), false) => "证书无效：内容被篡改或伪造",
        (Some(TokenError::Tampered), true) => "Not valid: the card was altered or forged",
        (Some(TokenError::UnknownKey), false) => "证书无效：签发密钥未知",
        (Some(TokenError::UnknownKey), true) => "Not valid: signed by an unknown key",
        (Some(TokenError::Malformed), false) => "证书无效：无法识别的二维码",
        (Some(TokenError::Malformed), true) => "Not valid: this is not a certificate code",
        (Some(TokenError::RetiredKey), false) => "证书无效：签发密钥已停用",
        (Some(TokenError::RetiredKey), true) => "Not valid: signed with a key that was retired",
    }
}

/// The full record a consenting worker shows: health, background check, training and skill,
/// ratings and upheld complaints.
#[derive(Debug, Serialize, ToSchema)]
pub struct FullRecord {
    pub number: String,
    pub name_masked: String,
    /// Each workforce condition with its standing and reason (health pass/fail included).
    pub checks: Vec<jiazheng_core::workforce::compliance::Check>,
    /// The latest background-check conclusion entered by the regulator, if any.
    pub background_check: Option<String>,
    pub ratings: i64,
    pub average_rating: Option<f64>,
    pub upheld_complaints: i64,
    /// Until when this viewer may look (absent for the worker, agencies and regulators).
    pub access_until: Option<String>,
}

pub async fn full_record(state: &AppState, number: &str) -> Result<(FullRecord, i64), AppError> {
    let cert = state.store.certificate(number).await?;
    let worker = state.store.worker(cert.worker_id).await?;
    let compliance = state.store.worker_compliance(worker.id, worker.services, today()).await?;
    // Withdrawn and corrected entries are left out, as the grade leaves them out.
    let facts = state.store.grade_facts(SubjectKind::Worker, worker.id).await?;
    let background_check = state.store.latest_background_check(worker.id).await?.map(|b| {
        let verdict = if b.passed() { "通过 / passed" } else { "未通过 / not passed" };
        format!("{verdict} · {} · {}", b.checked_on, b.authority)
    });
    let ratings: Vec<f64> = facts.iter().filter(|f| f.kind == EntryKind::Rating).filter_map(|f| f.value).collect();
    let upheld = facts.iter().filter(|f| f.kind == EntryKind::ComplaintUpheld).count() as i64;
    Ok((
        FullRecord {
            number: cert.number,
            name_masked: jiazheng_core::credit::certificate::mask_name(&worker.name),
            checks: compliance.checks,
            background_check,
            ratings: ratings.len() as i64,
            average_rating: (!ratings.is_empty()).then(|| ratings.iter().sum::<f64>() / ratings.len() as f64),
            upheld_complaints: upheld,
            access_until: None,
        },
        worker.id,
    ))
}

/// Whether the signed-in viewer may see a worker's full record: the worker, an owning agency or
/// a regulator in scope always; anyone else while the worker's consent lasts. The view is logged.
pub async fn record_access(
    state: &AppState,
    viewer: &Viewer,
    worker_id: i64,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    let session = viewer.require()?;
    let worker = state.store.worker(worker_id).await?;
    if state.store.may_reveal(&session.principal, &worker).await? {
        state.store.log_access(session.principal.account_id, "worker", worker_id, "full_record", "record").await?;
        return Ok(None);
    }
    let until = state.store.consent_until(worker_id, session.principal.account_id).await?.ok_or(AppError::Forbidden)?;
    state
        .store
        .log_access(
            session.principal.account_id,
            "worker",
            worker_id,
            "full_record",
            jiazheng_store::credit::consent::VIEW_PURPOSE,
        )
        .await?;
    Ok(Some(until))
}

/// A worker's full record, for the worker, their agencies, regulators, and viewers with consent.
#[utoipa::path(get, path = "/api/v1/certificates/{number}/record", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = FullRecord), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Result<Json<FullRecord>, AppError> {
    let cert = state.store.certificate(&number).await?;
    let until = record_access(&state, &viewer, cert.worker_id).await?;
    let (mut record, _) = full_record(&state, &number).await?;
    record.access_until = until.map(|u| u.to_rfc3339());
    Ok(Json(record))
}

/// Asks the worker behind a certificate to show their full record to the signed-in viewer.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/consent-requests", tag = "credit", security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 409, body = crate::error::ErrorBody)))]
pub async fn request_consent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let session = viewer.require()?;
    let cert = state.store.certificate(&number).await?;
    let id = state.store.request_consent(cert.worker_id, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(Recorded { seq: id })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct CodeForm {
    pub code: String,
}

/// Claims a one-time code the worker handed over: 24 hours of access to the full record.
#[utoipa::path(post, path = "/api/v1/certificates/{number}/consent-code", tag = "credit", request_body = CodeForm, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = crate::error::ErrorBody)))]
pub async fn claim_code(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    address: crate::limits::ClientAddr,
    headers: HeaderMap,
    ApiJson(form): ApiJson<CodeForm>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let session = viewer.require()?;
    let cert = state.store.certificate(&number).await?;
    let account = session.principal.account_id;
    crate::limits::claim_consent_code(&state, account, address.0, cert.worker_id, &form.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in worker's own record id.
pub fn own_worker(viewer: &Viewer) -> Result<i64, AppError> {
    let session = viewer.require_role(&[Role::Worker])?;
    match session.principal.scope {
        jiazheng_core::account::Scope::Worker(id) => Ok(id),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentCode {
    pub code: String,
    pub valid_minutes: i64,
}

/// A one-time code the worker can show a resident (valid ten minutes, once).
#[utoipa::path(post, path = "/api/v1/me/consent-codes", tag = "credit", security(("bearer" = [])),
    responses((status = 201, body = ConsentCode), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create_code(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<ConsentCode>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let worker = own_worker(&viewer)?;
    let code = state.store.create_consent_code(worker).await?;
    Ok((StatusCode::CREATED, Json(ConsentCode { code, valid_minutes: jiazheng_store::credit::consent::CODE_MINUTES })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Decision {
    pub approve: bool,
}

/// The worker approves or denies a request to see their record.
#[utoipa::path(post, path = "/api/v1/consents/{id}/decision", tag = "credit", request_body = Decision, security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<StatusCode, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let worker = own_worker(&viewer)?;
    state.store.decide_consent(worker, id, decision.approve).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records a background-check result from the authority (regulator in scope only). The result
/// is sealed in the ledger; consenting viewers see only the conclusion.
#[utoipa::path(post, path = "/api/v1/workers/{id}/background-checks", tag = "credit",
    request_body = jiazheng_core::credit::background::BackgroundCheckForm, security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn background_check(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<jiazheng_core::credit::background::BackgroundCheckForm>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (source, account) = credit_actor(&state, &viewer, id).await?;
    if !source.starts_with("regulator:") {
        return Err(AppError::Forbidden);
    }
    let check = form.parse(today()).map_err(AppError::Invalid)?;
    let seq = state.store.record_background_check(id, &check, source, Some(account)).await?;
    Ok((StatusCode::CREATED, Json(Recorded { seq })))
}

/// The published grade weights.
#[utoipa::path(get, path = "/api/v1/credit/weights", tag = "credit",
    responses((status = 200, body = jiazheng_core::credit::grade::Weights)))]
pub async fn weights() -> Json<jiazheng_core::credit::grade::Weights> {
    Json(jiazheng_core::credit::grade::Weights::shipped())
}

/// An agency's credit grade with the entries behind every point (public).
#[utoipa::path(get, path = "/api/v1/agencies/{id}/grade", tag = "credit",
    responses((status = 200, body = jiazheng_core::credit::grade::Grade), (status = 404, body = crate::error::ErrorBody)))]
pub async fn agency_grade(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<jiazheng_core::credit::grade::Grade>, AppError> {
    Ok(Json(agency_grade_of(&state, id).await?))
}

/// An agency's grade, recomputed from its ledger.
pub async fn agency_grade_of(state: &AppState, id: i64) -> Result<jiazheng_core::credit::grade::Grade, AppError> {
    state.store.agency(id).await?;
    let facts = state.store.grade_facts(SubjectKind::Agency, id).await?;
    let overdue = state.store.overdue_rectifications(id, jiazheng_core::calendar::beijing_today()).await?;
    Ok(jiazheng_core::credit::grade::agency_grade(&facts, overdue, &jiazheng_core::credit::grade::Weights::shipped()))
}

/// A worker's grade, recomputed from the ledger and today's standing.
pub async fn worker_grade(state: &AppState, worker_id: i64) -> Result<jiazheng_core::credit::grade::Grade, AppError> {
    let worker = state.store.worker(worker_id).await?;
    let compliance = state.store.worker_compliance(worker_id, worker.services, today()).await?;
    let standing = jiazheng_core::credit::grade::Standing::of(&compliance);
    let ledger = state.store.grade_facts(SubjectKind::Worker, worker_id).await?;
    Ok(jiazheng_core::credit::grade::grade(&ledger, Some(standing), &jiazheng_core::credit::grade::Weights::shipped()))
}

/// A worker's grade: for the worker, their agencies, regulators in scope, and viewers with consent.
#[utoipa::path(get, path = "/api/v1/workers/{id}/grade", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = jiazheng_core::credit::grade::Grade), (status = 403, body = crate::error::ErrorBody)))]
pub async fn worker_grade_api(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<jiazheng_core::credit::grade::Grade>, AppError> {
    record_access(&state, &viewer, id).await?;
    Ok(Json(worker_grade(&state, id).await?))
}
