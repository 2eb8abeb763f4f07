//! A simulation study split into shards that run apart (the tasks of a SLURM
//! job array, or machines) and are merged into the one result.
//!
//! Shard i of n runs the blocks of [`BLOCK`] replicates from
//! ⌊(i − 1)·B/n⌋ to ⌊i·B/n⌋ − 1 (B blocks in all) and keeps each block's
//! tally. A replicate's random stream depends on the seed and its index alone
//! ([`super::generate`]), so a shard draws exactly the data the single run
//! draws for those replicates; [`merge`] adds the blocks' tallies in block
//! order, as the single run does, so the merged result is the single run's
//! to the last bit (JSON floats read back exactly).

use serde::{Deserialize, Serialize};

use super::tally::Tally;
use super::{BLOCK, Scenario, Settings, SimulationError, SimulationResult, run_blocks, summarise};
use crate::fields::SHARD;
use crate::model::{Control, Method, Test};
use crate::settings::VERSION;

/// What a shard file says it is.
pub const KIND: &str = "tau simulate shard";

/// Shard `index` of `count` (1-based, as SLURM's `SLURM_ARRAY_TASK_ID` with `--array=1-N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shard {
    /// Which shard, from 1 to `count`.
    pub index: u64,
    /// How many shards in all.
    pub count: u64,
}

/// Why shards cannot be made or merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// The shard is not written as i/n with 1 ≤ i ≤ n.
    #[error("{SHARD} must be i/n with 1 <= i <= n, e.g. 3/10 (got \"{0}\")")]
    BadShard(String),
    /// The simulation's settings are invalid.
    #[error(transparent)]
    Simulation(#[from] SimulationError),
    /// A file is not a shard of `tau simulate`.
    #[error(
        "{file}: not a shard of tau simulate ({reason}); a shard is written by a simulation run with {SHARD} i/n"
    )]
    NotAShard {
        /// The file.
        file: String,
        /// What did not read.
        reason: String,
    },
    /// Nothing to merge.
    #[error("give the shard files to merge")]
    NoShards,
    /// A shard was made by another version of tau.
    #[error(
        "{file} was made by tau {found}, this is tau {VERSION}: rerun the shards with one version so that the numbers are comparable"
    )]
    Version {
        /// The file.
        file: String,
        /// Its version.
        found: String,
    },
    /// The shards come from different simulations.
    #[error(
        "{file} has other settings than {first} (k, tau2, seed, reps, methods, tests, level and the sizes must all agree): the shards of one study are made with the same settings"
    )]
    Mismatch {
        /// The first file.
        first: String,
        /// The file that differs.
        file: String,
    },
    /// The shards do not cover the study exactly once.
    #[error("the shards do not make up the study: {0}")]
    Coverage(String),
}

impl crate::Kinded for MergeError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            MergeError::Simulation(e) => crate::Kinded::kind(e),
            _ => crate::ErrorKind::Input,
        }
    }
}

impl Shard {
    /// Reads "i/n".
    pub fn parse(text: &str) -> Result<Shard, MergeError> {
        let bad = || MergeError::BadShard(text.to_owned());
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The blocks this shard runs, out of `blocks`.
    pub fn blocks(self, blocks: u64) -> std::ops::Range<u64> {
        let at = |i: u64| (u128::from(i) * u128::from(blocks) / u128::from(self.count)) as u64;
        at(self.index - 1)..at(self.index)
    }
}

/// One shard's tallies, block by block: what `tau simulate --shard` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardResult {
    /// Always [`KIND`].
    pub kind: String,
    /// The tau that made it.
    pub version: String,
    /// Which shard.
    pub shard: Shard,
    /// The whole study's settings (the same in every shard).
    pub settings: Settings,
    /// Index of the first block this shard ran.
    pub first_block: u64,
    /// Each block's tallies, one per method × test, in block order.
    pub blocks: Vec<Vec<Tally>>,
}

