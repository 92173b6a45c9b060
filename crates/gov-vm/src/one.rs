//! Input relations held as their one row.
//!
//! Most requests give an input relation at most one fact (a relation declared `input one`
//! exactly one: the request contract, [`crate::contract`]), so a decision keeps such a
//! relation as that row alone: no duplicate set, no index, nothing to clear. Each input
//! relation has a fixed place in one buffer of values the session keeps ([`OneRows`]);
//! storing the request's first fact of it is a copy into it, and a scan reads the row's
//! columns straight into registers. A second fact of a relation not declared `one` moves
//! both into the relation's [`crate::store::Relation`] (the relation is then held as any
//! other for the rest of the request); for an `input one` relation it breaks the contract,
//! which is checked in the same pass: a stamp per relation says whether this request
//! already gave it a fact.
//!
//! Only [`crate::Engine::decide_in`] holds them so; an explaining evaluation stores them
//! in their [`crate::store::Relation`] like any other, so that its facts have row ids.

use crate::program::{Program, RelationKind};
use crate::value::Value;
use std::ops::Range;

/// Where each input relation's row lies in a session's buffer (the engine's part).
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
    /// The slots of `program`'s input relations.
    pub(crate) fn of(program: &Program) -> OneSlots {
        let mut slots = OneSlots { slot: Vec::with_capacity(program.relations.len()), ..OneSlots::default() };
        for schema in &program.relations {
            if schema.kind == RelationKind::Input {
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

    /// The slot of relation `rel`, if it is an input relation.
    #[inline]
    pub(crate) fn slot(&self, rel: u32) -> Option<usize> {
        self.slot.get(rel as usize).copied().filter(|&s| s != NONE).map(|s| s as usize)
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
        OneRows { values: vec![Value::Int(0); self.width], stamps: vec![(0, false); self.ranges.len()], request: 0 }
    }
}

/// A session's rows of the input relations (the session's part of [`OneSlots`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct OneRows {
    values: Vec<Value>,
    /// For each slot, the request that last stored its row, and whether that request gave
    /// the relation more facts (which are then in its store, not here).
    // Invariant: a slot holds the current request's row iff its stamp is `(request,
    // false)`; `request` only grows, so a new request starts with no row stored without
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
    /// The relation's third or later fact: it goes into the relation's store.
    More,
}

impl OneRows {
    /// Starts a new request: no slot holds a row.
    pub(crate) fn begin(&mut self) {
        self.request += 1;
    }

    /// Stores `values` as the row of slot `slot` of `slots`, unless this request gave the
    /// relation a fact already. A fact of the wrong width is not stored (the caller
    /// checked the shape first).
    pub(crate) fn store(&mut self, slots: &OneSlots, slot: usize, values: &[Value]) -> Stored<'_> {
        let Some(stamp) = self.stamps.get_mut(slot) else { return Stored::More };
        let range = slots.ranges.get(slot).cloned().unwrap_or_default();
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

    /// The current request's row of relation `rel`, if it is an input relation held as
    /// its one row.
    #[inline]
    pub(crate) fn row<'a>(&'a self, slots: &OneSlots, rel: u32) -> Option<&'a [Value]> {
        let slot = slots.slot(rel)?;
        if !self.holds(slot) {
            return None;
        }
        self.values.get(slots.ranges.get(slot)?.clone())
    }

    /// Whether slot `slot` holds the current request's row.
    #[inline(always)]
    fn holds(&self, slot: usize) -> bool {
        self.stamps.get(slot).is_some_and(|&(request, more)| request == self.request && !more)
    }
}

/// The input rows an evaluation reads: the engine's slots and a session's rows.
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

    /// Whether relation `rel` is held as its row ([`Ones::row`] without reading it).
    #[inline(always)]
    pub(crate) fn holds(self, rel: u32) -> bool {
        self.slots.slot(rel).is_some_and(|slot| self.rows.holds(slot))
    }
}
