//! Third-party evaluation pages: the city's regulator opens a round with its weights, adds the
//! subjects, registers evaluator organisations and assigns them, and publishes when every subject
//! is fully scored; district regulators read their district; an evaluator declares its ties and
//! scores the subjects it is assigned, the platform's own figures beside each dimension; the
//! public reads published rounds.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::{EvidenceType, MAX_EVIDENCE_BYTES};
use jiazheng_core::oversight::evaluation::{
    Dimension, EvaluatedKind, OrgForm, Period, RoundForm, SUGGESTED_FRONT_RUNNERS, ScoreForm, Weights, WeightsForm,
    parse_tie, weight_field,
};
use jiazheng_store::oversight::evaluation::{
    DeclaredTie, EvaluationAssignment, EvaluationRound, EvaluationScore, EvaluationSubject, EvaluatorOrg,
    EvaluatorSubject, NewSubject, ScoreEntry,
};
use jiazheng_store::registry::agencies::AgencyQuery;
use jiazheng_store::{PageRequest, StoreError};
use serde::Deserialize;

use super::{Chrome, CsrfForm, Pager, beijing_minutes, field_message, render};
use crate::auth::Viewer;
use crate::evaluation::{
    PlatformFigure, Reader, ResultLine, city_regulator, evaluator, platform_figures, readable_round, regulator_sees,
};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    // Seven evidence files and the form around them; larger bodies stop at the limit.
    let upload = axum::extract::DefaultBodyLimit::max(crate::UPLOAD_LIMIT);
    Router::new()
        .route("/regulator/evaluation", get(rounds).post(open_round))
        .route("/regulator/evaluation/new", get(new_round))
        .route("/regulator/evaluation/orgs", get(orgs).post(create_org))
        .route("/regulator/evaluation/{id}", get(round_page))
        .route("/regulator/evaluation/{id}/weights", post(set_weights))
        .route("/regulator/evaluation/{id}/subjects", post(add_subject))
        .route("/regulator/evaluation/{id}/subjects/{subject}", get(subject_scores))
        .route("/regulator/evaluation/{id}/subjects/{subject}/remove", post(remove_subject))
        .route("/regulator/evaluation/{id}/assignments", post(assign))
        .route("/regulator/evaluation/{id}/publish", post(publish))
        .route("/regulator/evaluation/{id}/front-runners", post(front_runners))
        .route("/evaluation", get(evaluator_home))
        .route("/evaluation/ties", post(declare_tie))
        .route("/evaluation/ties/{agency}/withdraw", post(withdraw_tie))
        .route("/evaluation/rounds/{id}", get(evaluator_round))
        .route("/evaluation/rounds/{id}/subjects/{subject}", get(score_page).post(save_scores).layer(upload))
        .route("/evaluation/rounds/{id}/subjects/{subject}/submit", post(submit))
        .route("/evaluation/evidence/{id}", get(evidence))
        .route("/evaluations", get(public_rounds))
        .route("/evaluations/{id}", get(public_round))
}

fn unprocessable(page: Response) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// A page shown again with errors answers 422; without, 200.
fn status_for(errors: &FieldErrors) -> StatusCode {
    if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY }
}

/// Rounds as the lists show them: the round, its period and state in words.
fn round_rows(rounds: Vec<EvaluationRound>, lang: Lang) -> Vec<(EvaluationRound, String, &'static str)> {
    rounds
        .into_iter()
        .map(|r| {
            let period = r.period_words(lang.is_en());
            let status = r.status().label(lang.is_en());
            (r, period, status)
        })
        .collect()
}

/// A conflict said on the page it came from, as a field error.
fn said(error: StoreError, field: &str) -> Result<FieldErrors, AppError> {
    match error {
        StoreError::Invalid(errors) => Ok(errors),
        conflict @ StoreError::Conflict { .. } => match AppError::from(conflict) {
            AppError::Conflict { code, message_zh, message_en, .. } => {
                Ok(FieldErrors(vec![Invalid::new(code, message_zh, message_en).at(field)]))
            }
            other => Err(other),
        },
        other => Err(other.into()),
    }
}

fn kinds_words(round: &EvaluationRound, lang: Lang) -> String {
    let labels: Vec<&str> = round.kind_list().iter().map(|k| k.label(lang.is_en())).collect();
    labels.join(lang.pick("、", ", "))
}

/// A weight input: field name, dimension, value typed, error beside it.
struct WeightInput {
    field: String,
    label: &'static str,
    value: String,
    error: Option<String>,
}

fn weight_inputs(form: &WeightsForm, errors: &FieldErrors, lang: Lang) -> Vec<WeightInput> {
    Dimension::ALL
        .iter()
        .map(|d| WeightInput {
            field: weight_field(*d),
            label: d.label(lang.is_en()),
            value: form.raw(*d).to_string(),
            error: field_message(errors, lang, &weight_field(*d)),
        })
        .collect()
}

