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
pub use run::{Closest, Evaluation, Failure, FiredRule, Observed, Status, TestResult, run};
pub use world::{World, lit_json, world};

use gov_diag::{Sources, Span};
use gov_syntax::ast::{Atom, Expectation, Fixture, ItemKind, TestStatement};

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
    /// The `with data "…"` paths, as written (relative to the directory of `file`), those
    /// of its fixtures first.
    pub fixtures: Vec<String>,
    /// The `given` facts, each with its `file:line:col`, those of its fixtures first.
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

/// The test blocks of the package's own files, in file and source order. A test that
/// `uses` fixtures starts from their statements, in the order it names them (a fixture
/// unknown to the package, which the checker reports, adds nothing).
pub fn collect(program: &gov_check::ParsedPackage, sources: &Sources) -> Vec<TestCase> {
    let location = |span: Span| sources.location(span);
    let fixtures: Vec<&Fixture> = program
        .package_files()
        .flat_map(|file| file.parsed.file.items.iter())
        .filter_map(|item| match &item.kind {
            ItemKind::Fixture(fixture) => Some(fixture),
            _ => None,
        })
        .collect();
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
            let used = test.uses.iter().filter_map(|name| fixtures.iter().find(|f| f.name.text == name.text));
            for statement in used.flat_map(|f| &f.statements).chain(&test.statements) {
                match statement {
                    TestStatement::WithData(path) => case.fixtures.push(path.value.clone()),
                    TestStatement::Given(atoms) => {
                        case.given.extend(atoms.iter().map(|a| (a.clone(), location(a.span))))
                    }
                    TestStatement::Expect(expectation) => {
                        case.expectations.push((expectation.clone(), location(expectation.span)))
                    }
                }
            }
            out.push(case);
        }
    }
    out
}

/// The one way this crate's unit tests turn a source text into a compiled package.
#[cfg(test)]
pub(crate) mod test_support {
    /// A single-file package, checked and compiled.
    pub(crate) struct Compiled {
        pub package: gov_driver::Package,
        pub compiled: gov_vm::program::Program,
    }

