//! Limits of the compiled form (`E0601`): everything `govc build` would refuse about the
//! shape of the source is reported here, so a package that checks clean always builds.
//!
//! The limits themselves are [`gov_value::limits`], which the engine's bundle validator
//! enforces; the compiler plans a rule only after checking [`instruction_bound`] against
//! the same limit.

use crate::Symbols;
use gov_diag::{Diagnostic, Span, codes};
use gov_syntax::ast::{AggregateFn, Atom, BodyItem, Call, Collection, Expr, Item, ItemKind};
use gov_value::limits::{MAX_COLUMNS, MAX_KEY, MAX_RULE_LENGTH};

/// An upper bound on the instructions the compiler emits for a rule: one per body item,
/// one per arithmetic operator, one per aggregate plus its own body, and one for the head
/// (whose arithmetic, in `head`, counts too: a derived fact's arguments, a `risk` rule's
/// points).
///
/// Invariant: the compiler never emits more for a rule (it checks every rule it plans
/// against this bound). The bound is exact but for `n = count(…)`, which compiles to one
/// instruction fewer when the planner computes the aggregate before anything binds `n`,
/// and for a `min`/`max` outside a stage of fallible conditions: the bound counts the
/// `count` over its body and target that the planner runs first inside such a stage.
pub fn instruction_bound<'e>(body: &[BodyItem], head: impl IntoIterator<Item = &'e Expr>) -> usize {
    head.into_iter().map(expression_cost).fold(body_cost(body), usize::saturating_add).saturating_add(1)
}

fn body_cost(body: &[BodyItem]) -> usize {
    body.iter()
        .map(|item| match item {
            // A scan or a lookup, after the arithmetic of its arguments.
            BodyItem::Atom(atom) | BodyItem::Not(atom, _) => {
                atom.args.iter().map(|arg| expression_cost(&arg.value)).fold(1, usize::saturating_add)
            }
            // A comparison or an assignment, after the arithmetic and aggregates of its sides.
            BodyItem::Compare(c) => {
                1usize.saturating_add(expression_cost(&c.left)).saturating_add(expression_cost(&c.right))
            }
            // A call, after its arguments' computations.
            BodyItem::Test(call) | BodyItem::NotTest(call, _) => call_cost(call),
            // The call or the set, then a comparison with a bound element.
            BodyItem::In(membership) => {
                let collection = match &membership.collection {
                    Collection::Call(call) => call_cost(call),
                    // Rewritten into an atom before this pass (`compound.rs`).
                    Collection::Set(_) | Collection::List(_) => 1,
                };
                collection.saturating_add(1).saturating_add(expression_cost(&membership.element))
            }
        })
        .fold(0, usize::saturating_add)
}

/// Instructions computing an expression's value (a variable or a literal is an operand).
/// Recursion is bounded by the parser's nesting limit (`E0005`).
fn expression_cost(expr: &Expr) -> usize {
    match expr {
        Expr::Binary(b) => 1usize.saturating_add(expression_cost(&b.left)).saturating_add(expression_cost(&b.right)),
        Expr::Aggregate(a) => {
            let body = body_cost(&a.body);
            let once = 1usize.saturating_add(body).saturating_add(expression_cost(&a.target));
            // A `min` or `max` in a stage of fallible conditions is preceded by a `count`
            // over the same body and target (see the planner's stages in gov-compile): the
            // target's arithmetic runs in both.
            match a.function {
                AggregateFn::Min | AggregateFn::Max => once.saturating_mul(2),
                AggregateFn::Count | AggregateFn::Sum => once,
            }
        }
        Expr::Call(call) => call_cost(call),
        Expr::Var(_) | Expr::Lit(_) | Expr::Wildcard(_) | Expr::List(_) | Expr::Object(_) => 0,
    }
}

/// Instructions of a call of a built-in: its arguments' computations, then the call.
fn call_cost(call: &Call) -> usize {
    call.args.iter().map(expression_cost).fold(1, usize::saturating_add)
}

/// Reports relations with more columns than the compiled form allows.
pub fn check(symbols: &Symbols, diagnostics: &mut Vec<Diagnostic>) {
    for relation in &symbols.relations {
        if relation.fields.len() > MAX_COLUMNS {
            let at = relation.span.unwrap_or_default();
            diagnostics.push(
                Diagnostic::new(
                    codes::TOO_LARGE,
                    format!(
                        "relation `{}` has {} columns, more than the {MAX_COLUMNS} a relation may have",
                        relation.name,
                        relation.fields.len()
                    ),
                    at,
                )
                .with_primary_label("too many columns")
                .with_help("split it into relations that share a key column"),
            );
        }
    }
}

/// Reports a rule or decision rule beyond the limits of the compiled form: too many
/// instructions, or a negation wider than an index key. A function of the item's tree
/// alone, so the rule pass runs it as it walks the item ([`crate::rules`]).
pub(crate) fn item(item: &Item, diagnostics: &mut Vec<Diagnostic>) {
    let (at, body, bound) = match &item.kind {
        ItemKind::Rule(rule) => (
            rule.head.relation.span,
            &rule.body,
            instruction_bound(&rule.body, rule.head.args.iter().map(|a| &a.value)),
        ),
        ItemKind::Decision(decision) => {
            (decision.name.span, &decision.body, instruction_bound(&decision.body, decision.points.as_ref()))
        }
        _ => return,
    };
    if bound > MAX_RULE_LENGTH {
        diagnostics.push(too_long(at, bound));
    }
    negations(body, diagnostics);
}

fn too_long(at: Span, bound: usize) -> Diagnostic {
    Diagnostic::new(
        codes::TOO_LARGE,
        format!("this rule compiles to up to {bound} instructions, more than the {MAX_RULE_LENGTH} one rule may have"),
        at,
    )
    .with_primary_label("this rule is too long")
    .with_help("move some of its conditions into a helper rule, or a list of values into a `data` relation")
    .with_note("each condition, arithmetic operator and aggregate is about one instruction, and so is the head")
}

/// Reports negations (in `body` and its aggregates) with more bound arguments than an
/// index key has columns.
fn negations(body: &[BodyItem], diagnostics: &mut Vec<Diagnostic>) {
    for item in body {
        match item {
            BodyItem::Not(atom, _) => {
                let bound = atom.args.iter().filter(|a| !matches!(a.value, Expr::Wildcard(_))).count();
                if bound > MAX_KEY {
                    diagnostics.push(wide_negation(atom, bound));
                }
            }
            BodyItem::Atom(_) | BodyItem::Test(_) | BodyItem::NotTest(..) | BodyItem::In(_) => {}
            BodyItem::Compare(c) => {
                for side in [&c.left, &c.right] {
                    if let Expr::Aggregate(a) = side {
                        negations(&a.body, diagnostics);
                    }
                }
            }
        }
    }
}

fn wide_negation(atom: &Atom, bound: usize) -> Diagnostic {
    Diagnostic::new(
        codes::TOO_LARGE,
        format!("this negation compares {bound} columns, more than the {MAX_KEY} one negation may"),
        atom.span,
    )
    .with_primary_label("too many columns compared")
    .with_help("write `_` for the columns that do not matter, or negate a helper relation of the key columns")
}
