//! The interpreter: runs strata of rule code over relations.
// `EvalError` owns strings in some variants, so it has a destructor: `ok_or(EvalError::…)`
// would build and drop an error on every successful lookup of the hot path (callgrind: 5 to
// 6% of a decision's instructions, docs/performance.md). `ok_or_else` builds it only on
// failure.
#![allow(clippy::unnecessary_lazy_evaluations)]

use crate::dispatch::{Plan, Step};
use crate::exec::{Code, Op, Out, Pair, Slot};
use crate::guards::Guards;
use crate::kernel::{Kernel, Kernels};
use crate::limits::{Budget, binding_bytes, firing_bytes, row_bytes};
use crate::made::{Fresh, MadeIds};
use crate::one::{OneRows, OneSlots, Ones, Stored};
use crate::program::{AggregateFn, Effect, Instr, Phase, Program, Source, Stratum};
use crate::store::{Columns, Relation, hash_values};
use crate::value::{StringIds, Strings, Value};
use crate::{EvalError, Limits};
use gov_builtins::{Builtin, Called, Memo, Prepared, Val};
use gov_value::CompareOp;
use hashbrown::{HashMap, HashSet, HashTable};
use std::borrow::Cow;

/// Longest index key the engine supports (the loader rejects longer ones).
pub use gov_value::limits::MAX_KEY;

/// A decision rule that fired, with its values (risk points first for `risk` rules,
/// then the message's values).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Firing {
    /// The decision rule's id.
    pub decision: u32,
    /// Its values.
    pub values: Vec<Value>,
}

impl Firing {
    /// The firing, borrowed.
    pub fn as_ref(&self) -> FiringRef<'_> {
        FiringRef { decision: self.decision, values: &self.values }
    }
}

/// A decision rule that fired, as a session holds it: its values borrowed from the
/// session's buffer (see [`crate::DecisionRef`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FiringRef<'s> {
    /// The decision rule's id.
    pub decision: u32,
    /// Its values (risk points first for `risk` rules, then the message's values).
    pub values: &'s [Value],
}

impl FiringRef<'_> {
    /// An owned copy.
    pub fn to_firing(self) -> Firing {
        Firing { decision: self.decision, values: self.values.to_vec() }
    }
}

/// A recorded firing: its decision rule and where its values are in [`Work::fired_values`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fired {
    decision: u32,
    start: u32,
    end: u32,
}

/// The firings of an evaluation: entries pointing into one buffer of values, so recording
/// a firing allocates nothing once the buffers have grown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Firings<'s> {
    fired: &'s [Fired],
    values: &'s [Value],
}

impl<'s> Firings<'s> {
    /// The firing at `position`.
    pub(crate) fn get(self, position: usize) -> Option<FiringRef<'s>> {
        self.fired.get(position).map(|f| self.at(*f))
    }

    /// Each firing, in order.
    pub(crate) fn iter(self) -> impl ExactSizeIterator<Item = FiringRef<'s>> + Clone {
        self.fired.iter().map(move |f| self.at(*f))
    }

    fn at(self, fired: Fired) -> FiringRef<'s> {
        // Invariant: `start..end` of every entry lies within the values it was recorded
        // with (`Work::fire` pushes the values, then the entry).
        let values = self.values.get(fired.start as usize..fired.end as usize).unwrap_or_default();
        FiringRef { decision: fired.decision, values }
    }
}

/// Mutable evaluation state that outlives one rule: output, counters, scratch. Every
/// buffer is cleared, not freed, between evaluations, so a session that has decided a
/// request once decides the like of it again without allocating.
#[derive(Debug, Default)]
pub(crate) struct Work {
    /// Rows the rules run so far emitted, not yet stored, `arity.max(1)` values each.
    pending: Vec<Value>,
    /// Rows the kernels of a rule or a round emitted, not yet stored, each in its head
    /// relation's bytes ([`crate::kernel::Kernel::run`]).
    pub(crate) pending_rows: Vec<u8>,
    /// Every distinct firing, in the order they fired (until [`Work::conclude`] orders
    /// them by rule).
    fired: Vec<Fired>,
    /// The values of the firings in `fired`, one run each.
    fired_values: Vec<Value>,
    /// The positions in `fired` of its firings, by hash: a firing is recorded once.
    // Invariant: empty while `fired` has fewer than `INDEXED_FROM` firings; from then on,
    // one entry per element of `fired`, hashed with `firing_hash`.
    fired_index: HashTable<u32>,
    /// A rule's frame (and a kernel's firing's values), kept between rules.
    pub(crate) registers: Vec<Value>,
    /// The work so far, against the limits.
    pub(crate) budget: Budget,
    /// Row ranges of the previous round of a recursive stratum, by relation.
    delta: Vec<(u32, u32)>,
    /// Scratch for index keys' bytes as the store hashes them.
    key_bytes: Vec<u8>,
    /// Scratch of a phase's run: the indexed rules' steps its facts select.
    selected: Vec<Step>,
    /// Scratch of a recursive stratum's round: each relation's size before it, and where
    /// each rule's rows end in the pending buffers.
    round_start: Vec<u32>,
    round_rows: Vec<RuleRows>,
    /// Scratch of an aggregate: its bindings (locals, then the target, for each), and the
    /// distinct ones among them by hash.
    bindings: Vec<Value>,
    distinct: HashTable<u32>,
    /// Scratch of the risk score's contributions.
    contributions: Vec<Contribution>,
    /// Provenance recording, for explanations; `None` on the fast path.
    pub(crate) trace: Option<Trace>,
    /// Strings built-ins made that neither the program nor the request has, numbered after
    /// the request's own (see [`Strings::made`]); each text once.
    pub(crate) made: Vec<String>,
    made_ids: MadeIds,
    /// Scratch of a built-in's call: the values it yielded, as the engine's values, and
    /// its texts that had no symbol yet.
    yielded: Vec<Value>,
    fresh: Fresh,
    /// What built-ins parsed for the calls after them (the last URL), within a decision.
    memo: Memo,
    /// The risk score of a decision, kept here rather than as the row of its relation
    /// (no insert, nothing to clear; the rules that read it read it from here:
    /// [`Ctx::held_row`]), with its relation; `None` before the score's step and when
    /// not deciding.
    pub(crate) risk: Option<(u32, i64)>,
    /// When deciding, the rows of the relations held as their one row ([`crate::one`]), by
    /// the engine's slots; their relations' stores are then empty.
    pub(crate) ones: OneRows,
}

/// Where a rule's rows of a round end in the pending buffers ([`Work::pending`], the
/// trace's premises, [`Work::pending_rows`]); they start where the previous rule's end.
#[derive(Debug, Clone, Copy)]
struct RuleRows {
    rule: u32,
    values: usize,
    premises: usize,
    bytes: usize,
}

/// Ranges of the pending buffers: the rows one rule emitted.
struct Pending {
    /// Of [`Work::pending`] (values).
    values: std::ops::Range<usize>,
    /// Of the trace's premises (one per row of values, when tracing).
    premises: std::ops::Range<usize>,
    /// Of [`Work::pending_rows`] (bytes).
    bytes: std::ops::Range<usize>,
}

/// A fact, as (relation id, row id in the store that holds the relation).
pub(crate) type FactRef = (u32, u32);

/// A negated condition that held: no fact of `relation` has these values in these columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absence {
    /// The relation's id.
    pub relation: u32,
    /// (column, value) of each column the negation constrained; the others were `_`.
    pub columns: Vec<(u8, Value)>,
}

