//! The (restricted) log-likelihood of a location-scale model as a function
//! of the scale coefficients α, with β profiled out by weighted least
//! squares, and its exact gradient and Hessian (metafor's `.ll.rma.ls` with
//! `optbeta = FALSE`, `link = "log"`).
//!
//! With τ²ᵢ = exp(zᵢ'α), Vᵢ = vᵢ + τ²ᵢ, wᵢ = 1/Vᵢ, C = (X'WX)⁻¹,
//! P = W − WXCX'W and the weighted residuals e = Py = W(y − Xβ̂):
//!
//! * ML: ℓ = −k/2·ln 2π − ½Σ ln Vᵢ − ½ y'Py;
//! * REML: ℓ = −(k − p)/2·ln 2π + ½ ln|X'X| − ½Σ ln Vᵢ − ½ ln|X'WX| − ½ y'Py.
//!
//! With dᵢⱼ = ∂Vᵢ/∂αⱼ = zᵢⱼτ²ᵢ and dᵢⱼₗ = zᵢⱼzᵢₗτ²ᵢ, and A = W (ML) or P
//! (REML), the derivatives are (Harville 1977; Searle, Casella & McCulloch
//! 1992, ch. 6)
//!
//! * ∂ℓ/∂αⱼ = −½ tr(A Dⱼ) + ½ Σᵢ dᵢⱼ eᵢ²;
//! * ∂²ℓ/∂αⱼ∂αₗ = −½ tr(A Dⱼₗ) + ½ tr(A Dⱼ A Dₗ) + ½ Σᵢ dᵢⱼₗ eᵢ² − (Dⱼe)'P(Dₗe).
//!
//! Nothing here forms a k × k matrix: diag(P) and tr(P Dⱼ P Dₗ) come from
//! X, W and C (O(k·p²) per pair), so large k stays cheap.

use nalgebra::{DMatrix, DVector};

use crate::model::wls::{SingularDesign, cross_weighted, invert_spd, log_det_spd};

/// The data of a location-scale model: outcomes, sampling variances, the
/// location model matrix X (k × p) and the scale model matrix Z (k × q).
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    /// Outcomes yᵢ.
    pub yi: &'a [f64],
    /// Sampling variances vᵢ.
    pub vi: &'a [f64],
    /// Location model matrix.
    pub x: &'a DMatrix<f64>,
    /// Scale model matrix.
    pub z: &'a DMatrix<f64>,
    /// REML (true) or ML.
    pub reml: bool,
}

/// Everything the model gives at one α.
#[derive(Debug, Clone)]
pub struct AtAlpha {
    /// τ²ᵢ = exp(zᵢ'α).
    pub tau2: Vec<f64>,
    /// wᵢ = 1/(vᵢ + τ²ᵢ).
    pub w: Vec<f64>,
    /// β̂ = C X'Wy.
    pub beta: DVector<f64>,
    /// C = (X'WX)⁻¹, the variance of β̂.
    pub c: DMatrix<f64>,
    /// Σ wᵢ(yᵢ − xᵢ'β̂)².
    pub rss: f64,
    /// The log-likelihood (REML or ML, with all constants).
    pub log_lik: f64,
}