fn dimension_labels(lang: Lang) -> Vec<&'static str> {
    Dimension::ALL.iter().map(|d| d.label(lang.is_en())).collect()
}

// ---- regulator: rounds ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "evaluation_rounds.html")]
struct RoundsPage {
    chrome: Chrome,
    rows: Vec<(EvaluationRound, String, &'static str)>,
    pager: Pager,
    may_open: bool,
}

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<u32>,
}

async fn rounds(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    let page = state.store.evaluation_rounds(Reader::of(&viewer).rounds(), PageRequest::new(q.page, Some(20))).await?;
    render(&RoundsPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/regulator/evaluation",
            lang.pick("第三方评价", "Third-party evaluation").into(),
        ),
        pager: Pager::new(&page, "/regulator/evaluation", ""),
        rows: round_rows(page.items, lang),
        may_open: city_regulator(&viewer).is_ok(),
    })
}

#[derive(Template)]
#[template(path = "evaluation_round_form.html")]
struct RoundFormPage {
    chrome: Chrome,
    form: RoundForm,
    errors: FieldErrors,
    weights: Vec<WeightInput>,
}

impl RoundFormPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn periods(&self) -> Vec<(&'static str, &'static str, bool)> {
        let chosen = Period::parse(&self.form.period).ok();
        Period::ALL.iter().map(|p| (p.as_str(), p.label(self.chrome.is_en()), chosen == Some(*p))).collect()
    }

    fn kinds(&self) -> Vec<(&'static str, &'static str, bool)> {
        EvaluatedKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(self.chrome.is_en()), self.form.kinds.iter().any(|x| x == k.as_str())))
            .collect()
    }
}

fn round_form_page(lang: Lang, viewer: &Viewer, form: RoundForm, errors: FieldErrors) -> Result<Response, AppError> {
    let weights = weight_inputs(&form.weights, &errors, lang);
    render(&RoundFormPage {
        chrome: Chrome::new(lang, viewer, "/regulator/evaluation", lang.pick("开启评价", "Open a round").into()),
        form,
        errors,
        weights,
    })
}

async fn new_round(lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    city_regulator(&viewer)?;
    let last_year = beijing_today().format("%Y").to_string().parse::<i32>().unwrap_or(2026) - 1;
    let form = RoundForm {
        name: String::new(),
        year: last_year.to_string(),
        period: Period::Year.as_str().into(),
        kinds: vec![EvaluatedKind::Agency.as_str().into()],
        weights: WeightsForm::of(&Weights::suggested()),
    };
    round_form_page(lang, &viewer, form, FieldErrors::default())
}

#[derive(Deserialize)]
struct RoundPost {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(flatten)]
    weights: WeightsForm,
}

async fn open_round(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<RoundPost>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let form =
        RoundForm { name: post.name, year: post.year, period: post.period, kinds: post.kinds, weights: post.weights };
    match form.parse(beijing_today()) {
        Ok(draft) => {
            let id = state.store.open_round(&draft, session.principal.account_id).await?;
            Ok(Redirect::to(&format!("/regulator/evaluation/{id}")).into_response())
        }
        Err(errors) => Ok(unprocessable(round_form_page(lang, &viewer, form, errors)?)),
    }
}

// ---- regulator: one round -----------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
struct RoundQuery {
    page: Option<u32>,
    rpage: Option<u32>,
    #[serde(default)]
    agency_q: String,
    #[serde(default)]
    street: String,
}

struct SubjectLine {
    subject: EvaluationSubject,
    kind: &'static str,
    /// Each organisation expected to score it, with where it stands.
    cards: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "evaluation_round.html")]
struct RoundPage {
    chrome: Chrome,
    round: EvaluationRound,
    period: String,
    status: &'static str,
    kinds: String,
    published: String,
    city: bool,
    open: bool,
    scoring_started: bool,
    weight_lines: Vec<(&'static str, i64)>,
    weights: Vec<WeightInput>,
    errors: FieldErrors,
    subjects: Vec<SubjectLine>,
    pager: Pager,
    evaluates_agencies: bool,
    evaluates_providers: bool,
    evaluates_communities: bool,
    agency_q: String,
    agency_found: Vec<(i64, String)>,
    providers: Vec<(i64, String)>,
    streets: Vec<crate::StreetGroup>,
    street: String,
    communities: Vec<(String, String)>,
    orgs: Vec<(i64, String)>,
    assignable: Vec<(i64, String)>,
    assignments: Vec<EvaluationAssignment>,
    dimensions: Vec<&'static str>,
    results: Vec<ResultLine>,
    results_pager: Pager,
    /// What keeps an open round from publication, in words.
    missing: Option<String>,
    /// Front-runner candidates (the best of each kind) with whether ticked and whether suggested.
    candidates: Vec<(ResultLine, bool, bool)>,
}

impl RoundPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn subject_link(&self, id: &i64) -> String {
        format!("/regulator/evaluation/{}/subjects/{id}", self.round.id)
    }
}

