//! The numerical ground floor of the Bayesian analysis: adaptive
//! Gauss–Kronrod quadrature of several integrands at once, Brent's
//! minimiser, and a bracketed Newton root finder.
//!
//! * [`adaptive`]: the 7-point Gauss / 15-point Kronrod pair (QUADPACK's
//!   `dqk15`, Piessens et al. 1983) on panels of an interval, bisecting the
//!   panel with the largest error until every integrand's estimated error
//!   |K₁₅ − G₇| summed over the panels is below `rel_tol` times its integral
//!   of |f|. The error estimate is |K₁₅ − G₇| itself, which overstates the
//!   error of K₁₅ by orders of magnitude on smooth integrands.
//! * [`fmin`]: Brent's (1973) golden-section and parabolic minimiser, as R's
//!   `optimize()`.
//! * [`newton_root`]: Newton's method for an increasing function, kept inside
//!   a bracket by bisection.

use crate::numerics::integrate::{WG, WGK, XGK};

/// The 15 Kronrod nodes of [lo, hi] with their weights.
pub(crate) fn kronrod_nodes(lo: f64, hi: f64) -> [(f64, f64); 15] {
    let centre = 0.5 * (lo + hi);
    let half = 0.5 * (hi - lo);
    let mut out = [(0.0, 0.0); 15];
    for j in 0..7 {
        out[2 * j] = (centre - half * XGK[j], half * WGK[j]);
        out[2 * j + 1] = (centre + half * XGK[j], half * WGK[j]);
    }
    out[14] = (centre, half * WGK[7]);
    out
}

/// The 15-point Kronrod estimate of ∫ f over [lo, hi] of a scalar integrand.
pub(crate) fn kronrod(lo: f64, hi: f64, mut f: impl FnMut(f64) -> f64) -> f64 {
    kronrod_nodes(lo, hi).iter().map(|&(x, w)| w * f(x)).sum()
}

/// A panel of an adaptive rule, with the integrals of its `M` integrands.
#[derive(Debug, Clone)]
pub(crate) struct Panel<const M: usize> {
    pub lo: f64,
    pub hi: f64,
    pub value: [f64; M],
    error: [f64; M],
    absolute: [f64; M],
}

fn rule<const M: usize>(lo: f64, hi: f64, f: &mut impl FnMut(f64) -> [f64; M]) -> Panel<M> {
    let centre = 0.5 * (lo + hi);
    let half = 0.5 * (hi - lo);
    let mut kron = [0.0; M];
    let mut gauss = [0.0; M];
    let mut absolute = [0.0; M];
    let mut add = |x: f64, wk: f64, wg: f64| {
        let v = f(x);
        for m in 0..M {
            kron[m] += wk * v[m];
            gauss[m] += wg * v[m];
            absolute[m] += wk * v[m].abs();
        }
    };
    for j in 0..7 {
        add(centre - half * XGK[j], WGK[j], WG[j]);
        add(centre + half * XGK[j], WGK[j], WG[j]);
    }
    add(centre, WGK[7], WG[7]);
    let mut panel = Panel {
        lo,
        hi,
        value: [0.0; M],
        error: [0.0; M],
        absolute: [0.0; M],
    };
    for m in 0..M {
        panel.value[m] = half * kron[m];
        panel.error[m] = (half * (kron[m] - gauss[m])).abs();
        panel.absolute[m] = half * absolute[m];
    }
    panel
}

/// Why an adaptive integration stopped short.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum QuadratureFailure {
    /// The integrand was NaN or infinite somewhere.
    NonFinite,
    /// `max_panels` panels did not reach the tolerance.
    NotConverged,
}

/// Integrates the `M` integrands of `f` over [lo, hi], starting from
/// `initial` equal panels; only the integrands marked in `checked` take part
/// in the error test (the others may diverge and are not trusted).
pub(crate) fn adaptive<const M: usize>(
    mut f: impl FnMut(f64) -> [f64; M],
    lo: f64,
    hi: f64,
    initial: usize,
    rel_tol: f64,
    checked: [bool; M],
    max_panels: usize,
) -> Result<Vec<Panel<M>>, QuadratureFailure> {
    let width = (hi - lo) / initial as f64;
    let mut panels: Vec<Panel<M>> = (0..initial)
        .map(|i| {
            let a = lo + width * i as f64;
            let b = if i + 1 == initial { hi } else { a + width };
            rule(a, b, &mut f)
        })
        .collect();
    loop {
        let mut total_error = [0.0; M];
        let mut total_abs = [0.0; M];
        for p in &panels {
            for m in 0..M {
                total_error[m] += p.error[m];
                total_abs[m] += p.absolute[m];
            }
        }
        if (0..M).any(|m| checked[m] && !(total_error[m].is_finite() && total_abs[m].is_finite())) {
            return Err(QuadratureFailure::NonFinite);
        }
        if (0..M).all(|m| !checked[m] || total_error[m] <= rel_tol * total_abs[m]) {
            break;
        }
        if panels.len() >= max_panels {
            return Err(QuadratureFailure::NotConverged);
        }
        // The panel whose error weighs most against its integrand's tolerance.
        let score = |p: &Panel<M>| {
            (0..M)
                .filter(|&m| checked[m] && total_abs[m] > 0.0)
                .map(|m| p.error[m] / total_abs[m])
                .fold(0.0, f64::max)
        };
        let worst = (0..panels.len())
            .max_by(|&a, &b| score(&panels[a]).total_cmp(&score(&panels[b])))
            .unwrap_or(0);
        let old = panels.swap_remove(worst);
        let mid = 0.5 * (old.lo + old.hi);
        panels.push(rule(old.lo, mid, &mut f));
        panels.push(rule(mid, old.hi, &mut f));
    }
    panels.sort_by(|a, b| a.lo.total_cmp(&b.lo));
    Ok(panels)
}

