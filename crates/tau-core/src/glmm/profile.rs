//! The profile log-likelihood of the two-group model with fixed study
//! effects (metafor's `model = "UM.FS"`, [`super::odds_ratios`]) and its
//! derivatives.
//!
//! ℓₚ(β, τ) = Σᵢ maxₐ log Lᵢ(α, xᵢ'β, τ), each study's log Lᵢ the 7-point
//! adaptive Gauss-Hermite quadrature of [`super::agq`] with its exact
//! gradient ([`agq::log_marginal_gradient`]). Each intercept α̂ᵢ is found by
//! Newton's method on that gradient, started where the last evaluation
//! left it. By the envelope theorem the gradient of ℓₚ in (β, τ) is the
//! partial gradient at the α̂ᵢ. Its Hessian is the Schur complement of the
//! full Hessian over (α₁ … α_k, β, τ), which is block-arrow shaped (αᵢ
//! enters study i only): H_θθ − Σᵢ H_θαᵢ H_αᵢθ / H_αᵢαᵢ, each study's 3×3
//! block over (αᵢ, ηᵢ = xᵢ'β, τ) by central differences of its exact
//! gradient.

use std::cell::RefCell;

use super::agq::{self, Marginal};
use super::odds_ratios::Arms;
use super::one_group::linear_predictors;

/// The profile of the tables with model rows `x` (the treatment effect
/// xᵢ'β), remembering the intercepts of the last evaluation.
pub(super) struct Profile<'a> {
    tables: &'a [Arms],
    x: &'a [Vec<f64>],
    alphas: RefCell<Vec<f64>>,
}

/// The study's log-likelihood at (α, η, τ) with its gradient.
fn study(t: &Arms, alpha: f64, eta: f64, tau: f64) -> Marginal {
    agq::log_marginal_gradient(&t.observations(alpha, eta), tau)
}

/// The intercept that maximises the study's likelihood at (η, τ), from
/// `start`: Newton steps along the exact derivative, halved while they
/// lower the likelihood.
fn best_intercept(t: &Arms, eta: f64, tau: f64, start: f64) -> (f64, Marginal) {
    let mut alpha = start;
    let mut m = study(t, alpha, eta, tau);
    for _ in 0..100 {
        let slope = m.d_a[0] + m.d_a[1];
        let mut step = -slope / m.curvature;
        if !step.is_finite() {
            step = slope.signum();
        }
        if step.abs() <= 1e-11 * (1.0 + alpha.abs()) {
            break;
        }
        let mut next = study(t, alpha + step, eta, tau);
        // Close to the maximum the likelihood changes below its rounding:
        // there the Newton step is taken as it is.
        if step.abs() <= 1e-6 * (1.0 + alpha.abs()) && next.value.is_finite() {
            alpha += step;
            m = next;
            continue;
        }
        let mut halvings = 0;
        while next.value.partial_cmp(&m.value).is_none_or(|o| o.is_lt()) && halvings < 60 {
            step *= 0.5;
            next = study(t, alpha + step, eta, tau);
            halvings += 1;
        }
        if halvings == 60 {
            break;
        }
        alpha += step;
        m = next;
    }
    (alpha, m)
}

