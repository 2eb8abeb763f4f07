//! Fitting the common-effect and (mixed-)random-effects model
//! yᵢ = xᵢ'β + uᵢ + εᵢ, uᵢ ~ N(0, τ²), εᵢ ~ N(0, vᵢ), by weighted least squares
//! with weights 1/(vᵢ + τ̂²) (metafor `rma.uni`).
//!
//! Inference on β uses either the normal distribution (`test = "z"`) or the
//! Knapp & Hartung (2003) adjustment: Var(β̂) is scaled by
//! s² = Σ wᵢ eᵢ² / (k − p) and tests use t (or F) with k − p degrees of freedom.

use nalgebra::{DMatrix, DVector};
use serde::Serialize;

use crate::estimate::Estimate;

pub use super::fit_error::FitError;
use super::matrix::ModelMatrix;
use super::quadratic_forms::Wanted;
use super::tau2::{self, Control, Convergence, Fallback, Method, Problem, Tau2Error};
use super::weighting::{Weights, relative_weights, sandwich_fit};
use super::wls::{SingularDesign, Wls};
use crate::numerics::distribution::{chisq_sf, f_sf, normal_upper, t_upper};

/// How coefficients are tested and their intervals built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Test {
    /// Wald-type z tests (metafor `test = "z"`, the default).
    Z,
    /// Knapp & Hartung (2003): t tests with k − p df and the adjusted SE (metafor `test = "knha"`).
    Knha,
    /// Knapp-Hartung with its variance factor floored at 1, so that the SE
    /// is never smaller than the z test's (metafor `test = "adhoc"`; Knapp &
    /// Hartung 2003, Jackson et al. 2017).
    Adhoc,
}

impl Test {
    /// Every test.
    pub const ALL: [Test; 3] = [Test::Z, Test::Knha, Test::Adhoc];

    /// Whether the test is a Knapp-Hartung t test (`knha` or `adhoc`): t
    /// tests with k − p df and an F omnibus test.
    pub fn is_knapp_hartung(self) -> bool {
        matches!(self, Test::Knha | Test::Adhoc)
    }

    /// Parses the name metafor uses (`z`, `knha` or `adhoc`, case-insensitive).
    pub fn parse(name: &str) -> Option<Test> {
        Test::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The name metafor uses.
    pub fn name(self) -> &'static str {
        match self {
            Test::Z => "z",
            Test::Knha => "knha",
            Test::Adhoc => "adhoc",
        }
    }
}

/// Everything that decides how a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FitOptions {
    /// The τ² estimator.
    pub method: Method,
    /// z or Knapp-Hartung inference.
    pub test: Test,
    /// Confidence level in percent (e.g. 95).
    pub level: f64,
    /// Iteration control.
    pub control: Control,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            method: Method::REML,
            test: Test::Z,
            level: 95.0,
            control: Control::default(),
        }
    }
}

impl FitOptions {
    /// α = 1 − level/100.
    pub fn alpha(&self) -> f64 {
        1.0 - self.level / 100.0
    }
}

/// A fitted meta-analytic model.
#[derive(Debug, Clone)]
pub struct ModelFit {
    /// Number of studies.
    pub k: usize,
    /// Number of coefficients.
    pub p: usize,
    /// The options the model was fitted with.
    pub options: FitOptions,
    /// Coefficients.
    pub beta: Vec<f64>,
    /// Their variance-covariance matrix (Knapp-Hartung scaled when `test = knha`).
    pub vcov: DMatrix<f64>,
    /// Standard errors.
    pub se: Vec<f64>,
    /// z or t statistics.
    pub statistic: Vec<f64>,
    /// Two-sided p-values.
    pub p_values: Vec<f64>,
    /// Lower confidence limits.
    pub ci_lower: Vec<f64>,
    /// Upper confidence limits.
    pub ci_upper: Vec<f64>,
    /// Critical value used for the intervals.
    pub crit: f64,
    /// Degrees of freedom of the t/F tests (`None` under z).
    pub df: Option<f64>,
    /// The Knapp-Hartung scale factor s² (1 under z).
    pub s2w: f64,
    /// Estimated (residual) τ².
    pub tau2: f64,
    /// Standard error of τ̂² (metafor `se.tau2`; [`super::tau2_se`]);
    /// `None` for the common-effect model.
    pub tau2_se: Option<f64>,
    /// How τ² was reached.
    pub convergence: Convergence,
    /// Model weights: 1/(vᵢ + τ̂²), or the user's weights, or 1 for each
    /// study when unweighted ([`fit_weighted`]).
    pub weights: Vec<f64>,
    /// Cochran's Q (QE for a meta-regression), with weights 1/vᵢ.
    pub q: f64,
    /// Degrees of freedom of Q: k − p.
    pub q_df: usize,
    /// p-value of Q.
    pub q_p: f64,
    /// The "typical" sampling variance (k − p)/tr(P) used for I² and H²
    /// (NaN when rounding leaves tr(P) without a single correct digit).
    pub typical_variance: f64,
    /// I² in percent.
    pub i2: f64,
    /// H².
    pub h2: f64,
}

