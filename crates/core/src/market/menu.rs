//! What an agency publishes: an item of the catalog, how it is sold, its price in fen and its
//! cancellation terms. A form is parsed whole, so every refusal is shown at once.

use serde::Deserialize;

use super::catalog::{CatalogItem, PriceMode};
use crate::field::{FieldErrors, Invalid};
use crate::workforce::SkillLevel;
use crate::workforce::records::parse_yuan;

/// The dearest price a menu may carry: 100,000 yuan.
pub const MAX_PRICE_FEN: i64 = 10_000_000;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// A visit sold by the job lasts from half an hour to twelve hours, in half hours.
pub const VISIT_MINUTES: (u32, u32) = (30, 720);
pub const MAX_HOURS: u32 = 12;
pub const MAX_PACKAGE_DAYS: u32 = 90;
pub const MAX_FREE_CANCEL_HOURS: u32 = 168;

/// When a resident may cancel for free, and what it costs after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CancelTerms {
    /// Free until this many hours before the start.
    pub free_hours: u32,
    /// The share of the price kept after that, in percent.
    pub fee_percent: u32,
}

impl CancelTerms {
    /// The fee for cancelling `minutes_before` the start; the agency cancelling costs nothing.
    pub fn fee(self, total_fen: i64, minutes_before: i64) -> i64 {
        if minutes_before >= i64::from(self.free_hours) * 60 {
            0
        } else {
            total_fen * i64::from(self.fee_percent) / 100
        }
    }
}

/// How long one unit of the item runs, by mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Unit {
    /// A visit of fixed length.
    Visit { minutes: u32 },
    /// So many hours, at least `min_hours`.
    Hours { min_hours: u32 },
    /// Whole Beijing days.
    Days { days: u32 },
}

impl Unit {
    pub fn mode(self) -> PriceMode {
        match self {
            Unit::Visit { .. } => PriceMode::PerItem,
            Unit::Hours { .. } => PriceMode::PerHour,
            Unit::Days { .. } => PriceMode::Package,
        }
    }

    /// The stored number beside the mode: minutes, minimum hours or days.
    pub fn amount(self) -> u32 {
        match self {
            Unit::Visit { minutes } => minutes,
            Unit::Hours { min_hours } => min_hours,
            Unit::Days { days } => days,
        }
    }

