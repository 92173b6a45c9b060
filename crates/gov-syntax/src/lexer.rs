//! The lexer: source text to tokens and trivia (comments).

use gov_diag::{Applicability, Diagnostic, FileId, Fix, Span, codes};
use logos::Logos;

/// A token of Gov source. Comments and whitespace are not tokens: [`lex`] returns comments
/// separately so the formatter can keep them. A byte-order mark counts as whitespace.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f\u{FEFF}]+")]
pub enum Token<'s> {
    /// `package`
    #[token("package")]
    Package,
    /// `use`
    #[token("use")]
    Use,
    /// `default`
    #[token("default")]
    Default,
    /// `type`
    #[token("type")]
    Type,
    /// `input`
    #[token("input")]
    Input,
    /// `data`
    #[token("data")]
    Data,
    /// `not`
    #[token("not")]
    Not,
    /// `allow`
    #[token("allow")]
    Allow,
    /// `deny`
    #[token("deny")]
    Deny,
    /// `escalate`
    #[token("escalate")]
    Escalate,
    /// `obligation`
    #[token("obligation")]
    Obligation,
    /// `risk`
    #[token("risk")]
    Risk,
    /// `test`
    #[token("test")]
    Test,
    /// `given`
    #[token("given")]
    Given,
    /// `expect`
    #[token("expect")]
    Expect,
    /// `with`
    #[token("with")]
    With,
    /// `true`
    #[token("true")]
    True,
    /// `false`
    #[token("false")]
    False,
    /// `in` (`part in str.split(cmd, " ")`; elsewhere the parser accepts it as a name)
    #[token("in")]
    In,
    /// `to` (a keyword only after `escalate NAME`; elsewhere the parser accepts it as a name)
    #[token("to")]
    To,
    /// An identifier: a relation, variable, field, rule or type name. A quoted name
    /// (`` `my-key` ``, `` `type` ``) is an identifier too, backticks included: it names
    /// any JSON key, keywords and keys that are no identifier alike.
    #[regex(r"[A-Za-z][A-Za-z0-9_]*|_[A-Za-z0-9_]+|`([^`\\\n]|\\[^\n])*`")]
    Ident(&'s str),
    /// `_`
    #[token("_")]
    Wildcard,
    /// An integer literal.
    #[regex(r"[0-9]+")]
    Int(&'s str),
    /// A decimal literal.
    #[regex(r"[0-9]+\.[0-9]+")]
    Decimal(&'s str),
    /// A string literal, quotes included.
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str(&'s str),
    /// An RFC 3339 time literal.
    #[regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})")]
    Time(&'s str),
    /// A duration literal such as `15m` or `1h30m`.
    #[regex(r"([0-9]+(ns|ms|s|m|h|d))+")]
    Duration(&'s str),
    /// `(`
    #[token("(")]
    LParen,
    /// `)`
    #[token(")")]
    RParen,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `[`
    #[token("[")]
    LBracket,
    /// `]`
    #[token("]")]
    RBracket,
    /// `,`
    #[token(",")]
    Comma,
    /// `.`
    #[token(".")]
    Dot,
    /// A `.` that joins two words it touches (`std.approvals`, `str.lower`): never made by
    /// the lexer, which gives [`Token::Dot`]; the parser is fed this instead (see
    /// `split::joined`), so that the grammar tells a dotted name from the `.` ending an item.
    Joint,
    /// `:-`
    #[token(":-")]
    If,
    /// `:`
    #[token(":")]
    Colon,
    /// `=`
    #[token("=")]
    Eq,
    /// `!=`
    #[token("!=")]
    Ne,
    /// `<`
    #[token("<")]
    Lt,
    /// `<=`
    #[token("<=")]
    Le,
    /// `>`
    #[token(">")]
    Gt,
    /// `>=`
    #[token(">=")]
    Ge,
    /// `+`
    #[token("+")]
    Plus,
    /// `-`
    #[token("-")]
    Minus,
    /// `*`
    #[token("*")]
    Star,
    /// `/`
    #[token("/")]
    Slash,
    /// `@`
    #[token("@")]
    At,
    /// A string literal missing its closing quote (reported, then treated as a string).
    #[regex(r#""([^"\\\n]|\\[^\n])*\\?"#)]
    UnterminatedStr(&'s str),
    /// A `//` comment, including a `///` doc comment.
    #[regex(r"//[^\n]*", allow_greedy = true)]
    Comment(&'s str),
}

impl Token<'_> {
    /// How the token is shown in "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("identifier `{s}`"),
            Token::Int(s) | Token::Decimal(s) | Token::Time(s) | Token::Duration(s) => {
                format!("literal `{s}`")
            }
            Token::Str(_) | Token::UnterminatedStr(_) => "a string".to_owned(),
            Token::Comment(_) => "a comment".to_owned(),
            other => format!("`{}`", other.keyword_text().unwrap_or("?")),
        }
    }

    /// The fixed text of keyword and punctuation tokens.
    pub fn keyword_text(&self) -> Option<&'static str> {
        Some(match self {
            Token::Package => "package",
            Token::Use => "use",
            Token::Default => "default",
            Token::Type => "type",
            Token::Input => "input",
            Token::Data => "data",
            Token::Not => "not",
            Token::Allow => "allow",
            Token::Deny => "deny",
            Token::Escalate => "escalate",
            Token::Obligation => "obligation",
            Token::Risk => "risk",
            Token::Test => "test",
            Token::Given => "given",
            Token::Expect => "expect",
            Token::With => "with",
            Token::True => "true",
            Token::False => "false",
            Token::To => "to",
            Token::In => "in",
            Token::Wildcard => "_",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::Comma => ",",
            Token::Dot | Token::Joint => ".",
            Token::If => ":-",
            Token::Colon => ":",
            Token::Eq => "=",
            Token::Ne => "!=",
            Token::Lt => "<",
            Token::Le => "<=",
            Token::Gt => ">",
            Token::Ge => ">=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::At => "@",
            _ => return None,
        })
    }

    /// Whether the token is a comparison or arithmetic operator.
    pub fn is_operator(&self) -> bool {
        matches!(
            self,
            Token::Eq
                | Token::Ne
                | Token::Lt
                | Token::Le
                | Token::Gt
                | Token::Ge
                | Token::Plus
                | Token::Minus
                | Token::Star
                | Token::Slash
        )
    }

    /// Whether the token can only begin an item, so that seeing it first on a line while
    /// an item is still open means that item lacks its final `.`.
    pub fn starts_item(&self) -> bool {
        matches!(
            self,
            Token::Package
                | Token::Use
                | Token::Default
                | Token::Type
                | Token::Input
                | Token::Data
                | Token::Allow
                | Token::Deny
                | Token::Escalate
                | Token::Obligation
                | Token::Risk
                | Token::Test
                | Token::At
                | Token::Ident(_)
                | Token::To
        )
    }
}

/// A token with its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<'s> {
    /// The token.
    pub token: Token<'s>,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

/// A `//` comment kept for the formatter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comment {
    /// The comment's text including the slashes, without the line break.
    pub text: String,
    /// Where it is.
    pub span: Span,
}

impl Comment {
    /// Whether this is a `///` doc comment (but not `////…`).
    pub fn is_doc(&self) -> bool {
        self.text.starts_with("///") && !self.text.starts_with("////")
    }
}

/// The result of lexing one file.
#[derive(Debug, Default)]
pub struct Lexed<'s> {
    /// The tokens, comments excluded.
    pub tokens: Vec<Spanned<'s>>,
    /// Every comment, in order.
    pub comments: Vec<Comment>,
    /// Lexical errors.
    pub diagnostics: Vec<Diagnostic>,
}

/// Splits `text` into tokens and comments. Never fails: a character that starts no token
/// is skipped, and a run of them reported as one error; a line reports its first lexical
/// error only (see [`Reported`]).
pub fn lex(file: FileId, text: &str) -> Lexed<'_> {
    lex_range(file, text, 0..text.len())
}

