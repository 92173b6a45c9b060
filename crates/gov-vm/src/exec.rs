//! The executable form of a program's rules, built once when the engine loads, from the
//! validated [`Program`] (the bundle format does not change).
//!
//! The interpreter ([`crate::eval`]) runs these [`Op`]s, not the bundle's [`Instr`]s: each
//! is a small `Copy` record (no `Vec` inside) whose operands are already resolved to slots
//! of the rule's frame, and whose lists (index keys, binds, checks, emitted values, call
//! arguments) are spans of two arenas shared by the whole program. A rule's frame is its
//! registers followed by the constants its code uses, copied in when the rule starts, so
//! an operand is always a frame slot: no `Operand` match and no trip to the program's
//! constant table per use. The ops of a rule are its instructions one for one (same pcs,
//! same aggregate lengths), so pcs of explanations and near misses keep their meaning.
// Invariant: built only from a program that passed `bundle::validate`, so every slot is
// below its rule's frame length, every span lies within its arena, every relation, index
// and decision id is in range, and each key has its index's length. The interpreter still
// reads through checked accessors (a slot or span out of range is `EvalError::Corrupt`),
// so a broken invariant is an error, never a panic.

use crate::program::{AggregateFn, CallOut, Instr, Operand, Program, Source};
use crate::value::{Strings, Value};
use gov_builtins::{Builtin, Prepared, Val};
use gov_value::{ArithOp, BaseType, CompareOp};
use std::ops::Range;

/// A run of entries of one of [`Code`]'s arenas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// Its entries, as a range.
    #[inline(always)]
    fn range(self) -> Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }

    /// How many entries it has.
    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.len as usize
    }

    /// Whether it has none.
    #[inline(always)]
    pub(crate) fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// A slot of a rule's frame: a register, or (after the registers) a constant.
pub(crate) type Slot = u32;

/// A column of a row and a frame slot: a scan's bind (into the slot) or check (against it).
pub(crate) type Pair = (u8, Slot);

/// What a call or a set does with what it yields ([`CallOut`] over slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Out {
    /// Continue once if the test holds (`negated`: if it does not).
    Test {
        /// `not call`.
        negated: bool,
    },
    /// Continue once with the value in the slot, or not at all when there is none.
    Value(Slot),
    /// Continue once per value, each in the slot.
    Each(Slot),
    /// Continue once if some value equals the slot's.
    Has(Slot),
    /// Continue once if no value equals the slot's.
    Lacks(Slot),
}

/// One executable instruction: [`Instr`] with its operands resolved (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// [`Instr::Scan`]: `key` of slots, `binds` and `checks` of pairs.
    Scan { rel: u32, index: Option<u16>, delta: bool, key: Span, binds: Span, checks: Span },
    /// [`Instr::Absent`]: `key` of slots.
    Absent { rel: u32, index: Option<u16>, key: Span },
    /// [`Instr::Compare`].
    Compare { op: CompareOp, left: Slot, right: Slot },
    /// [`Instr::Arith`].
    Arith { op: ArithOp, dst: Slot, left: Slot, right: Slot },
    /// [`Instr::Move`].
    Move { dst: Slot, src: Slot },
    /// [`Instr::Aggregate`]: `locals` of slots.
    Aggregate { function: AggregateFn, ty: BaseType, dst: Slot, target: Slot, locals: Span, len: u32 },
    /// [`Instr::Call`]: `args` of slots; `prepared` the entry of [`Code::prepared`] of what
    /// was made of its constant arguments, if any.
    Call { builtin: Builtin, args: Span, out: Out, prepared: Option<u32> },
    /// [`Instr::Set`]: `values` of slots.
    Set { values: Span, out: Out },
    /// [`Instr::Emit`]: `values` of slots.
    Emit { rel: u32, values: Span },
    /// [`Instr::Fire`]: `values` of slots.
    Fire { decision: u32, values: Span },
}

/// Where a rule's ops and frame are.
#[derive(Debug, Clone, Default)]
struct RuleExec {
    /// Its ops in [`Code::ops`].
    ops: Span,
    /// Its registers: the frame's first slots.
    registers: u32,
    /// The constants after the registers, in [`Code::constants`].
    constants: Span,
}

