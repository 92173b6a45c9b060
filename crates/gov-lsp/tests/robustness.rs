//! The server survives bad input: malformed messages, unknown methods, requests about
//! documents it never saw, and every prefix of a real policy typed one edit at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Client, at};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const URI: &str = "file:///virtual/robust/policy.gov";

/// Checks that the server still answers a request about an open document.
async fn still_answers(client: &mut Client, uri: &str) {
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } })).await;
    assert!(symbols.get("result").is_some(), "the server stopped answering: {symbols}");
}

#[tokio::test]
async fn malformed_messages_unknown_methods_and_unopened_files_are_errors() {
    let mut client = Client::initialized(json!({})).await;
    client.open(URI, "package robust\n\ninput p(x: Int)\n").await;

    // Malformed JSON in a well-framed message: a parse error, id null.
    let garbage = "{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": ";
    client.send_raw(format!("Content-Length: {}\r\n\r\n{garbage}", garbage.len()).as_bytes()).await;
    let response = client.response(Value::Null).await;
    assert_eq!(response["error"]["code"], -32700, "{response}");
    still_answers(&mut client, URI).await;

    // Valid JSON that is no JSON-RPC message.
    client.send(&json!([1, 2, 3])).await;
    let response = client.response(Value::Null).await;
    assert!(response["error"]["code"].as_i64().is_some(), "{response}");
    still_answers(&mut client, URI).await;

    // A message whose `id` cannot be an id, a header without Content-Length, a bad
    // Content-Length: errors, and the server reads on.
    client.send(&json!({ "jsonrpc": "2.0", "id": { "no": "objects" }, "method": "textDocument/hover" })).await;
    let response = client.response(Value::Null).await;
    assert_eq!(response["error"]["code"], -32600, "{response}");
    client.send_raw(b"X-Nonsense: 1\r\n\r\n").await;
    let response = client.response(Value::Null).await;
    assert_eq!(response["error"]["code"], -32700, "{response}");
    client.send_raw(b"Content-Length: many\r\n\r\n").await;
    let response = client.response(Value::Null).await;
    assert_eq!(response["error"]["code"], -32700, "{response}");
    still_answers(&mut client, URI).await;

    // An unknown request: method not found. An unknown notification: ignored.
    let unknown = client.request("gov/noSuchMethod", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    client.notify("gov/noSuchNotification", json!({})).await;
    still_answers(&mut client, URI).await;

    // Parameters of the wrong shape: invalid params.
    let bad = client.request("textDocument/hover", json!({ "textDocument": { "uri": URI } })).await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");

    // Requests about a document that was never opened: an error naming it, for every
    // feature.
    let unopened = "file:///virtual/robust/never.gov";
    for (method, params) in [
        ("textDocument/hover", at(unopened, 0, 0)),
        ("textDocument/definition", at(unopened, 0, 0)),
        ("textDocument/completion", at(unopened, 0, 0)),
        ("textDocument/prepareRename", at(unopened, 0, 0)),
        ("textDocument/documentSymbol", json!({ "textDocument": { "uri": unopened } })),
        ("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": unopened } })),
        (
            "textDocument/formatting",
            json!({ "textDocument": { "uri": unopened }, "options": { "tabSize": 4, "insertSpaces": true } }),
        ),
        ("textDocument/codeLens", json!({ "textDocument": { "uri": unopened } })),
    ] {
        let response = client.request(method, params).await;
        assert_eq!(response["error"]["code"], -32602, "{method}: {response}");
        assert!(response["error"]["message"].as_str().unwrap().contains("is not open"), "{method}: {response}");
    }
    // Changing or closing a document that is not open changes nothing.
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": unopened, "version": 2 }, "contentChanges": [{ "text": "x" }] }),
        )
        .await;
    // Positions past the end of the document are clamped, not a crash.
    let far = client.request("textDocument/hover", at(URI, 999, 999)).await;
    assert!(far.get("result").is_some(), "{far}");
    let completion = client.request("textDocument/completion", at(URI, 999, 999)).await;
    assert!(completion.get("result").is_some(), "{completion}");
    still_answers(&mut client, URI).await;
    client.shutdown().await;
}

