//! "Run test" code lenses and the command behind them, which runs one test in-process
//! with `gov-test` (the library behind `govc test`).

use crate::analysis::Ctx;
use crate::snapshot::Snapshot;
use crate::state::{State, key_of};
use gov_diag::Span;
use gov_syntax::ast::ItemKind;
use serde_json::{Value, json};
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
    // An unsaved document is a package alone.
    let snapshot = Snapshot::new(state, &ctx.package, vec![(key_of(uri), ctx.text.to_owned())]);
    let files = snapshot.files();
    let package = snapshot.load(&files)?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::sync::mpsc;
    use std::time::Duration;

    /// A package (`p.gov`) and a data file beside it that does not fit it.
    const PACKAGE_WITH_DATA: (&str, &str) = (
        "package p\ninput t(x: Int)\ndata big(x: Int)\ndeny d :- t(x), big(x).\n\
         test \"blocked\" {\n    given t(1).\n          big(1).\n    expect deny d\n}\n",
        "{\"nothing\": [{\"x\": 1}]}",
    );

    /// Opens `file` in a fresh server state and runs each of `tests` through the lens.
    fn run_all(file: &Path, tests: &[&str]) -> Vec<Result<Ran, String>> {
        let mut state = State::default();
        let uri = Uri::from_file_path(file).unwrap();
        state.open(uri.clone(), 1, std::fs::read_to_string(file).unwrap());
        tests.iter().map(|name| run_test(&state, &uri, name)).collect()
    }

    /// A fresh scratch directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gov-lsp-lens-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A package whose data file does not match its declarations: `govc test` ignores the
    /// package's data (tests bring their own) and runs the test, which passes
    /// (crates/govc/tests/packages.rs, `govc_test_ignores_the_package_data_files`, runs the
    /// same package). The lens must agree rather than refuse to compile.
    #[test]
    fn the_lens_agrees_with_govc_test_on_a_package_with_data_files() {
        let dir = scratch("data");
        std::fs::write(dir.join("p.gov"), PACKAGE_WITH_DATA.0).unwrap();
        std::fs::write(dir.join("stray.data.json"), PACKAGE_WITH_DATA.1).unwrap();
        let ran = run_all(&dir.join("p.gov"), &["blocked"]).into_iter().next().unwrap();
        let ran = ran.unwrap();
        assert!(ran.passed, "{}", ran.summary);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A `with data` fixture that is a FIFO is an error of the test, as in `govc test`, not
    /// a read that blocks the server forever.
    #[cfg(unix)]
    #[test]
    fn the_lens_refuses_a_fifo_fixture_without_hanging() {
        let dir = scratch("fifo");
        let source = "package p\ninput t(x: Int)\ndata big(x: Int)\ndeny d :- t(x), big(x).\n\
                      test \"piped\" {\n    with data \"pipe.json\"\n    given t(1).\n    expect allow\n}\n";
        std::fs::write(dir.join("p.gov"), source).unwrap();
        let status = std::process::Command::new("mkfifo").arg(dir.join("pipe.json")).status().unwrap();
        assert!(status.success());
        let (send, receive) = mpsc::channel();
        let file = dir.join("p.gov");
        // On a thread, so that a hang fails the test instead of blocking it.
        std::thread::spawn(move || send.send(run_all(&file, &["piped"])));
        let ran = receive.recv_timeout(Duration::from_secs(60)).expect("the lens hangs on a FIFO");
        let ran = ran.into_iter().next().unwrap().unwrap();
        assert!(!ran.passed);
        assert!(ran.summary.contains("pipe.json` is a FIFO"), "{}", ran.summary);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
