//! JSON: requests and data files in, decisions out (DESIGN §5).

use crate::engine::{Engine, Request};
use crate::explain::{Absence, Explanation, FactExplanation, FactSource, Premises};
use crate::program::{ColumnSchema, Contents, Program, RelationKind};
use crate::report::Report;
use crate::value::{StringIds, Strings, Value};
use crate::{EvalError, RequestError};
use gov_value::BaseType;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

pub use crate::document::{Document, MAX_DEPTH, parse_document};

mod decision;
mod one_pass;
pub use crate::report::{location, message, rule_location};
pub use decision::{DecisionText, decision_text, push_string};

fn error(path: impl Into<String>, message: impl Into<String>) -> RequestError {
    RequestError { path: path.into(), message: message.into() }
}

/// A JSON value as a field's type reads it: a scalar as written, a container by kind
/// only. The document reader's values and the one-pass reader's tokens both give one.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(&'a str),
    Array,
    Object,
}

impl Document {
    fn token(&self) -> Token<'_> {
        match self {
            Document::Null => Token::Null,
            Document::Bool(b) => Token::Bool(*b),
            Document::Number(text) => Token::Number(text),
            Document::String(s) => Token::String(s),
            Document::Array(_) => Token::Array,
            Document::Object(_) => Token::Object,
        }
    }
}

/// A value as an error message shows it: scalars as written, containers by kind.
fn describe(value: &Document) -> String {
    describe_token(value.token())
}

fn describe_token(value: Token<'_>) -> String {
    match value {
        Token::Null => "null".to_owned(),
        Token::Bool(b) => b.to_string(),
        Token::Number(text) => text.to_owned(),
        Token::String(s) => format!("{s:?}"),
        Token::Array => "an array".to_owned(),
        Token::Object => "an object".to_owned(),
    }
}

/// The identifiers of list and object values (Ints): one per distinct contents, so two
/// facts that differ only in how their lists are spelt (order, repeats) or in which of two
/// equal objects they hold are the same fact. Kept across documents read into one store
/// (several data files), so each contents has one identifier there too.
#[derive(Debug, Default)]
pub struct Ids {
    next: i64,
    /// By auxiliary relation and contents: a list's distinct elements in a fixed order, or
    /// an object's members.
    seen: HashMap<(u32, Vec<Value>), i64>,
}

impl Ids {
    /// The identifiers of `program`'s own data, so documents read after it (more data for
    /// the same program) give contents it already holds the same identifier, and new
    /// contents identifiers above all of its own.
    pub fn continuing(program: &Program) -> Ids {
        let mut contents: HashMap<(u32, i64), (bool, Vec<Value>)> = HashMap::new();
        let mut next = 0i64;
        for (relation, values) in &program.data {
            let Some(schema) = program.relations.get(*relation as usize) else { continue };
            for row in crate::program::data_rows(schema.columns.len(), values) {
                for (column, value) in schema.columns.iter().zip(row) {
                    if let (Some(_), Value::Int(id)) = (column.contents, value) {
                        next = next.max(id.saturating_add(1));
                    }
                }
            }
        }
        let aux: HashMap<u32, bool> = program
            .relations
            .iter()
            .flat_map(|r| r.columns.iter().filter_map(|c| c.contents))
            .map(|c| (c.relation, c.list))
            .collect();
        for (relation, values) in &program.data {
            let (Some(&list), Some(schema)) = (aux.get(relation), program.relations.get(*relation as usize)) else {
                continue;
            };
            for row in crate::program::data_rows(schema.columns.len(), values) {
                let Some((Value::Int(id), rest)) = row.split_first() else { continue };
                let entry = contents.entry((*relation, *id)).or_insert_with(|| (list, Vec::new()));
                entry.1.extend_from_slice(rest);
            }
        }
        let mut seen = HashMap::with_capacity(contents.len());
        for ((relation, id), (list, mut values)) in contents {
            if list {
                values.sort_unstable_by(element_order);
                values.dedup();
            }
            next = next.max(id.saturating_add(1));
            seen.insert((relation, values), id);
        }
        Ids { next, seen }
    }
}

