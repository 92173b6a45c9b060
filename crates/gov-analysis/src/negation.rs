//! The negation of a rule body, as a disjunction of queries, where it can be written exactly:
//! what `risk_score` needs for the risk rules that do not fire, and what containment in a
//! union of queries needs ([`union_contains`]); and the case split ([`exclude`]) that removes
//! a union of queries from a query, writing a negation per row of the branch where the query
//! reads a relation of several rows through a shared variable.

use crate::Outcome;
use crate::query::{Item, Query, Term, product};
use crate::solve::{Data, Rows, Schema, solve};
use gov_ir::{Ir, RelationId};
use gov_value::{BaseType, CompareOp, RelationKind};
use std::ops::ControlFlow;
use std::rc::Rc;

/// How many solver calls one case split ([`exclude`]) may make before it answers "unknown".
pub const MAX_SPLIT_SOLVES: usize = 20_000;

/// How many branches a case split may keep open at once, or leave, before it answers "unknown".
const MAX_BRANCHES: usize = 1_024;

/// Whether every request (with `data`) on which `q` holds satisfies some query of `union`:
/// [`exclude`] leaves nothing of `q`. Sound; `false` when a negation needed cannot be
/// written exactly, the solver cannot prove a branch disjoint, or the split is too large.
pub fn union_contains(ir: &Schema<'_>, q: &Query, union: &[&Query], data: Data<'_>) -> bool {
    let mut budget = MAX_SPLIT_SOLVES;
    first_left(ir, q, union, data, &mut budget).is_ok_and(|left| left.is_none())
}

