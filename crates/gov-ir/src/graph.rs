//! The dependency graph and its strata, computed once by the checker.

use crate::ids::{Node, dense};

/// The dependency graph: relations, then decision rules, with an edge from each relation
/// a rule's body reads (through an atom, a negation or an aggregate) to what the rule
/// produces, and from each `risk` rule to `risk_score`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    /// For each node (by [`Graph::index`]), the nodes that read it, one entry per edge.
    // Invariant: every index is `< relations + decisions`.
    pub readers: Vec<Vec<usize>>,
    /// For each node, the nodes it reads, one entry per edge.
    pub reads: Vec<Vec<usize>>,
    /// How many of the nodes are relations.
    pub relations: usize,
}

impl Graph {
    /// The dense index of a node: relations first, then decision rules.
    pub fn index(&self, node: Node) -> usize {
        match node {
            Node::Relation(id) => id.index(),
            Node::Decision(id) => self.relations + id.index(),
        }
    }

    /// The node at a dense index.
    pub fn node(&self, index: usize) -> Node {
        match index.checked_sub(self.relations) {
            None => Node::Relation(crate::RelationId(dense(index))),
            Some(decision) => Node::Decision(crate::DecisionId(dense(decision))),
        }
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.readers.len()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.readers.is_empty()
    }
}

/// A stratum: a strongly connected component of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stratum {
    /// Its nodes, by dense index, ascending.
    pub members: Vec<usize>,
    /// Whether it is recursive: several nodes, or one that reads itself.
    pub recursive: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{DecisionId, RelationId};

    #[test]
    fn relations_come_first_then_decision_rules() {
        let graph = Graph { readers: vec![Vec::new(); 5], reads: vec![Vec::new(); 5], relations: 3 };
        for index in 0..5 {
            assert_eq!(graph.index(graph.node(index)), index);
        }
        assert_eq!(graph.node(2), Node::Relation(RelationId(2)));
        assert_eq!(graph.node(3), Node::Decision(DecisionId(0)));
    }
}