/// The round page, with the errors of a form posted from it.
async fn show_round(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    q: RoundQuery,
    typed_weights: Option<WeightsForm>,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    let (round, reader) = readable_round(state, viewer, id).await?;
    let district = reader.district().cloned();
    let city = matches!(reader, Reader::Regulator { city: true, .. });
    let open = !round.is_published();
    let store = &state.store;
    let weights = store.round_weights(id).await?;
    let scoring_started = store.scoring_started(id).await?;
    let subjects = store.round_subjects(id, district.as_ref(), PageRequest::new(q.page, Some(20))).await?;
    let ids: Vec<i64> = subjects.items.iter().map(|s| s.id).collect();
    let progress = store.card_progress(id, &ids).await?;
    let en = lang.is_en();
    let subject_lines = subjects
        .items
        .iter()
        .map(|s| SubjectLine {
            kind: s.kind().label(en),
            cards: progress
                .get(&s.id)
                .map(|cards| {
                    cards
                        .iter()
                        .map(|c| {
                            let words = if c.submitted {
                                lang.pick("已提交", "submitted").to_string()
                            } else if en {
                                format!("{}/7 scored", c.scored)
                            } else {
                                format!("已评{}/7项", c.scored)
                            };
                            (c.org_name.clone(), words, c.submitted)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            subject: s.clone(),
        })
        .collect();
    let base = format!("rpage={}", q.rpage.unwrap_or(1));
    let subjects_pager = Pager::new(&subjects, &format!("/regulator/evaluation/{id}"), &base);
    let results_page = PageRequest::new(q.rpage, Some(50));
    let results = if open {
        store.provisional_result_rows(id, district.as_ref(), results_page).await?
    } else {
        store.published_results(id, district.as_ref(), None, false, results_page).await?
    };
    let results_pager =
        Pager::new(&results, &format!("/regulator/evaluation/{id}"), &format!("page={}", q.page.unwrap_or(1)))
            .with_page_param("rpage");
    let missing = if open && city {
        let (_, missing) = store.provisional_results(id).await?;
        (!missing.is_empty()).then(|| match en {
            true => format!("{} scorecards or assignments still missing", missing.len()),
            false => format!("还有{}份评分未提交或对象未指派评价机构", missing.len()),
        })
    } else {
        None
    };
    let mut candidates = Vec::new();
    if !open && city {
        let mut any_designated = false;
        let mut lines = Vec::new();
        for kind in round.kind_list() {
            let best =
                store.published_results(id, None, Some(kind), false, PageRequest::new(Some(1), Some(20))).await?;
            for r in best.items {
                any_designated |= r.front_runner;
                lines.push(ResultLine::new(&r, lang));
            }
        }
        candidates = lines
            .into_iter()
            .map(|l| {
                let suggested = l.rank <= SUGGESTED_FRONT_RUNNERS;
                let ticked = if any_designated { l.front_runner } else { suggested };
                (l, ticked, suggested)
            })
            .collect();
    }
    let agency_q = q.agency_q.trim().to_string();
    let agency_found = if city && open && !agency_q.is_empty() {
        let query =
            AgencyQuery { text: Some(agency_q.clone()), district: None, page: PageRequest::new(Some(1), Some(20)) };
        store
            .search_agencies(&query)
            .await?
            .items
            .into_iter()
            .map(|a| (a.id, format!("{}（{}）", a.name, a.district_name)))
            .collect()
    } else {
        Vec::new()
    };
    let street = q.street.trim().to_string();
    let communities = match DivisionCode::parse(&street) {
        Ok(code) if city && open && code.level() == jiazheng_core::division::DivisionLevel::Street => store
            .child_divisions(Some(code.as_str()))
            .await?
            .into_iter()
            .filter(|d| d.level == "community")
            .map(|d| (d.code, d.name))
            .collect(),
        _ => Vec::new(),
    };
    let kinds = round.kind_list();
    // The subjects on this page of the table, so that paging reaches every one.
    let assignable = if city && open {
        subjects.items.iter().map(|s| (s.id, format!("{} · {}", s.kind().label(en), s.name))).collect()
    } else {
        Vec::new()
    };
    let weight_form = typed_weights.unwrap_or_else(|| WeightsForm::of(&weights));
    let page = RoundPage {
        chrome: Chrome::new(lang, viewer, "/regulator/evaluation", round.name.clone()),
        period: round.period_words(en),
        status: round.status().label(en),
        kinds: kinds_words(&round, lang),
        published: round.published_at.map(beijing_minutes).unwrap_or_default(),
        city,
        open,
        scoring_started,
        weight_lines: crate::evaluation::weight_lines(&weights, lang),
        weights: weight_inputs(&weight_form, &errors, lang),
        subjects: subject_lines,
        pager: subjects_pager,
        evaluates_agencies: kinds.contains(&EvaluatedKind::Agency),
        evaluates_providers: kinds.contains(&EvaluatedKind::Provider),
        evaluates_communities: kinds.contains(&EvaluatedKind::Community),
        agency_q,
        agency_found,
        providers: if city && open { store.provider_names().await? } else { Vec::new() },
        streets: if city && open && kinds.contains(&EvaluatedKind::Community) {
            state.street_groups().await?.to_vec()
        } else {
            Vec::new()
        },
        street,
        communities,
        orgs: if city && open { store.evaluator_org_names().await? } else { Vec::new() },
        assignable,
        assignments: store.round_assignments(id).await?,
        dimensions: dimension_labels(lang),
        results: results.items.iter().map(|r| ResultLine::new(r, lang)).collect(),
        results_pager,
        missing,
        candidates,
        errors,
        round,
    };
    let status = status_for(&page.errors);
    Ok((status, render(&page)?).into_response())
}

async fn round_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<RoundQuery>,
) -> Result<Response, AppError> {
    show_round(&state, lang, &viewer, id, q, None, FieldErrors::default()).await
}

fn back_to(id: i64, anchor: &str) -> Response {
    Redirect::to(&format!("/regulator/evaluation/{id}#{anchor}")).into_response()
}

/// After a form posted from the round page: back to its section when done, or the page again
/// with the refusal beside `field`.
async fn after_round_post<T>(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    outcome: Result<T, StoreError>,
    anchor: &str,
    field: &str,
) -> Result<Response, AppError> {
    match outcome {
        Ok(_) => Ok(back_to(id, anchor)),
        Err(e) => {
            let mut errors = said(e, field)?;
            for error in &mut errors.0 {
                error.field = field.into();
            }
            show_round(state, lang, viewer, id, RoundQuery::default(), None, errors).await
        }
    }
}

#[derive(Deserialize)]
struct WeightsPost {
    csrf: String,
    #[serde(flatten)]
    weights: WeightsForm,
}

async fn set_weights(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<WeightsPost>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let outcome = match post.weights.parse() {
        Ok(weights) => match state.store.set_round_weights(id, &weights, session.principal.account_id).await {
            Ok(()) => return Ok(back_to(id, "weights")),
            Err(e) => said(e, "weights")?,
        },
        Err(errors) => errors,
    };
    show_round(&state, lang, &viewer, id, RoundQuery::default(), Some(post.weights), outcome).await
}

#[derive(Deserialize)]
struct SubjectPost {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    agency_id: String,
    #[serde(default)]
    provider_id: String,
    #[serde(default)]
    community: String,
}

async fn add_subject(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<SubjectPost>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let pick = |raw: &str, field: &str| {
        raw.trim().parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| {
            FieldErrors(vec![Invalid::new("required", "请从列表中选择", "pick one from the list").at(field)])
        })
    };
    let subject = match EvaluatedKind::parse(&post.kind) {
        Ok(EvaluatedKind::Agency) => pick(&post.agency_id, "agency").map(NewSubject::Agency),
        Ok(EvaluatedKind::Provider) => pick(&post.provider_id, "provider").map(NewSubject::Provider),
        Ok(EvaluatedKind::Community) => DivisionCode::parse(&post.community)
            .map(NewSubject::Community)
            .map_err(|_| FieldErrors(vec![Invalid::new("required", "请选择社区", "pick a community").at("community")])),
        Err(e) => Err(FieldErrors(vec![e.at("kind")])),
    };
    let field = match post.kind.as_str() {
        "provider" => "provider",
        "community" => "community",
        _ => "agency",
    };
    match subject {
        // Any refusal is said beside the kind's own picker.
        Ok(subject) => {
            let outcome = state.store.add_subject(id, &subject, session.principal.account_id).await;
            after_round_post(&state, lang, &viewer, id, outcome, "subjects", field).await
        }
        Err(errors) => show_round(&state, lang, &viewer, id, RoundQuery::default(), None, errors).await,
    }
}

async fn remove_subject(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, subject)): Path<(i64, i64)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    let outcome = state.store.remove_subject(id, subject, session.principal.account_id).await;
    after_round_post(&state, lang, &viewer, id, outcome, "subjects", "subjects").await
}