impl<'a> Profile<'a> {
    pub(super) fn new(tables: &'a [Arms], x: &'a [Vec<f64>]) -> Profile<'a> {
        Profile {
            tables,
            x,
            alphas: RefCell::new(tables.iter().map(Arms::pooled_intercept).collect()),
        }
    }

    /// The intercepts of the last evaluation.
    pub(super) fn alphas(&self) -> Vec<f64> {
        self.alphas.borrow().clone()
    }

    /// ℓₚ(β, τ) and its gradient over (β, τ) (the τ entry 0 at τ = 0).
    pub(super) fn value_gradient(&self, beta: &[f64], tau: f64) -> (f64, Vec<f64>) {
        let p = beta.len();
        let mut value = 0.0;
        let mut gradient = vec![0.0; p + 1];
        let mut alphas = self.alphas.borrow_mut();
        let etas = linear_predictors(self.x, beta);
        for (i, (t, eta)) in self.tables.iter().zip(etas).enumerate() {
            // Warm from the last evaluation; cold (the pooled log odds)
            // where that start has drifted where the likelihood is flat.
            let cold = t.pooled_intercept() - eta / 2.0;
            let warm = alphas[i];
            let (alpha, m) = match warm.is_finite() && (warm - cold).abs() < 20.0 {
                true => match best_intercept(t, eta, tau, warm) {
                    (a, m) if m.curvature < 0.0 && (a - cold).abs() < 20.0 => (a, m),
                    _ => best_intercept(t, eta, tau, cold),
                },
                false => best_intercept(t, eta, tau, cold),
            };
            alphas[i] = alpha;
            value += m.value;
            for (g, xij) in gradient.iter_mut().zip(&self.x[i]) {
                *g += xij * m.d_a[0];
            }
            gradient[p] += m.d_tau;
        }
        (value, gradient)
    }

    /// The Hessian of ℓₚ over (β, τ), or over β alone where `with_tau` is
    /// false (the common-effect model, τ = 0), at the intercepts of the
    /// last evaluation, which must have been at (β, τ).
    pub(super) fn hessian(&self, beta: &[f64], tau: f64, with_tau: bool) -> Vec<Vec<f64>> {
        let p = beta.len();
        let q = p + usize::from(with_tau);
        let coordinates = if with_tau { 3 } else { 2 };
        let mut h = vec![vec![0.0; q]; q];
        let alphas = self.alphas.borrow();
        let etas = linear_predictors(self.x, beta);
        for (i, (t, eta)) in self.tables.iter().zip(etas).enumerate() {
            let point = [alphas[i], eta, tau];
            let gradient = |at: &[f64; 3]| {
                let m = study(t, at[0], at[1], at[2]);
                [m.d_a[0] + m.d_a[1], m.d_a[0], m.d_tau]
            };
            // The study's block over (α, η, τ).
            let mut block = [[0.0; 3]; 3];
            for c in 0..coordinates {
                let mut step = 1e-5 * (1.0 + point[c].abs());
                if c == 2 {
                    step = step.min(0.5 * tau);
                }
                let (mut up, mut down) = (point, point);
                up[c] += step;
                down[c] -= step;
                let (gu, gd) = (gradient(&up), gradient(&down));
                for r in 0..coordinates {
                    block[r][c] = (gu[r] - gd[r]) / (2.0 * step);
                }
            }
            for (r, c) in [(1, 0), (2, 0), (2, 1)] {
                let mean = 0.5 * (block[r][c] + block[c][r]);
                block[r][c] = mean;
                block[c][r] = mean;
            }
            // Its share of H_θθ − H_θα H_αθ / H_αα, θ = (β, τ).
            let row = &self.x[i];
            let along = |a: usize| -> (f64, usize) { if a < p { (row[a], 1) } else { (1.0, 2) } };
            for (a, h_row) in h.iter_mut().enumerate() {
                let (xa, ka) = along(a);
                for (b, cell) in h_row.iter_mut().enumerate() {
                    let (xb, kb) = along(b);
                    *cell += xa * xb * (block[ka][kb] - block[ka][0] * block[0][kb] / block[0][0]);
                }
            }
        }
        h
    }
}

impl super::maximum::Derivatives for Profile<'_> {
    fn value_gradient(&self, beta: &[f64], tau: f64) -> (f64, Vec<f64>) {
        Profile::value_gradient(self, beta, tau)
    }

    fn hessian(&self, beta: &[f64], tau: f64, with_tau: bool) -> Vec<Vec<f64>> {
        Profile::hessian(self, beta, tau, with_tau)
    }
}
