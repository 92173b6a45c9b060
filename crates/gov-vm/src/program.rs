//! The in-memory form of a compiled policy: what a bundle encodes and the engine runs.
//!
//! The compiler builds a [`Program`]; [`crate::bundle`] writes and reads it; the engine
//! evaluates it. Rule bodies are straight-line register code whose scans nest: each
//! [`Instr::Scan`] runs the rest of the rule once per matching row, so a rule's
//! instruction list reads as its join plan, outermost loop first (see docs/bytecode.md).

/// The vocabulary shared with the language (one definition, in gov-value).
pub use crate::guards::top_level;
pub use gov_value::{AggregateFn, Effect, RelationKind};
use gov_value::{ArithOp, BaseType, CompareOp};

/// An index into [`Program::strings`].
pub type Sym = u32;

/// A compiled policy.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Program {
    /// Every string the program mentions: names, literals, messages.
    pub strings: Vec<String>,
    /// Constant values used by the code.
    pub constants: Vec<crate::Value>,
    /// Relations, by id.
    pub relations: Vec<RelationSchema>,
    /// Decision rules, by id.
    pub decisions: Vec<DecisionMeta>,
    /// Derivation rules (and decision rules), by id.
    pub rules: Vec<RuleCode>,
    /// Evaluation order.
    pub strata: Vec<Stratum>,
    /// The rules the compiler indexed: each runs only for a request with a fact that holds
    /// its constants ([`RuleKey`]); every other rule runs for every request.
    pub dispatch: Vec<RuleKey>,
    /// Facts of data relations, carried by the bundle: groups of (relation id, its rows'
    /// values one after another); read a group's rows with [`data_rows`].
    pub data: Vec<(u32, Vec<crate::Value>)>,
    /// What a request no rule decides gets.
    pub default_allow: bool,
    /// Package name, compiler version, source hash, files.
    pub meta: Meta,
}

/// When a relation's facts are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Once, when the bundle loads: nothing about it depends on a request.
    Static,
    /// For each request.
    Request,
}

/// A relation's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationSchema {
    /// Its name.
    pub name: Sym,
    /// Input, data, derived or the risk score.
    pub kind: RelationKind,
    /// Declared `input one`: a request must hold exactly one fact of it.
    // Invariant: only an `Input` relation is `one` (the bundle validator enforces it).
    pub one: bool,
    /// When it is computed.
    pub phase: Phase,
    /// Its columns.
    pub columns: Vec<ColumnSchema>,
    /// Index key column lists the code looks rows up by.
    pub indexes: Vec<Vec<u8>>,
}

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSchema {
    /// The field name (declared relations; `None` for derived ones).
    pub name: Option<Sym>,
    /// The value type.
    pub ty: BaseType,
    /// The declared type's name (an alias such as `Agent`, or the base type's name).
    pub type_name: Sym,
    /// A list or object field: the column holds an identifier (an `Int`) of the value,
    /// whose contents are facts of another relation, read from the same JSON.
    pub contents: Option<Contents>,
}

/// Where a list or object field's contents go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contents {
    /// The relation (of the same kind) holding them: (identifier, element) for a list, one
    /// fact per distinct element; (identifier, members…) for an object, one fact.
    pub relation: u32,
    /// A JSON array (or else a JSON object).
    pub list: bool,
}

/// An instruction operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A register of the rule.
    Reg(u16),
    /// An entry of [`Program::constants`].
    Const(u32),
}

