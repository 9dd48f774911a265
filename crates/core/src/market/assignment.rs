//! Next-day assignment: tomorrow's open orders go to free, compliant workers so that as many
//! orders as possible are served, then as many residents as possible keep the worker they had,
//! then the distance travelled (great-circle, from the worker's home to the household's
//! community) is smallest. The matching is the Hungarian method (`pathfinding`'s Kuhn–Munkres),
//! run on each connected group of orders after keeping only each order's nearest candidates: a
//! dense matrix over a whole city's workers would not fit in memory or time.

use std::collections::HashMap;

use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;

use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};

/// A point in GCJ-02 degrees (the coordinates of Chinese web maps; distances within a city
/// differ from WGS-84 by metres, well under what assignment cares about).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub lng: f64,
    pub lat: f64,
}

const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Place {
    /// Great-circle distance in metres (haversine).
    pub fn metres_to(&self, other: &Place) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

choice!(
    /// Whose point stood in for a division's place: its own, or the nearest enclosing one that has one.
    PlacedBy {
        Own = ("own", "本社区/村坐标", "its own point"),
        Street = ("street", "所属街道坐标", "its street's point"),
        District = ("district", "所属区县坐标", "its district's point"),
        City = ("city", "全市中心坐标", "the city's point"),
    }
);

/// The place of a division: its own point, else its street's, district's or city's.
pub fn place_of(code: &DivisionCode, points: &HashMap<String, Place>) -> Option<(Place, PlacedBy)> {
    let city = format!("{}00000000", &code.as_str()[..4]);
    let levels = [
        (code.as_str().to_string(), PlacedBy::Own),
        (code.street().as_str().to_string(), PlacedBy::Street),
        (code.district().as_str().to_string(), PlacedBy::District),
        (city, PlacedBy::City),
    ];
    let own_level = code.level();
    levels.into_iter().find_map(|(key, by)| {
        let by = match (by, own_level) {
            // A street's own point is its own, not a fallback.
            (PlacedBy::Street, DivisionLevel::Street) | (PlacedBy::District, DivisionLevel::District) => PlacedBy::Own,
            _ => by,
        };
        points.get(&key).map(|p| (*p, by))
    })
}

/// One order to place: where it is, whom the resident would like back, who could go.
#[derive(Debug, Clone, Default)]
pub struct Need {
    pub at: Option<Place>,
    /// Index of the preferred worker in `Problem::workers`, when that worker is a candidate.
    pub preferred: Option<usize>,
    /// Indices of the workers who may take it (free, compliant, on shift).
    pub candidates: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Problem {
    pub workers: Vec<Option<Place>>,
    pub needs: Vec<Need>,
}

/// Keeping the worker a resident had is worth this many metres of travel (1,000 km): it wins
/// against any distance within a city.
pub const PREFERRED_BONUS_M: i64 = 1_000_000;
/// Leaving an order open costs more than any assignment, so the most orders are served first.
pub const OPEN_COST: i64 = 1_000_000_000;
/// A place that is not known counts as this far (50 km): such a worker is chosen only when no
/// located one is free.
const UNKNOWN_DISTANCE_M: i64 = 50_000;

impl Problem {
    /// Metres from worker `w` to order `n`'s household.
    pub fn metres(&self, n: usize, w: usize) -> i64 {
        match (self.needs[n].at, self.workers[w]) {
            (Some(a), Some(b)) => a.metres_to(&b).round() as i64,
            _ => UNKNOWN_DISTANCE_M,
        }
    }

    /// What sending worker `w` to order `n` costs in the objective.
    pub fn cost(&self, n: usize, w: usize) -> i64 {
        let bonus = if self.needs[n].preferred == Some(w) { PREFERRED_BONUS_M } else { 0 };
        self.metres(n, w) - bonus
    }

    /// The objective of a choice (`None`: left open).
    pub fn objective(&self, choice: &[Option<usize>]) -> i64 {
        choice.iter().enumerate().map(|(n, w)| w.map_or(OPEN_COST, |w| self.cost(n, w))).sum()
    }

    /// The same problem with each order's candidates cut to its `k` nearest (the preferred
    /// worker always kept).
    pub fn pruned(&self, k: usize) -> Problem {
        let needs = self
            .needs
            .iter()
            .enumerate()
            .map(|(n, need)| {
                let mut candidates = need.candidates.clone();
                if candidates.len() > k {
                    candidates.sort_by_key(|&w| (self.metres(n, w), w));
                    candidates.truncate(k);
                    if let Some(p) = need.preferred.filter(|p| !candidates.contains(p)) {
                        candidates.push(p);
                    }
                }
                Need { candidates, ..need.clone() }
            })
            .collect();
        Problem { workers: self.workers.clone(), needs }
    }
}

/// Why an order was left open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// No worker was free and compliant for it.
    NoCandidate,
    /// Its candidates all went to other orders.
    CandidatesTaken,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The worker for each order, by index; `None` when it stays open.
    pub worker_of: Vec<Option<usize>>,
    /// The objective (metres, less the bonus for each kept worker, plus the cost of open orders).
    pub objective: i64,
    pub metres: i64,
    pub assigned: usize,
    pub preferred_kept: usize,
    /// The largest group of orders solved as one matrix.
    pub largest_group: usize,
}

impl Solution {
    pub fn open_reason(&self, problem: &Problem, n: usize) -> Option<Open> {
        match self.worker_of[n] {
            Some(_) => None,
            None if problem.needs[n].candidates.is_empty() => Some(Open::NoCandidate),
            None => Some(Open::CandidatesTaken),
        }
    }
}

/// How many nearest candidates each order keeps before solving (measured in the benchmark: the
/// cost stays within a fraction of a percent of the optimum).
pub const NEAREST: usize = 12;

/// Solves `problem` with each order's candidates cut to its `NEAREST` nearest.
pub fn solve(problem: &Problem) -> Solution {
    solve_exact(&problem.pruned(NEAREST))
}

/// The optimum of `problem` as given: each group of orders that share candidates (directly or
/// through others) is one Hungarian matrix.
pub fn solve_exact(problem: &Problem) -> Solution {
    let mut worker_of = vec![None; problem.needs.len()];
    let mut largest_group = 0;
    for group in groups(problem) {
        largest_group = largest_group.max(group.len());
        for (n, w) in solve_group(problem, &group) {
            worker_of[n] = w;
        }
    }
    let objective = problem.objective(&worker_of);
    let metres = worker_of.iter().enumerate().filter_map(|(n, w)| w.map(|w| problem.metres(n, w))).sum();
    let assigned = worker_of.iter().flatten().count();
    let preferred_kept =
        worker_of.iter().enumerate().filter(|(n, w)| w.is_some() && **w == problem.needs[*n].preferred).count();
    Solution { worker_of, objective, metres, assigned, preferred_kept, largest_group }
}

/// Orders that share a candidate, directly or through other orders (union–find over workers).
fn groups(problem: &Problem) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..problem.workers.len()).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for need in &problem.needs {
        if let Some((&first, rest)) = need.candidates.split_first() {
            for &w in rest {
                let (a, b) = (root(&mut parent, first), root(&mut parent, w));
                parent[a] = b;
            }
        }
    }
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for (n, need) in problem.needs.iter().enumerate() {
        if let Some(&first) = need.candidates.first() {
            by_root.entry(root(&mut parent, first)).or_default().push(n);
        }
    }
    let mut groups: Vec<Vec<usize>> = by_root.into_values().collect();
    groups.sort_unstable();
    groups
}

