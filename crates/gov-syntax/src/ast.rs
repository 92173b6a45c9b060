//! The syntax tree. Every node carries the byte [`Span`] it was parsed from.
//!
//! The tree is tolerant: an item that failed to parse is kept as [`ItemKind::Error`] with
//! whatever name it was about to define, so later phases neither lose the rest of the file
//! nor report follow-on errors about that name.

use gov_diag::Span;
/// The shared vocabulary: one definition from the parser to the engine.
pub use gov_value::{AggregateFn, Effect, RelationKind};
use gov_value::{ArithOp, CompareOp, Decimal};
pub use smol_str::SmolStr;
use std::sync::Arc;

/// A parsed `.gov` file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFile {
    /// Items in source order; a `package` declaration is an item too. Each tree is shared
    /// with the file's last parse when an edit left its text unchanged (`parser::reparse`),
    /// moved or not ([`ItemAt`]).
    pub items: Vec<ItemAt>,
}

/// An item's tree where its text now stands.
///
/// After an edit the parse moves the items after it, every span by one distance, without
/// copying them: an `ItemAt` holds the tree as it was parsed and the distance, and makes
/// the moved copy the first time a reader asks for the tree (through `Deref`). The readers
/// of an editor's keystroke that need an item's place and structure only (the checker's
/// memos of kept items) ask [`ItemAt::span`], [`ItemAt::origin`] and [`ItemAt::unmoved`]
/// instead, so a keystroke copies none of the items it moved (issue 10 item 7).
// Invariant: `moved`, once set, is `tree` with every span moved `by` bytes (modulo 2³²),
// and keeps `tree`'s origin; with `by` 0 it is never set (the tree is its own place).
pub struct ItemAt {
    tree: Arc<Item>,
    by: u32,
    moved: std::sync::OnceLock<Arc<Item>>,
}

impl ItemAt {
    /// A tree where it was parsed.
    pub fn new(item: Item) -> ItemAt {
        ItemAt { tree: Arc::new(item), by: 0, moved: std::sync::OnceLock::new() }
    }

    /// The same tree `by` bytes further on (modulo 2³²: a move back is a wrapping add),
    /// not copied.
    pub fn moved(&self, by: u32) -> ItemAt {
        if by == 0 {
            return self.clone();
        }
        ItemAt { tree: Arc::clone(&self.tree), by: self.by.wrapping_add(by), moved: std::sync::OnceLock::new() }
    }

    /// The whole item's span where it now stands ([`Item::span`]).
    pub fn span(&self) -> Span {
        self.tree.span.shifted(self.by)
    }

    /// The tree's origin ([`Item::origin`]): the same however far the tree moved.
    pub fn origin(&self) -> Origin {
        self.tree.origin
    }

    /// The tree as it was parsed: the item's structure, with every span [`ItemAt::by`] bytes
    /// before where it now stands. For readers of its shape (its kind, names, flags), not
    /// of its places.
    pub fn unmoved(&self) -> &Item {
        &self.tree
    }

    /// How far the item moved since its tree was parsed (modulo 2³²).
    pub fn by(&self) -> u32 {
        self.by
    }

    /// The tree where it now stands, to change: a copy of its own (whoever changes it
    /// other than by moving every span gives it [`Origin::fresh`]).
    pub fn make_mut(&mut self) -> &mut Item {
        if self.by != 0 {
            *self = ItemAt::new(Item::clone(self));
        }
        Arc::make_mut(&mut self.tree)
    }

    /// Whether the two are the same tree at the same place (no comparison of trees).
    pub fn same(&self, other: &ItemAt) -> bool {
        Arc::ptr_eq(&self.tree, &other.tree) && self.by == other.by
    }
}

impl Clone for ItemAt {
    /// The same tree at the same place, with its moved copy if it has one. (A derived clone
    /// of the `OnceLock` costs as much as the rest of a keystroke's copies of the file.)
    fn clone(&self) -> ItemAt {
        let moved = match self.moved.get() {
            Some(moved) => std::sync::OnceLock::from(Arc::clone(moved)),
            None => std::sync::OnceLock::new(),
        };
        ItemAt { tree: Arc::clone(&self.tree), by: self.by, moved }
    }
}

