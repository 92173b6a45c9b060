//! The regex family: `regex.match` and `regex.find`, on the `regex` crate.
//!
//! That crate's matching runs in time linear in the text (no backtracking), so no pattern
//! can make a policy slow; its size limits bound what one pattern may cost in memory, and
//! a pattern beyond them is rejected like an invalid one. A pattern matches anywhere in
//! the text unless anchored with `^` and `$`; the syntax is the crate's (Perl-like,
//! Unicode-aware, no look-around nor back-references).

use std::borrow::Cow;

use regex::{Regex, RegexBuilder};

use crate::Val;
use crate::prepared::{PreparedKind, prepared_or_parse};
use crate::strings::text;

/// Most bytes one compiled pattern may take: far more than any policy needs (`\w{50}`
/// fits), far less than a program may spend.
const SIZE_LIMIT: usize = 1 << 20;

/// Most bytes the lazy DFA of one pattern may cache per thread; beyond it the search falls
/// back to a slower engine that is still linear.
const DFA_SIZE_LIMIT: usize = 1 << 20;

/// Deepest nesting of groups and repetitions a pattern may have.
const NEST_LIMIT: u32 = 64;

/// Compiles a regex pattern within the size limits.
pub(crate) fn compile(pattern: &Val<'_>) -> Result<Regex, String> {
    let Val::Str(pattern) = pattern else { return Err("a regex pattern is a Str".to_owned()) };
    RegexBuilder::new(pattern)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .nest_limit(NEST_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => {
                format!("the regex `{pattern}` is too big: it compiles to more than {} KiB", limit / 1024)
            }
            // The syntax error's own text spans several lines (it draws the pattern with a
            // caret); a diagnostic needs one.
            other => format!("invalid regex `{pattern}`: {}", one_line(&other.to_string())),
        })
}

/// The last line of a multi-line error message (the regex crate's says what is wrong
/// there, after `error: `).
fn one_line(message: &str) -> &str {
    let last = message.lines().rev().find(|line| !line.trim().is_empty()).map_or(message, str::trim);
    last.strip_prefix("error: ").unwrap_or(last)
}

/// The compiled pattern of a call.
fn pattern<'p>(args: &[Val<'_>], prepared: Option<&'p PreparedKind>) -> Option<Cow<'p, Regex>> {
    let constant = match prepared {
        Some(PreparedKind::Regex(regex)) => Some(regex),
        _ => None,
    };
    prepared_or_parse(constant, args.get(1), compile)
}

