//! The one-pass reader against the two-pass one (the document reader, then
//! `json::facts`) on random requests, valid and not: whatever it accepts, the two-pass
//! reader accepts with the same request (facts, their order, the request's strings and
//! symbols, list identifiers); whatever the two-pass reader accepts, it accepts too; and
//! no text makes either panic.

use super::super::{RequestStrings, two_pass};
use crate::program::{ColumnSchema, Contents, Phase, Program, RelationKind, RelationSchema};
use crate::{Engine, Limits, Request};
use gov_value::BaseType;
use proptest::prelude::*;
use proptest::sample::select;

/// `input one when(at: Time)`, `input event(name: Str, n: Int, amount: Decimal, ok: Bool,
/// wait: Duration)`, `input call(argv: [Str], arguments: {path: Str})` with its two
/// auxiliary relations; the program knows the string `pay-bot`.
fn engine() -> Engine {
    let column = |name: Option<u32>, ty: BaseType, type_name: u32| ColumnSchema { name, ty, type_name, contents: None };
    let relation = |name: u32, one: bool, columns: Vec<ColumnSchema>| RelationSchema {
        name,
        kind: RelationKind::Input,
        one,
        phase: Phase::Request,
        columns,
        indexes: Vec::new(),
    };
    let strings = [
        "when",
        "at",
        "Time",
        "event",
        "name",
        "Str",
        "n",
        "Int",
        "amount",
        "Decimal",
        "ok",
        "Bool",
        "wait",
        "Duration",
        "call",
        "argv",
        "[Str]",
        "call.argv",
        "arguments",
        "{path: Str}",
        "call.arguments",
        "path",
        "pay-bot",
    ];
    let compound = |name: u32, type_name: u32, relation: u32, list: bool| ColumnSchema {
        contents: Some(Contents { relation, list }),
        ..column(Some(name), BaseType::Int, type_name)
    };
    let program = Program {
        strings: strings.map(str::to_owned).to_vec(),
        relations: vec![
            relation(0, true, vec![column(Some(1), BaseType::Time, 2)]),
            relation(
                3,
                false,
                vec![
                    column(Some(4), BaseType::Str, 5),
                    column(Some(6), BaseType::Int, 7),
                    column(Some(8), BaseType::Decimal, 9),
                    column(Some(10), BaseType::Bool, 11),
                    column(Some(12), BaseType::Duration, 13),
                ],
            ),
            relation(14, false, vec![compound(15, 16, 3, true), compound(18, 19, 4, false)]),
            relation(17, false, vec![column(None, BaseType::Int, 7), column(None, BaseType::Str, 5)]),
            relation(20, false, vec![column(None, BaseType::Int, 7), column(Some(21), BaseType::Str, 5)]),
        ],
        ..Program::default()
    };
    Engine::from_program(program, "test".to_owned(), Limits::default()).unwrap()
}

/// What the one-pass reader makes of `text`, as a request.
fn one_pass(engine: &Engine, text: &str) -> Option<Request> {
    let mut strings = RequestStrings::new(engine);
    super::facts(engine, text, &mut strings).map(|facts| strings.request(engine, facts))
}

/// The one-pass reader agrees with the two-pass one on `text`.
fn agree(engine: &Engine, text: &str) -> Result<(), TestCaseError> {
    match (one_pass(engine, text), two_pass(engine, text)) {
        (Some(fast), Ok(slow)) => prop_assert_eq!(fast, slow, "{}", text),
        (Some(fast), Err(error)) => {
            return Err(TestCaseError::fail(format!("accepted {text:?} as {fast:?}; the two-pass reader: {error}")));
        }
        (None, Ok(slow)) => return Err(TestCaseError::fail(format!("refused {text:?}, read as {slow:?}"))),
        (None, Err(_)) => {}
    }
    Ok(())
}

/// Values of every kind, mostly of no column's type.
const ANY: &[&str] =
    &["null", "true", "0", "-1.5", "1e400", "\"\"", "\"x\\ty\"", "[]", "{}", "[1, [2]]", "{\"a\": {}}"];

/// Each relation's fields, with values of the field's type (and a few near misses).
const WHEN: &[(&str, &[&str])] =
    &[("at", &["\"2026-03-03T15:10:00Z\"", "\"2026-03-03t15:10:00.5+01:00\"", "\"2026-02-30T00:00:00Z\""])];
const EVENT: &[(&str, &[&str])] = &[
    ("name", &["\"a\"", "\"pay-bot\"", "\"pay\\u002dbot\"", "\"b\\u0041\\n\"", "\"é\\ud83d\\ude00\"", "\"p-101\""]),
    ("n", &["1", "-7", "0", "9223372036854775807", "9223372036854775808", "1e3", "1.0"]),
    ("amount", &["\"1200.00\"", "-2.50", "3", "20000.0000000000001", "\"x\"", "1e3"]),
    ("ok", &["true", "false"]),
    ("wait", &["\"5m\"", "\"1h30m\"", "\"-2s\"", "\"5\""]),
];
const CALL: &[(&str, &[&str])] = &[
    ("argv", &["[]", "[\"rm\", \"-rf\", \"rm\"]", "[\"pay-bot\", \"a\\u0062\"]", "[\"a\", 3]", "\"rm\""]),
    (
        "arguments",
        &[
            "{\"path\": \"/\"}",
            "{\"path\": \"p-101\"}",
            "{\"p\\u0061th\": \"/x\"}",
            "{}",
            "{\"path\": \"/\", \"path\": \"/\"}",
            "{\"path\": \"/\", \"deep\": 1}",
        ],
    ),
];

