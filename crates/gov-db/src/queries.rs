//! Salsa inputs and queries.

use gov_check::{Checked, ItemMemo, LowerError, Origin, PackageFile, ParsedPackage};
use gov_diag::FileId;
use gov_ir::Ir;
use gov_syntax::ast::ItemKind;
use gov_syntax::{Parsed, Reusable};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

/// The database.
#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
    parses: Parses,
    checks: Checks,
}

#[salsa::db]
impl salsa::Database for Database {}

/// The database as the queries see it: salsa's, the last parse of each file and what the
/// last check of each package keeps per item.
#[salsa::db]
pub trait Db: salsa::Database {
    /// The last parse of each file, which the next parse of it reuses ([`parse_file`]).
    fn parses(&self) -> &Parses;

    /// What the last check of each package keeps per item ([`check_package`]).
    fn checks(&self) -> &Checks;
}

#[salsa::db]
impl Db for Database {
    fn parses(&self) -> &Parses {
        &self.parses
    }

    fn checks(&self) -> &Checks {
        &self.checks
    }
}

/// The last parse of each file, kept so that the next parse of it re-parses only the items
/// an edit touched ([`gov_syntax::reparse`]). Only the last one is kept: an edit replaces
/// it, and the trees no longer used are freed with it.
// Invariant: this changes how fast `parse_file` runs, never what it returns (`reparse`
// equals `parse`; a test compares them after edits), so salsa's memo stays a function of
// the file's text.
#[derive(Clone, Default)]
pub struct Parses(Arc<Mutex<HashMap<FileId, Reusable>>>);

impl Parses {
    /// Takes the last parse of `file`, if any.
    fn take(&self, file: FileId) -> Option<Reusable> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&file)
    }

    /// Keeps `parse` as the last parse of `file`.
    fn keep(&self, file: FileId, parse: Reusable) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(file, parse);
    }

    /// How many items the last parse of `file` parsed rather than reused.
    pub fn fresh_items(&self, file: FileId) -> Option<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&file).map(Reusable::fresh_items)
    }
}

/// What the last check of each package keeps per item (safety's results,
/// [`gov_check::ItemMemo`]), so the next check of it re-runs safety for the items an edit
/// changed only. Only the last check's are kept.
// Invariant: like `Parses`, this changes how fast `check_package` runs, never what it
// returns (`check_with` equals `check`; the random-edit test of `tests/incremental.rs`
// compares a re-check with a fresh workspace's check).
#[derive(Clone, Default)]
pub struct Checks(Arc<Mutex<HashMap<PackageInput, ItemMemo>>>);

impl Checks {
    /// Takes the memo of `package`'s last check (an empty one if none).
    fn take(&self, package: PackageInput) -> ItemMemo {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&package).unwrap_or_default()
    }

    /// Keeps `memo` as the memo of `package`'s last check.
    fn keep(&self, package: PackageInput, memo: ItemMemo) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(package, memo);
    }

    /// How many items the last check of `package` ran safety on rather than reused.
    pub fn computed_items(&self, package: PackageInput) -> Option<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&package).map(ItemMemo::computed)
    }

    /// How many rules the last check of `package` walked rather than replayed.
    pub fn walked_items(&self, package: PackageInput) -> Option<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&package).map(ItemMemo::walked)
    }

    /// Whether the last check of `package` collected its declarations rather than moved
    /// those the check before kept.
    pub fn collected_declarations(&self, package: PackageInput) -> Option<bool> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&package).map(ItemMemo::collected)
    }

    /// How many rules the last check of `package` typed rather than found typed in a
    /// cluster the check before kept.
    pub fn typed_items(&self, package: PackageInput) -> Option<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&package).map(ItemMemo::typed)
    }
}

#[cfg(test)]
impl Database {
    /// A database that records the name of every query it runs (the tests read which
    /// queries an edit re-ran), and the log.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn recording() -> (Database, Arc<Mutex<Vec<String>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let callback = move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                let name = format!("{database_key:?}");
                sink.lock().unwrap().push(name.split('(').next().unwrap_or_default().to_owned());
            }
        };
        (
            Database {
                storage: salsa::Storage::new(Some(Box::new(callback))),
                parses: Parses::default(),
                checks: Checks::default(),
            },
            log,
        )
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

