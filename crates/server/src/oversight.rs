//! The plan's targets as pages and the API both show them: target 1 and the employee-based share
//! live from the running counts, coverage live from the coverage snapshot, and the rest from the
//! daily job's month (dated), for the city and each district; the monthly series; the charts.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::oversight::targets::{Figure, Metric, target_one};
use jiazheng_store::oversight::targets::{AgencyStanding, MonthRow, coverage_figures};

use crate::i18n::Lang;
use crate::{AppError, AppState};

/// The figures of one area.
#[derive(Debug, Clone)]
pub struct AreaFigures {
    pub code: String,
    pub name: String,
    pub figures: Vec<Figure>,
}

impl AreaFigures {
    pub fn get(&self, metric: Metric) -> Figure {
        self.figures.iter().find(|f| f.metric == metric).copied().unwrap_or(Figure::new(metric, 0, 0))
    }
}

/// Every area's figures and when each kind was read.
#[derive(Debug, Clone)]
pub struct Targets {
    pub city: AreaFigures,
    pub districts: Vec<AreaFigures>,
    /// When target 1 and coverage were read (now, or the coverage snapshot's time).
    pub live_at: DateTime<Utc>,
    /// The day of the daily job's figures, if it has run.
    pub job_as_of: Option<NaiveDate>,
}

/// Figures read live (the rest are the daily job's).
pub fn is_live(metric: Metric) -> bool {
    !from_job(metric)
}

/// Figures the daily job counts (the rest are read live).
fn from_job(metric: Metric) -> bool {
    !matches!(
        metric,
        Metric::BrandedEmployeeAgencies | Metric::EmployeeShare | Metric::CommunityCoverage | Metric::VillageCoverage
    )
}

impl AppState {
    pub async fn targets(&self) -> Result<Targets, AppError> {
        let city = self.store.city().await?;
        let districts = self.districts().await?;
        let coverage = self.coverage().await?;
        let branded = self.store.branded_standings().await?;
        let totals = self.store.binding_totals().await?;
        let latest = self.store.plan_latest().await?;
        let job_as_of = latest.iter().map(|r| r.as_of).max();
        let mut by_area: HashMap<&str, Vec<&MonthRow>> = HashMap::new();
        for row in &latest {
            by_area.entry(row.area_code.as_str()).or_default().push(row);
        }
        let area = |code: &str, name: &str, district: Option<DivisionCode>| {
            let shares: Vec<_> = branded
                .iter()
                .filter(|s| district.is_none() || s.district_code == code)
                .map(AgencyStanding::share)
                .collect();
            let (employee, active) = totals
                .iter()
                .filter(|(d, _, _)| district.is_none() || d == code)
                .fold((0, 0), |(e, a), (_, active, employee)| (e + employee, a + active));
            let mut figures = vec![target_one(&shares), Figure::new(Metric::EmployeeShare, employee, active)];
            figures.extend(coverage_figures(&coverage.tally(district.as_ref())));
            let job = by_area.get(code).map(Vec::as_slice).unwrap_or_default();
            for metric in Metric::ALL.iter().copied().filter(|m| from_job(*m)) {
                let kept = job.iter().find(|r| r.metric == metric.as_str());
                figures
                    .push(kept.map_or(Figure::new(metric, 0, 0), |r| Figure::new(metric, r.numerator, r.denominator)));
            }
            AreaFigures { code: code.to_string(), name: name.to_string(), figures }
        };
        let city_figures = area(&city.code, &city.name, None);
        let district_figures =
            districts.iter().map(|d| area(&d.code, &d.name, DivisionCode::parse(&d.code).ok())).collect();
        Ok(Targets {
            city: city_figures,
            districts: district_figures,
            live_at: coverage.computed_at.max(Utc::now() - chrono::Duration::seconds(1)),
            job_as_of,
        })
    }
}

