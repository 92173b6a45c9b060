//! One document's view of its package: the salsa results it needs and name resolution
//! across the package's files.

use crate::index::{FileIndex, Occurrence, Role, Target};
use crate::state::{self, State};
use gov_check::{Checked, ParsedPackage, RelationKind, Symbols};
use gov_db::FileTokens;
use gov_diag::{FileId, LineIndex, Span};
use gov_syntax::Parsed;
use gov_syntax::ast::{Atom, BodyItem, Comparison, Expr, Item, ItemKind, LitValue};
use std::sync::Arc;
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{Location, Position, Range, Uri};

/// A document, its package and what the database knows about them.
pub struct Ctx<'s> {
    /// The server state (read only).
    pub state: &'s State,
    /// The document's URI.
    pub uri: Uri,
    /// Its file id.
    pub file: FileId,
    /// Its text.
    pub text: &'s str,
    /// Its line starts (the open document's own, kept edit by edit).
    pub lines: Arc<LineIndex>,
    /// Its parse (memoised by salsa).
    pub parsed: Arc<Parsed>,
    /// Its names (memoised by salsa).
    pub index: Arc<FileIndex>,
    /// The package's check (memoised by salsa).
    pub checked: Arc<Checked>,
    /// The package's files and the library modules it uses.
    pub program: Arc<ParsedPackage>,
    /// The package's key.
    pub package: String,
}

/// The error for a request about a document the client never opened.
pub fn not_open(uri: &Uri) -> jsonrpc::Error {
    jsonrpc::Error::invalid_params(format!("`{}` is not open: send textDocument/didOpen first", uri.as_str()))
}

