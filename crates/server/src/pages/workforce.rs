//! Workforce pages: the agency's compliance board (filter, sort, export), a worker's record
//! with forms to add training, certificates, health checks and insurance, and the inboxes.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::credit::IdentityMethod;
use jiazheng_core::workforce::compliance::{Compliance, Condition, Standing};
use jiazheng_core::workforce::{CertificateKind, CourseKind, HealthCategory, InsuranceKind, SkillLevel, Trade};
use jiazheng_store::PageRequest;
use jiazheng_store::workforce::WorkforceRecord;
use jiazheng_store::workforce::board::BoardFilter;
use jiazheng_store::workforce::import::RecordKind;
use jiazheng_store::workforce::jobs::Notification;

use super::import::xlsx;
use super::{Chrome, CsrfForm, Pager, encode, field_message, render, service_labels};
use crate::api::workers::today;
use crate::api::workforce::{BoardListQuery, inbox_owner, writing_agency};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agency/compliance", get(board))
        .route("/agency/compliance.xlsx", get(board_export))
        .route("/agency/workers/{id}/workforce", get(record_page))
        .route("/agency/workers/{id}/records/{kind}", get(record_form).post(add_record))
        .route("/agency/workers/{id}/identity", post(verify_identity))
        .route("/agency/inbox", get(agency_inbox))
        .route("/inbox/{id}/read", post(mark_read))
}

/// One condition's standing as a cell: label, date, reason and a colour class.
pub struct CheckCell {
    pub label: String,
    pub date: String,
    pub reason: String,
    pub class: &'static str,
    pub condition: String,
}

pub fn check_cells(compliance: &Compliance, lang: Lang) -> Vec<CheckCell> {
    compliance
        .checks
        .iter()
        .map(|c| CheckCell {
            label: c.standing.label(lang.is_en()).to_string(),
            date: c.date.map(|d| d.to_string()).unwrap_or_default(),
            reason: lang.pick(&c.reason_zh, &c.reason_en).to_string(),
            class: match c.standing {
                Standing::Met | Standing::NotRequired => "ok",
                Standing::Expiring => "warn",
                _ => "bad",
            },
            condition: c.condition.label(lang.is_en()).to_string(),
        })
        .collect()
}

pub struct BoardLine {
    pub worker_id: i64,
    pub name: String,
    pub id_masked: String,
    pub services: String,
    pub compliant: bool,
    pub cells: Vec<CheckCell>,
}

#[derive(Template)]
#[template(path = "compliance.html")]
struct BoardPage {
    chrome: Chrome,
    lines: Vec<BoardLine>,
    pager: Pager,
    condition: String,
    filter: String,
    sort: String,
    name: String,
    query: String,
}

impl BoardPage {
    fn conditions(&self) -> Vec<(&'static str, &'static str, bool)> {
        Condition::ALL
            .iter()
            .map(|c| (c.as_str(), c.label(self.chrome.is_en()), c.as_str() == self.condition))
            .collect()
    }

    fn filters(&self) -> Vec<(&'static str, String, bool)> {
        [BoardFilter::All, BoardFilter::Attention, BoardFilter::Unmet, BoardFilter::Expiring]
            .iter()
            .map(|f| (f.as_str(), self.chrome.t(&format!("board.filter_{}", f.as_str())), f.as_str() == self.filter))
            .collect()
    }

    /// A link that sorts by `key`, keeping the filters.
    fn sort_link(&self, key: &str) -> String {
        format!(
            "/agency/compliance?condition={}&filter={}&name={}&sort={key}",
            encode(&self.condition),
            encode(&self.filter),
            encode(&self.name)
        )
    }

    fn sort_mark(&self, key: &str) -> &'static str {
        if self.sort == key || (key == "problems" && self.sort.is_empty()) { "ascending" } else { "none" }
    }
}

fn board_query_string(q: &BoardListQuery) -> String {
    let get = |v: &Option<String>| encode(v.as_deref().unwrap_or(""));
    format!("condition={}&filter={}&sort={}&name={}", get(&q.condition), get(&q.filter), get(&q.sort), get(&q.name))
}

