//! Differential test: on the three applications of the Cedar OOPSLA'24 benchmark (gdrive,
//! github, tinytodo), Gov's decision equals cedar-policy's on every generated request.
//!
//! By default each app is drawn at every size the paper uses (5 … 50 entities of each
//! type), [`HIERARCHIES`] hierarchies of [`REQUESTS`] requests each, which keeps
//! `cargo test -p gov-bench` well under a minute. The paper's full run (200 hierarchies of
//! 500 requests per size) is
//!
//! ```sh
//! GOV_OOPSLA_HIERARCHIES=200 GOV_OOPSLA_REQUESTS=500 cargo test --release -p gov-bench --test oopsla
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use gov_bench::engines::Cedar;
use gov_bench::oopsla::{self, App, Instance, PAPER_SIZES};
use gov_bench::peers::{Expected, engine_gov};
use gov_vm::Outcome;

/// Hierarchies per app and size by default.
const HIERARCHIES: usize = 5;
/// Requests per hierarchy by default.
const REQUESTS: usize = 300;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// How many requests each engine allowed, and denied.
#[derive(Default)]
struct Tally {
    allowed: usize,
    denied: usize,
}

/// Decides every request of `instance` with Gov and with Cedar and asserts that they agree
/// (and that Cedar reports no evaluation error, so no policy is silently skipped).
fn compare(instance: &Instance, tally: &mut Tally) {
    let app = instance.app.name();
    let engine = engine_gov(&format!("{app}.gov"), instance.app.gov(), &instance.gov_data, true).unwrap();
    let cedar = Cedar::for_instance(instance).unwrap();
    for (i, r) in instance.requests.iter().enumerate() {
        let request = engine.request_from_json(&r.gov.to_string()).unwrap();
        let gov = engine.decide(&request).unwrap().outcome;
        let said = cedar.answer(i).unwrap();
        assert!(said.errors.is_empty(), "{app} size {} request {i}: Cedar errors {:?}", instance.size, said.errors);
        let cedar_allows = said.decision == Expected::Allow;
        assert_eq!(
            gov == Outcome::Allow,
            cedar_allows,
            "{app} size {} request {i} {}: Gov {gov:?}, Cedar {:?} (policies {:?})",
            instance.size,
            r.gov,
            said.decision,
            said.reasons
        );
        if cedar_allows {
            tally.allowed += 1;
        } else {
            tally.denied += 1;
        }
    }
}

#[test]
fn gov_decides_as_cedar_on_every_generated_request() {
    let hierarchies = env_or("GOV_OOPSLA_HIERARCHIES", HIERARCHIES);
    let requests = env_or("GOV_OOPSLA_REQUESTS", REQUESTS);
    for app in App::ALL {
        let mut tally = Tally::default();
        for size in PAPER_SIZES {
            for seed in 0..hierarchies {
                compare(&oopsla::generate(app, size, requests, seed as u64), &mut tally);
            }
        }
        // Both decisions must be common, or agreeing would prove little.
        let total = tally.allowed + tally.denied;
        assert!(tally.allowed * 10 >= total, "{}: only {} of {total} allowed", app.name(), tally.allowed);
        assert!(tally.denied * 10 >= total, "{}: only {} of {total} denied", app.name(), tally.denied);
    }
}
