//! Third-party evaluation in the API: rounds (the city's regulator opens, assigns and
//! publishes; district regulators read their district), evaluator organisations and their
//! declared ties, scores with evidence (evaluators), results (published: everyone; open: the
//! regulator only) and front-runners.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use jiazheng_core::FieldErrors;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::{EvidenceType, MAX_EVIDENCE_BYTES};
use jiazheng_core::oversight::evaluation::{
    Dimension, EvaluatedKind, OrgForm, RoundForm, RoundStatus, ScoreForm, WeightsForm, kinds_of, parse_tie,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::evaluation::{
    CardProgress, DeclaredTie, EvaluationAssignment, EvaluationResult, EvaluationRound, EvaluationScore,
    EvaluationSubject, EvaluatorOrg, EvaluatorSubject, NewSubject, ScoreEntry,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::agencies::csrf_header;
use super::{ApiJson, ApiQuery, Created, PageOf};
use crate::auth::Viewer;
use crate::evaluation::{
    PlatformFigure, Reader, city_regulator, evaluator, platform_figures, readable_round, regulator_sees,
};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    let upload = axum::extract::DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 64 * 1024);
    Router::new()
        .route("/evaluation/rounds", get(rounds).post(open_round))
        .route("/evaluation/rounds/{id}", get(round))
        .route("/evaluation/rounds/{id}/weights", put(set_weights))
        .route("/evaluation/rounds/{id}/subjects", get(subjects).post(add_subject))
        .route("/evaluation/rounds/{id}/assignments", get(assignments).post(assign))
        .route("/evaluation/rounds/{id}/evidence", post(upload_evidence).layer(upload))
        .route("/evaluation/rounds/{id}/subjects/{subject}/scorecard", get(scorecard))
        .route("/evaluation/rounds/{id}/subjects/{subject}/scores", put(record_scores))
        .route("/evaluation/rounds/{id}/subjects/{subject}/submission", post(submit))
        .route("/evaluation/rounds/{id}/results", get(results))
        .route("/evaluation/rounds/{id}/publication", post(publish))
        .route("/evaluation/rounds/{id}/front-runners", put(front_runners))
        .route("/evaluation/orgs", get(orgs).post(create_org))
        .route("/evaluation/ties", get(ties).post(declare_tie))
        .route("/evaluation/ties/{agency}", delete(withdraw_tie))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationPageParams {
    pub page: Option<u32>,
    /// At most 100.
    pub per_page: Option<u32>,
}

/// A round with its published weights.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationRoundDetail {
    #[serde(flatten)]
    pub round: EvaluationRound,
    /// What is evaluated: `agency`, `provider`, `community`.
    pub subject_kinds: Vec<EvaluatedKind>,
    pub weights: Vec<EvaluationWeight>,
    /// Whether any score was recorded: the weights are fixed from then on.
    pub scoring_started: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationWeight {
    pub dimension: Dimension,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    /// Percent; the seven sum to 100.
    pub weight: i64,
}

async fn detail(state: &AppState, round: EvaluationRound) -> Result<EvaluationRoundDetail, AppError> {
    let weights = state.store.round_weights(round.id).await?;
    Ok(EvaluationRoundDetail {
        subject_kinds: kinds_of(round.kinds),
        weights: weights
            .pairs()
            .map(|(d, w)| EvaluationWeight { dimension: d, label_zh: d.label_zh(), label_en: d.label_en(), weight: w })
            .collect(),
        scoring_started: state.store.scoring_started(round.id).await?,
        round,
    })
}

/// Rounds the viewer may see: regulators every round, an evaluator its organisation's, anyone
/// else the published ones.
#[utoipa::path(get, path = "/api/v1/evaluation/rounds", tag = "evaluation", params(EvaluationPageParams),
    responses((status = 200, body = PageOf<EvaluationRound>)))]
