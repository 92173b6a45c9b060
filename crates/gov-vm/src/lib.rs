//! The Gov engine.
//!
//! Load a compiled bundle once, then decide requests from any number of threads:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("payments.govb")?;
//! let engine = gov_vm::Engine::load(&bytes)?;
//! let request = engine.request_from_json(
//!     r#"{"request_time": [{"at": "2026-03-03T15:10:00Z"}], "requested_by": [{"requester": "bot-1"}],
//!         "transfer": [{"agent": "bot-1", "amount": 6000, "to": "acct-9"}]}"#,
//! )?;
//! let decision = engine.decide(&request)?;
//! println!("{}", engine.decision_json(&request, &decision)?);
//! # Ok(())
//! # }
//! ```
//!
//! The engine knows nothing of Gov source: it runs the register code of a
//! [`program::Program`] (see docs/bytecode.md), read and validated from the bundle format
//! of [`bundle`] (see docs/bundle.md). Relations that depend only on the bundle's data are
//! computed once at load; each request computes only what its input facts reach.

pub mod bundle;
mod contract;
pub mod disasm;
mod dispatch;
mod document;
mod engine;
mod error;
mod eval;
mod exec;
pub mod explain;
mod guards;
pub mod json;
mod kernel;
mod layout;
mod limits;
mod made;
mod near_miss;
mod one;
pub mod program;
pub mod report;
mod store;
#[cfg(test)]
mod test_instr;
pub mod text;
mod value;

pub use disasm::disassemble;
pub use engine::{Decision, DecisionRef, Engine, Explained, MoreData, MoreDataError, Outcome, Request, Session};
pub use error::{EvalError, LoadError, LoadErrorKind, RequestError, WriteError};
pub use eval::{Firing, FiringRef, MAX_KEY};
pub use explain::Explanation;
pub use limits::{Limits, MAX_REQUEST_BYTES};
pub use near_miss::NearMiss;
pub use report::{Report, ValueText};
pub use value::{Strings, Value};
