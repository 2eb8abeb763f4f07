//! Plain-text reports laid out like metafor's `print.rma`: the text view of
//! every result (the longer ones are written by their per-result modules).

use super::table::layout;
use super::{Cells, aligned_table, fmt_num, fmt_p, push_num};
use crate::bias::BiasResult;
use crate::bias::selection::SelectionModel;
use crate::data::dataset::Dataset;
use crate::fields::FORMAT;
use crate::model::Method;
use crate::model::fit_statistics::FitStatistics;
use crate::pool::PoolResult;
use crate::pool_tables::{TablesMethod, TablesResult};
use crate::regression::RegressionResult;
use crate::report::PoolReport;
use crate::sensitivity::baujat::Baujat;
use crate::sensitivity::cumulative::Cumulative;
use crate::sensitivity::influence::Influence;
use crate::sensitivity::leave_one_out::{LeaveOneOut, TablesLeaveOneOut};
use crate::settings::Settings;
use crate::simulate::SimulationResult;
use crate::subgroup::SubgroupResult;

/// The text view of a result.
pub trait TextView {
    /// The report, as the CLI prints it.
    fn text(&self) -> String;
}

impl TextView for PoolReport<'_> {
    fn text(&self) -> String {
        pool_report(self.result, self.data)
    }
}

impl<M: TextView + ?Sized> TextView for crate::report::RobustReport<'_, M> {
    fn text(&self) -> String {
        format!(
            "{}\n{}",
            self.model.text(),
            super::robust::text(self.robust, self.tested)
        )
    }
}

impl TextView for TablesResult {
    fn text(&self) -> String {
        tables_report(self)
    }
}

impl TextView for SubgroupResult {
    fn text(&self) -> String {
        super::subgroup::text(self)
    }
}

impl TextView for crate::glmm::GlmmResult {
    fn text(&self) -> String {
        super::glmm::text(self)
    }
}

impl TextView for crate::glmm::moderators::GlmmRegression {
    fn text(&self) -> String {
        super::glmm::regression_text(self)
    }
}

impl TextView for crate::location_scale::LocationScaleResult {
    fn text(&self) -> String {
        super::location_scale::text(self)
    }
}

impl TextView for RegressionResult {
    fn text(&self) -> String {
        super::regression::text(self)
    }
}

impl TextView for crate::multilevel::MultilevelResult {
    fn text(&self) -> String {
        super::multilevel::text(self)
    }
}

impl TextView for crate::multilevel::MultilevelSubgroups {
    fn text(&self) -> String {
        super::multilevel::subgroups_text(self)
    }
}

impl TextView for BiasResult {
    fn text(&self) -> String {
        super::bias::bias_report(self)
    }
}

impl TextView for SelectionModel {
    fn text(&self) -> String {
        super::selection::selection_report(self)
    }
}

impl TextView for LeaveOneOut {
    fn text(&self) -> String {
        super::sensitivity::leave_one_out_report(self)
    }
}

impl TextView for TablesLeaveOneOut {
    fn text(&self) -> String {
        super::sensitivity::tables_leave_one_out_report(self)
    }
}

impl TextView for Cumulative {
    fn text(&self) -> String {
        super::sensitivity::cumulative_report(self)
    }
}

impl TextView for crate::sensitivity::refits::Refits {
    fn text(&self) -> String {
        super::sensitivity::refits_report(self)
    }
}

impl TextView for Influence {
    fn text(&self) -> String {
        super::sensitivity::influence_report(self)
    }
}

impl TextView for Baujat {
    fn text(&self) -> String {
        super::sensitivity::baujat_report(self)
    }
}

impl TextView for crate::sensitivity::moderator_test::ModeratorLeaveOneOut {
    fn text(&self) -> String {
        super::moderator_test::text(self)
    }
}

impl TextView for crate::regression::compare::Comparison {
    fn text(&self) -> String {
        super::compare::text(self)
    }
}

impl TextView for crate::robust::RhoSensitivity {
    fn text(&self) -> String {
        super::rho::text(self)
    }
}

impl TextView for SimulationResult {
    fn text(&self) -> String {
        super::simulate::text(self)
    }
}

/// Significance stars as R prints them.
pub fn stars(p: f64) -> &'static str {
    match p {
        p if p < 0.001 => "***",
        p if p < 0.01 => "**",
        p if p < 0.05 => "*",
        p if p < 0.1 => ".",
        _ => "",
    }
}

