//! Text and CSV views of a location-scale model, laid out like metafor's
//! `print.rma` of `rma(yi, vi, mods, scale)`.

use super::text::{fit_statistics_line, p_phrase, stars};
use super::{fmt_num, fmt_p, table};
use crate::location_scale::LocationScaleResult;
use crate::model::Method;
use crate::regression::Coefficient;

/// The text report.
pub fn text(r: &LocationScaleResult) -> String {
    let s = &r.settings;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Location-scale model (k = {}; tau^2 estimator: {}; link: log; measure: {})\n\n",
        r.k,
        s.method.name(),
        s.measure.label()
    ));
    let heading = if r.qm.is_some() {
        "Test for residual heterogeneity:\nQE"
    } else {
        "Test for heterogeneity:\nQ"
    };
    out.push_str(&format!(
        "{heading}(df = {}) = {}, p-val {}\n\n",
        r.qe_df,
        fmt_num(r.qe, 4),
        p_phrase(r.qe_p)
    ));
    out.push_str(&fit_statistics_line(
        &r.fit_statistics,
        s.method == Method::REML,
    ));
    if let (Some(qm), Some(df), Some(p)) = (r.qm, r.qm_df, r.qm_p) {
        out.push_str(&format!(
            "\nTest of location coefficients ({}):\nQM(df = {df}) = {}, p-val {}\n",
            which(r.coefficients.len()),
            fmt_num(qm, 4),
            p_phrase(p)
        ));
    }
    out.push_str("\nModel results (location):\n\n");
    out.push_str(&coefficient_table(&r.coefficients, None));
    out.push_str(&format!(
        "\nTest of scale coefficients ({}):\nQS(df = {}) = {}, p-val {}\n",
        which(r.alpha.len()),
        r.qs_df,
        fmt_num(r.qs, 4),
        p_phrase(r.qs_p)
    ));
    out.push_str("\nModel results (scale, ln tau^2):\n\n");
    out.push_str(&coefficient_table(&r.alpha, None));
    out.push_str("\ntau^2 per study (exp of the scale model):\n\n");
    let rows: Vec<Vec<String>> = r
        .studies
        .iter()
        .map(|st| {
            vec![
                st.study.clone(),
                fmt_num(st.tau2, 4),
                fmt_num(st.i2, 2),
                fmt_num(st.h2, 2),
                fmt_num(st.weight, 2),
            ]
        })
        .collect();
    out.push_str(&table(
        &["study", "tau^2", "I^2 %", "H^2", "weight %"],
        &rows,
    ));
    if let Some(predictions) = &r.predictions {
        out.push_str("\nPredicted tau^2 at the scale values given:\n\n");
        let rows: Vec<Vec<String>> = predictions
            .iter()
            .map(|p| {
                vec![
                    p.moderators
                        .iter()
                        .map(|(m, v)| format!("{m}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    fmt_num(p.pred, 4),
                    fmt_num(p.se, 4),
                    fmt_num(p.tau2, 4),
                    fmt_num(p.tau2_ci_lower, 4),
                    fmt_num(p.tau2_ci_upper, 4),
                ]
            })
            .collect();
        out.push_str(&table(
            &["at", "ln tau^2", "se", "tau^2", "ci.lb", "ci.ub"],
            &rows,
        ));
    }
    if !r.dropped.is_empty() {
        out.push_str(&format!(
            "\n{} {} left out for a missing moderator value (see the warning).\n",
            r.dropped.len(),
            crate::warning::studies(r.dropped.len())
        ));
    }
    out
}

/// "coefficient 2" or "coefficients 2:q".
pub(super) fn which(n: usize) -> String {
    if n == 2 {
        "coefficient 2".into()
    } else {
        format!("coefficients 2:{n}")
    }
}

pub(super) fn coefficient_table(coefficients: &[Coefficient], df: Option<f64>) -> String {
    let rows: Vec<Vec<String>> = coefficients
        .iter()
        .map(|c| {
            let mut row = vec![
                c.name.clone(),
                fmt_num(c.estimate.value, 4),
                fmt_num(c.estimate.se, 4),
                fmt_num(c.estimate.statistic, 4),
            ];
            row.extend(df.map(|df| fmt_num(df, 0)));
            row.extend([
                fmt_p(c.estimate.p),
                fmt_num(c.estimate.ci_lower, 4),
                fmt_num(c.estimate.ci_upper, 4),
                stars(c.estimate.p).to_owned(),
            ]);
            row
        })
        .collect();
    let header: &[&str] = match df {
        None => &["", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub", ""],
        Some(_) => &[
            "", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub", "",
        ],
    };
    table(header, &rows)
}

/// The CSV view: one row per study with its τ̂², or the predictions when
/// asked for.
pub fn csv(r: &LocationScaleResult) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if let Some(predictions) = &r.predictions {
        writer.write_record([
            "at",
            "pred",
            "se",
            "ci_lower",
            "ci_upper",
            "tau2",
            "tau2_ci_lower",
            "tau2_ci_upper",
        ])?;
        for p in predictions {
            let at = p
                .moderators
                .iter()
                .map(|(m, v)| format!("{m}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let mut row = vec![at];
            row.extend(
                [
                    p.pred,
                    p.se,
                    p.ci_lower,
                    p.ci_upper,
                    p.tau2,
                    p.tau2_ci_lower,
                    p.tau2_ci_upper,
                ]
                .map(|v| v.to_string()),
            );
            writer.write_record(&row)?;
        }
    } else {
        writer.write_record(["study", "yi", "vi", "fitted", "tau2", "I2", "H2", "weight"])?;
        for st in &r.studies {
            let mut row = vec![st.study.clone()];
            row.extend(
                [st.yi, st.vi, st.fitted, st.tau2, st.i2, st.h2, st.weight].map(|v| v.to_string()),
            );
            writer.write_record(&row)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
