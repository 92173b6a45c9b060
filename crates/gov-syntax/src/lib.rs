//! The Gov language's syntax: lexer, parser, syntax tree and formatter.
//!
//! [`parse`] never fails: it returns the tree of everything that parsed and the
//! diagnostics for what did not, so the checker and the editor see the rest of a broken
//! file. This crate does no IO and knows nothing of salsa.

pub mod ast;
#[cfg(feature = "test-support")]
pub mod edits;
pub mod format;
pub mod lexer;
mod literal;
mod parser;
mod shift;
pub mod split;
pub mod suggest;
pub mod walk;
mod window;

pub use parser::{Parsed, Reusable, parse, reparse};

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        unused_qualifications,
        missing_docs
    )]
    grammar,
    "/gov.rs"
);
