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

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use gov_bench::oopsla::{self, App, Instance, PAPER_SIZES};
use gov_bench::peers::engine_gov;
use gov_vm::Outcome;
use std::str::FromStr;

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
    let policies = PolicySet::from_str(instance.app.cedar()).unwrap();
    let entities = Entities::from_json_value(instance.cedar_entities.clone(), None).unwrap();
    let authorizer = Authorizer::new();
    for (i, r) in instance.requests.iter().enumerate() {
        let request = engine.request_from_json(&r.gov.to_string()).unwrap();
        let gov = engine.decide(&request).unwrap().outcome;
        let uid = |text: &str| EntityUid::from_str(text).unwrap();
        let context = Context::from_json_value(r.cedar.context.clone(), None).unwrap();
        let cedar_request =
            Request::new(uid(&r.cedar.principal), uid(&r.cedar.action), uid(&r.cedar.resource), context, None).unwrap();
        let response = authorizer.is_authorized(&cedar_request, &policies, &entities);
        let errors: Vec<_> = response.diagnostics().errors().map(ToString::to_string).collect();
        assert!(errors.is_empty(), "{app} size {} request {i}: Cedar errors {errors:?}", instance.size);
        let cedar_allows = response.decision() == Decision::Allow;
        assert_eq!(
            gov == Outcome::Allow,
            cedar_allows,
            "{app} size {} request {i} {}: Gov {gov:?}, Cedar {:?} (policies {:?})",
            instance.size,
            r.gov,
            response.decision(),
            response.diagnostics().reason().collect::<Vec<_>>()
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