/// One group as a matrix: rows are orders, columns its candidate workers (padded with "open"
/// columns so that there are at least as many columns as rows). A cell that is not a candidate
/// costs as much as leaving the order open, and a row matched there is left open.
fn solve_group(problem: &Problem, group: &[usize]) -> Vec<(usize, Option<usize>)> {
    let mut columns: Vec<usize> = group.iter().flat_map(|&n| problem.needs[n].candidates.iter().copied()).collect();
    columns.sort_unstable();
    columns.dedup();
    let column_of: HashMap<usize, usize> = columns.iter().enumerate().map(|(c, &w)| (w, c)).collect();
    let width = columns.len().max(group.len());
    let mut cells = vec![OPEN_COST; group.len() * width];
    for (row, &n) in group.iter().enumerate() {
        for &w in &problem.needs[n].candidates {
            cells[row * width + column_of[&w]] = problem.cost(n, w).min(OPEN_COST);
        }
    }
    let matrix = Matrix::from_vec(group.len(), width, cells).expect("rows × columns cells");
    let (_, chosen) = kuhn_munkres_min(&matrix);
    group
        .iter()
        .zip(chosen)
        .map(|(&n, c)| {
            let worker = columns.get(c).copied().filter(|w| problem.needs[n].candidates.contains(w));
            (n, worker)
        })
        .collect()
}

