//! The package's rules in clusters, typed apart (issue 10 item 7).
//!
//! Rules meet in the type solve only through the columns of derived relations: every other
//! node is one rule's own variable, and a declared column (or a library relation's solved
//! one) is a constant. So the rules that share no derived relation, directly or through
//! others, are typed independently: a cluster is a connected group of rules and the
//! derived relations they read or derive, and typing the clusters one by one gives each
//! variable and column the type that typing them all at once gives (each cluster's
//! unifications and constraints run in the same order, on nodes no other cluster reads).
//!
//! That makes a cluster's types a function of its rules' walks: a cluster whose rules have
//! the walks the last check typed (the same kept walks, in the same order, so the same
//! trees up to a move under the same declarations) gets the types that check gave it,
//! without replaying or solving it ([`ClusterMemo`]). A keystroke inside one rule re-types
//! the cluster of that rule only.
//!
//! A cluster's types are kept only when they are its own: none of its rules reported
//! anything (a report may name other items' spans, and poisons classes), each rule's walk
//! is kept in the [`super::ItemMemo`] (a walk that reported is made again every check), and
//! no rule derives a library module's relation (whose columns the modules' own rules typed
//! first, in another solve).

use super::infer::{SolvedRule, occurrence_types};
use super::summary::Walk;
use super::{Cx, DerivedColumns};
use crate::Ty;
use crate::hash::HashMap;
use gov_diag::Span;
use gov_syntax::ast::ItemAt;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::sync::Arc;

/// The package's rules grouped into clusters: each cluster's rules and derived relations,
/// one cluster after another in one vector each.
pub(super) struct Clusters {
    /// Each rule's cluster, by the rule's position in the package's rules.
    of: Vec<u32>,
    /// The rules of each cluster in order, cluster after cluster: cluster `c`'s are
    /// `rules[rule_starts[c]..rule_starts[c + 1]]`.
    rules: Vec<u32>,
    rule_starts: Vec<usize>,
    /// The derived relations of each cluster, likewise.
    relations: Vec<usize>,
    relation_starts: Vec<usize>,
    /// Whether a rule of the cluster derives a library module's relation, by cluster.
    pinned: Vec<bool>,
}

/// One cluster of [`Clusters`].
#[derive(Clone, Copy)]
pub(super) struct Cluster<'c> {
    /// Its rules, by position in the package's rules, in order.
    rules: &'c [u32],
    /// The derived relations its rules read or derive.
    relations: &'c [usize],
    /// Whether a rule of it derives a library module's relation.
    pinned: bool,
}

/// Where no cluster is.
const NONE: u32 = u32::MAX;

