//! Scalar values of the Gov language.
//!
//! This crate is the one place that says what a Gov value *is*: the base types, how
//! literals of each type are written (shared by the lexer and by the engine's JSON
//! reader), and the checked arithmetic that both the checker (for typing) and the
//! evaluators (for values) rely on. It has no knowledge of the source language's syntax
//! trees nor of bundles, so the front end and the VM can both depend on it; for the same
//! reason it holds the few [`limits`] of the compiled form that the checker reports and
//! the bundle validator enforces.

mod arith;
pub mod limits;
mod literal;
mod vocab;

pub use arith::{ArithError, ArithOp, CompareOp, Num, apply, compare_allowed, result_type};
pub use literal::{format_duration, format_time, parse_decimal, parse_duration, parse_int, parse_time};
pub use rust_decimal::Decimal;
pub use vocab::{AggregateFn, Effect, RelationKind};

/// The built-in scalar types. Every declared type (including nominal aliases) bottoms
/// out in one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BaseType {
    /// 64-bit signed integer; overflow is an error, never a wrap.
    Int,
    /// Exact decimal number (96-bit mantissa, scale up to 28), for money.
    Decimal,
    /// UTF-8 string.
    Str,
    /// `true` or `false`.
    Bool,
    /// An instant, written in RFC 3339; held as nanoseconds since the Unix epoch (UTC).
    Time,
    /// A span of time such as `15m` or `1h30m`; held as nanoseconds.
    Duration,
}

impl BaseType {
    /// Every base type, in declaration order.
    pub const ALL: [BaseType; 6] =
        [BaseType::Int, BaseType::Decimal, BaseType::Str, BaseType::Bool, BaseType::Time, BaseType::Duration];

    /// The name by which source code refers to the type.
    pub fn name(self) -> &'static str {
        match self {
            BaseType::Int => "Int",
            BaseType::Decimal => "Decimal",
            BaseType::Str => "Str",
            BaseType::Bool => "Bool",
            BaseType::Time => "Time",
            BaseType::Duration => "Duration",
        }
    }

    /// Looks a base type up by its source name.
    pub fn from_name(name: &str) -> Option<BaseType> {
        BaseType::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for BaseType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
