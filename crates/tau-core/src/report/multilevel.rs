//! Text and CSV views of a multilevel model ([`crate::multilevel`]), laid
//! out like metafor's `print(rma.mv)` (with `summary`'s fit statistics),
//! plus what metafor does not print: I² per level and in total, the
//! profile-likelihood CI of each σ² (`confint`), the prediction interval
//! with every σ² added (`predict`) and the likelihood-ratio test of each
//! level (`anova(full, reduced)`).

use super::text::{p_phrase, stars};
use super::{aligned_table, fmt_num, fmt_p, table};
use crate::Method;
use crate::multilevel::{MultilevelResult, MultilevelSubgroups, Test};
use crate::regression::INTERCEPT;

/// The text report of a multilevel model.
pub fn text(r: &MultilevelResult) -> String {
    let mut out = head(r);
    if r.coefficients.is_some() {
        out.push_str(&moderator_test(r));
    }
    out.push_str(&format!("\nModel Results{}:\n\n", t_note(r)));
    out.push_str(&coefficient_table(r));
    if let (Some(lower), Some(upper)) = (r.pi_lower, r.pi_upper) {
        out.push_str(&format!(
            "\n{}% prediction interval (every variance component added, as predict()): [{}, {}]\n",
            fmt_num(r.settings.level, 0),
            fmt_num(lower, 4),
            fmt_num(upper, 4)
        ));
    }
    if let Some(ranef) = &r.ranef {
        out.push_str(&super::ranef::text(ranef));
    }
    out.push_str(&tail(r));
    out
}

/// The text report of subgroups in a multilevel model.
pub fn subgroups_text(s: &MultilevelSubgroups) -> String {
    let r = &s.model;
    let mut out = format!(
        "Subgroups by '{}': one multilevel model with '{}' as a factor (mods = ~ factor({}) - 1) and common variance components\n\n",
        s.by, s.by, s.by
    );
    out.push_str(&head(r));
    let statistic = match s.q_between_df2 {
        Some(df2) => format!(
            "F(df1 = {}, df2 = {}) = {}",
            s.q_between_df,
            df_text(r, df2),
            fmt_num(s.q_between, 4)
        ),
        None => format!("QM(df = {}) = {}", s.q_between_df, fmt_num(s.q_between, 4)),
    };
    let how = if r.robust {
        format!(
            "cluster-robust HTZ test of mods = ~ factor({}), see below",
            s.by
        )
    } else {
        format!("QM of mods = ~ factor({})", s.by)
    };
    out.push_str(&format!(
        "\nTest of Subgroup Differences ({how}):\n{statistic}, p-val {}\n",
        p_phrase(s.q_between_p)
    ));
    out.push_str(&format!("\nSubgroup Results{}:\n\n", t_note(r)));
    let stat = statistic_name(r);
    let rows: Vec<Vec<String>> = s
        .groups
        .iter()
        .map(|g| {
            let e = &g.estimate;
            vec![
                g.level.clone(),
                g.k.to_string(),
                fmt_num(e.value, 4),
                fmt_num(e.se, 4),
                fmt_num(e.statistic, 4),
                fmt_p(e.p),
                fmt_num(e.ci_lower, 4),
                fmt_num(e.ci_upper, 4),
                stars(e.p).to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "level", "k", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "",
        ],
        &rows,
    ));
    out.push_str(&tail(r));
    out
}

