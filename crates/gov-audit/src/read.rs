//! Reading records back for an auditor: `govc audit show ID` and `govc audit search`.
//! Reading does not verify (that is [`crate::verify()`]); a line that is not a JSON object
//! is counted and skipped.

use crate::AuditError;
use crate::files::{self, Lines};
use crate::record::{CHECKPOINT, RECOVERY};
use serde_json::Value;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// Which records to return; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// The record's `id` (a decision and the approvals that answer it share it).
    pub id: Option<String>,
    /// An `agent` field of any fact of the request.
    pub agent: Option<String>,
    /// The outcome: the decision's `decision` field (or the decision, if it is a string).
    pub decision: Option<String>,
    /// The record's `kind`. Without it, checkpoints and recovery records are left out.
    pub kind: Option<String>,
    /// At or after this time (nanoseconds since the Unix epoch).
    pub since: Option<i64>,
    /// Before this time (nanoseconds since the Unix epoch).
    pub until: Option<i64>,
}

/// A record and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The log file.
    pub file: PathBuf,
    /// The 1-based line.
    pub line: u64,
    /// The record as stored.
    pub record: Value,
}

/// The matching records, oldest first, and how many lines were not records.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Search {
    /// The matches (the last `limit` of them, if a limit was given).
    pub found: Vec<Found>,
    /// How many matched in all.
    pub matched: u64,
    /// Lines that are not JSON objects (`govc audit verify` says more).
    pub skipped: u64,
}

/// The outcome a record names: its decision's `decision` field, or its decision if that
/// is a string.
pub fn outcome(record: &Value) -> Option<&str> {
    let decision = record.get("decision")?;
    decision.as_str().or_else(|| decision.get("decision").and_then(Value::as_str))
}

impl Query {
    /// Whether `record` matches every condition given.
    pub fn matches(&self, record: &Value) -> bool {
        let text = |field: &str| record.get(field).and_then(Value::as_str);
        let kind = text("kind").unwrap_or_default();
        let kind_ok = match &self.kind {
            Some(wanted) => kind == wanted,
            None => kind != CHECKPOINT && kind != RECOVERY,
        };
        let time = || text("time").and_then(|t| gov_value::parse_time(t).ok());
        kind_ok
            && self.id.as_deref().is_none_or(|id| text("id") == Some(id))
            && self.decision.as_deref().is_none_or(|d| outcome(record) == Some(d))
            && self.agent.as_deref().is_none_or(|agent| has_agent(record.get("request"), agent))
            && self.since.is_none_or(|since| time().is_some_and(|t| t >= since))
            && self.until.is_none_or(|until| time().is_some_and(|t| t < until))
    }
}

/// Whether a fact of the request (`{"relation": [{"agent": …}, …], …}`) has `agent`.
fn has_agent(request: Option<&Value>, agent: &str) -> bool {
    let Some(Value::Object(relations)) = request else { return false };
    relations
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .any(|fact| fact.get("agent").and_then(Value::as_str) == Some(agent))
}

/// The records of the log in `dir` that match `query`, oldest first; with a `limit`, the
/// newest `limit` of them.
pub fn search(dir: &Path, query: &Query, limit: Option<usize>) -> Result<Search, AuditError> {
    let mut result = Search::default();
    let mut found = VecDeque::new();
    for file in files::list(dir)? {
        for line in Lines::open(&file.path)? {
            let line = line?;
            let record = match serde_json::from_slice::<Value>(&line.bytes) {
                Ok(record @ Value::Object(_)) if line.complete && !line.oversized => record,
                _ => {
                    result.skipped += 1;
                    continue;
                }
            };
            if query.matches(&record) {
                result.matched += 1;
                found.push_back(Found { file: file.path.clone(), line: line.number, record });
                if limit.is_some_and(|limit| found.len() > limit) {
                    found.pop_front();
                }
            }
        }
    }
    result.found = found.into();
    Ok(result)
}
