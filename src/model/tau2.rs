//! Estimators of the between-study variance τ², under metafor's names.
//!
//! Each estimator follows `metafor::rma.uni` (Viechtbauer 2005; 2010) to the
//! step, including its start values, step halving and stopping rule, so that
//! iterative estimates agree with metafor's to far better than the
//! convergence threshold. As in metafor, τ² is estimated from the mean-centred
//! outcomes (which changes nothing when the model has an intercept).

use nalgebra::DMatrix;
use serde::Serialize;

use super::wls::{SingularDesign, Wls, cross_weighted, trace_p, traces};
use super::zeroin::{R_UNIROOT_TOL, zeroin};

/// A τ² estimator, named as in metafor's `rma(method = ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[non_exhaustive]
pub enum Method {
    /// Common (equal) effect: τ² = 0 (metafor `"EE"`, formerly `"FE"`).
    #[value(name = "EE", alias = "FE", alias = "CE")]
    #[serde(rename = "EE")]
    EE,
    /// DerSimonian & Laird (1986) method of moments.
    #[value(name = "DL")]
    DL,
    /// Restricted maximum likelihood (Viechtbauer 2005), metafor's default.
    #[value(name = "REML")]
    REML,
    /// Maximum likelihood (Hardy & Thompson 1996).
    #[value(name = "ML")]
    ML,
    /// Paule & Mandel (1982): the generalised Q equals its expectation.
    #[value(name = "PM")]
    PM,
    /// Hedges (1983) / Hedges & Olkin (1985) unweighted method of moments.
    #[value(name = "HE")]
    HE,
    /// Hunter & Schmidt (2004).
    #[value(name = "HS")]
    HS,
    /// Sidik & Jonkman (2005).
    #[value(name = "SJ")]
    SJ,
    /// Empirical Bayes (Morris 1983; Berkey et al. 1995).
    #[value(name = "EB")]
    EB,
}

impl Method {
    /// All estimators, in the order metafor's documentation lists them.
    pub const ALL: [Method; 9] = [
        Method::EE,
        Method::DL,
        Method::REML,
        Method::ML,
        Method::PM,
        Method::HE,
        Method::HS,
        Method::SJ,
        Method::EB,
    ];

    /// metafor's name of the estimator.
    pub fn name(self) -> &'static str {
        match self {
            Method::EE => "EE",
            Method::DL => "DL",
            Method::REML => "REML",
            Method::ML => "ML",
            Method::PM => "PM",
            Method::HE => "HE",
            Method::HS => "HS",
            Method::SJ => "SJ",
            Method::EB => "EB",
        }
    }

    /// Parses a metafor name (case-insensitive; `FE` and `CE` mean `EE`).
    pub fn parse(name: &str) -> Option<Method> {
        let upper = name.to_ascii_uppercase();
        match upper.as_str() {
            "FE" | "CE" => Some(Method::EE),
            _ => Method::ALL.into_iter().find(|m| m.name() == upper),
        }
    }

    /// Whether the estimator iterates (and so can fail to converge).
    pub fn is_iterative(self) -> bool {
        matches!(self, Method::REML | Method::ML | Method::EB | Method::PM)
    }
}

/// Control settings of the iterative estimators (metafor's `control=` list),
/// and the estimator to fall back on when the chosen one fails.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Control {
    /// Stop Fisher scoring when τ² changes by less than this (metafor `threshold`, 1e-5).
    pub threshold: f64,
    /// Maximum number of iterations (metafor `maxiter`, 100).
    pub max_iter: usize,
    /// Tolerance of the Paule-Mandel root search and of the ML/REML check
    /// that τ² = 0 is not better (metafor `tol`, `.Machine$double.eps^0.25`).
    pub tol: f64,
    /// Estimator to use when the chosen one does not converge or finds no
    /// root, as metafor's `method = c("REML", "DL")` does. `None`: failure is an error.
    pub fallback: Option<Method>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            threshold: 1e-5,
            max_iter: 100,
            tol: R_UNIROOT_TOL,
            fallback: None,
        }
    }
}

