//! `govc test`: runs the `test` blocks of packages through the compiled engine and
//! reports the results (human, JSON or JUnit XML), optionally with rule coverage.

use crate::cli::{Format, TestArgs, TestFormat};
use crate::{Outcome, load, output};
use gov_driver::Package;
use gov_driver::fs::Disk;
use gov_test::{Coverage, Evaluation, Status, TestResult};
use gov_vm::Limits;
use gov_vm::json::Document;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What happened to one package.
struct PackageReport {
    /// The package's path as the user would type it.
    path: String,
    /// The package's declared name (or its directory's name).
    name: String,
    /// Check or compile errors, rendered without color, when the package could not run.
    problems: Option<Problems>,
    /// The results of the tests that ran.
    results: Vec<TestResult>,
    /// Tests that `--filter` left out.
    filtered_out: usize,
    /// Which rules the tests exercised (packages that compiled).
    coverage: Option<Coverage>,
    /// Time spent on the package, checking and compiling included.
    duration: Duration,
}

/// Why a package's tests did not run.
struct Problems {
    /// How many errors.
    count: usize,
    /// The diagnostics as text (rustc-style, no color).
    text: String,
    /// The diagnostics as JSON, when they are diagnostics.
    json: Json,
}

/// Totals over every package.
#[derive(Default)]
struct Totals {
    passed: usize,
    failed: usize,
    errors: usize,
    filtered_out: usize,
    broken_packages: usize,
    covered: usize,
    rules: usize,
}

impl Totals {
    fn of(reports: &[PackageReport]) -> Totals {
        let mut totals = Totals::default();
        for report in reports {
            for result in &report.results {
                match result.status {
                    Status::Passed => totals.passed += 1,
                    Status::Failed => totals.failed += 1,
                    Status::Error => totals.errors += 1,
                }
            }
            totals.filtered_out += report.filtered_out;
            totals.broken_packages += usize::from(report.problems.is_some());
            if let Some(coverage) = &report.coverage {
                totals.covered += coverage.covered();
                totals.rules += coverage.total();
            }
        }
        totals
    }

    fn all_passed(&self) -> bool {
        self.failed == 0 && self.errors == 0 && self.broken_packages == 0
    }

    fn percent(&self) -> f64 {
        gov_test::percent(self.covered, self.rules)
    }
}

/// Runs the tests of every package under `args.paths`.
pub fn run(args: &TestArgs) -> Outcome {
    if let Some(threshold) = args.coverage_threshold
        && !(0.0..=100.0).contains(&threshold)
    {
        eprintln!("error: --coverage-threshold takes a percentage from 0 to 100, not {threshold}");
        return Outcome::UsageError;
    }
    let mut packages = Vec::new();
    for path in &args.paths {
        if let Err(message) = gov_driver::discover::packages(&Disk, path, &mut packages) {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    }
    let color = args.format == TestFormat::Human && output::use_color(args.color);
    let start = Instant::now();
    let mut reports = Vec::new();
    let limits = args.limits.limits();
    for package in &packages {
        let report = match test_package(package, args.filter.as_deref(), &limits, output::use_color(args.color)) {
            Ok(report) => report,
            Err(message) => {
                eprintln!("error: {message}");
                return Outcome::UsageError;
            }
        };
        if args.format == TestFormat::Human {
            output::emit(&human_package(&report, color));
        }
        reports.push(report);
    }
    let elapsed = start.elapsed();
    let totals = Totals::of(&reports);
    let show_coverage = args.coverage || args.coverage_threshold.is_some();
    let below = args.coverage_threshold.filter(|t| totals.percent() < *t);
    match args.format {
        TestFormat::Human => {
            let mut text = human_summary(&reports, &totals, elapsed, color);
            if show_coverage {
                text.push_str(&human_coverage(&reports, &totals, args.coverage_threshold));
            }
            output::emit(&text);
        }
        TestFormat::Json => {
            let document = json_document(&reports, &totals, elapsed, args.coverage_threshold);
            output::emit(&format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default()));
        }
        TestFormat::Junit => output::emit(&junit(&reports, &totals, elapsed)),
    }
    if totals.all_passed() && below.is_none() { Outcome::Success } else { Outcome::PolicyFailure }
}

// ---- running ------------------------------------------------------------------------

