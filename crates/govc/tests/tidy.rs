#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Keeps the diagnostic codes, their fixtures in `tests/check/` and their documentation in
//! `docs/diagnostics.md` in step:
//!
//! - every code in [`gov_diag::codes::ALL`] is produced by at least one fixture;
//! - every code has a section `## E0101: <title>` in the doc, in order, and every `## Xnnnn`
//!   section is a real code;
//! - every ```` ```text ```` block of the doc is, verbatim, what `govc check` prints for a
//!   fixture (as recorded in its snapshot), and every ```` ```gov ```` block is either a
//!   fixture or a package with no problems at all;
//! - every fixture has its `// <what it shows>` header and both snapshots, and every snapshot
//!   has its fixture.
//!
//! That `docs/stdlib.md`'s relation tables list exactly what each standard-library module
//! declares and derives (kinds, fields, column types), and that its examples check.
//!
//! And the crate boundaries: no crate depends on what its row of the crate table in
//! `docs/architecture.md` forbids (read from the doc, with `cargo metadata`).

mod common;
use common::root;
use gov_diag::codes;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// The cases under `tests/check/`: name → path.
fn cases() -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(root().join("tests/check"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "snapshots")
        .map(|p| (p.file_name().unwrap().to_str().unwrap().trim_end_matches(".gov").to_owned(), p))
        .collect()
}

/// The recorded output of every snapshot: file name → content after the insta header.
fn snapshots() -> BTreeMap<String, String> {
    std::fs::read_dir(root().join("tests/check/snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let body =
                text.strip_prefix("---\n").and_then(|t| t.split_once("\n---\n")).map(|(_, body)| body.to_owned());
            (
                p.file_name().unwrap().to_str().unwrap().to_owned(),
                body.unwrap_or_else(|| panic!("{} is not an insta snapshot", p.display())),
            )
        })
        .collect()
}

/// The human outputs as the doc shows them: without the `exit code: N` line.
fn human_outputs() -> Vec<String> {
    snapshots()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".human.snap"))
        .map(|(name, body)| {
            let (first, rest) = body.split_once("\n\n").unwrap_or_else(|| panic!("{name}: no exit code line"));
            assert!(first.starts_with("exit code: "), "{name}: no exit code line");
            rest.to_owned()
        })
        .collect()
}

