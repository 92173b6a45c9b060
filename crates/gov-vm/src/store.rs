//! Relation storage: append-only rows with set semantics and hash indexes.
//!
//! Rows live in one flat byte vector, laid out by column type ([`Layout`]: an `Int` 8
//! bytes, a `Str` symbol 4, a `Bool` 1, a `Decimal` 16), so a row of two `Int`s is 16
//! bytes. A hash table of row ids (each with its row's hash) gives deduplication; each
//! index is a hash table from a key (the projection of a row on the index's columns) to
//! the newest row with that key (with the key's hash), plus a per-row link to the previous
//! row with the same key; an index whose key is the whole row is the dedup set itself
//! (a lookup of a fact, `reach(x, y)` with both bound). Rows and keys are hashed and compared as byte slices (a
//! `Decimal` column by number, see [`Layout`]). Nothing is allocated per row beyond the
//! vectors' growth.
// `EvalError` owns strings in some variants, so it has a destructor: `ok_or(EvalError::…)`
// would build and drop an error on every successful lookup of the hot path (callgrind: 5 to
// 6% of a decision's instructions, docs/performance.md). `ok_or_else` builds it only on
// failure.
#![allow(clippy::unnecessary_lazy_evaluations)]

use crate::exec::Pair;
use crate::layout::{Layout, hash_bytes};
use crate::{EvalError, Value};
use gov_value::BaseType;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;

/// The hash of a run of values (firings, aggregate bindings, dispatch keys: what is not a
/// stored row): each value's payload as 64 bits ([`Value::payload_bits`]; where it is used,
/// a position holds one type, so the variant adds nothing), two to a foldhash
/// multiplication.
#[inline]
pub(crate) fn hash_values(values: impl Iterator<Item = Value>) -> u64 {
    let mut hasher = foldhash::fast::FixedState::with_seed(0x9e37_79b9).build_hasher();
    for value in values {
        hasher.write_u64(value.payload_bits());
    }
    hasher.finish()
}

const NONE: u32 = u32::MAX;

/// An entry of a relation's tables: a row id, and 32 bits of the hash of the row (of the
/// set) or of its key (of an index). With the hash at hand, growing a table never reads a
/// row again. (A probe does not compare it: hashbrown's 7-bit tag already leaves a row read
/// for nothing once in 128 probes, and a decision's lookups mostly find their row.)
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: u32,
    hash: u32,
}

/// The 32 bits a [`Slot`] keeps of a hash (foldhash's last step mixes every bit).
fn short(hash: u64) -> u32 {
    hash as u32
}

/// The hash a table is given for a [`Slot`]'s: hashbrown picks the bucket from the low bits
/// and a tag from the top seven, so the 32 bits fill both halves.
fn spread(hash: u32) -> u64 {
    (u64::from(hash) << 32) | u64::from(hash)
}

/// The hash of a slot, for a table that grows.
fn slot_hash(slot: &Slot) -> u64 {
    spread(slot.hash)
}

/// The bytes of row `id` in `bytes` (rows of `width` bytes each).
#[inline(always)]
fn row_at(bytes: &[u8], width: usize, id: u32) -> &[u8] {
    let start = id as usize * width;
    // Invariant: every row id comes from the relation that holds `bytes` (a table, a chain,
    // or a range below its length); the empty slice of an id out of range is never seen.
    bytes.get(start..start + width).unwrap_or_default()
}

/// Whether `a` and `b` are the same bytes: inline word comparisons for the short slices of
/// rows and keys (up to 16 bytes: two overlapping 8-byte words), rather than a call of
/// `memcmp`.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| s.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok());
    let half = |s: &[u8], at: usize| s.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok());
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// Some columns of a relation as a key: of an index, or all of them (the dedup set).
#[derive(Debug, Clone, Default)]
struct Key {
    columns: Vec<usize>,
    /// When the columns are neighbours in order (`c, c + 1, …`, a prefix of the row or one
    /// column alone) and none is a `Decimal`: the bytes of a row that are its key, which is
    /// then hashed and compared as that slice of the row.
    slice: Option<Range<usize>>,
    /// No column is a `Decimal`: keys compare as bytes.
    exact: bool,
    /// Each column's bytes in a row, in key order.
    spans: Vec<Range<usize>>,
}

impl Key {
    fn new(layout: &Layout, columns: Vec<usize>) -> Key {
        let exact = layout.exact_on(&columns);
        let spans: Vec<Range<usize>> = columns.iter().filter_map(|&c| layout.span(c)).collect();
        let neighbours = spans.windows(2).all(|pair| pair.first().map(|s| s.end) == pair.get(1).map(|s| s.start));
        let slice = (exact && neighbours && spans.len() == columns.len())
            .then(|| spans.first().map_or(0, |s| s.start)..spans.last().map_or(0, |s| s.end));
        Key { columns, slice, exact, spans }
    }