/// The title, the model line, fit statistics, variance components and the
/// test for (residual) heterogeneity.
fn head(r: &MultilevelResult) -> String {
    let s = &r.settings;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Multivariate Meta-Analysis Model (k = {}; method: {}; measure: {})\n",
        r.k,
        s.method.name(),
        s.measure.label()
    ));
    if let Some(rho) = s.rho {
        out.push_str(&format!(
            "Sampling errors correlated rho = {rho} within each '{}' (as vcalc(vi, cluster = {}, obs, rho = {rho}))\n",
            s.random.first().map_or("", String::as_str),
            s.random.first().map_or("", String::as_str),
        ));
    }
    out.push('\n');
    out.push_str(&aligned_table(
        &["logLik", "deviance", "AIC", "BIC", "AICc"],
        &[[r.log_lik, r.deviance, r.aic, r.bic, r.aicc]
            .iter()
            .map(|&v| fmt_num(v, 4))
            .collect()],
        false,
    ));
    if s.method == Method::REML {
        out.push_str("(restricted log-likelihood)\n");
    }
    out.push_str("\nVariance Components:\n\n");
    if !r.sigma2.is_empty() {
        out.push_str(&variance_components(r));
        out.push_str(&format!(
            "\nI^2 (total heterogeneity / total variability): {}%{}\n",
            fmt_num(r.i2_total, 2),
            if s.structs.is_empty() {
                ""
            } else {
                " (of the sigma^2 components)"
            }
        ));
    }
    out.push_str(&structured_components(r));
    let zero: Vec<String> = r
        .sigma2_at_zero
        .iter()
        .enumerate()
        .filter(|&(_, z)| *z)
        .map(|(l, _)| format!("sigma^2.{} ({})", l + 1, r.sigma2_names[l]))
        .collect();
    if !zero.is_empty() {
        out.push_str(&format!(
            "On the boundary: {} estimated at 0.\n",
            zero.join(", ")
        ));
    }
    let (title, q) = if r.coefficients.is_some() {
        ("Test for Residual Heterogeneity", "QE")
    } else {
        ("Test for Heterogeneity", "Q")
    };
    out.push_str(&format!(
        "\n{title}:\n{q}(df = {}) = {}, p-val {}\n",
        r.qe_df,
        fmt_num(r.qe, 4),
        p_phrase(r.qe_p)
    ));
    out
}

/// metafor's table (estim, sqrt, nlvls, fixed, factor) with I² per level
/// and the profile-likelihood CI of each σ² added.
fn variance_components(r: &MultilevelResult) -> String {
    let level = fmt_num(r.settings.level, 0);
    let rows: Vec<Vec<String>> = (0..r.sigma2.len())
        .map(|l| {
            let mut row = vec![
                format!("sigma^2.{}", l + 1),
                fmt_num(r.sigma2[l], 4),
                fmt_num(r.sigma2[l].sqrt(), 4),
                r.sigma2_levels[l].to_string(),
                // A level with one unit is fixed at 0 (metafor's sigma2.fix).
                if r.sigma2_levels[l] == 1 { "yes" } else { "no" }.into(),
                r.sigma2_names[l].clone(),
                fmt_num(r.i2_levels[l], 2),
            ];
            if let Some(cis) = &r.sigma2_ci {
                let [lower, upper] = cis[l];
                row.push(lower.map_or_else(|| "NA".into(), |v| fmt_num(v, 4)));
                row.push(match upper {
                    Some(v) => fmt_num(v, 4),
                    None => r
                        .sigma2_ci_limit
                        .get(l)
                        .filter(|limit| limit.is_finite())
                        .map_or_else(|| "NA".into(), |limit| format!(">{}", fmt_num(*limit, 4))),
                });
            }
            row
        })
        .collect();
    let mut header = vec!["", "estim", "sqrt", "nlvls", "fixed", "factor", "I^2(%)"];
    if r.sigma2_ci.is_some() {
        header.extend(["ci.lb", "ci.ub"]);
    }
    let mut out = table(&header, &rows);
    if r.sigma2_ci.is_some() {
        out.push_str(&format!(
            "(ci.lb, ci.ub: {level}% profile-likelihood CI of each sigma^2, as confint())\n"
        ));
    }
    out
}

