//! A reference evaluator for Gov, for differential testing.
//!
//! [`evaluate`] computes the least model of a checked program's rules, its data and a
//! request's input facts the simplest way there is, straight over the syntax tree:
//!
//! 1. **Strata.** Every relation and every decision rule is a node. A rule's head depends
//!    on each relation of its body: at the same level or above through a positive atom,
//!    strictly above through `not` or an aggregate. A `risk` rule is strictly below the
//!    built-in `risk_score`. Levels start at 0 and are raised until every edge holds (the
//!    textbook algorithm); a level above the number of nodes means a cycle through
//!    negation, and the program is not stratifiable.
//! 2. **Fixpoint.** Level by level: first `risk_score` if it lives at this level (every
//!    `risk` rule is below it, so complete), then every rule of the level is applied to
//!    the whole database, again and again, until nothing new is derived (naive
//!    evaluation: no deltas, no indexes).
//! 3. **Rules.** A body is solved by nested loops over its items in source order, except
//!    that an item whose inputs are not bound yet waits until they are: the first *ready*
//!    item is taken each time. A positive atom is always ready (unless an argument is
//!    arithmetic over unbound variables); `not`, comparisons and arithmetic need their
//!    variables bound; `v = expr` binds `v`. An aggregate is ready once the variables it
//!    shares with the rest of its conjunction (those a positive atom or an `=` binds
//!    there) are bound; it ranges over the distinct bindings of its other variables.
//!    Items that *can fail* (arithmetic, `num.abs`, a `sum`, an aggregate holding any) wait
//!    until no other item is ready (a call of a built-in that cannot fail is like a
//!    comparison: no result, and the item does not hold); then every ready one is
//!    evaluated as a *stage* — all their computations depth by depth (at each depth every
//!    error before any missing result), then all their aggregates (a `min` or `max` of nothing ends the binding
//!    only once every one is computed), then the items themselves — and an item that
//!    would bind the variable of a pending `v = arithmetic` waits for it (when nothing can
//!    move, those `=` stop binding). An error is thus raised only for bindings that the
//!    items not needing its value accept, in any source order (docs/reference.md,
//!    "Arithmetic errors and the order of conditions").
//!
//! Lists and objects are values of their own here ([`RefValue::List`], the set of a list's
//! elements; [`RefValue::Object`], the members by name), read straight from the syntax
//! tree as the reference states them, never through the checker's auxiliary relations
//! (`call.argv`) that the engine reads: `x in v` ranges over the set (binding `x`, or
//! testing a bound one), `not x in v` holds when no element equals `x`, an object pattern
//! matches the members it names to any depth (in a positive atom, as a condition of its
//! own after its atom, which binds the object to a variable of the pattern's: so the atom
//! does not wait for a pending `v = arithmetic` its pattern would bind), and a relation
//! holding two facts whose lists differ only in order or repeats holds one fact.
//!
//! Semantics pinned here (DESIGN §1–2): aggregates count or fold each distinct binding of
//! their local variables once; the sum of nothing is 0 of the target's type, the count of
//! nothing is 0; `min`/`max` of nothing make the rule not fire. Arithmetic is
//! [`gov_value::apply`] (checked: overflow and division by zero are errors). An Int
//! literal where a Decimal is expected is that Decimal (and, since the checker only lets
//! an Int meet a Decimal when it stems from a literal, an Int value meeting a Decimal is
//! promoted). A decision rule fires once per distinct tuple of its values (risk points,
//! then the message's variables); each `risk` rule contributes the largest points it
//! fired with; `risk_score` is their sum. Outcome: deny > escalate > allow > the default
//! (deny unless `default allow`).
//!
//! Nothing here is fast, and that is the point: it is small enough to be obviously right,
//! and the property tests in `tests/differential.rs` hold the compiler and engine to it.

use gov_builtins::{Builtin, Output, Param, Val, Yield};
use gov_check::symbols::{CompoundInfo, RISK_SCORE};
use gov_check::{ParsedPackage, RelationKind, Symbols};
use gov_syntax::ast::{
    Aggregate, AggregateFn, Approver, Atom, BodyItem, Call, Collection, DecisionRule, DefaultDecision, Effect, Expr,
    ItemKind, Lit, LitValue, Membership, MessagePart, Name, ObjectPattern,
};
use gov_syntax::walk::{self, Reach};
use gov_value::{ArithError, ArithOp, BaseType, CompareOp, Decimal, Num};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// A value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefValue {
    /// `Int`
    Int(i64),
    /// `Decimal`
    Decimal(Decimal),
    /// `Str`
    Str(String),
    /// `Bool`
    Bool(bool),
    /// `Time`, nanoseconds since the Unix epoch.
    Time(i64),
    /// `Duration`, nanoseconds.
    Duration(i64),
    /// A list field's value (`[Str]`): the set of its elements, so order and repeats are
    /// not visible.
    List(BTreeSet<RefValue>),
    /// An object field's value (`{path: Str}`): each member's value by name.
    Object(BTreeMap<String, RefValue>),
}

impl RefValue {
    /// The value's type (`None` for a list or an object, which have no base type).
    pub fn base_type(&self) -> Option<BaseType> {
        Some(match self {
            RefValue::Int(_) => BaseType::Int,
            RefValue::Decimal(_) => BaseType::Decimal,
            RefValue::Str(_) => BaseType::Str,
            RefValue::Bool(_) => BaseType::Bool,
            RefValue::Time(_) => BaseType::Time,
            RefValue::Duration(_) => BaseType::Duration,
            RefValue::List(_) | RefValue::Object(_) => return None,
        })
    }

    /// The value as it appears in a message.
    pub fn display(&self) -> String {
        match self {
            RefValue::Int(v) => v.to_string(),
            RefValue::Decimal(v) => v.to_string(),
            RefValue::Str(s) => s.clone(),
            RefValue::Bool(b) => b.to_string(),
            RefValue::Time(t) => gov_value::format_time(*t),
            RefValue::Duration(d) => gov_value::format_duration(*d),
            RefValue::List(items) => {
                format!("[{}]", items.iter().map(RefValue::display).collect::<Vec<_>>().join(", "))
            }
            RefValue::Object(members) => format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(name, value)| format!("{name}: {}", value.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn num(&self) -> Option<Num> {
        match self {
            RefValue::Int(v) => Some(Num::Int(*v)),
            RefValue::Decimal(v) => Some(Num::Decimal(*v)),
            RefValue::Time(v) => Some(Num::Time(*v)),
            RefValue::Duration(v) => Some(Num::Duration(*v)),
            RefValue::Str(_) | RefValue::Bool(_) | RefValue::List(_) | RefValue::Object(_) => None,
        }
    }

    fn from_num(num: Num) -> RefValue {
        match num {
            Num::Int(v) => RefValue::Int(v),
            Num::Decimal(v) => RefValue::Decimal(v),
            Num::Time(v) => RefValue::Time(v),
            Num::Duration(v) => RefValue::Duration(v),
        }
    }

    /// The value as a value of type `ty`: an Int where a Decimal is expected is that
    /// Decimal; anything else is unchanged.
    fn promote(self, ty: Option<BaseType>) -> RefValue {
        match (self, ty) {
            (RefValue::Int(i), Some(BaseType::Decimal)) => RefValue::Decimal(Decimal::from(i)),
            (value, _) => value,
        }
    }
}

/// Orders two values of one type (strings by text); an error for values of different types.
fn compare(left: &RefValue, right: &RefValue) -> Result<Ordering, RefError> {
    Ok(match (left, right) {
        (RefValue::Int(a), RefValue::Int(b))
        | (RefValue::Time(a), RefValue::Time(b))
        | (RefValue::Duration(a), RefValue::Duration(b)) => a.cmp(b),
        (RefValue::Decimal(a), RefValue::Decimal(b)) => a.cmp(b),
        (RefValue::Str(a), RefValue::Str(b)) => a.cmp(b),
        (RefValue::Bool(a), RefValue::Bool(b)) => a.cmp(b),
        _ => return Err(RefError::Type(format!("cannot compare {left:?} with {right:?}"))),
    })
}

/// `left op right`, by [`gov_value::apply`].
fn arithmetic(op: ArithOp, left: &RefValue, right: &RefValue) -> Result<RefValue, RefError> {
    let (Some(a), Some(b)) = (left.num(), right.num()) else {
        return Err(RefError::Type(format!("arithmetic on {left:?} and {right:?}")));
    };
    gov_value::apply(op, a, b).map(RefValue::from_num).map_err(RefError::Arithmetic)
}

/// The combined decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefOutcome {
    /// The action may run.
    Allow,
    /// The action must not run.
    Deny,
    /// A human must approve first.
    Escalate,
}

impl RefOutcome {
    /// `allow`, `deny` or `escalate`.
    pub fn name(self) -> &'static str {
        match self {
            RefOutcome::Allow => "allow",
            RefOutcome::Deny => "deny",
            RefOutcome::Escalate => "escalate",
        }
    }
}

/// One distinct firing of a decision rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RefFiring {
    /// The rule's name.
    pub rule: String,
    /// Its effect.
    pub effect: Effect,
    /// The risk points (for `risk` rules), then the value of each `{var}` of the message.
    pub values: Vec<RefValue>,
    /// The message with its variables filled in (empty without a message).
    pub message: String,
}

