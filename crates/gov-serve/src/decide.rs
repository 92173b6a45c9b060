//! Deciding a request's JSON text with a policy, and the text of its re-decision: the
//! original request with the approvals given so far and the time moved on.

use crate::error::ApiError;
use crate::policy::Policy;
use gov_vm::Outcome;
use serde_json::value::RawValue;
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::ops::Range;

/// A decided request.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// The outcome (`deny` for an evaluation error).
    pub outcome: Outcome,
    /// The decision JSON of the contract (DESIGN §5) as compact text, or a deny with the
    /// error attached: written once, answered and logged as it is.
    pub document: String,
    /// Where the document's `reasons` array lies in it (`None` for an evaluation error's).
    /// Invariant: on `char` boundaries of `document`.
    reasons_at: Option<Range<usize>>,
    /// The fired decision rules (the document's `reasons`): name and effect.
    pub rules: Vec<(String, &'static str)>,
    /// The groups an escalation goes to.
    pub groups: Vec<String>,
    /// The derivation of the fired rules (`--explain`), for escalations.
    pub explanation: Option<Json>,
    /// The request's `requested_by`.
    pub requester: Option<String>,
    /// The request's `request_time`.
    pub request_time: Option<i64>,
}

impl Evaluated {
    /// The text of the document's `reasons` array, if it has one.
    pub fn reasons(&self) -> Option<&str> {
        self.reasons_at.clone().and_then(|at| self.document.get(at))
    }

    /// The document as a JSON value, for views (the hot path keeps the text).
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.document).unwrap_or(Json::Null)
    }
}

/// An approval or a rejection given through the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// The approver (a token's name).
    pub person: String,
    /// The group approved for.
    pub group: String,
    /// `true` to approve, `false` to reject.
    pub approve: bool,
    /// The approver's comment.
    pub comment: String,
    /// When, on the request's clock (its `request_time` moved on by the service's clock).
    pub at: i64,
}

/// Decides `text` with `policy`. A request that states approvals itself is refused when
/// `fresh` (only the service adds approvals). Bad requests are errors (answering deny);
/// an evaluation error is a deny with the error attached.
pub fn evaluate(policy: &Policy, text: &str, fresh: bool) -> Result<Evaluated, ApiError> {
    let engine = &policy.engine;
    let request = engine.request_from_json(text).map_err(|e| {
        ApiError::new(axum::http::StatusCode::BAD_REQUEST, "invalid_request", e.message.clone()).at(&e.path).denying()
    })?;
    if fresh && policy.states_approvals(&request) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "approval_in_request",
            "a request may not state approvals (`approval`, `approval_at`): approvers give them through \
             POST /v1/decisions/{id}/approvals",
        )
        .denying());
    }
    let requester = policy.requester(&request);
    let request_time = policy.request_time(&request);
    let decided = engine.decide(&request).and_then(|decision| {
        let report = engine.report(&request, &decision)?;
        let document = gov_vm::json::decision_text(engine, &report);
        let explanation = match decision.outcome {
            Outcome::Escalate => {
                let (_, explanation) = engine.explain(&request)?;
                Some(gov_vm::json::explanation(engine, &request, &explanation)?)
            }
            _ => None,
        };
        Ok((report, document, explanation))
    });
    Ok(match decided {
        Ok((report, document, explanation)) => Evaluated {
            outcome: report.outcome,
            document: document.text,
            reasons_at: Some(document.reasons),
            rules: report.reasons.into_iter().map(|r| (r.rule, r.effect.keyword())).collect(),
            groups: report.approvers,
            explanation,
            requester,
            request_time,
        },
        Err(error) => Evaluated {
            outcome: Outcome::Deny,
            document: json!({
                "decision": "deny",
                "error": { "code": "evaluation_error", "message": error.to_string() },
                "bundle": engine.hash(),
            })
            .to_string(),
            reasons_at: None,
            rules: Vec::new(),
            groups: Vec::new(),
            explanation: None,
            requester,
            request_time,
        },
    })
}

