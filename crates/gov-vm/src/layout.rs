//! How a stored row lays out its values: bytes by column type, known when the relation is
//! made (the bundle gives every column's type). An `Int`, `Time` or `Duration` takes 8
//! bytes, a `Str` its 4-byte symbol, a `Bool` 1 byte, a `Decimal` 16 (its 128-bit form,
//! scale included, so it reads back as it was written). A row of two `Int`s is 16 bytes,
//! not two 24-byte [`Value`]s.
//!
//! Two rows of a relation without a `Decimal` column are equal exactly when their bytes
//! are, so the store hashes and compares them as byte slices. A `Decimal` equals another
//! of a different scale (`1.5 = 1.50`) whose bytes differ: such columns are hashed in a
//! canonical form (normalised) and compared as numbers.
// `EvalError` owns strings in some variants, so it has a destructor: `ok_or_else` builds
// one only on failure (see eval.rs).
#![allow(clippy::unnecessary_lazy_evaluations)]

use crate::{EvalError, Value};
use gov_value::{BaseType, Decimal};
use std::hash::{BuildHasher, Hasher};

/// The bytes a value of type `ty` takes in a row.
fn width_of(ty: BaseType) -> usize {
    match ty {
        BaseType::Bool => 1,
        BaseType::Str => 4,
        BaseType::Int | BaseType::Time | BaseType::Duration => 8,
        BaseType::Decimal => 16,
    }
}

/// A column: its type and its first byte in a row.
#[derive(Debug, Clone, Copy)]
struct Column {
    ty: BaseType,
    at: usize,
}

/// The columns of a relation as bytes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    columns: Vec<Column>,
    /// Bytes per row.
    width: usize,
    /// No `Decimal` column: equal rows are equal bytes.
    exact: bool,
}

impl Layout {
    /// The layout of columns of these types, in order.
    pub(crate) fn new(types: impl IntoIterator<Item = BaseType>) -> Layout {
        let mut width = 0;
        let mut exact = true;
        let columns = types
            .into_iter()
            .map(|ty| {
                let at = width;
                width += width_of(ty);
                exact &= ty != BaseType::Decimal;
                Column { ty, at }
            })
            .collect();
        Layout { columns, width, exact }
    }

    /// Columns per row.
    pub(crate) fn arity(&self) -> usize {
        self.columns.len()
    }

    /// Bytes per row.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    /// Whether every column of `columns` compares as bytes (none is a `Decimal`).
    pub(crate) fn exact_on(&self, columns: &[usize]) -> bool {
        self.exact || columns.iter().all(|&c| self.columns.get(c).is_none_or(|col| col.ty != BaseType::Decimal))
    }

    /// The type of column `column`.
    pub(crate) fn type_of(&self, column: usize) -> Option<BaseType> {
        self.columns.get(column).map(|col| col.ty)
    }

    /// The bytes of column `column` within a row.
    pub(crate) fn span(&self, column: usize) -> Option<std::ops::Range<usize>> {
        self.columns.get(column).map(|col| col.at..col.at + width_of(col.ty))
    }

    /// Column `column` of `row` (one row's bytes); `None` past the row.
    #[inline]
    pub(crate) fn value(&self, row: &[u8], column: usize) -> Option<Value> {
        let Column { ty, at } = *self.columns.get(column)?;
        decode(ty, row, at)
    }

    /// Appends `value` as column `column` encodes it (a `Decimal` normalised when
    /// `canonical`, for hashing); a value of another type than its column's is a corrupt
    /// fact.
    #[inline(always)]
    pub(crate) fn push(
        &self,
        column: usize,
        value: Value,
        canonical: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), EvalError> {
        let ty = self.columns.get(column).map(|c| c.ty);
        match (ty, value) {
            (Some(BaseType::Int), Value::Int(v))
            | (Some(BaseType::Time), Value::Time(v))
            | (Some(BaseType::Duration), Value::Duration(v)) => out.extend_from_slice(&v.to_le_bytes()),
            (Some(BaseType::Str), Value::Str(symbol)) => out.extend_from_slice(&symbol.to_le_bytes()),
            (Some(BaseType::Bool), Value::Bool(b)) => out.push(u8::from(b)),
            (Some(BaseType::Decimal), Value::Decimal(d)) => {
                let d = if canonical { d.normalize() } else { d };
                out.extend_from_slice(&d.serialize());
            }
            _ => return Err(EvalError::Corrupt("a value is not of its column's type")),
        }
        Ok(())
    }