/// Builds the intercept-only design.
pub fn intercept_design(k: usize) -> DMatrix<f64> {
    DMatrix::from_element(k, 1, 1.0)
}

/// Fits the model y ~ X with sampling variances v and inverse-variance weights.
pub fn fit(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    options: &FitOptions,
) -> Result<ModelFit, FitError> {
    fit_weighted(yi, vi, x, options, Weights::InverseVariance)
}

/// Fits the model y ~ X with sampling variances v and the given weights of
/// the fixed effects (see [`super::weighting`] for what they change).
pub fn fit_weighted(
    yi: &[f64],
    vi: &[f64],
    x: &dyn ModelMatrix,
    options: &FitOptions,
    user: Weights<'_>,
) -> Result<ModelFit, FitError> {
    let (k, p) = (yi.len(), x.p());
    if let Weights::User(a) = user {
        if a.len() != k {
            return Err(FitError::WeightCount {
                k,
                weights: a.len(),
            });
        }
        if let Some((index, &value)) = a
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w > 0.0))
        {
            return Err(FitError::BadWeight { index, value });
        }
    }
    if vi.len() != k || x.k() != k {
        return Err(FitError::Dimensions {
            yi: k,
            vi: vi.len(),
            rows: x.k(),
        });
    }
    if !(options.level > 0.0 && options.level < 100.0) {
        return Err(FitError::BadLevel(options.level));
    }
    if let Some((index, &value)) = vi
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return Err(FitError::BadVariance { index, value });
    }
    if k <= p {
        return Err(FitError::TooFewStudies { k, p });
    }
    let mean = yi.iter().sum::<f64>() / k as f64;
    let yc: Vec<f64> = yi.iter().map(|y| y - mean).collect();
    // Squared deviations and inverse variances must be representable, or
    // every estimator works on infinities (and reports a "singular" design).
    if !yc.iter().map(|y| y * y).sum::<f64>().is_finite() {
        return Err(FitError::NotFinite {
            what: "spread of the outcomes",
        });
    }
    if !vi.iter().map(|v| 1.0 / v).sum::<f64>().is_finite() {
        return Err(FitError::NotFinite {
            what: "sum of the inverse sampling variances",
        });
    }
    let problem = Problem {
        yc: &yc,
        vi,
        x,
        weights: match user {
            Weights::User(a) => Some(a),
            _ => None,
        },
    };
    let (tau2, convergence, options) = estimate_tau2(&problem, options)?;
    let options = &options;
    if !tau2.is_finite() {
        return Err(FitError::NotFinite { what: "tau^2" });
    }
    let tau2_se = super::tau2_se::standard_error(options.method, &problem, tau2)?;

    let inverse: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let df_resid = (k - p) as f64;
    // Knapp-Hartung's s² = Σ wᵢeᵢ²/(k − p) of the inverse-variance fit,
    // whatever the weights; metafor sets it to 0 when all outcomes are
    // (numerically) equal.
    let s2w = |wls: &Wls| match options.test {
        Test::Z => 1.0,
        Test::Knha => match wls.rss(&inverse) {
            rss if rss <= f64::EPSILON => 0.0,
            rss => rss / df_resid,
        },
        Test::Adhoc => (wls.rss(&inverse) / df_resid).max(1.0),
    };
    let (wls, vcov, s2w, weights) = match user {
        Weights::InverseVariance => {
            let wls = Wls::fit(x, yi, &inverse)?;
            let s2w = s2w(&wls);
            let vcov = &wls.xtwx_inv * s2w;
            (wls, vcov, s2w, inverse)
        }
        Weights::User(_) | Weights::Equal => {
            let s2w = match options.test {
                Test::Z => 1.0,
                Test::Knha | Test::Adhoc => s2w(&Wls::fit(x, yi, &inverse)?),
            };
            let weights = match user {
                Weights::User(a) => relative_weights(a),
                _ => vec![1.0; k],
            };
            let (wls, sandwich) = sandwich_fit(x, yi, vi, tau2, &weights)?;
            (wls, sandwich * s2w, s2w, weights)
        }
    };
    let se: Vec<f64> = (0..p).map(|j| vcov[(j, j)].sqrt()).collect();
    let beta: Vec<f64> = wls.beta.iter().copied().collect();
    if let Some(what) = [("estimate", &beta), ("standard error", &se)]
        .into_iter()
        .find_map(|(what, values)| values.iter().any(|v| !v.is_finite()).then_some(what))
    {
        return Err(FitError::NotFinite { what });
    }
    let alpha = options.alpha();
    let (crit, df) = match options.test {
        Test::Z => (normal_upper(alpha / 2.0), None),
        Test::Knha | Test::Adhoc => (t_upper(alpha / 2.0, df_resid), Some(df_resid)),
    };
    let rows: Vec<Estimate> = beta
        .iter()
        .zip(&se)
        .map(|(&b, &s)| Estimate::wald(b, s, crit, df))
        .collect();
    let statistic = rows.iter().map(|r| r.statistic).collect();
    let p_values = rows.iter().map(|r| r.p).collect();
    let ci_lower = rows.iter().map(|r| r.ci_lower).collect();
    let ci_upper = rows.iter().map(|r| r.ci_upper).collect();

    // Heterogeneity: always with the inverse sampling variances (metafor uses the centred y).
    let fe = problem.forms(0.0, Wanted::TR_P)?;
    let q = fe.rss.max(0.0);
    let q_p = chisq_sf(q, df_resid);
    // tr(P) is a difference of sums; when the sampling variances span dozens of
    // orders of magnitude it cancels to rounding noise and can even turn
    // negative. I² and H² are then undefined (NaN, reported as NA), not garbage.
    let typical_variance = match df_resid / fe.tr_p {
        v if v > 0.0 && v.is_finite() => v,
        _ => f64::NAN,
    };
    let (i2, h2) = match options.method {
        Method::EE => (
            at_most_100((100.0 * (q - df_resid) / q).max(0.0)),
            q / df_resid,
        ),
        _ => (
            // As metafor computes it; the clamp catches a last-bit overshoot
            // of 100 when τ² dwarfs the typical variance.
            at_most_100(100.0 * tau2 / (typical_variance + tau2)),
            tau2 / typical_variance + 1.0,
        ),
    };

    if !q.is_finite() {
        return Err(FitError::NotFinite {
            what: "Q statistic",
        });
    }

    Ok(ModelFit {
        k,
        p,
        options: *options,
        beta,
        vcov,
        se,
        statistic,
        p_values,
        ci_lower,
        ci_upper,
        crit,
        df,
        s2w,
        tau2,
        tau2_se,
        convergence,
        weights,
        q,
        q_df: k - p,
        q_p,
        typical_variance,
        i2,
        h2,
    })
}

