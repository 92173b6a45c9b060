//! Code actions: the checker's structured fixes, declaring a missing relation, `@overrides`.

use crate::analysis::{Ctx, lit_type};
use gov_diag::{Fix, Span, codes};
use gov_syntax::ast::{Atom, BodyItem, Effect, Expr, Item, ItemKind, TestStatement};
use serde_json::Value;
use std::collections::HashMap;
use tower_lsp_server::ls_types::{
    self as lsp, CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, Uri, WorkspaceEdit,
};

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), edits)])), ..WorkspaceEdit::default() }
}

/// A checker fix as a workspace edit (`None` if an edit lies in a file the client does not
/// know, such as a library module: the fix is then not offered at all).
fn fix_edit(ctx: &Ctx<'_>, fix: &Fix) -> Option<WorkspaceEdit> {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for edit in &fix.edits {
        let location = ctx.location(edit.span)?;
        changes.entry(location.uri).or_default().push(TextEdit { range: location.range, new_text: edit.replacement.clone() });
    }
    Some(WorkspaceEdit { changes: Some(changes), ..WorkspaceEdit::default() })
}

fn quickfix(
    title: String,
    edit: WorkspaceEdit,
    diagnostic: Option<&lsp::Diagnostic>,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: diagnostic.map(|d| vec![d.clone()]),
        edit: Some(edit),
        is_preferred: preferred.then_some(true),
        ..CodeAction::default()
    })
}

/// The code actions for `range`, given the diagnostics the client sent.
pub fn actions(ctx: &Ctx<'_>, range: Range, sent: &[lsp::Diagnostic]) -> Vec<CodeActionOrCommand> {
    let mut out = Vec::new();
    let code_matches =
        |d: &lsp::Diagnostic, id: &str| matches!(&d.code, Some(lsp::NumberOrString::String(c)) if c == id);
    for diagnostic in ctx.checked.diagnostics.iter().filter(|d| d.primary.span.file == ctx.file) {
        let at = ctx.range(diagnostic.primary.span);
        if !overlaps(at, range) {
            continue;
        }
        let echoed = sent.iter().find(|d| d.range == at && code_matches(d, diagnostic.code.id));
        // Invariant: the checker lists a diagnostic's fixes best first.
        for (index, fix) in diagnostic.fixes.iter().enumerate() {
            if let Some(edit) = fix_edit(ctx, fix) {
                out.push(quickfix(fix.message.clone(), edit, echoed, index == 0));
            }
        }
        if diagnostic.code == codes::UNKNOWN_RELATION {
            out.extend(declare(ctx, diagnostic.primary.span, echoed));
        }
    }
    for diagnostic in sent.iter().filter(|d| overlaps(d.range, range)) {
        let pair = diagnostic.data.as_ref().and_then(|d| d.get("conflict")).and_then(Value::as_array);
        if let Some([Value::String(a), Value::String(b)]) = pair.map(Vec::as_slice) {
            out.extend(overrides(ctx, a, b, diagnostic));
        }
    }
    out
}

/// Finds the atom whose relation name is at `span`, with the index of its item.
fn find_atom(items: &[Item], span: Span) -> Option<(&Atom, usize)> {
    fn in_body(body: &[BodyItem], span: Span) -> Option<&Atom> {
        body.iter().find_map(|b| match b {
            BodyItem::Atom(atom) | BodyItem::Not(atom, _) => (atom.relation.span == span).then_some(atom),
            BodyItem::Compare(c) => [&c.left, &c.right].into_iter().find_map(|e| match e {
                Expr::Aggregate(aggregate) => in_body(&aggregate.body, span),
                _ => None,
            }),
        })
    }
    items.iter().enumerate().find_map(|(index, item)| {
        let atom = match &item.kind {
            ItemKind::Rule(rule) => in_body(&rule.body, span),
            ItemKind::Decision(decision) => in_body(&decision.body, span),
            ItemKind::Test(test) => test.statements.iter().find_map(|s| match s {
                TestStatement::Given(facts) => facts.iter().find(|f| f.relation.span == span),
                _ => None,
            }),
            _ => None,
        };
        atom.map(|a| (a, index))
    })
}

