//! Declarations: collecting them, finding duplicates, resolving types and modules.

use crate::hash::{HashMap, HashSet};
use crate::removal::remove_item;
use crate::types::Ty;
use crate::{Origin, ParsedPackage};
use gov_diag::{Applicability, Code, Diagnostic, Span, codes};
use gov_syntax::ast::{Approver, DefaultDecision, Effect, FieldType, Item, ItemKind, Path, Salvaged, SmolStr};
use gov_syntax::suggest::closest;
use gov_value::BaseType;
pub use gov_value::RelationKind;

/// The name of the built-in relation holding the request's risk score.
pub const RISK_SCORE: &str = "risk_score";

/// A type alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeInfo {
    /// Its name.
    pub name: SmolStr,
    /// The base type it stands for, once resolved (`None` if its target is unknown).
    pub base: Option<BaseType>,
    /// The alias's name in its declaration.
    pub span: Span,
    /// Its doc comment.
    pub docs: Vec<String>,
}

/// A column of a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name (declared relations only).
    pub name: Option<SmolStr>,
    /// Its type: declared, or inferred for derived relations (`None` if unknown).
    pub ty: Option<Ty>,
    /// Where the field is declared.
    pub span: Option<Span>,
}

/// A relation's columns.
pub type Fields = smallvec::SmallVec<[FieldInfo; 3]>;

/// A relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationInfo {
    /// Its name.
    pub name: SmolStr,
    /// Input, data, derived or built-in.
    pub kind: RelationKind,
    /// Declared `input one`: every request holds exactly one fact of it.
    // Invariant: only an `Input` relation is `one` (the checker refuses `data one`).
    pub one: bool,
    /// Its columns. Most relations have at most three: a table of ten thousand relations,
    /// copied at every check ([`kept`]), then allocates for the few with more only.
    pub fields: Fields,
    /// Whether its declaration failed to parse: references to it are not checked.
    pub poisoned: bool,
    /// The declaration's name, or the first rule head that derives it.
    pub span: Option<Span>,
    /// Its doc comment.
    pub docs: Vec<String>,
    /// For the auxiliary relation of a list or object field (`tool_call.argv`), that
    /// field's type (an index into [`Symbols::compounds`]).
    pub compound: Option<u32>,
}

/// The type of a list or object field. Its contents are the facts of an auxiliary
/// relation named after the field (`tool_call.argv`), of the same kind as its relation:
/// the first column identifies the field's value (the field's own column holds the same
/// identifier), the others hold a list's element, or an object's members in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompoundInfo {
    /// The auxiliary relation.
    pub relation: usize,
    /// A list (`[Str]`: one element column) or an object (`{path: Str}`: its members).
    pub list: bool,
    /// The type as written, for messages: `[Str]`, `{path: Str, argv: [Str]}`.
    pub display: String,
}

/// A decision rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInfo {
    /// Its name.
    pub name: SmolStr,
    /// What it decides.
    pub effect: Effect,
    /// The approver (`to "group"` or `to g`) of an `escalate` rule.
    pub approver: Option<Approver>,
    /// The name in the rule.
    pub span: Span,
    /// The whole rule.
    pub item_span: Span,
    /// Its doc comment.
    pub docs: Vec<String>,
}

/// A `use` of a library module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseInfo {
    /// The dotted module name.
    pub module: String,
    /// The path in the `use` item.
    pub span: Span,
    /// Whether the module exists.
    pub resolved: bool,
}

/// The inferred type of each variable occurrence in a rule, by the occurrence's span.
///
/// The checker lists them as it solves; only the back ends and a quick fix look one up, so
/// the index by span is built at the first lookup, not at every check (an editor's
/// keystroke never looks one up).
// Invariant: `index`, once built, holds `types` (a later entry for a span wins). Two are
// equal when they list the same types in the same order: the checker lists them in the
// items' order, so two checks of one package list them alike.
#[derive(Debug, Clone, Default)]
pub struct VariableTypes {
    types: Vec<(Span, Ty)>,
    index: std::sync::OnceLock<HashMap<Span, Ty>>,
}

impl VariableTypes {
    /// The types listed, by occurrence.
    pub(crate) fn new(types: Vec<(Span, Ty)>) -> VariableTypes {
        VariableTypes { types, index: std::sync::OnceLock::new() }
    }

    /// The inferred type of the variable occurrence at `span`.
    pub fn get(&self, span: &Span) -> Option<&Ty> {
        self.index.get_or_init(|| self.types.iter().copied().collect()).get(span)
    }
}

