//! Hover: what a name is, with its type and doc comment.

use crate::analysis::Ctx;
use crate::index::{ONE_DOC, Target, aggregate_doc, is_one_modifier, keyword_doc, token_at};
use gov_check::{Origin, RelationInfo, RelationKind};
use gov_syntax::ast::{Approver, ItemKind};
use gov_syntax::lexer::Token;
use gov_value::BaseType;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

/// The hover at `position`.
pub fn hover(ctx: &Ctx<'_>, position: Position) -> Option<Hover> {
    let offset = ctx.offset(position);
    if let Some(occurrence) = ctx.index.at(offset) {
        let text = describe(ctx, &occurrence.target)?;
        return Some(markdown(text, Some(ctx.range(occurrence.span))));
    }
    if let Some(hover) = builtin(ctx, offset) {
        return Some(hover);
    }
    // Keywords are not names: find the token under the cursor.
    let tokens = ctx.tokens()?;
    let lexed = tokens.lexed();
    let at = token_at(&lexed.tokens, offset)?;
    let token = lexed.tokens.get(at)?;
    let doc = if is_one_modifier(&lexed.tokens, at) {
        ONE_DOC
    } else {
        keyword_doc(token.token.keyword_text().filter(|_| !matches!(token.token, Token::Ident(_)))?)?
    };
    Some(markdown(doc.to_owned(), Some(ctx.range(gov_diag::Span::new(ctx.file, token.start, token.end)))))
}

/// A built-in's signature, over its dotted name (`str.lower`): the catalogue's, not a name
/// of the package.
fn builtin(ctx: &Ctx<'_>, offset: u32) -> Option<Hover> {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let before = ctx.text.get(..offset as usize)?;
    let after = ctx.text.get(offset as usize..)?;
    let start = before.rfind(|c: char| !part(c)).map_or(0, |i| i + 1);
    let end = offset as usize + after.find(|c: char| !part(c)).unwrap_or(after.len());
    let word = ctx.text.get(start..end)?.trim_end_matches('.');
    let builtin = gov_builtins::Builtin::from_name(word)?;
    let span = gov_diag::Span::new(ctx.file, u32::try_from(start).ok()?, u32::try_from(start + word.len()).ok()?);
    let text = format!("{}\n\nA built-in: see docs/reference.md, \"Built-in functions\".", code(&builtin.synopsis()));
    Some(markdown(text, Some(ctx.range(span))))
}

fn markdown(value: String, range: Option<tower_lsp_server::ls_types::Range>) -> Hover {
    Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value }), range }
}

fn code(text: &str) -> String {
    format!("```gov\n{text}\n```")
}

fn with_docs(mut out: String, docs: &[String]) -> String {
    if !docs.is_empty() {
        out.push_str("\n\n---\n\n");
        out.push_str(&docs.join("\n"));
    }
    out
}

/// The markdown describing `target`.
pub fn describe(ctx: &Ctx<'_>, target: &Target) -> Option<String> {
    let symbols = ctx.symbols();
    Some(match target {
        Target::Relation(name) => {
            let Some(info) = symbols.relation(name) else { return Some(format!("{}\n\nunknown relation", code(name))) };
            relation(ctx, info)
        }
        Target::Field { relation, field } => {
            let info = symbols.relation(relation)?;
            let (position, found) =
                info.fields.iter().enumerate().find(|(_, f)| f.name.as_deref() == Some(field.as_str()))?;
            let ty = found.ty.map_or_else(|| "?".to_owned(), |t| symbols.type_name(t));
            let kind = kind_word(info.kind);
            format!(
                "{}\n\nfield {} of {kind} relation `{}`",
                code(&format!("{relation}.{field}: {ty}")),
                position + 1,
                info.name
            )
        }
        Target::Type(name) => {
            if let Some(base) = BaseType::from_name(name) {
                return Some(format!("{}\n\nbuilt-in type: {}", code(name), base_doc(base)));
            }
            let (_, alias) = symbols.alias(name)?;
            let base = alias.base.map_or("?", |b| b.name());
            let mut out = code(&format!("type {name} = {base}"));
            out.push_str("\n\na distinct type represented as `");
            out.push_str(base);
            out.push_str("`: values of other types do not mix with it");
            with_docs(out, &alias.docs)
        }
        Target::Decision(name) => {
            let info = symbols.decision(name)?;
            let mut head = format!("{} {name}", info.effect.keyword());
            let mut message = None;
            if let Some(ItemKind::Decision(decision)) = ctx.item_at(info.item_span).map(|i| &i.kind) {
                match &decision.approver {
                    Some(Approver::Group(group)) => head.push_str(&format!(" to \"{}\"", group.value)),
                    Some(Approver::Var(var)) => head.push_str(&format!(" to {}", var.text)),
                    None => {}
                }
                if let Some(points) = &decision.points {
                    let text = ctx.state.text_of(points.span().file).and_then(|t| t.get(points.span().range()));
                    head.push(' ');
                    head.push_str(text.unwrap_or("?"));
                }
                message = decision
                    .message
                    .as_ref()
                    .and_then(|m| ctx.state.text_of(m.span.file).and_then(|t| t.get(m.span.range())));
            }
            let mut out = code(&head);
            out.push_str(&format!("\n\n{} rule", info.effect.keyword()));
            if let Some(message) = message {
                out.push_str(&format!(" — message {message}"));
            }
            with_docs(out, &info.docs)
        }
        Target::Variable { item, name } => match ctx.variable_type(*item, name) {
            Some(ty) => format!("{}\n\nvariable", code(&format!("{name}: {ty}"))),
            None => format!("{}\n\nvariable", code(name)),
        },
        Target::Module(name) => {
            let mut out = format!("{}\n\nstandard-library module", code(&format!("use {name}")));
            let relations = module_relations(ctx, name);
            if !relations.is_empty() {
                out.push_str(" — defines ");
                out.push_str(&relations.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "));
            }
            out
        }
        Target::Package(name) => format!("{}\n\nthe package this file belongs to", code(&format!("package {name}"))),
        Target::Annotation(name) if name == "overrides" => format!(
            "{}\n\non a `deny` or `escalate` rule: its overlap with the named `allow` rules is intended, so the conflict check does not report it",
            code("@overrides(rule, …)")
        ),
        Target::Annotation(name) => {
            format!("{}\n\nunknown annotation (the only one is `@overrides`)", code(&format!("@{name}")))
        }
        Target::Aggregate(name) => aggregate_doc(name).to_owned(),
    })
}

fn kind_word(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Input => "input",
        RelationKind::Data => "data",
        RelationKind::Derived => "derived",
        RelationKind::Builtin => "built-in",
    }
}

