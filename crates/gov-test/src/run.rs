//! Running one test through the engine and checking its expectations.

use crate::TestCase;
use crate::world::world;
use gov_check::Symbols;
use gov_syntax::ast::{Effect, ExpectKind, Expectation, LitValue, Name, StrLit};
use gov_vm::json::Document;
use gov_vm::program::{Program, RelationKind};
use gov_vm::report::{Reason, RiskContribution};
use gov_vm::{Engine, Limits};
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// At least one expectation did not hold.
    Failed,
    /// The test could not be run: it expects nothing, or its facts or fixtures are bad.
    Error,
}

impl Status {
    /// `passed`, `failed` or `error`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The expectation as written (`expect deny too_large`).
    pub expectation: String,
    /// Its `file:line:col`.
    pub at: String,
    /// What it wanted.
    pub expected: String,
    /// What happened.
    pub actual: String,
    /// When a rule the expectation wanted did not fire: the one that came closest.
    pub closest: Option<Closest>,
}

/// The decision rule that almost fired, for a failed expectation that wanted one of its
/// effect (or it by name): the one whose body got furthest, and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closest {
    /// Its name.
    pub rule: String,
    /// Its effect's keyword.
    pub effect: String,
    /// `file:line:col` of the rule.
    pub at: String,
    /// How many of its conditions held (in the engine's order).
    pub held: usize,
    /// How many conditions it has.
    pub conditions: usize,
    /// The first condition that failed, with the values bound when it was reached.
    pub failed: String,
}

impl Closest {
    /// `deny too_large (p.gov:10:1): 1 of 3 conditions held, then no fact matches …`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({}): {} of {} conditions held, then {}",
            self.effect, self.rule, self.at, self.held, self.conditions, self.failed
        )
    }

    fn to_json(&self) -> Json {
        json!({
            "rule": self.rule, "effect": self.effect, "at": self.at,
            "held": self.held, "conditions": self.conditions, "failed": self.failed,
        })
    }
}

/// A decision rule that fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiredRule {
    /// Its name.
    pub name: String,
    /// `deny`, `escalate`, `allow`, `obligation` or `risk`.
    pub effect: String,
    /// Its message (the first, if it fired with several).
    pub message: String,
    /// `file:line:col` of the rule.
    pub at: String,
}

/// What the engine decided for a test's request.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// `deny`, `escalate` or `allow`.
    pub outcome: String,
    /// Every decision rule that fired, each once: deny/escalate/allow rules, then
    /// obligations, then risk rules.
    pub fired: Vec<FiredRule>,
    /// Every distinct message of every fired rule (in the order of `fired`): what
    /// `expect … "message"` looks for.
    pub messages: Vec<FiredRule>,
    /// The groups of the fired `escalate` rules.
    pub approvers: Vec<String>,
    /// The names of the fired `obligation` rules.
    pub obligations: Vec<String>,
    /// The risk score.
    pub risk: i64,
    /// The derivation of each fired decision rule, as `govc eval --explain` prints it.
    pub explanation: Json,
    /// The same derivation as an indented tree, one line per firing and per fact (empty
    /// when no rule fired).
    pub derivation: String,
    /// Ids of the decision rules that fired.
    pub decisions_fired: Vec<u32>,
    /// Ids of the derivation rules that derived a fact.
    pub rules_used: Vec<u32>,
}

/// The outcome of evaluating a test's request.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    /// The engine decided.
    Decided(Box<Observed>),
    /// The engine failed (a limit, an arithmetic overflow, …), or refused the request of a
    /// test that expects an error.
    Failed(String),
}

/// The result of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Its file, as the sources name it.
    pub file: String,
    /// 1-based line of `test`.
    pub line: u32,
    /// 1-based column of `test`.
    pub column: u32,
    /// Passed, failed or error.
    pub status: Status,
    /// Why the test could not run (status [`Status::Error`]).
    pub error: Option<String>,
    /// The expectations that did not hold.
    pub failures: Vec<Failure>,
    /// What the engine did; `None` when the test could not run.
    pub evaluation: Option<Evaluation>,
    /// How long it took, conversion and evaluation included.
    pub duration: Duration,
}

