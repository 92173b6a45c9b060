//! The engine: a loaded program, its load-time relations, and decisions.

use crate::dispatch::Dispatch;
use crate::eval::{
    Builtins, Evaluated, Firing, FiringRef, Firings, Run, Symbols, Work, risk_contributions, risk_score,
};
use crate::exec::Code;
use crate::explain::Explanation;
use crate::guards::Guards;
use crate::kernel::Kernels;
use crate::limits::{Budget, row_bytes};
use crate::near_miss::{NearMiss, near_miss};
use crate::one::{OneSlots, Stored};
use crate::program::{Effect, Phase, Program};
use crate::report::{Report, ValueText};
use crate::store::{Bulk, Relation};
use crate::value::{StringIds, Strings, Value};
use crate::{EvalError, Limits, LoadError, LoadErrorKind, RequestError};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

mod more;
pub use more::{MoreData, MoreDataError};

/// Distinguishes engines, so a thread's cached sessions are reused only by their engine.
static NEXT_ENGINE_ID: AtomicU64 = AtomicU64::new(0);

/// How many sessions a thread keeps for reuse (one per recently used engine).
const CACHED_SESSIONS: usize = 4;

thread_local! {
    /// Sessions kept per thread by [`Engine::decide`], keyed by engine id.
    static SESSIONS: RefCell<Vec<(u64, Session)>> = const { RefCell::new(Vec::new()) };
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
    /// Every decision rule that fired, each distinct firing once, in rule order (the
    /// firings of one rule in the order they fired).
    pub fired: Vec<Firing>,
    /// The strings built-ins made while deciding (symbols after the request's own): the
    /// text of a firing's value that neither the program nor the request holds.
    pub strings: Vec<String>,
}

/// A decision borrowed from the [`Session`] that made it ([`Engine::decide_in`]): deciding
/// into a session's buffers allocates nothing once they have grown. [`DecisionRef::to_decision`]
/// copies it out.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRef<'s> {
    /// deny > escalate > allow > the package default.
    pub outcome: Outcome,
    fired: Firings<'s>,
    strings: &'s [String],
}

impl<'s> DecisionRef<'s> {
    /// Every decision rule that fired, each distinct firing once, in rule order (the
    /// firings of one rule in the order they fired).
    pub fn fired(&self) -> impl ExactSizeIterator<Item = FiringRef<'s>> + Clone + 's {
        self.fired.iter()
    }

    /// An owned copy.
    pub fn to_decision(&self) -> Decision {
        Decision {
            outcome: self.outcome,
            fired: self.fired().map(FiringRef::to_firing).collect(),
            strings: self.strings.to_vec(),
        }
    }
}

/// A decision with its derivation, from [`Engine::explained`].
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The decision.
    pub decision: Decision,
    /// The derivation of each fired decision rule, as [`Engine::explain`] returns it.
    pub explanation: Explanation,
    /// Ids (into [`Program::rules`]) of the rules whose body held at least once and so
    /// derived a fact, new or already known; sorted. Decision rules are not included:
    /// [`Decision::fired`] tells which fired.
    pub rules_used: Vec<u32>,
}

/// A request's input facts, bound to the engine that read it.
///
/// Its strings are symbols of that engine's string table (then of [`Request`]'s own
/// strings, numbered from that table's end), which mean other strings in another engine.
/// So only the engine that read it ([`Engine::request_from_json`]) decides, explains or
/// reports it; any other refuses it with [`EvalError::Request`]. `Request::default()` (no
/// facts, no strings) was read by no engine and carries no symbols: every engine accepts
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    pub(crate) facts: Vec<(u32, Vec<Value>)>,
    /// Strings the request brought that the program does not know, numbered from the
    /// end of the program's string table.
    pub(crate) extra_strings: Vec<String>,
    /// The symbol of each of `extra_strings`, by text.
    pub(crate) extra_ids: StringIds,
    /// The id of the engine that read it; `None` for a request read by no engine.
    // Invariant: `None` only for a request built in this crate (its facts then use no
    // engine's symbols); everything `json::request` makes is `Some`, with every fact in its
    // relation's shape (`contract::fact_shape`), so the engine that read it need not check
    // that again (`Engine::insert_input`).
    pub(crate) reader: Option<u64>,
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
    /// Its buffers, with the rows of the relations held as their one row (their
    /// `relations` then stay empty).
    work: Work,
    /// Whether decisions run the rules a decision cannot need ([`Engine::full_session`]).
    every_rule: bool,
}

/// A loaded policy. `Send + Sync`: share it (e.g. in an `Arc`) across threads; deciding
/// takes no lock.
#[derive(Debug)]
pub struct Engine {
    id: u64,
    program: Program,
    /// What each rule of the program cannot run without.
    guards: Guards,
    /// Each phase's steps and indexed rules, derived from `program`.
    dispatch: Dispatch,
    /// The rules that run as kernels.
    kernels: Kernels,
    /// Where a session holds each input relation's row, and each held derived one's.
    ones: OneSlots,
    /// The request-phase relations a session stores in its `relations` (not the `input
    /// one` ones, always held as their row): what a new request clears.
    request_relations: Vec<u32>,
    statics: Vec<Relation>,
    string_ids: StringIds,
    /// The rules in their executable form, with what their calls of built-ins made of
    /// their constant arguments.
    code: Code,
    relation_ids: HashMap<String, u32>,
    hash: String,
    /// Bounds each request.
    limits: Limits,
    /// Bounds the evaluation of the data-only relations (at load, and again by
    /// [`Engine::explain`]).
    load_limits: Limits,
}

impl Engine {
    /// Loads and validates a bundle, unsigned or signed (the signature is not checked:
    /// use [`Engine::load_verified`] to require one).
    pub fn load(bytes: &[u8]) -> Result<Engine, LoadError> {
        let bundle = crate::bundle::read(bytes)?;
        Engine::from_bundle(bundle)
    }

    /// Loads a bundle that must carry a valid ed25519 signature by `public_key`.
    pub fn load_verified(bytes: &[u8], public_key: &[u8; 32]) -> Result<Engine, LoadError> {
        let bundle = crate::bundle::read(bytes)?;
        crate::bundle::verify(&bundle, public_key)?;
        Engine::from_bundle(bundle)
    }

    /// An engine for a bundle [`crate::bundle::read`] validated.
    fn from_bundle(bundle: crate::bundle::Bundle) -> Result<Engine, LoadError> {
        Engine::from_valid(bundle.program, bundle.hash, Limits::LOAD).map_err(load_error)
    }

    /// Builds an engine from a program (as the compiler or [`crate::bundle::read`] returns
    /// it), computing the relations that depend only on data within `load_limits` (usually
    /// [`Limits::LOAD`]). Requests are bounded by [`Limits::default`] until
    /// [`Engine::with_limits`] says otherwise. The program is validated as a bundle's is
    /// ([`crate::bundle::validate`]): one that breaks its rules is [`EvalError::Invalid`].
    pub fn from_program(program: Program, hash: String, load_limits: Limits) -> Result<Engine, EvalError> {
        crate::bundle::validate(&program).map_err(EvalError::Invalid)?;
        Engine::from_valid(program, hash, load_limits)
    }

    /// [`Engine::from_program`] for a program already validated.
    // Invariant: `program` passed `bundle::validate`; the evaluator relies on it.
    fn from_valid(program: Program, hash: String, load_limits: Limits) -> Result<Engine, EvalError> {
        Engine::with_kernels(program, hash, load_limits, Kernels::of)
    }

