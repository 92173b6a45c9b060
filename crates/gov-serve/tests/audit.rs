//! The service's audit log: every decision, approval, expiry and bundle load is a record
//! of the chain, written before it is answered, and the chain verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers

mod common;

use common::{Client, HOUR, Server, finance, large_payment, routine_payment, scratch};
use gov_audit::{LogOptions, Query};
use serde_json::json;

#[test]
fn decisions_approvals_expiries_and_bundle_loads_are_logged_before_they_are_answered() {
    let dir = scratch("audit-log");
    let log = dir.join("log");
    let mut config = finance();
    config.log = Some((log.clone(), LogOptions::default()));
    config.approval_timeout = std::time::Duration::from_secs(3600);
    let server = Server::start(config);
    let client = Client::new();

    let allowed = client.post(&server.url("/v1/decide"), routine_payment()).json();
    let allowed_id = allowed["id"].as_str().unwrap().to_owned();
    // Logged before the answer: the record is there now.
    let found = gov_audit::search(&log, &Query { id: Some(allowed_id.clone()), ..Query::default() }, None).unwrap();
    assert_eq!(found.found.len(), 1);
    let record = &found.found[0].record;
    assert_eq!(record["kind"], "decision");
    assert_eq!(record["decision"]["decision"], "allow");
    assert_eq!(record["bundle"], allowed["bundle"]);
    assert_eq!(record["request"]["requested_by"][0]["requester"], "pay-bot");

    let escalated = client.post(&server.url("/v1/decide"), large_payment()).json();
    let id = escalated["id"].as_str().unwrap().to_owned();
    let answer = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "approve", "person": "uma", "comment": "fine" }).to_string(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    let found = gov_audit::search(&log, &Query { id: Some(id.clone()), ..Query::default() }, None).unwrap();
    let kinds: Vec<&str> = found.found.iter().map(|f| f.record["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["decision", "approval"]);
    assert_eq!(found.found[1].record["approver"], "uma");
    assert_eq!(found.found[1].record["decision"]["decision"], "escalate");

    let second = client.post(&server.url("/v1/decide"), large_payment()).json();
    let expiring = second["id"].as_str().unwrap().to_owned();
    server.clock.advance(2 * HOUR);
    let view = client.get(&server.url(&format!("/v1/decisions/{expiring}"))).json();
    assert_eq!(view["status"], "expired");

    server.stop().unwrap();
    let verified = gov_audit::verify(&log, None).unwrap();
    assert!(verified.problem.is_none(), "{:?}", verified.problem);
    let all = gov_audit::search(&log, &Query::default(), None).unwrap();
    let kinds: Vec<&str> = all.found.iter().map(|f| f.record["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"bundle_load"));
    let expired = gov_audit::search(&log, &Query { id: Some(expiring), ..Query::default() }, None).unwrap();
    let outcomes: Vec<&str> = expired.found.iter().filter_map(|f| gov_audit::outcome(&f.record)).collect();
    assert_eq!(outcomes, ["escalate", "deny"]);
}

#[test]
fn a_refused_reload_is_logged_and_the_old_bundle_kept() {
    let dir = scratch("audit-reload");
    std::fs::write(dir.join("p.gov"), "package p\n\ninput act(name: Str)\n\nallow ok :- act(_).\n").unwrap();
    let log = dir.join("log");
    let mut config = common::config(dir.clone());
    config.log = Some((log.clone(), LogOptions::default()));
    let server = Server::start(config);
    std::fs::write(dir.join("p.gov"), "package p\n\nallow :- .\n").unwrap();
    server.reload().unwrap_err();
    let loads =
        gov_audit::search(&log, &Query { kind: Some("bundle_load".to_owned()), ..Query::default() }, None).unwrap();
    let outcomes: Vec<&str> = loads.found.iter().filter_map(|f| gov_audit::outcome(&f.record)).collect();
    assert_eq!(outcomes, ["loaded", "refused"]);
}

/// A decision's record carries the request as it was received, on one line: a number
/// keeps the digits it was sent with (not re-read as a float), and the decision is the
/// text the caller was answered with.
#[test]
fn the_request_is_logged_as_received_on_one_line() {
    let dir = scratch("audit-raw-request");
    let log = dir.join("log");
    let mut config = finance();
    config.log = Some((log.clone(), LogOptions::default()));
    let server = Server::start(config);
    // The example's request file is written over several lines.
    let request = routine_payment().replace("\"1200.00\"", "1200.000000000000000001");
    assert!(request.contains('\n') && request.contains("1200.000000000000000001"));
    let answer = Client::new().post(&server.url("/v1/decide"), request);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let id = answer.json()["id"].as_str().unwrap().to_owned();
    server.stop().unwrap();

    let text = std::fs::read_to_string(log.join("audit-00000001.jsonl")).unwrap();
    let line = text.lines().find(|l| l.contains(&format!("\"id\":\"{id}\""))).unwrap();
    assert!(line.contains("\"amount\":1200.000000000000000001"), "{line}");
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    let mut answered = answer.json();
    let answered = answered.as_object_mut().unwrap();
    answered.remove("id");
    answered.remove("status");
    assert_eq!(record["decision"], serde_json::Value::Object(answered.clone()));
    assert_eq!(gov_audit::verify(&log, None).unwrap().problem, None);
}
