//! `tau subgroup`: pooled results per level of a moderator and the test of
//! subgroup differences.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::output::emit_report;
use tau_core::subgroup::{SubgroupOptions, Tau2Mode, subgroup};

/// Flags of `tau subgroup`.
#[derive(Debug, Args)]
pub struct SubgroupArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The moderator whose levels are the subgroups.
    #[arg(long, value_name = "MODERATOR")]
    by: String,
    /// A tau^2 per subgroup (separate), or one shared by all (common: a
    /// mixed-effects model with the moderator as a factor).
    #[arg(long, value_parser = super::values::tau2_mode(), default_value = "separate")]
    tau2: Tau2Mode,
    /// The order of the subgroups: every level of --by, once (default: sorted).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    levels: Option<Vec<String>>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau subgroup`.
pub fn run(args: &SubgroupArgs) -> Result<(), CliError> {
    let data = args.input.load()?;
    let options = SubgroupOptions {
        fit: args.model.options()?,
        by: args.by.clone(),
        tau2: args.tau2,
        levels: args.levels.clone(),
    };
    let result = subgroup(&data, &options)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(args.output.output.as_deref(), args.output.format, &result)
}
