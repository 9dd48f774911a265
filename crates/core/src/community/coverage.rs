//! Service-point coverage (家政进社区): a village-level unit is covered when an open service point
//! serves it, either because the point declared it or because the point stands within the
//! configured distance of the unit's own coordinates. The plan's target is 90%, reported over
//! urban communities (社区) and, separately, over all village-level units.
//!
//! Where k new points would raise coverage most is maximum coverage, which is NP-hard; the greedy
//! choice (each time the site that covers the most still-uncovered units) covers at least
//! 1 − (1 − 1/k)^k > 1 − 1/e ≈ 63.2% of what the best k sites could (Nemhauser, Wolsey and Fisher,
//! 1978), and no polynomial method does better unless P = NP (Feige, 1998).

use std::collections::HashMap;

use crate::division::UnitType;
use crate::field::Invalid;
use crate::market::assignment::Place;

/// The plan's target, in per mille so that comparisons stay exact.
pub const TARGET_PER_MILLE: u32 = 900;

/// How far a point with coordinates reaches, in metres: 100 m to 10 km.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Radius(u32);

impl Radius {
    pub const MIN: u32 = 100;
    pub const MAX: u32 = 10_000;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let metres: u32 = raw.trim().parse().map_err(|_| {
            Invalid::new("not_a_number", "请填写整数米数，如 1000", "must be a whole number of metres, e.g. 1000")
        })?;
        Self::new(metres)
    }

    pub fn new(metres: u32) -> Result<Self, Invalid> {
        if (Self::MIN..=Self::MAX).contains(&metres) {
            Ok(Self(metres))
        } else {
            Err(Invalid::new(
                "out_of_range",
                format!("服务半径须在{}米到{}米之间", Self::MIN, Self::MAX),
                format!("must be between {} and {} metres", Self::MIN, Self::MAX),
            ))
        }
    }

    pub fn metres(self) -> u32 {
        self.0
    }
}

/// A village-level unit as coverage sees it: its kind, and its place only when it has its own
/// point (a street's centre standing in for it would make a whole street near every point).
#[derive(Debug, Clone)]
pub struct Unit {
    pub kind: UnitType,
    pub place: Option<Place>,
    /// The district (its six digits): reach by distance stops at a district line, as declarations
    /// across it wait for that district's regulator.
    pub district: u32,
}

/// An open service point: the units it declared (as indices into the units) and where it is.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub declared: Vec<usize>,
    pub place: Option<Place>,
    pub district: u32,
}

/// Why a unit counts as covered; a declaration wins over distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoveredBy {
    Declared,
    Distance,
}

/// Buckets of places on a grid about one radius wide, so that "which units are near this point"
/// reads a 3×3 block of cells, not every unit.
struct Grid<'a> {
    cell_deg: f64,
    cells: HashMap<(i64, i64), Vec<usize>>,
    places: Vec<Option<&'a Place>>,
}

impl<'a> Grid<'a> {
    fn new(places: Vec<Option<&'a Place>>, radius: Radius) -> Self {
        // A degree of latitude is ~111 km; longitude shrinks with latitude, so cells are sized by
        // the latitude degree and widened enough for the city's latitude (up to 60°: cos ≥ 0.5).
        let cell_deg = f64::from(radius.metres()) / 111_000.0 * 2.0;
        let mut cells: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
        for (i, place) in places.iter().enumerate() {
            if let Some(p) = place {
                cells.entry(Self::cell(cell_deg, p)).or_default().push(i);
            }
        }
        Self { cell_deg, cells, places }
    }

    fn cell(cell_deg: f64, p: &Place) -> (i64, i64) {
        ((p.lng / cell_deg).floor() as i64, (p.lat / cell_deg).floor() as i64)
    }

    /// Indices of the places within `radius` of `at`.
    fn near(&self, at: &Place, radius: Radius) -> impl Iterator<Item = usize> + '_ {
        let (cx, cy) = Self::cell(self.cell_deg, at);
        let at = *at;
        let limit = f64::from(radius.metres());
        (cx - 1..=cx + 1)
            .flat_map(move |x| (cy - 1..=cy + 1).map(move |y| (x, y)))
            .filter_map(|key| self.cells.get(&key))
            .flatten()
            .copied()
            .filter(move |&i| self.places[i].is_some_and(|p| p.metres_to(&at) <= limit))
    }
}

