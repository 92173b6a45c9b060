//! The one walk over expressions and bodies: their sub-expressions and their variables, in
//! source order. The walk keeps its own stack: it does not recurse.
//!
//! ```
//! use gov_syntax::ast::{ItemKind, Expr};
//! use gov_syntax::walk::{self, Reach};
//!
//! let parsed = gov_syntax::parse(gov_diag::FileId(0), "p(x) :- q(x, y), n = count(z : r(z, y)).");
//! let Some(ItemKind::Rule(rule)) = parsed.file.items.first().map(|i| &i.kind) else { unreachable!() };
//! let names = |reach| walk::body(&rule.body, reach).vars().map(|n| n.text.as_str()).collect::<Vec<_>>();
//! assert_eq!(names(Reach::Shallow), ["x", "y", "n"]);
//! assert_eq!(names(Reach::Deep), ["x", "y", "n", "z", "z", "y"]);
//! ```

use crate::ast::{Aggregate, Arg, BodyItem, Collection, Expr, ItemKind, Name};
use smallvec::{SmallVec, smallvec};

/// How far a walk goes into aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// An aggregate is yielded but not entered: its target and body are its own scope.
    Shallow,
    /// Into aggregates too: after an aggregate, its target, then its body.
    Deep,
}

/// The sub-expressions of an expression or a body, pre-order, left to right (a binary
/// expression, then its left side, then its right side; a body's atoms' arguments and
/// comparisons' sides in order). Made by [`expr`] and [`body`].
#[derive(Debug, Clone)]
pub struct Exprs<'a> {
    /// What is left to visit, the next on top (inline: most walks are of a variable or a
    /// literal, and the checker walks every argument of every atom).
    stack: SmallVec<[Next<'a>; 8]>,
    reach: Reach,
}

/// A part of the tree still to visit.
#[derive(Debug, Clone, Copy)]
enum Next<'a> {
    Expr(&'a Expr),
    Args(&'a [Arg]),
    Exprs(&'a [Expr]),
    Items(&'a [BodyItem]),
}

/// Every sub-expression of `expr`, itself first.
pub fn expr(expr: &Expr, reach: Reach) -> Exprs<'_> {
    Exprs { stack: smallvec![Next::Expr(expr)], reach }
}

/// Every expression of a body: the arguments of its atoms (negated ones included) and the
/// sides of its comparisons, with their sub-expressions.
pub fn body(body: &[BodyItem], reach: Reach) -> Exprs<'_> {
    Exprs { stack: smallvec![Next::Items(body)], reach }
}

/// `body` and the body of every aggregate in it, however nested (in a body or in another
/// aggregate's target), each once: a body before the aggregates' bodies in it.
pub fn bodies(body: &[BodyItem]) -> impl Iterator<Item = &[BodyItem]> {
    let mut pending: SmallVec<[&[BodyItem]; 4]> = smallvec![body];
    std::iter::from_fn(move || {
        let next = pending.pop()?;
        let mut aggregates: SmallVec<[&Aggregate; 4]> =
            self::body(next, Reach::Shallow).filter_map(aggregate).collect();
        while let Some(found) = aggregates.pop() {
            pending.push(&found.body);
            aggregates.extend(self::expr(&found.target, Reach::Shallow).filter_map(aggregate));
        }
        Some(next)
    })
}

/// The aggregate `expr` is, if it is one.
fn aggregate(expr: &Expr) -> Option<&Aggregate> {
    match expr {
        Expr::Aggregate(aggregate) => Some(aggregate),
        _ => None,
    }
}

/// Whether the body of `kind` (a rule, decision rule or invariant; its aggregates'
/// included) writes a list or an object (a literal or a pattern), or `x in v`: what the
/// checker's rewrite of list and object fields reads. See [`crate::ast::Item::compound_syntax`].
pub fn writes_compound_syntax(kind: &ItemKind) -> bool {
    let body = match kind {
        ItemKind::Rule(rule) => &rule.body,
        ItemKind::Decision(decision) => &decision.body,
        ItemKind::Invariant(invariant) => &invariant.body,
        _ => return false,
    };
    self::body(body, Reach::Deep).any(|e| matches!(e, Expr::List(_) | Expr::Object(_)))
        || bodies(body).any(|b| {
            b.iter().any(|item| matches!(item, BodyItem::In(m) if matches!(m.collection, Collection::List(_))))
        })
}

impl<'a> Exprs<'a> {
    /// The variables among the expressions, each occurrence in order (a name that occurs
    /// twice comes twice).
    pub fn vars(self) -> impl Iterator<Item = &'a Name> {
        self.filter_map(|e| match e {
            Expr::Var(name) => Some(name),
            _ => None,
        })
    }
}

