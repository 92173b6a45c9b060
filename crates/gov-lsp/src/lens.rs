//! "Run test" code lenses and the command behind them, which runs one test in-process
//! with `gov-test` (the library behind `govc test`).

use crate::analysis::Ctx;
use crate::state::{State, file_path, key_of};
use gov_diag::Span;
use gov_driver::Package;
use gov_driver::fs::{Disk, FileSystem, Kind, Overlay};
use gov_syntax::ast::ItemKind;
use serde_json::{Value, json};
use std::path::Path;
use tower_lsp_server::ls_types::{CodeLens, Command, Uri};

/// The command a lens runs: arguments are the document's URI and the test's name.
pub const RUN_TEST: &str = "gov.runTest";

/// A lens above each test block.
pub fn lenses(ctx: &Ctx<'_>) -> Vec<CodeLens> {
    ctx.parsed
        .file
        .items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Test(test) => Some(CodeLens {
                range: ctx.range(Span::new(ctx.file, item.span.start, test.name.span.end)),
                command: Some(Command {
                    title: "▶ Run test".to_owned(),
                    command: RUN_TEST.to_owned(),
                    arguments: Some(vec![json!(ctx.uri.as_str()), json!(test.name.value)]),
                }),
                data: None,
            }),
            _ => None,
        })
        .collect()
}

/// The outcome of running a test: a one-line summary, whether it passed, and the result
/// as `govc test --format json` reports it.
#[derive(Debug, Clone)]
pub struct Ran {
    /// For `window/showMessage`.
    pub summary: String,
    /// Whether the test passed.
    pub passed: bool,
    /// The detailed result.
    pub result: Value,
}

/// Runs the test `name` of the package of the open document `uri` exactly as `govc test`
/// would (through `gov_driver`: the same files, no package data, fixtures read only if they
/// are regular files), with the open documents' texts in place of the disk's.
pub fn run_test(state: &State, uri: &Uri, name: &str) -> Result<Ran, String> {
    let ctx = Ctx::new(state, uri).map_err(|e| e.message.into_owned())?;
    let open = state.documents.values().filter_map(|d| Some((file_path(&d.uri)?, d.text.clone())));
    let files = Overlay::new(&Disk, open);
    let dir = Path::new(&ctx.package);
    let package = if dir.is_absolute() && files.kind(dir).is_ok_and(|k| k == Kind::Dir) {
        Package::load(&files, dir)?
    } else {
        // An unsaved document is a package alone.
        let text = ctx.text.to_owned();
        Package::from_sources(vec![(key_of(uri), text)]).ok_or_else(|| format!("test \"{name}\" cannot run"))?
    };
    if package.errors().is_some() {
        return Err(format!("test \"{name}\" cannot run: the package has errors"));
    }
    let sources = package.sources();
    let case = gov_test::collect(package.program(), &sources)
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("no test is named \"{name}\""))?;
    // The tests bring their own data: the package's data files are not read.
    let compiled = package.compile(&[]).map_err(|e| format!("test \"{name}\" cannot run: {e}"))?;
    let mut fixture = |written: &str| gov_driver::read_fixture(&files, &gov_driver::fixture_path(&case.file, written));
    let result = gov_test::run(&compiled, &package.checked().symbols, &case, &gov_vm::Limits::default(), &mut fixture);
    let passed = result.status == gov_test::Status::Passed;
    let mut summary =
        format!("test \"{name}\" {} ({:.1} ms)", result.status.name(), result.duration.as_secs_f64() * 1000.0);
    if let Some(error) = &result.error {
        summary.push_str(&format!(": {error}"));
    }
    for failure in &result.failures {
        summary.push_str(&format!("\n`{}` expected {}, got {}", failure.expectation, failure.expected, failure.actual));
    }
    Ok(Ran { summary, passed, result: result.to_json() })
}
