#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! What built-ins make of their constant arguments is made when the engine loads, never
//! on a request: a regex's full DFAs and a time zone's offsets take milliseconds to make,
//! which the first request reaching a call site used to pay. Counted, not timed:
//! `gov_builtins::tables_made` counts the tables the test's thread made.

mod common;

use common::example;
use std::path::Path;

#[test]
fn the_coding_agent_makes_its_tables_when_it_loads_and_no_request_makes_one() {
    let before = gov_builtins::tables_made();
    let engine = example("coding-agent");
    let loaded = gov_builtins::tables_made();
    // Seven regex patterns and the Paris zone, each made once (this test is the
    // process's only one, so nothing was made before it).
    assert!(loaded - before >= 8, "{} tables made at load", loaded - before);

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/coding-agent/requests");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "the example's requests");
    let mut session = engine.session();
    for file in &files {
        let request = engine.request_from_json(&std::fs::read_to_string(file).unwrap()).unwrap();
        engine.decide_in(&mut session, &request).unwrap();
        assert_eq!(gov_builtins::tables_made(), loaded, "{} made a table", file.display());
    }

    // A second engine of the same policy reuses the process's tables.
    let _again = example("coding-agent");
    assert_eq!(gov_builtins::tables_made(), loaded, "a second load made its tables again");
}