/// The text of a re-decision: `original` without its `request_time`, then `request_time`
/// at `now` (on the request's clock) and each approval given so far as `approval` and
/// `approval_at` facts. The original's values are copied as written (numbers are not
/// re-read), so only the service's facts change.
pub fn redecision(
    policy: &Policy,
    original: &str,
    now: Option<i64>,
    approvals: &[Approval],
) -> Result<String, ApiError> {
    let relations = policy.approvals.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "approvals_unsupported",
            "the policy does not use std.approvals: it has no `approval` and `approval_at` inputs to add",
        )
    })?;
    let fields: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(original).map_err(|e| ApiError::internal(format!("the stored request: {e}")))?;
    let name =
        |rel: u32| policy.engine.program().relations.get(rel as usize).map(|r| policy.engine.program().string(r.name));
    let time_name = policy.request_time.and_then(name);
    // Only the service's facts are built as values; the caller's are spliced in as written.
    let mut added = serde_json::Map::new();
    if let (Some(rel), Some(name), Some(now)) = (policy.request_time, time_name, now) {
        added.insert(name.to_owned(), json!([{ policy.column_name(rel, 0): gov_value::format_time(now) }]));
    }
    let given: Vec<&Approval> = approvals.iter().filter(|a| a.approve).collect();
    if let Some(name) = name(relations.approval) {
        let rows: Vec<Json> = given
            .iter()
            .map(|a| {
                json!({ policy.column_name(relations.approval, 0): a.person, policy.column_name(relations.approval, 1): a.group })
            })
            .collect();
        added.insert(name.to_owned(), Json::Array(rows));
    }
    if let Some(name) = name(relations.approval_at) {
        let rel = relations.approval_at;
        let rows: Vec<Json> = given
            .iter()
            .map(|a| {
                json!({
                    policy.column_name(rel, 0): a.person,
                    policy.column_name(rel, 1): a.group,
                    policy.column_name(rel, 2): gov_value::format_time(a.at),
                })
            })
            .collect();
        added.insert(name.to_owned(), Json::Array(rows));
    }
    let mut text = String::from("{");
    for (key, value) in &fields {
        if Some(key.as_str()) == time_name || added.contains_key(key) {
            continue;
        }
        push_field(&mut text, key, value.get());
    }
    for (key, value) in &added {
        push_field(&mut text, key, &value.to_string());
    }
    text.push('}');
    Ok(text)
}

/// Appends `"key": value` to an object being written.
fn push_field(text: &mut String, key: &str, value: &str) {
    if text.len() > 1 {
        text.push(',');
    }
    text.push_str(&Json::String(key.to_owned()).to_string());
    text.push(':');
    text.push_str(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Source;

    fn finance() -> Policy {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/finance");
        let source = Source { path, data: Vec::new(), public_key: None, limits: gov_vm::Limits::default() };
        Policy::load(&source, 0).unwrap()
    }

    #[test]
    fn a_redecision_keeps_the_callers_facts_as_written_and_replaces_the_time() {
        let policy = finance();
        let original = r#"{"request_time": [{"at": "2026-03-03T16:00:00Z"}], "requested_by": [{"requester": "treasury-bot"}],
            "payment": [{"agent": "treasury-bot", "amount": 75000.000000000000000001, "currency": "EUR",
                         "beneficiary": "Istmo Import SA", "country": "PA"}]}"#;
        let at = gov_value::parse_time("2026-03-03T17:00:00Z").unwrap();
        let approval = Approval {
            person: "uma".to_owned(),
            group: "treasury".to_owned(),
            approve: true,
            comment: String::new(),
            at,
        };
        let rejected = Approval { approve: false, person: "gus".to_owned(), ..approval.clone() };
        let text = redecision(&policy, original, Some(at), &[approval, rejected]).unwrap();
        // The number is copied as written, not re-read as a float.
        assert!(text.contains("75000.000000000000000001"), "{text}");
        let json: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(json["request_time"], json!([{ "at": "2026-03-03T17:00:00Z" }]));
        assert_eq!(json["approval"], json!([{ "person": "uma", "group": "treasury" }]));
        assert_eq!(
            json["approval_at"],
            json!([{ "person": "uma", "group": "treasury", "at": "2026-03-03T17:00:00Z" }])
        );
        assert_eq!(json["requested_by"], json!([{ "requester": "treasury-bot" }]));
    }
}
