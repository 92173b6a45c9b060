#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Property test of the conflict analysis over random pairs of rules in its fragment: the
//! analysis says "disjoint" exactly when a brute-force search over a small domain finds no
//! request and data on which both rules fire, and every candidate it proposes is confirmed
//! by the engine.

use gov_analysis::Outcome;
use gov_driver::Package;
use gov_driver::analysis;
use proptest::prelude::*;

/// A condition over the request's one fact `t(x, y)` and the data relation `dd`.
#[derive(Debug, Clone)]
enum Cond {
    /// `var op constant`
    Const(bool, &'static str, i64),
    /// `x op y`
    Vars(&'static str),
    /// `dd(var)` or `not dd(var)`
    Data(bool, bool),
}

const OPS: [&str; 6] = ["=", "!=", "<", "<=", ">", ">="];

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        (any::<bool>(), prop::sample::select(&OPS[..]), 0i64..4).prop_map(|(x, op, c)| Cond::Const(x, op, c)),
        prop::sample::select(&OPS[..]).prop_map(Cond::Vars),
        (any::<bool>(), any::<bool>()).prop_map(|(x, negated)| Cond::Data(x, negated)),
    ]
}

fn var(x: bool) -> &'static str {
    if x { "x" } else { "y" }
}

fn text(cond: &Cond) -> String {
    match cond {
        Cond::Const(x, op, c) => format!("{} {op} {c}", var(*x)),
        Cond::Vars(op) => format!("x {op} y"),
        Cond::Data(x, false) => format!("dd({})", var(*x)),
        Cond::Data(x, true) => format!("not dd({})", var(*x)),
    }
}

fn compare(a: i64, op: &str, b: i64) -> bool {
    match op {
        "=" => a == b,
        "!=" => a != b,
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        _ => a >= b,
    }
}

fn holds(cond: &Cond, x: i64, y: i64, dd: &[i64]) -> bool {
    let value = |is_x: bool| if is_x { x } else { y };
    match cond {
        Cond::Const(is_x, op, c) => compare(value(*is_x), op, *c),
        Cond::Vars(op) => compare(x, op, y),
        Cond::Data(is_x, negated) => dd.contains(&value(*is_x)) != *negated,
    }
}

/// Whether some request `t(x, y)` and data `dd` fire both bodies. Constants are 0..=3 and
/// there are two variables, so -2..=5 holds every order type; only `dd` on `x` and `y`
/// matters.
fn brute_force(allow: &[Cond], deny: &[Cond]) -> bool {
    (-2..=5).any(|x| {
        (-2..=5).any(|y| {
            [vec![], vec![x], vec![y], vec![x, y]].iter().any(|dd| allow.iter().chain(deny).all(|c| holds(c, x, y, dd)))
        })
    })
}

fn body(conds: &[Cond]) -> String {
    std::iter::once("t(x, y)".to_owned()).chain(conds.iter().map(text)).collect::<Vec<_>>().join(", ")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn disjoint_agrees_with_brute_force_and_candidates_are_confirmed(
        allow in prop::collection::vec(cond(), 0..4),
        deny in prop::collection::vec(cond(), 0..4),
    ) {
        let source = format!(
            "package p\ninput one t(x: Int, y: Int)\ndata dd(v: Int)\nallow a :- {}.\ndeny d :- {}.\n",
            body(&allow),
            body(&deny)
        );
        let package = Package::from_sources(vec![("p.gov".to_owned(), source.clone())]).unwrap();
        prop_assert!(package.errors().is_none(), "{source}");
        let ir = package.ir().unwrap();
    let ir = &*ir;
        let pair = gov_analysis::pairs(ir, gov_analysis::Data::Any).into_iter().next().unwrap();
        let exists = brute_force(&allow, &deny);
        match &pair.outcome {
            Outcome::Disjoint => prop_assert!(!exists, "claimed disjoint, but brute force finds a witness:\n{source}"),
            Outcome::Candidate(witness) => {
                let confirmed = analysis::confirm(ir, &package.sources(), &[], pair.allow, pair.other, witness);
                prop_assert!(confirmed.is_ok(), "{source}\n{witness:?}\n{confirmed:?}");
            }
            Outcome::Unknown(reason) => prop_assert!(false, "unknown ({reason}) inside the fragment:\n{source}"),
        }
        if exists {
            prop_assert!(matches!(pair.outcome, Outcome::Candidate(_)), "{source}");
        }
    }
}
