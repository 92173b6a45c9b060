//! Rules and their bodies: typed literals over the rule's variables.

use crate::ids::{DecisionId, RelationId, VarId};
use gov_builtins::Builtin;
use gov_value::{AggregateFn, ArithOp, BaseType, CompareOp, Decimal};

/// A rule: `head :- body` for a derived relation, or the body of a decision rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What the rule produces.
    pub head: Head,
    /// Its variables, by [`VarId`].
    // Invariant: every `VarId` in `head` and `body` (and in the decision's message) is
    // `< vars.len()`; one `VarId` per name in the rule, whatever scope it occurs in.
    pub vars: Vec<Var>,
    /// Its conditions, in source order.
    pub body: Vec<Literal>,
    /// The checker's bound on the number of instructions the rule compiles to: the
    /// compiler never emits more (and E0601 refuses a rule whose bound is over
    /// `gov_value::limits::MAX_RULE_LENGTH`).
    pub max_instructions: usize,
}

/// A variable of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    /// Its name in source.
    pub name: String,
    /// The base type the checker inferred for it.
    pub ty: BaseType,
    /// Made by the checker for the object an object pattern matches (`doc(meta: {owner:
    /// o})` reads the object into one), not written by the author: like `_`, it tells no
    /// aggregate's solutions apart (docs/reference.md, "Grouping and what is counted").
    pub pattern: bool,
}

/// What a rule produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// A fact of a derived relation, one expression per column in column order.
    Derive {
        /// The relation.
        relation: RelationId,
        /// The values.
        args: Vec<Expr>,
    },
    /// A firing of a decision rule (its points and message are in [`crate::DecisionRule`]).
    Decide(DecisionId),
}

/// A condition of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A positive atom: binds its variables.
    Atom(Atom),
    /// `not atom`: every variable it reads is bound elsewhere.
    Negated(Atom),
    /// `left op right`, or `v = expr` binding `v` when `v` is bound nowhere else.
    Compare {
        /// The left side.
        left: Expr,
        /// The operator.
        op: CompareOp,
        /// The right side.
        right: Expr,
    },
    /// `result = function(target : body)`.
    Aggregate {
        /// The side the aggregate's value is bound to or compared with.
        result: Expr,
        /// The aggregate.
        aggregate: Aggregate,
    },
    /// A test built-in (`Output::Test`), or `not` one: every argument is bound elsewhere.
    Test {
        /// The call.
        call: Call,
        /// Whether it is `not call`.
        negated: bool,
    },
    /// `element in call` of a generator built-in (`Output::Values`): binds `element` to each
    /// value when it is a variable bound nowhere else, else keeps the bindings where it is
    /// (`negated`: is not) one of them.
    Generate {
        /// The value bound or tested.
        element: Expr,
        /// The generator.
        call: Call,
        /// `not element in call` (then `element` is bound elsewhere).
        negated: bool,
    },
    /// `element in {c, …}`: binds `element` to each constant when it is a variable bound
    /// nowhere else, else keeps the bindings where it is (`negated`: is not) one of them.
    InSet {
        /// The value bound or tested.
        element: Expr,
        /// The constants, each of `element`'s type.
        set: Vec<Const>,
        /// `not element in {…}` (then `element` is bound elsewhere).
        negated: bool,
    },
}

/// A call of a built-in, its arguments in parameter order.
// Invariant: `args.len()` is the built-in's parameter count, each argument of its
// parameter's type (the checker's guarantee), and a `Param::Pattern` argument a `Const`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Which built-in.
    pub builtin: Builtin,
    /// Its arguments.
    pub args: Vec<Expr>,
}

impl Call {
    /// Calls `f` on each variable of the arguments, in order.
    pub fn for_each_var(&self, f: &mut impl FnMut(VarId)) {
        self.args.iter().for_each(|arg| arg.for_each_var(f));
    }
}

/// An aggregate: a function of the target over the distinct bindings of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// `count`, `sum`, `min` or `max`.
    pub function: AggregateFn,
    /// What is aggregated (`Expr::Wildcard` only for `count`).
    pub target: Expr,
    /// The conditions it ranges over.
    pub body: Vec<Literal>,
}

/// An atom: a relation and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    /// The relation.
    pub relation: RelationId,
    /// The arguments as written, each with the column it fills.
    // Invariant: each column is `< relation.columns.len()` and appears at most once.
    pub args: Vec<Arg>,
}

/// An argument of an atom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// The column it fills (its position, or the column its field name names).
    pub column: u32,
    /// Its value.
    pub value: Expr,
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A variable (its type is [`Var::ty`]).
    Var(VarId),
    /// `_`: matches anything (only as an atom's argument or a `count`'s target).
    Wildcard,
    /// A literal.
    Const(Const),
    /// Checked arithmetic.
    Arith(Box<Arith>),
    /// A value built-in (`Output::Value`): the condition it is in holds only where the
    /// built-in yields a value.
    Call(Box<Call>),
}

/// `left op right`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arith {
    /// The left operand.
    pub left: Expr,
    /// The operator.
    pub op: ArithOp,
    /// The right operand.
    pub right: Expr,
}

/// A literal value, as written: an Int literal where a Decimal is expected stays an Int
/// here, and a back end widens it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Const {
    /// An `Int`.
    Int(i64),
    /// A `Decimal`.
    Decimal(Decimal),
    /// A `Str`.
    Str(String),
    /// A `Bool`.
    Bool(bool),
    /// A `Time`, in nanoseconds since the Unix epoch.
    Time(i64),
    /// A `Duration`, in nanoseconds.
    Duration(i64),
}

