//! Differences between two versions of a package: candidate requests whose decision may
//! change, and a proof that none does.
//!
//! Both versions' decision rules are unfolded ([`unfold`]) and their input and data relations
//! matched by name and schema, so the new version's queries are read over the old version's
//! relations. **Candidates** are witnesses of: each rule's query alone; each rule's query with
//! each query of the other version; and each rule's query with the other version's query
//! with one condition negated (a comparison flipped, a negated atom made positive), which is
//! where a tightened or loosened rule differs; with the data fixed to a version's data files,
//! also each rule's query with one condition negated, alone (where the data that differs
//! between the versions is read). The engine decides which of them change (`gov-driver`);
//! the search only proposes.
//!
//! **No change** is decided exactly over the fragment (`changes`): the requests on which the
//! new version decides an outcome the old one does not, written as rule queries with others
//! excluded and split case by case ([`exclude`]); no branch left is the proof, and each branch
//! left is a candidate. Rules outside the fragment that are the same in both versions are
//! opaque (`Unchanged`): the comparison is made for each way they may fire. Two versions
//! that are the same program, their places in source aside, are the same too. Otherwise the
//! answer is unknown unless the engine confirmed a change. The requests that change are split
//! by which rules fire (`Classes`), a candidate per class of change, complete over the
//! fragment within its bounds ([`Search::incomplete`] says when one is reached). [`search`]
//! proves for the data
//! it is given (any data, or one set of facts read by both versions);
//! [`search_deployed`] fixes each version's own data.

use crate::negation::{MAX_SPLIT_SOLVES, exclude, first_left};
use crate::query::{Item, Query, Term, unfold};
use crate::solve::{Data, Rows, Schema, solve};
use crate::{Outcome, Witness};
use gov_ir::{Ir, RelationId};
use gov_value::{CompareOp, Effect};
use std::collections::HashMap;

/// How many candidate witnesses the search proposes at most.
pub const MAX_CANDIDATES: usize = 512;

/// How many extra queries the search for candidates with fewer rules firing may solve.
const MAX_SOLVES: usize = 5_000;

/// How many homomorphisms one containment check tries before it gives up.
const MAX_STEPS: usize = 4096;

/// What the search proposes for two versions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Search {
    /// Candidate requests (and data), over the old version's relations, distinct.
    pub candidates: Vec<Witness>,
    /// Whether both versions decide every request alike: a proof within the fragment.
    pub same: bool,
    /// Why the search cannot prove that they do, when it cannot (empty when `same`).
    pub reasons: Vec<String>,
    /// How many solver calls the search for more candidates than the exact comparison's
    /// made, at most `MAX_SOLVES` (5 000): what its cost is bounded by.
    pub candidate_solves: usize,
    /// How many solver calls the split into classes made, at most `MAX_CLASS_SOLVES` (5 000).
    pub class_solves: usize,
    /// Why the candidates may miss a class of change (a bound of the split into classes
    /// reached, or a class the solver could not decide): empty when they show every class
    /// of the exact comparison's changes (each then confirmed by the engines).
    pub incomplete: Vec<String>,
}

/// One version's decision rules (`allow`, `deny`, `escalate`: the others decide nothing),
/// unfolded over the old version's relations.
struct Rules {
    /// Each decision rule's name, effect and queries (or why it is outside the fragment).
    rules: Vec<(String, Effect, Result<Vec<Query>, String>)>,
    /// The effects of the rules outside the fragment that fire on the same requests in both
    /// versions ([`Unchanged`]): where they fire is unknown, but it is the same on both sides.
    opaque: Vec<Effect>,
}

/// One version's decision rules' queries (those inside the fragment), by effect.
struct Effects<'a> {
    deny: Vec<&'a Query>,
    escalate: Vec<&'a Query>,
    allow: Vec<&'a Query>,
}

impl Rules {
    /// The queries by effect, with the opaque rules of `fires` (their effects) as a rule that
    /// always fires (`⊤`, in both versions alike) and the other opaque rules left out.
    fn by_effect<'q>(&'q self, top: &'q Query, fires: &[Effect]) -> Effects<'q> {
        let of = |effect: Effect| -> Vec<&Query> {
            let rules = self.rules.iter().filter(|(_, e, _)| *e == effect);
            let mut queries: Vec<&Query> = rules.filter_map(|(_, _, r)| r.as_ref().ok()).flatten().collect();
            if fires.contains(&effect) {
                queries.push(top);
            }
            queries
        };
        Effects { deny: of(Effect::Deny), escalate: of(Effect::Escalate), allow: of(Effect::Allow) }
    }
}

/// Searches two versions of a package for requests whose decision changes, the candidates
/// with `data`: [`Data::Any`] (each witness names the data facts it needs), or fixed to one
/// version's data facts over the old version's relations (the witnesses need no data of
/// their own, and find the changes that data produces; [`search_deployed`] fixes each
/// version's own). `same` is a proof for `data`.
pub fn search(old: &Ir, new: &Ir, data: Data<'_>) -> Search {
    let old = &Schema::new(old);
    let same_program = same_program(old, new);
    if same_program && data == Data::Any {
        // Invariant: with any data the versions decide alike; candidates (for any data) could
        // only differ through the versions' data files, which the caller compares.
        return Search { same: true, ..Search::default() };
    }
    let unchanged = Unchanged::new(old, new, false);
    compare(old, new, &relation_map(old, new), data, &unchanged, same_program)
}

