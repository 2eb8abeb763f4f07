//! `tau subgroup`: pooled results per level of a moderator and the test of
//! subgroup differences.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::{MultilevelArgs, refuse, refuse_robust};
use super::output::emit_report;
use super::robust::{RobustArgs, clustered, emit_robust};
use tau_core::multilevel::{MultilevelOptions, fit_subgroups};
use tau_core::regression::permutation::PermutationSpec;
use tau_core::regression::{DesignSpec, RegressionOptions};
use tau_core::subgroup::permutation::permutation_test;
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

/// Runs `tau subgroup`.
pub fn run(args: &SubgroupArgs) -> Result<(), CliError> {
    if let Some(options) = args.multilevel.options(&args.model, None)? {
        return run_multilevel(args, &options);
    }
    let fit = args.model.options()?;
    let data = args.input.load()?;
    let options = SubgroupOptions {
        fit,
        by: args.by.clone(),
        tau2: args.tau2.unwrap_or(Tau2Mode::Separate),
        levels: args.levels.clone(),
    };
    let spec = args.robust.spec();
    let data = match &spec {
        Some(spec) => clustered(&data, spec, &args.input.display_name())?,
        None => data,
    };
    let fail = |e| CliError::from(e).with_file(&args.input.display_name());
    let mut result = subgroup(&data, &options).map_err(fail)?;
    if let Some(spec) = spec {
        // The subgroup differences, robustly: the mixed-effects model with
        // the moderator as a factor (metafor robust(rma(yi, vi, mods = ~ factor(by)), cluster)).
        let model = RegressionOptions {
            fit: options.fit,
            design: DesignSpec {
                moderators: vec![options.by.clone()],
                references: Vec::new(),
                intercept: true,
            },
            permutations: None,
        };
        let (_, robust) = tau_core::robust::uni::regression(&data, &model, &spec)
            .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
        super::output::warn_analysis(&result.warnings);
        return emit_robust(
            args.output.output.as_deref(),
            args.output.format,
            &result,
            &robust,
            "subgroup differences",
        );
    }
    if let Some(iterations) = args.permutations {
        let spec = PermutationSpec {
            iterations,
            seed: args.seed.unwrap_or_else(rand::random),
        };
        result.permutation = Some(permutation_test(&data, &options, &result, &spec).map_err(fail)?);
    }
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
}

/// `subgroup --random`: one multilevel model with the subgroup as a factor.
fn run_multilevel(args: &SubgroupArgs, options: &MultilevelOptions) -> Result<(), CliError> {
    if args.tau2 == Some(Tau2Mode::Separate) {
        return Err(refuse(
            "--tau2 separate",
            "the subgroups share the variance components of one multilevel model (mods = ~ factor(g) - 1); leave out --tau2, or fit each subgroup with tau pool --random ... --filter",
        ));
    }
    if args.permutations.is_some() {
        return Err(refuse(
            "--permutations",
            "the permutation test refits a model with one tau^2 per arrangement; it is not defined for a multilevel model here",
        ));
    }
    refuse_robust(args.robust.spec().is_some())?;
    let data = args.input.load()?;
    let result = fit_subgroups(&data, options, args.by.trim(), args.levels.as_deref())
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.model.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
}
