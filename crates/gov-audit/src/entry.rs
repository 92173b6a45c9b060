//! What a caller logs: an [`Entry`], and its JSON form.

use crate::AuditError;
use crate::record::MAX_LINE_BYTES;
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
    /// JSON text without whitespace between its tokens (see [`JsonField::text`]).
    Text(Box<RawValue>),
}

impl JsonField {
    /// JSON text for the record: checked to be one JSON value, and compacted (the
    /// whitespace between tokens dropped; strings are kept byte for byte), so that a record
    /// stays one line. Numbers keep the digits they were written with.
    pub fn text(json: &str) -> Result<JsonField, AuditError> {
        let compact = compact(json);
        RawValue::from_string(compact).map(JsonField::Text).map_err(|e| AuditError::Entry(format!("not JSON: {e}")))
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
            (JsonField::Text(a), JsonField::Text(b)) => a.get() == b.get(),
            (a, b) => serde_json::to_string(a).ok() == serde_json::to_string(b).ok(),
        }
    }
}

impl Serialize for JsonField {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonField::Value(value) => value.serialize(serializer),
            JsonField::Text(text) => text.serialize(serializer),
        }
    }
}

/// `json` without the whitespace between its tokens. Invariant: inside a string, JSON has
/// no raw whitespace but the space (control characters are escaped), so only what lies
/// outside strings is dropped.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
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
    pub(crate) fn body(&self) -> Result<String, AuditError> {
        let body = Body {
            kind: self.kind.as_str(),
            id: &self.id,
            time: format_system_time(self.time),
            bundle: self.bundle_hash.as_deref(),
            request: &self.request,
            decision: &self.decision,
            reasons: &self.reasons,
            approver: self.approver.as_deref(),
            duration_us: self.duration_us,
        };
        let text = serde_json::to_string(&body).map_err(|e| AuditError::Entry(e.to_string()))?;
        if text.len() > MAX_LINE_BYTES - 128 {
            return Err(AuditError::Entry(format!(
                "its JSON is {} bytes; a record is at most {MAX_LINE_BYTES} bytes",
                text.len()
            )));
        }
        Ok(text)
    }
}

#[derive(Serialize)]
struct Body<'a> {
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
    }
}
