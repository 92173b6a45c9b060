//! Completion, by what the tokens before the cursor say is expected there.

use crate::analysis::Ctx;
use crate::hover::signature;
use crate::index::fuzzy;
use gov_builtins::{Builtin, Output};
use gov_check::{RelationInfo, RelationKind};
use gov_db::STDLIB;
use gov_diag::Span;
use gov_syntax::ast::{Atom, Effect, Expr, ItemKind};
use gov_syntax::lexer::{Spanned, Token};
use gov_syntax::split::Chunk;
use gov_value::BaseType;
use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, InsertTextFormat, MarkupContent, MarkupKind,
    Position, TextEdit,
};

/// Keywords an item can start with.
const ITEM_KEYWORDS: [&str; 12] =
    ["package", "use", "default", "type", "input", "data", "allow", "deny", "escalate", "obligation", "risk", "test"];

/// What is expected at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expected {
    /// A module after `use`; the replaced text starts at the byte offset.
    Module(u32),
    /// A decision rule name (of one effect, if known).
    Rule(Option<Effect>),
    /// What follows `expect`.
    Expectation,
    /// A type.
    Type,
    /// `one`, or the relation's name, right after `input`.
    RelationModifier,
    /// An argument of an atom of relation `relation`.
    Argument(String),
    /// A condition of a body: relations, `not`, aggregates, variables.
    Condition,
    /// A fact of a test's `given`.
    Fact,
    /// The start of an item.
    ItemStart,
    /// A value: variables (after `field:` or an operator).
    Value,
    /// Nothing sensible (a field name being declared, inside a string).
    Nothing,
}

/// How many names of one kind (relations, decision rules) a completion lists at most. A
/// package with more gets those the word typed so far matches, up to this many, in a list
/// marked incomplete, so the client asks again as the word grows.
pub const MAX_NAMES: usize = 500;

/// What a completion request answers.
#[derive(Debug, Default)]
pub struct Completions {
    /// The items.
    pub items: Vec<CompletionItem>,
    /// Whether names were left out (see [`MAX_NAMES`]).
    pub incomplete: bool,
}

