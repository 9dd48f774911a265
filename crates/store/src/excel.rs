//! Spreadsheets in and out: the worker template, all-or-nothing import with a row-by-row
//! error report, and the agency's export. The same core parsers serve pages, API and import.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use jiazheng_core::field::FieldError;
use jiazheng_core::registry::ServiceSet;
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::{EducationLevel, WorkerDraft, WorkerForm};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;

use crate::registry::workers::{NewBinding, NewWorker};
use crate::{Result, Store, StoreError, on_pool};

/// The worker sheet's columns: field name, Chinese header, English header.
pub const WORKER_COLUMNS: [(&str, &str, &str); 10] = [
    ("id_number", "身份证号", "ID number"),
    ("name", "姓名", "Name"),
    ("phone", "手机号", "Mobile"),
    ("ethnicity", "民族", "Ethnicity"),
    ("education_level", "学历", "Education"),
    ("education_major", "专业", "Major"),
    ("education_related", "家政相关学历", "Domestic-service education"),
    ("home_street", "居住街道代码", "Home street code"),
    ("services", "服务项目", "Services"),
    ("kind", "用工方式", "Employment"),
];

/// One refused cell, as the error report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub field: String,
    pub message_zh: String,
    pub message_en: String,
}

/// Refused cells kept for the report; past this only the count grows. A sheet of bad rows can
/// hold millions of refused cells, and the report is meant to be read.
pub const MAX_REPORTED_ERRORS: usize = 10_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    /// The first `MAX_REPORTED_ERRORS` refused cells, by row.
    pub errors: Vec<RowError>,
    /// Every refused cell, kept or not.
    pub error_count: usize,
    /// Rows with at least one refused cell (at most one entry per sheet row).
    #[serde(skip)]
    bad: std::collections::HashSet<usize>,
}

impl ImportReport {
    pub fn new(rows: usize) -> Self {
        Self { rows, ..Default::default() }
    }

    /// Rows that had at least one error.
    pub fn bad_rows(&self) -> usize {
        self.bad.len()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count > 0
    }

    /// Counts a refused cell and keeps it while the report has room.
    pub fn refuse(&mut self, error: RowError) {
        self.bad.insert(error.row);
        self.error_count += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(error);
        }
    }

    /// Puts the kept errors in row order once every pass is done.
    pub fn finish(&mut self) {
        self.errors.sort_by_key(|e| e.row);
    }
}

pub(crate) fn xlsx_error(e: XlsxError) -> StoreError {
    StoreError::File(e.to_string())
}

pub(crate) fn header_format() -> Format {
    Format::new().set_bold().set_background_color(0xDDEBF7)
}

fn header_label(field: &str) -> String {
    column_label(&WORKER_COLUMNS, field)
}

/// The bilingual header of a column, as templates write it.
pub(crate) fn column_label(columns: &[(&str, &str, &str)], field: &str) -> String {
    columns.iter().find(|(f, _, _)| *f == field).map_or_else(|| field.to_string(), |(_, zh, en)| format!("{zh} / {en}"))
}

/// An empty workbook with the expected columns and one line of guidance.
pub fn worker_template() -> Result<Vec<u8>> {
    let levels: Vec<&str> = EducationLevel::ALL.iter().map(|l| l.label_zh()).collect();
    let hint = format!(
        "学历可填：{}；服务项目用顿号分隔，如：日常保洁、育儿嫂；用工方式：员工制或中介制；家政相关学历：是/否",
        levels.join("、")
    );
    sheet_template("workers", &WORKER_COLUMNS, &hint)
}

