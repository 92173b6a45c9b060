#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Bad input never panics: each hostile or broken input gets a diagnostic and the right
//! exit code (1 for problems in the policy, 2 for usage and IO errors), never a panic, an
//! abort or a stack overflow. Every case runs the real binary on files generated into a
//! fresh directory under the system's temporary directory.

use serde_json::Value;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `govc` with `args`, asserting that it exited on its own, without a panic.
fn govc<S: AsRef<OsStr>>(args: &[S]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_govc")).args(args).env("NO_COLOR", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let Some(code) = output.status.code() else {
        panic!("govc was killed by a signal ({}):\n{stderr}", output.status);
    };
    assert!(!stderr.contains("panicked"), "govc panicked:\n{stderr}");
    assert!(!stderr.contains("overflow"), "govc overflowed its stack:\n{stderr}");
    assert!(code == 0 || code == 1 || code == 2, "exit code {code}:\n{stderr}");
    Run { stdout: String::from_utf8(output.stdout).unwrap(), stderr, code }
}

/// A path in a fresh directory of one test's own, removed with everything in it when the
/// value is dropped (so the cases, some of them 10 MB, do not pile up under /tmp).
struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> Scratch {
    let dir = tempfile::Builder::new().prefix(&format!("govc-bad-input-{name}-")).tempdir().unwrap();
    let path = dir.path().to_path_buf();
    Scratch { _dir: dir, path }
}

/// Writes `bytes` to `name` in a fresh scratch directory and returns the file's path.
fn file(test: &str, name: &str, bytes: impl AsRef<[u8]>) -> Scratch {
    let Scratch { _dir, path } = scratch(test);
    let path = path.join(name);
    std::fs::write(&path, bytes).unwrap();
    Scratch { _dir, path }
}

/// `govc check PATH --format json`, with its output parsed.
fn check_json(path: &Path) -> (Run, Value) {
    let run = govc(&[OsStr::new("check"), path.as_os_str(), OsStr::new("--format"), OsStr::new("json")]);
    let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout));
    (run, json)
}

/// Checks `path` in every output format: same exit code in each, no panic rendering any
/// diagnostic. Returns the JSON run.
fn check(path: &Path) -> (Run, Value) {
    let (run, json) = check_json(path);
    for format in ["human", "sarif"] {
        let other = govc(&[OsStr::new("check"), path.as_os_str(), OsStr::new("--format"), OsStr::new(format)]);
        assert_eq!(other.code, run.code, "exit code with --format {format}");
        assert!(!other.stdout.is_empty(), "--format {format} printed nothing");
    }
    (run, json)
}

fn diagnostics(json: &Value) -> &Vec<Value> {
    json["diagnostics"].as_array().unwrap()
}

fn codes(json: &Value) -> Vec<&str> {
    diagnostics(json).iter().map(|d| d["code"].as_str().unwrap()).collect()
}

/// The first diagnostic with `code`.
fn find<'j>(json: &'j Value, code: &str) -> &'j Value {
    diagnostics(json)
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {}", codes(json).join(", ")))
}

#[test]
fn non_utf8_file_is_e0006_at_the_first_bad_byte() {
    let path = file("non-utf8", "latin1.gov", b"package p\n\n// caf\xe9\n");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0006"]);
    let diagnostic = find(&json, "E0006");
    assert_eq!(diagnostic["start"]["offset"], 17);
    assert_eq!(diagnostic["start"]["line"], 3);
    assert!(diagnostic["message"].as_str().unwrap().contains("byte offset 17"), "{diagnostic}");
}

#[test]
fn non_utf8_file_next_to_a_good_one_is_reported_alone() {
    let dir = scratch("non-utf8-dir");
    std::fs::write(dir.join("a.gov"), "package p\n\ninput x(a: Int)\n\ndeny d :- x(_).\n").unwrap();
    std::fs::write(dir.join("b.gov"), b"package p\n\xff\xfe\x00\n").unwrap();
    let (run, json) = check(&dir);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0006"]);
    assert_eq!(find(&json, "E0006")["start"]["offset"], 10);
}

#[test]
fn empty_file_is_a_missing_package_declaration() {
    let path = file("empty", "empty.gov", "");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0008"]);
    assert_eq!(find(&json, "E0008")["start"]["offset"], 0);
}

