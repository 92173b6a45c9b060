//! Semantic tokens: every token of a document classified, names by what they refer to.

use crate::analysis::Ctx;
use crate::index::{Role, Target, is_one_modifier};
use gov_check::RelationKind;
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
                let inside: Vec<(u32, u32)> = occurrences
                    .get(first..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|o| o.span.start < token.end)
                    .filter(|o| o.span.end < token.end)
                    .map(|o| (o.span.start, o.span.end))
                    .collect();
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
    let (mut line, mut column) = (0, 0);
    let mut last_end = 0;
    for c in classified {
        if c.start < last_end {
            continue; // never overlap
        }
        last_end = c.end;
        let (l, col) = ctx.lines.utf16_position(ctx.text, c.start);
        let (l2, col2) = ctx.lines.utf16_position(ctx.text, c.end);
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