    /// Checks (asserting no errors) and compiles `source` as the file `path`, as `govc test`
    /// does: through the driver, with no data.
    pub(crate) fn compile_source(path: &str, source: &str) -> Compiled {
        let package = gov_driver::Package::from_sources(vec![(path.to_owned(), source.to_owned())]).unwrap();
        assert!(package.errors().is_none(), "{:?}", package.errors().map(|e| e.diagnostics));
        let compiled = package.compile(&[]).unwrap();
        Compiled { package, compiled }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use gov_vm::Limits;
    use serde_json::json;

    const SOURCE: &str = r#"package p

input transfer(agent: Str, amount: Int)
data limit(agent: Str, max: Int)
data reports_to(agent: Str, manager: Str)

manages(m, a) :- reports_to(a, m).
manages(m, a) :- reports_to(a, x), manages(m, x).

deny too_large "over {max}" :- transfer(a, amt), limit(a, max), amt > max.
allow within :- transfer(a, amt), limit(a, max), amt <= max.
obligation tell "tell {m}" :- transfer(a, _), manages(m, a).
risk big 40 :- transfer(_, amt), amt > 1000.

test "over the limit" {
    given limit("bot-1", 5000).
          transfer("bot-1", 6000).
    expect deny too_large
    expect risk 40
}

test "with a fixture" {
    with data "org.json"
    given transfer("bot-1", 10).
    expect allow within
    expect obligation tell
}

test "wrong" {
    given transfer("bot-1", 10).
    expect allow
}
"#;

    struct Package {
        compiled: gov_vm::program::Program,
        symbols: gov_check::Symbols,
        cases: Vec<TestCase>,
    }

    fn package() -> Package {
        let built = crate::test_support::compile_source("dir/p.gov", SOURCE);
        let cases = collect(built.package.program(), &built.package.sources());
        Package { cases, compiled: built.compiled, symbols: built.package.checked().symbols.clone() }
    }

    fn org(path: &str) -> Result<gov_vm::json::Document, String> {
        assert_eq!(path, "org.json");
        let org = json!({
            "limit": [{"agent": "bot-1", "max": 100}],
            "reports_to": [{"agent": "bot-1", "manager": "ann"}, {"agent": "ann", "manager": "bo"}],
        });
        gov_vm::json::parse_document(&org.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn collects_tests_with_locations() {
        let package = package();
        let names: Vec<&str> = package.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["over the limit", "with a fixture", "wrong"]);
        assert_eq!(package.cases[0].location(), "dir/p.gov:15:1");
        assert_eq!(package.cases[0].expectations[1].1, "dir/p.gov:19:5");
        assert_eq!(package.cases[1].fixtures, ["org.json"]);
    }

    #[test]
    fn runs_tests_through_the_engine() {
        let package = package();
        let result = run(&package.compiled, &package.symbols, &package.cases[0], &Limits::default(), &mut org);
        assert_eq!(result.status, Status::Passed, "{result:?}");
        let Some(Evaluation::Decided(observed)) = &result.evaluation else { panic!("{result:?}") };
        assert_eq!(observed.outcome, "deny");
        assert_eq!(observed.risk, 40);
        assert_eq!(observed.fired.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["too_large", "big"]);
        assert_eq!(observed.explanation[0]["rule"], "too_large");
        assert_eq!(
            observed.derivation,
            "deny too_large \"over 5000\" (dir/p.gov:10:1)\n  ← transfer(\"bot-1\", 6000) [input]\n  \
             ← limit(\"bot-1\", 5000) [data]\nrisk big (dir/p.gov:13:1)\n  ← transfer(\"bot-1\", 6000) [input]\n"
        );

        let result = run(&package.compiled, &package.symbols, &package.cases[1], &Limits::default(), &mut org);
        assert_eq!(result.status, Status::Passed, "{result:?}");
        let Some(Evaluation::Decided(observed)) = &result.evaluation else { panic!("{result:?}") };
        assert_eq!(observed.obligations, ["tell"]);

        let result = run(&package.compiled, &package.symbols, &package.cases[2], &Limits::default(), &mut org);
        assert_eq!(result.status, Status::Failed);
        assert_eq!(
            result.failures,
            [Failure {
                expectation: "expect allow".to_owned(),
                at: "dir/p.gov:31:5".to_owned(),
                expected: "allow".to_owned(),
                actual: "deny, with no rule fired".to_owned(),
                closest: Some(Closest {
                    rule: "within".to_owned(),
                    effect: "allow".to_owned(),
                    at: "dir/p.gov:11:1".to_owned(),
                    held: 1,
                    conditions: 3,
                    failed: "no fact matches limit(agent: \"bot-1\", max: _)".to_owned(),
                }),
            }]
        );
    }

    /// `expect not …`, expected messages and approvers, `expect message`, and fixtures a
    /// test `uses`: each form holds when it should and fails, naming what happened, when
    /// it should not; a failure that wanted a rule names the one that came closest.
    #[test]
    fn richer_expectations_and_fixtures() {
        const SOURCE: &str = r#"package p

input transfer(agent: Str, amount: Int)
data limit(agent: Str, max: Int)

deny too_large "over {max}" :- transfer(a, amt), limit(a, max), amt > max.
escalate big to "finance" "big: {amt}" :- transfer(_, amt), amt > 1000.
allow within :- transfer(a, amt), limit(a, max), amt <= max.
obligation audit "audit {a}" :- transfer(a, _).
risk heavy 10 :- transfer(_, amt), amt > 100.

fixture bot {
    given limit("bot-1", 5000).
}

test "passes" uses bot {
    given transfer("bot-1", 2000).
    expect escalate big to "finance" "big: 2000"
    expect not deny
    expect not deny too_large "over 5000"
    expect not allow
    expect not escalate to "legal"
    expect obligation audit "audit bot-1"
    expect obligation "audit bot-1"
    expect message "big: 2000" "audit bot-1"
    expect not message "over 5000"
    expect risk 10
}

test "fails" uses bot {
    given transfer("bot-1", 50).
    expect deny too_large "over 4000"
    expect not allow within
    expect not obligation
    expect message "nothing like this"
    expect not risk heavy
    expect not risk
}
"#;
        let built = crate::test_support::compile_source("p.gov", SOURCE);
        let cases = collect(built.package.program(), &built.package.sources());
        let symbols = built.package.checked().symbols.clone();
        let mut none = |path: &str| -> Result<gov_vm::json::Document, String> { panic!("no fixture file {path}") };
        assert_eq!(cases[0].given.len(), 2, "the fixture's fact comes first: {:?}", cases[0].given);
        assert_eq!(cases[0].given[0].1, "p.gov:13:11");

        let passes = run(&built.compiled, &symbols, &cases[0], &Limits::default(), &mut none);
        assert_eq!(passes.status, Status::Passed, "{:?}", passes.failures);

        let fails = run(&built.compiled, &symbols, &cases[1], &Limits::default(), &mut none);
        let lines: Vec<String> = fails
            .failures
            .iter()
            .map(|f| {
                let closest = f.closest.as_ref().map(|c| format!(" | closest {}", c.describe())).unwrap_or_default();
                format!("{}: expected {}; actual {}{closest}", f.expectation, f.expected, f.actual)
            })
            .collect();
        assert_eq!(
            lines,
            [
                "expect deny too_large \"over 4000\": expected deny, with too_large fired, with messages \"over 4000\"; \
                 actual allow, with within, audit fired; no messages | closest deny too_large (p.gov:6:1): 2 of 3 \
                 conditions held, then 50 > 5000 does not hold",
                "expect not allow within: expected none of within fired; actual allow, with within, audit fired",
                "expect not obligation: expected no obligation rule fired; actual allow, with within, audit fired",
                "expect message \"nothing like this\": expected a fired rule giving \"nothing like this\"; \
                 actual allow, with within, audit fired; messages \"audit bot-1\"",
            ]
        );
    }

    /// `escalate … to team` takes its group from the data: the approvers are the groups
    /// the firings bound, each once, and `expect escalate … to "group"` checks them (the
    /// checker cannot know the data's groups, so any group may be named).
    #[test]
    fn approvers_bound_by_the_body_come_from_the_data() {
        const SOURCE: &str = r#"package p

type Team = Str

input change(repo: Str)
data owner(repo: Str, team: Team)

escalate review to team "{repo} needs {team}" :- change(repo), owner(repo, team).

test "each owning team is asked" {
    given owner("api", "api-team"). owner("web", "web-team"). owner("cli", "api-team").
    given change("api"). change("web"). change("cli").
    expect escalate review to "api-team" "web needs web-team"
}

test "a team that owns nothing changed is not asked" {
    given owner("api", "api-team"). owner("web", "web-team").
    given change("api").
    expect escalate review to "web-team"
}
"#;
        let built = crate::test_support::compile_source("p.gov", SOURCE);
        let cases = collect(built.package.program(), &built.package.sources());
        let symbols = built.package.checked().symbols.clone();
        let mut none = |path: &str| -> Result<gov_vm::json::Document, String> { panic!("no fixture file {path}") };
        let asked = run(&built.compiled, &symbols, &cases[0], &Limits::default(), &mut none);
        assert_eq!(asked.status, Status::Passed, "{:?}", asked.failures);
        let Some(Evaluation::Decided(observed)) = &asked.evaluation else { panic!("{asked:?}") };
        assert_eq!(observed.approvers, ["api-team", "web-team"]);

        let wrong = run(&built.compiled, &symbols, &cases[1], &Limits::default(), &mut none);
        assert_eq!(wrong.failures.len(), 1, "{wrong:?}");
        assert_eq!(wrong.failures[0].actual, "escalate, with review fired, approvers \"api-team\"");
    }

    #[test]
    fn one_fact_inputs_refuse_two_facts_or_none() {
        const SOURCE: &str = r#"package p

input one request_time(at: Time)
input transfer(amount: Int)

deny late :- request_time(t), t > 2026-01-01T18:00:00Z.
allow fine :- transfer(_).

test "two times: not a decision" {
    given request_time(2026-01-01T20:00:00Z). request_time(2026-01-01T10:00:00Z). transfer(1).
    expect allow
}

test "two times: expected" {
    given request_time(2026-01-01T20:00:00Z). request_time(2026-01-01T10:00:00Z). transfer(1).
    expect error
}

test "no time" {
    given transfer(1).
    expect allow
}

test "one time" {
    given request_time(2026-01-01T20:00:00Z). transfer(1).
    expect deny late
}
"#;
        let built = crate::test_support::compile_source("p.gov", SOURCE);
        let cases = collect(built.package.program(), &built.package.sources());
        let symbols = &built.package.checked().symbols;
        let result =
            |i: usize| run(&built.compiled, symbols, &cases[i], &Limits::default(), &mut |_| Err("none".to_owned()));

        let two = result(0);
        assert_eq!(two.status, Status::Error);
        assert_eq!(
            two.error.as_deref(),
            Some(
                "p.gov:10:47: given input: request_time[1]: expected exactly one fact of `request_time`, \
                 found 2 (it is declared `input one`)"
            )
        );
        let expected = result(1);
        assert_eq!(expected.status, Status::Passed, "{expected:?}");
        let none = result(2);
        assert_eq!(none.status, Status::Error);
        assert_eq!(
            none.error.as_deref(),
            Some(
                "given input: request_time: expected exactly one fact, found none (`request_time` is declared `input one`)"
            )
        );
        assert_eq!(result(3).status, Status::Passed);
    }

    #[test]
    fn a_fixture_that_cannot_be_read_is_an_error() {
        let package = package();
        let result = run(&package.compiled, &package.symbols, &package.cases[1], &Limits::default(), &mut |_| {
            Err("gone".to_owned())
        });
        assert_eq!(result.status, Status::Error);
        assert_eq!(result.error.as_deref(), Some("with data \"org.json\": gone"));
    }

    #[test]
    fn coverage_counts_decision_rules_and_rules_once_each() {
        let package = package();
        let mut coverage = Coverage::new(&package.compiled);
        // manages ×2 (the recursive one has semi-naive variants), four decision rules.
        assert_eq!(coverage.total(), 6);
        assert_eq!(coverage.covered(), 0);
        assert_eq!(coverage.percent(), 0.0);
        coverage.record(&run(&package.compiled, &package.symbols, &package.cases[0], &Limits::default(), &mut org));
        let uncovered: Vec<String> =
            coverage.uncovered().map(|i| format!("{} {}", i.location(), i.describe())).collect();
        assert_eq!(
            uncovered,
            [
                "dir/p.gov:7:1 rule manages",
                "dir/p.gov:8:1 rule manages",
                "dir/p.gov:11:1 allow within",
                "dir/p.gov:12:1 obligation tell"
            ]
        );
        coverage.record(&run(&package.compiled, &package.symbols, &package.cases[1], &Limits::default(), &mut org));
        assert_eq!(coverage.covered(), 6);
        assert_eq!(coverage.percent(), 100.0);
    }
}
