#!/bin/sh
# Regenerates the example plots in plots/ from the bundled studies.
# Run from anywhere:  sh plots/make_plots.sh
# SVG is the master; the PNGs are rendered from it at 150 dpi to keep the
# repository small (tau's default is 300 dpi). Plots of a study file that is
# not there are skipped with a note.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --quiet
tau() { cargo run --release --quiet -- "$@"; }

both() { # both NAME COMMAND...: writes plots/NAME.svg and plots/NAME.png
    name=$1
    shift
    tau "$@" -o "plots/$name.svg"
    tau "$@" -o "plots/$name.png" --dpi 150
}

# BCG vaccine (Colditz et al. 1994): risk ratios, subgroups by allocation.
both bcg_forest forest studies/bcg.json --by alloc \
    --title "BCG vaccine and tuberculosis: subgroups by allocation" \
    --arms "Vaccinated,Not vaccinated" \
    --favours-left "Favours vaccine" --favours-right "Favours control"
both bcg_forest_common forest studies/bcg.json --common --sort effect \
    --arms "Vaccinated,Not vaccinated" \
    --favours-left "Favours vaccine" --favours-right "Favours control"
both bcg_funnel funnel studies/bcg.json
both bcg_funnel_contours funnel studies/bcg.json --contours
both bcg_funnel_trimfill funnel studies/bcg.json --trimfill

# Normand (1999): mean differences with the raw means, SDs and sizes.
both normand1999_forest forest studies/normand1999.json \
    --arms "Specialist care,Routine care" \
    --favours-left "Shorter stay with specialist care" --favours-right "Longer stay"

# Parent training for ethnic-minority families (van Mourik et al. 2017):
# subgroups by adaptation, one outcome at a time where tau can filter.
PARENTING=studies/parenting_ethnic_minorities.json
if [ -f "$PARENTING" ]; then
    if tau forest --help | grep -q -- '--filter'; then
        set -- --filter "outcome=parenting behaviour"
    else
        set --
    fi
    both parenting_forest forest "$PARENTING" --by adaptation "$@" \
        --levels material,content,both \
        --level-labels "Material adapted (surface structure),Content adapted (deep structure),Both adapted" \
        --title "Parent training for ethnic-minority families, by adaptation" \
        --favours-left "Favours control" --favours-right "Favours parent training"
    both parenting_funnel funnel "$PARENTING" "$@" --contours
    # All outcomes in one three-level model, grouped by trial.
    both parenting_multilevel_forest forest "$PARENTING" --random trial/outcome \
        --title "Parent training: all outcomes, three-level model" \
        --favours-left "Favours control" --favours-right "Favours parent training"
    # The same with robust inference, by adaptation (the robust means).
    both parenting_robust_forest forest "$PARENTING" --random trial/outcome --robust trial \
        --by adaptation --levels material,content,both \
        --level-labels "Material adapted,Content adapted,Both adapted" --sort effect \
        --favours-left "Favours control" --favours-right "Favours parent training"
    # The same with robust inference, by adaptation (the robust means).
    both parenting_robust_forest forest "$PARENTING" --random trial/outcome --robust trial \
        --by adaptation --levels material,content,both \
        --level-labels "Material adapted,Content adapted,Both adapted" --sort effect \
        --favours-left "Favours control" --favours-right "Favours parent training"
else
    echo "note: $PARENTING is not there; its plots were skipped" >&2
fi
