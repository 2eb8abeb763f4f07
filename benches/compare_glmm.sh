#!/usr/bin/env bash
# Times tau's GLMMs of 2x2 tables against metafor's rma.glmm (issue 30:
# 100 tables in < 50 ms) on 100 simulated tables (n per arm 50..500, control
# risk 2..20%, log odds ratio ~ N(-0.4, 0.1)), measure OR, models UM.FS,
# CM.AL and CM.EL. tau: median wall clock of 5 whole runs (reading, fit,
# report to /dev/null); metafor: system.time() of rma.glmm alone (data read
# beforehand), with its logLik beside it.
#
#   benches/compare_glmm.sh
#   TAU=/path/to/tau WORK=/tmp/glmm benches/compare_glmm.sh
#   SKIP_METAFOR=1 benches/compare_glmm.sh   # tau's side only (metafor
#                                            # takes about 40 minutes)
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${TAU:-}" ]]; then
    cargo build --release --quiet
    TAU="$PWD/target/release/tau"
fi
WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
echo "# tau vs metafor rma.glmm (100 2x2 tables), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

Rscript -e '
set.seed(30)
k <- 100
n1 <- sample(50:500, k, replace = TRUE); n2 <- sample(50:500, k, replace = TRUE)
p2 <- runif(k, 0.02, 0.2)
theta <- rnorm(k, -0.4, sqrt(0.1))
p1 <- plogis(qlogis(p2) + theta)
d <- data.frame(study = paste0("s", 1:k), ai = rbinom(k, n1, p1), n1i = n1,
                ci = rbinom(k, n2, p2), n2i = n2)
write.csv(d, file.path(commandArgs(TRUE)[1], "tables100.csv"), row.names = FALSE)
recs <- lapply(seq_len(k), function(i) list(study = d$study[i], events1 = d$ai[i], n1 = d$n1i[i],
  events2 = d$ci[i], n2 = d$n2i[i]))
jsonlite::write_json(list(measure = "OR", studies = recs),
  file.path(commandArgs(TRUE)[1], "tables100.json"), auto_unbox = TRUE, digits = NA)
' "$WORK"

median_ms() {
    local times=()
    for _ in 1 2 3 4 5; do
        local start end
        start=$(date +%s%N)
        "$@" > /dev/null
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}

for model in UM.FS CM.AL CM.EL; do
    ms=$(median_ms "$TAU" pool "$WORK/tables100.json" --glmm "$model" --format json)
    ll=$("$TAU" pool "$WORK/tables100.json" --glmm "$model" --format json |
        python3 -c 'import json, sys; print("%.6f" % json.load(sys.stdin)["logLik"])')
    echo "tau     $model k=100: ${ms} ms (whole process, median of 5; logLik $ll)"
done

if [[ -n "${SKIP_METAFOR:-}" ]]; then
    exit 0
fi
Rscript -e '
suppressPackageStartupMessages(library(metafor))
d <- read.csv(file.path(commandArgs(TRUE)[1], "tables100.csv"))
for (m in c("UM.FS", "CM.AL", "CM.EL")) {
  t <- system.time(r <- rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                                 data = d, model = m))[["elapsed"]]
  cat(sprintf("metafor %s k=100: %.2f s (logLik %.6f)\n", m, t, r$fit.stats["ll", "ML"]))
}' "$WORK"
