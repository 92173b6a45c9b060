//! The salsa database behind `govc check` and the language server.
//!
//! Inputs are source texts; queries parse each file (reusing its last parse, [`Parses`],
//! so an edit re-parses the items it touched), check a package (re-run only when a parse
//! result it read changed) and lower it to the IR for the back ends (only when one asks: [`package_ir`]).
//! For the editor, each file's line index, tokens and names are memoised too
//! ([`line_index`], [`file_tokens`], [`file_names`]), so a request reads them instead of
//! recomputing them. [`Workspace`] wraps the database with the operations its two users
//! need: set a package's files, edit one, check, render, look a file up.

mod editor;
pub mod names;
mod queries;
mod stdlib;
mod workspace;

pub use editor::{FileTokens, file_names, file_tokens, line_index};
pub use queries::{
    Checks, Database, Db, PackageInput, Parses, SourceInput, check_package, package_ir, parse_file, parsed_package,
};
pub use stdlib::{STDLIB, StdModule};
pub use workspace::{PackageId, Workspace};
