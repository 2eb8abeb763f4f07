#!/usr/bin/env bash
# Start-up cost of the tau binary, side by side with /bin/true and,
# optionally, an older build:
#
#   benches/startup.sh                          # this checkout's release build
#   BEFORE=/tmp/tau-old benches/startup.sh      # and an older binary beside it
#
# For each run: perf stat's task clock (CPU time, steady under load), page
# faults (deterministic), elapsed wall clock (moves with the machine's
# load), and callgrind's instruction count (deterministic). Needs perf;
# valgrind is used when present.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${TAU:-}" ]]; then
    cargo build --release --quiet
    TAU="$PWD/target/release/tau"
fi
RUNS="${RUNS:-500}"

echo "# start-up, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs each"
echo "| binary | command | task clock | page faults | elapsed | instructions |"
echo "|---|---|---|---|---|---|"

measure() {
    local name=$1
    shift
    local stat
    stat=$(perf stat -r "$RUNS" -x, -e task-clock,page-faults "$@" 2>&1 >/dev/null)
    local clock faults
    clock=$(awk -F, '/task-clock/ {printf "%.3f ms", $1}' <<<"$stat")
    faults=$(awk -F, '/page-faults/ {printf "%d", $1}' <<<"$stat")
    local start end
    start=$EPOCHREALTIME
    for _ in $(seq "$RUNS"); do "$@" >/dev/null; done
    end=$EPOCHREALTIME
    local elapsed
    elapsed=$(awk -v a="$start" -v b="$end" -v n="$RUNS" 'BEGIN {printf "%.3f ms", (b - a) / n * 1000}')
    local instructions="-"
    if command -v valgrind >/dev/null; then
        instructions=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
            awk '/Collected/ {printf "%.2f M", $4 / 1e6}')
    fi
    echo "| $name | ${*:2} | $clock | $faults | $elapsed | $instructions |"
}

measure /bin/true /bin/true
for binary in ${BEFORE:-} "$TAU"; do
    name=$(basename "$(dirname "$binary")")/$(basename "$binary")
    measure "$name" "$binary" --version
    measure "$name" "$binary" schema
    measure "$name" "$binary" pool studies/bcg.json
done
