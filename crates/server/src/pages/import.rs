//! Spreadsheet pages: the template, the upload with its error report, and the export.

use std::path::PathBuf;

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
        .route(
            "/agency/import",
            get(form).post(upload).layer(axum::extract::DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/agency/import/errors.xlsx", get(last_report))
        .route("/agency/workers.xlsx", get(export))
}

/// The last import's error report per account, written to disk (never held in memory) so it
/// can be downloaded after the page. One file per account, replaced by its next import.
pub struct ReportFiles(crate::files::Folder);

impl ReportFiles {
    pub fn new(dir: PathBuf) -> Self {
        Self(crate::files::Folder::at(dir))
    }

    pub fn temporary() -> Self {
        Self(crate::files::Folder::temporary("import-reports"))
    }

    fn name(account: i64) -> String {
        format!("import-errors-{account}.xlsx")
    }

    /// Writes the report (at most `MAX_REPORTED_ERRORS` rows), or removes an old one.
    fn save(&self, account: i64, errors: &[RowError]) -> Result<(), AppError> {
        if errors.is_empty() {
            self.0.remove(&Self::name(account));
            return Ok(());
        }
        self.0.write(&Self::name(account), &error_report(errors)?)
    }

    fn load(&self, account: i64) -> Option<Vec<u8>> {
        self.0.read(&Self::name(account))
    }
}

/// Refused cells shown on the page; the rest are in the downloadable report.
pub const ERRORS_SHOWN: usize = 100;

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
    kind_error: Option<String>,
    file_error: Option<String>,
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
        kind_error: None,
        file_error: None,
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
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(AppError::from)?.to_vec()),
            Some("csrf") => csrf = Some(field.text().await.map_err(AppError::from)?),
            Some("skip_invalid") => skip = true,
            Some("kind") => kind = field.text().await.map_err(AppError::from)?,
            _ => {}
        }
    }
    viewer.check_csrf(csrf.as_deref())?;
    let outcome = import(&state, session.principal.account_id, agency, file, skip, &kind).await;
    let (status, report, errors) = match outcome {
        Ok(report) => {
            let status = if report.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            (status, Some(report), Default::default())
        }
        // The page again, the choices kept and the error beside the field it is about.
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, None, errors),
        Err(other) => return Err(other),
    };
    let page = ImportPage {
        chrome: Chrome::new(lang, &viewer, "/agency/import", lang.t("import.title")),
        report,
        mode_skip: skip,
        kind,
        kind_error: super::field_message(&errors, lang, "kind"),
        file_error: super::field_message(&errors, lang, "file"),
    };
    Ok((status, render(&page)?).into_response())
}

/// Reads and writes one sheet; its refused rows are kept on disk for the download.
async fn import(
    state: &AppState,
    account: i64,
    agency: i64,
    file: Option<Vec<u8>>,
    skip: bool,
    kind: &str,
) -> Result<jiazheng_store::excel::ImportReport, AppError> {
    let bytes = file.filter(|f| !f.is_empty()).ok_or_else(|| {
        AppError::invalid("file", "required", "请选择要导入的 .xlsx 文件", "choose an .xlsx file to import")
    })?;
    let mode = if skip { ImportMode::SkipInvalid } else { ImportMode::AllOrNothing };
    // One import at a time; a second waits a while, then hears that the platform is busy.
    let _turn = tokio::time::timeout(std::time::Duration::from_secs(60), state.imports.acquire())
        .await
        .map_err(|_| AppError::Busy)?
        .map_err(|_| AppError::Busy)?;
    let report = match kind {
        "workers" => state.store.import_workers(bytes, agency, mode, today(), &|_, _| {}).await?,
        other => {
            let records = RecordKind::parse(other).ok_or_else(|| {
                AppError::invalid("kind", "unknown_choice", "请选择导入内容", "choose what the sheet holds")
            })?;
            state.store.import_records(records, bytes, agency, Some(account), mode, today(), &|_, _| {}).await?
        }
    };
    let errors = report.errors.clone();
    let files = state.reports.clone();
    tokio::task::spawn_blocking(move || files.save(account, &errors))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let mut report = report;
    report.errors.truncate(ERRORS_SHOWN);
    Ok(report)
}

async fn last_report(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let (session, _) = viewer.require_agency()?;
    let bytes = state.reports.load(session.principal.account_id).ok_or(AppError::NotFound)?;
    Ok(xlsx(bytes, "import-errors.xlsx"))
}

async fn export(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let (session, agency) = viewer.require_agency()?;
    let bytes = state.store.export_workers(agency, Some(session.principal.account_id)).await?;
    Ok(xlsx(bytes, "workers.xlsx"))
}
