//! Fixes that delete a whole item.

use gov_diag::{Applicability, Fix, Span};
use gov_syntax::Parsed;

/// The fix that removes item `index` of `parsed` (`None` if there is no such item), marked
/// `applicability` where the removal is clean.
///
/// The checker has spans but not the text, so it cannot see line breaks. It deletes the item
/// and what lies before it back to the end of the item or comment before, so no gap is left.
/// When the item has a doc comment, or a comment follows it before the next item (which
/// may share its line), the deletion could strand or join comments: it then removes only
/// the item, for review.
pub(crate) fn remove_item(parsed: &Parsed, index: usize, message: &str, applicability: Applicability) -> Option<Fix> {
    let items = &parsed.file.items;
    let item = items.get(index)?;
    let previous = index.checked_sub(1).and_then(|i| items.get(i));
    let next_start = items.get(index + 1).map_or(u32::MAX, |next| next.span.start);
    // Invariant: `comments` are in source order, so both searches are binary.
    let comments = &parsed.comments;
    let after = comments.partition_point(|c| c.span.start < item.span.end);
    let comment_after = comments.get(after).is_some_and(|c| c.span.start < next_start);
    let before = comments.partition_point(|c| c.span.end <= item.span.start);
    let comment_before = before.checked_sub(1).and_then(|i| comments.get(i)).map(|c| c.span.end);
    let (applicability, span) = match previous {
        _ if !item.docs.is_empty() || comment_after => (Applicability::NeedsReview, item.span),
        None => (applicability, item.span),
        Some(previous) => {
            let start = comment_before.map_or(previous.span.end, |end| end.max(previous.span.end));
            (applicability, Span::new(item.span.file, start, item.span.end))
        }
    };
    Some(Fix::replace(message, applicability, span, ""))
}
