//! Rule bodies unfolded into conjunctive queries over input and data relations.
//!
//! A body is a conjunction; a positive atom of a derived relation is replaced by the body of
//! each rule deriving it (one query per rule: a disjunction), with its head's arguments
//! equated to the atom's. What is left are atoms and negated atoms of input and data
//! relations, comparisons between variables and constants, and the string tests
//! `str.starts_with`, `str.ends_with` and `str.contains`. A set test `x in {…}` is a
//! disjunction of equalities. An atom of `risk_score` is replaced by one query per set of
//! `risk` rules that may fire together (those rules' bodies, the others' negations, and the
//! score equal to the sum of their points: [`crate::risk`]). A negated atom of a derived
//! relation is the conjunction of the negations of the bodies it unfolds to, each written
//! exactly where it can be ([`crate::negation`]). Anything else (an aggregate,
//! arithmetic, another built-in, a relation in a recursive stratum, the negation of a derived
//! relation whose bodies' negations cannot be written) is outside the fragment: [`unfold`] says why.

use crate::Outcome;
use crate::solve::{Data, Rows, Schema, solve};
use gov_ir::{Arg, Atom, Builtin, Const, Expr, Head, Ir, Literal, RelationId, RuleId};
use gov_value::{BaseType, CompareOp, Effect, RelationKind};

/// How many conjunctive queries one rule may unfold to before the search gives up.
pub const MAX_QUERIES: usize = 256;
/// How deep derived relations may nest before the search gives up.
pub const MAX_DEPTH: usize = 32;

/// A term of a query: one of its variables, or a constant of a known type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A variable, an index into [`Query::vars`].
    Var(usize),
    /// A literal, with the type of the place it stands in (an Int literal can be a Decimal).
    Const(Const, BaseType),
}

/// A condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A fact of an input or data relation must exist; one term per column.
    Fact(RelationId, Vec<Term>),
    /// No fact of an input or data relation may match; `None` matches anything.
    NotFact(RelationId, Vec<Option<Term>>),
    /// A comparison.
    Compare(Term, CompareOp, Term),
    /// A string test on a subject and a pattern; `true`: `not` the test.
    Str(StrTest, Term, Term, bool),
}

/// The string built-ins that reduce to constraints on one string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrTest {
    /// `str.starts_with(s, p)`
    StartsWith,
    /// `str.ends_with(s, p)`
    EndsWith,
    /// `str.contains(s, p)`
    Contains,
}

impl StrTest {
    /// The test a built-in is, if it is one of these.
    pub fn of(builtin: Builtin) -> Option<StrTest> {
        match builtin {
            Builtin::StrStartsWith => Some(StrTest::StartsWith),
            Builtin::StrEndsWith => Some(StrTest::EndsWith),
            Builtin::StrContains => Some(StrTest::Contains),
            _ => None,
        }
    }

    /// The built-in's name.
    pub fn name(self) -> &'static str {
        match self {
            StrTest::StartsWith => "str.starts_with",
            StrTest::EndsWith => "str.ends_with",
            StrTest::Contains => "str.contains",
        }
    }

    /// Whether `subject` passes the test with `pattern`, as the engine's built-in decides it.
    pub fn holds(self, subject: &str, pattern: &str) -> bool {
        match self {
            StrTest::StartsWith => subject.starts_with(pattern),
            StrTest::EndsWith => subject.ends_with(pattern),
            StrTest::Contains => subject.contains(pattern),
        }
    }
}

/// A conjunctive query: variables (by type) and conditions over them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The type of each variable.
    pub vars: Vec<BaseType>,
    /// The conditions, all of which must hold.
    pub items: Vec<Item>,
}

impl Query {
    /// The conjunction of two queries, `other`'s variables renumbered after this one's.
    pub fn and(&self, other: &Query) -> Query {
        let offset = self.vars.len();
        let mut vars = self.vars.clone();
        vars.extend(&other.vars);
        let mut items = self.items.clone();
        items.extend(other.items.iter().map(|item| shift_item(item, offset)));
        Query { vars, items }
    }

    /// The conjunction with `other`, whose first `given` variables are this query's first
    /// `given` and whose others are renumbered after this query's.
    pub(crate) fn and_given(&self, other: &Query, given: usize) -> Query {
        let offset = self.vars.len();
        let mut vars = self.vars.clone();
        vars.extend(other.vars.iter().skip(given));
        let mut items = self.items.clone();
        items.extend(other.items.iter().map(|item| rebase_item(item, given, offset)));
        Query { vars, items }
    }
}

