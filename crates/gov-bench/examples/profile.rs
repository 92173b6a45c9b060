//! A small driver for profiling the engine under callgrind (see docs/performance.md):
//!
//! ```text
//! cargo build --release -p gov-bench --example profile
//! # decide: N calls of decide_in on one request of a scenario
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile decide payments escalate 10000
//! # bundle load: write a bundle of N facts once, then profile loading it
//! target/release/examples/profile build-load 1000000 /tmp/load.govb
//! valgrind --tool=callgrind target/release/examples/profile load /tmp/load.govb
//! # reachability with the edges as input: N decide_in calls
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile reach 10000 1
//! # reachability with the edges as data: the closure computed by Engine::from_program
//! valgrind --tool=callgrind --toggle-collect='*from_program*' \
//!     target/release/examples/profile reach-load 10000
//! # reachability from a new session each time (as `gov_request_fresh` of benches/recursion.rs),
//! # and ascent's closure N times: each run's minor page faults (from /proc/self/stat, a count
//! # the machine's load does not change) and wall time, the session dropped between runs
//! target/release/examples/profile reach-fresh 10000 10
//! target/release/examples/profile reach-ascent 10000 10
//! # the same closure in ascent, the peer of benches/recursion.rs: filling `edge` and `run()`
//! valgrind --tool=callgrind --toggle-collect='*ascent_closure*' \
//!     target/release/examples/profile reach-ascent 10000
//! # an OOPSLA'24 app (gdrive, github, tinytodo) at SIZE entities of each type:
//! # N rounds of decide_in over its 500 generated requests
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile oopsla gdrive 50 20
//! # an example package's own request (examples/DIR/requests/REQUEST.json), N decide_in calls
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile example coding-agent github_api 1000
//! # a peer on the same requests: cedar-policy, regorus's interpreter or its RVM, deciding
//! # a scenario's request N times, or N rounds of an OOPSLA'24 app's 500 requests (the
//! # peer's call is `peer_decide_in`, so the same --toggle-collect counts it)
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile peer cedar decide payments escalate 1000
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile peer rvm oopsla gdrive 50 2
//! # all of these as instructions per decision, Gov beside its peers:
//! bash crates/gov-bench/instructions.sh
//! # the floor: a policy of one trivial rule (the per-decision fixed cost), N decide_in calls
//! valgrind --tool=callgrind --toggle-collect='*decide_in*' \
//!     target/release/examples/profile floor 1000
//! ```

use gov_bench::engines::{Cedar, Rego};
use gov_bench::oopsla::{self, App};
use gov_bench::peers::{self, Expected};
use gov_vm::Engine;
use std::hint::black_box;

#[path = "../benches/shared/ascent_closure.rs"]
mod ascent_closure;
use ascent_closure::ascent_closure;

/// The policy of `profile floor`: one input relation and one rule that fires on every
/// request, so a decision is little more than its fixed cost.
const FLOOR_POLICY: &str = "package floor\n\ninput one request(n: Int)\n\nallow any :- request(_).\n";

/// A peer engine of `profile peer`, ready to decide the requests of one scenario or app.
enum Peer {
    Cedar(Cedar),
    Regorus(Rego),
    Rvm(Rego),
}

/// One decision of request `i` by `peer`: the function callgrind collects (its name matches
/// `*decide_in*`, as Gov's `Engine::decide_in` does).
#[inline(never)]
fn peer_decide_in(peer: &mut Peer, i: usize) -> Result<Expected, String> {
    match peer {
        Peer::Cedar(cedar) => cedar.decide(i),
        Peer::Regorus(rego) => rego.decide(i),
        Peer::Rvm(rego) => rego.decide_vm(i),
    }
}

/// The `SCENARIO CASE` arguments of `decide`: payments unless `rbac` or `generated`, and the
/// case's index (the first case when none is named so).
fn scenario_case(args: &mut impl Iterator<Item = String>) -> (peers::Scenario, usize) {
    let scenario = match args.next().as_deref() {
        Some("rbac") => peers::rbac(),
        Some("generated") => peers::generated(1_000),
        _ => peers::payments(),
    };
    let name = args.next().unwrap_or_default();
    let at = scenario.cases.iter().position(|c| c.name == name).unwrap_or(0);
    (scenario, at)
}

/// The `APP SIZE N` arguments of `oopsla`: the app's generated instance (seed 0, the paper's
/// 500 requests) and the rounds.
fn app_instance(
    args: &mut impl Iterator<Item = String>,
) -> Result<(oopsla::Instance, usize), Box<dyn std::error::Error>> {
    let name = args.next().unwrap_or_default();
    let app = App::ALL.into_iter().find(|a| a.name() == name).ok_or("oopsla APP SIZE N: no such app")?;
    let size = number(args.next(), 50)?;
    let rounds = number(args.next(), 20)?;
    Ok((oopsla::generate(app, size, oopsla::PAPER_REQUESTS, 0), rounds))
}

