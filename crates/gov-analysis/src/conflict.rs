//! Conflicts: an `allow` rule and a `deny` or `escalate` rule that can fire on one request.

use crate::Outcome;
use crate::query::{Query, unfold_each};
use crate::solve::{Data, Rows, Schema, solve};
use gov_ir::{DecisionId, Ir};
use gov_value::Effect;

/// Whether the pair's overlap is a conflict or was declared intended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairKind {
    /// The deny or escalate rule does not name the allow in `@overrides`: an overlap is a
    /// conflict.
    Conflict,
    /// The deny or escalate rule names the allow in `@overrides`: no overlap makes it stale.
    Override,
}

/// One allow rule against one deny or escalate rule, and what the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The `allow` rule.
    pub allow: DecisionId,
    /// The `deny` or `escalate` rule.
    pub other: DecisionId,
    /// Conflict or override.
    pub kind: PairKind,
    /// A candidate request on which both fire, a proof that none exists, or why the search
    /// cannot tell.
    pub outcome: Outcome,
}

/// Every pair of an `allow` rule and a `deny` or `escalate` rule of the package's own files
/// (not of library modules), in source order of the allow, then of the other rule, with
/// what the search finds for `data`.
pub fn pairs(ir: &Ir, data: Data<'_>) -> Vec<Pair> {
    let schema = Schema::new(ir);
    let own = |d: DecisionId| ir.spans.decisions.get(d.index()).is_some_and(|span| ir.files.contains(&span.file));
    let ids = (0..ir.decisions.len()).map(|i| DecisionId(gov_ir::dense(i))).filter(|d| own(*d));
    let effect = |d: DecisionId| ir.decision(d).map(|r| r.effect);
    let allows: Vec<DecisionId> = ids.clone().filter(|d| effect(*d) == Some(Effect::Allow)).collect();
    let others: Vec<DecisionId> = ids.filter(|d| matches!(effect(*d), Some(Effect::Deny | Effect::Escalate))).collect();
    // Every rule unfolded in one pass (one index of the rules for all), only if some pair
    // needs it.
    let unfolded = if allows.is_empty() || others.is_empty() { Vec::new() } else { unfold_each(ir) };
    let body = |d: DecisionId| -> Result<Vec<Query>, String> {
        let rule = ir.decision(d).map(|r| r.rule).ok_or_else(|| "a decision rule the IR does not hold".to_owned())?;
        unfolded.get(rule.index()).cloned().unwrap_or_else(|| Err("a rule the IR does not hold".to_owned()))
    };
    let mut out = Vec::new();
    for &allow in &allows {
        for &other in &others {
            let overrides = ir.decision(other).is_some_and(|r| r.overrides.contains(&allow));
            let kind = if overrides { PairKind::Override } else { PairKind::Conflict };
            let outcome = match (body(allow), body(other)) {
                (Ok(a), Ok(o)) => overlap(&schema, &a, &o, data),
                (Err(reason), _) | (_, Err(reason)) => Outcome::Unknown(reason),
            };
            out.push(Pair { allow, other, kind, outcome });
        }
    }
    out
}

/// Whether some query of `left` and some query of `right` hold together: the first
/// candidate found; disjoint only if every combination is.
fn overlap(ir: &Schema<'_>, left: &[Query], right: &[Query], data: Data<'_>) -> Outcome {
    // A witness that is one action, one fact per input relation, is the clearest: look
    // for one first.
    for l in left {
        for r in right {
            if let Outcome::Candidate(witness) = solve(ir, &l.and(r), Rows::One, data) {
                return Outcome::Candidate(witness);
            }
        }
    }
    let mut unknown = None;
    for l in left {
        for r in right {
            match solve(ir, &l.and(r), Rows::Declared, data) {
                Outcome::Candidate(witness) => return Outcome::Candidate(witness),
                Outcome::Disjoint => {}
                Outcome::Unknown(reason) => unknown = unknown.or(Some(reason)),
            }
        }
    }
    unknown.map_or(Outcome::Disjoint, Outcome::Unknown)
}
