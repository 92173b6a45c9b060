//! The Gov compiler: a checked package to an engine [`Program`].
//!
//! 1. Relations and decision rules form a dependency graph; its strongly connected
//!    components, in topological order, are the strata ([`order`]).
//! 2. A stratum is *static* if nothing in it depends on an input relation or a decision:
//!    the engine computes it once at load. Everything else runs per request.
//! 3. Each rule is planned into register code ([`plan`]); a recursive rule also gets one
//!    semi-naive variant per body atom of its own stratum, reading that atom's delta.
//! 4. Data files become the bundle's data facts, through the engine's own JSON reader.
//!
//! The result is written as a bundle by [`gov_vm::bundle::write`].

mod order;
mod plan;
mod pool;
#[cfg(test)]
mod tests;

use gov_check::{RelationKind as CheckKind, Symbols};
use gov_diag::{Sources, Span};
use gov_syntax::ast::{BodyItem, Decision, Effect as AstEffect, Expr, Item, ItemKind, MessagePart as AstPart, Rule};
use gov_value::limits::MAX_RULE_LENGTH;
use gov_vm::program::{
    ColumnSchema, DecisionMeta, Effect, MessagePart, Meta, Phase, Program, RelationKind, RelationSchema, RuleCode,
    SourceRef, Stratum,
};
use petgraph::graph::{DiGraph, NodeIndex};
use plan::{Head, Planner};
use pool::Pool;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet, VecDeque};

/// What to compile.
pub struct Input<'a> {
    /// The package's files and the library modules it uses.
    pub program: &'a gov_check::Program,
    /// The checker's symbols for it (the package must have checked without errors).
    pub symbols: &'a Symbols,
    /// The files' texts, for source locations.
    pub sources: &'a Sources,
    /// Data files: (name shown in errors, the document [`gov_vm::json::parse_document`] read).
    pub data: &'a [(String, gov_vm::json::Document)],
}

/// Why compilation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// A data file does not match the declared data relations.
    Data {
        /// The file.
        file: String,
        /// The JSON path and problem.
        error: gov_vm::RequestError,
    },
    /// The checker left something the compiler cannot handle.
    Internal {
        /// Where.
        at: String,
        /// What.
        message: String,
    },
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::Data { file, error } => write!(f, "{file}: {error}"),
            CompileError::Internal { at, message } => write!(f, "{at}: cannot compile: {message}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// A rule or decision rule, and where it is.
enum Source<'a> {
    Rule { head: usize, rule: &'a Rule },
    Decision { id: u32, decision: &'a Decision },
}

struct Unit<'a> {
    source: Source<'a>,
    span: Span,
}

impl Unit<'_> {
    fn body(&self) -> &[BodyItem] {
        match &self.source {
            Source::Rule { rule, .. } => &rule.body,
            Source::Decision { decision, .. } => &decision.body,
        }
    }
}

/// Relations an item reads, with whether each is a top-level positive atom (the atoms a
/// semi-naive variant may read from the delta), by atom span start.
fn body_atoms(body: &[BodyItem], top: bool, out: &mut Vec<(String, bool, u32)>) {
    for item in body {
        match item {
            BodyItem::Atom(a) => out.push((a.relation.text.clone(), top, a.span.start)),
            BodyItem::Not(a, _) => out.push((a.relation.text.clone(), false, a.span.start)),
            BodyItem::Compare(c) => {
                for side in [&c.left, &c.right] {
                    if let Expr::Aggregate(agg) = side {
                        body_atoms(&agg.body, false, out);
                    }
                }
            }
        }
    }
}

fn location(sources: &Sources, pool: &mut Pool, span: Span) -> SourceRef {
    match sources.get(span.file) {
        Some(file) => {
            let at = file.lines.line_col(&file.text, span.start);
            SourceRef { file: pool.intern(&file.name), line: at.line, column: at.col }
        }
        None => SourceRef::default(),
    }
}