impl Clusters {
    /// The clusters of `walks`, the package's rules' walks in order, under `cx`'s columns.
    pub(super) fn of<'w>(cx: &Cx<'_, '_>, walks: impl ExactSizeIterator<Item = &'w Walk>) -> Clusters {
        let mut parent: Vec<u32> = (0..u32::try_from(cx.columns.len()).unwrap_or(u32::MAX)).collect();
        let mut anchors = Vec::with_capacity(walks.len());
        let mut pinned_rules = Vec::new();
        for (rule, walk) in walks.enumerate() {
            let mut anchor = None;
            for column in walk.columns() {
                let library = match cx.columns.get(column.relation as usize) {
                    Some(Some(DerivedColumns { frozen, .. })) => frozen.is_some(),
                    _ => continue,
                };
                // A library relation read in a body is its solved types, a constant.
                if library && !column.head {
                    continue;
                }
                if library {
                    pinned_rules.push(rule);
                }
                match anchor {
                    None => anchor = Some(column.relation),
                    Some(first) => union(&mut parent, first, column.relation),
                }
            }
            anchors.push(anchor);
        }
        // Clusters are numbered in the order of their first rule.
        let mut of_root = vec![NONE; parent.len()];
        let mut count = 0u32;
        let mut fresh = || {
            count += 1;
            count - 1
        };
        let of: Vec<u32> = anchors
            .iter()
            .map(|anchor| match anchor {
                Some(relation) => {
                    let root = find(&mut parent, *relation) as usize;
                    match of_root.get_mut(root) {
                        Some(cluster) if *cluster != NONE => *cluster,
                        Some(cluster) => {
                            *cluster = fresh();
                            *cluster
                        }
                        None => fresh(),
                    }
                }
                // A rule that touches no derived relation is a cluster of its own.
                None => fresh(),
            })
            .collect();
        let clusters = count as usize;
        let (rules, rule_starts) = grouped(clusters, of.iter().enumerate().map(|(rule, &c)| (c, rule as u32)));
        let relation_clusters = (0..parent.len()).filter_map(|relation| {
            let root = find(&mut parent, u32::try_from(relation).unwrap_or(NONE)) as usize;
            of_root.get(root).filter(|&&c| c != NONE).map(|&c| (c, relation))
        });
        let relation_clusters: Vec<(u32, usize)> = relation_clusters.collect();
        let (relations, relation_starts) = grouped(clusters, relation_clusters.into_iter());
        let mut pinned = vec![false; clusters];
        for rule in pinned_rules {
            if let Some(slot) = of.get(rule).and_then(|&c| pinned.get_mut(c as usize)) {
                *slot = true;
            }
        }
        Clusters { of, rules, rule_starts, relations, relation_starts, pinned }
    }

    /// The clusters, in order.
    fn iter(&self) -> impl Iterator<Item = Cluster<'_>> {
        (0..self.pinned.len()).map(|c| self.cluster(c))
    }

    fn cluster(&self, c: usize) -> Cluster<'_> {
        let range = |starts: &[usize]| starts.get(c).copied().unwrap_or(0)..starts.get(c + 1).copied().unwrap_or(0);
        Cluster {
            rules: self.rules.get(range(&self.rule_starts)).unwrap_or_default(),
            relations: self.relations.get(range(&self.relation_starts)).unwrap_or_default(),
            pinned: self.pinned.get(c).copied().unwrap_or(true),
        }
    }

    /// How many clusters there are.
    fn len(&self) -> usize {
        self.pinned.len()
    }

    /// Rule `rule`'s cluster.
    fn cluster_of(&self, rule: usize) -> usize {
        self.of.get(rule).map_or(usize::MAX, |&c| c as usize)
    }
}

/// The values of `pairs` (cluster, value), grouped by cluster in their order (a counting
/// sort): the values, and where each of the `clusters` clusters' start (and the last ends).
fn grouped<T: Copy + Default>(clusters: usize, pairs: impl Iterator<Item = (u32, T)> + Clone) -> (Vec<T>, Vec<usize>) {
    let mut starts = vec![0usize; clusters + 1];
    for (cluster, _) in pairs.clone() {
        if let Some(count) = starts.get_mut(cluster as usize + 1) {
            *count += 1;
        }
    }
    for c in 0..clusters {
        let before = starts.get(c).copied().unwrap_or(0);
        if let Some(start) = starts.get_mut(c + 1) {
            *start += before;
        }
    }
    let mut next = starts.clone();
    let mut values = vec![T::default(); starts.last().copied().unwrap_or(0)];
    for (cluster, value) in pairs {
        if let Some(at) = next.get_mut(cluster as usize) {
            if let Some(slot) = values.get_mut(*at) {
                *slot = value;
            }
            *at += 1;
        }
    }
    (values, starts)
}

fn find(parent: &mut [u32], mut node: u32) -> u32 {
    while let Some(&up) = parent.get(node as usize) {
        if up == node {
            break;
        }
        // Path halving: each node on the way points to its grandparent.
        let grand = parent.get(up as usize).copied().unwrap_or(up);
        if let Some(slot) = parent.get_mut(node as usize) {
            *slot = grand;
        }
        node = grand;
    }
    node
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (a, b) = (find(parent, a), find(parent, b));
    if a != b
        && let Some(slot) = parent.get_mut(b as usize)
    {
        *slot = a;
    }
}

/// The types of the clusters the last check typed and kept, by their rules' walks; only
/// the clusters of the last check are kept. Each entry is marked with the number of the
/// last check that found or kept it ([`super::ItemMemo`]'s count of checks).
#[derive(Debug, Default)]
pub(crate) struct ClusterMemo {
    kept: HashMap<u64, Kept>,
}

