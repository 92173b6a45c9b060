//! [`AuditLog`]: appending records. A caller chains its own line under the log's lock (a
//! copy and a hash, no system call), so a caller never waits on the disk while it holds
//! the lock. Chained lines wait in a buffer until one write (a `pwrite` per batch of lines
//! taken) puts all of them into the page cache (group commit). Every line has its place in the file once chained (its
//! offset), and lines are written with positioned writes (`pwrite`). Under
//! [`Fsync::Interval`] a caller whose line is not yet written writes, outside the lock,
//! every line from the end of what is known written to the end of the chain: its own,
//! those waiting, and those another caller is writing at the time (the same bytes at the
//! same offsets), then answers their callers. So a caller never waits for another
//! caller's write: one that is preempted or stalled (the file system's journal
//! committing) mid-write holds up only itself, never the lock nor the lines behind it.
//! What is written is always a prefix of the chain: every write starts within it. A syncer thread does the
//! rest of what may take milliseconds outside that lock: under [`Fsync::Always`] it writes
//! and syncs everything chained since its last sync with one `write` and one `fdatasync`
//! and then answers those callers (group commit); under [`Fsync::Interval`] it syncs on
//! its timer. It also writes checkpoints (on a timer, at rotation and at close) and
//! rotates files.

use crate::AuditError;
use crate::entry::{Entry, format_system_time};
use crate::files::{self, LogFile};
use crate::record::{self, Hash, RECOVERY};
use crate::resume::{self, Tail, Torn};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// When written records reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// Before an append returns (`fdatasync` once per batch): an acknowledged record
    /// survives a crash of the machine.
    Always,
    /// At most this long after the write. An append returns once its line is written to
    /// the file: it survives the process being killed, but a crash of the machine may
    /// lose the records of the last interval.
    Interval(Duration),
}

/// How a log is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// When records reach the disk.
    pub fsync: Fsync,
    /// Start a new file once the current one holds this many bytes (a file may exceed it
    /// by one batch and its closing checkpoint).
    pub rotate_bytes: u64,
    /// How often the chain head is checkpointed while records arrive. Only records after
    /// the newest checkpoint can be removed from the end without `verify` noticing.
    pub checkpoint_interval: Duration,
    /// The ed25519 secret key that signs checkpoints (`govc keygen`'s format, read by the
    /// caller); unsigned checkpoints still detect a removed tail, but not a rewritten one.
    pub signing_key: Option<[u8; 32]>,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            fsync: Fsync::Always,
            rotate_bytes: 64 << 20,
            checkpoint_interval: Duration::from_secs(1),
            signing_key: None,
        }
    }
}

/// What the log calls with an append's outcome.
type Done = Box<dyn FnOnce(Result<u64, AuditError>) + Send>;

/// An open audit log. `append` and `submit` may be called from many threads at once.
pub struct AuditLog {
    dir: PathBuf,
    shared: Arc<Shared>,
    syncer: Option<JoinHandle<Result<(), AuditError>>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// What the callers and the syncer thread share.
struct Shared {
    state: Mutex<State>,
    /// Wakes the syncer: lines to sync (`Always`), a first unsynced line (`Interval`), or
    /// closing. Callers signal it only while the syncer waits: one wake per batch.
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave a half-written chain behind: a
        // failed write sets `failure`, which stops all writing.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The log's state, behind its lock.
struct State {
    writer: Writer,
    /// Under [`Fsync::Always`]: the callers whose lines are written but not yet synced.
    unsynced: Vec<(u64, Done)>,
    /// The first failed write or sync. Invariant: once set, nothing more is written (the
    /// file's state is unknown) and every append gets this error.
    failure: Option<AuditError>,
    /// Whether the syncer waits on [`Shared::wake`].
    syncer_waits: bool,
    /// Set when the log is closed: the syncer finishes it.
    closing: bool,
}

impl State {
    /// Notes a write run outside the lock that returned: its lines are written, or the
    /// failure stops the log — unless the file was rotated since, which wrote the lines
    /// that write covered (`rotate` flushes every batch taken) before closing the file.
    fn returned(&mut self, write: PendingWrite, written: Result<(), AuditError>) {
        match written {
            Ok(()) => self.writer.wrote(write),
            Err(_) if !Arc::ptr_eq(&write.file, &self.writer.file) => {}
            Err(error) => {
                self.failure.get_or_insert(error);
                self.fail_unwritten();
            }
        }
    }

