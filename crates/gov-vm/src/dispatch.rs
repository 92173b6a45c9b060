//! Rule dispatch: rules that test constants on columns of an input relation run only for
//! the requests whose facts hold those constants.
//!
//! The compiler keys such rules ([`Program::dispatch`], one [`RuleKey`] per rule: the
//! relation, the columns, the constants); the bundle's validator has checked each key
//! against its rule's code. When the engine is built, the keyed rules are grouped by
//! (relation, columns); each group maps the constants to its rules. Before a phase runs,
//! each group is probed once per fact of its relation (one probe for an input relation
//! held as its row), and only the rules found run, with the rules no key holds, in
//! evaluation order. So a policy of 1 000 rules over distinct `(action, resource type)` pairs runs the
//! one or two rules a request can match, and a decision no longer costs a step per rule it
//! cannot match.
//!
//! A rule without a key of its own inherits its keys through a derived relation
//! ([`rule_keys`]): when one of its guards ([`Guards`]: a scan at its top level, before
//! anything that can fail) reads a relation that only keyed rules derive, it derives
//! nothing unless one of those rules ran, so it runs under their keys. `command(c) :-
//! tool_call(tool: "run_shell", target: c)` is keyed; `deny pipe_to_shell … :- command(c),
//! …` inherits `tool = "run_shell"`, and so on down a chain. Where a rule with a key did
//! not run, its relation is empty and the guard would have skipped the inheriting rule:
//! inheriting changes what runs, never what is derived, and a request pays nothing for a
//! chain it cannot start.
//!
//! Deciding also skips a rule whose facts nothing that runs could read ([`demanded`]): a
//! rule that cannot fail, deriving a relation whose every reader runs under keys, runs
//! under the union of its readers' keys (`office_hours() :- now(t), …` read only by
//! rules keyed on `tool = "deploy"` runs only for a deploy), and one whose relation no rule
//! reads does not run at all. This one changes what is derived, never what is decided:
//! an explanation, a test's coverage and a session of every rule ([`crate::Engine::full_session`])
//! run the plan without it.

use crate::guards::Guards;
use crate::one::Ones;
use crate::program::{AggregateFn, Instr, Phase, Program, RelationKind, RuleCode, RuleKey, Source, Stratum};
use crate::store::{Columns, Relation, hash_values};
use crate::{EvalError, Value};
use hashbrown::HashTable;

/// One step of a phase's evaluation: a whole stratum, or one rule of a non-recursive one.
/// Steps order as they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Step {
    /// The stratum's position in [`Program::strata`].
    pub stratum: u32,
    /// The rule's position in the stratum's `rules`, or [`Step::WHOLE`].
    pub at: u32,
    /// The rule at `at` (unused for a whole stratum).
    // Invariant: `rule == rules[at]` of the stratum, so steps order by (stratum, at).
    pub rule: u32,
}

impl Step {
    /// The `at` of a step that runs its whole stratum (a recursive one, the risk score).
    pub const WHOLE: u32 = u32::MAX;
}

/// Rules with constants on the same columns of one input relation, by those constants.
#[derive(Debug, Clone)]
struct Group {
    rel: u32,
    /// The tested columns, ascending.
    columns: Vec<u8>,
    /// The rules' steps by the hash of their constants (in `columns` order, hashed with
    /// [`hash_values`]).
    // Invariant: rules whose constants' hashes collide share an entry, so a probe may
    // select a rule whose constants the fact does not hold. That is only work: the rule's
    // scan tests its constants and derives nothing. No rule the fact can match is missed.
    table: HashTable<(u64, Vec<Step>)>,
}

/// A phase's evaluation plan: the steps every request runs and the indexed groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// Steps that run whatever the facts: in order.
    always: Vec<Step>,
    groups: Vec<Group>,
}

/// The plans of both phases, and the request phase's for deciding.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dispatch {
    statics: Plan,
    /// Every rule the request's facts can start.
    request: Plan,
    /// Of those, only the rules whose facts a rule that runs can read ([`demanded`]).
    deciding: Plan,
}

impl Dispatch {
    /// The plans of `program`'s two phases; `guards` are its rules' ([`Guards::of`]).
    pub(crate) fn of(program: &Program, guards: &Guards) -> Dispatch {
        let keys = rule_keys(program, guards);
        let deciding = Plan::of(program, Phase::Request, &demanded(program, &keys));
        Dispatch {
            statics: Plan::of(program, Phase::Static, &keys),
            request: Plan::of(program, Phase::Request, &keys),
            deciding,
        }
    }

