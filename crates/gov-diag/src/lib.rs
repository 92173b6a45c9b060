//! The diagnostic model of Gov and its renderings.
//!
//! Every crate that reports a problem in a policy (the parser, the checker, later the
//! analyses) builds [`Diagnostic`]s with a stable [`Code`] from [`codes`]; the CLI and the
//! language server turn them into text, JSON, SARIF or LSP messages. Nothing here does IO:
//! renderers take the sources as values and return strings.

pub mod codes;
mod diagnostic;
pub mod fix;
mod line_index;
mod render;
mod span;

pub use codes::Code;
pub use diagnostic::{Diagnostic, Label, Severity, Witness};
pub use fix::{Applicability, Edit, Fix};
pub use line_index::{LineCol, LineIndex};
pub use render::{SourceFile, Sources, render_human, render_json, render_sarif, summary};
pub use span::{FileId, Span};
