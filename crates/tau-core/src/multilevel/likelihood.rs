//! The (restricted) log-likelihood of the multilevel model, its gradient and
//! Hessian in the variance components, computed cluster by cluster.
//!
//! The model is y = Xβ + Σₗ Zₗuₗ + e with uₗ ~ N(0, σ²ₗ I) and e ~ N(0, V), so
//! Var(y) = M = V + Σₗ σ²ₗ Dₗ with Dₗ = ZₗZₗ'. M is block-diagonal by the
//! outermost cluster j: Mⱼ = Vⱼ + Σₗ σ²ₗ Zₗⱼ Zₗⱼ'. With W = M⁻¹,
//! A = X'WX, β̂ = A⁻¹X'Wy, P = W − WXA⁻¹X'W and q = Py = W(y − Xβ̂):
//!
//! * ML: ℓ = −½ [k log 2π + log|M| + y'Py];
//! * REML: ℓ = −½ [(k − p) log 2π − log|X'X| + log|M| + log|A| + y'Py]
//!   (metafor's `.ll.rma.mv` with `REMLf = TRUE`);
//! * ∂ℓ/∂σ²ₗ = −½ tr(WDₗ) + ½ q'Dₗq (ML), −½ tr(PDₗ) + ½ q'Dₗq (REML);
//! * ∂²ℓ/∂σ²ₗ∂σ²ₘ = ½ tr(WDₗWDₘ) − q'DₗPDₘq (ML), ½ tr(PDₗPDₘ) − q'DₗPDₘq (REML);
//!   the expected information is the trace term alone (Harville 1977).
//!
//! No k×k matrix is formed. With independent sampling errors (ρ = 0) the
//! recursion of [`super::nested`] gives all of this in O(k). With `rho` set,
//! each block's Cholesky factor gives Wⱼ, and every
//! quantity above is a sum over blocks of products of Wⱼ aggregated by unit
//! (Zₗⱼ'WⱼZₘⱼ, Zₗⱼ'WⱼXⱼ, Zₗⱼ'Wⱼyⱼ) with p×p corrections, e.g.
//! tr(PDₗPDₘ) = tr(WDₗWDₘ) − 2 tr(A⁻¹X'WDₗWDₘWX) + tr(A⁻¹FₗA⁻¹Fₘ) with
//! Fₗ = X'WDₗWX. One evaluation costs O(Σⱼ nⱼ³), O(k) for bounded clusters.

use nalgebra::{DMatrix, DVector};

use super::structure::Structure;
use crate::model::wls::{SingularDesign, invert_spd, log_det_spd};

/// ln(2π).
pub const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The data of a multilevel model, in the blocked order of its [`Structure`].
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    /// The grouping.
    pub structure: &'a Structure,
    /// Outcomes.
    pub y: Vec<f64>,
    /// Sampling variances.
    pub v: Vec<f64>,
    /// Model matrix, row-major (k×p).
    pub x: Vec<f64>,
    /// Number of coefficients.
    pub p: usize,
    /// Correlation of the sampling errors within an outermost cluster.
    pub rho: f64,
    /// REML or ML.
    pub reml: bool,
    /// log|X'X|, the constant of metafor's restricted likelihood.
    pub log_det_xtx: f64,
}

/// Why the likelihood could not be evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EvalError {
    /// Block `block`'s covariance matrix is not positive definite.
    NotPositiveDefinite {
        /// The block (outermost cluster) index.
        block: usize,
    },
    /// X'WX is singular.
    Singular(SingularDesign),
}

