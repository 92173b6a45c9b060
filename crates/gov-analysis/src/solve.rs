//! Solving one conjunctive query: is there a request, with data, on which it holds?
//!
//! 1. Terms become nodes: one per variable, one per distinct constant (of its type).
//! 2. Every `input one` relation gets exactly one fact: its atoms are unified column by
//!    column (and a relation no atom names gets one fact of fresh values).
//! 3. Equalities merge nodes (union-find); two different constants merged: disjoint.
//!    The facts of one object of an object field are unified, and an object no atom
//!    reads gets a fact of fresh values (a JSON object has every member once).
//!    With [`Data::Fixed`], each data atom is matched to each fixed fact in turn, and the
//!    fixed facts a negated atom could meet are needed facts.
//! 4. A disequality inside one class, or a negated atom matched by a needed fact whose
//!    columns are the same classes: disjoint. A negated atom that a needed fact matches on
//!    all columns but one adds that column's disequality.
//! 5. Orders per ordered type (Int, Decimal, Time, Duration, all integers here: a Decimal
//!    is counted in units fine enough that any chain of strict orders fits between two
//!    constants) are difference constraints `b ≥ a + s`. Classes on a cycle of orders are
//!    merged (a strict order on one: disjoint); bounds propagate until they settle; a
//!    lower bound above an upper bound is disjoint; a class whose bounds meet takes that
//!    value as a constant. Steps 4 and 5 repeat until nothing merges.
//! 6. Values are picked class by class in the order of the orders, within the bounds, each
//!    different from the values already picked when the bounds allow (so a negated atom
//!    holds whenever it can), re-propagating after each pick; strings get fresh values,
//!    distinct from every constant. If the model fails step 7, the pick is redone
//!    honouring only the disequalities.
//!    A string with tests (`str.starts_with`, `str.ends_with`, `str.contains`, each
//!    perhaps negated, against constant patterns) is built as its longest prefix, a filler,
//!    each string it must contain with a filler after it, and its longest suffix, trying
//!    fillers until every negated test holds; two prefixes (or suffixes) neither of which
//!    extends the other, or a negated test that the prefix, the suffix or a contained string
//!    already passes, is a proof of disjointness (step 4).
//! 7. The model is checked against every condition. A failed pick or check is
//!    [`Outcome::Unknown`], never [`Outcome::Disjoint`]: only steps 3–5 prove disjointness.

use crate::query::{Item, Query, StrTest, Term, each_term};
use crate::strorder::{Interval, next};
use crate::{Fact, Outcome, Value, Witness};
use gov_ir::{Const, Ir, RelationId};
use gov_value::{BaseType, CompareOp, Decimal, RelationKind};
use std::collections::{BTreeMap, HashMap};

/// A value as the solver sees it: ordered types as integers (a Decimal scaled).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum V {
    Ord(i128),
    Str(String),
    Bool(bool),
}

/// 2026-01-01T00:00:00Z, where a Time with no constraint is picked.
const A_TIME: i128 = 1_767_225_600_000_000_000;

/// The largest Decimal mantissa, 2⁹⁶ − 1.
const DECIMAL_MANTISSA: i128 = 79_228_162_514_264_337_593_543_950_335;

/// How many facts of an input relation a witness may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// As the declarations say: one for an `input one` relation, any number otherwise.
    Declared,
    /// One per input relation, as if every one were declared `input one`: a witness that is
    /// one action. Only a candidate is meaningful here; "disjoint" proves nothing.
    One,
    /// One per input and data relation: the smallest witness, where every atom of a
    /// relation reads the same fact (a rule's conditions negated then fail on the facts the
    /// rest of the query needs, not on new ones). Only a candidate is meaningful here.
    Minimal,
}

/// Which data a witness may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data<'a> {
    /// Any data facts: the witness names those it needs (the policy question).
    Any,
    /// Exactly these facts of the data relations (the deployment question: "with today's
    /// data files"); the witness needs no data of its own.
    Fixed(&'a [Fact]),
}

/// How many ways of matching a query's data atoms to fixed facts the search tries.
pub const MAX_MATCHINGS: usize = 4096;

/// The package as the search reads it: the IR, with what every query needs of it computed
/// once, the `input one` relations (each witness holds one fact of each), so that solving a
/// query costs what the query holds, not what the package declares (a package of 100 000
/// relations is solved query by query).
#[derive(Debug, Clone)]
pub struct Schema<'a> {
    ir: &'a Ir,
    ones: Vec<RelationId>,
}

impl<'a> Schema<'a> {
    /// The schema of `ir`.
    pub fn new(ir: &'a Ir) -> Schema<'a> {
        let ones = ir.relations.iter().enumerate().filter(|(_, r)| r.one).map(|(i, _)| RelationId(gov_ir::dense(i)));
        Schema { ir, ones: ones.collect() }
    }

    /// The IR.
    pub fn ir(&self) -> &'a Ir {
        self.ir
    }
}

impl std::ops::Deref for Schema<'_> {
    type Target = Ir;

    fn deref(&self) -> &Ir {
        self.ir
    }
}

/// Searches for a witness of the query.
pub fn solve(schema: &Schema<'_>, query: &Query, rows: Rows, data: Data<'_>) -> Outcome {
    match Solver::new(schema, query, rows, data).and_then(|mut solver| solver.run(query)) {
        Ok(outcome) => outcome,
        Err(reason) => Outcome::Unknown(reason),
    }
}

#[derive(Clone)]
struct Solver<'a> {
    ir: &'a Ir,
    /// The `input one` relations.
    ones: &'a [RelationId],
    rows: Rows,
    data: Data<'a>,
    /// With [`Data::Fixed`], the positive atoms of data relations: each must be one of the
    /// fixed facts.
    choices: Vec<(RelationId, Vec<usize>)>,
    /// Each node's type.
    ty: Vec<BaseType>,
    parent: Vec<usize>,
    /// The constant of a node that stands for one (by node, not by class).
    constant: Vec<Option<V>>,
    consts: HashMap<(BaseType, V), usize>,
    /// Decimal values are counted in units of 10^-scale.
    scale: u32,
    facts: Vec<(RelationId, Vec<usize>)>,
    negations: Vec<(RelationId, Vec<Option<usize>>)>,
    compares: Vec<(usize, CompareOp, usize)>,
    /// String tests: the test, the subject's and the pattern's nodes, and whether negated.
    tests: Vec<(StrTest, usize, usize, bool)>,
}

/// How values are picked (step 6).
#[derive(Debug, Clone, Copy)]
struct Pick {
    /// Each value different from those already picked where it can be (so negated atoms
    /// stay true); otherwise only the disequalities are honoured.
    distinct: bool,
    /// Ordered strings as short as their candidates allow, without `"\0"` where one does;
    /// otherwise the least (which leaves the most room for the classes above).
    shortest: bool,
}

