//! Text and CSV views of a subgroup analysis.

use super::table::layout;
use super::text::{back_transformed_table, p_phrase};
use super::{Cells, fmt_num, fmt_p};
use crate::model::Method;
use crate::subgroup::{SubgroupResult, Tau2Mode};

/// The text report: a row per level, then the test of subgroup differences.
pub fn text(r: &SubgroupResult) -> String {
    let s = &r.settings;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    let model = match (s.method, s.tau2) {
        (Method::EE, _) => "common-effect model per subgroup".to_owned(),
        (m, Tau2Mode::Separate) => format!("random effects, tau^2 ({}) per subgroup", m.name()),
        (m, Tau2Mode::Common) => format!(
            "mixed-effects model, one tau^2 ({}) = {} for all subgroups",
            m.name(),
            fmt_num(r.tau2_common.unwrap_or(f64::NAN), 4)
        ),
    };
    out.push_str(&format!(
        "Subgroups by '{}' (k = {}; {} level{}; {}; measure: {})\n\n",
        s.by,
        r.k,
        r.groups.len(),
        if r.groups.len() == 1 { "" } else { "s" },
        model,
        s.measure.label()
    ));
    if r.robust {
        out.push_str(&format!(
            "Means, SEs, t tests and CIs: cluster-robust, see below (one model with '{}' as a factor, as robust(rma(yi, vi, mods = ~ factor({}) - 1), cluster)); tau^2, Q and I^2: the model's\n\n",
            s.by, s.by
        ));
    }
    let stat = if s.test.is_knapp_hartung() || r.robust {
        "tval"
    } else {
        "zval"
    };
    let mut cells = Cells::new();
    for g in &r.groups {
        cells.push(&g.level);
        cells.push(&g.k.to_string());
        for value in [g.estimate.value, g.estimate.se, g.estimate.statistic] {
            cells.push_num(value, 4);
        }
        cells.push(&fmt_p(g.estimate.p));
        cells.push_num(g.estimate.ci_lower, 4);
        cells.push_num(g.estimate.ci_upper, 4);
        match g.tau2 {
            Some(tau2) => cells.push_num(tau2, 4),
            None => cells.push("-"),
        }
        cells.push_num(g.q, 2);
        match g.i2 {
            Some(i2) => cells.push_num(i2, 1),
            None => cells.push("-"),
        }
    }
    out.push_str(&layout(
        &[
            "level", "k", "estimate", "se", stat, "pval", "ci.lb", "ci.ub", "tau^2", "Q", "I^2(%)",
        ],
        &cells,
        true,
    ));
    out.push_str(&back_transformed_table(
        s.measure,
        "Back-transformed",
        "level",
        r.groups.iter().map(|g| {
            let e = &g.estimate;
            (g.level.as_str(), e.value, e.ci_lower, e.ci_upper)
        }),
    ));
    out.push('\n');
    out.push_str(&between(r));
    out
}

fn between(r: &SubgroupResult) -> String {
    let (Some(q), Some(p)) = (r.q_between, r.q_between_p) else {
        return "Test for subgroup differences: not available with a single subgroup.\n".into();
    };
    let how = match r.settings.tau2 {
        _ if r.robust => "cluster-robust HTZ test of the factor, see below",
        Tau2Mode::Separate => "fixed-effect Q across the subgroup estimates",
        Tau2Mode::Common => "omnibus test of the factor in the mixed-effects model",
    };
    let line = match r.q_between_df2 {
        Some(df2) if r.robust => format!(
            "F(df1 = {}, df2 = {}) = {}, p-val {}",
            r.q_between_df,
            fmt_num(df2, 2),
            fmt_num(q, 4),
            p_phrase(p)
        ),
        Some(df2) => format!(
            "F(df1 = {}, df2 = {}) = {}, p-val {}  (an F statistic: Knapp-Hartung)",
            r.q_between_df,
            df2,
            fmt_num(q, 4),
            p_phrase(p)
        ),
        None => format!(
            "Q_between(df = {}) = {}, p-val {}",
            r.q_between_df,
            fmt_num(q, 4),
            p_phrase(p)
        ),
    };
    let permuted = r.permutation.as_ref().map_or(String::new(), |perm| {
        format!(
            "Permutation test ({} iterations, seed {}): p-val {}\n",
            perm.iterations,
            perm.seed,
            p_phrase(perm.q_between_p)
        )
    });
    format!("Test for subgroup differences ({how}):\n{line}\n{permuted}")
}

/// The per-level table as CSV.
pub fn csv(r: &SubgroupResult) -> Result<String, csv::Error> {
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
        "tau2",
        "QE",
        "QE_df",
        "QE_p",
        "I2",
    ])?;
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for g in &r.groups {
        let [estimate, se, statistic, p, ci_lower, ci_upper] = g.estimate.csv_cells();
        writer.write_record([
            g.level.clone(),
            g.k.to_string(),
            estimate,
            se,
            statistic,
            p,
            ci_lower,
            ci_upper,
            opt(g.tau2),
            g.q.to_string(),
            g.q_df.to_string(),
            g.q_p.to_string(),
            opt(g.i2),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
