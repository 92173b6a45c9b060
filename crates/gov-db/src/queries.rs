//! Salsa inputs and queries.

use gov_check::{Checked, LowerError, Origin, PackageFile, ParsedPackage};
use gov_diag::FileId;
use gov_ir::Ir;
use gov_syntax::ast::ItemKind;
use gov_syntax::{ItemText, Parsed, ParsedItem};
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
    /// A database that records the name of every query it runs (the tests read which
    /// queries an edit re-ran), and the log.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn recording() -> (Database, Arc<std::sync::Mutex<Vec<String>>>) {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let callback = move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                let name = format!("{database_key:?}");
                sink.lock().unwrap().push(name.split('(').next().unwrap_or_default().to_owned());
            }
        };
        (Database { storage: salsa::Storage::new(Some(Box::new(callback))) }, log)
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

/// Parses one file (memoised: re-run only when its text changes). Each item is parsed by
/// [`parse_item`], memoised by its text, so an edit re-parses the items it touched; the
/// others' trees are reused, moved to their new offsets.
#[salsa::tracked(returns(clone))]
pub fn parse_file(db: &dyn salsa::Database, file: SourceInput) -> Arc<Parsed> {
    Arc::new(gov_syntax::parse_with(file.id(db), file.text(db), |item| {
        let key = ItemKey::new(db, item.file, item.text, item.synthetic_dot, item.too_deep, item.lexical);
        parse_item(db, key)
    }))
}

/// One item's text and what its file's lexer and splitter found about it (the fields of
/// [`gov_syntax::ItemText`]): equal keys parse alike, wherever the item stands.
#[salsa::interned(debug)]
pub struct ItemKey<'db> {
    /// The file the item lies in.
    #[returns(copy)]
    pub file: FileId,
    /// The item's text.
    #[returns(ref)]
    pub text: String,
    /// Whether it lacks its `.`.
    #[returns(copy)]
    pub synthetic_dot: bool,
    /// Whether it nests too deeply.
    #[returns(copy)]
    pub too_deep: bool,
    /// Where its file's lexer reported a character no token starts, relative to it.
    #[returns(ref)]
    pub lexical: Vec<u32>,
}

/// Parses one item on its own text (memoised: an item whose text did not change is not
/// parsed again, wherever an edit moved it); its spans are relative to the item.
#[salsa::tracked(returns(clone))]
pub fn parse_item<'db>(db: &'db dyn salsa::Database, key: ItemKey<'db>) -> Arc<ParsedItem> {
    Arc::new(gov_syntax::parse_item(ItemText {
        file: key.file(db),
        text: key.text(db),
        synthetic_dot: key.synthetic_dot(db),
        too_deep: key.too_deep(db),
        lexical: key.lexical(db),
    }))
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use salsa::Setter;

    /// A package of `n` rules, each with a doc comment, after a declaration.
    fn package(n: usize) -> String {
        let mut text = "package p\n\ninput order(total: Int)\n".to_owned();
        for i in 0..n {
            text.push_str(&format!("\n/// Rule {i}.\nallow r{i} :- order(t), t > {i}.\n"));
        }
        text
    }

    #[test]
    fn editing_a_rule_body_re_parses_that_item_only() {
        let (mut db, log) = Database::recording();
        let text = package(50);
        let file = SourceInput::new(&db, FileId(0), "p.gov".to_owned(), text.clone());
        parse_file(&db, file);
        let ran = std::mem::take(&mut *log.lock().unwrap());
        assert_eq!(ran.iter().filter(|q| *q == "parse_item").count(), 52, "{ran:?}");
        // One character typed in rule 20's body: that item is parsed again, and the items
        // after it, though moved one byte on, are not.
        let edited = text.replace("t > 20.", "t > 201.");
        file.set_text(&mut db).to(edited.clone());
        let parsed = parse_file(&db, file);
        let ran = std::mem::take(&mut *log.lock().unwrap());
        assert_eq!(ran, ["parse_file", "parse_item"]);
        // The result is the one a parse from scratch gives: spans, docs and all.
        assert_eq!(*parsed, gov_syntax::parse(FileId(0), &edited));
    }

    #[test]
    fn items_parsed_apart_keep_the_files_diagnostics() {
        // A lexical error, a missing `.` before an indented item, a broken item whose
        // supplied `.` is withdrawn, a misspelt keyword: each as a parse from scratch
        // reports it, at the same place, after an edit before them moved them.
        let text = "package p\ninput a(x: Int)\nallow b :- a(x), x > 1 $\nallow c :- a(x)\n  allow d :- a(1).\ndeni e :- a(1).\nallow f :- a(x), (x.\n";
        let (mut db, _log) = Database::recording();
        let file = SourceInput::new(&db, FileId(3), "p.gov".to_owned(), text.to_owned());
        assert_eq!(*parse_file(&db, file), gov_syntax::parse(FileId(3), text));
        let edited = text.replace("a(x: Int)", "a(xy: Int)");
        file.set_text(&mut db).to(edited.clone());
        let parsed = parse_file(&db, file);
        assert!(parsed.diagnostics.len() >= 4, "{:?}", parsed.diagnostics);
        assert_eq!(*parsed, gov_syntax::parse(FileId(3), &edited));
    }
}
