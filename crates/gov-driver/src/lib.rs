//! The one pipeline from files to a compiled program: discovering a package's source and
//! data files ([`discover`], [`walk`]), loading them ([`load`]) into a [`gov_db::Workspace`],
//! checking, compiling with [`gov_compile`], and making the [`gov_vm`] engine that runs the
//! program ([`engine`]).
//!
//! File access goes through [`fs::FileSystem`]: [`fs::Disk`] for the command line,
//! [`fs::Overlay`] for the language server's open documents. This is an IO-edge crate:
//! only the IO layers (govc, gov-lsp) and tests use it. Errors are values (messages or
//! diagnostics); nothing here prints.

pub mod analysis;
pub mod diff;
pub mod discover;
pub mod engine;
pub mod fs;
pub mod load;
pub mod walk;

use fs::FileSystem;
use gov_check::Checked;
use gov_db::{PackageId, Workspace};
use gov_diag::{Diagnostic, Severity, Sources};
use gov_ir::Ir;
use gov_vm::json::Document;
use load::{Rejected, display};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use engine::EngineError;
pub use gov_compile::CompileError;

/// A package loaded into its own workspace and checked.
pub struct Package {
    /// The workspace holding the package and the library modules it uses.
    workspace: Workspace,
    /// The package in `workspace`.
    id: PackageId,
    /// The package's checker results.
    checked: Arc<Checked>,
    /// The package's files and the library modules it uses.
    program: Arc<gov_check::ParsedPackage>,
    /// Files or directories that could not be taken as source.
    rejected: Vec<Rejected>,
    /// The package's data files, not yet read.
    data: Vec<PathBuf>,
}

/// Why a package cannot be compiled: its error diagnostics, with the texts they point into.
#[derive(Debug)]
pub struct Errors {
    /// The checker's errors, then those of the files that could not be read as source.
    pub diagnostics: Vec<Diagnostic>,
    /// The texts, for rendering.
    pub sources: Sources,
    /// Whether a path was unusable (not UTF-8, or no sources): a usage problem rather than
    /// a policy one.
    pub unusable: bool,
}

impl Package {
    /// Reads and checks the package at `path`: a directory, or one `.gov` file (which takes
    /// the data files beside it). Files that are not UTF-8 and a directory without sources
    /// are reported by [`Package::errors`]; `Err` is a path that cannot be read.
    pub fn load(fs: &dyn FileSystem, path: &Path) -> Result<Package, String> {
        let loaded = load::package(fs, path)?;
        let mut package = Package::from_sources(loaded.files)
            .ok_or_else(|| format!("`{}`: the package could not be loaded", display(path)))?;
        package.rejected = loaded.rejected;
        package.data = loaded.data;
        Ok(package)
    }

    /// Checks a package given as (path, text) pairs, with no data files. `None` only if the
    /// workspace loses the package it was just given.
    pub fn from_sources(files: Vec<(String, String)>) -> Option<Package> {
        let mut workspace = Workspace::new();
        let id: PackageId = workspace.add_package(files);
        let checked = workspace.check(id)?;
        let program = workspace.program(id)?;
        Some(Package { workspace, id, checked, program, rejected: Vec::new(), data: Vec::new() })
    }

    /// The checker's results: diagnostics and symbols.
    pub fn checked(&self) -> &Checked {
        &self.checked
    }

    /// The workspace holding the package (for the analysis: [`analysis::check`]).
    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The package's id in its [`workspace`](Package::workspace).
    pub fn id(&self) -> PackageId {
        self.id
    }

    /// The package's files and the library modules it uses.
    pub fn program(&self) -> &gov_check::ParsedPackage {
        &self.program
    }

    /// The texts of the package and its library modules.
    pub fn sources(&self) -> Sources {
        self.workspace.sources()
    }

    /// The package's `*.data.json` files (of its directory, or of a single file's directory).
    pub fn data_files(&self) -> &[PathBuf] {
        &self.data
    }