/// One cluster's types.
#[derive(Debug)]
struct Kept {
    /// Its rules' walks, in order: the key.
    walks: Vec<Arc<Walk>>,
    /// Its rules' variables' types, each rule's a range of `types` (in its walk's scope
    /// order), rule after rule.
    rules: Vec<Range<usize>>,
    types: Vec<Option<Ty>>,
    /// Its derived relations' columns' types, by relation index.
    columns: Vec<(usize, Vec<Option<Ty>>)>,
    check: u64,
}

impl Kept {
    /// The types of the variables of the cluster's `rule`-th rule.
    fn rule_types(&self, rule: usize) -> &[Option<Ty>] {
        self.rules.get(rule).and_then(|range| self.types.get(range.clone())).unwrap_or_default()
    }
}

/// What a cluster typed by this check keeps: its rules' walks and variables' types, its
/// relations' columns' types.
struct Typed<'t> {
    walks: Vec<Arc<Walk>>,
    rules: Vec<&'t [Option<Ty>]>,
    columns: Vec<(usize, Vec<Option<Ty>>)>,
}

impl ClusterMemo {
    /// Ends check `check`: the clusters it did not find or keep are dropped.
    pub(super) fn end(&mut self, check: u64) {
        self.kept.retain(|_, kept| kept.check == check);
    }

    /// The key of the kept types of the cluster whose rules' walks are `walks`, in order,
    /// if there are some (the entry is then check `check`'s).
    fn find<'w>(&mut self, check: u64, walks: impl Iterator<Item = &'w Arc<Walk>> + Clone) -> Option<u64> {
        let key = key(walks.clone());
        let kept = self.kept.get_mut(&key)?;
        let mut walks = walks;
        let same = kept.walks.iter().all(|kept| walks.next().is_some_and(|walk| Arc::ptr_eq(kept, walk)))
            && walks.next().is_none();
        if !same {
            return None;
        }
        kept.check = check;
        Some(key)
    }

    /// Keeps what check `check` typed of a cluster (unless another cluster of this check
    /// has its key, by a collision of hashes: that entry is in use, and this cluster is
    /// typed again next time).
    fn keep(&mut self, check: u64, typed: Typed<'_>) {
        let key = key(typed.walks.iter());
        if self.kept.get(&key).is_some_and(|kept| kept.check == check) {
            return;
        }
        let mut rules = Vec::with_capacity(typed.rules.len());
        let mut types = Vec::new();
        for rule in typed.rules {
            let start = types.len();
            types.extend_from_slice(rule);
            rules.push(start..types.len());
        }
        let kept = Kept { walks: typed.walks, rules, types, columns: typed.columns, check };
        self.kept.insert(key, kept);
    }
}

/// The key of a cluster: a hash of its rules' walks' addresses, in order. (The entry keeps
/// the walks, so no other walk has one of those addresses while it is kept.)
fn key<'w>(walks: impl Iterator<Item = &'w Arc<Walk>>) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0xc1a5_7e25).build_hasher();
    for walk in walks {
        h.write_usize(Arc::as_ptr(walk) as usize);
    }
    h.finish()
}