/// Provenance: for each derived fact and each firing, the rule and the facts it matched.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// The facts matched by the scans enclosing the current instruction.
    stack: Vec<FactRef>,
    /// The negations that held, enclosing the current instruction.
    absent: Vec<Absence>,
    /// For each aggregate being computed, innermost last: where its sub-plan's facts start
    /// on `stack`, and the facts its bindings matched so far.
    aggregating: Vec<(usize, Vec<FactRef>)>,
    /// Premises of each row in `Work::pending`.
    pending: Vec<Vec<FactRef>>,
    /// The negations that held for each row in `Work::pending`.
    pending_absent: Vec<Vec<Absence>>,
    /// The first derivation of each derived fact: (rule id, premises).
    pub(crate) derivations: HashMap<FactRef, (u32, Vec<FactRef>)>,
    /// The negations that held in the first derivation of a derived fact, when any did.
    pub(crate) derivation_absent: HashMap<FactRef, Vec<Absence>>,
    /// Premises of each entry of `Work::fired`, in the same order.
    pub(crate) firings: Vec<Vec<FactRef>>,
    /// The negations that held for each entry of `Work::fired`, in the same order.
    pub(crate) firing_absent: Vec<Vec<Absence>>,
    /// Rules whose body held at least once, so that they emitted a fact (new or not).
    pub(crate) rules_used: HashSet<u32>,
}

impl Work {
    /// State that records provenance.
    pub(crate) fn tracing() -> Work {
        Work { trace: Some(Trace::default()), ..Work::default() }
    }

    /// Empty buffers, with `ones` for the relations a decision holds as their row.
    pub(crate) fn holding(ones: OneRows) -> Work {
        Work { ones, ..Work::default() }
    }

    /// Resets for a new evaluation, keeping capacity.
    pub(crate) fn reset(&mut self) {
        self.pending.clear();
        self.pending_rows.clear();
        self.fired.clear();
        self.fired_values.clear();
        self.fired_index.clear();
        self.budget = Budget::default();
        self.made_ids.clear(&mut self.made);
        self.memo.clear();
        self.risk = None;
        self.ones.begin();
    }

    /// The distinct firings so far.
    pub(crate) fn firings(&self) -> Firings<'_> {
        Firings { fired: &self.fired, values: &self.fired_values }
    }

    /// Orders the firings by rule, each rule's in the order they fired, and returns them;
    /// no firing may be recorded after this.
    pub(crate) fn conclude(&mut self) -> (Firings<'_>, &[String]) {
        self.fired_index.clear();
        // Values are recorded in firing order, so (start, end) orders a rule's firings (two
        // of one rule cannot both have no values: they would be the same firing); an
        // unstable sort on (rule, start, end) is the stable sort by rule, without its buffer.
        self.fired.sort_unstable_by_key(|f| (f.decision, f.start, f.end));
        (Firings { fired: &self.fired, values: &self.fired_values }, &self.made)
    }

    /// Records a firing of `decision` with the values of `slots` unless the same firing
    /// (decision and values) was recorded before; the firing counts against the limits as
    /// a fact. Constant time (a few comparisons while there are fewer than `INDEXED_FROM`
    /// firings, then a hash probe), so deciding stays linear in the firings however many
    /// repeat. The values go straight into the shared buffer (and back out if a repeat).
    pub(crate) fn fire(
        &mut self,
        limits: &Limits,
        regs: &[Value],
        decision: u32,
        slots: &[Slot],
    ) -> Result<bool, EvalError> {
        let start = self.fired_values.len();
        for &slot in slots {
            self.fired_values.push(Ctx::slot(regs, slot)?);
        }
        let too_many = || EvalError::Limit { what: "facts", limit: limits.max_facts as u64 };
        let entry = Fired {
            decision,
            start: u32::try_from(start).map_err(|_| too_many())?,
            end: u32::try_from(self.fired_values.len()).map_err(|_| too_many())?,
        };
        let firings = self.firings();
        let new = firings.at(entry);
        let seen = if self.fired.len() < INDEXED_FROM {
            // The decision first: only a firing of the same rule has its values compared.
            self.fired.iter().any(|&f| f.decision == decision && firings.at(f).values == new.values)
        } else {
            self.fired_index.find(firing_hash(new), |&i| firings.get(i as usize) == Some(new)).is_some()
        };
        if seen {
            self.fired_values.truncate(start);
            return Ok(false);
        }
        self.budget.charge(limits, 1, firing_bytes(slots.len()))?;
        self.fired.push(entry);
        let len = self.fired.len();
        if len >= INDEXED_FROM {
            let first = if len == INDEXED_FROM { 0 } else { len - 1 };
            let firings = Firings { fired: &self.fired, values: &self.fired_values };
            let rehash = |&i: &u32| firings.get(i as usize).map_or(0, firing_hash);
            for (position, firing) in firings.iter().enumerate().skip(first) {
                let position = u32::try_from(position).map_err(|_| too_many())?;
                self.fired_index.insert_unique(firing_hash(firing), position, rehash);
            }
        }
        Ok(true)
    }
}

/// How many firings a request records before [`Work::fire`] looks repeats up by hash
/// rather than by comparing with each: most requests fire a handful of rules, and a few
/// comparisons cost less than hashing.
const INDEXED_FROM: usize = 8;

/// The hash of a firing, for [`Work::fired_index`].
fn firing_hash(firing: FiringRef<'_>) -> u64 {
    hash_values(std::iter::once(Value::Int(i64::from(firing.decision))).chain(firing.values.iter().copied()))
}

/// Read-only context of one rule run.
struct Ctx<'a> {
    /// Relations computed at load (for request-phase evaluation); `None` while loading.
    statics: Option<&'a [Relation]>,
    /// Where the relations held as their row lie in [`Work::ones`] (a decision's fast
    /// path), whose `relations` are then empty.
    ones: Option<&'a OneSlots>,
    relations: &'a [Relation],
    strings: Strings<'a>,
    limits: &'a Limits,
    /// Row ranges of the previous round, by relation (recursive strata only).
    delta: &'a [(u32, u32)],
    /// What calls of built-ins read: the strings' symbols.
    builtins: &'a Builtins<'a>,
    /// The rules' executable form (what runs, [`Code::ops`]).
    code: &'a Code,
}

/// What a run reads that the engine derived from the program: the code it executes, and
/// what calls of built-ins read beyond their arguments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Builtins<'a> {
    /// The symbols of the strings the evaluation starts with.
    pub symbols: Symbols<'a>,
    /// The rules' executable form, with what was prepared of their calls.
    pub code: &'a Code,
}

/// The symbols of the strings an evaluation starts with, by text: the program's, then the
/// request's own. A built-in's result that is neither gets a symbol of its own
/// ([`Work::made`]), so that one text always has one symbol (rows hash symbols).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Symbols<'a> {
    /// The program's strings.
    pub table: &'a StringIds,
    /// The request's own strings.
    pub extra: &'a StringIds,
}

impl Symbols<'_> {
    /// The symbol of `text`, if the program or the request has it.
    fn find(&self, text: &str) -> Option<u32> {
        self.table.get(text).or_else(|| self.extra.get(text)).copied()
    }
}

/// What is done with a built-in's or a set's values.
enum Produced {
    Test(bool),
    /// In `Work::yielded`.
    Values,
}

/// What a built-in reads for `value`, whose strings are `strings`.
pub(crate) fn to_val<'s>(strings: Strings<'s>, value: Value) -> Val<'s> {
    match value {
        Value::Int(i) => Val::Int(i),
        Value::Decimal(d) => Val::Decimal(d),
        Value::Str(sym) => Val::Str(Cow::Borrowed(strings.get(sym))),
        Value::Bool(b) => Val::Bool(b),
        Value::Time(t) => Val::Time(t),
        Value::Duration(d) => Val::Duration(d),
    }
}

