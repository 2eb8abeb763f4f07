//! Generalized linear mixed models for 2×2 tables and counts (metafor's
//! `rma.glmm`): the request's vocabulary, and the models built so far
//! ([`proportions`]: `measure = "PLO"`; [`odds_ratios`]: `measure = "OR"`,
//! `model = "UM.FS"`; [`random_study`]: `model = "UM.RS"`; ...), and
//! [`pooled_view`], a fit as the forest and funnel plots draw it. The
//! others are refused by their metafor names once the data are read.

use serde::Serialize;

pub(crate) mod agq;
pub mod conditional;
pub mod conditional_exact;
mod maximum;
pub mod moderators;
pub mod odds_ratios;
mod one_group;
mod polish;
pub mod pooled_view;
mod profile;
pub mod proportions;
pub mod random_study;
mod random_study_heterogeneity;
pub mod rate_ratios;

use crate::data::dataset::Dataset;
use crate::effect_size::measure::Measure;
use proportions::{GlmmError, GlmmFit, fit_proportions};

/// What the analysis request passes to [`fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlmmOptions {
    /// The model (`glmm`).
    pub model: GlmmModel,
    /// CI level in percent.
    pub level: f64,
    /// Iterations of the optimiser.
    pub max_iter: usize,
    /// t tests on k − p df instead of z tests (metafor's `test = "t"`).
    pub t_test: bool,
}

/// A fitted GLMM with what the report shows beside the numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GlmmResult {
    /// Title from the file.
    #[serde(skip)]
    pub title: Option<String>,
    /// metafor's name of the model (`UM.FS`).
    pub model: GlmmModel,
    /// The measure (PLO or OR).
    pub measure: &'static str,
    /// Tables left out: no events, or only events, in both groups (as
    /// metafor's `drop00`).
    pub left_out: usize,
    /// CI level in percent.
    pub level: f64,
    /// The fit.
    #[serde(flatten)]
    pub fit: GlmmFit,
    /// σ̂², the variance of the random study intercepts (`UM.RS` only;
    /// metafor's `sigma2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma2: Option<f64>,
    /// The df of the t test (k − 1) with `test = "t"`; absent for z.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Warnings (none so far; kept for the analysis request).
    #[serde(skip)]
    pub warnings: Vec<crate::warning::Warning>,
}

impl GlmmResult {
    /// The likelihood and how it is integrated, for the report's
    /// "Model Type" line.
    pub fn model_type(&self) -> &'static str {
        model_type(self.measure, self.model)
    }
}

/// The likelihood of `measure` under `model` and how it is integrated.
fn model_type(measure: &str, model: GlmmModel) -> &'static str {
    match (measure, model) {
        ("OR", GlmmModel::CmEl) => {
            "conditional non-central hypergeometric-normal, exact likelihood; 32-point adaptive Gauss-Hermite quadrature"
        }
        ("OR", GlmmModel::CmAl) => {
            "conditional binomial-normal, approximate likelihood; 7-point adaptive Gauss-Hermite quadrature"
        }
        ("OR", GlmmModel::UmRs) => {
            "binomial-normal with random study effects; Laplace approximation"
        }
        ("IRR", GlmmModel::UmRs) => {
            "Poisson-normal with random study effects; Laplace approximation"
        }
        ("IRR", _) => {
            "conditional binomial-normal, exact likelihood for Poisson counts; 7-point adaptive Gauss-Hermite quadrature"
        }
        ("IRLN", _) => "Poisson-normal; 7-point adaptive Gauss-Hermite quadrature",
        _ => "binomial-normal; 7-point adaptive Gauss-Hermite quadrature",
    }
}

