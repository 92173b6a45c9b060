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

/// `str.lower(s)`: `s` itself when it has no upper-case letter to change (checked for
/// ASCII text; other text is always lower-cased anew).
pub(crate) fn lower<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    text(args.first()).map(|s| {
        Val::Str(if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(s.to_lowercase())
        })
    })
}

/// `str.upper(s)`, as [`lower`] the other way.
pub(crate) fn upper<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    text(args.first()).map(|s| {
        Val::Str(if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_lowercase()) {
            Cow::Borrowed(s)
        } else {
            Cow::Owned(s.to_uppercase())
        })
    })
}

/// `str.trim(s)`: a slice of `s`.
pub(crate) fn trim<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    text(args.first()).map(|s| Val::Str(Cow::Borrowed(s.trim())))
}

/// `str.length(s)`, in Unicode scalar values.
pub(crate) fn length<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    // An Int holds any length a request can carry (requests are size-limited far below).
    text(args.first()).and_then(|s| i64::try_from(s.chars().count()).ok()).map(Val::Int)
}

/// `str.concat(a, b)`: new text, unless one side is empty.
pub(crate) fn concat<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    two(args).map(|(a, b)| {
        Val::Str(match (a.is_empty(), b.is_empty()) {
            (true, _) => Cow::Borrowed(b),
            (_, true) => Cow::Borrowed(a),
            _ => Cow::Owned(format!("{a}{b}")),
        })
    })
}

/// Each part between separators, empty parts included, each a slice of the text; an
/// empty separator yields nothing (there is no sensible split on it).
pub(crate) fn split(args: &[Val<'_>], each: &mut dyn FnMut(Val<'_>)) {
    if let Some((s, sep)) = two(args)
        && !sep.is_empty()
    {
        s.split(sep).for_each(|part| each(Val::Str(Cow::Borrowed(part))));
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
