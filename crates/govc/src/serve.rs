//! `govc serve`: the decision service (gov-serve) with the command line's flags.

use crate::cli::{FsyncMode, ServeArgs};
use crate::{Outcome, keys};
use gov_vm::Limits;

/// Runs the service until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> Outcome {
    let public_key = match args.public_key.as_deref().map(keys::read_public).transpose() {
        Ok(key) => key,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    };
    let signing_key = match args.log_key.as_deref().map(keys::read_secret).transpose() {
        Ok(key) => key,
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    };
    let fsync = match args.fsync {
        FsyncMode::Always => gov_audit::Fsync::Always,
        FsyncMode::Interval => gov_audit::Fsync::Interval(std::time::Duration::from_secs(1)),
    };
    let limits = Limits { max_request_bytes: args.max_request_bytes, ..args.limits.limits() };
    let source = gov_serve::Source { path: args.policy.clone(), data: args.data.clone(), public_key, limits };
    let mut config = gov_serve::Config::new(source, args.addr);
    config.tokens = args.tokens.clone();
    config.approval_timeout = args.approval_timeout;
    config.timeout = args.timeout;
    config.watch = (!args.watch.is_zero()).then_some(args.watch);
    config.history = args.history;
    config.tls = args.tls_cert.clone().zip(args.tls_key.clone());
    config.log = args.log.clone().map(|dir| (dir, gov_audit::LogOptions { fsync, signing_key, ..Default::default() }));
    match gov_serve::run(config) {
        Ok(()) => Outcome::Success,
        Err(message) => {
            eprintln!("error: {message}");
            Outcome::UsageError
        }
    }
}
