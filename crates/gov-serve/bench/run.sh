#!/usr/bin/env bash
# The service's load benchmark (docs/performance.md, "The decision service"): `govc serve`
# on loopback with the audit log under --fsync interval and always, loaded by wrk (Debian's
# `wrk`) with 64 connections on the same two cores, then the in-process baseline.
#
#   bash crates/gov-serve/bench/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds="${1:-10}"
command -v wrk >/dev/null || { echo "install Debian's wrk (apt-get install wrk)" >&2; exit 2; }
# Two commands: `--example` alone would build only the example, not `govc`.
cargo build -q --release -p govc --bin govc
cargo build -q --release -p gov-serve --example decide_rate
export GOV_REQUEST=examples/finance/requests/routine_payment.json
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for fsync in interval always; do
    target/release/govc serve examples/finance --addr 127.0.0.1:18990 --log "$work/log-$fsync" --fsync "$fsync" \
        --history 10000 2>"$work/serve-$fsync.txt" &
    server=$!
    for _ in $(seq 100); do curl -sf 127.0.0.1:18990/health >/dev/null && break; sleep 0.1; done
    echo "== govc serve, --fsync $fsync: wrk -t2 -c64 -d${seconds}s"
    wrk -t2 -c64 -d"${seconds}s" --latency -s crates/gov-serve/bench/decide.lua http://127.0.0.1:18990/v1/decide \
        | grep -E "Requests/sec|Latency|50%|90%|99%|requests in|Non-2xx|Socket errors"
    kill -TERM "$server"; wait "$server" || true
    target/release/govc audit verify "$work/log-$fsync"
done
echo "== in-process"
target/release/examples/decide_rate examples/finance "$GOV_REQUEST" 3
