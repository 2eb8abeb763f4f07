//! `tau bubble`: the bubble plot of a meta-regression on one continuous moderator.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs};
use super::plot_output::PlotOutputArgs;
use tau_core::data::moderator::{self, Column};
use tau_core::regression::{DesignSpec, RegressionOptions, regress};
use tau_plot::bubble::{BubbleOptions, bubble_svg};

// Flags of `tau bubble`.
#[derive(Debug, Args)]
pub struct BubbleArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The continuous moderator on the horizontal axis.
    #[arg(long = "mod", value_name = "MODERATOR")]
    moderator: String,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: PlotOutputArgs,
    /// Width in pixels.
    #[arg(long, default_value_t = 720)]
    width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 540)]
    height: u32,
    /// Title (default: the file's title).
    #[arg(long)]
    title: Option<String>,
}

/// Runs `tau bubble`.
pub fn run(args: &BubbleArgs) -> Result<(), CliError> {
    args.output.format()?;
    let name = args.input.display_name();
    let data = args.input.load()?;
    let column = moderator::column(&data, &args.moderator)
        .map_err(|e| CliError::Input(format!("{name}: {e}")))?;
    if let Column::Categorical(_) = column {
        return Err(CliError::Input(format!(
            "{name}: moderator '{}' is categorical (text); a bubble plot needs a continuous one. For a categorical moderator use tau subgroup --by {}",
            args.moderator, args.moderator
        )));
    }
    let options = RegressionOptions {
        fit: args.model.options()?,
        design: DesignSpec {
            moderators: vec![args.moderator.clone()],
            references: Vec::new(),
            intercept: true,
        },
        permutations: None,
    };
    let result = regress(&data, &options).map_err(|e| CliError::from(e).with_file(&name))?;
    super::output::warn_analysis(&result.warnings);
    let svg = bubble_svg(
        &result,
        &BubbleOptions {
            width: args.width,
            height: args.height,
            title: args.title.clone().or_else(|| data.title.clone()),
            x_label: args.moderator.clone(),
            y_label: data.measure.description().to_owned(),
        },
    )
    .map_err(|e| CliError::from(e).with_file(&name))?;
    args.output.write(&svg)
}
