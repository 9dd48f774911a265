//! Subsidy claims and rectification orders below the pages and the API: submitting a claim (a
//! unit already claimed answers 409 naming the earlier claim), the words a line is read in, and
//! reading a form that carries an evidence file.

use std::collections::HashMap;

use axum::extract::Multipart;
use jiazheng_core::account::Principal;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::claims::{ClaimForm, ClaimKind, LineProblem, unit_label};
use jiazheng_store::oversight::claims::{ClaimLine, Clash, Submitted};

use crate::{AppError, AppState};

/// A form's text fields (a name may repeat, as ticked boxes do) and its one file.
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: HashMap<String, Vec<String>>,
    pub file: Vec<u8>,
}

impl Upload {
    /// The first value of a field, or empty.
    pub fn get(&self, name: &str) -> String {
        self.fields.get(name).and_then(|v| v.first()).cloned().unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

/// Text fields are short; anything longer is cut before it is parsed (the parse then says so).
const MAX_FIELD_BYTES: usize = 8 * 1024;
/// The most fields a form may carry (a claim's ticked boxes and a few more).
const MAX_FIELDS: usize = jiazheng_core::oversight::claims::MAX_ITEMS + 20;

/// Reads a multipart form with one file field named `file_field`.
pub async fn read_upload(mut multipart: Multipart, file_field: &str) -> Result<Upload, AppError> {
    let mut upload = Upload::default();
    let mut count = 0;
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        count += 1;
        if count > MAX_FIELDS {
            return Err(AppError::TooLarge);
        }
        let name = field.name().unwrap_or_default().to_string();
        if name == file_field {
            upload.file = field.bytes().await.map_err(AppError::from)?.to_vec();
            continue;
        }
        let mut text = field.text().await.map_err(AppError::from)?;
        text.truncate(text.floor_char_boundary(MAX_FIELD_BYTES));
        upload.fields.entry(name).or_default().push(text);
    }
    Ok(upload)
}

/// An optional evidence file: nothing chosen is none; anything else must be a picture or a PDF.
pub fn optional_evidence(bytes: &[u8]) -> Result<Option<EvidenceType>, jiazheng_core::field::Invalid> {
    if bytes.is_empty() { Ok(None) } else { EvidenceType::sniff(bytes).map(Some) }
}

/// 409 naming the earlier claim: its number and the date it was submitted.
pub fn clash_error(kind: ClaimKind, clash: &Clash) -> AppError {
    let (zh, en) = (unit_label(kind, &clash.unit, false), unit_label(kind, &clash.unit, true));
    let what = match kind {
        ClaimKind::SocialInsurance | ClaimKind::PointRent => ("该月份", "that month"),
        _ => ("该项", "that item"),
    };
    AppError::Conflict {
        code: "already_claimed",
        message_zh: format!(
            "{}（{zh}）已在申报 {}（{} 提交）中申报，{}不能重复申报。",
            clash.subject_name, clash.number, clash.submitted_on, what.0
        ),
        message_en: format!(
            "{} ({en}) is already claimed in claim {} (submitted {}); {} cannot be claimed twice.",
            clash.subject_name, clash.number, clash.submitted_on, what.1
        ),
        // Another agency's claim is named, not opened.
        existing_id: clash.own.then_some(clash.claim_id),
    }
}

/// Makes a claim from a form and an optional evidence file; every field's mistake at once.
pub async fn submit(state: &AppState, who: &Principal, form: &ClaimForm, file: &[u8]) -> Result<i64, AppError> {
    let parsed = form.parse(beijing_today());
    let evidence = optional_evidence(file);
    let (draft, evidence) = match (parsed, evidence) {
        (Ok(draft), Ok(evidence)) => (draft, evidence),
        (parsed, evidence) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(e) = evidence {
                errors.0.push(e.at("evidence"));
            }
            return Err(AppError::Invalid(errors));
        }
    };
    match state.store.submit_claim(who, &draft, evidence.map(|kind| (file, kind))).await? {
        Submitted::Created(id) => Ok(id),
        Submitted::Taken(clash) => Err(clash_error(draft.kind, &clash)),
    }
}

/// What a line claims, as people read it: the month, or the course or certificate.
pub fn line_what(kind: ClaimKind, line: &ClaimLine, english: bool) -> String {
    let unit = unit_label(kind, &line.unit, english);
    match &line.record_name {
        Some(name) if !kind.per_month() => format!("{name} · {unit}"),
        _ => unit,
    }
}

/// A line's problems as one sentence; empty when it matches.
pub fn line_problems(line: &ClaimLine, english: bool) -> String {
    LineProblem::describe(&line.problems, english).join(if english { "; " } else { "；" })
}
