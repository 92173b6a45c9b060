//! `govc check`.

use crate::cli::CheckArgs;
use crate::{Outcome, fix, output};
use gov_db::Workspace;
use gov_diag::{Applicability, Severity};
use gov_driver::fs::Disk;
use gov_driver::load::{self, Problem};

/// Checks each path as a package and prints every diagnostic; with `--fix`, first applies
/// the safe fixes and reports them on standard error.
pub fn run(args: &CheckArgs) -> Outcome {
    let mut workspace = Workspace::new();
    let mut rejected = Vec::new();
    // Each package's data files, for the conflict analysis.
    let mut data_files = Vec::new();
    for path in &args.paths {
        match load::package(&Disk, path) {
            Ok(package) => {
                if !package.files.is_empty() {
                    data_files.push((workspace.add_package(package.files), package.data));
                }
                rejected.extend(package.rejected);
            }
            Err(message) => {
                eprintln!("error: {message}");
                return Outcome::UsageError;
            }
        }
    }
    if args.fix {
        match fix::run(&mut workspace) {
            Ok(report) => {
                for line in &report.applied {
                    eprintln!("fixed {line}");
                }
            }
            Err(message) => {
                eprintln!("error: {message}");
                return Outcome::UsageError;
            }
        }
    }
    let mut diagnostics = fix::diagnostics(&workspace);
    if args.fix {
        let fixes = diagnostics.iter().flat_map(|d| &d.fixes);
        let to_review = fixes.filter(|f| f.applicability == Applicability::NeedsReview).count();
        if to_review > 0 {
            let plural = if to_review == 1 { "fix needs" } else { "fixes need" };
            eprintln!("{to_review} more {plural} review: see the help lines, or apply them in an editor");
        }
    }
    let mut sources = workspace.sources();
    let mut undecided = Vec::new();
    for (id, files) in &data_files {
        let report = gov_driver::analysis::check_report(&Disk, &workspace, *id, &sources, files);
        diagnostics.extend(report.diagnostics);
        undecided.extend(report.undecided);
    }
    let no_sources = rejected.iter().any(|r| r.problem == Problem::NoSources);
    diagnostics.extend(rejected.iter().map(|r| r.diagnostic(&mut sources)));
    output::emit(&output::render(args.format, &diagnostics, &sources, output::use_color(args.color)));
    if args.analysis_report {
        // On standard error, so that `--format json` and `sarif` stay one document.
        for line in &undecided {
            eprintln!("{line}");
        }
        eprintln!("analysis: {} undecided", undecided.len());
    }
    let errors = diagnostics.iter().any(|d| d.severity() == Severity::Error);
    let warnings = diagnostics.iter().any(|d| d.severity() == Severity::Warning);
    if no_sources {
        Outcome::UsageError
    } else if errors || (args.deny_warnings && warnings) {
        Outcome::PolicyFailure
    } else {
        Outcome::Success
    }
}
