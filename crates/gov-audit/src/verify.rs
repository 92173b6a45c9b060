//! Verifying a log directory: every line in file order must be the next link of one chain
//! from seq 1, every checkpoint's signature must hold (when a public key is given), and
//! the head checkpoint (`head.json`) must be a record the chain still has. The first
//! place where this fails is reported, classified by what the links around it show.

use crate::AuditError;
use crate::files::{self, Lines, LogFile};
use crate::record::{self, CHECKPOINT, GENESIS, Hash, Header, Signature};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What kind of tampering (or damage) a problem shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A record's bytes changed (or a line is not a record at all).
    Edited,
    /// Records are missing: from the middle, the start, or the end (after the head
    /// checkpoint's record), or the head checkpoint itself.
    Removed,
    /// A line that is not part of the chain sits in it.
    Inserted,
    /// Records of the chain appear out of order.
    Reordered,
    /// A record is cut short: a line that ends early, or a file's last line without its
    /// newline (what a crash in the middle of a write leaves, never acknowledged).
    Truncated,
    /// A public key was given and a checkpoint is not signed by it: it carries no
    /// signature, or is signed by the other key it names.
    Unsigned,
}

impl ProblemKind {
    /// The word `govc audit verify` prints: `edited`, `removed`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Edited => "edited",
            ProblemKind::Removed => "removed",
            ProblemKind::Inserted => "inserted",
            ProblemKind::Reordered => "reordered",
            ProblemKind::Truncated => "truncated",
            ProblemKind::Unsigned => "unsigned",
        }
    }
}

/// The first place where the log is not what its writer wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What it looks like.
    pub kind: ProblemKind,
    /// The log file (or `head.json`).
    pub file: PathBuf,
    /// The 1-based line in `file`.
    pub line: u64,
    /// The sequence number of the record concerned, when it is known.
    pub seq: Option<u64>,
    /// A sentence for a person.
    pub message: String,
}

/// What verifying found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many log files were read.
    pub files: usize,
    /// How many lines they hold.
    pub records: u64,
    /// The last sequence number of the verified chain (up to the problem, if any).
    pub last_seq: u64,
    /// The sequence number of the head checkpoint, if there is a valid one.
    pub head_seq: Option<u64>,
    /// Whether checkpoint signatures were checked (a public key was given).
    pub signatures_checked: bool,
    /// The first problem, or `None` if the log verifies.
    pub problem: Option<Problem>,
}

/// One line, as verification sees it.
struct Item {
    file: usize,
    line: u64,
    hash: Hash,
    header: Result<Header, (ProblemKind, String)>,
    complete: bool,
}

/// Verifies the log in `dir`; signatures are checked against `public_key` if given.
/// An error only for what cannot be read (exit 2 in `govc audit verify`).
pub fn verify(dir: &Path, public_key: Option<&[u8; 32]>) -> Result<Verified, AuditError> {
    // Invariant: the head is read before the files, so that on a live log the files hold at
    // least the record it names.
    let head = files::read_head(dir)?;
    let files = files::list(dir)?;
    if files.is_empty() && head.is_none() {
        return Err(AuditError::Io {
            path: dir.to_path_buf(),
            message: "no audit log here (no `audit-*.jsonl` files and no `head.json`)".to_owned(),
        });
    }
    let items = read_items(&files)?;
    let mut index: HashMap<Hash, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if item.header.is_ok() {
            index.entry(item.hash).or_default().push(i);
        }
    }
    let run = Run { files: &files, items: &items, public_key, index, head: head.as_deref() };
    let (last_seq, problem) = run.walk();
    let (head_seq, problem) = match problem {
        Some(problem) => (None, Some(problem)),
        None => run.check_head(dir, last_seq),
    };
    Ok(Verified {
        files: files.len(),
        records: items.len() as u64,
        last_seq,
        head_seq,
        signatures_checked: public_key.is_some(),
        problem,
    })
}

