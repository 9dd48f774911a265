//! The agency credit report for a bank (信易贷): the agency's consent recorded, the content
//! signed, and a PDF with Chinese text laid out by Typst from `report/credit_report.typ`.

use std::sync::{Arc, OnceLock};

use jiazheng_store::credit::reports::ReleasedReport;
use serde::Deserialize;
use serde_json::{Value, json};
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};

use crate::api::workers::today;
use crate::{AppError, AppState};

const TEMPLATE: &str = include_str!("../report/credit_report.typ");

/// Where Debian's CJK fonts live; `JIAZHENG_FONT` names another file.
const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// The engine is built once: reading and parsing a CJK font collection takes a while.
fn engine() -> Result<&'static TypstEngine<TypstTemplateMainFile>, AppError> {
    static ENGINE: OnceLock<Option<TypstEngine<TypstTemplateMainFile>>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let from_env = std::env::var("JIAZHENG_FONT").ok();
            let font = from_env
                .iter()
                .map(String::as_str)
                .chain(FONT_CANDIDATES.iter().copied())
                .find_map(|path| std::fs::read(path).ok());
            let Some(font) = font else {
                tracing::error!("no CJK font found; install fonts-noto-cjk or set JIAZHENG_FONT");
                return None;
            };
            Some(TypstEngine::builder().main_file(TEMPLATE).fonts([font]).build())
        })
        .as_ref()
        .ok_or_else(|| AppError::Internal("no CJK font for PDF reports".into()))
}

/// Long hex strings broken into groups so that they wrap on the page.
fn grouped(hex: &str) -> String {
    hex.as_bytes().chunks(16).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReportRequest {
    /// The bank the report is released to, picked from `GET /api/v1/banks`; only its accounts
    /// (besides the agency and regulators over it) read the released report.
    pub bank_id: Option<i64>,
    pub purpose: String,
    /// The agency consents to the release (must be true).
    pub consent: bool,
}

/// The report's content: what is signed, and what the PDF shows.
async fn content(state: &AppState, agency_id: i64, bank: &str, purpose: &str) -> Result<Value, AppError> {
    let store = &state.store;
    let agency = store.agency(agency_id).await?;
    let grade = crate::api::credit::agency_grade_of(state, agency_id).await?;
    let credit = store.agency_credit(agency_id).await?;
    let workforce = store.agency_workforce(agency_id).await?;
    let list_status = credit.listings.first().map_or("未列入 Not listed".to_string(), |l| {
        let list = jiazheng_core::credit::casework::CreditList::label_of(&l.list, false);
        format!("{list} · {} · {}", l.reason, l.document)
    });
    let actions: Vec<Value> = credit
        .actions
        .iter()
        .map(|e| {
            let p: Value = serde_json::from_str(&e.payload).unwrap_or_default();
            let kind = jiazheng_core::credit::EntryKind::label_of(&e.kind, false);
            json!({ "decided_on": p["decided_on"], "kind": kind, "authority": p["authority"],
                "document": p["document"], "reason": p["reason"] })
        })
        .collect();
    let lines: Vec<Value> = grade
        .contributions
        .iter()
        .map(|c| {
            let entries = c.entries.iter().map(|e| format!("#{e}")).collect::<Vec<_>>().join(" ");
            json!({ "reason": format!("{} {}", c.reason_zh, c.reason_en), "points": format!("{:+.1}", c.points),
                "entries": entries })
        })
        .collect();
    Ok(json!({
        "platform": "长春家政服务平台 Changchun Home Services",
        "agency": { "name": agency.name, "uscc": agency.uscc, "legal_representative": agency.legal_representative,
            "address": format!("{} {} {}", agency.district_name, agency.street_name, agency.address) },
        "bank": bank,
        "purpose": purpose,
        "generated_at": today().to_string(),
        "grade": { "letter": grade.letter.to_string(), "score": format!("{:.1}", grade.score), "lines": lines },
        "list_status": list_status,
        "confirmed_services": credit.confirmed_services.to_string(),
        "upheld_complaints": credit.upheld_complaints.to_string(),
        "complaint_rate": credit.complaint_rate.map_or("—".to_string(), |r| format!("{r}%")),
        "false_entries": credit.false_entries.to_string(),
        "employees": workforce.employees.to_string(),
        "actions": actions,
    }))
}

/// Records the agency's consent, signs the content and lays out the PDF.
pub async fn release(
    state: &AppState,
    agency_id: i64,
    account_id: i64,
    consented_by: &str,
    request: &ReportRequest,
) -> Result<(ReleasedReport, Vec<u8>), AppError> {
    let mut errors = jiazheng_core::FieldErrors::default();
    let bank = match request.bank_id {
        Some(id) => state.store.bank(id).await.ok(),
        None => None,
    };
    if bank.is_none() {
        errors.0.push(
            jiazheng_core::field::Invalid::new("required", "请选择接收报告的银行", "choose the bank to release to")
                .at("bank_id"),
        );
    }
    let purpose = errors.take("purpose", jiazheng_core::field::required_text(&request.purpose, 200));
    if !request.consent {
        errors.0.push(
            jiazheng_core::field::Invalid::new(
                "consent",
                "须企业授权后方可导出",
                "the agency must consent to the release",
            )
            .at("consent"),
        );
    }
    let (Some(bank), Some(purpose), true) = (bank, purpose, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let engine = engine()?;
    let content = content(state, agency_id, &bank.name, &purpose).await?;
    let released = state.store.release_credit_report(agency_id, &bank, &purpose, account_id, &content).await?;
    let mut shown = content;
    shown["report_id"] = json!(released.id.to_string());
    shown["consented_by"] = json!(consented_by);
    shown["key_id"] = json!(released.key_id.to_string());
    shown["digest"] = json!(grouped(&hex::encode(&released.digest)));
    shown["signature"] = json!(grouped(&hex::encode(&released.signature)));
    shown["verify_url"] = json!(format!("/api/v1/credit/reports/{}", released.id));
    let data = Arc::new(shown.to_string());
    // Layout is CPU work: keep it off the async workers.
    let pdf = tokio::task::spawn_blocking(move || {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), data.as_str().into_value());
        let document = engine.compile_with_input(inputs).output.map_err(|e| format!("typst: {e:?}"))?;
        typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|e| format!("pdf: {e:?}"))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(AppError::Internal)?;
    Ok((released, pdf))
}
