//! The analysis's findings in the editor: conflicts, stale overrides and whatever else
//! `gov_driver::analysis::check` confirms (what `govc check` reports), after a pause in
//! typing.
//!
//! Every edit to a package bumps the package's generation and publishes the checker's
//! diagnostics at once, as before. A task then sleeps for the pause
//! ([`crate::state::Options::analysis_delay`]); if no edit came meanwhile and the package
//! checks without errors, it copies a [`Snapshot`] of the package out of the state and runs
//! the analysis on the blocking pool, away from the requests; if still no edit came when
//! it ends, it publishes the checker's diagnostics of that same version together with the
//! findings. A stale run is thus never started, or its result dropped.

use crate::diagnostics::{self, Files};
use crate::snapshot::Snapshot;
use crate::state::State;
use gov_db::Workspace;
use gov_diag::{FileId, Severity, Span};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, Uri};

/// The pause in typing after which the analysis runs, unless `initializationOptions`
/// say otherwise (`analysisDelayMs`).
pub const DEFAULT_DELAY: Duration = Duration::from_millis(750);

/// How many edits each package has seen: a run is current while its generation is.
#[derive(Debug, Default)]
pub struct Generations(HashMap<String, u64>);

impl Generations {
    /// Records an edit to `package`; returns its new generation.
    pub fn bump(&mut self, package: &str) -> u64 {
        let generation = self.0.entry(package.to_owned()).or_default();
        *generation += 1;
        *generation
    }

    /// Whether no edit to `package` came after generation `generation`.
    pub fn current(&self, package: &str, generation: u64) -> bool {
        self.0.get(package) == Some(&generation)
    }
}

/// One analysis run, copied out of the state.
pub struct Job {
    /// The package, as it was when the run was decided.
    snapshot: Snapshot,
    /// The URIs of the package's files by workspace path.
    uris: HashMap<String, Uri>,
    /// Where diagnostic codes are documented.
    docs: Option<String>,
}

/// The run for generation `generation` of `package`, if it is still current and the
/// package checks without errors.
pub fn job(state: &mut State, package: &str, generation: u64) -> Option<Job> {
    if !state.generations.current(package, generation) {
        return None;
    }
    let docs = state.docs_url(package);
    let pkg = state.packages.get(package)?;
    let checked = state.workspace.check(pkg.id)?;
    if checked.diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        return None;
    }
    let mut files = Vec::new();
    let mut uris = HashMap::new();
    for key in &pkg.files {
        let text = state.workspace.file_id(key).and_then(|id| state.workspace.file(id)).map(|(_, text)| text);
        if let (Some(uri), Some(text)) = (state.uris.get(key), text) {
            uris.insert(key.clone(), uri.clone());
            files.push((key.clone(), text.to_owned()));
        }
    }
    Some(Job { snapshot: Snapshot::new(state, package, files), uris, docs })
}

/// The files of a package loaded for a run, as the client names them.
struct Loaded<'a> {
    workspace: &'a Workspace,
    uris: &'a HashMap<String, Uri>,
}

impl Files for Loaded<'_> {
    fn uri_of(&self, id: FileId) -> Option<Uri> {
        self.workspace.file(id).and_then(|(path, _)| self.uris.get(path).cloned())
    }

    fn range_of(&self, span: Span) -> Option<lsp::Range> {
        let (_, text) = self.workspace.file(span.file)?;
        let lines = self.workspace.line_index(span.file)?;
        Some(crate::state::range(&lines, text, span.start, span.end))
    }
}

impl Job {
    /// Loads the package and runs the analysis (blocking): its findings by file.
    pub fn run(&self) -> Vec<(Uri, lsp::Diagnostic)> {
        let files = self.snapshot.files();
        let Ok(package) = self.snapshot.load(&files) else { return Vec::new() };
        let (workspace, sources) = (package.workspace(), package.sources());
        // The driver's one entry point for the analysis's diagnostics, as `govc check`.
        let found = gov_driver::analysis::check(&files, workspace, package.id(), &sources, package.data_files());
        let loaded = Loaded { workspace, uris: &self.uris };
        let symbols = &package.checked().symbols;
        found
            .iter()
            .filter_map(|d| {
                let uri = loaded.uri_of(d.primary.span.file)?;
                Some((uri, diagnostics::convert(&loaded, d, self.docs.as_deref(), symbols)?))
            })
            .collect()
    }
}

/// Locks the state, whatever a panic left in it (as [`crate::Backend`] does).
fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// After `delay`, runs the analysis of generation `generation` of `package` and publishes
/// its findings with the checker's diagnostics, unless an edit came meanwhile (see the
/// module's documentation). Publishes nothing when there are no findings: the checker's
/// diagnostics of this version are already published.
pub async fn after_pause(client: Client, state: Arc<Mutex<State>>, package: String, generation: u64, delay: Duration) {
    tokio::time::sleep(delay).await;
    let job = {
        let mut state = lock(&state);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut state, &package, generation)))
    };
    let Ok(Some(job)) = job else { return };
    // A panic in the run ends the run, not the server.
    let Ok(found) = tokio::task::spawn_blocking(move || job.run()).await else { return };
    if found.is_empty() {
        return;
    }
    let published = {
        let mut state = lock(&state);
        if !state.generations.current(&package, generation) {
            return;
        }
        let merged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut out = diagnostics::package_diagnostics(&mut state, &package);
            for (uri, diagnostic) in found {
                if let Some((_, list, _)) = out.iter_mut().find(|(u, _, _)| *u == uri) {
                    list.push(diagnostic);
                }
            }
            out
        }));
        merged.unwrap_or_default()
    };
    for (uri, diagnostics, version) in published {
        client.publish_diagnostics(uri, diagnostics, version).await;
    }
}
