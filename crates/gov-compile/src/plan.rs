//! Join planning: one rule body to register code.
//!
//! The planner orders a body greedily: first every filter and assignment whose inputs are
//! bound (so they prune as early as possible), then the positive atom that is cheapest to
//! join next (the semi-naive delta atom first, then input relations — a request's few
//! facts — then atoms with the most bound columns, which become index keys), and repeats.
//! Each atom becomes a `Scan` over the index of its bound columns; negations become
//! `Absent` on the index of their bound columns.
//!
//! Conditions that can fail (arithmetic or a built-in that can fail anywhere in them, or an
//! aggregate that adds or contains either: see [`fallible_item`]; a built-in that cannot
//! fail, and has no result, is a condition that does not hold) wait until no other
//! condition can be placed, so that an error counts only for bindings that every condition
//! not needing its value accepts (the reference's "order of conditions" rule). They are
//! then placed in *stages*: every fallible condition ready at that point together, their
//! computations first (depth by depth, errors before missing results: `stage_order`),
//! their aggregates next (each `min`/`max` preceded by a `count` over its body, so
//! that one over nothing cannot end the binding before another's error), then their
//! comparisons, bindings and scans. A condition
//! that would bind a variable a pending `v = arithmetic` computes waits for it; when
//! nothing else can move, such `=` are *demoted* to comparisons (their variable is bound
//! elsewhere). An atom of a list's or object's contents (`x in v`, a pattern's members)
//! waits for the atom binding the list or object, as the language orders them.

use crate::pool::Pool;
use gov_builtins::{Builtin, Output, Param};
use gov_ir::{Aggregate, Atom, Call, Const, Expr, Ir, Literal, Rule, VarId};
use gov_value::{AggregateFn, BaseType, CompareOp, RelationKind};
use gov_vm::Value;
use gov_vm::program::{CallOut, Instr, Operand, Source};
use std::collections::{HashMap, HashSet};

/// Index key column lists requested so far, per relation.
pub type Indexes = Vec<Vec<Vec<u8>>>;

/// Why a rule could not be planned: a bound the IR's types do not state (registers,
/// columns, an order binding every variable) was exceeded.
pub type PlanError = String;

/// Shared state for planning the rules of one program.
pub struct Planner<'a> {
    /// The program's relations and rules.
    pub ir: &'a Ir,
    /// Strings and constants.
    pub pool: &'a mut Pool,
    /// Requested indexes.
    pub indexes: &'a mut Indexes,
}

/// The engine's value of literal `value` (its strings interned in `pool`), an Int literal
/// read as a Decimal where `expected` says the place holds Decimals.
pub fn constant(pool: &mut Pool, value: &Const, expected: Option<BaseType>) -> Value {
    match value {
        Const::Int(i) if expected == Some(BaseType::Decimal) => Value::Decimal((*i).into()),
        Const::Int(i) => Value::Int(*i),
        Const::Decimal(d) => Value::Decimal(*d),
        Const::Str(s) => Value::Str(pool.intern(s)),
        Const::Bool(b) => Value::Bool(*b),
        Const::Time(t) => Value::Time(*t),
        Const::Duration(d) => Value::Duration(*d),
    }
}

