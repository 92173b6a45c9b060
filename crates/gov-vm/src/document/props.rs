//! Property tests of the strict JSON reader, with `serde_json` as the oracle: no input
//! panics, every error is located, nothing accepted is lost or changed, the reader accepts
//! exactly what `serde_json` accepts apart from what it refuses by design (duplicate keys,
//! nesting beyond [`MAX_DEPTH`]), a duplicate key is refused with its path wherever it is,
//! and deep nesting is an error rather than a stack overflow.

use super::*;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde::Serialize as _;
use serde_json::{Map, Number, Value};
use std::io::{self, Write};

// ---- oracles ----------------------------------------------------------------------------------

/// The tree the reader should give for a value `serde_json` holds: members in order (the
/// workspace builds `serde_json` with `preserve_order`), numbers as `serde_json` writes them.
fn expected(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(n.to_string()),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(expected).collect()),
        Value::Object(members) => {
            Document::Object(members.iter().map(|(key, value)| (key.clone(), expected(value))).collect())
        }
    }
}

/// The reader's tree and `serde_json`'s describe the same value: same shape, strings and
/// keys in the same order, and each number's kept text reads (in `serde_json`) as the number
/// `serde_json` read.
fn same_tree(document: &Document, value: &Value) -> bool {
    match (document, value) {
        (Document::Null, Value::Null) => true,
        (Document::Bool(a), Value::Bool(b)) => a == b,
        (Document::Number(text), Value::Number(n)) => serde_json::from_str::<Number>(text).is_ok_and(|m| &m == n),
        (Document::String(a), Value::String(b)) => a == b,
        (Document::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_tree(a, b)),
        (Document::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && same_tree(va, vb))
        }
        _ => false,
    }
}

/// An error says where it is: a duplicate key by its JSON path, anything else by a line
/// and column that lie within the text.
fn located(text: &str, error: &RequestError) -> Result<(), TestCaseError> {
    if error.message == "duplicate key" {
        prop_assert!(!error.path.is_empty(), "a duplicate key without a path in {:?}", text);
        return Ok(());
    }
    prop_assert!(error.path.is_empty(), "{}", error);
    let place = error.message.strip_prefix("invalid JSON at line ").and_then(|rest| rest.split_once(": "));
    let Some((place, _)) = place else {
        return Err(TestCaseError::fail(format!("unlocated error {error} for {text:?}")));
    };
    let (line, column) = place.split_once(", column ").unwrap_or_default();
    let (line, column): (usize, usize) = (line.parse().unwrap_or(0), column.parse().unwrap_or(0));
    let lines: Vec<&str> = text.split('\n').collect();
    prop_assert!((1..=lines.len()).contains(&line), "{} in {:?}", error, text);
    prop_assert!((1..=lines[line - 1].chars().count() + 1).contains(&column), "{} in {:?}", error, text);
    Ok(())
}

/// Reads `text` with the reader and with `serde_json` (which does not skip a byte-order
/// mark) and checks that they agree.
fn agrees_with_serde(text: &str) -> Result<(), TestCaseError> {
    let ours = parse_document(text);
    let theirs = serde_json::from_str::<Value>(text.strip_prefix('\u{feff}').unwrap_or(text));
    match (&ours, &theirs) {
        (Ok(document), Ok(value)) => {
            prop_assert!(same_tree(document, value), "{:?} read as {:?}, serde_json {:?}", text, document, value);
        }
        (Err(error), Ok(_)) => {
            located(text, error)?;
            // Refused by design: serde_json keeps the last of duplicate keys.
            prop_assert!(
                error.message == "duplicate key" || error.message.contains("nest more than"),
                "{:?} refused ({}) but serde_json accepts it",
                text,
                error
            );
        }
        (Ok(_), Err(error)) => {
            // The reader keeps numbers as text (their type decides later); serde_json reads
            // them as f64 and refuses `1e400`. Its nesting limit is one level lower.
            let message = error.to_string();
            prop_assert!(
                message.starts_with("number out of range") || message.starts_with("recursion limit exceeded"),
                "{:?} accepted but serde_json refuses it: {}",
                text,
                message
            );
        }
        (Err(error), Err(_)) => located(text, error)?,
    }
    Ok(())
}

// ---- serialisers ------------------------------------------------------------------------------

