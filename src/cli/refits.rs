//! The leave-one-out and cumulative analyses of any model (`--random`,
//! `--robust`, `--cluster`, and for `cumulative` Mantel-Haenszel and Peto):
//! the flags fill one analysis request, and each refit is the model `tau
//! pool` fits with the same flags.

use tau_core::Dataset;
use tau_core::Kinded;
use tau_core::analysis::refits::Refits;
use tau_core::analysis::{AnalysisError, Spec};

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use super::provenance::InputProvenance;
use super::robust::RobustArgs;

/// The request of `tau pool` with the same flags.
pub fn spec(
    model: &ModelArgs,
    multilevel: &MultilevelArgs,
    robust: &RobustArgs,
    output: &OutputArgs,
) -> Result<Spec, CliError> {
    let mut spec = Spec::default();
    model.fill(&mut spec);
    multilevel.fill(&mut spec)?;
    robust.fill(&mut spec);
    output.fill(&mut spec);
    Ok(spec)
}

/// Checks `spec` (exit 2 before the file is read), loads the file and runs
/// `analysis` on it; warnings go to standard error.
pub fn run(
    spec: &Spec,
    input: &InputArgs,
    analysis: impl FnOnce(&Spec, &Dataset) -> Result<Refits, AnalysisError>,
) -> Result<(Refits, Dataset, Option<InputProvenance>), CliError> {
    super::analysis::validate(spec)?;
    let (data, provenance) = input.load_for(spec.format)?;
    let result = analysis(spec, &data).map_err(|e| {
        let message = match &e {
            AnalysisError::Refused(_) | AnalysisError::Data(_) => {
                super::fields::render(&e.to_string())
            }
            _ => e.to_string(),
        };
        CliError::of_kind(e.kind(), format!("{}: {message}", input.display_name()))
    })?;
    super::output::warn_analysis(&result.warnings);
    Ok((result, data, provenance))
}
