//! Lowering: a package that checked without errors, to the [`Ir`].
//!
//! Everything here was resolved by the earlier passes; lowering turns names into ids (the
//! relation an atom names and the column each argument fills, the variables of each rule,
//! the decision rules `@overrides` names), the checker's inferred types into each
//! variable's base type, and builds the dependency graph and its strata once.
//!
//! It runs only when a back end asks (`gov_db::package_ir`), never as part of [`crate::check`]:
//! the checker has already reported everything lowering could trip on, so a case it rules
//! out is still an error here ([`LowerError::Missed`], with the diagnostic the checker
//! should have given), never a guess or a panic.

use crate::limits::instruction_bound;
use crate::order::components;
use crate::symbols::{RISK_SCORE, Symbols};
use crate::{Checked, ParsedPackage};
use gov_diag::{Code, Diagnostic, Span, codes};
use gov_ir::{
    Aggregate, Approver, Arg, Arith, Atom, Builtin, Call, Column, Const, DecisionId, DecisionRule, Expr, Graph, Head,
    Invariant, Ir, Literal, MessagePart, Relation, RelationId, Rule, RuleId, Stratum, Var, VarId,
};
use gov_syntax::ast::{self, BodyItem, ItemKind, LitValue};
use gov_value::Effect;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// Why a package was not lowered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LowerError {
    /// The package has errors: only a package that checked without errors is lowered.
    HasErrors,
    /// The checker passed a package it should have rejected with this diagnostic: a bug in
    /// the checker, not in the package.
    Missed(Box<Diagnostic>),
}

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LowerError::HasErrors => write!(f, "the package has errors, so it has nothing to compile"),
            LowerError::Missed(diagnostic) => write!(
                f,
                "internal error: the checker missed [{}] {} (please report this)",
                diagnostic.code.id, diagnostic.message
            ),
        }
    }
}

impl std::error::Error for LowerError {}

/// Lowers `program`, which `checked` (the result of [`crate::check`] on it) found without
/// errors, to the [`Ir`].
pub fn lower(program: &ParsedPackage, checked: &Checked) -> Result<Ir, LowerError> {
    if checked.has_errors() {
        return Err(LowerError::HasErrors);
    }
    let desugared = crate::compound::desugar(program, &checked.symbols, &mut Vec::new());
    lower_symbols(&desugared, &checked.symbols).map_err(LowerError::Missed)
}

