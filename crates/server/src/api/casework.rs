//! Credit inputs and the regulator's work: services and ratings, complaints, the review queue of
//! agency-entered records, rewards and penalties, red/black lists, appeals, and an agency's
//! public credit record.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::credit::SubjectKind;
use jiazheng_core::credit::casework::{
    ActionForm, AppealOutcome, ComplaintAction, ComplaintForm, ComplaintStatus, CreditList, DecisionForm,
    ListProposalForm, ListingReview, RatingForm, ReviewDecision, ServiceRecordForm,
};
use jiazheng_core::field::required_text;
use jiazheng_store::PageRequest;
use jiazheng_store::credit::casework::{
    Actor, AgencyCredit, AppealRow, ComplaintRow, ListingRow, QueueFilter, QueuedEntry, ServiceRow,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::credit::Recorded;
use super::workers::today;
use super::{ApiJson, ApiQuery, Created, PageOf, field_error};
use crate::auth::Viewer;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", post(record_service))
        .route("/me/services", get(my_services))
        .route("/services/{id}/confirmation", post(confirm_service))
        .route("/services/{id}/rating", post(rate_service))
        .route("/complaints", post(file_complaint).get(complaints))
        .route("/complaints/{id}/decision", post(act_on_complaint))
        .route("/credit/review-queue", get(review_queue))
        .route("/credit/entries/{seq}/review", post(review_entry))
        .route("/credit/entries/{seq}/appeals", post(file_appeal))
        .route("/credit/actions", post(record_action))
        .route("/credit/list-proposals", post(propose_listing).get(open_listings))
        .route("/credit/list-proposals/{id}/review", post(review_listing))
        .route("/credit/lists/{list}", get(credit_list))
        .route("/appeals", get(open_appeals))
        .route("/appeals/{id}/decision", post(decide_appeal))
        .route("/agencies/{id}/credit", get(agency_credit))
        .route("/agencies/{id}/credit-report", post(credit_report))
        .route("/credit/reports/{id}", get(released_report))
        .route("/banks", get(banks))
}

/// The signed-in regulator, as the ledger names them.
pub fn regulator(viewer: &Viewer) -> Result<Actor, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.to_string());
    let source = session.principal.regulator_source().ok_or(AppError::Forbidden)?;
    Ok(Actor { account_id: session.principal.account_id, source, area })
}

/// The signed-in resident.
pub fn resident(viewer: &Viewer) -> Result<Actor, AppError> {
    let session = viewer.require_role(&[Role::Resident])?;
    let id = session.principal.account_id;
    Ok(Actor { account_id: id, source: format!("resident:{id}"), area: None })
}

/// Records a service the agency's worker performed; the resident confirms it before it counts.
#[utoipa::path(post, path = "/api/v1/services", tag = "credit", request_body = ServiceRecordForm, security(("bearer" = [])),
    responses((status = 201, body = ServiceRow), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_service(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ServiceRecordForm>,
) -> Result<(StatusCode, Json<ServiceRow>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (session, agency) = viewer.require_agency()?;
    let draft = form.parse(today()).map_err(AppError::Invalid)?;
    let row = state.store.record_service(agency, &draft, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// The signed-in resident's services, newest first.
#[utoipa::path(get, path = "/api/v1/me/services", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = Vec<ServiceRow>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn my_services(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<ServiceRow>>, AppError> {
    let me = resident(&viewer)?;
    Ok(Json(state.store.services_of_resident(me.account_id).await?))
}

/// The resident confirms the service happened (a `service` ledger entry on the worker).
#[utoipa::path(post, path = "/api/v1/services/{id}/confirmation", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = ServiceRow), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn confirm_service(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Json<ServiceRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = resident(&viewer)?;
    let row = state.store.confirm_service(id, &me).await?;
    Ok(Json(row))
}

/// Rates a confirmed service in four dimensions; one rating per service.
#[utoipa::path(post, path = "/api/v1/services/{id}/rating", tag = "credit", request_body = RatingForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn rate_service(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RatingForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = resident(&viewer)?;
    let rating = form.parse().map_err(AppError::Invalid)?;
    let rating_id = state.store.rate_service(id, &me, &rating).await?;
    Ok((StatusCode::CREATED, Json(Created { id: rating_id })))
}

/// A resident files a complaint against a worker or an agency.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "credit", request_body = ComplaintForm, security(("bearer" = [])),
    responses((status = 201, body = ComplaintRow), (status = 422, body = crate::error::ErrorBody)))]
