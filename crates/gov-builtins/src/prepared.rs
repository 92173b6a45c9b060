//! Constant arguments parsed once: validated when the checker checks a program ([`check`]:
//! an invalid pattern is a check-time error at its span), and parsed, with every table
//! made of them (a regex's DFAs, a time zone's offsets), when the engine loads it
//! ([`prepare`]: no request parses a constant or makes a table).

use std::sync::Arc;

use crate::{Builtin, Param, Val, glob, net, numbers, regex, time, urls};

/// What a built-in made of its constant arguments.
///
/// Invariant: a `Prepared` is only ever passed back to the built-in that made it. A
/// built-in handed another's (a broken caller) ignores it and parses its argument per call.
#[derive(Debug, Clone)]
pub struct Prepared {
    kind: PreparedKind,
}

/// The parsed forms, one per kind of constant argument.
#[derive(Debug, Clone)]
pub(crate) enum PreparedKind {
    /// The pattern of `glob.match`.
    Glob(globset::GlobMatcher),
    /// The pattern of `regex.match` and `regex.find`, with its DFAs (shared by every
    /// engine of the process that prepares the same pattern).
    Regex(Arc<regex::Pattern>),
    /// The network of `net.cidr_contains`.
    Network(ipnet::IpNet),
    /// The time zone of `time.*`, with its table of offsets (shared like a pattern).
    Zone(Arc<time::Zone>),
    /// The domain of `host.in_domain`, as a URL's host reads it (`None`: nothing is in it).
    Domain(Option<String>),
}

// Invariant: a loaded program, prepared constants included, is shared by the threads that
// decide requests.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Prepared>();
};

impl Prepared {
    /// The parsed constant.
    pub(crate) fn kind(&self) -> &PreparedKind {
        &self.kind
    }
}

/// A constant argument that does not parse or cannot be used: an invalid regex, glob or
/// network, an unknown time zone, rounding places out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareError {
    /// The argument's position in the call (0-based), for the diagnostic's span.
    pub param: usize,
    /// Why it is invalid, in one line.
    pub message: String,
}

