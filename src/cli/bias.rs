//! `tau bias`: Egger, Begg, trim-and-fill, fail-safe N and PET-PEESE in one report.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use tau_core::analysis::{Question, Spec};

// Flags of `tau bias`.
#[derive(Debug, Args)]
pub struct BiasArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Dependent effect sizes: add the checks that allow for correlated
    /// effects within a cluster given by this moderator (usually the study):
    /// the 3PSM with cluster-robust standard errors, and with --random
    /// Egger's test and PET-PEESE as multilevel meta-regressions with CR2
    /// (Satterthwaite) tests.
    #[arg(long, value_name = "CLUSTER")]
    robust: Option<String>,
    /// The working model of the dependent-effects Egger's test and
    /// PET-PEESE (with --robust).
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau bias`: flags → [`Spec`] (question bias) → validate → load →
/// run → report.
pub fn run(args: &BiasArgs) -> Result<(), CliError> {
    let mut spec = Spec {
        question: Question::Bias,
        ..Spec::default()
    };
    args.model.fill(&mut spec);
    args.multilevel.fill(&mut spec)?;
    spec.robust = args.robust.as_deref().map(|c| c.trim().to_owned());
    args.output.fill(&mut spec);
    super::analysis::run(&spec, &args.input, &args.output)
}
