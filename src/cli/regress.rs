//! `tau regress`: mixed-effects meta-regression, with an optional permutation test.

use std::io::IsTerminal;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::args::{
    InputArgs, ModelArgs, OutputArgs, Tau2CiArgs, Tau2CiKind, WeightArgs, design_spec,
};
use super::multilevel::{MultilevelArgs, refuse, refuse_tau2_ci};
use super::output::emit_report;
use super::robust::{RobustArgs, clustered, emit_robust};
use tau_core::regression::permutation::PermutationSpec;
use tau_core::regression::predict::PredictSpec;
use tau_core::regression::subset_test::subset_test;
use tau_core::regression::{DesignSpec, RegressionOptions, regress_weighted};
use tau_core::report::Format;

/// Flags of `tau regress`.
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
    tau2_ci: Tau2CiArgs,
    #[command(flatten)]
    weights: WeightArgs,
    #[command(flatten)]
    output: OutputArgs,
}

impl RegressArgs {
    fn design(&self) -> Result<DesignSpec, CliError> {
        design_spec(&self.mods, &self.references, self.no_intercept)
    }

    fn options(&self) -> Result<RegressionOptions, CliError> {
        Ok(RegressionOptions {
            fit: self.model.options()?,
            design: self.design()?,
            permutations: self.permutations.map(|iterations| PermutationSpec {
                // Saturates on a 32-bit target; the library refuses a size it cannot hold.
                iterations: usize::try_from(iterations).unwrap_or(usize::MAX),
                seed: self.seed.unwrap_or_else(rand::random),
            }),
        })
    }
}

/// Runs `tau regress`.
pub fn run(args: &RegressArgs) -> Result<(), CliError> {
    let robust = args.robust.spec();
    // Usage errors, refused before the file is read.
    let mut predict = args
        .predict
        .iter()
        .map(|spec| PredictSpec::parse(spec))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::from)?;
    if let Some(path) = &args.predict_file {
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
        predict.extend(rows.into_iter().map(|mut spec| {
            spec.text = format!("{name} {}", spec.text);
            spec
        }));
    }
    check_output(args.output.format, !predict.is_empty(), args.blup)?;
    if args.multilevel.random.is_some() {
        args.weights.refuse_with(
            "--random",
            "a multilevel model is weighted by its marginal variance matrix (user weight matrices, rma.mv's W, are not supported)",
        )?;
    }
    if robust.is_some() {
        args.weights.refuse_with(
            "--robust",
            "the robust variance is that of the inverse-variance fit",
        )?;
    }
    if let Some(options) =
        args.multilevel
            .options(&args.model, Some(args.design()?), robust.is_some())?
    {
        refuse_multilevel(!predict.is_empty(), args.blup)?;
        if args.permutations.is_some() {
            return Err(refuse(
                "--permutations",
                "the permutation test refits a model with one tau^2 (metafor's permutest of rma.uni); it is not defined for a multilevel model here",
            ));
        }
        if args.btt.is_some() {
            return Err(refuse(
                "--btt",
                "the multilevel report tests all moderators together (QM); fit the model with the moderators to test, or without --random",
            ));
        }
        refuse_tau2_ci(&args.tau2_ci)?;
        return match &robust {
            Some(spec) => super::multilevel::run_robust(
                &args.input,
                &options,
                &args.multilevel.rho,
                spec,
                &args.output,
            ),
            None => super::multilevel::run(&args.input, &options, &args.output),
        };
    }
    let options = args.options()?;
    let ci_kind = args.tau2_ci.checked(options.fit.method)?;
    // A usage error, refused before the file is read.
    if let Some(spec) = &options.permutations {
        spec.validate()
            .map_err(|e| CliError::Input(e.to_string()))?;
    }
    let data = match robust {
        Some(_) => args.input.load()?,
        None => args.input.load_weighted()?,
    };
    if let Some(spec) = args.robust.spec() {
        let file = args.input.display_name();
        let data = clustered(&data, &spec, &file)?;
        let (result, robust) = tau_core::robust::uni::regression(&data, &options, &spec)
            .map_err(|e| CliError::from(e).with_file(&file))?;
        super::output::warn_analysis(&result.warnings);
        return emit_robust(
            args.output.output.as_deref(),
            args.output.format,
            &result,
            &robust,
            "moderators",
        );
    }
    let bar = progress_bar();
    let progress = |total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.inc(1);
        }
    };
    let result = regress_weighted(&data, &options, !args.weights.unweighted, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut result = result.map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    match ci_kind {
        Tau2CiKind::Qp => {}
        Tau2CiKind::Wald => {
            result.use_wald_tau2_ci();
        }
        Tau2CiKind::Profile => {
            result
                .use_profile_tau2_ci()
                .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
        }
    }
    if let Some(names) = &args.btt {
        result.btt = Some(
            subset_test(&result, names)
                .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?,
        );
    }
    if !predict.is_empty() {
        result.predictions = Some(
            predict
                .iter()
                .map(|spec| result.predict_at(spec))
                .collect::<Result<_, _>>()
                .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?,
        );
    }
    if args.blup {
        refuse_weighted_blup(&args.weights, &data, &args.input.display_name())?;
        result.blups = Some(result.blups());
    }
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
}

/// Refuses `--blup` on a model with user weights or `--unweighted`: BLUPs
/// shrink each study by its inverse-variance weight, and metafor's `blup()`
/// stops for other weights.
pub fn refuse_weighted_blup(
    weights: &WeightArgs,
    data: &tau_core::Dataset,
    file: &str,
) -> Result<(), CliError> {
    const WHY: &str = "BLUPs shrink each study by its inverse-variance weight (metafor's blup() stops for other weights)";
    weights.refuse_with("--blup", WHY)?;
    match data.first_weighted() {
        Some(study) => Err(CliError::Input(format!(
            "{file}: study '{}' has a `weight`, and --blup cannot be used with user weights: {WHY}; leave out --blup, or the weight field",
            study.label()
        ))),
        None => Ok(()),
    }
}

/// Refuses `--predict` and `--blup` with `--random`: they are those of a
/// model with one tau^2.
pub fn refuse_multilevel(predict: bool, blup: bool) -> Result<(), CliError> {
    if predict {
        return Err(refuse(
            "--predict",
            "predictions at new moderator values are made from a model with one tau^2 (metafor's predict of rma.uni); fit the model without --random to use it",
        ));
    }
    if blup {
        return Err(refuse(
            "--blup",
            "BLUPs are those of a model with one tau^2 (metafor's blup of rma.uni); fit the model without --random to use it",
        ));
    }
    Ok(())
}

/// Refuses formats that cannot show `--predict` or `--blup`: CSV holds one
/// table, and the paper formats only the model's.
pub fn check_output(format: Format, predict: bool, blup: bool) -> Result<(), CliError> {
    let flag = match (predict, blup) {
        (false, false) => return Ok(()),
        (true, true) if format == Format::Csv => {
            return Err(CliError::Input(
                "--format csv writes one table, so it cannot hold both --predict and --blup: ask for one of them, or use --format json for both".into(),
            ));
        }
        (true, _) => "--predict",
        (false, true) => "--blup",
    };
    if matches!(format, Format::Markdown { .. } | Format::Latex { .. }) {
        return Err(CliError::Input(format!(
            "{flag} is not shown in --format {}, which gives the model's table for a paper only; use --format text, json or csv",
            format.name()
        )));
    }
    Ok(())
}

/// A progress bar on standard error, only when that is a terminal.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("permutations {bar:40} {pos}/{len} ({eta} left)")
    {
        bar.set_style(style);
    }
    Some(bar)
}
