//! The language server over JSON-RPC: every feature, through the protocol, results as
//! snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Client, at, find, normalize};
use insta::assert_snapshot;
use serde_json::{Value, json};

const POLICY: &str = "file:///virtual/shop/policy.gov";
const RULES: &str = "file:///virtual/shop/rules.gov";

const POLICY_TEXT: &str = r#"package shop

use std.approvals

/// A customer of the shop.
type Customer = Str

/// An order placed by a customer; comes with each request.
input order(customer: Customer, total: Int, item: Str)
/// Customers who may buy on credit, up to a limit.
data credit(customer: Customer, limit: Int)

/// Orders above 1000.
big(c, t) :- order(c, t, _), t > 1000.

/// Orders above the credit limit are refused.
deny over_limit "order of {t} is over the limit {l}" :- order(c, t, _), credit(c, l), t > l.

escalate review to "sales" "big order of {t}" :- big(_, t), not approved("sales").

allow known :- order(customer: c), credit(c, _).

spent(c, s) :- credit(c, _), s = sum(t : order(c, t, _)).

test "over the limit" {
    given order("ann", 500, "book"). request_time(2026-03-03T10:00:00Z). requested_by("ann").
          credit("ann", 100).
    expect deny over_limit
}

test "small orders are allowed" {
    given order("ann", 5, "pen"). request_time(2026-03-03T10:00:00Z). requested_by("ann").
          credit("ann", 100).
    expect deny over_limit
}
"#;

const RULES_TEXT: &str = "package shop\n\nrisk heavy 10 :- big(c, _), credit(c, _).\n";

/// A server with the shop package open (both files).
async fn shop() -> Client {
    let mut client = Client::initialized(json!({ "docsUrl": "https://example.com/docs/diagnostics.md" })).await;
    client.open(POLICY, POLICY_TEXT).await;
    client.open(RULES, RULES_TEXT).await;
    client
}

fn pos(text: &str, needle: &str, n: usize, shift: u32) -> (u32, u32) {
    find(text, needle, n, shift)
}

async fn at_needle(client: &mut Client, method: &str, needle: &str, n: usize, shift: u32) -> Value {
    let (line, character) = pos(POLICY_TEXT, needle, n, shift);
    client.call(method, at(POLICY, line, character)).await
}

#[tokio::test]
async fn initialize_announces_every_feature() {
    let mut client = Client::start();
    let result = client.call("initialize", json!({ "capabilities": {} })).await;
    assert_snapshot!(normalize(&result));
    client.notify("initialized", json!({})).await;
    client.shutdown().await;
}

#[tokio::test]
async fn diagnostics_on_open_change_and_save() {
    let mut client = Client::initialized(json!({ "docsUrl": "https://example.com/docs/diagnostics.md" })).await;
    let text = "package shop\n\ninput order(customer: Str, total: Int)\ninput order(who: Str)\n\ndeny big :- ordr(_, total), total > 10.\n";
    let opened = client.open(POLICY, text).await;
    assert_snapshot!("diagnostics_open", normalize(&opened));
    // An incremental edit: `ordr` becomes `order`.
    let (line, character) = find(text, "ordr", 0, 0);
    let range = json!({ "start": { "line": line, "character": character }, "end": { "line": line, "character": character + 4 } });
    client
        .notify("textDocument/didChange", json!({ "textDocument": { "uri": POLICY, "version": 2 }, "contentChanges": [{ "range": range, "text": "order" }] }))
        .await;
    let changed = client.notification("textDocument/publishDiagnostics", Some(POLICY)).await;
    assert_eq!(changed["params"]["version"], 2);
    assert_snapshot!("diagnostics_change", normalize(&changed["params"]["diagnostics"]));
    // A full-text change, then a save: the diagnostics follow.
    client
        .notify("textDocument/didChange", json!({ "textDocument": { "uri": POLICY, "version": 3 }, "contentChanges": [{ "text": "package shop\n\ninput order(customer: Str)\n" }] }))
        .await;
    let clean = client.diagnostics(POLICY).await;
    let unused = clean.as_array().unwrap();
    assert_eq!(unused.len(), 1, "{clean}");
    assert_eq!(unused[0]["code"], "W0101");
    assert_eq!(unused[0]["tags"], json!([1]));
    client.notify("textDocument/didSave", json!({ "textDocument": { "uri": POLICY } })).await;
    let saved = client.diagnostics(POLICY).await;
    assert_eq!(saved, clean);
    client.shutdown().await;
}

