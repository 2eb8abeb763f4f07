//! `tau pool`: the pooled summary of one file.

use clap::Args;

use super::CliError;
use super::args::{
    InputArgs, MethodChoice, ModelArgs, OutputArgs, Tau2CiArgs, Tau2CiKind, TestFlag, WeightArgs,
};
use super::multilevel::{MultilevelArgs, refuse, refuse_tau2_ci};
use super::output::{emit_report, warn_analysis};
use super::regress::{check_output, refuse_multilevel, refuse_weighted_blup};
use super::robust::{RobustArgs, clustered, emit_robust};
use tau_core::Kinded;
use tau_core::report::PoolReport;

/// Flags of `tau pool`.
#[derive(Debug, Args)]
pub struct PoolArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    tau2_ci: Tau2CiArgs,
    /// Each study's best linear unbiased prediction, with its SE and
    /// prediction interval (metafor's blup(res)).
    #[arg(long, conflicts_with = "robust")]
    blup: bool,
    #[command(flatten)]
    weights: WeightArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Runs `tau pool`.
pub fn run(args: &PoolArgs) -> Result<(), CliError> {
    check_output(args.output.format, false, args.blup)?;
    if let MethodChoice::Tables(method) = args.model.method {
        return run_tables(args, method);
    }
    if args.multilevel.random.is_some() {
        refuse_tau2_ci(&args.tau2_ci)?;
        refuse_multilevel(false, args.blup)?;
        args.weights.refuse_with(
            "--random",
            "a multilevel model is weighted by its marginal variance matrix (user weight matrices, rma.mv's W, are not supported)",
        )?;
    }
    let robust = args.robust.spec();
    if robust.is_some() {
        args.weights.refuse_with(
            "--robust",
            "the robust variance is that of the inverse-variance fit",
        )?;
    }
    if let Some(options) = args
        .multilevel
        .options(&args.model, None, robust.is_some())?
    {
        return match &robust {
            Some(spec) => super::multilevel::run_robust(
                &args.input,
                &options,
                &args.multilevel.rho,
                spec,
                &args.output,
            ),
            None => super::multilevel::run(&args.input, &options, &args.output),
        };
    }
    let data = match robust {
        Some(_) => args.input.load()?,
        None => args.input.load_weighted()?,
    };
    if let Some(spec) = args.robust.spec() {
        let file = args.input.display_name();
        let data = clustered(&data, &spec, &file)?;
        let (result, robust) = tau_core::robust::uni::pooled(&data, &args.model.options()?, &spec)
            .map_err(|e| CliError::from(e).with_file(&file))?;
        warn_analysis(&result.warnings);
        return emit_robust(
            args.output.output.as_deref(),
            args.output.format,
            &PoolReport {
                result: &result,
                data: &data,
            },
            &robust,
            "moderators",
        );
    }
    let options = args.model.options()?;
    let ci_kind = args.tau2_ci.checked(options.method)?;
    let file = args.input.display_name();
    let mut result = tau_core::pool_with(&data, &options, !args.weights.unweighted)
        .map_err(|e| CliError::from(e).with_file(&file))?;
    match ci_kind {
        Tau2CiKind::Qp => {}
        Tau2CiKind::Wald => {
            result.use_wald_tau2_ci();
        }
        Tau2CiKind::Profile => {
            result
                .use_profile_tau2_ci(&data)
                .map_err(|e| CliError::from(e).with_file(&file))?;
        }
    }
    if args.blup {
        refuse_weighted_blup(&args.weights, &data, &file)?;
        result.blups = Some(result.blups(&data));
    }
    warn_analysis(&result.warnings);
    let report = PoolReport {
        result: &result,
        data: &data,
    };
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &report,
    )
}

/// `tau pool --method MH|PETO`: the 2×2 tables pooled (metafor `rma.mh`, `rma.peto`).
fn run_tables(args: &PoolArgs, method: tau_core::TablesMethod) -> Result<(), CliError> {
    let name = args.input.display_name();
    if args.multilevel.random.is_some() {
        return Err(refuse(
            &format!("--method {}", method.name()),
            "it pools 2x2 tables in a common-effect model; a multilevel model is fitted by REML or ML (--method REML or ML)",
        ));
    }
    if args.blup {
        return Err(CliError::Input(format!(
            "--method {} pools the 2x2 tables directly and has no BLUPs (metafor's blup is for rma.uni); leave out --blup, or use an inverse-variance --method such as EE or REML with it",
            method.name()
        )));
    }
    if args.robust.spec().is_some() {
        return Err(CliError::Input(format!(
            "--method {} pools the 2x2 tables directly and has no robust variance; leave out --robust, or use an inverse-variance --method such as EE or REML with it",
            method.name()
        )));
    }
    if args.model.test != TestFlag::Uni(tau_core::Test::Z) {
        return Err(CliError::Input(format!(
            "--method {} uses z tests; leave out --test knha",
            method.name()
        )));
    }
    args.weights.refuse_with(
        &format!("--method {}", method.name()),
        "it weights the 2x2 tables its own way",
    )?;
    let data = args.input.load_weighted()?;
    if let Some(study) = data.first_weighted() {
        return Err(CliError::Input(format!(
            "{name}: study '{}' has a weight (the weight field), but --method {} weights the 2x2 tables its own way (as metafor's rma.mh and rma.peto, which take no weights); remove the weight field, or pool with an inverse-variance --method such as REML",
            study.label(),
            method.name()
        )));
    }
    let result = tau_core::pool_tables(&data, method, args.model.level)
        .map_err(|e| CliError::of_kind(e.kind(), format!("{name}: {e}")))?;
    warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
    )
}