/// `item` with its variables from `given` on renumbered from `offset`, the first `given` kept.
fn rebase_item(item: &Item, given: usize, offset: usize) -> Item {
    let term = |t: &Term| match t {
        Term::Var(v) if *v >= given => Term::Var(v - given + offset),
        other => other.clone(),
    };
    match item {
        Item::Fact(r, args) => Item::Fact(*r, args.iter().map(term).collect()),
        Item::NotFact(r, args) => Item::NotFact(*r, args.iter().map(|t| t.as_ref().map(term)).collect()),
        Item::Compare(l, op, r) => Item::Compare(term(l), *op, term(r)),
        Item::Str(test, s, p, negated) => Item::Str(*test, term(s), term(p), *negated),
    }
}

fn shift(term: &Term, offset: usize) -> Term {
    match term {
        Term::Var(v) => Term::Var(v + offset),
        Term::Const(c, ty) => Term::Const(c.clone(), *ty),
    }
}

fn shift_item(item: &Item, offset: usize) -> Item {
    match item {
        Item::Fact(r, args) => Item::Fact(*r, args.iter().map(|t| shift(t, offset)).collect()),
        Item::NotFact(r, args) => {
            Item::NotFact(*r, args.iter().map(|t| t.as_ref().map(|t| shift(t, offset))).collect())
        }
        Item::Compare(l, op, r) => Item::Compare(shift(l, offset), *op, shift(r, offset)),
        Item::Str(test, s, p, negated) => Item::Str(*test, shift(s, offset), shift(p, offset), *negated),
    }
}

/// The conjunction of each of `left` with each of `right` (a product of disjunctions), or
/// why there are too many.
pub(crate) fn product(left: &[Query], right: &[Query]) -> Result<Vec<Query>, String> {
    if left.len().saturating_mul(right.len()) > MAX_QUERIES {
        return Err(format!("more than {MAX_QUERIES} alternatives"));
    }
    Ok(left.iter().flat_map(|l| right.iter().map(move |r| l.and(r))).collect())
}

/// The rule's body as a disjunction of conjunctive queries (empty: it can never hold), or
/// why it is outside the fragment.
pub fn unfold(ir: &Ir, rule: RuleId) -> Result<Vec<Query>, String> {
    Unfolder::new(ir).rule(rule, 0)
}

/// Every rule's body, unfolded as [`unfold`] does, by [`RuleId`]: one pass over the IR to
/// index the rules, shared by all of them.
pub fn unfold_each(ir: &Ir) -> Vec<Result<Vec<Query>, String>> {
    let unfolder = Unfolder::new(ir);
    (0..ir.rules.len()).map(|i| unfolder.rule(RuleId(gov_ir::dense(i)), 0)).collect()
}

/// A body of conditions over `vars` (an invariant's), unfolded as a rule's is.
pub fn unfold_body(ir: &Ir, vars: &[gov_ir::Var], body: &[Literal]) -> Result<Vec<Query>, String> {
    Unfolder::new(ir).conjunction(vars, body, 0)
}

/// The IR with, per relation, the rules deriving it and whether it is recursive.
pub(crate) struct Unfolder<'a> {
    pub(crate) ir: &'a Ir,
    /// What the solver needs of the IR, to drop the alternatives of a negation it proves
    /// impossible.
    schema: Schema<'a>,
    rules_of: Vec<Vec<RuleId>>,
    recursive: Vec<bool>,
    /// The `risk` rules: name, points (if a constant) and rule.
    pub(crate) risk: Vec<(&'a str, Option<i64>, RuleId)>,
}

