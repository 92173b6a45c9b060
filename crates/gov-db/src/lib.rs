//! The salsa database behind `govc check` and the language server.
//!
//! Inputs are source texts; queries parse each file (memoised per file, so an edit
//! re-parses one file), check a package (re-run only when a parse result it read
//! changed) and lower it to the IR for the back ends (only when one asks). [`Workspace`] wraps the database with the operations its two users need:
//! set a package's files, edit one, check, render.

mod queries;
mod stdlib;
mod workspace;

pub use queries::{Database, PackageInput, SourceInput, check_package, package_ir, package_program, parse_file};
pub use stdlib::{STDLIB, StdModule};
pub use workspace::{PackageId, Workspace};
