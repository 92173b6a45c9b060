//! Structural validation of a decoded program: every reference in range, every rule well
//! formed. After this passes, evaluation can fail only with run-time errors (types,
//! arithmetic, limits), never by indexing out of bounds or recursing without bound.

use crate::Value;
use crate::eval::MAX_KEY;
use crate::program::*;
use gov_builtins::Output;
use gov_value::BaseType;
use gov_value::limits::MAX_COLUMNS;
use std::collections::HashMap;

/// Most instructions one rule may have (shared with the checker, which reports longer
/// rules as `E0601`).
pub use gov_value::limits::MAX_RULE_LENGTH;

type V = Result<(), String>;

fn check(ok: bool, message: impl FnOnce() -> String) -> V {
    if ok { Ok(()) } else { Err(message()) }
}

/// Checks a program; the error says what is wrong and where.
pub fn validate(p: &Program) -> V {
    unique("string", p.strings.iter().map(String::as_str))?;
    let strings = p.strings.len();
    let sym = |s: Sym, what: &str| {
        check((s as usize) < strings, || format!("{what} refers to string {s}, but there are {strings}"))
    };
    let value_ok = |v: &Value| !matches!(v, Value::Str(s) if *s as usize >= strings);
    for (i, c) in p.constants.iter().enumerate() {
        check(value_ok(c), || format!("constant {i} refers to a missing string"))?;
    }
    for (i, r) in p.relations.iter().enumerate() {
        sym(r.name, &format!("relation {i}"))?;
        check(r.columns.len() <= MAX_COLUMNS, || format!("relation {i} has more than {MAX_COLUMNS} columns"))?;
        for c in &r.columns {
            if let Some(name) = c.name {
                sym(name, &format!("a column of relation {i}"))?;
            }
            sym(c.type_name, &format!("a column type of relation {i}"))?;
            if let Some(contents) = c.contents {
                // Invariant: the reader fills a list's or object's relation from the same
                // document as its field's, so it is of the same kind, further on (no cycle),
                // and its first column is the identifier.
                let target = p.relations.get(contents.relation as usize);
                check(
                    contents.relation as usize > i
                        && target.is_some_and(|t| {
                            t.kind == r.kind
                                && !t.one
                                && t.columns.first().is_some_and(|c| c.ty == BaseType::Int)
                                && (!contents.list || t.columns.len() == 2)
                        })
                        && c.ty == BaseType::Int,
                    || format!("a column of relation {i} has contents in an unfit relation {}", contents.relation),
                )?;
            }
        }
        for index in &r.indexes {
            check(!index.is_empty() && index.len() <= MAX_KEY, || {
                format!("relation {i} has an index of {} columns", index.len())
            })?;
            check(index.iter().all(|&c| usize::from(c) < r.columns.len()), || {
                format!("an index of relation {i} names a missing column")
            })?;
        }
        check(r.kind != RelationKind::Builtin || r.columns.len() == 1, || {
            format!("relation {i}: the risk score has one column")
        })?;
        check(!(r.kind == RelationKind::Input && r.phase == Phase::Static), || {
            format!("input relation {i} cannot be static")
        })?;
        check(!r.one || r.kind == RelationKind::Input, || {
            format!("relation {i} is not an input, so it cannot hold exactly one fact")
        })?;
        // Data is stored once, at load, with the static relations; the risk score is
        // computed per request into the request's relations.
        check(r.kind != RelationKind::Data || r.phase == Phase::Static, || format!("data relation {i} is not static"))?;
        check(r.kind != RelationKind::Builtin || r.phase == Phase::Request, || {
            format!("relation {i}: the risk score is computed per request, so it cannot be static")
        })?;
    }
    // The engine looks request keys up by relation name.
    unique("relation name", p.relations.iter().map(|r| p.string(r.name)))?;
    for (i, d) in p.decisions.iter().enumerate() {
        sym(d.name, &format!("decision {i}"))?;
        match d.approver {
            Some(Approver::Group(a)) => sym(a, &format!("decision {i}'s approver"))?,
            Some(Approver::Value) => check(d.effect == Effect::Escalate, || {
                format!("decision {i} takes its approver from its values but is not an escalate rule")
            })?,
            None => {}
        }
        for part in &d.message {
            if let MessagePart::Text(s) = part {
                sym(*s, &format!("decision {i}'s message"))?;
            }
        }
        check(d.overrides.iter().all(|&o| (o as usize) < p.decisions.len()), || {
            format!("decision {i} overrides a missing decision")
        })?;
        sym(d.source.file, &format!("decision {i}'s source"))?;
    }
    for (i, rule) in p.rules.iter().enumerate() {
        validate_rule(p, rule).map_err(|e| format!("rule {i}: {e}"))?;
    }
    for (i, stratum) in p.strata.iter().enumerate() {
        match stratum {
            Stratum::Rules { phase, rules, delta_rules } => {
                for &r in rules.iter().chain(delta_rules) {
                    let rule = p.rules.get(r as usize).ok_or_else(|| format!("stratum {i} runs missing rule {r}"))?;
                    validate_phase(p, rule, *phase).map_err(|e| format!("stratum {i} runs rule {r}, which {e}"))?;
                }
            }
            Stratum::RiskScore { rel } => {
                check(p.relations.get(*rel as usize).is_some_and(|r| r.kind == RelationKind::Builtin), || {
                    format!("stratum {i} computes the risk score into a relation that is not the risk score")
                })?;
            }
        }
    }
    validate_order(p)?;
    validate_dispatch(p)?;
    validate_data(p, &p.data, strings)
}

