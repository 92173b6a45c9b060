//! Checker diagnostics as LSP diagnostics.

use crate::state::State;
use crate::witness;
use gov_check::Symbols;
use gov_diag::{Diagnostic, FileId, Severity, Span, codes};
use serde_json::{Value, json};
use std::collections::HashMap;
use tower_lsp_server::ls_types::{
    self as lsp, CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Uri,
};

/// The diagnostics to publish for one package: per file, its URI, its diagnostics and the
/// version of the open document they are about.
pub fn package_diagnostics(state: &mut State, package: &str) -> Vec<(Uri, Vec<lsp::Diagnostic>, Option<i32>)> {
    let docs = state.docs_url(package);
    let Some(pkg) = state.packages.get(package) else { return Vec::new() };
    let Some(checked) = state.workspace.check(pkg.id) else { return Vec::new() };
    let mut by_file: HashMap<FileId, Vec<lsp::Diagnostic>> = HashMap::new();
    for diagnostic in &checked.diagnostics {
        if let Some(converted) = convert(state, diagnostic, docs.as_deref(), &checked.symbols) {
            by_file.entry(diagnostic.primary.span.file).or_default().push(converted);
        }
    }
    let mut out = Vec::new();
    for key in &pkg.files {
        let (Some(uri), Some(id)) = (state.uris.get(key), state.workspace.file_id(key)) else { continue };
        let version = state.documents.get(key).map(|d| d.version);
        out.push((uri.clone(), by_file.remove(&id).unwrap_or_default(), version));
    }
    out
}

/// Where the spans of diagnostics lie, for the client: the server's workspace, or the
/// workspace of a package loaded for the analysis ([`crate::findings`]).
pub trait Files {
    /// The URI of file `id`, if the client knows it.
    fn uri_of(&self, id: FileId) -> Option<Uri>;
    /// The LSP range of `span`.
    fn range_of(&self, span: Span) -> Option<lsp::Range>;
}

impl Files for State {
    fn uri_of(&self, id: FileId) -> Option<Uri> {
        State::uri_of(self, id)
    }

    fn range_of(&self, span: Span) -> Option<lsp::Range> {
        State::range_of(self, span)
    }
}

/// Converts one diagnostic (`None` if it is not in a file the client knows).
pub fn convert(
    state: &dyn Files,
    diagnostic: &Diagnostic,
    docs: Option<&str>,
    symbols: &Symbols,
) -> Option<lsp::Diagnostic> {
    let range = state.range_of(diagnostic.primary.span)?;
    let mut message = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    for note in &diagnostic.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    let mut related: Vec<DiagnosticRelatedInformation> = diagnostic
        .secondary
        .iter()
        .filter_map(|label| {
            let uri = state.uri_of(label.span.file)?;
            let range = state.range_of(label.span)?;
            let message = if label.message.is_empty() { "related".to_owned() } else { label.message.clone() };
            Some(DiagnosticRelatedInformation { location: Location { uri, range }, message })
        })
        .collect();
    if let (Some(witness), Some(uri)) = (&diagnostic.witness, state.uri_of(diagnostic.primary.span.file)) {
        related.extend(witness::related(witness, &Location { uri, range }));
    }
    let href = docs.and_then(|base| format!("{base}#{}", diagnostic.code.id.to_ascii_lowercase()).parse::<Uri>().ok());
    let tags = matches!(diagnostic.code, codes::UNUSED_DECLARATION | codes::UNUSED_IMPORT)
        .then(|| vec![DiagnosticTag::UNNECESSARY]);
    Some(lsp::Diagnostic {
        range,
        severity: Some(match diagnostic.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.id.to_owned())),
        code_description: href.map(|href| CodeDescription { href }),
        source: Some("gov".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags,
        data: data(diagnostic, symbols),
    })
}

/// What code actions need to know about a diagnostic beyond its structured fixes (which
/// the actions read from the checker's diagnostic), carried in its `data`:
/// `"conflict": ["a", "b"]` when the diagnostic is about two decision rules (its primary
/// span names one, a secondary label the other), and `"witness": {"input": …, "data": …}`
/// when an analysis finding carries one (see [`witness`]).
fn data(diagnostic: &Diagnostic, symbols: &Symbols) -> Option<Value> {
    let mut data = serde_json::Map::new();
    if let Some(pair) = conflict_pair(diagnostic, symbols) {
        data.insert("conflict".to_owned(), json!(pair));
    }
    if let Some(found) = &diagnostic.witness {
        data.insert(witness::KEY.to_owned(), json!({ "input": found.input, "data": found.data }));
    }
    (!data.is_empty()).then_some(Value::Object(data))
}

/// The two decision rules a diagnostic is about: the one its primary span names and the
/// one a secondary label names.
fn conflict_pair(diagnostic: &Diagnostic, symbols: &Symbols) -> Option<[String; 2]> {
    let rule_at = |span: Span| symbols.decisions.iter().find(|d| d.span == span || d.item_span == span);
    let first = rule_at(diagnostic.primary.span)?;
    let second = diagnostic.secondary.iter().filter_map(|l| rule_at(l.span)).find(|d| d.name != first.name)?;
    Some([first.name.to_string(), second.name.to_string()])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use gov_db::Workspace;

    #[test]
    fn a_diagnostic_about_two_decision_rules_carries_the_pair() {
        let text =
            "package p\n\ninput order(total: Int)\n\nallow small :- order(t), t < 10.\n\ndeny odd :- order(7).\n";
        let mut workspace = Workspace::new();
        let package = workspace.add_package(vec![("p.gov".to_owned(), text.to_owned())]);
        let checked = workspace.check(package).unwrap();
        let symbols = &checked.symbols;
        let (small, odd) = (symbols.decision("small").unwrap(), symbols.decision("odd").unwrap());
        // What the conflict analysis will report: one rule, and the other as a label.
        let conflict = Diagnostic::new(codes::UNKNOWN_RULE, "`odd` and `small` can both fire", odd.span)
            .with_label(small.span, "conflicts with");
        assert_eq!(data(&conflict, symbols), Some(json!({ "conflict": ["odd", "small"] })));
        // The whole rule as the primary span works too.
        let whole = Diagnostic::new(codes::UNKNOWN_RULE, "overlap", small.item_span).with_label(odd.span, "");
        assert_eq!(data(&whole, symbols), Some(json!({ "conflict": ["small", "odd"] })));
        // One rule only, or the same rule twice: no pair.
        let alone = Diagnostic::new(codes::UNKNOWN_RULE, "x", odd.span).with_label(odd.item_span, "");
        assert_eq!(data(&alone, symbols), None);
        // A did-you-mean travels as a structured fix, not in `data`.
        let typo = Diagnostic::new(codes::UNKNOWN_RELATION, "unknown relation `ordr`", odd.span)
            .with_did_you_mean(odd.span, Some("order"));
        assert_eq!(data(&typo, symbols), None);
    }
}