/// The engine's value of what a built-in yielded, or the text of a `Str` (whose symbol
/// the caller finds).
fn value_of(val: Val<'_>) -> Result<Value, Cow<'_, str>> {
    Ok(match val {
        Val::Int(i) => Value::Int(i),
        Val::Decimal(d) => Value::Decimal(d),
        Val::Bool(b) => Value::Bool(b),
        Val::Time(t) => Value::Time(t),
        Val::Duration(d) => Value::Duration(d),
        Val::Str(text) => return Err(text),
    })
}

/// What a built-in's call produced, for [`Ctx::proceed`].
fn produced(called: Called) -> Produced {
    match called {
        Called::Test(holds) => Produced::Test(holds),
        Called::Values => Produced::Values,
    }
}

/// The value of the argument whose text `text` is (the same bytes, not a copy), if any:
/// a built-in that yields a whole argument back (`path.file_name("rm")`,
/// `regex.find("ls", …)`) needs no lookup of its symbol.
// Invariant: `vals` are the texts of the `args` slots of `regs`, in order, and one text
// has one symbol, so the argument's value is the text's.
fn argument_of(vals: &[Val<'_>], args: &[Slot], regs: &[Value], text: &str) -> Option<Value> {
    let same = |val: &Val<'_>| matches!(val, Val::Str(arg) if std::ptr::eq(arg.as_ptr(), text.as_ptr()) && arg.len() == text.len());
    let at = vals.iter().position(same)?;
    regs.get(*args.get(at)? as usize).copied()
}

/// What happens when a plan reaches its end.
enum Sink<'s> {
    /// A rule: its last instruction (`Emit`/`Fire`) already recorded the result.
    Rule,
    /// An aggregate's sub-plan: record the binding of its locals, then the target value.
    Aggregate { target: Slot, locals: &'s [Slot], out: &'s mut Vec<Value> },
    /// A probe of how far a rule's body gets ([`reach`]): keep the registers of the first
    /// binding that gets here.
    Reach { first: &'s mut Option<Vec<Value>> },
}

/// What the visit of one row of a scan needs of its instruction.
struct ScanAt<'c> {
    rel: u32,
    /// The row ids visited: `low..high`.
    low: u32,
    high: u32,
    binds: &'c [Pair],
    checks: &'c [Pair],
    code: &'c [Op],
    /// The scan's position in `code` (which ends where the plan does).
    pc: usize,
}

/// Relation `rel` as a rule reads it: from the relations computed at load (`statics`)
/// when it is one of them and a request is running, else from `relations`.
fn stored<'r>(
    program: &Program,
    statics: Option<&'r [Relation]>,
    relations: &'r [Relation],
    rel: u32,
) -> Result<&'r Relation, EvalError> {
    let from_statics =
        statics.is_some() && program.relations.get(rel as usize).is_some_and(|r| r.phase == Phase::Static);
    let store = if from_statics { statics.unwrap_or_default() } else { relations };
    store.get(rel as usize).ok_or_else(|| EvalError::Corrupt("relation id out of range"))
}

