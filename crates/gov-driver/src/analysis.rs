//! The conflict check: the analysis's candidate witnesses run through the real engine, and
//! only what the engine confirms reported.
//!
//! `gov-analysis` searches the IR and proposes a request and data facts per pair of rules;
//! here each proposal is written as the JSON `govc eval --input` and `--data` read,
//! compiled with the package's data files plus the proposed facts, and decided. A
//! [`Confirmed`] finding exists only if both rules fired in that run: its constructor is
//! private to this module and called only after the decision says so.

use crate::fs::FileSystem;
use gov_analysis::{Data, Fact, Outcome, Pair, PairKind, Value, Witness};
use gov_db::{PackageId, Workspace};
use gov_diag::{Applicability, Diagnostic, Fix, Sources, codes};
use gov_ir::{DecisionId, Ir};
use gov_vm::json::Document;
use serde_json::{Map, json};
use std::path::PathBuf;

pub mod invariant;
pub mod redundant;

/// A conflict the engine has seen: both rules fired on the witness.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmed {
    allow: DecisionId,
    other: DecisionId,
    witness: gov_diag::Witness,
}

impl Confirmed {
    /// The `allow` rule.
    pub fn allow(&self) -> DecisionId {
        self.allow
    }

    /// The `deny` or `escalate` rule.
    pub fn other(&self) -> DecisionId {
        self.other
    }

    /// The request and data the engine ran.
    pub fn witness(&self) -> &gov_diag::Witness {
        &self.witness
    }
}

/// What the conflict check found for one pair of rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Both rules fired on a witness (a conflict, or an override that is in use).
    Overlap(PairKind, Confirmed),
    /// No request with any data fires both: a proof within the analysed fragment.
    Disjoint(PairKind, DecisionId, DecisionId),
    /// The analysis cannot tell, or the engine did not confirm its candidate: why.
    Unknown(PairKind, DecisionId, DecisionId, String),
}

/// Every pair's finding, against the package's data documents `data`. A pair is first
/// searched with the data fixed to those documents' facts (the deployment question: a
/// witness that needs no data of its own); failing a confirmed overlap there, for any data
/// (the policy question: the witness's data facts are added to the package's, as `govc eval
/// --data` adds a file). Only the second search can prove a stale override: rules that never
/// meet on today's data may meet on tomorrow's.
pub fn findings(ir: &Ir, sources: &Sources, data: &[(String, Document)]) -> Vec<Finding> {
    let runner = Runner::new(ir, sources, data);
    let fixed = runner.program().map(|program| data_facts(ir, program));
    let today: Vec<Option<Pair>> = match &fixed {
        Ok(facts) => gov_analysis::pairs(ir, Data::Fixed(facts)).into_iter().map(Some).collect(),
        Err(_) => Vec::new(),
    };
    let any = gov_analysis::pairs(ir, Data::Any);
    // Invariant: `pairs` lists the same pairs in the same order whatever the data.
    let mut today = today.into_iter();
    let mut found: Vec<Option<Finding>> = Vec::with_capacity(any.len());
    let mut pending = Vec::new();
    for pair in any {
        if let Some(Some(Pair { allow, other, kind, outcome: Outcome::Candidate(witness) })) = today.next()
            && let Ok(confirmed) = runner.confirm(allow, other, &witness)
        {
            found.push(Some(Finding::Overlap(kind, confirmed)));
            continue;
        }
        pending.push((found.len(), pair));
        found.push(None);
    }
    // The others grouped by their witness's data, so that the engine for each witness's data
    // is made once (a package of a thousand rules has hundreds of them).
    pending.sort_by_cached_key(|(_, pair)| match &pair.outcome {
        Outcome::Candidate(witness) => facts_json(ir, &witness.data).to_string(),
        Outcome::Disjoint | Outcome::Unknown(_) => String::new(),
    });
    for (at, pair) in pending {
        if let Some(slot) = found.get_mut(at) {
            *slot = Some(finding(&runner, pair));
        }
    }
    found.into_iter().flatten().collect()
}

