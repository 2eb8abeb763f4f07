//! The text report of a selection model, laid out like metafor's
//! `print.rma.uni.selmodel`, with a plain reading at the end.

use super::paper::{PaperTable, paper_p};
use super::simulate::column_num;
use super::text::{p_phrase, stars};
use super::{fmt_num, fmt_p, table};
use crate::bias::selection::{SelectionModel, SelectionType};

/// The text report of a selection model.
pub fn selection_report(r: &SelectionModel) -> String {
    let s = &r.settings;
    let level = fmt_num(s.level, 0);
    let mut out = String::new();
    let model = if s.method == "EE" {
        "Common-Effect".to_owned()
    } else {
        "Random-Effects".to_owned()
    };
    out.push_str(&format!(
        "{model} Selection Model (k = {}; tau^2 estimator: {}; selection: {}, alternative = {}{})\n\n",
        r.k,
        s.method,
        s.kind.name(),
        s.alternative.name(),
        match s.kind {
            SelectionType::Beta => String::new(),
            _ if s.steps.len() > 1 => format!(
                ", steps = {}",
                s.steps.iter().map(|v| super::number::readable(*v)).collect::<Vec<_>>().join(", ")
            ),
            _ => String::new(),
        }
    ));
    if let Some(robust) = &r.robust {
        out.push_str(&format!(
            "Cluster-robust standard errors (sandwich of the per-cluster scores, CR0; clusters: {}, by '{}'):\nthe effects are fitted as if independent, and every SE, z test and CI below is robust\n(the model-based SE of the estimate, which trusts independence, is {}).\n\n",
            robust.clusters,
            robust.cluster,
            fmt_num(robust.model_se, 4)
        ));
    }
    if s.method != "EE" {
        out.push_str(&format!(
            "tau^2 (estimated amount of total heterogeneity): {} (SE = {}; {level}% CI: {}, {})\n",
            fmt_num(r.tau2, 4),
            fmt_num(r.tau2_se, 4),
            fmt_num(r.tau2_ci[0], 4),
            fmt_num(r.tau2_ci[1], 4)
        ));
        out.push_str(&format!(
            "tau (square root of estimated tau^2 value):      {}\n",
            fmt_num(r.tau2.sqrt(), 4)
        ));
        if let Some(h) = &r.heterogeneity {
            out.push_str(&format!(
                "\nTest for Heterogeneity:\nLRT(df = 1) = {}, p-val {}\n",
                fmt_num(h.statistic, 4),
                p_phrase(h.p)
            ));
        }
    }
    if let Some(qm) = &r.moderators_test {
        out.push_str(&format!(
            "\nTest of Moderators (coefficients 2:{}):\nQM(df = {}) = {}, p-val {}\n",
            r.coefficients.len(),
            qm.df,
            fmt_num(qm.statistic, 4),
            p_phrase(qm.p)
        ));
    }
    out.push_str("\nModel Results (adjusted for selection):\n\n");
    let rows: Vec<Vec<String>> = r
        .coefficients
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                fmt_num(c.estimate.value, 4),
                fmt_num(c.estimate.se, 4),
                fmt_num(c.estimate.statistic, 4),
                fmt_p(c.estimate.p),
                fmt_num(c.estimate.ci_lower, 4),
                fmt_num(c.estimate.ci_upper, 4),
                stars(c.estimate.p).to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub", ""],
        &rows,
    ));
    out.push_str(&format!(
        "\nTest for Selection Model Parameters:\nLRT(df = {}) = {}, p-val {}{}\n",
        r.LRT_df,
        fmt_num(r.LRT, 4),
        p_phrase(r.LRT_p),
        if r.robust.is_some() {
            " (treats the effects as independent: prefer the robust z tests of delta below)"
        } else {
            ""
        }
    ));
    out.push_str("\nSelection Model Results:\n\n");
    let dash = || "---".to_owned();
    let rows: Vec<Vec<String>> = r
        .delta
        .iter()
        .enumerate()
        .map(|(j, d)| {
            let label = match r.intervals.get(j) {
                Some(i) if s.kind == SelectionType::Step => i.label(),
                _ if r.delta.len() > 1 => format!("delta.{}", j + 1),
                _ => "delta".to_owned(),
            };
            let k = match r.intervals.get(j) {
                Some(i) if s.kind == SelectionType::Step => i.k.to_string(),
                _ => String::new(),
            };
            if r.delta_fixed[j] {
                vec![
                    label,
                    k,
                    fmt_num(*d, 4),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    dash(),
                    String::new(),
                ]
            } else {
                vec![
                    label,
                    k,
                    fmt_num(*d, 4),
                    fmt_num(r.delta_se[j], 4),
                    fmt_num(r.delta_statistic[j], 4),
                    fmt_p(r.delta_p[j]),
                    fmt_num(r.delta_ci[j][0], 4),
                    fmt_num(r.delta_ci[j][1], 4),
                    stars(r.delta_p[j]).to_owned(),
                ]
            }
        })
        .collect();
    out.push_str(&table(
        &[
            "", "k", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub", "",
        ],
        &rows,
    ));
    if s.kind != SelectionType::Step && !r.intervals.is_empty() {
        out.push_str("\nStudies per p-value interval:\n");
        for i in &r.intervals {
            out.push_str(&format!("  {}: {}\n", i.label(), i.k));
        }
    }
    out.push_str("\n---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n");
    out.push_str(&reading(r, &level));
    for warning in &r.warnings {
        out.push_str(&format!("\nWarning: {warning}\n"));
    }
    out
}