/// The fenced blocks of `text` with the given info string, with the line each starts on.
fn fenced(text: &str, info: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String, bool)> = None;
    for (number, line) in text.lines().enumerate() {
        match &mut current {
            None if line.starts_with("```") => {
                current = Some((number + 1, String::new(), line == format!("```{info}")))
            }
            None => {}
            Some((start, block, wanted)) => {
                if line == "```" {
                    if *wanted {
                        blocks.push((*start, std::mem::take(block)));
                    }
                    current = None;
                } else {
                    block.push_str(line);
                    block.push('\n');
                }
            }
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    blocks
}

#[test]
fn every_code_has_a_fixture() {
    let outputs = snapshots();
    for code in codes::ALL {
        let needle = format!("[{}]", code.id);
        assert!(
            outputs.iter().any(|(name, body)| name.ends_with(".human.snap") && body.contains(&needle)),
            "no fixture in tests/check/ produces {}: add one",
            code.id
        );
    }
}

#[test]
fn every_code_is_documented_in_order() {
    let doc = read("docs/diagnostics.md");
    let headings: Vec<&str> = doc
        .lines()
        .filter(|l| {
            l.strip_prefix("## ").is_some_and(|h| {
                h.starts_with(['E', 'W']) && h.get(1..5).is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
            })
        })
        .collect();
    let expected: Vec<String> = codes::ALL.iter().map(|c| format!("## {}: {}", c.id, c.title)).collect();
    for heading in &headings {
        let id = heading.get(3..8).unwrap_or_default();
        assert!(codes::by_id(id).is_some(), "docs/diagnostics.md has a section for `{id}`, which is not a code");
    }
    assert_eq!(
        headings, expected,
        "docs/diagnostics.md must have one section per code, in order, headed `## <code>: <title>`"
    );
    // The JSON and SARIF outputs link to `docs/diagnostics.md#e0101`.
    for code in codes::ALL {
        let anchor = format!("<a id=\"{}\"></a>", code.id.to_ascii_lowercase());
        assert!(
            doc.contains(&anchor),
            "docs/diagnostics.md lacks the anchor {anchor} that {} links to",
            code.doc_path()
        );
    }
}

#[test]
fn doc_outputs_are_real() {
    let doc = read("docs/diagnostics.md");
    let outputs = human_outputs();
    for (line, block) in fenced(&doc, "text") {
        assert!(
            outputs.contains(&block),
            "docs/diagnostics.md:{line}: this output is not what govc prints for any fixture in tests/check/ \
             (copy it from the fixture's .human.snap, without the `exit code` line):\n{block}"
        );
    }
}

#[test]
fn doc_examples_are_fixtures_or_clean() {
    let doc = read("docs/diagnostics.md");
    let fixtures: Vec<String> =
        cases().values().filter(|p| p.is_file()).filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    let scratch = std::env::temp_dir().join(format!("govc-tidy-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for (line, block) in fenced(&doc, "gov") {
        if fixtures.contains(&block) {
            continue;
        }
        let file = scratch.join(format!("line{line}.gov"));
        std::fs::write(&file, &block).unwrap();
        let output =
            Command::new(env!("CARGO_BIN_EXE_govc")).args(["check", "--color", "never"]).arg(&file).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout == "no problems found\n",
            "docs/diagnostics.md:{line}: a ```gov block that is not a fixture must check without problems:\n{block}\n{stdout}"
        );
    }
    std::fs::remove_dir_all(scratch).unwrap();
}

#[test]
fn fixtures_are_tidy() {
    let cases = cases();
    let snapshots = snapshots();
    for (name, path) in &cases {
        let first = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            assert!(!files.is_empty(), "tests/check/{name}/ is empty (git would drop it)");
            files.into_iter().find(|f| f.extension().is_some_and(|e| e == "gov")).map(|f| std::fs::read(f).unwrap())
        } else {
            assert!(path.extension().is_some_and(|e| e == "gov"), "{} is not a case", path.display());
            Some(std::fs::read(path).unwrap())
        };
        if let Some(bytes) = first {
            let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
            assert!(bytes.starts_with(b"// "), "tests/check/{name} must start with a `// <what it shows>` comment");
        }
        for format in ["human", "json"] {
            assert!(
                snapshots.contains_key(&format!("{name}.{format}.snap")),
                "tests/check/{name} has no {format} snapshot: run `cargo test -p gov-check --test fixtures`"
            );
        }
    }
    for snapshot in snapshots.keys() {
        let case = snapshot.trim_end_matches(".snap").trim_end_matches(".human").trim_end_matches(".json");
        assert!(cases.contains_key(case), "tests/check/snapshots/{snapshot} belongs to no case: delete it");
    }
}

// ---- crate boundaries ------------------------------------------------------------------

/// What a phrase of the "must not depend on" column of docs/architecture.md's crate table
/// forbids. A phrase this test does not know fails it: map new wording here.
enum Forbids {
    /// These crates (workspace crates or external ones, by package name).
    Crates(&'static [&'static str]),
    /// Every other workspace crate.
    Workspace,
    /// A rule no dependency edge shows, checked elsewhere or by review: "IO" (file and
    /// network access is a matter of calls, not of crates), "the VM's internals" (gov-lsp
    /// may name the VM's types, but runs tests only through gov-test).
    NotADependency,
}

/// Phrases of the "must not depend on" column, lowercased, without a trailing
/// parenthetical.
const VOCABULARY: &[(&str, Forbids)] = &[
    ("anything else in the workspace", Forbids::Workspace),
    ("syntax", Forbids::Crates(&["gov-syntax"])),
    ("checker", Forbids::Crates(&["gov-check"])),
    ("the checker", Forbids::Crates(&["gov-check"])),
    ("compiler", Forbids::Crates(&["gov-compile"])),
    ("the compiler", Forbids::Crates(&["gov-compile"])),
    ("vm", Forbids::Crates(&["gov-vm"])),
    ("the vm", Forbids::Crates(&["gov-vm"])),
    ("the source language", Forbids::Crates(&["gov-syntax", "gov-check", "gov-ir", "gov-compile"])),
    // gov-db is the salsa database: depending on it is depending on salsa (the closure
    // below finds that).
    ("salsa", Forbids::Crates(&["salsa"])),
    ("the cli", Forbids::Crates(&["govc"])),
    ("the language server", Forbids::Crates(&["gov-lsp"])),
    ("gov-test", Forbids::Crates(&["gov-test"])),
    ("io", Forbids::NotADependency),
    ("the vm's internals", Forbids::NotADependency),
    ("—", Forbids::Crates(&[])),
];

