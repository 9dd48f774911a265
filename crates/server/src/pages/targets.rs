//! The plan's targets for everyone: the three targets and the figures beside them for the city or
//! a district, each with the date of its data; the monthly series as charts; each agency's
//! employee-based share; a workbook and a printable monthly report. City regulators recognise
//! brands here, and search the audit of regulator and evaluator writes.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use chrono::NaiveDate;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::field::Invalid;
use jiazheng_core::oversight::targets::{Figure, Metric};
use jiazheng_core::registry::agency::BusinessModel;
use jiazheng_store::PageRequest;
use jiazheng_store::oversight::audit::{AuditActor, AuditQuery, AuditRow};
use jiazheng_store::oversight::targets::Brand;
use serde::Deserialize;

use super::{Chrome, Pager, beijing_minutes, field_message, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::oversight::{AreaFigures, Targets, chart_svg, dated, series};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/targets", get(page))
        .route("/targets/agencies", get(agencies))
        .route("/targets.xlsx", get(workbook))
        .route("/targets/report.pdf", get(report))
        .route("/regulator/brands", get(brands).post(recognise))
        .route("/regulator/brands/{agency}/withdraw", post(withdraw))
        .route("/regulator/audit", get(audit))
}

/// The figures a target card and the tables show, in this order.
const HEADLINE: [Metric; 4] =
    [Metric::BrandedEmployeeAgencies, Metric::CommunityCoverage, Metric::VillageCoverage, Metric::RelatedEducation];
const CHARTED: [Metric; 5] = [
    Metric::BrandedEmployeeAgencies,
    Metric::CommunityCoverage,
    Metric::RelatedEducation,
    Metric::EmployeeShare,
    Metric::ModelContracts,
];

/// A figure as a line of the page.
pub struct FigureLine {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub counts: String,
    pub target: String,
    pub met: Option<bool>,
    /// Bar width in per cent, for shares.
    pub bar: Option<f64>,
    pub dated: String,
}

fn line(figure: Figure, targets: &Targets, lang: Lang) -> FigureLine {
    let en = lang.is_en();
    let metric = figure.metric;
    let counts = match metric.shape() {
        jiazheng_core::oversight::targets::Shape::Count => {
            format!("{} {}", lang.pick("已认定品牌", "recognised brands"), figure.denominator)
        }
        jiazheng_core::oversight::targets::Shape::AverageDays => {
            format!("{} {}", figure.denominator, lang.pick("件", "cases"))
        }
        _ => format!("{} / {}", figure.numerator, figure.denominator),
    };
    FigureLine {
        key: metric.as_str(),
        label: metric.label(en),
        value: figure.display(en),
        counts,
        target: figure.target_display(en),
        // Nothing counted yet: no verdict either way.
        met: figure.value().and(figure.met()),
        bar: (metric.shape() == jiazheng_core::oversight::targets::Shape::Share)
            .then(|| figure.value().unwrap_or(0.0).min(100.0)),
        dated: dated(metric, targets, lang),
    }
}

pub struct DistrictLine {
    pub code: String,
    pub name: String,
    pub cells: Vec<FigureLine>,
}

pub struct Chart {
    pub title: &'static str,
    pub svg: String,
}

#[derive(Template)]
#[template(path = "targets.html")]
struct TargetsPage {
    chrome: Chrome,
    city: String,
    area: AreaChoice,
    areas: Vec<(String, String)>,
    headline: Vec<FigureLine>,
    others: Vec<FigureLine>,
    districts: Vec<DistrictLine>,
    district_headers: Vec<&'static str>,
    charts: Vec<Chart>,
    live_at: String,
    months: Vec<String>,
}

/// The area a page shows: the city, or one district.
pub struct AreaChoice {
    pub code: String,
    pub name: String,
    pub is_city: bool,
}

#[derive(Deserialize, Default)]
struct AreaQuery {
    area: Option<String>,
}

