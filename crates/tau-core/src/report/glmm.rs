//! Text and CSV views of a GLMM, laid out like metafor's `print.rma.glmm`.

use super::text::{p_phrase, stars};
use super::{fmt_num, fmt_p, table};
use crate::glmm::GlmmResult;
use crate::glmm::moderators::GlmmRegression;

/// The text report.
pub fn text(r: &GlmmResult) -> String {
    let f = &r.fit;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Random-Effects Model (k = {}; tau^2 estimator: ML)\nModel Type: GLMM, {} (measure {}, model {})\n\n",
        f.k,
        r.model_type(),
        r.measure,
        r.model.name()
    ));
    out.push_str(&format!(
        "tau^2 (estimated amount of total heterogeneity): {}\ntau (square root of estimated tau^2 value):      {}\nI^2 (total heterogeneity / total variability):   {}%\nH^2 (total variability / sampling variability):  {}\n\n",
        fmt_num(f.tau2, 4),
        fmt_num(f.tau2.sqrt(), 4),
        fmt_num(f.i2, 2),
        fmt_num(f.h2, 2)
    ));
    if let Some(sigma2) = r.sigma2 {
        out.push_str(&format!(
            "sigma^2 (estimated amount of study level variability): {}\nsigma (square root of estimated sigma^2 value):        {}\n\n",
            fmt_num(sigma2, 4),
            fmt_num(sigma2.sqrt(), 4)
        ));
    }
    out.push_str(&format!(
        "Tests for Heterogeneity:\nWld(df = {}) = {}, p-val {}\nLRT(df = {}) = {}, p-val {}\n\n",
        f.qe_df,
        fmt_num(f.qe_wld, 4),
        p_phrase(f.qe_wld_p),
        f.qe_df,
        fmt_num(f.qe_lrt, 4),
        p_phrase(f.qe_lrt_p)
    ));
    out.push_str("Model Results:\n\n");
    let mut row = vec![
        fmt_num(f.estimate, 4),
        fmt_num(f.se, 4),
        fmt_num(f.statistic, 4),
    ];
    row.extend(r.df.map(|df| fmt_num(df, 0)));
    row.extend([
        fmt_p(f.p),
        fmt_num(f.ci_lower, 4),
        fmt_num(f.ci_upper, 4),
        stars(f.p).to_owned(),
    ]);
    let header: &[&str] = match r.df {
        None => &["estimate", "se", "zval", "pval", "ci.lb", "ci.ub", ""],
        Some(_) => &["estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub", ""],
    };
    out.push_str(&table(header, &[row]));
    out.push_str(&format!("\nlogLik: {}\n", fmt_num(f.log_lik, 4)));
    if r.left_out > 0 {
        out.push_str(&format!(
            "\n{} {} with no events (or only events) in both groups left out, as metafor does.\n",
            r.left_out,
            left_out_noun(r.measure, r.left_out)
        ));
    }
    out
}

/// The text report of a GLMM with moderators, laid out like metafor's
/// `print.rma.glmm` of a mixed-effects model.
pub fn regression_text(r: &GlmmRegression) -> String {
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Mixed-Effects Model (k = {}; tau^2 estimator: ML)\nModel Type: GLMM, {} (measure {}, model {})\n\n",
        r.k,
        r.model_type(),
        r.measure,
        r.model.name()
    ));
    out.push_str(&format!(
        "tau^2 (estimated amount of residual heterogeneity):     {}\ntau (square root of estimated tau^2 value):             {}\nI^2 (residual heterogeneity / unaccounted variability): {}%\nH^2 (unaccounted variability / sampling variability):   {}\n\n",
        fmt_num(r.tau2, 4),
        fmt_num(r.tau2.sqrt(), 4),
        fmt_num(r.i2, 2),
        fmt_num(r.h2, 2)
    ));
    out.push_str(&format!(
        "Tests for Residual Heterogeneity:\nWld(df = {}) = {}, p-val {}\nLRT(df = {}) = {}, p-val {}\n\n",
        r.qe_df,
        fmt_num(r.qe_wld, 4),
        p_phrase(r.qe_wld_p),
        r.qe_df,
        fmt_num(r.qe_lrt, 4),
        p_phrase(r.qe_lrt_p)
    ));
    if r.qm_df > 0 {
        let test = match r.df {
            Some(df) => format!("F(df1 = {}, df2 = {})", r.qm_df, fmt_num(df, 0)),
            None => format!("QM(df = {})", r.qm_df),
        };
        out.push_str(&format!(
            "Test of Moderators ({}):\n{test} = {}, p-val {}\n\n",
            super::location_scale::which(r.coefficients.len()),
            fmt_num(r.qm, 4),
            p_phrase(r.qm_p)
        ));
    }
    out.push_str("Model Results:\n\n");
    out.push_str(&super::location_scale::coefficient_table(
        &r.coefficients,
        r.df,
    ));
    out.push_str(&format!("\nlogLik: {}\n", fmt_num(r.log_lik, 4)));
    if r.left_out > 0 {
        out.push_str(&format!(
            "\n{} {} with no events (or only events) in both groups left out, as metafor does.\n",
            r.left_out,
            left_out_noun(r.measure, r.left_out)
        ));
    }
    if r.missing_moderators > 0 {
        out.push_str(&format!(
            "\n{} {} left out for a missing moderator value (see the warning).\n",
            r.missing_moderators,
            crate::warning::studies(r.missing_moderators)
        ));
    }
    out
}

/// "table(s)" or, for rate ratios, "study(ies)".
fn left_out_noun(measure: &str, n: usize) -> &'static str {
    match (measure, n) {
        ("IRR", 1) => "study",
        ("IRR", _) => "studies",
        (_, 1) => "table",
        _ => "tables",
    }
}

/// The CSV view of a GLMM with moderators: one row per coefficient.
pub fn regression_csv(r: &GlmmRegression) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "name",
        "estimate",
        "se",
        "statistic",
        "p",
        "ci_lower",
        "ci_upper",
    ])?;
    for c in &r.coefficients {
        let mut row = vec![c.name.clone()];
        row.extend(c.estimate.csv_cells());
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The CSV view: one row with the model's numbers (`sigma2` last, for
/// UM.RS).
pub fn csv(r: &GlmmResult) -> Result<String, csv::Error> {
    let f = &r.fit;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "estimate",
        "se",
        "statistic",
        "p",
        "ci_lower",
        "ci_upper",
        "tau2",
        "QE_Wld",
        "QE_Wld_p",
        "QE_LRT",
        "QE_LRT_p",
        "I2",
        "H2",
        "logLik",
    ];
    let mut row = vec![
        f.estimate,
        f.se,
        f.statistic,
        f.p,
        f.ci_lower,
        f.ci_upper,
        f.tau2,
        f.qe_wld,
        f.qe_wld_p,
        f.qe_lrt,
        f.qe_lrt_p,
        f.i2,
        f.h2,
        f.log_lik,
    ];
    if let Some(sigma2) = r.sigma2 {
        header.push("sigma2");
        row.push(sigma2);
    }
    writer.write_record(header)?;
    writer.write_record(row.iter().map(|v| v.to_string()))?;
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
