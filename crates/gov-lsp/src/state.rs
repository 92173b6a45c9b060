//! The server's state: the salsa workspace, the open documents and the packages they
//! belong to. The disk is read here, through `gov_driver` (the same listing as the
//! command line's).

use crate::findings::Generations;
use gov_db::{PackageId, Workspace};
use gov_diag::{FileId, LineIndex};
use gov_driver::fs::{Disk, Overlay};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

/// An open document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its URI as the client named it.
    pub uri: Uri,
    /// The client's version of the text.
    pub version: i32,
    /// The text (the client's, which overrides the disk).
    pub text: String,
    /// The text's line starts, kept up to date edit by edit (`LineIndex::edit`), so that a
    /// keystroke does not re-read the whole text to find its lines.
    pub lines: Arc<LineIndex>,
}

/// A package: the `.gov` files of one directory (or one unsaved document alone).
#[derive(Debug, Clone)]
pub struct Package {
    /// Its id in the workspace.
    pub id: PackageId,
    /// Its files' keys (workspace paths), sorted.
    pub files: Vec<String>,
}

/// Settings from `initializationOptions`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where diagnostic codes are documented (`…/diagnostics.md`); an anchor `#e0101` is
    /// appended. Without it the server looks for `docs/diagnostics.md` above the file.
    pub docs_url: Option<String>,
    /// Whether the client accepts snippets in completions.
    pub snippets: bool,
    /// Whether the client applies workspace edits that create files.
    pub create_files: bool,
    /// The pause in typing after which the analysis runs (`analysisDelayMs`); `None` for
    /// [`crate::findings::DEFAULT_DELAY`].
    pub analysis_delay: Option<std::time::Duration>,
}

/// Everything the server knows.
pub struct State {
    /// The salsa database, shared design with `govc check`.
    pub workspace: Workspace,
    /// Open documents by key.
    pub documents: HashMap<String, Document>,
    /// Packages by directory key.
    pub packages: BTreeMap<String, Package>,
    /// The URI of every file key the server has loaded.
    pub uris: HashMap<String, Uri>,
    /// Settings.
    pub options: Options,
    /// `docs/diagnostics.md` found above a directory, by directory (memoised).
    pub docs_cache: HashMap<PathBuf, Option<String>>,
    /// The edits each package has seen, for the analysis after a pause.
    pub generations: Generations,
}

impl Default for State {
    fn default() -> Self {
        State {
            workspace: Workspace::new(),
            documents: HashMap::new(),
            packages: BTreeMap::new(),
            uris: HashMap::new(),
            options: Options::default(),
            docs_cache: HashMap::new(),
            generations: Generations::default(),
        }
    }
}

/// The key of a document: its file path for `file:` URIs, else the URI itself.
pub fn key_of(uri: &Uri) -> String {
    file_path(uri).map_or_else(|| uri.as_str().to_owned(), |p| p.to_string_lossy().into_owned())
}