/// "Declare `name` as a data (input) relation": the fields named after the arguments, typed
/// by what the rule says about them.
fn declare(ctx: &Ctx<'_>, span: Span, diagnostic: Option<&lsp::Diagnostic>) -> Vec<CodeActionOrCommand> {
    let Some((atom, item)) = find_atom(&ctx.parsed.file.items, span) else { return Vec::new() };
    let mut fields: Vec<String> = Vec::new();
    for (i, arg) in atom.args.iter().enumerate() {
        let mut name = match (&arg.field, &arg.value) {
            (Some(field), _) => field.text.clone(),
            (None, Expr::Var(var)) => var.text.trim_start_matches('_').to_ascii_lowercase(),
            _ => format!("field{}", i + 1),
        };
        if name.is_empty() || fields.iter().any(|f| f.starts_with(&format!("{name}:"))) {
            name = format!("field{}", i + 1);
        }
        let ty = match &arg.value {
            Expr::Var(var) => ctx.variable_type(item, &var.text),
            Expr::Lit(lit) => lit_type(&lit.value).map(str::to_owned),
            _ => None,
        };
        fields.push(format!("{name}: {}", ty.unwrap_or_else(|| "Str".to_owned())));
    }
    let items = &ctx.parsed.file.items;
    let anchor =
        items.iter().rev().find(|i| matches!(i.kind, ItemKind::Relation(_))).map(|i| (i.span.end, "\n")).or_else(
            || {
                items
                    .iter()
                    .rev()
                    .find(|i| matches!(i.kind, ItemKind::TypeAlias(_) | ItemKind::Use(_) | ItemKind::Package(_)))
                    .map(|i| (i.span.end, "\n\n"))
            },
        );
    let name = &atom.relation.text;
    ["data", "input"]
        .into_iter()
        .map(|keyword| {
            let declaration = format!("{keyword} {name}({})", fields.join(", "));
            let (at, text) = match anchor {
                Some((end, separator)) => (end, format!("{separator}{declaration}")),
                None => (0, format!("{declaration}\n\n")),
            };
            let range = ctx.range(Span::new(ctx.file, at, at));
            quickfix(
                format!("Declare `{name}` as {} {keyword} relation", if keyword == "input" { "an" } else { "a" }),
                edit(&ctx.uri, vec![TextEdit { range, new_text: text }]),
                diagnostic,
                false,
            )
        })
        .collect()
}

/// "Add `@overrides(b)` to `a`" for two conflicting decision rules: on the `deny` or
/// `escalate` rule, naming the `allow` rule; both ways when the effects do not say.
fn overrides(ctx: &Ctx<'_>, a: &str, b: &str, diagnostic: &lsp::Diagnostic) -> Vec<CodeActionOrCommand> {
    let symbols = ctx.symbols();
    let (Some(first), Some(second)) = (symbols.decision(a), symbols.decision(b)) else { return Vec::new() };
    let directions: Vec<(&str, &str)> = match (first.effect, second.effect) {
        (Effect::Allow, Effect::Allow) => vec![(a, b), (b, a)],
        (Effect::Allow, _) => vec![(b, a)],
        (_, Effect::Allow) => vec![(a, b)],
        _ => vec![(a, b), (b, a)],
    };
    let mut out = Vec::new();
    for (rule, overridden) in directions {
        let Some(info) = symbols.decision(rule) else { continue };
        let Some(item) = ctx.item_at(info.item_span) else { continue };
        let existing = item.annotations.iter().find(|an| an.name.text == "overrides");
        if existing.is_some_and(|an| an.args.iter().any(|arg| arg.text == overridden)) {
            continue;
        }
        let text = ctx.state.text_of(item.span.file).unwrap_or_default();
        let (at, new_text) = match existing {
            Some(annotation) if text.get(annotation.span.range()).is_some_and(|s| s.ends_with(')')) => {
                let close = annotation.span.end.saturating_sub(1);
                (close, if annotation.args.is_empty() { overridden.to_owned() } else { format!(", {overridden}") })
            }
            _ => (item.span.start, format!("@overrides({overridden})\n")),
        };
        let Some(location) = ctx.location(Span::new(item.span.file, at, at)) else { continue };
        out.push(quickfix(
            format!("Add `@overrides({overridden})` to `{rule}`"),
            edit(&location.uri, vec![TextEdit { range: location.range, new_text }]),
            Some(diagnostic),
            false,
        ));
    }
    out
}
