//! The plan's task tracker and the libraries below the pages and the API: refusals in words, the
//! evidence file, and the periodic evaluation report made from the tracker (PDF through
//! `crate::pdf`, xlsx through the store's workbook) with a section for the live targets.

use chrono::NaiveDate;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::plan::{TaskStatus, days_overdue};
use jiazheng_store::StoreError;
use jiazheng_store::excel::{TableCell, TableSheet, table_workbook};
use jiazheng_store::oversight::plan::{EvidenceFile, PlanInfo, PlanSummary, PlanTask, ProgressReport, TaskUnit};

use crate::pdf::{Block, Cell, Font, Table};
use crate::{AppError, AppState};

/// A store refusal of the tracker and the libraries as the API and pages answer it.
pub fn tracker_error(error: StoreError) -> AppError {
    let conflict = |code: &'static str, zh: &str, en: &str, existing_id: Option<i64>| AppError::Conflict {
        code,
        message_zh: zh.into(),
        message_en: en.into(),
        existing_id,
    };
    match error {
        StoreError::Conflict { what: "library_duplicate", existing_id } => conflict(
            "library_duplicate",
            "该对象已有待审核或已入库的推荐",
            "This subject already has a nomination waiting or an entry in the library",
            existing_id,
        ),
        StoreError::Conflict { what: "library_not_pending", .. } => {
            conflict("library_not_pending", "该推荐已审核", "This nomination has already been decided", None)
        }
        StoreError::Conflict { what: "library_not_published", .. } => {
            conflict("library_not_published", "该条目不在库中", "This entry is not in the library", None)
        }
        StoreError::Conflict { what: "task_not_done", .. } => {
            conflict("task_not_done", "只有已完成的任务可以重新打开", "Only a task that is done can be reopened", None)
        }
        StoreError::Conflict { what: "evidence_attached", .. } => {
            conflict("evidence_attached", "该报告已附证明材料", "This report already has its evidence", None)
        }
        StoreError::Refused(_) => AppError::Forbidden,
        other => other.into(),
    }
}

/// An optional evidence file: nothing uploaded is `None`; anything else must be a JPEG, PNG or
/// PDF of at most 5 MB.
pub fn evidence(name: &str, bytes: Vec<u8>) -> Result<Option<EvidenceFile>, Invalid> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let kind = EvidenceType::sniff(&bytes)?;
    Ok(Some(EvidenceFile { name: name.to_string(), kind, bytes }))
}

// ==== LIVE TARGETS (issue 14 part 1) ============================================================
// The report's section for the plan's targets: `live_targets` reads the city's figures of every
// metric with a target from the targets work (`AppState::targets`, crates/server/src/oversight.rs);
// the PDF and the workbook lay out whatever rows it returns, and say plainly when there are none.

/// One target as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRow {
    pub label: String,
    pub value: String,
    pub target: String,
    pub met: bool,
}

impl From<(String, String, String, bool)> for TargetRow {
    fn from((label, value, target, met): (String, String, String, bool)) -> Self {
        Self { label, value, target, met }
    }
}

/// The city's figures of the metrics the plan sets a target for, as the targets page reads them.
pub async fn live_targets(state: &AppState) -> Result<Vec<TargetRow>, AppError> {
    use jiazheng_core::oversight::targets::Metric;
    let targets = state.targets().await?;
    Ok(Metric::ALL
        .iter()
        .filter(|m| m.target().is_some())
        .map(|m| {
            let figure = targets.city.get(*m);
            TargetRow {
                label: format!("{} {}", m.label_zh(), m.label_en()),
                value: figure.display(false),
                target: figure.target_display(false),
                met: figure.met().unwrap_or(false),
            }
        })
        .collect())
}

/// The targets as PDF blocks: a table, or a sentence when there are none yet.
pub fn target_blocks(rows: &[TargetRow]) -> Vec<Block> {
    if rows.is_empty() {
        return vec![Block::Paragraph {
            text: "主要目标的实时数据尚未接入本报告。The live targets are not in this report yet.".into(),
            size: 10.0,
        }];
    }
    vec![Block::Table(Table {
        columns: vec![3.0, 1.5, 1.5, 1.0],
        header: Some(vec!["目标 Target".into(), "现值 Now".into(), "要求 Required".into(), "达成 Met".into()]),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.label.as_str()),
                    Cell::from(r.value.as_str()),
                    Cell::from(r.target.as_str()),
                    Cell::from(if r.met { "是 Yes" } else { "否 No" }),
                ]
            })
            .collect(),
        size: 9.5,
    })]
}

/// The targets as a sheet of the workbook.
pub fn target_sheet(rows: &[TargetRow]) -> TableSheet {
    TableSheet {
        name: "主要目标 Targets".into(),
        headers: ["目标 / Target", "现值 / Now", "要求 / Required", "达成 / Met"].map(String::from).to_vec(),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    TableCell::Text(r.label.clone()),
                    TableCell::Text(r.value.clone()),
                    TableCell::Text(r.target.clone()),
                    TableCell::Text(if r.met { "是 Yes" } else { "否 No" }.into()),
                ]
            })
            .collect(),
    }
}
// ==== end of the live targets ===================================================================