/// What the numbers say, in plain words, without claiming more than they can.
fn reading(r: &SelectionModel, level: &str) -> String {
    let u = &r.unadjusted;
    let mut out = format!(
        "\nReading: without selection the estimate is {} ({level}% CI: {}, {}); allowing for selection it is {} ({level}% CI: {}, {}).",
        fmt_num(u.estimate, 4),
        fmt_num(u.ci_lower, 4),
        fmt_num(u.ci_upper, 4),
        fmt_num(r.estimate.value, 4),
        fmt_num(r.estimate.ci_lower, 4),
        fmt_num(r.estimate.ci_upper, 4)
    );
    if r.robust.is_some() {
        let tested: Vec<usize> = (0..r.delta.len()).filter(|&j| !r.delta_fixed[j]).collect();
        let smallest = tested
            .iter()
            .map(|&j| r.delta_p[j])
            .fold(f64::NAN, f64::min);
        out.push_str(&format!(
            " With dependent effects the robust z tests of the selection weights are the ones to read (smallest p {}): {}",
            p_phrase(smallest),
            if smallest < 0.05 {
                "some p-value intervals seem to be published more or less often than others."
            } else {
                "they find no clear evidence of selection, which is weak evidence that there is none."
            }
        ));
    } else if r.LRT_p < 0.05 && reversed_selection(r).is_some() {
        out.push_str(&format!(
            " The data fit the selection model better than the model without selection (LRT p {}), but not in the way publication bias would make them.",
            p_phrase(r.LRT_p)
        ));
    } else if r.LRT_p < 0.05 {
        out.push_str(&format!(
            " The data fit the selection model better than the model without selection (LRT p {}): studies seem to be published more often for some p-values than for others.",
            p_phrase(r.LRT_p)
        ));
    } else {
        out.push_str(&format!(
            " The likelihood-ratio test finds no clear evidence of selection (p {}); this is weak evidence that there is none, because the test has little power with few studies.",
            p_phrase(r.LRT_p)
        ));
    }
    if let Some(reversed) = reversed_selection(r) {
        out.push(' ');
        out.push_str(&reversed);
    }
    out.push_str(
        " The adjustment holds only if publication depends on the p-value as the weight function assumes; compare it with the other bias methods (tau bias) rather than trusting one.\n",
    );
    out
}

/// For a step function whose estimated weight of a less significant
/// interval exceeds 1 (δ > 1: those results are over-represented relative to
/// the most significant ones), a sentence saying that this is the opposite
/// of publication bias and more often a sign of misfit; `None` otherwise.
/// (Under publication bias, δ < 1: non-significant results are missing.)
pub(super) fn reversed_selection(r: &SelectionModel) -> Option<String> {
    if r.settings.kind != SelectionType::Step {
        return None;
    }
    let over: Vec<String> = (0..r.delta.len())
        .filter(|&j| !r.delta_fixed[j] && r.delta[j] > 1.0)
        .map(|j| {
            let interval = r
                .intervals
                .get(j)
                .map_or_else(|| format!("interval {}", j + 1), |i| i.label());
            format!("{interval}: delta = {}", fmt_num(r.delta[j], 4))
        })
        .collect();
    if over.is_empty() {
        return None;
    }
    Some(format!(
        "The estimated selection weight is above 1 ({}): studies with larger p-values appear more often than significant ones. That is the opposite of publication bias, which leaves non-significant results out, and it more often signals that the selection model does not fit these data (heterogeneity or moderators it does not capture, a few outlying studies, few studies per p-value interval) than a real selection process; do not read the adjusted estimate as a correction for publication bias.",
        over.join("; ")
    ))
}

