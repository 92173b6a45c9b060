//! A test client: starts the server in-process on a pipe and speaks JSON-RPC with
//! `Content-Length` framing, as an editor would.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::task::JoinHandle;

/// How long any single answer may take before the test fails as a hang.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The repository root, as a `file://` URI prefix.
pub fn root_uri() -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    format!("file://{}", root.display())
}

pub struct Client {
    pub writer: WriteHalf<DuplexStream>,
    reader: BufReader<ReadHalf<DuplexStream>>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    pub notifications: VecDeque<Value>,
    pub server: JoinHandle<()>,
}

impl Client {
    /// Starts a server (not yet initialized).
    pub fn start() -> Client {
        let (client_end, server_end) = tokio::io::duplex(1 << 16);
        let (server_read, server_write) = tokio::io::split(server_end);
        let server = tokio::spawn(gov_lsp::serve(server_read, server_write));
        let (read, writer) = tokio::io::split(client_end);
        Client { writer, reader: BufReader::new(read), next_id: 1, notifications: VecDeque::new(), server }
    }

    /// Starts and initializes a server; `options` are its `initializationOptions`.
    /// The analysis after a pause is off (an hour's pause) unless `options` set
    /// `analysisDelayMs`: it publishes diagnostics at times a test does not choose
    /// (tests/analysis.rs tests it).
    pub async fn initialized(mut options: Value) -> Client {
        if let Some(options) = options.as_object_mut() {
            options.entry("analysisDelayMs").or_insert(json!(3_600_000));
        }
        let capabilities =
            json!({ "textDocument": { "completion": { "completionItem": { "snippetSupport": true } } } });
        Client::initialized_with(capabilities, options).await
    }

    /// Starts and initializes a server for a client with `capabilities`.
    pub async fn initialized_with(capabilities: Value, options: Value) -> Client {
        let mut client = Client::start();
        let result = client
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": null,
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await;
        assert!(result.get("result").is_some(), "initialize failed: {result}");
        client.notify("initialized", json!({})).await;
        client
    }

    /// Sends raw bytes, framed or not.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        tokio::time::timeout(PATIENCE, self.writer.write_all(bytes))
            .await
            .expect("write timed out")
            .expect("write failed");
    }

    /// Sends one message with its `Content-Length` header.
    pub async fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.send_raw(framed.as_bytes()).await;
    }

    /// Reads one framed message.
    pub async fn receive(&mut self) -> Value {
        tokio::time::timeout(PATIENCE, self.read_message()).await.expect("the server did not answer in time (hang?)")
    }

    async fn read_message(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).await.expect("read failed");
            assert!(read > 0, "the server closed the connection");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = Some(value.parse::<usize>().unwrap());
            }
        }
        let mut body = vec![0; length.expect("no Content-Length")];
        self.reader.read_exact(&mut body).await.expect("read failed");
        serde_json::from_slice(&body).expect("the server sent invalid JSON")
    }

    /// Sends a notification.
    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params })).await;
    }

    /// Sends a request and returns the whole response (`result` or `error`), keeping
    /// notifications that arrive first.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await;
        self.response(json!(id)).await
    }

    /// Waits for the response with `id`.
    pub async fn response(&mut self, id: Value) -> Value {
        loop {
            let message = self.receive().await;
            if message.get("method").is_some() {
                if message.get("id").is_some() {
                    // A request from the server: answer it with null.
                    let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": null });
                    self.send(&reply).await;
                } else {
                    self.notifications.push_back(message);
                }
                continue;
            }
            if message.get("id") == Some(&id) {
                return message;
            }
        }
    }

    /// The result of a request, failing the test on an error.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params).await;
        match response.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} failed: {response}"),
        }
    }

    /// Waits for a notification `method` (optionally about `uri`).
    pub async fn notification(&mut self, method: &str, uri: Option<&str>) -> Value {
        let matches = |n: &Value| n["method"] == method && uri.is_none_or(|u| n["params"]["uri"] == u);
        if let Some(position) = self.notifications.iter().position(matches) {
            return self.notifications.remove(position).unwrap();
        }
        loop {
            let message = self.receive().await;
            if matches(&message) {
                return message;
            }
            if message.get("method").is_some() && message.get("id").is_none() {
                self.notifications.push_back(message);
            }
        }
    }

    /// Opens a document and returns the diagnostics published for it.
    pub async fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "gov", "version": 1, "text": text } }),
        )
        .await;
        self.diagnostics(uri).await
    }

    /// Waits for the next diagnostics of `uri`.
    pub async fn diagnostics(&mut self, uri: &str) -> Value {
        self.notification("textDocument/publishDiagnostics", Some(uri)).await["params"]["diagnostics"].clone()
    }

    /// Shuts the server down and checks that it exits.
    pub async fn shutdown(mut self) {
        let response = self.request("shutdown", Value::Null).await;
        assert!(response.get("error").is_none(), "shutdown failed: {response}");
        self.notify("exit", Value::Null).await;
        tokio::time::timeout(PATIENCE, self.server)
            .await
            .expect("the server did not exit")
            .expect("the server panicked");
    }
}

/// A position parameter.
pub fn at(uri: &str, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": character } })
}

/// The (line, character) of the `n`th occurrence (from 0) of `needle` in `text`, plus `shift`
/// characters.
pub fn find(text: &str, needle: &str, n: usize, shift: u32) -> (u32, u32) {
    let offset = text.match_indices(needle).nth(n).unwrap_or_else(|| panic!("`{needle}` #{n} not found")).0;
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32;
    let column = before.rsplit('\n').next().unwrap().encode_utf16().count() as u32;
    (line, column + shift)
}

/// Sorts every object's keys and replaces the repository root, for stable snapshots.
pub fn normalize(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sort(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_string_pretty(&sort(value)).unwrap().replace(&root_uri(), "file:///ROOT")
}