impl Ctx<'_> {
    /// Relation `rel`, of the static phase when `statik` (read from the relations computed
    /// at load when running a request).
    #[inline(always)]
    fn relation(&self, rel: u32, statik: bool) -> Result<&Relation, EvalError> {
        let store = match self.statics {
            Some(statics) if statik => statics,
            _ => self.relations,
        };
        store.get(rel as usize).ok_or_else(|| EvalError::Corrupt("relation id out of range"))
    }

    /// The value in frame slot `slot` (a register, or a constant the frame holds).
    #[inline(always)]
    fn slot(regs: &[Value], slot: Slot) -> Result<Value, EvalError> {
        regs.get(slot as usize).copied().ok_or_else(|| EvalError::Corrupt("register out of range"))
    }

    /// Sets frame slot `slot` to `value`.
    #[inline(always)]
    fn set_slot(regs: &mut [Value], slot: Slot, value: Value) -> Result<(), EvalError> {
        *regs.get_mut(slot as usize).ok_or_else(|| EvalError::Corrupt("register out of range"))? = value;
        Ok(())
    }

    /// Looks up the first row of `relation` whose index `index` columns equal the values
    /// of the key slots, encoded straight from the frame into `work`'s byte buffer (the key
    /// is only needed for the lookup; further matches follow the index chain).
    fn first_match(
        &self,
        work: &mut Work,
        relation: &Relation,
        index: u16,
        regs: &[Value],
        key: &[Pair],
    ) -> Result<Option<u32>, EvalError> {
        if key.len() > MAX_KEY {
            return Err(EvalError::Corrupt("index key too long"));
        }
        relation.lookup_slots(index as usize, regs, key, &mut work.key_bytes)
    }

    /// The row of `rel` when it is an input or derived relation held as its row
    /// ([`Work::ones`]), or else the risk score's relation held beside the relations
    /// ([`Work::risk`]: its row is made in `risk`). Asked only of a relation whose store
    /// is empty.
    #[inline(always)]
    fn held_row<'r>(&'r self, work: &'r Work, rel: u32, risk: &'r mut [Value; 1]) -> Option<&'r [Value]> {
        if let Some(row) = self.ones.and_then(|slots| work.ones.row(slots, rel)) {
            return Some(row);
        }
        let (held, score) = work.risk?;
        (held == rel).then(|| {
            *risk = [Value::Int(score)];
            &risk[..]
        })
    }

    /// Whether `row` has the values of the `key` slots in the key's columns (what a lookup
    /// in the index would find).
    #[inline(always)]
    fn key_matches(row: &[Value], regs: &[Value], key: &[Pair]) -> Result<bool, EvalError> {
        for &(column, slot) in key {
            if row.get(column as usize).copied() != Some(Self::slot(regs, slot)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Binds row `row_id` of a scan: reads its columns into registers and checks the
    /// others; whether the row matches (a row outside the scan's range does not). The row
    /// is read column by column straight into the registers (a stored row is never rebuilt
    /// as values).
    #[inline(always)]
    fn bind<R: Columns + ?Sized>(
        &self,
        scan: &ScanAt<'_>,
        row_id: u32,
        row: &R,
        regs: &mut [Value],
    ) -> Result<bool, EvalError> {
        if row_id < scan.low || row_id >= scan.high {
            return Ok(false);
        }
        for &(column, slot) in scan.binds {
            let value = row.column(column as usize).ok_or_else(|| EvalError::Corrupt("column out of range"))?;
            Self::set_slot(regs, slot, value)?;
        }
        for &(column, slot) in scan.checks {
            if row.column(column as usize) != Some(Self::slot(regs, slot)?) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Visits row `row_id` of a scan that has more rows to visit after it: binds it
    /// ([`Ctx::bind`]) and runs the rest of the rule.
    #[inline(always)]
    fn visit<R: Columns + ?Sized>(
        &self,
        scan: &ScanAt<'_>,
        row_id: u32,
        row: &R,
        work: &mut Work,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
    ) -> Result<(), EvalError> {
        if !self.bind(scan, row_id, row, regs)? {
            return Ok(());
        }
        if work.trace.is_some() {
            return self.exec_traced(work, scan.code, scan.pc + 1, regs, sink, (scan.rel, row_id));
        }
        self.exec(work, scan.code, scan.pc + 1, regs, sink)
    }

    /// Runs `code[pc..]` with the frame as bound so far (`code` ends where this plan
    /// does: a rule's ops, or an aggregate's ops up to its sub-plan's end).
    ///
    /// One loop over the ops: a filter (`absent`, `compare`) that holds, an `arith` or a
    /// `move` goes on to the next op in the same call, and so does a scan's last row; only
    /// a scan's other rows (and what runs once per value of a call, or after an
    /// aggregate's sub-plan) call `exec` again for the rest of the rule. So the common
    /// rule, whose scans each find one row, runs in one call.
    fn exec(
        &self,
        work: &mut Work,
        code: &[Op],
        mut pc: usize,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
    ) -> Result<(), EvalError> {
        loop {
            let Some(op) = code.get(pc) else {
                return match sink {
                    Sink::Rule => Ok(()),
                    _ => self.finish(work, regs, sink),
                };
            };
            work.budget.step(self.limits)?;
            match op {
                Op::Scan { rel, index, statik, delta, key, binds, checks } => {
                    let (rel, index, delta) = (*rel, *index, *delta);
                    let relation = self.relation(rel, *statik)?;
                    let (low, high) = match delta {
                        false => (0, u32::MAX),
                        true => self.delta.get(rel as usize).copied().unwrap_or((0, 0)),
                    };
                    let scan = ScanAt { rel, low, high, binds, checks, code, pc };
                    // Every row but the last is visited by a call; the last one's bindings
                    // go on in this loop.
                    let last = if relation.is_empty() {
                        // No row to visit, unless it is an input relation held as its
                        // row (then read straight into the registers if it matches the index
                        // key, as the index would have found it). Checked only here, so scans
                        // of the relations that hold rows pay nothing for it.
                        let mut risk = [Value::Int(0)];
                        let Some(row) = self.held_row(work, rel, &mut risk).filter(|_| !delta) else {
                            return Ok(());
                        };
                        if index.is_some() && !Self::key_matches(row, regs, key)? {
                            return Ok(());
                        }
                        if !self.bind(&scan, 0, row, regs)? {
                            return Ok(());
                        }
                        0
                    } else {
                        let last = match index {
                            Some(index) => {
                                let mut at = self.first_match(work, relation, index, regs, key)?;
                                loop {
                                    let Some(row) = at else { return Ok(()) };
                                    let next = relation.previous(index as usize, row);
                                    if next.is_none() {
                                        break row;
                                    }
                                    self.visit(&scan, row, &relation.row(row), work, regs, sink)?;
                                    at = next;
                                }
                            }
                            None => {
                                // Invariant: row ids fit `u32` (`Relation::insert` refuses
                                // more rows).
                                let rows = u32::try_from(relation.len()).unwrap_or(u32::MAX);
                                let (first, end) = (low.min(rows), high.min(rows));
                                if first >= end {
                                    return Ok(());
                                }
                                for row in first..end - 1 {
                                    self.visit(&scan, row, &relation.row(row), work, regs, sink)?;
                                }
                                end - 1
                            }
                        };
                        if !self.bind(&scan, last, &relation.row(last), regs)? {
                            return Ok(());
                        }
                        last
                    };
                    if work.trace.is_some() {
                        return self.exec_traced(work, code, pc + 1, regs, sink, (rel, last));
                    }
                }
                Op::Absent { rel, index, statik, key } => {
                    let (rel, index) = (*rel, *index);
                    let relation = self.relation(rel, *statik)?;
                    // An empty relation is present only as a row held beside the store.
                    let mut risk = [Value::Int(0)];
                    let one = if relation.is_empty() { self.held_row(work, rel, &mut risk) } else { None };
                    let present = match (index, one) {
                        (Some(_), Some(row)) => Self::key_matches(row, regs, key)?,
                        (None, Some(_)) => true,
                        (_, None) if relation.is_empty() => false,
                        (Some(index), None) => self.first_match(work, relation, index, regs, key)?.is_some(),
                        (None, None) => !relation.is_empty(),
                    };
                    if present {
                        return Ok(());
                    }
                    if work.trace.is_some() {
                        return self.exec_absent_traced(work, code, pc, regs, sink, rel, key);
                    }
                }
                &Op::Compare { op, left, right } => {
                    let (left, right) = (Self::slot(regs, left)?, Self::slot(regs, right)?);
                    if !self.holds(work, op, left, right)? {
                        return Ok(());
                    }
                }
                &Op::Arith { op, dst, left, right } => {
                    let (left, right) = (Self::slot(regs, left)?, Self::slot(regs, right)?);
                    let (Some(a), Some(b)) = (left.num(), right.num()) else {
                        return Err(EvalError::Type("arithmetic on a non-number"));
                    };
                    let result = gov_value::apply(op, a, b).map_err(EvalError::Arithmetic)?;
                    Self::set_slot(regs, dst, Value::from_num(result))?;
                }
                &Op::Move { dst, src } => {
                    let value = Self::slot(regs, src)?;
                    Self::set_slot(regs, dst, value)?;
                }
                Op::Aggregate { .. } => return self.aggregate_step(work, code, pc, regs, sink),
                Op::Call { .. } | Op::Set { .. } => return self.builtin_step(work, code, pc, regs, sink),
                Op::Emit { values, .. } => {
                    // Counted as a new fact until it is stored: the rows a rule produces are
                    // bounded as they pile up, not only once the rule is done.
                    work.budget.charge(self.limits, 1, row_bytes(values.len()))?;
                    for &slot in values.iter() {
                        work.pending.push(Self::slot(regs, slot)?);
                    }
                    if values.is_empty() {
                        // A nullary fact: one placeholder, so the row is counted.
                        work.pending.push(Value::Bool(true));
                    }
                    if let Some(trace) = work.trace.as_mut() {
                        trace.pending.push(trace.stack.clone());
                        trace.pending_absent.push(trace.absent.clone());
                    }
                    return Ok(());
                }
                Op::Fire { decision, values } => {
                    let new = work.fire(self.limits, regs, *decision, values)?;
                    if let (true, Some(trace)) = (new, work.trace.as_mut()) {
                        trace.firings.push(trace.stack.clone());
                        trace.firing_absent.push(trace.absent.clone());
                    }
                    return Ok(());
                }
            }
            pc += 1;
        }
    }

    /// Whether `left op right` holds; values of different types are a type error. Two
    /// `Int`s (the common comparison) are compared here, the rest as
    /// [`Strings::compare`] orders them.
    #[inline(always)]
    fn holds(&self, work: &Work, op: CompareOp, left: Value, right: Value) -> Result<bool, EvalError> {
        let ordering = match (left, right) {
            (Value::Int(a), Value::Int(b)) => a.cmp(&b),
            _ => self
                .strings
                .with_made(&work.made)
                .compare(left, right)
                .ok_or_else(|| EvalError::Type("comparison of values of different types"))?,
        };
        Ok(op.holds(ordering))
    }
}

impl Ctx<'_> {
    /// [`Ctx::exec`] of `code[pc + 1..]` after the `absent` at `pc` held, with what it
    /// found absent on the trace (an explaining evaluation's negation).
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn exec_absent_traced(
        &self,
        work: &mut Work,
        code: &[Op],
        pc: usize,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
        rel: u32,
        key: &[Pair],
    ) -> Result<(), EvalError> {
        let Some(trace) = work.trace.as_mut() else { return self.exec(work, code, pc + 1, regs, sink) };
        let columns =
            key.iter().map(|&(column, slot)| Ok((column, Self::slot(regs, slot)?))).collect::<Result<_, _>>()?;
        trace.absent.push(Absence { relation: rel, columns });
        let result = self.exec(work, code, pc + 1, regs, sink);
        if let Some(trace) = work.trace.as_mut() {
            trace.absent.pop();
        }
        result
    }

    /// [`Ctx::exec`] of `code[pc..]` with `fact` on the trace's stack of matched facts
    /// (an explaining evaluation's scan).
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn exec_traced(
        &self,
        work: &mut Work,
        code: &[Op],
        pc: usize,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
        fact: FactRef,
    ) -> Result<(), EvalError> {
        if let Some(trace) = work.trace.as_mut() {
            trace.stack.push(fact);
        }
        let result = self.exec(work, code, pc, regs, sink);
        if let Some(trace) = work.trace.as_mut() {
            trace.stack.pop();
        }
        result
    }

    /// What a plan's end does with the registers for an aggregate's sub-plan or a probe
    /// ([`Sink`]); a rule's end has nothing to do (its last instruction recorded it).
    // Not inlined: `exec` recurses once per instruction, and its frame stays small without
    // this.
    #[inline(never)]
    fn finish(&self, work: &mut Work, regs: &[Value], sink: &mut Sink<'_>) -> Result<(), EvalError> {
        match sink {
            Sink::Aggregate { target, locals, out } => {
                work.budget.charge_bytes(self.limits, binding_bytes(locals.len()))?;
                if let Some(trace) = work.trace.as_mut()
                    && let Some((mark, facts)) = trace.aggregating.last_mut()
                {
                    facts.extend_from_slice(trace.stack.get(*mark..).unwrap_or_default());
                }
                for &slot in *locals {
                    out.push(Self::slot(regs, slot)?);
                }
                out.push(Self::slot(regs, *target)?);
            }
            Sink::Reach { first } if first.is_none() => **first = Some(regs.to_vec()),
            Sink::Rule | Sink::Reach { .. } => {}
        }
        Ok(())
    }

    /// Runs the `Aggregate` at `pc`: its sub-plan, the fold, and the rest of the rule after
    /// the sub-plan.
    // Not inlined, as `builtin_step`: rules without aggregates must not pay for its frame.
    #[inline(never)]
    fn aggregate_step(
        &self,
        work: &mut Work,
        code: &[Op],
        pc: usize,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
    ) -> Result<(), EvalError> {
        let Some(&Op::Aggregate { function, ty, dst, target, ref locals, len }) = code.get(pc) else {
            return Err(EvalError::Corrupt("not an aggregate"));
        };
        let body_end = pc + 1 + len as usize;
        let body = code.get(..body_end).ok_or_else(|| EvalError::Corrupt("aggregate body runs past its rule"))?;
        // The scratch is taken, so an aggregate nested in this one's sub-plan uses
        // (and leaves behind) its own.
        let mut bindings = std::mem::take(&mut work.bindings);
        bindings.clear();
        let mut inner = Sink::Aggregate { target, locals, out: &mut bindings };
        if let Some(trace) = work.trace.as_mut() {
            trace.aggregating.push((trace.stack.len(), Vec::new()));
        }
        let ran = self.exec(work, body, pc + 1, regs, &mut inner);
        // When tracing, the facts the bindings matched are premises of what follows.
        let counted = work.trace.as_mut().and_then(|t| t.aggregating.pop()).map(|(_, mut facts)| {
            let mut seen = HashSet::new();
            facts.retain(|f| seen.insert(*f));
            facts
        });
        let width = locals.len() + 1;
        work.budget.refund(0, bindings.len() / width * binding_bytes(locals.len()));
        let made = &work.made;
        let result = ran.and_then(|()| self.fold(made, function, ty, &bindings, width, &mut work.distinct));
        work.bindings = bindings;
        let Some(result) = result? else { return Ok(()) };
        Self::set_slot(regs, dst, result)?;
        if let (Some(counted), Some(trace)) = (counted, work.trace.as_mut()) {
            let mark = trace.stack.len();
            trace.stack.extend(counted);
            let result = self.exec(work, code, body_end, regs, sink);
            if let Some(trace) = work.trace.as_mut() {
                trace.stack.truncate(mark);
            }
            return result;
        }
        self.exec(work, code, body_end, regs, sink)
    }

    /// Runs the `Call` or `Set` at `pc` and the rest of the rule after it.
    // Not inlined: `exec` recurses once per instruction, and rules without built-ins must
    // not pay for a larger frame.
    #[inline(never)]
    fn builtin_step(
        &self,
        work: &mut Work,
        code: &[Op],
        pc: usize,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
    ) -> Result<(), EvalError> {
        let (produced, out) = match code.get(pc) {
            Some(&Op::Call { builtin, ref args, out, prepared }) => {
                (self.call(work, regs, builtin, args, self.code.prepared(prepared), out)?, out)
            }
            Some(&Op::Set { ref values, out }) => {
                self.set(work, regs, values)?;
                (Produced::Values, out)
            }
            _ => return Err(EvalError::Corrupt("not a call")),
        };
        self.proceed(work, code, pc, regs, sink, produced, out)
    }

    /// The values of a set literal, into `work.yielded`.
    fn set(&self, work: &mut Work, regs: &[Value], values: &[Slot]) -> Result<(), EvalError> {
        work.yielded.clear();
        for &slot in values {
            work.yielded.push(Self::slot(regs, slot)?);
        }
        Ok(())
    }

    /// Calls `builtin` on the values of the `args` slots, with what was `prepared` of its
    /// constant arguments; its values go to `work.yielded`, each string
    /// interned (a new text gets a symbol after the request's, and its bytes count against
    /// the limits). A built-in's error is the evaluation's. Nothing is allocated once the
    /// session's buffers fit the call (the built-in itself may allocate: a URL's parse).
    /// A test (`out` is [`Out::Test`]) yields no values, so it goes straight to the
    /// built-in, past the buffers of yielded values.
    fn call(
        &self,
        work: &mut Work,
        regs: &[Value],
        builtin: Builtin,
        args: &[Slot],
        prepared: Option<&Prepared>,
        out: Out,
    ) -> Result<Produced, EvalError> {
        let strings = self.strings.with_made(&work.made);
        // An array, not a `SmallVec` (whose drop cost ~30 instructions a call); its texts are
        // borrowed, so dropping it frees nothing.
        let mut all = [Val::Int(0), Val::Int(0)];
        let vals = all.get_mut(..args.len()).ok_or(EvalError::Corrupt("more arguments than any built-in takes"))?;
        for (val, &slot) in vals.iter_mut().zip(args) {
            *val = to_val(strings, Self::slot(regs, slot)?);
        }
        let vals = &*vals;
        let failed = |e: gov_builtins::EvalError| EvalError::Builtin { name: e.builtin.name(), message: e.message };
        if let Out::Test { .. } = out {
            let called = gov_builtins::call(builtin, vals, prepared, &mut work.memo, &mut |_| {}).map_err(failed)?;
            return Ok(produced(called));
        }
        let mut yielded = std::mem::take(&mut work.yielded);
        yielded.clear();
        work.fresh.clear();
        let base = self.strings.table.len() + self.strings.extra.len();
        let (symbols, made, made_ids, fresh) = (self.builtins.symbols, &work.made, &work.made_ids, &mut work.fresh);
        let mut keep = |val: Val<'_>| match value_of(val) {
            Ok(value) => yielded.push(value),
            // A slice that is a whole argument (`path.file_name("rm")`) is that argument.
            Err(text) => match argument_of(vals, args, regs, &text)
                .or_else(|| symbols.find(&text).or_else(|| made_ids.find(made, base, &text)).map(Value::Str))
            {
                Some(value) => yielded.push(value),
                None => {
                    // A placeholder until the text has its symbol, after the call.
                    fresh.push(yielded.len(), &text);
                    yielded.push(Value::Int(0));
                }
            },
        };
        let called = gov_builtins::call(builtin, vals, prepared, &mut work.memo, &mut keep).map_err(failed)?;
        for (i, (at, text)) in work.fresh.iter().enumerate() {
            // One call may yield a new text twice (`str.split("a a", " ")`); the first was
            // looked up among the made strings as it was yielded, and none was made since.
            let made = if i == 0 { None } else { work.made_ids.find(&work.made, base, text) };
            let sym = match made {
                Some(sym) => sym,
                None => {
                    work.budget.charge_bytes(self.limits, text.len())?;
                    let sym = u32::try_from(base + work.made.len())
                        .map_err(|_| EvalError::Limit { what: "strings", limit: u64::from(u32::MAX) })?;
                    work.made_ids.insert(&mut work.made, base, sym, text);
                    sym
                }
            };
            if let Some(slot) = yielded.get_mut(at) {
                *slot = Value::Str(sym);
            }
        }
        work.yielded = yielded;
        Ok(produced(called))
    }

    /// Continues after a call or a set as `out` says, with what it produced.
    #[allow(clippy::too_many_arguments)]
    fn proceed(
        &self,
        work: &mut Work,
        code: &[Op],
        pc: usize,
        regs: &mut [Value],
        sink: &mut Sink<'_>,
        produced: Produced,
        out: Out,
    ) -> Result<(), EvalError> {
        let set_reg = Self::set_slot;
        match (produced, out) {
            (Produced::Test(holds), Out::Test { negated }) => {
                if holds != negated {
                    self.exec(work, code, pc + 1, regs, sink)
                } else {
                    Ok(())
                }
            }
            (Produced::Values, Out::Value(dst)) => match work.yielded.first().copied() {
                Some(value) => {
                    set_reg(regs, dst, value)?;
                    self.exec(work, code, pc + 1, regs, sink)
                }
                None => Ok(()),
            },
            (Produced::Values, Out::Each(dst)) => {
                // The values are taken: the rest of the rule may call built-ins too.
                let values = std::mem::take(&mut work.yielded);
                let mut result = Ok(());
                for value in &values {
                    result = set_reg(regs, dst, *value).and_then(|()| self.exec(work, code, pc + 1, regs, sink));
                    if result.is_err() {
                        break;
                    }
                }
                if work.yielded.capacity() < values.capacity() {
                    work.yielded = values;
                }
                result
            }
            (Produced::Values, Out::Has(slot) | Out::Lacks(slot)) => {
                let wanted = Self::slot(regs, slot)?;
                let strings = self.strings.with_made(&work.made);
                let found = work.yielded.iter().any(|v| strings.compare(*v, wanted).is_some_and(|o| o.is_eq()));
                if found == matches!(out, Out::Has(_)) { self.exec(work, code, pc + 1, regs, sink) } else { Ok(()) }
            }
            _ => Err(EvalError::Corrupt("a call's result used as it cannot be")),
        }
    }

    /// Folds the recorded bindings of an aggregate (`width` values each: the locals, then
    /// the target); each distinct binding of the locals counts once. `None` for
    /// `min`/`max` of nothing. `distinct` is scratch.
    fn fold(
        &self,
        made: &[String],
        function: AggregateFn,
        ty: gov_value::BaseType,
        bindings: &[Value],
        width: usize,
        distinct: &mut HashTable<u32>,
    ) -> Result<Option<Value>, EvalError> {
        distinct.clear();
        let locals = |i: u32| bindings.get(i as usize * width..(i as usize + 1) * width - 1);
        let mut count: i64 = 0;
        let mut acc: Option<Value> = None;
        for (i, binding) in bindings.chunks_exact(width).enumerate() {
            let Some((&value, binding)) = binding.split_last() else { continue };
            let hash = hash_values(binding.iter().copied());
            if distinct.find(hash, |&j| locals(j) == Some(binding)).is_some() {
                continue;
            }
            let i = u32::try_from(i).map_err(|_| EvalError::Corrupt("too many bindings"))?;
            distinct.insert_unique(hash, i, |&j| locals(j).map_or(0, |b| hash_values(b.iter().copied())));
            count += 1;
            acc = Some(match (acc, function) {
                (None, _) | (Some(_), AggregateFn::Count) => value,
                (Some(acc), AggregateFn::Sum) => {
                    let (Some(a), Some(b)) = (acc.num(), value.num()) else {
                        return Err(EvalError::Type("sum of a non-number"));
                    };
                    Value::from_num(gov_value::apply(gov_value::ArithOp::Add, a, b).map_err(EvalError::Arithmetic)?)
                }
                (Some(acc), AggregateFn::Min | AggregateFn::Max) => {
                    let ordering = self
                        .strings
                        .with_made(made)
                        .compare(value, acc)
                        .ok_or_else(|| EvalError::Type("min or max over values of different types"))?;
                    let wanted = if function == AggregateFn::Min {
                        std::cmp::Ordering::Less
                    } else {
                        std::cmp::Ordering::Greater
                    };
                    if ordering == wanted { value } else { acc }
                }
            });
        }
        Ok(match function {
            AggregateFn::Count => Some(Value::Int(count)),
            AggregateFn::Sum => acc.or_else(|| Value::zero(ty)),
            AggregateFn::Min | AggregateFn::Max => acc,
        })
    }
}

/// A request evaluated to its end, as probes of its rules' bodies read it ([`reach`],
/// [`crate::near_miss`]): every relation of the program, static ones included, as an
/// explaining evaluation leaves them.
#[derive(Clone, Copy)]
pub(crate) struct Evaluated<'a> {
    /// The program.
    pub program: &'a Program,
    /// Every relation of the program.
    pub relations: &'a [Relation],
    /// String resolution.
    pub strings: Strings<'a>,
    /// Limits.
    pub limits: &'a Limits,
    /// What calls of built-ins read.
    pub builtins: &'a Builtins<'a>,
}

/// Whether the first `end` instructions of `rule`'s code hold for some binding over
/// `evaluated`'s relations: the registers of the first binding that gets that far, or
/// `None`. Nothing is emitted or fired: the code stops before `end`.
// Invariant: `end` is an instruction boundary at the rule's top level (never inside an
// aggregate's sub-plan), so the code before it is a whole plan.
pub(crate) fn reach(evaluated: &Evaluated<'_>, rule: u32, end: usize) -> Result<Option<Vec<Value>>, EvalError> {
    let Evaluated { program, relations, strings, limits, builtins } = *evaluated;
    let code = builtins.code;
    let exec = program.rules.get(rule as usize).and(code.rule(rule));
    let exec = exec.ok_or_else(|| EvalError::Corrupt("rule id out of range"))?;
    let ctx = Ctx { statics: None, ones: None, relations, strings, limits, delta: &[], builtins, code };
    let mut work = Work::default();
    let mut frame = Vec::new();
    exec.start(&mut frame);
    let mut first = None;
    let ops = exec.ops();
    let ops = ops.get(..end.min(ops.len())).unwrap_or_default();
    ctx.exec(&mut work, ops, 0, &mut frame, &mut Sink::Reach { first: &mut first })?;
    // The registers, without the constants the frame holds after them.
    Ok(first.map(|mut registers| {
        registers.truncate(code.registers(rule));
        registers
    }))
}

/// Everything a run of strata reads.
pub(crate) struct Run<'a> {
    /// The program.
    pub program: &'a Program,
    /// Relations computed at load, when running a request.
    pub statics: Option<&'a [Relation]>,
    /// Where the relations held as their one row lie, when deciding (not explaining).
    pub ones: Option<&'a OneSlots>,
    /// String resolution.
    pub strings: Strings<'a>,
    /// Limits.
    pub limits: &'a Limits,
    /// The relations each rule reads at its top level ([`Guards::of`] the program).
    pub guards: &'a Guards,
    /// The steps of the phase to run and its indexed rules: one of the program's plans
    /// ([`crate::dispatch::Dispatch::of`]).
    pub plan: &'a Plan,
    /// The rules that run as kernels ([`Kernels::of`] the program).
    pub kernels: &'a Kernels,
    /// What calls of built-ins read.
    pub builtins: Builtins<'a>,
}

