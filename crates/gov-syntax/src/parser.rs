//! Parsing a file: lex, split into items, parse each item, attach doc comments.

use crate::ast::{ErrorItem, Item, ItemKind, Salvaged, SourceFile};
use crate::grammar::ItemParser;
use crate::lexer::{Comment, Spanned, Token, lex};
use crate::split::{Chunk, split};
use crate::suggest::did_you_mean;
use gov_diag::{Diagnostic, FileId, Span, codes};
use lalrpop_util::ParseError;

/// A parsed file: its tree, its comments and the problems found on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The syntax tree (items that failed to parse are [`ItemKind::Error`]).
    pub file: SourceFile,
    /// Comments not attached to an item as its doc comment, in order.
    pub comments: Vec<Comment>,
    /// Lexical and syntax errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Keywords an item can start with, for "did you mean" on a misspelt one.
const ITEM_KEYWORDS: [&str; 12] =
    ["package", "use", "default", "type", "input", "data", "allow", "deny", "escalate", "obligation", "risk", "test"];

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> Parsed {
    let lexed = lex(file, text);
    let mut diagnostics = lexed.diagnostics;
    let chunks = split(file, text, &lexed.tokens, &mut diagnostics);
    let mut comments = lexed.comments;
    let parser = ItemParser::new();
    let mut items = Vec::with_capacity(chunks.len());
    let mut previous_end = 0;
    for chunk in &chunks {
        let tokens = lexed.tokens.get(chunk.start..chunk.end).unwrap_or_default();
        let Some(first) = tokens.first() else { continue };
        let docs = take_docs(text, &mut comments, previous_end, first.start);
        previous_end = tokens.last().map_or(first.end, |t| t.end);
        let mut item = parse_chunk(&parser, file, text, chunk, tokens, &mut diagnostics);
        item.docs = docs;
        items.push(item);
    }
    diagnostics.sort_by_key(|d| d.primary.span.start);
    Parsed { file: SourceFile { items }, comments, diagnostics }
}

fn parse_chunk(parser: &ItemParser, file: FileId, text: &str, chunk: &Chunk, tokens: &[Spanned<'_>], diagnostics: &mut Vec<Diagnostic>) -> Item {
    let span = match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => Span::new(file, first.start, last.end),
        _ => Span::new(file, 0, 0),
    };
    let error_item = |tokens: &[Spanned<'_>]| Item {
        docs: Vec::new(),
        annotations: Vec::new(),
        kind: ItemKind::Error(ErrorItem { salvaged: salvage(file, tokens) }),
        span,
    };
    if chunk.too_deep {
        return error_item(tokens);
    }
    let dot = chunk.synthetic_dot.then_some(Spanned { token: Token::Dot, start: span.end, end: span.end });
    let stream = tokens.iter().copied().chain(dot).map(|t| Ok((t.start, t.token, t.end)));
    let mut errors = Vec::new();
    let result = parser.parse(file, &mut errors, stream);
    diagnostics.append(&mut errors);
    match result {
        Ok(item) => item,
        Err(error) => {
            diagnostics.push(syntax_error(file, text, tokens, span, error));
            error_item(tokens)
        }
    }
}

/// Moves the `///` comments that directly precede offset `item_start` (after
/// `after`) out of `comments` and returns their text.
fn take_docs(text: &str, comments: &mut Vec<Comment>, after: u32, item_start: u32) -> Vec<String> {
    let mut first = comments.partition_point(|c| c.span.start < item_start);
    let end = first;
    let mut gap_end = item_start;
    while first > 0 {
        let Some(comment) = comments.get(first - 1) else { break };
        let gap = text.get(comment.span.end as usize..gap_end as usize).unwrap_or("x");
        if comment.span.start < after || !comment.is_doc() || !gap.trim().is_empty() {
            break;
        }
        gap_end = comment.span.start;
        first -= 1;
    }
    comments
        .drain(first..end)
        .map(|c| {
            let body = c.text.strip_prefix("///").unwrap_or(&c.text);
            body.strip_prefix(' ').unwrap_or(body).to_owned()
        })
        .collect()
}

