//! Near misses: for a decision rule that did not fire, how far its body got and the first
//! condition that failed, with the values bound when it was reached. `govc test` names the
//! closest rule of the effect a failing test expected.

use crate::EvalError;
use crate::eval::{Evaluated, reach};
use crate::json::value;
use crate::program::{Instr, Operand, Program};
use crate::value::{Strings, Value};

/// A decision rule that did not fire, and where its body stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// The decision rule's id (into [`Program::decisions`]).
    pub decision: u32,
    /// How many of the body's conditions held (in the compiled order: scans, negations,
    /// comparisons and aggregates; bindings with `=` and arithmetic do not count).
    pub held: usize,
    /// How many conditions the body has.
    pub conditions: usize,
    /// The first condition that failed, with the values bound when it was reached:
    /// `no fact matches limit(agent: "bot-2", max: _)`, `10 > 5000 does not hold`.
    pub failed: String,
}

/// The near miss of `decision` in `evaluated` (a request evaluated to its end), or `None`
/// when its body holds (it fired) or it has no rule.
pub(crate) fn near_miss(evaluated: &Evaluated<'_>, decision: u32) -> Result<Option<NearMiss>, EvalError> {
    let Evaluated { program, strings, .. } = *evaluated;
    let found = program
        .rules
        .iter()
        .enumerate()
        .find(|(_, r)| matches!(r.code.last(), Some(Instr::Fire { decision: d, .. }) if *d == decision));
    let Some((rule, code)) = found else { return Ok(None) };
    let rule = u32::try_from(rule).map_err(|_| EvalError::Corrupt("rule id out of range"))?;
    // The top-level steps before the `Fire`, an aggregate with its sub-plan as one, each
    // tried with the code before it: the first that no binding gets past failed.
    let fire = code.code.len().saturating_sub(1);
    let conditions = top_level(&code.code, fire).filter(|&pc| counts(code.code.get(pc))).count();
    let mut registers = vec![Value::Int(0); code.registers as usize];
    let mut held = 0;
    for pc in top_level(&code.code, fire) {
        let instr = code.code.get(pc);
        let failed = match reach(evaluated, rule, pc + instr.map_or(1, Instr::step_len)) {
            Ok(Some(reached)) => {
                registers = reached;
                held += usize::from(counts(instr));
                continue;
            }
            Ok(None) => describe(program, strings, instr, &registers),
            Err(error) => format!("evaluation error: {error}"),
        };
        return Ok(Some(NearMiss { decision, held, conditions, failed }));
    }
    Ok(None)
}

/// The start of each top-level step of `code[..end]`.
fn top_level(code: &[Instr], end: usize) -> impl Iterator<Item = usize> + '_ {
    std::iter::successors(Some(0), move |&pc| Some(pc + code.get(pc).map_or(1, Instr::step_len)))
        .take_while(move |&pc| pc < end)
}

/// Whether a step is a condition that can fail (a binding or arithmetic is not).
fn counts(instr: Option<&Instr>) -> bool {
    matches!(
        instr,
        Some(
            Instr::Scan { .. }
                | Instr::Absent { .. }
                | Instr::Compare { .. }
                | Instr::Aggregate { .. }
                | Instr::Call { .. }
                | Instr::Set { .. }
        )
    )
}

/// The failed step in words, with the values of `registers` (bound when it was reached).
fn describe(program: &Program, strings: Strings<'_>, instr: Option<&Instr>, registers: &[Value]) -> String {
    let operand = |operand: &Operand| {
        let v = match operand {
            Operand::Reg(r) => registers.get(*r as usize).copied(),
            Operand::Const(c) => program.constants.get(*c as usize).copied(),
        };
        v.map_or_else(|| "?".to_owned(), |v| value(strings, v).to_string())
    };
    match instr {
        Some(Instr::Scan { rel, index, key, checks, .. }) => {
            let known = known_columns(program, *rel, *index, key, checks);
            format!("no fact matches {}", atom(program, *rel, &known, &operand))
        }
        Some(Instr::Absent { rel, index, key }) => {
            let known = known_columns(program, *rel, *index, key, &[]);
            format!("a fact matches {}, which the rule negates", atom(program, *rel, &known, &operand))
        }
        Some(Instr::Compare { op, left, right }) => {
            format!("{} {} {} does not hold", operand(left), op.symbol(), operand(right))
        }
        Some(Instr::Aggregate { function, .. }) => format!("`{}` over no values has no result", function.name()),
        Some(Instr::Call { builtin, .. }) => {
            format!("`{}` does not hold (or yields nothing that fits)", builtin.name())
        }
        Some(Instr::Set { .. }) => "the value is not in the set (or is, after `not`)".to_owned(),
        _ => "the rule's code could not run".to_owned(),
    }
}

/// The columns a scan or a negation constrains, with the operand each must equal.
fn known_columns<'i>(
    program: &Program,
    rel: u32,
    index: Option<u16>,
    key: &'i [Operand],
    checks: &'i [(u8, Operand)],
) -> Vec<(usize, &'i Operand)> {
    let columns = index
        .and_then(|i| program.relations.get(rel as usize).and_then(|r| r.indexes.get(i as usize)))
        .map_or(&[][..], Vec::as_slice);
    let mut known: Vec<(usize, &Operand)> = columns.iter().map(|&c| c as usize).zip(key).collect();
    known.extend(checks.iter().map(|(c, o)| (*c as usize, o)));
    known
}

/// `relation(field: value, other: _)`: the known columns' values, `_` for the others.
fn atom(program: &Program, rel: u32, known: &[(usize, &Operand)], operand: &dyn Fn(&Operand) -> String) -> String {
    let Some(schema) = program.relations.get(rel as usize) else { return "?".to_owned() };
    let args: Vec<String> = schema
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let value = known.iter().find(|(c, _)| *c == i).map_or_else(|| "_".to_owned(), |(_, o)| operand(o));
            match column.name {
                Some(name) => format!("{}: {value}", program.string(name)),
                None => value,
            }
        })
        .collect();
    format!("{}({})", program.string(schema.name), args.join(", "))
}
