//! The join kernel: the commonest shape of a recursive stratum's delta rule, run as one
//! loop over rows in their byte form instead of through the interpreter.
//!
//! The shape is one scan of the previous round's rows of a relation (Δ), one index probe of
//! a relation per Δ row, optional comparisons, and an emit:
//!
//! ```text
//!   0  scan       reach Δ  bind #0 → r0, #1 → r1
//!   1  scan       edge  index 0 (src = r1)  bind dst → r2
//!   2  emit       reach(r0, r2)
//! ```
//!
//! (`reach(x, z) :- reach(x, y), edge(y, z)`, its mirror, a hierarchy's `manages`, each
//! atom's variant of a non-linear rule). [`Kernels::of`] picks the rules of that shape when
//! the engine is built, from the validated program, and resolves every register to the
//! bytes of the row it was bound from: a Δ row's column, a probed row's column, or a
//! constant. A run then reads each Δ row's bytes, takes the probe's key straight from them
//! (no values built, nothing encoded), follows the index chain, and appends each emitted
//! row as the head relation's bytes, which [`crate::store::Relation::insert_encoded`]
//! stores after the round without encoding it again.
//!
//! A run does exactly what the interpreter would, in the same order: the same rows emitted
//! in the same order (so stored under the same ids), the same instructions counted against
//! the step limit at the same points, each emitted row charged as a fact until stored. A
//! rule is taken only where that holds by construction: every column compared, checked or
//! used as a key compares as bytes (no `Decimal`: `1.5 = 1.50` in different bytes), every
//! value emitted has its head column's type, every register is bound before it is read,
//! and the head has columns. Explaining evaluations (which record premises) and a probe of
//! an input relation a decision holds as its one row run through the interpreter.
// `EvalError` owns strings in some variants, so it has a destructor: `ok_or_else` builds
// one only on failure (see eval.rs).
#![allow(clippy::unnecessary_lazy_evaluations)]

use crate::layout::Layout;
use crate::limits::{Budget, row_bytes};
use crate::program::{Instr, Operand, Program, Source, Stratum};
use crate::store::{Relation, append};
use crate::{EvalError, Limits, Value};
use gov_value::{BaseType, CompareOp};

/// The rules of a program that run as [`Join`]s.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kernels {
    /// For each rule, its position in `joins`, or `NONE`; empty when no rule is a join.
    slots: Vec<u32>,
    joins: Vec<Join>,
}

const NONE: u32 = u32::MAX;

impl Kernels {
    /// The joins among the delta rules of `program`'s recursive strata.
    pub(crate) fn of(program: &Program) -> Kernels {
        let mut kernels = Kernels::default();
        for stratum in &program.strata {
            let Stratum::Rules { delta_rules, .. } = stratum else { continue };
            for &rule in delta_rules {
                let Some(join) = Join::of(program, rule) else { continue };
                let Ok(at) = u32::try_from(kernels.joins.len()) else { continue };
                if kernels.slots.is_empty() {
                    kernels.slots = vec![NONE; program.rules.len()];
                }
                if let Some(slot) = kernels.slots.get_mut(rule as usize) {
                    *slot = at;
                    kernels.joins.push(join);
                }
            }
        }
        kernels
    }

    /// The join `rule` runs as, if it is one.
    #[inline]
    pub(crate) fn get(&self, rule: u32) -> Option<&Join> {
        let at = *self.slots.get(rule as usize)?;
        self.joins.get(at as usize)
    }
}

/// Which row a piece of bytes is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowOf {
    /// The Δ row.
    Delta,
    /// The probed row.
    Probe,
    /// [`Join::constants`].
    Const,
}

/// The bytes of one value: `len` bytes at `at` of a row (or of the constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    from: RowOf,
    at: u32,
    len: u32,
    ty: BaseType,
}

/// A comparison of two values of one type.
#[derive(Debug, Clone, Copy)]
struct Comparison {
    op: CompareOp,
    left: Piece,
    right: Piece,
    /// Compared as numbers (`Int`, `Time`, `Duration`: 8 little-endian bytes); otherwise
    /// only `=` and `!=`, as bytes.
    numbers: bool,
}

