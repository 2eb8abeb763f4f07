//! Effect-size measures, under metafor's `escalc(measure = ...)` names.

use serde::Serialize;

use super::scale::Scale;

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

    /// Whether the measure is one group's proportion (`events` of `n`),
    /// raw or transformed.
    pub fn is_proportion(self) -> bool {
        matches!(
            self,
            Measure::PR | Measure::PLO | Measure::PFT | Measure::PAS
        )
    }

    /// Whether the measure is the log of a ratio (so a CI given on the ratio
    /// scale is logged, and plots use a log axis).
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            Measure::OR | Measure::RR | Measure::IRR | Measure::PETO
        )
    }

    /// The scale the measure's results are shown on: exp for log ratios, log
    /// means and log rates, tanh for Fisher's z, the inverse logit for PLO,
    /// sin² for PAS; linear where the analysis scale is the natural one.
    ///
    /// PFT is linear here: its inverse needs the studies' sample sizes
    /// ([`Measure::scale_given_n`]).
    pub fn scale(self) -> Scale {
        match self {
            Measure::OR | Measure::PETO | Measure::RR | Measure::IRR => Scale::Log,
            Measure::MNLN | Measure::IRLN => Scale::Log,
            Measure::ZCOR => Scale::Tanh,
            Measure::PLO => Scale::Logistic,
            Measure::PAS => Scale::ArcsineSquareRoot,
            _ => Scale::Linear,
        }
    }

    /// What the back-transformed results are ("OR", "r", "proportion"), for
    /// the measures that have a back-transformation.
    pub fn shown_as(self) -> Option<&'static str> {
        match self {
            Measure::OR | Measure::PETO => Some("OR"),
            Measure::RR => Some("RR"),
            Measure::ZCOR => Some("r"),
            Measure::PLO | Measure::PAS | Measure::PFT => Some("proportion"),
            Measure::MNLN => Some("mean"),
            Measure::IRR => Some("IRR"),
            Measure::IRLN => Some("rate"),
            _ => None,
        }
    }

    /// The natural back-transformation of a value on the analysis scale
    /// ([`Measure::scale`]), with the name of the scale it goes to
    /// ([`Measure::shown_as`]). `None` where the analysis scale is the
    /// natural one, and for PFT (see [`Measure::scale_given_n`]).
    pub fn back_transform(self) -> Option<(&'static str, BackTransform)> {
        let to: BackTransform = match self.scale() {
            Scale::Log => f64::exp,
            Scale::Tanh => f64::tanh,
            Scale::Logistic => |x| Scale::Logistic.to_display(x),
            Scale::ArcsineSquareRoot => |x| Scale::ArcsineSquareRoot.to_display(x),
            Scale::Linear | Scale::FreemanTukey { .. } => return None,
        };
        Some((self.shown_as()?, to))
    }

    /// The scale of a measure whose inverse may need the studies' sample
    /// sizes `n`: PFT, inverted at their harmonic mean as metafor's
    /// `transf.ipft.hm` (linear without them). Other measures give
    /// [`Measure::scale`].
    pub fn scale_given_n(self, n: impl Iterator<Item = f64>) -> Scale {
        match self {
            Measure::PFT => Scale::freeman_tukey(n).unwrap_or(Scale::Linear),
            _ => self.scale(),
        }
    }

    /// The label of a plot axis showing this measure on `scale` (its
    /// [`Measure::scale`], or PFT's scale for its data).
    pub fn axis_label(self, scale: Scale) -> &'static str {
        match self {
            Measure::OR | Measure::PETO => "Odds ratio (log scale)",
            Measure::RR => "Risk ratio (log scale)",
            Measure::SMD => "Standardised mean difference",
            Measure::MD => "Mean difference",
            Measure::RD => "Risk difference",
            Measure::ZCOR | Measure::COR => "Correlation",
            Measure::PR | Measure::PLO | Measure::PAS => "Proportion",
            Measure::PFT if !scale.is_linear() => "Proportion",
            Measure::PFT => "Freeman-Tukey transformed proportion",
            Measure::SMCR | Measure::SMCC => "Standardised mean change",
            Measure::MC => "Mean change",
            Measure::MN => "Mean",
            Measure::MNLN => "Mean (log scale)",
            Measure::IRR => "Incidence rate ratio (log scale)",
            Measure::IRLN => "Incidence rate (log scale)",
            Measure::IRD => "Incidence rate difference",
            Measure::ROM => "Log ratio of means",
            Measure::SMDH => "Standardised mean difference (SMDH)",
            Measure::UCOR => "Correlation (unbiased)",
            Measure::GEN => "Effect size",
        }
    }

    /// The heading of a column of this measure's estimates on `scale`: "OR",
    /// "SMD", "r", "Proportion".
    pub fn column_name(self, scale: Scale) -> &'static str {
        match self {
            Measure::OR | Measure::PETO => "OR",
            Measure::RR => "RR",
            Measure::SMD => "SMD",
            Measure::MD => "MD",
            Measure::RD => "RD",
            Measure::ZCOR | Measure::COR | Measure::UCOR => "r",
            Measure::PR | Measure::PLO | Measure::PAS => "Proportion",
            Measure::PFT if !scale.is_linear() => "Proportion",
            Measure::PFT => "PFT",
            Measure::SMCR | Measure::SMCC => "SMC",
            Measure::MC => "MC",
            Measure::MN | Measure::MNLN => "Mean",
            Measure::IRR => "IRR",
            Measure::IRLN => "Rate",
            Measure::IRD => "IRD",
            Measure::SMDH => "SMDH",
            Measure::ROM => "log ROM",
            Measure::GEN => "Estimate",
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

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