impl<'a> Iterator for Exprs<'a> {
    type Item = &'a Expr;

    fn next(&mut self) -> Option<&'a Expr> {
        loop {
            match self.stack.pop()? {
                Next::Expr(expr) => {
                    match expr {
                        Expr::Binary(binary) => {
                            self.stack.push(Next::Expr(&binary.right));
                            self.stack.push(Next::Expr(&binary.left));
                        }
                        Expr::Aggregate(aggregate) if self.reach == Reach::Deep => {
                            self.stack.push(Next::Items(&aggregate.body));
                            self.stack.push(Next::Expr(&aggregate.target));
                        }
                        Expr::Call(call) => self.stack.push(Next::Exprs(&call.args)),
                        Expr::Object(object) => self.stack.push(Next::Args(&object.members)),
                        Expr::Aggregate(_) | Expr::Var(_) | Expr::Wildcard(_) | Expr::Lit(_) | Expr::List(_) => {}
                    }
                    return Some(expr);
                }
                Next::Args(args) => {
                    let Some((first, rest)) = args.split_first() else { continue };
                    self.stack.push(Next::Args(rest));
                    self.stack.push(Next::Expr(&first.value));
                }
                Next::Exprs(exprs) => {
                    let Some((first, rest)) = exprs.split_first() else { continue };
                    self.stack.push(Next::Exprs(rest));
                    self.stack.push(Next::Expr(first));
                }
                Next::Items(items) => {
                    let Some((first, rest)) = items.split_first() else { continue };
                    self.stack.push(Next::Items(rest));
                    match first {
                        BodyItem::Atom(atom) | BodyItem::Not(atom, _) => self.stack.push(Next::Args(&atom.args)),
                        BodyItem::Compare(comparison) => {
                            self.stack.push(Next::Expr(&comparison.right));
                            self.stack.push(Next::Expr(&comparison.left));
                        }
                        BodyItem::Test(call) | BodyItem::NotTest(call, _) => self.stack.push(Next::Exprs(&call.args)),
                        BodyItem::In(membership) => {
                            match &membership.collection {
                                Collection::Call(call) => self.stack.push(Next::Exprs(&call.args)),
                                Collection::List(list) => self.stack.push(Next::Expr(list)),
                                Collection::Set(_) => {}
                            }
                            self.stack.push(Next::Expr(&membership.element));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Reach, body, expr};
    use crate::ast::{BodyItem, Expr, ItemKind, Rule};
    use gov_diag::FileId;

    /// The one rule of `source`.
    fn rule(source: &str) -> Rule {
        let parsed = crate::parse(FileId(0), source);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        match parsed.file.items.into_iter().next().map(|i| i.kind.clone()) {
            Some(ItemKind::Rule(rule)) => rule,
            other => panic!("not a rule: {other:?}"),
        }
    }

    fn names<'a>(exprs: impl Iterator<Item = &'a Expr>) -> Vec<&'a str> {
        exprs
            .filter_map(|e| match e {
                Expr::Var(n) => Some(n.text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Each expression as a short tag, to see the order of the walk.
    fn tags<'a>(exprs: impl Iterator<Item = &'a Expr>) -> Vec<String> {
        exprs
            .map(|e| match e {
                Expr::Var(n) => n.text.to_string(),
                Expr::Lit(_) => "lit".to_owned(),
                Expr::Wildcard(_) => "_".to_owned(),
                Expr::Binary(b) => b.op.symbol().to_owned(),
                Expr::Aggregate(a) => a.function.name().to_owned(),
                Expr::Call(c) => c.name.text.to_string(),
                Expr::List(_) => "list".to_owned(),
                Expr::Object(_) => "object".to_owned(),
            })
            .collect()
    }

    #[test]
    fn bodies_reach_every_aggregate_however_nested() {
        let rule = rule("p(n) :- q(a), n = count(x : r(x), m = max(y : s(y))), k = sum(z : t(z)), k > n.");
        let firsts: Vec<String> = super::bodies(&rule.body)
            .map(|b| match b.first() {
                Some(BodyItem::Atom(atom)) => atom.relation.text.to_string(),
                _ => "?".to_owned(),
            })
            .collect();
        assert_eq!(firsts, ["q", "r", "s", "t"]);
    }

    #[test]
    fn compound_syntax_is_found_at_any_depth_and_only_there() {
        let writes = |source: &str| {
            let parsed = crate::parse(FileId(0), source);
            let item = parsed.file.items.first().expect("an item");
            assert_eq!(item.compound_syntax, super::writes_compound_syntax(&item.kind));
            item.compound_syntax
        };
        assert!(writes("p(a) :- call(agent: a, arguments: {path: \"/\"})."));
        assert!(writes("p(a) :- call(agent: a), n = count(x : call(argv: v), x in v), n > 1."));
        assert!(!writes("p(a) :- call(agent: a), a in {\"x\", \"y\"}, w in str.split(a, \" \")."));
        assert!(!writes("input call(agent: Str, argv: [Str])"));
    }

    #[test]
    fn object_patterns_and_list_collections_are_walked() {
        let rule = rule("p(p) :- t(a: {b: p, c: {d: q}}, l: v), x in v, x = q.");
        assert_eq!(tags(body(&rule.body, Reach::Shallow)), ["object", "p", "object", "q", "v", "x", "v", "x", "q"]);
    }

    #[test]
    fn an_expression_is_walked_pre_order_left_to_right() {
        let rule = rule("p(z) :- q(a, b, c), z = a * (b + 1) - c.");
        let Some(BodyItem::Compare(assign)) = rule.body.get(1) else { panic!("not a comparison") };
        assert_eq!(tags(expr(&assign.right, Reach::Shallow)), ["-", "*", "a", "+", "b", "lit", "c"]);
        assert_eq!(
            expr(&assign.right, Reach::Shallow).vars().map(|n| n.text.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn a_body_yields_atom_arguments_negations_and_comparison_sides_in_order() {
        let rule = rule("p(x) :- q(x, _, 3), not r(y: x), x != w, s(w).");
        assert_eq!(tags(body(&rule.body, Reach::Deep)), ["x", "_", "lit", "x", "x", "w", "w"]);
    }

    #[test]
    fn shallow_stops_at_aggregates_and_deep_enters_them() {
        let rule = rule("p(g, n) :- q(g), n = sum(v + 1 : r(g, v), v > 0), n > 2.");
        assert_eq!(names(body(&rule.body, Reach::Shallow)), ["g", "n", "n"]);
        assert_eq!(tags(body(&rule.body, Reach::Shallow)), ["g", "n", "sum", "n", "lit"]);
        assert_eq!(
            tags(body(&rule.body, Reach::Deep)),
            ["g", "n", "sum", "+", "v", "lit", "g", "v", "v", "lit", "n", "lit"]
        );
    }

    #[test]
    fn nested_aggregates_are_entered_only_when_deep() {
        let rule = rule("p(n) :- n = count(a : q(a), m = max(b : r(a, b)), m > 1).");
        let Some(BodyItem::Compare(assign)) = rule.body.first() else { panic!("not a comparison") };
        assert_eq!(names(expr(&assign.right, Reach::Shallow)), Vec::<&str>::new());
        assert_eq!(names(expr(&assign.right, Reach::Deep)), ["a", "a", "m", "b", "a", "b", "m"]);
    }

    #[test]
    fn calls_tests_and_generators_yield_their_arguments() {
        let rule = rule(
            "p(n) :- q(c), str.starts_with(c, \"/\"), not str.contains(c, x), w in str.split(c, \" \"), n = str.length(w) + 1.",
        );
        assert_eq!(
            tags(body(&rule.body, Reach::Shallow)),
            ["c", "c", "lit", "c", "x", "w", "c", "lit", "n", "+", "str.length", "w", "lit"]
        );
    }

    #[test]
    fn an_empty_body_yields_nothing() {
        assert_eq!(body(&[], Reach::Deep).count(), 0);
    }
}
