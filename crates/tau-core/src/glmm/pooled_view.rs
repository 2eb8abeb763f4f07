//! A GLMM as the views of a pooled model draw it: metafor's
//! `forest(rma.glmm fit)` and `funnel(rma.glmm fit)` show each study's
//! escalc outcome (yᵢ, vᵢ from the counts, 1/2 added to the cells of a
//! table with a zero cell; double-zero tables left out, as `rma.glmm`
//! stores them) around the GLMM's estimate and CI.
//!
//! [`pooled_view`] returns the studies the GLMM was fitted to and a
//! [`PoolResult`] whose summary is the GLMM's: estimate, SE, z, p and CI,
//! τ², I², H², the heterogeneity test (`QE_Wld`, the one metafor prints
//! first) and the prediction interval β̂ ± z₁₋α/₂ √(SE² + τ̂²) (metafor's
//! `predict()` of an `rma.glmm` fit). A GLMM weights the studies through
//! its likelihood and has no weight per study (metafor's `weights()` has
//! none for `rma.glmm`): the weights shown are 1/(vᵢ + τ̂²), in percent,
//! those of the inverse-variance model with the GLMM's τ̂², which also size
//! the squares.

use crate::data::dataset::Dataset;
use crate::effect_size::measure::Measure;
use crate::estimate::Estimate;
use crate::model::fit_error::FitError;
use crate::model::{FitOptions, Method};
use crate::numerics::distribution::normal_upper;
use crate::pool::{PoolResult, Transformed, back_transform, pool_with};

use super::GlmmResult;

/// The indices of the studies of `data` a GLMM of its measure is fitted
/// to: all but the tables with no events (or only events) in both groups,
/// and the studies with no events in either group (metafor's `drop00`).
pub fn fitted_studies(data: &Dataset) -> Vec<usize> {
    let uninformative = |study: &crate::data::dataset::Study| {
        let Some(r) = study.raw.as_deref() else {
            return false;
        };
        match (data.measure, r.events1, r.n1, r.events2, r.n2) {
            (Measure::OR, Some(a), Some(n1), Some(c), Some(n2)) => {
                (a == 0.0 && c == 0.0) || (a == n1 && c == n2)
            }
            (Measure::IRR, Some(x1), _, Some(x2), _) => x1 == 0.0 && x2 == 0.0,
            _ => false,
        }
    };
    (0..data.studies.len())
        .filter(|&i| !uninformative(&data.studies[i]))
        .collect()
}

/// The studies `result` was fitted to (of `data`, the data set it was
/// fitted to) and the pooled result that draws it (module doc).
pub fn pooled_view(result: &GlmmResult, data: &Dataset) -> Result<(Dataset, PoolResult), FitError> {
    let kept = fitted_studies(data);
    let fitted = Dataset {
        studies: kept.iter().map(|&i| data.studies[i].clone()).collect(),
        ..data.clone()
    };
    let options = FitOptions {
        method: Method::EE,
        level: result.level,
        ..FitOptions::default()
    };
    let mut view = pool_with(&fitted, &options, true)?;
    let f = &result.fit;
    let crit = normal_upper((1.0 - result.level / 100.0) / 2.0);
    view.settings.method = Method::ML;
    view.estimate = Estimate {
        value: f.estimate,
        se: f.se,
        statistic: f.statistic,
        p: f.p,
        ci_lower: f.ci_lower,
        ci_upper: f.ci_upper,
    };
    view.tau2 = f.tau2;
    view.tau = f.tau2.sqrt();
    view.tau2_se = None;
    view.tau2_ci = None;
    view.tau2_ci_type = None;
    view.i2 = f.i2;
    view.i2_ci = None;
    view.h2 = f.h2;
    view.h2_ci = None;
    view.q = f.qe_wld;
    view.q_df = f.qe_df;
    view.q_p = f.qe_wld_p;
    view.crit = crit;
    let half = crit * (f.se * f.se + f.tau2).sqrt();
    view.pi_lower = f.estimate - half;
    view.pi_upper = f.estimate + half;
    let w: Vec<f64> = fitted
        .studies
        .iter()
        .map(|s| 1.0 / (s.vi + f.tau2))
        .collect();
    let total: f64 = w.iter().sum();
    view.weights = w.iter().map(|w| 100.0 * w / total).collect();
    view.transformed = back_transform(&fitted).map(|(scale, to)| Transformed {
        scale,
        estimate: to(f.estimate),
        ci_lower: to(f.ci_lower),
        ci_upper: to(f.ci_upper),
        pi_lower: to(view.pi_lower),
        pi_upper: to(view.pi_upper),
    });
    view.warnings.clear();
    Ok((fitted, view))
}
