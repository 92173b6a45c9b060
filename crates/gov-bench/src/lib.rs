//! Benchmarks of the Gov toolchain and the generator of the packages they check.
//!
//! This crate is left out of the workspace's default members: `cargo test` at the root does
//! not build it, `cargo bench -p gov-bench` runs it (see `docs/performance.md`). Its one
//! library function, [`generate_package`], writes a realistic policy of any size; a unit
//! test checks that what it writes has no errors and no warnings, since a benchmark of a
//! package that does not check measures the error paths instead.

pub mod engines;
pub mod oopsla;
pub mod peers;

use std::fmt::Write as _;

/// Rules in each group [`generate_package`] writes.
pub const RULES_PER_GROUP: usize = 20;

/// Derived relations chained one after the other in each group (`step_G_0` … `step_G_6`).
const CHAIN: usize = 7;

/// The literal of group `group`'s `obligation` rule, unique to the group so that an edit
/// can target one rule: [`edit_one_rule`] changes its last digit.
fn obligation_threshold(group: usize) -> String {
    format!("{}", 100_000 + group * 10)
}

/// A package of exactly `rules` rules (derivation and decision rules; declarations, the
/// `package` line and `use` are extra) in one file, shaped like a real policy.
///
/// It repeats a group of [`RULES_PER_GROUP`] rules over group-specific data relations
/// (`role_G`, `limit_G`, …): recursion (`manages_G`), a chain of derived relations
/// (`step_G_0` … `step_G_6`), negation, comparisons, arithmetic, an aggregate and every
/// kind of decision rule with messages; two package-wide rules use the built-in
/// `risk_score` and `std.approvals`. Rules beyond the last whole group are simple
/// `allow` rules. Every declaration is used and every variable occurs twice, so the
/// package checks with no errors and no warnings.
pub fn generate_package(rules: usize) -> String {
    let mut out = String::with_capacity(rules * 90 + 1024);
    out.push_str(
        "package bench

use std.approvals

default deny

/// An AI agent acting in the payments system.
type Agent = Str
/// A bank account identifier.
type Account = Str
/// An amount of money in cents.
type Money = Int

/// A transfer an agent wants to make; comes with each request.
input transfer(agent: Agent, amount: Money, to: Account)
",
    );
    let mut written = 0;
    for (global, rule) in [
        "escalate risky to \"fraud-desk\" \"risk {score} is too high\" :- risk_score(score), score >= 50.",
        "allow approved_by_finance :- approved(\"finance-approvers\").",
    ]
    .into_iter()
    .enumerate()
    {
        if written < rules {
            let _ = writeln!(out, "{}{rule}", if global == 0 { "\n" } else { "" });
            written += 1;
        }
    }
    let mut group = 0;
    while rules - written >= RULES_PER_GROUP {
        write_group(&mut out, group);
        written += RULES_PER_GROUP;
        group += 1;
    }
    if written < rules {
        out.push('\n');
    }
    for extra in 0..rules - written {
        let _ = writeln!(out, "allow small_{extra} :- transfer(_, amount, _), amount < {}.", extra + 1);
    }
    out
}

/// Writes group `g`: its data declarations and [`RULES_PER_GROUP`] rules.
fn write_group(out: &mut String, g: usize) {
    let last = CHAIN - 1;
    let threshold = obligation_threshold(g);
    let _ = write!(
        out,
        "
// ---- group {g} ----

/// The role each agent holds in unit {g}.
data role_{g}(agent: Agent, role: Str)
/// The most an agent in a role may move in one transfer.
data limit_{g}(role: Str, max: Money)
data reports_{g}(agent: Agent, manager: Agent)
data trusted_{g}(account: Account)
data frozen_{g}(agent: Agent)
data clearance_{g}(agent: Agent, level: Int)
data log_{g}(agent: Agent, id: Str, amount: Money)

manages_{g}(m, a) :- reports_{g}(a, m).
manages_{g}(m, a) :- reports_{g}(a, x), manages_{g}(m, x).
over_{g}(a, amt, max) :- transfer(a, amt, _), role_{g}(a, r), limit_{g}(r, max), amt > max.
ok_{g}(a) :- transfer(a, _, to), trusted_{g}(to), not frozen_{g}(a).
supervised_{g}(a) :- manages_{g}(m, a), not frozen_{g}(m).
spent_{g}(a, s) :- transfer(agent: a), s = sum(x : log_{g}(a, _id, x)).
step_{g}_0(a, l) :- clearance_{g}(a, l), l >= 0.
"
    );
    for step in 1..CHAIN {
        let _ = writeln!(
            out,
            "step_{g}_{step}(a, l) :- step_{g}_{prev}(a, l), role_{g}(a, r), r != \"intern-{step}\".",
            prev = step - 1
        );
    }
    let _ = write!(
        out,
        "
/// Transfers above the role's limit are never allowed.
deny too_large_{g} \"transfer of {{amt}} exceeds the {{max}} limit\" :- over_{g}(_, amt, max).
allow routine_{g} :- ok_{g}(a), supervised_{g}(a).
escalate big_{g} to \"finance-approvers\" \"transfers above {{lim}} need a human\"
  :- transfer(_, amt, _), lim = 10000 + {g}, amt > lim.
risk new_payee_{g} 30 :- transfer(_, _, to), not trusted_{g}(to).
obligation report_{g} \"notify the regulator feed\" :- transfer(_, amt, _), amt > {threshold}.
deny overspent_{g} \"spent {{s}} above the {{max}} budget\" :- spent_{g}(a, s), role_{g}(a, r), limit_{g}(r, max), s > max.
deny blocked_{g} \"agent {{a}} is blocked at level {{l}}\" :- step_{g}_{last}(a, l), frozen_{g}(a).
"
    );
}

