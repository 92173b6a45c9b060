#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Appending: the lines written, group commit from many threads, rotation, reopening.

use gov_audit::{AuditError, AuditLog, Entry, EntryKind, Fsync, LogOptions};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn options() -> LogOptions {
    LogOptions { fsync: Fsync::Interval(Duration::from_millis(5)), ..LogOptions::default() }
}

/// `Interval` with no sync or checkpoint due during a test (either would write pending
/// lines on the syncer thread).
fn quiet() -> LogOptions {
    let long = Duration::from_secs(600);
    LogOptions { fsync: Fsync::Interval(long), checkpoint_interval: long, ..LogOptions::default() }
}

fn decision(id: &str) -> Entry {
    let mut entry = Entry::new(EntryKind::Decision, id);
    entry.request = json!({"transfer": [{"agent": "bot-1", "amount": 6000}]}).into();
    entry.decision = json!({"decision": "deny"}).into();
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
                    (0..100)
                        .map(|i| {
                            // Rotation is the syncer's: give it turns while the threads write.
                            std::thread::sleep(Duration::from_millis(1));
                            log.append(decision(&format!("d-{t}-{i}"))).unwrap()
                        })
                        .collect::<Vec<_>>()
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
    assert!(files.count() > 1, "the log rotated");
}

#[test]
fn submit_calls_back_once_the_line_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options()).unwrap();
    let (sender, results) = std::sync::mpsc::channel();
    for i in 0..10 {
        let sender = sender.clone();
        log.submit(decision(&format!("d-{i}")), move |result| sender.send((i, result)).unwrap()).unwrap();
    }
    let mut seqs: Vec<(i32, u64)> = (0..10).map(|_| results.recv().unwrap()).map(|(i, r)| (i, r.unwrap())).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..10).map(|i| (i, i as u64 + 2)).collect::<Vec<_>>(), "in the order submitted");
    let written = records(dir.path());
    assert_eq!(written[10]["id"], "d-9", "written before the callback ran");
    log.close().unwrap();
}

/// Under `Interval`, a caller that finds the file idle writes its own line and is answered
/// on its own thread before `submit` returns: no wake-up of another thread.
#[test]
fn under_interval_a_line_on_an_idle_log_is_written_and_answered_by_its_caller() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), quiet()).unwrap();
    let (sender, answered) = std::sync::mpsc::channel();
    log.submit(decision("d-1"), move |result| {
        sender.send((std::thread::current().id(), result)).unwrap();
    })
    .unwrap();
    let (thread, result) = answered.try_recv().expect("answered before submit returned");
    assert_eq!(thread, std::thread::current().id());
    assert_eq!(result.unwrap(), 2);
    assert_eq!(records(dir.path())[1]["id"], "d-1", "written before the answer");
    log.close().unwrap();
}

/// Under `Interval`, lines chained with `submit_later` wait for their `Unwritten`: the
/// first one dropped writes every pending line with one `write` and answers all of them
/// on its own thread (a group commit of the callers that chained meanwhile).
#[test]
fn under_interval_lines_chained_later_are_written_together_by_the_first_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), quiet()).unwrap();
    let (sender, answered) = std::sync::mpsc::channel();
    let mut held = Vec::new();
    for id in ["d-1", "d-2", "d-3"] {
        let sender = sender.clone();
        held.push(
            log.submit_later(decision(id), move |result| {
                sender.send((std::thread::current().id(), result.unwrap())).unwrap();
            })
            .unwrap(),
        );
    }
    assert!(answered.try_recv().is_err(), "nothing is written before an Unwritten is dropped");
    assert_eq!(records(dir.path()).len(), 1, "only the opening checkpoint is in the file");
    drop(held.remove(2));
    let written: Vec<_> = answered.try_iter().collect();
    let here = std::thread::current().id();
    assert_eq!(written, vec![(here, 2), (here, 3), (here, 4)], "all three answered by the first drop");
    let ids: Vec<_> = records(dir.path()).iter().skip(1).map(|r| r["id"].clone()).collect();
    assert_eq!(ids, ["d-1", "d-2", "d-3"]);
    drop(held);
    assert!(answered.try_recv().is_err(), "each line is answered once");
    log.close().unwrap();
    assert_eq!(gov_audit::verify(dir.path(), None).unwrap().problem, None);
}

