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

/// A given fact's value as JSON: a literal, a list of literals (`["a", "b"]`) as an array,
/// an object (`{path: "/x"}`) as an object.
fn value_json(value: &Expr, at: &str) -> Result<Json, String> {
    match value {
        Expr::Lit(lit) => lit_json(lit).ok_or_else(|| format!("{at}: invalid literal `{}`", lit.raw)),
        Expr::List(list) => list
            .items
            .iter()
            .map(|lit| lit_json(lit).ok_or_else(|| format!("{at}: invalid literal `{}`", lit.raw)))
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array),
        Expr::Object(object) => {
            let mut members = Map::new();
            for member in &object.members {
                let name = member.field.as_ref().map_or("", |f| f.text.as_str());
                if members.insert(name.to_owned(), value_json(&member.value, at)?).is_some() {
                    return Err(format!("{at}: member `{name}` is given twice"));
                }
            }
            Ok(Json::Object(members))
        }
        _ => Err(format!("{at}: a given fact holds only literal values, lists and objects")),
    }
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
            RelationKind::Derived | RelationKind::Builtin => {
                return Err(format!("{at}: `{name}` is not an input or data relation"));
            }
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
            let value = value_json(&arg.value, at)?;
            if object.insert(field.to_owned(), value).is_some() {
                return Err(format!("{at}: field `{field}` of `{name}` is given twice"));
            }
        }
        if let Some(missing) = fields.iter().find(|f| !object.contains_key(**f)) {
            return Err(format!(
                "{at}: the given fact `{name}` leaves out field `{missing}`; a given fact states every field"
            ));
        }
        match target.entry(name.clone()).or_insert_with(|| Json::Array(Vec::new())) {
            Json::Array(rows) => rows.push(Json::Object(object)),
            _ => return Err(format!("{at}: internal error: `{name}` is not a list")),
        }
    }
    Ok(World { data: Json::Object(data), input: Json::Object(input) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    const SOURCE: &str = r#"package p

type Agent = Str

input event(who: Agent, count: Int, price: Decimal, urgent: Bool, at: Time, took: Duration)
data limit(who: Agent, max: Int)

deny odd :- event(_, count, _, _, _, _), limit(_, max), count > max.

test "values" {
    given event("bot-1", -3, -12.50, true, 2026-01-31T10:00:00.5+01:00, 1h30m).
          limit(max: 7, who: "bot-1").
          limit("bot-2", 8).
    expect deny
}
"#;

    /// The given facts of the first test of `source`, and the package's symbols.
    fn given(source: &str) -> (Vec<(Atom, String)>, gov_check::Symbols) {
        let package = gov_driver::Package::from_sources(vec![("p.gov".to_owned(), source.to_owned())]).unwrap();
        let cases = crate::collect(package.program(), &package.sources());
        (cases[0].given.clone(), package.checked().symbols.clone())
    }

    #[test]
    fn given_facts_become_data_and_input_documents() {
        let (given, symbols) = given(SOURCE);
        let world = world(&given, &symbols).unwrap();
        assert_eq!(
            world.input,
            json!({"event": [{
                "who": "bot-1", "count": -3, "price": "-12.50", "urgent": true,
                "at": "2026-01-31T10:00:00.5+01:00", "took": "1h30m",
            }]})
        );
        // Named arguments keep their names, in any order; positional ones take the
        // declared names.
        assert_eq!(world.data, json!({"limit": [{"max": 7, "who": "bot-1"}, {"who": "bot-2", "max": 8}]}));
    }

    #[test]
    fn the_engine_reads_the_documents_back_as_the_literal_values() {
        let (given, symbols) = given(SOURCE);
        let world = world(&given, &symbols).unwrap();
        let compiled = crate::test_support::compile_source("p.gov", SOURCE).compiled;
        let mut strings = compiled.strings.clone();
        let mut intern = |s: &str| {
            strings.push(s.to_owned());
            u32::try_from(strings.len() - 1).unwrap()
        };
        let input = gov_vm::json::parse_document(&world.input.to_string()).unwrap();
        let facts = gov_vm::json::facts(
            &compiled,
            &input,
            gov_vm::program::RelationKind::Input,
            &mut intern,
            &mut Default::default(),
        )
        .unwrap();
        let values = &facts[0].1;
        assert_eq!(values[1], gov_vm::Value::Int(-3));
        assert_eq!(values[2], gov_vm::Value::Decimal(gov_value_decimal("-12.5")));
        assert_eq!(values[3], gov_vm::Value::Bool(true));
        assert_eq!(values[4], gov_vm::Value::Time(gov_value::parse_time("2026-01-31T09:00:00.5Z").unwrap()));
        assert_eq!(values[5], gov_vm::Value::Duration(90 * 60 * 1_000_000_000));
    }

    fn gov_value_decimal(text: &str) -> gov_value::Decimal {
        gov_value::parse_decimal(text).unwrap()
    }

    #[test]
    fn a_named_fact_must_give_every_field() {
        let source = SOURCE.replace("limit(max: 7, who: \"bot-1\")", "limit(max: 7)");
        let (given, symbols) = given(&source);
        let error = world(&given, &symbols).unwrap_err();
        assert!(error.starts_with("p.gov:12:11: "), "{error}");
        assert!(
            error.ends_with("the given fact `limit` leaves out field `who`; a given fact states every field"),
            "{error}"
        );
    }

    #[test]
    fn relations_without_facts_are_left_out() {
        let (_, symbols) = given(SOURCE);
        assert_eq!(world(&[], &symbols).unwrap(), World { data: json!({}), input: json!({}) });
    }
}
