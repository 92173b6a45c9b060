//! A rule's walk as data, kept from one check to the next (issue 10 item 7; the design is
//! `docs/plans/walk-summaries.md`).
//!
//! Checking a rule, decision rule or invariant is two steps. [`Cx::record`] walks its tree
//! (resolving atoms, pairing arguments with columns, noting variables, running safety) and
//! writes what the package-wide steps need into a [`Walk`]: the variables and where each
//! occurs, the unifications of arguments with columns in walk order, where each queued
//! constraint is in the tree, and the dependency facts. [`Cx::replay_facts`] then adds the
//! facts, and [`Cx::replay_types`] makes the variables' inference nodes, runs the
//! unifications and queues the constraints for the solve (for the rules of a cluster whose
//! types the last check did not keep, [`super::clusters`]). A check from scratch does both
//! steps; a later check finds the walk of an unchanged item in the [`super::ItemMemo`] and
//! only replays it, so an edit inside one rule no longer re-resolves every other rule of
//! the package.
//!
//! A kept walk is replayed only when it equals what walking the item again would record:
//! - its tree is the same up to a move (the memo's key, the tree's origin, guarantees it),
//!   and every span the walk holds is moved by the same distance as it is replayed;
//! - the declarations are the same up to spans: relations (names, order, kinds, fields and
//!   their types, modules), decision rules, aliases and list and object types, as
//!   [`fingerprint`] hashes them, since a walk holds relations by index and was shaped by
//!   what they declare;
//! - the walk reported nothing: what an item reports can depend on more than its tree and
//!   the declarations (another item's span in a label, the did-you-mean budget), so an item
//!   that reported anything is walked again at every check.
//!
//! Everything that depends on other items is looked up at replay, never kept: the column a
//! [`ColumnRef`] stands for (a derived relation's node in this check's inference, a library
//! relation's solved type), and every result of inference (types, mismatches).

use super::{ArithSite, Cx, Edge, Pending, RuleWork, Scope};
use crate::ParsedPackage;
use crate::symbols::Symbols;
use crate::types::{Node, Shape};
use gov_diag::Span;
use gov_syntax::ast::{Approver, BodyItem, Expr, Item, ItemKind};
use smallvec::SmallVec;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

/// The column an argument goes to: the relation's index and the column's position, and
/// whether it is the head's (a head always goes to the derived relation's own column,
/// never to a library relation's solved type). Resolved to a [`Column`] at replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ColumnRef {
    pub(super) relation: u32,
    pub(super) index: u32,
    pub(super) head: bool,
}

impl ColumnRef {
    /// Column `index` of `relation`, in a body (`head` false) or a head.
    pub(super) fn new(relation: usize, index: usize, head: bool) -> ColumnRef {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ColumnRef { relation: narrow(relation), index: narrow(index), head }
    }
}

/// One unification of an argument with its column, in walk order.
#[derive(Debug, Clone, Copy)]
pub(super) enum Unify {
    /// The variable whose `local` is `var`, at `at`.
    Var { var: u32, at: Span, column: ColumnRef },
    /// A literal of shape `shape`, at `at`.
    Lit { shape: Shape, at: Span, column: ColumnRef },
}

/// A condition's place in a body: its index; for a condition inside an aggregate, the index
/// of the comparison holding the aggregate, the side it is on (0 left, 1 right), then its
/// index in the aggregate's body, and so on.
pub(super) type Path = SmallVec<[u32; 4]>;

/// Where a queued constraint is in the item's tree.
#[derive(Debug, Clone)]
pub(super) enum At {
    /// A comparison, a test or a membership of the body.
    Condition(Path),
    /// Argument `.1` (arithmetic or a call) of the atom at `.0`, going to column `.2`.
    AtomArg(Path, u32, ColumnRef),
    /// Argument `.0` (arithmetic or a call) of the rule's head, going to column `.1`.
    HeadArg(u32, ColumnRef),
    /// A decision rule's risk points.
    Points,
    /// The variable naming a decision rule's approver group.
    Approver,
}

/// What walking one rule, decision rule or invariant found, for [`Cx::replay_facts`] and
/// [`Cx::replay_types`].
// Invariant: every span in it is where it was in the tree walked, whose item started at
// `at`; every relation index is one of the symbol table whose fingerprint is `epoch`.
#[derive(Debug, Default)]
pub(super) struct Walk {
    at: u32,
    pub(super) epoch: u64,
    /// The variables, in order of first occurrence, with where each occurs.
    pub(super) scope: Scope,
    pub(super) unify: Vec<Unify>,
    pub(super) pending: Vec<At>,
    pub(super) head_refs: Vec<(usize, Span)>,
    pub(super) body_refs: Vec<(usize, Span, Option<usize>)>,
    pub(super) edges: Vec<Edge>,
    pub(super) arithmetic: Vec<ArithSite>,
}

