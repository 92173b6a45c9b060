#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The formatter: it keeps the tree and every comment, and is idempotent.

use gov_diag::{FileId, Severity};
use gov_syntax::format::format_source;
use gov_syntax::{Parsed, parse};
use proptest::prelude::*;
use std::path::PathBuf;

// ---- span stripping ---------------------------------------------------------------------------

/// Span stripping: trees parsed from different text compare equal when only spans differ.
mod spans {
    use gov_diag::Span;
    use gov_syntax::ast::{
        Approver, Atom, BodyItem, Call, Collection, ExpectKind, Expr, FieldDecl, FieldType, Item, ItemKind, Lit,
        MessagePart, Name, Path, Salvaged, SourceFile, StrLit, TestStatement,
    };

    /// The tree with every span set to `Span::default()`, so trees parsed from different text compare.
    pub fn normalize(mut file: SourceFile) -> SourceFile {
        file.items.iter_mut().for_each(|i| item(i.make_mut()));
        file
    }

    fn item(item: &mut Item) {
        item.span = Span::default();
        for annotation in &mut item.annotations {
            annotation.span = Span::default();
            name(&mut annotation.name);
            annotation.args.iter_mut().for_each(name);
        }
        match &mut item.kind {
            ItemKind::Package(p) | ItemKind::Use(p) => path(p),
            ItemKind::Default(_) => {}
            ItemKind::TypeAlias(alias) => {
                name(&mut alias.name);
                name(&mut alias.target);
            }
            ItemKind::Relation(decl) => {
                decl.one = decl.one.map(|_| Span::default());
                name(&mut decl.name);
                decl.fields.iter_mut().for_each(field_decl);
            }
            ItemKind::Rule(rule) => {
                atom(&mut rule.head);
                rule.body.iter_mut().for_each(body_item);
            }
            ItemKind::Decision(decision) => {
                name(&mut decision.name);
                decision.approver.iter_mut().for_each(|approver| match approver {
                    Approver::Group(group) => str_lit(group),
                    Approver::Var(var) => name(var),
                });
                decision.points.iter_mut().for_each(expr);
                if let Some(message) = &mut decision.message {
                    message.span = Span::default();
                    for part in &mut message.parts {
                        if let MessagePart::Var(var) = part {
                            name(var);
                        }
                    }
                }
                decision.body.iter_mut().for_each(body_item);
            }
            ItemKind::Test(test) => {
                str_lit(&mut test.name);
                test.uses.iter_mut().for_each(name);
                test.statements.iter_mut().for_each(statement);
            }
            ItemKind::Invariant(invariant) => {
                name(&mut invariant.name);
                invariant.quantifier = Span::default();
                invariant.body.iter_mut().for_each(body_item);
            }
            ItemKind::Fixture(fixture) => {
                name(&mut fixture.name);
                fixture.statements.iter_mut().for_each(statement);
            }
            ItemKind::Error(error) => match &mut error.salvaged {
                Some(Salvaged::Relation(n) | Salvaged::Rule(n) | Salvaged::Type(n)) => name(n),
                Some(Salvaged::Test(_)) | None => {}
            },
        }
    }

    fn statement(statement: &mut TestStatement) {
        match statement {
            TestStatement::WithData(file) => str_lit(file),
            TestStatement::Given(facts) => facts.iter_mut().for_each(atom),
            TestStatement::Expect(expectation) => {
                expectation.span = Span::default();
                match &mut expectation.kind {
                    ExpectKind::Effect { rules, approvers, messages, .. } => {
                        rules.iter_mut().for_each(name);
                        approvers.iter_mut().for_each(str_lit);
                        messages.iter_mut().for_each(str_lit);
                    }
                    ExpectKind::Message { messages, .. } => messages.iter_mut().for_each(str_lit),
                    ExpectKind::Risk(points) => lit(points),
                    ExpectKind::Error => {}
                }
            }
        }
    }

