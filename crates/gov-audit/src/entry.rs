//! What a caller logs: an [`Entry`], and its JSON form.

use crate::AuditError;
use crate::record::MAX_LINE_BYTES;
use gov_vm::json::push_string;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use std::time::{SystemTime, UNIX_EPOCH};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A request was decided.
    Decision,
    /// An approver approved or rejected an escalated decision (and it was decided again).
    Approval,
    /// A bundle was loaded, or refused.
    BundleLoad,
}

impl EntryKind {
    /// The record's `kind`: `decision`, `approval` or `bundle_load`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Decision => "decision",
            EntryKind::Approval => "approval",
            EntryKind::BundleLoad => "bundle_load",
        }
    }
}

/// A JSON field of an entry: a value, or JSON text the caller already has (the request as
/// it was received, a decision already rendered for the answer), written as it is.
#[derive(Debug, Clone)]
pub enum JsonField {
    /// A value, serialised into the record.
    Value(Value),
    /// JSON text without whitespace between its tokens (made by [`JsonField::text`],
    /// [`JsonField::read`] or [`JsonField::written`]).
    Text(JsonText),
}

/// Compact JSON text of a [`JsonField`]. Invariant: one JSON value with no whitespace
/// between its tokens (so a record stays one line); only `JsonField`'s constructors make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(String);

impl JsonText {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl JsonField {
    /// JSON text for the record: checked to be one JSON value, and compacted (the
    /// whitespace between tokens dropped; strings are kept byte for byte), so that a record
    /// stays one line. Numbers keep the digits they were written with.
    pub fn text(json: &str) -> Result<JsonField, AuditError> {
        let compact = compact(json);
        serde_json::from_str::<&RawValue>(&compact).map_err(|e| AuditError::Entry(format!("not JSON: {e}")))?;
        Ok(JsonField::Text(JsonText(compact)))
    }

    /// [`JsonField::text`] without the check, for text the caller has already read as one
    /// JSON value (a request its engine accepted): only compacted. Text that is not JSON
    /// would make a record `verify` refuses, so the caller must have read it.
    pub fn read(json: &str) -> JsonField {
        JsonField::Text(JsonText(compact(json)))
    }

    /// Text the caller wrote as compact JSON (one value, no whitespace between tokens: a
    /// decision from `gov_vm::json::decision_text`), taken as it is.
    pub fn written(json: String) -> JsonField {
        JsonField::Text(JsonText(json))
    }
}

impl Default for JsonField {
    fn default() -> JsonField {
        JsonField::Value(Value::Null)
    }
}

impl From<Value> for JsonField {
    fn from(value: Value) -> JsonField {
        JsonField::Value(value)
    }
}

impl PartialEq for JsonField {
    /// Fields are equal when they write the same JSON text.
    fn eq(&self, other: &JsonField) -> bool {
        match (self, other) {
            (JsonField::Value(a), JsonField::Value(b)) => a == b,
            (JsonField::Text(a), JsonField::Text(b)) => a == b,
            (a, b) => serde_json::to_string(a).ok() == serde_json::to_string(b).ok(),
        }
    }
}

impl Serialize for JsonField {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonField::Value(value) => value.serialize(serializer),
            JsonField::Text(text) => {
                // Not on the record's path (`Entry::body` copies the text): for comparing
                // and for serde callers. The invariant makes it JSON.
                let raw: &RawValue = serde_json::from_str(&text.0).map_err(serde::ser::Error::custom)?;
                raw.serialize(serializer)
            }
        }
    }
}

