//! Subsidy claim pages. An agency lists its claims (`/agency/claims`), makes one by picking a
//! kind and months and ticking what it claims from its own records (`/agency/claims/new`), and
//! follows each. The regulator lists the claims of its area with the city's standard amounts
//! (`/regulator/claims`; the city's regulators set them), reads a claim line by line with what
//! matches and what does not, and decides.

use std::collections::HashSet;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::payment::yuan;
use jiazheng_core::market::subsidy::MAX_EVIDENCE_BYTES;
use jiazheng_core::oversight::claims::{
    ClaimDecision, ClaimDecisionForm, ClaimForm, ClaimKind, ClaimStatus, LineStatus, MonthRange, StandardForm,
    unit_label,
};
use jiazheng_core::workforce::CourseKind;
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::Viewing;
use jiazheng_store::oversight::claims::{ClaimCandidate, ClaimLine, ClaimRow};
use serde::Deserialize;

use super::{Chrome, Pager, field_message, render};
use crate::auth::Viewer;
use crate::claims::{line_problems, line_what, read_upload};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    // The evidence, and room for a claim's ticked boxes around it; larger bodies stop at the limit.
    let limit = DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 1024 * 1024);
    Router::new()
        .route("/agency/claims", get(list).post(create).layer(limit))
        .route("/agency/claims/new", get(new_claim))
        .route(
            "/agency/claims/new/sheet",
            post(pick_from_sheet).layer(DefaultBodyLimit::max(MAX_PICK_SHEET_BYTES + 64 * 1024)),
        )
        .route("/agency/claims/{id}", get(claim))
        .route("/claims/{id}/evidence", get(evidence))
        .route("/regulator/claims", get(list))
        .route("/regulator/claims/standards", post(set_standard))
        .route("/regulator/claims/{id}", get(claim))
        .route("/regulator/claims/{id}/decision", post(decide))
}

/// What the claim and rectification pages say: text in the page's language, a field's error.
pub(super) trait PageWords {
    fn chrome(&self) -> &Chrome;

    fn errors(&self) -> &FieldErrors {
        &NO_ERRORS
    }

    fn t(&self, zh: &'static str, en: &'static str) -> &'static str {
        self.chrome().lang.pick(zh, en)
    }

    fn err(&self, field: &str) -> Option<String> {
        field_message(self.errors(), self.chrome().lang, field)
    }
}

static NO_ERRORS: FieldErrors = FieldErrors(Vec::new());

/// Implements [`PageWords`] for a page with a `chrome` (and an `errors`) field.
macro_rules! page_words {
    ($page:ty) => {
        impl $crate::pages::claims::PageWords for $page {
            fn chrome(&self) -> &$crate::pages::Chrome {
                &self.chrome
            }

            fn errors(&self) -> &jiazheng_core::FieldErrors {
                &self.errors
            }
        }
    };
    ($page:ty, without_errors) => {
        impl $crate::pages::claims::PageWords for $page {
            fn chrome(&self) -> &$crate::pages::Chrome {
                &self.chrome
            }
        }
    };
}
pub(super) use page_words;

page_words!(ListPage);
page_words!(NewPage);
page_words!(ClaimPage);

fn kind_label(code: &str, lang: Lang) -> &'static str {
    ClaimKind::label_of(code, lang.is_en())
}

fn status_badge(code: &str) -> &'static str {
    match code {
        "approved" => "ok",
        "partly_approved" | "submitted" => "warn",
        _ => "bad",
    }
}

/// A claim's months as people read them.
fn period(c: &ClaimRow, lang: Lang) -> String {
    c.period().label(lang.is_en())
}

// ---- the lists ----------------------------------------------------------------------------

/// A kind with the city's standard amount, as the list shows it.
struct StandardLine {
    code: &'static str,
    label: &'static str,
    unit: &'static str,
    amount: Option<String>,
}

