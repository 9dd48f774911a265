//! The plan's tasks and their responsible units (plan tasks 33-34). The tasks, units and the
//! plan's dates are data (`data/changchun_plan_tasks.json`, loaded when a Changchun database has
//! none; another city loads its own file with `import_plan`). A unit acts through regulator
//! accounts tagged with it; it reports dated progress with evidence on the tasks it is
//! responsible for; the overseeing city regulator sets deadlines and reopens a closed task.
//! Every write by a regulator is audited in its own transaction.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::plan::{ProgressDraft, Refusal, Reporter, TaskStatus, after_report};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::market::write_tx;
use crate::oversight::audit::{AuditRecord, audit_in};
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

/// The plan shipped for Changchun.
pub const CHANGCHUN_PLAN: &str = include_str!("../../data/changchun_plan_tasks.json");

/// A plan file: the plan, its units and its tasks.
#[derive(Debug, Clone, Deserialize)]
pub struct PlanFile {
    pub plan: PlanInfo,
    pub units: Vec<UnitFile>,
    pub tasks: Vec<TaskFile>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UnitFile {
    pub code: String,
    pub name: String,
    pub name_en: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub oversees: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaskFile {
    pub number: i64,
    pub section: String,
    pub section_title: String,
    pub title: String,
    pub text: String,
    /// Unit codes, the lead first.
    pub units: Vec<String>,
    pub units_as_written: Option<String>,
    pub units_note: Option<String>,
}

impl PlanFile {
    /// Reads a plan file and checks that every task names known units and numbers are unique.
    pub fn parse(json: &str) -> Result<Self> {
        let file: PlanFile = serde_json::from_str(json).map_err(|e| StoreError::File(format!("plan file: {e}")))?;
        let mut numbers = std::collections::HashSet::new();
        for task in &file.tasks {
            if !numbers.insert(task.number) {
                return Err(StoreError::File(format!("plan file: task {} twice", task.number)));
            }
            if task.units.is_empty() {
                return Err(StoreError::File(format!("plan file: task {} has no unit", task.number)));
            }
            if let Some(unknown) = task.units.iter().find(|u| !file.units.iter().any(|x| &x.code == *u)) {
                return Err(StoreError::File(format!("plan file: task {} names unknown unit {unknown}", task.number)));
            }
        }
        Ok(file)
    }
}

row! {
    /// The plan: its title, document number, dates, and a note on how its units were read.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PlanInfo {
        pub title: String,
        pub document: String,
        pub issued_on: NaiveDate,
        pub starts_on: NaiveDate,
        pub ends_on: NaiveDate,
        pub note: String,
    }
}

row! {
    #[derive(Debug, Clone, Serialize, PartialEq)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PlanUnit {
        pub id: i64,
        pub code: String,
        pub name: String,
        pub name_en: String,
        /// Other spellings the plan uses, `、`-joined.
        pub aliases: String,
        /// Leads the tracking of the whole plan (its city accounts set deadlines, decide libraries).
        pub oversees: bool,
    }
}

impl PlanUnit {
    pub fn label(&self, english: bool) -> &str {
        if english { &self.name_en } else { &self.name }
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PlanTask {
        pub number: i64,
        /// `二（一）`, `三`.
        pub section: String,
        pub section_title: String,
        pub title: String,
        pub body: String,
        /// The 责任单位 as the plan writes them; absent where it names none.
        pub units_as_written: Option<String>,
        /// Why the units are what they are, where the plan does not say.
        pub units_note: Option<String>,
        /// `not_started`, `in_progress`, `done` or `delayed`.
        pub status: String,
        pub deadline: NaiveDate,
        pub version: i64,
        pub updated_at: DateTime<Utc>,
        pub reports: i64,
        pub last_reported_on: Option<NaiveDate>,
    }
}

impl PlanTask {
    pub fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.status).unwrap_or(TaskStatus::NotStarted)
    }

    pub fn overdue(&self, today: NaiveDate) -> bool {
        jiazheng_core::oversight::plan::is_overdue(self.status(), self.deadline, today)
    }
}

/// A task's unit, in the plan's order (position 0 leads).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskUnit {
    pub task_number: i64,
    pub position: i64,
    pub unit: PlanUnit,
}