/// Searches two versions of a package, each with its own data facts fixed (the deployment
/// question: "with each version's data files as they are, does any request change?"),
/// `old_facts` over the old version's relations and `new_facts` over the new version's. The
/// new version's data relations are read as copies of the old version's (a relation each,
/// holding the new facts), so the old rules read the old data and the new rules the new
/// data, and the comparison is exact over the fragment as with any data: `same` is a proof
/// for these data, and the candidates need no data of their own. When the facts differ, a
/// rule that reads data is never opaque (the same rule may fire differently on them); when
/// they are the same, both versions read the old relations (a rule the same in both versions
/// is then the same query, which the candidate search need not refine).
pub fn search_deployed(old: &Ir, new: &Ir, old_facts: &[crate::Fact], new_facts: &[crate::Fact]) -> Search {
    let alike = relation_map(old, new);
    let same_facts = {
        let old_set: std::collections::HashSet<&crate::Fact> = old_facts.iter().collect();
        let mapped: Option<std::collections::HashSet<crate::Fact>> = new_facts
            .iter()
            .map(|f| Some(crate::Fact { relation: *alike.get(&f.relation)?, values: f.values.clone() }))
            .collect();
        mapped.is_some_and(|m| m.len() == old_set.len() && m.iter().all(|f| old_set.contains(f)))
    };
    if same_facts {
        // Invariant: with the same facts on both sides, each data relation holds the same
        // rows for both versions' rules, so both read the old one (no copies): a rule the
        // same in both versions then unfolds to the same queries, and fires alike, data or
        // not.
        let old = &Schema::new(old);
        let unchanged = Unchanged::new(old, new, false);
        return compare(old, new, &alike, Data::Fixed(old_facts), &unchanged, false);
    }
    let mut joint = old.clone();
    let mut map = alike.clone();
    let mut copies = HashMap::new();
    for (new_id, old_id) in map.iter_mut() {
        let Some(relation) = old.relation(*old_id).filter(|r| r.kind == gov_value::RelationKind::Data) else {
            continue;
        };
        // Invariant: the copy is appended, so every id of `old` means the same in `joint`.
        joint.relations.push(gov_ir::Relation { name: format!("{} (new)", relation.name), ..relation.clone() });
        let copy = RelationId(gov_ir::dense(joint.relations.len() - 1));
        copies.insert(*new_id, copy);
        *old_id = copy;
    }
    let new_over_joint = new_facts
        .iter()
        .filter_map(|f| Some(crate::Fact { relation: *copies.get(&f.relation)?, values: f.values.clone() }));
    let facts: Vec<crate::Fact> = old_facts.iter().cloned().chain(new_over_joint).collect();
    let joint = &Schema::new(&joint);
    let unchanged = Unchanged::new(joint, new, true);
    compare(joint, new, &map, Data::Fixed(&facts), &unchanged, false)
}

/// The search of [`search`], the new version's relations read over `old`'s through `map`.
fn compare(
    old: &Schema<'_>,
    new: &Ir,
    map: &HashMap<RelationId, RelationId>,
    data: Data<'_>,
    unchanged: &Unchanged,
    same_program: bool,
) -> Search {
    let old_rules = rules(old, old, &HashMap::new(), unchanged);
    let new_rules = rules(new, old, map, unchanged);
    let mut reasons = Vec::new();
    for (version, rules) in [("old", &old_rules), ("new", &new_rules)] {
        for (name, _, queries) in &rules.rules {
            if let Err(reason) = queries {
                reasons.push(format!("`{name}` of the {version} version is outside the analysis: {reason}"));
            }
        }
    }
    let mut candidates = Vec::new();
    let mut incomplete = Vec::new();
    let mut class_solves = 0;
    // The exact comparison, when every decision rule is inside the fragment or the same in
    // both versions: its branches are the requests whose decision changes (with any data: the
    // proof of "no change").
    let mut exact = None;
    let analysable = reasons.is_empty();
    if analysable {
        let mut budget = MAX_SPLIT_SOLVES;
        let defaults = (old.default_allow, new.default_allow);
        let top = Query::default();
        let mut branches = Vec::new();
        let mut failed = None;
        let ways = instances(&old_rules.opaque);
        for fires in &ways {
            let (o, n) = (old_rules.by_effect(&top, fires), new_rules.by_effect(&top, fires));
            match changes(old, &o, &n, defaults, data, &mut budget) {
                Ok(found) => branches.extend(found),
                Err(why) => failed = Some(format!("cannot compare the decisions exactly: {why}")),
            }
        }
        for branch in &branches {
            match witness(old, branch, data) {
                Outcome::Candidate(w) => push(&mut candidates, w),
                Outcome::Disjoint => {}
                Outcome::Unknown(why) => {
                    reasons.push(format!("the solver cannot decide where the decisions differ: {why}"));
                }
            }
        }
        if !branches.is_empty() {
            let mut split = Classes::new(&old_rules, &new_rules, defaults);
            for fires in &ways {
                // Past the bound, the branches' own witnesses and the candidates below remain.
                let (leaves, cut) = split.of(old, fires, data);
                if let Some(why) = cut {
                    push_new(&mut incomplete, why);
                }
                for leaf in leaves {
                    match witness(old, &leaf, data) {
                        Outcome::Candidate(w) => push(&mut candidates, w),
                        // A leaf is kept only while some request remains in it; none is no class.
                        Outcome::Disjoint => {}
                        Outcome::Unknown(why) => {
                            push_new(&mut incomplete, format!("the solver cannot decide a class of change: {why}"));
                        }
                    }
                }
            }
            class_solves = MAX_CLASS_SOLVES - split.budget;
        }
        match failed {
            Some(why) => reasons.push(why),
            None => exact = Some(branches.is_empty()),
        }
    }
    // Without the exact comparison the changes found are the candidates' only: the list of
    // classes may miss one, for the reasons the comparison was not made.
    if exact.is_none() {
        for why in &reasons {
            push_new(&mut incomplete, format!("the comparison is not exact: {why}"));
        }
    }
    if exact == Some(false) && reasons.is_empty() {
        reasons.push(
            "the rules decide some requests differently, but the engines decided the requests the analysis found \
             alike (the data files may hold facts the analysis did not assume)"
                .to_owned(),
        );
    }
    // With any data and every rule inside the fragment, a decision can change only where a
    // query of one version that the other does not have holds: the other candidates (which
    // show more classes of change) are sought there only.
    let only_differing = data == Data::Any && exact.is_some();
    let candidate_solves = heuristic(old, &old_rules, &new_rules, data, only_differing, &mut candidates);
    if same_program {
        return Search { candidates, same: true, candidate_solves, ..Search::default() };
    }
    let same = exact == Some(true) && reasons.is_empty();
    Search { candidates, same, reasons, candidate_solves, class_solves, incomplete }
}