/// Compiles a checked package.
pub fn compile(input: &Input<'_>) -> Result<Program, CompileError> {
    let symbols = input.symbols;
    let internal = |span: Span, message: String| CompileError::Internal { at: input.sources.location(span), message };
    let mut pool = Pool::default();

    // Relations.
    let mut relations = Vec::with_capacity(symbols.relations.len());
    for info in &symbols.relations {
        let kind = match info.kind {
            CheckKind::Input => RelationKind::Input,
            CheckKind::Data => RelationKind::Data,
            CheckKind::Derived => RelationKind::Derived,
            CheckKind::Builtin => RelationKind::RiskScore,
        };
        let mut columns = Vec::with_capacity(info.fields.len());
        for (i, field) in info.fields.iter().enumerate() {
            let Some(ty) = field.ty else {
                return Err(internal(
                    info.span.unwrap_or_default(),
                    format!("the type of column {} of `{}` is unknown", i + 1, info.name),
                ));
            };
            let base = symbols.base_of(ty).ok_or_else(|| {
                internal(info.span.unwrap_or_default(), format!("unresolved type in `{}`", info.name))
            })?;
            columns.push(ColumnSchema {
                name: field.name.as_deref().map(|n| pool.intern(n)),
                ty: base,
                type_name: pool.intern(&symbols.type_name(ty)),
            });
        }
        relations.push(RelationSchema {
            name: pool.intern(&info.name),
            kind,
            one: info.one,
            phase: Phase::Static,
            columns,
            indexes: Vec::new(),
        });
    }

    // Rules and decisions, in source order.
    let mut units: Vec<Unit<'_>> = Vec::new();
    let mut decisions: Vec<DecisionMeta> = Vec::new();
    for item in input.program.files.iter().flat_map(|f| f.parsed.file.items.iter()) {
        match &item.kind {
            ItemKind::Rule(rule) => {
                let head = symbols
                    .relation_id(&rule.head.relation.text)
                    .ok_or_else(|| internal(item.span, "unknown head relation".to_owned()))?;
                units.push(Unit { source: Source::Rule { head, rule }, span: item.span });
            }
            ItemKind::Decision(decision) => {
                let id = u32::try_from(decisions.len())
                    .map_err(|_| internal(item.span, "too many decision rules".to_owned()))?;
                decisions.push(decision_meta(input, &mut pool, item, decision)?);
                units.push(Unit { source: Source::Decision { id, decision }, span: item.span });
            }
            _ => {}
        }
    }
    resolve_overrides(input, &mut decisions, &pool)?;

    // The dependency graph: relations, then decisions.
    let relation_count = relations.len();
    let node_of = |unit: &Unit<'_>| match unit.source {
        Source::Rule { head, .. } => head,
        Source::Decision { id, .. } => relation_count + id as usize,
    };
    let risk_score = symbols.relation_id(gov_check::symbols::RISK_SCORE);
    let mut graph: DiGraph<(), bool> = DiGraph::new();
    for _ in 0..relation_count + decisions.len() {
        graph.add_node(());
    }
    let mut self_loops: HashSet<usize> = HashSet::new();
    for unit in &units {
        let to = node_of(unit);
        let mut atoms = Vec::new();
        body_atoms(unit.body(), true, &mut atoms);
        for (name, _, _) in atoms {
            if let Some(from) = symbols.relation_id(&name) {
                graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), true);
                if from == to {
                    self_loops.insert(to);
                }
            }
        }
        if let (Source::Decision { decision, .. }, Some(risk)) = (&unit.source, risk_score)
            && decision.effect == AstEffect::Risk
        {
            graph.add_edge(NodeIndex::new(to), NodeIndex::new(risk), true);
        }
    }

    // A library module's rules are compiled only if some decision depends on what they
    // derive: `use std.approvals` must not make every request compute all of std.agents.
    // (The package's own rules are always compiled, so everything it defines can be
    // inspected and explained; unused ones are already W0101.)
    let mut needed = vec![false; graph.node_count()];
    let mut pending: Vec<usize> = (relation_count..graph.node_count()).collect();
    while let Some(node) = pending.pop() {
        if std::mem::replace(needed.get_mut(node).unwrap_or(&mut true), true) {
            continue;
        }
        pending
            .extend(graph.neighbors_directed(NodeIndex::new(node), petgraph::Direction::Incoming).map(|n| n.index()));
    }
    let library_relation = |relation: usize| {
        symbols.relations.get(relation).and_then(|r| r.span).is_some_and(|span| input.program.is_library(span.file))
    };
    let compiled = |unit: &Unit<'_>| match unit.source {
        Source::Rule { head, .. } => !library_relation(head) || needed.get(head).copied().unwrap_or(true),
        Source::Decision { .. } => true,
    };

    // Phases: what an input relation, `risk_score` or a decision reaches runs per request.
    // (`risk_score` is computed per request even when no `risk` rule feeds it: it is 0.)
    let mut request = vec![false; graph.node_count()];
    let mut queue: VecDeque<usize> = relations
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.kind, RelationKind::Input | RelationKind::RiskScore))
        .map(|(i, _)| i)
        .chain(relation_count..graph.node_count())
        .collect();
    while let Some(node) = queue.pop_front() {
        if std::mem::replace(request.get_mut(node).unwrap_or(&mut true), true) {
            continue;
        }
        queue.extend(graph.neighbors(NodeIndex::new(node)).map(|n| n.index()));
    }
    for (schema, is_request) in relations.iter_mut().zip(&request) {
        schema.phase = if *is_request { Phase::Request } else { Phase::Static };
    }

    // Strata.
    let mut indexes: plan::Indexes = vec![Vec::new(); relation_count];
    let mut rules: Vec<RuleCode> = Vec::new();
    let mut strata: Vec<Stratum> = Vec::new();
    // The units deriving each node, in source order.
    let mut units_of: Vec<Vec<usize>> = vec![Vec::new(); graph.node_count()];
    for (i, unit) in units.iter().enumerate() {
        if let Some(list) = units_of.get_mut(node_of(unit)) {
            list.push(i);
        }
    }
    for component in order::components(&graph) {
        let members: HashSet<usize> = component.iter().map(|n| n.index()).collect();
        // Invariant: a component's units run in source order, whatever the order of its nodes.
        let mut member_units: Vec<usize> =
            component.iter().flat_map(|n| units_of.get(n.index()).into_iter().flatten().copied()).collect();
        member_units.sort_unstable();
        if let Some(risk) = risk_score.filter(|r| members.contains(r)) {
            strata.push(Stratum::RiskScore { rel: u32::try_from(risk).unwrap_or(u32::MAX) });
            continue;
        }
        let recursive = members.len() > 1 || members.iter().any(|m| self_loops.contains(m));
        let phase = if members.iter().any(|m| request.get(*m).copied().unwrap_or(true)) {
            Phase::Request
        } else {
            Phase::Static
        };
        let mut full = Vec::new();
        let mut delta = Vec::new();
        for unit in member_units.iter().filter_map(|&i| units.get(i)).filter(|u| compiled(u)) {
            let mut planner = Planner { symbols, pool: &mut pool, indexes: &mut indexes };
            let source = location(input.sources, planner.pool, unit.span);
            let mut variants = vec![None];
            if recursive {
                let mut atoms = Vec::new();
                body_atoms(unit.body(), true, &mut atoms);
                variants.extend(
                    atoms
                        .into_iter()
                        .filter(|(name, top, _)| {
                            *top && symbols.relation_id(name).is_some_and(|r| members.contains(&r))
                        })
                        .map(|(_, _, at)| Some(at)),
                );
            }
            // The checker refuses a rule over the limit (E0601) with this same bound, and
            // the planner never emits more than it: every compiled rule fits the engine.
            let head_values: Vec<&Expr> = match &unit.source {
                Source::Rule { rule, .. } => rule.head.args.iter().map(|a| &a.value).collect(),
                Source::Decision { decision, .. } => decision.points.iter().collect(),
            };
            let bound = gov_check::limits::instruction_bound(unit.body(), head_values);
            if bound > MAX_RULE_LENGTH {
                return Err(internal(
                    unit.span,
                    format!("the rule compiles to up to {bound} instructions, more than {MAX_RULE_LENGTH}"),
                ));
            }
            for (n, variant) in variants.into_iter().enumerate() {
                let head = match &unit.source {
                    Source::Rule { head, rule } => {
                        Head::Emit(u32::try_from(*head).unwrap_or(u32::MAX), &rule.head.args)
                    }
                    Source::Decision { id, decision, .. } => {
                        let (points, vars) = fire_values(decision);
                        Head::Fire(*id, points, vars)
                    }
                };
                let planned = planner.rule(unit.body(), head, variant).map_err(|m| internal(unit.span, m))?;
                if planned.code.len() > bound {
                    return Err(internal(
                        unit.span,
                        format!("the rule compiled to {} instructions, over its bound of {bound}", planned.code.len()),
                    ));
                }
                let id = u32::try_from(rules.len()).unwrap_or(u32::MAX);
                rules.push(RuleCode { registers: planned.registers, code: planned.code, source });
                if n == 0 { full.push(id) } else { delta.push(id) }
            }
        }
        if !full.is_empty() {
            strata.push(Stratum::Rules { phase, rules: full, delta_rules: delta });
        }
    }
    for (schema, list) in relations.iter_mut().zip(indexes) {
        schema.indexes = list;
    }

    let data = data_facts(input, &relations, &mut pool)?;
    let meta = Meta {
        package: symbols.package.clone().unwrap_or_default(),
        compiler: format!("govc {}", env!("CARGO_PKG_VERSION")),
        source_hash: source_hash(input),
        files: input.program.package_files().map(|f| input.sources.name(f.id).to_owned()).collect(),
    };
    let default_allow = symbols.default == Some(gov_syntax::ast::DefaultDecision::Allow);
    Ok(Program {
        strings: pool.strings,
        constants: pool.constants,
        relations,
        decisions,
        rules,
        strata,
        data,
        default_allow,
        meta,
    })
}

