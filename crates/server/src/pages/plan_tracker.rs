//! The plan's task tracker for regulators (`/plan`): the 34 tasks with their units, status,
//! deadlines and overdue alerts; a task's page where its units report dated progress with
//! evidence and the overseeing city regulator sets the deadline or reopens a closed task; the
//! periodic evaluation report as PDF and xlsx; and the admin's unit picker for regulator accounts.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::field::{Invalid, required_paragraphs};
use jiazheng_core::market::subsidy::{EvidenceType, MAX_EVIDENCE_BYTES};
use jiazheng_core::oversight::plan::{
    DeadlineForm, MAX_REASON_CHARS, ProgressForm, ReportStatus, TaskStatus, days_overdue,
};
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::plan::{PlanSummary, PlanTask, PlanUnit, ProgressReport, TaskFilter, TaskUnit};

use super::{Chrome, Pager, field_message, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::plan_tracker::{Evaluation, evidence, open_for_reports, tracker_error, unit_names};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    let limit = axum::extract::DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 64 * 1024);
    Router::new()
        .route("/plan", get(tracker))
        .route("/plan/tasks/{number}", get(task))
        .route("/plan/tasks/{number}/progress", post(report).layer(limit))
        .route("/plan/tasks/{number}/deadline", post(set_deadline))
        .route("/plan/tasks/{number}/reopen", post(reopen))
        .route("/plan/progress/{id}/evidence", get(evidence_file))
        .route("/plan/report.pdf", get(report_pdf))
        .route("/plan/report.xlsx", get(report_xlsx))
        .route("/admin/accounts/{id}/unit", post(set_unit))
}

fn regulator(viewer: &Viewer) -> Result<jiazheng_core::account::Principal, AppError> {
    Ok(viewer.require_role(&[Role::Regulator])?.principal.clone())
}

fn status_badge(status: &str) -> &'static str {
    match status {
        "done" => "ok",
        "delayed" => "bad",
        "in_progress" => "warn",
        _ => "",
    }
}

// ---- the tracker ----------------------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct TrackerQuery {
    unit: String,
    status: String,
    overdue: String,
    page: Option<u32>,
}

struct TaskRow {
    task: PlanTask,
    lead: String,
    overdue_days: i64,
}

#[derive(Template)]
#[template(path = "plan_tasks.html")]
struct TrackerPage {
    chrome: Chrome,
    summary: PlanSummary,
    rows: Vec<TaskRow>,
    units: Vec<PlanUnit>,
    unit: String,
    status: String,
    overdue: bool,
    mine: Option<PlanUnit>,
    pager: Pager,
    today: String,
}

impl TrackerPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn status_label(&self, code: &str) -> &'static str {
        TaskStatus::label_of(code, self.chrome.is_en())
    }
    fn badge(&self, code: &str) -> &'static str {
        status_badge(code)
    }
    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        TaskStatus::ALL.iter().map(|s| (s.as_str(), s.label(self.chrome.is_en()))).collect()
    }
    fn unit_label<'a>(&self, u: &'a PlanUnit) -> &'a str {
        u.label(self.chrome.is_en())
    }
    fn picked(&self, u: &PlanUnit) -> bool {
        self.unit == u.id.to_string()
    }
}

async fn tracker(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<TrackerQuery>,
) -> Result<Response, AppError> {
    let who = regulator(&viewer)?;
    let today = beijing_today();
    let units = state.store.plan_units().await?;
    let unit = units.iter().find(|u| u.id.to_string() == q.unit.trim()).map(|u| u.id);
    let status = TaskStatus::parse(&q.status).ok().filter(|_| !q.status.trim().is_empty());
    let overdue = q.overdue == "1";
    let filter = TaskFilter { unit, status, overdue_on: overdue.then_some(today) };
    let page = state.store.plan_tasks(&filter, PageRequest::new(q.page, Some(40))).await?;
    let task_units = state.store.task_units().await?;
    let base = format!(
        "unit={}&status={}&overdue={}",
        unit.map(|u| u.to_string()).unwrap_or_default(),
        status.map_or("", |s| s.as_str()),
        if overdue { "1" } else { "" }
    );
    let pager = Pager::new(&page, "/plan", &base);
    let rows = page
        .items
        .into_iter()
        .map(|task| TaskRow {
            lead: unit_names(&task_units, task.number, lang.is_en()).0,
            overdue_days: days_overdue(task.status(), task.deadline, today),
            task,
        })
        .collect();
    render(&TrackerPage {
        chrome: Chrome::new(lang, &viewer, "/plan", lang.pick("规划任务台账", "Plan tasks").into()),
        summary: state.store.plan_summary(today).await?,
        rows,
        units,
        unit: unit.map(|u| u.to_string()).unwrap_or_default(),
        status: status.map_or(String::new(), |s| s.as_str().to_string()),
        overdue,
        mine: state.store.plan_unit_of(who.account_id).await?,
        pager,
        today: today.to_string(),
    })
}

// ---- one task -------------------------------------------------------------------------------

