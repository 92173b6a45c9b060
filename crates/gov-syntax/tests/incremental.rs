//! A file's parse after an edit re-lexes, re-splits and re-parses only the items around the
//! edit and keeps or moves the others (`parser::reparse`, `window.rs`); the result must be
//! the parse from scratch, whatever the edit. Random edits (characters that open or close
//! strings, comments, brackets and items; deletions across items; whole items pasted) are
//! applied one after another to real policies, each parse reusing the last, and every
//! result is compared with `parse` of the same text.
//!
//! The case count is fixed so the test runs in seconds; raise it locally with
//! `PROPTEST_CASES=10000 cargo test -p gov-syntax --test incremental`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use gov_diag::FileId;
use proptest::prelude::*;

// The generator gov-db's test uses too, through gov-syntax's `test-support` feature; an
// integration test of this crate cannot turn on a feature of it, so it reads the file.
#[path = "../src/edits.rs"]
mod edits;
use edits::{apply, config, edit};

const TEXTS: [&str; 3] = [
    include_str!("../../../examples/payments/payments.gov"),
    include_str!("../../../examples/coding-agent/coding_agent.gov"),
    include_str!("../../../examples/finance/finance_test.gov"),
];

/// What an edit inserts: the characters that change how the text around them is cut.
const PIECES: [&str; 22] = [
    "1",
    "x",
    " ",
    ".",
    ",",
    "(",
    ")",
    "{",
    "}",
    "\"",
    "//",
    "/// doc\n",
    "\n",
    "\n\n",
    "@",
    "$",
    "é",
    " :- ",
    "\nallow extra :- a(1).\n",
    "deny",
    "\ntest \"t\" {\n  expect allow\n}\n",
    "1.5",
];

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_parse_after_edits_is_the_parse_from_scratch(
        which in 0..TEXTS.len(),
        edits in proptest::collection::vec(edit(PIECES.len(), 40), 1..8),
    ) {
        let mut text = TEXTS[which].to_owned();
        let (_, mut last) = gov_syntax::reparse(FileId(1), &text, None);
        for edit in &edits {
            text = apply(&text, edit, &PIECES);
            let (parsed, next) = gov_syntax::reparse(FileId(1), &text, Some(&last));
            prop_assert_eq!(&*parsed, &gov_syntax::parse(FileId(1), &text), "after {:?}:\n{}", edit, text);
            last = next;
        }
    }
}

/// One character typed inside a rule body in the middle of a file lexes, splits and parses
/// only the items around it: a few lines, not the file.
#[test]
fn a_keystroke_relexes_only_the_items_around_it() {
    let text = TEXTS[0];
    let (_, first) = gov_syntax::reparse(FileId(1), text, None);
    assert_eq!(first.lexed_bytes(), text.len());
    let at = text.len() / 2 + text[text.len() / 2..].find(":-").unwrap() + 2;
    let mut edited = text.to_owned();
    edited.insert(at, ' ');
    let (parsed, second) = gov_syntax::reparse(FileId(1), &edited, Some(&first));
    assert_eq!(*parsed, gov_syntax::parse(FileId(1), &edited));
    assert_eq!(second.fresh_items(), 1);
    assert!(second.lexed_bytes() < 400, "lexed {} of {} bytes", second.lexed_bytes(), edited.len());
}

/// An edit that does not change the text's length leaves every other item where it was:
/// their trees are the last parse's, shared, not copied.
#[test]
fn items_an_edit_did_not_move_are_shared() {
    let text = TEXTS[0];
    let (before, first) = gov_syntax::reparse(FileId(1), text, None);
    let at = text.len() / 2 + text[text.len() / 2..].find(":-").unwrap() + 2;
    let mut edited = text.to_owned();
    edited.replace_range(at..=at, "\n");
    let (after, _) = gov_syntax::reparse(FileId(1), &edited, Some(&first));
    assert_eq!(*after, gov_syntax::parse(FileId(1), &edited));
    let shared = after.file.items.iter().zip(&before.file.items).filter(|(a, b)| a.same(b)).count();
    assert_eq!(shared, after.file.items.len() - 1);
}

/// A character typed moves every item after it: their trees are the last parse's too, not
/// copied, each with the distance it moved; read, each is where its text now stands.
#[test]
fn items_an_edit_moved_share_their_trees() {
    let text = TEXTS[0];
    let (before, first) = gov_syntax::reparse(FileId(1), text, None);
    let at = text.len() / 2 + text[text.len() / 2..].find(":-").unwrap() + 2;
    let mut edited = text.to_owned();
    edited.insert(at, ' ');
    let (after, second) = gov_syntax::reparse(FileId(1), &edited, Some(&first));
    let pairs = || after.file.items.iter().zip(&before.file.items);
    let edited_item = pairs().position(|(a, b)| !a.same(b)).unwrap();
    let moved: Vec<_> = pairs().skip(edited_item + 1).collect();
    assert!(moved.len() > 5, "{} items after the edit", moved.len());
    for (a, b) in &moved {
        assert!(std::ptr::eq(a.unmoved(), b.unmoved()));
        assert_eq!((a.by(), a.span()), (1, b.span().shifted(1)));
    }
    // Typed back out: the trees are where they were parsed, again without a copy.
    let (back, _) = gov_syntax::reparse(FileId(1), text, Some(&second));
    assert!(back.file.items.iter().zip(&before.file.items).skip(edited_item + 1).all(|(a, b)| a.same(b)));
    assert_eq!(*after, gov_syntax::parse(FileId(1), &edited));
    assert_eq!(*back, gov_syntax::parse(FileId(1), text));
}