/// A `serde_json` formatter that writes every character of every string and key as a
/// `\uXXXX` escape (two, a surrogate pair, beyond the Basic Multilingual Plane).
struct EscapeAll;

impl serde_json::ser::Formatter for EscapeAll {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut units = [0; 2];
        for c in fragment.chars() {
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
        }
        Ok(())
    }
}

fn escaped(value: &Value) -> String {
    let mut out = Vec::new();
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, EscapeAll)).unwrap();
    String::from_utf8(out).unwrap()
}

/// One step of a JSON path, for the oracle of duplicate-key paths.
#[derive(Clone)]
enum At {
    Key(String),
    Index(usize),
}

/// The JSON path as the reference documents it: `transfer[0].amount`, and a key that is
/// not a plain name as a JSON string in brackets, `a[""]`.
fn path_text(steps: &[At]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            At::Key(key) if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') => {
                out = format!("{out}[{}]", serde_json::to_string(key).unwrap());
            }
            At::Key(key) if out.is_empty() => out.push_str(key),
            At::Key(key) => out = format!("{out}.{key}"),
            At::Index(i) => out = format!("{out}[{i}]"),
        }
    }
    out
}

/// Counts the objects with at least one member.
fn non_empty_objects(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(non_empty_objects).sum(),
        Value::Object(members) => {
            usize::from(!members.is_empty()) + members.values().map(non_empty_objects).sum::<usize>()
        }
        _ => 0,
    }
}

/// Where to insert a duplicate key: in the `object`-th non-empty object (pre-order), the
/// key of member `key`, written again after member `after` (at least `key`), its key
/// escaped or not.
struct Duplicate {
    object: usize,
    key: Index,
    after: Index,
    escape: bool,
}

/// Writes `value` as JSON with the duplicate inserted, returning the path the reader must
/// name. `seen` counts the non-empty objects written so far.
fn write_with_duplicate(
    value: &Value,
    duplicate: &Duplicate,
    seen: &mut usize,
    steps: &mut Vec<At>,
    out: &mut String,
) -> Option<String> {
    let mut found = None;
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                steps.push(At::Index(i));
                found = found.or(write_with_duplicate(item, duplicate, seen, steps, out));
                steps.pop();
            }
            out.push(']');
        }
        Value::Object(members) if !members.is_empty() => {
            let here = *seen == duplicate.object;
            *seen += 1;
            let key = duplicate.key.index(members.len());
            let after = key + duplicate.after.index(members.len() - key);
            out.push('{');
            for (i, (name, member)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(name).unwrap());
                out.push(':');
                steps.push(At::Key(name.clone()));
                found = found.or(write_with_duplicate(member, duplicate, seen, steps, out));
                steps.pop();
                if here && i == after {
                    let (name, _) = members.iter().nth(key).unwrap();
                    let written = if duplicate.escape {
                        escaped(&Value::String(name.clone()))
                    } else {
                        serde_json::to_string(name).unwrap()
                    };
                    out.push_str(&format!(",{written}:null"));
                    steps.push(At::Key(name.clone()));
                    found = Some(path_text(steps));
                    steps.pop();
                }
            }
            out.push('}');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
    found
}

// ---- strategies -------------------------------------------------------------------------------

/// Strings rich in what JSON must escape or decode: quotes, backslashes, control
/// characters, non-ASCII and astral characters, a byte-order mark, and any character.
fn text() -> impl Strategy<Value = String> {
    let special = select(vec![
        '"', '\\', '/', '\n', '\t', '\r', '\u{8}', '\u{c}', '\0', '\u{1f}', '\u{7f}', 'é', '\u{2028}', '\u{feff}',
        '😀', '_',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..6).prop_map(String::from_iter)
}

/// Keys, often short so that generated objects share them.
fn key() -> impl Strategy<Value = String> {
    prop_oneof!["[ab_]{0,2}", text()]
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
    ]
}