/// Workers grouped by place, to find an order's nearest eligible ones without a spatial index:
/// workers live in a city's few thousand communities, so the places are few.
pub struct Pool {
    places: Vec<Place>,
    members: Vec<Vec<usize>>,
}

impl Pool {
    pub fn new(workers: &[Option<Place>]) -> Pool {
        let mut index: HashMap<(u64, u64), usize> = HashMap::new();
        let mut pool = Pool { places: Vec::new(), members: Vec::new() };
        for (w, place) in workers.iter().enumerate() {
            let Some(place) = place else { continue };
            let key = (place.lng.to_bits(), place.lat.to_bits());
            let slot = *index.entry(key).or_insert_with(|| {
                pool.places.push(*place);
                pool.members.push(Vec::new());
                pool.places.len() - 1
            });
            pool.members[slot].push(w);
        }
        pool
    }

    /// Up to `k` eligible workers nearest to `at`, nearest first.
    pub fn nearest(&self, at: &Place, k: usize, mut eligible: impl FnMut(usize) -> bool) -> Vec<usize> {
        let mut order: Vec<(f64, usize)> = self.places.iter().enumerate().map(|(i, p)| (at.metres_to(p), i)).collect();
        order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut found = Vec::with_capacity(k.min(64));
        for (_, i) in order {
            for &w in &self.members[i] {
                if found.len() == k {
                    return found;
                }
                if eligible(w) {
                    found.push(w);
                }
            }
        }
        found
    }
}

/// Synthetic cities for tests and the benchmark (no database).
pub mod sample {
    use super::{Need, Place, Pool, Problem};

    /// A point inside a box around Changchun, from two numbers in [0, 1).
    pub fn changchun(x: f64, y: f64) -> Place {
        Place { lng: 125.0 + x * 0.8, lat: 43.6 + y * 0.5 }
    }

    /// Workers living at `communities` random points, each offering one of four services and
    /// one in ten not compliant; orders at those points, three in ten with a preferred worker.
    /// Each order's candidates are its eligible workers, nearest first (all, or the `nearest`).
    pub fn city(orders: usize, workers: usize, communities: usize, nearest: Option<usize>, seed: u64) -> Problem {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let points: Vec<Place> = (0..communities).map(|_| changchun(next(), next())).collect();
        let homes: Vec<(Option<Place>, u8, bool)> = (0..workers)
            .map(|_| (Some(points[(next() * communities as f64) as usize]), 1 << (next() * 4.0) as u8, next() < 0.9))
            .collect();
        let pool = Pool::new(&homes.iter().map(|h| h.0).collect::<Vec<_>>());
        let needs = (0..orders)
            .map(|_| {
                let at = points[(next() * communities as f64) as usize];
                let service = 1u8 << (next() * 4.0) as u8;
                let eligible = |w: usize| homes[w].1 == service && homes[w].2;
                let candidates = pool.nearest(&at, nearest.unwrap_or(usize::MAX), eligible);
                let preferred = (next() < 0.3 && !candidates.is_empty())
                    .then(|| candidates[(next() * candidates.len() as f64) as usize]);
                Need { at: Some(at), preferred, candidates }
            })
            .collect();
        Problem { workers: homes.into_iter().map(|h| h.0).collect(), needs }
    }
}

