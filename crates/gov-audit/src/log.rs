//! [`AuditLog`]: appending records. A caller chains its own line under the log's lock (a
//! copy and a hash, no system call), so a caller never waits on the disk while it holds
//! the lock. Chained lines wait in a buffer until one `write` puts all of them into the
//! page cache (group commit). Under [`Fsync::Interval`] a caller that finds nobody writing
//! writes every pending line (its own and any waiting) outside the lock and answers their
//! callers; the lines chained while a write is under way wait for a writer thread, which
//! does the same for them. A write that
//! stalls (the file system's journal committing) holds up the callers of the lines
//! behind it and that one thread, never the lock. A syncer thread does the
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
    /// The writer thread, under [`Fsync::Interval`].
    writer: Option<JoinHandle<Result<(), AuditError>>>,
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
    /// Wakes the writer thread (`Interval`): lines to write, or closing. Signalled only
    /// while it waits: one wake per batch.
    work: Condvar,
    /// Signalled when a write has finished ([`State::writing`]), if somebody waits.
    idle: Condvar,
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
    /// Whether the writer thread waits on [`Shared::work`].
    writer_waits: bool,
    /// Whether the writer thread, or a caller that found nobody writing
    /// ([`Shared::write_pending`]), is writing lines it took from the pending ones, outside
    /// the lock. Invariant: nobody
    /// else writes to the file meanwhile (the others wait for [`Shared::idle`] first), so
    /// lines reach the file in the chain's order.
    writing: bool,
    /// How many threads wait on [`Shared::idle`] (the writer thread, the syncer).
    idle_waiters: u32,
    /// Set when the log is closed: the syncer finishes it.
    closing: bool,
}

impl State {
    /// After a failure: drops the pending lines and gives their callers the error.
    /// Invariant: after a failure nothing more is written; its callers get it.
    fn fail_unwritten(&mut self) {
        let Some(error) = self.failure.clone() else { return };
        self.writer.pending.clear();
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
        let interval = matches!(writer.options.fsync, Fsync::Interval(_));
        let state = State {
            writer,
            unsynced: Vec::new(),
            failure: None,
            syncer_waits: false,
            writer_waits: false,
            writing: false,
            idle_waiters: 0,
            closing: false,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            wake: Condvar::new(),
            work: Condvar::new(),
            idle: Condvar::new(),
        });
        let spawn = |name: &str, run: fn(&Shared) -> Result<(), AuditError>, shared: Arc<Shared>| {
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || run(&shared))
                .map_err(|e| AuditError::io(dir, &e))
        };
        let syncer = spawn("gov-audit-syncer", Shared::run_syncer, shared.clone())?;
        let mut log = AuditLog { dir: dir.to_path_buf(), shared, syncer: Some(syncer), writer: None };
        if interval {
            // On failure `log` is dropped: its syncer is stopped and joined.
            log.writer = Some(spawn("gov-audit-writer", Shared::run_writer, log.shared.clone())?);
        }
        Ok(log)
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
    /// on the caller's thread before `submit` returns when nobody was writing (the caller
    /// writes the pending lines itself), else on the writer thread, after the `write` that put it
    /// into the page cache with the lines chained before it; under [`Fsync::Always`] on
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
                if !state.writing {
                    // Nobody is writing: this caller writes every pending line itself.
                    drop(self.shared.write_pending(state));
                } else if std::mem::replace(&mut state.writer_waits, false) {
                    self.shared.work.notify_one();
                }
            }
        }
        Ok(())
    }

    /// [`AuditLog::submit`] that leaves the write to the returned [`Unwritten`]: under
    /// [`Fsync::Interval`] the line is only chained (no system call), and dropping the
    /// `Unwritten` writes every pending line at once if nobody is writing (else the one
    /// writing leaves them for the next). So callers that chain their lines, let each
    /// other run, then drop their `Unwritten`s share one `write` (group commit within a
    /// runtime's turn) where [`AuditLog::submit`] makes one each. A line whose `Unwritten`
    /// is dropped while another caller writes waits for the next write or for the syncer
    /// (within the sync interval). Under [`Fsync::Always`] it is `submit` (the syncer
    /// writes and syncs) and the `Unwritten` does nothing.
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
        Ok(Unwritten { log: self })
    }

    /// Makes the entry's line and chains it under the lock; wakes the syncer when it is
    /// due. Returns the line's sequence number and the still-held lock.
    fn chain(&self, entry: &Entry) -> Result<(u64, MutexGuard<'_, State>), AuditError> {
        let body = entry.body()?;
        let mut state = self.shared.lock();
        if state.closing {
            return Err(AuditError::Closed("it was closed".to_owned()));
        }
        if let Some(error) = &state.failure {
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
        self.shared.work.notify_one();
        // The writer thread writes what is pending and stops; the syncer then finishes the
        // file with its closing checkpoint.
        let written = self.writer.take().map_or(Ok(()), |w| w.join().unwrap_or_else(|_| Err(stopped())));
        let closed = syncer.join().unwrap_or_else(|_| Err(stopped()));
        written.and(closed)
    }
}