/// What is left of `q` once every query of `union` is excluded: the requests (with `data`)
/// on which `q` holds and no query of `union` does, as a disjunction of queries none of
/// which the solver proved disjoint (empty: `union` covers `q`). Exact where it answers.
///
/// A case split: the branches start as `q`; for each query `p` of the union in turn, a
/// branch already disjoint from `p` stays as it is (it excludes `p`), any other is split
/// into one branch per disjunct of `p`'s negation (`negate`), and a branch proved
/// disjoint is dropped (an unsatisfiable prefix cuts every branch below it). Where `p` reads
/// a relation of several rows through a variable used elsewhere, its negation is written
/// **per row** of the branch (`Split::enforce`). Where `p`'s negation cannot be written
/// at all, a branch [`contained`](crate::diff::contained) in `p` is dropped, and any other
/// makes the answer unknown. Every solver call is taken from `budget`; past it, or past
/// [`MAX_BRANCHES`] branches (open or left), the answer is unknown.
pub fn exclude(
    ir: &Schema<'_>,
    q: &Query,
    union: &[&Query],
    data: Data<'_>,
    budget: &mut usize,
) -> Result<Vec<Query>, String> {
    let mut left = Vec::new();
    walk(ir, q, union, data, budget, &mut |branch| {
        left.push(branch);
        if left.len() > MAX_BRANCHES {
            return Err(format!("the case split has more than {MAX_BRANCHES} branches"));
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(left)
}

/// The first branch [`exclude`] would leave of `q` (the same split, depth first, stopped
/// there), or `None` when `union` covers `q`: whether some request on which `q` holds
/// satisfies no query of `union`, at the cost of one path of the split where it does.
pub fn first_left(
    ir: &Schema<'_>,
    q: &Query,
    union: &[&Query],
    data: Data<'_>,
    budget: &mut usize,
) -> Result<Option<Query>, String> {
    let mut found = None;
    walk(ir, q, union, data, budget, &mut |branch| {
        found = Some(branch);
        Ok(ControlFlow::Break(()))
    })?;
    Ok(found)
}

/// The case split of [`exclude`], depth first: each branch left is passed to `visit`, in the
/// order of the disjuncts chosen for each query of `union`, until `visit` breaks.
fn walk(
    ir: &Schema<'_>,
    q: &Query,
    union: &[&Query],
    data: Data<'_>,
    budget: &mut usize,
    visit: &mut dyn FnMut(Query) -> Result<ControlFlow<()>, String>,
) -> Result<(), String> {
    let mut split = Split { ir, data, budget, negations: vec![None; union.len()] };
    if split.disjoint(q)? {
        return Ok(());
    }
    // Each open branch with the index of the next query of `union` to exclude from it; the
    // children of a branch are pushed last first, so they are visited in order.
    let mut open = vec![(Branch { query: q.clone(), per_row: Vec::new() }, 0)];
    while let Some((r, i)) = open.pop() {
        let Some(p) = union.get(i) else {
            if visit(r.query)?.is_break() {
                return Ok(());
            }
            continue;
        };
        // Invariant: a branch disjoint from `p` already excludes it.
        if split.disjoint(&r.query.and(p))? {
            open.push((r, i + 1));
            continue;
        }
        let negation = split.negation(i, p);
        let mut children = Vec::new();
        match &*negation {
            Negation::Exact(disjuncts) => {
                for n in disjuncts {
                    let query = r.query.and(n);
                    if split.disjoint(&query)? {
                        continue;
                    }
                    let grew = rows(&query) > rows(&r.query);
                    let branch = Branch { query, per_row: r.per_row.clone() };
                    // A row added (a negated atom made positive) may match a query
                    // excluded per row before: those are checked again.
                    if grew && !branch.per_row.is_empty() {
                        children.extend(split.enforce(branch, union)?);
                    } else {
                        children.push(branch);
                    }
                }
            }
            Negation::PerRow(_) => {
                let mut branch = r;
                branch.per_row.push((i, None));
                children.extend(split.enforce(branch, union)?);
            }
            Negation::Not(why) => {
                if !crate::diff::contained(ir, &r.query, p) {
                    return Err(format!("the negation of a rule cannot be written: {why}"));
                }
            }
        }
        open.extend(children.into_iter().rev().map(|b| (b, i + 1)));
        if open.len() > MAX_BRANCHES {
            return Err(format!("the case split has more than {MAX_BRANCHES} branches"));
        }
    }
    Ok(())
}

/// How many ways of matching an excluded query's atoms to a branch's rows one check tries
/// before the case split answers "unknown".
const MAX_ROW_MATCHES: usize = 4096;

/// A branch of a case split: a query, and the queries of the union (by index) excluded from
/// it row by row, which every row it holds, and every row added to it later, is checked
/// against.
struct Branch {
    query: Query,
    /// Each query excluded per row (by index into the union), with how many rows the branch
    /// held when every matching of it was last found excluded.
    // Invariant: the branch only grows stronger, so a query checked at the branch's current
    // number of rows needs no check again until a row is added.
    per_row: Vec<(usize, Option<usize>)>,
}

/// How the negation of an excluded query is written.
enum Negation {
    /// As a disjunction of queries, whatever the branch ([`negate`]).
    Exact(Vec<Query>),
    /// Per row of the branch: the atoms at these indices of the query's items read a
    /// relation of several rows through a variable used elsewhere ([`per_row`]).
    PerRow(Vec<usize>),
    /// It cannot be written: why.
    Not(String),
}

/// The state of one case split: the solver calls left and each excluded query's negation,
/// written once.
struct Split<'s, 'a> {
    ir: &'s Schema<'a>,
    data: Data<'s>,
    budget: &'s mut usize,
    negations: Vec<Option<Rc<Negation>>>,
}

impl Split<'_, '_> {
    /// Whether the solver proves `query` disjoint; one solver call from the budget.
    fn disjoint(&mut self, query: &Query) -> Result<bool, String> {
        if *self.budget == 0 {
            return Err(format!("the case split needs more than {MAX_SPLIT_SOLVES} solver calls"));
        }
        *self.budget -= 1;
        Ok(solve(self.ir, query, Rows::Declared, self.data) == Outcome::Disjoint)
    }

    /// The negation of the union's query `i`, `p`, written the first time it is asked for.
    fn negation(&mut self, i: usize, p: &Query) -> Rc<Negation> {
        if let Some(Some(known)) = self.negations.get(i) {
            return known.clone();
        }
        let negation = Rc::new(match negate(self.ir, p) {
            Ok(disjuncts) => Negation::Exact(disjuncts),
            Err(why) => per_row(self.ir, p).map_or(Negation::Not(why), Negation::PerRow),
        });
        if let Some(slot) = self.negations.get_mut(i) {
            *slot = Some(negation.clone());
        }
        negation
    }

    /// The branch split until every query it excludes per row misses every row it holds:
    /// while some matching of such a query's atoms to the branch's rows ([`matchings`]) is
    /// not disjoint from it, the branch is split by that matching's negation (the query is
    /// false on those rows exactly when one of its conditions fails on them, written as
    /// [`negate`] does with the branch's variables given), and the pieces are checked again
    /// (a piece may hold a new row). What is left are branches whose witnesses, which hold
    /// exactly the rows their atoms name, satisfy no excluded query.
    fn enforce(&mut self, branch: Branch, union: &[&Query]) -> Result<Vec<Branch>, String> {
        let mut work = vec![branch];
        let mut done = Vec::new();
        while let Some(mut b) = work.pop() {
            match self.violation(&mut b, union)? {
                None => done.push(b),
                Some(disjuncts) => {
                    for n in disjuncts {
                        let items = b.query.items.iter().cloned().chain(n.items).collect();
                        let query = Query { vars: n.vars, items };
                        if !self.disjoint(&query)? {
                            work.push(Branch { query, per_row: b.per_row.clone() });
                        }
                    }
                }
            }
            if work.len() + done.len() > MAX_BRANCHES {
                return Err(format!("the case split has more than {MAX_BRANCHES} branches"));
            }
        }
        Ok(done)
    }

    /// The negation of the first matching of a query excluded per row that the branch does
    /// not yet exclude (over the branch's variables and new ones), or `None`.
    fn violation(&mut self, b: &mut Branch, union: &[&Query]) -> Result<Option<Vec<Query>>, String> {
        let now = rows(&b.query);
        for k in 0..b.per_row.len() {
            let Some(&(i, checked)) = b.per_row.get(k) else { continue };
            if checked == Some(now) {
                continue;
            }
            let Some(p) = union.get(i) else { continue };
            let negation = self.negation(i, p);
            let Negation::PerRow(hard) = &*negation else { continue };
            for matched in matchings(self.ir, &b.query, p, hard, self.data)? {
                let items = b.query.items.iter().chain(&matched.items).cloned().collect();
                if self.disjoint(&Query { vars: matched.vars.clone(), items })? {
                    continue;
                }
                let disjuncts = negate_given(self.ir, &matched, b.query.vars.len())
                    .map_err(|why| format!("the negation of a rule cannot be written: {why}"))?;
                return Ok(Some(disjuncts));
            }
            if let Some(slot) = b.per_row.get_mut(k) {
                slot.1 = Some(now);
            }
        }
        Ok(None)
    }
}

/// How many atoms of input and data relations the query holds: its rows.
fn rows(query: &Query) -> usize {
    query.items.iter().filter(|item| matches!(item, Item::Fact(..))).count()
}

/// Each way of matching `p`'s atoms at `hard` to the rows of `b` (a witness of `b` holds
/// exactly the rows its atoms name; with [`Data::Fixed`], a data relation's rows are the
/// fixed facts): `p` over `b`'s variables (its own renumbered after them), each of those
/// atoms replaced by its columns equal to the row's.
fn matchings(ir: &Schema<'_>, b: &Query, p: &Query, hard: &[usize], data: Data<'_>) -> Result<Vec<Query>, String> {
    let shifted = Query { vars: b.vars.clone(), items: Vec::new() }.and(p);
    let mut options: Vec<Vec<Vec<Term>>> = Vec::new();
    for &at in hard {
        let Some(Item::Fact(relation, _)) = shifted.items.get(at) else { continue };
        let fixed = ir.relation(*relation).is_some_and(|r| r.kind == RelationKind::Data);
        options.push(match data {
            Data::Fixed(facts) if fixed => {
                let columns = ir.relation(*relation).map(|r| r.columns.as_slice()).unwrap_or_default();
                let of = facts.iter().filter(|f| f.relation == *relation);
                of.map(|f| f.values.iter().zip(columns).map(|(v, c)| Term::Const(v.clone(), c.ty)).collect()).collect()
            }
            _ => b
                .items
                .iter()
                .filter_map(|item| match item {
                    Item::Fact(r, args) if r == relation => Some(args.clone()),
                    _ => None,
                })
                .collect(),
        });
    }
    let count = options.iter().try_fold(1usize, |n, o| n.checked_mul(o.len()).filter(|n| *n <= MAX_ROW_MATCHES));
    let Some(count) = count else {
        return Err(format!("more than {MAX_ROW_MATCHES} ways to match a rule's atoms to the rows of a request"));
    };
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let mut rest = index;
        let mut chosen = Vec::new();
        for rows in &options {
            let n = rows.len().max(1);
            chosen.extend(rows.get(rest % n));
            rest /= n;
        }
        out.push(matched(&shifted, hard, &chosen));
    }
    Ok(out)
}

/// `shifted` with its atoms at `hard` replaced by their columns equal to `rows`' terms.
fn matched(shifted: &Query, hard: &[usize], rows: &[&Vec<Term>]) -> Query {
    let mut items = Vec::new();
    for (at, item) in shifted.items.iter().enumerate() {
        let row = hard.iter().position(|h| *h == at).and_then(|k| rows.get(k));
        match (item, row) {
            (Item::Fact(_, args), Some(row)) => {
                items.extend(
                    args.iter().zip(row.iter()).map(|(a, t)| Item::Compare(a.clone(), CompareOp::Eq, t.clone())),
                );
            }
            _ => items.push(item.clone()),
        }
    }
    Query { vars: shifted.vars.clone(), items }
}

/// The atoms of `p` (indices into its items) that read a relation of several rows (an
/// `input` relation not `one`, or a `data` relation) through a variable used elsewhere that
/// no `input one` fact determines, when matching them to given rows lets [`negate_given`]
/// write the rest's negation: `None` when there are none, an atom reads an object's fields
/// (a witness holds an object's fact even where no atom names it), or the rest cannot be
/// negated either.
fn per_row(ir: &Ir, p: &Query) -> Option<Vec<usize>> {
    let parts = Parts::of(ir, p, 0);
    let mut hard = Vec::new();
    for (at, item) in p.items.iter().enumerate() {
        let Item::Fact(relation, args) = item else { continue };
        if ir.relation(*relation).is_none_or(|r| r.one) {
            continue;
        }
        let shared = |t: &Term| match t {
            Term::Var(v) => {
                !parts.determined.get(*v).copied().unwrap_or(false) && parts.occurrences.get(*v).is_some_and(|n| *n > 1)
            }
            Term::Const(..) => false,
        };
        if args.iter().any(shared) {
            if is_object(ir, *relation) {
                return None;
            }
            hard.push(at);
        }
    }
    if hard.is_empty() {
        return None;
    }
    // A trial over rows of fresh variables: the matching of a real branch's rows has terms
    // as given as these.
    let mut b = Query::default();
    for &at in &hard {
        let Some(Item::Fact(relation, args)) = p.items.get(at) else { continue };
        let columns = ir.relation(*relation).map(|r| r.columns.as_slice()).unwrap_or_default();
        let first = b.vars.len();
        b.vars.extend(columns.iter().map(|c| c.ty));
        b.items.push(Item::Fact(*relation, (first..first + args.len()).map(Term::Var).collect()));
    }
    let shifted = Query { vars: b.vars.clone(), items: Vec::new() }.and(p);
    let rows: Vec<&Vec<Term>> =
        b.items.iter().filter_map(|i| if let Item::Fact(_, args) = i { Some(args) } else { None }).collect();
    negate_given(ir, &matched(&shifted, &hard, &rows), b.vars.len()).ok().map(|_| hard)
}

/// Whether `relation` holds an object field's members (a column of some relation names it as
/// its contents, not as a list's).
fn is_object(ir: &Ir, relation: RelationId) -> bool {
    ir.relations.iter().flat_map(|r| &r.columns).any(|c| c.contents.is_some_and(|c| !c.list && c.relation == relation))
}

/// The negation of a disjunction of queries, as a disjunction: exact when, in each query,
/// every variable is **determined** by the request (it fills a column of an `input one`
/// atom, the relation's one fact, or equals a determined term) or occurs once, in an atom of
/// another relation (then it is that atom's `_`). The negation of such a query, given the
/// facts of its `input one` atoms (every request has them), is one of its conditions
/// negated: a comparison or string test the other way, a negated atom made positive, an
/// atom of another relation negated, a column of an `input one` fact different from the
/// constant the atom names.
pub(crate) fn negation(ir: &Ir, queries: &[Query]) -> Result<Vec<Query>, String> {
    let mut out = vec![Query::default()];
    for query in queries {
        out = product(&out, &negate(ir, query)?)?;
    }
    Ok(out)
}

/// The negation of one query (see [`negation`]).
pub(crate) fn negate(ir: &Ir, query: &Query) -> Result<Vec<Query>, String> {
    negate_given(ir, query, 0)
}

/// Whether [`negate`] or the per-row case split ([`exclude`]) can write the query's negation.
pub(crate) fn negatable(ir: &Ir, query: &Query) -> bool {
    negate(ir, query).is_ok() || per_row(ir, query).is_some()
}

/// A query taken apart for its negation: the `input one` atoms with a fresh variable per
/// column (`rows`), the equalities that define a variable from determined terms
/// (`definitions`), and the other conditions, with which variables are determined and how
/// often each occurs in the conditions.
struct Parts {
    vars: Vec<BaseType>,
    rows: Vec<Item>,
    definitions: Vec<Item>,
    conditions: Vec<Item>,
    determined: Vec<bool>,
    occurrences: Vec<usize>,
}

impl Parts {
    /// The parts of `query`, its first `given` variables determined (a branch's, when the
    /// query is matched to the branch's rows).
    fn of(ir: &Ir, query: &Query, given: usize) -> Parts {
        let one = |r: RelationId| ir.relation(r).is_some_and(|r| r.one);
        let mut vars = query.vars.clone();
        let type_of = |vars: &[BaseType], t: &Term| match t {
            Term::Var(v) => vars.get(*v).copied().unwrap_or(BaseType::Int),
            Term::Const(_, ty) => *ty,
        };
        // The `input one` atoms with a fresh variable per column, each equal to the term
        // written there: what the atom asks of the request's one fact is then conditions.
        let mut rows = Vec::new();
        let mut conditions = Vec::new();
        let mut determined: Vec<bool> = (0..vars.len()).map(|v| v < given).collect();
        for item in &query.items {
            match item {
                Item::Fact(relation, args) if one(*relation) => {
                    let mut fresh = Vec::new();
                    for arg in args {
                        vars.push(type_of(&vars, arg));
                        determined.push(true);
                        let column = Term::Var(vars.len() - 1);
                        conditions.push(Item::Compare(column.clone(), CompareOp::Eq, arg.clone()));
                        fresh.push(column);
                    }
                    rows.push(Item::Fact(*relation, fresh));
                }
                other => conditions.push(other.clone()),
            }
        }
        // Equalities that define an undetermined variable from a determined term are
        // definitions, not conditions.
        let mut definitions = Vec::new();
        loop {
            let found = conditions.iter().position(|item| match item {
                Item::Compare(l, CompareOp::Eq, r) => known(&determined, l) != known(&determined, r),
                _ => false,
            });
            let Some(at) = found else { break };
            let item = conditions.remove(at);
            if let Item::Compare(l, _, r) = &item {
                for t in [l, r] {
                    if let Term::Var(v) = t
                        && let Some(flag) = determined.get_mut(*v)
                    {
                        *flag = true;
                    }
                }
            }
            definitions.push(item);
        }
        let mut occurrences = vec![0usize; vars.len()];
        for item in &conditions {
            crate::query::each_term(item, &mut |t| {
                if let Term::Var(v) = t
                    && let Some(n) = occurrences.get_mut(*v)
                {
                    *n += 1;
                }
            });
        }
        Parts { vars, rows, definitions, conditions, determined, occurrences }
    }
}

/// Whether a term is determined: a constant, or a variable marked so.
fn known(determined: &[bool], t: &Term) -> bool {
    match t {
        Term::Var(v) => determined.get(*v).copied().unwrap_or(false),
        Term::Const(..) => true,
    }
}

/// The negation of `query` (see [`negation`]) with its first `given` variables determined:
/// over those variables and the query's own (and new ones), the disjuncts of "the query
/// fails for these values of the given variables".
pub(crate) fn negate_given(ir: &Ir, query: &Query, given: usize) -> Result<Vec<Query>, String> {
    let Parts { vars, rows, definitions, conditions, determined, occurrences } = Parts::of(ir, query, given);
    let undetermined = "a variable that neither a fact of an `input one` relation determines nor occurs once";
    let mut out = Vec::new();
    for item in &conditions {
        let mut vars = vars.clone();
        let negated = match item {
            Item::Compare(l, op, r) if known(&determined, l) && known(&determined, r) => {
                Item::Compare(l.clone(), crate::diff::negate(*op), r.clone())
            }
            Item::Str(test, s, p, negated) if known(&determined, s) && known(&determined, p) => {
                Item::Str(*test, s.clone(), p.clone(), !negated)
            }
            Item::NotFact(relation, args) if args.iter().flatten().all(|t| known(&determined, t)) => {
                let columns = ir.relation(*relation).map(|r| r.columns.as_slice()).unwrap_or_default();
                let terms = args.iter().zip(columns).map(|(arg, column)| {
                    arg.clone().unwrap_or_else(|| {
                        vars.push(column.ty);
                        Term::Var(vars.len() - 1)
                    })
                });
                Item::Fact(*relation, terms.collect())
            }
            Item::Fact(relation, args) => {
                let mut columns = Vec::new();
                for arg in args {
                    columns.push(match arg {
                        t if known(&determined, t) => Some(t.clone()),
                        Term::Var(v) if occurrences.get(*v) == Some(&1) => None,
                        _ => return Err(undetermined.to_owned()),
                    });
                }
                Item::NotFact(*relation, columns)
            }
            _ => return Err(undetermined.to_owned()),
        };
        let mut items = rows.clone();
        items.extend(definitions.iter().cloned());
        items.push(negated);
        out.push(Query { vars, items });
    }
    Ok(out)
}
