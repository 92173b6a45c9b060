//! Salsa inputs and queries.

use gov_check::{Checked, LowerError, Origin, PackageFile, ParsedPackage};
use gov_diag::FileId;
use gov_ir::Ir;
use gov_syntax::Parsed;
use gov_syntax::ast::ItemKind;
use std::collections::HashSet;
use std::sync::Arc;

/// The database.
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Database {}

#[cfg(test)]
impl Database {
    /// A database that calls `callback` on every salsa event (the tests record which
    /// queries run).
    pub(crate) fn with_events(callback: Box<dyn Fn(salsa::Event) + Send + Sync + 'static>) -> Database {
        Database { storage: salsa::Storage::new(Some(callback)) }
    }
}

/// One source file.
#[salsa::input(debug)]
pub struct SourceInput {
    /// The id its spans carry; unique within a [`crate::Workspace`].
    #[returns(copy)]
    pub id: FileId,
    /// The path shown in diagnostics.
    #[returns(ref)]
    pub path: String,
    /// The file's text.
    #[returns(ref)]
    pub text: String,
}

/// A package: its files and the library modules it may use.
#[salsa::input(debug)]
pub struct PackageInput {
    /// The package's own files.
    #[returns(ref)]
    pub files: Vec<SourceInput>,
    /// Library modules by dotted name.
    #[returns(ref)]
    pub modules: Vec<(String, SourceInput)>,
}

/// Parses one file (memoised: re-run only when its text changes).
#[salsa::tracked(returns(clone))]
pub fn parse_file(db: &dyn salsa::Database, file: SourceInput) -> Arc<Parsed> {
    Arc::new(gov_syntax::parse(file.id(db), file.text(db)))
}

/// The package's files with the library modules it uses, directly or through other
/// modules, parsed.
#[salsa::tracked(returns(clone))]
pub fn parsed_package(db: &dyn salsa::Database, package: PackageInput) -> Arc<ParsedPackage> {
    let mut files: Vec<PackageFile> = package
        .files(db)
        .iter()
        .map(|&f| PackageFile { id: f.id(db), parsed: parse_file(db, f), origin: Origin::Package })
        .collect();
    let modules = package.modules(db);
    let mut included: HashSet<&str> = HashSet::new();
    let mut next = 0;
    while let Some(file) = files.get(next) {
        let wanted: Vec<String> = file
            .parsed
            .file
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Use(path) => Some(path.dotted()),
                _ => None,
            })
            .collect();
        next += 1;
        for module in wanted {
            if let Some((name, source)) = modules.iter().find(|(name, _)| *name == module)
                && included.insert(name)
            {
                files.push(PackageFile {
                    id: source.id(db),
                    parsed: parse_file(db, *source),
                    origin: Origin::Library(name.clone()),
                });
            }
        }
    }
    Arc::new(ParsedPackage { files, available_modules: modules.iter().map(|(name, _)| name.clone()).collect() })
}

/// Checks a package.
#[salsa::tracked(returns(clone))]
pub fn check_package(db: &dyn salsa::Database, package: PackageInput) -> Arc<Checked> {
    Arc::new(gov_check::check(&parsed_package(db, package)))
}

/// A package's IR, for the back ends (memoised; the check path never asks for it, so
/// checking does not pay for lowering). `Err` if the package has errors.
#[salsa::tracked(returns(clone))]
pub fn package_ir(db: &dyn salsa::Database, package: PackageInput) -> Result<Arc<Ir>, LowerError> {
    gov_check::lower(&parsed_package(db, package), &check_package(db, package)).map(Arc::new)
}