impl PartialEq for VariableTypes {
    fn eq(&self, other: &Self) -> bool {
        self.types == other.types
    }
}

impl Eq for VariableTypes {}

/// Everything a program declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Symbols {
    /// The package's name.
    pub package: Option<String>,
    /// What happens when no rule decides.
    pub default: Option<DefaultDecision>,
    /// Type aliases.
    pub types: Vec<TypeInfo>,
    /// Relations: declared, derived and built-in.
    pub relations: Vec<RelationInfo>,
    /// Decision rules.
    pub decisions: Vec<DecisionInfo>,
    /// Names of broken decision rules (not reported again when referenced).
    pub poisoned_rules: HashSet<SmolStr>,
    /// Names of broken type aliases.
    pub poisoned_types: HashSet<SmolStr>,
    /// Test names and where they are.
    pub tests: Vec<(String, Span)>,
    /// Fixture names and where they are (the first of each name).
    pub fixtures: Vec<(SmolStr, Span)>,
    /// `use` items.
    pub uses: Vec<UseInfo>,
    /// The inferred type of each variable occurrence in a rule, by the occurrence's span.
    pub variable_types: VariableTypes,
    /// The types of list and object fields, by [`Ty::Compound`] index.
    pub compounds: Vec<CompoundInfo>,
    type_index: HashMap<SmolStr, usize>,
    relation_index: HashMap<SmolStr, usize>,
    decision_index: HashMap<SmolStr, usize>,
    /// The first test of each name.
    test_index: HashMap<String, Span>,
    /// The modules in `uses`.
    use_index: HashSet<String>,
}

impl Symbols {
    /// The relation called `name`.
    pub fn relation(&self, name: &str) -> Option<&RelationInfo> {
        self.relation_index.get(name).and_then(|&i| self.relations.get(i))
    }

    /// The index of the relation called `name`.
    pub fn relation_id(&self, name: &str) -> Option<usize> {
        self.relation_index.get(name).copied()
    }

    /// The type alias called `name`.
    pub fn alias(&self, name: &str) -> Option<(u32, &TypeInfo)> {
        let index = *self.type_index.get(name)?;
        Some((u32::try_from(index).ok()?, self.types.get(index)?))
    }

    /// The decision rule called `name`.
    pub fn decision(&self, name: &str) -> Option<&DecisionInfo> {
        self.decision_index.get(name).and_then(|&i| self.decisions.get(i))
    }

    /// Resolves a type name: a base type or an alias.
    pub fn resolve_type(&self, name: &str) -> Option<Ty> {
        BaseType::from_name(name).map(Ty::Base).or_else(|| self.alias(name).map(|(i, _)| Ty::Alias(i)))
    }

    /// The base type under `ty`.
    pub fn base_of(&self, ty: Ty) -> Option<BaseType> {
        match ty {
            Ty::Base(base) => Some(base),
            Ty::Alias(i) => self.types.get(i as usize).and_then(|t| t.base),
            // Invariant: a compound value is an identifier, an Int, to the engine; the
            // checker lets it only bind, `in` and object patterns (`compound.rs`).
            Ty::Compound(_) => Some(BaseType::Int),
        }
    }

    /// The list or object type `ty`, if it is one.
    pub fn compound(&self, ty: Ty) -> Option<&CompoundInfo> {
        match ty {
            Ty::Compound(i) => self.compounds.get(i as usize),
            Ty::Base(_) | Ty::Alias(_) => None,
        }
    }

    /// The name of `ty` as written in source.
    pub fn type_name(&self, ty: Ty) -> String {
        match ty {
            Ty::Base(base) => base.name().to_owned(),
            Ty::Alias(i) => self.types.get(i as usize).map_or_else(|| "?".to_owned(), |t| t.name.to_string()),
            Ty::Compound(i) => self.compounds.get(i as usize).map_or_else(|| "?".to_owned(), |c| c.display.clone()),
        }
    }

    /// Where the fixture called `name` is declared.
    pub fn fixture(&self, name: &str) -> Option<Span> {
        self.fixtures.iter().find(|(n, _)| n == name).map(|(_, span)| *span)
    }

    /// Every relation name, for did-you-mean.
    pub fn relation_names(&self) -> impl Iterator<Item = &str> {
        self.relations.iter().map(|r| r.name.as_str())
    }

