//! Code actions: the checker's structured fixes, `@overrides` for two conflicting rules,
//! and copying an analysis finding's witness ([`crate::witness`]).

use crate::analysis::Ctx;
use gov_diag::{Fix, Span};
use gov_syntax::ast::Effect;
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
        changes
            .entry(location.uri)
            .or_default()
            .push(TextEdit { range: location.range, new_text: edit.replacement.clone() });
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
    }
    for diagnostic in sent.iter().filter(|d| overlaps(d.range, range)) {
        let pair = diagnostic.data.as_ref().and_then(|d| d.get("conflict")).and_then(Value::as_array);
        if let Some([Value::String(a), Value::String(b)]) = pair.map(Vec::as_slice) {
            out.extend(overrides(ctx, a, b, diagnostic));
        }
        out.extend(crate::witness::action(ctx, diagnostic));
    }
    out
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
