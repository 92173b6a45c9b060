//! A convenient owner of the database for the CLI and the language server.

use crate::editor::{FileTokens, file_names, file_tokens, line_index};
use crate::names::FileIndex;
use crate::queries::{Database, PackageInput, SourceInput, check_package, package_ir, parse_file, parsed_package};
use crate::stdlib::STDLIB;
use gov_check::{Checked, LowerError};
use gov_diag::{FileId, LineIndex, Sources};
use gov_ir::Ir;
use gov_syntax::Parsed;
use salsa::Setter;
use std::sync::Arc;

/// Identifies a package within a [`Workspace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackageId(usize);

/// Packages under check or edit, sharing one database, one file-id space and the
/// standard library.
pub struct Workspace {
    db: Database,
    /// Every file ever added, indexed by `FileId`.
    // Invariant: `sources[i].id(db) == FileId(i)`.
    sources: Vec<SourceInput>,
    modules: Vec<(String, SourceInput)>,
    packages: Vec<PackageInput>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new()
    }
}

impl Workspace {
    /// A workspace with the standard library and no package files.
    pub fn new() -> Workspace {
        Workspace::with_database(Database::default())
    }

    /// A workspace over `db` (a recording one in the tests), with the standard library.
    fn with_database(db: Database) -> Workspace {
        let mut sources = Vec::new();
        let mut modules = Vec::new();
        for module in STDLIB {
            let file = Self::new_source(&db, &mut sources, module.path.to_owned(), module.text.to_owned());
            modules.push((module.name.to_owned(), file));
        }
        Workspace { db, sources, modules, packages: Vec::new() }
    }

    fn new_source(db: &Database, sources: &mut Vec<SourceInput>, path: String, text: String) -> SourceInput {
        let id = FileId(u32::try_from(sources.len()).unwrap_or(u32::MAX));
        let file = SourceInput::new(db, id, path, text);
        sources.push(file);
        file
    }

    /// Adds a package made of `files` (path, text).
    pub fn add_package(&mut self, files: Vec<(String, String)>) -> PackageId {
        let package = PackageInput::new(&self.db, Vec::new(), self.modules.clone());
        self.packages.push(package);
        let id = PackageId(self.packages.len() - 1);
        self.set_files(id, files);
        id
    }

    /// Every package, in the order added.
    pub fn packages(&self) -> impl Iterator<Item = PackageId> + use<> {
        (0..self.packages.len()).map(PackageId)
    }

    /// Replaces a package's files with `files` (path, text), reusing the inputs of paths
    /// already known so their parses stay memoised.
    pub fn set_files(&mut self, package: PackageId, files: Vec<(String, String)>) {
        let Some(&input) = self.packages.get(package.0) else { return };
        let mut package_files = Vec::with_capacity(files.len());
        for (path, text) in files {
            let file = match self.find(&path) {
                Some(file) => {
                    if file.text(&self.db) != &text {
                        file.set_text(&mut self.db).to(text);
                    }
                    file
                }
                None => Self::new_source(&self.db, &mut self.sources, path, text),
            };
            package_files.push(file);
        }
        // Only a real change of the list is an edit: `parsed_package` is not compared with
        // its last value, so setting the same list again would re-check the package.
        if *input.files(&self.db) != package_files {
            input.set_files(&mut self.db).to(package_files);
        }
    }

    /// Changes the text of the file at `path`; returns `false` if there is none.
    pub fn set_text(&mut self, path: &str, text: String) -> bool {
        match self.find(path) {
            Some(file) => {
                file.set_text(&mut self.db).to(text);
                true
            }
            None => false,
        }
    }

    fn find(&self, path: &str) -> Option<SourceInput> {
        self.sources.iter().copied().find(|f| f.path(&self.db) == path)
    }

    /// Checks a package (incrementally).
    // Not inlined: a keystroke's cost is measured between this function's calls, by name
    // (callgrind's `--toggle-collect`, docs/performance.md), which LTO would inline away.
    #[inline(never)]
    pub fn check(&self, package: PackageId) -> Option<Arc<Checked>> {
        self.packages.get(package.0).map(|&p| check_package(&self.db, p))
    }

    /// A package's IR, for the back ends (lowered on the first call after a change; `Err`
    /// if the package has errors).
    pub fn ir(&self, package: PackageId) -> Option<Result<Arc<Ir>, LowerError>> {
        self.packages.get(package.0).map(|&p| package_ir(&self.db, p))
    }

    /// A package's parsed files and the library modules it uses, as the checker saw them.
    pub fn program(&self, package: PackageId) -> Option<Arc<gov_check::ParsedPackage>> {
        self.packages.get(package.0).map(|&p| parsed_package(&self.db, p))
    }

    /// The package whose files include `path`.
    pub fn package_of(&self, path: &str) -> Option<PackageId> {
        self.packages.iter().position(|p| p.files(&self.db).iter().any(|f| f.path(&self.db) == path)).map(PackageId)
    }

    /// The parse of the file at `path`.
    pub fn parsed(&self, path: &str) -> Option<Arc<Parsed>> {
        self.find(path).map(|f| parse_file(&self.db, f))
    }

    /// The id of the file at `path`.
    pub fn file_id(&self, path: &str) -> Option<FileId> {
        self.find(path).map(|f| f.id(&self.db))
    }

    /// The path and text of file `id`.
    pub fn file(&self, id: FileId) -> Option<(&str, &str)> {
        let file = self.source(id)?;
        Some((file.path(&self.db).as_str(), file.text(&self.db).as_str()))
    }

    fn source(&self, id: FileId) -> Option<SourceInput> {
        self.sources.get(id.0 as usize).copied()
    }

    /// The line index of file `id` (memoised).
    pub fn line_index(&self, id: FileId) -> Option<Arc<LineIndex>> {
        self.source(id).map(|f| line_index(&self.db, f))
    }

    /// The tokens and items of file `id` (memoised).
    pub fn tokens(&self, id: FileId) -> Option<Arc<FileTokens>> {
        self.source(id).map(|f| file_tokens(&self.db, f))
    }

    /// The names of file `id` (memoised).
    pub fn names(&self, id: FileId) -> Option<Arc<FileIndex>> {
        self.source(id).map(|f| file_names(&self.db, f))
    }

    /// Every file, for rendering diagnostics.
    pub fn sources(&self) -> Sources {
        let mut sources = Sources::new();
        for file in &self.sources {
            sources.add(file.path(&self.db).clone(), file.text(&self.db).clone());
        }
        sources
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn setting_the_same_files_again_re_runs_nothing() {
        let (db, log) = Database::recording();
        let mut workspace = Workspace::with_database(db);
        let files = || vec![("p.gov".to_owned(), "package p\ninput a(x: Int)\nallow b :- a(1).\n".to_owned())];
        let package = workspace.add_package(files());
        assert!(workspace.check(package).is_some_and(|c| c.diagnostics.is_empty()));
        log.lock().unwrap().clear();
        // The language server sets a package's files again when a file of it is saved or
        // re-read; with nothing changed, the package is neither re-assembled nor re-checked.
        workspace.set_files(package, files());
        workspace.check(package);
        assert_eq!(*log.lock().unwrap(), Vec::<String>::new());
        // A changed list is an edit.
        let mut more = files();
        more.push(("q.gov".to_owned(), "package p\nallow c :- a(2).\n".to_owned()));
        workspace.set_files(package, more);
        workspace.check(package);
        assert!(log.lock().unwrap().iter().any(|q| q == "check_package"));
    }
}