/// A workbook with one sheet of bilingual column headers and a sheet of notes.
pub(crate) fn sheet_template(name: &str, columns: &[(&str, &str, &str)], hint: &str) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name(name).map_err(xlsx_error)?;
    for (col, (field, _, _)) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, column_label(columns, field), &header_format())
            .map_err(xlsx_error)?;
        sheet.set_column_width(col as u16, 22).map_err(xlsx_error)?;
    }
    let notes = book.add_worksheet().set_name("说明 notes").map_err(xlsx_error)?;
    notes.write_string(0, 0, hint).map_err(xlsx_error)?;
    book.save_to_buffer().map_err(xlsx_error)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::DateTime(dt) => dt.as_datetime().map(|d| d.date().to_string()).unwrap_or_else(|| dt.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

/// One data row as typed, with its spreadsheet row number (1-based, header is row 1).
#[derive(Debug, Clone)]
pub struct WorkerRow {
    pub row: usize,
    pub form: WorkerForm,
    pub kind: String,
}

/// Data rows a sheet may hold (a whole agency's register fits many times over).
pub const MAX_SHEET_ROWS: u32 = 200_000;
/// Columns a sheet may use; templates have at most a dozen.
pub const MAX_SHEET_COLUMNS: u32 = 64;
/// What the parts of an .xlsx may unpack to, in all: a zip of a few MB can declare gigabytes.
/// A full sheet of 200,000 rows unpacks to about 60 MB.
const MAX_UNPACKED_BYTES: u64 = 160 * 1024 * 1024;
/// The shared strings are read into memory whole (the sheet itself is streamed).
const MAX_SHARED_STRINGS_BYTES: u64 = 64 * 1024 * 1024;
const MAX_PARTS: usize = 1_000;
/// The longest cell any import reads; no field is longer than a few hundred characters.
pub const MAX_CELL_CHARS: usize = 2_000;
/// The text all cells of a sheet may hold together once read: one shared string referenced
/// from many cells would otherwise be copied into memory once per cell.
const MAX_SHEET_TEXT_BYTES: usize = 96 * 1024 * 1024;

fn bad_sheet(zh: impl Into<String>, en: impl Into<String>) -> StoreError {
    StoreError::BadSheet { zh: zh.into(), en: en.into() }
}

/// Refuses a workbook whose parts would unpack to more than the platform reads, before any
/// part is unpacked.
fn check_unpacked_size(bytes: &[u8]) -> Result<()> {
    let not_xlsx = || bad_sheet("不是有效的 Excel (.xlsx) 文件", "not a valid Excel (.xlsx) file");
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_xlsx())?;
    if zip.len() > MAX_PARTS {
        return Err(not_xlsx());
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(|_| not_xlsx())?;
        let shared_strings = part.name().map_err(|_| not_xlsx())?.ends_with("sharedStrings.xml");
        if shared_strings && part.size() > MAX_SHARED_STRINGS_BYTES {
            return Err(bad_sheet("文件中的文字内容过多，请拆分后再导入", "the file holds too much text; split it"));
        }
        total = total.saturating_add(part.size());
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(bad_sheet("文件解压后过大，请拆分后再导入", "the file unpacks to too much data; split it"));
    }
    Ok(())
}