/// The requests (with `data`) whose decision differs between two versions, as queries none
/// of which the solver proved disjoint (empty: none differs), or why the case split could not
/// tell; exact over the fragment.
///
/// A version denies where a deny rule fires (`D`) or, with the default deny, where no rule
/// fires; escalates where `¬D ∧ E`; allows where `¬D ∧ ¬E ∧ (A ∨ default allow)`. Two
/// decisions differ exactly when the new version decides some outcome the old one does not,
/// so the change is the union, over the three outcomes, of "new decides it, old does not",
/// each written as conjunctions of rule queries (positive) and rule queries excluded:
///
/// | new decides | old does not: the old version | checks (positive; excluded) |
/// |---|---|---|
/// | deny, by `q ∈ D'` | escalates, allows or decides allow by default | `q ∧ p` for `p` in `E ∪ A` (`⊤` with the default allow); `D` |
/// | deny, by default | the same | `p` as above; `D' ∪ E' ∪ A' ∪ D` |
/// | escalate, by `q ∈ E'` | denies | `q ∧ p` for `p ∈ D`; `D'` |
/// | escalate, by `q ∈ E'` | neither denies nor escalates | `q`; `D' ∪ E` |
/// | allow, by `a ∈ A'` (`⊤` with the default allow) | denies or escalates | `a ∧ p` for `p ∈ D ∪ E`; `D' ∪ E'` |
/// | allow, the same | no rule fires, default deny | `a`; `D' ∪ E' ∪ A` |
///
/// A check whose positive queries include one it excludes is empty (the same rule in both
/// versions, unfolded alike), so only what differs is split.
fn changes(
    ir: &Schema<'_>,
    old: &Effects<'_>,
    new: &Effects<'_>,
    (old_default_allow, new_default_allow): (bool, bool),
    data: Data<'_>,
    budget: &mut usize,
) -> Result<Vec<Query>, String> {
    let top = Query::default();
    let mut out = Vec::new();
    // Each query of `firsts` that `excluded` does not hold, with each of `seconds` (or alone
    // when `seconds` is empty) that it does not hold either: the base of one split.
    let mut split = |firsts: &[&Query], seconds: &[&Query], excluded: &[&Query]| -> Result<(), String> {
        for q in firsts.iter().filter(|q| !excluded.contains(q)) {
            if seconds.is_empty() {
                out.extend(exclude(ir, q, excluded, data, budget)?);
            }
            for p in seconds.iter().filter(|p| !excluded.contains(p)) {
                out.extend(exclude(ir, &q.and(p), excluded, data, budget)?);
            }
        }
        Ok(())
    };
    // Where the old version does not deny: it escalates, allows, or allows by default.
    let mut old_not_deny = cat(&[&old.escalate, &old.allow]);
    if old_default_allow {
        old_not_deny.push(&top);
    }
    if !old_not_deny.is_empty() {
        split(&new.deny, &old_not_deny, &old.deny)?;
        if !new_default_allow {
            split(&old_not_deny, &[], &cat(&[&new.deny, &new.escalate, &new.allow, &old.deny]))?;
        }
    }
    if !old.deny.is_empty() {
        split(&new.escalate, &old.deny, &new.deny)?;
    }
    split(&new.escalate, &[], &cat(&[&new.deny, &old.escalate]))?;
    let mut new_allows = new.allow.clone();
    if new_default_allow {
        new_allows.push(&top);
    }
    let higher = cat(&[&new.deny, &new.escalate]);
    let old_higher = cat(&[&old.deny, &old.escalate]);
    if !old_higher.is_empty() {
        split(&new_allows, &old_higher, &higher)?;
    }
    if !old_default_allow {
        split(&new_allows, &[], &cat(&[&higher, &old.allow]))?;
    }
    Ok(out)
}

/// How many solver calls splitting the requests that change into classes ([`Classes`]) may
/// make, for one comparison.
const MAX_CLASS_SOLVES: usize = 5_000;

/// The split of the requests whose decision changes into classes: which decision rules fire.
///
/// Over an input of several rows a rule fires when some row (or rows) meets it, and the rows
/// of one request may serve different rules, so a class is a set of rules `S` such that some
/// request meets every rule of `S` (each through rows of its own, which may be the same) and
/// no row meets any other: `⊤` with a query of each rule of `S` added, and the rules not in
/// `S` excluded ([`exclude`], per row where needed). The rules are decided one at a time,
/// depth first, those that differ between the versions first; a node is `⊤` with the queries
/// chosen so far and the rules excluded so far, kept only while [`first_left`] finds a
/// request in it (the branch it finds is the node's sample) and while some way the rules
/// left may fire makes the two versions decide differently (`may_change`). For the next
/// rule: one solver call per query tells whether it can fire there at all; if it can, either
/// it is excluded (a child when requests are left), or, when excluding it leaves nothing (it
/// fires wherever the node holds), the node continues as it is, or else each of its queries
/// meeting the node is added (a child each, with the rows it reads). Each leaf decides every
/// rule, so each of its requests fires the same rules in both versions, whose decisions
/// differ: its sample is a witness of one class of change, and every class has a leaf. Exact
/// over the fragment; past [`MAX_CLASS_SOLVES`] solver calls or [`MAX_CANDIDATES`] classes it
/// stops, and says so.
struct Classes<'r> {
    /// Each decision rule of either version (its queries; one read alike by both, once), with
    /// its outcome bits ([`bit`]) in the old and in the new version, differing rules first.
    rules: Vec<(&'r [Query], u8, u8)>,
    /// Whether each version allows by default (old, new).
    defaults: (bool, bool),
    /// The solver calls left, for every way the opaque rules fire.
    budget: usize,
}