impl std::ops::Deref for ItemAt {
    type Target = Item;

    /// The tree where it now stands: the parsed tree if it did not move, else its moved
    /// copy, made at the first call.
    fn deref(&self) -> &Item {
        if self.by == 0 {
            return &self.tree;
        }
        self.moved.get_or_init(|| {
            let mut item = Item::clone(&self.tree);
            crate::shift::item(&mut item, self.by);
            Arc::new(item)
        })
    }
}

impl PartialEq for ItemAt {
    fn eq(&self, other: &ItemAt) -> bool {
        self.same(other) || **self == **other
    }
}

impl Eq for ItemAt {}

impl std::hash::Hash for ItemAt {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl std::fmt::Debug for ItemAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// An identifier with its location.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name {
    /// The identifier (cloned without allocating: most names are short).
    pub text: SmolStr,
    /// Where it is written.
    pub span: Span,
}

/// A dotted path such as `std.approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    /// The segments, at least one.
    pub segments: Vec<Name>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, segments joined with `.`.
    pub fn dotted(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(".")
    }
}

/// A top-level item with its doc comment and annotations.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Item {
    /// The text of the `///` lines before the item, one entry per line, without the
    /// slashes and the single space after them.
    pub docs: Vec<String>,
    /// `@name(args)` annotations before the item.
    pub annotations: Vec<Annotation>,
    /// What the item is.
    pub kind: ItemKind,
    /// The whole item, annotations included, doc comment excluded.
    pub span: Span,
    /// Which tree this one is a moved copy of, for memos kept across parses.
    pub origin: Origin,
    /// Whether its body, as parsed, writes a list or an object or `x in v`
    /// ([`crate::walk::writes_compound_syntax`]): the checker's rewrite of list and object
    /// fields skips an item without them (unless it reads such a field), so a keystroke
    /// does not walk every body of the package to find out.
    pub compound_syntax: bool,
}

/// Where an item's tree came from: a tree built by the parser (or changed after it) gets a
/// fresh origin; a tree the parse moved to where its text now stands after an edit
/// (`parser::reparse`, [`ItemAt`], and its moved copy, `shift`) keeps its origin. So two trees with
/// the same origin are the same item, every span moved by the distance between their
/// [`Item::span`]s, and a memo keyed by the origin (the checker's per-item memo) finds an
/// item the edit moved.
///
/// Not part of the tree's value: every two origins compare equal and hash alike, so a
/// parse after an edit still equals a parse from scratch.
// Invariant: whoever changes a tree behind an `Arc` other than by moving all its spans
// one distance (`shift`) gives it `Origin::fresh()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin(u64);

impl Origin {
    /// An origin no other tree has.
    pub fn fresh() -> Origin {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Origin(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// The origin as a number, `None` for the default origin of a tree built outside the
    /// parser (which no memo may key by).
    pub fn id(self) -> Option<std::num::NonZeroU64> {
        std::num::NonZeroU64::new(self.0)
    }
}

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Eq for Origin {}

impl std::hash::Hash for Origin {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// The kinds of item.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// `package payments.core`
    Package(Path),
    /// `use std.approvals`
    Use(Path),
    /// `default allow` or `default deny`
    Default(DefaultDecision),
    /// `type Agent = Str`
    TypeAlias(TypeAlias),
    /// `input transfer(agent: Agent, amount: Int)`, `input one request_time(at: Time)` or
    /// `data role(…)`
    Relation(RelationDecl),
    /// A Datalog rule or fact: `head :- body.`
    Rule(Rule),
    /// A decision rule: `deny name "message" :- body.`
    Decision(DecisionRule),
    /// `test "name" { … }`
    Test(TestBlock),
    /// `invariant name: never allow :- body.`: a property the analysis proves.
    Invariant(Invariant),
    /// `fixture name { … }`: data and given facts that tests share.
    Fixture(Fixture),
    /// An item that failed to parse (its error is already reported).
    Error(ErrorItem),
}

/// `default allow` or `default deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DefaultDecision {
    /// Requests no rule decides are allowed.
    Allow,
    /// Requests no rule decides are denied (also the behaviour with no `default` item).
    Deny,
}

/// `type Name = Target`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeAlias {
    /// The new type's name.
    pub name: Name,
    /// The type it is represented as.
    pub target: Name,
}

