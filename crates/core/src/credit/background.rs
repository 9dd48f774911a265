//! Background checks (背景审查): dated results from the authority in fixed categories, never
//! free text. Entered only by the regulator.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::field::{FieldErrors, Invalid, required_text};
use crate::workforce::parse_past_date;

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BackgroundCheckForm {
    pub checked_on: String,
    /// The authority that answered, e.g. 长春市公安局南关分局.
    pub authority: String,
    /// yes / no: the identity document is genuine.
    pub identity_genuine: String,
    /// none / found: theft, trafficking of women or children, abuse, murder, assault, rape,
    /// robbery, arson or bombing within 5 years.
    pub offences_5y: String,
    /// none / found: severe mental illness.
    pub severe_mental_illness: String,
    /// none / found: drug use or dealing within 3 years.
    pub drugs_3y: String,
}

/// A parsed background-check result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundCheck {
    pub checked_on: NaiveDate,
    pub authority: String,
    pub identity_genuine: bool,
    pub offences_5y: bool,
    pub severe_mental_illness: bool,
    pub drugs_3y: bool,
}

impl BackgroundCheck {
    /// Passed when the identity is genuine and nothing was found.
    pub fn passed(&self) -> bool {
        self.identity_genuine && !self.offences_5y && !self.severe_mental_illness && !self.drugs_3y
    }
}

fn yes_no(raw: &str) -> Result<bool, Invalid> {
    match raw.trim() {
        "yes" | "是" | "true" => Ok(true),
        "no" | "否" | "false" => Ok(false),
        "" => Err(Invalid::required()),
        _ => Err(Invalid::unknown_choice("是、否", "yes, no")),
    }
}

/// `found` is true; `none` is false.
fn found(raw: &str) -> Result<bool, Invalid> {
    match raw.trim() {
        "found" | "有" => Ok(true),
        "none" | "无" => Ok(false),
        "" => Err(Invalid::required()),
        _ => Err(Invalid::unknown_choice("无、有", "none, found")),
    }
}

impl BackgroundCheckForm {
    pub fn parse(&self, today: NaiveDate) -> Result<BackgroundCheck, FieldErrors> {
        let mut e = FieldErrors::default();
        let checked_on = e.take("checked_on", parse_past_date(&self.checked_on, today));
        let authority = e.take("authority", required_text(&self.authority, 100));
        let identity_genuine = e.take("identity_genuine", yes_no(&self.identity_genuine));
        let offences_5y = e.take("offences_5y", found(&self.offences_5y));
        let severe_mental_illness = e.take("severe_mental_illness", found(&self.severe_mental_illness));
        let drugs_3y = e.take("drugs_3y", found(&self.drugs_3y));
        match (checked_on, authority, identity_genuine, offences_5y, severe_mental_illness, drugs_3y) {
            (
                Some(checked_on),
                Some(authority),
                Some(identity_genuine),
                Some(offences_5y),
                Some(mental),
                Some(drugs),
            ) if e.is_empty() => Ok(BackgroundCheck {
                checked_on,
                authority,
                identity_genuine,
                offences_5y,
                severe_mental_illness: mental,
                drugs_3y: drugs,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_fixed_categories_and_any_finding_fails_the_check() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let form = BackgroundCheckForm {
            checked_on: "2026-11-01".into(),
            authority: "长春市公安局南关分局".into(),
            identity_genuine: "yes".into(),
            offences_5y: "none".into(),
            severe_mental_illness: "无".into(),
            drugs_3y: "none".into(),
        };
        assert!(form.parse(today).unwrap().passed());
        let drugs = BackgroundCheckForm { drugs_3y: "found".into(), ..form.clone() };
        assert!(!drugs.parse(today).unwrap().passed());
        let free_text = BackgroundCheckForm { offences_5y: "曾有小偷小摸".into(), ..form };
        assert_eq!(free_text.parse(today).unwrap_err().0[0].field, "offences_5y");
    }
}
