//! The built-in functions and predicates of the Gov language.
//!
//! One catalogue serves every stage: the checker reads a built-in's [`Signature`] (its
//! parameter types, what it yields, and so its binding mode), the compiler refers to it by
//! [`Builtin`], the bundle stores its [`Builtin::name`] (so ids may change between
//! versions without breaking bundles), and the VM and the reference evaluator both call
//! [`eval`]. The implementations are pure functions of plain values ([`Val`]): no IO, no
//! clock, no symbol tables, so the engine's string interning stays the engine's business.
//!
//! The families, one module each: strings (`str.*`), globs (`glob.*`), regexes
//! (`regex.*`), paths (`path.*`, lexical), URLs and hosts (`url.*`, `host.*`, by the WHATWG
//! rules), networks (`net.*`), the calendar in IANA time zones (`time.*`) and numbers
//! (`num.*`). Constant patterns, networks and zones are validated by [`check`] and parsed
//! once, with the tables a run needs, by [`prepare`] when a program loads.
//!
//! Partial functions yield nothing rather than fail (`url.host` of text that is not a URL
//! has no host), so a condition built on them is simply false, whatever order the planner
//! evaluates a body in. [`EvalError`] is only for results that do not fit the type
//! (`num.abs` of the smallest Int), which the engine turns into an evaluation error, as
//! for arithmetic overflow.

mod catalogue;
mod glob;
mod memo;
mod net;
mod numbers;
mod paths;
mod plain_url;
mod prepared;
mod regex;
mod strings;
mod synopsis;
mod tables;
mod time;
mod urls;

pub use catalogue::{Builtin, Output, Param, Signature, call};
pub use memo::Memo;
pub use prepared::{PrepareError, Prepared, check, prepare};
pub use tables::tables_made;

use std::borrow::Cow;

use gov_value::Decimal;

/// A value handed to or returned by a built-in. Strings borrow from the caller's storage
/// when they can (`Cow::Borrowed`); a built-in that makes new text returns it owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val<'a> {
    /// `Int`
    Int(i64),
    /// `Decimal`
    Decimal(Decimal),
    /// `Str`
    Str(Cow<'a, str>),
    /// `Bool`
    Bool(bool),
    /// `Time`: nanoseconds since the Unix epoch (UTC).
    Time(i64),
    /// `Duration`: nanoseconds.
    Duration(i64),
}

/// What one call of a built-in produced, by the built-in's [`Output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yield<'a> {
    /// A test held (`true`) or not.
    Test(bool),
    /// A function's value, or `None` where it is undefined (the condition is false).
    One(Option<Val<'a>>),
    /// Every value a generator yields (possibly none), in a deterministic order.
    Many(Vec<Val<'a>>),
}

/// What one call of a built-in did ([`call`]): a test's answer, or that its values (none,
/// one for a function, any number for a generator) went to the caller's `each`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Called {
    /// A test held (`true`) or not.
    Test(bool),
    /// The values were handed to `each`, in order.
    Values,
}

/// A call whose result does not fit its type. The engine reports it as an evaluation
/// error (and so decides deny), as it does arithmetic overflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// The built-in that failed.
    pub builtin: Builtin,
    /// What went wrong, in one line.
    pub message: String,
}

/// Calls `builtin` on `args`, using what [`prepare`] made of its constant arguments when
/// the program loaded (`None` when nothing was prepared: the arguments are then parsed on
/// each call, and one that does not parse yields nothing), and returns what it yielded.
///
/// Invariant: the caller passes exactly the arguments of the built-in's signature, each of
/// its parameter's type (the checker guarantees it for compiled programs; the bundle
/// validator for loaded ones). A call that breaks this yields nothing: never a panic,
/// never a value that could make a condition true by accident.
pub fn eval<'a>(builtin: Builtin, args: &[Val<'a>], prepared: Option<&Prepared>) -> Result<Yield<'a>, EvalError> {
    let mut values = Vec::new();
    let called = call(builtin, args, prepared, &mut Memo::default(), &mut |value| values.push(value.into_owned()))?;
    Ok(match (called, builtin.signature().output) {
        (Called::Test(held), _) => Yield::Test(held),
        (Called::Values, Output::Values(_)) => Yield::Many(values),
        (Called::Values, _) => Yield::One(values.into_iter().next()),
    })
}

impl Val<'_> {
    /// The same value, owning its text.
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Str(text) => Val::Str(Cow::Owned(text.into_owned())),
            Val::Int(i) => Val::Int(i),
            Val::Decimal(d) => Val::Decimal(d),
            Val::Bool(b) => Val::Bool(b),
            Val::Time(t) => Val::Time(t),
            Val::Duration(d) => Val::Duration(d),
        }
    }
}
