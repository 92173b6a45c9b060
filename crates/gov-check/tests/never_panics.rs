#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The front end never panics: lexer, parser, checker and the three renderers run on
//! arbitrary text, on random soups of Gov tokens and on random mutations of the shipped
//! example, and every diagnostic they produce points inside its file, on character
//! boundaries.
//!
//! The case counts are fixed so the test runs in seconds in CI; raise them locally with
//! `PROPTEST_CASES=100000 cargo test -p gov-check --test never_panics`.

use gov_diag::{Diagnostic, FileId, Span};
use gov_driver::Package;
use proptest::prelude::*;
use proptest::sample::Index;

const EXAMPLE: &str = include_str!("../../../examples/payments/payments.gov");

/// Cases per strategy, unless `PROPTEST_CASES` says otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512);
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases) }
}

/// Asserts that `span` lies inside one of `texts` (indexed by file id), on char boundaries.
fn assert_in_bounds(span: Span, texts: &[&str], what: &str, diagnostic: &Diagnostic) {
    let Some(text) = texts.get(span.file.0 as usize) else {
        panic!("{what} of {diagnostic:?} is in unknown file {:?}", span.file);
    };
    let (start, end) = (span.start as usize, span.end as usize);
    assert!(
        start <= end && end <= text.len(),
        "{what} {start}..{end} of {diagnostic:?} is outside a text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(start) && text.is_char_boundary(end),
        "{what} {start}..{end} of {diagnostic:?} splits a character"
    );
}

/// Loads `text` as the one file of a package (with the library modules it uses, as `govc`
/// loads them: through the driver), checks it, renders every diagnostic three ways, and
/// checks every span. Returns the diagnostics.
fn front_end(text: &str) -> Vec<Diagnostic> {
    let package = Package::from_sources(vec![("policy.gov".to_owned(), text.to_owned())]).unwrap();
    let sources = package.sources();
    let texts: Vec<&str> = (0..sources.len())
        .map(|i| sources.get(FileId(u32::try_from(i).unwrap())).map_or("", |f| f.text.as_str()))
        .collect();
    for file in &package.program().files {
        for comment in &file.parsed.comments {
            let span = comment.span;
            let text = texts[span.file.0 as usize];
            assert!(
                span.start <= span.end
                    && span.end as usize <= text.len()
                    && text.is_char_boundary(span.start as usize)
                    && text.is_char_boundary(span.end as usize)
            );
        }
    }
    let checked = package.checked();
    // The checker's list includes the parser's, but check the parser's on their own too.
    let parse_diagnostics = package.program().files.iter().flat_map(|f| f.parsed.diagnostics.iter());
    for diagnostic in parse_diagnostics.chain(&checked.diagnostics) {
        assert_in_bounds(diagnostic.primary.span, &texts, "primary span", diagnostic);
        for label in &diagnostic.secondary {
            assert_in_bounds(label.span, &texts, "label", diagnostic);
        }
        // Every fix applies to the text it was made for, as `govc check --fix` and the
        // language server apply it.
        for fix in &diagnostic.fixes {
            for edit in &fix.edits {
                assert_in_bounds(edit.span, &texts, "fix edit", diagnostic);
                let text = texts[edit.span.file.0 as usize];
                let same_file: Vec<_> = fix.edits.iter().filter(|e| e.span.file == edit.span.file).collect();
                assert!(gov_diag::fix::apply(text, &same_file).is_some(), "{fix:?} of {diagnostic:?} does not apply");
            }
        }
    }

    let human = gov_diag::render_human(&checked.diagnostics, &sources, false);
    let colored = gov_diag::render_human(&checked.diagnostics, &sources, true);
    let json = gov_diag::render_json(&checked.diagnostics, &sources);
    let sarif = gov_diag::render_sarif(&checked.diagnostics, &sources, "0.0.0");
    if !checked.diagnostics.is_empty() {
        assert!(!human.is_empty() && !colored.is_empty());
    }
    assert!(json.starts_with('{') && sarif.starts_with('{'));
    checked.diagnostics.clone()
}

// ---- token soup ------------------------------------------------------------------------

/// Every keyword and punctuation token, literals of each kind (valid and not), comments and
/// characters that start no token.
const TOKENS: &[&str] = &[
    "package",
    "use",
    "default",
    "type",
    "input",
    "data",
    "not",
    "allow",
    "deny",
    "escalate",
    "obligation",
    "risk",
    "test",
    "given",
    "expect",
    "with",
    "true",
    "false",
    "to",
    "error",
    "_",
    "(",
    ")",
    "{",
    "}",
    ",",
    ".",
    ":-",
    ":",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "@",
    "@overrides",
    "sum",
    "count",
    "min",
    "max",
    "std.approvals",
    "Int",
    "Str",
    "Bool",
    "Decimal",
    "Time",
    "Duration",
    "0",
    "42",
    "-7",
    "99999999999999999999999",
    "3.25",
    "0.000000000000000000000000000001",
    "\"\"",
    "\"text\"",
    "\"{amt} of {max}\"",
    "\"{\"",
    "\"}\"",
    "\"\\n\\t\\\"\"",
    "\"\\q\"",
    "\"unterminated",
    "\"",
    "2025-01-31T12:00:00Z",
    "2025-02-30T25:61:61+99:99",
    "15m",
    "1h30m",
    "999999999999999999h",
    "// comment",
    "/// doc comment",
    "////",
    "#",
    "$",
    "!",
    "\0",
    "é",
    "😀",
    "\u{feff}",
    "\\",
];

