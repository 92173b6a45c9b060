#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The checker's instruction bound against the code the planner emits, rule shape by rule
//! shape: equal, but one fewer for each aggregate the planner assigns to a fresh variable,
//! and fewer by the length of the `count` (one, plus its body and target) for a `min`/`max`
//! the planner need not precede by one.
//! The bound is what `E0601` and the compiler's own refusal use, so it must never fall
//! below the code.

/// Compiles a one-file package whose first rule or decision is the one under test, and
/// returns (its bound, its compiled length).
fn bound_and_length(source: &str) -> (usize, usize) {
    let mut workspace = gov_db::Workspace::new();
    let package = workspace.add_package(vec![("p.gov".to_owned(), source.to_owned())]);
    let checked = workspace.check(package).unwrap();
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    let sources = workspace.sources();
    let ir = workspace.ir(package).unwrap().unwrap();
    let compiled = crate::compile(&crate::Input { ir: &ir, sources: &sources, data: &[] }).unwrap();
    // The package's first rule: the one under test.
    let span = ir.spans.rules[0];
    let line = sources.get(span.file).unwrap().lines.line_col(source, span.start).line;
    let rule = compiled.rules.iter().find(|r| r.source.line == line).unwrap();
    (ir.rules[0].max_instructions, rule.code.len())
}

const HEADER: &str = "package p\n\ninput x(a: Int, b: Int)\ndata y(a: Int, b: Int)\n\n";

#[test]
fn the_bound_is_the_compiled_length() {
    // (rule, how many instructions fewer than the bound it compiles to)
    for (body, fewer) in [
        // atoms, with and without bound columns and arithmetic arguments
        ("deny d :- x(a, b), y(a, _).", 0),
        ("deny d :- x(a, b), y(a + 1, b * 2 - 3).", 0),
        // negation with arithmetic, comparisons, assignments
        ("deny d :- x(a, b), not y(a + b, _), c = a * 2, c > b + 1.", 0),
        // an aggregate compared with a bound variable
        ("deny d :- x(a, b), a = count(c : y(c, _), c > b).", 0),
        // aggregates that need nothing bound are computed first, into fresh variables
        ("deny d :- x(a, _), n = count(c : y(c, _)), n > a.", 1),
        ("deny d :- x(a, _), a = sum(c : y(c, e), e = count(f : y(f, _), f > 1)).", 2),
        // a head with arithmetic, a risk rule's points, a message, an empty body
        ("p(a + b, a) :- x(a, b).\ndeny d :- p(_, _).", 0),
        ("risk d 30 :- x(a, _), a > 1.", 0),
        ("risk d n :- x(n, _).", 0),
        ("deny d \"{a} and {b}\" :- x(a, b).", 0),
        ("allow d.", 0),
        // a fallible `min`/`max` is preceded by a `count` of its body and target; the bound
        // always counts that `count`
        ("deny d :- x(a, _), a = max(e * 2 : y(e, _)).", 1),
        ("deny d :- x(a, _), a = min(e : y(e, _)).", 3),
        // the `count` computes the target too, when a variable the comparison then reads is
        // assigned by arithmetic first (found by the differential test)
        ("deny d :- x(a, _), n = min(e * 2 : y(e, _)), n = (a - a).", 0),
    ] {
        let (bound, length) = bound_and_length(&format!("{HEADER}{body}\n"));
        assert_eq!(bound, length + fewer, "{body}");
    }
}

/// A fact two data files (or one file twice) state is compiled once, where it first
/// appears: the engine refuses a bundle that states a fact twice, so a package whose data
/// repeats a fact must still load, and decide as before.
#[test]
fn data_facts_are_stated_once() {
    let mut workspace = gov_db::Workspace::new();
    let source = format!("{HEADER}deny d :- x(a, _), y(a, _).\n");
    let package = workspace.add_package(vec![("p.gov".to_owned(), source)]);
    let sources = workspace.sources();
    let ir = workspace.ir(package).unwrap().unwrap();
    let document = |text: &str| gov_vm::json::parse_document(text).unwrap();
    let data = [
        ("a.data.json".to_owned(), document(r#"{"y": [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 1, "b": 2}]}"#)),
        ("b.data.json".to_owned(), document(r#"{"y": [{"a": 3, "b": 4}, {"a": 5, "b": 6}]}"#)),
    ];
    let compiled = crate::compile(&crate::Input { ir: &ir, sources: &sources, data: &data }).unwrap();
    let ints = |values: &[i64]| values.iter().map(|&v| gov_vm::Value::Int(v)).collect::<Vec<_>>();
    let (y, _) = compiled.relation_by_name("y").unwrap();
    assert_eq!(compiled.data, vec![(y, ints(&[1, 2, 3, 4, 5, 6]))]);
    let engine = gov_vm::Engine::from_program(compiled, String::new(), gov_vm::Limits::LOAD).unwrap();
    let request = engine.request_from_json(r#"{"x": [{"a": 5, "b": 0}]}"#).unwrap();
    assert_eq!(engine.decide(&request).unwrap().outcome, gov_vm::Outcome::Deny);
}

/// Data facts that differ only in how their lists are spelt (order, repeats), or that hold
/// equal objects, in one file or two, are one fact, as equal scalar facts are: a list or an
/// object has one identifier per contents.
#[test]
fn data_facts_with_equal_lists_and_objects_are_one_fact() {
    let mut workspace = gov_db::Workspace::new();
    let source = "package p\n\ninput x(a: Str)\ndata y(a: Str, tags: [Str], o: {k: Int, v: [Int]})\n\n\
                  deny twice :- x(a), n = count(_ : y(a, _tags, _object)), n > 1.\n";
    let package = workspace.add_package(vec![("p.gov".to_owned(), source.to_owned())]);
    let sources = workspace.sources();
    let ir = workspace.ir(package).unwrap().unwrap();
    let document = |text: &str| gov_vm::json::parse_document(text).unwrap();
    let data = [
        (
            "a.data.json".to_owned(),
            document(
                r#"{"y": [{"a": "a", "tags": ["x", "y"], "o": {"k": 1, "v": [2, 3]}},
                          {"a": "a", "tags": ["y", "x", "y"], "o": {"k": 1, "v": [3, 2, 2]}}]}"#,
            ),
        ),
        (
            "b.data.json".to_owned(),
            document(r#"{"y": [{"a": "a", "tags": ["x", "y", "x"], "o": {"k": 1, "v": [2, 3]}}]}"#),
        ),
    ];
    let compiled = crate::compile(&crate::Input { ir: &ir, sources: &sources, data: &data }).unwrap();
    let (y, _) = compiled.relation_by_name("y").unwrap();
    let rows = compiled.data.iter().find(|(r, _)| *r == y).map_or(0, |(_, values)| values.len() / 3);
    assert_eq!(rows, 1, "{:?}", compiled.data);
    let engine = gov_vm::Engine::from_program(compiled, String::new(), gov_vm::Limits::LOAD).unwrap();
    let request = engine.request_from_json(r#"{"x": [{"a": "a"}]}"#).unwrap();
    assert_eq!(engine.decide(&request).unwrap().outcome, gov_vm::Outcome::Deny, "no rule fires: the default");
    assert!(engine.decide(&request).unwrap().fired.is_empty());
}
