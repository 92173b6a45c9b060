//! Limits of the compiled form of a policy.
//!
//! The engine's bundle validator refuses a program beyond these limits, and the checker
//! reports source that would compile beyond them (`E0601`), so a package that checks clean
//! always builds. Both read them from here: one definition, no second guess.

/// Most instructions one rule may compile to.
///
/// The interpreter recurses once per instruction (each scan runs the rest of the rule per
/// row), using about 1.3 KiB of stack per level in a release build and 7 KiB in a debug
/// build: 128 keeps the deepest rule within 1 MiB in either, so evaluation fits a 2 MiB
/// spawned thread (the engine's `tests/bundle_fuzz.rs` checks). Real rules are far
/// shorter: about one instruction per body item, plus the head.
pub const MAX_RULE_LENGTH: usize = 128;

/// Most columns a relation may have: a column number is one byte in a bundle.
pub const MAX_COLUMNS: usize = 255;

/// Most columns of one index key, so most bound arguments of a negated atom (a negation
/// is one index lookup; a positive atom checks the columns beyond the key row by row).
pub const MAX_KEY: usize = 32;

// Invariant: registers are numbered by `u16`, and each instruction allocates at most one
// register per column it binds, so a rule within the limits never runs out of registers.
const _: () = assert!(MAX_RULE_LENGTH * MAX_COLUMNS <= u16::MAX as usize);
