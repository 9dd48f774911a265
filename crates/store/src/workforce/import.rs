//! Bulk entry from spreadsheets: training records, certificates, health checks and insurance
//! policies, one kind per file, each row naming the worker by ID number. Like the worker
//! import: all or nothing by default, with a row / column / reason report.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use jiazheng_core::FieldErrors;
use jiazheng_core::field::{FieldError, Invalid};
use jiazheng_core::ids::ResidentId;
use jiazheng_core::workforce::records::{
    CertificateDraft, CertificateForm, HealthCheckDraft, HealthCheckForm, InsuranceDraft, InsuranceForm, TrainingDraft,
    TrainingForm,
};
use jiazheng_core::workforce::{
    CertificateKind, CourseKind, CourseMode, HealthCategory, InsuranceKind, SkillLevel, Trade,
};

use super::Recorder;
use crate::excel::{ImportMode, ImportReport, read_sheet, row_error_in, sheet_template};
use crate::{Result, Store, StoreError, on_pool};

/// Which records a sheet holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Training,
    Certificates,
    HealthChecks,
    Insurance,
}

type Columns = &'static [(&'static str, &'static str, &'static str)];

const TRAINING_COLUMNS: Columns = &[
    ("id_number", "身份证号", "ID number"),
    ("course_kind", "培训类型", "Course kind"),
    ("course_name", "课程名称", "Course"),
    ("provider_name", "培训机构", "Provider"),
    ("mode", "培训方式", "Mode"),
    ("hours", "学时", "Hours"),
    ("started_on", "开课日期", "Started on"),
    ("completed_on", "结业日期", "Completed on"),
    ("exam_result", "考核结果", "Exam result"),
    ("exam_score", "考核分数", "Exam score"),
];

const CERTIFICATE_COLUMNS: Columns = &[
    ("id_number", "身份证号", "ID number"),
    ("kind", "证书类型", "Certificate kind"),
    ("trade", "工种", "Trade"),
    ("level", "等级", "Level"),
    ("issuer", "发证机构", "Issuer"),
    ("number", "证书编号", "Certificate number"),
    ("issued_on", "发证日期", "Issued on"),
    ("valid_until", "有效期至", "Valid until"),
];

const HEALTH_COLUMNS: Columns = &[
    ("id_number", "身份证号", "ID number"),
    ("checked_on", "体检日期", "Checked on"),
    ("institution", "体检机构", "Institution"),
    ("category", "体检类别", "Category"),
    ("result", "体检结论", "Result"),
    ("notes", "备注", "Notes"),
];

const INSURANCE_COLUMNS: Columns = &[
    ("id_number", "身份证号", "ID number"),
    ("kind", "险种", "Kind"),
    ("insurer", "保险公司", "Insurer"),
    ("policy_number", "保单号", "Policy number"),
    ("starts_on", "起保日期", "Starts on"),
    ("ends_on", "终保日期", "Ends on"),
    ("sum_insured", "保额（元）", "Sum insured (yuan)"),
];

/// Optional columns; every other column must be present.
const OPTIONAL: &[&str] = &["mode", "exam_result", "exam_score", "trade", "level", "valid_until", "notes"];

/// A parsed record of any kind.
#[derive(Debug, Clone)]
pub enum RecordDraft {
    Training(TrainingDraft),
    Certificate(CertificateDraft),
    HealthCheck(HealthCheckDraft),
    Insurance(InsuranceDraft),
}

fn labels<T: Copy>(all: &[T], label: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|v| label(*v)).collect::<Vec<_>>().join("、")
}