fn lower_symbols(program: &ParsedPackage, symbols: &Symbols) -> Result<Ir, Failure> {
    let mut ir = Ir {
        package: symbols.package.clone().unwrap_or_default(),
        default_allow: symbols.default == Some(ast::DefaultDecision::Allow),
        files: program.package_files().map(|f| f.id).collect(),
        ..Ir::default()
    };
    for info in &symbols.relations {
        let mut columns = Vec::with_capacity(info.fields.len());
        for (i, field) in info.fields.iter().enumerate() {
            let Some((ty, base)) = field.ty.and_then(|ty| Some((ty, symbols.base_of(ty)?))) else {
                return Err(missed(
                    codes::UNINFERRED_TYPE,
                    info.span.unwrap_or_default(),
                    format!("the type of column {} of `{}` cannot be inferred", i + 1, info.name),
                ));
            };
            // The auxiliary relation's own first column is its identifier, not a field.
            let contents = symbols
                .compound(ty)
                .filter(|_| i > 0 || info.compound.is_none())
                .map(|c| gov_ir::Contents { relation: RelationId(dense(c.relation)), list: c.list });
            columns.push(Column {
                name: field.name.as_ref().map(ast::SmolStr::to_string),
                ty: base,
                type_name: symbols.type_name(ty),
                contents,
            });
        }
        ir.relations.push(Relation {
            name: info.name.to_string(),
            kind: info.kind,
            one: info.one,
            library: info.span.is_some_and(|s| program.is_library(s.file)),
            auxiliary: info.compound.is_some(),
            columns,
            docs: info.docs.clone(),
        });
        ir.spans.relations.push(info.span);
    }
    let items = || program.files.iter().flat_map(|f| f.parsed.file.items.iter());
    // Decision rules by name, for `@overrides` (names are unique once the package checks).
    let mut decision_ids: HashMap<&str, DecisionId> = HashMap::new();
    for item in items() {
        if let ItemKind::Decision(decision) = &item.kind {
            let id = DecisionId(dense(decision_ids.len()));
            decision_ids.entry(decision.name.text.as_str()).or_insert(id);
        }
    }
    for item in items() {
        let rule_id = RuleId(dense(ir.rules.len()));
        let mut lowering = RuleLowering { symbols, vars: Vec::new(), ids: HashMap::new() };
        match &item.kind {
            ItemKind::Rule(rule) => {
                let relation = lowering.relation(&rule.head.relation)?;
                let body = lowering.body(&rule.body)?;
                let args = rule.head.args.iter().map(|a| lowering.expr(&a.value)).collect::<Result<_, _>>()?;
                let max_instructions = instruction_bound(&rule.body, rule.head.args.iter().map(|a| &a.value));
                ir.rules.push(Rule {
                    head: Head::Derive { relation, args },
                    vars: lowering.vars,
                    body,
                    max_instructions,
                });
            }
            ItemKind::Decision(decision) => {
                let id = DecisionId(dense(ir.decisions.len()));
                let body = lowering.body(&decision.body)?;
                let points = decision.points.as_ref().map(|p| lowering.expr(p)).transpose()?;
                let mut message = Vec::new();
                for part in decision.message.iter().flat_map(|m| m.parts.iter()) {
                    message.push(match part {
                        ast::MessagePart::Text(text) => MessagePart::Text(text.clone()),
                        ast::MessagePart::Var(name) => MessagePart::Var(lowering.var(name)?),
                    });
                }
                let mut overrides = Vec::new();
                for name in item.annotations.iter().filter(|a| a.name.text == "overrides").flat_map(|a| &a.args) {
                    let id = decision_ids.get(name.text.as_str()).ok_or_else(|| {
                        missed(codes::UNKNOWN_RULE, name.span, format!("no decision rule is named `{}`", name.text))
                    })?;
                    overrides.push(*id);
                }
                ir.decisions.push(DecisionRule {
                    name: decision.name.text.to_string(),
                    effect: decision.effect,
                    approver: match &decision.approver {
                        Some(ast::Approver::Group(group)) => Some(Approver::Group(group.value.clone())),
                        Some(ast::Approver::Var(var)) => Some(Approver::Var(lowering.var(var)?)),
                        None => None,
                    },
                    points,
                    message,
                    overrides,
                    rule: rule_id,
                    docs: item.docs.clone(),
                });
                ir.spans.decisions.push(decision.name.span);
                let max_instructions = instruction_bound(&decision.body, decision.points.as_ref());
                ir.rules.push(Rule { head: Head::Decide(id), vars: lowering.vars, body, max_instructions });
            }
            ItemKind::Invariant(invariant) if !program.is_library(item.span.file) => {
                let body = lowering.body(&invariant.body)?;
                ir.invariants.push(Invariant {
                    name: invariant.name.text.to_string(),
                    always: invariant.always,
                    effect: invariant.effect,
                    vars: lowering.vars,
                    body,
                    max_instructions: instruction_bound(&invariant.body, None),
                });
                ir.spans.invariants.push(invariant.name.span);
                continue;
            }
            _ => continue,
        }
        ir.spans.rules.push(item.span);
    }
    let risk_score = symbols.relation_id(RISK_SCORE).map(|r| RelationId(dense(r)));
    ir.graph = graph(&ir, risk_score);
    ir.strata = strata(&ir.graph);
    Ok(ir)
}

/// The dependency graph of the lowered rules (see [`Graph`]).
fn graph(ir: &Ir, risk_score: Option<RelationId>) -> Graph {
    let nodes = ir.relations.len() + ir.decisions.len();
    let mut graph =
        Graph { readers: vec![Vec::new(); nodes], reads: vec![Vec::new(); nodes], relations: ir.relations.len() };
    let edge = |graph: &mut Graph, from: usize, to: usize| {
        if let (Some(readers), Some(reads)) = (graph.readers.get_mut(from), graph.reads.get_mut(to)) {
            readers.push(to);
            reads.push(from);
        }
    };
    for rule in &ir.rules {
        let to = match &rule.head {
            Head::Derive { relation, .. } => graph.index(gov_ir::Node::Relation(*relation)),
            Head::Decide(decision) => graph.index(gov_ir::Node::Decision(*decision)),
        };
        let mut from = Vec::new();
        for literal in &rule.body {
            literal.for_each_atom(&mut |atom, _| from.push(atom.relation.index()));
        }
        for from in from {
            edge(&mut graph, from, to);
        }
        if let (Head::Decide(decision), Some(risk)) = (&rule.head, risk_score)
            && ir.decision(*decision).is_some_and(|d| d.effect == Effect::Risk)
        {
            edge(&mut graph, to, risk.index());
        }
    }
    graph
}