/// Lexes the part `range` of `text` as if it were the whole text, with spans in `text`'s
/// offsets (an edit re-lexes only the items it touched: `parser::reparse`). An empty
/// result if `range` is not within `text` or does not lie on character boundaries.
pub(crate) fn lex_range(file: FileId, text: &str, range: std::ops::Range<usize>) -> Lexed<'_> {
    let mut lexed = Lexed::default();
    let offset = range.start;
    let Some(part) = text.get(range) else { return lexed };
    let mut lexer = Token::lexer(part);
    let mut bad_run: Option<Span> = None;
    let mut reported = Reported::default();
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(file, to_u32(offset + range.start), to_u32(offset + range.end));
        let token = match result {
            Err(()) => {
                bad_run = Some(bad_run.map_or(span, |run| run.to(span)));
                continue;
            }
            Ok(token) => token,
        };
        // The run before this token first, in source order (its help reads the token
        // before it).
        reported.run(text, &mut lexed, bad_run.take());
        match token {
            Token::Comment(body) => {
                lexed.comments.push(Comment { text: body.trim_end().to_owned(), span });
            }
            Token::UnterminatedStr(body) => {
                if reported.fresh(text, span.start) {
                    lexed.diagnostics.push(unterminated_string(file, span, body));
                }
                lexed.tokens.push(Spanned { token: Token::Str(body), start: span.start, end: span.end });
            }
            token => {
                if token == Token::Dot {
                    reported.item_ended();
                }
                lexed.tokens.push(Spanned { token, start: span.start, end: span.end });
            }
        }
    }
    reported.run(text, &mut lexed, bad_run.take());
    lexed
}