/// A decision's firing values: the risk points, then each `{var}` of the message.
fn fire_values(decision: &Decision) -> (Option<&Expr>, Vec<&gov_syntax::ast::Name>) {
    let vars = decision
        .message
        .iter()
        .flat_map(|m| m.parts.iter())
        .filter_map(|p| match p {
            AstPart::Var(name) => Some(name),
            AstPart::Text(_) => None,
        })
        .collect();
    (decision.points.as_ref(), vars)
}

fn decision_meta(
    input: &Input<'_>,
    pool: &mut Pool,
    item: &Item,
    decision: &Decision,
) -> Result<DecisionMeta, CompileError> {
    let effect = match decision.effect {
        AstEffect::Deny => Effect::Deny,
        AstEffect::Escalate => Effect::Escalate,
        AstEffect::Allow => Effect::Allow,
        AstEffect::Obligation => Effect::Obligation,
        AstEffect::Risk => Effect::Risk,
    };
    let mut message = Vec::new();
    let mut next = 0u16;
    for part in decision.message.iter().flat_map(|m| m.parts.iter()) {
        match part {
            AstPart::Text(text) => message.push(MessagePart::Text(pool.intern(text))),
            AstPart::Var(_) => {
                message.push(MessagePart::Value(next));
                next = next.saturating_add(1);
            }
        }
    }
    Ok(DecisionMeta {
        name: pool.intern(&decision.name.text),
        effect,
        approver: decision.approver.as_ref().map(|a| pool.intern(&a.value)),
        message,
        overrides: Vec::new(),
        source: location(input.sources, pool, item.span),
    })
}

