//! The regex family: `regex.match` and `regex.find`, on the `regex` crate.
//!
//! That crate's matching runs in time linear in the text (no backtracking), so no pattern
//! can make a policy slow; its size limits bound what one pattern may cost in memory, and
//! a pattern beyond them is rejected like an invalid one. A pattern matches anywhere in
//! the text unless anchored with `^` and `$`; the syntax is the crate's (Perl-like,
//! Unicode-aware, no look-around nor back-references).
//!
//! A constant pattern ([`Pattern`]) is also made into full DFAs when the program loads
//! (`regex-automata`'s dense DFAs, the engine the `regex` crate builds lazily), once per
//! process for each pattern text ([`crate::tables`]): a search is
//! then a walk of a table with no cache, no pool and no set-up beyond a start state, which
//! is most of what a call costs on the short texts policies test (~330 instructions for a
//! `regex.match` on 1–8 bytes through the `regex` crate). Where a DFA cannot answer (it
//! would be too big, or a Unicode `\b` meets non-ASCII text) the `regex` crate does.

use std::borrow::Cow;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};
use regex_automata::dfa::{Automaton, StartKind, dense};
use regex_automata::nfa::thompson;
use regex_automata::util::iter::Searcher;
use regex_automata::util::{primitives::StateID, start, syntax};
use regex_automata::{Anchored, Input};
use regex_syntax::hir::{Class, HirKind, Repetition};

use crate::Val;
use crate::prepared::PreparedKind;
use crate::strings::text;

/// Most bytes one compiled pattern may take: far more than any policy needs (`\w{50}`
/// fits), far less than a program may spend.
const SIZE_LIMIT: usize = 1 << 20;

/// Most bytes the lazy DFA of one pattern may cache per thread; beyond it the search falls
/// back to a slower engine that is still linear.
const DFA_SIZE_LIMIT: usize = 1 << 20;

/// Most bytes one full DFA of a constant pattern may take (and its construction may use),
/// kept for as long as the program is loaded; a pattern whose DFA would be bigger is
/// matched by the `regex` crate alone.
const FULL_DFA_LIMIT: usize = 256 << 10;

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

/// A full DFA's regex: a forward DFA for where matches end, a reverse one for where they
/// start.
type DfaRegex = regex_automata::dfa::regex::Regex<dense::DFA<Vec<u32>>>;

/// A constant pattern, compiled with its full DFAs when the program loads (the checker,
/// which only validates, compiles the `regex` crate's form alone: [`compile`]).
///
/// Invariant: every DFA here is built from `regex`'s pattern text with the same syntax
/// (Unicode, leftmost-first, UTF-8 empty matches), so it answers exactly as `regex` does
/// wherever it answers at all; where it cannot (it quit, or was too big), `regex` answers.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The pattern as the `regex` crate compiled it.
    regex: Regex,
    /// The forward DFA `regex.match` walks (`None`: too big, or prepared for `regex.find`).
    test: Option<TestDfa>,
    /// How `regex.find` searches ([`Finder::Regex`] when prepared for `regex.match`).
    find: Finder,
}

/// The built-in a constant pattern is prepared for: each gets only the DFAs it walks (a
/// `regex.find`'s forward and reverse DFAs cost several times a `regex.match`'s one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    /// `regex.match`
    Match,
    /// `regex.find`
    Find,
}

/// The patterns this process has prepared for `regex.match`, by their text.
static MATCHING: crate::tables::Kept<Pattern> = crate::tables::Kept::new();
/// The patterns this process has prepared for `regex.find`, by their text.
static FINDING: crate::tables::Kept<Pattern> = crate::tables::Kept::new();

