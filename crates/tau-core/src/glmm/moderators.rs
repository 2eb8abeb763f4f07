//! GLMMs with moderators: metafor's `rma.glmm(measure, ..., mods = ~ x,
//! model = MODEL)`. The moderators enter the fixed part, where metafor puts
//! its model matrix X (`X.fit`):
//! - two-group models with fixed study effects (OR and IRR `UM.FS`): the
//!   treated group's linear predictor, αᵢ + xᵢ'β + τuᵢ/2 (`X.fit` times
//!   `group1`), the control group's αᵢ − τuᵢ/2;
//! - conditional and one-group models (OR `CM.AL` and `CM.EL`, IRR `CM.EL`,
//!   PLO, IRLN): θᵢ ~ N(xᵢ'β, τ²), i.e. the linear predictor
//!   offsetᵢ + xᵢ'β + τuᵢ (`X.fit` as it is).
//!
//! Each model is fitted by ML as without moderators, over (β, τ)
//! (`glmm::maximum`). Reported beside the coefficients, as metafor
//! reports them: QM, the Wald test of the coefficients but the intercept
//! (χ² on their number of df); `QE_Wld` and `QE_LRT` test the model
//! against the saturated one (one effect per study) on k − p df, `QE_LRT`
//! against the common-effect model with the moderators (a glm), `QE_Wld`
//! from the saturated model's own estimates; I² and H² from τ̂² and
//! metafor's typical within-study variance of a model with moderators,
//! (k − p)/tr(P) with P = W − WX(X'WX)⁻¹X'W, W = diag(1/vᵢ) of escalc's vᵢ.
//! Studies lacking a moderator are left out (with a warning), then the
//! double-zero tables, as metafor does.

use serde::Serialize;

use crate::data::dataset::{Dataset, Study};
use crate::effect_size::measure::Measure;
use crate::estimate::Estimate;
use crate::model::fit::wald_test;
use crate::numerics::distribution::{chisq_sf, normal_upper, t_upper};
use crate::regression::Coefficient;
use crate::regression::design::{self, DesignSpec, missing_moderators};

use super::agq::Family;
use super::odds_ratios::{self, Arms, Table};
use super::one_group::{Count, fit_one_group_x};
use super::proportions::{Found, GlmmError};
use super::rate_ratios::{self, Rates};
use super::{GlmmFitError, GlmmModel, GlmmOptions};

/// A GLMM with moderators. Field names are the JSON contract (metafor's,
/// with `.` written `_`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GlmmRegression {
    /// Title from the file.
    #[serde(skip)]
    pub title: Option<String>,
    /// metafor's name of the model (`UM.FS`).
    pub model: GlmmModel,
    /// The measure (OR, IRR, PLO, IRLN).
    pub measure: &'static str,
    /// Studies in the model.
    pub k: usize,
    /// Tables (or studies) left out: no events, or only events, in both
    /// groups (metafor's `drop00`).
    pub left_out: usize,
    /// Studies left out for a missing moderator value.
    pub missing_moderators: usize,
    /// CI level in percent.
    pub level: f64,
    /// The moderators, in model order.
    pub moderators: Vec<String>,
    /// The coefficients: the intercept, then each moderator's columns
    /// (a categorical moderator's as `moderator=level`).
    pub coefficients: Vec<Coefficient>,
    /// Their covariance matrix, row by row.
    pub vcov: Vec<Vec<f64>>,
    /// Wald test of the coefficients but the intercept.
    #[serde(rename = "QM")]
    pub qm: f64,
    /// Its degrees of freedom.
    #[serde(rename = "QM_df")]
    pub qm_df: usize,
    /// Its p-value.
    #[serde(rename = "QM_p")]
    pub qm_p: f64,
    /// The df of the t tests and the denominator df of QM's F test
    /// (k − p) with `test = "t"`; absent for z.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Residual τ̂².
    pub tau2: f64,
    /// Wald test of the saturated model against this one.
    #[serde(rename = "QE_Wld")]
    pub qe_wld: f64,
    /// Its p-value.
    #[serde(rename = "QE_Wld_p")]
    pub qe_wld_p: f64,
    /// Likelihood-ratio test of the saturated model against the
    /// common-effect model with the moderators.
    #[serde(rename = "QE_LRT")]
    pub qe_lrt: f64,
    /// Its p-value.
    #[serde(rename = "QE_LRT_p")]
    pub qe_lrt_p: f64,
    /// Degrees of freedom of both tests (k − p).
    #[serde(rename = "QE_df")]
    pub qe_df: usize,
    /// Residual I² (%).
    #[serde(rename = "I2")]
    pub i2: f64,
    /// Residual H².
    #[serde(rename = "H2")]
    pub h2: f64,
    /// metafor's logLik (`fit.stats` ll).
    #[serde(rename = "logLik")]
    pub log_lik: f64,
    /// Warnings (studies left out for a missing moderator value).
    #[serde(skip)]
    pub warnings: Vec<crate::warning::Warning>,
}

