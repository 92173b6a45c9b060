//! The strict JSON reader for requests and data files (RFC 8259).
//!
//! A policy engine must not be talked into a decision by the shape of its input, so this
//! reader refuses what a general-purpose one resolves silently: a key given twice in one
//! object (`serde_json`'s map keeps the last value; here it is an error naming the key's
//! path, after escapes are decoded, so `"tool_call"` and `"tool\u005fcall"` are the same
//! key), and it keeps each number as the text it was written in, so that a `Decimal` is
//! read exactly and an error quotes the number as written. (`serde_json`'s
//! `arbitrary_precision` feature would keep the text too, but it changes how numbers
//! deserialise for the whole build, which breaks the language server's untagged enums.)
//! A byte-order mark at the start is skipped, as in source files.

use crate::RequestError;
use std::borrow::Cow;

/// How deeply arrays and objects may nest; a request needs three levels. Deeper input is
/// an error, so the recursive reader cannot exhaust the stack.
pub const MAX_DEPTH: usize = 128;

/// A JSON value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as its text in the document (a valid JSON number, e.g. `-12.50` or `1e3`).
    Number(String),
    /// A string, escapes decoded.
    String(String),
    /// An array.
    Array(Vec<Document>),
    /// An object's members in document order.
    // Invariant: no key appears twice (the reader refuses duplicates).
    Object(Vec<(String, Document)>),
}

/// Reads one JSON document. Syntax errors give the line and column (1-based, counting
/// characters); a duplicate key gives its JSON path (`transfer[0].amount: duplicate key`).
pub fn parse_document(text: &str) -> Result<Document, RequestError> {
    let mut reader = Reader::new(text);
    reader.whitespace();
    let document = reader.value(0)?;
    reader.end()?;
    Ok(document)
}

/// Appends `key` to the JSON path `path`: `.key`, or just `key` at the start; a key that
/// is empty or has characters other than letters, digits, `_` and `-` is written as a JSON
/// string in brackets (`a[""]`, `a["x.y"]`), so that every path is unambiguous and a key at
/// the top level is never an empty path.
pub(crate) fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !plain {
        path.push('[');
        path.push_str(&serde_json::Value::String(key.to_owned()).to_string());
        path.push(']');
        return;
    }
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// One step of the path to the value being read.
enum Step {
    Key(String),
    Index(usize),
}

/// The reader's position in a text and its lexical steps (whitespace, strings, numbers,
/// words), which [`parse_document`] and the one-pass request reader (`json/one_pass.rs`)
/// share, so that both accept exactly the same tokens.
pub(crate) struct Reader<'t> {
    /// The whole text, for line and column numbers.
    text: &'t str,
    /// The text after any byte-order mark.
    body: &'t str,
    /// `body`'s bytes.
    bytes: &'t [u8],
    /// Offset in `bytes` of the next byte to read.
    at: usize,
    /// Length of the skipped byte-order mark.
    start: usize,
    path: Vec<Step>,
}

impl<'t> Reader<'t> {
    /// A reader at the start of `text`, after any byte-order mark.
    pub(crate) fn new(text: &'t str) -> Reader<'t> {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        Reader { text, body, bytes: body.as_bytes(), at: 0, start: text.len() - body.len(), path: Vec::new() }
    }

    /// The next byte, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips whitespace.
    pub(crate) fn whitespace(&mut self) {
        self.skip_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    }

    /// Skips the bytes that satisfy `skip` (one tight loop over the rest of the text).
    fn skip_while(&mut self, skip: impl Fn(u8) -> bool) {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        self.at += rest.iter().position(|&b| !skip(b)).unwrap_or(rest.len());
    }

    /// Skips `byte` if it is next (no whitespace skipped), saying whether it was.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    /// Refuses anything but whitespace after the document.
    pub(crate) fn end(&mut self) -> Result<(), RequestError> {
        self.whitespace();
        if self.at < self.bytes.len() {
            return Err(self.syntax("trailing characters after the document"));
        }
        Ok(())
    }

    /// `body[from..to]`; both offsets are where only ASCII bytes stopped a scan, so they
    /// are char boundaries.
    fn slice(&self, from: usize, to: usize) -> &'t str {
        self.body.get(from..to).unwrap_or_default()
    }

    /// An error at the current position.
    fn syntax(&self, message: &str) -> RequestError {
        let offset = self.start + self.at;
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        RequestError {
            path: String::new(),
            message: format!("invalid JSON at line {line}, column {column}: {message}"),
        }
    }

