//! The engine: a loaded program, its load-time relations, and decisions.

use crate::eval::{Firing, Run, Work, risk_contributions};
use crate::program::{Effect, Phase, Program, RelationKind};
use crate::store::Relation;
use crate::value::{Strings, Value};
use crate::{EvalError, LoadError, RequestError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes engines, so a thread's cached sessions are reused only by their engine.
static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(0);

/// How many sessions a thread keeps for reuse (one per recently used engine).
const CACHED_SESSIONS: usize = 4;

thread_local! {
    /// Sessions kept per thread by [`Engine::decide`], keyed by engine id.
    static SESSIONS: RefCell<Vec<(u64, Session)>> = const { RefCell::new(Vec::new()) };
}

/// Bounds on one evaluation. Exceeding one is an error, never a partial decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Facts derived (per request, and at load).
    pub max_facts: usize,
    /// Instructions executed.
    pub max_steps: u64,
    /// Rounds of one recursive stratum.
    pub max_rounds: u32,
    /// Bytes of a request's JSON text ([`Engine::request_from_json`] refuses a longer one
    /// before reading it). A server should stop reading a request body at this size too.
    pub max_request_bytes: usize,
}

/// The default [`Limits::max_request_bytes`]: 4 MiB, far above any real request (a
/// request of a few facts is well under 1 KiB).
pub const MAX_REQUEST_BYTES: usize = 4 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_facts: 10_000_000,
            max_steps: 1_000_000_000,
            max_rounds: 100_000,
            max_request_bytes: MAX_REQUEST_BYTES,
        }
    }
}

/// The combined decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The action may run.
    Allow,
    /// The action must not run.
    Deny,
    /// A human must approve first.
    Escalate,
}

impl Outcome {
    /// `allow`, `deny` or `escalate`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Escalate => "escalate",
        }
    }
}

/// The result of deciding a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// deny > escalate > allow > the package default.
    pub outcome: Outcome,
    /// Every decision rule that fired, each distinct firing once, in rule order.
    pub fired: Vec<Firing>,
}

/// A decision with its derivation, from [`Engine::explained`].
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The decision.
    pub decision: Decision,
    /// The derivation of each fired decision rule, as [`Engine::explain`] returns it.
    pub explanation: serde_json::Value,
    /// Ids (into [`Program::rules`]) of the rules whose body held at least once and so
    /// derived a fact, new or already known; sorted. Decision rules are not included:
    /// [`Decision::fired`] tells which fired.
    pub rules_used: Vec<u32>,
}

/// A request's input facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub(crate) facts: Vec<(u32, Vec<Value>)>,
    /// Strings the request brought that the program does not know, numbered from the
    /// end of the program's string table.
    pub(crate) extra_strings: Vec<String>,
}

impl Request {
    /// The facts, as (relation id, values).
    pub fn facts(&self) -> &[(u32, Vec<Value>)] {
        &self.facts
    }
}

/// Reusable per-thread scratch space for decisions; keeps allocations out of the hot
/// path when deciding many requests.
#[derive(Debug)]
pub struct Session {
    relations: Vec<Relation>,
    work: Work,
}

/// A loaded policy. `Send + Sync`: share it (e.g. in an `Arc`) across threads; deciding
/// takes no lock.
#[derive(Debug)]
pub struct Engine {
    id: u64,
    program: Program,
    statics: Vec<Relation>,
    string_ids: HashMap<String, u32>,
    relation_ids: HashMap<String, u32>,
    hash: String,
    limits: Limits,
}

impl Engine {
    /// Loads and validates a bundle, unsigned or signed (the signature is not checked:
    /// use [`Engine::load_verified`] to require one).
    pub fn load(bytes: &[u8]) -> Result<Engine, LoadError> {
        let bundle = crate::bundle::read(bytes)?;
        Engine::from_program(bundle.program, bundle.hash, Limits::default())
            .map_err(|e| LoadError { offset: 0, message: format!("evaluating the bundle's data failed: {e}") })
    }

    /// Loads a bundle that must carry a valid ed25519 signature by `public_key`.
    pub fn load_verified(bytes: &[u8], public_key: &[u8; 32]) -> Result<Engine, LoadError> {
        let bundle = crate::bundle::read(bytes)?;
        crate::bundle::verify(&bundle, public_key)?;
        Engine::from_program(bundle.program, bundle.hash, Limits::default())
            .map_err(|e| LoadError { offset: 0, message: format!("evaluating the bundle's data failed: {e}") })
    }