impl RecordKind {
    pub const ALL: [RecordKind; 4] = [Self::Training, Self::Certificates, Self::HealthChecks, Self::Insurance];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "training" | "trainings" => Some(Self::Training),
            "certificates" | "certificate" => Some(Self::Certificates),
            "health" | "health_checks" => Some(Self::HealthChecks),
            "insurance" => Some(Self::Insurance),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Training => "training",
            Self::Certificates => "certificates",
            Self::HealthChecks => "health",
            Self::Insurance => "insurance",
        }
    }

    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Self::Training, false) => "培训记录",
            (Self::Training, true) => "Training records",
            (Self::Certificates, false) => "技能证书",
            (Self::Certificates, true) => "Certificates",
            (Self::HealthChecks, false) => "健康体检",
            (Self::HealthChecks, true) => "Health checks",
            (Self::Insurance, false) => "保险保单",
            (Self::Insurance, true) => "Insurance policies",
        }
    }

    pub fn columns(self) -> Columns {
        match self {
            Self::Training => TRAINING_COLUMNS,
            Self::Certificates => CERTIFICATE_COLUMNS,
            Self::HealthChecks => HEALTH_COLUMNS,
            Self::Insurance => INSURANCE_COLUMNS,
        }
    }

    /// The closed vocabulary of a column, as (code, Chinese, English), for pick lists.
    pub fn choices(self, field: &str) -> Option<Vec<(&'static str, &'static str, &'static str)>> {
        fn all<T: Copy>(
            values: &[T],
            f: impl Fn(T) -> (&'static str, &'static str, &'static str),
        ) -> Vec<(&'static str, &'static str, &'static str)> {
            values.iter().map(|v| f(*v)).collect()
        }
        let pass_fail = vec![("pass", "合格", "Pass"), ("fail", "不合格", "Fail")];
        Some(match (self, field) {
            (Self::Training, "course_kind") => all(CourseKind::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            (Self::Training, "mode") => all(CourseMode::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            (Self::Training, "exam_result") | (Self::HealthChecks, "result") => pass_fail,
            (Self::Certificates, "kind") => all(CertificateKind::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            (Self::Certificates, "trade") => all(Trade::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            (Self::Certificates, "level") => all(SkillLevel::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            (Self::HealthChecks, "category") => all(HealthCategory::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            (Self::Insurance, "kind") => all(InsuranceKind::ALL, |v| (v.as_str(), v.label_zh(), v.label_en())),
            _ => return None,
        })
    }

    /// Whether a column may be left empty.
    pub fn optional(field: &str) -> bool {
        OPTIONAL.contains(&field)
    }

    /// An empty sheet with this kind's columns and the words each column accepts.
    pub fn template(self) -> Result<Vec<u8>> {
        let hint = match self {
            Self::Training => format!(
                "培训类型：{}；培训方式：线下/线上；考核结果：合格/不合格；日期如 2026-03-01",
                labels(CourseKind::ALL, |k| k.label_zh())
            ),
            Self::Certificates => format!(
                "证书类型：{}；家政服务员证书须填工种（家务服务员/母婴护理员/家庭照护员）和等级（五级/初级 … 二级/技师）",
                labels(CertificateKind::ALL, |k| k.label_zh())
            ),
            Self::HealthChecks => format!(
                "体检类别：{}；体检结论：合格/不合格；体检结果加密保存",
                labels(HealthCategory::ALL, |k| k.label_zh())
            ),
            Self::Insurance => {
                format!("险种：{}；保额以元为单位", labels(InsuranceKind::ALL, |k| k.label_zh()))
            }
        };
        sheet_template(self.code(), self.columns(), &hint)
    }

    /// Parses one record from its column values (a sheet row or a page's form).
    pub fn parse_row(
        self,
        values: &mut HashMap<&'static str, String>,
        today: NaiveDate,
    ) -> Result<RecordDraft, FieldErrors> {
        let mut get = |field: &str| values.remove(field).unwrap_or_default();
        match self {
            Self::Training => TrainingForm {
                course_kind: get("course_kind"),
                course_name: get("course_name"),
                provider_name: get("provider_name"),
                mode: get("mode"),
                hours: get("hours"),
                started_on: get("started_on"),
                completed_on: get("completed_on"),
                exam_result: get("exam_result"),
                exam_score: get("exam_score"),
            }
            .parse(today)
            .map(RecordDraft::Training),
            Self::Certificates => CertificateForm {
                kind: get("kind"),
                trade: get("trade"),
                level: get("level"),
                issuer: get("issuer"),
                number: get("number"),
                issued_on: get("issued_on"),
                valid_until: get("valid_until"),
            }
            .parse(today)
            .map(RecordDraft::Certificate),
            Self::HealthChecks => HealthCheckForm {
                checked_on: get("checked_on"),
                institution: get("institution"),
                category: get("category"),
                result: get("result"),
                notes: get("notes"),
            }
            .parse(today)
            .map(RecordDraft::HealthCheck),
            Self::Insurance => InsuranceForm {
                kind: get("kind"),
                insurer: get("insurer"),
                policy_number: get("policy_number"),
                starts_on: get("starts_on"),
                ends_on: get("ends_on"),
                sum_insured: get("sum_insured"),
            }
            .parse()
            .map(RecordDraft::Insurance),
        }
    }
}

impl Store {
    /// Imports one kind of record for the workers the agency employs (active bindings).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_records(
        &self,
        kind: RecordKind,
        bytes: Vec<u8>,
        agency_id: i64,
        account_id: Option<i64>,
        mode: ImportMode,
        today: NaiveDate,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ImportReport> {
        let columns = kind.columns();
        let rows = tokio::task::spawn_blocking(move || read_sheet(bytes, columns, |f| !OPTIONAL.contains(&f)))
            .await
            .map_err(|_| StoreError::File("reading task failed".into()))??;
        let mut report = ImportReport::new(rows.len());
        let mut parsed: Vec<(usize, String, RecordDraft)> = Vec::new();
        for (row, mut values) in rows {
            let id_number = ResidentId::parse(values.get("id_number").map_or("", String::as_str), today);
            let draft = kind.parse_row(&mut values, today);
            let mut errors: Vec<FieldError> = Vec::new();
            if let Err(invalid) = &id_number {
                errors.push(invalid.clone().at("id_number"));
            }
            if let Err(e) = &draft {
                errors.extend(e.0.iter().cloned());
            }
            match (id_number, draft) {
                (Ok(id), Ok(draft)) if errors.is_empty() => parsed.push((row, id.as_str().to_string(), draft)),
                _ => {
                    for e in &errors {
                        report.refuse(row_error_in(columns, row, e));
                    }
                }
            }
        }
        let workers = self.workers_by_id_number(parsed.iter().map(|(_, n, _)| n.as_str())).await?;
        let own = self.agency_worker_ids(agency_id, workers.values().copied()).await?;
        let mut good: Vec<(i64, RecordDraft)> = Vec::new();
        for (row, number, draft) in parsed {
            // One answer whether or not someone else holds the number: telling "not registered"
            // from "not yours" would let any agency test ID numbers against the register.
            let refusal = match workers.get(&number).filter(|id| own.contains(id)) {
                None => Some(Invalid::new(
                    "not_your_worker",
                    "本企业没有持此身份证号的在职服务员",
                    "no worker employed by your agency has this ID number",
                )),
                Some(id) => {
                    good.push((*id, draft));
                    None
                }
            };
            if let Some(invalid) = refusal {
                report.refuse(row_error_in(columns, row, &invalid.at("id_number")));
            }
        }
        report.finish();
        if mode == ImportMode::AllOrNothing && report.has_errors() {
            return Ok(report);
        }
        report.imported = self.add_records(&good, Recorder::agency(agency_id, account_id)).await?;
        progress(report.imported, report.rows);
        Ok(report)
    }

    /// Writes records of any kinds; each kind in one transaction. Returns how many were written.
    pub async fn add_records(&self, rows: &[(i64, RecordDraft)], by: Recorder) -> Result<usize> {
        let trainings: Vec<(i64, &TrainingDraft, Recorder)> = rows
            .iter()
            .filter_map(|(w, d)| if let RecordDraft::Training(t) = d { Some((*w, t, by)) } else { None })
            .collect();
        let certificates: Vec<(i64, &CertificateDraft, Recorder)> = rows
            .iter()
            .filter_map(|(w, d)| if let RecordDraft::Certificate(c) = d { Some((*w, c, by)) } else { None })
            .collect();
        let checks: Vec<(i64, &HealthCheckDraft, Recorder)> = rows
            .iter()
            .filter_map(|(w, d)| if let RecordDraft::HealthCheck(h) = d { Some((*w, h, by)) } else { None })
            .collect();
        // A worker's own policy is held by the agency that recorded it.
        let holder = by.source_id.unwrap_or_default();
        let policies: Vec<(Option<i64>, i64, &InsuranceDraft, Recorder)> = rows
            .iter()
            .filter_map(|(w, d)| if let RecordDraft::Insurance(i) = d { Some((Some(*w), holder, i, by)) } else { None })
            .collect();
        let mut written = 0;
        if !trainings.is_empty() {
            written += self.add_trainings(&trainings).await?.len();
        }
        if !certificates.is_empty() {
            written += self.add_certificates(&certificates).await?.len();
        }
        if !checks.is_empty() {
            written += self.add_health_checks(&checks).await?.len();
        }
        if !policies.is_empty() {
            written += self.add_policies(&policies).await?.len();
        }
        Ok(written)
    }

    /// Which of these workers the agency employs (an active binding): the only ones it may write about.
    pub async fn agency_worker_ids(&self, agency_id: i64, workers: impl Iterator<Item = i64>) -> Result<HashSet<i64>> {
        let ids: Vec<i64> = workers.collect();
        let mut own = HashSet::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i64,)> = on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT worker_id FROM bindings WHERE status = 'active' AND agency_id = ",
                );
                qb.push_bind(agency_id).push(" AND worker_id IN (");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            own.extend(rows.into_iter().map(|(id,)| id));
        }
        Ok(own)
    }
}