/// The completions at `position`.
pub fn complete(ctx: &Ctx<'_>, position: Position, snippets: bool) -> Completions {
    let offset = ctx.offset(position);
    let before = ctx.text.get(..offset as usize).unwrap_or_default();
    let word_len =
        before.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').map(char::len_utf8).sum::<usize>();
    let word_start = offset.saturating_sub(u32::try_from(word_len).unwrap_or(0));
    let word = ctx.text.get(word_start as usize..offset as usize).unwrap_or_default();
    let Some(file_tokens) = ctx.tokens() else { return Completions::default() };
    let lexed = file_tokens.lexed();
    // Tokens and comments are sorted and disjoint: those before a point are a prefix.
    let tokens = lexed.tokens.get(..lexed.tokens.partition_point(|t| t.end <= word_start)).unwrap_or_default();
    let next_token = lexed.tokens.get(lexed.tokens.partition_point(|t| t.end <= offset));
    let next_comment = lexed.comments.get(lexed.comments.partition_point(|c| c.span.end < offset));
    // Inside a string or a comment: nothing.
    if next_token.is_some_and(|t| matches!(t.token, Token::Str(_)) && t.start < offset)
        || next_comment.is_some_and(|c| c.span.start < offset)
    {
        return Completions::default();
    }
    // After `family.`: that family's built-ins (the `.` would otherwise end the item).
    if let Some(family) = builtin_family(ctx.text.get(..word_start as usize).unwrap_or_default()) {
        let items = Builtin::ALL
            .iter()
            .filter_map(|b| Some((b.name().strip_prefix(family)?.strip_prefix('.')?, b)))
            .map(|(rest, b)| builtin_item(rest, *b))
            .collect();
        return Completions { items, incomplete: false };
    }
    let item = current_item(ctx.text, tokens, file_tokens.chunks());
    let expected = expected(item, word_start, ctx.text);
    let mut items = Vec::new();
    let mut incomplete = false;
    let symbols = ctx.symbols();
    match &expected {
        Expected::Module(start) => {
            let range = ctx.range(gov_diag::Span::new(ctx.file, *start, offset));
            for module in STDLIB {
                items.push(CompletionItem {
                    label: module.name.to_owned(),
                    kind: Some(CompletionItemKind::MODULE),
                    detail: Some("standard-library module".to_owned()),
                    text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: module.name.to_owned() })),
                    ..CompletionItem::default()
                });
            }
        }
        Expected::Rule(effect) => {
            let rules = symbols.decisions.iter().filter(|d| effect.is_none_or(|e| e == d.effect)).collect();
            let (rules, cut) = bounded(rules, |d| &d.name, word);
            incomplete |= cut;
            for rule in rules {
                items.push(CompletionItem {
                    label: rule.name.to_string(),
                    kind: Some(CompletionItemKind::EVENT),
                    detail: Some(format!("{} rule", rule.effect.keyword())),
                    documentation: docs(&rule.docs),
                    ..CompletionItem::default()
                });
            }
        }
        Expected::Expectation => {
            for word in ["deny", "allow", "escalate", "obligation", "risk", "error"] {
                items.push(keyword(word));
            }
        }
        Expected::Type => {
            for base in BaseType::ALL {
                items.push(CompletionItem {
                    label: base.name().to_owned(),
                    kind: Some(CompletionItemKind::TYPE_PARAMETER),
                    detail: Some("built-in type".to_owned()),
                    ..CompletionItem::default()
                });
            }
            for alias in &symbols.types {
                let detail = alias.base.map(|b| format!("type {} = {}", alias.name, b.name()));
                items.push(CompletionItem {
                    label: alias.name.to_string(),
                    kind: Some(CompletionItemKind::TYPE_PARAMETER),
                    detail,
                    documentation: docs(&alias.docs),
                    ..CompletionItem::default()
                });
            }
        }
        Expected::Argument(relation) => {
            if let Some(info) = symbols.relation(relation).filter(|r| r.kind != RelationKind::Derived) {
                for field in info.fields.iter().filter_map(|f| f.name.as_ref().map(|n| (n, f.ty))) {
                    let ty = field.1.map(|t| symbols.type_name(t)).unwrap_or_default();
                    items.push(CompletionItem {
                        label: field.0.to_string(),
                        kind: Some(CompletionItemKind::FIELD),
                        detail: Some(format!("{relation}.{}: {ty}", field.0)),
                        insert_text: Some(format!("{}: ", field.0)),
                        ..CompletionItem::default()
                    });
                }
            }
            items.extend(variables(item, word_start));
        }
        Expected::Value => {
            items.extend(variables(item, word_start));
            items.extend(builtins(|output| !matches!(output, Output::Test)));
        }
        Expected::Condition => {
            items.extend(relations(ctx, snippets, word, &mut incomplete, |_| true));
            items.extend(builtins(|_| true));
            items.push(keyword("not"));
            for (name, snippet) in [
                ("count", "count(${1:x} : ${2})"),
                ("sum", "sum(${1:x} : ${2})"),
                ("min", "min(${1:x} : ${2})"),
                ("max", "max(${1:x} : ${2})"),
            ] {
                items.push(snippet_item(name, snippet, CompletionItemKind::FUNCTION, "aggregate", snippets));
            }
            items.extend(variables(item, word_start));
        }
        Expected::Fact => items.extend(relations(ctx, snippets, word, &mut incomplete, |r| {
            matches!(r.kind, RelationKind::Input | RelationKind::Data)
        })),
        Expected::ItemStart => {
            items.extend(ITEM_KEYWORDS.iter().map(|w| keyword(w)));
            // Rule heads: the package's own derived relations.
            items.extend(relations(ctx, snippets, word, &mut incomplete, |r| {
                r.kind == RelationKind::Derived && !r.span.is_some_and(|s| ctx.in_library(s))
            }));
        }
        Expected::RelationModifier => {
            items.push(CompletionItem { detail: Some("exactly one fact per request".to_owned()), ..keyword("one") })
        }
        Expected::Nothing => {}
    }
    Completions { items, incomplete }
}

/// The family a built-in's name is being completed in: `str` for text ending in `str.`.
fn builtin_family(before: &str) -> Option<&str> {
    let before = before.strip_suffix('.')?;
    let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).map_or(0, |i| i + 1);
    let family = before.get(start..)?;
    Builtin::ALL.iter().any(|b| b.name().strip_prefix(family).is_some_and(|r| r.starts_with('.'))).then_some(family)
}

