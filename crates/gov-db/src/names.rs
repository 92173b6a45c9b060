//! The names of one parsed file, each with what it refers to.
//!
//! Every editor feature that asks "what is at this position" or "where else is this"
//! (hover, definition, references, rename, semantic tokens, document highlights) reads
//! this index, built by one walk over the file's syntax tree and memoised per file by
//! [`crate::file_names`].

use gov_diag::Span;
use gov_syntax::Parsed;
use gov_syntax::ast::{
    Aggregate, Approver, Atom, BodyItem, Call, Collection, ExpectKind, Expr, Item, ItemKind, MessagePart, Name, Path,
    Salvaged, SmolStr, TestStatement,
};

/// What a name refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A relation (declared, derived, built in or from a library module).
    Relation(SmolStr),
    /// A field of a declared relation.
    Field {
        /// The relation.
        relation: SmolStr,
        /// The field.
        field: SmolStr,
    },
    /// A type: an alias or a built-in type.
    Type(SmolStr),
    /// A decision rule.
    Decision(SmolStr),
    /// A variable of one rule: `item` is the rule's index in its file.
    Variable {
        /// Index of the rule in the file's items.
        item: usize,
        /// The variable's name.
        name: SmolStr,
    },
    /// A library module in `use`.
    Module(String),
    /// The package name.
    Package(String),
    /// An annotation's name (`overrides`).
    Annotation(SmolStr),
    /// An aggregate function (`count`, `sum`, `min`, `max`).
    Aggregate(&'static str),
}

/// How a name occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// It declares the target (a relation, field, type or decision rule), or binds it (a
    /// variable in a positive atom).
    Declaration,
    /// The head of a rule: it derives the relation.
    Head,
    /// Any other use.
    Reference,
}

/// A name in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// Where the name is.
    pub span: Span,
    /// What it refers to.
    pub target: Target,
    /// How.
    pub role: Role,
}

/// The names of one file, in source order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileIndex {
    /// Every occurrence, sorted by position.
    pub occurrences: Vec<Occurrence>,
}

impl FileIndex {
    /// Indexes a parsed file.
    pub fn new(parsed: &Parsed) -> FileIndex {
        let mut walker = Walker { out: Vec::new(), item: 0, by: 0 };
        for (index, item) in parsed.file.items.iter().enumerate() {
            walker.item = index;
            // The tree as parsed, each name moved where it now stands: the items an edit
            // moved are indexed without their moved copies being made (`ItemAt`).
            walker.by = item.by();
            walker.item(item.unmoved());
        }
        let mut occurrences = walker.out;
        occurrences.sort_by_key(|o| (o.span.start, o.span.end));
        FileIndex { occurrences }
    }

    /// The occurrence at byte `offset`: one that contains it, else one that ends there
    /// (the cursor just after a name).
    pub fn at(&self, offset: u32) -> Option<&Occurrence> {
        let containing = self.occurrences.iter().find(|o| o.span.start <= offset && offset < o.span.end);
        containing.or_else(|| self.occurrences.iter().find(|o| o.span.end == offset && o.span.start < offset))
    }

    /// Every occurrence of `target`.
    pub fn of<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = &'a Occurrence> + 'a {
        self.occurrences.iter().filter(move |o| &o.target == target)
    }
}

struct Walker {
    out: Vec<Occurrence>,
    item: usize,
    /// How far the item walked moved since its tree was parsed.
    by: u32,
}

impl Walker {
    // Invariant: every span of an occurrence goes through here, moved `by`.
    fn push(&mut self, span: Span, target: Target, role: Role) {
        self.out.push(Occurrence { span: span.shifted(self.by), target, role });
    }

    fn item(&mut self, item: &Item) {
        for annotation in &item.annotations {
            self.push(annotation.name.span, Target::Annotation(annotation.name.text.clone()), Role::Reference);
            for arg in &annotation.args {
                self.push(arg.span, Target::Decision(arg.text.clone()), Role::Reference);
            }
        }
        match &item.kind {
            ItemKind::Package(path) => self.path(path, Target::Package),
            ItemKind::Use(path) => self.path(path, Target::Module),
            ItemKind::Default(_) => {}
            ItemKind::TypeAlias(alias) => {
                self.push(alias.name.span, Target::Type(alias.name.text.clone()), Role::Declaration);
                self.push(alias.target.span, Target::Type(alias.target.text.clone()), Role::Reference);
            }
            ItemKind::Relation(decl) => {
                self.push(decl.name.span, Target::Relation(decl.name.text.clone()), Role::Declaration);
                self.fields(&decl.name.text, &decl.fields);
            }
            ItemKind::Rule(rule) => {
                self.atom(&rule.head, Role::Head, false);
                self.body(&rule.body);
            }
            ItemKind::Decision(decision) => {
                self.push(decision.name.span, Target::Decision(decision.name.text.clone()), Role::Declaration);
                if let Some(points) = &decision.points {
                    self.expr(points, false);
                }
                if let Some(Approver::Var(group)) = &decision.approver {
                    self.var(group, false);
                }
                if let Some(message) = &decision.message {
                    for part in &message.parts {
                        if let MessagePart::Var(name) = part {
                            self.var(name, false);
                        }
                    }
                }
                self.body(&decision.body);
            }
            // An invariant's name is its own: only its body refers to anything.
            ItemKind::Invariant(invariant) => self.body(&invariant.body),
            ItemKind::Test(test) => self.statements(&test.statements),
            ItemKind::Fixture(fixture) => self.statements(&fixture.statements),
            ItemKind::Error(error) => match &error.salvaged {
                // What a broken item was defining still counts as defined there.
                Some(Salvaged::Relation(name)) => {
                    self.push(name.span, Target::Relation(name.text.clone()), Role::Declaration)
                }
                Some(Salvaged::Rule(name)) => {
                    self.push(name.span, Target::Decision(name.text.clone()), Role::Declaration)
                }
                Some(Salvaged::Type(name)) => self.push(name.span, Target::Type(name.text.clone()), Role::Declaration),
                Some(Salvaged::Test(_)) | None => {}
            },
        }
    }

