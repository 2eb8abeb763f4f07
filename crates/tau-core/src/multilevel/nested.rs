//! The likelihood of [`super::likelihood`] when the sampling errors are
//! independent (V diagonal), by recursion over the nesting: no matrix is
//! factored, and one evaluation costs O(k) whatever the cluster sizes.
//!
//! A unit of level l holds the rows of its sub-units (of level l + 1, or the
//! rows themselves below the innermost level), so its covariance is
//! Mᵤ = B + σ²ₗ 11' with B = blockdiag(M꜀) over its sub-units c (a row's is
//! its vᵢ). For z = (x', y)' and the Sherman–Morrison formula (Sherman &
//! Morrison 1950; for nested variance components see Searle, Casella &
//! McCulloch 1992, *Variance Components*), with
//! s = 1'B⁻¹1, w = Z'B⁻¹1, C = Z'B⁻¹Z and d = 1 + σ²ₗ s:
//!
//! * 1'Mᵤ⁻¹1 = s/d, Z'Mᵤ⁻¹1 = w/d, Z'Mᵤ⁻¹Z = C − σ²ₗ w w'/d;
//! * log|Mᵤ| = log|B| + log d;
//!
//! and s, w, C and log|B| of B are the sums over its sub-units. At the
//! outermost level C holds X'WX, X'Wy and y'Wy, and log|M| is
//! Σ log vᵢ + Σ over units of log d. Where every innermost unit is one row
//! (`study/es_id` with one es_id per record), the row's covariance is
//! vᵢ + σ²_L, whose inverse enters the level above directly.
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

/// Numbers with their first and second derivatives in the σ², each stored as
/// `width` consecutive values. Variables are numbered innermost level first
/// (variable i is level L − 1 − i), and a jet is laid out as the value, then
/// for each variable j: ∂ⱼ, ∂²ᵢⱼ for i ≤ j. A unit of level l depends only on
/// the σ² of its own level and those below, the first L − l variables, so its
/// jets are a prefix of this layout (the rest stays 0) and the operations
/// take the number of variables they need. Without derivatives `width` is 1.
#[derive(Clone, Copy)]
struct Jets {
    levels: usize,
    width: usize,
}

/// Where variable j's gradient is; its Hessian entries ∂²ᵢⱼ follow.
fn offset(j: usize) -> usize {
    1 + j * (j + 3) / 2
}

impl Jets {
    fn new(levels: usize, derivatives: bool) -> Jets {
        let width = if derivatives { offset(levels) } else { 1 };
        Jets { levels, width }
    }

    fn derivatives(self) -> bool {
        self.width > 1
    }

    /// The variables a unit of `level` depends on (none without derivatives).
    fn variables(self, level: usize) -> usize {
        if self.derivatives() {
            self.levels - level
        } else {
            0
        }
    }

    /// out = a·b over the first `n` variables.
    #[inline(always)]
    fn mul(a: &[f64], b: &[f64], n: usize, out: &mut [f64]) {
        let (a0, b0) = (a[0], b[0]);
        out[0] = a0 * b0;
        for j in 0..n {
            let o = offset(j);
            out[o] = a0 * b[o] + a[o] * b0;
            for i in 0..=j {
                let oi = offset(i);
                out[o + 1 + i] =
                    a0 * b[o + 1 + i] + a[o + 1 + i] * b0 + a[oi] * b[o] + a[o] * b[oi];
            }
        }
    }

    /// out = σ²·a, σ² being the last of `n` variables (n ≥ 1) at `theta`,
    /// or a constant without derivatives (n = 0).
    #[inline(always)]
    fn times_variable(a: &[f64], n: usize, theta: f64, out: &mut [f64]) {
        let w = offset(n);
        for (o, x) in out[..w].iter_mut().zip(&a[..w]) {
            *o = theta * x;
        }
        if n == 0 {
            return;
        }
        let v = n - 1;
        let o = offset(v);
        out[o] += a[0];
        for i in 0..v {
            out[o + 1 + i] += a[offset(i)];
        }
        out[o + 1 + v] += 2.0 * a[o];
    }

    /// out = f(a) over `n` variables from f(a₀), f'(a₀) and f''(a₀).
    #[inline(always)]
    fn chain(a: &[f64], n: usize, f: [f64; 3], out: &mut [f64]) {
        out[0] = f[0];
        for j in 0..n {
            let o = offset(j);
            out[o] = f[1] * a[o];
            for i in 0..=j {
                out[o + 1 + i] = f[1] * a[o + 1 + i] + f[2] * a[offset(i)] * a[o];
            }
        }
    }

    /// ∂ of a jet in the σ² of `level`.
    fn gradient(self, a: &[f64], level: usize) -> f64 {
        a[offset(self.levels - 1 - level)]
    }