row! {
    struct TaskUnitRow {
        #[flatten] unit: PlanUnit,
        task_number: i64,
        position: i64,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ProgressReport {
        pub id: i64,
        pub task_number: i64,
        pub task_title: String,
        pub unit_id: i64,
        pub unit_name: String,
        pub unit_name_en: String,
        /// The district a district account reported for.
        pub district_name: Option<String>,
        pub reported_on: NaiveDate,
        /// `in_progress`, `done` or `delayed`.
        pub status: String,
        pub body: String,
        pub reporter: String,
        pub created_at: DateTime<Utc>,
        /// The evidence file's name, when one came with the report.
        pub file_name: Option<String>,
    }
}

/// Filters of the tracker.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub unit: Option<i64>,
    pub status: Option<TaskStatus>,
    /// Only tasks past their deadline and not done, as of this Beijing date.
    pub overdue_on: Option<NaiveDate>,
}

/// How many tasks stand where, and how many are overdue.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanSummary {
    pub total: i64,
    pub not_started: i64,
    pub in_progress: i64,
    pub done: i64,
    pub delayed: i64,
    pub overdue: i64,
}

/// An evidence file as received.
#[derive(Debug, Clone)]
pub struct EvidenceFile {
    pub name: String,
    pub kind: EvidenceType,
    pub bytes: Vec<u8>,
}

const SELECT_TASK: &str = "SELECT t.number, t.section, t.section_title, t.title, t.body, t.units_as_written,
        t.units_note, t.status, t.deadline, t.version, t.updated_at,
        CAST((SELECT COUNT(*) FROM plan_progress p WHERE p.task_number = t.number) AS BIGINT) AS reports,
        (SELECT MAX(p.reported_on) FROM plan_progress p WHERE p.task_number = t.number) AS last_reported_on
    FROM plan_tasks t";

const SELECT_PROGRESS: &str = "SELECT p.id, p.task_number, t.title AS task_title, p.unit_id, u.name AS unit_name,
        u.name_en AS unit_name_en, d.name AS district_name, p.reported_on, p.status, p.body,
        a.display_name AS reporter, p.created_at, f.name AS file_name
    FROM plan_progress p JOIN plan_tasks t ON t.number = p.task_number JOIN plan_units u ON u.id = p.unit_id
    JOIN accounts a ON a.id = p.reported_by LEFT JOIN divisions d ON d.code = p.district_code
    LEFT JOIN plan_progress_files f ON f.progress_id = p.id";

const SELECT_UNIT: &str = "SELECT u.id, u.code, u.name, u.name_en, u.aliases, u.oversees FROM plan_units u";

fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

fn task_label(task: &PlanTask) -> String {
    format!("任务{}：{}", task.number, task.title)
}

fn closed_error(refusal: Refusal) -> StoreError {
    match refusal.invalid() {
        Some(error) => StoreError::Invalid(FieldErrors(vec![error])),
        None => StoreError::Refused("the unit is not responsible for this task".into()),
    }
}