#[tokio::test]
async fn diagnostics_link_to_the_repository_docs_and_siblings_come_from_disk() {
    let mut client = Client::initialized(json!({})).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/payments/payments.gov")
        .canonicalize()
        .unwrap();
    let uri = format!("file://{}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    let opened = client.open(&uri, &text).await;
    assert_eq!(opened, json!([]), "the example is clean");
    let broken = format!("{text}\nallow broken :- no_such_relation(1).\n");
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": broken }] }),
        )
        .await;
    let diagnostics = client.diagnostics(&uri).await;
    let [diagnostic] = diagnostics.as_array().unwrap().as_slice() else { panic!("{diagnostics}") };
    assert_eq!(diagnostic["code"], "E0101");
    assert_eq!(diagnostic["codeDescription"]["href"], format!("{}/docs/diagnostics.md#e0101", common::root_uri()));
    assert_eq!(diagnostic["range"]["start"]["line"], text.lines().count() + 1);
    client.shutdown().await;
}

#[tokio::test]
async fn hover_on_a_builtin_shows_its_signature() {
    let mut client = Client::initialized(json!({})).await;
    let uri = "file:///virtual/builtin/policy.gov";
    let text =
        "package b\n\ninput call(cmd: Str)\n\ndeny d :- call(c), w in str.split(str.lower(c), \" \"), w = \"rm\".\n";
    client.open(uri, text).await;
    for (needle, shift, expected) in
        [("str.split", 5, "str.split(Str, Str) → each Str"), ("str.lower", 1, "str.lower(Str) → Str")]
    {
        let (line, character) = pos(text, needle, 0, shift);
        let result = client.call("textDocument/hover", at(uri, line, character)).await;
        let value = result["contents"]["value"].as_str().unwrap_or("null");
        assert!(value.starts_with(&format!("```gov\n{expected}\n```")), "{needle}: {value}");
    }
    client.shutdown().await;
}

/// Ranged edits that add and remove lines, several in one notification (each applied to
/// the text the previous one left, as the protocol says): the server's positions (its
/// line index, kept edit by edit) stay those of the edited text, for a hover and for the
/// diagnostics.
#[tokio::test]
async fn ranged_edits_that_add_and_remove_lines_keep_positions_right() {
    let mut client = Client::initialized(json!({})).await;
    let text = "package shop\n\ninput order(customer: Str, total: Int)\n\ndeny big :- order(_, t), t > 10.\n";
    client.open(POLICY, text).await;
    let range = |(l1, c1): (u32, u32), (l2, c2): (u32, u32)| json!({ "start": { "line": l1, "character": c1 }, "end": { "line": l2, "character": c2 } });
    // Three lines of comment before the input; the blank line after it removed; an unknown
    // relation typed into the rule, now on line 6.
    let changes = json!([
        { "range": range((2, 0), (2, 0)), "text": "// one\n// two\n// three\n" },
        { "range": range((5, 38), (6, 0)), "text": "" },
        { "range": range((6, 12), (6, 12)), "text": "ordr(_), " },
    ]);
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": POLICY, "version": 2 }, "contentChanges": changes }),
        )
        .await;
    let edited = "package shop\n\n// one\n// two\n// three\ninput order(customer: Str, total: Int)\ndeny big :- ordr(_), order(_, t), t > 10.\n";
    let diagnostics = client.diagnostics(POLICY).await;
    let unknown = diagnostics.as_array().unwrap().iter().find(|d| d["code"] == "E0101").expect("an unknown relation");
    let (line, character) = find(edited, "ordr", 0, 0);
    assert_eq!(unknown["range"]["start"], json!({ "line": line, "character": character }), "{diagnostics}");
    let (line, character) = find(edited, "order(_, t)", 0, 1);
    let hover = client.call("textDocument/hover", at(POLICY, line, character)).await;
    let shown = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("input order(customer: Str, total: Int)"), "{hover}");
    client.shutdown().await;
}

