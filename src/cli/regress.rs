//! `tau regress`: mixed-effects meta-regression, with an optional permutation test.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, Tau2CiArgs, WeightArgs, design_spec};
use super::multilevel::MultilevelArgs;
use super::robust::RobustArgs;
use tau_core::analysis::{Question, Spec};
use tau_core::regression::predict::PredictSpec;

// Flags of `tau regress`.
#[derive(Debug, Args)]
pub struct RegressArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Moderators, comma-separated, in model order. Numbers are continuous,
    /// text is dummy-coded.
    #[arg(long, value_delimiter = ',', required = true, value_name = "A,B,C")]
    mods: Vec<String>,
    /// Reference level of a categorical moderator (default: the first in
    /// sorted order); repeat for several moderators.
    #[arg(long = "reference", value_name = "MODERATOR=LEVEL")]
    references: Vec<String>,
    /// Fit the model without an intercept.
    #[arg(long)]
    no_intercept: bool,
    /// Permutation test of QM and of each coefficient with N iterations
    /// (metafor's permutest), e.g. 1000.
    #[arg(long, value_name = "N", allow_negative_numbers = true,
          value_parser = super::values::whole(2, "1000"))]
    permutations: Option<u64>,
    /// Seed of the permutation test (default: drawn at random and reported).
    #[arg(long, requires = "permutations", allow_negative_numbers = true,
          value_parser = super::values::whole(0, "42"))]
    seed: Option<u64>,
    /// With --permutations: permute whole clusters of this moderator (e.g.
    /// the trial), for a cluster-level moderator: each cluster's moderator
    /// values move together (every moderator must be constant within a
    /// cluster).
    #[arg(long, requires = "permutations", value_name = "MODERATOR")]
    permute_by: Option<String>,
    /// Also test these moderators (all columns of each) or coefficients
    /// together, a Wald test as metafor's anova(res, btt = ...): QM, or F
    /// under --test knha.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "A,B",
        conflicts_with = "robust"
    )]
    btt: Option<Vec<String>>,
    /// Predict the effect at these moderator values, with its CI and
    /// prediction interval (metafor's predict(res, newmods = ...)): every
    /// moderator of the model as NAME=VALUE, a level for a categorical one,
    /// e.g. --predict "ablat=30,year=1970"; repeat for several.
    #[arg(long, value_name = "NAME=VALUE,...", conflicts_with = "robust")]
    predict: Vec<String>,
    /// Predict at each row of a CSV table: a header row of moderator names,
    /// then one row of values per prediction (as --predict, which it joins).
    #[arg(long, value_name = "FILE.csv", conflicts_with = "robust")]
    predict_file: Option<std::path::PathBuf>,
    /// Each study's best linear unbiased prediction, with its SE and
    /// prediction interval (metafor's blup(res)).
    #[arg(long, conflicts_with = "robust")]
    blup: bool,
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
    #[command(flatten)]
    weights: WeightArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau regress`: the flags as one analysis request.
pub fn run(args: &RegressArgs) -> Result<(), CliError> {
    let mut spec = Spec {
        question: Question::Regress,
        mods: args.mods.iter().map(|m| m.trim().to_owned()).collect(),
        references: design_spec(&args.mods, &args.references, args.no_intercept)?.references,
        intercept: !args.no_intercept,
        btt: args.btt.clone(),
        blup: args.blup,
        permutations: args
            .permutations
            // Saturates on a 32-bit target; the library refuses a size it cannot hold.
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        seed: args
            .permutations
            .map(|_| args.seed.unwrap_or_else(rand::random)),
        permute_by: args.permute_by.clone(),
        ..Spec::default()
    };
    args.model.fill(&mut spec);
    args.multilevel.fill(&mut spec)?;
    args.robust.fill(&mut spec);
    args.families.fill(&mut spec);
    args.tau2_ci.fill(&mut spec);
    args.weights.fill(&mut spec);
    args.output.fill(&mut spec);
    // Usage errors, refused before the file is read.
    spec.predict = args
        .predict
        .iter()
        .map(|text| PredictSpec::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::from)?;
    if let Some(path) = &args.predict_file {
        spec.predict.extend(predict_file(path)?);
    }
    super::analysis::run(&spec, &args.input, &args.output)
}

/// The predictions of `--predict-file`: a header row of moderator names,
/// then one row of values per prediction.
fn predict_file(path: &std::path::Path) -> Result<Vec<PredictSpec>, CliError> {
    let name = path.display().to_string();
    super::output::protect_input_as(path, "the --predict-file table");
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Input(format!(
            "--predict-file {name}: {}",
            super::output::io_reason(&e)
        ))
    })?;
    let rows = PredictSpec::from_csv(&text)
        .map_err(|e| CliError::Input(format!("--predict-file {name}: {e}")))?;
    Ok(rows
        .into_iter()
        .map(|mut spec| {
            spec.text = format!("{name} {}", spec.text);
            spec
        })
        .collect())
}
