//! `tau leave-one-out`: the model refitted without each study in turn.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::output::emit_report;
use super::plot_output::{DEFAULT_DPI, plot_format, write_plot};

/// Flags of `tau leave-one-out`.
#[derive(Debug, Args)]
pub struct LeaveOneOutArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Also draw the estimates as a forest-style plot in this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// Runs `tau leave-one-out`.
pub fn run(args: &LeaveOneOutArgs) -> Result<(), CliError> {
    if let Some(path) = &args.plot {
        plot_format(path)?;
    }
    let data = args.input.load()?;
    let result = tau_core::sensitivity::leave_one_out::leave_one_out(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        let title = result.title.as_deref().unwrap_or("Leave-one-out analysis");
        let x_label = format!(
            "Estimate without the study ({}, analysis scale)",
            data.measure
        );
        let svg = tau_plot::sensitivity::refit_forest_svg(
            title,
            &x_label,
            &result.studies,
            Some(result.overall.estimate.value),
        )?;
        write_plot(path, &svg, DEFAULT_DPI)?;
    }
    emit_report(args.output.output.as_deref(), args.output.format, &result)
}
