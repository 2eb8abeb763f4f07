//! Effect-size measures, under metafor's `escalc(measure = ...)` names.

use serde::Serialize;

/// A function from the analysis scale to the natural scale.
pub type BackTransform = fn(f64) -> f64;

/// A back-transformation that may depend on the data (PFT's on the studies' n).
pub type DataBackTransform = Box<dyn Fn(f64) -> f64>;

/// An effect-size measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Measure {
    /// Standardised mean difference, Hedges' g (bias-corrected).
    SMD,
    /// Raw mean difference.
    MD,
    /// Log odds ratio.
    OR,
    /// Log risk ratio.
    RR,
    /// Risk difference.
    RD,
    /// Fisher's r-to-z transformed correlation.
    ZCOR,
    /// Raw correlation coefficient.
    COR,
    /// Raw proportion.
    PR,
    /// Logit-transformed proportion.
    PLO,
    /// Generic: outcomes given directly as yi with vi or sei.
    GEN,
    // Pre-post and single means.
    /// Standardised mean change, raw-score standardisation (post − pre over the pre SD).
    SMCR,
    /// Standardised mean change, change-score standardisation (post − pre over the SD of the change).
    SMCC,
    /// Raw mean change (post − pre).
    MC,
    /// Raw mean of one group.
    MN,
    /// Log mean of one group.
    MNLN,
    // rates, transformed proportions, UCOR, SMDH, ROM
    /// Standardised mean difference with heteroscedastic variances (Bonett).
    SMDH,
    /// Log ratio of means (log response ratio).
    ROM,
    /// Log incidence rate ratio.
    IRR,
    /// Incidence rate difference.
    IRD,
    /// Log incidence rate (single group).
    IRLN,
    /// Freeman–Tukey double arcsine transformed proportion.
    PFT,
    /// Arcsine square root transformed proportion.
    PAS,
    /// Unbiased (Olkin–Pratt) correlation coefficient.
    UCOR,
    /// Peto's log odds ratio, (O − E)/V from the 2×2 table (Yusuf et al. 1985).
    PETO,
}

impl Measure {
    /// All measures.
    pub const ALL: [Measure; 24] = [
        Measure::SMD,
        Measure::MD,
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::ZCOR,
        Measure::COR,
        Measure::PR,
        Measure::PLO,
        Measure::GEN,
        // Pre-post and single means.
        Measure::SMCR,
        Measure::SMCC,
        Measure::MC,
        Measure::MN,
        Measure::MNLN,
        // rates, transformed proportions, UCOR, SMDH, ROM
        Measure::SMDH,
        Measure::ROM,
        Measure::IRR,
        Measure::IRD,
        Measure::IRLN,
        Measure::PFT,
        Measure::PAS,
        Measure::UCOR,
        Measure::PETO,
    ];

