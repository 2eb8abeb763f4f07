//! `tau subgroup`: pooled results per level of a moderator and the test of
//! subgroup differences.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use super::robust::RobustArgs;
use tau_core::analysis::{Question, Spec};
use tau_core::subgroup::Tau2Mode;

// Flags of `tau subgroup`.
#[derive(Debug, Args)]
pub struct SubgroupArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The moderator whose levels are the subgroups.
    #[arg(long, value_name = "MODERATOR")]
    by: String,
    /// A tau^2 per subgroup (separate), or one shared by all (common: a
    /// mixed-effects model with the moderator as a factor). Default: separate;
    /// with --random the variance components are always common.
    #[arg(long, value_parser = super::values::tau2_mode())]
    tau2: Option<Tau2Mode>,
    /// The order of the subgroups: every level of --by, once (default: sorted).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    levels: Option<Vec<String>>,
    /// Permutation test of the subgroup differences with N iterations: the
    /// levels dealt to the studies at random, Q_between refitted, e.g. 1000.
    #[arg(long, value_name = "N")]
    permutations: Option<usize>,
    /// Seed of the permutation test (default: drawn at random and reported).
    #[arg(long, requires = "permutations")]
    seed: Option<u64>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau subgroup`: the flags as one analysis request.
pub fn run(args: &SubgroupArgs) -> Result<(), CliError> {
    let mut spec = Spec {
        question: Question::Subgroup,
        by: Some(args.by.trim().to_owned()),
        levels: args.levels.clone(),
        tau2: args.tau2,
        permutations: args.permutations,
        seed: args
            .permutations
            .map(|_| args.seed.unwrap_or_else(rand::random)),
        ..Spec::default()
    };
    args.model.fill(&mut spec);
    args.multilevel.fill(&mut spec)?;
    args.robust.fill(&mut spec);
    args.output.fill(&mut spec);
    super::analysis::run(&spec, &args.input, &args.output)
}
