//! Decoding of literal tokens into values, called from the grammar's actions. An invalid
//! literal is reported and kept as [`LitValue::Invalid`] so the item still parses.

use crate::ast::{Lit, LitValue, Message, MessagePart, Name, StrLit};
use gov_diag::{Diagnostic, FileId, Span, codes};

fn lit(file: FileId, raw: &str, l: u32, r: u32, value: Result<LitValue, String>, errors: &mut Vec<Diagnostic>) -> Lit {
    let span = Span::new(file, l, r);
    let value = value.unwrap_or_else(|message| {
        errors.push(Diagnostic::new(codes::INVALID_LITERAL, message, span).with_primary_label("invalid literal"));
        LitValue::Invalid
    });
    Lit { value, raw: raw.to_owned(), span }
}

/// An `Int` literal (`raw` may start with `-`).
pub(crate) fn int(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> Lit {
    lit(file, raw, l, r, gov_value::parse_int(raw).map(LitValue::Int), errors)
}

/// A `Decimal` literal.
pub(crate) fn decimal(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> Lit {
    lit(file, raw, l, r, gov_value::parse_decimal(raw).map(LitValue::Decimal), errors)
}

/// A `Duration` literal.
pub(crate) fn duration(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> Lit {
    lit(file, raw, l, r, gov_value::parse_duration(raw).map(LitValue::Duration), errors)
}

/// A `Time` literal.
pub(crate) fn time(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> Lit {
    lit(file, raw, l, r, gov_value::parse_time(raw).map(LitValue::Time), errors)
}

/// Decodes the escapes of a string token (quotes included in `raw`), calling `piece` for
/// each decoded character with its byte offset in `raw`. Bad escapes are reported.
fn decode(file: FileId, raw: &str, l: u32, errors: &mut Vec<Diagnostic>, piece: impl FnMut(usize, char)) {
    decode_quoted(file, raw, '"', l, errors, piece);
}

/// [`decode`] for a token quoted by `quote` (`"` for strings, `` ` `` for names), whose
/// escapes are those of strings with `\` before `quote` standing for it.
fn decode_quoted(
    file: FileId,
    raw: &str,
    quote: char,
    l: u32,
    errors: &mut Vec<Diagnostic>,
    mut piece: impl FnMut(usize, char),
) {
    let end = if raw.len() >= 2 && raw.ends_with(quote) { raw.len() - 1 } else { raw.len() };
    let body = raw.get(1..end).unwrap_or("");
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let offset = i + 1;
        if c != '\\' {
            piece(offset, c);
            continue;
        }
        let decoded = match chars.next() {
            Some((_, 'n')) => Some('\n'),
            Some((_, 't')) => Some('\t'),
            Some((_, 'r')) => Some('\r'),
            Some((_, '0')) => Some('\0'),
            Some((_, '\\')) => Some('\\'),
            Some((_, c)) if c == quote => Some(quote),
            Some((_, '{')) if quote == '"' => Some('{'),
            Some((_, '}')) if quote == '"' => Some('}'),
            Some((_, 'u')) => unicode_escape(&mut chars),
            _ => None,
        };
        match decoded {
            Some(c) => piece(offset, c),
            None => {
                let end = chars.peek().map_or(body.len(), |(j, _)| *j) + 1;
                let span = Span::new(file, l + offset as u32, l + end as u32);
                errors.push(
                    Diagnostic::new(
                        codes::INVALID_LITERAL,
                        if quote == '"' { "invalid escape in string" } else { "invalid escape in quoted name" },
                        span,
                    )
                    .with_primary_label("unknown escape")
                    .with_help(if quote == '"' {
                        "valid escapes are \\n \\t \\r \\0 \\\\ \\\" \\{ \\} and \\u{hex}"
                    } else {
                        "valid escapes are \\n \\t \\r \\0 \\\\ \\` and \\u{hex}"
                    }),
                );
            }
        }
    }
}

/// The offset in a string token (`raw`, quotes included) just past its last character
/// before the closing quote, if any.
fn body_end(raw: &str) -> usize {
    if raw.len() >= 2 && raw.ends_with('"') { raw.len() - 1 } else { raw.len() }
}

fn unicode_escape(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<char> {
    chars.next_if(|(_, c)| *c == '{')?;
    let mut hex = String::new();
    while let Some((_, c)) = chars.next_if(|(_, c)| c.is_ascii_hexdigit()) {
        hex.push(c);
    }
    chars.next_if(|(_, c)| *c == '}')?;
    u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
}

/// A name: an identifier as written, or a quoted name (`` `my-key` ``) decoded. A quoted
/// name must not be empty.
pub(crate) fn name(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> Name {
    let span = Span::new(file, l, r);
    if !raw.starts_with('`') {
        return Name { text: raw.into(), span };
    }
    let mut text = String::new();
    decode_quoted(file, raw, '`', l, errors, |_, c| text.push(c));
    if raw == "``" {
        errors.push(
            Diagnostic::new(codes::INVALID_LITERAL, "a quoted name cannot be empty", span)
                .with_primary_label("empty name")
                .with_help("write the key between the backticks, as in `` `my-key` ``"),
        );
    }
    Name { text: text.into(), span }
}

/// A string literal.
pub(crate) fn string(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> StrLit {
    let mut value = String::new();
    decode(file, raw, l, errors, |_, c| value.push(c));
    StrLit { value, span: Span::new(file, l, r) }
}

/// A decision message: a string whose `{name}` parts interpolate variables. `{{` and `}}`
/// stand for literal braces.
pub(crate) fn message(file: FileId, raw: &str, l: u32, r: u32, errors: &mut Vec<Diagnostic>) -> Message {
    let mut decoded: Vec<(usize, char)> = Vec::new();
    decode(file, raw, l, errors, |offset, c| decoded.push((offset, c)));
    // Escaped braces (`\{`) decode to the same char as bare ones; tell them apart by the
    // raw text at their offset.
    let is_bare = |offset: usize| raw.get(offset..).is_some_and(|rest| !rest.starts_with('\\'));
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while let Some(&(offset, c)) = decoded.get(i) {
        i += 1;
        let next = decoded.get(i).map(|&(_, c)| c);
        if c == '{' && is_bare(offset) && next == Some('{') || c == '}' && is_bare(offset) && next == Some('}') {
            text.push(c);
            i += 1;
        } else if c == '{' && is_bare(offset) {
            let start = i;
            while decoded.get(i).is_some_and(|&(_, c)| c != '}') {
                i += 1;
            }
            let name: String = decoded.get(start..i).unwrap_or_default().iter().map(|&(_, c)| c).collect();
            // Offsets in `raw`, not in the decoded name: escapes make the two differ.
            let raw_offset = |index: usize| decoded.get(index).map_or(body_end(raw), |&(o, _)| o);
            let name_start = raw_offset(start);
            let span = Span::new(file, l + name_start as u32, l + raw_offset(i) as u32);
            if decoded.get(i).is_some() && name == "_" {
                errors.push(
                    Diagnostic::new(
                        codes::INVALID_LITERAL,
                        "`_` cannot be interpolated",
                        Span::new(file, l + offset as u32, l + raw_offset(i + 1) as u32),
                    )
                    .with_primary_label("`_` has no value")
                    .with_help("interpolate a variable that the body binds, or write `{{_}}` for the text `{_}`"),
                );
            } else if decoded.get(i).is_none() || !is_identifier(&name) {
                errors.push(
                    Diagnostic::new(
                        codes::INVALID_LITERAL,
                        "invalid interpolation in message",
                        Span::new(file, l + offset as u32, span.end.max(l + offset as u32 + 1)),
                    )
                    .with_primary_label("expected `{variable}`")
                    .with_help(if decoded.get(i).is_none() {
                        "add the missing `}`, or write `{{` for a literal `{`"
                    } else {
                        "write `{{` and `}}` for literal braces"
                    }),
                );
                if decoded.get(i).is_none() {
                    // `{x …` without its `}`: keep the variable it starts with, so that it
                    // is not also reported as used only once in the rule.
                    let prefix: String = name.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if is_identifier(&prefix) {
                        let span = Span::new(file, span.start, l + raw_offset(start + prefix.chars().count()) as u32);
                        parts.push(MessagePart::Var(Name { text: prefix.into(), span }));
                    }
                }
            } else {
                if !text.is_empty() {
                    parts.push(MessagePart::Text(std::mem::take(&mut text)));
                }
                parts.push(MessagePart::Var(Name { text: name.into(), span }));
            }
            i += 1;
        } else if c == '}' && is_bare(offset) {
            errors.push(
                Diagnostic::new(
                    codes::INVALID_LITERAL,
                    "unmatched `}` in message",
                    Span::new(file, l + offset as u32, l + offset as u32 + 1),
                )
                .with_primary_label("no `{` opens this")
                .with_help("write `}}` for a literal brace"),
            );
        } else {
            text.push(c);
        }
    }
    if !text.is_empty() {
        parts.push(MessagePart::Text(text));
    }
    Message { parts, span: Span::new(file, l, r) }
}

/// Whether `name` is an identifier: `_` alone is the wildcard, not one.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
}

/// The error for `name(x : body)` where `name` is not an aggregate function.
pub(crate) fn unknown_aggregate(name: &Name) -> Diagnostic {
    let guess = crate::suggest::closest(&name.text, crate::ast::AggregateFn::ALL.iter().map(|f| f.name()));
    Diagnostic::new(codes::SYNTAX, format!("unknown aggregate function `{}`", name.text), name.span)
        .with_primary_label("not an aggregate function")
        .with_did_you_mean(name.span, guess)
        .or_help("the aggregate functions are count, sum, min and max")
}

/// The error for `expect word` where `word` is not an expectation.
pub(crate) fn unknown_expectation(word: &Name) -> Diagnostic {
    Diagnostic::new(codes::SYNTAX, format!("unknown expectation `{}`", word.text), word.span)
        .with_primary_label("expected `deny`, `allow`, `escalate`, `obligation`, `risk`, `message`, `not` or `error`")
}

/// A word before a test's `{` that is not `uses`.
pub(crate) fn unknown_test_word(word: &Name) -> Diagnostic {
    Diagnostic::new(codes::SYNTAX, format!("unexpected `{}` after the test's name", word.text), word.span)
        .with_primary_label("expected `{` or `uses FIXTURE, …`")
        .with_did_you_mean(word.span, crate::suggest::closest(&word.text, ["uses"]))
}

/// A word that starts `WORD NAME {`, an item only `fixture` starts.
pub(crate) fn unknown_item_word(word: &Name) -> Diagnostic {
    Diagnostic::new(codes::SYNTAX, format!("unknown item `{}`", word.text), word.span)
        .with_primary_label("only `fixture NAME { … }` is written this way")
        .with_did_you_mean(word.span, crate::suggest::closest(&word.text, ["fixture"]))
}

/// A word between `input`/`data` and a relation's name that is not `one`.
pub(crate) fn unknown_modifier(word: &str, span: Span) -> Diagnostic {
    Diagnostic::new(codes::SYNTAX, format!("unknown relation modifier `{word}`"), span)
        .with_primary_label("only `one` may stand between `input` and the relation's name")
}

/// A name followed by a name and `:` where only `invariant` may stand.
pub(crate) fn unknown_item(word: &str, span: Span) -> Diagnostic {
    Diagnostic::new(codes::SYNTAX, format!("expected `invariant`, found `{word}`"), span)
        .with_primary_label("`NAME: never|always EFFECT :- BODY` is an invariant")
}

/// A word other than `always` or `never` after an invariant's name.
pub(crate) fn unknown_quantifier(word: &str, span: Span) -> Diagnostic {
    Diagnostic::new(codes::SYNTAX, format!("expected `never` or `always`, found `{word}`"), span)
        .with_primary_label("an invariant says `never` or `always`, then `allow`, `deny` or `escalate`")
}

#[cfg(test)]
mod tests {
    use gov_diag::{FileId, codes};

    fn codes_of(source: &str) -> Vec<&'static str> {
        crate::parse(FileId(0), source).diagnostics.iter().map(|d| d.code.id).collect()
    }

    /// Every literal form docs/reference.md documents parses in source, through the same
    /// parser (`gov_value`) that reads requests and data files.
    #[test]
    fn documented_literal_forms_parse() {
        let source = "package p\n\
            f(0, 42, -3, - 5, -9223372036854775808, 12.50, -0.001, 3.0, 0.5, -1.5,\n\
              2026-01-31T09:00:00Z, 2026-01-31t10:00:00.5+01:00, 2026-01-31T08:00:00-01:00,\n\
              2026-01-31T09:00:00.123456789Z, 2026-01-31T09:00:00.5000000000Z,\n\
              15m, 1h30m, 500ms, 7d, -15m).\n";
        assert_eq!(codes_of(source), Vec::<&str>::new());
    }

    /// Literal tokens outside the documented forms are E0004 in source as in JSON.
    #[test]
    fn other_literal_forms_are_invalid_literals() {
        for bad in [
            "007",
            "00",
            "-01",
            "00.5",
            "1.00000000000000000000000000000",
            "2026-12-31T23:59:60Z",
            "2026-01-31T09:00:00.0000000019Z",
        ] {
            assert_eq!(codes_of(&format!("package p\nf({bad}).\n")), [codes::INVALID_LITERAL.id], "{bad}");
        }
    }
}
