#!/usr/bin/env bash
# Times tau's multilevel models against metafor's rma.mv on the same files
# (issue 12), side by side:
#   - a 3-level REML fit, 400 studies x 5 effect sizes (k = 2000): tau as a
#     whole process, metafor's rma.mv(sparse = TRUE) and, once, without it;
#   - 20 000 studies x 5 (k = 10^5): tau's time and peak memory against the
#     size of the input file (metafor is not run: minutes even when sparse);
#   - dat.mccurdy2020 (4 levels, k = 1653) exported by R at run time (never
#     stored in the repository: it is kept for independent checks of tau).
#
#   benches/compare_multilevel.sh
#   TAU=/path/to/tau WORK=/tmp/ml benches/compare_multilevel.sh
#
# tau: median wall clock of 5 whole runs (reading, fit, report to
# /dev/null), with --fit-only (the model alone, as metafor's rma.mv) and by
# default (with the profile-likelihood CI of each sigma^2 and a likelihood-
# ratio test per level, metafor's confint() and anova(), which refit the
# model many times); at k = 2000 also the fit alone in process (criterion's
# estimate, `cargo bench --bench multilevel`), timed as metafor's is.
# metafor: system.time() of the rma.mv fit alone (data read beforehand),
# sparse = TRUE; DENSE=1 also times the dense fits (minutes each). Needs
# python3, bc, R with metafor and metadat, and GNU time for the memory figure.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${TAU:-}" ]]; then
    cargo build --release --quiet
    TAU="$PWD/target/release/tau"
fi
WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
echo "# tau vs metafor rma.mv, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tau $("$TAU" --version | cut -d' ' -f2); $(Rscript -e 'cat("metafor", as.character(packageVersion("metafor")), "/", R.version.string)')"

python3 - "$WORK" <<'PY'
import json, math, random, sys
work = sys.argv[1]
def write(name, studies, seed):
    rng = random.Random(seed)
    rows = []
    for s in range(studies):
        u = math.sqrt(0.05) * rng.gauss(0, 1)
        for e in range(5):
            vi = 0.01 + 0.09 * rng.random()
            yi = 0.3 + u + math.sqrt(0.02) * rng.gauss(0, 1) + math.sqrt(vi) * rng.gauss(0, 1)
            rows.append((f"{s}-{e}", yi, vi, s, e))
    with open(f"{work}/{name}.json", "w") as f:
        json.dump({"measure": "GEN", "studies": [
            {"study": l, "yi": y, "vi": v, "moderators": {"study": s, "es_id": e}}
            for l, y, v, s, e in rows]}, f)
    with open(f"{work}/{name}.csv", "w") as f:
        f.write("label,yi,vi,study,es_id\n")
        for l, y, v, s, e in rows:
            f.write(f"{l},{y!r},{v!r},{s},{e}\n")
write("k2000", 400, 1)
write("k100000", 20000, 2)
PY
Rscript -e 'suppressPackageStartupMessages(library(metadat)); d <- dat.mccurdy2020;
  write.csv(data.frame(study = d$id, yi = d$yi, vi = d$vi, article = d$article,
    experiment = d$experiment, sample = d$sample, id = d$id), "'"$WORK"'/mccurdy.csv", row.names = FALSE)'

source benches/timing.sh
quiet() { "$@" 2>/dev/null; }
median_ms() { median_wall 5 quiet "$TAU" "$@" | awk '{printf "%.3f", $1 * 1000}'; }
metafor_s() { metafor_fit "$1" 1 "$2"; }
peak_mb() { /usr/bin/time -f '%M' "$TAU" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1 / 1024}'; }

mf_sparse=$(metafor_s 'rma.mv(yi, vi, random = ~ 1 | study/es_id, data = d, sparse = TRUE)' "$WORK/k2000.csv")
for mode in --fit-only ""; do
    tau_2000=$(median_ms pool "$WORK/k2000.json" --random study/es_id $mode)
    printf '| k = 2000, 3 levels, REML %s | tau %.1f ms | metafor sparse %.2f s | %.0fx |\n' \
        "${mode:-(with CIs and LRTs)}" "$tau_2000" "$mf_sparse" "$(echo "$mf_sparse * 1000 / $tau_2000" | bc -l)"
done
# The fit alone, in process, as metafor's figure is: criterion's estimate of
# tau_core::multilevel::fit on the same model (benches/multilevel.rs; its own
# simulated k = 2000 data of the same design). SKIP_FIT_ALONE=1 skips it.
if [[ -z "${SKIP_FIT_ALONE:-}" ]]; then
    fit_alone=$( (cargo bench --quiet --bench multilevel -- 'multilevel_k2000/reml$' 2>/dev/null || true) |
        grep -A1 '^multilevel_k2000/reml' | grep -o '\[[^]]*\]' | head -1 | tr -d '[]' |
        awk '{v = $3; if ($4 == "µs") v /= 1000; if ($4 == "s") v *= 1000; printf "%.3f", v}')
    printf '| k = 2000, 3 levels, REML, the fit alone in process (criterion) | tau %.2f ms | metafor sparse %.2f s | %.0fx |\n' \
        "$fit_alone" "$mf_sparse" "$(echo "$mf_sparse * 1000 / $fit_alone" | bc -l)"
fi
if [[ -n "${DENSE:-}" ]]; then
    mf_dense=$(metafor_s 'rma.mv(yi, vi, random = ~ 1 | study/es_id, data = d)' "$WORK/k2000.csv")
    printf '| k = 2000, metafor dense | %.1f s | %.0fx |\n' "$mf_dense" "$(echo "$mf_dense * 1000 / $tau_2000" | bc -l)"
fi
size_mb=$(du -m "$WORK/k100000.json" | cut -f1)
for mode in --fit-only ""; do
    tau_1e5=$(median_ms pool "$WORK/k100000.json" --random study/es_id $mode)
    printf '| k = 10^5, 3 levels, REML %s | tau %.0f ms | peak %s MB | file %s MB |\n' \
        "${mode:-(with CIs and LRTs)}" "$tau_1e5" "$(peak_mb pool "$WORK/k100000.json" --random study/es_id $mode)" "$size_mb"
done
mf_mc=$(metafor_s 'rma.mv(yi, vi, random = ~ 1 | article/experiment/sample/id, data = d, sparse = TRUE)' "$WORK/mccurdy.csv")
for mode in --fit-only ""; do
    tau_mc=$(median_ms pool "$WORK/mccurdy.csv" --measure GEN --random article/experiment/sample/id $mode)
    printf '| dat.mccurdy2020, 4 levels, k = 1653 %s | tau %.1f ms | metafor sparse %.2f s | %.0fx |\n' \
        "${mode:-(with CIs and LRTs)}" "$tau_mc" "$mf_mc" "$(echo "$mf_mc * 1000 / $tau_mc" | bc -l)"
done
if [[ -n "${DENSE:-}" ]]; then
    mf_dense=$(metafor_s 'rma.mv(yi, vi, random = ~ 1 | article/experiment/sample/id, data = d)' "$WORK/mccurdy.csv")
    printf '| dat.mccurdy2020, metafor dense | %.1f s | %.0fx |\n' "$mf_dense" "$(echo "$mf_dense * 1000 / $tau_mc" | bc -l)"
fi
