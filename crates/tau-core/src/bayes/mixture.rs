//! Mixtures of normal distributions, Σⱼ wⱼ N(mⱼ, sⱼ²): the posterior of μ,
//! the predictive distribution of a new study's θ and the posterior of each
//! study's θᵢ are such mixtures over the nodes of the τ rule
//! ([`super::posterior`]), since given τ each is normal.

use super::quadrature::newton_root;

/// Φ(z), the standard normal distribution function (to 1e-16 relative in
/// both tails, by erfc).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z * std::f64::consts::FRAC_1_SQRT_2)
}

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// A normal mixture.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mixture {
    weights: Vec<f64>,
    means: Vec<f64>,
    sds: Vec<f64>,
}

impl Mixture {
    /// The mixture of the components (weight, mean, variance); components of
    /// weight 0 are dropped. The weights must sum to 1.
    pub fn new(components: impl Iterator<Item = (f64, f64, f64)>) -> Mixture {
        let mut m = Mixture::default();
        for (w, mean, var) in components {
            if w > 0.0 {
                m.weights.push(w);
                m.means.push(mean);
                m.sds.push(var.sqrt());
            }
        }
        m
    }

    /// The mixture of two mixtures, weighted a and 1 − a.
    pub fn blend(first: &Mixture, a: f64, second: &Mixture) -> Mixture {
        let scaled = |m: &Mixture, by: f64| {
            m.weights
                .iter()
                .zip(m.means.iter().zip(&m.sds))
                .map(move |(w, (mean, sd))| (w * by, *mean, sd * sd))
                .collect::<Vec<_>>()
        };
        let mut all = scaled(first, a);
        all.extend(scaled(second, 1.0 - a));
        Mixture::new(all.into_iter())
    }

    /// (F(x), f(x)).
    pub fn cdf_pdf(&self, x: f64) -> (f64, f64) {
        let (mut cdf, mut pdf) = (0.0, 0.0);
        for ((w, m), s) in self.weights.iter().zip(&self.means).zip(&self.sds) {
            let z = (x - m) / s;
            cdf += w * normal_cdf(z);
            pdf += w * INV_SQRT_2PI * (-0.5 * z * z).exp() / s;
        }
        (cdf, pdf)
    }

    /// f(x).
    pub fn pdf(&self, x: f64) -> f64 {
        let mut pdf = 0.0;
        for ((w, m), s) in self.weights.iter().zip(&self.means).zip(&self.sds) {
            let z = (x - m) / s;
            pdf += w * INV_SQRT_2PI * (-0.5 * z * z).exp() / s;
        }
        pdf
    }

    /// f′(x).
    fn pdf_slope(&self, x: f64) -> f64 {
        let mut slope = 0.0;
        for ((w, m), s) in self.weights.iter().zip(&self.means).zip(&self.sds) {
            let z = (x - m) / s;
            slope -= w * INV_SQRT_2PI * (-0.5 * z * z).exp() * z / (s * s);
        }
        slope
    }

    /// The mean and standard deviation.
    pub fn moments(&self) -> (f64, f64) {
        let (mut m1, mut m2) = (0.0, 0.0);
        for ((w, m), s) in self.weights.iter().zip(&self.means).zip(&self.sds) {
            m1 += w * m;
            m2 += w * (m * m + s * s);
        }
        (m1, (m2 - m1 * m1).max(0.0).sqrt())
    }

    /// A bracket that holds every quantile above 1e-300.
    fn bracket(&self) -> (f64, f64) {
        let lo = self
            .means
            .iter()
            .zip(&self.sds)
            .map(|(m, s)| m - 40.0 * s)
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .means
            .iter()
            .zip(&self.sds)
            .map(|(m, s)| m + 40.0 * s)
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    /// The p-quantile, starting Newton's method at `start`.
    pub fn quantile_from(&self, p: f64, start: f64) -> f64 {
        if p <= 0.0 {
            return f64::NEG_INFINITY;
        }
        if p >= 1.0 {
            return f64::INFINITY;
        }
        let (lo, hi) = self.bracket();
        newton_root(|x| self.cdf_pdf(x), p, lo, hi, start)
    }

    /// The p-quantile.
    pub fn quantile(&self, p: f64) -> f64 {
        let (mean, sd) = self.moments();
        let z = -super::summary::normal_quantile_upper(p);
        self.quantile_from(p, mean + z * sd)
    }

    /// The mode, as the root of f′ between the 10% and 90% quantiles
    /// (bayesmeta searches the same range); Brent's minimiser where f′ does
    /// not change sign there.
    pub fn mode(&self) -> f64 {
        let lo = self.quantile(0.1);
        let hi = self.quantile(0.9);
        let (a, b) = (self.pdf_slope(lo), self.pdf_slope(hi));
        if a > 0.0 && b < 0.0 {
            let tol = 1e-15 * (hi - lo).max(lo.abs().max(hi.abs()));
            match crate::numerics::zeroin::zeroin(|x| self.pdf_slope(x), lo, hi, a, b, tol, 1000) {
                Ok(root) | Err(root) => root.x,
            }
        } else {
            super::quadrature::fmin(|x| -self.pdf(x), lo, hi, 1e-12 * (hi - lo)).0
        }
    }
}