    /// Adds a relation and returns its index. Callers check for duplicates first.
    pub(crate) fn add_relation(&mut self, relation: RelationInfo) -> usize {
        let index = self.relations.len();
        self.relation_index.insert(relation.name.clone(), index);
        self.relations.push(relation);
        index
    }

    fn add_test(&mut self, name: &str, span: Span) {
        self.test_index.entry(name.to_owned()).or_insert(span);
        self.tests.push((name.to_owned(), span));
    }

    pub(crate) fn relation_mut(&mut self, index: usize) -> Option<&mut RelationInfo> {
        self.relations.get_mut(index)
    }

    /// Moves every span of the table by `to` (the declarations' items moved, [`kept`]).
    fn move_spans(&mut self, to: impl Fn(Span) -> Span) {
        // Every field named, so that a new one is seen here: the variable types are the
        // checker's, added after the declarations are collected, and there are none yet.
        let Symbols {
            package: _,
            default: _,
            types,
            relations,
            decisions,
            poisoned_rules: _,
            poisoned_types: _,
            tests,
            fixtures,
            uses,
            variable_types: _,
            compounds: _,
            type_index: _,
            relation_index: _,
            decision_index: _,
            test_index,
            use_index: _,
        } = self;
        let option = |span: &mut Option<Span>| *span = span.map(&to);
        for info in types {
            info.span = to(info.span);
        }
        for relation in relations {
            option(&mut relation.span);
            relation.fields.iter_mut().for_each(|field| option(&mut field.span));
        }
        for decision in decisions {
            decision.span = to(decision.span);
            decision.item_span = to(decision.item_span);
            match &mut decision.approver {
                Some(Approver::Group(group)) => group.span = to(group.span),
                Some(Approver::Var(var)) => var.span = to(var.span),
                None => {}
            }
        }
        let spans = tests.iter_mut().map(|(_, span)| span).chain(fixtures.iter_mut().map(|(_, span)| span));
        spans.chain(test_index.values_mut()).for_each(|span| *span = to(*span));
        uses.iter_mut().for_each(|used| used.span = to(used.span));
    }
}

mod kept;
pub(crate) use kept::KeptSymbols;

/// Collects the declarations of `program`, reporting duplicates, unknown types and
/// unknown modules.
pub fn collect(program: &ParsedPackage, diagnostics: &mut Vec<Diagnostic>) -> Symbols {
    let mut symbols = Symbols::default();
    // Every item declares or derives at most one relation, auxiliary ones aside: room for
    // all at once rather than growing (and copying) the table step by step.
    let items = program.files.iter().map(|f| f.parsed.file.items.len()).sum::<usize>();
    symbols.relations.reserve(items);
    symbols.relation_index.reserve(items);
    symbols.add_relation(RelationInfo {
        name: SmolStr::new_static(RISK_SCORE),
        kind: RelationKind::Builtin,
        one: false,
        fields: smallvec::smallvec![FieldInfo {
            name: Some(SmolStr::new_static("score")),
            ty: Some(Ty::Base(BaseType::Int)),
            span: None,
        }],
        poisoned: false,
        span: None,
        docs: vec!["The request's risk score: the sum of the points of every `risk` rule that fired.".to_owned()],
        compound: None,
    });
    check_packages(program, &mut symbols, diagnostics);
    let mut default_span: Option<Span> = None;
    let items = || program.files.iter().flat_map(|f| f.parsed.file.items.iter());
    for item in items() {
        collect_declaration(program, item, &mut symbols, &mut default_span, diagnostics);
    }
    // The relations modules derive are closed: only the module's own rules derive them; the
    // package's rules (and other modules') may read them, not add to them. Known before any
    // head is collected, so that the order of files does not matter.
    let mut module_heads: HashMap<&str, (&str, Span)> = HashMap::default();
    for file in &program.files {
        let Origin::Library(module) = &file.origin else { continue };
        for item in &file.parsed.file.items {
            if let ItemKind::Rule(rule) = &item.kind {
                module_heads
                    .entry(rule.head.relation.text.as_str())
                    .or_insert((module.as_str(), rule.head.relation.span));
            }
        }
    }
    for item in items() {
        if let ItemKind::Rule(rule) = &item.kind {
            collect_head(program, rule, &item.docs, &module_heads, &mut symbols, diagnostics);
        }
    }
    resolve_aliases(program, &mut symbols, diagnostics);
    symbols
}

