//! Invariants: `invariant NAME: never allow :- BODY.` proved for every request, with any
//! data or with the data files fixed, or candidate counterexamples for the engine to try.
//!
//! The decision is deny if a deny rule fires, else escalate if an escalate rule fires, else
//! allow if an allow rule fires, else the default. Each query `b` of the invariant's unfolded
//! body must meet the condition its form asks for, written with two proofs the solver gives:
//! `none(c, E)`, every query of the rules of effects `E` is disjoint from `c`; and `some(c,
//! E)`, `c` is [`contained`] in one query of a rule of effects `E`, or in the union of their
//! queries ([`union_contains`]), so that some rule of `E` fires:
//!
//! | invariant | every query `b` of the body |
//! |---|---|
//! | never allow | `some(b, deny∪escalate)`, or default deny and for each allow query `a`: `b∧a` disjoint or `some(b∧a, deny∪escalate)` |
//! | always allow | `none(b, deny∪escalate)` and (default allow or `some(b, allow)`) |
//! | never deny | `none(b, deny)` and (default allow or `some(b, escalate∪allow)`) |
//! | always deny | `some(b, deny)`, or default deny and `none(b, escalate∪allow)` |
//! | never escalate | `some(b, deny)`, or for each escalate query `e`: `b∧e` disjoint or `some(b∧e, deny)` |
//! | always escalate | `none(b, deny)` and `some(b, escalate)` |
//!
//! Both proofs are sound, so [`Verdict::Proved`] is a proof for every request with the data
//! asked about: any data, or the package's data files fixed ([`Data`]).
//! Otherwise the search proposes requests on which the body holds, each alone and with each
//! decision rule's query, then with as few other rules firing as it can manage (each other
//! rule's conditions negated in turn): the caller runs them through the engine, and only a
//! request on which the engine's decision breaks the invariant is a counterexample.

use crate::diff::{contained, flips, normalize};
use crate::negation::union_contains;
use crate::query::{Query, unfold_body, unfold_each};
use crate::solve::{Data, Rows, Schema, solve};
use crate::{Outcome, Witness};
use gov_ir::{Invariant, Ir};
use gov_value::Effect;

/// How many candidate counterexamples one invariant proposes at most.
pub const MAX_CANDIDATES: usize = 64;

/// How many extra queries the search for candidates with fewer rules firing may solve.
const MAX_SOLVES: usize = 2_000;

/// What the analysis says about one invariant.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It holds on every request, with the data asked about: a proof within the fragment.
    Proved,
    /// No proof: why, and the requests to try as counterexamples.
    Open {
        /// Why the proof failed.
        reason: String,
        /// Candidate counterexamples, distinct, each a request (and data) on which the
        /// invariant's body holds.
        candidates: Vec<Witness>,
    },
}

/// The decision rules' queries, by effect.
struct Rules {
    deny: Vec<Query>,
    escalate: Vec<Query>,
    allow: Vec<Query>,
    /// The decision rules outside the fragment: their effect, and why.
    outside: Vec<(Effect, String)>,
}

impl Rules {
    fn of(ir: &Ir) -> Rules {
        let mut rules = Rules { deny: Vec::new(), escalate: Vec::new(), allow: Vec::new(), outside: Vec::new() };
        let unfolded = unfold_each(ir);
        for decision in &ir.decisions {
            let list = match decision.effect {
                Effect::Deny => &mut rules.deny,
                Effect::Escalate => &mut rules.escalate,
                Effect::Allow => &mut rules.allow,
                Effect::Obligation | Effect::Risk => continue,
            };
            match unfolded
                .get(decision.rule.index())
                .cloned()
                .unwrap_or_else(|| Err("a rule the IR does not hold".into()))
            {
                Ok(queries) => list.extend(queries.iter().map(normalize)),
                Err(reason) => {
                    let why = format!("`{}` is outside the analysis: {reason}", decision.name);
                    rules.outside.push((decision.effect, why));
                }
            }
        }
        rules
    }

    /// Whether every rule of these effects is inside the fragment.
    fn complete(&self, effects: &[Effect]) -> bool {
        !self.outside.iter().any(|(effect, _)| effects.contains(effect))
    }

    fn effects(&self, effects: &[Effect]) -> Vec<&Query> {
        let mut out = Vec::new();
        for effect in effects {
            out.extend(match effect {
                Effect::Deny => self.deny.iter(),
                Effect::Escalate => self.escalate.iter(),
                Effect::Allow => self.allow.iter(),
                Effect::Obligation | Effect::Risk => [].iter(),
            });
        }
        out
    }
}

/// The verdict on each of the package's invariants, in order, for `data`: with
/// [`Data::Any`] a proof covers every request with any data; with [`Data::Fixed`], every
/// request with those data facts (the deployment question), and the candidates need no data
/// of their own.
pub fn invariants(ir: &Ir, data: Data<'_>) -> Vec<Verdict> {
    if ir.invariants.is_empty() {
        return Vec::new();
    }
    let rules = Rules::of(ir);
    let schema = Schema::new(ir);
    ir.invariants.iter().map(|invariant| verdict(&schema, &rules, invariant, data)).collect()
}