impl Pattern {
    /// The constant pattern `pattern`, compiled within the size limits, with the DFAs
    /// its `used` walks: made now, or already made by an earlier load of the same pattern
    /// text for the same built-in.
    pub(crate) fn compile(pattern: &Val<'_>, used: Use) -> Result<Arc<Pattern>, String> {
        let Val::Str(text) = pattern else { return Err("a regex pattern is a Str".to_owned()) };
        let kept = match used {
            Use::Match => &MATCHING,
            Use::Find => &FINDING,
        };
        kept.get_or_make(text, || Pattern::make(pattern, used == Use::Match, used == Use::Find))
    }

    /// `pattern` compiled, with the DFA of `regex.match` if `test` and the search of
    /// `regex.find` if `find`.
    fn make(pattern: &Val<'_>, test: bool, find: bool) -> Result<Pattern, String> {
        let regex = compile(pattern)?;
        Ok(Pattern {
            test: if test { TestDfa::build(regex.as_str()) } else { None },
            find: if find { Finder::build(regex.as_str()) } else { Finder::Regex },
            regex,
        })
    }

    /// Whether the pattern matches somewhere in `s`.
    fn is_match(&self, s: &str) -> bool {
        match self.test.as_ref().and_then(|dfa| dfa.is_match(s)) {
            Some(held) => held,
            // Too big, or a Unicode `\b` beside non-ASCII text.
            None => self.regex.is_match(s),
        }
    }

    /// Hands each non-overlapping match in `s`, leftmost first, to `each`.
    fn find_each(&self, s: &str, each: &mut dyn FnMut(Val<'_>)) {
        let mut found = 0;
        match &self.find {
            Finder::Runs(runs) => return runs.find_each(s, each),
            Finder::Dfa(dfa) => {
                let mut searcher = Searcher::new(Input::new(s));
                loop {
                    match searcher.try_advance(|input| dfa.try_search(input)) {
                        Ok(None) => return,
                        Ok(Some(m)) => match s.get(m.range()) {
                            Some(text) => {
                                each(Val::Str(Cow::Borrowed(text)));
                                found += 1;
                            }
                            None => break,
                        },
                        Err(_) => break,
                    }
                }
            }
            Finder::Regex => {}
        }
        // The DFA could not go on (a Unicode `\b` beside non-ASCII text): the `regex`
        // crate finds the same matches in the same order, so it skips those already handed
        // over.
        self.regex.find_iter(s).skip(found).for_each(|m| each(Val::Str(Cow::Borrowed(m.as_str()))));
    }
}

/// How `regex.find` searches with a constant pattern.
#[derive(Debug, Clone)]
enum Finder {
    /// The pattern is one character class repeated (`[^;&|\n]+`): a byte scan.
    Runs(Runs),
    /// A forward and a reverse DFA (boxed: their headers are large).
    Dfa(Box<DfaRegex>),
    /// The `regex` crate alone (the DFAs would be too big, or the pattern was prepared
    /// for `regex.match`).
    Regex,
}

impl Finder {
    /// The cheapest way to search for `pattern`.
    fn build(pattern: &str) -> Finder {
        if let Some(runs) = Runs::of(pattern) {
            return Finder::Runs(runs);
        }
        regex_automata::dfa::regex::Builder::new()
            .dense(dense_config())
            .syntax(syntax_config())
            .thompson(thompson_config())
            .build(pattern)
            .map_or(Finder::Regex, |dfa| Finder::Dfa(Box::new(dfa)))
    }
}

/// A pattern that is one character class repeated greedily at least once (`[^;&|\n]+`,
/// `\d+` in ASCII), whose class either holds every non-ASCII character or none: its
/// leftmost-first matches are the maximal runs of characters in the class, and since every
/// byte of a non-ASCII character's UTF-8 is non-ASCII, the maximal runs of bytes in this
/// table.
#[derive(Debug, Clone)]
struct Runs {
    /// Whether each byte value belongs to a character of the class: bit `b % 64` of word
    /// `b / 64`.
    member: [u64; 4],
}

impl Runs {
    /// The byte table of `pattern`, when it is such a repeated class.
    fn of(pattern: &str) -> Option<Runs> {
        let hir = regex_syntax::ParserBuilder::new().nest_limit(NEST_LIMIT).build().parse(pattern).ok()?;
        let HirKind::Repetition(Repetition { min: 1, max: None, greedy: true, sub }) = hir.kind() else {
            return None;
        };
        let HirKind::Class(Class::Unicode(class)) = sub.kind() else { return None };
        let ranges = class.ranges();
        let all_non_ascii = ranges.last().is_some_and(|r| r.start() <= '\u{80}' && r.end() == char::MAX);
        let no_non_ascii = ranges.iter().all(|r| r.end().is_ascii());
        if !(all_non_ascii || no_non_ascii) {
            return None;
        }
        let high = if all_non_ascii { u64::MAX } else { 0 };
        let mut member = [0, 0, high, high];
        for byte in 0..=0x7f_u8 {
            let c = char::from(byte);
            if ranges.iter().any(|r| r.start() <= c && c <= r.end())
                && let Some(word) = member.get_mut(usize::from(byte / 64))
            {
                *word |= 1 << (byte % 64);
            }
        }
        Some(Runs { member })
    }