    /// The hash of `row`'s key (`scratch` holds the key's bytes when they are not a slice
    /// of the row).
    #[inline(always)]
    fn hash_of_row(&self, layout: &Layout, row: &[u8], scratch: &mut Vec<u8>) -> u32 {
        if let Some(slice) = &self.slice {
            return short(hash_bytes(row.get(slice.clone()).unwrap_or_default()));
        }
        scratch.clear();
        if self.exact {
            self.spans.iter().for_each(|s| scratch.extend_from_slice(row.get(s.clone()).unwrap_or_default()));
        } else {
            layout.canonical(row, &self.columns, scratch);
        }
        short(hash_bytes(scratch))
    }

    /// Whether rows `a` and `b` have the same key.
    #[inline]
    fn rows_agree(&self, layout: &Layout, a: &[u8], b: &[u8]) -> bool {
        if let Some(slice) = &self.slice {
            return same_bytes(a.get(slice.clone()).unwrap_or_default(), b.get(slice.clone()).unwrap_or_default());
        }
        if self.exact {
            self.spans
                .iter()
                .all(|s| same_bytes(a.get(s.clone()).unwrap_or_default(), b.get(s.clone()).unwrap_or_default()))
        } else {
            layout.same_values(a, b, self.columns.iter().copied())
        }
    }

    /// Whether `row` has the key whose values are `key` and whose canonical bytes are
    /// `bytes`.
    #[inline]
    fn matches<K: KeyValues + ?Sized>(&self, layout: &Layout, row: &[u8], bytes: &[u8], key: &K) -> bool {
        if let Some(slice) = &self.slice {
            return same_bytes(row.get(slice.clone()).unwrap_or_default(), bytes);
        }
        if self.exact {
            let mut at = 0;
            self.spans.iter().all(|s| {
                let width = s.len();
                let same = row.get(s.clone()) == bytes.get(at..at + width);
                at += width;
                same
            })
        } else {
            let mut at = 0;
            self.columns.iter().all(|&c| {
                let same = key.value(at).ok().is_some_and(|k| layout.value(row, c) == Some(k));
                at += 1;
                same
            })
        }
    }
}

/// The values of a key to probe an index with, by position in the index's columns.
pub(crate) trait KeyValues {
    /// How many values the key has.
    fn len(&self) -> usize;
    /// The value at `at` (below [`KeyValues::len`]); an error past the key or its frame.
    fn value(&self, at: usize) -> Result<Value, EvalError>;
}

impl KeyValues for [Value] {
    #[inline(always)]
    fn len(&self) -> usize {
        <[Value]>::len(self)
    }

    #[inline(always)]
    fn value(&self, at: usize) -> Result<Value, EvalError> {
        self.get(at).copied().ok_or_else(|| EvalError::Corrupt("index key too short"))
    }
}

/// A key held in a rule's frame: the slot of each index column's value.
struct Slots<'k> {
    frame: &'k [Value],
    key: &'k [Pair],
}

impl KeyValues for Slots<'_> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.key.len()
    }

    #[inline(always)]
    fn value(&self, at: usize) -> Result<Value, EvalError> {
        let slot = self.key.get(at).map(|&(_, slot)| slot as usize);
        slot.and_then(|s| self.frame.get(s)).copied().ok_or_else(|| EvalError::Corrupt("register out of range"))
    }
}

/// One index: rows by the values of some columns.
#[derive(Debug, Clone, Default)]
struct Index {
    key: Key,
    /// The key is the whole row, in column order: the relation's dedup set answers its
    /// lookups, so a new row pays nothing for it.
    // Invariant: when set, `heads` and `previous` stay empty (a whole row is one row at
    // most, so there is no chain to follow).
    whole: bool,
    /// The newest row of each key.
    heads: HashTable<Slot>,
    /// For each row, the previous row with the same key (or `NONE`).
    previous: Vec<u32>,
}

/// A stored row, read column by column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'r> {
    layout: &'r Layout,
    bytes: &'r [u8],
}

/// What a scan reads a row through: a stored [`Row`], or a row of values (an `input one`
/// relation's).
pub(crate) trait Columns {
    /// The value of column `column`; `None` past the row.
    fn column(&self, column: usize) -> Option<Value>;
}

impl Columns for Row<'_> {
    #[inline(always)]
    fn column(&self, column: usize) -> Option<Value> {
        self.layout.value(self.bytes, column)
    }
}

impl Columns for [Value] {
    #[inline(always)]
    fn column(&self, column: usize) -> Option<Value> {
        self.get(column).copied()
    }
}

/// The facts of one relation.
#[derive(Debug, Clone, Default)]
pub struct Relation {
    layout: Layout,
    /// Rows held.
    len: usize,
    /// The rows, `layout.width()` bytes each.
    bytes: Vec<u8>,
    /// The dedup set, keyed by the whole row.
    whole: Key,
    set: HashTable<Slot>,
    indexes: Vec<Index>,
    /// Scratch: a key's bytes while a row goes in.
    scratch: Vec<u8>,
}

impl Relation {
    /// An empty relation with columns of `types` and the given indexes.
    pub fn new(types: impl IntoIterator<Item = BaseType>, indexes: &[Vec<u8>]) -> Relation {
        let layout = Layout::new(types);
        let indexes = indexes
            .iter()
            .map(|cols| Index {
                key: Key::new(&layout, cols.iter().map(|&c| usize::from(c)).collect()),
                whole: !cols.is_empty() && cols.iter().map(|&c| usize::from(c)).eq(0..layout.arity()),
                ..Index::default()
            })
            .collect();
        Relation {
            whole: Key::new(&layout, (0..layout.arity()).collect()),
            layout,
            len: 0,
            bytes: Vec::new(),
            set: HashTable::new(),
            indexes,
            scratch: Vec::new(),
        }
    }