/// The built-ins whose output `fits`, by their full names.
fn builtins(fits: impl Fn(Output) -> bool) -> impl Iterator<Item = CompletionItem> {
    Builtin::ALL.iter().filter(move |b| fits(b.signature().output)).map(|b| builtin_item(b.name(), *b))
}

/// A completion of a built-in, labelled `label`, with its signature.
fn builtin_item(label: &str, builtin: Builtin) -> CompletionItem {
    CompletionItem {
        label: label.to_owned(),
        kind: Some(CompletionItemKind::FUNCTION),
        detail: Some(builtin.synopsis()),
        ..CompletionItem::default()
    }
}

/// The candidates to list: all while there are at most [`MAX_NAMES`], else the first
/// [`MAX_NAMES`] whose name `word` fuzzily matches; and whether any were left out.
fn bounded<T>(candidates: Vec<T>, name: impl Fn(&T) -> &str, word: &str) -> (Vec<T>, bool) {
    if candidates.len() <= MAX_NAMES {
        return (candidates, false);
    }
    (candidates.into_iter().filter(|c| fuzzy(word, name(c))).take(MAX_NAMES).collect(), true)
}

fn docs(lines: &[String]) -> Option<Documentation> {
    (!lines.is_empty())
        .then(|| Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: lines.join("\n") }))
}

fn keyword(word: &str) -> CompletionItem {
    CompletionItem { label: word.to_owned(), kind: Some(CompletionItemKind::KEYWORD), ..CompletionItem::default() }
}

fn snippet_item(label: &str, snippet: &str, kind: CompletionItemKind, detail: &str, snippets: bool) -> CompletionItem {
    CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        detail: Some(detail.to_owned()),
        insert_text: snippets.then(|| snippet.to_owned()),
        insert_text_format: snippets.then_some(InsertTextFormat::SNIPPET),
        ..CompletionItem::default()
    }
}

/// The package's relations matching `keep`, with a snippet of their arguments (bounded
/// by the word typed so far; `incomplete` is set if some were left out).
fn relations(
    ctx: &Ctx<'_>,
    snippets: bool,
    word: &str,
    incomplete: &mut bool,
    keep: impl Fn(&RelationInfo) -> bool,
) -> Vec<CompletionItem> {
    let symbols = ctx.symbols();
    let kept = symbols.relations.iter().filter(|r| !r.poisoned && keep(r)).collect();
    let (kept, cut) = bounded(kept, |r| &r.name, word);
    *incomplete |= cut;
    kept.into_iter()
        .map(|r| {
            let names = argument_names(r, r.span.and_then(|s| head_at(ctx, s)));
            let placeholders: Vec<String> =
                names.iter().enumerate().map(|(i, n)| format!("${{{}:{n}}}", i + 1)).collect();
            let mut item = snippet_item(
                &r.name,
                &format!("{}({})", r.name, placeholders.join(", ")),
                CompletionItemKind::FUNCTION,
                &signature(ctx, r),
                snippets,
            );
            item.documentation = docs(&r.docs);
            // The package's own relations first, then the library's, then built-ins.
            let rank = match r.kind {
                RelationKind::Builtin => 2,
                _ if r.span.is_some_and(|s| ctx.in_library(s)) => 1,
                _ => 0,
            };
            item.sort_text = Some(format!("{rank}{}", r.name));
            item
        })
        .collect()
}

/// The head of the rule whose head's relation name is at `span` (items are in source
/// order, so the item is found by a binary search).
fn head_at<'c>(ctx: &'c Ctx<'_>, span: Span) -> Option<&'c Atom> {
    let items = &ctx.program.files.iter().find(|f| f.id == span.file)?.parsed.file.items;
    let item = items.get(items.partition_point(|i| i.span.start <= span.start).checked_sub(1)?)?;
    match &item.kind {
        ItemKind::Rule(rule) if rule.head.relation.span == span => Some(&rule.head),
        _ => None,
    }
}

/// Names for a relation's arguments: its fields, or the variables of its first rule's head.
fn argument_names(relation: &RelationInfo, head: Option<&Atom>) -> Vec<String> {
    let from_head = |i: usize| match head.and_then(|h| h.args.get(i)).map(|a| &a.value) {
        Some(Expr::Var(v)) => Some(v.text.to_string()),
        _ => None,
    };
    relation
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.name.as_ref().map(ToString::to_string).or_else(|| from_head(i)).unwrap_or_else(|| format!("arg{}", i + 1))
        })
        .collect()
}

