//! Random edits of a text, for the property tests that compare what an edit re-computes
//! with a computation from scratch (`gov-syntax/tests/incremental.rs`: the re-parse,
//! `gov-db/tests/incremental.rs`: the re-check). Only with the `test-support` feature.

use proptest::prelude::*;
use proptest::sample::Index;

/// One edit: a piece inserted, a range deleted, or a range replaced by a piece (pieces by
/// their index in the test's list).
#[derive(Debug, Clone)]
pub enum Edit {
    /// Insert piece `.1` at a place.
    Insert(Index, usize),
    /// Delete up to `.1` bytes from a place.
    Delete(Index, usize),
    /// Replace up to `.1` bytes from a place with piece `.2`.
    Replace(Index, usize, usize),
}

/// Edits with `pieces` pieces to insert: insertions (half of them), deletions of up to
/// `max_delete` bytes, and replacements of up to three bytes.
pub fn edit(pieces: usize, max_delete: usize) -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => (any::<Index>(), 0..pieces).prop_map(|(at, piece)| Edit::Insert(at, piece)),
        1 => (any::<Index>(), 1..max_delete.max(2)).prop_map(|(at, len)| Edit::Delete(at, len)),
        1 => (any::<Index>(), 1usize..4, 0..pieces).prop_map(|(at, len, piece)| Edit::Replace(at, len, piece)),
    ]
}

/// The char boundary at or before `at`.
fn boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

/// `text` with `edit` applied, its pieces taken from `pieces`.
pub fn apply(text: &str, edit: &Edit, pieces: &[&str]) -> String {
    let piece = |index: usize| pieces.get(index).copied().unwrap_or_default();
    let mut out = text.to_owned();
    match edit {
        Edit::Insert(at, index) => out.insert_str(boundary(text, at.index(text.len() + 1)), piece(*index)),
        Edit::Delete(at, len) | Edit::Replace(at, len, _) => {
            let start = boundary(text, at.index(text.len() + 1));
            let end = boundary(text, start + len);
            let with = if let Edit::Replace(_, _, index) = edit { piece(*index) } else { "" };
            out.replace_range(start..end, with);
        }
    }
    out
}

/// `cases` cases (or `PROPTEST_CASES`), with no failure files written.
pub fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases) }
}