pub async fn rounds(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<EvaluationPageParams>,
) -> Result<Json<PageOf<EvaluationRound>>, AppError> {
    let who = Reader::of(&viewer).rounds();
    Ok(Json(state.store.evaluation_rounds(who, PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// Opens a round with its weights (the city's regulator).
#[utoipa::path(post, path = "/api/v1/evaluation/rounds", tag = "evaluation", request_body = RoundForm,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn open_round(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RoundForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
    let id = state.store.open_round(&draft, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A round and its weights: published rounds for everyone; open ones for regulators and the
/// organisations assigned (others: 404).
#[utoipa::path(get, path = "/api/v1/evaluation/rounds/{id}", tag = "evaluation", params(("id" = i64, Path)),
    responses((status = 200, body = EvaluationRoundDetail)))]
pub async fn round(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<EvaluationRoundDetail>, AppError> {
    let (round, _) = readable_round(&state, &viewer, id).await?;
    Ok(Json(detail(&state, round).await?))
}

/// New weights, before anyone has scored (409 `scoring_started` after).
#[utoipa::path(put, path = "/api/v1/evaluation/rounds/{id}/weights", tag = "evaluation", params(("id" = i64, Path)),
    request_body = WeightsForm, security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_weights(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<WeightsForm>,
) -> Result<StatusCode, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let weights = form.parse().map_err(AppError::Invalid)?;
    state.store.set_round_weights(id, &weights, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A subject with the organisations expected to score it and how far each is.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationSubjectProgress {
    #[serde(flatten)]
    pub subject: EvaluationSubject,
    pub evaluators: Vec<CardProgress>,
}

/// The round's subjects as the viewer sees them: a regulator (of a district: its subjects) with
/// each organisation's progress; an evaluator the subjects it is assigned, its progress and ties.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EvaluationSubjects {
    Regulator(PageOf<EvaluationSubjectProgress>),
    Evaluator(PageOf<EvaluatorSubject>),
}

// `anyOf`, not the derive's `oneOf`: an empty page is both shapes at once.
impl utoipa::PartialSchema for EvaluationSubjects {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("PageOf_EvaluationSubjectProgress"))
            .item(Ref::from_schema_name("PageOf_EvaluatorSubject"))
            .description(Some(
                "The round's subjects as the viewer sees them: a regulator's with each organisation's \
                 progress, or an evaluator's with its own progress and ties.",
            ))
            .into()
    }
}

impl ToSchema for EvaluationSubjects {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((
            "PageOf_EvaluationSubjectProgress".into(),
            <PageOf<EvaluationSubjectProgress> as PartialSchema>::schema(),
        ));
        schemas.push(("PageOf_EvaluatorSubject".into(), <PageOf<EvaluatorSubject> as PartialSchema>::schema()));
        schemas.push((EvaluationSubjectProgress::name().into(), EvaluationSubjectProgress::schema()));
        schemas.push((EvaluatorSubject::name().into(), EvaluatorSubject::schema()));
        <PageOf<EvaluationSubjectProgress> as ToSchema>::schemas(schemas);
        <PageOf<EvaluatorSubject> as ToSchema>::schemas(schemas);
    }
}

#[utoipa::path(get, path = "/api/v1/evaluation/rounds/{id}/subjects", tag = "evaluation",
    params(("id" = i64, Path), EvaluationPageParams), security(("bearer" = [])),
    responses((status = 200, body = EvaluationSubjects)))]
pub async fn subjects(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<EvaluationPageParams>,
) -> Result<Json<EvaluationSubjects>, AppError> {
    let page = PageRequest::new(q.page, q.per_page);
    if let Ok((_, org)) = evaluator(&viewer) {
        return Ok(Json(EvaluationSubjects::Evaluator(state.store.evaluator_subjects(id, org, page).await?.into())));
    }
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    let (_, reader) = readable_round(&state, &viewer, id).await?;
    let list = state.store.round_subjects(id, reader.district(), page).await?;
    let ids: Vec<i64> = list.items.iter().map(|s| s.id).collect();
    let mut progress = state.store.card_progress(id, &ids).await?;
    Ok(Json(EvaluationSubjects::Regulator(PageOf::from_page(list, |subject| EvaluationSubjectProgress {
        evaluators: progress.remove(&subject.id).unwrap_or_default(),
        subject,
    }))))
}

/// A subject to add: an agency, a school or a community, by the id or code picked from a list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EvaluationSubjectForm {
    /// `agency`, `provider` or `community`.
    pub kind: String,
    pub agency_id: Option<i64>,
    pub provider_id: Option<i64>,
    /// A community's 12-digit code.
    pub community: String,
}