/// The variables already written in the current item.
fn variables(item: &[Spanned<'_>], word_start: u32) -> Vec<CompletionItem> {
    let mut names: Vec<String> = Vec::new();
    for (i, token) in item.iter().enumerate() {
        let Token::Ident(name) = token.token else { continue };
        let next = item.get(i + 1).map(|t| t.token);
        let prev = i.checked_sub(1).and_then(|p| item.get(p)).map(|t| t.token);
        let is_name = matches!(next, Some(Token::LParen | Token::Colon))
            || matches!(
                prev,
                Some(Token::At | Token::Allow | Token::Deny | Token::Escalate | Token::Obligation | Token::Risk)
            );
        let is_keyword_like = BaseType::from_name(name).is_some() || name.starts_with(char::is_uppercase);
        if !is_name && !is_keyword_like && token.start < word_start && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
        .into_iter()
        .map(|name| CompletionItem {
            label: name,
            kind: Some(CompletionItemKind::VARIABLE),
            ..CompletionItem::default()
        })
        .collect()
}

/// The tokens of the item the cursor is in, up to the cursor: `tokens` are the file's
/// tokens before the cursor's word, `chunks` the file's items.
fn current_item<'t, 's>(text: &str, tokens: &'t [Spanned<'s>], chunks: &[Chunk]) -> &'t [Spanned<'s>] {
    // The splitter reads left to right and looks one token ahead at most, so the item that
    // holds the last token before the cursor starts where the whole file's split says:
    // only the tokens from there on are split again, up to the cursor.
    let first = tokens.len().checked_sub(1).map_or(0, |last| {
        let k = chunks.partition_point(|c| c.start <= last);
        k.checked_sub(1).and_then(|k| chunks.get(k)).map_or(0, |c| c.start)
    });
    let tokens = tokens.get(first..).unwrap_or_default();
    let mut diagnostics = Vec::new();
    let chunks = gov_syntax::split::split(gov_diag::FileId(0), text, tokens, &mut diagnostics);
    let Some(last) = chunks.last() else { return &[] };
    let item = tokens.get(last.start..last.end).unwrap_or_default();
    // A `.` or a `}` that closed the item: the cursor is after it, at a new item.
    match item.last().map(|t| t.token) {
        Some(Token::Dot) if !is_path_item(item) => &[],
        Some(Token::RBrace)
            if item.iter().filter(|t| t.token == Token::LBrace).count()
                <= item.iter().filter(|t| t.token == Token::RBrace).count() =>
        {
            &[]
        }
        _ => item,
    }
}

