#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Hover on list and object fields shows their types as written (`[Str]`, `{path: Str, …}`),
//! where they are declared and where a body names them.

mod common;
use common::{Client, at, find};
use serde_json::json;

const TEXT: &str = "package agent\n\n\
input call(agent: Str, argv: [Str], arguments: {path: Str, opts: {recursive: Bool}})\n\n\
deny forced :- call(argv: v, arguments: {path: p}), \"--force\" in v, p = \"/\".\n";

#[tokio::test]
async fn hover_on_list_and_object_fields_shows_their_types() {
    let mut client = Client::initialized(json!({})).await;
    let uri = "file:///virtual/lists/policy.gov";
    client.open(uri, TEXT).await;
    for (needle, n, expected) in [
        ("argv", 0, "call.argv: [Str]"),
        ("arguments", 0, "call.arguments: {path: Str, opts: {recursive: Bool}}"),
        ("argv", 1, "call.argv: [Str]"),
        ("arguments", 1, "call.arguments: {path: Str, opts: {recursive: Bool}}"),
    ] {
        let (line, character) = find(TEXT, needle, n, 1);
        let result = client.call("textDocument/hover", at(uri, line, character)).await;
        let value = result["contents"]["value"].as_str().unwrap_or("null");
        assert!(value.starts_with(&format!("```gov\n{expected}\n```")), "{needle} #{n}: {value}");
    }
    client.shutdown().await;
}