/// Which rows of a relation a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// All rows.
    Full,
    /// Rows added in the previous round of a recursive stratum.
    Delta,
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instr {
    /// For each row of `rel` (via index `index` with key `key`, or all rows), bind
    /// columns to registers, check the others, then run the rest of the rule.
    Scan {
        /// The relation.
        rel: u32,
        /// All rows, or the last round's.
        source: Source,
        /// The index used, with one key operand per index column.
        index: Option<u16>,
        /// Key values, in index column order.
        key: Vec<Operand>,
        /// (column, register) to load.
        binds: Vec<(u8, u16)>,
        /// (column, operand) that must be equal, checked after the loads.
        checks: Vec<(u8, Operand)>,
    },
    /// Continue only if no row of `rel` matches `key` on index `index` (or, without an
    /// index, if `rel` is empty).
    Absent {
        /// The relation.
        rel: u32,
        /// The index whose columns the key gives.
        index: Option<u16>,
        /// Key values.
        key: Vec<Operand>,
    },
    /// Continue only if `left op right`.
    Compare {
        /// The comparison.
        op: CompareOp,
        /// Left operand.
        left: Operand,
        /// Right operand.
        right: Operand,
    },
    /// `dst = left op right`, checked.
    Arith {
        /// The operator.
        op: ArithOp,
        /// Destination register.
        dst: u16,
        /// Left operand.
        left: Operand,
        /// Right operand.
        right: Operand,
    },
    /// `dst = src`.
    Move {
        /// Destination register.
        dst: u16,
        /// The value.
        src: Operand,
    },
    /// Run the next `len` instructions as a sub-plan, aggregate `target` over its distinct
    /// bindings of `locals`, put the result in `dst` and continue after the sub-plan.
    /// `min` and `max` of nothing fail the rule.
    Aggregate {
        /// Which function.
        function: AggregateFn,
        /// The result's type (the zero of `sum`).
        ty: BaseType,
        /// Destination register.
        dst: u16,
        /// The aggregated value.
        target: Operand,
        /// The sub-plan's own variables: each distinct binding counts once.
        locals: Vec<u16>,
        /// Length of the sub-plan.
        len: u32,
    },
    /// Derive a fact of `rel`.
    Emit {
        /// The head relation.
        rel: u32,
        /// Its column values.
        values: Vec<Operand>,
    },
    /// Calls a built-in on `args` (the engine gives it what it prepared of this call's
    /// constant arguments at load) and continues as `out` says.
    Call {
        /// The built-in; the bundle stores its name.
        builtin: gov_builtins::Builtin,
        /// Its arguments, one per parameter.
        args: Vec<Operand>,
        /// What is done with what it yields.
        out: CallOut,
    },
    /// Ranges over the values of a set literal, as `out` says (`Each`, `Has` or `Lacks`).
    Set {
        /// The values.
        values: Vec<Operand>,
        /// What is done with them.
        out: CallOut,
    },
    /// A decision rule fires with these values (risk points first for `risk` rules, the
    /// approver group first for `escalate … to g`, then the message's interpolated values).
    Fire {
        /// The decision rule.
        decision: u32,
        /// The values.
        values: Vec<Operand>,
    },
}

impl Instr {
    /// How many instructions the step starting with this one spans: an aggregate's
    /// sub-plan is part of it.
    pub fn step_len(&self) -> usize {
        1 + if let Instr::Aggregate { len, .. } = self { *len as usize } else { 0 }
    }
}

/// What a [`Instr::Call`] or [`Instr::Set`] does with what it yields.
// Invariant (bundle validation): `Test` only for an `Output::Test` built-in, `Value` only
// for an `Output::Value` one, the others for an `Output::Values` built-in or a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOut {
    /// Continue once if the test holds (`negated`: if it does not).
    Test {
        /// `not call`.
        negated: bool,
    },
    /// Continue once with the value in the register, or not at all when there is none.
    Value(u16),
    /// Continue once per value, each in the register.
    Each(u16),
    /// Continue once if some value equals the operand.
    Has(Operand),
    /// Continue once if no value equals the operand.
    Lacks(Operand),
}

/// One rule's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCode {
    /// Registers the code uses.
    pub registers: u16,
    /// The instructions; the last is an `Emit` or `Fire`.
    pub code: Vec<Instr>,
    /// Where the rule is in source.
    pub source: SourceRef,
}

