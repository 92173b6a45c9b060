//! Types and their inference.
//!
//! Declared relations have declared field types; derived relations and rule variables get
//! theirs by unification. Each derived column and each rule variable is a node of a
//! union-find structure whose class carries a [`Shape`]: nothing known yet, "some literal
//! of this base type" (a literal `"x"` fits `Str` and every alias of `Str`), an exact type,
//! or poisoned after an error was reported (so one mistake yields one error).

use crate::Symbols;
use gov_diag::Span;
use gov_value::{ArithOp, BaseType};

/// A type: built-in, or a nominal alias (by index into [`Symbols::types`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    /// A built-in type.
    Base(BaseType),
    /// A declared alias: distinct from its base type and from every other alias.
    Alias(u32),
    /// A list or object field's type (by index into [`Symbols::compounds`]): distinct from
    /// every other type, each field its own. Its values identify the field's value in the
    /// auxiliary relation holding its contents.
    Compound(u32),
}

/// What is known about the type of an inference class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Nothing yet.
    Unknown,
    /// Only literals of this base type so far (fits the base and its aliases).
    Lit(BaseType),
    /// Exactly this type.
    Exact(Ty),
    /// An error was reported about this class; stay silent about it.
    Poison,
}

impl Shape {
    /// The base type, if known.
    pub fn base(self, symbols: &Symbols) -> Option<BaseType> {
        match self {
            Shape::Lit(base) => Some(base),
            Shape::Exact(ty) => symbols.base_of(ty),
            Shape::Unknown | Shape::Poison => None,
        }
    }

    /// The type as shown in messages.
    pub fn describe(self, symbols: &Symbols) -> String {
        match self {
            Shape::Lit(base) => format!("`{base}`"),
            Shape::Exact(ty) => format!("`{}`", symbols.type_name(ty)),
            Shape::Unknown | Shape::Poison => "unknown".to_owned(),
        }
    }
}

/// Combines two shapes, or `None` if they conflict.
pub fn merge(a: Shape, b: Shape, symbols: &Symbols) -> Option<Shape> {
    use Shape::*;
    match (a, b) {
        (Poison, _) | (_, Poison) => Some(Poison),
        (Unknown, other) | (other, Unknown) => Some(other),
        (Lit(x), Lit(y)) if x == y => Some(Lit(x)),
        (Lit(x), Lit(y)) if numeric_literals(x, y) => Some(Lit(BaseType::Decimal)),
        (Lit(_), Lit(_)) => None,
        (Lit(lit), Exact(ty)) | (Exact(ty), Lit(lit)) => match symbols.base_of(ty) {
            None => Some(Exact(ty)),
            Some(base) if base == lit || (lit == BaseType::Int && base == BaseType::Decimal) => Some(Exact(ty)),
            Some(_) => None,
        },
        (Exact(x), Exact(y)) if x == y => Some(Exact(x)),
        (Exact(_), Exact(_)) => None,
    }
}

fn numeric_literals(x: BaseType, y: BaseType) -> bool {
    matches!((x, y), (BaseType::Int, BaseType::Decimal) | (BaseType::Decimal, BaseType::Int))
}

/// The shape of `left op right`, or `None` if the operator does not apply.
///
/// Arithmetic works on base types; the result keeps an alias when an operand has one and
/// the result has the alias's base type (`Money + 5` is `Money`). Two different aliases
/// never mix.
pub fn arithmetic(op: ArithOp, left: Shape, right: Shape, symbols: &Symbols) -> Option<Shape> {
    use Shape::*;
    match (left, right) {
        (Poison, _) | (_, Poison) => return Some(Poison),
        (Unknown, _) | (_, Unknown) => return Some(Unknown),
        _ => {}
    }
    let (Some(mut lb), Some(mut rb)) = (left.base(symbols), right.base(symbols)) else {
        return Some(Poison); // an unresolved alias, already reported
    };
    // An Int literal next to a Decimal is a Decimal.
    if matches!(left, Lit(BaseType::Int)) && rb == BaseType::Decimal {
        lb = BaseType::Decimal;
    }
    if matches!(right, Lit(BaseType::Int)) && lb == BaseType::Decimal {
        rb = BaseType::Decimal;
    }
    let result = gov_value::result_type(op, lb, rb)?;
    let alias = |s: Shape| match s {
        Exact(Ty::Alias(a)) => Some(a),
        _ => None,
    };
    match (alias(left), alias(right)) {
        (Some(a), Some(b)) if a != b => None,
        (a, b) => {
            let kept = a.or(b).filter(|&i| symbols.base_of(Ty::Alias(i)) == Some(result));
            Some(match kept {
                Some(i) => Exact(Ty::Alias(i)),
                None if matches!((left, right), (Lit(_), Lit(_))) => Lit(result),
                None => Exact(Ty::Base(result)),
            })
        }
    }
}

