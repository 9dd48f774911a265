//! Spreadsheet import and export on a real database.

use chrono::NaiveDate;
use jiazheng_core::ids::{ResidentId, Uscc};
use jiazheng_core::registry::agency::AgencyForm;
use jiazheng_core::registry::binding::{BindingAction, Side};
use jiazheng_store::excel::{ImportMode, WORKER_COLUMNS, error_report, read_worker_rows, worker_template};
use jiazheng_store::testing::TestDb;
use rust_xlsxwriter::Workbook;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn id(seq: u16) -> String {
    ResidentId::compose(
        "220102",
        NaiveDate::from_ymd_opt(1980, 3, 1).unwrap() + chrono::Duration::days(i64::from(seq)),
        seq,
    )
}

/// A sheet with Chinese headers and the given rows.
fn sheet(rows: &[[&str; 10]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (col, (_, zh, _)) in WORKER_COLUMNS.iter().enumerate() {
        ws.write_string(0, col as u16, *zh).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *value).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn agency(db: &TestDb) -> i64 {
    let form = AgencyForm {
        uscc: Uscc::compose("220102", "MA0Y1234"),
        name: "长春市安心家政服务有限公司".into(),
        legal_representative: "李明".into(),
        address: "人民大街1号".into(),
        street_code: "220102001".into(),
        phone: "043188886666".into(),
        business_model: "employee".into(),
        ..Default::default()
    };
    db.store.create_agency(&form.parse().unwrap()).await.unwrap()
}

#[tokio::test]
async fn a_bad_row_stops_the_whole_import_and_is_reported_with_row_and_column() {
    let db = TestDb::new().await;
    let a = agency(&db).await;
    let (good1, good2) = (id(1), id(2));
    let bad_check = format!("{}{}", &good2[..17], if good2.ends_with('1') { '2' } else { '1' });
    let bytes = sheet(&[
        [&good1, "王秀英", "13900000001", "汉族", "高中", "", "否", "220102001", "日常保洁、育儿嫂", "员工制"],
        [&bad_check, "李芳", "1390000", "", "本科", "", "是", "220102001", "cleaning", ""],
        [&good1, "重复", "13900000003", "", "初中", "", "", "220102001", "cleaning", ""],
        [&id(4), "赵敏", "13900000004", "", "初中", "", "", "220102999", "cleaning", "中介制"],
    ]);
    let report =
        db.store.import_workers(bytes.clone(), a, ImportMode::AllOrNothing, today(), &|_, _| {}).await.unwrap();
    assert_eq!((report.rows, report.imported, report.bad_rows()), (4, 0, 3), "{:?}", report.errors);
    let cells: Vec<(usize, &str)> = report.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
    assert_eq!(cells, [(3, "id_number"), (3, "phone"), (4, "id_number"), (5, "home_street")]);
    assert_eq!(report.errors[0].column, "身份证号 / ID number");
    assert_eq!(report.errors[2].message_en, "same ID number as row 2");
    assert_eq!(db.store.count_workers().await.unwrap(), 0);

    // Rows of both employment kinds go in one transaction: one unknown street and neither is written.
    let mixed = sheet(&[
        [&good1, "王秀英", "13900000001", "汉族", "高中", "", "否", "220102001", "日常保洁、育儿嫂", "员工制"],
        [&id(4), "赵敏", "13900000004", "", "初中", "", "", "220102999", "cleaning", "中介制"],
    ]);
    let report_mixed = db.store.import_workers(mixed, a, ImportMode::AllOrNothing, today(), &|_, _| {}).await.unwrap();
    assert_eq!((report_mixed.imported, report_mixed.errors[0].row), (0, 3));
    assert_eq!(db.store.count_workers().await.unwrap(), 0);

    let report_file = error_report(&report.errors).unwrap();
    assert!(report_file.starts_with(b"PK"));
}

#[tokio::test]
async fn skip_invalid_imports_the_good_rows_and_export_round_trips() {
    let db = TestDb::new().await;
    let a = agency(&db).await;
    let bytes = sheet(&[
        [&id(1), "王秀英", "13900000001", "汉族", "高中", "", "否", "220102001", "日常保洁、育儿嫂", "员工制"],
        ["123", "李芳", "13900000002", "", "本科", "", "是", "220102001", "cleaning", ""],
        [
            &id(3),
            "孙梅",
            "+86 139-0000-0003",
            "满族",
            "大专",
            "家政服务与管理",
            "是",
            "220102002",
            "maternity",
            "中介制",
        ],
    ]);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let report = db
        .store
        .import_workers(bytes, a, ImportMode::SkipInvalid, today(), &|_, _| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .await
        .unwrap();
    assert_eq!((report.imported, report.bad_rows()), (2, 1));
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    assert_eq!(db.store.agency_workforce(a).await.unwrap().pending, 2);
    // Until the workers confirm, the agency exports nothing of theirs.
    assert!(read_worker_rows(db.store.export_workers(a, None).await.unwrap()).unwrap().is_empty());
    for worker in db.store.search_workers(&Default::default()).await.unwrap().items {
        let binding = db.store.open_binding(worker.id, a).await.unwrap().unwrap();
        db.store.act_on_binding(binding.id, BindingAction::Confirm, Side::Worker).await.unwrap();
    }

    let exported = db.store.export_workers(a, None).await.unwrap();
    let rows = read_worker_rows(exported.clone()).unwrap();
    assert_eq!(rows.len(), 2);
    let sun = rows.iter().find(|r| r.form.name == "孙梅").unwrap();
    assert_eq!((sun.form.id_number.as_str(), sun.form.phone.as_str()), (id(3).as_str(), "13900000003"));
    assert_eq!((sun.form.education_related.as_str(), sun.kind.as_str()), ("是", "中介制"));
    // Importing the export again finds every row already registered.
    let again = db.store.import_workers(exported, a, ImportMode::SkipInvalid, today(), &|_, _| {}).await.unwrap();
    assert_eq!((again.imported, again.bad_rows()), (0, 2));
    assert!(again.errors[0].message_zh.contains("已登记"));
}

#[tokio::test]
async fn the_template_has_every_column_and_reads_back_empty() {
    let rows = read_worker_rows(worker_template().unwrap()).unwrap();
    assert!(rows.is_empty());
    let missing = {
        let mut book = Workbook::new();
        book.add_worksheet().write_string(0, 0, "姓名").unwrap();
        book.save_to_buffer().unwrap()
    };
    let error = read_worker_rows(missing).unwrap_err();
    assert!(matches!(&error, jiazheng_store::StoreError::BadSheet { zh, .. } if zh.contains("身份证号")), "{error}");
}

/// Defect 5: a 5 KB file that claims a corner cell at XFD1048576 (or CV1048576) is refused
/// before anything the size of the claimed sheet is allocated.
#[test]
fn a_sheet_claiming_a_huge_range_is_refused_before_it_is_read() {
    for (row, col) in [(1_048_575u32, 16_383u16), (1_048_575, 99), (5, 200), (300_000, 2)] {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "身份证号").unwrap();
        ws.write_string(row, col, "x").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert!(bytes.len() < 10_000, "a small file: {}", bytes.len());
        let started = std::time::Instant::now();
        let refused = read_worker_rows(bytes).unwrap_err();
        assert!(
            matches!(&refused, jiazheng_store::StoreError::BadSheet { en, .. } if en.contains("too large")),
            "({row}, {col}): {refused:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "refused at once");
    }
    // Not a workbook at all: said in both languages.
    let refused = read_worker_rows(b"PK\x03\x04 not really".to_vec()).unwrap_err();
    assert!(matches!(&refused, jiazheng_store::StoreError::BadSheet { zh, .. } if zh.contains("不是有效的 Excel")));
}

/// Defect 10: a sheet of many bad rows gives a bounded report with the true count.
#[tokio::test]
async fn the_error_report_is_bounded_and_counts_every_refused_cell() {
    let db = TestDb::new().await;
    let a = agency(&db).await;
    let rows: Vec<[&str; 10]> = (0..12_000).map(|_| ["x", "", "", "", "", "", "", "", "", ""]).collect();
    let report = db.store.import_workers(sheet(&rows), a, ImportMode::AllOrNothing, today(), &|_, _| {}).await.unwrap();
    assert_eq!(report.bad_rows(), 12_000);
    assert!(report.error_count >= 12_000 * 4, "{}", report.error_count);
    assert_eq!(report.errors.len(), jiazheng_store::excel::MAX_REPORTED_ERRORS);
    assert!(report.errors.windows(2).all(|w| w[0].row <= w[1].row), "kept in row order");
    assert_eq!(report.imported, 0);
}

mod properties {
    use jiazheng_store::excel::{WORKER_COLUMNS, read_sheet, worker_template};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any bytes: an error or rows, never a panic.
        #[test]
        fn the_sheet_reader_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = read_sheet(bytes, &WORKER_COLUMNS, |_| true);
        }

        /// A real workbook with bytes changed here and there.
        #[test]
        fn the_sheet_reader_never_panics_on_a_damaged_workbook(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)
        ) {
            let mut bytes = worker_template().unwrap();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let _ = read_sheet(bytes, &WORKER_COLUMNS, |_| true);
        }
    }
}

