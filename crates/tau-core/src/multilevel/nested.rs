//! The likelihood of [`super::likelihood`] when the sampling errors are
//! independent (V diagonal), by recursion over the nesting: no matrix is
//! factored, and one evaluation costs O(k) whatever the cluster sizes.
//!
//! A unit of level l holds the rows of its sub-units (of level l + 1, or the
//! rows themselves below the innermost level), so its covariance is
//! Mᵤ = B + σ²ₗ 11' with B = blockdiag(M꜀) over its sub-units c (a row's is
//! its vᵢ). For z = (x', y)' and Sherman–Morrison (Searle, Casella &
//! McCulloch 1992, §8.3 for nested variance components), with
//! s = 1'B⁻¹1, w = Z'B⁻¹1, C = Z'B⁻¹Z and d = 1 + σ²ₗ s:
//!
//! * 1'Mᵤ⁻¹1 = s/d, Z'Mᵤ⁻¹1 = w/d, Z'Mᵤ⁻¹Z = C − σ²ₗ w w'/d;
//! * log|Mᵤ| = log|B| + log d;
//!
//! and s, w, C and log|B| of B are the sums over its sub-units. At the
//! outermost level C holds X'WX, X'Wy and y'Wy, and log|M| is
//! Σ log vᵢ + Σ over units of log d.
//!
//! Each quantity is carried with its first and second derivatives in the σ²
//! (second-order forward differentiation), which gives ∂ℓ and ∂²ℓ exactly
//! through ∂ log|A| = tr(A⁻¹∂A), ∂² log|A| = tr(A⁻¹∂²A) − tr(A⁻¹∂ₗA A⁻¹∂ₘA),
//! and, for r = b'A⁻¹b with β̂ = A⁻¹b and eₗ = ∂ₗb − ∂ₗA β̂,
//! ∂ₗr = 2 ∂ₗb'β̂ − β̂'∂ₗAβ̂ and ∂²ₗₘr = 2 ∂²b'β̂ − β̂'∂²Aβ̂ + 2 eₗ'A⁻¹eₘ.
//! M is linear in σ², so the expected information ½ tr(PDₗPDₘ) (REML) or
//! ½ tr(WDₗWDₘ) (ML) is −½ ∂²(log|M| + log|A|), resp. −½ ∂² log|M|
//! (Harville 1977).

use nalgebra::{DMatrix, DVector};

use super::likelihood::{EvalError, Evaluation, Problem, pair};

/// Numbers with their gradient and packed Hessian in the σ² of `levels`
/// levels, each stored as `width` consecutive values: the value, then
/// ∂/∂σ²ₗ, then ∂²/∂σ²ₗ∂σ²ₘ for l ≤ m. Without derivatives `width` is 1.
#[derive(Clone, Copy)]
struct Jets {
    levels: usize,
    width: usize,
}

impl Jets {
    fn new(levels: usize, derivatives: bool) -> Jets {
        let width = if derivatives {
            1 + levels + levels * (levels + 1) / 2
        } else {
            1
        };
        Jets { levels, width }
    }

    fn derivatives(self) -> bool {
        self.width > 1
    }

    /// out = a·b.
    fn mul(self, a: &[f64], b: &[f64], out: &mut [f64]) {
        out[0] = a[0] * b[0];
        if !self.derivatives() {
            return;
        }
        let n = self.levels;
        for i in 1..=n {
            out[i] = a[0] * b[i] + a[i] * b[0];
        }
        let mut h = 1 + n;
        for i in 1..=n {
            for j in i..=n {
                out[h] = a[0] * b[h] + a[h] * b[0] + a[i] * b[j] + a[j] * b[i];
                h += 1;
            }
        }
    }

    /// out = σ²ₗ·a, σ²ₗ being the variable of level `level` at `theta`.
    fn times_variable(self, a: &[f64], level: usize, theta: f64, out: &mut [f64]) {
        for (o, x) in out.iter_mut().zip(a) {
            *o = theta * x;
        }
        if !self.derivatives() {
            return;
        }
        let (n, l) = (self.levels, level + 1);
        out[l] += a[0];
        let mut h = 1 + n;
        for i in 1..=n {
            for j in i..=n {
                if i == l {
                    out[h] += a[j];
                }
                if j == l {
                    out[h] += a[i];
                }
                h += 1;
            }
        }
    }

    /// out = f(a) from f(a₀), f'(a₀) and f''(a₀).
    fn chain(self, a: &[f64], f: [f64; 3], out: &mut [f64]) {
        out[0] = f[0];
        if !self.derivatives() {
            return;
        }
        let n = self.levels;
        for i in 1..=n {
            out[i] = f[1] * a[i];
        }
        let mut h = 1 + n;
        for i in 1..=n {
            for j in i..=n {
                out[h] = f[1] * a[h] + f[2] * a[i] * a[j];
                h += 1;
            }
        }
    }

