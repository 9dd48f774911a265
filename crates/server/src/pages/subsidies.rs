//! Subsidised service pages: community staff register residents in need and follow their quotas;
//! regulators set each district's yearly budget; staff, regulators and agencies read the
//! month's statement with its audit list.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use chrono::Datelike;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::market::payment::yuan;
use jiazheng_core::market::subsidy::{EvidenceType, GrantForm, MAX_EVIDENCE_BYTES, QuotaKind, SubsidyCategory};
use jiazheng_store::market::subsidies::{BudgetRow, GrantRow, StatementScope, staff_district};
use jiazheng_store::{PageRequest, StoreError};
use serde::Deserialize;

use super::{Chrome, Pager, field_message, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::subsidies::MonthStatement;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    // The evidence and a little room for the form around it; larger bodies stop at the limit.
    let limit = axum::extract::DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 64 * 1024);
    Router::new()
        .route("/community/subsidies", get(grants).post(register).layer(limit))
        .route("/community/subsidies/new", get(new_grant))
        .route("/community/subsidies/{id}", get(grant))
        .route("/community/subsidies/{id}/evidence", get(evidence))
        .route("/community/subsidies/{id}/revoke", post(revoke))
        .route("/subsidies/statement", get(statement))
        .route("/subsidies/statement.xlsx", get(statement_file))
        .route("/regulator/subsidies", get(budgets).post(set_budget))
}

/// Share of `part` in `whole` as a bar width 0–100.
fn width(part: i64, whole: Option<i64>) -> i64 {
    match whole {
        Some(w) if w > 0 => (part.saturating_mul(100) / w).clamp(0, 100),
        _ => 0,
    }
}

fn category_label(code: &str, lang: Lang) -> &'static str {
    SubsidyCategory::label_of(code, lang.is_en())
}

/// A district's budget as both pages show it: the sentence, the bar, what is promised.
struct BudgetLine {
    district_code: String,
    district_name: String,
    text: String,
    /// Spent, as a bar width 0–100; `None` while no budget is set.
    spent_width: Option<i64>,
    promised: String,
    grants: i64,
}

impl BudgetLine {
    fn new(b: BudgetRow, lang: Lang) -> Self {
        Self {
            text: budget_text(&b, lang),
            spent_width: b.amount_fen.map(|a| width(b.spent_fen, Some(a))),
            promised: yuan(b.promised_fen),
            grants: b.grants,
            district_code: b.district_code,
            district_name: b.district_name,
        }
    }
}

fn budget_text(b: &BudgetRow, lang: Lang) -> String {
    match b.amount_fen {
        Some(amount) => format!(
            "{} {} · {} {} · {} {}",
            lang.pick("预算", "budget"),
            yuan(amount),
            lang.pick("已支出", "spent"),
            yuan(b.spent_fen),
            lang.pick("剩余", "left"),
            yuan((amount - b.spent_fen).max(0))
        ),
        None => lang.pick("尚未设定预算", "no budget set").to_string(),
    }
}

// ---- community staff: the list ------------------------------------------------------------

#[derive(Template)]
#[template(path = "subsidies.html")]
struct GrantsPage {
    chrome: Chrome,
    year: i32,
    years: [i32; 2],
    budget: Option<BudgetLine>,
    rows: Vec<GrantRow>,
    pager: Pager,
    q: String,
    registered: bool,
}

impl GrantsPage {
    fn category(&self, code: &str) -> &'static str {
        category_label(code, self.chrome.lang)
    }

    fn quota(&self, g: &GrantRow) -> String {
        g.quota().show(g.quota_amount, self.chrome.is_en())
    }

    fn used(&self, g: &GrantRow) -> String {
        g.quota().show(g.used, self.chrome.is_en())
    }

    fn used_width(&self, g: &GrantRow) -> i64 {
        width(g.used, Some(g.quota_amount))
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    year: Option<i32>,
    #[serde(default)]
    q: String,
    page: Option<u32>,
    #[serde(default)]
    registered: Option<u8>,
}

