//! `risk_score` in the fragment: the score is the sum of the points of the `risk` rules that
//! fire (each once, however many ways its body holds), so `risk_score(s)` holds exactly when,
//! for one set `S` of risk rules, every rule of `S` fires, no other does, and `s` is the sum
//! of `S`'s points. Each set is a disjunction of queries: the bodies of its rules and the
//! negations of the others' ([`crate::negation`]).
//!
//! Exact when every risk rule's points are an `Int` constant, its body is in the fragment,
//! and its negation can be written as conditions (below); otherwise "unknown", with the
//! reason. At most [`MAX_RISK_RULES`] risk rules (2^n sets).

use crate::negation::negation;
use crate::query::{MAX_QUERIES, Query, Unfolder, product};

/// How many `risk` rules a `risk_score` atom is unfolded over at most.
pub const MAX_RISK_RULES: usize = 8;

/// Each set of risk rules that may fire together: the sum of its points and the queries on
/// which exactly those rules fire. Sets whose queries are none (a rule that never fires in
/// it, one that always fires out of it) are left out.
pub(crate) fn sets(unfolder: &Unfolder<'_>, depth: usize) -> Result<Vec<(i64, Vec<Query>)>, String> {
    let risk = &unfolder.risk;
    if risk.len() > MAX_RISK_RULES {
        return Err(format!("more than {MAX_RISK_RULES} risk rules"));
    }
    let mut rules = Vec::new();
    for &(name, points, rule) in risk {
        let points = points.ok_or_else(|| format!("the points of the risk rule `{name}` are not a constant"))?;
        let fires = unfolder
            .rule(rule, depth)
            .map_err(|why| format!("the risk rule `{name}` is outside the analysis: {why}"))?;
        let quiet = negation(unfolder.ir, &fires)
            .map_err(|why| format!("when the risk rule `{name}` does not fire is outside the analysis: {why}"))?;
        rules.push((points, fires, quiet));
    }
    let mut out = Vec::new();
    let mut total = 0usize;
    for set in 0..(1usize << rules.len()) {
        let mut sum = 0i64;
        let mut queries = vec![Query::default()];
        for (index, (points, fires, quiet)) in rules.iter().enumerate() {
            let part = if set & (1 << index) != 0 {
                sum = sum.checked_add(*points).ok_or("a sum of risk points that overflows")?;
                fires
            } else {
                quiet
            };
            queries = product(&queries, part)?;
        }
        total += queries.len();
        if total > MAX_QUERIES {
            return Err(format!("more than {MAX_QUERIES} alternatives through the risk rules"));
        }
        if !queries.is_empty() {
            out.push((sum, queries));
        }
    }
    Ok(out)
}