/// The minimum of `f` on [lo, hi] by Brent's method (R's `optimize()` with
/// `tol`), as (x, f(x)).
pub(crate) fn fmin(mut f: impl FnMut(f64) -> f64, lo: f64, hi: f64, tol: f64) -> (f64, f64) {
    let c = 0.5 * (3.0 - 5f64.sqrt());
    let eps = f64::EPSILON.sqrt();
    let (mut a, mut b) = (lo, hi);
    let mut v = a + c * (b - a);
    let mut w = v;
    let mut x = v;
    let mut d: f64 = 0.0;
    let mut e: f64 = 0.0;
    let mut fx = f(x);
    let mut fv = fx;
    let mut fw = fx;
    let tol3 = tol / 3.0;
    for _ in 0..1000 {
        let xm = 0.5 * (a + b);
        let tol1 = eps * x.abs() + tol3;
        let t2 = 2.0 * tol1;
        if (x - xm).abs() <= t2 - 0.5 * (b - a) {
            break;
        }
        let mut p = 0.0;
        let mut q = 0.0;
        let mut r = 0.0;
        if e.abs() > tol1 {
            r = (x - w) * (fx - fv);
            q = (x - v) * (fx - fw);
            p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            } else {
                q = -q;
            }
            r = e;
            e = d;
        }
        if p.abs() >= (0.5 * q * r).abs() || p <= q * (a - x) || p >= q * (b - x) {
            e = if x < xm { b - x } else { a - x };
            d = c * e;
        } else {
            d = p / q;
            let u = x + d;
            if u - a < t2 || b - u < t2 {
                d = if x < xm { tol1 } else { -tol1 };
            }
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else if d > 0.0 {
            x + tol1
        } else {
            x - tol1
        };
        let fu = f(u);
        if fu <= fx {
            if u < x {
                b = x;
            } else {
                a = x;
            }
            v = w;
            fv = fw;
            w = x;
            fw = fx;
            x = u;
            fx = fu;
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                v = w;
                fv = fw;
                w = u;
                fw = fu;
            } else if fu <= fv || v == x || v == w {
                v = u;
                fv = fu;
            }
        }
    }
    (x, fx)
}

/// The x in [lo, hi] where the increasing function `g` (returning value and
/// derivative) equals `target`, starting from `start`: Newton steps, with a
/// bisection of the bracket whenever a step would leave it.
pub(crate) fn newton_root(
    mut g: impl FnMut(f64) -> (f64, f64),
    target: f64,
    mut lo: f64,
    mut hi: f64,
    start: f64,
) -> f64 {
    let mut x = if start > lo && start < hi {
        start
    } else {
        0.5 * (lo + hi)
    };
    for _ in 0..200 {
        let (value, slope) = g(x);
        let gap = value - target;
        if gap == 0.0 {
            return x;
        }
        if gap > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let step = gap / slope;
        let mut next = x - step;
        if !(next > lo && next < hi && step.is_finite()) {
            next = 0.5 * (lo + hi);
        }
        let moved = (next - x).abs();
        x = next;
        if moved <= 4.0 * f64::EPSILON * x.abs().max(1e-300)
            || hi - lo <= 4.0 * f64::EPSILON * x.abs()
        {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomial_and_gaussian() {
        let panels = adaptive(
            |x| [x * x, (-x * x / 2.0).exp()],
            0.0,
            12.0,
            2,
            1e-12,
            [true, true],
            100,
        )
        .unwrap();
        let total: [f64; 2] = panels.iter().fold([0.0, 0.0], |acc, p| {
            [acc[0] + p.value[0], acc[1] + p.value[1]]
        });
        assert!((total[0] - 576.0).abs() < 1e-10);
        let half = (std::f64::consts::PI / 2.0).sqrt();
        assert!((total[1] - half).abs() < 1e-12);
    }

    #[test]
    fn finds_minimum_and_root() {
        let (x, _) = fmin(|x| (x - 1.3) * (x - 1.3), 0.0, 4.0, 1e-12);
        assert!((x - 1.3).abs() < 1e-7);
        let r = newton_root(|x| (x * x * x, 3.0 * x * x), 8.0, 0.0, 10.0, 9.0);
        assert!((r - 2.0).abs() < 1e-14);
    }
}