    /// [`Engine::from_program`] with every rule run through the interpreter: what the join
    /// kernels are tested against.
    #[cfg(test)]
    pub(crate) fn interpreted(program: Program, load_limits: Limits) -> Result<Engine, EvalError> {
        crate::bundle::validate(&program).map_err(EvalError::Invalid)?;
        Engine::with_kernels(program, String::new(), load_limits, |_, _, _| Kernels::default())
    }

    /// [`Engine::from_valid`] with the rules `kernels` picks from the executable form
    /// running as kernels.
    fn with_kernels(
        mut program: Program,
        hash: String,
        load_limits: Limits,
        kernels: fn(&Program, &Code, &OneSlots) -> Kernels,
    ) -> Result<Engine, EvalError> {
        let guards = Guards::of(&program);
        let dispatch = Dispatch::of(&program, &guards);
        let code = Code::of(&program);
        let ones = OneSlots::of(&program);
        let kernels = kernels(&program, &code, &ones);
        let mut string_ids: StringIds =
            program.strings.iter().enumerate().filter_map(|(i, s)| Some((s.clone(), u32::try_from(i).ok()?))).collect();
        let no_more = StringIds::default();
        let load = Load {
            program: &program,
            guards: &guards,
            dispatch: &dispatch,
            kernels: &kernels,
            code: &code,
            string_ids: &string_ids,
            limits: &load_limits,
        };
        let (statics, made) = load.statics(&[], &[], &no_more)?;
        // Strings built-ins made at load (held by static relations) join the engine's
        // table with the symbols they were given, right after it, before any request
        // numbers its own strings from the table's end.
        for text in made {
            let sym = u32::try_from(program.strings.len()).map_err(|_| EvalError::Corrupt("too many strings"))?;
            string_ids.insert(text.clone(), sym);
            program.strings.push(text);
        }
        let relation_ids = program
            .relations
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((program.string(r.name).to_owned(), u32::try_from(i).ok()?)))
            .collect();
        let id = NEXT_ENGINE_ID.fetch_add(1, Ordering::Relaxed);
        let request_relations = (0..u32::try_from(program.relations.len()).unwrap_or(u32::MAX))
            .filter(|&rel| ones.slot(rel).is_none_or(|slot| !ones.is_one(slot)))
            .filter(|&rel| program.relations.get(rel as usize).is_some_and(|r| r.phase == Phase::Request))
            .collect();
        Ok(Engine {
            id,
            program,
            guards,
            dispatch,
            kernels,
            ones,
            request_relations,
            statics,
            string_ids,
            code,
            relation_ids,
            hash,
            limits: Limits::default(),
            load_limits,
        })
    }

    /// Replaces the limits of each request.
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
        Session { relations: empty_store(&self.program), work: Work::holding(self.ones.rows()), every_rule: false }
    }

    /// A session whose decisions run every rule the request's facts can start, even one
    /// whose facts no rule that runs can read (a session from [`Engine::session`] skips
    /// those): for a tool or test that reads every relation's facts after deciding
    /// ([`Engine::facts`]). Its decisions are the same.
    pub fn full_session(&self) -> Session {
        Session { every_rule: true, ..self.session() }
    }

    /// Decides a request. Scratch memory is cached per thread, so after the first call on
    /// a thread deciding allocates only the returned decision.
    pub fn decide(&self, request: &Request) -> Result<Decision, EvalError> {
        self.in_cached_session(|session| self.decide_in(session, request).map(|d| d.to_decision()))
    }

    /// Runs `f` in a session of this engine kept for this thread (a new one the first time),
    /// and keeps the session again for the next call.
    fn in_cached_session<R>(&self, f: impl FnOnce(&mut Session) -> R) -> R {
        let cached = SESSIONS.with(|cell| {
            let mut sessions = cell.try_borrow_mut().ok()?;
            let position = sessions.iter().position(|(id, _)| *id == self.id)?;
            Some(sessions.swap_remove(position).1)
        });
        let mut session = cached.unwrap_or_else(|| self.session());
        let result = f(&mut session);
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

    /// Decides a request in `session`'s memory; the decision borrows the session. Once the
    /// session has decided a request like this one, this allocates nothing.
    pub fn decide_in<'s>(&self, session: &'s mut Session, request: &Request) -> Result<DecisionRef<'s>, EvalError> {
        self.check_reader(request)?;
        self.decide_over(&self.statics, session, request)
    }

    /// Decides a request whose reader was checked, with `statics` as the relations computed
    /// at load: this engine's, or those of its data with more facts ([`MoreData`]).
    // Invariant: `statics` were evaluated from this engine's program (one relation per
    // schema), and `request`'s strings number the same table as theirs.
    fn decide_over<'s>(
        &self,
        statics: &[Relation],
        session: &'s mut Session,
        request: &Request,
    ) -> Result<DecisionRef<'s>, EvalError> {
        for &rel in &self.request_relations {
            if let Some(relation) = session.relations.get_mut(rel as usize)
                && !relation.is_empty()
            {
                relation.clear();
            }
        }
        session.work.reset();
        self.insert_input(request, &mut session.relations, true, &mut session.work)?;
        let strings = self.request_strings(request);
        let plan = match session.every_rule {
            true => self.dispatch.plan(Phase::Request),
            false => self.dispatch.deciding(),
        };
        let run = Run {
            program: &self.program,
            statics: Some(statics),
            ones: Some(&self.ones),
            strings,
            limits: &self.limits,
            guards: &self.guards,
            plan,
            kernels: &self.kernels,
            builtins: self.builtins(request),
        };
        run.strata(&mut session.relations, &mut session.work)?;
        let (fired, made) = session.work.conclude();
        Ok(self.conclude(fired, made))
    }

    /// Checks the request's contract and the shape of each fact (a request read by another
    /// engine may not fit this one) and stores its facts; their bytes count against the
    /// request's limits. With `hold`, each input relation's first fact goes to its row in
    /// `work` ([`crate::one`]; the contract is checked in the same pass over the facts);
    /// without, into `relations`.
    fn insert_input(
        &self,
        request: &Request,
        relations: &mut [Relation],
        hold: bool,
        work: &mut Work,
    ) -> Result<(), EvalError> {
        if !hold {
            crate::contract::one_fact_relations(&self.program, &request.facts).map_err(EvalError::Request)?;
        }
        let strings = self.program.strings.len() + request.extra_strings.len();
        // Invariant (`Request::reader`): a request this engine read holds every fact in its
        // relation's shape (the readers build each value from its column's type and give
        // each string this engine's symbol or one of the request's own), so only a request
        // built otherwise has its facts' shapes checked here.
        let shaped = request.reader == Some(self.id);
        let mut held = 0;
        let out_of_range = || EvalError::Corrupt("relation id out of range");
        for (rel, values) in &request.facts {
            if !shaped {
                crate::contract::fact_shape(&self.program, strings, *rel, values)
                    .map_err(|shape| self.contract_error(request, shape))?;
            }
            let new = match self.ones.slot(*rel).filter(|_| hold) {
                Some(slot) => match work.ones.store(&self.ones, (*rel, slot), values) {
                    Stored::First => {
                        held += usize::from(self.ones.is_one(slot));
                        true
                    }
                    _ if self.ones.is_one(slot) => return Err(self.contract_error(request, broken_contract())),
                    // A second fact: the first one moves from its slot into the store.
                    Stored::Second(first) => {
                        let relation = relations.get_mut(*rel as usize).ok_or_else(out_of_range)?;
                        relation.insert(first)?;
                        relation.insert(values)?
                    }
                    Stored::More => relations.get_mut(*rel as usize).ok_or_else(out_of_range)?.insert(values)?,
                },
                None => match relations.get_mut(*rel as usize) {
                    Some(relation) => relation.insert(values)?,
                    None => false,
                },
            };
            if new {
                work.budget.charge_bytes(&self.limits, row_bytes(values.len())).map_err(|limit| {
                    match crate::contract::one_fact_relations(&self.program, &request.facts) {
                        Err(contract) => EvalError::Request(contract),
                        Ok(()) => limit,
                    }
                })?;
            }
        }
        if hold && held != self.ones.ones() {
            return Err(self.contract_error(request, broken_contract()));
        }
        Ok(())
    }

    /// The error of a request that broke its contract or holds a fact of the wrong shape
    /// (`otherwise`): the contract's error if it is broken, as the check of the whole
    /// request names it (so that a request's first error does not depend on the order
    /// of its facts), else `otherwise`. Only on the way out of a failed request.
    #[cold]
    fn contract_error(&self, request: &Request, otherwise: RequestError) -> EvalError {
        EvalError::Request(
            crate::contract::one_fact_relations(&self.program, &request.facts).err().unwrap_or(otherwise),
        )
    }

    /// Decides a request while recording why every fact was derived, and returns the
    /// decision with its explanation: for each fired decision rule, the facts it matched,
    /// each derived fact with the rule and facts that derived it, recursively. This
    /// re-evaluates the data-only relations too, so it is much slower than `decide`.
    /// [`crate::json::explanation`] renders it as `govc eval --explain` prints it.
    pub fn explain(&self, request: &Request) -> Result<(Decision, Explanation), EvalError> {
        self.explained(request).map(|e| (e.decision, e.explanation))
    }

    /// [`Engine::explain`], also telling which rules derived facts (for test coverage).
    pub fn explained(&self, request: &Request) -> Result<Explained, EvalError> {
        let mut work = Work::tracing();
        let relations = self.evaluate_all(request, &mut work)?;
        let trace = work.trace.take().unwrap_or_default();
        let mut explanation = crate::explain::explanation(&self.program, &relations, &trace, work.firings());
        explanation.strings = work.made.clone();
        let mut rules_used: Vec<u32> = trace.rules_used.into_iter().collect();
        rules_used.sort_unstable();
        let (fired, made) = work.conclude();
        Ok(Explained { decision: self.conclude(fired, made).to_decision(), explanation, rules_used })
    }

    /// Of the decision rules `decisions` that do not fire on `request`, the one whose body
    /// got furthest (the most conditions held; the first listed on a tie), with the first
    /// condition that failed: what a failing test names as the rule that almost fired.
    /// `None` when every one of them fires. Re-evaluates the request, as
    /// [`Engine::explained`] does.
    pub fn closest(&self, request: &Request, decisions: &[u32]) -> Result<Option<NearMiss>, EvalError> {
        let relations = self.evaluate_all(request, &mut Work::default())?;
        let builtins = self.builtins(request);
        let evaluated = Evaluated {
            program: &self.program,
            relations: &relations,
            strings: self.request_strings(request),
            limits: &self.limits,
            builtins: &builtins,
        };
        let mut best: Option<NearMiss> = None;
        for &decision in decisions {
            let Some(miss) = near_miss(&evaluated, decision)? else {
                continue;
            };
            if best.as_ref().is_none_or(|b| miss.held > b.held) {
                best = Some(miss);
            }
        }
        Ok(best)
    }

    /// What the built-ins of a run on `request` read: the symbols of the engine's strings
    /// and the request's, and the rules' executable form.
    fn builtins<'a>(&'a self, request: &'a Request) -> Builtins<'a> {
        Builtins { symbols: Symbols { table: &self.string_ids, extra: &request.extra_ids }, code: &self.code }
    }

    /// Evaluates `request` from scratch into a store of every relation (the data-only ones
    /// within the load's limits, then the request's within its own), recording provenance
    /// when `work` traces; the firings are left in `work`.
    fn evaluate_all(&self, request: &Request, work: &mut Work) -> Result<Vec<Relation>, EvalError> {
        let strings = self.strings(request)?;
        let mut relations = empty_store(&self.program);
        insert_data(&self.program, &mut relations)?;
        // No static rule reads an input relation, so the input can wait.
        let (program, guards, dispatch) = (&self.program, &self.guards, &self.dispatch);
        let builtins = self.builtins(request);
        let run = Run {
            program,
            statics: None,
            ones: None,
            strings,
            limits: &self.load_limits,
            guards,
            plan: dispatch.plan(Phase::Static),
            kernels: &self.kernels,
            builtins,
        };
        run.strata(&mut relations, work)?;
        work.budget = Budget::default();
        self.insert_input(request, &mut relations, false, work)?;
        let run = Run {
            program,
            statics: None,
            ones: None,
            strings,
            limits: &self.limits,
            guards,
            plan: dispatch.plan(Phase::Request),
            kernels: &self.kernels,
            builtins,
        };
        run.strata(&mut relations, work)?;
        Ok(relations)
    }

    /// Combines the distinct firings of an evaluation, ordered by rule ([`Work::conclude`]),
    /// into a decision.
    fn conclude<'s>(&self, fired: Firings<'s>, strings: &'s [String]) -> DecisionRef<'s> {
        // One pass over the firings: a deny ends it; an escalate or allow is remembered.
        let (mut escalate, mut allow) = (false, false);
        for f in fired.iter() {
            match self.program.decisions.get(f.decision as usize).map(|d| d.effect) {
                Some(Effect::Deny) => return DecisionRef { outcome: Outcome::Deny, fired, strings },
                Some(Effect::Escalate) => escalate = true,
                Some(Effect::Allow) => allow = true,
                _ => {}
            }
        }
        let outcome = if escalate {
            Outcome::Escalate
        } else if allow || self.program.default_allow {
            Outcome::Allow
        } else {
            Outcome::Deny
        };
        DecisionRef { outcome, fired, strings }
    }

    /// The risk score and each `risk` rule's contribution, by decision id.
    pub fn risk(&self, decision: &Decision) -> Result<(i64, Vec<(u32, i64)>), EvalError> {
        let mut contributions = Vec::new();
        risk_contributions(&self.program, decision.fired.iter().map(Firing::as_ref), &mut contributions)?;
        let score = risk_score(&contributions)?;
        Ok((score, contributions.iter().map(|c| (c.decision, c.points)).collect()))
    }

    /// The facts of a relation after deciding in `session` (for explanations and tests). A
    /// derived relation that no rule run for the request could read is left empty, unless
    /// the session is an [`Engine::full_session`].
    pub fn facts(&self, session: &Session, rel: u32) -> Vec<Vec<Value>> {
        if let Some(row) = session.work.ones.row(&self.ones, rel) {
            return vec![row.to_vec()];
        }
        if let Some((held, score)) = session.work.risk
            && held == rel
        {
            return vec![vec![Value::Int(score)]];
        }
        let schema = self.program.relations.get(rel as usize);
        let store = match schema.map(|s| s.phase) {
            Some(Phase::Static) => &self.statics,
            _ => &session.relations,
        };
        store
            .get(rel as usize)
            .map_or_else(Vec::new, |r| (0..u32::try_from(r.len()).unwrap_or(u32::MAX)).map(|i| r.values(i)).collect())
    }

    /// Reads a request from JSON: one key per input relation, an array of objects with
    /// one field per column. Duplicate keys, numbers a field's type cannot hold exactly,
    /// and texts longer than [`Limits::max_request_bytes`] are errors (docs/reference.md,
    /// "The request contract").
    pub fn request_from_json(&self, text: &str) -> Result<Request, RequestError> {
        crate::json::request(self, text)
    }

    /// The report of a decision of `request`: its reasons, approvers, obligations and risk.
    /// A risk score that overflows is an error: the decision fails closed.
    pub fn report(&self, request: &Request, decision: &Decision) -> Result<Report, EvalError> {
        crate::report::report(&self.program, self.decision_strings(request, &decision.strings)?, decision)
    }

    /// The decision as the JSON document of the contract (DESIGN §5): [`Engine::report`]
    /// rendered by [`crate::json::decision`].
    pub fn decision_json(&self, request: &Request, decision: &Decision) -> Result<serde_json::Value, EvalError> {
        crate::json::decision(self, &self.report(request, decision)?)
    }

    /// The decision document of [`Engine::decision_json`] as compact JSON text, written
    /// straight from the report ([`crate::json::decision_text`]): what a server answers
    /// and logs without building a JSON tree.
    pub fn decision_text(
        &self,
        request: &Request,
        decision: &Decision,
    ) -> Result<crate::json::DecisionText, EvalError> {
        Ok(crate::json::decision_text(self, &self.report(request, decision)?))
    }

    /// The strings of `request` decided by this engine: the program's, then the request's
    /// own (to show the values of its facts and firings). A request read by another engine
    /// is [`EvalError::Request`].
    pub fn strings<'a>(&'a self, request: &'a Request) -> Result<Strings<'a>, EvalError> {
        self.check_reader(request)?;
        Ok(self.request_strings(request))
    }

    /// The strings of a decision of `request`: [`Engine::strings`], then the strings
    /// built-ins made while deciding it (`made`: [`Decision::strings`] or
    /// [`Explanation::strings`]), to show the values of its firings and derived facts.
    pub fn decision_strings<'a>(&'a self, request: &'a Request, made: &'a [String]) -> Result<Strings<'a>, EvalError> {
        Ok(self.strings(request)?.with_made(made))
    }

    /// [`Engine::strings`] for a request [`Engine::check_reader`] accepted.
    fn request_strings<'a>(&'a self, request: &'a Request) -> Strings<'a> {
        Strings { table: &self.program.strings, extra: &request.extra_strings, made: &[] }
    }

    /// Refuses a request read by another engine: its string symbols number another
    /// table. One integer compare.
    fn check_reader(&self, request: &Request) -> Result<(), EvalError> {
        match request.reader {
            Some(reader) if reader != self.id => Err(EvalError::Request(RequestError {
                path: String::new(),
                message: "the request was read by another engine, whose strings are numbered differently; \
                          read it with this engine's `request_from_json`"
                    .to_owned(),
            })),
            _ => Ok(()),
        }
    }

    /// The id [`Request`]s read by this engine carry.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The values of a firing of a decision of `request` (risk points first for a `risk`
    /// rule, then the message's values), with each string as its text: what an embedder
    /// needs to act on a firing without the engine's string symbols. A symbol neither the
    /// program nor the request has is [`EvalError::Corrupt`].
    pub fn firing_values<'a>(
        &'a self,
        request: &'a Request,
        decision: &'a Decision,
        firing: &Firing,
    ) -> Result<Vec<ValueText<'a>>, EvalError> {
        crate::report::values(self.decision_strings(request, &decision.strings)?, firing)
    }
}

