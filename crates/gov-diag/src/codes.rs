//! The registry of diagnostic codes.
//!
//! Codes are stable: once released, a code keeps its meaning forever. Errors are `E`,
//! warnings `W`; the first two digits group them (00 syntax and files, 01 names, 02 types,
//! 03 safety, 04 stratification, 05 tests, 06 limits of the compiled form, 07 the analysis
//! of what rules can do together). Every code has a section in
//! `docs/diagnostics.md` and a fixture in `tests/check/` (a tidy test enforces both).

use crate::Severity;

/// A stable diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    /// The code as printed, e.g. `E0101`.
    pub id: &'static str,
    /// Whether diagnostics with this code are errors or warnings.
    pub severity: Severity,
    /// A short description, the heading of its section in `docs/diagnostics.md`.
    pub title: &'static str,
}

impl Code {
    /// Where the code is documented, relative to the repository root.
    pub fn doc_path(&self) -> String {
        format!("docs/diagnostics.md#{}", self.id.to_ascii_lowercase())
    }
}

macro_rules! codes {
    ($($name:ident = $id:literal, $severity:ident, $title:literal;)*) => {
        $(
            #[doc = $title]
            pub const $name: Code = Code { id: $id, severity: Severity::$severity, title: $title };
        )*
        /// Every code, in order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    SYNTAX = "E0001", Error, "syntax error";
    MISSING_TERMINATOR = "E0002", Error, "missing `.` at the end of an item";
    LEXICAL = "E0003", Error, "invalid token";
    INVALID_LITERAL = "E0004", Error, "invalid literal";
    TOO_DEEP = "E0005", Error, "nesting too deep";
    NOT_UTF8 = "E0006", Error, "file is not UTF-8";
    NO_SOURCES = "E0007", Error, "no `.gov` files";
    PACKAGE_NAME = "E0008", Error, "missing or inconsistent `package` declaration";
    UNKNOWN_RELATION = "E0101", Error, "unknown relation";
    UNKNOWN_TYPE = "E0102", Error, "unknown type";
    UNKNOWN_MODULE = "E0103", Error, "unknown module";
    UNKNOWN_FIELD = "E0104", Error, "unknown field";
    DUPLICATE_DECLARATION = "E0105", Error, "duplicate declaration";
    DUPLICATE_RULE_NAME = "E0106", Error, "duplicate rule name";
    UNKNOWN_RULE = "E0107", Error, "unknown rule";
    UNKNOWN_ANNOTATION = "E0108", Error, "unknown annotation";
    DERIVES_BASE_RELATION = "E0109", Error, "rule derives an input or data relation";
    DUPLICATE_FIELD = "E0110", Error, "field given twice";
    ONE_NOT_INPUT = "E0111", Error, "`one` on a relation that is not an input";
    UNKNOWN_BUILTIN = "E0112", Error, "unknown built-in";
    UNKNOWN_MEMBER = "E0113", Error, "unknown member of an object field";
    ARITY = "E0201", Error, "wrong number of arguments";
    TYPE_MISMATCH = "E0202", Error, "type mismatch";
    BAD_OPERATOR = "E0203", Error, "operator not defined for these types";
    BAD_AGGREGATE = "E0204", Error, "aggregate over a non-numeric value";
    UNINFERRED_TYPE = "E0205", Error, "type cannot be inferred";
    BUILTIN_OUTPUT = "E0206", Error, "built-in used where its result does not fit";
    COMPOUND_MISUSE = "E0207", Error, "list or object used where it cannot be";
    UNSAFE_HEAD = "E0301", Error, "unsafe variable in a rule head";
    UNSAFE_NEGATION = "E0302", Error, "unsafe variable in a negation";
    UNSAFE_COMPARISON = "E0303", Error, "unsafe variable in a comparison or arithmetic";
    UNSAFE_MESSAGE = "E0304", Error, "unsafe variable in a message";
    UNSAFE_BUILTIN_ARGUMENT = "E0305", Error, "unsafe variable in a built-in's argument";
    NEGATION_CYCLE = "E0401", Error, "negation through recursion";
    AGGREGATE_CYCLE = "E0402", Error, "aggregate through recursion";
    ARITHMETIC_IN_RECURSION = "E0403", Error, "arithmetic invents values inside recursion";
    TEST_NOT_A_FACT = "E0501", Error, "`given` fact is not a ground input or data fact";
    DUPLICATE_TEST = "E0502", Error, "duplicate test name";
    INVALID_EXPECTATION = "E0503", Error, "invalid expectation";
    UNKNOWN_FIXTURE = "E0504", Error, "unknown fixture";
    DUPLICATE_FIXTURE = "E0505", Error, "duplicate fixture name";
    TOO_LARGE = "E0601", Error, "too large to compile";
    INVARIANT_BROKEN = "E0701", Error, "an invariant the engine breaks on a request";
    DUPLICATE_INVARIANT = "E0702", Error, "duplicate invariant name";
    UNUSED_DECLARATION = "W0101", Warning, "unused declaration";
    SINGLETON_VARIABLE = "W0102", Warning, "variable used only once";
    UNUSED_IMPORT = "W0103", Warning, "unused `use`";
    EQUALS_IS_NOT_A_GLOB = "W0201", Warning, "`*` in a string matched exactly";
    CONFLICT = "W0701", Warning, "an allow and a deny or escalate can fire on one request";
    STALE_OVERRIDE = "W0702", Warning, "`@overrides` names an allow that never overlaps";
    DEAD_RULE = "W0703", Warning, "a rule whose conditions can never all hold";
    SHADOWED_ALLOW = "W0704", Warning, "an allow that a deny or escalate overrules wherever it fires";
    SUBSUMED_RULE = "W0705", Warning, "a decision rule another of the same effect covers";
    UNREACHABLE_RELATION = "W0706", Warning, "a relation no decision rule reaches";
    INVARIANT_UNKNOWN = "W0707", Warning, "an invariant the analysis can neither prove nor break";
}

/// Looks a code up by its id (`E0101`).
pub fn by_id(id: &str) -> Option<Code> {
    ALL.iter().copied().find(|code| code.id == id)
}
