//! Begg & Mazumdar's (1994, Biometrics 50: 1088–1101) rank correlation test,
//! as metafor's `ranktest`: Kendall's τ between the standardised deviates
//! yᵢ* = (yᵢ − θ̂) / √(vᵢ − 1/Σwⱼ), with θ̂ the common-effect estimate
//! (wⱼ = 1/vⱼ), and the sampling variances vᵢ.
//!
//! τ is Kendall's τ_b, as R's `cor(method = "kendall")`. Its p-value follows
//! R's `cor.test(exact = TRUE)`, which metafor requests: without ties, the
//! exact permutation distribution of the number of concordant pairs; with
//! ties, the normal approximation with the tie-corrected variance (no
//! continuity correction).
//!
//! Deliberate difference: R's exact computation overflows beyond k = 170 and
//! metafor then reports p = NaN. tau computes the exact distribution in
//! probabilities (no overflow) up to k = [`EXACT_MAX_K`], and uses the
//! normal approximation above that (its error is negligible there).

use serde::Serialize;

use super::BiasError;
use crate::numerics::distribution::normal_two_sided_p;

/// Largest k for the exact p-value (the cost grows as k³/6).
pub const EXACT_MAX_K: usize = 1000;

/// The rank correlation test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Begg {
    /// Kendall's τ_b.
    pub tau: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// "exact", or "normal" (ties, or k > 1000).
    pub p_method: &'static str,
}

/// The rank correlation test of `yi` against `vi` (metafor `ranktest`).
pub fn begg(yi: &[f64], vi: &[f64]) -> Result<Begg, BiasError> {
    let k = yi.len();
    if k < 3 {
        return Err(BiasError::TooFewStudies {
            method: "the rank correlation test",
            needed: 3,
            k,
        });
    }
    let sum_w: f64 = vi.iter().map(|v| 1.0 / v).sum();
    let theta = yi.iter().zip(vi).map(|(y, v)| y / v).sum::<f64>() / sum_w;
    let vb = 1.0 / sum_w;
    let deviates: Vec<f64> = yi
        .iter()
        .zip(vi)
        .map(|(y, v)| (y - theta) / (v - vb).sqrt())
        .collect();
    let method = "the rank correlation test";
    if vi.iter().all(|v| *v == vi[0]) {
        return Err(BiasError::EqualStandardErrors { method });
    }
    if deviates.iter().all(|d| *d == deviates[0]) {
        return Err(BiasError::EqualEffects { method });
    }
    Ok(kendall_test(&deviates, vi))
}

