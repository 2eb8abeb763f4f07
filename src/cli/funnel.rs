//! `tau funnel`: the funnel plot of one file.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs};
use super::multilevel::{MultilevelArgs, refuse};
use super::plot_output::PlotOutputArgs;
use tau_plot::{FunnelSpec, funnel_svg};

// Flags of `tau funnel`.
#[derive(Debug, Args)]
pub struct FunnelArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    output: PlotOutputArgs,
    /// Draw a GLMM of the 2x2 tables or counts instead (as tau pool --glmm;
    /// metafor's funnel(rma.glmm(model = ...))): the studies around the GLMM's
    /// estimate. UM.FS, UM.RS, CM.EL or CM.AL.
    #[arg(long, value_name = "MODEL", value_parser = super::families::parse_glmm)]
    glmm: Option<tau_core::glmm::GlmmModel>,
    /// Contour-enhanced funnel: shade where studies would be significant at p < .10, .05, .01.
    #[arg(long)]
    contours: bool,
    /// Add the studies imputed by trim-and-fill (L0, side from Egger's test) as
    /// open points, centred on the adjusted estimate (as metafor's funnel(trimfill(res))).
    #[arg(long)]
    trimfill: bool,
    /// Draw the adjusted estimate of a step-function selection model with
    /// these cut-points beside the pooled one, e.g. --selection 0.025 (the
    /// 3PSM, as tau selection --steps 0.025).
    #[arg(long, value_delimiter = ',', value_name = "P,P")]
    selection: Vec<f64>,
    /// The favoured direction for --selection (as tau selection --alternative).
    #[arg(long, value_enum, default_value = "greater", requires = "selection")]
    alternative: super::selection::AlternativeArg,
    /// Title above the plot.
    #[arg(long)]
    title: Option<String>,
    /// Effect axis label.
    #[arg(long)]
    xlab: Option<String>,
    /// Width in px (1/96 in).
    #[arg(long, default_value_t = 640.0)]
    width: f64,
    /// Height in px.
    #[arg(long, default_value_t = 520.0)]
    height: f64,
}

/// Runs `tau funnel`.
pub fn run(args: &FunnelArgs) -> Result<(), CliError> {
    args.output.format()?;
    for (flag, value) in [("width", args.width), ("height", args.height)] {
        if !(value.is_finite() && (200.0..=20000.0).contains(&value)) {
            return Err(CliError::Input(format!(
                "--{flag} must be between 200 and 20000 px (got {value})"
            )));
        }
    }
    let mut spec = match super::analysis::multilevel_options(&args.model, &args.multilevel)? {
        _ if args.glmm.is_some() => glmm_spec(args)?,
        Some(model) => {
            if args.trimfill {
                return Err(refuse(
                    "--trimfill",
                    "trim-and-fill imputes studies for a model with one tau^2 (metafor's trimfill of rma.uni)",
                ));
            }
            if !args.selection.is_empty() {
                return Err(refuse(
                    "--selection",
                    "selection models are fitted to independent effect sizes (metafor's selmodel of rma.uni)",
                ));
            }
            let data = args.input.load()?;
            let file = args.input.display_name();
            let result = tau_core::multilevel::fit(
                &data,
                &tau_core::multilevel::MultilevelOptions {
                    profile: false,
                    level_tests: false,
                    ..model
                },
            )
            .map_err(|e| CliError::from(e).with_file(&file))?;
            super::output::warn_analysis(&result.warnings);
            let mut spec = FunnelSpec::from_multilevel(&result, &data)
                .map_err(|e| CliError::from(e).with_file(&file))?;
            spec.contours = args.contours;
            spec
        }
        None => pooled_spec(args)?,
    };
    spec.title = args.title.clone();
    if let Some(xlab) = &args.xlab {
        spec.xlab = xlab.clone();
    }
    spec.width = args.width;
    spec.height = args.height;
    let svg = funnel_svg(&spec).map_err(CliError::from)?;
    args.output.write(&svg)
}

/// The funnel of `tau pool`'s model, with trim-and-fill and a selection model if asked.
fn pooled_spec(args: &FunnelArgs) -> Result<FunnelSpec, CliError> {
    let data = args.input.load()?;
    let result = tau_core::pool(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    let mut spec = FunnelSpec::from_pool(&result, &data);
    spec.contours = args.contours;
    if args.trimfill {
        let options = args.model.options()?;
        let tf = tau_core::bias::trimfill::trim_and_fill(&data.yi(), &data.vi(), &options, None)
            .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
        spec.adjusted = Some(tf.estimate);
        spec.filled = tf.filled.iter().map(|f| (f.yi, f.vi.sqrt())).collect();
    }
    if !args.selection.is_empty() {
        // The selection model `tau selection --steps ...` fits, with the same flags.
        let mut request = tau_core::analysis::Spec {
            question: tau_core::analysis::Question::Selection,
            steps: args.selection.clone(),
            alternative: super::selection::alternative(args.alternative)?,
            ..tau_core::analysis::Spec::default()
        };
        args.model.fill(&mut request);
        let file = args.input.display_name();
        let estimate = match tau_core::analysis::run(&request, &data, &|_| {})
            .map_err(|e| super::analysis::failed(&e, &file))?
        {
            tau_core::analysis::Analysis::Selection(model) => model.estimate.value,
            _ => return Err(CliError::Analysis("no selection model was fitted".into())),
        };
        let label = if args.selection.len() == 1 {
            "3PSM estimate"
        } else {
            "Selection-model estimate"
        };
        spec.selection = Some((label.to_owned(), estimate));
    }
    Ok(spec)
}

/// `tau funnel --glmm`: the studies the GLMM was fitted to around its
/// estimate ([`tau_core::glmm::pooled_view`]).
fn glmm_spec(args: &FunnelArgs) -> Result<FunnelSpec, CliError> {
    use super::families::refuse_with_glmm;
    for (given, flag, why) in [
        (
            !args.multilevel.random.is_empty(),
            "--random",
            "the funnel is drawn around the GLMM's estimate; leave out one of them",
        ),
        (
            args.trimfill,
            "--trimfill",
            "trim-and-fill imputes studies for an inverse-variance model (metafor's trimfill of rma.uni)",
        ),
        (
            !args.selection.is_empty(),
            "--selection",
            "selection models are fitted to yi and vi (metafor's selmodel of rma.uni)",
        ),
    ] {
        if given {
            return Err(refuse_with_glmm(flag, why));
        }
    }
    let Some(glmm) = args.glmm else {
        return Err(CliError::Input("--glmm names no model".into()));
    };
    let (data, view) = super::families::glmm_view(&args.model, glmm, &args.input)?;
    let mut spec = FunnelSpec::from_pool(&view, &data);
    spec.contours = args.contours;
    Ok(spec)
}
