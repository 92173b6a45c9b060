#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc audit verify|show|search` over the logs in `tests/audit/`: `valid/` is a signed
//! log as the service writes it (rotated files, a reopen, approvals), and every other
//! directory is a copy of it with one tampering (`diff -r tests/audit/valid tests/audit/X`
//! shows it). The expected outputs are insta snapshots. `regenerate_fixtures` (ignored)
//! wrote the directories.

mod common;
use common::{govc, root};
use serde_json::Value;
use std::path::{Path, PathBuf};

const KEY: &str = "tests/audit/key.pub";
/// The test-only secret key the fixtures were signed with (its public key is `KEY`).
const SECRET: [u8; 32] = *b"gov-audit test key, not a secret";

/// The directories under tests/audit/, each a log.
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(root().join("tests/audit"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    cases.sort();
    cases
}

#[test]
fn verify_names_each_tampering() {
    let cases = cases();
    assert!(cases.len() >= 10, "{cases:?}");
    for case in cases {
        let dir = format!("tests/audit/{case}");
        let run = govc(&["audit", "verify", &dir, "--public-key", KEY]);
        assert!(run.stderr.is_empty(), "{case}: {}", run.stderr);
        assert_eq!(run.code, if case == "valid" { 0 } else { 1 }, "{case}: {}", run.stdout);
        insta::assert_snapshot!(format!("verify_{case}"), run.stdout);
        let json = govc(&["audit", "verify", &dir, "--public-key", KEY, "--format", "json"]);
        assert_eq!(json.code, run.code);
        let report: Value = serde_json::from_str(&json.stdout).unwrap();
        assert_eq!(report["ok"], case == "valid");
    }
}

#[test]
fn without_a_key_signatures_are_not_checked_and_a_rehashed_log_passes() {
    let run = govc(&["audit", "verify", "tests/audit/valid"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("signatures not checked (pass --public-key)"), "{}", run.stdout);
    // An edit whose chain and head were recomputed is found only by the signatures.
    assert_eq!(govc(&["audit", "verify", "tests/audit/rehashed"]).code, 0);
    assert_eq!(govc(&["audit", "verify", "tests/audit/rehashed", "--public-key", KEY]).code, 1);
}

#[test]
fn verify_with_another_key_says_so() {
    let run = govc(&["audit", "verify", "tests/audit/valid", "--public-key", "tests/audit/other.pub"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let key = std::fs::read_to_string(root().join(KEY)).unwrap();
    assert_eq!(
        run.stdout,
        format!(
            "tests/audit/valid/audit-00000001.jsonl:1: seq 1: unsigned: the checkpoint is signed by another key ({}), not by the given one\n",
            key.trim()
        )
    );
}

#[test]
fn verify_refuses_what_it_cannot_read_with_exit_2() {
    let run = govc(&["audit", "verify", "tests/audit/no-such-dir"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: tests/audit/no-such-dir"), "{}", run.stderr);
    let run = govc(&["audit", "verify", "tests/eval"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no audit log here"), "{}", run.stderr);
    let run = govc(&["audit", "verify", "tests/audit/valid", "--public-key", "tests/eval/allow.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not an ed25519 public key"), "{}", run.stderr);
}

#[test]
fn show_prints_a_decision_and_its_approval() {
    let run = govc(&["audit", "show", "d-2", "--log", "tests/audit/valid"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("show_d-2", run.stdout);
    let run = govc(&["audit", "show", "d-2", "--log", "tests/audit/valid", "--format", "json"]);
    let shown: Value = serde_json::from_str(&run.stdout).unwrap();
    let kinds: Vec<&str> =
        shown["records"].as_array().unwrap().iter().map(|r| r["record"]["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["decision", "approval"]);
    assert_eq!(shown["records"][1]["record"]["approver"], "alice");
    let missing = govc(&["audit", "show", "d-404", "--log", "tests/audit/valid"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("no record with id `d-404`"), "{}", missing.stderr);
}

#[test]
fn search_filters_by_agent_decision_kind_and_time() {
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["audit", "search", "--log", "tests/audit/valid", "--format", "json"];
        all.extend(args);
        let run = govc(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let found: Value = serde_json::from_str(&run.stdout).unwrap();
        found["records"].as_array().unwrap().iter().map(|r| r["record"]["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&["--agent", "bot-1"]), ["d-1", "d-3", "d-5"]);
    assert_eq!(ids(&["--decision", "deny"]), ["d-3"]);
    assert_eq!(ids(&["--agent", "bot-2", "--decision", "escalate"]), ["d-2"]);
    assert_eq!(ids(&["--kind", "approval"]), ["d-2"]);
    assert_eq!(ids(&["--kind", "bundle_load"]), ["b-1"]);
    assert_eq!(ids(&["--since", "2026-12-01T09:00:03Z"]), ["d-3", "d-4", "d-5"]);
    assert_eq!(ids(&["--since", "2026-12-01T09:00:01Z", "--until", "2026-12-01T09:00:03Z"]), ["d-1", "d-2", "d-2"]);
    assert_eq!(ids(&["--limit", "2"]), ["d-4", "d-5"]);
    assert!(ids(&["--since", "1h"]).is_empty(), "the fixtures were written on 2026-12-01");
    let run = govc(&["audit", "search", "--log", "tests/audit/valid", "--agent", "bot-2"]);
    insta::assert_snapshot!("search_bot-2", run.stdout);
    let bad = govc(&["audit", "search", "--log", "tests/audit/valid", "--since", "yesterday"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--since `yesterday`"), "{}", bad.stderr);
}

// ---- the fixtures ------------------------------------------------------------------

fn lines(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("audit-"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f).unwrap().lines().map(|l| (f.clone(), l.to_owned())).collect::<Vec<_>>()
        })
        .collect()
}

/// Copies `valid` to `name` and rewrites its log lines with `change`.
fn case(base: &Path, name: &str, change: impl FnOnce(&mut Vec<(PathBuf, String)>)) -> PathBuf {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let valid = base.join("valid");
    for entry in std::fs::read_dir(&valid).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let mut lines: Vec<(PathBuf, String)> =
        lines(&valid).into_iter().map(|(f, l)| (dir.join(f.file_name().unwrap()), l)).collect();
    let files: Vec<PathBuf> = lines.iter().map(|(f, _)| f.clone()).collect();
    change(&mut lines);
    for file in files {
        let text: String = lines.iter().filter(|(f, _)| *f == file).map(|(_, l)| format!("{l}\n")).collect();
        std::fs::write(&file, text).unwrap();
    }
    dir
}

fn line_hash(line: &str) -> String {
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(line.as_bytes()).into();
    format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Replaces a line's `prev` with the hash of `before`.
fn relink(line: &str, before: &str) -> String {
    let start = line.find("\"prev\":\"").unwrap() + 8;
    format!("{}{}{}", &line[..start], line_hash(before), &line[start + 71..])
}

#[test]
#[ignore = "rewrites tests/audit/; run with --ignored to regenerate the fixtures, then review the diff"]
fn regenerate_fixtures() {
    use gov_audit::{AuditLog, Entry, EntryKind, Fsync, LogOptions};
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};
    let base = root().join("tests/audit");
    let valid = base.join("valid");
    let _ = std::fs::remove_dir_all(&valid);
    std::fs::write(base.join("key.pub"), format!("{}\n", hex(&gov_vm::bundle::public_key(&SECRET)))).unwrap();
    let options = LogOptions {
        fsync: Fsync::Always,
        rotate_bytes: 900,
        checkpoint_interval: Duration::from_secs(3600),
        signing_key: Some(SECRET),
    };
    let at = |second: u64| UNIX_EPOCH + Duration::from_secs(1_796_115_600 + second); // 2026-12-01T09:00:00Z
    let decide = |id: &str, second: u64, agent: &str, outcome: &str| {
        let mut entry = Entry::new(EntryKind::Decision, id);
        entry.time = at(second);
        entry.bundle_hash = Some("sha256:5d2c8a".to_owned());
        entry.request = json!({"transfer": [{"agent": agent, "amount": 100 * second, "to": "acct-9"}]}).into();
        entry.decision = json!({"decision": outcome}).into();
        entry.reasons = json!([{"rule": format!("{outcome}_rule"), "effect": outcome, "message": "…"}]).into();
        entry.duration_us = 40 + second;
        entry
    };
    let log = AuditLog::open(&valid, options.clone()).unwrap();
    let mut load = Entry::new(EntryKind::BundleLoad, "b-1");
    load.time = at(0);
    load.bundle_hash = Some("sha256:5d2c8a".to_owned());
    log.append(load).unwrap();
    log.append(decide("d-1", 1, "bot-1", "allow")).unwrap();
    log.append(decide("d-2", 2, "bot-2", "escalate")).unwrap();
    let mut approval = decide("d-2", 2, "bot-2", "allow");
    approval.kind = EntryKind::Approval;
    approval.approver = Some("alice".to_owned());
    log.append(approval).unwrap();
    log.append(decide("d-3", 3, "bot-1", "deny")).unwrap();
    log.close().unwrap();
    let log = AuditLog::open(&valid, options).unwrap();
    log.append(decide("d-4", 4, "bot-3", "allow")).unwrap();
    log.append(decide("d-5", 5, "bot-1", "allow")).unwrap();
    log.close().unwrap();
    std::fs::remove_file(valid.join(".lock")).unwrap();

    let n = lines(&valid).len();
    assert!(n >= 12, "{n}");
    // A field of a decision changed (its amount).
    case(&base, "edited", |l| l[2].1 = l[2].1.replace("\"amount\":100", "\"amount\":9100"));
    // A record's own `prev` changed.
    case(&base, "edited_prev", |l| l[4].1 = relink(&l[4].1.clone(), "x"));
    case(&base, "removed", |l| {
        l.remove(3);
    });
    case(&base, "removed_first", |l| {
        l.remove(0);
    });
    // A well-formed record that follows the line before it.
    case(&base, "inserted", |l| {
        let forged = relink(&l[2].1.replace("\"d-1\"", "\"d-forged\""), &l[2].1);
        let forged = forged.replacen(&format!("\"seq\":{}", 3), &format!("\"seq\":{}", 4), 1);
        l.insert(3, (l[2].0.clone(), forged));
    });
    case(&base, "inserted_copy", |l| l.insert(6, l[2].clone()));
    case(&base, "reordered", |l| l.swap(2, 3));
    case(&base, "truncated_record", |l| {
        let keep = l[3].1.len() / 2;
        l[3].1.truncate(keep);
    });
    case(&base, "tail_removed", |l| l.truncate(n - 3));
    // A record appended after the closing checkpoint, chained correctly.
    case(&base, "appended_after_close", |l| {
        let last = l[n - 1].clone();
        let seq = serde_json::from_str::<Value>(&last.1).unwrap()["seq"].as_u64().unwrap();
        let forged = relink(&l[2].1.replacen("\"seq\":3,", &format!("\"seq\":{},", seq + 1), 1), &last.1);
        l.push((last.0, forged));
    });
    // An edit with every later hash and the head recomputed: only signatures find it.
    let rehashed = case(&base, "rehashed", |l| {
        l[2].1 = l[2].1.replace("\"amount\":100", "\"amount\":9100");
        for i in 3..l.len() {
            let before = l[i - 1].1.clone();
            l[i].1 = relink(&l[i].1, &before);
        }
    });
    let last = lines(&rehashed).pop().unwrap().1;
    std::fs::write(rehashed.join("head.json"), format!("{last}\n")).unwrap();
    // A torn last line: what a crash in the middle of a write leaves.
    let torn = case(&base, "torn", |_| {});
    let (file, last) = lines(&torn).pop().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() - last.len() / 2]).unwrap();
    // A whole file removed.
    let removed_file = case(&base, "file_removed", |_| {});
    std::fs::remove_file(removed_file.join("audit-00000002.jsonl")).unwrap();
    // The head checkpoint removed.
    let no_head = case(&base, "head_removed", |_| {});
    std::fs::remove_file(no_head.join("head.json")).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