impl TestResult {
    /// `file:line:col` of the test.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }

    /// The result as JSON.
    pub fn to_json(&self) -> Json {
        let mut out = json!({
            "name": self.name,
            "status": self.status.name(),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "at": self.location(),
            "duration_ms": self.duration.as_secs_f64() * 1000.0,
        });
        let Some(object) = out.as_object_mut() else { return out };
        if let Some(error) = &self.error {
            object.insert("error".to_owned(), json!(error));
        }
        object.insert(
            "failures".to_owned(),
            self.failures
                .iter()
                .map(|f| {
                    let mut failure =
                        json!({"expectation": f.expectation, "at": f.at, "expected": f.expected, "actual": f.actual});
                    if let (Some(closest), Some(object)) = (&f.closest, failure.as_object_mut()) {
                        object.insert("closest".to_owned(), closest.to_json());
                    }
                    failure
                })
                .collect(),
        );
        match &self.evaluation {
            Some(Evaluation::Decided(observed)) => {
                object.insert("decision".to_owned(), json!(observed.outcome));
                object.insert(
                    "fired".to_owned(),
                    observed
                        .fired
                        .iter()
                        .map(|r| json!({"rule": r.name, "effect": r.effect, "message": r.message, "at": r.at}))
                        .collect(),
                );
                object.insert("approvers".to_owned(), json!(observed.approvers));
                object.insert("obligations".to_owned(), json!(observed.obligations));
                object.insert("risk".to_owned(), json!(observed.risk));
                object.insert("explanation".to_owned(), observed.explanation.clone());
            }
            Some(Evaluation::Failed(error)) => {
                object.insert("evaluation_error".to_owned(), json!(error));
            }
            None => {}
        }
        out
    }
}

/// Runs one test: the compiled program with its data replaced by the test's given data
/// facts and `with data` fixtures (`fixture` reads one, by the path as written), the
/// request made of its given input facts, decided with provenance by the engine within
/// `limits` (the data-only relations within [`Limits::LOAD`]).
pub fn run(
    compiled: &Program,
    symbols: &Symbols,
    case: &TestCase,
    limits: &Limits,
    fixture: &mut dyn FnMut(&str) -> Result<Document, String>,
) -> TestResult {
    let start = Instant::now();
    let mut result = TestResult {
        name: case.name.clone(),
        file: case.file.clone(),
        line: case.line,
        column: case.column,
        status: Status::Passed,
        error: None,
        failures: Vec::new(),
        evaluation: None,
        duration: Duration::ZERO,
    };
    match evaluate(compiled, symbols, case, limits, fixture) {
        Err(error) => {
            result.status = Status::Error;
            result.error = Some(error);
        }
        Ok((evaluation, failures)) => {
            result.failures = failures;
            if !result.failures.is_empty() {
                result.status = Status::Failed;
            }
            result.evaluation = Some(evaluation);
        }
    }
    result.duration = start.elapsed();
    result
}

