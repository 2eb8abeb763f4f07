//! `tau bayes`: Bayesian random-effects meta-analysis (bayesmeta's model),
//! with model averaging over the four models of metaBMA (`--average`).

use clap::Args;

use super::CliError;
use super::args::{InputArgs, OutputArgs};
use super::plot_output::PlotOutputArgs;
use tau_core::analysis::{Analysis, Question, Spec};
use tau_core::bayes::{BayesError, MuPrior, TauPrior};

// Flags of `tau bayes`.
#[derive(Debug, Args)]
pub struct BayesArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Prior of the heterogeneity tau: half-normal:S, half-cauchy:S,
    /// half-t:S,DF, half-logistic:S, exponential:R, uniform:A,B,
    /// lognormal:M,S (log tau ~ N(M, S)), or bayesmeta's jeffreys,
    /// overall-jeffreys, berger-deely, conventional, dumouchel, shrinkage,
    /// i2, sqrt, uniform (improper). Scales are on the scale of the effect
    /// sizes, e.g. half-normal:0.5 for log odds ratios.
    #[arg(long, value_name = "PRIOR", value_parser = parse_tau_prior)]
    tau_prior: TauPrior,
    /// Prior of the overall effect mu: flat (improper) or normal:MEAN,SD.
    #[arg(long, value_name = "PRIOR", value_parser = parse_mu_prior, default_value = "flat")]
    mu_prior: MuPrior,
    /// Average over the four models {mu = 0, mu free} x {tau = 0, tau > 0}
    /// (metaBMA): posterior model probabilities, inclusion Bayes factors and
    /// the model-averaged mu. Needs proper priors on tau and mu.
    #[arg(long)]
    average: bool,
    /// Level of the credible intervals in percent.
    #[arg(long, default_value_t = 95.0, allow_negative_numbers = true, value_parser = super::args::parse_level)]
    level: f64,
    /// Not available: Bayesian meta-regression (bayesmeta's bmr) is not built yet.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C", hide = true)]
    mods: Vec<String>,
    /// Draw a forest plot with the posterior of each study's true effect
    /// (shrinkage) to this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE")]
    plot: Option<std::path::PathBuf>,
    /// Draw the posterior densities of tau and mu to this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE")]
    density_plot: Option<std::path::PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

fn parse_tau_prior(text: &str) -> Result<TauPrior, String> {
    TauPrior::parse(text).map_err(|e| flag_message(&e))
}

fn parse_mu_prior(text: &str) -> Result<MuPrior, String> {
    MuPrior::parse(text).map_err(|e| flag_message(&e))
}

/// The library's message without its "`field`: " prefix (clap names the flag).
fn flag_message(e: &BayesError) -> String {
    match e {
        BayesError::Prior { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn plot_target(path: &Option<std::path::PathBuf>) -> Result<Option<PlotOutputArgs>, CliError> {
    path.as_ref()
        .map(|output| {
            let plot = PlotOutputArgs {
                output: output.clone(),
                dpi: 300.0,
            };
            plot.format().map(|_| plot)
        })
        .transpose()
}

/// Runs `tau bayes`: the flags as one analysis request (question bayes).
pub fn run(args: &BayesArgs) -> Result<(), CliError> {
    if !args.mods.is_empty() {
        return Err(CliError::Input(
            "tau bayes --mods is not available: Bayesian meta-regression (bayesmeta's bmr) is not built yet; use tau regress for a meta-regression, or tau bayes without --mods (per subgroup with --filter)".into(),
        ));
    }
    let forest = plot_target(&args.plot)?;
    let density = plot_target(&args.density_plot)?;
    let spec = Spec {
        question: Question::Bayes,
        tau_prior: Some(args.tau_prior),
        mu_prior: args.mu_prior,
        average: args.average,
        level: args.level,
        format: args.output.report_format(),
        ..Spec::default()
    };
    super::analysis::validate(&spec)?;
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let file = args.input.display_name();
    let analysis = tau_core::analysis::run(&spec, &data, &|_| {})
        .map_err(|e| super::analysis::failed(&e, &file))?;
    let Analysis::Bayes(result) = &analysis else {
        return Err(CliError::Analysis(
            "tau bayes gave no Bayesian result".into(),
        ));
    };
    if let Some(plot) = forest {
        plot.write(&tau_plot::bayes_forest_svg(result).map_err(CliError::from)?)?;
    }
    if let Some(plot) = density {
        plot.write(&tau_plot::bayes_density_svg(result).map_err(CliError::from)?)?;
    }
    super::analysis::emit(&analysis, &data, &args.output, input.as_ref())
}