/// Short-circuits with a proof of disjointness.
enum Stop {
    Disjoint,
    Unknown(String),
}

impl From<String> for Stop {
    fn from(reason: String) -> Stop {
        Stop::Unknown(reason)
    }
}

impl<'a> Solver<'a> {
    fn new(schema: &'a Schema<'a>, query: &Query, rows: Rows, data: Data<'a>) -> Result<Solver<'a>, String> {
        // Units fine enough for every Decimal constant, with room for a strict chain of
        // every node between two adjacent constants.
        let mut scale = 0u32;
        let mut terms = 0usize;
        for item in &query.items {
            each_term(item, &mut |term| {
                terms += 1;
                if let Term::Const(Const::Decimal(d), _) = term {
                    scale = scale.max(d.scale());
                }
            });
        }
        if let Data::Fixed(facts) = data {
            for value in facts.iter().flat_map(|f| &f.values) {
                terms += 1;
                if let Value::Decimal(d) = value {
                    scale = scale.max(d.scale());
                }
            }
        }
        let room = (query.vars.len() + terms + 2).to_string().len() as u32;
        scale += room;
        if scale > 9 {
            return Err("Decimal constants with more digits after the point than the search handles".to_owned());
        }
        Ok(Solver {
            ir: schema.ir,
            ones: &schema.ones,
            rows,
            data,
            choices: Vec::new(),
            ty: query.vars.clone(),
            parent: (0..query.vars.len()).collect(),
            constant: vec![None; query.vars.len()],
            consts: HashMap::new(),
            scale,
            facts: Vec::new(),
            negations: Vec::new(),
            compares: Vec::new(),
            tests: Vec::new(),
        })
    }

    fn find(&mut self, mut node: usize) -> usize {
        while let Some(&up) = self.parent.get(node) {
            if up == node {
                break;
            }
            let grand = self.parent.get(up).copied().unwrap_or(up);
            if let Some(slot) = self.parent.get_mut(node) {
                *slot = grand;
            }
            node = grand;
        }
        node
    }

    /// The class's constant, if any.
    fn class_constant(&mut self, node: usize) -> Option<V> {
        let root = self.find(node);
        self.constant.get(root).cloned().flatten()
    }

    fn union(&mut self, a: usize, b: usize) -> Result<(), Stop> {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Ok(());
        }
        let (ca, cb) = (self.class_constant(ra), self.class_constant(rb));
        if let (Some(x), Some(y)) = (&ca, &cb)
            && x != y
        {
            return Err(Stop::Disjoint);
        }
        if let Some(slot) = self.parent.get_mut(rb) {
            *slot = ra;
        }
        if let Some(slot) = self.constant.get_mut(ra) {
            *slot = ca.or(cb);
        }
        Ok(())
    }

    fn node_type(&self, node: usize) -> BaseType {
        self.ty.get(node).copied().unwrap_or(BaseType::Int)
    }

    /// A constant as the solver's value, at type `ty`.
    fn value(&self, c: &Const, ty: BaseType) -> Result<V, String> {
        let scaled = |mantissa: i128, scale: u32| {
            let up = self.scale.checked_sub(scale).and_then(|s| 10i128.checked_pow(s));
            up.and_then(|up| mantissa.checked_mul(up))
                // Invariant: constants lie in half the range the search picks values in,
                // so every chain of strict orders above or below them fits and no
                // disjointness comes from the edge of the range.
                .filter(|v| v.abs() <= DECIMAL_MANTISSA / 2)
                .ok_or_else(|| "a Decimal constant too large for the search's units".to_owned())
        };
        Ok(match (c, ty) {
            (Const::Int(i), BaseType::Int) | (Const::Time(i), BaseType::Time) => V::Ord(i128::from(*i)),
            (Const::Duration(i), BaseType::Duration) => V::Ord(i128::from(*i)),
            (Const::Int(i), BaseType::Decimal) => V::Ord(scaled(i128::from(*i), 0)?),
            (Const::Decimal(d), BaseType::Decimal) => V::Ord(scaled(d.mantissa(), d.scale())?),
            (Const::Str(s), BaseType::Str) => V::Str(s.clone()),
            (Const::Bool(b), BaseType::Bool) => V::Bool(*b),
            (c, ty) => return Err(format!("a {} literal where a {ty} is expected", c.ty())),
        })
    }

    /// The node of a term; `ty` is the type of the place a constant stands in.
    fn node(&mut self, term: &Term, ty: Option<BaseType>) -> Result<usize, String> {
        match term {
            Term::Var(v) if *v < self.ty.len() => Ok(*v),
            Term::Var(_) => Err("a variable the query does not hold".to_owned()),
            Term::Const(c, own) => {
                let ty = ty.unwrap_or(*own);
                let value = self.value(c, ty)?;
                if let Some(node) = self.consts.get(&(ty, value.clone())) {
                    return Ok(*node);
                }
                let node = self.ty.len();
                self.ty.push(ty);
                self.parent.push(node);
                self.constant.push(Some(value.clone()));
                self.consts.insert((ty, value), node);
                Ok(node)
            }
        }
    }

    fn fresh(&mut self, ty: BaseType) -> usize {
        let node = self.ty.len();
        self.ty.push(ty);
        self.parent.push(node);
        self.constant.push(None);
        node
    }

    fn run(&mut self, query: &Query) -> Result<Outcome, String> {
        match self.search(query) {
            Ok(witness) => Ok(Outcome::Candidate(witness)),
            Err(Stop::Disjoint) => Ok(Outcome::Disjoint),
            Err(Stop::Unknown(reason)) => Err(reason),
        }
    }

    fn search(&mut self, query: &Query) -> Result<Witness, Stop> {
        let mut equalities = Vec::new();
        for item in &query.items {
            match item {
                Item::Fact(relation, args) => {
                    let nodes = args.iter().map(|t| self.node(t, None)).collect::<Result<_, _>>()?;
                    if self.fixed_data(*relation) {
                        self.choices.push((*relation, nodes));
                    } else {
                        self.facts.push((*relation, nodes));
                    }
                }
                Item::NotFact(relation, args) => {
                    let nodes = args.iter().map(|t| t.as_ref().map(|t| self.node(t, None)).transpose());
                    let nodes = nodes.collect::<Result<_, _>>()?;
                    self.negations.push((*relation, nodes));
                }
                Item::Compare(left, op, right) => {
                    // A constant takes the type of what it is compared with.
                    let ty = |t: &Term, s: &Self| match t {
                        Term::Var(v) => Some(s.node_type(*v)),
                        Term::Const(c, _) => Some(c.ty()),
                    };
                    let (lt, rt) = (ty(left, self), ty(right, self));
                    let wide = |a: Option<BaseType>, b: Option<BaseType>| match (a, b) {
                        (Some(BaseType::Decimal), _) | (_, Some(BaseType::Decimal)) => Some(BaseType::Decimal),
                        (a, _) => a,
                    };
                    let (l, r) = (self.node(left, wide(lt, rt))?, self.node(right, wide(rt, lt))?);
                    if *op == CompareOp::Eq {
                        equalities.push((l, r));
                    } else {
                        self.compares.push((l, *op, r));
                    }
                }
                Item::Str(test, subject, pattern, negated) => {
                    let subject = self.node(subject, Some(BaseType::Str))?;
                    let pattern = self.node(pattern, Some(BaseType::Str))?;
                    self.tests.push((*test, subject, pattern, *negated));
                }
            }
        }
        self.one_fact_per_input_one()?;
        for (a, b) in equalities {
            self.union(a, b)?;
        }
        self.one_fact_per_object()?;
        if let Data::Fixed(facts) = self.data {
            return self.match_fixed(facts);
        }
        self.finish()
    }