/// Reads facts of relations of kind `kind` from a document shaped
/// `{"relation": [{"field": value, …}, …], …}`. `intern` turns a string into its symbol.
/// A list or object field's value gets its identifier from `ids` (a new one for contents
/// not seen before), and its contents become facts of its auxiliary relation, once.
pub fn facts(
    program: &Program,
    document: &Document,
    kind: RelationKind,
    intern: &mut dyn FnMut(&str) -> u32,
    ids: &mut Ids,
) -> Result<Vec<(u32, Vec<Value>)>, RequestError> {
    let Document::Object(relations) = document else {
        return Err(error(
            "",
            format!("expected an object with one key per {} relation, found {}", kind_name(kind), describe(document)),
        ));
    };
    let mut out = Vec::new();
    for (name, rows) in relations {
        let found = program.relation_by_name(name).filter(|(_, r)| r.kind == kind);
        let Some((rel, schema)) = found else {
            let known: Vec<&str> =
                program.relations.iter().filter(|r| r.kind == kind).map(|r| program.string(r.name)).collect();
            return Err(error(
                key_path("", name),
                format!(
                    "unknown {} relation `{name}`; the {} relations are: {}",
                    kind_name(kind),
                    kind_name(kind),
                    known.join(", ")
                ),
            ));
        };
        let Document::Array(rows) = rows else {
            return Err(error(key_path("", name), format!("expected an array of facts, found {}", describe(rows))));
        };
        for (i, row) in rows.iter().enumerate() {
            let path = format!("{}[{i}]", key_path("", name));
            let Document::Object(fields) = row else {
                return Err(error(
                    path,
                    format!("expected an object with the fields of `{name}`, found {}", describe(row)),
                ));
            };
            let mut reader = RowReader { program, intern: &mut *intern, ids: &mut *ids, out: &mut out };
            let values = reader.row(&schema.columns, fields, &path)?;
            out.push((rel, values));
        }
    }
    Ok(out)
}

/// The JSON path `path` extended by `key` (`path.key`, or `path["x.y"]` for a key that
/// is not a plain name), as the document reader writes paths.
fn key_path(path: &str, key: &str) -> String {
    let mut out = path.to_owned();
    crate::document::push_key(&mut out, key);
    out
}

fn kind_name(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Input => "input",
        RelationKind::Data => "data",
        RelationKind::Derived => "derived",
        RelationKind::Builtin => "built-in",
    }
}

/// Reads rows, pushing the facts of list and object fields' contents as it goes.
struct RowReader<'a, 'b> {
    program: &'a Program,
    intern: &'b mut dyn FnMut(&str) -> u32,
    ids: &'b mut Ids,
    out: &'b mut Vec<(u32, Vec<Value>)>,
}

impl RowReader<'_, '_> {
    /// The values of one JSON object's `fields` for `columns`.
    fn row(
        &mut self,
        columns: &[ColumnSchema],
        fields: &[(String, Document)],
        path: &str,
    ) -> Result<Vec<Value>, RequestError> {
        let program = self.program;
        check_keys(program, columns, fields, path)?;
        let mut values = Vec::with_capacity(columns.len());
        for column in columns {
            let name = column.name.map_or("", |n| program.string(n));
            let field_path = || key_path(path, name);
            let value = fields
                .iter()
                .find_map(|(key, value)| (key == name).then_some(value))
                .ok_or_else(|| error(field_path(), format!("missing field `{name}`")))?;
            values.push(match column.contents {
                Some(contents) => self.contents(column, contents, value, &field_path)?,
                None => scalar(column.ty, program.string(column.type_name), value.token(), &mut *self.intern)
                    .map_err(|message| error(field_path(), message))?,
            });
        }
        Ok(values)
    }

    /// A list's or an object's identifier, after pushing its contents' facts (the first
    /// time these contents are seen). `path` makes the value's JSON path, only for an error.
    fn contents(
        &mut self,
        column: &ColumnSchema,
        contents: Contents,
        value: &Document,
        path: &dyn Fn() -> String,
    ) -> Result<Value, RequestError> {
        let program = self.program;
        let type_name = program.string(column.type_name);
        let inner = program.relations.get(contents.relation as usize).map_or(&[][..], |r| r.columns.as_slice());
        let values = match (contents.list, value) {
            (true, Document::Array(items)) => {
                let Some(element) = inner.get(1) else { return Err(error(path(), "a list without elements")) };
                let mut elements = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let value = scalar(element.ty, program.string(element.type_name), item.token(), &mut *self.intern)
                        .map_err(|message| error(format!("{}[{i}]", path()), message))?;
                    elements.push(value);
                }
                // A list is the set of its elements: one order, no repeats.
                elements.sort_unstable_by(element_order);
                elements.dedup();
                elements
            }
            (false, Document::Object(fields)) => self.row(inner.get(1..).unwrap_or_default(), fields, &path())?,
            _ => return Err(error(path(), format!("expected {type_name}, found {}", describe(value)))),
        };
        if let Some(&id) = self.ids.seen.get(&(contents.relation, values.clone())) {
            return Ok(Value::Int(id));
        }
        let id = self.ids.next;
        self.ids.next = id.checked_add(1).ok_or_else(|| error(path(), "too many lists and objects"))?;
        if contents.list {
            self.out.extend(values.iter().map(|&element| (contents.relation, vec![Value::Int(id), element])));
        } else {
            self.out.push((contents.relation, std::iter::once(Value::Int(id)).chain(values.iter().copied()).collect()));
        }
        self.ids.seen.insert((contents.relation, values), id);
        Ok(Value::Int(id))
    }
}