/// JSON values without duplicate keys (a `serde_json` map cannot hold one), nested a few
/// levels.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Text made of JSON's pieces, valid JSON or close to it.
fn json_soup() -> impl Strategy<Value = String> {
    let pieces = select(vec![
        "{", "}", "[", "]", ":", ",", "\"", "\"a\"", "\"a\":", "\\", "\\u", "\\ud83d", "\\ude00", "\\u00e9", "\\n",
        "0", "1", "-", ".", "e", "E+", "1e400", "true", "null", "fals", " ", "\n", "\t", "\u{feff}", "é", "\u{1}",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

/// A scalar as JSON text, valid or nearly: numbers with and without JSON's rules, strings
/// with every escape, broken escapes and lone surrogates, words and their misspellings.
fn near_scalar() -> impl Strategy<Value = String> {
    let piece = select(vec![
        "a",
        "é",
        "😀",
        "\\n",
        "\\\"",
        "\\\\",
        "\\/",
        "\\b",
        "\\f",
        "\\r",
        "\\t",
        "\\x",
        "\\u00e9",
        "\\u005f",
        "\\u12",
        "\\ud83d\\ude00",
        "\\ud83d",
        "\\ude00",
        "\\ud83d\\u0041",
        "\u{1}",
        "\u{7f}",
        "\t",
    ]);
    prop_oneof![
        "[-+]?(0|00|[1-9][0-9]{0,2})?(\\.[0-9]{0,2})?([eE][-+]?[0-9]{0,3})?",
        (prop::collection::vec(piece, 0..4), any::<bool>()).prop_map(|(pieces, closed)| format!(
            "\"{}{}",
            pieces.concat(),
            if closed { "\"" } else { "" }
        )),
        select(vec!["true", "false", "null", "tru", "nul", "True", "NaN", "Infinity", "-Infinity", "'a'"])
            .prop_map(str::to_owned),
    ]
}

/// Arrays and objects as JSON text, mostly valid, sometimes with a trailing, missing or
/// leading comma, a missing colon or bracket, an unquoted key; keys are few, so they repeat.
fn near_json() -> impl Strategy<Value = String> {
    let space = || select(vec!["", "", " ", "\n", "\t", "\r\n"]);
    near_scalar().prop_recursive(3, 24, 4, move |inner| {
        let key = prop_oneof![
            select(vec!["\"a\"", "\"b\"", "\"a\"", "\"\\u0061\"", "\"\"", "a", "1"]).prop_map(str::to_owned),
            near_scalar(),
        ];
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), 0..12u8, space()).prop_map(|(items, flaw, space)| {
                let comma = if flaw == 8 { " ".to_owned() } else { format!(",{space}") };
                let joined = items.join(&comma);
                match flaw {
                    7 => format!("[{joined},]"),
                    9 => format!("[{joined}"),
                    10 => format!("[,{joined}]"),
                    _ => format!("[{space}{joined}]"),
                }
            }),
            (prop::collection::vec((key, inner), 0..4), 0..12u8, space()).prop_map(|(members, flaw, space)| {
                let colon = if flaw == 11 { " " } else { ":" };
                let members: Vec<String> = members.iter().map(|(k, v)| format!("{k}{space}{colon}{v}")).collect();
                let comma = if flaw == 8 { " ".to_owned() } else { format!(",{space}") };
                let joined = members.join(&comma);
                match flaw {
                    7 => format!("{{{joined},}}"),
                    9 => format!("{{{joined}"),
                    10 => format!("{{,{joined}}}"),
                    _ => format!("{{{space}{joined}}}"),
                }
            }),
        ]
    })
}

/// A valid document with a few characters deleted, inserted or replaced.
fn mutated() -> impl Strategy<Value = String> {
    let edit =
        (any::<Index>(), 0..3u8, select(vec!['{', '}', '[', ']', ':', ',', '"', '\\', '0', '-', '.', 'e', ' ', 'u']));
    (value(), prop::collection::vec(edit, 1..4)).prop_map(|(value, edits)| {
        let mut chars: Vec<char> = serde_json::to_string(&value).unwrap().chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 if i < chars.len() => {
                    chars.remove(i);
                }
                1 if i < chars.len() => chars[i] = c,
                _ => chars.insert(i, c),
            }
        }
        String::from_iter(chars)
    })
}