impl Store {
    /// Loads the shipped Changchun plan when the database has no tasks and its city is Changchun
    /// (code 2201); another city's database stays empty until its own plan is imported.
    pub async fn ensure_default_plan(&self) -> Result<()> {
        let (tasks,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM plan_tasks").fetch_one(p).await?);
        if tasks > 0 {
            return Ok(());
        }
        let changchun: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT code FROM divisions WHERE code = '220100000000'",
        ).fetch_optional(p).await?);
        if changchun.is_some() {
            self.import_plan(&PlanFile::parse(CHANGCHUN_PLAN)?).await?;
        }
        Ok(())
    }

    /// Loads a plan: its dates, units and tasks (each deadline the plan's end), in one
    /// transaction. Refused (`plan_loaded`) when tasks exist already.
    pub async fn import_plan(&self, file: &PlanFile) -> Result<()> {
        let at = now();
        write_tx!(self, tx => async {
            let (tasks,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM plan_tasks").fetch_one(&mut *tx).await?;
            if tasks > 0 {
                return Err(StoreError::Conflict { what: "plan_loaded", existing_id: None });
            }
            let m = &file.plan;
            sqlx::query(
                "INSERT INTO plan_info (id, title, document, issued_on, starts_on, ends_on, note, loaded_at)
                 VALUES (1, $1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET title = excluded.title, document = excluded.document,
                   issued_on = excluded.issued_on, starts_on = excluded.starts_on, ends_on = excluded.ends_on,
                   note = excluded.note, loaded_at = excluded.loaded_at",
            )
            .bind(&m.title).bind(&m.document).bind(m.issued_on).bind(m.starts_on).bind(m.ends_on).bind(&m.note).bind(at)
            .execute(&mut *tx).await?;
            let mut ids = std::collections::HashMap::new();
            for u in &file.units {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO plan_units (code, name, name_en, aliases, oversees) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en,
                       aliases = excluded.aliases, oversees = excluded.oversees
                     RETURNING id",
                )
                .bind(&u.code).bind(&u.name).bind(&u.name_en).bind(u.aliases.join("、")).bind(u.oversees)
                .fetch_one(&mut *tx).await?;
                ids.insert(u.code.as_str(), id);
            }
            for t in &file.tasks {
                sqlx::query(
                    "INSERT INTO plan_tasks (number, section, section_title, title, body, units_as_written, units_note,
                         status, deadline, version, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'not_started', $8, 1, $9)",
                )
                .bind(t.number).bind(&t.section).bind(&t.section_title).bind(&t.title).bind(&t.text)
                .bind(&t.units_as_written).bind(&t.units_note).bind(m.ends_on).bind(at)
                .execute(&mut *tx).await?;
                for (position, code) in t.units.iter().enumerate() {
                    sqlx::query("INSERT INTO plan_task_units (task_number, unit_id, position) VALUES ($1, $2, $3)")
                        .bind(t.number).bind(ids[code.as_str()]).bind(position as i64)
                        .execute(&mut *tx).await?;
                }
            }
            Ok(())
        }.await)
    }

    pub async fn plan_info(&self) -> Result<Option<PlanInfo>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT title, document, issued_on, starts_on, ends_on, note FROM plan_info WHERE id = 1",
        ).fetch_optional(p).await?))
    }

    pub async fn plan_units(&self) -> Result<Vec<PlanUnit>> {
        let q = sql(format!("{SELECT_UNIT} ORDER BY u.id"));
        Ok(on_pool!(self, p => sqlx::query_as(q).fetch_all(p).await?))
    }

    /// The unit a (regulator) account acts for.
    pub async fn plan_unit_of(&self, account_id: i64) -> Result<Option<PlanUnit>> {
        let q = sql(format!("{SELECT_UNIT} JOIN plan_unit_accounts ua ON ua.unit_id = u.id WHERE ua.account_id = $1"));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(account_id).fetch_optional(p).await?))
    }

    /// Tags a regulator account with the unit it acts for (or clears the tag); an admin's write,
    /// audited with the unit before and after.
    pub async fn set_account_plan_unit(&self, account_id: i64, unit_id: Option<i64>, actor: i64) -> Result<()> {
        let account = self.account_listing(account_id).await?;
        if unit_id.is_some() && account.role != Role::Regulator.as_str() {
            return Err(StoreError::Invalid(FieldErrors(vec![
                jiazheng_core::field::Invalid::new(
                    "not_regulator",
                    "只有监管部门账号可以指定责任单位",
                    "only regulator accounts act for a unit",
                )
                .at("unit"),
            ])));
        }
        let before = self.plan_unit_of(account_id).await?;
        let after = match unit_id {
            Some(id) => Some(self.plan_units().await?.into_iter().find(|u| u.id == id).ok_or_else(|| {
                StoreError::Invalid(FieldErrors(vec![jiazheng_core::field::Invalid::required().at("unit")]))
            })?),
            None => None,
        };
        if before.as_ref().map(|u| u.id) == after.as_ref().map(|u| u.id) {
            return Ok(());
        }
        let record = AuditRecord {
            actor,
            action: "plan.unit_assign",
            subject_kind: "account",
            subject_id: account_id,
            subject_label: format!("{}（{}）", account.display_name, account.username),
            before: before.as_ref().map(|u| serde_json::json!({ "unit": u.name })),
            after: after.as_ref().map(|u| serde_json::json!({ "unit": u.name })),
        };
        let at = now();
        write_tx!(self, tx => async {
            match &after {
                Some(unit) => {
                    sqlx::query(
                        "INSERT INTO plan_unit_accounts (account_id, unit_id, set_by, set_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (account_id) DO UPDATE SET unit_id = excluded.unit_id, set_by = excluded.set_by,
                           set_at = excluded.set_at",
                    )
                    .bind(account_id).bind(unit.id).bind(actor).bind(at).execute(&mut *tx).await?;
                }
                None => {
                    sqlx::query("DELETE FROM plan_unit_accounts WHERE account_id = $1")
                        .bind(account_id).execute(&mut *tx).await?;
                }
            }
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)
    }

    /// Whether `who` oversees the plan: a city regulator acting for no unit, or for a unit that
    /// leads the tracking (市发改委, 市商务局). Sets deadlines, reopens tasks, decides libraries.
    pub async fn may_oversee(&self, who: &Principal) -> Result<bool> {
        if who.role != Role::Regulator || who.scope != Scope::City {
            return Ok(false);
        }
        Ok(self.plan_unit_of(who.account_id).await?.is_none_or(|u| u.oversees))
    }

    async fn require_overseer(&self, who: &Principal) -> Result<()> {
        if self.may_oversee(who).await? {
            Ok(())
        } else {
            Err(StoreError::Refused("only the overseeing city regulator".into()))
        }
    }

    /// Every task's units, in the plan's order.
    pub async fn task_units(&self) -> Result<Vec<TaskUnit>> {
        let rows: Vec<TaskUnitRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT tu.task_number, tu.position, u.id, u.code, u.name, u.name_en, u.aliases, u.oversees
             FROM plan_task_units tu JOIN plan_units u ON u.id = tu.unit_id ORDER BY tu.task_number, tu.position",
        ).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| TaskUnit { task_number: r.task_number, position: r.position, unit: r.unit })
            .collect())
    }

    /// The tracker: tasks in the plan's order, filtered.
    pub async fn plan_tasks(&self, filter: &TaskFilter, page: PageRequest) -> Result<Page<PlanTask>> {
        let overdue = filter.overdue_on.is_some();
        let today = filter.overdue_on.unwrap_or_else(jiazheng_core::calendar::beijing_today);
        let filters = "WHERE ($1 = 0 OR t.number IN (SELECT task_number FROM plan_task_units WHERE unit_id = $1))
              AND ($2 = '' OR t.status = $2)
              AND ($3 = FALSE OR (t.status <> 'done' AND t.deadline < $4))";
        let q = sql(format!("{SELECT_TASK} {filters} ORDER BY t.number LIMIT $5 OFFSET $6"));
        let count = sql(format!("SELECT COUNT(*) FROM plan_tasks t {filters}"));
        let unit = filter.unit.unwrap_or(0);
        let status = filter.status.map_or("", |s| s.as_str());
        let items: Vec<PlanTask> = on_pool!(self, p => sqlx::query_as(q)
            .bind(unit).bind(status).bind(overdue).bind(today).bind(page.limit()).bind(page.offset())
            .fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(count)
                    .bind(unit).bind(status).bind(overdue).bind(today).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// Every task, for the report.
    pub async fn all_plan_tasks(&self) -> Result<Vec<PlanTask>> {
        let q = sql(format!("{SELECT_TASK} ORDER BY t.number LIMIT 1000"));
        Ok(on_pool!(self, p => sqlx::query_as(q).fetch_all(p).await?))
    }

    pub async fn plan_task(&self, number: i64) -> Result<PlanTask> {
        let q = sql(format!("{SELECT_TASK} WHERE t.number = $1"));
        on_pool!(self, p => sqlx::query_as(q).bind(number).fetch_optional(p).await?).ok_or(StoreError::NotFound)
    }

    /// Counts by status and overdue as of `today`.
    pub async fn plan_summary(&self, today: NaiveDate) -> Result<PlanSummary> {
        let rows: Vec<(String, i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT status, CAST(COUNT(*) AS BIGINT),
                    CAST(SUM(CASE WHEN status <> 'done' AND deadline < $1 THEN 1 ELSE 0 END) AS BIGINT)
             FROM plan_tasks GROUP BY status",
        ).bind(today).fetch_all(p).await?);
        let mut s = PlanSummary::default();
        for (status, n, overdue) in rows {
            s.total += n;
            s.overdue += overdue;
            match status.as_str() {
                "not_started" => s.not_started = n,
                "in_progress" => s.in_progress = n,
                "done" => s.done = n,
                _ => s.delayed = n,
            }
        }
        Ok(s)
    }

    /// A task's reports, newest first.
    pub async fn task_progress(&self, number: i64, page: PageRequest) -> Result<Page<ProgressReport>> {
        let q = sql(format!(
            "{SELECT_PROGRESS} WHERE p.task_number = $1 ORDER BY p.reported_on DESC, p.id DESC LIMIT $2 OFFSET $3"
        ));
        let items: Vec<ProgressReport> = on_pool!(self, p => sqlx::query_as(q)
            .bind(number).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
                    "SELECT COUNT(*) FROM plan_progress WHERE task_number = $1",
                ).bind(number).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// Each task's latest report (by date, then entry), for the tracker's report.
    pub async fn latest_progress(&self) -> Result<Vec<ProgressReport>> {
        let q = sql(format!(
            "{SELECT_PROGRESS} WHERE p.id = (SELECT q.id FROM plan_progress q WHERE q.task_number = p.task_number
                 ORDER BY q.reported_on DESC, q.id DESC LIMIT 1)
             ORDER BY p.task_number"
        ));
        Ok(on_pool!(self, p => sqlx::query_as(q).fetch_all(p).await?))
    }

    /// A unit's report on a task, with an optional evidence file, in one transaction: the task
    /// moves to the reported status. Refused: an account acting for no unit, or a unit not
    /// responsible for the task (`Refused`, 403); a done task (`task_closed`, 422); `done` from
    /// a unit that does not lead (`not_lead`, 422).
    pub async fn report_progress(
        &self,
        who: &Principal,
        number: i64,
        draft: &ProgressDraft,
        file: Option<&EvidenceFile>,
    ) -> Result<i64> {
        if who.role != Role::Regulator {
            return Err(StoreError::Refused("units report through regulator accounts".into()));
        }
        let unit = self.plan_unit_of(who.account_id).await?.ok_or_else(|| StoreError::Refused("no unit".into()))?;
        let task = self.plan_task(number).await?;
        let units = self.task_units().await?;
        let mine = units.iter().find(|u| u.task_number == number && u.unit.id == unit.id);
        let reporter = Reporter {
            responsible: mine.is_some(),
            lead: mine.is_some_and(|u| u.position == 0),
            overseer: unit.oversees && who.scope == Scope::City,
        };
        let district = match &who.scope {
            Scope::District(d) => Some(d.to_string()),
            _ => None,
        };
        let at = now();
        write_tx!(self, tx => async {
            let (status,): (String,) = sqlx::query_as("SELECT status FROM plan_tasks WHERE number = $1")
                .bind(number).fetch_one(&mut *tx).await?;
            let current = TaskStatus::parse(&status).unwrap_or(TaskStatus::NotStarted);
            let next = after_report(current, draft.status, reporter).map_err(closed_error)?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO plan_progress (task_number, unit_id, district_code, reported_on, status, body, reported_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(number).bind(unit.id).bind(&district).bind(draft.reported_on).bind(draft.status.as_str())
            .bind(&draft.text).bind(who.account_id).bind(at)
            .fetch_one(&mut *tx).await?;
            if let Some(f) = file {
                sqlx::query("INSERT INTO plan_progress_files (progress_id, name, mime, bytes, sha256) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(jiazheng_core::oversight::plan::file_name(&f.name)).bind(f.kind.mime())
                    .bind(&f.bytes).bind(hex::encode(Sha256::digest(&f.bytes)))
                    .execute(&mut *tx).await?;
            }
            let moved = sqlx::query(
                "UPDATE plan_tasks SET status = $1, version = version + 1, updated_at = $2 WHERE number = $3 AND status = $4",
            )
            .bind(next.as_str()).bind(at).bind(number).bind(current.as_str())
            .execute(&mut *tx).await?.rows_affected();
            if moved == 0 {
                return Err(StoreError::Stale);
            }
            let record = AuditRecord {
                actor: who.account_id,
                action: "plan.progress",
                subject_kind: "plan_task",
                subject_id: number,
                subject_label: task_label(&task),
                before: Some(serde_json::json!({ "status": current.as_str() })),
                after: Some(serde_json::json!({
                    "status": next.as_str(), "unit": unit.name, "reported_on": draft.reported_on.to_string(),
                    "report": id, "evidence": file.map(|f| jiazheng_core::oversight::plan::file_name(&f.name)),
                })),
            };
            audit_in!(&mut *tx, &record)?;
            Ok(id)
        }.await)
    }

    /// Attaches the evidence file to a report of the account's own unit that has none yet
    /// (`evidence_attached` otherwise); another unit's report is refused.
    pub async fn attach_progress_file(&self, who: &Principal, progress_id: i64, file: &EvidenceFile) -> Result<()> {
        let unit = self.plan_unit_of(who.account_id).await?.ok_or_else(|| StoreError::Refused("no unit".into()))?;
        let row: Option<(i64, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT unit_id, task_number FROM plan_progress WHERE id = $1",
        ).bind(progress_id).fetch_optional(p).await?);
        let (unit_id, number) = row.ok_or(StoreError::NotFound)?;
        if unit_id != unit.id || who.role != Role::Regulator {
            return Err(StoreError::Refused("another unit's report".into()));
        }
        let task = self.plan_task(number).await?;
        let name = jiazheng_core::oversight::plan::file_name(&file.name);
        let record = AuditRecord {
            actor: who.account_id,
            action: "plan.evidence",
            subject_kind: "plan_task",
            subject_id: number,
            subject_label: task_label(&task),
            before: None,
            after: Some(serde_json::json!({ "report": progress_id, "evidence": name })),
        };
        write_tx!(self, tx => async {
            sqlx::query("INSERT INTO plan_progress_files (progress_id, name, mime, bytes, sha256) VALUES ($1, $2, $3, $4, $5)")
                .bind(progress_id).bind(&name).bind(file.kind.mime()).bind(&file.bytes)
                .bind(hex::encode(Sha256::digest(&file.bytes)))
                .execute(&mut *tx).await.map_err(StoreError::conflict_on("evidence_attached"))?;
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)
    }

    /// The evidence file of a report: name, type and bytes.
    pub async fn progress_file(&self, progress_id: i64) -> Result<(String, EvidenceType, Vec<u8>)> {
        let row: Option<(String, String, Vec<u8>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT name, mime, bytes FROM plan_progress_files WHERE progress_id = $1",
        ).bind(progress_id).fetch_optional(p).await?);
        let (name, mime, bytes) = row.ok_or(StoreError::NotFound)?;
        let kind = EvidenceType::from_mime(&mime).ok_or(StoreError::NotFound)?;
        Ok((name, kind, bytes))
    }

    /// The overseeing regulator sets a task's deadline (read at `version`).
    pub async fn set_task_deadline(&self, who: &Principal, number: i64, deadline: NaiveDate) -> Result<()> {
        self.require_overseer(who).await?;
        let task = self.plan_task(number).await?;
        if task.deadline == deadline {
            return Ok(());
        }
        let record = AuditRecord {
            actor: who.account_id,
            action: "plan.deadline",
            subject_kind: "plan_task",
            subject_id: number,
            subject_label: task_label(&task),
            before: Some(serde_json::json!({ "deadline": task.deadline.to_string() })),
            after: Some(serde_json::json!({ "deadline": deadline.to_string() })),
        };
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE plan_tasks SET deadline = $1, version = version + 1, updated_at = $2 WHERE number = $3 AND version = $4",
            )
            .bind(deadline).bind(now()).bind(number).bind(task.version)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Stale);
            }
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)
    }

    /// The overseeing regulator reopens a done task, with the reason: it takes reports again.
    pub async fn reopen_task(&self, who: &Principal, number: i64, reason: &str) -> Result<()> {
        self.require_overseer(who).await?;
        let task = self.plan_task(number).await?;
        if task.status() != TaskStatus::Done {
            return Err(StoreError::Conflict { what: "task_not_done", existing_id: None });
        }
        let record = AuditRecord {
            actor: who.account_id,
            action: "plan.reopen",
            subject_kind: "plan_task",
            subject_id: number,
            subject_label: task_label(&task),
            before: Some(serde_json::json!({ "status": "done" })),
            after: Some(serde_json::json!({ "status": "in_progress", "reason": reason })),
        };
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE plan_tasks SET status = 'in_progress', version = version + 1, updated_at = $1
                 WHERE number = $2 AND status = 'done'",
            )
            .bind(now()).bind(number).execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Stale);
            }
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)
    }
}
