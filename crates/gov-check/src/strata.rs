//! Stratification: negation, aggregation and value-inventing arithmetic must not go
//! through recursion.

use crate::Symbols;
use crate::hash::{HashMap, HashSet};
use crate::rules::{Edge, EdgeKind, Facts};
use crate::symbols::RISK_SCORE;
use gov_diag::{Diagnostic, Span, codes};
use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::VecDeque;

/// The relation dependency graph: one node per relation (by index into
/// [`Symbols::relations`]), one edge per body atom.
pub fn graph(symbols: &Symbols, facts: &Facts) -> DiGraph<usize, EdgeKind> {
    let mut graph = DiGraph::with_capacity(symbols.relations.len(), facts.edges.len());
    for index in 0..symbols.relations.len() {
        graph.add_node(index);
    }
    for edge in &facts.edges {
        graph.add_edge(NodeIndex::new(edge.from), NodeIndex::new(edge.to), edge.kind);
    }
    graph
}

/// The strongly connected components that are recursive (several relations, or one that
/// depends on itself): the component index of each relation in one, by relation (`None`
/// for the others).
fn recursive_components(symbols: &Symbols, facts: &Facts) -> Vec<Option<usize>> {
    let graph = graph(symbols, facts);
    let self_loops: HashSet<usize> = facts.edges.iter().filter(|e| e.from == e.to).map(|e| e.from).collect();
    let mut component = vec![None; symbols.relations.len()];
    // Not `tarjan_scc`: petgraph's Tarjan recurses once per relation of a dependency chain
    // and overflows the stack on long chains; Kosaraju's DFS keeps an explicit stack.
    for (id, scc) in kosaraju_scc(&graph).into_iter().enumerate() {
        let recursive = scc.len() > 1 || scc.first().is_some_and(|n| self_loops.contains(&n.index()));
        if recursive {
            for node in scc {
                if let Some(slot) = component.get_mut(node.index()) {
                    *slot = Some(id);
                }
            }
        }
    }
    component
}

/// The last check's recursive components ([`recursive_components`]) and the graph they were
/// found in: a check whose graph has the same relations and edges in the same order (an
/// edit inside a rule body, the common keystroke) reuses them.
// Invariant: `components` is `recursive_components` of a graph of `relations` nodes whose
// edges join the pairs of `ends`, in order.
#[derive(Debug, Default)]
pub struct ComponentsMemo {
    relations: usize,
    ends: Vec<(usize, usize)>,
    components: Vec<Option<usize>>,
}

impl ComponentsMemo {
    /// The recursive components of the dependency graph of `symbols` and `facts`.
    fn components(&mut self, symbols: &Symbols, facts: &Facts) -> &[Option<usize>] {
        let same = self.relations == symbols.relations.len()
            && self.ends.len() == facts.edges.len()
            && self.ends.iter().zip(&facts.edges).all(|(&(from, to), edge)| from == edge.from && to == edge.to);
        if !same {
            self.components = recursive_components(symbols, facts);
            self.relations = symbols.relations.len();
            self.ends = facts.edges.iter().map(|edge| (edge.from, edge.to)).collect();
        }
        &self.components
    }
}