    /// Whether `relation`'s facts are fixed: a data relation under [`Data::Fixed`].
    fn fixed_data(&self, relation: RelationId) -> bool {
        matches!(self.data, Data::Fixed(_)) && self.ir.relation(relation).is_some_and(|r| r.kind == RelationKind::Data)
    }

    /// Under [`Data::Fixed`]: the facts that negated atoms must miss are in every witness,
    /// and each positive data atom is matched to one fixed fact, every matching in turn.
    fn match_fixed(&mut self, fixed: &[Fact]) -> Result<Witness, Stop> {
        let negated: Vec<RelationId> = self.negations.iter().map(|(r, _)| *r).collect();
        let nodes_of = |s: &mut Self, fact: &Fact| -> Result<Vec<usize>, Stop> {
            let columns = s.ir.relation(fact.relation).map(|r| r.columns.clone()).unwrap_or_default();
            let terms = fact.values.iter().zip(&columns).map(|(v, c)| Term::Const(v.clone(), c.ty));
            Ok(terms.map(|t| s.node(&t, None)).collect::<Result<Vec<_>, _>>()?)
        };
        for fact in fixed.iter().filter(|f| negated.contains(&f.relation)) {
            let nodes = nodes_of(self, fact)?;
            self.facts.push((fact.relation, nodes));
        }
        let mut options = Vec::new();
        for (relation, _) in self.choices.clone() {
            let facts = fixed.iter().filter(|f| f.relation == relation);
            options.push(facts.map(|f| nodes_of(self, f)).collect::<Result<Vec<_>, _>>()?);
        }
        let matchings = options.iter().try_fold(1usize, |n, o| n.checked_mul(o.len()).filter(|n| *n <= MAX_MATCHINGS));
        let Some(matchings) = matchings else {
            return Err(Stop::Unknown(format!("more than {MAX_MATCHINGS} ways to match the data atoms to the data")));
        };
        let mut unknown = None;
        for index in 0..matchings {
            let mut branch = self.clone();
            let mut rest = index;
            let mut unified = Ok(());
            for ((_, atom), facts) in self.choices.iter().zip(&options) {
                let Some(fact) = facts.get(rest % facts.len().max(1)) else { continue };
                rest /= facts.len().max(1);
                for (a, b) in atom.iter().zip(fact) {
                    unified = unified.and_then(|()| branch.union(*a, *b));
                }
            }
            match unified.and_then(|()| branch.finish()) {
                Ok(witness) => return Ok(witness),
                Err(Stop::Disjoint) => {}
                Err(Stop::Unknown(reason)) => unknown = unknown.or(Some(reason)),
            }
        }
        Err(unknown.map_or(Stop::Disjoint, Stop::Unknown))
    }

    /// Steps 4 to 7, once the atoms and equalities are in.
    fn finish(&mut self) -> Result<Witness, Stop> {
        self.check_disjoint()?;
        // Distinct values keep negations true; when that crowds a narrow range, values
        // that only honour the disequalities may still fit. Ordered strings are picked
        // shortest first (readable), and failing that least first (the most room above).
        let mut picks = vec![Pick { distinct: true, shortest: true }];
        if !self.string_edges().is_empty() {
            picks.push(Pick { distinct: true, shortest: false });
        }
        picks.push(Pick { distinct: false, shortest: false });
        let mut last = Stop::Unknown("no pick of values".to_owned());
        for pick in picks {
            match self.pick(pick).and_then(|model| self.witness(&model)) {
                Ok(witness) => return Ok(witness),
                Err(Stop::Disjoint) => return Err(Stop::Disjoint),
                Err(unknown) => last = unknown,
            }
        }
        Err(last)
    }

    /// Unifies the facts of each `input one` relation (each input relation, for
    /// [`Rows::One`]; each input and data relation, for [`Rows::Minimal`]) into one, making it for an `input one` relation no atom names.
    fn one_fact_per_input_one(&mut self) -> Result<(), Stop> {
        // The `input one` relations, and those of the query's atoms (only they can hold a
        // fact to unify): never every relation of the package.
        let mut relations: Vec<RelationId> = self.ones.to_vec();
        relations.extend(self.facts.iter().map(|(r, _)| *r));
        relations.sort_unstable();
        relations.dedup();
        for id in relations {
            let Some(relation) = self.ir.relation(id) else { continue };
            let single = relation.one
                || match self.rows {
                    Rows::Declared => false,
                    Rows::One => relation.kind == RelationKind::Input,
                    Rows::Minimal => matches!(relation.kind, RelationKind::Input | RelationKind::Data),
                };
            if !single {
                continue;
            }
            let mut first: Option<Vec<usize>> = None;
            let mut pairs = Vec::new();
            for (r, nodes) in &self.facts {
                if *r != id {
                    continue;
                }
                match &first {
                    None => first = Some(nodes.clone()),
                    Some(first) => pairs.extend(first.iter().copied().zip(nodes.iter().copied())),
                }
            }
            if first.is_none() && relation.one {
                let nodes = relation.columns.iter().map(|c| c.ty).collect::<Vec<_>>();
                let nodes = nodes.into_iter().map(|ty| self.fresh(ty)).collect();
                self.facts.push((id, nodes));
            }
            for (a, b) in pairs {
                self.union(a, b)?;
            }
        }
        Ok(())
    }

