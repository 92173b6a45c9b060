//! The relations each rule cannot derive anything without: the scans of its body outside
//! any aggregate's sub-plan, before anything that can fail. Scans nest, so while one of
//! them reads no row the rest of the rule never runs; a rule with such a scan is skipped
//! without setting it up. A scan after an instruction that can fail (arithmetic, a
//! built-in that can fail, an aggregate holding either or adding) does not guard: the
//! error must be raised whether the scan reads rows or not, as the rule's run would. Most rules
//! of a policy read a request relation that a given request leaves empty (the standard
//! library's approvals, rules about other kinds of input), so skipping them is most of
//! what a small decision saves.

use crate::program::{Instr, Program, Source, Stratum};

/// Each rule's guards: (relation, rows read) pairs, one run per rule.
#[derive(Debug, Clone, Default)]
pub(crate) struct Guards {
    /// Where each rule's run starts in `scans`, then the end of the last.
    // Invariant: `starts.len() == rules + 1` and nondecreasing, ending at `scans.len()`.
    starts: Vec<u32>,
    scans: Vec<(u32, Source)>,
}

impl Guards {
    /// The guards of every rule of `program`. Only relations of the rule's own phase guard
    /// it: they are in the store the rule runs over (a request's rules read the load's
    /// relations from another store, and those hold what they hold for every request).
    pub(crate) fn of(program: &Program) -> Guards {
        let mut phases = vec![None; program.rules.len()];
        for stratum in &program.strata {
            if let Stratum::Rules { phase, rules, delta_rules } = stratum {
                for &rule in rules.iter().chain(delta_rules) {
                    if let Some(slot) = phases.get_mut(rule as usize) {
                        *slot = Some(*phase);
                    }
                }
            }
        }
        let phase_of = |rel: u32| program.relations.get(rel as usize).map(|r| r.phase);
        // An `input one` relation has its fact in every request that gets this far (and a
        // decision holds it outside the store: `crate::one`), so it guards nothing.
        let one = |rel: u32| program.relations.get(rel as usize).is_some_and(|r| r.one);
        let mut guards = Guards { starts: Vec::with_capacity(program.rules.len() + 1), scans: Vec::new() };
        for (rule, phase) in program.rules.iter().zip(phases) {
            guards.starts.push(u32::try_from(guards.scans.len()).unwrap_or(u32::MAX));
            for (instr, _) in top_level(&rule.code).take_while(|&(_, failed)| !failed) {
                if let Instr::Scan { rel, source, .. } = instr
                    && phase.is_some()
                    && phase_of(*rel) == phase
                    && !one(*rel)
                {
                    guards.scans.push((*rel, *source));
                }
            }
        }
        guards.starts.push(u32::try_from(guards.scans.len()).unwrap_or(u32::MAX));
        guards
    }

    /// The guards of rule `rule` (none for a rule id out of range).
    pub(crate) fn of_rule(&self, rule: u32) -> &[(u32, Source)] {
        let start = self.starts.get(rule as usize).copied().unwrap_or(0) as usize;
        let end = self.starts.get(rule as usize + 1).copied().unwrap_or(0) as usize;
        self.scans.get(start..end).unwrap_or_default()
    }
}

/// The instructions of `code` outside any aggregate's sub-plan (the sub-plan's scans may
/// read nothing: `count` is then 0), in order, each with whether it or one before it can
/// raise an evaluation error. What runs before the first that can fail runs whatever the
/// request holds; the guards, the rule keys (compiler and loader) and the first-round
/// variants of recursive rules all ask this one question of a rule's code.
pub fn top_level(code: &[Instr]) -> impl Iterator<Item = (&Instr, bool)> {
    let mut pc = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        let instr = code.get(pc)?;
        failed |= can_fail(code, pc);
        pc += instr.step_len();
        Some((instr, failed))
    })
}

/// Whether the instruction at `pc` of `code` can raise an evaluation error (beyond the
/// limits): arithmetic, a built-in that can fail, or an aggregate that adds or whose
/// sub-plan holds either (read to its end; past `code` counts as failing).
fn can_fail(code: &[Instr], pc: usize) -> bool {
    match code.get(pc) {
        Some(Instr::Arith { .. }) => true,
        Some(Instr::Call { builtin, .. }) => builtin.can_fail(),
        Some(Instr::Aggregate { function, len, .. }) => {
            *function == gov_value::AggregateFn::Sum
                || (pc + 1..=pc + *len as usize).any(|inner| inner >= code.len() || can_fail(code, inner))
        }
        _ => false,
    }
}