impl GlmmRegression {
    /// The likelihood and how it is integrated, as [`super::GlmmResult`]
    /// names it.
    pub fn model_type(&self) -> &'static str {
        super::model_type(self.measure, self.model)
    }
}

/// What to fit, from the studies of the design.
enum Data {
    Tables(Vec<Table>),
    Rates(Vec<Rates>),
    Counts(Vec<f64>, Vec<f64>),
}

fn read(studies: &[&Study], measure: Measure, model: GlmmModel) -> Result<Data, GlmmFitError> {
    let no_counts = |study: &Study, fields| GlmmFitError::NoCounts {
        label: study.label().to_owned(),
        measure: measure.name(),
        fields,
    };
    let field = |study: &Study, get: &dyn Fn(&crate::input::Record) -> Option<[f64; 4]>, fields| {
        study
            .raw
            .as_deref()
            .and_then(get)
            .ok_or_else(|| no_counts(study, fields))
    };
    Ok(match (measure, model) {
        (Measure::OR, GlmmModel::UmFs | GlmmModel::CmAl | GlmmModel::CmEl) => Data::Tables(
            studies
                .iter()
                .map(|s| {
                    field(
                        s,
                        &|r| Some([r.events1?, r.n1?, r.events2?, r.n2?]),
                        "`events1`, `n1`, `events2` and `n2`",
                    )
                    .map(|[ai, n1i, ci, n2i]| Table { ai, n1i, ci, n2i })
                })
                .collect::<Result<_, _>>()?,
        ),
        (Measure::IRR, GlmmModel::UmFs | GlmmModel::CmEl) => Data::Rates(
            studies
                .iter()
                .map(|s| {
                    field(
                        s,
                        &|r| Some([r.events1?, r.time1?, r.events2?, r.time2?]),
                        "`events1`, `time1`, `events2` and `time2`",
                    )
                    .map(|[x1i, t1i, x2i, t2i]| Rates { x1i, t1i, x2i, t2i })
                })
                .collect::<Result<_, _>>()?,
        ),
        (Measure::PLO | Measure::IRLN, GlmmModel::UmFs) => {
            let plo = measure == Measure::PLO;
            let (mut xs, mut ns) = (Vec::new(), Vec::new());
            for s in studies {
                let [x, n, _, _] = if plo {
                    field(
                        s,
                        &|r| Some([r.events?, r.n?, 0.0, 0.0]),
                        "`events` and `n`",
                    )?
                } else {
                    field(
                        s,
                        &|r| Some([r.events?, r.time?, 0.0, 0.0]),
                        "`events` and `time`",
                    )?
                };
                xs.push(x);
                ns.push(n);
            }
            Data::Counts(xs, ns)
        }
        _ => {
            return Err(GlmmFitError::NotBuilt {
                measure: measure.name(),
                model: model.name(),
            });
        }
    })
}

/// The rows of `x` whose study `keep`s.
fn kept<T>(x: &[Vec<f64>], items: &[T], keep: impl Fn(&T) -> bool) -> Vec<Vec<f64>> {
    x.iter()
        .zip(items)
        .filter(|(_, t)| keep(t))
        .map(|(row, _)| row.clone())
        .collect()
}

/// How to take coefficients of a scaled model matrix back to the
/// moderators' own scale: β = Mβₛ, Var β = M Var βₛ M'.
struct Rescale(Option<Vec<Vec<f64>>>);