impl Problem<'_> {
    fn k(&self) -> usize {
        self.yi.len()
    }

    /// The model at α; `Err` when X'WX is singular.
    pub fn at(&self, alpha: &DVector<f64>) -> Result<AtAlpha, SingularDesign> {
        let tau2: Vec<f64> = (self.z * alpha).iter().map(|s| s.exp()).collect();
        let w: Vec<f64> = self
            .vi
            .iter()
            .zip(&tau2)
            .map(|(v, t)| 1.0 / (v + t))
            .collect();
        if w.iter().any(|w| !w.is_finite()) {
            return Err(SingularDesign);
        }
        let xtwx = cross_weighted(self.x, |i| w[i]);
        let log_det_xtwx = log_det_spd(&xtwx)?;
        let c = invert_spd(xtwx)?;
        let xtwy = self.x.tr_mul(&DVector::from_iterator(
            self.k(),
            (0..self.k()).map(|i| w[i] * self.yi[i]),
        ));
        let beta = &c * xtwy;
        let fitted = self.x * &beta;
        let rss: f64 = (0..self.k())
            .map(|i| w[i] * (self.yi[i] - fitted[i]).powi(2))
            .sum();
        let k = self.k() as f64;
        let p = self.x.ncols() as f64;
        let sum_log_v: f64 = w.iter().map(|w| -w.ln()).sum();
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        let log_lik = if self.reml {
            let log_det_xtx = log_det_spd(&self.x.tr_mul(self.x))?;
            -0.5 * (k - p) * ln_2pi + 0.5 * log_det_xtx
                - 0.5 * sum_log_v
                - 0.5 * log_det_xtwx
                - 0.5 * rss
        } else {
            -0.5 * k * ln_2pi - 0.5 * sum_log_v - 0.5 * rss
        };
        Ok(AtAlpha {
            tau2,
            w,
            beta,
            c,
            rss,
            log_lik,
        })
    }

    /// The gradient and Hessian of ℓ in α at the model `m` (formulas in the
    /// module documentation).
    pub fn derivatives(&self, m: &AtAlpha) -> (DVector<f64>, DMatrix<f64>) {
        let (k, q) = (self.k(), self.z.ncols());
        let xrow = |i: usize| self.x.row(i).transpose();
        // hᵢ = xᵢ'Cxᵢ; diag(P)ᵢ = wᵢ − wᵢ²hᵢ.
        let h: Vec<f64> = (0..k)
            .map(|i| {
                let xi = xrow(i);
                (xi.transpose() * &m.c * &xi)[(0, 0)]
            })
            .collect();
        let a_diag: Vec<f64> = (0..k)
            .map(|i| {
                if self.reml {
                    m.w[i] - m.w[i] * m.w[i] * h[i]
                } else {
                    m.w[i]
                }
            })
            .collect();
        let fitted = self.x * &m.beta;
        let e: Vec<f64> = (0..k).map(|i| m.w[i] * (self.yi[i] - fitted[i])).collect();
        let d = |i: usize, j: usize| self.z[(i, j)] * m.tau2[i];
        let mut gradient = DVector::zeros(q);
        for j in 0..q {
            gradient[j] = (0..k)
                .map(|i| d(i, j) * (-0.5 * a_diag[i] + 0.5 * e[i] * e[i]))
                .sum();
        }
        // For REML: Aⱼ = Σ wᵢ² dᵢⱼ xᵢxᵢ', so that the cross term of
        // tr(P Dⱼ P Dₗ) is tr(C Aⱼ C Aₗ).
        let c_a: Vec<DMatrix<f64>> = if self.reml {
            (0..q)
                .map(|j| &m.c * cross_weighted(self.x, |i| m.w[i] * m.w[i] * d(i, j)))
                .collect()
        } else {
            Vec::new()
        };
        // u ↦ X'Wu for the quadratic forms (Dⱼe)'P(Dₗe).
        let de: Vec<DVector<f64>> = (0..q)
            .map(|j| DVector::from_iterator(k, (0..k).map(|i| d(i, j) * e[i])))
            .collect();
        let xtw_de: Vec<DVector<f64>> = de
            .iter()
            .map(|u| {
                self.x
                    .tr_mul(&DVector::from_iterator(k, (0..k).map(|i| m.w[i] * u[i])))
            })
            .collect();
        let mut hessian = DMatrix::zeros(q, q);
        for j in 0..q {
            for l in j..q {
                let mut value = 0.0;
                let mut trace = 0.0;
                let mut quad = 0.0;
                for i in 0..k {
                    let djl = self.z[(i, j)] * self.z[(i, l)] * m.tau2[i];
                    value += djl * (-0.5 * a_diag[i] + 0.5 * e[i] * e[i]);
                    let (dj, dl, w) = (d(i, j), d(i, l), m.w[i]);
                    trace += if self.reml {
                        w * w * dj * dl - 2.0 * w * w * w * h[i] * dj * dl
                    } else {
                        w * w * dj * dl
                    };
                    quad += w * de[j][i] * de[l][i];
                }
                if self.reml {
                    trace += (&c_a[j] * &c_a[l]).trace();
                }
                quad -= (xtw_de[j].transpose() * &m.c * &xtw_de[l])[(0, 0)];
                value += 0.5 * trace - quad;
                hessian[(j, l)] = value;
                hessian[(l, j)] = value;
            }
        }
        (gradient, hessian)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic gradient and Hessian agree with central differences of ℓ.
    #[test]
    fn derivatives_match_finite_differences() {
        let yi = [0.1, -0.3, 0.5, 0.2, 0.9, -0.1, 0.4];
        let vi = [0.04, 0.09, 0.05, 0.02, 0.1, 0.03, 0.06];
        let x = DMatrix::from_fn(7, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        let z = DMatrix::from_fn(7, 2, |i, j| if j == 0 { 1.0 } else { (i % 3) as f64 });
        for reml in [false, true] {
            let problem = Problem {
                yi: &yi,
                vi: &vi,
                x: &x,
                z: &z,
                reml,
            };
            let alpha = DVector::from_vec(vec![-2.0, 0.4]);
            let (g, h) = problem.derivatives(&problem.at(&alpha).unwrap());
            let ll = |a: &DVector<f64>| problem.at(a).unwrap().log_lik;
            let step = 1e-5;
            for j in 0..2 {
                let mut up = alpha.clone();
                up[j] += step;
                let mut down = alpha.clone();
                down[j] -= step;
                let numeric = (ll(&up) - ll(&down)) / (2.0 * step);
                assert!(
                    (numeric - g[j]).abs() < 1e-7,
                    "g[{j}] {numeric} vs {}",
                    g[j]
                );
                let (gu, _) = problem.derivatives(&problem.at(&up).unwrap());
                let (gd, _) = problem.derivatives(&problem.at(&down).unwrap());
                for l in 0..2 {
                    let numeric = (gu[l] - gd[l]) / (2.0 * step);
                    assert!(
                        (numeric - h[(l, j)]).abs() < 1e-6,
                        "H[{l},{j}] {numeric} vs {} (reml {reml})",
                        h[(l, j)]
                    );
                }
            }
        }
    }
}
