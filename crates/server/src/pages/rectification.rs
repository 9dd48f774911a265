//! Rectification pages. The regulator opens an order from a penalty or an upheld complaint
//! listed on `/regulator/rectifications` (overdue orders flagged there), and accepts, extends or
//! returns each; the agency reads its orders on `/agency/rectifications` and reports what it did
//! with evidence.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::MAX_EVIDENCE_BYTES;
use jiazheng_core::oversight::rectification::{
    OrderForm, RectificationSource, RectificationStatus, RectificationStep, ReportForm, ReviewAction, ReviewForm,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::Viewing;
use jiazheng_store::oversight::rectification::{RectificationRow, RectificationSourceRow, RectificationStepRow};
use serde::Deserialize;

use super::claims::PageWords as _;
use super::{Chrome, Pager, render};
use crate::auth::Viewer;
use crate::claims::{optional_evidence, read_upload};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    let limit = DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 64 * 1024);
    Router::new()
        .route("/agency/rectifications", get(list))
        .route("/agency/rectifications/{id}", get(order))
        .route("/agency/rectifications/{id}/report", post(report).layer(limit))
        .route("/regulator/rectifications", get(list).post(open))
        .route("/regulator/rectifications/new", get(new_order))
        .route("/regulator/rectifications/{id}", get(order))
        .route("/regulator/rectifications/{id}/review", post(review))
        .route("/rectifications/{id}/steps/{step}/evidence", get(evidence))
}

/// What an order follows from, in words: the penalty's reason and document, or the complaint.
fn source_text(kind: &str, detail: &str, lang: Lang) -> String {
    let label = RectificationSource::label_of(kind, lang.is_en());
    let text = if kind == RectificationSource::Penalty.as_str() {
        super::words::entry_in_words("penalty", detail, lang)
    } else {
        let body: String = detail.chars().take(120).collect();
        if detail.chars().count() > 120 { format!("{body}…") } else { body }
    };
    format!("{label}：{text}")
}

super::claims::page_words!(ListPage, without_errors);
super::claims::page_words!(NewPage);
super::claims::page_words!(OrderPage);

// ---- the lists ----------------------------------------------------------------------------

struct SourceLine {
    kind: String,
    id: i64,
    agency_name: String,
    text: String,
}

#[derive(Template)]
#[template(path = "rectifications.html")]
struct ListPage {
    chrome: Chrome,
    regulator: bool,
    rows: Vec<RectificationRow>,
    pager: Pager,
    overdue_only: bool,
    overdue_count: i64,
    sources: Vec<SourceLine>,
    sources_pager: Option<Pager>,
    opened: bool,
}

impl ListPage {
    fn status(&self, o: &RectificationRow) -> &'static str {
        RectificationStatus::label_of(&o.status, self.chrome.is_en())
    }

    fn overdue(&self, o: &RectificationRow) -> bool {
        o.overdue(beijing_today())
    }

    fn source(&self, o: &RectificationRow) -> String {
        source_text(&o.source_kind, &o.source_detail, self.chrome.lang)
    }

    fn link(&self, o: &RectificationRow) -> String {
        if self.regulator {
            format!("/regulator/rectifications/{}", o.id)
        } else {
            format!("/agency/rectifications/{}", o.id)
        }
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    overdue: Option<u8>,
    page: Option<u32>,
    spage: Option<u32>,
    #[serde(default)]
    opened: Option<u8>,
}

