//! (d) Recursion against ascent: the transitive closure of random directed graphs of
//! 1 000 edges over 1 000 nodes and 10 000 edges over 10 000 nodes (mean out-degree 1,
//! seed 42, no self-loops; closures of 31 235 and 570 440 pairs).
//!
//! - `gov_request`: the edges are **input** facts of a request (`peers::REACH_INPUT`),
//!   parsed once outside the loop; the loop times `engine.decide_in(&mut session,
//!   &request)` on a session reused across iterations (as `Engine::decide` reuses one per
//!   thread), which inserts the edges into the session's indexed store and runs the
//!   recursive stratum semi-naively. This is the fair comparison with ascent, which also
//!   starts from a vector of edges, builds its indexes and runs semi-naively.
//! - `gov_request_fresh`: the same on a new, empty session each time (made and freed
//!   outside the timing), so that growing the store's tables and vectors is timed, as
//!   ascent's allocations are.
//! - `gov_load`: the edges are **data** (`peers::REACH_DATA`), so the closure is computed
//!   when the engine is built; the loop times `Engine::from_program` on a clone of the
//!   program made outside the timing (bundle decoding and validation are not included).
//! - `ascent`: `ascent!` with `edge(u32, u32)` and `reach(u32, u32)`; the loop times
//!   filling `edge` from a vector cloned outside the timing and `run()`; the program is
//!   freed outside the timing.
//!
//! Setup asserts that Gov (both ways) and ascent compute closures of the same size.
//!
//! The binary allocates through mimalloc, as `govc` does. With the system allocator (glibc),
//! whether a dropped session's memory goes back to the kernel, to be faulted in again by
//! the next session, turns on the heap's shape: glibc trims the heap's free top once it
//! exceeds a threshold, which rises to twice the largest block it has unmapped (here 2 ×
//! 16 MiB, Gov's row bytes). In session 9 Gov's fresh session, 33.5 MiB of heap, was
//! trimmed after every run (9 300 page faults to grow it again, `profile reach-fresh`),
//! ascent's never was, so the comparison measured the allocator's heuristics rather than
//! either engine (docs/performance.md, "Session 10: recursion from a fresh session").
//!
//! Run with `cargo bench -p gov-bench --bench recursion`; results are in
//! docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BatchSize, BenchmarkId, Criterion};
use gov_bench::peers;
use gov_vm::{Engine, Limits};
use std::hint::black_box;
use std::time::Duration;

/// The allocator `govc` ships with (see the module docs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "shared/ascent_closure.rs"]
mod ascent_closure;
use ascent_closure::ascent_closure;

fn bench_size(c: &mut Criterion, edges_count: usize) {
    let nodes = u32::try_from(edges_count).unwrap();
    let edges = peers::random_graph(nodes, edges_count, 42);
    let expected = ascent_closure(edges.clone()).reach.len();

    // Gov, edges as input.
    // 570 k facts at 10 k edges: a legitimate request as large as a load, so it gets the
    // load's limits rather than a request's defaults.
    let engine = peers::engine_gov("reach.gov", peers::REACH_INPUT, &serde_json::json!({}), true)
        .unwrap()
        .with_limits(Limits::LOAD);
    let request = engine.request_from_json(&peers::edges_json(&edges).to_string()).unwrap();
    let mut session = engine.session();
    engine.decide_in(&mut session, &request).unwrap();
    let reach = engine.relation_id("reach").unwrap();
    assert_eq!(engine.facts(&session, reach).len(), expected, "Gov (request) and ascent disagree");

    // Gov, edges as data.
    let data_program = peers::compile_gov("reach.gov", peers::REACH_DATA, &peers::edges_json(&edges), true).unwrap();
    let loaded = Engine::from_program(data_program.clone(), String::new(), Limits::LOAD).unwrap();
    let data_reach = loaded.relation_id("reach").unwrap();
    assert_eq!(loaded.facts(&loaded.session(), data_reach).len(), expected, "Gov (load) and ascent disagree");
    drop(loaded);

    let mut group = c.benchmark_group("reach");
    group.sample_size(if edges_count > 5_000 { 10 } else { 30 });
    let id = format!("{edges_count}_edges");
    group.bench_function(BenchmarkId::new("gov_request", &id), |b| {
        b.iter(|| black_box(engine.decide_in(&mut session, black_box(&request)).unwrap().outcome))
    });
    group.bench_function(BenchmarkId::new("gov_request_fresh", &id), |b| {
        b.iter_batched(
            || engine.session(),
            |mut fresh| {
                engine.decide_in(&mut fresh, black_box(&request)).unwrap();
                fresh
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new("gov_load", &id), |b| {
        b.iter_batched(
            || data_program.clone(),
            |p| Engine::from_program(p, String::new(), Limits::LOAD).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new("ascent", &id), |b| {
        b.iter_batched(|| edges.clone(), ascent_closure, BatchSize::PerIteration)
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    for edges in [1_000, 10_000] {
        bench_size(&mut criterion, edges);
    }
    criterion.final_summary();
}