/// How an estimate of τ² was reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Convergence {
    /// Iterations used (0 for closed-form estimators).
    pub iterations: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
    /// The last change in τ² (Fisher scoring) or the half-width of the last
    /// bracket around the root (PM); 0 for closed forms.
    pub final_change: f64,
    /// ML/REML only: τ² was set to 0 because the likelihood was higher there
    /// (metafor's `ll0check`).
    pub reset_to_zero: bool,
    /// The negative value a closed-form estimator (DL, HE, HS) gave before
    /// τ² was truncated at 0, as metafor does; `None` when nothing was truncated.
    pub truncated_from: Option<f64>,
    /// The estimator that was asked for and failed, when τ² comes from the
    /// fallback estimator instead.
    pub fallback_from: Option<Fallback>,
}

impl Convergence {
    /// The record of a closed-form estimate: no iterations, nothing truncated.
    pub fn closed_form() -> Convergence {
        Convergence {
            iterations: 0,
            converged: true,
            final_change: 0.0,
            reset_to_zero: false,
            truncated_from: None,
            fallback_from: None,
        }
    }
}

/// An estimator that failed, and why; the fallback estimator was used instead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fallback {
    /// The estimator that failed.
    pub method: Method,
    /// Its failure.
    pub error: Tau2Error,
}

impl Serialize for Fallback {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Fallback", 2)?;
        out.serialize_field("method", &self.method)?;
        out.serialize_field("reason", &self.error.reason())?;
        out.end()
    }
}

/// Why τ² could not be estimated.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Tau2Error {
    /// The model matrix is singular.
    #[error(transparent)]
    Singular(#[from] SingularDesign),
    /// An iterative estimator ran out of iterations.
    #[error(
        "the {method} estimator {}; raise the limit with --max-iter, choose another estimator (e.g. --method {}), or pass --fallback DL to use DL whenever {method} fails",
        self.reason(),
        if *method == "PM" { "REML or --method DL" } else { "DL or --method PM" }
    )]
    NotConverged {
        /// The estimator.
        method: &'static str,
        /// The iteration limit it reached.
        max_iter: usize,
        /// The last change in τ² (Fisher scoring) or the half-width of the last bracket (PM).
        last_change: f64,
    },
    /// Paule-Mandel found no root below the upper bound.
    #[error(
        "the PM estimator {}: the data are extremely heterogeneous; try --method REML or --method DL, or --fallback DL",
        self.reason()
    )]
    NoRoot {
        /// The upper end of the search interval.
        upper: f64,
    },
}

impl Tau2Error {
    /// What went wrong, without the remedies.
    pub fn reason(&self) -> String {
        match self {
            Tau2Error::Singular(e) => e.to_string(),
            Tau2Error::NotConverged {
                max_iter,
                last_change,
                ..
            } => format!(
                "did not converge within {max_iter} iteration{} (last change in tau^2: {})",
                if *max_iter == 1 { "" } else { "s" },
                if last_change.abs() >= 1e-2 {
                    format!("{last_change:.4}")
                } else {
                    format!("{last_change:.3e}")
                }
            ),
            Tau2Error::NoRoot { upper } => {
                format!("found no root of the generalised Q statistic below tau^2 = {upper}")
            }
        }
    }
}

/// The data an estimator sees: outcomes, sampling variances and the design.
#[derive(Debug, Clone, Copy)]
pub struct Problem<'a> {
    /// Mean-centred outcomes (metafor's `Ymc`).
    pub yc: &'a [f64],
    /// Sampling variances.
    pub vi: &'a [f64],
    /// The k×p model matrix.
    pub x: &'a DMatrix<f64>,
}

impl Problem<'_> {
    fn k(&self) -> f64 {
        self.vi.len() as f64
    }
    fn p(&self) -> f64 {
        self.x.ncols() as f64
    }
    fn weights(&self, tau2: f64) -> Vec<f64> {
        self.vi.iter().map(|v| 1.0 / (v + tau2)).collect()
    }
    /// Generalised Q: y'P(τ²)y with weights 1/(vᵢ + τ²).
    pub fn generalised_q(&self, tau2: f64) -> Result<f64, SingularDesign> {
        let w = self.weights(tau2);
        Ok(Wls::fit(self.x, self.yc, &w)?.rss(&w))
    }
}

