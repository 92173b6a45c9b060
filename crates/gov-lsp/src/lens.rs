//! "Run test" code lenses and the command behind them, which runs one test in-process
//! with `gov-test` (the library behind `govc test`).

use crate::analysis::Ctx;
use crate::state::State;
use gov_diag::Span;
use gov_syntax::ast::ItemKind;
use gov_vm::json::Document;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
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

/// Runs the test `name` of the package of the open document `uri`.
pub fn run_test(state: &State, uri: &Uri, name: &str) -> Result<Ran, String> {
    let ctx = Ctx::new(state, uri).map_err(|e| e.message.into_owned())?;
    if ctx.checked.has_errors() {
        return Err(format!("test \"{name}\" cannot run: the package has errors"));
    }
    let sources = state.workspace.sources();
    let case = gov_test::collect(&ctx.program, &sources)
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("no test is named \"{name}\""))?;
    let dir = Path::new(&ctx.package);
    let data = if dir.is_absolute() && dir.is_dir() { read_data(dir)? } else { Vec::new() };
    let input = gov_compile::Input { program: &ctx.program, symbols: ctx.symbols(), sources: &sources, data: &data };
    let compiled = gov_compile::compile(&input).map_err(|e| format!("test \"{name}\" cannot run: {e}"))?;
    let base = Path::new(&case.file).parent().map(Path::to_path_buf).unwrap_or_default();
    let mut fixture = |path: &str| -> Result<Document, String> {
        let file = base.join(path);
        let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        gov_vm::json::parse_document(&text).map_err(|e| format!("{}: {e}", file.display()))
    };
    let result = gov_test::run(&compiled, ctx.symbols(), &case, &gov_vm::Limits::default(), &mut fixture);
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

/// The package's `*.data.json` files, parsed.
fn read_data(dir: &Path) -> Result<Vec<(String, Document)>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".data.json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
            let document = gov_vm::json::parse_document(&text).map_err(|e| format!("{shown}: {e}"))?;
            Ok((shown, document))
        })
        .collect()
}
