//! `govc build`.

use crate::cli::BuildArgs;
use crate::{Outcome, keys, load, output, package};

/// Compiles a package and writes its bundle, signed if asked.
pub fn run(args: &BuildArgs) -> Outcome {
    let secret = match args.sign.as_deref().map(keys::read_secret).transpose() {
        Ok(secret) => secret,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    };
    let program = match package::compile(&args.package, &args.data, args.color) {
        Ok(program) => program,
        Err(outcome) => return outcome,
    };
    let bytes = match &secret {
        Some(secret) => gov_vm::bundle::write_signed(&program, secret),
        None => gov_vm::bundle::write(&program),
    };
    // Read it back before writing: a bundle the engine would refuse is a compiler bug.
    let hash = match gov_vm::bundle::read(&bytes) {
        Ok(bundle) => bundle.hash,
        Err(error) => {
            eprintln!("error: internal: the compiled bundle does not load ({error}); please report this");
            return Outcome::PolicyFailure;
        }
    };
    if let Err(error) = std::fs::write(&args.output, &bytes) {
        eprintln!("error: cannot write `{}`: {error}", load::display(&args.output));
        return Outcome::UsageError;
    }
    let signed =
        secret.map(|s| format!(", signed by {}", keys::hex(&gov_vm::bundle::public_key(&s)))).unwrap_or_default();
    output::emit(&format!("wrote {} ({} bytes, {hash}{signed})\n", load::display(&args.output), bytes.len()));
    Outcome::Success
}