    /// The failure that stops all writing: one recorded by the syncer or a caller, or a
    /// write the writer ran under the lock ([`Writer::broken`]).
    fn failed(&self) -> Option<&AuditError> {
        self.failure.as_ref().or(self.writer.broken.as_ref())
    }

    /// After a failure: drops the pending lines and gives their callers the error.
    /// Invariant: after a failure nothing more is written; its callers get it.
    fn fail_unwritten(&mut self) {
        let Some(error) = self.failed().cloned() else { return };
        self.writer.pending.clear();
        self.writer.taken.clear();
        for (_, done) in self.writer.unwritten.drain(..) {
            done(Err(error.clone()));
        }
    }
}

impl AuditLog {
    /// Opens the log in `dir` (created if missing), taking its lock. An existing log is
    /// resumed from the last record of its newest file once that file checks as a chain
    /// linked to the file before it; a torn last line (a write interrupted by a crash,
    /// never acknowledged) is cut off and a `recovery` record notes its length and hash.
    /// A new log starts with a checkpoint.
    pub fn open(dir: &Path, options: LogOptions) -> Result<AuditLog, AuditError> {
        std::fs::create_dir_all(dir).map_err(|e| AuditError::io(dir, &e))?;
        let lock_path = dir.join(files::LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| AuditError::io(&lock_path, &e))?;
        lock.try_lock().map_err(|_| AuditError::Locked(dir.to_path_buf()))?;
        let tail = resume::resume(dir)?;
        let writer = Writer::start(dir, options, tail, lock)?;
        let state = State { writer, unsynced: Vec::new(), failure: None, syncer_waits: false, closing: false };
        let shared = Arc::new(Shared { state: Mutex::new(state), wake: Condvar::new() });
        let syncer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("gov-audit-syncer".to_owned())
                .spawn(move || shared.run_syncer())
                .map_err(|e| AuditError::io(dir, &e))?
        };
        Ok(AuditLog { dir: dir.to_path_buf(), shared, syncer: Some(syncer) })
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends an entry and returns its sequence number once its line is written (and
    /// on the disk, under [`Fsync::Always`]).
    pub fn append(&self, entry: Entry) -> Result<u64, AuditError> {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.submit(entry, move |result| {
            let _ = reply.send(result);
        })?;
        answer.recv().map_err(|_| stopped())?
    }

    /// Appends an entry without waiting: the line is chained on the caller's thread, then
    /// `done` gets its sequence number once the line is written: under [`Fsync::Interval`]
    /// before `submit` returns, on the caller's thread (it writes the lines not yet known
    /// written, its own the last, with those chained before it), or on the thread of a
    /// caller that wrote it meanwhile; under [`Fsync::Always`] on
    /// the syncer thread, once a sync
    /// covered the line (the syncer writes the lines of a batch with one `write` before its
    /// `fdatasync`). A failed write or sync gives `done` its error. `done` may run under
    /// the log's lock: it should only hand the result on (send it on a channel). An entry the
    /// log cannot take, or a log that is closed or failed before, is an error here, and
    /// `done` is not called.
    pub fn submit(
        &self,
        entry: Entry,
        done: impl FnOnce(Result<u64, AuditError>) + Send + 'static,
    ) -> Result<(), AuditError> {
        let (seq, mut state) = self.chain(&entry)?;
        match state.writer.options.fsync {
            Fsync::Always => state.unsynced.push((seq, Box::new(done))),
            Fsync::Interval(_) => {
                state.writer.unwritten.push((seq, Box::new(done)));
                drop(self.shared.write_unwritten(state));
            }
        }
        Ok(())
    }

    /// [`AuditLog::submit`] that leaves the write to the returned [`Unwritten`]: under
    /// [`Fsync::Interval`] the line is only chained (no system call), and dropping the
    /// `Unwritten` writes, as `submit` does, every line not yet known written, unless its
    /// own line is written by then. So callers that chain their lines, let each other run,
    /// then drop their `Unwritten`s share one `write` (group commit within a runtime's
    /// turn) where [`AuditLog::submit`] makes one each; the first dropped writes and
    /// answers them all, and a drop never waits for another caller's write. Under
    /// [`Fsync::Always`] it is `submit` (the syncer writes and syncs) and the `Unwritten`
    /// does nothing.
    pub fn submit_later(
        &self,
        entry: Entry,
        done: impl FnOnce(Result<u64, AuditError>) + Send + 'static,
    ) -> Result<Unwritten<'_>, AuditError> {
        let (seq, mut state) = self.chain(&entry)?;
        match state.writer.options.fsync {
            Fsync::Always => state.unsynced.push((seq, Box::new(done))),
            Fsync::Interval(_) => state.writer.unwritten.push((seq, Box::new(done))),
        }
        Ok(Unwritten { log: self, seq })
    }

