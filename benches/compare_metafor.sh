#!/usr/bin/env bash
# Times tau against metafor (and Python's json.load) on the same generated
# files, side by side, and prints the ratios against the targets of issue 7.
#
#   benches/compare_metafor.sh            # all three comparisons
#   WORK=/tmp/cmp benches/compare_metafor.sh   # keep the generated files there
#   SKIP_MILLION=1 benches/compare_metafor.sh  # skip the k = 10^6 file
#   TAU=/path/to/tau benches/compare_metafor.sh  # time another build (no cargo build)
#
# tau is timed as a whole process (release build, wall clock, median of
# several runs); metafor as its fit time only: system.time() around rma()
# (data read beforehand, not timed). Needs python3; R with metafor and GNU
# time (/usr/bin/time, Debian package "time") are used when present.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${TAU:-}" ]]; then
    cargo build --release --quiet
    TAU="$PWD/target/release/tau"
fi
WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
HAVE_R=0
if command -v Rscript >/dev/null && Rscript -e 'library(metafor)' >/dev/null 2>&1; then
    HAVE_R=1
fi

echo "# tau vs metafor, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tau $("$TAU" --version | cut -d' ' -f2); $( ((HAVE_R)) && Rscript -e 'cat("metafor", as.character(packageVersion("metafor")), "/", R.version.string)' || echo "R/metafor not installed: metafor columns skipped")"
echo "# files in $WORK"
echo

# ---- input files: the same numbers as JSON (for tau) and CSV (for R) ----
python3 - "$WORK" "${SKIP_MILLION:-0}" <<'PY'
import json, random, sys
work, skip_million = sys.argv[1], sys.argv[2] == "1"

def studies(rng, k):
    """SMD-like studies: n1, n2 ~ U{20..200}, vi = 1/n1 + 1/n2 + mu^2/(2(n1+n2)), yi ~ N(0.3, 0.05 + vi)."""
    for _ in range(k):
        n1, n2 = rng.randint(20, 200), rng.randint(20, 200)
        vi = 1 / n1 + 1 / n2 + 0.09 / (2 * (n1 + n2))
        yield rng.gauss(0.3, (0.05 + vi) ** 0.5), vi

def write(name, rows, analysis=False):
    with open(f"{work}/{name}.json", "w") as j, open(f"{work}/{name}.csv", "w") as c:
        j.write('{"measure": "GEN", "studies": [\n')
        c.write("study,yi,vi" + (",analysis" if analysis else "") + "\n")
        for i, (label, yi, vi, group) in enumerate(rows):
            mods = f', "moderators": {{"analysis": "{group}"}}' if analysis else ""
            j.write(("" if i == 0 else ",\n") + f'{{"study": "{label}", "yi": {yi:.6f}, "vi": {vi:.6f}{mods}}}')
            c.write(f"{label},{yi:.6f},{vi:.6f}" + (f",{group}" if analysis else "") + "\n")
        j.write("\n]}\n")

rng = random.Random(7)
write("k1000", ((f"s{i + 1}", yi, vi, None) for i, (yi, vi) in enumerate(studies(rng, 1000))))
write("batch", ((f"a{a + 1}-s{i + 1}", yi, vi, f"a{a + 1:04d}")
                for a in range(2000) for i, (yi, vi) in enumerate(studies(rng, 20))), analysis=True)
if not skip_million:
    write("k1m", ((f"s{i + 1}", yi, vi, None) for i, (yi, vi) in enumerate(studies(rng, 10**6))))
PY

# median_wall, metafor_fit: benches/timing.sh.
source benches/timing.sh

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0fx", b / a}'; }
row() { printf '%-44s %12s %12s %10s  %s\n' "$@"; }