impl Run<'_> {
    /// Runs every step of `self.plan` in order over `relations`.
    pub(crate) fn strata(&self, relations: &mut [Relation], work: &mut Work) -> Result<(), EvalError> {
        // Invariant: between runs every entry is (0, 0) (a fixpoint resets what it set), so
        // only a new session's buffer is filled.
        let mut delta = std::mem::take(&mut work.delta);
        if delta.len() != self.program.relations.len() {
            delta.clear();
            delta.resize(self.program.relations.len(), (0, 0));
        }
        let result = self.strata_with(relations, &mut delta, work);
        if result.is_err() {
            // A fixpoint that failed did not reset its ranges.
            delta.iter_mut().for_each(|d| *d = (0, 0));
        }
        work.delta = delta;
        result
    }

    fn strata_with(
        &self,
        relations: &mut [Relation],
        delta: &mut [(u32, u32)],
        work: &mut Work,
    ) -> Result<(), EvalError> {
        // The steps every run takes and those of the indexed rules the facts can match,
        // merged in evaluation order.
        let plan = self.plan;
        let mut selected = std::mem::take(&mut work.selected);
        selected.clear();
        let found = plan.select(relations, self.ones.map(|slots| Ones { slots, rows: &work.ones }), &mut selected);
        let result = found.and_then(|()| {
            if selected.is_empty() {
                // Nothing to merge (no indexed rule, or none the facts select).
                return plan.always().iter().try_for_each(|&step| self.step(step, relations, delta, work));
            }
            let (mut always, mut chosen) = (plan.always().iter().peekable(), selected.iter().peekable());
            loop {
                let step = match (always.peek(), chosen.peek()) {
                    (Some(&&a), Some(&&c)) if c < a => chosen.next(),
                    (Some(_), _) => always.next(),
                    (None, _) => chosen.next(),
                };
                let Some(&step) = step else { return Ok(()) };
                self.step(step, relations, delta, work)?;
            }
        });
        work.selected = selected;
        result
    }

    /// Runs one step: a rule of a non-recursive stratum, or a whole stratum.
    // Inlined into the strata loop, with the rule's run: a decision takes a step per rule,
    // and each function between the loop and the interpreter cost its prologue, epilogue
    // and the move of its `Result` per rule (docs/performance.md, s11/interp).
    #[inline(always)]
    fn step(
        &self,
        step: Step,
        relations: &mut [Relation],
        delta: &mut [(u32, u32)],
        work: &mut Work,
    ) -> Result<(), EvalError> {
        if step.at != Step::WHOLE {
            self.run_rule(step.rule, relations, delta, work)?;
            if work.pending.is_empty() && work.pending_rows.is_empty() {
                return Ok(());
            }
            return self.insert_pending(step.rule, relations, work);
        }
        self.stratum(step.stratum, relations, delta, work)
    }

    /// Runs a whole stratum: a recursive one, or the risk score's.
    #[inline(never)]
    fn stratum(
        &self,
        stratum: u32,
        relations: &mut [Relation],
        delta: &mut [(u32, u32)],
        work: &mut Work,
    ) -> Result<(), EvalError> {
        let stratum = self.program.strata.get(stratum as usize).ok_or(EvalError::Corrupt("stratum out of range"))?;
        match stratum {
            Stratum::Rules { rules, delta_rules, .. } => self.fixpoint(rules, delta_rules, relations, delta, work),
            Stratum::RiskScore { rel } => {
                let mut contributions = std::mem::take(&mut work.contributions);
                let found = risk_contributions(self.program, work.firings().iter(), &mut contributions);
                let score = found.and_then(|()| risk_score(&contributions));
                work.contributions = contributions;
                let score = score?;
                // Deciding (the input rows given) keeps the score beside the relations:
                // the rules after read it as the relation's one row ([`Ctx::held_row`]),
                // and [`crate::Engine::facts`] shows it as that row.
                if self.ones.is_some() {
                    work.risk = Some((*rel, score));
                    return Ok(());
                }
                relations
                    .get_mut(*rel as usize)
                    .ok_or_else(|| EvalError::Corrupt("relation id out of range"))?
                    .insert(&[Value::Int(score)])?;
                Ok(())
            }
        }
    }

    /// Semi-naive evaluation of a recursive stratum.
    fn fixpoint(
        &self,
        rules: &[u32],
        delta_rules: &[u32],
        relations: &mut [Relation],
        delta: &mut [(u32, u32)],
        work: &mut Work,
    ) -> Result<(), EvalError> {
        let mut round_rules = rules;
        for round in 0.. {
            if round > self.limits.max_rounds {
                return Err(EvalError::Limit { what: "fixpoint rounds", limit: u64::from(self.limits.max_rounds) });
            }
            work.round_start.clear();
            work.round_start.extend(relations.iter().map(|r| u32::try_from(r.len()).unwrap_or(u32::MAX)));
            // Every rule of the round runs before any row is stored, each appending to
            // `pending`; then each rule's run of rows goes into its head relation.
            work.round_rows.clear();
            for &rule in round_rules {
                self.run_rule(rule, relations, delta, work)?;
                let premises = work.trace.as_ref().map_or(0, |t| t.pending.len());
                let (values, bytes) = (work.pending.len(), work.pending_rows.len());
                work.round_rows.push(RuleRows { rule, values, premises, bytes });
            }
            let mut rows = std::mem::take(&mut work.round_rows);
            let mut start = RuleRows { rule: 0, values: 0, premises: 0, bytes: 0 };
            let inserted = rows.iter().try_for_each(|&end| {
                let run = Pending {
                    values: start.values..end.values,
                    premises: start.premises..end.premises,
                    bytes: start.bytes..end.bytes,
                };
                start = end;
                self.insert_rows(end.rule, relations, work, run)
            });
            rows.clear();
            work.round_rows = rows;
            inserted?;
            work.pending.clear();
            work.pending_rows.clear();
            if let Some(trace) = work.trace.as_mut() {
                trace.pending.clear();
                trace.pending_absent.clear();
            }
            let mut grew = false;
            for ((slot, relation), &start) in delta.iter_mut().zip(relations.iter()).zip(&work.round_start) {
                let end = u32::try_from(relation.len()).unwrap_or(u32::MAX);
                *slot = (start, end);
                grew |= end > start;
            }
            if !grew {
                break;
            }
            round_rules = delta_rules;
        }
        delta.iter_mut().for_each(|d| *d = (0, 0));
        Ok(())
    }

    /// Runs `rule` as its kernel when it has one (not when explaining, which records
    /// premises, nor when a relation it reads is an input relation held as its one row or
    /// the risk score held beside the relations), else through the interpreter.
    #[inline(always)]
    fn run_rule(
        &self,
        rule: u32,
        relations: &[Relation],
        delta: &[(u32, u32)],
        work: &mut Work,
    ) -> Result<(), EvalError> {
        match self.kernels.get(rule) {
            Some(kernel) => self.kernel(rule, kernel, relations, delta, work),
            None => self.rule(rule, relations, delta, work),
        }
    }

    /// [`Run::run_rule`] of a rule that has a kernel.
    #[inline(never)]
    fn kernel(
        &self,
        rule: u32,
        kernel: &Kernel,
        relations: &[Relation],
        delta: &[(u32, u32)],
        work: &mut Work,
    ) -> Result<(), EvalError> {
        let (scan, from_delta) = kernel.scanned();
        let held = |rel: u32| self.held(work, rel);
        if work.trace.is_some() || held(scan) || kernel.probed().is_some_and(held) {
            return self.rule(rule, relations, delta, work);
        }
        if self.skipped(rule, relations, delta, work) {
            return Ok(());
        }
        let rows = stored(self.program, self.statics, relations, scan)?;
        let range = match from_delta {
            true => delta.get(scan as usize).copied().unwrap_or((0, 0)),
            false => (0, u32::MAX),
        };
        let probe = kernel.probed().map(|rel| stored(self.program, self.statics, relations, rel)).transpose()?;
        kernel.run(rows, range, probe, self.limits, work)
    }

    /// Whether relation `rel` is held beside the store when deciding: an input or derived
    /// relation as its one row ([`crate::one`]), or the risk score's ([`Work::risk`]).
    #[inline(always)]
    fn held(&self, work: &Work, rel: u32) -> bool {
        // Only a decision holds rows (`self.ones` is set): no stamp is this request's otherwise.
        work.ones.holds(rel) || work.risk.is_some_and(|(held, _)| held == rel)
    }

    /// Whether a scan of `rule`'s body reads no row ([`Guards`]), which ends every run of
    /// the rest: the rule is skipped.
    // Inlined: it runs for every rule of a decision.
    #[inline(always)]
    fn skipped(&self, rule: u32, relations: &[Relation], delta: &[(u32, u32)], work: &Work) -> bool {
        // Invariant: a guard's relation is of the rule's phase, so it is in `relations`
        // (or, when deciding, held beside them: [`Run::held`]).
        self.guards.of_rule(rule).iter().any(|&(rel, source)| match source {
            Source::Full => relations.get(rel as usize).is_none_or(Relation::is_empty) && !self.held(work, rel),
            Source::Delta => delta.get(rel as usize).is_none_or(|&(low, high)| low >= high),
        })
    }

    #[inline(always)]
    fn rule(&self, rule: u32, relations: &[Relation], delta: &[(u32, u32)], work: &mut Work) -> Result<(), EvalError> {
        let code = self.builtins.code;
        // Invariant: the executable form has one entry per rule of the program.
        let exec = code.rule(rule).ok_or_else(|| EvalError::Corrupt("rule id out of range"))?;
        if self.skipped(rule, relations, delta, work) {
            return Ok(());
        }
        let ctx = Ctx {
            statics: self.statics,
            ones: self.ones,
            relations,
            strings: self.strings,
            limits: self.limits,
            delta,
            builtins: &self.builtins,
            code,
        };
        let mut frame = std::mem::take(&mut work.registers);
        exec.start(&mut frame);
        let result = ctx.exec(work, exec.ops(), 0, &mut frame, &mut Sink::Rule);
        work.registers = frame;
        result
    }

    /// Moves the rows a rule emitted into its head relation (called only when it emitted
    /// some: a decision rule fires instead).
    #[inline(never)]
    fn insert_pending(&self, rule: u32, relations: &mut [Relation], work: &mut Work) -> Result<(), EvalError> {
        let premises = work.trace.as_ref().map_or(0, |t| t.pending.len());
        let rows = Pending { values: 0..work.pending.len(), premises: 0..premises, bytes: 0..work.pending_rows.len() };
        let result = self.insert_rows(rule, relations, work, rows);
        work.pending.clear();
        work.pending_rows.clear();
        if let Some(trace) = work.trace.as_mut() {
            trace.pending.clear();
            trace.pending_absent.clear();
        }
        result
    }

    /// Stores the rows `rows` of the pending buffers that `rule` emitted in its head
    /// relation: values (with their premises, when tracing: one per row) or, from its join
    /// kernel, bytes. A row already held is dropped, and what its emit charged refunded.
    fn insert_rows(
        &self,
        rule: u32,
        relations: &mut [Relation],
        work: &mut Work,
        rows: Pending,
    ) -> Result<(), EvalError> {
        let Work { pending, pending_rows, trace, budget, ones, .. } = work;
        let values = pending.get(rows.values).unwrap_or_default();
        let bytes = pending_rows.get(rows.bytes).unwrap_or_default();
        if values.is_empty() && bytes.is_empty() {
            return Ok(());
        }
        if let Some(trace) = trace.as_mut() {
            trace.rules_used.insert(rule);
        }
        let head = match self.program.rules.get(rule as usize).and_then(|r| r.code.last()) {
            Some(Instr::Emit { rel, values }) => Some((*rel, values.len())),
            _ => None,
        };
        let (rel, arity) = head.ok_or_else(|| EvalError::Corrupt("rule emits without an Emit instruction"))?;
        let relation = relations.get_mut(rel as usize).ok_or_else(|| EvalError::Corrupt("relation id out of range"))?;
        // Deciding holds a derived relation's first fact as its row ([`crate::one`]).
        // Invariant: a relation is held as its row or stored, never both: its store is
        // empty while its row is held, and a fact for the store moves the row there first.
        let holding = self.ones.and_then(|slots| Some((slots, (rel, slots.slot(rel)?)))).filter(|_| trace.is_none());
        let width = relation.width();
        if !bytes.is_empty() {
            // Invariant: a join's head has columns (`Join::of`), so its rows have bytes.
            if width == 0 {
                return Err(EvalError::Corrupt("a join kernel emitted rows of no bytes"));
            }
            if let Some((slots, at)) = holding
                && let Some(first) = ones.release(slots, at)
            {
                relation.insert(first)?;
            }
            for row in bytes.chunks(width) {
                if !relation.insert_encoded(row)? {
                    budget.refund(1, row_bytes(arity));
                }
            }
        }
        let mut premises = rows.premises;
        for row in values.chunks(arity.max(1)) {
            let row = row.get(..arity).unwrap_or_default();
            // A relation with stored rows (a join kernel's) keeps its rows there.
            let new = match holding.filter(|_| relation.is_empty()) {
                None => relation.insert(row)?,
                Some((slots, at)) => match ones.hold(slots, at, row) {
                    Some(Stored::First) => true,
                    None => false,
                    Some(Stored::Second(first)) => {
                        relation.insert(first)?;
                        relation.insert(row)?
                    }
                    Some(Stored::More) => relation.insert(row)?,
                },
            };
            let why = premises.next();
            if new {
                if let Some(trace) = trace.as_mut() {
                    let id = u32::try_from(relation.len() - 1).unwrap_or(u32::MAX);
                    let absent = why.and_then(|i| trace.pending_absent.get_mut(i)).map(std::mem::take);
                    if let Some(absent) = absent.filter(|a| !a.is_empty()) {
                        trace.derivation_absent.insert((rel, id), absent);
                    }
                    let why = why.and_then(|i| trace.pending.get_mut(i)).map(std::mem::take);
                    if let Some(why) = why {
                        trace.derivations.insert((rel, id), (rule, why));
                    }
                }
            } else {
                // Charged when emitted; a row already known is not held.
                budget.refund(1, row_bytes(arity));
            }
        }
        Ok(())
    }
}

