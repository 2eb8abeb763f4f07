//! The likelihood of a general `rma.mv` model through Henderson's
//! mixed-model equations, for models whose marginal covariance links many
//! effect sizes into one block (crossed terms, a phylogeny), where the
//! dense k × k factorisation of [`super::likelihood`] is out of reach.
//!
//! Write M = W + Z G Zᵀ, with W diagonal (the sampling variances plus every
//! σ² of a term whose levels each hold one effect size, `~ 1 | es`), Z the
//! 0/1 incidence of the effect sizes on the q random effects of the other
//! terms, and G their covariance (σ² I, σ² R for a known correlation R, or
//! one structured block per outer level). With the q × q matrix
//! C = ZᵀW⁻¹Z + G⁻¹ (Henderson 1975; Searle, Casella & McCulloch 1992, §7.6):
//!
//! * M⁻¹ = W⁻¹ − W⁻¹ Z C⁻¹ Zᵀ W⁻¹ (Woodbury) and log|M| = log|W| + log|G| + log|C|;
//! * ZᵀM⁻¹ = G⁻¹ C⁻¹ Zᵀ W⁻¹ and ZᵀM⁻¹Z = G⁻¹ − G⁻¹ C⁻¹ G⁻¹;
//! * for a parameter θ of G, with P as in [`super::likelihood`] and
//!   B = ZᵀM⁻¹X, A = XᵀM⁻¹X, u = ZᵀM⁻¹r:
//!   2 ∂ℓ/∂θ = uᵀ ∂G u − tr(G⁻¹∂G) + tr(C⁻¹ G⁻¹∂G G⁻¹) [+ tr(A⁻¹ Bᵀ ∂G B), REML];
//! * for a σ² on the diagonal of W: 2 ∂ℓ/∂σ² = |M⁻¹r|² − tr(M⁻¹)
//!   [+ tr(A⁻¹ XᵀM⁻²X), REML], with tr(M⁻¹) = Σ 1/Wᵢ − tr(C⁻¹ ZᵀW⁻²Z).
//!
//! The numbers are those of the block-by-block likelihood (the unit tests
//! fit every metafor fixture both ways); only the cost differs: one
//! factorisation of C, O(k + q³), rather than of M, O(k³).

use nalgebra::{DMatrix, DVector};

use super::equations::{Assembly, Equations, Split};
use super::likelihood::{Component, EvalError, Evaluation};
use super::spd::Factor;
use crate::multilevel::likelihood::LN_2PI;

/// How a component enters M.
#[derive(Debug, Clone)]
enum Part {
    /// σ² of a term whose levels each hold one effect size: on W's diagonal.
    Diagonal,
    /// σ² fixed at 0.
    Fixed,
    /// Random effects in columns `offset..offset + size` of Z.
    Effects {
        /// The column of each row (offset included).
        column: Vec<usize>,
        offset: usize,
        size: usize,
        kind: EffectsKind,
    },
}

/// The covariance G of one component's random effects.
#[derive(Debug, Clone)]
enum EffectsKind {
    /// σ² I.
    Independent,
    /// σ² R, R known.
    Known { r_inv: DMatrix<f64>, log_det_r: f64 },
    /// One block of G over the inner levels present in each outer level.
    Structured {
        /// Per outer level: the inner levels of its columns, in order.
        outers: Vec<Vec<usize>>,
    },
}

/// A general model set up for the mixed-model equations.
#[derive(Debug, Clone)]
pub(crate) struct Henderson {
    y: DVector<f64>,
    x: DMatrix<f64>,
    vi: Vec<f64>,
    parts: Vec<Part>,
    q: usize,
    /// The random effects eliminated first (see [`super::equations`]).
    split: Split,
}

/// A component's parameters at one point.
enum Values {
    Sigma(f64),
    Structured {
        /// Per outer level: G⁻¹ of its block, and G⁻¹ ∂G (one per parameter).
        blocks: Vec<(DMatrix<f64>, Vec<DMatrix<f64>>)>,
        /// ∂G over all inner levels, one per parameter.
        dg: Vec<DMatrix<f64>>,
    },
}