/// The strata of `graph`, in the order [`components`] gives.
fn strata(graph: &Graph) -> Vec<Stratum> {
    let mut petgraph: DiGraph<(), ()> = DiGraph::with_capacity(graph.len(), 0);
    for _ in 0..graph.len() {
        petgraph.add_node(());
    }
    for (from, readers) in graph.readers.iter().enumerate() {
        for &to in readers {
            petgraph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        }
    }
    components(&petgraph)
        .into_iter()
        .map(|members| {
            let members: Vec<usize> = members.into_iter().map(NodeIndex::index).collect();
            let reads_itself = |m: &usize| graph.reads.get(*m).is_some_and(|r| r.contains(m));
            let recursive = members.len() > 1 || members.iter().any(reads_itself);
            Stratum { members, recursive }
        })
        .collect()
}

/// The variables of the rule being lowered.
struct RuleLowering<'s, 'a> {
    symbols: &'s Symbols,
    vars: Vec<Var>,
    /// The id of each variable name seen so far, by its text in the syntax tree.
    ids: HashMap<&'a str, VarId>,
}

impl<'a> RuleLowering<'_, 'a> {
    fn relation(&self, name: &ast::Name) -> Result<RelationId, Failure> {
        let id = self
            .symbols
            .relation_id(&name.text)
            .ok_or_else(|| missed(codes::UNKNOWN_RELATION, name.span, format!("unknown relation `{}`", name.text)))?;
        Ok(RelationId(dense(id)))
    }

    /// The id of the variable `name`: one per name in the rule, typed as the checker
    /// inferred it.
    fn var(&mut self, name: &'a ast::Name) -> Result<VarId, Failure> {
        if let Some(id) = self.ids.get(name.text.as_str()) {
            return Ok(*id);
        }
        let ty =
            self.symbols.variable_types.get(&name.span).and_then(|t| self.symbols.base_of(*t)).ok_or_else(|| {
                missed(codes::UNINFERRED_TYPE, name.span, format!("the type of `{}` cannot be inferred", name.text))
            })?;
        let id = VarId(dense(self.vars.len()));
        self.vars.push(Var {
            name: name.text.to_string(),
            ty,
            pattern: crate::compound::is_pattern_variable(&name.text),
        });
        self.ids.insert(name.text.as_str(), id);
        Ok(id)
    }

    fn body(&mut self, body: &'a [BodyItem]) -> Result<Vec<Literal>, Failure> {
        let mut literals = Vec::with_capacity(body.len());
        for item in body {
            literals.push(self.literal(item)?);
        }
        Ok(literals)
    }

    fn literal(&mut self, item: &'a BodyItem) -> Result<Literal, Failure> {
        Ok(match item {
            BodyItem::Atom(atom) => Literal::Atom(self.atom(atom)?),
            BodyItem::Not(atom, _) => Literal::Negated(self.atom(atom)?),
            BodyItem::Compare(c) => match (&c.left, &c.right) {
                // The grammar writes an aggregate only as the right side of `=`.
                (result, ast::Expr::Aggregate(aggregate)) | (ast::Expr::Aggregate(aggregate), result)
                    if c.op == gov_value::CompareOp::Eq =>
                {
                    let result = self.expr(result)?;
                    Literal::Aggregate { result, aggregate: self.aggregate(aggregate)? }
                }
                (left, right) => Literal::Compare { left: self.expr(left)?, op: c.op, right: self.expr(right)? },
            },
            BodyItem::Test(call) => Literal::Test { call: self.call(call)?, negated: false },
            BodyItem::NotTest(call, _) => Literal::Test { call: self.call(call)?, negated: true },
            BodyItem::In(membership) => {
                let element = self.expr(&membership.element)?;
                let negated = membership.negated.is_some();
                match &membership.collection {
                    ast::Collection::Call(call) => Literal::Generate { element, call: self.call(call)?, negated },
                    ast::Collection::Set(set) => {
                        let set = set.items.iter().map(constant).collect::<Result<_, _>>()?;
                        Literal::InSet { element, set, negated }
                    }
                    ast::Collection::List(list) => {
                        return Err(missed(
                            codes::COMPOUND_MISUSE,
                            list.span(),
                            "`in` over a list left after the rewrite".to_owned(),
                        ));
                    }
                }
            }
        })
    }

    fn aggregate(&mut self, aggregate: &'a ast::Aggregate) -> Result<Aggregate, Failure> {
        let body = self.body(&aggregate.body)?;
        Ok(Aggregate { function: aggregate.function, target: self.expr(&aggregate.target)?, body })
    }

    fn atom(&mut self, atom: &'a ast::Atom) -> Result<Atom, Failure> {
        let relation = self.relation(&atom.relation)?;
        let info = self.symbols.relations.get(relation.index());
        let mut args = Vec::with_capacity(atom.args.len());
        for (i, arg) in atom.args.iter().enumerate() {
            let column = match &arg.field {
                None => i,
                Some(field) => info
                    .and_then(|info| info.fields.iter().position(|f| f.name.as_deref() == Some(&field.text)))
                    .ok_or_else(|| {
                        missed(codes::UNKNOWN_FIELD, field.span, format!("unknown field `{}`", field.text))
                    })?,
            };
            args.push(Arg { column: dense(column), value: self.expr(&arg.value)? });
        }
        Ok(Atom { relation, args })
    }

    /// A call of a built-in, resolved by name (the checker reported an unknown one).
    fn call(&mut self, call: &'a ast::Call) -> Result<Call, Failure> {
        let builtin = Builtin::from_name(&call.name.text).ok_or_else(|| {
            missed(codes::UNKNOWN_BUILTIN, call.name.span, format!("unknown built-in `{}`", call.name.text))
        })?;
        let args = call.args.iter().map(|arg| self.expr(arg)).collect::<Result<_, _>>()?;
        Ok(Call { builtin, args })
    }

    fn expr(&mut self, expr: &'a ast::Expr) -> Result<Expr, Failure> {
        Ok(match expr {
            ast::Expr::Var(name) => Expr::Var(self.var(name)?),
            ast::Expr::Wildcard(_) => Expr::Wildcard,
            ast::Expr::Lit(lit) => Expr::Const(constant(lit)?),
            ast::Expr::Call(call) => Expr::Call(Box::new(self.call(call)?)),
            ast::Expr::Binary(b) => {
                Expr::Arith(Box::new(Arith { left: self.expr(&b.left)?, op: b.op, right: self.expr(&b.right)? }))
            }
            ast::Expr::List(_) | ast::Expr::Object(_) => {
                return Err(missed(
                    codes::COMPOUND_MISUSE,
                    expr.span(),
                    "a list or an object pattern left after the rewrite".to_owned(),
                ));
            }
            ast::Expr::Aggregate(aggregate) => {
                return Err(missed(
                    codes::SYNTAX,
                    aggregate.span,
                    "an aggregate must be assigned to a variable".to_owned(),
                ));
            }
        })
    }
}

/// A literal's constant (the checker reported an invalid one).
fn constant(lit: &ast::Lit) -> Result<Const, Failure> {
    Ok(match &lit.value {
        LitValue::Int(i) => Const::Int(*i),
        LitValue::Decimal(d) => Const::Decimal(*d),
        LitValue::Str(s) => Const::Str(s.clone()),
        LitValue::Bool(b) => Const::Bool(*b),
        LitValue::Time(t) => Const::Time(*t),
        LitValue::Duration(d) => Const::Duration(*d),
        LitValue::Invalid => {
            return Err(missed(codes::INVALID_LITERAL, lit.span, format!("invalid literal `{}`", lit.raw)));
        }
    })
}

/// Why a package cannot be lowered (boxed: a diagnostic is large, and rare here).
type Failure = Box<Diagnostic>;

/// A case the checker reports (with this code) before lowering runs.
fn missed(code: Code, at: Span, message: String) -> Failure {
    Box::new(Diagnostic::new(code, message, at))
}

/// An index as a dense id (see [`gov_ir::dense`]).
fn dense(index: usize) -> u32 {
    gov_ir::dense(index)
}
