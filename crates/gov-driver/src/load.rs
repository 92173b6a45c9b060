//! Reading packages: which files make a package, and their text.

use crate::fs::{FileSystem, Kind};
use crate::walk;
use gov_diag::{Diagnostic, Sources, Span, codes};
use std::path::{Path, PathBuf};

/// A file that could not be taken as source, with what to report.
#[derive(Debug)]
pub struct Rejected {
    /// The path as displayed.
    pub path: String,
    /// The file's content, lossily decoded, for the excerpt.
    pub text: String,
    /// Byte offset of the problem.
    pub offset: u32,
    /// The problem.
    pub problem: Problem,
}

/// Why a file or directory was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The file is not UTF-8.
    NotUtf8,
    /// A directory has no `.gov` files.
    NoSources,
}

impl Rejected {
    /// Adds the file to `sources` and returns its diagnostic.
    pub fn diagnostic(&self, sources: &mut Sources) -> Diagnostic {
        let file = sources.add(self.path.clone(), self.text.clone());
        let span = Span::new(file, self.offset, self.offset);
        match self.problem {
            Problem::NotUtf8 => Diagnostic::new(
                codes::NOT_UTF8,
                format!("`{}` is not valid UTF-8 (byte offset {})", self.path, self.offset),
                span,
            )
            .with_primary_label("invalid UTF-8 starts here")
            .with_help("save the file as UTF-8"),
            Problem::NoSources => {
                Diagnostic::new(codes::NO_SOURCES, format!("`{}` contains no `.gov` files", self.path), span)
                    .with_help("a package is a directory of `.gov` files, or a single `.gov` file")
            }
        }
    }
}

/// A package read from disk.
#[derive(Debug, Default)]
pub struct LoadedPackage {
    /// Readable source files: (display path, text).
    pub files: Vec<(String, String)>,
    /// Files or directories that cannot be used.
    pub rejected: Vec<Rejected>,
    /// The package's data files, not yet read.
    pub data: Vec<PathBuf>,
}

/// The files on disk that make up a package.
#[derive(Debug)]
pub struct PackageFiles {
    /// Its `.gov` files: those of the directory, or the one file.
    pub sources: Vec<PathBuf>,
    /// Its data: the `*.data.json` files of the directory, or of the file's directory.
    pub data: Vec<PathBuf>,
}

/// Displays a path the way the user would type it.
pub fn display(path: &Path) -> String {
    path.strip_prefix("./").unwrap_or(path).display().to_string()
}

/// Reads one source file; `Ok(Err(rejected))` for content that is not UTF-8.
pub fn read_source(fs: &dyn FileSystem, path: &Path) -> Result<Result<String, Rejected>, String> {
    let bytes = walk::read(fs, path)?;
    Ok(String::from_utf8(bytes).map_err(|error| Rejected {
        path: display(path),
        offset: u32::try_from(error.utf8_error().valid_up_to()).unwrap_or(u32::MAX),
        text: String::from_utf8_lossy(error.as_bytes()).into_owned(),
        problem: Problem::NotUtf8,
    }))
}

/// Finds the files of the package at `path`: a directory, or one `.gov` file, which takes
/// the data files beside it (as its directory would).
pub fn files(fs: &dyn FileSystem, path: &Path) -> Result<PackageFiles, String> {
    if walk::kind(fs, path)? == Kind::Dir {
        let listing = walk::list(fs, path)?;
        return Ok(PackageFiles { sources: listing.sources, data: listing.data });
    }
    walk::regular_file(fs, path)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Ok(PackageFiles { sources: vec![path.to_path_buf()], data: walk::list(fs, dir)?.data })
}

/// Reads a package's sources (see [`files`]); a directory without `.gov` files and a file
/// that is not UTF-8 are rejected, not errors.
pub fn package(fs: &dyn FileSystem, path: &Path) -> Result<LoadedPackage, String> {
    let files = files(fs, path)?;
    let mut loaded = LoadedPackage { data: files.data, ..LoadedPackage::default() };
    if files.sources.is_empty() {
        loaded.rejected.push(Rejected {
            path: display(path),
            text: String::new(),
            offset: 0,
            problem: Problem::NoSources,
        });
    }
    for file in files.sources {
        match read_source(fs, &file)? {
            Ok(text) => loaded.files.push((display(&file), text)),
            Err(rejected) => loaded.rejected.push(rejected),
        }
    }
    Ok(loaded)
}
