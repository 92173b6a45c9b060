//! The executable form of a program's rules, built once when the engine loads, from the
//! validated [`Program`] (the bundle format does not change).
//!
//! The interpreter ([`crate::eval`]) runs these [`Op`]s, not the bundle's [`Instr`]s: each
//! is a record whose operands are already resolved to slots of the rule's frame, whose
//! index key is (column, slot) pairs (so matching a row needs no trip to the relation's
//! schema), and which knows whether its relation is static (so finding the relation needs
//! none either). A rule's frame is its registers followed by the constants its code uses,
//! copied in when the rule starts, so an operand is always a frame slot: no `Operand`
//! match and no trip to the program's constant table per use. The ops of a rule are its
//! instructions one for one (same pcs, same aggregate lengths), so the pcs of near misses
//! keep their meaning. Lists are boxed slices read in place (spans of one shared arena
//! cost a bounds check per list per use, and callgrind counted more instructions).
// Invariant: built only from a program that passed `bundle::validate`, so every slot is
// below its rule's frame length, every relation, index and decision id is in range, and
// each key has its index's length. The interpreter still reads through checked accessors
// (a slot out of range is `EvalError::Corrupt`), so a broken invariant is an error, never
// a panic.

use crate::program::{AggregateFn, CallOut, Instr, Operand, Phase, Program, Source};
use crate::value::{Strings, Value};
use gov_builtins::{Builtin, Prepared, Val};
use gov_value::{ArithOp, BaseType, CompareOp};

/// A slot of a rule's frame: a register, or (after the registers) a constant.
pub(crate) type Slot = u32;

/// A column of a row and a frame slot: a scan's bind (into the slot), check or key column
/// (against it).
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// [`Instr::Scan`]: `key` as (index column, slot); `statik` for a relation of the static
    /// phase.
    Scan {
        rel: u32,
        index: Option<u16>,
        statik: bool,
        delta: bool,
        key: Box<[Pair]>,
        binds: Box<[Pair]>,
        checks: Box<[Pair]>,
    },
    /// [`Instr::Absent`]: `key` as (index column, slot).
    Absent { rel: u32, index: Option<u16>, statik: bool, key: Box<[Pair]> },
    /// [`Instr::Compare`].
    Compare { op: CompareOp, left: Slot, right: Slot },
    /// [`Instr::Arith`].
    Arith { op: ArithOp, dst: Slot, left: Slot, right: Slot },
    /// [`Instr::Move`].
    Move { dst: Slot, src: Slot },
    /// [`Instr::Aggregate`].
    Aggregate { function: AggregateFn, ty: BaseType, dst: Slot, target: Slot, locals: Box<[Slot]>, len: u32 },
    /// [`Instr::Call`]: `prepared` the entry of [`Code::prepared`] of what was made of its
    /// constant arguments, if any.
    Call { builtin: Builtin, args: Box<[Slot]>, out: Out, prepared: Option<u32> },
    /// [`Instr::Set`].
    Set { values: Box<[Slot]>, out: Out },
    /// [`Instr::Emit`].
    Emit { rel: u32, values: Box<[Slot]> },
    /// [`Instr::Fire`].
    Fire { decision: u32, values: Box<[Slot]> },
}

/// A rule's ops and frame.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleExec {
    ops: Vec<Op>,
    /// Its registers: the frame's first slots.
    registers: u32,
    /// The frame a run starts with: the registers, each `Int 0`, then the constants in
    /// frame order; a run copies it whole (one copy, no per-slot fill).
    // Invariant: `frame.len() >= registers`.
    frame: Box<[Value]>,
}

impl RuleExec {
    /// The rule's ops.
    #[inline(always)]
    pub(crate) fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Readies `frame` for a run of the rule: its registers all `Int 0`, then its
    /// constants (the buffer keeps its capacity, so a warm run allocates nothing).
    #[inline(always)]
    pub(crate) fn start(&self, frame: &mut Vec<Value>) {
        frame.clear();
        frame.extend_from_slice(&self.frame);
    }
}

