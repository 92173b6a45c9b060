//! Decision benchmarks against the peers: the same policies in Gov, Cedar (cedar-policy)
//! and Rego (regorus), in one process, in one run.
//!
//! (a) `decide/rbac`: RBAC, 1 000 users, a role hierarchy 5 deep; (b) `decide/payments`:
//! limits by role, sanctions, escalation, risk (DESIGN §2); (c) `decide/generated_1k`:
//! 1 000 generated deny rules. The policies and data come from `gov_bench::peers`; setup
//! asserts that every engine reaches the expected decision on every benchmarked request.
//!
//! Only deciding is timed. Everything else is built once, outside the loop:
//!
//! - Gov: the package is checked and compiled in-process (as `govc build` does), written
//!   to a bundle and loaded (`gov_driver::Package::engine`); requests are parsed from JSON once.
//!   `gov_decide` times `engine.decide(&request)` (a thread-cached session),
//!   `gov_decide_in` times `engine.decide_in(&mut session, &request)`. Both return the
//!   outcome and every fired rule with its values (messages are formatted on demand):
//!   `decide` as an owned `Decision`, `decide_in` borrowed from the session.
//! - Cedar: `PolicySet`, `Entities` (with the transitive closure of the hierarchy that
//!   Cedar computes when entities are built) and each `Request` are built once; the loop
//!   times `Authorizer::is_authorized` and reading the outcome from the response (deny,
//!   or escalate when a determining policy is annotated `@effect("escalate")`, or allow).
//! - regorus (interpreter): one `Engine` with the policy and data loaded; the loop times
//!   `set_input(input.clone())` (a reference-counted clone of a prepared `Value`) and
//!   `eval_rule("data.<pkg>.decision")`, the cheapest documented entry point.
//! - regorus RVM (`regorus_rvm`): the policy compiled to regorus's register VM
//!   (`compile_with_entrypoint` → `Compiler::compile_from_policy`), data set once; the
//!   loop times `set_input` + `execute`.
//!
//! After Criterion, the bench prints per-call latency percentiles of `gov_decide_in` (each
//! call timed with `Instant`, so about 20–30 ns of clock overhead is included).
//!
//! Run with `cargo bench -p gov-bench --bench decide`; results are in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BenchmarkId, Criterion};
use gov_bench::engines::{Cedar, Rego};
use gov_bench::peers::{self, Expected, Scenario};
use gov_vm::{Engine, Outcome};
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Gov {
    engine: Engine,
    requests: Vec<gov_vm::Request>,
}

fn gov_outcome(outcome: Outcome) -> Expected {
    match outcome {
        Outcome::Allow => Expected::Allow,
        Outcome::Deny => Expected::Deny,
        Outcome::Escalate => Expected::Escalate,
    }
}

impl Gov {
    fn new(scenario: &Scenario) -> Gov {
        let engine =
            peers::engine_gov(&format!("{}.gov", scenario.name), &scenario.gov, &scenario.gov_data, true).unwrap();
        let requests = scenario.cases.iter().map(|c| engine.request_from_json(&c.gov.to_string()).unwrap()).collect();
        Gov { engine, requests }
    }
}

/// Builds the engines and checks that all of them agree with the expected decision.
fn prepare(scenario: &Scenario) -> (Gov, Cedar, Rego) {
    let gov = Gov::new(scenario);
    let (cedar, mut rego) = (Cedar::for_scenario(scenario).unwrap(), Rego::for_scenario(scenario).unwrap());
    if let Some(e) = rego.vm_error() {
        eprintln!("note: regorus RVM cannot compile {}: {e}", scenario.name);
    }
    let mut session = gov.engine.session();
    for (i, case) in scenario.cases.iter().enumerate() {
        let what = format!("{}/{}", scenario.name, case.name);
        let decided = gov.engine.decide(&gov.requests[i]).unwrap();
        assert_eq!(gov_outcome(decided.outcome), case.expected, "Gov decide on {what}");
        let decided_in = gov.engine.decide_in(&mut session, &gov.requests[i]).unwrap().to_decision();
        assert_eq!(decided_in, decided, "Gov decide_in on {what}");
        let said = cedar.answer(i).unwrap();
        assert_eq!(said.errors, Vec::<String>::new(), "Cedar evaluation errors on {what}");
        assert_eq!(said.decision, case.expected, "Cedar on {what}");
        assert_eq!(cedar.decide(i).unwrap(), case.expected, "Cedar (timed path) on {what}");
        assert_eq!(rego.decide(i).unwrap(), case.expected, "regorus on {what}");
        if rego.vm_error().is_none() {
            assert_eq!(rego.decide_vm(i).unwrap(), case.expected, "regorus RVM on {what}");
        }
    }
    (gov, cedar, rego)
}