async fn grants(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff])?;
    let district = staff_district(&session.principal)?;
    let year = crate::subsidies::year_or_this(q.year);
    let search: String = q.q.chars().take(jiazheng_store::market::subsidies::MAX_SEARCH_CHARS).collect();
    let page =
        state.store.subsidy_grants(Some(district.as_str()), year, &search, PageRequest::new(q.page, None)).await?;
    let budget = state.store.subsidy_budgets(year, Some(district.as_str())).await?.into_iter().next();
    let budget = budget.map(|b| BudgetLine::new(b, lang));
    let base = format!("year={year}&q={}", super::encode(&search));
    let this = beijing_today().year();
    render(&GrantsPage {
        chrome: Chrome::new(lang, &viewer, "/community/subsidies", lang.pick("补贴服务", "Subsidised service").into()),
        year,
        years: [this, this + 1],
        budget,
        pager: Pager::new(&page, "/community/subsidies", &base),
        rows: page.items,
        q: search,
        registered: q.registered.is_some(),
    })
}

// ---- community staff: registering ---------------------------------------------------------

/// A street and its communities, for the picker.
struct StreetChoices {
    name: String,
    communities: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "subsidy_form.html")]
struct GrantFormPage {
    chrome: Chrome,
    form: GrantForm,
    streets: Vec<StreetChoices>,
    years: [i32; 2],
    errors: FieldErrors,
}

impl GrantFormPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn categories(&self) -> Vec<(&'static str, &'static str)> {
        SubsidyCategory::ALL.iter().map(|c| (c.as_str(), c.label(self.chrome.is_en()))).collect()
    }

    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        QuotaKind::ALL.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }
}

async fn form_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: GrantForm,
    errors: FieldErrors,
) -> Result<GrantFormPage, AppError> {
    let district = staff_district(&viewer.require_role(&[Role::CommunityStaff])?.principal)?;
    let mut streets = Vec::new();
    for street in state.store.child_divisions(Some(district.as_str())).await? {
        let communities = state.store.child_divisions(Some(&street.code)).await?;
        streets.push(StreetChoices {
            name: street.name,
            communities: communities.into_iter().map(|c| (c.code, c.name)).collect(),
        });
    }
    let this = beijing_today().year();
    Ok(GrantFormPage {
        chrome: Chrome::new(
            lang,
            viewer,
            "/community/subsidies/new",
            lang.pick("登记补贴对象", "Register a resident").into(),
        ),
        form,
        streets,
        years: [this, this + 1],
        errors,
    })
}

async fn new_grant(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let form = GrantForm { year: beijing_today().year().to_string(), ..GrantForm::default() };
    render(&form_page(&state, lang, &viewer, form, FieldErrors::default()).await?)
}

/// Text fields are short; anything longer is cut before it is parsed (the parse then says so).
const MAX_FIELD_BYTES: usize = 1024;

async fn register(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let district = staff_district(&who)?;
    let mut form = GrantForm::default();
    let mut csrf = None;
    let mut file = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(AppError::from)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "evidence" {
            file = field.bytes().await.map_err(AppError::from)?.to_vec();
            continue;
        }
        let mut text = field.text().await.map_err(AppError::from)?;
        text.truncate(text.floor_char_boundary(MAX_FIELD_BYTES));
        match name.as_str() {
            "csrf" => csrf = Some(text),
            "legal_name" => form.legal_name = text,
            "phone" => form.phone = text,
            "id_number" => form.id_number = text,
            "category" => form.category = text,
            "community" => form.community = text,
            "year" => form.year = text,
            "quota_kind" => form.quota_kind = text,
            "quota_amount" => form.quota_amount = text,
            "evidence_note" => form.evidence_note = text,
            _ => {}
        }
    }
    viewer.check_csrf(csrf.as_deref())?;
    let parsed = form.parse(&district, beijing_today());
    let kind = EvidenceType::sniff(&file);
    let (draft, kind) = match (parsed, kind) {
        (Ok(draft), Ok(kind)) => (draft, kind),
        (parsed, kind) => {
            let mut errors = parsed.err().unwrap_or_default();
            if let Err(e) = kind {
                errors.0.push(e.at("evidence"));
            }
            return refused(&state, lang, &viewer, form, errors).await;
        }
    };
    match state.store.register_subsidy_grant(&who, &draft, &file, kind).await {
        Ok(_) => Ok(Redirect::to(&format!("/community/subsidies?year={}&registered=1", draft.year)).into_response()),
        Err(StoreError::Invalid(errors)) => refused(&state, lang, &viewer, form, errors).await,
        Err(other) => Err(other.into()),
    }
}