/// The top-level, comma- or "and"-separated phrases of a table cell, each without a
/// trailing parenthetical: `the compiler and the VM (it must …)` → `the compiler`, `the vm`.
fn phrases(cell: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0usize;
    for c in cell.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => parts.push(String::new()),
            _ if depth == 0 => parts.last_mut().unwrap().push(c),
            _ => {}
        }
    }
    parts.iter().flat_map(|p| p.split(" and ")).map(|p| p.trim().to_lowercase()).filter(|p| !p.is_empty()).collect()
}

/// The crate table of docs/architecture.md: crate → the phrases of its "must not depend
/// on" cell.
fn crate_rows(doc: &str) -> BTreeMap<String, Vec<String>> {
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in doc.lines() {
        if line.starts_with("| crate |") {
            assert!(
                line.trim_end().ends_with("| must not depend on |"),
                "docs/architecture.md: the crate table's last column must be `must not depend on`"
            );
            in_table = true;
            continue;
        }
        if !in_table || line.starts_with("|---") {
            continue;
        }
        let Some(row) = line.strip_prefix("| ").and_then(|l| l.trim_end().strip_suffix(" |")) else { break };
        let (name, rest) =
            row.split_once(" | ").unwrap_or_else(|| panic!("docs/architecture.md: a row without cells: {line}"));
        let (_, forbidden) = rest
            .rsplit_once(" | ")
            .unwrap_or_else(|| panic!("docs/architecture.md: a row without its last cell: {line}"));
        let name = name.trim().trim_matches('`').to_owned();
        rows.insert(name, phrases(forbidden));
    }
    assert!(!rows.is_empty(), "docs/architecture.md has no crate table (`| crate | owns | must not depend on |`)");
    rows
}

/// The dev-dependencies docs/architecture.md allows to cross a crate's row: lines
/// `` - `crate` → `dep`, `dep`: why ``.
fn dev_exceptions(doc: &str) -> BTreeSet<(String, String)> {
    let mut allowed = BTreeSet::new();
    for line in doc.lines() {
        let Some((name, rest)) = line.strip_prefix("- `").and_then(|l| l.split_once("` → ")) else { continue };
        let (deps, _why) = rest.split_once(':').unwrap_or_else(|| panic!("docs/architecture.md: say why: {line}"));
        for dep in deps.split(',') {
            allowed.insert((name.to_owned(), dep.trim().trim_matches('`').to_owned()));
        }
    }
    allowed
}

/// A workspace crate's dependencies from `cargo metadata`.
struct Package {
    /// Normal and build dependencies, by package name.
    normal: Vec<String>,
    /// Dev-dependencies, by package name.
    dev: Vec<String>,
}

/// The workspace's crates, from `cargo metadata --no-deps`.
fn workspace() -> BTreeMap<String, Package> {
    let output = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut packages = BTreeMap::new();
    for package in metadata["packages"].as_array().unwrap() {
        let (mut normal, mut dev) = (Vec::new(), Vec::new());
        for dependency in package["dependencies"].as_array().unwrap() {
            let name = dependency["name"].as_str().unwrap().to_owned();
            match dependency["kind"].as_str() {
                Some("dev") => dev.push(name),
                _ => normal.push(name),
            }
        }
        packages.insert(package["name"].as_str().unwrap().to_owned(), Package { normal, dev });
    }
    packages
}

/// `start` and everything it reaches through normal dependencies (external crates are
/// leaves: the workspace's rules name only `salsa` among them, a direct dependency).
fn closure(packages: &BTreeMap<String, Package>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start.to_owned()];
    while let Some(name) = stack.pop() {
        if seen.insert(name.clone())
            && let Some(package) = packages.get(&name)
        {
            stack.extend(package.normal.iter().cloned());
        }
    }
    seen
}

/// What depending on `dependency` breaks of `forbidden`, through whatever it brings.
fn broken(packages: &BTreeMap<String, Package>, dependency: &str, forbidden: &BTreeSet<String>) -> Vec<String> {
    let reached = closure(packages, dependency);
    forbidden.iter().filter(|f| reached.contains(*f)).cloned().collect()
}