/// A delta rule of the kernel's shape, resolved to bytes (see the module's comment).
#[derive(Debug, Clone)]
pub(crate) struct Join {
    /// The relation whose previous round's rows are scanned.
    delta: u32,
    /// Pairs of values of each Δ row that must be equal.
    delta_checks: Vec<(Piece, Piece)>,
    /// The relation probed, and its index.
    probe: u32,
    index: usize,
    /// The probe's key, in index column order.
    key: Vec<Piece>,
    /// Pairs of values that must be equal in each probed row.
    probe_checks: Vec<(Piece, Piece)>,
    comparisons: Vec<Comparison>,
    /// The head relation, and its row's values in column order.
    head: u32,
    emit: Vec<Piece>,
    /// The constants the pieces read, encoded.
    constants: Vec<u8>,
}

impl Join {
    /// The relation the Δ scan reads.
    pub(crate) fn delta(&self) -> u32 {
        self.delta
    }

    /// The relation the probe reads.
    pub(crate) fn probe(&self) -> u32 {
        self.probe
    }

    /// The relation the rule derives.
    pub(crate) fn head(&self) -> u32 {
        self.head
    }

    /// `rule` of `program` as a join, if it has the kernel's shape.
    pub(crate) fn of(program: &Program, rule: u32) -> Option<Join> {
        let code = program.rules.get(rule as usize)?;
        let layout =
            |rel: u32| program.relations.get(rel as usize).map(|r| Layout::new(r.columns.iter().map(|c| c.ty)));
        let mut builder = Builder { regs: vec![None; usize::from(code.registers)], constants: Vec::new(), program };
        let mut instrs = code.code.iter();
        let Some(Instr::Scan { rel: delta, source: Source::Delta, index: None, key, binds, checks }) = instrs.next()
        else {
            return None;
        };
        if !key.is_empty() {
            return None;
        }
        let delta_layout = layout(*delta)?;
        let delta_checks = builder.scan(&delta_layout, RowOf::Delta, binds, checks)?;
        let Some(Instr::Scan { rel: probe, source: Source::Full, index: Some(index), key, binds, checks }) =
            instrs.next()
        else {
            return None;
        };
        let probe_layout = layout(*probe)?;
        let columns = program.relations.get(*probe as usize)?.indexes.get(usize::from(*index))?;
        if columns.len() != key.len() || key.is_empty() {
            return None;
        }
        let key = columns
            .iter()
            .zip(key)
            .map(|(&column, operand)| {
                let piece = builder.operand(*operand)?;
                let (ty, _) = column_of(&probe_layout, column)?;
                (piece.ty == ty && ty != BaseType::Decimal).then_some(piece)
            })
            .collect::<Option<Vec<Piece>>>()?;
        let probe_checks = builder.scan(&probe_layout, RowOf::Probe, binds, checks)?;
        let mut comparisons = Vec::new();
        let (head, values) = loop {
            match instrs.next()? {
                Instr::Compare { op, left, right } => {
                    let (left, right) = (builder.operand(*left)?, builder.operand(*right)?);
                    let numbers = matches!(left.ty, BaseType::Int | BaseType::Time | BaseType::Duration);
                    let bytes = matches!(op, CompareOp::Eq | CompareOp::Ne) && left.ty != BaseType::Decimal;
                    if left.ty != right.ty || !(numbers || bytes) {
                        return None;
                    }
                    comparisons.push(Comparison { op: *op, left, right, numbers });
                }
                Instr::Emit { rel, values } => break (*rel, values),
                _ => return None,
            }
        };
        if instrs.next().is_some() {
            return None;
        }
        let head_layout = layout(head)?;
        if values.is_empty() || values.len() != head_layout.arity() {
            return None;
        }
        let emit = values
            .iter()
            .enumerate()
            .map(|(column, operand)| {
                let piece = builder.operand(*operand)?;
                let (ty, _) = column_of(&head_layout, u8::try_from(column).ok()?)?;
                (piece.ty == ty).then_some(piece)
            })
            .collect::<Option<Vec<Piece>>>()?;
        Some(Join {
            delta: *delta,
            delta_checks,
            probe: *probe,
            index: usize::from(*index),
            key,
            probe_checks,
            comparisons,
            head,
            emit,
            constants: builder.constants,
        })
    }

