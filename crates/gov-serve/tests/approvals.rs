//! The approval flow over loopback HTTP, through the finance example's std.approvals
//! rules: self-approval refused by the policy, a quorum of two, expiry (the policy's
//! validity window and the service's escalation timeout), rejection and the long poll.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers

mod common;

use common::{Client, HOUR, Server, finance, large_payment};
use serde_json::{Value, json};

/// Decides the large payment; returns its id.
fn escalate(server: &Server, client: &Client) -> String {
    let answer = client.post(&server.url("/v1/decide"), large_payment());
    assert_eq!(answer.status, 200, "{}", answer.text);
    let decision = answer.json();
    assert_eq!(decision["decision"], "escalate");
    assert_eq!(decision["status"], "pending");
    assert_eq!(decision["approvers"], json!(["treasury", "fraud-desk"]));
    decision["id"].as_str().unwrap().to_owned()
}

/// Approves `id` as `person` (the local administrator names the person).
fn approve(server: &Server, client: &Client, id: &str, person: &str) -> Value {
    let answer = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "approve", "person": person }).to_string(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

/// The groups the current decision still escalates to.
fn waiting_for(view: &Value) -> Value {
    view["decision"]["approvers"].clone()
}

#[test]
fn self_approval_does_not_count_and_a_quorum_of_two_then_the_fraud_desk_allow() {
    let server = Server::start(finance());
    let client = Client::new();
    let id = escalate(&server, &client);

    // tom owns treasury-bot, the requester: the policy's separation of duties ignores him.
    let view = approve(&server, &client, &id, "tom");
    assert_eq!(view["status"], "pending");
    assert_eq!(waiting_for(&view), json!(["treasury", "fraud-desk"]));
    assert_eq!(view["approvals"][0]["person"], "tom");

    // One independent treasury approval of the two the quorum needs.
    let view = approve(&server, &client, &id, "uma");
    assert_eq!(waiting_for(&view), json!(["treasury", "fraud-desk"]));

    // The second: treasury is satisfied, the fraud desk still waits.
    let view = approve(&server, &client, &id, "victor");
    assert_eq!(view["status"], "pending");
    assert_eq!(waiting_for(&view), json!(["fraud-desk"]));

    // A long poll started now returns when the last approval arrives.
    let poll = {
        let url = server.url(&format!("/v1/decisions/{id}?wait=30s"));
        std::thread::spawn(move || Client::new().get(&url))
    };
    server.wait_for_polls(1);
    let view = approve(&server, &client, &id, "fiona");
    assert_eq!(view["status"], "resolved");
    assert_eq!(view["outcome"], "allow");
    assert_eq!(view["decision"]["decision"], "allow");
    let polled = poll.join().unwrap().json();
    assert_eq!(polled["outcome"], "allow");
    assert_eq!(polled["status"], "resolved");
    // The first decision is kept beside the latest.
    assert_eq!(polled["initial"]["decision"], "escalate");
}

#[test]
fn an_approval_older_than_the_groups_validity_window_no_longer_counts() {
    let server = Server::start(finance());
    let client = Client::new();
    let id = escalate(&server, &client);
    approve(&server, &client, &id, "uma");
    // Treasury approvals are valid for 4 hours (finance.data.json).
    server.clock.advance(5 * HOUR);
    let view = approve(&server, &client, &id, "victor");
    assert_eq!(waiting_for(&view), json!(["treasury", "fraud-desk"]), "uma's approval expired");
    // uma approves again: the quorum is met with two current approvals.
    let view = approve(&server, &client, &id, "uma");
    assert_eq!(waiting_for(&view), json!(["fraud-desk"]));
}

#[test]
fn an_unanswered_escalation_expires_as_a_deny() {
    let mut config = finance();
    config.approval_timeout = std::time::Duration::from_secs(3600);
    let server = Server::start(config);
    let client = Client::new();
    let id = escalate(&server, &client);
    server.clock.advance(2 * HOUR);
    let view = client.get(&server.url(&format!("/v1/decisions/{id}"))).json();
    assert_eq!(view["status"], "expired");
    assert_eq!(view["outcome"], "deny");
    let late = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "approve", "person": "uma" }).to_string(),
    );
    assert_eq!((late.status, late.code().as_str()), (409, "not_pending"));
}

