//! `tau influence`: case-deletion diagnostics for every study, of the
//! intercept-only model or (`--mods`) of a meta-regression, and (`--residuals`)
//! the standardised residuals; with `--random`, those of a multilevel model
//! (metafor's rstandard, rstudent, hatvalues, cooks.distance and dfbetas of
//! rma.mv), per record or (`--cluster`) per cluster.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, design_spec};
use super::multilevel::MultilevelArgs;
use super::output::emit_report;
use super::provenance::InputProvenance;
use super::robust::RobustArgs;
use tau_core::Kinded;
use tau_core::analysis::{MethodChoice, Question, Spec, diagnostics};
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
    #[command(flatten)]
    multilevel: MultilevelArgs,
    /// With --random: leave out one cluster of this moderator at a time
    /// (all its records together), one row per cluster in sorted order
    /// (metafor's cluster = argument), e.g. --cluster study.
    #[arg(long, value_name = "MODERATOR", requires = "random")]
    cluster: Option<String>,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau influence`.
pub fn run(args: &InfluenceArgs) -> Result<(), CliError> {
    let mut spec = tau_core::analysis::Spec::default();
    args.model.fill(&mut spec);
    if matches!(spec.method, MethodChoice::Tables(_)) {
        return run_tables(args);
    }
    if !args.multilevel.random.is_empty() || args.robust.spec().is_some() {
        return run_multilevel(args);
    }
    args.output.refuse_paper_formats("tau influence")?;
    // The model is the one `tau pool` (or `tau regress`) fits with the same
    // flags, refused as the request refuses it, before the file is read.
    super::analysis::validate(&request(args)?)?;
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

/// The request of `tau pool` (or with `--mods`, `tau regress`) with the
/// same flags.
fn request(args: &InfluenceArgs) -> Result<Spec, CliError> {
    let mut spec = super::refits::spec(&args.model, &args.multilevel, &args.robust, &args.output)?;
    if let Some(mods) = &args.mods {
        spec.question = Question::Regress;
        spec.mods = mods.iter().map(|m| m.trim().to_owned()).collect();
        spec.references = design_spec(mods, &args.references, args.no_intercept)?.references;
        spec.intercept = !args.no_intercept;
    }
    Ok(spec)
}

/// Runs one of the diagnostics of `tau_core::analysis::diagnostics` on the
/// file; warnings go to standard error.
fn load_and<T>(
    args: &InfluenceArgs,
    analysis: impl FnOnce(&tau_core::Dataset) -> Result<T, tau_core::analysis::AnalysisError>,
) -> Result<(T, Option<InputProvenance>), CliError> {
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = analysis(&data).map_err(|e| {
        let message = super::fields::render(&e.to_string());
        CliError::of_kind(
            e.kind(),
            format!("{}: {message}", args.input.display_name()),
        )
    })?;
    Ok((result, input))
}

/// `tau influence --method MH|PETO`: metafor's rstandard and rstudent of
/// rma.mh and rma.peto, which have no influence().
fn run_tables(args: &InfluenceArgs) -> Result<(), CliError> {
    args.output.refuse_paper_formats("tau influence")?;
    let spec = request(args)?;
    diagnostics::check_tables(&spec).map_err(super::analysis::refused)?;
    let (result, input) = load_and(args, |data| diagnostics::tables_residuals(&spec, data))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}

/// `tau influence --random`: the diagnostics of the multilevel model `tau
/// pool` (or with `--mods`, `tau regress`) fits with the same flags.
fn run_multilevel(args: &InfluenceArgs) -> Result<(), CliError> {
    args.output.refuse_paper_formats("tau influence")?;
    let spec = request(args)?;
    diagnostics::check_multilevel(&spec).map_err(super::analysis::refused)?;
    let cluster = args.cluster.as_deref();
    let (result, input) = load_and(args, |data| diagnostics::multilevel(&spec, data, cluster))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
