//! Cutting a token stream into items, and recovering from a missing `.`.
//!
//! Every item is parsed on its own, so a syntax error costs exactly one item. An item ends
//! at a `.` outside parentheses and braces, at the `}` closing a test block, or just before
//! a token that can only start a new item and sits at the very start of a line (column 1).
//! In the last case an item that needed a `.` gets one synthesised and an E0002 report.

use crate::lexer::{Spanned, Token};
use gov_diag::{Applicability, Diagnostic, FileId, Fix, Span, codes};

/// How deep parentheses and braces may nest before an item is rejected; deeper input
/// would only be hostile, and the limit keeps every later recursive pass shallow.
///
/// Arithmetic operators nest too (`1 + 1 + … + 1` is a left-leaning tree as deep as it
/// has operators), so each operator of one expression counts as a level as well: the
/// syntax tree of an accepted item is never deeper than this.
pub const MAX_NESTING: usize = 64;

/// One item's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Index of the first token.
    pub start: usize,
    /// One past the index of the last token.
    pub end: usize,
    /// Whether the parser must be fed a `.` after the last token (reported as E0002).
    pub synthetic_dot: bool,
    /// Whether the item nests too deeply to be parsed (reported as E0005).
    pub too_deep: bool,
}

/// The first token of an item after its `@name(…)` annotations.
pub(crate) fn after_annotations<'a, 's>(tokens: &'a [Spanned<'s>]) -> Option<&'a Token<'s>> {
    without_annotations(tokens).first().map(|t| &t.token)
}

/// The tokens of an item from its first token after its annotations.
fn without_annotations<'a, 's>(mut tokens: &'a [Spanned<'s>]) -> &'a [Spanned<'s>] {
    while let [Spanned { token: Token::At, .. }, _, rest @ ..] = tokens {
        tokens = rest;
        if let [Spanned { token: Token::LParen, .. }, ..] = tokens {
            let close = tokens.iter().position(|t| t.token == Token::RParen).map_or(tokens.len(), |i| i + 1);
            tokens = tokens.get(close..).unwrap_or_default();
        }
    }
    tokens
}

