//! File access behind a small trait, so that the pipeline reads the disk for the CLI and
//! the disk overlaid with open documents for the language server.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The most bytes [`Disk`] reads from one file unless told otherwise: far above any real
/// policy or data file, low enough that a runaway file is an error, not an exhausted memory.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// What a path is, after following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file: the only kind the pipeline reads.
    File,
    /// A directory.
    Dir,
    /// A named pipe, whose read could block forever.
    Fifo,
    /// A Unix socket.
    Socket,
    /// A block or character device.
    Device,
    /// Anything else.
    Other,
}

impl Kind {
    /// The kind with its article, for messages ("a FIFO").
    pub fn describe(self) -> &'static str {
        match self {
            Kind::File => "a regular file",
            Kind::Dir => "a directory",
            Kind::Fifo => "a FIFO",
            Kind::Socket => "a socket",
            Kind::Device => "a device",
            Kind::Other => "not a regular file",
        }
    }
}

/// One entry of a directory: its path (the directory joined with its name) and its kind,
/// or why the kind is unknown (a symlink that leads nowhere).
pub type Entry = (PathBuf, io::Result<Kind>);

/// How the pipeline sees files.
// Invariant: `read` never blocks on a path whose `kind` is not `Kind::File`; an
// implementation refuses such a path instead.
pub trait FileSystem {
    /// The kind of `path`, following symlinks.
    fn kind(&self, path: &Path) -> io::Result<Kind>;
    /// The entries of the directory `dir`, in no particular order.
    fn list(&self, dir: &Path) -> io::Result<Vec<Entry>>;
    /// A path naming the same directory whichever symlinks led to it, so that a walk can
    /// visit each real directory once.
    fn identity(&self, dir: &Path) -> io::Result<PathBuf>;
    /// The bytes of the regular file `path`; a file of more than `limit` bytes is an error.
    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct Disk;

/// The kind `metadata` describes.
fn kind_of(metadata: &std::fs::Metadata) -> Kind {
    let file_type = metadata.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Kind::Fifo;
        } else if file_type.is_socket() {
            return Kind::Socket;
        } else if file_type.is_block_device() || file_type.is_char_device() {
            return Kind::Device;
        }
    }
    if file_type.is_file() {
        Kind::File
    } else if file_type.is_dir() {
        Kind::Dir
    } else {
        Kind::Other
    }
}

/// The error for reading more than `limit` bytes.
fn too_large(limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::FileTooLarge, format!("the file is larger than {limit} bytes"))
}

impl FileSystem for Disk {
    fn kind(&self, path: &Path) -> io::Result<Kind> {
        std::fs::metadata(path).map(|m| kind_of(&m))
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<Entry>> {
        std::fs::read_dir(dir)?
            .map(|entry| {
                let path = entry?.path();
                let kind = self.kind(&path);
                Ok((path, kind))
            })
            .collect()
    }

    fn identity(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(dir)
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        // Opening a FIFO blocks until a writer comes: look before opening.
        let kind = self.kind(path)?;
        if kind != Kind::File {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("it is {}", kind.describe())));
        }
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() > limit {
            return Err(too_large(limit));
        }
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
            return Err(too_large(limit));
        }
        Ok(bytes)
    }
}

/// A file system with some files' texts replaced: the language server's open documents
/// over the disk. An overlaid file exists even where the one beneath does not.
#[derive(Debug)]
pub struct Overlay<'a, F: FileSystem + ?Sized> {
    /// What is beneath.
    base: &'a F,
    /// The open documents by path.
    texts: HashMap<PathBuf, String>,
}

impl<'a, F: FileSystem + ?Sized> Overlay<'a, F> {
    /// `base` with the files of `texts` (path, text) replaced.
    pub fn new(base: &'a F, texts: impl IntoIterator<Item = (PathBuf, String)>) -> Overlay<'a, F> {
        Overlay { base, texts: texts.into_iter().collect() }
    }
}

impl<F: FileSystem + ?Sized> FileSystem for Overlay<'_, F> {
    fn kind(&self, path: &Path) -> io::Result<Kind> {
        if self.texts.contains_key(path) { Ok(Kind::File) } else { self.base.kind(path) }
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<Entry>> {
        let mut entries = self.base.list(dir)?;
        for entry in &mut entries {
            if self.texts.contains_key(&entry.0) {
                entry.1 = Ok(Kind::File);
            }
        }
        let listed: std::collections::HashSet<PathBuf> = entries.iter().map(|e| e.0.clone()).collect();
        let added = self.texts.keys().filter(|p| p.parent() == Some(dir) && !listed.contains(*p));
        entries.extend(added.map(|p| (p.clone(), Ok(Kind::File))).collect::<Vec<_>>());
        Ok(entries)
    }

    fn identity(&self, dir: &Path) -> io::Result<PathBuf> {
        self.base.identity(dir)
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        match self.texts.get(path) {
            Some(text) if u64::try_from(text.len()).unwrap_or(u64::MAX) > limit => Err(too_large(limit)),
            Some(text) => Ok(text.clone().into_bytes()),
            None => self.base.read(path, limit),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn disk_refuses_more_than_the_limit() {
        let path = std::env::temp_dir().join(format!("gov-driver-limit-{}", std::process::id()));
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(Disk.read(&path, 5).unwrap(), b"12345");
        let error = Disk.read(&path, 4).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn an_overlay_replaces_and_adds_files() {
        let dir = std::env::temp_dir().join(format!("gov-driver-overlay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.gov"), "on disk").unwrap();
        let overlay =
            Overlay::new(&Disk, [(dir.join("a.gov"), "open".to_owned()), (dir.join("new.gov"), "unsaved".to_owned())]);
        assert_eq!(overlay.read(&dir.join("a.gov"), 100).unwrap(), b"open");
        assert_eq!(overlay.read(&dir.join("new.gov"), 100).unwrap(), b"unsaved");
        let mut names: Vec<PathBuf> = overlay.list(&dir).unwrap().into_iter().map(|e| e.0).collect();
        names.sort();
        assert_eq!(names, [dir.join("a.gov"), dir.join("new.gov")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
