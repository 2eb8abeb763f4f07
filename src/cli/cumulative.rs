//! `tau cumulative`: the model refitted as studies (or, `--cluster`, whole
//! clusters) are added one at a time; with `--random`, `--robust` or
//! `--method MH/PETO` the model `tau pool` fits with those flags.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{InputArgs, MethodChoice, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use super::output::emit_report;
use super::plot_output::{DEFAULT_DPI, plot_format, write_plot};
use super::robust::RobustArgs;
use tau_core::sensitivity::RefitRow;

// Flags of `tau cumulative`.
#[derive(Debug, Args)]
pub struct CumulativeArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Add whole clusters of this moderator at a time, in the order of their
    /// first record (e.g. --cluster study).
    #[arg(long, value_name = "MODERATOR")]
    cluster: Option<String>,
    /// Add studies in ascending order of this numeric moderator (e.g. year) instead of file order.
    #[arg(long, value_name = "MODERATOR")]
    order: Option<String>,
    /// Also draw the estimates as a forest-style plot in this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// Runs `tau cumulative`.
pub fn run(args: &CumulativeArgs) -> Result<(), CliError> {
    super::output::refuse_shared_files(&[
        ("--plot", args.plot.as_deref()),
        ("-o", args.output.output.as_deref()),
    ])?;
    if let Some(path) = &args.plot {
        plot_format(path)?;
    }
    if !args.multilevel.random.is_empty()
        || args.robust.spec().is_some()
        || args.cluster.is_some()
        || matches!(args.model.method, MethodChoice::Tables(_))
    {
        return run_refits(args);
    }
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = tau_core::sensitivity::cumulative::cumulative(
        &data,
        args.order.as_deref(),
        &args.model.options()?,
    )
    .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        plot(path, result.title.as_deref(), &data, &result.studies)?;
    }
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}

/// Draws the cumulative estimates as a forest-style plot in `path`.
fn plot(
    path: &std::path::Path,
    title: Option<&str>,
    data: &tau_core::Dataset,
    studies: &[RefitRow],
) -> Result<(), CliError> {
    let title = title.unwrap_or("Cumulative meta-analysis");
    let x_label = format!("Cumulative estimate ({}, analysis scale)", data.measure);
    let reference = studies.last().map(|r| r.estimate.value);
    let svg = tau_plot::sensitivity::refit_forest_svg(title, &x_label, studies, reference)?;
    write_plot(path, &svg, DEFAULT_DPI)
}

/// `tau cumulative` with `--random`, `--robust`, `--cluster` or `--method
/// MH/PETO`: the analysis request of `tau pool` with the same flags, on the
/// first 1, 2, ... studies or clusters.
fn run_refits(args: &CumulativeArgs) -> Result<(), CliError> {
    let spec = super::refits::spec(&args.model, &args.multilevel, &args.robust, &args.output)?;
    let cluster = args.cluster.as_deref().map(str::trim);
    let order = args.order.as_deref().map(str::trim);
    let (result, data, input) = super::refits::run(&spec, &args.input, |spec, data| {
        tau_core::analysis::refits::cumulative(spec, data, order, cluster)
    })?;
    if let Some(path) = &args.plot {
        plot(path, result.title.as_deref(), &data, &result.studies)?;
    }
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
