//! Explanations as text for people: the indented derivation tree `govc test` prints under
//! `derivation:` and `govc eval --explain --format human` prints.

use crate::Engine;
use crate::explain::{Absence, Explanation, FactExplanation, FactSource, Premises};
use crate::json::{absence_values, location, message, rule_location, value};
use crate::value::Strings;
use std::fmt::Write as _;

/// A decision report as text for people: the decision, then each reason, the approvers,
/// each obligation and the risk score with its contributions, one per line.
pub fn report(report: &crate::Report) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "decision: {}", report.outcome.name());
    let line = |text: &mut String, effect: &str, rule: &str, message: &str, at: &str| {
        let message = if message.is_empty() { String::new() } else { format!(" {message:?}") };
        let _ = writeln!(text, "  {effect} {rule}{message} ({at})");
    };
    if !report.reasons.is_empty() {
        text.push_str("reasons:\n");
        for reason in &report.reasons {
            line(&mut text, reason.effect.keyword(), &reason.rule, &reason.message, &reason.at);
        }
    }
    if !report.approvers.is_empty() {
        let groups: Vec<String> = report.approvers.iter().map(|g| format!("{g:?}")).collect();
        let _ = writeln!(text, "approvers: {}", groups.join(", "));
    }
    if !report.obligations.is_empty() {
        text.push_str("obligations:\n");
        for obligation in &report.obligations {
            line(&mut text, "obligation", &obligation.rule, &obligation.message, &obligation.at);
        }
    }
    let _ = writeln!(text, "risk score: {}", report.risk_score);
    for c in &report.contributions {
        let _ = writeln!(text, "  {:+} {} ({})", c.points, c.rule, c.at);
    }
    text
}

/// `explanation` of a request decided by `engine`, whose strings are `strings`
/// ([`Engine::strings`]), as an indented tree, one line per firing
/// and per fact, values as the explanation JSON writes them:
///
/// ```text
/// deny too_large "transfer of 6000 exceeds the 5000 limit" (policy.gov:12:1)
///   ← over_limit("bot-1", 6000, 5000) [rule at policy.gov:9:1]
///     ← transfer("bot-1", 6000, "acct-9") [input]
/// ```
pub fn derivation(engine: &Engine, strings: Strings<'_>, explanation: &Explanation) -> String {
    let program = engine.program();
    let mut text = String::new();
    for firing in &explanation.firings {
        let Some(meta) = program.decisions.get(firing.firing.decision as usize) else { continue };
        let message = message(program, strings, meta, &firing.firing.values);
        let message = if message.is_empty() { String::new() } else { format!(" {message:?}") };
        let name = program.string(meta.name);
        let _ = writeln!(text, "{} {name}{message} ({})", meta.effect.keyword(), location(program, meta));
        for fact in &firing.premises {
            fact_tree(engine, strings, fact, "  ", &mut text);
        }
        absences(engine, strings, &firing.absent, "  ", &mut text);
    }
    text
}

fn fact_tree(engine: &Engine, strings: Strings<'_>, fact: &FactExplanation, indent: &str, text: &mut String) {
    let program = engine.program();
    let relation = program.relations.get(fact.relation as usize).map_or("", |r| program.string(r.name));
    let values: Vec<String> = fact.values.iter().map(|v| value(strings, *v).to_string()).collect();
    let origin = match &fact.source {
        FactSource::Rule { rule, .. } => rule_location(program, *rule).map(|at| format!(" [rule at {at}]")),
        other => other.name().map(|name| format!(" [{name}]")),
    };
    let _ = writeln!(text, "{indent}← {relation}({}){}", values.join(", "), origin.unwrap_or_default());
    if let FactSource::Rule { premises, absent, .. } = &fact.source {
        match premises {
            Premises::Facts(facts) => {
                for premise in facts {
                    fact_tree(engine, strings, premise, &format!("{indent}  "), text);
                }
                absences(engine, strings, absent, &format!("{indent}  "), text);
            }
            other => {
                let _ = writeln!(text, "{indent}  {}", other.note().unwrap_or_default());
            }
        }
    }
}

/// `← not vip("carol") [absent]`: each negated condition that held, `_` for a column it did
/// not constrain.
fn absences(engine: &Engine, strings: Strings<'_>, absent: &[Absence], indent: &str, text: &mut String) {
    let program = engine.program();
    for absence in absent {
        let relation = program.relations.get(absence.relation as usize).map_or("", |r| program.string(r.name));
        let values: Vec<String> = absence_values(program, absence)
            .into_iter()
            .map(|v| v.map_or_else(|| "_".to_owned(), |v| value(strings, v).to_string()))
            .collect();
        let _ = writeln!(text, "{indent}← not {relation}({}) [absent]", values.join(", "));
    }
}
