//! Document symbols (the outline) and workspace symbols.

use crate::analysis::Ctx;
use crate::index::fuzzy;
use crate::state::{self, State};
use gov_diag::{LineIndex, Span};
use gov_syntax::ast::{Item, ItemKind};
use tower_lsp_server::ls_types::{DocumentSymbol, Location, OneOf, Range, SymbolKind, Uri, WorkspaceSymbol};

/// One entry of the outline, before positions are converted.
struct Entry {
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Vec<Entry>,
}

fn entry(item: &Item) -> Option<Entry> {
    let leaf = |name: String, detail: Option<String>, kind: SymbolKind, selection: Span| Entry {
        name,
        detail,
        kind,
        span: item.span,
        selection,
        children: Vec::new(),
    };
    Some(match &item.kind {
        ItemKind::Package(path) => leaf(path.dotted(), Some("package".to_owned()), SymbolKind::PACKAGE, path.span),
        ItemKind::Use(path) => leaf(path.dotted(), Some("use".to_owned()), SymbolKind::MODULE, path.span),
        ItemKind::Default(decision) => {
            let word = match decision {
                gov_syntax::ast::DefaultDecision::Allow => "allow",
                gov_syntax::ast::DefaultDecision::Deny => "deny",
            };
            leaf(format!("default {word}"), None, SymbolKind::CONSTANT, item.span)
        }
        ItemKind::TypeAlias(alias) => leaf(
            alias.name.text.to_string(),
            Some(format!("= {}", alias.target.text)),
            SymbolKind::TYPE_PARAMETER,
            alias.name.span,
        ),
        ItemKind::Relation(decl) => {
            let detail = format!("{}{}", decl.kind.keyword(), if decl.one.is_some() { " one" } else { "" });
            let mut relation = leaf(decl.name.text.to_string(), Some(detail), SymbolKind::STRUCT, decl.name.span);
            relation.children = decl
                .fields
                .iter()
                .map(|f| Entry {
                    name: f.name.text.to_string(),
                    detail: Some(gov_check::compound::display(&f.ty)),
                    kind: SymbolKind::FIELD,
                    span: Span::new(f.name.span.file, f.name.span.start, f.ty.span().end),
                    selection: f.name.span,
                    children: Vec::new(),
                })
                .collect();
            relation
        }
        ItemKind::Rule(rule) => {
            let detail = if rule.body.is_empty() { "fact" } else { "rule" };
            leaf(
                rule.head.relation.text.to_string(),
                Some(detail.to_owned()),
                SymbolKind::FUNCTION,
                rule.head.relation.span,
            )
        }
        ItemKind::Decision(decision) => leaf(
            decision.name.text.to_string(),
            Some(decision.effect.keyword().to_owned()),
            SymbolKind::EVENT,
            decision.name.span,
        ),
        ItemKind::Test(test) => leaf(format!("test \"{}\"", test.name.value), None, SymbolKind::METHOD, test.name.span),
        ItemKind::Invariant(invariant) => leaf(
            invariant.name.text.to_string(),
            Some(format!(
                "invariant: {} {}",
                if invariant.always { "always" } else { "never" },
                invariant.effect.keyword()
            )),
            SymbolKind::CONSTANT,
            invariant.name.span,
        ),
        ItemKind::Fixture(fixture) => {
            leaf(format!("fixture {}", fixture.name.text), None, SymbolKind::OBJECT, fixture.name.span)
        }
        ItemKind::Error(_) => return None,
    })
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be written.
fn convert(entry: Entry, lines: &LineIndex, text: &str) -> DocumentSymbol {
    let range: Range = state::range(lines, text, entry.span.start, entry.span.end);
    let selection = state::range(lines, text, entry.selection.start, entry.selection.end);
    let children: Vec<DocumentSymbol> = entry.children.into_iter().map(|c| convert(c, lines, text)).collect();
    DocumentSymbol {
        name: entry.name,
        detail: entry.detail,
        kind: entry.kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children: (!children.is_empty()).then_some(children),
    }
}

/// The outline of a document.
pub fn document_symbols(ctx: &Ctx<'_>) -> Vec<DocumentSymbol> {
    ctx.parsed.file.items.iter().filter_map(|item| entry(item)).map(|e| convert(e, &ctx.lines, ctx.text)).collect()
}

/// The declarations of every loaded package matching `query`.
pub fn workspace_symbols(state: &State, query: &str) -> Vec<WorkspaceSymbol> {
    let mut out = Vec::new();
    for package in state.packages.values() {
        for key in &package.files {
            let (Some(parsed), Some(uri), Some(id)) =
                (state.workspace.parsed(key), state.uris.get(key), state.workspace.file_id(key))
            else {
                continue;
            };
            let (Some(text), Some(lines)) = (state.text_of(id), state.lines_of(id)) else { continue };
            let container = parsed.file.items.iter().find_map(|i| match &i.kind {
                ItemKind::Package(path) => Some(path.dotted()),
                _ => None,
            });
            for item in &parsed.file.items {
                let Some(entry) = entry(item) else { continue };
                if matches!(item.kind, ItemKind::Package(_) | ItemKind::Use(_) | ItemKind::Default(_))
                    || !fuzzy(query, &entry.name)
                {
                    continue;
                }
                out.push(symbol(uri, &lines, text, &entry, container.clone()));
            }
        }
    }
    // A derived relation's rules are one symbol: keep its first rule.
    let mut seen = std::collections::HashSet::new();
    out.retain(|s: &WorkspaceSymbol| s.kind != SymbolKind::FUNCTION || seen.insert(s.name.clone()));
    out
}

fn symbol(uri: &Uri, lines: &LineIndex, text: &str, entry: &Entry, container: Option<String>) -> WorkspaceSymbol {
    WorkspaceSymbol {
        name: entry.name.clone(),
        kind: entry.kind,
        tags: None,
        container_name: container,
        location: OneOf::Left(Location {
            uri: uri.clone(),
            range: state::range(lines, text, entry.selection.start, entry.selection.end),
        }),
        data: None,
    }
}
