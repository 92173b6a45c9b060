//! Rules, decision rules and tests: resolving atoms, arity, fields, types and safety.

use crate::symbols::{DecisionInfo, RISK_SCORE, RelationKind, Symbols};
use crate::types::{Inference, Node, Shape, arithmetic, merge};
use crate::{Program, Ty};
use gov_diag::{Applicability, Code, Diagnostic, Fix, Span, codes};
use gov_syntax::ast::{
    Aggregate, AggregateFn, Atom, BodyItem, Comparison, Decision, Effect, ExpectKind, Expr, Item, ItemKind, LitValue,
    MessagePart, Name, Rule, StrLit, TestBlock, TestStatement,
};
use gov_syntax::suggest::closest;
use gov_value::{BaseType, CompareOp};
use std::collections::{HashMap, HashSet};

/// How a rule's body depends on a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// Through a positive atom.
    Positive,
    /// Through `not`.
    Negative,
    /// Through an aggregate.
    Aggregate,
}

/// "Facts of `to` depend on facts of `from`", from one atom of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The relation in the body.
    pub from: usize,
    /// The relation the rule derives (`risk_score` for `risk` rules).
    pub to: usize,
    /// Positive, negative or through an aggregate.
    pub kind: EdgeKind,
    /// The body atom.
    pub at: Span,
    /// The rule's head (or decision name).
    pub rule: Span,
}

/// Arithmetic (or a `sum`) that computes a new value for the head of a rule deriving `head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArithSite {
    /// The derived relation.
    pub head: usize,
    /// The rule's head (as in [`Edge::rule`]).
    pub rule: Span,
    /// The arithmetic expression or the aggregate.
    pub at: Span,
    /// Whether it is an aggregate (a `sum`, or an aggregate of arithmetic).
    pub aggregate: bool,
}

/// What the rule pass learned, for the later passes and the language server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Dependency edges between relations.
    pub edges: Vec<Edge>,
    /// References to relations in bodies and test facts, with the relation the rule
    /// derives (`None` for decision rules and tests).
    pub body_refs: Vec<(usize, Span, Option<usize>)>,
    /// References to relations in rule heads.
    pub head_refs: Vec<(usize, Span)>,
    /// Value-inventing arithmetic, by rule.
    pub arithmetic: Vec<ArithSite>,
    /// Relations that unknown names were probably meant to be (their did-you-mean): they
    /// count as used, so a misspelt reference is reported once, not also as W0101.
    pub guessed_refs: Vec<usize>,
}

/// Where a variable occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Head,
    Positive,
    /// In arithmetic that is an argument of a positive atom: matched, not bound.
    Arithmetic,
    Negative,
    Compare,
    Message,
    Points,
}

#[derive(Debug)]
struct Var {
    node: Node,
    occurrences: Vec<(Span, Place, Option<usize>)>,
}

/// The variables of one rule. Occurrences inside aggregate `k` carry `Some(k)`.
#[derive(Debug, Default)]
struct Scope {
    vars: HashMap<String, Var>,
    order: Vec<String>,
}

/// A comparison or expression whose typing waits until every atom is seen.
enum Pending<'a> {
    Compare(&'a Comparison),
    Column(&'a Expr, Column),
    Points(&'a Expr),
}

/// The type a column expects: declared, or a node for derived relations.
#[derive(Debug, Clone, Copy)]
enum Column {
    /// The declared type, if it resolved, and the field's declaration.
    Declared(Option<Ty>, Option<Span>),
    Inferred(Node),
}

struct RuleWork<'a> {
    scope: Scope,
    pending: Vec<Pending<'a>>,
}

struct Cx<'a, 'd> {
    program: &'a Program,
    symbols: &'a Symbols,
    inference: Inference,
    columns: HashMap<usize, Vec<Node>>,
    facts: Facts,
    diagnostics: &'d mut Vec<Diagnostic>,
    work: Vec<RuleWork<'a>>,
    /// Relation names unknown names may still be compared with for a did-you-mean: each
    /// suggestion compares with every relation, so without a bound thousands of unknown
    /// names among thousands of relations (a big generated file) would take minutes.
    suggestion_budget: usize,
    /// The atoms whose relation is unknown, with the index of their diagnostic in
    /// `diagnostics`, to get their declaring fixes once the variables' types are known.
    unknown: Vec<(usize, Atom)>,
}

/// The initial [`Cx::suggestion_budget`]: far more than any hand-written package needs.
const SUGGESTION_BUDGET: usize = 2_000_000;

/// Checks every rule, decision rule, annotation and test; infers the column types of
/// derived relations into `symbols`.
pub fn check_rules(program: &Program, symbols: &mut Symbols, diagnostics: &mut Vec<Diagnostic>) -> Facts {
    let (facts, inferred, variable_types, unknown) = {
        let mut cx = Cx {
            program,
            symbols,
            inference: Inference::default(),
            columns: HashMap::new(),
            facts: Facts::default(),
            diagnostics,
            work: Vec::new(),
            suggestion_budget: SUGGESTION_BUDGET,
            unknown: Vec::new(),
        };
        for (index, relation) in symbols.relations.iter().enumerate() {
            if relation.kind == RelationKind::Derived {
                let nodes = relation.fields.iter().map(|_| cx.inference.node()).collect();
                cx.columns.insert(index, nodes);
            }
        }
        for item in program.files.iter().flat_map(|f| f.parsed.file.items.iter()) {
            cx.item(item);
        }
        let variable_types = cx.solve();
        let inferred: Vec<(usize, Vec<Option<Ty>>)> = cx
            .columns
            .clone()
            .into_iter()
            .map(|(relation, nodes)| {
                let types = nodes
                    .into_iter()
                    .map(|n| match cx.inference.shape(n) {
                        Shape::Exact(ty) => Some(ty),
                        Shape::Lit(base) => Some(Ty::Base(base)),
                        Shape::Unknown | Shape::Poison => None,
                    })
                    .collect();
                (relation, types)
            })
            .collect();
        (cx.facts, inferred, variable_types, cx.unknown)
    };
    symbols.variable_types = variable_types.into_iter().collect();
    for (relation, types) in inferred {
        if let Some(relation) = symbols.relation_mut(relation) {
            for (field, ty) in relation.fields.iter_mut().zip(types) {
                field.ty = ty;
            }
        }
    }
    crate::declare::add_fixes(program, symbols, &unknown, diagnostics);
    facts
}

fn vars_of<'e>(expr: &'e Expr, out: &mut Vec<&'e Name>) {
    match expr {
        Expr::Var(name) => out.push(name),
        Expr::Binary(binary) => {
            vars_of(&binary.left, out);
            vars_of(&binary.right, out);
        }
        Expr::Wildcard(_) | Expr::Lit(_) | Expr::Aggregate(_) => {}
    }
}