    fn path(&mut self, path: &Path, target: impl Fn(String) -> Target) {
        self.push(path.span, target(path.dotted()), Role::Reference);
    }

    /// An atom; `binding` for a positive atom of a body, whose variables it binds.
    fn atom(&mut self, atom: &Atom, role: Role, binding: bool) {
        self.push(atom.relation.span, Target::Relation(atom.relation.text.clone()), role);
        for arg in &atom.args {
            if let Some(field) = &arg.field {
                let target = Target::Field { relation: atom.relation.text.clone(), field: field.text.clone() };
                self.push(field.span, target, Role::Reference);
            }
            self.expr(&arg.value, binding);
        }
    }

    /// The names in a test's or a fixture's statements: given facts' relations and expected
    /// decision rules.
    fn statements(&mut self, statements: &[TestStatement]) {
        for statement in statements {
            match statement {
                TestStatement::WithData(_) => {}
                TestStatement::Given(facts) => {
                    for fact in facts {
                        self.atom(fact, Role::Reference, false);
                    }
                }
                TestStatement::Expect(expectation) => {
                    if let ExpectKind::Effect { rules, .. } = &expectation.kind {
                        for rule in rules {
                            self.push(rule.span, Target::Decision(rule.text.clone()), Role::Reference);
                        }
                    }
                }
            }
        }
    }

    fn body(&mut self, body: &[BodyItem]) {
        for item in body {
            match item {
                BodyItem::Atom(atom) => self.atom(atom, Role::Reference, true),
                BodyItem::Not(atom, _) => self.atom(atom, Role::Reference, false),
                BodyItem::Compare(comparison) => {
                    self.expr(&comparison.left, false);
                    self.expr(&comparison.right, false);
                }
                BodyItem::Test(call) | BodyItem::NotTest(call, _) => self.call(call),
                BodyItem::In(membership) => {
                    self.expr(&membership.element, false);
                    if let Collection::Call(call) = &membership.collection {
                        self.call(call);
                    }
                }
            }
        }
    }

    /// The fields of a declaration (of `relation`), an object field's members as fields of
    /// its auxiliary relation (`tool_call.arguments`).
    fn fields(&mut self, relation: &str, fields: &[gov_syntax::ast::FieldDecl]) {
        for field in fields {
            let target = Target::Field { relation: relation.into(), field: field.name.text.clone() };
            self.push(field.name.span, target, Role::Declaration);
            match &field.ty {
                gov_syntax::ast::FieldType::Object(members, _) => {
                    self.fields(&gov_check::compound::aux_name(relation, &field.name.text), members);
                }
                other => {
                    if let Some(ty) = other.named() {
                        self.push(ty.span, Target::Type(ty.text.clone()), Role::Reference);
                    }
                }
            }
        }
    }

    fn expr(&mut self, expr: &Expr, binding: bool) {
        match expr {
            Expr::Var(name) => self.var(name, binding),
            Expr::Wildcard(_) | Expr::Lit(_) | Expr::List(_) => {}
            Expr::Object(object) => {
                for member in &object.members {
                    self.expr(&member.value, binding);
                }
            }
            Expr::Binary(binary) => {
                self.expr(&binary.left, false);
                self.expr(&binary.right, false);
            }
            Expr::Aggregate(aggregate) => self.aggregate(aggregate),
            Expr::Call(call) => self.call(call),
        }
    }

    /// A call of a built-in: its arguments (the built-in is no name of the package).
    fn call(&mut self, call: &Call) {
        for arg in &call.args {
            self.expr(arg, false);
        }
    }

    fn aggregate(&mut self, aggregate: &Aggregate) {
        let name = aggregate.function.name();
        let end = aggregate.span.start.saturating_add(u32::try_from(name.len()).unwrap_or(0));
        self.push(Span::new(aggregate.span.file, aggregate.span.start, end), Target::Aggregate(name), Role::Reference);
        self.expr(&aggregate.target, false);
        self.body(&aggregate.body);
    }

    fn var(&mut self, name: &Name, binding: bool) {
        let role = if binding { Role::Declaration } else { Role::Reference };
        self.push(name.span, Target::Variable { item: self.item, name: name.text.clone() }, role);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use gov_diag::FileId;

    /// After characters typed and deleted, which move every item after them, the index is
    /// a fresh parse's: each moved name where its text now stands.
    #[test]
    fn the_index_of_a_file_after_an_edit_is_a_fresh_parses() {
        let text = include_str!("../../../examples/coding-agent/coding_agent.gov");
        let (_, mut last) = gov_syntax::reparse(FileId(0), text, None);
        let at = text.find("production_deploy()").unwrap();
        for edited in [format!("{}  {}", &text[..at], &text[at..]), format!("{}{}", &text[..at - 1], &text[at..])] {
            let (parsed, reusable) = gov_syntax::reparse(FileId(0), &edited, Some(&last));
            let fresh = FileIndex::new(&gov_syntax::parse(FileId(0), &edited));
            assert_eq!(FileIndex::new(&parsed), fresh);
            assert!(fresh.occurrences.len() > 100);
            last = reusable;
        }
    }
}