/// `input name(field: Type, …)`, `input one name(…)` or `data name(…)`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelationDecl {
    /// Input or data.
    // Invariant: `Input` or `Data`: the grammar declares no other kind.
    pub kind: RelationKind,
    /// The span of the contextual word `one` (exactly one fact per request), if written.
    /// The grammar accepts it after `data` too; the checker refuses it there.
    pub one: Option<Span>,
    /// The relation's name.
    pub name: Name,
    /// Its fields, in positional order.
    pub fields: Vec<FieldDecl>,
}

/// `name: Type` in a relation declaration (or in an object type's braces).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldDecl {
    /// Field name.
    pub name: Name,
    /// Field type.
    pub ty: FieldType,
}

/// A field's type: a named type, a list of one, or an object of fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `Str`, `Agent`: a base type or an alias.
    Named(Name),
    /// `[Str]`: a JSON array of values of the named type. The span covers the brackets.
    List(Name, Span),
    /// `{path: Str, recursive: Bool}`: a JSON object with these members. The span covers
    /// the braces.
    Object(Vec<FieldDecl>, Span),
}

impl FieldType {
    /// The type's extent.
    pub fn span(&self) -> Span {
        match self {
            FieldType::Named(name) => name.span,
            FieldType::List(_, span) | FieldType::Object(_, span) => *span,
        }
    }

    /// The named type of a `Named` type or of a list's elements.
    pub fn named(&self) -> Option<&Name> {
        match self {
            FieldType::Named(name) | FieldType::List(name, _) => Some(name),
            FieldType::Object(..) => None,
        }
    }
}

/// `@name(arg, …)`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Annotation {
    /// The annotation's name (`overrides`).
    pub name: Name,
    /// Its arguments (rule names).
    pub args: Vec<Name>,
    /// From `@` to `)`.
    pub span: Span,
}

/// `head :- body.` (a fact when the body is empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The derived atom.
    pub head: Atom,
    /// The conditions, a conjunction.
    pub body: Vec<BodyItem>,
}

/// `deny name "message" :- body.` and its siblings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionRule {
    /// Which effect.
    pub effect: Effect,
    /// The rule's name, unique in the package.
    pub name: Name,
    /// `to "group"` or `to g` of an `escalate`.
    pub approver: Option<Approver>,
    /// The points of a `risk` rule (an Int literal or a variable the body binds).
    pub points: Option<Expr>,
    /// The message, which may interpolate `{var}`.
    pub message: Option<Message>,
    /// The conditions; empty means the rule always fires.
    pub body: Vec<BodyItem>,
}

/// `invariant name: never allow :- body.` or `invariant name: always deny :- body.`: on every
/// request (with any data) on which the body holds, the decision is never (always) the effect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Invariant {
    /// Its name.
    pub name: Name,
    /// `always` (true) or `never` (false).
    pub always: bool,
    /// Where `always` or `never` is written.
    pub quantifier: Span,
    /// `allow`, `deny` or `escalate`.
    pub effect: Effect,
    /// The conditions (at least one).
    pub body: Vec<BodyItem>,
}

/// Who approves an `escalate` rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Approver {
    /// `to "group"`: a group named in the source.
    Group(StrLit),
    /// `to g`: the group a variable of the body is bound to (a `Str`, or an alias of it).
    Var(Name),
}

impl Approver {
    /// The span of the group or the variable.
    pub fn span(&self) -> Span {
        match self {
            Approver::Group(group) => group.span,
            Approver::Var(var) => var.span,
        }
    }
}

/// A string literal with its decoded value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrLit {
    /// The decoded text.
    pub value: String,
    /// Quotes included.
    pub span: Span,
}

/// A decision rule's message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// Text and `{var}` interpolations in order.
    pub parts: Vec<MessagePart>,
    /// Quotes included.
    pub span: Span,
}

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MessagePart {
    /// Literal text (decoded; `{{` and `}}` already turned into braces).
    Text(String),
    /// `{var}`: the span covers the variable name only.
    Var(Name),
}