/// One task as the report shows it.
#[derive(Debug, Clone)]
pub struct TaskLine {
    pub task: PlanTask,
    pub lead: String,
    pub units: String,
    pub overdue_days: i64,
    pub latest: Option<ProgressReport>,
}

impl TaskLine {
    pub fn status_label(&self) -> String {
        let s = self.task.status();
        format!("{} {}", s.label_zh(), s.label_en())
    }

    fn latest_text(&self) -> String {
        match &self.latest {
            Some(p) => {
                let text: String = p.body.chars().take(120).collect();
                let more = if p.body.chars().count() > 120 { "…" } else { "" };
                let unit = match &p.district_name {
                    Some(district) => format!("{}（{district}）", p.unit_name),
                    None => p.unit_name.clone(),
                };
                format!("{} {unit}：{text}{more}", p.reported_on)
            }
            None => "—".into(),
        }
    }
}

/// The units of each task, joined: the lead, and all of them in the plan's order.
pub fn unit_names(units: &[TaskUnit], number: i64, english: bool) -> (String, String) {
    let mine: Vec<&TaskUnit> = units.iter().filter(|u| u.task_number == number).collect();
    let lead = mine.first().map(|u| u.unit.label(english).to_string()).unwrap_or_default();
    let all: Vec<&str> = mine.iter().map(|u| u.unit.label(english)).collect();
    (lead, all.join(if english { "; " } else { "、" }))
}

/// The periodic evaluation of the plan's tasks, as of a Beijing date.
pub struct Evaluation {
    pub info: Option<PlanInfo>,
    pub today: NaiveDate,
    pub summary: PlanSummary,
    pub tasks: Vec<TaskLine>,
    pub targets: Vec<TargetRow>,
}

impl Evaluation {
    pub async fn load(state: &AppState, today: NaiveDate) -> Result<Self, AppError> {
        let store = &state.store;
        let units = store.task_units().await?;
        let latest = store.latest_progress().await?;
        let tasks = store
            .all_plan_tasks()
            .await?
            .into_iter()
            .map(|task| {
                let (lead, all) = unit_names(&units, task.number, false);
                TaskLine {
                    overdue_days: days_overdue(task.status(), task.deadline, today),
                    latest: latest.iter().find(|p| p.task_number == task.number).cloned(),
                    lead,
                    units: all,
                    task,
                }
            })
            .collect();
        Ok(Self {
            info: store.plan_info().await?,
            today,
            summary: store.plan_summary(today).await?,
            tasks,
            targets: live_targets(state).await?,
        })
    }

    fn overdue(&self) -> impl Iterator<Item = &TaskLine> {
        self.tasks.iter().filter(|t| t.overdue_days > 0)
    }

    fn summary_rows(&self) -> Vec<(&'static str, i64)> {
        let s = &self.summary;
        vec![
            ("任务总数 Tasks", s.total),
            ("未开始 Not started", s.not_started),
            ("推进中 In progress", s.in_progress),
            ("已完成 Done", s.done),
            ("滞后 Delayed", s.delayed),
            ("逾期未完成 Overdue", s.overdue),
        ]
    }