async fn list_page(state: &AppState, lang: Lang, viewer: &Viewer, q: ListQuery) -> Result<ListPage, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let scope = Viewing::of(who).ok_or(AppError::Forbidden)?;
    let regulator = who.role == Role::Regulator;
    let today = beijing_today();
    let overdue_only = q.overdue.is_some();
    let page = state.store.rectifications(&scope, overdue_only, today, PageRequest::new(q.page, None)).await?;
    let overdue_count = if overdue_only {
        page.total
    } else {
        state.store.rectifications(&scope, true, today, PageRequest::new(Some(1), Some(1))).await?.total
    };
    let path = if regulator { "/regulator/rectifications" } else { "/agency/rectifications" };
    let (sources, sources_pager) = if regulator {
        let found = state.store.rectification_sources(who, PageRequest::new(q.spage, Some(10))).await?;
        let mut pager = Pager::new(&found, path, "");
        // The sources page moves on its own parameter.
        pager.prev = pager.prev.map(|l| l.replace("?page=", "?spage=") + "#sources");
        pager.next = pager.next.map(|l| l.replace("?page=", "?spage=") + "#sources");
        let lines = found
            .items
            .into_iter()
            .map(|s: RectificationSourceRow| SourceLine {
                text: source_text(&s.source_kind, &s.detail, lang),
                kind: s.source_kind,
                id: s.source_id,
                agency_name: s.agency_name,
            })
            .collect();
        (lines, Some(pager))
    } else {
        (Vec::new(), None)
    };
    Ok(ListPage {
        chrome: Chrome::new(lang, viewer, path, lang.pick("整改", "Rectification").into()),
        regulator,
        pager: Pager::new(&page, path, if overdue_only { "overdue=1" } else { "" }),
        rows: page.items,
        overdue_only,
        overdue_count,
        sources,
        sources_pager,
        opened: q.opened.is_some(),
    })
}

/// The agency's orders or the regulator's (the access table keeps each path to its role).
async fn list(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    render(&list_page(&state, lang, &viewer, q).await?)
}

// ---- opening an order ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "rectification_new.html")]
struct NewPage {
    chrome: Chrome,
    source: String,
    source_id: i64,
    agency_name: String,
    text: String,
    deadline: String,
    requirement: String,
    errors: FieldErrors,
}

impl NewPage {
    fn min_date(&self) -> String {
        (beijing_today() + chrono::Duration::days(1)).to_string()
    }
}

#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    source: String,
    #[serde(default)]
    id: i64,
}

/// The form for a source of the regulator's list; a source not on it is not found.
async fn new_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: OrderForm,
    errors: FieldErrors,
) -> Result<NewPage, AppError> {
    let who = &viewer.require_role(&[Role::Regulator])?.principal;
    let source = state.store.rectification_source(who, &form.source, form.source_id).await?;
    Ok(NewPage {
        chrome: Chrome::new(
            lang,
            viewer,
            "/regulator/rectifications",
            lang.pick("下达整改", "Open a rectification order").into(),
        ),
        text: source_text(&source.source_kind, &source.detail, lang),
        agency_name: source.agency_name,
        source: source.source_kind,
        source_id: source.source_id,
        deadline: form.deadline,
        requirement: form.requirement,
        errors,
    })
}

async fn new_order(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let form = OrderForm { source: q.source, source_id: q.id, ..OrderForm::default() };
    render(&new_page(&state, lang, &viewer, form, FieldErrors::default()).await?)
}

#[derive(Deserialize)]
struct OrderPost {
    csrf: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    source_id: i64,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    requirement: String,
}

async fn open(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<OrderPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    let form = OrderForm {
        source: post.source,
        source_id: post.source_id,
        deadline: post.deadline,
        requirement: post.requirement.chars().take(4000).collect(),
    };
    let result = match form.parse(beijing_today()) {
        Ok(draft) => state.store.open_rectification(&who, &draft).await.map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let (status, errors) = match result {
        Ok(id) => return Ok(Redirect::to(&format!("/regulator/rectifications/{id}?opened=1")).into_response()),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(other) => return Err(other),
    };
    let page = new_page(&state, lang, &viewer, form, errors).await?;
    Ok((status, render(&page)?).into_response())
}

// ---- one order ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "rectification.html")]
struct OrderPage {
    chrome: Chrome,
    order: RectificationRow,
    steps: Vec<RectificationStepRow>,
    regulator: bool,
    opened: bool,
    reported: bool,
    errors: FieldErrors,
    text: String,
    action: String,
    new_deadline: String,
    reason: String,
}

impl OrderPage {
    fn status(&self) -> &'static str {
        RectificationStatus::label_of(&self.order.status, self.chrome.is_en())
    }

    fn overdue(&self) -> bool {
        self.order.overdue(beijing_today())
    }

    fn closed(&self) -> bool {
        self.order.status() == RectificationStatus::Accepted
    }

    fn source(&self) -> String {
        source_text(&self.order.source_kind, &self.order.source_detail, self.chrome.lang)
    }

    fn step(&self, s: &RectificationStepRow) -> &'static str {
        RectificationStep::label_of(&s.step, self.chrome.is_en())
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::beijing_minutes(*at)
    }

    fn actions(&self) -> Vec<(&'static str, &'static str)> {
        ReviewAction::ALL.iter().map(|a| (a.as_str(), a.label(self.chrome.is_en()))).collect()
    }
}

