//! Checking and compiling a package from disk: shared by `build`, `eval` and `test`.

use crate::cli::Color;
use crate::{Outcome, load, output};
use gov_db::Workspace;
use gov_diag::Severity;
use gov_vm::program::Program;
use std::path::{Path, PathBuf};

/// Reads and parses JSON data files.
pub fn read_data(files: &[PathBuf]) -> Result<Vec<(String, gov_vm::json::Document)>, String> {
    files
        .iter()
        .map(|file| {
            let shown = load::display(file);
            let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
            let document = gov_vm::json::parse_document(&text).map_err(|e| format!("{shown}: {e}"))?;
            Ok((shown, document))
        })
        .collect()
}

/// Checks and compiles the package at `path` with its data and `extra_data`. Problems are
/// printed; the error is the outcome to exit with.
pub fn compile(path: &Path, extra_data: &[PathBuf], color: Color) -> Result<Program, Outcome> {
    let loaded = load::package(path).map_err(|message| {
        eprintln!("error: {message}");
        Outcome::UsageError
    })?;
    let mut workspace = Workspace::new();
    let package = workspace.add_package(loaded.files);
    let mut sources = workspace.sources();
    let mut diagnostics: Vec<_> = workspace.check(package).map(|c| c.diagnostics.clone()).unwrap_or_default();
    let usage_problem = !loaded.rejected.is_empty();
    diagnostics.extend(loaded.rejected.iter().map(|r| r.diagnostic(&mut sources)));
    let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.severity() == Severity::Error).collect();
    if !errors.is_empty() {
        eprint!("{}", output::render(crate::cli::Format::Human, &errors, &sources, output::use_color(color)));
        return Err(if usage_problem { Outcome::UsageError } else { Outcome::PolicyFailure });
    }
    // A single file takes the data files beside it, which may be another package's.
    let beside = (!path.is_dir() && !loaded.data.is_empty()).then(|| {
        let files: Vec<String> = loaded.data.iter().map(|f| format!("`{}`", load::display(f))).collect();
        format!(
            "note: the single-file package `{}` reads the data files beside it: {}\n",
            load::display(path),
            files.join(", ")
        )
    });
    let note = || eprint!("{}", beside.as_deref().unwrap_or_default());
    let mut data_files = loaded.data;
    data_files.extend(extra_data.iter().cloned());
    let data = read_data(&data_files).map_err(|message| {
        eprintln!("error: {message}");
        note();
        Outcome::UsageError
    })?;
    let (Some(program), Some(checked)) = (workspace.program(package), workspace.check(package)) else {
        return Err(Outcome::UsageError);
    };
    let input = gov_compile::Input { program: &program, symbols: &checked.symbols, sources: &sources, data: &data };
    gov_compile::compile(&input).map_err(|error| {
        eprintln!("error: {error}");
        match error {
            gov_compile::CompileError::Data { .. } => {
                note();
                Outcome::UsageError
            }
            gov_compile::CompileError::Internal { .. } => Outcome::PolicyFailure,
        }
    })
}