    pub fn from_parts(mode: PriceMode, amount: u32) -> Self {
        match mode {
            PriceMode::PerItem => Unit::Visit { minutes: amount },
            PriceMode::PerHour => Unit::Hours { min_hours: amount },
            PriceMode::Package => Unit::Days { days: amount },
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct MenuForm {
    /// Catalog item code or label.
    pub item: String,
    pub mode: String,
    /// Yuan, up to two decimals: per visit, per hour or per package.
    pub price: String,
    /// Minutes per visit, minimum hours, or package days, by mode.
    pub amount: String,
    /// A skill level the package asks for (empty: the item's minimum).
    pub level: String,
    pub description: String,
    pub free_cancel_hours: String,
    pub cancel_fee_percent: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuDraft {
    pub item: CatalogItem,
    pub unit: Unit,
    pub price_fen: i64,
    pub level: Option<SkillLevel>,
    pub description: String,
    pub terms: CancelTerms,
}

/// A price in yuan, above zero and at most `MAX_PRICE_FEN`.
pub fn parse_price(raw: &str) -> Result<i64, Invalid> {
    let fen = parse_yuan(raw)?;
    if fen <= 0 {
        return Err(Invalid::new("price_positive", "价格必须大于0", "must be more than zero"));
    }
    if fen > MAX_PRICE_FEN {
        return Err(Invalid::new("price_too_high", "价格不能超过100,000元", "must be at most 100,000 yuan"));
    }
    Ok(fen)
}

/// A package length in days.
pub fn whole_days(raw: &str) -> Result<u32, Invalid> {
    whole_in(raw, 1, MAX_PACKAGE_DAYS)
}

pub(crate) fn whole_in(raw: &str, low: u32, high: u32) -> Result<u32, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    match text.parse::<u32>() {
        Ok(n) if (low..=high).contains(&n) => Ok(n),
        _ => Err(Invalid::new(
            "out_of_range",
            format!("应为{low}到{high}之间的整数"),
            format!("must be a whole number from {low} to {high}"),
        )),
    }
}

impl MenuForm {
    pub fn parse(&self) -> Result<MenuDraft, FieldErrors> {
        let mut errors = FieldErrors::default();
        let item = errors.take("item", CatalogItem::parse(&self.item));
        let mode = errors.take("mode", PriceMode::parse(&self.mode));
        let price_fen = errors.take("price", parse_price(&self.price));
        let unit = match (item, mode) {
            (Some(item), Some(mode)) if !item.modes().contains(&mode) => {
                let allowed: Vec<_> = item.modes().iter().map(|m| m.label_zh()).collect();
                let allowed_en: Vec<_> = item.modes().iter().map(|m| m.label_en()).collect();
                errors.0.push(
                    Invalid::new(
                        "mode_not_offered",
                        format!("{}只能{}", item.label_zh(), allowed.join("或")),
                        format!("{} is sold only {}", item.label_en(), allowed_en.join(" or ").to_lowercase()),
                    )
                    .at("mode"),
                );
                None
            }
            (_, Some(mode)) => {
                let parsed = match mode {
                    PriceMode::PerItem => whole_in(&self.amount, VISIT_MINUTES.0, VISIT_MINUTES.1).and_then(|m| {
                        if m.is_multiple_of(30) {
                            Ok(m)
                        } else {
                            Err(Invalid::new("half_hours", "时长以半小时为单位", "must be in half hours"))
                        }
                    }),
                    PriceMode::PerHour => whole_in(&self.amount, 1, MAX_HOURS),
                    PriceMode::Package => whole_in(&self.amount, 1, MAX_PACKAGE_DAYS),
                };
                errors.take("amount", parsed).map(|amount| Unit::from_parts(mode, amount))
            }
            _ => None,
        };
        let level = match self.level.trim() {
            "" => None,
            text => errors.take("level", SkillLevel::parse(text)),
        };
        if let (Some(item), Some(_)) = (item, level)
            && item.trade().is_none()
        {
            errors.0.push(Invalid::new("no_level", "该项目不分技能等级", "this item has no skill levels").at("level"));
        }
        let description = self.description.trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.0.push(Invalid::too_long(MAX_DESCRIPTION_CHARS).at("description"));
        }
        let free_hours = errors.take("free_cancel_hours", whole_in(&self.free_cancel_hours, 0, MAX_FREE_CANCEL_HOURS));
        let fee_percent = errors.take("cancel_fee_percent", whole_in(&self.cancel_fee_percent, 0, 100));
        match (item, unit, price_fen, free_hours, fee_percent) {
            (Some(item), Some(unit), Some(price_fen), Some(free_hours), Some(fee_percent)) if errors.0.is_empty() => {
                Ok(MenuDraft {
                    item,
                    unit,
                    price_fen,
                    level,
                    description: description.to_string(),
                    terms: CancelTerms { free_hours, fee_percent },
                })
            }
            _ => Err(errors),
        }
    }
}

/// How much dearer `new` is than `old`, in percent (negative when cheaper).
pub fn increase_percent(old_fen: i64, new_fen: i64) -> f64 {
    if old_fen <= 0 { 0.0 } else { (new_fen - old_fen) as f64 * 100.0 / old_fen as f64 }
}

/// ¥1,234.50 from fen.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", fen % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(item: &str, mode: &str, price: &str, amount: &str) -> MenuForm {
        MenuForm {
            item: item.into(),
            mode: mode.into(),
            price: price.into(),
            amount: amount.into(),
            free_cancel_hours: "24".into(),
            cancel_fee_percent: "20".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_form_becomes_a_draft_in_fen() {
        let draft = form("日常保洁", "per_hour", "45.5", "2").parse().unwrap();
        assert_eq!(draft.price_fen, 4550);
        assert_eq!(draft.unit, Unit::Hours { min_hours: 2 });
        assert_eq!(draft.terms, CancelTerms { free_hours: 24, fee_percent: 20 });
        let gold = MenuForm { level: "level3".into(), ..form("maternity", "package", "16800", "26") };
        assert_eq!(gold.parse().unwrap().level, Some(SkillLevel::Level3));
    }

    #[test]
    fn prices_outside_the_bounds_and_unknown_items_are_refused_together() {
        let errors = form("massage", "per_hour", "0", "2").parse().unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert!(fields.contains(&("item", "unknown_choice")), "{fields:?}");
        assert!(fields.contains(&("price", "price_positive")), "{fields:?}");
        assert_eq!(form("日常保洁", "per_item", "-5", "120").parse().unwrap_err().0[0].field, "price");
        assert_eq!(form("日常保洁", "per_item", "100000.01", "120").parse().unwrap_err().0[0].code, "price_too_high");
        assert!(form("日常保洁", "per_item", "100000", "120").parse().is_ok());
    }

    #[test]
    fn modes_and_amounts_follow_the_item() {
        let errors = form("住家保姆", "per_hour", "30", "2").parse().unwrap_err();
        assert_eq!(errors.0[0].code, "mode_not_offered");
        assert_eq!(form("日常保洁", "per_item", "80", "45").parse().unwrap_err().0[0].code, "half_hours");
        assert_eq!(form("日常保洁", "per_hour", "80", "0").parse().unwrap_err().0[0].code, "out_of_range");
        let level_on_cleaning = MenuForm { level: "level3".into(), ..form("日常保洁", "per_hour", "50", "2") };
        assert_eq!(level_on_cleaning.parse().unwrap_err().0[0].code, "no_level");
    }

    #[test]
    fn the_cancellation_fee_applies_only_inside_the_window() {
        let terms = CancelTerms { free_hours: 24, fee_percent: 20 };
        assert_eq!(terms.fee(10_000, 24 * 60), 0);
        assert_eq!(terms.fee(10_000, 24 * 60 - 1), 2_000);
        assert_eq!(CancelTerms { free_hours: 0, fee_percent: 50 }.fee(999, 0), 0);
    }

    #[test]
    fn money_reads_as_yuan() {
        assert_eq!(yuan(1_234_550), "¥12,345.50");
        assert_eq!(yuan(5), "¥0.05");
        assert_eq!(increase_percent(10_000, 11_500), 15.0);
    }
}