async fn standard_lines(state: &AppState, lang: Lang) -> Result<Vec<StandardLine>, AppError> {
    let set = state.store.claim_standards().await?;
    Ok(ClaimKind::ALL
        .iter()
        .map(|k| StandardLine {
            code: k.as_str(),
            label: k.label(lang.is_en()),
            unit: k.unit_label(lang.is_en()),
            amount: set.iter().find(|s| s.kind == k.as_str()).map(|s| yuan(s.amount_fen)),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "claims.html")]
struct ListPage {
    chrome: Chrome,
    regulator: bool,
    rows: Vec<ClaimRow>,
    pager: Pager,
    status: String,
    standards: Vec<StandardLine>,
    /// A city regulator: may set the standards.
    may_set: bool,
    errors: FieldErrors,
    typed_kind: String,
    typed_amount: String,
    saved: bool,
}

impl ListPage {
    fn kind(&self, c: &ClaimRow) -> &'static str {
        kind_label(&c.kind, self.chrome.lang)
    }

    fn status_label(&self, c: &ClaimRow) -> &'static str {
        ClaimStatus::label_of(&c.status, self.chrome.is_en())
    }

    fn badge(&self, c: &ClaimRow) -> &'static str {
        status_badge(&c.status)
    }

    fn period(&self, c: &ClaimRow) -> String {
        period(c, self.chrome.lang)
    }

    fn money(&self, fen: &i64) -> String {
        yuan(*fen)
    }

    fn date(&self, c: &ClaimRow) -> String {
        jiazheng_core::calendar::beijing_date(c.submitted_at).to_string()
    }

    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        ClaimStatus::ALL.iter().map(|s| (s.as_str(), s.label(self.chrome.is_en()))).collect()
    }

    fn link(&self, c: &ClaimRow) -> String {
        if self.regulator { format!("/regulator/claims/{}", c.id) } else { format!("/agency/claims/{}", c.id) }
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    status: String,
    page: Option<u32>,
    #[serde(default)]
    saved: Option<u8>,
}

async fn list_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    q: ListQuery,
    errors: FieldErrors,
    typed: (String, String),
) -> Result<ListPage, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let scope = Viewing::of(who).ok_or(AppError::Forbidden)?;
    let regulator = who.role == Role::Regulator;
    let status = ClaimStatus::parse(&q.status).ok();
    let page = state.store.subsidy_claims(&scope, status, PageRequest::new(q.page, None)).await?;
    let path = if regulator { "/regulator/claims" } else { "/agency/claims" };
    let code = status.map_or("", |s| s.as_str());
    Ok(ListPage {
        chrome: Chrome::new(lang, viewer, path, lang.pick("补贴申报", "Subsidy claims").into()),
        regulator,
        pager: Pager::new(&page, path, &format!("status={code}")),
        rows: page.items,
        status: code.to_string(),
        standards: standard_lines(state, lang).await?,
        may_set: regulator && who.scope == Scope::City,
        errors,
        typed_kind: typed.0,
        typed_amount: typed.1,
        saved: q.saved.is_some(),
    })
}

/// The agency's claims or the regulator's (the access table keeps each path to its role).
async fn list(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    render(&list_page(&state, lang, &viewer, q, FieldErrors::default(), Default::default()).await?)
}

#[derive(Deserialize)]
struct StandardPost {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
}