/// Which units are covered, and how.
pub fn covered(units: &[Unit], points: &[Reach], radius: Option<Radius>) -> Vec<Option<CoveredBy>> {
    let mut by = vec![None; units.len()];
    if let Some(radius) = radius {
        let grid = Grid::new(units.iter().map(|u| u.place.as_ref()).collect(), radius);
        for point in points {
            let Some(place) = point.place.as_ref() else { continue };
            for i in grid.near(place, radius).filter(|&i| units[i].district == point.district) {
                by[i] = Some(CoveredBy::Distance);
            }
        }
    }
    for point in points {
        for &i in &point.declared {
            if let Some(slot) = by.get_mut(i) {
                *slot = Some(CoveredBy::Declared);
            }
        }
    }
    by
}

/// Covered out of all, over one kind of unit or all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Named apart from the workforce rates' `Tally`: two schemas of one name share one OpenAPI entry.
#[cfg_attr(feature = "openapi", schema(as = CoverageTally))]
pub struct Tally {
    pub covered: u32,
    pub total: u32,
}

impl Tally {
    pub fn add(&mut self, covered: bool) {
        self.total += 1;
        self.covered += u32::from(covered);
    }

    /// Coverage in per mille, rounded down (so 899.9‰ does not pass as 90%).
    pub fn per_mille(&self) -> u32 {
        if self.total == 0 { 0 } else { (u64::from(self.covered) * 1000 / u64::from(self.total)) as u32 }
    }

    /// The share as a percentage with one decimal, rounded down: "89.9".
    pub fn percent(&self) -> String {
        if self.total == 0 {
            return "—".into();
        }
        let tenths = u64::from(self.covered) * 1000 / u64::from(self.total);
        format!("{}.{}", tenths / 10, tenths % 10)
    }

    pub fn meets_target(&self) -> bool {
        self.total > 0 && u64::from(self.covered) * 1000 >= u64::from(TARGET_PER_MILLE) * u64::from(self.total)
    }

    /// How many more units must be covered to reach the target.
    pub fn short_of_target(&self) -> u32 {
        let needed = (u64::from(TARGET_PER_MILLE) * u64::from(self.total)).div_ceil(1000) as u32;
        needed.saturating_sub(self.covered)
    }
}

/// Coverage over urban communities (社区) and over every village-level unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageTally {
    /// 社区 only: the plan's headline figure for the urban areas.
    pub communities: Tally,
    /// 社区, 村 and other village-level units.
    pub all_units: Tally,
}

impl CoverageTally {
    pub fn add(&mut self, kind: UnitType, covered: bool) {
        if kind == UnitType::Community {
            self.communities.add(covered);
        }
        self.all_units.add(covered);
    }
}

/// One suggested new site and the units it would add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub site: usize,
    pub gain: Vec<usize>,
}

/// What a new point placed at each uncovered unit would cover: the unit itself (it serves its own
/// community) and, when points reach by distance, the uncovered units with a place within reach.
pub fn candidate_sets(
    units: &[Unit],
    covered: &[Option<CoveredBy>],
    radius: Option<Radius>,
) -> Vec<(usize, Vec<usize>)> {
    let open: Vec<usize> = (0..units.len()).filter(|&i| covered[i].is_none()).collect();
    let grid = radius.map(|r| {
        let places = units.iter().enumerate().map(|(i, u)| u.place.as_ref().filter(|_| covered[i].is_none())).collect();
        (Grid::new(places, r), r)
    });
    open.iter()
        .map(|&site| {
            let mut set = vec![site];
            if let (Some((grid, r)), Some(place)) = (&grid, units[site].place.as_ref()) {
                set.extend(grid.near(place, *r).filter(|&j| j != site && units[j].district == units[site].district));
            }
            set.sort_unstable();
            (site, set)
        })
        .collect()
}

/// Greedy maximum coverage: up to `k` sites, each the one adding the most still-uncovered units;
/// ties go to the heavier `weight` (e.g. households that asked for service there), then the
/// lower index. Stops early when nothing is left to gain.
pub fn greedy(sets: &[(usize, Vec<usize>)], k: usize, weight: impl Fn(usize) -> u64) -> Vec<Pick> {
    let universe = sets.iter().flat_map(|(_, s)| s.iter().copied()).max().map_or(0, |m| m + 1);
    let mut taken = vec![false; universe];
    let mut used = vec![false; sets.len()];
    let mut picks = Vec::new();
    while picks.len() < k {
        let best = sets
            .iter()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .map(|(i, (site, set))| {
                let gain: Vec<usize> = set.iter().copied().filter(|&u| !taken[u]).collect();
                let w: u64 = gain.iter().map(|&u| weight(u)).sum();
                (i, *site, gain, w)
            })
            .filter(|(_, _, gain, _)| !gain.is_empty())
            .max_by(|a, b| a.2.len().cmp(&b.2.len()).then(a.3.cmp(&b.3)).then(b.1.cmp(&a.1)));
        let Some((i, site, gain, _)) = best else { break };
        used[i] = true;
        for &u in &gain {
            taken[u] = true;
        }
        picks.push(Pick { site, gain });
    }
    picks
}

