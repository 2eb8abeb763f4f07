//! The intercept-only model, fitted fast for the k refits of the sensitivity
//! analyses.
//!
//! [`crate::model::fit()`] handles any design matrix; with the intercept alone
//! every p×p product it forms is a scalar, and its allocations dominate when a
//! leave-one-out analysis refits 10,000 studies 10,000 times. This module
//! takes the same steps as `model::tau2` and `model::fit` (same start values,
//! Fisher-scoring updates, step halving, stopping rule, `ll0check`, `uniroot`
//! for PM, mean-centred outcomes), with the scalar forms
//!
//! * β̂ = Σwᵢyᵢ / Σwᵢ, Var(β̂) = 1/Σwᵢ;
//! * tr P = Σwᵢ − Σwᵢ²/Σwᵢ;
//! * tr PP = Σwᵢ² − 2 Σwᵢ³/Σwᵢ + (Σwᵢ²/Σwᵢ)²;
//!
//! and two passes over the studies per weighting. Results agree with
//! `model::fit` to rounding (tested below on every estimator).

use nalgebra::DMatrix;

use crate::model::distribution::{
    chisq_sf, normal_two_sided_p, normal_upper, t_two_sided_p, t_upper,
};
use crate::model::zeroin::{R_UNIROOT_TOL, zeroin};
use crate::model::{Convergence, FitError, FitOptions, Method, ModelFit, Tau2Error, Test};

/// A weighted fit of outcomes on the intercept with weights 1/(vᵢ + τ²).
struct Weighted {
    sum_w: f64,
    sum_w2: f64,
    sum_w3: f64,
    beta: f64,
    /// Σwᵢeᵢ² (y'Py).
    rss: f64,
    /// Σ(wᵢeᵢ)² (y'PPy).
    rss_pp: f64,
}

/// Fits y on the intercept with weights 1/(vᵢ + τ²), reusing `w` as scratch.
fn weighted(y: &[f64], vi: &[f64], tau2: f64, w: &mut Vec<f64>) -> Weighted {
    w.clear();
    w.extend(vi.iter().map(|v| 1.0 / (v + tau2)));
    let (mut sum_w, mut sum_w2, mut sum_w3, mut sum_wy) = (0.0, 0.0, 0.0, 0.0);
    for (wi, yi) in w.iter().zip(y) {
        sum_w += wi;
        sum_w2 += wi * wi;
        sum_w3 += wi * wi * wi;
        sum_wy += wi * yi;
    }
    let beta = sum_wy / sum_w;
    let (mut rss, mut rss_pp) = (0.0, 0.0);
    for (wi, yi) in w.iter().zip(y) {
        let e = yi - beta;
        rss += wi * e * e;
        rss_pp += (wi * e) * (wi * e);
    }
    Weighted {
        sum_w,
        sum_w2,
        sum_w3,
        beta,
        rss,
        rss_pp,
    }
}

/// Hedges: (Σ(yᵢ − ȳ)² − (Σvᵢ − Σvᵢ/k)) / (k − 1).
fn hedges(yc: &[f64], vi: &[f64]) -> f64 {
    let k = yc.len() as f64;
    let mean = yc.iter().sum::<f64>() / k;
    let rss: f64 = yc.iter().map(|y| (y - mean) * (y - mean)).sum();
    let sum_v: f64 = vi.iter().sum();
    (rss - (sum_v - sum_v / k)) / (k - 1.0)
}

/// R's `mad()`: 1.4826 × the median absolute deviation from the median.
fn mad(y: &[f64]) -> f64 {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let centre = median(&mut y.to_vec());
    1.4826 * median(&mut y.iter().map(|v| (v - centre).abs()).collect())
}

fn closed_form(tau2: f64) -> (f64, Convergence) {
    (
        tau2.max(0.0),
        Convergence {
            iterations: 0,
            converged: true,
            final_change: 0.0,
            reset_to_zero: false,
        },
    )
}