/// A node of the split into classes: the rules decided so far (whether each fires), `⊤` with
/// the queries of those that fire, the queries of those excluded, and a branch of the node
/// with no excluded query proved disjoint from it.
struct Node<'q> {
    fired: Vec<bool>,
    query: Query,
    excluded: Vec<&'q Query>,
    sample: Query,
}

/// The bit of an outcome in a set of outcomes fired: deny, escalate, allow.
fn bit(effect: Effect) -> u8 {
    match effect {
        Effect::Deny => 1,
        Effect::Escalate => 2,
        _ => 4,
    }
}

/// The outcome a version decides when the rules of the outcome bits `fired` fire: deny,
/// escalate, allow (as [`bit`]s), or the default.
fn decides(fired: u8, default_allow: bool) -> u8 {
    match fired {
        f if f & 1 != 0 => 1,
        f if f & 2 != 0 => 2,
        f if f & 4 != 0 || default_allow => 4,
        _ => 1,
    }
}

impl<'r> Classes<'r> {
    /// The decision rules of both versions, each read alike by both once, differing first.
    fn new(old: &'r Rules, new: &'r Rules, defaults: (bool, bool)) -> Classes<'r> {
        let mut rules: Vec<(&[Query], u8, u8)> = Vec::new();
        for (_, effect, queries) in &old.rules {
            if let Ok(queries) = queries {
                rules.push((queries, bit(*effect), 0));
            }
        }
        for (_, effect, queries) in &new.rules {
            let Ok(queries) = queries else { continue };
            match rules.iter_mut().find(|(qs, _, n)| *qs == queries.as_slice() && *n == 0) {
                Some(rule) => rule.2 = bit(*effect),
                None => rules.push((queries, 0, bit(*effect))),
            }
        }
        // Stable: the rules that differ keep their order, then the others.
        rules.sort_by_key(|(_, o, n)| o == n);
        Classes { rules, defaults, budget: MAX_CLASS_SOLVES }
    }

    /// Whether some way the rules after `fired` may fire makes the versions decide
    /// differently, the opaque rules firing with the outcome bits `opaque` in both.
    fn may_change(&self, fired: &[bool], opaque: u8) -> bool {
        let mut reach = std::collections::BTreeSet::from([(opaque, opaque)]);
        for (k, (_, o, n)) in self.rules.iter().enumerate() {
            match fired.get(k) {
                Some(false) => {}
                Some(true) => reach = reach.into_iter().map(|(a, b)| (a | o, b | n)).collect(),
                None => {
                    let more: Vec<(u8, u8)> = reach.iter().map(|(a, b)| (a | o, b | n)).collect();
                    reach.extend(more);
                }
            }
        }
        let (old_default, new_default) = self.defaults;
        reach.iter().any(|(a, b)| decides(*a, old_default) != decides(*b, new_default))
    }

    /// One sample per class of change, the opaque rules of the effects `fires` firing (in
    /// both versions), and why the split stopped short where it did.
    fn of(&mut self, ir: &Schema<'_>, fires: &[Effect], data: Data<'_>) -> (Vec<Query>, Option<String>) {
        let opaque = fires.iter().fold(0, |bits, effect| bits | bit(*effect));
        let root = Node { fired: Vec::new(), query: Query::default(), excluded: Vec::new(), sample: Query::default() };
        let mut leaves = Vec::new();
        let mut open = vec![root];
        while let Some(node) = open.pop() {
            if !self.may_change(&node.fired, opaque) {
                continue;
            }
            let Some(&(queries, _, _)) = self.rules.get(node.fired.len()) else {
                if leaves.len() == MAX_CANDIDATES {
                    return (leaves, Some(format!("more than {MAX_CANDIDATES} classes")));
                }
                leaves.push(node.sample);
                continue;
            };
            match self.children(ir, node, queries, opaque, data) {
                Ok(children) => open.extend(children),
                Err(why) => {
                    let why = if self.budget == 0 { format!("more than {MAX_CLASS_SOLVES} solver calls") } else { why };
                    return (leaves, Some(format!("the split into classes stopped: {why}")));
                }
            }
        }
        (leaves, None)
    }

    /// The children of `node` for the next rule, `queries` (see [`Classes`]), the opaque
    /// rules firing with the outcome bits `opaque`.
    fn children(
        &mut self,
        ir: &Schema<'_>,
        node: Node<'r>,
        queries: &'r [Query],
        opaque: u8,
        data: Data<'_>,
    ) -> Result<Vec<Node<'r>>, String> {
        let mut meets = Vec::new();
        for q in queries {
            self.budget = self.budget.checked_sub(1).ok_or("no solver calls left")?;
            let both = node.query.and(q);
            if solve(ir, &both, Rows::Declared, data) != Outcome::Disjoint {
                meets.push(both);
            }
        }
        let (unfired, fired) = ([node.fired.as_slice(), &[false]].concat(), [node.fired.as_slice(), &[true]].concat());
        // Only the children below which the decisions may differ are sought.
        let (want_unfired, want_fired) = (self.may_change(&unfired, opaque), self.may_change(&fired, opaque));
        if meets.is_empty() {
            return Ok(if want_unfired { vec![Node { fired: unfired, ..node }] } else { Vec::new() });
        }
        let mut children = Vec::new();
        if want_unfired {
            let excluded: Vec<&Query> = node.excluded.iter().copied().chain(queries).collect();
            let Some(sample) = first_left(ir, &node.query, &excluded, data, &mut self.budget)? else {
                // The rule fires wherever the node holds.
                return Ok(if want_fired { vec![Node { fired, ..node }] } else { Vec::new() });
            };
            children.push(Node { fired: unfired, query: node.query.clone(), excluded, sample });
        }
        if !want_fired {
            return Ok(children);
        }
        for both in meets {
            if let Some(sample) = first_left(ir, &both, &node.excluded, data, &mut self.budget)? {
                children.push(Node { fired: fired.clone(), query: both, excluded: node.excluded.clone(), sample });
            }
        }
        Ok(children)
    }
}