#[derive(Deserialize)]
struct AssignPost {
    csrf: String,
    #[serde(default)]
    org: String,
    /// Empty: the whole round.
    #[serde(default)]
    subject: String,
}

async fn assign(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<AssignPost>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let org = post.org.trim().parse::<i64>().unwrap_or(0);
    let subject = post.subject.trim().parse::<i64>().ok().filter(|s| *s > 0);
    let outcome = state.store.assign_evaluator(id, org, subject, session.principal.account_id).await;
    // The store names `org` or `subject`; both sit in the one form.
    match outcome {
        Err(StoreError::Invalid(errors)) => {
            show_round(&state, lang, &viewer, id, RoundQuery::default(), None, errors).await
        }
        other => after_round_post(&state, lang, &viewer, id, other, "assignments", "org").await,
    }
}

async fn publish(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    let outcome = state.store.publish_round(id, session.principal.account_id).await;
    after_round_post(&state, lang, &viewer, id, outcome, "results", "round").await
}

#[derive(Deserialize)]
struct FrontRunnersPost {
    csrf: String,
    #[serde(default)]
    subjects: Vec<i64>,
}

async fn front_runners(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<FrontRunnersPost>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let outcome = state.store.designate_front_runners(id, &post.subjects, session.principal.account_id).await;
    after_round_post(&state, lang, &viewer, id, outcome, "front-runners", "front_runners").await
}

