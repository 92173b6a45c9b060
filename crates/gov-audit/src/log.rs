//! [`AuditLog`]: appending records with group commit. Callers serialise their entry, queue
//! it and block; one writer thread takes everything queued, chains it, writes it with one
//! `write` (and one `fdatasync` under [`Fsync::Always`]), then answers every caller of the
//! batch. The writer also writes checkpoints (on a timer, at rotation and at close) and
//! rotates files.

use crate::AuditError;
use crate::entry::{Entry, format_system_time};
use crate::files::{self, LogFile};
use crate::record::{self, Hash, RECOVERY};
use crate::resume::{self, Tail, Torn};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
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

/// Most records one write takes; the rest wait for the next.
const MAX_BATCH: usize = 4096;

/// What the writer calls with an append's outcome.
type Done = Box<dyn FnOnce(Result<u64, AuditError>) + Send>;

/// One queued append: the record's body, and what to tell its caller.
struct Pending {
    body: String,
    done: Done,
}

/// An open audit log. `append` may be called from many threads at once.
pub struct AuditLog {
    dir: PathBuf,
    queue: Option<Sender<Pending>>,
    writer: Option<JoinHandle<Result<(), AuditError>>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").field("dir", &self.dir).finish_non_exhaustive()
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
        let mut writer = Writer::start(dir, options, tail, lock)?;
        let (queue, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("gov-audit-writer".to_owned())
            .spawn(move || writer.run(&receiver))
            .map_err(|e| AuditError::io(dir, &e))?;
        Ok(AuditLog { dir: dir.to_path_buf(), queue: Some(queue), writer: Some(thread) })
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends an entry and returns its sequence number once its line is written (and
    /// on the disk, under [`Fsync::Always`]).
    pub fn append(&self, entry: Entry) -> Result<u64, AuditError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.submit(entry, move |result| {
            let _ = reply.send(result);
        })?;
        answer.recv().map_err(|_| stopped())?
    }

    /// Queues an entry without blocking; the writer thread calls `done` with its sequence
    /// number once its line is written (and on the disk, under [`Fsync::Always`]), or with
    /// the write's error. For callers that must not block, such as async handlers: `done`
    /// runs on the writer thread, so it should only hand the result on (send it on a
    /// channel). An entry the log cannot take, or a closed log, is an error here, and
    /// `done` is not called.
    pub fn submit(
        &self,
        entry: Entry,
        done: impl FnOnce(Result<u64, AuditError>) + Send + 'static,
    ) -> Result<(), AuditError> {
        let body = entry.body()?;
        let queue = self.queue.as_ref().ok_or_else(|| AuditError::Closed("it was closed".to_owned()))?;
        queue.send(Pending { body, done: Box::new(done) }).map_err(|_| stopped())
    }

    /// Writes what is queued and a final checkpoint, syncs, and releases the lock.
    pub fn close(mut self) -> Result<(), AuditError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), AuditError> {
        drop(self.queue.take());
        match self.writer.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| Err(stopped())),
            None => Ok(()),
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
    AuditError::Closed("its writer stopped after an earlier write failed".to_owned())
}

/// The writer thread's state: the open file and the chain's end.
struct Writer {
    dir: PathBuf,
    options: LogOptions,
    file: File,
    path: PathBuf,
    number: u64,
    len: u64,
    next_seq: u64,
    head: Hash,
    ends_with_checkpoint: bool,
    /// Written since the last sync.
    dirty: bool,
    last_sync: Instant,
    last_checkpoint: Instant,
    /// Held (locked) while the writer runs; the lock is released when it is dropped.
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
            file,
            path,
            number,
            len,
            next_seq: tail.next_seq,
            head: tail.head,
            ends_with_checkpoint: false,
            dirty: false,
            last_sync: now,
            last_checkpoint: now,
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

