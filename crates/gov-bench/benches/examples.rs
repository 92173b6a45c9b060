//! Deciding the example packages' own requests (`examples/*/requests/*.json`), as an
//! engine that loaded the package's bundle would: Gov alone, since no peer has these
//! policies. The coding-agent example (built-in functions on every call: paths, regexes,
//! URLs, networks, time zones) is issue 11's speed target: under 2 µs p50 per decision.
//!
//! Only `Engine::decide_in` is timed; the package is checked, compiled and loaded once
//! through `gov_driver` (as `govc build` then `govc eval` do) and each request parsed once.
//!
//! Run with `cargo bench -p gov-bench --bench examples`; results are in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BenchmarkId, Criterion};
use gov_driver::{Package, fs::Disk, read_data};
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut group = c.benchmark_group("examples");
    for example in ["coding-agent", "payments", "deployment"] {
        let dir = root.join(example);
        let package = Package::load(&Disk, &dir).unwrap();
        assert!(package.errors().is_none(), "{example} does not check");
        let data = read_data(&Disk, package.data_files()).unwrap();
        let engine = package.engine(&data).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(dir.join("requests")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut session = engine.session();
        for file in files {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let request = engine.request_from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
            // Every benchmarked request decides (an evaluation error would be timed as such).
            engine.decide_in(&mut session, &request).unwrap();
            group.bench_with_input(BenchmarkId::new(example, &name), &request, |b, request| {
                b.iter(|| black_box(engine.decide_in(&mut session, black_box(request)).unwrap().outcome))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