/// `profile peer ENGINE decide SCENARIO CASE N | ENGINE oopsla APP SIZE N`.
fn profile_peer(mut args: impl Iterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    const USAGE: &str = "profile peer cedar|regorus|rvm decide SCENARIO CASE N | … oopsla APP SIZE N";
    let engine = args.next().ok_or(USAGE)?;
    let (mut peer, chosen, rounds, label): (Peer, Vec<usize>, usize, String) = match args.next().as_deref() {
        Some("decide") => {
            let (scenario, at) = scenario_case(&mut args);
            let iterations = number(args.next(), 10_000)?;
            let label = format!("{} {}", scenario.name, scenario.cases.get(at).map_or("", |c| c.name));
            let (cedar, rego) = (|| Cedar::for_scenario(&scenario), || Rego::for_scenario(&scenario));
            (engine_of(&engine, cedar, rego)?, vec![at], iterations, label)
        }
        Some("oopsla") => {
            let (instance, rounds) = app_instance(&mut args)?;
            let (cedar, rego) = (|| Cedar::for_instance(&instance), || Rego::for_instance(&instance));
            let all = (0..instance.requests.len()).collect();
            let label = format!("{} size {}", instance.app.name(), instance.size);
            (engine_of(&engine, cedar, rego)?, all, rounds, label)
        }
        _ => return Err(USAGE.into()),
    };
    for _ in 0..rounds {
        for &i in &chosen {
            black_box(peer_decide_in(&mut peer, black_box(i))?);
        }
    }
    println!("{engine} {label}: {} decisions", rounds * chosen.len());
    Ok(())
}

/// The peer named `engine`, built by the closure for its language.
fn engine_of(
    engine: &str,
    cedar: impl FnOnce() -> Result<Cedar, String>,
    rego: impl FnOnce() -> Result<Rego, String>,
) -> Result<Peer, String> {
    match engine {
        "cedar" => Ok(Peer::Cedar(cedar()?)),
        "regorus" => Ok(Peer::Regorus(rego()?)),
        "rvm" => {
            let rego = rego()?;
            match rego.vm_error() {
                Some(e) => Err(format!("regorus's RVM cannot compile the policy: {e}")),
                None => Ok(Peer::Rvm(rego)),
            }
        }
        other => Err(format!("no peer {other} (cedar, regorus, rvm)")),
    }
}

fn number(arg: Option<String>, default: usize) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(match arg {
        Some(text) => text.parse()?,
        None => default,
    })
}

