//! The school's pages: its courses, enrolling registered workers, and entering exam results.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::workforce::records::{CourseForm, ResultForm};
use jiazheng_core::workforce::{CourseKind, CourseMode, Trade};
use jiazheng_store::PageRequest;
use jiazheng_store::workforce::providers::{Course, Enrolment, Provider};

use super::{Chrome, Pager, field_message, render};
use crate::api::providers::{EnrolmentForm, enrol_worker, enter_result_for, own_course, require_school};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/school", get(courses))
        .route("/school/courses", post(create_course))
        .route("/school/courses/{id}", get(course))
        .route("/school/courses/{id}/enrol", post(enrol))
        .route("/school/records/{id}/result", post(result))
        .route(
            "/school/courses/{id}/results",
            post(import_results).layer(axum::extract::DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/school/courses/{id}/results.xlsx", get(results_template))
}

#[derive(serde::Deserialize)]
struct PageParam {
    page: Option<u32>,
}

type Options = Vec<(&'static str, &'static str)>;

#[derive(Template)]
#[template(path = "school.html")]
struct SchoolPage {
    chrome: Chrome,
    provider: Provider,
    courses: Vec<Course>,
    pager: Pager,
    form: HashMap<String, String>,
    errors: FieldErrors,
    /// Confirmed volunteer events and minutes of the school.
    volunteer: jiazheng_store::community::volunteer::VolunteerTotals,
}

impl SchoolPage {
    fn volunteer_hours(&self) -> String {
        jiazheng_core::community::volunteer::hours_text(self.volunteer.minutes)
    }

    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn value(&self, field: &str) -> String {
        self.form.get(field).cloned().unwrap_or_default()
    }

    fn kinds(&self) -> Options {
        CourseKind::ALL.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }

    fn modes(&self) -> Options {
        CourseMode::ALL.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }

    fn trades(&self) -> Options {
        Trade::ALL.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }

    fn kind_label(&self, code: &str) -> String {
        CourseKind::label_of(code, self.chrome.is_en()).to_string()
    }
}

async fn school_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    page: Option<u32>,
    form: HashMap<String, String>,
    errors: FieldErrors,
) -> Result<SchoolPage, AppError> {
    let (provider, _) = require_school(viewer)?;
    let courses = state.store.courses(provider, PageRequest::new(page, Some(20))).await?;
    Ok(SchoolPage {
        chrome: Chrome::new(lang, viewer, "/school", lang.t("school.title")),
        provider: state.store.provider(provider).await?,
        volunteer: state
            .store
            .volunteer_totals(jiazheng_store::community::volunteer::Participant::Provider(provider))
            .await?,
        pager: Pager::new(&courses, "/school", ""),
        courses: courses.items,
        form,
        errors,
    })
}

async fn courses(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageParam>,
) -> Result<Response, AppError> {
    render(&school_page(&state, lang, &viewer, q.page, HashMap::new(), FieldErrors::default()).await?)
}

async fn create_course(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (provider, _) = require_school(&viewer)?;
    viewer.check_csrf(values.get("csrf").map(String::as_str))?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let form = CourseForm {
        name: get("name"),
        kind: get("kind"),
        mode: get("mode"),
        hours: get("hours"),
        trade: get("trade"),
    };
    match form.parse() {
        Ok(draft) => {
            let id = state.store.create_course(provider, &draft).await?;
            Ok(Redirect::to(&format!("/school/courses/{id}")).into_response())
        }
        Err(errors) => {
            let page = school_page(&state, lang, &viewer, None, values, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "school_course.html")]
struct CoursePage {
    chrome: Chrome,
    course: Course,
    enrolments: Vec<Enrolment>,
    pager: Pager,
    message: Option<String>,
    errors: FieldErrors,
    form: HashMap<String, String>,
    /// The last results sheet: what was entered, or each refused cell (and nothing entered).
    report: Option<jiazheng_store::excel::ImportReport>,
}

impl CoursePage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn value(&self, field: &str) -> String {
        self.form.get(field).cloned().unwrap_or_default()
    }

    fn result_label(&self, e: &Enrolment) -> String {
        match e.exam_passed {
            Some(true) => {
                format!("{}{}", self.chrome.t("pass"), e.exam_score.map(|s| format!(" ({s})")).unwrap_or_default())
            }
            Some(false) => self.chrome.t("fail"),
            None => "—".into(),
        }
    }
}

/// What a refused form leaves on the course page: a message, field errors, the typed values.
#[derive(Default)]
struct Feedback {
    message: Option<String>,
    errors: FieldErrors,
    form: HashMap<String, String>,
}

async fn course_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    page: Option<u32>,
    Feedback { message, errors, form }: Feedback,
) -> Result<CoursePage, AppError> {
    let (course, _) = own_course(state, viewer, id).await?;
    let enrolments = state.store.enrolments(id, PageRequest::new(page, Some(50))).await?;
    let path = format!("/school/courses/{id}");
    Ok(CoursePage {
        chrome: Chrome::new(lang, viewer, &path, course.name.clone()),
        pager: Pager::new(&enrolments, &path, ""),
        enrolments: enrolments.items,
        course,
        message,
        errors,
        form,
        report: None,
    })
}

