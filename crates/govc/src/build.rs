//! `govc build`.

use crate::cli::BuildArgs;
use crate::{Outcome, load, output, package};

/// Compiles a package and writes its bundle.
pub fn run(args: &BuildArgs) -> Outcome {
    let program = match package::compile(&args.package, &args.data, args.color) {
        Ok(program) => program,
        Err(outcome) => return outcome,
    };
    let bytes = gov_vm::bundle::write(&program);
    if let Err(error) = std::fs::write(&args.output, &bytes) {
        eprintln!("error: cannot write `{}`: {error}", load::display(&args.output));
        return Outcome::UsageError;
    }
    let hash = gov_vm::bundle::read(&bytes).map(|b| b.hash).unwrap_or_default();
    output::emit(&format!("wrote {} ({} bytes, {hash})\n", load::display(&args.output), bytes.len()));
    Outcome::Success
}
