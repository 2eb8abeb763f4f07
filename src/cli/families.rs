//! The flags of the model families beside the inverse-variance models:
//! `--scale` (location-scale models) and `--glmm` (GLMMs), shared by
//! `tau pool` and `tau regress`.

use clap::Args;
use tau_core::analysis::Spec;
use tau_core::glmm::GlmmModel;

// Flags of the location-scale and GLMM families.
#[derive(Debug, Args)]
pub struct FamilyArgs {
    /// Moderators of tau^2, comma-separated: a location-scale model with
    /// ln tau^2_i = z_i'alpha (metafor's rma(scale = ~ b + c)); REML or ML.
    #[arg(long, value_delimiter = ',', value_name = "B,C")]
    scale: Vec<String>,
    /// A generalized linear mixed model of the 2x2 tables or counts
    /// (metafor's rma.glmm(model = ...)): UM.FS, UM.RS, CM.EL or CM.AL.
    /// Not built yet: refused by name.
    #[arg(long, value_name = "MODEL", value_parser = parse_glmm)]
    glmm: Option<GlmmModel>,
}

fn parse_glmm(text: &str) -> Result<GlmmModel, String> {
    GlmmModel::parse(text)
        .ok_or_else(|| format!("unknown GLMM {text:?}; use UM.FS, UM.RS, CM.EL or CM.AL"))
}

impl FamilyArgs {
    /// Writes the family settings into `spec`.
    pub fn fill(&self, spec: &mut Spec) {
        spec.scale = self.scale.iter().map(|s| s.trim().to_owned()).collect();
        spec.glmm = self.glmm;
    }
}
