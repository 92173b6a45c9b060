//! Variables and types: each variable of a rule gets an inference node; arguments unify
//! with their columns as the walk meets them, and the queued constraints (comparisons,
//! arithmetic, risk points) are solved at the end, first silently to a fixpoint, then once
//! reporting what still conflicts.

use super::calls::Position;
use super::summary::{ColumnRef, Unify, Walk};
use super::{Column, Cx, Pending, Place, RuleWork, Scope, Vars};
use crate::Ty;
use crate::types::{Conflict, Node, Shape, arithmetic, merge};
use gov_diag::{Diagnostic, Span, codes};
use gov_syntax::ast::{AggregateFn, Collection, Comparison, Expr, LitValue, Membership, Name};
use gov_syntax::walk::{self, Reach};
use gov_value::{BaseType, CompareOp};
use std::sync::Arc;

pub(super) fn lit_shape(value: &LitValue) -> Shape {
    lit_base(value).map_or(Shape::Poison, Shape::Lit)
}

/// The base type of a literal (`None` for an invalid one).
pub(crate) fn lit_base(value: &LitValue) -> Option<BaseType> {
    Some(match value {
        LitValue::Int(_) => BaseType::Int,
        LitValue::Decimal(_) => BaseType::Decimal,
        LitValue::Str(_) => BaseType::Str,
        LitValue::Bool(_) => BaseType::Bool,
        LitValue::Time(_) => BaseType::Time,
        LitValue::Duration(_) => BaseType::Duration,
        LitValue::Invalid => return None,
    })
}

/// A queued constraint's last run in a silent round of [`Cx::solve`]: the nodes whose
/// classes it read (a range of the inference's noted nodes), the inference's change count
/// after it, and whether it changed nothing and met nothing to report.
#[derive(Debug, Clone, Default)]
struct Run {
    reads: std::ops::Range<usize>,
    after: u64,
    settled: bool,
}

/// What [`Cx::solve`] found: each rule's variables' types.
pub(super) struct Solved {
    /// The rules solved, in the order they were replayed.
    pub(super) rules: Vec<SolvedRule>,
    /// Each rule's variables' types (`None`: nothing determines it), in the order of its
    /// walk's scope, rule after rule ([`SolvedRule::types`]).
    pub(super) types: Vec<Option<Ty>>,
}

/// One rule of [`Solved`].
pub(super) struct SolvedRule {
    pub(super) walk: Arc<Walk>,
    /// How far the rule's tree moved since the walk.
    pub(super) by: u32,
    /// Its variables' types, a range of [`Solved::types`].
    pub(super) types: std::ops::Range<usize>,
    /// Whether its unifications or constraints reported anything.
    pub(super) reported: bool,
}

/// Lists the type of each occurrence of `walk`'s variables (whose types are `types`, in
/// the order of its scope; its tree moved `by`) in `out`, and the first variable whose
/// type nothing determines, at its first occurrence, in `untyped` unless it has one.
pub(super) fn occurrence_types(
    walk: &Walk,
    by: u32,
    types: &[Option<Ty>],
    out: &mut Vec<(Span, Ty)>,
    untyped: &mut Option<(Span, String)>,
) {
    for ((name, var), ty) in walk.scope.iter().zip(types) {
        match ty {
            Some(ty) => out.extend(var.occurrences.iter().map(|(span, _, _)| (span.shifted(by), *ty))),
            None if untyped.is_none() => {
                *untyped = var.occurrences.first().map(|occurrence| (occurrence.0.shifted(by), name.to_owned()));
            }
            None => {}
        }
    }
}

