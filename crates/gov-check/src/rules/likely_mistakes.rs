//! Warnings on conditions that are valid but rarely mean what they say: a string with `*`
//! matched by `=` or by an atom's argument, as if `*` were a wildcard (W0201).

use super::Cx;
use gov_diag::{Diagnostic, codes};
use gov_syntax::ast::{Comparison, Expr, Lit, LitValue};
use gov_value::CompareOp;

impl Cx<'_, '_> {
    /// W0201 for a string literal compared with `=` or `!=` that looks like a glob.
    pub(super) fn glob_compared(&mut self, comparison: &Comparison) {
        if !matches!(comparison.op, CompareOp::Eq | CompareOp::Ne) {
            return;
        }
        for side in [&comparison.left, &comparison.right] {
            if let Expr::Lit(lit) = side {
                self.glob_literal(lit, comparison.op.symbol());
            }
        }
    }

    /// W0201 for an atom's argument that looks like a glob.
    pub(super) fn glob_argument(&mut self, value: &Expr) {
        if let Expr::Lit(lit) = value {
            self.glob_literal(lit, "an argument");
        }
    }

    fn glob_literal(&mut self, lit: &Lit, how: &str) {
        // `"*"` alone is the usual "any" marker in data (`consent(p, purpose, "*")`).
        let LitValue::Str(text) = &lit.value else { return };
        if !text.contains('*') || text == "*" {
            return;
        }
        let how = if how == "an argument" { "an argument".to_owned() } else { format!("`{how}`") };
        self.diagnostics.push(
            Diagnostic::new(
                codes::EQUALS_IS_NOT_A_GLOB,
                format!("{how} matches this string exactly: `*` is not a wildcard"),
                lit.span,
            )
            .with_primary_label("matches only a string with these very `*` characters")
            .with_help(
                "list the exact values in a data relation and join with it; to match a `*` character itself, keep it and ignore this warning",
            ),
        );
    }
}
