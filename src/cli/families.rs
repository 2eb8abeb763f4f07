//! The flags of the model families beside the inverse-variance models:
//! `--scale` (location-scale models) and `--glmm` (GLMMs), shared by
//! `tau pool` and `tau regress`.

use clap::Args;
use tau_core::analysis::{Analysis, Spec};
use tau_core::glmm::GlmmModel;

use super::CliError;

// Flags of the location-scale and GLMM families.
#[derive(Debug, Args)]
pub struct FamilyArgs {
    /// Moderators of tau^2, comma-separated: a location-scale model with
    /// ln tau^2_i = z_i'alpha (metafor's rma(scale = ~ b + c)); REML or ML.
    #[arg(long, value_delimiter = ',', value_name = "B,C")]
    scale: Vec<String>,
    /// A generalized linear mixed model of the 2x2 tables or counts
    /// (metafor's rma.glmm(model = ...)): UM.FS, UM.RS, CM.EL or CM.AL.
    #[arg(long, value_name = "MODEL", value_parser = parse_glmm)]
    glmm: Option<GlmmModel>,
}

pub(crate) fn parse_glmm(text: &str) -> Result<GlmmModel, String> {
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

/// The GLMM `glmm` of the file of `input`, fitted as `tau pool --glmm`
/// fits it (with the `model` flags), and the studies and pooled result
/// that draw it in a forest or funnel plot
/// ([`tau_core::glmm::pooled_view::pooled_view`]).
pub fn glmm_view(
    model: &super::args::ModelArgs,
    glmm: GlmmModel,
    input: &super::args::InputArgs,
) -> Result<(tau_core::data::dataset::Dataset, tau_core::pool::PoolResult), CliError> {
    let mut spec = Spec::default();
    model.fill(&mut spec);
    spec.glmm = Some(glmm);
    super::analysis::validate(&spec)?;
    let data = input.load()?;
    let file = input.display_name();
    let analysis = tau_core::analysis::run(&spec, &data, &|_| {})
        .map_err(|e| super::analysis::failed(&e, &file))?;
    super::output::warn_analysis(&analysis.warnings().into_iter().cloned().collect::<Vec<_>>());
    let Analysis::Glmm(result) = analysis else {
        return Err(CliError::Analysis(format!("{file}: no GLMM was fitted")));
    };
    tau_core::glmm::pooled_view::pooled_view(&result, &data)
        .map_err(|e| CliError::from(e).with_file(&file))
}

/// A flag that a plot of a GLMM cannot use, refused by its name.
pub fn refuse_with_glmm(flag: &str, why: &str) -> CliError {
    CliError::Input(format!("{flag} cannot be used with --glmm: {why}"))
}