/// `json` without the whitespace between its tokens. Invariant: inside a string, JSON has
/// no raw whitespace but the space (control characters are escaped), so only what lies
/// outside strings is dropped. Works on bytes: the bytes looked at are ASCII, which never
/// occur inside a multi-byte UTF-8 sequence, so the result is UTF-8 as the input is (an
/// escape's backslash is ASCII and so is the byte after it, in JSON).
fn compact(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    // Copies runs of bytes at once: outside a string up to whitespace or a quote, inside
    // one up to its closing quote (skipping escaped characters).
    while let Some((&first, tail)) = rest.split_first() {
        match first {
            b' ' | b'\t' | b'\n' | b'\r' => rest = tail,
            b'"' => {
                let mut end = 1;
                while let Some(&b) = rest.get(end) {
                    end += match b {
                        b'"' => break,
                        b'\\' => 2,
                        _ => 1,
                    };
                }
                let (string, after) = rest.split_at((end + 1).min(rest.len()));
                out.extend_from_slice(string);
                rest = after;
            }
            _ => {
                let run =
                    rest.iter().position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'"')).unwrap_or(rest.len());
                let (token, after) = rest.split_at(run);
                out.extend_from_slice(token);
                rest = after;
            }
        }
    }
    // Only ASCII bytes were dropped (see above), so this is never the lossy case.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// One event to log. The JSON fields hold the engine's JSON as the caller has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// What happened.
    pub kind: EntryKind,
    /// The decision's id (an approval carries the id of the decision it answers, so
    /// `govc audit show ID` finds both).
    pub id: String,
    /// When it happened.
    pub time: SystemTime,
    /// The bundle that decided (`sha256:…`), or that was loaded.
    pub bundle_hash: Option<String>,
    /// The request JSON, or `null`.
    pub request: JsonField,
    /// The decision JSON (DESIGN §5: `{"decision": "allow", …}`) or the outcome as a
    /// string, or `null`.
    pub decision: JsonField,
    /// The reasons (the decision's `reasons` array, or an error), or `null`.
    pub reasons: JsonField,
    /// Who approved or rejected, for an approval.
    pub approver: Option<String>,
    /// How long the work took, in microseconds.
    pub duration_us: u64,
}

impl Entry {
    /// An entry of `kind` for `id`, now, with every other field empty.
    pub fn new(kind: EntryKind, id: impl Into<String>) -> Entry {
        Entry {
            kind,
            id: id.into(),
            time: SystemTime::now(),
            bundle_hash: None,
            request: JsonField::default(),
            decision: JsonField::default(),
            reasons: JsonField::default(),
            approver: None,
            duration_us: 0,
        }
    }

    /// The record's fields after `seq` and `prev`, as a JSON object in a fixed order:
    /// `kind`, `id`, `time`, `bundle`, `request`, `decision`, `reasons`, `approver`,
    /// `duration_us`. Made by the caller's thread, so the writer only chains and writes.
    /// Written field by field (no serialiser per record); `body_is_what_serde_writes`
    /// checks it against serde_json's rendering of the same fields.
    pub(crate) fn body(&self) -> Result<String, AuditError> {
        // Built as a `String` from UTF-8 pieces (no check of the whole at the end); strings
        // through the decision writer's escaper, which writes what serde_json writes.
        let fields = [&self.request, &self.decision, &self.reasons];
        let mut text = String::with_capacity(256 + fields.iter().map(|f| f.len_hint()).sum::<usize>());
        text.push_str("{\"kind\":\"");
        text.push_str(self.kind.as_str());
        text.push_str("\",\"id\":");
        push_string(&mut text, &self.id);
        text.push_str(",\"time\":\"");
        // An RFC 3339 time has nothing to escape.
        text.push_str(&format_system_time(self.time));
        text.push_str("\",\"bundle\":");
        optional_string(&mut text, self.bundle_hash.as_deref());
        for (name, field) in [("request", &self.request), ("decision", &self.decision), ("reasons", &self.reasons)] {
            text.push_str(",\"");
            text.push_str(name);
            text.push_str("\":");
            field.write(&mut text)?;
        }
        text.push_str(",\"approver\":");
        optional_string(&mut text, self.approver.as_deref());
        text.push_str(",\"duration_us\":");
        text.push_str(itoa::Buffer::new().format(self.duration_us));
        text.push('}');
        if text.len() > MAX_LINE_BYTES - 128 {
            return Err(AuditError::Entry(format!(
                "its JSON is {} bytes; a record is at most {MAX_LINE_BYTES} bytes",
                text.len()
            )));
        }
        Ok(text)
    }
}

impl JsonField {
    /// About how many bytes the field writes.
    fn len_hint(&self) -> usize {
        match self {
            JsonField::Value(_) => 64,
            JsonField::Text(text) => text.0.len(),
        }
    }

