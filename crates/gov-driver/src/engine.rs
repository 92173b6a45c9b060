//! The last step of the pipeline: a compiled program becomes an engine the way `govc build`
//! then `govc eval` would make it, written as a bundle and loaded back, so the engine's
//! hash is the bundle's and the bundle reader and validator have seen what the compiler
//! emitted.

use gov_compile::CompileError;
use gov_value::RelationKind;
use gov_vm::json::Document;
use gov_vm::program::Program;
use gov_vm::{Engine, EvalError, Limits, LoadError, LoadErrorKind, WriteError};

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

/// The engine of a compiled `program` with the facts of `documents` added to its data, as if
/// they were more data files given to the compiler, without compiling the package again:
/// each document is read by the engine's data reader against the program's declarations (a
/// relation not declared as data, a value of the wrong type: [`EngineError::Compile`] with
/// [`CompileError::Data`] naming the document and the JSON path, as the compiler reports a
/// data file), its strings are added to the program's table, its lists and objects get the
/// program's identifiers for contents it holds and new ones above them otherwise, and the
/// program with the whole data is validated and its data-only relations evaluated as a
/// loaded bundle's are ([`Engine::from_program`]: a refusal is [`EngineError::Load`], of
/// kind `Invalid` or `Evaluation`). The engine has no bundle, so its [`Engine::hash`] is
/// empty.
pub fn with_data(program: &Program, documents: &[(String, Document)]) -> Result<Engine, EngineError> {
    let mut strings = gov_vm::program::StringTable::of(program);
    let mut ids = gov_vm::json::Ids::continuing(program);
    let mut facts = program.data.clone();
    for (file, document) in documents {
        let more = gov_vm::json::facts(program, document, RelationKind::Data, &mut |s| strings.intern(s), &mut ids)
            .map_err(|error| EngineError::Compile(CompileError::Data { file: file.clone(), error }))?;
        facts.extend(more);
    }
    let data = gov_vm::program::data_groups(&program.relations, facts).map_err(refused)?;
    let program = Program { strings: strings.into_table(), data, ..program.clone() };
    Engine::from_program(program, String::new(), Limits::LOAD).map_err(refused)
}

/// A program [`with_data`] made that the engine refuses, as the error a bundle of it gives.
fn refused(error: EvalError) -> EngineError {
    EngineError::Load(match error {
        EvalError::Invalid(message) => LoadError::new(LoadErrorKind::Invalid, 0, format!("invalid program: {message}")),
        error => {
            let message = format!("evaluating the data failed: {error}");
            LoadError::new(LoadErrorKind::Evaluation(error), 0, message)
        }
    })
}
