//! Cutting a token stream into items, and recovering from a missing `.`.
//!
//! Every item is parsed on its own, so a syntax error costs exactly one item. An item ends
//! at a `.` outside parentheses and braces, at the `}` closing a test block, or just before
//! a token that can only start a new item and sits at the very start of a line (column 1).
//! In the last case an item that needed a `.` gets one synthesised and an E0002 report.

use crate::lexer::{Spanned, Token};
use gov_diag::{Diagnostic, FileId, Span, codes};

/// How deep parentheses and braces may nest before an item is rejected; deeper input
/// would only be hostile, and the limit keeps every later recursive pass shallow.
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

/// Whether an item starting with `first` must end with `.`.
fn needs_dot(first: Option<&Token<'_>>) -> bool {
    matches!(
        first,
        Some(Token::Ident(_) | Token::Allow | Token::Deny | Token::Escalate | Token::Obligation | Token::Risk | Token::At)
    )
}

/// Whether a token ends a line in a way that says the item continues on the next one.
fn continues(token: &Token<'_>) -> bool {
    matches!(
        token,
        Token::If
            | Token::Comma
            | Token::Eq
            | Token::Ne
            | Token::Lt
            | Token::Le
            | Token::Gt
            | Token::Ge
            | Token::Plus
            | Token::Minus
            | Token::Star
            | Token::Slash
            | Token::Not
            | Token::Colon
            | Token::LParen
            | Token::At
            | Token::Expect
            | Token::With
            | Token::Given
            | Token::Escalate
            | Token::To
    )
}

fn at_line_start(text: &str, offset: u32) -> bool {
    offset == 0 || text.as_bytes().get(offset as usize - 1) == Some(&b'\n')
}

/// Cuts `tokens` into items, reporting missing `.`s and too-deep nesting.
pub fn split(file: FileId, text: &str, tokens: &[Spanned<'_>], diagnostics: &mut Vec<Diagnostic>) -> Vec<Chunk> {
    let mut splitter = Splitter { file, tokens, diagnostics, chunks: Vec::new(), open: OpenItem::default() };
    for (i, spanned) in tokens.iter().enumerate() {
        if i > splitter.open.start {
            let previous = tokens.get(i - 1).map(|t| t.token);
            let fresh_line = at_line_start(text, spanned.start) && !previous.as_ref().is_some_and(continues);
            let keyword_start = spanned.token.starts_item() && !matches!(spanned.token, Token::Ident(_));
            let ident_start = matches!(spanned.token, Token::Ident(_))
                && (splitter.open.balanced() || previous == Some(Token::Dot));
            if fresh_line && (keyword_start || ident_start) {
                splitter.close(i, false);
            }
        }
        let open = &mut splitter.open;
        match spanned.token {
            Token::LParen => open.parens += 1,
            Token::RParen => open.parens = open.parens.saturating_sub(1),
            Token::LBrace => open.braces += 1,
            Token::RBrace => open.braces = open.braces.saturating_sub(1),
            _ => {}
        }
        open.deepest = open.deepest.max(open.parens + open.braces);
        let path_separator = spanned.token == Token::Dot && is_path_separator(tokens, i);
        if matches!(spanned.token, Token::Dot | Token::RBrace) && open.balanced() && !path_separator {
            splitter.close(i + 1, true);
        }
    }
    splitter.close(tokens.len(), false);
    splitter.chunks
}

/// Whether the `.` at index `i` joins two segments of a path (`std.approvals`): it touches
/// an identifier on both sides.
fn is_path_separator(tokens: &[Spanned<'_>], i: usize) -> bool {
    let (Some(before), Some(dot), Some(after)) = (i.checked_sub(1).and_then(|j| tokens.get(j)), tokens.get(i), tokens.get(i + 1)) else {
        return false;
    };
    matches!(before.token, Token::Ident(_)) && matches!(after.token, Token::Ident(_)) && before.end == dot.start && dot.end == after.start
}

/// The item being read.
#[derive(Debug, Default)]
struct OpenItem {
    /// Index of its first token.
    start: usize,
    parens: usize,
    braces: usize,
    deepest: usize,
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
        let (Some(first), Some(last)) = (self.tokens.get(open.start), end.checked_sub(1).and_then(|i| self.tokens.get(i))) else {
            return;
        };
        if open.start >= end {
            return;
        }
        let too_deep = open.deepest > MAX_NESTING;
        let synthetic_dot = !terminated && open.balanced() && !too_deep && needs_dot(Some(&first.token));
        if synthetic_dot {
            self.diagnostics.push(
                Diagnostic::new(codes::MISSING_TERMINATOR, "missing `.` at the end of this rule", Span::new(self.file, last.end, last.end))
                    .with_primary_label("expected `.` here")
                    .with_help("end every rule with `.`"),
            );
        }
        if too_deep {
            self.diagnostics.push(
                Diagnostic::new(codes::TOO_DEEP, format!("this item nests more than {MAX_NESTING} levels deep"), Span::new(self.file, first.start, last.end))
                    .with_primary_label("too deeply nested")
                    .with_help("split the expression with intermediate variables"),
            );
        }
        self.chunks.push(Chunk { start: open.start, end, synthetic_dot, too_deep });
    }
}