/// The queries of `lists`, one after another.
fn cat<'q>(lists: &[&[&'q Query]]) -> Vec<&'q Query> {
    lists.iter().flat_map(|l| l.iter().copied()).collect()
}

/// More candidates, which show more classes of change than [`changes`]'s branches: each
/// rule's query alone; with each query of the other version; with one way the other
/// version's query fails; and each with as few other rules firing as the search can manage.
/// With `only_differing`, only bases that hold a query the other version does not have.
/// Returns how many solver calls it made.
fn heuristic(
    old: &Schema<'_>,
    old_rules: &Rules,
    new_rules: &Rules,
    data: Data<'_>,
    only_differing: bool,
    candidates: &mut Vec<Witness>,
) -> usize {
    let queries = |rules: &Rules| -> Vec<(Effect, Query)> {
        let each = rules.rules.iter().filter_map(|(_, effect, r)| Some((*effect, r.as_ref().ok()?)));
        each.flat_map(|(effect, queries)| queries.iter().map(move |q| (effect, q.clone()))).collect()
    };
    let (old_queries, new_queries) = (queries(old_rules), queries(new_rules));
    let every: Vec<&Query> = old_queries.iter().chain(&new_queries).map(|(_, q)| q).collect();
    let (old_ids, new_ids) = (0..old_queries.len(), old_queries.len()..every.len());
    // Whether query `i` is one the other version does not have, with its effect.
    let differs = |i: usize| match (old_queries.get(i), i.checked_sub(old_queries.len())) {
        (Some(q), _) => !new_queries.contains(q),
        (None, Some(j)) => new_queries.get(j).is_some_and(|q| !old_queries.contains(q)),
        (None, None) => false,
    };
    // Each base query, with the indices (into `every`) of the queries it is made of.
    let mut bases: Vec<(Query, Vec<usize>)> = vec![(Query::default(), Vec::new())];
    // With the data fixed, a change may come from the data alone (the versions' data files
    // differ, the rules do not): each way a rule fails, alone, meets the facts that differ.
    if data != Data::Any {
        for (i, p) in every.iter().enumerate() {
            bases.extend(flips(old, p).into_iter().map(|flipped| (flipped, vec![i])));
        }
    }
    for (mine, theirs) in [(old_ids.clone(), new_ids.clone()), (new_ids.clone(), old_ids.clone())] {
        for i in mine {
            let Some(q) = every.get(i) else { continue };
            if !only_differing || differs(i) {
                bases.push(((*q).clone(), vec![i]));
            }
            for j in theirs.clone() {
                let Some(p) = every.get(j) else { continue };
                if only_differing && !differs(i) && !differs(j) {
                    continue;
                }
                bases.push((q.and(p), vec![i, j]));
                bases.extend(flips(old, p).iter().map(|flipped| (q.and(flipped), vec![i, j])));
            }
        }
    }
    let mut budget = MAX_SOLVES;
    for (base, made_of) in &bases {
        if candidates.len() >= MAX_CANDIDATES {
            break;
        }
        let Outcome::Candidate(first) = witness(old, base, data) else { continue };
        push(candidates, first);
        // The same request with as few other rules firing as the search can manage: each
        // other rule excluded in turn ([`exclude`], exactly, per row where it reads a relation
        // of several rows), the first branch left kept if it has a witness (a change a
        // higher-priority rule hides on the first witness shows here).
        let mut fewer = base.clone();
        let mut last = None;
        // Only the base of no query and those made of a query one version has and the other
        // does not are refined: each refinement asks whether every other rule meets the base
        // (a solver call or more each, a case split for a rule read per row), and on
        // `examples/customer-ops`, whose edited rule is outside the analysis so that every
        // pair of queries is a base, refining them all spent the whole budget.
        if !made_of.is_empty() && !made_of.iter().any(|k| differs(*k)) {
            continue;
        }
        for (_, rule) in every.iter().enumerate().filter(|(k, _)| !made_of.contains(k)) {
            let Ok(branches) = exclude(old, &fewer, &[*rule], data, &mut budget) else { break };
            if branches.first() == Some(&fewer) {
                // Disjoint from the rule already: it does not fire.
                continue;
            }
            for branch in branches {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                if let Outcome::Candidate(w) = witness(old, &branch, data) {
                    fewer = branch;
                    last = Some(w);
                    break;
                }
            }
        }
        if let Some(w) = last {
            push(candidates, w);
        }
    }
    MAX_SOLVES - budget
}

