//! The diagnostic value.

use crate::{Applicability, Code, Fix, Span};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The package is rejected.
    Error,
    /// The package is accepted; `--deny-warnings` turns these into failures.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A span with an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is there; may be empty.
    pub message: String,
}

/// One problem found in a policy.
///
/// Invariant: `primary` is where the problem is; `secondary` labels point at related places
/// (the first declaration of a duplicate, the rules of a cycle).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// The stable code, which also fixes the severity.
    pub code: Code,
    /// One line saying what is wrong.
    pub message: String,
    /// The main location.
    pub primary: Label,
    /// Related locations.
    pub secondary: Vec<Label>,
    /// How to fix it, when known (e.g. a did-you-mean).
    pub help: Option<String>,
    /// Further context.
    pub notes: Vec<String>,
    /// Edits that resolve the problem, best first (an editor prefers the first).
    pub fixes: Vec<Fix>,
    /// For a finding of the analysis: the request and data the engine ran to confirm it.
    pub witness: Option<Witness>,
}

/// A request and the data facts that show a finding of the analysis, each a JSON document
/// in the shape `govc eval --input` and `--data` read; the engine has run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// The request document.
    pub input: serde_json::Value,
    /// The data document (the facts the finding needs beyond the package's data files).
    pub data: serde_json::Value,
}

impl std::hash::Hash for Witness {
    /// JSON values are not `Hash`; their compact text is. Witnesses are built in one key
    /// order, so equal witnesses have equal texts.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.input.to_string().hash(state);
        self.data.to_string().hash(state);
    }
}

impl Diagnostic {
    /// Moves every location `by` bytes further on (a diagnostic found in one item's text,
    /// placed in its file).
    pub fn shift(&mut self, by: u32) {
        for label in std::iter::once(&mut self.primary).chain(&mut self.secondary) {
            label.span = label.span.shifted(by);
        }
        for edit in self.fixes.iter_mut().flat_map(|fix| &mut fix.edits) {
            edit.span = edit.span.shifted(by);
        }
    }

    /// A diagnostic with `code` and `message` at `span`; the primary label repeats nothing.
    pub fn new(code: Code, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label { span, message: String::new() },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
            fixes: Vec::new(),
            witness: None,
        }
    }

    /// Sets the primary label's text.
    pub fn with_primary_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label { span, message: message.into() });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line if `help` is `Some`.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Sets the help line unless one is set already (a did-you-mean comes first).
    pub fn or_help(mut self, help: impl Into<String>) -> Diagnostic {
        if self.help.is_none() {
            self.help = Some(help.into());
        }
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Attaches the witness of an analysis finding.
    pub fn with_witness(mut self, witness: Witness) -> Diagnostic {
        self.witness = Some(witness);
        self
    }

    /// Adds a fix.
    pub fn with_fix(mut self, fix: Fix) -> Diagnostic {
        self.fixes.push(fix);
        self
    }

    /// Adds fixes (none for `None`).
    pub fn with_fixes(mut self, fixes: impl IntoIterator<Item = Fix>) -> Diagnostic {
        self.fixes.extend(fixes);
        self
    }

    /// For a name at `span` that is not known, when `guess` is a known name close to it:
    /// the help line ``did you mean `guess`?`` and a fix (to review) that writes it instead.
    pub fn with_did_you_mean(self, span: Span, guess: Option<&str>) -> Diagnostic {
        match guess {
            Some(guess) => self.with_help(format!("did you mean `{guess}`?")).with_fix(Fix::replace(
                format!("Change to `{guess}`"),
                Applicability::NeedsReview,
                span,
                guess,
            )),
            None => self,
        }
    }

    /// The severity, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity
    }

    /// The key diagnostics are sorted by for output: file, position, code.
    pub fn sort_key(&self) -> (Span, &'static str) {
        (self.primary.span, self.code.id)
    }
}