    /// Each object of an object field has exactly one fact of its auxiliary relation, as a
    /// JSON object has one value per member: the facts of one object (its identifier's class)
    /// are unified column by column, and an object no atom reads gets a fact of fresh values
    /// (the witness writes every member). Fixed data keeps its own objects.
    // Invariant: object types nest finitely, so making the objects of objects ends.
    fn one_fact_per_object(&mut self) -> Result<(), Stop> {
        loop {
            let mut changed = false;
            let mut objects = Vec::new();
            for (relation, nodes) in &self.facts {
                let Some(columns) = self.ir.relation(*relation).map(|r| &r.columns) else { continue };
                for (column, node) in columns.iter().zip(nodes) {
                    if let Some(contents) = column.contents.filter(|c| !c.list) {
                        objects.push((contents.relation, *node));
                    }
                }
            }
            for (aux, id) in objects {
                if self.fixed_data(aux) {
                    continue;
                }
                let root = self.find(id);
                let mut mine = Vec::new();
                for (relation, nodes) in self.facts.clone() {
                    if relation == aux && nodes.first().is_some_and(|n| self.find(*n) == root) {
                        mine.push(nodes);
                    }
                }
                let Some((first, rest)) = mine.split_first() else {
                    let columns = self.ir.relation(aux).map(|r| r.columns.clone()).unwrap_or_default();
                    let members = columns.iter().skip(1).map(|c| self.fresh(c.ty)).collect::<Vec<_>>();
                    self.facts.push((aux, std::iter::once(id).chain(members).collect()));
                    changed = true;
                    continue;
                };
                for other in rest {
                    for (a, b) in first.iter().zip(other) {
                        changed |= self.find(*a) != self.find(*b);
                        self.union(*a, *b)?;
                    }
                }
            }
            if !changed {
                return Ok(());
            }
        }
    }

    /// Steps 4 and 5: a disequality within a class, a negation matched by a needed fact,
    /// infeasible orders; the equalities orders force merged first.
    fn check_disjoint(&mut self) -> Result<(), Stop> {
        // Equalities the orders force (a cycle of `<=`, bounds that meet) merge classes,
        // which can expose a disequality or a negation: repeat until nothing merges.
        loop {
            let added = self.check_classes()?;
            let merged_cycles = self.merge_order_cycles()?;
            let bounds = self.settled_bounds()?;
            let merged_fixed = self.merge_fixed(&bounds)?;
            let merged_strings = self.merge_fixed_strings()?;
            if !added && !merged_cycles && !merged_fixed && !merged_strings {
                return self.check_strings();
            }
        }
    }

    /// Merges the classes on a cycle of orders (`a <= b <= a`: equal); a cycle through a
    /// strict order is disjoint. Whether anything merged.
    fn merge_order_cycles(&mut self) -> Result<bool, Stop> {
        let edges = self.edges();
        let mut merged = false;
        for &(a, b, strict) in &edges {
            if self.find(a) != self.find(b) && reaches(&edges, b, a) {
                if strict > 0 {
                    return Err(Stop::Disjoint);
                }
                self.union(a, b)?;
                merged = true;
            } else if strict > 0 && self.find(a) == self.find(b) {
                return Err(Stop::Disjoint);
            }
        }
        Ok(merged)
    }

    /// Gives each ordered class whose bounds meet that value as its constant, merging it
    /// with the constant's node when the query has one. Whether anything changed.
    fn merge_fixed(&mut self, bounds: &BTreeMap<usize, (i128, i128)>) -> Result<bool, Stop> {
        let mut changed = false;
        for (&root, &(lo, hi)) in bounds {
            if lo != hi || self.class_constant(root).is_some() {
                continue;
            }
            self.fix(root, V::Ord(lo))?;
            changed = true;
        }
        Ok(changed)
    }

    /// Gives the class the constant `value`, merging it with that constant's node when the
    /// query has one.
    fn fix(&mut self, root: usize, value: V) -> Result<(), Stop> {
        let key = (self.node_type(root), value);
        match self.consts.get(&key).copied() {
            Some(node) => self.union(root, node),
            None => {
                let root = self.find(root);
                if let Some(slot) = self.constant.get_mut(root) {
                    *slot = Some(key.1.clone());
                }
                self.consts.insert(key, root);
                Ok(())
            }
        }
    }

    /// The order constraints between strings, as [`Solver::edges`] writes them.
    fn string_edges(&mut self) -> Vec<(usize, usize, i128)> {
        let edges = self.edges();
        edges.into_iter().filter(|(a, _, _)| self.node_type(*a) == BaseType::Str).collect()
    }

    /// Each class of strings an order compares, by root, with the strings it may take: its
    /// constant (or its value in `model`), its `str.starts_with` tests, negated or not, and
    /// the orders, lower bounds raised up the orders and upper bounds lowered down them until
    /// they settle ([`crate::strorder`]). Every bound is implied by the query, so an empty
    /// interval is a proof of disjointness.
    fn string_intervals(&mut self, model: &HashMap<usize, V>) -> Result<HashMap<usize, Interval>, Stop> {
        let edges = self.string_edges();
        let mut intervals: HashMap<usize, Interval> = HashMap::new();
        for &(a, b, _) in &edges {
            for root in [a, b] {
                let value = model.get(&root).cloned().or_else(|| self.class_constant(root));
                intervals.entry(root).or_insert_with(|| match value {
                    Some(V::Str(s)) => Interval::exactly(&s),
                    _ => Interval::default(),
                });
            }
        }
        let mut prefixes = Vec::new();
        for (test, subject, pattern, negated) in self.tests.clone() {
            let root = self.find(subject);
            if test == StrTest::StartsWith
                && intervals.contains_key(&root)
                && let Some(V::Str(p)) = self.class_constant(pattern)
            {
                prefixes.push((root, p, negated));
            }
        }
        let excluded = self.excluded();
        let steps = excluded.values().map(Vec::len).sum::<usize>();
        // Invariant: cycles of orders were merged (a strict one is disjoint), so the lower
        // bounds rise along paths of at most one edge per class; a negated prefix moves a
        // bound at most twice, an excluded constant at most once.
        for _ in 0..4 * (intervals.len() + prefixes.len() + steps) + 8 {
            let mut moved = false;
            // `x >= c, x != c` is `x >= next(c)`; `x <= c, x != c` is `x < c`.
            for (root, interval) in intervals.iter_mut() {
                for value in excluded.get(root).into_iter().flatten() {
                    let V::Str(value) = value else { continue };
                    if interval.lo == *value {
                        moved |= interval.at_least(next(value));
                    }
                    if interval.hi.as_ref().is_some_and(|(t, strict)| t == value && !strict) {
                        moved |= interval.at_most(value.clone(), true);
                    }
                }
            }
            for (root, p, negated) in &prefixes {
                if let Some(interval) = intervals.get_mut(root) {
                    moved |= if *negated { interval.not_starts_with(p) } else { interval.starts_with(p) };
                }
            }
            for &(a, b, strict) in &edges {
                let (Some(low), Some(high)) = (intervals.get(&a).cloned(), intervals.get(&b).cloned()) else {
                    continue;
                };
                let lo = if strict > 0 { next(&low.lo) } else { low.lo };
                moved |= intervals.get_mut(&b).is_some_and(|i| i.at_least(lo));
                if let Some((t, hi_strict)) = high.hi {
                    moved |= intervals.get_mut(&a).is_some_and(|i| i.at_most(t, hi_strict || strict > 0));
                }
            }
            if intervals.values().any(Interval::is_empty) {
                return Err(Stop::Disjoint);
            }
            if !moved {
                return Ok(intervals);
            }
        }
        Err(Stop::Unknown("string orders whose bounds do not settle".to_owned()))
    }

