//! Invariants as `govc check` reports them: proved (nothing to say), broken on a request the
//! engine decided (E0701), or unknown with the reason (W0707).
//!
//! `gov-analysis` proves an invariant or proposes candidate counterexamples. Each candidate
//! is decided by the engine of a *probe* program: the package with the invariant's body
//! added as an `obligation` rule (it changes no decision), so one run says both whether the
//! body holds on the request (the obligation fired) and what the decision is. A [`Broken`]
//! finding is made only here, only when both say the invariant fails.

use super::Runner;
use gov_analysis::Data;
use gov_analysis::invariant::Verdict;
use gov_diag::{Diagnostic, Sources, codes};
use gov_ir::{DecisionId, DecisionRule, Head, Invariant, Ir, Rule, RuleId, Stratum};
use gov_value::Effect;
use gov_vm::json::Document;

/// A counterexample the engine has decided: the invariant's body held and the decision broke it.
// Invariant: made only by [`findings`], after the probe's engine fired the body's
// obligation and decided against the invariant.
#[derive(Debug, Clone, PartialEq)]
pub struct Broken {
    invariant: usize,
    witness: gov_diag::Witness,
    decision: &'static str,
    fired: Vec<String>,
    /// Proved with today's data files: only data facts the witness adds break it.
    holds_today: bool,
}

impl Broken {
    /// The invariant's index in [`Ir::invariants`].
    pub fn invariant(&self) -> usize {
        self.invariant
    }

    /// The request (and data) the engine decided.
    pub fn witness(&self) -> &gov_diag::Witness {
        &self.witness
    }

    /// The engine's decision: `allow`, `deny` or `escalate`.
    pub fn decision(&self) -> &'static str {
        self.decision
    }

    /// The decision rules that fired, by name.
    pub fn fired(&self) -> &[String] {
        &self.fired
    }

    /// Whether the invariant was proved with today's data files, so that only the data facts
    /// the witness adds break it ("holds today, breaks with more data").
    pub fn holds_today(&self) -> bool {
        self.holds_today
    }
}

/// What `govc check` found for one invariant.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// Proved for every request with any data (the invariant's index).
    Proved(usize),
    /// Broken on a request the engine decided.
    Broken(Broken),
    /// Neither proved nor broken by any candidate the engine ran: the index, and why.
    Unknown(usize, String),
}

/// Each of the package's invariants, checked against the package's data documents `data`
/// plus each candidate's data facts. An invariant not proved for any data is searched again,
/// if the package has data files, with the data fixed to their facts (the deployment question): a proof there is said in
/// the finding ("holds with today's data files"), and its candidates, which need no data of
/// their own, are run first.
pub fn findings(ir: &Ir, sources: &Sources, data: &[(String, Document)]) -> Vec<Checked> {
    let any = gov_analysis::invariant::invariants(ir, Data::Any);
    // A package without data files has no deployment question apart from the policy one.
    let today = if data.is_empty() || any.iter().all(|v| *v == Verdict::Proved) {
        Vec::new()
    } else {
        match Runner::new(ir, sources, data).program() {
            Ok(program) => gov_analysis::invariant::invariants(ir, Data::Fixed(&super::data_facts(ir, program))),
            Err(_) => Vec::new(),
        }
    };
    any.into_iter()
        .enumerate()
        .map(|(index, verdict)| match verdict {
            Verdict::Proved => Checked::Proved(index),
            Verdict::Open { reason, candidates } => {
                let (holds_today, mut tried) = match today.get(index) {
                    Some(Verdict::Proved) => (true, Vec::new()),
                    Some(Verdict::Open { candidates, .. }) => (false, candidates.clone()),
                    None => (false, Vec::new()),
                };
                let reason = if holds_today {
                    format!("it holds with today's data files (proved), but not for any data: {reason}")
                } else {
                    reason
                };
                let Some((probe, name)) = probe(ir, index) else {
                    return Checked::Unknown(index, reason);
                };
                let runner = Runner::new(&probe, sources, data);
                let invariant = ir.invariants.get(index);
                tried.extend(candidates.into_iter().filter(|c| !tried.contains(c)).collect::<Vec<_>>());
                for candidate in &tried {
                    let witness = super::witness_json(ir, candidate);
                    let Ok((outcome, fired)) = runner.decide(&witness) else { continue };
                    let Some(invariant) = invariant else { continue };
                    if fired.contains(&name) && (invariant.effect == effect(outcome)) != invariant.always {
                        let fired = fired.into_iter().filter(|f| *f != name).collect();
                        let decision = outcome.name();
                        return Checked::Broken(Broken { invariant: index, witness, decision, fired, holds_today });
                    }
                }
                let tried = match tried.len() {
                    0 => String::new(),
                    1 => "; the engine decided the one candidate request, which does not break it".to_owned(),
                    n => format!("; the engine decided {n} candidate requests, none of which breaks it"),
                };
                Checked::Unknown(index, format!("{reason}{tried}"))
            }
        })
        .collect()
}

