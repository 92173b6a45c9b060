#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Property tests of the fragment's newer parts against brute-force searches over a small
//! domain: the string tests (`str.starts_with`, `str.ends_with`, `str.contains`, negated
//! too, and string equality), string orders (`<`, `<=`, `>`, `>=` between the request's two
//! strings and with constants, by bytes as the engine orders them) and `risk_score`
//! thresholds. "Disjoint" is said only where the
//! brute force finds nothing, every candidate is confirmed by the engine, and where the
//! brute force finds a witness the analysis proposes one (never "unknown").

use gov_analysis::Outcome;
use gov_driver::Package;
use gov_driver::analysis;
use proptest::prelude::*;

#[path = "support/conditions.rs"]
mod conditions;
use conditions::{Cond, DERIVED, OPS, body, compare, cond_or_derived, holds};

/// A condition on the request's one string `s`.
#[derive(Debug, Clone)]
enum StrCond {
    /// `[not] str.<test>(s, "<pattern>")`
    Test(bool, &'static str, &'static str),
    /// `s = "<c>"` or `s != "<c>"`
    Equals(bool, &'static str),
}

const TESTS: [&str; 3] = ["starts_with", "ends_with", "contains"];
const PATTERNS: [&str; 6] = ["", "a", "b", "ab", "ba", "aa"];

fn str_cond() -> impl Strategy<Value = StrCond> {
    prop_oneof![
        3 => (any::<bool>(), prop::sample::select(&TESTS[..]), prop::sample::select(&PATTERNS[..]))
            .prop_map(|(n, t, p)| StrCond::Test(n, t, p)),
        1 => (any::<bool>(), prop::sample::select(&PATTERNS[..])).prop_map(|(n, c)| StrCond::Equals(n, c)),
    ]
}

fn str_text(c: &StrCond) -> String {
    match c {
        StrCond::Test(negated, test, pattern) => {
            format!("{}str.{test}(s, \"{pattern}\")", if *negated { "not " } else { "" })
        }
        StrCond::Equals(negated, c) => format!("s {} \"{c}\"", if *negated { "!=" } else { "=" }),
    }
}

fn str_holds(c: &StrCond, s: &str) -> bool {
    match c {
        StrCond::Test(negated, test, pattern) => {
            let passes = match *test {
                "starts_with" => s.starts_with(pattern),
                "ends_with" => s.ends_with(pattern),
                _ => s.contains(pattern),
            };
            passes != *negated
        }
        StrCond::Equals(negated, c) => (s == *c) != *negated,
    }
}

/// Every string over `a`, `b`, `c` of at most 7 letters.
fn strings() -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..7 {
        last = last.iter().flat_map(|s| ['a', 'b', 'c'].map(|c| format!("{s}{c}"))).collect();
        all.extend(last.iter().cloned());
    }
    all
}

/// The constants string orders are drawn with: `""` (the least string), and `"a\0"` (the
/// least string above `"a"`).
const ORDER_CONSTANTS: [&str; 6] = ["", "a", "a\0", "ab", "b", "ba"];

