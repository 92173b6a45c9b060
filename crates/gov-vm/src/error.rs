//! The engine's errors.

/// Why a bundle could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// What kind of problem it is, for callers that react differently to each.
    pub kind: LoadErrorKind,
    /// Byte offset in the bundle where the problem was found.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl LoadError {
    /// A load error of `kind` at byte `offset`.
    pub fn new(kind: LoadErrorKind, offset: usize, message: impl Into<String>) -> LoadError {
        LoadError { kind, offset, message: message.into() }
    }
}

/// The kinds of [`LoadError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The bytes end before the header or a length says they do.
    Truncated,
    /// Not a Gov bundle: the first four bytes are not `GOVB`.
    BadMagic,
    /// A bundle format version this engine does not read.
    UnsupportedVersion,
    /// A header field the format does not allow (unknown flags, a reserved field not zero).
    BadHeader,
    /// The payload does not match its stored hash: corrupted or modified.
    HashMismatch,
    /// A signature was required and the bundle has none.
    Unsigned,
    /// The public key given to check the signature is not a usable ed25519 key.
    BadPublicKey,
    /// The signature does not verify against the public key.
    BadSignature,
    /// The payload cannot be decoded: an unknown tag, a count larger than the bytes left,
    /// a string that is not UTF-8, bytes left over.
    Malformed,
    /// The decoded program breaks a rule the validator checks (docs/bundle.md).
    Invalid,
    /// Evaluating the bundle's data at load failed (a limit, an overflow).
    Evaluation(EvalError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid bundle at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for LoadError {}

/// Why a program could not be written as a bundle: it holds something the format cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// A length or count that does not fit the format's 32 bits.
    TooLong {
        /// The length.
        len: usize,
    },
    /// An optional id equal to the value the format uses for "none".
    ReservedId {
        /// The id.
        id: u32,
    },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::TooLong { len } => {
                write!(f, "cannot write the bundle: a length of {len} is more than its format holds ({})", u32::MAX)
            }
            WriteError::ReservedId { id } => {
                write!(f, "cannot write the bundle: id {id} is the value its format uses for none")
            }
        }
    }
}

impl std::error::Error for WriteError {}

/// Why a request could not be read: the JSON path and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Where in the document, e.g. `transfer[0].amount` (empty for the whole document).
    pub path: String,
    /// What is wrong, e.g. `expected Int, found "6k"`.
    pub message: String,
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl std::error::Error for RequestError {}

/// Why evaluation stopped without a decision. An error is never an `allow`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// A configured limit was exceeded.
    Limit {
        /// Which limit.
        what: &'static str,
        /// Its value.
        limit: u64,
    },
    /// Arithmetic overflowed or divided by zero.
    Arithmetic(gov_value::ArithError),
    /// A value had the wrong type at run time (a bundle the compiler did not produce).
    Type(&'static str),
    /// The program refers to something that does not exist (a bundle the loader should
    /// have rejected).
    Corrupt(&'static str),
    /// A program given to [`crate::Engine::from_program`] breaks a rule of the bytecode
    /// that a bundle's loader checks ([`crate::bundle::validate`] says which).
    Invalid(String),
    /// The request breaks the request contract (a one-fact input with zero or several
    /// facts). [`crate::Engine::request_from_json`] reports this earlier, with its path.
    Request(RequestError),
    /// A built-in's result does not fit its type (as arithmetic overflow: the decision
    /// fails closed).
    Builtin {
        /// The built-in's name.
        name: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Limit { what, limit } => write!(f, "evaluation limit exceeded: more than {limit} {what}"),
            EvalError::Arithmetic(error) => write!(f, "{error} during evaluation"),
            EvalError::Type(what) => write!(f, "type error during evaluation: {what}"),
            EvalError::Corrupt(what) => write!(f, "corrupt program: {what}"),
            EvalError::Invalid(what) => write!(f, "invalid program: {what}"),
            EvalError::Request(error) => write!(f, "invalid request: {error}"),
            EvalError::Builtin { name, message } => write!(f, "`{name}` failed during evaluation: {message}"),
        }
    }
}

impl std::error::Error for EvalError {}
