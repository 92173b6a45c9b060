//! Semantic tokens: every token of a document classified, names by what they refer to.

use crate::analysis::Ctx;
use crate::index::{Role, Target, is_one_modifier};
use gov_check::RelationKind;
use gov_diag::LineIndex;
use gov_syntax::lexer::Token;
use gov_value::BaseType;
use tower_lsp_server::ls_types::{SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokensLegend};

const NAMESPACE: u32 = 0;
const TYPE: u32 = 1;
const RELATION: u32 = 2;
const RULE: u32 = 3;
const FIELD: u32 = 4;
const VARIABLE: u32 = 5;
const KEYWORD: u32 = 6;
const STRING: u32 = 7;
const NUMBER: u32 = 8;
const COMMENT: u32 = 9;
const OPERATOR: u32 = 10;
const DECORATOR: u32 = 11;

const DECLARATION: u32 = 1;
const DOCUMENTATION: u32 = 1 << 1;
const DEFAULT_LIBRARY: u32 = 1 << 2;

/// The token types and modifiers, in the order the numbers above index.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: vec![
            SemanticTokenType::NAMESPACE,
            SemanticTokenType::TYPE,
            SemanticTokenType::FUNCTION,
            SemanticTokenType::METHOD,
            SemanticTokenType::PROPERTY,
            SemanticTokenType::VARIABLE,
            SemanticTokenType::KEYWORD,
            SemanticTokenType::STRING,
            SemanticTokenType::NUMBER,
            SemanticTokenType::COMMENT,
            SemanticTokenType::OPERATOR,
            SemanticTokenType::DECORATOR,
        ],
        token_modifiers: vec![
            SemanticTokenModifier::DECLARATION,
            SemanticTokenModifier::DOCUMENTATION,
            SemanticTokenModifier::DEFAULT_LIBRARY,
        ],
    }
}

/// A classified byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Classified {
    start: u32,
    end: u32,
    kind: u32,
    modifiers: u32,
}

/// The semantic tokens of a document, delta-encoded.
pub fn tokens(ctx: &Ctx<'_>) -> Vec<SemanticToken> {
    let symbols = ctx.symbols();
    let Some(tokens) = ctx.tokens() else { return Vec::new() };
    let lexed = tokens.lexed();
    let mut out: Vec<Classified> = Vec::new();
    for comment in &lexed.comments {
        let modifiers = if comment.is_doc() { DOCUMENTATION } else { 0 };
        out.push(Classified { start: comment.span.start, end: comment.span.end, kind: COMMENT, modifiers });
    }
    let paths: Vec<gov_diag::Span> = ctx
        .index
        .occurrences
        .iter()
        .filter(|o| matches!(o.target, Target::Module(_) | Target::Package(_)))
        .map(|o| o.span)
        .collect();
    let mut occurrences = ctx.index.occurrences.iter().peekable();
    for (i, token) in lexed.tokens.iter().enumerate() {
        // Names: what the index says they are.
        while occurrences.next_if(|o| o.span.start < token.start).is_some() {}
        if let Some(o) = occurrences.peek().filter(|o| o.span.start == token.start)
            && !matches!(token.token, Token::Str(_))
        {
            let (kind, mut modifiers) = match &o.target {
                Target::Relation(name) => {
                    let library = symbols
                        .relation(name)
                        .is_some_and(|r| r.kind == RelationKind::Builtin || r.span.is_some_and(|s| ctx.in_library(s)));
                    (RELATION, if library { DEFAULT_LIBRARY } else { 0 })
                }
                Target::Field { .. } => (FIELD, 0),
                Target::Type(name) => (TYPE, if BaseType::from_name(name).is_some() { DEFAULT_LIBRARY } else { 0 }),
                Target::Decision(_) => (RULE, 0),
                Target::Variable { .. } => (VARIABLE, 0),
                Target::Module(_) | Target::Package(_) => (NAMESPACE, 0),
                Target::Annotation(_) => (DECORATOR, 0),
                Target::Aggregate(_) => (RELATION, DEFAULT_LIBRARY),
            };
            if o.role != Role::Reference && kind != VARIABLE {
                modifiers |= DECLARATION;
            }
            // Paths (`std.approvals`) are one occurrence over several tokens.
            let end = if matches!(o.target, Target::Module(_) | Target::Package(_)) { token.end } else { o.span.end };
            out.push(Classified { start: token.start, end, kind, modifiers });
            continue;
        }
        let kind = match token.token {
            Token::Str(_) => {
                // A message's `{var}`s are variables inside the string.
                let occurrences = &ctx.index.occurrences;
                let first = occurrences.partition_point(|o| o.span.start <= token.start);
                let inside = occurrences
                    .get(first..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|o| o.span.start < token.end)
                    .filter(|o| o.span.end < token.end)
                    .map(|o| (o.span.start, o.span.end));
                let mut at = token.start;
                for (start, end) in inside {
                    out.push(Classified { start: at, end: start, kind: STRING, modifiers: 0 });
                    out.push(Classified { start, end, kind: VARIABLE, modifiers: 0 });
                    at = end;
                }
                out.push(Classified { start: at, end: token.end, kind: STRING, modifiers: 0 });
                continue;
            }
            Token::Int(_) | Token::Decimal(_) | Token::Time(_) | Token::Duration(_) => NUMBER,
            Token::Ident(name) if BaseType::from_name(name).is_some() => TYPE,
            // The later segments of a path (`std.approvals`).
            Token::Ident(_) if paths.iter().any(|p| p.start < token.start && token.start < p.end) => NAMESPACE,
            Token::Ident(_) if is_one_modifier(&lexed.tokens, i) => KEYWORD,
            Token::Ident(_) | Token::Wildcard => continue,
            Token::If => OPERATOR,
            operator if operator.is_operator() => OPERATOR,
            Token::At => DECORATOR,
            Token::LParen
            | Token::RParen
            | Token::LBrace
            | Token::RBrace
            | Token::Comma
            | Token::Dot
            | Token::Colon => continue,
            _ => KEYWORD,
        };
        out.push(Classified { start: token.start, end: token.end, kind, modifiers: 0 });
    }
    out.retain(|c| c.start < c.end);
    out.sort_by_key(|c| c.start);
    encode(ctx, &out)
}

