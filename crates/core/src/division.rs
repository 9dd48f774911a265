//! Statistical division codes (统计用区划代码): twelve digits, province to village level.

use serde::Serialize;

use crate::field::Invalid;
use crate::ids::is_province_code;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    Province,
    City,
    District,
    Street,
    Community,
}

impl DivisionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::District => "district",
            Self::Street => "street",
            Self::Community => "community",
        }
    }
}

/// A twelve-digit division code; six- and nine-digit forms are padded with zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DivisionCode(String);

impl DivisionCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::required());
        }
        let province: Option<u32> = text.get(..2).and_then(|p| p.parse().ok());
        if !matches!(text.len(), 6 | 9 | 12)
            || !text.bytes().all(|b| b.is_ascii_digit())
            || !province.is_some_and(is_province_code)
        {
            return Err(Invalid::new(
                "division_code",
                "区划代码应为以省级代码开头的6、9或12位数字",
                "a division code is 6, 9 or 12 digits starting with a province code",
            ));
        }
        Ok(Self(format!("{text:0<12}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> DivisionLevel {
        let c = &self.0;
        if &c[9..] != "000" {
            DivisionLevel::Community
        } else if &c[6..9] != "000" {
            DivisionLevel::Street
        } else if &c[4..6] != "00" {
            DivisionLevel::District
        } else if &c[2..4] != "00" {
            DivisionLevel::City
        } else {
            DivisionLevel::Province
        }
    }

    /// The district (county-level) code that contains this division.
    pub fn district(&self) -> DivisionCode {
        DivisionCode(format!("{}000000", &self.0[..6]))
    }

    /// The street (township-level) code that contains this division.
    pub fn street(&self) -> DivisionCode {
        DivisionCode(format!("{}000", &self.0[..9]))
    }

    /// The leading digits that name the division (`220102` for a district): the codes of every
    /// division inside it start with them.
    pub fn significant(&self) -> &str {
        let digits = match self.level() {
            DivisionLevel::Province => 2,
            DivisionLevel::City => 4,
            DivisionLevel::District => 6,
            DivisionLevel::Street => 9,
            DivisionLevel::Community => 12,
        };
        &self.0[..digits]
    }

    /// True when `self` lies inside `area` (or is it).
    pub fn is_within(&self, area: &DivisionCode) -> bool {
        self.0.starts_with(area.significant())
    }
}

impl std::fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Village-level unit kinds; the plan's coverage target is reported over each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    Community,
    VillageCommittee,
    Other,
}

impl UnitType {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "community" => Ok(Self::Community),
            "village_committee" => Ok(Self::VillageCommittee),
            "other" => Ok(Self::Other),
            _ => Err(Invalid::unknown_choice("社区、村委会、其他", "community, village committee, other")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Community => "community",
            Self::VillageCommittee => "village_committee",
            Self::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_knows_levels() {
        let district = DivisionCode::parse("220102").unwrap();
        assert_eq!(district.as_str(), "220102000000");
        assert_eq!(district.level(), DivisionLevel::District);
        let street = DivisionCode::parse("220102001").unwrap();
        assert_eq!(street.level(), DivisionLevel::Street);
        let community = DivisionCode::parse("220102001001").unwrap();
        assert_eq!(community.level(), DivisionLevel::Community);
        assert_eq!(community.district(), district);
        assert_eq!(community.street(), street);
        assert!(community.is_within(&district));
        assert!(!community.is_within(&DivisionCode::parse("220103").unwrap()));
        assert_eq!(DivisionCode::parse("220100").unwrap().level(), DivisionLevel::City);
    }

    #[test]
    fn rejects_malformed_codes() {
        for raw in ["", "2201", "22010200100", "99010200100a", "990102001001"] {
            assert!(DivisionCode::parse(raw).is_err(), "{raw}");
        }
    }
}
