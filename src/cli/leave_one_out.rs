//! `tau leave-one-out`: the model refitted without each study in turn (or,
//! `--cluster`, without each cluster; with `--random` and `--robust` the
//! model `tau pool` fits with those flags), or (`--by`, `--mods`) a
//! moderator test recomputed without each study.

use std::path::PathBuf;

use clap::Args;

use super::CliError;
use super::args::{InputArgs, MethodChoice, ModelArgs, OutputArgs};
use super::multilevel::MultilevelArgs;
use super::output::emit_report;
use super::plot_output::{DEFAULT_DPI, plot_format, write_plot};
use super::robust::RobustArgs;
use tau_core::Kinded;
use tau_core::regression::{DesignSpec, RegressionOptions};
use tau_core::sensitivity::RefitRow;
use tau_core::sensitivity::moderator_test::{ModeratorTest, moderator_leave_one_out};
use tau_core::subgroup::{SubgroupOptions, Tau2Mode};

// Flags of `tau leave-one-out`.
#[derive(Debug, Args)]
pub struct LeaveOneOutArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    multilevel: MultilevelArgs,
    #[command(flatten)]
    robust: RobustArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Leave out one cluster of this moderator at a time (all its records
    /// together), one row per cluster in sorted order (metafor's
    /// leave1out(res, cluster = A)), e.g. --cluster study.
    #[arg(long, value_name = "MODERATOR", conflicts_with_all = ["by", "mods"])]
    cluster: Option<String>,
    /// Also draw the estimates as a forest-style plot in this file (.svg, .png or .pdf).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["by", "mods"])]
    plot: Option<PathBuf>,
    /// Recompute the test of subgroup differences by this moderator (Q_between,
    /// separate tau^2 per level) without each study, instead of the pooled estimate.
    #[arg(long, value_name = "MODERATOR", conflicts_with_all = ["mods", "random", "robust"])]
    by: Option<String>,
    /// Recompute the omnibus test (QM) of a meta-regression on these
    /// moderators without each study, instead of the pooled estimate.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C", conflicts_with_all = ["random", "robust"])]
    mods: Option<Vec<String>>,
}

/// The moderator test `--by` or `--mods` asks for.
fn moderator_test(args: &LeaveOneOutArgs) -> Result<Option<ModeratorTest>, CliError> {
    if args.by.is_none() && args.mods.is_none() {
        return Ok(None);
    }
    let fit = args.model.options()?;
    if let Some(by) = &args.by {
        return Ok(Some(ModeratorTest::Subgroup(SubgroupOptions {
            fit,
            by: by.trim().to_owned(),
            tau2: Tau2Mode::Separate,
            levels: None,
        })));
    }
    let mods = args.mods.as_deref().unwrap_or_default();
    Ok(Some(ModeratorTest::Regression(RegressionOptions {
        fit,
        design: DesignSpec {
            moderators: mods.iter().map(|m| m.trim().to_owned()).collect(),
            references: Vec::new(),
            intercept: true,
        },
        permutations: None,
    })))
}

/// `tau leave-one-out --by/--mods`.
fn run_moderator_test(args: &LeaveOneOutArgs, test: &ModeratorTest) -> Result<(), CliError> {
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = moderator_leave_one_out(&data, test)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}

/// Runs `tau leave-one-out`.
pub fn run(args: &LeaveOneOutArgs) -> Result<(), CliError> {
    super::output::refuse_shared_files(&[
        ("--plot", args.plot.as_deref()),
        ("-o", args.output.output.as_deref()),
    ])?;
    if let Some(test) = moderator_test(args)? {
        return run_moderator_test(args, &test);
    }
    if let Some(path) = &args.plot {
        plot_format(path)?;
    }
    if !args.multilevel.random.is_empty() || args.robust.spec().is_some() || args.cluster.is_some()
    {
        return run_refits(args);
    }
    if let MethodChoice::Tables(method) = args.model.method {
        return run_tables(args, method);
    }
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result = tau_core::sensitivity::leave_one_out::leave_one_out(&data, &args.model.options()?)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        let title = result.title.as_deref().unwrap_or("Leave-one-out analysis");
        plot(path, title, &data, &result.studies, &result.overall)?;
    }
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}

/// `tau leave-one-out` with `--random`, `--robust` or `--cluster`: the
/// analysis request of `tau pool` with the same flags, refitted without each
/// study or cluster.
fn run_refits(args: &LeaveOneOutArgs) -> Result<(), CliError> {
    let spec = super::refits::spec(&args.model, &args.multilevel, &args.robust, &args.output)?;
    let cluster = args.cluster.as_deref().map(str::trim);
    let (result, data, input) = super::refits::run(&spec, &args.input, |spec, data| {
        tau_core::analysis::refits::leave_one_out(spec, data, cluster)
    })?;
    if let (Some(path), Some(overall)) = (&args.plot, &result.overall) {
        let title = result.title.as_deref().unwrap_or("Leave-one-out analysis");
        plot(path, title, &data, &result.studies, overall)?;
    }
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}

/// Draws the refits as a forest-style plot in `path`.
fn plot(
    path: &std::path::Path,
    title: &str,
    data: &tau_core::Dataset,
    studies: &[RefitRow],
    overall: &RefitRow,
) -> Result<(), CliError> {
    let x_label = format!(
        "Estimate without the study ({}, analysis scale)",
        data.measure
    );
    let svg = tau_plot::sensitivity::refit_forest_svg(
        title,
        &x_label,
        studies,
        Some(overall.estimate.value),
    )?;
    write_plot(path, &svg, DEFAULT_DPI)
}

/// `tau leave-one-out --method MH|PETO` (metafor `leave1out` of `rma.mh`, `rma.peto`).
fn run_tables(args: &LeaveOneOutArgs, method: tau_core::TablesMethod) -> Result<(), CliError> {
    let name = args.input.display_name();
    if args.model.test != super::args::TestFlag::Uni(tau_core::Test::Z) {
        return Err(CliError::Input(format!(
            "--method {} uses z tests; leave out --test knha",
            method.name()
        )));
    }
    let (data, input) = args.input.load_for(args.output.report_format())?;
    let result =
        tau_core::sensitivity::leave_one_out::leave_one_out_tables(&data, method, args.model.level)
            .map_err(|e| CliError::of_kind(e.kind(), format!("{name}: {e}")))?;
    super::output::warn_analysis(&result.warnings);
    if let Some(path) = &args.plot {
        let title = result.title.as_deref().unwrap_or("Leave-one-out analysis");
        plot(path, title, &data, &result.studies, &result.overall)?;
    }
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        input.as_ref(),
    )
}
