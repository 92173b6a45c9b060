//! A test's `given` facts as the JSON documents the engine reads.

use gov_check::{RelationKind, Symbols};
use gov_syntax::ast::{Atom, Expr, Lit, LitValue};
use serde_json::{Map, Value as Json};

/// The facts a test gives, as documents shaped like data files and requests:
/// `{"relation": [{"field": value, …}, …], …}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct World {
    /// Facts of data relations.
    pub data: Json,
    /// Facts of input relations: the request.
    pub input: Json,
}

/// A literal as a JSON value the engine reads back as the same value: `Int` as a number,
/// `Str` as a string, `Bool` as a boolean, and `Decimal`, `Time` and `Duration` as their
/// literal text (which the engine parses exactly). `None` for an invalid literal.
pub fn lit_json(lit: &Lit) -> Option<Json> {
    Some(match &lit.value {
        LitValue::Int(i) => Json::from(*i),
        LitValue::Str(s) => Json::String(s.clone()),
        LitValue::Bool(b) => Json::Bool(*b),
        LitValue::Decimal(_) | LitValue::Time(_) | LitValue::Duration(_) => Json::String(lit.raw.clone()),
        LitValue::Invalid => return None,
    })
}

/// Splits `given` facts (each with its location, for messages) into a data document and
/// a request document. Positional arguments take the declared field names in order;
/// named ones keep theirs. Every field must be given.
pub fn world(given: &[(Atom, String)], symbols: &Symbols) -> Result<World, String> {
    let mut data = Map::new();
    let mut input = Map::new();
    for (atom, at) in given {
        let name = &atom.relation.text;
        let relation = symbols.relation(name).ok_or_else(|| format!("{at}: unknown relation `{name}`"))?;
        let target = match relation.kind {
            RelationKind::Data => &mut data,
            RelationKind::Input => &mut input,
            RelationKind::Derived | RelationKind::Builtin => return Err(format!("{at}: `{name}` is not an input or data relation")),
        };
        let fields: Vec<&str> = relation.fields.iter().map(|f| f.name.as_deref().unwrap_or("")).collect();
        let mut object = Map::new();
        let named = atom.args.iter().any(|a| a.field.is_some());
        if !named && atom.args.len() != fields.len() {
            return Err(format!("{at}: `{name}` has {} fields, {} values are given", fields.len(), atom.args.len()));
        }
        for (i, arg) in atom.args.iter().enumerate() {
            let field = match &arg.field {
                Some(field) => field.text.as_str(),
                None if named => return Err(format!("{at}: positional and named arguments cannot be mixed")),
                None => fields.get(i).copied().unwrap_or_default(),
            };
            let Expr::Lit(lit) = &arg.value else {
                return Err(format!("{at}: a given fact holds only literal values"));
            };
            let value = lit_json(lit).ok_or_else(|| format!("{at}: invalid literal `{}`", lit.raw))?;
            if object.insert(field.to_owned(), value).is_some() {
                return Err(format!("{at}: field `{field}` of `{name}` is given twice"));
            }
        }
        if let Some(missing) = fields.iter().find(|f| !object.contains_key(**f)) {
            return Err(format!("{at}: the given fact `{name}` leaves out field `{missing}`; a given fact states every field"));
        }
        match target.entry(name.clone()).or_insert_with(|| Json::Array(Vec::new())) {
            Json::Array(rows) => rows.push(Json::Object(object)),
            _ => return Err(format!("{at}: internal error: `{name}` is not a list")),
        }
    }
    Ok(World { data: Json::Object(data), input: Json::Object(input) })
}