/// Reads the first sheet: the header row names the columns (Chinese, English or field name), and
/// each later non-empty row comes back with its sheet row number. Unknown columns and empty rows
/// are skipped. A missing column in `required` refuses the whole file. The sheet is bounded
/// before it is read (declared dimension, then each cell as it streams in), so a small file that
/// claims a huge sheet costs nothing.
pub fn read_sheet(
    bytes: Vec<u8>,
    columns: &[(&'static str, &'static str, &'static str)],
    required: impl Fn(&str) -> bool,
) -> Result<Vec<(usize, HashMap<&'static str, String>)>> {
    check_unpacked_size(&bytes)?;
    let mut book = Xlsx::new(Cursor::new(bytes))
        .map_err(|_| bad_sheet("不是有效的 Excel (.xlsx) 文件", "not a valid Excel (.xlsx) file"))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad_sheet("工作簿中没有工作表", "the workbook has no sheet"))?;
    let mut cells =
        book.worksheet_cells_reader(&first).map_err(|_| bad_sheet("无法读取工作表", "the sheet cannot be read"))?;
    let too_big = || {
        bad_sheet(
            format!("工作表超出上限：最多 {MAX_SHEET_ROWS} 行数据、{MAX_SHEET_COLUMNS} 列"),
            format!("the sheet is too large: at most {MAX_SHEET_ROWS} data rows and {MAX_SHEET_COLUMNS} columns"),
        )
    };
    let declared = cells.dimensions();
    if declared.end.0 > MAX_SHEET_ROWS || declared.end.1 >= MAX_SHEET_COLUMNS {
        return Err(too_big());
    }
    // Row index → (column, text), in the order the sheet holds them.
    let mut grid: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
    let mut text_bytes = 0usize;
    while let Some(cell) = cells.next_cell().map_err(|_| bad_sheet("工作表内容损坏", "the sheet is damaged"))? {
        let (row, column) = cell.get_position();
        if row > MAX_SHEET_ROWS || column >= MAX_SHEET_COLUMNS {
            return Err(too_big());
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.chars().count() > MAX_CELL_CHARS {
            return Err(bad_sheet(
                format!("第 {} 行有单元格超过 {MAX_CELL_CHARS} 个字符", row + 1),
                format!("row {} has a cell longer than {MAX_CELL_CHARS} characters", row + 1),
            ));
        }
        text_bytes += text.len();
        if text_bytes > MAX_SHEET_TEXT_BYTES {
            return Err(bad_sheet(
                format!("工作表文字总量超过 {} MB", MAX_SHEET_TEXT_BYTES / (1024 * 1024)),
                format!("the sheet holds more than {} MB of text", MAX_SHEET_TEXT_BYTES / (1024 * 1024)),
            ));
        }
        if !text.trim().is_empty() {
            grid.entry(row).or_default().push((column, text));
        }
    }
    let mut rows = grid.into_iter();
    let header = match rows.next() {
        Some((_, header)) => header,
        _ => return Err(bad_sheet("工作表为空或缺少表头行", "the sheet is empty or has no header row")),
    };
    let mut position: HashMap<&'static str, u32> = HashMap::new();
    for (index, text) in &header {
        let text = text.trim();
        if let Some((field, _, _)) = columns.iter().find(|(field, zh, en)| {
            text == *field || text == *zh || text.eq_ignore_ascii_case(en) || text == format!("{zh} / {en}")
        }) {
            position.insert(field, *index);
        }
    }
    if let Some((_, zh, en)) = columns.iter().find(|(f, _, _)| required(f) && !position.contains_key(f)) {
        return Err(bad_sheet(format!("缺少列“{zh}”"), format!("missing column '{en}'")));
    }
    Ok(rows
        .map(|(row, cells)| {
            let values = position
                .iter()
                .map(|(field, i)| {
                    let value = cells.iter().find(|(c, _)| c == i).map(|(_, t)| t.clone()).unwrap_or_default();
                    (*field, value)
                })
                .collect();
            (row as usize + 1, values)
        })
        .collect())
}

/// Reads a worker sheet.
pub fn read_worker_rows(bytes: Vec<u8>) -> Result<Vec<WorkerRow>> {
    let rows = read_sheet(bytes, &WORKER_COLUMNS, |field| field != "kind")?;
    Ok(rows
        .into_iter()
        .map(|(row, mut values)| {
            let mut get = |field: &str| values.remove(field).unwrap_or_default();
            WorkerRow {
                row,
                form: WorkerForm {
                    id_number: get("id_number"),
                    name: get("name"),
                    phone: get("phone"),
                    ethnicity: get("ethnicity"),
                    education_level: get("education_level"),
                    education_major: get("education_major"),
                    education_related: get("education_related"),
                    home_street: get("home_street"),
                    services: vec![get("services")],
                },
                kind: get("kind"),
            }
        })
        .collect())
}

fn row_error(row: usize, e: &FieldError) -> RowError {
    row_error_in(&WORKER_COLUMNS, row, e)
}

/// A refused cell of a sheet with these columns.
pub(crate) fn row_error_in(columns: &[(&str, &str, &str)], row: usize, e: &FieldError) -> RowError {
    RowError {
        row,
        column: column_label(columns, &e.field),
        field: e.field.clone(),
        message_zh: e.message_zh.clone(),
        message_en: e.message_en.clone(),
    }
}

/// The error report: one line per refused cell.
pub fn error_report(errors: &[RowError]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("errors").map_err(xlsx_error)?;
    let headers = ["行 / Row", "列 / Column", "原因 / Reason (中文)", "Reason (English)"];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &header_format()).map_err(xlsx_error)?;
        sheet.set_column_width(col as u16, if col < 2 { 14 } else { 40 }).map_err(xlsx_error)?;
    }
    for (i, e) in errors.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, e.row as f64).map_err(xlsx_error)?;
        sheet.write_string(r, 1, &e.column).map_err(xlsx_error)?;
        sheet.write_string(r, 2, &e.message_zh).map_err(xlsx_error)?;
        sheet.write_string(r, 3, &e.message_en).map_err(xlsx_error)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

