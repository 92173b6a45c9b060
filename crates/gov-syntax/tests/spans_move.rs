//! Items are parsed on their own text and moved into place (`shift.rs`): every span of
//! the tree and of the diagnostics must move with the text. Each `.gov` file of the
//! repository is parsed as it is and again after a few blank lines; every span found in
//! the two results (read off their debug form, so a node `shift.rs` forgot cannot hide)
//! must differ by exactly the blank lines' length.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use gov_diag::FileId;
use std::path::{Path, PathBuf};

/// Every `(start, end)` of a `Span { … }` in a debug rendering, in order.
fn spans(debug: &str) -> Vec<(u32, u32)> {
    let number = |rest: &str, key: &str| -> u32 {
        let at = rest.find(key).unwrap() + key.len();
        let digits: String = rest[at..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().unwrap()
    };
    debug
        .split("Span { file: ")
        .skip(1)
        .map(|rest| {
            let body = &rest[..rest.find('}').unwrap()];
            (number(body, "start: "), number(body, "end: "))
        })
        .collect()
}

fn gov_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            gov_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "gov") {
            out.push(path);
        }
    }
}

#[test]
fn every_span_moves_with_the_text() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["tests", "examples", "crates/gov-db/std"] {
        if root.join(dir).is_dir() {
            gov_files(&root.join(dir), &mut files);
        }
    }
    assert!(files.len() > 100, "found only {} .gov files", files.len());
    let pad = "\n\n\n\n\n";
    let by = pad.len() as u32;
    let mut seen = 0;
    for path in files {
        // A few fixtures are deliberately not UTF-8 (the reader refuses them before parsing).
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let here = gov_syntax::parse(FileId(0), &text);
        let moved = gov_syntax::parse(FileId(0), &format!("{pad}{text}"));
        let (here, moved) = (format!("{here:?}"), format!("{moved:?}"));
        let (before, after) = (spans(&here), spans(&moved));
        assert_eq!(before.len(), after.len(), "{}", path.display());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!((b.0 + by, b.1 + by), *a, "{}: a span did not move with the text", path.display());
        }
        seen += before.len();
    }
    assert!(seen > 10_000, "only {seen} spans compared");
}