fn check_packages(program: &ParsedPackage, symbols: &mut Symbols, diagnostics: &mut Vec<Diagnostic>) {
    let mut first: Option<(String, Span)> = None;
    for file in program.package_files() {
        let items = &file.parsed.file.items;
        let declared = items.iter().find_map(|item| match &item.kind {
            ItemKind::Package(path) => Some(path),
            _ => None,
        });
        let first_item_is_package =
            matches!(items.first().map(|i| &i.kind), Some(ItemKind::Package(_) | ItemKind::Error(_)));
        let Some(path) = declared.filter(|_| first_item_is_package) else {
            if declared.is_none() && items.iter().any(|i| matches!(i.kind, ItemKind::Error(_))) {
                continue; // The package line may be the item that failed to parse.
            }
            let first_item = items.first().map_or(0, |i| i.span.start);
            let span = declared.map_or(gov_diag::Span::new(file.id, first_item, first_item), |p| p.span);
            diagnostics.push(
                Diagnostic::new(codes::PACKAGE_NAME, "a `.gov` file must start with its `package` declaration", span)
                    .with_primary_label(if declared.is_some() {
                        "move this to the top of the file"
                    } else {
                        "expected `package NAME` here"
                    })
                    .with_help("start the file with `package <name>`, the same name in every file of the package"),
            );
            continue;
        };
        for (index, again) in items.iter().enumerate().filter_map(|(index, item)| match &item.kind {
            ItemKind::Package(again) if again.span != path.span => Some((index, again)),
            _ => None,
        }) {
            // Removing a repeat of the same name changes nothing; another name may be the
            // one meant.
            let applicability =
                if again.dotted() == path.dotted() { Applicability::Safe } else { Applicability::NeedsReview };
            let remove = remove_item(&file.parsed, index, "Remove this `package` line", applicability);
            diagnostics.push(
                Diagnostic::new(codes::PACKAGE_NAME, "the package is declared twice in this file", again.span)
                    .with_primary_label("declared again here")
                    .with_label(path.span, "first declared here")
                    .with_help("declare the package once, at the top of the file")
                    .with_fixes(remove),
            );
        }
        let name = path.dotted();
        match &first {
            None => first = Some((name, path.span)),
            Some((expected, at)) if *expected != name => diagnostics.push(
                Diagnostic::new(
                    codes::PACKAGE_NAME,
                    format!("this file is in package `{name}`, but the package is `{expected}`"),
                    path.span,
                )
                .with_primary_label("different package name")
                .with_label(*at, format!("package `{expected}` declared here"))
                .with_help("every file in a package directory declares the same package"),
            ),
            Some(_) => {}
        }
    }
    symbols.package = first.map(|(name, _)| name);
}

/// `data one NAME(…)`: only a request's input can be limited to one fact.
fn one_not_input(name: &str, one: Span) -> Diagnostic {
    Diagnostic::new(codes::ONE_NOT_INPUT, format!("data relation `{name}` cannot be `one`"), one)
        .with_primary_label("`one` applies to input relations only")
        .with_help(
            "`input one NAME(…)` says every request holds exactly one fact; data facts come with the \
             bundle, so remove `one`",
        )
}

pub(crate) fn duplicate(kind: &str, name: &str, span: Span, first: Option<Span>) -> Diagnostic {
    let diagnostic = Diagnostic::new(codes::DUPLICATE_DECLARATION, format!("{kind} `{name}` is declared twice"), span)
        .with_primary_label("declared again here");
    match first {
        Some(first) => diagnostic.with_label(first, "first declared here"),
        None => diagnostic.with_note(format!("`{name}` is built in")),
    }
    .with_help("remove one of the declarations or rename it")
}

/// A package declaration that takes a name a used module declares. The module's declaration
/// is the one that counts (the module's own rules are written against it), so the package's
/// is reported, with the module's as the first.
fn module_clash(code: Code, kind: &str, name: &str, package: Span, module_span: Span, module: &str) -> Diagnostic {
    Diagnostic::new(code, format!("{kind} `{name}` is already declared in module `{module}`"), package)
        .with_primary_label("declared again here")
        .with_label(module_span, format!("first declared here, in `{module}`"))
        .with_help(format!("the package and the modules it uses share one namespace: rename this {kind}"))
}

/// Whether a declaration at `new` takes the place of the one at `first`: a module's
/// declaration wins over the package's.
fn module_wins(program: &ParsedPackage, first: Span, new: Span) -> Option<&str> {
    program.module_of(new.file).filter(|_| !program.is_library(first.file))
}