/// Lines chained by [`AuditLog::submit_later`] and not yet written: dropping it writes
/// every pending line if nobody is writing (and answers their callers).
#[must_use = "dropping it writes the pending lines: hold it while other callers chain theirs"]
pub struct Unwritten<'a> {
    log: &'a AuditLog,
}

impl std::fmt::Debug for Unwritten<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unwritten").finish_non_exhaustive()
    }
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        let shared = &self.log.shared;
        let mut state = shared.lock();
        if !matches!(state.writer.options.fsync, Fsync::Interval(_)) || state.writer.pending.is_empty() {
            return;
        }
        if state.writing {
            // Lines chained during a write: the writer thread writes them after it, as
            // for `submit` (nobody else may come to write them).
            if std::mem::replace(&mut state.writer_waits, false) {
                shared.work.notify_one();
            }
        } else if state.failure.is_some() {
            state.fail_unwritten();
        } else {
            drop(shared.write_pending(state));
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
    /// Under [`Fsync::Interval`]: takes every pending line, writes them with one `write`
    /// outside the lock, then answers their callers. A caller that finds nobody writing
    /// calls it (and is answered on its own thread, with no wake-up of the writer thread
    /// and none back: two context switches a batch, docs/performance.md); so does the
    /// writer thread, for the lines chained while a write was under way. Invariant: called
    /// with [`State::writing`] unset and no failure; lines reach the file in the chain's
    /// order, since whoever else would write waits for [`Shared::idle`].
    fn write_pending<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        let mut batch = std::mem::take(&mut state.writer.pending);
        let mut waiting = std::mem::take(&mut state.writer.unwritten);
        let file = state.writer.file.clone();
        state.writing = true;
        drop(state);
        let written = (&*file).write_all(&batch);
        batch.clear();
        let mut state = self.lock();
        state.writing = false;
        if state.idle_waiters > 0 {
            // A notify is a system call even with nobody waiting: only when somebody is.
            self.idle.notify_all();
        }
        // The path is the file's: nothing rotates while `writing` is set.
        let result = written.map_err(|e| AuditError::io(&state.writer.path, &e));
        if let Err(error) = &result {
            state.failure.get_or_insert_with(|| error.clone());
        }
        for (seq, done) in waiting.drain(..) {
            done(result.clone().map(|()| seq));
        }
        // The buffers are kept for the next lines (cleared, not freed).
        if state.writer.pending.is_empty() {
            state.writer.pending = batch;
        }
        if state.writer.unwritten.is_empty() {
            state.writer.unwritten = waiting;
        }
        state
    }

    /// The writer thread (under [`Fsync::Interval`]): takes the lines chained so far,
    /// writes them with one `write` outside the lock (lines chained meanwhile wait for the
    /// next), then answers their callers. Waits while there is nothing to write; stops once
    /// the log closes and nothing is left.
    fn run_writer(&self) -> Result<(), AuditError> {
        let mut state = self.lock();
        loop {
            if state.failure.is_some() {
                state.fail_unwritten();
            }
            if state.writing {
                // A caller is writing (`write_pending`): the lines chained since wait.
                state = self.until_idle(state);
                continue;
            }
            if state.writer.pending.is_empty() {
                if state.closing {
                    return Ok(());
                }
                state.writer_waits = true;
                state = self.work.wait(state).unwrap_or_else(PoisonError::into_inner);
                state.writer_waits = false;
                continue;
            }
            state = self.write_pending(state);
        }
    }

    /// Waits until nobody is writing ([`State::writing`]), so that the caller may write to
    /// the file (lines reach it in the chain's order).
    fn until_idle<'a>(&'a self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        while state.writing {
            state.idle_waiters += 1;
            state = self.idle.wait(state).unwrap_or_else(PoisonError::into_inner);
            state.idle_waiters -= 1;
        }
        state
    }

    /// The syncer thread: syncs (answering the callers waiting for it), checkpoints and
    /// rotates until the log closes, then finishes it. Waits while there is nothing to do.
    fn run_syncer(&self) -> Result<(), AuditError> {
        let mut state = self.lock();
        while !state.closing {
            let due = match &state.failure {
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
            state = self.until_idle(state);
            if !state.unsynced.is_empty() {
                state = self.sync_waiting(state);
            }
            if state.failure.is_none() {
                state = self.housekeeping(state);
            }
        }
        // Closing: answer those waiting for a sync, then the closing checkpoint (synced).
        state = self.until_idle(state);
        let waiting = std::mem::take(&mut state.unsynced);
        let result = match &state.failure {
            Some(error) => Err(error.clone()),
            None => state.writer.sync(),
        };
        for (seq, done) in waiting {
            done(result.clone().map(|()| seq));
        }
        match state.failure.clone() {
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
        state = self.until_idle(state);
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
    /// Shared with the writer thread while it writes, and with the syncer while it syncs.
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
    /// Lines chained onto `head` but not yet written to `file`, whole lines only; kept
    /// (cleared, not freed) to spare an allocation per record. Invariant: every sync and
    /// rotation writes them first (`handle`, `sync`, `rotate` call `flush`), so a synced
    /// or closed file holds every line chained before it.
    pending: Vec<u8>,
    /// The callers waiting for lines of `pending` to be written (under `Interval`).
    /// Invariant: whoever writes `pending` answers them (`flush`, `write_pending`).
    unwritten: Vec<(u64, Done)>,
    /// Held (locked) while the log is open; the lock is released when it is dropped.
    _lock: File,
}

impl Writer {
    /// Opens the file the chain continues in, cuts a torn line, and writes a checkpoint,
    /// then, after a torn line, a recovery record.
    fn start(dir: &Path, options: LogOptions, tail: Tail, lock: File) -> Result<Writer, AuditError> {
        let fresh = tail.file.is_none();
        let LogFile { number, path } = tail.file.unwrap_or(LogFile { number: 1, path: dir.join(files::file_name(1)) });
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| AuditError::io(&path, &e))?;
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
            unwritten: Vec::new(),
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

    /// Writes the pending lines at the end of the current file, with one `write`, and
    /// answers the callers waiting for them.
    fn flush(&mut self) -> Result<(), AuditError> {
        let mut written = Ok(());
        if !self.pending.is_empty() {
            written = (&*self.file).write_all(&self.pending).map_err(|e| AuditError::io(&self.path, &e));
            self.pending.clear();
        }
        for (seq, done) in self.unwritten.drain(..) {
            done(written.clone().map(|()| seq));
        }
        written
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
            OpenOptions::new().create_new(true).append(true).open(&path).map_err(|e| AuditError::io(&path, &e))?;
        let closed = std::mem::replace(&mut self.file, Arc::new(file));
        let closed_path = std::mem::replace(&mut self.path, path);
        self.number = number;
        self.len = 0;
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
