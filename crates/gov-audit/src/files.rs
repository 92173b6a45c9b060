//! The files of a log directory and reading them line by line. A log directory holds
//! `audit-00000001.jsonl`, `audit-00000002.jsonl`, … (the chain runs through them in
//! number order), `head.json` (a copy of the newest checkpoint line) and `.lock`; other
//! files are ignored.

use crate::AuditError;
use crate::record::MAX_LINE_BYTES;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The file holding a copy of the newest checkpoint line.
pub const HEAD: &str = "head.json";
/// The file a writer locks while it has the log open.
pub const LOCK: &str = ".lock";

/// The name of log file `number`.
pub fn file_name(number: u64) -> String {
    format!("audit-{number:08}.jsonl")
}

/// The number of a log file's name, if it is one.
fn file_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("audit-")?.strip_suffix(".jsonl")?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The bytes of `DIR/head.json` without its final newline, or `None` if there is none.
pub fn read_head(dir: &Path) -> Result<Option<Vec<u8>>, AuditError> {
    let path = dir.join(HEAD);
    let mut bytes = Vec::new();
    match File::open(&path) {
        Ok(file) => {
            let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
            file.take(limit).read_to_end(&mut bytes).map_err(|e| AuditError::io(&path, &e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AuditError::io(&path, &e)),
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    Ok(Some(bytes))
}

/// One file of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// Its number (from 1; a gap means a file was removed).
    pub number: u64,
    /// Its path.
    pub path: PathBuf,
}

/// The log files of `dir`, in chain order.
pub fn list(dir: &Path) -> Result<Vec<LogFile>, AuditError> {
    let entries = std::fs::read_dir(dir).map_err(|e| AuditError::io(dir, &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| AuditError::io(dir, &e))?;
        if let Some(number) = entry.file_name().to_str().and_then(file_number) {
            files.push(LogFile { number, path: entry.path() });
        }
    }
    files.sort_by_key(|f| f.number);
    Ok(files)
}

/// A line of a log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based.
    pub number: u64,
    /// The byte offset where it starts.
    pub offset: u64,
    /// Its bytes, without the newline (only the first [`MAX_LINE_BYTES`] if `oversized`).
    pub bytes: Vec<u8>,
    /// Whether a newline ends it (only a file's last line can lack one: a torn write).
    pub complete: bool,
    /// Whether it is longer than [`MAX_LINE_BYTES`] (the rest was skipped).
    pub oversized: bool,
}

/// The lines of one file, read with bounded memory.
pub struct Lines {
    reader: BufReader<File>,
    path: PathBuf,
    number: u64,
    offset: u64,
    done: bool,
}

impl Lines {
    /// Opens `path` for reading.
    pub fn open(path: &Path) -> Result<Lines, AuditError> {
        let file = File::open(path).map_err(|e| AuditError::io(path, &e))?;
        Ok(Lines {
            reader: BufReader::with_capacity(1 << 16, file),
            path: path.to_path_buf(),
            number: 0,
            offset: 0,
            done: false,
        })
    }

    fn read_line(&mut self) -> std::io::Result<Option<Line>> {
        let mut bytes = Vec::new();
        let limit = u64::try_from(MAX_LINE_BYTES).unwrap_or(u64::MAX);
        let read = (&mut self.reader).take(limit + 1).read_until(b'\n', &mut bytes)?;
        if read == 0 {
            return Ok(None);
        }
        let start = self.offset;
        self.offset += read as u64;
        let mut complete = bytes.last() == Some(&b'\n');
        let mut oversized = false;
        if complete {
            bytes.pop();
        } else if bytes.len() > MAX_LINE_BYTES {
            // Skip the rest of the line without keeping it.
            oversized = true;
            bytes.truncate(MAX_LINE_BYTES);
            let mut skipped = Vec::new();
            loop {
                skipped.clear();
                let n = (&mut self.reader).take(limit).read_until(b'\n', &mut skipped)?;
                self.offset += n as u64;
                if n == 0 {
                    break;
                }
                if skipped.last() == Some(&b'\n') {
                    complete = true;
                    break;
                }
            }
        }
        self.number += 1;
        Ok(Some(Line { number: self.number, offset: start, bytes, complete, oversized }))
    }
}

impl Iterator for Lines {
    type Item = Result<Line, AuditError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.read_line() {
            Ok(Some(line)) => Some(Ok(line)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(AuditError::io(&self.path, &e)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_ignored() {
        assert_eq!(file_number(&file_name(42)), Some(42));
        assert_eq!(file_number("audit-1.jsonl"), None);
        assert_eq!(file_number("audit-0000000x.jsonl"), None);
        assert_eq!(file_number(HEAD), None);
    }

    #[test]
    fn lines_know_their_offsets_and_a_torn_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "ab\n\ncd").unwrap();
        let lines: Vec<Line> = Lines::open(&path).unwrap().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!((lines[0].offset, lines[0].bytes.as_slice(), lines[0].complete), (0, b"ab".as_slice(), true));
        assert_eq!((lines[1].offset, lines[1].bytes.len(), lines[1].complete), (3, 0, true));
        assert_eq!((lines[2].number, lines[2].offset, lines[2].complete), (3, 4, false));
    }
}
