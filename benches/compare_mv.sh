#!/usr/bin/env bash
# Times tau's general rma.mv fit against metafor on a multivariate model of
# 500 studies x 4 outcomes (k = 2000; issue 29): `~ outcome | study` with
# struct = "CS" and "UN", outcome means as moderators. tau: median wall
# clock of 5 whole runs (reading, fit, report to /dev/null); metafor:
# system.time() of the rma.mv fit alone (data read beforehand), with
# sparse = TRUE and, once, dense.
#
#   benches/compare_mv.sh
#   TAU=/path/to/tau WORK=/tmp/mv benches/compare_mv.sh
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${TAU:-}" ]]; then
    cargo build --release --quiet
    TAU="$PWD/target/release/tau"
fi
WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
echo "# tau vs metafor rma.mv (structured), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "# machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

Rscript -e '
set.seed(29)
G <- matrix(0.04, 4, 4); diag(G) <- 0.1
rows <- do.call(rbind, lapply(1:500, function(s) {
  u <- as.numeric(t(chol(G)) %*% rnorm(4)); vi <- runif(4, 0.01, 0.1)
  data.frame(label = paste0(s, "-", 1:4), study = s, outcome = paste0("o", 1:4), vi = vi,
             yi = 0.2 + 0.1 * (1:4) + u + rnorm(4, 0, sqrt(vi)))
}))
write.csv(rows, file.path(commandArgs(TRUE)[1], "k2000.csv"), row.names = FALSE)
recs <- lapply(seq_len(nrow(rows)), function(i) list(study = rows$label[i], yi = rows$yi[i],
  vi = rows$vi[i], moderators = list(study = rows$study[i], outcome = rows$outcome[i])))
jsonlite::write_json(list(measure = "GEN", studies = recs), file.path(commandArgs(TRUE)[1], "k2000.json"),
  auto_unbox = TRUE, digits = NA)
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

for s in CS UN; do
    ms=$(median_ms "$TAU" regress "$WORK/k2000.json" --mods outcome --no-intercept \
        --random 'outcome | study' --struct "$s" --format json)
    echo "tau   $s k=2000: ${ms} ms (whole process, median of 5)"
done

Rscript -e '
suppressPackageStartupMessages(library(metafor))
d <- read.csv(file.path(commandArgs(TRUE)[1], "k2000.csv"))
for (s in c("CS", "UN")) for (sparse in c(TRUE, FALSE)) {
  t <- system.time(r <- rma.mv(yi, vi, mods = ~ outcome - 1, random = ~ outcome | study,
                               struct = s, data = d, sparse = sparse))[["elapsed"]]
  cat(sprintf("metafor %s k=2000 sparse=%s: %.2f s (logLik %.6f)\n", s, sparse, t, logLik(r)))
}' "$WORK"
