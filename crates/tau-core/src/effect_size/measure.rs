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
}

impl Measure {
    /// All measures.
    pub const ALL: [Measure; 10] = [
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
        }
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
        }
    }

    /// Whether the measure is the log of a ratio (so a CI given on the ratio
    /// scale is logged, and plots use a log axis).
    pub fn is_ratio(self) -> bool {
        matches!(self, Measure::OR | Measure::RR)
    }

    /// The natural back-transformation of a value on the analysis scale, with
    /// the name of the scale it goes to: exp for OR/RR, tanh for Fisher's z,
    /// the inverse logit for PLO. `None` where the analysis scale is the natural one.
    pub fn back_transform(self) -> Option<(&'static str, BackTransform)> {
        match self {
            Measure::OR => Some(("OR", f64::exp)),
            Measure::RR => Some(("RR", f64::exp)),
            Measure::ZCOR => Some(("r", f64::tanh)),
            Measure::PLO => Some(("proportion", |x| 1.0 / (1.0 + (-x).exp()))),
            _ => None,
        }
    }

    /// The value of "no effect" on the analysis scale (0 for all differences
    /// and log ratios); `None` for single-group measures.
    pub fn null_value(self) -> Option<f64> {
        match self {
            Measure::PR | Measure::PLO => None,
            _ => Some(0.0),
        }
    }
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