/// Builds the test's world, decides its request and checks the expectations, naming the
/// closest rule of each that wanted a rule which did not fire. `Err` is a problem with the
/// test itself; an engine failure is an [`Evaluation::Failed`].
fn evaluate(
    compiled: &Program,
    symbols: &Symbols,
    case: &TestCase,
    limits: &Limits,
    fixture: &mut dyn FnMut(&str) -> Result<Document, String>,
) -> Result<(Evaluation, Vec<Failure>), String> {
    let failed = |error: String| -> Result<(Evaluation, Vec<Failure>), String> {
        let evaluation = Evaluation::Failed(error);
        let failures = case.expectations.iter().filter_map(|(e, at)| check(e, at, &evaluation)).collect();
        Ok((evaluation, failures))
    };
    if case.expectations.is_empty() {
        return Err("the test has no `expect`, so it asserts nothing".to_owned());
    }
    let world = world(&case.given, symbols)?;

    // The test's data replaces the bundle's: new strings are appended to the table.
    let mut strings = gov_vm::program::StringTable::of(compiled);
    let given_data = gov_vm::json::parse_document(&world.data.to_string()).map_err(|e| format!("given data: {e}"))?;
    // One sequence of list and object identifiers over the given data and every file.
    let mut list_ids = gov_vm::json::Ids::default();
    let mut facts =
        gov_vm::json::facts(compiled, &given_data, RelationKind::Data, &mut |s| strings.intern(s), &mut list_ids)
            .map_err(|e| format!("given data: {e}"))?;
    for path in &case.fixtures {
        let document = fixture(path).map_err(|e| format!("with data \"{path}\": {e}"))?;
        let more =
            gov_vm::json::facts(compiled, &document, RelationKind::Data, &mut |s| strings.intern(s), &mut list_ids)
                .map_err(|e| format!("with data \"{path}\": {e}"))?;
        facts.extend(more);
    }
    let data = gov_vm::program::data_groups(&compiled.relations, facts).map_err(|e| format!("given data: {e}"))?;
    let program = Program { strings: strings.into_table(), data, ..compiled.clone() };

    let engine = match Engine::from_program(program, "test".to_owned(), Limits::LOAD) {
        Ok(engine) => engine.with_limits(*limits),
        Err(error) => return failed(error.to_string()),
    };
    // A request the engine refuses (a one-fact input given zero or several times) is what
    // an `expect error` test may be about; any other test cannot run.
    let request = match engine.request_from_json(&world.input.to_string()) {
        Ok(request) => request,
        Err(error) if case.expectations.iter().any(|(e, _)| e.kind == ExpectKind::Error) => {
            return failed(format!("request rejected: {error}"));
        }
        Err(error) => {
            let at = given_at(case, &error.path).map(|at| format!("{at}: ")).unwrap_or_default();
            return Err(format!("{at}given input: {error}"));
        }
    };
    let explained = match engine.explained(&request) {
        Ok(explained) => explained,
        Err(error) => return failed(error.to_string()),
    };
    let report = match engine.report(&request, &explained.decision) {
        Ok(report) => report,
        Err(error) => return failed(error.to_string()),
    };
    let explanation = match gov_vm::json::explanation(&engine, &request, &explained.explanation) {
        Ok(explanation) => explanation,
        Err(error) => return failed(error.to_string()),
    };
    // The request's strings, then those built-ins made while deciding it.
    let strings = match engine.decision_strings(&request, &explained.explanation.strings) {
        Ok(strings) => strings,
        Err(error) => return failed(error.to_string()),
    };
    let reason = |r: &Reason| FiredRule {
        name: r.rule.clone(),
        effect: r.effect.keyword().to_owned(),
        message: r.message.clone(),
        at: r.at.clone(),
    };
    let contribution = |c: &RiskContribution| FiredRule {
        name: c.rule.clone(),
        effect: gov_vm::program::Effect::Risk.keyword().to_owned(),
        message: c.message.clone(),
        at: c.at.clone(),
    };
    let all: Vec<FiredRule> = report
        .reasons
        .iter()
        .chain(&report.obligations)
        .map(reason)
        .chain(report.contributions.iter().map(contribution))
        .collect();
    let mut fired: Vec<FiredRule> = Vec::new();
    for rule in &all {
        if !fired.iter().any(|f| f.name == rule.name) {
            fired.push(rule.clone());
        }
    }
    let mut decisions_fired: Vec<u32> = explained.decision.fired.iter().map(|f| f.decision).collect();
    decisions_fired.dedup();
    let evaluation = Evaluation::Decided(Box::new(Observed {
        outcome: explained.decision.outcome.name().to_owned(),
        obligations: fired.iter().filter(|f| f.effect == "obligation").map(|f| f.name.clone()).collect(),
        approvers: report.approvers,
        risk: report.risk_score,
        fired,
        messages: all,
        derivation: gov_vm::text::derivation(&engine, strings, &explained.explanation),
        explanation,
        decisions_fired,
        rules_used: explained.rules_used,
    }));
    let mut failures = Vec::new();
    for (expectation, at) in &case.expectations {
        let Some(mut failure) = check(expectation, at, &evaluation) else { continue };
        if let Evaluation::Decided(observed) = &evaluation {
            failure.closest = closest(&engine, &request, expectation, observed);
        }
        failures.push(failure);
    }
    Ok((evaluation, failures))
}

