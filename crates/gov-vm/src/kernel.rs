//! Kernels: the commonest shapes of a rule, run as one loop over rows in their byte form
//! instead of through the interpreter.
//!
//! A kernel is a **scan** of one relation (every row, or the previous round's: Δ) with
//! checks within the row and against constants, then optionally one **index probe** of a
//! relation per row (a join), then comparisons, and a head: an emit into a derived
//! relation or a decision's firing.
//!
//! ```text
//!   0  scan       reach Δ  bind #0 → r0, #1 → r1          a join: a recursive stratum's
//!   1  scan       edge  index 0 (src = r1)  bind dst → r2    delta rule
//!   2  emit       reach(r0, r2)
//!
//!   0  scan       reach  bind #0 → r0  check #1 = r0        a scan feeding a decision
//!   1  fire       deny cycle(r0)
//! ```
//!
//! (`reach(x, z) :- reach(x, y), edge(y, z)`, its mirror, a hierarchy's `manages`, each
//! atom's variant of a non-linear rule; `deny cycle :- reach(x, x)`, `r(x, y) :- edge(x,
//! y), x != y`, a recursive stratum's first rules.) [`Kernels::of`] picks the rules of these
//! shapes when the engine is built, from the rules' executable form ([`Code`], the one form
//! derived from the validated program), and resolves every register to the bytes it was
//! bound from: a column of the scanned row, of the probed row, or a constant. A run then
//! reads each scanned row's bytes, compares its checked columns as bytes, takes the
//! probe's key straight from them (no values built, nothing encoded), follows the index
//! chain, and appends each emitted row as the head relation's bytes, which
//! [`crate::store::Relation::insert_encoded`] stores after the rule (or the round) without
//! encoding it again; only a firing's values are decoded, for the firing.
//!
//! A run does exactly what the interpreter would, in the same order: the same rows emitted
//! and the same firings in the same order (so stored under the same ids), the same
//! instructions counted against the step limit at the same points, each emitted row
//! charged as a fact until stored. A rule is taken only where that holds by construction:
//! every column compared, checked or used as a key compares as bytes (no `Decimal`: `1.5 =
//! 1.50` in different bytes), every value emitted has its head column's type, every
//! register is bound before it is read, the scanned relation and the head have columns, and
//! no relation read is declared `input one` (a decision holds it as its row). Explaining
//! evaluations (which record premises) and a scan or probe of an input relation a decision
//! holds as its one row run through the interpreter.
// `EvalError` owns strings in some variants, so it has a destructor: `ok_or_else` builds
// one only on failure (see eval.rs).
#![allow(clippy::unnecessary_lazy_evaluations)]

use crate::eval::Work;
use crate::exec::{Code, Op, Pair, Slot};
use crate::layout::{Layout, decode};
use crate::limits::row_bytes;
use crate::one::OneSlots;
use crate::program::{Program, Stratum};
use crate::store::{Relation, append, same_bytes};
use crate::{EvalError, Limits, Value};
use gov_value::{BaseType, CompareOp};

/// The rules of a program that run as [`Kernel`]s.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kernels {
    /// By rule id; empty when no rule has one (a box each, so that a rule without one
    /// costs a pointer and the lookup a bounds check and a test).
    kernels: Vec<Option<Box<Kernel>>>,
}

impl Kernels {
    /// The kernels among `program`'s rules, read from their executable form `code`. A rule
    /// of a stratum that is not recursive takes one only if it reads no relation a decision
    /// may hold as its row (one of `held`'s slots: an input relation, or a derived one): a
    /// decision holds most of those as their one fact, which the interpreter reads, and
    /// trying the kernel first would cost each such rule of every decision a lookup for
    /// nothing. (A recursive stratum's rules run over rows the stratum derives.)
    pub(crate) fn of(program: &Program, code: &Code, held: &OneSlots) -> Kernels {
        let held = |rel: u32| held.slot(rel).is_some();
        let mut kernels = Kernels::default();
        for stratum in &program.strata {
            let Stratum::Rules { rules, delta_rules, .. } = stratum else { continue };
            let recursive = !delta_rules.is_empty();
            for &rule in rules.iter().chain(delta_rules) {
                let Some(kernel) = Kernel::of(program, code, rule) else { continue };
                if !recursive && (held(kernel.scan) || kernel.probed().is_some_and(held)) {
                    continue;
                }
                if kernels.kernels.is_empty() {
                    kernels.kernels.resize_with(program.rules.len(), || None);
                }
                if let Some(slot) = kernels.kernels.get_mut(rule as usize) {
                    *slot = Some(Box::new(kernel));
                }
            }
        }
        kernels
    }