/// This process's minor page faults so far (field 10 of /proc/self/stat, Linux only).
fn minor_faults() -> Result<u64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')').ok_or("no ) in /proc/self/stat")?.1;
    Ok(after.split_whitespace().nth(7).ok_or("short /proc/self/stat")?.parse()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("decide") => {
            let (scenario, at) = scenario_case(&mut args);
            let iterations = number(args.next(), 10_000)?;
            let case = scenario.cases.get(at).ok_or("no request")?;
            let engine = peers::engine_gov("policy.gov", &scenario.gov, &scenario.gov_data, false)?;
            let request = engine.request_from_json(&case.gov.to_string())?;
            let mut session = engine.session();
            for _ in 0..iterations {
                black_box(engine.decide_in(&mut session, black_box(&request))?);
            }
            println!("{} {} x{iterations}", scenario.name, case.name);
        }
        Some("floor") => {
            let iterations = number(args.next(), 10_000)?;
            let engine = peers::engine_gov("floor.gov", FLOOR_POLICY, &serde_json::json!({}), false)?;
            let request = engine.request_from_json(r#"{"request": [{"n": 1}]}"#)?;
            let mut session = engine.session();
            for _ in 0..iterations {
                black_box(engine.decide_in(&mut session, black_box(&request))?);
            }
            println!("floor x{iterations}");
        }
        Some("build-load") => {
            let facts = number(args.next(), 1_000_000)?;
            let path = args.next().ok_or("build-load FACTS FILE")?;
            let program = peers::compile_gov("load.gov", peers::LOAD_POLICY, &peers::load_data(facts), false)?;
            std::fs::write(&path, gov_vm::bundle::write(&program)?)?;
        }
        Some("load") => {
            let bytes = std::fs::read(args.next().ok_or("load FILE")?)?;
            let engine = Engine::load(&bytes)?;
            println!("loaded {}", engine.hash());
        }
        Some("reach") => {
            let edges = number(args.next(), 10_000)?;
            let iterations = number(args.next(), 1)?;
            let graph = peers::random_graph(u32::try_from(edges)?, edges, 42);
            let engine = peers::engine_gov("reach.gov", peers::REACH_INPUT, &serde_json::json!({}), false)?
                .with_limits(gov_vm::Limits::LOAD);
            let request = engine.request_from_json(&peers::edges_json(&graph).to_string())?;
            let mut session = engine.session();
            for _ in 0..iterations {
                black_box(engine.decide_in(&mut session, &request)?);
            }
        }
        Some("reach-fresh") => {
            let edges = number(args.next(), 10_000)?;
            let iterations = number(args.next(), 10)?;
            let graph = peers::random_graph(u32::try_from(edges)?, edges, 42);
            let engine = peers::engine_gov("reach.gov", peers::REACH_INPUT, &serde_json::json!({}), false)?
                .with_limits(gov_vm::Limits::LOAD);
            let request = engine.request_from_json(&peers::edges_json(&graph).to_string())?;
            for _ in 0..iterations {
                let mut session = engine.session();
                let (faults, start) = (minor_faults()?, std::time::Instant::now());
                black_box(engine.decide_in(&mut session, &request)?);
                println!("fresh: {} minor faults, {:.1?}", minor_faults()? - faults, start.elapsed());
            }
            let mut session = engine.session();
            black_box(engine.decide_in(&mut session, &request)?);
            let (faults, start) = (minor_faults()?, std::time::Instant::now());
            black_box(engine.decide_in(&mut session, &request)?);
            println!("reused: {} minor faults, {:.1?}", minor_faults()? - faults, start.elapsed());
        }
        Some("reach-load") => {
            let edges = number(args.next(), 10_000)?;
            let graph = peers::random_graph(u32::try_from(edges)?, edges, 42);
            let program = peers::compile_gov("reach.gov", peers::REACH_DATA, &peers::edges_json(&graph), false)?;
            let engine = Engine::from_program(program, String::new(), gov_vm::Limits::LOAD)?;
            black_box(engine);
        }
        Some("reach-ascent") => {
            let edges = number(args.next(), 10_000)?;
            let iterations = number(args.next(), 1)?;
            let graph = peers::random_graph(u32::try_from(edges)?, edges, 42);
            for _ in 0..iterations {
                let graph = graph.clone();
                let (faults, start) = (minor_faults()?, std::time::Instant::now());
                let closure = ascent_closure(black_box(graph));
                let (faults, time) = (minor_faults()? - faults, start.elapsed());
                println!("ascent: {} pairs, {faults} minor faults, {time:.1?}", closure.reach.len());
            }
        }
        Some("oopsla") => {
            let (instance, rounds) = app_instance(&mut args)?;
            let (app, size) = (instance.app, instance.size);
            let engine = peers::engine_gov("app.gov", app.gov(), &instance.gov_data, false)?;
            let requests = instance
                .requests
                .iter()
                .map(|r| engine.request_from_json(&r.gov.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            let mut session = engine.session();
            for _ in 0..rounds {
                for request in &requests {
                    black_box(engine.decide_in(&mut session, black_box(request))?);
                }
            }
            println!("{} size {size}: {} decisions", app.name(), rounds * requests.len());
        }
        Some("example") => {
            let example = args.next().ok_or("example DIR REQUEST N")?;
            let name = args.next().ok_or("example DIR REQUEST N")?;
            let iterations = number(args.next(), 1_000)?;
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(&example);
            let package = gov_driver::Package::load(&gov_driver::fs::Disk, &dir)?;
            if package.errors().is_some() {
                return Err(format!("{example} does not check").into());
            }
            let data = gov_driver::read_data(&gov_driver::fs::Disk, package.data_files())?;
            let engine = package.engine(&data)?;
            let text = std::fs::read_to_string(dir.join("requests").join(format!("{name}.json")))?;
            let request = engine.request_from_json(&text)?;
            let mut session = engine.session();
            for _ in 0..iterations {
                black_box(engine.decide_in(&mut session, black_box(&request))?);
            }
            println!("{example} {name} x{iterations}");
        }
        Some("peer") => profile_peer(args)?,
        _ => return Err("usage: profile decide SCENARIO CASE N | floor N | example DIR REQUEST N | build-load FACTS FILE | load FILE | reach EDGES N | reach-fresh EDGES N | reach-load EDGES | reach-ascent EDGES [N] | oopsla APP SIZE N | peer ENGINE decide SCENARIO CASE N | peer ENGINE oopsla APP SIZE N".into()),
    }
    Ok(())
}