/// Reports negation, aggregation and arithmetic through recursion, once per component.
pub fn check(symbols: &Symbols, facts: &Facts, memo: &mut ComponentsMemo, diagnostics: &mut Vec<Diagnostic>) {
    let components = memo.components(symbols, facts);
    let component = |relation: usize| components.get(relation).copied().flatten();
    let same = |a: usize, b: usize| component(a).is_some_and(|c| component(b) == Some(c));
    let name_is = |i: usize, name: &str| symbols.relations.get(i).is_some_and(|r| r.name == name);
    let mut reported: HashSet<usize> = HashSet::default();
    // The edges inside each recursive component, by the relation they leave.
    let mut inside: HashMap<usize, Vec<Edge>> = HashMap::default();
    for edge in facts.edges.iter().filter(|e| same(e.from, e.to)) {
        inside.entry(edge.from).or_default().push(*edge);
    }
    for edge in &facts.edges {
        if !same(edge.from, edge.to) || edge.kind == EdgeKind::Positive {
            continue;
        }
        let Some(id) = component(edge.to) else { continue };
        if !reported.insert(id) {
            continue;
        }
        let (code, what, help) = match edge.kind {
            EdgeKind::Negative => (
                codes::NEGATION_CYCLE,
                "negation",
                "a relation cannot depend on its own absence: break the cycle, or negate a relation computed outside it",
            ),
            // `risk_score` sums the `risk` rules: any of them reading it closes the cycle.
            _ if name_is(edge.to, RISK_SCORE) => (
                codes::AGGREGATE_CYCLE,
                "an aggregate",
                "`risk_score` is the sum of the `risk` rules' points, so no `risk` rule may read it, directly or through derived relations: read it in other decision rules",
            ),
            _ => (
                codes::AGGREGATE_CYCLE,
                "an aggregate",
                "an aggregate must be computed from relations outside its own recursion: aggregate in a separate, non-recursive rule",
            ),
        };
        let name = |i: usize| symbols.relations.get(i).map_or("?", |r| r.name.as_str());
        let path = cycle(&inside, edge);
        let mut diagnostic =
            Diagnostic::new(code, format!("`{}` depends on itself through {what}", name(edge.to)), edge.at)
                .with_primary_label(format!("{what} inside the recursion"))
                .with_help(help);
        // `to` depends on `from`, which depends on … back on `to`.
        let mut shown = vec![name(edge.to)];
        if edge.from != edge.to {
            shown.push(name(edge.from));
        }
        for step in &path {
            diagnostic =
                diagnostic.with_label(step.at, format!("`{}` depends on `{}` here", name(step.to), name(step.from)));
            if step.from != edge.to {
                shown.push(name(step.from));
            }
        }
        if shown.len() > 1 {
            diagnostic = diagnostic.with_note(format!("the cycle: {} (each depends on the next)", cycle_text(&shown)));
        }
        diagnostics.push(diagnostic);
    }
    let mut reported_arith: HashSet<usize> = HashSet::default();
    // The relations each rule with such a site reads, so that each site costs its rule's
    // atoms, not every edge of the program (and a program without sites, nothing).
    let sites: HashSet<Span> = facts.arithmetic.iter().map(|site| site.rule).collect();
    let mut reads: HashMap<Span, Vec<usize>> = HashMap::default();
    for edge in facts.edges.iter().filter(|edge| sites.contains(&edge.rule)) {
        reads.entry(edge.rule).or_default().push(edge.from);
    }
    for site in &facts.arithmetic {
        let recursive_rule = reads.get(&site.rule).is_some_and(|from| from.iter().any(|&f| same(f, site.head)));
        let id = component(site.head).unwrap_or(usize::MAX);
        // A component already reported as a cycle through negation or an aggregate is one
        // mistake: a `sum` over its own recursion is E0402 only.
        if !recursive_rule || reported.contains(&id) || !reported_arith.insert(id) {
            continue;
        }
        let name = symbols.relations.get(site.head).map_or("?", |r| r.name.as_str());
        let what = if site.aggregate { "an aggregate" } else { "arithmetic" };
        diagnostics.push(
            Diagnostic::new(codes::ARITHMETIC_IN_RECURSION, format!("{what} computes new values of `{name}` inside its own recursion"), site.at)
                .with_primary_label("a new value on every round")
                .with_label(site.rule, "in this recursive rule")
                .with_help("the least model could be infinite: compute the value outside the recursion, or bound it by a relation of known values")
                .with_note(if site.aggregate {
                    "a `sum`, or an aggregate of arithmetic, may not produce a value of the head inside recursion (`count`, `min` and `max` of plain values may)"
                } else {
                    "arithmetic may filter (`x + 1 < y`) inside recursion, but not produce a value of the head"
                }),
        );
    }
}

/// The edges leading from `edge.to` back to `edge.from` inside their component (shortest),
/// given the edges inside each component by the relation they leave.
fn cycle(inside: &HashMap<usize, Vec<Edge>>, edge: &Edge) -> Vec<Edge> {
    let mut previous: HashMap<usize, Edge> = HashMap::default();
    let mut queue = VecDeque::from([edge.to]);
    let mut seen: HashSet<usize> = std::iter::once(edge.to).collect();
    while let Some(current) = queue.pop_front() {
        if current == edge.from {
            break;
        }
        for next in inside.get(&current).into_iter().flatten() {
            if seen.insert(next.to) {
                previous.insert(next.to, *next);
                queue.push_back(next.to);
            }
        }
    }
    let mut path = Vec::new();
    let mut at = edge.from;
    while let Some(step) = previous.get(&at) {
        path.push(*step);
        at = step.from;
        if at == edge.to {
            break;
        }
    }
    path
}

fn cycle_text(names: &[&str]) -> String {
    let mut text = names.join(" → ");
    if let Some(first) = names.first() {
        text.push_str(" → ");
        text.push_str(first);
    }
    text
}