impl Rescale {
    fn apply(&self, mut found: Found) -> Found {
        let Some(m) = &self.0 else {
            return found;
        };
        let p = m.len();
        let mul = |a: &[Vec<f64>], b: &[Vec<f64>]| -> Vec<Vec<f64>> {
            (0..p)
                .map(|i| {
                    (0..p)
                        .map(|j| (0..p).map(|l| a[i][l] * b[l][j]).sum())
                        .collect()
                })
                .collect()
        };
        let mt: Vec<Vec<f64>> = (0..p).map(|i| (0..p).map(|j| m[j][i]).collect()).collect();
        found.vcov = mul(&mul(m, &found.vcov), &mt);
        found.beta = (0..p)
            .map(|i| (0..p).map(|j| m[i][j] * found.beta[j]).sum())
            .collect();
        found
    }
}

/// metafor's `scaleX`: with an intercept, every column but the intercept
/// and the 0/1 dummies is centred and scaled by its SD for the fit (a
/// moderator such as a year, ~2000, leaves the likelihood's Hessian
/// ill-conditioned otherwise); the fit is the same model.
fn scaled(x: &[Vec<f64>], intercept: bool) -> (Vec<Vec<f64>>, Rescale) {
    let (k, p) = (x.len(), x[0].len());
    if !intercept || p == 1 {
        return (x.to_vec(), Rescale(None));
    }
    let mut m = vec![vec![0.0; p]; p];
    m[0][0] = 1.0;
    let mut out = x.to_vec();
    for j in 1..p {
        let column: Vec<f64> = x.iter().map(|row| row[j]).collect();
        let dummy = column.iter().all(|&v| v == 0.0 || v == 1.0);
        let mean = column.iter().sum::<f64>() / k as f64;
        let sd = (column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0)).sqrt();
        if dummy || sd.is_nan() || sd <= 0.0 {
            m[j][j] = 1.0;
            continue;
        }
        for (row, v) in out.iter_mut().zip(&column) {
            row[j] = (v - mean) / sd;
        }
        m[0][j] = -mean / sd;
        m[j][j] = 1.0 / sd;
    }
    (out, Rescale(Some(m)))
}

/// Fits the GLMM of `options` with the moderators of `design` to `data`.
pub fn regress(
    data: &Dataset,
    options: &GlmmOptions,
    design: &DesignSpec,
) -> Result<GlmmRegression, GlmmFitError> {
    let model = match (data.measure, options.model) {
        (Measure::IRR, GlmmModel::CmAl) => GlmmModel::CmEl,
        (_, model) => model,
    };
    let design = design::build(data, design).map_err(GlmmFitError::Design)?;
    let studies: Vec<&Study> = design.rows.iter().map(|&i| &data.studies[i]).collect();
    let unscaled: Vec<Vec<f64>> = (0..design.x.nrows())
        .map(|i| design.x.row(i).iter().copied().collect())
        .collect();
    let (x, back) = scaled(&unscaled, design.intercept);
    let p = design.names.len();
    let max_iter = options.max_iter;
    let enough = |k: usize| {
        if k > p {
            Ok(())
        } else {
            Err(GlmmFitError::TooFewForModerators { k, p })
        }
    };
    let found: Found = match read(&studies, data.measure, model)? {
        Data::Tables(tables) => {
            odds_ratios::informative_tables(&tables)?;
            let xs = kept(&x, &tables, |t| !t.uninformative());
            let tables: Vec<Table> = tables.into_iter().filter(|t| !t.uninformative()).collect();
            enough(tables.len())?;
            let weights = odds_ratios::escalc_weights(&tables);
            match model {
                GlmmModel::CmEl => {
                    super::conditional_exact::fit_exact_conditional_x(&tables, &xs, max_iter)?
                }
                GlmmModel::CmAl => {
                    let counts = super::conditional::table_counts(&tables);
                    fit_one_group_x(&counts, &xs, Family::Binomial, &weights, max_iter)?
                }
                _ => {
                    let arms: Vec<Arms> = tables.iter().map(Table::arms).collect();
                    odds_ratios::fit_two_groups_x(&arms, &xs, &weights, max_iter)?
                }
            }
        }
        Data::Rates(rates) => {
            rate_ratios::informative_rates(&rates)?;
            let informative = |r: &Rates| r.x1i > 0.0 || r.x2i > 0.0;
            let xs = kept(&x, &rates, informative);
            let rates: Vec<Rates> = rates.into_iter().filter(informative).collect();
            enough(rates.len())?;
            let weights = rate_ratios::escalc_weights(&rates);
            if model == GlmmModel::CmEl {
                let counts = super::conditional::rate_ratio_counts(&rates);
                fit_one_group_x(&counts, &xs, Family::Binomial, &weights, max_iter)?
            } else {
                let arms: Vec<Arms> = rates.iter().map(Rates::arms).collect();
                odds_ratios::fit_two_groups_x(&arms, &xs, &weights, max_iter)?
            }
        }
        Data::Counts(xi, ni) => {
            enough(xi.len())?;
            let (counts, weights, family) = if data.measure == Measure::PLO {
                super::proportions::check_counts(&xi, &ni)?;
                (
                    xi.iter()
                        .zip(&ni)
                        .map(|(&x, &n)| Count { x, n, offset: 0.0 })
                        .collect::<Vec<_>>(),
                    super::proportions::escalc_weights(&xi, &ni),
                    Family::Binomial,
                )
            } else {
                super::conditional::check_rates(&xi, &ni)?;
                (
                    super::conditional::rate_counts(&xi, &ni),
                    super::conditional::rate_weights(&xi),
                    Family::Poisson,
                )
            };
            fit_one_group_x(&counts, &x, family, &weights, max_iter)?
        }
    };
    let found = back.apply(found);
    let left_out = design.rows.len() - found.k;
    let warnings = missing_moderators(&design.dropped).into_iter().collect();
    Ok(result(
        found, &design, data, model, options, left_out, warnings,
    )?)
}