impl Walk {
    /// How far the item now at `item` (its whole span), whose tree is the walked one moved,
    /// moved since the walk (modulo 2³², as the parse moves it).
    pub(super) fn moved_by(&self, item: Span) -> u32 {
        item.start.wrapping_sub(self.at)
    }

    /// Every column the walk unifies or constrains (with repeats).
    pub(super) fn columns(&self) -> impl Iterator<Item = ColumnRef> + '_ {
        let unified = self.unify.iter().map(|unify| match *unify {
            Unify::Var { column, .. } | Unify::Lit { column, .. } => column,
        });
        let queued = self.pending.iter().filter_map(|at| match *at {
            At::AtomArg(_, _, column) | At::HeadArg(_, column) => Some(column),
            At::Condition(_) | At::Points | At::Approver => None,
        });
        unified.chain(queued)
    }
}

/// A walk being recorded, with the place in the body the walk is at.
pub(super) struct Rec {
    pub(super) walk: Walk,
    /// The path of the condition being walked ([`Path`]).
    pub(super) path: Path,
}

impl Rec {
    /// Queues the constraint of the condition being walked.
    pub(super) fn queue_condition(&mut self) {
        self.walk.pending.push(At::Condition(self.path.clone()));
    }
}

/// A hash of the declarations, up to spans: two symbol tables with the same fingerprint give
/// every walk the same relation indices, kinds, fields and decision rules (see the module
/// comment), so a walk recorded under one is replayed under the other.
pub(super) fn fingerprint(program: &ParsedPackage, symbols: &Symbols) -> u64 {
    // Fixed, so that fingerprints of two checks compare.
    let state = foldhash::fast::FixedState::with_seed(0x5eed_60d5);
    let mut h = state.build_hasher();
    for file in &program.files {
        file.id.hash(&mut h);
        match &file.origin {
            crate::Origin::Library(module) => Some(module.as_str()).hash(&mut h),
            crate::Origin::Package => None::<&str>.hash(&mut h),
        }
    }
    symbols.relations.len().hash(&mut h);
    for relation in &symbols.relations {
        relation.name.hash(&mut h);
        relation.kind.hash(&mut h);
        (relation.one, relation.poisoned, relation.compound).hash(&mut h);
        relation.span.map(|s| s.file).hash(&mut h);
        relation.fields.len().hash(&mut h);
        for field in &relation.fields {
            (&field.name, field.ty).hash(&mut h);
        }
    }
    for alias in &symbols.types {
        (&alias.name, alias.base).hash(&mut h);
    }
    for decision in &symbols.decisions {
        (&decision.name, decision.effect).hash(&mut h);
    }
    for compound in &symbols.compounds {
        (compound.relation, compound.list).hash(&mut h);
    }
    // A set: its hash must not depend on its order.
    let poisoned = symbols.poisoned_rules.iter().map(|name| state.hash_one(name)).fold(0u64, u64::wrapping_add);
    (symbols.poisoned_rules.len(), poisoned).hash(&mut h);
    h.finish()
}

/// The condition at `path` in `body`.
fn condition<'a>(body: &'a [BodyItem], path: &[u32]) -> Option<&'a BodyItem> {
    let (&index, rest) = path.split_first()?;
    let item = body.get(index as usize)?;
    let [side, rest @ ..] = rest else { return Some(item) };
    let BodyItem::Compare(comparison) = item else { return None };
    let Expr::Aggregate(aggregate) = (if *side == 0 { &comparison.left } else { &comparison.right }) else {
        return None;
    };
    condition(&aggregate.body, rest)
}