/// The executable form of every rule of a program, by rule id.
#[derive(Debug, Default)]
pub(crate) struct Code {
    rules: Vec<RuleExec>,
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
            let registers = u32::from(rule.registers);
            let mut frame = Frame { registers, used: Vec::new() };
            let ops = rule.code.iter().map(|instr| code.op(program, instr, &mut frame)).collect();
            let constant = |c: &u32| program.constants.get(*c as usize).copied().unwrap_or(Value::Int(0));
            let registers_then_constants =
                std::iter::repeat_n(Value::Int(0), registers as usize).chain(frame.used.iter().map(constant));
            code.rules.push(RuleExec { ops, registers, frame: registers_then_constants.collect() });
        }
        code
    }

    fn op(&mut self, program: &Program, instr: &Instr, frame: &mut Frame) -> Op {
        match instr {
            Instr::Scan { rel, source, index, key, binds, checks } => Op::Scan {
                rel: *rel,
                index: *index,
                statik: is_static(program, *rel),
                delta: *source == Source::Delta,
                key: keyed(program, *rel, *index, key, frame),
                binds: binds.iter().map(|&(c, r)| (c, u32::from(r))).collect(),
                checks: checks.iter().map(|&(c, o)| (c, frame.slot(o))).collect(),
            },
            Instr::Absent { rel, index, key } => Op::Absent {
                rel: *rel,
                index: *index,
                statik: is_static(program, *rel),
                key: keyed(program, *rel, *index, key, frame),
            },
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
                locals: locals.iter().map(|&r| u32::from(r)).collect(),
                len: *len,
            },
            Instr::Call { builtin, args, out } => {
                let prepared = prepare_call(program, *builtin, args).map(|p| {
                    self.prepared.push(p);
                    u32::try_from(self.prepared.len() - 1).unwrap_or(u32::MAX)
                });
                Op::Call { builtin: *builtin, args: frame.slots(args), out: frame.out(*out), prepared }
            }
            Instr::Set { values, out } => Op::Set { values: frame.slots(values), out: frame.out(*out) },
            Instr::Emit { rel, values } => Op::Emit { rel: *rel, values: frame.slots(values) },
            Instr::Fire { decision, values } => Op::Fire { decision: *decision, values: frame.slots(values) },
        }
    }

    /// Rule `rule`'s executable form (`None` for an id out of range).
    #[inline(always)]
    pub(crate) fn rule(&self, rule: u32) -> Option<&RuleExec> {
        self.rules.get(rule as usize)
    }

    /// The ops of rule `rule` (none for an id out of range).
    #[inline]
    pub(crate) fn ops(&self, rule: u32) -> &[Op] {
        self.rule(rule).map_or(&[], RuleExec::ops)
    }

    /// How many registers (not constants) rule `rule`'s frame starts with.
    pub(crate) fn registers(&self, rule: u32) -> usize {
        self.rules.get(rule as usize).map_or(0, |r| r.registers as usize)
    }

    /// The constants of rule `rule`'s frame, which follow its registers.
    pub(crate) fn constants(&self, rule: u32) -> &[Value] {
        self.rule(rule).and_then(|r| r.frame.get(r.registers as usize..)).unwrap_or_default()
    }

    /// What was prepared for a call.
    #[inline]
    pub(crate) fn prepared(&self, prepared: Option<u32>) -> Option<&Prepared> {
        prepared.and_then(|p| self.prepared.get(p as usize))
    }
}

/// Whether relation `rel` is of the static phase.
fn is_static(program: &Program, rel: u32) -> bool {
    program.relations.get(rel as usize).is_some_and(|r| r.phase == Phase::Static)
}

/// An index key as (index column, slot) pairs.
fn keyed(program: &Program, rel: u32, index: Option<u16>, key: &[Operand], frame: &mut Frame) -> Box<[Pair]> {
    let columns = index.and_then(|i| program.relations.get(rel as usize)?.indexes.get(usize::from(i)));
    // Invariant (validation): the key has one operand per index column.
    columns.map_or(&[][..], Vec::as_slice).iter().zip(key).map(|(&c, &o)| (c, frame.slot(o))).collect()
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

    /// The slots of operands.
    fn slots(&mut self, operands: &[Operand]) -> Box<[Slot]> {
        operands.iter().map(|&o| self.slot(o)).collect()
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::program::RuleCode;

    /// A rule of 2 registers using constants 1, 0 and 1 again: one op per instruction (the
    /// pcs keep their meaning), each constant once in the frame after the registers, in the
    /// order the code first uses them, and the frame starts as registers of `Int 0` then
    /// those constants.
    #[test]
    fn constants_get_frame_slots_after_the_registers_once_each() {
        let code = vec![
            Instr::Compare { op: CompareOp::Lt, left: Operand::Reg(1), right: Operand::Const(1) },
            Instr::Move { dst: 0, src: Operand::Const(0) },
            Instr::Arith { op: ArithOp::Add, dst: 1, left: Operand::Reg(0), right: Operand::Const(1) },
            Instr::Fire { decision: 0, values: vec![Operand::Reg(1), Operand::Const(0)] },
        ];
        let program = Program {
            constants: vec![Value::Int(7), Value::Int(9)],
            rules: vec![RuleCode { registers: 2, code, source: crate::program::SourceRef::default() }],
            ..Program::default()
        };
        let code = Code::of(&program);
        let ops = code.ops(0);
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[0], Op::Compare { op: CompareOp::Lt, left: 1, right: 2 });
        assert_eq!(ops[1], Op::Move { dst: 0, src: 3 });
        assert_eq!(ops[2], Op::Arith { op: ArithOp::Add, dst: 1, left: 0, right: 2 });
        let Op::Fire { decision: 0, values } = &ops[3] else { panic!("{:?}", ops[3]) };
        assert_eq!(**values, [1, 3]);
        let mut frame = vec![Value::Bool(true); 9];
        code.rule(0).unwrap().start(&mut frame);
        assert_eq!(frame, vec![Value::Int(0), Value::Int(0), Value::Int(9), Value::Int(7)]);
        assert_eq!(code.registers(0), 2);
        assert_eq!(code.constants(0), [Value::Int(9), Value::Int(7)]);
        assert!(code.ops(1).is_empty());
    }
}
