//! `govc build`.

use crate::cli::BuildArgs;
use crate::{Outcome, keys, load, output, package};
use gov_driver::fs::Disk;
use gov_driver::walk;

/// Why the bundle must not be written to `-o`: it names a file the build reads (a source
/// or data file of the package, a `--data` file or the `--sign` key), through whatever path
/// or link, or it is named like a source or data file (of this package or another).
fn output_problem(args: &BuildArgs) -> Option<String> {
    let shown = load::display(&args.output);
    if walk::is_source(&args.output) || walk::is_data(&args.output) {
        return Some(format!("`{shown}` is named like a source or data file; refusing to write a bundle there"));
    }
    // A package that cannot be listed has no files here; compiling reports why.
    let files = gov_driver::load::files(&Disk, &args.package).ok()?;
    let mut inputs =
        files.sources.into_iter().chain(files.data).chain(args.data.iter().cloned()).chain(args.sign.clone());
    let input = inputs.find(|input| same_file::is_same_file(input, &args.output).unwrap_or(false))?;
    Some(format!("`{shown}` is `{}`, which the build reads; refusing to overwrite it", load::display(&input)))
}

/// Compiles a package and writes its bundle, signed if asked.
pub fn run(args: &BuildArgs) -> Outcome {
    let secret = match args.sign.as_deref().map(keys::read_secret).transpose() {
        Ok(secret) => secret,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    };
    if let Some(problem) = output_problem(args) {
        eprintln!("error: {problem} (choose another -o)");
        return Outcome::UsageError;
    }
    let program = match package::compile(&args.package, &args.data, args.color) {
        Ok(program) => program,
        Err(outcome) => return outcome,
    };
    let written = match &secret {
        Some(secret) => gov_vm::bundle::write_signed(&program, secret),
        None => gov_vm::bundle::write(&program),
    };
    let bytes = match written {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: `{}`: {error}", load::display(&args.package));
            return Outcome::PolicyFailure;
        }
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