fn pick_area<'a>(targets: &'a Targets, raw: Option<&str>) -> Result<&'a AreaFigures, AppError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(&targets.city),
        Some(code) => {
            let code = jiazheng_core::division::DivisionCode::parse(code).map_err(|_| AppError::NotFound)?;
            targets.districts.iter().find(|d| d.code == code.as_str()).ok_or(AppError::NotFound)
        }
    }
}

async fn page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<AreaQuery>,
) -> Result<Response, AppError> {
    let targets = state.targets().await?;
    let area = pick_area(&targets, q.area.as_deref())?;
    let rows = state.store.plan_series(&area.code).await?;
    let en = lang.is_en();
    let mut months: Vec<String> = rows.iter().map(|r| r.month.clone()).collect();
    months.dedup();
    months.reverse();
    let page = TargetsPage {
        chrome: Chrome::new(lang, &viewer, "/targets", lang.pick("规划目标", "The plan's targets").to_string()),
        city: targets.city.name.clone(),
        area: AreaChoice { code: area.code.clone(), name: area.name.clone(), is_city: area.code == targets.city.code },
        areas: targets.districts.iter().map(|d| (d.code.clone(), d.name.clone())).collect(),
        headline: HEADLINE
            .iter()
            .map(|m| {
                let mut l = line(area.get(*m), &targets, lang);
                // Target 1 is the city's: a district only counts towards it.
                if *m == Metric::BrandedEmployeeAgencies && area.code != targets.city.code {
                    l.target = lang.pick("全市目标，各区计数", "a city target; districts count towards it").into();
                    l.met = None;
                }
                l
            })
            .collect(),
        others: Metric::ALL
            .iter()
            .filter(|m| !HEADLINE.contains(m))
            .map(|m| line(area.get(*m), &targets, lang))
            .collect(),
        district_headers: HEADLINE.iter().chain([Metric::EmployeeShare].iter()).map(|m| m.label(en)).collect(),
        districts: targets
            .districts
            .iter()
            .map(|d| DistrictLine {
                code: d.code.clone(),
                name: d.name.clone(),
                cells: HEADLINE
                    .iter()
                    .chain([Metric::EmployeeShare].iter())
                    .map(|m| line(d.get(*m), &targets, lang))
                    .collect(),
            })
            .collect(),
        charts: CHARTED
            .iter()
            .map(|m| Chart { title: m.label(en), svg: chart_svg(m.label(en), &series(&rows, *m), lang) })
            .collect(),
        live_at: beijing_minutes(targets.live_at),
        months,
    };
    render(&page)
}

pub struct StandingLine {
    pub agency_id: i64,
    pub name: String,
    pub district: String,
    pub model: &'static str,
    pub active: i64,
    pub employee: i64,
    pub share: String,
    pub brand: String,
    pub employee_based: bool,
    pub passes: bool,
}

#[derive(Template)]
#[template(path = "targets_agencies.html")]
struct AgenciesPage {
    chrome: Chrome,
    lines: Vec<StandingLine>,
    pager: Pager,
    areas: Vec<(String, String)>,
    district: String,
    passing_only: bool,
    passing: usize,
    live_at: String,
}

#[derive(Deserialize, Default)]
struct AgenciesQuery {
    district: Option<String>,
    passing: Option<String>,
    page: Option<u32>,
}

const AGENCIES_PER_PAGE: u32 = 50;