#[derive(Template)]
#[template(path = "evaluation_subject.html")]
struct SubjectScoresPage {
    chrome: Chrome,
    round: EvaluationRound,
    subject: EvaluationSubject,
    kind: &'static str,
    scores: Vec<(EvaluationScore, &'static str, String)>,
    figures: Vec<PlatformFigure>,
}

/// A subject's scores by every organisation, with their evidence: what the regulator checks.
async fn subject_scores(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, subject)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    let (round, reader) = readable_round(&state, &viewer, id).await?;
    let subject = state.store.round_subject(id, subject).await?;
    if !regulator_sees(&reader, &subject) {
        return Err(AppError::NotFound);
    }
    let scores = state
        .store
        .subject_scores(id, subject.id, None)
        .await?
        .into_iter()
        .map(|s| {
            let label = Dimension::label_of(&s.dimension, lang.is_en());
            let at = beijing_minutes(s.scored_at);
            (s, label, at)
        })
        .collect();
    render(&SubjectScoresPage {
        chrome: Chrome::new(lang, &viewer, "/regulator/evaluation", subject.name.clone()),
        kind: subject.kind().label(lang.is_en()),
        figures: platform_figures(&state, &subject).await?,
        scores,
        round,
        subject,
    })
}

// ---- regulator: organisations ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "evaluation_orgs.html")]
struct OrgsPage {
    chrome: Chrome,
    rows: Vec<EvaluatorOrg>,
    pager: Pager,
    city: bool,
    form: OrgForm,
    errors: FieldErrors,
}

impl OrgsPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