impl<'s> Ctx<'s> {
    /// The context of an open document.
    pub fn new(state: &'s State, uri: &Uri) -> jsonrpc::Result<Ctx<'s>> {
        let (package_key, package) = state.package_of_document(uri).ok_or_else(|| not_open(uri))?;
        let key = state::key_of(uri);
        let workspace = &state.workspace;
        let internal = || jsonrpc::Error::internal_error();
        let file = workspace.file_id(&key).ok_or_else(internal)?;
        let (_, text) = workspace.file(file).ok_or_else(internal)?;
        let parsed = workspace.parsed(&key).ok_or_else(internal)?;
        let checked = workspace.check(package.id).ok_or_else(internal)?;
        let program = workspace.program(package.id).ok_or_else(internal)?;
        let index = workspace.names(file).ok_or_else(internal)?;
        let lines = state.lines_of(file).ok_or_else(internal)?;
        Ok(Ctx {
            state,
            uri: uri.clone(),
            file,
            text,
            lines,
            parsed,
            index,
            checked,
            program,
            package: package_key.to_owned(),
        })
    }

    /// The document's tokens and items (memoised by salsa).
    pub fn tokens(&self) -> Option<Arc<FileTokens>> {
        self.state.workspace.tokens(self.file)
    }

    /// The symbols of the package.
    pub fn symbols(&self) -> &Symbols {
        &self.checked.symbols
    }

    /// The byte offset of a position in this document.
    pub fn offset(&self, position: Position) -> u32 {
        state::offset(&self.lines, self.text, position)
    }

    /// The range of a span of this document.
    pub fn range(&self, span: Span) -> Range {
        state::range(&self.lines, self.text, span.start, span.end)
    }

    /// The location of a span of any package file (`None` in library modules).
    pub fn location(&self, span: Span) -> Option<Location> {
        if span.file == self.file {
            return Some(Location { uri: self.uri.clone(), range: self.range(span) });
        }
        let uri = self.state.uri_of(span.file)?;
        Some(Location { uri, range: self.state.range_of(span)? })
    }

    /// The occurrence at a position.
    pub fn at(&self, position: Position) -> Option<&Occurrence> {
        self.index.at(self.offset(position))
    }

    /// Whether a span lies in a library module.
    pub fn in_library(&self, span: Span) -> bool {
        self.program.is_library(span.file)
    }

    /// The indexes of the package's own files.
    pub fn package_indexes(&self) -> Vec<(FileId, Arc<FileIndex>)> {
        self.program.package_files().filter_map(|f| Some((f.id, self.state.workspace.names(f.id)?))).collect()
    }

    /// Every occurrence of `target` in the package's files (variables: this rule only).
    pub fn occurrences(&self, target: &Target) -> Vec<Occurrence> {
        if matches!(target, Target::Variable { .. }) {
            return self.index.of(target).cloned().collect();
        }
        self.package_indexes().iter().flat_map(|(_, index)| index.of(target).cloned().collect::<Vec<_>>()).collect()
    }

    /// Where `target` is defined.
    pub fn definitions(&self, target: &Target) -> Vec<Span> {
        let symbols = self.symbols();
        match target {
            Target::Relation(name) => match symbols.relation(name) {
                Some(info) if info.kind == RelationKind::Derived => {
                    let heads: Vec<Span> =
                        self.occurrences(target).into_iter().filter(|o| o.role == Role::Head).map(|o| o.span).collect();
                    if heads.is_empty() { info.span.into_iter().collect() } else { heads }
                }
                Some(info) => info.span.into_iter().collect(),
                None => Vec::new(),
            },
            Target::Field { relation, field } => symbols
                .relation(relation)
                .and_then(|r| r.fields.iter().find(|f| f.name.as_deref() == Some(field.as_str())))
                .and_then(|f| f.span)
                .into_iter()
                .collect(),
            Target::Type(name) => symbols.alias(name).map(|(_, t)| t.span).into_iter().collect(),
            Target::Decision(name) => symbols.decision(name).map(|d| d.span).into_iter().collect(),
            Target::Variable { .. } => {
                let mut all = self.index.of(target);
                let first = self.index.of(target).find(|o| o.role == Role::Declaration).or_else(|| all.next());
                first.map(|o| o.span).into_iter().collect()
            }
            Target::Module(_) | Target::Package(_) | Target::Annotation(_) | Target::Aggregate(_) => Vec::new(),
        }
    }

    /// The item an occurrence of a variable belongs to.
    pub fn item(&self, index: usize) -> Option<&Item> {
        self.parsed.file.items.get(index).map(|item| &**item)
    }

    /// The item of the program (any file) whose span is `span`.
    pub fn item_at(&self, span: Span) -> Option<&Item> {
        let file = self.program.files.iter().find(|f| f.id == span.file)?;
        file.parsed.file.items.iter().find(|i| i.span == span).map(|item| &**item)
    }

    /// The type of a variable of rule `item`, read off the columns it fills, the literals it
    /// is compared with and the aggregates it is bound to.
    pub fn variable_type(&self, item: usize, name: &str) -> Option<String> {
        let item = self.item(item)?;
        let symbols = self.symbols();
        let mut atoms: Vec<&Atom> = Vec::new();
        let mut comparisons: Vec<&Comparison> = Vec::new();
        match &item.kind {
            ItemKind::Rule(rule) => {
                collect(&rule.body, &mut atoms, &mut comparisons);
                atoms.push(&rule.head);
            }
            ItemKind::Decision(decision) => collect(&decision.body, &mut atoms, &mut comparisons),
            _ => return None,
        }
        for atom in &atoms {
            let Some(relation) = symbols.relation(&atom.relation.text) else { continue };
            for (i, arg) in atom.args.iter().enumerate() {
                if !matches!(&arg.value, Expr::Var(v) if v.text == name) {
                    continue;
                }
                let field = match &arg.field {
                    Some(field) => relation.fields.iter().find(|f| f.name.as_deref() == Some(field.text.as_str())),
                    None => relation.fields.get(i),
                };
                if let Some(ty) = field.and_then(|f| f.ty) {
                    return Some(symbols.type_name(ty));
                }
            }
        }
        for comparison in &comparisons {
            for (this, other) in [(&comparison.left, &comparison.right), (&comparison.right, &comparison.left)] {
                if !matches!(this, Expr::Var(v) if v.text == name) {
                    continue;
                }
                match other {
                    Expr::Lit(lit) => return lit_type(&lit.value).map(str::to_owned),
                    Expr::Aggregate(aggregate) if aggregate.function == gov_syntax::ast::AggregateFn::Count => {
                        return Some("Int".to_owned());
                    }
                    _ => {}
                }
            }
        }
        None
    }
}

fn collect<'a>(body: &'a [BodyItem], atoms: &mut Vec<&'a Atom>, comparisons: &mut Vec<&'a Comparison>) {
    for item in body {
        match item {
            BodyItem::Atom(atom) | BodyItem::Not(atom, _) => atoms.push(atom),
            BodyItem::Compare(comparison) => {
                comparisons.push(comparison);
                for side in [&comparison.left, &comparison.right] {
                    if let Expr::Aggregate(aggregate) = side {
                        collect(&aggregate.body, atoms, comparisons);
                    }
                }
            }
            BodyItem::Test(_) | BodyItem::NotTest(..) | BodyItem::In(_) => {}
        }
    }
}

/// The name of a literal's type.
fn lit_type(value: &LitValue) -> Option<&'static str> {
    Some(match value {
        LitValue::Int(_) => "Int",
        LitValue::Decimal(_) => "Decimal",
        LitValue::Str(_) => "Str",
        LitValue::Bool(_) => "Bool",
        LitValue::Time(_) => "Time",
        LitValue::Duration(_) => "Duration",
        LitValue::Invalid => return None,
    })
}