    /// ∂ₗ of a jet (l from 0).
    fn gradient(self, a: &[f64], l: usize) -> f64 {
        a[1 + l]
    }

    /// ∂²ₗₘ of a jet.
    fn hessian(self, a: &[f64], l: usize, m: usize) -> f64 {
        a[1 + self.levels + pair(l, m, self.levels)]
    }
}

/// The state of one unit: s, then w (q = p + 1 entries, X's columns then y),
/// then C packed by [`pair`] over q; each entry a jet.
struct Layout {
    jets: Jets,
    q: usize,
}

impl Layout {
    fn entries(&self) -> usize {
        1 + self.q + self.q * (self.q + 1) / 2
    }

    fn size(&self) -> usize {
        self.entries() * self.jets.width
    }

    fn w(&self, c: usize) -> usize {
        (1 + c) * self.jets.width
    }

    fn c(&self, a: usize, b: usize) -> usize {
        (1 + self.q + pair(a, b, self.q)) * self.jets.width
    }
}

/// Buffers reused from unit to unit.
struct Scratch {
    d: Vec<f64>,
    inv: Vec<f64>,
    log: Vec<f64>,
    w: Vec<f64>,
    t: Vec<f64>,
    u: Vec<f64>,
}

/// Evaluates the likelihood of `problem` (whose `rho` is 0) at `sigma2`.
pub fn evaluate(
    problem: &Problem,
    sigma2: &[f64],
    derivatives: bool,
) -> Result<Evaluation, EvalError> {
    let s = problem.structure;
    let (p, levels) = (problem.p, s.levels());
    let jets = Jets::new(levels, derivatives);
    let layout = Layout { jets, q: p + 1 };
    let (width, size) = (jets.width, layout.size());
    let mut scratch = Scratch {
        d: vec![0.0; width],
        inv: vec![0.0; width],
        log: vec![0.0; width],
        w: vec![0.0; (p + 1) * width],
        t: vec![0.0; width],
        u: vec![0.0; width],
    };
    let mut total = vec![0.0; size];
    let mut log_det = vec![0.0; width];
    let mut units: Vec<Vec<f64>> = vec![Vec::new(); levels];
    let mut parents: Vec<Vec<u32>> = vec![Vec::new(); levels];
    let mut z = vec![0.0; p + 1];
    for (index, block) in s.blocks.iter().enumerate() {
        let rows = block.start..block.start + block.len;
        for l in 0..levels {
            let count = block.units[l] as usize;
            units[l].clear();
            units[l].resize(count * size, 0.0);
            parents[l].clear();
            parents[l].resize(count, 0);
        }
        // The rows, into their innermost units (values only: no σ² yet).
        let inner = levels - 1;
        for r in rows {
            for l in 1..levels {
                parents[l][s.local[l][r] as usize] = s.local[l - 1][r];
            }
            let v = problem.v[r];
            if v.is_nan() || v <= 0.0 {
                return Err(EvalError::NotPositiveDefinite { block: index });
            }
            log_det[0] += v.ln();
            z[..p].copy_from_slice(&problem.x[r * p..(r + 1) * p]);
            z[p] = problem.y[r];
            let unit = &mut units[inner][s.local[inner][r] as usize * size..][..size];
            unit[0] += 1.0 / v;
            for a in 0..=p {
                unit[layout.w(a)] += z[a] / v;
                for b in a..=p {
                    unit[layout.c(a, b)] += z[a] * z[b] / v;
                }
            }
        }
        for l in (0..levels).rev() {
            let (below, above) = units.split_at_mut(l);
            let level = &mut above[0];
            for unit in level.chunks_exact_mut(size) {
                add_variance(&layout, unit, l, sigma2[l], &mut log_det, &mut scratch)
                    .ok_or(EvalError::NotPositiveDefinite { block: index })?;
            }
            let into = match below.last_mut() {
                Some(parent_level) => parent_level,
                None => &mut total,
            };
            for (u, unit) in level.chunks_exact(size).enumerate() {
                let parent = if l == 0 { 0 } else { parents[l][u] as usize };
                for (t, x) in into[parent * size..][..size].iter_mut().zip(unit) {
                    *t += x;
                }
            }
        }
    }
    finish(problem, &layout, &total, &log_det)
}

