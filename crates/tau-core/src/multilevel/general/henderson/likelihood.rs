//! ℓ through the mixed-model equations: W, C = ZᵀW⁻¹Z + G⁻¹, its
//! factorisation and the generalised least-squares fit (see the module
//! above for the formulas).

use nalgebra::{DMatrix, DVector};

use super::gradient::GradientInputs;
use super::{EffectsKind, Henderson, Part, Values};
use crate::multilevel::general::equations::Assembly;
use crate::multilevel::general::likelihood::{Component, EvalError, Evaluation};
use crate::multilevel::general::spd::Factor;
use crate::multilevel::likelihood::LN_2PI;

impl Henderson {
    fn values(&self, components: &[Component], eta: &[f64]) -> Result<Vec<Values>, EvalError> {
        let mut next = 0;
        let mut out = Vec::with_capacity(self.parts.len());
        for (c, part) in components.iter().zip(&self.parts) {
            let n = c.n_params();
            let e = &eta[next..next + n];
            next += n;
            out.push(match (c, part) {
                (
                    Component::Structured { times, kind, .. },
                    Part::Effects {
                        kind: EffectsKind::Structured { outers, .. },
                        ..
                    },
                ) => {
                    let g = kind.matrix(times, e);
                    let dg: Vec<DMatrix<f64>> = (0..n)
                        .map(|j| {
                            // As the block likelihood: central differences of
                            // the small matrix G.
                            let h = 1e-6;
                            let mut plus = e.to_vec();
                            plus[j] += h;
                            let mut minus = e.to_vec();
                            minus[j] -= h;
                            (kind.matrix(times, &plus) - kind.matrix(times, &minus)) / (2.0 * h)
                        })
                        .collect();
                    let blocks = outers
                        .iter()
                        .map(|levels| {
                            let sub = |m: &DMatrix<f64>| {
                                DMatrix::from_fn(levels.len(), levels.len(), |a, b| {
                                    m[(levels[a], levels[b])]
                                })
                            };
                            let factor =
                                Factor::new(&sub(&g)).ok_or(EvalError::NotPositiveDefinite(0))?;
                            let g_inv = factor.inverse();
                            let g_inv_dg = dg.iter().map(|d| &g_inv * sub(d)).collect();
                            Ok((g_inv, g_inv_dg))
                        })
                        .collect::<Result<_, _>>()?;
                    Values::Structured { blocks, dg }
                }
                (Component::Sigma { fixed: false, .. }, _) => Values::Sigma(e[0].exp()),
                _ => Values::Sigma(0.0),
            });
        }
        Ok(out)
    }