async fn set_standard(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<StandardPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    let form = StandardForm { kind: post.kind.clone(), amount: post.amount.clone() };
    let errors = match form.parse() {
        Ok((kind, fen)) => match state.store.set_claim_standard(&who, kind, fen).await {
            Ok(()) => return Ok(Redirect::to("/regulator/claims?saved=1#standards").into_response()),
            Err(jiazheng_store::StoreError::Invalid(errors)) => errors,
            Err(other) => return Err(other.into()),
        },
        Err(errors) => errors,
    };
    let page = list_page(&state, lang, &viewer, ListQuery::default(), errors, (post.kind, post.amount)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

// ---- making a claim -----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "claim_new.html")]
struct NewPage {
    chrome: Chrome,
    standards: Vec<StandardLine>,
    kind: String,
    from: String,
    to: String,
    note: String,
    /// The kind and months listed, once both parse.
    listed: Option<(ClaimKind, MonthRange)>,
    candidates: Vec<ClaimCandidate>,
    picked: HashSet<i64>,
    errors: FieldErrors,
    /// The earlier claim a unit is already in (409).
    clash: Option<String>,
    /// What a sheet of ID numbers ticked, and its rows that ticked nothing.
    sheet_summary: Option<String>,
    sheet_rows: Vec<String>,
}

impl NewPage {
    fn kind_code(&self) -> &'static str {
        self.listed.map_or("", |(k, _)| k.as_str())
    }

    fn items_label(&self) -> &'static str {
        self.listed.map_or("", |(k, _)| k.item_label(self.chrome.is_en()))
    }

    fn per_month(&self) -> bool {
        self.listed.is_some_and(|(k, _)| k.per_month())
    }

    fn months(&self) -> u32 {
        self.listed.map_or(0, |(_, p)| p.len())
    }

    fn period_label(&self) -> String {
        self.listed.map(|(_, p)| p.label(self.chrome.is_en())).unwrap_or_default()
    }

    fn ticked(&self, c: &ClaimCandidate) -> bool {
        self.picked.contains(&c.id)
    }

    /// What the candidate is, beyond its name.
    fn about(&self, c: &ClaimCandidate) -> String {
        let en = self.chrome.is_en();
        let Some((kind, _)) = self.listed else { return String::new() };
        match kind {
            ClaimKind::SocialInsurance => match c.date {
                Some(since) => format!("{} {since}", self.t("参保自", "insured since")),
                None => self.t("未登记本企业参保", "no social insurance recorded by this agency").to_string(),
            },
            ClaimKind::Training => {
                let course = c.kind.as_deref().map_or("", |k| CourseKind::label_of(k, en));
                format!("{} · {course} · {}", c.detail, c.date.map(|d| d.to_string()).unwrap_or_default())
            }
            ClaimKind::Appraisal => {
                let what = c.kind.as_deref().map(|k| unit_label(kind, k, en)).unwrap_or_default();
                format!("{what} · {} · {}", c.detail, c.date.map(|d| d.to_string()).unwrap_or_default())
            }
            ClaimKind::PointRent => {
                if c.ready {
                    c.detail.clone()
                } else {
                    format!("{} · {}", c.detail, self.t("已关闭", "closed"))
                }
            }
        }
    }

    /// Masked ID numbers are shown for workers, not for points or records.
    fn masked(&self, c: &ClaimCandidate) -> String {
        match self.listed {
            Some((ClaimKind::SocialInsurance, _)) => c.detail.clone(),
            _ => String::new(),
        }
    }
}

#[derive(Deserialize, Default)]
struct NewQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

struct Typed {
    kind: String,
    from: String,
    to: String,
    note: String,
    picked: Option<HashSet<i64>>,
}

async fn new_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    typed: Typed,
    mut errors: FieldErrors,
    clash: Option<String>,
) -> Result<NewPage, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let mut listed = None;
    let mut candidates = Vec::new();
    if !typed.kind.is_empty() || !typed.from.is_empty() {
        let kind = ClaimKind::parse(&typed.kind);
        let period = MonthRange::parse(&typed.from, &typed.to, beijing_today());
        match (kind, period) {
            (Ok(kind), Ok(period)) => {
                candidates = state.store.claim_candidates(agency, kind, &period).await?;
                listed = Some((kind, period));
            }
            (kind, period) => {
                // Shown beside the fields unless the post already said so.
                if errors.is_empty() {
                    if let Err(e) = kind {
                        errors.0.push(e.at("kind"));
                    }
                    if let Err(e) = period {
                        errors.0.extend(e.0);
                    }
                }
            }
        }
    }
    let picked = typed.picked.unwrap_or_else(|| candidates.iter().filter(|c| c.ready).map(|c| c.id).collect());
    Ok(NewPage {
        chrome: Chrome::new(lang, viewer, "/agency/claims", lang.pick("新的补贴申报", "New subsidy claim").into()),
        standards: standard_lines(state, lang).await?,
        kind: typed.kind,
        from: typed.from,
        to: typed.to,
        note: typed.note,
        listed,
        candidates,
        picked,
        errors,
        clash,
        sheet_summary: None,
        sheet_rows: Vec::new(),
    })
}