async fn orgs_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    page: Option<u32>,
    form: OrgForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    viewer.require_role(&[jiazheng_core::account::Role::Regulator])?;
    let list = state.store.evaluator_orgs(PageRequest::new(page, Some(20))).await?;
    let status = status_for(&errors);
    let page = OrgsPage {
        chrome: Chrome::new(
            lang,
            viewer,
            "/regulator/evaluation",
            lang.pick("第三方评价机构", "Evaluator organisations").into(),
        ),
        pager: Pager::new(&list, "/regulator/evaluation/orgs", ""),
        rows: list.items,
        city: city_regulator(viewer).is_ok(),
        form,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

async fn orgs(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    orgs_page(&state, lang, &viewer, q.page, OrgForm::default(), FieldErrors::default()).await
}

#[derive(Deserialize)]
struct OrgPost {
    csrf: String,
    #[serde(flatten)]
    form: OrgForm,
}

async fn create_org(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<OrgPost>,
) -> Result<Response, AppError> {
    let session = city_regulator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let errors = match post.form.parse() {
        Ok(draft) => match state.store.create_evaluator_org(&draft, Some(session.principal.account_id)).await {
            Ok(_) => return Ok(Redirect::to("/regulator/evaluation/orgs").into_response()),
            Err(e) => said(e, "name")?,
        },
        Err(errors) => errors,
    };
    orgs_page(&state, lang, &viewer, None, post.form, errors).await
}

// ---- evaluator ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "evaluator.html")]
struct EvaluatorHome {
    chrome: Chrome,
    org: EvaluatorOrg,
    rounds: Vec<(EvaluationRound, String, &'static str)>,
    pager: Pager,
    ties: Vec<DeclaredTie>,
    q: String,
    found: Vec<(i64, String)>,
    agency: String,
    tie: String,
    errors: FieldErrors,
}

impl EvaluatorHome {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

#[derive(Deserialize, Default)]
struct HomeQuery {
    page: Option<u32>,
    #[serde(default)]
    q: String,
}

#[allow(clippy::too_many_arguments)]
async fn evaluator_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    q: HomeQuery,
    agency: String,
    tie: String,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let (_, org_id) = evaluator(viewer)?;
    let org = state.store.evaluator_org(org_id).await?;
    let rounds = state.store.evaluation_rounds(Reader::of(viewer).rounds(), PageRequest::new(q.page, Some(20))).await?;
    let text = q.q.trim().to_string();
    let found = if text.is_empty() {
        Vec::new()
    } else {
        let query = AgencyQuery { text: Some(text.clone()), district: None, page: PageRequest::new(Some(1), Some(20)) };
        let items = state.store.search_agencies(&query).await?.items;
        items.into_iter().map(|a| (a.id, format!("{}（{}）", a.name, a.district_name))).collect()
    };
    let status = status_for(&errors);
    let page = EvaluatorHome {
        chrome: Chrome::new(lang, viewer, "/evaluation", org.name.clone()),
        pager: Pager::new(&rounds, "/evaluation", ""),
        rounds: round_rows(rounds.items, lang),
        ties: state.store.declared_ties(org_id).await?,
        org,
        q: text,
        found,
        agency,
        tie,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

async fn evaluator_home(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<HomeQuery>,
) -> Result<Response, AppError> {
    evaluator_page(&state, lang, &viewer, q, String::new(), String::new(), FieldErrors::default()).await
}

#[derive(Deserialize)]
struct TiePost {
    csrf: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    tie: String,
    #[serde(default)]
    q: String,
}

async fn declare_tie(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<TiePost>,
) -> Result<Response, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(Some(&post.csrf))?;
    let mut errors = FieldErrors::default();
    let agency = errors.take(
        "agency",
        post.agency
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| Invalid::new("required", "请先搜索并选择企业", "search for the agency and pick it")),
    );
    let tie = errors.take("tie", parse_tie(&post.tie));
    if let (Some(agency), Some(tie)) = (agency, tie) {
        match state.store.declare_tie(org, agency, &tie, session.principal.account_id).await {
            Ok(()) => return Ok(Redirect::to("/evaluation#ties").into_response()),
            Err(e) => errors = said(e, "agency")?,
        }
    }
    let q = HomeQuery { page: None, q: post.q };
    evaluator_page(&state, lang, &viewer, q, post.agency, post.tie, errors).await
}

async fn withdraw_tie(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(agency): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    state.store.withdraw_tie(org, agency, session.principal.account_id).await?;
    Ok(Redirect::to("/evaluation#ties").into_response())
}

#[derive(Template)]
#[template(path = "evaluator_round.html")]
struct EvaluatorRoundPage {
    chrome: Chrome,
    round: EvaluationRound,
    period: String,
    weight_lines: Vec<(&'static str, i64)>,
    rows: Vec<(EvaluatorSubject, &'static str)>,
    pager: Pager,
}

async fn evaluator_round(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let (_, org) = evaluator(&viewer)?;
    let round = state.store.evaluation_round(id).await?;
    let page = state.store.evaluator_subjects(id, org, PageRequest::new(q.page, Some(20))).await?;
    let weights = state.store.round_weights(id).await?;
    render(&EvaluatorRoundPage {
        chrome: Chrome::new(lang, &viewer, "/evaluation", round.name.clone()),
        period: round.period_words(lang.is_en()),
        weight_lines: crate::evaluation::weight_lines(&weights, lang),
        pager: Pager::new(&page, &format!("/evaluation/rounds/{id}"), ""),
        rows: page
            .items
            .into_iter()
            .map(|s| {
                let kind = s.subject.kind().label(lang.is_en());
                (s, kind)
            })
            .collect(),
        round,
    })
}

/// One dimension of the scoring form: what was typed (or stored), the stored evidence, the
/// platform's figures for it, and the errors beside its fields.
struct DimensionInput {
    code: &'static str,
    label: &'static str,
    weight: i64,
    score: String,
    note: String,
    /// The file kept as evidence: its id and type in words.
    file: Option<(i64, &'static str)>,
    keep: bool,
    figures: Vec<(String, String)>,
    score_error: Option<String>,
    note_error: Option<String>,
    evidence_error: Option<String>,
}

#[derive(Template)]
#[template(path = "evaluator_score.html")]
struct ScorePage {
    chrome: Chrome,
    round: EvaluationRound,
    subject: EvaluationSubject,
    kind: &'static str,
    /// A tie the organisation declared: no form.
    tied: bool,
    submitted: Option<String>,
    open: bool,
    inputs: Vec<DimensionInput>,
    other_figures: Vec<(String, String)>,
    figures_at: String,
    errors: FieldErrors,
    saved: bool,
}

impl ScorePage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

fn evidence_words(mime: &str, lang: Lang) -> &'static str {
    match EvidenceType::from_mime(mime) {
        Some(EvidenceType::Pdf) => lang.pick("PDF 文件", "PDF file"),
        Some(EvidenceType::Jpeg) => lang.pick("JPEG 图片", "JPEG picture"),
        Some(EvidenceType::Png) => lang.pick("PNG 图片", "PNG picture"),
        None => lang.pick("文件", "file"),
    }
}

/// What one dimension's inputs held when posted.
#[derive(Default, Clone)]
struct Typed {
    score: String,
    note: String,
    keep: Option<i64>,
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn show_score_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    subject_id: i64,
    typed: Option<Vec<Typed>>,
    errors: FieldErrors,
    saved: bool,
) -> Result<Response, AppError> {
    let (_, org) = evaluator(viewer)?;
    let round = state.store.evaluation_round(id).await?;
    let may = state.store.may_score(id, subject_id, org).await?;
    let subject = state.store.round_subject(id, subject_id).await?;
    let weights = state.store.round_weights(id).await?;
    let stored = state.store.subject_scores(id, subject_id, Some(org)).await?;
    let submitted = state.store.scorecard_submitted(id, subject_id, org).await?.map(beijing_minutes);
    let figures = if may { platform_figures(state, &subject).await? } else { Vec::new() };
    let words = |f: &PlatformFigure| (f.label(lang).to_string(), f.value(lang).to_string());
    let inputs = Dimension::ALL
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let code = d.as_str();
            let mine = stored.iter().find(|s| s.dimension == code);
            let typed = typed.as_ref().and_then(|t| t.get(i)).cloned();
            let file = mine.and_then(|s| Some((s.evidence_id?, evidence_words(s.evidence_mime.as_deref()?, lang))));
            let (score, note, keep) = match typed {
                Some(t) => (t.score, t.note, t.keep.is_some()),
                None => (
                    mine.map(|s| s.score.to_string()).unwrap_or_default(),
                    mine.and_then(|s| s.note.clone()).unwrap_or_default(),
                    file.is_some(),
                ),
            };
            DimensionInput {
                code,
                label: d.label(lang.is_en()),
                weight: weights.of(*d),
                score,
                note,
                file,
                keep,
                figures: figures.iter().filter(|f| f.dimension == code).map(words).collect(),
                score_error: field_message(&errors, lang, &format!("score_{code}")),
                note_error: field_message(&errors, lang, &format!("note_{code}")),
                evidence_error: field_message(&errors, lang, &format!("evidence_{code}")),
            }
        })
        .collect();
    let status = status_for(&errors);
    let page = ScorePage {
        chrome: Chrome::new(lang, viewer, "/evaluation", subject.name.clone()),
        kind: subject.kind().label(lang.is_en()),
        tied: !may,
        open: !round.is_published(),
        submitted,
        inputs,
        other_figures: figures.iter().filter(|f| f.dimension.is_empty()).map(words).collect(),
        figures_at: beijing_minutes(chrono::Utc::now()),
        errors,
        saved,
        round,
        subject,
    };
    Ok((status, render(&page)?).into_response())
}

async fn score_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, subject)): Path<(i64, i64)>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    show_score_page(&state, lang, &viewer, id, subject, None, FieldErrors::default(), q.saved.is_some()).await
}