    /// ℓ at `eta` (see [`super::likelihood::Problem::evaluate`]).
    pub fn evaluate(
        &self,
        components: &[Component],
        reml: bool,
        log_det_xtx: f64,
        eta: &[f64],
        gradient: bool,
    ) -> Result<Evaluation, EvalError> {
        let (k, p) = self.x.shape();
        let q = self.q;
        let values = self.values(components, eta)?;
        // W and its inverse.
        let mut w_diag = self.vi.clone();
        for (part, val) in self.parts.iter().zip(&values) {
            if let (Part::Diagonal, Values::Sigma(s)) = (part, val) {
                w_diag.iter_mut().for_each(|w| *w += s);
            }
        }
        if let Some(i) = w_diag.iter().position(|w| w.is_nan() || *w <= 0.0) {
            return Err(EvalError::NotPositiveDefinite(i));
        }
        let w: Vec<f64> = w_diag.iter().map(|d| 1.0 / d).collect();
        let log_det_w: f64 = w_diag.iter().map(|d| d.ln()).sum();
        // C = ZᵀW⁻¹Z + G⁻¹, log|G|.
        let mut c = Assembly::new(self.split, q);
        let mut log_det_g = 0.0;
        for (part, val) in self.parts.iter().zip(&values) {
            let Part::Effects {
                offset, size, kind, ..
            } = part
            else {
                continue;
            };
            let o = *offset;
            match (kind, val) {
                (EffectsKind::Independent, Values::Sigma(s)) => {
                    for a in 0..*size {
                        c.add(o + a, o + a, 1.0 / s);
                    }
                    log_det_g += *size as f64 * s.ln();
                }
                (EffectsKind::Known { r_inv, log_det_r }, Values::Sigma(s)) => {
                    c.add_block(o, r_inv, 1.0 / s);
                    log_det_g += *size as f64 * s.ln() + log_det_r;
                }
                (EffectsKind::Structured { .. }, Values::Structured { blocks, .. }) => {
                    let mut at = o;
                    for (g_inv, _) in blocks {
                        let n = g_inv.nrows();
                        for a in 0..n {
                            for b in 0..n {
                                c.add(at + a, at + b, g_inv[(a, b)]);
                            }
                        }
                        // log|G_o| = −log|G_o⁻¹|.
                        log_det_g -= Factor::new(g_inv)
                            .ok_or(EvalError::NotPositiveDefinite(0))?
                            .log_det();
                        at += n;
                    }
                }
                _ => {}
            }
        }
        let columns: Vec<&[usize]> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Effects { column, .. } => Some(column.as_slice()),
                _ => None,
            })
            .collect();
        // ZᵀW⁻¹[X y], XᵀW⁻¹[X y].
        let mut ztw_xy = DMatrix::<f64>::zeros(q, p + 1);
        let mut xtw_x = DMatrix::<f64>::zeros(p, p);
        let mut xtw_y = DVector::<f64>::zeros(p);
        for i in 0..k {
            let wi = w[i];
            for a in &columns {
                for b in &columns {
                    c.add(a[i], b[i], wi);
                }
                for j in 0..p {
                    ztw_xy[(a[i], j)] += wi * self.x[(i, j)];
                }
                ztw_xy[(a[i], p)] += wi * self.y[i];
            }
            for j in 0..p {
                let xij = wi * self.x[(i, j)];
                xtw_y[j] += xij * self.y[i];
                for l in 0..p {
                    xtw_x[(j, l)] += xij * self.x[(i, l)];
                }
            }
        }
        let mut factor = c.factorise().ok_or(EvalError::NotPositiveDefinite(0))?;
        let log_det_m = log_det_w + log_det_g + factor.log_det();
        // S = C⁻¹ ZᵀW⁻¹[X y].
        let s = factor.solve(&ztw_xy);
        let s_x = s.columns(0, p);
        let s_y = s.column(p);
        let ztw_x = ztw_xy.columns(0, p);
        let ztw_y = ztw_xy.column(p);
        let a_mat = &xtw_x - ztw_x.transpose() * s_x;
        let c_vec = &xtw_y - ztw_x.transpose() * s_y;
        let a_chol = nalgebra::Cholesky::new(a_mat).ok_or(EvalError::Singular)?;
        let log_det_a = 2.0 * a_chol.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let vcov = a_chol.inverse();
        let beta = &vcov * c_vec;
        // r, t = C⁻¹ ZᵀW⁻¹r, M⁻¹r = W⁻¹(r − Z t).
        let r = &self.y - &self.x * &beta;
        let ztw_r = ztw_y - ztw_x * &beta;
        let t = s_y - s_x * &beta;
        let mut m_inv_r: Vec<f64> = r.iter().zip(&w).map(|(r, w)| r * w).collect();
        for a in &columns {
            for i in 0..k {
                m_inv_r[i] -= w[i] * t[a[i]];
            }
        }
        let rss = r.iter().zip(&w).map(|(r, w)| r * r * w).sum::<f64>() - ztw_r.dot(&t);
        let gradient_out = if gradient {
            if self.diagonal_inverse {
                factor.invert_diagonal();
            } else {
                factor.invert();
            }
            self.gradient(
                &values,
                reml,
                &factor,
                &w,
                &columns,
                GradientInputs {
                    s_x: &s_x.into_owned(),
                    t: &t,
                    m_inv_r: &m_inv_r,
                    vcov: &vcov,
                },
                eta.len(),
            )
        } else {
            Vec::new()
        };
        let k = k as f64;
        let ll_ml = -0.5 * (k * LN_2PI + log_det_m + rss);
        let ll = if reml {
            -0.5 * ((k - p as f64) * LN_2PI - log_det_xtx + log_det_m + log_det_a + rss)
        } else {
            ll_ml
        };
        Ok(Evaluation {
            ll,
            ll_ml,
            beta,
            vcov,
            rss,
            log_det_m,
            gradient: gradient_out,
        })
    }
}
