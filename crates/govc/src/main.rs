//! `govc`, the Gov toolchain. Each subcommand lives in its own module; this file only
//! parses arguments and turns outcomes into exit codes (0 success, 1 policy failure,
//! 2 usage or IO error).

mod audit;
mod build;
mod check;
mod cli;
mod diff;
mod eval;
mod fix;
mod fmt;
mod git;
mod inspect;
mod keygen;
mod keys;
mod load;
mod lsp;
mod output;
mod package;
mod serve;
mod test;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the service's allocations cross threads (a request's buffers are freed by
/// the audit log's writer); glibc's arenas made that contended (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What a command concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed.
    Success,
    /// The policy has problems (errors found, files not formatted, …).
    PolicyFailure,
    /// Bad arguments or unreadable files.
    UsageError,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.command {
        cli::Command::Check(args) => check::run(&args),
        cli::Command::Fmt(args) => fmt::run(&args),
        cli::Command::Build(args) => build::run(&args),
        cli::Command::Eval(args) => eval::run(&args),
        cli::Command::Inspect(args) => inspect::run(&args),
        cli::Command::Keygen(args) => keygen::run(&args),
        cli::Command::Test(args) => test::run(&args),
        cli::Command::Lsp(args) => lsp::run(&args),
        cli::Command::Serve(args) => serve::run(&args),
        cli::Command::Audit(args) => audit::run(&args),
        cli::Command::Diff(args) => diff::run(&args),
    };
    ExitCode::from(match outcome {
        Outcome::Success => 0,
        Outcome::PolicyFailure => 1,
        Outcome::UsageError => 2,
    })
}
