//! The likelihood-ratio test between two nested multilevel models
//! (metafor's `anova(full, reduced)` of `rma.mv` fits), reported as
//! [`Comparison`] as for models with one τ² ([`crate::regression::compare`]):
//! LRT = deviance(reduced) − deviance(full), floored at 0, on as many
//! degrees of freedom as the full model has more parameters (coefficients
//! and estimated variance components).

use crate::data::dataset::Dataset;
use crate::model::fit_statistics::FitStatistics;
use crate::numerics::distribution::chisq_sf;
use crate::regression::DesignSpec;
use crate::regression::compare::{
    CompareError, CompareSettings, Comparison, ModelSummary, nested, refit_method,
};
use crate::regression::design;

use super::{MultilevelError, MultilevelOptions, MultilevelResult};

/// Compares two nested multilevel models with moderators `full` and
/// `reduced` (metafor's `anova(full, reduced)` of `rma.mv` fits, refitted
/// with ML as `refit = TRUE` when REML is asked for). Both are fitted to
/// the records with every moderator of the full model.
pub fn compare_multilevel(
    dataset: &Dataset,
    full: &[String],
    reduced: &[String],
    options: &MultilevelOptions,
) -> Result<Comparison, CompareError> {
    let (full, reduced) = nested(full, reduced)?;
    let fit_method = refit_method(options.method);
    let with = |moderators: &[String]| MultilevelOptions {
        method: fit_method,
        design: (!moderators.is_empty()).then(|| DesignSpec {
            moderators: moderators.to_vec(),
            references: Vec::new(),
            intercept: true,
        }),
        profile: false,
        level_tests: false,
        ..options.clone()
    };
    let model_error = |which: &'static str| {
        move |e: MultilevelError| CompareError::Other {
            which,
            message: e.to_string(),
            kind: crate::Kinded::kind(&e),
        }
    };
    let f = super::fit(dataset, &with(&full)).map_err(model_error("full"))?;
    let mut used = dataset.clone();
    used.studies
        .retain(|s| !f.dropped.iter().any(|d| d == s.label()));
    let r = super::fit(&used, &with(&reduced)).map_err(model_error("reduced"))?;
    let summary = |m: &MultilevelResult, moderators: Vec<String>| ModelSummary {
        moderators,
        coefficients: match &m.coefficients {
            Some(c) => c.iter().map(|c| c.name.clone()).collect(),
            None => vec![design::INTERCEPT.to_owned()],
        },
        // An ML fit's AIC is −2ℓ + 2q, so q is exact (and small) here.
        parms: ((m.aic + 2.0 * m.log_lik) / 2.0).round() as usize,
        fit_statistics: FitStatistics {
            log_lik: m.log_lik,
            deviance: m.deviance,
            aic: m.aic,
            bic: m.bic,
            aicc: m.aicc,
        },
        qe: m.qe,
        tau2: None,
        sigma2: Some(m.sigma2.clone()),
    };
    let (full_summary, reduced_summary) = (summary(&f, full), summary(&r, reduced));
    let lrt =
        (reduced_summary.fit_statistics.deviance - full_summary.fit_statistics.deviance).max(0.0);
    let lrt_df = full_summary.parms.saturating_sub(reduced_summary.parms);
    let mut warnings = f.warnings.clone();
    for w in &r.warnings {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    Ok(Comparison {
        title: dataset.title.clone(),
        k: f.k,
        full: full_summary,
        reduced: reduced_summary,
        lrt,
        lrt_df,
        lrt_p: chisq_sf(lrt, lrt_df as f64),
        r2: None,
        sigma2_names: Some(f.sigma2_names.clone()),
        dropped: f.dropped.clone(),
        settings: CompareSettings::new(options.method, dataset.measure),
        warnings,
    })
}
