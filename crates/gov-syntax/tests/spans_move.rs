//! An edit re-parses only the items it touched and moves the others' trees to where their
//! text now stands (`shift.rs`): every span of a moved tree and of its diagnostics must
//! move with the text. Each `.gov` file of the repository is parsed, then parsed again
//! after a few blank lines were put before it (every item moved on, none parsed afresh),
//! then without them again (every item moved back); each result must equal a parse from
//! scratch, so a span `shift.rs` forgot cannot hide.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use gov_diag::FileId;
use std::path::{Path, PathBuf};

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
    let mut moved_items = 0;
    for path in files {
        // A few fixtures are deliberately not UTF-8 (the reader refuses them before parsing).
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let padded = format!("\n\n\n\n\n{text}");
        let (_, first) = gov_syntax::reparse(FileId(0), &text, None);
        let (on, second) = gov_syntax::reparse(FileId(0), &padded, Some(&first));
        assert_eq!(*on, gov_syntax::parse(FileId(0), &padded), "{}: moved on", path.display());
        assert_eq!(second.fresh_items(), 0, "{}", path.display());
        let (back, third) = gov_syntax::reparse(FileId(0), &text, Some(&second));
        assert_eq!(*back, gov_syntax::parse(FileId(0), &text), "{}: moved back", path.display());
        assert_eq!(third.fresh_items(), 0, "{}", path.display());
        moved_items += on.file.items.len();
    }
    assert!(moved_items > 1_000, "only {moved_items} items moved");
}
