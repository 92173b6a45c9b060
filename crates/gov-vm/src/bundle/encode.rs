//! Program to payload bytes. Mirrors `decode.rs` field by field.

use crate::program::*;
use crate::{Value, WriteError};
use gov_value::{ArithOp, BaseType, CompareOp};

/// Section tags, in payload order.
pub(super) mod tag {
    pub const META: u8 = 1;
    pub const STRINGS: u8 = 2;
    pub const CONSTANTS: u8 = 3;
    pub const RELATIONS: u8 = 4;
    pub const DECISIONS: u8 = 5;
    pub const RULES: u8 = 6;
    pub const STRATA: u8 = 7;
    pub const DATA: u8 = 8;
    pub const DISPATCH: u8 = 9;
    pub const ORDER: [u8; 9] = [META, STRINGS, CONSTANTS, RELATIONS, DECISIONS, RULES, STRATA, DISPATCH, DATA];
}

/// The bytes written so far, and the first thing the format could not hold.
#[derive(Default)]
struct Out(Vec<u8>, Option<WriteError>);

impl Out {
    /// Records that the format cannot hold something; the first such problem is the
    /// error [`payload`] returns (writing goes on, so the encoders need no `?`).
    fn refuse(&mut self, error: WriteError) {
        self.1.get_or_insert(error);
    }
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        match u32::try_from(n) {
            Ok(n) => self.u32(n),
            Err(_) => {
                self.refuse(WriteError::TooLong { len: n });
                self.u32(u32::MAX);
            }
        }
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn section(&mut self, tag: u8, body: Out) {
        self.u8(tag);
        self.len(body.0.len());
        self.0.extend_from_slice(&body.0);
        if let Some(error) = body.1 {
            self.refuse(error);
        }
    }
    fn base(&mut self, t: BaseType) {
        self.u8(base_code(t));
    }
    fn value(&mut self, v: &Value) {
        match v {
            Value::Int(i) => {
                self.u8(0);
                self.i64(*i);
            }
            Value::Decimal(d) => {
                self.u8(1);
                self.0.extend_from_slice(&d.serialize());
            }
            Value::Str(s) => {
                self.u8(2);
                self.u32(*s);
            }
            Value::Bool(b) => {
                self.u8(3);
                self.u8(u8::from(*b));
            }
            Value::Time(t) => {
                self.u8(4);
                self.i64(*t);
            }
            Value::Duration(d) => {
                self.u8(5);
                self.i64(*d);
            }
        }
    }
    fn operand(&mut self, o: Operand) {
        match o {
            Operand::Reg(r) => {
                self.u8(0);
                self.u16(r);
            }
            Operand::Const(c) => {
                self.u8(1);
                self.u32(c);
            }
        }
    }
    fn operands(&mut self, os: &[Operand]) {
        self.len(os.len());
        for o in os {
            self.operand(*o);
        }
    }
    /// An optional id: the largest value stands for none, so it is no id itself.
    fn opt_u16(&mut self, v: Option<u16>) {
        if v == Some(u16::MAX) {
            self.refuse(WriteError::ReservedId { id: u16::MAX.into() });
        }
        self.u16(v.unwrap_or(u16::MAX));
    }
    /// An optional id: the largest value stands for none, so it is no id itself.
    fn opt_u32(&mut self, v: Option<u32>) {
        if v == Some(u32::MAX) {
            self.refuse(WriteError::ReservedId { id: u32::MAX });
        }
        self.u32(v.unwrap_or(u32::MAX));
    }
    fn source(&mut self, s: SourceRef) {
        self.u32(s.file);
        self.u32(s.line);
        self.u32(s.column);
    }
}

pub(super) fn base_code(t: BaseType) -> u8 {
    match t {
        BaseType::Int => 0,
        BaseType::Decimal => 1,
        BaseType::Str => 2,
        BaseType::Bool => 3,
        BaseType::Time => 4,
        BaseType::Duration => 5,
    }
}

pub(super) fn compare_code(op: CompareOp) -> u8 {
    match op {
        CompareOp::Eq => 0,
        CompareOp::Ne => 1,
        CompareOp::Lt => 2,
        CompareOp::Le => 3,
        CompareOp::Gt => 4,
        CompareOp::Ge => 5,
    }
}

pub(super) fn arith_code(op: ArithOp) -> u8 {
    match op {
        ArithOp::Add => 0,
        ArithOp::Sub => 1,
        ArithOp::Mul => 2,
        ArithOp::Div => 3,
    }
}