async fn course(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<PageParam>,
) -> Result<Response, AppError> {
    render(&course_page(&state, lang, &viewer, id, q.page, Feedback::default()).await?)
}

/// Re-renders the course page with what went wrong, or propagates errors that are not the form's.
async fn course_with_problem(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    error: AppError,
    form: HashMap<String, String>,
) -> Result<Response, AppError> {
    let status = error.status();
    let (message, errors) = match error {
        AppError::Invalid(errors) => (None, errors),
        AppError::Conflict { message_zh, message_en, .. } => {
            (Some(lang.pick(&message_zh, &message_en).to_string()), FieldErrors::default())
        }
        other => return Err(other),
    };
    let page = course_page(state, lang, viewer, id, None, Feedback { message, errors, form }).await?;
    Ok((status, render(&page)?).into_response())
}

async fn enrol(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    viewer.check_csrf(values.get("csrf").map(String::as_str))?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let form = EnrolmentForm { id_number: get("id_number"), started_on: get("started_on") };
    match enrol_worker(&state, &viewer, id, &form).await {
        Ok(_) => Ok(Redirect::to(&format!("/school/courses/{id}")).into_response()),
        Err(error) => course_with_problem(&state, lang, &viewer, id, error, values).await,
    }
}

async fn result(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(record): Path<i64>,
    Form(values): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    viewer.check_csrf(values.get("csrf").map(String::as_str))?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let form = ResultForm {
        completed_on: get("completed_on"),
        exam_result: get("exam_result"),
        exam_score: get("exam_score"),
    };
    let course = state.store.training_record(record).await?.course_id.ok_or(AppError::NotFound)?;
    match enter_result_for(&state, &viewer, record, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/school/courses/{course}")).into_response()),
        Err(error) => course_with_problem(&state, lang, &viewer, course, error, values).await,
    }
}

/// The course's results sheet with its students listed, to fill in and upload.
async fn results_template(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    own_course(&state, &viewer, id).await?;
    let enrolled = state.store.enrolments(id, PageRequest::new(None, Some(500))).await?.items;
    let students: Vec<(String, String)> = enrolled.into_iter().map(|e| (e.worker_name, e.id_masked)).collect();
    let bytes = tokio::task::spawn_blocking(move || jiazheng_store::workforce::results::results_template(&students))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    Ok(super::import::xlsx(bytes, &format!("results-{id}.xlsx")))
}

/// A class's results from a sheet: all entered, or none with each refused cell listed.
async fn import_results(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let provider = own_course(&state, &viewer, id).await?.0.provider_id;
    let mut file = Vec::new();
    let mut csrf = None;
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        match field.name() {
            Some("file") => file = field.bytes().await.map_err(AppError::from)?.to_vec(),
            Some("csrf") => csrf = Some(field.text().await.map_err(AppError::from)?),
            _ => {}
        }
    }
    viewer.check_csrf(csrf.as_deref())?;
    let outcome = if file.is_empty() {
        Err(AppError::invalid("file", "required", "请选择成绩表（.xlsx）", "choose a results sheet (.xlsx)"))
    } else {
        state.store.import_results(id, provider, file, crate::api::workers::today()).await.map_err(AppError::from)
    };
    match outcome {
        Ok(mut report) => {
            let status = if report.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            report.errors.truncate(super::import::ERRORS_SHOWN);
            let mut page = course_page(&state, lang, &viewer, id, None, Feedback::default()).await?;
            page.report = Some(report);
            Ok((status, render(&page)?).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let feedback = Feedback { errors, ..Feedback::default() };
            let page = course_page(&state, lang, &viewer, id, None, feedback).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}
