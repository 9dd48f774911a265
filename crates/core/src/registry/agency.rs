//! 家政企业: what an agency registers with and how it employs its workers.

use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};
use crate::field::{FieldErrors, Invalid, optional_text, required_text};
use crate::ids::{Mobile, Uscc};

choice!(
    /// How an agency employs its workers; the plan promotes the employee-based model.
    BusinessModel {
        EmployeeBased = ("employee", "员工制", "Employee-based"),
        Intermediary = ("intermediary", "中介制", "Intermediary"),
        Mixed = ("mixed", "混合制", "Mixed"),
    }
);

choice!(
    AgencyStatus {
        Active = ("active", "正常经营", "Active"),
        Suspended = ("suspended", "暂停", "Suspended"),
        Closed = ("closed", "已注销", "Closed"),
    }
);

/// What a person types when registering or editing an agency.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AgencyForm {
    pub uscc: String,
    pub name: String,
    pub brand_name: String,
    pub legal_representative: String,
    pub address: String,
    pub street_code: String,
    pub phone: String,
    pub business_model: String,
}

/// An agency's registration, every field known to be well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyDraft {
    pub uscc: Uscc,
    pub name: String,
    pub brand_name: Option<String>,
    pub legal_representative: String,
    pub address: String,
    pub street_code: DivisionCode,
    pub phone: String,
    pub business_model: BusinessModel,
}

/// Agencies list landlines as well as mobiles: accept a mobile, or 7-12 digits with an area code.
pub fn parse_contact_phone(raw: &str) -> Result<String, Invalid> {
    if let Ok(mobile) = Mobile::parse(raw) {
        return Ok(mobile.as_str().to_string());
    }
    let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = text.replace('-', "");
    if text.is_empty() {
        Err(Invalid::required())
    } else if digits.starts_with('0') && (10..=12).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(text)
    } else {
        Err(Invalid::new(
            "phone",
            "电话应为手机号码或带区号的固定电话",
            "must be a mobile number or a landline with area code",
        ))
    }
}

/// A street-level (or finer) code: an address is placed on a street, not just a district.
pub fn parse_street(raw: &str) -> Result<DivisionCode, Invalid> {
    let code = DivisionCode::parse(raw)?;
    match code.level() {
        DivisionLevel::Street | DivisionLevel::Community => Ok(code.street()),
        _ => Err(Invalid::new(
            "street_level",
            "请选择到街道（乡镇）一级",
            "choose a street or town, not a whole district",
        )),
    }
}

impl AgencyForm {
    pub fn parse(&self) -> Result<AgencyDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let uscc = e.take("uscc", Uscc::parse(&self.uscc));
        let name = e.take("name", required_text(&self.name, 100));
        let brand_name = e.take("brand_name", optional_text(&self.brand_name, 50));
        let legal_representative = e.take("legal_representative", required_text(&self.legal_representative, 50));
        let address = e.take("address", required_text(&self.address, 200));
        let street_code = e.take("street_code", parse_street(&self.street_code));
        let phone = e.take("phone", parse_contact_phone(&self.phone));
        let business_model = e.take("business_model", BusinessModel::parse(&self.business_model));
        match (uscc, name, brand_name, legal_representative, address, street_code, phone, business_model) {
            (
                Some(uscc),
                Some(name),
                Some(brand_name),
                Some(legal_representative),
                Some(address),
                Some(street_code),
                Some(phone),
                Some(business_model),
            ) if e.is_empty() => Ok(AgencyDraft {
                uscc,
                name,
                brand_name,
                legal_representative,
                address,
                street_code,
                phone,
                business_model,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{org_code_check_char, uscc_check_char};

    pub(crate) fn valid_uscc() -> String {
        let first17 = format!("91220102MA0Y1234{}", org_code_check_char("MA0Y1234").unwrap());
        format!("{first17}{}", uscc_check_char(&first17).unwrap())
    }

    #[test]
    fn parses_a_complete_form() {
        let form = AgencyForm {
            uscc: valid_uscc(),
            name: "长春市安心家政服务有限公司".into(),
            brand_name: "安心".into(),
            legal_representative: "李明".into(),
            address: "人民大街100号".into(),
            street_code: "220102001".into(),
            phone: "0431-88886666".into(),
            business_model: "员工制".into(),
        };
        let draft = form.parse().unwrap();
        assert_eq!(draft.business_model, BusinessModel::EmployeeBased);
        assert_eq!(draft.street_code.as_str(), "220102001000");
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let form = AgencyForm {
            uscc: "123".into(),
            street_code: "220102".into(),
            phone: "12345".into(),
            ..Default::default()
        };
        let errors = form.parse().unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["uscc", "name", "legal_representative", "address", "street_code", "phone", "business_model"]
        );
        assert_eq!(errors.for_field("street_code").unwrap().code, "street_level");
    }
}