fn read_items(files: &[LogFile]) -> Result<Vec<Item>, AuditError> {
    let mut items = Vec::new();
    for (index, file) in files.iter().enumerate() {
        for line in Lines::open(&file.path)? {
            let line = line?;
            let header = if line.oversized {
                Err((ProblemKind::Edited, format!("the line is longer than {} bytes", record::MAX_LINE_BYTES)))
            } else {
                record::parse_header(&line.bytes).map_err(|message| {
                    let cut = serde_json::from_slice::<serde::de::IgnoredAny>(&line.bytes)
                        .is_err_and(|e| e.classify() == serde_json::error::Category::Eof);
                    if cut {
                        (ProblemKind::Truncated, "the record is cut short".to_owned())
                    } else {
                        (ProblemKind::Edited, message)
                    }
                })
            };
            items.push(Item {
                file: index,
                line: line.number,
                hash: record::line_hash(&line.bytes),
                header,
                complete: line.complete,
            });
        }
    }
    Ok(items)
}

struct Run<'a> {
    files: &'a [LogFile],
    items: &'a [Item],
    public_key: Option<&'a [u8; 32]>,
    /// The indexes of the lines with each hash (one, unless a line was copied).
    index: HashMap<Hash, Vec<usize>>,
    head: Option<&'a [u8]>,
}

