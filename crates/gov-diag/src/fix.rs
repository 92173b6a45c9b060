//! Structured fixes: the text edits that resolve a diagnostic, for editors and `govc check --fix`.

use crate::{FileId, Span};
use std::collections::BTreeMap;

/// Whether a tool may apply a fix without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Applicability {
    /// The edit keeps the meaning the author evidently intended (removing an unused `use`,
    /// marking a variable used once as deliberate): `govc check --fix` applies it.
    Safe,
    /// A guess (a did-you-mean, a declaration to fill in): offered in the editor, never
    /// applied without a person choosing it.
    NeedsReview,
}

impl Applicability {
    /// `safe` or `needs-review`, as the JSON output spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::NeedsReview => "needs-review",
        }
    }
}

/// Replace the text of `span` with `replacement` (an empty span inserts, an empty
/// replacement deletes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    /// The bytes replaced.
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

/// One way to resolve a diagnostic.
///
/// Invariant: the edits do not overlap one another; they are applied together or not at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    /// What the fix does, as an editor's menu shows it (``Change to `order` ``).
    pub message: String,
    /// Whether it may be applied without review.
    pub applicability: Applicability,
    /// The text edits.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix of one edit: replace `span` with `replacement`.
    pub fn replace(
        message: impl Into<String>,
        applicability: Applicability,
        span: Span,
        replacement: impl Into<String>,
    ) -> Fix {
        Fix { message: message.into(), applicability, edits: vec![Edit { span, replacement: replacement.into() }] }
    }
}

/// Whether two edits touch the same bytes: overlapping ranges, or two insertions at one
/// place (whose order would be arbitrary). Edits that merely meet do not conflict.
fn conflict(a: &Edit, b: &Edit) -> bool {
    a.span.file == b.span.file
        && ((a.span.start < b.span.end && b.span.start < a.span.end) || a.span.start == b.span.start)
}

/// The fixes to apply together, taken in order: each one whose edits conflict with none of
/// the fixes taken before it. Returns (taken, left for a later pass).
pub fn non_overlapping<'a>(fixes: impl IntoIterator<Item = &'a Fix>) -> (Vec<&'a Fix>, Vec<&'a Fix>) {
    // The taken edits by (file, start), with their ends.
    // Invariant: no two of them conflict, so in start order their ends never decrease and
    // the one starting last before an edit's end is the only one that can overlap it.
    let mut edits: BTreeMap<(FileId, u32), u32> = BTreeMap::new();
    let clashes = |edits: &BTreeMap<(FileId, u32), u32>, e: &Edit| {
        let (file, start) = (e.span.file, e.span.start);
        edits.contains_key(&(file, start))
            || edits.range((file, 0)..(file, e.span.end)).next_back().is_some_and(|(_, &end)| end > start)
    };
    let (mut taken, mut left): (Vec<&Fix>, Vec<&Fix>) = (Vec::new(), Vec::new());
    for fix in fixes {
        if fix.edits.iter().any(|e| clashes(&edits, e)) {
            left.push(fix);
        } else {
            edits.extend(fix.edits.iter().map(|e| ((e.span.file, e.span.start), e.span.end)));
            taken.push(fix);
        }
    }
    (taken, left)
}

/// Applies non-overlapping edits to `text`, the text of the file they are about; `None`
/// if an edit lies outside the text or off a character boundary, or two edits conflict.
pub fn apply(text: &str, edits: &[&Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.to_vec();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (i, edit) in sorted.iter().enumerate() {
        if sorted.get(i + 1).is_some_and(|next| conflict(edit, next)) {
            return None;
        }
        let range = edit.span.range();
        out.push_str(text.get(at..range.start)?);
        // Checks that the end lies on a boundary inside the text.
        text.get(range.clone())?;
        out.push_str(&edit.replacement);
        at = range.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn edit(start: u32, end: u32, text: &str) -> Edit {
        Edit { span: Span::new(FileId(0), start, end), replacement: text.to_owned() }
    }

    #[test]
    fn applies_edits_in_any_order() {
        let (a, b) = (edit(6, 11, "there"), edit(0, 0, "> "));
        assert_eq!(apply("hello world", &[&a, &b]).as_deref(), Some("> hello there"));
        assert_eq!(apply("héllo", &[&edit(1, 2, "e")]), None, "off a character boundary");
        assert_eq!(apply("hi", &[&edit(1, 5, "")]), None, "outside the text");
        assert_eq!(apply("hi", &[&edit(0, 2, "a"), &edit(1, 2, "b")]), None, "overlapping");
    }

    #[test]
    fn takes_only_fixes_that_do_not_conflict() {
        let fix = |e: Edit| Fix { message: String::new(), applicability: Applicability::Safe, edits: vec![e] };
        let fixes = [
            fix(edit(0, 3, "a")),
            fix(edit(2, 4, "b")),
            fix(edit(3, 5, "c")),
            fix(edit(5, 5, "d")),
            fix(edit(5, 5, "e")),
            fix(edit(4, 9, "f")),
            fix(edit(1, 2, "g")),
            fix(edit(9, 12, "h")),
        ];
        let (taken, left) = non_overlapping(&fixes);
        assert_eq!(taken, vec![&fixes[0], &fixes[2], &fixes[3], &fixes[7]]);
        assert_eq!(left, vec![&fixes[1], &fixes[4], &fixes[5], &fixes[6]]);
        // Two insertions at one place conflict; an insertion where a replacement ends does not.
        assert!(conflict(&edit(5, 5, "x"), &edit(5, 5, "y")));
        assert!(!conflict(&edit(3, 5, "x"), &edit(5, 5, "y")));
    }
}
