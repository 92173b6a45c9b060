//! The VS Code extension's static parts: its manifest and TextMate grammar are consistent,
//! and the grammar passes its tests (`editors/vscode/test/*.gov`, run with
//! vscode-tmgrammar-test) when Node and the extension's `node_modules` are installed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn extension() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../editors/vscode")
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

#[test]
fn manifest_grammar_and_language_configuration_agree() {
    let root = extension();
    let manifest = json(&root.join("package.json"));
    let language = &manifest["contributes"]["languages"][0];
    assert_eq!(language["id"], "gov");
    assert_eq!(language["extensions"][0], ".gov");
    let grammar = &manifest["contributes"]["grammars"][0];
    assert_eq!(grammar["language"], "gov");
    let setting = &manifest["contributes"]["configuration"]["properties"]["gov.serverPath"];
    assert_eq!(setting["default"], "govc");
    let tm = json(&root.join(grammar["path"].as_str().unwrap()));
    assert_eq!(tm["scopeName"], grammar["scopeName"]);
    // Every `include` names a rule of the repository.
    let text = serde_json::to_string(&tm).unwrap();
    for include in text.split("\"include\":\"").skip(1) {
        let name = include.split('"').next().unwrap();
        if let Some(rule) = name.strip_prefix('#') {
            assert!(tm["repository"].get(rule).is_some(), "the grammar includes `{name}`, which it does not define");
        }
    }
    let configuration = json(&root.join(language["configuration"].as_str().unwrap()));
    assert_eq!(configuration["comments"]["lineComment"], "//");
}

#[test]
fn grammar_tests_pass() {
    let root = extension();
    let runner = root.join("node_modules/vscode-tmgrammar-test/dist/unit.js");
    if Command::new("node").arg("--version").output().is_err() {
        println!("skipped: `node` is not installed (install Node 20+, then `npm install` in editors/vscode)");
        return;
    }
    if !runner.is_file() {
        println!("skipped: editors/vscode/node_modules is missing (run `npm install` in editors/vscode)");
        return;
    }
    let output = Command::new("node")
        .arg(&runner)
        .args(["-g", "syntaxes/gov.tmLanguage.json", "test/*.gov"])
        .current_dir(&root)
        .output()
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "grammar tests failed:\n{stdout}\n{stderr}");
    println!("{stdout}");
}