    /// ∂² of a jet in the σ² of levels `l` and `m`.
    fn hessian(self, a: &[f64], l: usize, m: usize) -> f64 {
        let (i, j) = (self.levels - 1 - l, self.levels - 1 - m);
        let (i, j) = if i <= j { (i, j) } else { (j, i) };
        a[offset(j) + 1 + i]
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
    // A row adds z_a z_b g to each entry of its unit, z = (1, x', y)': the
    // entry's offset and its (a, b), s first, then w, then C.
    let mut z = vec![1.0; p + 2];
    let mut terms = vec![(0, 0, 0)];
    terms.extend((0..=p).map(|a| (layout.w(a), 0, a + 1)));
    for a in 0..=p {
        terms.extend((a..=p).map(|b| (layout.c(a, b), a + 1, b + 1)));
    }
    let single_rows = levels >= 2 && s.units[levels - 1] == problem.k();
    for (index, block) in s.blocks.iter().enumerate() {
        let rows = block.start..block.start + block.len;
        for l in 0..levels - usize::from(single_rows) {
            let count = block.units[l] as usize;
            units[l].clear();
            units[l].resize(count * size, 0.0);
            parents[l].clear();
            parents[l].resize(count, 0);
        }
        // The rows into their innermost units (values only: no σ² yet), or,
        // when each innermost unit is one row, with that level's σ² added
        // (a row's covariance is then vᵢ + σ², its inverse a jet in one
        // variable) into the units of the level above.
        let (level, with_inner) = if single_rows {
            (levels - 2, true)
        } else {
            (levels - 1, false)
        };
        for r in rows {
            for l in 1..=level {
                parents[l][s.local[l][r] as usize] = s.local[l - 1][r];
            }
            let v = problem.v[r];
            if v.is_nan() || v <= 0.0 {
                return Err(EvalError::NotPositiveDefinite { block: index });
            }
            let (g, used) = if with_inner {
                let t = v + sigma2[levels - 1];
                let g = 1.0 / t;
                let used = width.min(3);
                log_det[..used]
                    .iter_mut()
                    .zip([t.ln(), g, -g * g])
                    .for_each(|(a, x)| *a += x);
                ([g, -g * g, 2.0 * g * g * g], used)
            } else {
                log_det[0] += v.ln();
                ([1.0 / v, 0.0, 0.0], 1)
            };
            z[1..=p].copy_from_slice(&problem.x[r * p..(r + 1) * p]);
            z[p + 1] = problem.y[r];
            let unit = &mut units[level][s.local[level][r] as usize * size..][..size];
            for &(at, a, b) in &terms {
                let c = z[a] * z[b];
                match &mut unit[at..at + used] {
                    [a0, a1, a2] => {
                        *a0 += c * g[0];
                        *a1 += c * g[1];
                        *a2 += c * g[2];
                    }
                    entry => entry[0] += c * g[0],
                }
            }
        }
        for l in (0..=level).rev() {
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
    // A constant number of variables lets the compiler unroll the jet
    // arithmetic (the usual 2 to 4 levels).
    match layout.jets.variables(level) {
        0 => add_variance_in(0, layout, unit, theta, log_det, scratch),
        1 => add_variance_in(1, layout, unit, theta, log_det, scratch),
        2 => add_variance_in(2, layout, unit, theta, log_det, scratch),
        3 => add_variance_in(3, layout, unit, theta, log_det, scratch),
        4 => add_variance_in(4, layout, unit, theta, log_det, scratch),
        n => add_variance_in(n, layout, unit, theta, log_det, scratch),
    }
}

/// [`add_variance`] for a unit that depends on `n` variables.
#[inline(always)]
fn add_variance_in(
    n: usize,
    layout: &Layout,
    unit: &mut [f64],
    theta: f64,
    log_det: &mut [f64],
    scratch: &mut Scratch,
) -> Option<()> {
    let width = layout.jets.width;
    let used = offset(n);
    let Scratch {
        d,
        inv,
        log,
        w,
        t,
        u,
    } = scratch;
    let (d, inv, log) = (&mut d[..used], &mut inv[..used], &mut log[..used]);
    let (t, u) = (&mut t[..used], &mut u[..used]);
    Jets::times_variable(&unit[..used], n, theta, d);
    d[0] += 1.0;
    let d0 = d[0];
    if d0.is_nan() || d0 <= 0.0 {
        return None;
    }
    Jets::chain(
        d,
        n,
        [1.0 / d0, -1.0 / (d0 * d0), 2.0 / (d0 * d0 * d0)],
        inv,
    );
    Jets::chain(d, n, [d0.ln(), 1.0 / d0, -1.0 / (d0 * d0)], log);
    for (acc, x) in log_det[..used].iter_mut().zip(log.iter()) {
        *acc += x;
    }
    // w/d, then C − σ²ₗ w (w/d)', then s/d.
    let q = layout.q;
    let entry = |at: usize| at..at + used;
    for a in 0..q {
        Jets::mul(&unit[entry(layout.w(a))], inv, n, &mut w[entry(a * width)]);
    }
    for a in 0..q {
        for b in a..q {
            Jets::mul(&unit[entry(layout.w(a))], &w[entry(b * width)], n, t);
            Jets::times_variable(t, n, theta, u);
            for (c, x) in unit[entry(layout.c(a, b))].iter_mut().zip(u.iter()) {
                *c -= x;
            }
        }
    }
    for a in 0..q {
        unit[entry(layout.w(a))].copy_from_slice(&w[entry(a * width)]);
    }
    t.copy_from_slice(&unit[..used]);
    Jets::mul(t, inv, n, &mut unit[..used]);
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