fn bench_scenario(c: &mut Criterion, scenario: &Scenario) {
    let (gov, cedar, mut rego) = prepare(scenario);
    let mut session = gov.engine.session();
    let mut group = c.benchmark_group(format!("decide/{}", scenario.name));
    for (i, case) in scenario.cases.iter().enumerate() {
        let request = &gov.requests[i];
        group.bench_function(BenchmarkId::new("gov_decide", case.name), |b| {
            b.iter(|| black_box(gov.engine.decide(black_box(request)).unwrap()))
        });
        group.bench_function(BenchmarkId::new("gov_decide_in", case.name), |b| {
            // The decision borrows the session: its outcome and firings are what leave.
            b.iter(|| {
                let decision = gov.engine.decide_in(&mut session, black_box(request)).unwrap();
                black_box((decision.outcome, decision.fired().len()))
            })
        });
        group.bench_function(BenchmarkId::new("cedar", case.name), |b| {
            b.iter(|| black_box(cedar.decide(black_box(i)).unwrap()))
        });
        group.bench_function(BenchmarkId::new("regorus", case.name), |b| {
            b.iter(|| black_box(rego.decide(black_box(i)).unwrap()))
        });
        if rego.vm_error().is_none() {
            group.bench_function(BenchmarkId::new("regorus_rvm", case.name), |b| {
                b.iter(|| black_box(rego.decide_vm(black_box(i)).unwrap()))
            });
        }
    }
    group.finish();
}

fn scenarios() -> Vec<Scenario> {
    vec![peers::rbac(), peers::payments(), peers::generated(1_000)]
}

/// Per-call latency of `gov_decide_in`: p50, p90, p99 over 200 000 timed calls.
fn latency_percentiles(scenarios: &[Scenario]) {
    println!("\nper-call latency of gov_decide_in (Instant around each call; includes ~25 ns of clock overhead)");
    println!("{:<36} {:>9} {:>9} {:>9}", "request", "p50", "p90", "p99");
    for scenario in scenarios {
        let gov = Gov::new(scenario);
        let mut session = gov.engine.session();
        for (i, case) in scenario.cases.iter().enumerate() {
            let request = &gov.requests[i];
            for _ in 0..10_000 {
                black_box(gov.engine.decide_in(&mut session, request).unwrap());
            }
            let mut times: Vec<Duration> = (0..200_000)
                .map(|_| {
                    let start = Instant::now();
                    black_box(gov.engine.decide_in(&mut session, black_box(request)).unwrap());
                    start.elapsed()
                })
                .collect();
            times.sort_unstable();
            let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
            println!(
                "{:<36} {:>9.2?} {:>9.2?} {:>9.2?}",
                format!("{}/{}", scenario.name, case.name),
                at(0.50),
                at(0.90),
                at(0.99)
            );
        }
    }
}

fn main() {
    let scenarios = scenarios();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .configure_from_args();
    for scenario in &scenarios {
        bench_scenario(&mut criterion, scenario);
    }
    criterion.final_summary();
    if std::env::args().any(|a| a == "--bench") && std::env::var_os("GOV_BENCH_NO_LATENCY").is_none() {
        latency_percentiles(&scenarios);
    }
}
