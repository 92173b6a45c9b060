//! The decision report: a decision's reasons, approvers, obligations and risk, in text.
//! [`crate::json::decision`] renders one as the decision JSON (DESIGN §5); test runners
//! read it directly.

use crate::EvalError;
use crate::engine::{Decision, Outcome};
use crate::eval::{Firing, risk_contributions, risk_score};
use crate::program::{Approver, DecisionMeta, Effect, MessagePart, Program};
use crate::value::{Strings, Value};
use gov_value::Decimal;
use std::collections::HashSet;

/// A decision as the contract reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The combined decision.
    pub outcome: Outcome,
    /// One per distinct message of each fired `deny`, `escalate` or `allow` rule, in rule order.
    pub reasons: Vec<Reason>,
    /// The approver groups of the fired `escalate` rules, each once, in rule order.
    pub approvers: Vec<String>,
    /// One per distinct message of each fired `obligation` rule, in rule order.
    pub obligations: Vec<Reason>,
    /// The sum of the contributions.
    pub risk_score: i64,
    /// Each fired `risk` rule's highest points, in rule order.
    pub contributions: Vec<RiskContribution>,
}

/// A fired decision rule with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The rule's name.
    pub rule: String,
    /// Its effect.
    pub effect: Effect,
    /// Its message, with the firing's values in it.
    pub message: String,
    /// `file:line:col` of the rule.
    pub at: String,
}

/// A `risk` rule's contribution to the score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskContribution {
    /// The rule's name.
    pub rule: String,
    /// Its points (the highest of its firings).
    pub points: i64,
    /// The message of the firing with those points.
    pub message: String,
    /// `file:line:col` of the rule.
    pub at: String,
}

/// A value of a firing with its strings as text, for embedders
/// ([`crate::Engine::firing_values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueText<'a> {
    /// `Int`
    Int(i64),
    /// `Decimal`
    Decimal(Decimal),
    /// `Str`, as text.
    Str(&'a str),
    /// `Bool`
    Bool(bool),
    /// `Time`, nanoseconds since the Unix epoch.
    Time(i64),
    /// `Duration`, nanoseconds.
    Duration(i64),
}

impl std::fmt::Display for ValueText<'_> {
    /// As messages and the decision JSON show the value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueText::Int(v) => write!(f, "{v}"),
            ValueText::Decimal(v) => write!(f, "{v}"),
            ValueText::Str(s) => f.write_str(s),
            ValueText::Bool(b) => write!(f, "{b}"),
            ValueText::Time(t) => f.write_str(&gov_value::format_time(*t)),
            ValueText::Duration(d) => f.write_str(&gov_value::format_duration(*d)),
        }
    }
}

/// The values of `firing` with each string symbol turned back into its text; an unknown
/// symbol is a corrupt program, not an empty string.
pub(crate) fn values<'a>(strings: Strings<'a>, firing: &Firing) -> Result<Vec<ValueText<'a>>, EvalError> {
    firing
        .values
        .iter()
        .map(|value| {
            Ok(match *value {
                Value::Int(v) => ValueText::Int(v),
                Value::Decimal(v) => ValueText::Decimal(v),
                Value::Str(sym) => ValueText::Str(text(strings, sym)?),
                Value::Bool(b) => ValueText::Bool(b),
                Value::Time(t) => ValueText::Time(t),
                Value::Duration(d) => ValueText::Duration(d),
            })
        })
        .collect()
}

/// The text of symbol `sym`: the program's table, then the request's own strings, then
/// those built-ins made.
fn text(strings: Strings<'_>, sym: u32) -> Result<&str, EvalError> {
    let index = sym as usize;
    let extra = index.checked_sub(strings.table.len());
    let made = extra.and_then(|i| i.checked_sub(strings.extra.len())).and_then(|i| strings.made.get(i));
    strings
        .table
        .get(index)
        .or(extra.and_then(|i| strings.extra.get(i)))
        .or(made)
        .map(String::as_str)
        .ok_or(EvalError::Corrupt("a firing holds a string the program and request do not have"))
}