impl Henderson {
    /// Sets up `components`, or `None` when one cannot take this route (a
    /// known correlation matrix that is not positive definite).
    pub fn new(
        y: &[f64],
        x: &DMatrix<f64>,
        vi: &[f64],
        components: &[Component],
    ) -> Option<Henderson> {
        let k = y.len();
        let mut parts = Vec::with_capacity(components.len());
        let mut q = 0;
        for c in components {
            let part = match c {
                Component::Sigma { fixed: true, .. } => Part::Fixed,
                Component::Sigma { group, corr, .. } => {
                    let levels = group.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
                    match corr {
                        None if levels == k && distinct(group, levels) => Part::Diagonal,
                        None => effects(group, &mut q, levels, EffectsKind::Independent),
                        Some(r) => {
                            let factor = Factor::new(r)?;
                            let kind = EffectsKind::Known {
                                log_det_r: factor.log_det(),
                                r_inv: factor.inverse(),
                            };
                            effects(group, &mut q, r.nrows(), kind)
                        }
                    }
                }
                Component::Structured { outer, inner, .. } => structured(outer, inner, &mut q),
            };
            parts.push(part);
        }
        let split = parts
            .iter()
            .filter_map(|p| match p {
                Part::Effects {
                    offset,
                    size,
                    kind: EffectsKind::Independent,
                    ..
                } => Some(Split {
                    offset: *offset,
                    size: *size,
                }),
                _ => None,
            })
            .max_by_key(|s| s.size)
            .unwrap_or_else(Split::none);
        Some(Henderson {
            split,
            y: DVector::from_column_slice(y),
            x: x.clone(),
            vi: vi.to_vec(),
            parts,
            q,
        })
    }

    /// The order of the matrix factorised densely (S of
    /// [`super::equations`]).
    pub fn dense_order(&self) -> usize {
        self.q - self.split.size
    }

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
                    for a in 0..*size {
                        for b in 0..*size {
                            c.add(o + a, o + b, r_inv[(a, b)] / s);
                        }
                    }
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
            factor.invert();
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

    #[allow(clippy::too_many_arguments)]
    fn gradient(
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
                            let block = DMatrix::from_fn(n, n, |a, b| c_inv(o + a, o + b));
                            let trace = block.component_mul(r_inv).sum() / s;
                            out.push(0.5 * (uu - n as f64 + trace + reml_part));
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

struct GradientInputs<'a> {
    s_x: &'a DMatrix<f64>,
    t: &'a DVector<f64>,
    m_inv_r: &'a [f64],
    vcov: &'a DMatrix<f64>,
}

/// Whether the `levels` labels of `group` each occur once.
fn distinct(group: &[u32], levels: usize) -> bool {
    let mut seen = vec![false; levels];
    group
        .iter()
        .all(|&g| !std::mem::replace(&mut seen[g as usize], true))
}

fn effects(group: &[u32], q: &mut usize, size: usize, kind: EffectsKind) -> Part {
    let offset = *q;
    *q += size;
    Part::Effects {
        column: group.iter().map(|&g| offset + g as usize).collect(),
        offset,
        size,
        kind,
    }
}

/// The columns of a structured term: one per (outer, inner) pair present,
/// grouped by outer level.
fn structured(outer: &[u32], inner: &[u32], q: &mut usize) -> Part {
    let n_outer = outer.iter().map(|&o| o as usize + 1).max().unwrap_or(0);
    let mut outers: Vec<Vec<usize>> = vec![Vec::new(); n_outer];
    for (&o, &a) in outer.iter().zip(inner) {
        let levels = &mut outers[o as usize];
        if !levels.contains(&(a as usize)) {
            levels.push(a as usize);
        }
    }
    let offset = *q;
    let mut starts = Vec::with_capacity(n_outer);
    for levels in &outers {
        starts.push(*q);
        *q += levels.len();
    }
    let column = outer
        .iter()
        .zip(inner)
        .map(|(&o, &a)| {
            let levels = &outers[o as usize];
            starts[o as usize] + levels.iter().position(|&l| l == a as usize).unwrap_or(0)
        })
        .collect();
    Part::Effects {
        column,
        offset,
        size: *q - offset,
        kind: EffectsKind::Structured { outers },
    }
}
