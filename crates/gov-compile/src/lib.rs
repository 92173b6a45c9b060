//! The Gov compiler: a checked package's [`Ir`] to an engine [`Program`].
//!
//! It reads only the IR (plus the data files, and the sources for locations): relations,
//! columns and variables by id, typed, and the strata the checker computed once.
//!
//! 1. Relations and decision rules form a dependency graph; its strongly connected
//!    components, in topological order, are the strata (`Ir::strata`).
//! 2. A stratum is *static* if nothing in it depends on an input relation or a decision:
//!    the engine computes it once at load. Everything else runs per request.
//! 3. Each rule is planned into register code ([`plan`]); a recursive rule also gets one
//!    semi-naive variant per body atom of its own stratum, reading that atom's delta.
//! 4. Each rule run per request outside recursion that tests literals on an input
//!    relation gets a key ([`dispatch`]): the engine runs it only for requests with a
//!    fact that holds them.
//! 5. Data files become the bundle's data facts, through the engine's own JSON reader.
//!
//! The result is written as a bundle by [`gov_vm::bundle::write`].

mod dispatch;
mod plan;
mod pool;
#[cfg(test)]
mod tests;

use gov_diag::{Sources, Span};
use gov_ir::{DecisionRule, Head as IrHead, Ir, Node};
use gov_value::RelationKind;
use gov_value::limits::MAX_RULE_LENGTH;
use gov_vm::program::{
    Approver, ColumnSchema, DecisionMeta, Instr, MessagePart, Meta, Phase, Program, RelationSchema, RuleCode, RuleKey,
    SourceRef, Stratum,
};
use plan::{Head, Lead, Planner};
use pool::Pool;
use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};