/// The τ² and ρ (γ² and φ) of each structured term, as metafor prints them.
fn structured_components(r: &MultilevelResult) -> String {
    let p = &r.structured;
    let terms: Vec<&String> = r
        .settings
        .random
        .iter()
        .filter(|t| t.contains('|'))
        .collect();
    let parts = [
        (&p.tau2, &p.rho, &p.g_levels, "tau^2", "rho"),
        (&p.gamma2, &p.phi, &p.h_levels, "gamma^2", "phi"),
    ];
    let cis = [(&p.tau2_ci, &p.rho_ci), (&p.gamma2_ci, &p.phi_ci)];
    // A limit: NA beyond the search range or not found.
    let limit = |v: Option<f64>| v.map_or_else(|| "NA".to_owned(), |v| fmt_num(v, 4));
    let mut out = String::new();
    for (j, (variances, correlations, levels, var_name, cor_name)) in parts.into_iter().enumerate()
    {
        let (variance_cis, correlation_cis) = cis[j];
        let (Some(variances), Some(levels)) = (variances, levels) else {
            continue;
        };
        let kind = r.settings.structs.get(j).map_or("", |s| s.name());
        let term = terms.get(j).map_or("", |t| t.as_str());
        if !out.is_empty() || !r.sigma2.is_empty() {
            out.push('\n');
        }
        let what = if kind == "GEN" {
            "random effects per outer level"
        } else {
            "inner levels"
        };
        out.push_str(&format!(
            "Structured term '{term}' (struct = \"{kind}\"; {what}: {})\n\n",
            levels.len()
        ));
        let rows: Vec<Vec<String>> = variances
            .iter()
            .enumerate()
            .map(|(a, v)| {
                let mut row = vec![
                    format!("{var_name}.{}", a + 1),
                    fmt_num(*v, 4),
                    fmt_num(v.sqrt(), 4),
                    if variances.len() == 1 {
                        "(all)".into()
                    } else {
                        levels.get(a).cloned().unwrap_or_default()
                    },
                ];
                if let Some([lower, upper]) = variance_cis.as_ref().and_then(|c| c.get(a)) {
                    row.push(limit(*lower));
                    row.push(limit(*upper));
                }
                row
            })
            .collect();
        let mut header = vec!["", "estim", "sqrt", "level"];
        if variance_cis.is_some() {
            header.extend(["ci.lb", "ci.ub"]);
        }
        out.push_str(&table(&header, &rows));
        if let Some(correlations) = correlations {
            let names: Vec<String> = if correlations.len() == 1 {
                vec![cor_name.to_owned()]
            } else {
                // UN: the lower triangle column by column.
                let n = levels.len();
                (0..n)
                    .flat_map(|b| (b + 1..n).map(move |a| (a, b)))
                    .map(|(a, b)| format!("{cor_name}({}, {})", levels[a], levels[b]))
                    .collect()
            };
            for (a, (name, value)) in names.iter().zip(correlations).enumerate() {
                out.push_str(&format!("{name} = {}", fmt_num(*value, 4)));
                if let Some([lower, upper]) = correlation_cis.as_ref().and_then(|c| c.get(a)) {
                    out.push_str(&format!(" (CI {}, {})", limit(*lower), limit(*upper)));
                }
                out.push('\n');
            }
        }
    }
    if p.tau2_ci.is_some() || p.gamma2_ci.is_some() {
        out.push_str(&format!(
            "(ci.lb, ci.ub, CI: {}% profile-likelihood CIs, as confint(); NA: beyond the search range, metafor's \"<\" or \">\", or not found)\n",
            fmt_num(r.settings.level, 0)
        ));
    }
    out
}

fn statistic_name(r: &MultilevelResult) -> &'static str {
    match r.settings.test {
        _ if r.robust => "tval",
        Test::T => "tval",
        Test::Z => "zval",
    }
}

/// The df as the tables write them: whole for the model's t tests,
/// Satterthwaite's with two decimals.
fn df_text(r: &MultilevelResult, df: f64) -> String {
    fmt_num(df, if r.robust { 2 } else { 0 })
}

fn t_note(r: &MultilevelResult) -> String {
    match r.df {
        Some(df) if r.robust => format!(
            " (cluster-robust, see below: t with df = {})",
            df_text(r, df)
        ),
        None if r.robust => " (cluster-robust, see below: Satterthwaite t tests)".to_owned(),
        Some(df) => format!(" (t with df = {})", df_text(r, df)),
        None => String::new(),
    }
}

fn moderator_test(r: &MultilevelResult) -> String {
    let (Some(qm), Some(df), Some(p)) = (r.qm, r.qm_df, r.qm_p) else {
        return String::new();
    };
    let count = r.coefficients.as_ref().map_or(0, Vec::len);
    let first = match &r.coefficients {
        Some(c) if c.first().is_some_and(|c| c.name == INTERCEPT) => 2,
        _ => 1,
    };
    let which = if first == count {
        format!("coefficient {first}")
    } else {
        format!("coefficients {first}:{count}")
    };
    let statistic = match r.qm_df2 {
        Some(df2) => format!(
            "F(df1 = {df}, df2 = {}) = {}",
            df_text(r, df2),
            fmt_num(qm, 4)
        ),
        None => format!("QM(df = {df}) = {}", fmt_num(qm, 4)),
    };
    let robust = if r.robust {
        "; cluster-robust HTZ test, see below"
    } else {
        ""
    };
    format!(
        "\nTest of Moderators ({which}{robust}):\n{statistic}, p-val {}\n",
        p_phrase(p)
    )
}