/// The likelihood and the GLS fit at one value of the variance components.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The log-likelihood being maximised (REML or ML).
    pub ll: f64,
    /// The ML log-likelihood.
    pub ll_ml: f64,
    /// The restricted log-likelihood.
    pub ll_reml: f64,
    /// log|M|.
    pub log_det_m: f64,
    /// GLS coefficients β̂.
    pub beta: DVector<f64>,
    /// Their covariance A⁻¹ = (X'WX)⁻¹.
    pub vcov: DMatrix<f64>,
    /// y'Py.
    pub rss: f64,
    /// ∂ℓ/∂σ²ₗ (empty unless derivatives were asked for).
    pub gradient: Vec<f64>,
    /// ∂²ℓ/∂σ²ₗ∂σ²ₘ (observed).
    pub hessian: DMatrix<f64>,
    /// Expected information −E ∂²ℓ/∂σ²ₗ∂σ²ₘ.
    pub information: DMatrix<f64>,
}

/// Sums over blocks that the derivatives need.
struct Sums {
    levels: usize,
    p: usize,
    /// tr(WDₗ).
    tr: Vec<f64>,
    /// Σ ‖Zₗ'Wy‖².
    aa: Vec<f64>,
    /// Σ (Zₗ'WX)'(Zₗ'Wy), p each.
    ba: Vec<f64>,
    /// Fₗ = Σ (Zₗ'WX)'(Zₗ'WX), p×p each.
    f: Vec<f64>,
    /// Per pair l ≤ m: tr(WDₗWDₘ).
    t: Vec<f64>,
    /// (Zₗ'WX)' Sₗₘ (Zₘ'WX), p×p each.
    g: Vec<f64>,
    /// (Zₗ'WX)' Sₗₘ (Zₘ'Wy), p each.
    h: Vec<f64>,
    /// (Zₘ'WX)' Sₗₘ' (Zₗ'Wy), p each.
    hp: Vec<f64>,
    /// (Zₗ'Wy)' Sₗₘ (Zₘ'Wy).
    c: Vec<f64>,
}

/// Index of the pair l ≤ m (either order) among the l ≤ m of `levels`.
pub(super) fn pair(l: usize, m: usize, levels: usize) -> usize {
    let (l, m) = if l <= m { (l, m) } else { (m, l) };
    l * levels - l * (l + 1) / 2 + m
}

impl Sums {
    fn new(levels: usize, p: usize) -> Sums {
        let pairs = levels * (levels + 1) / 2;
        Sums {
            levels,
            p,
            tr: vec![0.0; levels],
            aa: vec![0.0; levels],
            ba: vec![0.0; levels * p],
            f: vec![0.0; levels * p * p],
            t: vec![0.0; pairs],
            g: vec![0.0; pairs * p * p],
            h: vec![0.0; pairs * p],
            hp: vec![0.0; pairs * p],
            c: vec![0.0; pairs],
        }
    }
}

/// Buffers reused from block to block.
#[derive(Default)]
struct Workspace {
    chol: Vec<f64>,
    linv: Vec<f64>,
    w: Vec<f64>,
    wy: Vec<f64>,
    wx: Vec<f64>,
    /// Per level: Zₗ'Wy (mₗ), Zₗ'WX (mₗ×p), WZₗ (n×mₗ).
    a: Vec<Vec<f64>>,
    b: Vec<Vec<f64>>,
    wz: Vec<Vec<f64>>,
    s: Vec<f64>,
    sb: Vec<f64>,
    sa: Vec<f64>,
}