#[test]
fn file_of_only_comments_is_a_missing_package_declaration() {
    let path =
        file("comments", "comments.gov", "// nothing here yet\n/// not even a doc comment of anything\n\n// the end");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0008"]);
}

#[test]
fn whitespace_only_file_is_a_missing_package_declaration() {
    let path = file("whitespace", "blank.gov", " \n\t\r\n\x0c\n   ");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0008"]);
}

/// A 10 MB package of valid rules, with doc comments, trailing comments, negation,
/// decisions and a dependency chain of more than 100 000 relations (deep enough to
/// overflow any recursive graph walk): it checks, completely and cleanly, and builds.
#[test]
fn ten_megabyte_file_checks_and_builds() {
    let mut text = String::from("package big\n\ndata blocked(agent: Str)\n\nc0(a) :- blocked(a).\n");
    let mut block = 0;
    let mut link = 0;
    while text.len() < 10 * 1024 * 1024 {
        let _ = write!(
            text,
            "\n/// Block {block}: a data relation, a rule, a decision and links of a long chain.
data d{block}(agent: Str, amount: Int)
r{block}(a, n) :- d{block}(a, n), n > {block}, not blocked(a). // big enough
deny big{block} \"too much: {{n}}\" :- r{block}(_, n), n >= 1000.
"
        );
        for _ in 0..4 {
            let _ = writeln!(text, "c{}(a) :- c{link}(a).", link + 1);
            link += 1;
        }
        block += 1;
    }
    let _ = writeln!(text, "\ndeny chained :- c{link}(_).");
    assert!(link > 100_000, "{link}");
    let path = file("ten-megabytes", "big.gov", &text);
    let (run, json) = check_json(&path);
    assert_eq!(run.code, 0, "{}", codes(&json).join(", "));
    assert_eq!(codes(&json), Vec::<&str>::new());
    let bundle = path.with_extension("govb");
    let build = govc(&[OsStr::new("build"), path.as_os_str(), OsStr::new("-o"), bundle.as_os_str()]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert!(build.stdout.starts_with("wrote "), "{}", build.stdout);
}

/// `govc test` compiles the package too: a chain of 100 000 relations, tested end to end
/// (the fact travels the whole chain), runs without overflowing the stack.
#[test]
fn hundred_thousand_relation_chain_is_tested() {
    let links = 100_000;
    let mut text = String::from("package chain\n\ninput start(agent: Str)\n\nc0(a) :- start(a).\n");
    for link in 1..=links {
        let _ = writeln!(text, "c{link}(a) :- c{}(a).", link - 1);
    }
    let _ = writeln!(text, "\ndeny chained :- c{links}(_).\n");
    text.push_str("test \"the end of the chain\" {\n    given start(\"bot\").\n    expect deny chained\n}\n");
    let path = file("chain", "chain.gov", &text);
    let run = govc(&[OsStr::new("test"), path.as_os_str()]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn ten_thousand_nested_parentheses_are_e0005() {
    let depth = 10_000;
    let text = format!(
        "package p\n\ninput x(a: Int)\n\ndeny deep :- x(a), {}a{} > 1.\n\ndeny shallow :- x(_).\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let path = file("parens", "parens.gov", text);
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0005"]);
    // The item is the rule, from its first token to its last.
    let diagnostic = find(&json, "E0005");
    assert_eq!(diagnostic["start"]["line"], 5);
    assert_eq!(diagnostic["end"]["line"], 5);
}

#[test]
fn ten_thousand_unclosed_parentheses_are_e0005() {
    let path = file("unclosed-parens", "unclosed.gov", format!("package p\n\nx(a) :- y({}\n", "(".repeat(10_000)));
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert!(codes(&json).contains(&"E0005"), "{}", codes(&json).join(", "));
}

#[test]
fn ten_thousand_nested_braces_are_e0005() {
    let depth = 10_000;
    let text = format!("package p\n\ntest \"deep\" {}{}\n", "{".repeat(depth), "}".repeat(depth));
    let path = file("braces", "braces.gov", text);
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0005"]);
}

#[test]
fn ten_thousand_unclosed_braces_are_e0005() {
    let path = file("unclosed-braces", "unclosed.gov", format!("package p\n\ntest \"t\" {}\n", "{".repeat(10_000)));
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert!(codes(&json).contains(&"E0005"), "{}", codes(&json).join(", "));
}

/// `1 + 1 + … + 1` nests as deep as it has operators, without a single parenthesis.
#[test]
fn hundred_thousand_operators_in_one_expression_are_e0005() {
    let sum = vec!["1"; 100_000].join(" + ");
    let text = format!("package p\n\ninput x(a: Int)\n\ndeny deep :- x(a), a = {sum}.\n\ndeny shallow :- x(_).\n");
    let path = file("operators", "operators.gov", text);
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0005"]);
}

#[test]
fn nul_bytes_are_e0003() {
    let path = file("nul", "nul.gov", "package p\n\0\0\0\ninput x(a: Int)\n\ndeny d :- x(_).\n");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0003"]);
    let diagnostic = find(&json, "E0003");
    assert_eq!(diagnostic["start"]["offset"], 10);
    assert_eq!(diagnostic["end"]["offset"], 13);
}

#[test]
fn nul_bytes_inside_a_rule_are_e0003() {
    let path = file("nul-rule", "nul.gov", "package p\n\ninput x(a: Int)\n\ndeny d :- x(\0_).\n");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert!(codes(&json).contains(&"E0003"), "{}", codes(&json).join(", "));
}

#[test]
fn directory_without_gov_files_is_e0007_and_exit_2() {
    let dir = scratch("no-sources");
    std::fs::write(dir.join("README.md"), "# not a policy\n").unwrap();
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(dir.join("nested/inner.gov"), "package inner\n").unwrap();
    let (run, json) = check(&dir);
    assert_eq!(run.code, 2);
    assert_eq!(codes(&json), ["E0007"]);
}

#[test]
fn missing_path_is_exit_2_with_a_message() {
    let path = scratch("missing").join("does-not-exist");
    let run = govc(&[OsStr::new("check"), path.as_os_str(), OsStr::new("--format"), OsStr::new("json")]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does-not-exist"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// A single line of 1 MB: one rule with 80 000 conditions (far too long to compile: E0601
/// at its name) and an unknown relation at the very end, so the human output must excerpt
/// the line.
#[test]
fn very_long_line_is_checked_and_excerpted() {
    let conditions = vec!["x(a)"; 80_000].join(", ");
    let text = format!("package p\n\ninput x(a: Int)\n\ndeny long :- {conditions}, nope(a).\n");
    let path = file("long-line", "long.gov", text);
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0601", "E0101"]);
    assert_eq!(find(&json, "E0101")["start"]["line"], 5);
}

#[test]
fn lone_quote_is_an_unterminated_string() {
    let path = file("quote", "quote.gov", "\"");
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    let diagnostic = find(&json, "E0003");
    assert_eq!(diagnostic["start"]["offset"], 0);
    assert_eq!(diagnostic["end"]["offset"], 1);
}

#[test]
fn unterminated_string_in_a_rule_is_e0003() {
    let path = file(
        "unterminated",
        "unterminated.gov",
        "package p\n\ninput x(a: Str)\n\ndeny d :- x(a), a = \"oops.\n\ndeny e :- x(_).\n",
    );
    let (run, json) = check(&path);
    assert_eq!(run.code, 1);
    assert_eq!(find(&json, "E0003")["start"]["line"], 5);
}

/// (code, line, column) of every diagnostic.
fn positions(json: &Value) -> Vec<(String, u64, u64)> {
    diagnostics(json)
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["start"]["line"].as_u64().unwrap(),
                d["start"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// CRLF line endings work exactly like LF: same diagnostics at the same lines and columns,
/// including the recovery from a missing `.` at the end of a line.
#[test]
fn crlf_line_endings_work_like_lf() {
    let lf = "package p

/// Transfers come with each request.
input transfer(agent: Str, amount: Int)
data frozen(agent: Str)

// The next rule lacks its `.`; the item after it starts a line.
big(a) :- transfer(a, amount), amount > 1000
deny too_big \"{a} moved too much\" :- big(a), not frozen(a).
deny missing :- nope(_).
test \"frozen agents are fine\" {
  given transfer(\"bot\", 5000). frozen(\"bot\").
  expect allow
}
";
    let crlf = lf.replace('\n', "\r\n");
    let (lf_run, lf_json) = check(&file("lf", "lf.gov", lf));
    let (crlf_run, crlf_json) = check(&file("crlf", "crlf.gov", &crlf));
    assert_eq!(lf_run.code, 1);
    assert_eq!(crlf_run.code, lf_run.code);
    let expected = positions(&lf_json);
    assert!(expected.iter().any(|(code, line, _)| code == "E0002" && *line == 8), "{expected:?}");
    assert!(expected.iter().any(|(code, line, _)| code == "E0101" && *line == 10), "{expected:?}");
    assert_eq!(positions(&crlf_json), expected);
}

#[test]
fn crlf_file_without_problems_is_clean() {
    let text = "package p\r\n\r\ninput x(a: Int)\r\n\r\n/// Doc.\r\ndeny d \"{a}\" :- x(a), a > 1.\r\n";
    let (run, json) = check(&file("crlf-clean", "clean.gov", text));
    assert_eq!(run.code, 0, "{}", codes(&json).join(", "));
    assert_eq!(codes(&json), Vec::<&str>::new());
}

#[test]
fn lone_carriage_returns_and_control_characters_do_not_panic() {
    let text = "package p\r\rinput x(a: Int)\x0b\x1b[31m\u{feff}\ndeny d :- x(_).\u{2028}\n";
    let (run, json) = check(&file("control", "control.gov", text));
    assert_eq!(run.code, 1);
    assert!(codes(&json).contains(&"E0003"), "{}", codes(&json).join(", "));
}

/// `govc build PATH -o PATH.govb`.
fn build(path: &Path) -> Run {
    let bundle = path.with_extension("govb");
    govc(&[OsStr::new("build"), path.as_os_str(), OsStr::new("-o"), bundle.as_os_str()])
}

/// A package whose one shape grows with `n`: (what it is, package text).
type Grown = (&'static str, fn(usize) -> String);

/// Packages that reach a limit of the compiled form at `n` = the limit's value.
const AT_LIMIT: &[(Grown, usize)] = &[
    // 1 scan, n - 2 comparisons, the head: n instructions.
    (
        ("conditions", |n| {
            let conditions: Vec<String> = (0..n - 2).map(|i| format!("a != {i}")).collect();
            format!("package p\n\ninput x(a: Int)\n\ndeny d :- x(a), {}.\n", conditions.join(",\n    "))
        }),
        128,
    ),
    // 1 scan, (n - 3) / 2 comparisons of one addition each, a head of one addition.
    (
        ("arithmetic", |n| {
            let conditions: Vec<String> = (0..(n - 3) / 2).map(|i| format!("a + {i} != 0")).collect();
            let pad = if (n - 3) % 2 == 1 { ", a > 0" } else { "" };
            let rule = format!("p(a + 1) :- x(a), {}{pad}.", conditions.join(",\n    "));
            format!("package p\n\ninput x(a: Int)\n\n{rule}\n\ndeny d :- p(_).\n")
        }),
        128,
    ),
    // 1 scan, an assignment of an aggregate of 1 + (1 scan + n - 6 comparisons), a
    // comparison, the head (the bound counts the assignment, the code has none: n - 1).
    (
        ("aggregate", |n| {
            let conditions: Vec<String> = (0..n - 6).map(|i| format!("b != {i}")).collect();
            format!(
                "package p\n\ninput x(a: Int)\ninput y(b: Int)\n\ndeny d :- x(a), n = count(b : y(b), {}), n > a.\n",
                conditions.join(",\n    ")
            )
        }),
        128,
    ),
    (
        ("columns", |n| {
            let fields: Vec<String> = (0..n).map(|i| format!("f{i}: Int")).collect();
            format!("package p\n\ninput wide({})\n\ndeny d :- wide(f0: a), a > 1.\n", fields.join(", "))
        }),
        255,
    ),
    (
        ("negated columns", |n| {
            let fields: Vec<String> = (0..n).map(|i| format!("f{i}: Int")).collect();
            let args: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
            let (fields, args) = (fields.join(", "), args.join(", "));
            format!("package p\n\ninput x({fields})\ndata y({fields})\n\ndeny d :- x({args}), not y({args}).\n")
        }),
        32,
    ),
];

/// What `check` accepts, `build` builds, at every limit of the compiled form; one past the
/// limit, `check` reports E0601 and `build` refuses with the same diagnostic (never an
/// internal error).
#[test]
fn check_and_build_agree_at_every_limit_of_the_compiled_form() {
    for ((what, grow), limit) in AT_LIMIT {
        let at = file(&format!("limit-{what}"), "at.gov", grow(*limit));
        let (run, json) = check_json(&at);
        assert_eq!((run.code, codes(&json)), (0, vec![]), "{what} at the limit: {}", run.stdout);
        let built = build(&at);
        assert_eq!(built.code, 0, "{what} at the limit does not build: {}", built.stderr);

        let over = file(&format!("limit-{what}-over"), "over.gov", grow(limit + 1));
        let (run, json) = check_json(&over);
        assert_eq!((run.code, codes(&json)), (1, vec!["E0601"]), "{what} over the limit: {}", run.stdout);
        let refused = build(&over);
        assert_eq!(refused.code, 1, "{what} over the limit built");
        let printed = format!("{}{}", refused.stdout, refused.stderr);
        assert!(printed.contains("E0601") && !printed.contains("internal"), "{what}: {printed}");
    }
}

/// One rule of 10 000 conditions is refused by `check`, as soon as it is seen.
#[test]
fn rule_of_ten_thousand_conditions_is_e0601() {
    let conditions: Vec<String> = (0..10_000).map(|i| format!("a > {i}")).collect();
    let text = format!("package p\n\ninput x(a: Int)\n\ndeny long :- x(a), {}.\n", conditions.join(", "));
    let (run, json) = check(&file("ten-thousand-conditions", "long.gov", text));
    assert_eq!(run.code, 1);
    assert_eq!(codes(&json), ["E0601"]);
    assert!(find(&json, "E0601")["message"].as_str().unwrap().contains("10002 instructions"), "{json}");
}

/// Long chains of type aliases resolve (each alias is walked once), and a long cycle of
/// them is one error.
#[test]
fn twenty_thousand_chained_aliases_check() {
    let mut text = String::from("package p\n\ntype T0 = Int\n");
    for i in 1..20_000 {
        let _ = writeln!(text, "type T{i} = T{}", i - 1);
    }
    text.push_str("input x(a: T19999)\n\ndeny d :- x(a), a > 1.\n");
    let (run, json) = check_json(&file("alias-chain", "chain.gov", &text));
    assert_eq!((run.code, codes(&json)), (0, vec![]));

    let cycle = text.replacen("type T0 = Int", "type T0 = T19999", 1);
    let (run, json) = check_json(&file("alias-cycle", "cycle.gov", &cycle));
    assert_eq!((run.code, codes(&json)), (1, vec!["E0102"]));
    assert_eq!(find(&json, "E0102")["start"]["line"], 3);
}

/// `p(a, b, c) :- t(a), t(b), t(c).` over 1 000 input rows would hold a billion rows (it
/// used to abort on a 6 GB allocation): the rows count against the fact limit as the rule
/// produces them, so the request ends in a limit error, a deny with exit code 1.
#[test]
fn cross_product_of_a_thousand_rows_is_a_limit_error_not_an_abort() {
    let dir = scratch("cross-product");
    let policy = "package xprod\n\ninput t(x: Int)\n\np(a, b, c) :- t(a), t(b), t(c).\n\n\
                  deny many \"a cross product\" :- p(_, _, _).\n";
    std::fs::write(dir.join("policy.gov"), policy).unwrap();
    let rows: Vec<String> = (0..1_000).map(|i| format!("{{\"x\": {i}}}")).collect();
    let request = dir.join("request.json");
    std::fs::write(&request, format!("{{\"t\": [{}]}}", rows.join(", "))).unwrap();
    let eval = |extra: &[&str]| {
        let mut args = vec![OsStr::new("eval"), dir.as_os_str(), OsStr::new("--input"), request.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        let run = govc(&args);
        let json: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
        (run, json)
    };
    let (run, json) = eval(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(json["decision"], "deny");
    let error = json["error"].as_str().unwrap();
    assert!(error.starts_with("evaluation limit exceeded: more than "), "{error}");
    assert!(run.stderr.contains("--max-facts"), "{}", run.stderr);
    // The flags set the limits.
    let (run, json) = eval(&["--max-facts", "5000"]);
    assert_eq!(run.code, 1);
    assert_eq!(json["error"], "evaluation limit exceeded: more than 5000 facts");
    let (_, json) = eval(&["--max-fact-bytes", "100000"]);
    assert_eq!(json["error"], "evaluation limit exceeded: more than 100000 bytes of facts");
    let (_, json) = eval(&["--max-steps", "20000"]);
    assert_eq!(json["error"], "evaluation limit exceeded: more than 20000 steps");
}