/// The file path of a `file:` URI.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    let is_file = uri.scheme().as_str().eq_ignore_ascii_case("file");
    if !is_file {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

/// The package key of a document key: its directory for files, itself otherwise.
fn package_key(key: &str, uri: &Uri) -> String {
    match file_path(uri).as_deref().and_then(Path::parent) {
        Some(dir) => dir.to_string_lossy().into_owned(),
        None => key.to_owned(),
    }
}

impl State {
    /// Opens (or re-opens) a document; returns the package key it belongs to.
    pub fn open(&mut self, uri: Uri, version: i32, text: String) -> String {
        let key = key_of(&uri);
        self.uris.insert(key.clone(), uri.clone());
        let package = package_key(&key, &uri);
        let lines = Arc::new(LineIndex::new(&text));
        self.documents.insert(key, Document { uri, version, text, lines });
        self.load_package(&package);
        package
    }

    /// Applies edits to an open document; returns its package key, or `None` if the
    /// document is not open.
    pub fn change(&mut self, uri: &Uri, version: i32, changes: Vec<TextDocumentContentChangeEvent>) -> Option<String> {
        let key = key_of(uri);
        let document = self.documents.get_mut(&key)?;
        for change in changes {
            match change.range {
                None => {
                    document.text = change.text;
                    document.lines = Arc::new(LineIndex::new(&document.text));
                }
                Some(range) => {
                    let start = offset(&document.lines, &document.text, range.start);
                    let end = offset(&document.lines, &document.text, range.end).max(start);
                    let (from, to) = (start as usize, end as usize);
                    if document.text.is_char_boundary(from) && document.text.is_char_boundary(to) {
                        document.text.replace_range(from..to, &change.text);
                        Arc::make_mut(&mut document.lines).edit(start, end, &change.text);
                    }
                }
            }
        }
        document.version = version;
        let text = document.text.clone();
        let package = package_key(&key, uri);
        if !self.workspace.set_text(&key, text) {
            self.load_package(&package);
        }
        Some(package)
    }

    /// Closes a document: its text reverts to the disk's. Returns its package key.
    pub fn close(&mut self, uri: &Uri) -> String {
        let key = key_of(uri);
        self.documents.remove(&key);
        let package = package_key(&key, uri);
        self.load_package(&package);
        package
    }

    /// Re-reads the package containing `uri` from disk (after a save or a change on disk).
    /// Returns its key if the server has that package.
    pub fn reload(&mut self, uri: &Uri) -> Option<String> {
        let key = key_of(uri);
        let package = package_key(&key, uri);
        if self.packages.contains_key(&package) {
            self.load_package(&package);
            Some(package)
        } else {
            None
        }
    }

    /// (Re)builds a package from its directory and the open documents in it: the
    /// directory's sources as `govc check DIR` finds them (`gov_driver::load`), read through
    /// an [`Overlay`] of the open documents, so an unsaved text counts and an unsaved new
    /// file joins its directory's package.
    pub fn load_package(&mut self, package: &str) {
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        let dir = Path::new(package);
        if dir.is_absolute() {
            let open = self.documents.values().filter_map(|d| Some((file_path(&d.uri)?, d.text.clone())));
            let overlay = Overlay::new(&Disk, open);
            // A directory that cannot be listed or read holds only its open documents.
            let loaded = gov_driver::load::package(&overlay, dir).map(|l| l.files).unwrap_or_default();
            for (key, text) in loaded {
                if let (false, Some(uri)) = (self.uris.contains_key(&key), Uri::from_file_path(Path::new(&key))) {
                    self.uris.insert(key.clone(), uri);
                }
                files.insert(key, text);
            }
        }
        for (key, document) in &self.documents {
            if package_key(key, &document.uri) == package {
                files.insert(key.clone(), document.text.clone());
            }
        }
        let keys: Vec<String> = files.keys().cloned().collect();
        let files: Vec<(String, String)> = files.into_iter().collect();
        match self.packages.get_mut(package) {
            Some(existing) => {
                self.workspace.set_files(existing.id, files);
                existing.files = keys;
            }
            None => {
                let id = self.workspace.add_package(files);
                self.packages.insert(package.to_owned(), Package { id, files: keys });
            }
        }
    }

    /// The package of an open document.
    pub fn package_of_document(&self, uri: &Uri) -> Option<(&str, &Package)> {
        let key = key_of(uri);
        let document = self.documents.get(&key)?;
        let package = package_key(&key, &document.uri);
        self.packages.get_key_value(&package).map(|(k, p)| (k.as_str(), p))
    }

    /// The URI of file `id`, if it is a package file the server loaded (not a library
    /// module).
    pub fn uri_of(&self, id: FileId) -> Option<Uri> {
        let (path, _) = self.workspace.file(id)?;
        self.uris.get(path).cloned()
    }

    /// The text of file `id`.
    pub fn text_of(&self, id: FileId) -> Option<&str> {
        self.workspace.file(id).map(|(_, text)| text)
    }

    /// The line index of file `id`: an open document's own, else salsa's (memoised).
    // Invariant: an open document's text is its file's text in the workspace (`open` and
    // `change` set it; a package load reads open documents through the overlay), so the
    // document's index is the file's.
    pub fn lines_of(&self, id: FileId) -> Option<Arc<LineIndex>> {
        let (path, _) = self.workspace.file(id)?;
        match self.documents.get(path) {
            Some(document) => Some(Arc::clone(&document.lines)),
            None => self.workspace.line_index(id),
        }
    }

    /// The LSP range of a span of any file.
    pub fn range_of(&self, span: gov_diag::Span) -> Option<Range> {
        let text = self.text_of(span.file)?;
        let lines = self.lines_of(span.file)?;
        Some(range(&lines, text, span.start, span.end))
    }

    /// Where diagnostic codes of files in `package` are documented.
    pub fn docs_url(&mut self, package: &str) -> Option<String> {
        if let Some(url) = &self.options.docs_url {
            return Some(url.clone());
        }
        let dir = PathBuf::from(package);
        if let Some(found) = self.docs_cache.get(&dir) {
            return found.clone();
        }
        let found = dir
            .is_absolute()
            .then(|| dir.ancestors().map(|a| a.join("docs").join("diagnostics.md")).find(|p| p.is_file()))
            .flatten()
            .and_then(Uri::from_file_path)
            .map(|uri| uri.as_str().to_owned());
        self.docs_cache.insert(dir, found.clone());
        found
    }
}

/// The byte offset of an LSP position in `text`.
pub fn offset(lines: &LineIndex, text: &str, position: Position) -> u32 {
    lines.offset_of_utf16(text, position.line as usize, position.character)
}

/// The LSP range of bytes `start..end` of `text`.
pub fn range(lines: &LineIndex, text: &str, start: u32, end: u32) -> Range {
    let (l1, c1) = lines.utf16_position(text, start);
    let (l2, c2) = lines.utf16_position(text, end);
    Range { start: Position { line: l1, character: c1 }, end: Position { line: l2, character: c2 } }
}