/// When a figure was read, in words.
pub fn dated(metric: Metric, targets: &Targets, lang: Lang) -> String {
    if from_job(metric) {
        match targets.job_as_of {
            Some(day) => format!("{} {day}", lang.pick("统计日", "as of")),
            None => lang.pick("每日统计尚未运行", "the daily job has not run yet").to_string(),
        }
    } else {
        lang.pick("实时", "live").to_string()
    }
}

/// One series of monthly values of one metric, oldest first.
pub fn series(rows: &[MonthRow], metric: Metric) -> Vec<(String, Figure)> {
    rows.iter()
        .filter(|r| r.metric == metric.as_str())
        .map(|r| (r.month.clone(), Figure::new(metric, r.numerator, r.denominator)))
        .collect()
}

/// A line chart of a monthly series as SVG, with the target as a dashed line. Drawn on the
/// server so that it shows without scripts and prints.
pub fn chart_svg(title: &str, points: &[(String, Figure)], lang: Lang) -> String {
    const W: f64 = 320.0;
    const H: f64 = 160.0;
    const LEFT: f64 = 40.0;
    const BOTTOM: f64 = 24.0;
    const TOP: f64 = 12.0;
    let values: Vec<Option<f64>> = points.iter().map(|(_, f)| f.value()).collect();
    let metric = points.first().map(|(_, f)| f.metric);
    let target = metric.and_then(|m| match m.target() {
        Some(jiazheng_core::oversight::targets::Target::AtLeast(n)) => Some(n as f64),
        Some(jiazheng_core::oversight::targets::Target::ShareAtLeast(p)) => Some(p as f64),
        None => None,
    });
    let is_share = metric.is_some_and(|m| m.shape() == jiazheng_core::oversight::targets::Shape::Share);
    let top = values.iter().flatten().copied().chain(target).fold(if is_share { 100.0 } else { 1.0 }, f64::max);
    let top = if is_share { 100.0 } else { (top * 1.15).ceil().max(1.0) };
    let plot_w = W - LEFT - 8.0;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if points.len() <= 1 { LEFT + plot_w / 2.0 } else { LEFT + plot_w * i as f64 / (points.len() - 1) as f64 }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    svg.push_str(&format!(
        r#"<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{:.1}"/><line class="axis" x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
        H - BOTTOM,
        H - BOTTOM,
        W - 8.0,
        H - BOTTOM
    ));
    for tick in [0.0, top / 2.0, top] {
        let label = if is_share { format!("{tick:.0}%") } else { format!("{tick:.0}") };
        svg.push_str(&format!(
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"#,
            LEFT - 4.0,
            y(tick) + 3.0
        ));
    }
    if let Some(t) = target {
        svg.push_str(&format!(
            r#"<line class="target" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - 8.0,
            y(t),
            y(t),
            W - 8.0,
            y(t) - 3.0,
            lang.pick("目标", "target")
        ));
    }
    let path: Vec<String> =
        values.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
    if path.len() > 1 {
        svg.push_str(&format!(r#"<polyline class="line" points="{}"/>"#, path.join(" ")));
    }
    for (i, ((month, figure), v)) in points.iter().zip(&values).enumerate() {
        if let Some(v) = v {
            svg.push_str(&format!(
                r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="3"><title>{month} {}</title></circle>"#,
                x(i),
                y(*v),
                figure.display(lang.is_en())
            ));
        }
        // Label the first, the last and a few between, so that a long series stays legible.
        let step = points.len().div_ceil(6).max(1);
        if i == 0 || i + 1 == points.len() || i % step == 0 {
            svg.push_str(&format!(
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x(i),
                H - 8.0,
                &month[2..]
            ));
        }
    }
    if points.is_empty() {
        svg.push_str(&format!(
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            W / 2.0,
            H / 2.0,
            lang.pick("尚无月度数据", "no months yet")
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The monthly report: the month's figures for the city and each district as the daily job kept
/// them, the three targets with what is live now, and the last twelve months of the targets.
pub async fn monthly_report(state: &AppState, targets: &Targets, month: &str) -> Result<Vec<u8>, AppError> {
    use crate::pdf::{Block, Cell, Font, Table};
    let city_rows = state.store.plan_series(&targets.city.code).await?;
    let in_month: Vec<&MonthRow> = city_rows.iter().filter(|r| r.month == month).collect();
    if in_month.is_empty() {
        return Err(AppError::NotFound);
    }
    let as_of = in_month.iter().map(|r| r.as_of).max().unwrap_or_default();
    let title = format!("{}家政服务业提质扩容规划目标月报", targets.city.name);
    let mut blocks = vec![
        Block::Title { text: title.clone(), size: 16.0 },
        Block::Title { text: format!("Monthly report on the plan's targets · {month}"), size: 10.5 },
        Block::Paragraph {
            text: format!(
                "统计月份 Month {month} · 统计日 Data as of {as_of}（每日统计，月末后不再改写 written by the daily job, never rewritten once the month ends）· 生成 Generated {}",
                crate::pages::beijing_minutes(Utc::now())
            ),
            size: 9.0,
        },
        Block::Heading("一、三项目标 The three targets".into()),
    ];
    let figure_of = |rows: &[&MonthRow], metric: Metric| {
        rows.iter()
            .find(|r| r.metric == metric.as_str())
            .map_or(Figure::new(metric, 0, 0), |r| Figure::new(metric, r.numerator, r.denominator))
    };
    let verdict = |f: &Figure| match f.met() {
        Some(true) => "达标 Met".to_string(),
        Some(false) => "未达标 Not met".to_string(),
        None => "—".to_string(),
    };
    let targets_rows: Vec<Vec<Cell>> =
        [Metric::BrandedEmployeeAgencies, Metric::CommunityCoverage, Metric::RelatedEducation]
            .iter()
            .map(|m| {
                let kept = figure_of(&in_month, *m);
                let live = targets.city.get(*m);
                vec![
                    Cell::from(format!("{} {}", m.label_zh(), m.label_en())),
                    Cell::from(kept.target_display(false)),
                    Cell::from(format!("{} ({})", kept.display(false), counts(&kept))),
                    Cell::from(verdict(&kept)),
                    Cell::from(live.display(false)),
                ]
            })
            .collect();
    blocks.push(Block::Table(Table {
        columns: vec![2.4, 0.9, 1.6, 1.0, 1.0],
        header: Some(vec![
            "指标 Figure".into(),
            "目标 Target".into(),
            "本月 This month".into(),
            "结论 Verdict".into(),
            "当前 Now".into(),
        ]),
        rows: targets_rows,
        size: 9.0,
    }));
    blocks.push(Block::Heading("二、其他指标 The other figures".into()));
    blocks.push(Block::Table(Table {
        columns: vec![2.6, 1.2, 1.4],
        header: Some(vec!["指标 Figure".into(), "本月 This month".into(), "分子/分母 Counts".into()]),
        rows: Metric::ALL
            .iter()
            .filter(|m| m.target_number().is_none())
            .map(|m| {
                let f = figure_of(&in_month, *m);
                vec![
                    Cell::from(format!("{} {}", m.label_zh(), m.label_en())),
                    Cell::from(f.display(false)),
                    Cell::from(counts(&f)),
                ]
            })
            .collect(),
        size: 9.0,
    }));
    blocks.push(Block::Heading("三、各区 By district".into()));
    let mut district_rows = Vec::new();
    for d in &targets.districts {
        let rows = state.store.plan_series(&d.code).await?;
        let in_month: Vec<&MonthRow> = rows.iter().filter(|r| r.month == month).collect();
        let cell = |m: Metric| Cell::from(figure_of(&in_month, m).display(false));
        district_rows.push(vec![
            Cell::from(d.name.clone()),
            cell(Metric::BrandedEmployeeAgencies),
            cell(Metric::CommunityCoverage),
            cell(Metric::VillageCoverage),
            cell(Metric::RelatedEducation),
            cell(Metric::EmployeeShare),
        ]);
    }
    blocks.push(Block::Table(Table {
        columns: vec![1.4, 1.0, 1.0, 1.0, 1.0, 1.0],
        header: Some(vec![
            "区 District".into(),
            "目标一 Target 1".into(),
            "社区覆盖 Coverage".into(),
            "全部村级 All units".into(),
            "学历教育 Education".into(),
            "员工制 Employee".into(),
        ]),
        rows: district_rows,
        size: 8.5,
    }));
    blocks.push(Block::Heading("四、近十二个月 The last twelve months".into()));
    let mut months: Vec<&str> = city_rows.iter().map(|r| r.month.as_str()).filter(|m| *m <= month).collect();
    months.dedup();
    let recent = &months[months.len().saturating_sub(12)..];
    blocks.push(Block::Table(Table {
        columns: vec![1.0, 1.0, 1.0, 1.0, 1.0],
        header: Some(vec![
            "月份 Month".into(),
            "目标一 Target 1".into(),
            "社区覆盖 Coverage".into(),
            "学历教育 Education".into(),
            "员工制 Employee".into(),
        ]),
        rows: recent
            .iter()
            .map(|m| {
                let rows: Vec<&MonthRow> = city_rows.iter().filter(|r| r.month == *m).collect();
                let cell = |metric: Metric| Cell::from(figure_of(&rows, metric).display(false));
                vec![
                    Cell::from(m.to_string()),
                    cell(Metric::BrandedEmployeeAgencies),
                    cell(Metric::CommunityCoverage),
                    cell(Metric::RelatedEducation),
                    cell(Metric::EmployeeShare),
                ]
            })
            .collect(),
        size: 8.5,
    }));
    blocks.push(Block::Paragraph {
        text: "口径 Definitions：目标一计市商务局认定品牌且员工制服务员超过在岗服务员 50% 的企业（恰为 50% 不计）；目标二分别按社区和全部村级单位计；目标三按在岗服务员计。Target 1 counts recognised brands whose employee-based workers are more than 50% of their active workers (exactly 50% does not count); target 2 over urban communities and over all village-level units; target 3 over active workers.".into(),
        size: 8.5,
    });
    let font = Font::cjk().map_err(|e| AppError::Internal(e.to_string()))?;
    let footer_month = month.to_string();
    tokio::task::spawn_blocking(move || {
        crate::pdf::render(font, &title, &blocks, |page, pages| {
            format!("{footer_month} · 第 {page}/{pages} 页 Page {page} of {pages}")
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))
}

fn counts(f: &Figure) -> String {
    match f.metric.shape() {
        jiazheng_core::oversight::targets::Shape::Count => format!("认定品牌 {}", f.denominator),
        _ => format!("{} / {}", f.numerator, f.denominator),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_each_month_and_the_target() {
        let points: Vec<(String, Figure)> = [(40, 100), (60, 100), (95, 100)]
            .iter()
            .enumerate()
            .map(|(i, (n, d))| (format!("2026-0{}", i + 1), Figure::new(Metric::CommunityCoverage, *n, *d)))
            .collect();
        let svg = chart_svg("覆盖率 <城>", &points, Lang::Zh);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains(r#"class="target""#));
        assert!(svg.contains("覆盖率 &lt;城&gt;"));
        assert!(svg.contains("95.0%"));
        // 95% sits above the 90% target line.
        let after_target = svg.split(r#"class="target""#).nth(1).unwrap();
        let target_y: f64 = after_target.split(r#"y1=""#).nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
        let last_y: f64 = svg.rsplit(r#"cy=""#).next().unwrap().split('"').next().unwrap().parse().unwrap();
        assert!(last_y < target_y);
        assert!(chart_svg("x", &[], Lang::En).contains("no months yet"));
    }
}
