//! A brand the city recognises (品牌认定): target 1 counts recognised brands only.

use chrono::NaiveDate;
use serde::Deserialize;

use crate::FieldErrors;
use crate::field::{Invalid, required_text, string_or_number};

/// A recognition as the regulator's form or the API gives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BrandForm {
    /// The agency, picked from the list of active agencies.
    #[serde(deserialize_with = "string_or_number")]
    pub agency: String,
    /// Up to 50 characters.
    pub brand_name: String,
    /// The recognising document's number, up to 100 characters.
    pub document: String,
    /// YYYY-MM-DD, not after today.
    pub recognised_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandDraft {
    pub agency_id: i64,
    pub brand_name: String,
    pub document: String,
    pub recognised_on: NaiveDate,
}

impl BrandForm {
    pub fn parse(&self, today: NaiveDate) -> Result<BrandDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let agency = e.take(
            "agency",
            self.agency.trim().parse::<i64>().map_err(|_| Invalid::new("required", "请选择企业", "pick an agency")),
        );
        let brand_name = e.take("brand_name", required_text(&self.brand_name, 50));
        let document = e.take("document", required_text(&self.document, 100));
        let recognised_on = e.take(
            "recognised_on",
            NaiveDate::parse_from_str(self.recognised_on.trim(), "%Y-%m-%d")
                .map_err(|_| Invalid::new("date", "请选择日期", "pick a date"))
                .and_then(|d| {
                    if d > today {
                        Err(Invalid::new("future", "认定日期不能晚于今天", "the date cannot be after today"))
                    } else {
                        Ok(d)
                    }
                }),
        );
        match (agency, brand_name, document, recognised_on) {
            (Some(agency_id), Some(brand_name), Some(document), Some(recognised_on)) => {
                Ok(BrandDraft { agency_id, brand_name, document, recognised_on })
            }
            _ => Err(e),
        }
    }
}

/// A withdrawal's reason: required, up to 300 characters.
pub fn withdraw_reason(raw: &str) -> Result<String, Invalid> {
    required_text(raw, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let errors = BrandForm { recognised_on: "2026-12-04".into(), ..Default::default() }.parse(today()).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["agency", "brand_name", "document", "recognised_on"]);
        assert_eq!(errors.for_field("recognised_on").unwrap().code, "future");
    }

    #[test]
    fn a_good_form_parses() {
        let form = BrandForm {
            agency: " 7 ".into(),
            brand_name: "春城家政".into(),
            document: "长商务字〔2026〕1号".into(),
            recognised_on: "2026-12-03".into(),
        };
        let draft = form.parse(today()).unwrap();
        assert_eq!(draft.agency_id, 7);
        let long = BrandForm { brand_name: "家".repeat(51), ..form };
        assert_eq!(long.parse(today()).unwrap_err().0[0].field, "brand_name");
        assert!(withdraw_reason("  ").is_err());
        assert!(withdraw_reason(&"因".repeat(301)).is_err());
    }
}
