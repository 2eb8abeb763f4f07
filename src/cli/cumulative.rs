//! `tau cumulative`: the model refitted as studies are added one at a time.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::output::emit_report;
use super::plot_output::{DEFAULT_DPI, plot_format, write_plot};

/// Flags of `tau cumulative`.
#[derive(Debug, Args)]
pub struct CumulativeArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
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
    let data = args.input.load()?;
    let result = tau_core::sensitivity::cumulative::cumulative(
        &data,
        args.order.as_deref(),
        &args.model.options()?,
    )
    .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        let title = result
            .title
            .as_deref()
            .unwrap_or("Cumulative meta-analysis");
        let x_label = format!("Cumulative estimate ({}, analysis scale)", data.measure);
        let reference = result.studies.last().map(|r| r.estimate.value);
        let svg =
            tau_plot::sensitivity::refit_forest_svg(title, &x_label, &result.studies, reference)?;
        write_plot(path, &svg, DEFAULT_DPI)?;
    }
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
}