impl<'a> Cx<'a, '_> {
    /// Types the package's rules (`rules`: each item, its walk, and whether the walk is
    /// kept), cluster by cluster: a cluster kept by the last check gets its kept types, the
    /// others are replayed and solved. Lists each variable occurrence's type in `types` in
    /// the rules' order, and the first variable whose type nothing determines in `untyped`
    /// unless it has one; returns every derived relation's column types, relation after
    /// relation (which ends the solve: the columns' nodes are dropped).
    pub(super) fn type_package_rules(
        &mut self,
        rules: &[(&'a ItemAt, Arc<Walk>, bool)],
        types: &mut Vec<(Span, Ty)>,
        untyped: &mut Option<(Span, String)>,
    ) -> Vec<Option<Ty>> {
        let clusters = Clusters::of(self, rules.iter().map(|(_, walk, _)| &**walk));
        let check = self.memo.check;
        let mut memo = std::mem::take(&mut self.memo.clusters);
        fn walks<'r>(
            rules: &'r [(&ItemAt, Arc<Walk>, bool)],
            cluster: Cluster<'r>,
        ) -> impl Iterator<Item = &'r Arc<Walk>> + Clone {
            cluster.rules.iter().filter_map(|&r| rules.get(r as usize)).map(|(_, walk, _)| walk)
        }
        let steady = |cluster: Cluster<'_>| {
            !cluster.pinned && cluster.rules.iter().all(|&r| rules.get(r as usize).is_some_and(|(_, _, kept)| *kept))
        };
        let found: Vec<Option<u64>> =
            clusters.iter().map(|c| if steady(c) { memo.find(check, walks(rules, c)) } else { None }).collect();
        let kept_cluster = |rule: usize| found.get(clusters.cluster_of(rule)).copied().flatten();
        for (index, (item, walk, _)) in rules.iter().enumerate() {
            if kept_cluster(index).is_none() {
                self.memo.typed += 1;
                self.replay_types(item, Arc::clone(walk));
            }
        }
        self.memo.sizes.work = self.work.len();
        self.memo.sizes.pending = self.pending.len();
        let solved = self.solve();
        // The variables' types in the rules' order, each rule's from the solve or from its
        // cluster's kept types (a kept cluster's rules come in its order).
        let mut solved_rules = solved.rules.iter();
        let mut next_in_cluster = vec![0usize; clusters.len()];
        let mut solved_of: Vec<Option<&SolvedRule>> = Vec::with_capacity(rules.len());
        for (index, (item, walk, _)) in rules.iter().enumerate() {
            match kept_cluster(index).and_then(|key| memo.kept.get(&key)) {
                Some(kept) => {
                    let position = next_in_cluster.get_mut(clusters.cluster_of(index));
                    let at = position.map_or(0, |p| std::mem::replace(p, *p + 1));
                    occurrence_types(walk, walk.moved_by(item.span()), kept.rule_types(at), types, untyped);
                    solved_of.push(None);
                }
                None => {
                    // Invariant: the solve's rules are the rules replayed above, in order.
                    let rule = solved_rules.next();
                    debug_assert!(rule.is_some_and(|r| Arc::ptr_eq(&r.walk, walk)), "a solved rule out of order");
                    if let Some(rule) = rule {
                        let solved_types = solved.types.get(rule.types.clone()).unwrap_or_default();
                        occurrence_types(&rule.walk, rule.by, solved_types, types, untyped);
                    }
                    solved_of.push(rule);
                }
            }
        }
        // Where each kept cluster's relations' types are: its key and the relation's place
        // among its columns.
        let mut kept_columns: Vec<Option<(u64, usize)>> = vec![None; self.columns.len()];
        for (cluster, key) in clusters.iter().zip(&found) {
            if let Some((key, kept)) = key.and_then(|key| Some((key, memo.kept.get(&key)?))) {
                for (at, (relation, _)) in kept.columns.iter().enumerate() {
                    if let Some(slot) = kept_columns.get_mut(*relation) {
                        *slot = Some((key, at));
                    }
                }
                continue;
            }
            let typed: Option<Vec<&[Option<Ty>]>> = cluster
                .rules
                .iter()
                .map(|&r| {
                    let rule = solved_of.get(r as usize).copied().flatten().filter(|rule| !rule.reported)?;
                    solved.types.get(rule.types.clone())
                })
                .collect();
            if let Some(typed) = typed.filter(|_| steady(cluster)) {
                let columns = cluster.relations.iter().filter_map(|&r| Some((r, self.column_types(r)?))).collect();
                memo.keep(check, Typed { walks: walks(rules, cluster).cloned().collect(), rules: typed, columns });
            }
        }
        // Every derived relation's column types, relation after relation, in one vector: a
        // kept cluster's relations have the types it kept, the others their nodes'.
        let derived = std::mem::take(&mut self.columns);
        let mut columns = Vec::with_capacity(derived.len());
        for (derived, kept) in derived.iter().zip(&kept_columns) {
            let Some(derived) = derived else { continue };
            let kept = kept.and_then(|(key, at)| memo.kept.get(&key)?.columns.get(at));
            match kept {
                Some((_, types)) => columns.extend((0..derived.nodes.len()).map(|i| types.get(i).copied().flatten())),
                None => columns.extend(derived.nodes.iter().map(|&node| self.var_type(node))),
            }
        }
        self.memo.clusters = memo;
        columns
    }
}
