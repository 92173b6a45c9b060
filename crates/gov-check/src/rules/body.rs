//! The walk over rules and decision rules: each head and body atom resolved, each variable
//! occurrence recorded with its place, the dependency edges and value-inventing arithmetic
//! collected, and the typing constraints queued for [`super::infer`].

use super::calls::Position;
use super::{ArithSite, Column, Cx, Edge, EdgeKind, Pending, Place, RuleWork, Scope};
use crate::symbols::{RISK_SCORE, RelationKind};
use gov_diag::{Diagnostic, Span, codes};
use gov_syntax::ast::{
    Aggregate, AggregateFn, Approver, Atom, BodyItem, Collection, DecisionRule, Effect, Expr, Invariant, Item,
    MessagePart, Rule,
};

impl<'a> Cx<'a, '_> {
    pub(super) fn rule(&mut self, item: &Item, rule: &'a Rule) {
        let mut work = RuleWork { scope: Scope::default(), pending: Vec::new() };
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
            self.facts.head_refs.push((head, rule.head.relation.span));
        }
        self.body(&mut work, &rule.body, derived.map(|to| (to, rule.head.relation.span)), None);
        match derived {
            Some(head) => self.head(&mut work, &rule.head, head),
            // The head is already reported (E0109) or broken; still count its variables,
            // so none of them is also reported as used only once.
            None => {
                for arg in &rule.head.args {
                    self.note_vars(&mut work.scope, &arg.value, Place::Head, None);
                }
            }
        }
        let inventing = self.safety(item, &work.scope, &rule.body, Some(rule));
        if let Some(head) = derived {
            let rule = rule.head.relation.span;
            self.facts.arithmetic.extend(inventing.into_iter().map(|(at, aggregate)| ArithSite {
                head,
                rule,
                at,
                aggregate,
            }));
        }
        self.work.push(work);
    }

    fn head(&mut self, work: &mut RuleWork<'a>, head: &'a Atom, relation: usize) {
        let columns = self.columns.get(&relation).cloned().unwrap_or_default();
        if head.args.len() != columns.len() {
            let first = self.symbols.relations.get(relation).and_then(|r| r.span);
            let mut diagnostic = self.arity_error(&head.relation, columns.len(), head.args.len(), head.span);
            if let Some(first) = first {
                diagnostic = diagnostic.with_label(
                    first,
                    format!(
                        "`{}` first derived with {} {} here",
                        head.relation.text,
                        columns.len(),
                        if columns.len() == 1 { "argument" } else { "arguments" }
                    ),
                );
            }
            self.diagnostics.push(diagnostic);
            // Still count the head's variables, so none is also reported as used once.
            for arg in &head.args {
                self.note_vars(&mut work.scope, &arg.value, Place::Head, None);
            }
            return;
        }
        for (arg, node) in head.args.iter().zip(columns) {
            if let Some(field) = &arg.field {
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_FIELD, "a rule head takes positional arguments", field.span)
                        .with_primary_label("named argument in a head")
                        .with_help(format!(
                            "derived relations have no field names: write `{}(…)` with values in order",
                            head.relation.text
                        )),
                );
                self.note_vars(&mut work.scope, &arg.value, Place::Head, None);
                continue;
            }
            match &arg.value {
                Expr::Wildcard(span) => self.diagnostics.push(
                    Diagnostic::new(codes::UNSAFE_HEAD, "`_` in a rule head", *span)
                        .with_primary_label("a head needs a value here")
                        .with_help("use a variable that the body binds, or a literal"),
                ),
                Expr::Binary(_) | Expr::Call(_) => {
                    self.facts.arithmetic.push(ArithSite {
                        head: relation,
                        rule: head.relation.span,
                        at: arg.value.span(),
                        aggregate: false,
                    });
                    self.note_vars(&mut work.scope, &arg.value, Place::Head, None);
                    work.pending.push(Pending::Column(&arg.value, Column::Inferred(node)));
                }
                value => {
                    self.note_vars(&mut work.scope, value, Place::Head, None);
                    self.unify_arg(&mut work.scope, value, Column::Inferred(node));
                }
            }
        }
    }

    pub(super) fn decision(&mut self, item: &Item, decision: &'a DecisionRule) {
        let mut work = RuleWork { scope: Scope::default(), pending: Vec::new() };
        let risk = (decision.effect == Effect::Risk).then(|| self.symbols.relation_id(RISK_SCORE)).flatten();
        self.body(&mut work, &decision.body, risk.map(|to| (to, decision.name.span)), None);
        if let Some(message) = &decision.message {
            for part in &message.parts {
                if let MessagePart::Var(name) = part {
                    self.occurrence(&mut work.scope, name, Place::Message, None);
                }
            }
        }
        if let Some(points) = &decision.points {
            self.note_vars(&mut work.scope, points, Place::Points, None);
            work.pending.push(Pending::Points(points));
        }
        if let Some(Approver::Var(group)) = &decision.approver {
            self.occurrence(&mut work.scope, group, Place::Approver, None);
            work.pending.push(Pending::Approver(group));
        }
        self.safety(item, &work.scope, &decision.body, None);
        self.work.push(work);
    }

    /// An invariant's body, checked as a decision rule's is.
    pub(super) fn invariant(&mut self, item: &Item, invariant: &'a Invariant) {
        let mut work = RuleWork { scope: Scope::default(), pending: Vec::new() };
        self.body(&mut work, &invariant.body, None, None);
        self.safety(item, &work.scope, &invariant.body, None);
        self.work.push(work);
    }

    /// Walks a body (or an aggregate's body, `aggregate = Some(k)`), resolving atoms and
    /// recording edges to `head`.
    fn body(
        &mut self,
        work: &mut RuleWork<'a>,
        body: &'a [BodyItem],
        head: Option<(usize, Span)>,
        aggregate: Option<usize>,
    ) {
        for item in body {
            match item {
                BodyItem::Atom(atom) => {
                    let kind = if aggregate.is_some() { EdgeKind::Aggregate } else { EdgeKind::Positive };
                    self.atom(work, atom, head, kind, Place::Positive, aggregate);
                }
                BodyItem::Not(atom, _) => {
                    let kind = if aggregate.is_some() { EdgeKind::Aggregate } else { EdgeKind::Negative };
                    self.atom(work, atom, head, kind, Place::Negative, aggregate);
                }
                BodyItem::Compare(comparison) => {
                    for side in [&comparison.left, &comparison.right] {
                        match side {
                            Expr::Aggregate(agg) => self.aggregate(work, agg, head),
                            Expr::Wildcard(span) => self.diagnostics.push(
                                Diagnostic::new(codes::UNSAFE_COMPARISON, "`_` in a comparison", *span)
                                    .with_primary_label("a comparison needs a value here")
                                    .with_help("use a variable bound by an atom, or a literal"),
                            ),
                            other => self.note_vars(&mut work.scope, other, Place::Compare, aggregate),
                        }
                    }
                    self.glob_compared(comparison);
                    work.pending.push(Pending::Compare(comparison));
                }
                BodyItem::Test(call) | BodyItem::NotTest(call, _) => {
                    self.call_site(call, Position::Test);
                    for arg in &call.args {
                        self.note_vars(&mut work.scope, arg, Place::Argument, aggregate);
                    }
                    work.pending.push(Pending::Test(call));
                }
                BodyItem::In(membership) => {
                    match &membership.collection {
                        Collection::Call(call) => {
                            self.call_site(call, Position::Generator);
                            for arg in &call.args {
                                self.note_vars(&mut work.scope, arg, Place::Argument, aggregate);
                            }
                        }
                        // An `in` the rewrite could not turn into an atom (E0207): its
                        // variable is still used here, so it draws no other diagnostic.
                        Collection::List(list) => self.note_vars(&mut work.scope, list, Place::Positive, aggregate),
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
                        element => self.note_vars(&mut work.scope, element, place, aggregate),
                    }
                    work.pending.push(Pending::Member(membership));
                }
            }
        }
    }

    fn aggregate(&mut self, work: &mut RuleWork<'a>, aggregate: &'a Aggregate, head: Option<(usize, Span)>) {
        let index = aggregate.span.start as usize;
        self.body(work, &aggregate.body, head, Some(index));
        match &aggregate.target {
            Expr::Wildcard(span) if aggregate.function != AggregateFn::Count => self.diagnostics.push(
                Diagnostic::new(codes::UNSAFE_COMPARISON, format!("`{}` of `_`", aggregate.function.name()), *span)
                    .with_primary_label("nothing to aggregate")
                    .with_help("name the value to aggregate with a variable of the body"),
            ),
            target => self.note_vars(&mut work.scope, target, Place::Compare, Some(index)),
        }
    }

    fn atom(
        &mut self,
        work: &mut RuleWork<'a>,
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
            self.note_vars(&mut work.scope, &arg.value, place, aggregate);
            self.glob_argument(&arg.value);
        }
        let Some(relation) = self.resolve(atom) else { return };
        let consumer = head
            .map(|(to, _)| to)
            .filter(|&to| self.symbols.relations.get(to).is_some_and(|r| r.kind == RelationKind::Derived));
        self.facts.body_refs.push((relation, atom.relation.span, consumer));
        if let Some((to, rule)) = head {
            // `risk_score` sums over the risk rules: what they read, it aggregates.
            let kind = if self.symbols.relations.get(to).is_some_and(|r| r.kind == RelationKind::Builtin) {
                EdgeKind::Aggregate
            } else {
                kind
            };
            self.facts.edges.push(Edge { from: relation, to, kind, at: atom.span, rule });
        }
        let Some(columns) = self.columns_of(atom, relation) else { return };
        for (expr, column) in columns {
            match expr {
                Expr::Binary(_) | Expr::Call(_) => work.pending.push(Pending::Column(expr, column)),
                other => self.unify_arg(&mut work.scope, other, column),
            }
        }
    }
}