/// The name a broken item was about to define, read off its first tokens.
fn salvage(file: FileId, tokens: &[Spanned<'_>]) -> Option<Salvaged> {
    // Skip annotations: `@name` optionally followed by a parenthesised list.
    let mut rest = tokens;
    while let [Spanned { token: Token::At, .. }, _, tail @ ..] = rest {
        rest = tail;
        if let [Spanned { token: Token::LParen, .. }, ..] = rest {
            let close = rest.iter().position(|t| t.token == Token::RParen).map_or(rest.len(), |i| i + 1);
            rest = rest.get(close..).unwrap_or_default();
        }
    }
    let name = |t: &Spanned<'_>, s: &str| crate::ast::Name { text: s.to_owned(), span: Span::new(file, t.start, t.end) };
    match rest {
        [Spanned { token: Token::Input | Token::Data, .. }, t @ Spanned { token: Token::Ident(s), .. }, ..] => Some(Salvaged::Relation(name(t, s))),
        [Spanned { token: Token::Type, .. }, t @ Spanned { token: Token::Ident(s), .. }, ..] => Some(Salvaged::Type(name(t, s))),
        [Spanned { token: Token::Allow | Token::Deny | Token::Escalate | Token::Obligation | Token::Risk, .. }, t @ Spanned { token: Token::Ident(s), .. }, ..] => {
            Some(Salvaged::Rule(name(t, s)))
        }
        [t @ Spanned { token: Token::Ident(s), .. }, Spanned { token: Token::LParen, .. }, ..] => Some(Salvaged::Relation(name(t, s))),
        [Spanned { token: Token::Test, .. }, Spanned { token: Token::Str(s), .. }, ..] => Some(Salvaged::Test(s.trim_matches('"').to_owned())),
        _ => None,
    }
}

/// Turns a parser error into one diagnostic.
fn syntax_error(file: FileId, text: &str, tokens: &[Spanned<'_>], item: Span, error: ParseError<u32, Token<'_>, Diagnostic>) -> Diagnostic {
    match error {
        ParseError::User { error } => error,
        ParseError::UnrecognizedEof { location, expected } => {
            let span = Span::new(file, location, location);
            Diagnostic::new(codes::SYNTAX, format!("this item ends too early: expected {}", describe_expected(&expected)), span)
                .with_primary_label("the item ends here")
                .with_label(item, "in this item")
        }
        ParseError::UnrecognizedToken { token: (l, token, r), expected } => {
            let span = Span::new(file, l, r);
            let mut diagnostic = Diagnostic::new(
                codes::SYNTAX,
                format!("expected {}, found {}", describe_expected(&expected), token.describe()),
                span,
            )
            .with_primary_label("unexpected here");
            // `deni foo :- …`: a misspelt keyword reads as a relation name followed by junk.
            if let [Spanned { token: Token::Ident(word), start, end }, second, ..] = tokens
                && second.start == l
                && let Some(help) = did_you_mean(word, ITEM_KEYWORDS)
            {
                diagnostic = diagnostic.with_label(Span::new(file, *start, *end), "read as a relation name").with_help(help);
            } else if expected.iter().any(|e| e == "\",\"") && expected.iter().any(|e| e == "\".\"") {
                diagnostic = diagnostic.with_help("separate conditions with `,` and end the rule with `.`");
            }
            let _ = text;
            diagnostic
        }
        ParseError::ExtraToken { token: (l, token, r) } => {
            Diagnostic::new(codes::SYNTAX, format!("unexpected {}", token.describe()), Span::new(file, l, r)).with_primary_label("not expected here")
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::new(codes::SYNTAX, "invalid token", Span::new(file, location, location))
        }
    }
}

/// "`(`, `,` or a name" from lalrpop's quoted terminal names.
fn describe_expected(expected: &[String]) -> String {
    let mut names: Vec<String> = expected
        .iter()
        .map(|e| {
            let bare = e.trim_matches('"');
            match bare {
                "identifier" => "a name".to_owned(),
                "integer" | "decimal" | "string" | "time" | "duration" => format!("a {bare}"),
                other => format!("`{other}`"),
            }
        })
        .collect();
    names.dedup();
    match names.as_slice() {
        [] => "nothing more".to_owned(),
        [one] => one.clone(),
        many if many.len() > 6 => format!("one of {} and more", many.get(..6).unwrap_or_default().join(", ")),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
