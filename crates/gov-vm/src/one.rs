//! Input relations, and derived ones, held as their one row.
//!
//! Most requests give an input relation at most one fact (a relation declared `input one`
//! exactly one: the request contract, [`crate::contract`]), so a decision keeps such a
//! relation as that row alone: no duplicate set, no index, nothing to clear. Each input
//! relation has a fixed place in one buffer of values the session keeps ([`OneRows`], in
//! [`crate::eval::Work`]);
//! storing the request's first fact of it is a copy into it, and a scan reads the row's
//! columns straight into registers. A second fact of a relation not declared `one` moves
//! both into the relation's [`crate::store::Relation`] (the relation is then held as any
//! other for the rest of the request); for an `input one` relation it breaks the contract,
//! which is checked in the same pass: a stamp per relation says whether this request
//! already gave it a fact.
//!
//! A derived relation of the request phase is held so too (most derive one fact per
//! request: `now`, `today`, a call's normalised path), unless a recursive stratum derives
//! it (its rounds read the store's row ranges): its rules' first fact is kept in the same
//! buffer, one equal to it is nothing new, and another moves both into the store, as an
//! input relation's second fact does.
//!
//! Only [`crate::Engine::decide_in`] holds them so; an explaining evaluation stores them
//! in their [`crate::store::Relation`] like any other, so that its facts have row ids.

use crate::dispatch::head;
use crate::program::{Phase, Program, RelationKind, Stratum};
use crate::value::Value;
use std::ops::Range;

/// Where each input relation's row, and each held derived relation's, lies in a session's
/// buffer (the engine's part).
#[derive(Debug, Clone, Default)]
pub(crate) struct OneSlots {
    /// For each relation of the program: its slot (index into `ranges`), or `NONE`.
    slot: Vec<u32>,
    /// Each slot's values in the buffer, in the order of the relations' ids.
    ranges: Vec<Range<usize>>,
    /// Whether each slot's relation is declared `input one`.
    one: Vec<bool>,
    /// How many slots are of `input one` relations.
    ones: usize,
    /// The buffer's length: every slot's columns.
    width: usize,
}

const NONE: u32 = u32::MAX;

impl OneSlots {
    /// The slots of `program`'s input relations and of the derived relations of the
    /// request phase that no recursive stratum derives.
    pub(crate) fn of(program: &Program) -> OneSlots {
        let mut recursive = vec![false; program.relations.len()];
        for stratum in &program.strata {
            if let Stratum::Rules { rules, delta_rules, .. } = stratum
                && !delta_rules.is_empty()
            {
                let heads =
                    rules.iter().chain(delta_rules).filter_map(|&r| program.rules.get(r as usize).and_then(head));
                heads.for_each(|rel| recursive.get_mut(rel as usize).into_iter().for_each(|r| *r = true));
            }
        }
        let mut slots = OneSlots { slot: Vec::with_capacity(program.relations.len()), ..OneSlots::default() };
        for (schema, recursive) in program.relations.iter().zip(recursive) {
            let held_derived = schema.kind == RelationKind::Derived && schema.phase == Phase::Request && !recursive;
            if schema.kind == RelationKind::Input || held_derived {
                let start = slots.width;
                slots.width += schema.columns.len();
                slots.slot.push(u32::try_from(slots.ranges.len()).unwrap_or(NONE));
                slots.ranges.push(start..slots.width);
                slots.one.push(schema.one);
                slots.ones += usize::from(schema.one);
            } else {
                slots.slot.push(NONE);
            }
        }
        slots
    }

    /// The slot of relation `rel`, if it is an input relation or a held derived one.
    #[inline]
    pub(crate) fn slot(&self, rel: u32) -> Option<usize> {
        self.slot.get(rel as usize).copied().filter(|&s| s != NONE).map(|s| s as usize)
    }

    /// Where the row of relation `rel` lies in a session's buffer, if it has a slot.
    #[inline]
    fn range(&self, rel: u32) -> Option<Range<usize>> {
        self.ranges.get(self.slot(rel)?).cloned()
    }

    /// Whether slot `slot` is of a relation declared `input one`.
    pub(crate) fn is_one(&self, slot: usize) -> bool {
        self.one.get(slot).copied().unwrap_or(false)
    }

    /// How many `input one` relations the program has.
    pub(crate) fn ones(&self) -> usize {
        self.ones
    }