impl<'a> Unfolder<'a> {
    pub(crate) fn new(ir: &'a Ir) -> Unfolder<'a> {
        let mut rules_of = vec![Vec::new(); ir.relations.len()];
        for (index, rule) in ir.rules.iter().enumerate() {
            if let Head::Derive { relation, .. } = &rule.head
                && let Some(rules) = rules_of.get_mut(relation.index())
            {
                rules.push(RuleId(gov_ir::dense(index)));
            }
        }
        let mut recursive = vec![false; ir.relations.len()];
        for stratum in ir.strata.iter().filter(|s| s.recursive) {
            for member in &stratum.members {
                if let Some(flag) = recursive.get_mut(*member) {
                    *flag = true;
                }
            }
        }
        let risk = ir
            .decisions
            .iter()
            .filter(|d| d.effect == Effect::Risk)
            .map(|d| {
                let points = match d.points {
                    Some(Expr::Const(Const::Int(points))) => Some(points),
                    _ => None,
                };
                (d.name.as_str(), points, d.rule)
            })
            .collect();
        Unfolder { ir, schema: Schema::new(ir), rules_of, recursive, risk }
    }

    pub(crate) fn rule(&self, id: RuleId, depth: usize) -> Result<Vec<Query>, String> {
        let rule = self.ir.rule(id).ok_or("a rule the IR does not hold")?;
        self.conjunction(&rule.vars, &rule.body, depth)
    }

    fn conjunction(&self, vars: &[gov_ir::Var], body: &[Literal], depth: usize) -> Result<Vec<Query>, String> {
        let start = Query { vars: vars.iter().map(|v| v.ty).collect(), items: Vec::new() };
        let mut queries = vec![start];
        for literal in body {
            queries = self.literal(queries, literal, depth)?;
        }
        Ok(queries)
    }

    fn relation_name(&self, id: RelationId) -> &str {
        self.ir.relation(id).map_or("?", |r| r.name.as_str())
    }

    fn column_type(&self, relation: RelationId, column: u32) -> BaseType {
        let columns = self.ir.relation(relation).map(|r| r.columns.as_slice()).unwrap_or_default();
        columns.get(column as usize).map_or(BaseType::Int, |c| c.ty)
    }

    fn literal(&self, queries: Vec<Query>, literal: &Literal, depth: usize) -> Result<Vec<Query>, String> {
        // The string tests that are constraints on one string.
        if let Literal::Test { call, negated } = literal
            && let Some(test) = StrTest::of(call.builtin)
        {
            let [subject, pattern] = call.args.as_slice() else {
                return Err(format!("a call of `{}` with the wrong arguments", call.builtin.name()));
            };
            let (subject, pattern) = compare_terms(subject, pattern)
                .map_err(|_| format!("a call of `{}` on a computed value", call.builtin.name()))?;
            return Ok(push(queries, Item::Str(test, subject, pattern, *negated)));
        }
        // Outside the fragment: what a built-in yields is not modelled, so no witness or
        // proof may rest on it.
        if let Some(builtin) = literal.builtin() {
            return Err(format!("a call of the built-in `{}`", builtin.name()));
        }
        match literal {
            Literal::Compare { left, op, right } => {
                let (l, r) = compare_terms(left, right)?;
                Ok(push(queries, Item::Compare(l, *op, r)))
            }
            Literal::Aggregate { .. } => Err("an aggregate".to_owned()),
            Literal::Test { .. } | Literal::Generate { .. } => Err("a call of a built-in".to_owned()),
            Literal::InSet { element, set, negated } => {
                let element = term(element).map_err(|_| "a set test of a computed value")?;
                let each = set.iter().map(|c| Term::Const(c.clone(), c.ty()));
                if *negated {
                    Ok(each.fold(queries, |queries, c| push(queries, Item::Compare(element.clone(), CompareOp::Ne, c))))
                } else {
                    let constants: Vec<Term> = each.collect();
                    if queries.len().saturating_mul(constants.len()) > MAX_QUERIES {
                        return Err(format!("more than {MAX_QUERIES} alternatives"));
                    }
                    let one = |c: &Term| Item::Compare(element.clone(), CompareOp::Eq, c.clone());
                    Ok(queries
                        .iter()
                        .flat_map(|q| constants.iter().map(|c| push(vec![q.clone()], one(c))))
                        .flatten()
                        .collect())
                }
            }
            Literal::Negated(atom)
                if self.ir.relation(atom.relation).is_some_and(|r| r.kind == RelationKind::Derived) =>
            {
                self.negated_derived(queries, atom, depth)
            }
            Literal::Negated(atom) => {
                let relation = self.base(atom.relation, "a negated built-in relation")?;
                let args = self.columns(relation, &atom.args)?;
                Ok(push(queries, Item::NotFact(relation, args)))
            }
            Literal::Atom(atom) => match self.ir.relation(atom.relation).map(|r| r.kind) {
                Some(RelationKind::Input | RelationKind::Data) => self.positive(queries, atom),
                Some(RelationKind::Derived) => self.derived(queries, atom, depth),
                Some(RelationKind::Builtin) => self.risk_score(queries, atom, depth),
                None => Err("a relation the IR does not hold".to_owned()),
            },
        }
    }

    /// `relation` if it is an input or data relation; otherwise `what` is unknown.
    fn base(&self, relation: RelationId, what: &str) -> Result<RelationId, String> {
        match self.ir.relation(relation).map(|r| r.kind) {
            Some(RelationKind::Input | RelationKind::Data) => Ok(relation),
            _ => Err(format!("{what} (`{}`)", self.relation_name(relation))),
        }
    }

    /// An atom's arguments by column, `None` for a wildcard or a column left out.
    fn columns(&self, relation: RelationId, args: &[Arg]) -> Result<Vec<Option<Term>>, String> {
        let width = self.ir.relation(relation).map_or(0, |r| r.columns.len());
        let mut columns = vec![None; width];
        for arg in args {
            let ty = self.column_type(relation, arg.column);
            let term = match &arg.value {
                Expr::Var(v) => Some(Term::Var(v.index())),
                Expr::Const(c) => Some(Term::Const(c.clone(), ty)),
                Expr::Wildcard => None,
                Expr::Arith(_) | Expr::Call(_) => return Err("arithmetic in an atom".to_owned()),
            };
            if let Some(slot) = columns.get_mut(arg.column as usize) {
                *slot = term;
            }
        }
        Ok(columns)
    }

    /// A positive atom of an input or data relation: each wildcard becomes a fresh variable,
    /// since the witness's fact needs a value there.
    fn positive(&self, queries: Vec<Query>, atom: &Atom) -> Result<Vec<Query>, String> {
        let columns = self.columns(atom.relation, &atom.args)?;
        Ok(queries
            .into_iter()
            .map(|mut query| {
                let args = columns
                    .iter()
                    .enumerate()
                    .map(|(column, term)| match term {
                        Some(term) => term.clone(),
                        None => {
                            query.vars.push(self.column_type(atom.relation, gov_ir::dense(column)));
                            Term::Var(query.vars.len() - 1)
                        }
                    })
                    .collect();
                query.items.push(Item::Fact(atom.relation, args));
                query
            })
            .collect())
    }

    /// A negated atom of a derived relation: for each query so far, the conjunction, over
    /// every query the atom unfolds to (as [`Unfolder::derived`] writes it, a rule's body
    /// with its head equated to the atom's arguments), of that body's negation with the
    /// query's variables given ([`crate::negation::negate_given`]: exact where each of the
    /// body's variables is determined or occurs once in an atom), one query per choice of a
    /// disjunct of each (those the solver proves impossible dropped); otherwise why it
    /// cannot be written.
    fn negated_derived(&self, queries: Vec<Query>, atom: &Atom, depth: usize) -> Result<Vec<Query>, String> {
        let name = self.relation_name(atom.relation);
        let mut out = Vec::new();
        for query in queries {
            let given = query.vars.len();
            let mut alternatives = vec![query.clone()];
            for mut body in self.derived(vec![query.clone()], atom, depth)? {
                // Invariant: `derived` writes the query's own conditions first, then the rule's.
                let own = Query { items: body.items.split_off(query.items.len()), vars: body.vars };
                let disjuncts = crate::negation::negate_given(self.ir, &own, given)
                    .map_err(|why| format!("the negation of `{name}` cannot be written: {why}"))?;
                if alternatives.len().saturating_mul(disjuncts.len()) > MAX_QUERIES {
                    return Err(format!("more than {MAX_QUERIES} alternatives through `not {name}`"));
                }
                alternatives =
                    alternatives.iter().flat_map(|a| disjuncts.iter().map(|d| a.and_given(d, given))).collect();
                // A disjunct that contradicts the query (a column of the request's one fact
                // different from itself) would only multiply the products after it.
                alternatives.retain(|a| solve(&self.schema, a, Rows::Declared, Data::Any) != Outcome::Disjoint);
            }
            out.extend(alternatives);
            if out.len() > MAX_QUERIES {
                return Err(format!("more than {MAX_QUERIES} alternatives through `not {name}`"));
            }
        }
        Ok(out)
    }

    /// A positive atom of `risk_score`: one query per (query so far, set of `risk` rules that
    /// fire), see [`crate::risk`].
    fn risk_score(&self, queries: Vec<Query>, atom: &Atom, depth: usize) -> Result<Vec<Query>, String> {
        if depth >= MAX_DEPTH {
            return Err(format!("derived relations nested more than {MAX_DEPTH} deep (at `risk_score`)"));
        }
        let score = self.columns(atom.relation, &atom.args)?.into_iter().next().flatten();
        let sets = crate::risk::sets(self, depth + 1).map_err(|why| format!("`risk_score`: {why}"))?;
        let mut out = Vec::new();
        for (sum, alternatives) in sets {
            let mut alternatives = product(&queries, &alternatives)?;
            if let Some(score) = &score {
                let sum = Term::Const(Const::Int(sum), BaseType::Int);
                for query in &mut alternatives {
                    query.items.push(Item::Compare(score.clone(), CompareOp::Eq, sum.clone()));
                }
            }
            out.extend(alternatives);
            if out.len() > MAX_QUERIES {
                return Err(format!("more than {MAX_QUERIES} alternatives through `risk_score`"));
            }
        }
        Ok(out)
    }

    /// A positive atom of a derived relation: one query per (query so far, rule deriving
    /// it), the rule's head equated with the atom's arguments.
    fn derived(&self, queries: Vec<Query>, atom: &Atom, depth: usize) -> Result<Vec<Query>, String> {
        let name = self.relation_name(atom.relation);
        if self.recursive.get(atom.relation.index()).copied().unwrap_or(true) {
            return Err(format!("the recursive relation `{name}`"));
        }
        if depth >= MAX_DEPTH {
            return Err(format!("derived relations nested more than {MAX_DEPTH} deep (at `{name}`)"));
        }
        let columns = self.columns(atom.relation, &atom.args)?;
        let mut out = Vec::new();
        for id in self.rules_of.get(atom.relation.index()).map(Vec::as_slice).unwrap_or_default() {
            let Some(Head::Derive { args: head, .. }) = self.ir.rule(*id).map(|r| &r.head) else { continue };
            for body in self.rule(*id, depth + 1)? {
                for query in &queries {
                    let offset = query.vars.len();
                    let mut merged = query.and(&body);
                    for (column, term) in columns.iter().enumerate() {
                        let (Some(term), Some(value)) = (term, head.get(column)) else { continue };
                        let ty = self.column_type(atom.relation, gov_ir::dense(column));
                        let head_term = match value {
                            Expr::Var(v) => Term::Var(v.index() + offset),
                            Expr::Const(c) => Term::Const(c.clone(), ty),
                            Expr::Wildcard | Expr::Arith(_) | Expr::Call(_) => {
                                return Err(format!("arithmetic in the head of a rule of `{name}`"));
                            }
                        };
                        merged.items.push(Item::Compare(term.clone(), CompareOp::Eq, head_term));
                    }
                    out.push(merged);
                    if out.len() > MAX_QUERIES {
                        return Err(format!("more than {MAX_QUERIES} alternatives through `{name}`"));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Calls `f` on every term of the condition.
pub(crate) fn each_term(item: &Item, f: &mut impl FnMut(&Term)) {
    match item {
        Item::Fact(_, args) => args.iter().for_each(f),
        Item::NotFact(_, args) => args.iter().flatten().for_each(f),
        Item::Compare(l, _, r) | Item::Str(_, l, r, _) => {
            f(l);
            f(r);
        }
    }
}

fn push(queries: Vec<Query>, item: Item) -> Vec<Query> {
    queries
        .into_iter()
        .map(|mut query| {
            query.items.push(item.clone());
            query
        })
        .collect()
}

/// The two sides of a comparison as terms. A constant keeps its own type here; the solver
/// widens an Int literal compared with a Decimal variable.
fn compare_terms(left: &Expr, right: &Expr) -> Result<(Term, Term), String> {
    Ok((term(left)?, term(right)?))
}

/// A variable or a constant as a term, a constant with its own type.
fn term(e: &Expr) -> Result<Term, String> {
    match e {
        Expr::Var(v) => Ok(Term::Var(v.index())),
        Expr::Const(c) => Ok(Term::Const(c.clone(), c.ty())),
        Expr::Wildcard | Expr::Arith(_) | Expr::Call(_) => Err("arithmetic in a comparison".to_owned()),
    }
}
