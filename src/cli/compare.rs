//! `tau compare`: the likelihood-ratio test between two nested meta-regressions,
//! with one τ² or (`--random`) multilevel.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use super::output::{emit_report, warn_analysis};
use super::robust::RobustArgs;
use tau_core::multilevel::compare::compare_multilevel;
use tau_core::regression::compare::compare;

// Flags of `tau compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Moderators of the full model, comma-separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B")]
    full: Vec<String>,
    /// Moderators of the reduced model, all of them in the full one
    /// (default: none, the intercept-only model).
    #[arg(long, value_delimiter = ',', value_name = "A", default_value = "")]
    reduced: Vec<String>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau compare`.
pub fn run(args: &CompareArgs) -> Result<(), CliError> {
    if args.robust.spec().is_some() {
        return Err(CliError::Input(
            "--robust cannot be used with tau compare: a likelihood-ratio test has no cluster-robust form (metafor's anova() of a robust fit is the Wald test of one model's coefficients); for the robust test of the extra moderators run tau regress --mods FULL --robust CLUSTER --btt EXTRA".into(),
        ));
    }
    let multilevel = super::analysis::multilevel_options(&args.model, &args.multilevel)?;
    let options = args.model.options()?;
    let reduced: Vec<String> = args
        .reduced
        .iter()
        .filter(|m| !m.trim().is_empty())
        .cloned()
        .collect();
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = match &multilevel {
        Some(multilevel) => compare_multilevel(&data, &args.full, &reduced, multilevel),
        None => compare(&data, &args.full, &reduced, &options),
    }
    .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