/// τ² by `method`, as `model::tau2::estimate` for the intercept-only model.
fn tau2(
    method: Method,
    yc: &[f64],
    vi: &[f64],
    options: &FitOptions,
    w: &mut Vec<f64>,
) -> Result<(f64, Convergence), Tau2Error> {
    let k = yc.len() as f64;
    Ok(match method {
        Method::DL => {
            let f = weighted(yc, vi, 0.0, w);
            closed_form((f.rss - (k - 1.0)) / (f.sum_w - f.sum_w2 / f.sum_w))
        }
        Method::HE => closed_form(hedges(yc, vi)),
        Method::HS => {
            let f = weighted(yc, vi, 0.0, w);
            closed_form((f.rss - k) / f.sum_w)
        }
        Method::SJ => {
            let tau2_0 = yc.iter().map(|y| y * y).sum::<f64>() / k;
            closed_form(tau2_0 * weighted(yc, vi, tau2_0, w).rss / (k - 1.0))
        }
        Method::PM => paule_mandel(yc, vi, options, w)?,
        Method::ML | Method::REML | Method::EB => fisher_scoring(method, yc, vi, options, w)?,
        _ => closed_form(0.0),
    })
}

fn paule_mandel(
    yc: &[f64],
    vi: &[f64],
    options: &FitOptions,
    w: &mut Vec<f64>,
) -> Result<(f64, Convergence), Tau2Error> {
    let target = yc.len() as f64 - 1.0;
    let upper = 100f64.max(10.0 * mad(yc).powi(2));
    let f_lower = weighted(yc, vi, 0.0, w).rss - target;
    if f_lower < 0.0 {
        return Ok(closed_form(0.0));
    }
    let f_upper = weighted(yc, vi, upper, w).rss - target;
    if f_upper > 0.0 {
        return Err(Tau2Error::NoRoot { upper });
    }
    let max_iter = options.control.max_iter;
    let root = zeroin(
        |t| weighted(yc, vi, t, w).rss - target,
        0.0,
        upper,
        f_lower,
        f_upper,
        R_UNIROOT_TOL,
        max_iter,
    )
    .ok_or(Tau2Error::NotConverged {
        method: "PM",
        iterations: max_iter,
        last_change: f64::NAN,
    })?;
    let (tau2, mut convergence) = closed_form(root.x);
    convergence.iterations = root.iterations;
    convergence.final_change = R_UNIROOT_TOL;
    Ok((tau2, convergence))
}

fn fisher_scoring(
    method: Method,
    yc: &[f64],
    vi: &[f64],
    options: &FitOptions,
    w: &mut Vec<f64>,
) -> Result<(f64, Convergence), Tau2Error> {
    let control = &options.control;
    let k = yc.len() as f64;
    let mut tau2 = hedges(yc, vi).max(0.0);
    let mut change = control.threshold + 1.0;
    let mut iterations = 0;
    while change > control.threshold {
        iterations += 1;
        let f = weighted(yc, vi, tau2, w);
        let mut adj = match method {
            Method::ML => (f.rss_pp - f.sum_w) / f.sum_w2,
            Method::REML => {
                let b2 = f.sum_w2 / f.sum_w;
                let tr_p = f.sum_w - b2;
                let tr_pp = f.sum_w2 - 2.0 * f.sum_w3 / f.sum_w + b2 * b2;
                (f.rss_pp - tr_p) / tr_pp
            }
            _ => (f.rss * k / (k - 1.0) - k) / f.sum_w,
        };
        if adj.is_nan() {
            adj = 0.0;
        }
        while tau2 + adj < 0.0 {
            adj /= 2.0;
        }
        let old = tau2;
        tau2 += adj;
        change = (old - tau2).abs();
        if iterations > control.max_iter {
            return Err(Tau2Error::NotConverged {
                method: method.name(),
                iterations,
                last_change: change,
            });
        }
    }
    let mut reset_to_zero = false;
    if matches!(method, Method::ML | Method::REML)
        && tau2 > control.threshold
        && log_likelihood(method, yc, vi, 0.0, w) - log_likelihood(method, yc, vi, tau2, w)
            > R_UNIROOT_TOL
    {
        tau2 = 0.0;
        reset_to_zero = true;
    }
    Ok((
        tau2.max(0.0),
        Convergence {
            iterations,
            converged: true,
            final_change: change,
            reset_to_zero,
        },
    ))
}

/// The ML or REML log-likelihood at τ², as `model::tau2` computes it for `ll0check`.
fn log_likelihood(method: Method, yc: &[f64], vi: &[f64], tau2: f64, w: &mut Vec<f64>) -> f64 {
    let k = yc.len() as f64;
    let f = weighted(yc, vi, tau2, w);
    let sum_log_v: f64 = vi.iter().map(|v| (v + tau2).ln()).sum();
    let log_two_pi = (2.0 * std::f64::consts::PI).ln();
    match method {
        Method::ML => -0.5 * k * log_two_pi - 0.5 * sum_log_v - 0.5 * f.rss,
        _ => -0.5 * (k - 1.0) * log_two_pi - 0.5 * sum_log_v - 0.5 * f.sum_w.ln() - 0.5 * f.rss,
    }
}

