//! Quantiles and tail probabilities of the reference distributions (normal,
//! Student's t, χ², F), as R's `qnorm`, `qt`, `qchisq`, `pnorm`, `pt`,
//! `pchisq` and `pf` give them.
//!
//! statrs supplies the distribution functions. Its χ² and t quantiles come
//! from numerical inversion with a loose tolerance, so each quantile here is
//! polished with Newton steps on the (accurate) distribution function.

use statrs::distribution::{
    ChiSquared, Continuous, ContinuousCDF, FisherSnedecor, Normal, StudentsT,
};

fn standard_normal() -> Normal {
    // Mean 0 and sd 1 are always valid parameters.
    Normal::standard()
}

/// Refines an approximate quantile x of a distribution so that cdf(x) = prob.
fn polish<D: ContinuousCDF<f64, f64> + Continuous<f64, f64>>(
    dist: &D,
    prob: f64,
    mut x: f64,
) -> f64 {
    for _ in 0..8 {
        let density = dist.pdf(x);
        if density.is_nan() || density <= 0.0 || !x.is_finite() {
            break;
        }
        let step = (dist.cdf(x) - prob) / density;
        x -= step;
        if step.abs() <= 1e-15 * x.abs().max(1e-300) {
            break;
        }
    }
    x
}

/// Upper quantile of the standard normal: z such that P(Z > z) = alpha.
///
/// NaN when `alpha` is not a probability (statrs would panic).
pub fn normal_upper(alpha: f64) -> f64 {
    if !is_probability(alpha) {
        return f64::NAN;
    }
    standard_normal().inverse_cdf(1.0 - alpha)
}

/// Whether `p` lies in [0, 1] (false for NaN).
fn is_probability(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

/// Upper quantile of Student's t with `df` degrees of freedom.
pub fn t_upper(alpha: f64, df: f64) -> f64 {
    if !is_probability(alpha) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => polish(&dist, 1.0 - alpha, dist.inverse_cdf(1.0 - alpha)),
        Err(_) => f64::NAN,
    }
}

/// Quantile of the χ² distribution with `df` degrees of freedom: P(X ≤ x) = prob.
pub fn chisq_quantile(prob: f64, df: f64) -> f64 {
    if !is_probability(prob) {
        return f64::NAN;
    }
    match ChiSquared::new(df) {
        Ok(dist) => polish(&dist, prob, dist.inverse_cdf(prob)),
        Err(_) => f64::NAN,
    }
}

/// `sf(x)` for a statistic that may not be finite: NaN stays NaN (a p-value
/// of an undefined statistic is undefined) and +∞ has upper tail 0. statrs
/// panics on a NaN argument in several distributions (its incomplete beta
/// function unwraps), so such values never reach it.
fn upper_tail(x: f64, sf: impl Fn(f64) -> f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else if x == f64::INFINITY {
        0.0
    } else {
        sf(x)
    }
}

/// Two-sided p-value of a z statistic: 2 P(Z > |z|).
pub fn normal_two_sided_p(z: f64) -> f64 {
    2.0 * upper_tail(z.abs(), |x| standard_normal().sf(x))
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => 2.0 * upper_tail(t.abs(), |x| dist.sf(x)),
        Err(_) => f64::NAN,
    }
}

/// Upper tail P(X > q) of the χ² distribution with `df` degrees of freedom.
pub fn chisq_sf(q: f64, df: f64) -> f64 {
    match ChiSquared::new(df) {
        Ok(dist) => upper_tail(q, |x| dist.sf(x.max(0.0))),
        Err(_) => f64::NAN,
    }
}

/// Upper tail P(X > f) of the F distribution with (df1, df2) degrees of freedom.
pub fn f_sf(f: f64, df1: f64, df2: f64) -> f64 {
    match FisherSnedecor::new(df1, df2) {
        Ok(dist) => upper_tail(f, |x| dist.sf(x.max(0.0))),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_impossible_probabilities_are_nan() {
        assert!(normal_upper(1.5).is_nan());
        assert!(t_upper(-0.1, 3.0).is_nan());
        assert!(chisq_quantile(f64::NAN, 2.0).is_nan());
    }

    /// Found by fuzzing (parse_and_fit): statrs panicked on a NaN t statistic.
    #[test]
    fn p_values_of_undefined_statistics_are_nan_not_panics() {
        for p in [
            normal_two_sided_p(f64::NAN),
            t_two_sided_p(f64::NAN, 3.0),
            chisq_sf(f64::NAN, 2.0),
            f_sf(f64::NAN, 1.0, 3.0),
        ] {
            assert!(p.is_nan());
        }
        assert_eq!(t_two_sided_p(f64::INFINITY, 3.0), 0.0);
        assert_eq!(f_sf(f64::INFINITY, 1.0, 3.0), 0.0);
        assert_eq!(chisq_sf(f64::INFINITY, 2.0), 0.0);
    }

    /// Reference values from R 4.2.2 (Debian bookworm): qnorm(.975), qt(.975, 5), qchisq(.025, 3), qchisq(.975, 17).
    #[test]
    fn quantiles_match_r() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
        assert!(close(normal_upper(0.025), 1.9599639845400536));
        assert!(close(t_upper(0.025, 5.0), 2.5705818356363137));
        assert!(close(chisq_quantile(0.025, 3.0), 0.21579528262389788));
        assert!(close(chisq_quantile(0.975, 17.0), 30.191009121639805));
    }
}