    /// Makes the entry's line and chains it under the lock; wakes the syncer when it is
    /// due. Returns the line's sequence number and the still-held lock.
    fn chain(&self, entry: &Entry) -> Result<(u64, MutexGuard<'_, State>), AuditError> {
        let body = entry.body()?;
        let mut state = self.shared.lock();
        if state.closing {
            return Err(AuditError::Closed("it was closed".to_owned()));
        }
        if let Some(error) = state.failed() {
            return Err(error.clone());
        }
        let was_dirty = state.writer.dirty;
        let seq = state.writer.append(&body);
        // The syncer sleeps while nothing is due: the first unsynced line, a line to sync
        // (`Always`) or a full file wakes it.
        let always = state.writer.options.fsync == Fsync::Always;
        let due = always || !was_dirty || state.writer.rotation_due();
        if due && std::mem::replace(&mut state.syncer_waits, false) {
            self.shared.wake.notify_one();
        }
        Ok((seq, state))
    }

    /// Syncs what is written, writes a final checkpoint and releases the lock.
    pub fn close(mut self) -> Result<(), AuditError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), AuditError> {
        let Some(syncer) = self.syncer.take() else { return Ok(()) };
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        // The syncer writes what is pending and finishes the file with its closing checkpoint.
        syncer.join().unwrap_or_else(|_| Err(stopped()))
    }
}

/// A line chained by [`AuditLog::submit_later`]: dropping it writes the lines not yet
/// known written (and answers their callers) unless its own is written by then.
#[must_use = "dropping it writes the pending lines: hold it while other callers chain theirs"]
pub struct Unwritten<'a> {
    log: &'a AuditLog,
    /// The line's sequence number.
    seq: u64,
}

impl std::fmt::Debug for Unwritten<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unwritten").finish_non_exhaustive()
    }
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        let shared = &self.log.shared;
        let state = shared.lock();
        if matches!(state.writer.options.fsync, Fsync::Interval(_)) && state.writer.written_seq <= self.seq {
            drop(shared.write_unwritten(state));
        }
    }
}

impl Drop for AuditLog {
    /// Closes the log as [`AuditLog::close`] does; an error is lost (call `close` to see it).
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn stopped() -> AuditError {
    AuditError::Closed("its syncer stopped".to_owned())
}

impl Shared {
    /// Under [`Fsync::Interval`]: writes every line not yet known written (from
    /// [`Writer::written_to`] to the chain's end: those another caller is writing at the time
    /// too) outside the lock, then answers the callers of every line now known written.
    /// Never waits for another write: two writes under way at once put the same bytes at
    /// the same offsets. After a failure it only answers the callers with it. Invariant:
    /// every write starts within the part of the file already written, so a process killed
    /// mid-write leaves a prefix of the chain (a torn last line at worst).
    fn write_unwritten<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        if state.failed().is_some() {
            state.fail_unwritten();
            return state;
        }
        let Some(write) = state.writer.take() else { return state };
        drop(state);
        let written = write.run();
        let mut state = self.lock();
        state.returned(write, written);
        state
    }

    /// The syncer thread: syncs (answering the callers waiting for it), checkpoints and
    /// rotates until the log closes, then finishes it. Waits while there is nothing to do.
    fn run_syncer(&self) -> Result<(), AuditError> {
        let mut state = self.lock();
        while !state.closing {
            let due = match state.failed() {
                Some(_) => None,
                None => state.writer.next_deadline(),
            };
            if state.unsynced.is_empty() && due.is_none_or(|wait| !wait.is_zero()) {
                state.syncer_waits = true;
                state = match due {
                    Some(wait) => self.wake.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0,
                    None => self.wake.wait(state).unwrap_or_else(PoisonError::into_inner),
                };
                state.syncer_waits = false;
                continue;
            }
            if !state.unsynced.is_empty() {
                state = self.sync_waiting(state);
            }
            if state.failed().is_none() {
                state = self.housekeeping(state);
            }
        }
        // Closing: answer those waiting for a sync, then the closing checkpoint (synced).
        let waiting = std::mem::take(&mut state.unsynced);
        let result = match state.failed() {
            Some(error) => Err(error.clone()),
            None => state.writer.sync(),
        };
        for (seq, done) in waiting {
            done(result.clone().map(|()| seq));
        }
        match state.failed().cloned() {
            Some(error) => Err(error),
            None => state.writer.checkpoint(true),
        }
    }

