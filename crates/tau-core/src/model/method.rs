//! The τ² estimators by their metafor names (`rma(method = ...)`). The
//! estimators themselves are in [`super::tau2`].

use serde::Serialize;

/// A τ² estimator, named as in metafor's `rma(method = ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Method {
    /// Common (equal) effect: τ² = 0 (metafor `"EE"`, formerly `"FE"`).
    #[serde(rename = "EE")]
    EE,
    /// DerSimonian & Laird (1986) method of moments.
    DL,
    /// Restricted maximum likelihood (Viechtbauer 2005), metafor's default.
    REML,
    /// Maximum likelihood (Hardy & Thompson 1996).
    ML,
    /// Paule & Mandel (1982): the generalised Q equals its expectation.
    PM,
    /// Hedges (1983) / Hedges & Olkin (1985) unweighted method of moments.
    HE,
    /// Hunter & Schmidt (2004).
    HS,
    /// Sidik & Jonkman (2005).
    SJ,
    /// Empirical Bayes (Morris 1983; Berkey et al. 1995).
    EB,
    /// DerSimonian-Laird iterated to convergence (DerSimonian & Kacker 2007).
    DLIT,
    /// Sidik-Jonkman iterated to convergence (Sidik & Jonkman 2007).
    SJIT,
    /// Hunter-Schmidt with the k/(k − p) small-sample correction.
    #[serde(rename = "HSk")]
    HSk,
    /// Median-unbiased Paule-Mandel (Viechtbauer 2021).
    PMM,
    /// Generalised Q with the user's weights (DerSimonian & Kacker 2007).
    GENQ,
    /// Median-unbiased generalised Q with the user's weights (Jackson 2013).
    GENQM,
}

impl Method {
    /// All estimators, in the order metafor's documentation lists them.
    pub const ALL: [Method; 15] = [
        Method::EE,
        Method::DL,
        Method::REML,
        Method::ML,
        Method::PM,
        Method::HE,
        Method::HS,
        Method::SJ,
        Method::EB,
        Method::DLIT,
        Method::SJIT,
        Method::HSk,
        Method::PMM,
        Method::GENQ,
        Method::GENQM,
    ];

    /// metafor's name of the estimator.
    pub fn name(self) -> &'static str {
        match self {
            Method::EE => "EE",
            Method::DL => "DL",
            Method::REML => "REML",
            Method::ML => "ML",
            Method::PM => "PM",
            Method::HE => "HE",
            Method::HS => "HS",
            Method::SJ => "SJ",
            Method::EB => "EB",
            Method::DLIT => "DLIT",
            Method::SJIT => "SJIT",
            Method::HSk => "HSk",
            Method::PMM => "PMM",
            Method::GENQ => "GENQ",
            Method::GENQM => "GENQM",
        }
    }

    /// Parses a metafor name (case-insensitive; `FE` and `CE` mean `EE`).
    pub fn parse(name: &str) -> Option<Method> {
        let upper = name.to_ascii_uppercase();
        match upper.as_str() {
            "FE" | "CE" => Some(Method::EE),
            _ => Method::ALL
                .into_iter()
                .find(|m| m.name().eq_ignore_ascii_case(&upper)),
        }
    }

    /// Whether the estimator iterates (and so can fail to converge).
    pub fn is_iterative(self) -> bool {
        matches!(
            self,
            Method::REML
                | Method::ML
                | Method::EB
                | Method::PM
                | Method::DLIT
                | Method::SJIT
                | Method::PMM
                | Method::GENQM
        )
    }

    /// Whether the estimator itself weights the studies by the user's
    /// weights (metafor's `weights =`, tau's `weight` field), which it needs.
    pub fn needs_weights(self) -> bool {
        matches!(self, Method::GENQ | Method::GENQM)
    }
}
