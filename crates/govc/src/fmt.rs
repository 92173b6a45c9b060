//! `govc fmt`.

use crate::cli::FmtArgs;
use crate::{Outcome, load, output};
use gov_diag::{FileId, Sources};
use gov_driver::fs::Disk;
use gov_driver::walk::Walker;

/// Formats files in place, or with `--check` lists those that would change.
pub fn run(args: &FmtArgs) -> Outcome {
    let mut files = Vec::new();
    let mut walker = Walker::default();
    for path in &args.paths {
        if let Err(message) = gov_driver::discover::source_files(&Disk, path, &mut walker, &mut files) {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    }
    let mut sources = Sources::new();
    let mut diagnostics = Vec::new();
    let mut unformatted = Vec::new();
    for file in &files {
        let shown = load::display(file);
        let text = match gov_driver::load::read_source(&Disk, file) {
            Ok(Ok(text)) => text,
            Ok(Err(rejected)) => {
                diagnostics.push(rejected.diagnostic(&mut sources));
                continue;
            }
            Err(message) => {
                eprintln!("error: {message}");
                return Outcome::UsageError;
            }
        };
        let id = FileId(u32::try_from(sources.len()).unwrap_or(u32::MAX));
        let parsed = gov_syntax::parse(id, &text);
        sources.add(shown.clone(), text.clone());
        let Some(formatted) = gov_syntax::format::format_source(&text, &parsed) else {
            diagnostics
                .extend(parsed.diagnostics.iter().filter(|d| d.severity() == gov_diag::Severity::Error).cloned());
            continue;
        };
        if formatted == text {
            continue;
        }
        if args.check {
            unformatted.push(shown);
        } else if let Err(error) = std::fs::write(file, formatted) {
            eprintln!("error: cannot write `{shown}`: {error}");
            return Outcome::UsageError;
        }
    }
    if !diagnostics.is_empty() {
        output::emit(&output::render(crate::cli::Format::Human, &diagnostics, &sources, output::use_color(args.color)));
        output::emit("files with errors were left unchanged\n");
    }
    for file in &unformatted {
        output::emit(&format!("not formatted: {file}\n"));
    }
    if diagnostics.is_empty() && unformatted.is_empty() { Outcome::Success } else { Outcome::PolicyFailure }
}
