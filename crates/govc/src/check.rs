//! `govc check`.

use crate::cli::CheckArgs;
use crate::{Outcome, output};
use gov_db::Workspace;
use gov_diag::Severity;
use gov_driver::fs::Disk;
use gov_driver::load::{self, Problem};

/// Checks each path as a package and prints every diagnostic.
pub fn run(args: &CheckArgs) -> Outcome {
    let mut workspace = Workspace::new();
    let mut rejected = Vec::new();
    for path in &args.paths {
        match load::package(&Disk, path) {
            Ok(package) => {
                if !package.files.is_empty() {
                    workspace.add_package(package.files);
                }
                rejected.extend(package.rejected);
            }
            Err(message) => {
                eprintln!("error: {message}");
                return Outcome::UsageError;
            }
        }
    }
    let mut diagnostics: Vec<_> =
        workspace.packages().filter_map(|p| workspace.check(p)).flat_map(|c| c.diagnostics.clone()).collect();
    let mut sources = workspace.sources();
    let no_sources = rejected.iter().any(|r| r.problem == Problem::NoSources);
    diagnostics.extend(rejected.iter().map(|r| r.diagnostic(&mut sources)));
    output::emit(&output::render(args.format, &diagnostics, &sources, output::use_color(args.color)));
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
