#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Every tampering with a closed log is found, at the place it was made: a property test
//! over random logs (sizes, rotation points, signed or not) and random tamperings.

use gov_audit::{AuditLog, Entry, EntryKind, Fsync, LogOptions, ProblemKind, verify};
use proptest::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SECRET: [u8; 32] = [42; 32];

/// Writes a closed log of `records` decisions, rotating after `rotate` bytes, closed and
/// reopened before record `reopen` if it is one of them.
fn write_log(dir: &Path, records: usize, rotate: u64, signed: bool, reopen: usize) {
    let options = LogOptions {
        fsync: Fsync::Interval(Duration::from_secs(60)),
        rotate_bytes: rotate,
        checkpoint_interval: Duration::from_secs(60),
        signing_key: signed.then_some(SECRET),
    };
    let mut log = AuditLog::open(dir, options.clone()).unwrap();
    for i in 0..records {
        if i == reopen {
            log.close().unwrap();
            log = AuditLog::open(dir, options.clone()).unwrap();
        }
        let mut entry = Entry::new(EntryKind::Decision, format!("d-{i}"));
        entry.request = json!({"transfer": [{"agent": format!("bot-{}", i % 3), "amount": i * 100}]}).into();
        entry.decision = json!({"decision": if i % 2 == 0 { "allow" } else { "deny" }}).into();
        log.append(entry).unwrap();
    }
    log.close().unwrap();
}

/// The log's lines: (file, line text) in chain order.
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

/// Writes the lines back, each file with its own lines, each ending in a newline.
fn rewrite(dir: &Path, lines: &[(PathBuf, String)]) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("audit-"))
        .collect();
    files.sort();
    for file in files {
        let text: String = lines.iter().filter(|(f, _)| *f == file).map(|(_, l)| format!("{l}\n")).collect();
        std::fs::write(&file, text).unwrap();
    }
}

fn seq(line: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"].as_u64().unwrap()
}

/// Where a tampered line now sits: its file and 1-based line in that file.
fn location(lines: &[(PathBuf, String)], index: usize) -> (PathBuf, u64) {
    let file = lines[index].0.clone();
    let line = lines[..index].iter().filter(|(f, _)| *f == file).count() as u64 + 1;
    (file, line)
}

#[derive(Debug, Clone)]
enum Tampering {
    /// Change one digit of a record's time.
    Edit(prop::sample::Index),
    /// Remove a line.
    Remove(prop::sample::Index),
    /// Insert a copy of one line before another.
    InsertCopy(prop::sample::Index, prop::sample::Index),
    /// Insert a well-formed line that follows the line before it (seq and prev right).
    InsertForged(prop::sample::Index),
    /// Swap two lines.
    Swap(prop::sample::Index, prop::sample::Index),
    /// Cut a line short, keeping its newline.
    Cut(prop::sample::Index, prop::sample::Index),
    /// Remove the last `n` lines (the tail).
    RemoveTail(prop::sample::Index),
    /// Cut the last line short without a newline (a torn write).
    Tear(prop::sample::Index),
}

fn tampering() -> impl Strategy<Value = Tampering> {
    use prop::sample::Index;
    prop_oneof![
        any::<Index>().prop_map(Tampering::Edit),
        any::<Index>().prop_map(Tampering::Remove),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Tampering::InsertCopy(a, b)),
        any::<Index>().prop_map(Tampering::InsertForged),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Tampering::Swap(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Tampering::Cut(a, b)),
        any::<Index>().prop_map(Tampering::RemoveTail),
        any::<Index>().prop_map(Tampering::Tear),
    ]
}

/// What verify must report: the kind, and where (file, line, and seq when it is sure).
struct Expected {
    kinds: Vec<ProblemKind>,
    /// Any of these places (empty: not checked).
    at: Vec<(PathBuf, u64)>,
    seq: Option<u64>,
}