/// For an expectation that wanted a rule of its effect to fire (a named one, or any), the
/// rule among those that did not fire whose body got furthest, as the engine found it.
fn closest(
    engine: &Engine,
    request: &gov_vm::Request,
    expectation: &Expectation,
    observed: &Observed,
) -> Option<Closest> {
    let ExpectKind::Effect { negated: false, effect, rules, .. } = &expectation.kind else { return None };
    let program = engine.program();
    let fired = |name: &str| observed.fired.iter().any(|f| f.name == name);
    let wanted = |name: &str| if rules.is_empty() { true } else { rules.iter().any(|r| r.text == name) };
    if rules.is_empty() && observed.fired.iter().any(|f| f.effect == effect.keyword()) {
        return None;
    }
    let candidates: Vec<u32> = program
        .decisions
        .iter()
        .enumerate()
        .filter(|(_, d)| d.effect == *effect && wanted(program.string(d.name)) && !fired(program.string(d.name)))
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    let miss = engine.closest(request, &candidates).ok()??;
    let meta = program.decisions.get(miss.decision as usize)?;
    Some(Closest {
        rule: program.string(meta.name).to_owned(),
        effect: meta.effect.keyword().to_owned(),
        at: gov_vm::json::location(program, meta),
        held: miss.held,
        conditions: miss.conditions,
        failed: miss.failed,
    })
}
/// `file:line:col` of the given fact that a request error's path names: `request_time[1]`
/// is the second `request_time` the test gives (the request lists them in given order).
fn given_at<'c>(case: &'c TestCase, path: &str) -> Option<&'c str> {
    let (relation, rest) = path.split_once('[')?;
    let index: usize = rest.split(']').next()?.parse().ok()?;
    case.given.iter().filter(|(atom, _)| atom.relation.text == relation).nth(index).map(|(_, at)| at.as_str())
}

/// An expectation as written.
pub(crate) fn render(expectation: &Expectation) -> String {
    let quote =
        |texts: &[gov_syntax::ast::StrLit]| -> String { texts.iter().map(|t| format!(" {:?}", t.value)).collect() };
    match &expectation.kind {
        ExpectKind::Effect { negated, effect, rules, approvers, messages } => {
            let mut text = format!("expect {}{}", if *negated { "not " } else { "" }, effect.keyword());
            for rule in rules {
                text.push(' ');
                text.push_str(&rule.text);
            }
            for group in approvers {
                text.push_str(&format!(" to {:?}", group.value));
            }
            text + &quote(messages)
        }
        ExpectKind::Message { negated, messages } => {
            format!("expect {}message{}", if *negated { "not " } else { "" }, quote(messages))
        }
        ExpectKind::Risk(lit) => format!("expect risk {}", lit.raw),
        ExpectKind::Error => "expect error".to_owned(),
    }
}

fn list(names: &[String]) -> String {
    names.join(", ")
}

fn quoted(groups: &[String]) -> String {
    groups.iter().map(|g| format!("{g:?}")).collect::<Vec<_>>().join(", ")
}

fn texts(lits: &[gov_syntax::ast::StrLit]) -> Vec<String> {
    lits.iter().map(|l| l.value.clone()).collect()
}

