//! `govc diff --git REV`: a package as it was at a git revision, written out to a
//! temporary directory by `git` subprocesses (no git library: govc is an IO layer).
//!
//! Only what the package loader reads is needed: the regular files directly in the
//! package's directory (a directory package), or in the file's directory (a single-file
//! package, which takes the data files beside it). They are listed with `git ls-tree` and
//! read with `git cat-file`, so the loader decides which of them belong to the package,
//! exactly as it does for the working tree.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The package at `path` as it was at revision `rev`, in a temporary directory (removed
/// when this is dropped).
pub struct Checkout {
    /// The temporary directory.
    _dir: tempfile::TempDir,
    /// The package in it: the directory, or the `.gov` file.
    pub package: PathBuf,
}

/// Runs `git -C dir args…`; its standard output, or an error naming the cause.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "`--git` runs `git`, which is not installed (or not on PATH)".to_owned()
        } else {
            format!("cannot run `git`: {e}")
        }
    })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("no message").trim().to_owned();
        Err(format!("`git {}` failed: {first}", args.join(" ")))
    }
}

/// `git`'s output as one line of text.
fn line(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes)
        .map(|s| s.trim_end_matches('\n').to_owned())
        .map_err(|_| "git printed non-UTF-8".to_owned())
}

/// Writes the package at `path` (of the working tree) as it was at `rev`.
pub fn checkout(rev: &str, path: &Path) -> Result<Checkout, String> {
    let shown = path.display();
    // Whether git runs at all, before any answer of it is read as one about the repository.
    git(Path::new("."), &["--version"])?;
    // The new version is the working tree's: without it there is nothing to compare.
    if !path.exists() {
        return Err(format!("`{shown}` does not exist in the working tree"));
    }
    let is_dir = path.is_dir();
    // The directory git runs in: the package's directory, or the file's.
    let dir = if is_dir {
        path.to_path_buf()
    } else {
        match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    if !dir.is_dir() {
        return Err(format!("`{}` does not exist in the working tree", dir.display()));
    }
    // Where `dir` lies in the repository ("" at its root, else "sub/dir/").
    let prefix = line(
        git(&dir, &["rev-parse", "--show-prefix"])
            .map_err(|e| format!("`{shown}` is not in a git repository's working tree ({e})"))?,
    )?;
    let commit = format!("{rev}^{{commit}}");
    let verified = git(&dir, &["rev-parse", "--verify", "--quiet", "--end-of-options", &commit]);
    let commit = line(verified.map_err(|_| format!("`{rev}` is not a revision of the repository of `{shown}`"))?)?;
    let name = (!is_dir).then(|| path.file_name()).flatten();
    let mut wanted = prefix.trim_end_matches('/').to_owned();
    if let Some(name) = name {
        wanted = if wanted.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{wanted}/{}", name.to_string_lossy())
        };
    }
    let shown_at = if wanted.is_empty() { ".".to_owned() } else { wanted.clone() };
    let kind = git(&dir, &["cat-file", "-t", &format!("{commit}:{wanted}")])
        .map_err(|_| format!("`{shown_at}` does not exist at revision `{rev}`"))?;
    let expected = if is_dir { "tree" } else { "blob" };
    if line(kind)? != expected {
        let what = if is_dir { "a directory" } else { "a file" };
        return Err(format!("`{shown_at}` is not {what} at revision `{rev}`"));
    }
    let temp = tempfile::Builder::new()
        .prefix("govc-diff-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    // `-z`: entries end with NUL, and names are not quoted.
    let listing = git(&dir, &["ls-tree", "-z", "--full-tree", &format!("{commit}:{}", prefix.trim_end_matches('/'))])?;
    for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8(entry.to_vec()).map_err(|_| "git listed a non-UTF-8 file name".to_owned())?;
        // `<mode> SP <type> SP <object> TAB <name>`: regular files only (no symlinks,
        // directories or submodules: the loader reads none of them in a package).
        let Some((meta, file)) = entry.split_once('\t') else { continue };
        let mut fields = meta.split(' ');
        let (mode, object) = (fields.next(), fields.nth(1));
        let (Some("100644" | "100755"), Some(object)) = (mode, object) else { continue };
        let bytes = git(&dir, &["cat-file", "blob", object])?;
        let target = temp.path().join(file);
        std::fs::write(&target, bytes).map_err(|e| format!("cannot write `{}`: {e}", target.display()))?;
    }
    let package = match name {
        Some(name) => temp.path().join(name),
        None => temp.path().to_path_buf(),
    };
    Ok(Checkout { _dir: temp, package })
}
