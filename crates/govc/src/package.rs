//! Checking and compiling a package from disk, through `gov_driver`, for `build` and
//! `eval`: problems are printed, and the error is the outcome to exit with.

use crate::cli::Color;
use crate::{Outcome, load, output};
use gov_driver::fs::{Disk, Kind};
use gov_driver::{CompileError, Package};
use gov_vm::program::Program;
use std::path::{Path, PathBuf};

/// Checks and compiles the package at `path` with its data and `extra_data`. Problems are
/// printed; the error is the outcome to exit with.
pub fn compile(path: &Path, extra_data: &[PathBuf], color: Color) -> Result<Program, Outcome> {
    let package = Package::load(&Disk, path).map_err(|message| {
        eprintln!("error: {message}");
        Outcome::UsageError
    })?;
    if let Some(errors) = package.errors() {
        let text =
            output::render(crate::cli::Format::Human, &errors.diagnostics, &errors.sources, output::use_color(color));
        eprint!("{text}");
        return Err(if errors.unusable { Outcome::UsageError } else { Outcome::PolicyFailure });
    }
    // A single file takes the data files beside it, which may be another package's.
    let single_file = gov_driver::walk::kind(&Disk, path).is_ok_and(|k| k != Kind::Dir);
    let beside = (single_file && !package.data_files().is_empty()).then(|| {
        let files: Vec<String> = package.data_files().iter().map(|f| format!("`{}`", load::display(f))).collect();
        format!(
            "note: the single-file package `{}` reads the data files beside it: {}\n",
            load::display(path),
            files.join(", ")
        )
    });
    let note = || eprint!("{}", beside.as_deref().unwrap_or_default());
    let mut data_files = package.data_files().to_vec();
    data_files.extend(extra_data.iter().cloned());
    let data = gov_driver::read_data(&Disk, &data_files).map_err(|message| {
        eprintln!("error: {message}");
        note();
        Outcome::UsageError
    })?;
    package.compile(&data).map_err(|error| {
        eprintln!("error: {error}");
        match error {
            CompileError::Data { .. } => {
                note();
                Outcome::UsageError
            }
            CompileError::Internal { .. } => Outcome::PolicyFailure,
        }
    })
}