    /// Makes room for `rows` more rows, so a bulk load does not rehash as it grows.
    pub fn reserve(&mut self, rows: usize) {
        self.bytes.reserve(rows.saturating_mul(self.layout.width()));
        self.set.reserve(rows, slot_hash);
        for index in self.indexes.iter_mut().filter(|i| !i.whole) {
            index.previous.reserve(rows);
        }
    }

    /// Bytes per row.
    pub(crate) fn width(&self) -> usize {
        self.layout.width()
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `row`; `row` must be below [`Relation::len`].
    #[inline]
    pub(crate) fn row(&self, row: u32) -> Row<'_> {
        // Invariant: every row id comes from this relation (`lookup`, `previous`, or a
        // range below `len`), and rows are only ever added, until `clear`, after which no
        // id of before is used. The empty row of an id out of range is never seen.
        debug_assert!((row as usize) < self.len, "row {row} of a relation of {} rows", self.len);
        Row { layout: &self.layout, bytes: row_at(&self.bytes, self.layout.width(), row) }
    }

    /// The bytes of each row of `rows` in turn (ids past the end are not there), in the
    /// relation's layout. A relation of no columns yields none: only for a relation whose
    /// rows have bytes (a kernel's scan, which [`crate::kernel::Kernel::of`] makes of no
    /// other).
    #[inline]
    pub(crate) fn rows_in(&self, rows: Range<u32>) -> std::slice::ChunksExact<'_, u8> {
        let width = self.layout.width();
        let end = (rows.end as usize).min(self.len) * width;
        let start = (rows.start as usize * width).min(end);
        // `chunks_exact` takes no width of 0; a relation of no columns has no bytes, so no
        // chunk of 1 byte either.
        self.bytes.get(start..end).unwrap_or_default().chunks_exact(width.max(1))
    }

    /// Row `row`'s values, in column order.
    pub fn values(&self, row: u32) -> Vec<Value> {
        self.layout.values(self.row(row).bytes).collect()
    }

    /// Removes every row, keeping capacity.
    pub fn clear(&mut self) {
        self.len = 0;
        self.bytes.clear();
        self.set.clear();
        for index in &mut self.indexes {
            index.heads.clear();
            index.previous.clear();
        }
    }

    /// Adds a row unless present; returns whether it was new. A row whose length is not
    /// the arity, or with a value of another type than its column's, is an error, never
    /// dropped: the validator makes every `Emit` and data row fit its relation, so only a
    /// request made for another engine can have one.
    pub fn insert(&mut self, row: &[Value]) -> Result<bool, EvalError> {
        let start = self.bytes.len();
        self.layout.encode(row, &mut self.bytes)?;
        self.settle(start)
    }

    /// [`Relation::insert`] of a row given as its bytes in this relation's layout (as
    /// [`crate::kernel::Join`] emits it); a row of another width is an error.
    pub(crate) fn insert_encoded(&mut self, row: &[u8]) -> Result<bool, EvalError> {
        if row.len() != self.layout.width() {
            return Err(EvalError::Corrupt("a fact has a different number of bytes than its relation's rows"));
        }
        let start = self.bytes.len();
        append(&mut self.bytes, row);
        self.settle(start)
    }

    /// Keeps the row just appended at `start` of the bytes if it is new (in the dedup set
    /// and every index, from one probe each), or drops it; whether it was new.
    // One copy for both callers, so that the table's probe is inlined into it.
    #[inline(never)]
    fn settle(&mut self, start: usize) -> Result<bool, EvalError> {
        let Relation { layout, len, bytes, whole, set, indexes, scratch } = self;
        let width = layout.width();
        let (old, new) = bytes.split_at(start);
        let hash = whole.hash_of_row(layout, new, scratch);
        // One probe finds the row or the slot it goes in.
        let same = |slot: &Slot| whole.rows_agree(layout, row_at(old, width, slot.id), new);
        let Entry::Vacant(vacant) = set.entry(spread(hash), same, slot_hash) else {
            bytes.truncate(start);
            return Ok(false);
        };
        // Row ids are `u32`, and `NONE` ends an index chain.
        let Some(id) = u32::try_from(*len).ok().filter(|&id| id != NONE) else {
            bytes.truncate(start);
            return Err(EvalError::Limit { what: "facts in one relation", limit: u64::from(NONE) });
        };
        *len += 1;
        vacant.insert(Slot { id, hash });
        let bytes = &*bytes;
        let new = row_at(bytes, width, id);
        for Index { key, heads, previous, .. } in indexes.iter_mut().filter(|i| !i.whole) {
            let hash = key.hash_of_row(layout, new, scratch);
            let matches = |head: &Slot| key.rows_agree(layout, row_at(bytes, width, head.id), new);
            match heads.entry(spread(hash), matches, slot_hash) {
                Entry::Occupied(mut head) => {
                    previous.push(head.get().id);
                    head.get_mut().id = id;
                }
                Entry::Vacant(slot) => {
                    previous.push(NONE);
                    slot.insert(Slot { id, hash });
                }
            }
        }
        Ok(true)
    }

    /// Appends the rows of `values` (`arity` values each, one after another), all new, in
    /// bulk: each row hashed once, the dedup set and every index sized for them first and
    /// filled in the order of their buckets ([`bucket_order`]), so a million rows sweep the
    /// tables front to back instead of landing at random. Row ids follow `values`' order,
    /// as [`Relation::insert`] would give them. A row the relation already holds, or one
    /// `values` states twice, is [`Bulk::Repeated`]; the rows are then partly in, and the
    /// relation is to be dropped.
    pub fn extend_new(&mut self, values: &[Value]) -> Result<(), Bulk> {
        let arity = self.layout.arity();
        if arity == 0 {
            // One possible fact, which `values` (empty) states.
            return match self.insert(values) {
                Ok(true) => Ok(()),
                Ok(false) => Err(Bulk::Repeated { first: 0, again: 1 }),
                Err(error) => Err(Bulk::Eval(error)),
            };
        }
        if !values.len().is_multiple_of(arity) {
            return Err(Bulk::Eval(EvalError::Corrupt(
                "a fact has a different number of values than its relation has columns",
            )));
        }
        let rows = values.len() / arity;
        let first = self.len;
        // Row ids are `u32`, and `NONE` ends an index chain.
        if first.saturating_add(rows) >= NONE as usize {
            return Err(Bulk::Eval(EvalError::Limit { what: "facts in one relation", limit: u64::from(NONE) }));
        }
        self.reserve(rows);
        let start = self.bytes.len();
        for row in values.chunks_exact(arity) {
            if let Err(error) = self.layout.encode(row, &mut self.bytes) {
                self.bytes.truncate(start);
                return Err(Bulk::Eval(error));
            }
        }
        self.len += rows;
        let Relation { layout, bytes, whole, set, indexes, scratch, .. } = self;
        let (layout, bytes, width) = (&*layout, &*bytes, layout.width());
        let row_of = |id: u32| row_at(bytes, width, id);
        let row_hashes: Vec<u32> =
            (0..rows).map(|at| whole.hash_of_row(layout, row_of((first + at) as u32), scratch)).collect();
        for at in bucket_order(&row_hashes, set.capacity()) {
            // Invariant: `at < rows` and `first + rows < NONE` (checked above).
            let id = (first + at) as u32;
            let hash = row_hashes.get(at).copied().unwrap_or_default();
            let same = |other: &Slot| other.hash == hash && whole.rows_agree(layout, row_of(other.id), row_of(id));
            if let Some(other) = set.find(spread(hash), same) {
                return Err(Bulk::Repeated { first: id.min(other.id), again: id.max(other.id) });
            }
            set.insert_unique(spread(hash), Slot { id, hash }, slot_hash);
        }
        for Index { key, heads, previous, .. } in indexes.iter_mut().filter(|i| !i.whole) {
            let key_hashes: Vec<u32> =
                (0..rows).map(|at| key.hash_of_row(layout, row_of((first + at) as u32), scratch)).collect();
            previous.resize(first + rows, NONE);
            heads.reserve(rows, slot_hash);
            for at in bucket_order(&key_hashes, heads.capacity()) {
                let id = (first + at) as u32;
                let hash = key_hashes.get(at).copied().unwrap_or_default();
                let matches = |head: &Slot| head.hash == hash && key.rows_agree(layout, row_of(head.id), row_of(id));
                match heads.find_mut(spread(hash), matches) {
                    Some(head) => {
                        if let Some(link) = previous.get_mut(id as usize) {
                            *link = head.id;
                        }
                        head.id = id;
                    }
                    None => {
                        heads.insert_unique(spread(hash), Slot { id, hash }, slot_hash);
                    }
                }
            }
            // Sized for a key per row: give back what fewer keys leave empty.
            heads.shrink_to(0, slot_hash);
        }
        Ok(())
    }

    /// The rows' values, one row after another.
    pub fn into_values(self) -> Vec<Value> {
        let width = self.layout.width();
        (0..self.len as u32).flat_map(|id| self.layout.values(row_at(&self.bytes, width, id))).collect()
    }

    /// The newest row whose columns of index `index` equal `key` (`None` for an index out
    /// of range or a key of another length); follow with [`Relation::previous`]. `scratch`
    /// holds the key's bytes. A key value of another type than its column's is an error.
    /// (The tests' way to probe; the interpreter probes with [`Relation::lookup_slots`].)
    #[cfg(test)]
    pub(crate) fn lookup(&self, index: usize, key: &[Value], scratch: &mut Vec<u8>) -> Result<Option<u32>, EvalError> {
        self.lookup_by(index, key, scratch)
    }

    /// [`Relation::lookup`] of the key whose values are in `frame`'s slots `key` ((index
    /// column, slot) pairs, in index column order): each value encoded straight from the
    /// frame into `scratch`, never copied into a key of values first.
    #[inline]
    pub(crate) fn lookup_slots(
        &self,
        index: usize,
        frame: &[Value],
        key: &[Pair],
        scratch: &mut Vec<u8>,
    ) -> Result<Option<u32>, EvalError> {
        self.lookup_by(index, &Slots { frame, key }, scratch)
    }

    /// The one lookup of both: the key's canonical bytes into `scratch`, hashed once.
    #[inline(always)]
    fn lookup_by<K: KeyValues + ?Sized>(
        &self,
        index: usize,
        key: &K,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<u32>, EvalError> {
        let Some(probe) = self.probe(index).filter(|p| p.key.columns.len() == key.len()) else {
            return Ok(None);
        };
        scratch.clear();
        for (at, &column) in probe.key.columns.iter().enumerate() {
            self.layout.push(column, key.value(at)?, true, scratch)?;
        }
        Ok(probe.find(scratch, key))
    }

    /// Index `index`, ready to be probed many times (`None` for an index out of range).
    #[inline]
    fn probe(&self, index: usize) -> Option<Probe<'_>> {
        let index = self.indexes.get(index)?;
        // A key of the whole row is hashed as the dedup set hashes rows (the same bytes).
        let (table, key) = if index.whole { (&self.set, &self.whole) } else { (&index.heads, &index.key) };
        Some(Probe { layout: &self.layout, bytes: &self.bytes, table, key, previous: &index.previous })
    }

    /// Index `index`, to be probed by keys as bytes ([`Probe::first`]), if its columns
    /// compare as bytes (no `Decimal`, as [`crate::kernel::Join`] keys are).
    #[inline]
    pub(crate) fn probe_bytes(&self, index: usize) -> Option<Probe<'_>> {
        self.probe(index).filter(|p| p.key.exact)
    }

    /// The next older row with the same key as `row` in index `index`.
    #[inline]
    pub fn previous(&self, index: usize, row: u32) -> Option<u32> {
        let previous = *self.indexes.get(index)?.previous.get(row as usize)?;
        (previous != NONE).then_some(previous)
    }
}

