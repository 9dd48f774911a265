//! A resident files a complaint from the page it concerns: one of their services, a worker's
//! page or an agency's page. What the complaint is about comes from that page; the resident
//! only says what happened.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::credit::SubjectKind;
use jiazheng_core::credit::casework::ComplaintForm;
use jiazheng_core::registry::ServiceKind;
use jiazheng_store::credit::casework::ServiceRow;
use serde::Deserialize;

use super::{Chrome, render};
use crate::api::casework::resident;
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/my/complaints/new", get(new_complaint)).route("/my/complaints", axum::routing::post(file))
}

/// Where the complaint button was pressed.
#[derive(Debug, Default, Deserialize)]
struct Origin {
    service: Option<i64>,
    /// With `service`: the worker or the agency of that service.
    against: Option<String>,
    worker: Option<i64>,
    agency: Option<i64>,
}

/// A service as the resident recognises it: what, when, who and from which agency.
fn service_line(s: &ServiceRow, lang: Lang) -> String {
    let what = ServiceKind::label_of(&s.service, lang.is_en());
    format!("{what} · {} · {} · {}", s.performed_on, s.worker_name, s.agency_name)
}

/// What the complaint is about, resolved from its origin and checked against the resident.
struct Subject {
    kind: SubjectKind,
    id: i64,
    name: String,
    service: Option<(i64, String)>,
}

async fn subject_of(state: &AppState, lang: Lang, me: i64, origin: &Origin) -> Result<Option<Subject>, AppError> {
    if let Some(service_id) = origin.service {
        // Only the resident's own service; another's is not found.
        let service = state.store.own_service(service_id, me).await?;
        let about = service_line(&service, lang);
        let subject = match origin.against.as_deref() {
            Some("agency") => Subject {
                kind: SubjectKind::Agency,
                id: service.agency_id,
                name: service.agency_name,
                service: Some((service_id, about)),
            },
            _ => Subject {
                kind: SubjectKind::Worker,
                id: service.worker_id,
                name: service.worker_name,
                service: Some((service_id, about)),
            },
        };
        return Ok(Some(subject));
    }
    if let Some(id) = origin.worker {
        let worker = state.store.worker(id).await?;
        // Two workers may share a name: the agencies they work for tell them apart.
        let agencies: Vec<String> = state
            .store
            .bindings_of_worker(id)
            .await?
            .into_iter()
            .filter(|b| b.status == "active")
            .map(|b| b.agency_name)
            .collect();
        let name =
            if agencies.is_empty() { worker.name } else { format!("{} · {}", worker.name, agencies.join("、")) };
        return Ok(Some(Subject { kind: SubjectKind::Worker, id, name, service: None }));
    }
    if let Some(id) = origin.agency {
        let agency = state.store.agency(id).await?;
        return Ok(Some(Subject { kind: SubjectKind::Agency, id, name: agency.name, service: None }));
    }
    Ok(None)
}

#[derive(Template)]
#[template(path = "complaint_form.html")]
struct ComplaintPage {
    chrome: Chrome,
    subject: Option<Subject>,
    /// The resident's services, to pick from when the page was opened without a subject.
    services: Vec<(i64, String)>,
    body: String,
    body_error: Option<String>,
    subject_error: Option<String>,
}

impl ComplaintPage {
    fn kind_label(&self, kind: &SubjectKind) -> String {
        self.chrome.t(match kind {
            SubjectKind::Worker => "complaints.worker",
            SubjectKind::Agency => "complaints.agency",
        })
    }
}

async fn page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    subject: Option<Subject>,
    body: String,
    errors: &FieldErrors,
) -> Result<ComplaintPage, AppError> {
    let me = resident(viewer)?;
    let services = if subject.is_none() {
        let rows = state.store.services_of_resident(me.account_id).await?;
        rows.iter().map(|s| (s.id, service_line(s, lang))).collect()
    } else {
        Vec::new()
    };
    let message = |field| super::field_message(errors, lang, field);
    Ok(ComplaintPage {
        chrome: Chrome::new(lang, viewer, "/my/complaints/new", lang.t("complaints.new")),
        subject,
        services,
        body,
        body_error: message("body"),
        subject_error: message("subject_id").or_else(|| message("service_id")).or_else(|| message("subject_kind")),
    })
}

async fn new_complaint(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(origin): Query<Origin>,
) -> Result<Response, AppError> {
    let me = resident(&viewer)?;
    let subject = subject_of(&state, lang, me.account_id, &origin).await?;
    render(&page(&state, lang, &viewer, subject, String::new(), &FieldErrors::default()).await?)
}

#[derive(Deserialize)]
struct ComplaintPost {
    csrf: String,
    #[serde(default)]
    service: Option<i64>,
    #[serde(default)]
    against: Option<String>,
    #[serde(default)]
    worker: Option<i64>,
    #[serde(default)]
    agency: Option<i64>,
    #[serde(default)]
    body: String,
}

async fn file(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<ComplaintPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = resident(&viewer)?;
    let origin = Origin { service: form.service, against: form.against, worker: form.worker, agency: form.agency };
    let subject = subject_of(&state, lang, me.account_id, &origin).await?;
    let outcome = match &subject {
        None => Err(AppError::Invalid(FieldErrors(vec![
            jiazheng_core::field::Invalid::new(
                "required",
                "请从服务记录、服务员或企业页面选择投诉对象",
                "choose what the complaint is about from a service, worker or agency page",
            )
            .at("subject_id"),
        ]))),
        Some(subject) => {
            let complaint = ComplaintForm {
                subject_kind: subject.kind.as_str().to_string(),
                subject_id: subject.id,
                service_id: subject.service.as_ref().map(|(id, _)| *id),
                body: form.body.clone(),
            }
            .parse()
            .map_err(AppError::Invalid);
            match complaint {
                Ok(complaint) => state.store.file_complaint(me.account_id, &complaint).await.map_err(AppError::from),
                Err(e) => Err(e),
            }
        }
    };
    match outcome {
        Ok(row) => Ok(Redirect::to(&format!("/my/services?filed={}#complaints", row.id)).into_response()),
        Err(AppError::Invalid(errors)) => {
            let page = page(&state, lang, &viewer, subject, form.body, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}
