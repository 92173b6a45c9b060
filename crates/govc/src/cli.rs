//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use gov_vm::Limits;
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
    /// Show a bundle's metadata, schemas, data counts, decision rules and disassembled code.
    Inspect(InspectArgs),
    /// Create an ed25519 key pair for signing bundles.
    Keygen(KeygenArgs),
    /// Run the tests written in packages, optionally measuring rule coverage.
    Test(TestArgs),
    /// Run the language server (LSP over standard input and output) for editors.
    Lsp(LspArgs),
    /// Serve decisions, approvals and the approver's inbox over HTTP (docs/serve.md).
    Serve(ServeArgs),
    /// Verify, show and search an audit log.
    Audit(AuditArgs),
    /// List the requests whose decision changes between two versions of a package, each
    /// with a witness both versions decided (exit 1 if any).
    Diff(DiffArgs),
}

/// Arguments of `govc diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old version: a package directory or `.gov` file. With --git: the package of the
    /// working tree to compare with its revision (default `.`).
    #[arg(value_name = "OLD|PATH", required_unless_present = "git")]
    pub old: Option<PathBuf>,
    /// The new version (not with --git).
    #[arg(required_unless_present = "git", conflicts_with = "git")]
    pub new: Option<PathBuf>,
    /// Compare the package at PATH in the working tree (new) with the same path at this git
    /// revision (old): a commit, branch, tag, `HEAD~1`, …
    #[arg(long, value_name = "REV")]
    pub git: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Exit 1 unless no decision can change: when a change was found, or when none could be
    /// ruled out (a gate for CI fails closed).
    #[arg(long)]
    pub exit_code: bool,
    /// Color the diagnostics of a package that does not check.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Output formats of `govc diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Lines for a terminal.
    Human,
    /// One JSON document.
    Json,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// Arguments of `govc serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A package (directory or `.gov` file) or a bundle (`.govb`).
    pub policy: PathBuf,
    /// JSON files of data facts (packages only).
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Refuse a bundle (at start and at each reload) unless it is signed by this key.
    #[arg(long, value_name = "PUBFILE")]
    pub public_key: Option<PathBuf>,
    /// Where to listen. Without --tokens, only a loopback address is accepted.
    #[arg(long, default_value = "127.0.0.1:8181")]
    pub addr: std::net::SocketAddr,
    /// The bearer tokens (JSON: name, sha256 of the token, scopes decide/approve/admin).
    /// Without it, only callers on this machine are served, each as the administrator.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// How long an escalation waits for approvers before it expires (deny).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = gov_serve::parse_duration)]
    pub approval_timeout: std::time::Duration,
    /// How long one decision or approval may take, logging included.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = gov_serve::parse_duration)]
    pub timeout: std::time::Duration,
    /// How often the policy's files are checked for changes ("0s": only on SIGHUP).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = gov_serve::parse_duration)]
    pub watch: std::time::Duration,
    /// How many decisions are kept in memory for lookups and the inbox's history.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub history: usize,
    /// Refuse a request body longer than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = gov_vm::MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,
    /// Write the audit log (one hash-chained JSON line per decision, approval and bundle
    /// load) in this directory; `govc audit verify DIR` checks it.
    #[arg(long, value_name = "DIR")]
    pub log: Option<PathBuf>,
    /// When the audit log reaches the disk: before each answer (`always`), or within a
    /// second (`interval`; an answered record survives the process being killed).
    #[arg(long, value_enum, default_value_t = FsyncMode::Always, requires = "log")]
    pub fsync: FsyncMode,
    /// Sign the audit log's checkpoints with this secret key file (see `govc keygen`).
    #[arg(long, value_name = "KEYFILE", requires = "log")]
    pub log_key: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Bounds on evaluating each request.
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// When `govc serve`'s audit log reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FsyncMode {
    /// Before each answer.
    Always,
    /// Within a second.
    Interval,
}

/// Arguments of `govc audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// What to do with the log.
    #[command(subcommand)]
    pub command: AuditCommand,
}

/// The subcommands of `govc audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check that the log is the unbroken chain its writer wrote, up to its head checkpoint;
    /// name the first edited, removed, inserted, reordered or truncated record (exit 1).
    Verify(AuditVerifyArgs),
    /// Print the records of one id: a decision and the approvals that answer it.
    Show(AuditShowArgs),
    /// Print the records that match every filter given, oldest first.
    Search(AuditSearchArgs),
}

/// Arguments of `govc audit verify`.
#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The log directory.
    pub dir: PathBuf,
    /// Check every checkpoint's signature against this public key file (`govc keygen`).
    #[arg(long, value_name = "PUBFILE")]
    pub public_key: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
}

/// Arguments of `govc audit show`.
#[derive(Debug, Args)]
pub struct AuditShowArgs {
    /// The decision id.
    pub id: String,
    /// The log directory.
    #[arg(long, value_name = "DIR", default_value = "audit")]
    pub log: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
}