/// A relation's facts.
pub type Facts = BTreeSet<Vec<RefValue>>;

/// The least model and the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefModel {
    /// Every relation (input, data, derived and `risk_score`) with its facts.
    pub relations: BTreeMap<String, Facts>,
    /// Every distinct firing.
    pub fired: BTreeSet<RefFiring>,
    /// Each `risk` rule that fired, with the largest points it fired with.
    pub contributions: BTreeMap<String, i64>,
    /// The sum of the contributions.
    pub risk_score: i64,
    /// The approver groups of the `escalate` rules that fired.
    pub approvers: BTreeSet<String>,
    /// deny > escalate > allow > the default.
    pub outcome: RefOutcome,
}

/// Why there is no model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    /// Overflow or division by zero.
    Arithmetic(ArithError),
    /// Values of the wrong type met (the checker should have rejected the program).
    Type(String),
    /// Negation or aggregation through recursion.
    NotStratifiable(String),
    /// A body no order of evaluation can bind (the checker should have rejected it).
    Unsafe(String),
    /// A given fact does not fit its relation.
    BadFact(String),
    /// A built-in's result does not fit its type (as arithmetic overflow).
    Builtin(String),
    /// A built-in had no value (`str.lower` of a non-string): the condition it is in does
    /// not hold. Internal to a condition's evaluation: [`evaluate`] never returns it.
    Undefined,
}

/// `result`, with [`RefError::Undefined`] (a built-in without a value) as `T::default()`:
/// no binding, no fact, no error.
fn defined<T: Default>(result: Result<T, RefError>) -> Result<T, RefError> {
    match result {
        Err(RefError::Undefined) => Ok(T::default()),
        other => other,
    }
}

impl std::fmt::Display for RefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefError::Arithmetic(e) => write!(f, "{e}"),
            RefError::Type(m) => write!(f, "type error: {m}"),
            RefError::NotStratifiable(m) => write!(f, "not stratifiable: {m}"),
            RefError::Unsafe(m) => write!(f, "unsafe rule: {m}"),
            RefError::BadFact(m) => write!(f, "bad fact: {m}"),
            RefError::Builtin(m) => write!(f, "{m}"),
            RefError::Undefined => write!(f, "a built-in had no value"),
        }
    }
}

impl std::error::Error for RefError {}

/// A variable binding.
type Env = BTreeMap<String, RefValue>;

/// A node of the dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Relation(String),
    Decision(String),
}

enum Head<'a> {
    Relation(&'a Atom),
    Decision(&'a DecisionRule),
}

/// A rule or decision rule.
struct Clause<'a> {
    head: Head<'a>,
    body: &'a [BodyItem],
}

impl Clause<'_> {
    fn node(&self) -> Node {
        match self.head {
            Head::Relation(atom) => Node::Relation(atom.relation.text.to_string()),
            Head::Decision(decision) => Node::Decision(decision.name.text.to_string()),
        }
    }
}

/// Computes the least model of `program` with `facts` (input and data facts, by relation
/// name), and the decision. `symbols` are the checker's for `program`, which must have
/// checked without errors.
pub fn evaluate(
    program: &ParsedPackage,
    symbols: &Symbols,
    facts: &[(String, Vec<RefValue>)],
) -> Result<RefModel, RefError> {
    let clauses: Vec<Clause<'_>> = program
        .files
        .iter()
        .flat_map(|f| f.parsed.file.items.iter())
        .filter_map(|item| match &item.kind {
            ItemKind::Rule(rule) => Some(Clause { head: Head::Relation(&rule.head), body: &rule.body }),
            ItemKind::Decision(decision) => Some(Clause { head: Head::Decision(decision), body: &decision.body }),
            _ => None,
        })
        .collect();
    let levels = stratify(&clauses, symbols)?;

    let mut db: BTreeMap<String, Facts> =
        symbols.relations.iter().map(|r| (r.name.to_string(), Facts::new())).collect();
    for (name, tuple) in facts {
        let info = symbols.relation(name).ok_or_else(|| RefError::BadFact(format!("unknown relation `{name}`")))?;
        if !matches!(info.kind, RelationKind::Input | RelationKind::Data) {
            return Err(RefError::BadFact(format!("`{name}` is neither input nor data")));
        }
        if info.fields.len() != tuple.len() {
            return Err(RefError::BadFact(format!("`{name}` takes {} values, not {}", info.fields.len(), tuple.len())));
        }
        let tuple = tuple
            .iter()
            .enumerate()
            .map(|(column, value)| fact_value(symbols, name, column, value))
            .collect::<Result<_, _>>()?;
        db.entry(name.clone()).or_default().insert(tuple);
    }

    let evaluator = Evaluator { symbols };
    let mut fired: BTreeSet<RefFiring> = BTreeSet::new();
    let top = levels.values().copied().max().unwrap_or(0);
    for level in 0..=top {
        if levels.get(&Node::Relation(RISK_SCORE.to_owned())) == Some(&level) {
            let (_, score) = risk(&fired)?;
            db.entry(RISK_SCORE.to_owned()).or_default().insert(vec![RefValue::Int(score)]);
        }
        let here: Vec<&Clause<'_>> = clauses.iter().filter(|c| levels.get(&c.node()) == Some(&level)).collect();
        loop {
            let mut derived: Vec<(String, Vec<RefValue>)> = Vec::new();
            let mut firings: Vec<RefFiring> = Vec::new();
            for clause in &here {
                for env in evaluator.solve(clause.body, &db)? {
                    // A head or points whose built-in has no value derive nothing.
                    match clause.head {
                        Head::Relation(atom) => {
                            let tuple = defined(evaluator.head(atom, &env).map(Some))?;
                            derived.extend(tuple.map(|tuple| (atom.relation.text.to_string(), tuple)));
                        }
                        Head::Decision(decision) => {
                            firings.extend(defined(evaluator.firing(decision, &env).map(Some))?);
                        }
                    }
                }
            }
            let mut changed = false;
            for (name, tuple) in derived {
                changed |= db.entry(name).or_default().insert(tuple);
            }
            for firing in firings {
                changed |= fired.insert(firing);
            }
            if !changed {
                break;
            }
        }
    }

    let (contributions, risk_score) = risk(&fired)?;
    let has = |effect: Effect| fired.iter().any(|f| f.effect == effect);
    let outcome = if has(Effect::Deny) {
        RefOutcome::Deny
    } else if has(Effect::Escalate) {
        RefOutcome::Escalate
    } else if has(Effect::Allow) || symbols.default == Some(DefaultDecision::Allow) {
        RefOutcome::Allow
    } else {
        RefOutcome::Deny
    };
    let approvers = clauses
        .iter()
        .filter_map(|c| match c.head {
            Head::Decision(d) if d.effect == Effect::Escalate => match &d.approver {
                Some(Approver::Group(group)) if fired.iter().any(|f| f.rule == d.name.text) => {
                    Some(vec![group.value.clone()])
                }
                // `to g`: the group is each firing's first value.
                Some(Approver::Var(_)) => Some(
                    fired
                        .iter()
                        .filter(|f| f.rule == d.name.text)
                        .filter_map(|f| match f.values.first() {
                            Some(RefValue::Str(group)) => Some(group.clone()),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            },
            _ => None,
        })
        .flatten()
        .collect();
    Ok(RefModel { relations: db, fired, contributions, risk_score, approvers, outcome })
}

/// Each `risk` rule's largest points, and their sum.
fn risk(fired: &BTreeSet<RefFiring>) -> Result<(BTreeMap<String, i64>, i64), RefError> {
    let mut contributions: BTreeMap<String, i64> = BTreeMap::new();
    for firing in fired.iter().filter(|f| f.effect == Effect::Risk) {
        let Some(RefValue::Int(points)) = firing.values.first() else {
            return Err(RefError::Type(format!("the points of `{}` are not an Int", firing.rule)));
        };
        let best = contributions.entry(firing.rule.clone()).or_insert(*points);
        *best = (*best).max(*points);
    }
    let mut score: i64 = 0;
    for points in contributions.values() {
        score = score.checked_add(*points).ok_or(RefError::Arithmetic(ArithError::Overflow))?;
    }
    Ok((contributions, score))
}

/// Calls `edge(relation, strict)` for each relation `body` reads: strict through `not`
/// and aggregates.
fn dependencies(body: &[BodyItem], in_aggregate: bool, edge: &mut dyn FnMut(&str, bool)) {
    for item in body {
        match item {
            BodyItem::Atom(atom) => edge(&atom.relation.text, in_aggregate),
            BodyItem::Not(atom, _) => edge(&atom.relation.text, true),
            BodyItem::Compare(c) => {
                for side in [&c.left, &c.right] {
                    if let Expr::Aggregate(aggregate) = side {
                        dependencies(&aggregate.body, true, edge);
                    }
                }
            }
            BodyItem::Test(_) | BodyItem::NotTest(..) | BodyItem::In(_) => {}
        }
    }
}

/// The level of every relation and decision rule.
fn stratify(clauses: &[Clause<'_>], symbols: &Symbols) -> Result<BTreeMap<Node, usize>, RefError> {
    let mut edges: Vec<(Node, Node, usize)> = Vec::new();
    for clause in clauses {
        let to = clause.node();
        dependencies(clause.body, false, &mut |from, strict| {
            edges.push((Node::Relation(from.to_owned()), to.clone(), usize::from(strict)))
        });
        if let Head::Decision(decision) = clause.head
            && decision.effect == Effect::Risk
        {
            edges.push((to.clone(), Node::Relation(RISK_SCORE.to_owned()), 1));
        }
    }
    let mut level: BTreeMap<Node, usize> =
        symbols.relations.iter().map(|r| (Node::Relation(r.name.to_string()), 0)).collect();
    for clause in clauses {
        level.insert(clause.node(), 0);
    }
    let limit = level.len();
    loop {
        let mut changed = false;
        for (from, to, step) in &edges {
            let need = level.get(from).copied().unwrap_or(0) + step;
            let at = level.entry(to.clone()).or_insert(0);
            if *at < need {
                if need > limit {
                    return Err(RefError::NotStratifiable(format!(
                        "{to:?} depends on itself through negation or an aggregate"
                    )));
                }
                *at = need;
                changed = true;
            }
        }
        if !changed {
            return Ok(level);
        }
    }
}

/// The base type of each column of `relation` (`None` where unknown).
fn column_types(symbols: &Symbols, relation: &str) -> Vec<Option<BaseType>> {
    symbols
        .relation(relation)
        .map_or_else(Vec::new, |info| info.fields.iter().map(|f| f.ty.and_then(|ty| symbols.base_of(ty))).collect())
}

/// The list or object type of column `column` of `relation`, if it is one (the first
/// column of a list's or an object's own relation, its identifier to the engine, is not:
/// the reference never reads those relations).
fn compound_at<'s>(symbols: &'s Symbols, relation: &str, column: usize) -> Option<&'s CompoundInfo> {
    let info = symbols.relation(relation)?;
    if column == 0 && info.compound.is_some() {
        return None;
    }
    symbols.compound(info.fields.get(column)?.ty?)
}

/// The name of the relation that describes a list's elements or an object's members.
fn contents_relation<'s>(symbols: &'s Symbols, compound: &CompoundInfo) -> Result<&'s str, RefError> {
    symbols
        .relations
        .get(compound.relation)
        .map(|r| r.name.as_str())
        .ok_or_else(|| RefError::Type(format!("no relation describes `{}`", compound.display)))
}