/// A character typed in an early rule moves every item after it (the parse keeps their
/// trees and moves them when read): references, a definition and a hover in the moved
/// items are where their text now stands.
#[tokio::test]
async fn references_after_a_typed_character_are_where_the_moved_text_stands() {
    let mut client = Client::initialized(json!({})).await;
    let text = "package shop\n\ninput order(total: Int)\n\nbig(t) :- order(t), t > 10.\n\nhuge(t) :- big(t), t > 99.\n\ndeny large :- huge(t), t > 1000.\n";
    client.open(POLICY, text).await;
    let (line, character) = find(text, "10.", 0, 1);
    let typed = json!({ "range": { "start": { "line": line, "character": character }, "end": { "line": line, "character": character } }, "text": "0" });
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": POLICY, "version": 2 }, "contentChanges": [typed] }),
        )
        .await;
    let edited = text.replacen("10.", "100.", 1);
    assert_eq!(client.diagnostics(POLICY).await, json!([]));
    let (line, character) = find(&edited, "big(t), t > 99", 0, 0);
    let mut params = at(POLICY, line, character);
    params["context"] = json!({ "includeDeclaration": true });
    let references = client.call("textDocument/references", params).await;
    let starts: Vec<(u32, u32)> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["range"]["start"]["line"].as_u64().unwrap() as u32,
                r["range"]["start"]["character"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    assert_eq!(starts, [find(&edited, "big(t) :-", 0, 0), find(&edited, "big(t), t > 99", 0, 0)], "{references}");
    let (line, character) = find(&edited, "huge(t), t > 1000", 0, 0);
    let definition = client.call("textDocument/definition", at(POLICY, line, character)).await;
    let (line, character) = find(&edited, "huge(t) :-", 0, 0);
    assert_eq!(definition["range"]["start"], json!({ "line": line, "character": character }), "{definition}");
    client.shutdown().await;
}