/// `deny, with too_large, new_payee fired` — the decision and every rule that fired.
fn decided(observed: &Observed) -> String {
    let names: Vec<String> = observed.fired.iter().map(|f| f.name.clone()).collect();
    if names.is_empty() {
        format!("{}, with no rule fired", observed.outcome)
    } else {
        format!("{}, with {} fired", observed.outcome, list(&names))
    }
}

/// The messages the fired rules of `effect` (any effect for `None`) gave, as
/// `messages "a", "b"` or `no messages`.
fn given_messages(observed: &Observed, effect: Option<Effect>) -> String {
    let given: Vec<String> = observed
        .messages
        .iter()
        .filter(|f| effect.is_none_or(|e| f.effect == e.keyword()) && !f.message.is_empty())
        .map(|f| f.message.clone())
        .collect();
    if given.is_empty() { "no messages".to_owned() } else { format!("messages {}", quoted(&given)) }
}

/// Whether a positive or negated `expect EFFECT …` holds.
fn effect_holds(
    observed: &Observed,
    negated: bool,
    effect: Effect,
    rules: &[Name],
    approvers: &[StrLit],
    messages: &[StrLit],
) -> bool {
    let fired = |name: &str| observed.fired.iter().any(|f| f.name == name && f.effect == effect.keyword());
    // A message of a fired rule of the effect (of one of `rules`, when some are named).
    let gave = |text: &str| {
        observed.messages.iter().any(|f| {
            f.effect == effect.keyword()
                && f.message == text
                && (negated || rules.is_empty() || rules.iter().any(|r| r.text == f.name))
        })
    };
    let decides = matches!(effect, Effect::Deny | Effect::Escalate | Effect::Allow);
    let any_of_effect = observed.fired.iter().any(|f| f.effect == effect.keyword());
    if negated {
        if rules.is_empty() && approvers.is_empty() && messages.is_empty() {
            return if decides { observed.outcome != effect.keyword() } else { !any_of_effect };
        }
        return !rules.iter().any(|r| fired(&r.text))
            && !approvers.iter().any(|g| observed.approvers.contains(&g.value))
            && !messages.iter().any(|m| gave(&m.value));
    }
    let outcome = if decides {
        observed.outcome == effect.keyword()
    } else {
        // `expect obligation` alone: some obligation fired.
        any_of_effect || !rules.is_empty() || !messages.is_empty()
    };
    outcome
        && rules.iter().all(|r| fired(&r.text))
        && (effect != Effect::Escalate || approvers.iter().all(|g| observed.approvers.contains(&g.value)))
        && messages.iter().all(|m| gave(&m.value))
}

