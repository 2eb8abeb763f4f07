//! `tau bias`: Egger, Begg, trim-and-fill, fail-safe N and PET-PEESE in one report.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use super::output::emit_report;
use tau_core::report::Format;

// Flags of `tau bias`.
#[derive(Debug, Args)]
pub struct BiasArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Dependent effect sizes: add the checks that allow for correlated
    /// effects within a cluster given by this moderator (usually the study):
    /// the 3PSM with cluster-robust standard errors, and with --random
    /// Egger's test and PET-PEESE as multilevel meta-regressions with CR2
    /// (Satterthwaite) tests.
    #[arg(long, value_name = "CLUSTER")]
    robust: Option<String>,
    /// The working model of the dependent-effects Egger's test and
    /// PET-PEESE (with --robust).
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau bias`.
pub fn run(args: &BiasArgs) -> Result<(), CliError> {
    if args.output.format == Format::Csv {
        return Err(CliError::Input(
            "tau bias has no per-study table: use --format text or --format json".into(),
        ));
    }
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let options = args.model.options()?;
    if args.multilevel.rho.len() > 1 {
        return Err(CliError::Input(
            "tau bias takes one --rho value (the working model of its multilevel regressions); run it once per value to compare them".into(),
        ));
    }
    let multilevel = super::analysis::multilevel_options(&args.model, &args.multilevel)?;
    let result = match (&args.robust, multilevel) {
        (None, None) => tau_core::bias::bias(&data, &options),
        (None, Some(_)) => {
            return Err(CliError::Input(
                "tau bias --random fits Egger's test and PET-PEESE as multilevel meta-regressions with cluster-robust tests, and needs the cluster: add --robust CLUSTER (usually the outermost level, e.g. --random study/es_id --robust study)".into(),
            ));
        }
        (Some(cluster), multilevel) => tau_core::bias::bias_dependent(
            &data,
            &options,
            &tau_core::bias::DependentSpec {
                cluster: cluster.trim().to_owned(),
                multilevel,
            },
        ),
    }
    .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