/// Every crate has a row in docs/architecture.md's crate table, and none depends (directly
/// or through another crate) on what its row forbids; a dev-dependency may cross the row
/// only where the doc lists it.
#[test]
fn crates_depend_only_as_the_architecture_allows() {
    let doc = read("docs/architecture.md");
    let rows = crate_rows(&doc);
    let exceptions = dev_exceptions(&doc);
    let packages = workspace();
    let members: BTreeSet<&String> = packages.keys().collect();
    assert_eq!(
        members,
        rows.keys().collect(),
        "docs/architecture.md's crate table must have one row per workspace crate"
    );
    let mut violations = Vec::new();
    for (name, phrases) in &rows {
        let mut forbidden = BTreeSet::new();
        for phrase in phrases {
            let (_, forbids) = VOCABULARY.iter().find(|(p, _)| p == phrase).unwrap_or_else(|| {
                panic!("docs/architecture.md: `{name}` must not depend on \"{phrase}\", which this test cannot map to crates: add it to VOCABULARY")
            });
            match forbids {
                Forbids::Crates(crates) => forbidden.extend(crates.iter().map(|c| (*c).to_owned())),
                Forbids::Workspace => forbidden.extend(packages.keys().filter(|c| *c != name).cloned()),
                Forbids::NotADependency => {}
            }
        }
        let package = &packages[name];
        for dependency in &package.normal {
            for crossed in broken(&packages, dependency, &forbidden) {
                violations.push(format!("`{name}` depends on `{dependency}`, which brings `{crossed}`"));
            }
        }
        for dependency in &package.dev {
            if exceptions.contains(&(name.clone(), dependency.clone())) {
                continue;
            }
            for crossed in broken(&packages, dependency, &forbidden) {
                violations.push(format!(
                    "`{name}` dev-depends on `{dependency}`, which brings `{crossed}` (not a listed exception)"
                ));
            }
        }
    }
    for (name, dependency) in &exceptions {
        assert!(
            packages.get(name).is_some_and(|p| p.dev.contains(dependency)),
            "docs/architecture.md lists `{name}` → `{dependency}` as an exception, but it is no dev-dependency: drop it"
        );
    }
    assert!(
        violations.is_empty(),
        "crates cross their row of docs/architecture.md's crate table:\n{}",
        violations.join("\n")
    );
}

/// The workspace forbids `unsafe` code, and every crate takes the workspace's lints (so
/// that the ban, and clippy's `unwrap_used`, `panic` and the rest, hold everywhere).
#[test]
fn every_crate_takes_the_workspace_lints_and_forbids_unsafe() {
    let manifest = read("Cargo.toml");
    let rust_lints = manifest.split("[workspace.lints.rust]").nth(1).expect("no [workspace.lints.rust] table");
    let table = rust_lints.split("\n[").next().unwrap_or_default();
    assert!(
        table.lines().any(|line| line.replace(' ', "") == "unsafe_code=\"forbid\""),
        "[workspace.lints.rust] must set unsafe_code = \"forbid\""
    );
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let path = entry.unwrap().path().join("Cargo.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\n[lints]\nworkspace = true"), "{} does not take the workspace's lints", path.display());
    }
}

// ---- the standard library's page ----------------------------------------------------------

/// A relation as `docs/stdlib.md` lists it: `kind` (`input`, `input one`, `data`, or
/// `derived`) and its fields (`name: Type` for declared relations, the type for derived).
type Listed = BTreeMap<String, (String, Vec<String>)>;

/// The relations each `## `std.x`` section of `docs/stdlib.md` lists in its tables, and
/// the names on its `Internal:` line (as derived relations with no columns given).
fn stdlib_page() -> BTreeMap<String, (Listed, BTreeSet<String>)> {
    let doc = read("docs/stdlib.md");
    let mut modules: BTreeMap<String, (Listed, BTreeSet<String>)> = BTreeMap::new();
    let mut current: Option<String> = None;
    let code = |cell: &str| cell.trim().trim_matches('`').to_owned();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = heading.strip_prefix("`std.").map(|m| format!("std.{}", m.trim_end_matches('`')));
            continue;
        }
        let Some(module) = &current else { continue };
        let (listed, internal) = modules.entry(module.clone()).or_default();
        if let Some(names) = line.strip_prefix("Internal: ") {
            internal.extend(names.trim_end_matches('.').split(", ").map(code));
            continue;
        }
        let cells: Vec<&str> = line.split(" | ").collect();
        if !line.starts_with("| `") {
            continue;
        }
        let first = code(cells[0].trim_start_matches('|'));
        let split = |list: &str| -> Vec<String> {
            if list.trim() == "—" { Vec::new() } else { code(list).split(", ").map(str::to_owned).collect() }
        };
        if cells.len() == 4 {
            // | `name` | kind | `field: Type, …` | meaning |
            listed.insert(first, (cells[1].trim().to_owned(), split(cells[2])));
        } else if cells.len() == 3 {
            // | `name(args)` | `Type, …` | holds when |
            let name = first.split('(').next().unwrap().to_owned();
            listed.insert(name, ("derived".to_owned(), split(cells[1])));
        }
    }
    modules
}