    /// The kernel `rule` runs as, if it has one.
    #[inline(always)]
    pub(crate) fn get(&self, rule: u32) -> Option<&Kernel> {
        self.kernels.get(rule as usize)?.as_deref()
    }
}

/// Which row a piece of bytes is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowOf {
    /// The scanned row.
    Scanned,
    /// The probed row.
    Probed,
    /// [`Kernel::constants`].
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

/// The index probe of a join.
#[derive(Debug, Clone)]
struct Probe {
    /// The relation probed, and its index.
    rel: u32,
    index: usize,
    /// The key, in index column order.
    key: Vec<Piece>,
    /// Pairs of values that must be equal in each probed row.
    checks: Vec<(Piece, Piece)>,
}

/// What a kernel does with each binding that gets through.
#[derive(Debug, Clone)]
enum Head {
    /// Emits a row into `rel`: its values in column order.
    Emit { rel: u32, values: Vec<Piece> },
    /// Fires `decision` with these values, decoded into frame slots `0..values.len()`
    /// (`slots`).
    Fire { decision: u32, values: Vec<Piece>, slots: Box<[Slot]> },
}

/// A rule of a kernel's shape, resolved to bytes (see the module's comment).
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    /// The relation scanned, and whether only its previous round's rows (Δ).
    scan: u32,
    delta: bool,
    /// Pairs of values of each scanned row that must be equal.
    checks: Vec<(Piece, Piece)>,
    /// The same checks as the offsets of two 8-byte columns each, when they all are.
    words: Option<Box<[(u32, u32)]>>,
    probe: Option<Probe>,
    comparisons: Vec<Comparison>,
    head: Head,
    /// The constants the pieces read, encoded.
    constants: Vec<u8>,
}

impl Kernel {
    /// The relation the scan reads, and whether only the previous round's rows.
    pub(crate) fn scanned(&self) -> (u32, bool) {
        (self.scan, self.delta)
    }

    /// The relation the probe reads, for a join.
    pub(crate) fn probed(&self) -> Option<u32> {
        self.probe.as_ref().map(|p| p.rel)
    }

    /// What [`crate::disasm`] says of the kernel: the relations it reads and what it does
    /// with each binding (`name` names a relation, `decision` a decision rule).
    pub(crate) fn describe(&self, name: impl Fn(u32) -> String, decision: impl Fn(u32) -> String) -> String {
        let delta = if self.delta { " Δ" } else { "" };
        let head = match &self.head {
            Head::Emit { rel, .. } => format!("an emit into {}", name(*rel)),
            Head::Fire { decision: d, .. } => format!("a firing of {}", decision(*d)),
        };
        match &self.probe {
            Some(probe) => format!(
                "runs as a join over rows as bytes (each row of {}{delta}, a probe of {}, {head})",
                name(self.scan),
                name(probe.rel)
            ),
            None => format!("runs as a scan over rows as bytes (each row of {}{delta}, {head})", name(self.scan)),
        }
    }