/// The executable form of every rule of a program, by rule id.
#[derive(Debug, Default)]
pub(crate) struct Code {
    rules: Vec<RuleExec>,
    ops: Vec<Op>,
    /// Slots of keys, values, arguments and locals.
    slots: Vec<Slot>,
    /// Pairs of binds and checks.
    pairs: Vec<Pair>,
    /// Each rule's constants, in frame order.
    constants: Vec<Value>,
    /// What was made of calls' constant arguments (a parsed pattern, …).
    prepared: Vec<Prepared>,
}

impl Code {
    /// The executable form of `program`'s rules, and what its calls make of their constant
    /// arguments (a pattern that does not parse, in a bundle the checker did not make, is
    /// parsed again on each call, where it yields nothing).
    // Invariant: `program` passed `bundle::validate` (see the module docs).
    pub(crate) fn of(program: &Program) -> Code {
        let mut code = Code::default();
        for rule in &program.rules {
            let start = code.ops.len();
            let registers = u32::from(rule.registers);
            let mut frame = Frame { registers, used: Vec::new() };
            for instr in &rule.code {
                let op = code.op(program, instr, &mut frame);
                code.ops.push(op);
            }
            let constants_start = code.constants.len();
            code.constants.extend(
                frame.used.iter().map(|&c| program.constants.get(c as usize).copied().unwrap_or(Value::Int(0))),
            );
            code.rules.push(RuleExec {
                ops: span(start, code.ops.len()),
                registers,
                constants: span(constants_start, code.constants.len()),
            });
        }
        code
    }

    fn op(&mut self, program: &Program, instr: &Instr, frame: &mut Frame) -> Op {
        match instr {
            Instr::Scan { rel, source, index, key, binds, checks } => Op::Scan {
                rel: *rel,
                index: *index,
                delta: *source == Source::Delta,
                key: self.slots_of(key, frame),
                binds: self.pairs_of(binds.iter().map(|&(c, r)| (c, u32::from(r)))),
                checks: {
                    let pairs: Vec<Pair> = checks.iter().map(|&(c, o)| (c, frame.slot(o))).collect();
                    self.pairs_of(pairs.into_iter())
                },
            },
            Instr::Absent { rel, index, key } => {
                Op::Absent { rel: *rel, index: *index, key: self.slots_of(key, frame) }
            }
            Instr::Compare { op, left, right } => {
                Op::Compare { op: *op, left: frame.slot(*left), right: frame.slot(*right) }
            }
            Instr::Arith { op, dst, left, right } => {
                Op::Arith { op: *op, dst: u32::from(*dst), left: frame.slot(*left), right: frame.slot(*right) }
            }
            Instr::Move { dst, src } => Op::Move { dst: u32::from(*dst), src: frame.slot(*src) },
            Instr::Aggregate { function, ty, dst, target, locals, len } => Op::Aggregate {
                function: *function,
                ty: *ty,
                dst: u32::from(*dst),
                target: frame.slot(*target),
                locals: self.slots_from(locals.iter().map(|&r| u32::from(r))),
                len: *len,
            },
            Instr::Call { builtin, args, out } => {
                let prepared = prepare_call(program, *builtin, args).map(|p| {
                    self.prepared.push(p);
                    u32::try_from(self.prepared.len() - 1).unwrap_or(u32::MAX)
                });
                Op::Call { builtin: *builtin, args: self.slots_of(args, frame), out: frame.out(*out), prepared }
            }
            Instr::Set { values, out } => Op::Set { values: self.slots_of(values, frame), out: frame.out(*out) },
            Instr::Emit { rel, values } => Op::Emit { rel: *rel, values: self.slots_of(values, frame) },
            Instr::Fire { decision, values } => Op::Fire { decision: *decision, values: self.slots_of(values, frame) },
        }
    }

    fn slots_of(&mut self, operands: &[Operand], frame: &mut Frame) -> Span {
        let slots: Vec<Slot> = operands.iter().map(|&o| frame.slot(o)).collect();
        self.slots_from(slots.into_iter())
    }

