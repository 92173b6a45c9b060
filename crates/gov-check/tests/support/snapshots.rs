//! What both runners of `tests/check` share (gov-check's in-process `fixtures` test and
//! govc's end-to-end `check_fixtures` test): one description per case and one way to
//! normalise human output, so both hold the output to the same snapshot text.
//! Included with `#[path]` by each runner.

use std::path::{Path, PathBuf};

/// Human output with trailing spaces removed from every line (ariadne pads some lines; the
/// snapshots and docs/diagnostics.md should not depend on invisible whitespace).
pub fn trim_lines(text: &str) -> String {
    text.lines().map(str::trim_end).map(|l| format!("{l}\n")).collect()
}

/// The `// <what it shows>` header of a case, for the snapshot's description.
pub fn header(path: &Path) -> String {
    let file = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        files.into_iter().find(|f| f.extension().is_some_and(|e| e == "gov" || e == "md")).unwrap()
    } else {
        path.to_path_buf()
    };
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().map_while(|l| l.strip_prefix("// ")).collect();
    if lines.is_empty() { text.lines().next().unwrap_or_default().to_owned() } else { lines.join(" ") }
}
