//! Dead and redundant rules as `govc check` reports them (W0703–W0706).
//!
//! `gov-analysis` proves each redundancy ([`Redundancy`] has no public constructor: it exists
//! only with its proof). A shadowed or subsumed rule also carries a request on which it fires;
//! here that request is run through the engine, and the finding is kept only if both the rule
//! and the one said to cover it (for an allow shadowed by several, one of them) fired: a [`Settled`] finding, made only in this module.

use super::Runner;
use gov_analysis::redundant::{Redundancy, Redundant};
use gov_diag::{Diagnostic, Span, codes};
use gov_ir::{DecisionId, Head, Ir, RuleId};

/// A proved redundancy, with the engine's run of its example where it has one.
// Invariant: made only by [`settle`]: a shadowed or subsumed rule only after the engine fired
// both rules on the example.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    proved: Redundancy,
    witness: Option<gov_diag::Witness>,
}

impl Settled {
    /// The proved redundancy.
    pub fn proved(&self) -> &Redundancy {
        &self.proved
    }

    /// The request (and data) on which the engine fired the rule and the one covering it.
    pub fn witness(&self) -> Option<&gov_diag::Witness> {
        self.witness.as_ref()
    }
}

/// The proved redundancies whose examples the engine confirms (the others need none), in
/// the analysis's order; an example the engine does not confirm drops its finding.
pub(crate) fn settle(runner: &Runner<'_>, report: gov_analysis::redundant::Report) -> Vec<Settled> {
    report
        .proved
        .into_iter()
        .filter_map(|proved| {
            let witness = match proved.what() {
                Redundant::Never(_) | Redundant::Unreachable(_) => None,
                Redundant::Shadowed { allow, by, example } => {
                    // The allow and one of the rules that cover it fired.
                    let witness = super::witness_json(runner.ir, example);
                    let (_, fired) = runner.decide(&witness).ok()?;
                    let fired = |d: &DecisionId| runner.ir.decision(*d).is_some_and(|r| fired.contains(&r.name));
                    if !(fired(allow) && by.iter().any(fired)) {
                        return None;
                    }
                    Some(witness)
                }
                Redundant::Subsumed { rule, by, example } => {
                    Some(runner.confirm(*rule, *by, example).ok()?.witness().clone())
                }
            };
            Some(Settled { proved, witness })
        })
        .collect()
}

/// The diagnostic of a settled finding.
pub(crate) fn diagnostic(ir: &Ir, settled: &Settled) -> Option<Diagnostic> {
    let name = |id: DecisionId| ir.decision(id).map_or("?", |d| d.name.as_str());
    let span = |id: DecisionId| ir.spans.decisions.get(id.index()).copied();
    let effect = |id: DecisionId| ir.decision(id).map_or("deny", |d| d.effect.keyword());
    let example = |diagnostic: Diagnostic| match &settled.witness {
        Some(witness) => diagnostic.with_note(super::example(witness)).with_witness(witness.clone()),
        None => diagnostic,
    };
    Some(match settled.proved.what() {
        Redundant::Never(rule) => never(ir, *rule)?,
        Redundant::Shadowed { allow, by, .. } => {
            let names = by.iter().map(|d| format!("`{}`", name(*d))).collect::<Vec<_>>();
            let (who, label) = match by.as_slice() {
                [one] => (
                    names.join(""),
                    format!("this {} fires on every request `{}` fires on", effect(*one), name(*allow)),
                ),
                _ => (
                    format!("one of {}", names.join(", ")),
                    format!(
                        "this rule fires on some of the requests `{}` fires on, the others on the rest",
                        name(*allow)
                    ),
                ),
            };
            let mut diagnostic = Diagnostic::new(
                codes::SHADOWED_ALLOW,
                format!("`{}` never decides: {who} fires wherever it does", name(*allow)),
                span(*allow)?,
            )
            .with_primary_label("this allow is always overruled");
            for d in by {
                diagnostic = diagnostic.with_label(span(*d)?, label.clone());
            }
            example(diagnostic.with_help(format!(
                "remove `{}`, or narrow {} so that the allow decides somewhere",
                name(*allow),
                names.join(" or ")
            )))
        }
        Redundant::Subsumed { rule, by, .. } => example(
            Diagnostic::new(
                codes::SUBSUMED_RULE,
                format!("`{}` is redundant: `{}` fires wherever it does", name(*rule), name(*by)),
                span(*rule)?,
            )
            .with_primary_label(format!("this {} adds nothing", effect(*rule)))
            .with_label(span(*by)?, format!("this {} covers every request `{}` fires on", effect(*by), name(*rule)))
            .with_help(format!("remove `{}`, or merge it into `{}`", name(*rule), name(*by))),
        ),
        Redundant::Unreachable(relation) => {
            let declared = ir.relation(*relation)?;
            Diagnostic::new(
                codes::UNREACHABLE_RELATION,
                format!("no decision rule reaches `{}`", declared.name),
                ir.spans.relations.get(relation.index()).copied().flatten()?,
            )
            .with_primary_label("read only by relations that no decision rule reads")
            .with_help("use it in a decision rule, or remove it with the relations that read it")
        }
    })
}

/// W0703 for a rule proved dead: a decision rule at its name, a derivation rule at the item.
fn never(ir: &Ir, rule: RuleId) -> Option<Diagnostic> {
    let help = "remove the rule, or correct the condition that contradicts the others";
    let label = "no request, with any data, satisfies all of its conditions";
    match &ir.rule(rule)?.head {
        Head::Decide(id) => {
            let decision = ir.decision(*id)?;
            let span: Span = ir.spans.decisions.get(id.index()).copied()?;
            Some(
                Diagnostic::new(codes::DEAD_RULE, format!("`{}` never fires", decision.name), span)
                    .with_primary_label(label)
                    .with_help(help),
            )
        }
        Head::Derive { relation, .. } => {
            let name = ir.relation(*relation).map_or("?", |r| r.name.as_str());
            let span = ir.spans.rules.get(rule.index()).copied()?;
            Some(
                Diagnostic::new(codes::DEAD_RULE, format!("this rule of `{name}` never derives a fact"), span)
                    .with_primary_label(label)
                    .with_help(help),
            )
        }
    }
}
