//! Spreadsheet pages: the template, the upload with its error report, and the export.

use std::collections::HashMap;
use std::sync::Mutex;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiazheng_store::excel::{ImportMode, ImportReport, RowError, error_report, worker_template};
use jiazheng_store::workforce::import::RecordKind;

use super::{Chrome, render};
use crate::api::workers::today;
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates/{name}", get(template))
        .route("/agency/import", get(form).post(upload))
        .route("/agency/import/errors.xlsx", get(last_report))
        .route("/agency/workers.xlsx", get(export))
}

/// The last import's refused rows per account, so the report can be downloaded after the page.
#[derive(Default)]
pub struct ReportCache(Mutex<HashMap<i64, Vec<RowError>>>);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn xlsx(bytes: Vec<u8>, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, XLSX.to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// `workers.xlsx`, or the sheet of one record kind (`training.xlsx`, `health.xlsx` ...).
async fn template(axum::extract::Path(name): axum::extract::Path<String>) -> Result<Response, AppError> {
    let kind = name.strip_suffix(".xlsx").ok_or(AppError::NotFound)?;
    let bytes = match kind {
        "workers" => worker_template()?,
        other => RecordKind::parse(other).ok_or(AppError::NotFound)?.template()?,
    };
    Ok(xlsx(bytes, &format!("{kind}-template.xlsx")))
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    report: Option<ImportReport>,
    mode_skip: bool,
    kind: String,
}

impl ImportPage {
    /// What a sheet may hold: workers, or one kind of workforce record.
    fn kinds(&self) -> Vec<(&'static str, String)> {
        std::iter::once(("workers", self.chrome.t("import.kind_workers")))
            .chain(RecordKind::ALL.iter().map(|k| (k.code(), k.label(self.chrome.is_en()).to_string())))
            .collect()
    }
}

async fn form(lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    viewer.require_agency()?;
    render(&ImportPage {
        chrome: Chrome::new(lang, &viewer, "/agency/import", lang.t("import.title")),
        report: None,
        mode_skip: false,
        kind: "workers".into(),
    })
}

async fn upload(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (session, agency) = viewer.require_agency()?;
    let mut file = None;
    let mut csrf = None;
    let mut skip = false;
    let mut kind = String::from("workers");
    while let Some(field) = multipart.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(|e| AppError::BadRequest(e.body_text()))?.to_vec()),
            Some("csrf") => csrf = Some(field.text().await.map_err(|e| AppError::BadRequest(e.body_text()))?),
            Some("skip_invalid") => skip = true,
            Some("kind") => kind = field.text().await.map_err(|e| AppError::BadRequest(e.body_text()))?,
            _ => {}
        }
    }
    viewer.check_csrf(csrf.as_deref())?;
    let bytes = file.filter(|f| !f.is_empty()).ok_or_else(|| {
        AppError::invalid("file", "required", "请选择要导入的 .xlsx 文件", "choose an .xlsx file to import")
    })?;
    let mode = if skip { ImportMode::SkipInvalid } else { ImportMode::AllOrNothing };
    let account = Some(session.principal.account_id);
    let report = match kind.as_str() {
        "workers" => state.store.import_workers(bytes, agency, mode, today(), &|_, _| {}).await?,
        other => {
            let records = RecordKind::parse(other).ok_or_else(|| {
                AppError::invalid("kind", "unknown_choice", "请选择导入内容", "choose what the sheet holds")
            })?;
            let report = state.store.import_records(records, bytes, agency, account, mode, today(), &|_, _| {}).await?;
            state.door.forget(|_| true);
            report
        }
    };
    state
        .reports
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(session.principal.account_id, report.errors.clone());
    let status = if report.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = ImportPage {
        chrome: Chrome::new(lang, &viewer, "/agency/import", lang.t("import.title")),
        report: Some(report),
        mode_skip: skip,
        kind,
    };
    Ok((status, render(&page)?).into_response())
}

async fn last_report(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let (session, _) = viewer.require_agency()?;
    let errors = state.reports.0.lock().unwrap_or_else(|e| e.into_inner()).get(&session.principal.account_id).cloned();
    let errors = errors.ok_or(AppError::NotFound)?;
    Ok(xlsx(error_report(&errors)?, "import-errors.xlsx"))
}

async fn export(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let (session, agency) = viewer.require_agency()?;
    let bytes = state.store.export_workers(agency, Some(session.principal.account_id)).await?;
    Ok(xlsx(bytes, "workers.xlsx"))
}
