//! The policy vocabulary shared by the language and the engine: what a decision rule
//! decides, how an aggregate combines, and where a relation's facts come from. The
//! syntax tree, the checker, the IR and the engine's program all use these definitions,
//! so a concept has one name from the parser to the bundle.

/// What a decision rule decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Must not run.
    Deny,
    /// A human must approve.
    Escalate,
    /// May run.
    Allow,
    /// Must happen if it runs.
    Obligation,
    /// Adds risk points.
    Risk,
}

impl Effect {
    /// Every effect, in declaration order.
    pub const ALL: [Effect; 5] = [Effect::Deny, Effect::Escalate, Effect::Allow, Effect::Obligation, Effect::Risk];

    /// The keyword that starts a decision rule of this effect (`deny`, `escalate`, …).
    pub fn keyword(self) -> &'static str {
        match self {
            Effect::Deny => "deny",
            Effect::Escalate => "escalate",
            Effect::Allow => "allow",
            Effect::Obligation => "obligation",
            Effect::Risk => "risk",
        }
    }
}

/// The aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFn {
    /// Number of distinct bindings.
    Count,
    /// Sum of the target over distinct bindings.
    Sum,
    /// Least target value.
    Min,
    /// Greatest target value.
    Max,
}

impl AggregateFn {
    /// Every aggregate function.
    pub const ALL: [AggregateFn; 4] = [AggregateFn::Count, AggregateFn::Sum, AggregateFn::Min, AggregateFn::Max];

    /// The function's name in source (`count`, `sum`, `min`, `max`).
    pub fn name(self) -> &'static str {
        match self {
            AggregateFn::Count => "count",
            AggregateFn::Sum => "sum",
            AggregateFn::Min => "min",
            AggregateFn::Max => "max",
        }
    }
}

/// Where a relation's facts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// Supplied with each request (declared `input`).
    Input,
    /// Supplied with the bundle (declared `data`).
    Data,
    /// Computed by rules.
    Derived,
    /// Computed by the engine: `risk_score`, the sum of the `risk` rules' points.
    Builtin,
}

impl RelationKind {
    /// The keyword that declares a relation of this kind (`input`, `data`); derived and
    /// built-in relations are not declared, and are described as `derived` and `builtin`.
    pub fn keyword(self) -> &'static str {
        match self {
            RelationKind::Input => "input",
            RelationKind::Data => "data",
            RelationKind::Derived => "derived",
            RelationKind::Builtin => "builtin",
        }
    }
}