/// Whether an item is a block that its closing `}` ends: a test, or `fixture NAME { … }`
/// (`fixture` is a contextual word: a rule `fixture(x) :- …` is no block). In any other
/// item a `}` closes a set literal.
fn is_block(tokens: &[Spanned<'_>]) -> bool {
    matches!(
        without_annotations(tokens),
        [Spanned { token: Token::Test, .. }, ..]
            | [
                Spanned { token: Token::Ident("fixture"), .. },
                Spanned { token: Token::Ident(_), .. },
                Spanned { token: Token::LBrace, .. },
                ..
            ]
    )
}

/// Whether an item starting with `first` (annotations skipped) must end with `.`.
pub(crate) fn needs_dot(first: Option<&Token<'_>>) -> bool {
    matches!(
        first,
        Some(
            Token::Ident(_)
                | Token::To
                | Token::Allow
                | Token::Deny
                | Token::Escalate
                | Token::Obligation
                | Token::Risk
                | Token::At
        )
    )
}

/// Whether a token ends a line in a way that says the item continues on the next one.
fn continues(token: &Token<'_>) -> bool {
    token.is_operator()
        || matches!(
            token,
            Token::If
                | Token::Comma
                | Token::Not
                | Token::Colon
                | Token::LParen
                | Token::At
                | Token::Expect
                | Token::With
                | Token::Given
                | Token::Escalate
                | Token::To
                | Token::In
        )
}

fn at_line_start(text: &str, offset: u32) -> bool {
    offset == 0 || text.as_bytes().get(offset as usize - 1) == Some(&b'\n')
}

/// E0002 for an item that ends at `at` without its `.`. The fix is safe: the item is parsed
/// and checked as if this `.` were written.
pub(crate) fn missing_dot(at: Span) -> Diagnostic {
    Diagnostic::new(codes::MISSING_TERMINATOR, "missing `.` at the end of this rule", at)
        .with_primary_label("expected `.` here")
        .with_help("end every rule with `.`")
        .with_fix(Fix::replace("Add `.`", Applicability::Safe, at, "."))
}

/// Cuts `tokens` into items, reporting missing `.`s and too-deep nesting.
pub fn split(file: FileId, text: &str, tokens: &[Spanned<'_>], diagnostics: &mut Vec<Diagnostic>) -> Vec<Chunk> {
    split_region(file, text, tokens, diagnostics).0
}

/// [`split`], and whether the last item ended with its own `.` or `}` (rather than at
/// the end of the tokens): then the items after `tokens` are cut from a fresh start,
/// as an edit's re-split of the items it touched needs (`parser::reparse`).
pub(crate) fn split_region(
    file: FileId,
    text: &str,
    tokens: &[Spanned<'_>],
    diagnostics: &mut Vec<Diagnostic>,
) -> (Vec<Chunk>, bool) {
    let mut splitter = Splitter { file, tokens, diagnostics, chunks: Vec::new(), open: OpenItem::default() };
    for (i, spanned) in tokens.iter().enumerate() {
        if i > splitter.open.start {
            let previous = tokens.get(i - 1).map(|t| t.token);
            // A `package` or `use` path is one line: a keyword segment (`package given`)
            // does not carry it on to the next.
            let path_item =
                matches!(tokens.get(splitter.open.start).map(|t| t.token), Some(Token::Package | Token::Use));
            let fresh_line =
                at_line_start(text, spanned.start) && (path_item || !previous.as_ref().is_some_and(continues));
            // Inside parentheses, a keyword before `:` is a field's name (`type: Str`).
            let field_name = splitter.open.parens > 0 && tokens.get(i + 1).is_some_and(|t| t.token == Token::Colon);
            let keyword_start =
                spanned.token.starts_item() && !matches!(spanned.token, Token::Ident(_) | Token::To) && !field_name;
            let ident_start = matches!(spanned.token, Token::Ident(_) | Token::To)
                && (splitter.open.balanced() || (previous == Some(Token::Dot) && splitter.open.braces == 0));
            // `@overrides(x)` on its own line annotates the item on the next line.
            let annotating = splitter.open.prefix.complete();
            if fresh_line && (keyword_start || ident_start) && !annotating {
                splitter.close(i, false);
            }
        }
        let open = &mut splitter.open;
        open.prefix = open.prefix.step(&spanned.token);
        match spanned.token {
            Token::LParen => open.parens += 1,
            Token::RParen => open.parens = open.parens.saturating_sub(1),
            Token::LBrace => open.braces += 1,
            Token::RBrace => open.braces = open.braces.saturating_sub(1),
            Token::Plus | Token::Minus | Token::Star | Token::Slash => open.operators += 1,
            // No expression spans these, so no chain of operators continues past them.
            Token::Comma
            | Token::Colon
            | Token::If
            | Token::Dot
            | Token::Eq
            | Token::Ne
            | Token::Lt
            | Token::Le
            | Token::Gt
            | Token::Ge => {
                open.operators = 0;
            }
            _ => {}
        }
        open.deepest = open.deepest.max(open.parens + open.braces + open.operators);
        if open.deepest > MAX_NESTING && open.too_deep_at.is_none() {
            open.too_deep_at = Some(i);
        }
        let path_separator = spanned.token == Token::Dot && is_path_separator(tokens, i);
        let block_end = spanned.token == Token::RBrace && tokens.get(open.start..i).is_some_and(is_block);
        if ((spanned.token == Token::Dot && !path_separator) || block_end) && open.balanced() {
            splitter.close(i + 1, true);
        }
    }
    let terminated = splitter.open.start >= tokens.len();
    splitter.close(tokens.len(), false);
    (splitter.chunks, terminated)
}

/// How far the tokens of the open item read as annotations (`@name` or `@name(a, b)`),
/// tracked token by token so that the check stays linear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum AnnotationPrefix {
    /// No token yet.
    #[default]
    Empty,
    /// Just after `@`.
    At,
    /// Just after an annotation's name.
    Name,
    /// Inside its argument list.
    Args,
    /// Just after the `)` closing its arguments.
    Closed,
    /// Something other than annotations.
    Other,
}

impl AnnotationPrefix {
    /// The state after `token`.
    fn step(self, token: &Token<'_>) -> AnnotationPrefix {
        use AnnotationPrefix::*;
        match (self, token) {
            (Empty | Name | Closed, Token::At) => At,
            (At, Token::Ident(_)) => Name,
            (Name, Token::LParen) => Args,
            (Args, Token::Ident(_) | Token::To | Token::Comma) => Args,
            (Args, Token::RParen) => Closed,
            _ => Other,
        }
    }

    /// Whether the tokens so far are one or more complete annotations.
    fn complete(self) -> bool {
        matches!(self, AnnotationPrefix::Name | AnnotationPrefix::Closed)
    }
}

/// The tokens as the parser reads them: each `.` that joins two words it touches
/// ([`is_path_separator`]) becomes [`Token::Joint`], so that `str.lower(x)` is one dotted
/// name while the `.` ending an item stays [`Token::Dot`].
pub(crate) fn joined<'a, 's>(tokens: &'a [Spanned<'s>]) -> impl Iterator<Item = Spanned<'s>> + 'a {
    tokens.iter().enumerate().map(|(i, t)| {
        if t.token == Token::Dot && is_path_separator(tokens, i) { Spanned { token: Token::Joint, ..*t } } else { *t }
    })
}

/// Whether the `.` at index `i` joins two segments of a path (`std.approvals`): it touches
/// a word (identifier or keyword) on both sides.
fn is_path_separator(tokens: &[Spanned<'_>], i: usize) -> bool {
    let (Some(before), Some(dot), Some(after)) =
        (i.checked_sub(1).and_then(|j| tokens.get(j)), tokens.get(i), tokens.get(i + 1))
    else {
        return false;
    };
    // Keywords count as words: `use std.risk` names the module `std.risk`.
    let word = |t: &Token<'_>| {
        matches!(t, Token::Ident(_)) || t.keyword_text().is_some_and(|k| k.chars().all(|c| c.is_ascii_alphabetic()))
    };
    word(&before.token) && word(&after.token) && before.end == dot.start && dot.end == after.start
}

/// The item being read.
#[derive(Debug, Default)]
struct OpenItem {
    /// Index of its first token.
    start: usize,
    parens: usize,
    braces: usize,
    /// Arithmetic operators since the last token no expression can contain.
    operators: usize,
    deepest: usize,
    /// Index of the token that first went more than [`MAX_NESTING`] levels deep.
    too_deep_at: Option<usize>,
    /// Whether the item so far is only annotations.
    prefix: AnnotationPrefix,
}

impl OpenItem {
    fn balanced(&self) -> bool {
        self.parens == 0 && self.braces == 0
    }
}

struct Splitter<'a, 's> {
    file: FileId,
    tokens: &'a [Spanned<'s>],
    diagnostics: &'a mut Vec<Diagnostic>,
    chunks: Vec<Chunk>,
    open: OpenItem,
}