async fn new_claim(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let typed = Typed { kind: q.kind, from: q.from, to: q.to, note: String::new(), picked: None };
    render(&new_page(&state, lang, &viewer, typed, FieldErrors::default(), None).await?)
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (session, _) = viewer.require_agency()?;
    let who: Principal = session.principal.clone();
    let upload = read_upload(multipart, "evidence").await?;
    viewer.check_csrf(Some(&upload.get("csrf")))?;
    let form = ClaimForm {
        kind: upload.get("kind"),
        from: upload.get("from"),
        to: upload.get("to"),
        items: upload.all("items"),
        note: upload.get("note"),
    };
    let outcome = crate::claims::submit(&state, &who, &form, &upload.file).await;
    let (status, errors, clash) = match outcome {
        Ok(id) => return Ok(Redirect::to(&format!("/agency/claims/{id}?submitted=1")).into_response()),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors, None),
        Err(AppError::Conflict { code, message_zh, message_en, .. }) => {
            let message = lang.pick(&message_zh, &message_en).to_string();
            let errors = FieldErrors(vec![Invalid::new(code, message_zh, message_en).at("items")]);
            (StatusCode::CONFLICT, errors, Some(message))
        }
        Err(other) => return Err(other),
    };
    let picked = form.items.iter().filter_map(|i| i.trim().parse().ok()).collect();
    let typed = Typed { kind: form.kind, from: form.from, to: form.to, note: form.note, picked: Some(picked) };
    let page = new_page(&state, lang, &viewer, typed, errors, clash).await?;
    Ok((status, render(&page)?).into_response())
}

/// The largest sheet of ID numbers taken to tick workers.
const MAX_PICK_SHEET_BYTES: usize = 2 * 1024 * 1024;
/// The most rows of a sheet that ticked nothing listed on the page.
const MAX_SHEET_ROWS_SHOWN: usize = 50;

