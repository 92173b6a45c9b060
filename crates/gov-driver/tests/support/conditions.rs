//! The random conditions both brute-force property tests draw (`analysis_brute_force.rs`,
//! `diff_brute_force.rs`): their strategy, their source text and what they mean over a small
//! domain, written once so the two oracles cannot drift apart.

use proptest::prelude::*;

/// A condition over the request's one fact `t(x, y)` and the data relation `dd`.
#[derive(Debug, Clone)]
pub enum Cond {
    /// `var op constant`
    Const(bool, &'static str, i64),
    /// `x op y`
    Vars(&'static str),
    /// `dd(var)` or `not dd(var)`
    Data(bool, bool),
    /// `big(var)` or `not big(var)`, the derived relation of [`DERIVED`]
    // Invariant: drawn only over `input one t` (`big` reads the request's `y`), so not by
    // `diff_brute_force.rs`, whose `t` may hold several rows.
    #[allow(dead_code)]
    Derived(bool, bool),
}

/// A derived relation for [`cond_or_derived`]'s conditions: `big(v)` holds when `v` is in
/// `dd` and above 1, or is the request's `y` and below 0.
#[allow(dead_code)]
pub const DERIVED: &str = "big(v) :- dd(v), v > 1.\nbig(v) :- t(_, v), v < 0.\n";

pub const OPS: [&str; 6] = ["=", "!=", "<", "<=", ">", ">="];

pub fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        (any::<bool>(), prop::sample::select(&OPS[..]), 0i64..4).prop_map(|(x, op, c)| Cond::Const(x, op, c)),
        prop::sample::select(&OPS[..]).prop_map(Cond::Vars),
        (any::<bool>(), any::<bool>()).prop_map(|(x, negated)| Cond::Data(x, negated)),
    ]
}

/// [`cond`]'s conditions and, one in four, an atom of [`DERIVED`]'s `big`, negated or not.
#[allow(dead_code)]
pub fn cond_or_derived() -> impl Strategy<Value = Cond> {
    prop_oneof![
        3 => cond(),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(x, negated)| Cond::Derived(x, negated)),
    ]
}

fn var(x: bool) -> &'static str {
    if x { "x" } else { "y" }
}

pub fn text(cond: &Cond) -> String {
    match cond {
        Cond::Const(x, op, c) => format!("{} {op} {c}", var(*x)),
        Cond::Vars(op) => format!("x {op} y"),
        Cond::Data(x, false) => format!("dd({})", var(*x)),
        Cond::Data(x, true) => format!("not dd({})", var(*x)),
        Cond::Derived(x, negated) => format!("{}big({})", if *negated { "not " } else { "" }, var(*x)),
    }
}

/// Whether `a op b` holds, `op` one of [`OPS`].
pub fn compare(a: i64, op: &str, b: i64) -> bool {
    match op {
        "=" => a == b,
        "!=" => a != b,
        "<" => a < b,
        "<=" => a <= b,
        ">" => a > b,
        _ => a >= b,
    }
}

pub fn holds(cond: &Cond, x: i64, y: i64, dd: &[i64]) -> bool {
    let value = |is_x: bool| if is_x { x } else { y };
    match cond {
        Cond::Const(is_x, op, c) => compare(value(*is_x), op, *c),
        Cond::Vars(op) => compare(x, op, y),
        Cond::Data(is_x, negated) => dd.contains(&value(*is_x)) != *negated,
        Cond::Derived(is_x, negated) => {
            let v = value(*is_x);
            ((dd.contains(&v) && v > 1) || (v == y && v < 0)) != *negated
        }
    }
}

/// A body over the request's one fact `t(x, y)` with `conds`.
pub fn body(conds: &[Cond]) -> String {
    std::iter::once("t(x, y)".to_owned()).chain(conds.iter().map(text)).collect::<Vec<_>>().join(", ")
}