/// A source location, for reasons and disassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceRef {
    /// The file's path.
    pub file: Sym,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A group of rules evaluated together, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stratum {
    /// Rules run once (non-recursive) or to a fixpoint (recursive: first every rule in
    /// `rules`, then only the `delta_rules` variants until nothing new is derived).
    Rules {
        /// When it runs.
        phase: Phase,
        /// Rules run first (all sources full).
        rules: Vec<u32>,
        /// Semi-naive variants run in later rounds; empty for non-recursive strata.
        delta_rules: Vec<u32>,
    },
    /// Computes `risk_score` from the `risk` decisions fired so far.
    RiskScore {
        /// The `risk_score` relation.
        rel: u32,
    },
}

/// A rule the compiler indexed (docs/bytecode.md, "Rule dispatch"): its body scans input
/// relation `rel`, outside any aggregate, testing `columns` against `constants`, so it
/// derives nothing unless a fact of `rel` holds those values there. The engine groups the
/// keys by (relation, columns) and runs such a rule only for a request with a matching
/// fact (one hash probe per group and fact).
// Invariant (bundle validation): `rule` runs only in non-recursive request strata, is
// keyed once, and its code has that scan; `rel` is a request input; `columns` ascend, one
// constant (of the column's type) each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleKey {
    /// The rule.
    pub rule: u32,
    /// The input relation its scan reads.
    pub rel: u32,
    /// The columns the scan tests against constants, ascending.
    pub columns: Vec<u8>,
    /// The constant of each column (entries of [`Program::constants`]).
    pub constants: Vec<u32>,
}

/// A piece of a decision message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePart {
    /// Literal text.
    Text(Sym),
    /// The `n`th value of the firing (after the risk points, if any).
    Value(u16),
}

/// A decision rule's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionMeta {
    /// Its name.
    pub name: Sym,
    /// What it decides.
    pub effect: Effect,
    /// The approver group of an `escalate`.
    pub approver: Option<Approver>,
    /// Its message.
    pub message: Vec<MessagePart>,
    /// Rules it overrides (`@overrides`).
    pub overrides: Vec<u32>,
    /// Where it is.
    pub source: SourceRef,
}

/// Who approves an `escalate` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approver {
    /// A group the program names (`to "group"`).
    Group(Sym),
    /// The group each firing carries as its first value (`to g`, a variable of the body).
    Value,
}

impl DecisionMeta {
    /// How many values a firing carries before the message's: a `risk` rule's points, or
    /// the approver group of an `escalate … to g`.
    pub fn leading_values(&self) -> usize {
        usize::from(self.effect == Effect::Risk) + usize::from(self.approver == Some(Approver::Value))
    }
}

/// Bundle metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Meta {
    /// The package's name.
    pub package: String,
    /// The compiler's version.
    pub compiler: String,
    /// `sha256:` of the sources compiled.
    pub source_hash: String,
    /// The source files, in order.
    pub files: Vec<String>,
}

/// The rows of one group of [`Program::data`] for a relation of `arity` columns: the
/// values in runs of `arity`. A relation without columns has one possible fact, so its
/// group has no values and stands for that fact: a group means the fact holds.
pub fn data_rows(arity: usize, values: &[crate::Value]) -> impl Iterator<Item = &[crate::Value]> {
    // Invariant: a group of a relation without columns has no values (the loader checks).
    let (runs, fact) = if arity == 0 { (None, Some(&[][..])) } else { (Some(values.chunks_exact(arity)), None) };
    runs.into_iter().flatten().chain(fact)
}

