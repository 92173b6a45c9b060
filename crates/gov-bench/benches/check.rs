//! Front-end benchmarks: parse, check from scratch, re-check after an edit.
//!
//! Run with `cargo bench -p gov-bench --bench check`; `docs/performance.md` has the targets,
//! the commands and the results.
//!
//! The binary allocates through mimalloc, as `govc` (and so `govc lsp`, the language
//! server) does, so a re-check is timed with the allocator the editor's keystroke meets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gov_bench::{edit_one_rule, generate_package, type_one_char};
use gov_db::Workspace;
use std::hint::black_box;

/// The allocator `govc` ships with (see the module docs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PATH: &str = "bench.gov";

/// `check/10k_rules`: a fresh workspace per iteration, so every file is parsed and the
/// package checked from scratch (workspace creation, with the standard library, included).
fn check_from_scratch(c: &mut Criterion) {
    let text = generate_package(10_000);
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    group.bench_function("10k_rules", |b| {
        b.iter_batched(
            || vec![(PATH.to_owned(), text.clone())],
            |files| {
                let mut workspace = Workspace::new();
                let package = workspace.add_package(files);
                let checked = workspace.check(package).unwrap();
                assert!(checked.diagnostics.is_empty());
                black_box(checked);
                // Returned, so Criterion drops it outside the timed section.
                workspace
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// `recheck/1k_rules_one_char_edit` and `recheck/10k_rules_one_char_edit`: one workspace,
/// checked once; each iteration changes one character of one rule body (alternating
/// between two texts, so every iteration is a real change) and checks again through the
/// salsa database: what a keystroke costs below the language server. The edit keeps the
/// text's length, so no item moves. `recheck/10k_rules_typed_char` types one character
/// there instead and deletes it again (alternating), so every item after it (half the
/// file) moves.
fn recheck_after_edit(c: &mut Criterion) {
    /// An edit of the generated text (`None`: the text has no place for it).
    type Edit = fn(&str) -> Option<String>;
    let mut group = c.benchmark_group("recheck");
    let cases: [(&str, usize, Edit); 3] = [
        ("1k_rules_one_char_edit", 1_000, edit_one_rule),
        ("10k_rules_one_char_edit", 10_000, edit_one_rule),
        ("10k_rules_typed_char", 10_000, type_one_char),
    ];
    for (name, rules, edit) in cases {
        let original = generate_package(rules);
        let edited = edit(&original).unwrap();
        let texts = [original, edited];
        let mut workspace = Workspace::new();
        let package = workspace.add_package(vec![(PATH.to_owned(), texts[0].clone())]);
        assert!(workspace.check(package).unwrap().diagnostics.is_empty());
        let mut next = 1;
        if rules > 2_000 {
            group.sample_size(20);
        }
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let text = texts[next].clone();
                    next = 1 - next;
                    text
                },
                |text| {
                    assert!(workspace.set_text(PATH, text));
                    let checked = workspace.check(package).unwrap();
                    black_box(checked.diagnostics.len())
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// `parse/10k_rules`: lexing, splitting and parsing alone.
fn parse(c: &mut Criterion) {
    let text = generate_package(10_000);
    let mut group = c.benchmark_group("parse");
    group.sample_size(20);
    group.bench_function("10k_rules", |b| {
        b.iter(|| black_box(gov_syntax::parse(gov_diag::FileId(0), black_box(&text))));
    });
    group.finish();
}

criterion_group!(benches, check_from_scratch, recheck_after_edit, parse);
criterion_main!(benches);