/// What to compile.
pub struct Input<'a> {
    /// The checked package, resolved (`gov_check::lower`, memoised by `gov_db::package_ir`).
    pub ir: &'a Ir,
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
    /// A rule the planner could not fit in the engine's bounds (registers, columns, the
    /// checker's instruction bound): a checker guarantee the IR's types do not state,
    /// broken.
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
    let ir = input.ir;
    let graph = &ir.graph;
    let rule_span = |rule: usize| ir.spans.rules.get(rule).copied().unwrap_or_default();
    let internal =
        |rule: usize, message: String| CompileError::Internal { at: input.sources.location(rule_span(rule)), message };
    let mut pool = Pool::default();

    // Relations.
    let mut relations = Vec::with_capacity(ir.relations.len());
    for relation in &ir.relations {
        let columns = relation
            .columns
            .iter()
            .map(|column| ColumnSchema {
                name: column.name.as_deref().map(|n| pool.intern(n)),
                ty: column.ty,
                type_name: pool.intern(&column.type_name),
                contents: column.contents.map(|c| gov_vm::program::Contents {
                    relation: u32::try_from(c.relation.index()).unwrap_or(u32::MAX),
                    list: c.list,
                }),
            })
            .collect();
        relations.push(RelationSchema {
            name: pool.intern(&relation.name),
            kind: relation.kind,
            one: relation.one,
            phase: Phase::Static,
            columns,
            indexes: Vec::new(),
        });
    }
    let decisions: Vec<DecisionMeta> = ir
        .decisions
        .iter()
        .map(|decision| decision_meta(input, &mut pool, decision, rule_span(decision.rule.index())))
        .collect();

    // A library module's rules are compiled only if some decision depends on what they
    // derive: `use std.approvals` must not make every request compute all of std.agents.
    // (The package's own rules are always compiled, so everything it defines can be
    // inspected and explained; unused ones are already W0101.)
    let mut needed = vec![false; graph.len()];
    let mut pending: Vec<usize> = (graph.relations..graph.len()).collect();
    while let Some(node) = pending.pop() {
        if std::mem::replace(needed.get_mut(node).unwrap_or(&mut true), true) {
            continue;
        }
        pending.extend(graph.reads.get(node).into_iter().flatten().copied());
    }
    let compiled = |rule: &gov_ir::Rule| match &rule.head {
        IrHead::Derive { relation, .. } => {
            !ir.relation(*relation).is_some_and(|r| r.library) || needed.get(relation.index()).copied().unwrap_or(true)
        }
        IrHead::Decide(_) => true,
    };

    // Phases: what an input relation, `risk_score` or a decision reaches runs per request.
    // (`risk_score` is computed per request even when no `risk` rule feeds it: it is 0.)
    let mut request = vec![false; graph.len()];
    let mut queue: VecDeque<usize> = ir
        .relations
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.kind, RelationKind::Input | RelationKind::Builtin))
        .map(|(i, _)| i)
        .chain(graph.relations..graph.len())
        .collect();
    while let Some(node) = queue.pop_front() {
        if std::mem::replace(request.get_mut(node).unwrap_or(&mut true), true) {
            continue;
        }
        queue.extend(graph.readers.get(node).into_iter().flatten().copied());
    }
    for (schema, is_request) in relations.iter_mut().zip(&request) {
        schema.phase = if *is_request { Phase::Request } else { Phase::Static };
    }

    // Strata.
    let risk_score = ir.relations.iter().position(|r| r.kind == RelationKind::Builtin);
    let mut indexes: plan::Indexes = vec![Vec::new(); relations.len()];
    let mut rules: Vec<RuleCode> = Vec::new();
    let mut strata: Vec<Stratum> = Vec::new();
    let mut keys: Vec<RuleKey> = Vec::new();
    // The rules producing each node, in source order.
    let mut rules_of: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (i, rule) in ir.rules.iter().enumerate() {
        let node = match &rule.head {
            IrHead::Derive { relation, .. } => Node::Relation(*relation),
            IrHead::Decide(decision) => Node::Decision(*decision),
        };
        if let Some(list) = rules_of.get_mut(graph.index(node)) {
            list.push(i);
        }
    }
    for stratum in &ir.strata {
        let members: HashSet<usize> = stratum.members.iter().copied().collect();
        // Invariant: a component's rules run in source order, whatever the order of its nodes.
        let mut member_rules: Vec<usize> =
            stratum.members.iter().flat_map(|&n| rules_of.get(n).into_iter().flatten().copied()).collect();
        member_rules.sort_unstable();
        if let Some(risk) = risk_score.filter(|r| members.contains(r)) {
            strata.push(Stratum::RiskScore { rel: gov_ir::dense(risk) });
            continue;
        }
        let phase = if stratum.members.iter().any(|m| request.get(*m).copied().unwrap_or(true)) {
            Phase::Request
        } else {
            Phase::Static
        };
        let mut full = Vec::new();
        let mut delta = Vec::new();
        for (index, rule) in
            member_rules.iter().filter_map(|&i| Some((i, ir.rules.get(i)?))).filter(|(_, r)| compiled(r))
        {
            let source = location(input.sources, &mut pool, rule_span(index));
            // One semi-naive variant per positive atom of the rule's own stratum. A rule with
            // one has no variant for the first round: the stratum's relations are derived
            // only by its rules, so they are empty until that round's rows are stored, and the
            // rule could derive nothing then (planning it would only add indexes that every
            // new row of the stratum pays for and no round reads). Unless its plan can raise
            // an error before it reads the stratum: derive nothing or not, the first round
            // must raise what the rule evaluated whole would (an aggregate that overflows
            // while the atoms wait for a generator, docs/reference.md "Arithmetic errors and
            // the order of conditions"). That variant is planned last, so its constants are
            // already pooled, and dropped with the indexes it added when it cannot.
            let mut variants: Vec<Option<usize>> = Vec::new();
            if stratum.recursive {
                variants.extend(rule.body.iter().enumerate().filter_map(|(at, literal)| match literal {
                    gov_ir::Literal::Atom(atom) if members.contains(&atom.relation.index()) => Some(Some(at)),
                    _ => None,
                }));
            }
            let first_round_may_fail = !variants.is_empty() && rule.body.iter().any(plan::fallible_item);
            if variants.is_empty() || first_round_may_fail {
                variants.push(None);
            }
            // The checker refuses a rule over the limit (E0601) with this same bound, and
            // the planner never emits more than it: every compiled rule fits the engine.
            let bound = rule.max_instructions;
            if bound > MAX_RULE_LENGTH {
                return Err(internal(
                    index,
                    format!("the rule compiles to up to {bound} instructions, more than {MAX_RULE_LENGTH}"),
                ));
            }
            for variant in variants {
                let kept_indexes = (first_round_may_fail && variant.is_none()).then(|| indexes.clone());
                let mut planner = Planner { ir, pool: &mut pool, indexes: &mut indexes };
                let head = match &rule.head {
                    IrHead::Derive { relation, args } => Head::Emit(relation.0, args),
                    IrHead::Decide(id) => {
                        let decision = ir.decision(*id);
                        let lead =
                            match (decision.and_then(|d| d.points.as_ref()), decision.and_then(|d| d.approver_var())) {
                                (Some(points), _) => Lead::Points(points),
                                (None, Some(var)) => Lead::Approver(var),
                                (None, None) => Lead::Nothing,
                            };
                        let vars = decision.map(|d| d.message_vars().collect()).unwrap_or_default();
                        Head::Fire(id.0, lead, vars)
                    }
                };
                let planned = planner.rule(rule, head, variant).map_err(|m| internal(index, m))?;
                if let Some(kept) = kept_indexes
                    && !raises_before_reading(&planned.code, &members)
                {
                    indexes = kept;
                    continue;
                }
                if planned.code.len() > bound {
                    return Err(internal(
                        index,
                        format!("the rule compiled to {} instructions, over its bound of {bound}", planned.code.len()),
                    ));
                }
                let id = gov_ir::dense(rules.len());
                rules.push(RuleCode { registers: planned.registers, code: planned.code, source });
                if phase == Phase::Request && !stratum.recursive {
                    // An error the plan can raise before it scans the key's relation is
                    // raised whatever the request holds: such a rule runs for every request.
                    keys.extend(
                        dispatch::key(ir, planner.pool, &relations, rule, id)
                            .filter(|key| !rules.last().is_some_and(|r| fails_before_scanning(&r.code, key.rel))),
                    );
                }
                if variant.is_none() { full.push(id) } else { delta.push(id) }
            }
        }
        // Invariant: a recursive stratum keeps its delta rules even when no rule of the
        // first round derives anything (they then never run), so every compiled rule is in
        // a stratum.
        if !full.is_empty() || !delta.is_empty() {
            strata.push(Stratum::Rules { phase, rules: full, delta_rules: delta });
        }
    }
    for (schema, list) in relations.iter_mut().zip(indexes) {
        schema.indexes = list;
    }

    let data = data_facts(input, &relations, &mut pool)?;
    let meta = Meta {
        package: ir.package.clone(),
        compiler: format!("govc {}", env!("CARGO_PKG_VERSION")),
        source_hash: source_hash(input),
        files: ir.files.iter().map(|f| input.sources.name(*f).to_owned()).collect(),
    };
    Ok(Program {
        strings: pool.strings.into_table(),
        constants: pool.constants,
        relations,
        decisions,
        rules,
        strata,
        dispatch: keys,
        data,
        default_allow: ir.default_allow,
        meta,
    })
}