    /// The plan of `phase` that runs every rule the facts can start.
    pub(crate) fn plan(&self, phase: Phase) -> &Plan {
        match phase {
            Phase::Static => &self.statics,
            Phase::Request => &self.request,
        }
    }

    /// The request phase's plan for a decision: without the rules it cannot need.
    pub(crate) fn deciding(&self) -> &Plan {
        &self.deciding
    }
}

impl Plan {
    fn of(program: &Program, phase: Phase, keys: &[Keys]) -> Plan {
        let mut plan = Plan::default();
        for (stratum, entry) in program.strata.iter().enumerate() {
            let Ok(stratum) = u32::try_from(stratum) else { break };
            match entry {
                Stratum::Rules { phase: p, rules, delta_rules } if *p == phase && delta_rules.is_empty() => {
                    for (at, &rule) in rules.iter().enumerate() {
                        let Ok(at) = u32::try_from(at) else { break };
                        let step = Step { stratum, at, rule };
                        if keys.get(rule as usize) == Some(&Keys::Unread) {
                            continue;
                        }
                        let under = keys.get(rule as usize).map_or(&[][..], Keys::under);
                        let keyed: Option<Vec<KeyValues<'_>>> = under
                            .iter()
                            .map(|&k| {
                                let key = program.dispatch.get(k as usize)?;
                                Some((key, constants(program, key)?))
                            })
                            .collect();
                        match keyed.filter(|keyed| !keyed.is_empty()) {
                            Some(keyed) => {
                                for (key, values) in keyed {
                                    plan.add(key, &values, step);
                                }
                            }
                            None => plan.always.push(step),
                        }
                    }
                }
                Stratum::Rules { phase: p, .. } if *p == phase => {
                    plan.always.push(Step { stratum, at: Step::WHOLE, rule: 0 })
                }
                Stratum::RiskScore { .. } if phase == Phase::Request => {
                    plan.always.push(Step { stratum, at: Step::WHOLE, rule: 0 });
                }
                _ => {}
            }
        }
        plan
    }

    /// Puts `step` under `key`, whose constants are `values`.
    fn add(&mut self, key: &RuleKey, values: &[Value], step: Step) {
        let hash = hash_values(values.iter().copied());
        let table = self.group(key.rel, key.columns.clone());
        match table.find_mut(hash, |entry| entry.0 == hash) {
            // Invariant: steps come in evaluation order, so an entry stays sorted; a rule
            // under two keys of equal constants is put there once.
            Some(entry) if entry.1.last() == Some(&step) => {}
            Some(entry) => entry.1.push(step),
            None => {
                table.insert_unique(hash, (hash, vec![step]), |entry| entry.0);
            }
        }
    }

    /// The table of the group of (`rel`, `columns`), made if new.
    fn group(&mut self, rel: u32, columns: Vec<u8>) -> &mut HashTable<(u64, Vec<Step>)> {
        let at = match self.groups.iter().position(|g| g.rel == rel && g.columns == columns) {
            Some(at) => at,
            None => {
                self.groups.push(Group { rel, columns, table: HashTable::new() });
                self.groups.len() - 1
            }
        };
        // PANIC SAFETY: `at` is a position found in, or just pushed onto, `self.groups`.
        #[allow(clippy::indexing_slicing)]
        &mut self.groups[at].table
    }

    /// The steps every run takes, in order.
    pub(crate) fn always(&self) -> &[Step] {
        &self.always
    }

    /// Appends to `selected` the steps of the indexed rules some fact of `relations` (or,
    /// for an input relation held as its row, `ones`) can match (sorted, each once),
    /// probing each group once per fact.
    pub(crate) fn select(
        &self,
        relations: &[Relation],
        ones: Option<Ones<'_>>,
        selected: &mut Vec<Step>,
    ) -> Result<(), EvalError> {
        // Invariant: one entry's steps are sorted and distinct (pushed in evaluation order
        // by `Plan::of`), so a selection found by one probe needs no sort.
        let mut hits = 0;
        for group in &self.groups {
            if let Some(row) = ones.and_then(|ones| ones.row(group.rel)) {
                hits += usize::from(group.probe(row, selected)?);
                continue;
            }
            let relation = relations.get(group.rel as usize).ok_or(EvalError::Corrupt("relation id out of range"))?;
            for row in 0..u32::try_from(relation.len()).unwrap_or(u32::MAX) {
                hits += usize::from(group.probe(&relation.row(row), selected)?);
            }
        }
        if hits > 1 {
            selected.sort_unstable();
            selected.dedup();
        }
        Ok(())
    }
}

