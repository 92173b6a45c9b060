//! Static analysis of a checked package over its resolved IR ([`gov_ir::Ir`]).
//!
//! The analysis *proposes*; it never reports. For each pair of an `allow` rule and a
//! `deny` or `escalate` rule it searches for a **candidate witness**: a request and the
//! data facts it needs, as typed values, on which both rules' bodies hold. The IO layer
//! (`gov-driver`) runs every candidate through the real engine and reports only the
//! findings the engine confirms, so a wrong candidate costs a finding, never a false alarm.
//!
//! The search is exact for a fragment (see `docs/analysis.md`): rule bodies are unfolded
//! into conjunctive queries ([`query`]), two queries are merged and solved ([`solve`]):
//! equalities by union-find, orders and disequalities per base type by picking values,
//! negated atoms against the facts the witness needs. The data is either any data (the
//! witness names the facts it needs) or fixed to the package's facts ([`Data`]). Outside
//! the fragment the answer is [`Outcome::Unknown`] with the reason, never a guess.

pub mod conflict;
pub mod diff;
pub mod invariant;
pub mod negation;
pub mod query;
pub mod redundant;
pub mod risk;
pub mod solve;
mod strorder;
mod witness;

pub use conflict::{Pair, PairKind, pairs};
pub use solve::Data;
pub use witness::{Fact, Value, Witness};

/// What the search says about a question (can these bodies hold together?).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// They can: a candidate witness, still to be confirmed by the engine.
    Candidate(Witness),
    /// They cannot, on any request (with any data, or with the fixed data): a proof within
    /// the fragment.
    Disjoint,
    /// The question is outside the fragment, or the search gave up: the reason.
    Unknown(String),
}
