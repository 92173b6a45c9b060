//! The tables made from constant arguments when a program loads (a regex's full DFAs, a
//! time zone's offsets): made once per process for each constant, shared by every engine
//! that prepares it, and counted so that a test can pin that deciding never makes one.
//!
//! A table takes milliseconds to make (~2 M instructions for a regex's DFAs, ~0.7 M for
//! a zone with summer time), which a request must never pay and which a process that
//! loads the same policy many times (`govc test`: an engine per test; the analysis: an
//! engine per witness) should pay once.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Most constants one kind of table keeps for the process; when full it is emptied (the
/// engines holding tables keep them), so a long-lived process that loads many different
/// policies holds a bounded number.
const MOST_KEPT: usize = 256;

thread_local! {
    /// How many tables this thread has made.
    static MADE: Cell<u64> = const { Cell::new(0) };
}

/// How many tables (a regex's DFAs, a time zone's offsets) the calling thread has made
/// since it started. Only preparing a constant ([`crate::prepare`], when a program loads)
/// makes one, and only the first time the process sees the constant: a test compares the
/// count before and after deciding to show that a decision never makes one.
pub fn tables_made() -> u64 {
    MADE.with(Cell::get)
}

/// The tables of one kind, by the constant's text.
pub(crate) struct Kept<T> {
    by_text: Mutex<Option<HashMap<String, Arc<T>>>>,
}

impl<T> Kept<T> {
    /// No tables yet.
    pub(crate) const fn new() -> Kept<T> {
        Kept { by_text: Mutex::new(None) }
    }

    /// The table of `text`: the one already made in this process, or else `make`'s
    /// (counted, and kept when it is made). Tables are made one at a time: a load that
    /// needs one waits for another thread's make, so no table is ever made twice at once.
    pub(crate) fn get_or_make(&self, text: &str, make: impl FnOnce() -> Result<T, String>) -> Result<Arc<T>, String> {
        // A thread that panicked while holding the lock left the map whole (an insert is
        // the only write), so a poisoned lock is still usable.
        let mut kept = self.by_text.lock().unwrap_or_else(PoisonError::into_inner);
        let map = kept.get_or_insert_with(HashMap::new);
        if let Some(table) = map.get(text) {
            return Ok(Arc::clone(table));
        }
        let table = Arc::new(make()?);
        MADE.with(|made| made.set(made.get() + 1));
        if map.len() >= MOST_KEPT {
            map.clear();
        }
        map.insert(text.to_owned(), Arc::clone(&table));
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_made_once_and_counted() {
        static KEPT: Kept<usize> = Kept::new();
        let before = tables_made();
        assert_eq!(KEPT.get_or_make("a", || Err("no".to_owned())), Err("no".to_owned()));
        assert_eq!(tables_made(), before, "a failure is not a table");
        let first = KEPT.get_or_make("a", || Ok(1));
        let again = KEPT.get_or_make("a", || Ok(2));
        assert_eq!((first, again), (Ok(Arc::new(1)), Ok(Arc::new(1))));
        assert_eq!(tables_made(), before + 1);
        for i in 0..MOST_KEPT + 1 {
            let _ = KEPT.get_or_make(&i.to_string(), || Ok(i));
        }
        let kept = KEPT.by_text.lock().map(|map| map.as_ref().map_or(0, HashMap::len)).unwrap_or(0);
        assert!(kept <= MOST_KEPT, "{kept} kept");
    }
}
