//! The Gov audit log (docs/audit.md): one JSON line per decision, approval and bundle
//! load, each carrying the SHA-256 of the line before it, across rotated files, with
//! checkpoints of the chain head signed with the bundle keys (ed25519). [`AuditLog`]
//! appends with group commit; [`verify()`] names the first edited, removed, inserted,
//! reordered or truncated record; [`search`] serves `govc audit show` and `search`.
//!
//! This crate does file IO: it belongs to the service's IO layer, with `govc`.

mod entry;
mod error;
mod files;
mod log;
mod read;
mod record;
mod resume;
mod verify;

pub use entry::{Entry, EntryKind, JsonField, JsonText};
pub use error::AuditError;
pub use log::{AuditLog, Fsync, LogOptions, Unwritten};
pub use read::{Found, Query, Search, outcome, search};
pub use verify::{Problem, ProblemKind, Verified, verify};
