//! A school enters a class's exam results from a spreadsheet: one row per enrolled worker,
//! found by ID number. Every row is checked first (enrolled in this course, the result agreeing
//! with its score and with the course's hours); one refused row writes nothing.

use std::collections::HashMap;

use chrono::NaiveDate;
use jiazheng_core::field::FieldError;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::workforce::records::{ResultDraft, ResultForm};
use rust_xlsxwriter::Workbook;

use crate::excel::{ImportReport, header_format, read_sheet, row_error_in, xlsx_error};
use crate::{Result, Store, StoreError, on_pool};

/// The columns of a results sheet, as its header row names them.
pub const RESULT_COLUMNS: [(&str, &str, &str); 5] = [
    ("id_number", "身份证号", "ID number"),
    ("name", "姓名", "Name"),
    ("completed_on", "结业日期", "Completed on"),
    ("exam_result", "考核结果", "Result"),
    ("exam_score", "分数", "Score"),
];

/// A course's results sheet: the header, and a row per enrolled student with their name and
/// masked ID number as the course page shows them, for the school to fill in.
pub fn results_template(students: &[(String, String)]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = header_format();
    for (column, (_, zh, _)) in RESULT_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, column as u16, *zh, &header).map_err(xlsx_error)?;
        sheet.set_column_width(column as u16, if column == 0 { 22 } else { 14 }).map_err(xlsx_error)?;
    }
    for (row, (name, id_masked)) in students.iter().enumerate() {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, id_masked).map_err(xlsx_error)?;
        sheet.write_string(row, 1, name).map_err(xlsx_error)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

impl Store {
    /// Reads a results sheet for one of the provider's courses and, when every row is good,
    /// enters all its results in one transaction.
    pub async fn import_results(
        &self,
        course_id: i64,
        provider_id: i64,
        bytes: Vec<u8>,
        today: NaiveDate,
    ) -> Result<ImportReport> {
        let course = self.course(course_id).await?;
        if course.provider_id != provider_id {
            return Err(StoreError::NotFound);
        }
        let required = |field: &str| matches!(field, "id_number" | "completed_on" | "exam_result");
        let rows = tokio::task::spawn_blocking(move || read_sheet(bytes, &RESULT_COLUMNS, required))
            .await
            .map_err(|_| StoreError::File("reading task failed".into()))??;
        let mut report = ImportReport::new(rows.len());
        let numbers: Vec<(usize, std::result::Result<ResidentId, FieldError>)> = rows
            .iter()
            .map(|(row, cells)| {
                let raw = cells.get("id_number").map(String::as_str).unwrap_or_default();
                (*row, ResidentId::parse(raw, today).map_err(|e| e.at("id_number")))
            })
            .collect();
        let workers =
            self.workers_by_id_number(numbers.iter().filter_map(|(_, n)| n.as_ref().ok()).map(|n| n.as_str())).await?;
        let students: Vec<(i64, i64, NaiveDate, String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT t.worker_id, t.id, t.started_on, w.id_masked, w.name FROM training_records t JOIN workers w ON w.id = t.worker_id
             WHERE t.course_id = $1 AND t.source = 'provider' AND t.source_id = $2",
        ).bind(course_id).bind(provider_id).fetch_all(p).await?);
        let enrolled: HashMap<i64, (i64, NaiveDate)> =
            students.iter().map(|(worker, record, started, _, _)| (*worker, (*record, *started))).collect();
        // The template lists each student by name and masked ID number; together they find them.
        let by_masked: HashMap<(&str, &str), (i64, NaiveDate)> = students
            .iter()
            .map(|(_, record, started, masked, name)| ((masked.as_str(), name.as_str()), (*record, *started)))
            .collect();
        let hours = u32::try_from(course.hours).unwrap_or(0);
        let mut good: Vec<(i64, ResultDraft)> = Vec::new();
        let mut seen: HashMap<i64, usize> = HashMap::new();
        for ((row, cells), (_, number)) in rows.iter().zip(&numbers) {
            let cell = |k: &str| cells.get(k).cloned().unwrap_or_default();
            let mut errors: Vec<FieldError> = Vec::new();
            let masked = cell("id_number");
            let enrolment = match number {
                // As the template lists them: masked number and name, both as enrolled.
                Err(_) if masked.contains('*') => {
                    let found = by_masked.get(&(masked.trim(), cell("name").trim())).copied();
                    if found.is_none() {
                        errors.push(not_enrolled());
                    }
                    found
                }
                Err(e) => {
                    errors.push(e.clone());
                    None
                }
                Ok(number) => {
                    let found = workers.get(number.as_str()).and_then(|w| enrolled.get(w));
                    if found.is_none() {
                        errors.push(not_enrolled());
                    }
                    found.copied()
                }
            };
            if let Some((record, _)) = enrolment
                && let Some(first) = seen.insert(record, *row)
            {
                errors.push(
                    jiazheng_core::field::Invalid::new(
                        "duplicate_in_file",
                        format!("与第{first}行是同一位学员"),
                        format!("the same student as row {first}"),
                    )
                    .at("id_number"),
                );
            }
            let form = ResultForm {
                completed_on: cell("completed_on"),
                exam_result: cell("exam_result"),
                exam_score: cell("exam_score"),
            };
            let started = enrolment.map_or(course.created_at.date_naive(), |(_, started)| started);
            match form.parse(started, hours, today) {
                Ok(draft) => {
                    if let Some((record, _)) = enrolment.filter(|_| errors.is_empty()) {
                        good.push((record, draft));
                    }
                }
                Err(refused) => errors.extend(refused.0),
            }
            for error in &errors {
                report.refuse(row_error_in(&RESULT_COLUMNS, *row, error));
            }
        }
        report.finish();
        if !report.has_errors() {
            self.record_results(provider_id, &good).await?;
            report.imported = good.len();
        }
        Ok(report)
    }
}

fn not_enrolled() -> FieldError {
    jiazheng_core::field::Invalid::new(
        "not_enrolled",
        "此身份证号不是本课程的学员，请先报名",
        "no student of this course has this ID number; enrol them first",
    )
    .at("id_number")
}