#[test]
fn an_entry_too_large_is_refused_and_the_log_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options()).unwrap();
    let mut huge = decision("d-huge");
    huge.request = Value::String("x".repeat(17 << 20)).into();
    assert!(matches!(log.append(huge), Err(AuditError::Entry(m)) if m.contains("at most")));
    assert_eq!(log.append(decision("d-1")).unwrap(), 2);
    log.close().unwrap();
}

#[test]
fn a_log_written_without_a_key_does_not_verify_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), options()).unwrap();
    log.append(decision("d-1")).unwrap();
    log.close().unwrap();
    assert_eq!(gov_audit::verify(dir.path(), None).unwrap().problem, None);
    let key = gov_vm::bundle::public_key(&[3; 32]);
    let problem = gov_audit::verify(dir.path(), Some(&key)).unwrap().problem.unwrap();
    assert_eq!((problem.kind, problem.line, problem.seq), (gov_audit::ProblemKind::Unsigned, 1, Some(1)));
}

#[test]
fn after_a_failed_write_every_append_fails_and_nothing_more_is_written() {
    // A file is full after its opening checkpoint (its time may be a few bytes longer than
    // the scratch one's) and one record.
    let scratch = tempfile::tempdir().unwrap();
    AuditLog::open(scratch.path(), options()).unwrap().close().unwrap();
    let checkpoint = std::fs::read_to_string(scratch.path().join("head.json")).unwrap().len() as u64;
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), LogOptions { rotate_bytes: checkpoint + 64, ..options() }).unwrap();
    // The next file's name is taken, so the first rotation (the syncer thread's) fails.
    std::fs::create_dir(dir.path().join("audit-00000002.jsonl")).unwrap();
    let mut acknowledged = Vec::new();
    let error = (0..1000)
        .find_map(|i| {
            std::thread::sleep(Duration::from_millis(5));
            let id = format!("d-{i}");
            match log.append(decision(&id)) {
                Ok(_) => {
                    acknowledged.push(json!(id));
                    None
                }
                Err(error) => Some(error),
            }
        })
        .expect("the rotation failed");
    assert!(matches!(&error, AuditError::Io { path, .. } if path.ends_with("audit-00000002.jsonl")), "{error}");
    assert_eq!(log.append(decision("d-last")).unwrap_err(), error);
    assert_eq!(log.close().unwrap_err(), error);
    std::fs::remove_dir(dir.path().join("audit-00000002.jsonl")).unwrap();
    let records = records(dir.path());
    let kinds: Vec<&str> = records.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"checkpoint"));
    let ids: Vec<Value> = records.iter().filter(|r| r["kind"] == "decision").map(|r| r["id"].clone()).collect();
    assert_eq!(ids, acknowledged, "every acknowledged record, and nothing after the failure");
    assert!(kinds[1..].iter().all(|k| *k == "decision" || *k == "checkpoint"), "{kinds:?}");
}

#[test]
fn rotating_after_every_record_leaves_no_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), LogOptions { rotate_bytes: 0, ..options() }).unwrap();
    for i in 0..3 {
        log.append(decision(&format!("d-{i}"))).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    log.close().unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("audit-"))
        .collect();
    // The syncer thread rotates: how many files depends on how soon it gets a turn.
    assert!(files.len() >= 2, "{files:?}");
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() > 0, "{} is empty", file.display());
    }
    assert_eq!(gov_audit::verify(dir.path(), None).unwrap().problem, None);
}