/// Studies listed in a text report; beyond this the table is cut (metafor
/// prints no study table at all; CSV and JSON always list every study).
pub const MAX_STUDY_ROWS: usize = 1000;

/// The text report of a pooled analysis; `data` is the data set that was pooled.
pub fn pool_report(r: &PoolResult, data: &Dataset) -> String {
    let s = &r.settings;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    let level = fmt_num(s.level, 0);
    if s.method == Method::EE {
        out.push_str(&format!(
            "Common-effect model (k = {}; measure: {})\n\n",
            r.k,
            s.measure.label()
        ));
        out.push_str(&format!(
            "I^2 (total heterogeneity / total variability):  {}%\nH^2 (total variability / sampling variability): {}\n",
            fmt_num(r.i2, 2),
            fmt_num(r.h2, 2)
        ));
    } else {
        out.push_str(&format!(
            "Random-effects model (k = {}; tau^2 estimator: {}; measure: {})\n\n",
            r.k,
            s.method.name(),
            s.measure.label()
        ));
        let kind = ci_label(r.tau2_ci_type);
        let ci = |c: Option<[f64; 2]>, d: usize| {
            c.map(|[lo, hi]| format!(" ({level}% {kind}: {}, {})", fmt_num(lo, d), fmt_num(hi, d)))
                .unwrap_or_default()
        };
        out.push_str(&format!(
            "tau^2 (estimated amount of total heterogeneity): {}{}{}\n",
            fmt_num(r.tau2, 4),
            se_phrase(r.tau2_se),
            ci(r.tau2_ci, 4)
        ));
        out.push_str(&format!(
            "tau (square root of estimated tau^2 value):      {}\n",
            fmt_num(r.tau, 4)
        ));
        out.push_str(&format!(
            "I^2 (total heterogeneity / total variability):   {}%{}\n",
            fmt_num(r.i2, 2),
            ci(r.i2_ci, 2)
        ));
        out.push_str(&format!(
            "H^2 (total variability / sampling variability):  {}{}\n",
            fmt_num(r.h2, 2),
            ci(r.h2_ci, 2)
        ));
    }
    out.push_str(&format!(
        "\nTest for heterogeneity:\nQ(df = {}) = {}, p-val {}\n\n",
        r.q_df,
        fmt_num(r.q, 4),
        p_phrase(r.q_p)
    ));
    out.push_str(&fit_statistics_line(
        &r.fit_statistics,
        s.method == Method::REML,
    ));
    out.push('\n');
    let stat = if s.test.is_knapp_hartung() || r.robust {
        "tval"
    } else {
        "zval"
    };
    out.push_str("Model results");
    match r.df {
        Some(df) if r.robust => out.push_str(&format!(
            " (cluster-robust, see below: t with df = {})",
            fmt_num(df, 2)
        )),
        Some(df) => out.push_str(&format!(" (Knapp-Hartung, t with df = {df})")),
        None => {}
    }
    out.push_str(":\n\n");
    out.push_str(&aligned_table(
        &["estimate", "se", stat, "pval", "ci.lb", "ci.ub", ""],
        &[vec![
            fmt_num(r.estimate.value, 4),
            fmt_num(r.estimate.se, 4),
            fmt_num(r.estimate.statistic, 4),
            fmt_p(r.estimate.p),
            fmt_num(r.estimate.ci_lower, 4),
            fmt_num(r.estimate.ci_upper, 4),
            stars(r.estimate.p).into(),
        ]],
        false,
    ));
    if s.method != Method::EE {
        out.push_str(&format!(
            "\n{level}% prediction interval: [{}, {}]\n",
            fmt_num(r.pi_lower, 4),
            fmt_num(r.pi_upper, 4)
        ));
    }
    if let Some(t) = &r.transformed {
        out.push_str(&format!(
            "Back-transformed ({}): {} [{}, {}]",
            t.scale,
            fmt_num(t.estimate, 4),
            fmt_num(t.ci_lower, 4),
            fmt_num(t.ci_upper, 4)
        ));
        if s.method != Method::EE {
            out.push_str(&format!(
                "; prediction interval [{}, {}]",
                fmt_num(t.pi_lower, 4),
                fmt_num(t.pi_upper, 4)
            ));
        }
        out.push('\n');
    }
    push_studies_table(
        &mut out,
        r.rows(data).map(|row| {
            (
                row.study,
                [row.yi, row.vi, row.ci_lower, row.ci_upper],
                row.weight,
            )
        }),
        r.weights.len(),
    );
    if let Some(blups) = &r.blups {
        out.push_str(&super::predict::blups_text(blups));
    }
    if let Some(line) = s.weights.describe() {
        out.push_str(&format!("\n{}\n", crate::fields::named(line)));
    }
    // The direction of the effects is part of the result, not a passing warning.
    for reversed in r
        .warnings
        .iter()
        .filter(|w| matches!(w, crate::Warning::Reversed { .. }))
    {
        out.push_str(&format!("\nNote: {reversed}.\n"));
    }
    if let Some(line) = convergence_line(s) {
        out.push_str(&format!("\n{line}\n"));
    }
    out
}