/// Why the GLMM of an analysis request was not fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GlmmFitError {
    /// The measure and model are not built (metafor's names).
    #[error(
        "rma.glmm(measure = \"{measure}\", model = \"{model}\") is not built yet in this version of tau: tau fits measure OR (`events1` of `n1`, `events2` of `n2`) with `glmm` UM.FS, UM.RS, CM.AL or CM.EL, IRR (`events1` in `time1`, `events2` in `time2`) with UM.FS, UM.RS or CM.EL, and PLO (`events` of `n`) and IRLN (`events` in `time`) with UM.FS; pool these studies with an inverse-variance `method` (REML) instead"
    )]
    NotBuilt {
        /// The data's measure.
        measure: &'static str,
        /// The model asked for.
        model: &'static str,
    },
    /// A study lacks its counts.
    #[error(
        "study '{label}' has no {fields}: a GLMM (measure {measure}) needs the counts of every study, not yi and vi"
    )]
    NoCounts {
        /// The study's label.
        label: String,
        /// The data's measure.
        measure: &'static str,
        /// The fields it needs, in backticks.
        fields: &'static str,
    },
    /// The fit itself.
    #[error("{0}")]
    Fit(#[from] GlmmError),
    /// The moderators' model matrix cannot be built.
    #[error(transparent)]
    Design(crate::regression::design::DesignError),
    /// No more studies than coefficients.
    #[error(
        "a GLMM with {p} coefficients needs more than {p} studies with counts and every moderator; {k} have them: use fewer moderators (`mods`)"
    )]
    TooFewForModerators {
        /// Studies in the model.
        k: usize,
        /// Coefficients.
        p: usize,
    },
}

impl crate::Kinded for GlmmFitError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            GlmmFitError::NotBuilt { .. }
            | GlmmFitError::NoCounts { .. }
            | GlmmFitError::Design(_)
            | GlmmFitError::TooFewForModerators { .. } => crate::ErrorKind::Input,
            GlmmFitError::Fit(GlmmError::NotConverged) => crate::ErrorKind::Analysis,
            GlmmFitError::Fit(_) => crate::ErrorKind::Input,
        }
    }
}

