//! JSON: requests and data files in, decisions out (DESIGN §5).

use crate::RequestError;
use crate::engine::{Decision, Engine, Request};
use crate::eval::{FactRef, Firing, Trace, risk_contributions, risk_score};
use crate::program::{ColumnSchema, DecisionMeta, Effect, MessagePart, Program, RelationKind};
use crate::store::Relation;
use crate::value::{Strings, Value};
use gov_value::BaseType;
use serde_json::{Map, Value as Json, json};
use std::collections::{HashMap, HashSet};

pub use crate::document::{Document, MAX_DEPTH, parse_document};

fn error(path: impl Into<String>, message: impl Into<String>) -> RequestError {
    RequestError { path: path.into(), message: message.into() }
}

/// A value as an error message shows it: scalars as written, containers by kind.
fn describe(value: &Document) -> String {
    match value {
        Document::Null => "null".to_owned(),
        Document::Bool(b) => b.to_string(),
        Document::Number(text) => text.clone(),
        Document::String(s) => format!("{s:?}"),
        Document::Array(_) => "an array".to_owned(),
        Document::Object(_) => "an object".to_owned(),
    }
}

/// Reads facts of relations of kind `kind` from a document shaped
/// `{"relation": [{"field": value, …}, …], …}`. `intern` turns a string into its symbol.
pub fn facts(
    program: &Program,
    document: &Document,
    kind: RelationKind,
    intern: &mut dyn FnMut(&str) -> u32,
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
            out.push((rel, row_values(program, &schema.columns, fields, &path, intern)?));
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
        RelationKind::RiskScore => "built-in",
    }
}

fn row_values(
    program: &Program,
    columns: &[ColumnSchema],
    fields: &[(String, Document)],
    path: &str,
    intern: &mut dyn FnMut(&str) -> u32,
) -> Result<Vec<Value>, RequestError> {
    for (key, _) in fields {
        if !columns.iter().any(|c| c.name.map(|n| program.string(n)) == Some(key.as_str())) {
            let names: Vec<&str> = columns.iter().filter_map(|c| c.name.map(|n| program.string(n))).collect();
            return Err(error(
                key_path(path, key),
                format!("unknown field `{key}`; the fields are: {}", names.join(", ")),
            ));
        }
    }
    columns
        .iter()
        .map(|column| {
            let name = column.name.map_or("", |n| program.string(n));
            let field_path = key_path(path, name);
            let value = fields
                .iter()
                .find_map(|(key, value)| (key == name).then_some(value))
                .ok_or_else(|| error(field_path.clone(), format!("missing field `{name}`")))?;
            scalar(column.ty, program.string(column.type_name), value, intern)
                .map_err(|message| error(field_path, message))
        })
        .collect()
}

/// Converts one JSON value to a value of `ty` (declared as `type_name`). Numbers and
/// literal strings are read from their text by the same parsers as source literals, so a
/// value is accepted exactly when its literal would be.
fn scalar(
    ty: BaseType,
    type_name: &str,
    value: &Document,
    intern: &mut dyn FnMut(&str) -> u32,
) -> Result<Value, String> {
    let literal = |e: String| format!("expected {type_name}: {e}");
    match (ty, value) {
        (BaseType::Int, Document::Number(n)) => gov_value::parse_int(n).map(Value::Int).map_err(literal),
        (BaseType::Decimal, Document::Number(s) | Document::String(s)) => {
            gov_value::parse_decimal(s).map(Value::Decimal).map_err(literal)
        }
        (BaseType::Str, Document::String(s)) => Ok(Value::Str(intern(s))),
        (BaseType::Bool, Document::Bool(b)) => Ok(Value::Bool(*b)),
        (BaseType::Time, Document::String(s)) => gov_value::parse_time(s).map(Value::Time).map_err(literal),
        (BaseType::Duration, Document::String(s)) => gov_value::parse_duration(s).map(Value::Duration).map_err(literal),
        _ => Err(format!("expected {type_name}, found {}", describe(value))),
    }
}

/// Reads a request for `engine`. A text longer than the engine's
/// [`Limits::max_request_bytes`](crate::Limits::max_request_bytes) is refused unread.
pub fn request(engine: &Engine, text: &str) -> Result<Request, RequestError> {
    let limit = engine.limits().max_request_bytes;
    if text.len() > limit {
        return Err(error("", format!("the request is {} bytes, more than the limit of {limit} bytes", text.len())));
    }
    let document = parse_document(text)?;
    let base = u32::try_from(engine.program().strings.len()).unwrap_or(u32::MAX);
    let mut extra: Vec<String> = Vec::new();
    let mut extra_ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: &str| -> u32 {
        if let Some(sym) = engine.symbol(s) {
            return sym;
        }
        if let Some(&sym) = extra_ids.get(s) {
            return sym;
        }
        let sym = base.saturating_add(u32::try_from(extra.len()).unwrap_or(u32::MAX));
        extra.push(s.to_owned());
        extra_ids.insert(s.to_owned(), sym);
        sym
    };
    let facts = facts(engine.program(), &document, RelationKind::Input, &mut intern)?;
    crate::contract::one_fact_relations(engine.program(), &facts)?;
    Ok(Request { facts, extra_strings: extra })
}

/// The text of a firing's message.
pub fn message(program: &Program, strings: Strings<'_>, meta: &DecisionMeta, values: &[Value]) -> String {
    let offset = usize::from(meta.effect == Effect::Risk);
    meta.message
        .iter()
        .map(|part| match part {
            MessagePart::Text(sym) => program.string(*sym).to_owned(),
            MessagePart::Value(i) => values.get(offset + *i as usize).map_or_else(String::new, |v| strings.display(*v)),
        })
        .collect()
}