/// Whether the two versions are the same program, their places in source aside (a comment
/// or a blank line added): then they decide alike whatever the analysis can unfold.
fn same_program(old: &Ir, new: &Ir) -> bool {
    let bare = |ir: &Ir| Ir {
        package: String::new(),
        files: Vec::new(),
        spans: gov_ir::Spans::default(),
        invariants: Vec::new(),
        ..ir.clone()
    };
    bare(old) == bare(new)
}

/// Adds a reason not yet given.
fn push_new(reasons: &mut Vec<String>, reason: String) {
    if !reasons.contains(&reason) {
        reasons.push(reason);
    }
}

/// Adds a candidate not yet proposed.
fn push(candidates: &mut Vec<Witness>, witness: Witness) {
    if !candidates.contains(&witness) {
        candidates.push(witness);
    }
}

/// A witness of the query: one fact per input relation first, else as declared.
fn witness(ir: &Schema<'_>, query: &Query, data: Data<'_>) -> Outcome {
    match solve(ir, query, Rows::One, data) {
        Outcome::Candidate(w) => Outcome::Candidate(w),
        _ => solve(ir, query, Rows::Declared, data),
    }
}

/// Each `allow`, `deny` and `escalate` rule of `ir` (library rules too: they decide as well),
/// its queries read over `target`'s relations through `map` (the identity when `map` is
/// empty); a rule outside the fragment that `unchanged` holds the same in both versions is
/// opaque rather than a reason.
fn rules(ir: &Ir, target: &Ir, map: &HashMap<RelationId, RelationId>, unchanged: &Unchanged) -> Rules {
    let same = std::ptr::eq(ir, target);
    let mut out = Rules { rules: Vec::new(), opaque: Vec::new() };
    let deciding = ir.decisions.iter().filter(|d| matches!(d.effect, Effect::Allow | Effect::Deny | Effect::Escalate));
    for d in deciding {
        let queries = unfold(ir, d.rule).and_then(|queries| {
            if same { Ok(queries) } else { queries.iter().map(|q| translate(ir, q, map)).collect() }
        });
        // Invariant: an opaque rule is one `unchanged` holds alike in both versions, so where
        // it fires is the same on both sides; one outside the fragment, or one whose negation
        // the case split cannot write, is opaque rather than unknown.
        let negatable = |qs: &Vec<Query>| qs.iter().all(|q| crate::negation::negatable(target, q));
        match queries {
            Err(_) if unchanged.holds(&d.name) => out.opaque.push(d.effect),
            Ok(qs) if !negatable(&qs) && unchanged.holds(&d.name) => out.opaque.push(d.effect),
            queries => out.rules.push((d.name.clone(), d.effect, queries.map(|qs| qs.iter().map(normalize).collect()))),
        }
    }
    out
}

/// The ways the opaque rules (by effect) may fire on one request, each as the effects of
/// those that fire: a deny that fires denies in both versions, so only where none does is
/// asked; an escalate (or allow) that fires is one `⊤` rule of its effect, whichever it is.
fn instances(opaque: &[Effect]) -> Vec<Vec<Effect>> {
    let mut out = vec![Vec::new()];
    for effect in [Effect::Escalate, Effect::Allow] {
        if opaque.contains(&effect) {
            let with: Vec<Vec<Effect>> = out.iter().map(|fires| [fires.as_slice(), &[effect]].concat()).collect();
            out.extend(with);
        }
    }
    out
}

/// The rules deriving each relation of `ir`, in order.
fn derived_by_relation(ir: &Ir) -> HashMap<RelationId, Vec<&gov_ir::Rule>> {
    let mut of: HashMap<RelationId, Vec<&gov_ir::Rule>> = HashMap::new();
    for rule in &ir.rules {
        if let gov_ir::Head::Derive { relation, .. } = &rule.head {
            of.entry(*relation).or_default().push(rule);
        }
    }
    of
}

/// The decision rules (by name) that fire on the same requests in both versions, read as
/// written: the same effect, points, variables and body, and every relation and risk rule
/// the body reaches (through the dependency graph) declared and derived alike, by the same
/// ids. Such a rule need not be inside the fragment for the comparison to be exact: it
/// fires, or not, alike on both sides.
struct Unchanged {
    names: std::collections::HashSet<String>,
}