    /// The errors that keep the package from compiling, if any.
    pub fn errors(&self) -> Option<Errors> {
        let mut sources = self.sources();
        let mut diagnostics: Vec<Diagnostic> =
            self.checked.diagnostics.iter().filter(|d| d.severity() == Severity::Error).cloned().collect();
        diagnostics.extend(self.rejected.iter().map(|r| r.diagnostic(&mut sources)));
        let unusable = !self.rejected.is_empty();
        (!diagnostics.is_empty()).then_some(Errors { diagnostics, sources, unusable })
    }

    /// Compiles the package with the data documents `data` (see [`read_data`]). The package
    /// must have no [`errors`](Package::errors).
    pub fn compile(&self, data: &[(String, Document)]) -> Result<gov_vm::program::Program, CompileError> {
        let ir = self.ir()?;
        let sources = self.sources();
        gov_compile::compile(&gov_compile::Input { ir: &ir, sources: &sources, data })
    }

    /// The package's IR, lowered on the first call (checking alone never pays for it). The
    /// package must have no [`errors`](Package::errors).
    pub fn ir(&self) -> Result<Arc<Ir>, CompileError> {
        match self.workspace.ir(self.id) {
            Some(Ok(ir)) => Ok(ir),
            Some(Err(error)) => Err(self.internal(error.to_string())),
            None => Err(self.internal("the workspace lost the package".to_owned())),
        }
    }

    /// An internal error of this package (a broken guarantee, not a mistake in the policy).
    fn internal(&self, message: String) -> CompileError {
        CompileError::Internal { at: self.checked.symbols.package.clone().unwrap_or_default(), message }
    }

    /// Compiles the package with the data documents `data` (see [`read_data`]) and makes
    /// its engine ([`engine::load`]). The package must have no [`errors`](Package::errors).
    pub fn engine(&self, data: &[(String, Document)]) -> Result<gov_vm::Engine, EngineError> {
        engine::load(&self.compile(data).map_err(EngineError::Compile)?)
    }
}

/// Reads and parses JSON data files, each named in messages and in the compiler's errors
/// as the user would type its path.
pub fn read_data(fs: &dyn FileSystem, files: &[PathBuf]) -> Result<Vec<(String, Document)>, String> {
    files
        .iter()
        .map(|file| {
            let shown = display(file);
            let bytes = walk::read(fs, file)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("cannot read `{shown}`: stream did not contain valid UTF-8"))?;
            let document = gov_vm::json::parse_document(&text).map_err(|e| format!("{shown}: {e}"))?;
            Ok((shown, document))
        })
        .collect()
}

/// The file a test in `test_file` names with `with data "written"`: relative to the test's
/// directory.
pub fn fixture_path(test_file: &str, written: &str) -> PathBuf {
    Path::new(test_file).parent().map(Path::to_path_buf).unwrap_or_default().join(written)
}