    /// The JSON path of the value being read, as `relation[0].field`.
    fn path(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                Step::Key(key) => push_key(&mut out, key),
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn expect(&mut self, byte: u8, message: &str) -> Result<(), RequestError> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.syntax(message))
        }
    }

    /// The value at the current byte, inside `depth` arrays and objects.
    pub(crate) fn value(&mut self, depth: usize) -> Result<Document, RequestError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(|s| Document::String(s.into_owned())),
            Some(b'-' | b'0'..=b'9') => self.number().map(|n| Document::Number(n.to_owned())),
            Some(b't') => self.word("true").map(|()| Document::Bool(true)),
            Some(b'f') => self.word("false").map(|()| Document::Bool(false)),
            Some(b'n') => self.word("null").map(|()| Document::Null),
            Some(_) => Err(self.syntax("expected a value")),
            None => Err(self.syntax("unexpected end of input, expected a value")),
        }
    }

    fn nest(&self, depth: usize) -> Result<(), RequestError> {
        if depth > MAX_DEPTH {
            return Err(self.syntax(&format!("arrays and objects nest more than {MAX_DEPTH} deep")));
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<Document, RequestError> {
        self.nest(depth)?;
        self.at += 1;
        let mut members: Vec<(String, Document)> = Vec::new();
        let mut keys: hashbrown::HashSet<String> = hashbrown::HashSet::new();
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Document::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a key in double quotes"));
            }
            let key = self.string()?.into_owned();
            self.path.push(Step::Key(key.clone()));
            if !keys.insert(key.clone()) {
                return Err(RequestError { path: self.path(), message: "duplicate key".to_owned() });
            }
            self.whitespace();
            self.expect(b':', "expected `:` after the key")?;
            self.whitespace();
            let value = self.value(depth)?;
            self.path.pop();
            members.push((key, value));
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.whitespace();
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Document::Object(members));
                }
                _ => return Err(self.syntax("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Document, RequestError> {
        self.nest(depth)?;
        self.at += 1;
        let mut items = Vec::new();
        self.whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Document::Array(items));
        }
        loop {
            self.path.push(Step::Index(items.len()));
            let value = self.value(depth)?;
            self.path.pop();
            items.push(value);
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.whitespace();
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(Document::Array(items));
                }
                _ => return Err(self.syntax("expected `,` or `]`")),
            }
        }
    }

    /// The word `word` (`true`, `false`, `null`).
    pub(crate) fn word(&mut self, word: &str) -> Result<(), RequestError> {
        if self.bytes.get(self.at..).is_some_and(|rest| rest.starts_with(word.as_bytes())) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.syntax("expected a value"))
        }
    }

    /// Skips ASCII digits, returning how many there were.
    fn digits(&mut self) -> usize {
        let from = self.at;
        self.skip_while(|b| b.is_ascii_digit());
        self.at - from
    }

    /// A number: `-`? (`0` | digits not starting with `0`) (`.` digits)? ([eE] [+-]? digits)?
    pub(crate) fn number(&mut self) -> Result<&'t str, RequestError> {
        let from = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let whole_from = self.at;
        let whole = self.digits();
        if whole == 0 {
            return Err(self.syntax("expected digits in a number"));
        }
        if whole > 1 && self.bytes.get(whole_from) == Some(&b'0') {
            self.at = whole_from;
            return Err(self.syntax("a number cannot start with `0` followed by digits"));
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.syntax("expected digits after `.` in a number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax("expected digits in the exponent of a number"));
            }
        }
        Ok(self.slice(from, self.at))
    }

    /// Skips the bytes of a string up to the next `"`, `\\` or control character,
    /// returning them (only ASCII bytes stop the run, so it ends on a char boundary).
    fn plain_run(&mut self) -> &'t str {
        let run = self.at;
        self.skip_while(|b| b != b'"' && b != b'\\' && b >= 0x20);
        self.slice(run, self.at)
    }

    /// A string starting at the current `"`, escapes decoded: borrowed from the text when
    /// it has none.
    pub(crate) fn string(&mut self) -> Result<Cow<'t, str>, RequestError> {
        self.at += 1;
        let plain = self.plain_run();
        if self.peek() == Some(b'"') {
            self.at += 1;
            return Ok(Cow::Borrowed(plain));
        }
        let mut out = plain.to_owned();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.at += 1;
                    out.push(self.escape()?);
                    out.push_str(self.plain_run());
                }
                Some(_) => return Err(self.syntax("control character in a string (escape it)")),
                None => return Err(self.syntax("unexpected end of input in a string")),
            }
        }
    }

    /// The character of the escape after a `\`.
    fn escape(&mut self) -> Result<char, RequestError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.at += 1;
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !self.bytes.get(self.at..).is_some_and(|rest| rest.starts_with(b"\\u")) {
                        return Err(self.syntax("unpaired surrogate in a \\u escape"));
                    }
                    self.at += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.syntax("unpaired surrogate in a \\u escape"));
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                return char::from_u32(code).ok_or_else(|| self.syntax("unpaired surrogate in a \\u escape"));
            }
            _ => return Err(self.syntax("invalid escape in a string")),
        };
        self.at += 1;
        Ok(c)
    }

    /// Four hexadecimal digits.
    fn hex4(&mut self) -> Result<u32, RequestError> {
        let digits = self.bytes.get(self.at..self.at + 4).and_then(|b| std::str::from_utf8(b).ok());
        let value = digits
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.syntax("expected four hexadecimal digits after \\u"))?;
        self.at += 4;
        Ok(value)
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse_document(text).unwrap_err().to_string()
    }

    #[test]
    fn reads_every_kind_of_value() {
        let document =
            parse_document(" {\"a\": [1, -2.50, 1e3, true, false, null, \"x\\ty\\u00e9\\ud83d\\ude00\"], \"b\": {}}\n");
        assert_eq!(
            document,
            Ok(Document::Object(vec![
                (
                    "a".to_owned(),
                    Document::Array(vec![
                        Document::Number("1".to_owned()),
                        Document::Number("-2.50".to_owned()),
                        Document::Number("1e3".to_owned()),
                        Document::Bool(true),
                        Document::Bool(false),
                        Document::Null,
                        Document::String("x\ty\u{e9}\u{1F600}".to_owned()),
                    ])
                ),
                ("b".to_owned(), Document::Object(Vec::new())),
            ]))
        );
    }

    #[test]
    fn numbers_keep_their_text() {
        let document = parse_document("[20000.0000000000001, 1e-30, 99999999999999999999999]").unwrap();
        let Document::Array(items) = document else { panic!() };
        let texts: Vec<&Document> = items.iter().collect();
        assert_eq!(
            texts,
            [
                &Document::Number("20000.0000000000001".to_owned()),
                &Document::Number("1e-30".to_owned()),
                &Document::Number("99999999999999999999999".to_owned())
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_errors_naming_their_path() {
        assert_eq!(
            error(r#"{"transfer":[{"agent":"bot-1","amount":6000,"amount":1,"to":"acct-9"}]}"#),
            "transfer[0].amount: duplicate key"
        );
        assert_eq!(error(r#"{"tool_call": [], "tool\u005fcall": []}"#), "tool_call: duplicate key");
        assert_eq!(error(r#"{"a": {"b": 1, "b": 1}}"#), "a.b: duplicate key");
        // Keys that are not plain names are quoted, so the path is never empty or ambiguous.
        assert_eq!(error(r#"{"": 1, "": 2}"#), r#"[""]: duplicate key"#);
        assert_eq!(error(r#"{"a": [{"x.y": 1, "x.y": 2}]}"#), r#"a[0]["x.y"]: duplicate key"#);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(parse_document("\u{feff}{}"), Ok(Document::Object(Vec::new())));
        assert!(parse_document("{}\u{feff}").is_err());
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        assert_eq!(
            error("{\n  \"a\": 01}"),
            "invalid JSON at line 2, column 8: a number cannot start with `0` followed by digits"
        );
        assert_eq!(error("\u{feff}{\"é\" 1}"), "invalid JSON at line 1, column 7: expected `:` after the key");
        for bad in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{a:1}",
            "'a'",
            "[.5]",
            "[5.]",
            "[+1]",
            "[-]",
            "[1e]",
            "[NaN]",
            "[Infinity]",
            "[tru]",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"\\udc00\"",
            "\"a\nb\"",
            "\"abc",
            "{} {}",
            "[1] x",
            "/* */ {}",
        ] {
            let message = error(bad);
            assert!(message.starts_with("invalid JSON at line "), "{bad:?}: {message}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse_document(&deep).is_ok());
        let deeper = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(error(&deeper).contains("nest more than 128 deep"));
    }
}
