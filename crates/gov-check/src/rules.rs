//! Rules, decision rules, annotations and tests: the pass that resolves every atom and
//! types and checks every variable, one concern per module over one shared context
//! ([`Cx`], here): [`annotations`]; [`resolve`] (relations, decision rules, arity and
//! fields); [`body`] (the walk over rules and decision rules: occurrences, edges,
//! constraints); [`infer`] (variables and types); [`likely_mistakes`] (warnings on
//! valid conditions that rarely mean what they say); [`safety`]; [`test_blocks`].

mod annotations;
mod body;
mod calls;
mod clusters;
mod infer;
mod likely_mistakes;
mod memo;
mod resolve;
mod safety;
mod summary;
mod test_blocks;

pub(crate) use infer::lit_base;
pub use memo::ItemMemo;
use memo::Sizes;

use crate::hash::HashMap;
use crate::symbols::{RelationKind, Symbols};
use crate::types::{Inference, Node};
use crate::{ParsedPackage, Ty};
use gov_diag::{Diagnostic, Span};
use gov_syntax::ast::{Atom, Call, Comparison, Effect, Expr, Item, ItemAt, ItemKind, Membership, Name, SmolStr};
use smallvec::SmallVec;
use std::sync::Arc;
use summary::{ColumnRef, Walk};

/// How a rule's body depends on a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    /// Through a positive atom.
    Positive,
    /// Through `not`.
    Negative,
    /// Through an aggregate.
    Aggregate,
}

/// "Facts of `to` depend on facts of `from`", from one atom of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The relation in the body.
    pub from: usize,
    /// The relation the rule derives (`risk_score` for `risk` rules).
    pub to: usize,
    /// Positive, negative or through an aggregate.
    pub kind: EdgeKind,
    /// The body atom.
    pub at: Span,
    /// The rule's head (or decision name).
    pub rule: Span,
}

/// Arithmetic (or a `sum`) that computes a new value for the head of a rule deriving `head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArithSite {
    /// The derived relation.
    pub head: usize,
    /// The rule's head (as in [`Edge::rule`]).
    pub rule: Span,
    /// The arithmetic expression or the aggregate.
    pub at: Span,
    /// Whether it is an aggregate (a `sum`, or an aggregate of arithmetic).
    pub aggregate: bool,
}

/// What the rule pass learned, for the later passes and the language server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Dependency edges between relations.
    pub edges: Vec<Edge>,
    /// References to relations in bodies and test facts, with the relation the rule
    /// derives (`None` for decision rules and tests).
    pub body_refs: Vec<(usize, Span, Option<usize>)>,
    /// References to relations in rule heads.
    pub head_refs: Vec<(usize, Span)>,
    /// Value-inventing arithmetic, by rule.
    pub arithmetic: Vec<ArithSite>,
    /// Relations that unknown names were probably meant to be (their did-you-mean): they
    /// count as used, so a misspelt reference is reported once, not also as W0101.
    pub guessed_refs: Vec<usize>,
    /// The first column of a derived relation whose type nothing determines, as (relation,
    /// column), by relation, for E0205 (see [`crate::uninferred`]).
    pub untyped_column: Option<(usize, usize)>,
    /// The first variable of a rule or decision rule whose type nothing determines (at its
    /// first occurrence), for E0205 (see [`crate::uninferred`]).
    pub untyped_var: Option<(Span, String)>,
}

/// Where a variable occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Head,
    Positive,
    /// In arithmetic that is an argument of a positive atom: matched, not bound.
    Arithmetic,
    Negative,
    Compare,
    Message,
    Points,
    /// In an argument of a built-in: read, never bound (only a built-in's output binds).
    Argument,
    /// `escalate … to g`: the variable naming the approver group.
    Approver,
}

#[derive(Debug, Clone)]
struct Var {
    /// Its index among its rule's variables: its inference node is the rule's first node
    /// plus this ([`Vars`]).
    local: u32,
    /// Most variables occur two or three times: those need no allocation.
    occurrences: SmallVec<[(Span, Place, Option<usize>); 3]>,
}

/// The variables of one rule in the order of their first occurrence, by name (a name of a
/// few bytes is held inline: no allocation). Occurrences inside aggregate `k` carry
/// `Some(k)`. A rule has a few variables, found by a linear search; a rule with more than
/// [`Scope::INDEXED`] gets an index by name, so a huge generated rule stays linear.
// Invariant: the variable at position `i` of `vars` has `local == i`.
#[derive(Debug, Default, Clone)]
struct Scope {
    vars: Vec<(SmolStr, Var)>,
    // Invariant: empty, or the position in `vars` of every name in it.
    index: HashMap<SmolStr, usize>,
}

