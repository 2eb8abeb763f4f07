//! `tau leave-one-out`: the model refitted without each study in turn.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{Format, InputArgs, ModelArgs, OutputArgs};
use super::output::emit;
use super::plot_output::{DEFAULT_DPI, plot_format, write_plot};
use tau_core::report;

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
    let result = tau_core::sensitivity::leave_one_out::leave_one_out(&data, &args.model.options())
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
            Some(result.overall.estimate),
        )?;
        write_plot(path, &svg, DEFAULT_DPI)?;
    }
    let text = match args.output.format {
        Format::Text => report::sensitivity::leave_one_out_report(&result),
        Format::Json => return super::output::emit_json(args.output.output.as_deref(), &result),
        Format::Csv => report::sensitivity::refit_csv(&result.studies)
            .map_err(|e| CliError::Output(e.to_string()))?,
    };
    emit(args.output.output.as_deref(), &text)
}
