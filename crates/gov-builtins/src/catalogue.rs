//! The list of built-ins: names, signatures and which implementation runs each.

use gov_value::BaseType;

use crate::{Called, EvalError, Memo, Prepared, Val, glob, net, numbers, paths, regex, strings, time, urls};

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
const DECIMAL: Param = Param::Base(BaseType::Decimal);
const TIME: Param = Param::Base(BaseType::Time);
const PATTERN: Param = Param::Pattern;
const NUMERIC: Param = Param::Numeric;

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
    /// `glob.match(s, pattern)`: path-aware `*`, `**`, `?` and classes.
    GlobMatch,
    /// `regex.match(s, pattern)`: the pattern matches somewhere in `s`.
    RegexMatch,
    /// `regex.find(s, pattern)`: each non-overlapping match.
    RegexFind,
    /// `path.normalize(p)`: `.`, `..` and repeated `/` resolved lexically.
    PathNormalize,
    /// `path.components(p)`: each name of the normalised path.
    PathComponents,
    /// `path.parent(p)`: the normalised path without its last name.
    PathParent,
    /// `path.file_name(p)`: the last name of the normalised path.
    PathFileName,
    /// `path.extension(p)`: the file name's text after its last `.`.
    PathExtension,
    /// `path.under(p, dir)`: the normalised path is `dir` or inside it.
    PathUnder,
    /// `url.valid(u)`: `u` is an absolute URL by the WHATWG rules.
    UrlValid,
    /// `url.scheme(u)`
    UrlScheme,
    /// `url.host(u)`: lower-cased, userinfo and port split off.
    UrlHost,
    /// `url.port(u)`: explicit, or the scheme's default.
    UrlPort,
    /// `url.path(u)`
    UrlPath,
    /// `url.query(u, key)`: each value of the query parameter `key`.
    UrlQuery,
    /// `host.in_domain(h, domain)`: `h` is `domain` or a name inside it.
    HostInDomain,
    /// `net.ip_valid(s)`: `s` is an IPv4 or IPv6 address.
    NetIpValid,
    /// `net.cidr_contains(cidr, ip)`: the network contains the address.
    NetCidrContains,
    /// `time.day(t, zone)`: the calendar day, `YYYY-MM-DD`, in a time zone.
    TimeDay,
    /// `time.hour(t, zone)`: the hour of the day, 0 to 23, in a time zone.
    TimeHour,
    /// `time.weekday(t, zone)`: the ISO weekday, 1 (Monday) to 7 (Sunday), in a time zone.
    TimeWeekday,
    /// `num.abs(x)`
    NumAbs,
    /// `num.min(a, b)`
    NumMin,
    /// `num.max(a, b)`
    NumMax,
    /// `num.round(d, places)`: half away from zero.
    NumRound,
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
        Builtin::GlobMatch,
        Builtin::RegexMatch,
        Builtin::RegexFind,
        Builtin::PathNormalize,
        Builtin::PathComponents,
        Builtin::PathParent,
        Builtin::PathFileName,
        Builtin::PathExtension,
        Builtin::PathUnder,
        Builtin::UrlValid,
        Builtin::UrlScheme,
        Builtin::UrlHost,
        Builtin::UrlPort,
        Builtin::UrlPath,
        Builtin::UrlQuery,
        Builtin::HostInDomain,
        Builtin::NetIpValid,
        Builtin::NetCidrContains,
        Builtin::TimeDay,
        Builtin::TimeHour,
        Builtin::TimeWeekday,
        Builtin::NumAbs,
        Builtin::NumMin,
        Builtin::NumMax,
        Builtin::NumRound,
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
            Builtin::GlobMatch => "glob.match",
            Builtin::RegexMatch => "regex.match",
            Builtin::RegexFind => "regex.find",
            Builtin::PathNormalize => "path.normalize",
            Builtin::PathComponents => "path.components",
            Builtin::PathParent => "path.parent",
            Builtin::PathFileName => "path.file_name",
            Builtin::PathExtension => "path.extension",
            Builtin::PathUnder => "path.under",
            Builtin::UrlValid => "url.valid",
            Builtin::UrlScheme => "url.scheme",
            Builtin::UrlHost => "url.host",
            Builtin::UrlPort => "url.port",
            Builtin::UrlPath => "url.path",
            Builtin::UrlQuery => "url.query",
            Builtin::HostInDomain => "host.in_domain",
            Builtin::NetIpValid => "net.ip_valid",
            Builtin::NetCidrContains => "net.cidr_contains",
            Builtin::TimeDay => "time.day",
            Builtin::TimeHour => "time.hour",
            Builtin::TimeWeekday => "time.weekday",
            Builtin::NumAbs => "num.abs",
            Builtin::NumMin => "num.min",
            Builtin::NumMax => "num.max",
            Builtin::NumRound => "num.round",
        }
    }

    /// Looks a built-in up by its name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.iter().copied().find(|b| b.name() == name)
    }

    /// Whether a call can raise an evaluation error ([`crate::EvalError`]): a result that does
    /// not fit its type (`num.abs` of the smallest `Int`). Every other built-in is total or
    /// partial: it yields a value or nothing, never an error.
    ///
    /// Invariant: [`crate::eval`] returns `Err` only for a built-in of which this holds
    /// (a property test below checks it). The planner and the reference evaluator place a
    /// condition by it: a call that cannot fail is evaluated as soon as its arguments are
    /// bound, like a comparison, and having no result ends the binding there
    /// (docs/reference.md, "Arithmetic errors and the order of conditions").
    pub fn can_fail(self) -> bool {
        matches!(self, Builtin::NumAbs)
    }

    /// Its parameters and output.
    pub fn signature(self) -> Signature {
        let (params, output): (&'static [Param], Output) = match self {
            Builtin::StrStartsWith | Builtin::StrEndsWith | Builtin::StrContains => (&[STR, STR], Output::Test),
            Builtin::StrLower | Builtin::StrUpper | Builtin::StrTrim => (&[STR], Output::Value(STR)),
            Builtin::StrLength => (&[STR], Output::Value(INT)),
            Builtin::StrConcat => (&[STR, STR], Output::Value(STR)),
            Builtin::StrSplit => (&[STR, STR], Output::Values(STR)),
            Builtin::GlobMatch | Builtin::RegexMatch => (&[STR, PATTERN], Output::Test),
            Builtin::RegexFind => (&[STR, PATTERN], Output::Values(STR)),
            Builtin::PathNormalize | Builtin::PathParent | Builtin::PathFileName | Builtin::PathExtension => {
                (&[STR], Output::Value(STR))
            }
            Builtin::PathComponents => (&[STR], Output::Values(STR)),
            Builtin::PathUnder | Builtin::HostInDomain | Builtin::NetCidrContains => (&[STR, STR], Output::Test),
            Builtin::UrlValid | Builtin::NetIpValid => (&[STR], Output::Test),
            Builtin::UrlScheme | Builtin::UrlHost | Builtin::UrlPath => (&[STR], Output::Value(STR)),
            Builtin::UrlPort => (&[STR], Output::Value(INT)),
            Builtin::UrlQuery => (&[STR, STR], Output::Values(STR)),
            Builtin::TimeDay => (&[TIME, STR], Output::Value(STR)),
            Builtin::TimeHour | Builtin::TimeWeekday => (&[TIME, STR], Output::Value(INT)),
            Builtin::NumAbs => (&[NUMERIC], Output::Value(NUMERIC)),
            Builtin::NumMin | Builtin::NumMax => (&[NUMERIC, NUMERIC], Output::Value(NUMERIC)),
            Builtin::NumRound => (&[DECIMAL, INT], Output::Value(DECIMAL)),
        };
        Signature { params, output }
    }
}