/// A given fact's value for column `column` of `relation`, checked against the column's
/// type: an Int where a Decimal is expected is that Decimal, in a list or an object too;
/// a list or an object must have the shape its type declares (every member, no other).
fn fact_value(symbols: &Symbols, relation: &str, column: usize, value: &RefValue) -> Result<RefValue, RefError> {
    let Some(compound) = compound_at(symbols, relation, column) else {
        let ty = column_types(symbols, relation).get(column).copied().flatten();
        return match value {
            RefValue::List(_) | RefValue::Object(_) => {
                Err(RefError::BadFact(format!("column {column} of `{relation}` holds no list or object")))
            }
            scalar => Ok(scalar.clone().promote(ty)),
        };
    };
    let inner = contents_relation(symbols, compound)?;
    let fields = symbols.relation(inner).map_or(&[][..], |r| r.fields.as_slice());
    match (compound.list, value) {
        (true, RefValue::List(items)) => {
            Ok(RefValue::List(items.iter().map(|item| fact_value(symbols, inner, 1, item)).collect::<Result<_, _>>()?))
        }
        (false, RefValue::Object(members)) => {
            let mut out = BTreeMap::new();
            for (at, field) in fields.iter().enumerate().skip(1) {
                let name = field.name.as_deref().unwrap_or_default().to_owned();
                let member = members
                    .get(&name)
                    .ok_or_else(|| RefError::BadFact(format!("`{}` lacks its member `{name}`", compound.display)))?;
                out.insert(name, fact_value(symbols, inner, at, member)?);
            }
            if let Some(extra) = members.keys().find(|k| !out.contains_key(*k)) {
                return Err(RefError::BadFact(format!("`{}` has no member `{extra}`", compound.display)));
            }
            Ok(RefValue::Object(out))
        }
        _ => Err(RefError::BadFact(format!("column {column} of `{relation}` holds a `{}`", compound.display))),
    }
}

/// The expressions of an atom's argument that take a column's or a member's value: the
/// argument itself, or each member of an object pattern, to any depth.
fn binders<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Object(pattern) => {
            for member in &pattern.members {
                binders(&member.value, out);
            }
        }
        other => out.push(other),
    }
}

/// Whether `expr` has a value under `env`.
fn is_bound(expr: &Expr, env: &Env) -> bool {
    !matches!(expr, Expr::Wildcard(_) | Expr::Aggregate(_))
        && walk::expr(expr, Reach::Deep).vars().all(|v| env.contains_key(v.text.as_str()))
}

/// The name of `expr` if it is a variable that `env` does not bind.
fn unbound_var<'e>(expr: &'e Expr, env: &Env) -> Option<&'e str> {
    match expr {
        Expr::Var(name) if !env.contains_key(name.text.as_str()) => Some(&name.text),
        _ => None,
    }
}

/// Whether `expr` has no variables (a literal or arithmetic over literals).
fn literal_only(expr: &Expr) -> bool {
    walk::expr(expr, Reach::Shallow).all(|e| matches!(e, Expr::Lit(_) | Expr::Binary(_)))
}

/// The type that numbers of `types` have together in a call: `Decimal` if any is one (the
/// Int literals among them are read as Decimals), else the first.
fn one_numeric_type(types: &[BaseType]) -> Option<BaseType> {
    if types.contains(&BaseType::Decimal) { Some(BaseType::Decimal) } else { types.first().copied() }
}

/// The variables a conjunction binds by itself (plus `outer`): those of its positive
/// atoms, then those `v = expr` binds from bound ones, to a fixpoint.
fn bound_by(body: &[BodyItem], outer: &BTreeSet<String>) -> BTreeSet<String> {
    let mut bound = outer.clone();
    for item in body {
        if let BodyItem::Atom(atom) = item {
            let mut args = Vec::new();
            for arg in &atom.args {
                binders(&arg.value, &mut args);
            }
            for arg in args {
                if let Expr::Var(name) = arg {
                    bound.insert(name.text.to_string());
                }
            }
        }
    }
    loop {
        let mut changed = false;
        for item in body {
            if let BodyItem::In(membership) = item
                && membership.negated.is_none()
                && let Expr::Var(name) = &membership.element
                && !bound.contains(name.text.as_str())
                && collection_args(membership)
                    .all(|a| walk::expr(a, Reach::Deep).vars().all(|v| bound.contains(v.text.as_str())))
            {
                bound.insert(name.text.to_string());
                changed = true;
            }
            let BodyItem::Compare(c) = item else { continue };
            if c.op != CompareOp::Eq {
                continue;
            }
            for (target, source) in [(&c.left, &c.right), (&c.right, &c.left)] {
                let Expr::Var(name) = target else { continue };
                let source_bound = match source {
                    Expr::Aggregate(_) => true,
                    Expr::Wildcard(_) => false,
                    other => walk::expr(other, Reach::Deep).vars().all(|v| bound.contains(v.text.as_str())),
                };
                if source_bound && !bound.contains(name.text.as_str()) {
                    bound.insert(name.text.to_string());
                    changed = true;
                }
            }
        }
        if !changed {
            return bound;
        }
    }
}

/// What a membership's collection needs bound: a generator's arguments, or the list
/// (none for a set literal).
fn collection_args(membership: &Membership) -> Box<dyn Iterator<Item = &Expr> + '_> {
    match &membership.collection {
        Collection::Call(call) => Box::new(call.args.iter()),
        Collection::List(list) => Box::new(std::iter::once(list)),
        Collection::Set(_) => Box::new(std::iter::empty()),
    }
}

/// The argument expressions of an atom, by column.
fn columns<'a>(symbols: &Symbols, atom: &'a Atom) -> Result<Vec<(usize, &'a Expr)>, RefError> {
    let info = symbols
        .relation(&atom.relation.text)
        .ok_or_else(|| RefError::Unsafe(format!("unknown relation `{}`", atom.relation.text)))?;
    atom.args
        .iter()
        .enumerate()
        .map(|(i, arg)| match &arg.field {
            None => Ok((i, &arg.value)),
            Some(field) => info
                .fields
                .iter()
                .position(|f| f.name.as_deref() == Some(field.text.as_str()))
                .map(|column| (column, &arg.value))
                .ok_or_else(|| RefError::Unsafe(format!("`{}` has no field `{}`", atom.relation.text, field.text))),
        })
        .collect()
}

struct Evaluator<'a> {
    symbols: &'a Symbols,
}

impl<'a> Evaluator<'a> {
    /// Every binding of the variables of `body` that satisfies it.
    fn solve(&self, body: &[BodyItem], db: &BTreeMap<String, Facts>) -> Result<Vec<Env>, RefError> {
        let scope = bound_by(body, &BTreeSet::new());
        let mut out = Vec::new();
        self.conjunction(body.iter().collect(), Env::new(), &scope, db, &mut out)?;
        Ok(out)
    }

