//! The analysis in the editor: after a pause in typing, the findings `govc check` confirms
//! (conflicts with their witnesses) join the checker's diagnostics; an edit before the
//! pause cancels the run; the checker's diagnostics never wait for it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Client, normalize};
use insta::assert_snapshot;
use serde_json::{Value, json};

const URI: &str = "file:///virtual/orders/policy.gov";

/// An allow and a deny that both fire on a big order from a member of staff (a data fact:
/// the witness needs data of its own).
const CONFLICT: &str = "package orders\n\ninput order(customer: Str, total: Int)\ndata staff(name: Str)\n\n\
                        allow staff_orders :- order(c, _), staff(c).\n\ndeny big :- order(_, total), total > 1000.\n";

/// A client that applies workspace edits creating files, as VS Code does.
fn editor() -> Value {
    json!({ "workspace": { "workspaceEdit": { "documentChanges": true, "resourceOperations": ["create", "rename", "delete"] } } })
}

/// The codes of published diagnostics.
fn codes(published: &Value) -> Vec<String> {
    published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits for the next diagnostics of `URI` (the whole notification, with its version).
async fn published(client: &mut Client) -> Value {
    client.notification("textDocument/publishDiagnostics", Some(URI)).await
}

async fn open(client: &mut Client, text: &str) {
    client
        .notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": URI, "languageId": "gov", "version": 1, "text": text } }),
        )
        .await;
}

#[tokio::test]
async fn a_conflict_is_reported_after_the_pause_with_its_witness_and_actions() {
    let mut client = Client::initialized_with(editor(), json!({ "analysisDelayMs": 10 })).await;
    open(&mut client, CONFLICT).await;
    // At once: the checker's diagnostics, without the analysis.
    let first = published(&mut client).await;
    assert_eq!(first["params"]["version"], 1);
    assert!(!codes(&first).contains(&"W0701".to_owned()), "{first}");
    // After the pause: the same version, with the confirmed conflict.
    let second = published(&mut client).await;
    assert_eq!(second["params"]["version"], 1);
    let diagnostics = second["params"]["diagnostics"].as_array().unwrap();
    let conflict = diagnostics.iter().find(|d| d["code"] == "W0701").unwrap_or_else(|| panic!("{second}"));
    assert_snapshot!("conflict_diagnostic", normalize(conflict));
    let actions = client
        .call(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": URI }, "range": conflict["range"], "context": { "diagnostics": [conflict] } }),
        )
        .await;
    let ours: Vec<&Value> =
        actions.as_array().unwrap().iter().filter(|a| a["diagnostics"][0]["code"] == "W0701").collect();
    let edits: Vec<Value> =
        ours.iter().map(|a| json!({ "title": a["title"], "kind": a["kind"], "edit": a["edit"] })).collect();
    assert_snapshot!("conflict_actions", normalize(&json!(edits)));
    // The witness files hold exactly the request and the data of the diagnostic's witness.
    let copy = ours.iter().find(|a| a["title"].as_str().unwrap().starts_with("Copy the witness")).unwrap();
    let changes = &copy["edit"]["documentChanges"];
    for (at, file, part) in [(1, "witness.json", "input"), (3, "witness-data.json", "data")] {
        assert_eq!(changes[at - 1]["uri"], format!("file:///virtual/orders/{file}"));
        let written = changes[at]["edits"][0]["newText"].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(written).unwrap(), conflict["data"]["witness"][part]);
    }
    client.shutdown().await;
}

#[tokio::test]
async fn an_edit_before_the_pause_cancels_the_stale_run() {
    // A pause long enough that the edit below always comes within it.
    let mut client = Client::initialized_with(editor(), json!({ "analysisDelayMs": 1500 })).await;
    open(&mut client, CONFLICT).await;
    assert_eq!(published(&mut client).await["params"]["version"], 1);
    let renamed = CONFLICT.replace("deny big", "deny huge");
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": renamed }] }),
        )
        .await;
    let immediate = published(&mut client).await;
    assert_eq!(immediate["params"]["version"], 2);
    assert!(!codes(&immediate).contains(&"W0701".to_owned()), "{immediate}");
    // The next diagnostics are the analysis of version 2: version 1's run never published.
    let analysed = published(&mut client).await;
    assert_eq!(analysed["params"]["version"], 2, "{analysed}");
    let conflict = analysed["params"]["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "W0701").cloned();
    let message = conflict.unwrap_or_else(|| panic!("{analysed}"))["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`huge`"), "{message}");
    // No second run published: the next diagnostics are those of another edit at once, then
    // its own analysis after the pause (any other run would have published before it, and
    // about `huge`).
    let commented = renamed.replace("deny huge", "deny vast");
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [{ "text": commented }] }),
        )
        .await;
    let immediate = published(&mut client).await;
    assert_eq!(immediate["params"]["version"], 3, "a second analysis was published: {immediate}");
    assert!(!codes(&immediate).contains(&"W0701".to_owned()), "a second analysis was published: {immediate}");
    let analysed = published(&mut client).await;
    assert_eq!(analysed["params"]["version"], 3, "{analysed}");
    let conflict = analysed["params"]["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "W0701").cloned();
    let message = conflict.unwrap_or_else(|| panic!("{analysed}"))["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`vast`"), "a stale analysis was published: {message}");
    client.shutdown().await;
}

#[tokio::test]
async fn the_checker_diagnostics_do_not_wait_for_the_analysis() {
    // The analysis would run only after an hour: every answer below comes at once.
    let mut client = Client::initialized_with(editor(), json!({ "analysisDelayMs": 3_600_000 })).await;
    open(&mut client, CONFLICT).await;
    let first = published(&mut client).await;
    assert_eq!(first["params"]["version"], 1);
    let broken = CONFLICT.replace("total > 1000.", "total > 1000");
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": broken }] }),
        )
        .await;
    let syntax = published(&mut client).await;
    assert_eq!(syntax["params"]["version"], 2);
    let codes = codes(&syntax);
    assert!(codes.iter().any(|c| c.starts_with('E')), "a syntax error is reported at once: {syntax}");
    assert!(!codes.contains(&"W0701".to_owned()), "{syntax}");
    client.shutdown().await;
}