/// Checks data for `p`'s relations, in [`Program::data`]'s form (groups of whole rows): a
/// bundle's own, or more facts read for its engine ([`crate::Engine::more_data`]), whose
/// strings run to `strings` symbols (the program's table, then those the facts brought).
pub(crate) fn validate_data(p: &Program, data: &[(u32, Vec<Value>)], strings: usize) -> V {
    for (rel, values) in data {
        let r = p.relations.get(*rel as usize).ok_or_else(|| format!("data for missing relation {rel}"))?;
        check(r.kind == RelationKind::Data, || format!("data given for relation {rel}, which is not a data relation"))?;
        let arity = r.columns.len();
        // A relation without columns has one fact, which a group without values states.
        check(values.len().checked_rem(arity).unwrap_or(values.len()) == 0, || {
            format!("data for relation {rel} is not a whole number of rows")
        })?;
        for (v, c) in values.iter().zip(r.columns.iter().cycle()) {
            check(v.base_type() == c.ty && !matches!(v, Value::Str(s) if *s as usize >= strings), || {
                format!("data for relation {rel} has a value of the wrong type")
            })?;
        }
    }
    Ok(())
}

/// Checks the compiler's rule keys ([`Program::dispatch`]): the engine runs a keyed rule
/// only for requests with a fact holding its constants, so each key must be one the rule's
/// code implies. A keyed rule runs only in non-recursive request strata (where the engine
/// runs rules one by one), is keyed once, and has, outside any aggregate, a scan of every
/// row of the key's relation (an input, so the request's facts are all its rows) testing
/// each of the key's columns against a constant of the key's value. Anything else is a
/// load error: a forged key could skip a rule that would fire.
// Invariant: called after every id of the strata and rules was checked in range.
fn validate_dispatch(p: &Program) -> V {
    // For each rule: whether every stratum running it is a non-recursive request one.
    let mut keyable: Vec<Option<bool>> = vec![None; p.rules.len()];
    for stratum in &p.strata {
        if let Stratum::Rules { phase, rules, delta_rules } = stratum {
            let ok = *phase == Phase::Request && delta_rules.is_empty();
            for &r in rules.iter().chain(delta_rules) {
                if let Some(slot) = keyable.get_mut(r as usize) {
                    *slot = Some(slot.unwrap_or(true) && ok);
                }
            }
        }
    }
    let mut keyed = vec![false; p.rules.len()];
    for (i, key) in p.dispatch.iter().enumerate() {
        let fail = |what: String| format!("rule key {i} (rule {}): {what}", key.rule);
        check(keyable.get(key.rule as usize).copied().flatten() == Some(true), || {
            fail("the rule does not run alone in a non-recursive request stratum".to_owned())
        })?;
        check(!std::mem::replace(keyed.get_mut(key.rule as usize).unwrap_or(&mut true), true), || {
            fail("the rule has another key".to_owned())
        })?;
        let r = p.relations.get(key.rel as usize).ok_or_else(|| fail(format!("missing relation {}", key.rel)))?;
        check(r.kind == RelationKind::Input && r.phase == Phase::Request, || {
            fail(format!("relation {} is not a request's input", key.rel))
        })?;
        check(!key.columns.is_empty() && key.columns.len() == key.constants.len(), || {
            fail("it needs one constant for each of one or more columns".to_owned())
        })?;
        check(key.columns.windows(2).all(|w| w.first() < w.get(1)), || fail("its columns do not ascend".to_owned()))?;
        let mut values = Vec::with_capacity(key.columns.len());
        for (&column, &c) in key.columns.iter().zip(&key.constants) {
            let value = p.constants.get(c as usize).ok_or_else(|| fail(format!("missing constant {c}")))?;
            let ty = r.columns.get(usize::from(column)).map(|c| c.ty);
            check(ty == Some(value.base_type()), || fail(format!("column {column} cannot hold constant {c}")))?;
            values.push((column, *value));
        }
        let code = p.rules.get(key.rule as usize).map_or(&[][..], |r| r.code.as_slice());
        check(scans_before_failing(p, code, key.rel, &values), || {
            fail("no scan of the rule tests those constants before a condition that can fail".to_owned())
        })?;
    }
    Ok(())
}

