//! Interning of strings and constants into a program's tables.

use gov_vm::Value;
use gov_vm::program::Sym;
use std::collections::HashMap;

/// The string table and constant pool being built.
#[derive(Debug, Default)]
pub struct Pool {
    /// Strings, by symbol.
    pub strings: Vec<String>,
    string_ids: HashMap<String, Sym>,
    /// Constants, by index.
    pub constants: Vec<Value>,
    constant_ids: HashMap<Value, u32>,
}

impl Pool {
    /// The symbol of `text`, adding it if new.
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(&sym) = self.string_ids.get(text) {
            return sym;
        }
        let sym = Sym::try_from(self.strings.len()).unwrap_or(Sym::MAX);
        self.strings.push(text.to_owned());
        self.string_ids.insert(text.to_owned(), sym);
        sym
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
