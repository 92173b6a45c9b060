#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Stopping abruptly: a writer process aborted while threads append keeps every
//! acknowledged record, and a torn last line is cut off (and noted) when the log reopens.

use gov_audit::{AuditError, AuditLog, Entry, EntryKind, Fsync, LogOptions, ProblemKind, verify};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_DIR: &str = "GOV_AUDIT_CRASH_DIR";

fn options() -> LogOptions {
    LogOptions {
        fsync: Fsync::Always,
        rotate_bytes: 16 << 10,
        checkpoint_interval: Duration::from_millis(20),
        signing_key: Some([9; 32]),
    }
}

/// Every record of the log, parsed (complete lines only).
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
        .filter_map(|line| serde_json::from_str(&line).ok())
        .collect()
}

/// Run in a child process by `an_aborted_writer_keeps_every_acknowledged_record`: appends
/// from four threads, printing `seq id` for each acknowledged record, and aborts midway.
#[test]
#[ignore = "the child half of the crash test"]
fn child_writer() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    let log = AuditLog::open(Path::new(&dir), options()).unwrap();
    let stdout = std::sync::Mutex::new(std::io::stdout());
    std::thread::scope(|s| {
        for t in 0..4 {
            let (log, stdout) = (&log, &stdout);
            s.spawn(move || {
                for i in 0.. {
                    let id = format!("d-{t}-{i}");
                    let seq = log.append(Entry::new(EntryKind::Decision, id.clone())).unwrap();
                    let mut out = stdout.lock().unwrap();
                    writeln!(out, "{seq} {id}").unwrap();
                    out.flush().unwrap();
                    if t == 0 && i == 150 {
                        std::process::abort();
                    }
                }
            });
        }
    });
}

#[test]
fn an_aborted_writer_keeps_every_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let acknowledged: Vec<(u64, String)> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let (seq, id) = line.split_once(' ')?;
            Some((seq.parse().ok()?, id.to_owned()))
        })
        .collect();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the child aborts");
    assert!(acknowledged.len() >= 150, "{} acknowledged", acknowledged.len());
    // Without a torn line the chain verifies as it is; with one, only that is reported.
    let before = verify(dir.path(), Some(&gov_vm::bundle::public_key(&[9; 32]))).unwrap();
    if let Some(problem) = &before.problem {
        assert_eq!(problem.kind, ProblemKind::Truncated, "{problem:?}");
    }
    // Reopening resumes the chain and closing checkpoints it.
    let log = AuditLog::open(dir.path(), options()).unwrap();
    log.append(Entry::new(EntryKind::Decision, "after")).unwrap();
    log.close().unwrap();
    let after = verify(dir.path(), Some(&gov_vm::bundle::public_key(&[9; 32]))).unwrap();
    assert_eq!(after.problem, None);
    let records = records(dir.path());
    for (seq, id) in &acknowledged {
        let record = &records[*seq as usize - 1];
        assert_eq!((record["seq"].as_u64(), record["id"].as_str()), (Some(*seq), Some(id.as_str())));
    }
}

#[test]
fn a_torn_last_line_is_cut_off_and_noted_on_reopening() {
    let dir = tempfile::tempdir().unwrap();
    // No timer checkpoint between the records this test counts, however slow the disk.
    let options = || LogOptions { checkpoint_interval: Duration::from_secs(3600), ..options() };
    let log = AuditLog::open(dir.path(), options()).unwrap();
    log.append(Entry::new(EntryKind::Decision, "d-1")).unwrap();
    log.close().unwrap();
    let file = dir.path().join("audit-00000001.jsonl");
    let intact = std::fs::read(&file).unwrap();
    let torn = b"{\"seq\":4,\"prev\":\"sha256:00";
    std::fs::OpenOptions::new().append(true).open(&file).unwrap().write_all(torn).unwrap();
    let problem = verify(dir.path(), None).unwrap().problem.unwrap();
    assert_eq!((problem.kind, problem.line), (ProblemKind::Truncated, 4));
    assert!(problem.message.contains("never acknowledged"), "{}", problem.message);

    let log = AuditLog::open(dir.path(), options()).unwrap();
    log.close().unwrap();
    let text = std::fs::read(&file).unwrap();
    assert!(text.starts_with(&intact), "the complete lines are kept as they were");
    let records = records(dir.path());
    let kinds: Vec<&str> = records.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["checkpoint", "decision", "checkpoint", "checkpoint", "recovery", "checkpoint"]);
    let recovery = &records[4];
    assert_eq!(recovery["torn_bytes"], torn.len());
    assert_eq!(recovery["offset"], intact.len());
    assert_eq!(verify(dir.path(), None).unwrap().problem, None);
}

#[test]
fn a_log_whose_tail_was_removed_or_broken_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    // No timer checkpoint between the records this test counts, however slow the disk.
    let options = || LogOptions { checkpoint_interval: Duration::from_secs(3600), ..options() };
    let log = AuditLog::open(dir.path(), options()).unwrap();
    for i in 0..3 {
        log.append(Entry::new(EntryKind::Decision, format!("d-{i}"))).unwrap();
    }
    log.close().unwrap();
    let file = dir.path().join("audit-00000001.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // The last two lines removed: head.json names the closing checkpoint.
    std::fs::write(&file, lines[..lines.len() - 2].iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    match AuditLog::open(dir.path(), options()) {
        Err(AuditError::Corrupt { message, .. }) => assert!(message.contains("records were removed"), "{message}"),
        other => panic!("{other:?}"),
    }
    // A middle line edited.
    let edited = text.replacen("\"d-1\"", "\"d-9\"", 1);
    std::fs::write(&file, &edited).unwrap();
    match AuditLog::open(dir.path(), options()) {
        Err(AuditError::Corrupt { line, .. }) => assert_eq!(line, 4),
        other => panic!("{other:?}"),
    }
    // Restored, it opens again.
    std::fs::write(&file, &text).unwrap();
    AuditLog::open(dir.path(), options()).unwrap().close().unwrap();
}