    /// Runs the rule over rows `range` of `delta` (the previous round's) and `probe`,
    /// appending each row it emits to `out` in the head relation's bytes; each emitted row
    /// counts as a fact against `limits` until stored, and each instruction the interpreter
    /// would run as a step.
    #[inline(never)]
    pub(crate) fn run(
        &self,
        delta: &Relation,
        probe: &Relation,
        range: (u32, u32),
        budget: &mut Budget,
        limits: &Limits,
        out: &mut Vec<u8>,
    ) -> Result<(), EvalError> {
        // The Δ scan.
        budget.step(limits)?;
        let rows = u32::try_from(delta.len()).unwrap_or(u32::MAX);
        let (first, end) = (range.0.min(rows), range.1.min(rows));
        let fact = row_bytes(self.emit.len());
        // Invariant: the probed relation was made from the schema `Join::of` read, whose
        // index `self.index` has columns that compare as bytes.
        let index = probe.probe_bytes(self.index).ok_or_else(|| EvalError::Corrupt("a join's index is missing"))?;
        let empty = probe.is_empty();
        let mut scratch = Vec::new();
        for id in first..end {
            let row = delta.row_bytes(id);
            if !self.delta_checks.iter().all(|&(a, b)| self.bytes(a, row, &[]) == self.bytes(b, row, &[])) {
                continue;
            }
            // The probe.
            budget.step(limits)?;
            if empty {
                continue;
            }
            let key = match self.key.as_slice() {
                [piece] => self.bytes(*piece, row, &[]),
                pieces => {
                    scratch.clear();
                    pieces.iter().for_each(|&p| append(&mut scratch, self.bytes(p, row, &[])));
                    &scratch
                }
            };
            let mut at = index.first(key);
            while let Some(found) = at {
                at = index.next(found);
                let probed = index.row(found);
                let holds = |&(a, b): &(Piece, Piece)| self.bytes(a, row, probed) == self.bytes(b, row, probed);
                if !self.probe_checks.iter().all(holds) || !self.compare(row, probed, budget, limits)? {
                    continue;
                }
                // The emit.
                budget.step(limits)?;
                budget.charge(limits, 1, fact)?;
                for &piece in &self.emit {
                    append(out, self.bytes(piece, row, probed));
                }
            }
        }
        Ok(())
    }

    /// Whether every comparison holds for a Δ row and a probed row, each counted as a step
    /// until one fails.
    #[inline]
    fn compare(&self, row: &[u8], probed: &[u8], budget: &mut Budget, limits: &Limits) -> Result<bool, EvalError> {
        for c in &self.comparisons {
            budget.step(limits)?;
            let (left, right) = (self.bytes(c.left, row, probed), self.bytes(c.right, row, probed));
            let ordering = if c.numbers {
                number(left).cmp(&number(right))
            } else if left == right {
                std::cmp::Ordering::Equal
            } else {
                // Only `=` and `!=` compare as bytes: unequal is all they need.
                std::cmp::Ordering::Less
            };
            if !c.op.holds(ordering) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The bytes of `piece`, read from the Δ row `row`, the probed row `probed` or the
    /// constants.
    #[inline(always)]
    fn bytes<'r>(&'r self, piece: Piece, row: &'r [u8], probed: &'r [u8]) -> &'r [u8] {
        let source = match piece.from {
            RowOf::Delta => row,
            RowOf::Probe => probed,
            RowOf::Const => &self.constants,
        };
        // Invariant: a piece lies within its row (`Join::of` took it from the row's layout,
        // and every row of a relation has its layout's width) or within the constants.
        source.get(piece.at as usize..(piece.at + piece.len) as usize).unwrap_or_default()
    }
}

/// An 8-byte number column's value.
#[inline(always)]
fn number(bytes: &[u8]) -> i64 {
    <[u8; 8]>::try_from(bytes).map_or(0, i64::from_le_bytes)
}

/// The type and bytes of column `column` of a layout.
fn column_of(layout: &Layout, column: u8) -> Option<(BaseType, std::ops::Range<usize>)> {
    let span = layout.span(usize::from(column))?;
    Some((layout.type_of(usize::from(column))?, span))
}

/// What [`Join::of`] tracks while it reads a rule: where each register's value is.
struct Builder<'p> {
    regs: Vec<Option<Piece>>,
    constants: Vec<u8>,
    program: &'p Program,
}

