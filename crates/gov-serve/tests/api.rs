//! Every endpoint over loopback HTTP: decisions, lookups, health, metrics, tokens and
//! their scopes, body and evaluation limits, reload and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers

mod common;

use common::{Client, Server, config, finance, large_payment, routine_payment, scratch};
use serde_json::json;
use sha2::{Digest, Sha256};

/// A token file with one token per (name, scopes); each token is `tok-<name>`.
fn tokens(dir: &std::path::Path, entries: &[(&str, &[&str])]) -> std::path::PathBuf {
    let tokens: Vec<serde_json::Value> = entries
        .iter()
        .map(|(name, scopes)| {
            let hash: String =
                Sha256::digest(format!("tok-{name}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            json!({ "name": name, "sha256": hash, "scopes": scopes })
        })
        .collect();
    let path = dir.join("tokens.json");
    std::fs::write(&path, json!({ "tokens": tokens }).to_string()).unwrap();
    path
}

/// The finance example with tokens for uma (treasury), fiona (fraud desk), rita (risk
/// desk), an agent (decide) and ops (admin).
fn with_tokens(name: &str) -> Server {
    let dir = scratch(name);
    let mut config = finance();
    config.tokens = Some(tokens(
        &dir,
        &[
            ("uma", &["approve"]),
            ("fiona", &["approve"]),
            ("rita", &["approve"]),
            ("treasury-bot", &["decide"]),
            ("ops", &["admin"]),
        ],
    ));
    Server::start(config)
}

#[test]
fn an_allowed_request_is_decided_at_once_and_can_be_looked_up() {
    let server = Server::start(finance());
    let client = Client::new();
    let decision = client.post(&server.url("/v1/decide"), routine_payment()).json();
    assert_eq!(decision["decision"], "allow");
    assert_eq!(decision["status"], "decided");
    assert!(decision["bundle"].as_str().unwrap().starts_with("sha256:"));
    let id = decision["id"].as_str().unwrap();
    let view = client.get(&server.url(&format!("/v1/decisions/{id}?wait=5s"))).json();
    assert_eq!(view["status"], "decided");
    assert_eq!(view["outcome"], "allow");
    assert_eq!(view["requested_by"], "pay-bot");
    assert_eq!(view["decision"]["reasons"][0]["rule"], "payment_within_limits");
    let missing = client.get(&server.url("/v1/decisions/nope"));
    assert_eq!((missing.status, missing.code().as_str()), (404, "not_found"));
    let bad_wait = client.get(&server.url(&format!("/v1/decisions/{id}?wait=soon")));
    assert_eq!((bad_wait.status, bad_wait.code().as_str()), (400, "bad_request"));
}

#[test]
fn health_and_metrics_report_the_bundle_and_the_decisions() {
    let server = Server::start(finance());
    let client = Client::new();
    client.post(&server.url("/v1/decide"), routine_payment());
    client.post(&server.url("/v1/decide"), large_payment());
    client.post(&server.url("/v1/decide"), "{");
    let health = client.get(&server.url("/health")).json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["pending"], 1);
    let hash = health["bundle"].as_str().unwrap();
    let metrics = client.get(&server.url("/metrics"));
    assert_eq!(metrics.status, 200);
    for line in [
        "gov_decisions_total{outcome=\"allow\"} 1",
        "gov_decisions_total{outcome=\"escalate\"} 1",
        // Every outcome's counter exists from the start (made once, not per decision).
        "gov_decisions_total{outcome=\"deny\"} 0",
        "gov_rule_firings_total{rule=\"fraud_review\",effect=\"escalate\"} 1",
        "gov_errors_total{code=\"invalid_request\"} 1",
        "gov_pending_approvals 1",
        "gov_decision_seconds_count 3",
        &format!("gov_bundle_info{{hash=\"{hash}\"}} 1"),
    ] {
        assert!(metrics.text.lines().any(|l| l == line), "no `{line}` in\n{}", metrics.text);
    }
}

#[test]
fn bad_bodies_are_json_errors_that_deny() {
    let mut config = finance();
    config.max_body = 2048;
    let server = Server::start(config);
    let client = Client::new();
    let url = server.url("/v1/decide");
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"payment\": [".to_vec(), 400, "invalid_request"),
        (vec![b'['; 1000], 400, "invalid_request"),
        (vec![b' '; 4096], 413, "payload_too_large"),
        (b"{\"x\": \"\xff\"}".to_vec(), 400, "bad_request"),
        (br#"{"payment": [{"agent": 7}]}"#.to_vec(), 400, "invalid_request"),
    ];
    for (body, status, code) in cases {
        let answer = client.post(&url, &body);
        assert_eq!((answer.status, answer.code().as_str()), (status, code), "{}", answer.text);
        assert_eq!(answer.json()["decision"], "deny", "{}", answer.text);
    }
    // Nesting is bounded by the request reader.
    let deep = format!("{{\"payment\": {}{}}}", "[".repeat(500), "]".repeat(500));
    let answer = client.post(&url, deep);
    assert_eq!((answer.status, answer.code().as_str()), (400, "invalid_request"));
    assert!(answer.text.contains("nest more than 128 deep"), "{}", answer.text);
    // The path of a wrong field is named.
    let answer = client.post(&url, r#"{"payment": [{"agent": 7}]}"#);
    assert!(answer.json()["error"]["path"].as_str().unwrap().starts_with("payment[0]"), "{}", answer.text);
    // The approval body too.
    let answer = client.post(&server.url("/v1/decisions/x/approvals"), r#"{"verdict": "maybe"}"#);
    assert_eq!((answer.status, answer.code().as_str()), (400, "bad_request"));
    let answer = client.get(&server.url("/v2/nothing"));
    assert_eq!((answer.status, answer.code().as_str()), (404, "not_found"));
}

#[test]
fn a_request_over_the_evaluation_limits_is_a_deny_with_the_error() {
    let mut config = finance();
    config.source.limits.max_steps = 10;
    let server = Server::start(config);
    let decision = Client::new().post(&server.url("/v1/decide"), routine_payment());
    assert_eq!(decision.status, 200);
    let decision = decision.json();
    assert_eq!(decision["decision"], "deny");
    assert_eq!(decision["error"]["code"], "evaluation_error");
    assert!(decision["error"]["message"].as_str().unwrap().contains("step"), "{decision}");
}

#[test]
fn without_tokens_only_loopback_addresses_are_served() {
    let mut config = finance();
    config.addr = "0.0.0.0:0".parse().unwrap();
    let error = Server::try_start(config).err().unwrap();
    assert!(error.contains("without --tokens"), "{error}");
}

#[test]
fn tokens_authenticate_and_scopes_authorize() {
    let server = with_tokens("scopes");
    let agent = Client::token("tok-treasury-bot");
    let uma = Client::token("tok-uma");
    let decide = server.url("/v1/decide");

    let none = Client::new().post(&decide, routine_payment());
    assert_eq!((none.status, none.code().as_str()), (401, "unauthorized"));
    assert_eq!(none.json()["decision"], "deny");
    let wrong = Client::token("tok-nobody").post(&decide, routine_payment());
    assert_eq!((wrong.status, wrong.code().as_str()), (401, "unauthorized"));
    let approver_deciding = uma.post(&decide, routine_payment());
    assert_eq!((approver_deciding.status, approver_deciding.code().as_str()), (403, "forbidden"));

    let id = agent.post(&decide, large_payment()).json()["id"].as_str().unwrap().to_owned();
    let approvals = server.url(&format!("/v1/decisions/{id}/approvals"));
    let agent_approving = agent.post(&approvals, json!({ "verdict": "approve" }).to_string());
    assert_eq!((agent_approving.status, agent_approving.code().as_str()), (403, "forbidden"));
    // The person is the token's name, never a field the caller chooses.
    let impersonating = uma.post(&approvals, json!({ "verdict": "approve", "person": "victor" }).to_string());
    assert_eq!((impersonating.status, impersonating.code().as_str()), (400, "bad_request"));
    let approved = uma.post(&approvals, json!({ "verdict": "approve", "comment": "ok" }).to_string()).json();
    assert_eq!(approved["approvals"][0]["person"], "uma");
    assert_eq!(approved["approvals"][0]["group"], "treasury");

    // The agent polls its decision.
    assert_eq!(agent.get(&server.url(&format!("/v1/decisions/{id}"))).json()["status"], "pending");

    // Metrics are the administrator's.
    assert_eq!(uma.get(&server.url("/metrics")).status, 403);
    assert_eq!(Client::token("tok-ops").get(&server.url("/metrics")).status, 200);
    // The inbox page is the approvers'.
    assert_eq!(agent.get(&server.url("/")).status, 403);
    let page = uma.get(&server.url("/"));
    assert_eq!(page.status, 200);
    assert!(page.text.contains(&format!("id=\"d-{id}\"")), "{}", page.text);
    // Health needs no token.
    assert_eq!(Client::new().get(&server.url("/health")).status, 200);
}

#[test]
fn approvers_see_only_escalations_to_their_groups() {
    let server = with_tokens("queues");
    let id = Client::token("tok-treasury-bot").post(&server.url("/v1/decide"), large_payment()).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = |token: &str| {
        let answer = Client::token(token).get(&server.url("/v1/approvals"));
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.json()["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(queue("tok-fiona"), std::slice::from_ref(&id));
    assert_eq!(queue("tok-uma"), std::slice::from_ref(&id));
    assert_eq!(queue("tok-rita"), Vec::<String>::new());
    assert_eq!(queue("tok-ops"), std::slice::from_ref(&id));
    let forbidden = Client::token("tok-treasury-bot").get(&server.url("/v1/approvals"));
    assert_eq!((forbidden.status, forbidden.code().as_str()), (403, "forbidden"));
    // rita may not answer it either.
    let answer = Client::token("tok-rita")
        .post(&server.url(&format!("/v1/decisions/{id}/approvals")), json!({ "verdict": "reject" }).to_string());
    assert_eq!((answer.status, answer.code().as_str()), (403, "not_an_approver"));
}

#[test]
fn a_token_file_that_is_not_valid_is_refused_at_start() {
    let dir = scratch("bad-tokens");
    let path = dir.join("tokens.json");
    std::fs::write(&path, r#"{"tokens": [{"name": "a", "sha256": "00", "scopes": ["decide"]}]}"#).unwrap();
    let mut config = finance();
    config.tokens = Some(path);
    let error = Server::try_start(config).err().unwrap();
    assert!(error.contains("tokens[0].sha256"), "{error}");
}

/// A one-rule package: `act(name)` is allowed for "a", escalated to "leads" for "b".
fn demo_package(dir: &std::path::Path, allowed: &str) {
    std::fs::write(
        dir.join("demo.gov"),
        format!(
            "package demo\n\nuse std.approvals\n\ninput act(name: Str)\n\n\
             allow ok :- act(\"{allowed}\").\n\
             escalate ask to \"leads\" :- act(\"b\"), not approval_satisfied(\"leads\").\n\
             allow asked :- act(\"b\"), approval_satisfied(\"leads\").\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("demo.data.json"), r#"{"approver": [{"person": "lee", "group": "leads"}]}"#).unwrap();
}

/// A request of the demo package.
fn act(name: &str) -> String {
    json!({ "act": [{ "name": name }], "request_time": [{ "at": "2026-03-03T16:00:00Z" }],
            "requested_by": [{ "requester": "bot" }] })
    .to_string()
}

#[test]
fn a_reload_swaps_the_policy_a_broken_one_is_refused_and_escalations_keep_their_bundle() {
    let dir = scratch("reload");
    demo_package(&dir, "a");
    let server = Server::start(config(dir.clone()));
    let client = Client::new();
    let first = client.post(&server.url("/v1/decide"), act("a")).json();
    assert_eq!(first["decision"], "allow");
    let old_hash = first["bundle"].as_str().unwrap().to_owned();
    let pending = client.post(&server.url("/v1/decide"), act("b")).json();
    assert_eq!(pending["decision"], "escalate");

    demo_package(&dir, "c");
    let new_hash = server.reload().unwrap();
    assert_ne!(new_hash, old_hash);
    let after = client.post(&server.url("/v1/decide"), act("a")).json();
    assert_eq!((after["decision"].as_str(), after["bundle"].as_str()), (Some("deny"), Some(new_hash.as_str())));

    std::fs::write(dir.join("demo.gov"), "package demo\n\nallow broken :- nothing(.\n").unwrap();
    let error = server.reload().unwrap_err();
    assert!(error.contains("does not check"), "{error}");
    assert_eq!(client.get(&server.url("/health")).json()["bundle"], new_hash.as_str());
    let metrics = client.get(&server.url("/metrics")).text;
    assert!(metrics.contains("gov_bundle_reloads_total{result=\"refused\"} 1"), "{metrics}");

    // The escalation made before the reload is decided again with its own bundle.
    let id = pending["id"].as_str().unwrap();
    let view = client
        .post(
            &server.url(&format!("/v1/decisions/{id}/approvals")),
            json!({ "verdict": "approve", "person": "lee" }).to_string(),
        )
        .json();
    assert_eq!(view["outcome"], "allow");
    assert_eq!(view["decision"]["bundle"], old_hash.as_str());
}

#[test]
fn a_policy_without_std_approvals_cannot_take_approvals_and_shutdown_ends_long_polls() {
    let dir = scratch("no-approvals");
    std::fs::write(
        dir.join("plain.gov"),
        "package plain\n\ninput act(name: Str)\n\nescalate ask to \"leads\" :- act(_).\n",
    )
    .unwrap();
    let server = Server::start(config(dir));
    let client = Client::new();
    let id =
        client.post(&server.url("/v1/decide"), r#"{"act": [{"name": "x"}]}"#).json()["id"].as_str().unwrap().to_owned();
    let poll = {
        let url = server.url(&format!("/v1/decisions/{id}?wait=60s"));
        std::thread::spawn(move || Client::new().get(&url))
    };
    server.wait_for_polls(1);
    // No approver facts: nobody may approve.
    let answer = client.post(
        &server.url(&format!("/v1/decisions/{id}/approvals")),
        json!({ "verdict": "approve", "person": "lee" }).to_string(),
    );
    assert_eq!((answer.status, answer.code().as_str()), (403, "not_an_approver"));
    server.stop().unwrap();
    let polled = poll.join().unwrap();
    assert_eq!(polled.json()["status"], "pending");
}

/// The demo package at `dir`, compiled, as bundle bytes: signed with `secret`, or unsigned.
fn bundle(dir: &std::path::Path, secret: Option<&[u8; 32]>) -> Vec<u8> {
    let package = gov_driver::Package::load(&gov_driver::fs::Disk, dir).unwrap();
    let data = gov_driver::read_data(&gov_driver::fs::Disk, package.data_files()).unwrap();
    let program = package.compile(&data).unwrap();
    match secret {
        Some(secret) => gov_vm::bundle::write_signed(&program, secret).unwrap(),
        None => gov_vm::bundle::write(&program).unwrap(),
    }
}

#[test]
fn with_a_public_key_only_bundles_it_signed_are_served_and_reloaded() {
    let dir = scratch("signed");
    let package = dir.join("pkg");
    std::fs::create_dir_all(&package).unwrap();
    demo_package(&package, "a");
    let secret = [7u8; 32];
    let path = dir.join("demo.govb");
    std::fs::write(&path, bundle(&package, Some(&secret))).unwrap();
    let mut config = config(path.clone());
    config.source.public_key = Some(gov_vm::bundle::public_key(&secret));
    let server = Server::start(config);
    let signed = Client::new().get(&server.url("/health")).json()["bundle"].as_str().unwrap().to_owned();

    // Unsigned, or signed by another key: refused, the old bundle kept.
    demo_package(&package, "c");
    std::fs::write(&path, bundle(&package, None)).unwrap();
    let error = server.reload().unwrap_err();
    assert!(error.contains("demo.govb"), "{error}");
    std::fs::write(&path, bundle(&package, Some(&[9u8; 32]))).unwrap();
    server.reload().unwrap_err();
    assert_eq!(Client::new().get(&server.url("/health")).json()["bundle"], signed.as_str());
    // Signed by the key: served.
    std::fs::write(&path, bundle(&package, Some(&secret))).unwrap();
    assert_ne!(server.reload().unwrap(), signed);

    // An unsigned bundle is refused at start too.
    let mut unsigned = common::config(path.clone());
    std::fs::write(&path, bundle(&package, None)).unwrap();
    unsigned.source.public_key = Some(gov_vm::bundle::public_key(&secret));
    let error = Server::try_start(unsigned).err().unwrap();
    assert!(error.contains("demo.govb"), "{error}");
}