    fn body_item(item: &mut BodyItem) {
        match item {
            BodyItem::Atom(a) => atom(a),
            BodyItem::Not(a, span) => {
                atom(a);
                *span = Span::default();
            }
            BodyItem::Compare(comparison) => {
                comparison.span = Span::default();
                expr(&mut comparison.left);
                expr(&mut comparison.right);
            }
            BodyItem::Test(c) => call(c),
            BodyItem::NotTest(c, span) => {
                call(c);
                *span = Span::default();
            }
            BodyItem::In(membership) => {
                membership.span = Span::default();
                membership.negated = membership.negated.map(|_| Span::default());
                expr(&mut membership.element);
                match &mut membership.collection {
                    Collection::Call(c) => call(c),
                    Collection::Set(set) => {
                        set.span = Span::default();
                        set.items.iter_mut().for_each(lit);
                    }
                    Collection::List(list) => expr(list),
                }
            }
        }
    }

    fn call(call: &mut Call) {
        call.span = Span::default();
        name(&mut call.name);
        call.args.iter_mut().for_each(expr);
    }

    fn atom(atom: &mut Atom) {
        atom.span = Span::default();
        name(&mut atom.relation);
        for arg in &mut atom.args {
            arg.field.iter_mut().for_each(name);
            expr(&mut arg.value);
        }
    }

    fn expr(e: &mut Expr) {
        match e {
            Expr::Var(var) => name(var),
            Expr::Wildcard(span) => *span = Span::default(),
            Expr::Lit(l) => lit(l),
            Expr::Binary(binary) => {
                binary.span = Span::default();
                expr(&mut binary.left);
                expr(&mut binary.right);
            }
            Expr::Aggregate(aggregate) => {
                aggregate.span = Span::default();
                expr(&mut aggregate.target);
                aggregate.body.iter_mut().for_each(body_item);
            }
            Expr::Call(c) => call(c),
            Expr::List(list) => {
                list.span = Span::default();
                list.items.iter_mut().for_each(lit);
            }
            Expr::Object(object) => {
                object.span = Span::default();
                for member in &mut object.members {
                    member.field.iter_mut().for_each(name);
                    expr(&mut member.value);
                }
            }
        }
    }

    fn field_decl(field: &mut FieldDecl) {
        name(&mut field.name);
        match &mut field.ty {
            FieldType::Named(ty) => name(ty),
            FieldType::List(ty, span) => {
                name(ty);
                *span = Span::default();
            }
            FieldType::Object(members, span) => {
                members.iter_mut().for_each(field_decl);
                *span = Span::default();
            }
        }
    }

    fn lit(lit: &mut Lit) {
        lit.span = Span::default();
    }

    fn str_lit(lit: &mut StrLit) {
        lit.span = Span::default();
    }

    fn path(path: &mut Path) {
        path.span = Span::default();
        path.segments.iter_mut().for_each(name);
    }

    fn name(name: &mut Name) {
        name.span = Span::default();
    }
}

use spans::normalize;

// ---- the round trip ---------------------------------------------------------------------------

fn errors(parsed: &Parsed) -> Vec<String> {
    parsed.diagnostics.iter().filter(|d| d.severity() == Severity::Error).map(|d| d.message.clone()).collect()
}

/// Every comment's text and every doc line, sorted.
fn comment_texts(parsed: &Parsed) -> Vec<String> {
    let mut texts: Vec<String> = parsed.comments.iter().map(|c| c.text.clone()).collect();
    texts.extend(parsed.file.items.iter().flat_map(|item| item.docs.iter().map(|d| format!("/// {d}"))));
    texts.sort();
    texts
}

/// Why formatting `text` is wrong, if it is: it must parse, format to text that parses to the
/// same tree with the same comments, and format to itself again.
fn round_trip(text: &str) -> Result<String, String> {
    let before = parse(FileId(0), text);
    if !errors(&before).is_empty() {
        return Err(format!("input does not parse: {:?}\n{text}", errors(&before)));
    }
    let formatted = format_source(text, &before).ok_or("format_source refused a valid file")?;
    let after = parse(FileId(0), &formatted);
    if !errors(&after).is_empty() {
        return Err(format!("output does not parse: {:?}\n--- input\n{text}\n--- output\n{formatted}", errors(&after)));
    }
    if normalize(before.file.clone()) != normalize(after.file.clone()) {
        return Err(format!(
            "tree changed\n--- input\n{text}\n--- output\n{formatted}\n--- before\n{:#?}\n--- after\n{:#?}",
            normalize(before.file),
            normalize(after.file)
        ));
    }
    if comment_texts(&before) != comment_texts(&after) {
        return Err(format!(
            "comments changed\n--- input\n{text}\n--- output\n{formatted}\n{:?}\n{:?}",
            comment_texts(&before),
            comment_texts(&after)
        ));
    }
    let again = format_source(&formatted, &after).ok_or("format_source refused its own output")?;
    if again != formatted {
        return Err(format!("not idempotent\n--- input\n{text}\n--- first\n{formatted}\n--- second\n{again}"));
    }
    Ok(formatted)
}

