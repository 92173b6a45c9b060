//! Dead and redundant rules: a rule that can never fire, an allow that never decides, a
//! decision rule another of the same effect covers, a relation no decision reads.
//!
//! Each finding says that something *never* happens, so no request can show it: what stands
//! behind it is a proof. A [`Redundancy`] is made only in this module, only once its proof is
//! done ([`Proof`] says which), and has no public constructor, so a caller cannot report one
//! the analysis did not prove:
//!
//! - **never fires**: every query of the rule's unfolded body is [`Outcome::Disjoint`] (with
//!   any data), which only the solver's sound steps produce; a query the solver cannot
//!   decide, or a body outside the fragment, is [`Undecided`], never dead;
//! - **shadowed** and **subsumed**: every satisfiable query of the rule is [`contained`] in
//!   a query of the covering rule (a homomorphism under which the solver proves each
//!   condition implied); or, for a shadowed allow, in the union of the deny and escalate
//!   rules that meet it ([`union_contains`]: the query with every one of theirs negated is
//!   proved disjoint); and the finding carries a candidate request on which the rule
//!   fires, which the caller runs through the engine to see both rules fire;
//! - **unreachable**: no path in the IR's dependency graph leads from any decision rule to
//!   the relation; the graph is exact, so no fragment is involved.

use crate::diff::{contained, normalize};
use crate::negation::union_contains;
use crate::query::{Item, Query, unfold_each};
use crate::solve::{Data, Rows, Schema, solve};
use crate::{Outcome, Witness};
use gov_ir::{DecisionId, Ir, RelationId, RuleId};
use gov_value::{Effect, RelationKind};
use std::collections::HashMap;

/// What a proved redundancy is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Redundant {
    /// The rule's body holds on no request with any data.
    Never(RuleId),
    /// Wherever the allow fires, one of the `deny` or `escalate` rules `by` fires too and wins.
    Shadowed {
        /// The allow.
        allow: DecisionId,
        /// The deny or escalate rules one of which fires wherever it does: one rule, or
        /// several that only together cover it.
        by: Vec<DecisionId>,
        /// A request (and data) on which the allow fires, so `by` must fire too.
        example: Witness,
    },
    /// Wherever the rule fires, `by`, of the same effect (and approver), fires too.
    Subsumed {
        /// The redundant rule.
        rule: DecisionId,
        /// The rule that covers it.
        by: DecisionId,
        /// A request (and data) on which the rule fires, so `by` must fire too.
        example: Witness,
    },
    /// No decision rule reads the relation, directly or through other relations.
    Unreachable(RelationId),
}

/// The kind of proof behind a redundancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The solver proved every query of the body disjoint.
    Unsatisfiable,
    /// Every satisfiable query of the rule is contained in a query of the covering rule.
    Containment,
    /// The dependency graph has no path from a decision rule.
    Graph,
}

/// A redundancy the analysis has proved.
// Invariant: made only in this module, after its proof succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct Redundancy {
    what: Redundant,
    proof: Proof,
}

impl Redundancy {
    /// What is redundant.
    pub fn what(&self) -> &Redundant {
        &self.what
    }

    /// The proof behind it.
    pub fn proof(&self) -> Proof {
        self.proof
    }
}

/// A rule of the package whose body the analysis cannot decide, and why: it is not reported
/// as dead, whatever it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    /// The rule.
    pub rule: RuleId,
    /// Why.
    pub reason: String,
}

/// What the analysis proved, and the rules it could not decide.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The proved redundancies: dead rules in source order, then shadowed allows, subsumed
    /// rules and unreachable relations.
    pub proved: Vec<Redundancy>,
    /// The rules whose body is outside the fragment or that the solver could not decide.
    pub undecided: Vec<Undecided>,
}

/// What the solver says about a rule's unfolded body.
enum Body {
    /// Every query is disjoint: the rule never fires.
    Dead,
    /// Its satisfiable queries, normalized; every other query is disjoint.
    Live(Vec<Query>),
    /// Some query has a witness, but another is outside the fragment or undecided: the rule
    /// can fire, but where is not known in full.
    Partly,
    /// No query has a witness, and one is outside the fragment or undecided: why.
    Unknown(String),
}