const SEPARATORS: &[&str] = &["", " ", "  ", "\n", "\r\n", "\t", "\n\n", " \n", "\r"];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(TOKENS).prop_map(str::to_owned),
        2 => "[a-z_][a-z0-9_]{0,6}",
        1 => "[A-Z][a-z]{0,5}",
        1 => "[0-9]{1,4}",
    ]
}

fn token_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec((token(), proptest::sample::select(SEPARATORS)), 0..160).prop_map(|parts| {
        let mut text = String::new();
        for (token, separator) in parts {
            text.push_str(&token);
            text.push_str(separator);
        }
        text
    })
}

/// Token soup after a valid start, so the checker gets past the package line more often.
fn token_soup_in_a_package() -> impl Strategy<Value = String> {
    token_soup().prop_map(|soup| format!("package soup\n\ninput x(a: Int, b: Str)\ndata y(a: Int)\n\n{soup}"))
}

// ---- deep nesting ----------------------------------------------------------------------

/// Ways to open one more level of nesting in an expression or body, with what closes it.
const OPENERS: &[(&str, &str)] = &[
    ("(", ")"),
    ("1 + ", ""),
    ("(a * ", ")"),
    ("-", ""),
    ("sum(v : x(v), v > ", ")"),
    ("count(v : not x(v), ", ")"),
    ("x(", ")"),
    ("{", "}"),
];

/// A rule whose body nests up to 300 levels, closed or not: around the nesting limit.
fn deeply_nested() -> impl Strategy<Value = String> {
    (proptest::collection::vec(proptest::sample::select(OPENERS), 0..300), any::<bool>()).prop_map(
        |(levels, closed)| {
            let mut body: String = levels.iter().map(|(open, _)| *open).collect();
            body.push('a');
            if closed {
                body.extend(levels.iter().rev().map(|(_, close)| *close));
            }
            format!("package deep\n\ninput x(a: Int)\n\ndeny d :- x(a), a = {body}.\n\ndeny e :- x(_).\n")
        },
    )
}

// ---- mutations of the example ----------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Delete(Index, Index),
    Insert(Index, String),
    Replace(Index, Index, String),
    /// Copies a range of the text to another place: keeps the result close to Gov.
    Duplicate(Index, Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![token(), "\\PC{0,4}", proptest::sample::select(SEPARATORS).prop_map(str::to_owned)];
    prop_oneof![
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Delete(a, b)),
        (any::<Index>(), snippet.clone()).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (any::<Index>(), any::<Index>(), snippet).prop_map(|(a, b, s)| Mutation::Replace(a, b, s)),
        (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(a, b, c)| Mutation::Duplicate(a, b, c)),
    ]
}

/// The char boundary at or before `index` of `text` (as a position in `0..=len`).
fn boundary(text: &str, index: &Index) -> usize {
    let mut at = index.index(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A short range starting at `a` (at most 40 bytes, so a mutation stays local).
fn range(text: &str, a: &Index, b: &Index) -> std::ops::Range<usize> {
    let start = boundary(text, a);
    let mut end = (start + b.index(41)).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    start..end
}

fn mutate(text: &mut String, mutation: &Mutation) {
    match mutation {
        Mutation::Delete(a, b) => {
            let range = range(text, a, b);
            text.replace_range(range, "");
        }
        Mutation::Insert(a, snippet) => {
            let at = boundary(text, a);
            text.insert_str(at, snippet);
        }
        Mutation::Replace(a, b, snippet) => {
            let range = range(text, a, b);
            text.replace_range(range, snippet);
        }
        Mutation::Duplicate(a, b, c) => {
            let copied = text[range(text, a, b)].to_owned();
            let at = boundary(text, c);
            text.insert_str(at, &copied);
        }
    }
}

fn mutated_example() -> impl Strategy<Value = String> {
    proptest::collection::vec(mutation(), 1..8).prop_map(|mutations| {
        let mut text = EXAMPLE.to_owned();
        for mutation in &mutations {
            mutate(&mut text, mutation);
        }
        text
    })
}

// ---- the properties --------------------------------------------------------------------

#[test]
fn the_unmutated_example_is_clean() {
    assert_eq!(front_end(EXAMPLE), []);
    assert_eq!(front_end(&EXAMPLE.replace('\n', "\r\n")), []);
}

/// Found by `mutated_example_never_panics`: an escape inside `{…}` of a message made the
/// interpolation's span end inside a character.
#[test]
fn escapes_inside_interpolations_keep_spans_on_characters() {
    for message in
        ["{amt\\®A:}", "{a\\u{e9}", "{\\u{61}bc", "{\\n\\t}", "{é\\q}", "{a\\®", "{\\u{61}} and {b\\\"}", "{"]
    {
        front_end(&format!("package p\n\ninput x(a: Int)\n\ndeny d \"{message}\" :- x(a).\n"));
        front_end(&format!("package p\n\ninput x(a: Int)\n\ndeny d \"{message}\n"));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        front_end(&text);
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        front_end(&text);
    }

    #[test]
    fn token_soup_in_a_package_never_panics(text in token_soup_in_a_package()) {
        front_end(&text);
    }

    #[test]
    fn deep_nesting_never_panics(text in deeply_nested()) {
        front_end(&text);
    }

    #[test]
    fn mutated_example_never_panics(text in mutated_example()) {
        front_end(&text);
    }

    #[test]
    fn mutated_example_with_crlf_never_panics(text in mutated_example()) {
        front_end(&text.replace('\n', "\r\n"));
    }
}