    /// Extends `env` by every binding that satisfies all of `items`, into `out`. `scope`
    /// is what the enclosing conjunction binds (an aggregate's shared variables).
    fn conjunction(
        &self,
        items: Vec<&BodyItem>,
        env: Env,
        scope: &BTreeSet<String>,
        db: &BTreeMap<String, Facts>,
        out: &mut Vec<Env>,
    ) -> Result<(), RefError> {
        let mut conds = Vec::with_capacity(items.len());
        for item in items {
            self.split(item, &mut conds)?;
        }
        self.stages(conds.iter().collect(), env, scope, db, out, &BTreeSet::new())
    }

    /// `item` as conditions, into `out`: a positive atom with object patterns is the atom
    /// with each pattern replaced by a variable of its own (bound to the object), then each
    /// pattern as a condition of its own ([`Pattern`]), nested ones after theirs; anything
    /// else is one condition.
    fn split<'b>(&self, item: &'b BodyItem, out: &mut Vec<Cond<'b>>) -> Result<(), RefError>
    where
        'a: 'b,
    {
        let BodyItem::Atom(atom) = item else {
            out.push(Cond::Item(Cow::Borrowed(item)));
            return Ok(());
        };
        if !atom.args.iter().any(|arg| matches!(arg.value, Expr::Object(_))) {
            out.push(Cond::Item(Cow::Borrowed(item)));
            return Ok(());
        }
        let mut atom = atom.clone();
        let mut patterns = Vec::new();
        for (column, expr) in columns(self.symbols, &atom)?.into_iter().map(|(c, e)| (c, e.clone())) {
            self.unfold(&atom.relation.text, column, expr, &mut patterns)?;
        }
        for arg in &mut atom.args {
            hide(&mut arg.value);
        }
        out.push(Cond::Item(Cow::Owned(BodyItem::Atom(atom))));
        out.extend(patterns.into_iter().map(Cond::Pattern));
        Ok(())
    }

