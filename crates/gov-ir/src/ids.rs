//! Dense ids: each is an index into one vector of the [`Ir`](crate::Ir) (or, for
//! [`VarId`], of its rule).

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index into its vector.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}

ids! {
    /// A relation: an index into [`Ir::relations`](crate::Ir::relations).
    RelationId;
    /// A rule (deriving or deciding): an index into [`Ir::rules`](crate::Ir::rules).
    RuleId;
    /// A decision rule: an index into [`Ir::decisions`](crate::Ir::decisions).
    DecisionId;
    /// A variable of one rule: an index into [`Rule::vars`](crate::Rule::vars).
    VarId;
}

/// A node of the dependency graph: a relation or a decision rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A relation: the rules deriving it.
    Relation(RelationId),
    /// A decision rule.
    Decision(DecisionId),
}

/// An index into one of the IR's vectors, as the `u32` of an id.
///
/// Every such vector holds at most one entry per item or name of the package's source,
/// and a source is far shorter than `u32::MAX` bytes, so the index always fits; were it
/// not to, the id saturates to `u32::MAX`, an index no vector has, which every lookup by
/// id treats as absent.
pub fn dense(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}