    /// `rule` as a kernel, if its executable form `code` has a kernel's shape.
    pub(crate) fn of(program: &Program, code: &Code, rule: u32) -> Option<Kernel> {
        // Only a relation of columns that is not `input one` is read or derived (see the
        // module's comment).
        let layout = |rel: u32| {
            let schema = program.relations.get(rel as usize).filter(|r| !r.one)?;
            Some(Layout::new(schema.columns.iter().map(|c| c.ty))).filter(|l| l.width() > 0)
        };
        let mut builder =
            Builder { regs: vec![None; code.registers(rule)], frame: code.constants(rule), constants: Vec::new() };
        let mut ops = code.ops(rule).iter().peekable();
        let Some(Op::Scan { rel: scan, index: None, delta, key, binds, checks, .. }) = ops.next() else {
            return None;
        };
        if !key.is_empty() {
            return None;
        }
        let checks = builder.scan(&layout(*scan)?, RowOf::Scanned, binds, checks)?;
        let probe = match ops.peek() {
            Some(Op::Scan { rel, index: Some(index), delta: false, key, binds, checks, .. }) => {
                ops.next();
                let probe_layout = layout(*rel)?;
                let key = builder.key(&probe_layout, key)?;
                let checks = builder.scan(&probe_layout, RowOf::Probed, binds, checks)?;
                Some(Probe { rel: *rel, index: usize::from(*index), key, checks })
            }
            _ => None,
        };
        let mut comparisons = Vec::new();
        let head = loop {
            match ops.next()? {
                &Op::Compare { op, left, right } => {
                    let (left, right) = (builder.slot(left)?, builder.slot(right)?);
                    let numbers = matches!(left.ty, BaseType::Int | BaseType::Time | BaseType::Duration);
                    let bytes = matches!(op, CompareOp::Eq | CompareOp::Ne) && left.ty != BaseType::Decimal;
                    if left.ty != right.ty || !(numbers || bytes) {
                        return None;
                    }
                    comparisons.push(Comparison { op, left, right, numbers });
                }
                Op::Emit { rel, values } => {
                    let head = layout(*rel)?;
                    if values.len() != head.arity() {
                        return None;
                    }
                    let values = values
                        .iter()
                        .enumerate()
                        .map(|(column, &slot)| {
                            let piece = builder.slot(slot)?;
                            (Some(piece.ty) == head.type_of(column)).then_some(piece)
                        })
                        .collect::<Option<Vec<Piece>>>()?;
                    break Head::Emit { rel: *rel, values };
                }
                Op::Fire { decision, values } => {
                    let values = values.iter().map(|&slot| builder.slot(slot)).collect::<Option<Vec<Piece>>>()?;
                    let slots = (0..u32::try_from(values.len()).ok()?).collect();
                    break Head::Fire { decision: *decision, values, slots };
                }
                _ => return None,
            }
        };
        if ops.next().is_some() {
            return None;
        }
        // Checks of two 8-byte columns of the scanned row each (`reach(x, x)`) compare as
        // words.
        let words = checks
            .iter()
            .map(|&(a, b)| {
                let row = |p: Piece| p.from == RowOf::Scanned && p.len == 8;
                (row(a) && row(b)).then_some((a.at, b.at))
            })
            .collect::<Option<Box<[(u32, u32)]>>>();
        let constants = builder.constants;
        Some(Kernel { scan: *scan, delta: *delta, checks, words, probe, comparisons, head, constants })
    }

    /// Runs the rule over rows `range` of `rows` (all of them, or the previous round's),
    /// probing `probe` for a join: each emitted row is appended to the work's pending rows
    /// in the head relation's bytes (and counts as a fact against `limits` until stored),
    /// each firing recorded, and each instruction the interpreter would run counted as a
    /// step.
    #[inline(never)]
    pub(crate) fn run(
        &self,
        rows: &Relation,
        range: (u32, u32),
        probe: Option<&Relation>,
        limits: &Limits,
        work: &mut Work,
    ) -> Result<(), EvalError> {
        // The scan.
        work.budget.step(limits)?;
        let len = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let range = range.0.min(len)..range.1.min(len);
        match (&self.probe, probe) {
            (None, _) => match &self.words {
                Some(words) => self.scan(rows, range, limits, work, |row| {
                    words.iter().all(|&(a, b)| word(row, a as usize) == word(row, b as usize))
                }),
                None => self.scan(rows, range, limits, work, |row| {
                    self.checks.iter().all(|&(a, b)| same_bytes(self.bytes(a, row, &[]), self.bytes(b, row, &[])))
                }),
            },
            (Some(join), Some(probe)) => self.join(join, rows, range, probe, limits, work),
            (Some(_), None) => Err(EvalError::Corrupt("a join's probed relation is missing")),
        }
    }

    /// [`Kernel::run`] of a scan with no probe: the head for each row of `range` that
    /// `holds` (its checks).
    #[inline(always)]
    fn scan(
        &self,
        rows: &Relation,
        range: std::ops::Range<u32>,
        limits: &Limits,
        work: &mut Work,
        holds: impl Fn(&[u8]) -> bool,
    ) -> Result<(), EvalError> {
        for row in rows.rows_in(range) {
            if holds(row) {
                self.head(row, &[], limits, work)?;
            }
        }
        Ok(())
    }