fn format_ok(text: &str) -> String {
    round_trip(text).unwrap_or_else(|problem| panic!("{problem}"))
}

// ---- the shipped sources ------------------------------------------------------------------------

fn gov_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            gov_files(&entry, out);
        } else if entry.extension().is_some_and(|e| e == "gov") {
            out.push(entry);
        }
    }
}

#[test]
fn every_shipped_file_round_trips() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["examples", "stdlib", "tests/eval", "crates/gov-syntax/tests/format"] {
        gov_files(&root.join(dir), &mut files);
    }
    assert!(files.len() >= 3, "found only {files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        match round_trip(&text) {
            Err(problem) => panic!("{}: {problem}", file.display()),
            // The shipped packages are formatted: the way names are printed (bare, or quoted
            // when no identifier) leaves every one of them as it was.
            Ok(formatted) if !file.ends_with("messy.gov") => assert_eq!(formatted, text, "{}", file.display()),
            Ok(_) => {}
        }
    }
}

#[test]
fn messy_fixture_snapshot() {
    let text = include_str!("format/messy.gov");
    insta::assert_snapshot!("messy", format_ok(text));
}

#[test]
fn crlf_line_endings_become_line_feeds() {
    let text = include_str!("format/messy.gov");
    assert_eq!(format_ok(&text.replace('\n', "\r\n")), format_ok(text));
}

#[test]
fn byte_order_mark_is_dropped() {
    assert_eq!(format_ok("\u{FEFF}// header\npackage p\n"), "// header\npackage p\n");
    assert_eq!(format_ok("p(1).\n\u{FEFF}// own line\nq(1).\n"), "p(1).\n\n// own line\nq(1).\n");
}

// ---- specific layouts ---------------------------------------------------------------------------

#[test]
fn declarations_lose_their_optional_dot() {
    let text = "package p\ntype A = Str.\ninput t(a: A, b: Int).\ndata d(x: Int).\ndefault allow.\n";
    assert_eq!(
        format_ok(text),
        "package p\n\ntype A = Str\n\ninput t(a: A, b: Int)\ndata d(x: Int)\n\ndefault allow\n"
    );
}

#[test]
fn one_fact_inputs_keep_their_one() {
    // `one` is a contextual word: a relation and a field may still be called `one`.
    let text = "input   one request_time(at: Time).\ninput one(one: Int)\ninput one one(x: Int)\ndata one_of(x: Int)\n";
    assert_eq!(
        format_ok(text),
        "input one request_time(at: Time)\ninput one(one: Int)\ninput one one(x: Int)\ndata one_of(x: Int)\n"
    );
    let fields: Vec<String> = (0..12).map(|i| format!("field_number_{i}: Int")).collect();
    let text = format!("input one wide({}).\n", fields.join(", "));
    let expected = format!("input one wide(\n{})\n", fields.iter().map(|f| format!("    {f},\n")).collect::<String>());
    assert_eq!(format_ok(&text), expected);
}

#[test]
fn dot_kept_where_the_next_line_would_continue_the_item() {
    let text = "type A = to.\ntype B = Str.\ninput t(a: A).\nto(x) :- t(x).\n";
    assert_eq!(format_ok(text), "type A = to.\ntype B = Str\n\ninput t(a: A).\n\nto(x) :- t(x).\n");
}

#[test]
fn built_in_calls_tests_generators_and_sets_round_trip() {
    let text = "deny d :- t(p, c),str.starts_with( p, \"/etc/\" ),not str.contains(c,\"x\"), w in str.split(c, \" \"), not w in {\"a\",\"b\"}, n = str.length(str.lower(w)) + 1, n > 3.\n";
    assert_eq!(
        format_ok(text),
        "deny d\n    :- t(p, c),\n       str.starts_with(p, \"/etc/\"),\n       not str.contains(c, \"x\"),\n       w in str.split(c, \" \"),\n       not w in {\"a\", \"b\"},\n       n = str.length(str.lower(w)) + 1,\n       n > 3.\n"
    );
    // A dotted name needs its `.`s to touch its words; the `.` ending the item does not.
    assert_eq!(
        format_ok("p(x) :- q(x), str.contains(x, \"a\").\nr(y) :- q(y)."),
        "p(x) :- q(x), str.contains(x, \"a\").\n\nr(y) :- q(y).\n"
    );
}

