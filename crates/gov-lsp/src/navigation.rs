//! Go to definition, find references, highlights and rename.

use crate::analysis::Ctx;
use crate::index::{Role, Target, is_identifier, keyword_doc, token_at};
use gov_check::RelationKind;
use gov_syntax::lexer::Token;
use gov_value::BaseType;
use std::collections::HashMap;
use tower_lsp_server::jsonrpc::{self, ErrorCode};
use tower_lsp_server::ls_types::{
    DocumentHighlight, DocumentHighlightKind, Location, Position, PrepareRenameResponse, TextEdit, Uri, WorkspaceEdit,
};

/// Where the name at `position` is defined.
pub fn definition(ctx: &Ctx<'_>, position: Position) -> Vec<Location> {
    let Some(occurrence) = ctx.at(position) else { return Vec::new() };
    ctx.definitions(&occurrence.target).into_iter().filter_map(|span| ctx.location(span)).collect()
}

/// Every use of the name at `position` in the package.
pub fn references(ctx: &Ctx<'_>, position: Position, include_declaration: bool) -> Vec<Location> {
    let Some(occurrence) = ctx.at(position) else { return Vec::new() };
    ctx.occurrences(&occurrence.target)
        .into_iter()
        .filter(|o| include_declaration || o.role != Role::Declaration)
        .filter_map(|o| ctx.location(o.span))
        .collect()
}

/// The occurrences of the name at `position` in this document.
pub fn highlights(ctx: &Ctx<'_>, position: Position) -> Vec<DocumentHighlight> {
    let Some(occurrence) = ctx.at(position) else { return Vec::new() };
    ctx.index
        .of(&occurrence.target)
        .map(|o| DocumentHighlight {
            range: ctx.range(o.span),
            kind: Some(if o.role == Role::Reference {
                DocumentHighlightKind::READ
            } else {
                DocumentHighlightKind::WRITE
            }),
        })
        .collect()
}

fn refuse(message: impl Into<String>) -> jsonrpc::Error {
    jsonrpc::Error { code: ErrorCode::ServerError(-32803), message: message.into().into(), data: None }
}

/// Whether the name at `position` can be renamed: its range and text, or why not.
pub fn prepare_rename(ctx: &Ctx<'_>, position: Position) -> jsonrpc::Result<PrepareRenameResponse> {
    let Some(occurrence) = ctx.at(position) else {
        let offset = ctx.offset(position);
        let tokens = ctx.tokens();
        let all = tokens.as_ref().map(|t| t.lexed().tokens.as_slice()).unwrap_or_default();
        let token = token_at(all, offset).and_then(|i| all.get(i));
        return Err(match token.and_then(|t| t.token.keyword_text().filter(|_| !matches!(t.token, Token::Ident(_)))) {
            Some(word) if keyword_doc(word).is_some() => refuse(format!("`{word}` is a keyword and cannot be renamed")),
            _ => refuse("there is no name to rename here"),
        });
    };
    renamable(ctx, &occurrence.target)?;
    let placeholder = ctx.text.get(occurrence.span.range()).unwrap_or_default().to_owned();
    Ok(PrepareRenameResponse::RangeWithPlaceholder { range: ctx.range(occurrence.span), placeholder })
}

/// Checks that `target` is the package's own, renamable name.
fn renamable(ctx: &Ctx<'_>, target: &Target) -> jsonrpc::Result<()> {
    let symbols = ctx.symbols();
    let library = |span: Option<gov_diag::Span>| span.is_some_and(|s| ctx.in_library(s));
    match target {
        Target::Relation(name) | Target::Field { relation: name, .. } => match symbols.relation(name) {
            None => Err(refuse(format!("`{name}` is not a known relation"))),
            Some(info) if info.kind == RelationKind::Builtin => {
                Err(refuse(format!("`{name}` is built in and cannot be renamed")))
            }
            Some(info) if library(info.span) => {
                Err(refuse(format!("`{name}` comes from the standard library and cannot be renamed")))
            }
            Some(_) => Ok(()),
        },
        Target::Type(name) if BaseType::from_name(name).is_some() => {
            Err(refuse(format!("`{name}` is a built-in type and cannot be renamed")))
        }
        Target::Type(name) => match symbols.alias(name) {
            None => Err(refuse(format!("`{name}` is not a known type"))),
            Some((_, info)) if library(Some(info.span)) => {
                Err(refuse(format!("`{name}` comes from the standard library")))
            }
            Some(_) => Ok(()),
        },
        Target::Decision(name) => match symbols.decision(name) {
            None => Err(refuse(format!("`{name}` is not a known decision rule"))),
            Some(info) if library(Some(info.span)) => Err(refuse(format!("`{name}` comes from the standard library"))),
            Some(_) => Ok(()),
        },
        Target::Variable { .. } => Ok(()),
        Target::Module(name) => Err(refuse(format!("`{name}` is a standard-library module and cannot be renamed"))),
        Target::Package(_) => Err(refuse("rename the package by editing the `package` line of every file")),
        Target::Annotation(name) => Err(refuse(format!("`@{name}` is an annotation and cannot be renamed"))),
        Target::Aggregate(name) => Err(refuse(format!("`{name}` is a built-in aggregate and cannot be renamed"))),
    }
}

/// Renames the name at `position` everywhere in the package.
pub fn rename(ctx: &Ctx<'_>, position: Position, new_name: &str) -> jsonrpc::Result<Option<WorkspaceEdit>> {
    let Some(occurrence) = ctx.at(position) else { return Err(refuse("there is no name to rename here")) };
    let target = occurrence.target.clone();
    renamable(ctx, &target)?;
    if !is_identifier(new_name) {
        return Err(jsonrpc::Error::invalid_params(format!("`{new_name}` is not a valid name")));
    }
    let symbols = ctx.symbols();
    let taken = match &target {
        Target::Relation(_) => symbols.relation(new_name).is_some(),
        Target::Field { relation, .. } => {
            symbols.relation(relation).is_some_and(|r| r.fields.iter().any(|f| f.name.as_deref() == Some(new_name)))
        }
        Target::Type(_) => symbols.resolve_type(new_name).is_some(),
        Target::Decision(_) => symbols.decision(new_name).is_some(),
        Target::Variable { item, .. } => {
            ctx.index.of(&Target::Variable { item: *item, name: new_name.into() }).next().is_some()
        }
        _ => false,
    };
    if taken {
        return Err(refuse(format!("`{new_name}` is already taken")));
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for found in ctx.occurrences(&target) {
        if let Some(location) = ctx.location(found.span) {
            changes
                .entry(location.uri)
                .or_default()
                .push(TextEdit { range: location.range, new_text: new_name.to_owned() });
        }
    }
    Ok(Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() }))
}
