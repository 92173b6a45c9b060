//! Relation storage: append-only rows with set semantics and hash indexes.
//!
//! Rows live in one flat vector (`arity` values each). A hash table of row ids gives
//! deduplication; each index is a hash table from a key (the projection of a row on the
//! index's columns) to the newest row with that key, plus a per-row link to the previous
//! row with the same key. Nothing is allocated per row beyond the vectors' growth.
// `EvalError` owns strings in some variants, so it has a destructor: `ok_or(EvalError::…)`
// would build and drop an error on every successful lookup of the hot path (callgrind: 5 to
// 6% of a decision's instructions, docs/performance.md). `ok_or_else` builds it only on
// failure.
#![allow(clippy::unnecessary_lazy_evaluations)]

use crate::{EvalError, Value};
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher};

/// The hash of a row (or any run of values), as the store's tables use it: each value's
/// payload alone ([`Value::hash_payload`]; a column holds one type, so the variant adds
/// nothing), packed into as few multiplications as foldhash needs (two `Str` symbols or
/// one `Int` per 64 bits).
pub(crate) fn hash_values<'v>(values: impl Iterator<Item = &'v Value>) -> u64 {
    let mut hasher = foldhash::fast::FixedState::with_seed(0x9e37_79b9).build_hasher();
    for value in values {
        value.hash_payload(&mut hasher);
    }
    hasher.finish()
}

const NONE: u32 = u32::MAX;

/// Whether rows `a` and `b` agree on `columns` (`prefix`: the columns are `0, 1, …`, so the
/// rows' first values are compared as slices).
fn same_key(columns: &[usize], prefix: bool, a: &[Value], b: &[Value]) -> bool {
    if prefix {
        a.get(..columns.len()) == b.get(..columns.len())
    } else {
        columns.iter().all(|&c| a.get(c) == b.get(c))
    }
}

/// One index: rows by the values of some columns.
#[derive(Debug, Clone, Default)]
struct Index {
    columns: Vec<usize>,
    /// Whether `columns` is `0, 1, …`: a key is then a prefix of the row, compared as a
    /// slice.
    prefix: bool,
    /// The newest row of each key.
    heads: HashTable<u32>,
    /// For each row, the previous row with the same key (or `NONE`).
    previous: Vec<u32>,
}

/// The facts of one relation.
#[derive(Debug, Clone, Default)]
pub struct Relation {
    arity: usize,
    values: Vec<Value>,
    set: HashTable<u32>,
    indexes: Vec<Index>,
}

impl Relation {
    /// An empty relation of `arity` columns with the given indexes.
    pub fn new(arity: usize, indexes: &[Vec<u8>]) -> Relation {
        Relation {
            arity,
            values: Vec::new(),
            set: HashTable::new(),
            indexes: indexes
                .iter()
                .map(|cols| Index {
                    columns: cols.iter().map(|&c| c as usize).collect(),
                    prefix: cols.iter().enumerate().all(|(i, &c)| usize::from(c) == i),
                    ..Index::default()
                })
                .collect(),
        }
    }