    /// Syncs every line written so far with one `fdatasync`, outside the lock (callers go
    /// on writing meanwhile: their lines wait for the next sync), then answers the callers
    /// that were waiting for it.
    fn sync_waiting<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let waiting = std::mem::take(&mut state.unsynced);
        let file = state.writer.handle();
        state.writer.synced();
        drop(state);
        let result = file.and_then(|(file, path)| sync_file(&file, &path));
        for (seq, done) in waiting {
            done(result.clone().map(|()| seq));
        }
        let mut state = self.lock();
        if let Err(error) = result {
            state.failure.get_or_insert(error);
        }
        state
    }

    /// Checkpoints, syncs (under [`Fsync::Interval`]) and rotates when due. The slow part
    /// of a checkpoint, its sync and `head.json`, runs outside the lock.
    fn housekeeping<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let writer = &mut state.writer;
        let result = if !writer.ends_with_checkpoint
            && writer.last_checkpoint.elapsed() >= writer.options.checkpoint_interval
        {
            let line = writer.write_checkpoint(false);
            let file = writer.handle();
            writer.synced();
            let dir = writer.dir.clone();
            drop(state);
            let result = line.and_then(|line| file.and_then(|(file, path)| publish_head(&dir, &file, &path, &line)));
            state = self.lock();
            state.writer.last_checkpoint = Instant::now();
            result
        } else if let Fsync::Interval(every) = writer.options.fsync
            && writer.dirty
            && writer.last_sync.elapsed() >= every
        {
            let file = writer.handle();
            writer.synced();
            drop(state);
            let result = file.and_then(|(file, path)| sync_file(&file, &path));
            state = self.lock();
            result
        } else {
            Ok(())
        };
        // A write under way into the file being closed puts the bytes `rotate` wrote.
        let result = match result {
            Ok(()) if state.writer.rotation_due() => {
                let rotated = state.writer.rotate();
                let dir = state.writer.dir.clone();
                drop(state);
                let published = rotated.and_then(|closed| closed.publish(&dir));
                state = self.lock();
                state.writer.last_checkpoint = Instant::now();
                published
            }
            other => other,
        };
        if let Err(error) = result {
            state.failure.get_or_insert(error);
        }
        state
    }
}

/// The state of the chain's end and of the file it is written to.
struct Writer {
    dir: PathBuf,
    options: LogOptions,
    /// Shared with the callers while they write, and with the syncer while it syncs.
    /// Written at explicit offsets (not opened to append).
    file: Arc<File>,
    path: PathBuf,
    number: u64,
    len: u64,
    next_seq: u64,
    head: Hash,
    ends_with_checkpoint: bool,
    /// Whether the current file holds a record (not only checkpoints). Invariant: a file
    /// is rotated only once it does, so every closed file holds at least one record.
    has_record: bool,
    /// Chained (written or pending) since the last sync.
    dirty: bool,
    last_sync: Instant,
    last_checkpoint: Instant,
    /// Lines chained onto `head` and not yet taken by a write, whole lines only; they end
    /// the file at `len`. Invariant: every sync and rotation writes them and `taken` first
    /// (`handle`, `sync`, `rotate` call `flush`), so a synced or closed file holds every
    /// line chained before it.
    pending: Vec<u8>,
    /// Lines taken by writes under way (under `Interval`) and not yet known written, in
    /// the chain's order. Invariant: contiguous, the first starting at `written_to`, and
    /// `pending` follows the last.
    taken: VecDeque<Batch>,
    /// Every byte of the file before this offset is written (a write that covered it has
    /// returned).
    written_to: u64,
    /// Every line before this sequence number is written (the lines before `written_to`).
    written_seq: u64,
    /// The callers waiting for their lines to be written (under `Interval`), in the
    /// chain's order. Invariant: whoever finds lines written answers their callers
    /// (`flush`, `wrote`).
    unwritten: Vec<(u64, Done)>,
    /// Set when a write this writer ran under the lock failed ([`Writer::flush`]): the lines
    /// it held are lost, so nothing may be chained after them. Invariant: set in the same
    /// locked section as the failure, so no caller chains a line in between (its offset
    /// would lie past the lost bytes: a hole, and a record answered as written that does
    /// not verify); [`State::failed`] reads it beside [`State::failure`].
    broken: Option<AuditError>,
    /// A buffer kept (cleared, not freed) for the next `pending`.
    spare: Vec<u8>,
    /// Held (locked) while the log is open; the lock is released when it is dropped.
    _lock: File,
}

