#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! How library modules take part in a package: their `package` line and their `default`
//! are their own, not the package's. (The fixtures in `tests/check/` use the real standard
//! library, which has no module with a `default`; these cases need a module of their own.)

use gov_check::{Origin, PackageFile, ParsedPackage};
use gov_diag::FileId;
use gov_syntax::ast::DefaultDecision;
use std::sync::Arc;

const MODULE: &str = "package std.lenient\n\ndefault allow\n\ndata lenient_agent(agent: Str)\n";

/// Checks `package` (file 0) with the module `std.lenient` (file 1).
fn check(package: &str) -> gov_check::Checked {
    let files = vec![
        PackageFile { id: FileId(0), parsed: Arc::new(gov_syntax::parse(FileId(0), package)), origin: Origin::Package },
        PackageFile {
            id: FileId(1),
            parsed: Arc::new(gov_syntax::parse(FileId(1), MODULE)),
            origin: Origin::Library("std.lenient".to_owned()),
        },
    ];
    gov_check::check(&ParsedPackage { files, available_modules: vec!["std.lenient".to_owned()] })
}

#[test]
fn a_module_default_does_not_decide_for_the_package() {
    let checked = check(
        "package shop\n\nuse std.lenient\n\ninput order(agent: Str)\n\ndeny stranger :- order(a), not lenient_agent(a).\n",
    );
    assert_eq!(checked.diagnostics, Vec::new());
    assert_eq!(checked.symbols.default, None, "the package has no `default`: it fails closed");
    assert_eq!(checked.symbols.package.as_deref(), Some("shop"));
}

#[test]
fn a_module_default_is_no_duplicate_of_the_package_default() {
    let checked = check(
        "package shop\n\nuse std.lenient\n\ndefault deny\n\ninput order(agent: Str)\n\ndeny stranger :- order(a), not lenient_agent(a).\n",
    );
    assert_eq!(checked.diagnostics, Vec::new());
    assert_eq!(checked.symbols.default, Some(DefaultDecision::Deny));
    assert_eq!(checked.symbols.package.as_deref(), Some("shop"));
}