impl Problem<'_> {
    /// Number of effect sizes.
    pub fn k(&self) -> usize {
        self.y.len()
    }

    /// Entry (r, s) of the marginal covariance M = V + Σₗ σ²ₗ Dₗ for blocked
    /// rows r and s of one block, with sampling variances `vr` and `vs`.
    fn marginal(&self, r: usize, s: usize, vr: f64, vs: f64, sigma2: &[f64]) -> f64 {
        let mut value = if r == s {
            vr
        } else {
            self.rho * (vr * vs).sqrt()
        };
        for (l, s2) in sigma2.iter().enumerate() {
            let unit = &self.structure.local[l];
            if unit[r] == unit[s] {
                value += s2;
            }
        }
        value
    }

    /// The marginal covariance block Mⱼ = Vⱼ + Σₗ σ²ₗ Zₗⱼ Zₗⱼ' of block `index`
    /// at `sigma2` (the working covariance of robust inference).
    pub(crate) fn marginal_block(&self, index: usize, sigma2: &[f64]) -> DMatrix<f64> {
        let block = &self.structure.blocks[index];
        let (start, v) = (block.start, &self.v[block.start..block.start + block.len]);
        DMatrix::from_fn(block.len, block.len, |a, b| {
            self.marginal(start + a, start + b, v[a], v[b], sigma2)
        })
    }

    /// Evaluates the likelihood at `sigma2` (one value per level), with the
    /// gradient and Hessians when `derivatives` is set.
    /// Independent sampling errors take the O(k) recursion of
    /// [`super::nested`]; correlated ones a Cholesky factor per cluster.
    pub fn evaluate(&self, sigma2: &[f64], derivatives: bool) -> Result<Evaluation, EvalError> {
        if self.rho == 0.0 {
            super::nested::evaluate(self, sigma2, derivatives)
        } else {
            self.by_blocks(sigma2, derivatives)
        }
    }

    /// [`Problem::evaluate`] by a Cholesky factor of each cluster's Mⱼ.
    fn by_blocks(&self, sigma2: &[f64], derivatives: bool) -> Result<Evaluation, EvalError> {
        let s = self.structure;
        let (p, levels) = (self.p, s.levels());
        let mut ws = Workspace {
            a: vec![Vec::new(); levels],
            b: vec![Vec::new(); levels],
            wz: vec![Vec::new(); levels],
            ..Workspace::default()
        };
        let mut sums = Sums::new(levels, p);
        let mut xtwx = vec![0.0; p * p];
        let mut xtwy = vec![0.0; p];
        let mut ywy = 0.0;
        let mut log_det_m = 0.0;
        for (index, block) in s.blocks.iter().enumerate() {
            let n = block.len;
            let rows = block.start..block.start + n;
            let (y, v) = (&self.y[rows.clone()], &self.v[rows.clone()]);
            let x = &self.x[block.start * p..(block.start + n) * p];
            // Mⱼ, then its Cholesky factor in place.
            ws.chol.clear();
            ws.chol.resize(n * n, 0.0);
            for a in 0..n {
                for b in 0..=a {
                    ws.chol[a * n + b] =
                        self.marginal(block.start + a, block.start + b, v[a], v[b], sigma2);
                }
            }
            log_det_m +=
                cholesky(&mut ws.chol, n).ok_or(EvalError::NotPositiveDefinite { block: index })?;
            inverse_from_cholesky(&ws.chol, n, &mut ws.linv, &mut ws.w);
            let w = &ws.w;
            ws.wy.clear();
            ws.wy.extend((0..n).map(|a| dot(&w[a * n..(a + 1) * n], y)));
            ws.wx.clear();
            ws.wx.resize(n * p, 0.0);
            for a in 0..n {
                for b in 0..n {
                    let wab = w[a * n + b];
                    for c in 0..p {
                        ws.wx[a * p + c] += wab * x[b * p + c];
                    }
                }
            }
            for a in 0..n {
                ywy += y[a] * ws.wy[a];
                for c in 0..p {
                    xtwy[c] += x[a * p + c] * ws.wy[a];
                    for d in 0..p {
                        xtwx[c * p + d] += x[a * p + c] * ws.wx[a * p + d];
                    }
                }
            }
            if derivatives {
                block_derivatives(s, block.start, n, &block.units, &mut ws, &mut sums);
            }
        }
        let mut out = self.gls(log_det_m, &xtwx, &xtwy, ywy)?;
        if derivatives {
            self.finish_derivatives(&sums, &mut out);
        }
        Ok(out)
    }

    /// The GLS fit and the likelihood (without derivatives) from log|M|,
    /// X'WX (row-major), X'Wy and y'Wy.
    pub(super) fn gls(
        &self,
        log_det_m: f64,
        xtwx: &[f64],
        xtwy: &[f64],
        ywy: f64,
    ) -> Result<Evaluation, EvalError> {
        let p = self.p;
        let a = DMatrix::from_row_slice(p, p, xtwx);
        let log_det_a = log_det_spd(&a).map_err(EvalError::Singular)?;
        let vcov = invert_spd(a).map_err(EvalError::Singular)?;
        let b = DVector::from_row_slice(xtwy);
        let beta = &vcov * &b;
        let rss = ywy - b.dot(&beta);
        let k = self.k() as f64;
        let ll_ml = -0.5 * (k * LN_2PI + log_det_m + rss);
        let ll_reml =
            -0.5 * ((k - p as f64) * LN_2PI - self.log_det_xtx + log_det_m + log_det_a + rss);
        Ok(Evaluation {
            ll: if self.reml { ll_reml } else { ll_ml },
            ll_ml,
            ll_reml,
            log_det_m,
            beta,
            vcov,
            rss,
            gradient: Vec::new(),
            hessian: DMatrix::zeros(0, 0),
            information: DMatrix::zeros(0, 0),
        })
    }

    /// Gradient and Hessians from the block sums and β̂ (see the module docs).
    fn finish_derivatives(&self, sums: &Sums, out: &mut Evaluation) {
        let (p, levels) = (self.p, sums.levels);
        let beta = &out.beta;
        let ainv = &out.vcov;
        let mat = |data: &[f64]| DMatrix::from_row_slice(p, p, data);
        let vec = |data: &[f64]| DVector::from_row_slice(data);
        let f: Vec<DMatrix<f64>> = (0..levels)
            .map(|l| mat(&sums.f[l * p * p..(l + 1) * p * p]))
            .collect();
        let ba: Vec<DVector<f64>> = (0..levels)
            .map(|l| vec(&sums.ba[l * p..(l + 1) * p]))
            .collect();
        // X'WDₗq = Σ (Zₗ'WX)'(Zₗ'q) and ‖Zₗ'q‖², with Zₗ'q = Zₗ'Wy − Zₗ'WX β̂.
        let xdq: Vec<DVector<f64>> = (0..levels).map(|l| &ba[l] - &f[l] * beta).collect();
        let qdq: Vec<f64> = (0..levels)
            .map(|l| sums.aa[l] - 2.0 * beta.dot(&ba[l]) + beta.dot(&(&f[l] * beta)))
            .collect();
        let ainv_f: Vec<DMatrix<f64>> = f.iter().map(|fl| ainv * fl).collect();
        out.gradient = (0..levels)
            .map(|l| {
                let trace = if self.reml {
                    sums.tr[l] - ainv_f[l].trace()
                } else {
                    sums.tr[l]
                };
                -0.5 * trace + 0.5 * qdq[l]
            })
            .collect();
        let mut hessian = DMatrix::zeros(levels, levels);
        let mut information = DMatrix::zeros(levels, levels);
        for l in 0..levels {
            for m in l..levels {
                let i = pair(l, m, levels);
                let g = mat(&sums.g[i * p * p..(i + 1) * p * p]);
                let h = vec(&sums.h[i * p..(i + 1) * p]);
                let hp = vec(&sums.hp[i * p..(i + 1) * p]);
                let trace = if self.reml {
                    sums.t[i] - 2.0 * (ainv * &g).trace() + (&ainv_f[l] * &ainv_f[m]).trace()
                } else {
                    sums.t[i]
                };
                // q'DₗPDₘq = (Zₗ'q)'Sₗₘ(Zₘ'q) − (X'WDₗq)'A⁻¹(X'WDₘq).
                let zq = sums.c[i] - beta.dot(&h) - beta.dot(&hp) + beta.dot(&(&g * beta));
                let qdpdq = zq - xdq[l].dot(&(ainv * &xdq[m]));
                information[(l, m)] = 0.5 * trace;
                information[(m, l)] = 0.5 * trace;
                hessian[(l, m)] = 0.5 * trace - qdpdq;
                hessian[(m, l)] = 0.5 * trace - qdpdq;
            }
        }
        out.hessian = hessian;
        out.information = information;
    }
}

