//! A readable listing of a program's code, like `objdump -d`: every stratum in evaluation
//! order, every rule with its source location, one instruction per line with its operands
//! named (relations and columns by name, registers as `r3`, constants as literals).
//!
//! ```text
//! stratum 33: request (rules 59)
//!   rule 59: over_limit  (examples/payments/payments.gov:26:1, 4 registers)
//!        0  scan       transfer  bind agent → r0, amount → r1
//!        1  scan       role  index 0 (agent = r0)  bind role → r2
//!        2  scan       limit  index 0 (role = r2)  bind max → r3
//!        3  compare    r1 > r3
//!        4  emit       over_limit(r0, r1, r3)
//! ```
//!
//! Aggregate sub-plans are indented under their `aggregate`. The format is for people: it
//! may change between versions, unlike the bundle format (docs/bytecode.md explains it).

use crate::Value;
use crate::dispatch::{Keys, demanded, head, rule_keys};
use crate::exec::Code;
use crate::guards::Guards;
use crate::kernel::Kernels;
use crate::one::OneSlots;
use crate::program::{CallOut, Effect, Phase, RelationKind};
use crate::program::{Instr, MessagePart, Operand, Program, RelationSchema, RuleCode, RuleKey, Source, Stratum};
use std::fmt::Write;

/// The listing of every stratum and rule of `program` (rules no stratum runs come last).
pub fn disassemble(program: &Program) -> String {
    let kernels = Kernels::of(program, &Code::of(program), &OneSlots::of(program));
    let keys = demanded(program, &rule_keys(program, &Guards::of(program)));
    let mut out = String::new();
    let mut listed = vec![false; program.rules.len()];
    for (i, stratum) in program.strata.iter().enumerate() {
        match stratum {
            Stratum::Rules { phase, rules, delta_rules } => {
                let phase = phase_name(*phase);
                if delta_rules.is_empty() {
                    let _ = writeln!(out, "stratum {i}: {phase} (rules {})", ids(rules));
                } else {
                    let _ = writeln!(
                        out,
                        "stratum {i}: {phase}, recursive (rules {}; then, until nothing is new, delta rules {})",
                        ids(rules),
                        ids(delta_rules)
                    );
                }
                for (&rule, delta) in rules.iter().map(|r| (r, false)).chain(delta_rules.iter().map(|r| (r, true))) {
                    if let Some(slot) = listed.get_mut(rule as usize) {
                        *slot = true;
                    }
                    out.push_str(&rule_listing(program, &kernels, &keys, rule, delta));
                }
            }
            Stratum::RiskScore { rel } => {
                let _ = writeln!(
                    out,
                    "stratum {i}: request, risk score into {} (the sum of each fired `risk` rule's largest points)",
                    relation_name(program, *rel)
                );
            }
        }
    }
    let orphans: Vec<u32> =
        listed.iter().enumerate().filter(|(_, l)| !**l).filter_map(|(i, _)| u32::try_from(i).ok()).collect();
    if !orphans.is_empty() {
        let _ = writeln!(out, "rules no stratum runs ({})", ids(&orphans));
        for rule in orphans {
            out.push_str(&rule_listing(program, &kernels, &keys, rule, false));
        }
    }
    out
}

/// The listing of one rule: a header line, whether it runs as a kernel, and one line per
/// instruction.
fn rule_listing(program: &Program, kernels: &Kernels, keys: &[Keys], rule: u32, delta: bool) -> String {
    let mut out = String::new();
    let Some(code) = program.rules.get(rule as usize) else {
        let _ = writeln!(out, "  rule {rule}: missing");
        return out;
    };
    let what = if delta { "delta rule" } else { "rule" };
    let plural = if code.registers == 1 { "" } else { "s" };
    let _ = writeln!(
        out,
        "  {what} {rule}: {}  ({}, {} register{plural})",
        rule_head(program, code),
        location(program, code.source),
        code.registers
    );
    let under = keys.get(rule as usize).filter(|_| !delta).map_or(&[][..], Keys::under);
    if !under.is_empty() {
        let facts: Vec<String> =
            under.iter().filter_map(|&k| program.dispatch.get(k as usize)).map(|key| key_fact(program, key)).collect();
        let (when, through) = match keys.get(rule as usize) {
            Some(Keys::Through { through, .. }) => ("", format!(" (through {})", relation_name(program, *through))),
            Some(Keys::Demanded { read, .. }) => {
                ("when deciding, ", format!(" (as every rule reading {})", relation_name(program, *read)))
            }
            _ => ("", String::new()),
        };
        let _ = writeln!(out, "          keyed: {when}runs only for a fact {}{through}", facts.join(" or "));
    }
    if let (Some(rel), Some(Keys::Unread)) = (head(code), keys.get(rule as usize)) {
        let read = relation_name(program, rel);
        let _ = writeln!(out, "          unread: when deciding, never runs (no rule that can run reads {read})");
    }
    if let Some(kernel) = kernels.get(rule) {
        let what = kernel.describe(|rel| relation_name(program, rel), |d| decision_name(program, d));
        // A decision holds an input relation of one fact as that row, which only the
        // interpreter reads.
        let input = |rel: u32| program.relations.get(rel as usize).is_some_and(|r| r.kind == RelationKind::Input);
        let inputs: Vec<String> = std::iter::once(kernel.scanned().0)
            .chain(kernel.probed())
            .filter(|&rel| input(rel))
            .map(|rel| relation_name(program, rel))
            .collect();
        let _ = match inputs.as_slice() {
            [] => writeln!(out, "          kernel: {what}"),
            _ => writeln!(
                out,
                "          kernel: {what}; by instructions while a decision holds {} as one fact",
                inputs.join(" or ")
            ),
        };
    }
    // Ends of the aggregate sub-plans enclosing the current instruction.
    let mut open: Vec<usize> = Vec::new();
    for (pc, instr) in code.code.iter().enumerate() {
        while open.last().is_some_and(|&end| end <= pc) {
            open.pop();
        }
        let indent = "  ".repeat(open.len());
        let (mnemonic, operands) = instruction(program, instr, pc);
        let _ = writeln!(out, "  {pc:>6}  {indent}{mnemonic:<10} {operands}");
        if let Instr::Aggregate { .. } = instr {
            open.push(pc + instr.step_len());
        }
    }
    out
}

