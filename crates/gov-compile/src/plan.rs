//! Join planning: one rule body to register code.
//!
//! The planner orders a body greedily: first every filter and assignment whose inputs are
//! bound (so they prune as early as possible), then the positive atom that is cheapest to
//! join next (the semi-naive delta atom first, then input relations — a request's few
//! facts — then atoms with the most bound columns, which become index keys), and repeats.
//! Each atom becomes a `Scan` over the index of its bound columns; negations become
//! `Absent` on the index of their bound columns.
//!
//! Conditions that can fail (arithmetic anywhere in them, or an aggregate that adds or
//! contains arithmetic: see [`fallible_item`]) wait until no other condition can be
//! placed, so that an error counts only for bindings that every condition not needing its
//! value accepts (the reference's "order of conditions" rule). They are then placed in
//! *stages*: every fallible condition ready at that point together, their arithmetic
//! first, their aggregates next (each `min`/`max` preceded by a `count` over its body, so
//! that one over nothing cannot end the binding before another's error), then their
//! comparisons, bindings and scans. A condition
//! that would bind a variable a pending `v = arithmetic` computes waits for it; when
//! nothing else can move, such `=` are *demoted* to comparisons (their variable is bound
//! elsewhere).

use crate::pool::Pool;
use gov_check::Symbols;
use gov_syntax::ast::{Aggregate, AggregateFn as AstAggregate, Atom, BodyItem, Comparison, Expr, Lit, LitValue};
use gov_value::{BaseType, CompareOp};
use gov_vm::Value;
use gov_vm::program::{AggregateFn, Instr, Operand, Source};
use std::collections::{HashMap, HashSet};

/// Index key column lists requested so far, per relation.
pub type Indexes = Vec<Vec<Vec<u8>>>;

/// Why a rule could not be planned (the checker should have caught it).
pub type PlanError = String;

/// Shared state for planning the rules of one program.
pub struct Planner<'a> {
    /// Declarations and inferred types.
    pub symbols: &'a Symbols,
    /// Strings and constants.
    pub pool: &'a mut Pool,
    /// Requested indexes.
    pub indexes: &'a mut Indexes,
}

/// How a rule ends.
pub enum Head<'a> {
    /// Derive a fact of relation `rel` from these arguments.
    Emit(u32, &'a [gov_syntax::ast::Arg]),
    /// Fire decision `id` with its risk points (if any) and message variables.
    Fire(u32, Option<&'a Expr>, Vec<&'a gov_syntax::ast::Name>),
}

/// The code of one rule.
pub struct Planned {
    /// Instructions.
    pub code: Vec<Instr>,
    /// Registers used.
    pub registers: u16,
}

struct Rule<'p, 'a> {
    planner: &'p mut Planner<'a>,
    regs: HashMap<String, u16>,
    types: HashMap<u16, BaseType>,
    next: u16,
    code: Vec<Instr>,
    /// The atom (by span start) read from the delta in this variant.
    delta: Option<u32>,
}

fn vars_in(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Var(n) => out.push(n.text.clone()),
        Expr::Binary(b) => {
            vars_in(&b.left, out);
            vars_in(&b.right, out);
        }
        Expr::Aggregate(a) => {
            vars_in(&a.target, out);
            for item in &a.body {
                item_vars(item, out);
            }
        }
        Expr::Wildcard(_) | Expr::Lit(_) => {}
    }
}

fn item_vars(item: &BodyItem, out: &mut Vec<String>) {
    match item {
        BodyItem::Atom(a) | BodyItem::Not(a, _) => a.args.iter().for_each(|arg| vars_in(&arg.value, out)),
        BodyItem::Compare(c) => {
            vars_in(&c.left, out);
            vars_in(&c.right, out);
        }
    }
}

/// Whether evaluating `expr` can fail: arithmetic (overflow, division by zero), or an
/// aggregate that adds (`sum` overflows) or contains something that can fail.
fn fallible_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Binary(_) => true,
        Expr::Aggregate(a) => {
            a.function == AstAggregate::Sum || fallible_expr(&a.target) || a.body.iter().any(fallible_item)
        }
        Expr::Var(_) | Expr::Wildcard(_) | Expr::Lit(_) => false,
    }
}