impl Run<'_> {
    fn problem(&self, at: usize, kind: ProblemKind, message: String) -> Problem {
        let item = self.items.get(at);
        Problem {
            kind,
            file: item.and_then(|i| self.files.get(i.file)).map(|f| f.path.clone()).unwrap_or_default(),
            line: item.map_or(0, |i| i.line),
            seq: item.and_then(|i| i.header.as_ref().ok()).map(|h| h.seq),
            message,
        }
    }

    /// `file:line` of item `at`.
    fn at(&self, at: usize) -> String {
        match self.items.get(at) {
            Some(item) => {
                let name = self.files.get(item.file).and_then(|f| f.path.file_name()).unwrap_or_default();
                format!("{}:{}", name.to_string_lossy(), item.line)
            }
            None => "the end of the log".to_owned(),
        }
    }

    fn header(&self, at: usize) -> Option<&Header> {
        self.items.get(at).and_then(|i| i.header.as_ref().ok())
    }

    /// Follows the chain; returns the last good seq and the first problem.
    fn walk(&self) -> (u64, Option<Problem>) {
        let mut expected_prev = GENESIS;
        let mut expected_seq = 1;
        for (i, item) in self.items.iter().enumerate() {
            if !item.complete {
                let message = if i + 1 == self.items.len() {
                    "the last line has no newline: a record cut short. A writer that stopped in the middle \
                     of a write leaves this (that record was never acknowledged); reopening the log removes \
                     it and adds a `recovery` record"
                } else {
                    "the file ends in the middle of a line: a record cut short"
                };
                let mut problem = self.problem(i, ProblemKind::Truncated, message.to_owned());
                problem.seq = Some(expected_seq);
                return (expected_seq - 1, Some(problem));
            }
            let header = match &item.header {
                Ok(header) => header,
                Err((kind, message)) => {
                    let mut problem = self.problem(i, *kind, message.clone());
                    // A record cut short was the one the chain expected there.
                    problem.seq = (*kind == ProblemKind::Truncated).then_some(expected_seq);
                    return (expected_seq - 1, Some(problem));
                }
            };
            if header.seq != expected_seq || header.prev != expected_prev {
                return (expected_seq - 1, Some(self.classify(i, header, expected_seq)));
            }
            let after_closing =
                i.checked_sub(1).and_then(|b| self.header(b)).is_some_and(|h| h.kind == CHECKPOINT && h.closing);
            if after_closing && header.kind != CHECKPOINT {
                return (
                    expected_seq - 1,
                    Some(self.problem(
                        i,
                        ProblemKind::Inserted,
                        format!(
                            "the log was closed at {} and a writer that reopens it starts with a checkpoint: this \
                             `{}` record was not written by one",
                            self.at(i - 1),
                            header.kind
                        ),
                    )),
                );
            }
            if let Some(problem) = self.check_signature(i, header) {
                return (expected_seq - 1, Some(problem));
            }
            expected_prev = item.hash;
            expected_seq += 1;
        }
        (expected_seq - 1, None)
    }

    /// A checkpoint's signature, when a key is given.
    fn check_signature(&self, at: usize, header: &Header) -> Option<Problem> {
        let key = self.public_key?;
        if header.kind != CHECKPOINT {
            return None;
        }
        match record::check_signature(header, key) {
            Signature::Valid => None,
            Signature::Unsigned => {
                Some(self.problem(at, ProblemKind::Unsigned, "the checkpoint is not signed".to_owned()))
            }
            Signature::OtherKey(key) => Some(self.problem(
                at,
                ProblemKind::Unsigned,
                format!("the checkpoint is signed by another key ({key}), not by the given one"),
            )),
            Signature::Invalid(why) => {
                let since = self
                    .items
                    .get(..at)
                    .unwrap_or_default()
                    .iter()
                    .rev()
                    .find_map(|item| item.header.as_ref().ok().filter(|h| h.kind == CHECKPOINT))
                    .map_or("the start of the log".to_owned(), |h| format!("checkpoint seq {}", h.seq));
                Some(self.problem(
                    at,
                    ProblemKind::Edited,
                    format!("the checkpoint: {why}; it, or a record since {since}, was changed"),
                ))
            }
        }
    }

    /// Line `i` breaks the chain (`header` is its header): which record is to blame, and how.
    fn classify(&self, i: usize, header: &Header, expected_seq: u64) -> Problem {
        let seq = header.seq;
        let copies = self.items.get(i).and_then(|item| self.index.get(&item.hash)).map_or(&[][..], Vec::as_slice);
        if let Some(&other) = copies.iter().find(|&&other| other != i) {
            return self.problem(
                i,
                ProblemKind::Inserted,
                format!("the line is a copy of {} (record seq {seq})", self.at(other)),
            );
        }
        // The line `i` says it follows: -1 for the start of the log.
        let follows: Option<isize> = if header.prev == GENESIS {
            Some(-1)
        } else {
            self.index.get(&header.prev).and_then(|lines| lines.first()).map(|&j| j.cast_signed())
        };
        let here = i.cast_signed();
        match follows {
            Some(j) if j >= here => self.problem(
                i,
                ProblemKind::Reordered,
                format!("record seq {seq} is out of order: it belongs after {}", self.at(j.cast_unsigned())),
            ),
            // More than one line between: one out-of-place line is likelier than many inserted.
            Some(j) if j < here - 2 => self.problem(
                i,
                ProblemKind::Inserted,
                format!(
                    "the line is not part of the chain: it follows {}, which the chain continues from with {}",
                    if j < 0 { "the start of the log".to_owned() } else { self.at(j.cast_unsigned()) },
                    self.at((j + 1).cast_unsigned())
                ),
            ),
            Some(j) if j < here - 1 => {
                let first = (j + 1).cast_unsigned();
                let after = if j < 0 { "the start of the log".to_owned() } else { self.at(j.cast_unsigned()) };
                self.problem(
                    first,
                    ProblemKind::Inserted,
                    format!(
                        "the line is not part of the chain: the record after it ({}, seq {seq}) follows {after}",
                        self.at(i)
                    ),
                )
            }
            Some(_) => {
                // It links to the line before it, but its number is wrong.
                let skipped = self.header(i + 1).is_some_and(|next| {
                    i.checked_sub(1).and_then(|b| self.items.get(b)).is_some_and(|before| next.prev == before.hash)
                });
                if skipped {
                    self.problem(
                        i,
                        ProblemKind::Inserted,
                        format!("the line is not part of the chain: the record after it, {}, skips it", self.at(i + 1)),
                    )
                } else {
                    self.problem(i, ProblemKind::Edited, format!("its seq is {seq}, the chain expects {expected_seq}"))
                }
            }
            None if seq == expected_seq => self.edited_near(i, header),
            None if seq > expected_seq => {
                let missing = if seq == expected_seq + 1 {
                    format!("record seq {expected_seq} is missing")
                } else {
                    format!("records seq {expected_seq} to {} are missing", seq - 1)
                };
                let mut problem =
                    self.problem(i, ProblemKind::Removed, format!("{missing} before this record (seq {seq})"));
                problem.seq = Some(expected_seq);
                problem
            }
            None => {
                let first = self.items.iter().take(i).position(|item| item.header.as_ref().is_ok_and(|h| h.seq == seq));
                match first {
                    Some(j) => self.problem(
                        i,
                        ProblemKind::Inserted,
                        format!(
                            "a second record seq {seq} (the first is at {}) that the chain does not link",
                            self.at(j)
                        ),
                    ),
                    None => self.problem(
                        i,
                        ProblemKind::Edited,
                        format!("its seq is {seq}, the chain expects {expected_seq}"),
                    ),
                }
            }
        }
    }

    /// Line `i` has the right number but follows no line that exists: either the line
    /// before it changed, or its own `prev` did (then its hash changed too, and the next
    /// line does not follow it either).
    fn edited_near(&self, i: usize, header: &Header) -> Problem {
        let item = self.items.get(i);
        let own = match self.header(i + 1) {
            Some(next) => item.is_some_and(|item| next.prev != item.hash),
            None => {
                let bad_signature = self.check_signature(i, header).is_some();
                let head_differs = self
                    .head
                    .and_then(|bytes| record::parse_header(bytes).ok().map(|h| (bytes, h)))
                    .is_some_and(|(bytes, head)| {
                        head.seq == header.seq && item.is_some_and(|item| record::line_hash(bytes) != item.hash)
                    });
                i + 1 == self.items.len() && (bad_signature || head_differs)
            }
        };
        if own || i == 0 {
            return self.problem(
                i,
                ProblemKind::Edited,
                "the record was changed: it does not follow the line before it".to_owned(),
            );
        }
        let before = i - 1;
        self.problem(
            before,
            ProblemKind::Edited,
            format!("the record was changed: its hash is not the one the next record ({}) carries", self.at(i)),
        )
    }

    /// After a clean chain: the head checkpoint must be in it.
    fn check_head(&self, dir: &Path, last_seq: u64) -> (Option<u64>, Option<Problem>) {
        let path = dir.join(files::HEAD);
        let at_head = |kind, message: String| Problem { kind, file: path.clone(), line: 1, seq: None, message };
        let Some(bytes) = self.head else {
            let message = "the head checkpoint (head.json) is missing, so a removed tail cannot be ruled out";
            return (None, Some(at_head(ProblemKind::Removed, message.to_owned())));
        };
        let head = match record::parse_header(bytes) {
            Ok(head) if head.kind == CHECKPOINT => head,
            Ok(head) => {
                return (
                    None,
                    Some(at_head(ProblemKind::Edited, format!("it holds a `{}` record, not a checkpoint", head.kind))),
                );
            }
            Err(message) => return (None, Some(at_head(ProblemKind::Edited, message))),
        };
        if head.seq > last_seq {
            let end = self.items.len().checked_sub(1);
            let after = end.map_or("the start".to_owned(), |e| self.at(e));
            let mut problem = at_head(
                ProblemKind::Removed,
                format!(
                    "records seq {} to {} are missing after {after}: the head checkpoint names seq {}",
                    last_seq + 1,
                    head.seq,
                    head.seq
                ),
            );
            if let Some(end) =
                end.and_then(|e| self.items.get(e)).and_then(|item| self.files.get(item.file).map(|f| (f, item)))
            {
                problem.file = end.0.path.clone();
                problem.line = end.1.line + 1;
            }
            problem.seq = Some(last_seq + 1);
            return (None, Some(problem));
        }
        if let Some(key) = self.public_key {
            match record::check_signature(&head, key) {
                Signature::Valid => {}
                Signature::Unsigned => {
                    return (
                        None,
                        Some(at_head(ProblemKind::Unsigned, "the head checkpoint is not signed".to_owned())),
                    );
                }
                Signature::OtherKey(key) => {
                    let message = format!("the head checkpoint is signed by another key ({key}), not by the given one");
                    return (None, Some(at_head(ProblemKind::Unsigned, message)));
                }
                Signature::Invalid(why) => {
                    return (None, Some(at_head(ProblemKind::Edited, format!("the head checkpoint: {why}"))));
                }
            }
        }
        // Invariant: the chain runs from seq 1 without gaps, so seq `s` is item `s - 1`.
        let index = usize::try_from(head.seq.saturating_sub(1)).unwrap_or(usize::MAX);
        if self.items.get(index).is_none_or(|item| item.hash != record::line_hash(bytes)) {
            let mut problem = self.problem(
                index,
                ProblemKind::Edited,
                format!("the checkpoint seq {} differs from its copy in head.json", head.seq),
            );
            problem.seq = Some(head.seq);
            return (None, Some(problem));
        }
        (Some(head.seq), None)
    }
}