impl Group {
    /// Appends to `selected` the steps of the rules whose constants `row` holds, and says
    /// whether there were any.
    fn probe<R: Columns + ?Sized>(&self, row: &R, selected: &mut Vec<Step>) -> Result<bool, EvalError> {
        // Invariant: the columns ascend (the validator checks the keys).
        if self.columns.last().is_some_and(|&c| row.column(usize::from(c)).is_none()) {
            return Err(EvalError::Corrupt("column out of range"));
        }
        let hash = hash_values(self.columns.iter().filter_map(|&c| row.column(usize::from(c))));
        let Some((_, steps)) = self.table.find(hash, |entry| entry.0 == hash) else { return Ok(false) };
        selected.extend_from_slice(steps);
        Ok(true)
    }
}

/// A key and the values of its constants.
type KeyValues<'p> = (&'p RuleKey, Box<[Value]>);

/// What a rule runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Keys {
    /// Every request (no key, or a rule not of a non-recursive request stratum).
    Always,
    /// Its own key (an index into [`Program::dispatch`]).
    Own(u32),
    /// The keys of the rules that derive `through`, a relation one of its guards reads
    /// (indices into [`Program::dispatch`], ascending).
    Through {
        /// The derived relation.
        through: u32,
        /// The keys.
        keys: Vec<u32>,
    },
    /// When deciding, the keys of the rules that read `read`, the relation it derives
    /// ([`demanded`]; ascending).
    Demanded {
        /// Its relation.
        read: u32,
        /// The keys.
        keys: Vec<u32>,
    },
    /// When deciding, never: nothing that runs reads the relation it derives.
    Unread,
}

impl Keys {
    /// The keys (indices into [`Program::dispatch`]): none for [`Keys::Always`].
    pub(crate) fn under(&self) -> &[u32] {
        match self {
            Keys::Always | Keys::Unread => &[],
            Keys::Own(key) => std::slice::from_ref(key),
            Keys::Through { keys, .. } | Keys::Demanded { keys, .. } => keys,
        }
    }
}

/// What each rule of `program` runs under (by rule id): its own key, or keys inherited
/// through a guard's relation when every rule deriving that relation runs under keys (the
/// guard with the fewest), or every request. `guards` are the program's ([`Guards::of`]).
pub(crate) fn rule_keys(program: &Program, guards: &Guards) -> Vec<Keys> {
    let mut keys = vec![Keys::Always; program.rules.len()];
    for (at, key) in program.dispatch.iter().enumerate() {
        if let (Some(slot), Ok(at)) = (keys.get_mut(key.rule as usize), u32::try_from(at)) {
            *slot = Keys::Own(at);
        }
    }
    // The rules deriving each relation; `None` once one of them runs in a recursive or a
    // static stratum (a whole step, never keyed).
    let mut derivers: Vec<Option<Vec<u32>>> = vec![Some(Vec::new()); program.relations.len()];
    for stratum in &program.strata {
        let Stratum::Rules { phase, rules, delta_rules } = stratum else { continue };
        let one_step = *phase == Phase::Request && delta_rules.is_empty();
        for &rule in rules.iter().chain(delta_rules) {
            let head = program.rules.get(rule as usize).and_then(head);
            if let Some(slot) = head.and_then(|rel| derivers.get_mut(rel as usize)) {
                match (one_step, slot.as_mut()) {
                    (true, Some(list)) => list.push(rule),
                    _ => *slot = None,
                }
            }
        }
    }
    let derived = |rel: u32| derived_per_request(program, rel);
    // Strata run in order, and a relation's rules run before any rule reading it, so the
    // keys of the rules a guard's relation comes from are settled when a rule is reached.
    for rule in one_step_rules(program) {
        if keys.get(rule as usize) != Some(&Keys::Always) {
            continue;
        }
        let mut best: Option<Keys> = None;
        for &(rel, source) in guards.of_rule(rule) {
            if source != Source::Full || !derived(rel) {
                continue;
            }
            let Some(Some(from)) = derivers.get(rel as usize) else { continue };
            let mut inherited: Vec<u32> = Vec::new();
            for &deriver in from {
                match keys.get(deriver as usize) {
                    Some(Keys::Always) | None => {
                        inherited.clear();
                        break;
                    }
                    Some(k) => inherited.extend_from_slice(k.under()),
                }
            }
            inherited.sort_unstable();
            inherited.dedup();
            if !inherited.is_empty() && best.as_ref().is_none_or(|b| inherited.len() < b.under().len()) {
                best = Some(Keys::Through { through: rel, keys: inherited });
            }
        }
        if let (Some(best), Some(slot)) = (best, keys.get_mut(rule as usize)) {
            *slot = best;
        }
    }
    keys
}

