//! The conflict analysis (issue 12 item 9): everything `govc check` adds after the checker
//! for one package, `gov_driver::analysis::diagnostics` (conflicts, stale overrides, dead and
//! redundant rules, invariants, each candidate run through the engine), on the largest
//! example (`finance`, by rules) and on a generated package of 1 000 rules.
//!
//! The package is loaded, checked and lowered once; only the analysis is timed.
//!
//! Run with `cargo bench -p gov-bench --bench analysis`; results are in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::Criterion;
use gov_bench::generate_package;
use gov_driver::{Package, fs::Disk, read_data};
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("analysis");
    group.sample_size(10);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/finance");
    let finance = Package::load(&Disk, &dir).unwrap();
    let generated = Package::from_sources(vec![("bench.gov".to_owned(), generate_package(1_000))]).unwrap();
    for (name, package) in [("finance", &finance), ("generated_1k_rules", &generated)] {
        assert!(package.errors().is_none(), "{name} does not check");
        let ir = package.ir().unwrap();
        let sources = package.sources();
        let data = read_data(&Disk, package.data_files()).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| black_box(gov_driver::analysis::diagnostics(&ir, &sources, &data).len()))
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
