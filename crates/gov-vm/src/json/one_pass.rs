//! The one-pass request reader: a request's text straight into the engine's input facts,
//! with no tree of the document in between. Each relation's and field's name is matched
//! against the program's input schema as it is read, strings without escapes are borrowed
//! from the text until they are interned, and a row's fields are converted in the order of
//! their columns, as [`super::facts`] does, so that the facts, the request's own string
//! symbols and the list identifiers come out the same.
//!
//! It gives up (`None`) on anything it does not accept: a syntax error, a duplicate,
//! unknown or missing key, a value of the wrong type, a broken `input one` contract. The
//! caller then reads the text again with the document reader and [`super::facts`], which
//! name the error; so the errors stay theirs, word for word, and cost nothing here. A list
//! or object field is read by the document reader and converted by the same code as in
//! [`super::facts`] (its contents are rare and small).

use super::{RequestStrings, RowReader, Token, scalar};
use crate::Engine;
use crate::document::{Document, Reader};
use crate::program::{ColumnSchema, Program, RelationKind, RelationSchema};
use crate::value::Value;
use std::borrow::Cow;

/// The depth of a row's field values: inside the request's object, a relation's array and
/// the row's object (the depth the document reader counts there).
const FIELD_DEPTH: usize = 3;

/// A field's value as read, before it is converted in its column's turn.
enum Field<'t> {
    Null,
    Bool(bool),
    Number(&'t str),
    String(Cow<'t, str>),
    /// A list's or an object's value, read by the document reader.
    Compound(Document),
}

/// The input facts of the request `text` for `engine`, interning its strings in
/// `strings`; `None` where the text is not a valid request (the caller finds out why).
pub(super) fn facts(engine: &Engine, text: &str, strings: &mut RequestStrings<'_>) -> Option<Vec<(u32, Vec<Value>)>> {
    let program = engine.program();
    let mut reader = Reader::new(text);
    let mut read = OnePass { program, strings, out: Vec::new(), slots: Vec::new(), ids: super::Ids::default() };
    let mut seen: Vec<u32> = Vec::new();
    reader.whitespace();
    members(&mut reader, |reader, name| {
        let (rel, schema) = input(program, name)?;
        // A relation named twice is a duplicate key.
        if seen.contains(&rel) {
            return None;
        }
        seen.push(rel);
        if !reader.eat(b'[') {
            return None;
        }
        reader.whitespace();
        if reader.eat(b']') {
            return Some(());
        }
        loop {
            let values = read.row(reader, &schema.columns)?;
            read.out.push((rel, values));
            reader.whitespace();
            if reader.eat(b']') {
                return Some(());
            }
            if !reader.eat(b',') {
                return None;
            }
            reader.whitespace();
        }
    })?;
    reader.end().ok()?;
    crate::contract::one_fact_relations(program, &read.out).ok()?;
    Some(read.out)
}

/// The input relation called `name`, found as [`super::facts`] finds it.
fn input<'p>(program: &'p Program, name: &str) -> Option<(u32, &'p RelationSchema)> {
    program.relation_by_name(name).filter(|(_, r)| r.kind == RelationKind::Input)
}

/// Reads the object at the reader, calling `member` with the reader before each value
/// (whitespace skipped) and the member's key, escapes decoded.
fn members<'t>(reader: &mut Reader<'t>, mut member: impl FnMut(&mut Reader<'t>, &str) -> Option<()>) -> Option<()> {
    if !reader.eat(b'{') {
        return None;
    }
    reader.whitespace();
    if reader.eat(b'}') {
        return Some(());
    }
    loop {
        if reader.peek() != Some(b'"') {
            return None;
        }
        let key = reader.string().ok()?;
        reader.whitespace();
        if !reader.eat(b':') {
            return None;
        }
        reader.whitespace();
        member(reader, &key)?;
        reader.whitespace();
        if reader.eat(b'}') {
            return Some(());
        }
        if !reader.eat(b',') {
            return None;
        }
        reader.whitespace();
    }
}

/// The state of one read.
struct OnePass<'p, 's, 'e, 't> {
    program: &'p Program,
    strings: &'s mut RequestStrings<'e>,
    out: Vec<(u32, Vec<Value>)>,
    /// One slot per column of the row being read; reused from row to row.
    slots: Vec<Option<Field<'t>>>,
    /// The next list or object identifier.
    ids: super::Ids,
}

impl<'t> OnePass<'_, '_, '_, 't> {
    /// The values of the row object at the reader, for `columns`, after pushing the facts
    /// of its list and object fields.
    fn row(&mut self, reader: &mut Reader<'t>, columns: &[ColumnSchema]) -> Option<Vec<Value>> {
        let program = self.program;
        let mut slots = std::mem::take(&mut self.slots);
        slots.clear();
        slots.resize_with(columns.len(), || None);
        let mut read = 0;
        members(reader, |reader, key| {
            // Fields usually come in the columns' order: try the next column first.
            let named = |i: &usize| columns.get(*i).and_then(|c| c.name).is_some_and(|n| program.string(n) == key);
            let i = Some(read).filter(named).or_else(|| (0..columns.len()).find(named))?;
            let column = columns.get(i)?;
            let slot = slots.get_mut(i)?;
            if slot.is_some() {
                return None;
            }
            *slot = Some(if column.contents.is_some() {
                Field::Compound(reader.value(FIELD_DEPTH).ok()?)
            } else {
                field(reader)?
            });
            read += 1;
            Some(())
        })?;
        let mut values = Vec::with_capacity(columns.len());
        for (column, slot) in columns.iter().zip(slots.iter_mut()) {
            let value = slot.take()?;
            values.push(self.value(column, &value)?);
        }
        self.slots = slots;
        Some(values)
    }

    /// The value of `field` for `column`, as [`RowReader::row`] converts it.
    fn value(&mut self, column: &ColumnSchema, field: &Field<'t>) -> Option<Value> {
        let program = self.program;
        let strings = &mut *self.strings;
        let token = match field {
            Field::Null => Token::Null,
            Field::Bool(b) => Token::Bool(*b),
            Field::Number(n) => Token::Number(n),
            Field::String(s) => Token::String(s),
            Field::Compound(document) => {
                let contents = column.contents?;
                let mut intern = |s: &str| strings.intern(s);
                let mut rows = RowReader { program, intern: &mut intern, ids: &mut self.ids, out: &mut self.out };
                return rows.contents(column, contents, document, &String::new).ok();
            }
        };
        scalar(column.ty, program.string(column.type_name), token, &mut |s| strings.intern(s)).ok()
    }
}

/// The scalar value at the reader; `None` for an array, an object or bad syntax.
fn field<'t>(reader: &mut Reader<'t>) -> Option<Field<'t>> {
    Some(match reader.peek()? {
        b'"' => Field::String(reader.string().ok()?),
        b'-' | b'0'..=b'9' => Field::Number(reader.number().ok()?),
        b't' => reader.word("true").ok().map(|()| Field::Bool(true))?,
        b'f' => reader.word("false").ok().map(|()| Field::Bool(false))?,
        b'n' => reader.word("null").ok().map(|()| Field::Null)?,
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests;