fn collect_declaration(
    program: &ParsedPackage,
    item: &Item,
    symbols: &mut Symbols,
    default_span: &mut Option<Span>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match &item.kind {
        ItemKind::Use(path) => collect_use(program, path, symbols, diagnostics),
        // A module's `default` is its own when it is checked as a package; it does not
        // decide for the packages that use it.
        ItemKind::Default(_) if program.is_library(item.span.file) => {}
        ItemKind::Default(decision) => match default_span {
            Some(first) => diagnostics.push(
                Diagnostic::new(codes::DUPLICATE_DECLARATION, "the default decision is declared twice", item.span)
                    .with_primary_label("declared again here")
                    .with_label(*first, "first declared here")
                    .with_help("keep one `default` item"),
            ),
            None => {
                *default_span = Some(item.span);
                symbols.default = Some(*decision);
            }
        },
        ItemKind::TypeAlias(alias) => {
            let name = &alias.name.text;
            if BaseType::from_name(name).is_some() {
                diagnostics.push(duplicate("type", name, alias.name.span, None));
            } else if let Some((index, first)) = symbols.alias(name) {
                let info = TypeInfo { name: name.clone(), base: None, span: alias.name.span, docs: item.docs.clone() };
                match module_wins(program, first.span, alias.name.span) {
                    Some(module) => {
                        diagnostics.push(module_clash(
                            codes::DUPLICATE_DECLARATION,
                            "type",
                            name,
                            first.span,
                            alias.name.span,
                            module,
                        ));
                        if let Some(slot) = symbols.types.get_mut(index as usize) {
                            *slot = info;
                        }
                    }
                    None => diagnostics.push(duplicate("type", name, alias.name.span, Some(first.span))),
                }
            } else {
                symbols.type_index.insert(name.clone(), symbols.types.len());
                symbols.types.push(TypeInfo {
                    name: name.clone(),
                    base: None,
                    span: alias.name.span,
                    docs: item.docs.clone(),
                });
            }
        }
        ItemKind::Relation(decl) => {
            let name = &decl.name.text;
            let replaces = match symbols.relation(name) {
                Some(first) => match first.span.and_then(|f| Some((f, module_wins(program, f, decl.name.span)?))) {
                    Some((first, module)) => {
                        diagnostics.push(module_clash(
                            codes::DUPLICATE_DECLARATION,
                            "relation",
                            name,
                            first,
                            decl.name.span,
                            module,
                        ));
                        symbols.relation_id(name)
                    }
                    None => {
                        diagnostics.push(duplicate("relation", name, decl.name.span, first.span));
                        return;
                    }
                },
                None => None,
            };
            // A repeated field is found by looking back over the few fields before it; a
            // long list (a generated one) gets a map instead, so it stays linear.
            let mut seen: Option<HashMap<&str, Span>> = None;
            let mut fields = Fields::with_capacity(decl.fields.len());
            for (i, field) in decl.fields.iter().enumerate() {
                let text = field.name.text.as_str();
                let previous = if decl.fields.len() > 32 {
                    seen.get_or_insert_with(HashMap::default).insert(text, field.name.span)
                } else {
                    decl.fields.iter().take(i).rev().find(|f| f.name.text == text).map(|f| f.name.span)
                };
                if let Some(first) = previous {
                    diagnostics.push(duplicate("field", text, field.name.span, Some(first)));
                }
                fields.push(FieldInfo { name: Some(field.name.text.clone()), ty: None, span: Some(field.name.span) });
            }
            let kind = decl.kind;
            if let (Some(one), RelationKind::Data) = (decl.one, decl.kind) {
                diagnostics.push(one_not_input(name, one));
            }
            let info = RelationInfo {
                name: name.clone(),
                kind,
                one: decl.one.is_some() && kind == RelationKind::Input,
                fields,
                poisoned: false,
                span: Some(decl.name.span),
                docs: item.docs.clone(),
                compound: None,
            };
            match replaces.and_then(|index| symbols.relation_mut(index)) {
                Some(slot) => *slot = info,
                None => {
                    symbols.add_relation(info);
                    crate::compound::declare(symbols, name, kind, &decl.fields, diagnostics);
                }
            }
        }
        ItemKind::Decision(decision) => {
            let name = &decision.name.text;
            let info = DecisionInfo {
                name: name.clone(),
                effect: decision.effect,
                approver: decision.approver.clone(),
                span: decision.name.span,
                item_span: item.span,
                docs: item.docs.clone(),
            };
            if let Some(first) = symbols.decision(name) {
                if let Some(module) = module_wins(program, first.span, decision.name.span) {
                    diagnostics.push(module_clash(
                        codes::DUPLICATE_RULE_NAME,
                        "decision rule",
                        name,
                        first.span,
                        decision.name.span,
                        module,
                    ));
                    if let Some(slot) = symbols.decision_index.get(name).and_then(|&i| symbols.decisions.get_mut(i)) {
                        *slot = info;
                    }
                    return;
                }
                diagnostics.push(
                    Diagnostic::new(
                        codes::DUPLICATE_RULE_NAME,
                        format!("two decision rules are named `{name}`"),
                        decision.name.span,
                    )
                    .with_primary_label("second rule with this name")
                    .with_label(first.span, "first rule with this name")
                    .with_help("rule names identify reasons in decisions and tests: give each rule its own name"),
                );
                return;
            }
            symbols.decision_index.insert(name.clone(), symbols.decisions.len());
            symbols.decisions.push(info);
        }
        ItemKind::Test(test) => {
            let name = &test.name.value;
            if let Some(first) = symbols.test_index.get(name) {
                diagnostics.push(
                    Diagnostic::new(codes::DUPLICATE_TEST, format!("two tests are named \"{name}\""), test.name.span)
                        .with_primary_label("second test with this name")
                        .with_label(*first, "first test with this name")
                        .with_help("test names identify failures: make each unique"),
                );
            } else {
                symbols.add_test(name, test.name.span);
            }
        }
        // An invariant declares nothing: the analysis reads it from the IR.
        ItemKind::Invariant(_) => {}
        ItemKind::Fixture(fixture) => {
            let name = &fixture.name.text;
            match symbols.fixture(name) {
                Some(first) => diagnostics.push(
                    Diagnostic::new(
                        codes::DUPLICATE_FIXTURE,
                        format!("two fixtures are named `{name}`"),
                        fixture.name.span,
                    )
                    .with_primary_label("second fixture with this name")
                    .with_label(first, "first fixture with this name")
                    .with_help("tests name the fixture they use: give each its own name"),
                ),
                None => symbols.fixtures.push((name.clone(), fixture.name.span)),
            }
        }
        ItemKind::Error(error) => match &error.salvaged {
            Some(Salvaged::Relation(name)) if symbols.relation(&name.text).is_none() => {
                symbols.add_relation(RelationInfo {
                    name: name.text.clone(),
                    kind: RelationKind::Derived,
                    one: false,
                    fields: Fields::new(),
                    poisoned: true,
                    span: Some(name.span),
                    docs: Vec::new(),
                    compound: None,
                });
            }
            Some(Salvaged::Rule(name)) => {
                symbols.poisoned_rules.insert(name.text.clone());
            }
            Some(Salvaged::Type(name)) => {
                symbols.poisoned_types.insert(name.text.clone());
            }
            Some(Salvaged::Test(name)) => symbols.add_test(name, item.span),
            _ => {}
        },
        ItemKind::Package(_) | ItemKind::Rule(_) => {}
    }
}