/// What a rule produces: `over_limit`, or `deny too_large "…"` for a decision rule.
fn rule_head(program: &Program, code: &RuleCode) -> String {
    match code.code.last() {
        Some(Instr::Emit { rel, .. }) => relation_name(program, *rel),
        Some(Instr::Fire { decision, .. }) => decision_name(program, *decision),
        _ => "?".to_owned(),
    }
}

/// A decision rule as its head reads: `deny too_large`.
fn decision_name(program: &Program, decision: u32) -> String {
    match program.decisions.get(decision as usize) {
        Some(d) => format!("{} {}", d.effect.keyword(), program.string(d.name)),
        None => format!("decision #{decision}"),
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Static => "static",
        Phase::Request => "request",
    }
}

fn ids(list: &[u32]) -> String {
    if list.is_empty() {
        // A recursive stratum whose every rule reads the stratum runs nothing first.
        return "none".to_owned();
    }
    list.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

/// `file:line:column`.
pub fn location(program: &Program, source: crate::program::SourceRef) -> String {
    format!("{}:{}:{}", program.string(source.file), source.line, source.column)
}

fn relation_name(program: &Program, rel: u32) -> String {
    match program.relations.get(rel as usize) {
        Some(r) => program.string(r.name).to_owned(),
        None => format!("relation#{rel}"),
    }
}

/// A column's name, or `#n` for the unnamed columns of derived relations.
pub fn column_name(program: &Program, schema: Option<&RelationSchema>, column: usize) -> String {
    match schema.and_then(|s| s.columns.get(column)).and_then(|c| c.name) {
        Some(name) => program.string(name).to_owned(),
        None => format!("#{column}"),
    }
}

/// A value as a Gov literal: `5000`, `12.5`, `"acct-9"`, `true`, `2026-01-31T09:00:00Z`, `15m`.
pub fn literal(program: &Program, value: Value) -> String {
    match value {
        Value::Int(i) => i.to_string(),
        Value::Decimal(d) => {
            let text = d.to_string();
            if text.contains('.') { text } else { format!("{text}.0") }
        }
        Value::Str(s) => match program.strings.get(s as usize) {
            Some(text) => format!("{text:?}"),
            None => format!("string#{s}"),
        },
        Value::Bool(b) => b.to_string(),
        Value::Time(t) => gov_value::format_time(t),
        Value::Duration(d) => gov_value::format_duration(d),
    }
}

fn operand(program: &Program, operand: Operand) -> String {
    match operand {
        Operand::Reg(r) => format!("r{r}"),
        Operand::Const(c) => match program.constants.get(c as usize) {
            Some(value) => literal(program, *value),
            None => format!("const#{c}"),
        },
    }
}

fn operands(program: &Program, list: &[Operand]) -> String {
    list.iter().map(|o| operand(program, *o)).collect::<Vec<_>>().join(", ")
}

/// The fact a key asks for: `tool_call(tool = "deploy", target = "production")`.
fn key_fact(program: &Program, key: &RuleKey) -> String {
    let schema = program.relations.get(key.rel as usize);
    let tests: Vec<String> = key
        .columns
        .iter()
        .zip(&key.constants)
        .map(|(&column, &c)| {
            let value = program.constants.get(c as usize).map_or_else(|| "?".to_owned(), |v| literal(program, *v));
            format!("{} = {value}", column_name(program, schema, usize::from(column)))
        })
        .collect();
    format!("{}({})", relation_name(program, key.rel), tests.join(", "))
}

/// ` index 0 (agent = r0)`, or nothing without an index.
fn keyed(program: &Program, schema: Option<&RelationSchema>, index: Option<u16>, key: &[Operand]) -> String {
    let Some(index) = index else { return String::new() };
    let columns = schema.and_then(|s| s.indexes.get(usize::from(index)));
    let pairs: Vec<String> = key
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let column = columns
                .and_then(|c| c.get(i))
                .map_or_else(|| "?".to_owned(), |&c| column_name(program, schema, usize::from(c)));
            format!("{column} = {}", operand(program, *o))
        })
        .collect();
    format!("  index {index} ({})", pairs.join(", "))
}

