//! The checker's input.

use gov_diag::FileId;
use gov_syntax::Parsed;
use std::sync::Arc;

/// Where a file comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// One of the package's own files.
    Package,
    /// A standard-library module, by its dotted name (`std.approvals`).
    Library(String),
}

/// One parsed file of the package or of a library module it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// The id its spans carry.
    pub id: FileId,
    /// Its syntax tree and syntax errors.
    pub parsed: Arc<Parsed>,
    /// Package file or library module.
    pub origin: Origin,
}

/// A package and the library modules available to it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedPackage {
    /// The package's files, then the library modules it (transitively) uses.
    pub files: Vec<PackageFile>,
    /// The dotted names of every library module that exists, for `use` resolution and
    /// did-you-mean.
    pub available_modules: Vec<String>,
}

impl ParsedPackage {
    /// Whether `file` is a library module.
    pub fn is_library(&self, file: FileId) -> bool {
        self.files.iter().any(|f| f.id == file && matches!(f.origin, Origin::Library(_)))
    }

    /// The library module `file` belongs to (`None` for the package's own files).
    pub fn module_of(&self, file: FileId) -> Option<&str> {
        self.files.iter().find(|f| f.id == file).and_then(|f| match &f.origin {
            Origin::Library(module) => Some(module.as_str()),
            Origin::Package => None,
        })
    }

    /// The package's own files.
    pub fn package_files(&self) -> impl Iterator<Item = &PackageFile> {
        self.files.iter().filter(|f| f.origin == Origin::Package)
    }
}