/// How a rule ends.
pub enum Head<'a> {
    /// Derive a fact of relation `rel` from these values (one per column).
    Emit(u32, &'a [Expr]),
    /// Fire decision `id` with its risk points or approver variable (if any), then its
    /// message variables.
    Fire(u32, Lead<'a>, Vec<VarId>),
}

/// The value a firing carries before its message's.
#[derive(Clone, Copy)]
pub enum Lead<'a> {
    /// None.
    Nothing,
    /// A `risk` rule's points.
    Points(&'a Expr),
    /// The variable naming the approver group of an `escalate … to g`.
    Approver(VarId),
}

/// The code of one rule.
pub struct Planned {
    /// Instructions.
    pub code: Vec<Instr>,
    /// Registers used.
    pub registers: u16,
}

/// The planning of one rule (one variant of it).
struct RulePlan<'p, 'a> {
    planner: &'p mut Planner<'a>,
    /// The rule: its variables' types.
    rule: &'a Rule,
    regs: HashMap<VarId, u16>,
    types: HashMap<u16, BaseType>,
    next: u16,
    code: Vec<Instr>,
}

/// The variables of an expression, a condition or an aggregate.
fn vars_of(walk: impl FnOnce(&mut dyn FnMut(VarId))) -> Vec<VarId> {
    let mut vars = Vec::new();
    walk(&mut |var| vars.push(var));
    vars
}

/// Whether evaluating `expr` can fail: it holds arithmetic (overflow, division by zero) or
/// a call of a built-in that can fail (a result that does not fit its type). A call of any
/// other built-in cannot fail: it yields a value or nothing.
fn fallible_expr(expr: &Expr) -> bool {
    match expr {
        Expr::Arith(_) => true,
        Expr::Call(call) => fallible_call(call),
        Expr::Var(_) | Expr::Const(_) | Expr::Wildcard => false,
    }
}

/// Whether a call can fail: its built-in can, or one of its arguments.
fn fallible_call(call: &Call) -> bool {
    call.builtin.can_fail() || call.args.iter().any(fallible_expr)
}

/// Whether evaluating an aggregate can fail: it adds (`sum` overflows) or contains
/// something that can fail.
fn fallible_aggregate(aggregate: &Aggregate) -> bool {
    aggregate.function == AggregateFn::Sum
        || fallible_expr(&aggregate.target)
        || aggregate.body.iter().any(fallible_item)
}

/// Whether evaluating a condition can fail (see [`fallible_expr`], [`fallible_aggregate`]).
pub(crate) fn fallible_item(item: &Literal) -> bool {
    match item {
        Literal::Atom(a) | Literal::Negated(a) => a.args.iter().any(|arg| fallible_expr(&arg.value)),
        Literal::Compare { left, right, .. } => fallible_expr(left) || fallible_expr(right),
        Literal::Aggregate { result, aggregate } => fallible_expr(result) || fallible_aggregate(aggregate),
        Literal::Test { call, .. } => fallible_call(call),
        Literal::Generate { element, call, .. } => fallible_expr(element) || fallible_call(call),
        Literal::InSet { element, .. } => fallible_expr(element),
    }
}

/// The type a built-in yields, given its arguments' types (`Numeric`: theirs).
fn output_type(builtin: Builtin, arg_types: &[Option<BaseType>]) -> Option<BaseType> {
    let signature = builtin.signature();
    let param = match signature.output {
        Output::Value(param) | Output::Values(param) => param,
        Output::Test => return Some(BaseType::Bool),
    };
    match param {
        Param::Base(base) => Some(base),
        Param::Pattern => Some(BaseType::Str),
        Param::Numeric => numeric_type(builtin, arg_types),
    }
}

/// The one numeric type of a built-in's `Numeric` arguments: Decimal if any is one (an Int
/// literal among them is read as a Decimal), else the first known.
fn numeric_type(builtin: Builtin, arg_types: &[Option<BaseType>]) -> Option<BaseType> {
    let numeric = builtin.signature().params.iter().zip(arg_types).filter(|(p, _)| **p == Param::Numeric);
    let types: Vec<BaseType> = numeric.filter_map(|(_, t)| *t).collect();
    if types.contains(&BaseType::Decimal) { Some(BaseType::Decimal) } else { types.first().copied() }
}

impl<'a> Planner<'a> {
    /// Plans `rule`: its body, then `head`. `delta` is the index in the body of the atom
    /// that reads only the previous round's facts.
    pub fn rule(&mut self, rule: &'a Rule, head: Head<'_>, delta: Option<usize>) -> Result<Planned, PlanError> {
        let mut plan =
            RulePlan { planner: self, rule, regs: HashMap::new(), types: HashMap::new(), next: 0, code: Vec::new() };
        let mut outside: Vec<VarId> = Vec::new();
        match &head {
            Head::Emit(_, args) => args.iter().for_each(|a| a.for_each_var(&mut |v| outside.push(v))),
            Head::Fire(_, lead, vars) => {
                match lead {
                    Lead::Points(points) => points.for_each_var(&mut |v| outside.push(v)),
                    Lead::Approver(var) => outside.push(*var),
                    Lead::Nothing => {}
                }
                outside.extend(vars.iter().copied());
            }
        }
        plan.body(&rule.body, &outside, delta)?;
        match head {
            Head::Emit(rel, args) => {
                let columns = plan.column_types(rel);
                let values = args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| plan.operand(a, columns.get(i).copied()))
                    .collect::<Result<Vec<_>, _>>()?;
                plan.code.push(Instr::Emit { rel, values });
            }
            Head::Fire(decision, lead, vars) => {
                let mut values = Vec::with_capacity(vars.len() + 1);
                match lead {
                    Lead::Points(points) => values.push(plan.operand(points, Some(BaseType::Int))?),
                    Lead::Approver(var) => values.push(plan.reg(var).map(Operand::Reg)?),
                    Lead::Nothing => {}
                }
                for var in vars {
                    values.push(plan.reg(var).map(Operand::Reg)?);
                }
                plan.code.push(Instr::Fire { decision, values });
            }
        }
        Ok(Planned { code: plan.code, registers: plan.next })
    }
}