/// Estimates τ² with `method`. The result is truncated at 0, as in metafor.
pub fn estimate(
    method: Method,
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let closed = |tau2: f64| {
        let convergence = Convergence {
            truncated_from: (tau2 < 0.0).then_some(tau2),
            ..Convergence::closed_form()
        };
        (tau2.max(0.0), convergence)
    };
    Ok(match method {
        Method::EE => closed(0.0),
        Method::DL => closed(dersimonian_laird(problem)?),
        Method::HE => closed(hedges(problem)?),
        Method::HS => closed(hunter_schmidt(problem)?),
        Method::SJ => closed(sidik_jonkman(problem)?),
        Method::PM => paule_mandel(problem, control)?,
        Method::ML | Method::REML | Method::EB => fisher_scoring(method, problem, control)?,
    })
}

/// DerSimonian-Laird: τ² = (Q − (k − p)) / tr(P), with weights 1/vᵢ.
pub fn dersimonian_laird(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let w = problem.weights(0.0);
    let fit = Wls::fit(problem.x, problem.yc, &w)?;
    let tr_p = trace_p(problem.x, &w, &fit.xtwx_inv);
    Ok((fit.rss(&w) - (problem.k() - problem.p())) / tr_p)
}

/// Hedges: τ² = (RSS_OLS − tr(P₀V)) / (k − p), with P₀ the unweighted residual maker.
///
/// tr(P₀V) = Σ vᵢ − tr((X'X)⁻¹ X'VX).
pub fn hedges(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let ones = vec![1.0; problem.vi.len()];
    let fit = Wls::fit(problem.x, problem.yc, &ones)?;
    let xtvx = cross_weighted(problem.x, |i| problem.vi[i]);
    let tr_pv = problem.vi.iter().sum::<f64>() - (&fit.xtwx_inv * xtvx).trace();
    Ok((fit.rss(&ones) - tr_pv) / (problem.k() - problem.p()))
}

/// Hunter-Schmidt: τ² = (Q − k) / Σ wᵢ, with weights 1/vᵢ.
pub fn hunter_schmidt(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let w = problem.weights(0.0);
    let fit = Wls::fit(problem.x, problem.yc, &w)?;
    Ok((fit.rss(&w) - problem.k()) / w.iter().sum::<f64>())
}

/// Sidik-Jonkman: τ₀² = Σ(yᵢ − ȳ)²/k, then τ² = τ₀² · y'P(τ₀²)y / (k − p).
pub fn sidik_jonkman(problem: &Problem<'_>) -> Result<f64, SingularDesign> {
    let tau2_0 = problem.yc.iter().map(|y| y * y).sum::<f64>() / problem.k();
    Ok(tau2_0 * problem.generalised_q(tau2_0)? / (problem.k() - problem.p()))
}

/// Paule-Mandel: the τ² at which the generalised Q equals k − p.
///
/// Searched on [0, max(100, 10·MAD(y)²)] with R's `uniroot()` settings, as metafor does.
pub fn paule_mandel(
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let target = problem.k() - problem.p();
    let upper = 100f64.max(10.0 * mad(problem.yc).powi(2));
    let f_lower = problem.generalised_q(0.0)? - target;
    if f_lower < 0.0 {
        return Ok((0.0, Convergence::closed_form()));
    }
    let f_upper = problem.generalised_q(upper)? - target;
    if f_upper > 0.0 {
        return Err(Tau2Error::NoRoot { upper });
    }
    let mut singular = None;
    let root = zeroin(
        |tau2| match problem.generalised_q(tau2) {
            Ok(q) => q - target,
            Err(e) => {
                singular = Some(e);
                0.0
            }
        },
        0.0,
        upper,
        f_lower,
        f_upper,
        control.tol,
        control.max_iter,
    );
    if let Some(e) = singular {
        return Err(e.into());
    }
    let root = root.map_err(|last| Tau2Error::NotConverged {
        method: "PM",
        max_iter: control.max_iter,
        last_change: last.precision,
    })?;
    Ok((
        root.x.max(0.0),
        Convergence {
            iterations: root.iterations,
            final_change: root.precision,
            ..Convergence::closed_form()
        },
    ))
}