/// One index of a relation, resolved for many probes: its table, key and chains, and the
/// rows they point into.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe<'r> {
    layout: &'r Layout,
    bytes: &'r [u8],
    table: &'r HashTable<Slot>,
    key: &'r Key,
    /// Empty for an index on the whole row (one row per key).
    previous: &'r [u32],
}

impl<'r> Probe<'r> {
    /// The newest row whose key has the canonical bytes `bytes` (and the values `key`,
    /// which only a key with a `Decimal` reads).
    #[inline(always)]
    fn find<K: KeyValues + ?Sized>(&self, bytes: &[u8], key: &K) -> Option<u32> {
        let hash = short(hash_bytes(bytes));
        let width = self.layout.width();
        let matches = |head: &Slot| self.key.matches(self.layout, row_at(self.bytes, width, head.id), bytes, key);
        self.table.find(spread(hash), matches).map(|head| head.id)
    }

    /// The newest row whose key is `bytes` (each column's bytes in index column order);
    /// follow with [`Probe::next`]. For a probe of [`Relation::probe_bytes`].
    #[inline(always)]
    pub(crate) fn first(&self, bytes: &[u8]) -> Option<u32> {
        self.find(bytes, &[][..])
    }

    /// The next older row with the same key as `row`.
    #[inline(always)]
    pub(crate) fn next(&self, row: u32) -> Option<u32> {
        self.previous.get(row as usize).copied().filter(|&previous| previous != NONE)
    }