/// What each rule of `program` runs under when deciding: as `keys` ([`rule_keys`]) says,
/// except for a rule of a one-step request stratum that cannot fail ([`cannot_fail`]) and
/// derives a relation every reader of which runs under keys: it runs under the union of
/// their keys ([`Keys::Demanded`]), or never when nothing reads the relation
/// ([`Keys::Unread`]).
// Invariant: such a rule is skipped only when no rule reading its relation runs, so its
// facts reach no decision; and as it cannot fail, running it could not have made the
// decision an error either (the limits aside: they bound work, and skipping is less work).
// Only rules read its relation: the risk score is made of firings, and what reads a
// relation's facts after a decision (explanations, tests, `Engine::facts` of a full
// session) runs the plan of `keys`.
pub(crate) fn demanded(program: &Program, keys: &[Keys]) -> Vec<Keys> {
    let mut demanded = keys.to_vec();
    let mut readers: Vec<Vec<u32>> = vec![Vec::new(); program.relations.len()];
    for (rule, code) in program.rules.iter().enumerate() {
        let Ok(rule) = u32::try_from(rule) else { break };
        for instr in &code.code {
            let (Instr::Scan { rel, .. } | Instr::Absent { rel, .. }) = instr else { continue };
            match readers.get_mut(*rel as usize) {
                Some(list) if list.last() != Some(&rule) => list.push(rule),
                _ => {}
            }
        }
    }
    let order = one_step_rules(program);
    let mut one_step = vec![false; program.rules.len()];
    for &rule in &order {
        if let Some(slot) = one_step.get_mut(rule as usize) {
            *slot = true;
        }
    }
    // A relation's readers come after its rules, so going backwards each reader's keys are
    // final when a rule deriving its relation is reached.
    for &rule in order.iter().rev() {
        let Some(code) = program.rules.get(rule as usize) else { continue };
        let Some(rel) = head(code).filter(|&rel| derived_per_request(program, rel)) else { continue };
        if demanded.get(rule as usize) != Some(&Keys::Always) || !cannot_fail(code) {
            continue;
        }
        let mut union: Vec<u32> = Vec::new();
        let read_by = readers.get(rel as usize).map_or(&[][..], Vec::as_slice);
        let keyed = read_by.iter().all(|&reader| {
            let keys = demanded.get(reader as usize).filter(|_| one_step.get(reader as usize) == Some(&true));
            match keys {
                Some(Keys::Always) | None => false,
                Some(keys) => {
                    union.extend_from_slice(keys.under());
                    true
                }
            }
        });
        if !keyed {
            continue;
        }
        union.sort_unstable();
        union.dedup();
        let keys = if union.is_empty() { Keys::Unread } else { Keys::Demanded { read: rel, keys: union } };
        if let Some(slot) = demanded.get_mut(rule as usize) {
            *slot = keys;
        }
    }
    demanded
}

/// The rules of the non-recursive request strata, in evaluation order: those a plan runs
/// one step each, the only ones that run under keys.
fn one_step_rules(program: &Program) -> Vec<u32> {
    let mut rules = Vec::new();
    for stratum in &program.strata {
        if let Stratum::Rules { phase: Phase::Request, rules: of_stratum, delta_rules } = stratum
            && delta_rules.is_empty()
        {
            rules.extend_from_slice(of_stratum);
        }
    }
    rules
}

/// The relation a rule derives (`None` for a decision rule).
pub(crate) fn head(code: &RuleCode) -> Option<u32> {
    match code.code.last() {
        Some(Instr::Emit { rel, .. }) => Some(*rel),
        _ => None,
    }
}

/// Whether `rel` is a derived relation of the request phase.
fn derived_per_request(program: &Program, rel: u32) -> bool {
    program.relations.get(rel as usize).is_some_and(|r| r.kind == RelationKind::Derived && r.phase == Phase::Request)
}

/// Whether running `code` can raise no evaluation error but a limit's: it has no
/// arithmetic, no `sum`, and calls no built-in that can fail
/// ([`gov_builtins::Builtin::can_fail`]). (A comparison of values of different types
/// fails only in code the compiler never writes.)
fn cannot_fail(code: &RuleCode) -> bool {
    code.code.iter().all(|instr| match instr {
        Instr::Arith { .. } => false,
        Instr::Aggregate { function, .. } => *function != AggregateFn::Sum,
        Instr::Call { builtin, .. } => !builtin.can_fail(),
        _ => true,
    })
}

/// The values of `key`'s constants (`None` if one is missing: the validator refuses that).
fn constants(program: &Program, key: &RuleKey) -> Option<Box<[Value]>> {
    key.constants.iter().map(|&c| program.constants.get(c as usize).copied()).collect()
}