/// The facts of the data documents as the compiler read them into `program`, typed by the IR.
pub(crate) fn data_facts(ir: &Ir, program: &gov_vm::program::Program) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (relation, values) in &program.data {
        let Some(schema) = program.relations.get(*relation as usize) else { continue };
        let name = program.string(schema.name);
        let Some(index) = ir.relations.iter().position(|r| r.name == name) else { continue };
        for row in gov_vm::program::data_rows(schema.columns.len(), values) {
            let values = row.iter().map(|v| match *v {
                gov_vm::Value::Int(i) => Value::Int(i),
                gov_vm::Value::Decimal(d) => Value::Decimal(d),
                gov_vm::Value::Str(sym) => Value::Str(program.string(sym).to_owned()),
                gov_vm::Value::Bool(b) => Value::Bool(b),
                gov_vm::Value::Time(t) => Value::Time(t),
                gov_vm::Value::Duration(d) => Value::Duration(d),
            });
            facts.push(Fact { relation: gov_ir::RelationId(gov_ir::dense(index)), values: values.collect() });
        }
    }
    facts
}

fn finding(runner: &Runner<'_>, pair: Pair) -> Finding {
    let Pair { allow, other, kind, outcome } = pair;
    match outcome {
        Outcome::Disjoint => Finding::Disjoint(kind, allow, other),
        Outcome::Unknown(reason) => Finding::Unknown(kind, allow, other, format!("outside the analysis: {reason}")),
        Outcome::Candidate(witness) => match runner.confirm(allow, other, &witness) {
            Ok(confirmed) => Finding::Overlap(kind, confirmed),
            Err(reason) => Finding::Unknown(kind, allow, other, reason),
        },
    }
}

/// Runs the candidate through the engine: the package compiled with `data` and the
/// witness's data, deciding the witness's request. `Ok` only if both rules fired.
pub fn confirm(
    ir: &Ir,
    sources: &Sources,
    data: &[(String, Document)],
    allow: DecisionId,
    other: DecisionId,
    candidate: &Witness,
) -> Result<Confirmed, String> {
    Runner::new(ir, sources, data).confirm(allow, other, candidate)
}

/// The engine runs of one package's check: the package is compiled once, with its data
/// files, and loaded once; a witness without data of its own runs on that engine, one with
/// data on the same engine with the witness's facts added ([`gov_vm::Engine::more_data`]:
/// read and validated as a data file's, the data-only relations evaluated again, without a
/// new load).
pub(crate) struct Runner<'a> {
    ir: &'a Ir,
    sources: &'a Sources,
    data: &'a [(String, Document)],
    /// The package compiled with its data files, on first use.
    program: std::cell::OnceCell<Result<gov_vm::program::Program, String>>,
    /// The package's engine with its data files, made on first use.
    base: std::cell::OnceCell<Result<gov_vm::Engine, String>>,
    /// The base engine's data with witnesses' data facts, by the data document's text:
    /// candidates often share their data facts. At most [`MAX_DATA`]; when full, it is
    /// emptied.
    extra: std::cell::RefCell<std::collections::HashMap<String, Result<gov_vm::MoreData, String>>>,
}