#[test]
fn arithmetic_gets_minimal_parentheses() {
    let text = "p(v) :- q(a, b, c), v = (a - (b - c)) * ((a / b) / c) + (a * b), w = a - (b + c), z = (a + b) - c.\n";
    assert_eq!(
        format_ok(text),
        "p(v) :- q(a, b, c), v = (a - (b - c)) * (a / b / c) + a * b, w = a - (b + c), z = a + b - c.\n"
    );
}

#[test]
fn long_rules_break_one_condition_per_line() {
    let text = "escalate big_transfer to \"finance-approvers\" \"transfers above 10000 need a human\" :- transfer(_, amt, _), amt > 10000.";
    let expected = "escalate big_transfer to \"finance-approvers\" \"transfers above 10000 need a human\"\n    :- transfer(_, amt, _),\n       amt > 10000.\n";
    assert_eq!(format_ok(text), expected);
}

#[test]
fn long_declarations_break_one_field_per_line() {
    let fields: Vec<String> = (0..12).map(|i| format!("field_{i}: Int")).collect();
    let text = format!("input wide({}).\n", fields.join(", "));
    let expected = format!("input wide(\n{})\n", fields.iter().map(|f| format!("    {f},\n")).collect::<String>());
    assert_eq!(format_ok(&text), expected);
}

#[test]
fn named_arguments_annotations_aggregates_and_tests() {
    let text = "@overrides( a,b )\n@note\nallow  x:-t(agent:a,amount :1),s=sum(v:l(a,v),v>0).\n\
                test \"t\" {with data \"d.json\" given t(\"a\", 1). u(2).expect escalate r to \"g\" to \"h\" expect risk -3 expect error}\n\
                test \"empty\" {  }\n";
    let expected = "@overrides(a, b)\n@note\nallow x :- t(agent: a, amount: 1), s = sum(v : l(a, v), v > 0).\n\n\
                    test \"t\" {\n    with data \"d.json\"\n    given t(\"a\", 1).\n          u(2).\n    expect escalate r to \"g\" to \"h\"\n    expect risk -3\n    expect error\n}\n\n\
                    test \"empty\" {}\n";
    assert_eq!(format_ok(text), expected);
}

#[test]
fn blank_lines_between_items() {
    // Groups stay together unless the author separated them; other items get one blank line;
    // runs of blank lines shrink to one.
    let text = "package p\nuse a.b\nuse c\n\n\n\nuse d\ntype A = Str\np(x) :- q(x).\np(x) :- r(x).\n\np(x) :- s(x).\nq(1).\ndeny a.\ndeny b.\n";
    let expected = "package p\n\nuse a.b\nuse c\n\nuse d\n\ntype A = Str\n\np(x) :- q(x).\np(x) :- r(x).\n\np(x) :- s(x).\n\nq(1).\n\ndeny a.\n\ndeny b.\n";
    assert_eq!(format_ok(text), expected);
}

#[test]
fn comments_stay_in_place() {
    let text = "\
// header

/// Docs.
// not a doc: the doc above is loose
type A = Str // trailing
// before B
type B = Str
p(x) :- q(x), // after q
    // before r
    r(x). // at the end
deny d :- // after the arrow
  q(x).
test \"t\" {
  given q(1). // a fact
  // before expect
  expect deny d
  // at the end of the test
}
// the end
";
    let expected = "\
// header

/// Docs.
// not a doc: the doc above is loose
type A = Str // trailing
// before B
type B = Str

p(x)
    :- q(x), // after q
       // before r
       r(x). // at the end

deny d // after the arrow
    :- q(x).

test \"t\" {
    given q(1). // a fact
    // before expect
    expect deny d
    // at the end of the test
}
// the end
";
    assert_eq!(format_ok(text), expected);
}