    /// Gives each class of strings whose interval holds one string that string as its
    /// constant. Whether anything changed.
    fn merge_fixed_strings(&mut self) -> Result<bool, Stop> {
        let mut changed = false;
        for (root, interval) in self.string_intervals(&HashMap::new())? {
            if let Some(value) = interval.fixed()
                && self.class_constant(root).is_none()
            {
                self.fix(root, V::Str(value.to_owned()))?;
                changed = true;
            }
        }
        Ok(changed)
    }

    /// The value of each class of strings an order compares and that has no constant, in the
    /// order of the orders: the least (with `shortest`, the shortest without a `"\0"`, then
    /// the least) of its interval's candidates (given the values picked so far) that passes
    /// its tests and differs from the values it must differ from, and, with `distinct`, from
    /// every other string when one does.
    fn pick_ordered_strings(
        &mut self,
        model: &mut HashMap<usize, V>,
        specs: &HashMap<usize, Spec>,
        differ: &HashMap<usize, Vec<usize>>,
        Pick { distinct, shortest }: Pick,
    ) -> Result<(), Stop> {
        // Invariant: a pick is never a proof; only steps 3-5 prove disjointness.
        let conflict = |_| Stop::Unknown("the strings picked for the orders conflict".to_owned());
        let keys = self.string_intervals(model).map_err(conflict)?;
        let keys: BTreeMap<usize, i128> = keys.keys().map(|root| (*root, 0)).collect();
        let constants: Vec<V> = self.constant.iter().flatten().filter(|v| matches!(v, V::Str(_))).cloned().collect();
        for root in self.topological(&keys) {
            if model.contains_key(&root) || self.class_constant(root).is_some() {
                continue;
            }
            let interval = self.string_intervals(model).map_err(conflict)?.remove(&root).unwrap_or_default();
            let spec = specs.get(&root).cloned().unwrap_or_default();
            let shapes: Vec<String> = ["", "w1"].iter().chain(&FILLERS).map(|f| spec.build(f)).collect();
            let mut must_differ = Vec::new();
            for other in differ.get(&root).into_iter().flatten() {
                must_differ.extend(model.get(other).cloned().or_else(|| self.class_constant(*other)));
            }
            let mut fits: Vec<String> = interval.candidates(&shapes).into_iter().filter(|v| spec.holds(v)).collect();
            if shortest {
                fits.sort_by_cached_key(|v| (v.contains('\0'), v.chars().count(), v.clone()));
            }
            let fits: Vec<V> = fits.into_iter().map(V::Str).filter(|v| !must_differ.contains(v)).collect();
            let taken = |v: &V| constants.contains(v) || model.values().any(|m| m == v);
            let value = fits
                .iter()
                .find(|v| !distinct || !taken(v))
                .or_else(|| fits.first())
                .cloned()
                .ok_or_else(|| Stop::Unknown("string orders and tests the search finds no value for".to_owned()))?;
            model.insert(root, value);
        }
        Ok(())
    }

    /// Step 4: a disequality within a class, or a negation matched by a needed fact. A
    /// negation that a needed fact matches on every column but one requires that column to
    /// differ: that disequality is added. Whether one was.
    fn check_classes(&mut self) -> Result<bool, Stop> {
        let mut added = false;
        for (relation, args) in self.negations.clone() {
            for (r, nodes) in self.facts.clone() {
                if r != relation {
                    continue;
                }
                let mut differing = Vec::new();
                for (arg, node) in args.iter().zip(&nodes) {
                    if let Some(a) = *arg
                        && self.find(a) != self.find(*node)
                    {
                        differing.push((a, *node));
                    }
                }
                match differing.as_slice() {
                    [] => return Err(Stop::Disjoint),
                    [(a, b)] if !self.compares.contains(&(*a, CompareOp::Ne, *b)) => {
                        self.compares.push((*a, CompareOp::Ne, *b));
                        added = true;
                    }
                    _ => {}
                }
            }
        }
        for (a, op, b) in self.compares.clone() {
            if op == CompareOp::Ne && self.find(a) == self.find(b) {
                return Err(Stop::Disjoint);
            }
        }
        Ok(added)
    }

    /// The string tests on each class, by root: the constant patterns, or why a pattern is not
    /// one.
    fn specs(&mut self) -> Result<HashMap<usize, Spec>, Stop> {
        let mut specs: HashMap<usize, Spec> = HashMap::new();
        for (test, subject, pattern, negated) in self.tests.clone() {
            let Some(V::Str(pattern)) = self.class_constant(pattern) else {
                return Err(Stop::Unknown(format!("a `{}` test whose pattern is not a constant", test.name())));
            };
            let root = self.find(subject);
            let spec = specs.entry(root).or_default();
            if negated { spec.neg.push((test, pattern)) } else { spec.pos.push((test, pattern)) }
        }
        Ok(specs)
    }

    /// Step 4 for strings: a class with a constant that fails a test, or tests that no string
    /// passes together.
    fn check_strings(&mut self) -> Result<(), Stop> {
        for (root, spec) in self.specs()? {
            let contradiction = match self.class_constant(root) {
                Some(V::Str(value)) => !spec.holds(&value),
                _ => spec.contradiction(),
            };
            if contradiction {
                return Err(Stop::Disjoint);
            }
        }
        Ok(())
    }

    /// The initial bounds of each ordered class: its constant, or its type's range.
    fn bounds(&mut self) -> Result<BTreeMap<usize, (i128, i128)>, Stop> {
        let mut bounds = BTreeMap::new();
        for node in 0..self.ty.len() {
            let root = self.find(node);
            let range = match self.node_type(root) {
                BaseType::Int | BaseType::Time | BaseType::Duration => (i128::from(i64::MIN), i128::from(i64::MAX)),
                BaseType::Decimal => (-DECIMAL_MANTISSA, DECIMAL_MANTISSA),
                BaseType::Str | BaseType::Bool => continue,
            };
            let range = match self.class_constant(root) {
                Some(V::Ord(v)) => (v, v),
                _ => range,
            };
            bounds.insert(root, range);
        }
        Ok(bounds)
    }

    /// The bounds of each ordered class, propagated along the orders, and past the constants
    /// an integer class must differ from, until they settle.
    fn settled_bounds(&mut self) -> Result<BTreeMap<usize, (i128, i128)>, Stop> {
        let mut bounds = self.bounds()?;
        self.propagate(&mut bounds)?;
        while self.skip_excluded(&mut bounds)? {
            self.propagate(&mut bounds)?;
        }
        Ok(bounds)
    }

