//! The negation of a rule body, as a disjunction of queries, where it can be written exactly:
//! what `risk_score` needs for the risk rules that do not fire, and what containment in a
//! union of queries needs ([`union_contains`]).

use crate::Outcome;
use crate::query::{Item, Query, Term, product};
use crate::solve::{Data, Rows, Schema, solve};
use gov_ir::{Ir, RelationId};
use gov_value::{BaseType, CompareOp};

/// Whether every request (with any data) on which `q` holds satisfies some query of `union`:
/// `q` with the negation of every query of `union` is proved disjoint. Sound; `false` when
/// the negation cannot be written exactly or the solver cannot prove it.
pub fn union_contains(ir: &Schema<'_>, q: &Query, union: &[&Query]) -> bool {
    let mut rest = vec![q.clone()];
    for p in union {
        let Ok(negated) = negate(ir, p) else { return false };
        match product(&rest, &negated) {
            Ok(next) => rest = next,
            Err(_) => return false,
        }
        // Invariant: a conjunction already disjoint stays so with more conditions: drop it.
        rest.retain(|r| solve(ir, r, Rows::Declared, Data::Any) != Outcome::Disjoint);
        if rest.is_empty() {
            return true;
        }
    }
    false
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
fn negate(ir: &Ir, query: &Query) -> Result<Vec<Query>, String> {
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
