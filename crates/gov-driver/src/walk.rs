//! Finding files: the one directory listing and tree walk behind every command and the
//! language server.
//!
//! Symlinks are followed, but a tree walk visits each real directory once, however many
//! links lead to it, so links to `..` or to a sibling cannot make it loop or repeat. Only
//! regular files are read: a FIFO, socket or device named like a source (`*.gov`) or data
//! (`*.data.json`) file is an error, not a read that could block forever.

use crate::fs::{FileSystem, Kind, MAX_FILE_BYTES};
use crate::load::display;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What one directory holds for the pipeline, each list sorted by name.
#[derive(Debug)]
pub struct Listing {
    /// The directory, as it was reached (not resolved), for display.
    pub dir: PathBuf,
    /// Its `.gov` files.
    pub sources: Vec<PathBuf>,
    /// Its `*.data.json` files.
    pub data: Vec<PathBuf>,
    /// Its subdirectories (symlinks to directories included).
    pub subdirs: Vec<PathBuf>,
}

/// Whether a file name is a source file's.
pub fn is_source(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gov")
}

/// Whether a file name is a data file's.
pub fn is_data(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".data.json"))
}

/// The message for `path` that could not be read.
pub(crate) fn cannot_read(path: &Path, error: &std::io::Error) -> String {
    format!("cannot read `{}`: {error}", display(path))
}

/// The error for a path that exists but is not a regular file.
fn not_regular(path: &Path, kind: Kind) -> String {
    format!("`{}` is {}: govc reads only regular files", display(path), kind.describe())
}

/// The kind of `path`, or the message saying why it is unknown.
pub fn kind(fs: &dyn FileSystem, path: &Path) -> Result<Kind, String> {
    fs.kind(path).map_err(|e| cannot_read(path, &e))
}

/// `Ok` if `path` is a regular file (after following symlinks).
pub fn regular_file(fs: &dyn FileSystem, path: &Path) -> Result<(), String> {
    match kind(fs, path)? {
        Kind::File => Ok(()),
        other => Err(not_regular(path, other)),
    }
}

/// The bytes of a regular file.
pub fn read(fs: &dyn FileSystem, path: &Path) -> Result<Vec<u8>, String> {
    regular_file(fs, path)?;
    fs.read(path, MAX_FILE_BYTES).map_err(|e| cannot_read(path, &e))
}

/// Lists the source files, data files and subdirectories of `dir`. A source or data name
/// that is not a regular file (or a symlink that leads nowhere) is an error; other
/// entries that are neither files nor directories are ignored.
pub fn list(fs: &dyn FileSystem, dir: &Path) -> Result<Listing, String> {
    let mut listing = Listing { dir: dir.to_path_buf(), sources: Vec::new(), data: Vec::new(), subdirs: Vec::new() };
    for (path, kind) in fs.list(dir).map_err(|e| cannot_read(dir, &e))? {
        let ours = is_source(&path) || is_data(&path);
        let kind = match kind {
            Ok(kind) => kind,
            Err(error) if ours => return Err(cannot_read(&path, &error)),
            Err(_) => continue,
        };
        if kind == Kind::Dir {
            listing.subdirs.push(path);
        } else if !ours {
            continue;
        } else if kind != Kind::File {
            return Err(not_regular(&path, kind));
        } else if is_source(&path) {
            listing.sources.push(path);
        } else {
            listing.data.push(path);
        }
    }
    listing.sources.sort();
    listing.data.sort();
    listing.subdirs.sort();
    Ok(listing)
}

/// Walks directory trees, each real directory at most once.
#[derive(Debug, Default)]
pub struct Walker {
    /// The identities of the directories listed so far.
    visited: HashSet<PathBuf>,
}

impl Walker {
    /// Lists `root` and then, depth first in name order, the directories that `visit`
    /// leaves in each listing's `subdirs` (it may remove those it does not want entered).
    /// A directory already listed by this walker, reached again through a symlink or given
    /// again, is skipped.
    pub fn walk(
        &mut self,
        fs: &dyn FileSystem,
        root: &Path,
        visit: &mut impl FnMut(&mut Listing),
    ) -> Result<(), String> {
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let real = fs.identity(&dir).map_err(|e| cannot_read(&dir, &e))?;
            if !self.visited.insert(real) {
                continue;
            }
            let mut listing = list(fs, &dir)?;
            visit(&mut listing);
            // Reversed, so that the first subdirectory is listed next.
            pending.extend(listing.subdirs.into_iter().rev());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_sources_and_data() {
        assert!(is_source(Path::new("a/policy.gov")));
        assert!(!is_source(Path::new("a/policy.gov.bak")));
        assert!(is_data(Path::new("a/org.data.json")));
        assert!(!is_data(Path::new("a/org.json")));
        assert!(!is_source(Path::new("a/org.data.json")));
    }
}