/// Whether evaluating a condition can fail (see [`fallible_expr`]).
fn fallible_item(item: &BodyItem) -> bool {
    match item {
        BodyItem::Atom(a) | BodyItem::Not(a, _) => a.args.iter().any(|arg| fallible_expr(&arg.value)),
        BodyItem::Compare(c) => fallible_expr(&c.left) || fallible_expr(&c.right),
    }
}

impl Planner<'_> {
    /// Plans a rule: `body`, then the head. `delta` names the atom (by span start) that
    /// reads only the previous round's facts.
    pub fn rule(&mut self, body: &[BodyItem], head: Head<'_>, delta: Option<u32>) -> Result<Planned, PlanError> {
        let mut rule =
            Rule { planner: self, regs: HashMap::new(), types: HashMap::new(), next: 0, code: Vec::new(), delta };
        let mut outside: Vec<String> = Vec::new();
        match &head {
            Head::Emit(_, args) => args.iter().for_each(|a| vars_in(&a.value, &mut outside)),
            Head::Fire(_, points, names) => {
                points.iter().for_each(|e| vars_in(e, &mut outside));
                outside.extend(names.iter().map(|n| n.text.clone()));
            }
        }
        rule.body(body, &outside)?;
        match head {
            Head::Emit(rel, args) => {
                let columns = rule.column_types(rel);
                let values = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| rule.operand(&a.value, columns.get(i).copied()))
                    .collect::<Result<Vec<_>, _>>()?;
                rule.code.push(Instr::Emit { rel, values });
            }
            Head::Fire(decision, points, names) => {
                let mut values = Vec::with_capacity(names.len() + 1);
                if let Some(points) = points {
                    values.push(rule.operand(points, Some(BaseType::Int))?);
                }
                for name in names {
                    values.push(
                        rule.regs
                            .get(&name.text)
                            .map(|r| Operand::Reg(*r))
                            .ok_or_else(|| format!("variable `{}` is not bound", name.text))?,
                    );
                }
                rule.code.push(Instr::Fire { decision, values });
            }
        }
        Ok(Planned { code: rule.code, registers: rule.next })
    }
}

impl Rule<'_, '_> {
    fn column_types(&self, rel: u32) -> Vec<BaseType> {
        let symbols = self.planner.symbols;
        symbols.relations.get(rel as usize).map_or_else(Vec::new, |r| {
            r.fields.iter().map(|f| f.ty.and_then(|t| symbols.base_of(t)).unwrap_or(BaseType::Str)).collect()
        })
    }

    fn fresh(&mut self) -> Result<u16, PlanError> {
        let reg = self.next;
        self.next = self.next.checked_add(1).ok_or("rule needs more than 65535 registers")?;
        Ok(reg)
    }

    fn bind(&mut self, name: &str, ty: Option<BaseType>) -> Result<u16, PlanError> {
        let reg = self.fresh()?;
        self.regs.insert(name.to_owned(), reg);
        if let Some(ty) = ty {
            self.types.insert(reg, ty);
        }
        Ok(reg)
    }

    fn is_bound(&self, expr: &Expr) -> bool {
        let mut names = Vec::new();
        vars_in(expr, &mut names);
        !matches!(expr, Expr::Wildcard(_)) && names.iter().all(|n| self.regs.contains_key(n))
    }

    fn literal(&mut self, lit: &Lit, expected: Option<BaseType>) -> Result<Value, PlanError> {
        Ok(match &lit.value {
            LitValue::Int(i) if expected == Some(BaseType::Decimal) => Value::Decimal((*i).into()),
            LitValue::Int(i) => Value::Int(*i),
            LitValue::Decimal(d) => Value::Decimal(*d),
            LitValue::Str(s) => Value::Str(self.planner.pool.intern(s)),
            LitValue::Bool(b) => Value::Bool(*b),
            LitValue::Time(t) => Value::Time(*t),
            LitValue::Duration(d) => Value::Duration(*d),
            LitValue::Invalid => return Err(format!("invalid literal `{}`", lit.raw)),
        })
    }