/// The dead and redundant rules and relations of the package's own files.
pub fn redundancies(ir: &Ir) -> Report {
    let schema = Schema::new(ir);
    let ir = &schema;
    let own_rule = |r: usize| ir.spans.rules.get(r).is_some_and(|s| ir.files.contains(&s.file));
    let mut report = Report::default();
    let mut bodies = Vec::with_capacity(ir.rules.len());
    for (index, unfolded) in unfold_each(ir).into_iter().enumerate() {
        let id = RuleId(gov_ir::dense(index));
        let body = body(ir, unfolded);
        if own_rule(index) {
            match &body {
                Body::Dead => {
                    report.proved.push(Redundancy { what: Redundant::Never(id), proof: Proof::Unsatisfiable })
                }
                Body::Unknown(reason) => report.undecided.push(Undecided { rule: id, reason: reason.clone() }),
                Body::Live(_) | Body::Partly => {}
            }
        }
        bodies.push(body);
    }
    let queries = |d: DecisionId| -> Option<&Vec<Query>> {
        match bodies.get(ir.decision(d)?.rule.index())? {
            Body::Live(queries) => Some(queries),
            Body::Dead | Body::Partly | Body::Unknown(_) => None,
        }
    };
    let own = |d: DecisionId| ir.decision(d).is_some_and(|r| own_rule(r.rule.index()));
    let mut budget = MAX_CONTAINMENTS;
    // Invariant: `q ⊆ p` maps every atom of `p` to an atom of `q`, so a rule can cover
    // another only if each of its queries reads no relation the other's first query does not.
    let atoms = |q: &Query| -> Vec<RelationId> {
        q.items.iter().filter_map(|i| if let Item::Fact(r, _) = i { Some(*r) } else { None }).collect()
    };
    let mut covered = |mine: &[Query], theirs: &[Query]| -> bool {
        let Some(first) = mine.first().map(atoms) else { return false };
        if !theirs.iter().any(|p| atoms(p).iter().all(|r| first.contains(r))) || budget == 0 {
            return false;
        }
        budget -= 1;
        covers(ir, mine, theirs)
    };
    let decisions: Vec<DecisionId> = (0..ir.decisions.len()).map(|i| DecisionId(gov_ir::dense(i))).collect();
    // The decision rules that may cover a rule whose first query reads these relations: each
    // rule is indexed under the first atom of each of its queries (or as reading nothing).
    let mut by_atom: HashMap<Option<RelationId>, Vec<DecisionId>> = HashMap::new();
    for &d in &decisions {
        for q in queries(d).into_iter().flatten() {
            let list = by_atom.entry(atoms(q).first().copied()).or_default();
            if list.last() != Some(&d) {
                list.push(d);
            }
        }
    }
    let candidates = |mine: &[Query]| -> Vec<DecisionId> {
        let first = mine.first().map(atoms).unwrap_or_default();
        let keys = first.iter().map(|r| Some(*r)).chain([None]);
        let mut found: Vec<DecisionId> = keys.flat_map(|k| by_atom.get(&k).into_iter().flatten().copied()).collect();
        found.sort();
        found.dedup();
        found
    };
    let mut shadowed = Vec::new();
    let mut unions = MAX_UNIONS;
    for &allow in decisions.iter().filter(|d| own(**d) && effect(ir, **d) == Some(Effect::Allow)) {
        let Some(mine) = queries(allow) else { continue };
        let winners = candidates(mine).into_iter();
        let winners = winners.filter(|d| matches!(effect(ir, *d), Some(Effect::Deny | Effect::Escalate)));
        // A deny first: it wins over an escalate too.
        let mut winners: Vec<DecisionId> = winners.collect();
        winners.sort_by_key(|d| effect(ir, *d) != Some(Effect::Deny));
        let mut found = None;
        for &by in &winners {
            if let Some(theirs) = queries(by)
                && covered(mine, theirs)
            {
                found = Some(vec![by]);
                break;
            }
        }
        // Several rules that only together cover it: those that meet it, as a union.
        if found.is_none() && unions > 0 {
            unions -= 1;
            let meets = |d: &DecisionId| {
                queries(*d).is_some_and(|theirs| {
                    theirs.iter().any(|p| {
                        mine.iter().any(|q| solve(ir, &q.and(p), Rows::Declared, Data::Any) != Outcome::Disjoint)
                    })
                })
            };
            let meeting: Vec<DecisionId> = decisions
                .iter()
                .copied()
                .filter(|d| matches!(effect(ir, *d), Some(Effect::Deny | Effect::Escalate)) && meets(d))
                .collect();
            let union: Vec<&Query> = meeting.iter().filter_map(|d| queries(*d)).flatten().collect();
            if meeting.len() > 1 && mine.iter().all(|q| union_contains(ir, q, &union, Data::Any)) {
                found = Some(meeting);
            }
        }
        if let Some(by) = found
            && let Some(example) = example(ir, mine)
        {
            shadowed.push(allow);
            let what = Redundant::Shadowed { allow, by, example };
            report.proved.push(Redundancy { what, proof: Proof::Containment });
        }
    }
    for &rule in decisions.iter().filter(|d| own(**d) && !shadowed.contains(d)) {
        let Some(mine) = queries(rule) else { continue };
        let Some(kind) = ir.decision(rule).map(|r| (r.effect, &r.approver)) else { continue };
        if !matches!(kind.0, Effect::Allow | Effect::Deny | Effect::Escalate) {
            continue;
        }
        for by in candidates(mine).into_iter().filter(|d| *d != rule) {
            if ir.decision(by).map(|r| (r.effect, &r.approver)) != Some(kind) {
                continue;
            }
            let Some(theirs) = queries(by) else { continue };
            // Of two rules that cover each other, the later one is reported.
            if covered(mine, theirs)
                && (by.index() < rule.index() || !covered(theirs, mine))
                && let Some(example) = example(ir, mine)
            {
                let what = Redundant::Subsumed { rule, by, example };
                report.proved.push(Redundancy { what, proof: Proof::Containment });
                break;
            }
        }
    }
    report.proved.extend(
        unreachable(ir).into_iter().map(|r| Redundancy { what: Redundant::Unreachable(r), proof: Proof::Graph }),
    );
    report
}