impl<'a> Runner<'a> {
    pub(crate) fn new(ir: &'a Ir, sources: &'a Sources, data: &'a [(String, Document)]) -> Runner<'a> {
        Runner {
            ir,
            sources,
            data,
            program: std::cell::OnceCell::new(),
            base: std::cell::OnceCell::new(),
            extra: Default::default(),
        }
    }

    pub(crate) fn program(&self) -> Result<&gov_vm::program::Program, String> {
        let compile = || {
            let input = gov_compile::Input { ir: self.ir, sources: self.sources, data: self.data };
            gov_compile::compile(&input).map_err(|e| e.to_string())
        };
        self.program.get_or_init(compile).as_ref().map_err(Clone::clone)
    }

    /// The package's engine, written as a bundle and loaded as `govc eval` makes it.
    fn engine(&self) -> Result<&gov_vm::Engine, String> {
        let load = || crate::engine::load(self.program()?).map_err(|e| e.to_string());
        self.base.get_or_init(load).as_ref().map_err(Clone::clone)
    }

    fn confirm(&self, allow: DecisionId, other: DecisionId, candidate: &Witness) -> Result<Confirmed, String> {
        let ir = self.ir;
        let witness = witness_json(ir, candidate);
        let (_, fired) = self.decide(&witness)?;
        let fired = |id: DecisionId| ir.decision(id).is_some_and(|d| fired.contains(&d.name));
        if fired(allow) && fired(other) {
            Ok(Confirmed { allow, other, witness })
        } else {
            Err("the engine did not fire both rules on the analysis's candidate".to_owned())
        }
    }

    /// Decides the witness's request on the real engine, with the package's data plus the
    /// witness's: the outcome and the names of the decision rules that fired, each once.
    pub(crate) fn decide(&self, witness: &gov_diag::Witness) -> Result<(gov_vm::Outcome, Vec<String>), String> {
        let engine = self.engine()?;
        if witness.data.as_object().is_none_or(Map::is_empty) {
            return decide(engine, None, witness);
        }
        let key = witness.data.to_string();
        let mut extra = self.extra.borrow_mut();
        if !extra.contains_key(&key) {
            let made = gov_vm::json::parse_document(&key).map_err(|e| e.to_string()).and_then(|document| {
                engine.more_data(&[("<witness data>".to_owned(), document)]).map_err(|e| e.to_string())
            });
            if extra.len() >= MAX_DATA {
                extra.clear();
            }
            extra.insert(key.clone(), made);
        }
        match extra.get(&key) {
            Some(made) => decide(engine, Some(made.as_ref().map_err(Clone::clone)?), witness),
            None => Err("the witness's data was not kept".to_owned()),
        }
    }
}

/// How many witnesses' data one runner keeps evaluated.
const MAX_DATA: usize = 64;

/// Decides the witness's request on `engine`, with `more` data when the witness has its
/// own: the outcome and the names of the decision rules that fired, each once.
fn decide(
    engine: &gov_vm::Engine,
    more: Option<&gov_vm::MoreData>,
    witness: &gov_diag::Witness,
) -> Result<(gov_vm::Outcome, Vec<String>), String> {
    let text = witness.input.to_string();
    let decision = match more {
        None => {
            let request = engine.request_from_json(&text).map_err(|e| e.to_string())?;
            engine.decide(&request)
        }
        Some(more) => {
            let request = engine.request_with(more, &text).map_err(|e| e.to_string())?;
            engine.decide_with(more, &request)
        }
    };
    let decision = decision.map_err(|e| e.to_string())?;
    let program = engine.program();
    let mut fired: Vec<String> = Vec::new();
    for firing in &decision.fired {
        if let Some(d) = program.decisions.get(firing.decision as usize) {
            let name = program.string(d.name).to_owned();
            if !fired.contains(&name) {
                fired.push(name);
            }
        }
    }
    Ok((decision.outcome, fired))
}

/// A candidate as the request and data documents `govc eval` reads.
pub(crate) fn witness_json(ir: &Ir, candidate: &Witness) -> gov_diag::Witness {
    gov_diag::Witness { input: facts_json(ir, &candidate.input), data: facts_json(ir, &candidate.data) }
}

/// Facts as a request or data document: `{"relation": [{"field": value, …}, …], …}`. A list
/// or object field's column holds an identifier: it is written as the JSON array of the
/// elements, or the JSON object, that its auxiliary relation's facts with that identifier
/// hold, which are not written apart (the reader numbers lists and objects itself).
fn facts_json(ir: &Ir, facts: &[Fact]) -> serde_json::Value {
    let auxiliary: Vec<gov_ir::RelationId> =
        ir.relations.iter().flat_map(|r| &r.columns).filter_map(|c| c.contents.map(|c| c.relation)).collect();
    let mut document = Map::new();
    for fact in facts.iter().filter(|f| !auxiliary.contains(&f.relation)) {
        let Some(relation) = ir.relation(fact.relation) else { continue };
        let object = row_json(ir, facts, &relation.columns, &fact.values);
        let rows = document.entry(relation.name.clone()).or_insert_with(|| json!([]));
        if let Some(rows) = rows.as_array_mut() {
            rows.push(serde_json::Value::Object(object));
        }
    }
    serde_json::Value::Object(document)
}

/// One fact's values as a JSON object, by field; `facts` holds the contents of its lists
/// and objects.
fn row_json(ir: &Ir, facts: &[Fact], columns: &[gov_ir::Column], values: &[Value]) -> Map<String, serde_json::Value> {
    let mut object = Map::new();
    for (column, value) in columns.iter().zip(values) {
        let Some(name) = &column.name else { continue };
        let written = match column.contents {
            None => value_json(value),
            Some(contents) => {
                let rows = facts.iter().filter(|f| f.relation == contents.relation && f.values.first() == Some(value));
                let inner = ir.relation(contents.relation).map(|r| r.columns.get(1..).unwrap_or_default());
                let inner = inner.unwrap_or_default();
                if contents.list {
                    rows.filter_map(|f| f.values.get(1)).map(value_json).collect()
                } else {
                    // Invariant: the search gives each object exactly one fact
                    // (`solve::one_fact_per_object`); the engine refuses a witness otherwise.
                    let members = rows.map(|f| f.values.get(1..).unwrap_or_default()).next().unwrap_or_default();
                    serde_json::Value::Object(row_json(ir, facts, inner, members))
                }
            }
        };
        object.insert(name.clone(), written);
    }
    object
}

/// A value as the request contract writes it: Decimal, Time and Duration as literal strings.
fn value_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Int(i) => json!(i),
        Value::Decimal(d) => json!(d.to_string()),
        Value::Str(s) => json!(s),
        Value::Bool(b) => json!(b),
        Value::Time(t) => json!(gov_value::format_time(*t)),
        Value::Duration(d) => json!(gov_value::format_duration(*d)),
    }
}

