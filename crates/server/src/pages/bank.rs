//! The bank's desk (信易贷): the credit reports agencies released to this bank, each with its
//! content and whether the platform's signature over it still checks out. A bank sees only what
//! was released to it by the agency's consent.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use jiazheng_store::PageRequest;
use jiazheng_store::credit::reports::BankReportLine;

use super::{Chrome, Pager, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/bank", get(desk)).route("/bank/reports/{id}", get(report))
}

fn own_bank(viewer: &Viewer) -> Result<i64, AppError> {
    viewer.require()?.principal.bank_id().ok_or(AppError::Forbidden)
}

#[derive(serde::Deserialize)]
struct PageParam {
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "bank.html")]
struct DeskPage {
    chrome: Chrome,
    bank: String,
    reports: Vec<BankReportLine>,
    pager: Pager,
}

impl DeskPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::beijing_minutes(*at)
    }
}

async fn desk(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<PageParam>,
) -> Result<Response, AppError> {
    let bank = own_bank(&viewer)?;
    let reports = state.store.reports_for_bank(bank, PageRequest::new(q.page, Some(20))).await?;
    render(&DeskPage {
        chrome: Chrome::new(lang, &viewer, "/bank", lang.t("bank.title")),
        bank: state.store.bank(bank).await?.name,
        pager: Pager::new(&reports, "/bank", ""),
        reports: reports.items,
    })
}

#[derive(Template)]
#[template(path = "bank_report.html")]
struct ReportPage {
    chrome: Chrome,
    consented_at: String,
    agency: Vec<(&'static str, String)>,
    grade: String,
    grade_rows: Vec<[String; 3]>,
    standing: Vec<(&'static str, String)>,
    actions: Vec<[String; 5]>,
    /// The content hashes to the stored digest and the platform's key signed it.
    genuine: bool,
    digest: String,
}

async fn report(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let bank = own_bank(&viewer)?;
    let report = state.store.released_report(id).await?;
    // Another bank's report is as good as missing.
    if report.bank_id != Some(bank) {
        return Err(AppError::NotFound);
    }
    let content: serde_json::Value = serde_json::from_str(&report.content).unwrap_or_default();
    let keys = state.public_keys().await?;
    let digest = jiazheng_core::credit::report::digest(&content);
    let key = keys.iter().find(|k| i64::from(k.key_id) == report.key_id).and_then(|k| k.verifying_key());
    let genuine = digest.as_slice() == report.digest.as_slice()
        && key.is_some_and(|key| jiazheng_core::credit::report::is_valid(&key, &digest, &report.signature));
    use crate::report::{action_rows, agency_rows, grade_rows, standing_rows, text};
    render(&ReportPage {
        chrome: Chrome::new(lang, &viewer, "/bank", lang.t("bank.report")),
        consented_at: super::beijing_minutes(report.consented_at),
        agency: agency_rows(&content),
        grade: format!("{} · {}", text(&content["grade"]["letter"]), text(&content["grade"]["score"])),
        grade_rows: grade_rows(&content),
        standing: standing_rows(&content),
        actions: action_rows(&content),
        genuine,
        digest: hex::encode(&report.digest),
    })
}
