#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Property test of `gov_vm::Engine::more_data`, what the conflict analysis confirms a
//! witness with data facts of its own on: an engine with a witness's data facts added
//! decides every request as the engine of the package compiled with those facts as one more
//! data file does (the outcome, and which rules fired how often), over random data files,
//! random added facts (lists, strings the program does not know, facts the data already
//! states) and random requests, through data-only relations with negation and strings that
//! built-ins make while the data is evaluated.

use gov_driver::Package;
use gov_vm::json::{Document, parse_document};
use proptest::prelude::*;

const SOURCE: &str = r#"package p
input one call(agent: Str, tool: Str, amount: Int)
data agent(name: Str, tools: [Str], limit: Int)
data blocked(name: Str)
trusted(a) :- agent(name: a), not blocked(a).
shout(a, u) :- agent(name: a), u = str.upper(a).
allow known :- call(agent: a, tool: t), agent(name: a, tools: ts), t in ts, trusted(a).
deny over "{n} is over {l}" :- call(agent: a, amount: n), agent(name: a, limit: l), n > l.
deny stopped :- call(agent: a), blocked(a).
escalate loud to "ops" :- call(tool: t), shout(_, u), str.lower(u) = t.
"#;

/// Names the program holds (`ops`) and names it does not.
const NAMES: [&str; 5] = ["ann", "bob", "ops", "cy", "git"];
const TOOLS: [&str; 4] = ["git", "cat", "ann", "rm"];

#[derive(Debug, Clone)]
struct Agent {
    name: usize,
    tools: Vec<usize>,
    limit: i64,
}

fn agent() -> impl Strategy<Value = Agent> {
    (0..NAMES.len(), prop::collection::vec(0..TOOLS.len(), 0..3), 0i64..20).prop_map(|(name, tools, limit)| Agent {
        name,
        tools,
        limit,
    })
}

fn data() -> impl Strategy<Value = (Vec<Agent>, Vec<usize>)> {
    (prop::collection::vec(agent(), 0..3), prop::collection::vec(0..NAMES.len(), 0..2))
}

fn document((agents, blocked): &(Vec<Agent>, Vec<usize>)) -> String {
    let agents: Vec<String> = agents
        .iter()
        .map(|a| {
            let tools: Vec<String> = a.tools.iter().map(|&t| format!("{:?}", TOOLS[t])).collect();
            format!(r#"{{"name": {:?}, "tools": [{}], "limit": {}}}"#, NAMES[a.name], tools.join(", "), a.limit)
        })
        .collect();
    let blocked: Vec<String> = blocked.iter().map(|&b| format!(r#"{{"name": {:?}}}"#, NAMES[b])).collect();
    format!(r#"{{"agent": [{}], "blocked": [{}]}}"#, agents.join(", "), blocked.join(", "))
}

fn named(name: &str, text: &str) -> (String, Document) {
    (name.to_owned(), parse_document(text).unwrap())
}

/// The outcome and each fired rule's name with how often it fired, in firing order.
fn summary(engine: &gov_vm::Engine, decision: &gov_vm::Decision) -> (gov_vm::Outcome, Vec<String>) {
    let program = engine.program();
    let fired = decision.fired.iter().map(|f| program.string(program.decisions[f.decision as usize].name).to_owned());
    (decision.outcome, fired.collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn more_data_decides_as_the_package_compiled_with_it(
        base in data(),
        extra in data(),
        requests in prop::collection::vec((0..NAMES.len(), 0..TOOLS.len(), 0i64..25), 1..4),
    ) {
        let package = Package::from_sources(vec![("p.gov".to_owned(), SOURCE.to_owned())]).unwrap();
        assert!(package.errors().is_none());
        let base = [named("p.data.json", &document(&base))];
        let extra = named("<witness data>", &document(&extra));
        let both = [base[0].clone(), extra.clone()];
        let full = package.engine(&both);
        let engine = package.engine(&base).unwrap();
        let more = engine.more_data(std::slice::from_ref(&extra));
        prop_assert_eq!(full.is_ok(), more.is_ok(), "{:?} / {:?}", full.as_ref().err(), more.as_ref().err());
        let (Ok(full), Ok(more)) = (full, more) else { return Ok(()) };
        for (agent, tool, amount) in requests {
            let text = format!(
                r#"{{"call": [{{"agent": {:?}, "tool": {:?}, "amount": {amount}}}]}}"#,
                NAMES[agent], TOOLS[tool]
            );
            let expected = full.decide(&full.request_from_json(&text).unwrap()).unwrap();
            let request = engine.request_with(&more, &text).unwrap();
            let decided = engine.decide_with(&more, &request).unwrap();
            prop_assert_eq!(summary(&engine, &decided), summary(&full, &expected), "{}", text);
        }
    }
}