/// Kendall's τ_b and its two-sided p-value, as R's `cor.test(x, y, method = "kendall", exact = TRUE)`.
pub fn kendall_test(x: &[f64], y: &[f64]) -> Begg {
    let n = x.len();
    let (mut s, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        for j in 0..i {
            let a = sign(x[i] - x[j]);
            let b = sign(y[i] - y[j]);
            s += a * b;
            sx += a * a;
            sy += b * b;
        }
    }
    let tau = s / (sx.sqrt() * sy.sqrt());
    if !tau.is_finite() {
        return Begg {
            tau: f64::NAN,
            p: f64::NAN,
            p_method: "none",
        };
    }
    let (x_ties, y_ties) = (tie_sizes(x), tie_sizes(y));
    if x_ties.is_empty() && y_ties.is_empty() && n <= EXACT_MAX_K {
        let pairs = (n * (n - 1) / 2) as f64;
        let q = ((tau + 1.0) * pairs / 2.0).round();
        let cdf = inversion_cdf(n);
        // P(T ≥ q) = P(T ≤ N − q) by symmetry: no cancellation in 1 − P(T ≤ q − 1).
        let tail = if q > pairs / 2.0 {
            cdf[(pairs - q) as usize]
        } else {
            cdf[q as usize]
        };
        return Begg {
            tau,
            p: (2.0 * tail).min(1.0),
            p_method: "exact",
        };
    }
    let nf = n as f64;
    let t0 = nf * (nf - 1.0) / 2.0;
    let sum = |t: &[f64], f: fn(f64) -> f64| t.iter().map(|&v| f(v)).sum::<f64>();
    let t1 = sum(&x_ties, |t| t * (t - 1.0)) / 2.0;
    let t2 = sum(&y_ties, |t| t * (t - 1.0)) / 2.0;
    let stat = tau * ((t0 - t1) * (t0 - t2)).sqrt();
    let v0 = nf * (nf - 1.0) * (2.0 * nf + 5.0);
    let vt = sum(&x_ties, |t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(&y_ties, |t| t * (t - 1.0) * (2.0 * t + 5.0));
    let v1 = sum(&x_ties, |t| t * (t - 1.0)) * sum(&y_ties, |t| t * (t - 1.0));
    let v2 =
        sum(&x_ties, |t| t * (t - 1.0) * (t - 2.0)) * sum(&y_ties, |t| t * (t - 1.0) * (t - 2.0));
    let var_s = (v0 - vt - vu) / 18.0
        + v1 / (2.0 * nf * (nf - 1.0))
        + v2 / (9.0 * nf * (nf - 1.0) * (nf - 2.0));
    Begg {
        tau,
        p: normal_two_sided_p(stat / var_s.sqrt()),
        p_method: "normal",
    }
}

fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Sizes of the groups of equal values (groups of one left out).
fn tie_sizes(v: &[f64]) -> Vec<f64> {
    let mut sorted = v.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sizes = Vec::new();
    let mut run = 1.0;
    for pair in sorted.windows(2) {
        if pair[0] == pair[1] {
            run += 1.0;
        } else {
            if run > 1.0 {
                sizes.push(run);
            }
            run = 1.0;
        }
    }
    if run > 1.0 {
        sizes.push(run);
    }
    sizes
}

/// P(T ≤ q), q = 0..n(n−1)/2, for T the number of inversions of a random
/// permutation of n items (the null distribution of the concordant pairs).
///
/// P₁ = [1]; Pₘ(j) = (1/m) Σ_{i=0}^{m−1} Pₘ₋₁(j − i), the recursion of R's
/// `ckendall` divided by m at each step so that nothing overflows.
fn inversion_cdf(n: usize) -> Vec<f64> {
    let mut pmf = vec![1.0];
    for m in 2..=n {
        let len = pmf.len() + m - 1;
        let mut next = vec![0.0; len];
        let mut window = 0.0;
        for (j, slot) in next.iter_mut().enumerate() {
            if j < pmf.len() {
                window += pmf[j];
            }
            if j >= m {
                window -= pmf[j - m];
            }
            *slot = window / m as f64;
        }
        pmf = next;
    }
    let mut acc = 0.0;
    pmf.iter()
        .map(|p| {
            acc += p;
            acc.min(1.0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R 4.2.2: cor.test(x, y, method = "kendall", exact = TRUE).
    #[test]
    fn exact_p_matches_cor_test() {
        // cor.test(c(1,2,3,4,5,6), c(2,1,4,3,6,5), method = "kendall"): tau = 0.6, p = 0.13611111111111107 (= 49/360)
        let r = kendall_test(&[1., 2., 3., 4., 5., 6.], &[2., 1., 4., 3., 6., 5.]);
        assert!((r.tau - 0.6).abs() < 1e-15);
        assert!((r.p - 49.0 / 360.0).abs() < 1e-12);
        assert_eq!(r.p_method, "exact");
    }

    #[test]
    fn inversion_distribution_sums_to_one() {
        let cdf = inversion_cdf(7);
        assert_eq!(cdf.len(), 22);
        assert!((cdf[21] - 1.0).abs() < 1e-15);
        // 1 of 5040 permutations has no inversion.
        assert!((cdf[0] - 1.0 / 5040.0).abs() < 1e-18);
    }
}