    /// If `expr`, the argument of column `column` of `relation`, is an object pattern: its
    /// [`Pattern`] and those of the patterns nested in it, into `out`.
    fn unfold<'b>(&self, relation: &str, column: usize, expr: Expr, out: &mut Vec<Pattern<'b>>) -> Result<(), RefError>
    where
        'a: 'b,
    {
        let Expr::Object(pattern) = expr else { return Ok(()) };
        let compound = compound_at(self.symbols, relation, column)
            .filter(|c| !c.list)
            .ok_or_else(|| RefError::Type(format!("an object pattern for column {column} of `{relation}`")))?;
        let inner = contents_relation(self.symbols, compound)?;
        let fields = self.symbols.relation(inner).map_or(&[][..], |r| r.fields.as_slice());
        let types = column_types(self.symbols, inner);
        let object = hidden_name(&pattern);
        let mut members = Vec::new();
        let mut nested = Vec::new();
        for member in pattern.members {
            let name = member.field.as_ref().map_or("", |f| f.text.as_str());
            let at = fields
                .iter()
                .position(|f| f.name.as_deref() == Some(name))
                .ok_or_else(|| RefError::Unsafe(format!("`{}` has no member `{name}`", compound.display)))?;
            let mut value = member.value;
            self.unfold(inner, at, value.clone(), &mut nested)?;
            hide(&mut value);
            members.push(Member {
                name: name.to_owned(),
                ty: types.get(at).copied().flatten(),
                compound: compound_at(self.symbols, inner, at),
                value,
            });
        }
        out.push(Pattern { object, members });
        out.extend(nested);
        Ok(())
    }

    /// [`Evaluator::conjunction`], by the order-of-conditions rule (see the crate doc):
    /// conditions that cannot fail first, one at a time in source order; then, when none is
    /// ready, a stage of every ready condition that can fail; when nothing is ready, the
    /// `=` that can fail are `demoted` (identified by their spans) and no longer bind.
    fn stages(
        &self,
        items: Vec<&Cond<'_>>,
        env: Env,
        scope: &BTreeSet<String>,
        db: &BTreeMap<String, Facts>,
        out: &mut Vec<Env>,
        demoted: &BTreeSet<(u32, u32)>,
    ) -> Result<(), RefError> {
        if items.is_empty() {
            out.push(env);
            return Ok(());
        }
        let pending = pending(items.iter().filter_map(|item| item.as_item()), &env, demoted);
        let safe = |item: &Cond<'_>| !item.can_fail() && self.ready(item, &env, scope) && !item.binds(&env, &pending);
        if let Some(next) = items.iter().position(|item| safe(item)) {
            let mut rest = items;
            let item = rest.remove(next);
            for extended in defined(self.cond(item, &env, scope, db))? {
                self.stages(rest.clone(), extended, scope, db, out, demoted)?;
            }
            return Ok(());
        }
        let in_stage = |item: &Cond<'_>| {
            item.can_fail()
                && self.ready(item, &env, scope)
                && (matches!(item.as_item(), Some(BodyItem::Compare(_))) || !item.binds(&env, &pending))
        };
        let (stage, rest): (Vec<&Cond<'_>>, Vec<&Cond<'_>>) = items.iter().partition(|item| in_stage(item));
        if stage.is_empty() {
            let mut more = demoted.clone();
            for item in items.iter().filter_map(|item| item.as_item()) {
                if let BodyItem::Compare(c) = item
                    && c.op == CompareOp::Eq
                    && can_fail(item)
                {
                    more.insert((c.span.start, c.span.end));
                }
                // A generator whose element something else must bind first binds no more.
                if let BodyItem::In(m) = item
                    && m.negated.is_none()
                    && matches!(m.collection, Collection::Call(_))
                {
                    more.insert((m.span.start, m.span.end));
                }
            }
            if more.len() == demoted.len() {
                return Err(RefError::Unsafe(format!(
                    "no order binds every variable; bound so far: {:?}",
                    env.keys().collect::<Vec<_>>()
                )));
            }
            return self.stages(items, env, scope, db, out, &more);
        }
        // The stage's errors: its computations depth by depth (a missing built-in result
        // ends the binding after the errors of its depth), then every one of its
        // aggregates; only then does a `min` or `max` of nothing end the binding.
        let deepest = stage.iter().map(|item| item.depth()).max().unwrap_or(0);
        for limit in 1..=deepest {
            match first_error(stage.iter().map(|item| self.cond_arithmetic(item, &env, limit))) {
                Ok(()) => {}
                Err(RefError::Undefined) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
        let mut nothing = false;
        for item in &stage {
            if let Some(BodyItem::Compare(c)) = item.as_item() {
                for side in [&c.left, &c.right] {
                    if let Expr::Aggregate(aggregate) = side {
                        nothing |= self.aggregate(aggregate, &env, scope, db)?.is_none();
                    }
                }
            }
        }
        if nothing {
            return Ok(());
        }
        let mut envs = vec![env];
        for item in stage {
            let mut next = Vec::new();
            for env in &envs {
                next.extend(defined(self.cond(item, env, scope, db))?);
            }
            envs = next;
        }
        for env in envs {
            self.stages(rest.clone(), env, scope, db, out, demoted)?;
        }
        Ok(())
    }

    /// Evaluates the computations (arithmetic, built-in values) of a condition outside its
    /// aggregates under `env` whose depth is at most `limit`, for their errors only: an
    /// error before [`RefError::Undefined`] (a missing result).
    fn arithmetic_of(&self, item: &BodyItem, env: &Env, limit: usize) -> Result<(), RefError> {
        match item {
            BodyItem::Atom(atom) | BodyItem::Not(atom, _) => {
                let types = column_types(self.symbols, &atom.relation.text);
                let columns = columns(self.symbols, atom)?;
                first_error(
                    columns
                        .into_iter()
                        .filter(|(_, expr)| is_computed(expr))
                        .map(|(column, expr)| self.compute(expr, env, types.get(column).copied().flatten(), limit)),
                )
            }
            BodyItem::Compare(c) => match (&c.left, &c.right) {
                (Expr::Aggregate(_), Expr::Aggregate(_)) => Ok(()),
                (Expr::Aggregate(_), other) | (other, Expr::Aggregate(_)) => {
                    if is_bound(other, env) {
                        self.compute(other, env, None, limit)
                    } else {
                        Ok(())
                    }
                }
                (left, right) if is_bound(left, env) && is_bound(right, env) => {
                    if depth(left).max(depth(right)) <= limit {
                        self.eval_pair(left, right, env).map(drop)
                    } else {
                        first_error([left, right].into_iter().map(|side| self.compute(side, env, None, limit)))
                    }
                }
                (left, right) => first_error(
                    [left, right]
                        .into_iter()
                        .filter(|side| is_bound(side, env))
                        .map(|side| self.compute(side, env, None, limit)),
                ),
            },
            // A test's own call is made with its condition; its arguments are computed here.
            BodyItem::Test(call) | BodyItem::NotTest(call, _) => self.compute_args(call, env, limit),
            BodyItem::In(membership) => {
                let element =
                    is_bound(&membership.element, env).then(|| self.compute(&membership.element, env, None, limit));
                let args = match &membership.collection {
                    Collection::Call(call) => self.compute_args(call, env, limit),
                    Collection::Set(_) | Collection::List(_) => Ok(()),
                };
                first_error(element.into_iter().chain([args]))
            }
        }
    }

    /// The computations of `expr` whose depth is at most `limit` (its value when its own
    /// depth is): see [`Evaluator::arithmetic_of`].
    fn compute(&self, expr: &Expr, env: &Env, expected: Option<BaseType>, limit: usize) -> Result<(), RefError> {
        if depth(expr) <= limit {
            return self.eval(expr, env, expected).map(drop);
        }
        match expr {
            Expr::Binary(binary) => {
                let expected = expected.filter(|ty| *ty == BaseType::Decimal);
                first_error(
                    [&binary.left, &binary.right].into_iter().map(|side| self.compute(side, env, expected, limit)),
                )
            }
            Expr::Call(call) => self.compute_args(call, env, limit),
            Expr::Var(_) | Expr::Lit(_) | Expr::Wildcard(_) | Expr::Aggregate(_) | Expr::List(_) | Expr::Object(_) => {
                Ok(())
            }
        }
    }

    /// The computations of a call's arguments whose depth is at most `limit`, each read as
    /// its parameter's type (as [`Evaluator::call`] reads them).
    fn compute_args(&self, call: &Call, env: &Env, limit: usize) -> Result<(), RefError> {
        let Some(builtin) = Builtin::from_name(&call.name.text) else { return Ok(()) };
        let expected = self.arg_types(builtin, &call.args, env);
        first_error(call.args.iter().zip(expected).map(|(arg, expected)| self.compute(arg, env, expected, limit)))
    }

    /// Whether a condition can be evaluated with what `env` binds: a pattern once its
    /// object is and the computations of its members can be.
    fn ready(&self, cond: &Cond<'_>, env: &Env, scope: &BTreeSet<String>) -> bool {
        match cond {
            Cond::Item(item) => self.ready_item(item, env, scope),
            Cond::Pattern(pattern) => {
                env.contains_key(&pattern.object)
                    && pattern.members.iter().all(|m| !is_computed(&m.value) || is_bound(&m.value, env))
            }
        }
    }

    /// The extensions of `env` that satisfy one condition: a pattern matches its object's
    /// members, and its object's variable is dropped (it names no value of the rule).
    fn cond(
        &self,
        cond: &Cond<'_>,
        env: &Env,
        scope: &BTreeSet<String>,
        db: &BTreeMap<String, Facts>,
    ) -> Result<Vec<Env>, RefError> {
        let pattern = match cond {
            Cond::Item(item) => return self.item(item, env, scope, db),
            Cond::Pattern(pattern) => pattern,
        };
        let mut extended = env.clone();
        let Some(RefValue::Object(object)) = extended.remove(&pattern.object) else {
            return Err(RefError::Type(format!("`{}` is not bound to an object", pattern.object)));
        };
        for member in &pattern.members {
            let found = object
                .get(&member.name)
                .ok_or_else(|| RefError::BadFact(format!("an object lacks its member `{}`", member.name)))?;
            if !self.matches(&member.value, found, member.ty, member.compound, &mut extended)? {
                return Ok(Vec::new());
            }
        }
        Ok(vec![extended])
    }

    /// [`Evaluator::arithmetic_of`] for a condition: a pattern's are its members'.
    fn cond_arithmetic(&self, cond: &Cond<'_>, env: &Env, limit: usize) -> Result<(), RefError> {
        match cond {
            Cond::Item(item) => self.arithmetic_of(item, env, limit),
            Cond::Pattern(pattern) => first_error(
                pattern
                    .members
                    .iter()
                    .filter(|m| is_computed(&m.value))
                    .map(|m| self.compute(&m.value, env, m.ty, limit)),
            ),
        }
    }

    /// Whether `item` can be evaluated with what `env` binds.
    fn ready_item(&self, item: &BodyItem, env: &Env, scope: &BTreeSet<String>) -> bool {
        match item {
            BodyItem::Atom(atom) => atom.args.iter().all(|arg| !is_computed(&arg.value) || is_bound(&arg.value, env)),
            BodyItem::Not(atom, _) => {
                atom.args.iter().all(|arg| matches!(arg.value, Expr::Wildcard(_)) || is_bound(&arg.value, env))
            }
            BodyItem::Compare(c) => {
                let has_value = |e: &Expr| match e {
                    Expr::Aggregate(aggregate) => aggregate_ready(aggregate, env, scope),
                    other => is_bound(other, env),
                };
                (has_value(&c.left) && has_value(&c.right))
                    || (c.op == CompareOp::Eq
                        && ((unbound_var(&c.left, env).is_some() && has_value(&c.right))
                            || (unbound_var(&c.right, env).is_some() && has_value(&c.left))))
            }
            BodyItem::Test(call) | BodyItem::NotTest(call, _) => call.args.iter().all(|a| is_bound(a, env)),
            BodyItem::In(membership) => {
                collection_args(membership).all(|a| is_bound(a, env))
                    && (is_bound(&membership.element, env)
                        || (membership.negated.is_none() && unbound_var(&membership.element, env).is_some()))
            }
        }
    }

    /// Calls a built-in on the values of its arguments, through `gov_builtins::eval` (as
    /// the engine does, but parsing constant patterns on each call).
    fn call(&self, call: &Call, env: &Env) -> Result<RefYield, RefError> {
        let builtin = Builtin::from_name(&call.name.text)
            .ok_or_else(|| RefError::Unsafe(format!("unknown built-in `{}`", call.name.text)))?;
        let expected = self.arg_types(builtin, &call.args, env);
        let values: Vec<RefValue> = call
            .args
            .iter()
            .zip(expected)
            .map(|(arg, expected)| Ok(self.eval(arg, env, expected)?.promote(expected)))
            .collect::<Result<_, RefError>>()?;
        let args: Vec<Val<'_>> = values.iter().map(to_val).collect::<Result<_, _>>()?;
        let result = gov_builtins::eval(builtin, &args, None)
            .map_err(|e| RefError::Builtin(format!("`{}` failed: {}", builtin.name(), e.message)))?;
        Ok(match result {
            Yield::Test(holds) => RefYield::Test(holds),
            Yield::One(value) => RefYield::Values(value.into_iter().map(from_val).collect()),
            Yield::Many(values) => RefYield::Values(values.into_iter().map(from_val).collect()),
        })
    }

    /// The values of a membership's collection.
    fn collection(&self, membership: &Membership, env: &Env) -> Result<Vec<RefValue>, RefError> {
        match &membership.collection {
            Collection::Call(call) => match self.call(call, env)? {
                RefYield::Values(values) => Ok(values),
                RefYield::Test(_) => Err(RefError::Type(format!("`{}` is a test", call.name.text))),
            },
            Collection::List(list) => match self.eval(list, env, None)? {
                RefValue::List(items) => Ok(items.into_iter().collect()),
                other => Err(RefError::Type(format!("`in` over {other:?}, not a list"))),
            },
            Collection::Set(set) => {
                // An Int literal among Decimals, or for a Decimal element (the checker's
                // type of a variable), is that Decimal.
                let element_decimal = match &membership.element {
                    Expr::Var(name) => self
                        .symbols
                        .variable_types
                        .get(&name.span)
                        .and_then(|ty| self.symbols.base_of(*ty))
                        .is_some_and(|base| base == BaseType::Decimal),
                    _ => false,
                };
                let decimal = element_decimal || set.items.iter().any(|l| lit_type(l) == Some(BaseType::Decimal));
                let ty = decimal.then_some(BaseType::Decimal);
                set.items.iter().map(|lit| literal(lit, ty)).collect()
            }
        }
    }

    /// The extensions of `env` that satisfy one item.
    fn item(
        &self,
        item: &BodyItem,
        env: &Env,
        scope: &BTreeSet<String>,
        db: &BTreeMap<String, Facts>,
    ) -> Result<Vec<Env>, RefError> {
        match item {
            BodyItem::Atom(atom) => self.atom(atom, env, db),
            BodyItem::Not(atom, _) => {
                Ok(if self.atom(atom, env, db)?.is_empty() { vec![env.clone()] } else { Vec::new() })
            }
            BodyItem::Compare(c) => {
                if c.op == CompareOp::Eq {
                    for (target, source) in [(&c.left, &c.right), (&c.right, &c.left)] {
                        if let Some(name) = unbound_var(target, env) {
                            let value = match source {
                                Expr::Aggregate(aggregate) => self.aggregate(aggregate, env, scope, db)?,
                                other => Some(self.eval(other, env, None)?),
                            };
                            let Some(value) = value else { return Ok(Vec::new()) };
                            let mut extended = env.clone();
                            extended.insert(name.to_owned(), value);
                            return Ok(vec![extended]);
                        }
                    }
                }
                let (left, right) = match (&c.left, &c.right) {
                    (Expr::Aggregate(aggregate), other) | (other, Expr::Aggregate(aggregate)) => {
                        let Some(value) = self.aggregate(aggregate, env, scope, db)? else { return Ok(Vec::new()) };
                        let ty = value.base_type();
                        let other = self.eval(other, env, ty)?.promote(ty);
                        (value, other)
                    }
                    (left, right) => self.eval_pair(left, right, env)?,
                };
                let ordering = compare(&left, &right)?;
                let holds = match c.op {
                    CompareOp::Eq => ordering.is_eq(),
                    CompareOp::Ne => ordering.is_ne(),
                    CompareOp::Lt => ordering.is_lt(),
                    CompareOp::Le => ordering.is_le(),
                    CompareOp::Gt => ordering.is_gt(),
                    CompareOp::Ge => ordering.is_ge(),
                };
                Ok(if holds { vec![env.clone()] } else { Vec::new() })
            }
            BodyItem::Test(call) | BodyItem::NotTest(call, _) => {
                let negated = matches!(item, BodyItem::NotTest(..));
                let holds = match self.call(call, env)? {
                    RefYield::Test(holds) => holds,
                    RefYield::Values(_) => return Err(RefError::Type(format!("`{}` is not a test", call.name.text))),
                };
                Ok(if holds != negated { vec![env.clone()] } else { Vec::new() })
            }
            BodyItem::In(membership) => {
                let values = self.collection(membership, env)?;
                if let Some(name) = unbound_var(&membership.element, env) {
                    let distinct: BTreeSet<RefValue> = values.into_iter().collect();
                    return Ok(distinct
                        .into_iter()
                        .map(|value| {
                            let mut extended = env.clone();
                            extended.insert(name.to_owned(), value);
                            extended
                        })
                        .collect());
                }
                // An Int literal among the values meets a Decimal element as that Decimal.
                let ty = values.first().and_then(RefValue::base_type);
                let element = self.eval(&membership.element, env, ty)?.promote(ty);
                let element_ty = element.base_type();
                let mut found = false;
                for value in &values {
                    found |= compare(&element, &value.clone().promote(element_ty))?.is_eq();
                }
                Ok(if found != membership.negated.is_some() { vec![env.clone()] } else { Vec::new() })
            }
        }
    }

    /// The extensions of `env` matching a fact of the atom's relation.
    fn atom(&self, atom: &Atom, env: &Env, db: &BTreeMap<String, Facts>) -> Result<Vec<Env>, RefError> {
        let columns = columns(self.symbols, atom)?;
        let types = column_types(self.symbols, &atom.relation.text);
        let mut out = Vec::new();
        for tuple in db.get(atom.relation.text.as_str()).into_iter().flatten() {
            let mut extended = env.clone();
            let mut matches = true;
            for &(column, expr) in &columns {
                let Some(value) = tuple.get(column) else {
                    return Err(RefError::BadFact(format!("a fact of `{}` lacks column {column}", atom.relation.text)));
                };
                let compound = compound_at(self.symbols, &atom.relation.text, column);
                let ty = types.get(column).copied().flatten();
                if !self.matches(expr, value, ty, compound, &mut extended)? {
                    matches = false;
                    break;
                }
            }
            if matches {
                out.push(extended);
            }
        }
        Ok(out)
    }

    /// Matches an atom's argument (or an object pattern's member) `expr` against a column's
    /// `value`, extending `env`: `_` matches anything, an unbound variable binds, an object
    /// pattern matches each member it names (to any depth), and anything else is evaluated
    /// (as `ty`, the column's type) and compared. `compound` is the column's list or object
    /// type, if it is one.
    fn matches(
        &self,
        expr: &Expr,
        value: &RefValue,
        ty: Option<BaseType>,
        compound: Option<&CompoundInfo>,
        env: &mut Env,
    ) -> Result<bool, RefError> {
        match (expr, compound) {
            (Expr::Wildcard(_), _) => Ok(true),
            (Expr::Var(name), _) if !env.contains_key(name.text.as_str()) => {
                env.insert(name.text.to_string(), value.clone());
                Ok(true)
            }
            (Expr::Object(pattern), Some(compound)) if !compound.list => {
                let RefValue::Object(members) = value else {
                    return Err(RefError::Type(format!("an object pattern meets {value:?}")));
                };
                let inner = contents_relation(self.symbols, compound)?;
                let fields = self.symbols.relation(inner).map_or(&[][..], |r| r.fields.as_slice());
                let types = column_types(self.symbols, inner);
                for member in &pattern.members {
                    let name = member.field.as_ref().map_or("", |f| f.text.as_str());
                    let column = fields
                        .iter()
                        .position(|f| f.name.as_deref() == Some(name))
                        .ok_or_else(|| RefError::Unsafe(format!("`{}` has no member `{name}`", compound.display)))?;
                    let found = members
                        .get(name)
                        .ok_or_else(|| RefError::BadFact(format!("an object lacks its member `{name}`")))?;
                    let ty = types.get(column).copied().flatten();
                    let compound = compound_at(self.symbols, inner, column);
                    if !self.matches(&member.value, found, ty, compound, env)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (other, None) => {
                let wanted = self.eval(other, env, ty)?.promote(ty);
                Ok(compare(&wanted, value)?.is_eq())
            }
            (other, Some(compound)) => Err(RefError::Type(format!(
                "`{}` is matched only by a variable, `_` or an object pattern, not {other:?}",
                compound.display
            ))),
        }
    }

    /// The value of an aggregate under `env`; `None` for `min`/`max` of nothing.
    fn aggregate(
        &self,
        aggregate: &Aggregate,
        env: &Env,
        scope: &BTreeSet<String>,
        db: &BTreeMap<String, Facts>,
    ) -> Result<Option<RefValue>, RefError> {
        let inner_scope = bound_by(&aggregate.body, scope);
        let mut bindings = Vec::new();
        self.conjunction(aggregate.body.iter().collect(), env.clone(), &inner_scope, db, &mut bindings)?;
        // Each distinct binding of the aggregate's own variables, with its target value.
        let mut distinct: BTreeMap<Vec<(String, RefValue)>, Option<RefValue>> = BTreeMap::new();
        for binding in bindings {
            let target = match &aggregate.target {
                Expr::Wildcard(_) => None,
                target => match self.eval(target, &binding, None) {
                    Ok(value) => Some(value),
                    // A target whose built-in has no value: the binding does not count.
                    Err(RefError::Undefined) => continue,
                    Err(error) => return Err(error),
                },
            };
            let local = binding.into_iter().filter(|(name, _)| !env.contains_key(name)).collect();
            distinct.insert(local, target);
        }
        let values = || {
            distinct
                .values()
                .map(|v| v.clone().ok_or_else(|| RefError::Type(format!("`{}` of `_`", aggregate.function.name()))))
        };
        Ok(match aggregate.function {
            AggregateFn::Count => Some(RefValue::Int(
                i64::try_from(distinct.len()).map_err(|_| RefError::Arithmetic(ArithError::Overflow))?,
            )),
            AggregateFn::Sum => {
                let mut sum: Option<RefValue> = None;
                for value in values() {
                    let value = value?;
                    sum = Some(match sum {
                        None => value,
                        Some(sum) => self.arith(ArithOp::Add, sum, value)?,
                    });
                }
                Some(match sum {
                    Some(sum) => sum,
                    None => match self.static_type(&aggregate.target, &aggregate.body, env, 0) {
                        Some(BaseType::Decimal) => RefValue::Decimal(Decimal::ZERO),
                        Some(BaseType::Duration) => RefValue::Duration(0),
                        _ => RefValue::Int(0),
                    },
                })
            }
            AggregateFn::Min | AggregateFn::Max => {
                let wanted = if aggregate.function == AggregateFn::Min { Ordering::Less } else { Ordering::Greater };
                let mut best: Option<RefValue> = None;
                for value in values() {
                    let value = value?;
                    best = Some(match best {
                        Some(best) if compare(&value, &best)? != wanted => best,
                        _ => value,
                    });
                }
                best
            }
        })
    }

    /// The type an expression of an aggregate has, from the columns that bind its
    /// variables (for the sum of nothing).
    fn static_type(&self, expr: &Expr, body: &[BodyItem], env: &Env, depth: usize) -> Option<BaseType> {
        if depth > 16 {
            return None;
        }
        match expr {
            Expr::List(_) | Expr::Object(_) => None,
            Expr::Var(name) => env.get(name.text.as_str()).and_then(RefValue::base_type).or_else(|| {
                body.iter()
                    .find_map(|item| match item {
                        BodyItem::Atom(atom) => {
                            let types = column_types(self.symbols, &atom.relation.text);
                            columns(self.symbols, atom).ok()?.into_iter().find_map(|(column, e)| match e {
                                Expr::Var(v) if v.text == name.text => types.get(column).copied().flatten(),
                                _ => None,
                            })
                        }
                        BodyItem::Compare(c) if c.op == CompareOp::Eq => match (&c.left, &c.right) {
                            (Expr::Var(v), source) | (source, Expr::Var(v))
                                if v.text == name.text && !matches!(source, Expr::Var(w) if w.text == name.text) =>
                            {
                                match source {
                                    Expr::Aggregate(inner) if inner.function == AggregateFn::Count => {
                                        Some(BaseType::Int)
                                    }
                                    Expr::Aggregate(inner) => {
                                        self.static_type(&inner.target, &inner.body, env, depth + 1)
                                    }
                                    other => self.static_type(other, body, env, depth + 1),
                                }
                            }
                            _ => None,
                        },
                        _ => None,
                    })
                    // Bound by an object pattern's member or by `x in v`: the checker's type
                    // of the variable.
                    .or_else(|| self.symbols.variable_types.get(&name.span).and_then(|ty| self.symbols.base_of(*ty)))
            }),
            Expr::Lit(lit) => lit_type(lit),
            Expr::Binary(binary) => {
                let left = self.static_type(&binary.left, body, env, depth + 1)?;
                let right = self.static_type(&binary.right, body, env, depth + 1)?;
                let promote = |t: BaseType, other: BaseType| {
                    if t == BaseType::Int && other == BaseType::Decimal { other } else { t }
                };
                gov_value::result_type(binary.op, promote(left, right), promote(right, left))
            }
            Expr::Call(call) => match Builtin::from_name(&call.name.text)?.signature().output {
                Output::Value(Param::Base(base)) | Output::Values(Param::Base(base)) => Some(base),
                Output::Value(Param::Pattern) | Output::Values(Param::Pattern) => Some(BaseType::Str),
                Output::Value(Param::Numeric) | Output::Values(Param::Numeric) => {
                    let types: Vec<BaseType> =
                        call.args.iter().filter_map(|a| self.static_type(a, body, env, depth + 1)).collect();
                    one_numeric_type(&types)
                }
                Output::Test => Some(BaseType::Bool),
            },
            Expr::Wildcard(_) | Expr::Aggregate(_) => None,
        }
    }

    /// The type each argument of a call of `builtin` is read as (its parameter's): for the
    /// numbers (`Numeric`, all bound), `Decimal` if any is one, so that an Int literal, or
    /// arithmetic over Int literals, among them is read as that Decimal, as beside a
    /// Decimal operand; otherwise each number as it is.
    fn arg_types(&self, builtin: Builtin, args: &[Expr], env: &Env) -> Vec<Option<BaseType>> {
        let params = builtin.signature().params;
        let numbers: Vec<BaseType> = params
            .iter()
            .zip(args)
            .filter(|(param, _)| **param == Param::Numeric)
            .filter_map(|(_, arg)| self.static_type(arg, &[], env, 0))
            .collect();
        let numeric = one_numeric_type(&numbers).filter(|ty| *ty == BaseType::Decimal);
        (0..args.len())
            .map(|i| match params.get(i) {
                Some(Param::Base(base)) => Some(*base),
                Some(Param::Numeric) => numeric,
                Some(Param::Pattern) | None => None,
            })
            .collect()
    }

    /// `left op right`, an Int meeting a Decimal promoted.
    fn arith(&self, op: ArithOp, left: RefValue, right: RefValue) -> Result<RefValue, RefError> {
        let (lt, rt) = (left.base_type(), right.base_type());
        arithmetic(op, &left.promote(rt), &right.promote(lt))
    }

    /// Evaluates two expressions that meet (in arithmetic or a comparison): an Int
    /// literal, or arithmetic over literals, next to a Decimal is evaluated as Decimals.
    fn eval_pair(&self, left: &Expr, right: &Expr, env: &Env) -> Result<(RefValue, RefValue), RefError> {
        let mut l = self.eval(left, env, None)?;
        let mut r = self.eval(right, env, None)?;
        let decimal = Some(BaseType::Decimal);
        if l.base_type() == Some(BaseType::Int) && r.base_type() == Some(BaseType::Decimal) && literal_only(left) {
            l = self.eval(left, env, decimal)?;
        }
        if r.base_type() == Some(BaseType::Int) && l.base_type() == Some(BaseType::Decimal) && literal_only(right) {
            r = self.eval(right, env, decimal)?;
        }
        let (lt, rt) = (l.base_type(), r.base_type());
        Ok((l.promote(rt), r.promote(lt)))
    }

    /// The value of a bound expression; `expected` is the type the context wants (an Int
    /// literal where a Decimal is expected is that Decimal).
    fn eval(&self, expr: &Expr, env: &Env, expected: Option<BaseType>) -> Result<RefValue, RefError> {
        match expr {
            // A list is written only in a `given` fact; a pattern is matched, never evaluated.
            Expr::List(_) | Expr::Object(_) => {
                Err(RefError::Type("a list or an object pattern has no value in a body".to_owned()))
            }
            Expr::Var(name) => env
                .get(name.text.as_str())
                .cloned()
                .ok_or_else(|| RefError::Unsafe(format!("`{}` is not bound", name.text))),
            Expr::Lit(lit) => literal(lit, expected),
            Expr::Binary(binary) => {
                let (left, right) = if expected == Some(BaseType::Decimal) {
                    (self.eval(&binary.left, env, expected)?, self.eval(&binary.right, env, expected)?)
                } else {
                    self.eval_pair(&binary.left, &binary.right, env)?
                };
                self.arith(binary.op, left, right)
            }
            Expr::Wildcard(_) => Err(RefError::Unsafe("`_` has no value".to_owned())),
            Expr::Aggregate(_) => Err(RefError::Unsafe("an aggregate outside `v = aggregate`".to_owned())),
            Expr::Call(call) => match self.call(call, env)? {
                RefYield::Values(values) => {
                    let value = values.into_iter().next().ok_or(RefError::Undefined)?;
                    Ok(value.promote(expected))
                }
                RefYield::Test(_) => Err(RefError::Type(format!("`{}` is a test, not a value", call.name.text))),
            },
        }
    }

    /// The fact a rule derives under `env`.
    fn head(&self, head: &Atom, env: &Env) -> Result<Vec<RefValue>, RefError> {
        let types = column_types(self.symbols, &head.relation.text);
        head.args
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                let ty = types.get(i).copied().flatten();
                Ok(self.eval(&arg.value, env, ty)?.promote(ty))
            })
            .collect()
    }

    /// The firing of a decision rule under `env`.
    fn firing(&self, decision: &DecisionRule, env: &Env) -> Result<RefFiring, RefError> {
        let mut values = Vec::new();
        if let Some(points) = &decision.points {
            values.push(self.eval(points, env, Some(BaseType::Int))?);
        }
        if let Some(Approver::Var(group)) = &decision.approver {
            let value = env
                .get(group.text.as_str())
                .ok_or_else(|| RefError::Unsafe(format!("the approver `{}` is not bound", group.text)))?;
            values.push(value.clone());
        }
        let mut message = String::new();
        for part in decision.message.iter().flat_map(|m| m.parts.iter()) {
            match part {
                MessagePart::Text(text) => message.push_str(text),
                MessagePart::Var(name) => {
                    let value = env
                        .get(name.text.as_str())
                        .ok_or_else(|| RefError::Unsafe(format!("`{}` in the message is not bound", name.text)))?;
                    message.push_str(&value.display());
                    values.push(value.clone());
                }
            }
        }
        Ok(RefFiring { rule: decision.name.text.to_string(), effect: decision.effect, values, message })
    }
}