impl Unchanged {
    /// The rules unchanged between `old` and `new`; with `data_differs`, none that reads a data
    /// relation.
    fn new<'a>(old: &'a Ir, new: &'a Ir, data_differs: bool) -> Unchanged {
        let (old_derived, new_derived) = (derived_by_relation(old), derived_by_relation(new));
        let decision = |ir: &'a Ir, name: &str| ir.decisions.iter().find(|d| d.name == name);
        // Whether the decision rule of this name reads alike in both versions (not what it reaches).
        let alike = |name: &str| match (decision(old, name), decision(new, name)) {
            (Some(a), Some(b)) => {
                let (ra, rb) = (old.rule(a.rule), new.rule(b.rule));
                a.effect == b.effect
                    && a.points == b.points
                    && ra.zip(rb).is_some_and(|(ra, rb)| ra.vars == rb.vars && ra.body == rb.body)
            }
            _ => false,
        };
        let relation_alike = |id: RelationId| match (old.relation(id), new.relation(id)) {
            (Some(a), Some(b)) => {
                a.name == b.name
                    && !(data_differs && a.kind == gov_value::RelationKind::Data)
                    && a.kind == b.kind
                    && a.one == b.one
                    && a.columns.len() == b.columns.len()
                    && a.columns.iter().zip(&b.columns).all(|(x, y)| x.name == y.name && x.ty == y.ty)
                    && old_derived.get(&id) == new_derived.get(&id)
            }
            _ => false,
        };
        let mut names = std::collections::HashSet::new();
        for (index, d) in old.decisions.iter().enumerate() {
            let start = old.graph.index(gov_ir::Node::Decision(gov_ir::DecisionId(gov_ir::dense(index))));
            let mut seen = std::collections::HashSet::from([start]);
            let mut stack = vec![start];
            let mut ok = alike(&d.name);
            while ok && let Some(node) = stack.pop() {
                ok = match old.graph.node(node) {
                    gov_ir::Node::Relation(id) => relation_alike(id),
                    gov_ir::Node::Decision(id) => old.decisions.get(id.index()).is_some_and(|r| alike(&r.name)),
                };
                for next in old.graph.reads.get(node).map(Vec::as_slice).unwrap_or_default() {
                    if seen.insert(*next) {
                        stack.push(*next);
                    }
                }
            }
            if ok {
                names.insert(d.name.clone());
            }
        }
        Unchanged { names }
    }

    /// Whether the decision rule `name` fires alike in both versions.
    fn holds(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// The new version's input and data relations that the old version declares alike (same
/// name, kind, `one` and column types), by the old version's id.
fn relation_map(old: &Ir, new: &Ir) -> HashMap<RelationId, RelationId> {
    let mut map = HashMap::new();
    for (i, relation) in new.relations.iter().enumerate() {
        let found = old.relations.iter().position(|o| {
            o.name == relation.name
                && o.kind == relation.kind
                && o.one == relation.one
                && o.columns.len() == relation.columns.len()
                && o.columns.iter().zip(&relation.columns).all(|(a, b)| a.ty == b.ty && a.name == b.name)
        });
        if let Some(j) = found {
            map.insert(RelationId(gov_ir::dense(i)), RelationId(gov_ir::dense(j)));
        }
    }
    map
}

/// The query with its relations renamed through `map`; a relation the old version does not
/// declare alike is outside the analysis.
fn translate(ir: &Ir, query: &Query, map: &HashMap<RelationId, RelationId>) -> Result<Query, String> {
    let to = |r: &RelationId| {
        map.get(r).copied().ok_or_else(|| {
            let name = ir.relation(*r).map_or("?", |r| r.name.as_str());
            format!("`{name}` is not declared alike in both versions")
        })
    };
    let items = query
        .items
        .iter()
        .map(|item| {
            Ok(match item {
                Item::Fact(r, args) => Item::Fact(to(r)?, args.clone()),
                Item::NotFact(r, args) => Item::NotFact(to(r)?, args.clone()),
                Item::Compare(..) | Item::Str(..) => item.clone(),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Query { vars: query.vars.clone(), items })
}

/// The query with each equality between a variable and a term substituted away (unfolding
/// equates a derived relation's head with the atom's arguments), so that a refactor through
/// a helper relation unfolds to the same atoms.
pub(crate) fn normalize(query: &Query) -> Query {
    let mut query = query.clone();
    while let Some(at) = query.items.iter().position(|item| {
        matches!(item, Item::Compare(Term::Var(a), CompareOp::Eq, t) | Item::Compare(t, CompareOp::Eq, Term::Var(a))
            if t != &Term::Var(*a))
    }) {
        let (var, term) = match query.items.remove(at) {
            Item::Compare(Term::Var(a), _, t) if t != Term::Var(a) => (a, t),
            Item::Compare(t, _, Term::Var(a)) => (a, t),
            _ => continue,
        };
        let swap = |t: &Term| if *t == Term::Var(var) { term.clone() } else { t.clone() };
        for item in &mut query.items {
            *item = match &*item {
                Item::Fact(r, args) => Item::Fact(*r, args.iter().map(swap).collect()),
                Item::NotFact(r, args) => Item::NotFact(*r, args.iter().map(|t| t.as_ref().map(swap)).collect()),
                Item::Compare(l, op, r) => Item::Compare(swap(l), *op, swap(r)),
                Item::Str(test, s, p, negated) => Item::Str(*test, swap(s), swap(p), *negated),
            };
        }
    }
    query
}

/// For each comparison and negated atom of the query, its atoms with that condition negated
/// and the other conditions dropped: one way the query fails while its atoms hold (the
/// disjuncts of its negation, given its atoms); and for each column of an `input one` atom
/// that the atom fixes (a constant, a variable repeated), its atoms with that column free and
/// different: one way the request's one fact misses the atom.
pub(crate) fn flips(ir: &Ir, query: &Query) -> Vec<Query> {
    let atoms: Vec<Item> = query.items.iter().filter(|item| matches!(item, Item::Fact(..))).cloned().collect();
    let mut out = Vec::new();
    for item in &query.items {
        let mut vars = query.vars.clone();
        let negated = match item {
            Item::Compare(l, op, r) => Item::Compare(l.clone(), negate(*op), r.clone()),
            Item::Str(test, s, p, negated) => Item::Str(*test, s.clone(), p.clone(), !negated),
            Item::NotFact(r, args) => {
                let Some(fact) = positive(ir, *r, args, &mut vars) else { continue };
                fact
            }
            Item::Fact(..) => continue,
        };
        let mut items = atoms.clone();
        items.push(negated);
        out.push(Query { vars, items });
    }
    // An `input one` atom's fact is in every request, so the atom fails exactly when that
    // fact differs from it in a column: where it names a constant, or a variable it already
    // named in an earlier column (`t(1, 1)`, `t(y, y)`: what a rule's `y = 1`, `x = y`
    // become once its equalities are substituted).
    for (at, atom) in atoms.iter().enumerate() {
        let Item::Fact(relation, args) = atom else { continue };
        let Some(schema) = ir.relation(*relation).filter(|r| r.one && r.kind == gov_value::RelationKind::Input) else {
            continue;
        };
        let fixed = |column: usize, arg: &Term| match arg {
            Term::Const(..) => true,
            Term::Var(_) => args.get(..column).is_some_and(|earlier| earlier.contains(arg)),
        };
        for (column, arg) in args.iter().enumerate().filter(|(column, arg)| fixed(*column, arg)) {
            // Every fixed column is freed (the other conditions dropped, as above); this one
            // must differ.
            let mut vars = query.vars.clone();
            let mut moved = args.clone();
            let mut differs = None;
            for (other, slot) in moved.iter_mut().enumerate() {
                let is_fixed = args.get(other).is_some_and(|a| fixed(other, a));
                let Some(ty) = schema.columns.get(other).map(|c| c.ty).filter(|_| is_fixed) else { continue };
                vars.push(ty);
                *slot = Term::Var(vars.len() - 1);
                if other == column {
                    differs = Some(Item::Compare(slot.clone(), CompareOp::Ne, arg.clone()));
                }
            }
            let mut items = atoms.clone();
            if let Some(slot) = items.get_mut(at) {
                *slot = Item::Fact(*relation, moved);
            }
            items.extend(differs);
            out.push(Query { vars, items });
        }
    }
    out
}

/// The comparison that holds exactly when `op` does not.
pub(crate) fn negate(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Eq => CompareOp::Ne,
        CompareOp::Ne => CompareOp::Eq,
        CompareOp::Lt => CompareOp::Ge,
        CompareOp::Le => CompareOp::Gt,
        CompareOp::Gt => CompareOp::Le,
        CompareOp::Ge => CompareOp::Lt,
    }
}

/// A negated atom made positive: each `_` column a fresh variable of the column's type.
fn positive(ir: &Ir, relation: RelationId, args: &[Option<Term>], vars: &mut Vec<gov_value::BaseType>) -> Option<Item> {
    let columns = &ir.relation(relation)?.columns;
    let terms = args
        .iter()
        .zip(columns)
        .map(|(arg, column)| {
            arg.clone().unwrap_or_else(|| {
                vars.push(column.ty);
                Term::Var(vars.len() - 1)
            })
        })
        .collect();
    Some(Item::Fact(relation, terms))
}

/// Whether `q` implies `p` on every request with any data: a map of `p`'s variables to `q`'s
/// terms sending each atom of `p` to an atom of `q`, under which `q` implies each of `p`'s
/// comparisons and negated atoms (the solver proves `q` and the negation disjoint). Sound,
/// not complete: `false` proves nothing.
pub fn contained(ir: &Schema<'_>, q: &Query, p: &Query) -> bool {
    let atoms: Vec<(RelationId, &Vec<Term>)> =
        p.items.iter().filter_map(|i| if let Item::Fact(r, a) = i { Some((*r, a)) } else { None }).collect();
    let mut steps = 0;
    map_atoms(ir, q, p, &atoms, vec![None; p.vars.len()], &mut steps)
}

fn map_atoms(
    ir: &Schema<'_>,
    q: &Query,
    p: &Query,
    atoms: &[(RelationId, &Vec<Term>)],
    h: Vec<Option<Term>>,
    steps: &mut usize,
) -> bool {
    *steps += 1;
    if *steps > MAX_STEPS {
        return false;
    }
    let Some(((relation, args), rest)) = atoms.split_first() else { return conditions_hold(ir, q, p, &h) };
    for item in &q.items {
        let Item::Fact(r, targets) = item else { continue };
        if r != relation {
            continue;
        }
        let mut next = h.clone();
        let fits = args.iter().zip(targets).all(|(arg, target)| match arg {
            Term::Var(v) => match next.get(*v).cloned().flatten() {
                Some(bound) => bound == *target || implies(ir, q, Item::Compare(bound, CompareOp::Ne, target.clone())),
                None => next.get_mut(*v).map(|slot| *slot = Some(target.clone())).is_some(),
            },
            Term::Const(..) => {
                *target == *arg || implies(ir, q, Item::Compare(arg.clone(), CompareOp::Ne, target.clone()))
            }
        });
        if fits && map_atoms(ir, q, p, rest, next, steps) {
            return true;
        }
    }
    false
}

/// Whether `q` implies `p`'s comparisons and negated atoms under the map `h`.
fn conditions_hold(ir: &Schema<'_>, q: &Query, p: &Query, h: &[Option<Term>]) -> bool {
    let image = |t: &Term| match t {
        Term::Var(v) => h.get(*v).cloned().flatten(),
        Term::Const(..) => Some(t.clone()),
    };
    p.items.iter().all(|item| match item {
        Item::Fact(..) => true,
        Item::Compare(l, op, r) => match (image(l), image(r)) {
            (Some(l), Some(r)) => implies(ir, q, Item::Compare(l, negate(*op), r)),
            _ => false,
        },
        Item::Str(test, s, pattern, negated) => match (image(s), image(pattern)) {
            (Some(s), Some(pattern)) => implies(ir, q, Item::Str(*test, s, pattern, !negated)),
            _ => false,
        },
        Item::NotFact(relation, args) => {
            let mapped: Option<Vec<Option<Term>>> =
                args.iter().map(|a| a.as_ref().map_or(Some(None), |t| image(t).map(Some))).collect();
            let mut vars = q.vars.clone();
            match mapped.and_then(|args| positive(ir, *relation, &args, &mut vars)) {
                Some(fact) => implies(ir, &Query { vars, items: q.items.clone() }, fact),
                None => false,
            }
        }
    })
}

/// Whether `q` with `negation` added can never hold (so `q` implies the negation's negation).
fn implies(ir: &Schema<'_>, q: &Query, negation: Item) -> bool {
    let mut query = q.clone();
    query.items.push(negation);
    solve(ir, &query, Rows::Declared, Data::Any) == Outcome::Disjoint
}