#[cfg(test)]
mod tests {
    use super::sample::{changchun, city};
    use super::*;
    use proptest::prelude::*;

    /// Every way to give each order one of its candidates or none, no worker twice.
    fn brute_force(problem: &Problem) -> i64 {
        fn walk(problem: &Problem, n: usize, used: &mut Vec<usize>, choice: &mut Vec<Option<usize>>) -> i64 {
            if n == problem.needs.len() {
                return problem.objective(choice);
            }
            choice.push(None);
            let mut best = walk(problem, n + 1, used, choice);
            choice.pop();
            for &w in &problem.needs[n].candidates {
                if used.contains(&w) {
                    continue;
                }
                used.push(w);
                choice.push(Some(w));
                best = best.min(walk(problem, n + 1, used, choice));
                choice.pop();
                used.pop();
            }
            best
        }
        walk(problem, 0, &mut Vec::new(), &mut Vec::new())
    }

    fn small_problem() -> impl Strategy<Value = Problem> {
        let place = (0.0..1.0f64, 0.0..1.0f64).prop_map(|(x, y)| changchun(x, y));
        (prop::collection::vec(place.clone(), 1..6), prop::collection::vec((place, any::<u8>(), 0..8usize), 1..6))
            .prop_map(|(workers, orders)| {
                let count = workers.len();
                let needs = orders
                    .into_iter()
                    .map(|(at, mask, preferred)| {
                        let candidates: Vec<usize> = (0..count).filter(|w| mask & (1 << w) != 0).collect();
                        let preferred = Some(preferred).filter(|p| candidates.contains(p));
                        Need { at: Some(at), preferred, candidates }
                    })
                    .collect();
                Problem { workers: workers.into_iter().map(Some).collect(), needs }
            })
    }

    proptest! {
        #[test]
        fn the_hungarian_answer_is_the_brute_force_optimum(problem in small_problem()) {
            let solution = solve_exact(&problem);
            prop_assert_eq!(solution.objective, brute_force(&problem));
            let mut used: Vec<usize> = solution.worker_of.iter().flatten().copied().collect();
            let before = used.len();
            used.sort_unstable();
            used.dedup();
            prop_assert_eq!(used.len(), before, "a worker was given two orders");
            for (n, w) in solution.worker_of.iter().enumerate() {
                if let Some(w) = w {
                    prop_assert!(problem.needs[n].candidates.contains(w), "a non-candidate was chosen");
                }
            }
        }
    }

    #[test]
    fn a_preferred_worker_wins_over_a_nearer_one_and_a_nearer_one_otherwise() {
        let home = changchun(0.5, 0.5);
        let near = changchun(0.5, 0.51);
        let far = changchun(0.9, 0.9);
        let problem = Problem {
            workers: vec![Some(near), Some(far)],
            needs: vec![Need { at: Some(home), preferred: Some(1), candidates: vec![0, 1] }],
        };
        assert_eq!(solve(&problem).worker_of, [Some(1)]);
        let problem = Problem { needs: vec![Need { preferred: None, ..problem.needs[0].clone() }], ..problem };
        assert_eq!(solve(&problem).worker_of, [Some(0)]);
    }

    #[test]
    fn serving_one_more_order_beats_a_shorter_trip() {
        // Order 0 is nearest worker 0, but worker 0 is order 1's only candidate.
        let problem = Problem {
            workers: vec![Some(changchun(0.0, 0.0)), Some(changchun(1.0, 1.0))],
            needs: vec![
                Need { at: Some(changchun(0.0, 0.0)), preferred: None, candidates: vec![0, 1] },
                Need { at: Some(changchun(0.1, 0.1)), preferred: None, candidates: vec![0] },
                Need { at: Some(changchun(0.1, 0.1)), preferred: None, candidates: vec![] },
            ],
        };
        let solution = solve(&problem);
        assert_eq!(solution.worker_of, [Some(1), Some(0), None]);
        assert_eq!(solution.open_reason(&problem, 2), Some(Open::NoCandidate));
    }