/// Whether a scan of `code` outside any aggregate's sub-plan tests `values` on `rel` before
/// any instruction that can fail: an error raised before the scan is raised whether the
/// request holds the constants or not, so such a rule must run for every request.
fn scans_before_failing(p: &Program, code: &[Instr], rel: u32, values: &[(u8, Value)]) -> bool {
    crate::guards::top_level(code)
        .take_while(|&(_, failed)| !failed)
        .any(|(instr, _)| scan_tests(p, instr, rel, values))
}

/// Whether `instr` scans every row of `rel` and tests each `(column, value)` of `values`
/// (its index key or its checks hold a constant equal to the value in that column).
fn scan_tests(p: &Program, instr: &Instr, rel: u32, values: &[(u8, Value)]) -> bool {
    let Instr::Scan { rel: scanned, source: Source::Full, index, key, checks, .. } = instr else { return false };
    if *scanned != rel {
        return false;
    }
    let index = index.and_then(|i| p.relations.get(rel as usize)?.indexes.get(usize::from(i)));
    let tests = index.map_or(&[][..], Vec::as_slice).iter().zip(key).chain(checks.iter().map(|(c, o)| (c, o)));
    let constant = |operand: &Operand| match operand {
        Operand::Const(c) => p.constants.get(*c as usize).copied(),
        Operand::Reg(_) => None,
    };
    let tested: Vec<(u8, Option<Value>)> = tests.map(|(&column, operand)| (column, constant(operand))).collect();
    values.iter().all(|&(column, value)| tested.contains(&(column, Some(value))))
}

/// Checks that no two of `items` are equal, naming the first repeat.
fn unique<'a>(what: &str, items: impl Iterator<Item = &'a str>) -> V {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, item) in items.enumerate() {
        if let Some(first) = seen.insert(item, i) {
            return Err(format!("{what} {i} repeats {what} {first} ({item:?})"));
        }
    }
    Ok(())
}

/// Checks that a rule run in a stratum of `phase` stays within that phase's relations. The
/// engine keeps static relations apart from a request's: a static rule reads only static
/// relations (it runs at load, before any request) and derives a static one; a request
/// rule derives into the request's relations, so its head is not static (the engine's
/// scans would never see facts stored there).
fn validate_phase(p: &Program, rule: &RuleCode, phase: Phase) -> V {
    let phase_of = |rel: u32| p.relations.get(rel as usize).map(|r| r.phase);
    if phase == Phase::Static {
        for instr in &rule.code {
            if let Instr::Scan { rel, .. } | Instr::Absent { rel, .. } = instr {
                check(phase_of(*rel) == Some(Phase::Static), || format!("reads relation {rel}, which is not static"))?;
            }
        }
    }
    let head = match rule.code.last() {
        Some(Instr::Emit { rel, .. }) => phase_of(*rel),
        Some(Instr::Fire { .. }) => Some(Phase::Request),
        _ => None,
    };
    check(head == Some(phase), || match phase {
        Phase::Static => "does not derive a static relation".to_owned(),
        Phase::Request => "derives a static relation".to_owned(),
    })
}