async fn board(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<BoardListQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let mut query = q.parse()?;
    query.page = PageRequest::new(q.page, Some(50));
    let page = state.store.compliance_board(agency, &query, today()).await?;
    let shown = page.items.iter().map(|r| r.worker_id);
    crate::api::workforce::log_board_view(&state, &viewer, agency, shown, "compliance board").await?;
    let base = board_query_string(&q);
    let lines = page
        .items
        .iter()
        .map(|row| BoardLine {
            worker_id: row.worker_id,
            name: row.name.clone(),
            id_masked: row.id_masked.clone(),
            services: service_labels(lang, row.services),
            compliant: row.compliance.compliant,
            cells: check_cells(&row.compliance, lang),
        })
        .collect();
    render(&BoardPage {
        chrome: Chrome::new(lang, &viewer, "/agency/compliance", lang.t("board.title")),
        pager: Pager::new(&page, "/agency/compliance", &base),
        lines,
        condition: q.condition.clone().unwrap_or_default(),
        filter: query.filter.as_str().to_string(),
        sort: query.sort.as_str().to_string(),
        name: q.name.clone().unwrap_or_default(),
        query: base,
    })
}

async fn board_export(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<BoardListQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let board = state.store.compliance_board_rows(agency, &q.parse()?, today()).await?;
    let shown = board.rows.iter().map(|r| r.worker_id);
    crate::api::workforce::log_board_view(&state, &viewer, agency, shown, "compliance board export").await?;
    Ok(xlsx(board.to_xlsx(lang.is_en())?, "compliance.xlsx"))
}

/// A worker's workforce record as the pages show it.
pub struct RecordView {
    pub cells: Vec<CheckCell>,
    pub compliant: bool,
    pub trainings: Vec<[String; 6]>,
    pub certificates: Vec<[String; 5]>,
    pub health_checks: Vec<[String; 5]>,
    pub policies: Vec<[String; 5]>,
    pub social: Vec<[String; 3]>,
    pub education: [String; 4],
}

fn label_of<T: Copy>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, jiazheng_core::field::Invalid>,
    label: impl Fn(T) -> &'static str,
) -> String {
    parse(raw).map(label).unwrap_or(raw).to_string()
}

fn yes_no(lang: Lang, value: bool) -> String {
    lang.t(if value { "yes" } else { "no" })
}

impl RecordView {
    pub fn new(record: &WorkforceRecord, compliance: &Compliance, lang: Lang) -> Self {
        let en = lang.is_en();
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
        let source = |s: &str| label_of(s, jiazheng_core::workforce::Source::parse, |v| v.label(en));
        Self {
            cells: check_cells(compliance, lang),
            compliant: compliance.compliant,
            trainings: record
                .trainings
                .iter()
                .map(|t| {
                    let result = match t.exam_passed {
                        Some(true) => {
                            format!("{}{}", lang.t("pass"), t.exam_score.map(|s| format!(" ({s})")).unwrap_or_default())
                        }
                        Some(false) => lang.t("fail"),
                        None => "—".into(),
                    };
                    [
                        label_of(&t.course_kind, CourseKind::parse, |v| v.label(en)),
                        format!("{} · {}", t.course_name, t.provider_name),
                        format!("{} h", t.hours),
                        format!("{} → {}", t.started_on, date(t.completed_on)),
                        result,
                        source(&t.source),
                    ]
                })
                .collect(),
            certificates: record
                .certificates
                .iter()
                .map(|c| {
                    let trade =
                        c.trade.as_deref().map(|t| label_of(t, Trade::parse, |v| v.label(en))).unwrap_or_default();
                    let level =
                        c.level.as_deref().map(|l| label_of(l, SkillLevel::parse, |v| v.label(en))).unwrap_or_default();
                    [
                        label_of(&c.kind, CertificateKind::parse, |v| v.label(en)),
                        format!("{trade} {level}").trim().to_string(),
                        format!("{} · {}", c.issuer, c.number),
                        format!(
                            "{} → {}",
                            c.issued_on,
                            c.valid_until.map(|d| d.to_string()).unwrap_or_else(|| lang.t("no_expiry"))
                        ),
                        source(&c.source),
                    ]
                })
                .collect(),
            health_checks: record
                .health_checks
                .iter()
                .map(|h| {
                    let result = match &h.result {
                        Some(r) => format!(
                            "{}{}",
                            lang.t(if r.passed { "pass" } else { "fail" }),
                            r.notes.as_deref().map(|n| format!(" · {n}")).unwrap_or_default()
                        ),
                        None => "***".into(),
                    };
                    [
                        format!("{} → {}", h.checked_on, h.expires_on),
                        label_of(&h.category, HealthCategory::parse, |v| v.label(en)),
                        h.institution.clone(),
                        result,
                        source(&h.source),
                    ]
                })
                .collect(),
            policies: record
                .policies
                .iter()
                .map(|p| {
                    [
                        label_of(&p.kind, InsuranceKind::parse, |v| v.label(en)),
                        format!("{} · {}", p.insurer, p.policy_number),
                        format!("{} → {}", p.starts_on, p.ends_on),
                        format!("¥{:.2}", p.sum_insured_fen as f64 / 100.0),
                        lang.t(if p.worker_id.is_some() { "policy.personal" } else { "policy.agency_wide" }),
                    ]
                })
                .collect(),
            social: record
                .social_insurance
                .iter()
                .map(|s| [s.agency_name.clone(), yes_no(lang, s.enrolled), date(s.since)])
                .collect(),
            education: [
                label_of(&record.education.level, jiazheng_core::registry::worker::EducationLevel::parse, |v| {
                    v.label(en)
                }),
                [record.education.school.clone(), record.education.major.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
                yes_no(lang, record.education.related),
                record.education.evidence.clone().unwrap_or_default(),
            ],
        }
    }
}

/// A worker's record and compliance for their services; the caller has checked the reader.
pub async fn record_view(state: &AppState, worker_id: i64, services: i64, lang: Lang) -> Result<RecordView, AppError> {
    let record = state.store.workforce_record(worker_id, true).await?;
    let compliance = state.store.worker_compliance(worker_id, services, today()).await?;
    Ok(RecordView::new(&record, &compliance, lang))
}

#[derive(Template)]
#[template(path = "workforce_record.html")]
struct RecordPage {
    chrome: Chrome,
    worker_id: i64,
    name: String,
    services: String,
    view: RecordView,
    kinds: Vec<(&'static str, &'static str)>,
    identity_verified: bool,
    methods: Vec<(&'static str, &'static str)>,
    photo: super::photos::PhotoPanel,
    /// The number of the worker's current card, to open and print it again.
    card: Option<String>,
}

async fn record_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(saved): Query<super::photos::Saved>,
) -> Result<Response, AppError> {
    let mut page = record_page_for(&state, lang, &viewer, id).await?;
    page.photo.saved = saved.is_saved();
    render(&page)
}