    /// Appends the field's JSON text.
    fn write(&self, out: &mut String) -> Result<(), AuditError> {
        match self {
            JsonField::Value(value) => {
                let json = serde_json::to_string(value).map_err(|e| AuditError::Entry(e.to_string()))?;
                out.push_str(&json);
            }
            JsonField::Text(text) => out.push_str(&text.0),
        }
        Ok(())
    }
}

/// Appends `text` as a JSON string, or `null`.
fn optional_string(out: &mut String, text: Option<&str>) {
    match text {
        Some(text) => push_string(out, text),
        None => out.push_str("null"),
    }
}

/// RFC 3339 in UTC, to the nanosecond; times outside what a Gov `Time` holds (years 1678 to
/// 2261) are clamped to its ends.
pub(crate) fn format_system_time(time: SystemTime) -> String {
    let nanos = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    };
    gov_value::format_time(nanos)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_text_is_compacted_with_its_strings_and_digits_kept() {
        let text = "{\n  \"a\": [1, 2.50000000000000000001],\n\t\"s\": \"x  \\\" y\\\\\"\r\n}";
        let field = JsonField::text(text).unwrap();
        assert_eq!(serde_json::to_string(&field).unwrap(), r#"{"a":[1,2.50000000000000000001],"s":"x  \" y\\"}"#);
        assert!(matches!(JsonField::text("{\"a\": 1"), Err(AuditError::Entry(m)) if m.contains("not JSON")));
        // Text already read as JSON is compacted the same way, without the check.
        assert_eq!(JsonField::read(text), field);
    }

    /// The record body as serde_json writes a struct of the same fields, in the same order.
    #[derive(Serialize)]
    struct SerdeBody<'a> {
        kind: &'a str,
        id: &'a str,
        time: String,
        bundle: Option<&'a str>,
        request: &'a JsonField,
        decision: &'a JsonField,
        reasons: &'a JsonField,
        approver: Option<&'a str>,
        duration_us: u64,
    }

    #[test]
    fn body_is_what_serde_writes() {
        let mut entry = Entry::new(EntryKind::Approval, "id \"quoted\" \u{1} é \\");
        entry.time = UNIX_EPOCH + std::time::Duration::from_nanos(1_764_000_000_123_456_789);
        entry.bundle_hash = Some("sha256:00ff".to_owned());
        entry.request = JsonField::text("{\"a\": [1, 2.50000000000000000001], \"s\": \"tab\\t ü\"}").unwrap();
        entry.decision =
            serde_json::json!({"decision": "allow", "reasons": [{"message": "line\nbreak \u{7f} ✓"}]}).into();
        entry.approver = Some("ünïcode \u{1f} approver".to_owned());
        entry.duration_us = u64::MAX;
        let plain = Entry::new(EntryKind::BundleLoad, "bundle");
        for entry in [entry, plain] {
            let serde = serde_json::to_string(&SerdeBody {
                kind: entry.kind.as_str(),
                id: &entry.id,
                time: format_system_time(entry.time),
                bundle: entry.bundle_hash.as_deref(),
                request: &entry.request,
                decision: &entry.decision,
                reasons: &entry.reasons,
                approver: entry.approver.as_deref(),
                duration_us: entry.duration_us,
            })
            .unwrap();
            assert_eq!(entry.body().unwrap(), serde);
        }
    }

    #[test]
    fn compaction_keeps_multi_byte_characters_and_escapes() {
        let text = "{ \"ü\" : [ \"a  ✓\\\" \" , \"\\\\\" ] }";
        assert_eq!(compact(text), "{\"ü\":[\"a  ✓\\\" \",\"\\\\\"]}");
        // Text that is not JSON is not refused here (`JsonField::text` refuses it after).
        assert_eq!(compact("{ \"a\\"), "{\"a\\");
        assert_eq!(compact(" \"x y"), "\"x y");
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "[ \t\n\"\\\\a-zé✓\u{1}]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("[ \"a-z\\\\]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Compacting JSON as serde_json pretty-prints it gives what serde_json writes
        /// compactly.
        #[test]
        fn compaction_is_what_serde_writes(value in json_value()) {
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            proptest::prop_assert_eq!(compact(&pretty), serde_json::to_string(&value).unwrap());
        }
    }
}
