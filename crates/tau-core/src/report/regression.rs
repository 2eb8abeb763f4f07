//! Text and CSV views of a meta-regression, laid out like metafor's `print.rma`.

use super::text::{
    back_transformed_table, ci_label, fit_statistics_line, p_phrase, se_phrase, stars,
};
use super::{fmt_num, fmt_p, table};
use crate::model::Method;
use crate::regression::RegressionResult;

/// The text report.
pub fn text(r: &RegressionResult) -> String {
    let s = &r.settings.model;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    if s.method == Method::EE {
        out.push_str(&format!(
            "Fixed-effects meta-regression (k = {}; measure: {})\n\n",
            r.k,
            s.measure.label()
        ));
    } else {
        out.push_str(&format!(
            "Mixed-effects meta-regression (k = {}; tau^2 estimator: {}; measure: {})\n\n",
            r.k,
            s.method.name(),
            s.measure.label()
        ));
        out.push_str(&format!(
            "tau^2 (estimated amount of residual heterogeneity):     {}{}{}\n",
            fmt_num(r.tau2, 4),
            se_phrase(r.tau2_se),
            r.tau2_ci
                .map(|[lo, hi]| format!(
                    " ({}% {}: {}, {})",
                    fmt_num(s.level, 0),
                    ci_label(r.tau2_ci_type),
                    fmt_num(lo, 4),
                    fmt_num(hi, 4)
                ))
                .unwrap_or_default()
        ));
        out.push_str(&format!(
            "tau (square root of estimated tau^2 value):             {}\n",
            fmt_num(r.tau2.sqrt(), 4)
        ));
    }
    out.push_str(&format!(
        "I^2 (residual heterogeneity / unaccounted variability): {}%\n",
        fmt_num(r.i2, 2)
    ));
    out.push_str(&format!(
        "H^2 (unaccounted variability / sampling variability):   {}\n",
        fmt_num(r.h2, 2)
    ));
    if let Some(r2) = r.r2 {
        out.push_str(&format!(
            "R^2 (amount of heterogeneity accounted for):            {}%\n",
            fmt_num(r2, 2)
        ));
    }
    out.push_str(&format!(
        "\nTest for residual heterogeneity:\nQE(df = {}) = {}, p-val {}\n\n",
        r.qe_df,
        fmt_num(r.qe, 4),
        p_phrase(r.qe_p)
    ));
    out.push_str(&fit_statistics_line(
        &r.fit_statistics,
        s.method == Method::REML,
    ));
    out.push('\n');
    out.push_str(&moderator_test(r));
    out.push_str("\nModel results");
    if let Some(df) = r.df {
        out.push_str(&format!(" (Knapp-Hartung, t with df = {df})"));
    }
    out.push_str(":\n\n");
    out.push_str(&coefficient_table(r));
    let predicted: Vec<_> = r
        .studies
        .iter()
        .map(|st| (st, r.predict_row(&st.x)))
        .collect();
    out.push_str(&back_transformed_table(
        s.measure,
        "Predicted values, back-transformed",
        "study",
        predicted
            .iter()
            .map(|(st, p)| (st.study.as_str(), p.estimate, p.ci_lower, p.ci_upper)),
    ));
    if let Some(predictions) = &r.predictions {
        out.push_str(&super::predict::predictions_text(predictions));
    }
    if let Some(blups) = &r.blups {
        out.push_str(&super::predict::blups_text(blups));
    }
    if let Some(perm) = &r.permutation {
        out.push_str(&if perm.exact {
            format!(
                "\npval* from an exact permutation test over all {} distinct arrangements.\n",
                perm.iterations
            )
        } else {
            format!(
                "\npval* from a permutation test with {} iterations, the observed data included (seed {}).\n",
                perm.iterations, perm.seed
            )
        });
        if let Some(by) = &perm.by {
            out.push_str(&format!(
                "Whole clusters of {by} were permuted: each cluster's moderator values moved together.\n"
            ));
        }
        if perm.failed > 0 {
            out.push_str(&format!(
                "{} arrangements could not be fitted and were left out.\n",
                perm.failed
            ));
        }
    }
    if !r.dropped.is_empty() {
        out.push_str(&format!(
            "\n{} {} left out for a missing moderator value (see the warning).\n",
            r.dropped.len(),
            crate::warning::studies(r.dropped.len())
        ));
    }
    if let Some(line) = s.weights.describe() {
        out.push_str(&format!("\n{}\n", crate::fields::named(line)));
    }
    out
}

