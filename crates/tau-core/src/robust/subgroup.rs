//! Robust subgroup means and the robust test of their differences, as one
//! set of numbers.
//!
//! The means are the coefficients of the model with the subgroup moderator
//! as a factor without intercept, made robust (metafor
//! `robust(rma(yi, vi, mods = ~ factor(g) - 1), cluster)`, or `rma.mv` for a
//! multilevel working model); the test of their differences is the robust
//! (HTZ) test of the non-intercept coefficients of the same model with
//! treatment contrasts (`mods = ~ factor(g)`). Both parameterisations span
//! the same columns, so they share one working model (the same τ² or σ²,
//! the same fitted values), and clubSandwich's HTZ test is invariant to the
//! choice (Tipton & Pustejovsky 2015).

use super::inference::RobustResult;
use crate::estimate::Estimate;
use crate::multilevel::MultilevelSubgroups;
use crate::subgroup::SubgroupResult;
use crate::warning::Warning;

/// The robust means of `cell` (the factor model without intercept, its
/// coefficients named `by=level`) in the order of `levels`, with the
/// omnibus test taken from `contrasts` (the factor model with intercept).
pub fn means(
    mut cell: RobustResult,
    contrasts: &RobustResult,
    by: &str,
    levels: &[String],
) -> RobustResult {
    let position = |level: &String| {
        let name = format!("{by}={level}");
        cell.coefficients.iter().position(|c| c.name == name)
    };
    let order: Option<Vec<usize>> = levels.iter().map(position).collect();
    if let Some(order) = order.filter(|o| o.len() == cell.coefficients.len()) {
        cell.coefficients = order
            .iter()
            .map(|&i| cell.coefficients[i].clone())
            .collect();
        cell.vcov = order
            .iter()
            .map(|&i| order.iter().map(|&j| cell.vcov[i][j]).collect())
            .collect();
    }
    cell.qm = contrasts.qm;
    cell.qm_df = contrasts.qm_df;
    cell.qm_df2 = contrasts.qm_df2;
    cell.qm_p = contrasts.qm_p;
    cell.qm_distribution = contrasts.qm_distribution;
    // The omnibus test's warnings are those of the test reported.
    let omnibus = |w: &Warning| matches!(w, Warning::FewHtzDf { .. } | Warning::SingularRobustTest);
    cell.warnings.retain(|w| !omnibus(w));
    cell.warnings
        .extend(contrasts.warnings.iter().filter(|w| omnibus(w)).cloned());
    cell
}

/// The estimate of a robust coefficient.
fn estimate(c: &super::RobustCoefficient) -> Estimate {
    Estimate {
        value: c.estimate,
        se: c.se,
        statistic: c.statistic,
        p: c.p,
        ci_lower: c.ci_lower,
        ci_upper: c.ci_upper,
    }
}

/// The subgroup result as its robust inference reports it: each level's
/// mean, SE, t test and CI and the test of differences are the robust ones
/// of [`means`] (same order as `result.groups`).
pub fn uni_shown(result: &SubgroupResult, robust: &RobustResult) -> SubgroupResult {
    let mut out = result.clone();
    if robust.coefficients.len() == out.groups.len() {
        for (group, c) in out.groups.iter_mut().zip(&robust.coefficients) {
            group.estimate = estimate(c);
        }
    }
    out.q_between = Some(robust.qm);
    out.q_between_df = robust.qm_df;
    out.q_between_df2 = robust.qm_df2;
    out.q_between_p = Some(robust.qm_p);
    out.q_between_distribution = robust.qm_distribution;
    out.robust = true;
    out
}

/// The multilevel subgroup result as its robust inference reports it (see
/// [`uni_shown`]); the cell-means model's coefficients become the robust ones.
pub fn multilevel_shown(
    result: &MultilevelSubgroups,
    robust: &RobustResult,
) -> MultilevelSubgroups {
    let mut out = result.clone();
    out.model = super::multilevel::robust_summary(&result.model, robust);
    if robust.coefficients.len() == out.groups.len() {
        for (group, c) in out.groups.iter_mut().zip(&robust.coefficients) {
            group.estimate = estimate(c);
        }
    }
    out.q_between = robust.qm;
    out.q_between_df = robust.qm_df;
    out.q_between_df2 = robust.qm_df2;
    out.q_between_p = robust.qm_p;
    out
}
