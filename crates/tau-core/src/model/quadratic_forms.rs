//! The quadratic forms and traces of the residual maker P(τ²) that the τ²
//! estimators, Cochran's Q and the Q-profile interval need, at one value of τ².
//!
//! With weights wᵢ = 1/(vᵢ + τ²), A = X'WX and the WLS residuals e = y − Xβ̂
//! (see [`super::wls`]): y'Py = Σ wᵢeᵢ², y'PPy = Σ (wᵢeᵢ)², tr P, tr PP and
//! log det A.
//!
//! A design with a single column (p = 1; above all the intercept-only model of
//! every pooled analysis, and the inner loop of simulations) takes a scalar
//! path: two passes over the studies and no allocation. There A = Σ wᵢxᵢ²,
//! β̂ = Σ wᵢxᵢyᵢ / A, tr P = Σ wᵢ − Σ wᵢ²xᵢ²/A and
//! tr PP = Σ wᵢ² − 2 Σ wᵢ³xᵢ²/A + (Σ wᵢ²xᵢ²/A)²: the general formulas of
//! [`super::wls`] with p = 1, so both paths give the same numbers up to rounding.

use super::matrix::ModelMatrix;
use super::wls::{SingularDesign, Wls, log_det_spd, trace_p, traces};

/// What to compute beyond the residual sums of squares and Σwᵢ, Σwᵢ².
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// tr P.
    pub tr_p: bool,
    /// tr PP (and tr P).
    pub tr_pp: bool,
    /// log det X'WX.
    pub log_det: bool,
}

impl Wanted {
    /// The residual sums of squares only.
    pub const Q: Wanted = Wanted {
        tr_p: false,
        tr_pp: false,
        log_det: false,
    };
    /// Also tr P.
    pub const TR_P: Wanted = Wanted {
        tr_p: true,
        ..Wanted::Q
    };
    /// Also tr P and tr PP.
    pub const TRACES: Wanted = Wanted {
        tr_p: true,
        tr_pp: true,
        log_det: false,
    };
    /// Also log det X'WX.
    pub const LOG_DET: Wanted = Wanted {
        log_det: true,
        ..Wanted::Q
    };
}

/// Quadratic forms and traces of P at one τ². Quantities not [`Wanted`] are NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forms {
    /// y'Py = Σ wᵢeᵢ² (the generalised Q statistic).
    pub rss: f64,
    /// y'PPy = Σ (wᵢeᵢ)².
    pub rss_pp: f64,
    /// Σ wᵢ.
    pub sum_w: f64,
    /// Σ wᵢ².
    pub sum_w2: f64,
    /// tr P.
    pub tr_p: f64,
    /// tr PP.
    pub tr_pp: f64,
    /// log det X'WX.
    pub log_det: f64,
}

/// The forms of P(τ²) for outcomes y, sampling variances v and design x.
pub fn at_tau2(
    x: &dyn ModelMatrix,
    y: &[f64],
    v: &[f64],
    tau2: f64,
    wanted: Wanted,
) -> Result<Forms, SingularDesign> {
    if let Some(column) = x.single_column() {
        return single_column(column, y, v, tau2, wanted);
    }
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    let fit = Wls::fit(x, y, &w)?;
    let (tr_p, tr_pp) = if wanted.tr_pp {
        traces(x, &w, &fit.xtwx_inv)
    } else if wanted.tr_p {
        (trace_p(x, &w, &fit.xtwx_inv), f64::NAN)
    } else {
        (f64::NAN, f64::NAN)
    };
    let log_det = if wanted.log_det {
        log_det_spd(&x.cross_weighted(&|i| w[i]))?
    } else {
        f64::NAN
    };
    Ok(Forms {
        rss: fit.rss(&w),
        rss_pp: fit.rss_pp(&w),
        sum_w: w.iter().sum(),
        sum_w2: w.iter().map(|wi| wi * wi).sum(),
        tr_p,
        tr_pp,
        log_det,
    })
}

