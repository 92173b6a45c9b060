//! The negation of a rule body, as a disjunction of queries, where it can be written exactly:
//! what `risk_score` needs for the risk rules that do not fire, and what containment in a
//! union of queries needs ([`union_contains`]).

use crate::Outcome;
use crate::query::{Item, Query, Term, product};
use crate::solve::{Data, Rows, Schema, solve};
use gov_ir::{Ir, RelationId};
use gov_value::{BaseType, CompareOp};

/// How many solver calls one case split ([`exclude`]) may make before it answers "unknown".
pub const MAX_SPLIT_SOLVES: usize = 20_000;

/// How many branches a case split may keep open at once before it answers "unknown".
const MAX_BRANCHES: usize = 1_024;

/// Whether every request (with `data`) on which `q` holds satisfies some query of `union`:
/// [`exclude`] leaves nothing of `q`. Sound; `false` when a negation needed cannot be
/// written exactly, the solver cannot prove a branch disjoint, or the split is too large.
pub fn union_contains(ir: &Schema<'_>, q: &Query, union: &[&Query], data: Data<'_>) -> bool {
    let mut budget = MAX_SPLIT_SOLVES;
    exclude(ir, q, union, data, &mut budget).is_ok_and(|left| left.is_empty())
}

/// What is left of `q` once every query of `union` is excluded: the requests (with `data`)
/// on which `q` holds and no query of `union` does, as a disjunction of queries none of
/// which the solver proved disjoint (empty: `union` covers `q`). Exact where it answers.
///
/// A case split: the branches start as `q`; for each query `p` of the union in turn, a
/// branch already disjoint from `p` stays as it is (it excludes `p`), any other is split
/// into one branch per disjunct of `p`'s negation ([`negation`]), and a branch proved
/// disjoint is dropped (an unsatisfiable prefix cuts every branch below it). Where `p`'s
/// negation cannot be written, a branch [`contained`](crate::diff::contained) in `p` is
/// dropped, and any other makes the answer unknown. Every solver call is taken from
/// `budget`; past it, or past [`MAX_BRANCHES`] open branches, the answer is unknown.
pub fn exclude(
    ir: &Schema<'_>,
    q: &Query,
    union: &[&Query],
    data: Data<'_>,
    budget: &mut usize,
) -> Result<Vec<Query>, String> {
    let mut disjoint = |query: &Query| -> Result<bool, String> {
        if *budget == 0 {
            return Err(format!("the case split needs more than {MAX_SPLIT_SOLVES} solver calls"));
        }
        *budget -= 1;
        Ok(solve(ir, query, Rows::Declared, data) == Outcome::Disjoint)
    };
    let mut rest = if disjoint(q)? { Vec::new() } else { vec![q.clone()] };
    for p in union {
        if rest.is_empty() {
            break;
        }
        let mut negated = None;
        let mut next = Vec::new();
        for r in rest {
            // Invariant: a branch disjoint from `p` already excludes it.
            if disjoint(&r.and(p))? {
                next.push(r);
                continue;
            }
            match negated.get_or_insert_with(|| negate(ir, p)) {
                Ok(disjuncts) => {
                    for n in disjuncts.iter() {
                        let branch = r.and(n);
                        if !disjoint(&branch)? {
                            next.push(branch);
                        }
                    }
                }
                Err(why) => {
                    if !crate::diff::contained(ir, &r, p) {
                        return Err(format!("the negation of a rule cannot be written: {why}"));
                    }
                }
            }
            if next.len() > MAX_BRANCHES {
                return Err(format!("the case split has more than {MAX_BRANCHES} branches"));
            }
        }
        rest = next;
    }
    Ok(rest)
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
    let one = |r: RelationId| ir.relation(r).is_some_and(|r| r.one);
    let mut vars = query.vars.clone();
    let type_of = |vars: &[BaseType], t: &Term| match t {
        Term::Var(v) => vars.get(*v).copied().unwrap_or(BaseType::Int),
        Term::Const(_, ty) => *ty,
    };
    // The `input one` atoms with a fresh variable per column, each equal to the term written
    // there: what the atom asks of the request's one fact is then conditions.
    let mut rows = Vec::new();
    let mut conditions = Vec::new();
    let mut determined = vec![false; vars.len()];
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
    // Equalities that define an undetermined variable from a determined term are definitions,
    // not conditions.
    let known = |determined: &[bool], t: &Term| match t {
        Term::Var(v) => determined.get(*v).copied().unwrap_or(false),
        Term::Const(..) => true,
    };
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