/// `value` capped at 100 (NaN stays NaN).
pub(crate) fn at_most_100(value: f64) -> f64 {
    if value > 100.0 { 100.0 } else { value }
}

/// Estimates τ² with the chosen method, or with the fallback when the chosen
/// one does not converge or finds no root (metafor `method = c(chosen, fallback)`).
/// The options returned name the estimator actually used.
fn estimate_tau2(
    problem: &Problem<'_>,
    options: &FitOptions,
) -> Result<(f64, Convergence, FitOptions), FitError> {
    let first = match tau2::estimate(options.method, problem, &options.control) {
        Ok((tau2, convergence)) => return Ok((tau2, convergence, *options)),
        Err(
            e @ (Tau2Error::NotConverged { .. }
            | Tau2Error::NoRoot { .. }
            | Tau2Error::NotFinite { .. }),
        ) => e,
        Err(e) => return Err(e.into()),
    };
    let fallback = match options.control.fallback {
        Some(method) if method != options.method => method,
        _ => return Err(first.into()),
    };
    match tau2::estimate(fallback, problem, &options.control) {
        Ok((tau2, mut convergence)) => {
            convergence.fallback_from = Some(Fallback {
                method: options.method,
                error: first,
            });
            let used = FitOptions {
                method: fallback,
                ..*options
            };
            Ok((tau2, convergence, used))
        }
        Err(second) => Err(FitError::FallbackFailed {
            method: options.method.name(),
            first: Box::new(first),
            fallback: fallback.name(),
            second: Box::new(second),
        }),
    }
}

