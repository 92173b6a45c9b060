//! Where an opened log continues: the newest file's records are checked as a chain (and
//! linked to the file before it), a torn last line is found, and the head checkpoint must
//! not name a record past the end.

use crate::AuditError;
use crate::files::{self, Lines, LogFile};
use crate::record::{self, GENESIS, Hash};
use std::path::Path;

/// A last line that a write left without its newline, never acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Torn {
    /// Its 1-based line.
    pub line: u64,
    /// Where it starts (the file is cut back to here).
    pub offset: u64,
    /// How many bytes it has.
    pub bytes: u64,
    /// Their SHA-256, kept as evidence in the recovery record.
    pub hash: Hash,
}

/// The last complete record seen.
#[derive(Debug, Clone)]
struct Last {
    seq: u64,
    hash: Hash,
}

/// What reading one file found.
struct Scan {
    /// The first record: its seq, prev and line.
    first: Option<(u64, Hash, u64)>,
    last: Option<Last>,
    torn: Option<Torn>,
}

/// Where the chain continues.
#[derive(Debug)]
pub(crate) struct Tail {
    /// The file to append to; `None` for an empty directory.
    pub file: Option<LogFile>,
    /// The sequence number of the next record.
    pub next_seq: u64,
    /// The hash of the last complete line.
    pub head: Hash,
    /// A torn last line of `file`, to cut off.
    pub torn: Option<Torn>,
}

fn corrupt(path: &Path, line: u64, message: impl Into<String>) -> AuditError {
    AuditError::Corrupt { path: path.to_path_buf(), line, message: message.into() }
}

/// Reads one file, checking that its complete lines form a chain.
fn scan(file: &LogFile) -> Result<Scan, AuditError> {
    let mut scan = Scan { first: None, last: None, torn: None };
    for line in Lines::open(&file.path)? {
        let line = line?;
        if line.oversized {
            return Err(corrupt(&file.path, line.number, "the line is longer than a record can be"));
        }
        if !line.complete {
            scan.torn = Some(Torn {
                line: line.number,
                offset: line.offset,
                bytes: line.bytes.len() as u64,
                hash: record::line_hash(&line.bytes),
            });
            break;
        }
        let header = record::parse_header(&line.bytes).map_err(|m| corrupt(&file.path, line.number, m))?;
        match &scan.last {
            None => scan.first = Some((header.seq, header.prev, line.number)),
            Some(last) if header.seq == last.seq + 1 && header.prev == last.hash => {}
            Some(last) => {
                return Err(corrupt(
                    &file.path,
                    line.number,
                    format!("record seq {} does not follow seq {} on the line before", header.seq, last.seq),
                ));
            }
        }
        scan.last = Some(Last { seq: header.seq, hash: record::line_hash(&line.bytes) });
    }
    Ok(scan)
}

/// Finds where the log in `dir` continues.
pub(crate) fn resume(dir: &Path) -> Result<Tail, AuditError> {
    let files = files::list(dir)?;
    let Some((newest, older)) = files.split_last() else {
        return Ok(Tail { file: None, next_seq: 1, head: GENESIS, torn: None });
    };
    let newest_scan = scan(newest)?;
    let mut before = None;
    for file in older.iter().rev() {
        let older_scan = scan(file)?;
        if let Some(torn) = older_scan.torn {
            return Err(corrupt(
                &file.path,
                0,
                format!("an older file ends in an incomplete line at byte {}", torn.offset),
            ));
        }
        if older_scan.last.is_some() {
            before = older_scan.last;
            break;
        }
    }
    if let Some((seq, prev, line)) = newest_scan.first {
        let (want_seq, want_prev) = before.as_ref().map_or((1, GENESIS), |b| (b.seq + 1, b.hash));
        if seq != want_seq || prev != want_prev {
            return Err(corrupt(
                &newest.path,
                line,
                format!("record seq {seq} does not follow the end of the log before this file (seq {})", want_seq - 1),
            ));
        }
    }
    let last = newest_scan.last.or(before);
    let next_seq = last.as_ref().map_or(1, |l| l.seq + 1);
    check_head(dir, next_seq)?;
    Ok(Tail {
        file: Some(newest.clone()),
        next_seq,
        head: last.as_ref().map_or(GENESIS, |l| l.hash),
        torn: newest_scan.torn,
    })
}

/// The head checkpoint must name a record the log still has; it may be missing only while
/// the log holds at most its first record (a writer stopped before writing it).
fn check_head(dir: &Path, next_seq: u64) -> Result<(), AuditError> {
    let path = dir.join(files::HEAD);
    match files::read_head(dir)? {
        None if next_seq > 2 => Err(corrupt(&path, 1, "the head checkpoint is missing")),
        None => Ok(()),
        Some(bytes) => {
            let header = record::parse_header(&bytes).map_err(|m| corrupt(&path, 1, m))?;
            if header.seq >= next_seq {
                return Err(corrupt(
                    &path,
                    1,
                    format!(
                        "the head checkpoint names seq {}, but the log ends at seq {}: records were removed",
                        header.seq,
                        next_seq - 1
                    ),
                ));
            }
            Ok(())
        }
    }
}