/// Calls `builtin` on `args` as [`crate::eval`] does, without collecting: each value goes to
/// `each` as it is made, borrowing the arguments (a path's file name, a command's parts)
/// or `memo` (a URL's host) where it can, so a caller that keeps only what it has not
/// seen (the engine interns strings) copies nothing else. `memo` keeps what a call parsed
/// for the next (the last URL); a caller that holds one per session makes two calls on
/// one URL parse it once.
pub fn call(
    builtin: Builtin,
    args: &[Val<'_>],
    prepared: Option<&Prepared>,
    memo: &mut Memo,
    each: &mut dyn FnMut(Val<'_>),
) -> Result<Called, EvalError> {
    let signature = builtin.signature();
    if args.len() != signature.params.len() {
        // A broken caller: the families read the arguments they expect by position, and
        // one more or one fewer must not make a call look valid.
        return Ok(match signature.output {
            Output::Test => Called::Test(false),
            Output::Value(_) | Output::Values(_) => Called::Values,
        });
    }
    let prepared = prepared.map(Prepared::kind);
    let mut one = |value: Option<Val<'_>>| {
        if let Some(value) = value {
            each(value);
        }
        Called::Values
    };
    Ok(match builtin {
        Builtin::StrStartsWith => Called::Test(strings::two(args).is_some_and(|(s, p)| s.starts_with(p))),
        Builtin::StrEndsWith => Called::Test(strings::two(args).is_some_and(|(s, p)| s.ends_with(p))),
        Builtin::StrContains => Called::Test(strings::two(args).is_some_and(|(s, p)| s.contains(p))),
        Builtin::StrLower => one(strings::lower(args)),
        Builtin::StrUpper => one(strings::upper(args)),
        Builtin::StrLength => one(strings::length(args)),
        Builtin::StrConcat => one(strings::concat(args)),
        Builtin::StrTrim => one(strings::trim(args)),
        Builtin::StrSplit => {
            strings::split(args, each);
            Called::Values
        }
        Builtin::GlobMatch => Called::Test(glob::matches(args, prepared)),
        Builtin::RegexMatch => Called::Test(regex::matches(args, prepared)),
        Builtin::RegexFind => {
            regex::find(args, prepared, each);
            Called::Values
        }
        Builtin::PathNormalize => one(paths::normalize(args)),
        Builtin::PathComponents => {
            paths::components(args, each);
            Called::Values
        }
        Builtin::PathParent => one(paths::parent(args)),
        Builtin::PathFileName => one(paths::file_name(args)),
        Builtin::PathExtension => one(paths::extension(args)),
        Builtin::PathUnder => Called::Test(paths::under(args)),
        Builtin::UrlValid => Called::Test(urls::valid(args, memo)),
        Builtin::UrlScheme => one(urls::scheme(args, memo)),
        Builtin::UrlHost => one(urls::host(args, memo)),
        Builtin::UrlPort => one(urls::port(args, memo)),
        Builtin::UrlPath => one(urls::path(args, memo)),
        Builtin::UrlQuery => {
            urls::query(args, memo, each);
            Called::Values
        }
        Builtin::HostInDomain => Called::Test(urls::in_domain(args, prepared)),
        Builtin::NetIpValid => Called::Test(net::ip_valid(args)),
        Builtin::NetCidrContains => Called::Test(net::cidr_contains(args, prepared)),
        Builtin::TimeDay => {
            time::day(args, prepared, memo, each);
            Called::Values
        }
        Builtin::TimeHour => one(time::hour(args, prepared, memo)),
        Builtin::TimeWeekday => one(time::weekday(args, prepared, memo)),
        Builtin::NumAbs => one(numbers::abs(args).map_err(|message| EvalError { builtin, message })?),
        Builtin::NumMin => one(numbers::min(args)),
        Builtin::NumMax => one(numbers::max(args)),
        Builtin::NumRound => one(numbers::round(args)),
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use gov_value::Decimal;
    use proptest::prelude::*;

    use super::*;
    use crate::{Yield, eval};

    /// A value of each type a parameter may take (one, for a `Numeric`, per numeric type).
    fn samples(param: Param) -> Vec<Val<'static>> {
        let base = |ty: BaseType| match ty {
            BaseType::Int => Val::Int(2),
            BaseType::Decimal => Val::Decimal(Decimal::new(25, 1)),
            BaseType::Str => Val::Str(Cow::Borrowed("https://a.example.com/x/y.txt?q=1")),
            BaseType::Bool => Val::Bool(true),
            BaseType::Time => Val::Time(0),
            BaseType::Duration => Val::Duration(60),
        };
        match param {
            Param::Base(ty) => vec![base(ty)],
            Param::Pattern => vec![Val::Str(Cow::Borrowed("*"))],
            Param::Numeric => vec![Val::Int(-3), Val::Decimal(Decimal::new(-25, 1)), Val::Duration(-60)],
        }
    }

    fn type_of(val: &Val<'_>) -> BaseType {
        match val {
            Val::Int(_) => BaseType::Int,
            Val::Decimal(_) => BaseType::Decimal,
            Val::Str(_) => BaseType::Str,
            Val::Bool(_) => BaseType::Bool,
            Val::Time(_) => BaseType::Time,
            Val::Duration(_) => BaseType::Duration,
        }
    }

    /// Whether `val` fits `param`, a `Numeric` having the type `numeric` of the call.
    fn fits(val: &Val<'_>, param: Param, numeric: Option<BaseType>) -> bool {
        match param {
            Param::Base(ty) => type_of(val) == ty,
            Param::Pattern => type_of(val) == BaseType::Str,
            Param::Numeric => Some(type_of(val)) == numeric,
        }
    }

    /// Every combination of sample arguments for a signature: a `Str` takes each of a few
    /// texts that some built-in reads (a URL, a zone, a network, an address, a key).
    fn argument_lists(params: &[Param], numeric: &Val<'static>) -> Vec<Vec<Val<'static>>> {
        const TEXTS: [&str; 5] = ["https://a.example.com/x/y.txt?q=1", "Europe/Paris", "10.0.0.0/8", "10.0.0.1", "q"];
        let mut lists = vec![Vec::new()];
        for &param in params {
            let choices: Vec<Val<'static>> = match param {
                Param::Base(BaseType::Str) | Param::Pattern => {
                    TEXTS.iter().map(|t| Val::Str(Cow::Borrowed(*t))).collect()
                }
                Param::Numeric => vec![numeric.clone()],
                other => samples(other),
            };
            lists = lists
                .into_iter()
                .flat_map(|list| {
                    choices.iter().map(move |choice| {
                        let mut list = list.clone();
                        list.push(choice.clone());
                        list
                    })
                })
                .collect();
        }
        lists
    }

    #[test]
    fn what_eval_yields_agrees_with_the_signature() {
        for &builtin in Builtin::ALL {
            let signature = builtin.signature();
            let numeric_params = signature.params.contains(&Param::Numeric);
            let numerics = if numeric_params { samples(Param::Numeric) } else { vec![Val::Bool(false)] };
            let name = builtin.name();
            for numeric in numerics {
                let numeric_type = numeric_params.then(|| type_of(&numeric));
                let mut produced = false;
                for args in argument_lists(signature.params, &numeric) {
                    match (signature.output, eval(builtin, &args, None)) {
                        (Output::Test, Ok(Yield::Test(held))) => produced |= held,
                        (Output::Value(p), Ok(Yield::One(value))) => {
                            assert!(value.as_ref().is_none_or(|v| fits(v, p, numeric_type)), "{name}: {value:?}");
                            produced |= value.is_some();
                        }
                        (Output::Values(p), Ok(Yield::Many(values))) => {
                            assert!(values.iter().all(|v| fits(v, p, numeric_type)), "{name}: {values:?}");
                            produced |= !values.is_empty();
                        }
                        (output, result) => unreachable!("{name}: {output:?} yielded {result:?}"),
                    }
                }
                assert!(produced, "{name} never held nor yielded on the samples");
            }
        }
    }

    fn any_val() -> impl Strategy<Value = Val<'static>> {
        prop_oneof![
            any::<i64>().prop_map(Val::Int),
            any::<i64>().prop_map(|m| Val::Decimal(Decimal::new(m, 2))),
            ".{0,12}".prop_map(|s| Val::Str(Cow::Owned(s))),
            any::<bool>().prop_map(Val::Bool),
            any::<i64>().prop_map(Val::Time),
            any::<i64>().prop_map(Val::Duration),
        ]
    }

    proptest! {
        /// A broken caller (wrong number or types of arguments) never makes a panic nor a
        /// test that holds: a call whose arguments do not fit its signature yields nothing.
        #[test]
        fn arguments_that_do_not_fit_yield_nothing(index in 0..Builtin::ALL.len(), args in proptest::collection::vec(any_val(), 0..4)) {
            let Some(&builtin) = Builtin::ALL.get(index) else { return Ok(()) };
            let signature = builtin.signature();
            let numeric = args.iter().zip(signature.params).find(|(_, p)| **p == Param::Numeric).map(|(v, _)| type_of(v));
            let fit = args.len() == signature.params.len() && args.iter().zip(signature.params).all(|(v, &p)| fits(v, p, numeric));
            let result = eval(builtin, &args, None);
            if !fit {
                prop_assert!(matches!(result, Ok(Yield::Test(false) | Yield::One(None))) || matches!(&result, Ok(Yield::Many(v)) if v.is_empty()), "{}: {result:?}", builtin.name());
            }
            prop_assert!(result.is_ok() || builtin.can_fail(), "{} failed but claims it cannot: {result:?}", builtin.name());
        }
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(Builtin::from_name(b.name()), Some(*b));
            assert!(Builtin::ALL.iter().skip(i + 1).all(|other| other.name() != b.name()));
        }
    }
}
