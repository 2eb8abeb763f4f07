#!/usr/bin/env bash
# Times tau's general rma.mv fit against metafor on a multivariate model of
# 500 studies x 4 outcomes (k = 2000; issue 29): `~ outcome | study` with
# struct = "CS" and "UN", outcome means as moderators; then crossed and
# phylogenetic models (below). tau: median wall clock of 5 whole runs
# (reading, fit, report to /dev/null) with `--fit-only` (metafor's rma.mv
# fit computes no confint() either); metafor: system.time() of the rma.mv
# fit alone (data read beforehand), with sparse = TRUE (METAFOR_DENSE=1:
# dense too), each stopped after METAFOR_LIMIT seconds.
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
        start=${EPOCHREALTIME/./}
        "$@" > /dev/null
        end=${EPOCHREALTIME/./}
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}

for s in CS UN; do
    ms=$(median_ms "$TAU" regress "$WORK/k2000.json" --mods outcome --no-intercept \
        --random 'outcome | study' --struct "$s" --format json --fit-only)
    echo "tau   $s k=2000: ${ms} ms (whole process, median of 5), $("$TAU" regress "$WORK/k2000.json" \
        --mods outcome --no-intercept --random 'outcome | study' --struct "$s" --format json --fit-only |
        grep -m1 '"logLik"' | tr -d ' ,')"
done

METAFOR_LIMIT="${METAFOR_LIMIT:-600}"
sparse_modes=(TRUE)
[[ "${METAFOR_DENSE:-0}" == 1 ]] && sparse_modes+=(FALSE)
for s in CS UN; do
    for sparse in "${sparse_modes[@]}"; do
        timeout "$METAFOR_LIMIT" Rscript -e '
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(TRUE); d <- read.csv(file.path(a[1], "k2000.csv"))
t <- system.time(r <- rma.mv(yi, vi, mods = ~ outcome - 1, random = ~ outcome | study,
                             struct = a[2], data = d, sparse = as.logical(a[3])))[["elapsed"]]
cat(sprintf("metafor %s k=2000 sparse=%s: %.2f s (logLik %.6f)\n", a[2], a[3], t, logLik(r)))
' "$WORK" "$s" "$sparse" || echo "metafor $s sparse=$sparse: did not finish within $METAFOR_LIMIT s"
        echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
    done
done

# Crossed random intercepts (issue 29: k = 10^4 in < 2 s): 1000 studies, each
# replicated at 10 of 100 labs, `random = list(~ 1 | study, ~ 1 | lab)`.
# A phylogenetic model (< 5 s, < 2 GB): 1000 species on a random tree
# (ape::rtree, correlations from ape::vcv), 10 effect sizes each,
# `random = list(~ 1 | species, ~ 1 | phylo), R = list(phylo = A)`. metafor
# fits the smaller sizes SMALL_STUDIES and SMALL_SPECIES (default 50 each,
# k = 500: 40 to 70 s on a loaded 2-core machine; k = 2000 did not finish
# in 15 minutes, and its time grows about as k^3) with sparse = TRUE, so
# that there is a ratio; METAFOR_BIG=1 also runs it on the k = 10^4 files,
# stopped after METAFOR_LIMIT seconds.
Rscript -e '
suppressPackageStartupMessages(library(ape))
out <- commandArgs(TRUE)[1]
write_json_records <- function(d, file, mods) {
  recs <- lapply(seq_len(nrow(d)), function(i) {
    m <- lapply(mods, function(v) d[[v]][i]); names(m) <- mods
    list(study = d$label[i], yi = d$yi[i], vi = d$vi[i], moderators = m)
  })
  jsonlite::write_json(list(measure = "GEN", studies = recs), file, auto_unbox = TRUE, digits = NA)
}
crossed <- function(n_studies, n_labs, per) {
  set.seed(2910)
  us <- rnorm(n_studies, 0, sqrt(0.05)); ul <- rnorm(n_labs, 0, sqrt(0.02))
  d <- do.call(rbind, lapply(seq_len(n_studies), function(s) {
    labs <- sample(n_labs, per); vi <- runif(per, 0.01, 0.1)
    data.frame(study = paste0("s", s), lab = paste0("l", labs), vi = vi,
               yi = 0.3 + us[s] + ul[labs] + rnorm(per, 0, sqrt(vi)))
  }))
  d$label <- paste0(d$study, "-", d$lab); d
}
phylo <- function(n_species, per) {
  set.seed(2911)
  tree <- rtree(n_species); A <- vcv(tree, corr = TRUE)
  sp <- rownames(A)
  u <- as.numeric(t(chol(A)) %*% rnorm(n_species)) * sqrt(0.05)
  d <- do.call(rbind, lapply(seq_len(n_species), function(s) {
    vi <- runif(per, 0.01, 0.1)
    data.frame(species = sp[s], phylo = sp[s], vi = vi,
               yi = 0.2 + u[s] + rnorm(1, 0, sqrt(0.02)) + rnorm(per, 0, sqrt(vi)))
  }))
  d$label <- paste0(d$species, "-", ave(seq_len(nrow(d)), d$species, FUN = seq_along))
  list(d = d, A = A)
}
small <- as.integer(commandArgs(TRUE)[2:3])
for (size in list(list("big", 1000, 1000), list("small", small[1], small[2]))) {
  d <- crossed(size[[2]], 100, 10)
  write.csv(d, file.path(out, paste0("crossed_", size[[1]], ".csv")), row.names = FALSE)
  write_json_records(d, file.path(out, paste0("crossed_", size[[1]], ".json")), c("study", "lab"))
  p <- phylo(size[[3]], 10)
  write.csv(p$d, file.path(out, paste0("phylo_", size[[1]], ".csv")), row.names = FALSE)
  saveRDS(p$A, file.path(out, paste0("phylo_", size[[1]], ".rds")))
  write_json_records(p$d, file.path(out, paste0("phylo_", size[[1]], ".json")), c("species", "phylo"))
  A <- p$A
  write.table(cbind(data.frame(x = rownames(A)), as.data.frame(A)), file.path(out, paste0("phylo_", size[[1]], "_corr.csv")),
              sep = ",", row.names = FALSE, col.names = c("", colnames(A)), quote = FALSE)
}
' "$WORK" "${SMALL_STUDIES:-50}" "${SMALL_SPECIES:-50}"

