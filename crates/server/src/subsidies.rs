//! Subsidised service, below the pages and the API: the month's statement for whoever may read
//! it, the audit list in words, and the statement file.

use chrono::NaiveDate;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Principal;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::division::{DivisionCode, DivisionLevel};
use jiazheng_core::field::Invalid;
use jiazheng_core::market::subsidy::{Oddity, audit};
use jiazheng_core::market::subsidy::{parse_budget, parse_year};
use jiazheng_store::market::subsidies::{StatementScope, SubsidyLine};

use crate::{AppError, AppState};

/// A month's subsidised orders in the viewer's scope, with the audit list in both languages.
pub struct MonthStatement {
    pub scope: StatementScope,
    pub first: NaiveDate,
    pub lines: Vec<SubsidyLine>,
    pub oddities: Vec<(String, String)>,
}

impl MonthStatement {
    pub async fn load(state: &AppState, who: &Principal, first: NaiveDate) -> Result<Self, AppError> {
        let scope = StatementScope::of(who).ok_or(AppError::Forbidden)?;
        let mut statement = state.store.subsidy_statement(&scope, first).await?;
        if matches!(scope, StatementScope::Agency(_)) {
            // An agency is paid for its orders; why a resident is subsidised (a disability, 低保)
            // and their legal name are the district's to know, not the agency's.
            for line in &mut statement.lines {
                line.legal_name = line.resident_name.clone();
                line.category = String::new();
            }
        }
        let oddities = audit(&statement.services).iter().map(|o| describe(o, &statement.lines)).collect();
        Ok(Self { scope, first, lines: statement.lines, oddities })
    }

    pub fn month(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }

    /// Paid by the district in the end, for the month.
    pub fn charged_fen(&self) -> i64 {
        self.lines.iter().map(SubsidyLine::charged_fen).sum()
    }

    pub fn xlsx(&self) -> Result<Vec<u8>, AppError> {
        let title = format!("补贴服务结算单 Subsidised service statement {}", self.month());
        let by_district = matches!(self.scope, StatementScope::Agency(_));
        Ok(jiazheng_store::excel::subsidy_statement_xlsx(&title, &self.lines, by_district, &self.oddities)?)
    }
}

/// The year a list is for: from five years back to next year; anything else is this Beijing year.
pub fn year_or_this(raw: Option<i32>) -> i32 {
    use chrono::Datelike;
    let this = beijing_today().year();
    raw.filter(|y| (this - 5..=this + 1).contains(y)).unwrap_or(this)
}

/// A regulator's budget as typed (page or API): a district of their area, this year or the
/// next, an amount in yuan; every field's mistake at once.
pub fn parse_budget_form(
    who: &Principal,
    district: &str,
    year: &str,
    amount: &str,
) -> Result<(DivisionCode, i32, i64), FieldErrors> {
    let mut errors = FieldErrors::default();
    let district = errors.take(
        "district",
        DivisionCode::parse(district).and_then(|d| {
            if who.regulates(&d) && d.level() == DivisionLevel::District {
                Ok(d)
            } else {
                Err(Invalid::new("not_your_district", "请选择您所辖的区", "pick a district you regulate"))
            }
        }),
    );
    let year = errors.take("year", parse_year(year, beijing_today()));
    let amount = errors.take("amount", parse_budget(amount));
    match (district, year, amount) {
        (Some(d), Some(y), Some(a)) if errors.is_empty() => Ok((d, y, a)),
        _ => Err(errors),
    }
}

/// An oddity as a sentence, naming the people and orders from the statement's lines.
fn describe(oddity: &Oddity, lines: &[SubsidyLine]) -> (String, String) {
    let number = |id: i64| format!("JZ{id:08}");
    let worker = |id: i64| {
        lines.iter().find(|l| l.worker_id == Some(id)).and_then(|l| l.worker_name.clone()).unwrap_or_else(|| "—".into())
    };
    match oddity {
        Oddity::SamePairOften { worker_id, resident, day, orders } => {
            let name =
                lines.iter().find(|l| l.resident_account_id == *resident).map_or("—", |l| l.legal_name.as_str());
            let numbers = orders.iter().map(|o| number(*o)).collect::<Vec<_>>().join(", ");
            (
                format!("{day}：服务员{}一天内为{name}服务{}次（{numbers}）", worker(*worker_id), orders.len()),
                format!(
                    "{day}: worker {} served {name} {} times in one day ({numbers})",
                    worker(*worker_id),
                    orders.len()
                ),
            )
        }
        Oddity::BookedElsewhere { order_id, other_order_id, worker_id, day } => (
            format!(
                "{day}：补贴订单{}与服务员{}在另一户的订单{}时间重叠或相隔不足30分钟",
                number(*order_id),
                worker(*worker_id),
                number(*other_order_id)
            ),
            format!(
                "{day}: subsidised order {} overlaps, or is less than 30 minutes from, worker {}'s order {} at another home",
                number(*order_id),
                worker(*worker_id),
                number(*other_order_id)
            ),
        ),
    }
}
