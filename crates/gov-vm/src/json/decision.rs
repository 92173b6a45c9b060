//! The decision document (DESIGN §5) written as compact JSON text straight into a string:
//! no `serde_json::Value` tree, no serialiser. Its bytes are those serde_json writes for
//! the same document (`the_text_is_what_serde_json_writes` and the property test check it),
//! so [`crate::Engine::decision_json`] is this text read back.

use crate::engine::Engine;
use crate::report::{Reason, Report};
use std::fmt::Write;
use std::ops::Range;

/// A decision document as compact JSON text, and where its `reasons` array lies in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionText {
    /// `{"decision":…,"reasons":[…],"approvers":[…],"obligations":[…],"risk":{"score":…,"contributions":[…]},"bundle":…}`,
    /// in that order, without whitespace.
    pub text: String,
    /// The byte range of the `reasons` array in `text`. Invariant: on `char` boundaries
    /// (it starts at a `[` and ends after a `]`).
    pub reasons: Range<usize>,
}

impl DecisionText {
    /// The text of the `reasons` array.
    pub fn reasons(&self) -> &str {
        self.text.get(self.reasons.clone()).unwrap_or("[]")
    }
}

/// The decision document of `report`, decided by `engine`, as JSON text.
pub fn decision_text(engine: &Engine, report: &Report) -> DecisionText {
    let guess = 160 + engine.hash().len() + (report.reasons.len() + report.obligations.len()) * 160;
    let mut out = String::with_capacity(guess);
    out.push_str("{\"decision\":\"");
    out.push_str(report.outcome.name());
    out.push_str("\",\"reasons\":");
    let start = out.len();
    reasons(&mut out, &report.reasons);
    let end = out.len();
    out.push_str(",\"approvers\":[");
    for (i, group) in report.approvers.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, group);
    }
    out.push_str("],\"obligations\":");
    reasons(&mut out, &report.obligations);
    out.push_str(",\"risk\":{\"score\":");
    push_int(&mut out, report.risk_score);
    out.push_str(",\"contributions\":[");
    for (i, c) in report.contributions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"rule\":");
        push_string(&mut out, &c.rule);
        out.push_str(",\"points\":");
        push_int(&mut out, c.points);
        out.push_str(",\"message\":");
        push_string(&mut out, &c.message);
        out.push_str(",\"at\":");
        push_string(&mut out, &c.at);
        out.push('}');
    }
    out.push_str("]},\"bundle\":");
    push_string(&mut out, engine.hash());
    out.push('}');
    DecisionText { text: out, reasons: start..end }
}

/// Appends `[{"rule":…,"effect":…,"message":…,"at":…},…]`.
fn reasons(out: &mut String, reasons: &[Reason]) {
    out.push('[');
    for (i, r) in reasons.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"rule\":");
        push_string(out, &r.rule);
        out.push_str(",\"effect\":\"");
        // An effect's keyword is a plain word: nothing to escape.
        out.push_str(r.effect.keyword());
        out.push_str("\",\"message\":");
        push_string(out, &r.message);
        out.push_str(",\"at\":");
        push_string(out, &r.at);
        out.push('}');
    }
    out.push(']');
}

/// Appends an integer as JSON writes it.
fn push_int(out: &mut String, value: i64) {
    // Writing into a String cannot fail.
    let _ = write!(out, "{value}");
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"` and `\`, the
/// control characters below U+0020 (`\b \t \n \f \r` by name, the others as `\u00xx` in
/// lower-case hex); everything else as it is (DEL and non-ASCII included).
pub fn push_string(out: &mut String, text: &str) {
    out.push('"');
    let mut rest = text;
    // Copies runs of characters that need no escape at once. Every byte that needs one is
    // ASCII, so the split points are `char` boundaries.
    while let Some(at) = rest.bytes().position(|b| b < 0x20 || b == b'"' || b == b'\\') {
        let (plain, tail) = rest.split_at(at);
        out.push_str(plain);
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\u{c}' => out.push_str("\\f"),
                '\r' => out.push_str("\\r"),
                other => {
                    let _ = write!(out, "\\u{:04x}", u32::from(other));
                }
            }
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out.push('"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for text in ["", "plain", "q\"uote", "back\\slash", "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}", "ü✓🦀\"é"]
        {
            let mut out = String::new();
            push_string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap());
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(text in any::<String>()) {
            let mut out = String::new();
            push_string(&mut out, &text);
            prop_assert_eq!(out, serde_json::to_string(&text).unwrap());
        }
    }
}