#[tokio::test]
async fn hover() {
    let mut client = shop().await;
    let cases: [(&str, &str, usize, u32); 12] = [
        ("relation declaration", "order(customer", 0, 1),
        ("relation in a body", "order(c, t, _), t > 1000", 0, 2),
        ("derived relation", "big(_, t)", 0, 1),
        ("field in a named argument", "customer: c", 0, 2),
        ("type alias", "Customer", 1, 2),
        ("built-in type", "Int)", 0, 1),
        ("decision rule", "review", 0, 1),
        ("decision rule in expect", "over_limit\n", 0, 3),
        ("variable", "t > l", 0, 0),
        ("variable in a message", "{t} is", 0, 1),
        ("keyword", "escalate", 0, 2),
        ("aggregate", "sum(", 0, 1),
    ];
    let mut out = String::new();
    for (label, needle, n, shift) in cases {
        let result = at_needle(&mut client, "textDocument/hover", needle, n, shift).await;
        out.push_str(&format!("## {label}\n{}\n\n", result["contents"]["value"].as_str().unwrap_or("null")));
    }
    assert_snapshot!(out);
    // The standard library's names (checked loosely: the library grows).
    let library = at_needle(&mut client, "textDocument/hover", "approved(", 0, 2).await;
    let text = library["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("```gov\napproved(Str)\n```") && text.contains("defined in `std.approvals`"), "{text}");
    let module = at_needle(&mut client, "textDocument/hover", "std.approvals", 0, 5).await;
    let text = module["contents"]["value"].as_str().unwrap();
    assert!(text.contains("standard-library module") && text.contains("`approved`"), "{text}");
    // `input one`: the declaration's signature, and the contextual word itself.
    let one_uri = "file:///virtual/one/policy.gov";
    let one_text = "package one_shop\n\n/// The shop.\ninput one shop(name: Str)\n\ndeny closed :- shop(\"x\").\n";
    client.open(one_uri, one_text).await;
    let mut one = String::new();
    for (label, needle, shift) in [("one-fact input", "shop(\"", 1), ("the word `one`", "one shop", 1)] {
        let (line, character) = pos(one_text, needle, 0, shift);
        let result = client.call("textDocument/hover", at(one_uri, line, character)).await;
        one.push_str(&format!("## {label}\n{}\n\n", result["contents"]["value"].as_str().unwrap_or("null")));
    }
    assert_snapshot!("hover_input_one", one);
    // Nothing to say on punctuation.
    let nothing = at_needle(&mut client, "textDocument/hover", ":-", 0, 0).await;
    assert_eq!(nothing, Value::Null);
    client.shutdown().await;
}

#[tokio::test]
async fn definition_and_references_across_files() {
    let mut client = shop().await;
    let mut out = String::new();
    for (label, needle, n, shift) in [
        ("relation", "credit(c, l)", 0, 1),
        ("derived relation", "big(_, t)", 0, 0),
        ("field", "customer: c", 0, 0),
        ("type", "Customer,", 0, 0),
        ("rule in expect", "over_limit\n", 0, 0),
        ("variable", "l), t > l", 0, 0),
    ] {
        let definition = at_needle(&mut client, "textDocument/definition", needle, n, shift).await;
        let (line, character) = pos(POLICY_TEXT, needle, n, shift);
        let mut params = at(POLICY, line, character);
        params["context"] = json!({ "includeDeclaration": true });
        let references = client.call("textDocument/references", params).await;
        out.push_str(&format!(
            "## {label}\ndefinition: {}\nreferences: {}\n\n",
            compact(&definition),
            compact(&references)
        ));
    }
    assert_snapshot!(out);
    // From the other file, into this one.
    let from_rules = client.call("textDocument/definition", at(RULES, 2, 18)).await;
    assert_eq!(from_rules["uri"], POLICY);
    let highlights = at_needle(&mut client, "textDocument/documentHighlight", "t > l", 0, 0).await;
    assert_eq!(highlights.as_array().unwrap().len(), 3, "{highlights}");
    client.shutdown().await;
}

/// Locations as `file:line:col-line:col`, one per line.
fn compact(value: &Value) -> String {
    let one = |l: &Value| {
        let file = l["uri"].as_str().unwrap_or("?").rsplit('/').next().unwrap_or("?").to_owned();
        let r = &l["range"];
        format!(
            "{file}:{}:{}-{}:{}",
            r["start"]["line"], r["start"]["character"], r["end"]["line"], r["end"]["character"]
        )
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect::<Vec<_>>().join(", "),
        Value::Null => "none".to_owned(),
        single => one(single),
    }
}

#[tokio::test]
async fn rename() {
    let mut client = shop().await;
    let mut out = String::new();
    for (label, needle, n, shift, new_name) in [
        ("relation", "credit(c, l)", 0, 0, "allowance"),
        ("decision rule", "over_limit\n", 0, 0, "too_much"),
        ("variable", "l), t > l", 0, 0, "cap"),
        ("type", "Customer", 0, 0, "Buyer"),
        ("field", "customer: c", 0, 0, "buyer"),
    ] {
        let (line, character) = pos(POLICY_TEXT, needle, n, shift);
        let prepared = client.call("textDocument/prepareRename", at(POLICY, line, character)).await;
        let mut params = at(POLICY, line, character);
        params["newName"] = json!(new_name);
        let edit = client.call("textDocument/rename", params).await;
        let mut files: Vec<(String, Vec<String>)> = edit["changes"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(uri, edits)| {
                let ranges = edits
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| compact(&json!({ "uri": uri, "range": e["range"] })))
                    .collect();
                (uri.clone(), ranges)
            })
            .collect();
        files.sort();
        out.push_str(&format!(
            "## {label} -> {new_name}\nprepare: {} {}\n",
            prepared["placeholder"],
            compact(&json!({ "uri": POLICY, "range": prepared["range"] }))
        ));
        for (_, ranges) in files {
            out.push_str(&format!("edits: {}\n", ranges.join(", ")));
        }
        out.push('\n');
    }
    // Refused: keywords, built-ins, library names, taken names, invalid names.
    for (label, needle, n, shift, new_name) in [
        ("keyword", "escalate", 0, 1, "x"),
        ("built-in type", "Int)", 0, 0, "Integer"),
        ("library relation", "approved(", 0, 0, "ok"),
        ("aggregate", "sum(", 0, 0, "total"),
        ("taken", "big(c, t)", 0, 0, "order"),
        ("invalid", "big(c, t)", 0, 0, "not"),
    ] {
        let (line, character) = pos(POLICY_TEXT, needle, n, shift);
        let prepared = client.request("textDocument/prepareRename", at(POLICY, line, character)).await;
        let mut params = at(POLICY, line, character);
        params["newName"] = json!(new_name);
        let renamed = client.request("textDocument/rename", params).await;
        out.push_str(&format!(
            "## refused: {label}\nprepare: {}\nrename: {}\n\n",
            prepared.get("error").map_or("ok".to_owned(), |e| e["message"].to_string()),
            renamed.get("error").map_or("ok".to_owned(), |e| e["message"].to_string())
        ));
    }
    assert_snapshot!(out);
    client.shutdown().await;
}