/// Text fields are short; anything longer is cut before it is parsed (the parse then says so).
const MAX_FIELD_BYTES: usize = 8 * 1024;

/// Saves the dimensions that have a score typed, all or none; a dimension left empty is kept as
/// it was.
async fn save_scores(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, subject)): Path<(i64, i64)>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (session, org) = evaluator(&viewer)?;
    let mut csrf = None;
    let mut typed: Vec<Typed> = vec![Typed::default(); Dimension::ALL.len()];
    let mut files: Vec<Vec<u8>> = vec![Vec::new(); Dimension::ALL.len()];
    let index = |name: &str, prefix: &str| {
        name.strip_prefix(prefix).and_then(|code| Dimension::ALL.iter().position(|d| d.as_str() == code))
    };
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(i) = index(&name, "file_") {
            let mut bytes = Vec::new();
            let mut field = field;
            while let Some(chunk) = field.chunk().await.map_err(AppError::from)? {
                // A file over the limit is refused by the evidence check; stop reading it there.
                if bytes.len() <= MAX_EVIDENCE_BYTES {
                    bytes.extend_from_slice(&chunk);
                }
            }
            files[i] = bytes;
            continue;
        }
        let mut text = field.text().await.map_err(AppError::from)?;
        text.truncate(text.floor_char_boundary(MAX_FIELD_BYTES));
        if name == "csrf" {
            csrf = Some(text);
        } else if let Some(i) = index(&name, "score_") {
            typed[i].score = text;
        } else if let Some(i) = index(&name, "note_") {
            typed[i].note = text;
        } else if let Some(i) = index(&name, "keep_") {
            typed[i].keep = text.trim().parse().ok();
        }
    }
    viewer.check_csrf(csrf.as_deref())?;
    let mut errors = FieldErrors::default();
    let mut entries = Vec::new();
    for (i, d) in Dimension::ALL.iter().enumerate() {
        let t = &typed[i];
        let file = &files[i];
        if t.score.trim().is_empty() && t.note.trim().is_empty() && file.is_empty() {
            continue;
        }
        let form = ScoreForm {
            dimension: d.as_str().into(),
            score: t.score.clone(),
            note: t.note.clone(),
            evidence_id: t.keep,
        };
        let kind = if file.is_empty() {
            None
        } else {
            match EvidenceType::sniff(file) {
                Ok(kind) => Some(kind),
                Err(e) => {
                    errors.0.push(e.at(format!("evidence_{}", d.as_str())));
                    None
                }
            }
        };
        match form.parse(!file.is_empty()) {
            Ok(draft) => entries.push(ScoreEntry { draft, file: kind.map(|k| (k, file.clone())) }),
            Err(e) => errors.0.extend(e.0),
        }
    }
    if entries.is_empty() && errors.is_empty() {
        errors
            .0
            .push(Invalid::new("nothing_scored", "请至少为一项填写评分", "score at least one dimension").at("scores"));
    }
    if errors.is_empty() {
        match state.store.record_scores(id, subject, org, &entries, session.principal.account_id).await {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/evaluation/rounds/{id}/subjects/{subject}?saved=1#submit")).into_response()
                );
            }
            Err(e) => errors = said(e, "scores")?,
        }
    }
    show_score_page(&state, lang, &viewer, id, subject, Some(typed), errors, false).await
}