pub async fn file_complaint(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ComplaintForm>,
) -> Result<(StatusCode, Json<ComplaintRow>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = resident(&viewer)?;
    let complaint = form.parse().map_err(AppError::Invalid)?;
    let row = state.store.file_complaint(me.account_id, &complaint).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct ComplaintQuery {
    /// filed, acknowledged, investigating, upheld, dismissed
    pub status: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Complaints: the regulator's queue, or a resident's own.
#[utoipa::path(get, path = "/api/v1/complaints", tag = "credit", params(ComplaintQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<ComplaintRow>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn complaints(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<ComplaintQuery>,
) -> Result<Json<PageOf<ComplaintRow>>, AppError> {
    let session = viewer.require_role(&[Role::Regulator, Role::Resident])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.to_string());
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(ComplaintStatus::parse(s).map_err(field_error("status"))?),
        None => None,
    };
    let resident = (session.principal.role == Role::Resident).then_some(session.principal.account_id);
    Ok(Json(
        state.store.complaints(status, resident, area.as_deref(), PageRequest::new(q.page, q.per_page)).await?.into(),
    ))
}

/// The regulator acknowledges, investigates, upholds or dismisses a complaint (the last two with
/// a reason). Only an upheld complaint counts against credit.
#[utoipa::path(post, path = "/api/v1/complaints/{id}/decision", tag = "credit", request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = ComplaintRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn act_on_complaint(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<ComplaintRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = regulator(&viewer)?;
    let (action, reason) = form.parse::<ComplaintAction>().map_err(AppError::Invalid)?;
    let row = state.store.act_on_complaint(id, action, &reason, &me).await?;
    Ok(Json(row))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct PageQuery {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Agency-entered worker records waiting for review (regulators).
#[utoipa::path(get, path = "/api/v1/credit/review-queue", tag = "credit", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = PageOf<QueuedEntry>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn review_queue(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<PageOf<QueuedEntry>>, AppError> {
    let me = regulator(&viewer)?;
    Ok(Json(
        state
            .store
            .review_queue(&QueueFilter::area(me.area.as_deref()), PageRequest::new(q.page, q.per_page))
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Reviewed {
    /// The correction that withdrew a returned entry.
    pub correction_seq: Option<i64>,
}

/// Approves or returns an agency-entered entry (`approved` / `returned`, with a reason); a
/// returned entry may be marked false, which is recorded against the agency.
#[utoipa::path(post, path = "/api/v1/credit/entries/{seq}/review", tag = "credit", request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = Reviewed), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn review_entry(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(seq): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<Reviewed>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = regulator(&viewer)?;
    let (decision, reason) = form.parse::<ReviewDecision>().map_err(AppError::Invalid)?;
    let correction_seq = state.store.review_entry(seq, decision, &reason, form.false_entry, &me).await?;
    Ok(Json(Reviewed { correction_seq }))
}

/// Records a reward or a penalty with its date, authority and document (regulators).
#[utoipa::path(post, path = "/api/v1/credit/actions", tag = "credit", request_body = ActionForm, security(("bearer" = [])),
    responses((status = 201, body = Recorded), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_action(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ActionForm>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = regulator(&viewer)?;
    let action = form.parse(today()).map_err(AppError::Invalid)?;
    let seq = state.store.record_action(&action, &me).await?;
    Ok((StatusCode::CREATED, Json(Recorded { seq })))
}

/// Proposes putting a worker or agency on the red or black list, or removing them; nothing is
/// public until another regulator approves.
#[utoipa::path(post, path = "/api/v1/credit/list-proposals", tag = "credit", request_body = ListProposalForm, security(("bearer" = [])),
    responses((status = 201, body = ListingRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn propose_listing(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<ListProposalForm>,
) -> Result<(StatusCode, Json<ListingRow>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = regulator(&viewer)?;
    let proposal = form.parse().map_err(AppError::Invalid)?;
    Ok((StatusCode::CREATED, Json(state.store.propose_listing(&proposal, &me).await?)))
}

/// Listing proposals waiting for review (regulators).
#[utoipa::path(get, path = "/api/v1/credit/list-proposals", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = Vec<ListingRow>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn open_listings(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<ListingRow>>, AppError> {
    let me = regulator(&viewer)?;
    Ok(Json(state.store.open_listings(me.area.as_deref()).await?))
}

/// Another regulator approves (`approve`) or rejects (`reject`) a listing proposal.
#[utoipa::path(post, path = "/api/v1/credit/list-proposals/{id}/review", tag = "credit", request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = ListingRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn review_listing(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<ListingRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = regulator(&viewer)?;
    let (decision, note) = form.parse::<ListingReview>().map_err(AppError::Invalid)?;
    let row = state.store.review_listing(id, decision == ListingReview::Approve, &note, &me).await?;
    Ok(Json(row))
}

/// Who is on the red or black list now, with the dated reason and document (public).
#[utoipa::path(get, path = "/api/v1/credit/lists/{list}", tag = "credit",
    responses((status = 200, body = Vec<ListingRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn credit_list(
    State(state): State<AppState>,
    Path(list): Path<String>,
) -> Result<Json<Vec<ListingRow>>, AppError> {
    let list = CreditList::parse(&list).ok().filter(|l| *l != CreditList::Removed).ok_or_else(|| {
        field_error("list")(jiazheng_core::field::Invalid::unknown_choice("红名单、黑名单", "red, black"))
    })?;
    Ok(Json(state.store.credit_list(list).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AppealForm {
    pub reason: String,
}

/// The worker or agency an entry is about appeals it.
#[utoipa::path(post, path = "/api/v1/credit/entries/{seq}/appeals", tag = "credit", request_body = AppealForm, security(("bearer" = [])),
    responses((status = 201, body = AppealRow), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn file_appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(seq): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<AppealForm>,
) -> Result<(StatusCode, Json<AppealRow>), AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let session = viewer.require_role(&[Role::Worker, Role::AgencyAdmin])?;
    let own = match session.principal.scope {
        Scope::Worker(id) => (SubjectKind::Worker, id),
        Scope::Agency(id) => (SubjectKind::Agency, id),
        _ => return Err(AppError::Forbidden),
    };
    let reason = required_text(&form.reason, 1000).map_err(field_error("reason"))?;
    let row = state.store.file_appeal(seq, session.principal.account_id, own, &reason).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Appeals waiting for a decision (regulators).
#[utoipa::path(get, path = "/api/v1/appeals", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = Vec<AppealRow>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn open_appeals(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<AppealRow>>, AppError> {
    let me = regulator(&viewer)?;
    Ok(Json(state.store.open_appeals(me.area.as_deref()).await?))
}

/// The regulator grants (the entry is withdrawn) or denies an appeal, with a reason.
#[utoipa::path(post, path = "/api/v1/appeals/{id}/decision", tag = "credit", request_body = DecisionForm, security(("bearer" = [])),
    responses((status = 200, body = AppealRow), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn decide_appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(form): ApiJson<DecisionForm>,
) -> Result<Json<AppealRow>, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let me = regulator(&viewer)?;
    let (outcome, reason) = form.parse::<AppealOutcome>().map_err(AppError::Invalid)?;
    let row = state.store.decide_appeal(id, outcome, &reason, &me).await?;
    Ok(Json(row))
}

/// An agency's public credit record: rewards and penalties, list status, complaint rate.
#[utoipa::path(get, path = "/api/v1/agencies/{id}/credit", tag = "credit",
    responses((status = 200, body = AgencyCredit), (status = 404, body = crate::error::ErrorBody)))]
pub async fn agency_credit(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<AgencyCredit>, AppError> {
    Ok(Json(state.store.agency_credit(id).await?))
}

/// A PDF response with the report's number in a header.
pub fn pdf_response(report_id: i64, pdf: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"credit-report-{report_id}.pdf\"")),
            (header::HeaderName::from_static("x-report-id"), report_id.to_string()),
        ],
        pdf,
    )
        .into_response()
}

/// The agency releases its credit report to a bank: the consent is recorded, the content
/// signed, and the PDF returned (agency admins, for their own agency).
#[utoipa::path(post, path = "/api/v1/agencies/{id}/credit-report", tag = "credit", request_body = crate::report::ReportRequest,
    security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf", description = "the signed report"),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn credit_report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<crate::report::ReportRequest>,
) -> Result<axum::response::Response, AppError> {
    viewer.check_csrf(csrf_header(&headers))?;
    let (session, agency) = viewer.require_agency()?;
    if agency != id {
        return Err(AppError::Forbidden);
    }
    let (released, pdf) =
        crate::report::release(&state, agency, session.principal.account_id, &session.display_name, &request).await?;
    Ok(pdf_response(released.id, pdf))
}

