#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `package_ir`: the IR is lowered only when asked for, memoised, and lowered again after an
//! edit; a package with errors has none.

use gov_check::LowerError;
use gov_db::Workspace;
use std::sync::Arc;

const SOURCE: &str = "package p\ninput x(a: Int)\ndeny d :- x(a), a > 1.\n";

#[test]
fn the_ir_is_memoised_and_follows_edits() {
    let mut workspace = Workspace::new();
    let package = workspace.add_package(vec![("p.gov".to_owned(), SOURCE.to_owned())]);
    assert!(!workspace.check(package).unwrap().has_errors());
    let first = workspace.ir(package).unwrap().unwrap();
    assert_eq!(first.decisions[0].name, "d");
    // Asked again without an edit: the same IR, not a second lowering.
    assert!(Arc::ptr_eq(&first, &workspace.ir(package).unwrap().unwrap()));
    // An edit is lowered again.
    assert!(workspace.set_text("p.gov", SOURCE.replace("deny d", "deny e")));
    let edited = workspace.ir(package).unwrap().unwrap();
    assert_eq!(edited.decisions[0].name, "e");
    // A package with errors has no IR.
    assert!(workspace.set_text("p.gov", SOURCE.replace("x(a), a", "y(a), a")));
    assert!(workspace.check(package).unwrap().has_errors());
    assert_eq!(workspace.ir(package).unwrap(), Err(LowerError::HasErrors));
}