/// Ticks the workers of a sheet with an ID-number column (social insurance only): each row's
/// number is read, its worker found, and ticked when on the agency's list for the months; rows
/// that tick nothing are listed with the reason. Nothing is claimed until the form is sent.
async fn pick_from_sheet(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    multipart: Multipart,
) -> Result<Response, AppError> {
    viewer.require_agency()?;
    let upload = read_upload(multipart, "sheet").await?;
    viewer.check_csrf(Some(&upload.get("csrf")))?;
    let today = beijing_today();
    let mut typed = Typed {
        kind: upload.get("kind"),
        from: upload.get("from"),
        to: upload.get("to"),
        note: String::new(),
        picked: None,
    };
    let refuse = |zh: String, en: String| FieldErrors(vec![Invalid::new("bad_sheet", zh, en).at("sheet")]);
    let errors = if typed.kind != ClaimKind::SocialInsurance.as_str() {
        refuse(
            "只有社保补贴可以按表格勾选服务员".into(),
            "a sheet of workers ticks social insurance claims only".into(),
        )
    } else if upload.file.is_empty() {
        refuse("请选择表格文件".into(), "choose the sheet".into())
    } else {
        FieldErrors::default()
    };
    if !errors.is_empty() {
        let page = new_page(&state, lang, &viewer, typed, errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let columns = [("id_number", "身份证号", "ID number")];
    let read = tokio::task::spawn_blocking(move || jiazheng_store::excel::read_sheet(upload.file, &columns, |_| true))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let rows = match read {
        Ok(rows) if rows.len() <= jiazheng_core::oversight::claims::MAX_ITEMS => rows,
        Ok(_) => {
            let max = jiazheng_core::oversight::claims::MAX_ITEMS;
            let errors = refuse(format!("表格最多{max}行"), format!("the sheet may have at most {max} rows"));
            let page = new_page(&state, lang, &viewer, typed, errors, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
        Err(jiazheng_store::StoreError::BadSheet { zh, en }) => {
            let page = new_page(&state, lang, &viewer, typed, refuse(zh, en), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    let row_note = |row: usize, zh: &str, en: &str| {
        if lang.is_en() { format!("row {row}: {en}") } else { format!("第 {row} 行：{zh}") }
    };
    let mut numbers = Vec::new();
    let mut notes = Vec::new();
    for (row, cells) in &rows {
        let raw = cells.get("id_number").map(String::as_str).unwrap_or_default();
        match jiazheng_core::ids::ResidentId::parse(raw, today) {
            Ok(number) => numbers.push((*row, number.as_str().to_string())),
            Err(e) => notes.push(row_note(*row, &e.message_zh, &e.message_en)),
        }
    }
    let found = state.store.workers_by_id_number(numbers.iter().map(|(_, n)| n.as_str())).await?;
    typed.picked = Some(found.values().copied().collect());
    let mut page = new_page(&state, lang, &viewer, typed, FieldErrors::default(), None).await?;
    let listed: HashSet<i64> = page.candidates.iter().map(|c| c.id).collect();
    let mut ticked = 0;
    for (row, number) in &numbers {
        match found.get(number) {
            Some(worker) if listed.contains(worker) => ticked += 1,
            // One answer for "not yours" and "not registered": a sheet must not tell an agency
            // who is on the platform (that answer is counted elsewhere).
            _ => notes.push(row_note(
                *row,
                "不是本企业这段时间的员工制服务员（或未在平台登记）",
                "not an employee-based worker of yours in these months (or not registered)",
            )),
        }
    }
    page.picked.retain(|id| listed.contains(id));
    page.sheet_summary = Some(format!(
        "{} {} {}，{} {} {}",
        lang.pick("表格共", "The sheet has"),
        rows.len(),
        lang.pick("行", "rows"),
        lang.pick("已勾选", "ticked"),
        ticked,
        lang.pick("人；请核对后提交", "workers; check and submit")
    ));
    let more = notes.len().saturating_sub(MAX_SHEET_ROWS_SHOWN);
    notes.truncate(MAX_SHEET_ROWS_SHOWN);
    if more > 0 {
        notes.push(format!("{} {more} {}", lang.pick("另有", "and"), lang.pick("行未列出", "more rows")));
    }
    page.sheet_rows = notes;
    render(&page)
}

// ---- one claim ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    chrome: Chrome,
    claim: ClaimRow,
    kind: ClaimKind,
    lines: Vec<ClaimLine>,
    pager: Pager,
    mismatching: bool,
    problems: Vec<(&'static str, i64)>,
    regulator: bool,
    path: String,
    submitted: bool,
    decided: bool,
    errors: FieldErrors,
    decision: String,
    reason: String,
    chosen: HashSet<i64>,
}

impl ClaimPage {
    fn kind_label(&self) -> &'static str {
        self.kind.label(self.chrome.is_en())
    }

    fn status_label(&self) -> &'static str {
        ClaimStatus::label_of(&self.claim.status, self.chrome.is_en())
    }

    fn badge(&self) -> &'static str {
        status_badge(&self.claim.status)
    }

    fn period(&self) -> String {
        period(&self.claim, self.chrome.lang)
    }

    fn money(&self, fen: &i64) -> String {
        yuan(*fen)
    }

    fn what(&self, l: &ClaimLine) -> String {
        line_what(self.kind, l, self.chrome.is_en())
    }

    fn problems_of(&self, l: &ClaimLine) -> String {
        line_problems(l, self.chrome.is_en())
    }

    fn line_status(&self, l: &ClaimLine) -> &'static str {
        LineStatus::label_of(&l.status, self.chrome.is_en())
    }

    fn may_decide(&self) -> bool {
        self.regulator && self.claim.is_open()
    }

    fn ticked(&self, l: &ClaimLine) -> bool {
        self.decision == ClaimDecision::Chosen.as_str() && self.chosen.contains(&l.id)
    }

    fn decisions(&self) -> Vec<(&'static str, &'static str)> {
        ClaimDecision::ALL.iter().map(|d| (d.as_str(), d.label(self.chrome.is_en()))).collect()
    }

    fn mismatched(&self) -> i64 {
        self.claim.lines - self.claim.matching
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::beijing_minutes(*at)
    }
}

#[derive(Deserialize, Default)]
struct ClaimQuery {
    #[serde(default)]
    mismatching: Option<u8>,
    page: Option<u32>,
    #[serde(default)]
    submitted: Option<u8>,
    decided: Option<u8>,
}

struct DecisionTyped {
    decision: String,
    reason: String,
    chosen: HashSet<i64>,
}

async fn claim_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    q: ClaimQuery,
    errors: FieldErrors,
    typed: DecisionTyped,
) -> Result<ClaimPage, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let claim = state.store.subsidy_claim(id, who).await?;
    let kind = claim.kind().ok_or_else(|| AppError::Internal("claim of an unknown kind".into()))?;
    let mismatching = q.mismatching.is_some();
    let lines = state.store.claim_lines(&claim, mismatching, PageRequest::new(q.page, Some(50))).await?;
    let regulator = who.role == Role::Regulator;
    let path = if regulator { format!("/regulator/claims/{id}") } else { format!("/agency/claims/{id}") };
    let problems =
        state.store.claim_problem_counts(id).await?.into_iter().map(|(p, n)| (p.label(lang.is_en()), n)).collect();
    let base = if mismatching { "mismatching=1" } else { "" };
    Ok(ClaimPage {
        chrome: Chrome::new(
            lang,
            viewer,
            if regulator { "/regulator/claims" } else { "/agency/claims" },
            format!("{} {}", lang.pick("补贴申报", "Subsidy claim"), claim.number()),
        ),
        pager: Pager::new(&lines, &path, base),
        lines: lines.items,
        kind,
        mismatching,
        problems,
        regulator,
        path,
        submitted: q.submitted.is_some(),
        decided: q.decided.is_some(),
        claim,
        errors,
        // Nothing is preselected: money moves only on a decision the regulator picked.
        decision: typed.decision,
        reason: typed.reason,
        chosen: typed.chosen,
    })
}

fn untyped() -> DecisionTyped {
    DecisionTyped { decision: String::new(), reason: String::new(), chosen: HashSet::new() }
}

/// One claim, for its agency or a regulator over it (the access table keeps each path to its role).
async fn claim(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<ClaimQuery>,
) -> Result<Response, AppError> {
    render(&claim_page(&state, lang, &viewer, id, q, FieldErrors::default(), untyped()).await?)
}

async fn decide(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let value = |name: &str| body.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    viewer.check_csrf(Some(&value("csrf")))?;
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    state.store.subsidy_claim(id, &who).await?;
    let form = ClaimDecisionForm {
        decision: value("decision"),
        lines: body.iter().filter(|(k, _)| k == "lines").map(|(_, v)| v.clone()).take(10_000).collect(),
        reason: value("reason").chars().take(2000).collect(),
    };
    let result = match form.parse() {
        Ok(verdict) => state.store.decide_claim(id, &who, &verdict).await.map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let (status, errors) = match result {
        Ok(_) => return Ok(Redirect::to(&format!("/regulator/claims/{id}?decided=1")).into_response()),
        Err(AppError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
        Err(AppError::Conflict { code, message_zh, message_en, .. }) => {
            (StatusCode::CONFLICT, FieldErrors(vec![Invalid::new(code, message_zh, message_en).at("decision")]))
        }
        Err(other) => return Err(other),
    };
    let typed = DecisionTyped {
        chosen: form.lines.iter().filter_map(|l| l.parse().ok()).collect(),
        decision: form.decision,
        reason: form.reason,
    };
    let page = claim_page(&state, lang, &viewer, id, ClaimQuery::default(), errors, typed).await?;
    Ok((status, render(&page)?).into_response())
}

async fn evidence(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, AppError> {
    let who = &viewer.require_role(&[Role::AgencyAdmin, Role::Regulator])?.principal;
    let (kind, bytes) = state.store.claim_evidence(id, who).await?;
    Ok(crate::files::evidence_response(kind, bytes, &format!("claim-{id}")))
}