fn verdict(ir: &Schema<'_>, rules: &Rules, invariant: &Invariant, data: Data<'_>) -> Verdict {
    let body = match unfold_body(ir, &invariant.vars, &invariant.body) {
        Ok(body) => body,
        Err(reason) => {
            return Verdict::Open {
                reason: format!("its body is outside the analysis: {reason}"),
                candidates: Vec::new(),
            };
        }
    };
    let mut live = Vec::new();
    let mut reason = None;
    for query in &body {
        match solve(ir, query, Rows::Declared, data) {
            Outcome::Disjoint => {}
            Outcome::Candidate(_) => live.push(normalize(query)),
            Outcome::Unknown(why) => {
                reason.get_or_insert(format!("its body is outside the analysis: {why}"));
                live.push(normalize(query));
            }
        }
    }
    let reason = reason.or_else(|| {
        live.iter().find_map(|b| holds(ir, rules, invariant, b, data).err()).map(|why| {
            // A rule outside the fragment is the likelier cause than the solver's limits.
            rules.outside.first().map_or(why.to_owned(), |(_, outside)| outside.clone())
        })
    });
    match reason {
        None => Verdict::Proved,
        Some(reason) => Verdict::Open { reason, candidates: candidates(ir, rules, &live, data) },
    }
}

/// Whether the invariant's condition holds on every request of `b` with `data` (see the
/// module's table); else which part the solver could not show. A containment is proved for
/// any data, so it holds with fixed data too.
fn holds(ir: &Schema<'_>, rules: &Rules, invariant: &Invariant, b: &Query, data: Data<'_>) -> Result<(), &'static str> {
    use Effect::{Allow, Deny, Escalate};
    let default_allow = ir.default_allow;
    let disjoint = |c: &Query| solve(ir, c, Rows::Declared, data) == Outcome::Disjoint;
    // A rule outside the fragment may fire anywhere: `none` and `each_overruled` need every
    // rule of their effects inside it; `some` needs only the rule that covers.
    let none = |c: &Query, effects: &[Effect]| {
        rules.complete(effects) && rules.effects(effects).into_iter().all(|q| disjoint(&c.and(q)))
    };
    // One rule's query contains `c`, or (several rules only together) their union does.
    let some = |c: &Query, effects: &[Effect]| {
        let union = rules.effects(effects);
        union.iter().any(|q| contained(ir, c, q)) || union_contains(ir, c, &union, data)
    };
    let each_overruled = |c: &Query, of: Effect, by: &[Effect]| {
        rules.complete(&[of])
            && rules.effects(&[of]).into_iter().all(|q| {
                let both = normalize(&c.and(q));
                disjoint(&both) || some(&both, by)
            })
    };
    let ok = match (invariant.always, invariant.effect) {
        (false, Allow) if default_allow => some(b, &[Deny, Escalate]),
        (false, Allow) => some(b, &[Deny, Escalate]) || each_overruled(b, Allow, &[Deny, Escalate]),
        (true, Allow) => none(b, &[Deny, Escalate]) && (default_allow || some(b, &[Allow])),
        (false, Deny) => none(b, &[Deny]) && (default_allow || some(b, &[Escalate, Allow])),
        (true, Deny) => some(b, &[Deny]) || (!default_allow && none(b, &[Escalate, Allow])),
        (false, Escalate) => some(b, &[Deny]) || each_overruled(b, Escalate, &[Deny]),
        (true, Escalate) => none(b, &[Deny]) && some(b, &[Escalate]),
        (_, Effect::Obligation | Effect::Risk) => false,
    };
    if ok { Ok(()) } else { Err("the solver cannot show that the decision rules decide so wherever the body holds") }
}

/// Requests on which a query of the body holds: alone, with each decision rule's query, and
/// each with as few other rules firing as the search can manage.
fn candidates(ir: &Schema<'_>, rules: &Rules, body: &[Query], data: Data<'_>) -> Vec<Witness> {
    let every: Vec<&Query> = rules.effects(&[Effect::Deny, Effect::Escalate, Effect::Allow]);
    let mut out: Vec<Witness> = Vec::new();
    let mut budget = MAX_SOLVES;
    let push = |out: &mut Vec<Witness>, w: Witness| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    for b in body {
        let bases =
            std::iter::once((b.clone(), None)).chain(every.iter().enumerate().map(|(i, q)| (b.and(q), Some(i))));
        for (base, with) in bases {
            if out.len() >= MAX_CANDIDATES {
                return out;
            }
            let Some(first) = witness(ir, &base, data) else { continue };
            push(&mut out, first);
            let mut fewer = base;
            let mut last = None;
            for (_, rule) in every.iter().enumerate().filter(|(i, _)| Some(*i) != with) {
                for flipped in flips(ir, rule) {
                    if budget == 0 {
                        break;
                    }
                    budget -= 1;
                    let tried = fewer.and(&flipped);
                    if let Some(w) = witness(ir, &tried, data) {
                        fewer = tried;
                        last = Some(w);
                        break;
                    }
                }
            }
            if let Some(w) = last {
                push(&mut out, w);
            }
        }
    }
    out
}

/// A witness of the query: one fact per relation first, then one per input relation, then as
/// declared.
fn witness(ir: &Schema<'_>, query: &Query, data: Data<'_>) -> Option<Witness> {
    [Rows::Minimal, Rows::One, Rows::Declared].into_iter().find_map(|rows| match solve(ir, query, rows, data) {
        Outcome::Candidate(w) => Some(w),
        Outcome::Disjoint | Outcome::Unknown(_) => None,
    })
}
