//! Explanations: why each decision rule fired, as a tree of facts by relation and rule id.
//! [`crate::json::explanation`] renders one as the JSON `govc eval --explain` prints.

pub use crate::eval::Absence;
use crate::eval::{FactRef, Firing, Firings, Trace};
use crate::program::{Program, RelationKind};
use crate::store::Relation;
use crate::value::Value;

/// How deep an explanation goes before it stops expanding derived facts.
pub const EXPLANATION_DEPTH: usize = 32;

/// Why a decision came out as it did: each distinct firing, in the order the evaluation
/// recorded them, with the facts it matched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Explanation {
    /// One entry per distinct firing.
    pub firings: Vec<FiringExplanation>,
    /// The strings built-ins made while deciding (symbols after the request's own).
    pub strings: Vec<String>,
}

/// A decision rule's firing and the facts its body matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiringExplanation {
    /// The firing (decision rule id and message values).
    pub firing: Firing,
    /// The facts the body matched, in body order.
    pub premises: Vec<FactExplanation>,
    /// The negated conditions that held: the facts that were absent.
    pub absent: Vec<Absence>,
}

/// One fact and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactExplanation {
    /// The relation's id (into [`Program::relations`]).
    pub relation: u32,
    /// The fact's values, one per column.
    pub values: Vec<Value>,
    /// Where it came from.
    pub source: FactSource,
}

/// Where a fact came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactSource {
    /// The request.
    Input,
    /// The bundle's data (or a test's).
    Data,
    /// The built-in `risk_score` relation.
    RiskScore,
    /// A derived relation, without a recorded derivation (an aggregate's result).
    Derived,
    /// Derived by a rule from other facts.
    Rule {
        /// The rule's id (into [`Program::rules`]).
        rule: u32,
        /// The facts the rule matched.
        premises: Premises,
        /// The negated conditions that held when it derived the fact.
        absent: Vec<Absence>,
    },
}

impl FactSource {
    /// How explanations name a source other than a rule: `input`, `data`, `risk score` or
    /// `derived`; `None` for [`FactSource::Rule`].
    pub fn name(&self) -> Option<&'static str> {
        match self {
            FactSource::Input => Some("input"),
            FactSource::Data => Some("data"),
            FactSource::RiskScore => Some("risk score"),
            FactSource::Derived => Some("derived"),
            FactSource::Rule { .. } => None,
        }
    }
}

/// The premises of a derived fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Premises {
    /// The facts the rule matched, each explained in turn.
    Facts(Vec<FactExplanation>),
    /// The fact was expanded earlier in this explanation; it is not repeated.
    ExplainedAbove,
    /// The tree is [`EXPLANATION_DEPTH`] deep here; it stops expanding.
    TooDeep,
}

impl Premises {
    /// How explanations show premises that are not expanded: `explained above` or `…`;
    /// `None` for [`Premises::Facts`].
    pub fn note(&self) -> Option<&'static str> {
        match self {
            Premises::ExplainedAbove => Some("explained above"),
            Premises::TooDeep => Some("…"),
            Premises::Facts(_) => None,
        }
    }
}

/// Builds derivation trees. Each derived fact is expanded once per explanation; later
/// mentions point back to it, so shared sub-derivations cost linear, not exponential, output.
struct Explainer<'a> {
    program: &'a Program,
    relations: &'a [Relation],
    trace: &'a Trace,
    expanded: hashbrown::HashSet<FactRef>,
}

impl Explainer<'_> {
    fn fact(&mut self, fact: FactRef, depth: usize) -> FactExplanation {
        let (rel, row) = fact;
        let values = self.relations.get(rel as usize).map_or_else(Vec::new, |r| r.values(row));
        let source = match self.trace.derivations.get(&fact) {
            Some((rule, premises)) => {
                let premises = if !self.expanded.insert(fact) {
                    Premises::ExplainedAbove
                } else if depth >= EXPLANATION_DEPTH {
                    Premises::TooDeep
                } else {
                    Premises::Facts(premises.iter().map(|p| self.fact(*p, depth + 1)).collect())
                };
                let absent = self.trace.derivation_absent.get(&fact).cloned().unwrap_or_default();
                FactSource::Rule { rule: *rule, premises, absent }
            }
            None => match self.program.relations.get(rel as usize).map(|s| s.kind) {
                Some(RelationKind::Input) => FactSource::Input,
                Some(RelationKind::Data) => FactSource::Data,
                Some(RelationKind::Builtin) => FactSource::RiskScore,
                _ => FactSource::Derived,
            },
        };
        FactExplanation { relation: rel, values, source }
    }
}

/// For each firing (each distinct firing, as the evaluation records them), the rule and
/// the facts it matched, recursively.
pub(crate) fn explanation(program: &Program, relations: &[Relation], trace: &Trace, fired: Firings<'_>) -> Explanation {
    let mut explainer = Explainer { program, relations, trace, expanded: hashbrown::HashSet::new() };
    let firings = fired
        .iter()
        .zip(trace.firings.iter().zip(&trace.firing_absent))
        .filter(|(firing, _)| program.decisions.get(firing.decision as usize).is_some())
        .map(|(firing, (premises, absent))| FiringExplanation {
            firing: firing.to_firing(),
            premises: premises.iter().map(|p| explainer.fact(*p, 0)).collect(),
            absent: absent.clone(),
        })
        .collect();
    Explanation { firings, strings: Vec::new() }
}