/// The record page again, the refused photo's reason beside the file field.
pub async fn record_page_refusing_photo(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    refusal: crate::photo::Refusal,
) -> Result<Response, AppError> {
    let mut page = record_page_for(state, lang, viewer, id).await?;
    page.photo = page.photo.refused(refusal, lang);
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn record_page_for(state: &AppState, lang: Lang, viewer: &Viewer, id: i64) -> Result<RecordPage, AppError> {
    writing_agency(state, viewer, id).await?;
    let worker = crate::api::workforce::readable_worker(state, viewer, id, "agency record page").await;
    // A pending binding may write but not yet read health results.
    let reveal = worker.is_ok();
    let worker = state.store.worker(id).await?;
    let mut view = record_view(state, id, worker.services, lang).await?;
    if !reveal {
        for row in &mut view.health_checks {
            row[3] = "***".into();
        }
    }
    Ok(RecordPage {
        card: state.store.current_card(id).await?.map(|(number, _)| number),
        photo: super::photos::PhotoPanel::load(state, id, &format!("/agency/workers/{id}/photo")).await?,
        chrome: Chrome::new(lang, viewer, "/agency/workers", format!("{} · {}", worker.name, lang.t("record.title"))),
        worker_id: id,
        services: service_labels(lang, worker.services),
        name: worker.name,
        view,
        kinds: RecordKind::ALL.iter().map(|k| (k.code(), k.label(lang.is_en()))).collect(),
        identity_verified: state.store.identity_verified(id).await?,
        methods: IdentityMethod::ALL.iter().map(|m| (m.as_str(), m.label(lang.is_en()))).collect(),
    })
}

#[derive(serde::Deserialize)]
struct IdentityPost {
    csrf: String,
    #[serde(default)]
    method: String,
}

/// The employing agency records that it checked the worker's identity (method from the list);
/// the ledger entry says who and when.
async fn verify_identity(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<IdentityPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let by = writing_agency(&state, &viewer, id).await?;
    let method = IdentityMethod::parse(form.method.trim()).map_err(crate::api::field_error("method"))?;
    let source = format!("agency:{}", by.source_id.unwrap_or_default());
    state.store.verify_identity(id, source, by.account_id, method.as_str()).await?;
    Ok(Redirect::to(&format!("/agency/workers/{id}/workforce#identity")).into_response())
}

/// One input of the generic record form.
pub struct FormField {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub input: &'static str,
    pub required: bool,
    pub options: Vec<(&'static str, String)>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "record_form.html")]
struct RecordFormPage {
    chrome: Chrome,
    worker_id: i64,
    worker_name: String,
    kind: &'static str,
    kind_label: &'static str,
    fields: Vec<FormField>,
}

fn form_fields(kind: RecordKind, values: &HashMap<String, String>, errors: &FieldErrors, lang: Lang) -> Vec<FormField> {
    kind.columns()
        .iter()
        .filter(|(field, _, _)| *field != "id_number")
        .map(|(field, zh, en)| FormField {
            name: field,
            label: lang.pick(zh, en).to_string(),
            value: values.get(*field).cloned().unwrap_or_default(),
            input: if field.ends_with("_on") || *field == "valid_until" {
                "date"
            } else if matches!(*field, "hours" | "exam_score" | "sum_insured") {
                "number"
            } else {
                "text"
            },
            required: !RecordKind::optional(field),
            options: kind
                .choices(field)
                .unwrap_or_default()
                .into_iter()
                .map(|(code, zh, en)| (code, lang.pick(zh, en).to_string()))
                .collect(),
            error: field_message(errors, lang, field),
        })
        .collect()
}

fn parse_kind(raw: &str) -> Result<RecordKind, AppError> {
    RecordKind::parse(raw).ok_or(AppError::NotFound)
}

async fn record_form(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, kind)): Path<(i64, String)>,
) -> Result<Response, AppError> {
    let kind = parse_kind(&kind)?;
    writing_agency(&state, &viewer, id).await?;
    let worker = state.store.worker(id).await?;
    render(&RecordFormPage {
        chrome: Chrome::new(lang, &viewer, "/agency/workers", kind.label(lang.is_en()).to_string()),
        worker_id: id,
        worker_name: worker.name,
        kind: kind.code(),
        kind_label: kind.label(lang.is_en()),
        fields: form_fields(kind, &HashMap::new(), &FieldErrors::default(), lang),
    })
}

async fn add_record(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, kind)): Path<(i64, String)>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let kind = parse_kind(&kind)?;
    viewer.check_csrf(values.get("csrf").map(String::as_str))?;
    let by = writing_agency(&state, &viewer, id).await?;
    let mut columns: HashMap<&'static str, String> =
        kind.columns().iter().map(|(field, _, _)| (*field, values.get(*field).cloned().unwrap_or_default())).collect();
    match kind.parse_row(&mut columns, today()) {
        Ok(draft) => {
            state.store.add_records(&[(id, draft)], by).await?;
            Ok(Redirect::to(&format!("/agency/workers/{id}/workforce")).into_response())
        }
        Err(errors) => {
            let worker = state.store.worker(id).await?;
            let page = RecordFormPage {
                chrome: Chrome::new(lang, &viewer, "/agency/workers", kind.label(lang.is_en()).to_string()),
                worker_id: id,
                worker_name: worker.name,
                kind: kind.code(),
                kind_label: kind.label(lang.is_en()),
                fields: form_fields(kind, &values, &errors, lang),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

pub struct InboxLine {
    pub id: i64,
    pub worker_id: i64,
    pub message: String,
    pub overdue: bool,
    pub unread: bool,
    pub at: String,
}

pub fn inbox_lines(items: &[Notification], lang: Lang) -> Vec<InboxLine> {
    items
        .iter()
        .map(|n| InboxLine {
            id: n.id,
            worker_id: n.worker_id,
            message: n.message(lang.is_en()),
            overdue: n.overdue,
            unread: n.read_at.is_none(),
            at: n.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    lines: Vec<InboxLine>,
    pager: Pager,
}

#[derive(serde::Deserialize)]
struct PageParam {
    page: Option<u32>,
}

async fn agency_inbox(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageParam>,
) -> Result<Response, AppError> {
    viewer.require_agency()?;
    let (kind, owner) = inbox_owner(&viewer)?;
    let page = state.store.inbox(kind, owner, PageRequest::new(q.page, Some(30))).await?;
    render(&InboxPage {
        chrome: Chrome::new(lang, &viewer, "/agency/inbox", lang.t("inbox.title")),
        lines: inbox_lines(&page.items, lang),
        pager: Pager::new(&page, "/agency/inbox", ""),
    })
}

async fn mark_read(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let (kind, owner) = inbox_owner(&viewer)?;
    state.store.mark_read(kind, owner, id).await?;
    Ok(Redirect::to(if kind == "worker" { "/me" } else { "/agency/inbox" }).into_response())
}