/// Checks, compiles and tests one package. `Err` is an IO problem (exit 2).
fn test_package(path: &Path, filter: Option<&str>, limits: &Limits, color: bool) -> Result<PackageReport, String> {
    let start = Instant::now();
    let package = Package::load(&Disk, path)?;
    let shown = load::display(path);
    let fallback_name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("package").to_owned();
    let mut report = PackageReport {
        path: shown,
        name: package.checked().symbols.package.clone().unwrap_or(fallback_name),
        problems: None,
        results: Vec::new(),
        filtered_out: 0,
        coverage: None,
        duration: Duration::ZERO,
    };
    if let Some(errors) = package.errors() {
        let (errors, sources) = (errors.diagnostics, errors.sources);
        eprint!("{}", output::render(Format::Human, &errors, &sources, color));
        report.problems = Some(Problems {
            count: errors.len(),
            text: gov_diag::render_human(&errors, &sources, false),
            json: serde_json::from_str::<Json>(&gov_diag::render_json(&errors, &sources))
                .ok()
                .and_then(|mut d| d.get_mut("diagnostics").map(Json::take))
                .unwrap_or(Json::Null),
        });
        report.duration = start.elapsed();
        return Ok(report);
    }
    // The tests bring their own data: the package's data files are not read.
    let compiled = match package.compile(&[]) {
        Ok(compiled) => compiled,
        Err(error) => {
            eprintln!("error: {error}");
            report.problems = Some(Problems {
                count: 1,
                text: format!("error: {error}\n"),
                json: json!([{"severity": "error", "message": error.to_string()}]),
            });
            report.duration = start.elapsed();
            return Ok(report);
        }
    };
    let mut coverage = Coverage::new(&compiled);
    let mut fixtures: HashMap<PathBuf, Result<Document, String>> = HashMap::new();
    let (checked, sources) = (package.checked(), package.sources());
    for case in gov_test::collect(package.program(), &sources) {
        if filter.is_some_and(|pattern| !case.name.contains(pattern)) {
            report.filtered_out += 1;
            continue;
        }
        let mut read_fixture = |written: &str| -> Result<Document, String> {
            let file = gov_driver::fixture_path(&case.file, written);
            fixtures.entry(file.clone()).or_insert_with(|| gov_driver::read_fixture(&Disk, &file)).clone()
        };
        let result = gov_test::run(&compiled, &checked.symbols, &case, limits, &mut read_fixture);
        coverage.record(&result);
        report.results.push(result);
    }
    report.coverage = Some(coverage);
    report.duration = start.elapsed();
    Ok(report)
}

// ---- human output -------------------------------------------------------------------

fn paint(text: &str, code: &str, color: bool) -> String {
    if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
}