    /// The static type of an expression, when known.
    fn type_of(&self, expr: &Expr) -> Option<BaseType> {
        match expr {
            Expr::Var(n) => self.regs.get(&n.text).and_then(|r| self.types.get(r)).copied(),
            Expr::Lit(l) => match l.value {
                LitValue::Int(_) => Some(BaseType::Int),
                LitValue::Decimal(_) => Some(BaseType::Decimal),
                LitValue::Str(_) => Some(BaseType::Str),
                LitValue::Bool(_) => Some(BaseType::Bool),
                LitValue::Time(_) => Some(BaseType::Time),
                LitValue::Duration(_) => Some(BaseType::Duration),
                LitValue::Invalid => None,
            },
            Expr::Binary(b) => {
                let (l, r) = (self.type_of(&b.left), self.type_of(&b.right));
                let promote = |t: Option<BaseType>, other: Option<BaseType>| {
                    if t == Some(BaseType::Int) && other == Some(BaseType::Decimal) { other } else { t }
                };
                gov_value::result_type(b.op, promote(l, r)?, promote(r, l)?)
            }
            Expr::Wildcard(_) | Expr::Aggregate(_) => None,
        }
    }

    /// Compiles a bound expression to an operand; `expected` converts Int literals where
    /// a Decimal is expected.
    fn operand(&mut self, expr: &Expr, expected: Option<BaseType>) -> Result<Operand, PlanError> {
        match expr {
            Expr::Var(n) => self
                .regs
                .get(&n.text)
                .map(|r| Operand::Reg(*r))
                .ok_or_else(|| format!("variable `{}` is not bound", n.text)),
            Expr::Lit(lit) => {
                let value = self.literal(lit, expected)?;
                Ok(Operand::Const(self.planner.pool.constant(value)))
            }
            Expr::Binary(b) => {
                let (lt, rt) = (self.type_of(&b.left), self.type_of(&b.right));
                let decimal = (lt == Some(BaseType::Decimal)
                    || rt == Some(BaseType::Decimal)
                    || expected == Some(BaseType::Decimal))
                .then_some(BaseType::Decimal);
                let left = self.operand(&b.left, decimal)?;
                let right = self.operand(&b.right, decimal)?;
                let dst = self.fresh()?;
                if let Some(ty) = self.type_of(expr) {
                    self.types.insert(dst, ty);
                }
                self.code.push(Instr::Arith { op: b.op, dst, left, right });
                Ok(Operand::Reg(dst))
            }
            Expr::Wildcard(_) => Err("`_` has no value".to_owned()),
            Expr::Aggregate(_) => Err("an aggregate must be assigned to a variable".to_owned()),
        }
    }