    fn slots_from(&mut self, slots: impl Iterator<Item = Slot>) -> Span {
        let start = self.slots.len();
        self.slots.extend(slots);
        span(start, self.slots.len())
    }

    fn pairs_of(&mut self, pairs: impl Iterator<Item = Pair>) -> Span {
        let start = self.pairs.len();
        self.pairs.extend(pairs);
        span(start, self.pairs.len())
    }

    /// The ops of rule `rule` (empty for an id out of range).
    #[inline]
    pub(crate) fn ops(&self, rule: u32) -> &[Op] {
        self.rules.get(rule as usize).and_then(|r| self.ops.get(r.ops.range())).unwrap_or_default()
    }

    /// Readies `frame` for a run of rule `rule`: its registers all `Int 0`, then its
    /// constants.
    #[inline]
    pub(crate) fn frame(&self, rule: u32, frame: &mut Vec<Value>) {
        frame.clear();
        if let Some(r) = self.rules.get(rule as usize) {
            frame.resize(r.registers as usize, Value::Int(0));
            frame.extend_from_slice(self.constants.get(r.constants.range()).unwrap_or_default());
        }
    }

    /// How many registers (not constants) rule `rule`'s frame starts with.
    pub(crate) fn registers(&self, rule: u32) -> usize {
        self.rules.get(rule as usize).map_or(0, |r| r.registers as usize)
    }

    /// The slots of a span.
    #[inline(always)]
    pub(crate) fn slots(&self, span: Span) -> &[Slot] {
        self.slots.get(span.range()).unwrap_or_default()
    }

    /// The pairs of a span.
    #[inline(always)]
    pub(crate) fn pairs(&self, span: Span) -> &[Pair] {
        self.pairs.get(span.range()).unwrap_or_default()
    }

    /// What was prepared for a call.
    #[inline]
    pub(crate) fn prepared(&self, prepared: Option<u32>) -> Option<&Prepared> {
        prepared.and_then(|p| self.prepared.get(p as usize))
    }
}

/// The span of entries `start..end` of an arena.
fn span(start: usize, end: usize) -> Span {
    // Invariant: arenas stay below `u32::MAX` entries (a bundle's rules are bounded by its
    // size, far below).
    Span { start: u32::try_from(start).unwrap_or(u32::MAX), len: u32::try_from(end - start).unwrap_or(0) }
}

/// A rule's frame as it is laid out: its registers, then each constant it uses, once.
struct Frame {
    registers: u32,
    /// The constants (entries of [`Program::constants`]) in slot order.
    used: Vec<u32>,
}

impl Frame {
    /// The slot of an operand.
    fn slot(&mut self, operand: Operand) -> Slot {
        match operand {
            Operand::Reg(r) => u32::from(r),
            Operand::Const(c) => {
                let at = match self.used.iter().position(|&u| u == c) {
                    Some(at) => at,
                    None => {
                        self.used.push(c);
                        self.used.len() - 1
                    }
                };
                // Invariant: a rule has at most `MAX_RULE_LENGTH` instructions of bounded
                // operands, so its frame is far below `u32::MAX` slots.
                self.registers + u32::try_from(at).unwrap_or(0)
            }
        }
    }

    fn out(&mut self, out: CallOut) -> Out {
        match out {
            CallOut::Test { negated } => Out::Test { negated },
            CallOut::Value(r) => Out::Value(u32::from(r)),
            CallOut::Each(r) => Out::Each(u32::from(r)),
            CallOut::Has(o) => Out::Has(self.slot(o)),
            CallOut::Lacks(o) => Out::Lacks(self.slot(o)),
        }
    }
}

/// What a built-in makes of a call's constant arguments, if anything.
fn prepare_call(program: &Program, builtin: Builtin, args: &[Operand]) -> Option<Prepared> {
    let strings = Strings { table: &program.strings, extra: &[], made: &[] };
    let constants: Vec<Option<Val<'_>>> = args
        .iter()
        .map(|arg| match arg {
            Operand::Const(c) => program.constants.get(*c as usize).map(|v| crate::eval::to_val(strings, *v)),
            Operand::Reg(_) => None,
        })
        .collect();
    gov_builtins::prepare(builtin, &constants).ok().flatten()
}
