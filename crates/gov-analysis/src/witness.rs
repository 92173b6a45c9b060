//! Candidate witnesses: the facts of a request and of the data, as typed values.

use gov_ir::RelationId;
use gov_value::Decimal;

/// A value of a base type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// An `Int`.
    Int(i64),
    /// A `Decimal`.
    Decimal(Decimal),
    /// A `Str`.
    Str(String),
    /// A `Bool`.
    Bool(bool),
    /// A `Time`, in nanoseconds since the Unix epoch.
    Time(i64),
    /// A `Duration`, in nanoseconds.
    Duration(i64),
}

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