    /// [`Kernel::run`] of a join.
    #[inline(always)]
    fn join(
        &self,
        join: &Probe,
        rows: &Relation,
        range: std::ops::Range<u32>,
        probe: &Relation,
        limits: &Limits,
        work: &mut Work,
    ) -> Result<(), EvalError> {
        // Invariant: the probed relation was made from the schema `Kernel::of` read, whose
        // index `join.index` has columns that compare as bytes.
        let index = probe.probe_bytes(join.index).ok_or_else(|| EvalError::Corrupt("a join's index is missing"))?;
        let empty = probe.is_empty();
        let mut scratch = Vec::new();
        for row in rows.rows_in(range) {
            if !self.checks.iter().all(|&(a, b)| same_bytes(self.bytes(a, row, &[]), self.bytes(b, row, &[]))) {
                continue;
            }
            // The probe.
            work.budget.step(limits)?;
            if empty {
                continue;
            }
            let key = match join.key.as_slice() {
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
                let holds =
                    |&(a, b): &(Piece, Piece)| same_bytes(self.bytes(a, row, probed), self.bytes(b, row, probed));
                if join.checks.iter().all(holds) {
                    self.head(row, probed, limits, work)?;
                }
            }
        }
        Ok(())
    }

    /// The comparisons and the head, for a scanned row `row` and a probed row `probed`.
    #[inline(always)]
    fn head(&self, row: &[u8], probed: &[u8], limits: &Limits, work: &mut Work) -> Result<(), EvalError> {
        if !self.compare(row, probed, work, limits)? {
            return Ok(());
        }
        // The emit, or the firing.
        work.budget.step(limits)?;
        match &self.head {
            Head::Emit { values, .. } => {
                work.budget.charge(limits, 1, row_bytes(values.len()))?;
                for &piece in values {
                    append(&mut work.pending_rows, self.bytes(piece, row, probed));
                }
                Ok(())
            }
            Head::Fire { decision, values, slots } => self.fire(*decision, values, slots, row, probed, limits, work),
        }
    }

    /// Records a firing of `decision` with the values of `pieces`, decoded into the work's
    /// frame (a firing is rare next to the rows scanned, so it is not worth a form of its
    /// own: [`Work::fire`] records it as the interpreter's does).
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn fire(
        &self,
        decision: u32,
        pieces: &[Piece],
        slots: &[Slot],
        row: &[u8],
        probed: &[u8],
        limits: &Limits,
        work: &mut Work,
    ) -> Result<(), EvalError> {
        let mut frame = std::mem::take(&mut work.registers);
        frame.clear();
        for &piece in pieces {
            // Invariant: a piece lies within its row or the constants (see `Kernel::bytes`).
            let value = decode(piece.ty, self.bytes(piece, row, probed), 0)
                .ok_or_else(|| EvalError::Corrupt("a kernel's value is out of its row"))?;
            frame.push(value);
        }
        let fired = work.fire(limits, &frame, decision, slots);
        work.registers = frame;
        fired.map(|_| ())
    }

    /// Whether every comparison holds for a scanned row and a probed row, each counted as
    /// a step until one fails.
    #[inline(always)]
    fn compare(&self, row: &[u8], probed: &[u8], work: &mut Work, limits: &Limits) -> Result<bool, EvalError> {
        for c in &self.comparisons {
            work.budget.step(limits)?;
            let (left, right) = (self.bytes(c.left, row, probed), self.bytes(c.right, row, probed));
            let ordering = if c.numbers {
                number(left).cmp(&number(right))
            } else if same_bytes(left, right) {
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

    /// The bytes of `piece`, read from the scanned row `row`, the probed row `probed` or
    /// the constants.
    #[inline(always)]
    fn bytes<'r>(&'r self, piece: Piece, row: &'r [u8], probed: &'r [u8]) -> &'r [u8] {
        let source = match piece.from {
            RowOf::Scanned => row,
            RowOf::Probed => probed,
            RowOf::Const => &self.constants,
        };
        // Invariant: a piece lies within its row (`Kernel::of` took it from the row's
        // layout, and every row of a relation has its layout's width) or within the
        // constants.
        source.get(piece.at as usize..(piece.at + piece.len) as usize).unwrap_or_default()
    }
}

/// The 8 bytes at `at` of `row`.
#[inline(always)]
fn word(row: &[u8], at: usize) -> Option<[u8; 8]> {
    row.get(at..at + 8)?.try_into().ok()
}

/// An 8-byte number column's value.
#[inline(always)]
fn number(bytes: &[u8]) -> i64 {
    <[u8; 8]>::try_from(bytes).map_or(0, i64::from_le_bytes)
}

/// What [`Kernel::of`] tracks while it reads a rule: where each register's value is.
struct Builder<'c> {
    regs: Vec<Option<Piece>>,
    /// The constants of the rule's frame, after its registers.
    frame: &'c [Value],
    constants: Vec<u8>,
}