/// The guarantee stated on the page: greedy covers at least this share of the best k sites.
pub fn greedy_bound(k: usize) -> f64 {
    if k == 0 {
        return 1.0;
    }
    1.0 - (1.0 - 1.0 / k as f64).powi(k as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unit(kind: UnitType, place: Option<(f64, f64)>) -> Unit {
        Unit { kind, place: place.map(|(lng, lat)| Place { lng, lat }), district: 220102 }
    }

    /// A hand-made town: four communities and a village along one street, 0.001° of latitude
    /// apart (~111 m), and one unit with no coordinates.
    fn town() -> Vec<Unit> {
        vec![
            unit(UnitType::Community, Some((125.3, 43.800))),
            unit(UnitType::Community, Some((125.3, 43.801))),
            unit(UnitType::Community, Some((125.3, 43.805))),
            unit(UnitType::Community, None),
            unit(UnitType::VillageCommittee, Some((125.3, 43.830))),
        ]
    }

    #[test]
    fn covered_by_declaration_and_by_distance() {
        let units = town();
        let points = vec![
            // Declares unit 3 (no coordinates) and stands on unit 0.
            Reach { declared: vec![3], place: Some(Place { lng: 125.3, lat: 43.800 }), district: 220102 },
        ];
        let r = Radius::new(200).unwrap();
        let by = covered(&units, &points, Some(r));
        assert_eq!(
            by,
            vec![Some(CoveredBy::Distance), Some(CoveredBy::Distance), None, Some(CoveredBy::Declared), None]
        );
        // Without distance only the declaration counts.
        let by = covered(&units, &points, None);
        assert_eq!(by, vec![None, None, None, Some(CoveredBy::Declared), None]);
        // A wider reach takes unit 2 (~555 m) but not the village (~3.3 km).
        let by = covered(&units, &points, Some(Radius::new(600).unwrap()));
        assert_eq!(by.iter().filter(|b| b.is_some()).count(), 4);
        assert_eq!(by[4], None);
    }

    #[test]
    fn distance_stops_at_a_district_line() {
        let mut units = town();
        units[1].district = 220103;
        let points = vec![Reach { declared: vec![], place: Some(Place { lng: 125.3, lat: 43.800 }), district: 220102 }];
        let by = covered(&units, &points, Some(Radius::new(200).unwrap()));
        assert_eq!(by[0], Some(CoveredBy::Distance));
        assert_eq!(by[1], None, "111 m away, but in another district");
        let sets = candidate_sets(&units, &vec![None; units.len()], Some(Radius::new(200).unwrap()));
        assert_eq!(sets[0], (0, vec![0]));
    }

    #[test]
    fn a_declaration_wins_over_distance_and_a_bad_index_is_ignored() {
        let units = town();
        let points =
            vec![Reach { declared: vec![0, 99], place: Some(Place { lng: 125.3, lat: 43.800 }), district: 220102 }];
        let by = covered(&units, &points, Some(Radius::new(100).unwrap()));
        assert_eq!(by[0], Some(CoveredBy::Declared));
    }

    #[test]
    fn tallies_over_communities_and_all_units() {
        let units = town();
        let by = covered(&units, &[Reach { declared: vec![0, 4], place: None, district: 220102 }], None);
        let mut t = CoverageTally::default();
        for (u, b) in units.iter().zip(&by) {
            t.add(u.kind, b.is_some());
        }
        assert_eq!(t.communities, Tally { covered: 1, total: 4 });
        assert_eq!(t.all_units, Tally { covered: 2, total: 5 });
        assert_eq!(t.communities.percent(), "25.0");
        assert_eq!(t.communities.short_of_target(), 3);
    }

    #[test]
    fn the_target_is_exact_at_ninety_percent() {
        assert!(Tally { covered: 9, total: 10 }.meets_target());
        assert!(!Tally { covered: 899, total: 1000 }.meets_target());
        assert_eq!(Tally { covered: 899, total: 1000 }.percent(), "89.9");
        assert_eq!(Tally { covered: 2, total: 3 }.percent(), "66.6");
        assert_eq!(Tally { covered: 899, total: 1000 }.short_of_target(), 1);
        assert_eq!(Tally::default().short_of_target(), 0);
        assert!(!Tally::default().meets_target());
    }

    #[test]
    fn radius_refuses_zero_and_absurd() {
        assert_eq!(Radius::parse("0").unwrap_err().code, "out_of_range");
        assert_eq!(Radius::parse("1000000").unwrap_err().code, "out_of_range");
        assert_eq!(Radius::parse("abc").unwrap_err().code, "not_a_number");
        assert_eq!(Radius::parse(" 1500 ").unwrap().metres(), 1500);
    }

    #[test]
    fn candidates_reach_only_uncovered_units_with_places() {
        let units = town();
        let by = covered(&units, &[Reach { declared: vec![1], place: None, district: 220102 }], None);
        let sets = candidate_sets(&units, &by, Some(Radius::new(200).unwrap()));
        // Unit 0's neighbour (unit 1) is covered already; unit 3 has no place.
        assert_eq!(sets, vec![(0, vec![0]), (2, vec![2]), (3, vec![3]), (4, vec![4])]);
        let sets = candidate_sets(&units, &by, Some(Radius::new(600).unwrap()));
        assert_eq!(sets[0], (0, vec![0, 2]));
    }

    #[test]
    fn ties_go_to_the_heavier_demand() {
        let sets = vec![(0, vec![0]), (1, vec![1]), (2, vec![2])];
        let picks = greedy(&sets, 2, |u| if u == 2 { 10 } else { 0 });
        assert_eq!(picks.iter().map(|p| p.site).collect::<Vec<_>>(), vec![2, 0]);
    }

    #[test]
    fn the_stated_bound() {
        assert_eq!(greedy_bound(1), 1.0);
        assert!((greedy_bound(2) - 0.75).abs() < 1e-9);
        assert!(greedy_bound(50) > 1.0 - 1.0 / std::f64::consts::E);
    }

    /// The best k sets by trying every combination.
    fn brute_force(sets: &[(usize, Vec<usize>)], k: usize) -> usize {
        let n = sets.len();
        let mut best = 0;
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize > k {
                continue;
            }
            let mut seen = std::collections::HashSet::new();
            for (i, (_, s)) in sets.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    seen.extend(s.iter().copied());
                }
            }
            best = best.max(seen.len());
        }
        best
    }

    proptest! {
        #[test]
        fn greedy_keeps_its_guarantee_against_brute_force(
            raw in prop::collection::vec(prop::collection::vec(0usize..12, 1..6), 1..10),
            k in 1usize..4,
        ) {
            let sets: Vec<(usize, Vec<usize>)> = raw.into_iter().enumerate().map(|(i, mut s)| {
                s.sort_unstable();
                s.dedup();
                (i, s)
            }).collect();
            let picks = greedy(&sets, k, |_| 0);
            let got: usize = picks.iter().map(|p| p.gain.len()).sum();
            let best = brute_force(&sets, k);
            prop_assert!(picks.len() <= k);
            prop_assert!(got <= best);
            prop_assert!(got as f64 >= greedy_bound(k) * best as f64 - 1e-9, "greedy {got} best {best} k {k}");
            if k == 1 {
                prop_assert_eq!(got, best);
            }
            // The gains are disjoint and each is the set's still-uncovered part.
            let mut all: Vec<usize> = picks.iter().flat_map(|p| p.gain.clone()).collect();
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            prop_assert_eq!(all.len(), n);
        }

        #[test]
        fn distance_cover_matches_a_plain_scan(
            units in prop::collection::vec((0.0f64..0.05, 0.0f64..0.05), 1..40),
            points in prop::collection::vec((0.0f64..0.05, 0.0f64..0.05), 0..10),
            metres in 100u32..3000,
        ) {
            let units: Vec<Unit> = units.iter().map(|&(x, y)| unit(UnitType::Community, Some((125.3 + x, 43.8 + y)))).collect();
            let reach: Vec<Reach> = points.iter().map(|&(x, y)| Reach { declared: vec![], place: Some(Place { lng: 125.3 + x, lat: 43.8 + y }), district: 220102 }).collect();
            let r = Radius::new(metres).unwrap();
            let by = covered(&units, &reach, Some(r));
            for (u, b) in units.iter().zip(&by) {
                let near = reach.iter().any(|p| p.place.unwrap().metres_to(&u.place.unwrap()) <= f64::from(metres));
                prop_assert_eq!(b.is_some(), near);
            }
        }
    }
}