    /// Row `id`'s bytes.
    #[inline(always)]
    pub(crate) fn row(&self, id: u32) -> &'r [u8] {
        row_at(self.bytes, self.layout.width(), id)
    }
}

/// Appends `bytes` to `out`, with the common widths of a column or a short row (1, 4, 8,
/// 16 bytes) copied as fixed-size words rather than through a call of `memcpy`.
#[inline(always)]
pub(crate) fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    fn fixed<const N: usize>(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
        <&[u8; N]>::try_from(bytes).map(|b| out.extend_from_slice(b)).is_ok()
    }
    let done = match bytes.len() {
        1 => fixed::<1>(out, bytes),
        4 => fixed::<4>(out, bytes),
        8 => fixed::<8>(out, bytes),
        16 => fixed::<16>(out, bytes),
        _ => false,
    };
    if !done {
        out.extend_from_slice(bytes);
    }
}

/// Why [`Relation::extend_new`] stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Bulk {
    /// Row `again` repeats row `first` (row ids of the relation: the rows given are
    /// numbered after those it held).
    Repeated {
        /// The row stated first.
        first: u32,
        /// Its repeat.
        again: u32,
    },
    /// A row of the wrong width or type, or more rows than a relation holds.
    Eval(EvalError),
}

/// Below this many rows a bulk load keeps the rows' own order: the tables fit in cache.
/// (Tests take the other path from a few rows on.)
const BUCKET_ORDER_FROM: usize = if cfg!(test) { 8 } else { 4096 };