    /// Hands each maximal run of member bytes in `s` to `each`.
    fn find_each(&self, s: &str, each: &mut dyn FnMut(Val<'_>)) {
        let bytes = s.as_bytes();
        let member = |i: usize| {
            bytes
                .get(i)
                .is_some_and(|&b| self.member.get(usize::from(b / 64)).is_some_and(|word| word >> (b % 64) & 1 == 1))
        };
        let mut i = 0;
        while i < bytes.len() {
            if !member(i) {
                i += 1;
                continue;
            }
            let start = i;
            while member(i) {
                i += 1;
            }
            // Invariant: a run starts and ends between characters (a non-ASCII character's
            // bytes are all members or all not), so the slice is always there.
            if let Some(run) = s.get(start..i) {
                each(Val::Str(Cow::Borrowed(run)));
            }
        }
    }
}

/// The forward DFA of `regex.match`, with the state every search starts in (a search
/// always starts at the start of the text, so that state is always the same one).
#[derive(Debug, Clone)]
struct TestDfa {
    /// The DFA, unanchored (a pattern matches anywhere unless it says `^`).
    dfa: dense::DFA<Vec<u32>>,
    /// Its start state at the start of a text.
    start: StateID,
}

impl TestDfa {
    /// The DFA of `pattern`, or `None` when it would be too big.
    fn build(pattern: &str) -> Option<TestDfa> {
        let dfa = dense::Builder::new()
            .configure(dense_config().start_kind(StartKind::Unanchored))
            .syntax(syntax_config())
            .thompson(thompson_config())
            .build(pattern)
            .ok()?;
        let start = dfa.start_state(&start::Config::new().anchored(Anchored::No)).ok()?;
        Some(TestDfa { dfa, start })
    }

