//! `govc lsp` speaks the protocol on standard input and output and exits on `exit`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

fn send(stdin: &mut impl Write, message: &Value) {
    let body = message.to_string();
    write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    stdin.flush().unwrap();
}

fn receive(stdout: &mut impl BufRead) -> Value {
    let mut length = 0;
    loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "govc lsp closed its output");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stdout.read_exact(&mut body).unwrap();
    serde_json::from_slice(&body).unwrap()
}

/// `govc lsp` running, with its standard input and output.
fn spawn_lsp() -> (Child, ChildStdin, BufReader<ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_govc"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdin, stdout)
}

#[test]
fn govc_lsp_serves_stdio_until_exit() {
    let (mut child, mut stdin, mut stdout) = spawn_lsp();
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
    let initialized = receive(&mut stdout);
    assert_eq!(initialized["result"]["serverInfo"]["name"], "govc lsp");
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    let uri = "file:///virtual/govc-lsp/a.gov";
    let text = "package a\n\ninput p(x: Int)\n\nallow ok :- q(1).\n";
    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": { "textDocument": { "uri": uri, "languageId": "gov", "version": 1, "text": text } } }),
    );
    let published = receive(&mut stdout);
    assert_eq!(published["method"], "textDocument/publishDiagnostics");
    assert!(published["params"]["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "E0101"), "{published}");
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    assert_eq!(receive(&mut stdout)["id"], 2);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "exit" }));
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "govc lsp exited with {status}");
            break;
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("govc lsp did not exit after `exit`");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The analysis after a pause runs in the stdio server's runtime too (it needs tokio's
/// timer): a conflict is published after the checker's diagnostics.
#[test]
fn govc_lsp_publishes_the_analysis_after_the_pause() {
    let (mut child, mut stdin, mut stdout) = spawn_lsp();
    // Messages arrive on a thread, so that a missing one fails the test instead of hanging it.
    let (send_message, messages) = std::sync::mpsc::channel();
    std::thread::spawn(move || while send_message.send(receive(&mut stdout)).is_ok() {});
    let next = || messages.recv_timeout(Duration::from_secs(20)).expect("govc lsp sent nothing more");
    let options = json!({ "analysisDelayMs": 0 });
    let params = json!({ "capabilities": {}, "initializationOptions": options });
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params }));
    assert_eq!(next()["id"], 1);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    let uri = "file:///virtual/govc-lsp-analysis/a.gov";
    let text = "package a\n\ninput order(total: Int)\n\nallow small :- order(t), t < 10.\n\ndeny odd :- order(7).\n";
    let document = json!({ "uri": uri, "languageId": "gov", "version": 1, "text": text });
    send(
        &mut stdin,
        &json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": { "textDocument": document } }),
    );
    let codes = |published: &Value| -> Vec<Value> {
        assert_eq!(published["method"], "textDocument/publishDiagnostics", "{published}");
        published["params"]["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].clone()).collect()
    };
    assert!(!codes(&next()).contains(&json!("W0701")));
    assert!(codes(&next()).contains(&json!("W0701")));
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    assert_eq!(next()["id"], 2);
    send(&mut stdin, &json!({ "jsonrpc": "2.0", "method": "exit" }));
    assert!(child.wait().unwrap().success());
}