fn is_path_item(item: &[Spanned<'_>]) -> bool {
    matches!(item.first().map(|t| t.token), Some(Token::Use | Token::Package)) && item.len() > 1
}

fn expected(item: &[Spanned<'_>], word_start: u32, text: &str) -> Expected {
    let Some(first) = item.first() else { return Expected::ItemStart };
    // A new line at column 1 starts a new item, unless the item visibly continues.
    let line_start = text.get(..word_start as usize).is_some_and(|b| b.is_empty() || b.ends_with('\n'));
    let last = item.last().map(|t| t.token);
    if line_start
        && !matches!(last, Some(Token::If | Token::Comma | Token::LParen | Token::Not | Token::Colon))
        && !item.iter().any(|t| t.token == Token::LBrace)
    {
        return Expected::ItemStart;
    }
    match first.token {
        Token::Use => return Expected::Module(item.get(1).map_or(word_start, |t| t.start)),
        Token::Package => return Expected::Nothing,
        Token::Type => {
            return if item.iter().any(|t| t.token == Token::Eq) { Expected::Type } else { Expected::Nothing };
        }
        Token::Input if item.len() == 1 => return Expected::RelationModifier,
        Token::Input | Token::Data => {
            return if last == Some(Token::Colon) { Expected::Type } else { Expected::Nothing };
        }
        _ => {}
    }
    // `@overrides(` without its `)`.
    if let Some(at) = item.iter().rposition(|t| t.token == Token::At)
        && item.get(at + 2).is_some_and(|t| t.token == Token::LParen)
        && !item.iter().skip(at).any(|t| t.token == Token::RParen)
    {
        return Expected::Rule(None);
    }
    // In a test: after `expect`, after `given`.
    if first.token == Token::Test {
        let statement =
            item.iter().rposition(|t| matches!(t.token, Token::Expect | Token::Given | Token::With | Token::LBrace));
        let rest = statement.and_then(|i| item.get(i + 1..)).unwrap_or_default();
        return match statement.and_then(|i| item.get(i)).map(|t| t.token) {
            Some(Token::Expect) => match rest.first().map(|t| t.token) {
                None => Expected::Expectation,
                Some(Token::Deny) => Expected::Rule(Some(Effect::Deny)),
                Some(Token::Allow) => Expected::Rule(Some(Effect::Allow)),
                Some(Token::Escalate) if !rest.iter().any(|t| t.token == Token::To) => {
                    Expected::Rule(Some(Effect::Escalate))
                }
                Some(Token::Obligation) => Expected::Rule(Some(Effect::Obligation)),
                _ => Expected::Nothing,
            },
            Some(Token::Given) => match last {
                Some(Token::Given | Token::Dot) => Expected::Fact,
                _ if open_paren(item).is_some() => Expected::Nothing,
                _ => Expected::Fact,
            },
            Some(Token::LBrace) => Expected::Nothing,
            _ => Expected::Nothing,
        };
    }
    match open_paren(item) {
        Some(Open::Atom(relation)) => {
            return match last {
                Some(Token::LParen | Token::Comma) => Expected::Argument(relation),
                _ => Expected::Value,
            };
        }
        Some(Open::Aggregate { body: true }) if matches!(last, Some(Token::Colon | Token::Comma | Token::Not)) => {
            return Expected::Condition;
        }
        Some(Open::Aggregate { body: false }) => return Expected::Value,
        _ => {}
    }
    let in_body = item.iter().any(|t| t.token == Token::If);
    match last {
        Some(Token::If | Token::Comma | Token::Not) if in_body => Expected::Condition,
        Some(operator) if operator.is_operator() => Expected::Value,
        _ if !in_body && matches!(first.token, Token::Ident(_)) && item.len() == 1 => Expected::ItemStart,
        _ => Expected::Nothing,
    }
}

/// The innermost `(` still open at the end of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    /// The argument list of an atom of this relation.
    Atom(String),
    /// An aggregate; `body` once its `:` is written.
    Aggregate { body: bool },
    /// Anything else (grouping parentheses).
    Other,
}

fn open_paren(item: &[Spanned<'_>]) -> Option<Open> {
    let mut depth = 0usize;
    for (i, token) in item.iter().enumerate().rev() {
        match token.token {
            Token::RParen => depth += 1,
            Token::LParen if depth > 0 => depth -= 1,
            Token::LParen => {
                let rest = item.get(i + 1..).unwrap_or_default();
                return Some(match i.checked_sub(1).and_then(|p| item.get(p)).map(|t| t.token) {
                    Some(Token::Ident("count" | "sum" | "min" | "max")) => {
                        Open::Aggregate { body: rest.iter().any(|t| t.token == Token::Colon) }
                    }
                    Some(Token::Ident(name)) => Open::Atom(name.to_owned()),
                    Some(Token::To) => Open::Atom("to".to_owned()),
                    _ => Open::Other,
                });
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::current_item;
    use gov_db::FileTokens;
    use gov_diag::FileId;

    /// Splitting from the start of the file's item at the cursor gives the item that
    /// splitting everything before the cursor gives, at every offset of real policies
    /// (paths, annotations, tests, multi-line rules) and of a broken one.
    #[test]
    fn the_item_at_the_cursor_is_found_from_the_files_items() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
        let mut texts: Vec<String> = ["examples/payments/payments.gov", "stdlib/std/approvals.gov"]
            .iter()
            .map(|path| std::fs::read_to_string(format!("{root}{path}")).unwrap())
            .collect();
        texts.push(
            "package p\nuse std.\n@overrides(a)\ndeny d :- x(1\nallow a :- y(\n  2).\ntest \"t\" {\n given".into(),
        );
        for text in texts {
            let tokens = FileTokens::new(FileId(0), text.clone());
            let all = &tokens.lexed().tokens;
            for offset in 0..=u32::try_from(text.len()).unwrap() {
                let before = &all[..all.partition_point(|t| t.end <= offset)];
                let from_items = current_item(&text, before, tokens.chunks());
                let from_start = current_item(&text, before, &[]);
                assert_eq!(from_items, from_start, "at byte {offset} of\n{text}");
            }
        }
    }
}
