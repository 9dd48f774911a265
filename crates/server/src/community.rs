//! 家政进社区 below the pages and the API: whose area a viewer watches, the coverage snapshot
//! (computed once, kept until a write through this server changes it or half a minute passes),
//! and the map drawn from the shipped coordinates.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::community::coverage::greedy_bound;
use jiazheng_core::division::{DivisionCode, DivisionLevel};
use jiazheng_core::market::assignment::Place;
use jiazheng_store::community::coverage::{Coverage, area_prefix};

use crate::i18n::Lang;
use crate::{AppError, AppState};

/// The area community staff work in (a district, street or community); anyone else has none.
pub fn staff_area(who: &Principal) -> Result<DivisionCode, AppError> {
    match (who.role, &who.scope) {
        (Role::CommunityStaff, Scope::District(area)) => Ok(area.clone()),
        _ => Err(AppError::Forbidden),
    }
}

/// The area whose surveys and supply a viewer may read: staff their area, a regulator their
/// district (`None`: the whole city). Anyone else reads none.
pub fn watched_area(who: &Principal) -> Result<Option<DivisionCode>, AppError> {
    match (who.role, &who.scope) {
        (Role::CommunityStaff, Scope::District(area)) => Ok(Some(area.clone())),
        (Role::Regulator, Scope::District(area)) => Ok(Some(area.clone())),
        (Role::Regulator, Scope::City) => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

/// An area typed in a query: a district, street or community code; anything else is the city.
pub fn parse_area(raw: Option<&str>) -> Option<DivisionCode> {
    raw.filter(|r| !r.trim().is_empty())
        .and_then(|r| DivisionCode::parse(r).ok())
        .filter(|c| matches!(c.level(), DivisionLevel::District | DivisionLevel::Street | DivisionLevel::Community))
}

impl AppState {
    /// Coverage as of at most half a minute ago (at once after a write through this server).
    pub async fn coverage(&self) -> Result<Arc<Coverage>, AppError> {
        Ok(self.coverage.get_or_try(|| self.store.coverage()).await?)
    }

    /// A service point, a declaration or the radius changed: recompute on the next read.
    pub fn coverage_changed(&self) {
        self.coverage.expire();
    }

    /// The map of an area as SVG, drawn once per coverage snapshot, area and language: a city's
    /// thousands of points are grouped and written once, not on every request.
    pub fn coverage_map(
        &self,
        coverage: &Coverage,
        area: Option<&DivisionCode>,
        lang: Lang,
    ) -> Result<Arc<String>, AppError> {
        let key =
            format!("{}|{}|{}", area.map_or("", |a| a.as_str()), lang.code(), coverage.computed_at.timestamp_micros());
        if let Some(svg) = self.coverage_maps.get(&key) {
            return Ok(svg);
        }
        let svg = match MapView::new(coverage, area, lang) {
            Some(map) => {
                askama::Template::render(&MapSvg { map, lang }).map_err(|e| AppError::Internal(e.to_string()))?
            }
            None => String::new(),
        };
        let svg = Arc::new(svg);
        self.coverage_maps.put(key, svg.clone());
        Ok(svg)
    }
}

#[derive(askama::Template)]
#[template(path = "coverage_map.html")]
struct MapSvg {
    map: MapView,
    lang: Lang,
}

/// The promise stated beside the suggestion, in the page's language.
pub fn greedy_promise(k: usize, lang: Lang) -> String {
    let bound = greedy_bound(k) * 100.0;
    lang.pick(
        &format!(
            "建议按“每次选新增覆盖最多的位置”依次选出，仅供参考：这样选出的 {k} 个位置，新增覆盖的数量至少是最佳选法的 {bound:.1}%（无论选几个，都不低于 63.2%）。"
        ),
        &format!(
            "Chosen greedily: each time the site that adds the most uncovered units. Maximum coverage is NP-hard; the greedy choice covers at least {bound:.1}% of what the best {k} sites could (never below 1 − 1/e ≈ 63.2% for any k, and no polynomial method guarantees more unless P = NP)."
        ),
    )
    .to_string()
}

/// One dot of the map: a place, how big, and what its colour says.
#[derive(Debug, Clone)]
pub struct MapDot {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    /// `all`, `some` or `none` covered; `point` for a service point.
    pub class: &'static str,
    pub title: String,
}

/// A map of an area drawn as SVG: units (grouped where they share a place) coloured by
/// coverage, and service points as small squares.
#[derive(Debug, Clone)]
pub struct MapView {
    pub width: f64,
    pub height: f64,
    pub units: Vec<MapDot>,
    pub points: Vec<MapDot>,
}

const MAP_WIDTH: f64 = 600.0;

/// Units drawn at one place: the place, and each unit's name and whether it is covered.
type PlaceGroup = (Place, Vec<(String, bool)>);

impl MapView {
    pub fn new(coverage: &Coverage, area: Option<&DivisionCode>, lang: Lang) -> Option<Self> {
        let prefix = area.map(area_prefix).unwrap_or("");
        // Units that share a drawn place (their street's point) become one dot.
        let mut groups: BTreeMap<(i64, i64), PlaceGroup> = BTreeMap::new();
        for unit in coverage.units.iter().filter(|u| u.code.starts_with(prefix)) {
            let Some(place) = coverage.drawn_at(unit) else { continue };
            let key = ((place.lng * 1e5).round() as i64, (place.lat * 1e5).round() as i64);
            groups
                .entry(key)
                .or_insert_with(|| (place, Vec::new()))
                .1
                .push((unit.name.clone(), unit.covered.is_some()));
        }
        // Points on a grid of about 1/100 of the area's span, so a city of 10,000 points draws a few
        // hundred marks: each mark says how many points it stands for.
        let located: Vec<(Place, &str, &str)> = coverage
            .points
            .iter()
            .filter(|p| p.community_code.starts_with(prefix))
            .filter_map(|p| Some((p.drawn_at?, p.name.as_str(), p.agency_name.as_str())))
            .collect();
        let span = located.iter().fold((f64::MAX, f64::MIN), |(lo, hi), (p, _, _)| (lo.min(p.lat), hi.max(p.lat)));
        let cell = ((span.1 - span.0) / 100.0).max(0.0005);
        let mut pin_cells: BTreeMap<(i64, i64), (Place, Vec<String>)> = BTreeMap::new();
        for (place, name, agency) in &located {
            let key = ((place.lng / cell).round() as i64, (place.lat / cell).round() as i64);
            pin_cells.entry(key).or_insert_with(|| (*place, Vec::new())).1.push(format!("{name} · {agency}"));
        }
        let pins: Vec<(Place, String)> = pin_cells
            .into_values()
            .map(|(place, names)| {
                let title = match names.len() {
                    1 => names[0].clone(),
                    n => lang
                        .pick(&format!("{}等{n}个网点", names[0]), &format!("{} and {} more points", names[0], n - 1))
                        .to_string(),
                };
                (place, title)
            })
            .collect();
        let places: Vec<Place> = groups.values().map(|(p, _)| *p).chain(pins.iter().map(|(p, _)| *p)).collect();
        if places.is_empty() {
            return None;
        }
        let fold = |f: fn(f64, f64) -> f64, pick: fn(&Place) -> f64, start: f64| places.iter().map(pick).fold(start, f);
        let (min_lng, max_lng) = (fold(f64::min, |p| p.lng, f64::MAX), fold(f64::max, |p| p.lng, f64::MIN));
        let (min_lat, max_lat) = (fold(f64::min, |p| p.lat, f64::MAX), fold(f64::max, |p| p.lat, f64::MIN));
        // Equirectangular at the area's middle latitude: true enough across one city.
        let squeeze = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let span_x = ((max_lng - min_lng) * squeeze).max(0.005);
        let span_y = (max_lat - min_lat).max(0.005);
        let margin = 16.0;
        let scale = (MAP_WIDTH - 2.0 * margin) / span_x;
        let height = (span_y * scale + 2.0 * margin).clamp(160.0, 720.0);
        let scale = scale.min((height - 2.0 * margin) / span_y);
        let project = |p: &Place| {
            let x = margin + (p.lng - min_lng) * squeeze * scale;
            let y = margin + (max_lat - p.lat) * scale;
            ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
        };
        let units = groups
            .values()
            .map(|(place, members)| {
                let covered = members.iter().filter(|(_, c)| *c).count();
                let (x, y) = project(place);
                let class = match covered {
                    0 => "none",
                    c if c == members.len() => "all",
                    _ => "some",
                };
                let first = &members[0].0;
                let title = if members.len() == 1 {
                    format!(
                        "{first}：{}",
                        if covered == 1 {
                            lang.pick("已覆盖", "covered")
                        } else {
                            lang.pick("未覆盖", "not covered")
                        }
                    )
                } else {
                    lang.pick(
                        &format!("{first}等{}个：已覆盖{covered}个", members.len()),
                        &format!("{first} and {} more: {covered} of {} covered", members.len() - 1, members.len()),
                    )
                    .to_string()
                };
                MapDot { x, y, r: (3.0 + (members.len() as f64).sqrt() * 1.6).min(18.0), class, title }
            })
            .collect();
        let points = pins
            .iter()
            .map(|(place, title)| {
                let (x, y) = project(place);
                MapDot { x, y, r: 2.5, class: "point", title: title.clone() }
            })
            .collect();
        Some(Self { width: MAP_WIDTH, height: (height * 10.0).round() / 10.0, units, points })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_from_queries() {
        assert_eq!(parse_area(Some("220102")).unwrap().as_str(), "220102000000");
        assert_eq!(parse_area(Some("220102001")).unwrap().level(), DivisionLevel::Street);
        assert!(parse_area(Some("2201")).is_none());
        assert!(parse_area(Some("junk")).is_none());
        assert!(parse_area(None).is_none());
    }

    #[test]
    fn the_promise_names_the_bound() {
        assert!(greedy_promise(2, Lang::Zh).contains("75.0%"));
        assert!(greedy_promise(5, Lang::En).contains("67.2%"));
    }
}
