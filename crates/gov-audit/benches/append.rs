//! Append throughput (docs/performance.md, "Audit log"): one thread appending in turn, and
//! 64 threads appending at once (group commit), with `Fsync::Always` and
//! `Fsync::Interval(10ms)`. Each iteration appends `THREADS × PER_THREAD` records to a log
//! that stays open across iterations.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gov_audit::{AuditLog, Entry, EntryKind, Fsync, LogOptions};
use serde_json::json;
use std::time::{Duration, Instant};

fn entry(i: usize) -> Entry {
    let mut entry = Entry::new(EntryKind::Decision, format!("d-{i}"));
    entry.bundle_hash = Some("sha256:5d2c8a0b".to_owned());
    entry.request = json!({"transfer": [{"agent": "bot-1", "amount": i, "to": "acct-9"}]}).into();
    entry.decision = json!({"decision": "allow", "reasons": [{"rule": "small", "effect": "allow"}]}).into();
    entry.duration_us = 12;
    entry
}

/// Appends `per_thread` records from each of `threads` threads; returns the time taken.
fn run(log: &AuditLog, threads: usize, per_thread: usize) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                for i in 0..per_thread {
                    if let Err(e) = log.append(entry(t * per_thread + i)) {
                        eprintln!("append failed: {e}");
                        return;
                    }
                }
            });
        }
    });
    start.elapsed()
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for (name, fsync) in [("always", Fsync::Always), ("interval_10ms", Fsync::Interval(Duration::from_millis(10)))] {
        for (threads, per_thread) in [(1, 200), (64, 100)] {
            let Ok(dir) = tempfile::tempdir() else { return };
            let options = LogOptions { fsync, ..LogOptions::default() };
            let Ok(log) = AuditLog::open(dir.path(), options) else { return };
            group.throughput(Throughput::Elements((threads * per_thread) as u64));
            group.bench_function(format!("{name}/{threads}_threads"), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| run(&log, threads, per_thread)).sum());
            });
            let _ = log.close();
        }
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