    /// Serves appends until every `AuditLog` handle is gone, then finishes the log. After
    /// a failed write it answers every append with the failure and writes nothing more.
    fn run(&mut self, queue: &Receiver<Pending>) -> Result<(), AuditError> {
        let mut failure: Option<AuditError> = None;
        let mut batch = Vec::new();
        loop {
            let first = match self.next_deadline().filter(|_| failure.is_none()) {
                Some(wait) => queue.recv_timeout(wait),
                None => queue.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match first {
                Ok(pending) => {
                    batch.push(pending);
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(pending) => batch.push(pending),
                            Err(_) => break,
                        }
                    }
                    let result = match &failure {
                        Some(error) => Err(error.clone()),
                        None => self.write_batch(&batch),
                    };
                    match result {
                        Ok(first_seq) => {
                            for (seq, pending) in (first_seq..).zip(batch.drain(..)) {
                                (pending.done)(Ok(seq));
                            }
                        }
                        Err(error) => {
                            for pending in batch.drain(..) {
                                (pending.done)(Err(error.clone()));
                            }
                            failure = Some(error);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if failure.is_none()
                && let Err(error) = self.housekeeping()
            {
                failure = Some(error);
            }
        }
        match failure {
            Some(error) => Err(error),
            None => self.finish(),
        }
    }

    /// Chains and writes a batch; returns the first record's sequence number.
    fn write_batch(&mut self, batch: &[Pending]) -> Result<u64, AuditError> {
        let first_seq = self.next_seq;
        let mut buffer = Vec::with_capacity(batch.iter().map(|p| p.body.len() + 96).sum());
        let mut head = self.head;
        for (seq, pending) in (first_seq..).zip(batch) {
            let start = buffer.len();
            buffer.extend_from_slice(record::line_start(seq, &head).as_bytes());
            // Invariant: a body is a JSON object (`{` …); its fields follow the header's.
            buffer.extend_from_slice(pending.body.as_bytes().get(1..).unwrap_or_default());
            head = record::line_hash(buffer.get(start..).unwrap_or_default());
            buffer.push(b'\n');
        }
        self.write(&buffer)?;
        if self.options.fsync == Fsync::Always {
            self.sync()?;
        }
        self.next_seq = first_seq + batch.len() as u64;
        self.head = head;
        self.ends_with_checkpoint = false;
        Ok(first_seq)
    }

    /// Writes bytes at the end of the current file.
    fn write(&mut self, bytes: &[u8]) -> Result<(), AuditError> {
        self.file.write_all(bytes).map_err(|e| AuditError::io(&self.path, &e))?;
        self.len += bytes.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// Writes one line (chained onto the head, which it becomes).
    fn write_line(&mut self, line: &str) -> Result<(), AuditError> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.write(&bytes)?;
        self.head = record::line_hash(line.as_bytes());
        self.next_seq += 1;
        self.ends_with_checkpoint = false;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), AuditError> {
        self.file.sync_data().map_err(|e| AuditError::io(&self.path, &e))?;
        self.dirty = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// How long until a sync or a checkpoint is due, if one will be.
    fn next_deadline(&self) -> Option<Duration> {
        let checkpoint = (!self.ends_with_checkpoint)
            .then(|| self.options.checkpoint_interval.saturating_sub(self.last_checkpoint.elapsed()));
        let sync = match self.options.fsync {
            Fsync::Interval(every) if self.dirty => Some(every.saturating_sub(self.last_sync.elapsed())),
            _ => None,
        };
        match (checkpoint, sync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Syncs, checkpoints and rotates when due.
    fn housekeeping(&mut self) -> Result<(), AuditError> {
        if !self.ends_with_checkpoint && self.last_checkpoint.elapsed() >= self.options.checkpoint_interval {
            self.checkpoint(false)?;
        }
        if let Fsync::Interval(every) = self.options.fsync
            && self.dirty
            && self.last_sync.elapsed() >= every
        {
            self.sync()?;
        }
        if self.len > 0 && self.len >= self.options.rotate_bytes {
            self.rotate()?;
        }
        Ok(())
    }

    /// Writes a checkpoint of the chain head, syncs it, and makes it `head.json`
    /// (written to a temporary file, synced, renamed over the old one, directory synced),
    /// so that the head never names a record the disk does not have.
    fn checkpoint(&mut self, closing: bool) -> Result<(), AuditError> {
        let time = format_system_time(SystemTime::now());
        let line =
            record::checkpoint_line(self.next_seq, &self.head, &time, closing, self.options.signing_key.as_ref());
        self.write_line(&line)?;
        self.sync()?;
        let head = self.dir.join(files::HEAD);
        let temporary = self.dir.join("head.json.tmp");
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&temporary)?;
            file.write_all(line.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, &head)
        };
        write().map_err(|e| AuditError::io(&head, &e))?;
        sync_dir(&self.dir)?;
        self.ends_with_checkpoint = true;
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Closes the current file with a checkpoint and starts the next.
    fn rotate(&mut self) -> Result<(), AuditError> {
        if !self.ends_with_checkpoint {
            self.checkpoint(false)?;
        }
        let number = self.number + 1;
        let path = self.dir.join(files::file_name(number));
        let file =
            OpenOptions::new().create_new(true).append(true).open(&path).map_err(|e| AuditError::io(&path, &e))?;
        sync_dir(&self.dir)?;
        self.file = file;
        self.path = path;
        self.number = number;
        self.len = 0;
        self.dirty = false;
        Ok(())
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

    /// The closing checkpoint (synced).
    fn finish(&mut self) -> Result<(), AuditError> {
        self.checkpoint(true)
    }
}

/// Makes a directory's entries (a new file, a rename) durable.
fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| AuditError::io(dir, &e))
}