fn effect(ir: &Ir, d: DecisionId) -> Option<Effect> {
    ir.decision(d).map(|r| r.effect)
}

/// What the solver says about a rule's unfolded body, query by query.
fn body(ir: &Schema<'_>, unfolded: Result<Vec<Query>, String>) -> Body {
    let queries = match unfolded {
        Ok(queries) => queries,
        Err(reason) => return Body::Unknown(reason),
    };
    let (mut live, mut unknown) = (Vec::new(), None);
    for query in queries {
        match solve(ir, &query, Rows::Declared, Data::Any) {
            Outcome::Disjoint => {}
            Outcome::Candidate(_) => live.push(normalize(&query)),
            Outcome::Unknown(reason) => unknown = unknown.or(Some(reason)),
        }
    }
    match (live.is_empty(), unknown) {
        (true, None) => Body::Dead,
        (true, Some(reason)) => Body::Unknown(reason),
        (false, None) => Body::Live(live),
        (false, Some(_)) => Body::Partly,
    }
}

/// How many pairs of rules the search for shadowed and subsumed rules compares at most (a
/// generated package of thousands of rules would otherwise take minutes); past it, fewer
/// findings, never a wrong one.
pub const MAX_CONTAINMENTS: usize = 20_000;

/// How many allows the search for a shadowing union of rules considers at most.
pub const MAX_UNIONS: usize = 1_000;

/// Whether every query of `mine` is contained in some query of `theirs`.
fn covers(ir: &Schema<'_>, mine: &[Query], theirs: &[Query]) -> bool {
    mine.iter().all(|q| theirs.iter().any(|p| contained(ir, q, p)))
}

/// A candidate request on which one of the queries holds: one fact per input relation
/// first, else as declared.
fn example(ir: &Schema<'_>, queries: &[Query]) -> Option<Witness> {
    for rows in [Rows::One, Rows::Declared] {
        for query in queries {
            if let Outcome::Candidate(witness) = solve(ir, query, rows, Data::Any) {
                return Some(witness);
            }
        }
    }
    None
}

/// The package's own input, data and derived relations that some rule reads but no decision
/// rule reaches (a relation nothing reads is the checker's W0101).
fn unreachable(ir: &Ir) -> Vec<RelationId> {
    let graph = &ir.graph;
    let mut reached = vec![false; graph.len()];
    let mut stack: Vec<usize> = (graph.relations..graph.len()).collect();
    while let Some(node) = stack.pop() {
        let Some(seen) = reached.get_mut(node) else { continue };
        if std::mem::replace(seen, true) {
            continue;
        }
        stack.extend(graph.reads.get(node).into_iter().flatten().copied());
    }
    let read_by_another = |r: usize| graph.readers.get(r).is_some_and(|readers| readers.iter().any(|&n| n != r));
    let own = |r: usize| ir.spans.relations.get(r).copied().flatten().is_some_and(|s| ir.files.contains(&s.file));
    (0..graph.relations.min(ir.relations.len()))
        .filter(|&r| !reached.get(r).copied().unwrap_or(true) && read_by_another(r) && own(r))
        .filter(|&r| ir.relations.get(r).is_some_and(|rel| !rel.library && rel.kind != RelationKind::Builtin))
        .map(|r| RelationId(gov_ir::dense(r)))
        .collect()
}
