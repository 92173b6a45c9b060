//! Running the tests written in a Gov package (`test "…" { … }` blocks) through the
//! compiled engine, and measuring which rules they exercise.
//!
//! 1. [`collect`] finds the test blocks of a package's own files (not library modules),
//!    with their locations.
//! 2. [`world`] turns a test's `given` facts into a data document and a request document,
//!    shaped like the JSON the engine reads (DESIGN §5).
//! 3. [`run`] evaluates one test: the compiled [`gov_vm::program::Program`], its data
//!    replaced by the test's own (given data facts and `with data` fixtures), decided by
//!    the real [`gov_vm::Engine`] with provenance, then every expectation checked.
//! 4. [`Coverage`] gathers, over many test results, the decision rules that never fired
//!    and the derivation rules that never derived a fact.
//!
//! The crate does no IO: the caller reads fixture files and hands them in.

mod coverage;
mod run;
mod world;

pub use coverage::{Coverage, CoverageItem, CoverageKind, percent};
pub use run::{Evaluation, Failure, FiredRule, Observed, Status, TestResult, run};
pub use world::{World, lit_json, world};

use gov_diag::{Sources, Span};
use gov_syntax::ast::{Atom, Expectation, ItemKind, TestStatement};

/// One test block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The test's name.
    pub name: String,
    /// The path of the file that holds it, as the sources name it.
    pub file: String,
    /// 1-based line of `test`.
    pub line: u32,
    /// 1-based column of `test`.
    pub column: u32,
    /// The `with data "…"` paths, as written (relative to the directory of `file`).
    pub fixtures: Vec<String>,
    /// The `given` facts, each with its `file:line:col`.
    pub given: Vec<(Atom, String)>,
    /// The expectations, each with its `file:line:col`.
    pub expectations: Vec<(Expectation, String)>,
}

impl TestCase {
    /// `file:line:col` of the test.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }
}

/// The test blocks of the package's own files, in file and source order.
pub fn collect(program: &gov_check::Program, sources: &Sources) -> Vec<TestCase> {
    let location = |span: Span| sources.location(span);
    let mut out = Vec::new();
    for file in program.package_files() {
        for item in &file.parsed.file.items {
            let ItemKind::Test(test) = &item.kind else { continue };
            let (line, column) = sources.get(item.span.file).map_or((0, 0), |f| {
                let at = f.lines.line_col(&f.text, item.span.start);
                (at.line, at.col)
            });
            let mut case = TestCase {
                name: test.name.value.clone(),
                file: sources.name(item.span.file).to_owned(),
                line,
                column,
                fixtures: Vec::new(),
                given: Vec::new(),
                expectations: Vec::new(),
            };
            for statement in &test.statements {
                match statement {
                    TestStatement::WithData(path) => case.fixtures.push(path.value.clone()),
                    TestStatement::Given(atoms) => case.given.extend(atoms.iter().map(|a| (a.clone(), location(a.span)))),
                    TestStatement::Expect(expectation) => case.expectations.push((expectation.clone(), location(expectation.span))),
                }
            }
            out.push(case);
        }
    }
    out
}
