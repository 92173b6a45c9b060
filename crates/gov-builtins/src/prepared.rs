//! Constant arguments parsed once: when the checker validates a program (so an invalid
//! pattern is a check-time error at its span) and when the engine loads it (so no call
//! parses a constant pattern again).

use crate::{Builtin, Param, Val};

/// What a built-in made of its constant arguments.
///
/// Invariant: a `Prepared` is only ever passed back to the built-in that made it.
#[derive(Debug, Clone)]
pub struct Prepared {
    kind: PreparedKind,
}

/// The parsed forms, one per kind of constant argument.
#[derive(Debug, Clone)]
enum PreparedKind {}

impl Prepared {
    /// The built-in's parsed constant, if this is what `builtin` prepared.
    #[allow(dead_code, reason = "read by the families that prepare constants (glob, regex, networks, time zones)")]
    fn kind(&self) -> &PreparedKind {
        &self.kind
    }
}

/// A constant argument that does not parse: an invalid regex, glob, network or time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareError {
    /// The argument's position in the call (0-based), for the diagnostic's span.
    pub param: usize,
    /// Why it is invalid, in one line.
    pub message: String,
}

/// Parses the constant arguments of a call of `builtin` once. `args` has one entry per
/// parameter: `Some` for a literal in the source, `None` for anything computed.
///
/// Returns `Ok(None)` when there is nothing to prepare. A [`Param::Pattern`] argument that
/// is `None` is an error here too (the checker reports it first, with its own code).
pub fn prepare(builtin: Builtin, args: &[Option<Val<'_>>]) -> Result<Option<Prepared>, PrepareError> {
    let params = builtin.signature().params;
    for (param, (kind, arg)) in params.iter().zip(args).enumerate() {
        if *kind == Param::Pattern && arg.is_none() {
            return Err(PrepareError { param, message: format!("`{}` needs a literal pattern", builtin.name()) });
        }
    }
    Ok(None)
}