#[test]
fn a_rejection_ends_the_escalation_with_a_deny() {
    let server = Server::start(finance());
    let client = Client::new();
    let id = escalate(&server, &client);
    let answer = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "reject", "person": "fiona", "comment": "mule account" }).to_string(),
    );
    let view = answer.json();
    assert_eq!(view["status"], "rejected");
    assert_eq!(view["outcome"], "deny");
    assert_eq!(view["approvals"][0]["verdict"], "reject");
    assert_eq!(view["approvals"][0]["comment"], "mule account");
}

#[test]
fn only_an_approver_of_the_escalations_groups_may_answer() {
    let server = Server::start(finance());
    let client = Client::new();
    let id = escalate(&server, &client);
    // rita approves for the risk desk only.
    let answer = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "approve", "person": "rita" }).to_string(),
    );
    assert_eq!((answer.status, answer.code().as_str()), (403, "not_an_approver"));
}

#[test]
fn a_request_may_not_state_its_own_approvals() {
    let server = Server::start(finance());
    let text = std::fs::read_to_string(common::root().join("examples/finance/requests/large_payment.json")).unwrap();
    let answer = Client::new().post(&server.url("/v1/decide"), text);
    assert_eq!((answer.status, answer.code().as_str()), (400, "approval_in_request"));
    assert_eq!(answer.json()["decision"], "deny");
}

#[test]
fn the_queue_lists_pending_escalations_with_their_derivation() {
    let server = Server::start(finance());
    let client = Client::new();
    let id = escalate(&server, &client);
    let queue = client.get(&server.url("/v1/approvals?status=pending")).json();
    let items = queue["approvals"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["requested_by"], "treasury-bot");
    assert!(items[0]["explanation"].is_object() || items[0]["explanation"].is_array(), "{}", items[0]);
    let resolved = client.get(&server.url("/v1/approvals?status=resolved")).json();
    assert_eq!(resolved["approvals"], json!([]));
    let bad = client.get(&server.url("/v1/approvals?status=maybe"));
    assert_eq!((bad.status, bad.code().as_str()), (400, "bad_request"));
}

/// An escalation whose group a data relation names (`escalate … to team`, the team that
/// owns the repository): the decision's approvers, the queue and who may answer all come
/// from that group, and its approval releases the request.
#[test]
fn an_escalation_to_a_group_from_data_is_queued_and_answered_by_that_group() {
    let dir = common::scratch("approver-from-data");
    std::fs::write(
        dir.join("repos.gov"),
        "package repos\n\nuse std.approvals\n\ninput push(repo: Str)\ndata owner(repo: Str, team: Str)\n\n\
         escalate review to team \"{repo} needs {team}\" :- push(repo), owner(repo, team), not approval_satisfied(team).\n\
         allow reviewed :- push(repo), owner(repo, team), approval_satisfied(team).\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("repos.data.json"),
        r#"{"owner": [{"repo": "api", "team": "api-team"}, {"repo": "web", "team": "web-team"}],
            "approver": [{"person": "ann", "group": "api-team"}, {"person": "wes", "group": "web-team"}]}"#,
    )
    .unwrap();
    let server = Server::start(common::config(dir));
    let client = Client::new();
    let request = json!({ "push": [{ "repo": "api" }], "request_time": [{ "at": "2026-03-03T16:00:00Z" }],
                          "requested_by": [{ "requester": "bot" }] });
    let decision = client.post(&server.url("/v1/decide"), request.to_string()).json();
    assert_eq!(decision["decision"], "escalate", "{decision}");
    assert_eq!(decision["approvers"], json!(["api-team"]));
    assert_eq!(decision["reasons"][0]["message"], "api needs api-team");
    let id = decision["id"].as_str().unwrap().to_owned();

    let queue = client.get(&server.url("/v1/approvals?status=pending")).json();
    assert_eq!(queue["approvals"][0]["id"], id.as_str(), "{queue}");

    // wes approves for the web team only.
    let answer = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "approve", "person": "wes" }).to_string(),
    );
    assert_eq!((answer.status, answer.code().as_str()), (403, "not_an_approver"));
    let view = approve(&server, &client, &id, "ann");
    assert_eq!(view["status"], "resolved", "{view}");
    assert_eq!(view["outcome"], "allow");
}