/// Adds σ²ₗ 11' to a unit's covariance (see the module docs); `None` when
/// d = 1 + σ²ₗ s is not positive.
fn add_variance(
    layout: &Layout,
    unit: &mut [f64],
    level: usize,
    theta: f64,
    log_det: &mut [f64],
    scratch: &mut Scratch,
) -> Option<()> {
    let jets = layout.jets;
    let width = jets.width;
    let Scratch {
        d,
        inv,
        log,
        w,
        t,
        u,
    } = scratch;
    jets.times_variable(&unit[..width], level, theta, d);
    d[0] += 1.0;
    let d0 = d[0];
    if d0.is_nan() || d0 <= 0.0 {
        return None;
    }
    jets.chain(d, [1.0 / d0, -1.0 / (d0 * d0), 2.0 / (d0 * d0 * d0)], inv);
    jets.chain(d, [d0.ln(), 1.0 / d0, -1.0 / (d0 * d0)], log);
    for (acc, x) in log_det.iter_mut().zip(log.iter()) {
        *acc += x;
    }
    // w/d, then C − σ²ₗ w (w/d)', then s/d.
    let q = layout.q;
    for a in 0..q {
        let at = layout.w(a);
        jets.mul(
            &unit[at..at + width],
            inv,
            &mut w[a * width..(a + 1) * width],
        );
    }
    for a in 0..q {
        for b in a..q {
            let at = layout.w(a);
            jets.mul(&unit[at..at + width], &w[b * width..(b + 1) * width], t);
            jets.times_variable(t, level, theta, u);
            let at = layout.c(a, b);
            for (c, x) in unit[at..at + width].iter_mut().zip(u.iter()) {
                *c -= x;
            }
        }
    }
    unit[layout.w(0)..layout.w(q)].copy_from_slice(w);
    t.copy_from_slice(&unit[..width]);
    jets.mul(t, inv, &mut unit[..width]);
    Some(())
}

/// The GLS fit and the likelihood with its derivatives from the sums.
fn finish(
    problem: &Problem,
    layout: &Layout,
    total: &[f64],
    log_det: &[f64],
) -> Result<Evaluation, EvalError> {
    let p = problem.p;
    let jets = layout.jets;
    let entry = |a: usize, b: usize| &total[layout.c(a, b)..layout.c(a, b) + jets.width];
    let xtwx: Vec<f64> = (0..p * p).map(|i| entry(i / p, i % p)[0]).collect();
    let xtwy: Vec<f64> = (0..p).map(|c| entry(c, p)[0]).collect();
    let mut out = problem.gls(log_det[0], &xtwx, &xtwy, entry(p, p)[0])?;
    if !jets.derivatives() {
        return Ok(out);
    }
    let levels = jets.levels;
    let matrix = |f: &dyn Fn(&[f64]) -> f64| DMatrix::from_fn(p, p, |a, b| f(entry(a, b)));
    let vector = |f: &dyn Fn(&[f64]) -> f64| DVector::from_fn(p, |a, _| f(entry(a, p)));
    let da: Vec<DMatrix<f64>> = (0..levels)
        .map(|l| matrix(&|j| jets.gradient(j, l)))
        .collect();
    let db: Vec<DVector<f64>> = (0..levels)
        .map(|l| vector(&|j| jets.gradient(j, l)))
        .collect();
    let (ainv, beta) = (&out.vcov, &out.beta);
    let ainv_da: Vec<DMatrix<f64>> = da.iter().map(|m| ainv * m).collect();
    let e: Vec<DVector<f64>> = (0..levels).map(|l| &db[l] - &da[l] * beta).collect();
    let reml = if problem.reml { 1.0 } else { 0.0 };
    // ∂ of log|M| + [REML] log|A| and of y'Py = y'Wy − b'A⁻¹b.
    let yy = entry(p, p);
    out.gradient = (0..levels)
        .map(|l| {
            let det = jets.gradient(log_det, l) + reml * ainv_da[l].trace();
            let rss = jets.gradient(yy, l) - 2.0 * db[l].dot(beta) + beta.dot(&(&da[l] * beta));
            -0.5 * (det + rss)
        })
        .collect();
    out.hessian = DMatrix::zeros(levels, levels);
    out.information = DMatrix::zeros(levels, levels);
    for l in 0..levels {
        for m in l..levels {
            let d2a = matrix(&|j| jets.hessian(j, l, m));
            let d2b = vector(&|j| jets.hessian(j, l, m));
            let det = jets.hessian(log_det, l, m)
                + reml * ((ainv * &d2a).trace() - (&ainv_da[l] * &ainv_da[m]).trace());
            let rss = jets.hessian(yy, l, m) - 2.0 * d2b.dot(beta) + beta.dot(&(&d2a * beta))
                - 2.0 * e[l].dot(&(ainv * &e[m]));
            for (a, b) in [(l, m), (m, l)] {
                out.hessian[(a, b)] = -0.5 * (det + rss);
                out.information[(a, b)] = -0.5 * det;
            }
        }
    }
    Ok(out)
}