fn resolve_overrides(input: &Input<'_>, decisions: &mut [DecisionMeta], pool: &Pool) -> Result<(), CompileError> {
    // The first decision of each name (names are unique once the package checks).
    let mut ids: HashMap<&str, u32> = HashMap::new();
    for (i, d) in decisions.iter().enumerate() {
        if let (Some(name), Ok(id)) = (pool.strings.get(d.name as usize), u32::try_from(i)) {
            ids.entry(name.as_str()).or_insert(id);
        }
    }
    let id_of = |name: &str| ids.get(name).copied();
    let mut resolved: Vec<Vec<u32>> = Vec::new();
    for item in input.program.files.iter().flat_map(|f| f.parsed.file.items.iter()) {
        if let ItemKind::Decision(_) = item.kind {
            resolved.push(
                item.annotations
                    .iter()
                    .filter(|a| a.name.text == "overrides")
                    .flat_map(|a| a.args.iter())
                    .filter_map(|n| id_of(&n.text))
                    .collect(),
            );
        }
    }
    for (meta, overrides) in decisions.iter_mut().zip(resolved) {
        meta.overrides = overrides;
    }
    Ok(())
}

fn data_facts(
    input: &Input<'_>,
    relations: &[RelationSchema],
    pool: &mut Pool,
) -> Result<Vec<(u32, Vec<gov_vm::Value>)>, CompileError> {
    let schema = Program { strings: pool.strings.clone(), relations: relations.to_vec(), ..Program::default() };
    let mut grouped: Vec<(u32, Vec<gov_vm::Value>)> = Vec::new();
    // Where each relation's entry is in `grouped`.
    let mut slot: HashMap<u32, usize> = HashMap::new();
    for (file, document) in input.data {
        let facts = gov_vm::json::facts(&schema, document, RelationKind::Data, &mut |s| pool.intern(s))
            .map_err(|error| CompileError::Data { file: file.clone(), error })?;
        for (rel, values) in facts {
            match slot.get(&rel).and_then(|&i| grouped.get_mut(i)) {
                Some((_, all)) => all.extend(values),
                None => {
                    slot.insert(rel, grouped.len());
                    grouped.push((rel, values));
                }
            }
        }
    }
    Ok(grouped)
}

fn source_hash(input: &Input<'_>) -> String {
    let mut hasher = Sha256::new();
    for file in input.program.package_files() {
        if let Some(source) = input.sources.get(file.id) {
            hasher.update(source.name.as_bytes());
            hasher.update([0]);
            hasher.update(source.text.as_bytes());
            hasher.update([0]);
        }
    }
    format!("sha256:{}", hasher.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>())
}