/// The relations each module declares or derives, in the page's terms, from the checker's
/// symbols of a package that uses every module.
fn stdlib_declarations() -> BTreeMap<String, Listed> {
    let modules = ["std.agents", "std.approvals", "std.time", "std.risk"];
    let source: String =
        std::iter::once("package t\n".to_owned()).chain(modules.iter().map(|m| format!("use {m}\n"))).collect();
    let package = gov_driver::Package::from_sources(vec![("t.gov".to_owned(), source)]).unwrap();
    let checked = package.checked();
    let mut out: BTreeMap<String, Listed> = BTreeMap::new();
    for relation in &checked.symbols.relations {
        let Some(module) = relation.span.and_then(|s| package.program().module_of(s.file)) else { continue };
        let kind = match (format!("{:?}", relation.kind).as_str(), relation.one) {
            ("Input", true) => "input one",
            ("Input", false) => "input",
            ("Data", _) => "data",
            _ => "derived",
        };
        let fields = relation
            .fields
            .iter()
            .map(|f| {
                // Types print as `Some(Base(Str))` in Debug; the page writes `Str`.
                let ty = format!("{:?}", f.ty).trim_start_matches("Some(Base(").trim_end_matches("))").to_owned();
                match &f.name {
                    Some(name) if kind != "derived" => format!("{name}: {ty}"),
                    _ => ty,
                }
            })
            .collect();
        out.entry(module.to_owned()).or_default().insert(relation.name.to_string(), (kind.to_owned(), fields));
    }
    out
}

/// `docs/stdlib.md`'s tables list exactly the relations each module declares and derives,
/// with their kinds, fields and column types; the derived relations it does not table are
/// named on its `Internal:` line.
#[test]
fn stdlib_page_lists_the_modules_relations() {
    let page = stdlib_page();
    let declared = stdlib_declarations();
    assert_eq!(page.keys().collect::<Vec<_>>(), declared.keys().collect::<Vec<_>>(), "modules on the page");
    for (module, relations) in &declared {
        let (listed, internal) = &page[module];
        for (name, (kind, fields)) in relations {
            if internal.contains(name) {
                assert_eq!(kind, "derived", "{module}: `{name}` is on the Internal line but is not derived");
                continue;
            }
            let Some((page_kind, page_fields)) = listed.get(name) else {
                panic!("docs/stdlib.md, {module}: `{name}` ({kind}) is in neither table nor the Internal line")
            };
            assert_eq!((page_kind, page_fields), (kind, fields), "docs/stdlib.md, {module}: `{name}`");
        }
        for name in listed.keys().chain(internal) {
            assert!(relations.contains_key(name), "docs/stdlib.md, {module}: `{name}` is not in the module");
        }
    }
}

/// Every example of `docs/stdlib.md` checks without errors: what the page shows a package
/// writing (a `risk` rule's points from a weight, a rule reading `risk_score`) is accepted.
#[test]
fn stdlib_page_examples_check() {
    for (line, block) in fenced(&read("docs/stdlib.md"), "gov") {
        let package = gov_driver::Package::from_sources(vec![("example.gov".to_owned(), block.clone())]).unwrap();
        let errors: Vec<&str> = package
            .checked()
            .diagnostics
            .iter()
            .filter(|d| d.severity() == gov_diag::Severity::Error)
            .map(|d| d.message.as_str())
            .collect();
        assert!(errors.is_empty(), "docs/stdlib.md:{line}: {errors:?}\n{block}");
    }
}

/// Every built-in of the catalogue is documented in docs/reference.md with its signature as
/// `Builtin::synopsis` writes it (`str.lower(Str) → Str`), so a family added to
/// `gov-builtins` cannot ship undocumented.
#[test]
fn every_builtin_is_in_the_reference() {
    let reference = read("docs/reference.md");
    let missing: Vec<String> = gov_builtins::Builtin::ALL
        .iter()
        .map(|b| b.synopsis())
        .filter(|synopsis| !reference.contains(&format!("`{synopsis}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/reference.md, \"Built-in functions\", lacks these built-ins (write each as `NAME(TYPES) → OUTPUT`, with its kind and an example):\n{}",
        missing.join("\n")
    );
}
