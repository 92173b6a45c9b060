#!/usr/bin/env bash
# The service's cost in CPU time per decision, a figure that holds on a shared machine
# (docs/performance.md, "The decision service"): each `govc` binary given is started as
# `govc serve examples/finance --log … --fsync interval` on loopback and loaded by `wrk`
# (64 connections, finance's routine payment) for SECONDS after a one-second warm-up; the
# server's CPU time is the sum over its threads of the time the kernel ran them
# (/proc/PID/task/*/schedstat, in nanoseconds, user and system), read before and after,
# and the decisions are its own count (`gov_decisions_total` of /metrics). Printed per
# run: decisions/s of wall clock and wrk's p50/p99 (both depend on the load of the
# machine), the server's CPU µs per decision and decisions per server CPU-second (far
# less so), and wrk's own CPU µs per decision (its user and system time from /usr/bin/time: the
# client's share of the two cores).
# With `perf` (linux-perf), the server's system calls, context switches and page faults
# per decision are counted too (`perf stat` software events): exact counts that the load
# of the machine hardly moves, where its CPU time per decision still varies (other
# processes' caches). The binaries are measured in turn, ROUNDS times, so that a change
# is judged against its base in the same minutes.
#
#   bash crates/gov-serve/bench/cpu.sh [SECONDS] [ROUNDS] [GOVC...]
#
# Without a binary, the release `govc` is built and measured. FSYNC=always measures that.
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds="${1:-5}"
rounds="${2:-1}"
shift $(($# < 2 ? $# : 2))
binaries=("$@")
command -v wrk >/dev/null || { echo "install Debian's wrk (apt-get install wrk)" >&2; exit 2; }
if [ ${#binaries[@]} -eq 0 ]; then
    cargo build -q --release -p govc --bin govc
    binaries=(target/release/govc)
fi
export GOV_REQUEST=examples/finance/requests/routine_payment.json
addr=127.0.0.1:18992
work="$(mktemp -d)"
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
# The nanoseconds the kernel has run every thread of process $1 (user and system).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ n += $1 } END { printf "%d\n", n }'; }
decisions() { curl -sf "$addr/metrics" | awk '/^gov_decisions_total/ { n += $2 } END { printf "%d\n", n }'; }
events=raw_syscalls:sys_enter,context-switches,page-faults
perf=
command -v perf >/dev/null && perf stat -e "$events" -- true >/dev/null 2>&1 && perf=yes
printf '%-28s %10s %8s %8s %12s %14s %9s %9s %9s %9s\n' binary decisions/s p50 p99 "server µs/d" "d/server CPU-s" \
    "wrk µs/d" syscalls/d switches/d faults/kd
for round in $(seq "$rounds"); do
    for govc in "${binaries[@]}"; do
        rm -rf "$work/log"
        "$govc" serve examples/finance --addr "$addr" --log "$work/log" --fsync "${FSYNC:-interval}" \
            --history 10000 2>"$work/serve.txt" &
        server=$!
        for _ in $(seq 100); do curl -sf "$addr/health" >/dev/null && break; sleep 0.1; done
        wrk -t2 -c64 -d1s -s crates/gov-serve/bench/decide.lua "http://$addr/v1/decide" >/dev/null
        before_n=$(decisions)
        before_cpu=$(cpu_ns "$server")
        : >"$work/perf.txt"
        if [ -n "$perf" ]; then
            perf stat -x, -e "$events" -p "$server" -o "$work/perf.txt" &
            counter=$!
        fi
        /usr/bin/time -f '%U %S' -o "$work/wrk-cpu.txt" \
            wrk -t2 -c64 -d"${seconds}s" --latency -s crates/gov-serve/bench/decide.lua "http://$addr/v1/decide" \
            >"$work/wrk.txt"
        after_cpu=$(cpu_ns "$server")
        if [ -n "$perf" ]; then kill -INT "$counter"; wait "$counter" || true; fi
        after_n=$(decisions)
        kill -TERM "$server"; wait "$server" || true
        server=
        n=$((after_n - before_n))
        rate=$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt")
        p50=$(awk '$1 == "50%" { print $2 }' "$work/wrk.txt")
        p99=$(awk '$1 == "99%" { print $2 }' "$work/wrk.txt")
        client_s=$(awk '{ print $1 + $2 }' "$work/wrk-cpu.txt")
        count() { awk -F, -v e="$1" '$3 == e { print $1 }' "$work/perf.txt"; }
        awk -v name="$govc" -v rate="$rate" -v p50="$p50" \
            -v p99="$p99" -v n="$n" -v ns="$((after_cpu - before_cpu))" -v client="$client_s" \
            -v sys="$(count raw_syscalls:sys_enter)" -v cs="$(count context-switches)" -v pf="$(count page-faults)" 'BEGIN {
            printf "%-28s %10.0f %8s %8s %12.1f %14.0f %9.1f", name, rate, p50, p99, ns / n / 1000, n / (ns / 1e9),
                client * 1e6 / n
            if (sys != "") printf " %9.2f %9.2f %9.2f", sys / n, cs / n, pf * 1000 / n
            printf "\n"
        }'
    done
done