/// y'Py alone (the generalised Q statistic): for a single column, the first
/// pass of `single_column` keeps just A and Σ wᵢxᵢyᵢ and the second just
/// Σ wᵢeᵢ², with the same lanes and order, so the value is the same to the
/// last bit; the Q-profile interval evaluates it dozens of times.
pub fn q_at(x: &dyn ModelMatrix, y: &[f64], v: &[f64], tau2: f64) -> Result<f64, SingularDesign> {
    let Some(x) = x.single_column() else {
        return Ok(at_tau2(x, y, v, tau2, Wanted::Q)?.rss);
    };
    let mut first = [[0.0; LANES]; 2];
    let add_first = |lane: usize, xi: f64, yi: f64, vi: f64| {
        let wx = (1.0 / (vi + tau2)) * xi;
        first[0][lane] += wx * xi;
        first[1][lane] += wx * yi;
    };
    each_lane(x, y, v, add_first);
    let [a, xwy] = first.map(lane_sum);
    check_pivot(a)?;
    let beta = xwy / a;
    let mut rss = [0.0; LANES];
    let add_second = |lane: usize, xi: f64, yi: f64, vi: f64| {
        let e = yi - xi * beta;
        rss[lane] += (1.0 / (vi + tau2)) * e * e;
    };
    each_lane(x, y, v, add_second);
    Ok(lane_sum(rss))
}

/// A = Σ wᵢxᵢ² must be a usable pivot, as [`super::wls::invert_spd`] demands of X'WX.
fn check_pivot(a: f64) -> Result<(), SingularDesign> {
    if a > 0.0 && a.is_finite() {
        Ok(())
    } else {
        Err(SingularDesign)
    }
}

/// Independent partial sums per quantity: the compiler can then use SIMD for
/// the divisions and sums. Study i goes to lane i mod LANES and the lanes are
/// added in a fixed order, so the result does not depend on the machine.
const LANES: usize = 4;

/// Calls `f(lane, xᵢ, yᵢ, vᵢ)` for every study i, in order, with lane = i mod
/// [`LANES`]: whole chunks of LANES studies, then the rest.
fn each_lane(x: &[f64], y: &[f64], v: &[f64], mut f: impl FnMut(usize, f64, f64, f64)) {
    let (x_chunks, x_rest) = x.as_chunks::<LANES>();
    let (y_chunks, y_rest) = y.as_chunks::<LANES>();
    let (v_chunks, v_rest) = v.as_chunks::<LANES>();
    for ((xs, ys), vs) in x_chunks.iter().zip(y_chunks).zip(v_chunks) {
        for lane in 0..LANES {
            f(lane, xs[lane], ys[lane], vs[lane]);
        }
    }
    for (lane, ((&xi, &yi), &vi)) in x_rest.iter().zip(y_rest).zip(v_rest).enumerate() {
        f(lane, xi, yi, vi);
    }
}

