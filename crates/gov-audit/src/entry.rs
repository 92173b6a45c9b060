//! What a caller logs: an [`Entry`], and its JSON form.

use crate::AuditError;
use crate::record::MAX_LINE_BYTES;
use serde::Serialize;
use serde_json::Value;
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
    pub request: Value,
    /// The decision JSON (DESIGN §5: `{"decision": "allow", …}`) or the outcome as a
    /// string, or `null`.
    pub decision: Value,
    /// The reasons (the decision's `reasons` array, or an error), or `null`.
    pub reasons: Value,
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
            request: Value::Null,
            decision: Value::Null,
            reasons: Value::Null,
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
    request: &'a Value,
    decision: &'a Value,
    reasons: &'a Value,
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