/// Reads and parses the JSON fixture a test names with `with data` (see [`fixture_path`]).
pub fn read_fixture(fs: &dyn FileSystem, file: &Path) -> Result<Document, String> {
    let text =
        String::from_utf8(walk::read(fs, file)?).map_err(|e| format!("`{}` is not UTF-8: {e}", display(file)))?;
    gov_vm::json::parse_document(&text).map_err(|e| format!("`{}`: {e}", display(file)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use fs::{Disk, Kind};

    /// A fresh scratch directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gov-driver-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_directory_package_loads_checks_and_compiles_with_its_data() {
        let dir = scratch("package");
        std::fs::write(dir.join("p.gov"), "package p\ninput t(x: Int)\ndata big(x: Int)\ndeny d :- t(x), big(x).\n")
            .unwrap();
        std::fs::write(dir.join("big.data.json"), r#"{"big": [{"x": 1}]}"#).unwrap();
        std::fs::write(dir.join("notes.json"), "not data").unwrap();
        let package = Package::load(&Disk, &dir).unwrap();
        assert!(package.errors().is_none());
        assert_eq!(package.data_files(), [dir.join("big.data.json")]);
        let data = read_data(&Disk, package.data_files()).unwrap();
        assert!(package.compile(&data).is_ok());
        // The data file must fit the package.
        let wrong = [(String::from("wrong"), gov_vm::json::parse_document(r#"{"small": []}"#).unwrap())];
        assert!(matches!(package.compile(&wrong), Err(CompileError::Data { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A one-file package checked clean, from source.
    fn package(source: &str) -> Package {
        let package = Package::from_sources(vec![("p.gov".to_owned(), source.to_owned())]).unwrap();
        assert!(package.errors().is_none(), "{:?}", package.errors());
        package
    }

    fn data(json: &str) -> [(String, Document); 1] {
        [("p.data.json".to_owned(), gov_vm::json::parse_document(json).unwrap())]
    }

    #[test]
    fn a_package_engine_decides_with_its_data_under_its_bundle_hash() {
        let package = package("package p\ndefault allow\ninput t(x: Int)\ndata big(x: Int)\ndeny d :- t(x), big(x).\n");
        let data = data(r#"{"big": [{"x": 1}]}"#);
        let engine = package.engine(&data).unwrap();
        let bundle = gov_vm::bundle::read(&gov_vm::bundle::write(&package.compile(&data).unwrap()).unwrap()).unwrap();
        assert_eq!(engine.hash(), bundle.hash);
        assert!(engine.hash().starts_with("sha256:"), "{}", engine.hash());
        let decide = |x: i64| {
            let request = engine.request_from_json(&format!(r#"{{"t": [{{"x": {x}}}]}}"#)).unwrap();
            engine.decide(&request).unwrap().outcome
        };
        assert_eq!(decide(1), gov_vm::Outcome::Deny);
        assert_eq!(decide(2), gov_vm::Outcome::Allow);
    }

    #[test]
    fn a_package_engine_fails_on_data_that_does_not_fit_or_does_not_evaluate() {
        let package = package(
            "package p\ninput t(x: Int)\ndata big(x: Int)\nnext(y) :- big(x), y = x + 1.\ndeny d :- t(x), next(x).\n",
        );
        let wrong = data(r#"{"small": []}"#);
        assert!(matches!(package.engine(&wrong), Err(EngineError::Compile(CompileError::Data { .. }))));
        // `next` depends on data only: it is computed at load, where `x + 1` overflows.
        let overflowing = data(r#"{"big": [{"x": 9223372036854775807}]}"#);
        let error = package.engine(&overflowing).unwrap_err();
        assert!(
            matches!(&error, EngineError::Load(e) if matches!(e.kind, gov_vm::LoadErrorKind::Evaluation(_))),
            "{error:?}"
        );
        assert!(package.engine(&data(r#"{"big": [{"x": 1}]}"#)).is_ok());
    }

    #[test]
    fn data_added_to_a_loaded_engine_decides_as_if_compiled_with_it() {
        let package = package(
            "package p\ninput one call(agent: Str, tool: Str)\ndata agent(name: Str, tools: [Str])\nallow known :- call(agent: a, tool: t), agent(name: a, tools: ts), t in ts.\n",
        );
        let program = package.compile(&data(r#"{"agent": [{"name": "builder", "tools": ["git"]}]}"#)).unwrap();
        let engine = engine::load(&program).unwrap();
        let more = engine.more_data(&data(r#"{"agent": [{"name": "reader", "tools": ["cat"]}]}"#)).unwrap();
        // Each list keeps its own elements: the added one is numbered after the program's.
        let decide = |agent: &str, tool: &str| {
            let request =
                engine.request_with(&more, &format!(r#"{{"call": [{{"agent": "{agent}", "tool": "{tool}"}}]}}"#));
            engine.decide_with(&more, &request.unwrap()).unwrap().outcome
        };
        assert_eq!(decide("builder", "git"), gov_vm::Outcome::Allow);
        assert_eq!(decide("reader", "cat"), gov_vm::Outcome::Allow);
        assert_eq!(decide("builder", "cat"), gov_vm::Outcome::Deny);
        assert_eq!(decide("reader", "git"), gov_vm::Outcome::Deny);
        // The engine alone does not have the added data, and refuses a request read with it.
        let alone = engine.request_from_json(r#"{"call": [{"agent": "reader", "tool": "cat"}]}"#).unwrap();
        assert_eq!(engine.decide(&alone).unwrap().outcome, gov_vm::Outcome::Deny);
        let with = engine.request_with(&more, r#"{"call": [{"agent": "reader", "tool": "cat"}]}"#).unwrap();
        assert!(matches!(engine.decide(&with), Err(gov_vm::EvalError::Request(_))));
        assert!(matches!(engine.decide_with(&more, &alone), Err(gov_vm::EvalError::Request(_))));
        // Data made by another engine is refused, never decided with that engine's symbols.
        let other = engine::load(&program).unwrap();
        assert!(matches!(other.decide_with(&more, &with), Err(gov_vm::EvalError::Request(_))));
        assert!(other.request_with(&more, "{}").is_err());
    }

    #[test]
    fn data_added_to_a_loaded_engine_is_read_and_evaluated_as_a_data_file() {
        let package = package(
            "package p\ninput t(x: Int)\ndata big(x: Int)\nnext(y) :- big(x), y = x + 1.\ndeny d :- t(x), next(x).\n",
        );
        let engine = package.engine(&[]).unwrap();
        let wrong = [("<witness data>".to_owned(), gov_vm::json::parse_document(r#"{"big": [{"x": "1"}]}"#).unwrap())];
        match engine.more_data(&wrong) {
            Err(gov_vm::MoreDataError::Data { document, error }) => {
                assert_eq!((document.as_str(), error.path.as_str()), ("<witness data>", "big[0].x"));
            }
            other => panic!("{other:?}"),
        }
        let unknown = data(r#"{"t": [{"x": 1}]}"#);
        assert!(matches!(engine.more_data(&unknown), Err(gov_vm::MoreDataError::Data { .. })));
        // `next` depends on data only: it is evaluated again with the facts, where `x + 1` overflows.
        let overflowing = data(r#"{"big": [{"x": 9223372036854775807}]}"#);
        let error = engine.more_data(&overflowing).unwrap_err();
        assert!(matches!(&error, gov_vm::MoreDataError::Eval(gov_vm::EvalError::Arithmetic(_))), "{error:?}");
        let more = engine.more_data(&data(r#"{"big": [{"x": 1}]}"#)).unwrap();
        let request = engine.request_with(&more, r#"{"t": [{"x": 2}]}"#).unwrap();
        assert_eq!(engine.decide_with(&more, &request).unwrap().outcome, gov_vm::Outcome::Deny);
    }

    #[test]
    fn a_directory_without_sources_is_an_unusable_package() {
        let dir = scratch("empty");
        let errors = Package::load(&Disk, &dir).unwrap().errors().unwrap();
        assert!(errors.unusable);
        assert_eq!(errors.diagnostics.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Opening a FIFO blocks until a writer comes; the disk refuses it before opening.
    #[cfg(unix)]
    #[test]
    fn fifos_are_refused_not_opened() {
        let dir = scratch("fifo");
        let pipe = dir.join("pipe.data.json");
        assert!(std::process::Command::new("mkfifo").arg(&pipe).status().unwrap().success());
        assert_eq!(Disk.kind(&pipe).unwrap(), Kind::Fifo);
        assert!(Disk.read(&pipe, 10).is_err());
        let message = walk::list(&Disk, &dir).unwrap_err();
        assert!(message.ends_with("pipe.data.json` is a FIFO: govc reads only regular files"), "{message}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