fn collect_use(program: &ParsedPackage, path: &Path, symbols: &mut Symbols, diagnostics: &mut Vec<Diagnostic>) {
    let module = path.dotted();
    let resolved = program.available_modules.contains(&module);
    if !resolved {
        let guess = closest(&module, program.available_modules.iter().map(String::as_str));
        diagnostics.push(
            Diagnostic::new(codes::UNKNOWN_MODULE, format!("unknown module `{module}`"), path.span)
                .with_primary_label("no such module")
                .with_did_you_mean(path.span, guess)
                .or_help(format!("the standard library has: {}", program.available_modules.join(", "))),
        );
    }
    if symbols.use_index.insert(module.clone()) {
        symbols.uses.push(UseInfo { module, span: path.span, resolved });
    }
}

fn collect_head(
    program: &ParsedPackage,
    rule: &gov_syntax::ast::Rule,
    docs: &[String],
    module_heads: &HashMap<&str, (&str, Span)>,
    symbols: &mut Symbols,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let head = &rule.head.relation;
    let derived = || RelationInfo {
        name: head.text.clone(),
        kind: RelationKind::Derived,
        one: false,
        fields: rule.head.args.iter().map(|_| FieldInfo { name: None, ty: None, span: None }).collect(),
        poisoned: false,
        span: Some(head.span),
        docs: docs.to_vec(),
        compound: None,
    };
    let rule_module = program.module_of(head.span.file);
    if let Some(&(module, at)) = module_heads.get(head.text.as_str()).filter(|(module, _)| rule_module != Some(*module))
    {
        diagnostics.push(
            Diagnostic::new(
                codes::DERIVES_BASE_RELATION,
                format!("a rule cannot derive facts of `{}`", head.text),
                head.span,
            )
            .with_primary_label(format!("`{}` is defined in module `{module}`", head.text))
            .with_label(at, format!("`{module}` derives it here"))
            .with_help(
                "a module's relations are closed: derive a relation with its own name, and read this one in its body",
            ),
        );
        return;
    }
    let Some(index) = symbols.relation_id(&head.text) else {
        symbols.add_relation(derived());
        return;
    };
    let Some(existing) = symbols.relations.get(index) else { return };
    if !matches!(existing.kind, RelationKind::Input | RelationKind::Data | RelationKind::Builtin) {
        return;
    }
    if let (Some(module), Some(first)) = (rule_module, existing.span.filter(|s| !program.is_library(s.file))) {
        // The package declares a relation that a module it uses derives.
        diagnostics.push(module_clash(codes::DUPLICATE_DECLARATION, "relation", &head.text, first, head.span, module));
        if let Some(slot) = symbols.relation_mut(index) {
            *slot = derived();
        }
        return;
    }
    let what = match existing.kind {
        RelationKind::Input => "an input relation: its facts come with each request",
        RelationKind::Data => "a data relation: its facts come with the bundle",
        _ => "built in: the engine computes it",
    };
    let diagnostic = Diagnostic::new(
        codes::DERIVES_BASE_RELATION,
        format!("a rule cannot derive facts of `{}`", head.text),
        head.span,
    )
    .with_primary_label(format!("`{}` is {what}", head.text))
    .with_help("derive a new relation with its own name, or supply these facts as input or data");
    diagnostics.push(match existing.span {
        Some(span) => diagnostic.with_label(span, "declared here"),
        None => diagnostic,
    });
}