/// The analysis's diagnostics for package `id` of `workspace`, against its data files
/// `data_files`: none if the package has errors (it has no IR) or a data file cannot be
/// read (then `govc eval` could not reproduce a witness either; `govc build` reports it).
pub fn check(
    fs: &dyn FileSystem,
    workspace: &Workspace,
    id: PackageId,
    sources: &Sources,
    data_files: &[PathBuf],
) -> Vec<Diagnostic> {
    check_report(fs, workspace, id, sources, data_files).diagnostics
}

/// [`check`], with what the analysis could not decide (`govc check --analysis-report`).
pub fn check_report(
    fs: &dyn FileSystem,
    workspace: &Workspace,
    id: PackageId,
    sources: &Sources,
    data_files: &[PathBuf],
) -> Report {
    match (workspace.ir(id), crate::read_data(fs, data_files)) {
        (Some(Ok(ir)), Ok(data)) => report(&ir, sources, &data),
        _ => Report::default(),
    }
}

/// Something the analysis could not decide: a pair of rules or a rule, where it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecided {
    /// `file:line:col` of the rule (of the allow, for a pair).
    pub location: String,
    /// What: "`a` and `b` (conflict)", "`a` and `b` (override)", "`a`".
    pub what: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Undecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: undecided: {}: {}", self.location, self.what, self.reason)
    }
}

/// The analysis's diagnostics, and what it could not decide (which `govc check` does not
/// show unless asked: an unknown pair or rule is not a finding).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// What [`diagnostics`] returns.
    pub diagnostics: Vec<Diagnostic>,
    /// Each pair of an allow and a deny or escalate whose overlap is unknown, then each rule
    /// whose body the analysis cannot decide (an invariant neither proved nor broken is a
    /// W0707 diagnostic already).
    pub undecided: Vec<Undecided>,
}

/// The findings `govc check` reports: each confirmed conflict (W0701), each override
/// between rules that never overlap (W0702), and each dead or redundant rule or relation
/// (W0703–W0706), and each invariant broken on a request the engine decided (E0701) or
/// neither proved nor broken (W0707), and each invariant named twice (E0702).
pub fn diagnostics(ir: &Ir, sources: &Sources, data: &[(String, Document)]) -> Vec<Diagnostic> {
    report(ir, sources, data).diagnostics
}

/// [`diagnostics`], with what the analysis could not decide.
pub fn report(ir: &Ir, sources: &Sources, data: &[(String, Document)]) -> Report {
    let found = findings(ir, sources, data);
    let mut diagnostics: Vec<Diagnostic> = found.iter().filter_map(|f| diagnostic(ir, f)).collect();
    let analysed = gov_analysis::redundant::redundancies(ir);
    let rules = analysed.undecided.clone();
    let settled = redundant::settle(&Runner::new(ir, sources, data), analysed);
    diagnostics.extend(settled.iter().filter_map(|r| redundant::diagnostic(ir, r)));
    diagnostics.extend(invariant::findings(ir, sources, data).iter().filter_map(|c| invariant::diagnostic(ir, c)));
    diagnostics.extend(duplicate_invariants(ir));
    let location = |span: Option<gov_diag::Span>| span.map_or_else(|| "<unknown>".to_owned(), |s| sources.location(s));
    let name = |id: DecisionId| ir.decision(id).map_or("?", |d| d.name.as_str());
    let mut undecided = Vec::new();
    for finding in &found {
        if let Finding::Unknown(kind, allow, other, reason) = finding {
            let kind = if *kind == PairKind::Override { "override" } else { "conflict" };
            undecided.push(Undecided {
                location: location(ir.spans.decisions.get(allow.index()).copied()),
                what: format!("`{}` and `{}` ({kind})", name(*allow), name(*other)),
                reason: reason.clone(),
            });
        }
    }
    for rule in rules {
        let what = match ir.rule(rule.rule).map(|r| &r.head) {
            Some(gov_ir::Head::Decide(d)) => format!("`{}`", name(*d)),
            Some(gov_ir::Head::Derive { relation, .. }) => {
                format!("a rule of `{}`", ir.relation(*relation).map_or("?", |r| r.name.as_str()))
            }
            None => continue,
        };
        let span = ir.spans.rules.get(rule.rule.index()).copied();
        undecided.push(Undecided { location: location(span), what, reason: rule.reason });
    }
    Report { diagnostics, undecided }
}