/// Opcodes.
pub(super) mod op {
    pub const SCAN: u8 = 1;
    pub const ABSENT: u8 = 2;
    pub const COMPARE: u8 = 3;
    pub const ARITH: u8 = 4;
    pub const MOVE: u8 = 5;
    pub const AGGREGATE: u8 = 6;
    pub const EMIT: u8 = 7;
    pub const FIRE: u8 = 8;
    pub const CALL: u8 = 9;
    pub const SET: u8 = 10;
}

/// The tags of a [`CallOut`].
pub(super) mod out_tag {
    pub const TEST: u8 = 0;
    pub const NOT_TEST: u8 = 1;
    pub const VALUE: u8 = 2;
    pub const EACH: u8 = 3;
    pub const HAS: u8 = 4;
    pub const LACKS: u8 = 5;
}

fn call_out(out: &mut Out, call_out: CallOut) {
    match call_out {
        CallOut::Test { negated: false } => out.u8(out_tag::TEST),
        CallOut::Test { negated: true } => out.u8(out_tag::NOT_TEST),
        CallOut::Value(dst) => {
            out.u8(out_tag::VALUE);
            out.u16(dst);
        }
        CallOut::Each(dst) => {
            out.u8(out_tag::EACH);
            out.u16(dst);
        }
        CallOut::Has(operand) => {
            out.u8(out_tag::HAS);
            out.operand(operand);
        }
        CallOut::Lacks(operand) => {
            out.u8(out_tag::LACKS);
            out.operand(operand);
        }
    }
}

fn instr(out: &mut Out, instr: &Instr) {
    match instr {
        Instr::Scan { rel, source, index, key, binds, checks } => {
            out.u8(op::SCAN);
            out.u32(*rel);
            out.u8(u8::from(*source == Source::Delta));
            out.opt_u16(*index);
            out.operands(key);
            out.len(binds.len());
            for (c, r) in binds {
                out.u8(*c);
                out.u16(*r);
            }
            out.len(checks.len());
            for (c, o) in checks {
                out.u8(*c);
                out.operand(*o);
            }
        }
        Instr::Absent { rel, index, key } => {
            out.u8(op::ABSENT);
            out.u32(*rel);
            out.opt_u16(*index);
            out.operands(key);
        }
        Instr::Compare { op: o, left, right } => {
            out.u8(op::COMPARE);
            out.u8(compare_code(*o));
            out.operand(*left);
            out.operand(*right);
        }
        Instr::Arith { op: o, dst, left, right } => {
            out.u8(op::ARITH);
            out.u8(arith_code(*o));
            out.u16(*dst);
            out.operand(*left);
            out.operand(*right);
        }
        Instr::Move { dst, src } => {
            out.u8(op::MOVE);
            out.u16(*dst);
            out.operand(*src);
        }
        Instr::Aggregate { function, ty, dst, target, locals, len } => {
            out.u8(op::AGGREGATE);
            out.u8(match function {
                AggregateFn::Count => 0,
                AggregateFn::Sum => 1,
                AggregateFn::Min => 2,
                AggregateFn::Max => 3,
            });
            out.base(*ty);
            out.u16(*dst);
            out.operand(*target);
            out.len(locals.len());
            for l in locals {
                out.u16(*l);
            }
            out.u32(*len);
        }
        Instr::Emit { rel, values } => {
            out.u8(op::EMIT);
            out.u32(*rel);
            out.operands(values);
        }
        Instr::Call { builtin, args, out: o } => {
            out.u8(op::CALL);
            // By name, so the catalogue's order may change without breaking bundles.
            out.str(builtin.name());
            out.operands(args);
            call_out(out, *o);
        }
        Instr::Set { values, out: o } => {
            out.u8(op::SET);
            out.operands(values);
            call_out(out, *o);
        }
        Instr::Fire { decision, values } => {
            out.u8(op::FIRE);
            out.u32(*decision);
            out.operands(values);
        }
    }
}