impl Writer {
    /// Opens the file the chain continues in, cuts a torn line, and writes a checkpoint,
    /// then, after a torn line, a recovery record.
    fn start(dir: &Path, options: LogOptions, tail: Tail, lock: File) -> Result<Writer, AuditError> {
        let fresh = tail.file.is_none();
        let LogFile { number, path } = tail.file.unwrap_or(LogFile { number: 1, path: dir.join(files::file_name(1)) });
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| AuditError::io(&path, &e))?;
        if fresh {
            sync_dir(dir)?;
        }
        let len = match &tail.torn {
            Some(torn) => {
                file.set_len(torn.offset).map_err(|e| AuditError::io(&path, &e))?;
                torn.offset
            }
            None => file.metadata().map_err(|e| AuditError::io(&path, &e))?.len(),
        };
        let now = Instant::now();
        let mut writer = Writer {
            dir: dir.to_path_buf(),
            options,
            file: Arc::new(file),
            path,
            number,
            len,
            next_seq: tail.next_seq,
            head: tail.head,
            ends_with_checkpoint: false,
            has_record: false,
            dirty: false,
            last_sync: now,
            last_checkpoint: now,
            pending: Vec::new(),
            taken: VecDeque::new(),
            written_to: len,
            written_seq: tail.next_seq,
            unwritten: Vec::new(),
            broken: None,
            spare: Vec::new(),
            _lock: lock,
        };
        // Every writer starts with a checkpoint: after a closing checkpoint, verification
        // expects one (so nothing can be appended to a closed log without the key).
        writer.checkpoint(false)?;
        if let Some(torn) = &tail.torn {
            writer.write_recovery(torn)?;
        }
        Ok(writer)
    }

    /// Chains a record's body onto the head as a pending line (written by the next
    /// [`Writer::flush`]); returns its sequence number.
    fn append(&mut self, body: &str) -> u64 {
        let seq = self.next_seq;
        let start = self.pending.len();
        record::push_line_start(&mut self.pending, seq, &self.head);
        // Invariant: a body is a JSON object (`{` …); its fields follow the header's.
        self.pending.extend_from_slice(body.as_bytes().get(1..).unwrap_or_default());
        self.head = record::line_hash(self.pending.get(start..).unwrap_or_default());
        self.pending.push(b'\n');
        self.len += (self.pending.len() - start) as u64;
        self.dirty = true;
        self.next_seq = seq + 1;
        self.ends_with_checkpoint = false;
        self.has_record = true;
        seq
    }

    /// Writes the lines not yet known written (those taken by writes under way too) here
    /// and now, and answers their callers.
    fn flush(&mut self) -> Result<(), AuditError> {
        let Some(write) = self.take() else { return Ok(()) };
        let written = write.run();
        match &written {
            Ok(()) => self.wrote(write),
            Err(error) => {
                self.broken.get_or_insert_with(|| error.clone());
                self.pending.clear();
                self.taken.clear();
                for (seq, done) in self.unwritten.drain(..) {
                    done(Err(error.clone()).map(|()| seq));
                }
            }
        }
        written
    }

    /// Takes the lines not yet known written: `pending` becomes a batch of its own, and
    /// the write covers every batch taken by the writes under way as well, so that it
    /// depends on none of them. `None` when every line is written.
    fn take(&mut self) -> Option<PendingWrite> {
        if !self.pending.is_empty() {
            let at = self.len - self.pending.len() as u64;
            let bytes = std::mem::replace(&mut self.pending, std::mem::take(&mut self.spare));
            self.taken.push_back(Batch { at, bytes: Arc::new(bytes), end_seq: self.next_seq });
        }
        let last = self.taken.back()?;
        Some(PendingWrite {
            file: self.file.clone(),
            path: self.path.clone(),
            batches: self.taken.iter().map(|b| (b.at, b.bytes.clone())).collect(),
            end: last.at + last.bytes.len() as u64,
            end_seq: last.end_seq,
        })
    }

    /// Notes a write that returned: the lines it covered are written; answers their
    /// callers and drops the batches no write needs any more.
    fn wrote(&mut self, write: PendingWrite) {
        drop(write.batches);
        // The file may have been rotated since: its lines were all written before.
        if !Arc::ptr_eq(&write.file, &self.file) || write.end <= self.written_to {
            return;
        }
        self.written_to = write.end;
        self.written_seq = write.end_seq;
        while let Some(batch) = self.taken.front()
            && batch.at + batch.bytes.len() as u64 <= self.written_to
        {
            if let Some(batch) = self.taken.pop_front()
                && let Ok(mut bytes) = Arc::try_unwrap(batch.bytes)
            {
                bytes.clear();
                self.spare = bytes;
            }
        }
        let answered = self.unwritten.partition_point(|(seq, _)| *seq < self.written_seq);
        for (seq, done) in self.unwritten.drain(..answered) {
            done(Ok(seq));
        }
    }

    /// Writes one line (chained onto the head, which it becomes), after the pending ones.
    fn write_line(&mut self, line: &str) -> Result<(), AuditError> {
        self.pending.extend_from_slice(line.as_bytes());
        self.pending.push(b'\n');
        self.len += line.len() as u64 + 1;
        self.dirty = true;
        self.head = record::line_hash(line.as_bytes());
        self.next_seq += 1;
        self.ends_with_checkpoint = false;
        self.flush()
    }

    /// Syncs the current file here and now.
    fn sync(&mut self) -> Result<(), AuditError> {
        self.flush()?;
        sync_file(&self.file, &self.path)?;
        self.synced();
        Ok(())
    }

    /// Notes that everything chained so far is being synced (after a `flush`).
    fn synced(&mut self) {
        self.dirty = false;
        self.last_sync = Instant::now();
    }

    /// The current file (shared, to sync it outside the lock) and its path,
    /// once the pending lines are written.
    fn handle(&mut self) -> Result<(Arc<File>, PathBuf), AuditError> {
        self.flush()?;
        Ok((self.file.clone(), self.path.clone()))
    }

    /// How long until a sync, a checkpoint or a rotation is due, if one will be.
    fn next_deadline(&self) -> Option<Duration> {
        let checkpoint = (!self.ends_with_checkpoint)
            .then(|| self.options.checkpoint_interval.saturating_sub(self.last_checkpoint.elapsed()));
        let sync = match self.options.fsync {
            _ if self.rotation_due() => Some(Duration::ZERO),
            Fsync::Interval(every) if self.dirty => Some(every.saturating_sub(self.last_sync.elapsed())),
            Fsync::Interval(_) | Fsync::Always => None,
        };
        match (checkpoint, sync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Writes a checkpoint of the chain head; it becomes `head.json` through
    /// [`publish_head`] once synced.
    fn write_checkpoint(&mut self, closing: bool) -> Result<String, AuditError> {
        let time = format_system_time(SystemTime::now());
        let line =
            record::checkpoint_line(self.next_seq, &self.head, &time, closing, self.options.signing_key.as_ref());
        self.write_line(&line)?;
        self.ends_with_checkpoint = true;
        Ok(line)
    }

    /// Writes a checkpoint, syncs it and makes it `head.json`, here and now.
    fn checkpoint(&mut self, closing: bool) -> Result<(), AuditError> {
        let line = self.write_checkpoint(closing)?;
        self.synced();
        publish_head(&self.dir, &self.file, &self.path, &line)?;
        // The interval runs from a checkpoint on the disk.
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Whether the current file is full (and holds a record).
    fn rotation_due(&self) -> bool {
        self.has_record && self.len >= self.options.rotate_bytes
    }

    /// Closes the current file with a checkpoint and starts the next; what is left to do
    /// outside the lock (syncing the closed file, `head.json`, the directory) is returned.
    fn rotate(&mut self) -> Result<Rotated, AuditError> {
        self.flush()?;
        let checkpoint = match self.ends_with_checkpoint {
            true => None,
            false => Some(self.write_checkpoint(false)?),
        };
        let number = self.number + 1;
        let path = self.dir.join(files::file_name(number));
        let file =
            OpenOptions::new().create_new(true).write(true).open(&path).map_err(|e| AuditError::io(&path, &e))?;
        let closed = std::mem::replace(&mut self.file, Arc::new(file));
        let closed_path = std::mem::replace(&mut self.path, path);
        self.number = number;
        self.len = 0;
        self.written_to = 0;
        self.has_record = false;
        self.synced();
        Ok(Rotated { file: closed, path: closed_path, checkpoint })
    }

    /// The record written on resuming after a torn line was cut off.
    fn write_recovery(&mut self, torn: &Torn) -> Result<(), AuditError> {
        let file = files::file_name(self.number);
        let line = format!(
            "{}\"kind\":\"{RECOVERY}\",\"time\":\"{}\",\"file\":\"{file}\",\"offset\":{},\"torn_bytes\":{},\"torn_sha256\":\"{}\"}}",
            record::line_start(self.next_seq, &self.head),
            format_system_time(SystemTime::now()),
            torn.offset,
            torn.bytes,
            record::hex(&torn.hash),
        );
        self.write_line(&line)?;
        self.sync()
    }
}

/// Chained lines at their offset in the file, shared by the writes that cover them.
struct Batch {
    /// The offset of the first.
    at: u64,
    bytes: Arc<Vec<u8>>,
    /// The sequence number after the last.
    end_seq: u64,
}

/// A write to run outside the log's lock: batches, contiguous, at their offsets.
struct PendingWrite {
    file: Arc<File>,
    path: PathBuf,
    batches: Vec<(u64, Arc<Vec<u8>>)>,
    /// Where the last batch ends.
    end: u64,
    /// The sequence number after the last line.
    end_seq: u64,
}

impl PendingWrite {
    /// Writes the batches in order (so a process killed meanwhile leaves a prefix).
    fn run(&self) -> Result<(), AuditError> {
        for (at, bytes) in &self.batches {
            write_at(&self.file, bytes, *at).map_err(|e| AuditError::io(&self.path, &e))?;
        }
        Ok(())
    }
}

/// Writes all of `bytes` at offset `at` of `file` (`pwrite`).
#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

/// Writes all of `bytes` at offset `at` of `file`.
#[cfg(windows)]
fn write_at(file: &File, mut bytes: &[u8], mut at: u64) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, bytes, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        bytes = bytes.get(n..).unwrap_or_default();
        at += n as u64;
    }
    Ok(())
}