#[test]
fn comments_inside_a_line_move_to_its_edges() {
    let text = "p(x,   // first\n  y // second\n) :- q(x,\n// own line\n y).\ninput t(a: Int, // about a\n  b: Int)\n";
    let expected = "p(x, y) // first\n    // second\n    // own line\n    :- q(x, y).\n\ninput t(\n    a: Int, // about a\n    b: Int,\n)\n";
    assert_eq!(format_ok(text), expected);
}

#[test]
fn doc_comments_inside_an_item_stay_inside() {
    // Moved in front of the item, these would become its doc comment.
    format_ok("/// The doc.\np(x) :- q(x,\n/// inside the first condition\ny), r(y).\n");
    format_ok("p(x) :- q(x), r(x,\n/// inside the last condition\ny).\ns(1).\n");
    format_ok("p(x,\n/// inside the head\ny) :- q(x, y).\n");
    format_ok("@a(b,\n/// inside the annotation\nc)\ndeny d.\n");
    format_ok("p(x) :- q(x), r(x, /// trailing in the last condition\ny).\ns(1).\n");
}

#[test]
fn files_with_errors_are_not_formatted() {
    let text = "p(x) :- q(x\ntype A = Str\n";
    let parsed = parse(FileId(0), text);
    assert!(format_source(text, &parsed).is_none());
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(format_ok(""), "");
    assert_eq!(format_ok("\n\n"), "");
    assert_eq!(format_ok("// one\n\n\n// two\n// three"), "// one\n\n// two\n// three\n");
}

#[test]
fn strings_are_rebuilt_from_values_without_the_source() {
    // With the source text missing, strings and messages are printed from their values.
    let text = "escalate d to \"g\\\"x\" \"a {x} {{b}} \\{c\\} \\n\\u{e9}\\\\\" :- p(x, \"s\\t\").\n\
                escalate e to \"\\u{1F600}\" :- p(1, 2).\ntest \"t\\\\\" { with data \"f\\\".json\" }\n";
    let parsed = parse(FileId(0), text);
    assert!(errors(&parsed).is_empty(), "{:?}", errors(&parsed));
    let rebuilt = format_source("", &parsed).unwrap();
    let reparsed = parse(FileId(0), &rebuilt);
    assert!(errors(&reparsed).is_empty(), "{rebuilt}");
    assert_eq!(normalize(parsed.file), normalize(reparsed.file), "{rebuilt}");
}

#[test]
fn keywords_are_field_names_and_any_key_is_a_quoted_name() {
    // Keywords stay bare where only a field's name can stand, even first on a line; every
    // other name that is no identifier, or a keyword, is quoted.
    let text = "input `tool-call`(type: Str,\ndata: Int, `risk`: Int, `my key`: Str, `a\\`b`: Str, plain: Str)\n\
                deny `deny` :- `tool-call`(`type`: `data`, risk: r, `plain`: _), r > `x-y`, `x-y` = 1.\n";
    assert_eq!(
        format_ok(text),
        "input `tool-call`(type: Str, data: Int, risk: Int, `my key`: Str, `a\\`b`: Str, plain: Str)\n\n\
         deny `deny` :- `tool-call`(type: `data`, risk: r, plain: _), r > `x-y`, `x-y` = 1.\n"
    );
    let parsed = parse(FileId(0), text);
    let gov_syntax::ast::ItemKind::Relation(decl) = &parsed.file.items[0].kind else { panic!() };
    let names: Vec<&str> = decl.fields.iter().map(|f| f.name.text.as_str()).collect();
    assert_eq!(decl.name.text, "tool-call");
    assert_eq!(names, ["type", "data", "risk", "my key", "a`b", "plain"]);
}

#[test]
fn an_empty_or_badly_escaped_quoted_name_is_an_error() {
    for (text, message) in [
        ("input ``(x: Int)\n", "a quoted name cannot be empty"),
        ("input `a\\\"b`(x: Int)\n", "invalid escape in quoted name"),
    ] {
        let parsed = parse(FileId(0), text);
        assert_eq!(errors(&parsed), [message], "{text}");
    }
}

