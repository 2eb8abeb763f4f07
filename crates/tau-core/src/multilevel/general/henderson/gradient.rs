//! The gradient of ℓ through the mixed-model equations (see the module
//! above for the formulas): the traces read single entries of C⁻¹.

use nalgebra::{DMatrix, DVector};

use super::{EffectsKind, Henderson, Part, Values};
use crate::multilevel::general::equations::Equations;

impl Henderson {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn gradient(
        &self,
        values: &[Values],
        reml: bool,
        factor: &Equations,
        w: &[f64],
        columns: &[&[usize]],
        inputs: GradientInputs<'_>,
        n_params: usize,
    ) -> Vec<f64> {
        let GradientInputs {
            s_x,
            t,
            m_inv_r,
            vcov,
        } = inputs;
        let (k, p) = self.x.shape();
        let c_inv = |a: usize, b: usize| factor.inverse_entry(a, b);
        let mut out = Vec::with_capacity(n_params);
        // tr(A⁻¹ Bᵀ D B) for a q × q pattern D given blockwise.
        let reml_term = |b: &DMatrix<f64>, d_b: &DMatrix<f64>| -> f64 {
            if reml {
                (b.transpose() * d_b).component_mul(vcov).sum()
            } else {
                0.0
            }
        };
        // Only needed for σ² on W's diagonal: M⁻¹X = W⁻¹(X − Z S_x).
        let diagonal_terms = self
            .parts
            .iter()
            .any(|p| matches!(p, Part::Diagonal))
            .then(|| {
                let mut m_inv_x = self.x.clone();
                for i in 0..k {
                    for a in columns {
                        for j in 0..p {
                            m_inv_x[(i, j)] -= s_x[(a[i], j)];
                        }
                    }
                    for j in 0..p {
                        m_inv_x[(i, j)] *= w[i];
                    }
                }
                let mut trace_m_inv: f64 = w.iter().sum();
                for i in 0..k {
                    let mut s = 0.0;
                    for a in columns {
                        for b in columns {
                            s += c_inv(a[i], b[i]);
                        }
                    }
                    trace_m_inv -= w[i] * w[i] * s;
                }
                let xm2x = m_inv_x.transpose() * &m_inv_x;
                let reml_part = if reml {
                    xm2x.component_mul(vcov).sum()
                } else {
                    0.0
                };
                let rr: f64 = m_inv_r.iter().map(|v| v * v).sum();
                rr - trace_m_inv + reml_part
            });
        for (part, val) in self.parts.iter().zip(values) {
            match (part, val) {
                (Part::Fixed, _) => {}
                (Part::Diagonal, Values::Sigma(s)) => {
                    out.push(0.5 * s * diagonal_terms.unwrap_or(0.0));
                }
                (
                    Part::Effects {
                        offset, size, kind, ..
                    },
                    val,
                ) => {
                    let (o, n) = (*offset, *size);
                    let t_c = t.rows(o, n);
                    let s_c = s_x.rows(o, n);
                    match (kind, val) {
                        (EffectsKind::Independent, Values::Sigma(s)) => {
                            // u = t/σ, B = S/σ, ∂G = σ I.
                            let uu = t_c.norm_squared() / s;
                            let b = s_c.into_owned() / *s;
                            let reml_part = reml_term(&b, &(&b * *s));
                            let trace: f64 = (o..o + n).map(|a| c_inv(a, a)).sum();
                            out.push(0.5 * (uu - n as f64 + trace / s + reml_part));
                        }
                        (EffectsKind::Known { r_inv, .. }, Values::Sigma(s)) => {
                            // u = R⁻¹t/σ, ∂G = σR: uᵀ∂Gu = tᵀR⁻¹t/σ.
                            let uu = t_c.dot(&(r_inv * t_c)) / s;
                            let b = r_inv * s_c / *s;
                            let reml_part = reml_term(&b, &(s_c.into_owned()));
                            out.push(
                                0.5 * (uu + reml_part - self.known_trace(factor, r_inv, *s, o)),
                            );
                        }
                        (
                            EffectsKind::Structured { outers, .. },
                            Values::Structured { blocks, dg },
                        ) => {
                            for (j, d_full) in dg.iter().enumerate() {
                                let mut total = 0.0;
                                let mut at = o;
                                for (levels, (g_inv, g_inv_dg)) in outers.iter().zip(blocks) {
                                    let m = levels.len();
                                    let d = DMatrix::from_fn(m, m, |a, b| {
                                        d_full[(levels[a], levels[b])]
                                    });
                                    let u = g_inv * t.rows(at, m);
                                    let b = g_inv * s_x.rows(at, m);
                                    let inner = &g_inv_dg[j] * g_inv;
                                    let c_oo = DMatrix::from_fn(m, m, |a, b| c_inv(at + a, at + b));
                                    total += u.dot(&(&d * &u)) - g_inv_dg[j].trace()
                                        + c_oo.component_mul(&inner).sum()
                                        + reml_term(&b, &(&d * &b));
                                    at += m;
                                }
                                out.push(0.5 * total);
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        out
    }
}

impl Henderson {
    /// n − tr((C⁻¹)ₒₒ R⁻¹)/σ² for the known correlation R of order n at
    /// columns `o..o + n`. Where R fills block (2) alone and S = R⁻¹/σ² + E
    /// with E diagonal ([`super::reads_diagonal_only`]), this is
    /// tr(S⁻¹E) = Σₗ (S⁻¹)ₗₗ Eₗₗ, with Eₗₗ = Sₗₗ − (R⁻¹)ₗₗ/σ²; otherwise
    /// the sum over the whole block.
    fn known_trace(&self, factor: &Equations, r_inv: &DMatrix<f64>, sigma2: f64, o: usize) -> f64 {
        let n = r_inv.nrows();
        if self.diagonal_inverse {
            let s = factor.schur_diagonal();
            return (0..n)
                .map(|l| factor.schur_inverse_diagonal(l) * (s[l] - r_inv[(l, l)] / sigma2))
                .sum();
        }
        let block = DMatrix::from_fn(n, n, |a, b| factor.inverse_entry(o + a, o + b));
        n as f64 - block.component_mul(r_inv).sum() / sigma2
    }
}

pub(super) struct GradientInputs<'a> {
    pub s_x: &'a DMatrix<f64>,
    pub t: &'a DVector<f64>,
    pub m_inv_r: &'a [f64],
    pub vcov: &'a DMatrix<f64>,
}
