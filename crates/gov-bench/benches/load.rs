//! Bundle load time with 1 000 000 data facts (target: under 1 s).
//!
//! Setup generates `grant(user, resource, level)` facts (10 000 users × 100 resources,
//! `peers::load_data`), compiles `peers::LOAD_POLICY` with them in-process and writes the
//! bundle once. The loop times `gov_vm::Engine::load(&bytes)`: header and content hash
//! (SHA-256 of the payload), decoding, validation, inserting every fact into its relation
//! (deduplication set and the index the rule needs) and the load-time strata.
//!
//! Run with `cargo bench -p gov-bench --bench load`; results are in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BatchSize, Criterion};
use gov_bench::peers;
use gov_vm::{Engine, Outcome};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn main() {
    const FACTS: usize = 1_000_000;
    let started = Instant::now();
    let program = peers::compile_gov("load.gov", peers::LOAD_POLICY, &peers::load_data(FACTS), true).unwrap();
    let bytes = gov_vm::bundle::write(&program).unwrap();
    drop(program);
    eprintln!("setup: bundle of {FACTS} facts, {} bytes, built in {:.1?}", bytes.len(), started.elapsed());

    let engine = Engine::load(&bytes).unwrap();
    let grant = engine.relation_id("grant").unwrap();
    assert_eq!(engine.facts(&engine.session(), grant).len(), FACTS);
    let request = engine.request_from_json(r#"{"request": [{"user": "u9999", "resource": "r98"}]}"#).unwrap();
    assert_eq!(engine.decide(&request).unwrap().outcome, Outcome::Allow); // u9999/r98 has level 999_998 % 5 = 3
    drop(engine);

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .sample_size(10)
        .configure_from_args();
    let mut group = criterion.benchmark_group("load");
    group.bench_function("bundle_1m_facts", |b| {
        b.iter_batched(|| (), |()| Engine::load(black_box(&bytes)).unwrap(), BatchSize::PerIteration)
    });
    group.finish();
    criterion.final_summary();
}