proptest! {
    /// Any key, written as the formatter writes a name, reads back as itself: as a relation's
    /// name, a field's and a variable's.
    #[test]
    fn any_key_round_trips_as_a_name(key in "\\PC{1,12}|[a\\x00-\\x1f]{1,3}|[a-z_`\\\\ -]{1,6}|type|data|to|_") {
        let relation = gov_syntax::format::name(&key);
        let text = format!("input {relation}({}: Str)\np({relation}) :- {relation}({relation}).\n", relation);
        let parsed = parse(FileId(0), &text);
        prop_assert!(errors(&parsed).is_empty(), "{text}: {:?}", errors(&parsed));
        let gov_syntax::ast::ItemKind::Relation(decl) = &parsed.file.items[0].kind else { panic!("{text}") };
        prop_assert_eq!(&decl.name.text, &key);
        prop_assert_eq!(&decl.fields[0].name.text, &key);
        round_trip(&text).map_err(TestCaseError::fail)?;
    }
}

// ---- random programs ------------------------------------------------------------------------------

/// Whether an item may, must or must not end with `.`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dot {
    Never,
    Optional(bool),
    Always,
}

/// A generated item: its tokens without the final `.`.
#[derive(Debug, Clone)]
struct GenItem {
    tokens: Vec<String>,
    dot: Dot,
}

fn tokens(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| (*s).to_owned()).collect()
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(options).prop_map(str::to_owned)
}

fn var() -> impl Strategy<Value = String> + Clone {
    pick(&["x", "y", "amt", "total", "a", "to", "_id", "`a b`"])
}

fn literal() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "0",
        "42",
        "-3",
        "12.50",
        "-0.5",
        "\"text\"",
        "\"esc \\\" \\n \\u{e9} // not a comment\"",
        "true",
        "false",
        "15m",
        "-1h30m",
        "2026-01-31T09:00:00Z",
    ])
}

/// An arithmetic expression, as tokens, with random parentheses.
fn expr() -> impl Strategy<Value = Vec<String>> + Clone {
    let leaf = prop_oneof![4 => var().prop_map(|v| vec![v]), 2 => literal().prop_map(|l| vec![l]), 1 => Just(vec!["_".to_owned()])];
    leaf.prop_recursive(3, 16, 2, |inner| {
        (inner.clone(), pick(&["+", "-", "*", "/"]), inner, any::<bool>(), any::<bool>()).prop_map(
            |(left, op, right, pl, pr)| {
                let wrap = |e: Vec<String>, p: bool| {
                    if p { [vec!["(".to_owned()], e, vec![")".to_owned()]].concat() } else { e }
                };
                [wrap(left, pl), vec![op], wrap(right, pr)].concat()
            },
        )
    })
}

fn atom_with(args: impl Strategy<Value = Vec<String>> + Clone) -> impl Strategy<Value = Vec<String>> + Clone {
    let positional = prop::collection::vec(args.clone(), 0..4);
    let named = prop::collection::vec((pick(&["agent", "amount", "to", "type", "risk", "`my-key`"]), args), 1..3);
    let args = prop_oneof![
        positional.prop_map(|args| args.into_iter().map(|a| vec![a]).collect::<Vec<_>>()),
        named.prop_map(|args| args.into_iter().map(|(f, a)| vec![vec![f, ":".to_owned()], a]).collect()),
    ];
    (pick(&["p", "q", "transfer", "role", "`tool-call`", "`data`"]), args).prop_map(|(relation, args)| {
        let mut out = vec![relation, "(".to_owned()];
        for (i, arg) in args.into_iter().enumerate() {
            if i > 0 {
                out.push(",".to_owned());
            }
            out.extend(arg.into_iter().flatten());
        }
        out.push(")".to_owned());
        out
    })
}

fn atom() -> impl Strategy<Value = Vec<String>> + Clone {
    atom_with(expr())
}

fn comparison() -> impl Strategy<Value = Vec<String>> + Clone {
    (expr(), pick(&["=", "!=", "<", "<=", ">", ">="]), expr()).prop_map(|(l, op, r)| [l, vec![op], r].concat())
}

fn simple_condition() -> impl Strategy<Value = Vec<String>> + Clone {
    prop_oneof![3 => atom(), 1 => atom().prop_map(|a| [vec!["not".to_owned()], a].concat()), 2 => comparison()]
}

fn aggregate() -> impl Strategy<Value = Vec<String>> + Clone {
    (var(), pick(&["sum", "count", "min", "max"]), expr(), prop::collection::vec(simple_condition(), 1..3)).prop_map(
        |(v, f, target, body)| {
            [
                vec![v, "=".to_owned(), f, "(".to_owned()],
                target,
                vec![":".to_owned()],
                comma(body),
                vec![")".to_owned()],
            ]
            .concat()
        },
    )
}