    /// The constants each class must differ from (a disequality with a constant's class),
    /// by root.
    fn excluded(&mut self) -> HashMap<usize, Vec<V>> {
        let mut excluded: HashMap<usize, Vec<V>> = HashMap::new();
        for (a, op, b) in self.compares.clone() {
            if op != CompareOp::Ne {
                continue;
            }
            for (x, y) in [(a, b), (b, a)] {
                if let Some(value) = self.class_constant(y) {
                    let root = self.find(x);
                    excluded.entry(root).or_default().push(value);
                }
            }
        }
        excluded
    }

    /// Raises the lower bound and lowers the upper bound of each `Int`, `Time` or `Duration`
    /// class past the constants it must differ from (`x >= c, x != c` is `x >= c + 1` over the
    /// integers; not for a `Decimal`, whose units only stand for a dense order). A bound
    /// crossing the other is a proof of disjointness. Whether a bound moved.
    fn skip_excluded(&mut self, bounds: &mut BTreeMap<usize, (i128, i128)>) -> Result<bool, Stop> {
        let mut moved = false;
        for (root, values) in self.excluded() {
            if !matches!(self.node_type(root), BaseType::Int | BaseType::Time | BaseType::Duration) {
                continue;
            }
            let Some((lo, hi)) = bounds.get_mut(&root) else { continue };
            while *lo <= *hi && values.contains(&V::Ord(*lo)) {
                *lo += 1;
                moved = true;
            }
            while *lo <= *hi && values.contains(&V::Ord(*hi)) {
                *hi -= 1;
                moved = true;
            }
            if *lo > *hi {
                return Err(Stop::Disjoint);
            }
        }
        Ok(moved)
    }

    /// The order constraints as edges `(a, b, s)`: `b ≥ a + s`.
    fn edges(&mut self) -> Vec<(usize, usize, i128)> {
        let mut edges = Vec::new();
        for (a, op, b) in self.compares.clone() {
            let (a, b) = (self.find(a), self.find(b));
            match op {
                CompareOp::Lt => edges.push((a, b, 1)),
                CompareOp::Le => edges.push((a, b, 0)),
                CompareOp::Gt => edges.push((b, a, 1)),
                CompareOp::Ge => edges.push((b, a, 0)),
                CompareOp::Eq | CompareOp::Ne => {}
            }
        }
        edges
    }

    /// Tightens the bounds along the order constraints until they settle.
    fn propagate(&mut self, bounds: &mut BTreeMap<usize, (i128, i128)>) -> Result<(), Stop> {
        let edges = self.edges();
        // Without a strict cycle, longest paths settle within one pass per class.
        for _ in 0..=bounds.len() {
            let mut changed = false;
            for &(a, b, s) in &edges {
                let (Some(&(la, ua)), Some(&(lb, ub))) = (bounds.get(&a), bounds.get(&b)) else { continue };
                let (new_lb, new_ua) = (lb.max(la + s), ua.min(ub - s));
                if new_lb > ub || la > new_ua {
                    return Err(Stop::Disjoint);
                }
                if new_lb != lb || new_ua != ua {
                    changed = true;
                    bounds.insert(b, (new_lb, ub));
                    let (la, _) = bounds.get(&a).copied().unwrap_or((la, ua));
                    bounds.insert(a, (la, new_ua));
                }
            }
            if !changed {
                return Ok(());
            }
        }
        Err(Stop::Disjoint)
    }