/// The failure of `expectation` against `evaluation`, if it does not hold.
fn check(expectation: &Expectation, at: &str, evaluation: &Evaluation) -> Option<Failure> {
    let failure = |expected: String, actual: String| {
        Some(Failure { expectation: render(expectation), at: at.to_owned(), expected, actual, closest: None })
    };
    let observed = match (evaluation, &expectation.kind) {
        (Evaluation::Failed(_), ExpectKind::Error) => return None,
        (Evaluation::Decided(observed), ExpectKind::Error) => {
            return failure("an evaluation error".to_owned(), decided(observed));
        }
        (Evaluation::Failed(error), kind) => return failure(expected_text(kind), format!("evaluation error: {error}")),
        (Evaluation::Decided(observed), _) => observed,
    };
    let holds = match &expectation.kind {
        ExpectKind::Effect { negated, effect, rules, approvers, messages } => {
            effect_holds(observed, *negated, *effect, rules, approvers, messages)
        }
        ExpectKind::Message { negated, messages } => {
            let gave = |text: &str| observed.messages.iter().any(|f| f.message == text);
            if *negated { !messages.iter().any(|m| gave(&m.value)) } else { messages.iter().all(|m| gave(&m.value)) }
        }
        ExpectKind::Risk(lit) => matches!(lit.value, LitValue::Int(n) if n == observed.risk),
        ExpectKind::Error => false,
    };
    if holds {
        return None;
    }
    let mut actual = match &expectation.kind {
        ExpectKind::Effect { effect: Effect::Obligation, negated: false, .. } => {
            if observed.obligations.is_empty() {
                "no obligations".to_owned()
            } else {
                format!("obligations {}", list(&observed.obligations))
            }
        }
        ExpectKind::Effect { effect: Effect::Risk, .. } => {
            let risky: Vec<String> =
                observed.fired.iter().filter(|f| f.effect == "risk").map(|f| f.name.clone()).collect();
            if risky.is_empty() {
                "no risk rule fired".to_owned()
            } else {
                format!("risk rules {} fired", list(&risky))
            }
        }
        ExpectKind::Message { .. } => decided(observed),
        ExpectKind::Risk(_) => format!("risk score {}", observed.risk),
        _ => decided(observed),
    };
    match &expectation.kind {
        ExpectKind::Effect { effect: Effect::Escalate, approvers, .. } if !approvers.is_empty() => {
            let groups = if observed.approvers.is_empty() {
                "no approvers".to_owned()
            } else {
                format!("approvers {}", quoted(&observed.approvers))
            };
            actual = format!("{actual}, {groups}");
        }
        _ => {}
    }
    match &expectation.kind {
        ExpectKind::Effect { effect, messages, .. } if !messages.is_empty() => {
            actual = format!("{actual}; {}", given_messages(observed, Some(*effect)));
        }
        ExpectKind::Message { .. } => actual = format!("{actual}; {}", given_messages(observed, None)),
        _ => {}
    }
    failure(expected_text(&expectation.kind), actual)
}

/// What an expectation wants, in words.
fn expected_text(kind: &ExpectKind) -> String {
    match kind {
        ExpectKind::Effect { negated: true, effect, rules, approvers, messages } => {
            let mut parts = Vec::new();
            if rules.is_empty() && approvers.is_empty() && messages.is_empty() {
                parts.push(match effect {
                    Effect::Deny | Effect::Escalate | Effect::Allow => {
                        format!("a decision other than {}", effect.keyword())
                    }
                    other => format!("no {} rule fired", other.keyword()),
                });
            }
            if !rules.is_empty() {
                parts.push(format!("none of {} fired", list(&texts_of(rules))));
            }
            if !approvers.is_empty() {
                parts.push(format!("approvers without {}", quoted(&texts(approvers))));
            }
            if !messages.is_empty() {
                parts.push(format!("no {} rule giving {}", effect.keyword(), quoted(&texts(messages))));
            }
            parts.join(", ")
        }
        ExpectKind::Effect { effect: Effect::Obligation, rules, messages, .. } => {
            let mut text = if rules.is_empty() {
                "at least one obligation".to_owned()
            } else {
                format!("obligations including {}", list(&texts_of(rules)))
            };
            if !messages.is_empty() {
                text.push_str(&format!(", with messages {}", quoted(&texts(messages))));
            }
            text
        }
        ExpectKind::Effect { effect, rules, approvers, messages, .. } => {
            let mut text = effect.keyword().to_owned();
            if !rules.is_empty() {
                text.push_str(&format!(", with {} fired", list(&texts_of(rules))));
            }
            if *effect == Effect::Escalate && !approvers.is_empty() {
                text.push_str(&format!(", approvers including {}", quoted(&texts(approvers))));
            }
            if !messages.is_empty() {
                text.push_str(&format!(", with messages {}", quoted(&texts(messages))));
            }
            text
        }
        ExpectKind::Message { negated: false, messages } => format!("a fired rule giving {}", quoted(&texts(messages))),
        ExpectKind::Message { negated: true, messages } => format!("no fired rule giving {}", quoted(&texts(messages))),
        ExpectKind::Risk(lit) => format!("risk score {}", lit.raw),
        ExpectKind::Error => "an evaluation error".to_owned(),
    }
}

fn texts_of(names: &[Name]) -> Vec<String> {
    names.iter().map(|n| n.text.to_string()).collect()
}
