//! An engine's explanation as the indented tree `govc test` prints under `derivation:`.

use gov_vm::explain::{Explanation, FactExplanation, FactSource, Premises};
use gov_vm::json::{location, message, rule_location, value};
use gov_vm::{Engine, Strings};
use std::fmt::Write as _;

/// `explanation` of a request decided by `engine`, whose strings are `strings`
/// ([`Engine::strings`]), as an indented tree, one line per firing
/// and per fact, values as the explanation JSON writes them:
///
/// ```text
/// deny too_large "transfer of 6000 exceeds the 5000 limit" (policy.gov:12:1)
///   ← over_limit("bot-1", 6000, 5000) [rule at policy.gov:9:1]
///     ← transfer("bot-1", 6000, "acct-9") [input]
/// ```
pub(crate) fn derivation(engine: &Engine, strings: Strings<'_>, explanation: &Explanation) -> String {
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
    if let FactSource::Rule { premises, .. } = &fact.source {
        match premises {
            Premises::Facts(facts) => {
                for premise in facts {
                    fact_tree(engine, strings, premise, &format!("{indent}  "), text);
                }
            }
            other => {
                let _ = writeln!(text, "{indent}  {}", other.note().unwrap_or_default());
            }
        }
    }
}