/// A condition on the request's strings `s` and `u`.
#[derive(Debug, Clone)]
enum OrderCond {
    /// A condition on `s` alone.
    Str(StrCond),
    /// `s op "<c>"` (`true`) or `u op "<c>"`.
    Const(bool, &'static str, &'static str),
    /// `s op u`
    Vars(&'static str),
}

fn order_cond() -> impl Strategy<Value = OrderCond> {
    prop_oneof![
        2 => str_cond().prop_map(OrderCond::Str),
        2 => (any::<bool>(), prop::sample::select(&OPS[..]), prop::sample::select(&ORDER_CONSTANTS[..]))
            .prop_map(|(s, op, c)| OrderCond::Const(s, op, c)),
        1 => prop::sample::select(&OPS[..]).prop_map(OrderCond::Vars),
    ]
}

fn order_text(c: &OrderCond) -> String {
    let literal = |c: &str| c.replace('\0', "\\u{0}");
    match c {
        OrderCond::Str(c) => str_text(c),
        OrderCond::Const(s, op, c) => format!("{} {op} \"{}\"", if *s { "s" } else { "u" }, literal(c)),
        OrderCond::Vars(op) => format!("s {op} u"),
    }
}

fn order_holds(c: &OrderCond, s: &str, u: &str) -> bool {
    let ordered = |a: &str, op: &str, b: &str| compare_ord(a.cmp(b), op);
    match c {
        OrderCond::Str(c) => str_holds(c, s),
        OrderCond::Const(is_s, op, c) => ordered(if *is_s { s } else { u }, op, c),
        OrderCond::Vars(op) => ordered(s, op, u),
    }
}

/// Whether two values ordered as `ordering` satisfy `op`, one of [`OPS`].
fn compare_ord(ordering: std::cmp::Ordering, op: &str) -> bool {
    match op {
        "=" => ordering.is_eq(),
        "!=" => ordering.is_ne(),
        "<" => ordering.is_lt(),
        "<=" => ordering.is_le(),
        ">" => ordering.is_gt(),
        _ => ordering.is_ge(),
    }
}

/// Every string over `"\0"`, `a`, `b`, `c` of at most `n` characters.
fn strings_with_nul(n: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..n {
        last = last.iter().flat_map(|s| ['\0', 'a', 'b', 'c'].map(|c| format!("{s}{c}"))).collect();
        all.extend(last.iter().cloned());
    }
    all
}

/// The first pair's outcome, checked against `exists` (a brute-force witness was found); with
/// `bounded`, an unknown past one of the search's bounds ("more than …") is accepted.
fn check_pair(source: &str, exists: bool, bounded: bool) -> Result<(), TestCaseError> {
    let package = Package::from_sources(vec![("p.gov".to_owned(), source.to_owned())]).unwrap();
    prop_assert!(package.errors().is_none(), "{source}\n{:?}", package.errors().map(|e| e.diagnostics));
    let ir = package.ir().unwrap();
    let pair = gov_analysis::pairs(&ir, gov_analysis::Data::Any).into_iter().next().unwrap();
    match &pair.outcome {
        Outcome::Disjoint => prop_assert!(!exists, "claimed disjoint, but brute force finds a witness:\n{source}"),
        Outcome::Candidate(witness) => {
            let confirmed = analysis::confirm(&ir, &package.sources(), &[], pair.allow, pair.other, witness);
            prop_assert!(confirmed.is_ok(), "{source}\n{witness:?}\n{confirmed:?}");
        }
        Outcome::Unknown(reason) if bounded && reason.contains("more than") => {}
        Outcome::Unknown(reason) => {
            prop_assert!(!exists, "unknown ({reason}) where brute force finds a witness:\n{source}")
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn string_tests_agree_with_brute_force(
        allow in prop::collection::vec(str_cond(), 0..4),
        deny in prop::collection::vec(str_cond(), 0..4),
    ) {
        let text = |conds: &[StrCond]| {
            std::iter::once("t(s)".to_owned()).chain(conds.iter().map(str_text)).collect::<Vec<_>>().join(", ")
        };
        let source = format!("package p\ninput one t(s: Str)\nallow a :- {}.\ndeny d :- {}.\n", text(&allow), text(&deny));
        let exists = strings().iter().any(|s| allow.iter().chain(&deny).all(|c| str_holds(c, s)));
        check_pair(&source, exists, false)?;
    }

    #[test]
    fn string_orders_agree_with_brute_force(
        allow in prop::collection::vec(order_cond(), 0..4),
        deny in prop::collection::vec(order_cond(), 0..4),
    ) {
        let text = |conds: &[OrderCond]| {
            std::iter::once("t(s, u)".to_owned()).chain(conds.iter().map(order_text)).collect::<Vec<_>>().join(", ")
        };
        let source =
            format!("package p\ninput one t(s: Str, u: Str)\nallow a :- {}.\ndeny d :- {}.\n", text(&allow), text(&deny));
        let (long, short) = (strings_with_nul(5), strings_with_nul(3));
        let exists = long.iter().any(|s| {
            short.iter().any(|u| allow.iter().chain(&deny).all(|c| order_holds(c, s, u)))
        });
        check_pair(&source, exists, false)?;
    }

    #[test]
    fn risk_thresholds_agree_with_brute_force(
        risks in prop::collection::vec((-10i64..60, prop::collection::vec(cond_or_derived(), 0..3)), 0..4),
        op in prop::sample::select(&OPS[..]),
        threshold in prop::sample::select(&[0i64, 20, 30, 50, 60][..]),
        deny in prop::collection::vec(cond_or_derived(), 0..3),
    ) {
        let mut source = format!("package p\ninput one t(x: Int, y: Int)\ndata dd(v: Int)\n{DERIVED}");
        for (i, (points, conds)) in risks.iter().enumerate() {
            source.push_str(&format!("risk r{i} {points} :- {}.\n", body(conds)));
        }
        source.push_str(&format!("allow a :- risk_score(s), s {op} {threshold}.\ndeny d :- {}.\n", body(&deny)));
        let score = |x: i64, y: i64, dd: &[i64]| -> i64 {
            risks.iter().filter(|(_, conds)| conds.iter().all(|c: &Cond| holds(c, x, y, dd))).map(|(p, _)| p).sum()
        };
        let exists = (-2..=5).any(|x| {
            (-2..=5).any(|y| {
                [vec![], vec![x], vec![y], vec![x, y]].iter().any(|dd| {
                    compare(score(x, y, dd), op, threshold) && deny.iter().all(|c| holds(c, x, y, dd))
                })
            })
        });
        // Risk rules that read the negated derived relation multiply the alternatives of
        // every set's negations past the bound: those draws may be unknown, saying so.
        let derived = risks.iter().flat_map(|(_, conds)| conds).chain(&deny).any(|c| matches!(c, Cond::Derived(..)));
        check_pair(&source, exists, derived)?;
    }
}
