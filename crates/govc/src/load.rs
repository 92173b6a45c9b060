//! Reading packages from disk.

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
}

/// Displays a path the way the user would type it.
pub fn display(path: &Path) -> String {
    path.strip_prefix("./").unwrap_or(path).display().to_string()
}

/// Reads one file; `Ok(Err(rejected))` for content that is not UTF-8.
pub fn read_source(path: &Path) -> std::io::Result<Result<String, Rejected>> {
    let bytes = std::fs::read(path)?;
    Ok(String::from_utf8(bytes).map_err(|error| Rejected {
        path: display(path),
        offset: u32::try_from(error.utf8_error().valid_up_to()).unwrap_or(u32::MAX),
        text: String::from_utf8_lossy(error.as_bytes()).into_owned(),
        problem: Problem::NotUtf8,
    }))
}

/// The `.gov` files directly in `dir`, sorted.
pub fn gov_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "gov") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a package: a directory's `.gov` files, or one file.
pub fn package(path: &Path) -> Result<LoadedPackage, String> {
    let io = |e: std::io::Error| format!("cannot read `{}`: {e}", display(path));
    let mut loaded = LoadedPackage::default();
    let paths = if path.is_dir() {
        let files = gov_files_in(path).map_err(io)?;
        if files.is_empty() {
            loaded.rejected.push(Rejected {
                path: display(path),
                text: String::new(),
                offset: 0,
                problem: Problem::NoSources,
            });
        }
        files
    } else {
        std::fs::metadata(path).map_err(io)?;
        vec![path.to_path_buf()]
    };
    for file in paths {
        match read_source(&file).map_err(|e| format!("cannot read `{}`: {e}", display(&file)))? {
            Ok(text) => loaded.files.push((display(&file), text)),
            Err(rejected) => loaded.rejected.push(rejected),
        }
    }
    Ok(loaded)
}
