//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The Gov policy toolchain.
#[derive(Debug, Parser)]
#[command(name = "govc", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check packages for errors and warnings.
    Check(CheckArgs),
    /// Format `.gov` files in place (or check that they are formatted).
    Fmt(FmtArgs),
    /// Compile a package into a bundle.
    Build(BuildArgs),
    /// Decide a request against a package or a bundle and print the decision.
    Eval(EvalArgs),
}

/// Arguments of `govc build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The package: a directory of `.gov` files, or one file.
    pub package: PathBuf,
    /// Where to write the bundle.
    #[arg(short, long)]
    pub output: PathBuf,
    /// JSON files of data facts (in addition to the package's `*.data.json` files).
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Arguments of `govc eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A package (directory or `.gov` file) or a bundle (`.govb`).
    pub policy: PathBuf,
    /// The request's JSON file, or `-` for standard input.
    #[arg(long)]
    pub input: PathBuf,
    /// JSON files of data facts (packages only).
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Exit 1 unless the decision is `allow`.
    #[arg(long)]
    pub exit_code: bool,
    /// Add the derivation of each fired decision rule: the facts it matched and, for
    /// derived facts, the rule and facts behind them, recursively.
    #[arg(long)]
    pub explain: bool,
    /// Color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style text with source excerpts.
    Human,
    /// One JSON document.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// When to color human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    /// When printing to a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Arguments of `govc check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Packages to check: directories of `.gov` files, or single files.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Color human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Arguments of `govc fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files or directories (searched recursively for `.gov` files).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
    /// Color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}