    fn blocks(&self) -> Vec<Block> {
        let mut blocks = vec![
            Block::Title {
                text: "家政服务业提质扩容“领跑者”行动任务推进评估报告".into(), size: 15.0
            },
            Block::Title { text: "Periodic evaluation of the plan's tasks".into(), size: 11.0 },
            Block::Gap(6.0),
        ];
        if let Some(info) = &self.info {
            blocks.push(Block::Paragraph {
                text: format!("{}（{}），实施期 {} 至 {}。", info.title, info.document, info.starts_on, info.ends_on),
                size: 10.0,
            });
        }
        blocks.push(Block::Paragraph {
            text: format!(
                "数据截至 {}（北京时间），由平台任务台账生成。Data as of {} (Beijing), from the platform's task tracker.",
                self.today, self.today
            ),
            size: 10.0,
        });
        blocks.push(Block::Heading("一、总体进度 Overall progress".into()));
        blocks.push(Block::Table(Table {
            columns: vec![2.0, 1.0],
            header: None,
            rows: self
                .summary_rows()
                .into_iter()
                .map(|(l, n)| vec![Cell::from(l), Cell::from(n.to_string())])
                .collect(),
            size: 10.0,
        }));
        blocks.push(Block::Heading("二、主要目标 Targets".into()));
        blocks.extend(target_blocks(&self.targets));
        blocks.push(Block::Heading("三、逾期任务 Overdue tasks".into()));
        let overdue: Vec<Vec<Cell>> = self
            .overdue()
            .map(|t| {
                vec![
                    Cell::from(t.task.number.to_string()),
                    Cell::from(t.task.title.as_str()),
                    Cell::from(t.lead.as_str()),
                    Cell::from(t.task.deadline.to_string()),
                    Cell::from(format!("{} 天 days", t.overdue_days)),
                ]
            })
            .collect();
        if overdue.is_empty() {
            blocks.push(Block::Paragraph { text: "无 None".into(), size: 10.0 });
        } else {
            blocks.push(Block::Table(Table {
                columns: vec![0.6, 3.2, 1.6, 1.4, 1.2],
                header: Some(vec![
                    "序号 No.".into(),
                    "任务 Task".into(),
                    "牵头单位 Lead".into(),
                    "期限 Deadline".into(),
                    "逾期 Overdue".into(),
                ]),
                rows: overdue,
                size: 9.0,
            }));
        }
        blocks.push(Block::Heading("四、各项任务 Every task".into()));
        let mut section = String::new();
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let flush = |blocks: &mut Vec<Block>, rows: &mut Vec<Vec<Cell>>| {
            if !rows.is_empty() {
                blocks.push(Block::Table(Table {
                    columns: vec![0.5, 2.2, 1.8, 1.1, 1.1, 3.0],
                    header: Some(vec![
                        "序号".into(),
                        "任务 Task".into(),
                        "责任单位 Units".into(),
                        "状态 Status".into(),
                        "期限 Deadline".into(),
                        "最近进展 Latest report".into(),
                    ]),
                    rows: std::mem::take(rows),
                    size: 8.5,
                }));
            }
        };
        for t in &self.tasks {
            let heading = format!("{} {}", t.task.section, t.task.section_title);
            if heading != section {
                flush(&mut blocks, &mut rows);
                blocks.push(Block::Paragraph { text: heading.clone(), size: 11.0 });
                section = heading;
            }
            rows.push(vec![
                Cell::from(t.task.number.to_string()),
                Cell::from(t.task.title.as_str()),
                Cell::from(t.units.as_str()),
                Cell::from(t.status_label()),
                Cell::from(if t.overdue_days > 0 {
                    format!("{}（逾期 overdue）", t.task.deadline)
                } else {
                    t.task.deadline.to_string()
                }),
                Cell::from(t.latest_text()),
            ]);
        }
        flush(&mut blocks, &mut rows);
        blocks
    }

    /// The report as a PDF (laid out off the async workers).
    pub async fn pdf(&self) -> Result<Vec<u8>, AppError> {
        let font = Font::cjk().map_err(|e| AppError::Internal(e.to_string()))?;
        let blocks = self.blocks();
        let today = self.today;
        tokio::task::spawn_blocking(move || {
            let footer = |page: usize, pages: usize| format!("任务推进评估报告 · {today} · 第 {page}/{pages} 页");
            crate::pdf::render(font, "任务推进评估报告 Plan task evaluation", &blocks, footer)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// The report as a workbook: every task (first), the summary, the targets, the overdue ones.
    pub fn xlsx(&self) -> Result<Vec<u8>, AppError> {
        let text = |s: &str| TableCell::Text(s.to_string());
        let number = |n: i64| TableCell::Number(n as f64);
        let summary = TableSheet {
            name: "概况 Summary".into(),
            headers: vec!["项目 / Item".into(), "数量 / Count".into()],
            rows: std::iter::once(vec![text("数据截至 As of"), text(&self.today.to_string())])
                .chain(self.summary_rows().into_iter().map(|(l, n)| vec![text(l), number(n)]))
                .collect(),
        };
        let task_row = |t: &TaskLine| {
            vec![
                number(t.task.number),
                text(&format!("{} {}", t.task.section, t.task.section_title)),
                text(&t.task.title),
                text(&t.lead),
                text(&t.units),
                text(&t.status_label()),
                text(&t.task.deadline.to_string()),
                number(t.overdue_days),
                number(t.task.reports),
                text(&t.latest.as_ref().map(|p| p.reported_on.to_string()).unwrap_or_default()),
                text(&t.latest.as_ref().map(|p| p.body.clone()).unwrap_or_default()),
            ]
        };
        let headers = [
            "序号 / No.",
            "部分 / Section",
            "任务 / Task",
            "牵头单位 / Lead unit",
            "责任单位 / Units",
            "状态 / Status",
            "期限 / Deadline",
            "逾期天数 / Days overdue",
            "报告数 / Reports",
            "最近报告日期 / Latest report on",
            "最近进展 / Latest report",
        ]
        .map(String::from)
        .to_vec();
        let tasks = TableSheet {
            name: "任务 Tasks".into(),
            headers: headers.clone(),
            rows: self.tasks.iter().map(task_row).collect(),
        };
        let overdue =
            TableSheet { name: "逾期 Overdue".into(), headers, rows: self.overdue().map(task_row).collect() };
        Ok(table_workbook(&[tasks, summary, target_sheet(&self.targets), overdue])?)
    }
}

/// Whether a task takes reports (not done).
pub fn open_for_reports(task: &PlanTask) -> bool {
    task.status() != TaskStatus::Done
}
