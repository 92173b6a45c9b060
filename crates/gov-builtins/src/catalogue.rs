//! The list of built-ins: names, signatures and which implementation runs each.

use gov_value::BaseType;

use crate::{EvalError, Prepared, Val, Yield, strings};

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param {
    /// Exactly this base type.
    Base(BaseType),
    /// A `Str` that must be a literal in the source (a regex or glob pattern): the
    /// checker rejects anything else, and [`crate::prepare`] parses it once when the
    /// program loads, so an invalid one is a check-time error at its span.
    Pattern,
    /// Any one numeric type (`Int`, `Decimal` or `Duration`); every `Numeric` parameter of
    /// a call, and a `Numeric` output, have that same type.
    Numeric,
}

/// What a built-in yields, and so how it binds.
///
/// Invariant (binding modes): every argument of a built-in must be bound before the call;
/// only the output of a `Value` or `Values` built-in binds a variable. The checker's safety
/// pass enforces this and explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A condition in a body: `str.starts_with(path, "/etc/")`.
    Test,
    /// At most one value, in an expression: `h = url.host(target)`.
    Value(Param),
    /// Any number of values, each bound in turn: `part in str.split(cmd, " ")`.
    Values(Param),
}

/// A built-in's parameters and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// The parameters, in order.
    pub params: &'static [Param],
    /// What a call yields.
    pub output: Output,
}

const STR: Param = Param::Base(BaseType::Str);
const INT: Param = Param::Base(BaseType::Int);

/// A built-in function or predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// `str.starts_with(s, prefix)`
    StrStartsWith,
    /// `str.ends_with(s, suffix)`
    StrEndsWith,
    /// `str.contains(s, part)`
    StrContains,
    /// `str.lower(s)`
    StrLower,
    /// `str.upper(s)`
    StrUpper,
    /// `str.length(s)`: in Unicode scalar values.
    StrLength,
    /// `str.concat(a, b)`
    StrConcat,
    /// `str.trim(s)`: white space removed at both ends.
    StrTrim,
    /// `str.split(s, separator)`: each part, empty parts included.
    StrSplit,
}

impl Builtin {
    /// Every built-in, in catalogue order.
    pub const ALL: &'static [Builtin] = &[
        Builtin::StrStartsWith,
        Builtin::StrEndsWith,
        Builtin::StrContains,
        Builtin::StrLower,
        Builtin::StrUpper,
        Builtin::StrLength,
        Builtin::StrConcat,
        Builtin::StrTrim,
        Builtin::StrSplit,
    ];

    /// The name a policy calls it by, and the bundle stores.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::StrStartsWith => "str.starts_with",
            Builtin::StrEndsWith => "str.ends_with",
            Builtin::StrContains => "str.contains",
            Builtin::StrLower => "str.lower",
            Builtin::StrUpper => "str.upper",
            Builtin::StrLength => "str.length",
            Builtin::StrConcat => "str.concat",
            Builtin::StrTrim => "str.trim",
            Builtin::StrSplit => "str.split",
        }
    }

    /// Looks a built-in up by its name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// Its parameters and output.
    pub fn signature(self) -> Signature {
        let (params, output): (&'static [Param], Output) = match self {
            Builtin::StrStartsWith | Builtin::StrEndsWith | Builtin::StrContains => (&[STR, STR], Output::Test),
            Builtin::StrLower | Builtin::StrUpper | Builtin::StrTrim => (&[STR], Output::Value(STR)),
            Builtin::StrLength => (&[STR], Output::Value(INT)),
            Builtin::StrConcat => (&[STR, STR], Output::Value(STR)),
            Builtin::StrSplit => (&[STR, STR], Output::Values(STR)),
        };
        Signature { params, output }
    }
}

/// Runs the implementation of `builtin`.
pub(crate) fn dispatch<'a>(
    builtin: Builtin,
    args: &[Val<'a>],
    _prepared: Option<&Prepared>,
) -> Result<Yield<'a>, EvalError> {
    Ok(match builtin {
        Builtin::StrStartsWith => Yield::Test(strings::two(args).is_some_and(|(s, p)| s.starts_with(p))),
        Builtin::StrEndsWith => Yield::Test(strings::two(args).is_some_and(|(s, p)| s.ends_with(p))),
        Builtin::StrContains => Yield::Test(strings::two(args).is_some_and(|(s, p)| s.contains(p))),
        Builtin::StrLower => Yield::One(strings::lower(args)),
        Builtin::StrUpper => Yield::One(strings::upper(args)),
        Builtin::StrLength => Yield::One(strings::length(args)),
        Builtin::StrConcat => Yield::One(strings::concat(args)),
        Builtin::StrTrim => Yield::One(strings::trim(args)),
        Builtin::StrSplit => Yield::Many(strings::split(args)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(Builtin::from_name(b.name()), Some(*b));
            assert!(Builtin::ALL.iter().skip(i + 1).all(|other| other.name() != b.name()));
        }
    }
}