/// A call or a set with what is done with its result: `str.lower(r0) → r1`,
/// `each str.split(r0, " ") → r1`, `r1 in {"a", "b"}`, `not str.contains(r0, "x")`.
fn call_out(program: &Program, callee: &str, out: CallOut) -> String {
    match out {
        CallOut::Test { negated: false } => callee.to_owned(),
        CallOut::Test { negated: true } => format!("not {callee}"),
        CallOut::Value(dst) => format!("{callee} → r{dst}"),
        CallOut::Each(dst) => format!("each {callee} → r{dst}"),
        CallOut::Has(o) => format!("{} in {callee}", operand(program, o)),
        CallOut::Lacks(o) => format!("{} not in {callee}", operand(program, o)),
    }
}

/// The mnemonic and operands of one instruction.
fn instruction(program: &Program, instr: &Instr, pc: usize) -> (&'static str, String) {
    match instr {
        Instr::Scan { rel, source, index, key, binds, checks } => {
            let schema = program.relations.get(*rel as usize);
            let mut text = relation_name(program, *rel);
            if *source == Source::Delta {
                text.push_str(" Δ");
            }
            text.push_str(&keyed(program, schema, *index, key));
            if !binds.is_empty() {
                let binds: Vec<String> = binds
                    .iter()
                    .map(|(c, r)| format!("{} → r{r}", column_name(program, schema, usize::from(*c))))
                    .collect();
                let _ = write!(text, "  bind {}", binds.join(", "));
            }
            if !checks.is_empty() {
                let checks: Vec<String> = checks
                    .iter()
                    .map(|(c, o)| {
                        format!("{} = {}", column_name(program, schema, usize::from(*c)), operand(program, *o))
                    })
                    .collect();
                let _ = write!(text, "  check {}", checks.join(", "));
            }
            ("scan", text)
        }
        Instr::Absent { rel, index, key } => {
            let schema = program.relations.get(*rel as usize);
            let mut text = relation_name(program, *rel);
            if index.is_none() {
                text.push_str("  (no rows at all)");
            }
            text.push_str(&keyed(program, schema, *index, key));
            ("absent", text)
        }
        Instr::Compare { op, left, right } => {
            ("compare", format!("{} {} {}", operand(program, *left), op.symbol(), operand(program, *right)))
        }
        Instr::Arith { op, dst, left, right } => {
            ("arith", format!("r{dst} = {} {} {}", operand(program, *left), op.symbol(), operand(program, *right)))
        }
        Instr::Move { dst, src } => ("move", format!("r{dst} = {}", operand(program, *src))),
        Instr::Aggregate { function, ty, dst, target, locals, len } => {
            let name = function.name();
            let locals: Vec<String> = locals.iter().map(|r| format!("r{r}")).collect();
            let body = match len {
                0 => "empty body".to_owned(),
                1 => format!("body {}", pc + 1),
                n => format!("body {}..={}", pc + 1, pc + *n as usize),
            };
            (
                "aggregate",
                format!(
                    "r{dst} = {name}({}): {ty}  distinct ({})  {body}",
                    operand(program, *target),
                    locals.join(", ")
                ),
            )
        }
        Instr::Call { builtin, args, out } => {
            ("call", call_out(program, &format!("{}({})", builtin.name(), operands(program, args)), *out))
        }
        Instr::Set { values, out } => ("set", call_out(program, &format!("{{{}}}", operands(program, values)), *out)),
        Instr::Emit { rel, values } => {
            ("emit", format!("{}({})", relation_name(program, *rel), operands(program, values)))
        }
        Instr::Fire { decision, values } => {
            let text = match program.decisions.get(*decision as usize) {
                Some(d) if d.leading_values() > 0 && !values.is_empty() => {
                    let lead = if d.effect == Effect::Risk { "points" } else { "approver" };
                    let list: Vec<String> =
                        values
                            .iter()
                            .enumerate()
                            .map(|(i, o)| {
                                if i == 0 { format!("{lead} = {}", operand(program, *o)) } else { operand(program, *o) }
                            })
                            .collect();
                    format!("{} {}({})", d.effect.keyword(), program.string(d.name), list.join(", "))
                }
                Some(d) => format!("{} {}({})", d.effect.keyword(), program.string(d.name), operands(program, values)),
                None => format!("decision#{decision}({})", operands(program, values)),
            };
            ("fire", text)
        }
    }
}

/// A decision's message with `{n}` for the `n`th value of a firing (after the points of a
/// `risk` rule); literal braces are doubled.
pub fn message_template(program: &Program, parts: &[MessagePart]) -> String {
    parts
        .iter()
        .map(|part| match part {
            MessagePart::Text(s) => program.string(*s).replace('{', "{{").replace('}', "}}"),
            MessagePart::Value(i) => format!("{{{i}}}"),
        })
        .collect()
}
