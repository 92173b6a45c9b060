#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! A decision holds a derived relation's one fact as its row, outside the store (`gov_vm`'s
//! `one.rs`): on `held_rows.gov`, one session decides a run of requests that hold each
//! relation as a row, move it into the store (a second fact, a join kernel's rows before
//! or after a held row) and hold it again, and each decision fires what the explaining
//! evaluation (which stores every fact) fires, with each relation's facts as expected.

use gov_driver::Package;
use gov_vm::Engine;
use gov_vm::json::parse_document;

const SOURCE: &str = include_str!("held_rows.gov");

fn engine(data: &str) -> Engine {
    let package = Package::from_sources(vec![("held_rows.gov".to_owned(), SOURCE.to_owned())]).unwrap();
    assert!(package.errors().is_none());
    package.engine(&[("held.data.json".to_owned(), parse_document(data).unwrap())]).unwrap()
}

fn request(facts: &[(i64, i64)]) -> String {
    let facts: Vec<String> = facts.iter().map(|(x, y)| format!(r#"{{"x": {x}, "y": {y}}}"#)).collect();
    format!(r#"{{"t": [{}]}}"#, facts.join(", "))
}

#[test]
fn held_rows_decide_as_stored_facts() {
    let relations = ["first", "marker", "either", "mixed", "some"];
    /// The facts of `t`, and how many facts of each of `relations` a decision derives.
    type Case<'a> = (&'a [(i64, i64)], [usize; 5]);
    let cases: [Case; 7] = [
        (&[(1, 2)], [1, 1, 2, 0, 1]),
        (&[(1, 1)], [1, 1, 1, 0, 1]),
        (&[(1, 200), (3, -4)], [2, 1, 4, 1, 1]),
        (&[(5, -5)], [1, 1, 2, 1, 1]),
        (&[], [0, 0, 0, 0, 0]),
        (&[(7, 300), (7, 300)], [1, 1, 2, 0, 1]),
        (&[(9, 9)], [1, 1, 1, 0, 1]),
    ];
    for data in [r#"{"dd": []}"#, r#"{"dd": [{"v": 2}, {"v": -5}, {"v": 0}]}"#] {
        let engine = engine(data);
        let mut session = engine.session();
        for (facts, counts) in cases {
            let text = request(facts);
            let request = engine.request_from_json(&text).unwrap();
            let decided = engine.decide_in(&mut session, &request).unwrap().to_decision();
            let (explained, _) = engine.explain(&request).unwrap();
            assert_eq!(decided.fired, explained.fired, "{text} with {data}");
            assert_eq!(decided.outcome, explained.outcome, "{text} with {data}");
            let found: Vec<usize> =
                relations.iter().map(|r| engine.facts(&session, engine.relation_id(r).unwrap()).len()).collect();
            let mut expected = counts;
            // With the data, the kernel's `mixed(2)` too (`mixed(-5)` only as a request's).
            expected[3] += usize::from(data.contains("-5"));
            assert_eq!(found, expected, "{text} with {data}");
        }
    }
}
