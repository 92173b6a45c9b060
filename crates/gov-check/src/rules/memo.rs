//! The per-item memo of the rule pass: what safety found in each rule, decision rule and
//! invariant, kept from one check to the next, so a keystroke re-runs safety for the items
//! it changed only (issue 10 item 7, step 1 of `docs/architecture.md`, Incrementality).
//!
//! Safety is a function of the item's tree alone: where a variable occurs and how
//! ([`super::Place`]) is syntactic, and the walk records the same occurrences whatever the
//! symbol table says. The tree it reads is the one the lists' rewrite
//! ([`crate::compound`]) left, which depends on the declared field types. An entry is
//! keyed by the tree's origin ([`gov_syntax::ast::Origin`]): the parse gives a tree it builds a fresh origin and a
//! tree it moves after an edit (to where its text now stands) the origin of the tree it
//! copied, and the rewrite gives a tree it changes a fresh origin. So an item found is the
//! tree safety ran on with every span moved by one distance (the difference of the two
//! items' starts), and its diagnostics and spans are moved by that distance too, with the
//! code that moves the parse's own diagnostics ([`Diagnostic::shift`], [`Span::shifted`]):
//! an edit that changes the text's length re-runs safety for the items it changed only,
//! not for every item after it. A rewritten item is a new origin every check and is never
//! found.

use super::summary::Walk;
use crate::hash::HashMap;
use gov_diag::{Diagnostic, Span};
use gov_syntax::ast::{Item, ItemAt};
use std::num::NonZeroU64;
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

impl Safety {
    /// The same result for the item moved `by` bytes (modulo 2³², as the parse moves it).
    fn shift(&mut self, by: u32) {
        self.diagnostics.iter_mut().for_each(|d| d.shift(by));
        self.inventing.iter_mut().for_each(|(span, _)| *span = span.shifted(by));
    }
}

/// How large the last check's package-wide tables of the rule pass grew: the next check
/// reserves as much, so that a keystroke does not grow (and copy) them step by step.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Sizes {
    pub(super) nodes: usize,
    pub(super) edges: usize,
    pub(super) body_refs: usize,
    pub(super) head_refs: usize,
    pub(super) work: usize,
    pub(super) pending: usize,
    /// Variable occurrences with a type.
    pub(super) types: usize,
}

/// One item's entry: where the item it was computed for stood, and safety's result there;
/// and the item's walk, if it is kept ([`super::summary`]: the walk holds where its own tree
/// stood).
#[derive(Debug)]
struct Entry {
    at: Span,
    safety: Safety,
    walk: Option<Arc<Walk>>,
    /// The last check that found or made it ([`ItemMemo::check`]).
    check: u64,
}

/// Safety's results by item, from the last check and the one under way (one map: an entry
/// found or made by the check under way is marked with it), with what else a check keeps
/// for the next (the sizes of the rule pass's tables, the recursive components).
/// Pass the same memo to every check of a package ([`crate::check_with`]); only the items
/// of the last check are kept, so the entries of items an edit changed are dropped with the
/// next check.
// Invariant: an entry's `at` is the span of an item with the entry's origin, and its
// `safety` is safety's result for that item (`Origin`: every tree with that origin is
// that item moved).
#[derive(Debug, Default)]
pub struct ItemMemo {
    entries: HashMap<NonZeroU64, Entry>,
    /// The number of the check under way (or the last one, between checks).
    pub(super) check: u64,
    computed: usize,
    /// How many rules, decision rules and invariants this check walked rather than
    /// replayed from a kept walk.
    pub(super) walked: usize,
    /// How many of the package's rules, decision rules and invariants this check typed
    /// rather than found typed in a kept cluster ([`super::clusters`]).
    pub(super) typed: usize,
    /// The last check's sizes.
    pub(super) sizes: Sizes,
    /// The last check's recursive components, for stratification.
    pub(crate) components: crate::strata::ComponentsMemo,
    /// The types of the last check's clusters of rules.
    pub(super) clusters: super::clusters::ClusterMemo,
    /// The last check's declarations, if collecting them reported nothing.
    pub(crate) symbols: Option<crate::symbols::KeptSymbols>,
    /// Whether the last check collected its declarations rather than moved the kept ones.
    pub(crate) collected: bool,
}

impl ItemMemo {
    /// How many items the last check ran safety on rather than found here.
    pub fn computed(&self) -> usize {
        self.computed
    }

    /// How many rules, decision rules and invariants the last check walked rather than
    /// replayed the walk kept here.
    pub fn walked(&self) -> usize {
        self.walked
    }

    /// How many of the package's rules, decision rules and invariants the last check typed
    /// rather than found typed in a cluster kept from the check before.
    pub fn typed(&self) -> usize {
        self.typed
    }

    /// Whether the last check collected the package's declarations rather than found them
    /// kept from the check before ([`crate::symbols`]'s `kept`).
    pub fn collected(&self) -> bool {
        self.collected
    }

    /// Starts a check: the entries of the last one are the ones to find.
    pub(crate) fn begin(&mut self) {
        self.check += 1;
        self.computed = 0;
        self.walked = 0;
        self.typed = 0;
    }

    /// Ends a check: the entries and clusters it did not find or keep are dropped.
    pub(crate) fn end(&mut self) {
        let check = self.check;
        self.entries.retain(|_, entry| entry.check == check);
        self.clusters.end(check);
    }

    /// Safety's result for `item`: the last check's for a tree with its origin (moved to
    /// where `item` stands) if it had one, else `compute`'s.
    pub(super) fn get_or(&mut self, item: &Item, compute: impl FnOnce() -> Safety) -> Safety {
        let check = self.check;
        // A tree built outside the parser has no origin to be found by: nothing is kept.
        let Some(key) = item.origin.id() else {
            self.computed += 1;
            return compute();
        };
        match self.entries.get_mut(&key) {
            // Trees of two files never share an origin, and a span's file is not moved.
            Some(entry) if entry.at.file == item.span.file => {
                let by = item.span.start.wrapping_sub(entry.at.start);
                if by != 0 {
                    entry.safety.shift(by);
                    entry.at = item.span;
                }
                entry.check = check;
                entry.safety.clone()
            }
            _ => {
                self.computed += 1;
                let safety = compute();
                self.entries.insert(key, Entry { at: item.span, safety: safety.clone(), walk: None, check });
                safety
            }
        }
    }

    /// The walk kept for `item`'s tree (moved or not) by a check whose declarations had the
    /// fingerprint `epoch`, if there is one; the entry is then this check's.
    pub(super) fn walk(&mut self, item: &ItemAt, epoch: u64) -> Option<Arc<Walk>> {
        let entry = self.entries.get_mut(&item.origin().id()?)?;
        if entry.at.file != item.span().file {
            return None;
        }
        let walk = entry.walk.as_ref().filter(|walk| walk.epoch == epoch)?;
        entry.check = self.check;
        Some(Arc::clone(walk))
    }

    /// Keeps `walk` as `item`'s (whose safety this check has computed or found); whether it
    /// is kept (a tree without an origin, or without an entry, keeps nothing).
    pub(super) fn keep_walk(&mut self, item: &Item, walk: Arc<Walk>) -> bool {
        match item.origin.id().and_then(|key| self.entries.get_mut(&key)) {
            Some(entry) => {
                entry.walk = Some(walk);
                true
            }
            None => false,
        }
    }
}
