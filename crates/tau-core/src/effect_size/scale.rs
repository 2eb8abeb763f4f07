//! How a measure is shown to readers: the scale they know (a risk ratio, a
//! correlation, a proportion) and the map to it from the analysis scale
//! (log RR, Fisher's z, a logit). Every view takes these facts from here: the
//! text and paper reports back-transform with [`Scale::to_display`], and the
//! plots put their ticks with [`Scale::from_display`] (as metafor's
//! `forest(..., atransf = exp)`).

/// The map from the analysis scale to the scale readers know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// As they are.
    Linear,
    /// exp(x): log ratios, log means and log rates.
    Log,
    /// tanh(x): Fisher's z as a correlation (metafor `transf.ztor`).
    Tanh,
    /// 1 / (1 + e^(−x)): logits as proportions (metafor `transf.ilogit`).
    Logistic,
    /// sin²(x), held to [0, 1] outside [0, π/2]: arcsine square roots as
    /// proportions (metafor `transf.iarcsin`).
    ArcsineSquareRoot,
    /// Miller's (1978) inverse of the Freeman–Tukey double arcsine at the
    /// harmonic mean `n` of the studies' sample sizes (metafor
    /// `transf.ipft.hm`).
    FreemanTukey {
        /// The harmonic mean of the sample sizes.
        n: f64,
    },
}

impl Scale {
    /// Analysis scale → the scale readers know.
    pub fn to_display(self, x: f64) -> f64 {
        match self {
            Scale::Linear => x,
            Scale::Log => x.exp(),
            Scale::Tanh => x.tanh(),
            Scale::Logistic => 1.0 / (1.0 + (-x).exp()),
            Scale::ArcsineSquareRoot => inverse_arcsine(x),
            Scale::FreemanTukey { n } => inverse_freeman_tukey(x, n),
        }
    }

    /// The scale readers know → analysis scale.
    pub fn from_display(self, v: f64) -> f64 {
        match self {
            Scale::Linear => v,
            Scale::Log => v.ln(),
            Scale::Tanh => v.atanh(),
            Scale::Logistic => (v / (1.0 - v)).ln(),
            Scale::ArcsineSquareRoot => v.sqrt().asin(),
            Scale::FreemanTukey { n } => freeman_tukey(v, n),
        }
    }

    /// Whether values are shown as they are.
    pub fn is_linear(self) -> bool {
        self == Scale::Linear
    }

    /// The Freeman–Tukey scale at the harmonic mean of the sample sizes `n`,
    /// or `None` when there are none (or one is not positive).
    pub fn freeman_tukey(n: impl Iterator<Item = f64>) -> Option<Scale> {
        let (count, reciprocals) = n.fold((0.0, 0.0), |(k, s), n| (k + 1.0, s + 1.0 / n));
        let harmonic = count / reciprocals;
        (count > 0.0 && harmonic.is_finite() && harmonic > 0.0)
            .then_some(Scale::FreemanTukey { n: harmonic })
    }
}

/// The inverse of the arcsine square root transformation, sin²(x), held to
/// [0, 1] outside [0, π/2] (metafor `transf.iarcsin`).
fn inverse_arcsine(x: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else if x > std::f64::consts::FRAC_PI_2 {
        1.0
    } else {
        x.sin().powi(2)
    }
}

/// The Freeman–Tukey double arcsine of the proportion `p` out of `n`:
/// ½[asin √(np/(n+1)) + asin √((np+1)/(n+1))] (metafor `transf.pft`).
fn freeman_tukey(p: f64, n: f64) -> f64 {
    let x = p * n;
    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin())
}

/// Miller's (1978) inverse of the Freeman–Tukey double arcsine at sample size `n`:
/// p = ½[1 − sgn(cos 2x) √(1 − (sin 2x + (sin 2x − 1/sin 2x)/n)²)], 0 below the
/// transform of p = 0 and 1 above that of p = 1 (metafor `transf.ipft`; with
/// the harmonic mean of the n's, `transf.ipft.hm`). NaN where the root is of a
/// negative number, as metafor's NA.
fn inverse_freeman_tukey(x: f64, n: f64) -> f64 {
    if x > freeman_tukey(1.0, n) {
        return 1.0;
    }
    if x < freeman_tukey(0.0, n) {
        return 0.0;
    }
    let s = (2.0 * x).sin();
    let c = (2.0 * x).cos();
    let inner = s + (s - 1.0 / s) / n;
    0.5 * (1.0 - c.signum() * (1.0 - inner * inner).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// metafor 3.8.1: `transf.ipft(c(-0.1, 0.05, 0.3, 0.78, 1.2, 1.55, 1.6), 12.5)`
    /// (0 and 1 below and above `transf.pft(c(0, 1), 12.5)`) and
    /// `transf.iarcsin(c(-0.2, 0.4, 1.6))`.
    #[test]
    fn inverse_transformations_match_metafor() {
        let pft = [
            (-0.1, 0.0),
            (0.05, 0.0),
            (0.3, 0.05817053908100278),
            (0.78, 0.49418611490599146),
            (1.2, 0.8957909882465305),
            (1.55, 1.0),
            (1.6, 1.0),
        ];
        for (x, p) in pft {
            let got = inverse_freeman_tukey(x, 12.5);
            assert!((got - p).abs() <= 1e-14 * p.max(1.0), "{x}: {got} vs {p}");
        }
        assert!((freeman_tukey(0.0, 12.5) - 0.1378213996081327).abs() < 1e-15);
        assert!((freeman_tukey(1.0, 12.5) - 1.432974927186764).abs() < 1e-15);
        for (x, p) in [(-0.2, 0.0), (0.4, 0.1516466453264173), (1.6, 1.0)] {
            assert!((inverse_arcsine(x) - p).abs() < 1e-15, "{x}");
        }
    }

    /// The harmonic mean of n drives PFT's inverse; no n, no scale.
    #[test]
    fn freeman_tukey_scale_uses_the_harmonic_mean() {
        let harmonic = 3.0 / (0.1 + 0.05 + 0.025);
        let scale = Scale::freeman_tukey([10.0, 20.0, 40.0].into_iter());
        assert_eq!(scale, Some(Scale::FreemanTukey { n: harmonic }));
        assert_eq!(
            scale.map(|s| s.to_display(0.9)),
            Some(inverse_freeman_tukey(0.9, harmonic))
        );
        assert_eq!(Scale::freeman_tukey(std::iter::empty()), None);
        for scale in [
            Scale::Log,
            Scale::Tanh,
            Scale::Logistic,
            Scale::FreemanTukey { n: 12.5 },
        ] {
            let x = scale.from_display(0.3);
            assert!((scale.to_display(x) - 0.3).abs() < 1e-12, "{scale:?}");
        }
    }
}