/// Median absolute deviation scaled for consistency at the normal, as R's `mad()`.
fn mad(y: &[f64]) -> f64 {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return 0.0;
        }
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    };
    let mut values = y.to_vec();
    let centre = median(&mut values);
    let mut deviations: Vec<f64> = y.iter().map(|v| (v - centre).abs()).collect();
    1.4826 * median(&mut deviations)
}

/// Fisher scoring for ML, REML and EB, started at the Hedges estimate.
///
/// Updates (with W = diag(1/(vᵢ + τ²))):
/// * ML: Δ = (y'PPy − Σwᵢ) / Σwᵢ²;
/// * REML: Δ = (y'PPy − tr P) / tr PP;
/// * EB: Δ = (y'Py · k/(k − p) − k) / Σwᵢ.
///
/// A step that would make τ² negative is halved until it does not. Iteration
/// stops when |Δτ²| < threshold; more than `max_iter` iterations is failure.
fn fisher_scoring(
    method: Method,
    problem: &Problem<'_>,
    control: &Control,
) -> Result<(f64, Convergence), Tau2Error> {
    let (k, p) = (problem.k(), problem.p());
    let mut tau2 = hedges(problem)?.max(0.0);
    let mut change = control.threshold + 1.0;
    let mut iterations = 0;
    while change > control.threshold {
        iterations += 1;
        let w = problem.weights(tau2);
        let fit = Wls::fit(problem.x, problem.yc, &w)?;
        let mut adj = match method {
            Method::ML => {
                let sum_w: f64 = w.iter().sum();
                let sum_w2: f64 = w.iter().map(|v| v * v).sum();
                (fit.rss_pp(&w) - sum_w) / sum_w2
            }
            Method::REML => {
                let (tr_p, tr_pp) = traces(problem.x, &w, &fit.xtwx_inv);
                (fit.rss_pp(&w) - tr_p) / tr_pp
            }
            _ => (fit.rss(&w) * k / (k - p) - k) / w.iter().sum::<f64>(),
        };
        // metafor sets a NaN step to 0. An infinite step (weights that
        // overflowed) is treated the same way: halving it would never end.
        if !adj.is_finite() {
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
                max_iter: control.max_iter,
                last_change: change,
            });
        }
    }
    let mut reset_to_zero = false;
    if matches!(method, Method::ML | Method::REML)
        && tau2 > control.threshold
        && log_likelihood(method, problem, 0.0)? - log_likelihood(method, problem, tau2)?
            > control.tol
    {
        tau2 = 0.0;
        reset_to_zero = true;
    }
    Ok((
        tau2.max(0.0),
        Convergence {
            iterations,
            final_change: change,
            reset_to_zero,
            ..Convergence::closed_form()
        },
    ))
}

/// The ML or REML log-likelihood at τ² (up to what metafor's `ll0check` compares).
fn log_likelihood(method: Method, problem: &Problem<'_>, tau2: f64) -> Result<f64, SingularDesign> {
    let (k, p) = (problem.k(), problem.p());
    let w = problem.weights(tau2);
    let fit = Wls::fit(problem.x, problem.yc, &w)?;
    let sum_log_v: f64 = problem.vi.iter().map(|v| (v + tau2).ln()).sum();
    let two_pi = 2.0 * std::f64::consts::PI;
    Ok(match method {
        Method::ML => -0.5 * k * two_pi.ln() - 0.5 * sum_log_v - 0.5 * fit.rss(&w),
        _ => {
            let log_det = log_det_spd(&cross_weighted(problem.x, |i| w[i]))?;
            -0.5 * (k - p) * two_pi.ln() - 0.5 * sum_log_v - 0.5 * log_det - 0.5 * fit.rss(&w)
        }
    })
}

/// log det of a symmetric positive definite matrix.
pub fn log_det_spd(m: &DMatrix<f64>) -> Result<f64, SingularDesign> {
    let chol = nalgebra::Cholesky::new(m.clone()).ok_or(SingularDesign)?;
    Ok(2.0 * chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>())
}
