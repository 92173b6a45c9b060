//! Renderings of diagnostics: human (ariadne), JSON and SARIF 2.1.0.

use crate::{Diagnostic, Edit, FileId, Fix, Label, LineIndex, Severity, Span, codes};
use ariadne::{Config, IndexType, Report, ReportKind};
use serde_json::{Value, json};

/// One source file as the renderers see it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name printed for the file (a path relative to where the tool runs).
    pub name: String,
    /// The file's text.
    pub text: String,
    /// Line starts of `text`.
    pub lines: LineIndex,
}

/// The files diagnostics may point into, indexed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile { name: name.into(), lines: LineIndex::new(&text), text });
        id
    }

    /// How many files there are; the next file added gets `FileId(len)`.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The file with `id`.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The name of `id`, or `<unknown>` for an id from another set.
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| f.name.as_str())
    }

    /// `file:line:col` of the start of `span`.
    pub fn location(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(file) => {
                let at = file.lines.line_col(&file.text, span.start);
                format!("{}:{}:{}", file.name, at.line, at.col)
            }
            None => "<unknown>".to_owned(),
        }
    }
}

/// Renders diagnostics as rustc-style text with labelled source excerpts.
pub fn render_human(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    let mut cache =
        ariadne::sources(sources.files.iter().map(|f| (f.name.clone(), f.text.clone())).collect::<Vec<_>>());
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let kind = match diagnostic.severity() {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let span = |s: Span| (sources.name(s.file).to_owned(), s.range());
        let mut report = Report::build(kind, span(diagnostic.primary.span))
            .with_config(Config::default().with_color(color).with_index_type(IndexType::Byte))
            .with_code(diagnostic.code.id)
            .with_message(&diagnostic.message);
        let whole_file = whole_file(diagnostic, sources);
        if !whole_file {
            // ariadne starts a new excerpt, headed by the primary location, whenever a label
            // lies above the one before it; ordering labels by position keeps one excerpt
            // per file, the primary's file first.
            let primary_file = diagnostic.primary.span.file;
            let mut labels: Vec<(&Label, bool)> = std::iter::once((&diagnostic.primary, true))
                .chain(diagnostic.secondary.iter().map(|l| (l, false)))
                .collect();
            labels.sort_by_key(|(l, _)| (l.span.file != primary_file, l.span.file, l.span.start, l.span.end));
            for (order, (l, is_primary)) in labels.into_iter().enumerate() {
                let mut label = ariadne::Label::new(span(l.span)).with_order(i32::try_from(order).unwrap_or(i32::MAX));
                if !l.message.is_empty() {
                    label = label.with_message(&l.message);
                }
                if color {
                    label = label.with_color(if is_primary { ariadne::Color::Red } else { ariadne::Color::Blue });
                }
                report.add_label(label);
            }
            if let Some(help) = &diagnostic.help {
                report.set_help(help);
            }
            for note in &diagnostic.notes {
                report.add_note(note);
            }
        }
        // Writing into a Vec cannot fail; a source missing from the cache only loses the
        // excerpt, so the header line is still printed below.
        let written = report.finish().write(&mut cache, &mut out);
        if written.is_ok() && whole_file {
            // Nothing to excerpt: ariadne printed the header line alone, the rest is ours.
            out.extend_from_slice(whole_file_box(diagnostic, sources).as_bytes());
        }
        if written.is_err() {
            out.extend_from_slice(
                format!("{}[{}]: {}\n", diagnostic.severity().as_str(), diagnostic.code.id, diagnostic.message)
                    .as_bytes(),
            );
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `diagnostic` is about a file or directory as a whole (an empty span in an empty
/// text, like "no `.gov` files"), so there is no excerpt to show.
fn whole_file(diagnostic: &Diagnostic, sources: &Sources) -> bool {
    let span = diagnostic.primary.span;
    diagnostic.secondary.is_empty()
        && span.start == span.end
        && sources.get(span.file).is_some_and(|f| f.text.is_empty())
}

/// The frame ariadne would draw around a report, with the file's name and no excerpt.
fn whole_file_box(diagnostic: &Diagnostic, sources: &Sources) -> String {
    let mut text = format!("   ╭─[ {} ]\n", sources.name(diagnostic.primary.span.file));
    for (kind, line) in diagnostic.help.iter().map(|h| ("Help", h)).chain(diagnostic.notes.iter().map(|n| ("Note", n)))
    {
        text.push_str(&format!("   │\n   │ {kind}: {line}\n"));
    }
    text.push_str("───╯\n");
    text
}

fn position(sources: &Sources, file: FileId, offset: u32) -> Value {
    match sources.get(file) {
        Some(f) => {
            let at = f.lines.line_col(&f.text, offset);
            json!({ "line": at.line, "column": at.col, "offset": offset })
        }
        None => json!({ "line": 0, "column": 0, "offset": offset }),
    }
}

fn label_json(label: &Label, sources: &Sources) -> Value {
    json!({
        "file": sources.name(label.span.file),
        "start": position(sources, label.span.file, label.span.start),
        "end": position(sources, label.span.file, label.span.end),
        "message": label.message,
    })
}

fn fix_json(fix: &Fix, sources: &Sources) -> Value {
    let edit = |e: &Edit| {
        json!({
            "file": sources.name(e.span.file),
            "start": position(sources, e.span.file, e.span.start),
            "end": position(sources, e.span.file, e.span.end),
            "replacement": e.replacement,
        })
    };
    json!({
        "message": fix.message,
        "applicability": fix.applicability.as_str(),
        "edits": fix.edits.iter().map(edit).collect::<Vec<_>>(),
    })
}

/// A witness as `{"input": {…}, "data": {…}}`.
fn witness_json(witness: &crate::Witness) -> Value {
    json!({ "input": witness.input, "data": witness.data })
}

/// Renders diagnostics as a JSON document: `{"diagnostics": [...], "errors": n, "warnings": n}`.
pub fn render_json(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut item = json!({
                "code": d.code.id,
                "severity": d.severity().as_str(),
                "message": d.message,
                "file": sources.name(d.primary.span.file),
                "start": position(sources, d.primary.span.file, d.primary.span.start),
                "end": position(sources, d.primary.span.file, d.primary.span.end),
                "labels": std::iter::once(&d.primary).chain(&d.secondary).map(|l| label_json(l, sources)).collect::<Vec<_>>(),
                "help": d.help,
                "notes": d.notes,
                "fixes": d.fixes.iter().map(|f| fix_json(f, sources)).collect::<Vec<_>>(),
                "docs": d.code.doc_path(),
            });
            if let (Some(witness), Some(object)) = (&d.witness, item.as_object_mut()) {
                object.insert("witness".to_owned(), witness_json(witness));
            }
            item
        })
        .collect();
    let count = |s: Severity| diagnostics.iter().filter(|d| d.severity() == s).count();
    let doc = json!({
        "diagnostics": items,
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn sarif_uri(file: FileId, sources: &Sources) -> String {
    sources.name(file).replace('\\', "/")
}

fn sarif_region(span: Span, sources: &Sources) -> Value {
    let (start, end) = match sources.get(span.file) {
        Some(f) => (f.lines.line_col(&f.text, span.start), f.lines.line_col(&f.text, span.end)),
        None => Default::default(),
    };
    json!({
        "startLine": start.line.max(1),
        "startColumn": start.col.max(1),
        "endLine": end.line.max(1),
        "endColumn": end.col.max(1),
        "charOffset": span.start,
        "charLength": span.end - span.start,
    })
}

fn sarif_location(span: Span, sources: &Sources, message: Option<&str>) -> Value {
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": sarif_uri(span.file, sources) },
            "region": sarif_region(span, sources),
        }
    });
    if let (Some(message), Some(object)) = (message.filter(|m| !m.is_empty()), location.as_object_mut()) {
        object.insert("message".to_owned(), json!({ "text": message }));
    }
    location
}

/// A fix as a SARIF `fix`: one `artifactChange` per file, in the order the files first appear.
fn sarif_fix(fix: &Fix, sources: &Sources) -> Value {
    let mut files: Vec<FileId> = Vec::new();
    for edit in &fix.edits {
        if !files.contains(&edit.span.file) {
            files.push(edit.span.file);
        }
    }
    let changes: Vec<Value> = files
        .into_iter()
        .map(|file| {
            let replacements: Vec<Value> = fix
                .edits
                .iter()
                .filter(|e| e.span.file == file)
                .map(|e| {
                    json!({
                        "deletedRegion": sarif_region(e.span, sources),
                        "insertedContent": { "text": e.replacement },
                    })
                })
                .collect();
            json!({ "artifactLocation": { "uri": sarif_uri(file, sources) }, "replacements": replacements })
        })
        .collect();
    json!({ "description": { "text": fix.message }, "artifactChanges": changes })
}

/// Renders diagnostics as a SARIF 2.1.0 log, as GitHub code scanning reads it.
pub fn render_sarif(diagnostics: &[Diagnostic], sources: &Sources, tool_version: &str) -> String {
    let rules: Vec<Value> = codes::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.id,
                "name": code.title,
                "shortDescription": { "text": code.title },
                "helpUri": format!("https://github.com/gov-lang/gov/blob/main/{}", code.doc_path()),
                "defaultConfiguration": { "level": sarif_level(code.severity) },
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let rule_index = codes::ALL.iter().position(|c| c.id == d.code.id);
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.code.id,
                "ruleIndex": rule_index,
                "level": sarif_level(d.severity()),
                "message": { "text": text },
                "locations": [sarif_location(d.primary.span, sources, None)],
                "relatedLocations": d.secondary.iter().enumerate().map(|(i, l)| {
                    let mut loc = sarif_location(l.span, sources, Some(&l.message));
                    if let Some(object) = loc.as_object_mut() {
                        object.insert("id".to_owned(), json!(i));
                    }
                    loc
                }).collect::<Vec<_>>(),
            });
            if let (Some(witness), Some(object)) = (&d.witness, result.as_object_mut()) {
                object.insert("properties".to_owned(), json!({ "witness": witness_json(witness) }));
            }
            if let (false, Some(object)) = (d.fixes.is_empty(), result.as_object_mut()) {
                let fixes: Vec<Value> = d.fixes.iter().map(|f| sarif_fix(f, sources)).collect();
                object.insert("fixes".to_owned(), json!(fixes));
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "govc",
                "version": tool_version,
                "informationUri": "https://github.com/gov-lang/gov",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The last line of human output: `2 errors and 1 warning found` or `no problems found`.
pub fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.severity() == Severity::Error).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => "no problems found\n".to_owned(),
        (e, 0) => format!("{} found\n", plural(e, "error")),
        (0, w) => format!("{} found\n", plural(w, "warning")),
        (e, w) => format!("{} and {} found\n", plural(e, "error"), plural(w, "warning")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{Span, Witness, codes};

    #[test]
    fn a_witness_is_in_json_and_sarif_and_only_where_there_is_one() {
        let mut sources = Sources::new();
        let file = sources.add("p.gov", "allow a.\ndeny d.\n");
        let witness = Witness { input: json!({"t": [{"x": 1}]}), data: json!({}) };
        let found = Diagnostic::new(codes::CONFLICT, "conflict", Span::new(file, 6, 7)).with_witness(witness);
        let plain = Diagnostic::new(codes::UNUSED_DECLARATION, "unused", Span::new(file, 0, 5));
        let diagnostics = [found, plain];
        let json: Value = serde_json::from_str(&render_json(&diagnostics, &sources)).unwrap();
        assert_eq!(json["diagnostics"][0]["witness"], json!({"input": {"t": [{"x": 1}]}, "data": {}}));
        assert!(json["diagnostics"][1].get("witness").is_none());
        let sarif: Value = serde_json::from_str(&render_sarif(&diagnostics, &sources, "0")).unwrap();
        let results = &sarif["runs"][0]["results"];
        assert_eq!(results[0]["properties"]["witness"]["input"]["t"][0]["x"], 1);
        assert!(results[1].get("properties").is_none());
    }
}