/// Rows written per transaction by an import.
const IMPORT_CHUNK: usize = 2_000;

/// How the import treats bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Any bad row and nothing is written.
    AllOrNothing,
    /// Good rows are written; bad ones are reported.
    SkipInvalid,
}

impl Store {
    /// Imports a worker sheet for an agency. `progress(done, total)` is called as rows are written.
    pub async fn import_workers(
        &self,
        bytes: Vec<u8>,
        agency_id: i64,
        mode: ImportMode,
        today: NaiveDate,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ImportReport> {
        let rows = tokio::task::spawn_blocking(move || read_worker_rows(bytes))
            .await
            .map_err(|_| StoreError::File("reading task failed".into()))??;
        let mut report = ImportReport::new(rows.len());
        let mut good: Vec<(usize, WorkerDraft, BindingKind)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for row in &rows {
            let parsed = row.form.parse(today);
            let kind =
                if row.kind.trim().is_empty() { Ok(BindingKind::Employee) } else { BindingKind::parse(&row.kind) };
            let mut errors: Vec<FieldError> = parsed.as_ref().err().map(|e| e.0.clone()).unwrap_or_default();
            if let Err(invalid) = &kind {
                errors.push(invalid.clone().at("kind"));
            }
            if let (Ok(draft), Ok(kind)) = (parsed, kind) {
                if let Some(first) = seen.insert(draft.id_number.as_str().to_string(), row.row) {
                    errors.push(FieldError {
                        field: "id_number".into(),
                        code: "duplicate_in_file",
                        message_zh: format!("与第{first}行身份证号重复"),
                        message_en: format!("same ID number as row {first}"),
                    });
                } else if errors.is_empty() {
                    good.push((row.row, draft, kind));
                    continue;
                }
            }
            for e in &errors {
                report.refuse(row_error(row.row, e));
            }
        }
        self.require_registration_budget(agency_id).await?;
        let existing = self.existing_workers(good.iter().map(|(_, d, _)| d)).await?;
        // Each row answered "already registered" tells who is on the register: counted, and
        // past the daily limit the whole report is withheld.
        self.count_registered_answers(agency_id, &existing.values().copied().collect::<Vec<_>>()).await?;
        let streets: Vec<&str> = good.iter().map(|(_, draft, _)| draft.home_street.as_str()).collect();
        let known_streets = self.known_divisions(&streets).await?;
        let mut refuse = |row: usize, field: &str, zh: String, en: String| {
            report.refuse(RowError {
                row,
                column: header_label(field),
                field: field.into(),
                message_zh: zh,
                message_en: en,
            });
        };
        good.retain(|(row, draft, _)| {
            if let Some(id) = existing.get(draft.id_number.as_str()) {
                refuse(
                    *row,
                    "id_number",
                    format!("该身份证号已登记（服务员编号 {id}）"),
                    format!("this ID number is already registered (worker {id})"),
                );
                false
            } else if !known_streets.contains(draft.home_street.as_str()) {
                let invalid = crate::registry::unknown_division();
                refuse(*row, "home_street", invalid.message_zh, invalid.message_en);
                false
            } else {
                true
            }
        });
        report.finish();
        if mode == ImportMode::AllOrNothing && report.has_errors() {
            return Ok(report);
        }
        let rows: Vec<NewWorker> = good
            .iter()
            .map(|(_, draft, kind)| NewWorker {
                draft,
                binding: Some(NewBinding { agency_id, kind: *kind, active: false }),
            })
            .collect();
        // Every row was checked above, outside any transaction. The writes go in short
        // transactions so other writers get the database between them (one transaction for a
        // whole file held SQLite's write lock for half a minute). All or nothing still holds for
        // the outcome: if a chunk fails (someone registered one of these people meanwhile),
        // what this import wrote is taken out again.
        let mut written: Vec<(i64, &WorkerDraft)> = Vec::new();
        for chunk in rows.chunks(IMPORT_CHUNK) {
            match self.insert_workers(chunk).await {
                Ok(ids) => written.extend(ids.into_iter().zip(chunk.iter().map(|r| r.draft))),
                Err(error) => {
                    if mode == ImportMode::AllOrNothing {
                        self.remove_new_workers(&written).await?;
                    }
                    return Err(error);
                }
            }
            report.imported += chunk.len();
            progress(report.imported, report.rows);
        }
        Ok(report)
    }

    /// Workers already registered under any of these ID numbers, by number.
    pub async fn existing_workers<'a>(
        &self,
        drafts: impl Iterator<Item = &'a WorkerDraft>,
    ) -> Result<HashMap<String, i64>> {
        self.workers_by_id_number(drafts.map(|d| d.id_number.as_str())).await
    }

