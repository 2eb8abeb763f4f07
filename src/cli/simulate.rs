//! `tau simulate`: a simulation study of τ² estimators and tests.

use std::io::IsTerminal;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::output::emit_report;
use tau_core::model::{Control, Method, Test};
use tau_core::report::Format;
use tau_core::simulate::{self, Scenario, Settings, SimulationResult};

/// Flags of `tau simulate` (the data-generating model is in [`tau_core::simulate::generate`]).
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of studies per meta-analysis.
    #[arg(long)]
    k: usize,
    /// True between-study variance tau^2.
    #[arg(long, allow_negative_numbers = true)]
    tau2: f64,
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
    #[command(flatten)]
    output: SimulateOutput,
}

/// Where and how to write the report: a simulation has no table for a
/// paper, so --format offers text, json and csv only.
#[derive(Debug, Args)]
struct SimulateOutput {
    /// Report format.
    #[arg(long, value_parser = simulate_format(), default_value = "text")]
    format: Format,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(short, long)]
    output: Option<std::path::PathBuf>,
}

/// `--format` of `tau simulate`: text, json or csv.
fn simulate_format() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let formats = [Format::Text, Format::Json, Format::Csv];
    PossibleValuesParser::new(formats.map(|f| PossibleValue::new(f.name()).help(f.about())))
        .try_map(|name| Format::parse(&name).ok_or(name))
}

impl SimulateArgs {
    fn settings(&self) -> Settings {
        Settings {
            scenario: Scenario {
                mu: self.mu,
                tau2: self.tau2,
                k: self.k,
                n_min: self.n_min,
                n_max: self.n_max,
            },
            reps: self.reps,
            methods: self.methods.clone(),
            tests: self.tests.clone(),
            level: self.level,
            seed: self.seed.unwrap_or_else(rand::random),
            control: Control::default(),
        }
    }
}

/// Runs `tau simulate`.
pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    let settings = args.settings();
    settings.validate().map_err(CliError::from)?;
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(settings.reps);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:30} {human_pos}/{human_len} meta-analyses, ETA {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = |done: u64| bar.inc(done);
    let result = match args.threads {
        None => simulate::simulate_with_progress(&settings, &progress),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| CliError::Analysis(format!("cannot start {threads} threads: {e}")))?
            .install(|| simulate::simulate_with_progress(&settings, &progress)),
    }
    .map_err(CliError::from)?;
    bar.finish_and_clear();
    warn_failures(&result);
    emit_report(args.output.output.as_deref(), args.output.format, &result)
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