    #[test]
    fn a_community_without_a_point_takes_its_streets_then_its_districts() {
        let points: HashMap<String, Place> = [
            ("220102001001".to_string(), changchun(0.1, 0.1)),
            ("220102001000".to_string(), changchun(0.2, 0.2)),
            ("220102000000".to_string(), changchun(0.3, 0.3)),
        ]
        .into();
        let at = |code: &str| place_of(&DivisionCode::parse(code).unwrap(), &points).map(|(_, by)| by);
        assert_eq!(at("220102001001"), Some(PlacedBy::Own));
        assert_eq!(at("220102001002"), Some(PlacedBy::Street));
        assert_eq!(at("220102001"), Some(PlacedBy::Own));
        assert_eq!(at("220102002003"), Some(PlacedBy::District));
        assert_eq!(at("220171001001"), None, "no point for the zone or the city");
    }

    #[test]
    fn the_pool_gives_the_nearest_eligible_workers_nearest_first() {
        let places = [changchun(0.9, 0.9), changchun(0.1, 0.1), changchun(0.5, 0.5), changchun(0.1, 0.1)];
        let pool = Pool::new(&places.iter().copied().map(Some).chain([None]).collect::<Vec<_>>());
        let at = changchun(0.0, 0.0);
        assert_eq!(pool.nearest(&at, 3, |_| true), [1, 3, 2]);
        assert_eq!(pool.nearest(&at, 2, |w| w != 1), [3, 2], "ineligible workers are skipped");
        assert_eq!(pool.nearest(&at, 10, |_| true).len(), 4, "a worker without a place is never offered");
    }

    #[test]
    fn pruning_keeps_the_preferred_worker_however_far() {
        let at = changchun(0.0, 0.0);
        let mut workers: Vec<Option<Place>> = (0..NEAREST + 5).map(|i| Some(changchun(0.01 * i as f64, 0.0))).collect();
        workers.push(Some(changchun(1.0, 1.0)));
        let far = workers.len() - 1;
        let problem = Problem {
            needs: vec![Need { at: Some(at), preferred: Some(far), candidates: (0..workers.len()).collect() }],
            workers,
        };
        let pruned = problem.pruned(NEAREST);
        assert_eq!(pruned.needs[0].candidates.len(), NEAREST + 1);
        assert!(pruned.needs[0].candidates.contains(&far));
        assert_eq!(solve(&problem).worker_of, [Some(far)]);
    }

    #[test]
    fn distances_are_great_circle_metres() {
        // The points of 南关区 and 朝阳区: 5.0 km east-west and 3.4 km north-south apart.
        let a = Place { lng: 125.350173, lat: 43.863989 };
        let b = Place { lng: 125.288319, lat: 43.833513 };
        let d = a.metres_to(&b);
        assert!((5_000.0..6_500.0).contains(&d), "{d}");
        assert_eq!(a.metres_to(&a), 0.0);
    }

    #[test]
    fn the_nearest_candidates_come_close_to_the_optimum_over_all_candidates() {
        for seed in 1..4 {
            let problem = city(150, 600, 60, None, seed);
            let optimum = solve_exact(&problem);
            let pruned = solve(&problem);
            assert_eq!(pruned.assigned, optimum.assigned);
            assert_eq!(pruned.preferred_kept, optimum.preferred_kept);
            let ratio = pruned.metres as f64 / optimum.metres as f64;
            eprintln!("seed {seed}: pruned {} m / optimum {} m = {ratio:.4}", pruned.metres, optimum.metres);
            assert!(pruned.objective >= optimum.objective);
            assert!(ratio < 1.05, "{ratio}");
        }
    }
}