async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, subject)): Path<(i64, i64)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let (session, org) = evaluator(&viewer)?;
    viewer.check_csrf(Some(&form.csrf))?;
    match state.store.submit_scorecard(id, subject, org, session.principal.account_id).await {
        Ok(()) => Ok(Redirect::to(&format!("/evaluation/rounds/{id}")).into_response()),
        Err(e) => {
            let errors = said(e, "scorecard")?;
            show_score_page(&state, lang, &viewer, id, subject, None, errors, false).await
        }
    }
}

/// An evidence file, shown inline but never run (PDFs are saved): for its organisation and
/// regulators.
async fn evidence(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, AppError> {
    let reader = Reader::of(&viewer);
    let (round, org, kind, bytes) = state.store.evaluation_evidence(id).await?;
    match reader {
        Reader::Regulator { district: None, .. } => {}
        // A district's regulator reads a file only through a subject of its district.
        Reader::Regulator { .. } => {
            let mut seen = false;
            for subject in state.store.evidence_subjects(id).await? {
                seen |= crate::evaluation::regulator_sees(&reader, &state.store.round_subject(round, subject).await?);
            }
            if !seen {
                return Err(AppError::NotFound);
            }
        }
        Reader::Evaluator { org: mine } if mine == org => {}
        _ => return Err(AppError::NotFound),
    }
    Ok(crate::files::evidence_response(kind, bytes, &format!("evaluation-evidence-{id}")))
}

// ---- public -----------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "evaluations.html")]
struct PublicRoundsPage {
    chrome: Chrome,
    rows: Vec<(EvaluationRound, String, String)>,
    pager: Pager,
}

async fn public_rounds(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page = state
        .store
        .evaluation_rounds(
            jiazheng_store::oversight::evaluation::RoundsFor::Published,
            PageRequest::new(q.page, Some(20)),
        )
        .await?;
    render(&PublicRoundsPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/evaluations",
            lang.pick("第三方评价结果", "Third-party evaluation results").into(),
        ),
        pager: Pager::new(&page, "/evaluations", ""),
        rows: page
            .items
            .into_iter()
            .map(|r| {
                let period = r.period_words(lang.is_en());
                let published = r.published_at.map(beijing_minutes).unwrap_or_default();
                (r, period, published)
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "evaluation_public.html")]
struct PublicRoundPage {
    chrome: Chrome,
    round: EvaluationRound,
    period: String,
    kinds: String,
    published: String,
    weight_lines: Vec<(&'static str, i64)>,
    dimensions: Vec<&'static str>,
    front_runners: Vec<ResultLine>,
    kind_tabs: Vec<(&'static str, &'static str, bool)>,
    results: Vec<ResultLine>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
struct PublicQuery {
    page: Option<u32>,
    kind: Option<String>,
}

async fn public_round(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let round = state.store.evaluation_round(id).await?;
    if !round.is_published() {
        // Unpublished rounds are no one's business but the regulator's and the evaluators'.
        return Err(AppError::NotFound);
    }
    let kinds = round.kind_list();
    let kind = q
        .kind
        .as_deref()
        .and_then(|k| EvaluatedKind::parse(k).ok())
        .filter(|k| kinds.contains(k))
        .or(kinds.first().copied());
    let store = &state.store;
    let results = store.published_results(id, None, kind, false, PageRequest::new(q.page, Some(50))).await?;
    let front = store.published_results(id, None, None, true, PageRequest::new(Some(1), Some(100))).await?;
    let weights = store.round_weights(id).await?;
    let en = lang.is_en();
    render(&PublicRoundPage {
        chrome: Chrome::new(lang, &viewer, "/evaluations", round.name.clone()),
        period: round.period_words(en),
        kinds: kinds_words(&round, lang),
        published: round.published_at.map(beijing_minutes).unwrap_or_default(),
        weight_lines: crate::evaluation::weight_lines(&weights, lang),
        dimensions: dimension_labels(lang),
        front_runners: front.items.iter().map(|r| ResultLine::new(r, lang)).collect(),
        kind_tabs: kinds.iter().map(|k| (k.as_str(), k.label(en), Some(*k) == kind)).collect(),
        pager: Pager::new(
            &results,
            &format!("/evaluations/{id}"),
            &format!("kind={}", kind.map_or("", |k| k.as_str())),
        ),
        results: results.items.iter().map(|r| ResultLine::new(r, lang)).collect(),
        round,
    })
}