#[utoipa::path(post, path = "/api/v1/evaluation/rounds/{id}/subjects", tag = "evaluation", params(("id" = i64, Path)),
    request_body = EvaluationSubjectForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_subject(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<EvaluationSubjectForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let required = |field: &str| AppError::Invalid(FieldErrors(vec![Invalid::required().at(field)]));
    let subject =
        match EvaluatedKind::parse(&form.kind).map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("kind")])))? {
            EvaluatedKind::Agency => NewSubject::Agency(form.agency_id.ok_or_else(|| required("agency_id"))?),
            EvaluatedKind::Provider => NewSubject::Provider(form.provider_id.ok_or_else(|| required("provider_id"))?),
            EvaluatedKind::Community => NewSubject::Community(
                DivisionCode::parse(&form.community)
                    .map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("community")])))?,
            ),
        };
    let id = state.store.add_subject(id, &subject, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/evaluation/rounds/{id}/assignments", tag = "evaluation", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<EvaluationAssignment>)))]
pub async fn assignments(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<EvaluationAssignment>>, AppError> {
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    state.store.evaluation_round(id).await?;
    Ok(Json(state.store.round_assignments(id).await?))
}

/// An organisation to assign, to one subject or (none) to the whole round.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EvaluationAssignForm {
    pub org_id: i64,
    pub subject_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/evaluation/rounds/{id}/assignments", tag = "evaluation", params(("id" = i64, Path)),
    request_body = EvaluationAssignForm, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<EvaluationAssignForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let id = state.store.assign_evaluator(id, form.org_id, form.subject_id, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// An evidence file (PDF, JPEG or PNG, at most 5 MB) as multipart field `file`.
#[derive(Debug, ToSchema)]
pub struct EvaluationEvidenceUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// Keeps an evidence file of the evaluator's organisation for the round; a score then names it
/// by `evidence_id`.
#[utoipa::path(post, path = "/api/v1/evaluation/rounds/{id}/evidence", tag = "evaluation", params(("id" = i64, Path)),
    request_body(content = EvaluationEvidenceUpload, content_type = "multipart/form-data"), security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let mut file = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        if field.name() == Some("file") {
            file = field.bytes().await.map_err(AppError::from)?.to_vec();
        }
    }
    let kind = EvidenceType::sniff(&file).map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("file")])))?;
    let id = state.store.add_evaluation_evidence(id, org, kind, &file, session.principal.account_id).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A subject's scores (an evaluator: its own; a regulator: every organisation's), with the
/// platform's own figures about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationScorecard {
    pub subject: EvaluationSubject,
    pub scores: Vec<EvaluationScore>,
    /// An evaluator's own scorecard: submitted (locked) or not.
    pub submitted: Option<bool>,
    /// Read from this platform's records now, for reference: not a score.
    pub platform_figures: Vec<PlatformFigure>,
}

#[utoipa::path(get, path = "/api/v1/evaluation/rounds/{id}/subjects/{subject}/scorecard", tag = "evaluation",
    params(("id" = i64, Path), ("subject" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = EvaluationScorecard), (status = 403, body = crate::error::ErrorBody)))]
pub async fn scorecard(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, subject)): Path<(i64, i64)>,
) -> Result<Json<EvaluationScorecard>, AppError> {
    let (org, submitted) = match evaluator(&viewer) {
        Ok((_, org)) => {
            if !state.store.may_score(id, subject, org).await? {
                return Err(AppError::Forbidden);
            }
            (Some(org), Some(state.store.scorecard_submitted(id, subject, org).await?.is_some()))
        }
        Err(_) => {
            viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
            (None, None)
        }
    };
    let (_, reader) = match org {
        Some(org) => (state.store.evaluation_round(id).await?, Reader::Evaluator { org }),
        None => readable_round(&state, &viewer, id).await?,
    };
    let found = state.store.round_subject(id, subject).await?;
    if org.is_none() && !regulator_sees(&reader, &found) {
        return Err(AppError::NotFound);
    }
    Ok(Json(EvaluationScorecard {
        scores: state.store.subject_scores(id, subject, org).await?,
        platform_figures: platform_figures(&state, &found).await?,
        subject: found,
        submitted,
    }))
}

/// Scores of one subject by the evaluator's organisation: set or replaced together, all or none.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EvaluationScoresForm {
    pub scores: Vec<ScoreForm>,
}