/// Checks that the strata compute each relation before any rule reads it: the engine runs
/// them once each, in order, so a relation read before (or, outside a recursive stratum,
/// while) it is derived would be silently incomplete. A rule reads no relation a later
/// stratum derives, and one of its own stratum only in a recursive stratum (one
/// with semi-naive variants), and only positively, outside negation and aggregates; at
/// most one stratum computes the risk score, after every rule that fires a `risk` decision.
// Invariant: called after every id was checked in range.
fn validate_order(p: &Program) -> V {
    // The last stratum deriving each relation.
    let mut derived_in: Vec<Option<usize>> = vec![None; p.relations.len()];
    let mut risk_at = None;
    for (i, stratum) in p.strata.iter().enumerate() {
        let heads: Vec<u32> = match stratum {
            Stratum::Rules { rules, delta_rules, .. } => rules
                .iter()
                .chain(delta_rules)
                .filter_map(|&r| match p.rules.get(r as usize).and_then(|rule| rule.code.last()) {
                    Some(Instr::Emit { rel, .. }) => Some(*rel),
                    _ => None,
                })
                .collect(),
            Stratum::RiskScore { rel } => {
                check(risk_at.is_none(), || {
                    format!("strata {} and {i} both compute the risk score", risk_at.unwrap_or(0))
                })?;
                risk_at = Some(i);
                vec![*rel]
            }
        };
        for rel in heads {
            // Strata run in order, so this is the last stratum deriving `rel`.
            *derived_in.get_mut(rel as usize).ok_or_else(|| format!("stratum {i} derives missing relation {rel}"))? =
                Some(i);
        }
    }
    for (i, stratum) in p.strata.iter().enumerate() {
        let Stratum::Rules { rules, delta_rules, .. } = stratum else { continue };
        let recursive = !delta_rules.is_empty();
        for &r in rules.iter().chain(delta_rules) {
            let rule = p.rules.get(r as usize).ok_or_else(|| format!("stratum {i} runs missing rule {r}"))?;
            let at = |e: String| format!("stratum {i} runs rule {r}, which {e}");
            // The ends of the aggregate bodies enclosing the current instruction.
            let mut aggregate_ends: Vec<usize> = Vec::new();
            for (pc, instr) in rule.code.iter().enumerate() {
                aggregate_ends.retain(|&end| end > pc);
                let (rel, negated) = match instr {
                    Instr::Scan { rel, .. } => (*rel, !aggregate_ends.is_empty()),
                    Instr::Absent { rel, .. } => (*rel, true),
                    Instr::Aggregate { .. } => {
                        aggregate_ends.push(pc + instr.step_len());
                        continue;
                    }
                    _ => continue,
                };
                match derived_in.get(rel as usize).copied().flatten() {
                    Some(j) if j > i => {
                        return Err(at(format!("reads relation {rel}, which stratum {j} derives later")));
                    }
                    Some(j) if j == i && negated => {
                        return Err(at(format!(
                            "reads relation {rel} of its own stratum under negation or an aggregate"
                        )));
                    }
                    Some(j) if j == i && !recursive => {
                        return Err(at(format!("reads relation {rel} of its own stratum, which is not recursive")));
                    }
                    _ => {}
                }
            }
            if let Some(Instr::Fire { decision, .. }) = rule.code.last()
                && p.decisions.get(*decision as usize).is_some_and(|d| d.effect == Effect::Risk)
                && let Some(k) = risk_at.filter(|&k| k < i)
            {
                return Err(at(format!("fires a risk decision after stratum {k} computed the risk score")));
            }
        }
    }
    Ok(())
}