/// A node of the inference structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node(u32);

impl Node {
    /// The node made `index`-th ([`Inference::node`] numbers them from 0).
    pub(crate) fn from_index(index: u32) -> Node {
        Node(index)
    }
}

/// Why two shapes could not be unified: what the class already was, and where that was
/// established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// The class's shape before.
    pub existing: Shape,
    /// Where that shape came from, when known.
    pub because: Option<Span>,
}

/// Union-find over type classes.
#[derive(Debug, Default)]
pub struct Inference {
    parent: Vec<u32>,
    shape: Vec<(Shape, Option<Span>)>,
    changes: u64,
    /// For each node that is a class's representative: the value of `changes` when the
    /// class last changed (its shape set, or another class merged into it).
    // Invariant: at a representative, no greater than `changes`; a change to a class
    // stamps its representative after the change.
    stamp: Vec<u64>,
    /// While on, every node whose class is looked up is noted in `noted`
    /// ([`Inference::noting`]).
    noting: bool,
    noted: Vec<u32>,
}

impl Inference {
    /// An empty union-find with room for `nodes` nodes.
    pub fn with_capacity(nodes: usize) -> Inference {
        Inference {
            parent: Vec::with_capacity(nodes),
            shape: Vec::with_capacity(nodes),
            stamp: Vec::with_capacity(nodes),
            ..Inference::default()
        }
    }

    /// How many nodes it has.
    pub fn node_count(&self) -> usize {
        self.parent.len()
    }

    /// A fresh node with nothing known.
    pub fn node(&mut self) -> Node {
        let id = u32::try_from(self.parent.len()).unwrap_or(u32::MAX);
        self.parent.push(id);
        self.shape.push((Shape::Unknown, None));
        self.stamp.push(0);
        Node(id)
    }

    /// The representative of `node`'s class.
    pub fn find(&mut self, node: Node) -> Node {
        if self.noting {
            self.noted.push(node.0);
        }
        self.root(node)
    }

    /// The representative of `node`'s class, not noted.
    fn root(&mut self, node: Node) -> Node {
        let mut current = node.0;
        while let Some(&parent) = self.parent.get(current as usize) {
            if parent == current {
                break;
            }
            let grandparent = self.parent.get(parent as usize).copied().unwrap_or(parent);
            if let Some(slot) = self.parent.get_mut(current as usize) {
                *slot = grandparent;
            }
            current = parent;
        }
        Node(current)
    }

    /// The shape of `node`'s class.
    pub fn shape(&mut self, node: Node) -> Shape {
        let root = self.find(node);
        self.shape.get(root.0 as usize).map_or(Shape::Unknown, |(s, _)| *s)
    }

    /// The shape of `node`'s class and where it was established, when known.
    pub fn class(&mut self, node: Node) -> (Shape, Option<Span>) {
        let root = self.find(node);
        self.shape.get(root.0 as usize).copied().unwrap_or((Shape::Unknown, None))
    }

    /// Adds the shape of an expression to `node`'s class, like [`Inference::constrain`],
    /// except that [`Shape::Poison`] (an expression whose type is unknown because of an
    /// error) poisons only a class with nothing known yet: a variable that already has a
    /// type keeps it, so that its other uses are still checked.
    pub fn absorb(&mut self, node: Node, shape: Shape, at: Span, symbols: &Symbols) -> Result<(), Conflict> {
        if shape != Shape::Poison {
            return self.constrain(node, shape, at, symbols);
        }
        if self.shape(node) == Shape::Unknown {
            self.poison(node);
        }
        Ok(())
    }

