//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, Tau2CiArgs, WeightArgs};
use super::multilevel::MultilevelArgs;
use super::robust::RobustArgs;
use tau_core::analysis::Spec;

// Flags of `tau pool`.
#[derive(Debug, Args)]
pub struct PoolArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    families: super::families::FamilyArgs,
    #[command(flatten)]
    tau2_ci: Tau2CiArgs,
    /// Each study's best linear unbiased prediction, with its SE and
    /// prediction interval (metafor's blup(res)).
    #[arg(long, conflicts_with = "robust")]
    blup: bool,
    #[command(flatten)]
    weights: WeightArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau pool`: the flags as one analysis request.
pub fn run(args: &PoolArgs) -> Result<(), CliError> {
    let mut spec = Spec::default();
    args.model.fill(&mut spec);
    args.multilevel.fill(&mut spec)?;
    args.robust.fill(&mut spec);
    args.families.fill(&mut spec);
    args.tau2_ci.fill(&mut spec);
    args.weights.fill(&mut spec);
    args.output.fill(&mut spec);
    spec.blup = args.blup;
    super::analysis::run(&spec, &args.input, &args.output)
}