/// An omnibus test of a set of coefficients (metafor's QM).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OmnibusTest {
    /// QM: a χ² statistic under z, an F statistic (QM/m) under Knapp-Hartung.
    pub statistic: f64,
    /// Numerator degrees of freedom m.
    pub df1: usize,
    /// Denominator degrees of freedom (k − p) under Knapp-Hartung.
    pub df2: Option<f64>,
    /// p-value.
    pub p: f64,
}

/// Wald test that the coefficients `indices` of `beta` (with
/// variance-covariance `vcov(a, b)`) are all zero: QM = β̂'ᵦ V⁻¹ β̂ᵦ compared
/// with χ²(m), or QM/m with F(m, df) when the model's tests have `df`
/// degrees of freedom (Knapp-Hartung), as metafor's QM and `anova(res, btt = ...)`.
pub fn wald_test(
    beta: &[f64],
    vcov: impl Fn(usize, usize) -> f64,
    indices: &[usize],
    df: Option<f64>,
) -> Result<OmnibusTest, SingularDesign> {
    let m = indices.len();
    let sub = DMatrix::from_fn(m, m, |a, b| vcov(indices[a], indices[b]));
    let b = DVector::from_iterator(m, indices.iter().map(|&j| beta[j]));
    let inv = super::wls::invert_spd(sub)?;
    let qm = (b.transpose() * inv * &b)[(0, 0)];
    Ok(match df {
        None => OmnibusTest {
            statistic: qm,
            df1: m,
            df2: None,
            p: chisq_sf(qm, m as f64),
        },
        Some(df2) => OmnibusTest {
            statistic: qm / m as f64,
            df1: m,
            df2: Some(df2),
            p: f_sf(qm / m as f64, m as f64, df2),
        },
    })
}

impl ModelFit {
    /// Coefficient `j` as an [`Estimate`] row.
    pub fn estimate(&self, j: usize) -> Estimate {
        Estimate {
            value: self.beta[j],
            se: self.se[j],
            statistic: self.statistic[j],
            p: self.p_values[j],
            ci_lower: self.ci_lower[j],
            ci_upper: self.ci_upper[j],
        }
    }

    /// The prediction interval for the true effect of a new study under an
    /// intercept-only model: μ̂ ± c·√(SE(μ̂)² + τ̂²), with c the critical value of
    /// the CI (normal under z, t(k − p) under Knapp-Hartung), as metafor's `predict.rma`.
    pub fn prediction_interval(&self) -> (f64, f64) {
        let half = self.crit * (self.se[0] * self.se[0] + self.tau2).sqrt();
        (self.beta[0] - half, self.beta[0] + half)
    }

    /// Wald test that the coefficients `indices` are all zero ([`wald_test`]).
    pub fn omnibus(&self, indices: &[usize]) -> Result<OmnibusTest, SingularDesign> {
        wald_test(&self.beta, |a, b| self.vcov[(a, b)], indices, self.df)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FitOptions {
        FitOptions::default()
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        let x = intercept_design(3);
        let yi = [0.1, 0.2, 0.3];
        assert!(matches!(
            fit(&yi, &[0.1, 0.1], &x, &options()),
            Err(FitError::Dimensions {
                yi: 3,
                vi: 2,
                rows: 3
            })
        ));
        let err = fit(&yi, &[0.1, 0.0, 0.1], &x, &options()).expect_err("vi = 0");
        assert_eq!(
            err,
            FitError::BadVariance {
                index: 1,
                value: 0.0
            }
        );
        assert!(
            err.to_string().starts_with("study 2 (in input order)"),
            "{err}"
        );
        let level = FitOptions {
            level: 100.0,
            ..options()
        };
        assert!(matches!(
            fit(&yi, &[0.1; 3], &x, &level),
            Err(FitError::BadLevel(_))
        ));
    }

    #[test]
    fn too_few_studies_for_a_regression_names_the_remedy() {
        let x = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 1.0, 1.0]);
        let err = fit(&[0.1, 0.2], &[0.1, 0.1], &x, &options()).expect_err("k = p");
        assert_eq!(err, FitError::TooFewStudies { k: 2, p: 2 });
        assert!(err.to_string().contains("at least 3 are needed"), "{err}");
        assert!(err.to_string().contains("drop moderators"), "{err}");
    }
}
