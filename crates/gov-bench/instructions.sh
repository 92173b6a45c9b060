#!/usr/bin/env bash
# Instructions per decision, under callgrind: the figure of docs/performance.md that the
# machine's load does not change (issue 14 item 7). Each case runs the `profile` example
# twice, with N and 2N decisions in one warm session, and prints (count(2N) − count(N)) / N:
# the set-up (compiling the policy, reading the request, the first decision's allocations)
# cancels out.
#
#   cargo build --release -p gov-bench --benches --examples -p govc
#   bash crates/gov-bench/instructions.sh [PROFILE_BINARY] [GROUP…]
#
# GROUPs: decide (floor, rbac, payments, generated 1 000 rules), oopsla (three apps at sizes
# 5 and 50: N and 2N rounds of the app's 500 requests), coding (the coding-agent example's
# own requests), or none for all three. Output: one line per case, `group case gov COUNT`,
# and for rbac, payments and the apps the peers on the same requests in the same run
# (`cedar COUNT rvm COUNT`: cedar-policy, regorus's RVM; `profile peer`).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
profile=${1:-$root/target/release/examples/profile}
shift || true
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(decide oopsla coding)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# total instructions of one run with only `decide_in` collected (a failed run stops the
# script: its count would mean nothing)
count() {
    valgrind --tool=callgrind --toggle-collect='*decide_in*' --callgrind-out-file="$out/cg" \
        "$profile" "$@" > /dev/null 2> "$out/log" || { cat "$out/log" >&2; kill $$; }
    grep -m1 '^totals:' "$out/cg" | cut -d' ' -f2
}

# per_decision DECISIONS_PER_UNIT N ARGS…: instructions per decision of the profile's ARGS
# (those before its count N)
per_decision() {
    local unit=$1 n=$2
    shift 2
    local once twice
    once=$(count "$@" "$n")
    twice=$(count "$@" $((2 * n)))
    echo $(((twice - once) / (n * unit)))
}

# with_peers DECISIONS_PER_UNIT N ARGS…: Gov's count, then cedar's and the RVM's
with_peers() {
    local unit=$1 n=$2
    shift 2
    echo "gov $(per_decision "$unit" "$n" "$@") cedar $(per_decision "$unit" "$n" peer cedar "$@")" \
        "rvm $(per_decision "$unit" "$n" peer rvm "$@")"
}

for group in "${groups[@]}"; do
    case $group in
    decide)
        echo "decide floor gov $(per_decision 1 500 floor)"
        for c in allow escalate deny; do echo "decide payments/$c $(with_peers 1 500 decide payments "$c")"; done
        for c in allow_inherited deny_no_permission deny_suspended; do
            echo "decide rbac/$c $(with_peers 1 500 decide rbac "$c")"
        done
        for c in deny allow; do echo "decide generated_1k/$c gov $(per_decision 1 500 decide generated "$c")"; done
        ;;
    oopsla)
        for app in gdrive github tinytodo; do
            for size in 5 50; do echo "oopsla $app/$size $(with_peers 500 1 oopsla "$app" "$size")"; done
        done
        ;;
    coding)
        for r in "$root"/examples/coding-agent/requests/*.json; do
            r=$(basename "$r" .json)
            echo "coding $r gov $(per_decision 1 200 example coding-agent "$r")"
        done
        ;;
    *)
        echo "unknown group $group (decide, oopsla, coding)" >&2
        exit 2
        ;;
    esac
done