    /// Builds an engine from a validated program (as [`crate::bundle::read`] returns),
    /// computing the relations that depend only on data.
    pub fn from_program(program: Program, hash: String, limits: Limits) -> Result<Engine, EvalError> {
        let mut statics = empty_store(&program);
        insert_data(&program, &mut statics)?;
        let mut work = Work::default();
        let run = Run {
            program: &program,
            phase: Phase::Static,
            statics: None,
            strings: Strings { table: &program.strings, extra: &[] },
            limits: &limits,
        };
        run.strata(&mut statics, &mut work)?;
        let string_ids =
            program.strings.iter().enumerate().filter_map(|(i, s)| Some((s.clone(), u32::try_from(i).ok()?))).collect();
        let relation_ids = program
            .relations
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((program.string(r.name).to_owned(), u32::try_from(i).ok()?)))
            .collect();
        let id = NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed);
        Ok(Engine { id, program, statics, string_ids, relation_ids, hash, limits })
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// `sha256:…` of the bundle.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The id of the relation called `name`.
    pub fn relation_id(&self, name: &str) -> Option<u32> {
        self.relation_ids.get(name).copied()
    }

    /// The symbol of a string the program knows.
    pub(crate) fn symbol(&self, text: &str) -> Option<u32> {
        self.string_ids.get(text).copied()
    }

    /// Scratch space for [`Engine::decide_in`].
    pub fn session(&self) -> Session {
        Session { relations: empty_store(&self.program), work: Work::default() }
    }

    /// Decides a request. Scratch memory is cached per thread, so after the first call on
    /// a thread deciding allocates little beyond the returned decision.
    pub fn decide(&self, request: &Request) -> Result<Decision, EvalError> {
        let cached = SESSIONS.with(|cell| {
            let mut sessions = cell.try_borrow_mut().ok()?;
            let position = sessions.iter().position(|(id, _)| *id == self.id)?;
            Some(sessions.swap_remove(position).1)
        });
        let mut session = cached.unwrap_or_else(|| self.session());
        let result = self.decide_in(&mut session, request);
        SESSIONS.with(|cell| {
            if let Ok(mut sessions) = cell.try_borrow_mut() {
                if sessions.len() >= CACHED_SESSIONS {
                    sessions.remove(0);
                }
                sessions.push((self.id, session));
            }
        });
        result
    }

    /// Decides a request reusing `session`'s memory.
    pub fn decide_in(&self, session: &mut Session, request: &Request) -> Result<Decision, EvalError> {
        for (relation, schema) in session.relations.iter_mut().zip(&self.program.relations) {
            if schema.phase == Phase::Request && !relation.is_empty() {
                relation.clear();
            }
        }
        session.work.reset();
        self.insert_input(request, &mut session.relations)?;
        let strings = Strings { table: &self.program.strings, extra: &request.extra_strings };
        let run = Run {
            program: &self.program,
            phase: Phase::Request,
            statics: Some(&self.statics),
            strings,
            limits: &self.limits,
        };
        run.strata(&mut session.relations, &mut session.work)?;
        Ok(self.conclude(std::mem::take(&mut session.work.fired)))
    }

    fn insert_input(&self, request: &Request, relations: &mut [Relation]) -> Result<(), EvalError> {
        crate::contract::one_fact_relations(&self.program, &request.facts).map_err(EvalError::Request)?;
        for (rel, values) in &request.facts {
            let is_input = self.program.relations.get(*rel as usize).is_some_and(|r| r.kind == RelationKind::Input);
            if !is_input {
                return Err(EvalError::Corrupt("request fact for a relation that is not an input"));
            }
            if let Some(relation) = relations.get_mut(*rel as usize) {
                relation.insert(values);
            }
        }
        Ok(())
    }

    /// Decides a request while recording why every fact was derived, and returns the
    /// decision with its explanation: for each fired decision rule, the facts it matched,
    /// each derived fact with the rule and facts that derived it, recursively. This
    /// re-evaluates the data-only relations too, so it is much slower than `decide`.
    pub fn explain(&self, request: &Request) -> Result<(Decision, serde_json::Value), EvalError> {
        self.explained(request).map(|e| (e.decision, e.explanation))
    }

    /// [`Engine::explain`], also telling which rules derived facts (for test coverage).
    pub fn explained(&self, request: &Request) -> Result<Explained, EvalError> {
        let mut relations = empty_store(&self.program);
        insert_data(&self.program, &mut relations)?;
        self.insert_input(request, &mut relations)?;
        let mut work = Work::tracing();
        let strings = Strings { table: &self.program.strings, extra: &request.extra_strings };
        for phase in [Phase::Static, Phase::Request] {
            let run = Run { program: &self.program, phase, statics: None, strings, limits: &self.limits };
            run.strata(&mut relations, &mut work)?;
        }
        let trace = work.trace.take().unwrap_or_default();
        let explanation = crate::json::explanation(&self.program, strings, &relations, &trace, &work.fired);
        let mut rules_used: Vec<u32> = trace.rules_used.into_iter().collect();
        rules_used.sort_unstable();
        Ok(Explained { decision: self.conclude(work.fired), explanation, rules_used })
    }

    /// Combines fired decision rules into a decision.
    fn conclude(&self, mut fired: Vec<Firing>) -> Decision {
        fired.sort_by_key(|f| f.decision);
        fired.dedup();
        let has = |effect: Effect| {
            fired.iter().any(|f| self.program.decisions.get(f.decision as usize).is_some_and(|d| d.effect == effect))
        };
        let outcome = if has(Effect::Deny) {
            Outcome::Deny
        } else if has(Effect::Escalate) {
            Outcome::Escalate
        } else if has(Effect::Allow) || self.program.default_allow {
            Outcome::Allow
        } else {
            Outcome::Deny
        };
        Decision { outcome, fired }
    }

    /// The risk score and each `risk` rule's contribution, by decision id.
    pub fn risk(&self, decision: &Decision) -> Result<(i64, Vec<(u32, i64)>), EvalError> {
        let contributions = risk_contributions(&self.program, &decision.fired)?;
        let score = contributions
            .iter()
            .try_fold(0i64, |sum, (_, p)| sum.checked_add(*p))
            .ok_or(EvalError::Arithmetic(gov_value::ArithError::Overflow))?;
        Ok((score, contributions))
    }

    /// The facts of a relation after deciding in `session` (for explanations and tests).
    pub fn facts<'s>(&'s self, session: &'s Session, rel: u32) -> Vec<&'s [Value]> {
        let schema = self.program.relations.get(rel as usize);
        let store = match schema.map(|s| s.phase) {
            Some(Phase::Static) => &self.statics,
            _ => &session.relations,
        };
        store
            .get(rel as usize)
            .map_or_else(Vec::new, |r| (0..u32::try_from(r.len()).unwrap_or(u32::MAX)).map(|i| r.row(i)).collect())
    }

    /// Reads a request from JSON: one key per input relation, an array of objects with
    /// one field per column. Duplicate keys, numbers a field's type cannot hold exactly,
    /// and texts longer than [`Limits::max_request_bytes`] are errors (docs/reference.md,
    /// "The request contract").
    pub fn request_from_json(&self, text: &str) -> Result<Request, RequestError> {
        crate::json::request(self, text)
    }

    /// The decision as the JSON document of the contract (DESIGN §5).
    pub fn decision_json(&self, request: &Request, decision: &Decision) -> serde_json::Value {
        crate::json::decision(self, request, decision)
    }
}

