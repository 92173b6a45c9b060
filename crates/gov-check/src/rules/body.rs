//! The walk over rules and decision rules: each head and body atom resolved, each variable
//! occurrence recorded with its place, the dependency edges and value-inventing arithmetic
//! collected, and the typing constraints queued for [`super::infer`].

use super::calls::Position;
use super::summary::{At, ColumnRef, Rec};
use super::{ArithSite, Cx, Edge, EdgeKind, Place};
use crate::symbols::{RISK_SCORE, RelationKind};
use gov_diag::{Diagnostic, Span, codes};
use gov_syntax::ast::{
    Aggregate, AggregateFn, Approver, Atom, BodyItem, Collection, DecisionRule, Effect, Expr, Invariant, Item,
    MessagePart, Rule,
};

impl<'a> Cx<'a, '_> {
    pub(super) fn rule(&mut self, rec: &mut Rec, item: &Item, rule: &'a Rule) {
        let head_relation = self.symbols.relation_id(&rule.head.relation.text);
        // A module's relations are derived by the module's rules only (E0109 otherwise).
        let module = self.program.module_of(rule.head.relation.span.file);
        let derived = head_relation.filter(|&r| {
            self.symbols.relations.get(r).is_some_and(|r| {
                r.kind == RelationKind::Derived
                    && !r.poisoned
                    && r.span.is_none_or(|s| self.program.module_of(s.file) == module)
            })
        });
        if let Some(head) = head_relation {
            rec.walk.head_refs.push((head, rule.head.relation.span));
        }
        self.body(rec, &rule.body, derived.map(|to| (to, rule.head.relation.span)), None);
        match derived {
            Some(head) => self.head(rec, &rule.head, head),
            // The head is already reported (E0109) or broken; still count its variables,
            // so none of them is also reported as used only once.
            None => {
                for arg in &rule.head.args {
                    self.note_vars(&mut rec.walk.scope, &arg.value, Place::Head, None);
                }
            }
        }
        let inventing = self.safety(item, &rec.walk.scope, &rule.body, Some(rule));
        if let Some(head) = derived {
            let rule = rule.head.relation.span;
            rec.walk.arithmetic.extend(inventing.into_iter().map(|(at, aggregate)| ArithSite {
                head,
                rule,
                at,
                aggregate,
            }));
        }
    }

    fn head(&mut self, rec: &mut Rec, head: &'a Atom, relation: usize) {
        let columns = self.columns.get(relation).and_then(Option::as_ref).map_or(0, |c| c.nodes.len());
        if head.args.len() != columns {
            let first = self.symbols.relations.get(relation).and_then(|r| r.span);
            let mut diagnostic = self.arity_error(&head.relation, columns, head.args.len(), head.span);
            if let Some(first) = first {
                diagnostic = diagnostic.with_label(
                    first,
                    format!(
                        "`{}` first derived with {} {} here",
                        head.relation.text,
                        columns,
                        if columns == 1 { "argument" } else { "arguments" }
                    ),
                );
            }
            self.diagnostics.push(diagnostic);
            // Still count the head's variables, so none is also reported as used once.
            for arg in &head.args {
                self.note_vars(&mut rec.walk.scope, &arg.value, Place::Head, None);
            }
            return;
        }
        for (index, arg) in head.args.iter().enumerate() {
            let column = ColumnRef::new(relation, index, true);
            if let Some(field) = &arg.field {
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_FIELD, "a rule head takes positional arguments", field.span)
                        .with_primary_label("named argument in a head")
                        .with_help(format!(
                            "derived relations have no field names: write `{}(…)` with values in order",
                            head.relation.text
                        )),
                );
                self.note_vars(&mut rec.walk.scope, &arg.value, Place::Head, None);
                continue;
            }
            match &arg.value {
                Expr::Wildcard(span) => self.diagnostics.push(
                    Diagnostic::new(codes::UNSAFE_HEAD, "`_` in a rule head", *span)
                        .with_primary_label("a head needs a value here")
                        .with_help("use a variable that the body binds, or a literal"),
                ),
                Expr::Binary(_) | Expr::Call(_) => {
                    rec.walk.arithmetic.push(ArithSite {
                        head: relation,
                        rule: head.relation.span,
                        at: arg.value.span(),
                        aggregate: false,
                    });
                    self.note_vars(&mut rec.walk.scope, &arg.value, Place::Head, None);
                    rec.walk.pending.push(At::HeadArg(u32::try_from(index).unwrap_or(u32::MAX), column));
                }
                value => {
                    self.note_vars(&mut rec.walk.scope, value, Place::Head, None);
                    rec.walk.unify_arg(value, column);
                }
            }
        }
    }

    pub(super) fn decision(&mut self, rec: &mut Rec, item: &Item, decision: &'a DecisionRule) {
        let risk = (decision.effect == Effect::Risk).then(|| self.symbols.relation_id(RISK_SCORE)).flatten();
        self.body(rec, &decision.body, risk.map(|to| (to, decision.name.span)), None);
        if let Some(message) = &decision.message {
            for part in &message.parts {
                if let MessagePart::Var(name) = part {
                    self.occurrence(&mut rec.walk.scope, name, Place::Message, None);
                }
            }
        }
        if let Some(points) = &decision.points {
            self.note_vars(&mut rec.walk.scope, points, Place::Points, None);
            rec.walk.pending.push(At::Points);
        }
        if let Some(Approver::Var(group)) = &decision.approver {
            self.occurrence(&mut rec.walk.scope, group, Place::Approver, None);
            rec.walk.pending.push(At::Approver);
        }
        self.safety(item, &rec.walk.scope, &decision.body, None);
    }

    /// An invariant's body, checked as a decision rule's is.
    pub(super) fn invariant(&mut self, rec: &mut Rec, item: &Item, invariant: &'a Invariant) {
        self.body(rec, &invariant.body, None, None);
        self.safety(item, &rec.walk.scope, &invariant.body, None);
    }

    /// Walks a body (or an aggregate's body, `aggregate = Some(k)`), resolving atoms and
    /// recording edges to `head`; `rec.path` is where the body is.
    fn body(&mut self, rec: &mut Rec, body: &'a [BodyItem], head: Option<(usize, Span)>, aggregate: Option<usize>) {
        for (index, item) in body.iter().enumerate() {
            rec.path.push(u32::try_from(index).unwrap_or(u32::MAX));
            self.condition(rec, item, head, aggregate);
            rec.path.pop();
        }
    }

    /// Walks one condition of a body, at `rec.path`.
    fn condition(&mut self, rec: &mut Rec, item: &'a BodyItem, head: Option<(usize, Span)>, aggregate: Option<usize>) {
        match item {
            BodyItem::Atom(atom) => {
                let kind = if aggregate.is_some() { EdgeKind::Aggregate } else { EdgeKind::Positive };
                self.atom(rec, atom, head, kind, Place::Positive, aggregate);
            }
            BodyItem::Not(atom, _) => {
                let kind = if aggregate.is_some() { EdgeKind::Aggregate } else { EdgeKind::Negative };
                self.atom(rec, atom, head, kind, Place::Negative, aggregate);
            }
            BodyItem::Compare(comparison) => {
                for (index, side) in [&comparison.left, &comparison.right].into_iter().enumerate() {
                    match side {
                        Expr::Aggregate(agg) => {
                            rec.path.push(u32::try_from(index).unwrap_or(u32::MAX));
                            self.aggregate(rec, agg, head);
                            rec.path.pop();
                        }
                        Expr::Wildcard(span) => self.diagnostics.push(
                            Diagnostic::new(codes::UNSAFE_COMPARISON, "`_` in a comparison", *span)
                                .with_primary_label("a comparison needs a value here")
                                .with_help("use a variable bound by an atom, or a literal"),
                        ),
                        other => self.note_vars(&mut rec.walk.scope, other, Place::Compare, aggregate),
                    }
                }
                self.glob_compared(comparison);
                rec.queue_condition();
            }
            BodyItem::Test(call) | BodyItem::NotTest(call, _) => {
                self.call_site(call, Position::Test);
                for arg in &call.args {
                    self.note_vars(&mut rec.walk.scope, arg, Place::Argument, aggregate);
                }
                rec.queue_condition();
            }
            BodyItem::In(membership) => {
                match &membership.collection {
                    Collection::Call(call) => {
                        self.call_site(call, Position::Generator);
                        for arg in &call.args {
                            self.note_vars(&mut rec.walk.scope, arg, Place::Argument, aggregate);
                        }
                    }
                    // An `in` the rewrite could not turn into an atom (E0207): its
                    // variable is still used here, so it draws no other diagnostic.
                    Collection::List(list) => self.note_vars(&mut rec.walk.scope, list, Place::Positive, aggregate),
                    Collection::Set(_) => {}
                }
                // Not negated, `in` binds its element as `=` does; negated, it only reads it.
                let place = if membership.negated.is_some() { Place::Negative } else { Place::Compare };
                match &membership.element {
                    Expr::Wildcard(span) => self.diagnostics.push(
                        Diagnostic::new(codes::UNSAFE_COMPARISON, "`_` before `in`", *span)
                            .with_primary_label("a membership needs a value here")
                            .with_help("use a variable, or a literal"),
                    ),
                    element => self.note_vars(&mut rec.walk.scope, element, place, aggregate),
                }
                rec.queue_condition();
            }
        }
    }

    fn aggregate(&mut self, rec: &mut Rec, aggregate: &'a Aggregate, head: Option<(usize, Span)>) {
        let index = aggregate.span.start as usize;
        self.body(rec, &aggregate.body, head, Some(index));
        match &aggregate.target {
            Expr::Wildcard(span) if aggregate.function != AggregateFn::Count => self.diagnostics.push(
                Diagnostic::new(codes::UNSAFE_COMPARISON, format!("`{}` of `_`", aggregate.function.name()), *span)
                    .with_primary_label("nothing to aggregate")
                    .with_help("name the value to aggregate with a variable of the body"),
            ),
            target => self.note_vars(&mut rec.walk.scope, target, Place::Compare, Some(index)),
        }
    }

    fn atom(
        &mut self,
        rec: &mut Rec,
        atom: &'a Atom,
        head: Option<(usize, Span)>,
        kind: EdgeKind,
        place: Place,
        aggregate: Option<usize>,
    ) {
        for arg in &atom.args {
            // An arithmetic argument is matched against the column's value: its variables
            // must be bound elsewhere.
            let place = if place == Place::Positive && matches!(arg.value, Expr::Binary(_) | Expr::Call(_)) {
                Place::Arithmetic
            } else {
                place
            };
            self.note_vars(&mut rec.walk.scope, &arg.value, place, aggregate);
            self.glob_argument(&arg.value);
        }
        let Some(relation) = self.resolve(atom) else { return };
        let consumer = head
            .map(|(to, _)| to)
            .filter(|&to| self.symbols.relations.get(to).is_some_and(|r| r.kind == RelationKind::Derived));
        rec.walk.body_refs.push((relation, atom.relation.span, consumer));
        if let Some((to, rule)) = head {
            // `risk_score` sums over the risk rules: what they read, it aggregates.
            let kind = if self.symbols.relations.get(to).is_some_and(|r| r.kind == RelationKind::Builtin) {
                EdgeKind::Aggregate
            } else {
                kind
            };
            rec.walk.edges.push(Edge { from: relation, to, kind, at: atom.span, rule });
        }
        let Some(columns) = self.columns_of(atom, relation) else { return };
        for (arg, column) in columns {
            let Some(expr) = atom.args.get(arg).map(|a| &a.value) else { continue };
            match expr {
                Expr::Binary(_) | Expr::Call(_) => {
                    let arg = u32::try_from(arg).unwrap_or(u32::MAX);
                    rec.walk.pending.push(At::AtomArg(rec.path.clone(), arg, column));
                }
                other => rec.walk.unify_arg(other, column),
            }
        }
    }
}
