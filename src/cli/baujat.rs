//! `tau baujat`: the Baujat plot (heterogeneity contribution against influence).

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs};
use super::output::emit_report;
use super::plot_output::PlotOutputArgs;
use tau_core::model::Method;
use tau_core::report::Format;

// Flags of `tau baujat`.
#[derive(Debug, Args)]
pub struct BaujatArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    plot: PlotOutputArgs,
    /// Format of the coordinates printed on standard output.
    #[arg(long, value_parser = super::values::format(), default_value = "text")]
    format: Format,
}

/// Runs `tau baujat`.
pub fn run(args: &BaujatArgs) -> Result<(), CliError> {
    if args.format == Format::Csv {
        return Err(CliError::Input(
            "tau baujat prints its coordinates as --format text or --format json".into(),
        ));
    }
    super::args::refuse_paper_format(args.format, "tau baujat")?;
    args.plot.format()?;
    let (data, input) = args.input.load_for(args.format)?;
    let options = args.model.options()?;
    let result = tau_core::sensitivity::baujat::baujat(&data, &options)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    // metafor's axis label: Q contributions sum to Q only under the common-effect model.
    let x_label = if options.method == Method::EE {
        "Contribution to overall heterogeneity"
    } else {
        "Squared Pearson residual (contribution to heterogeneity)"
    };
    args.plot
        .write(&tau_plot::sensitivity::baujat_svg(&result, x_label)?)?;
    emit_report(None, args.format, &result, input.as_ref())
}
