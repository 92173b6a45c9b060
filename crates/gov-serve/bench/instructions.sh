#!/usr/bin/env bash
# The service's exact cost per decision (docs/performance.md, "The decision service"): the
# release `govc serve` runs under `valgrind --tool=callgrind` with the audit log; after a
# warm-up the counters are zeroed, `wrk` sends `POST /v1/decide` for SECONDS, the counters
# are dumped, and the instructions (user space, every thread of the server) are divided by
# the decisions the server counted (`gov_decisions_total` of /metrics, read before and after).
# The numbers do not depend on the load of the machine.
#
#   bash crates/gov-serve/bench/instructions.sh [SECONDS] [interval|always]
#
# GOVC=path/to/govc measures that binary instead of building the release one; CALLGRIND_KEEP=FILE
# keeps the profile (callgrind_annotate --inclusive=yes FILE). Under callgrind sha2 runs its
# portable SHA-256 (valgrind offers no SHA extensions): about 60k instructions a decision
# that natively are a few hundred. CALLGRIND_ARGS adds options (`--cache-sim=yes` also
# counts simulated cache misses: `callgrind_annotate --event=DLmr,DLmw FILE` lists them).
set -euo pipefail
cd "$(dirname "$0")/../../.."
seconds="${1:-10}"
fsync="${2:-interval}"
command -v wrk >/dev/null || { echo "install Debian's wrk (apt-get install wrk)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "install valgrind (apt-get install valgrind)" >&2; exit 2; }
govc="${GOVC:-target/release/govc}"
[ -n "${GOVC:-}" ] || cargo build -q --release -p govc --bin govc
export GOV_REQUEST=examples/finance/requests/routine_payment.json
addr=127.0.0.1:18991
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
# shellcheck disable=SC2086 # CALLGRIND_ARGS is a list of options
valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --callgrind-out-file="$work/callgrind.out" \
    "$govc" serve examples/finance --addr "$addr" --log "$work/log" --fsync "$fsync" \
    --history 10000 2>"$work/serve.txt" &
server=$!
for _ in $(seq 600); do curl -sf "$addr/health" >/dev/null && break; sleep 0.2; done
decisions() { curl -sf "$addr/metrics" | awk '/^gov_decisions_total/ { n += $2 } END { print n + 0 }'; }
# Warm-up: the allocator's and the engine's buffers grow, connections are opened once.
wrk -t1 -c64 -d2s -s crates/gov-serve/bench/decide.lua "http://$addr/v1/decide" >/dev/null
before=$(decisions)
callgrind_control -z "$server" >/dev/null
wrk -t1 -c64 -d"${seconds}s" -s crates/gov-serve/bench/decide.lua "http://$addr/v1/decide" >/dev/null
callgrind_control -d "$server" >/dev/null
after=$(decisions)
kill -TERM "$server"; wait "$server" || true
# The dump made by `-d` is the file with the highest suffix; its `summary:` is the total.
dump=$(ls "$work"/callgrind.out.* | sort -t. -k3 -n | tail -1)
total=$(awk '/^summary:/ { print $2 }' "$dump")
n=$((after - before))
echo "--fsync $fsync: $total instructions for $n decisions: $((total / n)) instructions per decision"
if [ -n "${CALLGRIND_KEEP:-}" ]; then cp "$dump" "$CALLGRIND_KEEP"; fi