/// Defect 9: an import writes in short transactions; if a later one fails, what the import wrote
/// before is taken out again, so all or nothing still holds.
#[tokio::test]
async fn a_failure_late_in_an_import_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let a = agency(&db).await;
    let ids: Vec<String> = (1..=2_100u16).map(id).collect();
    let rows: Vec<[&str; 10]> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let name = if n == 2_050 { "爆炸" } else { "王秀英" };
            [id.as_str(), name, "13900000001", "", "高中", "", "", "220102001", "cleaning", ""]
        })
        .collect();
    // A writer elsewhere makes the third chunk fail, as a racing registration would.
    let trap = match db.store.pool() {
        jiazheng_store::Pool::Sqlite(_) => vec![
            "CREATE TRIGGER import_trap BEFORE INSERT ON workers WHEN NEW.name = '爆炸'
             BEGIN SELECT RAISE(ABORT, 'trap'); END",
        ],
        jiazheng_store::Pool::Postgres(_) => vec![
            "CREATE FUNCTION import_trap() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.name = '爆炸' THEN RAISE EXCEPTION 'trap'; END IF; RETURN NEW; END; $$",
            "CREATE TRIGGER import_trap BEFORE INSERT ON workers FOR EACH ROW EXECUTE FUNCTION import_trap()",
        ],
    };
    for sql in trap {
        match db.store.pool() {
            jiazheng_store::Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            jiazheng_store::Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
    }
    let outcome = db.store.import_workers(sheet(&rows), a, ImportMode::AllOrNothing, today(), &|_, _| {}).await;
    assert!(outcome.is_err(), "the trapped chunk fails the import");
    assert_eq!(db.store.count_workers().await.unwrap(), 0, "the chunks written before were taken out");
    assert_eq!(db.store.agency_workforce(a).await.unwrap().pending, 0);
}