fn lit_shape(value: &LitValue) -> Shape {
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

/// "a `deny` rule", "an `allow` rule".
fn a_rule(effect: Effect) -> String {
    format!("{} `{}` rule", if effect.keyword().starts_with(['a', 'e', 'o']) { "an" } else { "a" }, effect.keyword())
}

/// Where `expr`, bound to a variable by `=`, computes a value no fact holds: arithmetic,
/// or an aggregate that adds (`sum`) or aggregates arithmetic (`max(x + 1 : …)`); `true`
/// for an aggregate. `count`, `min` and `max` of plain values only pick from finite sets.
fn invents_value(expr: &Expr) -> Option<(Span, bool)> {
    match expr {
        Expr::Binary(binary) => Some((binary.span, false)),
        Expr::Aggregate(aggregate)
            if aggregate.function == AggregateFn::Sum || matches!(aggregate.target, Expr::Binary(_)) =>
        {
            Some((aggregate.span, true))
        }
        _ => None,
    }
}

impl<'a> Cx<'a, '_> {
    fn item(&mut self, item: &'a Item) {
        self.annotations(item);
        match &item.kind {
            ItemKind::Rule(rule) => self.rule(rule),
            ItemKind::Decision(decision) => self.decision(decision),
            ItemKind::Test(test) => self.test(test),
            _ => {}
        }
    }

    fn annotations(&mut self, item: &Item) {
        for annotation in &item.annotations {
            if annotation.name.text != "overrides" {
                let name = &annotation.name;
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::UNKNOWN_ANNOTATION,
                        format!("unknown annotation `@{}`", name.text),
                        name.span,
                    )
                    .with_primary_label("not an annotation")
                    .with_did_you_mean(name.span, closest(&name.text, ["overrides"]))
                    .or_help("the only annotation is `@overrides(rule, …)`"),
                );
                continue;
            }
            // `@overrides` marks a deny or escalate rule's overlap with allow rules as intended.
            let effect = match &item.kind {
                ItemKind::Decision(decision) => Some(decision.effect),
                _ => None,
            };
            if !matches!(effect, Some(Effect::Deny | Effect::Escalate)) {
                let label = effect.map_or_else(
                    || "on an item that is not a decision rule".to_owned(),
                    |e| format!("on {}", a_rule(e)),
                );
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_ANNOTATION, "`@overrides` applies only to `deny` and `escalate` rules", annotation.span)
                        .with_primary_label(label)
                        .with_help("write `@overrides(rule, …)` on the deny or escalate rule, naming the allow rules whose overlap with it is intended"),
                );
                continue;
            }
            if annotation.args.is_empty() {
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_ANNOTATION, "`@overrides` names no rule", annotation.span)
                        .with_primary_label("no rule named")
                        .with_help(
                            "name the allow rules whose overlap with this rule is intended: `@overrides(rule, …)`",
                        ),
                );
                continue;
            }
            for arg in &annotation.args {
                self.rule_reference(arg, Some(Effect::Allow));
            }
        }
    }

    /// Checks a reference to a decision rule (in `@overrides` or `expect`), optionally of a
    /// given effect.
    fn rule_reference(&mut self, name: &Name, effect: Option<Effect>) {
        if self.symbols.poisoned_rules.contains(&name.text) {
            return;
        }
        match self.symbols.decision(&name.text) {
            Some(found) => {
                if let Some(effect) = effect.filter(|e| *e != found.effect) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::UNKNOWN_RULE,
                            format!("`{}` is {}, not {}", name.text, a_rule(found.effect), a_rule(effect)),
                            name.span,
                        )
                        .with_primary_label(format!("expected {}", a_rule(effect)))
                        .with_label(found.span, "defined here"),
                    );
                }
            }
            None => {
                let names = self
                    .symbols
                    .decisions
                    .iter()
                    .filter(|d| effect.is_none_or(|e| e == d.effect))
                    .map(|d| d.name.as_str());
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::UNKNOWN_RULE,
                        format!("no decision rule is named `{}`", name.text),
                        name.span,
                    )
                    .with_primary_label("unknown rule")
                    .with_did_you_mean(name.span, closest(&name.text, names)),
                );
            }
        }
    }

    // ---- rules -------------------------------------------------------------------------

    fn rule(&mut self, rule: &'a Rule) {
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
        let bindings = self.safety(&mut work.scope, &rule.body);
        if let Some(head) = derived {
            self.inventing_arithmetic(rule, head, &bindings);
        }
        self.work.push(work);
    }

    /// Records the arithmetic (and the `sum`s, see [`invents_value`]) of `=` bindings whose
    /// value reaches the head: the variable it binds is in the head, or binds (through
    /// further `=`) a variable in the head. Such arithmetic produces values of the head;
    /// arithmetic whose variables are all bound by atoms only filters. (Arithmetic written
    /// in the head itself is recorded by `head`.)
    fn inventing_arithmetic<'r>(&mut self, rule: &'r Rule, head: usize, bindings: &HashMap<String, &'r Comparison>) {
        let mut names = Vec::new();
        for arg in &rule.head.args {
            vars_of(&arg.value, &mut names);
        }
        let mut queue: Vec<&'r str> = names.iter().map(|n| n.text.as_str()).collect();
        let mut seen: HashSet<&'r str> = HashSet::new();
        while let Some(name) = queue.pop() {
            if !seen.insert(name) {
                continue;
            }
            let Some(comparison) = bindings.get(name) else { continue };
            let value = if matches!(&comparison.left, Expr::Var(v) if v.text == name) {
                &comparison.right
            } else {
                &comparison.left
            };
            if let Some((at, aggregate)) = invents_value(value) {
                self.facts.arithmetic.push(ArithSite { head, rule: rule.head.relation.span, at, aggregate });
            }
            let mut next = Vec::new();
            vars_of(value, &mut next);
            queue.extend(next.into_iter().map(|n| n.text.as_str()));
        }
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
                Expr::Binary(binary) => {
                    self.facts.arithmetic.push(ArithSite {
                        head: relation,
                        rule: head.relation.span,
                        at: binary.span,
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

    fn decision(&mut self, decision: &'a Decision) {
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
        self.safety(&mut work.scope, &decision.body);
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
                    work.pending.push(Pending::Compare(comparison));
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
            let place = if place == Place::Positive && matches!(arg.value, Expr::Binary(_)) {
                Place::Arithmetic
            } else {
                place
            };
            self.note_vars(&mut work.scope, &arg.value, place, aggregate);
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
                Expr::Binary(_) => work.pending.push(Pending::Column(expr, column)),
                other => self.unify_arg(&mut work.scope, other, column),
            }
        }
    }

    /// The relation an atom names, reporting unknown names (once: poisoned relations are
    /// silently skipped).
    fn resolve(&mut self, atom: &Atom) -> Option<usize> {
        match self.symbols.relation_id(&atom.relation.text) {
            Some(index) if self.symbols.relations.get(index).is_some_and(|r| r.poisoned) => None,
            Some(index) => Some(index),
            None => {
                let name = &atom.relation;
                let candidates = self.symbols.relations.len();
                let guess = if self.suggestion_budget >= candidates {
                    self.suggestion_budget -= candidates;
                    closest(&name.text, self.symbols.relation_names())
                } else {
                    None
                };
                self.facts.guessed_refs.extend(guess.and_then(|g| self.symbols.relation_id(g)));
                self.unknown.push((self.diagnostics.len(), atom.clone()));
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_RELATION, format!("unknown relation `{}`", name.text), name.span)
                        .with_primary_label("no relation has this name")
                        .with_did_you_mean(name.span, guess)
                        .or_help(format!("declare it, e.g. `data {}(…)`, or derive it with a rule", name.text)),
                );
                None
            }
        }
    }

    fn arity_error(&self, relation: &Name, expected: usize, found: usize, at: Span) -> Diagnostic {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        Diagnostic::new(
            codes::ARITY,
            format!(
                "`{}` takes {expected} {}, but {found} {} given",
                relation.text,
                plural(expected),
                if found == 1 { "was" } else { "were" }
            ),
            at,
        )
        .with_primary_label(format!("{found} {}", plural(found)))
    }

    /// Pairs each argument of `atom` with its column, reporting arity and field errors.
    fn columns_of(&mut self, atom: &'a Atom, relation: usize) -> Option<Vec<(&'a Expr, Column)>> {
        let info = self.symbols.relations.get(relation)?;
        let column = |i: usize, cx: &Self| -> Column {
            match info.kind {
                RelationKind::Derived => cx
                    .columns
                    .get(&relation)
                    .and_then(|c| c.get(i))
                    .map_or(Column::Declared(None, None), |n| Column::Inferred(*n)),
                _ => Column::Declared(info.fields.get(i).and_then(|f| f.ty), info.fields.get(i).and_then(|f| f.span)),
            }
        };
        let named = atom.args.iter().filter(|a| a.field.is_some()).count();
        if named == 0 {
            if atom.args.len() != info.fields.len() {
                let mut diagnostic = self.arity_error(&atom.relation, info.fields.len(), atom.args.len(), atom.span);
                if let Some(span) = info.span {
                    diagnostic = diagnostic.with_label(span, "declared here");
                }
                let names: Vec<&str> = info.fields.iter().filter_map(|f| f.name.as_deref()).collect();
                if names.len() == info.fields.len() && !names.is_empty() {
                    diagnostic =
                        diagnostic.with_help(format!("`{}` has fields: {}", atom.relation.text, names.join(", ")));
                }
                self.diagnostics.push(diagnostic);
                return None;
            }
            return Some(atom.args.iter().enumerate().map(|(i, arg)| (&arg.value, column(i, self))).collect());
        }
        if named != atom.args.len() {
            let positional = atom.args.iter().find(|a| a.field.is_none()).map_or(atom.span, |a| a.value.span());
            self.diagnostics.push(
                Diagnostic::new(codes::DUPLICATE_FIELD, "positional and named arguments cannot be mixed", positional)
                    .with_primary_label("positional argument among named ones")
                    .with_help("name every argument (`field: value`) or none"),
            );
            return None;
        }
        if info.kind == RelationKind::Derived {
            self.diagnostics.push(
                Diagnostic::new(
                    codes::UNKNOWN_FIELD,
                    format!("`{}` is derived and has no field names", atom.relation.text),
                    atom.span,
                )
                .with_primary_label("named arguments need a declared relation")
                .with_help("pass the arguments in order"),
            );
            return None;
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut out = Vec::new();
        for arg in &atom.args {
            let Some(field) = &arg.field else { continue };
            if let Some(first) = seen.insert(&field.text, field.span) {
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::DUPLICATE_FIELD,
                        format!("field `{}` is given twice", field.text),
                        field.span,
                    )
                    .with_primary_label("given again here")
                    .with_label(first, "first given here"),
                );
                continue;
            }
            match info.fields.iter().position(|f| f.name.as_deref() == Some(field.text.as_str())) {
                Some(i) => out.push((&arg.value, column(i, self))),
                None => {
                    let names = info.fields.iter().filter_map(|f| f.name.as_deref());
                    let mut diagnostic = Diagnostic::new(
                        codes::UNKNOWN_FIELD,
                        format!("`{}` has no field `{}`", atom.relation.text, field.text),
                        field.span,
                    )
                    .with_primary_label("unknown field")
                    .with_did_you_mean(field.span, closest(&field.text, names));
                    if let Some(span) = info.span {
                        diagnostic = diagnostic.with_label(span, "declared here");
                    }
                    self.diagnostics.push(diagnostic);
                }
            }
        }
        Some(out)
    }

    // ---- variables and types ----------------------------------------------------------

    fn occurrence(&mut self, scope: &mut Scope, name: &Name, place: Place, aggregate: Option<usize>) {
        let inference = &mut self.inference;
        let var = scope.vars.entry(name.text.clone()).or_insert_with(|| {
            scope.order.push(name.text.clone());
            Var { node: inference.node(), occurrences: Vec::new() }
        });
        var.occurrences.push((name.span, place, aggregate));
    }

    fn note_vars(&mut self, scope: &mut Scope, expr: &Expr, place: Place, aggregate: Option<usize>) {
        let mut names = Vec::new();
        vars_of(expr, &mut names);
        for name in names {
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
        let aliases = [found, expected].iter().any(|s| matches!(s, Shape::Exact(Ty::Alias(_))));
        if aliases && found.base(symbols) == expected.base(symbols) {
            diagnostic = diagnostic.with_note(
                "type aliases are distinct types: a value of one alias is not a value of another, nor of its base type",
            );
        }
        diagnostic
    }

    /// Unifies a simple argument (variable or literal) with a column.
    fn unify_arg(&mut self, scope: &mut Scope, expr: &Expr, column: Column) {
        match expr {
            Expr::Var(name) => {
                let Some(node) = scope.vars.get(&name.text).map(|v| v.node) else { return };
                // What each side was before, and where that came from: after a failed union
                // the conflict only tells the column's side.
                let (found, found_because) = self.inference.class(node);
                let (expected, expected_because) = match column {
                    Column::Inferred(col) => self.inference.class(col),
                    Column::Declared(Some(ty), at) => (Shape::Exact(ty), at),
                    Column::Declared(None, _) => return,
                };
                let result = match column {
                    Column::Inferred(col) => self.inference.union(col, node, name.span, self.symbols),
                    Column::Declared(Some(ty), _) => {
                        self.inference.constrain(node, Shape::Exact(ty), name.span, self.symbols)
                    }
                    Column::Declared(None, _) => return,
                };
                if result.is_err() {
                    let symbols = self.symbols;
                    let mut diagnostic = Diagnostic::new(
                        codes::TYPE_MISMATCH,
                        format!(
                            "type mismatch: expected {}, found {}",
                            expected.describe(symbols),
                            found.describe(symbols)
                        ),
                        name.span,
                    )
                    .with_primary_label(format!(
                        "`{}` is {}, but {} is expected here",
                        name.text,
                        found.describe(symbols),
                        expected.describe(symbols)
                    ));
                    if let Some(because) = found_because.filter(|b| *b != name.span) {
                        diagnostic = diagnostic.with_label(
                            because,
                            format!("`{}` is {} because of this", name.text, found.describe(symbols)),
                        );
                    }
                    // A declared column's type is in plain sight; a derived column's comes
                    // from another rule.
                    if let (Column::Inferred(_), Some(because)) =
                        (column, expected_because.filter(|b| *b != name.span && Some(*b) != found_because))
                    {
                        diagnostic =
                            diagnostic.with_label(because, format!("{} because of this", expected.describe(symbols)));
                    }
                    let aliases = [found, expected].iter().any(|s| matches!(s, Shape::Exact(Ty::Alias(_))));
                    if aliases && found.base(symbols) == expected.base(symbols) {
                        diagnostic = diagnostic.with_note("type aliases are distinct types: a value of one alias is not a value of another, nor of its base type");
                    }
                    self.diagnostics.push(diagnostic);
                    self.inference.poison(node);
                }
            }
            Expr::Lit(lit) => {
                let found = lit_shape(&lit.value);
                let result = match column {
                    Column::Inferred(col) => self.inference.constrain(col, found, lit.span, self.symbols),
                    Column::Declared(Some(ty), at) => merge(found, Shape::Exact(ty), self.symbols)
                        .map(|_| ())
                        .ok_or(crate::types::Conflict { existing: Shape::Exact(ty), because: at }),
                    Column::Declared(None, _) => return,
                };
                if let Err(conflict) = result {
                    self.diagnostics.push(self.mismatch(lit.span, found, conflict.existing, conflict.because));
                }
            }
            Expr::Wildcard(_) | Expr::Binary(_) | Expr::Aggregate(_) => {}
        }
    }

    /// The shape of an expression; with `report`, operator errors are reported.
    fn shape_of(&mut self, scope: &Scope, expr: &Expr, report: bool) -> Shape {
        match expr {
            Expr::Var(name) => scope.vars.get(&name.text).map_or(Shape::Unknown, |v| self.inference.shape(v.node)),
            Expr::Wildcard(_) => Shape::Poison,
            Expr::Lit(lit) => lit_shape(&lit.value),
            Expr::Binary(binary) => {
                let left = self.shape_of(scope, &binary.left, report);
                let right = self.shape_of(scope, &binary.right, report);
                arithmetic(binary.op, left, right, self.symbols).unwrap_or_else(|| {
                    // The silent passes learn nothing from an ill-typed operation; the
                    // reporting pass reports it and poisons what depends on it.
                    if !report {
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
                    if !report {
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

    /// Types one pending constraint; with `report`, conflicts are reported.
    fn constraint(&mut self, scope: &Scope, pending: &Pending<'_>, report: bool) {
        match pending {
            Pending::Compare(comparison) => self.compare(scope, comparison, report),
            Pending::Column(expr, column) => {
                let found = self.shape_of(scope, expr, report);
                let result = match *column {
                    Column::Inferred(node) => self.inference.absorb(node, found, expr.span(), self.symbols),
                    Column::Declared(Some(ty), at) => merge(found, Shape::Exact(ty), self.symbols)
                        .map(|_| ())
                        .ok_or(crate::types::Conflict { existing: Shape::Exact(ty), because: at }),
                    Column::Declared(None, _) => Ok(()),
                };
                if let (Err(conflict), true) = (result, report) {
                    self.diagnostics.push(self.mismatch(expr.span(), found, conflict.existing, conflict.because));
                    if let Column::Inferred(node) = column {
                        self.inference.poison(*node);
                    }
                }
            }
            Pending::Points(expr) => {
                let found = self.shape_of(scope, expr, report);
                let int = Shape::Exact(Ty::Base(BaseType::Int));
                let result = match expr {
                    Expr::Var(name) => match scope.vars.get(&name.text) {
                        Some(var) => self.inference.constrain(var.node, int, name.span, self.symbols),
                        None => Ok(()),
                    },
                    _ => merge(found, int, self.symbols)
                        .map(|_| ())
                        .ok_or(crate::types::Conflict { existing: int, because: None }),
                };
                if let (Err(_), true) = (result, report) {
                    self.diagnostics
                        .push(self.mismatch(expr.span(), found, int, None).with_note("risk points are an Int"));
                }
            }
        }
    }

    fn compare(&mut self, scope: &Scope, comparison: &Comparison, report: bool) {
        let left = self.shape_of(scope, &comparison.left, report);
        let right = self.shape_of(scope, &comparison.right, report);
        let var_node = |e: &Expr| match e {
            Expr::Var(name) => scope.vars.get(&name.text).map(|v| (v.node, name.span)),
            _ => None,
        };
        let result = match (var_node(&comparison.left), var_node(&comparison.right)) {
            (Some((a, at)), Some((b, _))) => self.inference.union(a, b, at, self.symbols),
            (Some((node, at)), None) => self.inference.absorb(node, right, at, self.symbols),
            (None, Some((node, at))) => self.inference.absorb(node, left, at, self.symbols),
            (None, None) => merge(left, right, self.symbols)
                .map(|_| ())
                .ok_or(crate::types::Conflict { existing: left, because: None }),
        };
        if !report {
            return;
        }
        match result {
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
                let merged = merge(left, right, self.symbols).unwrap_or(Shape::Poison);
                if !gov_value::compare_allowed(comparison.op, merged.base(self.symbols).unwrap_or(BaseType::Int)) {
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

    /// Types the pending constraints: first silently to a fixpoint (so types flow in any
    /// order), then once more reporting what still conflicts.
    /// Types the pending constraints and returns the inferred type of every variable
    /// occurrence, by span.
    fn solve(&mut self) -> Vec<(Span, Ty)> {
        let work = std::mem::take(&mut self.work);
        for _ in 0..8 {
            let before = self.inference.changes();
            for rule in &work {
                for pending in &rule.pending {
                    self.constraint(&rule.scope, pending, false);
                }
            }
            if self.inference.changes() == before {
                break;
            }
        }
        for rule in &work {
            for pending in &rule.pending {
                self.constraint(&rule.scope, pending, true);
            }
        }
        let mut types = Vec::new();
        for var in work.iter().flat_map(|rule| rule.scope.vars.values()) {
            let ty = match self.inference.shape(var.node) {
                Shape::Exact(ty) => ty,
                Shape::Lit(base) => Ty::Base(base),
                Shape::Unknown | Shape::Poison => continue,
            };
            types.extend(var.occurrences.iter().map(|(span, _, _)| (*span, ty)));
        }
        types
    }

    // ---- safety -------------------------------------------------------------------------

    /// Reports variables that no positive atom binds, and variables used once. Returns the
    /// `=` that binds each variable of the body's top level that no positive atom binds.
    fn safety<'b>(&mut self, scope: &mut Scope, body: &'b [BodyItem]) -> HashMap<String, &'b Comparison> {
        let (bound, parents, bindings) = bound_variables(scope, body);
        let is_bound = |name: &str, aggregate: Option<usize>| visible(&bound, &parents, aggregate, name);
        // Unbound variables first: one that looks like a misspelt bound variable gets a
        // did-you-mean, and that variable is then not also reported as used once.
        let mut reported: HashSet<&str> = HashSet::new();
        let mut guessed: HashSet<&str> = HashSet::new();
        for name in &scope.order {
            let Some(var) = scope.vars.get(name) else { continue };
            for &(span, place, aggregate) in &var.occurrences {
                if is_bound(name, aggregate) || reported.contains(name.as_str()) {
                    continue;
                }
                let Some((code, what)) = unsafe_code(place) else { continue };
                reported.insert(name);
                let guess =
                    closest(name, scope.order.iter().map(String::as_str).filter(|other| is_bound(other, aggregate)));
                guessed.extend(guess);
                self.diagnostics.push(
                    Diagnostic::new(code, format!("variable `{name}` {what} is not bound"), span)
                        .with_primary_label("not bound by any positive atom")
                        .with_did_you_mean(span, guess)
                        .or_help(format!(
                            "bind `{name}` with a positive atom in the body, e.g. `relation(…, {name}, …)`"
                        )),
                );
            }
        }
        for name in &scope.order {
            let Some(var) = scope.vars.get(name) else { continue };
            if var.occurrences.len() == 1
                && !name.starts_with('_')
                && !reported.contains(name.as_str())
                && !guessed.contains(name.as_str())
                && let Some((span, _, _)) = var.occurrences.first()
            {
                self.diagnostics.push(
                    Diagnostic::new(codes::SINGLETON_VARIABLE, format!("variable `{name}` is used only once"), *span)
                        .with_primary_label("used once")
                        .with_help(format!("write `_` if any value will do, or `_{name}` to keep the name"))
                        .with_fix(Fix::replace(
                            format!("Rename to `_{name}`"),
                            Applicability::Safe,
                            *span,
                            format!("_{name}"),
                        )),
                );
            }
        }
        bindings
    }

    // ---- tests --------------------------------------------------------------------------

    fn test(&mut self, test: &'a TestBlock) {
        for statement in &test.statements {
            match statement {
                TestStatement::WithData(_) => {}
                TestStatement::Given(facts) => {
                    for fact in facts {
                        self.given(fact);
                    }
                }
                TestStatement::Expect(expectation) => {
                    if let ExpectKind::Effect { effect, rules, approvers } = &expectation.kind {
                        for rule in rules {
                            self.rule_reference(rule, Some(*effect));
                        }
                        self.expected_groups(*effect, rules, approvers);
                    }
                }
            }
        }
    }

    /// Checks the approver groups of an `expect` line: only `expect escalate` has them, and
    /// each must be the group of some `escalate` rule, or the test could never pass.
    fn expected_groups(&mut self, effect: Effect, rules: &[Name], approvers: &[StrLit]) {
        let (Some(first), Some(last)) = (approvers.first(), approvers.last()) else { return };
        if effect != Effect::Escalate {
            let groups: Vec<String> = approvers.iter().map(|g| format!("to \"{}\"", g.value)).collect();
            // The groups follow the last rule name (`expect deny big to "g"`): delete from
            // there. Without a rule name the `to` keyword's start is not known: no fix.
            let remove = rules.last().map(|rule| {
                Fix::replace(
                    "Remove the approver groups",
                    Applicability::Safe,
                    Span::new(rule.span.file, rule.span.end, last.span.end),
                    "",
                )
            });
            self.diagnostics.push(
                Diagnostic::new(
                    codes::INVALID_EXPECTATION,
                    format!("`expect {}` takes no approver groups", effect.keyword()),
                    first.span.to(last.span),
                )
                .with_primary_label(format!("a `{}` decision has no approvers", effect.keyword()))
                .with_help(format!("only `expect escalate` checks approver groups: remove `{}`", groups.join(" ")))
                .with_fixes(remove),
            );
            return;
        }
        // A rule that failed to parse may have been the one escalating to a group.
        if !self.symbols.poisoned_rules.is_empty() {
            return;
        }
        let escalations: Vec<&DecisionInfo> =
            self.symbols.decisions.iter().filter(|d| d.effect == Effect::Escalate).collect();
        for group in approvers {
            if escalations.iter().any(|d| d.approver.as_ref().is_some_and(|a| a.value == group.value)) {
                continue;
            }
            let known: Vec<&str> =
                escalations.iter().filter_map(|d| d.approver.as_ref().map(|a| a.value.as_str())).collect();
            let mut diagnostic = Diagnostic::new(
                codes::INVALID_EXPECTATION,
                format!("no `escalate` rule escalates to \"{}\"", group.value),
                group.span,
            )
            .with_primary_label("not the group of any escalate rule");
            diagnostic = match closest(&group.value, known.iter().copied()) {
                Some(guess) => diagnostic.with_help(format!("did you mean \"{guess}\"?")).with_fix(Fix::replace(
                    format!("Change to \"{guess}\""),
                    Applicability::NeedsReview,
                    group.span,
                    gov_syntax::format::quote(guess),
                )),
                None => diagnostic.with_help("the approvers of a decision are the groups of the escalate rules that fired: this test can never pass"),
            };
            for rule in rules {
                if let Some(approver) = self
                    .symbols
                    .decision(&rule.text)
                    .filter(|d| d.effect == Effect::Escalate)
                    .and_then(|d| d.approver.as_ref())
                {
                    diagnostic = diagnostic
                        .with_label(approver.span, format!("`{}` escalates to \"{}\"", rule.text, approver.value));
                }
            }
            self.diagnostics.push(diagnostic);
        }
    }

    fn given(&mut self, fact: &'a Atom) {
        let Some(relation) = self.resolve(fact) else { return };
        self.facts.body_refs.push((relation, fact.relation.span, None));
        let kind = self.symbols.relations.get(relation).map(|r| r.kind);
        if !matches!(kind, Some(RelationKind::Input | RelationKind::Data)) {
            self.diagnostics.push(
                Diagnostic::new(
                    codes::TEST_NOT_A_FACT,
                    format!("`{}` is not an input or data relation", fact.relation.text),
                    fact.relation.span,
                )
                .with_primary_label("derived relations are computed, not given")
                .with_help("give the input or data facts it is derived from"),
            );
            return;
        }
        let Some(columns) = self.columns_of(fact, relation) else { return };
        // Named arguments may leave fields out in a body, not in a given fact: it states one
        // whole fact. (When a named argument failed to resolve, that is the one report.)
        if columns.len() == fact.args.len()
            && fact.args.iter().any(|a| a.field.is_some())
            && let Some(info) = self.symbols.relations.get(relation)
        {
            let missing: Vec<&str> = info
                .fields
                .iter()
                .filter_map(|f| f.name.as_deref())
                .filter(|name| !fact.args.iter().any(|a| a.field.as_ref().is_some_and(|f| f.text == *name)))
                .collect();
            if !missing.is_empty() {
                let listed: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                let (noun, listed) = match listed.split_last() {
                    Some((last, rest)) if !rest.is_empty() => ("fields", format!("{} and {last}", rest.join(", "))),
                    _ => ("field", listed.concat()),
                };
                let mut diagnostic = Diagnostic::new(
                    codes::TEST_NOT_A_FACT,
                    format!("the given fact of `{}` leaves out {noun} {listed}", fact.relation.text),
                    fact.span,
                )
                .with_primary_label(format!("no value for {listed}"))
                .with_help("a given fact states one whole fact: give every field a value");
                if let Some(span) = info.span {
                    diagnostic = diagnostic.with_label(span, "declared here");
                }
                self.diagnostics.push(diagnostic);
            }
        }
        let mut scope = Scope::default();
        for (expr, column) in columns {
            match expr {
                Expr::Lit(_) => self.unify_arg(&mut scope, expr, column),
                other => self.diagnostics.push(
                    Diagnostic::new(codes::TEST_NOT_A_FACT, "a given fact holds only literal values", other.span())
                        .with_primary_label("not a literal")
                        .with_help("write the value itself, e.g. `\"bot-1\"` or `5000`"),
                ),
            }
        }
    }
}

/// The variables bound at the top level of a body (`None`) and inside each aggregate
/// (`Some(k)`), by name.
type Bound = HashMap<Option<usize>, HashSet<String>>;

/// The code and wording for an unbound variable at `place`; `None` where occurring is
/// what binds a variable.
fn unsafe_code(place: Place) -> Option<(Code, &'static str)> {
    match place {
        Place::Positive => None,
        Place::Head => Some((codes::UNSAFE_HEAD, "in the head")),
        Place::Points => Some((codes::UNSAFE_HEAD, "in the risk points")),
        Place::Negative => Some((codes::UNSAFE_NEGATION, "in a negation")),
        Place::Compare => Some((codes::UNSAFE_COMPARISON, "in a comparison")),
        Place::Arithmetic => Some((codes::UNSAFE_COMPARISON, "in an arithmetic argument")),
        Place::Message => Some((codes::UNSAFE_MESSAGE, "in the message")),
    }
}

/// The aggregate each aggregate is nested in (`None`: the top level of the body), by the
/// aggregates' keys (`Some(k)` as in [`Bound`]).
type Parents = HashMap<usize, Option<usize>>;

/// Whether `name` is bound inside `aggregate`: by it, or by any conjunction enclosing it
/// (an enclosing aggregate's local variables are group variables of a nested one).
fn visible(bound: &Bound, parents: &Parents, aggregate: Option<usize>, name: &str) -> bool {
    let mut at = aggregate;
    // Invariant: `parents` is a forest (each aggregate lies inside the span of its
    // parent), so the walk ends at the top level; the depth bound is a second guard.
    for _ in 0..=parents.len() {
        if bound.get(&at).is_some_and(|b| b.contains(name)) {
            return true;
        }
        match at {
            Some(k) => at = parents.get(&k).copied().flatten(),
            None => return false,
        }
    }
    false
}

/// The variables bound at the top level of a body (`None`) and inside each aggregate
/// (`Some(k)`, in addition to those of the conjunctions enclosing it): those of positive
/// atoms, then those that `=` binds from bound values, to a fixpoint. Also where each
/// aggregate is nested, and the `=` that binds each variable of the top level that no
/// positive atom binds.
fn bound_variables<'b>(scope: &Scope, body: &'b [BodyItem]) -> (Bound, Parents, HashMap<String, &'b Comparison>) {
    let mut bound: Bound = HashMap::new();
    for (name, var) in &scope.vars {
        for &(_, place, aggregate) in &var.occurrences {
            if place == Place::Positive {
                bound.entry(aggregate).or_default().insert(name.clone());
            }
        }
    }
    let mut bindings: HashMap<String, &Comparison> = HashMap::new();
    let mut equalities: Vec<(Option<usize>, &Comparison)> = Vec::new();
    let mut parents = Parents::new();
    collect_equalities(body, None, &mut equalities, &mut parents);
    loop {
        let mut changed = false;
        for (aggregate, comparison) in &equalities {
            let known = |name: &str| visible(&bound, &parents, *aggregate, name);
            let is_bound = |e: &Expr| {
                if matches!(e, Expr::Aggregate(_)) {
                    return true;
                }
                let mut names = Vec::new();
                vars_of(e, &mut names);
                !matches!(e, Expr::Wildcard(_)) && names.iter().all(|n| known(&n.text))
            };
            let newly = match (&comparison.left, &comparison.right) {
                (Expr::Var(v), other) if !known(&v.text) && is_bound(other) => Some(v.text.clone()),
                (other, Expr::Var(v)) if !known(&v.text) && is_bound(other) => Some(v.text.clone()),
                _ => None,
            };
            if let Some(name) = newly {
                if aggregate.is_none() {
                    bindings.insert(name.clone(), comparison);
                }
                bound.entry(*aggregate).or_default().insert(name);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (bound, parents, bindings)
}

/// The `=` comparisons of a body and of its aggregates, each with the aggregate it is in;
/// records where each aggregate is nested into `parents`.
fn collect_equalities<'b>(
    body: &'b [BodyItem],
    aggregate: Option<usize>,
    out: &mut Vec<(Option<usize>, &'b Comparison)>,
    parents: &mut Parents,
) {
    for item in body {
        if let BodyItem::Compare(comparison) = item {
            if comparison.op == CompareOp::Eq {
                out.push((aggregate, comparison));
            }
            for side in [&comparison.left, &comparison.right] {
                if let Expr::Aggregate(agg) = side {
                    let key = agg.span.start as usize;
                    parents.insert(key, aggregate);
                    collect_equalities(&agg.body, Some(key), out, parents);
                }
            }
        }
    }
}