/// Adds one block's share of the derivative sums.
fn block_derivatives(
    s: &Structure,
    start: usize,
    n: usize,
    units: &[u32],
    ws: &mut Workspace,
    sums: &mut Sums,
) {
    let (levels, p) = (sums.levels, sums.p);
    for (l, &m) in units.iter().enumerate().take(levels) {
        let m = m as usize;
        let unit = &s.local[l][start..start + n];
        let a = &mut ws.a[l];
        a.clear();
        a.resize(m, 0.0);
        let b = &mut ws.b[l];
        b.clear();
        b.resize(m * p, 0.0);
        let wz = &mut ws.wz[l];
        wz.clear();
        wz.resize(n * m, 0.0);
        for (r, &u) in unit.iter().enumerate() {
            let u = u as usize;
            a[u] += ws.wy[r];
            for c in 0..p {
                b[u * p + c] += ws.wx[r * p + c];
            }
            for row in 0..n {
                wz[row * m + u] += ws.w[row * n + r];
            }
        }
        sums.aa[l] += a.iter().map(|x| x * x).sum::<f64>();
        for u in 0..m {
            for c in 0..p {
                sums.ba[l * p + c] += b[u * p + c] * a[u];
                for d in 0..p {
                    sums.f[(l * p + c) * p + d] += b[u * p + c] * b[u * p + d];
                }
            }
        }
    }
    for l in 0..levels {
        let ml = units[l] as usize;
        let unit_l = &s.local[l][start..start + n];
        // tr(WDₗ) = Σᵤ Sₗₗ[u][u].
        for (m, &mm) in units.iter().enumerate().take(levels).skip(l) {
            let mm = mm as usize;
            let i = pair(l, m, levels);
            // Sₗₘ = Zₗ'(WZₘ).
            ws.s.clear();
            ws.s.resize(ml * mm, 0.0);
            for (r, &u) in unit_l.iter().enumerate() {
                let u = u as usize;
                for v in 0..mm {
                    ws.s[u * mm + v] += ws.wz[m][r * mm + v];
                }
            }
            if m == l {
                sums.tr[l] += (0..ml).map(|u| ws.s[u * mm + u]).sum::<f64>();
            }
            sums.t[i] += ws.s.iter().map(|x| x * x).sum::<f64>();
            // Sₗₘ(Zₘ'WX) and Sₗₘ(Zₘ'Wy).
            ws.sb.clear();
            ws.sb.resize(ml * p, 0.0);
            ws.sa.clear();
            ws.sa.resize(ml, 0.0);
            for u in 0..ml {
                for v in 0..mm {
                    let suv = ws.s[u * mm + v];
                    ws.sa[u] += suv * ws.a[m][v];
                    for c in 0..p {
                        ws.sb[u * p + c] += suv * ws.b[m][v * p + c];
                    }
                }
            }
            let (al, bl) = (&ws.a[l], &ws.b[l]);
            for u in 0..ml {
                sums.c[i] += al[u] * ws.sa[u];
                for c in 0..p {
                    sums.h[i * p + c] += bl[u * p + c] * ws.sa[u];
                    sums.hp[i * p + c] += al[u] * ws.sb[u * p + c];
                    for d in 0..p {
                        sums.g[(i * p + c) * p + d] += bl[u * p + c] * ws.sb[u * p + d];
                    }
                }
            }
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Cholesky factor of the symmetric matrix whose lower triangle is in `m`
/// (row-major n×n), in place; returns log det, or `None` when the matrix is
/// not (numerically) positive definite.
fn cholesky(m: &mut [f64], n: usize) -> Option<f64> {
    let mut log_det = 0.0;
    for j in 0..n {
        let mut d = m[j * n + j];
        for c in 0..j {
            d -= m[j * n + c] * m[j * n + c];
        }
        if d.is_nan() || d <= 0.0 {
            return None;
        }
        let d = d.sqrt();
        m[j * n + j] = d;
        log_det += 2.0 * d.ln();
        for i in j + 1..n {
            let mut s = m[i * n + j];
            for c in 0..j {
                s -= m[i * n + c] * m[j * n + c];
            }
            m[i * n + j] = s / d;
        }
    }
    Some(log_det)
}

/// W = (LL')⁻¹ from the lower Cholesky factor L (row-major), using `linv` as scratch.
fn inverse_from_cholesky(l: &[f64], n: usize, linv: &mut Vec<f64>, w: &mut Vec<f64>) {
    linv.clear();
    linv.resize(n * n, 0.0);
    for j in 0..n {
        linv[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let mut s = 0.0;
            for c in j..i {
                s -= l[i * n + c] * linv[c * n + j];
            }
            linv[i * n + j] = s / l[i * n + i];
        }
    }
    w.clear();
    w.resize(n * n, 0.0);
    for a in 0..n {
        for b in 0..=a {
            let s: f64 = (a..n).map(|c| linv[c * n + a] * linv[c * n + b]).sum();
            w[a * n + b] = s;
            w[b * n + a] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small 3-level problem with a moderator and correlated sampling errors.
    fn problem(structure: &Structure, reml: bool) -> Problem<'_> {
        let k = structure.order.len();
        let y: Vec<f64> = (0..k).map(|i| ((i * 7 % 11) as f64 - 5.0) / 10.0).collect();
        let v: Vec<f64> = (0..k).map(|i| 0.02 + 0.01 * (i % 4) as f64).collect();
        let x: Vec<f64> = (0..k).flat_map(|i| [1.0, (i % 3) as f64]).collect();
        let xm = DMatrix::from_row_slice(k, 2, &x);
        Problem {
            structure,
            y,
            v,
            x,
            p: 2,
            rho: 0.4,
            reml,
            log_det_xtx: log_det_spd(&(xm.transpose() * &xm)).unwrap(),
        }
    }

    fn structure() -> Structure {
        structure_of(3)
    }

    /// The first `levels` levels of the test grouping.
    fn structure_of(levels: usize) -> Structure {
        let names = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let a = ["1", "1", "1", "1", "2", "2", "2", "3", "3", "1", "4", "4"];
        let b = ["x", "x", "y", "y", "x", "z", "z", "x", "x", "z", "q", "r"];
        let c = [
            "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
        ];
        let labels = [a.to_vec(), b.to_vec(), c.to_vec()];
        Structure::new(&names[..levels], &labels[..levels], str::to_owned)
    }

    /// The dense likelihood, as metafor computes it: M formed whole.
    fn dense_ll(pr: &Problem, sigma2: &[f64]) -> f64 {
        let s = pr.structure;
        let k = pr.k();
        let same = |l: usize, a: usize, b: usize| {
            let block = |r: usize| {
                s.blocks
                    .iter()
                    .position(|bl| r >= bl.start && r < bl.start + bl.len)
            };
            block(a) == block(b) && s.local[l][a] == s.local[l][b]
        };
        let m = DMatrix::from_fn(k, k, |a, b| {
            let mut value = if a == b {
                pr.v[a]
            } else if same(0, a, b) {
                pr.rho * (pr.v[a] * pr.v[b]).sqrt()
            } else {
                0.0
            };
            for (l, s2) in sigma2.iter().enumerate() {
                if same(l, a, b) {
                    value += s2;
                }
            }
            value
        });
        let x = DMatrix::from_row_slice(k, pr.p, &pr.x);
        let y = DVector::from_row_slice(&pr.y);
        let w = m.clone().try_inverse().unwrap();
        let a = x.transpose() * &w * &x;
        let beta = a.clone().try_inverse().unwrap() * x.transpose() * &w * &y;
        let e = &y - &x * beta;
        let rss = (e.transpose() * &w * &e)[(0, 0)];
        let ld = log_det_spd(&m).unwrap();
        if pr.reml {
            -0.5 * ((k - pr.p) as f64 * LN_2PI - pr.log_det_xtx
                + ld
                + log_det_spd(&a).unwrap()
                + rss)
        } else {
            -0.5 * (k as f64 * LN_2PI + ld + rss)
        }
    }

    #[test]
    fn blockwise_likelihood_equals_the_dense_one() {
        let s = structure();
        for reml in [true, false] {
            let pr = problem(&s, reml);
            let theta = [0.03, 0.01, 0.02];
            let e = pr.evaluate(&theta, true).unwrap();
            let dense = dense_ll(&pr, &theta);
            assert!((e.ll - dense).abs() < 1e-10, "{} vs {dense}", e.ll);
        }
    }

    #[test]
    fn the_recursion_equals_the_cluster_factors_without_rho() {
        // Three levels with one row per innermost unit, and the first two
        // alone, whose innermost units hold several rows.
        let (three, two) = (structure(), structure_of(2));
        for (s, reml) in [(&three, true), (&three, false), (&two, true), (&two, false)] {
            let mut pr = problem(s, reml);
            pr.rho = 0.0;
            for theta in [[0.03, 0.01, 0.02], [0.0, 0.05, 0.0], [2.0, 1e-6, 0.3]] {
                let theta = &theta[..s.levels()];
                let fast = pr.evaluate(theta, true).unwrap();
                let slow = pr.by_blocks(theta, true).unwrap();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * b.abs().max(1.0);
                assert!(close(fast.ll, slow.ll), "{} vs {}", fast.ll, slow.ll);
                assert!(close(fast.log_det_m, slow.log_det_m));
                assert!(close(fast.rss, slow.rss));
                for (a, b) in fast.beta.iter().zip(slow.beta.iter()) {
                    assert!(close(*a, *b));
                }
                for (a, b) in fast.gradient.iter().zip(&slow.gradient) {
                    assert!(close(*a, *b), "gradient {a} vs {b}");
                }
                for (a, b) in fast.hessian.iter().zip(slow.hessian.iter()) {
                    assert!(close(*a, *b), "hessian {a} vs {b}");
                }
                for (a, b) in fast.information.iter().zip(slow.information.iter()) {
                    assert!(close(*a, *b), "information {a} vs {b}");
                }
                let plain = pr.evaluate(theta, false).unwrap();
                assert_eq!(plain.ll.to_bits(), fast.ll.to_bits());
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let s = structure();
        for reml in [true, false] {
            let pr = problem(&s, reml);
            let theta = [0.03, 0.01, 0.02];
            let e = pr.evaluate(&theta, true).unwrap();
            let h = 1e-6;
            for l in 0..3 {
                let mut up = theta;
                up[l] += h;
                let mut down = theta;
                down[l] -= h;
                let eu = pr.evaluate(&up, true).unwrap();
                let ed = pr.evaluate(&down, true).unwrap();
                let g = (eu.ll - ed.ll) / (2.0 * h);
                assert!(
                    (g - e.gradient[l]).abs() < 1e-6 * g.abs().max(1.0),
                    "gradient {l}: {g} vs {}",
                    e.gradient[l]
                );
                for m in 0..3 {
                    let hd = (eu.gradient[m] - ed.gradient[m]) / (2.0 * h);
                    assert!(
                        (hd - e.hessian[(l, m)]).abs() < 1e-5 * hd.abs().max(1.0),
                        "hessian {l},{m}: {hd} vs {}",
                        e.hessian[(l, m)]
                    );
                }
            }
        }
    }
}