/// A JSON string of `key`, sometimes with an escape in it.
fn key(key: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        9 => Just(format!("\"{key}\"")),
        1 => Just(key.chars().map(|c| format!("\\u{:04x}", u32::from(c))).collect::<String>()).prop_map(|k| format!("\"{k}\"")),
    ]
}

/// A row object of a relation with `fields`: mostly each field once with a value of its
/// type, in any order; sometimes a field missing, twice, of another type, or unknown.
fn row(fields: &'static [(&'static str, &'static [&'static str])]) -> BoxedStrategy<String> {
    let members: Vec<BoxedStrategy<Vec<String>>> = fields
        .iter()
        .map(|&(name, good)| {
            let member = move |value: &'static str| key(name).prop_map(move |k| format!("{k}: {value}"));
            prop_oneof![
                24 => select(good).prop_flat_map(member).prop_map(|m| vec![m]),
                1 => Just(Vec::new()),
                1 => select(ANY).prop_flat_map(member).prop_map(|m| vec![m]),
                1 => (select(good), select(good)).prop_flat_map(move |(a, b)| (member(a), member(b))).prop_map(|(a, b)| vec![a, b]),
                1 => select(good).prop_map(move |value| vec![format!("\"{name}x\": {value}")]),
            ]
            .boxed()
        })
        .collect();
    (members, any::<bool>())
        .prop_flat_map(|(members, keep_order)| {
            let flat: Vec<String> = members.into_iter().flatten().collect();
            if keep_order { Just(flat).boxed() } else { Just(flat).prop_shuffle().boxed() }
        })
        .prop_map(|members| format!("{{{}}}", members.join(", ")))
        .boxed()
}

/// A relation's member of the request: its key and an array of rows (sometimes not an
/// array).
fn relation(
    name: &'static str,
    fields: &'static [(&'static str, &'static [&'static str])],
    rows: std::ops::Range<usize>,
) -> BoxedStrategy<String> {
    prop_oneof![
        20 => (key(name), proptest::collection::vec(row(fields), rows)).prop_map(|(k, rows)| format!("{k}: [{}]", rows.join(",\n  "))),
        1 => (key(name), select(ANY)).prop_map(|(k, v)| format!("{k}: {v}")),
    ]
    .boxed()
}

/// A request: `when` (usually once), events and calls in any order, sometimes an unknown
/// relation or one named twice, with a byte-order mark or whitespace around.
fn request() -> impl Strategy<Value = String> {
    let members = (
        prop_oneof![10 => relation("when", WHEN, 1..2).prop_map(Some), 1 => relation("when", WHEN, 0..3).prop_map(Some), 1 => Just(None)],
        proptest::option::weighted(0.8, relation("event", EVENT, 0..4)),
        proptest::option::weighted(0.6, relation("call", CALL, 0..3)),
        prop_oneof![8 => Just(None), 1 => Just(Some("\"nope\": []".to_owned())), 1 => Just(Some("\"event\": []".to_owned()))],
    );
    (members, select(&["", " ", "\n\t", "\u{feff}"][..]))
        .prop_flat_map(|((when, event, call, odd), space)| {
            let members: Vec<String> = [when, event, call, odd].into_iter().flatten().collect();
            (Just(members).prop_shuffle(), Just(space))
        })
        .prop_map(|(members, space)| {
            format!("{space}{{{}}}{}", members.join(", "), space.trim_start_matches('\u{feff}'))
        })
}

/// `text` with one byte range removed or replaced, cut at char boundaries.
fn mutated() -> impl Strategy<Value = String> {
    (
        request(),
        any::<proptest::sample::Index>(),
        0..4usize,
        select(&["", "\"", "{", "}", "[", "]", ",", ":", "\\", "0", " ", "\u{0}", "é"][..]),
    )
        .prop_map(|(text, at, len, with)| {
            let mut start = at.index(text.len() + 1);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{with}{}", &text[..start], &text[end..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_the_two_pass_reader_on_requests(text in request()) {
        agree(&engine(), &text)?;
    }

    #[test]
    fn agrees_with_the_two_pass_reader_on_broken_requests(text in mutated()) {
        agree(&engine(), &text)?;
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>()) {
        agree(&engine(), &text)?;
    }
}

#[test]
fn reads_the_valid_requests_it_is_given() {
    // The generators above would agree with a reader that refused everything; this one
    // would not: each of these is read in one pass.
    let engine = engine();
    for text in [
        r#"{"when": [{"at": "2026-03-03T15:10:00Z"}]}"#,
        "\u{feff} {\"event\": [{\"ok\": true, \"name\": \"pay-bot\", \"n\": 1, \"amount\": \"1.50\", \"wait\": \"5m\"}], \"when\": [{\"at\": \"2026-03-03T15:10:00Z\"}]}\n",
        r#"{"when": [{"at": "2026-03-03T15:10:00Z"}], "call": [{"argv": ["rm", "x"], "arguments": {"path": "x"}}], "ev\u0065nt": []}"#,
    ] {
        let read = one_pass(&engine, text).unwrap_or_else(|| panic!("refused {text:?}"));
        assert_eq!(Ok(read), two_pass(&engine, text));
    }
}