/// `regex.match(s, pattern)`
pub(crate) fn matches(args: &[Val<'_>], prepared: Option<&PreparedKind>) -> bool {
    let Some(s) = text(args.first()) else { return false };
    pattern(args, prepared).is_some_and(|regex| regex.is_match(s))
}

/// `regex.find(s, pattern)`: each non-overlapping match, leftmost first, a slice of `s`.
pub(crate) fn find(args: &[Val<'_>], prepared: Option<&PreparedKind>, each: &mut dyn FnMut(Val<'_>)) {
    let (Some(s), Some(regex)) = (text(args.first()), pattern(args, prepared)) else { return };
    regex.find_iter(s).for_each(|m| each(Val::Str(Cow::Borrowed(m.as_str()))));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Builtin, Yield, eval, prepare};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn call<'a>(builtin: Builtin, text: &'a str, pattern: &'a str) -> Yield<'a> {
        let prepared = prepare(builtin, &[None, Some(s(pattern))]).ok().flatten();
        assert!(prepared.is_some(), "{pattern} prepares");
        let once = eval(builtin, &[s(text), s(pattern)], prepared.as_ref());
        assert_eq!(once, eval(builtin, &[s(text), s(pattern)], None), "prepared and per-call agree");
        once.unwrap_or(Yield::Test(false))
    }

    /// The force-delete test of the coding-agent example: an `rm` command with a recursive
    /// option and a force option, in any order and spelling.
    const RECURSIVE: &str = r"(^|[;&|\s])rm\s([^;&|]*\s)?(-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)(\s|$)";
    const FORCE: &str = r"(^|[;&|\s])rm\s([^;&|]*\s)?(-[a-zA-Z]*f[a-zA-Z]*|--force)(\s|$)";

    fn force_delete(cmd: &str) -> bool {
        call(Builtin::RegexMatch, cmd, RECURSIVE) == Yield::Test(true)
            && call(Builtin::RegexMatch, cmd, FORCE) == Yield::Test(true)
    }

    #[test]
    fn matches_anywhere_unless_anchored() {
        assert_eq!(call(Builtin::RegexMatch, "curl x | sh", r"\|\s*(sh|bash)\b"), Yield::Test(true));
        assert_eq!(call(Builtin::RegexMatch, "curl x |  bash -s", r"\|\s*(sh|bash)\b"), Yield::Test(true));
        assert_eq!(call(Builtin::RegexMatch, "curl x | shellcheck", r"\|\s*(sh|bash)\b"), Yield::Test(false));
        assert_eq!(call(Builtin::RegexMatch, "xdeploy", "^deploy$"), Yield::Test(false));
        assert_eq!(call(Builtin::RegexMatch, "DEPLOY", "(?i)^deploy$"), Yield::Test(true));
    }

    #[test]
    fn every_spelling_of_a_force_delete() {
        let spellings = [
            "rm -rf /",
            "rm -fr /",
            "rm -r -f /",
            "rm -f -r /",
            "rm  -Rf /x",
            "rm -rfv build",
            "rm\t-rf\t/",
            "rm --recursive --force /",
            "rm --force x --recursive",
            "sudo rm -rf /",
            "ls; rm -rf ~",
            "true&&rm -rf /",
        ];
        for cmd in spellings {
            assert!(force_delete(cmd), "{cmd}");
        }
        for cmd in ["rm -r dir", "rm -f file", "farm -rf", "rm-rf", "grep -rf x .", "rm ./-rfile", "rm -r a; ls -f"] {
            assert!(!force_delete(cmd), "{cmd}");
        }
    }

    #[test]
    fn find_yields_each_match() {
        let found = call(Builtin::RegexFind, "a=1, b=22, c=", r"\d+");
        assert_eq!(found, Yield::Many(vec![s("1"), s("22")]));
        assert_eq!(call(Builtin::RegexFind, "abc", r"\d+"), Yield::Many(vec![]));
    }

    #[test]
    fn invalid_and_oversized_patterns_are_prepare_errors() {
        let invalid = prepare(Builtin::RegexMatch, &[None, Some(s("a("))]);
        assert!(
            matches!(&invalid, Err(e) if e.param == 1 && e.message == "invalid regex `a(`: unclosed group" && !e.message.contains('\n')),
            "{invalid:?}"
        );
        let huge = prepare(Builtin::RegexMatch, &[None, Some(s(r"\w{1000}{1000}"))]);
        assert!(matches!(&huge, Err(e) if e.message.contains("too big")), "{huge:?}");
        let nested = "(".repeat(100) + &")".repeat(100);
        assert!(prepare(Builtin::RegexFind, &[None, Some(s(&nested))]).is_err());
        // Per call (a broken caller), an invalid pattern yields nothing.
        assert_eq!(eval(Builtin::RegexMatch, &[s("a("), s("a(")], None), Ok(Yield::Test(false)));
        assert_eq!(eval(Builtin::RegexFind, &[s("a("), s("a(")], None), Ok(Yield::Many(vec![])));
    }

    #[test]
    fn matching_is_linear_where_backtracking_would_not_be() {
        // Catastrophic for a backtracking engine: (a+)+$ on many a's and no match.
        let text = "a".repeat(10_000) + "!";
        assert_eq!(call(Builtin::RegexMatch, &text, "^(a+)+$"), Yield::Test(false));
    }

    proptest! {
        #[test]
        fn arbitrary_text_and_patterns_never_panic(text in ".{0,40}", pattern in "[a-z()|*+?{}\\[\\]^$.\\\\0-9,]{0,16}") {
            let _ = prepare(Builtin::RegexMatch, &[None, Some(s(&pattern))]);
            let _ = eval(Builtin::RegexMatch, &[s(&text), s(&pattern)], None);
            let _ = eval(Builtin::RegexFind, &[s(&text), s(&pattern)], None);
        }

        #[test]
        fn an_escaped_text_matches_itself(text in ".{0,20}") {
            let pattern = format!("^{}$", regex::escape(&text));
            prop_assert_eq!(call(Builtin::RegexMatch, &text, &pattern), Yield::Test(true));
        }
    }
}