/// One empty relation per schema.
fn empty_store(program: &Program) -> Vec<Relation> {
    program.relations.iter().map(|r| Relation::new(r.columns.len(), &r.indexes)).collect()
}

/// Adds the program's data facts to `store`.
fn insert_data(program: &Program, store: &mut [Relation]) -> Result<(), EvalError> {
    for (rel, values) in &program.data {
        let relation = store.get_mut(*rel as usize).ok_or(EvalError::Corrupt("data for an unknown relation"))?;
        let arity = program.relations.get(*rel as usize).map_or(0, |r| r.columns.len());
        relation.reserve(values.len().checked_div(arity).unwrap_or(1));
        for row in crate::program::data_rows(arity, values) {
            relation.insert(row);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Decision, Engine, Limits, Request};
    use crate::program::Program;

    /// The engine API refuses a request text longer than its limit before parsing it.
    #[test]
    fn requests_longer_than_the_limit_are_refused() {
        let limits = Limits { max_request_bytes: 8, ..Limits::default() };
        let engine = Engine::from_program(Program::default(), String::new(), limits).unwrap();
        assert!(engine.request_from_json("{}      ").is_ok());
        let error = engine.request_from_json("{}       ").unwrap_err();
        assert_eq!(error.to_string(), "the request is 9 bytes, more than the limit of 8 bytes");
        assert_eq!(Limits::default().max_request_bytes, super::MAX_REQUEST_BYTES);
    }

    /// Engines are shared across threads (in an `Arc`) and decide without locks; this fails
    /// to compile if a field ever makes that impossible.
    #[test]
    fn engines_and_requests_cross_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Engine>();
        shareable::<Request>();
        shareable::<Decision>();
    }
}
