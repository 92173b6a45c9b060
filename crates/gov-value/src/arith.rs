//! Checked arithmetic and comparison rules.
//!
//! `result_type` (used by the checker) and `apply` (used by the evaluators) describe the
//! same table; a test below keeps them in agreement.

use crate::BaseType;
use rust_decimal::Decimal;

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (integer division truncates toward zero)
    Div,
}

impl ArithOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// Whether two values ordered as `ordering` satisfy the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        match self {
            CompareOp::Eq => ordering.is_eq(),
            CompareOp::Ne => ordering.is_ne(),
            CompareOp::Lt => ordering.is_lt(),
            CompareOp::Le => ordering.is_le(),
            CompareOp::Gt => ordering.is_gt(),
            CompareOp::Ge => ordering.is_ge(),
        }
    }

    /// Whether the operator is `=` or `!=` (allowed on every type).
    pub fn is_equality(self) -> bool {
        matches!(self, CompareOp::Eq | CompareOp::Ne)
    }
}

/// Whether `op` may compare two values of type `ty`. Equality works on every type;
/// ordering on every type but `Bool`.
pub fn compare_allowed(op: CompareOp, ty: BaseType) -> bool {
    op.is_equality() || ty != BaseType::Bool
}

/// A numeric-like value that arithmetic applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Num {
    /// An `Int`.
    Int(i64),
    /// A `Decimal`.
    Decimal(Decimal),
    /// A `Time`, as nanoseconds since the Unix epoch.
    Time(i64),
    /// A `Duration`, as nanoseconds.
    Duration(i64),
}

impl Num {
    /// The base type of the value.
    pub fn base_type(self) -> BaseType {
        match self {
            Num::Int(_) => BaseType::Int,
            Num::Decimal(_) => BaseType::Decimal,
            Num::Time(_) => BaseType::Time,
            Num::Duration(_) => BaseType::Duration,
        }
    }
}

/// Why an arithmetic operation produced no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithError {
    /// The result does not fit its type.
    Overflow,
    /// Division by zero.
    DivisionByZero,
    /// The operand types have no rule for this operator (the checker rejects these).
    TypeMismatch,
}

impl std::fmt::Display for ArithError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArithError::Overflow => "arithmetic overflow",
            ArithError::DivisionByZero => "division by zero",
            ArithError::TypeMismatch => "operand types do not match",
        })
    }
}

impl std::error::Error for ArithError {}

/// The type of `left op right`, or `None` when the combination is not allowed.
pub fn result_type(op: ArithOp, left: BaseType, right: BaseType) -> Option<BaseType> {
    use ArithOp::*;
    use BaseType::*;
    match (op, left, right) {
        (_, Int, Int) => Some(Int),
        (_, Decimal, Decimal) => Some(Decimal),
        (Add, Time, Duration) | (Add, Duration, Time) | (Sub, Time, Duration) => Some(Time),
        (Sub, Time, Time) => Some(Duration),
        (Add | Sub, Duration, Duration) => Some(Duration),
        (Mul, Duration, Int) | (Mul, Int, Duration) | (Div, Duration, Int) => Some(Duration),
        _ => None,
    }
}

/// Applies `op` with overflow and division-by-zero checks.
pub fn apply(op: ArithOp, left: Num, right: Num) -> Result<Num, ArithError> {
    use ArithOp::*;
    use Num::*;
    let int = |a: i64, b: i64| -> Result<i64, ArithError> {
        match op {
            Add => a.checked_add(b).ok_or(ArithError::Overflow),
            Sub => a.checked_sub(b).ok_or(ArithError::Overflow),
            Mul => a.checked_mul(b).ok_or(ArithError::Overflow),
            Div if b == 0 => Err(ArithError::DivisionByZero),
            Div => a.checked_div(b).ok_or(ArithError::Overflow),
        }
    };
    match (op, left, right) {
        (_, Int(a), Int(b)) => int(a, b).map(Int),
        (_, Decimal(a), Decimal(b)) => {
            let value = match op {
                Add => a.checked_add(b),
                Sub => a.checked_sub(b),
                Mul => a.checked_mul(b),
                Div if b.is_zero() => return Err(ArithError::DivisionByZero),
                Div => a.checked_div(b),
            };
            value.map(Decimal).ok_or(ArithError::Overflow)
        }
        (Add | Sub, Time(a), Duration(b)) => int(a, b).map(Time),
        (Add, Duration(a), Time(b)) => int(a, b).map(Time),
        (Sub, Time(a), Time(b)) => int(a, b).map(Duration),
        (Add | Sub, Duration(a), Duration(b)) => int(a, b).map(Duration),
        (Mul | Div, Duration(a), Int(b)) => int(a, b).map(Duration),
        (Mul, Int(a), Duration(b)) => int(a, b).map(Duration),
        _ => Err(ArithError::TypeMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ty: BaseType) -> Option<Num> {
        match ty {
            BaseType::Int => Some(Num::Int(3)),
            BaseType::Decimal => Some(Num::Decimal(Decimal::new(15, 1))),
            BaseType::Time => Some(Num::Time(1_000)),
            BaseType::Duration => Some(Num::Duration(60)),
            BaseType::Str | BaseType::Bool => None,
        }
    }

    #[test]
    fn apply_agrees_with_result_type() {
        for op in [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div] {
            for left in BaseType::ALL {
                for right in BaseType::ALL {
                    let expected = result_type(op, left, right);
                    let (Some(a), Some(b)) = (sample(left), sample(right)) else {
                        assert_eq!(expected, None, "{left} {} {right}", op.symbol());
                        continue;
                    };
                    let actual = apply(op, a, b).ok().map(Num::base_type);
                    assert_eq!(actual, expected, "{left} {} {right}", op.symbol());
                }
            }
        }
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        assert_eq!(apply(ArithOp::Add, Num::Int(i64::MAX), Num::Int(1)), Err(ArithError::Overflow));
        assert_eq!(apply(ArithOp::Div, Num::Int(i64::MIN), Num::Int(-1)), Err(ArithError::Overflow));
        assert_eq!(apply(ArithOp::Div, Num::Int(1), Num::Int(0)), Err(ArithError::DivisionByZero));
        let zero = Num::Decimal(Decimal::ZERO);
        assert_eq!(apply(ArithOp::Div, zero, zero), Err(ArithError::DivisionByZero));
        assert_eq!(
            apply(ArithOp::Mul, Num::Decimal(Decimal::MAX), Num::Decimal(Decimal::TWO)),
            Err(ArithError::Overflow)
        );
    }
}
