//! The per-item memo of the rule pass: what safety found in each rule, decision rule and
//! invariant, kept from one check to the next, so a keystroke re-runs safety for the items
//! it changed only (issue 10 item 7, step 1 of `docs/architecture.md`, Incrementality).
//!
//! Safety is a function of the item's tree alone: where a variable occurs and how
//! ([`super::Place`]) is syntactic, and the walk records the same occurrences whatever the
//! symbol table says. The tree it reads is the one the lists' rewrite
//! ([`crate::compound`]) left, which depends on the declared field types; the rewrite
//! keeps the parse's own tree (the same `Arc`) for an item it does not change and makes a
//! new one for an item it changes, so an entry is keyed by the identity of the tree:
//! a rewritten item is a new tree every check and is never found, and an item found is
//! exactly the tree safety ran on, spans included (the parse shares an unmoved item's tree
//! between parses; a moved one is a copy, and is checked again).

use crate::hash::HashMap;
use gov_diag::{Diagnostic, Span};
use gov_syntax::ast::Item;
use std::sync::Arc;

/// What safety found in one item.
#[derive(Debug, Clone, Default)]
pub(super) struct Safety {
    /// Its diagnostics, in the order safety reports them.
    pub(super) diagnostics: Vec<Diagnostic>,
    /// For a rule: the arithmetic (and aggregates, `true`) of its `=` bindings whose value
    /// reaches the head (see `Cx::rule`).
    pub(super) inventing: Vec<(Span, bool)>,
}

/// Safety's results by item, from the last check and the one under way. Pass the same
/// memo to every check of a package ([`crate::check_with`]); only the items of the last
/// check are kept, so the trees an edit made stale are freed with the next check.
// Invariant: an entry's key is the address of the tree it holds (`Arc::as_ptr`); holding
// the `Arc` keeps that address from being reused by another tree, and a tree behind an
// `Arc` is never changed in place (the rewrite copies, `compound::desugar`), so a tree
// found is the tree safety ran on.
#[derive(Debug, Default)]
pub struct ItemMemo {
    current: HashMap<usize, (Arc<Item>, Safety)>,
    last: HashMap<usize, (Arc<Item>, Safety)>,
    computed: usize,
}

impl ItemMemo {
    /// How many items the last check ran safety on rather than found here.
    pub fn computed(&self) -> usize {
        self.computed
    }

    /// Starts a check: the entries of the last one become the ones to find.
    pub(crate) fn begin(&mut self) {
        self.last = std::mem::take(&mut self.current);
        self.computed = 0;
    }

    /// Ends a check: the entries it did not find are dropped.
    pub(crate) fn end(&mut self) {
        self.last = HashMap::default();
    }

    /// Safety's result for `item`: the last check's if it had this tree, else `compute`'s.
    pub(super) fn get_or(&mut self, item: &Arc<Item>, compute: impl FnOnce() -> Safety) -> &Safety {
        let key = Arc::as_ptr(item) as usize;
        let entry = match self.last.remove(&key).or_else(|| self.current.remove(&key)) {
            Some(entry) => entry,
            None => {
                self.computed += 1;
                (Arc::clone(item), compute())
            }
        };
        &self.current.entry(key).or_insert(entry).1
    }
}