/// `file:line:col` of a decision rule.
pub fn location(program: &Program, meta: &DecisionMeta) -> String {
    format!("{}:{}:{}", program.string(meta.source.file), meta.source.line, meta.source.column)
}

/// The decision document. Linear in the firings: `decision.fired` holds each firing once,
/// and a reason or obligation is reported once per distinct message.
pub fn decision(engine: &Engine, request: &Request, decision: &Decision) -> Json {
    let program = engine.program();
    let strings = Strings { table: &program.strings, extra: &request.extra_strings };
    let mut reasons = Vec::new();
    let mut obligations = Vec::new();
    let mut approvers: Vec<String> = Vec::new();
    // Two firings with different values can still read the same (a Decimal's scale).
    let mut reported: HashSet<(u32, String)> = HashSet::new();
    let mut groups: HashSet<u32> = HashSet::new();
    for firing in &decision.fired {
        let Some(meta) = program.decisions.get(firing.decision as usize) else { continue };
        let list = match meta.effect {
            Effect::Deny | Effect::Escalate | Effect::Allow => &mut reasons,
            Effect::Obligation => &mut obligations,
            Effect::Risk => continue,
        };
        if let (Effect::Escalate, Some(group)) = (meta.effect, meta.approver)
            && groups.insert(group)
        {
            approvers.push(program.string(group).to_owned());
        }
        let text = message(program, strings, meta, &firing.values);
        if reported.insert((firing.decision, text.clone())) {
            list.push(json!({
                "rule": program.string(meta.name),
                "effect": meta.effect.name(),
                "message": text,
                "at": location(program, meta),
            }));
        }
    }
    let (score, contributions) = risk_contributions(program, &decision.fired)
        .and_then(|contributions| Ok((risk_score(&contributions)?, contributions)))
        .unwrap_or_default();
    let contributions: Vec<Json> = contributions
        .iter()
        .filter_map(|c| {
            let meta = program.decisions.get(c.decision as usize)?;
            let firing = decision.fired.get(c.firing)?;
            Some(json!({
                "rule": program.string(meta.name),
                "points": c.points,
                "message": message(program, strings, meta, &firing.values),
                "at": location(program, meta),
            }))
        })
        .collect();
    json!({
        "decision": decision.outcome.name(),
        "reasons": reasons,
        "approvers": approvers,
        "obligations": obligations,
        "risk": { "score": score, "contributions": contributions },
        "bundle": engine.hash(),
    })
}

/// How deep an explanation goes before it stops expanding derived facts.
const EXPLANATION_DEPTH: usize = 32;

fn value_json(strings: Strings<'_>, value: Value) -> Json {
    match value {
        Value::Int(i) => json!(i),
        Value::Bool(b) => json!(b),
        other => json!(strings.display(other)),
    }
}

/// Renders derivation trees. Each derived fact is expanded once per explanation; later
/// mentions point back to it, so shared sub-derivations cost linear, not exponential, output.
struct Explainer<'a> {
    program: &'a Program,
    strings: Strings<'a>,
    relations: &'a [Relation],
    trace: &'a Trace,
    expanded: hashbrown::HashSet<FactRef>,
}

impl Explainer<'_> {
    fn fact(&mut self, fact: FactRef, depth: usize) -> Json {
        let (program, strings) = (self.program, self.strings);
        let (rel, row) = fact;
        let schema = program.relations.get(rel as usize);
        let values: Vec<Json> = self
            .relations
            .get(rel as usize)
            .map_or_else(Vec::new, |r| r.row(row).iter().map(|v| value_json(strings, *v)).collect());
        let mut object = Map::new();
        object.insert("relation".to_owned(), json!(schema.map_or("", |s| program.string(s.name))));
        object.insert("values".to_owned(), Json::Array(values));
        match self.trace.derivations.get(&fact) {
            Some((rule, premises)) => {
                if let Some(code) = program.rules.get(*rule as usize) {
                    object.insert(
                        "rule_at".to_owned(),
                        json!(format!(
                            "{}:{}:{}",
                            program.string(code.source.file),
                            code.source.line,
                            code.source.column
                        )),
                    );
                }
                let because = if !self.expanded.insert(fact) {
                    json!("explained above")
                } else if depth >= EXPLANATION_DEPTH {
                    json!("…")
                } else {
                    Json::Array(premises.iter().map(|p| self.fact(*p, depth + 1)).collect())
                };
                object.insert("because".to_owned(), because);
            }
            None => {
                let source = match schema.map(|s| s.kind) {
                    Some(RelationKind::Input) => "input",
                    Some(RelationKind::Data) => "data",
                    Some(RelationKind::RiskScore) => "risk score",
                    _ => "derived",
                };
                object.insert("source".to_owned(), json!(source));
            }
        }
        Json::Object(object)
    }
}

/// For each firing (each distinct firing, as the evaluation records them), the rule and
/// the facts it matched, recursively.
pub(crate) fn explanation(
    program: &Program,
    strings: Strings<'_>,
    relations: &[Relation],
    trace: &Trace,
    fired: &[Firing],
) -> Json {
    let mut out: Vec<Json> = Vec::new();
    let mut explainer = Explainer { program, strings, relations, trace, expanded: hashbrown::HashSet::new() };
    for (firing, premises) in fired.iter().zip(&trace.firings) {
        let Some(meta) = program.decisions.get(firing.decision as usize) else { continue };
        out.push(json!({
            "rule": program.string(meta.name),
            "effect": meta.effect.name(),
            "message": message(program, strings, meta, &firing.values),
            "at": location(program, meta),
            "because": premises.iter().map(|p| explainer.fact(*p, 0)).collect::<Vec<_>>(),
        }));
    }
    Json::Array(out)
}
