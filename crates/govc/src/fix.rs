//! `govc check --fix`: applies the checker's safe fixes to the files on disk.

use gov_db::Workspace;
use gov_diag::fix::{apply, non_overlapping};
use gov_diag::{Applicability, Diagnostic, Edit, FileId, Fix};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How many check-and-fix rounds to run at most: a fix can uncover another (removing a use
/// can make a declaration unused), but a chain longer than this means fixes undo each other.
const MAX_PASSES: usize = 10;

/// What `--fix` changed.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per applied fix: `file:line:col: what (code)`, located in the text as it was.
    pub applied: Vec<String>,
}

/// The diagnostics of every package in the workspace.
pub fn diagnostics(workspace: &Workspace) -> Vec<Diagnostic> {
    workspace.packages().filter_map(|p| workspace.check(p)).flat_map(|c| c.diagnostics.clone()).collect()
}

/// Applies every safe fix of the workspace's packages, writing each changed file and
/// rechecking, until no safe fix is left. Only files of the packages are edited (never a
/// library module); a fix that would edit anything else is left alone.
pub fn run(workspace: &mut Workspace) -> Result<Report, String> {
    let mut report = Report::default();
    for _ in 0..MAX_PASSES {
        let diagnostics = diagnostics(workspace);
        let sources = workspace.sources();
        let mut editable: HashMap<FileId, bool> = HashMap::new();
        let mut is_editable = |edit: &Edit| {
            let file = edit.span.file;
            *editable
                .entry(file)
                .or_insert_with(|| workspace.file(file).is_some_and(|(path, _)| workspace.package_of(path).is_some()))
        };
        let safe: Vec<(&Diagnostic, &Fix)> = diagnostics
            .iter()
            .flat_map(|d| d.fixes.iter().map(move |f| (d, f)))
            .filter(|(_, f)| f.applicability == Applicability::Safe && f.edits.iter().all(&mut is_editable))
            .collect();
        let (taken, _) = non_overlapping(safe.iter().map(|(_, f)| *f));
        if taken.is_empty() {
            break;
        }
        let mut by_file: BTreeMap<FileId, Vec<&Edit>> = BTreeMap::new();
        for fix in &taken {
            for edit in &fix.edits {
                by_file.entry(edit.span.file).or_default().push(edit);
            }
        }
        let mut changed = Vec::new();
        for (file, edits) in by_file {
            let Some((path, text)) = workspace.file(file) else { continue };
            // The edits were made against this very text and do not overlap, so this only
            // fails if the checker made a fix outside its file: report it, change nothing.
            let fixed = apply(text, &edits).ok_or_else(|| format!("a fix does not apply to `{path}`"))?;
            changed.push((path.to_owned(), fixed));
        }
        for (path, text) in changed {
            std::fs::write(&path, &text).map_err(|e| format!("cannot write `{path}`: {e}"))?;
            workspace.set_text(&path, text);
        }
        let taken: HashSet<*const Fix> = taken.into_iter().map(std::ptr::from_ref).collect();
        for (diagnostic, fix) in &safe {
            if taken.contains(&std::ptr::from_ref(*fix)) {
                let at = sources.location(diagnostic.primary.span);
                report.applied.push(format!("{at}: {} ({})", fix.message, diagnostic.code.id));
            }
        }
    }
    Ok(report)
}