/// "CI", "Wald CI" or "profile-likelihood CI": the kind of the τ² CIs.
pub fn ci_label(kind: Option<&str>) -> &'static str {
    match kind {
        Some("Wald") => "Wald CI",
        Some("GENQ") => "generalised Q CI",
        Some(_) => "profile-likelihood CI",
        None => "CI",
    }
}

/// " (SE = 0.1664)" after τ̂², when the estimator has an SE (metafor's `se.tau2`).
pub fn se_phrase(se: Option<f64>) -> String {
    se.map(|se| format!(" (SE = {})", fmt_num(se, 4)))
        .unwrap_or_default()
}

/// "Fit statistics (REML): logLik …, deviance …, AIC …, BIC …, AICc …" and
/// a line break (metafor's `fitstats`; `reml` names the REML column).
pub fn fit_statistics_line(f: &FitStatistics, reml: bool) -> String {
    format!(
        "Fit statistics ({}): logLik {}, deviance {}, AIC {}, BIC {}, AICc {}\n",
        if reml { "REML" } else { "ML" },
        fmt_num(f.log_lik, 4),
        fmt_num(f.deviance, 4),
        fmt_num(f.aic, 4),
        fmt_num(f.bic, 4),
        fmt_num(f.aicc, 4)
    )
}

/// The text report of a Mantel-Haenszel or Peto analysis, laid out like
/// metafor's `print.rma.mh` and `print.rma.peto`.
pub fn tables_report(r: &TablesResult) -> String {
    let s = &r.settings;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    let what = match s.method {
        TablesMethod::MH => "Mantel-Haenszel",
        TablesMethod::PETO => "Peto's",
    };
    out.push_str(&format!(
        "Common-effect model, {what} method (k = {}; measure: {})\n\n",
        r.k, s.measure
    ));
    out.push_str(&format!(
        "I^2 (total heterogeneity / total variability):  {}%\nH^2 (total variability / sampling variability): {}\n",
        fmt_num(r.i2, 2),
        fmt_num(r.h2, 2)
    ));
    out.push_str(&format!(
        "\nTest for heterogeneity:\nQ(df = {}) = {}, p-val {}\n\n",
        r.q_df,
        fmt_num(r.q, 4),
        p_phrase(r.q_p)
    ));
    out.push_str(&fit_statistics_line(&r.fit_statistics, false));
    out.push('\n');
    let e = &r.estimate;
    let scale = if s.measure.is_ratio() {
        "log scale"
    } else {
        ""
    };
    out.push_str(&format!(
        "Model results{}:\n\n",
        if scale.is_empty() {
            String::new()
        } else {
            format!(" ({scale})")
        }
    ));
    out.push_str(&aligned_table(
        &["estimate", "se", "zval", "pval", "ci.lb", "ci.ub", ""],
        &[vec![
            fmt_num(e.value, 4),
            fmt_num(e.se, 4),
            fmt_num(e.statistic, 4),
            fmt_p(e.p),
            fmt_num(e.ci_lower, 4),
            fmt_num(e.ci_upper, 4),
            stars(e.p).into(),
        ]],
        false,
    ));
    if let Some(t) = &r.transformed {
        out.push_str(&format!(
            "\nPooled {} ({} method): {} [{}% CI {}, {}]\n",
            t.scale,
            if s.method == TablesMethod::MH {
                "M-H"
            } else {
                "Peto"
            },
            fmt_num(t.estimate, 4),
            fmt_num(s.level, 0),
            fmt_num(t.ci_lower, 4),
            fmt_num(t.ci_upper, 4)
        ));
    }
    if let (Some(cmh), Some(cmh_p)) = (r.cmh, r.cmh_p) {
        out.push_str(&format!(
            "\nCochran-Mantel-Haenszel test: CMH = {}, df = 1, p-val {}\n",
            fmt_num(cmh, 4),
            p_phrase(cmh_p)
        ));
    }
    if let (Some(ta), Some(ta_p), Some(df)) = (r.tarone, r.tarone_p, r.tarone_df) {
        out.push_str(&format!(
            "Tarone's test for heterogeneity: X^2 = {}, df = {df}, p-val {}\n",
            fmt_num(ta, 4),
            p_phrase(ta_p)
        ));
    }
    push_studies_table(
        &mut out,
        r.studies.iter().map(|row| {
            (
                row.study.as_str(),
                [row.yi, row.vi, row.ci_lower, row.ci_upper],
                row.weight,
            )
        }),
        r.studies.len(),
    );
    out
}