impl Splitter<'_, '_> {
    /// Ends the open item before token `end` and opens the next one there. `terminated`
    /// says the item ended with its own `.` or `}`.
    fn close(&mut self, end: usize, terminated: bool) {
        let open = std::mem::replace(&mut self.open, OpenItem { start: end, ..OpenItem::default() });
        let (Some(first), Some(last)) =
            (self.tokens.get(open.start), end.checked_sub(1).and_then(|i| self.tokens.get(i)))
        else {
            return;
        };
        if open.start >= end {
            return;
        }
        let too_deep = open.deepest > MAX_NESTING;
        let synthetic_dot = !terminated
            && open.balanced()
            && !too_deep
            && needs_dot(self.tokens.get(open.start..end).and_then(after_annotations));
        if synthetic_dot {
            self.diagnostics.push(missing_dot(Span::new(self.file, last.end, last.end)));
        }
        if too_deep {
            let at = open.too_deep_at.and_then(|i| self.tokens.get(i)).unwrap_or(first);
            self.diagnostics.push(
                Diagnostic::new(
                    codes::TOO_DEEP,
                    format!("this item nests more than {MAX_NESTING} levels deep"),
                    Span::new(self.file, at.start, at.end),
                )
                .with_primary_label(format!("level {} starts here", MAX_NESTING + 1))
                .with_help("split the expression with intermediate variables"),
            );
        }
        // `package a.b.` and `use std.x.`: the optional final `.` is not part of the path.
        let path_item = matches!(first.token, Token::Package | Token::Use);
        let end =
            if terminated && path_item && last.token == Token::Dot && end > open.start + 1 { end - 1 } else { end };
        self.chunks.push(Chunk { start: open.start, end, synthetic_dot, too_deep });
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::ItemKind;
    use gov_diag::FileId;

    /// A `}` ends a test block and a fixture, but only closes a set literal in a rule,
    /// even one whose relation is called `fixture`.
    #[test]
    fn a_brace_ends_tests_and_fixtures_only() {
        let text = "package p\n\
                    fixture(x) :- a(x), x in {1, 2}.\n\
                    fixture f {\n  given a(1).\n}\n\
                    test \"t\" uses f {\n  expect allow\n}\n";
        let parsed = crate::parse(FileId(0), text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let kinds: Vec<&str> = parsed
            .file
            .items
            .iter()
            .map(|item| match &item.kind {
                ItemKind::Package(_) => "package",
                ItemKind::Rule(_) => "rule",
                ItemKind::Fixture(_) => "fixture",
                ItemKind::Test(_) => "test",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["package", "rule", "fixture", "test"]);
    }
}