    /// Worker ids by ID number, for the numbers that are registered.
    pub async fn workers_by_id_number<'a>(
        &self,
        numbers: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, i64>> {
        let by_hash: HashMap<Vec<u8>, String> =
            numbers.map(|n| (self.crypto().lookup_hash("id", n), n.to_string())).collect();
        let hashes: Vec<&Vec<u8>> = by_hash.keys().collect();
        let mut found = HashMap::new();
        for chunk in hashes.chunks(500) {
            let rows: Vec<(Vec<u8>, i64)> = on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new("SELECT id_hash, id FROM workers WHERE id_hash IN (");
                let mut list = qb.separated(", ");
                for hash in chunk {
                    list.push_bind((*hash).clone());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            for (hash, id) in rows {
                if let Some(number) = by_hash.get(&hash) {
                    found.insert(number.clone(), id);
                }
            }
        }
        Ok(found)
    }

    /// The agency's employed workers (active bindings: both sides confirmed) with unmasked
    /// identifiers; a pending request exports nothing. The read is logged.
    pub async fn export_workers(&self, agency_id: i64, account_id: Option<i64>) -> Result<Vec<u8>> {
        let rows: Vec<WorkerExportRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT w.id_hash, w.id_cipher, w.name, w.phone_cipher, w.ethnicity, w.education_level, w.education_major,
                    w.education_related, w.home_street, w.services, b.kind
             FROM bindings b JOIN workers w ON w.id = b.worker_id
             WHERE b.agency_id = $1 AND b.status = 'active' ORDER BY w.id",
        ).bind(agency_id).fetch_all(p).await?);
        if let Some(account) = account_id {
            let fields = format!("id_number,phone of {} workers (export)", rows.len());
            self.log_access(account, "agency_workers", agency_id, &fields, "export").await?;
        }
        let mut lines = Vec::with_capacity(rows.len());
        for w in &rows {
            let services = ServiceSet::from_bits(w.services);
            let kind = BindingKind::parse(&w.kind).unwrap_or(BindingKind::Employee);
            let revealed = self.open_worker_identifiers(&w.id_hash, &w.id_cipher, &w.phone_cipher)?;
            lines.push(WorkerLine {
                id_number: revealed.id_number,
                name: w.name.clone(),
                phone: revealed.phone,
                ethnicity: w.ethnicity.clone(),
                education_level: EducationLevel::parse(&w.education_level).unwrap_or(EducationLevel::None),
                education_major: w.education_major.clone(),
                education_related: w.education_related,
                home_street: w.home_street.clone(),
                services,
                kind,
            });
        }
        workers_sheet(&lines)
    }
}

