//! An agency admin's page of one service point (`/agency/points/{id}`): its facts and an "open
//! now" badge from the weekly hours, the hours editor, the duty roster, the shared tool kit with
//! check-out and return, overdue tools, and events. Another agency's point is not found.

use std::borrow::Borrow;
use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use chrono::NaiveDate;
use jiazheng_core::FieldErrors;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::operations::{
    CheckoutForm, DutyForm, PointEventForm, ToolForm, open_at, parse_attendance,
};
use jiazheng_core::field::Invalid;
use jiazheng_core::market::slot::{DayForm, Shift, WeekForm};
use jiazheng_core::registry::service_point::PointStatus;
use jiazheng_store::community::operations::{BoundWorker, PointOperations, ToolLoan};

use super::{Chrome, field_message, render};
use crate::auth::Viewer;
use crate::community_ops::{conflict_text, ops_error};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agency/points/{id}", get(page))
        .route("/agency/points/{id}/hours", post(set_hours))
        .route("/agency/points/{id}/duties", post(add_duty))
        .route("/agency/points/{id}/duties/{duty_id}/remove", post(remove_duty))
        .route("/agency/points/{id}/tools", post(add_tool))
        .route("/agency/points/{id}/tools/{tool_id}/checkout", post(check_out))
        .route("/agency/points/{id}/loans/{loan_id}/return", post(give_back))
        .route("/agency/points/{id}/events", post(add_event))
        .route("/agency/points/{id}/events/{event_id}/attendance", post(set_attendance))
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("周一", "Mon"),
    ("周二", "Tue"),
    ("周三", "Wed"),
    ("周四", "Thu"),
    ("周五", "Fri"),
    ("周六", "Sat"),
    ("周日", "Sun"),
];

/// The form that failed, so only it shows its errors and keeps what was typed.
#[derive(Default)]
struct Failed {
    form: &'static str,
    /// The tool or event a per-row form was for.
    row: i64,
    typed: HashMap<String, String>,
    errors: FieldErrors,
    /// A refusal that belongs to no one field (shown in the form's alert).
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "point_ops.html")]
struct OpsPage {
    chrome: Chrome,
    ops: PointOperations,
    workers: Vec<BoundWorker>,
    open_now: bool,
    today: NaiveDate,
    failed: Failed,
    done: String,
}

impl OpsPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }

    fn failed_here(&self, form: &str, row: impl Borrow<i64>) -> bool {
        self.failed.form == form && self.failed.row == *row.borrow()
    }

    fn err(&self, form: &str, row: impl Borrow<i64>, field: &str) -> Option<String> {
        if self.failed_here(form, row) { field_message(&self.failed.errors, self.chrome.lang, field) } else { None }
    }

    fn alert(&self, form: &str, row: impl Borrow<i64>) -> Option<String> {
        if !self.failed_here(form, row) {
            return None;
        }
        let fix = self.chrome.t("form.fix");
        Some(self.failed.message.clone().unwrap_or(fix))
    }

    fn val(&self, form: &str, row: impl Borrow<i64>, field: &str) -> String {
        if self.failed_here(form, row) {
            self.failed.typed.get(field).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    }

    fn status(&self) -> String {
        PointStatus::label_of(&self.ops.point.status, self.chrome.is_en()).to_string()
    }

    fn weekday(&self, day: &u8) -> &'static str {
        let (zh, en) = WEEKDAYS[usize::from(day.saturating_sub(1)).min(6)];
        self.chrome.lang.pick(zh, en)
    }

    fn days(&self) -> Vec<u8> {
        (1..=7).collect()
    }

    fn stored(&self, day: u8) -> Option<Shift> {
        self.ops.hours.iter().find(|(d, _)| *d == day).map(|(_, s)| *s)
    }

    fn hour_from(&self, day: &u8) -> String {
        if self.failed.form == "hours" {
            return self.failed.typed.get(&format!("from{day}")).cloned().unwrap_or_default();
        }
        self.stored(*day).map(|s| format!("{:02}:{:02}", s.from / 60, s.from % 60)).unwrap_or_default()
    }

    fn hour_to(&self, day: &u8) -> String {
        if self.failed.form == "hours" {
            return self.failed.typed.get(&format!("to{day}")).cloned().unwrap_or_default();
        }
        self.stored(*day).map(|s| format!("{:02}:{:02}", s.to / 60, s.to % 60)).unwrap_or_default()
    }

    fn day_err(&self, day: &u8) -> Option<String> {
        self.err("hours", 0, &format!("day{day}"))
    }

    fn week_text(&self) -> String {
        if self.ops.hours.is_empty() {
            return self.t("未设置", "Not set").to_string();
        }
        let parts: Vec<String> =
            self.ops.hours.iter().map(|(d, s)| format!("{} {}", self.weekday(d), s.describe())).collect();
        parts.join(" · ")
    }

    fn when(&self, slot: jiazheng_core::market::slot::Slot) -> String {
        slot.describe()
    }

    fn overdue(&self, loan: &ToolLoan) -> bool {
        loan.is_overdue(self.today)
    }

    fn open_loans(&self) -> Vec<&ToolLoan> {
        self.ops.loans.iter().filter(|l| l.returned_at.is_none()).collect()
    }

    fn returned_loans(&self) -> Vec<&ToolLoan> {
        self.ops.loans.iter().filter(|l| l.returned_at.is_some()).collect()
    }

    fn picked(&self, form: &str, row: impl Borrow<i64>, worker: &i64) -> bool {
        self.val(form, row, "worker_id") == worker.to_string()
    }

    fn tomorrow(&self) -> String {
        (self.today + chrono::Duration::days(1)).to_string()
    }
}

