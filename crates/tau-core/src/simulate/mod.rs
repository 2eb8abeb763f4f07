//! Simulation studies of meta-analytic methods: draw many meta-analyses from a
//! known random-effects model (see [`generate`] for the data-generating model),
//! fit each with every chosen τ² estimator × test, and measure bias and RMSE
//! of μ̂ and τ̂², CI coverage of μ and PI coverage of a new study's true effect.
//!
//! Every replicate is fitted with [`fit`](fn@crate::model::fit) on its outcomes and
//! variances, exactly as `tau pool` fits a file (Q-profile intervals, which a
//! simulation does not use, are not computed).
//!
//! Replicates run in parallel (rayon). Results do not depend on the number of
//! threads, bit for bit: each replicate draws from its own random stream, and
//! replicates are tallied in fixed blocks of [`BLOCK`] whose totals are added
//! in replicate order.
//!
//! A large study can be split into shards ([`shard`]), e.g. the tasks of a
//! SLURM job array: shard i of n runs a fixed range of the blocks and keeps
//! each block's tally; merging the shards adds the same tallies in the same
//! order as one run, so the merged result equals the single run's exactly.

pub mod generate;
pub mod shard;
pub mod tally;

use crate::par::*;
use serde::Serialize;

pub use generate::{Replicate, Scenario, ScenarioError};
pub use shard::{MergeError, Shard, ShardResult, merge, simulate_shard};
pub use tally::{Accuracy, Failure, Mean, Performance, Proportion, Tally};

use crate::fields::{METHODS, TEST};
use crate::model::{Control, FitOptions, Method, Test, fit, intercept_design};
use crate::settings::VERSION;
use tally::Truth;

/// Replicates tallied together, sequentially, by one task.
pub const BLOCK: u64 = 256;

/// Blocks run between two merges into the running totals (bounds the memory held).
const BLOCKS_PER_ROUND: u64 = 1024;

/// Everything that defines a simulation study.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(try_from = "shard::SettingsWire")]
pub struct Settings {
    /// The data-generating model.
    pub scenario: Scenario,
    /// Number of simulated meta-analyses.
    pub reps: u64,
    /// τ² estimators to compare.
    pub methods: Vec<Method>,
    /// Tests (z, Knapp-Hartung) to compare.
    pub tests: Vec<Test>,
    /// Confidence level of the CI and PI, in percent.
    pub level: f64,
    /// Seed of the random streams.
    pub seed: u64,
    /// Iteration control of the iterative estimators.
    pub control: Control,
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimulationError {
    /// The data-generating model is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// No replicates requested.
    #[error("the number of replicates must be at least 1")]
    NoReplicates,
    /// No estimator or no test chosen.
    #[error("choose at least one method (e.g. {METHODS} REML) and one test (e.g. {TEST} z)")]
    NothingToFit,
    /// The level is outside (0, 100).
    #[error("the confidence level must lie strictly between 0 and 100 (got {0})")]
    BadLevel(f64),
}

impl crate::Kinded for SimulationError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

/// Performance of one estimator × test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// τ² estimator.
    pub method: Method,
    /// z or Knapp-Hartung.
    pub test: Test,
    /// Its performance.
    #[serde(flatten)]
    pub performance: Performance,
}

/// The outcome of a simulation study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationResult {
    /// How it was run (the seed and settings reproduce it).
    pub settings: Settings,
    /// tau's version.
    pub version: &'static str,
    /// One entry per method × test, methods outermost, in the order given.
    pub results: Vec<Cell>,
}

impl Settings {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SimulationError> {
        self.scenario.validate()?;
        if self.reps == 0 {
            return Err(SimulationError::NoReplicates);
        }
        if self.methods.is_empty() || self.tests.is_empty() {
            return Err(SimulationError::NothingToFit);
        }
        if !(self.level > 0.0 && self.level < 100.0) {
            return Err(SimulationError::BadLevel(self.level));
        }
        Ok(())
    }

    fn cells(&self) -> Vec<FitOptions> {
        self.methods
            .iter()
            .flat_map(|&method| {
                self.tests.iter().map(move |&test| FitOptions {
                    method,
                    test,
                    level: self.level,
                    control: self.control,
                })
            })
            .collect()
    }
}

/// Runs the simulation on the current rayon thread pool (with the feature
/// `parallel`; sequentially without it).
pub fn simulate(settings: &Settings) -> Result<SimulationResult, SimulationError> {
    simulate_with_progress(settings, &|_| {})
}

/// [`simulate()`], calling `progress` with the number of replicates finished,
/// block by block, from any thread (e.g. to drive a progress bar).
pub fn simulate_with_progress(
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SimulationResult, SimulationError> {
    settings.validate()?;
    let mut totals = vec![Tally::default(); settings.methods.len() * settings.tests.len()];
    run_blocks(
        settings,
        0..settings.reps.div_ceil(BLOCK),
        progress,
        |tallies| {
            for (total, tally) in totals.iter_mut().zip(&tallies) {
                total.merge(tally);
            }
        },
    );
    Ok(summarise(settings, &totals))
}

/// Runs `blocks` in parallel, a round at a time, and hands each block's
/// tallies (one per cell) to `sink` in block order.
fn run_blocks(
    settings: &Settings,
    blocks: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
    mut sink: impl FnMut(Vec<Tally>),
) {
    let cells = settings.cells();
    let x = intercept_design(settings.scenario.k);
    let mut first = blocks.start;
    while first < blocks.end {
        let last = blocks.end.min(first + BLOCKS_PER_ROUND);
        let round: Vec<Vec<Tally>> = (first..last)
            .into_par_iter()
            .map(|block| {
                let start = block * BLOCK;
                let end = settings.reps.min(start.saturating_add(BLOCK));
                let tallies = run_block(settings, &cells, &x, start..end);
                progress(end - start);
                tallies
            })
            .collect();
        round.into_iter().for_each(&mut sink);
        first = last;
    }
}

/// The result of `settings` from the totals of its cells.
fn summarise(settings: &Settings, totals: &[Tally]) -> SimulationResult {
    let results = settings
        .cells()
        .iter()
        .zip(totals)
        .map(|(options, tally)| Cell {
            method: options.method,
            test: options.test,
            performance: tally.summary(),
        })
        .collect();
    SimulationResult {
        settings: settings.clone(),
        version: VERSION,
        results,
    }
}

/// Draws and fits replicates `indices` in order, one tally per cell.
fn run_block(
    settings: &Settings,
    cells: &[FitOptions],
    x: &nalgebra::DMatrix<f64>,
    indices: std::ops::Range<u64>,
) -> Vec<Tally> {
    let mut tallies = vec![Tally::default(); cells.len()];
    let mut data = Replicate::default();
    for index in indices {
        settings.scenario.draw_into(settings.seed, index, &mut data);
        let truth = Truth {
            mu: settings.scenario.mu,
            tau2: settings.scenario.tau2,
            theta_new: data.theta_new,
            alpha: 1.0 - settings.level / 100.0,
        };
        for (options, tally) in cells.iter().zip(&mut tallies) {
            match fit(&data.yi, &data.vi, x, options) {
                Ok(model) => tally.add_fit(&model, &truth),
                Err(e) => tally.add_failure(index, || e.to_string()),
            }
        }
    }
    tallies
}