impl<'a> RulePlan<'_, 'a> {
    fn column_types(&self, rel: u32) -> Vec<BaseType> {
        self.planner.ir.relations.get(rel as usize).map_or_else(Vec::new, |r| r.columns.iter().map(|c| c.ty).collect())
    }

    /// The register of a bound variable.
    fn reg(&self, var: VarId) -> Result<u16, PlanError> {
        self.regs.get(&var).copied().ok_or_else(|| format!("variable `{}` is not bound", self.name(var)))
    }

    fn name(&self, var: VarId) -> &str {
        self.rule.vars.get(var.index()).map_or("?", |v| v.name.as_str())
    }

    fn fresh(&mut self) -> Result<u16, PlanError> {
        let reg = self.next;
        self.next = self.next.checked_add(1).ok_or("rule needs more than 65535 registers")?;
        Ok(reg)
    }

    fn bind(&mut self, var: VarId, ty: Option<BaseType>) -> Result<u16, PlanError> {
        let reg = self.fresh()?;
        self.regs.insert(var, reg);
        if let Some(ty) = ty {
            self.types.insert(reg, ty);
        }
        Ok(reg)
    }

    fn is_bound(&self, expr: &Expr) -> bool {
        let mut bound = true;
        expr.for_each_var(&mut |v| bound &= self.regs.contains_key(&v));
        !matches!(expr, Expr::Wildcard) && bound
    }

    fn unbound_var(&self, expr: &Expr) -> Option<VarId> {
        match expr {
            Expr::Var(v) if !self.regs.contains_key(v) => Some(*v),
            _ => None,
        }
    }

    fn constant(&mut self, value: &Const, expected: Option<BaseType>) -> Value {
        constant(self.planner.pool, value, expected)
    }

    /// The static type of an expression, when known.
    fn type_of(&self, expr: &Expr) -> Option<BaseType> {
        match expr {
            Expr::Var(v) => self.regs.get(v).and_then(|r| self.types.get(r)).copied(),
            Expr::Const(c) => Some(c.ty()),
            Expr::Arith(b) => {
                let (l, r) = (self.type_of(&b.left), self.type_of(&b.right));
                let promote = |t: Option<BaseType>, other: Option<BaseType>| {
                    if t == Some(BaseType::Int) && other == Some(BaseType::Decimal) { other } else { t }
                };
                gov_value::result_type(b.op, promote(l, r)?, promote(r, l)?)
            }
            Expr::Call(call) => {
                let types: Vec<Option<BaseType>> = call.args.iter().map(|a| self.type_of(a)).collect();
                output_type(call.builtin, &types)
            }
            Expr::Wildcard => None,
        }
    }

    /// Compiles a bound expression to an operand; `expected` converts Int literals where
    /// a Decimal is expected.
    fn operand(&mut self, expr: &Expr, expected: Option<BaseType>) -> Result<Operand, PlanError> {
        match expr {
            Expr::Var(v) => self.reg(*v).map(Operand::Reg),
            Expr::Const(c) => {
                let value = self.constant(c, expected);
                Ok(Operand::Const(self.planner.pool.constant(value)))
            }
            Expr::Arith(b) => {
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
            Expr::Call(call) => {
                let dst = self.fresh()?;
                if let Some(ty) = self.type_of(expr) {
                    self.types.insert(dst, ty);
                }
                let args = self.call_args(call)?;
                self.code.push(Instr::Call { builtin: call.builtin, args, out: CallOut::Value(dst) });
                Ok(Operand::Reg(dst))
            }
            Expr::Wildcard => Err("`_` has no value".to_owned()),
        }
    }

    /// The operands of a call's arguments, each read as its parameter's type (an Int
    /// literal as a Decimal where the call's numbers are Decimals).
    fn call_args(&mut self, call: &Call) -> Result<Vec<Operand>, PlanError> {
        let types: Vec<Option<BaseType>> = call.args.iter().map(|a| self.type_of(a)).collect();
        let numeric = numeric_type(call.builtin, &types);
        let params = call.builtin.signature().params;
        let mut args = Vec::with_capacity(call.args.len());
        for (i, arg) in call.args.iter().enumerate() {
            let expected = match params.get(i) {
                Some(Param::Base(base)) => Some(*base),
                Some(Param::Pattern) => Some(BaseType::Str),
                Some(Param::Numeric) | None => numeric,
            };
            args.push(self.operand(arg, expected)?);
        }
        Ok(args)
    }

    /// `element in …`: binds an unbound variable element to each value (`Each`), or keeps
    /// the bindings where a bound one is (`Has`) or is not (`Lacks`) among them. `None` when
    /// the element is neither bound nor a variable this may bind.
    fn membership_out(
        &mut self,
        element: &Expr,
        negated: bool,
        ty: Option<BaseType>,
        pending: &HashSet<VarId>,
    ) -> Result<Option<CallOut>, PlanError> {
        if let Some(var) = self.unbound_var(element) {
            if negated || pending.contains(&var) {
                return Ok(None);
            }
            let ty = self.rule.vars.get(var.index()).map(|v| v.ty).or(ty);
            return Ok(Some(CallOut::Each(self.bind(var, ty)?)));
        }
        if !self.is_bound(element) {
            return Ok(None);
        }
        let operand = self.operand(element, ty)?;
        Ok(Some(if negated { CallOut::Lacks(operand) } else { CallOut::Has(operand) }))
    }

    /// Plans a conjunction. `outside` lists variables used after it (head, message, or the
    /// enclosing rule), which decides an aggregate's grouping; `delta` is the index of the
    /// atom read from the delta (in the rule's own body only).
    fn body(&mut self, body: &[Literal], outside: &[VarId], delta: Option<usize>) -> Result<(), PlanError> {
        let mut remaining: Vec<&Literal> = body.iter().collect();
        // Variables each item uses outside any aggregate: an aggregate groups by the
        // variables it shares with these (another aggregate's locals are its own).
        let all_vars: Vec<Vec<VarId>> =
            remaining.iter().map(|item| vars_of(|f| item.for_each_outer_var(&mut |v| f(v)))).collect();
        let mut positions: Vec<usize> = (0..remaining.len()).collect();
        let others_of = |position: usize| -> HashSet<VarId> {
            all_vars
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != position)
                .flat_map(|(_, v)| v.iter().copied())
                .chain(outside.iter().copied())
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
            if let Some(best) = self.best_atom(&remaining, &positions, delta, &pending) {
                if let Some(Literal::Atom(atom)) = remaining.get(best).copied() {
                    self.scan(atom, delta.is_some() && positions.get(best).copied() == delta)?;
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
                        remaining.get(i).is_some_and(|item| match item {
                            Literal::Compare { op: CompareOp::Eq, .. } | Literal::Aggregate { .. } => {
                                fallible_item(item)
                            }
                            // A generator binds its element only while nothing else must
                            // bind it first, whether it can fail or not.
                            Literal::Generate { negated: false, .. } => true,
                            _ => false,
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
                Some(Literal::Aggregate { aggregate, .. })
                    if matches!(aggregate.function, AggregateFn::Min | AggregateFn::Max) =>
                {
                    Some(aggregate)
                }
                _ => None,
            };
            for &i in &stage {
                if let Some(a) = min_max(i) {
                    let position = positions.get(i).copied().unwrap_or(0);
                    let probe = Aggregate { function: AggregateFn::Count, ..a.clone() };
                    self.aggregate(&probe, &others_of(position))?;
                }
            }
            let mut order = stage.clone();
            order.sort_by_key(|&i| min_max(i).is_some());
            for &i in &order {
                let position = positions.get(i).copied().unwrap_or(0);
                let is_delta = delta.is_some() && Some(position) == delta;
                let placed = self.try_item(remaining.get(i).copied(), &others_of(position), is_delta)?;
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
    fn pending(&self, remaining: &[&Literal], positions: &[usize], demoted: &HashSet<usize>) -> HashSet<VarId> {
        let mut pending = HashSet::new();
        for (item, position) in remaining.iter().zip(positions) {
            if demoted.contains(position) {
                continue;
            }
            match item {
                Literal::Compare { left, op: CompareOp::Eq, right } => {
                    for (target, source) in [(left, right), (right, left)] {
                        if let Some(v) = self.unbound_var(target)
                            && fallible_expr(source)
                        {
                            pending.insert(v);
                        }
                    }
                }
                Literal::Aggregate { result, aggregate } => {
                    if let Some(v) = self.unbound_var(result)
                        && fallible_aggregate(aggregate)
                    {
                        pending.insert(v);
                    }
                }
                Literal::Generate { element, negated: false, .. } => {
                    if let Some(v) = self.unbound_var(element) {
                        pending.insert(v);
                    }
                }
                _ => {}
            }
        }
        pending
    }

    /// Whether a fallible condition can be placed now (its inputs are bound, and it binds no
    /// pending variable except as the `=` that computes it).
    fn ready(&self, item: &Literal, others: &HashSet<VarId>, pending: &HashSet<VarId>) -> bool {
        match item {
            Literal::Atom(atom) => self.atom_ready(atom, pending),
            Literal::Test { call, .. } => call.args.iter().all(|a| self.is_bound(a)),
            Literal::Generate { element, call, negated } => {
                call.args.iter().all(|a| self.is_bound(a))
                    && (self.is_bound(element) || (!negated && self.unbound_var(element).is_some()))
            }
            Literal::InSet { element, negated, .. } => {
                self.is_bound(element) || (!negated && self.unbound_var(element).is_some())
            }
            Literal::Negated(atom) => {
                atom.args.iter().all(|a| matches!(a.value, Expr::Wildcard) || self.is_bound(&a.value))
            }
            Literal::Compare { left, op, right } => {
                (self.is_bound(left) && self.is_bound(right))
                    || (*op == CompareOp::Eq
                        && ((self.unbound_var(left).is_some() && self.is_bound(right))
                            || (self.unbound_var(right).is_some() && self.is_bound(left))))
            }
            Literal::Aggregate { result, aggregate } => {
                let ready = self.aggregate_ready(aggregate, others);
                ready && (self.is_bound(result) || self.unbound_var(result).is_some())
            }
        }
    }

    /// Whether every argument of `atom` that is computed (arithmetic, a call) has its inputs
    /// bound: only a variable or a wildcard can be bound by the scan itself.
    fn computed_args_bound(&self, atom: &Atom) -> bool {
        atom.args.iter().all(|a| !matches!(a.value, Expr::Arith(_) | Expr::Call(_)) || self.is_bound(&a.value))
    }

    /// Whether `atom` can be scanned now: its computed arguments' inputs are bound, it binds
    /// no pending variable, and the list or object whose contents it reads is bound.
    fn atom_ready(&self, atom: &Atom, pending: &HashSet<VarId>) -> bool {
        self.computed_args_bound(atom) && !self.binds_pending(atom, pending) && !self.awaits_container(atom)
    }

    /// Whether `atom` reads a list's or object's contents (`x in v`, a pattern's members)
    /// whose identifier is not bound yet: the language evaluates it after the atom that
    /// binds the list or object (docs/reference.md, "Lists and objects"), so scanning the
    /// contents first could end a binding before a stage whose error the language raises.
    fn awaits_container(&self, atom: &Atom) -> bool {
        self.planner.ir.relation(atom.relation).is_some_and(|r| r.auxiliary)
            && atom.args.first().is_some_and(|a| self.unbound_var(&a.value).is_some())
    }

    /// Whether scanning `atom` would bind a pending variable.
    fn binds_pending(&self, atom: &Atom, pending: &HashSet<VarId>) -> bool {
        atom.args.iter().any(|a| self.unbound_var(&a.value).is_some_and(|v| pending.contains(&v)))
    }

    /// Places any condition whose inputs are bound: an atom is scanned.
    fn try_item(&mut self, item: Option<&Literal>, others: &HashSet<VarId>, delta: bool) -> Result<bool, PlanError> {
        match item {
            Some(Literal::Atom(atom)) => {
                self.scan(atom, delta)?;
                Ok(true)
            }
            other => self.try_filter(other, others, &HashSet::new()),
        }
    }

    /// Orders the code of one stage (from `start`): first its computations (`Arith` and
    /// the value of each call), then every aggregate (with its sub-plan), then the rest,
    /// each group in its order. The stage's conditions were all ready before it, so no
    /// computation or aggregate reads a register another condition of the stage binds; the
    /// comparisons, bindings and scans keep their order, so a second `v = …` still compares
    /// with the first.
    ///
    /// The computations go by depth (one that reads another's result is deeper), and at
    /// each depth those that can fail (arithmetic, `num.abs`) come before the calls that
    /// may have no result: so a missing result ends the binding only after every error it
    /// does not feed is raised, whatever order the conditions are written in (the
    /// reference evaluator does the same, depth by depth).
    fn stage_order(&mut self, start: usize) {
        let tail: Vec<Instr> = self.code.drain(start.min(self.code.len())..).collect();
        let (mut computations, mut aggregates, mut rest) = (Vec::new(), Vec::new(), Vec::new());
        // The depth of each register a computation of the stage writes.
        let mut depths: HashMap<u16, usize> = HashMap::new();
        let mut inside = 0usize;
        for instr in tail {
            if inside > 0 {
                inside -= 1;
                aggregates.push(instr);
                continue;
            }
            let read = |operand: &Operand| match operand {
                Operand::Reg(reg) => depths.get(reg).copied().unwrap_or(0),
                Operand::Const(_) => 0,
            };
            let (dst, depth, may_be_missing) = match &instr {
                Instr::Arith { dst, left, right, .. } => (*dst, 1 + read(left).max(read(right)), false),
                Instr::Call { builtin, args, out: CallOut::Value(dst) } => {
                    (*dst, 1 + args.iter().map(read).max().unwrap_or(0), !builtin.can_fail())
                }
                Instr::Aggregate { len, .. } => {
                    inside = *len as usize;
                    aggregates.push(instr);
                    continue;
                }
                _ => {
                    rest.push(instr);
                    continue;
                }
            };
            depths.insert(dst, depth);
            computations.push(((depth, may_be_missing), instr));
        }
        // Stable: within a depth and kind, the order the conditions were placed in.
        computations.sort_by_key(|(key, _)| *key);
        self.code.extend(computations.into_iter().map(|(_, instr)| instr));
        self.code.extend(aggregates);
        self.code.extend(rest);
    }

    /// Emits a comparison, assignment, aggregate or negation if its inputs are bound and it
    /// binds no `pending` variable.
    fn try_filter(
        &mut self,
        item: Option<&Literal>,
        others: &HashSet<VarId>,
        pending: &HashSet<VarId>,
    ) -> Result<bool, PlanError> {
        match item {
            Some(Literal::Negated(atom))
                if atom.args.iter().all(|a| matches!(a.value, Expr::Wildcard) || self.is_bound(&a.value)) =>
            {
                self.absent(atom)?;
                Ok(true)
            }
            Some(Literal::Compare { left, op, right }) => self.compare(left, *op, right, pending),
            Some(Literal::Aggregate { result, aggregate }) => self.assign_aggregate(result, aggregate, others, pending),
            Some(Literal::Test { call, negated }) if call.args.iter().all(|a| self.is_bound(a)) => {
                let args = self.call_args(call)?;
                self.code.push(Instr::Call { builtin: call.builtin, args, out: CallOut::Test { negated: *negated } });
                Ok(true)
            }
            Some(Literal::Generate { element, call, negated }) if call.args.iter().all(|a| self.is_bound(a)) => {
                let types: Vec<Option<BaseType>> = call.args.iter().map(|a| self.type_of(a)).collect();
                let ty = output_type(call.builtin, &types);
                // A generator computes its element: the variable is pending for it, and it
                // binds it (as the reference evaluator does).
                let bindable = self.unbound_var(element).is_some() && !negated;
                if !bindable && !self.is_bound(element) {
                    return Ok(false);
                }
                // The arguments are computed before the element is bound.
                let args = self.call_args(call)?;
                let Some(out) = self.membership_out(element, *negated, ty, &HashSet::new())? else { return Ok(false) };
                self.code.push(Instr::Call { builtin: call.builtin, args, out });
                Ok(true)
            }
            Some(Literal::InSet { element, set, negated }) => {
                // The element's type (the checker's, for a variable this binds) reads the
                // literals: an Int literal among Decimals is a Decimal.
                let var_ty = self.unbound_var(element).and_then(|v| self.rule.vars.get(v.index())).map(|v| v.ty);
                let ty = self.type_of(element).or(var_ty).or_else(|| set.first().map(Const::ty));
                let Some(out) = self.membership_out(element, *negated, ty, pending)? else { return Ok(false) };
                let mut values = Vec::with_capacity(set.len());
                for constant in set {
                    let value = self.constant(constant, ty);
                    values.push(Operand::Const(self.planner.pool.constant(value)));
                }
                self.code.push(Instr::Set { values, out });
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// `result = aggregate`: binds an unbound `result` variable, or compares a bound one.
    fn assign_aggregate(
        &mut self,
        result: &Expr,
        aggregate: &Aggregate,
        others: &HashSet<VarId>,
        pending: &HashSet<VarId>,
    ) -> Result<bool, PlanError> {
        if !self.aggregate_ready(aggregate, others) {
            return Ok(false);
        }
        match self.unbound_var(result) {
            // A variable a pending `=` computes is left to it.
            Some(v) if pending.contains(&v) => return Ok(false),
            // `n = count(…)` with `n` unbound binds it.
            Some(v) => {
                let dst = self.aggregate(aggregate, others)?;
                self.regs.insert(v, dst);
            }
            // Otherwise the aggregate is computed and compared.
            None if self.is_bound(result) => {
                let dst = self.aggregate(aggregate, others)?;
                let left = self.operand(result, self.types.get(&dst).copied())?;
                self.code.push(Instr::Compare { op: CompareOp::Eq, left, right: Operand::Reg(dst) });
            }
            None => return Ok(false),
        }
        Ok(true)
    }

    fn compare(
        &mut self,
        left: &Expr,
        op: CompareOp,
        right: &Expr,
        pending: &HashSet<VarId>,
    ) -> Result<bool, PlanError> {
        if op == CompareOp::Eq {
            for (target, source) in [(left, right), (right, left)] {
                let Some(var) = self.unbound_var(target) else { continue };
                if !self.is_bound(source) || pending.contains(&var) {
                    continue;
                }
                // The checker's type of the variable decides how a literal is read
                // (`p = 3` with `p` a Decimal binds the Decimal 3).
                let ty = self.rule.vars.get(var.index()).map(|v| v.ty).or_else(|| self.type_of(source));
                let src = self.operand(source, ty)?;
                // A call's value is in a register of its own: the variable is that register.
                if let (Expr::Call(_), Operand::Reg(reg)) = (source, src) {
                    self.regs.insert(var, reg);
                    return Ok(true);
                }
                let dst = self.bind(var, ty)?;
                self.code.push(Instr::Move { dst, src });
                return Ok(true);
            }
        }
        if !self.is_bound(left) || !self.is_bound(right) {
            return Ok(false);
        }
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        let left = self.operand(left, rt)?;
        let right = self.operand(right, lt)?;
        self.code.push(Instr::Compare { op, left, right });
        Ok(true)
    }

    /// The aggregate's group variables (used outside it) are all bound.
    fn aggregate_ready(&self, aggregate: &Aggregate, others: &HashSet<VarId>) -> bool {
        vars_of(|f| aggregate.for_each_var(&mut |v| f(v)))
            .iter()
            .filter(|v| others.contains(v))
            .all(|v| self.regs.contains_key(v))
    }

    /// Emits an aggregate and returns the register holding its result.
    fn aggregate(&mut self, aggregate: &Aggregate, others: &HashSet<VarId>) -> Result<u16, PlanError> {
        let at = self.code.len();
        self.code.push(Instr::Move { dst: 0, src: Operand::Reg(0) }); // placeholder, replaced below
        let outer_regs = self.regs.clone();
        let inner_outside: Vec<VarId> = vars_of(|f| aggregate.target.for_each_var(&mut |v| f(v)))
            .into_iter()
            .chain(others.iter().copied())
            .collect();
        self.body(&aggregate.body, &inner_outside, None)?;
        let target = match (&aggregate.target, aggregate.function) {
            (Expr::Wildcard, AggregateFn::Count) => Operand::Const(self.planner.pool.constant(Value::Int(0))),
            (target, _) => self.operand(target, None)?,
        };
        let ty = match aggregate.function {
            AggregateFn::Count => BaseType::Int,
            _ => self.type_of(&aggregate.target).unwrap_or(BaseType::Int),
        };
        // The assignments counted are those of the author's local variables: the object an
        // object pattern reads is not one (two objects alike in the pattern's members are one
        // solution, as `_` would be).
        let pattern = |var: &VarId| self.rule.vars.get(var.index()).is_some_and(|v| v.pattern);
        let mut locals: Vec<u16> = self
            .regs
            .iter()
            .filter(|(var, _)| !outer_regs.contains_key(*var) && !pattern(var))
            .map(|(_, r)| *r)
            .collect();
        locals.sort_unstable();
        let len = u32::try_from(self.code.len() - at - 1).map_err(|_| "aggregate body too long")?;
        self.regs = outer_regs;
        let dst = self.fresh()?;
        self.types.insert(dst, ty);
        if let Some(slot) = self.code.get_mut(at) {
            *slot = Instr::Aggregate { function: aggregate.function, ty, dst, target, locals, len };
        }
        Ok(dst)
    }

    /// The index (into `remaining`) of the positive atom without arithmetic to join next,
    /// or `None` if no such atom can be joined (none is left, or each would bind a
    /// `pending` variable).
    fn best_atom(
        &self,
        remaining: &[&Literal],
        positions: &[usize],
        delta: Option<usize>,
        pending: &HashSet<VarId>,
    ) -> Option<usize> {
        remaining
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Literal::Atom(atom) => {
                    if fallible_item(item) || !self.atom_ready(atom, pending) {
                        return None;
                    }
                    let bound = atom
                        .args
                        .iter()
                        .filter(|a| {
                            matches!(a.value, Expr::Const(_))
                                || (matches!(a.value, Expr::Var(_)) && self.is_bound(&a.value))
                        })
                        .count();
                    let input = self.planner.ir.relation(atom.relation).is_some_and(|r| r.kind == RelationKind::Input);
                    let is_delta = delta.is_some() && positions.get(i).copied() == delta;
                    // Higher is better; `Reverse(i)` keeps source order among equals.
                    Some(((is_delta, input, bound), std::cmp::Reverse(i)))
                }
                _ => None,
            })
            .max()
            .map(|(_, std::cmp::Reverse(i))| i)
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

    fn scan(&mut self, atom: &Atom, delta: bool) -> Result<(), PlanError> {
        let rel = atom.relation.0;
        let types = self.column_types(rel);
        let mut key: Vec<(u8, Operand)> = Vec::new();
        let mut binds: Vec<(u8, u16)> = Vec::new();
        let mut checks: Vec<(u8, Operand)> = Vec::new();
        let mut bound_here: HashMap<VarId, u16> = HashMap::new();
        for arg in &atom.args {
            let col = u8::try_from(arg.column).map_err(|_| "too many columns")?;
            let ty = types.get(arg.column as usize).copied();
            match &arg.value {
                Expr::Wildcard => {}
                Expr::Var(v) if !self.regs.contains_key(v) => match bound_here.get(v) {
                    Some(reg) => checks.push((col, Operand::Reg(*reg))),
                    None => {
                        let reg = self.fresh()?;
                        if let Some(ty) = ty {
                            self.types.insert(reg, ty);
                        }
                        bound_here.insert(*v, reg);
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
        let source = if delta { Source::Delta } else { Source::Full };
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
        let rel = atom.relation.0;
        let types = self.column_types(rel);
        let mut key: Vec<(u8, Operand)> = Vec::new();
        for arg in &atom.args {
            if matches!(arg.value, Expr::Wildcard) {
                continue;
            }
            let operand = self.operand(&arg.value, types.get(arg.column as usize).copied())?;
            key.push((u8::try_from(arg.column).map_err(|_| "too many columns")?, operand));
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