async fn load(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    failed: Failed,
    done: &str,
) -> Result<OpsPage, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let ops = state.store.point_operations(id, agency).await?;
    let workers = state.store.workers_bound_to(agency).await?;
    Ok(OpsPage {
        chrome: Chrome::new(lang, viewer, &format!("/agency/points/{id}"), ops.point.name.clone()),
        open_now: open_at(&ops.hours, chrono::Utc::now()),
        ops,
        workers,
        today: beijing_today(),
        failed,
        done: done.chars().take(20).collect(),
    })
}

#[derive(serde::Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Result<Response, AppError> {
    render(&load(&state, lang, &viewer, id, Failed::default(), &q.done).await?)
}

type Body = HashMap<String, String>;

fn field(body: &Body, name: &str) -> String {
    body.get(name).map(|v| v.chars().take(1000).collect()).unwrap_or_default()
}

/// Checks the form's token and the agency; the agency's id and account.
fn begin(viewer: &Viewer, body: &Body) -> Result<(i64, i64), AppError> {
    let (session, agency) = viewer.require_agency()?;
    let account = session.principal.account_id;
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    Ok((agency, account))
}

fn back(id: i64, anchor: &str) -> Response {
    Redirect::to(&format!("/agency/points/{id}?done={anchor}#{anchor}")).into_response()
}

/// Renders the page again with the failed form's errors: 422 for field errors, 409 for a
/// conflict (shown at the top of the form and beside `conflict_field`).
/// Which form failed: its name, the row it was for, and the field a conflict is shown beside.
struct Target(&'static str, i64, &'static str);

/// The page a form was posted from.
struct Page<'a> {
    state: &'a AppState,
    lang: Lang,
    viewer: &'a Viewer,
    id: i64,
}

/// Back to the page's section when the change was made; the page again with the form's errors
/// when it was not.
async fn answer<T>(
    page: Page<'_>,
    target: Target,
    anchor: &str,
    body: Body,
    outcome: Result<T, AppError>,
) -> Result<Response, AppError> {
    match outcome {
        Ok(_) => Ok(back(page.id, anchor)),
        Err(e) => refused(page, target, body, e).await,
    }
}

async fn refused(
    Page { state, lang, viewer, id }: Page<'_>,
    Target(form, row, conflict_field): Target,
    body: Body,
    error: AppError,
) -> Result<Response, AppError> {
    let (status, errors, message) = match &error {
        AppError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors.clone(), None),
        AppError::Conflict { code, message_zh, message_en, .. } => {
            let text = conflict_text(&error, lang.is_en());
            let errors =
                FieldErrors(vec![Invalid::new(code, message_zh.clone(), message_en.clone()).at(conflict_field)]);
            (StatusCode::CONFLICT, errors, text)
        }
        _ => return Err(error),
    };
    let mut typed = body;
    typed.remove("csrf");
    let failed = Failed { form, row, typed, errors, message };
    let page = load(state, lang, viewer, id, failed, "").await?;
    Ok((status, render(&page)?).into_response())
}

