//! Finding files on disk: the one directory listing and tree walk behind every command
//! (`check`, `fmt`, `build`, `eval`, `test`).
//!
//! Symlinks are followed, but a tree walk visits each real directory once, however many
//! links lead to it, so links to `..` or to a sibling cannot make it loop or repeat. Only
//! regular files are read: a FIFO, socket or device named like a source (`*.gov`) or data
//! (`*.data.json`) file is an error, not a read that could block forever.

use crate::load::display;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What one directory holds for govc, each list sorted by name.
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

/// What kind of file `metadata` describes, for messages.
fn kind(metadata: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let file_type = metadata.file_type();
        if file_type.is_fifo() {
            return "a FIFO";
        } else if file_type.is_socket() {
            return "a socket";
        } else if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if metadata.is_dir() { "a directory" } else { "not a regular file" }
}

/// The error for a path that exists but is not a regular file.
fn not_regular(path: &Path, metadata: &std::fs::Metadata) -> String {
    format!("`{}` is {}: govc reads only regular files", display(path), kind(metadata))
}

/// `Ok` if `path` is a regular file (after following symlinks).
pub fn regular_file(path: &Path) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", display(path)))?;
    if metadata.is_file() { Ok(()) } else { Err(not_regular(path, &metadata)) }
}

/// The bytes of a regular file.
pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    regular_file(path)?;
    std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", display(path)))
}

/// Lists the source files, data files and subdirectories of `dir`. A source or data name
/// that is not a regular file (or a symlink that leads nowhere) is an error; other
/// entries that are neither files nor directories are ignored.
pub fn list(dir: &Path) -> Result<Listing, String> {
    let io = |e: std::io::Error| format!("cannot read `{}`: {e}", display(dir));
    let mut listing = Listing { dir: dir.to_path_buf(), sources: Vec::new(), data: Vec::new(), subdirs: Vec::new() };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let ours = is_source(&path) || is_data(&path);
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if ours => return Err(format!("cannot read `{}`: {error}", display(&path))),
            Err(_) => continue,
        };
        if metadata.is_dir() {
            listing.subdirs.push(path);
        } else if !ours {
            continue;
        } else if !metadata.is_file() {
            return Err(not_regular(&path, &metadata));
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
    /// The canonical paths of the directories listed so far.
    visited: HashSet<PathBuf>,
}

impl Walker {
    /// Lists `root` and then, depth first in name order, the directories that `visit`
    /// leaves in each listing's `subdirs` (it may remove those it does not want entered).
    /// A directory already listed by this walker, reached again through a symlink or given
    /// again, is skipped.
    pub fn walk(&mut self, root: &Path, visit: &mut impl FnMut(&mut Listing)) -> Result<(), String> {
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let real = std::fs::canonicalize(&dir).map_err(|e| format!("cannot read `{}`: {e}", display(&dir)))?;
            if !self.visited.insert(real) {
                continue;
            }
            let mut listing = list(&dir)?;
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