/// Records the evaluator's scores of a subject: each 0–100 with a note or an `evidence_id` (422
/// beside the field otherwise); an organisation tied to the agency, or not assigned to the
/// subject: 403; a submitted scorecard: 409.
#[utoipa::path(put, path = "/api/v1/evaluation/rounds/{id}/subjects/{subject}/scores", tag = "evaluation",
    params(("id" = i64, Path), ("subject" = i64, Path)), request_body = EvaluationScoresForm, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_scores(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, subject)): Path<(i64, i64)>,
    ApiJson(form): ApiJson<EvaluationScoresForm>,
) -> Result<StatusCode, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let mut errors = FieldErrors::default();
    let mut entries: Vec<ScoreEntry> = Vec::new();
    if form.scores.is_empty() || form.scores.len() > Dimension::ALL.len() {
        errors.0.push(Invalid::new("scores", "请为1到7个维度评分", "score one to seven dimensions").at("scores"));
    }
    for score in form.scores.iter().take(Dimension::ALL.len()) {
        match score.parse(false) {
            Ok(draft) if entries.iter().any(|e| e.draft.dimension == draft.dimension) => {
                errors.0.push(Invalid::new("repeated", "同一维度只能评一次", "each dimension once").at("dimension"))
            }
            Ok(draft) => entries.push(ScoreEntry { draft, file: None }),
            Err(e) => errors.0.extend(e.0),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    state.store.record_scores(id, subject, org, &entries, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submits the organisation's scorecard of a subject (all seven scored); it is locked after.
#[utoipa::path(post, path = "/api/v1/evaluation/rounds/{id}/subjects/{subject}/submission", tag = "evaluation",
    params(("id" = i64, Path), ("subject" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path((id, subject)): Path<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    state.store.submit_scorecard(id, subject, org, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvaluationResultParams {
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `agency`, `provider` or `community`; absent: all, agencies first.
    pub kind: Option<String>,
    /// Only the front-runners.
    pub front_runners: Option<bool>,
}

/// A round's results, by kind and rank. Published rounds: everyone (frozen at publication);
/// an open round: regulators only, as it stands (submitted scorecards only).
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationResults {
    pub status: RoundStatus,
    pub results: PageOf<EvaluationResult>,
}

#[utoipa::path(get, path = "/api/v1/evaluation/rounds/{id}/results", tag = "evaluation",
    params(("id" = i64, Path), EvaluationResultParams), responses((status = 200, body = EvaluationResults)))]
pub async fn results(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<EvaluationResultParams>,
) -> Result<Json<EvaluationResults>, AppError> {
    let (round, reader) = readable_round(&state, &viewer, id).await?;
    let page = PageRequest::new(q.page, q.per_page);
    let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(raw) => Some(EvaluatedKind::parse(raw).map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("kind")])))?),
        None => None,
    };
    let results = if round.is_published() {
        state.store.published_results(id, reader.district(), kind, q.front_runners.unwrap_or(false), page).await?
    } else if matches!(reader, Reader::Regulator { .. }) {
        state.store.provisional_result_rows(id, reader.district(), page).await?
    } else {
        return Err(AppError::NotFound);
    };
    Ok(Json(EvaluationResults { status: round.status(), results: results.into() }))
}

/// Publishes the round once every subject is fully scored (422 naming what is missing).
#[utoipa::path(post, path = "/api/v1/evaluation/rounds/{id}/publication", tag = "evaluation", params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    state.store.publish_round(id, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The front-runners of a published round: exactly these subjects.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EvaluationFrontRunnersForm {
    pub subject_ids: Vec<i64>,
}

#[utoipa::path(put, path = "/api/v1/evaluation/rounds/{id}/front-runners", tag = "evaluation", params(("id" = i64, Path)),
    request_body = EvaluationFrontRunnersForm, security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn front_runners(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    ApiJson(form): ApiJson<EvaluationFrontRunnersForm>,
) -> Result<StatusCode, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    if form.subject_ids.len() > 1000 {
        return Err(AppError::invalid("subject_ids", "too_many", "过多", "too many"));
    }
    state.store.designate_front_runners(id, &form.subject_ids, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/evaluation/orgs", tag = "evaluation", params(EvaluationPageParams),
    security(("bearer" = [])), responses((status = 200, body = PageOf<EvaluatorOrg>)))]
pub async fn orgs(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<EvaluationPageParams>,
) -> Result<Json<PageOf<EvaluatorOrg>>, AppError> {
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    Ok(Json(state.store.evaluator_orgs(PageRequest::new(q.page, q.per_page)).await?.into()))
}

/// Registers an evaluator organisation (the city's regulator); its accounts are then made by
/// the system admin.
#[utoipa::path(post, path = "/api/v1/evaluation/orgs", tag = "evaluation", request_body = OrgForm,
    security(("bearer" = [])), responses((status = 201, body = Created), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_org(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<OrgForm>,
) -> Result<(StatusCode, Json<Created>), AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let draft = form.parse().map_err(AppError::Invalid)?;
    let id = state.store.create_evaluator_org(&draft, Some(session.principal.account_id)).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/evaluation/ties", tag = "evaluation", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeclaredTie>)))]
pub async fn ties(State(state): State<AppState>, viewer: Viewer) -> Result<Json<Vec<DeclaredTie>>, AppError> {
    let (_, org) = evaluator(&viewer)?;
    Ok(Json(state.store.declared_ties(org).await?))
}

/// A tie to an agency the evaluator's organisation declares.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EvaluationTieForm {
    pub agency_id: i64,
    /// What the tie is (up to 200 characters).
    pub tie: String,
}

#[utoipa::path(post, path = "/api/v1/evaluation/ties", tag = "evaluation", request_body = EvaluationTieForm,
    security(("bearer" = [])),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn declare_tie(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    ApiJson(form): ApiJson<EvaluationTieForm>,
) -> Result<StatusCode, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    let tie = parse_tie(&form.tie).map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("tie")])))?;
    state.store.declare_tie(org, form.agency_id, &tie, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/evaluation/ties/{agency}", tag = "evaluation", params(("agency" = i64, Path)),
    security(("bearer" = [])), responses((status = 204)))]
pub async fn withdraw_tie(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(agency): Path<i64>,
) -> Result<StatusCode, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(csrf_header(&headers))?;
    state.store.withdraw_tie(org, agency, session.principal.account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
