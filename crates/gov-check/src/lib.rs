//! The Gov checker.
//!
//! [`check`] takes the parsed files of one package (plus the standard-library modules it
//! uses) and returns every problem it finds together with the [`Symbols`] it resolved,
//! which later phases (the compiler, the language server) reuse. It reports each mistake
//! once: names that failed to parse or resolve are remembered as *poisoned* so nothing
//! downstream complains about them again.
//!
//! The phases, each in its own module: [`symbols`] collects declarations and resolves
//! types and modules; [`rules`] checks rules, decision rules, annotations and tests, one
//! concern per submodule over one shared context (resolving atoms, arity and fields;
//! walking bodies; variables and types, inferred by union-find in [`types`]; safety; test
//! blocks); [`strata`] builds the dependency graph and rejects negation, aggregation or
//! arithmetic through recursion; [`limits`] reports what would compile beyond the engine's
//! limits; [`usage`] warns about what is declared and never used; `uninferred.rs` reports
//! a column or variable whose type nothing determines (E0205).
//!
//! Checking does not build the IR: the back ends ask for it with [`lower`] (through the
//! memoised `gov_db::package_ir`), so `govc check` and the language server's re-check
//! after each keystroke do not pay for it.

pub mod compound;
mod declare;
pub mod hash;
pub mod limits;
mod lower;
mod order;
mod program;
mod removal;
pub mod rules;
pub mod strata;
pub mod symbols;
pub mod types;
mod uninferred;
pub mod usage;

pub use lower::{LowerError, lower};
pub use program::{Origin, PackageFile, ParsedPackage};
pub use rules::ItemMemo;
pub use symbols::{RelationInfo, RelationKind, Symbols, TypeInfo};
pub use types::Ty;

use gov_diag::Diagnostic;

/// The result of checking a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Everything found, errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The declarations, relations and rules the program defines.
    pub symbols: Symbols,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity() == gov_diag::Severity::Error)
    }
}

/// Checks a whole program: syntax errors from parsing are included.
pub fn check(program: &ParsedPackage) -> Checked {
    check_with(program, &mut ItemMemo::default())
}

/// [`check`], reusing what `memo` keeps of the last check of the same package (safety's
/// results per item, [`ItemMemo`]) and keeping this one's: the result is [`check`]'s.
pub fn check_with(program: &ParsedPackage, memo: &mut ItemMemo) -> Checked {
    memo.begin();
    let checked = check_package(program, memo);
    memo.end();
    checked
}

fn check_package(program: &ParsedPackage, memo: &mut ItemMemo) -> Checked {
    let mut diagnostics: Vec<Diagnostic> =
        program.files.iter().flat_map(|f| f.parsed.diagnostics.iter().cloned()).collect();
    let (mut symbols, collected) = symbols::KeptSymbols::collect(&mut memo.symbols, program, &mut diagnostics);
    memo.collected = collected;
    let desugared = compound::desugar(program, &symbols, &mut diagnostics);
    let program: &ParsedPackage = &desugared;
    let facts = rules::check_rules(program, &mut symbols, &mut diagnostics, memo);
    strata::check(&symbols, &facts, &mut memo.components, &mut diagnostics);
    limits::check(&symbols, &mut diagnostics);
    usage::check(program, &symbols, &facts, &mut diagnostics);
    // Library files are checked by their own tests; their warnings are not the user's.
    diagnostics.retain(|d| d.severity() == gov_diag::Severity::Error || !program.is_library(d.primary.span.file));
    if !diagnostics.iter().any(|d| d.severity() == gov_diag::Severity::Error) {
        uninferred::check(&symbols, &facts, &mut diagnostics);
    }
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    Checked { diagnostics, symbols }
}