/// The labels (and insert texts) of a completion list.
fn labels(result: &Value) -> String {
    result
        .as_array()
        .unwrap()
        .iter()
        .map(|item| match item.get("insertText").or_else(|| item.get("textEdit").map(|e| &e["newText"])) {
            Some(text) if text.as_str() != item["label"].as_str() => {
                format!("{} => {}", item["label"].as_str().unwrap(), text.as_str().unwrap())
            }
            _ => item["label"].as_str().unwrap().to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn completion() {
    let mut client = Client::initialized(json!({})).await;
    // A package of its own, without the standard library (whose names change as it grows).
    let policy = POLICY_TEXT.replace("use std.approvals\n\n", "").replace(", not approved(\"sales\")", "");
    client.open("file:///virtual/complete/policy.gov", &policy).await;
    let uri = "file:///virtual/complete/edit.gov";
    let mut out = String::new();
    let cases: [(&str, &str); 12] = [
        ("relations, `not`, aggregates and variables in a body", "package shop\n\nallow fine :- order(c, _, _), cr|"),
        ("a family's built-ins after its `.`", "package shop\n\nallow fine :- order(c, _, _), str.|"),
        ("variables and value built-ins after `=`", "package shop\n\nallow fine :- order(c, _, _), x = |"),
        ("field names in a named-argument atom", "package shop\n\nallow fine :- order(customer: c, |"),
        ("item keywords and derived relations at the start of an item", "package shop\n\n|"),
        ("types in a declaration", "package shop\n\ndata vip(customer: |"),
        ("`one` after `input`", "package shop\n\ninput |"),
        ("types in an alias", "package shop\n\ntype Id = |"),
        ("modules after `use`", "package shop\n\nuse std.|"),
        (
            "deny rules after `expect deny`",
            "package shop\n\ntest \"t\" {\n    given order(\"a\", 1, \"b\").\n    expect deny |",
        ),
        ("rules in `@overrides(`", "package shop\n\n@overrides(|"),
        ("input and data relations after `given`", "package shop\n\ntest \"t\" {\n    given |"),
    ];
    for (version, (label, source)) in cases.iter().enumerate() {
        let text = source.replace('|', "");
        if version == 0 {
            client.open(uri, &text).await;
        } else {
            client.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": version + 1 }, "contentChanges": [{ "text": text }] })).await;
            client.diagnostics(uri).await;
        }
        let (line, character) = find(source, "|", 0, 0);
        let result = client.call("textDocument/completion", at(uri, line, character)).await;
        let mut labels = labels(&result);
        if label.starts_with("modules") {
            assert!(labels.lines().any(|l| l == "std.approvals"), "{labels}");
            assert!(labels.lines().all(|l| l.starts_with("std.")), "{labels}");
            labels = "std.approvals (and every other module of the standard library)".to_owned();
        }
        out.push_str(&format!("## {label}\n{labels}\n\n"));
    }
    assert_snapshot!(out);
    client.shutdown().await;
}

#[tokio::test]
async fn completion_in_a_large_package_lists_what_the_word_matches() {
    let mut client = Client::initialized(json!({})).await;
    let uri = "file:///virtual/large/policy.gov";
    let declarations: String = (0..600).map(|i| format!("data rel_{i}(x: Int)\n")).collect();
    let open = |word: &str| format!("package large\n\n{declarations}\nallow fine :- rel_0(1), {word}|");
    let relations = |result: &Value| -> Vec<String> {
        let items = result["items"].as_array().unwrap();
        let labels = items.iter().filter(|i| i["kind"] == 3).map(|i| i["label"].as_str().unwrap().to_owned());
        // Aggregates and built-ins (dotted names) are functions too.
        labels.filter(|l| !["count", "sum", "min", "max"].contains(&l.as_str()) && !l.contains('.')).collect()
    };
    // Nothing typed yet: as many relations as the server lists, and the client is told
    // there are more.
    let source = open("");
    client.open(uri, &source.replace('|', "")).await;
    let (line, character) = find(&source, "|", 0, 0);
    let result = client.call("textDocument/completion", at(uri, line, character)).await;
    assert_eq!(result["isIncomplete"], true, "the list must say it is incomplete");
    assert_eq!(relations(&result).len(), 500);
    assert!(result["items"].as_array().unwrap().iter().any(|i| i["label"] == "not"));
    // A word typed: the relations it matches, still marked incomplete so the client asks
    // again as it grows.
    let source = open("rel_59");
    let change = json!({ "text": source.replace('|', "") });
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [change] }),
        )
        .await;
    client.diagnostics(uri).await;
    let (line, character) = find(&source, "|", 0, 0);
    let result = client.call("textDocument/completion", at(uri, line, character)).await;
    assert_eq!(result["isIncomplete"], true, "the list must say it is incomplete");
    let found = relations(&result);
    assert!(found.iter().any(|r| r == "rel_59") && found.iter().any(|r| r == "rel_599"), "{found:?}");
    assert!(!found.iter().any(|r| r == "rel_1" || r == "rel_60"), "{found:?}");
    client.shutdown().await;
}

