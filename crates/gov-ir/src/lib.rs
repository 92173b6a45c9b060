//! The resolved, typed intermediate representation of a checked Gov package: the one
//! hand-off from the checker (`gov_check::lower` lowers a package without errors, when a
//! back end asks through `gov_db::package_ir`) to the back ends (the compiler, and the
//! analyses to come).
//!
//! Everything is by dense id: relations and their columns, rules, decision rules, and each
//! rule's variables. Every variable and constant has its base type; atoms name columns by
//! index; the dependency graph and its strata are computed once. Source locations live in
//! side tables ([`Spans`]), so nothing in the IR's logic is keyed by a span or a name.
//!
//! An `Ir` exists only for a package that checked without errors, so its types state the
//! checker's guarantees: every column and variable has a type, every atom's relation and
//! column exist, every `@overrides` names a decision rule.

mod graph;
mod ids;
mod rule;

pub use gov_builtins::Builtin;
pub use graph::{Graph, Stratum};
pub use ids::{DecisionId, Node, RelationId, RuleId, VarId, dense};
pub use rule::{Aggregate, Arg, Arith, Atom, Call, Const, Expr, Head, Literal, Rule, Var};

use gov_diag::{FileId, Span};
use gov_value::{BaseType, Effect, RelationKind};

/// A checked package, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ir {
    /// The package's name.
    pub package: String,
    /// Whether a request no rule decides is allowed (`default allow`).
    pub default_allow: bool,
    /// The package's own files (not the library modules it uses), in order.
    pub files: Vec<FileId>,
    /// Relations: declared, derived and `risk_score`.
    pub relations: Vec<Relation>,
    /// Rules and decision rules, in source order (files in order, items in order).
    pub rules: Vec<Rule>,
    /// Decision rules, in source order.
    // Invariant: `decisions[d].rule` is the rule whose head is `Head::Decide(d)`.
    pub decisions: Vec<DecisionRule>,
    /// The dependency graph.
    pub graph: Graph,
    /// The strata: the graph's strongly connected components, each after every component it
    /// reads, and otherwise in the order of their smallest node.
    pub strata: Vec<Stratum>,
    /// The package's invariants, in source order: read by the analysis only, never compiled
    /// (they are in neither `rules` nor `graph`).
    pub invariants: Vec<Invariant>,
    /// Where things are in source.
    pub spans: Spans,
}

/// `invariant NAME: never allow :- BODY.`: on every request on which the body holds, the
/// decision is never (or, `always`, always) the effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invariant {
    /// Its name.
    pub name: String,
    /// `always` (true) or `never` (false).
    pub always: bool,
    /// `Allow`, `Deny` or `Escalate`.
    pub effect: Effect,
    /// The body's variables, by [`VarId`], as a rule's.
    pub vars: Vec<Var>,
    /// The body's conditions, as a rule's.
    pub body: Vec<Literal>,
    /// The checker's bound on the instructions the body compiles to, as a rule's.
    pub max_instructions: usize,
}

/// A relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Its name.
    pub name: String,
    /// Input, data, derived or built in.
    pub kind: RelationKind,
    /// Declared `input one`: every request holds exactly one fact of it.
    // Invariant: only an `Input` relation is `one`.
    pub one: bool,
    /// Whether a library module declares or derives it (rather than the package).
    pub library: bool,
    /// An auxiliary relation: the contents of a list or object field, its first column the
    /// list's or object's identifier (see [`Contents`]).
    pub auxiliary: bool,
    /// Its columns.
    pub columns: Vec<Column>,
    /// Its doc comment.
    pub docs: Vec<String>,
}

/// A column of a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The field's name (declared relations only).
    pub name: Option<String>,
    /// Its base type.
    pub ty: BaseType,
    /// Its type as written: the base type's name, or the alias's.
    pub type_name: String,
    /// For a list or object field, the auxiliary relation holding its contents (the column
    /// then holds an identifier of the value, the auxiliary relation's first column).
    pub contents: Option<Contents>,
}

/// Where a list or object field's contents are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    /// The auxiliary relation: (identifier, element) for a list, (identifier, members…)
    /// for an object.
    pub relation: RelationId,
    /// A list (a JSON array) or an object (a JSON object).
    pub list: bool,
}

/// A decision rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRule {
    /// Its name.
    pub name: String,
    /// What it decides.
    pub effect: Effect,
    /// The approver group of an `escalate` rule: `to "group"`, or `to g` over the rule's
    /// variables.
    pub approver: Option<Approver>,
    /// A `risk` rule's points, over the rule's variables.
    pub points: Option<Expr>,
    /// The message, text and variables of the rule.
    pub message: Vec<MessagePart>,
    /// The allow rules whose overlap with this rule is intended (`@overrides`).
    pub overrides: Vec<DecisionId>,
    /// The rule with its body.
    pub rule: RuleId,
    /// Its doc comment.
    pub docs: Vec<String>,
}

/// Who approves an `escalate` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approver {
    /// A group named in the source.
    Group(String),
    /// The group a variable of the body is bound to (a `Str`): the first value of each
    /// firing, before the message's.
    Var(VarId),
}

impl DecisionRule {
    /// The variable naming the approver group (`to g`), if any.
    pub fn approver_var(&self) -> Option<VarId> {
        match self.approver {
            Some(Approver::Var(var)) => Some(var),
            _ => None,
        }
    }

    /// The variables of the message, in order: after the points or the approver variable,
    /// the values a firing carries.
    pub fn message_vars(&self) -> impl Iterator<Item = VarId> + '_ {
        self.message.iter().filter_map(|part| match part {
            MessagePart::Var(var) => Some(*var),
            MessagePart::Text(_) => None,
        })
    }
}

/// A piece of a decision rule's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagePart {
    /// Literal text.
    Text(String),
    /// The value of a variable of the rule.
    Var(VarId),
}

/// Source locations, beside the IR's logic: each vector is indexed by the id of what it
/// locates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Spans {
    /// Each relation's declaration name, or the first head deriving it (`None` for
    /// `risk_score`).
    pub relations: Vec<Option<Span>>,
    /// Each rule, the whole item.
    pub rules: Vec<Span>,
    /// Each decision rule's name.
    pub decisions: Vec<Span>,
    /// Each invariant's name.
    pub invariants: Vec<Span>,
}

impl Ir {
    /// The relation with id `id`.
    pub fn relation(&self, id: RelationId) -> Option<&Relation> {
        self.relations.get(id.index())
    }

    /// The rule with id `id`.
    pub fn rule(&self, id: RuleId) -> Option<&Rule> {
        self.rules.get(id.index())
    }

    /// The decision rule with id `id`.
    pub fn decision(&self, id: DecisionId) -> Option<&DecisionRule> {
        self.decisions.get(id.index())
    }
}