/// The text of a firing's message.
pub fn message(program: &Program, strings: Strings<'_>, meta: &DecisionMeta, values: &[Value]) -> String {
    let offset = meta.leading_values();
    // Written into one string: a string value is copied from its table, not allocated.
    let mut text = String::new();
    for part in &meta.message {
        match part {
            MessagePart::Text(sym) => text.push_str(program.string(*sym)),
            MessagePart::Value(i) => match values.get(offset + *i as usize) {
                Some(Value::Str(sym)) => text.push_str(strings.get(*sym)),
                Some(value) => text.push_str(&strings.display(*value)),
                None => {}
            },
        }
    }
    text
}

/// `file:line:col` of a decision rule.
pub fn location(program: &Program, meta: &DecisionMeta) -> String {
    format!("{}:{}:{}", program.string(meta.source.file), meta.source.line, meta.source.column)
}

/// `file:line:col` of rule `rule` (an id into [`Program::rules`]), if there is one.
pub fn rule_location(program: &Program, rule: u32) -> Option<String> {
    let code = program.rules.get(rule as usize)?;
    Some(format!("{}:{}:{}", program.string(code.source.file), code.source.line, code.source.column))
}

/// The decision rule a firing belongs to; a firing of no rule is a corrupt program.
fn meta(program: &Program, decision: u32) -> Result<&DecisionMeta, EvalError> {
    program.decisions.get(decision as usize).ok_or(EvalError::Corrupt("a firing of an unknown decision rule"))
}

/// A set of what a report has taken already.
type Seen<T> = HashSet<T, foldhash::fast::RandomState>;

/// The report of `decision`. Linear in the firings: a reason or obligation is reported once
/// per distinct message. A risk score that overflows is an error: the decision fails
/// closed rather than report a wrong score.
pub(crate) fn report(program: &Program, strings: Strings<'_>, decision: &Decision) -> Result<Report, EvalError> {
    let mut reasons = Vec::new();
    let mut obligations = Vec::new();
    let mut approvers: Vec<String> = Vec::new();
    // Two firings with different values can still read the same (a Decimal's scale).
    // Sized for every firing at once (no rehash as they are added); foldhash, randomly
    // seeded, as the engine's other tables.
    let mut reported: Seen<(u32, String)> = Seen::with_capacity_and_hasher(decision.fired.len(), Default::default());
    let mut groups: Seen<String> = Seen::default();
    for firing in &decision.fired {
        let meta = meta(program, firing.decision)?;
        let list = match meta.effect {
            Effect::Deny | Effect::Escalate | Effect::Allow => &mut reasons,
            Effect::Obligation => &mut obligations,
            Effect::Risk => continue,
        };
        let group = match (meta.effect, meta.approver) {
            (Effect::Escalate, Some(Approver::Group(group))) => Some(program.string(group).to_owned()),
            (Effect::Escalate, Some(Approver::Value)) => firing.values.first().map(|v| strings.display(*v)),
            _ => None,
        };
        if let Some(group) = group
            && groups.insert(group.clone())
        {
            approvers.push(group);
        }
        let text = message(program, strings, meta, &firing.values);
        if reported.insert((firing.decision, text.clone())) {
            list.push(Reason {
                rule: program.string(meta.name).to_owned(),
                effect: meta.effect,
                message: text,
                at: location(program, meta),
            });
        }
    }
    let mut contributions = Vec::new();
    risk_contributions(program, decision.fired.iter().map(Firing::as_ref), &mut contributions)?;
    let risk_score = risk_score(&contributions)?;
    let contributions = contributions
        .iter()
        .map(|c| {
            let meta = meta(program, c.decision)?;
            let firing = decision.fired.get(c.firing).ok_or(EvalError::Corrupt("a risk contribution of no firing"))?;
            Ok(RiskContribution {
                rule: program.string(meta.name).to_owned(),
                points: c.points,
                message: message(program, strings, meta, &firing.values),
                at: location(program, meta),
            })
        })
        .collect::<Result<_, EvalError>>()?;
    Ok(Report { outcome: decision.outcome, reasons, approvers, obligations, risk_score, contributions })
}
