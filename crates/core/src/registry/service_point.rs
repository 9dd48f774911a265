//! 社区网点: an agency's presence in a community, and the communities it reaches.

use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};
use crate::field::{FieldErrors, Invalid, required_text};

choice!(
    PointStatus {
        Active = ("active", "运营中", "Open"),
        Closed = ("closed", "已关闭", "Closed"),
    }
);

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ServicePointForm {
    pub name: String,
    pub community_code: String,
    pub address: String,
    pub opening_hours: String,
    pub serves: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePointDraft {
    pub name: String,
    pub community_code: DivisionCode,
    pub address: String,
    pub opening_hours: String,
    /// Always includes the point's own community.
    pub serves: Vec<DivisionCode>,
}

pub fn parse_community(raw: &str) -> Result<DivisionCode, Invalid> {
    let code = DivisionCode::parse(raw)?;
    if code.level() == DivisionLevel::Community {
        Ok(code)
    } else {
        Err(Invalid::new("community_level", "请填写12位村（居）委会代码", "must be a 12-digit village-level code"))
    }
}

impl ServicePointForm {
    pub fn parse(&self) -> Result<ServicePointDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take("name", required_text(&self.name, 100));
        let community_code = e.take("community_code", parse_community(&self.community_code));
        let address = e.take("address", required_text(&self.address, 200));
        let opening_hours = e.take("opening_hours", required_text(&self.opening_hours, 100));
        let mut serves = Vec::new();
        for raw in self.serves.iter().flat_map(|s| s.split([',', '，', ' ', '\n'])).filter(|s| !s.trim().is_empty()) {
            if let Some(code) = e.take("serves", parse_community(raw)) {
                serves.push(code);
            }
        }
        match (name, community_code, address, opening_hours) {
            (Some(name), Some(community_code), Some(address), Some(opening_hours)) if e.is_empty() => {
                serves.push(community_code.clone());
                serves.sort();
                serves.dedup();
                Ok(ServicePointDraft { name, community_code, address, opening_hours, serves })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_serves_its_own_community_and_the_listed_ones() {
        let form = ServicePointForm {
            name: "华阳社区家政服务站".into(),
            community_code: "220102001001".into(),
            address: "华阳街1号".into(),
            opening_hours: "08:00-18:00".into(),
            serves: vec!["220102001002, 220102001001".into()],
        };
        let draft = form.parse().unwrap();
        assert_eq!(draft.serves.len(), 2);
        let bad = ServicePointForm { community_code: "220102001".into(), ..form };
        assert_eq!(bad.parse().unwrap_err().for_field("community_code").unwrap().code, "community_level");
    }
}
