//! Checking and compiling a package from disk, through `gov_driver`, for `build` and
//! `eval`: problems are printed, and the error is the outcome to exit with.

use crate::cli::Color;
use crate::{Outcome, load, output};
use gov_driver::fs::{Disk, Kind};
use gov_driver::{CompileError, EngineError, Package};
use gov_vm::Engine;
use gov_vm::json::Document;
use gov_vm::program::Program;
use std::path::{Path, PathBuf};

/// A package that checked clean, with its data read.
pub struct Ready {
    /// The package.
    pub package: Package,
    /// Its data documents.
    pub data: Vec<(String, Document)>,
    /// The note that a single-file package read the data files beside it, if it did.
    beside: Option<String>,
}

impl Ready {
    /// Prints a compiler error; the outcome to exit with.
    fn compile_failed(&self, error: &CompileError) -> Outcome {
        eprintln!("error: {error}");
        match error {
            CompileError::Data { .. } => {
                note(self.beside.as_deref());
                Outcome::UsageError
            }
            CompileError::Internal { .. } => Outcome::PolicyFailure,
        }
    }
}

/// Prints the note on the data files beside a single file, if any.
fn note(beside: Option<&str>) {
    eprint!("{}", beside.unwrap_or_default());
}

/// Loads and checks the package at `path` and reads its data and `extra_data`. Problems
/// are printed; the error is the outcome to exit with.
pub fn ready(path: &Path, extra_data: &[PathBuf], color: Color) -> Result<Ready, Outcome> {
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
    let mut data_files = package.data_files().to_vec();
    data_files.extend(extra_data.iter().cloned());
    match gov_driver::read_data(&Disk, &data_files) {
        Ok(data) => Ok(Ready { package, data, beside }),
        Err(message) => {
            eprintln!("error: {message}");
            note(beside.as_deref());
            Err(Outcome::UsageError)
        }
    }
}

/// Checks and compiles the package at `path` with its data and `extra_data`. Problems are
/// printed; the error is the outcome to exit with.
pub fn compile(path: &Path, extra_data: &[PathBuf], color: Color) -> Result<Program, Outcome> {
    let ready = ready(path, extra_data, color)?;
    ready.package.compile(&ready.data).map_err(|error| ready.compile_failed(&error))
}

/// Checks and compiles the package at `path` with its data and `extra_data`, and makes its
/// engine (as `govc build` would write it and `govc eval` load it). Problems are printed;
/// the error is the outcome to exit with.
pub fn engine(path: &Path, extra_data: &[PathBuf], color: Color) -> Result<Engine, Outcome> {
    let ready = ready(path, extra_data, color)?;
    ready.package.engine(&ready.data).map_err(|error| match error {
        EngineError::Compile(error) => ready.compile_failed(&error),
        EngineError::Write(error) => {
            eprintln!("error: `{}`: {error}", load::display(path));
            Outcome::PolicyFailure
        }
        EngineError::Load(error) => {
            eprintln!("error: `{}`: {error}", load::display(path));
            Outcome::UsageError
        }
    })
}
