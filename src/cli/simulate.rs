//! `tau simulate`: a simulation study of τ² estimators and tests, whole or
//! in shards (`--shard i/n`) that `tau simulate merge` joins.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::output::{emit, emit_report};
use tau_core::model::{Control, Method, Test};
use tau_core::report::Format;
use tau_core::simulate::{self, Scenario, Settings, Shard, ShardResult, SimulationResult};

// Flags of `tau simulate` (the data-generating model is in [`tau_core::simulate::generate`]).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    command: Option<SimulateCommand>,
    /// Number of studies per meta-analysis.
    #[arg(long, required = true)]
    k: Option<usize>,
    /// True between-study variance tau^2.
    #[arg(long, allow_negative_numbers = true, required = true)]
    tau2: Option<f64>,
    /// True mean effect (standardised mean difference).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    mu: f64,
    /// Smallest per-arm sample size.
    #[arg(long, default_value_t = 20)]
    n_min: u32,
    /// Largest per-arm sample size.
    #[arg(long, default_value_t = 200)]
    n_max: u32,
    /// Number of simulated meta-analyses.
    #[arg(long, default_value_t = 10_000)]
    reps: u64,
    /// tau^2 estimators to compare, comma-separated (metafor's names).
    #[arg(
        long,
        value_parser = super::values::method(),
        value_delimiter = ',',
        default_value = "REML",
        ignore_case = true
    )]
    methods: Vec<Method>,
    /// Tests to compare, comma-separated: z, knha.
    #[arg(
        long = "test",
        alias = "tests",
        value_parser = super::values::test(),
        value_delimiter = ',',
        default_value = "z",
        ignore_case = true
    )]
    tests: Vec<Test>,
    /// Confidence level of the CI and PI, in percent.
    #[arg(long, default_value_t = 95.0, allow_negative_numbers = true,
          value_parser = super::args::parse_level)]
    level: f64,
    /// Seed of the random numbers (default: drawn at random, and reported).
    #[arg(long, allow_negative_numbers = true, value_parser = super::values::whole(0, "42"))]
    seed: Option<u64>,
    /// Worker threads (default: one per core, or RAYON_NUM_THREADS).
    #[arg(long)]
    threads: Option<usize>,
    /// Run only shard I of N (e.g. 3/10, as a SLURM array task) and write
    /// its tallies as JSON for `tau simulate merge`; give every shard the
    /// same flags and --seed.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<Shard>,
    #[command(flatten)]
    output: super::args::OutputArgs,
}

// `tau simulate merge`.
#[derive(Debug, Subcommand)]
enum SimulateCommand {
    /// Merge the shards of one simulation (files of `tau simulate --shard I/N`)
    /// into the report of the single run.
    Merge(MergeArgs),
}

// Flags of `tau simulate merge`.
#[derive(Debug, Args)]
struct MergeArgs {
    /// The shard files, one per shard, in any order.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    output: super::args::OutputArgs,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    Shard::parse(text).map_err(|e| super::fields::render(&e.to_string()))
}

impl SimulateArgs {
    fn settings(&self) -> Result<Settings, CliError> {
        let (Some(k), Some(tau2)) = (self.k, self.tau2) else {
            return Err(CliError::Input(
                "tau simulate needs --k and --tau2 (or: tau simulate merge FILES...)".into(),
            ));
        };
        Ok(Settings {
            scenario: Scenario {
                mu: self.mu,
                tau2,
                k,
                n_min: self.n_min,
                n_max: self.n_max,
            },
            reps: self.reps,
            methods: self.methods.clone(),
            tests: self.tests.clone(),
            level: self.level,
            seed: self.seed.unwrap_or_else(rand::random),
            control: Control::default(),
        })
    }
}

/// A progress bar on a terminal, hidden otherwise.
fn progress_bar(reps: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(reps);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:30} {human_pos}/{human_len} meta-analyses, ETA {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    }
}

/// Runs `work` on `threads` worker threads (default: rayon's).
fn with_threads<T>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> Result<T, CliError>
where
    T: Send,
{
    match threads {
        None => Ok(work()),
        Some(threads) => Ok(rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| CliError::Analysis(format!("cannot start {threads} threads: {e}")))?
            .install(work)),
    }
}

/// Runs `tau simulate`.
pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    if let Some(SimulateCommand::Merge(merge)) = &args.command {
        return run_merge(merge);
    }
    let settings = args.settings()?;
    settings.validate().map_err(CliError::from)?;
    if let Some(shard) = args.shard {
        if args.seed.is_none() {
            return Err(CliError::Input(
                "the shards of one simulation must share a seed: give every --shard the same --seed".into(),
            ));
        }
        return run_shard(args, &settings, shard);
    }
    let bar = progress_bar(settings.reps);
    let progress = |done: u64| bar.inc(done);
    let result = with_threads(args.threads, || {
        simulate::simulate_with_progress(&settings, &progress)
    })?
    .map_err(CliError::from)?;
    bar.finish_and_clear();
    warn_failures(&result);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        None,
    )
}

/// `tau simulate --shard I/N`: the shard's tallies as JSON.
fn run_shard(args: &SimulateArgs, settings: &Settings, shard: Shard) -> Result<(), CliError> {
    // --format text is the default: a shard is always its JSON tallies.
    if !matches!(args.output.format, Format::Json | Format::Text) {
        return Err(CliError::Input(format!(
            "a shard (--shard) is written as JSON for tau simulate merge, not as {}: leave --format out and write it with -o FILE; merge the shards into any format",
            args.output.format.name()
        )));
    }
    let bar = progress_bar(settings.reps / shard.count.max(1));
    let progress = |done: u64| bar.inc(done);
    let result = with_threads(args.threads, || {
        simulate::simulate_shard(settings, shard, &progress)
    })?
    .map_err(CliError::from)?;
    bar.finish_and_clear();
    let mut text = serde_json::to_string(&result)
        .map_err(|e| CliError::Analysis(format!("cannot write the shard as JSON: {e}")))?;
    text.push('\n');
    emit(args.output.output.as_deref(), &text)
}

/// `tau simulate merge FILES...`: the single run's report from its shards.
fn run_merge(args: &MergeArgs) -> Result<(), CliError> {
    let mut shards = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| {
            CliError::Input(format!(
                "cannot read {name}: {}",
                super::output::io_reason(&e)
            ))
        })?;
        let shard: ShardResult = serde_json::from_str(&text).map_err(|e| {
            CliError::from(simulate::MergeError::NotAShard {
                file: name.clone(),
                reason: e.to_string(),
            })
        })?;
        shards.push((name, shard));
    }
    let result = simulate::merge(shards).map_err(CliError::from)?;
    warn_failures(&result);
    emit_report(
        args.output.output.as_deref(),
        args.output.report_format(),
        &result,
        None,
    )
}

fn warn_failures(result: &SimulationResult) {
    for cell in &result.results {
        let p = &cell.performance;
        if p.failed > 0 {
            super::output::warn(&format!(
                "{} {}: {} of {} fits failed (counted in \"failed\", left out of the other measures)",
                cell.method.name(),
                cell.test.name(),
                p.failed,
                p.failed + p.fits
            ));
        }
    }
}