/// `text` (from [`generate_package`]) with one character changed inside one rule body:
/// the last digit of the threshold of the `obligation` rule of the middle group, `0`
/// becomes `1`. `None` if `text` has no such rule.
pub fn edit_one_rule(text: &str) -> Option<String> {
    let at = middle_threshold_digit(text)?;
    let mut edited = text.to_owned();
    edited.replace_range(at..=at, "1");
    Some(edited)
}

/// `text` (from [`generate_package`]) with one character typed inside one rule body, so
/// every item after it moves: a `1` before the last digit of the threshold of the
/// `obligation` rule of the middle group (the place [`edit_one_rule`] changes). `None` if
/// `text` has no such rule.
pub fn type_one_char(text: &str) -> Option<String> {
    let at = middle_threshold_digit(text)?;
    let mut edited = text.to_owned();
    edited.insert(at, '1');
    Some(edited)
}

/// Where the last digit of the threshold of the middle group's `obligation` rule stands.
fn middle_threshold_digit(text: &str) -> Option<usize> {
    let groups = text.matches("obligation report_").count();
    let needle = format!("amt > {}.", obligation_threshold(groups / 2));
    Some(text.find(&needle)? + needle.len() - 2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;
    use gov_syntax::ast::ItemKind;

    fn rule_count(text: &str) -> usize {
        let parsed = gov_syntax::parse(gov_diag::FileId(0), text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics.first());
        parsed.file.items.iter().filter(|i| matches!(i.kind, ItemKind::Rule(_) | ItemKind::Decision(_))).count()
    }

    fn assert_clean(text: &str) {
        let mut workspace = gov_db::Workspace::new();
        let package = workspace.add_package(vec![("bench.gov".to_owned(), text.to_owned())]);
        let checked = workspace.check(package).unwrap();
        if !checked.diagnostics.is_empty() {
            let sources = workspace.sources();
            panic!("{}", gov_diag::render_human(&checked.diagnostics, &sources, false));
        }
    }

    #[test]
    fn generated_packages_have_the_requested_rules_and_check_cleanly() {
        for rules in [3, 21, 22, 23, 41, 1_000] {
            let text = generate_package(rules);
            assert_eq!(rule_count(&text), rules, "{rules} rules asked");
            assert_clean(&text);
        }
        // Too small to use every declaration, but still without errors.
        for rules in [0, 1, 2] {
            let text = generate_package(rules);
            assert_eq!(rule_count(&text), rules, "{rules} rules asked");
            let mut workspace = gov_db::Workspace::new();
            let package = workspace.add_package(vec![("bench.gov".to_owned(), text)]);
            assert!(!workspace.check(package).unwrap().has_errors());
        }
    }

    #[test]
    fn the_benchmarked_package_checks_cleanly() {
        let text = generate_package(10_000);
        assert_eq!(rule_count(&text), 10_000);
        assert_clean(&text);
    }

    #[test]
    fn the_edit_changes_one_character_of_one_rule_and_still_checks() {
        let text = generate_package(1_000);
        let edited = edit_one_rule(&text).unwrap();
        assert_eq!(text.len(), edited.len());
        let changed: Vec<usize> =
            text.bytes().zip(edited.bytes()).enumerate().filter(|(_, (a, b))| a != b).map(|(i, _)| i).collect();
        assert_eq!(changed.len(), 1);
        let line = text[..changed[0]].rsplit('\n').next().unwrap();
        assert!(line.starts_with("obligation report_24 "), "{line}");
        assert_clean(&edited);
    }

    #[test]
    fn the_typed_character_lengthens_one_rule_and_still_checks() {
        let text = generate_package(1_000);
        let typed = type_one_char(&text).unwrap();
        assert_eq!(text.len() + 1, typed.len());
        let at = text.bytes().zip(typed.bytes()).position(|(a, b)| a != b).unwrap();
        assert_eq!(&typed[at + 1..], &text[at..]);
        let line = text[..at].rsplit('\n').next().unwrap();
        assert!(line.starts_with("obligation report_24 "), "{line}");
        assert_clean(&typed);
    }
}