#[tokio::test]
async fn document_and_workspace_symbols() {
    let mut client = shop().await;
    let document = client.call("textDocument/documentSymbol", json!({ "textDocument": { "uri": POLICY } })).await;
    let outline: Vec<String> = document
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let children: Vec<String> = s["children"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .map(|c| format!("{}: {}", c["name"].as_str().unwrap(), c["detail"].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{} [{}] {} {}{}",
                s["name"].as_str().unwrap(),
                s["kind"],
                s["detail"].as_str().unwrap_or(""),
                compact(&json!({ "uri": POLICY, "range": s["selectionRange"] })),
                if children.is_empty() { String::new() } else { format!(" {{{}}}", children.join(", ")) }
            )
        })
        .collect();
    let workspace = client.call("workspace/symbol", json!({ "query": "ov" })).await;
    let found: Vec<String> = workspace
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} [{}] in {} at {}",
                s["name"].as_str().unwrap(),
                s["kind"],
                s["containerName"].as_str().unwrap(),
                compact(&s["location"])
            )
        })
        .collect();
    let all = client.call("workspace/symbol", json!({ "query": "" })).await;
    assert_snapshot!(format!(
        "## outline\n{}\n\n## workspace symbols matching `ov`\n{}\n\n## every workspace symbol\n{}\n",
        outline.join("\n"),
        found.join("\n"),
        all.as_array().unwrap().len()
    ));
    client.shutdown().await;
}

#[tokio::test]
async fn semantic_tokens() {
    let mut client = shop().await;
    // The legend announced in `initialize` (see the capabilities snapshot).
    let types = [
        "namespace",
        "type",
        "function",
        "method",
        "property",
        "variable",
        "keyword",
        "string",
        "number",
        "comment",
        "operator",
        "decorator",
    ];
    let modifiers = ["declaration", "documentation", "defaultLibrary"];
    let result = client.call("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": POLICY } })).await;
    let data: Vec<u32> = result["data"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let lines: Vec<&str> = POLICY_TEXT.lines().collect();
    let (mut line, mut start) = (0u32, 0u32);
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let [delta_line, delta_start, length, kind, bits] = chunk else { panic!("bad chunk") };
        line += delta_line;
        start = if *delta_line == 0 { start + delta_start } else { *delta_start };
        let text: String = lines[line as usize].chars().skip(start as usize).take(*length as usize).collect();
        let mods: Vec<&str> =
            modifiers.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, m)| *m).collect();
        out.push_str(&format!(
            "{}:{} {:?} {}{}\n",
            line,
            start,
            text,
            types[*kind as usize],
            if mods.is_empty() { String::new() } else { format!(" +{}", mods.join(",")) }
        ));
    }
    assert_snapshot!(out);
    client.shutdown().await;
}

#[tokio::test]
async fn formatting() {
    let mut client = Client::initialized(json!({})).await;
    let uri = "file:///virtual/fmt/a.gov";
    client.open(uri, "package fmt\ninput   p(x:Int)\nq(x):-p(x),x>1.\n").await;
    let edits = client
        .call(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
        )
        .await;
    assert_snapshot!(normalize(&edits));
    // A file with a syntax error is left alone.
    client.notify("textDocument/didChange", json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": "package fmt\nq(x :- .\n" }] })).await;
    client.diagnostics(uri).await;
    let none = client
        .call(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 4, "insertSpaces": true } }),
        )
        .await;
    assert_eq!(none, Value::Null);
    client.shutdown().await;
}