impl Scope {
    /// Above this many variables, names are looked up in `index`.
    const INDEXED: usize = 16;

    /// Where the variable called `name` is in `vars`.
    fn position(&self, name: &str) -> Option<usize> {
        if self.index.is_empty() {
            self.vars.iter().position(|(n, _)| n == name)
        } else {
            self.index.get(name).copied()
        }
    }

    /// The variable called `name`.
    fn get(&self, name: &str) -> Option<&Var> {
        self.position(name).and_then(|i| self.vars.get(i)).map(|(_, var)| var)
    }

    /// The variable called `name`, to add an occurrence.
    fn get_mut(&mut self, name: &str) -> Option<&mut Var> {
        self.position(name).and_then(|i| self.vars.get_mut(i)).map(|(_, var)| var)
    }

    /// Adds a variable not in the scope yet (the caller looked it up first), with its
    /// first occurrence.
    fn insert(&mut self, name: &SmolStr, occurrence: (Span, Place, Option<usize>)) {
        let local = u32::try_from(self.vars.len()).unwrap_or(u32::MAX);
        self.vars.push((name.clone(), Var { local, occurrences: smallvec::smallvec![occurrence] }));
        if self.vars.len() > Self::INDEXED {
            if self.index.is_empty() {
                self.index = self.vars.iter().enumerate().map(|(i, (n, _))| (n.clone(), i)).collect();
            } else {
                self.index.insert(name.clone(), self.vars.len() - 1);
            }
        }
    }

    /// The variables in the order of their first occurrence.
    fn iter(&self) -> impl Iterator<Item = (&str, &Var)> {
        self.vars.iter().map(|(name, var)| (name.as_str(), var))
    }
}

/// A rule's variables as the type solve sees them: each one's inference node, found by
/// name.
#[derive(Clone, Copy)]
struct Vars<'w> {
    scope: &'w Scope,
    /// The node of the rule's first variable.
    base: u32,
}

impl Vars<'_> {
    /// The node of the variable called `name`.
    fn node(&self, name: &str) -> Option<Node> {
        self.scope.get(name).map(|var| self.node_of(var))
    }

    /// The node of `var`, one of these variables.
    fn node_of(&self, var: &Var) -> Node {
        Node::from_index(self.base.wrapping_add(var.local))
    }
}

