//! Interning of strings and constants into a program's tables.

use gov_vm::Value;
use gov_vm::program::{StringTable, Sym};
use std::collections::HashMap;

/// The string table and constant pool being built.
#[derive(Debug, Default)]
pub struct Pool {
    /// Strings, by symbol.
    pub strings: StringTable,
    /// Constants, by index.
    pub constants: Vec<Value>,
    constant_ids: HashMap<Value, u32>,
}

impl Pool {
    /// The symbol of `text`, adding it if new.
    pub fn intern(&mut self, text: &str) -> Sym {
        self.strings.intern(text)
    }

    /// The index of constant `value`, adding it if new.
    pub fn constant(&mut self, value: Value) -> u32 {
        if let Some(&index) = self.constant_ids.get(&value) {
            return index;
        }
        let index = u32::try_from(self.constants.len()).unwrap_or(u32::MAX);
        self.constants.push(value);
        self.constant_ids.insert(value, index);
        index
    }
}
