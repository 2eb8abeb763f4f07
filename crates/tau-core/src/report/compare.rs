//! Text, CSV and paper views of a likelihood-ratio comparison of two
//! meta-regressions, laid out like metafor's `print.anova.rma`.

use super::paper::PaperTable;
use super::text::p_phrase;
use super::{fmt_num, fmt_p, table};
use crate::model::Method;
use crate::regression::compare::{Comparison, ModelSummary};

fn moderators(m: &ModelSummary) -> String {
    if m.moderators.is_empty() {
        "(intercept only)".to_owned()
    } else {
        m.moderators.join(", ")
    }
}

/// A model's heterogeneity: τ², or a multilevel model's σ² joined by
/// `separator`.
fn variance(m: &ModelSummary, digits: usize, separator: &str) -> String {
    match (&m.tau2, &m.sigma2) {
        (Some(tau2), _) => fmt_num(*tau2, digits),
        (None, Some(sigma2)) => (sigma2.iter())
            .map(|s| fmt_num(*s, digits))
            .collect::<Vec<_>>()
            .join(separator),
        (None, None) => String::new(),
    }
}

/// The name of the heterogeneity column, in `sigma` or `tau` spelling.
fn variance_name<'a>(r: &Comparison, sigma: &'a str, tau: &'a str) -> &'a str {
    if r.sigma2_names.is_some() { sigma } else { tau }
}

/// One model's cells: df, AIC, BIC, AICc, logLik, then QE and τ² (σ²).
fn cells(m: &ModelSummary, digits: usize) -> [String; 7] {
    let f = &m.fit_statistics;
    [
        m.parms.to_string(),
        fmt_num(f.aic, digits),
        fmt_num(f.bic, digits),
        fmt_num(f.aicc, digits),
        fmt_num(f.log_lik, digits),
        fmt_num(m.qe, digits),
        variance(m, digits, ", "),
    ]
}

/// Why the models were refitted, when they were.
fn refit_note(r: &Comparison) -> Option<String> {
    (r.settings.method == Method::REML).then(|| {
        "Both models were refitted with ML: the REML likelihoods of models with different fixed effects cannot be compared (metafor's anova(full, reduced, refit = TRUE)).".to_owned()
    })
}

/// The text report.
pub fn text(r: &Comparison) -> String {
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Likelihood-ratio test of nested meta-regressions (k = {}; models fitted with {}; measure: {})\n\n",
        r.k,
        r.settings.fit_method.name(),
        r.settings.measure.label()
    ));
    out.push_str(&format!(
        "Full model:    {}\nReduced model: {}\n",
        moderators(&r.full),
        moderators(&r.reduced)
    ));
    if let Some(names) = &r.sigma2_names {
        out.push_str(&format!(
            "Multilevel models; sigma^2 of {}\n",
            names.join(", ")
        ));
    }
    out.push('\n');
    let row = |name: &str, m: &ModelSummary, lrt: [String; 2]| {
        let [df, aic, bic, aicc, ll, qe, tau2] = cells(m, 4);
        let [lrt, p] = lrt;
        vec![name.to_owned(), df, aic, bic, aicc, ll, lrt, p, qe, tau2]
    };
    let rows = vec![
        row("Full", &r.full, [String::new(), String::new()]),
        row("Reduced", &r.reduced, [fmt_num(r.lrt, 4), fmt_p(r.lrt_p)]),
    ];
    out.push_str(&table(
        &[
            "",
            "df",
            "AIC",
            "BIC",
            "AICc",
            "logLik",
            "LRT",
            "pval",
            "QE",
            variance_name(r, "sigma^2", "tau^2"),
        ],
        &rows,
    ));
    out.push_str(&format!(
        "\nLRT(df = {}) = {}, p-val {}\n",
        r.lrt_df,
        fmt_num(r.lrt, 4),
        p_phrase(r.lrt_p)
    ));
    if let Some(r2) = r.r2 {
        out.push_str(&format!(
            "R^2 (share of the reduced model's residual heterogeneity accounted for): {}%\n",
            fmt_num(r2, 2)
        ));
    }
    if let Some(note) = refit_note(r) {
        out.push_str(&format!("\n{note}\n"));
    }
    if !r.dropped.is_empty() {
        out.push_str(&format!(
            "\n{} {} without a moderator of the full model left out of both (see the warning).\n",
            r.dropped.len(),
            crate::warning::studies(r.dropped.len())
        ));
    }
    out
}

/// The two models as CSV, a row each; the LRT on the reduced model's row.
pub fn csv(r: &Comparison) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "model",
        "moderators",
        "parms",
        "logLik",
        "deviance",
        "AIC",
        "BIC",
        "AICc",
        "QE",
        variance_name(r, "sigma2", "tau2"),
        "LRT",
        "LRT_df",
        "LRT_p",
    ])?;
    for (name, m, lrt) in [("full", &r.full, None), ("reduced", &r.reduced, Some(r))] {
        let f = &m.fit_statistics;
        let mut row = vec![name.to_owned(), m.moderators.join(";"), m.parms.to_string()];
        row.extend([f.log_lik, f.deviance, f.aic, f.bic, f.aicc, m.qe].map(|v| v.to_string()));
        row.push(match (&m.tau2, &m.sigma2) {
            (Some(tau2), _) => tau2.to_string(),
            (None, Some(sigma2)) => (sigma2.iter().map(f64::to_string))
                .collect::<Vec<_>>()
                .join(";"),
            (None, None) => String::new(),
        });
        match lrt {
            Some(r) => row.extend([r.lrt.to_string(), r.lrt_df.to_string(), r.lrt_p.to_string()]),
            None => row.extend([String::new(), String::new(), String::new()]),
        }
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The paper table: a row per model, the test in the notes.
pub fn paper(r: &Comparison, digits: usize) -> PaperTable {
    let row = |name: &str, m: &ModelSummary| {
        let [df, aic, bic, aicc, ll, qe, tau2] = cells(m, digits);
        vec![
            format!("{name}: {}", moderators(m)),
            df,
            aic,
            bic,
            aicc,
            ll,
            qe,
            tau2,
        ]
    };
    let mut notes = vec![format!(
        "Likelihood-ratio test: χ²({}) = {}, {}.",
        r.lrt_df,
        fmt_num(r.lrt, digits),
        super::paper::p_is(r.lrt_p)
    )];
    notes.push(format!(
        "Models fitted with {} to the same {} {}.",
        r.settings.fit_method.name(),
        r.k,
        crate::warning::studies(r.k)
    ));
    notes.extend(refit_note(r));
    PaperTable {
        caption: match &r.title {
            Some(title) => format!("{title}: comparison of nested meta-regressions"),
            None => "Comparison of nested meta-regressions".to_owned(),
        },
        header: [
            "Model",
            "df",
            "AIC",
            "BIC",
            "AICc",
            "logLik",
            "QE",
            variance_name(r, "σ²", "τ²"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: vec![row("Full", &r.full), row("Reduced", &r.reduced)],
        summary_from: 2,
        notes,
    }
}
