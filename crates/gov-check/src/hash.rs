//! The checker's hash maps and sets: the standard ones with foldhash instead of SipHash.
//! Their keys are names, spans and indices from the files being checked, hashed hundreds
//! of thousands of times per check of a large package (a quarter of a keystroke's
//! instructions at 10 000 rules went to SipHash). Nothing the checker reports depends on
//! their order of iteration.

/// A [`std::collections::HashMap`] hashed with foldhash (build one with `default()`).
pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A [`std::collections::HashSet`] hashed with foldhash (build one with `default()`).
pub type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