    /// Makes room for `rows` more rows, so a bulk load does not rehash as it grows.
    pub fn reserve(&mut self, rows: usize) {
        self.values.reserve(rows.saturating_mul(self.arity));
        let (values, arity) = (&self.values, self.arity);
        let rehash = |&id: &u32| {
            hash_values(values.get(id as usize * arity..(id as usize + 1) * arity).unwrap_or_default().iter())
        };
        self.set.reserve(rows, rehash);
        for index in &mut self.indexes {
            index.previous.reserve(rows);
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.arity).unwrap_or(usize::from(!self.set.is_empty()))
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Row `row`'s values; `row` must be below [`Relation::len`].
    pub fn row(&self, row: u32) -> &[Value] {
        let start = row as usize * self.arity;
        let values = self.values.get(start..start + self.arity);
        // Invariant: every row id comes from this relation (`lookup`, `previous`, or a
        // range below `len`), and rows are only ever added, until `clear`, after which no
        // id of before is used. The empty slice for an id out of range is never seen.
        debug_assert!(values.is_some(), "row {row} of a relation of {} rows", self.len());
        values.unwrap_or_default()
    }

    /// Removes every row, keeping capacity.
    pub fn clear(&mut self) {
        self.values.clear();
        self.set.clear();
        for index in &mut self.indexes {
            index.heads.clear();
            index.previous.clear();
        }
    }

    /// Adds a row unless present; returns whether it was new. A row whose length is not
    /// the arity is an error, never dropped: the validator makes every `Emit` and data row
    /// as wide as its relation, so only a request made for another engine can have one.
    pub fn insert(&mut self, row: &[Value]) -> Result<bool, EvalError> {
        if row.len() != self.arity {
            return Err(EvalError::Corrupt("a fact has a different number of values than its relation has columns"));
        }
        let hash = hash_values(row.iter());
        let (values, arity) = (&self.values, self.arity);
        let same = |&id: &u32| values.get(id as usize * arity..(id as usize + 1) * arity) == Some(row);
        if self.set.find(hash, same).is_some() {
            return Ok(false);
        }
        // Row ids are `u32`, and `NONE` ends an index chain.
        let id = u32::try_from(self.len())
            .ok()
            .filter(|&id| id != NONE)
            .ok_or_else(|| EvalError::Limit { what: "facts in one relation", limit: u64::from(NONE) })?;
        self.values.extend_from_slice(row);
        let (values, arity) = (&self.values, self.arity);
        let rehash = |&id: &u32| {
            hash_values(values.get(id as usize * arity..(id as usize + 1) * arity).unwrap_or_default().iter())
        };
        self.set.insert_unique(hash, id, rehash);
        for index in &mut self.indexes {
            let key_hash = hash_values(index.columns.iter().filter_map(|&c| row.get(c)));
            let row_of = |id: u32| values.get(id as usize * arity..(id as usize + 1) * arity).unwrap_or_default();
            let (columns, prefix) = (&index.columns, index.prefix);
            let matches = |&head: &u32| same_key(columns, prefix, row_of(head), row);
            match index.heads.find_mut(key_hash, matches) {
                Some(head) => {
                    index.previous.push(*head);
                    *head = id;
                }
                None => {
                    index.previous.push(NONE);
                    let rehash = |&head: &u32| {
                        let row = row_of(head);
                        hash_values(columns.iter().filter_map(|&c| row.get(c)))
                    };
                    index.heads.insert_unique(key_hash, id, rehash);
                }
            }
        }
        Ok(true)
    }

    /// The newest row whose columns of index `index` equal `key`; follow with
    /// [`Relation::previous`].
    pub fn lookup(&self, index: usize, key: &[Value]) -> Option<u32> {
        let index_data = self.indexes.get(index)?;
        if index_data.columns.len() != key.len() {
            return None;
        }
        let hash = hash_values(key.iter());
        let matches = |&head: &u32| {
            let row = self.row(head);
            if index_data.prefix {
                row.get(..key.len()) == Some(key)
            } else {
                index_data.columns.iter().zip(key).all(|(&c, k)| row.get(c) == Some(k))
            }
        };
        index_data.heads.find(hash, matches).copied()
    }

    /// The next older row with the same key as `row` in index `index`.
    pub fn previous(&self, index: usize, row: u32) -> Option<u32> {
        let previous = *self.indexes.get(index)?.previous.get(row as usize)?;
        (previous != NONE).then_some(previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_and_indexes() {
        let mut relation = Relation::new(2, &[vec![0], vec![1, 0]]);
        assert!(relation.insert(&[Value::Int(1), Value::Int(2)]).unwrap());
        assert!(!relation.insert(&[Value::Int(1), Value::Int(2)]).unwrap());
        assert!(relation.insert(&[Value::Int(1), Value::Int(3)]).unwrap());
        assert!(relation.insert(&[Value::Int(4), Value::Int(3)]).unwrap());
        assert_eq!(relation.len(), 3);
        let mut rows = Vec::new();
        let mut at = relation.lookup(0, &[Value::Int(1)]);
        while let Some(row) = at {
            rows.push(relation.row(row).to_vec());
            at = relation.previous(0, row);
        }
        assert_eq!(rows, vec![vec![Value::Int(1), Value::Int(3)], vec![Value::Int(1), Value::Int(2)]]);
        assert_eq!(
            relation.lookup(1, &[Value::Int(3), Value::Int(4)]).map(|r| relation.row(r).to_vec()),
            Some(vec![Value::Int(4), Value::Int(3)])
        );
        assert!(relation.lookup(0, &[Value::Int(9)]).is_none());
        assert!(!relation.insert(&[Value::Int(4), Value::Int(3)]).unwrap());
        relation.clear();
        assert!(relation.is_empty());
    }

    /// A row of the wrong width is an error, not silently dropped.
    #[test]
    fn rows_of_the_wrong_width_are_errors() {
        let mut relation = Relation::new(2, &[vec![0]]);
        for row in [&[Value::Int(1)][..], &[Value::Int(1), Value::Int(2), Value::Int(3)], &[]] {
            assert!(matches!(relation.insert(row), Err(EvalError::Corrupt(_))), "{row:?}");
        }
        assert!(relation.is_empty());
        let mut nullary = Relation::new(0, &[]);
        assert!(nullary.insert(&[Value::Int(1)]).is_err());
        assert!(nullary.insert(&[]).unwrap());
        assert_eq!(nullary.row(0), &[]);
    }

    /// A row id from nowhere breaks the store's invariant: debug builds stop there.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "row 1 of a relation of 1 rows")]
    fn a_row_out_of_range_is_caught_in_debug_builds() {
        let mut relation = Relation::new(1, &[]);
        assert!(relation.insert(&[Value::Int(1)]).unwrap());
        let _ = relation.row(1);
    }
}
