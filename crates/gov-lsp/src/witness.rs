//! The witness of an analysis finding in the editor: briefly in the diagnostic's related
//! information, in full in its `data`, and the code action that opens it as a file.
//!
//! "Copy the witness request" is a workspace edit that creates `witness.json` (the
//! request) beside the package, and `witness-data.json` (the data facts) when the witness
//! needs any, so that `govc eval DIR --input witness.json --data witness-data.json`
//! reproduces the finding. The protocol has no clipboard, and a `workspace/executeCommand`
//! runs on the server, which cannot reach the client's clipboard without extension code;
//! creating a file is a resource operation VS Code's client applies natively (it advertises
//! `workspace.workspaceEdit.resourceOperations: ["create", …]`). The files' names keep them
//! out of the package: only `*.gov` and `*.data.json` files belong to it.

use crate::analysis::Ctx;
use crate::state::file_path;
use serde_json::Value;
use tower_lsp_server::ls_types::{
    self as lsp, CodeAction, CodeActionKind, CodeActionOrCommand, CreateFile, CreateFileOptions,
    DiagnosticRelatedInformation, DocumentChangeOperation, DocumentChanges, Location, OneOf,
    OptionalVersionedTextDocumentIdentifier, Position, Range, ResourceOp, TextDocumentEdit, TextEdit, Uri,
    WorkspaceEdit,
};

/// The key of the witness in a diagnostic's `data`.
pub const KEY: &str = "witness";

/// The file the request is written to, beside the package.
pub const REQUEST_FILE: &str = "witness.json";

/// The file the data facts are written to, beside the package (not `*.data.json`, which
/// would join the package's data).
pub const DATA_FILE: &str = "witness-data.json";

/// How many characters of a witness document the related information shows.
const BRIEF: usize = 160;

/// A document in one line, cut after [`BRIEF`] characters.
fn brief(document: &Value) -> String {
    let text = document.to_string();
    match text.char_indices().nth(BRIEF) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text,
    }
}

/// Whether a witness's data document adds no facts.
fn no_data(data: &Value) -> bool {
    data.as_object().is_none_or(serde_json::Map::is_empty)
}

/// The witness as related information at `at` (the finding's place): the request, and the
/// data facts if it needs any.
pub fn related(witness: &gov_diag::Witness, at: &Location) -> Vec<DiagnosticRelatedInformation> {
    let mut out = vec![DiagnosticRelatedInformation {
        location: at.clone(),
        message: format!("witness request: {}", brief(&witness.input)),
    }];
    if !no_data(&witness.data) {
        out.push(DiagnosticRelatedInformation {
            location: at.clone(),
            message: format!("witness data (added to the package's): {}", brief(&witness.data)),
        });
    }
    out
}

/// "Copy the witness request" for a diagnostic whose `data` carries a witness, if the
/// client can create files and the package lies in a directory.
pub fn action(ctx: &Ctx<'_>, diagnostic: &lsp::Diagnostic) -> Option<CodeActionOrCommand> {
    if !ctx.state.options.create_files {
        return None;
    }
    let witness = diagnostic.data.as_ref()?.get(KEY)?;
    let input = witness.get("input").filter(|i| i.is_object())?;
    let dir = file_path(&ctx.uri)?.parent()?.to_path_buf();
    let mut operations = create(Uri::from_file_path(dir.join(REQUEST_FILE))?, input);
    let mut title = format!("Copy the witness request to `{REQUEST_FILE}`");
    if let Some(data) = witness.get("data").filter(|d| !no_data(d)) {
        operations.extend(create(Uri::from_file_path(dir.join(DATA_FILE))?, data));
        title.push_str(&format!(" and its data to `{DATA_FILE}`"));
    }
    Some(CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(WorkspaceEdit {
            document_changes: Some(DocumentChanges::Operations(operations)),
            ..WorkspaceEdit::default()
        }),
        ..CodeAction::default()
    }))
}

/// Creates (or empties) the file `uri` and writes `document` into it, pretty-printed.
fn create(uri: Uri, document: &Value) -> Vec<DocumentChangeOperation> {
    let mut text = serde_json::to_string_pretty(document).unwrap_or_else(|_| document.to_string());
    text.push('\n');
    let start = Range { start: Position::new(0, 0), end: Position::new(0, 0) };
    vec![
        DocumentChangeOperation::Op(ResourceOp::Create(CreateFile {
            uri: uri.clone(),
            options: Some(CreateFileOptions { overwrite: Some(true), ignore_if_exists: None }),
            annotation_id: None,
        })),
        DocumentChangeOperation::Edit(TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri, version: None },
            edits: vec![OneOf::Left(TextEdit { range: start, new_text: text })],
        }),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use serde_json::json;

    #[test]
    fn a_long_witness_is_cut_in_the_related_information_and_empty_data_is_left_out() {
        let location = Location { uri: "file:///p/a.gov".parse().unwrap(), range: Range::default() };
        let long = json!({ "order": [{ "customer": "é".repeat(300) }] });
        let cut = related(&gov_diag::Witness { input: long, data: json!({}) }, &location);
        assert_eq!(cut.len(), 1);
        let shown = cut[0].message.strip_prefix("witness request: ").unwrap();
        assert_eq!(shown.chars().count(), BRIEF + 1);
        assert!(shown.ends_with("é…"), "{shown}");
        let short = gov_diag::Witness { input: json!({"t": [{"x": 1}]}), data: json!({"d": [{"y": 2}]}) };
        let messages: Vec<String> = related(&short, &location).into_iter().map(|r| r.message).collect();
        assert_eq!(
            messages,
            ["witness request: {\"t\":[{\"x\":1}]}", "witness data (added to the package's): {\"d\":[{\"y\":2}]}"]
        );
    }
}
