//! The Cedar OOPSLA'24 applications (gdrive, github, tinytodo) in Gov, cedar-policy and
//! regorus (interpreter and RVM), at the paper's hierarchy sizes (5 … 50 entities of each
//! type), in one process, in one run.
//!
//! For each app and size, one hierarchy and 500 requests come from
//! `gov_bench::oopsla::generate` (seed 0); setup asserts that every engine reaches the same
//! decision as Cedar on every request before anything is timed. One iteration decides the
//! next request of the 500, round-robin:
//!
//! - `gov`: `engine.decide_in(&mut session, &request)` (requests parsed once);
//! - `gov_decide`: `engine.decide(&request)` (a thread-cached session, an owned decision);
//! - `cedar`: `Authorizer::is_authorized` on prepared `Request`s and `Entities`;
//! - `regorus`: `set_input` + `eval_rule("data.<app>.decision")`;
//! - `regorus_rvm`: the policy compiled to regorus's RVM, `set_input` + `execute`.
//!
//! After Criterion, every engine decides each request many times, each call timed with
//! `Instant` (whose own cost is measured and printed), and the bench prints p50 and p99
//! per app, size and engine, and draws p50 against the hierarchy size into
//! `docs/oopsla-latency.svg` (skip with `GOV_BENCH_NO_LATENCY=1`).
//!
//! Run with `cargo bench -p gov-bench --bench oopsla`; results are in docs/performance.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use criterion::{BenchmarkId, Criterion};
use gov_bench::engines::{Cedar, Rego};
use gov_bench::oopsla::{self, App, Instance, PAPER_REQUESTS, PAPER_SIZES};
use gov_bench::peers::{Expected, engine_gov};
use gov_vm::{Engine, Outcome, Session};
use plotters::prelude::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The engines, in the order of the tables and the plot's legend.
const ENGINES: [&str; 5] = ["gov", "gov_decide", "cedar", "regorus", "regorus_rvm"];

/// Every engine, ready to decide one instance's requests.
struct Engines {
    gov: Engine,
    session: Session,
    gov_requests: Vec<gov_vm::Request>,
    cedar: Cedar,
    rego: Rego,
}

impl Engines {
    fn new(instance: &Instance) -> Engines {
        let app = instance.app;
        let gov = engine_gov(&format!("{}.gov", app.name()), app.gov(), &instance.gov_data, true).unwrap();
        let session = gov.session();
        let gov_requests =
            instance.requests.iter().map(|r| gov.request_from_json(&r.gov.to_string()).unwrap()).collect();
        let rego = Rego::for_instance(instance).unwrap();
        if let Some(e) = rego.vm_error() {
            eprintln!("note: regorus RVM cannot compile {}: {e}", app.name());
        }
        Engines { gov, session, gov_requests, cedar: Cedar::for_instance(instance).unwrap(), rego }
    }

    /// The engines available (the RVM may not be).
    fn available(&self) -> Vec<&'static str> {
        ENGINES.into_iter().filter(|&e| e != "regorus_rvm" || self.rego.vm_error().is_none()).collect()
    }

    /// Decides request `i` with `engine`: true when allowed.
    fn decide(&mut self, engine: &str, i: usize) -> bool {
        match engine {
            "gov" => self.gov.decide_in(&mut self.session, &self.gov_requests[i]).unwrap().outcome == Outcome::Allow,
            "gov_decide" => self.gov.decide(&self.gov_requests[i]).unwrap().outcome == Outcome::Allow,
            "cedar" => self.cedar.decide(i).unwrap() == Expected::Allow,
            "regorus" => self.rego.decide(i).unwrap() == Expected::Allow,
            "regorus_rvm" => self.rego.decide_vm(i).unwrap() == Expected::Allow,
            other => panic!("no engine {other}"),
        }
    }
}

/// The instances measured: every app at every paper size (or the sizes in
/// `GOV_OOPSLA_SIZES`, comma-separated), and their engines, checked to agree with Cedar.
fn prepare() -> Vec<(Instance, Engines)> {
    let sizes: Vec<usize> = std::env::var("GOV_OOPSLA_SIZES")
        .map(|s| s.split(',').map(|n| n.trim().parse().unwrap()).collect())
        .unwrap_or_else(|_| PAPER_SIZES.to_vec());
    let mut out = Vec::new();
    for app in App::ALL {
        for &size in &sizes {
            let instance = oopsla::generate(app, size, PAPER_REQUESTS, 0);
            let mut engines = Engines::new(&instance);
            let mut allowed = 0;
            for i in 0..instance.requests.len() {
                let cedar = engines.decide("cedar", i);
                allowed += usize::from(cedar);
                for engine in engines.available() {
                    assert_eq!(engines.decide(engine, i), cedar, "{engine} on {} size {size} request {i}", app.name());
                }
            }
            eprintln!(
                "{} size {size}: {} Gov data facts, {} Cedar entities, {allowed} of {} requests allowed",
                app.name(),
                instance.gov_facts(),
                instance.cedar_entities.as_array().map_or(0, Vec::len),
                instance.requests.len()
            );
            out.push((instance, engines));
        }
    }
    out
}