/// Facts as [`crate::json::facts`] reads them, from one or more documents, in the form of
/// [`Program::data`]: one group per relation, in the order the relations first appear,
/// each fact once, where it first appears (the loader refuses a fact stated twice). A
/// relation id out of `relations` or a group not a whole number of rows is
/// [`crate::EvalError::Corrupt`].
pub fn data_groups(
    relations: &[RelationSchema],
    facts: impl IntoIterator<Item = (u32, Vec<crate::Value>)>,
) -> Result<Vec<(u32, Vec<crate::Value>)>, crate::EvalError> {
    let mut groups: Vec<(u32, crate::store::Relation)> = Vec::new();
    for (rel, values) in facts {
        let schema = relations.get(rel as usize).ok_or(crate::EvalError::Corrupt("data for an unknown relation"))?;
        let arity = schema.columns.len();
        let at = match groups.iter().position(|(r, _)| *r == rel) {
            Some(at) => at,
            None => {
                groups.push((rel, crate::store::Relation::new(schema.columns.iter().map(|c| c.ty), &[])));
                groups.len() - 1
            }
        };
        let Some((_, group)) = groups.get_mut(at) else { continue };
        if arity != 0 && !values.len().is_multiple_of(arity) {
            return Err(crate::EvalError::Corrupt(
                "a fact has a different number of values than its relation has columns",
            ));
        }
        for row in data_rows(arity, &values) {
            group.insert(row)?;
        }
    }
    Ok(groups.into_iter().map(|(rel, group)| (rel, group.into_values())).collect())
}

impl Program {
    /// The string `sym`, or `""` for an id out of range (the loader rejects those).
    pub fn string(&self, sym: Sym) -> &str {
        self.strings.get(sym as usize).map_or("", String::as_str)
    }

    /// The relation called `name`.
    pub fn relation_by_name(&self, name: &str) -> Option<(u32, &RelationSchema)> {
        self.relations
            .iter()
            .enumerate()
            .find(|(_, r)| self.string(r.name) == name)
            .and_then(|(i, r)| Some((u32::try_from(i).ok()?, r)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::Value;

    /// `data d(x: Int, y: Int)` and `data flag()`: facts from two documents are grouped per
    /// relation in the order the relations first appear, each fact once where it first
    /// appears (the loader refuses a repeat); a group of the wrong width is an error.
    #[test]
    fn data_groups_state_each_fact_once() {
        let column = ColumnSchema { name: None, ty: gov_value::BaseType::Int, type_name: 0, contents: None };
        let relation = |columns| RelationSchema {
            name: 0,
            kind: RelationKind::Data,
            one: false,
            phase: Phase::Static,
            columns,
            indexes: Vec::new(),
        };
        let relations = vec![relation(vec![column.clone(), column]), relation(Vec::new())];
        let ints = |values: &[i64]| values.iter().map(|&v| Value::Int(v)).collect::<Vec<_>>();
        let facts = vec![(1, Vec::new()), (0, ints(&[1, 2, 3, 4, 1, 2])), (1, Vec::new()), (0, ints(&[5, 6, 3, 4]))];
        assert_eq!(data_groups(&relations, facts).unwrap(), vec![(1, Vec::new()), (0, ints(&[1, 2, 3, 4, 5, 6]))]);
        assert!(data_groups(&relations, vec![(0, ints(&[1]))]).is_err());
        assert!(data_groups(&relations, vec![(2, Vec::new())]).is_err());
    }
}

/// A string table being built or extended, each text once: the compiler's, or a compiled
/// program's as more data is read for it (its strings first, new texts numbered after).
#[derive(Debug, Default)]
pub struct StringTable {
    strings: Vec<String>,
    symbols: std::collections::HashMap<String, Sym>,
}

impl StringTable {
    /// The strings of `program`, to be extended.
    pub fn of(program: &Program) -> StringTable {
        let strings = program.strings.clone();
        let symbols =
            strings.iter().enumerate().filter_map(|(i, s)| Some((s.clone(), Sym::try_from(i).ok()?))).collect();
        StringTable { strings, symbols }
    }

    /// The symbol of `text`, added to the table if it is new.
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(&sym) = self.symbols.get(text) {
            return sym;
        }
        let sym = Sym::try_from(self.strings.len()).unwrap_or(Sym::MAX);
        self.strings.push(text.to_owned());
        self.symbols.insert(text.to_owned(), sym);
        sym
    }

    /// The strings so far, by symbol.
    pub fn table(&self) -> &[String] {
        &self.strings
    }

    /// The whole table, for the program that holds these strings.
    pub fn into_table(self) -> Vec<String> {
        self.strings
    }
}