    /// The classes of `keys` (by root), each after every class an order puts below it
    /// (Kahn's algorithm; ties by key, the lower bound for ordered numbers). Cycles were
    /// merged, so every class is listed.
    fn topological(&mut self, bounds: &BTreeMap<usize, i128>) -> Vec<usize> {
        let edges = self.edges();
        let mut below: HashMap<usize, usize> = bounds.keys().map(|root| (*root, 0)).collect();
        for &(_, b, _) in &edges {
            if let Some(count) = below.get_mut(&b) {
                *count += 1;
            }
        }
        let mut order = Vec::new();
        let mut ready: Vec<(i128, usize)> =
            below.iter().filter(|(_, n)| **n == 0).map(|(r, _)| (bounds.get(r).copied().unwrap_or(0), *r)).collect();
        while !ready.is_empty() {
            ready.sort_unstable_by(|x, y| y.cmp(x));
            let Some((_, root)) = ready.pop() else { break };
            order.push(root);
            for &(a, b, _) in &edges {
                if a != root {
                    continue;
                }
                if let Some(count) = below.get_mut(&b) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        ready.push((bounds.get(&b).copied().unwrap_or(0), b));
                    }
                }
            }
        }
        // A class left out (only if a cycle survived) is picked last.
        order.extend(bounds.keys().filter(|r| !order.contains(r)).copied().collect::<Vec<_>>());
        order
    }

    /// Step 6: a value for every class; with `distinct`, each different from the values
    /// already picked when its bounds allow.
    fn pick(&mut self, Pick { distinct, shortest }: Pick) -> Result<HashMap<usize, V>, Stop> {
        let mut bounds = self.settled_bounds()?;
        let mut model: HashMap<usize, V> = HashMap::new();
        let mut differ: HashMap<usize, Vec<usize>> = HashMap::new();
        for (a, op, b) in self.compares.clone() {
            if op == CompareOp::Ne {
                let (a, b) = (self.find(a), self.find(b));
                differ.entry(a).or_default().push(b);
                differ.entry(b).or_default().push(a);
            }
        }
        // Constants first: their values are fixed, and the other classes avoid them.
        for root in bounds.keys().copied().collect::<Vec<_>>() {
            if let Some(value) = self.class_constant(root) {
                model.insert(root, value);
            }
        }
        // Then the other ordered classes, each after every class it must be above, so a
        // pick only raises the lower bounds of classes still to pick.
        let order = self.topological(&bounds.iter().map(|(root, (lo, _))| (*root, *lo)).collect());
        let tries = 2 * bounds.len() as i128 + 3;
        for root in order {
            if model.contains_key(&root) {
                continue;
            }
            let Some(&(lo, hi)) = bounds.get(&root) else { continue };
            let ty = self.node_type(root);
            let taken: Vec<i128> = model
                .iter()
                .filter(|(r, _)| self.ty.get(**r) == Some(&ty))
                .filter_map(|(_, v)| if let V::Ord(x) = v { Some(*x) } else { None })
                .collect();
            let must_differ: Vec<i128> = differ
                .get(&root)
                .into_iter()
                .flatten()
                .filter_map(|r| if let Some(V::Ord(x)) = model.get(r) { Some(*x) } else { None })
                .collect();
            // Below the upper bound by one step per class, so the classes above keep room
            // for values of their own.
            let room = hi.saturating_sub(tries).max(lo);
            let start = (if ty == BaseType::Time { A_TIME } else { 0 }).clamp(lo, room);
            let candidates = (0..tries)
                .flat_map(|k| [start + k, start - k - 1])
                .filter(|x| (lo..=hi).contains(x))
                .collect::<Vec<_>>();
            let value = candidates
                .iter()
                .find(|x| distinct && !taken.contains(x) && !must_differ.contains(x))
                .or_else(|| candidates.iter().find(|x| !must_differ.contains(x)))
                .copied()
                .ok_or_else(|| Stop::Unknown("disequalities among values in a narrow range".to_owned()))?;
            bounds.insert(root, (value, value));
            model.insert(root, V::Ord(value));
            self.propagate(&mut bounds)
                .map_err(|_| Stop::Unknown("the values picked for the orders conflict".to_owned()))?;
        }
        // Strings and booleans.
        let constants: Vec<String> = self
            .constant
            .iter()
            .flatten()
            .filter_map(|v| if let V::Str(s) = v { Some(s.clone()) } else { None })
            .collect();
        let specs = self.specs()?;
        self.pick_ordered_strings(&mut model, &specs, &differ, Pick { distinct, shortest })?;
        let mut fresh = 0usize;
        for node in 0..self.ty.len() {
            let root = self.find(node);
            if model.contains_key(&root) {
                continue;
            }
            let value = match (self.class_constant(root), self.node_type(root)) {
                (Some(v), _) => v,
                (None, BaseType::Str) => {
                    let taken = |s: &String| constants.contains(s) || model.values().any(|v| *v == V::Str(s.clone()));
                    let spec = specs.get(&root).cloned().unwrap_or_default();
                    let mut fillers = FILLERS.iter().map(|f| (*f).to_owned());
                    let found = std::iter::from_fn(|| {
                        fresh += 1;
                        Some(format!("w{fresh}"))
                    })
                    .take(8)
                    .chain(fillers.by_ref())
                    .map(|filler| spec.build(&filler))
                    .find(|s| spec.holds(s) && !taken(s));
                    V::Str(found.ok_or_else(|| Stop::Unknown("string tests the search finds no value for".to_owned()))?)
                }
                (None, BaseType::Bool) => {
                    let neighbours: Vec<&V> =
                        differ.get(&root).into_iter().flatten().filter_map(|r| model.get(r)).collect();
                    let taken: Vec<&V> = model
                        .iter()
                        .filter(|(r, _)| self.ty.get(**r) == Some(&BaseType::Bool))
                        .map(|(_, v)| v)
                        .collect();
                    let options = [V::Bool(false), V::Bool(true)];
                    options
                        .iter()
                        .find(|v| distinct && !taken.contains(v) && !neighbours.contains(v))
                        .or_else(|| options.iter().find(|v| !neighbours.contains(v)))
                        .cloned()
                        .ok_or_else(|| Stop::Unknown("disequalities among booleans".to_owned()))?
                }
                (None, _) => continue,
            };
            model.insert(root, value);
        }
        Ok(model)
    }

    /// Step 7: the model checked against every condition, as the witness's facts.
    fn witness(&mut self, model: &HashMap<usize, V>) -> Result<Witness, Stop> {
        let unknown = |what: &str| Stop::Unknown(format!("the values picked do not satisfy {what}"));
        let at = |s: &mut Self, node: usize| model.get(&s.find(node)).cloned();
        for (a, op, b) in self.compares.clone() {
            let (Some(x), Some(y)) = (at(self, a), at(self, b)) else { return Err(unknown("a comparison")) };
            let holds = match (op, &x, &y) {
                (CompareOp::Ne, x, y) => x != y,
                (CompareOp::Eq, x, y) => x == y,
                (op, V::Ord(x), V::Ord(y)) => op.holds(x.cmp(y)),
                // Invariant: `String`'s order is by bytes, as the engine orders strings.
                (op, V::Str(x), V::Str(y)) => op.holds(x.cmp(y)),
                _ => false,
            };
            if !holds {
                return Err(unknown("a comparison"));
            }
        }
        for (test, subject, pattern, negated) in self.tests.clone() {
            let (Some(V::Str(s)), Some(V::Str(p))) = (at(self, subject), at(self, pattern)) else {
                return Err(unknown("a string test"));
            };
            if test.holds(&s, &p) == negated {
                return Err(unknown("a string test"));
            }
        }
        let mut facts: Vec<(RelationId, Vec<V>)> = Vec::new();
        for (relation, nodes) in self.facts.clone() {
            let values =
                nodes.iter().map(|n| at(self, *n)).collect::<Option<Vec<_>>>().ok_or_else(|| unknown("an atom"))?;
            if !facts.contains(&(relation, values.clone())) {
                facts.push((relation, values));
            }
        }
        for (relation, args) in self.negations.clone() {
            let args: Vec<Option<V>> = args.iter().map(|a| a.and_then(|a| at(self, a))).collect();
            let matched = facts.iter().any(|(r, values)| {
                *r == relation && args.iter().zip(values).all(|(arg, v)| arg.as_ref().is_none_or(|a| a == v))
            });
            if matched {
                return Err(unknown("a negated atom"));
            }
        }
        let mut witness = Witness::default();
        for (relation, values) in facts {
            let kind = self.ir.relation(relation).map(|r| r.kind);
            let columns = self.ir.relation(relation).map(|r| r.columns.as_slice()).unwrap_or_default();
            let values =
                values.into_iter().zip(columns).map(|(v, c)| self.typed(v, c.ty)).collect::<Result<Vec<_>, _>>()?;
            let fact = Fact { relation, values };
            match kind {
                Some(RelationKind::Input) => witness.input.push(fact),
                // Fixed data is the package's own: the witness needs none of its own.
                Some(RelationKind::Data) if matches!(self.data, Data::Fixed(_)) => {}
                Some(RelationKind::Data) => witness.data.push(fact),
                _ => return Err(unknown("the kinds of relations")),
            }
        }
        Ok(witness)
    }

    fn typed(&self, v: V, ty: BaseType) -> Result<Value, Stop> {
        let out_of_range = || Stop::Unknown(format!("a {ty} value out of range"));
        Ok(match (v, ty) {
            (V::Ord(x), BaseType::Int) => Value::Int(i64::try_from(x).map_err(|_| out_of_range())?),
            (V::Ord(x), BaseType::Time) => Value::Time(i64::try_from(x).map_err(|_| out_of_range())?),
            (V::Ord(x), BaseType::Duration) => Value::Duration(i64::try_from(x).map_err(|_| out_of_range())?),
            (V::Ord(x), BaseType::Decimal) => Value::Decimal(
                Decimal::try_from_i128_with_scale(x, self.scale).map_err(|_| out_of_range())?.normalize(),
            ),
            (V::Str(s), BaseType::Str) => Value::Str(s),
            (V::Bool(b), BaseType::Bool) => Value::Bool(b),
            _ => return Err(Stop::Unknown(format!("a value of the wrong type for a {ty} column"))),
        })
    }
}

/// Fillers tried, after fresh ones, to build a string that passes negated tests.
const FILLERS: [&str; 8] = ["", "0", "_", "~", "Q", "-", "9", "z"];