fn title(package: &str, result: &TestResult) -> String {
    format!("{package}: {:?}", result.name)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `running N tests in NAME (PATH)` and one line per test.
fn human_package(report: &PackageReport, color: bool) -> String {
    let mut text = String::new();
    if let Some(problems) = &report.problems {
        let _ = writeln!(
            text,
            "{}: package {} ({}) has {}; its tests were not run",
            paint("error", "1;31", color),
            report.name,
            report.path,
            plural(problems.count, "error")
        );
        return text;
    }
    let _ = writeln!(text, "running {} in {} ({})", plural(report.results.len(), "test"), report.name, report.path);
    for result in &report.results {
        let verdict = match result.status {
            Status::Passed => paint("ok", "32", color),
            Status::Failed => paint("FAILED", "31", color),
            Status::Error => paint("ERROR", "31", color),
        };
        let _ = writeln!(text, "test {} ... {verdict}", title(&report.name, result));
    }
    text
}

/// The failures in detail, the list of failed tests and the `test result:` line.
fn human_summary(reports: &[PackageReport], totals: &Totals, elapsed: Duration, color: bool) -> String {
    let mut text = String::new();
    let failed: Vec<(&PackageReport, &TestResult)> = reports
        .iter()
        .flat_map(|r| r.results.iter().filter(|t| t.status != Status::Passed).map(move |t| (r, t)))
        .collect();
    if !failed.is_empty() {
        text.push_str("\nfailures:\n");
        for (report, result) in &failed {
            let _ = writeln!(text, "\n---- {} ----", title(&report.name, result));
            text.push_str(&details(result));
        }
        text.push_str("\nfailures:\n");
        for (report, result) in &failed {
            let _ = writeln!(text, "    {}", title(&report.name, result));
        }
    }
    let verdict = if totals.all_passed() { paint("ok", "32", color) } else { paint("FAILED", "31", color) };
    let broken = if totals.broken_packages > 0 {
        format!("; {} with errors", plural(totals.broken_packages, "package"))
    } else {
        String::new()
    };
    let _ = writeln!(
        text,
        "\ntest result: {verdict}. {} passed; {} failed; {}; {} filtered out{broken}; finished in {:.2}s",
        totals.passed,
        totals.failed,
        plural(totals.errors, "error"),
        totals.filtered_out,
        elapsed.as_secs_f64()
    );
    text
}

/// What went wrong in a test that did not pass: its location, each failed expectation
/// (expected vs actual), the rules that fired and their derivation. Plain text.
fn details(result: &TestResult) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "at {}", result.location());
    if let Some(error) = &result.error {
        let _ = writeln!(text, "error: {error}");
    }
    for failure in &result.failures {
        let _ = writeln!(text, "{} ({})", failure.expectation, failure.at);
        let _ = writeln!(text, "  expected: {}", failure.expected);
        let _ = writeln!(text, "  actual:   {}", failure.actual);
        if let Some(closest) = &failure.closest {
            let _ = writeln!(text, "  closest:  {}", closest.describe());
        }
    }
    match &result.evaluation {
        Some(Evaluation::Decided(observed)) => {
            let approvers = if observed.approvers.is_empty() {
                String::new()
            } else {
                format!(
                    ", approvers {}",
                    observed.approvers.iter().map(|g| format!("{g:?}")).collect::<Vec<_>>().join(", ")
                )
            };
            let _ = writeln!(text, "decision: {}{approvers}, risk score {}", observed.outcome, observed.risk);
            if observed.fired.is_empty() {
                text.push_str("rules fired: none\n");
            } else {
                text.push_str("rules fired:\n");
                for rule in &observed.fired {
                    let message = if rule.message.is_empty() { String::new() } else { format!(" {:?}", rule.message) };
                    let _ = writeln!(text, "  {} {}{message} ({})", rule.effect, rule.name, rule.at);
                }
            }
            if !observed.derivation.is_empty() {
                text.push_str("derivation:\n");
                for line in observed.derivation.lines() {
                    let _ = writeln!(text, "  {line}");
                }
            }
        }
        Some(Evaluation::Failed(error)) => {
            let _ = writeln!(text, "evaluation error: {error}");
        }
        None => {}
    }
    text
}

/// `coverage: …` for each package, the rules no test exercised, and the total.
fn human_coverage(reports: &[PackageReport], totals: &Totals, threshold: Option<f64>) -> String {
    let mut text = String::new();
    for report in reports {
        let Some(coverage) = &report.coverage else { continue };
        let _ = writeln!(
            text,
            "\ncoverage of {} ({}): {} of {} exercised ({:.1}%)",
            report.name,
            report.path,
            coverage.covered(),
            plural(coverage.total(), "rule"),
            coverage.percent()
        );
        let uncovered: Vec<_> = coverage.uncovered().collect();
        if !uncovered.is_empty() {
            text.push_str("not exercised by any test:\n");
            for item in uncovered {
                let _ = writeln!(text, "  {}  {}", item.location(), item.describe());
            }
        }
    }
    if reports.iter().filter(|r| r.coverage.is_some()).count() > 1 {
        let _ = writeln!(
            text,
            "\ncoverage in total: {} of {} exercised ({:.1}%)",
            totals.covered,
            plural(totals.rules, "rule"),
            totals.percent()
        );
    }
    if let Some(threshold) = threshold {
        let percent = totals.percent();
        if percent < threshold {
            let _ = writeln!(text, "coverage {percent:.1}% is below the threshold of {threshold}%");
        } else {
            let _ = writeln!(text, "coverage {percent:.1}% meets the threshold of {threshold}%");
        }
    }
    text
}

// ---- JSON ---------------------------------------------------------------------------