/// One condition of a conjunction, as the order-of-conditions rule reads it: a body item,
/// or an object pattern of a positive atom, which is a condition of its own (its atom
/// binds the object to the pattern's variable and does not wait for the pattern's).
enum Cond<'b> {
    /// A body item (a positive atom with its patterns replaced by their variables).
    Item(Cow<'b, BodyItem>),
    /// An object pattern.
    Pattern(Pattern<'b>),
}

/// An object pattern `{member: expr, …}` read as a condition: the object bound to `object`
/// has each member's value (a nested pattern replaced by its own variable).
struct Pattern<'b> {
    /// The variable its atom (or the enclosing pattern) binds to the object.
    object: String,
    /// The members it names.
    members: Vec<Member<'b>>,
}

/// A member of a [`Pattern`].
struct Member<'b> {
    name: String,
    /// The member's base type, if it is a scalar.
    ty: Option<BaseType>,
    /// The member's list or object type, if it is one.
    compound: Option<&'b CompoundInfo>,
    value: Expr,
}

impl Cond<'_> {
    /// The body item, if it is one.
    fn as_item(&self) -> Option<&BodyItem> {
        match self {
            Cond::Item(item) => Some(item),
            Cond::Pattern(_) => None,
        }
    }

    /// See [`can_fail`].
    fn can_fail(&self) -> bool {
        match self {
            Cond::Item(item) => can_fail(item),
            Cond::Pattern(pattern) => pattern.members.iter().any(|m| expr_can_fail(&m.value)),
        }
    }

    /// See [`binds`].
    fn binds(&self, env: &Env, pending: &BTreeSet<String>) -> bool {
        match self {
            Cond::Item(item) => binds(item, env, pending),
            Cond::Pattern(pattern) => {
                pattern.members.iter().any(|m| unbound_var(&m.value, env).is_some_and(|name| pending.contains(name)))
            }
        }
    }

    /// See [`item_depth`].
    fn depth(&self) -> usize {
        match self {
            Cond::Item(item) => item_depth(item),
            Cond::Pattern(pattern) => pattern.members.iter().map(|m| depth(&m.value)).max().unwrap_or(0),
        }
    }
}

