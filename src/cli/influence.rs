//! `tau influence`: case-deletion diagnostics for every study, of the
//! intercept-only model or (`--mods`) of a meta-regression, and (`--residuals`)
//! the standardised residuals.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, design_spec};
use super::multilevel::refuse;
use super::output::emit_report;
use tau_core::sensitivity::influence::{InfluenceOptions, influence_with};

// Flags of `tau influence`.
#[derive(Debug, Args)]
pub struct InfluenceArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Diagnose the meta-regression on these moderators, comma-separated, in
    /// model order (as tau regress), instead of the intercept-only model.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    mods: Option<Vec<String>>,
    /// With --mods: reference level of a categorical moderator (default: the
    /// first in sorted order); repeat for several moderators.
    #[arg(long = "reference", value_name = "MODERATOR=LEVEL", requires = "mods")]
    references: Vec<String>,
    /// With --mods: fit the model without an intercept.
    #[arg(long, requires = "mods")]
    no_intercept: bool,
    /// Also give each study's standardised residual (metafor's rstandard).
    #[arg(long)]
    residuals: bool,
    /// Not available: the diagnostics refit a model with a single tau^2.
    #[arg(long, value_name = "A/B", hide = true)]
    random: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau influence`.
pub fn run(args: &InfluenceArgs) -> Result<(), CliError> {
    if args.random.is_some() {
        return Err(refuse(
            "tau influence",
            "the diagnostics refit a model with a single tau^2 without each study (metafor's influence() of rma.uni); they are not available for a multilevel model here. Leave out --random",
        ));
    }
    args.output.refuse_paper_formats("tau influence")?;
    let options = InfluenceOptions {
        fit: args.model.options()?,
        design: args
            .mods
            .as_deref()
            .map(|mods| design_spec(mods, &args.references, args.no_intercept))
            .transpose()?,
        residuals: args.residuals,
    };
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = influence_with(&data, &options)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
