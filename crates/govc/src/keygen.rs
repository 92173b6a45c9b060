//! `govc keygen`.

use crate::cli::KeygenArgs;
use crate::{Outcome, keys, load, output};

/// Writes a new ed25519 secret key and its public key, and prints the public key.
pub fn run(args: &KeygenArgs) -> Outcome {
    let result = keys::generate().and_then(|secret| keys::write_pair(&args.output, &secret, args.force));
    match result {
        Ok(public) => {
            output::emit(&format!(
                "wrote the secret key to {} (keep it private) and the public key to {}\npublic key: {}\n",
                load::display(&args.output),
                load::display(&keys::public_path(&args.output)),
                keys::hex(&public)
            ));
            Outcome::Success
        }
        Err(message) => {
            eprintln!("error: {message}");
            Outcome::UsageError
        }
    }
}