/// Encodes the payload, or says what the format cannot hold.
pub(super) fn payload(p: &Program) -> Result<Vec<u8>, WriteError> {
    let mut out = Out::default();
    for section in tag::ORDER {
        let mut body = Out::default();
        match section {
            tag::META => {
                body.str(&p.meta.package);
                body.str(&p.meta.compiler);
                body.str(&p.meta.source_hash);
                body.len(p.meta.files.len());
                for f in &p.meta.files {
                    body.str(f);
                }
                body.u8(u8::from(p.default_allow));
            }
            tag::STRINGS => {
                body.len(p.strings.len());
                for s in &p.strings {
                    body.str(s);
                }
            }
            tag::CONSTANTS => {
                body.len(p.constants.len());
                for v in &p.constants {
                    body.value(v);
                }
            }
            tag::RELATIONS => {
                body.len(p.relations.len());
                for r in &p.relations {
                    body.u32(r.name);
                    body.u8(match r.kind {
                        RelationKind::Input => 0,
                        RelationKind::Data => 1,
                        RelationKind::Derived => 2,
                        RelationKind::Builtin => 3,
                    });
                    body.u8(u8::from(r.one));
                    body.u8(u8::from(r.phase == Phase::Request));
                    body.len(r.columns.len());
                    for c in &r.columns {
                        body.opt_u32(c.name);
                        body.base(c.ty);
                        body.u32(c.type_name);
                        body.opt_u32(c.contents.map(|c| c.relation));
                        body.u8(u8::from(c.contents.is_some_and(|c| c.list)));
                    }
                    body.len(r.indexes.len());
                    for index in &r.indexes {
                        body.len(index.len());
                        for c in index {
                            body.u8(*c);
                        }
                    }
                }
            }
            tag::DECISIONS => {
                body.len(p.decisions.len());
                for d in &p.decisions {
                    body.u32(d.name);
                    body.u8(match d.effect {
                        Effect::Deny => 0,
                        Effect::Escalate => 1,
                        Effect::Allow => 2,
                        Effect::Obligation => 3,
                        Effect::Risk => 4,
                    });
                    match d.approver {
                        None => body.u8(0),
                        Some(Approver::Group(group)) => {
                            body.u8(1);
                            body.u32(group);
                        }
                        Some(Approver::Value) => body.u8(2),
                    }
                    body.len(d.message.len());
                    for part in &d.message {
                        match part {
                            MessagePart::Text(s) => {
                                body.u8(0);
                                body.u32(*s);
                            }
                            MessagePart::Value(i) => {
                                body.u8(1);
                                body.u32(u32::from(*i));
                            }
                        }
                    }
                    body.len(d.overrides.len());
                    for o in &d.overrides {
                        body.u32(*o);
                    }
                    body.source(d.source);
                }
            }
            tag::RULES => {
                body.len(p.rules.len());
                for r in &p.rules {
                    body.u16(r.registers);
                    body.source(r.source);
                    body.len(r.code.len());
                    for i in &r.code {
                        instr(&mut body, i);
                    }
                }
            }
            tag::STRATA => {
                body.len(p.strata.len());
                for s in &p.strata {
                    match s {
                        Stratum::Rules { phase, rules, delta_rules } => {
                            body.u8(0);
                            body.u8(u8::from(*phase == Phase::Request));
                            for list in [rules, delta_rules] {
                                body.len(list.len());
                                for r in list {
                                    body.u32(*r);
                                }
                            }
                        }
                        Stratum::RiskScore { rel } => {
                            body.u8(1);
                            body.u32(*rel);
                        }
                    }
                }
            }
            tag::DISPATCH => {
                body.len(p.dispatch.len());
                for key in &p.dispatch {
                    body.u32(key.rule);
                    body.u32(key.rel);
                    body.len(key.columns.len());
                    for &column in &key.columns {
                        body.u8(column);
                    }
                    body.len(key.constants.len());
                    for &constant in &key.constants {
                        body.u32(constant);
                    }
                }
            }
            _ => {
                body.len(p.data.len());
                for (rel, values) in &p.data {
                    body.u32(*rel);
                    body.len(values.len());
                    for v in values {
                        body.value(v);
                    }
                }
            }
        }
        out.section(section, body);
    }
    match out.1 {
        Some(error) => Err(error),
        None => Ok(out.0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A length the format's 32 bits cannot hold is an error, passed up from a section's
    /// body to the payload, never clamped to a length that reads back as something else.
    #[test]
    fn lengths_past_32_bits_are_errors() {
        let mut body = Out::default();
        body.len(u32::MAX as usize);
        assert!(body.1.is_none());
        let past = u32::MAX as usize + 1;
        body.len(past);
        body.len(past + 1);
        let mut out = Out::default();
        out.section(tag::META, body);
        assert_eq!(out.1, Some(WriteError::TooLong { len: past }));
    }
}
