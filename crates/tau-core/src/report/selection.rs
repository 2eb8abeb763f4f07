//! The text report of a selection model, laid out like metafor's
//! `print.rma.uni.selmodel`, with a plain reading at the end.

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
    out.push_str(
        " The adjustment holds only if publication depends on the p-value as the weight function assumes; compare it with the other bias methods (tau bias) rather than trusting one.\n",
    );
    out
}
