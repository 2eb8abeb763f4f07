//! `tau selection`: a selection model for publication bias (metafor `selmodel`).

use clap::{Args, ValueEnum};

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::plot_output::PlotOutputArgs;
use tau_core::analysis::{Analysis, Question, Spec};
use tau_core::bias::selection::{Alternative, SelectionType};

/// The weight functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TypeArg {
    /// Step function with cut-points --steps (one cut-point at 0.025: the 3PSM).
    Step,
    /// Beta weight function (Citkowicz & Vevea 2017).
    Beta,
    /// Half-normal weight function.
    Halfnorm,
    /// Negative-exponential weight function.
    Negexp,
    /// Logistic weight function.
    Logistic,
    /// Power weight function.
    Power,
}

/// The favoured direction of the one-sided p-values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlternativeArg {
    /// Positive effects are favoured: p = 1 - Phi(yi/sei).
    Greater,
    /// Negative effects are favoured: p = Phi(yi/sei).
    Less,
    /// Not supported: explained when given.
    #[value(name = "two-sided", alias = "two.sided", hide = true)]
    TwoSided,
}

// Flags of `tau selection`.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The weight function: how the chance of publication depends on a study's p-value.
    #[arg(long = "type", value_enum, default_value = "step")]
    kind: TypeArg,
    /// Cut-points on the one-sided p-values, comma-separated, e.g. 0.025
    /// (the 3PSM) or 0.025,0.5. Required for --type step; the other types take at most one.
    #[arg(long, value_delimiter = ',', value_name = "P,P")]
    steps: Vec<f64>,
    /// Which direction of effect is favoured for publication.
    #[arg(long, value_enum, default_value = "greater")]
    alternative: AlternativeArg,
    /// Moderators, comma-separated, carried into the selection model.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    mods: Vec<String>,
    /// Dependent effect sizes: cluster-robust standard errors, clustered by
    /// this moderator (usually the study). The model is fitted as if the
    /// effects were independent; its SEs, tests and CIs come from the
    /// sandwich of the per-cluster scores (step functions only).
    #[arg(long, value_name = "CLUSTER")]
    robust: Option<String>,
    /// Draw the fitted weight function to this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE")]
    plot: Option<std::path::PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// The library's direction, or the explanation why two-sided makes no sense.
pub fn alternative(arg: AlternativeArg) -> Result<Alternative, CliError> {
    match arg {
        AlternativeArg::Greater => Ok(Alternative::Greater),
        AlternativeArg::Less => Ok(Alternative::Less),
        AlternativeArg::TwoSided => Err(CliError::Input(
            "--alternative two-sided makes no sense for a selection model here: selection acts on one-sided p-values, because a significant result in the unexpected direction is not published as eagerly as one in the expected direction; choose --alternative greater (positive effects favoured) or less, and put a two-sided .05 cut-point at --steps 0.025".into(),
        )),
    }
}

/// Runs `tau selection`: flags → [`Spec`] (question selection) → validate →
/// load → run → the report, and the weight function's plot if asked for.
pub fn run(args: &SelectionArgs) -> Result<(), CliError> {
    super::output::refuse_shared_files(&[
        ("--plot", args.plot.as_deref()),
        ("-o", args.output.output.as_deref()),
    ])?;
    let plot = args
        .plot
        .as_ref()
        .map(|output| {
            let plot = PlotOutputArgs {
                output: output.clone(),
                dpi: 300.0,
            };
            plot.format().map(|_| plot)
        })
        .transpose()?;
    let mut spec = Spec {
        question: Question::Selection,
        selection_type: kind(args.kind),
        steps: args.steps.clone(),
        alternative: alternative(args.alternative)?,
        mods: args.mods.clone(),
        robust: args.robust.as_deref().map(|c| c.trim().to_owned()),
        ..Spec::default()
    };
    args.model.fill(&mut spec);
    args.output.fill(&mut spec);
    super::analysis::validate(&spec)?;
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let file = args.input.display_name();
    let analysis = tau_core::analysis::run(&spec, &data, &|_| {})
        .map_err(|e| super::analysis::failed(&e, &file))?;
    super::output::warn_analysis(&analysis.warnings().into_iter().cloned().collect::<Vec<_>>());
    if let (Some(plot), Analysis::Selection(result)) = (plot, &analysis) {
        let svg =
            tau_plot::selection_weights_svg(&tau_plot::SelectionWeightsSpec::from_model(result))
                .map_err(CliError::from)?;
        plot.write(&svg)?;
    }
    super::analysis::emit(&analysis, &data, &args.output, input.as_ref())
}

/// The library's weight function.
fn kind(arg: TypeArg) -> SelectionType {
    match arg {
        TypeArg::Step => SelectionType::Step,
        TypeArg::Beta => SelectionType::Beta,
        TypeArg::Halfnorm => SelectionType::Halfnorm,
        TypeArg::Negexp => SelectionType::Negexp,
        TypeArg::Logistic => SelectionType::Logistic,
        TypeArg::Power => SelectionType::Power,
    }
}