/// Applies the tampering; returns what verify must find, or `None` if it changed nothing.
fn tamper(dir: &Path, tampering: &Tampering) -> Option<Expected> {
    let mut lines = lines(dir);
    let n = lines.len();
    let expected = match tampering {
        Tampering::Edit(i) => {
            let i = i.index(n);
            let line = &mut lines[i].1;
            let at = line.find("\"time\":\"").unwrap() + 8 + 3; // a digit of the year
            let old = line.as_bytes()[at];
            let new = if old == b'9' { '8' } else { (old + 1) as char };
            line.replace_range(at..=at, &new.to_string());
            let at = location(&lines, i);
            Expected { kinds: vec![ProblemKind::Edited], at: vec![at], seq: Some(seq(&lines[i].1)) }
        }
        Tampering::Remove(i) => {
            let i = i.index(n);
            let removed_seq = seq(&lines[i].1);
            lines.remove(i);
            // Reported where the next record now is; a removed last line is found through
            // the head and reported after the end.
            let at = if i + 1 < n { vec![location(&lines, i)] } else { vec![] };
            Expected { kinds: vec![ProblemKind::Removed], at, seq: Some(removed_seq) }
        }
        Tampering::InsertCopy(from, to) => {
            let (from, to) = (from.index(n), to.index(n + 1));
            let copy = lines[from].clone();
            let file = if to < n { lines[to].0.clone() } else { lines[n - 1].0.clone() };
            lines.insert(to, (file, copy.1));
            // Either of the two equal lines may be named: they are the same bytes.
            let original = if from >= to { from + 1 } else { from };
            Expected {
                kinds: vec![ProblemKind::Inserted],
                at: vec![location(&lines, to), location(&lines, original)],
                seq: Some(seq(&lines[to].1)),
            }
        }
        Tampering::InsertForged(after) => {
            let after = after.index(n);
            let before = lines[after].1.clone();
            let prev = format!("sha256:{}", hex(&sha256(before.as_bytes())));
            let forged = format!(
                "{{\"seq\":{},\"prev\":\"{prev}\",\"kind\":\"decision\",\"id\":\"forged\",\"time\":\"2026-01-01T00:00:00Z\",\"bundle\":null,\"request\":null,\"decision\":\"allow\",\"reasons\":null,\"approver\":null,\"duration_us\":0}}",
                seq(&before) + 1
            );
            let file = lines[after].0.clone();
            lines.insert(after + 1, (file, forged));
            Expected {
                kinds: vec![ProblemKind::Inserted],
                at: vec![location(&lines, after + 1)],
                seq: Some(seq(&before) + 1),
            }
        }
        Tampering::Swap(a, b) => {
            let (a, b) = (a.index(n), b.index(n));
            if a == b {
                return None;
            }
            let (a, b) = (a.min(b), a.max(b));
            let (la, lb) = (lines[a].1.clone(), lines[b].1.clone());
            lines[a].1 = lb;
            lines[b].1 = la;
            Expected { kinds: vec![ProblemKind::Reordered], at: vec![location(&lines, a)], seq: Some(seq(&lines[a].1)) }
        }
        Tampering::Cut(i, keep) => {
            let i = i.index(n);
            let keep = keep.index(lines[i].1.len());
            let at = location(&lines, i);
            lines[i].1.truncate(keep);
            Expected { kinds: vec![ProblemKind::Truncated], at: vec![at], seq: None }
        }
        Tampering::RemoveTail(count) => {
            let count = count.index(n - 1) + 1;
            let first_removed = seq(&lines[n - count].1);
            lines.truncate(n - count);
            Expected { kinds: vec![ProblemKind::Removed], at: vec![], seq: Some(first_removed) }
        }
        Tampering::Tear(keep) => {
            rewrite(dir, &lines);
            let (file, last) = lines.last().unwrap().clone();
            let text = std::fs::read_to_string(&file).unwrap();
            // A torn write leaves a non-empty part of the line (no part of it at all is a
            // removed record, `RemoveTail`'s case) and never its newline.
            let keep = text.len() - last.len() - 1 + 1 + keep.index(last.len() - 1);
            std::fs::write(&file, &text[..keep]).unwrap();
            let at = location(&lines, n - 1);
            return Some(Expected { kinds: vec![ProblemKind::Truncated], at: vec![at], seq: None });
        }
    };
    rewrite(dir, &lines);
    Some(expected)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(96),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_tampering_is_found_where_it_was_made(
        records in 1usize..24,
        rotate in 400u64..4000,
        signed in any::<bool>(),
        reopen in 0usize..32,
        tampering in tampering(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), records, rotate, signed, reopen);
        let key = gov_vm::bundle::public_key(&SECRET);
        let key = signed.then_some(&key);
        prop_assert_eq!(verify(dir.path(), key).unwrap().problem, None);
        let Some(expected) = tamper(dir.path(), &tampering) else { return Ok(()) };
        let verified = verify(dir.path(), key).unwrap();
        let problem = verified.problem.expect("the tampering was not found");
        prop_assert!(expected.kinds.contains(&problem.kind), "{:?} reported as {:?}", tampering, problem);
        if !expected.at.is_empty() {
            let at = (problem.file.clone(), problem.line);
            prop_assert!(expected.at.contains(&at), "{:?} reported as {:?}, expected at {:?}", tampering, problem, expected.at);
        }
        if let Some(seq) = expected.seq {
            prop_assert_eq!(problem.seq, Some(seq), "{:?} reported as {:?}", tampering, problem);
        }
    }
}
