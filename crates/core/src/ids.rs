//! National identifiers, parsed once at the edge: a value of these types is known to be well formed.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::field::Invalid;

/// Province-level codes that open a resident ID or a division code (81-83: HK, Macao and
/// Taiwan residence permits).
pub fn is_province_code(code: u32) -> bool {
    matches!(code, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 81..=83)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// A GB 11643-1999 citizen identity number.
#[derive(Clone, PartialEq, Eq)]
pub struct ResidentId(String);

impl std::fmt::Debug for ResidentId {
    // Never print the whole number, even in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECKS: &[u8; 11] = b"10X98765432";

/// The ISO 7064 MOD 11-2 check character for the first 17 digits.
pub fn resident_id_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17.iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    ID_CHECKS[(sum % 11) as usize] as char
}

impl ResidentId {
    /// Parses a number as people type it: spaces trimmed, a lower-case x accepted.
    /// `today` bounds the birth date; the county code is not checked against the birth year,
    /// because real numbers keep codes that were renamed later.
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, Invalid> {
        let text: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if text.is_empty() {
            return Err(Invalid::required());
        }
        let bytes = text.as_bytes();
        if text.chars().count() != 18 {
            return Err(Invalid::new("id_length", "身份证号码应为18位", "an ID number has 18 characters"));
        }
        if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(Invalid::new(
                "id_chars",
                "身份证号码前17位须为数字，最后一位为数字或X",
                "the first 17 characters must be digits and the last a digit or X",
            ));
        }
        let province = u32::from(bytes[0] - b'0') * 10 + u32::from(bytes[1] - b'0');
        if !is_province_code(province) {
            return Err(Invalid::new("id_region", "身份证号码的省级代码不存在", "the province code does not exist"));
        }
        let birth = NaiveDate::parse_from_str(&text[6..14], "%Y%m%d").ok();
        if !birth.is_some_and(|d| d <= today && d.year() >= 1900) {
            return Err(Invalid::new(
                "id_birth_date",
                "身份证号码中的出生日期无效",
                "the birth date in the ID number is not a real past date",
            ));
        }
        if resident_id_check_char(&bytes[..17]) != bytes[17] as char {
            return Err(Invalid::new("id_check_digit", "身份证号码校验位错误", "the check digit is wrong"));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds the number of a person born on `birth` in `region` (six digits), with sequence
    /// `seq` (0-999; its parity gives the sex) and the right check digit. For synthetic data.
    pub fn compose(region: &str, birth: NaiveDate, seq: u16) -> String {
        let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
        format!("{first17}{}", resident_id_check_char(first17.as_bytes()))
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked when parsed")
    }

    /// The 17th digit is odd for men and even for women.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// Six-digit division code of the place the number was issued.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    /// The form shown to those who may not see the number: 2201**********123X.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

/// A GB 32100-2015 unified social credit code (统一社会信用代码).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Uscc(String);

const USCC_CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

fn uscc_value(c: char) -> Option<u32> {
    USCC_CHARSET.find(c).map(|i| i as u32)
}

/// Entity types the standard allows under each registration authority.
fn entity_types(authority: char) -> &'static str {
    match authority {
        '1' => "1239",
        '2' => "19",
        '3' => "123459",
        '4' => "19",
        '5' => "1239",
        '6' => "129",
        '7' => "129",
        '8' => "19",
        '9' => "123",
        'A' => "19",
        'N' => "1239",
        'Y' => "1",
        _ => "",
    }
}

/// GB 11714 check character of an eight-character organisation code body (letters count A=10 .. Z=35).
pub fn org_code_check_char(body: &str) -> Option<char> {
    let mut sum = 0;
    for (c, w) in body.chars().zip(ORG_WEIGHTS) {
        sum += c.to_digit(36)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

/// GB 32100 MOD 31 check character of the first 17 characters.
pub fn uscc_check_char(first17: &str) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.chars().zip(USCC_WEIGHTS) {
        sum += uscc_value(c)? * w;
    }
    USCC_CHARSET.chars().nth(((31 - sum % 31) % 31) as usize)
}

impl Uscc {
    /// Parses a code as printed on a licence: spaces and hyphens dropped, letters upper-cased.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text: String =
            raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_ascii_uppercase();
        if text.is_empty() {
            return Err(Invalid::required());
        }
        if text.chars().count() != 18 {
            return Err(Invalid::new(
                "uscc_length",
                "统一社会信用代码应为18位",
                "a unified social credit code has 18 characters",
            ));
        }
        if let Some(bad) = text.chars().find(|c| uscc_value(*c).is_none()) {
            return Err(Invalid::new(
                "uscc_chars",
                format!("含有不允许的字符“{bad}”（不使用I、O、Z、S、V）"),
                format!("contains '{bad}', which codes never use (no I, O, Z, S, V)"),
            ));
        }
        let mut chars = text.chars();
        let authority = chars.next().unwrap_or_default();
        let kind = chars.next().unwrap_or_default();
        if !entity_types(authority).contains(kind) {
            return Err(Invalid::new(
                "uscc_entity_type",
                "登记管理部门代码或机构类别代码无效",
                "the registering authority or entity type is not in the standard",
            ));
        }
        let division = &text[2..8];
        let province: Option<u32> = division[..2].parse().ok();
        if !division.bytes().all(|b| b.is_ascii_digit()) || !province.is_some_and(|p| p == 10 || is_province_code(p)) {
            return Err(Invalid::new(
                "uscc_division",
                "登记管理机关行政区划码无效",
                "the division code in characters 3-8 is not valid",
            ));
        }
        if org_code_check_char(&text[8..16]) != text[16..17].chars().next() {
            return Err(Invalid::new(
                "uscc_org_check",
                "组织机构代码校验码错误",
                "the organisation code check character (17th) is wrong",
            ));
        }
        if uscc_check_char(&text[..17]) != text[17..].chars().next() {
            return Err(Invalid::new(
                "uscc_check",
                "统一社会信用代码校验码错误",
                "the check character (18th) is wrong",
            ));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Builds a company code (registration 9, type 1) for a division and an eight-character
    /// organisation body, with both check characters. For synthetic data.
    pub fn compose(division: &str, org_body: &str) -> String {
        let org_check = org_code_check_char(org_body).unwrap_or('0');
        let first17 = format!("91{division}{org_body}{org_check}");
        let check = uscc_check_char(&first17).unwrap_or('0');
        format!("{first17}{check}")
    }
}

impl std::fmt::Display for Uscc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mainland mobile number, eleven digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mobile({})", self.masked())
    }
}

impl Mobile {
    /// Accepts spaces, hyphens and a +86 / 0086 / 86 prefix; carriers are not whitelisted
    /// because new prefixes keep coming.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if text.is_empty() {
            return Err(Invalid::required());
        }
        let national = ["+86", "0086", "86"]
            .iter()
            .find_map(|p| text.strip_prefix(p).filter(|rest| rest.len() == 11))
            .unwrap_or(&text);
        let b = national.as_bytes();
        if b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            Ok(Self(national.to_string()))
        } else {
            Err(Invalid::new(
                "mobile",
                "手机号码应为1开头、第二位3-9的11位数字",
                "must be 11 digits starting with 13–19",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    fn with_check(first17: &str) -> String {
        format!("{first17}{}", resident_id_check_char(first17.as_bytes()))
    }

    #[test]
    fn composed_numbers_parse() {
        let birth = NaiveDate::from_ymd_opt(1980, 2, 29).unwrap();
        let id = ResidentId::parse(&ResidentId::compose("220184", birth, 123), today()).unwrap();
        assert_eq!(id.birth_date(), birth);
        assert_eq!(id.sex(), Sex::Male);
        assert!(Uscc::parse(&Uscc::compose("220104", "MA17Q0K3")).is_ok());
    }

    #[test]
    fn accepts_real_shaped_changchun_numbers() {
        // The standard's own example, and Changchun county codes of several generations.
        assert!(ResidentId::parse("11010519491231002X", today()).is_ok());
        for prefix in ["220184", "220171", "220102", "220183"] {
            let id = with_check(&format!("{prefix}19850612123"));
            assert!(ResidentId::parse(&id, today()).is_ok(), "{id}");
        }
    }

    #[test]
    fn derives_birth_date_sex_and_mask() {
        let id = ResidentId::parse(" 11010519491231002x ", today()).unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn rejects_each_kind_of_bad_id() {
        let cases = [
            ("", "required"),
            ("1101051949123100", "id_length"),
            ("11010519491231002Y", "id_chars"),
            ("１1010519491231002X", "id_chars"),
            ("99010519491231002X", "id_region"),
            (&with_check("22010220270101123"), "id_birth_date"),
            (&with_check("22010219850230123"), "id_birth_date"),
            ("110105194912310021", "id_check_digit"),
        ];
        for (raw, code) in cases {
            assert_eq!(ResidentId::parse(raw, today()).unwrap_err().code, code, "{raw}");
        }
    }

    fn uscc_with_checks(authority_kind: &str, division: &str, org_body: &str) -> String {
        let org = format!("{org_body}{}", org_code_check_char(org_body).unwrap());
        let first17 = format!("{authority_kind}{division}{org}");
        format!("{first17}{}", uscc_check_char(&first17).unwrap())
    }

    #[test]
    fn accepts_valid_codes_including_village_collectives() {
        let company = uscc_with_checks("91", "220102", "MA0Y1234");
        assert_eq!(Uscc::parse(&company.to_lowercase()).unwrap().as_str(), company);
        let spaced = format!("{} {}-{}", &company[..6], &company[6..12], &company[12..]);
        assert!(Uscc::parse(&spaced).is_ok());
        assert!(Uscc::parse(&uscc_with_checks("N2", "220184", "12345678")).is_ok());
        // Published example code of the standard's annex.
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
    }

    #[test]
    fn rejects_each_kind_of_bad_code() {
        let good = uscc_with_checks("91", "220102", "MA0Y1234");
        let mut wrong_check = good.clone();
        wrong_check.replace_range(17.., if good.ends_with('0') { "1" } else { "0" });
        let bad_org = {
            let first17 = format!("91220102MA0Y1234{}", if good.as_bytes()[16] == b'0' { '1' } else { '0' });
            format!("{first17}{}", uscc_check_char(&first17).unwrap())
        };
        let bad_kind = uscc_with_checks("94", "220102", "MA0Y1234");
        let bad_division = uscc_with_checks("91", "990102", "MA0Y1234");
        let cases = [
            ("", "required"),
            ("91220102MA0Y12", "uscc_length"),
            ("91220102MA0Y1234OI", "uscc_chars"),
            (bad_kind.as_str(), "uscc_entity_type"),
            (bad_division.as_str(), "uscc_division"),
            (bad_org.as_str(), "uscc_org_check"),
            (wrong_check.as_str(), "uscc_check"),
        ];
        for (raw, code) in cases {
            assert_eq!(Uscc::parse(raw).unwrap_err().code, code, "{raw}");
        }
    }

    #[test]
    fn mobile_numbers_parse_with_prefixes_and_reject_full_width() {
        for raw in ["13812345678", "+86 138-1234-5678", "008613812345678", "8619912345678", "16612345678"] {
            assert!(Mobile::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(Mobile::parse("+8613812345678").unwrap().masked(), "138****5678");
        for raw in ["12812345678", "1381234567", "１３８１２３４５６７８", "23812345678", "138123456789"] {
            assert_eq!(Mobile::parse(raw).unwrap_err().code, "mobile", "{raw}");
        }
    }
}