/// How a built-in reads one constant argument for the engine: the parsed form to keep, or
/// `None` when the argument is only validated (a rounding's places).
type Parser = fn(&Val<'_>) -> Result<Option<PreparedKind>, String>;

/// How the checker validates one constant argument: as [`Parser`] does, without making
/// what only a run needs (a regex's DFAs, a time zone's offsets).
type Checker = fn(&Val<'_>) -> Result<(), String>;

/// The argument a built-in parses when it is constant, how the checker validates it, and
/// how the engine parses it.
///
/// Invariant: the checker and the parser accept the same constants (the parser fails only
/// where the checker does), so a checked program prepares without errors.
fn constant_parser(builtin: Builtin) -> Option<(usize, Checker, Parser)> {
    match builtin {
        Builtin::GlobMatch => {
            Some((1, |v| glob::compile(v).map(drop), |v| glob::compile(v).map(|g| Some(PreparedKind::Glob(g)))))
        }
        Builtin::RegexMatch => Some((
            1,
            |v| regex::compile(v).map(drop),
            |v| regex::Pattern::compile(v, regex::Use::Match).map(|r| Some(PreparedKind::Regex(r))),
        )),
        Builtin::RegexFind => Some((
            1,
            |v| regex::compile(v).map(drop),
            |v| regex::Pattern::compile(v, regex::Use::Find).map(|r| Some(PreparedKind::Regex(r))),
        )),
        Builtin::NetCidrContains => Some((
            0,
            |v| net::parse_network(v).map(drop),
            |v| net::parse_network(v).map(|n| Some(PreparedKind::Network(n))),
        )),
        Builtin::TimeDay | Builtin::TimeHour | Builtin::TimeWeekday => {
            Some((1, |v| time::time_zone(v).map(drop), |v| time::zone(v).map(|z| Some(PreparedKind::Zone(z)))))
        }
        Builtin::NumRound => Some((1, |v| numbers::places(v).map(drop), |v| numbers::places(v).map(|_| None))),
        Builtin::HostInDomain => {
            Some((1, |v| urls::domain(v).map(drop), |v| urls::domain(v).map(|d| Some(PreparedKind::Domain(d)))))
        }
        Builtin::StrStartsWith
        | Builtin::StrEndsWith
        | Builtin::StrContains
        | Builtin::StrLower
        | Builtin::StrUpper
        | Builtin::StrLength
        | Builtin::StrConcat
        | Builtin::StrTrim
        | Builtin::StrSplit
        | Builtin::PathNormalize
        | Builtin::PathComponents
        | Builtin::PathParent
        | Builtin::PathFileName
        | Builtin::PathExtension
        | Builtin::PathUnder
        | Builtin::UrlValid
        | Builtin::UrlScheme
        | Builtin::UrlHost
        | Builtin::UrlPort
        | Builtin::UrlPath
        | Builtin::UrlQuery
        | Builtin::NetIpValid
        | Builtin::NumAbs
        | Builtin::NumMin
        | Builtin::NumMax => None,
    }
}

/// Validates the constant arguments of a call of `builtin`, as the checker does: the
/// errors of [`prepare`], without parsing anything to keep or making any table. `args` has
/// one entry per parameter: `Some` for a literal in the source, `None` for anything
/// computed.
pub fn check(builtin: Builtin, args: &[Option<Val<'_>>]) -> Result<(), PrepareError> {
    let Some((param, arg)) = constant(builtin, args)? else { return Ok(()) };
    let Some((_, check, _)) = constant_parser(builtin) else { return Ok(()) };
    check(arg).map_err(|message| PrepareError { param, message })
}

/// Parses the constant arguments of a call of `builtin` once, when the program loads, and
/// makes what its calls will use (a regex's DFAs, a time zone's offsets; made once per
/// process for each constant, see [`crate::tables_made`]). `args` has one entry per
/// parameter: `Some` for a literal in the source, `None` for anything computed.
///
/// Returns `Ok(None)` when there is nothing to prepare. A [`Param::Pattern`] argument that
/// is `None` is an error here too (the checker reports it first, with its own code); so is
/// a constant that the built-in could never use (an unknown time zone, an invalid
/// network, rounding places outside 0 to 28).
pub fn prepare(builtin: Builtin, args: &[Option<Val<'_>>]) -> Result<Option<Prepared>, PrepareError> {
    let Some((param, arg)) = constant(builtin, args)? else { return Ok(None) };
    let Some((_, _, parse)) = constant_parser(builtin) else { return Ok(None) };
    match parse(arg) {
        Ok(kind) => Ok(kind.map(|kind| Prepared { kind })),
        Err(message) => Err(PrepareError { param, message }),
    }
}

/// The constant argument `builtin` parses and its position, if the call has it; an error
/// for a [`Param::Pattern`] argument that is not constant.
fn constant<'a, 'v>(
    builtin: Builtin,
    args: &'a [Option<Val<'v>>],
) -> Result<Option<(usize, &'a Val<'v>)>, PrepareError> {
    let params = builtin.signature().params;
    for (param, (kind, arg)) in params.iter().zip(args).enumerate() {
        if *kind == Param::Pattern && arg.is_none() {
            return Err(PrepareError { param, message: format!("`{}` needs a literal pattern", builtin.name()) });
        }
    }
    let Some((param, _, _)) = constant_parser(builtin) else { return Ok(None) };
    Ok(args.get(param).and_then(Option::as_ref).map(|arg| (param, arg)))
}

/// The constant a call works with: the one prepared when the program loaded, or else its
/// argument parsed now (`None` when it does not parse: the call then yields nothing).
pub(crate) fn prepared_or_parse<'p, T: Clone>(
    prepared: Option<&'p T>,
    arg: Option<&Val<'_>>,
    parse: fn(&Val<'_>) -> Result<T, String>,
) -> Option<std::borrow::Cow<'p, T>> {
    match prepared {
        Some(constant) => Some(std::borrow::Cow::Borrowed(constant)),
        None => arg.and_then(|arg| parse(arg).ok()).map(std::borrow::Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use gov_value::BaseType;

    use super::*;

    #[test]
    fn each_prepared_argument_is_a_parameter_of_its_type() {
        for &builtin in Builtin::ALL {
            let Some((param, _, _)) = constant_parser(builtin) else { continue };
            let kind = builtin.signature().params.get(param).copied();
            let expected = if builtin == Builtin::NumRound { BaseType::Int } else { BaseType::Str };
            assert!(
                kind == Some(Param::Base(expected)) || kind == Some(Param::Pattern),
                "{}: parameter {param} is {kind:?}",
                builtin.name()
            );
        }
    }

    #[test]
    fn nothing_constant_prepares_nothing_and_a_wrongly_typed_constant_is_an_error() {
        for &builtin in Builtin::ALL {
            let params = builtin.signature().params;
            let computed: Vec<Option<Val<'_>>> = params.iter().map(|_| None).collect();
            let has_pattern = params.contains(&Param::Pattern);
            assert_eq!(prepare(builtin, &computed).is_err(), has_pattern, "{}", builtin.name());
            assert_eq!(check(builtin, &computed).is_err(), has_pattern, "{}", builtin.name());
            if let Some((param, _, _)) = constant_parser(builtin) {
                let mut wrong: Vec<Option<Val<'_>>> =
                    params.iter().map(|_| Some(Val::Str(Cow::Borrowed("")))).collect();
                if let Some(arg) = wrong.get_mut(param) {
                    *arg = Some(Val::Bool(true));
                }
                assert!(matches!(prepare(builtin, &wrong), Err(e) if e.param == param), "{}", builtin.name());
                assert_eq!(check(builtin, &wrong), prepare(builtin, &wrong).map(drop), "{}", builtin.name());
            }
        }
    }
}
