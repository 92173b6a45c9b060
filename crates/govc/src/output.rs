//! Printing diagnostics in the chosen format.

use crate::cli::{Color, Format};
use gov_diag::{Diagnostic, Sources};
use std::io::{IsTerminal, Write};

/// Writes `text` to standard output. A closed pipe (`govc … | head`) is not an error
/// worth a panic: the reader has what it wanted.
pub fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Whether to color output given the user's choice.
pub fn use_color(choice: Color) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Renders `diagnostics` in `format`; human output ends with a summary line.
pub fn render(format: Format, diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    match format {
        Format::Human => {
            let mut text = gov_diag::render_human(diagnostics, sources, color);
            text.push_str(&gov_diag::summary(diagnostics));
            text
        }
        Format::Json => gov_diag::render_json(diagnostics, sources) + "\n",
        Format::Sarif => gov_diag::render_sarif(diagnostics, sources, env!("CARGO_PKG_VERSION")) + "\n",
    }
}