/// Fits the intercept-only model (k ≥ 2), as `model::fit` with an intercept design.
pub fn fit_intercept(yi: &[f64], vi: &[f64], options: &FitOptions) -> Result<ModelFit, FitError> {
    let k = yi.len();
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
    if k <= 1 {
        return Err(FitError::TooFewStudies { k, p: 1 });
    }
    let kf = k as f64;
    let df_resid = kf - 1.0;
    let mean = yi.iter().sum::<f64>() / kf;
    let yc: Vec<f64> = yi.iter().map(|y| y - mean).collect();
    let mut w = Vec::with_capacity(k);
    let (tau2, convergence) = tau2(options.method, &yc, vi, options, &mut w)?;

    let model = weighted(yi, vi, tau2, &mut w);
    let s2w = match options.test {
        Test::Z => 1.0,
        Test::Knha if model.rss <= f64::EPSILON => 0.0,
        Test::Knha => model.rss / df_resid,
    };
    let se = (s2w / model.sum_w).sqrt();
    let statistic = model.beta / se;
    let alpha = options.alpha();
    let (crit, df, p) = match options.test {
        Test::Z => (
            normal_upper(alpha / 2.0),
            None,
            normal_two_sided_p(statistic),
        ),
        Test::Knha => (
            t_upper(alpha / 2.0, df_resid),
            Some(df_resid),
            t_two_sided_p(statistic, df_resid),
        ),
    };
    let weights = w.clone();

    let fe = weighted(&yc, vi, 0.0, &mut w);
    let q = fe.rss.max(0.0);
    let typical_variance = df_resid / (fe.sum_w - fe.sum_w2 / fe.sum_w);
    let (i2, h2) = match options.method {
        Method::EE => ((100.0 * (q - df_resid) / q).max(0.0), q / df_resid),
        _ => (
            100.0 * tau2 / (typical_variance + tau2),
            tau2 / typical_variance + 1.0,
        ),
    };
    Ok(ModelFit {
        k,
        p: 1,
        options: *options,
        beta: vec![model.beta],
        vcov: DMatrix::from_element(1, 1, se * se),
        se: vec![se],
        statistic: vec![statistic],
        p_values: vec![p],
        ci_lower: vec![model.beta - crit * se],
        ci_upper: vec![model.beta + crit * se],
        crit,
        df,
        s2w,
        tau2,
        convergence,
        weights,
        q,
        q_df: k - 1,
        q_p: chisq_sf(q, df_resid),
        typical_variance,
        i2,
        h2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{fit, intercept_design};

    /// Agreement with the general `model::fit` for every estimator and test.
    #[test]
    fn matches_the_general_fit() {
        let yi = [0.1, -0.4, 0.35, 0.9, -0.2, 0.05, 0.6, 1.4, -0.8, 0.3];
        let vi = [0.02, 0.1, 0.05, 0.3, 0.04, 0.08, 0.015, 0.5, 0.2, 0.06];
        let mut compared = 0;
        for method in Method::ALL {
            for test in [Test::Z, Test::Knha] {
                let options = FitOptions {
                    method,
                    test,
                    ..FitOptions::default()
                };
                for n in [2, 3, 5, 10] {
                    let general = fit(&yi[..n], &vi[..n], &intercept_design(n), &options);
                    let fast = fit_intercept(&yi[..n], &vi[..n], &options);
                    let (Ok(g), Ok(f)) = (general, fast) else {
                        continue;
                    };
                    compared += 1;
                    let case = format!("{} {} k={n}", method.name(), test.name());
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * b.abs().max(1e-3);
                    for (what, a, b) in [
                        ("beta", f.beta[0], g.beta[0]),
                        ("se", f.se[0], g.se[0]),
                        ("p", f.p_values[0], g.p_values[0]),
                        ("ci_lower", f.ci_lower[0], g.ci_lower[0]),
                        ("tau2", f.tau2, g.tau2),
                        ("q", f.q, g.q),
                        ("i2", f.i2, g.i2),
                        ("h2", f.h2, g.h2),
                        ("s2w", f.s2w, g.s2w),
                    ] {
                        assert!(close(a, b), "{case} {what}: fast {a}, general {b}");
                    }
                    assert_eq!(f.convergence.iterations, g.convergence.iterations, "{case}");
                }
            }
        }
        assert_eq!(compared, 9 * 2 * 4);
    }
}