/// A file closed by a rotation, and its closing checkpoint.
struct Rotated {
    file: Arc<File>,
    path: PathBuf,
    /// `None` if the file already ended with one.
    checkpoint: Option<String>,
}

impl Rotated {
    /// Syncs the closed file, publishes its checkpoint and makes the new file's name durable.
    fn publish(self, dir: &Path) -> Result<(), AuditError> {
        match &self.checkpoint {
            Some(line) => publish_head(dir, &self.file, &self.path, line)?,
            None => sync_file(&self.file, &self.path)?,
        }
        sync_dir(dir)
    }
}

/// `fdatasync` of a log file.
fn sync_file(file: &File, path: &Path) -> Result<(), AuditError> {
    file.sync_data().map_err(|e| AuditError::io(path, &e))
}

/// Syncs the file a checkpoint `line` was written to, then makes the line `head.json`
/// (written to a temporary file, synced, renamed over the old one, directory synced), so
/// that the head never names a record the disk does not have.
fn publish_head(dir: &Path, file: &File, path: &Path, line: &str) -> Result<(), AuditError> {
    sync_file(file, path)?;
    let head = dir.join(files::HEAD);
    let temporary = dir.join("head.json.tmp");
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&temporary)?;
        file.write_all(line.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&temporary, &head)
    };
    write().map_err(|e| AuditError::io(&head, &e))?;
    sync_dir(dir)
}