    /// A session's empty buffer for these slots.
    pub(crate) fn rows(&self) -> OneRows {
        OneRows { values: vec![Value::Int(0); self.width], stamps: vec![(0, false); self.slot.len()], request: 0 }
    }
}

/// A session's rows of the relations held as their row (the session's part of
/// [`OneSlots`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct OneRows {
    values: Vec<Value>,
    /// For each relation of the program, the request that last held its row, and whether
    /// that request gave the relation more facts (which are then in its store, not here).
    /// By relation rather than by slot: asking whether a relation is held (of every
    /// relation a rule's scan finds empty) is one lookup.
    // Invariant: a relation's row is held iff its stamp is `(request, false)`, and then it
    // has a slot; `request` only grows, so a new request starts with no row held without
    // clearing.
    stamps: Vec<(u64, bool)>,
    /// The number of the current request (0: none yet).
    request: u64,
}

/// What storing a fact in its slot found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    /// The relation's first fact of this request, now its row.
    First,
    /// The relation's second fact of this request: the first one, no longer held here,
    /// goes into the relation's store with this one.
    Second(&'a [Value]),
    /// The relation's third or later fact (or one of a relation without a slot): it goes
    /// into the relation's store.
    More,
}

impl OneRows {
    /// Starts a new request: no relation is held as its row.
    pub(crate) fn begin(&mut self) {
        self.request += 1;
    }

    /// Stores `values` as the row of relation `rel` (whose slot of `slots` is `slot`),
    /// unless this request gave the relation a fact already. A fact of the wrong width is
    /// not stored (the caller checked the shape first).
    pub(crate) fn store(&mut self, slots: &OneSlots, (rel, slot): (u32, usize), values: &[Value]) -> Stored<'_> {
        let (Some(stamp), Some(range)) = (self.stamps.get_mut(rel as usize), slots.ranges.get(slot).cloned()) else {
            return Stored::More;
        };
        match *stamp {
            (request, false) if request == self.request => {
                stamp.1 = true;
                Stored::Second(self.values.get(range).unwrap_or_default())
            }
            (request, true) if request == self.request => Stored::More,
            _ => {
                *stamp = (self.request, false);
                if let Some(row) = self.values.get_mut(range).filter(|row| row.len() == values.len()) {
                    row.copy_from_slice(values);
                }
                Stored::First
            }
        }
    }

    /// [`OneRows::store`] of a derived relation's fact, or `None` when it equals the row
    /// held: nothing new, not a second fact. (Equal as values: two spellings of one
    /// `Decimal` are two facts here, and the store then keeps one.)
    pub(crate) fn hold(&mut self, slots: &OneSlots, (rel, slot): (u32, usize), values: &[Value]) -> Option<Stored<'_>> {
        if self.holds(rel) && slots.ranges.get(slot).and_then(|range| self.values.get(range.clone())) == Some(values) {
            return None;
        }
        Some(self.store(slots, (rel, slot), values))
    }

    /// The row of relation `rel` if this request's is held, no longer held: it goes into
    /// the relation's store (before a fact that arrives there otherwise).
    pub(crate) fn release(&mut self, slots: &OneSlots, (rel, slot): (u32, usize)) -> Option<&[Value]> {
        if !self.holds(rel) {
            return None;
        }
        let stamp = self.stamps.get_mut(rel as usize)?;
        stamp.1 = true;
        self.values.get(slots.ranges.get(slot)?.clone())
    }

    /// The current request's row of relation `rel`, if it is held as its one row.
    #[inline]
    pub(crate) fn row<'a>(&'a self, slots: &OneSlots, rel: u32) -> Option<&'a [Value]> {
        if !self.holds(rel) {
            return None;
        }
        self.values.get(slots.range(rel)?)
    }

    /// Whether relation `rel` is held as its row ([`OneRows::row`] without reading it).
    #[inline(always)]
    pub(crate) fn holds(&self, rel: u32) -> bool {
        self.stamps.get(rel as usize).is_some_and(|&(request, more)| request == self.request && !more)
    }
}

/// The rows held as their one row that an evaluation reads: the engine's slots and a
/// session's rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ones<'a> {
    /// Where each relation's row lies.
    pub slots: &'a OneSlots,
    /// The rows.
    pub rows: &'a OneRows,
}

impl<'a> Ones<'a> {
    /// The row of relation `rel`, if it is held as one.
    #[inline]
    pub(crate) fn row(self, rel: u32) -> Option<&'a [Value]> {
        self.rows.row(self.slots, rel)
    }
}