impl<'a> Cx<'a, '_> {
    pub(super) fn occurrence(&mut self, scope: &mut Scope, name: &'a Name, place: Place, aggregate: Option<usize>) {
        let occurrence = (name.span, place, aggregate);
        match scope.get_mut(&name.text) {
            Some(var) => var.occurrences.push(occurrence),
            None => scope.insert(&name.text, occurrence),
        }
    }

    /// Records the variables of `expr` at `place`, except those in a built-in's arguments,
    /// which are at [`Place::Argument`]; checks each call of a built-in in it (as a value).
    pub(super) fn note_vars(&mut self, scope: &mut Scope, expr: &'a Expr, place: Place, aggregate: Option<usize>) {
        // Most arguments are a variable or a literal: no walk needed.
        match expr {
            Expr::Var(name) => return self.occurrence(scope, name, place, aggregate),
            Expr::Lit(_) | Expr::Wildcard(_) => return,
            Expr::Binary(_) | Expr::Aggregate(_) | Expr::Call(_) | Expr::List(_) | Expr::Object(_) => {}
        }
        let mut in_call: Vec<Span> = Vec::new();
        for sub in walk::expr(expr, Reach::Shallow) {
            if let Expr::Call(call) = sub {
                self.call_site(call, Position::Value);
                in_call.extend(call.args.iter().flat_map(|a| walk::expr(a, Reach::Shallow).vars()).map(|n| n.span));
            }
        }
        for name in walk::expr(expr, Reach::Shallow).vars() {
            let place = if in_call.contains(&name.span) { Place::Argument } else { place };
            self.occurrence(scope, name, place, aggregate);
        }
    }

    fn mismatch(&self, at: Span, found: Shape, expected: Shape, because: Option<Span>) -> Diagnostic {
        let symbols = self.symbols;
        let mut diagnostic = Diagnostic::new(
            codes::TYPE_MISMATCH,
            format!("type mismatch: expected {}, found {}", expected.describe(symbols), found.describe(symbols)),
            at,
        )
        .with_primary_label(format!("this is {}", found.describe(symbols)));
        if let Some(because) = because.filter(|b| *b != at) {
            diagnostic = diagnostic.with_label(because, format!("{} because of this", expected.describe(symbols)));
        }
        self.explain_aliases(diagnostic, found, expected)
    }

    /// Adds, when `found` and `expected` differ only by an alias, why (aliases are distinct
    /// types) and how to fix it (one type on both sides).
    fn explain_aliases(&self, diagnostic: Diagnostic, found: Shape, expected: Shape) -> Diagnostic {
        let symbols = self.symbols;
        let alias = [found, expected].into_iter().find(|s| matches!(s, Shape::Exact(Ty::Alias(_))));
        let (Some(alias), Some(base)) = (alias, found.base(symbols)) else { return diagnostic };
        if Some(base) != expected.base(symbols) {
            return diagnostic;
        }
        let other = if alias == found { expected } else { found };
        diagnostic
            .with_note(
                "type aliases are distinct types: a value of one alias is not a value of another, nor of its base type",
            )
            .with_help(format!(
                "{} is an alias of `{}` and never converts to it: give both sides one type (declare the field that makes this {} as {})",
                alias.describe(symbols),
                base.name(),
                alias.describe(symbols),
                other.describe(symbols),
            ))
    }

    /// Unifies the node of the variable `name`, at `at`, with a column.
    pub(super) fn unify_var(&mut self, node: Node, name: &str, at: Span, column: Column) {
        // What each side was before, and where that came from: after a failed union
        // the conflict only tells the column's side.
        let (found, found_because) = self.inference.class(node);
        // A list or object where a derived column's value goes is E0207's: it
        // must not give the column its type (and a mismatch with its other rules).
        if is_compound(found) && matches!(column, Column::Inferred(_)) {
            return;
        }
        let (expected, expected_because) = match column {
            Column::Inferred(col) => self.inference.class(col),
            Column::Declared(Some(ty), because) => (Shape::Exact(ty), because),
            Column::Declared(None, _) => return,
        };
        let result = match column {
            Column::Inferred(col) => self.inference.union(col, node, at, self.symbols),
            Column::Declared(..) => self.inference.constrain(node, expected, at, self.symbols),
        };
        // A list or object where a column's value goes is E0207's (`compound.rs`).
        if result.is_err() && !is_compound(found) && !is_compound(expected) {
            let symbols = self.symbols;
            let mut diagnostic = Diagnostic::new(
                codes::TYPE_MISMATCH,
                format!("type mismatch: expected {}, found {}", expected.describe(symbols), found.describe(symbols)),
                at,
            )
            .with_primary_label(format!(
                "`{}` is {}, but {} is expected here",
                name,
                found.describe(symbols),
                expected.describe(symbols)
            ));
            if let Some(because) = found_because.filter(|b| *b != at) {
                diagnostic = diagnostic
                    .with_label(because, format!("`{}` is {} because of this", name, found.describe(symbols)));
            }
            // A declared column's type is in plain sight; a derived column's comes
            // from another rule.
            if let (Column::Inferred(_), Some(because)) =
                (column, expected_because.filter(|b| *b != at && Some(*b) != found_because))
            {
                diagnostic = diagnostic.with_label(because, format!("{} because of this", expected.describe(symbols)));
            }
            let diagnostic = self.explain_aliases(diagnostic, found, expected);
            self.diagnostics.push(diagnostic);
            self.inference.poison(node);
        }
    }

    /// Unifies a literal of shape `found`, at `at`, with a column.
    pub(super) fn unify_lit(&mut self, found: Shape, at: Span, column: Column) {
        let result = match column {
            Column::Inferred(col) => self.inference.constrain(col, found, at, self.symbols),
            Column::Declared(Some(ty), because) => merge(found, Shape::Exact(ty), self.symbols)
                .map(|_| ())
                .ok_or(Conflict { existing: Shape::Exact(ty), because }),
            Column::Declared(None, _) => return,
        };
        if let Err(conflict) = result {
            self.diagnostics.push(self.mismatch(at, found, conflict.existing, conflict.because));
        }
    }

    /// The shape of an expression; with `report`, operator errors are reported.
    pub(super) fn shape_of(&mut self, scope: Vars<'_>, expr: &Expr, report: bool) -> Shape {
        match expr {
            Expr::Var(name) => scope.node(name.text.as_str()).map_or(Shape::Unknown, |node| self.inference.shape(node)),
            // A list or an object pattern left in a body was reported by the rewrite.
            Expr::Wildcard(_) | Expr::List(_) | Expr::Object(_) => Shape::Poison,
            Expr::Lit(lit) => lit_shape(&lit.value),
            Expr::Binary(binary) => {
                let left = self.shape_of(scope, &binary.left, report);
                let right = self.shape_of(scope, &binary.right, report);
                arithmetic(binary.op, left, right, self.symbols).unwrap_or_else(|| {
                    // The silent passes learn nothing from an ill-typed operation; the
                    // reporting pass reports it and poisons what depends on it.
                    if !self.reports(report) {
                        return Shape::Unknown;
                    }
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::BAD_OPERATOR,
                            format!("`{}` is not defined for {} and {}", binary.op.symbol(), left.describe(self.symbols), right.describe(self.symbols)),
                            binary.span,
                        )
                        .with_primary_label("no such operation")
                        .with_label(binary.left.span(), format!("this is {}", left.describe(self.symbols)))
                        .with_label(binary.right.span(), format!("this is {}", right.describe(self.symbols)))
                        .with_help("arithmetic needs numbers of one type, or Time and Duration (see the operator table in docs/reference.md)"),
                    );
                    Shape::Poison
                })
            }
            Expr::Call(call) => self.call_shape(scope, call, report),
            Expr::Aggregate(aggregate) => {
                let target = self.shape_of(scope, &aggregate.target, report);
                let ok = match aggregate.function {
                    AggregateFn::Count => return Shape::Exact(Ty::Base(BaseType::Int)),
                    AggregateFn::Sum => target
                        .base(self.symbols)
                        .is_none_or(|b| matches!(b, BaseType::Int | BaseType::Decimal | BaseType::Duration)),
                    AggregateFn::Min | AggregateFn::Max => {
                        target.base(self.symbols).is_none_or(|b| b != BaseType::Bool)
                    }
                };
                if !ok {
                    if !self.reports(report) {
                        return Shape::Unknown;
                    }
                    self.diagnostics.push(
                        Diagnostic::new(codes::BAD_AGGREGATE, format!("`{}` of {} values", aggregate.function.name(), target.describe(self.symbols)), aggregate.target.span())
                            .with_primary_label(format!("this is {}", target.describe(self.symbols)))
                            .with_help("`sum` adds Int, Decimal or Duration values; `min` and `max` need ordered values; `count` counts anything"),
                    );
                    return Shape::Poison;
                }
                target
            }
        }
    }

    /// Whether to report a problem just found: with `report`; in a silent round, notes
    /// that the reporting round must run ([`Cx::solve`]).
    pub(super) fn reports(&mut self, report: bool) -> bool {
        self.unreported |= !report;
        report
    }

    /// Types one pending constraint; with `report`, conflicts are reported.
    fn constraint(&mut self, scope: Vars<'_>, pending: &Pending<'_>, report: bool) {
        match pending {
            Pending::Compare(comparison) => self.compare(scope, comparison, report),
            Pending::Column(expr, column) => {
                let found = self.shape_of(scope, expr, report);
                let result = match *column {
                    Column::Inferred(node) => self.inference.absorb(node, found, expr.span(), self.symbols),
                    Column::Declared(Some(ty), at) => merge(found, Shape::Exact(ty), self.symbols)
                        .map(|_| ())
                        .ok_or(Conflict { existing: Shape::Exact(ty), because: at }),
                    Column::Declared(None, _) => Ok(()),
                };
                if let Err(conflict) = result
                    && self.reports(report)
                {
                    self.diagnostics.push(self.mismatch(expr.span(), found, conflict.existing, conflict.because));
                    if let Column::Inferred(node) = column {
                        self.inference.poison(*node);
                    }
                }
            }
            Pending::Test(call) => {
                self.call_shape(scope, call, report);
            }
            Pending::Member(membership) => self.member(scope, membership, report),
            Pending::Approver(group) => self.approver(scope, group, report),
            Pending::Points(expr) => {
                let found = self.shape_of(scope, expr, report);
                let int = Shape::Exact(Ty::Base(BaseType::Int));
                let result = match expr {
                    Expr::Var(name) => match scope.node(name.text.as_str()) {
                        Some(node) => self.inference.constrain(node, int, name.span, self.symbols),
                        None => Ok(()),
                    },
                    _ => merge(found, int, self.symbols).map(|_| ()).ok_or(Conflict { existing: int, because: None }),
                };
                if result.is_err() && self.reports(report) {
                    self.diagnostics
                        .push(self.mismatch(expr.span(), found, int, None).with_note("risk points are an Int"));
                }
            }
        }
    }

    /// `element in collection`: the element has the type of the collection's values.
    fn member(&mut self, scope: Vars<'_>, membership: &Membership, report: bool) {
        let values = match &membership.collection {
            Collection::Call(call) => self.call_shape(scope, call, report),
            // Left only after the rewrite reported it (`compound.rs`).
            Collection::List(_) => Shape::Poison,
            Collection::Set(set) => {
                let mut values = Shape::Unknown;
                for item in &set.items {
                    let found = lit_shape(&item.value);
                    match merge(values, found, self.symbols) {
                        Some(merged) => values = merged,
                        None => {
                            if self.reports(report) {
                                self.diagnostics.push(
                                    self.mismatch(item.span, found, values, None)
                                        .with_help("the values of a set literal all have one type"),
                                );
                            }
                            values = Shape::Poison;
                            break;
                        }
                    }
                }
                values
            }
        };
        let element = &membership.element;
        let found = self.shape_of(scope, element, report);
        let result = match element {
            Expr::Var(name) => match scope.node(name.text.as_str()) {
                Some(node) => self.inference.absorb(node, values, name.span, self.symbols),
                None => Ok(()),
            },
            _ => merge(found, values, self.symbols).map(|_| ()).ok_or(Conflict { existing: values, because: None }),
        };
        if result.is_err() && self.reports(report) {
            self.diagnostics.push(
                self.mismatch(element.span(), found, values, None)
                    .with_help("the value before `in` has the type of the values after it"),
            );
        }
    }

    /// An approver group is a `Str`, or an alias of it (a `type Team = Str` column).
    fn approver(&mut self, scope: Vars<'_>, group: &Name, report: bool) {
        let Some(node) = scope.node(group.text.as_str()) else { return };
        let text = Shape::Lit(BaseType::Str);
        if let Err(conflict) = self.inference.constrain(node, text, group.span, self.symbols)
            && self.reports(report)
        {
            self.diagnostics.push(
                self.mismatch(group.span, conflict.existing, text, None)
                    .with_note("an approver group is a Str (or an alias of Str)"),
            );
        }
    }

    fn compare(&mut self, scope: Vars<'_>, comparison: &Comparison, report: bool) {
        let left = self.shape_of(scope, &comparison.left, report);
        let right = self.shape_of(scope, &comparison.right, report);
        let var_node = |e: &Expr| match e {
            Expr::Var(name) => scope.node(name.text.as_str()).map(|node| (node, name.span)),
            _ => None,
        };
        let result = match (var_node(&comparison.left), var_node(&comparison.right)) {
            (Some((a, at)), Some((b, _))) => self.inference.union(a, b, at, self.symbols),
            (Some((node, at)), None) => self.inference.absorb(node, right, at, self.symbols),
            (None, Some((node, at))) => self.inference.absorb(node, left, at, self.symbols),
            (None, None) => {
                merge(left, right, self.symbols).map(|_| ()).ok_or(Conflict { existing: left, because: None })
            }
        };
        if !report {
            if result.is_err() || !orders(comparison.op, left, right, self.symbols) {
                self.unreported = true;
            }
            return;
        }
        match result {
            // A list or object compared is E0207's (`compound.rs`): one mistake, one error.
            Err(_) if is_compound(left) || is_compound(right) => {
                for side in [&comparison.left, &comparison.right] {
                    if let Some((node, _)) = var_node(side) {
                        self.inference.poison(node);
                    }
                }
            }
            Err(_) => {
                let diagnostic = self
                    .mismatch(comparison.right.span(), right, left, Some(comparison.left.span()))
                    .with_primary_label(format!("this is {}", right.describe(self.symbols)))
                    .with_help("both sides of a comparison must have the same type");
                self.diagnostics.push(diagnostic);
                for side in [&comparison.left, &comparison.right] {
                    if let Some((node, _)) = var_node(side) {
                        self.inference.poison(node);
                    }
                }
            }
            Ok(()) => {
                if !orders(comparison.op, left, right, self.symbols) {
                    let merged = merge(left, right, self.symbols).unwrap_or(Shape::Poison);
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::BAD_OPERATOR,
                            format!(
                                "`{}` cannot order {} values",
                                comparison.op.symbol(),
                                merged.describe(self.symbols)
                            ),
                            comparison.span,
                        )
                        .with_primary_label("no ordering")
                        .with_help("Bool values can only be compared with `=` and `!=`"),
                    );
                }
            }
        }
    }

    /// Types the pending constraints, first silently to a fixpoint (so types flow in any
    /// order), then once more reporting what still conflicts; returns the inferred type of
    /// every variable occurrence, by span, and the first variable (in rule order, then in
    /// the order the walk met them) whose type nothing determines, at its first occurrence.
    pub(super) fn solve(&mut self) -> Solved {
        let work = std::mem::take(&mut self.work);
        let pending = std::mem::take(&mut self.pending);
        let queued = |rule: &RuleWork| pending.get(rule.pending.clone()).unwrap_or_default();
        // Whether the last silent round changed nothing and met nothing the reporting round
        // would report or poison: that round would then see the same classes and do the
        // same, so it is skipped (run anyway under debug assertions, and checked).
        let (mut quiet, mut fixpoint) = (false, false);
        // Each constraint's last silent run: a settled one whose classes have not changed
        // since would do the same again, nothing, so the next round skips it.
        let mut runs = vec![Run::default(); pending.len()];
        for round in 0..8 {
            let before = self.inference.changes();
            self.unreported = false;
            for rule in &work {
                for (index, constraint) in rule.pending.clone().zip(queued(rule)) {
                    let Some(run) = runs.get_mut(index) else { continue };
                    if round > 0 && run.settled && !self.inference.changed_since(run.reads.clone(), run.after) {
                        continue;
                    }
                    let (changes, unreported) = (self.inference.changes(), std::mem::take(&mut self.unreported));
                    let start = self.inference.noting(true);
                    self.constraint(rule.vars(), constraint, false);
                    let end = self.inference.noting(false);
                    let after = self.inference.changes();
                    *run = Run { reads: start..end, after, settled: after == changes && !self.unreported };
                    self.unreported |= unreported;
                }
            }
            if self.inference.changes() == before {
                quiet = !self.unreported;
                fixpoint = true;
                break;
            }
        }
        self.inference.clear_noted();
        if cfg!(debug_assertions) && fixpoint {
            // Every constraint skipped had nothing left to do: a full round changes nothing.
            let changes = self.inference.changes();
            for rule in &work {
                for constraint in queued(rule) {
                    self.constraint(rule.vars(), constraint, false);
                }
            }
            debug_assert_eq!(self.inference.changes(), changes, "the type solve skipped a constraint with work left");
        }
        let mut work = work;
        if !quiet || cfg!(debug_assertions) {
            let (reported, changes) = (self.diagnostics.len(), self.inference.changes());
            for rule in &mut work {
                let before = self.diagnostics.len();
                for pending in queued(rule) {
                    self.constraint(rule.vars(), pending, true);
                }
                rule.reported |= self.diagnostics.len() != before;
            }
            debug_assert!(
                !quiet || (self.diagnostics.len() == reported && self.inference.changes() == changes),
                "a quiet round of the type solve left something to report"
            );
        }
        let mut solved = Solved { rules: Vec::with_capacity(work.len()), types: Vec::new() };
        for rule in work.drain(..) {
            let vars = rule.vars();
            let start = solved.types.len();
            for (_, var) in vars.scope.iter() {
                let ty = self.var_type(vars.node_of(var));
                solved.types.push(ty);
            }
            let types = start..solved.types.len();
            solved.rules.push(SolvedRule { walk: rule.walk, by: rule.by, types, reported: rule.reported });
        }
        // Emptied, the vectors go back with their room, for the next solve's rules.
        self.work = work;
        self.pending = pending;
        self.pending.clear();
        solved
    }

    /// The type inferred for a variable's or a column's node, if any.
    pub(super) fn var_type(&mut self, node: Node) -> Option<Ty> {
        match self.inference.shape(node) {
            Shape::Exact(ty) => Some(ty),
            Shape::Lit(base) => Some(Ty::Base(base)),
            Shape::Unknown | Shape::Poison => None,
        }
    }
}