async fn agencies(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<AgenciesQuery>,
) -> Result<Response, AppError> {
    let targets = state.targets().await?;
    let district = pick_area(&targets, q.district.as_deref())?;
    let in_district = district.code != targets.city.code;
    let passing_only = q.passing.is_some_and(|p| !p.is_empty());
    let names: std::collections::HashMap<&str, &str> =
        targets.districts.iter().map(|d| (d.code.as_str(), d.name.as_str())).collect();
    let all = state.store.agency_standings(in_district.then_some(district.code.as_str())).await?;
    let mut standings: Vec<_> = all
        .iter()
        .filter(|s| !in_district || s.district_code == district.code)
        .filter(|s| !passing_only || s.share().passes())
        .collect();
    let passing = standings.iter().filter(|s| s.share().passes()).count();
    // Passing agencies first, then by share and size.
    standings.sort_by_key(|s| {
        let share = s.share();
        (!share.passes(), !share.branded, -share.per_mille(), -s.active, s.agency_id)
    });
    let page = q.page.unwrap_or(1).max(1);
    let en = lang.is_en();
    let lines = standings
        .iter()
        .skip((page as usize - 1).saturating_mul(AGENCIES_PER_PAGE as usize))
        .take(AGENCIES_PER_PAGE as usize)
        .map(|s| {
            let share = s.share();
            StandingLine {
                agency_id: s.agency_id,
                name: s.name.clone(),
                district: names.get(s.district_code.as_str()).copied().unwrap_or_default().to_string(),
                model: BusinessModel::label_of(&s.business_model, en),
                active: s.active,
                employee: s.active_employee,
                share: if s.active == 0 {
                    "—".into()
                } else {
                    format!("{:.1}%", s.active_employee as f64 * 100.0 / s.active as f64)
                },
                brand: s.brand.clone().unwrap_or_default(),
                employee_based: share.employee_based(),
                passes: share.passes(),
            }
        })
        .collect();
    let listed = jiazheng_store::Page {
        items: Vec::<()>::new(),
        page,
        per_page: AGENCIES_PER_PAGE,
        total: standings.len() as i64,
    };
    let district_code = if in_district { district.code.clone() } else { String::new() };
    let base = format!("district={district_code}{}", if passing_only { "&passing=1" } else { "" });
    let page = AgenciesPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/targets/agencies",
            lang.pick("企业员工制占比", "Employee-based share by agency").to_string(),
        ),
        lines,
        pager: Pager::new(&listed, "/targets/agencies", &base),
        areas: targets.districts.iter().map(|d| (d.code.clone(), d.name.clone())).collect(),
        district: district_code,
        passing_only,
        passing,
        live_at: beijing_minutes(targets.live_at),
    };
    render(&page)
}

fn both(metric: Metric) -> String {
    format!("{} {}", metric.label_zh(), metric.label_en())
}

