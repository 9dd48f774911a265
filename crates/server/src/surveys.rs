//! Demand surveys below the pages and the API: the demand list at a chosen level, the gap
//! report, and the spreadsheet of both, in words people read.

use jiazheng_core::community::gap::GapKind;
use jiazheng_core::community::survey::{CareFor, Demand, Frequency, TimeOfDay};
use jiazheng_core::market::catalog::CatalogItem;
use jiazheng_core::market::payment::yuan;
use jiazheng_store::community::supply::GapRow;
use jiazheng_store::community::surveys::{CommunityDemand, Survey, roll_up};
use jiazheng_store::excel::{TableCell, TableSheet, table_workbook};

use crate::i18n::Lang;
use crate::{AppError, AppState};

/// The level a demand list adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandLevel {
    Community,
    Street,
    District,
}

impl DemandLevel {
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("street") => Self::Street,
            Some("district") => Self::District,
            _ => Self::Community,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Community => "community",
            Self::Street => "street",
            Self::District => "district",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Self::Community => lang.pick("按社区", "By community"),
            Self::Street => lang.pick("按街道", "By street"),
            Self::District => lang.pick("按区县", "By district"),
        }
    }

    fn digits(self) -> usize {
        match self {
            Self::Community => 12,
            Self::Street => 9,
            Self::District => 6,
        }
    }

    pub const ALL: [DemandLevel; 3] = [Self::Community, Self::Street, Self::District];
}

/// One count as a bar: label, number, width 0–100 of the place's households.
#[derive(Debug, Clone)]
pub struct CountBar {
    pub label: &'static str,
    pub count: i64,
    pub width: i64,
}

/// One place's demand in words.
#[derive(Debug, Clone)]
pub struct DemandLine {
    pub code: String,
    pub name: String,
    pub households: i64,
    pub services: Vec<CountBar>,
    pub frequency: String,
    pub price: String,
    pub times: String,
    pub care: String,
}

#[derive(Debug, Clone)]
pub struct DemandView {
    pub lines: Vec<DemandLine>,
    pub total: DemandLine,
}

fn counted<T: Copy>(all: &[T], counts: &[i64], label: impl Fn(T) -> &'static str) -> String {
    let mut parts: Vec<(i64, &'static str)> =
        all.iter().zip(counts).filter(|(_, n)| **n > 0).map(|(c, n)| (*n, label(*c))).collect();
    parts.sort_by_key(|p| std::cmp::Reverse(p.0));
    parts.iter().map(|(n, l)| format!("{l} {n}")).collect::<Vec<_>>().join(" · ")
}

fn describe(code: String, name: String, d: &Demand, lang: Lang) -> DemandLine {
    let en = lang.is_en();
    let mut services: Vec<CountBar> = CatalogItem::ALL
        .iter()
        .zip(&d.services)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| CountBar {
            label: c.label(en),
            count: *n,
            width: if d.households > 0 { n * 100 / d.households } else { 0 },
        })
        .collect();
    services.sort_by_key(|b| std::cmp::Reverse(b.count));
    DemandLine {
        code,
        name,
        households: d.households,
        services,
        frequency: counted(Frequency::ALL, &d.frequency, |f| f.label(en)),
        price: d
            .average_price_fen()
            .map(|(lo, hi)| format!("{}–{}{}", yuan(lo), yuan(hi), lang.pick("/小时", "/h")))
            .unwrap_or_else(|| "—".into()),
        times: counted(TimeOfDay::ALL, &d.times, |t| t.label(en)),
        care: counted(CareFor::ALL, &d.care, |c| c.label(en)),
    }
}

/// A survey's demand added up to `level`, and over the whole survey.
pub async fn demand_view(
    state: &AppState,
    survey: &Survey,
    level: DemandLevel,
    lang: Lang,
) -> Result<DemandView, AppError> {
    let rows = state.store.survey_demand(survey.id).await?;
    view_of(state, survey, &rows, level, lang).await
}

async fn view_of(
    state: &AppState,
    survey: &Survey,
    rows: &[CommunityDemand],
    level: DemandLevel,
    lang: Lang,
) -> Result<DemandView, AppError> {
    let rolled = roll_up(rows, level.digits());
    let names = place_names(state, survey, level).await?;
    let mut total = Demand::default();
    let lines = rolled
        .into_iter()
        .map(|r| {
            total.add(&r.demand);
            let name = names.get(&r.community_code).cloned().unwrap_or_else(|| r.community_code.clone());
            describe(r.community_code, name, &r.demand, lang)
        })
        .collect();
    Ok(DemandView { lines, total: describe(String::new(), lang.pick("合计", "All").into(), &total, lang) })
}

/// Names of the places a survey's answers can add up to.
async fn place_names(
    state: &AppState,
    survey: &Survey,
    level: DemandLevel,
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let Some(area) = survey.area() else { return Ok(Default::default()) };
    Ok(match level {
        DemandLevel::Community => state.store.community_names(&area).await?,
        DemandLevel::Street | DemandLevel::District => {
            let districts = state.districts().await?;
            let streets = state.store.streets().await?;
            districts.iter().chain(streets.iter()).map(|d| (d.code.clone(), d.name.clone())).collect()
        }
    })
}