#[tokio::test]
async fn code_actions() {
    let mut client = Client::initialized(json!({})).await;
    let uri = "file:///virtual/actions/a.gov";
    let text = "package actions\n\ninput order(customer: Str, total: Int)\n\nallow small :- ordr(_, total), total < 10.\n\ndeny vip :- order(c, t), vip_list(c, \"gold\", t).\n\nallow any :- order(who, _).\n";
    let diagnostics = client.open(uri, text).await;
    let mut out = String::new();
    for (label, needle) in [("did you mean", "ordr"), ("declare a missing relation", "vip_list"), ("a safe fix", "who")]
    {
        let (line, character) = find(text, needle, 0, 1);
        let range = json!({ "start": { "line": line, "character": character }, "end": { "line": line, "character": character } });
        let actions = client
            .call(
                "textDocument/codeAction",
                json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": diagnostics } }),
            )
            .await;
        out.push_str(&format!("## {label}\n"));
        for action in actions.as_array().unwrap() {
            let edits = &action["edit"]["changes"][uri];
            let edits: Vec<String> = edits
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    format!(
                        "{} {:?}",
                        compact(&json!({ "uri": uri, "range": e["range"] })),
                        e["newText"].as_str().unwrap()
                    )
                })
                .collect();
            out.push_str(&format!(
                "{} [{}] {} (diagnostic: {})\n",
                action["title"].as_str().unwrap(),
                action["kind"].as_str().unwrap(),
                edits.join("; "),
                action["diagnostics"][0]["code"]
            ));
        }
        out.push('\n');
    }
    // `@overrides` for a diagnostic whose data names two conflicting rules (the conflict
    // analysis will produce these; here the client sends one).
    let conflict_text = "package actions\n\ninput order(customer: Str, total: Int)\n\nallow staff :- order(\"staff\", _).\n\n/// Big orders.\ndeny big :- order(_, total), total > 1000.\n\n@overrides(staff)\nescalate odd to \"ops\" :- order(_, 7).\n";
    client
        .notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": conflict_text }] }),
        )
        .await;
    client.diagnostics(uri).await;
    let (line, _) = find(conflict_text, "deny big", 0, 0);
    let range = json!({ "start": { "line": line, "character": 5 }, "end": { "line": line, "character": 8 } });
    let conflict = json!({ "range": range, "message": "`big` and `staff` can both fire", "code": "E0601", "data": { "conflict": ["big", "staff"] } });
    let actions = client
        .call(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": [conflict] } }),
        )
        .await;
    let (line, _) = find(conflict_text, "escalate odd", 0, 0);
    let range = json!({ "start": { "line": line, "character": 9 }, "end": { "line": line, "character": 12 } });
    let extend =
        json!({ "range": range, "message": "`odd` and `big` conflict", "data": { "conflict": ["odd", "big"] } });
    let more = client
        .call(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": [extend] } }),
        )
        .await;
    out.push_str("## overrides\n");
    for action in actions.as_array().unwrap().iter().chain(more.as_array().unwrap()) {
        let edit = &action["edit"]["changes"][uri][0];
        out.push_str(&format!(
            "{}: {} {:?}\n",
            action["title"].as_str().unwrap(),
            compact(&json!({ "uri": uri, "range": edit["range"] })),
            edit["newText"].as_str().unwrap()
        ));
    }
    assert_snapshot!(out);
    client.shutdown().await;
}

#[tokio::test]
async fn run_test_lens() {
    let mut client = shop().await;
    let lenses = client.call("textDocument/codeLens", json!({ "textDocument": { "uri": POLICY } })).await;
    assert_snapshot!(normalize(&lenses));
    let mut out = String::new();
    for lens in lenses.as_array().unwrap() {
        let command = &lens["command"];
        let result = client
            .call(
                "workspace/executeCommand",
                json!({ "command": command["command"], "arguments": command["arguments"] }),
            )
            .await;
        let message = client.notification("window/showMessage", None).await;
        out.push_str(&format!(
            "passed: {}\nmessage ({}): {}\n\n",
            result["passed"],
            message["params"]["type"],
            message["params"]["message"].as_str().unwrap().split(" (").next().unwrap()
        ));
    }
    assert_snapshot!("run_test_results", out);
    // Unknown tests and commands are errors.
    let unknown = client
        .request("workspace/executeCommand", json!({ "command": "gov.runTest", "arguments": [POLICY, "no such test"] }))
        .await;
    assert!(unknown.get("error").is_some(), "{unknown}");
    let bad = client.request("workspace/executeCommand", json!({ "command": "gov.nothing", "arguments": [] })).await;
    assert!(bad.get("error").is_some(), "{bad}");
    client.shutdown().await;
}
