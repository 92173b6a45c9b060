//! The conflict analysis (issue 12 item 9): everything `govc check` adds after the checker
//! for one package, `gov_driver::analysis::diagnostics` (conflicts, stale overrides, dead and
//! redundant rules, invariants, each candidate run through the engine), on the largest
//! example (`finance`, by rules) and on a generated package of 1 000 rules.
//!
//! The package is loaded, checked and lowered once; only the analysis is timed.
//!
//! `govc diff` (`gov_driver::diff::diff`, the search and every candidate run on both
//! versions' engines) in the group `diff`: an example against itself, `examples/customer-ops`
//! against a copy with one threshold changed (`age > 30d` to `age > 45d` in `late_refund`,
//! a rule with arithmetic: unknown), and a generated 1 000-rule package against a copy with
//! one rule edited, a decision rule's threshold (`amount < 1` to `amount < 2` in `small_0`,
//! read from an `input` relation that is not `one`: unknown) and an obligation's
//! (`gov_bench::edit_one_rule`: proved the same).
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
    bench_diff(c);
}

/// A loaded package: its IR, sources and data documents.
struct Loaded {
    ir: std::sync::Arc<gov_ir::Ir>,
    sources: gov_diag::Sources,
    data: Vec<(String, gov_vm::json::Document)>,
}

fn loaded(package: &Package) -> Loaded {
    assert!(package.errors().is_none(), "the package does not check");
    let data = read_data(&Disk, package.data_files()).unwrap();
    Loaded { ir: package.ir().unwrap(), sources: package.sources(), data }
}

fn version(l: &Loaded) -> gov_driver::diff::Version<'_> {
    gov_driver::diff::Version { ir: &l.ir, sources: &l.sources, data: &l.data }
}

fn bench_diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let finance = loaded(&Package::load(&Disk, &examples.join("finance")).unwrap());
    let ops = loaded(&Package::load(&Disk, &examples.join("customer-ops")).unwrap());
    // customer-ops with one threshold changed, written out beside its data file.
    let dir = std::env::temp_dir().join(format!("gov-bench-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(examples.join("customer-ops")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.as_path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let policy = dir.as_path().join("customer_ops.gov");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("age > 30d,"));
    std::fs::write(&policy, text.replace("age > 30d,", "age > 45d,")).unwrap();
    let ops_edited = loaded(&Package::load(&Disk, dir.as_path()).unwrap());
    let text = generate_package(1_000);
    let one = |text: String| loaded(&Package::from_sources(vec![("bench.gov".to_owned(), text)]).unwrap());
    let small = "allow small_0 :- transfer(_, amount, _), amount < 1.";
    assert!(text.contains(small));
    let generated = one(text.clone());
    let decision_edited = one(text.replace(small, &small.replace("< 1.", "< 2.")));
    let obligation_edited = one(gov_bench::edit_one_rule(&text).unwrap());
    let cases = [
        ("finance_itself", &finance, &finance),
        ("customer_ops_threshold", &ops, &ops_edited),
        ("generated_1k_decision_threshold", &generated, &decision_edited),
        ("generated_1k_obligation_threshold", &generated, &obligation_edited),
    ];
    for (name, old, new) in cases {
        group
            .bench_function(name, |b| b.iter(|| black_box(gov_driver::diff::diff(version(old), version(new)).verdict)));
    }
    group.finish();
    std::fs::remove_dir_all(&dir).unwrap();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
