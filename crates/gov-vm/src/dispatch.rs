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

use crate::one::Ones;
use crate::program::{Phase, Program, RuleKey, Stratum};
use crate::store::{Columns, Relation, hash_values};
use crate::{EvalError, Value};
use hashbrown::HashTable;
use std::collections::HashMap;

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

/// The plans of both phases.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dispatch {
    statics: Plan,
    request: Plan,
}

impl Dispatch {
    /// The plans of `program`'s two phases.
    pub(crate) fn of(program: &Program) -> Dispatch {
        Dispatch { statics: Plan::of(program, Phase::Static), request: Plan::of(program, Phase::Request) }
    }

    /// The plan of `phase`.
    pub(crate) fn plan(&self, phase: Phase) -> &Plan {
        match phase {
            Phase::Static => &self.statics,
            Phase::Request => &self.request,
        }
    }
}

impl Plan {
    fn of(program: &Program, phase: Phase) -> Plan {
        let keys: HashMap<u32, &RuleKey> = program.dispatch.iter().map(|key| (key.rule, key)).collect();
        let mut plan = Plan::default();
        for (stratum, entry) in program.strata.iter().enumerate() {
            let Ok(stratum) = u32::try_from(stratum) else { break };
            match entry {
                Stratum::Rules { phase: p, rules, delta_rules } if *p == phase && delta_rules.is_empty() => {
                    for (at, &rule) in rules.iter().enumerate() {
                        let Ok(at) = u32::try_from(at) else { break };
                        let step = Step { stratum, at, rule };
                        match keys.get(&rule).and_then(|key| Some((key, constants(program, key)?))) {
                            Some((key, values)) => {
                                let hash = hash_values(values.iter().copied());
                                let table = plan.group(key.rel, key.columns.clone());
                                match table.find_mut(hash, |entry| entry.0 == hash) {
                                    Some(entry) => entry.1.push(step),
                                    None => {
                                        table.insert_unique(hash, (hash, vec![step]), |entry| entry.0);
                                    }
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

/// The values of `key`'s constants (`None` if one is missing: the validator refuses that).
fn constants(program: &Program, key: &RuleKey) -> Option<Box<[Value]>> {
    key.constants.iter().map(|&c| program.constants.get(c as usize).copied()).collect()
}