    /// How many times any class has changed; lets callers iterate to a fixpoint.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    fn set(&mut self, root: Node, shape: Shape, because: Option<Span>) {
        if let Some(slot) = self.shape.get_mut(root.0 as usize)
            && slot.0 != shape
        {
            *slot = (shape, slot.1.or(because));
            self.changed(root);
        }
    }

    /// Counts a change to the class whose representative is `root`.
    fn changed(&mut self, root: Node) {
        self.changes += 1;
        if let Some(stamp) = self.stamp.get_mut(root.0 as usize) {
            *stamp = self.changes;
        }
    }

    /// Notes the nodes whose classes are looked up from now on (`on`), or stops, and
    /// returns how many nodes have been noted so far: a caller notes what one step reads,
    /// `start..end`, to ask later whether it changed ([`Inference::changed_since`]).
    pub fn noting(&mut self, on: bool) -> usize {
        self.noting = on;
        self.noted.len()
    }

    /// Forgets every node noted.
    pub fn clear_noted(&mut self) {
        self.noted.clear();
    }

    /// Whether the class of any node noted in `noted` (a range [`Inference::noting`]
    /// returned) has changed since `changes` was `since`.
    pub fn changed_since(&mut self, noted: std::ops::Range<usize>, since: u64) -> bool {
        let nodes = std::mem::take(&mut self.noted);
        // A range not noted (never the case) counts as changed: the caller then re-runs.
        let changed = nodes.get(noted).is_none_or(|nodes| {
            nodes.iter().any(|&node| {
                let root = self.root(Node(node));
                self.stamp.get(root.0 as usize).is_some_and(|&stamp| stamp > since)
            })
        });
        self.noted = nodes;
        changed
    }

    /// Adds `shape` (established at `at`) to `node`'s class.
    pub fn constrain(&mut self, node: Node, shape: Shape, at: Span, symbols: &Symbols) -> Result<(), Conflict> {
        let root = self.find(node);
        let (existing, because) = self.shape.get(root.0 as usize).copied().unwrap_or((Shape::Unknown, None));
        match merge(existing, shape, symbols) {
            Some(merged) => {
                self.set(root, merged, Some(at));
                Ok(())
            }
            None => Err(Conflict { existing, because }),
        }
    }

    /// Merges the classes of `a` and `b` (at `at`).
    pub fn union(&mut self, a: Node, b: Node, at: Span, symbols: &Symbols) -> Result<(), Conflict> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        let (sb, because_b) = self.shape.get(rb.0 as usize).copied().unwrap_or((Shape::Unknown, None));
        self.constrain(ra, sb, because_b.unwrap_or(at), symbols)?;
        if let Some(slot) = self.parent.get_mut(rb.0 as usize) {
            *slot = ra.0;
            self.changed(ra);
        }
        Ok(())
    }

    /// Marks `node`'s class as poisoned after an error about it.
    pub fn poison(&mut self, node: Node) {
        let root = self.find(node);
        self.set(root, Shape::Poison, None);
    }
}

#[cfg(test)]
mod tests {
    use super::{Inference, Node, Shape, Ty};
    use crate::Symbols;
    use gov_diag::{FileId, Span};
    use gov_value::BaseType;

    const INT: Shape = Shape::Exact(Ty::Base(BaseType::Int));

    fn at() -> Span {
        Span::new(FileId(0), 0, 1)
    }

    /// Notes what `read` looks up, as the type solve does for one constraint.
    fn noted(inference: &mut Inference, read: impl FnOnce(&mut Inference)) -> (std::ops::Range<usize>, u64) {
        let start = inference.noting(true);
        read(inference);
        (start..inference.noting(false), inference.changes())
    }

    #[test]
    fn a_class_set_after_a_read_has_changed_since() {
        let symbols = Symbols::default();
        let mut inference = Inference::default();
        let (x, y) = (inference.node(), inference.node());
        let (reads, after) = noted(&mut inference, |i| {
            i.shape(x);
        });
        assert!(!inference.changed_since(reads.clone(), after));
        // Another class changing is not this read's business.
        assert!(inference.constrain(y, INT, at(), &symbols).is_ok());
        assert!(!inference.changed_since(reads.clone(), after));
        assert!(inference.constrain(x, INT, at(), &symbols).is_ok());
        assert!(inference.changed_since(reads.clone(), after));
        // Setting the same shape again is no change.
        let after = inference.changes();
        assert!(inference.constrain(x, INT, at(), &symbols).is_ok());
        assert!(!inference.changed_since(reads, after));
    }

    #[test]
    fn a_class_merged_away_or_into_after_a_read_has_changed_since() {
        let symbols = Symbols::default();
        for absorbed in [false, true] {
            let mut inference = Inference::default();
            let (x, y) = (inference.node(), inference.node());
            let (reads, after) = noted(&mut inference, |i| {
                i.shape(x);
            });
            // `x`'s class either absorbs `y`'s or is absorbed into it: both change it.
            let (a, b): (Node, Node) = if absorbed { (y, x) } else { (x, y) };
            assert!(inference.union(a, b, at(), &symbols).is_ok());
            assert!(inference.changed_since(reads, after), "absorbed: {absorbed}");
        }
    }

    #[test]
    fn lookups_are_noted_only_while_noting() {
        let mut inference = Inference::default();
        let x = inference.node();
        inference.shape(x);
        let (reads, _) = noted(&mut inference, |i| {
            i.shape(x);
        });
        assert_eq!(reads, 0..1);
        inference.clear_noted();
        // A range no longer noted counts as changed, so the caller runs again.
        assert!(inference.changed_since(reads, 0));
    }
}