    /// Plans a conjunction. `outside` lists variables used after it (head, message, or the
    /// enclosing rule), which decides an aggregate's grouping.
    fn body(&mut self, body: &[BodyItem], outside: &[String]) -> Result<(), PlanError> {
        let mut remaining: Vec<&BodyItem> = body.iter().collect();
        // Variables each item uses outside any aggregate: an aggregate groups by the
        // variables it shares with these (another aggregate's locals are its own).
        let all_vars: Vec<Vec<String>> = remaining
            .iter()
            .map(|item| {
                let mut v = Vec::new();
                match item {
                    BodyItem::Compare(c) => [&c.left, &c.right]
                        .into_iter()
                        .filter(|e| !matches!(e, Expr::Aggregate(_)))
                        .for_each(|e| vars_in(e, &mut v)),
                    other => item_vars(other, &mut v),
                }
                v
            })
            .collect();
        let mut positions: Vec<usize> = (0..remaining.len()).collect();
        let others_of = |position: usize| -> HashSet<&str> {
            all_vars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != position)
                .flat_map(|(_, v)| v.iter().map(String::as_str))
                .chain(outside.iter().map(String::as_str))
                .collect()
        };
        // `=` conditions whose arithmetic no longer binds its variable (see the module doc).
        let mut demoted: HashSet<usize> = HashSet::new();
        while !remaining.is_empty() {
            let pending = self.pending(&remaining, &positions, &demoted);
            let mut progress = true;
            while progress {
                progress = false;
                let mut i = 0;
                while i < remaining.len() {
                    let position = positions.get(i).copied().unwrap_or(0);
                    let item = remaining.get(i).copied();
                    let pure = item.is_some_and(|item| !fallible_item(item));
                    if pure && self.try_filter(item, &others_of(position), &pending)? {
                        remaining.remove(i);
                        positions.remove(i);
                        progress = true;
                    } else {
                        i += 1;
                    }
                }
            }
            if let Some(best) = self.best_atom(&remaining, &pending) {
                if let Some(BodyItem::Atom(atom)) = remaining.get(best).copied() {
                    self.scan(atom)?;
                }
                remaining.remove(best);
                positions.remove(best);
                continue;
            }
            if remaining.is_empty() {
                break;
            }
            // A stage: every fallible condition that is ready now.
            let stage: Vec<usize> = (0..remaining.len())
                .filter(|&i| {
                    let position = positions.get(i).copied().unwrap_or(0);
                    remaining
                        .get(i)
                        .is_some_and(|item| fallible_item(item) && self.ready(item, &others_of(position), &pending))
                })
                .collect();
            if stage.is_empty() {
                let stuck: Vec<usize> = (0..remaining.len())
                    .filter(|&i| {
                        remaining.get(i).is_some_and(|item| {
                            matches!(item, BodyItem::Compare(c) if c.op == CompareOp::Eq) && fallible_item(item)
                        })
                    })
                    .filter_map(|i| positions.get(i).copied())
                    .filter(|p| !demoted.contains(p))
                    .collect();
                if stuck.is_empty() {
                    return Err("no order binds every variable of the body".to_owned());
                }
                demoted.extend(stuck);
                continue;
            }
            let start = self.code.len();
            // `min` and `max` over nothing end the binding: first run the body of each
            // one of the stage as a `count`, and place them after the stage's other
            // aggregates, so that every error of the stage is raised before any of them
            // can end it.
            let min_max = |i: usize| match remaining.get(i) {
                Some(BodyItem::Compare(c)) => [&c.left, &c.right].into_iter().find_map(|side| match side {
                    Expr::Aggregate(a) if matches!(a.function, AstAggregate::Min | AstAggregate::Max) => Some(a),
                    _ => None,
                }),
                _ => None,
            };
            for &i in &stage {
                if let Some(a) = min_max(i) {
                    let position = positions.get(i).copied().unwrap_or(0);
                    let probe = Aggregate { function: AstAggregate::Count, ..(**a).clone() };
                    self.aggregate(&probe, &others_of(position))?;
                }
            }
            let mut order = stage.clone();
            order.sort_by_key(|&i| min_max(i).is_some());
            for &i in &order {
                let position = positions.get(i).copied().unwrap_or(0);
                let placed = self.try_item(remaining.get(i).copied(), &others_of(position))?;
                if !placed {
                    return Err("a ready condition could not be placed".to_owned());
                }
            }
            self.stage_order(start);
            for &i in stage.iter().rev() {
                remaining.remove(i);
                positions.remove(i);
            }
        }
        Ok(())
    }

    /// The variables that a pending `v = arithmetic` (or `v = sum(…)`) will compute: no other
    /// condition may bind them first.
    fn pending(&self, remaining: &[&BodyItem], positions: &[usize], demoted: &HashSet<usize>) -> HashSet<String> {
        let mut pending = HashSet::new();
        for (item, position) in remaining.iter().zip(positions) {
            let BodyItem::Compare(c) = item else { continue };
            if c.op != CompareOp::Eq || demoted.contains(position) {
                continue;
            }
            for (target, source) in [(&c.left, &c.right), (&c.right, &c.left)] {
                if let Expr::Var(n) = target
                    && !self.regs.contains_key(&n.text)
                    && fallible_expr(source)
                {
                    pending.insert(n.text.clone());
                }
            }
        }
        pending
    }

    /// Whether a fallible condition can be placed now (its inputs are bound, and it binds no
    /// pending variable except as the `=` that computes it).
    fn ready(&self, item: &BodyItem, others: &HashSet<&str>, pending: &HashSet<String>) -> bool {
        match item {
            BodyItem::Atom(atom) => {
                atom.args.iter().all(|a| !matches!(a.value, Expr::Binary(_)) || self.is_bound(&a.value))
                    && !self.binds_pending(atom, pending)
            }
            BodyItem::Not(atom, _) => {
                atom.args.iter().all(|a| matches!(a.value, Expr::Wildcard(_)) || self.is_bound(&a.value))
            }
            BodyItem::Compare(c) => {
                let has_value = |e: &Expr| match e {
                    Expr::Aggregate(aggregate) => self.aggregate_ready(aggregate, others),
                    other => self.is_bound(other),
                };
                let unbound_var = |e: &Expr| matches!(e, Expr::Var(n) if !self.regs.contains_key(&n.text));
                (has_value(&c.left) && has_value(&c.right))
                    || (c.op == CompareOp::Eq
                        && ((unbound_var(&c.left) && has_value(&c.right))
                            || (unbound_var(&c.right) && has_value(&c.left))))
            }
        }
    }

    /// Whether scanning `atom` would bind a pending variable.
    fn binds_pending(&self, atom: &Atom, pending: &HashSet<String>) -> bool {
        atom.args
            .iter()
            .any(|a| matches!(&a.value, Expr::Var(n) if pending.contains(&n.text) && !self.regs.contains_key(&n.text)))
    }

    /// Places any condition whose inputs are bound: an atom is scanned.
    fn try_item(&mut self, item: Option<&BodyItem>, others: &HashSet<&str>) -> Result<bool, PlanError> {
        match item {
            Some(BodyItem::Atom(atom)) => {
                self.scan(atom)?;
                Ok(true)
            }
            other => self.try_filter(other, others, &HashSet::new()),
        }
    }

    /// Orders the code of one stage (from `start`): every `Arith` first, then every
    /// aggregate (with its sub-plan), then the rest, each group in its order. The stage's
    /// conditions were all ready before it, so no arithmetic or aggregate reads a register
    /// another condition of the stage binds; the comparisons, bindings and scans keep their
    /// order, so a second `v = …` still compares with the first.
    fn stage_order(&mut self, start: usize) {
        let tail: Vec<Instr> = self.code.drain(start.min(self.code.len())..).collect();
        let (mut arith, mut aggregates, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        let mut inside = 0usize;
        for instr in tail {
            if inside > 0 {
                inside -= 1;
                aggregates.push(instr);
                continue;
            }
            match instr {
                Instr::Arith { .. } => arith.push(instr),
                Instr::Aggregate { len, .. } => {
                    inside = len as usize;
                    aggregates.push(instr);
                }
                other => rest.push(other),
            }
        }
        self.code.extend(arith);
        self.code.extend(aggregates);
        self.code.extend(rest);
    }

    /// Emits a comparison, assignment, aggregate or negation if its inputs are bound and it
    /// binds no `pending` variable.
    fn try_filter(
        &mut self,
        item: Option<&BodyItem>,
        others: &HashSet<&str>,
        pending: &HashSet<String>,
    ) -> Result<bool, PlanError> {
        match item {
            Some(BodyItem::Not(atom, _))
                if atom.args.iter().all(|a| matches!(a.value, Expr::Wildcard(_)) || self.is_bound(&a.value)) =>
            {
                self.absent(atom)?;
                Ok(true)
            }
            Some(BodyItem::Compare(c)) => self.compare(c, others, pending),
            _ => Ok(false),
        }
    }

    fn compare(
        &mut self,
        c: &Comparison,
        others: &HashSet<&str>,
        pending: &HashSet<String>,
    ) -> Result<bool, PlanError> {
        if c.op == CompareOp::Eq {
            for (target, source) in [(&c.left, &c.right), (&c.right, &c.left)] {
                if let Expr::Aggregate(aggregate) = source {
                    if !self.aggregate_ready(aggregate, others) {
                        return Ok(false);
                    }
                    match target {
                        // A variable a pending `=` computes is left to it.
                        Expr::Var(n) if !self.regs.contains_key(&n.text) && pending.contains(&n.text) => {
                            return Ok(false);
                        }
                        // `n = count(…)` with `n` unbound binds it.
                        Expr::Var(n) if !self.regs.contains_key(&n.text) => {
                            let dst = self.aggregate(aggregate, others)?;
                            self.regs.insert(n.text.clone(), dst);
                        }
                        // Otherwise the aggregate is computed and compared.
                        bound if self.is_bound(bound) => {
                            let dst = self.aggregate(aggregate, others)?;
                            let left = self.operand(bound, self.types.get(&dst).copied())?;
                            self.code.push(Instr::Compare { op: CompareOp::Eq, left, right: Operand::Reg(dst) });
                        }
                        _ => return Ok(false),
                    }
                    return Ok(true);
                }
                let Expr::Var(name) = target else { continue };
                if self.regs.contains_key(&name.text) || !self.is_bound(source) || pending.contains(&name.text) {
                    continue;
                }
                // The checker's type of the variable decides how a literal is read
                // (`p = 3` with `p` a Decimal binds the Decimal 3).
                let symbols = self.planner.symbols;
                let checked = symbols.variable_types.get(&name.span).and_then(|t| symbols.base_of(*t));
                let ty = checked.or_else(|| self.type_of(source));
                let src = self.operand(source, ty)?;
                let dst = self.bind(&name.text, ty)?;
                self.code.push(Instr::Move { dst, src });
                return Ok(true);
            }
        }
        if !self.is_bound(&c.left) || !self.is_bound(&c.right) {
            return Ok(false);
        }
        let (lt, rt) = (self.type_of(&c.left), self.type_of(&c.right));
        let left = self.operand(&c.left, rt)?;
        let right = self.operand(&c.right, lt)?;
        self.code.push(Instr::Compare { op: c.op, left, right });
        Ok(true)
    }

    /// The aggregate's group variables (used outside it) are all bound.
    fn aggregate_ready(&self, aggregate: &Aggregate, others: &HashSet<&str>) -> bool {
        let mut inner = Vec::new();
        vars_in(&aggregate.target, &mut inner);
        aggregate.body.iter().for_each(|item| item_vars(item, &mut inner));
        inner.iter().filter(|v| others.contains(v.as_str())).all(|v| self.regs.contains_key(v))
    }

    /// Emits an aggregate and returns the register holding its result.
    fn aggregate(&mut self, aggregate: &Aggregate, others: &HashSet<&str>) -> Result<u16, PlanError> {
        let at = self.code.len();
        self.code.push(Instr::Move { dst: 0, src: Operand::Reg(0) }); // placeholder, replaced below
        let outer_regs = self.regs.clone();
        let mut target_vars = Vec::new();
        vars_in(&aggregate.target, &mut target_vars);
        let inner_outside: Vec<String> =
            target_vars.into_iter().chain(others.iter().map(|s| (*s).to_owned())).collect();
        self.body(&aggregate.body, &inner_outside)?;
        let target = match (&aggregate.target, aggregate.function) {
            (Expr::Wildcard(_), AstAggregate::Count) => Operand::Const(self.planner.pool.constant(Value::Int(0))),
            (target, _) => self.operand(target, None)?,
        };
        let ty = match aggregate.function {
            AstAggregate::Count => BaseType::Int,
            _ => self.type_of(&aggregate.target).unwrap_or(BaseType::Int),
        };
        let mut locals: Vec<u16> =
            self.regs.iter().filter(|(name, _)| !outer_regs.contains_key(*name)).map(|(_, r)| *r).collect();
        locals.sort_unstable();
        let len = u32::try_from(self.code.len() - at - 1).map_err(|_| "aggregate body too long")?;
        self.regs = outer_regs;
        let dst = self.fresh()?;
        self.types.insert(dst, ty);
        let function = match aggregate.function {
            AstAggregate::Count => AggregateFn::Count,
            AstAggregate::Sum => AggregateFn::Sum,
            AstAggregate::Min => AggregateFn::Min,
            AstAggregate::Max => AggregateFn::Max,
        };
        if let Some(slot) = self.code.get_mut(at) {
            *slot = Instr::Aggregate { function, ty, dst, target, locals, len };
        }
        Ok(dst)
    }

    /// The index of the positive atom without arithmetic to join next, or `None` if no
    /// such atom can be joined (none is left, or each would bind a `pending` variable).
    fn best_atom(&self, remaining: &[&BodyItem], pending: &HashSet<String>) -> Option<usize> {
        let symbols = self.planner.symbols;
        remaining
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                BodyItem::Atom(atom) => {
                    if fallible_item(item) || self.binds_pending(atom, pending) {
                        return None;
                    }
                    let bound = atom
                        .args
                        .iter()
                        .filter(|a| {
                            matches!(a.value, Expr::Lit(_))
                                || (matches!(a.value, Expr::Var(_)) && self.is_bound(&a.value))
                        })
                        .count();
                    let input =
                        symbols.relation(&atom.relation.text).is_some_and(|r| r.kind == gov_check::RelationKind::Input);
                    let delta = self.delta == Some(atom.span.start);
                    // Higher is better; `Reverse(i)` keeps source order among equals.
                    Some(((delta, input, bound), std::cmp::Reverse(i)))
                }
                _ => None,
            })
            .max()
            .map(|(_, std::cmp::Reverse(i))| i)
    }

    fn relation_of(&self, atom: &Atom) -> Result<(u32, Vec<(usize, usize)>), PlanError> {
        let symbols = self.planner.symbols;
        let rel = symbols
            .relation_id(&atom.relation.text)
            .ok_or_else(|| format!("unknown relation `{}`", atom.relation.text))?;
        let info = symbols.relations.get(rel).ok_or("relation out of range")?;
        // (argument index, column index)
        let columns = atom
            .args
            .iter()
            .enumerate()
            .map(|(i, arg)| match &arg.field {
                None => Ok((i, i)),
                Some(field) => info
                    .fields
                    .iter()
                    .position(|f| f.name.as_deref() == Some(&field.text))
                    .map(|c| (i, c))
                    .ok_or_else(|| format!("unknown field `{}`", field.text)),
            })
            .collect::<Result<Vec<_>, PlanError>>()?;
        Ok((u32::try_from(rel).map_err(|_| "too many relations")?, columns))
    }

    fn index(&mut self, rel: u32, columns: Vec<u8>) -> Option<u16> {
        if columns.is_empty() {
            return None;
        }
        let list = self.planner.indexes.get_mut(rel as usize)?;
        let position = match list.iter().position(|c| *c == columns) {
            Some(p) => p,
            None => {
                list.push(columns);
                list.len() - 1
            }
        };
        u16::try_from(position).ok()
    }

    fn scan(&mut self, atom: &Atom) -> Result<(), PlanError> {
        let (rel, columns) = self.relation_of(atom)?;
        let types = self.column_types(rel);
        let mut key: Vec<(u8, Operand)> = Vec::new();
        let mut binds: Vec<(u8, u16)> = Vec::new();
        let mut checks: Vec<(u8, Operand)> = Vec::new();
        let mut bound_here: HashMap<String, u16> = HashMap::new();
        for (arg_index, column) in columns {
            let Some(arg) = atom.args.get(arg_index) else { continue };
            let col = u8::try_from(column).map_err(|_| "too many columns")?;
            let ty = types.get(column).copied();
            match &arg.value {
                Expr::Wildcard(_) => {}
                Expr::Var(n) if !self.regs.contains_key(&n.text) => match bound_here.get(&n.text) {
                    Some(reg) => checks.push((col, Operand::Reg(*reg))),
                    None => {
                        let reg = self.fresh()?;
                        if let Some(ty) = ty {
                            self.types.insert(reg, ty);
                        }
                        bound_here.insert(n.text.clone(), reg);
                        binds.push((col, reg));
                    }
                },
                value => {
                    let operand = self.operand(value, ty)?;
                    if key.len() < gov_vm::MAX_KEY {
                        key.push((col, operand));
                    } else {
                        checks.push((col, operand));
                    }
                }
            }
        }
        self.regs.extend(bound_here);
        key.sort_by_key(|(c, _)| *c);
        let index = self.index(rel, key.iter().map(|(c, _)| *c).collect());
        let source = if self.delta == Some(atom.span.start) { Source::Delta } else { Source::Full };
        self.code.push(Instr::Scan {
            rel,
            source,
            index,
            key: key.into_iter().map(|(_, o)| o).collect(),
            binds,
            checks,
        });
        Ok(())
    }

    fn absent(&mut self, atom: &Atom) -> Result<(), PlanError> {
        let (rel, columns) = self.relation_of(atom)?;
        let types = self.column_types(rel);
        let mut key: Vec<(u8, Operand)> = Vec::new();
        for (arg_index, column) in columns {
            let Some(arg) = atom.args.get(arg_index) else { continue };
            if matches!(arg.value, Expr::Wildcard(_)) {
                continue;
            }
            let operand = self.operand(&arg.value, types.get(column).copied())?;
            key.push((u8::try_from(column).map_err(|_| "too many columns")?, operand));
        }
        if key.len() > gov_vm::MAX_KEY {
            return Err(format!("a negation may bind at most {} columns", gov_vm::MAX_KEY));
        }
        key.sort_by_key(|(c, _)| *c);
        let index = self.index(rel, key.iter().map(|(c, _)| *c).collect());
        self.code.push(Instr::Absent { rel, index, key: key.into_iter().map(|(_, o)| o).collect() });
        Ok(())
    }
}
