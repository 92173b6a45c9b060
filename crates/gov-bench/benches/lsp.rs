//! Language-server benchmarks, through the protocol: the server runs in-process on a pipe
//! and each iteration is real JSON-RPC traffic.
//!
//! - `lsp/diagnostics_after_edit`: a one-character `didChange` (incremental) inside a rule
//!   body of a package of about 2 000 lines (1 100 rules), until its `publishDiagnostics`
//!   arrives (re-parse, re-check through salsa, conversion, JSON both ways);
//!   `lsp/diagnostics_after_typing`: a character typed there instead (and deleted, in
//!   turn), which moves every item after it;
//! - `lsp/hover`, `lsp/completion`, `lsp/semantic_tokens`: one request each on that file;
//! - `lsp_10k/…`: the same on a package of 10 000 rules (about 18 000 lines, 1 MB), the
//!   size the editing targets are set for (`docs/performance.md`).
//!
//! Run with `cargo bench -p gov-bench --bench lsp` (`-- lsp_10k` for the large package only).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{Criterion, criterion_group, criterion_main};
use gov_bench::{edit_one_rule, generate_package};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::runtime::Runtime;

const URI: &str = "file:///virtual/bench/bench.gov";

struct Client {
    writer: WriteHalf<DuplexStream>,
    reader: BufReader<ReadHalf<DuplexStream>>,
    next_id: i64,
}

impl Client {
    async fn send(&mut self, message: Value) {
        let body = message.to_string();
        self.writer.write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes()).await.unwrap();
    }

    async fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).await.unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).await.unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        loop {
            let message = self.receive().await;
            if message["id"] == id {
                return message;
            }
        }
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Sends one incremental `didChange` and waits for the diagnostics of that version.
    async fn change(&mut self, version: i64, change: Value) {
        let document = json!({ "uri": URI, "version": version });
        self.notify("textDocument/didChange", json!({ "textDocument": document, "contentChanges": [change] })).await;
        let published = self.diagnostics().await;
        assert_eq!(published["params"]["version"], version);
    }

    async fn diagnostics(&mut self) -> Value {
        loop {
            let message = self.receive().await;
            if message["method"] == "textDocument/publishDiagnostics" {
                return message;
            }
        }
    }
}

fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let character = before.rsplit('\n').next().unwrap().encode_utf16().count();
    json!({ "line": line, "character": character })
}

fn start(runtime: &Runtime, text: &str) -> Client {
    let (client_end, server_end) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_end);
    runtime.spawn(gov_lsp::serve(server_read, server_write));
    let (read, writer) = tokio::io::split(client_end);
    let mut client = Client { writer, reader: BufReader::new(read), next_id: 1 };
    runtime.block_on(async {
        let capabilities =
            json!({ "textDocument": { "completion": { "completionItem": { "snippetSupport": true } } } });
        client.request("initialize", json!({ "capabilities": capabilities })).await;
        client.notify("initialized", json!({})).await;
        let document = json!({ "uri": URI, "languageId": "gov", "version": 1, "text": text });
        client.notify("textDocument/didOpen", json!({ "textDocument": document })).await;
        let published = client.diagnostics().await;
        assert_eq!(published["params"]["diagnostics"], json!([]), "the generated package must be clean");
    });
    client
}

/// The benchmarks of group `name` on a generated package of `rules` rules.
fn bench_package(c: &mut Criterion, name: &str, rules: usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let original = generate_package(rules);
    let edited = edit_one_rule(&original).unwrap();
    eprintln!("lsp benchmarks: a package of {} lines, {} bytes", original.lines().count(), original.len());
    let at = original.bytes().zip(edited.bytes()).position(|(a, b)| a != b).unwrap();
    let range = json!({ "start": position(&original, at), "end": position(&original, at + 1) });
    let replacements = [edited[at..=at].to_owned(), original[at..=at].to_owned()];
    let mut client = start(&runtime, &original);
    let mut group = c.benchmark_group(name);
    if rules > 2_000 {
        group.sample_size(20);
    }

    let mut version: i64 = 1;
    group.bench_function("diagnostics_after_edit", |b| {
        b.iter(|| {
            version += 1;
            let change = json!({ "range": range, "text": replacements[(version % 2) as usize] });
            runtime.block_on(client.change(version, change));
        });
    });
    // Back to the original text.
    if version % 2 == 0 {
        version += 1;
        runtime.block_on(client.change(version, json!({ "range": range, "text": replacements[1] })));
    }

    // A character typed at the same place and deleted again, alternately: every item after
    // it moves (the edit above keeps the text's length, so no item moves).
    let typed = json!({ "range": { "start": range["start"], "end": range["start"] }, "text": "1" });
    let deleted = json!({ "range": range, "text": "" });
    let mut is_typed = false;
    group.bench_function("diagnostics_after_typing", |b| {
        b.iter(|| {
            version += 1;
            let change = if is_typed { deleted.clone() } else { typed.clone() };
            is_typed = !is_typed;
            runtime.block_on(client.change(version, change));
        });
    });
    if is_typed {
        version += 1;
        runtime.block_on(client.change(version, deleted));
    }

    // Hover on a relation used in the middle of the file; completion in a rule body.
    let middle = original.len() / 2;
    let hover_at = middle + original[middle..].find("transfer(").unwrap() + 2;
    let hover = json!({ "textDocument": { "uri": URI }, "position": position(&original, hover_at) });
    group.bench_function("hover", |b| {
        b.iter(|| {
            let response = runtime.block_on(client.request("textDocument/hover", hover.clone()));
            assert!(response["result"]["contents"]["value"].as_str().is_some_and(|v| v.contains("input transfer")));
        });
    });
    let complete_at = middle + original[middle..].find(":- ").unwrap() + 3;
    let completion = json!({ "textDocument": { "uri": URI }, "position": position(&original, complete_at) });
    group.bench_function("completion", |b| {
        b.iter(|| {
            let response = runtime.block_on(client.request("textDocument/completion", completion.clone()));
            // A list of every item, or (a large package) of some, marked incomplete.
            let result = &response["result"];
            let items = result.as_array().or_else(|| result["items"].as_array());
            assert!(items.is_some_and(|items| items.len() > 10));
        });
    });
    let tokens = json!({ "textDocument": { "uri": URI } });
    group.bench_function("semantic_tokens", |b| {
        b.iter(|| {
            let response = runtime.block_on(client.request("textDocument/semanticTokens/full", tokens.clone()));
            assert!(response["result"]["data"].as_array().is_some_and(|d| !d.is_empty()));
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    // About 2 000 lines.
    bench_package(c, "lsp", 1_100);
    bench_package(c, "lsp_10k", 10_000);
}

criterion_group!(lsp, benches);
criterion_main!(lsp);