/// A comparison or expression whose typing waits until every atom is seen.
enum Pending<'a> {
    Compare(&'a Comparison),
    Column(&'a Expr, Column),
    Points(&'a Expr),
    /// A test built-in as a condition.
    Test(&'a Call),
    /// `element in collection`.
    Member(&'a Membership),
    /// The variable of `escalate … to g`: a `Str` or an alias of it.
    Approver(&'a Name),
}

/// The type a column expects: declared, or a node for derived relations.
#[derive(Debug, Clone, Copy)]
enum Column {
    /// The declared type, if it resolved, and the field's declaration.
    Declared(Option<Ty>, Option<Span>),
    Inferred(Node),
}

/// A rule's share of the type solve: its walk (variables, with where each occurs), where
/// its variables' nodes start and how far its tree moved since the walk, and its queued
/// constraints, a range of [`Cx::pending`].
struct RuleWork {
    walk: Arc<Walk>,
    base: u32,
    by: u32,
    pending: std::ops::Range<usize>,
    /// Whether its unifications or constraints reported anything.
    reported: bool,
}

impl RuleWork {
    fn vars(&self) -> Vars<'_> {
        Vars { scope: &self.walk.scope, base: self.base }
    }
}

/// A derived relation's columns in the type solve.
struct DerivedColumns {
    /// Each column's inference node.
    nodes: SmallVec<[Node; 4]>,
    /// For a relation a library module derives, its columns' types once the modules' rules
    /// are typed: the package's rules read them as declared columns.
    frozen: Option<Vec<Option<Ty>>>,
}

/// The shared context of the rule pass: what the walk has learned so far.
struct Cx<'a, 'd> {
    program: &'a ParsedPackage,
    symbols: &'a Symbols,
    inference: Inference,
    /// The columns of each derived relation, by relation index (`None` for the others).
    columns: Vec<Option<DerivedColumns>>,
    facts: Facts,
    diagnostics: &'d mut Vec<Diagnostic>,
    work: Vec<RuleWork>,
    /// The queued constraints of every rule in `work`, each rule's a range of it (one
    /// vector for the package, not one per rule).
    pending: Vec<Pending<'a>>,
    /// Relation names unknown names may still be compared with for a did-you-mean: each
    /// suggestion compares with every relation, so without a bound thousands of unknown
    /// names among thousands of relations (a big generated file) would take minutes.
    suggestion_budget: usize,
    /// The atoms whose relation is unknown, with the index of their diagnostic in
    /// `diagnostics`, to get their declaring fixes once the variables' types are known.
    unknown: Vec<(usize, Atom)>,
    /// Safety's results by item, from the last check.
    memo: &'d mut ItemMemo,
    /// Whether the type solve's current silent round met something the reporting round
    /// would report or poison ([`Cx::reports`]).
    unreported: bool,
    /// The fingerprint of the declarations ([`summary::fingerprint`]): a walk kept from an
    /// earlier check is replayed only under the same.
    epoch: u64,
}

/// The initial [`Cx::suggestion_budget`]: far more than any hand-written package needs.
const SUGGESTION_BUDGET: usize = 2_000_000;

/// Checks every rule, decision rule, annotation and test; infers the column types of
/// derived relations into `symbols`. Safety's results for items `memo` holds from the
/// last check are reused, and this check's are kept in it.
pub fn check_rules(
    program: &ParsedPackage,
    symbols: &mut Symbols,
    diagnostics: &mut Vec<Diagnostic>,
    memo: &mut ItemMemo,
) -> Facts {
    let (mut facts, inferred, variable_types, unknown) = {
        let sizes = memo.sizes;
        let mut cx = Cx {
            program,
            symbols,
            inference: Inference::with_capacity(sizes.nodes),
            columns: Vec::new(),
            facts: Facts {
                edges: Vec::with_capacity(sizes.edges),
                body_refs: Vec::with_capacity(sizes.body_refs),
                head_refs: Vec::with_capacity(sizes.head_refs),
                ..Facts::default()
            },
            diagnostics,
            work: Vec::with_capacity(sizes.work),
            pending: Vec::with_capacity(sizes.pending),
            suggestion_budget: SUGGESTION_BUDGET,
            unknown: Vec::new(),
            epoch: summary::fingerprint(program, symbols),
            memo,
            unreported: false,
        };
        cx.columns = symbols
            .relations
            .iter()
            .map(|relation| {
                (relation.kind == RelationKind::Derived).then(|| DerivedColumns {
                    nodes: relation.fields.iter().map(|_| cx.inference.node()).collect(),
                    frozen: None,
                })
            })
            .collect();
        // The modules' rules are typed first, on their own: a module's relations get the
        // types its own rules give them, and a package's use of them is then checked
        // against those, like a declared column, so a mismatch is reported in the package
        // (a package's `type Agent = Str` never turns up as errors inside the stdlib).
        let library = |f: &&crate::PackageFile| matches!(f.origin, crate::Origin::Library(_));
        for item in program.files.iter().filter(library).flat_map(|f| f.parsed.file.items.iter()) {
            if let Some((walk, _)) = cx.item(item) {
                cx.replay_types(item, walk);
            }
        }
        let solved = cx.solve();
        let mut variable_types = Vec::with_capacity(cx.memo.sizes.types);
        let mut untyped_var = None;
        for rule in &solved.rules {
            let types = solved.types.get(rule.types.clone()).unwrap_or_default();
            infer::occurrence_types(&rule.walk, rule.by, types, &mut variable_types, &mut untyped_var);
        }
        cx.freeze_library_columns();
        let mut rules: Vec<(&ItemAt, Arc<Walk>, bool)> = Vec::new();
        for item in program.files.iter().filter(|f| !library(f)).flat_map(|f| f.parsed.file.items.iter()) {
            if let Some((walk, kept)) = cx.item(item) {
                rules.push((item, walk, kept));
            }
        }
        let inferred = cx.type_package_rules(&rules, &mut variable_types, &mut untyped_var);
        cx.memo.sizes = Sizes {
            nodes: cx.inference.node_count(),
            edges: cx.facts.edges.len(),
            body_refs: cx.facts.body_refs.len(),
            head_refs: cx.facts.head_refs.len(),
            types: variable_types.len(),
            ..cx.memo.sizes
        };
        cx.facts.untyped_var = untyped_var;
        (cx.facts, inferred, variable_types, cx.unknown)
    };
    symbols.variable_types = crate::symbols::VariableTypes::new(variable_types);
    // Invariant: `inferred` holds a type for each field of each derived relation, in this
    // order (the rule pass made a column for each).
    let mut inferred = inferred.into_iter();
    for (index, relation) in symbols.relations.iter_mut().enumerate() {
        if relation.kind != RelationKind::Derived {
            continue;
        }
        for (column, field) in relation.fields.iter_mut().enumerate() {
            field.ty = inferred.next().flatten();
            if field.ty.is_none() && facts.untyped_column.is_none_or(|(first, _)| index < first) {
                facts.untyped_column = Some((index, column));
            }
        }
    }
    crate::declare::add_fixes(program, symbols, &unknown, diagnostics);
    facts
}

/// "a `deny` rule", "an `allow` rule".
fn a_rule(effect: Effect) -> String {
    format!("{} `{}` rule", if effect.keyword().starts_with(['a', 'e', 'o']) { "an" } else { "a" }, effect.keyword())
}

impl<'a> Cx<'a, '_> {
    /// The column `column` stands for now: a derived relation's node, a library
    /// relation's solved type, or a declared field's type.
    fn column(&self, column: ColumnRef) -> Column {
        let ColumnRef { relation, index, head } = column;
        let relation = relation as usize;
        let index = index as usize;
        let Some(info) = self.symbols.relations.get(relation) else { return Column::Declared(None, None) };
        match self.columns.get(relation) {
            Some(Some(DerivedColumns { frozen: Some(types), .. })) if !head => {
                Column::Declared(types.get(index).copied().flatten(), info.span)
            }
            Some(Some(derived)) => {
                derived.nodes.get(index).map_or(Column::Declared(None, None), |n| Column::Inferred(*n))
            }
            _ => {
                Column::Declared(info.fields.get(index).and_then(|f| f.ty), info.fields.get(index).and_then(|f| f.span))
            }
        }
    }

    /// The types inferred so far for a derived relation's columns (`None` for a relation
    /// that is not derived).
    fn column_types(&mut self, relation: usize) -> Option<Vec<Option<Ty>>> {
        let nodes = self.columns.get(relation)?.as_ref()?.nodes.clone();
        Some(nodes.into_iter().map(|node| self.var_type(node)).collect())
    }

    /// Fixes the column types of every relation a library module derives (called once the
    /// modules' rules are solved).
    fn freeze_library_columns(&mut self) {
        for relation in 0..self.columns.len() {
            let derived = matches!(self.columns.get(relation), Some(Some(_)));
            let span = self.symbols.relations.get(relation).and_then(|i| i.span);
            if !derived || !span.is_some_and(|s| self.program.is_library(s.file)) {
                continue;
            }
            let types = self.column_types(relation);
            if let (Some(types), Some(Some(derived))) = (types, self.columns.get_mut(relation)) {
                derived.frozen = Some(types);
            }
        }
    }

    /// Checks one item. A rule, decision rule or invariant is walked once ([`Cx::record`])
    /// and its walk's facts added to the package's ([`Cx::replay_facts`]); the walk is
    /// kept, and a later check replays it without walking the tree again while the tree and
    /// the declarations are the same. For those, the walk is returned, with whether it is
    /// kept, for the type solve ([`Cx::replay_types`]). A kept walk is replayed where the
    /// item now stands without reading the item's tree, so the items an edit moved are not
    /// copied ([`ItemAt`]).
    fn item(&mut self, placed: &'a ItemAt) -> Option<(Arc<Walk>, bool)> {
        let shape = placed.unmoved();
        if let ItemKind::Rule(_) | ItemKind::Decision(_) | ItemKind::Invariant(_) = shape.kind {
            let (walk, kept) = match self.memo.walk(placed, self.epoch) {
                Some(walk) => (walk, true),
                None => self.record(placed),
            };
            self.replay_facts(placed.span(), &walk);
            return Some((walk, kept));
        }
        // Annotations are read where they stand; an item without any has nothing to read.
        if shape.annotations.is_empty() && !matches!(shape.kind, ItemKind::Test(_) | ItemKind::Fixture(_)) {
            return None;
        }
        let item: &'a Item = placed;
        match &item.kind {
            ItemKind::Test(test) => {
                self.annotations(item);
                self.test(test);
            }
            ItemKind::Fixture(fixture) => {
                self.annotations(item);
                self.statements(&fixture.statements);
            }
            _ => self.annotations(item),
        }
        None
    }
}
