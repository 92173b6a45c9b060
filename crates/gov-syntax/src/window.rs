//! Where an edit changed a file's text, so that its next parse re-lexes and re-splits only
//! the items around the edit (`parser::reparse`).
//!
//! The re-parsed stretch starts just after an *anchor* before the edit and ends with an
//! anchor after it: an item that parsed cleanly and ends with its own `.` followed by
//! whitespace. The splitter ends an item at such a `.` whatever follows, and starts the
//! next one afresh; the lexer reads nothing past the whitespace. So the text before the
//! first anchor's end is cut and lexed as before, and once the re-split ends an item with
//! the second anchor's `.` (checked, not assumed: an opened string or bracket can swallow
//! it), everything after it is cut and lexed as before, moved by the edit's change of
//! length.

/// The bytes two texts differ in: the same before `start`, and the same after `old_end`
/// in the old text and `new_end` in the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Edit {
    /// The first byte that differs.
    pub start: usize,
    /// Where the unchanged end of the old text starts.
    pub old_end: usize,
}

impl Edit {
    /// The smallest edit that turns `old` into `new`.
    pub(crate) fn between(old: &str, new: &str) -> Edit {
        let (old, new) = (old.as_bytes(), new.as_bytes());
        let start = common_prefix(old, new);
        let suffix = common_suffix(from(old, start), from(new, start));
        Edit { start, old_end: old.len() - suffix }
    }
}

/// Bytes compared a block at a time (a slice comparison is a `memcmp`), then one by one.
const BLOCK: usize = 64;

/// How many bytes `a` and `b` start with in common.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut at = 0;
    while let (Some(x), Some(y)) = (a.get(at..at + BLOCK), b.get(at..at + BLOCK)) {
        if x != y {
            break;
        }
        at += BLOCK;
    }
    at + from(a, at).iter().zip(from(b, at)).take_while(|(x, y)| x == y).count()
}

/// How many bytes `a` and `b` end with in common.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match (last_block(a, at), last_block(b, at)) {
            (Some(x), Some(y)) if x == y => at += BLOCK,
            _ => break,
        }
    }
    at + before_last(a, at).iter().rev().zip(before_last(b, at).iter().rev()).take_while(|(x, y)| x == y).count()
}

/// `text` from byte `at` on (empty past its end).
fn from(text: &[u8], at: usize) -> &[u8] {
    text.get(at..).unwrap_or_default()
}

/// `text` without its last `at` bytes.
fn before_last(text: &[u8], at: usize) -> &[u8] {
    text.get(..text.len().saturating_sub(at)).unwrap_or_default()
}

/// The [`BLOCK`] bytes of `text` before its last `at` bytes, if it has that many.
fn last_block(text: &[u8], at: usize) -> Option<&[u8]> {
    let end = text.len().checked_sub(at)?;
    text.get(end.checked_sub(BLOCK)?..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edit_is_the_bytes_that_differ() {
        let long = "a".repeat(300);
        for (old, new, start, old_end) in [
            ("abcdef", "abXdef", 2, 3),
            ("abcdef", "abdef", 2, 3),
            ("abcdef", "abcXdef", 3, 3),
            ("same", "same", 4, 4),
            ("", "x", 0, 0),
            // A repeated byte: the suffix never overlaps the prefix.
            ("aaa", "aaaa", 3, 3),
        ] {
            assert_eq!(Edit::between(old, new), Edit { start, old_end }, "{old} -> {new}");
        }
        let edited = format!("{long}b{long}");
        assert_eq!(Edit::between(&format!("{long}{long}"), &edited), Edit { start: 300, old_end: 300 });
        assert_eq!(Edit::between(&edited, &format!("{long}c{long}")), Edit { start: 300, old_end: 301 });
    }
}
