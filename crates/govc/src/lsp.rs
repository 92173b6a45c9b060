//! `govc lsp`: the language server, on standard input and output.

use crate::Outcome;
use crate::cli::LspArgs;

/// Serves the Language Server Protocol until the editor says `exit` or closes the pipe.
pub fn run(_args: &LspArgs) -> Outcome {
    match gov_lsp::run_stdio() {
        Ok(()) => Outcome::Success,
        Err(error) => {
            eprintln!("error: the language server failed: {error}");
            Outcome::UsageError
        }
    }
}
