#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Appending: the lines written, group commit from many threads, rotation, reopening.

use gov_audit::{AuditError, AuditLog, Entry, EntryKind, Fsync, LogOptions};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn options() -> LogOptions {
    LogOptions { fsync: Fsync::Interval(Duration::from_millis(5)), ..LogOptions::default() }
}

fn decision(id: &str) -> Entry {
    let mut entry = Entry::new(EntryKind::Decision, id);
    entry.request = json!({"transfer": [{"agent": "bot-1", "amount": 6000}]});
    entry.decision = json!({"decision": "deny"});
    entry
}

/// Every line of every log file, parsed, in order.
fn records(dir: &Path) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("audit-"))
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|n| std::fs::read_to_string(dir.join(n)).unwrap().lines().map(str::to_owned).collect::<Vec<_>>())
        .map(|line| serde_json::from_str(&line).unwrap())
        .collect()
}

#[test]
fn a_new_log_starts_with_a_checkpoint_and_ends_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.append(decision("d-1")).unwrap(), 2);
    assert_eq!(log.append(decision("d-2")).unwrap(), 3);
    log.close().unwrap();
    let records = records(dir.path());
    let kinds: Vec<&str> = records.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["checkpoint", "decision", "decision", "checkpoint"]);
    assert_eq!(records[3]["closing"], true);
    assert_eq!(records[1]["id"], "d-1");
    assert_eq!(records[1]["request"]["transfer"][0]["agent"], "bot-1");
    assert_eq!(records[0]["prev"], format!("sha256:{}", "0".repeat(64)));
    let head = std::fs::read_to_string(dir.path().join("head.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&head).unwrap(), records[3]);
}

#[test]
fn a_second_writer_is_refused_and_reopening_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options()).unwrap();
    assert!(matches!(AuditLog::open(dir.path(), options()), Err(AuditError::Locked(_))));
    log.append(decision("d-1")).unwrap();
    log.close().unwrap();
    let log = AuditLog::open(dir.path(), options()).unwrap();
    assert_eq!(log.append(decision("d-2")).unwrap(), 5, "after the closing checkpoint and the opening one");
    log.close().unwrap();
    let records = records(dir.path());
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    let closing: Vec<bool> = records.iter().map(|r| r["closing"] == true).collect();
    assert_eq!(closing, [false, false, true, false, false, true]);
    let verified = gov_audit::verify(dir.path(), None).unwrap();
    assert_eq!(verified.problem, None);
    assert_eq!((verified.last_seq, verified.head_seq), (6, Some(6)));
}

#[test]
fn many_threads_append_to_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), LogOptions { rotate_bytes: 8 << 10, ..options() }).unwrap();
    let mut seqs: Vec<u64> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = &log;
                s.spawn(move || {
                    (0..100).map(|i| log.append(decision(&format!("d-{t}-{i}"))).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    log.close().unwrap();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 800, "every append has its own sequence number");
    assert_eq!(gov_audit::verify(dir.path(), None).unwrap().problem, None);
    let records = records(dir.path());
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["seq"].as_u64().unwrap(), i as u64 + 1);
    }
    for seq in seqs {
        assert_eq!(records[seq as usize - 1]["kind"], "decision");
    }
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().starts_with("audit-"));
    assert!(files.count() > 3, "the log rotated");
}