fn unknown_type(symbols: &Symbols, name: &gov_syntax::ast::Name) -> Diagnostic {
    let candidates: Vec<&str> =
        BaseType::ALL.iter().map(|b| b.name()).chain(symbols.types.iter().map(|t| t.name.as_str())).collect();
    Diagnostic::new(codes::UNKNOWN_TYPE, format!("unknown type `{}`", name.text), name.span)
        .with_primary_label("not a type")
        .with_did_you_mean(name.span, closest(&name.text, candidates.iter().copied()))
}

fn resolve_aliases(program: &ParsedPackage, symbols: &mut Symbols, diagnostics: &mut Vec<Diagnostic>) {
    let items = || program.files.iter().flat_map(|f| f.parsed.file.items.iter());
    // Alias targets: follow chains of aliases, stopping at cycles.
    // The declaration of each alias that counts is the one in `symbols.types`; the others are
    // duplicates.
    let mut targets: HashMap<SmolStr, gov_syntax::ast::Name> = HashMap::default();
    for item in items() {
        if let ItemKind::TypeAlias(alias) = &item.kind
            && symbols.alias(&alias.name.text).is_some_and(|(_, info)| info.span == alias.name.span)
        {
            targets.insert(alias.name.text.clone(), alias.target.clone());
        }
    }
    // Invariant: each alias is walked once. A walk stops at an alias already resolved and
    // hands its result to every alias on the path, so a chain of n aliases costs O(n).
    let mut state = vec![Walk::Unvisited; symbols.types.len()];
    for first in 0..symbols.types.len() {
        let mut path: Vec<usize> = Vec::new();
        let mut current = first;
        let base = loop {
            match state.get(current).copied().unwrap_or(Walk::Done(None)) {
                Walk::Done(base) => break base,
                Walk::OnPath => {
                    let cycle =
                        path.iter().position(|&i| i == current).and_then(|at| path.get(at..)).unwrap_or_default();
                    diagnostics.push(alias_cycle(symbols, &targets, cycle));
                    break None;
                }
                Walk::Unvisited => {}
            }
            if let Some(slot) = state.get_mut(current) {
                *slot = Walk::OnPath;
            }
            path.push(current);
            let Some(target) = symbols.types.get(current).and_then(|t| targets.get(&t.name)) else { break None };
            if let Some(base) = BaseType::from_name(&target.text) {
                break Some(base);
            }
            if symbols.poisoned_types.contains(&target.text) {
                break None;
            }
            match symbols.alias(&target.text) {
                Some((next, _)) => current = next as usize,
                None => {
                    // Reported at the alias whose own target is unknown, once.
                    diagnostics.push(unknown_type(symbols, target));
                    break None;
                }
            }
        };
        for index in path {
            if let Some(slot) = state.get_mut(index) {
                *slot = Walk::Done(base);
            }
            if let Some(info) = symbols.types.get_mut(index) {
                info.base = base;
            }
        }
    }
    // Field types of declared relations.
    for item in items() {
        let ItemKind::Relation(decl) = &item.kind else { continue };
        let Some(index) = symbols.relation_id(&decl.name.text) else { continue };
        if symbols.relations.get(index).and_then(|r| r.span) != Some(decl.name.span) {
            continue; // a duplicate declaration, already reported
        }
        field_types(symbols, index, 0, &decl.fields, diagnostics);
    }
}