fn comma(parts: Vec<Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(",".to_owned());
        }
        out.extend(part);
    }
    out
}

fn body() -> impl Strategy<Value = Vec<String>> + Clone {
    let condition = prop_oneof![4 => simple_condition(), 1 => aggregate()];
    prop::collection::vec(condition, 0..5).prop_map(|conditions| {
        if conditions.is_empty() { Vec::new() } else { [vec![":-".to_owned()], comma(conditions)].concat() }
    })
}

fn message() -> impl Strategy<Value = Vec<String>> + Clone {
    prop::option::of(pick(&[
        "\"transfer of {amt} exceeds the {total} limit\"",
        "\"plain\"",
        "\"braces {{literal}} and \\{escaped\\}\"",
        "\"quote \\\" and {x}\"",
        "\"\"",
    ]))
    .prop_map(|m| m.into_iter().collect())
}

fn annotations() -> impl Strategy<Value = Vec<String>> + Clone {
    prop::option::of(pick(&["a", "b", "c"])).prop_map(|arg| match arg {
        Some(arg) => tokens(&["@", "overrides", "(", &arg, ",", "r9", ")"]),
        None => Vec::new(),
    })
}

fn decision() -> impl Strategy<Value = GenItem> {
    let name = pick(&["too_large", "r1", "big"]);
    let head = prop_oneof![
        (pick(&["deny", "allow", "obligation"]), name.clone()).prop_map(|(e, n)| vec![e, n]),
        (name.clone(), prop::option::of(pick(&["\"finance\"", "\"fraud-desk\""]))).prop_map(|(n, to)| [
            tokens(&["escalate", &n]),
            to.map(|g| vec!["to".to_owned(), g]).unwrap_or_default()
        ]
        .concat()),
        (name, pick(&["30", "-5", "score"])).prop_map(|(n, points)| tokens(&["risk", &n, &points])),
    ];
    (annotations(), head, message(), body()).prop_map(|(annotations, head, message, body)| GenItem {
        tokens: [annotations, head, message, body].concat(),
        dot: Dot::Always,
    })
}

fn rule() -> impl Strategy<Value = GenItem> {
    (pick(&["p", "q", "over_limit", "to"]), prop::collection::vec(expr(), 0..3), body()).prop_map(
        |(head, args, body)| {
            let head = [vec![head, "(".to_owned()], comma(args), vec![")".to_owned()]].concat();
            GenItem { tokens: [head, body].concat(), dot: Dot::Always }
        },
    )
}

fn declaration() -> impl Strategy<Value = GenItem> {
    let field = (pick(&["agent", "amount", "to", "type", "data", "`my key`"]), pick(&["Agent", "Int", "Str"]))
        .prop_map(|(n, t)| vec![n, ":".to_owned(), t]);
    prop_oneof![
        (
            pick(&["input", "data"]),
            pick(&["transfer", "role"]),
            prop::collection::vec(field, 0..4),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(kind, name, fields, trailing_comma, dot)| {
                let mut t = vec![kind, name, "(".to_owned()];
                let has_fields = !fields.is_empty();
                t.extend(comma(fields));
                if trailing_comma && has_fields {
                    t.push(",".to_owned());
                }
                t.push(")".to_owned());
                GenItem { tokens: t, dot: Dot::Optional(dot) }
            }),
        (pick(&["Agent", "Account"]), pick(&["Str", "Int", "to"]), any::<bool>()).prop_map(|(n, target, dot)| {
            GenItem { tokens: tokens(&["type", &n, "=", &target]), dot: Dot::Optional(dot) }
        }),
        (pick(&["allow", "deny"]), any::<bool>())
            .prop_map(|(d, dot)| GenItem { tokens: tokens(&["default", &d]), dot: Dot::Optional(dot) }),
        pick(&["std.approvals", "x", "a.b.c"]).prop_map(|p| GenItem { tokens: tokens(&["use", &p]), dot: Dot::Never }),
    ]
}