/// A total order of a list's elements (of one type), so equal sets sort alike.
fn element_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y))
        | (Value::Time(x), Value::Time(y))
        | (Value::Duration(x), Value::Duration(y)) => x.cmp(y),
        (Value::Decimal(x), Value::Decimal(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.base_type().cmp(&b.base_type()),
    }
}

/// Refuses a key of `fields` that names none of `columns`.
fn check_keys(
    program: &Program,
    columns: &[ColumnSchema],
    fields: &[(String, Document)],
    path: &str,
) -> Result<(), RequestError> {
    for (key, _) in fields {
        if !columns.iter().any(|c| c.name.map(|n| program.string(n)) == Some(key.as_str())) {
            let names: Vec<&str> = columns.iter().filter_map(|c| c.name.map(|n| program.string(n))).collect();
            return Err(error(
                key_path(path, key),
                format!("unknown field `{key}`; the fields are: {}", names.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Converts one JSON value to a value of `ty` (declared as `type_name`). Numbers and
/// literal strings are read from their text by the same parsers as source literals, so a
/// value is accepted exactly when its literal would be.
fn scalar(
    ty: BaseType,
    type_name: &str,
    value: Token<'_>,
    intern: &mut dyn FnMut(&str) -> u32,
) -> Result<Value, String> {
    let literal = |e: String| format!("expected {type_name}: {e}");
    match (ty, value) {
        (BaseType::Int, Token::Number(n)) => gov_value::parse_int(n).map(Value::Int).map_err(literal),
        (BaseType::Decimal, Token::Number(s) | Token::String(s)) => {
            gov_value::parse_decimal(s).map(Value::Decimal).map_err(literal)
        }
        (BaseType::Str, Token::String(s)) => Ok(Value::Str(intern(s))),
        (BaseType::Bool, Token::Bool(b)) => Ok(Value::Bool(b)),
        (BaseType::Time, Token::String(s)) => gov_value::parse_time(s).map(Value::Time).map_err(literal),
        (BaseType::Duration, Token::String(s)) => gov_value::parse_duration(s).map(Value::Duration).map_err(literal),
        _ => Err(format!("expected {type_name}, found {}", describe_token(value))),
    }
}

/// Reads a request for `engine`. A text longer than the engine's
/// [`Limits::max_request_bytes`](crate::Limits::max_request_bytes) is refused unread.
pub fn request(engine: &Engine, text: &str) -> Result<Request, RequestError> {
    let limit = engine.limits().max_request_bytes;
    if text.len() > limit {
        return Err(error("", format!("the request is {} bytes, more than the limit of {limit} bytes", text.len())));
    }
    // Invariant: the one-pass reader accepts only what the document reader and `facts`
    // accept, with the same facts, symbols and list ids (`one_pass`'s property test
    // compares them), so the slow path below is needed only to name an error.
    let mut strings = RequestStrings::new(engine);
    match one_pass::facts(engine, text, &mut strings) {
        Some(facts) => Ok(strings.request(engine, facts)),
        None => two_pass(engine, text),
    }
}

/// Reads a request with the document reader, then [`facts`]: the reader that names what
/// is wrong with a text the one-pass reader refused.
fn two_pass(engine: &Engine, text: &str) -> Result<Request, RequestError> {
    let document = parse_document(text)?;
    let mut strings = RequestStrings::new(engine);
    let facts =
        facts(engine.program(), &document, RelationKind::Input, &mut |s| strings.intern(s), &mut Ids::default())?;
    crate::contract::one_fact_relations(engine.program(), &facts)?;
    Ok(strings.request(engine, facts))
}

/// A request's strings as they are read: the program's symbols, and the request's own
/// strings numbered from the end of the program's table in the order they are first met.
struct RequestStrings<'e> {
    engine: &'e Engine,
    extra: Vec<String>,
    extra_ids: StringIds,
}

impl<'e> RequestStrings<'e> {
    fn new(engine: &'e Engine) -> RequestStrings<'e> {
        RequestStrings { engine, extra: Vec::new(), extra_ids: StringIds::default() }
    }

    /// The symbol of `s`.
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(sym) = self.engine.symbol(s) {
            return sym;
        }
        if let Some(&sym) = self.extra_ids.get(s) {
            return sym;
        }
        let base = u32::try_from(self.engine.program().strings.len()).unwrap_or(u32::MAX);
        let sym = base.saturating_add(u32::try_from(self.extra.len()).unwrap_or(u32::MAX));
        if self.extra_ids.is_empty() {
            // A request's own strings are usually few: room for them at once, not grown
            // (and rehashed) from empty.
            self.extra_ids.reserve(8);
        }
        self.extra.push(s.to_owned());
        self.extra_ids.insert(s.to_owned(), sym);
        sym
    }

    /// The request of `facts`, read with these strings.
    fn request(self, engine: &Engine, facts: Vec<(u32, Vec<Value>)>) -> Request {
        Request { facts, extra_strings: self.extra, extra_ids: self.extra_ids, reader: Some(engine.id()) }
    }
}

/// The decision document of `report`, decided by `engine`, as a JSON value: the text of
/// [`decision_text`] read back (one writer for both).
pub fn decision(engine: &Engine, report: &Report) -> Result<Json, EvalError> {
    serde_json::from_str(&decision_text(engine, report).text)
        .map_err(|_| EvalError::Corrupt("the decision writer wrote text that is not JSON"))
}

/// A value as decisions and explanations show it: Int and Bool as JSON numbers and
/// booleans, every other value as the text messages show.
pub fn value(strings: Strings<'_>, value: Value) -> Json {
    match value {
        Value::Int(i) => json!(i),
        Value::Bool(b) => json!(b),
        other => json!(strings.display(other)),
    }
}

/// The explanation document of `explanation`, for `request` decided by `engine`: for each
/// firing its rule, effect, message and location, and the facts it matched, recursively.
/// A request read by another engine is [`EvalError::Request`].
pub fn explanation(engine: &Engine, request: &Request, explanation: &Explanation) -> Result<Json, EvalError> {
    let program = engine.program();
    let strings = engine.decision_strings(request, &explanation.strings)?;
    let out = explanation
        .firings
        .iter()
        .filter_map(|f| {
            let meta = program.decisions.get(f.firing.decision as usize)?;
            let mut firing = json!({
                "rule": program.string(meta.name),
                "effect": meta.effect.keyword(),
                "message": message(program, strings, meta, &f.firing.values),
                "at": location(program, meta),
                "because": f.premises.iter().map(|p| fact_json(program, strings, p)).collect::<Vec<_>>(),
            });
            if let (false, Some(object)) = (f.absent.is_empty(), firing.as_object_mut()) {
                object.insert("absent".to_owned(), absences_json(program, strings, &f.absent));
            }
            Some(firing)
        })
        .collect();
    Ok(Json::Array(out))
}

fn fact_json(program: &Program, strings: Strings<'_>, fact: &FactExplanation) -> Json {
    let name = program.relations.get(fact.relation as usize).map_or("", |s| program.string(s.name));
    let mut object = Map::new();
    object.insert("relation".to_owned(), json!(name));
    object.insert("values".to_owned(), Json::Array(fact.values.iter().map(|v| value(strings, *v)).collect()));
    match &fact.source {
        FactSource::Rule { rule, premises, absent } => {
            if let (false, Premises::Facts(_)) = (absent.is_empty(), premises) {
                object.insert("absent".to_owned(), absences_json(program, strings, absent));
            }
            if let Some(at) = rule_location(program, *rule) {
                object.insert("rule_at".to_owned(), json!(at));
            }
            let because = match premises {
                Premises::Facts(facts) => Json::Array(facts.iter().map(|p| fact_json(program, strings, p)).collect()),
                other => json!(other.note()),
            };
            object.insert("because".to_owned(), because);
        }
        other => {
            object.insert("source".to_owned(), json!(other.name()));
        }
    }
    Json::Object(object)
}

/// The negated conditions that held, each as the relation and one value per column (`null`
/// for a column the negation left as `_`): no fact of the relation had those values.
fn absences_json(program: &Program, strings: Strings<'_>, absent: &[Absence]) -> Json {
    absent
        .iter()
        .map(|a| {
            let name = program.relations.get(a.relation as usize).map_or("", |s| program.string(s.name));
            json!({ "relation": name, "values": absence_values(program, a).into_iter().map(|v| v.map_or(Json::Null, |v| value(strings, v))).collect::<Vec<_>>() })
        })
        .collect()
}

/// One entry per column of the absent fact's relation: the value the negation required,
/// or `None` for `_`.
pub fn absence_values(program: &Program, absence: &Absence) -> Vec<Option<Value>> {
    let arity = program.relations.get(absence.relation as usize).map_or(0, |r| r.columns.len());
    (0..arity).map(|i| absence.columns.iter().find(|(c, _)| usize::from(*c) == i).map(|(_, v)| *v)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use crate::program::{ColumnSchema, Contents, Phase, Program, RelationKind, RelationSchema};
    use crate::{Engine, Limits, Value};
    use gov_value::BaseType;

    /// `input call(argv: [Str], arguments: {path: Str})`: its two auxiliary relations.
    fn engine() -> Engine {
        let column = |name: Option<u32>, ty: BaseType, type_name: u32, contents: Option<Contents>| ColumnSchema {
            name,
            ty,
            type_name,
            contents,
        };
        let relation = |name: u32, columns: Vec<ColumnSchema>| RelationSchema {
            name,
            kind: RelationKind::Input,
            one: false,
            phase: Phase::Request,
            columns,
            indexes: Vec::new(),
        };
        let program = Program {
            strings: [
                "call",
                "argv",
                "[Str]",
                "call.argv",
                "Str",
                "Int",
                "arguments",
                "{path: Str}",
                "call.arguments",
                "path",
            ]
            .map(str::to_owned)
            .to_vec(),
            relations: vec![
                relation(
                    0,
                    vec![
                        column(Some(1), BaseType::Int, 2, Some(Contents { relation: 1, list: true })),
                        column(Some(6), BaseType::Int, 7, Some(Contents { relation: 2, list: false })),
                    ],
                ),
                relation(3, vec![column(None, BaseType::Int, 5, None), column(None, BaseType::Str, 4, None)]),
                relation(8, vec![column(None, BaseType::Int, 5, None), column(Some(9), BaseType::Str, 4, None)]),
            ],
            ..Program::default()
        };
        Engine::from_program(program, "test".to_owned(), Limits::default()).unwrap()
    }

    fn error(text: &str) -> String {
        engine().request_from_json(text).unwrap_err().to_string()
    }

    #[test]
    fn lists_and_objects_become_facts_of_their_relations() {
        let request = engine()
            .request_from_json(r#"{"call": [{"argv": ["rm", "-rf", "rm"], "arguments": {"path": "/"}}, {"argv": [], "arguments": {"path": "/x"}}]}"#)
            .unwrap();
        let facts = request.facts();
        let of = |rel: u32| facts.iter().filter(|(r, _)| *r == rel).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        assert_eq!(of(0), [vec![Value::Int(0), Value::Int(1)], vec![Value::Int(2), Value::Int(3)]]);
        assert_eq!(of(1).len(), 2, "each distinct element once");
        assert!(of(1).iter().all(|v| v[0] == Value::Int(0)), "the empty list has no element");
        assert_eq!(of(2).len(), 2);
        assert_eq!(of(2)[1][0], Value::Int(3));
    }

    /// A list is the set of its elements and an object its members: facts that differ only
    /// in how their lists are spelt are one fact, their contents stated once.
    #[test]
    fn equal_contents_have_one_identifier() {
        let request = engine()
            .request_from_json(
                r#"{"call": [{"argv": ["-r", "-f"], "arguments": {"path": "/"}},
                             {"argv": ["-f", "-r", "-f"], "arguments": {"path": "/"}},
                             {"argv": ["-f"], "arguments": {"path": "/"}}]}"#,
            )
            .unwrap();
        let facts = request.facts();
        let of = |rel: u32| facts.iter().filter(|(r, _)| *r == rel).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        assert_eq!(
            of(0),
            [
                vec![Value::Int(0), Value::Int(1)],
                vec![Value::Int(0), Value::Int(1)],
                vec![Value::Int(2), Value::Int(1)]
            ]
        );
        assert_eq!(of(1).len(), 3, "`[-r, -f]` once, `[-f]` once");
        assert_eq!(of(2).len(), 1, "`{{path: /}}` once");
    }

    #[test]
    fn wrong_shapes_are_errors_naming_their_path() {
        let ok_args = r#""arguments": {"path": "/"}"#;
        assert_eq!(
            error(&format!(r#"{{"call": [{{"argv": "rm", {ok_args}}}]}}"#)),
            r#"call[0].argv: expected [Str], found "rm""#
        );
        assert_eq!(
            error(&format!(r#"{{"call": [{{"argv": ["a", "b", 3], {ok_args}}}]}}"#)),
            "call[0].argv[2]: expected Str, found 3"
        );
        assert_eq!(
            error(&format!(r#"{{"call": [{{"argv": [["a"]], {ok_args}}}]}}"#)),
            "call[0].argv[0]: expected Str, found an array"
        );
        assert_eq!(
            error(r#"{"call": [{"argv": [], "arguments": {}}]}"#),
            "call[0].arguments.path: missing field `path`"
        );
        assert_eq!(
            error(r#"{"call": [{"argv": [], "arguments": {"path": "/", "deep": {}}}]}"#),
            "call[0].arguments.deep: unknown field `deep`; the fields are: path"
        );
        assert_eq!(
            error(r#"{"call": [{"argv": [], "arguments": ["/"]}]}"#),
            "call[0].arguments: expected {path: Str}, found an array"
        );
    }

    /// The document as serde_json renders the contract's tree (the old writer): the text
    /// writer must give the same bytes, field order, escapes and numbers included.
    #[test]
    fn the_text_is_what_serde_json_writes() {
        use crate::engine::Outcome;
        use crate::program::Effect;
        use crate::report::{Reason, Report, RiskContribution};
        use serde_json::json;
        let engine = engine();
        let reason = |rule: &str, effect, message: &str| Reason {
            rule: rule.to_owned(),
            effect,
            message: message.to_owned(),
            at: "dir/pol \"x\".gov:3:7".to_owned(),
        };
        let full = Report {
            outcome: Outcome::Escalate,
            reasons: vec![
                reason("big", Effect::Escalate, "amount 75000.00 > \"limit\"\n\u{1}\ttab ü✓ \u{7f}"),
                reason("ok", Effect::Allow, ""),
            ],
            approvers: vec!["treasury".to_owned(), "risk \\ ops".to_owned()],
            obligations: vec![reason("notify", Effect::Obligation, "tell {them}")],
            risk_score: i64::MIN,
            contributions: vec![
                RiskContribution {
                    rule: "r".to_owned(),
                    points: -3,
                    message: "\u{1f}".to_owned(),
                    at: "a:1:1".to_owned(),
                },
                RiskContribution {
                    rule: "s".to_owned(),
                    points: i64::MAX,
                    message: String::new(),
                    at: "b:2:2".to_owned(),
                },
            ],
        };
        let empty = Report {
            outcome: Outcome::Allow,
            reasons: Vec::new(),
            approvers: Vec::new(),
            obligations: Vec::new(),
            risk_score: 0,
            contributions: Vec::new(),
        };
        for report in [full, empty] {
            let reason =
                |r: &Reason| json!({ "rule": r.rule, "effect": r.effect.keyword(), "message": r.message, "at": r.at });
            let contributions: Vec<_> = report
                .contributions
                .iter()
                .map(|c| json!({ "rule": c.rule, "points": c.points, "message": c.message, "at": c.at }))
                .collect();
            let tree = json!({
                "decision": report.outcome.name(),
                "reasons": report.reasons.iter().map(reason).collect::<Vec<_>>(),
                "approvers": report.approvers,
                "obligations": report.obligations.iter().map(reason).collect::<Vec<_>>(),
                "risk": { "score": report.risk_score, "contributions": contributions },
                "bundle": engine.hash(),
            });
            let text = super::decision_text(&engine, &report);
            assert_eq!(text.text, serde_json::to_string(&tree).unwrap());
            assert_eq!(text.reasons(), serde_json::to_string(&tree["reasons"]).unwrap());
            assert_eq!(super::decision(&engine, &report).unwrap(), tree);
        }
    }
}
