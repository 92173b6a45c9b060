#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Property test of `govc diff`'s analysis over random packages in the fragment (an allow and
//! a deny over one `input one` fact of two Int columns and a data relation) and a random
//! mutation of one condition: "no change" is said only when a brute-force search over a small
//! domain finds no request and data the two versions decide differently, every reported
//! change's witness decides differently there too, and a package against itself is proved
//! the same.

use gov_driver::Package;
use gov_driver::diff::{Verdict, Version, diff};
use gov_ir::Ir;
use proptest::prelude::*;

#[path = "support/conditions.rs"]
mod conditions;
use conditions::{Cond, body, cond, holds};

/// Whether every condition of a body holds.
fn holds_all(conds: &[Cond], x: i64, y: i64, dd: &[i64]) -> bool {
    conds.iter().all(|c| holds(c, x, y, dd))
}

/// deny > allow > the default (deny).
fn decide(allow: &[Cond], deny: &[Cond], x: i64, y: i64, dd: &[i64]) -> &'static str {
    if holds_all(deny, x, y, dd) {
        "deny"
    } else if holds_all(allow, x, y, dd) {
        "allow"
    } else {
        "deny"
    }
}

/// Whether some request `t(x, y)` and data `dd` are decided differently. Constants are
/// 0..=3 and there are two variables, so -2..=5 holds every order type.
fn brute_force_differs(old: &(Vec<Cond>, Vec<Cond>), new: &(Vec<Cond>, Vec<Cond>)) -> bool {
    (-2..=5).any(|x| {
        (-2..=5).any(|y| {
            [vec![], vec![x], vec![y], vec![x, y]]
                .iter()
                .any(|dd| decide(&old.0, &old.1, x, y, dd) != decide(&new.0, &new.1, x, y, dd))
        })
    })
}

fn version<'a>(ir: &'a Ir, sources: &'a gov_diag::Sources) -> Version<'a> {
    Version { ir, sources, data: &[] }
}

fn package(rules: &(Vec<Cond>, Vec<Cond>)) -> (String, Package) {
    let source = format!(
        "package p\ninput one t(x: Int, y: Int)\ndata dd(v: Int)\nallow a :- {}.\ndeny d :- {}.\n",
        body(&rules.0),
        body(&rules.1)
    );
    let package = Package::from_sources(vec![("p.gov".to_owned(), source.clone())]).unwrap();
    assert!(package.errors().is_none(), "{source}");
    (source, package)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_change_agrees_with_brute_force(
        allow in prop::collection::vec(cond(), 1..4),
        deny in prop::collection::vec(cond(), 0..4),
        on_deny in any::<bool>(),
        at in 0usize..4,
        mutation in cond(),
    ) {
        let old = (allow, deny);
        let mut new = old.clone();
        let conds = if on_deny { &mut new.1 } else { &mut new.0 };
        if conds.is_empty() {
            conds.push(mutation);
        } else {
            let at = at % conds.len();
            conds[at] = mutation;
        }
        let (old_source, old_package) = package(&old);
        let (new_source, new_package) = package(&new);
        let (old_sources, new_sources) = (old_package.sources(), new_package.sources());
        let (old_ir, new_ir) = (old_package.ir().unwrap(), new_package.ir().unwrap());
        let itself = diff(version(&old_ir, &old_sources), version(&old_ir, &old_sources));
        prop_assert_eq!(itself.verdict, Verdict::Same, "{}", old_source);
        let found = diff(version(&old_ir, &old_sources), version(&new_ir, &new_sources));
        let differs = brute_force_differs(&old, &new);
        match &found.verdict {
            Verdict::Same => prop_assert!(!differs, "claimed no change:\n{old_source}\n{new_source}"),
            Verdict::Changed(changes) => {
                prop_assert!(differs, "a change brute force does not find:\n{old_source}\n{new_source}");
                for change in changes {
                    prop_assert_ne!(change.before().outcome, change.after().outcome);
                }
            }
            // The candidate search is not complete: a change it misses is "unknown", never "same".
            Verdict::Unknown(_) => {}
        }
    }
}