/// The paper table of a selection model: the coefficients adjusted for
/// selection (estimate with its CI, SE, z, p), τ² and the selection weights, with
/// the unadjusted estimate and the likelihood-ratio test in the notes.
/// Numbers are on the scale of the effect sizes (a selection model keeps no
/// measure to back-transform with).
pub fn paper(r: &SelectionModel, digits: usize) -> PaperTable {
    let s = &r.settings;
    let level = fmt_num(s.level, 0);
    let n = |x: f64| column_num(x, digits);
    let ci = |v: f64, lo: f64, hi: f64| format!("{} [{}, {}]", n(v), n(lo), n(hi));
    // τ² is often below 0.01: two more decimals than the estimates.
    let small = |x: f64| column_num(x, digits + 2);
    let mut rows: Vec<Vec<String>> = r
        .coefficients
        .iter()
        .map(|c| {
            let e = &c.estimate;
            vec![
                c.name.clone(),
                ci(e.value, e.ci_lower, e.ci_upper),
                n(e.se),
                n(e.statistic),
                paper_p(e.p),
            ]
        })
        .collect();
    if s.method != "EE" {
        rows.push(vec![
            "τ²".to_owned(),
            format!(
                "{} [{}, {}]",
                small(r.tau2),
                small(r.tau2_ci[0]),
                small(r.tau2_ci[1])
            ),
            small(r.tau2_se),
            String::new(),
            String::new(),
        ]);
    }
    for j in 0..r.delta.len() {
        let label = match r.intervals.get(j) {
            Some(i) if s.kind == SelectionType::Step => format!("δ ({}; k = {})", i.label(), i.k),
            _ if r.delta.len() > 1 => format!("δ{}", j + 1),
            _ => "δ".to_owned(),
        };
        rows.push(if r.delta_fixed[j] {
            vec![
                label,
                format!("{} (fixed)", n(r.delta[j])),
                String::new(),
                String::new(),
                String::new(),
            ]
        } else {
            vec![
                label,
                ci(r.delta[j], r.delta_ci[j][0], r.delta_ci[j][1]),
                n(r.delta_se[j]),
                n(r.delta_statistic[j]),
                paper_p(r.delta_p[j]),
            ]
        });
    }
    let u = &r.unadjusted;
    let mut notes = vec![
        format!(
            "{} selection model ({} weight function, alternative = {}), fitted by maximum likelihood as metafor's selmodel; estimates on the scale of the effect sizes.",
            if s.method == "EE" {
                "Common-effect"
            } else {
                "Random-effects"
            },
            s.kind.name(),
            s.alternative.name()
        ),
        format!(
            "Without selection: {} [{}, {}]. Likelihood-ratio test of no selection: χ²({}) = {}, {}.",
            n(u.estimate),
            n(u.ci_lower),
            n(u.ci_upper),
            r.LRT_df,
            n(r.LRT),
            super::paper::p_is(r.LRT_p)
        ),
    ];
    if let Some(robust) = &r.robust {
        notes.push(format!(
            "Cluster-robust standard errors (CR0 sandwich of the per-cluster scores), clustered by {} ({} clusters); every SE, z, p and CI is robust, the likelihood-ratio test is not.",
            robust.cluster, robust.clusters
        ));
    }
    if let Some(reversed) = reversed_selection(r) {
        notes.push(reversed);
    }
    PaperTable {
        caption: format!(
            "Selection model adjusted for publication bias ({} {})",
            r.k,
            crate::warning::studies(r.k)
        ),
        header: vec![
            "Parameter".to_owned(),
            format!("Estimate [{level}% CI]"),
            "SE".into(),
            "z".into(),
            "p".into(),
        ],
        summary_from: rows.len(),
        rows,
        notes,
    }
}