/// One worker as a spreadsheet line: what the export writes and the import reads.
#[derive(Debug, Clone)]
pub struct WorkerLine {
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub ethnicity: String,
    pub education_level: EducationLevel,
    pub education_major: Option<String>,
    pub education_related: bool,
    pub home_street: String,
    pub services: ServiceSet,
    pub kind: BindingKind,
}

impl WorkerLine {
    pub fn from_draft(d: &WorkerDraft, kind: BindingKind) -> Self {
        Self {
            id_number: d.id_number.as_str().to_string(),
            name: d.name.clone(),
            phone: d.phone.as_str().to_string(),
            ethnicity: d.ethnicity.clone(),
            education_level: d.education_level,
            education_major: d.education_major.clone(),
            education_related: d.education_related,
            home_street: d.home_street.to_string(),
            services: d.services,
            kind,
        }
    }
}

/// Writes worker lines under the template's headers, with Chinese labels as people type them.
pub fn workers_sheet(lines: &[WorkerLine]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("workers").map_err(xlsx_error)?;
    for (col, (field, _, _)) in WORKER_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, header_label(field), &header_format()).map_err(xlsx_error)?;
        sheet.set_column_width(col as u16, 22).map_err(xlsx_error)?;
    }
    for (i, w) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        let services: Vec<&str> = w.services.kinds().iter().map(|k| k.label_zh()).collect();
        let values = [
            w.id_number.as_str(),
            w.name.as_str(),
            w.phone.as_str(),
            w.ethnicity.as_str(),
            w.education_level.label_zh(),
            w.education_major.as_deref().unwrap_or_default(),
            if w.education_related { "是" } else { "否" },
            w.home_street.as_str(),
            &services.join("、"),
            w.kind.label_zh(),
        ];
        for (col, value) in values.iter().enumerate() {
            sheet.write_string(r, col as u16, *value).map_err(xlsx_error)?;
        }
    }
    book.save_to_buffer().map_err(xlsx_error)
}

row! {
    struct WorkerExportRow {
        id_hash: Vec<u8>,
        id_cipher: Vec<u8>,
        name: String,
        phone_cipher: Vec<u8>,
        ethnicity: String,
        education_level: String,
        education_major: Option<String>,
        education_related: bool,
        home_street: String,
        services: i64,
        kind: String,
    }
}

/// An agency's monthly statement: every movement on its account, Beijing time, and the total.
pub fn statement_xlsx(title: &str, lines: &[crate::market::payments::StatementLine]) -> Result<Vec<u8>> {
    use jiazheng_core::market::payment::TxnKind;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("statement").map_err(xlsx_error)?;
    sheet.write_string_with_format(0, 0, title, &header_format()).map_err(xlsx_error)?;
    let headers =
        ["时间（北京）/ Time", "订单号 / Order", "类型 / Kind", "服务项目 / Item", "金额（元）/ Amount (yuan)"];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(1, col as u16, *h, &header_format()).map_err(xlsx_error)?;
        sheet.set_column_width(col as u16, if col == 3 { 24 } else { 20 }).map_err(xlsx_error)?;
    }
    let money = Format::new().set_num_format("0.00");
    let mut total = 0_i64;
    for (i, line) in lines.iter().enumerate() {
        let r = i as u32 + 2;
        let at = line.at.with_timezone(&jiazheng_core::calendar::beijing()).format("%Y-%m-%d %H:%M");
        sheet.write_string(r, 0, at.to_string()).map_err(xlsx_error)?;
        sheet.write_string(r, 1, format!("JZ{:08}", line.order_id)).map_err(xlsx_error)?;
        let kind =
            TxnKind::parse(&line.kind).map_or(line.kind.clone(), |k| format!("{} {}", k.label_zh(), k.label_en()));
        sheet.write_string(r, 2, kind).map_err(xlsx_error)?;
        let item = jiazheng_core::market::CatalogItem::label_of(&line.item, false);
        sheet.write_string(r, 3, if item.is_empty() { &line.item } else { item }).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 4, line.amount_fen as f64 / 100.0, &money).map_err(xlsx_error)?;
        total += line.amount_fen;
    }
    let r = lines.len() as u32 + 2;
    sheet.write_string_with_format(r, 3, "合计 / Total", &header_format()).map_err(xlsx_error)?;
    sheet.write_number_with_format(r, 4, total as f64 / 100.0, &money).map_err(xlsx_error)?;
    book.save_to_buffer().map_err(xlsx_error)
}