async fn refused(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: GrantForm,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let page = form_page(state, lang, viewer, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

// ---- one grant ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "subsidy.html")]
struct GrantPage {
    chrome: Chrome,
    g: GrantRow,
    may_revoke: bool,
    errors: FieldErrors,
}

impl GrantPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn category(&self) -> &'static str {
        category_label(&self.g.category, self.chrome.lang)
    }

    fn quota(&self) -> String {
        self.g.quota().show(self.g.quota_amount, self.chrome.is_en())
    }

    fn used(&self) -> String {
        self.g.quota().show(self.g.used, self.chrome.is_en())
    }

    fn left(&self) -> String {
        self.g.quota().show(self.g.left(), self.chrome.is_en())
    }

    fn used_width(&self) -> i64 {
        width(self.g.used, Some(self.g.quota_amount))
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&jiazheng_core::calendar::beijing()).format("%Y-%m-%d %H:%M").to_string()
    }
}

async fn grant_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    errors: FieldErrors,
) -> Result<GrantPage, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let g = state.store.subsidy_grant(id, &session.principal).await?;
    Ok(GrantPage {
        chrome: Chrome::new(lang, viewer, "/community/subsidies", lang.pick("补贴对象", "Subsidised resident").into()),
        may_revoke: session.principal.role == Role::CommunityStaff && g.is_live(),
        g,
        errors,
    })
}

async fn grant(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&grant_page(&state, lang, &viewer, id, FieldErrors::default()).await?)
}

/// The evidence as it was uploaded, shown inline but never run: a PDF or picture only, with
/// a policy that allows no script.
async fn evidence(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let (kind, bytes) = state.store.subsidy_evidence(id, &session.principal).await?;
    Ok(crate::files::evidence_response(kind, bytes, &format!("evidence-{id}")))
}