/// The variable that stands for the object a pattern matches (a name no rule can write).
fn hidden_name(pattern: &ObjectPattern) -> String {
    format!("{{object at {}}}", pattern.span.start)
}

/// `expr`, if an object pattern, replaced by its variable ([`hidden_name`]).
fn hide(expr: &mut Expr) {
    if let Expr::Object(pattern) = expr {
        *expr = Expr::Var(Name { text: hidden_name(pattern).into(), span: pattern.span });
    }
}

/// Whether evaluating `expr` can fail: arithmetic, or an aggregate that sums or holds
/// something that can fail.
fn expr_can_fail(expr: &Expr) -> bool {
    walk::expr(expr, Reach::Deep).any(fallible)
}

/// Whether evaluating a condition can fail (see [`expr_can_fail`]), a test's or a
/// generator's own built-in included.
fn can_fail(item: &BodyItem) -> bool {
    let call = match item {
        BodyItem::Test(call) | BodyItem::NotTest(call, _) => Some(call),
        BodyItem::In(membership) => match &membership.collection {
            Collection::Call(call) => Some(call),
            Collection::Set(_) | Collection::List(_) => None,
        },
        BodyItem::Atom(_) | BodyItem::Not(..) | BodyItem::Compare(_) => None,
    };
    call.is_some_and(call_can_fail) || walk::body(std::slice::from_ref(item), Reach::Deep).any(fallible)
}