/// Makes a directory's entries (a new file, a rename) durable.
fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| AuditError::io(dir, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryKind;

    /// A log under `--fsync interval` in a new directory, its syncs and checkpoints too far
    /// apart to happen during a test: every write is the test's own.
    fn interval_log() -> (tempfile::TempDir, AuditLog) {
        let dir = tempfile::tempdir().unwrap();
        let long = Duration::from_secs(600);
        let options = LogOptions { fsync: Fsync::Interval(long), checkpoint_interval: long, ..LogOptions::default() };
        let log = AuditLog::open(dir.path(), options).unwrap();
        (dir, log)
    }

    /// A caller preempted in the middle of its write (it took the lines and has not come
    /// back) holds up nobody: the next caller whose line is not written writes every line
    /// from the written end itself, the stalled caller's too, and is answered before its
    /// drop returns. The stalled write, when it comes back, puts the same bytes at the
    /// same offsets: the file holds each line once and verifies.
    #[test]
    fn under_interval_a_write_under_way_holds_up_no_other_caller() {
        let (dir, log) = interval_log();
        let (sender, answered) = std::sync::mpsc::channel();
        let submit = |id: &str| {
            let sender = sender.clone();
            log.submit_later(Entry::new(EntryKind::Decision, id), move |r| sender.send(r.unwrap()).unwrap()).unwrap()
        };
        let first = submit("d-1");
        // The first caller's write: taken, and not run yet.
        let stalled = log.shared.lock().writer.take().unwrap();
        drop(submit("d-2"));
        assert_eq!(answered.try_iter().collect::<Vec<_>>(), [2, 3], "both written by the second caller");
        let file = dir.path().join(files::file_name(1));
        let ids = || -> Vec<String> {
            std::fs::read_to_string(&file)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
                .collect()
        };
        assert_eq!(ids(), ["null", "\"d-1\"", "\"d-2\""]);
        stalled.run().unwrap();
        log.shared.lock().writer.wrote(stalled);
        drop(first);
        assert!(answered.try_recv().is_err(), "each line is answered once");
        assert_eq!(ids(), ["null", "\"d-1\"", "\"d-2\""]);
        log.close().unwrap();
        assert_eq!(crate::verify(dir.path(), None).unwrap().problem, None);
    }

    /// A write the writer runs under the lock (the syncer's, before a sync, a checkpoint or
    /// a rotation) that fails loses the lines it held: the log refuses every later entry at
    /// once, in that same locked section, rather than chaining it past the lost bytes
    /// (a hole in the file, and a record answered as written that does not verify).
    #[test]
    fn a_failed_write_under_the_lock_refuses_the_next_entry_at_once() {
        let (dir, log) = interval_log();
        let path = dir.path().join(files::file_name(1));
        let lost = log.submit_later(Entry::new(EntryKind::Decision, "d-1"), |r| assert!(r.is_err())).unwrap();
        {
            let mut state = log.shared.lock();
            // The file, for this write only, a handle that cannot write.
            let writable = std::mem::replace(&mut state.writer.file, Arc::new(File::open(&path).unwrap()));
            assert!(state.writer.flush().is_err());
            state.writer.file = writable;
        }
        drop(lost);
        let next = log.submit(Entry::new(EntryKind::Decision, "d-2"), |_| panic!("a refused entry has no answer"));
        assert!(next.is_err(), "an entry chained after lost lines");
        assert!(log.close().is_err());
    }

    /// A write into a file that was rotated while it ran, and failed, lost nothing: the
    /// rotation wrote its lines before closing the file. The log goes on, and verifies.
    #[test]
    fn a_failed_write_into_a_rotated_file_does_not_stop_the_log() {
        let (dir, log) = interval_log();
        let path = dir.path().join(files::file_name(1));
        let first = log.submit_later(Entry::new(EntryKind::Decision, "d-1"), |r| assert!(r.is_ok())).unwrap();
        let stalled = {
            let mut state = log.shared.lock();
            // The caller's write, through a handle that cannot write; then the file rotates.
            let writable = std::mem::replace(&mut state.writer.file, Arc::new(File::open(&path).unwrap()));
            let stalled = state.writer.take().unwrap();
            state.writer.file = writable;
            let rotated = state.writer.rotate().unwrap();
            drop(state);
            rotated.publish(dir.path()).unwrap();
            stalled
        };
        let written = stalled.run();
        assert!(written.is_err());
        log.shared.lock().returned(stalled, written);
        drop(first);
        let (sender, answered) = std::sync::mpsc::channel();
        log.submit(Entry::new(EntryKind::Decision, "d-2"), move |r| sender.send(r.is_ok()).unwrap()).unwrap();
        assert!(answered.recv().unwrap(), "the log goes on");
        log.close().unwrap();
        assert_eq!(crate::verify(dir.path(), None).unwrap().problem, None);
    }
}