/// What a refused form needs to show again, and which form it was.
#[derive(Default)]
struct Typed {
    form: &'static str,
    values: HashMap<String, String>,
    errors: FieldErrors,
}

impl Typed {
    fn val(&self, form: &str, field: &str) -> String {
        if self.form == form { self.values.get(field).cloned().unwrap_or_default() } else { String::new() }
    }
}

#[derive(Template)]
#[template(path = "plan_task.html")]
struct TaskPage {
    chrome: Chrome,
    task: PlanTask,
    units: Vec<TaskUnit>,
    progress: Vec<ProgressReport>,
    pager: Pager,
    mine: Option<PlanUnit>,
    responsible: bool,
    may_close: bool,
    overseer: bool,
    overdue_days: i64,
    today: String,
    typed: Typed,
}

impl TaskPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.typed.errors, self.chrome.lang, field)
    }
    fn val(&self, form: &str, field: &str) -> String {
        self.typed.val(form, field)
    }
    fn failed(&self, form: &str) -> bool {
        self.typed.form == form && !self.typed.errors.is_empty()
    }
    fn status_label(&self, code: &str) -> &'static str {
        TaskStatus::label_of(code, self.chrome.is_en())
    }
    fn badge(&self, code: &str) -> &'static str {
        status_badge(code)
    }
    fn open(&self) -> bool {
        open_for_reports(&self.task)
    }
    fn report_statuses(&self) -> Vec<(&'static str, &'static str)> {
        ReportStatus::ALL
            .iter()
            .filter(|s| self.may_close || **s != ReportStatus::Done)
            .map(|s| (s.as_str(), s.label(self.chrome.is_en())))
            .collect()
    }
    fn unit_label<'a>(&self, u: &'a TaskUnit) -> &'a str {
        u.unit.label(self.chrome.is_en())
    }
    fn reported_by(&self, p: &ProgressReport) -> String {
        let unit = if self.chrome.is_en() { &p.unit_name_en } else { &p.unit_name };
        match &p.district_name {
            Some(d) => format!("{unit}（{d}）"),
            None => unit.clone(),
        }
    }
    fn when(&self, p: &ProgressReport) -> String {
        super::beijing_minutes(p.created_at)
    }
}

async fn task_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    number: i64,
    page: Option<u32>,
    typed: Typed,
) -> Result<TaskPage, AppError> {
    let who = regulator(viewer)?;
    let task = state.store.plan_task(number).await?;
    let units: Vec<TaskUnit> =
        state.store.task_units().await?.into_iter().filter(|u| u.task_number == number).collect();
    let mine = state.store.plan_unit_of(who.account_id).await?;
    let own = mine.as_ref().and_then(|m| units.iter().find(|u| u.unit.id == m.id));
    let overseer = state.store.may_oversee(&who).await?;
    let city_overseeing_unit = mine.as_ref().is_some_and(|m| m.oversees) && overseer;
    let progress = state.store.task_progress(number, PageRequest::new(page, Some(20))).await?;
    let path = format!("/plan/tasks/{number}");
    let today = beijing_today();
    Ok(TaskPage {
        chrome: Chrome::new(lang, viewer, &path, format!("{} {}", lang.pick("任务", "Task"), number)),
        pager: Pager::new(&progress, &path, ""),
        progress: progress.items,
        responsible: own.is_some(),
        may_close: own.is_some_and(|u| u.position == 0) || (own.is_some() && city_overseeing_unit),
        overseer,
        overdue_days: days_overdue(task.status(), task.deadline, today),
        today: today.to_string(),
        task,
        units,
        mine,
        typed,
    })
}

#[derive(serde::Deserialize, Default)]
struct PageQuery {
    page: Option<u32>,
}

async fn task(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(number): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    render(&task_page(&state, lang, &viewer, number, q.page, Typed::default()).await?)
}

async fn refused(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    number: i64,
    typed: Typed,
) -> Result<Response, AppError> {
    let page = task_page(state, lang, viewer, number, None, typed).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// Text fields are cut before they are parsed (the parse then says they are too long).
const MAX_FIELD_BYTES: usize = 16 * 1024;

async fn report(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(number): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let who = regulator(&viewer)?;
    let mut values = HashMap::new();
    let mut file = Vec::new();
    let mut file_name = String::new();
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "evidence" {
            file_name = field.file_name().unwrap_or_default().to_string();
            file = field.bytes().await.map_err(AppError::from)?.to_vec();
            continue;
        }
        let mut text = field.text().await.map_err(AppError::from)?;
        text.truncate(text.floor_char_boundary(MAX_FIELD_BYTES));
        values.insert(name, text);
    }
    viewer.check_csrf(values.get("csrf").map(String::as_str))?;
    values.remove("csrf");
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let form = ProgressForm { reported_on: get("reported_on"), status: get("status"), text: get("text") };
    let plan_start =
        state.store.plan_info().await?.map_or(jiazheng_core::oversight::plan::plan_floor(), |i| i.starts_on);
    let parsed = form.parse(beijing_today(), plan_start);
    let file = evidence(&file_name, file);
    let (draft, file) = match (parsed, file) {
        (Ok(draft), Ok(file)) => (draft, file),
        (parsed, file) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(e) = file {
                errors.0.push(e.at("evidence"));
            }
            return refused(&state, lang, &viewer, number, Typed { form: "report", values, errors }).await;
        }
    };
    match state.store.report_progress(&who, number, &draft, file.as_ref()).await.map_err(tracker_error) {
        Ok(id) => Ok(Redirect::to(&format!("/plan/tasks/{number}#report-{id}")).into_response()),
        Err(AppError::Invalid(errors)) => {
            refused(&state, lang, &viewer, number, Typed { form: "report", values, errors }).await
        }
        Err(other) => Err(other),
    }
}

