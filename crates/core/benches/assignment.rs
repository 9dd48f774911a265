//! Next-day assignment of a city's open orders (issue #12): 10,000 orders over 200,000 workers
//! living in Changchun's 2,798 village-level units, and the cost of keeping only each order's
//! nearest candidates against the optimum over all of them. Run:
//! `cargo bench -p jiazheng-core --bench assignment` (figures in docs/benchmarks.md).

use std::time::Instant;

use divan::black_box;
use jiazheng_core::market::assignment::{NEAREST, Problem, Solution, sample, solve, solve_exact};

fn main() {
    compare_with_the_optimum();
    divan::main();
}

fn describe(what: &str, problem: &Problem, solution: &Solution) {
    // A worker two residents both had can go back to only one of them.
    let mut wanted = std::collections::HashMap::new();
    for need in &problem.needs {
        if let Some(p) = need.preferred {
            *wanted.entry(p).or_insert(0usize) += 1;
        }
    }
    let shared: usize = wanted.values().filter(|&&n| n > 1).map(|n| n - 1).sum();
    eprintln!(
        "{what}: {} orders, {} assigned, {} of {} preferred kept ({shared} preferred by an earlier order too), \
         {:.1} km, largest group {}",
        problem.needs.len(),
        solution.assigned,
        solution.preferred_kept,
        problem.needs.iter().filter(|n| n.preferred.is_some()).count(),
        solution.metres as f64 / 1000.0,
        solution.largest_group
    );
}

/// Pruned against exact on samples small enough for the exact matrix, then (at full size, where
/// the exact one does not fit) against four times as many candidates.
fn compare_with_the_optimum() {
    for (orders, workers, places) in [(300, 3_000, 300), (300, 600, 100), (500, 1_000, 200), (400, 600, 150)] {
        for seed in 1..=3 {
            let problem = sample::city(orders, workers, places, None, seed);
            let started = Instant::now();
            let optimum = solve_exact(&problem);
            let exact_time = started.elapsed();
            let started = Instant::now();
            let pruned = solve(&problem);
            let pruned_time = started.elapsed();
            eprintln!(
                "sample {orders}x{workers} at {places} places, seed {seed}: pruned/optimum km {:.4}, assigned {}/{}, \
                 preferred {}/{}, objective {} vs {} ({exact_time:.2?} exact, {pruned_time:.2?} pruned)",
                pruned.metres as f64 / optimum.metres as f64,
                pruned.assigned,
                optimum.assigned,
                pruned.preferred_kept,
                optimum.preferred_kept,
                pruned.objective,
                optimum.objective,
            );
        }
    }
    let started = Instant::now();
    let wide = sample::city(10_000, 200_000, 2_798, Some(4 * NEAREST), 7);
    eprintln!("full size, {} nearest eligible of each order found in {:.2?}", 4 * NEAREST, started.elapsed());
    let started = Instant::now();
    let optimum = solve_exact(&wide);
    eprintln!("  solved over all {} in {:.2?}", 4 * NEAREST, started.elapsed());
    describe("  optimum", &wide, &optimum);
    let started = Instant::now();
    let pruned = solve(&wide);
    eprintln!("  solved over the {NEAREST} nearest in {:.2?}", started.elapsed());
    describe("  pruned", &wide, &pruned);
    eprintln!(
        "  pruned/optimum km {:.4}, objective {} vs {}",
        pruned.metres as f64 / optimum.metres as f64,
        pruned.objective,
        optimum.objective
    );
}

/// The whole job in core: finding each order's nearest eligible workers among 200,000 and solving.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn next_day_10k_orders_over_200k_workers() -> Solution {
    let problem = sample::city(10_000, 200_000, 2_798, Some(NEAREST), black_box(7));
    solve_exact(&problem)
}