/// Σ over lanes in a fixed order: (l₀ + l₁) + (l₂ + l₃).
fn lane_sum(lanes: [f64; LANES]) -> f64 {
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

fn single_column(
    x: &[f64],
    y: &[f64],
    v: &[f64],
    tau2: f64,
    wanted: Wanted,
) -> Result<Forms, SingularDesign> {
    // Σ wx², Σ wxy, Σ w, Σ w², Σ w²x², Σ w³x², lane by lane.
    let mut first = [[0.0; LANES]; 6];
    let add_first = |lane: usize, xi: f64, yi: f64, vi: f64| {
        let w = 1.0 / (vi + tau2);
        let wx = w * xi;
        first[0][lane] += wx * xi;
        first[1][lane] += wx * yi;
        first[2][lane] += w;
        first[3][lane] += w * w;
        first[4][lane] += wx * wx;
        first[5][lane] += w * (wx * wx);
    };
    each_lane(x, y, v, add_first);
    let [a, xwy, sum_w, sum_w2, b2, b3] = first.map(lane_sum);
    check_pivot(a)?;
    let beta = xwy / a;

    // Σ w e², Σ (w e)².
    let mut second = [[0.0; LANES]; 2];
    let add_second = |lane: usize, xi: f64, yi: f64, vi: f64| {
        let w = 1.0 / (vi + tau2);
        let e = yi - xi * beta;
        let we = w * e;
        second[0][lane] += we * e;
        second[1][lane] += we * we;
    };
    each_lane(x, y, v, add_second);
    let [rss, rss_pp] = second.map(lane_sum);
    let b2_a = b2 / a;
    let mut tr_p = if wanted.tr_p || wanted.tr_pp {
        sum_w - b2_a
    } else {
        f64::NAN
    };
    let mut tr_pp = if wanted.tr_pp {
        sum_w2 - 2.0 * (b3 / a) + b2_a * b2_a
    } else {
        f64::NAN
    };
    // The sums above cancel when one study's weight dwarfs the others' (tr P
    // is then a small difference of huge sums) or overflow (weights near
    // 1e300). Either shows as a trace that is not finite or is tiny next to
    // its largest term; the traces are then summed term by term instead.
    let lost = |trace: f64, scale: f64| !(trace.is_finite() && trace > 1e-6 * scale);
    if (wanted.tr_p || wanted.tr_pp) && lost(tr_p, sum_w) || wanted.tr_pp && lost(tr_pp, sum_w2) {
        (tr_p, tr_pp) = exact_traces(x, v, tau2);
    }
    Ok(Forms {
        rss,
        rss_pp,
        sum_w,
        sum_w2,
        tr_p,
        tr_pp,
        log_det: if wanted.log_det { a.ln() } else { f64::NAN },
    })
}

/// tr P and tr PP of a one-column design without cancellation, from the
/// entries of P: with uᵢ = wᵢ/max w (so that nothing overflows), cᵢ = uᵢxᵢ²
/// and a = Σ cᵢ, Pᵢᵢ = wᵢ Σ_{j≠i} cⱼ / a and Pᵢⱼ = −wᵢxᵢwⱼxⱼ / A (i ≠ j), so
///
/// * tr P = max w · Σ uᵢ (Σ_{j≠i} cⱼ) / a,
/// * tr PP = Σ Pᵢᵢ² + Σ_{i≠j} Pᵢⱼ² = max w² · Σ [(uᵢ Σ_{j≠i} cⱼ / a)² + uᵢcᵢ Σ_{j≠i} uⱼcⱼ / a²].
///
/// Every sum has positive terms; the leave-one-out sums come from prefix and
/// suffix sums. metafor forms P itself, which is as accurate; the fast
/// formulas of [`single_column`] are not when the weights span many orders.
fn exact_traces(x: &[f64], v: &[f64], tau2: f64) -> (f64, f64) {
    let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
    let max = w.iter().fold(0.0f64, |m, wi| m.max(*wi));
    let u: Vec<f64> = w.iter().map(|wi| wi / max).collect();
    let c: Vec<f64> = u.iter().zip(x).map(|(ui, xi)| ui * xi * xi).collect();
    let uc: Vec<f64> = u.iter().zip(&c).map(|(ui, ci)| ui * ci).collect();
    let without = |terms: &[f64]| -> Vec<f64> {
        let k = terms.len();
        let mut out = vec![0.0; k];
        let mut before = 0.0;
        for i in 0..k {
            out[i] = before;
            before += terms[i];
        }
        let mut after = 0.0;
        for i in (0..k).rev() {
            out[i] += after;
            after += terms[i];
        }
        out
    };
    let a: f64 = c.iter().sum();
    let (c_without, uc_without) = (without(&c), without(&uc));
    let mut tr_p = 0.0;
    let mut tr_pp = 0.0;
    for i in 0..u.len() {
        let diagonal = u[i] * c_without[i] / a;
        tr_p += diagonal;
        tr_pp += diagonal * diagonal + uc[i] * uc_without[i] / (a * a);
    }
    (max * tr_p, max * max * tr_pp)
}

/// The unweighted fit behind the Hedges estimator: RSS = Σ eᵢ² of the OLS fit,
/// and tr(P₀V) = Σ vᵢ − tr((X'X)⁻¹ X'VX), with P₀ the unweighted residual maker.
pub fn unweighted(x: &dyn ModelMatrix, y: &[f64], v: &[f64]) -> Result<(f64, f64), SingularDesign> {
    let sum_v: f64 = v.iter().sum();
    if let Some(x) = x.single_column() {
        let (mut a, mut xy, mut xvx) = (0.0, 0.0, 0.0);
        for ((&xi, &yi), &vi) in x.iter().zip(y).zip(v) {
            a += xi * xi;
            xy += xi * yi;
            xvx += (xi * vi) * xi;
        }
        check_pivot(a)?;
        let beta = xy / a;
        let rss = x
            .iter()
            .zip(y)
            .map(|(&xi, &yi)| (yi - xi * beta) * (yi - xi * beta))
            .sum::<f64>();
        return Ok((rss, sum_v - xvx / a));
    }
    let ones = vec![1.0; v.len()];
    let fit = Wls::fit(x, y, &ones)?;
    let xtvx = x.cross_weighted(&|i| v[i]);
    Ok((fit.rss(&ones), sum_v - (&fit.xtwx_inv * xtvx).trace()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wls::cross_weighted;
    use nalgebra::DMatrix;

    /// The scalar path and the matrix path agree on a one-column design.
    #[test]
    fn single_column_matches_the_matrix_path() {
        let y = [0.3, -0.1, 0.8, 0.2, 0.5];
        let v = [0.02, 0.05, 0.01, 0.04, 0.03];
        let column = [1.0, 0.5, 2.0, 1.5, 0.7];
        let x = DMatrix::from_column_slice(5, 1, &column);
        let tau2 = 0.07;
        let all = Wanted {
            log_det: true,
            ..Wanted::TRACES
        };
        let fast = at_tau2(&x, &y, &v, tau2, all).expect("full rank");
        assert_eq!(
            q_at(&x, &y, &v, tau2).expect("full rank").to_bits(),
            fast.rss.to_bits()
        );
        let w: Vec<f64> = v.iter().map(|vi| 1.0 / (vi + tau2)).collect();
        let fit = Wls::fit(&x, &y, &w).expect("full rank");
        let (tr_p, tr_pp) = traces(&x, &w, &fit.xtwx_inv);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs();
        assert!(close(fast.rss, fit.rss(&w)));
        assert!(close(fast.rss_pp, fit.rss_pp(&w)));
        assert!(close(fast.tr_p, tr_p));
        assert!(close(fast.tr_p, trace_p(&x, &w, &fit.xtwx_inv)));
        assert!(close(fast.tr_pp, tr_pp));
        let log_det = log_det_spd(&cross_weighted(&x, |i| w[i])).expect("spd");
        assert!(close(fast.log_det, log_det));

        let (rss, tr_pv) = unweighted(&x, &y, &v).expect("full rank");
        let ones = [1.0; 5];
        let ols = Wls::fit(&x, &y, &ones).expect("full rank");
        let xtvx = cross_weighted(&x, |i| v[i]);
        assert!(close(rss, ols.rss(&ones)));
        assert!(close(
            tr_pv,
            v.iter().sum::<f64>() - (&ols.xtwx_inv * xtvx).trace()
        ));
    }

    #[test]
    fn a_zero_column_is_singular() {
        let x = DMatrix::zeros(3, 1);
        let v = [0.1, 0.2, 0.3];
        assert!(at_tau2(&x, &[1.0, 2.0, 3.0], &v, 0.0, Wanted::Q).is_err());
        assert!(unweighted(&x, &[1.0, 2.0, 3.0], &v).is_err());
    }
}
