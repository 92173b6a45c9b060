//! The errors of opening, appending to and reading a log.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a log operation failed. Cloneable: one write failure is the answer to every
/// append of the batch it belonged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditError {
    /// Reading or writing `path` failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        message: String,
    },
    /// Another writer holds the log directory's lock (`DIR/.lock`).
    Locked(PathBuf),
    /// The log cannot be resumed: the records it would continue from do not form a chain.
    /// `govc audit verify` tells the whole story.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// An entry the log cannot hold (too large, or not representable as JSON).
    Entry(String),
    /// The log was closed, or its writer stopped after an earlier failure (the chain's
    /// state on disk is then unknown, so nothing more is written).
    Closed(String),
}

impl AuditError {
    /// An IO error on `path`.
    pub(crate) fn io(path: &Path, error: &std::io::Error) -> AuditError {
        AuditError::Io { path: path.to_path_buf(), message: error.to_string() }
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Io { path, message } => write!(f, "{}: {message}", path.display()),
            AuditError::Locked(path) => {
                write!(f, "{}: the audit log is in use by another writer (its lock is held)", path.display())
            }
            AuditError::Corrupt { path, line, message } => write!(
                f,
                "{}:{line}: cannot resume the audit log: {message} (run `govc audit verify` on the directory)",
                path.display()
            ),
            AuditError::Entry(message) => write!(f, "cannot log the entry: {message}"),
            AuditError::Closed(message) => write!(f, "the audit log is closed: {message}"),
        }
    }
}

impl std::error::Error for AuditError {}