/// One condition of a rule body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BodyItem {
    /// `rel(args)`
    Atom(Atom),
    /// `not rel(args)`; the span covers `not` through `)`.
    Not(Atom, Span),
    /// `left op right`; with `=`, a lone unbound variable on one side is bound.
    Compare(Comparison),
    /// A test built-in as a condition: `str.starts_with(path, "/etc/")`.
    Test(Call),
    /// `not str.contains(cmd, "sudo")`; the span covers `not` through `)`.
    NotTest(Call, Span),
    /// `element in collection` or `not element in collection`.
    In(Box<Membership>),
}

impl BodyItem {
    /// The item's extent.
    pub fn span(&self) -> Span {
        match self {
            BodyItem::Atom(atom) => atom.span,
            BodyItem::Not(_, span) => *span,
            BodyItem::Compare(c) => c.span,
            BodyItem::Test(call) => call.span,
            BodyItem::NotTest(_, span) => *span,
            BodyItem::In(membership) => membership.span,
        }
    }
}

/// `left op right`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Comparison {
    /// Left operand.
    pub left: Expr,
    /// The operator.
    pub op: CompareOp,
    /// Right operand.
    pub right: Expr,
    /// The whole comparison.
    pub span: Span,
}

/// A call of a built-in: `str.lower(name)`. Its name is dotted (`family.name`), which
/// tells it apart from an atom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Call {
    /// The built-in's name as written, segments joined with `.`; its span covers them all.
    pub name: Name,
    /// The arguments, positional.
    pub args: Vec<Expr>,
    /// From the name through `)`.
    pub span: Span,
}

/// `element in collection`: a generator built-in binds `element` to each value it yields
/// (or tests a bound one); a set literal tests membership (or binds each of its values).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Membership {
    /// The span of `not`, when written: no value of the collection equals `element`.
    pub negated: Option<Span>,
    /// The value tested or bound.
    pub element: Expr,
    /// What it ranges over.
    pub collection: Collection,
    /// The whole condition, `not` included.
    pub span: Span,
}

/// What `in` ranges over.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Collection {
    /// A generator built-in: `str.split(cmd, " ")`.
    Call(Call),
    /// A set literal: `{"read_file", "list_dir"}`.
    Set(SetLit),
    /// A variable bound to a list field: `"--force" in argv`.
    // Invariant: an `Expr::Var` (the grammar writes nothing else here).
    List(Expr),
}

/// `{lit, …}`: at least one literal (or `[lit, …]`, maybe none, as a list's value).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetLit {
    /// The values, as written.
    pub items: Vec<Lit>,
    /// From `{` (or `[`) through `}` (or `]`).
    pub span: Span,
}

/// `rel(args)`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Atom {
    /// The relation.
    pub relation: Name,
    /// The arguments: all positional, or all named.
    pub args: Vec<Arg>,
    /// From the name through `)`.
    pub span: Span,
}

/// An argument of an atom: `expr` or `field: expr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arg {
    /// The field name, for a named argument.
    pub field: Option<Name>,
    /// The value.
    pub value: Expr,
}

/// A term or arithmetic expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A variable.
    Var(Name),
    /// `_`
    Wildcard(Span),
    /// A literal value.
    Lit(Lit),
    /// `left op right`
    Binary(Box<Binary>),
    /// `sum(x : body)` and friends (only as the right side of `var = …`).
    Aggregate(Box<Aggregate>),
    /// A call of a built-in that yields a value: `str.lower(name)`.
    Call(Box<Call>),
    /// `["a", "b"]`: a list's value, only as an atom's argument in a `given` fact.
    List(Box<SetLit>),
    /// `{path: p, recursive: r}`: an object field's members, only as an atom's argument
    /// (a pattern in a body, the object's value in a `given` fact).
    Object(Box<ObjectPattern>),
}

/// `{member: expr, …}` in an atom's argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectPattern {
    /// The members, each named (`field` is always `Some`).
    // Invariant: every member is named: the grammar has no positional member.
    pub members: Vec<Arg>,
    /// From `{` through `}`.
    pub span: Span,
}