fn validate_rule(p: &Program, rule: &RuleCode) -> V {
    check(!rule.code.is_empty() && rule.code.len() <= MAX_RULE_LENGTH, || {
        format!("has {} instructions", rule.code.len())
    })?;
    let regs = usize::from(rule.registers);
    let reg = |r: u16| check(usize::from(r) < regs, || format!("uses register {r} of {regs}"));
    let operand = |o: &Operand| match o {
        Operand::Reg(r) => reg(*r),
        Operand::Const(c) => check((*c as usize) < p.constants.len(), || format!("uses missing constant {c}")),
    };
    let relation = |rel: u32| p.relations.get(rel as usize).ok_or_else(|| format!("uses missing relation {rel}"));
    let keyed = |rel: u32, index: Option<u16>, key: &[Operand]| -> V {
        let r = relation(rel)?;
        match index {
            Some(i) => {
                let cols =
                    r.indexes.get(usize::from(i)).ok_or_else(|| format!("uses missing index {i} of relation {rel}"))?;
                check(cols.len() == key.len(), || {
                    format!("gives {} key values for an index of {} columns", key.len(), cols.len())
                })?;
            }
            None => check(key.is_empty(), || "gives a key without an index".to_owned())?,
        }
        key.iter().try_for_each(operand)
    };
    let call_out = |out: &CallOut| match out {
        CallOut::Test { .. } => Ok(()),
        CallOut::Value(r) | CallOut::Each(r) => reg(*r),
        CallOut::Has(o) | CallOut::Lacks(o) => operand(o),
    };
    // Aggregate sub-plans must nest properly inside the rule and each other.
    let mut open_ends: Vec<usize> = Vec::new();
    let last = rule.code.len() - 1;
    for (pc, instr) in rule.code.iter().enumerate() {
        while open_ends.last().is_some_and(|&end| end == pc) {
            open_ends.pop();
        }
        match instr {
            Instr::Scan { rel, index, key, binds, checks, .. } => {
                keyed(*rel, *index, key)?;
                let arity = relation(*rel)?.columns.len();
                for (c, r) in binds {
                    check(usize::from(*c) < arity, || format!("binds missing column {c}"))?;
                    reg(*r)?;
                }
                for (c, o) in checks {
                    check(usize::from(*c) < arity, || format!("checks missing column {c}"))?;
                    operand(o)?;
                }
            }
            Instr::Absent { rel, index, key } => keyed(*rel, *index, key)?,
            Instr::Compare { left, right, .. } => {
                operand(left)?;
                operand(right)?;
            }
            Instr::Arith { dst, left, right, .. } => {
                reg(*dst)?;
                operand(left)?;
                operand(right)?;
            }
            Instr::Move { dst, src } => {
                reg(*dst)?;
                operand(src)?;
            }
            Instr::Aggregate { dst, target, locals, len, .. } => {
                reg(*dst)?;
                operand(target)?;
                locals.iter().try_for_each(|l| reg(*l))?;
                let end = pc + 1 + *len as usize;
                let limit = open_ends.last().copied().unwrap_or(last);
                check(*len > 0 && end <= limit, || {
                    format!("has an aggregate at {pc} whose body runs past its enclosing plan")
                })?;
                open_ends.push(end);
            }
            Instr::Call { builtin, args, out } => {
                let signature = builtin.signature();
                check(args.len() == signature.params.len(), || {
                    format!("calls `{}` with {} arguments", builtin.name(), args.len())
                })?;
                args.iter().try_for_each(operand)?;
                let fits = matches!(
                    (signature.output, out),
                    (Output::Test, CallOut::Test { .. })
                        | (Output::Value(_), CallOut::Value(_))
                        | (Output::Values(_), CallOut::Each(_) | CallOut::Has(_) | CallOut::Lacks(_))
                );
                check(fits, || format!("uses what `{}` yields as it cannot be used", builtin.name()))?;
                call_out(out)?;
            }
            Instr::Set { values, out } => {
                values.iter().try_for_each(operand)?;
                check(matches!(out, CallOut::Each(_) | CallOut::Has(_) | CallOut::Lacks(_)), || {
                    "uses a set as a test or a single value".to_owned()
                })?;
                call_out(out)?;
            }
            Instr::Emit { rel, values } => {
                check(pc == last, || "emits before its last instruction".to_owned())?;
                let r = relation(*rel)?;
                check(matches!(r.kind, RelationKind::Derived), || {
                    format!("derives facts of relation {rel}, which is not derived")
                })?;
                check(values.len() == r.columns.len(), || {
                    format!("emits {} values into a relation of {} columns", values.len(), r.columns.len())
                })?;
                values.iter().try_for_each(operand)?;
            }
            Instr::Fire { decision, values } => {
                check(pc == last, || "fires before its last instruction".to_owned())?;
                let d =
                    p.decisions.get(*decision as usize).ok_or_else(|| format!("fires missing decision {decision}"))?;
                let offset = d.leading_values();
                let needed = d.message.iter().filter_map(|m| match m {
                    MessagePart::Value(i) => Some(usize::from(*i) + 1),
                    MessagePart::Text(_) => None,
                });
                check(values.len() >= offset + needed.max().unwrap_or(0), || {
                    "fires with fewer values than its message needs".to_owned()
                })?;
                values.iter().try_for_each(operand)?;
            }
        }
    }
    check(matches!(rule.code.last(), Some(Instr::Emit { .. } | Instr::Fire { .. })), || {
        "does not end with Emit or Fire".to_owned()
    })
}