/// E0702 for each invariant named like an earlier one: reports and the editor name an
/// invariant by its name, so two with one name cannot be told apart.
fn duplicate_invariants(ir: &Ir) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (index, invariant) in ir.invariants.iter().enumerate() {
        let Some(first) = ir.invariants.iter().position(|i| i.name == invariant.name).filter(|f| *f < index) else {
            continue;
        };
        let (Some(span), Some(first_span)) = (ir.spans.invariants.get(index), ir.spans.invariants.get(first)) else {
            continue;
        };
        out.push(
            Diagnostic::new(
                codes::DUPLICATE_INVARIANT,
                format!("two invariants are named `{}`", invariant.name),
                *span,
            )
            .with_label(*first_span, "first invariant with this name")
            .with_primary_label("second invariant with this name")
            .with_help("checks and the editor report an invariant by its name: give each invariant its own name"),
        );
    }
    out
}

/// The dead and redundant rules and relations the analysis proves, each shadowed or
/// subsumed rule with the engine's run of its example (`data`: the package's data documents).
pub fn redundancies(ir: &Ir, sources: &Sources, data: &[(String, Document)]) -> Vec<redundant::Settled> {
    redundant::settle(&Runner::new(ir, sources, data), gov_analysis::redundant::redundancies(ir))
}

/// The witness in a line: the request, and the data facts it needs if any.
fn example(witness: &gov_diag::Witness) -> String {
    let no_data = witness.data.as_object().is_none_or(Map::is_empty);
    if no_data {
        format!("for example, the request {}", witness.input)
    } else {
        format!("for example, the request {} with the data {} added to the package's", witness.input, witness.data)
    }
}

fn diagnostic(ir: &Ir, finding: &Finding) -> Option<Diagnostic> {
    let name = |id: DecisionId| ir.decision(id).map_or("?", |d| d.name.as_str());
    let span = |id: DecisionId| ir.spans.decisions.get(id.index()).copied();
    let effect = |id: DecisionId| ir.decision(id).map_or("deny", |d| d.effect.keyword());
    match finding {
        Finding::Overlap(PairKind::Conflict, confirmed) => {
            let (allow, other) = (confirmed.allow, confirmed.other);
            let witness = &confirmed.witness;
            let mut diagnostic = Diagnostic::new(
                codes::CONFLICT,
                format!("`{}` and `{}` both fire on one request", name(allow), name(other)),
                span(allow)?,
            )
            .with_primary_label("this allow fires")
            .with_label(span(other)?, format!("and this {} fires too", effect(other)))
            .with_help(format!(
                "if `{}` is meant to win there, write `@overrides({})` on it; otherwise narrow one of the rules",
                name(other),
                name(allow)
            ))
            .with_note(example(witness))
            .with_witness(witness.clone());
            let rule = ir.decision(other).map(|d| d.rule)?;
            if let Some(item) = ir.spans.rules.get(rule.index()) {
                let at = gov_diag::Span { file: item.file, start: item.start, end: item.start };
                diagnostic = diagnostic.with_fix(Fix::replace(
                    format!("Add `@overrides({})` to `{}`", name(allow), name(other)),
                    Applicability::NeedsReview,
                    at,
                    format!("@overrides({})\n", name(allow)),
                ));
            }
            Some(diagnostic)
        }
        Finding::Disjoint(PairKind::Override, allow, other) => Some(
            Diagnostic::new(
                codes::STALE_OVERRIDE,
                format!("`{}` overrides `{}`, but the two never fire on one request", name(*other), name(*allow)),
                span(*other)?,
            )
            .with_primary_label(format!("this {} names `{}` in `@overrides`", effect(*other), name(*allow)))
            .with_label(span(*allow)?, "this allow never fires with it")
            .with_help(format!("remove `{}` from the `@overrides` of `{}`", name(*allow), name(*other))),
        ),
        _ => None,
    }
}