fn moderator_test(r: &RegressionResult) -> String {
    let first = usize::from(r.settings.intercept) + 1;
    let last = r.coefficients.len();
    let which = if first == last {
        format!("coefficient {first}")
    } else {
        format!("coefficients {first}:{last}")
    };
    let statistic = match r.qm_df2 {
        Some(df2) => format!("F(df1 = {}, df2 = {}) = {}", r.qm_df, df2, fmt_num(r.qm, 4)),
        None => format!("QM(df = {}) = {}", r.qm_df, fmt_num(r.qm, 4)),
    };
    let mut line = format!(
        "Test of moderators ({which}):\n{statistic}, p-val {}",
        p_phrase(r.qm_p)
    );
    if let Some(perm) = &r.permutation {
        line.push_str(&format!(", p-val* {}", p_phrase(perm.qm_p)));
    }
    if let Some(t) = &r.btt {
        let statistic = match t.qm_df2 {
            Some(df2) => format!("F(df1 = {}, df2 = {}) = {}", t.qm_df, df2, fmt_num(t.qm, 4)),
            None => format!("QM(df = {}) = {}", t.qm_df, fmt_num(t.qm, 4)),
        };
        line.push_str(&format!(
            "\n\nTest of moderators ({}):\n{statistic}, p-val {}",
            t.coefficients.join(", "),
            p_phrase(t.qm_p)
        ));
    }
    line + "\n"
}

fn coefficient_table(r: &RegressionResult) -> String {
    let stat = if r.settings.model.test.is_knapp_hartung() {
        "tval"
    } else {
        "zval"
    };
    let permuted = r.permutation.is_some();
    let rows: Vec<Vec<String>> = r
        .coefficients
        .iter()
        .map(|c| {
            let mut row = vec![
                c.name.clone(),
                fmt_num(c.estimate.value, 4),
                fmt_num(c.estimate.se, 4),
                fmt_num(c.estimate.statistic, 4),
                fmt_p(c.estimate.p),
            ];
            if let Some(p) = c.p_permutation {
                row.push(fmt_p(p));
            }
            row.extend([
                fmt_num(c.estimate.ci_lower, 4),
                fmt_num(c.estimate.ci_upper, 4),
                stars(c.p_permutation.unwrap_or(c.estimate.p)).to_owned(),
            ]);
            row
        })
        .collect();
    let mut header = vec!["", "estimate", "se", stat, "pval"];
    if permuted {
        header.push("pval*");
    }
    header.extend(["ci.lb", "ci.ub", ""]);
    table(&header, &rows)
}

/// The coefficient table as CSV; the predictions (`--predict`) or else the
/// BLUPs (`--blup`) instead when asked for.
pub fn csv(r: &RegressionResult) -> Result<String, csv::Error> {
    if let Some(predictions) = &r.predictions {
        return super::predict::predictions_csv(predictions);
    }
    if let Some(blups) = &r.blups {
        return super::predict::blups_csv(blups);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "name",
        "estimate",
        "se",
        "statistic",
        "p",
        "ci_lower",
        "ci_upper",
    ];
    if r.permutation.is_some() {
        header.push("p_permutation");
    }
    writer.write_record(&header)?;
    for c in &r.coefficients {
        let mut row = vec![c.name.clone()];
        row.extend(c.estimate.csv_cells());
        if let Some(p) = c.p_permutation {
            row.push(p.to_string());
        }
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
