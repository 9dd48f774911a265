//! Where divisions are: one point per district, street or village-level unit that has one, from
//! the shipped `data/changchun_points.csv` (see data/README.md). Points are few (hundreds), so
//! they are held in memory rather than in a table.

use std::collections::HashMap;
use std::sync::OnceLock;

use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::assignment::{Place, PlacedBy, place_of};

/// Changchun's points (GCJ-02), shipped with the binary.
pub const CHANGCHUN_POINTS: &str = include_str!("../../data/changchun_points.csv");

#[derive(serde::Deserialize)]
struct PointRow {
    code: String,
    lng_gcj02: f64,
    lat_gcj02: f64,
}

/// The shipped points by 12-digit code.
pub fn division_points() -> &'static HashMap<String, Place> {
    static POINTS: OnceLock<HashMap<String, Place>> = OnceLock::new();
    POINTS.get_or_init(|| {
        csv::Reader::from_reader(CHANGCHUN_POINTS.as_bytes())
            .deserialize::<PointRow>()
            .filter_map(|row| row.ok())
            .map(|row| (row.code, Place { lng: row.lng_gcj02, lat: row.lat_gcj02 }))
            .collect()
    })
}

/// The place of a division code, or of its nearest enclosing division with a point.
pub fn locate(code: &str) -> Option<(Place, PlacedBy)> {
    place_of(&DivisionCode::parse(code).ok()?, division_points())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_point_parses_and_lies_in_changchun() {
        let lines = CHANGCHUN_POINTS.lines().count() - 1;
        assert_eq!(division_points().len(), lines);
        for place in division_points().values() {
            assert!((124.0..128.0).contains(&place.lng) && (43.0..46.0).contains(&place.lat), "{place:?}");
        }
        assert_eq!(locate("220102001001").map(|(_, by)| by), Some(PlacedBy::Own));
    }
}