// ---- properties -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a) Any bytes (read as UTF-8, lossily), any string: no panic, and an error is located.
    #[test]
    fn arbitrary_input_never_panics(bytes in any::<Vec<u8>>(), text in any::<String>()) {
        for text in [String::from_utf8_lossy(&bytes).into_owned(), text] {
            if let Err(error) = parse_document(&text) {
                located(&text, &error)?;
            }
        }
    }

    /// (a, b) Scalars and documents near JSON, and valid ones with a few edits: accepted exactly when
    /// serde_json accepts it (apart from duplicate keys, nesting and f64 range), to the same
    /// tree; refused with a located error.
    #[test]
    fn accepts_what_serde_json_accepts(
        near in near_json(), bom in any::<bool>(), after in select(vec!["", " \n", " x", ",", "}"]),
        scalars in prop::collection::vec(near_scalar(), 1..8), soup in json_soup(), mutated in mutated()
    ) {
        for scalar in scalars {
            agrees_with_serde(&scalar)?;
        }
        agrees_with_serde(&format!("{}{near}{after}", if bom { "\u{feff}" } else { "" }))?;
        agrees_with_serde(&soup)?;
        agrees_with_serde(&mutated)?;
    }

    /// (b) A document written by serde_json, compact, pretty, or with every character of
    /// every string escaped, reads back as the same tree, numbers as serde_json wrote them.
    #[test]
    fn serde_json_documents_read_back_unchanged(value in value()) {
        let tree = expected(&value);
        for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap(), escaped(&value)] {
            prop_assert_eq!(parse_document(&text), Ok(tree.clone()), "{}", text);
        }
    }

    /// (b) Every JSON number keeps its text exactly, however long or far out of f64 range.
    #[test]
    fn numbers_keep_their_text(number in "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,40})?([eE][+-]?[0-9]{1,5})?") {
        prop_assert_eq!(
            parse_document(&format!(" [ {number} ]\n")),
            Ok(Document::Array(vec![Document::Number(number.clone())]))
        );
    }

    /// (c) A key written twice in any object at any depth, the second time plain or escaped,
    /// is refused, naming the path of the repeated key.
    #[test]
    fn a_duplicate_key_anywhere_is_refused_with_its_path(
        value in value(), object in any::<Index>(), key in any::<Index>(), after in any::<Index>(), escape in any::<bool>()
    ) {
        let value = if non_empty_objects(&value) == 0 { serde_json::json!({ "k": value }) } else { value };
        let duplicate = Duplicate { object: object.index(non_empty_objects(&value)), key, after, escape };
        let mut text = String::new();
        let path = write_with_duplicate(&value, &duplicate, &mut 0, &mut Vec::new(), &mut text);
        let path = path.unwrap();
        prop_assert_eq!(
            parse_document(&text),
            Err(RequestError { path, message: "duplicate key".to_owned() }),
            "{}", text
        );
    }

    /// (d) Arrays and objects nested to any depth: within the limit the document is read,
    /// beyond it the answer is an error at the first container too deep (never a stack
    /// overflow, even ten thousand levels down).
    #[test]
    fn nesting_beyond_the_limit_is_an_error(depth in prop_oneof![1..=MAX_DEPTH + 2, MAX_DEPTH..20_000], shape in any::<u64>()) {
        let object = |level: usize| shape >> (level % 64) & 1 == 1;
        let mut text = String::new();
        for level in 0..depth {
            text.push_str(if object(level) { "{\"k\":" } else { "[" });
        }
        text.push_str("null");
        for level in (0..depth).rev() {
            text.push(if object(level) { '}' } else { ']' });
        }
        match parse_document(&text) {
            Ok(mut document) => {
                prop_assert!(depth <= MAX_DEPTH, "{} levels accepted", depth);
                let mut levels = 0;
                loop {
                    document = match document {
                        Document::Array(mut items) if items.len() == 1 => items.remove(0),
                        Document::Object(mut members) if members.len() == 1 => members.remove(0).1,
                        other => {
                            prop_assert_eq!(other, Document::Null);
                            break;
                        }
                    };
                    levels += 1;
                }
                prop_assert_eq!(levels, depth);
            }
            Err(error) => {
                prop_assert!(depth > MAX_DEPTH, "{} levels refused: {}", depth, error);
                let opener = (0..MAX_DEPTH).map(|level| if object(level) { 5 } else { 1 }).sum::<usize>() + 1;
                prop_assert_eq!(
                    error.to_string(),
                    format!("invalid JSON at line 1, column {opener}: arrays and objects nest more than {MAX_DEPTH} deep")
                );
            }
        }
    }
}