impl<'a> Cx<'a, '_> {
    /// Walks `item` (a rule, decision rule or invariant) into a [`Walk`], reporting what the
    /// walk finds; keeps the walk in the memo if it reported nothing, and says whether it
    /// did.
    pub(super) fn record(&mut self, item: &'a Item) -> (Arc<Walk>, bool) {
        self.memo.walked += 1;
        let reported = (self.diagnostics.len(), self.unknown.len());
        self.annotations(item);
        crate::limits::item(item, self.diagnostics);
        let mut rec =
            Rec { walk: Walk { at: item.span.start, epoch: self.epoch, ..Walk::default() }, path: Path::new() };
        match &item.kind {
            ItemKind::Rule(rule) => self.rule(&mut rec, item, rule),
            ItemKind::Decision(decision) => self.decision(&mut rec, item, decision),
            ItemKind::Invariant(invariant) => self.invariant(&mut rec, item, invariant),
            _ => {}
        }
        let walk = Arc::new(rec.walk);
        let kept =
            (self.diagnostics.len(), self.unknown.len()) == reported && self.memo.keep_walk(item, Arc::clone(&walk));
        (walk, kept)
    }

    /// Adds the facts of `walk` (of `item`, or of a tree with its origin before `item`
    /// moved) to this check: its relations' references, its edges, its arithmetic.
    pub(super) fn replay_facts(&mut self, item: Span, walk: &Walk) {
        let by = walk.moved_by(item);
        let facts = &mut self.facts;
        facts.head_refs.extend(walk.head_refs.iter().map(|&(relation, at)| (relation, at.shifted(by))));
        facts.body_refs.extend(walk.body_refs.iter().map(|&(relation, at, to)| (relation, at.shifted(by), to)));
        facts.edges.extend(walk.edges.iter().map(|e| Edge { at: e.at.shifted(by), rule: e.rule.shifted(by), ..*e }));
        facts.arithmetic.extend(walk.arithmetic.iter().map(|a| ArithSite {
            rule: a.rule.shifted(by),
            at: a.at.shifted(by),
            ..*a
        }));
    }

    /// Adds `walk`'s share of the type solve (of `item`, as [`Cx::replay_facts`]): its
    /// variables' nodes, its unifications, its queued constraints.
    pub(super) fn replay_types(&mut self, item: &'a Item, walk: Arc<Walk>) {
        let by = walk.moved_by(item.span);
        let reported = self.diagnostics.len();
        let base = u32::try_from(self.inference.node_count()).unwrap_or(u32::MAX);
        for _ in &walk.scope.vars {
            self.inference.node();
        }
        for unify in &walk.unify {
            match *unify {
                Unify::Var { var, at, column } => {
                    let name = walk.scope.vars.get(var as usize).map_or("", |(name, _)| name.as_str());
                    let column = self.column(column);
                    self.unify_var(Node::from_index(base.wrapping_add(var)), name, at.shifted(by), column);
                }
                Unify::Lit { shape, at, column } => {
                    let column = self.column(column);
                    self.unify_lit(shape, at.shifted(by), column);
                }
            }
        }
        let start = self.pending.len();
        for at in &walk.pending {
            // The walk's tree is `item`'s (moved): each place it recorded is there.
            let pending = self.pending_at(item, at);
            debug_assert!(pending.is_some(), "a queued constraint not found in its tree");
            self.pending.extend(pending);
        }
        let pending = start..self.pending.len();
        let reported = self.diagnostics.len() != reported;
        self.work.push(RuleWork { walk, base, by, pending, reported });
    }

    /// The constraint queued at `at` in `item`'s tree.
    fn pending_at(&self, item: &'a Item, at: &At) -> Option<Pending<'a>> {
        let body = match &item.kind {
            ItemKind::Rule(rule) => &rule.body,
            ItemKind::Decision(decision) => &decision.body,
            ItemKind::Invariant(invariant) => &invariant.body,
            _ => return None,
        };
        Some(match at {
            At::Condition(path) => match condition(body, path)? {
                BodyItem::Compare(comparison) => Pending::Compare(comparison),
                BodyItem::Test(call) | BodyItem::NotTest(call, _) => Pending::Test(call),
                BodyItem::In(membership) => Pending::Member(membership),
                BodyItem::Atom(_) | BodyItem::Not(..) => return None,
            },
            At::AtomArg(path, arg, column) => match condition(body, path)? {
                BodyItem::Atom(atom) | BodyItem::Not(atom, _) => {
                    Pending::Column(&atom.args.get(*arg as usize)?.value, self.column(*column))
                }
                _ => return None,
            },
            At::HeadArg(arg, column) => {
                let ItemKind::Rule(rule) = &item.kind else { return None };
                Pending::Column(&rule.head.args.get(*arg as usize)?.value, self.column(*column))
            }
            At::Points => {
                let ItemKind::Decision(decision) = &item.kind else { return None };
                Pending::Points(decision.points.as_ref()?)
            }
            At::Approver => {
                let ItemKind::Decision(decision) = &item.kind else { return None };
                let Some(Approver::Var(group)) = &decision.approver else { return None };
                Pending::Approver(group)
            }
        })
    }
}