/// The workbook: the figures of the city and each district, the monthly series, the agencies.
async fn workbook(State(state): State<AppState>) -> Result<Response, AppError> {
    use jiazheng_store::excel::{TableCell, TableSheet, table_workbook};
    let targets = state.targets().await?;
    let mut headers = vec!["地区 Area".to_string()];
    for m in Metric::ALL {
        headers.push(both(*m));
    }
    let figures_row = |a: &AreaFigures| {
        let mut row = vec![TableCell::Text(a.name.clone())];
        for m in Metric::ALL {
            row.push(TableCell::Text(a.get(*m).display(false)));
        }
        row
    };
    let mut figures = vec![figures_row(&targets.city)];
    figures.extend(targets.districts.iter().map(figures_row));
    let mut months = Vec::new();
    for area in std::iter::once(&targets.city).chain(&targets.districts) {
        for r in state.store.plan_series(&area.code).await? {
            if let Some(f) = r.figure() {
                months.push(vec![
                    TableCell::Text(area.name.clone()),
                    TableCell::Text(r.month.clone()),
                    TableCell::Text(both(f.metric)),
                    TableCell::Number(r.numerator as f64),
                    TableCell::Number(r.denominator as f64),
                    TableCell::Text(f.display(false)),
                    TableCell::Text(r.as_of.to_string()),
                ]);
            }
        }
    }
    let names: std::collections::HashMap<&str, &str> =
        targets.districts.iter().map(|d| (d.code.as_str(), d.name.as_str())).collect();
    let all = state.store.agency_standings(None).await?;
    let agencies = all
        .iter()
        .map(|s| {
            let share = s.share();
            vec![
                TableCell::Text(s.name.clone()),
                TableCell::Text(names.get(s.district_code.as_str()).copied().unwrap_or_default().to_string()),
                TableCell::Text(BusinessModel::label_of(&s.business_model, false).to_string()),
                TableCell::Number(s.active as f64),
                TableCell::Number(s.active_employee as f64),
                TableCell::Text(s.brand.clone().unwrap_or_default()),
                TableCell::Text(if share.passes() { "是 Yes" } else { "否 No" }.into()),
            ]
        })
        .collect();
    let job = targets.job_as_of.map_or("—".to_string(), |d| d.to_string());
    let sheets = [
        TableSheet {
            name: "指标 Figures".into(),
            headers: {
                let mut h = headers;
                h.push(format!("实时数据 live {} · 每日统计 daily job {job}", beijing_minutes(targets.live_at)));
                h
            },
            rows: figures,
        },
        TableSheet {
            name: "月度 Monthly".into(),
            headers: [
                "地区 Area",
                "月份 Month",
                "指标 Figure",
                "分子 Numerator",
                "分母 Denominator",
                "数值 Value",
                "统计日 As of",
            ]
            .map(String::from)
            .to_vec(),
            rows: months,
        },
        TableSheet {
            name: "企业 Agencies".into(),
            headers: [
                "企业 Agency",
                "区 District",
                "经营模式 Model",
                "在岗服务员 Active workers",
                "员工制 Employee-based",
                "认定品牌 Recognised brand",
                "计入目标一 Counts for target 1",
            ]
            .map(String::from)
            .to_vec(),
            rows: agencies,
        },
    ];
    let bytes = table_workbook(&sheets)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"plan-targets.xlsx\"".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, Default)]
struct ReportQuery {
    month: Option<String>,
}

/// The monthly report as a PDF: the figures of a month as the daily job kept them.
async fn report(State(state): State<AppState>, Query(q): Query<ReportQuery>) -> Result<Response, AppError> {
    let targets = state.targets().await?;
    let month = match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => {
            NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| AppError::NotFound)?;
            m.to_string()
        }
        None => targets.job_as_of.map(jiazheng_core::oversight::targets::month_key).ok_or(AppError::NotFound)?,
    };
    let bytes = crate::oversight::monthly_report(&state, &targets, &month).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"plan-targets-{month}.pdf\"")),
        ],
        bytes,
    )
        .into_response())
}

/// Brands: a city regulator recognises and withdraws; a district regulator reads its district's.
#[derive(Template)]
#[template(path = "regulator_brands.html")]
struct BrandsPage {
    chrome: Chrome,
    brands: Vec<(Brand, String)>,
    candidates: Vec<(i64, String)>,
    may_decide: bool,
    form: BrandForm,
    errors: FieldErrors,
}

impl BrandsPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }
}

#[derive(Deserialize, Default, Clone)]
struct BrandForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    brand_name: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    recognised_on: String,
    #[serde(default)]
    reason: String,
}

fn regulator_area(viewer: &Viewer) -> Result<(i64, Option<String>, bool), AppError> {
    let session = viewer.require_role(&[Role::Regulator])?;
    Ok(match &session.principal.scope {
        Scope::City => (session.principal.account_id, None, true),
        Scope::District(d) => (session.principal.account_id, Some(d.as_str().to_string()), false),
        _ => return Err(AppError::Forbidden),
    })
}

