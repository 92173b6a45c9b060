#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Property test of the conflict analysis over random pairs of rules in its fragment: the
//! analysis says "disjoint" exactly when a brute-force search over a small domain finds no
//! request and data on which both rules fire, and every candidate it proposes is confirmed
//! by the engine. The rules may read a derived relation, negated or not (`big`, of two rules,
//! one over the data and one over the request).

use gov_analysis::Outcome;
use gov_driver::Package;
use gov_driver::analysis;
use proptest::prelude::*;

#[path = "support/conditions.rs"]
mod conditions;
use conditions::{Cond, DERIVED, body, cond_or_derived, holds};

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

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn disjoint_agrees_with_brute_force_and_candidates_are_confirmed(
        allow in prop::collection::vec(cond_or_derived(), 0..4),
        deny in prop::collection::vec(cond_or_derived(), 0..4),
    ) {
        let source = format!(
            "package p\ninput one t(x: Int, y: Int)\ndata dd(v: Int)\n{DERIVED}allow a :- {}.\ndeny d :- {}.\n",
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