fn effect(outcome: gov_vm::Outcome) -> Effect {
    match outcome {
        gov_vm::Outcome::Allow => Effect::Allow,
        gov_vm::Outcome::Deny => Effect::Deny,
        gov_vm::Outcome::Escalate => Effect::Escalate,
    }
}

/// The package with the invariant's body as one more decision rule, an `obligation` (which
/// decides nothing), last in the graph and in a stratum of its own after every other; and
/// that rule's name, which no rule of a package can have (it has a space).
fn probe(ir: &Ir, index: usize) -> Option<(Ir, String)> {
    let invariant: &Invariant = ir.invariants.get(index)?;
    let span = ir.spans.invariants.get(index).copied()?;
    let mut probe = ir.clone();
    let name = format!("invariant {}", invariant.name);
    let id = DecisionId(gov_ir::dense(probe.decisions.len()));
    let rule = RuleId(gov_ir::dense(probe.rules.len()));
    probe.rules.push(Rule {
        head: Head::Decide(id),
        vars: invariant.vars.clone(),
        body: invariant.body.clone(),
        max_instructions: invariant.max_instructions,
    });
    probe.decisions.push(DecisionRule {
        name: name.clone(),
        effect: Effect::Obligation,
        approver: None,
        points: None,
        message: Vec::new(),
        overrides: Vec::new(),
        rule,
        docs: Vec::new(),
    });
    // Invariant: decisions come after relations in the graph, so the new node is last, and a
    // stratum that only reads earlier strata may come last.
    let node = probe.graph.len();
    probe.graph.readers.push(Vec::new());
    probe.graph.reads.push(Vec::new());
    for literal in &invariant.body {
        literal.for_each_atom(&mut |atom, _| {
            if let Some(readers) = probe.graph.readers.get_mut(atom.relation.index()) {
                readers.push(node);
            }
            if let Some(reads) = probe.graph.reads.get_mut(node) {
                reads.push(atom.relation.index());
            }
        });
    }
    probe.strata.push(Stratum { members: vec![node], recursive: false });
    probe.spans.decisions.push(span);
    probe.spans.rules.push(span);
    Some((probe, name))
}

/// The diagnostic of a broken or unknown invariant; none for a proved one.
pub(crate) fn diagnostic(ir: &Ir, checked: &Checked) -> Option<Diagnostic> {
    let index = match checked {
        Checked::Proved(_) => return None,
        Checked::Broken(broken) => broken.invariant,
        Checked::Unknown(index, _) => *index,
    };
    let invariant = ir.invariants.get(index)?;
    let span = ir.spans.invariants.get(index).copied()?;
    let quantifier = if invariant.always { "always" } else { "never" };
    let says = format!("{quantifier} {}", invariant.effect.keyword());
    Some(match checked {
        Checked::Proved(_) => return None,
        Checked::Broken(broken) => {
            let fired = if broken.fired.is_empty() {
                "no decision rule fired: the default".to_owned()
            } else {
                format!("fired: {}", broken.fired.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))
            };
            Diagnostic::new(
                codes::INVARIANT_BROKEN,
                format!(
                    "invariant `{}` is broken: a request where it says {says} is decided {}",
                    invariant.name, broken.decision
                ),
                span,
            )
            .with_primary_label(format!("says {says}"))
            .with_note(format!("{}; the engine decided {} ({fired})", super::example(&broken.witness), broken.decision))
            .with_help(if broken.holds_today {
                "it holds with today's data files: only the data facts of the example break it; correct the rules if such data can come, or the invariant if it says more than is meant"
            } else {
                "correct the rules, or the invariant if it says more than is meant"
            })
            .with_witness(broken.witness.clone())
        }
        Checked::Unknown(_, reason) => Diagnostic::new(
            codes::INVARIANT_UNKNOWN,
            format!("invariant `{}` is neither proved nor broken", invariant.name),
            span,
        )
        .with_primary_label(format!("says {says}: not proved"))
        .with_note(reason.clone())
        .with_help(
            "keep the rules it depends on inside the analysis (docs/analysis.md), or cover the case with a test",
        ),
    })
}