fn bench(c: &mut Criterion, prepared: &mut [(Instance, Engines)]) {
    for app in App::ALL {
        let mut group = c.benchmark_group(format!("oopsla/{}", app.name()));
        for (instance, engines) in prepared.iter_mut().filter(|(i, _)| i.app == app) {
            let n = instance.requests.len();
            for engine in engines.available() {
                let mut i = 0;
                group.bench_function(BenchmarkId::new(engine, instance.size), |b| {
                    b.iter(|| {
                        i = (i + 1) % n;
                        black_box(engines.decide(engine, black_box(i)))
                    })
                });
            }
        }
        group.finish();
    }
}

/// p50 and p99 of one engine on one instance.
struct Latency {
    app: App,
    size: usize,
    engine: &'static str,
    p50: Duration,
    p99: Duration,
}

/// Times every request of every instance individually: Gov 100 times each, the peers 10.
fn latencies(prepared: &mut [(Instance, Engines)]) -> Vec<Latency> {
    let mut out = Vec::new();
    for (instance, engines) in prepared.iter_mut() {
        let n = instance.requests.len();
        for engine in engines.available() {
            let rounds = if engine.starts_with("gov") { 100 } else { 10 };
            for i in 0..n {
                black_box(engines.decide(engine, i));
            }
            let mut times = Vec::with_capacity(rounds * n);
            for _ in 0..rounds {
                for i in 0..n {
                    let start = Instant::now();
                    black_box(engines.decide(engine, black_box(i)));
                    times.push(start.elapsed());
                }
            }
            times.sort_unstable();
            let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
            out.push(Latency { app: instance.app, size: instance.size, engine, p50: at(0.5), p99: at(0.99) });
        }
    }
    out
}

/// The p50 of timing nothing: what `Instant` adds to each timed call.
fn clock_overhead() -> Duration {
    let mut times: Vec<Duration> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

fn print(latencies: &[Latency]) {
    println!(
        "\nper-call latency over the 500 requests (Instant around each call; its own cost: {:?})",
        clock_overhead()
    );
    println!("{:<10} {:>5} {:<12} {:>10} {:>10} {:>10}", "app", "size", "engine", "p50", "p99", "p50÷gov");
    for l in latencies {
        let gov = latencies.iter().find(|g| g.app == l.app && g.size == l.size && g.engine == "gov");
        let ratio = gov.map_or(0.0, |g| l.p50.as_secs_f64() / g.p50.as_secs_f64());
        println!(
            "{:<10} {:>5} {:<12} {:>10.2?} {:>10.2?} {:>9.1}×",
            l.app.name(),
            l.size,
            l.engine,
            l.p50,
            l.p99,
            ratio
        );
    }
}

/// Draws p50 against the hierarchy size, one panel per app, one line per engine, on a
/// logarithmic time axis.
fn plot(latencies: &[Latency], path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1200, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, App::ALL.len()));
    let nanos = |d: Duration| d.as_secs_f64() * 1e9;
    // From 100 ns (so the axis has a label below Gov's line) to well above the slowest
    // line, leaving room for the legend.
    let lo = latencies.iter().map(|l| nanos(l.p50)).fold(100.0, f64::min) * 0.9;
    let hi = latencies.iter().map(|l| nanos(l.p50)).fold(0.0, f64::max) * 8.0;
    let max_size = latencies.iter().map(|l| l.size).max().unwrap_or(50) as f64;
    let colors = [
        RGBColor(0, 114, 178),
        RGBColor(86, 180, 233),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
    ];
    for (panel, app) in panels.iter().zip(App::ALL) {
        let mut chart = ChartBuilder::on(panel)
            .caption(app.name(), ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..max_size + 2.0, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(6)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("entities of each type")
            .y_desc("p50 per decision (ns)")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (engine, color) in ENGINES.iter().zip(colors) {
            let points: Vec<(f64, f64)> = latencies
                .iter()
                .filter(|l| l.app == app && l.engine == *engine)
                .map(|l| (l.size as f64, nanos(l.p50)))
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(*engine)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

fn main() {
    let mut prepared = prepare();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20)
        .configure_from_args();
    bench(&mut criterion, &mut prepared);
    criterion.final_summary();
    if std::env::args().any(|a| a == "--bench") && std::env::var_os("GOV_BENCH_NO_LATENCY").is_none() {
        let latencies = latencies(&mut prepared);
        print(&latencies);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/oopsla-latency.svg");
        match plot(&latencies, &path) {
            Ok(()) => println!("plot written to {}", path.display()),
            Err(e) => eprintln!("could not draw {}: {e}", path.display()),
        }
    }
}