row "work" "tau (s)" "metafor (s)" "ratio" "target"
tau_k1000=$(median_wall 21 "$TAU" pool "$WORK/k1000.json")
tau_k1000_json=$(median_wall 21 "$TAU" pool "$WORK/k1000.json" --format json)
if ((HAVE_R)); then
    mf_k1000=$(metafor_fit 'rma(yi, vi, data = d, method = "REML")' 3 "$WORK/k1000.csv")
    row "k = 1000 REML, tau pool (text report)" "$tau_k1000" "$mf_k1000" "$(ratio "$tau_k1000" "$mf_k1000")" ">= 1000x"
    row "k = 1000 REML, tau pool --format json" "$tau_k1000_json" "$mf_k1000" "$(ratio "$tau_k1000_json" "$mf_k1000")" ">= 1000x"
else
    row "k = 1000 REML, tau pool (text report)" "$tau_k1000" "-" "-" ">= 1000x"
    row "k = 1000 REML, tau pool --format json" "$tau_k1000_json" "-" "-" ">= 1000x"
fi

if "$TAU" subgroup --help >/dev/null 2>&1; then
    if tau_batch=$(median_wall 5 "$TAU" subgroup "$WORK/batch.json" --by analysis); then
        if ((HAVE_R)); then
            mf_batch=$(metafor_fit 'for (g in split(d, d$analysis)) rma(yi, vi, data = g, method = "REML")' 1 "$WORK/batch.csv")
            row "2000 x (k = 20) REML, tau subgroup --by" "$tau_batch" "$mf_batch" "$(ratio "$tau_batch" "$mf_batch")" ">= 300x"
        else
            row "2000 x (k = 20) REML, tau subgroup --by" "$tau_batch" "-" "-" ">= 300x"
        fi
    else
        echo "2000 x (k = 20): 'tau subgroup $WORK/batch.json --by analysis' failed; skipped"
    fi
else
    echo "2000 x (k = 20): this tau has no 'subgroup' subcommand yet; skipped"
fi

if [[ "${SKIP_MILLION:-0}" != 1 ]]; then
    echo
    size=$(stat -c %s "$WORK/k1m.json")
    python=$(median_wall 3 python3 -c "import json; json.load(open('$WORK/k1m.json'))")
    printf '%-44s %12s %12s %10s  %s\n' "k = 10^6 REML, whole process" "tau (s)" "python (s)" "ratio" "target: faster than json.load"
    # The report goes to standard output (discarded): the time to compute and
    # write it. With -o FILE tau also waits for the disk (fsync before the
    # rename that replaces the file), shown in the last row.
    for format in text json csv; do
        t=$(median_wall 3 "$TAU" pool "$WORK/k1m.json" --format "$format")
        row "  tau pool --format $format vs json.load" "$t" "$python" "$(awk -v a="$t" -v b="$python" 'BEGIN {printf "%.2fx", b / a}')" ""
    done
    t=$(median_wall 3 "$TAU" pool "$WORK/k1m.json" --format json -o "$WORK/out.json")
    row "  ... --format json -o FILE (fsync)" "$t" "$python" "$(awk -v a="$t" -v b="$python" 'BEGIN {printf "%.2fx", b / a}')" ""
    if [[ -x /usr/bin/time ]]; then
        echo
        printf '%-44s %12s %12s %10s  %s\n' "k = 10^6 peak memory" "RSS (MB)" "file (MB)" "RSS/file" "target: < 3x"
        for format in text json; do
            kb=$( { /usr/bin/time -f '%M' "$TAU" pool "$WORK/k1m.json" --format "$format" -o "$WORK/out.$format" >/dev/null; } 2>&1 | tail -1)
            row "  tau pool --format $format" "$((kb / 1024))" "$((size / 1048576))" "$(awk -v a="$kb" -v b="$size" 'BEGIN {printf "%.1fx", a * 1024 / b}')" ""
        done
        kb=$( { /usr/bin/time -f '%M' python3 -c "import json; json.load(open('$WORK/k1m.json'))"; } 2>&1 | tail -1)
        row "  python3 json.load" "$((kb / 1024))" "$((size / 1048576))" "$(awk -v a="$kb" -v b="$size" 'BEGIN {printf "%.1fx", a * 1024 / b}')" ""
    else
        echo "peak memory: /usr/bin/time not found (apt-get install time); skipped"
    fi
fi