/// Responses until every id of `ids` has one, in whatever order they come (notifications
/// are kept aside): id → response.
async fn responses(client: &mut Client, ids: &[Value]) -> Vec<Value> {
    let mut found: Vec<Option<Value>> = vec![None; ids.len()];
    while found.iter().any(Option::is_none) {
        let message = client.receive().await;
        if message.get("method").is_some() {
            client.notifications.push_back(message);
            continue;
        }
        if let Some(i) = ids.iter().position(|id| message.get("id") == Some(id)) {
            assert!(found[i].is_none(), "two responses for id {}: {message}", ids[i]);
            found[i] = Some(message);
        }
    }
    found.into_iter().flatten().collect()
}

/// A `Content-Length` that does not fit its message (longer, shorter, absurdly long) costs
/// that message alone: it is answered with a parse error (id null) and the well-framed
/// request right behind it is answered, not swallowed as the rest of the bad body nor
/// mistaken for headers.
#[tokio::test]
async fn a_wrong_content_length_costs_only_its_own_message() {
    let mut client = Client::initialized(json!({})).await;
    client.open(URI, "package robust\n\ninput p(x: Int)\n").await;
    // The notification's text mentions a header, inside a string, which must not count.
    let body = r#"{"jsonrpc":"2.0","method":"gov/noSuchNotification","params":{"text":"Content-Length: 3"}}"#;
    for (id, claimed) in [(901, body.len() + 200), (902, body.len() - 10), (903, 1 << 40), (904, body.len() + 1)] {
        let valid = json!({
            "jsonrpc": "2.0", "id": id, "method": "textDocument/documentSymbol",
            "params": { "textDocument": { "uri": URI } },
        })
        .to_string();
        let framed = format!("Content-Length: {claimed}\r\n\r\n{body}Content-Length: {}\r\n\r\n{valid}", valid.len());
        client.send_raw(framed.as_bytes()).await;
        let [error, answer] = <[Value; 2]>::try_from(responses(&mut client, &[Value::Null, json!(id)]).await).unwrap();
        assert_eq!(error["error"]["code"], -32700, "claimed {claimed}: {error}");
        assert!(answer.get("result").is_some(), "claimed {claimed}: {answer}");
    }
    still_answers(&mut client, URI).await;
}

#[tokio::test]
async fn closing_the_input_stops_the_server() {
    let client = Client::initialized(json!({})).await;
    let Client { mut writer, server, .. } = client;
    tokio::io::AsyncWriteExt::shutdown(&mut writer).await.unwrap();
    tokio::time::timeout(common::PATIENCE, server)
        .await
        .expect("the server did not stop")
        .expect("the server panicked");
}

/// Types the payments example one character at a time (each prefix a `didChange`), and
/// checks that every edit gets its diagnostics and that the server keeps answering.
#[tokio::test]
async fn every_prefix_of_the_payments_example() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/payments/payments.gov")).unwrap();
    let started = Instant::now();
    let mut client = Client::initialized(json!({})).await;
    client.open(URI, "").await;
    let ends: Vec<usize> = text.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    for (n, end) in ends.iter().enumerate() {
        let version = n as i64 + 2;
        let prefix = &text[..*end];
        client
            .notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": URI, "version": version }, "contentChanges": [{ "text": prefix }] }),
            )
            .await;
        let published = client.notification("textDocument/publishDiagnostics", Some(URI)).await;
        assert_eq!(published["params"]["version"], version, "diagnostics out of order");
        // Every so often, and at the end, ask for everything else at the cursor.
        if n % 97 == 0 || n + 1 == ends.len() {
            let line = prefix.matches('\n').count() as u32;
            let character = prefix.rsplit('\n').next().unwrap().encode_utf16().count() as u32;
            for method in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
                "textDocument/documentHighlight",
            ] {
                let response = client.request(method, at(URI, line, character)).await;
                assert!(response.get("result").is_some(), "{method} after {n} characters: {response}");
            }
            for method in ["textDocument/semanticTokens/full", "textDocument/documentSymbol", "textDocument/codeLens"] {
                let response = client.request(method, json!({ "textDocument": { "uri": URI } })).await;
                assert!(response.get("result").is_some(), "{method} after {n} characters: {response}");
            }
        }
    }
    // The whole example is clean.
    let last = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": URI } })).await;
    assert!(last["result"].as_array().is_some_and(|s| s.len() > 10), "{last}");
    assert!(started.elapsed() < Duration::from_secs(120), "typing the example took {:?}", started.elapsed());
    client.shutdown().await;
}