/// Runs shard `shard` of the study `settings`.
pub fn simulate_shard(
    settings: &Settings,
    shard: Shard,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ShardResult, MergeError> {
    settings.validate()?;
    if shard.index == 0 || shard.index > shard.count {
        return Err(MergeError::BadShard(format!(
            "{}/{}",
            shard.index, shard.count
        )));
    }
    let range = shard.blocks(settings.reps.div_ceil(BLOCK));
    let mut blocks = Vec::new();
    run_blocks(settings, range.clone(), progress, |tallies| {
        blocks.push(tallies)
    });
    Ok(ShardResult {
        kind: KIND.to_owned(),
        version: VERSION.to_owned(),
        shard,
        settings: settings.clone(),
        first_block: range.start,
        blocks,
    })
}

/// Merges the shards of one study, each with the name of its file (for the
/// messages), into the result of the single run.
pub fn merge(shards: Vec<(String, ShardResult)>) -> Result<SimulationResult, MergeError> {
    let mut shards = shards;
    shards.sort_by_key(|(_, s)| s.shard.index);
    let (first_file, first) = shards.first().ok_or(MergeError::NoShards)?;
    let settings = first.settings.clone();
    settings.validate()?;
    let count = first.shard.count;
    let total_blocks = settings.reps.div_ceil(BLOCK);
    let cells = settings.methods.len() * settings.tests.len();
    for (i, (file, shard)) in shards.iter().enumerate() {
        check_one(file, shard, first_file, &settings)?;
        let expected = i as u64 + 1;
        if shard.shard.count != count || shard.shard.index != expected {
            return Err(MergeError::Coverage(coverage(&shards, count)));
        }
        let range = shard.shard.blocks(total_blocks);
        if shard.first_block != range.start
            || shard.blocks.len() as u64 != range.end - range.start
            || shard.blocks.iter().any(|b| b.len() != cells)
        {
            return Err(MergeError::NotAShard {
                file: file.clone(),
                reason: "its blocks are not the ones its shard runs".into(),
            });
        }
    }
    if shards.len() as u64 != count {
        return Err(MergeError::Coverage(coverage(&shards, count)));
    }
    let mut totals = vec![Tally::default(); cells];
    for (_, shard) in &shards {
        for block in &shard.blocks {
            for (total, tally) in totals.iter_mut().zip(block) {
                total.merge(tally);
            }
        }
    }
    Ok(summarise(&settings, &totals))
}

fn check_one(
    file: &str,
    shard: &ShardResult,
    first_file: &str,
    settings: &Settings,
) -> Result<(), MergeError> {
    if shard.kind != KIND {
        return Err(MergeError::NotAShard {
            file: file.to_owned(),
            reason: format!("its kind is \"{}\"", shard.kind),
        });
    }
    if shard.version != VERSION {
        return Err(MergeError::Version {
            file: file.to_owned(),
            found: shard.version.clone(),
        });
    }
    if &shard.settings != settings {
        return Err(MergeError::Mismatch {
            first: first_file.to_owned(),
            file: file.to_owned(),
        });
    }
    Ok(())
}

/// "shards 1, 2, 4 of 4 given: 3 missing".
fn coverage(shards: &[(String, ShardResult)], count: u64) -> String {
    let given: Vec<String> = shards
        .iter()
        .map(|(_, s)| format!("{}/{}", s.shard.index, s.shard.count))
        .collect();
    let missing: Vec<String> = (1..=count)
        .filter(|i| !shards.iter().any(|(_, s)| s.shard.index == *i))
        .map(|i| i.to_string())
        .collect();
    let mut text = format!("given {}", given.join(", "));
    if !missing.is_empty() {
        text.push_str(&format!("; missing of {count}: {}", missing.join(", ")));
    } else {
        text.push_str(&format!(
            "; each of the {count} shards must be given once, all with the same n"
        ));
    }
    text
}

/// [`Settings`] as a shard file holds them (methods and tests by name).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsWire {
    scenario: Scenario,
    reps: u64,
    methods: Vec<String>,
    tests: Vec<String>,
    level: f64,
    seed: u64,
    control: ControlWire,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlWire {
    threshold: f64,
    max_iter: usize,
    tol: f64,
    fallback: Option<String>,
}

fn method(name: &str) -> Result<Method, String> {
    Method::parse(name).ok_or_else(|| format!("unknown method \"{name}\""))
}

impl TryFrom<SettingsWire> for Settings {
    type Error = String;

    fn try_from(wire: SettingsWire) -> Result<Settings, String> {
        let methods = wire
            .methods
            .iter()
            .map(|m| method(m))
            .collect::<Result<_, _>>()?;
        let tests = wire
            .tests
            .iter()
            .map(|t| Test::parse(t).ok_or_else(|| format!("unknown test \"{t}\"")))
            .collect::<Result<_, _>>()?;
        let fallback = wire.control.fallback.as_deref().map(method).transpose()?;
        Ok(Settings {
            scenario: wire.scenario,
            reps: wire.reps,
            methods,
            tests,
            level: wire.level,
            seed: wire.seed,
            control: Control {
                threshold: wire.control.threshold,
                max_iter: wire.control.max_iter,
                tol: wire.control.tol,
                fallback,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::simulate;

    fn settings(reps: u64) -> Settings {
        Settings {
            scenario: Scenario {
                mu: 0.2,
                tau2: 0.04,
                k: 5,
                n_min: 10,
                n_max: 60,
            },
            reps,
            methods: vec![Method::DL, Method::REML],
            tests: vec![Test::Z, Test::Knha],
            level: 95.0,
            seed: 7,
            control: Control::default(),
        }
    }

    #[test]
    fn shards_split_the_blocks_once() {
        for count in 1..=9 {
            let mut next = 0;
            for index in 1..=count {
                let range = Shard { index, count }.blocks(7);
                assert_eq!(range.start, next);
                next = range.end;
            }
            assert_eq!(next, 7);
        }
        assert!(Shard::parse("0/3").is_err());
        assert!(Shard::parse("4/3").is_err());
        assert!(Shard::parse("3").is_err());
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
    }

    #[test]
    fn merged_shards_equal_the_single_run_through_json() {
        // 3 blocks of 256 and a partial one, split 3 ways (one shard has two blocks).
        let settings = settings(3 * BLOCK + 17);
        let single = serde_json::to_string(&simulate(&settings).unwrap()).unwrap();
        let shards = (1..=3)
            .rev()
            .map(|index| {
                let shard = simulate_shard(&settings, Shard { index, count: 3 }, &|_| {}).unwrap();
                let text = serde_json::to_string(&shard).unwrap();
                let back: ShardResult = serde_json::from_str(&text).unwrap();
                (format!("shard{index}.json"), back)
            })
            .collect();
        let merged = serde_json::to_string(&merge(shards).unwrap()).unwrap();
        assert_eq!(merged, single);
    }

    #[test]
    fn missing_or_foreign_shards_are_refused() {
        let settings = settings(BLOCK * 2);
        let one = simulate_shard(&settings, Shard { index: 1, count: 2 }, &|_| {}).unwrap();
        let err = merge(vec![("a.json".into(), one.clone())]).unwrap_err();
        assert!(err.to_string().contains("missing of 2: 2"), "{err}");
        let mut other = settings.clone();
        other.seed = 8;
        let two = simulate_shard(&other, Shard { index: 2, count: 2 }, &|_| {}).unwrap();
        let err = merge(vec![("a.json".into(), one), ("b.json".into(), two)]).unwrap_err();
        assert!(matches!(err, MergeError::Mismatch { .. }), "{err}");
    }
}