/// Fits the GLMM of `options` to `data`: so far UM.FS with measure PLO
/// (metafor's `rma.glmm(measure = "PLO", xi, ni)`, [`proportions`]) or OR
/// (`rma.glmm(measure = "OR", ai, n1i, ci, n2i)`, [`odds_ratios`]).
pub fn fit(data: &Dataset, options: &GlmmOptions) -> Result<GlmmResult, GlmmFitError> {
    let measure = data.measure.name();
    let no_counts = |study: &crate::data::dataset::Study, fields| GlmmFitError::NoCounts {
        label: study.label().to_owned(),
        measure,
        fields,
    };
    let (level, max_iter) = (options.level, options.max_iter);
    // metafor fits IRR's conditional approximate model as the exact one.
    let model = match (data.measure, options.model) {
        (Measure::IRR, GlmmModel::CmAl) => GlmmModel::CmEl,
        (_, model) => model,
    };
    let mut sigma2 = None;
    let fit = match (data.measure, model) {
        (Measure::PLO, GlmmModel::UmFs) => {
            let mut xi = Vec::with_capacity(data.studies.len());
            let mut ni = Vec::with_capacity(data.studies.len());
            for study in &data.studies {
                let (x, n) = study
                    .raw
                    .as_deref()
                    .and_then(|r| Some((r.events?, r.n?)))
                    .ok_or_else(|| no_counts(study, "`events` and `n`"))?;
                xi.push(x);
                ni.push(n);
            }
            fit_proportions(&xi, &ni, level, max_iter)?
        }
        (Measure::OR, _) => {
            let tables = data
                .studies
                .iter()
                .map(|study| {
                    study
                        .raw
                        .as_deref()
                        .and_then(|r| {
                            Some(odds_ratios::Table {
                                ai: r.events1?,
                                n1i: r.n1?,
                                ci: r.events2?,
                                n2i: r.n2?,
                            })
                        })
                        .ok_or_else(|| no_counts(study, "`events1`, `n1`, `events2` and `n2`"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            match model {
                GlmmModel::CmAl => conditional::fit_odds_ratios_cm_al(&tables, level, max_iter)?,
                GlmmModel::CmEl => {
                    conditional_exact::fit_exact_conditional(&tables, level, max_iter)?
                }
                GlmmModel::UmRs => {
                    let (fit, s2) = random_study::fit_odds_ratios_rs(&tables, level, max_iter)?;
                    sigma2 = Some(s2);
                    fit
                }
                _ => odds_ratios::fit_odds_ratios(&tables, level, max_iter)?,
            }
        }
        (Measure::IRR, GlmmModel::UmFs | GlmmModel::UmRs | GlmmModel::CmEl) => {
            let rates = data
                .studies
                .iter()
                .map(|study| {
                    study
                        .raw
                        .as_deref()
                        .and_then(|r| {
                            Some(rate_ratios::Rates {
                                x1i: r.events1?,
                                t1i: r.time1?,
                                x2i: r.events2?,
                                t2i: r.time2?,
                            })
                        })
                        .ok_or_else(|| {
                            no_counts(study, "`events1`, `time1`, `events2` and `time2`")
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            match model {
                GlmmModel::CmEl => conditional::fit_rate_ratios_cm_el(&rates, level, max_iter)?,
                GlmmModel::UmRs => {
                    let (fit, s2) = random_study::fit_rate_ratios_rs(&rates, level, max_iter)?;
                    sigma2 = Some(s2);
                    fit
                }
                _ => rate_ratios::fit_rate_ratios(&rates, level, max_iter)?,
            }
        }
        (Measure::IRLN, GlmmModel::UmFs) => {
            let mut xi = Vec::with_capacity(data.studies.len());
            let mut ti = Vec::with_capacity(data.studies.len());
            for study in &data.studies {
                let (x, t) = study
                    .raw
                    .as_deref()
                    .and_then(|r| Some((r.events?, r.time?)))
                    .ok_or_else(|| no_counts(study, "`events` and `time`"))?;
                xi.push(x);
                ti.push(t);
            }
            conditional::fit_rates(&xi, &ti, level, max_iter)?
        }
        _ => {
            return Err(GlmmFitError::NotBuilt {
                measure,
                model: model.name(),
            });
        }
    };
    let left_out = data.studies.len() - fit.k;
    let mut fit = fit;
    let df = options.t_test.then_some(fit.k as f64 - 1.0);
    if let Some(df) = df {
        fit.use_t(df, options.level);
    }
    Ok(GlmmResult {
        title: data.title.clone(),
        model,
        measure: data.measure.name(),
        level: options.level,
        left_out,
        fit,
        sigma2,
        df,
        warnings: Vec::new(),
    })
}

/// A GLMM, named as metafor's `rma.glmm(model = ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum GlmmModel {
    /// Unconditional model with fixed study effects (metafor's default).
    #[serde(rename = "UM.FS")]
    UmFs,
    /// Unconditional model with random study effects.
    #[serde(rename = "UM.RS")]
    UmRs,
    /// Conditional model, exact likelihood (non-central hypergeometric for
    /// OR, binomial for IRR).
    #[serde(rename = "CM.EL")]
    CmEl,
    /// Conditional model, approximate likelihood (OR only).
    #[serde(rename = "CM.AL")]
    CmAl,
}

impl GlmmModel {
    /// Every model, in metafor's order.
    pub const ALL: [GlmmModel; 4] = [
        GlmmModel::UmFs,
        GlmmModel::UmRs,
        GlmmModel::CmEl,
        GlmmModel::CmAl,
    ];

    /// metafor's name (`UM.FS` ...).
    pub fn name(self) -> &'static str {
        match self {
            GlmmModel::UmFs => "UM.FS",
            GlmmModel::UmRs => "UM.RS",
            GlmmModel::CmEl => "CM.EL",
            GlmmModel::CmAl => "CM.AL",
        }
    }

    /// Parses metafor's name, case-insensitively.
    pub fn parse(name: &str) -> Option<GlmmModel> {
        GlmmModel::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for m in GlmmModel::ALL {
            assert_eq!(GlmmModel::parse(m.name()), Some(m));
        }
        assert_eq!(GlmmModel::parse("um.fs"), Some(GlmmModel::UmFs));
        assert_eq!(GlmmModel::parse("UMFS"), None);
    }
}