/// The string tests on one class of strings, with constant patterns.
#[derive(Debug, Clone, Default)]
struct Spec {
    pos: Vec<(StrTest, String)>,
    neg: Vec<(StrTest, String)>,
}

impl Spec {
    fn holds(&self, value: &str) -> bool {
        self.pos.iter().all(|(t, p)| t.holds(value, p)) && self.neg.iter().all(|(t, p)| !t.holds(value, p))
    }

    /// The longest pattern of `test`, if every other is a prefix (or suffix) of it; `None`
    /// if two cannot hold together.
    fn longest(&self, test: StrTest) -> Option<String> {
        let mut longest = String::new();
        for (_, p) in self.pos.iter().filter(|(t, _)| *t == test) {
            let (long, short) =
                if p.len() > longest.len() { (p.as_str(), longest.as_str()) } else { (longest.as_str(), p.as_str()) };
            if !test.holds(long, short) {
                return None;
            }
            longest = long.to_owned();
        }
        Some(longest)
    }

    /// Whether no string passes every test: a proof (every string with the prefix, the
    /// suffix and the contained strings passes the negated test too).
    fn contradiction(&self) -> bool {
        let (Some(prefix), Some(suffix)) = (self.longest(StrTest::StartsWith), self.longest(StrTest::EndsWith)) else {
            return true;
        };
        let contained = || self.pos.iter().filter(|(t, _)| *t == StrTest::Contains).map(|(_, c)| c);
        self.neg.iter().any(|(test, n)| match test {
            StrTest::StartsWith => prefix.starts_with(n.as_str()),
            StrTest::EndsWith => suffix.ends_with(n.as_str()),
            StrTest::Contains => {
                prefix.contains(n.as_str())
                    || suffix.contains(n.as_str())
                    || contained().any(|c| c.contains(n.as_str()))
            }
        })
    }

    /// The longest prefix, the filler, each contained string followed by the filler, and the
    /// longest suffix.
    fn build(&self, filler: &str) -> String {
        let mut value = self.longest(StrTest::StartsWith).unwrap_or_default();
        value.push_str(filler);
        for (_, c) in self.pos.iter().filter(|(t, _)| *t == StrTest::Contains) {
            value.push_str(c);
            value.push_str(filler);
        }
        value.push_str(&self.longest(StrTest::EndsWith).unwrap_or_default());
        value
    }
}

/// Whether `to` is reachable from `from` along the edges (classes by root).
fn reaches(edges: &[(usize, usize, i128)], from: usize, to: usize) -> bool {
    let mut seen = vec![from];
    let mut stack = vec![from];
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        for &(a, b, _) in edges {
            if a == node && !seen.contains(&b) {
                seen.push(b);
                stack.push(b);
            }
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use gov_ir::{Column, Relation};

    /// An IR with one relation, `input one t(a: ty, b: ty)`.
    fn ir(ty: BaseType) -> Ir {
        let column =
            |name: &str| Column { name: Some(name.to_owned()), ty, type_name: ty.name().to_owned(), contents: None };
        let t = Relation {
            name: "t".to_owned(),
            kind: RelationKind::Input,
            one: true,
            library: false,
            auxiliary: false,
            columns: vec![column("a"), column("b")],
            docs: Vec::new(),
        };
        Ir { relations: vec![t], ..Ir::default() }
    }

    /// `t(v0, v1)` and the comparisons.
    fn query(ty: BaseType, compares: Vec<(Term, CompareOp, Term)>) -> Query {
        let mut items = vec![Item::Fact(RelationId(0), vec![Term::Var(0), Term::Var(1)])];
        items.extend(compares.into_iter().map(|(l, op, r)| Item::Compare(l, op, r)));
        Query { vars: vec![ty, ty], items }
    }

    fn decimal(text: &str) -> Term {
        Term::Const(Const::Decimal(gov_value::parse_decimal(text).unwrap()), BaseType::Decimal)
    }

    #[test]
    fn decimals_are_counted_in_units_fine_enough_for_a_chain_between_constants() {
        // 1.4 < a < b < 1.5: two values strictly between constants one tenth apart.
        let compares = vec![
            (decimal("1.4"), CompareOp::Lt, Term::Var(0)),
            (Term::Var(0), CompareOp::Lt, Term::Var(1)),
            (Term::Var(1), CompareOp::Lt, decimal("1.5")),
        ];
        let Outcome::Candidate(witness) =
            solve(&Schema::new(&ir(BaseType::Decimal)), &query(BaseType::Decimal, compares), Rows::Declared, Data::Any)
        else {
            panic!("expected a candidate")
        };
        let [Value::Decimal(a), Value::Decimal(b)] = witness.input[0].values.as_slice() else { panic!("{witness:?}") };
        let (low, high) = (gov_value::parse_decimal("1.4").unwrap(), gov_value::parse_decimal("1.5").unwrap());
        assert!(low < *a && a < b && *b < high, "{a} {b}");
    }

    #[test]
    fn an_int_constant_compared_with_a_decimal_is_a_decimal() {
        let compares = vec![(Term::Var(0), CompareOp::Gt, Term::Const(Const::Int(1), BaseType::Int))];
        let outcome =
            solve(&Schema::new(&ir(BaseType::Decimal)), &query(BaseType::Decimal, compares), Rows::Declared, Data::Any);
        assert!(matches!(outcome, Outcome::Candidate(_)), "{outcome:?}");
    }

    #[test]
    fn a_strict_cycle_and_a_clash_of_constants_are_disjoint() {
        let cycle = vec![(Term::Var(0), CompareOp::Lt, Term::Var(1)), (Term::Var(1), CompareOp::Le, Term::Var(0))];
        assert_eq!(
            solve(&Schema::new(&ir(BaseType::Int)), &query(BaseType::Int, cycle), Rows::Declared, Data::Any),
            Outcome::Disjoint
        );
        let int = |i| Term::Const(Const::Int(i), BaseType::Int);
        let clash = vec![
            (Term::Var(0), CompareOp::Eq, int(1)),
            (Term::Var(1), CompareOp::Eq, Term::Var(0)),
            (Term::Var(1), CompareOp::Eq, int(2)),
        ];
        assert_eq!(
            solve(&Schema::new(&ir(BaseType::Int)), &query(BaseType::Int, clash), Rows::Declared, Data::Any),
            Outcome::Disjoint
        );
    }

    #[test]
    fn the_one_row_of_an_input_one_relation_is_made_when_no_atom_names_it() {
        let query = Query { vars: Vec::new(), items: Vec::new() };
        let Outcome::Candidate(witness) = solve(&Schema::new(&ir(BaseType::Str)), &query, Rows::Declared, Data::Any)
        else {
            panic!()
        };
        assert_eq!(witness.input.len(), 1);
        assert_eq!(witness.input[0].values, [Value::Str("w1".to_owned()), Value::Str("w2".to_owned())]);
    }
}