/// A released report as the platform signed it: for the bank named in the consent to compare
/// with the PDF, the agency itself and regulators over the agency's district.
#[utoipa::path(get, path = "/api/v1/credit/reports/{id}", tag = "credit", security(("bearer" = [])),
    responses((status = 200, body = jiazheng_store::credit::reports::ReleasedReport), (status = 403, body = crate::error::ErrorBody)))]
pub async fn released_report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<jiazheng_store::credit::reports::ReleasedReport>, AppError> {
    let session = viewer.require()?;
    let report = state.store.released_report(id).await?;
    let principal = &session.principal;
    let allowed = match principal.role {
        Role::Bank => report.bank_id.is_some() && principal.bank_id() == report.bank_id,
        Role::AgencyAdmin => principal.agency_id() == Some(report.agency_id),
        Role::Regulator => {
            let agency = state.store.agency(report.agency_id).await?;
            super::agencies::regulates(principal, &agency)
        }
        _ => false,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    Ok(Json(report))
}

/// The registered banks an agency may release its credit report to.
#[utoipa::path(get, path = "/api/v1/banks", tag = "credit", security(("bearer" = [])), responses((status = 200, body = Vec<jiazheng_store::credit::reports::Bank>)))]
pub async fn banks(
    State(state): State<AppState>,
) -> Result<Json<Vec<jiazheng_store::credit::reports::Bank>>, AppError> {
    Ok(Json(state.store.banks().await?))
}
