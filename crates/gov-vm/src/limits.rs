//! Bounds on an evaluation, and the counting of its work against them.

use crate::EvalError;
use crate::eval::Firing;
use crate::value::Value;

/// Bounds on one evaluation. Exceeding one is an error, never a partial decision.
///
/// Each request is bounded by the engine's limits ([`Limits::default`] unless replaced
/// with [`crate::Engine::with_limits`]); the evaluation of the data-only relations when a
/// bundle loads is bounded separately, by [`Limits::LOAD`] unless given to
/// [`crate::Engine::from_program`]. docs/reference.md ("Limits") documents the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Facts held beyond the input: facts derived, decision firings, and the rows a rule
    /// has produced but not yet stored (a rule's duplicate rows count until it finishes).
    pub max_facts: usize,
    /// Estimated bytes of the facts held: the request's input facts, derived facts, decision
    /// firings, rows produced but not yet stored, and an aggregate's bindings while it is
    /// computed (estimated by `row_bytes`).
    pub max_fact_bytes: usize,
    /// Instructions executed.
    pub max_steps: u64,
    /// Rounds of one recursive stratum.
    pub max_rounds: u32,
    /// Bytes of a request's JSON text ([`crate::Engine::request_from_json`] refuses a longer
    /// one before reading it). A server should stop reading a request body at this size too.
    pub max_request_bytes: usize,
}

/// The default [`Limits::max_request_bytes`]: 4 MiB, far above any real request (a
/// request of a few facts is well under 1 KiB).
pub const MAX_REQUEST_BYTES: usize = 4 << 20;

impl Limits {
    /// The default bounds of one request. Each stops a runaway request after roughly 100 ms
    /// of work on the machine of docs/performance.md (2 shared vCPUs, AMD EPYC), where a
    /// release build executes about 120 million steps a second (scans, arithmetic and
    /// comparisons) and derives and stores about 6 million two-column facts a second (a
    /// transitive closure); 64 MiB holds about a million two-column facts. Real policies
    /// decide in microseconds, far below them.
    pub const REQUEST: Limits = Limits {
        max_facts: 500_000,
        max_fact_bytes: 64 << 20,
        max_steps: 10_000_000,
        max_rounds: 100_000,
        max_request_bytes: MAX_REQUEST_BYTES,
    };

    /// The default bounds of the evaluation at load (the relations that depend only on
    /// data), larger than a request's: the data is the author's, and loading happens once.
    /// docs/performance.md's load of 1 000 000 data facts stays far inside them.
    pub const LOAD: Limits = Limits {
        max_facts: 100_000_000,
        max_fact_bytes: 8 << 30,
        max_steps: 10_000_000_000,
        max_rounds: 1_000_000,
        max_request_bytes: MAX_REQUEST_BYTES,
    };
}

impl Default for Limits {
    /// [`Limits::REQUEST`].
    fn default() -> Self {
        Limits::REQUEST
    }
}

/// What the dedup table and the indexes hold per stored row, in bytes, estimated: a
/// 4-byte row id and a control byte in the dedup table, and a 4-byte link plus a share of
/// a key's head per index, rounded up for tables kept below full.
const ROW_OVERHEAD: usize = 16;

/// The estimated bytes of one stored row of `arity` values (a nullary row stores one
/// placeholder value).
pub(crate) fn row_bytes(arity: usize) -> usize {
    arity.max(1) * size_of::<Value>() + ROW_OVERHEAD
}

/// The estimated bytes of one recorded firing with `values` values, its dedup entry
/// included.
pub(crate) fn firing_bytes(values: usize) -> usize {
    size_of::<Firing>() + values * size_of::<Value>() + ROW_OVERHEAD
}

/// The estimated bytes of one recorded binding of an aggregate with `locals` locals.
pub(crate) fn binding_bytes(locals: usize) -> usize {
    size_of::<(Vec<Value>, Value)>() + locals * size_of::<Value>()
}

/// The work of one evaluation so far, checked against its limits as it grows.
// Invariant: `facts` and `bytes` count what is held now: every charge is matched by a
// refund when what it paid for is dropped (a duplicate row, an aggregate's bindings).
#[derive(Debug, Default)]
pub(crate) struct Budget {
    steps: u64,
    facts: usize,
    bytes: usize,
}

impl Budget {
    /// Counts one instruction.
    #[inline]
    pub(crate) fn step(&mut self, limits: &Limits) -> Result<(), EvalError> {
        self.steps += 1;
        if self.steps > limits.max_steps {
            return Err(exceeded("steps", limits.max_steps));
        }
        Ok(())
    }

    /// Counts `facts` more facts of `bytes` bytes in all.
    pub(crate) fn charge(&mut self, limits: &Limits, facts: usize, bytes: usize) -> Result<(), EvalError> {
        self.facts = self.facts.saturating_add(facts);
        if self.facts > limits.max_facts {
            return Err(exceeded("facts", limits.max_facts as u64));
        }
        self.charge_bytes(limits, bytes)
    }

    /// Counts `bytes` more bytes held.
    pub(crate) fn charge_bytes(&mut self, limits: &Limits, bytes: usize) -> Result<(), EvalError> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > limits.max_fact_bytes {
            return Err(exceeded("bytes of facts", limits.max_fact_bytes as u64));
        }
        Ok(())
    }

    /// Gives back what a charge of `facts` facts and `bytes` bytes paid for.
    pub(crate) fn refund(&mut self, facts: usize, bytes: usize) {
        self.facts = self.facts.saturating_sub(facts);
        self.bytes = self.bytes.saturating_sub(bytes);
    }
}

/// The error of a limit exceeded, out of the evaluator's hot path.
#[cold]
#[inline(never)]
fn exceeded(what: &'static str, limit: u64) -> EvalError {
    EvalError::Limit { what, limit }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_is_checked_as_it_is_charged_and_refunds_make_room() {
        let limits = Limits { max_facts: 2, max_fact_bytes: 100, max_steps: 1, max_rounds: 1, ..Limits::REQUEST };
        let mut budget = Budget::default();
        assert!(budget.step(&limits).is_ok());
        assert_eq!(budget.step(&limits), Err(EvalError::Limit { what: "steps", limit: 1 }));
        assert!(budget.charge(&limits, 2, 10).is_ok());
        assert_eq!(budget.charge(&limits, 1, 10), Err(EvalError::Limit { what: "facts", limit: 2 }));
        budget.refund(2, 10);
        assert!(budget.charge(&limits, 1, 90).is_ok());
        assert!(budget.charge_bytes(&limits, 10).is_ok());
        assert_eq!(budget.charge_bytes(&limits, 1), Err(EvalError::Limit { what: "bytes of facts", limit: 100 }));
    }
}
