//! The strings built-ins make while deciding a request: each text gets one symbol,
//! numbered after the program's and the request's own (`Work::made` holds the texts), and
//! a warm session makes them without allocating: the texts' buffers are kept from one
//! decision to the next, and what a call yields is gathered in one reused buffer before it
//! is interned.

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// The symbols of the made texts, by text, and the buffers of earlier decisions' texts.
#[derive(Debug, Default)]
pub(crate) struct MadeIds {
    /// The symbol of each made text, hashed with `hasher`.
    // Invariant: one entry per text of `Work::made`, whose symbol is `base` plus its index
    // there (the `base` that `find` and `insert` are given, fixed for a decision).
    ids: HashTable<u32>,
    /// Emptied text buffers, to hold the next decision's texts.
    spare: Vec<String>,
    /// The hasher of `ids`, randomly seeded: the texts come from requests.
    hasher: foldhash::fast::RandomState,
}

impl MadeIds {
    /// Forgets the made texts, keeping their buffers (a new decision).
    pub(crate) fn clear(&mut self, made: &mut Vec<String>) {
        self.ids.clear();
        self.spare.append(made);
    }

    /// The symbol of `text` if it was made already; symbols start at `base`.
    pub(crate) fn find(&self, made: &[String], base: usize, text: &str) -> Option<u32> {
        let at = |sym: &u32| made.get((*sym as usize).wrapping_sub(base)).map(String::as_str);
        self.ids.find(self.hasher.hash_one(text), |sym| at(sym) == Some(text)).copied()
    }

    /// Gives `text`, not made yet, the next symbol `sym` (`base` plus the number made).
    pub(crate) fn insert(&mut self, made: &mut Vec<String>, base: usize, sym: u32, text: &str) {
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.clear();
        buffer.push_str(text);
        made.push(buffer);
        let hasher = &self.hasher;
        let rehash = |sym: &u32| made.get((*sym as usize).wrapping_sub(base)).map_or(0, |t| hasher.hash_one(t));
        self.ids.insert_unique(hasher.hash_one(text), sym, rehash);
    }
}

/// What one call yielded that has no symbol yet: the texts, one after the other, and where
/// each goes among the call's values.
#[derive(Debug, Default)]
pub(crate) struct Fresh {
    /// The texts, concatenated.
    text: String,
    /// For each text: its slot among the values, and where it ends in `text`.
    ends: Vec<(usize, usize)>,
}

impl Fresh {
    /// Empties it for a call.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Records `text` for the value in `slot`.
    pub(crate) fn push(&mut self, slot: usize, text: &str) {
        self.text.push_str(text);
        self.ends.push((slot, self.text.len()));
    }

    /// Each text with its slot, in the order they were pushed.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends.iter().zip(starts).map(|(&(slot, end), start)| (slot, self.text.get(start..end).unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_once_and_buffers_reused() {
        let (mut ids, mut made) = (MadeIds::default(), Vec::new());
        for (i, text) in ["a", "bb", "c"].iter().enumerate() {
            assert_eq!(ids.find(&made, 10, text), None);
            ids.insert(&mut made, 10, 10 + i as u32, text);
        }
        assert_eq!(ids.find(&made, 10, "bb"), Some(11));
        ids.clear(&mut made);
        assert!(made.is_empty() && ids.find(&made, 10, "bb").is_none());
        ids.insert(&mut made, 20, 20, "z");
        assert_eq!((ids.find(&made, 20, "z"), made.len(), ids.spare.len()), (Some(20), 1, 2));
    }

    #[test]
    fn fresh_texts_keep_their_slots() {
        let mut fresh = Fresh::default();
        fresh.push(0, "ab");
        fresh.push(2, "");
        fresh.push(3, "c");
        assert_eq!(fresh.iter().collect::<Vec<_>>(), [(0, "ab"), (2, ""), (3, "c")]);
        fresh.clear();
        assert_eq!(fresh.iter().count(), 0);
    }
}