async fn set_deadline(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(number): Path<i64>,
    Form(body): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let who = regulator(&viewer)?;
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let form = DeadlineForm { deadline: body.get("deadline").cloned().unwrap_or_default() };
    let outcome = match form.parse() {
        Ok(date) => state.store.set_task_deadline(&who, number, date).await.map_err(tracker_error),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/plan/tasks/{number}#deadline")).into_response()),
        Err(AppError::Invalid(errors)) => {
            refused(&state, lang, &viewer, number, Typed { form: "deadline", values: body, errors }).await
        }
        Err(other) => Err(other),
    }
}

async fn reopen(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(number): Path<i64>,
    Form(body): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let who = regulator(&viewer)?;
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let reason = body.get("reason").cloned().unwrap_or_default();
    let outcome = match required_paragraphs(&reason, MAX_REASON_CHARS) {
        Ok(reason) => state.store.reopen_task(&who, number, &reason).await.map_err(tracker_error),
        Err(e) => Err(AppError::Invalid(FieldErrors(vec![e.at("reason")]))),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/plan/tasks/{number}#status")).into_response()),
        Err(AppError::Invalid(errors)) => {
            refused(&state, lang, &viewer, number, Typed { form: "reopen", values: body, errors }).await
        }
        Err(other) => Err(other),
    }
}

/// A report's evidence, for regulators: pictures shown, PDFs saved, nothing run.
async fn evidence_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    regulator(&viewer)?;
    let (name, kind, bytes) = state.store.progress_file(id).await?;
    let ascii: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    let ascii = if ascii.trim_matches('.').is_empty() { format!("evidence-{id}") } else { ascii };
    let disposition = match kind {
        EvidenceType::Pdf => format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", super::encode(&name)),
        _ => format!("inline; filename=\"{ascii}\""),
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.mime().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; object-src 'self'; sandbox".into()),
            (header::CACHE_CONTROL, "private, no-store".into()),
        ],
        bytes,
    )
        .into_response())
}

/// A report file to save, never cached.
fn download(mime: &str, file_name: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            (header::CACHE_CONTROL, "private, no-store".into()),
        ],
        bytes,
    )
        .into_response()
}

async fn report_pdf(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    regulator(&viewer)?;
    let today = beijing_today();
    let pdf = Evaluation::load(&state, today).await?.pdf().await?;
    Ok(download("application/pdf", format!("plan-evaluation-{today}.pdf"), pdf))
}

async fn report_xlsx(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    regulator(&viewer)?;
    let today = beijing_today();
    let book = Evaluation::load(&state, today).await?.xlsx()?;
    let mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    Ok(download(mime, format!("plan-evaluation-{today}.xlsx"), book))
}

// ---- the admin's unit picker ------------------------------------------------------------------

/// The unit a regulator account acts for, as the admin's account page offers it.
pub struct UnitPicker {
    pub regulator: bool,
    pub units: Vec<(i64, String, bool)>,
}

impl UnitPicker {
    pub async fn load(state: &AppState, account_id: i64, role: &str, lang: Lang) -> Result<Self, AppError> {
        let current = state.store.plan_unit_of(account_id).await?.map(|u| u.id);
        let units = state
            .store
            .plan_units()
            .await?
            .into_iter()
            .map(|u| (u.id, u.label(lang.is_en()).to_string(), Some(u.id) == current))
            .collect();
        Ok(Self { regulator: role == Role::Regulator.as_str(), units })
    }

    pub fn none_picked(&self) -> bool {
        !self.units.iter().any(|(_, _, picked)| *picked)
    }
}

async fn set_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let actor = viewer.require_role(&[Role::SystemAdmin])?.principal.account_id;
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let raw = body.get("unit").map(|s| s.trim()).unwrap_or_default();
    let unit = if raw.is_empty() {
        None
    } else {
        Some(raw.parse::<i64>().map_err(|_| {
            AppError::Invalid(FieldErrors(vec![Invalid::new("required", "请选择责任单位", "pick a unit").at("unit")]))
        })?)
    };
    state.store.set_account_plan_unit(id, unit, actor).await?;
    Ok(Redirect::to(&format!("/admin/accounts/{id}#plan-unit")).into_response())
}