/// The load error of a bundle whose data breaks the program's rules (a fact stated twice)
/// or fails to evaluate.
fn load_error(error: EvalError) -> LoadError {
    if let EvalError::Invalid(message) = error {
        return LoadError::new(
            LoadErrorKind::Invalid,
            crate::bundle::HEADER_LEN,
            format!("invalid program: {message}"),
        );
    }
    let message = format!("evaluating the bundle's data failed: {error}");
    LoadError::new(LoadErrorKind::Evaluation(error), 0, message)
}

/// What evaluating a program's data-only relations reads: the program and what an engine
/// derived of it.
struct Load<'a> {
    program: &'a Program,
    guards: &'a Guards,
    dispatch: &'a Dispatch,
    kernels: &'a Kernels,
    code: &'a Code,
    /// The symbols of the program's strings.
    string_ids: &'a StringIds,
    limits: &'a Limits,
}

impl Load<'_> {
    /// The program's data-only relations, evaluated over its data and the facts `more`
    /// (each one row; [`crate::bundle::validate_data`] checked them), whose strings beyond
    /// the program's table are `strings` (numbered from its end; `ids` their symbols), and
    /// the strings built-ins made while evaluating (numbered after `strings`). A fact of
    /// `more` the program's data already states is stated once.
    fn statics(
        &self,
        more: &[(u32, Vec<Value>)],
        strings: &[String],
        ids: &StringIds,
    ) -> Result<(Vec<Relation>, Vec<String>), EvalError> {
        let program = self.program;
        // Only the static relations are read from this store (`Ctx::relation`), and no
        // static rule writes a request relation: each of those is a relation of no columns,
        // which allocates nothing (making and dropping every relation of a large program
        // was most of the cost of more data).
        let mut statics: Vec<Relation> = program
            .relations
            .iter()
            .map(|r| match r.phase {
                Phase::Static => Relation::new(r.columns.iter().map(|c| c.ty), &r.indexes),
                Phase::Request => Relation::new([], &[]),
            })
            .collect();
        insert_data(program, &mut statics)?;
        for (rel, values) in more {
            let relation = statics.get_mut(*rel as usize).ok_or(EvalError::Corrupt("data for an unknown relation"))?;
            relation.insert(values)?;
        }
        let mut work = Work::default();
        let run = Run {
            program,
            statics: None,
            ones: None,
            strings: Strings { table: &program.strings, extra: strings, made: &[] },
            limits: self.limits,
            guards: self.guards,
            plan: self.dispatch.plan(Phase::Static),
            kernels: self.kernels,
            builtins: Builtins { symbols: Symbols { table: self.string_ids, extra: ids }, code: self.code },
        };
        run.strata(&mut statics, &mut work)?;
        Ok((statics, std::mem::take(&mut work.made)))
    }
}