impl Expr {
    /// The expression's extent.
    pub fn span(&self) -> Span {
        match self {
            Expr::Var(name) => name.span,
            Expr::Wildcard(span) => *span,
            Expr::Lit(lit) => lit.span,
            Expr::Binary(binary) => binary.span,
            Expr::Aggregate(aggregate) => aggregate.span,
            Expr::Call(call) => call.span,
            Expr::List(list) => list.span,
            Expr::Object(object) => object.span,
        }
    }
}

/// `left op right` in arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Binary {
    /// Left operand.
    pub left: Expr,
    /// The operator.
    pub op: ArithOp,
    /// Right operand.
    pub right: Expr,
    /// The whole expression.
    pub span: Span,
}

/// `fn(target : body)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Aggregate {
    /// Which function.
    pub function: AggregateFn,
    /// The aggregated expression.
    pub target: Expr,
    /// The conjunction ranged over.
    pub body: Vec<BodyItem>,
    /// From the function name through `)`.
    pub span: Span,
}

/// A literal with its source text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lit {
    /// The value.
    pub value: LitValue,
    /// The literal exactly as written (the formatter prints it back unchanged).
    pub raw: String,
    /// Where it is.
    pub span: Span,
}

/// A literal's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LitValue {
    /// `42`, `-3`
    Int(i64),
    /// `12.50`
    Decimal(Decimal),
    /// `"text"`
    Str(String),
    /// `true`, `false`
    Bool(bool),
    /// `2026-01-31T09:00:00Z`, as nanoseconds since the Unix epoch.
    Time(i64),
    /// `15m`, as nanoseconds.
    Duration(i64),
    /// A literal whose text was invalid (already reported).
    Invalid,
}

/// `test "name" { … }`
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TestBlock {
    /// The test's name.
    pub name: StrLit,
    /// `uses a, b`: the fixtures whose statements come before the test's own.
    pub uses: Vec<Name>,
    /// Statements in order.
    pub statements: Vec<TestStatement>,
}

/// `fixture name { with data "…" given … }`: a test's world written once for many tests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fixture {
    /// The fixture's name, unique among the package's fixtures.
    pub name: Name,
    /// Its statements.
    // Invariant: only `WithData` and `Given`: the grammar has no `expect` in a fixture.
    pub statements: Vec<TestStatement>,
}

/// A statement in a test block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TestStatement {
    /// `with data "file.json"`
    WithData(StrLit),
    /// `given fact. fact.`
    Given(Vec<Atom>),
    /// `expect …`
    Expect(Expectation),
}

/// What a test expects of the decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Expectation {
    /// The kind of expectation.
    pub kind: ExpectKind,
    /// From `expect` to its last token.
    pub span: Span,
}

/// The kinds of expectation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExpectKind {
    /// `expect [not] deny|allow|escalate|obligation [rule…] [to "group"…] ["message"…]`
    /// (and `expect not risk [rule…] ["message"…]`): the decision (or an obligation), the
    /// rules that must have fired, the approvers and the messages they must have given; with
    /// `not`, none of them.
    Effect {
        /// `expect not …`.
        negated: bool,
        /// Which effect.
        // Invariant: `Risk` only when `negated` (`expect risk N` is [`ExpectKind::Risk`]).
        effect: Effect,
        /// Rules that must fire.
        rules: Vec<Name>,
        /// Approver groups (escalate only).
        approvers: Vec<StrLit>,
        /// Messages some fired rule of the effect must have given.
        messages: Vec<StrLit>,
    },
    /// `expect [not] message "text"…`: some fired rule (of any effect) gave each message;
    /// with `not`, none did.
    Message {
        /// `expect not message …`.
        negated: bool,
        /// The messages, at least one.
        messages: Vec<StrLit>,
    },
    /// `expect risk 30`
    Risk(Lit),
    /// `expect error`
    Error,
}

/// An item that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ErrorItem {
    /// What the item was declaring, when that much could be read.
    pub salvaged: Option<Salvaged>,
}

/// The name a broken item was about to define.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Salvaged {
    /// A relation (declared or derived).
    Relation(Name),
    /// A decision rule.
    Rule(Name),
    /// A type alias.
    Type(Name),
    /// A test.
    Test(String),
}