    /// metafor's name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::SMD => "SMD",
            Measure::MD => "MD",
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::ZCOR => "ZCOR",
            Measure::COR => "COR",
            Measure::PR => "PR",
            Measure::PLO => "PLO",
            Measure::GEN => "GEN",
            // Pre-post and single means.
            Measure::SMCR => "SMCR",
            Measure::SMCC => "SMCC",
            Measure::MC => "MC",
            Measure::MN => "MN",
            Measure::MNLN => "MNLN",
            // rates, transformed proportions, UCOR, SMDH, ROM
            Measure::SMDH => "SMDH",
            Measure::ROM => "ROM",
            Measure::IRR => "IRR",
            Measure::IRD => "IRD",
            Measure::IRLN => "IRLN",
            Measure::PFT => "PFT",
            Measure::PAS => "PAS",
            Measure::UCOR => "UCOR",
            Measure::PETO => "PETO",
        }
    }

    /// Every measure's name, for messages: "SMD, MD, OR, ...".
    pub fn list() -> String {
        Measure::ALL.map(Measure::name).join(", ")
    }

    /// Parses a name, case-insensitively.
    pub fn parse(name: &str) -> Option<Measure> {
        let upper = name.trim().to_ascii_uppercase();
        Measure::ALL.into_iter().find(|m| m.name() == upper)
    }

    /// A description for reports.
    pub fn description(self) -> &'static str {
        match self {
            Measure::SMD => "standardised mean difference (Hedges' g)",
            Measure::MD => "mean difference",
            Measure::OR => "log odds ratio",
            Measure::RR => "log risk ratio",
            Measure::RD => "risk difference",
            Measure::ZCOR => "Fisher's z-transformed correlation",
            Measure::COR => "correlation coefficient",
            Measure::PR => "proportion",
            Measure::PLO => "log odds (logit) of a proportion",
            Measure::GEN => "generic effect size",
            // Pre-post and single means.
            Measure::SMCR => "standardised mean change (raw-score standardisation)",
            Measure::SMCC => "standardised mean change (change-score standardisation)",
            Measure::MC => "mean change",
            Measure::MN => "mean",
            Measure::MNLN => "log mean",
            // rates, transformed proportions, UCOR, SMDH, ROM
            Measure::SMDH => "standardised mean difference, heteroscedastic (SMDH)",
            Measure::ROM => "log ratio of means",
            Measure::IRR => "log incidence rate ratio",
            Measure::IRD => "incidence rate difference",
            Measure::IRLN => "log incidence rate",
            Measure::PFT => "Freeman-Tukey double arcsine transformed proportion",
            Measure::PAS => "arcsine square root transformed proportion",
            Measure::UCOR => "unbiased correlation coefficient",
            Measure::PETO => "Peto's log odds ratio",
        }
    }

    /// The measure as a report heading names it: what the numbers are, and
    /// the scale of the back-transformed results where there are any
    /// ("log risk ratio (RR after back-transformation)"); GEN is explained.
    pub fn label(self) -> &'static str {
        match self {
            Measure::SMD => "standardised mean difference (SMD, Hedges' g)",
            Measure::MD => "mean difference (MD)",
            Measure::OR => "log odds ratio (OR after back-transformation)",
            Measure::RR => "log risk ratio (RR after back-transformation)",
            Measure::RD => "risk difference (RD)",
            Measure::ZCOR => "Fisher's z-transformed correlation (r after back-transformation)",
            Measure::COR => "correlation coefficient (COR)",
            Measure::PR => "proportion (PR)",
            Measure::PLO => "log odds of a proportion (proportion after back-transformation)",
            Measure::GEN => "GEN: generic effect sizes, analysed as given in yi and vi",
            // Pre-post and single means.
            Measure::SMCR => {
                "standardised mean change, post - pre over the pre-test SD (SMCR, bias-corrected)"
            }
            Measure::SMCC => {
                "standardised mean change, post - pre over the SD of the change (SMCC, bias-corrected)"
            }
            Measure::MC => "mean change, post - pre (MC)",
            Measure::MN => "mean (MN)",
            Measure::MNLN => "log mean (mean after back-transformation)",
            // rates, transformed proportions, UCOR, SMDH, ROM
            Measure::SMDH => "standardised mean difference for unequal variances (SMDH)",
            Measure::ROM => "log ratio of means (ROM)",
            Measure::IRR => "log incidence rate ratio (rate ratio after back-transformation)",
            Measure::IRD => "incidence rate difference (IRD)",
            Measure::IRLN => "log incidence rate (rate after back-transformation)",
            Measure::PFT => "Freeman-Tukey double arcsine of a proportion (PFT)",
            Measure::PAS => {
                "arcsine square root of a proportion (proportion after back-transformation)"
            }
            Measure::UCOR => "unbiased correlation coefficient (UCOR)",
            Measure::PETO => "Peto's log odds ratio (OR after back-transformation)",
        }
    }

    /// Whether the measure is the log of a ratio (so a CI given on the ratio
    /// scale is logged, and plots use a log axis).
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            Measure::OR | Measure::RR | Measure::IRR | Measure::PETO
        )
    }

    /// The natural back-transformation of a value on the analysis scale, with
    /// the name of the scale it goes to: exp for OR/RR, tanh for Fisher's z,
    /// the inverse logit for PLO, exp for MNLN. `None` where the analysis scale
    /// is the natural one.
    ///
    /// PFT is `None` here: its inverse depends on the studies' sample sizes
    /// (see [`Measure::back_transform_given_n`]).
    pub fn back_transform(self) -> Option<(&'static str, BackTransform)> {
        match self {
            Measure::OR | Measure::PETO => Some(("OR", f64::exp)),
            Measure::RR => Some(("RR", f64::exp)),
            Measure::ZCOR => Some(("r", f64::tanh)),
            Measure::PLO => Some(("proportion", |x| 1.0 / (1.0 + (-x).exp()))),
            Measure::MNLN => Some(("mean", f64::exp)),
            // rates, transformed proportions, UCOR, SMDH, ROM
            Measure::IRR => Some(("IRR", f64::exp)),
            Measure::IRLN => Some(("rate", f64::exp)),
            Measure::PAS => Some(("proportion", inverse_arcsine)),
            _ => None,
        }
    }

    /// The back-transformation of a measure whose inverse needs the studies'
    /// sample sizes `n`: PFT, inverted at their harmonic mean as metafor's
    /// `transf.ipft.hm`. Other measures give [`Measure::back_transform`].
    pub fn back_transform_given_n(
        self,
        n: impl Iterator<Item = f64>,
    ) -> Option<(&'static str, DataBackTransform)> {
        if self == Measure::PFT {
            let (count, reciprocals) = n.fold((0.0, 0.0), |(k, s), n| (k + 1.0, s + 1.0 / n));
            let harmonic = count / reciprocals;
            (count > 0.0 && harmonic.is_finite()).then(|| {
                let f: DataBackTransform = Box::new(move |x| inverse_freeman_tukey(x, harmonic));
                ("proportion", f)
            })
        } else {
            self.back_transform()
                .map(|(scale, f)| (scale, Box::new(f) as DataBackTransform))
        }
    }

    /// The value of "no effect" on the analysis scale (0 for all differences
    /// and log ratios); `None` for single-group measures.
    pub fn null_value(self) -> Option<f64> {
        match self {
            Measure::PR | Measure::PLO | Measure::MN | Measure::MNLN => None,
            // rates, transformed proportions, UCOR, SMDH, ROM
            Measure::IRLN | Measure::PFT | Measure::PAS => None,
            _ => Some(0.0),
        }
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

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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

    /// The harmonic mean of n drives PFT's inverse; no n, no back-transformation.
    #[test]
    fn freeman_tukey_back_transform_uses_the_harmonic_mean() {
        let (scale, f) = Measure::PFT
            .back_transform_given_n([10.0, 20.0, 40.0].into_iter())
            .unwrap();
        assert_eq!(scale, "proportion");
        let harmonic = 3.0 / (0.1 + 0.05 + 0.025);
        assert_eq!(f(0.9), inverse_freeman_tukey(0.9, harmonic));
        assert!(
            Measure::PFT
                .back_transform_given_n(std::iter::empty())
                .is_none()
        );
        assert!(Measure::PFT.back_transform().is_none());
        let (_, exp) = Measure::IRR
            .back_transform_given_n(std::iter::empty())
            .unwrap();
        assert_eq!(exp(0.5), 0.5f64.exp());
    }
}
