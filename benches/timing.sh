# Timing helpers shared by the compare_*.sh scripts (sourced, not run).

# Median wall-clock seconds of $1 runs of the remaining command (output
# discarded). Timed with bash's $EPOCHREALTIME, which costs no process: a
# `$(date +%s%N)` inside the timed window would add the start of a `date`
# process (about 1.5 ms on this VM) to every run.
median_wall() {
    local runs=$1
    shift
    local times=()
    for _ in $(seq "$runs"); do
        local start end
        start=$EPOCHREALTIME
        "$@" >/dev/null
        end=$EPOCHREALTIME
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.6f", b - a}')")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

# Median of metafor's fit time over $2 repetitions of the R expression $1 (d is the data).
metafor_fit() {
    Rscript -e "suppressPackageStartupMessages(library(metafor)); d <- read.csv('$3');
        t <- replicate($2, system.time({ $1 })[['elapsed']]); cat(median(t))"
}