/// How τ² was reached, for iterative estimators and fallbacks: the
/// iterations, the final change and whether the stopping rule was met.
pub fn convergence_line(s: &Settings) -> Option<String> {
    let c = &s.convergence;
    let method = s.method.name();
    let iterations = |n: usize| format!("{n} iteration{}", if n == 1 { "" } else { "s" });
    let reached = match s.method {
        Method::REML | Method::ML | Method::EB | Method::DLIT | Method::SJIT => format!(
            "{method} {} after {} (last change in tau^2: {:.2e}; threshold {:.0e}).",
            if c.converged {
                "converged"
            } else {
                "did not converge"
            },
            iterations(c.iterations),
            c.final_change,
            s.threshold
        ),
        Method::PM if c.iterations == 0 => "PM: the Q statistic at tau^2 = 0 is already at or below its expected value, so tau^2 = 0 without a search.".to_string(),
        Method::PMM | Method::GENQM if c.iterations == 0 => format!("{method}: the Q statistic at tau^2 = 0 is already at or below its median, so tau^2 = 0 without a search."),
        Method::PM | Method::PMM | Method::GENQM => format!(
            "{method} {} after {} (root bracketed to ±{:.2e}; tolerance {:.2e}).",
            if c.converged {
                "converged"
            } else {
                "did not converge"
            },
            iterations(c.iterations),
            c.final_change,
            s.tol
        ),
        _ if c.fallback_from.is_some() => {
            format!("{method} is a closed-form estimator (no iterations).")
        }
        _ => return None,
    };
    Some(match &c.fallback_from {
        Some(fallback) => format!(
            "Convergence: the {} estimator {}, so the fallback {method} was used. {reached}",
            fallback.method.name(),
            fallback.error.reason()
        ),
        None => format!("Convergence: {reached}"),
    })
}

/// The rows of a table back-transformed to the measure's natural scale (OR,
/// RR, r, proportion), as `pool` reports its estimate: each row is a label
/// and an estimate with its CI on the analysis scale, under the heading
/// "`what` (RR):". Empty for measures analysed on their natural scale.
pub fn back_transformed_table<'a>(
    measure: crate::Measure,
    what: &str,
    first: &str,
    rows: impl Iterator<Item = (&'a str, f64, f64, f64)>,
) -> String {
    let Some((scale, to)) = measure.back_transform() else {
        return String::new();
    };
    let mut cells = Cells::new();
    for (label, value, lower, upper) in rows {
        cells.push(label);
        for v in [value, lower, upper] {
            cells.push_num(to(v), 4);
        }
    }
    format!(
        "\n{what} ({scale}):\n\n{}",
        layout(&[first, scale, "ci.lb", "ci.ub"], &cells, true)
    )
}

/// "< .0001" or "= 0.1234".
pub fn p_phrase(p: f64) -> String {
    let p = fmt_p(p);
    if p.starts_with('<') {
        p
    } else {
        format!("= {p}")
    }
}

/// The "Studies:" table of a pooled result: label, yi, vi, CI and percent
/// weight of the first [`MAX_STUDY_ROWS`] of `total` studies.
fn push_studies_table<'a>(
    out: &mut String,
    rows: impl Iterator<Item = (&'a str, [f64; 4], f64)>,
    total: usize,
) {
    out.push_str("\nStudies:\n\n");
    let mut cells = Cells::new();
    for (study, values, weight) in rows.take(MAX_STUDY_ROWS) {
        cells.push(study);
        for value in values {
            cells.push_num(value, 4);
        }
        cells.push_with(|out| {
            push_num(out, weight, 2);
            out.push('%');
        });
    }
    out.push_str(&layout(
        &["study", "yi", "vi", "ci.lb", "ci.ub", "weight"],
        &cells,
        true,
    ));
    if total > MAX_STUDY_ROWS {
        out.push_str(&format!(
            "... and {} more studies ({FORMAT} csv or json lists every study)\n",
            total - MAX_STUDY_ROWS
        ));
    }
}