fn coefficient_table(r: &MultilevelResult) -> String {
    let stat = statistic_name(r);
    let df = r.df.map(|d| df_text(r, d));
    let row = |name: Option<&str>, e: &crate::estimate::Estimate| {
        let mut row: Vec<String> = name.map(str::to_owned).into_iter().collect();
        row.extend([
            fmt_num(e.value, 4),
            fmt_num(e.se, 4),
            fmt_num(e.statistic, 4),
        ]);
        row.extend(df.clone());
        row.extend([
            fmt_p(e.p),
            fmt_num(e.ci_lower, 4),
            fmt_num(e.ci_upper, 4),
            stars(e.p).to_owned(),
        ]);
        row
    };
    let mut header = vec!["estimate", "se", stat];
    if df.is_some() {
        header.push("df");
    }
    header.extend(["pval", "ci.lb", "ci.ub", ""]);
    match (&r.summary, &r.coefficients) {
        (Some(e), _) => aligned_table(&header, &[row(None, e)], false),
        (None, Some(coefficients)) => {
            header.insert(0, "");
            let rows: Vec<Vec<String>> = coefficients
                .iter()
                .map(|c| row(Some(&c.name), &c.estimate))
                .collect();
            table(&header, &rows)
        }
        (None, None) => String::new(),
    }
}

/// The likelihood-ratio tests, convergence and left-out records.
fn tail(r: &MultilevelResult) -> String {
    let mut out = String::new();
    if let Some(tests) = &r.level_tests {
        out.push_str(&format!(
            "\nLikelihood-ratio test per level (that sigma^2 fixed at 0 against the full model, logLik {}; as anova(full, reduced)):\n\n",
            fmt_num(r.log_lik, 4)
        ));
        let rows: Vec<Vec<String>> = tests
            .iter()
            .map(|t| {
                vec![
                    t.level.clone(),
                    fmt_num(t.log_lik, 4),
                    fmt_num(t.lrt, 4),
                    t.df.to_string(),
                    fmt_p(t.p),
                    stars(t.p).to_owned(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["without", "logLik", "LRT", "df", "pval", ""],
            &rows,
        ));
    }
    if r.settings.user_weights {
        out.push_str("\nweights: user-supplied (the weight field, rma.mv's W), not the inverse marginal covariance; the variance components by (RE)ML without them, SEs by the sandwich formula\n");
    }
    let c = &r.settings.convergence;
    if r.settings.general {
        out.push_str(&format!(
            "\nConvergence: {} converged after {} BFGS iteration{} and Newton steps (largest gradient {:.2e}).\n",
            r.settings.method.name(),
            c.iterations,
            if c.iterations == 1 { "" } else { "s" },
            c.gradient,
        ));
    } else {
        out.push_str(&format!(
            "\nConvergence: {} converged after {} iteration{} (largest gradient {:.2e}; last change in a sigma^2 {:.2e}).\n",
            r.settings.method.name(),
            c.iterations,
            if c.iterations == 1 { "" } else { "s" },
            c.gradient,
            c.final_change
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

/// The coefficient table as CSV (an intercept-only model is one row,
/// `intrcpt`), or with `blup` the BLUPs.
pub fn csv(r: &MultilevelResult) -> Result<String, csv::Error> {
    if let Some(ranef) = &r.ranef {
        return super::ranef::csv(ranef);
    }
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
    if let Some(e) = &r.summary {
        let mut row = vec![INTERCEPT.to_owned()];
        row.extend(e.csv_cells());
        writer.write_record(&row)?;
    }
    for c in r.coefficients.iter().flatten() {
        let mut row = vec![c.name.clone()];
        row.extend(c.estimate.csv_cells());
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The subgroup table as CSV: level, k and the estimate with its test and CI.
pub fn subgroups_csv(s: &MultilevelSubgroups) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "level",
        "k",
        "estimate",
        "se",
        "statistic",
        "p",
        "ci_lower",
        "ci_upper",
    ])?;
    for g in &s.groups {
        let mut row = vec![g.level.clone(), g.k.to_string()];
        row.extend(g.estimate.csv_cells());
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