/// A decision rule's metadata; `span` is the whole rule.
fn decision_meta(input: &Input<'_>, pool: &mut Pool, decision: &DecisionRule, span: Span) -> DecisionMeta {
    let mut message = Vec::new();
    let mut next = 0u16;
    for part in &decision.message {
        match part {
            gov_ir::MessagePart::Text(text) => message.push(MessagePart::Text(pool.intern(text))),
            gov_ir::MessagePart::Var(_) => {
                message.push(MessagePart::Value(next));
                next = next.saturating_add(1);
            }
        }
    }
    DecisionMeta {
        name: pool.intern(&decision.name),
        effect: decision.effect,
        approver: decision.approver.as_ref().map(|approver| match approver {
            gov_ir::Approver::Group(group) => Approver::Group(pool.intern(group)),
            gov_ir::Approver::Var(_) => Approver::Value,
        }),
        message,
        overrides: decision.overrides.iter().map(|d| d.0).collect(),
        source: location(input.sources, pool, span),
    }
}

fn data_facts(
    input: &Input<'_>,
    relations: &[RelationSchema],
    pool: &mut Pool,
) -> Result<Vec<(u32, Vec<gov_vm::Value>)>, CompileError> {
    let schema =
        Program { strings: pool.strings.table().to_vec(), relations: relations.to_vec(), ..Program::default() };
    let mut facts = Vec::new();
    // One sequence of list and object identifiers over every file.
    let mut ids = gov_vm::json::Ids::default();
    for (file, document) in input.data {
        facts.extend(
            gov_vm::json::facts(&schema, document, RelationKind::Data, &mut |s| pool.intern(s), &mut ids)
                .map_err(|error| CompileError::Data { file: file.clone(), error })?,
        );
    }
    // `json::facts` reads only relations of `relations`, each fact as wide as its relation.
    gov_vm::program::data_groups(relations, facts)
        .map_err(|error| CompileError::Internal { at: "data".to_owned(), message: error.to_string() })
}

fn source_hash(input: &Input<'_>) -> String {
    let mut hasher = Sha256::new();
    for file in &input.ir.files {
        if let Some(source) = input.sources.get(*file) {
            hasher.update(source.name.as_bytes());
            hasher.update([0]);
            hasher.update(source.text.as_bytes());
            hasher.update([0]);
        }
    }
    format!("sha256:{}", hasher.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Whether `code` can raise an evaluation error before it reads a relation of `members`
/// (its stratum): a first-round variant that cannot derives and raises nothing.
fn raises_before_reading(code: &[Instr], members: &HashSet<usize>) -> bool {
    let reads = |instr: &Instr| matches!(instr, Instr::Scan { rel, .. } | Instr::Absent { rel, .. } if members.contains(&(*rel as usize)));
    gov_vm::program::top_level(code)
        .find_map(|(instr, failed)| if reads(instr) { Some(false) } else { failed.then_some(true) })
        .unwrap_or(false)
}

/// Whether a scan of `rel` in `code` (outside any aggregate's sub-plan) comes after an
/// instruction that can fail.
fn fails_before_scanning(code: &[Instr], rel: u32) -> bool {
    gov_vm::program::top_level(code)
        .any(|(instr, failed)| failed && matches!(instr, Instr::Scan { rel: scanned, .. } if *scanned == rel))
}
