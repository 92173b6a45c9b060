//! Candidate witnesses: the facts of a request and of the data, as typed values.

use gov_ir::RelationId;

/// A value of a witness's fact: a literal of its column's base type, as the IR writes one.
pub type Value = gov_ir::Const;

/// A fact of an input or data relation: one value per column, in column order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fact {
    /// The relation.
    pub relation: RelationId,
    /// Its values.
    pub values: Vec<Value>,
}

/// A request and the data facts it needs. Each list holds distinct facts, in the order the
/// search made them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Witness {
    /// Facts of input relations: the request. Every `input one` relation has exactly one.
    pub input: Vec<Fact>,
    /// Facts of data relations.
    pub data: Vec<Fact>,
}
