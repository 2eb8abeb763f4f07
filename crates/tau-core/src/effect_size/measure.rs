//! Effect-size measures, under metafor's `escalc(measure = ...)` names.

use serde::Serialize;

/// A function from the analysis scale to the natural scale.
pub type BackTransform = fn(f64) -> f64;

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
}

impl Measure {
    /// All measures.
    pub const ALL: [Measure; 15] = [
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
        }
    }

    /// Every measure's name, for messages: "SMD, MD, ..., GEN".
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
        }
    }

    /// Whether the measure is the log of a ratio (so a CI given on the ratio
    /// scale is logged, and plots use a log axis).
    pub fn is_ratio(self) -> bool {
        matches!(self, Measure::OR | Measure::RR)
    }

    /// The natural back-transformation of a value on the analysis scale, with
    /// the name of the scale it goes to: exp for OR/RR, tanh for Fisher's z,
    /// the inverse logit for PLO, exp for MNLN. `None` where the analysis scale
    /// is the natural one.
    pub fn back_transform(self) -> Option<(&'static str, BackTransform)> {
        match self {
            Measure::OR => Some(("OR", f64::exp)),
            Measure::RR => Some(("RR", f64::exp)),
            Measure::ZCOR => Some(("r", f64::tanh)),
            Measure::PLO => Some(("proportion", |x| 1.0 / (1.0 + (-x).exp()))),
            Measure::MNLN => Some(("mean", f64::exp)),
            _ => None,
        }
    }

    /// The value of "no effect" on the analysis scale (0 for all differences
    /// and log ratios); `None` for single-group measures.
    pub fn null_value(self) -> Option<f64> {
        match self {
            Measure::PR | Measure::PLO | Measure::MN | Measure::MNLN => None,
            _ => Some(0.0),
        }
    }
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