/// Arguments of `govc audit search`.
#[derive(Debug, Args)]
pub struct AuditSearchArgs {
    /// The log directory.
    #[arg(long, value_name = "DIR", default_value = "audit")]
    pub log: PathBuf,
    /// Records whose request has a fact with this `agent`.
    #[arg(long)]
    pub agent: Option<String>,
    /// Records with this outcome (`allow`, `deny`, `escalate`).
    #[arg(long)]
    pub decision: Option<String>,
    /// Records of this kind (`decision`, `approval`, `bundle_load`, `checkpoint`,
    /// `recovery`); without it, checkpoints and recovery records are left out.
    #[arg(long)]
    pub kind: Option<String>,
    /// Records at or after this time: RFC 3339 (`2026-12-01T09:00:00Z`) or a duration ago
    /// (`24h`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Records before this time, in the same forms.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Print only the newest N matches.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
}

/// Output formats of `govc audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Readable text.
    Human,
    /// One JSON document.
    Json,
}

/// Arguments of `govc lsp`.
#[derive(Debug, Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; standard input and output are the only transport.
    #[arg(long)]
    pub stdio: bool,
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
    /// Sign the bundle with this secret key file (see `govc keygen`).
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
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
    /// Refuse a request longer than this many bytes (reading stops there).
    #[arg(long, value_name = "BYTES", default_value_t = gov_vm::MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,
    /// JSON files of data facts (packages only).
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Exit 1 unless the decision is `allow`.
    #[arg(long)]
    pub exit_code: bool,
    /// Refuse the bundle unless it is signed by the key in this public key file.
    #[arg(long, value_name = "PUBFILE")]
    pub public_key: Option<PathBuf>,
    /// Add the derivation of each fired decision rule: the facts it matched and, for
    /// derived facts, the rule and facts behind them, recursively.
    #[arg(long)]
    pub explain: bool,
    /// The decision as the contract's JSON document, or as text for people (with
    /// `--explain`, the derivation as an indented tree).
    #[arg(long, value_enum, default_value_t = EvalFormat::Json)]
    pub format: EvalFormat,
    /// Bounds on evaluating the request.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Output formats of `govc eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// The decision JSON of the contract (DESIGN §5).
    Json,
    /// Text for people: the decision, its reasons and, with `--explain`, the derivation tree.
    Human,
}

/// Bounds on evaluating one request (docs/reference.md, "Limits"); exceeding one is an
/// evaluation error, never a decision.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Most facts a request may derive, decision firings included.
    #[arg(long, value_name = "N", default_value_t = Limits::REQUEST.max_facts)]
    pub max_facts: usize,
    /// Most bytes (estimated) the facts of a request may take, its input included.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::REQUEST.max_fact_bytes)]
    pub max_fact_bytes: usize,
    /// Most instructions a request may execute.
    #[arg(long, value_name = "N", default_value_t = Limits::REQUEST.max_steps)]
    pub max_steps: u64,
    /// Most rounds one recursive relation may take to reach its fixpoint.
    #[arg(long, value_name = "N", default_value_t = Limits::REQUEST.max_rounds)]
    pub max_rounds: u32,
}

impl LimitArgs {
    /// The limits these flags ask for.
    pub fn limits(&self) -> Limits {
        Limits {
            max_facts: self.max_facts,
            max_fact_bytes: self.max_fact_bytes,
            max_steps: self.max_steps,
            max_rounds: self.max_rounds,
            ..Limits::default()
        }
    }
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
    /// Apply the safe fixes to the files first (listed on standard error), then report what
    /// remains.
    #[arg(long)]
    pub fix: bool,
    /// Also list, on standard error, each pair of rules and each rule the conflict analysis
    /// could not decide, with the reason (docs/analysis.md).
    #[arg(long)]
    pub analysis_report: bool,
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

/// Output formats of `govc test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// One line per test, failures in detail, a summary (like `cargo test`).
    Human,
    /// One JSON document with every result and the coverage.
    Json,
    /// JUnit XML, which CI systems read.
    Junit,
}

/// Arguments of `govc test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Packages (directories of `.gov` files, or single files), or directories searched
    /// recursively for packages.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Run only the tests whose name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,
    /// Report the decision rules and derivation rules that no test exercised.
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when fewer than P percent of the rules are exercised; implies
    /// `--coverage`.
    #[arg(long, value_name = "P")]
    pub coverage_threshold: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Bounds on evaluating each test's request.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Color human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Arguments of `govc inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The bundle (`.govb`).
    pub bundle: PathBuf,
    /// Refuse the bundle unless it is signed by the key in this public key file.
    #[arg(long, value_name = "PUBFILE")]
    pub public_key: Option<PathBuf>,
    /// `human`: everything, with the disassembly; `json`: the metadata, schemas and
    /// decision rules as one JSON document.
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    pub format: InspectFormat,
}

/// Output formats of `govc inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// Readable text, with the disassembly.
    Human,
    /// One JSON document, without the code.
    Json,
}

/// Arguments of `govc keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the secret key; the public key goes to the same path plus `.pub`.
    #[arg(short, long, value_name = "KEYFILE")]
    pub output: PathBuf,
    /// Replace existing key files.
    #[arg(long)]
    pub force: bool,
}