/// Which runs of unexpected characters are reported. One mistake, one error: after the
/// first run on a line, the later ones are most likely that mistake's consequences (a `"`
/// inside a string ends it early and leaves the rest of the line to be read as code:
/// `"a "b" c"` is a string, the code `b`, then a string), so they are not reported again,
/// until the line or the item (its `.`) ends.
// Invariant: the state is reset at every `.`, so lexing a stretch that starts just after
// an item's `.` (an edit's re-lex, `parser::reparse`) reports what lexing the whole text
// reports there.
#[derive(Default)]
struct Reported {
    /// The end of the line of the last run reported (its `\n`, or the end of the text),
    /// or 0 when none was since the last `.`.
    line_end: u32,
}

impl Reported {
    /// A `.` was read: the runs after it are reported afresh.
    fn item_ended(&mut self) {
        self.line_end = 0;
    }

    /// Whether an error at `at` is the first on its line since the last `.`; if so, the
    /// rest of the line is taken.
    fn fresh(&mut self, text: &str, at: u32) -> bool {
        if at < self.line_end {
            return false;
        }
        let start = at as usize;
        let line_end = text.get(start..).and_then(|rest| rest.find('\n')).map_or(text.len(), |n| start + n);
        self.line_end = to_u32(line_end);
        true
    }

    /// Reports `run`, unless an error before it on its line was.
    fn run(&mut self, text: &str, lexed: &mut Lexed<'_>, run: Option<Span>) {
        let Some(run) = run.filter(|run| self.fresh(text, run.start)) else { return };
        let after_string =
            matches!(lexed.tokens.last(), Some(Spanned { token: Token::Str(_), end, .. }) if *end == run.start);
        lexed.diagnostics.push(unexpected_characters(text, run, after_string));
    }
}

/// The error of a string whose line ends before its closing `"`, with the fix that closes it
/// (none after a trailing `\`, where the quote would be escaped).
fn unterminated_string(file: FileId, span: Span, body: &str) -> Diagnostic {
    // The closing quote goes before a `\r` of a CRLF line end.
    let end = span.end - u32::from(body.ends_with('\r'));
    let close = (!body.ends_with('\\'))
        .then(|| Fix::replace("Close the string", Applicability::NeedsReview, Span::new(file, end, end), "\""));
    Diagnostic::new(codes::LEXICAL, "unterminated string", span)
        .with_primary_label("this string has no closing `\"`")
        .with_help("add a `\"` before the end of the line")
        .with_fixes(close)
}

/// The error of a run of characters that start no token; `after_string` when the run
/// touches the closing `"` of a string before it (most likely a `"` meant inside it).
fn unexpected_characters(text: &str, run: Span, after_string: bool) -> Diagnostic {
    let characters = text.get(run.range()).unwrap_or("");
    let shown: String = characters.chars().take(8).flat_map(char::escape_default).collect();
    let diagnostic = Diagnostic::new(codes::LEXICAL, format!("unexpected character `{shown}`"), run)
        .with_primary_label("no token starts here");
    // What authors coming from other languages reach for.
    match characters.chars().next() {
        _ if after_string => diagnostic.with_help(
            "the string before this ended at its `\"`: inside a string, write a `\"` as `\\\"` and a `\\` as `\\\\`",
        ),
        Some(';') => diagnostic.with_help(
            "conditions are separated by `,` and all must hold; for \"either … or …\" write two rules with the same head",
        ),
        _ => diagnostic,
    }
}

/// Converts a byte offset to `u32`. Files are limited to 4 GiB by the loader, so this
/// saturates rather than fails.
pub(crate) fn to_u32(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}
