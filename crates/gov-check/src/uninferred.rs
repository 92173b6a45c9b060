//! E0205: a column or variable whose type nothing determines (`p(x) :- p(x).`).
//!
//! Found from what inference already computed: the first untyped column of a derived
//! relation and the first untyped variable, which the rule pass notes
//! ([`Facts::untyped_column`], [`Facts::untyped_var`]); declared columns have their
//! declared types. Reported only
//! when the package has no other error (an error elsewhere usually explains it), and at
//! most once: at the first such column, by relation, or else at the variable.
//!
//! Invariant: in a package without other errors every declared column's type resolved and
//! every type alias has a base type (an unknown type is an error), so a known type is a
//! known base type, which is what lowering needs.

use crate::rules::Facts;
use crate::symbols::Symbols;
use gov_diag::{Diagnostic, codes};

/// Pushes the E0205 of a package that has no other error, if it has one.
pub(crate) fn check(symbols: &Symbols, facts: &Facts, diagnostics: &mut Vec<Diagnostic>) {
    let column = facts.untyped_column.and_then(|(relation, column)| {
        let info = symbols.relations.get(relation)?;
        Some(untyped(
            Diagnostic::new(
                codes::UNINFERRED_TYPE,
                format!("the type of column {} of `{}` cannot be inferred", column + 1, info.name),
                info.span.unwrap_or_default(),
            ),
            "no rule gives this column a value of a known type",
        ))
    });
    let variable = || {
        let (at, name) = facts.untyped_var.as_ref()?;
        Some(untyped(
            Diagnostic::new(codes::UNINFERRED_TYPE, format!("the type of `{name}` cannot be inferred"), *at),
            "nothing gives this variable a value of a known type",
        ))
    };
    diagnostics.extend(column.or_else(variable));
}

fn untyped(diagnostic: Diagnostic, label: &str) -> Diagnostic {
    diagnostic.with_primary_label(label).with_help(
        "a value gets its type from where it comes from: bind it from a declared relation, a literal or arithmetic, or remove the rule",
    )
}