/// Parses one file (memoised: re-run only when its text changes). The file's last parse
/// is reused ([`Parses`]): an edit re-parses the items it touched, and the other items'
/// trees are moved to their new offsets.
#[salsa::tracked(returns(clone))]
pub fn parse_file(db: &dyn Db, file: SourceInput) -> Arc<Parsed> {
    let id = file.id(db);
    let previous = db.parses().take(id);
    let (parsed, reusable) = gov_syntax::reparse(id, file.text(db), previous.as_ref());
    db.parses().keep(id, reusable);
    parsed
}

/// The package's files with the library modules it uses, directly or through other
/// modules, parsed.
// Not compared with its last value (`no_eq`): it re-runs only when a file's parse or the
// package's list of files changed (`Workspace::set_files` sets only a changed list),
// and then it holds that changed parse, so comparing (a deep walk of the trees up to the
// edit) would only ever find them different.
#[salsa::tracked(returns(clone), no_eq)]
pub fn parsed_package(db: &dyn Db, package: PackageInput) -> Arc<ParsedPackage> {
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
            // A module's name is in the tree as parsed (`ItemAt::unmoved`: reading it does
            // not copy the items an edit moved).
            .filter_map(|item| match &item.unmoved().kind {
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

/// Checks a package, reusing what its last check kept per item ([`Checks`]).
// Not compared with its last value (`no_eq`): the only query that reads it, `package_ir`,
// also reads `parsed_package`, which changed whenever this re-ran, so an equal result
// would save nothing and the comparison (every diagnostic and symbol) costs about 4 % of a
// keystroke at 10 000 rules.
#[salsa::tracked(returns(clone), no_eq)]
pub fn check_package(db: &dyn Db, package: PackageInput) -> Arc<Checked> {
    let parsed = parsed_package(db, package);
    let mut memo = db.checks().take(package);
    let checked = gov_check::check_with(&parsed, &mut memo);
    db.checks().keep(package, memo);
    Arc::new(checked)
}

/// A package's IR, for the back ends (memoised; the check path never asks for it, so
/// checking does not pay for lowering). `Err` if the package has errors.
#[salsa::tracked(returns(clone))]
pub fn package_ir(db: &dyn Db, package: PackageInput) -> Result<Arc<Ir>, LowerError> {
    gov_check::lower(&parsed_package(db, package), &check_package(db, package)).map(Arc::new)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use salsa::Setter;

    /// The check from scratch of a package of one file with `text`.
    fn fresh_check(text: &str) -> Checked {
        gov_check::check(&ParsedPackage {
            files: vec![PackageFile {
                id: FileId(0),
                parsed: Arc::new(gov_syntax::parse(FileId(0), text)),
                origin: Origin::Package,
            }],
            available_modules: Vec::new(),
        })
    }

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
        let (mut db, _log) = Database::recording();
        let text = package(50);
        let file = SourceInput::new(&db, FileId(0), "p.gov".to_owned(), text.clone());
        parse_file(&db, file);
        assert_eq!(db.parses().fresh_items(FileId(0)), Some(52));
        // One character typed in rule 20's body: that item is parsed again, and the items
        // after it, though moved one byte on, are not.
        let edited = text.replace("t > 20.", "t > 201.");
        file.set_text(&mut db).to(edited.clone());
        let parsed = parse_file(&db, file);
        assert_eq!(db.parses().fresh_items(FileId(0)), Some(1));
        // The result is the one a parse from scratch gives: spans, docs and all.
        assert_eq!(*parsed, gov_syntax::parse(FileId(0), &edited));
        // A character deleted: the items after it move back.
        let shorter = edited.replace("t > 3.", "t > .");
        file.set_text(&mut db).to(shorter.clone());
        assert_eq!(*parse_file(&db, file), gov_syntax::parse(FileId(0), &shorter));
        assert_eq!(db.parses().fresh_items(FileId(0)), Some(1));
    }

    #[test]
    fn editing_a_rule_body_re_runs_safety_for_that_item_only() {
        let (mut db, _log) = Database::recording();
        let text = package(50).replace("t > 37.", "t > 37, u > 1.");
        let file = SourceInput::new(&db, FileId(0), "p.gov".to_owned(), text.clone());
        let package = PackageInput::new(&db, vec![file], Vec::new());
        check_package(&db, package);
        assert_eq!(db.checks().computed_items(package), Some(50));
        // A digit changed in rule 20's body: safety runs for that rule only, and rule 37's
        // unbound `u` is still reported, from the memo. Rule 20 is walked again, and rule 37,
        // which reports something; the others' walks are replayed.
        let edited = text.replace("t > 20.", "t > 29.");
        file.set_text(&mut db).to(edited.clone());
        let checked = check_package(&db, package);
        assert_eq!(db.checks().computed_items(package), Some(1));
        assert_eq!(db.checks().walked_items(package), Some(2));
        assert_eq!(*checked, fresh_check(&edited));
        assert!(checked.diagnostics.iter().any(|d| d.message.contains("`u`")), "{:?}", checked.diagnostics);
        // A character inserted moves the items after it: their trees are copies, found by
        // their origin, and rule 37's diagnostic moves with it; so does a deletion. (Rule 20
        // is the first to read `t > 29.`.)
        for edited in [edited.replacen("t > 29.", "t > 299.", 1), edited.replacen("t > 29.", "t > 2.", 1)] {
            file.set_text(&mut db).to(edited.clone());
            let checked = check_package(&db, package);
            assert_eq!(db.checks().computed_items(package), Some(1));
            assert_eq!(db.checks().walked_items(package), Some(2));
            assert_eq!(*checked, fresh_check(&edited));
        }
        // A new relation declared before the others changes the declarations: every rule is
        // walked again, and the next edit replays them again.
        let declared = edited.replacen("input order(total: Int)\n", "data extra(n: Int)\ninput order(total: Int)\n", 1);
        file.set_text(&mut db).to(declared.clone());
        assert_eq!(*check_package(&db, package), fresh_check(&declared));
        assert_eq!(db.checks().walked_items(package), Some(50));
        let declared = declared.replacen("t > 29.", "t > 28.", 1);
        file.set_text(&mut db).to(declared.clone());
        assert_eq!(*check_package(&db, package), fresh_check(&declared));
        assert_eq!(db.checks().walked_items(package), Some(2));
    }

    #[test]
    fn editing_a_rule_body_re_types_the_rules_sharing_its_derived_relations_only() {
        // Group `i` is three rules around the derived relation `big_i`; the rules of other
        // groups share none of its columns. Each `allow` rule reads `order` only, alone in
        // its cluster.
        let (mut db, _log) = Database::recording();
        let mut text = package(10);
        for i in 0..5 {
            text.push_str(&format!(
                "
big_{i}(t) :- order(t), t > 1{i}.
big_{i}(t) :- order(t), t < 2.
deny large_{i} :- big_{i}(t), t > 3{i}.
"
            ));
        }
        let file = SourceInput::new(&db, FileId(0), "p.gov".to_owned(), text.clone());
        let package = PackageInput::new(&db, vec![file], Vec::new());
        check_package(&db, package);
        assert_eq!(db.checks().typed_items(package), Some(25));
        // A character typed in group 2's first rule moves every item after it: group 2 is
        // typed again, the other groups' and the `allow` rules' types are kept (moved).
        let edited = text.replace("t > 12.", "t > 129.");
        file.set_text(&mut db).to(edited.clone());
        assert_eq!(*check_package(&db, package), fresh_check(&edited));
        assert_eq!(db.checks().typed_items(package), Some(3));
        // An edit in an `allow` rule types that rule only.
        let edited = edited.replace("t > 7.", "t > 77.");
        file.set_text(&mut db).to(edited.clone());
        assert_eq!(*check_package(&db, package), fresh_check(&edited));
        assert_eq!(db.checks().typed_items(package), Some(1));
        // A type error in group 4 is reported, from its cluster, every time until mended;
        // the others stay kept.
        let broken = edited.replace("t > 34.", "t > \"x\".");
        for _ in 0..2 {
            file.set_text(&mut db).to(broken.clone());
            let checked = check_package(&db, package);
            assert_eq!(*checked, fresh_check(&broken));
            assert!(
                checked.diagnostics.iter().any(|d| d.code == gov_diag::codes::TYPE_MISMATCH),
                "{:?}",
                checked.diagnostics
            );
            assert_eq!(db.checks().typed_items(package), Some(3));
            file.set_text(&mut db).to(edited.clone());
            assert_eq!(*check_package(&db, package), fresh_check(&edited));
        }
    }

    #[test]
    fn an_edit_that_declares_nothing_new_keeps_the_declarations_moved() {
        let (mut db, _log) = Database::recording();
        let mut text = package(10);
        text.push_str(
            "
input owner(team: Str)
/// Large orders go to the owning team.
escalate large to g \"{t} is large\" :- order(t), owner(g), t > 100.
fixture shop { given owner(\"ops\"). }
test \"a large order escalates\" uses shop {
    given order(500).
    expect escalate large
}
",
        );
        let file = SourceInput::new(&db, FileId(0), "p.gov".to_owned(), text.clone());
        let package = PackageInput::new(&db, vec![file], Vec::new());
        assert_eq!(check_package(&db, package).diagnostics, Vec::new());
        assert_eq!(db.checks().collected_declarations(package), Some(true));
        let mut check = |text: &str, collected: bool| {
            file.set_text(&mut db).to(text.to_owned());
            assert_eq!(*check_package(&db, package), fresh_check(text), "{text}");
            assert_eq!(db.checks().collected_declarations(package), Some(collected), "{text}");
        };
        // Characters typed in a rule body, in a decision rule's (its span grows), in a
        // fixture and in a test: every item after them moves, and the declarations are the
        // kept ones, moved. Then a rule's head, a doc comment, the text between a decision
        // rule's name and its approver (which moves one from the other), a new declaration:
        // collected again, and kept for the next edit.
        let edits = [
            ("t > 3.", "t > 33.", false),
            ("t > 100.", "t > 1000.", false),
            ("owner(\"ops\")", "owner(\"ops-team\")", false),
            ("given order(500).", "given order(5000).", false),
            ("allow r4 ", "allow r44 ", true),
            ("/// Rule 5.", "/// Rule five.", true),
            ("large to g", "large  to  g", true),
            ("input owner", "data x(a: Int)\ninput owner", true),
        ];
        for (from, to, collected) in edits {
            text = text.replacen(from, to, 1);
            check(&text, collected);
            if collected {
                check(&text.replacen("t > 6.", "t > 66.", 1), false);
            }
        }
        // A test's name that loses its closing quote keeps its text, in a shorter span: the
        // test is not where the kept one moved to, so the table is collected again.
        let unclosed = text.replacen("escalates\" uses", "escalates\n uses", 1);
        assert_ne!(unclosed, text);
        check(&unclosed, true);
        // A declaration reported (a duplicate) is collected at every check until mended.
        let duplicated = text.replacen("input owner", "input order(total: Int)\ninput owner", 1);
        check(&duplicated, true);
        check(&duplicated.replacen("t > 7.", "t > 77.", 1), true);
    }

    #[test]
    fn with_list_fields_an_edit_re_runs_safety_for_that_item_and_the_rewritten_ones() {
        // The lists' rewrite copies the items it changes (rule `a`) and keeps the others'
        // trees, so the memo still finds them.
        let (mut db, _log) = Database::recording();
        let text = package(20).replace(
            "input order(total: Int)\n",
            "input order(total: Int)\ninput call(args: [Str])\nallow a :- call(args: xs), x in xs, x != \"rm\".\n",
        );
        let file = SourceInput::new(&db, FileId(0), "p.gov".to_owned(), text.clone());
        let package = PackageInput::new(&db, vec![file], Vec::new());
        check_package(&db, package);
        assert_eq!(db.checks().computed_items(package), Some(21));
        file.set_text(&mut db).to(text.replace("t > 12.", "t > 19."));
        check_package(&db, package);
        assert_eq!(db.checks().computed_items(package), Some(2));
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