fn test_block() -> impl Strategy<Value = GenItem> {
    let fact = atom_with(literal().prop_map(|l| vec![l])).prop_map(|a| [a, vec![".".to_owned()]].concat());
    let statement = prop_oneof![
        Just(tokens(&["with", "data", "\"fixtures/d.json\""])),
        prop::collection::vec(fact, 1..4).prop_map(|facts| [vec!["given".to_owned()], facts.concat()].concat()),
        Just(tokens(&["expect", "deny", "too_large", "r1"])),
        Just(tokens(&["expect", "escalate", "big", "to", "\"finance\""])),
        Just(tokens(&["expect", "risk", "30"])),
        Just(tokens(&["expect", "error"])),
        Just(tokens(&["expect", "allow"])),
    ];
    (pick(&["\"a test\"", "\"esc \\\" {x}\""]), prop::collection::vec(statement, 0..4)).prop_map(
        |(name, statements)| GenItem {
            tokens: [tokens(&["test", &name, "{"]), statements.concat(), vec!["}".to_owned()]].concat(),
            dot: Dot::Never,
        },
    )
}

/// Whitespace and comments between two tokens of an item (never leaving a token in column 1);
/// the first `PLAIN_INNER` have no comment.
const INNER: [&str; 15] = [
    " ",
    " ",
    " ",
    " ",
    " ",
    " ",
    "  ",
    "\n  ",
    "\n    ",
    "\n\n    ",
    "\n       ",
    "\n\t",
    " // trailing inside\n   ",
    "\n// own line inside\n  ",
    "\n      // indented inside\n  ",
];
const PLAIN_INNER: usize = 12;

/// Whitespace and comments between items (always ending with a line break); the first
/// `PLAIN_BETWEEN` have no comment.
const BETWEEN: [&str; 11] = [
    "\n",
    "\n",
    "\n\n",
    "\n\n\n",
    " // trailing after\n",
    "\n// between\n",
    "\n/// doc line\n",
    "\n/// doc one\n///\n///   doc three\n",
    "\n\n// section\n\n/// doc\n",
    "\n/// loose doc\n// blocker\n",
    " /// trailing doc, read as the next item's\n",
];
const PLAIN_BETWEEN: usize = 4;

/// Renders items as messy source text, choosing separators from `seps`.
fn render(package: bool, mut items: Vec<GenItem>, seps: &[usize], commented: bool) -> String {
    let mut next_sep = seps.iter().copied().cycle();
    let (inner, between) = if commented { (INNER.len(), BETWEEN.len()) } else { (PLAIN_INNER, PLAIN_BETWEEN) };
    let mut out = String::from(
        ["", "\n\n", "// header\n", "// header\n\n"][next_sep.next().unwrap() % if commented { 4 } else { 2 }],
    );
    if package {
        items.insert(0, GenItem { tokens: tokens(&["package", "payments.core"]), dot: Dot::Never });
    }
    // A rule deriving `to` continues an item without `.` before it; keep such rules after items with one.
    for i in 1..items.len() {
        if items[i].tokens[0] == "to" && items[i - 1].dot == Dot::Never {
            items[i].tokens[0] = "p".to_owned();
        }
    }
    for i in 0..items.len() {
        let item = &items[i];
        let next_is_to = items.get(i + 1).is_some_and(|n| n.tokens[0] == "to");
        let ends_with_to = item.tokens.last().is_some_and(|t| t == "to");
        let dot = match item.dot {
            Dot::Never => false,
            Dot::Always => true,
            Dot::Optional(chosen) => chosen || next_is_to || ends_with_to,
        };
        for (k, token) in item.tokens.iter().enumerate() {
            if k > 0 {
                out.push_str(INNER[next_sep.next().unwrap() % inner]);
            }
            out.push_str(token);
        }
        if dot {
            out.push_str(INNER[next_sep.next().unwrap() % inner]);
            out.push('.');
        }
        out.push_str(BETWEEN[next_sep.next().unwrap() % between]);
    }
    out
}

fn program() -> impl Strategy<Value = String> {
    let item = prop_oneof![3 => rule(), 3 => decision(), 2 => declaration(), 1 => test_block()];
    (any::<bool>(), prop::collection::vec(item, 0..8), prop::collection::vec(0..1000usize, 1..256), any::<bool>())
        .prop_map(|(package, items, seps, commented)| render(package, items, &seps, commented))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_round_trip(text in program()) {
        if let Err(problem) = round_trip(&text) {
            prop_assert!(false, "{}", problem);
        }
    }
}