    /// Whether the pattern matches somewhere in `s`, or `None` when the DFA cannot say
    /// (it quit on a non-ASCII byte beside a Unicode `\b`).
    ///
    /// The walk is the DFA's own search without its set-up (the start state is known,
    /// there is no prefilter, and the first match ends it): a match state is entered one
    /// byte after a match ends, or on the end of the text. A pattern that can match the
    /// empty string goes through the DFA's search instead, which also knows not to report
    /// an empty match inside a character.
    fn is_match(&self, s: &str) -> Option<bool> {
        let dfa = &self.dfa;
        if dfa.has_empty() {
            return dfa.try_search_fwd(&Input::new(s).earliest(true)).ok().map(|found| found.is_some());
        }
        let mut state = self.start;
        for &byte in s.as_bytes() {
            if dfa.is_special_state(state) {
                if dfa.is_match_state(state) {
                    return Some(true);
                }
                if dfa.is_dead_state(state) {
                    return Some(false);
                }
                if dfa.is_quit_state(state) {
                    return None;
                }
            }
            state = dfa.next_state(state, byte);
        }
        if dfa.is_quit_state(state) {
            return None;
        }
        Some(dfa.is_match_state(state) || dfa.is_match_state(dfa.next_eoi_state(state)))
    }
}

/// The syntax the `regex` crate compiles a pattern with (its defaults), within the same
/// nesting limit.
fn syntax_config() -> syntax::Config {
    syntax::Config::new().nest_limit(NEST_LIMIT)
}

/// The NFA a DFA is made from, within the `regex` crate's size limit.
fn thompson_config() -> thompson::Config {
    thompson::Config::new().nfa_size_limit(Some(SIZE_LIMIT))
}

/// A full DFA within [`FULL_DFA_LIMIT`]; a Unicode word boundary makes it quit on
/// non-ASCII bytes (the search then reports an error) rather than fail to build.
fn dense_config() -> dense::Config {
    dense::Config::new()
        .dfa_size_limit(Some(FULL_DFA_LIMIT))
        .determinize_size_limit(Some(FULL_DFA_LIMIT))
        .unicode_word_boundary(true)
}

/// The pattern of a call that was not prepared (a broken caller), compiled now: `None`
/// when it does not compile (the call then yields nothing).
fn pattern(args: &[Val<'_>]) -> Option<Regex> {
    args.get(1).and_then(|pattern| compile(pattern).ok())
}

/// The constant pattern a call was prepared with, if any.
fn prepared_pattern(prepared: Option<&PreparedKind>) -> Option<&Pattern> {
    match prepared {
        Some(PreparedKind::Regex(pattern)) => Some(pattern),
        _ => None,
    }
}

/// `regex.match(s, pattern)`
pub(crate) fn matches(args: &[Val<'_>], prepared: Option<&PreparedKind>) -> bool {
    let Some(s) = text(args.first()) else { return false };
    match prepared_pattern(prepared) {
        Some(constant) => constant.is_match(s),
        None => pattern(args).is_some_and(|regex| regex.is_match(s)),
    }
}

/// `regex.find(s, pattern)`: each non-overlapping match, leftmost first, a slice of `s`.
pub(crate) fn find(args: &[Val<'_>], prepared: Option<&PreparedKind>, each: &mut dyn FnMut(Val<'_>)) {
    let Some(s) = text(args.first()) else { return };
    match prepared_pattern(prepared) {
        Some(constant) => constant.find_each(s, each),
        None => {
            let Some(regex) = pattern(args) else { return };
            regex.find_iter(s).for_each(|m| each(Val::Str(Cow::Borrowed(m.as_str()))));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Builtin, Yield, check, eval, prepare};

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

    /// The patterns of the coding-agent example (the first [`CODING_AGENT`]: each must get
    /// its DFAs), and patterns whose DFAs need care: empty
    /// matches (which must not split a character), Unicode classes and case folding, the
    /// Unicode `\b` (the DFA quits on non-ASCII text), anchors and multi-line mode.
    const PATTERNS: &[&str] = &[
        "[^;&|\\n]+",
        r"(?i)(^|[\s/])rm(\s|$)",
        r"(?i)\s-[a-z]*r[a-z]*(\s|$)|\s--recursive(\s|$)",
        r"(?i)\s-[a-z]*f[a-z]*(\s|$)|\s--force(\s|$)",
        r"(?i)\b(curl|wget)\b[^|]*\|\s*(sudo\s+)?(\S*/)?(ba|z|da|k)?sh\b",
        "^(-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)$",
        "^(-[a-zA-Z]*f[a-zA-Z]*|--force)$",
        RECURSIVE,
        FORCE,
        "",
        "a*",
        "x|",
        r"\b",
        r"\bsh\b",
        r"(?-u:\b)sh",
        "^$",
        r"(?m)^\w+$",
        r"\d+",
        "(?i)straße",
        "é+|ſ",
        r"\s+",
        ".",
        ".+",
        "(?s).+",
        "[a-z]+",
        "(?i)[a-z]+",
        "[^a]+",
        "[^;]+?",
        "([^;]+)",
        "[^;]{1,}",
        "[^;]{2,}",
    ];

    /// How many of [`PATTERNS`] are the coding-agent example's (with this module's two).
    const CODING_AGENT: usize = 9;

    /// Text made of the patterns' own pieces, white space, and non-ASCII letters that
    /// case-fold or count as white space or word characters.
    fn text_of_pieces() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "rm",
            "RM",
            "-rf",
            "-Rf",
            "-f",
            "-r",
            "--force",
            "--recursive",
            "curl",
            "wget",
            "|",
            "sudo",
            "sh",
            "bash",
            "/",
            "/bin/",
            ";",
            "&",
            "\n",
            " ",
            "\t",
            "\u{a0}",
            "\u{3000}",
            "é",
            "ſ",
            "K",
            "ß",
            "a",
            "x",
            "1",
            "42",
            "🦀",
            "straße",
            "STRASSE",
        ]);
        prop::collection::vec(pieces, 0..12).prop_map(|pieces| pieces.concat())
    }

    fn found_by_pattern(pattern: &Pattern, text: &str) -> Vec<String> {
        let mut found = Vec::new();
        pattern.find_each(text, &mut |v| found.push(format!("{v:?}")));
        found
    }

    fn found_by_regex(regex: &Regex, text: &str) -> Vec<String> {
        regex.find_iter(text).map(|m| format!("{:?}", s(m.as_str()))).collect()
    }

    #[test]
    fn the_coding_agent_patterns_are_walked_by_full_dfas() {
        for &text in PATTERNS.iter().take(CODING_AGENT) {
            let Ok(pattern) = Pattern::make(&s(text), true, true) else { panic!("{text} compiles") };
            assert!(pattern.test.is_some(), "{text}: a DFA for regex.match");
            let Some(test) = &pattern.test else { continue };
            assert!(test.is_match("rm -rf /").is_some(), "{text}: the DFA answers");
            assert!(
                matches!(pattern.find, Finder::Dfa(_) | Finder::Runs(_)),
                "{text}: DFAs or a byte scan for regex.find"
            );
        }
    }

    #[test]
    fn each_built_in_gets_only_the_dfas_it_walks() {
        let prepared = |builtin| match prepare(builtin, &[None, Some(s(r"\bsh\b"))]) {
            Ok(Some(prepared)) => match prepared.kind() {
                PreparedKind::Regex(pattern) => Arc::clone(pattern),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        let matching = prepared(Builtin::RegexMatch);
        assert!(matching.test.is_some() && matches!(matching.find, Finder::Regex));
        let finding = prepared(Builtin::RegexFind);
        assert!(finding.test.is_none() && matches!(finding.find, Finder::Dfa(_)));
        // Either still answers the other's question, through the `regex` crate.
        assert!(finding.is_match("a sh") && !finding.is_match("ash"));
        assert_eq!(found_by_pattern(&matching, "sh, sh"), vec![format!("{:?}", s("sh")); 2]);
    }

    #[test]
    fn a_greedy_repeated_class_holding_all_or_no_non_ascii_is_a_byte_scan() {
        for (text, scan) in [
            ("[^;&|\\n]+", true),
            (".+", true),
            ("(?s).+", true),
            ("[a-z]+", true),
            ("[^;]{1,}", true),
            ("(?i)[a-z]+", false),
            (r"\s+", false),
            ("[^;]+?", false),
            ("[^;]{2,}", false),
            ("[^;]*", false),
        ] {
            let Ok(pattern) = Pattern::make(&s(text), true, true) else { panic!("{text} compiles") };
            assert_eq!(
                found_by_pattern(&pattern, "ab; é|c\nſ"),
                found_by_regex(&pattern.regex, "ab; é|c\nſ"),
                "{text}"
            );
            assert_eq!(matches!(pattern.find, Finder::Runs(_)), scan, "{text}");
        }
    }

    #[test]
    fn a_dfa_that_quits_part_way_hands_over_to_the_regex_crate() {
        let Ok(pattern) = Pattern::make(&s(r"\bsh\b"), true, true) else { panic!("compiles") };
        let text = "sh x sh é sh";
        assert_eq!(found_by_pattern(&pattern, text), found_by_regex(&pattern.regex, text));
        assert_eq!(found_by_pattern(&pattern, text).len(), 3);
        // The DFA finds the first and quits before the second (it reads past the `sh`
        // at 5..7 to the `é` before it knows that match is the leftmost-first one).
        let Finder::Dfa(dfa) = &pattern.find else { panic!("a DFA was built") };
        assert!(dfa.try_search(&Input::new(text)).is_ok());
        assert!(dfa.try_search(&Input::new(text).range(2..)).is_err());
        assert!(pattern.is_match("é sh"));
        assert!(!pattern.is_match("é shx"));
    }

    #[test]
    fn a_pattern_whose_dfa_would_be_too_big_is_matched_by_the_regex_crate() {
        // The 21st bit from the end is a 1: a small NFA, a DFA of 2^21 states.
        let Ok(pattern) = Pattern::make(&s("[01]*1[01]{20}"), true, true) else { panic!("compiles") };
        let text = "01".to_owned() + &"0".repeat(20);
        assert!(pattern.is_match(&text));
        assert_eq!(found_by_pattern(&pattern, &text), found_by_regex(&pattern.regex, &text));
        assert!(pattern.test.is_none());
        assert!(matches!(pattern.find, Finder::Regex));
    }

    proptest! {
        #[test]
        fn arbitrary_text_and_patterns_never_panic(text in ".{0,40}", pattern in "[a-z()|*+?{}\\[\\]^$.\\\\0-9,]{0,16}") {
            let prepared = prepare(Builtin::RegexMatch, &[None, Some(s(&pattern))]);
            prop_assert_eq!(check(Builtin::RegexMatch, &[None, Some(s(&pattern))]), prepared.map(drop));
            let _ = eval(Builtin::RegexMatch, &[s(&text), s(&pattern)], None);
            let _ = eval(Builtin::RegexFind, &[s(&text), s(&pattern)], None);
        }

        #[test]
        fn a_dfa_answers_as_the_regex_crate(index in 0..PATTERNS.len(), text in text_of_pieces()) {
            let source = PATTERNS.get(index).copied().unwrap_or_default();
            let Ok(pattern) = Pattern::make(&s(source), true, true) else { panic!("{source} compiles") };
            prop_assert_eq!(pattern.is_match(&text), pattern.regex.is_match(&text), "{} on {:?}", source, text);
            prop_assert_eq!(found_by_pattern(&pattern, &text), found_by_regex(&pattern.regex, &text), "{} on {:?}", source, text);
        }

        #[test]
        fn a_dfa_answers_as_the_regex_crate_on_any_text(index in 0..PATTERNS.len(), text in "\\PC{0,16}") {
            let source = PATTERNS.get(index).copied().unwrap_or_default();
            let Ok(pattern) = Pattern::make(&s(source), true, true) else { panic!("{source} compiles") };
            prop_assert_eq!(pattern.is_match(&text), pattern.regex.is_match(&text));
            prop_assert_eq!(found_by_pattern(&pattern, &text), found_by_regex(&pattern.regex, &text));
        }

        #[test]
        fn an_escaped_text_matches_itself(text in ".{0,20}") {
            let pattern = format!("^{}$", regex::escape(&text));
            prop_assert_eq!(call(Builtin::RegexMatch, &text, &pattern), Yield::Test(true));
        }
    }
}