impl Builder<'_> {
    /// Binds a scan's columns to registers and resolves its checks (after its binds, as
    /// the interpreter reads them): the pairs of pieces that must be equal.
    fn scan(&mut self, layout: &Layout, from: RowOf, binds: &[Pair], checks: &[Pair]) -> Option<Vec<(Piece, Piece)>> {
        for &(column, reg) in binds {
            *self.regs.get_mut(reg as usize)? = Some(column_piece(layout, from, column)?);
        }
        checks
            .iter()
            .map(|&(column, slot)| {
                let (column, value) = (column_piece(layout, from, column)?, self.slot(slot)?);
                (column.ty == value.ty && column.ty != BaseType::Decimal).then_some((column, value))
            })
            .collect()
    }

    /// A probe's key ((index column, slot) pairs, in index column order) as the pieces
    /// whose bytes make it: each of its column's type, none a `Decimal`.
    fn key(&mut self, layout: &Layout, key: &[Pair]) -> Option<Vec<Piece>> {
        if key.is_empty() {
            return None;
        }
        key.iter()
            .map(|&(column, slot)| {
                let piece = self.slot(slot)?;
                let ty = layout.type_of(usize::from(column))?;
                (piece.ty == ty && ty != BaseType::Decimal).then_some(piece)
            })
            .collect()
    }

    /// Where a frame slot's value is: the row a register was bound from, or a constant
    /// (encoded once per use); `None` for a register not bound yet.
    fn slot(&mut self, slot: Slot) -> Option<Piece> {
        let slot = slot as usize;
        if let Some(reg) = self.regs.get(slot) {
            return *reg;
        }
        let value = *self.frame.get(slot - self.regs.len())?;
        let ty = value.base_type();
        let at = u32::try_from(self.constants.len()).ok()?;
        Layout::new([ty]).push(0, value, false, &mut self.constants).ok()?;
        let len = u32::try_from(self.constants.len()).ok()? - at;
        Some(Piece { from: RowOf::Const, at, len, ty })
    }
}

