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
}

impl Method {
    /// All estimators, in the order metafor's documentation lists them.
    pub const ALL: [Method; 9] = [
        Method::EE,
        Method::DL,
        Method::REML,
        Method::ML,
        Method::PM,
        Method::HE,
        Method::HS,
        Method::SJ,
        Method::EB,
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
        }
    }

    /// Parses a metafor name (case-insensitive; `FE` and `CE` mean `EE`).
    pub fn parse(name: &str) -> Option<Method> {
        let upper = name.to_ascii_uppercase();
        match upper.as_str() {
            "FE" | "CE" => Some(Method::EE),
            _ => Method::ALL.into_iter().find(|m| m.name() == upper),
        }
    }

    /// Whether the estimator iterates (and so can fail to converge).
    pub fn is_iterative(self) -> bool {
        matches!(self, Method::REML | Method::ML | Method::EB | Method::PM)
    }
}