/// One empty relation per schema.
fn empty_store(program: &Program) -> Vec<Relation> {
    program.relations.iter().map(|r| Relation::new(r.columns.iter().map(|c| c.ty), &r.indexes)).collect()
}

/// The error of a request the one-pass check found breaking the contract but the whole
/// check did not (which cannot be: the two count the same facts).
fn broken_contract() -> RequestError {
    RequestError { path: String::new(), message: "the `input one` relations' facts do not add up".to_owned() }
}

/// Adds the program's data facts to `store`, each group in bulk ([`Relation::extend_new`]).
/// A fact stated twice is [`EvalError::Invalid`]: the compiler states each once
/// ([`crate::program::data_groups`]), so only a forged program repeats one, and a repeat
/// would count twice in an aggregate.
fn insert_data(program: &Program, store: &mut [Relation]) -> Result<(), EvalError> {
    for (rel, values) in &program.data {
        let relation = store.get_mut(*rel as usize).ok_or(EvalError::Corrupt("data for an unknown relation"))?;
        relation.extend_new(values).map_err(|bulk| match bulk {
            Bulk::Repeated { first, again } => {
                let name = program.relations.get(*rel as usize).map_or("", |r| program.string(r.name));
                EvalError::Invalid(format!(
                    "data for relation `{name}` states a fact twice (facts {first} and {again})"
                ))
            }
            Bulk::Eval(error) => error,
        })?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::{Decision, Engine, Request};
    use crate::program::*;
    use crate::test_instr;
    use crate::{EvalError, Firing, Limits, Value};
    use gov_value::BaseType;
    use serde_json::json;

    /// The engine API refuses a request text longer than its limit before parsing it.
    #[test]
    fn requests_longer_than_the_limit_are_refused() {
        let limits = Limits { max_request_bytes: 8, ..Limits::default() };
        let engine = Engine::from_program(Program::default(), String::new(), Limits::LOAD).unwrap().with_limits(limits);
        assert!(engine.request_from_json("{}      ").is_ok());
        let error = engine.request_from_json("{}       ").unwrap_err();
        assert_eq!(error.to_string(), "the request is 9 bytes, more than the limit of 8 bytes");
        assert_eq!(Limits::default().max_request_bytes, crate::MAX_REQUEST_BYTES);
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

    const T: u32 = 0;
    const P: u32 = 1;
    const DATA: u32 = 2;
    const Q: u32 = 3;
    const REG: [Operand; 3] = [Operand::Reg(0), Operand::Reg(1), Operand::Reg(2)];

    /// `input t(x: Int, y: Int)`, `p(a, b, c)` derived per request, `data d(x: Int)`
    /// holding `data`, `q(a, b)` derived at load, and one rule per entry of `rules` (each
    /// run in order, in its own stratum of its phase), with decision rules `d "{x}"` (deny)
    /// and `e` (allow), and the constant 0; the load is bounded by `load`.
    fn program_with(rules: Vec<(Phase, Vec<Instr>)>, data: Vec<Value>, load: Limits) -> Result<Engine, EvalError> {
        Engine::from_program(test_program(rules, data), String::new(), load)
    }

    /// The program of [`program_with`].
    fn test_program(rules: Vec<(Phase, Vec<Instr>)>, data: Vec<Value>) -> Program {
        let strings = ["t", "x", "y", "Int", "p", "d", "e", "test.gov", "q"].map(str::to_owned).to_vec();
        let column = |name| ColumnSchema { name, ty: BaseType::Int, type_name: 3, contents: None };
        let relation =
            |name, kind, phase, columns| RelationSchema { name, kind, phase, columns, indexes: Vec::new(), one: false };
        let relations = vec![
            relation(0, RelationKind::Input, Phase::Request, vec![column(Some(1)), column(Some(2))]),
            relation(4, RelationKind::Derived, Phase::Request, vec![column(None), column(None), column(None)]),
            relation(5, RelationKind::Data, Phase::Static, vec![column(Some(1))]),
            relation(8, RelationKind::Derived, Phase::Static, vec![column(None), column(None)]),
        ];
        let source = SourceRef { file: 7, line: 1, column: 1 };
        let decision = |name, effect, message| DecisionMeta {
            name,
            effect,
            approver: None,
            message,
            overrides: Vec::new(),
            source,
        };
        let decisions =
            vec![decision(5, Effect::Deny, vec![MessagePart::Value(0)]), decision(6, Effect::Allow, Vec::new())];
        let strata = rules
            .iter()
            .enumerate()
            .map(|(i, (phase, _))| Stratum::Rules { phase: *phase, rules: vec![i as u32], delta_rules: Vec::new() })
            .collect();
        let rules = rules.into_iter().map(|(_, code)| RuleCode { registers: 3, code, source }).collect();
        let data = vec![(DATA, data)];
        let constants = vec![Value::Int(0), Value::Int(1)];
        Program { strings, constants, relations, decisions, rules, strata, data, ..Program::default() }
    }

    /// [`program_with`] of request rules only, no data, and the load's default limits.
    fn program(rules: Vec<Vec<Instr>>) -> Engine {
        program_with(rules.into_iter().map(|code| (Phase::Request, code)).collect(), Vec::new(), Limits::LOAD).unwrap()
    }

    fn scan(binds: &[(u8, u16)]) -> Instr {
        test_instr::scan(T, binds)
    }

    /// `t(a, _), t(b, _), t(c, _)`: a three-way cross product of `t`.
    fn cross_product() -> Vec<Instr> {
        vec![scan(&[(0, 0)]), scan(&[(0, 1)]), scan(&[(0, 2)])]
    }

    fn rows(engine: &Engine, rows: impl Iterator<Item = (i64, i64)>) -> Request {
        let rows: Vec<_> = rows.map(|(x, y)| json!({"x": x, "y": y})).collect();
        engine.request_from_json(&json!({ "t": rows }).to_string()).unwrap()
    }

    /// `p(a, b, c) :- t(a), t(b), t(c).` over 1 000 rows would hold a billion rows; the
    /// rows are counted as the rule produces them, so the request stops at the fact limit
    /// instead of exhausting memory.
    #[test]
    fn a_cross_product_stops_at_the_fact_limit_as_rows_are_produced() {
        let mut code = cross_product();
        code.push(Instr::Emit { rel: P, values: REG.to_vec() });
        let engine = program(vec![code]);
        let request = rows(&engine, (0..1_000).map(|i| (i, 0)));
        // Nothing reads `p`, so only a full session runs the rule.
        let decide = |engine: &Engine| engine.decide_in(&mut engine.full_session(), &request).map(|d| d.to_decision());
        assert!(engine.decide(&request).is_ok());
        let error = decide(&engine).unwrap_err();
        let max_facts = Limits::default().max_facts as u64;
        assert!(
            [
                EvalError::Limit { what: "facts", limit: max_facts },
                EvalError::Limit { what: "bytes of facts", limit: Limits::default().max_fact_bytes as u64 },
            ]
            .contains(&error),
            "{error}"
        );
        let small = Limits { max_facts: 500, ..Limits::default() };
        let engine = engine.with_limits(small);
        assert_eq!(decide(&engine), Err(EvalError::Limit { what: "facts", limit: 500 }));
        assert!(engine.explain(&request).is_err());
    }

    /// Firings count against the fact limit too: a decision rule over a cross product.
    #[test]
    fn firings_count_against_the_fact_limit() {
        let mut code = cross_product();
        code.push(Instr::Fire { decision: 0, values: REG.to_vec() });
        let engine = program(vec![code]).with_limits(Limits { max_facts: 500, ..Limits::default() });
        let request = rows(&engine, (0..100).map(|i| (i, 0)));
        assert_eq!(engine.decide(&request), Err(EvalError::Limit { what: "facts", limit: 500 }));
    }

    /// Rows that repeat facts already stored give their count back once their rule is done:
    /// the rules of a request may produce more rows in all than the limit, as long as each
    /// rule's rows and the facts stored stay within it.
    #[test]
    fn duplicate_rows_do_not_use_up_the_fact_limit() {
        let emit = |values: Vec<Operand>| Instr::Emit { rel: P, values };
        let zero = Operand::Const(0);
        // Each rule emits t's 100 `x`s as p(x, 0, 0): 100 new facts, then 9 × 100 repeats.
        let rules = (0..10).map(|_| vec![scan(&[(0, 0)]), emit(vec![REG[0], zero, zero])]).collect();
        let engine = program(rules).with_limits(Limits { max_facts: 250, ..Limits::default() });
        let request = rows(&engine, (0..100).map(|i| (i, 0)));
        let mut session = engine.full_session();
        engine.decide_in(&mut session, &request).unwrap();
        assert_eq!(engine.facts(&session, P).len(), 100);
    }

    /// `deny d "{x}" :- t(x, y).` over rows whose `x`s repeat apart (`1, 2, 1, 2`, and
    /// `1 … 20, 1 … 20`, past the count from which repeats are looked up by hash): each
    /// distinct firing is kept once (not only adjacent repeats), in rule order, and the
    /// decision JSON and the explanation have one entry per distinct firing.
    #[test]
    fn repeated_firings_are_kept_once_wherever_they_fall() {
        let fire = |decision, values| Instr::Fire { decision, values };
        let engine = program(vec![
            vec![scan(&[(0, 0), (1, 1)]), fire(0, vec![REG[0]])],
            vec![scan(&[(0, 0)]), fire(1, Vec::new())],
        ]);
        let firing =
            |decision, values: &[i64]| Firing { decision, values: values.iter().map(|&v| Value::Int(v)).collect() };
        for xs in [2, 20] {
            let request = rows(&engine, (1..=2).flat_map(|y| (1..=xs).map(move |x| (x, y))));
            let decision = engine.decide(&request).unwrap();
            let mut expected: Vec<Firing> = (1..=xs).map(|x| firing(0, &[x])).collect();
            expected.push(firing(1, &[]));
            assert_eq!(decision.fired, expected);
            let document = engine.decision_json(&request, &decision).unwrap();
            let messages: Vec<&str> =
                document["reasons"].as_array().unwrap().iter().map(|r| r["message"].as_str().unwrap()).collect();
            let mut expected: Vec<String> = (1..=xs).map(|x| x.to_string()).collect();
            expected.push(String::new());
            assert_eq!(messages, expected);
            let (explained, explanation) = engine.explain(&request).unwrap();
            assert_eq!(explained, decision);
            assert_eq!(explanation.firings.len(), decision.fired.len());
            assert_eq!(
                crate::json::explanation(&engine, &request, &explanation).unwrap().as_array().unwrap().len(),
                xs as usize + 1
            );
        }
    }

    /// `p(x, y, y) :- t(x, y).`, `deny d "{x}" :- p(x, _, _).`, `allow e :- p(x, _, _).`:
    /// the explanation is a typed tree (firing, derived fact by rule id, input fact), a fact
    /// already expanded is "explained above", and the JSON edge renders it with names.
    #[test]
    fn explanations_are_typed_trees_rendered_as_json_at_the_edge() {
        use crate::explain::{FactExplanation, FactSource, FiringExplanation, Premises};
        let engine = program(vec![
            vec![scan(&[(0, 0), (1, 1)]), Instr::Emit { rel: P, values: vec![REG[0], REG[1], REG[1]] }],
            vec![test_instr::scan(P, &[(0, 0)]), Instr::Fire { decision: 0, values: vec![REG[0]] }],
            vec![test_instr::scan(P, &[(0, 0)]), Instr::Fire { decision: 1, values: Vec::new() }],
        ]);
        let request = rows(&engine, [(1, 2)].into_iter());
        let (decision, explanation) = engine.explain(&request).unwrap();
        let ints = |values: &[i64]| values.iter().map(|&v| Value::Int(v)).collect::<Vec<_>>();
        let input = FactExplanation { relation: T, values: ints(&[1, 2]), source: FactSource::Input };
        let derived = |premises| FactExplanation {
            relation: P,
            values: ints(&[1, 2, 2]),
            source: FactSource::Rule { rule: 0, premises, absent: Vec::new() },
        };
        let firing = |decision, values: &[i64], premises| FiringExplanation {
            firing: Firing { decision, values: ints(values) },
            premises: vec![premises],
            absent: Vec::new(),
        };
        assert_eq!(
            explanation.firings,
            vec![
                firing(0, &[1], derived(Premises::Facts(vec![input]))),
                firing(1, &[], derived(Premises::ExplainedAbove)),
            ]
        );
        assert_eq!(decision.fired.len(), 2);
        let at = "test.gov:1:1";
        let fact = |because| json!({"relation": "p", "values": [1, 2, 2], "rule_at": at, "because": because});
        assert_eq!(
            crate::json::explanation(&engine, &request, &explanation).unwrap(),
            json!([
                {"rule": "d", "effect": "deny", "message": "1", "at": at,
                 "because": [fact(json!([{"relation": "t", "values": [1, 2], "source": "input"}]))]},
                {"rule": "e", "effect": "allow", "message": "", "at": at, "because": [fact(json!("explained above"))]},
            ])
        );
    }

    /// Two `risk` rules of the largest Int and 1 points, in a program without the
    /// `risk_score` stratum that would stop the evaluation first: the report is an overflow
    /// error (the decision fails closed), never a decision JSON with a score of 0.
    #[test]
    fn a_risk_score_that_overflows_fails_the_report() {
        let risk = |decision, constant| {
            vec![scan(&[(0, 0)]), Instr::Fire { decision, values: vec![Operand::Const(constant)] }]
        };
        // The engine runs the constants it was built with: each case builds its own.
        let engine_with = |points: i64| {
            let mut program =
                test_program(vec![(Phase::Request, risk(0, 0)), (Phase::Request, risk(1, 1))], Vec::new());
            program.constants = vec![Value::Int(points), Value::Int(1)];
            for meta in &mut program.decisions {
                meta.effect = Effect::Risk;
            }
            // Not validated: a valid program would have the `risk_score` stratum.
            Engine::from_valid(program, String::new(), Limits::LOAD).unwrap()
        };
        let engine = engine_with(i64::MAX);
        let request = rows(&engine, [(1, 2)].into_iter());
        let decision = engine.decide(&request).unwrap();
        assert_eq!(decision.fired.len(), 2);
        let overflow = EvalError::Arithmetic(gov_value::ArithError::Overflow);
        assert_eq!(engine.report(&request, &decision), Err(overflow.clone()));
        assert_eq!(engine.decision_json(&request, &decision), Err(overflow));
        let engine = engine_with(i64::MAX - 1);
        let request = rows(&engine, [(1, 2)].into_iter());
        let decision = engine.decide(&request).unwrap();
        assert_eq!(engine.decision_json(&request, &decision).unwrap()["risk"]["score"], json!(i64::MAX));
    }

    /// `risk` rules of 30 and 20 points over `t` and the risk score's step, with (when
    /// `read`) a rule that reads the score: `d(score) :- risk_score(score).`
    fn risk_engine(read: bool) -> (Engine, u32) {
        let risk = |decision, constant| {
            vec![scan(&[(0, 0)]), Instr::Fire { decision, values: vec![Operand::Const(constant)] }]
        };
        let mut rules = vec![risk(0, 0), risk(1, 1)];
        let score = 4;
        if read {
            rules.push(vec![
                test_instr::scan(score, &[(0, 0)]),
                Instr::Fire { decision: 2, values: vec![Operand::Reg(0)] },
            ]);
        }
        let mut program = test_program(rules.into_iter().map(|code| (Phase::Request, code)).collect(), Vec::new());
        program.constants = vec![Value::Int(30), Value::Int(20)];
        let column = ColumnSchema { name: None, ty: BaseType::Int, type_name: 3, contents: None };
        program.strings.push("risk_score".to_owned());
        program.relations.push(RelationSchema {
            name: (program.strings.len() - 1) as u32,
            kind: RelationKind::Builtin,
            phase: Phase::Request,
            columns: vec![column],
            indexes: Vec::new(),
            one: false,
        });
        let reader = if read { program.strata.pop() } else { None };
        program.strata.push(Stratum::RiskScore { rel: score });
        program.strata.extend(reader);
        program.decisions.push(program.decisions[0].clone());
        for meta in program.decisions.iter_mut().take(2) {
            meta.effect = Effect::Risk;
            meta.message = Vec::new();
        }
        (Engine::from_program(program, String::new(), Limits::LOAD).unwrap(), score)
    }

    /// A decision keeps the risk score beside the session's relations rather than stored
    /// as a row (no insert, nothing to clear), whether or not a rule reads it: a rule that
    /// does reads it as the relation's one row and fires with it, as the explaining
    /// evaluation (which stores it) does; `Engine::facts` shows the same row as when it
    /// is stored, and each request has its own.
    #[test]
    fn a_risk_score_is_held_beside_the_relations_and_read_from_there() {
        for read in [false, true] {
            let (engine, score) = risk_engine(read);
            let mut session = engine.session();
            let request = rows(&engine, [(1, 2)].into_iter());
            let fired: Vec<Firing> =
                engine.decide_in(&mut session, &request).unwrap().fired().map(crate::FiringRef::to_firing).collect();
            assert_eq!(fired.len(), if read { 3 } else { 2 });
            if read {
                assert_eq!(fired[2], Firing { decision: 2, values: vec![Value::Int(50)] });
            }
            assert_eq!(fired, engine.explain(&request).unwrap().0.fired, "read: {read}");
            assert_eq!(engine.facts(&session, score), vec![vec![Value::Int(50)]]);
            assert!(session.relations[score as usize].is_empty(), "read: {read}");
            let nothing = rows(&engine, std::iter::empty());
            engine.decide_in(&mut session, &nothing).unwrap();
            assert_eq!(engine.facts(&session, score), vec![vec![Value::Int(0)]]);
        }
    }

    /// A decision holds an input relation's one fact as its row, outside the store; a
    /// second fact moves both into the store (a repeat counts once), and a later request
    /// of one fact is held as a row again. Firings and facts are those of the explaining
    /// evaluation, which stores every fact.
    #[test]
    fn an_input_relation_with_one_fact_is_held_as_its_row() {
        let code = vec![scan(&[(0, 0), (1, 1)]), Instr::Fire { decision: 0, values: vec![Operand::Reg(1)] }];
        let engine = program(vec![code]);
        let mut session = engine.session();
        let requests: [&[(i64, i64)]; 6] =
            [&[(1, 2)], &[(1, 2), (3, 4)], &[(1, 2), (1, 2)], &[(1, 2), (3, 4), (5, 6)], &[(5, 6)], &[]];
        for facts in requests {
            let request = rows(&engine, facts.iter().copied());
            let decided = engine.decide_in(&mut session, &request).unwrap().to_decision();
            let (explained, _) = engine.explain(&request).unwrap();
            assert_eq!(decided.fired, explained.fired, "{facts:?}");
            let mut distinct: Vec<Vec<Value>> = Vec::new();
            for &(x, y) in facts {
                let row = vec![Value::Int(x), Value::Int(y)];
                if !distinct.contains(&row) {
                    distinct.push(row);
                }
            }
            assert_eq!(engine.facts(&session, T), distinct, "{facts:?}");
            assert_eq!(session.relations[T as usize].len(), if facts.len() == 1 { 0 } else { distinct.len() });
        }
    }

    /// A rule's filters, and the scans that find one row, run in one call of the
    /// interpreter, not one nested call per instruction: a rule of the longest length
    /// decides on a thread whose stack would not hold a frame per instruction (about 7 KiB
    /// each in a debug build).
    #[test]
    fn a_long_rule_runs_in_one_interpreter_frame() {
        let mut code = vec![scan(&[(0, 0)])];
        while code.len() < gov_value::limits::MAX_RULE_LENGTH - 2 {
            code.push(Instr::Compare { op: gov_value::CompareOp::Eq, left: Operand::Reg(0), right: Operand::Const(1) });
            code.push(scan(&[(1, 1)]));
        }
        code.push(Instr::Fire { decision: 0, values: vec![Operand::Reg(1)] });
        let engine = program(vec![code]);
        let request = rows(&engine, [(1, 2)].into_iter());
        let decided = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || engine.decide(&request).map(|d| d.fired))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(decided.unwrap(), vec![Firing { decision: 0, values: vec![Value::Int(2)] }]);
    }

    /// A firing of a decision rule the program does not have is a corrupt program, not a
    /// firing the report silently leaves out.
    #[test]
    fn a_firing_of_an_unknown_rule_fails_the_report() {
        let engine = program(Vec::new());
        let decision = Decision {
            outcome: super::Outcome::Deny,
            fired: vec![Firing { decision: 7, values: Vec::new() }],
            strings: Vec::new(),
        };
        let error = engine.report(&Request::default(), &decision).unwrap_err();
        assert_eq!(error, EvalError::Corrupt("a firing of an unknown decision rule"));
    }

    /// A firing's values with strings as text: the program's strings, then the request's
    /// own, then those built-ins made; the text reads as messages show values; an unknown
    /// symbol is an error.
    #[test]
    fn firing_values_turn_symbols_back_into_text() {
        use crate::ValueText;
        let engine = program(Vec::new());
        let request = Request { extra_strings: vec!["acct-9".to_owned()], ..Request::default() };
        let decimal = gov_value::parse_decimal("1.50").unwrap();
        let values = vec![
            Value::Str(0),
            Value::Str(9),
            Value::Int(-3),
            Value::Decimal(decimal),
            Value::Bool(true),
            Value::Time(0),
            Value::Duration(90_000_000_000),
            Value::Str(10),
        ];
        let firing = Firing { decision: 0, values: values.clone() };
        let decision = Decision { outcome: super::Outcome::Deny, fired: Vec::new(), strings: vec!["made".to_owned()] };
        let texts = engine.firing_values(&request, &decision, &firing).unwrap();
        assert_eq!(
            texts,
            [
                ValueText::Str("t"),
                ValueText::Str("acct-9"),
                ValueText::Int(-3),
                ValueText::Decimal(decimal),
                ValueText::Bool(true),
                ValueText::Time(0),
                ValueText::Duration(90_000_000_000),
                ValueText::Str("made"),
            ]
        );
        let strings = engine.decision_strings(&request, &decision.strings).unwrap();
        let shown: Vec<String> = texts.iter().map(ToString::to_string).collect();
        assert_eq!(shown, values.iter().map(|v| strings.display(*v)).collect::<Vec<_>>());
        let unknown = Firing { decision: 0, values: vec![Value::Str(11)] };
        assert!(matches!(engine.firing_values(&request, &decision, &unknown), Err(EvalError::Corrupt(_))));
    }

    /// `input event(name: Str)` and, when `deny_root`, `deny d :- event("root").`; the
    /// strings are the relation's, then (with the rule) `root`, `d` and the file's name, so
    /// the two engines number strings differently. Allows by default.
    fn event_engine(deny_root: bool) -> Engine {
        let mut strings = vec!["event".to_owned(), "name".to_owned(), "Str".to_owned()];
        let column = ColumnSchema { name: Some(1), ty: BaseType::Str, type_name: 2, contents: None };
        let relations = vec![RelationSchema {
            name: 0,
            kind: RelationKind::Input,
            one: false,
            phase: Phase::Request,
            columns: vec![column],
            indexes: Vec::new(),
        }];
        let mut program = Program { strings: Vec::new(), relations, default_allow: true, ..Program::default() };
        if deny_root {
            strings.extend(["root", "d", "test.gov"].map(str::to_owned));
            let source = SourceRef { file: 5, line: 1, column: 1 };
            program.constants = vec![Value::Str(3)];
            program.decisions = vec![DecisionMeta {
                name: 4,
                effect: Effect::Deny,
                approver: None,
                message: Vec::new(),
                overrides: Vec::new(),
                source,
            }];
            let scan = test_instr::scan_checked(0, &[], &[(0, Operand::Const(0))]);
            let code = vec![scan, Instr::Fire { decision: 0, values: Vec::new() }];
            program.rules = vec![RuleCode { registers: 1, code, source }];
            program.strata = vec![Stratum::Rules { phase: Phase::Request, rules: vec![0], delta_rules: Vec::new() }];
        }
        program.strings = strings;
        Engine::from_program(program, String::new(), Limits::LOAD).unwrap()
    }

    /// A request numbers its strings by the table of the engine that read it: `alice` is
    /// string 3 of the request read by the first engine, and string 3 of the second is
    /// `root`. The second engine refuses the request (every entry point) rather than
    /// decide `deny` for a request about `alice`; it decides its own reading of it.
    #[test]
    fn a_request_read_by_another_engine_is_refused() {
        let reader = event_engine(false);
        let other = event_engine(true);
        let text = r#"{"event": [{"name": "alice"}]}"#;
        let foreign = reader.request_from_json(text).unwrap();
        let own = other.request_from_json(text).unwrap();
        let decision = other.decide(&own).unwrap();
        assert_eq!(decision.outcome, super::Outcome::Allow);
        let refused = |result: Result<(), EvalError>| {
            let Err(EvalError::Request(error)) = result else { panic!("{result:?}") };
            assert!(error.message.contains("read by another engine"), "{error}");
        };
        refused(other.decide(&foreign).map(|_| ()));
        refused(other.decide_in(&mut other.session(), &foreign).map(|_| ()));
        refused(other.explain(&foreign).map(|_| ()));
        refused(other.explained(&foreign).map(|_| ()));
        refused(other.report(&foreign, &decision).map(|_| ()));
        refused(other.decision_json(&foreign, &decision).map(|_| ()));
        let firing = Firing { decision: 0, values: vec![Value::Str(3)] };
        refused(other.firing_values(&foreign, &decision, &firing).map(|_| ()));
        // An empty request carries no symbols: any engine may decide it.
        assert_eq!(other.decide(&Request::default()).unwrap().outcome, super::Outcome::Allow);
    }

    /// `t` declared `input one` (indexed on `y`): `deny d "{x}" :- t(x, 1).` (a lookup in
    /// the index), `allow e :- not t(_, 0).` (a negation by the index) and
    /// `p(x, y, x) :- t(x, y).` (a full scan), and `deny d "1" :- not q(_, _).` over the
    /// empty `q` (a negation without an index, which the explaining run traces). A decision holds `t`'s fact as its row, outside
    /// the session's relations, and reads it as the index and the scan would have: the
    /// same firings and facts as an explaining evaluation (which stores `t` as a relation),
    /// and nothing of one request left for the next in the same session.
    #[test]
    fn an_input_one_relation_is_held_as_its_row() {
        let by_y = test_instr::probe(T, 0, &[Operand::Const(1)], &[(0, 0)], &[]);
        let (index, absent) = (Some(0), vec![Operand::Const(0)]);
        let rules = vec![
            vec![by_y, Instr::Fire { decision: 0, values: vec![REG[0]] }],
            vec![Instr::Absent { rel: T, index, key: absent }, Instr::Fire { decision: 1, values: Vec::new() }],
            vec![scan(&[(0, 0), (1, 1)]), Instr::Emit { rel: P, values: vec![REG[0], REG[1], REG[0]] }],
            // `deny d "1" :- not q(_, _).` (q is empty): a negation without an index.
            vec![
                Instr::Absent { rel: Q, index: None, key: Vec::new() },
                Instr::Fire { decision: 0, values: vec![Operand::Const(1)] },
            ],
        ];
        let mut program = test_program(rules.into_iter().map(|code| (Phase::Request, code)).collect(), Vec::new());
        program.relations[T as usize].one = true;
        program.relations[T as usize].indexes = vec![vec![1]];
        let engine = Engine::from_program(program, String::new(), Limits::LOAD).unwrap();
        // A full session: nothing reads `p`, which is compared below.
        let mut session = engine.full_session();
        let firing =
            |decision, values: &[i64]| Firing { decision, values: values.iter().map(|&v| Value::Int(v)).collect() };
        for ((x, y), fired) in [
            ((5, 1), vec![firing(0, &[5]), firing(0, &[1]), firing(1, &[])]),
            ((7, 0), vec![firing(0, &[1])]),
            ((8, 2), vec![firing(0, &[1]), firing(1, &[])]),
        ] {
            let request = rows(&engine, [(x, y)].into_iter());
            let decision = engine.decide_in(&mut session, &request).unwrap().to_decision();
            assert_eq!(decision.fired, fired, "t({x}, {y})");
            assert_eq!(engine.explain(&request).unwrap().0, decision);
            assert!(session.relations[T as usize].is_empty());
            let ints = |values: &[i64]| values.iter().map(|&v| Value::Int(v)).collect::<Vec<_>>();
            assert_eq!(engine.facts(&session, T), vec![ints(&[x, y])]);
            assert_eq!(engine.facts(&session, P), vec![ints(&[x, y, x])]);
        }
        // Two facts, or none, are still refused (the first error as the whole check names it).
        for facts in [vec![(1, 1), (2, 1)], vec![]] {
            let request = Request {
                facts: facts.iter().map(|&(x, y)| (T, vec![Value::Int(x), Value::Int(y)])).collect(),
                ..Request::default()
            };
            let Err(EvalError::Request(error)) = engine.decide_in(&mut session, &request) else { panic!("{facts:?}") };
            assert!(error.path.starts_with('t'), "{error}");
        }
    }

    /// A request read by no engine (built in this crate) whose facts no JSON reading could
    /// have made is still a request error naming the relation, not a fact dropped or
    /// joined by a symbol the engine does not have.
    #[test]
    fn a_request_of_the_wrong_shape_is_refused() {
        let engine = event_engine(true);
        for values in [vec![], vec![Value::Int(1)], vec![Value::Str(6)]] {
            let request = Request { facts: vec![(0, values)], ..Request::default() };
            let Err(EvalError::Request(error)) = engine.decide(&request) else { panic!("{request:?}") };
            assert!(error.to_string().starts_with("event: "), "{error}");
        }
    }

    /// The relations computed at load are bounded by the load's limits, not a request's:
    /// `q(a, b) :- d(a), d(b).` holds 10 000 facts while each request may derive 100.
    /// `explain`, which computes them again, uses the load's limits for them too.
    #[test]
    fn load_and_requests_have_their_own_limits() {
        let load_rule = vec![
            test_instr::scan(DATA, &[(0, 0)]),
            test_instr::scan(DATA, &[(0, 1)]),
            Instr::Emit { rel: Q, values: REG[..2].to_vec() },
        ];
        let request_rule =
            vec![scan(&[(0, 0)]), test_instr::scan(Q, &[(0, 1)]), Instr::Fire { decision: 1, values: Vec::new() }];
        let rules = vec![(Phase::Static, load_rule), (Phase::Request, request_rule)];
        let data: Vec<Value> = (0..100).map(Value::Int).collect();
        let small = Limits { max_facts: 100, ..Limits::default() };
        assert_eq!(
            program_with(rules.clone(), data.clone(), small).unwrap_err(),
            EvalError::Limit { what: "facts", limit: 100 }
        );
        let engine = program_with(rules, data, Limits::LOAD).unwrap().with_limits(small);
        let request = rows(&engine, [(1, 1)].into_iter());
        assert_eq!(engine.decide(&request).unwrap().outcome, super::Outcome::Allow);
        assert_eq!(engine.explain(&request).unwrap().0.outcome, super::Outcome::Allow);
    }
}