/// Whether `op` may compare values of the two shapes' merged type (only `=` and `!=` for
/// Bool).
fn orders(op: CompareOp, left: Shape, right: Shape, symbols: &crate::Symbols) -> bool {
    let merged = merge(left, right, symbols).unwrap_or(Shape::Poison);
    gov_value::compare_allowed(op, merged.base(symbols).unwrap_or(BaseType::Int))
}

/// Whether `shape` is a list's or an object's type, whose misuse the rewrite of list and
/// object fields reports (E0207), so type inference does not report it again.
fn is_compound(shape: Shape) -> bool {
    matches!(shape, Shape::Exact(Ty::Compound(_)))
}

impl Walk {
    /// Records the unification of a simple argument (a variable or a literal) with a column.
    pub(super) fn unify_arg(&mut self, expr: &Expr, column: ColumnRef) {
        let unify = match expr {
            Expr::Var(name) => match self.scope.get(name.text.as_str()) {
                Some(var) => Unify::Var { var: var.local, at: name.span, column },
                None => return,
            },
            Expr::Lit(lit) => Unify::Lit { shape: lit_shape(&lit.value), at: lit.span, column },
            Expr::Wildcard(_)
            | Expr::Binary(_)
            | Expr::Aggregate(_)
            | Expr::Call(_)
            | Expr::List(_)
            | Expr::Object(_) => return,
        };
        self.unify.push(unify);
    }
}