    /// Appends `row`'s values (all columns, in order); on an error (a row of another width,
    /// a value of another type than its column's) `out` is left as it was.
    #[inline(always)]
    pub(crate) fn encode(&self, row: &[Value], out: &mut Vec<u8>) -> Result<(), EvalError> {
        if row.len() != self.columns.len() {
            return Err(EvalError::Corrupt("a fact has a different number of values than its relation has columns"));
        }
        let start = out.len();
        for (column, &value) in row.iter().enumerate() {
            if let Err(error) = self.push(column, value, false, out) {
                out.truncate(start);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Appends the bytes of `columns` of `row`, in that order, a `Decimal` normalised: the
    /// form a key of those columns is hashed in (as [`Layout::push`] with `canonical`
    /// encodes a lookup's key).
    pub(crate) fn canonical(&self, row: &[u8], columns: &[usize], out: &mut Vec<u8>) {
        for &column in columns {
            let Some(col) = self.columns.get(column) else { continue };
            if col.ty == BaseType::Decimal {
                if let Some(d) = bytes(row, col.at) {
                    out.extend_from_slice(&Decimal::deserialize(d).normalize().serialize());
                }
            } else if let Some(span) = row.get(col.at..col.at + width_of(col.ty)) {
                out.extend_from_slice(span);
            }
        }
    }

    /// Whether rows `a` and `b` agree on `columns`, as values (a `Decimal` by number).
    pub(crate) fn same_values(&self, a: &[u8], b: &[u8], columns: impl IntoIterator<Item = usize>) -> bool {
        columns.into_iter().all(|c| self.value(a, c) == self.value(b, c))
    }

    /// The columns' values of `row`, in order.
    pub(crate) fn values<'a>(&'a self, row: &'a [u8]) -> impl Iterator<Item = Value> + 'a {
        (0..self.columns.len()).filter_map(move |c| self.value(row, c))
    }
}

/// The value of type `ty` whose bytes start at `at` of `row`; `None` past the row.
#[inline(always)]
pub(crate) fn decode(ty: BaseType, row: &[u8], at: usize) -> Option<Value> {
    Some(match ty {
        BaseType::Int => Value::Int(i64::from_le_bytes(bytes(row, at)?)),
        BaseType::Str => Value::Str(u32::from_le_bytes(bytes(row, at)?)),
        BaseType::Bool => Value::Bool(*row.get(at)? != 0),
        BaseType::Time => Value::Time(i64::from_le_bytes(bytes(row, at)?)),
        BaseType::Duration => Value::Duration(i64::from_le_bytes(bytes(row, at)?)),
        BaseType::Decimal => Value::Decimal(Decimal::deserialize(bytes(row, at)?)),
    })
}

/// The `N` bytes of `row` from `at`.
#[inline(always)]
fn bytes<const N: usize>(row: &[u8], at: usize) -> Option<[u8; N]> {
    row.get(at..at + N)?.try_into().ok()
}

/// The hash of a row or key's bytes, as the store's tables use it: foldhash over the slice
/// (up to 16 bytes in one multiplication), no per-value discriminant or length.
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = foldhash::fast::FixedState::with_seed(0x9e37_79b9).build_hasher();
    hasher.write(bytes);
    hasher.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Every type round-trips in its width, extremes and a `Decimal`'s scale included.
    #[test]
    fn values_round_trip_through_their_bytes() {
        let types =
            [BaseType::Int, BaseType::Str, BaseType::Decimal, BaseType::Bool, BaseType::Time, BaseType::Duration];
        let layout = Layout::new(types);
        assert_eq!(layout.width(), 8 + 4 + 16 + 1 + 8 + 8);
        assert!(!layout.exact_on(&[0, 1, 2]));
        assert!(layout.exact_on(&[0, 1, 3]));
        assert!(!layout.exact_on(&[2]));
        let decimal = gov_value::parse_decimal("-1.50").unwrap();
        for (int, time) in [(i64::MIN, i64::MAX), (-1, 0), (1 << 40, -(1 << 33))] {
            let row = [
                Value::Int(int),
                Value::Str(u32::MAX),
                Value::Decimal(decimal),
                Value::Bool(true),
                Value::Time(time),
                Value::Duration(int),
            ];
            let mut bytes = Vec::new();
            layout.encode(&row, &mut bytes).unwrap();
            assert_eq!(bytes.len(), layout.width());
            assert_eq!(layout.values(&bytes).collect::<Vec<_>>(), row);
            assert_eq!(layout.values(&bytes).nth(2).unwrap().to_string_for_test(), "-1.50");
        }
    }

    /// A row of the wrong width or with a value of another type is an error that leaves
    /// the buffer as it was.
    #[test]
    fn rows_that_do_not_fit_are_errors() {
        let layout = Layout::new([BaseType::Int, BaseType::Str]);
        let mut bytes = vec![7];
        for row in [&[Value::Int(1)][..], &[Value::Int(1), Value::Int(2)], &[Value::Str(1), Value::Str(2)]] {
            assert!(matches!(layout.encode(row, &mut bytes), Err(EvalError::Corrupt(_))), "{row:?}");
            assert_eq!(bytes, [7]);
        }
    }

    /// Decimals of one number in different scales hash alike in canonical form and compare
    /// equal as values, though their stored bytes differ.
    #[test]
    fn decimals_of_one_number_agree_in_canonical_form() {
        let layout = Layout::new([BaseType::Decimal]);
        let (a, b) = (gov_value::parse_decimal("1.5").unwrap(), gov_value::parse_decimal("1.50").unwrap());
        let (mut x, mut y) = (Vec::new(), Vec::new());
        layout.encode(&[Value::Decimal(a)], &mut x).unwrap();
        layout.encode(&[Value::Decimal(b)], &mut y).unwrap();
        assert_ne!(x, y);
        assert!(layout.same_values(&x, &y, [0]));
        let (mut cx, mut cy, mut key) = (Vec::new(), Vec::new(), Vec::new());
        layout.canonical(&x, &[0], &mut cx);
        layout.canonical(&y, &[0], &mut cy);
        layout.push(0, Value::Decimal(b), true, &mut key).unwrap();
        assert_eq!(cx, cy);
        assert_eq!(cx, key);
    }

    impl Value {
        fn to_string_for_test(self) -> String {
            match self {
                Value::Decimal(d) => d.to_string(),
                other => format!("{other:?}"),
            }
        }
    }
}