fn base_doc(base: BaseType) -> &'static str {
    match base {
        BaseType::Int => "a 64-bit signed integer; overflow is an error",
        BaseType::Decimal => "an exact decimal number, for money",
        BaseType::Str => "a string",
        BaseType::Bool => "`true` or `false`",
        BaseType::Time => "an instant, written in RFC 3339 (`2026-01-31T09:00:00Z`)",
        BaseType::Duration => "a length of time (`15m`, `1h30m`)",
    }
}

/// The signature of a relation as declared (or as inferred for derived ones).
pub fn signature(ctx: &Ctx<'_>, info: &RelationInfo) -> String {
    let symbols = ctx.symbols();
    let fields: Vec<String> = info
        .fields
        .iter()
        .map(|f| {
            let ty = f.ty.map_or_else(|| "?".to_owned(), |t| symbols.type_name(t));
            match &f.name {
                Some(name) => format!("{name}: {ty}"),
                None => ty,
            }
        })
        .collect();
    let prefix = match info.kind {
        RelationKind::Input if info.one => "input one ",
        RelationKind::Input => "input ",
        RelationKind::Data => "data ",
        RelationKind::Derived | RelationKind::Builtin => "",
    };
    format!("{prefix}{}({})", info.name, fields.join(", "))
}

fn relation(ctx: &Ctx<'_>, info: &RelationInfo) -> String {
    let mut out = code(&signature(ctx, info));
    out.push_str("\n\n");
    match info.kind {
        RelationKind::Input if info.one => {
            out.push_str("input relation: exactly one fact of it comes with each request")
        }
        RelationKind::Input => out.push_str("input relation: its facts come with each request"),
        RelationKind::Data => out.push_str("data relation: its facts come with the bundle"),
        RelationKind::Builtin => out.push_str("built in: the engine computes it"),
        RelationKind::Derived => match info.span.and_then(|s| library_of(ctx, s.file)) {
            Some(module) => out.push_str(&format!("derived relation, defined in `{module}`")),
            None => {
                let rules = ctx
                    .occurrences(&Target::Relation(info.name.clone()))
                    .iter()
                    .filter(|o| o.role == crate::index::Role::Head)
                    .count();
                out.push_str(&format!(
                    "derived relation ({rules} {}; column types inferred)",
                    if rules == 1 { "rule" } else { "rules" }
                ));
            }
        },
    }
    if let (Some(module), false) = (info.span.and_then(|s| library_of(ctx, s.file)), info.kind == RelationKind::Derived)
    {
        out.push_str(&format!(", declared in `{module}`"));
    }
    with_docs(out, &info.docs)
}

fn library_of(ctx: &Ctx<'_>, file: gov_diag::FileId) -> Option<String> {
    ctx.program.files.iter().find(|f| f.id == file).and_then(|f| match &f.origin {
        Origin::Library(name) => Some(name.clone()),
        Origin::Package => None,
    })
}

/// The relations a library module declares or derives.
fn module_relations(ctx: &Ctx<'_>, module: &str) -> Vec<String> {
    let Some(file) = ctx.program.files.iter().find(|f| f.origin == Origin::Library(module.to_owned())) else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for item in &file.parsed.file.items {
        let name = match &item.kind {
            ItemKind::Relation(decl) => {
                let one = if decl.one.is_some() { " one" } else { "" };
                Some(format!("{}{one} {}", decl.kind.keyword(), decl.name.text))
            }
            ItemKind::Rule(rule) => Some(rule.head.relation.text.to_string()),
            _ => None,
        };
        if let Some(name) = name.filter(|n| !names.contains(n)) {
            names.push(name);
        }
    }
    names
}
