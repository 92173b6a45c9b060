//! The order of the strata: the dependency graph's strongly connected components, each
//! after every component it depends on, and otherwise in the order of their first node.
//!
//! The IR's nodes are relations in declaration order, then decision rules in source order,
//! so decision rules fire (and are explained) in source order as far as dependencies
//! allow, whatever the order a component algorithm happens to list them in. (The
//! stratification check needs only which relations are recursive, not an order: it calls
//! `kosaraju_scc` directly.)

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The components of `graph` in dependency order, ties broken by their smallest node.
///
/// Linear in the graph, but for the heap (n log n), and without recursion: petgraph's
/// `tarjan_scc` recurses once per relation of a dependency chain and overflows the stack
/// on long chains, while Kosaraju's search keeps an explicit stack.
pub fn components<E>(graph: &DiGraph<(), E>) -> Vec<Vec<NodeIndex>> {
    let mut components = kosaraju_scc(graph);
    for members in &mut components {
        members.sort_unstable();
    }
    let mut component_of = vec![0; graph.node_count()];
    for (c, members) in components.iter().enumerate() {
        for node in members {
            if let Some(slot) = component_of.get_mut(node.index()) {
                *slot = c;
            }
        }
    }
    let outside = |node: NodeIndex, c: usize| {
        graph
            .neighbors(node)
            .filter_map(|next| component_of.get(next.index()).copied())
            .filter(move |&other| other != c)
    };
    // Invariant: `waiting[c]` counts the edges into component `c` from components not yet
    // placed (an edge counts as often as it occurs, and is discounted as often).
    let mut waiting = vec![0usize; components.len()];
    for (c, members) in components.iter().enumerate() {
        for other in members.iter().flat_map(|&node| outside(node, c)) {
            if let Some(count) = waiting.get_mut(other) {
                *count += 1;
            }
        }
    }
    let first = |c: usize| components.get(c).and_then(|m| m.first()).map_or(usize::MAX, |n| n.index());
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> =
        waiting.iter().enumerate().filter(|(_, w)| **w == 0).map(|(c, _)| Reverse((first(c), c))).collect();
    let mut order = Vec::with_capacity(components.len());
    while let Some(Reverse((_, c))) = ready.pop() {
        order.push(c);
        let members = components.get(c).map(Vec::as_slice).unwrap_or_default();
        for other in members.iter().flat_map(|&node| outside(node, c)) {
            if let Some(count) = waiting.get_mut(other) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.push(Reverse((first(other), other)));
                }
            }
        }
    }
    let mut slots: Vec<Option<Vec<NodeIndex>>> = components.into_iter().map(Some).collect();
    order.into_iter().filter_map(|c| slots.get_mut(c).and_then(Option::take)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn order(nodes: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
        let mut graph: DiGraph<(), ()> = DiGraph::new();
        for _ in 0..nodes {
            graph.add_node(());
        }
        for &(from, to) in edges {
            graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        }
        components(&graph).into_iter().map(|c| c.into_iter().map(NodeIndex::index).collect()).collect()
    }

    #[test]
    fn dependencies_first_then_the_smallest_node() {
        // 0 reads 3; 2 and 4 read each other (twice); 5 reads 0 and the cycle.
        let edges = [(3, 0), (2, 4), (4, 2), (4, 2), (0, 5), (2, 5)];
        assert_eq!(order(6, &edges), [vec![1], vec![2, 4], vec![3], vec![0], vec![5]]);
    }

    #[test]
    fn a_long_chain_is_ordered_without_recursion() {
        let edges: Vec<(usize, usize)> = (1..200_000).map(|i| (200_000 - i, 200_000 - i - 1)).collect();
        let expected: Vec<Vec<usize>> = (0..200_000).rev().map(|i| vec![i]).collect();
        assert_eq!(order(200_000, &edges), expected);
    }
}