async fn set_hours(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, _) = begin(&viewer, &body)?;
    let week = WeekForm {
        days: (1..=7)
            .map(|d| DayForm { from: field(&body, &format!("from{d}")), to: field(&body, &format!("to{d}")) })
            .collect(),
    };
    let outcome = async {
        let week = week.parse().map_err(AppError::Invalid)?;
        state.store.set_point_hours(id, agency, &week).await.map_err(ops_error)
    }
    .await;
    answer(Page { state: &state, lang, viewer: &viewer, id }, Target("hours", 0, "day1"), "hours", body, outcome).await
}

async fn add_duty(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, account) = begin(&viewer, &body)?;
    let form = DutyForm {
        worker_id: field(&body, "worker_id"),
        date: field(&body, "date"),
        from: field(&body, "from"),
        to: field(&body, "to"),
    };
    let outcome = async {
        let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
        state.store.add_duty(id, agency, account, &draft).await.map_err(ops_error)
    }
    .await;
    answer(Page { state: &state, lang, viewer: &viewer, id }, Target("duty", 0, "worker_id"), "duty", body, outcome)
        .await
}

async fn remove_duty(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, duty)): Path<(i64, i64)>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, _) = begin(&viewer, &body)?;
    state.store.remove_duty(id, agency, duty).await?;
    Ok(back(id, "duty"))
}

async fn add_tool(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, _) = begin(&viewer, &body)?;
    let form = ToolForm { name: field(&body, "name"), count: field(&body, "count") };
    let outcome = async {
        let draft = form.parse().map_err(AppError::Invalid)?;
        state.store.add_tool(id, agency, &draft).await.map_err(ops_error)
    }
    .await;
    answer(Page { state: &state, lang, viewer: &viewer, id }, Target("tool", 0, "name"), "tools", body, outcome).await
}

async fn check_out(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, tool)): Path<(i64, i64)>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, account) = begin(&viewer, &body)?;
    let form = CheckoutForm {
        worker_id: field(&body, "worker_id"),
        volunteer: field(&body, "volunteer"),
        due: field(&body, "due"),
    };
    let outcome = async {
        let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
        state.store.check_out_tool(id, tool, agency, account, &draft).await.map_err(ops_error)
    }
    .await;
    answer(
        Page { state: &state, lang, viewer: &viewer, id },
        Target("checkout", tool, "worker_id"),
        "tools",
        body,
        outcome,
    )
    .await
}

async fn give_back(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, loan)): Path<(i64, i64)>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, account) = begin(&viewer, &body)?;
    let outcome = state.store.return_tool(id, loan, agency, account).await.map_err(ops_error);
    answer(Page { state: &state, lang, viewer: &viewer, id }, Target("return", 0, "loan"), "loans", body, outcome).await
}

async fn add_event(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, account) = begin(&viewer, &body)?;
    let form = PointEventForm {
        title: field(&body, "title"),
        date: field(&body, "date"),
        from: field(&body, "from"),
        to: field(&body, "to"),
        description: field(&body, "description"),
        attendance: field(&body, "attendance"),
    };
    let outcome = async {
        let draft = form.parse(beijing_today()).map_err(AppError::Invalid)?;
        state.store.add_point_event(id, agency, account, &draft).await.map_err(ops_error)
    }
    .await;
    answer(Page { state: &state, lang, viewer: &viewer, id }, Target("event", 0, "title"), "events", body, outcome)
        .await
}

async fn set_attendance(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path((id, event)): Path<(i64, i64)>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let (agency, _) = begin(&viewer, &body)?;
    let parsed = match parse_attendance(&field(&body, "attendance")) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(Invalid::required()),
        Err(e) => Err(e),
    };
    let outcome = async {
        let n = parsed.map_err(|e| AppError::Invalid(FieldErrors(vec![e.at("attendance")])))?;
        state.store.set_event_attendance(id, event, agency, n).await.map_err(ops_error)
    }
    .await;
    let page = Page { state: &state, lang, viewer: &viewer, id };
    answer(page, Target("attendance", event, "attendance"), "events", body, outcome).await
}