/// A fired `risk` rule's contribution: the largest points it fired with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contribution {
    /// The `risk` rule's decision id.
    pub decision: u32,
    /// Its points.
    pub points: i64,
    /// The position in the firings of the (first) firing with those points.
    pub firing: usize,
}

/// Each fired `risk` rule's contribution, in the order the rules first fired, into
/// `contributions` (cleared first); one pass over the firings.
pub(crate) fn risk_contributions<'v>(
    program: &Program,
    fired: impl Iterator<Item = FiringRef<'v>>,
    contributions: &mut Vec<Contribution>,
) -> Result<(), EvalError> {
    // Invariant: at most one contribution per `risk` rule of the program, so the linear
    // search below is bounded by the program, not by the request (and, for the few risk
    // rules a policy has, cheaper than a hash map).
    contributions.clear();
    for (position, firing) in fired.enumerate() {
        let is_risk = program.decisions.get(firing.decision as usize).is_some_and(|d| d.effect == Effect::Risk);
        if !is_risk {
            continue;
        }
        let Some(Value::Int(points)) = firing.values.first() else {
            return Err(EvalError::Type("risk points are not an Int"));
        };
        match contributions.iter_mut().find(|c| c.decision == firing.decision) {
            Some(best) if *points > best.points => {
                best.points = *points;
                best.firing = position;
            }
            Some(_) => {}
            None => contributions.push(Contribution { decision: firing.decision, points: *points, firing: position }),
        }
    }
    Ok(())
}

/// The risk score: the sum of the contributions.
pub(crate) fn risk_score(contributions: &[Contribution]) -> Result<i64, EvalError> {
    contributions
        .iter()
        .try_fold(0i64, |sum, c| sum.checked_add(c.points))
        .ok_or_else(|| EvalError::Arithmetic(gov_value::ArithError::Overflow))
}
