//! The last step of the pipeline: a compiled program becomes an engine the way `govc build`
//! then `govc eval` would make it, written as a bundle and loaded back, so the engine's
//! hash is the bundle's and the bundle reader and validator have seen what the compiler
//! emitted.

use gov_compile::CompileError;
use gov_vm::program::Program;
use gov_vm::{Engine, LoadError, WriteError};

/// Why a package's engine could not be made.
#[derive(Debug)]
pub enum EngineError {
    /// The compiler refused the package with its data (a data file that does not fit it).
    Compile(CompileError),
    /// The program holds something the bundle format cannot.
    Write(WriteError),
    /// The bundle did not load: the evaluation of its data at load failed
    /// ([`gov_vm::LoadErrorKind::Evaluation`]), or the compiler emitted what the reader
    /// refuses.
    Load(LoadError),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Compile(error) => error.fmt(f),
            EngineError::Write(error) => error.fmt(f),
            EngineError::Load(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for EngineError {}

/// The engine of a compiled program: written as a bundle and loaded. Requests are bounded
/// by [`gov_vm::Limits::default`] until [`Engine::with_limits`] says otherwise.
pub fn load(program: &Program) -> Result<Engine, EngineError> {
    let bytes = gov_vm::bundle::write(program).map_err(EngineError::Write)?;
    Engine::load(&bytes).map_err(EngineError::Load)
}