/// A month's subsidised orders: every order, the sums per agency (or per district when one
/// agency reads it), and the audit list (`oddities`, each in Chinese and English).
pub fn subsidy_statement_xlsx(
    title: &str,
    lines: &[crate::market::subsidies::SubsidyLine],
    by_district: bool,
    oddities: &[(String, String)],
) -> Result<Vec<u8>> {
    use jiazheng_core::market::order::OrderStatus;
    use jiazheng_core::market::subsidy::SubsidyCategory;
    let mut book = Workbook::new();
    let money = Format::new().set_num_format("0.00");
    let hours = Format::new().set_num_format("0.0");
    let label = |code: &str, zh: &str, en: &str| if zh.is_empty() { code.to_owned() } else { format!("{zh} {en}") };

    let sheet = book.add_worksheet().set_name("明细 Orders").map_err(xlsx_error)?;
    sheet.write_string_with_format(0, 0, title, &header_format()).map_err(xlsx_error)?;
    let headers = [
        "服务时间（北京）/ Service time",
        "订单号 / Order",
        "状态 / Status",
        "居民 / Resident",
        "类别 / Category",
        "社区 / Community",
        "企业 / Agency",
        "服务员 / Worker",
        "服务项目 / Item",
        "计入额度的小时 / Hours counted",
        "补贴支付（元）/ Paid by subsidy",
        "退回（元）/ Returned",
        "实付（元）/ Charged",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(1, col as u16, *h, &header_format()).map_err(xlsx_error)?;
        sheet.set_column_width(col as u16, if matches!(col, 0 | 5 | 6) { 24 } else { 16 }).map_err(xlsx_error)?;
    }
    for (i, line) in lines.iter().enumerate() {
        let r = i as u32 + 2;
        let at = line.starts_at.with_timezone(&jiazheng_core::calendar::beijing()).format("%Y-%m-%d %H:%M");
        sheet.write_string(r, 0, at.to_string()).map_err(xlsx_error)?;
        sheet.write_string(r, 1, format!("JZ{:08}", line.order_id)).map_err(xlsx_error)?;
        let status =
            OrderStatus::parse(&line.status).map_or(line.status.clone(), |s| label("", s.label_zh(), s.label_en()));
        sheet.write_string(r, 2, status).map_err(xlsx_error)?;
        sheet.write_string(r, 3, &line.legal_name).map_err(xlsx_error)?;
        let category =
            SubsidyCategory::parse(&line.category).map_or("—".to_owned(), |c| label("", c.label_zh(), c.label_en()));
        sheet.write_string(r, 4, category).map_err(xlsx_error)?;
        sheet.write_string(r, 5, &line.community_name).map_err(xlsx_error)?;
        sheet.write_string(r, 6, &line.agency_name).map_err(xlsx_error)?;
        sheet.write_string(r, 7, line.worker_name.as_deref().unwrap_or("—")).map_err(xlsx_error)?;
        let item = jiazheng_core::market::CatalogItem::label_of(&line.item, false);
        sheet.write_string(r, 8, if item.is_empty() { &line.item } else { item }).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 9, line.subsidy_minutes as f64 / 60.0, &hours).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 10, line.subsidy_paid_fen as f64 / 100.0, &money).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 11, line.subsidy_returned_fen as f64 / 100.0, &money).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 12, line.charged_fen() as f64 / 100.0, &money).map_err(xlsx_error)?;
    }
    let r = lines.len() as u32 + 2;
    let total: i64 = lines.iter().map(|l| l.charged_fen()).sum();
    sheet.write_string_with_format(r, 11, "合计 / Total", &header_format()).map_err(xlsx_error)?;
    sheet.write_number_with_format(r, 12, total as f64 / 100.0, &money).map_err(xlsx_error)?;

    // Sums per agency for a district's statement, per district for an agency's.
    let mut sums: std::collections::BTreeMap<&str, (i64, i64, i64)> = std::collections::BTreeMap::new();
    // Every line's money counts (a late cancellation's fee was paid); only services count as services.
    for line in lines {
        let key = if by_district { line.district_name.as_str() } else { line.agency_name.as_str() };
        let entry = sums.entry(key).or_default();
        entry.0 += i64::from(line.status != "cancelled");
        entry.1 += line.subsidy_minutes;
        entry.2 += line.charged_fen();
    }
    let sheet = book.add_worksheet().set_name("汇总 Summary").map_err(xlsx_error)?;
    let first = if by_district { "区 / District" } else { "企业 / Agency" };
    for (col, h) in [first, "服务单数 / Services", "小时 / Hours", "金额（元）/ Amount"].iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &header_format()).map_err(xlsx_error)?;
        sheet.set_column_width(col as u16, if col == 0 { 30 } else { 16 }).map_err(xlsx_error)?;
    }
    for (i, (name, (count, minutes, fen))) in sums.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, *name).map_err(xlsx_error)?;
        sheet.write_number(r, 1, *count as f64).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 2, *minutes as f64 / 60.0, &hours).map_err(xlsx_error)?;
        sheet.write_number_with_format(r, 3, *fen as f64 / 100.0, &money).map_err(xlsx_error)?;
    }

    let sheet = book.add_worksheet().set_name("异常 Audit").map_err(xlsx_error)?;
    sheet.write_string_with_format(0, 0, "需核查 / To look at", &header_format()).map_err(xlsx_error)?;
    sheet.write_string_with_format(0, 1, "To look at (English)", &header_format()).map_err(xlsx_error)?;
    sheet.set_column_width(0, 70).map_err(xlsx_error)?;
    sheet.set_column_width(1, 70).map_err(xlsx_error)?;
    if oddities.is_empty() {
        sheet.write_string(1, 0, "无 / None").map_err(xlsx_error)?;
    }
    for (i, (zh, en)) in oddities.iter().enumerate() {
        sheet.write_string(i as u32 + 1, 0, zh).map_err(xlsx_error)?;
        sheet.write_string(i as u32 + 1, 1, en).map_err(xlsx_error)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

/// One cell of a plain table.
#[derive(Debug, Clone, PartialEq)]
pub enum TableCell {
    Text(String),
    Number(f64),
}

/// A sheet of a plain table: a header row, then rows.
#[derive(Debug, Clone, Default)]
pub struct TableSheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<TableCell>>,
}

/// A workbook of plain tables, one sheet each, the header row frozen.
pub fn table_workbook(sheets: &[TableSheet]) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    for table in sheets {
        let sheet = book.add_worksheet().set_name(&table.name).map_err(xlsx_error)?;
        for (col, h) in table.headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, h, &header_format()).map_err(xlsx_error)?;
            sheet.set_column_width(col as u16, if col == 0 { 28 } else { 14 }).map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        for (i, row) in table.rows.iter().enumerate() {
            let r = i as u32 + 1;
            for (col, cell) in row.iter().enumerate() {
                match cell {
                    TableCell::Text(t) => sheet.write_string(r, col as u16, t),
                    TableCell::Number(n) => sheet.write_number(r, col as u16, *n),
                }
                .map_err(xlsx_error)?;
            }
        }
    }
    book.save_to_buffer().map_err(xlsx_error)
}