fn json_document(reports: &[PackageReport], totals: &Totals, elapsed: Duration, threshold: Option<f64>) -> Json {
    let packages: Vec<Json> = reports
        .iter()
        .map(|report| {
            json!({
                "package": report.name,
                "path": report.path,
                "errors": report.problems.as_ref().map_or(Json::Array(Vec::new()), |p| p.json.clone()),
                "tests": report.results.iter().map(TestResult::to_json).collect::<Vec<_>>(),
                "filtered_out": report.filtered_out,
                "coverage": report.coverage.as_ref().map(Coverage::to_json),
                "duration_ms": report.duration.as_secs_f64() * 1000.0,
            })
        })
        .collect();
    json!({
        "packages": packages,
        "summary": {
            "passed": totals.passed,
            "failed": totals.failed,
            "errors": totals.errors,
            "filtered_out": totals.filtered_out,
            "packages_with_errors": totals.broken_packages,
            "ok": totals.all_passed(),
            "duration_ms": elapsed.as_secs_f64() * 1000.0,
        },
        "coverage": {
            "covered": totals.covered,
            "total": totals.rules,
            "percent": totals.percent(),
            "threshold": threshold,
            "meets_threshold": threshold.is_none_or(|t| totals.percent() >= t),
        },
    })
}

// ---- JUnit XML ----------------------------------------------------------------------

/// Escapes text for XML content; characters XML 1.0 cannot hold are written as `\u{…}`.
fn xml(text: &str) -> String {
    escape(text, false)
}

/// Escapes text for an attribute value: as [`xml`], and line breaks and tabs as character
/// references, which parsers would otherwise turn into spaces.
fn attr(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' if attribute => {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

/// `expect deny too_large: expected deny, …; actual allow, …` for each failed expectation.
fn failure_message(result: &TestResult) -> String {
    if let Some(error) = &result.error {
        return error.clone();
    }
    result
        .failures
        .iter()
        .map(|f| format!("{}: expected {}; actual {}", f.expectation, f.expected, f.actual))
        .collect::<Vec<_>>()
        .join("\n")
}

fn junit(reports: &[PackageReport], totals: &Totals, elapsed: Duration) -> String {
    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        text,
        "<testsuites name=\"govc test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">",
        totals.passed + totals.failed + totals.errors + totals.broken_packages,
        totals.failed,
        totals.errors + totals.broken_packages,
        seconds(elapsed)
    );
    for report in reports {
        let name = attr(&report.name);
        if let Some(problems) = &report.problems {
            let _ = writeln!(
                text,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{}\">",
                seconds(report.duration)
            );
            let _ = writeln!(
                text,
                "    <testcase name=\"check\" classname=\"{name}\" file=\"{}\" time=\"{}\">",
                attr(&report.path),
                seconds(report.duration)
            );
            let _ = writeln!(
                text,
                "      <error message=\"{}\" type=\"check\">{}</error>",
                attr(&format!("the package has {}", plural(problems.count, "error"))),
                xml(&problems.text)
            );
            text.push_str("    </testcase>\n  </testsuite>\n");
            continue;
        }
        let count = |status: Status| report.results.iter().filter(|r| r.status == status).count();
        let _ = writeln!(
            text,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{}\">",
            report.results.len(),
            count(Status::Failed),
            count(Status::Error),
            seconds(report.duration)
        );
        for result in &report.results {
            let _ = write!(
                text,
                "    <testcase name=\"{}\" classname=\"{name}\" file=\"{}\" line=\"{}\" time=\"{}\"",
                attr(&result.name),
                attr(&result.file),
                result.line,
                seconds(result.duration)
            );
            let element = match result.status {
                Status::Passed => {
                    text.push_str("/>\n");
                    continue;
                }
                Status::Failed => "failure",
                Status::Error => "error",
            };
            let _ = writeln!(
                text,
                ">\n      <{element} message=\"{}\" type=\"{element}\">{}</{element}>",
                attr(&failure_message(result)),
                xml(&details(result))
            );
            text.push_str("    </testcase>\n");
        }
        text.push_str("  </testsuite>\n");
    }
    text.push_str("</testsuites>\n");
    text
}

#[cfg(test)]
mod tests {
    use super::{attr, xml};

    #[test]
    fn xml_escapes_markup_quotes_and_control_characters() {
        assert_eq!(xml("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(xml("bell\u{7}\ttab\nline"), "bell\\u{7}\ttab\nline");
        assert_eq!(attr("two\nlines\ttab"), "two&#10;lines&#9;tab");
    }
}
