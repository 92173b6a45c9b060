//! Decisions from N threads on one shared `Engine` (issue 14 item 6): does throughput scale
//! with cores?
//!
//! One `Engine` behind an `Arc`; each of N threads decides [`PER_THREAD`] requests per
//! iteration, cycling through a scenario's requests:
//!
//! - `threads/<scenario>/decide_in/N`: each thread with its own `Session` (made before the
//!   timed part), `engine.decide_in(&mut session, &request)`;
//! - `threads/<scenario>/decide/N`: `engine.decide(&request)`, the thread-cached session and
//!   an owned `Decision` per call, as an embedder that keeps no session calls it.
//!
//! The threads are started before the clock starts and wait at a barrier; the time is from
//! the barrier to the last thread's end, so starting threads is not what is measured.
//! Criterion reports the throughput in decisions per second (`thrpt`); 2 threads against 1
//! is the scaling. Scenarios: payments (DESIGN §2, three requests) and the OOPSLA'24 github
//! app at size 50 (500 requests).
//!
//! The binary allocates through mimalloc, as `govc` (and so `govc serve`) does.
//!
//! Run with `cargo bench -p gov-bench --bench threads`; results are in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BenchmarkId, Criterion, Throughput};
use gov_bench::oopsla::{self, App, PAPER_REQUESTS};
use gov_bench::peers;
use gov_vm::{Engine, Request};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Decisions each thread makes per iteration.
const PER_THREAD: usize = 1_000;

/// Thread counts measured: 1 and 2 on the 2-core machine, 4 to show oversubscription.
const THREADS: [usize; 3] = [1, 2, 4];

/// How one thread decides.
#[derive(Clone, Copy)]
enum Entry {
    DecideIn,
    Decide,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::DecideIn => "decide_in",
            Entry::Decide => "decide",
        }
    }
}

/// `iterations` × [`PER_THREAD`] decisions on each of `threads` threads, timed from the
/// barrier that releases them to the end of the last one.
fn run(engine: &Arc<Engine>, requests: &Arc<Vec<Request>>, threads: usize, entry: Entry, iterations: u64) -> Duration {
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (engine, requests, barrier) = (Arc::clone(engine), Arc::clone(requests), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let mut session = engine.session();
                // Each thread starts at another request, so threads do not decide in lockstep.
                let mut at = t * 7 % requests.len();
                barrier.wait();
                for _ in 0..iterations {
                    for _ in 0..PER_THREAD {
                        let request = &requests[at];
                        at = (at + 1) % requests.len();
                        match entry {
                            Entry::DecideIn => {
                                black_box(engine.decide_in(&mut session, black_box(request)).unwrap().outcome);
                            }
                            Entry::Decide => {
                                black_box(engine.decide(black_box(request)).unwrap());
                            }
                        }
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for handle in handles {
        handle.join().unwrap();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion, name: &str, engine: Engine, requests: Vec<Request>) {
    let (engine, requests) = (Arc::new(engine), Arc::new(requests));
    let mut group = c.benchmark_group(format!("threads/{name}"));
    for entry in [Entry::DecideIn, Entry::Decide] {
        for threads in THREADS {
            group.throughput(Throughput::Elements((threads * PER_THREAD) as u64));
            group.bench_function(BenchmarkId::new(entry.name(), threads), |b| {
                b.iter_custom(|iterations| run(&engine, &requests, threads, entry, iterations))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();

    let payments = peers::payments();
    let engine = peers::engine_gov("payments.gov", &payments.gov, &payments.gov_data, true).unwrap();
    let requests = payments.cases.iter().map(|c| engine.request_from_json(&c.gov.to_string()).unwrap()).collect();
    bench(&mut criterion, "payments", engine, requests);

    let github = oopsla::generate(App::Github, 50, PAPER_REQUESTS, 0);
    let engine = peers::engine_gov("github.gov", App::Github.gov(), &github.gov_data, true).unwrap();
    let requests = github.requests.iter().map(|r| engine.request_from_json(&r.gov.to_string()).unwrap()).collect();
    bench(&mut criterion, "github_50", engine, requests);

    criterion.final_summary();
}
