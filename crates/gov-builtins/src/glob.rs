//! The glob family: `glob.match`, on the `globset` crate (the matcher of ripgrep).
//!
//! Globs are path-aware: `*` and `?` never match `/` (a literal separator), `**` matches
//! any number of whole path components, `[abc]`, `[!a-z]` and `{a,b}` work as in a shell,
//! and `\` escapes the next character. A glob matches the whole text, case-sensitively;
//! a leading `.` is an ordinary character (`*` matches `.env`). The text is not
//! normalised first: match `path.normalize(p)` when `p` comes from a caller.

use globset::{GlobBuilder, GlobMatcher};

use crate::Val;
use crate::prepared::{PreparedKind, prepared_or_parse};
use crate::strings::text;

/// Compiles a glob pattern.
pub(crate) fn compile(pattern: &Val<'_>) -> Result<GlobMatcher, String> {
    let Val::Str(pattern) = pattern else { return Err("a glob pattern is a Str".to_owned()) };
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
}

/// `glob.match(s, pattern)`
pub(crate) fn matches(args: &[Val<'_>], prepared: Option<&PreparedKind>) -> bool {
    let constant = match prepared {
        Some(PreparedKind::Glob(glob)) => Some(glob),
        _ => None,
    };
    let Some(s) = text(args.first()) else { return false };
    prepared_or_parse(constant, args.get(1), compile).is_some_and(|glob| glob.is_match(s))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use crate::{Builtin, Yield, eval, prepare};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    /// Matches with the pattern prepared, as a loaded program does, and checks that
    /// parsing it per call agrees.
    fn glob(text: &str, pattern: &str) -> bool {
        let prepared = prepare(Builtin::GlobMatch, &[None, Some(s(pattern))]);
        let Ok(Some(prepared)) = prepared else { return false };
        let once = eval(Builtin::GlobMatch, &[s(text), s(pattern)], Some(&prepared));
        let per_call = eval(Builtin::GlobMatch, &[s(text), s(pattern)], None);
        assert_eq!(once, per_call, "{text} ~ {pattern}");
        once == Ok(Yield::Test(true))
    }

    #[test]
    fn star_stays_within_a_component() {
        assert!(glob("/etc/passwd", "/etc/*"));
        assert!(!glob("/etc/ssh/sshd_config", "/etc/*"));
        assert!(glob("/etc/ssh/sshd_config", "/etc/**"));
        // `dir/**` is below `dir`, not `dir` itself (`path.under` is both).
        assert!(!glob("/etc", "/etc/**"));
        assert!(glob("/repo/.git", "**/.git"));
        assert!(!glob("/repo/.git", "**/.git/**"));
        // `**` that is not a whole component is a `*`.
        assert!(!glob("a/b", "a**"));
        assert!(glob("notes.txt", "*.txt"));
        assert!(!glob("docs/notes.txt", "*.txt"));
        assert!(glob("docs/notes.txt", "**/*.txt"));
    }

    #[test]
    fn double_star_matches_any_depth_of_whole_components() {
        assert!(glob("/repo/.env", "**/.env"));
        assert!(glob(".env", "**/.env"));
        assert!(glob("/repo/sub/.git/config", "**/.git/**"));
        assert!(!glob("/repo/sub/.github/config", "**/.git/**"));
        assert!(!glob("/repo/prod.env", "**/.env"));
        // A leading dot is an ordinary character.
        assert!(glob(".env", "*"));
    }

    #[test]
    fn question_mark_classes_alternatives_and_escapes() {
        assert!(glob("a1", "a?"));
        assert!(!glob("a/", "a?"));
        assert!(glob("id_rsa", "id_[rd]sa"));
        assert!(!glob("id_xsa", "id_[rd]sa"));
        assert!(glob("id_xsa", "id_[!rd]sa"));
        assert!(glob("key.pem", "*.{pem,key}"));
        assert!(glob("a*b", r"a\*b"));
        assert!(!glob("axb", r"a\*b"));
        // Case-sensitive, and the whole text must match.
        assert!(!glob("/ETC/passwd", "/etc/*"));
        assert!(!glob("x/etc/passwd", "/etc/*"));
    }

    #[test]
    fn an_invalid_pattern_is_a_prepare_error_and_yields_nothing_per_call() {
        let error = prepare(Builtin::GlobMatch, &[None, Some(s("[a-"))]);
        assert!(matches!(error, Err(ref e) if e.param == 1 && e.message.contains("[a-")), "{error:?}");
        assert_eq!(eval(Builtin::GlobMatch, &[s("a"), s("[a-")], None), Ok(Yield::Test(false)));
        assert!(prepare(Builtin::GlobMatch, &[Some(s("x")), None]).is_err(), "the pattern must be a literal");
    }

    proptest! {
        #[test]
        fn arbitrary_text_and_patterns_never_panic(text in ".{0,40}", pattern in "[a-z*?/\\[\\]{},!\\\\.-]{0,20}") {
            let _ = prepare(Builtin::GlobMatch, &[None, Some(s(&pattern))]);
            let _ = eval(Builtin::GlobMatch, &[s(&text), s(&pattern)], None);
        }

        #[test]
        fn a_pattern_without_metacharacters_matches_only_itself(text in "[a-z./]{0,12}", other in "[a-z./]{0,12}") {
            prop_assert!(glob(&text, &text));
            prop_assert_eq!(glob(&other, &text), other == text);
        }
    }
}
