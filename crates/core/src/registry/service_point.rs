//! 社区网点: an agency's presence in a community, and the communities it reaches.

use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};
use crate::field::{FieldErrors, Invalid, required_text};
use crate::market::assignment::Place;

/// A point serves its own community and at most this many declared in all.
pub const MAX_SERVED: usize = 30;

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
    /// Where the point stands (GCJ-02 degrees, as Chinese web maps give them); both or neither.
    /// Without them the point takes its community's own coordinates when the city has them.
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    /// Communities of another district are asked for: they count once that district's
    /// regulator approves. Without this, declaring one is refused.
    pub cross_district: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServicePointDraft {
    pub name: String,
    pub community_code: DivisionCode,
    pub address: String,
    pub opening_hours: String,
    /// Always includes the point's own community.
    pub serves: Vec<DivisionCode>,
    pub place: Option<Place>,
    pub cross_district: bool,
}

impl ServicePointDraft {
    /// The declared communities outside the point's own district.
    pub fn outside_district(&self) -> impl Iterator<Item = &DivisionCode> {
        let home = self.community_code.district();
        self.serves.iter().filter(move |c| c.district() != home)
    }
}

/// A point's coordinates: both or neither, and inside China's extent.
fn parse_place(lng: Option<f64>, lat: Option<f64>) -> Result<Option<Place>, Invalid> {
    match (lng, lat) {
        (None, None) => Ok(None),
        (Some(lng), Some(lat)) if (73.0..=136.0).contains(&lng) && (3.0..=54.0).contains(&lat) => {
            Ok(Some(Place { lng, lat }))
        }
        (Some(_), Some(_)) => Err(Invalid::new("outside_china", "坐标不在中国境内", "is not a place in China")),
        _ => Err(Invalid::new("half_a_place", "经度和纬度须同时填写", "needs both longitude and latitude")),
    }
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
        let place = e.take("lng", parse_place(self.lng, self.lat));
        let mut serves = Vec::new();
        let entries: Vec<&str> =
            self.serves.iter().flat_map(|s| s.split([',', '，', ' ', '\n'])).filter(|s| !s.trim().is_empty()).collect();
        if entries.len() > MAX_SERVED {
            e.take::<()>(
                "serves",
                Err(Invalid::new(
                    "too_many",
                    format!("一个网点最多服务{MAX_SERVED}个社区"),
                    format!("a point serves at most {MAX_SERVED} communities"),
                )),
            );
        } else {
            // The first bad code is said; the rest of the list is not read.
            for raw in entries {
                match e.take("serves", parse_community(raw)) {
                    Some(code) => serves.push(code),
                    None => break,
                }
            }
        }
        match (name, community_code, address, opening_hours, place) {
            (Some(name), Some(community_code), Some(address), Some(opening_hours), Some(place)) if e.is_empty() => {
                serves.push(community_code.clone());
                serves.sort();
                serves.dedup();
                let cross_district = self.cross_district;
                Ok(ServicePointDraft { name, community_code, address, opening_hours, serves, place, cross_district })
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
            serves: vec!["220102001002, 220102001001, 220103001001".into()],
            ..Default::default()
        };
        let draft = form.parse().unwrap();
        assert_eq!(draft.serves.len(), 3);
        assert_eq!(draft.outside_district().map(|c| c.as_str()).collect::<Vec<_>>(), vec!["220103001001"]);
        let half = ServicePointForm { lng: Some(125.3), ..form.clone() };
        assert_eq!(half.parse().unwrap_err().for_field("lng").unwrap().code, "half_a_place");
        let far = ServicePointForm { lng: Some(2.3), lat: Some(48.8), ..form.clone() };
        assert_eq!(far.parse().unwrap_err().for_field("lng").unwrap().code, "outside_china");
        let bad = ServicePointForm { community_code: "220102001".into(), ..form };
        assert_eq!(bad.parse().unwrap_err().for_field("community_code").unwrap().code, "community_level");
    }
}