for size in big small; do
    ms=$(median_ms "$TAU" pool "$WORK/crossed_$size.json" --random study --random lab --format json --fit-only)
    echo "tau   crossed ($size, k=$(( $(wc -l < "$WORK/crossed_$size.csv") - 1 ))): ${ms} ms (whole process, median of 5)"
    ms=$(median_ms "$TAU" pool "$WORK/phylo_$size.json" --random species --random phylo \
        --corr "phylo=$WORK/phylo_${size}_corr.csv" --format json --fit-only)
    echo "tau   phylo ($size, k=$(( $(wc -l < "$WORK/phylo_$size.csv") - 1 ))): ${ms} ms (whole process, median of 5)"
done
if command -v /usr/bin/time > /dev/null; then
    /usr/bin/time -f "tau   crossed (big): peak memory %M kB" "$TAU" pool "$WORK/crossed_big.json" \
        --random study --random lab --format json --fit-only > /dev/null
    /usr/bin/time -f "tau   phylo (big): peak memory %M kB" "$TAU" pool "$WORK/phylo_big.json" \
        --random species --random phylo --corr "phylo=$WORK/phylo_big_corr.csv" --format json \
        --fit-only > /dev/null
fi
for size in small big; do
    echo "tau   crossed ($size):"
    "$TAU" pool "$WORK/crossed_$size.json" --random study --random lab --format json --fit-only |
        grep -E '"(logLik|sigma2)"' -A2 | head -5
    echo "tau   phylo ($size):"
    "$TAU" pool "$WORK/phylo_$size.json" --random species --random phylo \
        --corr "phylo=$WORK/phylo_${size}_corr.csv" --format json --fit-only |
        grep -E '"(logLik|sigma2)"' -A2 | head -5
done
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"

metafor_sizes=(small)
[[ "${METAFOR_BIG:-0}" == 1 ]] && metafor_sizes+=(big)
for size in "${metafor_sizes[@]}"; do
    timeout "$METAFOR_LIMIT" Rscript -e '
suppressPackageStartupMessages(library(metafor))
out <- commandArgs(TRUE)[1]; size <- commandArgs(TRUE)[2]
d <- read.csv(file.path(out, paste0("crossed_", size, ".csv")))
t <- system.time(r <- rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | lab), data = d, sparse = TRUE))[["elapsed"]]
cat(sprintf("metafor crossed (%s, k=%d) sparse=TRUE: %.2f s (logLik %.6f, sigma2 %s)\n", size, nrow(d), t,
            logLik(r), paste(signif(r$sigma2, 8), collapse = " ")))
' "$WORK" "$size" || echo "metafor crossed ($size): did not finish within $METAFOR_LIMIT s"
    timeout "$METAFOR_LIMIT" Rscript -e '
suppressPackageStartupMessages(library(metafor))
out <- commandArgs(TRUE)[1]; size <- commandArgs(TRUE)[2]
d <- read.csv(file.path(out, paste0("phylo_", size, ".csv"))); A <- readRDS(file.path(out, paste0("phylo_", size, ".rds")))
t <- system.time(r <- rma.mv(yi, vi, random = list(~ 1 | species, ~ 1 | phylo), R = list(phylo = A),
                             data = d, sparse = TRUE))[["elapsed"]]
cat(sprintf("metafor phylo (%s, k=%d) sparse=TRUE: %.2f s (logLik %.6f, sigma2 %s)\n", size, nrow(d), t,
            logLik(r), paste(signif(r$sigma2, 8), collapse = " ")))
' "$WORK" "$size" || echo "metafor phylo ($size): did not finish within $METAFOR_LIMIT s"
done
