//! Payload bytes to program. Mirrors `encode.rs`; every read is bounds-checked and every
//! count is checked against the bytes left before anything is allocated.

use super::encode::{op, out_tag, tag};
use crate::program::*;
use crate::{LoadError, LoadErrorKind, Value};
use gov_value::{ArithOp, BaseType, CompareOp, Decimal};

struct In<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes[0]` in the whole bundle, for error messages.
    base: usize,
}

type R<T> = Result<T, LoadError>;

impl<'a> In<'a> {
    /// A [`LoadErrorKind::Malformed`] error at the current position.
    fn fail<T>(&self, message: impl Into<String>) -> R<T> {
        self.fail_as(LoadErrorKind::Malformed, message)
    }
    fn fail_as<T>(&self, kind: LoadErrorKind, message: impl Into<String>) -> R<T> {
        Err(LoadError::new(kind, self.base + self.pos, message))
    }
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        match self.bytes.get(self.pos..self.pos.saturating_add(n)) {
            Some(slice) => {
                self.pos += n;
                Ok(slice)
            }
            None => self.fail_as(
                LoadErrorKind::Truncated,
                format!("truncated: needed {n} more bytes, {} left", self.bytes.len().saturating_sub(self.pos)),
            ),
        }
    }
    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        let slice = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
    fn u8(&mut self) -> R<u8> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    fn u16(&mut self) -> R<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> R<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> R<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    /// A count of items at least `min_size` bytes each, checked against what remains.
    fn count(&mut self, min_size: usize) -> R<usize> {
        let n = self.u32()? as usize;
        let left = self.bytes.len().saturating_sub(self.pos);
        if n.saturating_mul(min_size.max(1)) > left {
            return self.fail(format!("count {n} cannot fit in the {left} bytes left"));
        }
        Ok(n)
    }
    fn str(&mut self) -> R<String> {
        let n = self.count(1)?;
        let at = self.pos;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| LoadError::new(LoadErrorKind::Malformed, self.base + at, "string is not UTF-8"))
    }
    fn opt_u16(&mut self) -> R<Option<u16>> {
        let v = self.u16()?;
        Ok((v != u16::MAX).then_some(v))
    }
    fn opt_u32(&mut self) -> R<Option<u32>> {
        let v = self.u32()?;
        Ok((v != u32::MAX).then_some(v))
    }
    fn base_type(&mut self) -> R<BaseType> {
        match self.u8()? {
            0 => Ok(BaseType::Int),
            1 => Ok(BaseType::Decimal),
            2 => Ok(BaseType::Str),
            3 => Ok(BaseType::Bool),
            4 => Ok(BaseType::Time),
            5 => Ok(BaseType::Duration),
            other => self.fail(format!("unknown type code {other}")),
        }
    }
    fn value(&mut self) -> R<Value> {
        Ok(match self.u8()? {
            0 => Value::Int(self.i64()?),
            1 => Value::Decimal(Decimal::deserialize(self.array()?)),
            2 => Value::Str(self.u32()?),
            3 => match self.u8()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return self.fail(format!("invalid Bool byte {other}")),
            },
            4 => Value::Time(self.i64()?),
            5 => Value::Duration(self.i64()?),
            other => return self.fail(format!("unknown value tag {other}")),
        })
    }
    fn operand(&mut self) -> R<Operand> {
        match self.u8()? {
            0 => Ok(Operand::Reg(self.u16()?)),
            1 => Ok(Operand::Const(self.u32()?)),
            other => self.fail(format!("unknown operand tag {other}")),
        }
    }
    fn operands(&mut self) -> R<Vec<Operand>> {
        let n = self.count(3)?;
        (0..n).map(|_| self.operand()).collect()
    }
    fn u32s(&mut self) -> R<Vec<u32>> {
        let n = self.count(4)?;
        (0..n).map(|_| self.u32()).collect()
    }
    fn source(&mut self) -> R<SourceRef> {
        Ok(SourceRef { file: self.u32()?, line: self.u32()?, column: self.u32()? })
    }
    fn phase(&mut self) -> R<Phase> {
        match self.u8()? {
            0 => Ok(Phase::Static),
            1 => Ok(Phase::Request),
            other => self.fail(format!("unknown phase {other}")),
        }
    }
    fn done(&self, what: &str) -> R<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            self.fail(format!("{} unexpected bytes at the end of the {what} section", self.bytes.len() - self.pos))
        }
    }
}

fn compare_op(code: u8) -> Option<CompareOp> {
    [CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge]
        .get(code as usize)
        .copied()
}

fn arith_op(code: u8) -> Option<ArithOp> {
    [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div].get(code as usize).copied()
}

fn call_out(r: &mut In<'_>) -> R<CallOut> {
    Ok(match r.u8()? {
        out_tag::TEST => CallOut::Test { negated: false },
        out_tag::NOT_TEST => CallOut::Test { negated: true },
        out_tag::VALUE => CallOut::Value(r.u16()?),
        out_tag::EACH => CallOut::Each(r.u16()?),
        out_tag::HAS => CallOut::Has(r.operand()?),
        out_tag::LACKS => CallOut::Lacks(r.operand()?),
        other => return r.fail(format!("unknown call output {other}")),
    })
}

fn instr(r: &mut In<'_>) -> R<Instr> {
    Ok(match r.u8()? {
        op::SCAN => {
            let rel = r.u32()?;
            let source = match r.u8()? {
                0 => Source::Full,
                1 => Source::Delta,
                other => return r.fail(format!("unknown scan source {other}")),
            };
            let index = r.opt_u16()?;
            let key = r.operands()?;
            let n = r.count(3)?;
            let binds = (0..n).map(|_| Ok((r.u8()?, r.u16()?))).collect::<R<Vec<_>>>()?;
            let n = r.count(4)?;
            let checks = (0..n).map(|_| Ok((r.u8()?, r.operand()?))).collect::<R<Vec<_>>>()?;
            Instr::Scan { rel, source, index, key, binds, checks }
        }
        op::ABSENT => Instr::Absent { rel: r.u32()?, index: r.opt_u16()?, key: r.operands()? },
        op::COMPARE => {
            let code = r.u8()?;
            let Some(op) = compare_op(code) else { return r.fail(format!("unknown comparison {code}")) };
            Instr::Compare { op, left: r.operand()?, right: r.operand()? }
        }
        op::ARITH => {
            let code = r.u8()?;
            let Some(op) = arith_op(code) else { return r.fail(format!("unknown arithmetic operator {code}")) };
            Instr::Arith { op, dst: r.u16()?, left: r.operand()?, right: r.operand()? }
        }
        op::MOVE => Instr::Move { dst: r.u16()?, src: r.operand()? },
        op::AGGREGATE => {
            let function = match r.u8()? {
                0 => AggregateFn::Count,
                1 => AggregateFn::Sum,
                2 => AggregateFn::Min,
                3 => AggregateFn::Max,
                other => return r.fail(format!("unknown aggregate function {other}")),
            };
            let ty = r.base_type()?;
            let dst = r.u16()?;
            let target = r.operand()?;
            let n = r.count(2)?;
            let locals = (0..n).map(|_| r.u16()).collect::<R<Vec<_>>>()?;
            Instr::Aggregate { function, ty, dst, target, locals, len: r.u32()? }
        }
        op::EMIT => Instr::Emit { rel: r.u32()?, values: r.operands()? },
        op::FIRE => Instr::Fire { decision: r.u32()?, values: r.operands()? },
        op::CALL => {
            let at = r.pos;
            let name = r.str()?;
            let Some(builtin) = gov_builtins::Builtin::from_name(&name) else {
                r.pos = at;
                return r.fail(format!("unknown built-in `{name}` (built by a newer govc?)"));
            };
            let args = r.operands()?;
            let params = builtin.signature().params.len();
            if args.len() != params {
                r.pos = at;
                let plural = if params == 1 { "argument" } else { "arguments" };
                return r.fail(format!("built-in `{name}` takes {params} {plural}, the bundle gives {}", args.len()));
            }
            Instr::Call { builtin, args, out: call_out(r)? }
        }
        op::SET => Instr::Set { values: r.operands()?, out: call_out(r)? },
        other => return r.fail(format!("unknown opcode {other}")),
    })
}

/// Decodes the payload; `base` is the payload's offset in the bundle.
pub(super) fn payload(bytes: &[u8], base: usize) -> R<Program> {
    let mut outer = In { bytes, pos: 0, base };
    let mut program = Program::default();
    for expected in tag::ORDER {
        let found = outer.u8()?;
        if found != expected {
            return outer.fail(format!("expected section {expected}, found section {found}"));
        }
        let len = outer.count(1)?;
        let section_base = base + outer.pos;
        let body = outer.take(len)?;
        let mut r = In { bytes: body, pos: 0, base: section_base };
        section(&mut r, expected, &mut program)?;
    }
    outer.done("payload")?;
    Ok(program)
}

fn section(r: &mut In<'_>, which: u8, p: &mut Program) -> R<()> {
    match which {
        tag::META => {
            p.meta.package = r.str()?;
            p.meta.compiler = r.str()?;
            p.meta.source_hash = r.str()?;
            let n = r.count(4)?;
            p.meta.files = (0..n).map(|_| r.str()).collect::<R<_>>()?;
            p.default_allow = match r.u8()? {
                0 => false,
                1 => true,
                other => return r.fail(format!("invalid default byte {other}")),
            };
            r.done("meta")
        }
        tag::STRINGS => {
            let n = r.count(4)?;
            p.strings = (0..n).map(|_| r.str()).collect::<R<_>>()?;
            r.done("strings")
        }
        tag::CONSTANTS => {
            let n = r.count(2)?;
            p.constants = (0..n).map(|_| r.value()).collect::<R<_>>()?;
            r.done("constants")
        }
        tag::RELATIONS => {
            let n = r.count(15)?;
            for _ in 0..n {
                let name = r.u32()?;
                let kind = match r.u8()? {
                    0 => RelationKind::Input,
                    1 => RelationKind::Data,
                    2 => RelationKind::Derived,
                    3 => RelationKind::Builtin,
                    other => return r.fail(format!("unknown relation kind {other}")),
                };
                let one = match r.u8()? {
                    0 => false,
                    1 => true,
                    other => return r.fail(format!("unknown relation multiplicity {other}")),
                };
                let phase = r.phase()?;
                let c = r.count(9)?;
                let columns = (0..c)
                    .map(|_| {
                        let (name, ty, type_name) = (r.opt_u32()?, r.base_type()?, r.u32()?);
                        let relation = r.opt_u32()?;
                        let list = match r.u8()? {
                            0 => false,
                            1 => true,
                            other => return r.fail(format!("unknown column contents {other}")),
                        };
                        Ok(ColumnSchema {
                            name,
                            ty,
                            type_name,
                            contents: relation.map(|relation| Contents { relation, list }),
                        })
                    })
                    .collect::<R<Vec<_>>>()?;
                let k = r.count(4)?;
                let indexes = (0..k)
                    .map(|_| {
                        let m = r.count(1)?;
                        (0..m).map(|_| r.u8()).collect::<R<Vec<u8>>>()
                    })
                    .collect::<R<Vec<_>>>()?;
                p.relations.push(RelationSchema { name, kind, one, phase, columns, indexes });
            }
            r.done("relations")
        }
        tag::DECISIONS => {
            // name 4, effect 1, approver kind 1, message count 4, overrides count 4, source 12.
            let n = r.count(26)?;
            for _ in 0..n {
                let name = r.u32()?;
                let effect = match r.u8()? {
                    0 => Effect::Deny,
                    1 => Effect::Escalate,
                    2 => Effect::Allow,
                    3 => Effect::Obligation,
                    4 => Effect::Risk,
                    other => return r.fail(format!("unknown effect {other}")),
                };
                let approver = match r.u8()? {
                    0 => None,
                    1 => Some(Approver::Group(r.u32()?)),
                    2 => Some(Approver::Value),
                    other => return r.fail(format!("unknown approver kind {other}")),
                };
                let m = r.count(5)?;
                let message = (0..m)
                    .map(|_| match r.u8()? {
                        0 => Ok(MessagePart::Text(r.u32()?)),
                        1 => {
                            let i = r.u32()?;
                            match u16::try_from(i) {
                                Ok(i) => Ok(MessagePart::Value(i)),
                                Err(_) => r.fail(format!("message value index {i} too large")),
                            }
                        }
                        other => r.fail(format!("unknown message part {other}")),
                    })
                    .collect::<R<Vec<_>>>()?;
                let overrides = r.u32s()?;
                let source = r.source()?;
                p.decisions.push(DecisionMeta { name, effect, approver, message, overrides, source });
            }
            r.done("decisions")
        }
        tag::RULES => {
            let n = r.count(18)?;
            for _ in 0..n {
                let registers = r.u16()?;
                let source = r.source()?;
                let m = r.count(5)?;
                let code = (0..m).map(|_| instr(r)).collect::<R<Vec<_>>>()?;
                p.rules.push(RuleCode { registers, code, source });
            }
            r.done("rules")
        }
        tag::STRATA => {
            let n = r.count(5)?;
            for _ in 0..n {
                let stratum = match r.u8()? {
                    0 => Stratum::Rules { phase: r.phase()?, rules: r.u32s()?, delta_rules: r.u32s()? },
                    1 => Stratum::RiskScore { rel: r.u32()? },
                    other => return r.fail(format!("unknown stratum kind {other}")),
                };
                p.strata.push(stratum);
            }
            r.done("strata")
        }
        tag::DISPATCH => {
            let n = r.count(16)?;
            for _ in 0..n {
                let (rule, rel) = (r.u32()?, r.u32()?);
                let m = r.count(1)?;
                let columns = (0..m).map(|_| r.u8()).collect::<R<Vec<_>>>()?;
                let constants = r.u32s()?;
                p.dispatch.push(RuleKey { rule, rel, columns, constants });
            }
            r.done("rule keys")
        }
        _ => {
            let n = r.count(8)?;
            for _ in 0..n {
                let rel = r.u32()?;
                let m = r.count(2)?;
                let values = (0..m).map(|_| r.value()).collect::<R<Vec<_>>>()?;
                p.data.push((rel, values));
            }
            r.done("data")
        }
    }
}