/// Resolves the types of `fields`, declared from column `first` of relation `index` on;
/// a list or object field's type is its compound type, and its auxiliary relation's
/// columns are resolved in turn.
fn field_types(
    symbols: &mut Symbols,
    index: usize,
    first: usize,
    fields: &[gov_syntax::ast::FieldDecl],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let name = symbols.relations.get(index).map(|r| r.name.clone()).unwrap_or_default();
    for (column, field) in (first..).zip(fields) {
        let ty = match &field.ty {
            FieldType::Named(ty) => resolve_named(symbols, ty, diagnostics),
            FieldType::List(element, _) => {
                let element = resolve_named(symbols, element, diagnostics);
                let aux = symbols.relation_id(&crate::compound::aux_name(&name, &field.name.text));
                if let Some(slot) = aux.and_then(|a| symbols.relation_mut(a)).and_then(|r| r.fields.get_mut(1)) {
                    slot.ty = element;
                }
                aux.and_then(|a| symbols.relations.get(a)).and_then(|r| r.fields.first()).and_then(|f| f.ty)
            }
            FieldType::Object(members, _) => {
                let aux = symbols.relation_id(&crate::compound::aux_name(&name, &field.name.text));
                if let Some(aux) = aux {
                    field_types(symbols, aux, 1, members, diagnostics);
                }
                aux.and_then(|a| symbols.relations.get(a)).and_then(|r| r.fields.first()).and_then(|f| f.ty)
            }
        };
        if let Some(slot) = symbols.relation_mut(index).and_then(|r| r.fields.get_mut(column)) {
            slot.ty = ty;
        }
    }
}

/// Resolves a named field type, reporting an unknown one.
fn resolve_named(symbols: &Symbols, ty: &gov_syntax::ast::Name, diagnostics: &mut Vec<Diagnostic>) -> Option<Ty> {
    let resolved = symbols.resolve_type(&ty.text);
    if resolved.is_none() && !symbols.poisoned_types.contains(&ty.text) {
        diagnostics.push(unknown_type(symbols, ty));
    }
    resolved
}

/// How far [`resolve_aliases`] got with an alias.
#[derive(Debug, Clone, Copy)]
enum Walk {
    Unvisited,
    /// On the path being walked: meeting it again closes a cycle.
    OnPath,
    /// Resolved: its base type, or `None` after an error.
    Done(Option<BaseType>),
}

/// The error for a cycle of aliases (`cycle` in target order), reported at the target of
/// its first declared alias, and listed from that alias.
fn alias_cycle(symbols: &Symbols, targets: &HashMap<SmolStr, gov_syntax::ast::Name>, cycle: &[usize]) -> Diagnostic {
    let first = cycle.iter().enumerate().min_by_key(|(_, index)| **index).map_or(0, |(at, _)| at);
    let names: Vec<&str> = cycle
        .iter()
        .cycle()
        .skip(first)
        .take(cycle.len() + 1)
        .filter_map(|&i| symbols.types.get(i).map(|t| t.name.as_str()))
        .collect();
    let start = names.first().copied().unwrap_or_default();
    let at = targets.get(start).map(|t| t.span).unwrap_or_default();
    Diagnostic::new(codes::UNKNOWN_TYPE, format!("type `{start}` is defined in terms of itself"), at)
        .with_primary_label("this alias cycle never reaches a built-in type")
        .with_help("make one alias in the cycle stand for a built-in type such as `Str` or `Int`")
        .with_note(format!("the cycle: {}", names.join(" → ")))
}
