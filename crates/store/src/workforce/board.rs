//! The agency's compliance board: each actively bound worker checked against the services they
//! offer, filtered, sorted and paged in memory (an agency has thousands of workers, not millions).

use chrono::NaiveDate;
use jiazheng_core::registry::ServiceSet;
use jiazheng_core::workforce::compliance::{Compliance, Condition, Requirement, Standing, assess};
use rust_xlsxwriter::Workbook;
use serde::Serialize;

use super::facts::FactsScope;
use crate::excel::{header_format, xlsx_error};
use crate::{Page, PageRequest, Result, Store};

/// Which workers the board shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BoardFilter {
    #[default]
    All,
    /// Something unmet or expiring.
    Attention,
    /// Not compliant now.
    Unmet,
    /// Met but expiring within the reminder window.
    Expiring,
}

impl BoardFilter {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" | "all" => Some(Self::All),
            "attention" => Some(Self::Attention),
            "unmet" => Some(Self::Unmet),
            "expiring" => Some(Self::Expiring),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Attention => "attention",
            Self::Unmet => "unmet",
            Self::Expiring => "expiring",
        }
    }

    fn keeps(self, standing: Standing) -> bool {
        match self {
            Self::All => true,
            Self::Attention => standing == Standing::Expiring || !standing.is_met(),
            Self::Unmet => !standing.is_met(),
            Self::Expiring => standing == Standing::Expiring,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BoardSort {
    /// Most unmet conditions first.
    #[default]
    Problems,
    Name,
    /// The condition's date, soonest (or missing) first.
    Date(Condition),
}

impl BoardSort {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" | "problems" => Some(Self::Problems),
            "name" => Some(Self::Name),
            other => Condition::parse(other).ok().map(Self::Date),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Problems => "problems",
            Self::Name => "name",
            Self::Date(c) => c.as_str(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BoardQuery {
    /// Look at one condition only; otherwise any condition.
    pub condition: Option<Condition>,
    pub filter: BoardFilter,
    pub name: Option<String>,
    pub sort: BoardSort,
    pub page: PageRequest,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardRow {
    pub worker_id: i64,
    pub name: String,
    pub id_masked: String,
    pub services: i64,
    pub compliance: Compliance,
}

impl BoardRow {
    fn keeps(&self, query: &BoardQuery) -> bool {
        let name_ok = query.name.as_deref().is_none_or(|n| self.name.contains(n));
        let checks_ok = self
            .compliance
            .checks
            .iter()
            .filter(|c| query.condition.is_none_or(|wanted| wanted == c.condition))
            .any(|c| query.filter.keeps(c.standing));
        name_ok && checks_ok
    }

    fn problems(&self) -> (usize, usize) {
        let unmet = self.compliance.unmet().count();
        let expiring = self.compliance.checks.iter().filter(|c| c.standing == Standing::Expiring).count();
        (unmet, expiring)
    }
}

/// Rows of the board for the whole agency: the page and the export both start here.
pub struct Board {
    pub rows: Vec<BoardRow>,
}

impl Store {
    /// Every actively bound worker of the agency, assessed on `today`, filtered and sorted.
    pub async fn compliance_board_rows(&self, agency_id: i64, query: &BoardQuery, today: NaiveDate) -> Result<Board> {
        let mut rows: Vec<BoardRow> = self
            .load_worker_facts(FactsScope::Agency(agency_id))
            .await?
            .into_iter()
            .map(|w| {
                let requirement = Requirement::for_services(ServiceSet::from_bits(w.services));
                BoardRow {
                    compliance: assess(&w.facts, &requirement, today),
                    worker_id: w.id,
                    name: w.name,
                    id_masked: w.id_masked,
                    services: w.services,
                }
            })
            .filter(|row| row.keeps(query))
            .collect();
        match query.sort {
            BoardSort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.worker_id.cmp(&b.worker_id))),
            BoardSort::Problems => rows.sort_by(|a, b| {
                b.problems().cmp(&a.problems()).then(a.name.cmp(&b.name)).then(a.worker_id.cmp(&b.worker_id))
            }),
            BoardSort::Date(condition) => {
                rows.sort_by_key(|r| (r.compliance.check(condition).date.unwrap_or(NaiveDate::MIN), r.worker_id))
            }
        }
        Ok(Board { rows })
    }

    /// One page of the board.
    pub async fn compliance_board(
        &self,
        agency_id: i64,
        query: &BoardQuery,
        today: NaiveDate,
    ) -> Result<Page<BoardRow>> {
        let Board { rows } = self.compliance_board_rows(agency_id, query, today).await?;
        let total = rows.len() as i64;
        let items = rows.into_iter().skip(query.page.offset() as usize).take(query.page.limit() as usize).collect();
        Ok(query.page.wrap(items, total))
    }
}

impl Board {
    /// The board as a spreadsheet: one row per worker, each condition's standing, date and reason.
    pub fn to_xlsx(&self, english: bool) -> Result<Vec<u8>> {
        let mut book = Workbook::new();
        let sheet =
            book.add_worksheet().set_name(if english { "compliance" } else { "合规看板" }).map_err(xlsx_error)?;
        let mut headers: Vec<String> = vec![
            if english { "Name" } else { "姓名" }.into(),
            if english { "ID number" } else { "身份证号" }.into(),
            if english { "Compliant" } else { "是否合规" }.into(),
        ];
        for condition in Condition::ALL {
            let label = condition.label(english);
            headers.push(label.to_string());
            headers.push(format!("{label} {}", if english { "date" } else { "日期" }));
            headers.push(format!("{label} {}", if english { "reason" } else { "说明" }));
        }
        for (col, header) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, header, &header_format()).map_err(xlsx_error)?;
            sheet.set_column_width(col as u16, if col % 3 == 2 && col > 2 { 30 } else { 14 }).map_err(xlsx_error)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            let r = i as u32 + 1;
            sheet.write_string(r, 0, &row.name).map_err(xlsx_error)?;
            sheet.write_string(r, 1, &row.id_masked).map_err(xlsx_error)?;
            let yes_no = match (row.compliance.compliant, english) {
                (true, true) => "yes",
                (false, true) => "no",
                (true, false) => "是",
                (false, false) => "否",
            };
            sheet.write_string(r, 2, yes_no).map_err(xlsx_error)?;
            for (n, condition) in Condition::ALL.iter().enumerate() {
                let check = row.compliance.check(*condition);
                let col = 3 + 3 * n as u16;
                sheet.write_string(r, col, check.standing.label(english)).map_err(xlsx_error)?;
                sheet
                    .write_string(r, col + 1, check.date.map(|d| d.to_string()).unwrap_or_default())
                    .map_err(xlsx_error)?;
                sheet
                    .write_string(r, col + 2, if english { &check.reason_en } else { &check.reason_zh })
                    .map_err(xlsx_error)?;
            }
        }
        book.save_to_buffer().map_err(xlsx_error)
    }
}