/// A small file holding one huge string (its sizes declared honestly) is refused before the
/// string is read.
#[test]
fn a_workbook_with_a_huge_string_is_refused_before_it_is_read() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "身份证号").unwrap();
    // Many copies of one long string would share one entry; distinct long strings fill the table.
    for row in 1..=40u32 {
        ws.write_string(row, 0, format!("{row:04}{}", "汉".repeat(1_990))).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    // Cells just under the longest a cell may be: read as usual.
    let one_column = [("id_number", "身份证号", "ID number")];
    assert_eq!(jiazheng_store::excel::read_sheet(bytes, &one_column, |_| true).unwrap().len(), 40);
    let mut big = Workbook::new();
    let ws = big.add_worksheet();
    ws.write_string(0, 0, "身份证号").unwrap();
    for row in 1..=2_200u32 {
        ws.write_string(row, 0, format!("{row}{}", "汉".repeat(32_000 / 3))).unwrap();
    }
    let bytes = big.save_to_buffer().unwrap();
    assert!(bytes.len() < 20 * 1024 * 1024, "{} bytes uploaded", bytes.len());
    let refused = jiazheng_store::excel::read_sheet(bytes, &one_column, |_| true).unwrap_err();
    assert!(
        matches!(&refused, jiazheng_store::StoreError::BadSheet { en, .. } if en.contains("too much")),
        "{refused:?}"
    );
}

/// One shared string referenced from many cells: each reference would be copied into memory,
/// so a 16 KB file could ask for gigabytes. A cell longer than any field, or more text in all
/// than a full register holds, is refused as it is met.
#[test]
fn one_string_referenced_from_many_cells_cannot_multiply_memory() {
    let one_column = [("id_number", "身份证号", "ID number")];
    let sheet = |text: &str, cells: u32| {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "身份证号").unwrap();
        for row in 1..=cells {
            ws.write_string(row, 0, text).unwrap();
        }
        book.save_to_buffer().unwrap()
    };
    let long = sheet(&"A".repeat(32_000), 3);
    assert!(long.len() < 100_000, "{} bytes", long.len());
    let refused = jiazheng_store::excel::read_sheet(long, &one_column, |_| true).unwrap_err();
    assert!(
        matches!(&refused, jiazheng_store::StoreError::BadSheet { en, .. } if en.contains("longer than 2000")),
        "{refused:?}"
    );
    let many = sheet(&"A".repeat(jiazheng_store::excel::MAX_CELL_CHARS), 60_000);
    assert!(many.len() < 2_000_000, "{} bytes", many.len());
    let refused = jiazheng_store::excel::read_sheet(many, &one_column, |_| true).unwrap_err();
    assert!(
        matches!(&refused, jiazheng_store::StoreError::BadSheet { en, .. } if en.contains("MB of text")),
        "{refused:?}"
    );
}

/// An agency uploading its own register again (its workers not yet confirmed) learns nothing
/// about anyone else: those answers are not counted against its daily limit.
#[tokio::test]
async fn uploading_its_own_register_twice_is_not_probing() {
    let db = TestDb::new().await;
    let a = agency(&db).await;
    let ids: Vec<String> = (1..=60).map(id).collect();
    let rows: Vec<[&str; 10]> = ids
        .iter()
        .map(|n| [n.as_str(), "王秀英", "13900000001", "汉族", "高中", "", "否", "220102001", "日常保洁", "员工制"])
        .collect();
    let bytes = sheet(&rows);
    let first = db.store.import_workers(bytes.clone(), a, ImportMode::AllOrNothing, today(), &|_, _| {}).await.unwrap();
    assert_eq!(first.imported, 60);
    for _ in 0..2 {
        let again =
            db.store.import_workers(bytes.clone(), a, ImportMode::SkipInvalid, today(), &|_, _| {}).await.unwrap();
        assert_eq!((again.imported, again.bad_rows()), (0, 60), "every row already registered, said each time");
    }
    assert!(db.store.registration_probes(today()).await.unwrap().is_empty(), "not shown to the regulator");
}