/// The positions of `hashes` ordered by the part of a table of `capacity` each hash's probe
/// starts in (its bucket, the low bits of [`spread`], in up to 4 096 runs of neighbouring
/// buckets), stably: positions of one hash keep their order, so rows of one index key are
/// chained oldest first. Inserting in this order fills a pre-sized table front to back.
/// Only the speed depends on the guess of the table's buckets, never the result.
fn bucket_order(hashes: &[u32], capacity: usize) -> impl Iterator<Item = usize> {
    let in_order = hashes.len() < BUCKET_ORDER_FROM;
    // hashbrown fills at most 7/8 of its buckets, a power of two.
    let buckets = (capacity / 7 * 8).next_power_of_two().max(1);
    let bits = buckets.trailing_zeros();
    let shift = bits - bits.min(12);
    let bin = |hash: u32| (spread(hash) as usize & (buckets - 1)) >> shift;
    // A counting sort: `starts[b]` is where bin `b`'s positions go.
    let mut starts = vec![0usize; if in_order { 0 } else { (buckets >> shift) + 1 }];
    let mut order = Vec::new();
    if !in_order {
        for &hash in hashes {
            if let Some(count) = starts.get_mut(bin(hash) + 1) {
                *count += 1;
            }
        }
        for b in 1..starts.len() {
            let before = starts.get(b - 1).copied().unwrap_or_default();
            if let Some(start) = starts.get_mut(b) {
                *start += before;
            }
        }
        order = vec![0usize; hashes.len()];
        for (at, &hash) in hashes.iter().enumerate() {
            if let Some(start) = starts.get_mut(bin(hash))
                && let Some(slot) = order.get_mut(*start)
            {
                *slot = at;
                *start += 1;
            }
        }
    }
    let rows = if in_order { 0..hashes.len() } else { 0..0 };
    rows.chain(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The indexes of the property tests: a prefix, a permuted key, a later column alone,
    /// and the whole row.
    fn indexes() -> Vec<Vec<u8>> {
        vec![vec![0], vec![1, 0], vec![2], vec![0, 1, 2]]
    }

    fn ints(row: &[i64]) -> Vec<Value> {
        row.iter().map(|&v| Value::Int(v)).collect()
    }

    /// What a scan sees of `relation`: its rows in order and, for every index and the key
    /// of every row in `probes`, the rows the lookup and its chain give, newest first.
    fn observed(relation: &Relation, probes: &[Vec<i64>]) -> (Vec<Vec<Value>>, Vec<Vec<u32>>) {
        let rows = (0..relation.len() as u32).map(|id| relation.values(id)).collect();
        let mut chains = Vec::new();
        for (i, columns) in indexes().iter().enumerate() {
            for probe in probes {
                let key: Vec<Value> = columns.iter().map(|&c| Value::Int(probe[c as usize])).collect();
                let mut chain = Vec::new();
                let mut at = relation.lookup(i, &key, &mut Vec::new()).unwrap();
                while let Some(row) = at {
                    chain.push(row);
                    at = relation.previous(i, row);
                }
                chains.push(chain);
            }
        }
        (rows, chains)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        /// A relation loaded in bulk (in one or two runs) holds the same rows under the same
        /// ids as one built row by row, and every lookup follows the same chain: values from
        /// a small range, so keys repeat, and from a few rows on, so the rows go in the
        /// order of the tables' buckets.
        #[test]
        fn bulk_loads_equal_row_by_row(
            rows in proptest::collection::vec(proptest::collection::vec(0i64..6, 3), 0..300),
            split in any::<prop::sample::Index>(),
        ) {
            let mut one_by_one = Relation::new([BaseType::Int; 3], &indexes());
            let mut distinct = Vec::new();
            for row in &rows {
                if one_by_one.insert(&ints(row)).unwrap() {
                    distinct.extend(ints(row));
                }
            }
            let mut bulk = Relation::new([BaseType::Int; 3], &indexes());
            let (before, after) = distinct.split_at(split.index(distinct.len() / 3 + 1) * 3);
            bulk.extend_new(before).unwrap();
            bulk.extend_new(after).unwrap();
            let mut probes = rows.clone();
            probes.push(vec![6, 6, 6]);
            prop_assert_eq!(observed(&bulk, &probes), observed(&one_by_one, &probes));
            // And it goes on growing as a relation built row by row does.
            for row in &probes {
                prop_assert_eq!(bulk.insert(&ints(row)).unwrap(), one_by_one.insert(&ints(row)).unwrap());
            }
            prop_assert_eq!(observed(&bulk, &probes), observed(&one_by_one, &probes));
        }

        /// A row stated twice, within the rows given or after a row the relation holds, is
        /// an error naming both row ids, never a row stored once or twice: the relation holds
        /// the first `held` distinct rows, and is given the others and then row `repeat` again.
        #[test]
        fn bulk_loads_refuse_repeats(
            rows in proptest::collection::vec(proptest::collection::vec(0i64..4, 3), 1..200),
            held in any::<prop::sample::Index>(),
            repeat in any::<prop::sample::Index>(),
        ) {
            let mut distinct: Vec<Vec<i64>> = Vec::new();
            for row in rows {
                if !distinct.contains(&row) {
                    distinct.push(row);
                }
            }
            let held = held.index(distinct.len() + 1);
            let repeat = repeat.index(distinct.len());
            let mut relation = Relation::new([BaseType::Int; 3], &indexes());
            relation.extend_new(&distinct[..held].iter().flat_map(|row| ints(row)).collect::<Vec<_>>()).unwrap();
            let mut given: Vec<Value> = distinct[held..].iter().flat_map(|row| ints(row)).collect();
            given.extend(ints(&distinct[repeat]));
            let again = distinct.len() as u32;
            prop_assert_eq!(relation.extend_new(&given), Err(Bulk::Repeated { first: repeat as u32, again }));
        }
    }

    /// The columns of the mixed-type model test: every layout case at once (a `Decimal`
    /// column, a 1-byte `Bool`, a 4-byte symbol) and indexes that are a prefix, a permuted
    /// key, a middle column alone, a key with the `Decimal`, and two neighbours.
    const MIXED: [BaseType; 4] = [BaseType::Int, BaseType::Str, BaseType::Decimal, BaseType::Bool];

    fn mixed_indexes() -> Vec<Vec<u8>> {
        vec![vec![0], vec![1, 0], vec![1], vec![2, 0], vec![1, 2], vec![3], vec![0, 1, 2, 3]]
    }

    /// A row of the mixed model from small numbers: decimals `1.5` and `1.50` (one number in
    /// two scales) among them, so rows that differ in bytes are the same fact.
    fn mixed(row: &[u8]) -> Vec<Value> {
        let decimals = ["1.5", "1.50", "-2", "0.000", "0"];
        let d = decimals[row[2] as usize % decimals.len()];
        vec![
            Value::Int(i64::from(row[0] % 4) - 2),
            Value::Str(u32::from(row[1] % 3)),
            Value::Decimal(gov_value::parse_decimal(d).unwrap()),
            Value::Bool(row[3] % 2 == 1),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

        /// Storing, probing and scanning agree with a plain list of distinct rows (by value:
        /// `1.5 = 1.50`, the first stated kept): `insert` says new exactly when the list
        /// lacks the row, the rows read back in order, and every lookup's chain is the
        /// list's rows with that key, newest first.
        #[test]
        fn the_store_agrees_with_a_list_of_rows(
            rows in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 4), 0..120),
        ) {
            let mut relation = Relation::new(MIXED, &mixed_indexes());
            let mut model: Vec<Vec<Value>> = Vec::new();
            for row in &rows {
                let row = mixed(row);
                let new = !model.contains(&row);
                prop_assert_eq!(relation.insert(&row).unwrap(), new);
                if new {
                    model.push(row);
                }
            }
            prop_assert_eq!(relation.len(), model.len());
            for (id, row) in model.iter().enumerate() {
                prop_assert_eq!(&relation.values(id as u32), row);
                for (column, value) in row.iter().enumerate() {
                    prop_assert_eq!(relation.row(id as u32).column(column), Some(*value));
                }
            }
            let mut scratch = Vec::new();
            for (i, columns) in mixed_indexes().iter().enumerate() {
                for probe in rows.iter().map(|r| mixed(r)).chain([mixed(&[9, 9, 2, 0])]) {
                    let key: Vec<Value> = columns.iter().map(|&c| probe[c as usize]).collect();
                    let mut chain = Vec::new();
                    let mut at = relation.lookup(i, &key, &mut scratch).unwrap();
                    // A probe from a frame's slots (the key's values after a register, in
                    // reverse order) finds the same row.
                    let mut frame = vec![Value::Bool(false)];
                    frame.extend(key.iter().rev());
                    let slots: Vec<Pair> =
                        columns.iter().enumerate().map(|(k, &c)| (c, (key.len() - k) as u32)).collect();
                    prop_assert_eq!(relation.lookup_slots(i, &frame, &slots, &mut scratch).unwrap(), at);
                    while let Some(row) = at {
                        chain.push(relation.values(row));
                        at = relation.previous(i, row);
                    }
                    let expected: Vec<Vec<Value>> = model
                        .iter()
                        .rev()
                        .filter(|row| columns.iter().zip(&key).all(|(&c, k)| row[c as usize] == *k))
                        .cloned()
                        .collect();
                    prop_assert_eq!(chain, expected);
                }
            }
            // And a bulk load of the same distinct rows holds the same.
            let mut bulk = Relation::new(MIXED, &mixed_indexes());
            bulk.extend_new(&model.concat()).unwrap();
            prop_assert_eq!(bulk.into_values(), model.concat());
        }
    }

    /// A key value of another type than its column's is an error, never a miss (a miss
    /// would make a negation hold).
    #[test]
    fn keys_of_the_wrong_type_are_errors() {
        let mut relation = Relation::new([BaseType::Int, BaseType::Str], &[vec![1]]);
        relation.insert(&[Value::Int(1), Value::Str(2)]).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(relation.lookup(0, &[Value::Str(2)], &mut scratch).unwrap(), Some(0));
        assert!(matches!(relation.lookup(0, &[Value::Int(2)], &mut scratch), Err(EvalError::Corrupt(_))));
        assert!(matches!(relation.insert(&[Value::Str(1), Value::Str(2)]), Err(EvalError::Corrupt(_))));
        assert!(matches!(relation.extend_new(&[Value::Int(1), Value::Bool(true)]), Err(Bulk::Eval(_))));
        assert_eq!(relation.values(0), [Value::Int(1), Value::Str(2)]);
    }

    /// An index on the whole row is the dedup set: a new row adds nothing to it, and its
    /// lookups find the row (by value: `1.5 = 1.50`) or nothing.
    #[test]
    fn an_index_on_the_whole_row_is_the_dedup_set() {
        let decimal = |d: &str| Value::Decimal(gov_value::parse_decimal(d).unwrap());
        let mut relation = Relation::new([BaseType::Int, BaseType::Decimal], &[vec![0, 1], vec![0]]);
        for (i, d) in [(1, "1.5"), (1, "2"), (2, "1.5")] {
            assert!(relation.insert(&[Value::Int(i), decimal(d)]).unwrap());
        }
        relation.extend_new(&[Value::Int(3), decimal("0")]).unwrap();
        let whole = &relation.indexes[0];
        assert!(whole.heads.is_empty() && whole.previous.is_empty());
        assert_eq!(relation.indexes[1].previous.len(), 4);
        let mut scratch = Vec::new();
        assert_eq!(relation.lookup(0, &[Value::Int(2), decimal("1.50")], &mut scratch).unwrap(), Some(2));
        assert_eq!(relation.lookup(0, &[Value::Int(3), decimal("0.0")], &mut scratch).unwrap(), Some(3));
        assert_eq!(relation.previous(0, 2), None);
        assert_eq!(relation.lookup(0, &[Value::Int(2), decimal("2")], &mut scratch).unwrap(), None);
        let ints = Relation::new([BaseType::Int; 2], &[vec![0, 1]]);
        assert_eq!(ints.lookup(0, &[Value::Int(1), Value::Int(1)], &mut scratch).unwrap(), None);
    }

    /// Two `Int`s take 16 bytes a row.
    #[test]
    fn a_row_of_two_ints_is_sixteen_bytes() {
        let mut relation = Relation::new([BaseType::Int; 2], &[]);
        relation.extend_new(&(0..200).map(Value::Int).collect::<Vec<_>>()).unwrap();
        assert_eq!(relation.bytes.len(), 100 * 16);
    }

    /// A relation without columns holds its one fact once: a second is a repeat.
    #[test]
    fn bulk_loads_of_a_relation_without_columns() {
        let mut nullary = Relation::new([], &[]);
        nullary.extend_new(&[]).unwrap();
        assert_eq!(nullary.len(), 1);
        assert!(matches!(nullary.extend_new(&[]), Err(Bulk::Repeated { .. })));
        let mut pairs = Relation::new([BaseType::Int; 2], &[vec![0]]);
        assert!(matches!(pairs.extend_new(&[Value::Int(1)]), Err(Bulk::Eval(EvalError::Corrupt(_)))));
    }

    #[test]
    fn dedups_and_indexes() {
        let mut relation = Relation::new([BaseType::Int; 2], &[vec![0], vec![1, 0]]);
        assert!(relation.insert(&[Value::Int(1), Value::Int(2)]).unwrap());
        assert!(!relation.insert(&[Value::Int(1), Value::Int(2)]).unwrap());
        assert!(relation.insert(&[Value::Int(1), Value::Int(3)]).unwrap());
        assert!(relation.insert(&[Value::Int(4), Value::Int(3)]).unwrap());
        assert_eq!(relation.len(), 3);
        let mut rows = Vec::new();
        let mut at = relation.lookup(0, &[Value::Int(1)], &mut Vec::new()).unwrap();
        while let Some(row) = at {
            rows.push(relation.values(row));
            at = relation.previous(0, row);
        }
        assert_eq!(rows, vec![vec![Value::Int(1), Value::Int(3)], vec![Value::Int(1), Value::Int(2)]]);
        assert_eq!(
            relation.lookup(1, &[Value::Int(3), Value::Int(4)], &mut Vec::new()).unwrap().map(|r| relation.values(r)),
            Some(vec![Value::Int(4), Value::Int(3)])
        );
        assert!(relation.lookup(0, &[Value::Int(9)], &mut Vec::new()).unwrap().is_none());
        assert!(!relation.insert(&[Value::Int(4), Value::Int(3)]).unwrap());
        relation.clear();
        assert!(relation.is_empty());
    }

    /// A row of the wrong width is an error, not silently dropped.
    #[test]
    fn rows_of_the_wrong_width_are_errors() {
        let mut relation = Relation::new([BaseType::Int; 2], &[vec![0]]);
        for row in [&[Value::Int(1)][..], &[Value::Int(1), Value::Int(2), Value::Int(3)], &[]] {
            assert!(matches!(relation.insert(row), Err(EvalError::Corrupt(_))), "{row:?}");
        }
        assert!(relation.is_empty());
        let mut nullary = Relation::new([], &[]);
        assert!(nullary.insert(&[Value::Int(1)]).is_err());
        assert!(nullary.insert(&[]).unwrap());
        assert_eq!(nullary.values(0), &[]);
    }

    /// A row id from nowhere breaks the store's invariant: debug builds stop there.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "row 1 of a relation of 1 rows")]
    fn a_row_out_of_range_is_caught_in_debug_builds() {
        let mut relation = Relation::new([BaseType::Int], &[]);
        assert!(relation.insert(&[Value::Int(1)]).unwrap());
        let _ = relation.row(1);
    }
}