#[derive(Deserialize, Default)]
struct OrderQuery {
    #[serde(default)]
    opened: Option<u8>,
    #[serde(default)]
    reported: Option<u8>,
}

#[derive(Default)]
struct OrderTyped {
    text: String,
    action: String,
    deadline: String,
    reason: String,
}

async fn order_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    q: OrderQuery,
    errors: FieldErrors,
    typed: OrderTyped,
) -> Result<OrderPage, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let order = state.store.rectification(id, who).await?;
    let regulator = who.role == Role::Regulator;
    Ok(OrderPage {
        chrome: Chrome::new(
            lang,
            viewer,
            if regulator { "/regulator/rectifications" } else { "/agency/rectifications" },
            format!("{} {}", lang.pick("整改", "Rectification"), order.number()),
        ),
        steps: state.store.rectification_steps(id).await?,
        order,
        regulator,
        opened: q.opened.is_some(),
        reported: q.reported.is_some(),
        errors,
        text: typed.text,
        action: typed.action,
        new_deadline: typed.deadline,
        reason: typed.reason,
    })
}

/// One order, for its agency or a regulator over it (the access table keeps each path to its role).
async fn order(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<OrderQuery>,
) -> Result<Response, AppError> {
    render(&order_page(&state, lang, &viewer, id, q, FieldErrors::default(), OrderTyped::default()).await?)
}

async fn report(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (session, _) = viewer.require_agency()?;
    let who = session.principal.clone();
    let upload = read_upload(multipart, "evidence").await?;
    viewer.check_csrf(Some(&upload.get("csrf")))?;
    state.store.rectification(id, &who).await?;
    let form = ReportForm { text: upload.get("text") };
    let mut errors = form.parse().err().unwrap_or_default();
    let evidence = optional_evidence(&upload.file).map_err(|e| errors.0.push(e.at("evidence"))).ok().flatten();
    let result = if errors.is_empty() {
        state
            .store
            .report_rectification(
                id,
                &who,
                form.text.trim(),
                evidence.map(|k| (upload.file.as_slice(), k)),
                beijing_today(),
            )
            .await
            .map_err(AppError::from)
    } else {
        Err(AppError::Invalid(errors))
    };
    let errors = match result {
        Ok(()) => return Ok(Redirect::to(&format!("/agency/rectifications/{id}?reported=1")).into_response()),
        Err(AppError::Invalid(errors)) => errors,
        Err(AppError::Conflict { code, message_zh, message_en, .. }) => {
            FieldErrors(vec![Invalid::new(code, message_zh, message_en).at("text")])
        }
        Err(other) => return Err(other),
    };
    let typed = OrderTyped { text: form.text, ..OrderTyped::default() };
    let page = order_page(&state, lang, &viewer, id, OrderQuery::default(), errors, typed).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Deserialize)]
struct ReviewPost {
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    reason: String,
}

async fn review(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<ReviewPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    let order = state.store.rectification(id, &who).await?;
    let form =
        ReviewForm { action: post.action, deadline: post.deadline, reason: post.reason.chars().take(2000).collect() };
    let result = match form.parse(order.deadline, beijing_today()) {
        Ok(review) => state.store.review_rectification(id, &who, &review).await.map(|_| ()).map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let (status, errors) = match result {
        Ok(()) => return Ok(Redirect::to(&format!("/regulator/rectifications/{id}")).into_response()),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(AppError::Conflict { code, message_zh, message_en, .. }) => {
            (StatusCode::CONFLICT, FieldErrors(vec![Invalid::new(code, message_zh, message_en).at("action")]))
        }
        Err(other) => return Err(other),
    };
    let typed =
        OrderTyped { action: form.action, deadline: form.deadline, reason: form.reason, ..OrderTyped::default() };
    let page = order_page(&state, lang, &viewer, id, OrderQuery::default(), errors, typed).await?;
    Ok((status, render(&page)?).into_response())
}

async fn evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, step)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let (kind, bytes) = state.store.rectification_evidence(id, step, who).await?;
    Ok(crate::files::evidence_response(kind, bytes, &format!("rectification-{id}-{step}")))
}
