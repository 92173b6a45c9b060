//! The request contract beyond the shape of each fact: a relation declared `input one`
//! holds exactly one fact per request.
//!
//! Checked wherever a request meets the engine: when JSON becomes a [`crate::Request`]
//! (a path-named [`RequestError`]) and again when a request is decided, so a request
//! built or reused through the library API cannot bypass it.

use crate::RequestError;
use crate::program::{Program, RelationKind};
use crate::value::Value;

/// Refuses `facts` unless every one-fact relation of `program` has exactly one fact.
/// The error names the relation, or its second fact (`request_time[1]`).
pub fn one_fact_relations(program: &Program, facts: &[(u32, Vec<Value>)]) -> Result<(), RequestError> {
    if !program.relations.iter().any(|r| r.one) {
        return Ok(());
    }
    let mut counts = vec![0usize; program.relations.len()];
    for (rel, _) in facts {
        if let Some(count) = counts.get_mut(*rel as usize) {
            *count += 1;
        }
    }
    for (schema, &count) in program.relations.iter().zip(counts.iter()) {
        if !schema.one || count == 1 {
            continue;
        }
        let name = program.string(schema.name);
        return Err(if count == 0 {
            RequestError {
                path: name.to_owned(),
                message: format!("expected exactly one fact, found none (`{name}` is declared `input one`)"),
            }
        } else {
            RequestError {
                path: format!("{name}[1]"),
                message: format!("expected exactly one fact of `{name}`, found {count} (it is declared `input one`)"),
            }
        });
    }
    Ok(())
}

/// Refuses a fact that reading JSON for this program could not have made: one for a
/// relation that is not an input, of another width or type than its relation, or with a
/// string symbol neither the program nor the request knows. A request read by another
/// engine is refused before this (`Engine::check_reader`), so only a request built in
/// this crate without JSON could hold one; deciding it is still an error, never a fact
/// dropped or joined by the wrong symbols. `strings` counts the program's strings and the
/// request's own; the error names the relation.
pub fn fact_shape(program: &Program, strings: usize, rel: u32, values: &[Value]) -> Result<(), RequestError> {
    let foreign = |path: &str, what: &str| RequestError {
        path: path.to_owned(),
        message: format!("{what}: the request was read for another policy"),
    };
    let schema = program.relations.get(rel as usize).filter(|r| r.kind == RelationKind::Input);
    let schema = schema.ok_or_else(|| foreign("", &format!("relation {rel} is not an input")))?;
    // The relation's name is looked up only for an error: every request passes here.
    let wrong = |what: String| foreign(program.string(schema.name), &what);
    if values.len() != schema.columns.len() {
        return Err(wrong(format!("a fact of {} values, but the relation has {}", values.len(), schema.columns.len())));
    }
    for (value, column) in values.iter().zip(&schema.columns) {
        if value.base_type() != column.ty {
            return Err(wrong(format!("a value of type {:?} in a column of type {:?}", value.base_type(), column.ty)));
        }
        if let Value::Str(sym) = value
            && *sym as usize >= strings
        {
            return Err(wrong(format!("string {sym} of {strings}")));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use crate::program::{ColumnSchema, Phase, Program, RelationKind, RelationSchema};
    use crate::{Engine, EvalError, Limits, Request, RequestError};
    use gov_value::BaseType;

    /// `input one request_time(at: Time)` and `input event(name: Str)`, no rules.
    fn program() -> Program {
        let relation = |name: u32, one: bool, column: u32, ty: BaseType, type_name: u32| RelationSchema {
            name,
            kind: RelationKind::Input,
            one,
            phase: Phase::Request,
            columns: vec![ColumnSchema { name: Some(column), ty, type_name, contents: None }],
            indexes: Vec::new(),
        };
        Program {
            strings: ["request_time", "at", "Time", "event", "name", "Str"].map(str::to_owned).to_vec(),
            relations: vec![relation(0, true, 1, BaseType::Time, 2), relation(3, false, 4, BaseType::Str, 5)],
            ..Program::default()
        }
    }

    fn engine() -> Engine {
        Engine::from_program(program(), "test".to_owned(), Limits::default()).unwrap()
    }

    const AT: &str = r#"{"at": "2026-03-03T15:10:00Z"}"#;

    #[test]
    fn one_fact_is_accepted_with_any_number_of_other_facts() {
        let engine = engine();
        let request = engine
            .request_from_json(&format!(r#"{{"request_time": [{AT}], "event": [{{"name": "a"}}, {{"name": "b"}}]}}"#));
        let request = request.unwrap();
        assert_eq!(request.facts().len(), 3);
        engine.decide(&request).unwrap();
    }

    #[test]
    fn two_facts_are_a_request_error_naming_the_second() {
        let error = engine().request_from_json(&format!(r#"{{"request_time": [{AT}, {AT}]}}"#)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "request_time[1]: expected exactly one fact of `request_time`, found 2 (it is declared `input one`)"
        );
        assert_eq!(error.path, "request_time[1]");
    }

    #[test]
    fn no_fact_is_a_request_error_naming_the_relation() {
        let error = engine().request_from_json(r#"{"event": [{"name": "a"}]}"#).unwrap_err();
        assert_eq!(
            error,
            RequestError {
                path: "request_time".to_owned(),
                message: "expected exactly one fact, found none (`request_time` is declared `input one`)".to_owned()
            }
        );
    }

    #[test]
    fn a_request_built_without_json_cannot_bypass_the_rule() {
        let engine = engine();
        let empty = Request::default();
        for result in [engine.decide(&empty).map(|_| ()), engine.explain(&empty).map(|_| ())] {
            let Err(EvalError::Request(error)) = result else { panic!("{result:?}") };
            assert_eq!(error.path, "request_time");
        }
        let mut session = engine.session();
        let twice = Request {
            facts: vec![(0, vec![crate::Value::Time(0)]), (0, vec![crate::Value::Time(1)])],
            ..Request::default()
        };
        let Err(EvalError::Request(error)) = engine.decide_in(&mut session, &twice) else { panic!() };
        assert_eq!(error.path, "request_time[1]");
    }

    #[test]
    fn bundles_keep_one_and_refuse_it_off_inputs() {
        let program = program();
        let read = crate::bundle::read(&crate::bundle::write(&program).unwrap()).unwrap();
        assert_eq!(read.program.relations.iter().map(|r| r.one).collect::<Vec<_>>(), [true, false]);
        let mut data_one = program;
        data_one.relations[1].kind = RelationKind::Data;
        data_one.relations[1].one = true;
        let error = crate::bundle::validate(&data_one).unwrap_err();
        assert_eq!(error, "relation 1 is not an input, so it cannot hold exactly one fact");
    }
}