#[derive(Deserialize)]
struct RevokePost {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn revoke(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(post): Form<RevokePost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    match state.store.revoke_subsidy_grant(id, &who, &post.reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/community/subsidies/{id}")).into_response()),
        Err(StoreError::Invalid(errors)) => {
            let page = grant_page(&state, lang, &viewer, id, errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

// ---- the month's statement ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "subsidy_statement.html")]
struct StatementPage {
    chrome: Chrome,
    month: String,
    error: Option<String>,
    statement: Option<MonthStatement>,
}

impl StatementPage {
    fn total(&self) -> String {
        yuan(self.statement.as_ref().map_or(0, MonthStatement::charged_fen))
    }

    fn oddity<'a>(&self, pair: &'a (String, String)) -> &'a str {
        self.chrome.lang.pick(&pair.0, &pair.1)
    }

    fn scope(&self) -> String {
        match self.statement.as_ref().map(|s| &s.scope) {
            Some(StatementScope::Agency(_)) => {
                self.chrome.lang.pick("本企业的补贴订单", "Your agency's subsidised orders")
            }
            Some(StatementScope::District(_)) => {
                self.chrome.lang.pick("本区的补贴订单", "Your district's subsidised orders")
            }
            _ => self.chrome.lang.pick("全市的补贴订单", "The city's subsidised orders"),
        }
        .to_string()
    }
}

#[derive(Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

const READERS: &[Role] = &[Role::CommunityStaff, Role::Regulator, Role::AgencyAdmin];

async fn statement(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(READERS)?.principal.clone();
    let chrome =
        Chrome::new(lang, &viewer, "/subsidies/statement", lang.pick("补贴服务结算", "Subsidy statements").into());
    let Some(first) = super::payments::parse_month(&q.month) else {
        let page = StatementPage {
            chrome,
            month: q.month.chars().take(20).collect(),
            error: Some(lang.t("statements.bad_month")),
            statement: None,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let statement = MonthStatement::load(&state, &who, first).await?;
    render(&StatementPage { chrome, month: statement.month(), error: None, statement: Some(statement) })
}

async fn statement_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(READERS)?.principal.clone();
    let first = super::payments::parse_month(&q.month).ok_or_else(|| {
        AppError::invalid("month", "bad_month", "请按 年-月 填写，例如 2026-11", "use year-month, e.g. 2026-11")
    })?;
    let statement = MonthStatement::load(&state, &who, first).await?;
    Ok(super::import::xlsx(statement.xlsx()?, &format!("subsidy-statement-{}.xlsx", statement.month())))
}

// ---- regulators: budgets ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "regulator_subsidies.html")]
struct BudgetsPage {
    chrome: Chrome,
    year: i32,
    years: [i32; 2],
    rows: Vec<BudgetLine>,
    /// What was just saved, in words, and a warning when it is below the quotas promised.
    saved: Option<(String, Option<String>)>,
    /// The district and amount typed in a refused form, with its errors.
    typed: (String, String),
    errors: FieldErrors,
}

impl BudgetsPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

async fn budgets_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    year: i32,
    typed: (String, String),
    errors: FieldErrors,
    saved: Option<&str>,
) -> Result<BudgetsPage, AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    let area = session.principal.regulated_area().flatten().map(|d| d.as_str().to_string());
    let this = beijing_today().year();
    let rows = state.store.subsidy_budgets(year, area.as_deref()).await?;
    let saved = saved.and_then(|code| rows.iter().find(|b| b.district_code == code)).map(|b| {
        let amount = yuan(b.amount_fen.unwrap_or_default());
        let text = match lang {
            Lang::En => format!("{}'s budget for {year} is now {amount}.", b.district_name),
            Lang::Zh => format!("{}{year}年度预算已设为{amount}。", b.district_name),
        };
        let warning = (b.amount_fen.unwrap_or_default() < b.promised_fen).then(|| match lang {
            Lang::En => format!("It is below the {} of money quotas already promised.", yuan(b.promised_fen)),
            Lang::Zh => format!("注意：低于已承诺的按金额额度合计{}。", yuan(b.promised_fen)),
        });
        (text, warning)
    });
    Ok(BudgetsPage {
        chrome: Chrome::new(lang, viewer, "/regulator/subsidies", lang.pick("补贴预算", "Subsidy budgets").into()),
        year,
        years: [this, this + 1],
        rows: rows.into_iter().map(|b| BudgetLine::new(b, lang)).collect(),
        saved,
        typed,
        errors,
    })
}

#[derive(Deserialize, Default)]
struct YearQuery {
    year: Option<i32>,
    /// The district whose budget was just saved.
    #[serde(default)]
    saved: String,
}

async fn budgets(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<YearQuery>,
) -> Result<Response, AppError> {
    let year = crate::subsidies::year_or_this(q.year);
    let saved = (!q.saved.is_empty()).then_some(q.saved.as_str());
    render(&budgets_page(&state, lang, &viewer, year, Default::default(), FieldErrors::default(), saved).await?)
}

#[derive(Deserialize)]
struct BudgetPost {
    csrf: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    amount: String,
}

async fn set_budget(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(post): Form<BudgetPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&post.csrf))?;
    let who = viewer.require_role(&[Role::Regulator])?.principal.clone();
    let shown_year = post.year.trim().parse().unwrap_or_else(|_| beijing_today().year());
    let typed = (post.district.chars().take(12).collect(), post.amount.chars().take(20).collect());
    let outcome = match crate::subsidies::parse_budget_form(&who, &post.district, &post.year, &post.amount) {
        Ok((d, y, a)) => state.store.set_subsidy_budget(&who, &d, y, a).await,
        Err(errors) => Err(StoreError::Invalid(errors)),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!(
            "/regulator/subsidies?year={shown_year}&saved={}#budget-saved",
            super::encode(post.district.trim())
        ))
        .into_response()),
        Err(StoreError::Invalid(errors)) => {
            let page = budgets_page(&state, lang, &viewer, shown_year, typed, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