impl Builder<'_> {
    /// Binds a scan's columns to registers and resolves its checks (after its binds, as
    /// the interpreter reads them): the pairs of pieces that must be equal.
    fn scan(
        &mut self,
        layout: &Layout,
        from: RowOf,
        binds: &[(u8, u16)],
        checks: &[(u8, Operand)],
    ) -> Option<Vec<(Piece, Piece)>> {
        let piece = |column: u8| {
            let (ty, span) = column_of(layout, column)?;
            Some(Piece { from, at: u32::try_from(span.start).ok()?, len: u32::try_from(span.len()).ok()?, ty })
        };
        for &(column, reg) in binds {
            *self.regs.get_mut(usize::from(reg))? = Some(piece(column)?);
        }
        checks
            .iter()
            .map(|&(column, operand)| {
                let (column, value) = (piece(column)?, self.operand(operand)?);
                (column.ty == value.ty && column.ty != BaseType::Decimal).then_some((column, value))
            })
            .collect()
    }

    /// Where an operand's value is: the row a register was bound from, or a constant
    /// (encoded once); `None` for a register not bound yet.
    fn operand(&mut self, operand: Operand) -> Option<Piece> {
        match operand {
            Operand::Reg(reg) => *self.regs.get(usize::from(reg))?,
            Operand::Const(c) => {
                let value: Value = *self.program.constants.get(c as usize)?;
                let ty = value.base_type();
                let at = u32::try_from(self.constants.len()).ok()?;
                Layout::new([ty]).push(0, value, false, &mut self.constants).ok()?;
                let len = u32::try_from(self.constants.len()).ok()? - at;
                Some(Piece { from: RowOf::Const, at, len, ty })
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    //! The join kernels against the interpreter: the same programs, one engine taking the
    //! kernels and one running every rule through the interpreter, must agree on every
    //! decision, every stored row (in order: row ids), and every limit error (the same
    //! work counted at the same points), over random graphs with cycles, self-loops and
    //! repeated edges.

    use super::Kernels;
    use crate::program::*;
    use crate::{Engine, Limits, Value};
    use gov_value::{BaseType, CompareOp};
    use proptest::prelude::*;
    use std::fmt::Write;

    const EDGE: u32 = 0;
    const R: u32 = 1;
    const PE: u32 = 2;
    const START: u32 = 3;
    const RS: u32 = 4;
    const LINK: u32 = 5;
    const SR: u32 = 6;
    const TAGGED: u32 = 7;
    const PD: u32 = 8;
    const DR: u32 = 9;
    const RELATIONS: u32 = 10;

    const fn reg(r: u16) -> Operand {
        Operand::Reg(r)
    }
    const ZERO: Operand = Operand::Const(0);
    const ONE: Operand = Operand::Const(1);
    const SIX: Operand = Operand::Const(2);
    const TAG: Operand = Operand::Const(3);

    fn delta(rel: u32, binds: &[(u8, u16)], checks: &[(u8, Operand)]) -> Instr {
        Instr::Scan {
            rel,
            source: Source::Delta,
            index: None,
            key: Vec::new(),
            binds: binds.to_vec(),
            checks: checks.to_vec(),
        }
    }

    fn probe(rel: u32, index: u16, key: &[Operand], binds: &[(u8, u16)], checks: &[(u8, Operand)]) -> Instr {
        Instr::Scan {
            rel,
            source: Source::Full,
            index: Some(index),
            key: key.to_vec(),
            binds: binds.to_vec(),
            checks: checks.to_vec(),
        }
    }

    fn scan(rel: u32, binds: &[(u8, u16)]) -> Instr {
        Instr::Scan {
            rel,
            source: Source::Full,
            index: None,
            key: Vec::new(),
            binds: binds.to_vec(),
            checks: Vec::new(),
        }
    }

    fn emit(rel: u32, values: &[Operand]) -> Instr {
        Instr::Emit { rel, values: values.to_vec() }
    }

    fn compare(op: CompareOp, left: Operand, right: Operand) -> Instr {
        Instr::Compare { op, left, right }
    }

    /// `r(x, y) :- edge(x, y, _)`.
    fn edges_into(rel: u32) -> Vec<Instr> {
        vec![scan(EDGE, &[(0, 0), (1, 1)]), emit(rel, &[reg(0), reg(1)])]
    }

    /// `reach(x, z) :- Δreach(x, y), edge(y, z, _)` over `rel` probing `edges` by `src`.
    fn closure(rel: u32, edges: u32) -> Vec<Instr> {
        vec![
            delta(rel, &[(0, 0), (1, 1)], &[]),
            probe(edges, 0, &[reg(1)], &[(1, 2)], &[]),
            emit(rel, &[reg(0), reg(2)]),
        ]
    }

    /// A program's rules and strata, as a case builds them.
    #[derive(Default)]
    struct Build {
        rules: Vec<Vec<Instr>>,
        strata: Vec<Stratum>,
    }

    impl Build {
        fn stratum(mut self, phase: Phase, rules: Vec<Vec<Instr>>, deltas: Vec<Vec<Instr>>) -> Build {
            let mut ids = |rules: Vec<Vec<Instr>>| {
                rules
                    .into_iter()
                    .map(|code| {
                        self.rules.push(code);
                        self.rules.len() as u32 - 1
                    })
                    .collect::<Vec<u32>>()
            };
            let (rules, delta_rules) = (ids(rules), ids(deltas));
            self.strata.push(Stratum::Rules { phase, rules, delta_rules });
            self
        }

        /// A decision stratum: `deny d :- rel(a, b)` for each relation given.
        fn deny(self, rels: &[u32]) -> Build {
            let rules = rels
                .iter()
                .map(|&rel| {
                    vec![scan(rel, &[(0, 0), (1, 1)]), Instr::Fire { decision: 0, values: vec![reg(0), reg(1)] }]
                })
                .collect();
            self.stratum(Phase::Request, rules, Vec::new())
        }
    }

    /// Each case: its rules, and how many of its delta rules take the kernel.
    fn case(which: usize) -> (Build, usize) {
        use CompareOp::{Lt, Ne};
        use Phase::{Request, Static};
        let b = Build::default();
        match which {
            // The closure and its mirror.
            0 => (b.stratum(Request, vec![edges_into(R)], vec![closure(R, EDGE)]).deny(&[R]), 1),
            1 => {
                let mirror = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 1, &[reg(0)], &[(0, 2)], &[]),
                    emit(R, &[reg(2), reg(1)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![mirror]).deny(&[R]), 1)
            }
            // Non-linear: each atom's variant probes the other through the head itself.
            2 => {
                let left = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(R, 0, &[reg(1)], &[(1, 2)], &[]),
                    emit(R, &[reg(0), reg(2)]),
                ];
                let right = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(R, 1, &[reg(0)], &[(0, 2)], &[]),
                    emit(R, &[reg(2), reg(1)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![left, right]).deny(&[R]), 2)
            }
            // A key with a constant, comparisons, a check of the probed row against a
            // register it rebinds, and a check within the Δ row.
            3 => {
                let keyed = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 2, &[reg(1), ONE], &[(1, 2)], &[]),
                    compare(Ne, reg(2), reg(0)),
                    compare(Lt, reg(2), SIX),
                    emit(R, &[reg(0), reg(2)]),
                ];
                let rebound = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 0, &[reg(1)], &[(1, 1)], &[(2, reg(1))]),
                    emit(R, &[reg(0), reg(1)]),
                ];
                let loops = vec![
                    delta(R, &[(0, 0)], &[(1, reg(0))]),
                    probe(EDGE, 0, &[reg(0)], &[(1, 2)], &[]),
                    emit(R, &[reg(2), reg(0)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![keyed, rebound, loops]).deny(&[R]), 3)
            }
            // A probe of the whole row (the dedup set), constant in the key.
            4 => {
                let whole = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 3, &[reg(1), reg(0), ZERO], &[], &[]),
                    emit(R, &[reg(1), reg(0)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![whole, closure(R, EDGE)]).deny(&[R]), 2)
            }
            // At load over data, and per request probing the data.
            5 => {
                let from_start =
                    vec![scan(START, &[(0, 0)]), probe(PE, 0, &[reg(0)], &[(1, 1)], &[]), emit(R, &[reg(0), reg(1)])];
                let base = vec![scan(PE, &[(0, 0), (1, 1)]), emit(RS, &[reg(0), reg(1)])];
                let b = b.stratum(Static, vec![base], vec![closure(RS, PE)]);
                (b.stratum(Request, vec![from_start], vec![closure(R, PE)]).deny(&[R, RS]), 2)
            }
            // Strings: a `!=` of symbols.
            6 => {
                let base = vec![scan(LINK, &[(0, 0), (1, 1)]), emit(SR, &[reg(0), reg(1)])];
                let step = vec![
                    delta(SR, &[(0, 0), (1, 1)], &[]),
                    probe(LINK, 0, &[reg(1)], &[(1, 2)], &[]),
                    compare(Ne, reg(2), reg(0)),
                    emit(SR, &[reg(0), reg(2)]),
                ];
                (b.stratum(Request, vec![base], vec![step]).deny(&[SR]), 1)
            }
            // A constant emitted.
            7 => {
                let base = vec![scan(EDGE, &[(0, 0)]), emit(TAGGED, &[reg(0), TAG])];
                let step = vec![
                    delta(TAGGED, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 0, &[reg(0)], &[(1, 2)], &[]),
                    emit(TAGGED, &[reg(2), TAG]),
                ];
                (b.stratum(Request, vec![base], vec![step]).deny(&[TAGGED]), 1)
            }
            // Decimals are carried as bytes, but a key of one is left to the interpreter.
            8 => {
                let base = vec![scan(PD, &[(0, 0), (1, 1)]), emit(DR, &[reg(0), reg(1)])];
                let carried = vec![
                    delta(DR, &[(0, 0), (1, 1)], &[]),
                    probe(PE, 0, &[reg(0)], &[(1, 2)], &[]),
                    emit(DR, &[reg(2), reg(1)]),
                ];
                let keyed = vec![
                    delta(DR, &[(0, 0), (1, 1)], &[]),
                    probe(PD, 0, &[reg(1)], &[(0, 2)], &[]),
                    emit(DR, &[reg(2), reg(1)]),
                ];
                (b.stratum(Static, vec![base], vec![carried, keyed]).deny(&[DR]), 1)
            }
            // A register read before it is bound (the interpreter reads 0): not a join.
            _ => {
                let unbound = vec![
                    delta(R, &[(0, 0)], &[]),
                    probe(EDGE, 0, &[reg(1)], &[(1, 2)], &[]),
                    emit(R, &[reg(0), reg(2)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![unbound]).deny(&[R]), 0)
            }
        }
    }

    const CASES: usize = 10;

    /// The program of case `which` with data `pe` and `pd`.
    fn program(which: usize, pe: &[(i64, i64, i64)], pd: &[(i64, &str)]) -> (Program, usize) {
        let strings = [
            "edge", "src", "dst", "w", "Int", "r", "pe", "start", "x", "rs", "link", "a", "b", "Str", "sr", "tagged",
            "pd", "v", "Decimal", "dr", "d", "t.gov", "t",
        ]
        .map(str::to_owned)
        .to_vec();
        let column = |name: Option<u32>, ty| {
            let type_name = match ty {
                BaseType::Str => 13,
                BaseType::Decimal => 18,
                _ => 4,
            };
            ColumnSchema { name, ty, type_name, contents: None }
        };
        let relation = |name, kind, phase, columns, indexes: &[&[u8]]| RelationSchema {
            name,
            kind,
            one: false,
            phase,
            columns,
            indexes: indexes.iter().map(|i| i.to_vec()).collect(),
        };
        let (int, str, decimal) = (BaseType::Int, BaseType::Str, BaseType::Decimal);
        let triple = vec![column(Some(1), int), column(Some(2), int), column(Some(3), int)];
        let pair = |a, b| vec![column(None, a), column(None, b)];
        use Phase::{Request, Static};
        use RelationKind::{Data, Derived, Input};
        let relations = vec![
            relation(0, Input, Request, triple.clone(), &[&[0], &[1], &[0, 2], &[0, 1, 2]]),
            relation(5, Derived, Request, pair(int, int), &[&[0], &[1]]),
            relation(6, Data, Static, triple, &[&[0]]),
            relation(7, Input, Request, vec![column(Some(8), int)], &[]),
            relation(9, Derived, Static, pair(int, int), &[&[0], &[1]]),
            relation(10, Input, Request, vec![column(Some(11), str), column(Some(12), str)], &[&[0]]),
            relation(14, Derived, Request, pair(str, str), &[]),
            relation(15, Derived, Request, pair(int, str), &[]),
            relation(16, Data, Static, vec![column(Some(8), int), column(Some(17), decimal)], &[&[1]]),
            relation(19, Derived, Static, pair(int, decimal), &[]),
        ];
        let source = SourceRef { file: 21, line: 1, column: 1 };
        let decisions = vec![DecisionMeta {
            name: 20,
            effect: Effect::Deny,
            approver: None,
            message: Vec::new(),
            overrides: Vec::new(),
            source,
        }];
        let (build, joins) = case(which);
        let rules = build.rules.into_iter().map(|code| RuleCode { registers: 4, code, source }).collect();
        let pe = pe.iter().flat_map(|&(a, b, c)| [Value::Int(a), Value::Int(b), Value::Int(c)]).collect();
        let pd = pd
            .iter()
            .flat_map(|&(x, v)| [Value::Int(x), Value::Decimal(gov_value::parse_decimal(v).unwrap())])
            .collect();
        let constants = vec![Value::Int(0), Value::Int(1), Value::Int(6), Value::Str(22)];
        let program = Program {
            strings,
            constants,
            relations,
            decisions,
            rules,
            strata: build.strata,
            data: vec![(PE, pe), (PD, pd)],
            ..Program::default()
        };
        (program, joins)
    }

    /// What an engine made of `program` decides on `request` in a new session, twice (the
    /// second in the reused session), with every relation's rows after each; or the error.
    fn outcome(engine: Result<Engine, crate::EvalError>, limits: Limits, request: &str) -> String {
        let engine = match engine {
            Ok(engine) => engine.with_limits(limits),
            Err(error) => return format!("load: {error:?}"),
        };
        let request = engine.request_from_json(request).unwrap();
        let mut session = engine.session();
        let mut out = String::new();
        for _ in 0..2 {
            match engine.decide_in(&mut session, &request) {
                Ok(decision) => {
                    write!(out, "{:?}", decision.to_decision()).unwrap();
                    for rel in 0..RELATIONS {
                        write!(out, "\n{rel}: {:?}", engine.facts(&session, rel)).unwrap();
                    }
                }
                Err(error) => write!(out, "{error:?}").unwrap(),
            }
            out.push('\n');
        }
        out
    }

    fn edges() -> impl Strategy<Value = Vec<(i64, i64, i64)>> {
        // Few nodes, so that cycles, self-loops and repeated edges are common.
        proptest::collection::vec((0i64..7, 0i64..7, 0i64..3), 0..24)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn kernels_derive_what_the_interpreter_derives(
            which in 0..CASES,
            edge in edges(),
            pe in edges(),
            start in proptest::collection::vec(0i64..7, 0..3),
            link in proptest::collection::vec((0usize..4, 0usize..4), 0..12),
            pd in proptest::collection::vec((0i64..7, 0usize..3), 0..6),
            tight in any::<bool>(),
            steps in 1u64..500,
            facts in 1usize..120,
            bytes in 1usize..8_000,
            rounds in 1u32..8,
        ) {
            let mut distinct_pe = pe.clone();
            distinct_pe.sort_unstable();
            distinct_pe.dedup();
            let decimals = ["1.5", "1.50", "2"];
            let mut pd: Vec<(i64, &str)> = pd.iter().map(|&(x, v)| (x, decimals[v])).collect();
            pd.sort_unstable_by_key(|&(x, _)| x);
            pd.dedup_by_key(|&mut (x, _)| x);
            let (program, joins) = program(which, &distinct_pe, &pd);
            prop_assert_eq!(Kernels::of(&program).joins.len(), joins);
            let names = ["a", "b", "c", "d"];
            let request = serde_json::json!({
                "edge": edge.iter().map(|&(s, d, w)| serde_json::json!({"src": s, "dst": d, "w": w})).collect::<Vec<_>>(),
                "start": start.iter().map(|&x| serde_json::json!({"x": x})).collect::<Vec<_>>(),
                "link": link.iter().map(|&(a, b)| serde_json::json!({"a": names[a], "b": names[b]})).collect::<Vec<_>>(),
            })
            .to_string();
            let limits = if tight {
                Limits { max_steps: steps, max_facts: facts, max_fact_bytes: bytes, max_rounds: rounds, ..Limits::LOAD }
            } else {
                Limits::LOAD
            };
            let kernels = outcome(Engine::from_program(program.clone(), String::new(), limits), limits, &request);
            let interpreted = outcome(Engine::interpreted(program, limits), limits, &request);
            prop_assert_eq!(kernels, interpreted);
        }
    }
}