async fn brands_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: BrandForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (_, district, may_decide) = regulator_area(viewer)?;
    let targets = state.targets().await?;
    let names: std::collections::HashMap<&str, &str> =
        targets.districts.iter().map(|d| (d.code.as_str(), d.name.as_str())).collect();
    let brands = state
        .store
        .brands(district.as_deref())
        .await?
        .into_iter()
        .map(|b| {
            let d = names.get(b.district_code.as_str()).copied().unwrap_or_default().to_string();
            (b, d)
        })
        .collect();
    // Agencies without a live recognition, the employee-based first.
    let all = state.store.agency_standings(None).await?;
    let mut candidates: Vec<_> =
        all.iter().filter(|s| s.brand.is_none() && district.as_ref().is_none_or(|d| &s.district_code == d)).collect();
    candidates.sort_by_key(|s| (!s.share().employee_based(), s.name.clone()));
    let en = lang.is_en();
    let page = BrandsPage {
        chrome: Chrome::new(lang, viewer, "/regulator/brands", lang.pick("品牌认定", "Recognised brands").to_string()),
        brands,
        candidates: candidates
            .iter()
            .take(2000)
            .map(|s| {
                let share = if s.active == 0 {
                    lang.pick("无在岗服务员", "no active workers").to_string()
                } else {
                    format!(
                        "{} {:.0}%",
                        lang.pick("员工制", "employee-based"),
                        s.active_employee as f64 * 100.0 / s.active as f64
                    )
                };
                (s.agency_id, format!("{} · {} · {share}", s.name, BusinessModel::label_of(&s.business_model, en)))
            })
            .collect(),
        may_decide,
        form,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

async fn brands(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let form = BrandForm { recognised_on: crate::api::workers::today().to_string(), ..Default::default() };
    brands_page(&state, lang, &viewer, form, FieldErrors::default(), StatusCode::OK).await
}

async fn recognise(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<BrandForm>,
) -> Result<Response, AppError> {
    let (actor, _, may_decide) = regulator_area(&viewer)?;
    if !may_decide {
        return Err(AppError::Forbidden);
    }
    viewer.check_csrf(Some(&form.csrf))?;
    let parsed = jiazheng_core::oversight::brand::BrandForm {
        agency: form.agency.clone(),
        brand_name: form.brand_name.clone(),
        document: form.document.clone(),
        recognised_on: form.recognised_on.clone(),
    }
    .parse(crate::api::workers::today());
    let draft = match parsed {
        Ok(d) => d,
        Err(errors) => {
            return brands_page(&state, lang, &viewer, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match state.store.recognise_brand(&draft, actor).await {
        Ok(_) => Ok(Redirect::to("/regulator/brands#brands").into_response()),
        Err(jiazheng_store::StoreError::NotFound) => {
            let errors = FieldErrors(vec![Invalid::required().at("agency")]);
            brands_page(&state, lang, &viewer, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(jiazheng_store::StoreError::Conflict { .. }) => {
            let errors = FieldErrors(vec![
                Invalid::new("already", "该企业已有认定品牌", "this agency already has a recognised brand")
                    .at("agency"),
            ]);
            brands_page(&state, lang, &viewer, form, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct WithdrawForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

async fn withdraw(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(agency): Path<i64>,
    Form(form): Form<WithdrawForm>,
) -> Result<Response, AppError> {
    let (actor, _, may_decide) = regulator_area(&viewer)?;
    if !may_decide {
        return Err(AppError::Forbidden);
    }
    viewer.check_csrf(Some(&form.csrf))?;
    let reason = match jiazheng_core::oversight::brand::withdraw_reason(&form.reason) {
        Ok(reason) => reason,
        Err(problem) => {
            let errors = FieldErrors(vec![problem.at(format!("reason-{agency}"))]);
            let typed = BrandForm { reason: form.reason.clone(), ..Default::default() };
            return brands_page(&state, lang, &viewer, typed, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    state.store.withdraw_brand(agency, &reason, actor).await?;
    Ok(Redirect::to("/regulator/brands#brands").into_response())
}

/// The audit, for city regulators and system admins.
#[derive(Template)]
#[template(path = "regulator_audit.html")]
struct AuditPage {
    chrome: Chrome,
    rows: Vec<AuditLine>,
    pager: Pager,
    actors: Vec<AuditActor>,
    actions: Vec<(String, String)>,
    q: AuditForm,
}

pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub subject: String,
    pub before: String,
    pub after: String,
}

#[derive(Deserialize, Default, Clone)]
struct AuditForm {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<u32>,
}

/// An action's label from the locale file, or the key itself when none is written.
pub fn action_label(action: &str, lang: Lang) -> String {
    let key = format!("audit.action.{action}");
    let label = lang.t(&key);
    if label == key || label.is_empty() { action.to_string() } else { label }
}

/// A word from the locale file under `prefix`, or `None` when none is written.
fn worded(prefix: &str, code: &str, lang: Lang) -> Option<String> {
    let key = format!("{prefix}.{code}");
    let label = lang.t(&key);
    (label != key && !label.is_empty()).then_some(label)
}

/// A stored JSON value in a line a person reads: `field: value` pairs with the fields' names and
/// the codes' words from the locale file, amounts in yuan, and nothing for empty values.
fn readable(value: Option<&str>, lang: Lang) -> String {
    let Some(raw) = value else { return String::new() };
    let shown = |key: &str, v: &serde_json::Value| -> Option<String> {
        let text = match v {
            serde_json::Value::Null => return None,
            serde_json::Value::String(s) if s.is_empty() => return None,
            serde_json::Value::Number(n) if key.ends_with("_fen") => {
                let fen = n.as_i64()?;
                format!("¥{}.{:02}", fen / 100, fen % 100)
            }
            serde_json::Value::Bool(b) => lang.pick(if *b { "是" } else { "否" }, if *b { "yes" } else { "no" }).into(),
            serde_json::Value::String(s) => worded("audit.value", s, lang).unwrap_or_else(|| s.clone()),
            other => other.to_string(),
        };
        let name = worded("audit.field", key, lang).unwrap_or_else(|| key.to_string());
        Some(format!("{name}: {text}"))
    };
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(map)) => {
            map.iter().filter_map(|(k, v)| shown(k, v)).collect::<Vec<_>>().join(" · ")
        }
        Ok(serde_json::Value::Null) => String::new(),
        Ok(other) => other.to_string(),
        Err(_) => raw.to_string(),
    }
}

async fn audit(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<AuditForm>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::Regulator, Role::SystemAdmin])?;
    if session.principal.role == Role::Regulator && session.principal.scope != Scope::City {
        return Err(AppError::Forbidden);
    }
    let day = |raw: &str| NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok();
    let query = AuditQuery {
        actor: q.actor.trim().parse().ok(),
        action: Some(q.action.trim().to_string()).filter(|a| !a.is_empty()),
        subject_kind: None,
        subject: Some(q.subject.trim().chars().take(50).collect::<String>()).filter(|s| !s.is_empty()),
        from: day(&q.from),
        to: day(&q.to),
    };
    let page = state.store.audit(&query, PageRequest::new(q.page, Some(50))).await?;
    let rows = page
        .items
        .iter()
        .map(|r: &AuditRow| AuditLine {
            at: beijing_minutes(r.at),
            actor: r.actor_name.clone(),
            role: Role::label_of(&r.actor_role, lang.is_en()).to_string(),
            action: action_label(&r.action, lang),
            subject: r.subject_label.clone(),
            before: readable(r.value_before.as_deref(), lang),
            after: readable(r.value_after.as_deref(), lang),
        })
        .collect();
    let base = format!(
        "actor={}&action={}&subject={}&from={}&to={}",
        super::encode(&q.actor),
        super::encode(&q.action),
        super::encode(&q.subject),
        super::encode(&q.from),
        super::encode(&q.to)
    );
    let audit_page = AuditPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/regulator/audit",
            lang.pick("监管操作记录", "Audit of regulator actions").to_string(),
        ),
        pager: Pager::new(&page, "/regulator/audit", &base),
        rows,
        actors: state.store.audit_actors().await?,
        actions: state.store.audit_actions().await?.into_iter().map(|a| (action_label(&a, lang), a)).collect(),
        q,
    };
    render(&audit_page)
}