/// Column `column` of a row of `layout`, read from `from`.
fn column_piece(layout: &Layout, from: RowOf, column: u8) -> Option<Piece> {
    let span = layout.span(usize::from(column))?;
    let ty = layout.type_of(usize::from(column))?;
    Some(Piece { from, at: u32::try_from(span.start).ok()?, len: u32::try_from(span.len()).ok()?, ty })
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
    use crate::exec::Code;
    use crate::program::*;
    use crate::test_instr::{delta, probe, scan, scan_checked};
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
    const W3: u32 = 10;
    const RELATIONS: u32 = 11;

    const fn reg(r: u16) -> Operand {
        Operand::Reg(r)
    }
    const ZERO: Operand = Operand::Const(0);
    const ONE: Operand = Operand::Const(1);
    const SIX: Operand = Operand::Const(2);
    const TAG: Operand = Operand::Const(3);

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

    /// Each case: its rules, and how many of them take a kernel.
    fn case(which: usize) -> (Build, usize) {
        use CompareOp::{Lt, Ne};
        use Phase::{Request, Static};
        let b = Build::default();
        match which {
            // The closure and its mirror.
            0 => (b.stratum(Request, vec![edges_into(R)], vec![closure(R, EDGE)]).deny(&[R]), 3),
            1 => {
                let mirror = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 1, &[reg(0)], &[(0, 2)], &[]),
                    emit(R, &[reg(2), reg(1)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![mirror]).deny(&[R]), 3)
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
                (b.stratum(Request, vec![edges_into(R)], vec![left, right]).deny(&[R]), 4)
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
                (b.stratum(Request, vec![edges_into(R)], vec![keyed, rebound, loops]).deny(&[R]), 5)
            }
            // A probe of the whole row (the dedup set), constant in the key.
            4 => {
                let whole = vec![
                    delta(R, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 3, &[reg(1), reg(0), ZERO], &[], &[]),
                    emit(R, &[reg(1), reg(0)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![whole, closure(R, EDGE)]).deny(&[R]), 4)
            }
            // At load over data, and per request probing the data.
            5 => {
                let from_start =
                    vec![scan(START, &[(0, 0)]), probe(PE, 0, &[reg(0)], &[(1, 1)], &[]), emit(R, &[reg(0), reg(1)])];
                let base = vec![scan(PE, &[(0, 0), (1, 1)]), emit(RS, &[reg(0), reg(1)])];
                let b = b.stratum(Static, vec![base], vec![closure(RS, PE)]);
                (b.stratum(Request, vec![from_start], vec![closure(R, PE)]).deny(&[R, RS]), 6)
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
                (b.stratum(Request, vec![base], vec![step]).deny(&[SR]), 3)
            }
            // A constant emitted.
            7 => {
                let base = vec![scan(EDGE, &[(0, 0)]), emit(TAGGED, &[reg(0), TAG])];
                let step = vec![
                    delta(TAGGED, &[(0, 0), (1, 1)], &[]),
                    probe(EDGE, 0, &[reg(0)], &[(1, 2)], &[]),
                    emit(TAGGED, &[reg(2), TAG]),
                ];
                (b.stratum(Request, vec![base], vec![step]).deny(&[TAGGED]), 3)
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
                (b.stratum(Static, vec![base], vec![carried, keyed]).deny(&[DR]), 3)
            }
            // Scans feeding a head outside recursion (of a relation a recursive stratum
            // derives: a rule outside recursion that reads an input relation, or a derived
            // one a decision may hold as its row, is left to the interpreter): a check
            // against a constant and a comparison within the row into a derived relation,
            // and a check within the row into a firing (`reach(x, x)`).
            10 => {
                let copy = vec![scan(EDGE, &[(0, 0), (1, 1), (2, 2)]), emit(W3, &[reg(0), reg(1), reg(2)])];
                let again = vec![delta(W3, &[(0, 0), (1, 1), (2, 2)], &[]), emit(W3, &[reg(0), reg(1), reg(2)])];
                let apart = vec![
                    scan_checked(W3, &[(0, 0), (1, 1)], &[(2, ONE)]),
                    compare(Ne, reg(0), reg(1)),
                    emit(R, &[reg(0), reg(1)]),
                ];
                let cycle = vec![
                    scan_checked(W3, &[(0, 0), (2, 1)], &[(1, reg(0))]),
                    Instr::Fire { decision: 0, values: vec![reg(0), reg(1), TAG] },
                ];
                let b = b.stratum(Request, vec![copy], vec![again]).stratum(Request, vec![apart], Vec::new());
                (b.deny(&[R]).stratum(Request, vec![cycle], Vec::new()), 4)
            }
            // A join outside recursion feeding a firing (`r(x, y), r(y, x)`), and a Δ scan
            // with no probe (the symmetric closure).
            11 => {
                let mirror = vec![delta(R, &[(0, 0), (1, 1)], &[]), emit(R, &[reg(1), reg(0)])];
                let back = vec![
                    scan(R, &[(0, 0), (1, 1)]),
                    probe(R, 0, &[reg(1)], &[], &[(1, reg(0))]),
                    Instr::Fire { decision: 0, values: vec![reg(0), reg(1)] },
                ];
                let b = b.stratum(Request, vec![edges_into(R)], vec![mirror]);
                (b.stratum(Request, vec![back], Vec::new()).deny(&[R]), 4)
            }
            // A register read before it is bound (the interpreter reads 0): not a join.
            _ => {
                let unbound = vec![
                    delta(R, &[(0, 0)], &[]),
                    probe(EDGE, 0, &[reg(1)], &[(1, 2)], &[]),
                    emit(R, &[reg(0), reg(2)]),
                ];
                (b.stratum(Request, vec![edges_into(R)], vec![unbound]).deny(&[R]), 2)
            }
        }
    }

    const CASES: usize = 12;

    /// The program of case `which` with data `pe` and `pd`.
    fn program(which: usize, pe: &[(i64, i64, i64)], pd: &[(i64, &str)]) -> (Program, usize) {
        let strings = [
            "edge", "src", "dst", "w", "Int", "r", "pe", "start", "x", "rs", "link", "a", "b", "Str", "sr", "tagged",
            "pd", "v", "Decimal", "dr", "d", "t.gov", "t", "w3",
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
        use crate::program::RelationKind::{Data, Derived, Input};
        use Phase::{Request, Static};
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
            relation(23, Derived, Request, vec![column(None, int), column(None, int), column(None, int)], &[]),
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
        let (build, kernels) = case(which);
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
        (program, kernels)
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
            let (program, kernels) = program(which, &distinct_pe, &pd);
            let held = crate::one::OneSlots::of(&program);
            prop_assert_eq!(Kernels::of(&program, &Code::of(&program), &held).kernels.iter().flatten().count(), kernels);
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
