//! Which packages and files the commands' path arguments name.

use crate::fs::{FileSystem, Kind};
use crate::load::display;
use crate::walk::{self, Walker};
use std::path::{Path, PathBuf};

/// Adds the packages at `path` to `out`: a file is a single-file package; a directory with
/// `.gov` files is a package; any other directory is searched, recursively, for packages
/// (hidden directories and `target` excepted), each real directory once.
pub fn packages(fs: &dyn FileSystem, path: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if walk::kind(fs, path)? != Kind::Dir {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let before = out.len();
    Walker::default().walk(fs, path, &mut |listing| {
        if listing.sources.is_empty() {
            listing.subdirs.retain(|dir| {
                dir.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.') && n != "target")
            });
        } else {
            out.push(listing.dir.clone());
            listing.subdirs.clear();
        }
    })?;
    if out.len() == before {
        return Err(format!("`{}` contains no `.gov` files, nor any directory that does", display(path)));
    }
    Ok(())
}

/// Adds every `.gov` file under `path` (recursively, each real directory once, however
/// many paths `walker` has seen), or `path` itself if it is a file, to `out`.
pub fn source_files(
    fs: &dyn FileSystem,
    path: &Path,
    walker: &mut Walker,
    out: &mut Vec<PathBuf>,
) -> Result<(), String> {
    if walk::kind(fs, path)? == Kind::Dir {
        walker.walk(fs, path, &mut |listing| out.append(&mut listing.sources))
    } else {
        walk::regular_file(fs, path)?;
        out.push(path.to_path_buf());
        Ok(())
    }
}
