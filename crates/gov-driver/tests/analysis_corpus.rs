#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The analysis corpus: every case in `tests/analysis/` (a `.gov` file, or a directory with
//! its data files), starting with a `// <what it shows>` comment, analysed as `govc check`
//! analyses it, with everything the analysis found written out, including what `govc check`
//! does not show (a pair proved disjoint, a pair or rule it cannot decide), and held to
//! `tests/analysis/snapshots/<case>.snap`. Accept new or changed snapshots with
//! `INSTA_UPDATE=always cargo test -p gov-driver --test analysis_corpus`, then read every one.

use gov_analysis::PairKind;
use gov_analysis::redundant::Redundant;
use gov_driver::analysis::invariant::Checked;
use gov_driver::analysis::{self, Finding};
use gov_driver::fs::Disk;
use gov_driver::{Package, load};
use gov_ir::{DecisionId, Head, Ir, RuleId};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The repository root: cases are loaded from there.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The `// <what it shows>` header of the case.
fn header(path: &Path) -> String {
    let file = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files.into_iter().find(|f| f.extension().is_some_and(|e| e == "gov")).unwrap()
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().map_while(|l| l.strip_prefix("// ")).collect();
    assert!(!lines.is_empty(), "{} must start with a `// <what it shows>` comment", file.display());
    lines.join(" ")
}

fn decision(ir: &Ir, id: DecisionId) -> String {
    ir.decision(id).map_or("?".to_owned(), |d| format!("`{}`", d.name))
}

fn rule(ir: &Ir, id: RuleId) -> String {
    match ir.rule(id).map(|r| &r.head) {
        Some(Head::Decide(d)) => decision(ir, *d),
        Some(Head::Derive { relation, .. }) => {
            let line = ir.spans.rules[id.index()].start;
            format!("a rule of `{}` (at byte {line})", ir.relation(*relation).unwrap().name)
        }
        None => "?".to_owned(),
    }
}

fn kind(kind: PairKind) -> &'static str {
    match kind {
        PairKind::Conflict => "conflict",
        PairKind::Override => "override",
    }
}

/// Everything the analysis finds for the case, one line each.
fn analyse(relative: &str) -> String {
    let loaded = load::package(&Disk, Path::new(relative)).unwrap();
    let package = Package::from_sources(loaded.files).unwrap();
    assert!(package.errors().is_none(), "{relative}: {:?}", package.errors().map(|e| e.diagnostics));
    let ir = package.ir().unwrap();
    let sources = package.sources();
    let data = gov_driver::read_data(&Disk, &loaded.data).unwrap();
    let mut out = String::from("pairs (allow × deny or escalate):\n");
    for finding in analysis::findings(&ir, &sources, &data) {
        let line = match &finding {
            Finding::Overlap(k, c) => format!(
                "{} × {} ({}): both fire on {} with data {}",
                decision(&ir, c.allow()),
                decision(&ir, c.other()),
                kind(*k),
                c.witness().input,
                c.witness().data
            ),
            Finding::Disjoint(k, a, o) => {
                format!("{} × {} ({}): disjoint", decision(&ir, *a), decision(&ir, *o), kind(*k))
            }
            Finding::Unknown(k, a, o, why) => {
                format!("{} × {} ({}): unknown: {why}", decision(&ir, *a), decision(&ir, *o), kind(*k))
            }
        };
        writeln!(out, "  {line}").unwrap();
    }
    out.push_str("dead and redundant:\n");
    for settled in analysis::redundancies(&ir, &sources, &data) {
        let witness = settled.witness().map(|w| format!(", both fire on {} with data {}", w.input, w.data));
        let line = match settled.proved().what() {
            Redundant::Never(r) => format!("{} never fires", rule(&ir, *r)),
            Redundant::Shadowed { allow, by, .. } => {
                let by: Vec<String> = by.iter().map(|d| decision(&ir, *d)).collect();
                format!("{} is shadowed by {}", decision(&ir, *allow), by.join(" and "))
            }
            Redundant::Subsumed { rule, by, .. } => {
                format!("{} is subsumed by {}", decision(&ir, *rule), decision(&ir, *by))
            }
            Redundant::Unreachable(r) => format!("`{}` is unreachable", ir.relation(*r).unwrap().name),
        };
        writeln!(out, "  {line} ({:?}){}", settled.proved().proof(), witness.unwrap_or_default()).unwrap();
    }
    out.push_str("invariants:\n");
    for checked in analysis::invariant::findings(&ir, &sources, &data) {
        let name = |index: usize| format!("`{}`", ir.invariants[index].name);
        let line = match &checked {
            Checked::Proved(index) => format!("{} proved", name(*index)),
            Checked::Broken(broken) => format!(
                "{} broken: decided {} (fired: {}) on {} with data {}{}",
                name(broken.invariant()),
                broken.decision(),
                if broken.fired().is_empty() { "none".to_owned() } else { broken.fired().join(", ") },
                broken.witness().input,
                broken.witness().data,
                if broken.holds_today() { " (it holds with today's data files)" } else { "" }
            ),
            Checked::Unknown(index, why) => format!("{} unknown: {why}", name(*index)),
        };
        writeln!(out, "  {line}").unwrap();
    }
    out.push_str("undecided rules:\n");
    for undecided in gov_analysis::redundant::redundancies(&ir).undecided {
        writeln!(out, "  {}: {}", rule(&ir, undecided.rule), undecided.reason).unwrap();
    }
    out
}

#[test]
fn analysis_corpus() {
    std::env::set_current_dir(root()).unwrap();
    let mut cases = 0;
    insta::glob!("../../../tests/analysis", "*", |path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        if name == "snapshots" || name == "README.md" || path == root().join("tests/analysis") {
            return;
        }
        assert!(
            path.is_dir() || name.ends_with(".gov"),
            "tests/analysis/{name} is neither a `.gov` file nor a directory"
        );
        let case = name.strip_suffix(".gov").unwrap_or(name);
        let found = analyse(&format!("tests/analysis/{name}"));
        cases += 1;
        insta::with_settings!({
            snapshot_path => "../../../tests/analysis/snapshots",
            prepend_module_to_snapshot => false,
            snapshot_suffix => "",
            omit_expression => true,
            description => header(path),
        }, {
            insta::assert_snapshot!(case, found);
        });
    });
    assert!(cases >= 40, "the corpus has {cases} cases; issue 12 asks for at least 40");
}

/// Every shipped example states at least one invariant, and the analysis proves each.
#[test]
fn every_example_states_an_invariant_the_analysis_proves() {
    let examples = root().join("examples");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&examples).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 7, "{dirs:?}");
    for dir in dirs {
        let loaded = load::package(&Disk, &dir).unwrap();
        let package = Package::from_sources(loaded.files).unwrap();
        let ir = package.ir().unwrap();
        let data = gov_driver::read_data(&Disk, &loaded.data).unwrap();
        let found = analysis::invariant::findings(&ir, &package.sources(), &data);
        assert!(!found.is_empty(), "{} states no invariant", dir.display());
        for checked in found {
            assert!(matches!(checked, Checked::Proved(_)), "{}: {checked:?}", dir.display());
        }
    }
}