/// Whether evaluating `expr` itself (not its parts) can fail: arithmetic, a call of a
/// built-in that can fail (`num.abs`; any other yields a value or nothing), or a `sum`.
fn fallible(expr: &Expr) -> bool {
    match expr {
        Expr::Binary(_) => true,
        Expr::Call(call) => call_can_fail(call),
        Expr::Aggregate(aggregate) => aggregate.function == AggregateFn::Sum,
        Expr::Var(_) | Expr::Lit(_) | Expr::Wildcard(_) | Expr::List(_) | Expr::Object(_) => false,
    }
}

/// Whether a call's own built-in can fail (an unknown name: as if it could).
fn call_can_fail(call: &Call) -> bool {
    Builtin::from_name(&call.name.text).is_none_or(Builtin::can_fail)
}

/// Whether an argument is computed (arithmetic or a call), not a variable, a literal or `_`.
fn is_computed(expr: &Expr) -> bool {
    matches!(expr, Expr::Binary(_) | Expr::Call(_))
}

/// The depth of an expression's computations: 0 for a variable or a literal, one more than
/// its deepest operand for arithmetic or a call.
fn depth(expr: &Expr) -> usize {
    match expr {
        Expr::Binary(binary) => 1 + depth(&binary.left).max(depth(&binary.right)),
        Expr::Call(call) => 1 + call.args.iter().map(depth).max().unwrap_or(0),
        Expr::Var(_) | Expr::Lit(_) | Expr::Wildcard(_) | Expr::Aggregate(_) | Expr::List(_) | Expr::Object(_) => 0,
    }
}

/// The depth of the deepest computation of a condition outside its aggregates.
fn item_depth(item: &BodyItem) -> usize {
    let call_args = |call: &Call| call.args.iter().map(depth).max().unwrap_or(0);
    match item {
        BodyItem::Atom(atom) | BodyItem::Not(atom, _) => atom.args.iter().map(|a| depth(&a.value)).max().unwrap_or(0),
        BodyItem::Compare(c) => depth(&c.left).max(depth(&c.right)),
        BodyItem::Test(call) | BodyItem::NotTest(call, _) => call_args(call),
        BodyItem::In(membership) => depth(&membership.element).max(match &membership.collection {
            Collection::Call(call) => call_args(call),
            Collection::Set(_) | Collection::List(_) => 0,
        }),
    }
}

/// The first error of `results` that is not [`RefError::Undefined`]; else `Undefined` if
/// any was; else `Ok`. So a missing result never hides an error beside it.
fn first_error(results: impl IntoIterator<Item = Result<(), RefError>>) -> Result<(), RefError> {
    let mut missing = false;
    for result in results {
        match result {
            Ok(()) => {}
            Err(RefError::Undefined) => missing = true,
            Err(error) => return Err(error),
        }
    }
    if missing { Err(RefError::Undefined) } else { Ok(()) }
}

/// The variables that an `=` that can fail (not `demoted`) is waiting to compute: `y` of
/// `y = 10 / x` while `y` is unbound.
fn pending<'i>(
    items: impl IntoIterator<Item = &'i BodyItem>,
    env: &Env,
    demoted: &BTreeSet<(u32, u32)>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for item in items {
        // A generator computes its element: nothing else may bind it first.
        if let BodyItem::In(membership) = item
            && membership.negated.is_none()
            && matches!(membership.collection, Collection::Call(_))
            && !demoted.contains(&(membership.span.start, membership.span.end))
            && let Some(name) = unbound_var(&membership.element, env)
        {
            out.insert(name.to_owned());
        }
        let BodyItem::Compare(c) = item else { continue };
        if c.op != CompareOp::Eq || demoted.contains(&(c.span.start, c.span.end)) {
            continue;
        }
        for (target, source) in [(&c.left, &c.right), (&c.right, &c.left)] {
            if let Some(name) = unbound_var(target, env)
                && expr_can_fail(source)
            {
                out.insert(name.to_owned());
            }
        }
    }
    out
}

/// Whether evaluating `item` under `env` would bind one of `pending`.
fn binds(item: &BodyItem, env: &Env, pending: &BTreeSet<String>) -> bool {
    let is_pending = |e: &Expr| unbound_var(e, env).is_some_and(|name| pending.contains(name));
    match item {
        BodyItem::Atom(atom) => {
            let mut args = Vec::new();
            for arg in &atom.args {
                binders(&arg.value, &mut args);
            }
            args.into_iter().any(is_pending)
        }
        BodyItem::Not(..) | BodyItem::Test(_) | BodyItem::NotTest(..) => false,
        BodyItem::Compare(c) => c.op == CompareOp::Eq && (is_pending(&c.left) || is_pending(&c.right)),
        // The generator computing its element binds it; a set literal binds a pending one
        // only too early, and so does a list's membership, which is an atom of the list's
        // contents (`call.argv`(v, x): docs/reference.md, "Lists and objects") and waits
        // as any atom does.
        BodyItem::In(membership) => {
            matches!(membership.collection, Collection::Set(_) | Collection::List(_))
                && membership.negated.is_none()
                && is_pending(&membership.element)
        }
    }
}

/// An aggregate is ready once the variables it shares with its conjunction are bound.
fn aggregate_ready(aggregate: &Aggregate, env: &Env, scope: &BTreeSet<String>) -> bool {
    walk::expr(&aggregate.target, Reach::Deep)
        .vars()
        .chain(walk::body(&aggregate.body, Reach::Deep).vars())
        .filter(|v| scope.contains(v.text.as_str()))
        .all(|v| env.contains_key(v.text.as_str()))
}

fn lit_type(lit: &Lit) -> Option<BaseType> {
    match lit.value {
        LitValue::Int(_) => Some(BaseType::Int),
        LitValue::Decimal(_) => Some(BaseType::Decimal),
        LitValue::Str(_) => Some(BaseType::Str),
        LitValue::Bool(_) => Some(BaseType::Bool),
        LitValue::Time(_) => Some(BaseType::Time),
        LitValue::Duration(_) => Some(BaseType::Duration),
        LitValue::Invalid => None,
    }
}

fn literal(lit: &Lit, expected: Option<BaseType>) -> Result<RefValue, RefError> {
    Ok(match &lit.value {
        LitValue::Int(i) => RefValue::Int(*i).promote(expected),
        LitValue::Decimal(d) => RefValue::Decimal(*d),
        LitValue::Str(s) => RefValue::Str(s.clone()),
        LitValue::Bool(b) => RefValue::Bool(*b),
        LitValue::Time(t) => RefValue::Time(*t),
        LitValue::Duration(d) => RefValue::Duration(*d),
        LitValue::Invalid => return Err(RefError::Type(format!("invalid literal `{}`", lit.raw))),
    })
}

/// What a built-in yielded, as reference values.
enum RefYield {
    Test(bool),
    Values(Vec<RefValue>),
}

/// A reference value as a built-in reads it (a list or an object is no built-in's argument).
fn to_val(value: &RefValue) -> Result<Val<'_>, RefError> {
    Ok(match value {
        RefValue::Int(i) => Val::Int(*i),
        RefValue::Decimal(d) => Val::Decimal(*d),
        RefValue::Str(s) => Val::Str(std::borrow::Cow::Borrowed(s)),
        RefValue::Bool(b) => Val::Bool(*b),
        RefValue::Time(t) => Val::Time(*t),
        RefValue::Duration(d) => Val::Duration(*d),
        RefValue::List(_) | RefValue::Object(_) => {
            return Err(RefError::Type(format!("a built-in's argument {value:?}")));
        }
    })
}

/// A built-in's value as a reference value.
fn from_val(value: Val<'_>) -> RefValue {
    match value {
        Val::Int(i) => RefValue::Int(i),
        Val::Decimal(d) => RefValue::Decimal(d),
        Val::Str(s) => RefValue::Str(s.into_owned()),
        Val::Bool(b) => RefValue::Bool(b),
        Val::Time(t) => RefValue::Time(t),
        Val::Duration(d) => RefValue::Duration(d),
    }
}
