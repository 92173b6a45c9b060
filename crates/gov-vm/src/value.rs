//! Runtime values.

use gov_value::{BaseType, Decimal, Num};

/// A value. Strings are symbols: indexes into the program's string table, or (from
/// `table_len` up) into the strings a request brought that the program never mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    /// `Int`
    Int(i64),
    /// `Decimal`
    Decimal(Decimal),
    /// `Str`, as a symbol.
    Str(u32),
    /// `Bool`
    Bool(bool),
    /// `Time`, nanoseconds since the Unix epoch.
    Time(i64),
    /// `Duration`, nanoseconds.
    Duration(i64),
}

impl Value {
    /// The value's type.
    pub fn base_type(self) -> BaseType {
        match self {
            Value::Int(_) => BaseType::Int,
            Value::Decimal(_) => BaseType::Decimal,
            Value::Str(_) => BaseType::Str,
            Value::Bool(_) => BaseType::Bool,
            Value::Time(_) => BaseType::Time,
            Value::Duration(_) => BaseType::Duration,
        }
    }

    /// The value as an arithmetic operand, if it is one.
    pub fn num(self) -> Option<Num> {
        match self {
            Value::Int(v) => Some(Num::Int(v)),
            Value::Decimal(v) => Some(Num::Decimal(v)),
            Value::Time(v) => Some(Num::Time(v)),
            Value::Duration(v) => Some(Num::Duration(v)),
            Value::Str(_) | Value::Bool(_) => None,
        }
    }

    /// The value of an arithmetic result.
    pub fn from_num(num: Num) -> Value {
        match num {
            Num::Int(v) => Value::Int(v),
            Num::Decimal(v) => Value::Decimal(v),
            Num::Time(v) => Value::Time(v),
            Num::Duration(v) => Value::Duration(v),
        }
    }

    /// The value's payload as 64 bits, without its variant, for hashing rows and keys whose
    /// columns each hold one type: equal values give equal bits (a `Decimal` its hash as
    /// `rust_decimal` hashes it, whatever its scale, so `1.5` and `1.50` agree).
    #[inline]
    pub(crate) fn payload_bits(self) -> u64 {
        match self {
            Value::Int(v) | Value::Time(v) | Value::Duration(v) => v as u64,
            Value::Str(s) => u64::from(s),
            Value::Bool(b) => u64::from(b),
            Value::Decimal(d) => decimal_bits(d),
        }
    }

    /// The zero of a summable type.
    pub fn zero(ty: BaseType) -> Option<Value> {
        match ty {
            BaseType::Int => Some(Value::Int(0)),
            BaseType::Decimal => Some(Value::Decimal(Decimal::ZERO)),
            BaseType::Duration => Some(Value::Duration(0)),
            _ => None,
        }
    }
}

/// The hash of a `Decimal`, equal for equal numbers of any scale (out of line: rare in keys).
#[inline(never)]
fn decimal_bits(d: Decimal) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x9e37_79b9).hash_one(d)
}

/// The symbols of strings, by text (the program's, or a request's own), hashed with
/// foldhash (randomly seeded): interning is on the path of every request string and of
/// every string a built-in makes.
pub(crate) type StringIds = hashbrown::HashMap<String, u32>;

/// Resolves string symbols: the program's table, then a request's own strings.
#[derive(Debug, Clone, Copy)]
pub struct Strings<'a> {
    /// The program's string table.
    pub table: &'a [String],
    /// Strings a request brought, numbered from `table.len()`.
    pub extra: &'a [String],
    /// Strings built-ins made while deciding it, numbered from `table.len() + extra.len()`.
    pub made: &'a [String],
}

impl<'a> Strings<'a> {
    /// The text of symbol `sym` (empty if unknown).
    pub fn get(&self, sym: u32) -> &'a str {
        let index = sym as usize;
        match self.table.get(index) {
            Some(s) => s,
            None => {
                let index = index - self.table.len();
                match self.extra.get(index) {
                    Some(s) => s,
                    None => self.made.get(index - self.extra.len()).map_or("", String::as_str),
                }
            }
        }
    }

    /// These strings with `made` as the strings built-ins made.
    pub fn with_made<'b>(&self, made: &'b [String]) -> Strings<'b>
    where
        'a: 'b,
    {
        Strings { table: self.table, extra: self.extra, made }
    }

    /// Orders two values of one type (strings by text); `None` for mixed types.
    pub fn compare(&self, left: Value, right: Value) -> Option<std::cmp::Ordering> {
        Some(match (left, right) {
            (Value::Int(a), Value::Int(b))
            | (Value::Time(a), Value::Time(b))
            | (Value::Duration(a), Value::Duration(b)) => a.cmp(&b),
            (Value::Decimal(a), Value::Decimal(b)) => a.cmp(&b),
            (Value::Str(a), Value::Str(b)) => {
                if a == b {
                    std::cmp::Ordering::Equal
                } else {
                    self.get(a).cmp(self.get(b))
                }
            }
            (Value::Bool(a), Value::Bool(b)) => a.cmp(&b),
            _ => return None,
        })
    }

    /// Formats a value for messages and JSON.
    pub fn display(&self, value: Value) -> String {
        match value {
            Value::Int(v) => v.to_string(),
            Value::Decimal(v) => v.to_string(),
            Value::Str(s) => self.get(s).to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Time(t) => gov_value::format_time(t),
            Value::Duration(d) => gov_value::format_duration(d),
        }
    }
}