fn encode(ctx: &Ctx<'_>, classified: &[Classified]) -> Vec<SemanticToken> {
    let mut tokens = Vec::with_capacity(classified.len());
    let mut cursor = Cursor::new(&ctx.lines, ctx.text);
    let (mut line, mut column) = (0, 0);
    let mut last_end = 0;
    for c in classified {
        if c.start < last_end {
            continue; // never overlap
        }
        last_end = c.end;
        let (l, col) = cursor.advance(c.start);
        let (l2, col2) = cursor.advance(c.end);
        let length = if l2 == l { col2.saturating_sub(col) } else { continue };
        let delta_line = l.saturating_sub(line);
        let delta_start = if delta_line == 0 { col.saturating_sub(column) } else { col };
        tokens.push(SemanticToken {
            delta_line,
            length,
            delta_start,
            token_type: c.kind,
            token_modifiers_bitset: c.modifiers,
        });
        line = l;
        column = col;
    }
    tokens
}

/// Line and UTF-16 column of increasing offsets, in one forward pass over the text: each
/// position continues from the last one instead of searching the line index and counting
/// the line from its start again.
struct Cursor<'c> {
    lines: &'c LineIndex,
    text: &'c str,
    /// The 0-based line of `offset`.
    line: usize,
    /// The byte offset at which the line after `line` starts (`u32::MAX` on the last line).
    next_line: u32,
    /// The last offset asked.
    offset: u32,
    /// Its UTF-16 column.
    column: u32,
}

impl<'c> Cursor<'c> {
    fn new(lines: &'c LineIndex, text: &'c str) -> Cursor<'c> {
        Cursor { lines, text, line: 0, next_line: lines.line_start(1).unwrap_or(u32::MAX), offset: 0, column: 0 }
    }

    /// The position of `offset`, as `LineIndex::utf16_position` gives it.
    // Invariant: offsets asked are never smaller than the last one (`encode` asks starts
    // and ends of sorted, disjoint ranges); a smaller one falls back to the line index.
    fn advance(&mut self, offset: u32) -> (u32, u32) {
        let (lines, text) = (self.lines, self.text);
        let offset = offset.min(u32::try_from(text.len()).unwrap_or(u32::MAX));
        if offset < self.offset {
            return lines.utf16_position(text, offset);
        }
        if offset >= self.next_line {
            self.line = lines.line_of(offset);
            self.next_line = lines.line_start(self.line + 1).unwrap_or(u32::MAX);
            self.offset = lines.line_start(self.line).unwrap_or(0);
            self.column = 0;
        }
        match text.get(self.offset as usize..offset as usize) {
            Some(s) => {
                self.column += s.encode_utf16().count() as u32;
                self.offset = offset;
                (self.line as u32, self.column)
            }
            // Not at a character boundary: as the line index answers, and start again.
            None => {
                let position = lines.utf16_position(text, offset);
                *self = Cursor::new(lines, text);
                position
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cursor gives what the line index gives, for every offset in increasing order
    /// (character boundaries or not, past the end too), and for one asked out of order.
    #[test]
    fn cursor_positions_are_the_line_index_positions() {
        let text = "package p\n\nallow a :- x(\"é𝄞\"), y.\r\n# ç\nz";
        let lines = LineIndex::new(text);
        let mut cursor = Cursor::new(&lines, text);
        for offset in 0..=text.len() as u32 + 2 {
            assert_eq!(cursor.advance(offset), lines.utf16_position(text, offset), "offset {offset}");
        }
        assert_eq!(cursor.advance(3), lines.utf16_position(text, 3));
        let mut cursor = Cursor::new(&lines, text);
        for offset in [0, 12, 12, 30, 37, 38, 45] {
            assert_eq!(cursor.advance(offset), lines.utf16_position(text, offset), "offset {offset}");
        }
    }
}