/// One line of the gap report in words.
#[derive(Debug, Clone)]
pub struct GapLine {
    pub community: String,
    pub item: &'static str,
    pub kind: GapKind,
    pub kind_label: &'static str,
    pub households: u32,
    pub agencies: u32,
    pub accepted: String,
    pub cheapest: String,
}

#[derive(Debug, Clone)]
pub struct GapView {
    pub lines: Vec<GapLine>,
    /// How many lines of each kind, in `GapKind::ALL`'s order.
    pub counts: Vec<(&'static str, &'static str, usize)>,
}

fn per_hour(fen: Option<i64>, lang: Lang) -> String {
    fen.map(|f| format!("{}{}", yuan(f), lang.pick("/小时", "/h"))).unwrap_or_else(|| "—".into())
}

fn gap_line(r: &GapRow, lang: Lang) -> GapLine {
    GapLine {
        community: r.community_name.clone(),
        item: r.item.label(lang.is_en()),
        kind: r.kind,
        kind_label: r.kind.label(lang.is_en()),
        households: r.households,
        agencies: r.agencies,
        accepted: per_hour(r.accepted_per_hour_fen, lang),
        cheapest: per_hour(r.cheapest_per_hour_fen, lang),
    }
}

pub async fn gap_view(state: &AppState, survey: &Survey, lang: Lang) -> Result<GapView, AppError> {
    let rows = state.store.survey_gap(survey).await?;
    let counts = GapKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label(lang.is_en()), rows.iter().filter(|r| r.kind == *k).count()))
        .collect();
    Ok(GapView { lines: rows.iter().map(|r| gap_line(r, lang)).collect(), counts })
}

fn both(zh: &str, en: &str) -> String {
    format!("{zh} / {en}")
}

fn demand_sheet(name: &str, view: &DemandView) -> TableSheet {
    let mut headers = vec![both("地区", "Place"), both("户数", "Households")];
    headers.extend(CatalogItem::ALL.iter().map(|c| both(c.label_zh(), c.label_en())));
    headers.extend([
        both("频次", "How often"),
        both("可接受价格", "Price accepted"),
        both("时段", "Time of day"),
        both("照护对象", "Care for"),
    ]);
    let row = |l: &DemandLine| {
        let mut cells = vec![TableCell::Text(l.name.clone()), TableCell::Number(l.households as f64)];
        cells.extend(CatalogItem::ALL.iter().map(|c| {
            let label = c.label_zh();
            TableCell::Number(l.services.iter().find(|b| b.label == label).map_or(0, |b| b.count) as f64)
        }));
        cells.extend([l.frequency.clone(), l.price.clone(), l.times.clone(), l.care.clone()].map(TableCell::Text));
        cells
    };
    TableSheet {
        name: name.into(),
        headers,
        rows: view.lines.iter().chain(std::iter::once(&view.total)).map(row).collect(),
    }
}

/// The survey's demand lists (by community, street and district) and its gap report, in Chinese
/// with English headers.
pub async fn survey_xlsx(state: &AppState, survey: &Survey) -> Result<Vec<u8>, AppError> {
    let lang = Lang::Zh;
    let rows = state.store.survey_demand(survey.id).await?;
    let mut sheets = Vec::new();
    for (level, name) in [
        (DemandLevel::Community, "按社区 Communities"),
        (DemandLevel::Street, "按街道 Streets"),
        (DemandLevel::District, "按区 Districts"),
    ] {
        sheets.push(demand_sheet(name, &view_of(state, survey, &rows, level, lang).await?));
    }
    let gap = state.store.survey_gap(survey).await?;
    sheets.push(TableSheet {
        name: "供需缺口 Gap".into(),
        headers: vec![
            both("社区", "Community"),
            both("服务项目", "Service"),
            both("情况", "Finding"),
            both("需求户数", "Households asking"),
            both("提供企业数", "Agencies offering"),
            both("居民可接受最高价（平均）", "Highest price accepted (average)"),
            both("已公布最低小时价", "Cheapest published hourly price"),
        ],
        rows: gap
            .iter()
            .map(|r| {
                vec![
                    TableCell::Text(r.community_name.clone()),
                    TableCell::Text(both(r.item.label_zh(), r.item.label_en())),
                    TableCell::Text(both(r.kind.label_zh(), r.kind.label_en())),
                    TableCell::Number(f64::from(r.households)),
                    TableCell::Number(f64::from(r.agencies)),
                    TableCell::Text(per_hour(r.accepted_per_hour_fen, lang)),
                    TableCell::Text(per_hour(r.cheapest_per_hour_fen, lang)),
                ]
            })
            .collect(),
    });
    Ok(table_workbook(&sheets)?)
}
