//! The plan's tasks (plan tasks 33-34): each task has responsible units (责任单位, the first one
//! leads), a status and a deadline. Units report dated progress with evidence; the lead unit
//! (or the overseeing city regulator) closes a task by reporting it done, after which no report
//! is taken. A task past its deadline and not done is overdue.

use chrono::NaiveDate;

use crate::choice;
use crate::field::{FieldErrors, Invalid, required_paragraphs};
use crate::workforce::parse_date;

/// A progress report's text.
pub const MAX_REPORT_CHARS: usize = 2000;
/// An evidence file's name as kept.
pub const MAX_FILE_NAME_CHARS: usize = 120;
/// Deadlines are set within these years.
pub const FIRST_YEAR: i32 = 2021;
pub const LAST_YEAR: i32 = 2035;
/// A reason given to reopen a task.
pub const MAX_REASON_CHARS: usize = 500;

/// The first day a report may carry when no plan is loaded.
pub fn plan_floor() -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1).expect("a real date")
}

choice!(
    /// Where a task stands.
    TaskStatus {
        NotStarted = ("not_started", "未开始", "Not started"),
        InProgress = ("in_progress", "推进中", "In progress"),
        Done = ("done", "已完成", "Done"),
        Delayed = ("delayed", "滞后", "Delayed"),
    }
);

choice!(
    /// What a unit says in a report.
    ReportStatus {
        InProgress = ("in_progress", "推进中", "In progress"),
        Done = ("done", "已完成", "Done"),
        Delayed = ("delayed", "滞后", "Delayed"),
    }
);

impl ReportStatus {
    pub fn task_status(self) -> TaskStatus {
        match self {
            ReportStatus::InProgress => TaskStatus::InProgress,
            ReportStatus::Done => TaskStatus::Done,
            ReportStatus::Delayed => TaskStatus::Delayed,
        }
    }
}

/// Who reports: a unit responsible for the task (leading it or not), or the overseeing city
/// regulator acting for a unit of the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reporter {
    pub responsible: bool,
    pub lead: bool,
    pub overseer: bool,
}

/// Why a report is refused, before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The reporter's unit is not one of the task's (403).
    NotResponsible,
    /// The task is done: closed to reports (422).
    Closed,
    /// Only the lead unit or an overseer closes a task (422, on the status field).
    NotLead,
}

impl Refusal {
    /// The field error a refusal answers with (`NotResponsible` answers 403 instead).
    pub fn invalid(&self) -> Option<crate::FieldError> {
        match self {
            Refusal::NotResponsible => None,
            Refusal::Closed => Some(
                Invalid::new(
                    "task_closed",
                    "该任务已完成并关闭，不再接受进展报告",
                    "This task is done and closed; it takes no more progress reports",
                )
                .at("task"),
            ),
            Refusal::NotLead => Some(
                Invalid::new("not_lead", "只有牵头单位可以报告任务完成", "Only the lead unit reports the task done")
                    .at("status"),
            ),
        }
    }
}

/// The task's status after a report, or why the report is refused.
pub fn after_report(current: TaskStatus, reported: ReportStatus, who: Reporter) -> Result<TaskStatus, Refusal> {
    if !who.responsible {
        return Err(Refusal::NotResponsible);
    }
    if current == TaskStatus::Done {
        return Err(Refusal::Closed);
    }
    if reported == ReportStatus::Done && !(who.lead || who.overseer) {
        return Err(Refusal::NotLead);
    }
    Ok(reported.task_status())
}

/// Past its deadline (Beijing date) and not done.
pub fn is_overdue(status: TaskStatus, deadline: NaiveDate, today: NaiveDate) -> bool {
    status != TaskStatus::Done && today > deadline
}

/// Days past the deadline, for the alert (0 when not overdue).
pub fn days_overdue(status: TaskStatus, deadline: NaiveDate, today: NaiveDate) -> i64 {
    if is_overdue(status, deadline, today) { (today - deadline).num_days() } else { 0 }
}

/// A progress report as typed (the evidence file comes beside it).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ProgressForm {
    /// The date the progress was made, `YYYY-MM-DD` (Beijing); not in the future.
    pub reported_on: String,
    /// `in_progress`, `done` (lead unit only) or `delayed`.
    pub status: String,
    /// What was done, at most 2000 characters.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressDraft {
    pub reported_on: NaiveDate,
    pub status: ReportStatus,
    pub text: String,
}

impl ProgressForm {
    /// `plan_start`: a report is dated no earlier than the plan's first day.
    pub fn parse(&self, today: NaiveDate, plan_start: NaiveDate) -> Result<ProgressDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let reported_on = e.take(
            "reported_on",
            parse_date(&self.reported_on).and_then(|d| {
                if d > today {
                    Err(Invalid::new("future_date", "日期不能晚于今天", "cannot be in the future"))
                } else if d < plan_start {
                    Err(Invalid::new(
                        "before_plan",
                        format!("日期不能早于方案开始日 {plan_start}"),
                        format!("cannot be before the plan began ({plan_start})"),
                    ))
                } else {
                    Ok(d)
                }
            }),
        );
        let status = e.take("status", ReportStatus::parse(&self.status));
        let text = e.take("text", required_paragraphs(&self.text, MAX_REPORT_CHARS));
        match (reported_on, status, text) {
            (Some(reported_on), Some(status), Some(text)) if e.is_empty() => {
                Ok(ProgressDraft { reported_on, status, text })
            }
            _ => Err(e),
        }
    }
}

