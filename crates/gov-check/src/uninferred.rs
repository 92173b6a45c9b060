//! E0205: a column or variable whose type nothing determines (`p(x) :- p(x).`).
//!
//! Found from what inference already computed: the column types of [`Symbols`] and the
//! first untyped variable the rule pass noted ([`Facts::untyped_var`]). Reported only
//! when the package has no other error (an error elsewhere usually explains it), and at
//! most once: at the first such column, by relation, or else at the variable.

use crate::rules::Facts;
use crate::symbols::Symbols;
use gov_diag::{Diagnostic, codes};

/// Pushes the E0205 of a package that has no other error, if it has one.
pub(crate) fn check(symbols: &Symbols, facts: &Facts, diagnostics: &mut Vec<Diagnostic>) {
    let column = symbols.relations.iter().find_map(|info| {
        let column = info.fields.iter().position(|field| field.ty.and_then(|ty| symbols.base_of(ty)).is_none())?;
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
