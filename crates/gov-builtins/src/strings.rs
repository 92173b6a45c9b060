//! The string family: `str.*`.

use std::borrow::Cow;

use crate::Val;

/// The text of a `Str` argument.
pub(crate) fn text<'v>(val: Option<&'v Val<'_>>) -> Option<&'v str> {
    match val {
        Some(Val::Str(s)) => Some(s),
        _ => None,
    }
}

/// The two `Str` arguments of a binary string built-in.
pub(crate) fn two<'v>(args: &'v [Val<'_>]) -> Option<(&'v str, &'v str)> {
    Some((text(args.first())?, text(args.get(1))?))
}

pub(crate) fn lower<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    text(args.first()).map(|s| Val::Str(Cow::Owned(s.to_lowercase())))
}

pub(crate) fn upper<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    text(args.first()).map(|s| Val::Str(Cow::Owned(s.to_uppercase())))
}

pub(crate) fn trim<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    text(args.first()).map(|s| Val::Str(Cow::Owned(s.trim().to_owned())))
}

pub(crate) fn length<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    // An Int holds any length a request can carry (requests are size-limited far below).
    text(args.first()).and_then(|s| i64::try_from(s.chars().count()).ok()).map(Val::Int)
}

pub(crate) fn concat<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    two(args).map(|(a, b)| Val::Str(Cow::Owned(format!("{a}{b}"))))
}

/// Each part between separators, empty parts included; an empty separator yields nothing
/// (there is no sensible split on it).
pub(crate) fn split<'a>(args: &[Val<'a>]) -> Vec<Val<'a>> {
    match two(args) {
        Some((s, sep)) if !sep.is_empty() => s.split(sep).map(|part| Val::Str(Cow::Owned(part.to_owned()))).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builtin, Yield, eval};

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    #[test]
    fn tests_and_functions() {
        assert_eq!(eval(Builtin::StrStartsWith, &[s("/etc/passwd"), s("/etc/")], None), Ok(Yield::Test(true)));
        assert_eq!(eval(Builtin::StrEndsWith, &[s("a.env"), s(".env")], None), Ok(Yield::Test(true)));
        assert_eq!(eval(Builtin::StrContains, &[s("rm -rf /"), s("-rf")], None), Ok(Yield::Test(true)));
        assert_eq!(eval(Builtin::StrContains, &[s("ls"), s("-rf")], None), Ok(Yield::Test(false)));
        assert_eq!(eval(Builtin::StrLower, &[s("ÄPI.GitHub.com")], None), Ok(Yield::One(Some(s("äpi.github.com")))));
        assert_eq!(eval(Builtin::StrUpper, &[s("deploy")], None), Ok(Yield::One(Some(s("DEPLOY")))));
        assert_eq!(eval(Builtin::StrLength, &[s("naïve")], None), Ok(Yield::One(Some(Val::Int(5)))));
        assert_eq!(eval(Builtin::StrConcat, &[s("/repo"), s("/x")], None), Ok(Yield::One(Some(s("/repo/x")))));
        assert_eq!(eval(Builtin::StrTrim, &[s("  rm \t")], None), Ok(Yield::One(Some(s("rm")))));
        assert_eq!(eval(Builtin::StrSplit, &[s("a  b"), s(" ")], None), Ok(Yield::Many(vec![s("a"), s(""), s("b")])));
        assert_eq!(eval(Builtin::StrSplit, &[s("ab"), s("")], None), Ok(Yield::Many(vec![])));
    }

    #[test]
    fn wrong_arguments_yield_nothing() {
        assert_eq!(eval(Builtin::StrStartsWith, &[s("a")], None), Ok(Yield::Test(false)));
        assert_eq!(eval(Builtin::StrLower, &[Val::Int(3)], None), Ok(Yield::One(None)));
        assert_eq!(eval(Builtin::StrSplit, &[], None), Ok(Yield::Many(vec![])));
    }
}