/// A deadline as the overseeing regulator sets it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DeadlineForm {
    /// `YYYY-MM-DD`, from 2021 to 2035.
    pub deadline: String,
}

impl DeadlineForm {
    pub fn parse(&self) -> Result<NaiveDate, FieldErrors> {
        let mut e = FieldErrors::default();
        let date = e.take(
            "deadline",
            parse_date(&self.deadline).and_then(|d| {
                use chrono::Datelike;
                if (FIRST_YEAR..=LAST_YEAR).contains(&d.year()) {
                    Ok(d)
                } else {
                    Err(Invalid::new(
                        "out_of_range",
                        format!("期限应在{FIRST_YEAR}年至{LAST_YEAR}年之间"),
                        format!("the deadline must fall in {FIRST_YEAR}-{LAST_YEAR}"),
                    ))
                }
            }),
        );
        date.ok_or(e)
    }
}

/// An evidence file's name as kept: the last path part, control characters dropped, bounded;
/// a name with nothing left is `evidence`.
pub fn file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '"'))
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let clean = clean.trim();
    if clean.is_empty() { "evidence".to_string() } else { clean.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const UNIT: Reporter = Reporter { responsible: true, lead: false, overseer: false };
    const LEAD: Reporter = Reporter { responsible: true, lead: true, overseer: false };

    #[test]
    fn a_report_moves_the_task_and_a_done_task_takes_none() {
        assert_eq!(after_report(TaskStatus::NotStarted, ReportStatus::InProgress, UNIT), Ok(TaskStatus::InProgress));
        assert_eq!(after_report(TaskStatus::InProgress, ReportStatus::Delayed, UNIT), Ok(TaskStatus::Delayed));
        assert_eq!(after_report(TaskStatus::Delayed, ReportStatus::Done, LEAD), Ok(TaskStatus::Done));
        assert_eq!(after_report(TaskStatus::Done, ReportStatus::InProgress, LEAD), Err(Refusal::Closed));
        assert_eq!(after_report(TaskStatus::InProgress, ReportStatus::Done, UNIT), Err(Refusal::NotLead));
        let overseer = Reporter { responsible: true, lead: false, overseer: true };
        assert_eq!(after_report(TaskStatus::InProgress, ReportStatus::Done, overseer), Ok(TaskStatus::Done));
        let outsider = Reporter { responsible: false, lead: false, overseer: true };
        assert_eq!(
            after_report(TaskStatus::Done, ReportStatus::InProgress, outsider),
            Err(Refusal::NotResponsible),
            "not responsible is said before closed"
        );
        assert_eq!(Refusal::Closed.invalid().unwrap().code, "task_closed");
        assert!(Refusal::NotResponsible.invalid().is_none());
    }

    #[test]
    fn overdue_is_past_the_deadline_and_not_done() {
        let deadline = d("2023-12-31");
        assert!(!is_overdue(TaskStatus::InProgress, deadline, d("2023-12-31")), "the last day is still on time");
        assert!(is_overdue(TaskStatus::InProgress, deadline, d("2024-01-01")));
        assert!(is_overdue(TaskStatus::NotStarted, deadline, d("2024-01-01")));
        assert!(!is_overdue(TaskStatus::Done, deadline, d("2026-01-01")));
        assert_eq!(days_overdue(TaskStatus::Delayed, deadline, d("2024-01-10")), 10);
        assert_eq!(days_overdue(TaskStatus::Done, deadline, d("2024-01-10")), 0);
    }

    #[test]
    fn a_report_is_dated_within_the_plan_and_bounded() {
        let today = d("2026-05-01");
        let start = d("2021-01-01");
        let form = ProgressForm {
            reported_on: "2026-04-30".into(),
            status: "推进中".into(),
            text: "召开推进会\n印发通知".into(),
        };
        let draft = form.parse(today, start).unwrap();
        assert_eq!(draft.status, ReportStatus::InProgress);
        assert_eq!(draft.text, "召开推进会\n印发通知");
        let bad = ProgressForm {
            reported_on: "2026-05-02".into(),
            status: "not_started".into(),
            text: "字".repeat(MAX_REPORT_CHARS + 1),
        };
        let errors = bad.parse(today, start).unwrap_err();
        assert_eq!(errors.for_field("reported_on").unwrap().code, "future_date");
        assert_eq!(errors.for_field("status").unwrap().code, "unknown_choice", "not started is no report");
        assert_eq!(errors.for_field("text").unwrap().code, "too_long");
        let early = ProgressForm { reported_on: "2020-12-31".into(), ..form };
        assert_eq!(early.parse(today, start).unwrap_err().for_field("reported_on").unwrap().code, "before_plan");
    }

    #[test]
    fn deadlines_fall_in_a_window_and_file_names_are_cleaned() {
        assert_eq!(DeadlineForm { deadline: "2024-06-30".into() }.parse().unwrap(), d("2024-06-30"));
        assert!(DeadlineForm { deadline: "2099-01-01".into() }.parse().is_err());
        assert!(DeadlineForm { deadline: "".into() }.parse().is_err());
        assert_eq!(file_name("C:\\docs\\会议纪要.pdf"), "会议纪要.pdf");
        assert_eq!(file_name("../\u{202E}fdp.exe"), "fdp.exe");
        assert_eq!(file_name("  "), "evidence");
        assert_eq!(file_name(&"a".repeat(300)).chars().count(), MAX_FILE_NAME_CHARS);
    }
}