impl Const {
    /// The literal's own type.
    pub fn ty(&self) -> BaseType {
        match self {
            Const::Int(_) => BaseType::Int,
            Const::Decimal(_) => BaseType::Decimal,
            Const::Str(_) => BaseType::Str,
            Const::Bool(_) => BaseType::Bool,
            Const::Time(_) => BaseType::Time,
            Const::Duration(_) => BaseType::Duration,
        }
    }
}

impl Expr {
    /// Calls `f` on each variable of the expression, in order, repeats included.
    pub fn for_each_var(&self, f: &mut impl FnMut(VarId)) {
        match self {
            Expr::Var(var) => f(*var),
            Expr::Arith(arith) => {
                arith.left.for_each_var(f);
                arith.right.for_each_var(f);
            }
            Expr::Call(call) => call.for_each_var(f),
            Expr::Wildcard | Expr::Const(_) => {}
        }
    }
}

impl Expr {
    /// The first built-in the expression calls, if any.
    pub fn builtin(&self) -> Option<Builtin> {
        match self {
            Expr::Call(call) => Some(call.builtin),
            Expr::Arith(arith) => arith.left.builtin().or_else(|| arith.right.builtin()),
            Expr::Var(_) | Expr::Wildcard | Expr::Const(_) => None,
        }
    }
}

impl Aggregate {
    /// Calls `f` on each variable of the target and the body (nested aggregates included).
    pub fn for_each_var(&self, f: &mut impl FnMut(VarId)) {
        self.target.for_each_var(f);
        for literal in &self.body {
            literal.for_each_var(f);
        }
    }
}

impl Literal {
    /// Calls `f` on each variable of the condition, aggregates' included.
    pub fn for_each_var(&self, f: &mut impl FnMut(VarId)) {
        match self {
            Literal::Atom(atom) | Literal::Negated(atom) => atom.args.iter().for_each(|a| a.value.for_each_var(f)),
            Literal::Compare { left, right, .. } => {
                left.for_each_var(f);
                right.for_each_var(f);
            }
            Literal::Aggregate { result, aggregate } => {
                result.for_each_var(f);
                aggregate.for_each_var(f);
            }
            Literal::Test { call, .. } => call.for_each_var(f),
            Literal::Generate { element, call, .. } => {
                element.for_each_var(f);
                call.for_each_var(f);
            }
            Literal::InSet { element, .. } => element.for_each_var(f),
        }
    }

    /// The first built-in the condition calls (in an expression, as a test or a generator),
    /// aggregates' bodies included; `None` if it calls none.
    pub fn builtin(&self) -> Option<Builtin> {
        match self {
            Literal::Atom(atom) | Literal::Negated(atom) => atom.args.iter().find_map(|a| a.value.builtin()),
            Literal::Compare { left, right, .. } => left.builtin().or_else(|| right.builtin()),
            Literal::Aggregate { result, aggregate } => result
                .builtin()
                .or_else(|| aggregate.target.builtin())
                .or_else(|| aggregate.body.iter().find_map(Literal::builtin)),
            Literal::Test { call, .. } | Literal::Generate { call, .. } => Some(call.builtin),
            Literal::InSet { element, .. } => element.builtin(),
        }
    }

    /// Calls `f` on each variable the condition reads at its own level: an aggregate's
    /// target and body are its own scope, so only its `result` side counts.
    pub fn for_each_outer_var(&self, f: &mut impl FnMut(VarId)) {
        match self {
            Literal::Aggregate { result, .. } => result.for_each_var(f),
            other => other.for_each_var(f),
        }
    }

    /// Calls `f` on each atom of the condition, with whether it is a positive atom of this
    /// body (not negated, not inside an aggregate).
    pub fn for_each_atom<'a>(&'a self, f: &mut impl FnMut(&'a Atom, bool)) {
        self.atoms(true, f);
    }

    fn atoms<'a>(&'a self, top: bool, f: &mut impl FnMut(&'a Atom, bool)) {
        match self {
            Literal::Atom(atom) => f(atom, top),
            Literal::Negated(atom) => f(atom, false),
            Literal::Compare { .. } | Literal::Test { .. } | Literal::Generate { .. } | Literal::InSet { .. } => {}
            Literal::Aggregate { aggregate, .. } => aggregate.body.iter().for_each(|literal| literal.atoms(false, f)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn atom(relation: u32, vars: &[u32]) -> Atom {
        let args = vars.iter().enumerate().map(|(i, v)| Arg { column: i as u32, value: Expr::Var(VarId(*v)) });
        Atom { relation: RelationId(relation), args: args.collect() }
    }

    /// `v0 = count(v1 : r1(v1, v0), not r2(v1))`
    fn aggregate() -> Literal {
        Literal::Aggregate {
            result: Expr::Var(VarId(0)),
            aggregate: Aggregate {
                function: AggregateFn::Count,
                target: Expr::Var(VarId(1)),
                body: vec![Literal::Atom(atom(1, &[1, 0])), Literal::Negated(atom(2, &[1]))],
            },
        }
    }

    #[test]
    fn an_aggregate_s_variables_are_its_own_scope() {
        let mut all = Vec::new();
        aggregate().for_each_var(&mut |v| all.push(v.0));
        assert_eq!(all, [0, 1, 1, 0, 1]);
        let mut outer = Vec::new();
        aggregate().for_each_outer_var(&mut |v| outer.push(v.0));
        assert_eq!(outer, [0]);
    }

    #[test]
    fn only_a_body_s_own_positive_atoms_are_top_level() {
        let body = [Literal::Atom(atom(3, &[0])), Literal::Negated(atom(4, &[0])), aggregate()];
        let mut atoms = Vec::new();
        for literal in &body {
            literal.for_each_atom(&mut |a, top| atoms.push((a.relation.0, top)));
        }
        assert_eq!(atoms, [(3, true), (4, false), (1, false), (2, false)]);
    }
}