/// The report of what the fitter found.
fn result(
    found: Found,
    design: &design::Design,
    data: &Dataset,
    model: GlmmModel,
    options: &GlmmOptions,
    left_out: usize,
    warnings: Vec<crate::warning::Warning>,
) -> Result<GlmmRegression, GlmmError> {
    let level = options.level;
    // metafor's test = "t": t on k − p df, QM as F(m, k − p) of QM/m.
    let df = options
        .t_test
        .then(|| (found.k - design.names.len()) as f64);
    let crit = match df {
        Some(df) => t_upper((1.0 - level / 100.0) / 2.0, df),
        None => normal_upper((1.0 - level / 100.0) / 2.0),
    };
    let coefficients = design
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| Coefficient {
            name: name.clone(),
            estimate: Estimate::wald(found.beta[j], found.vcov[j][j].sqrt(), crit, df),
            p_permutation: None,
        })
        .collect();
    let tested = design.tested();
    let qm = if tested.is_empty() {
        None
    } else {
        Some(
            wald_test(&found.beta, |a, b| found.vcov[a][b], &tested, df)
                .map_err(|_| GlmmError::NotConverged)?,
        )
    };
    let s2w = found.typical_variance;
    let tau2 = found.tau2;
    Ok(GlmmRegression {
        title: data.title.clone(),
        model,
        measure: data.measure.name(),
        k: found.k,
        left_out,
        missing_moderators: design.dropped.len(),
        level,
        moderators: design.terms.iter().map(|t| t.moderator.clone()).collect(),
        coefficients,
        vcov: found.vcov,
        qm: qm.as_ref().map_or(0.0, |t| t.statistic),
        qm_df: tested.len(),
        qm_p: qm.as_ref().map_or(1.0, |t| t.p),
        df,
        tau2,
        qe_wld: found.qe_wld,
        qe_wld_p: chisq_sf(found.qe_wld, found.qe_df as f64),
        qe_lrt: found.qe_lrt,
        qe_lrt_p: chisq_sf(found.qe_lrt, found.qe_df as f64),
        qe_df: found.qe_df,
        i2: 100.0 * tau2 / (s2w + tau2),
        h2: tau2 / s2w + 1.0,
        log_lik: found.log_lik,
        warnings,
    })
}
