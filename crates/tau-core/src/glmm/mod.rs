//! Generalized linear mixed models for 2×2 tables and counts (metafor's
//! `rma.glmm`): the request's vocabulary, and the models built so far
//! ([`proportions`]: `measure = "PLO"`). The analysis request refuses the
//! others by their metafor names before anything is read (`glmm`).

use serde::Serialize;

pub(crate) mod agq;
pub mod proportions;

/// A GLMM, named as metafor's `rma.glmm(model = ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum GlmmModel {
    /// Unconditional model with fixed study effects (metafor's default).
    #[serde(rename = "UM.FS")]
    UmFs,
    /// Unconditional model with random study effects.
    #[serde(rename = "UM.RS")]
    UmRs,
    /// Conditional model, exact likelihood (non-central hypergeometric for
    /// OR, binomial for IRR).
    #[serde(rename = "CM.EL")]
    CmEl,
    /// Conditional model, approximate likelihood (OR only).
    #[serde(rename = "CM.AL")]
    CmAl,
}

impl GlmmModel {
    /// Every model, in metafor's order.
    pub const ALL: [GlmmModel; 4] = [
        GlmmModel::UmFs,
        GlmmModel::UmRs,
        GlmmModel::CmEl,
        GlmmModel::CmAl,
    ];

    /// metafor's name (`UM.FS` ...).
    pub fn name(self) -> &'static str {
        match self {
            GlmmModel::UmFs => "UM.FS",
            GlmmModel::UmRs => "UM.RS",
            GlmmModel::CmEl => "CM.EL",
            GlmmModel::CmAl => "CM.AL",
        }
    }

    /// Parses metafor's name, case-insensitively.
    pub fn parse(name: &str) -> Option<GlmmModel> {
        GlmmModel::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for m in GlmmModel::ALL {
            assert_eq!(GlmmModel::parse(m.name()), Some(m));
        }
        assert_eq!(GlmmModel::parse("um.fs"), Some(GlmmModel::UmFs));
        assert_eq!(GlmmModel::parse("UMFS"), None);
    }
}
