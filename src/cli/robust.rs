//! `--robust CLUSTER` and `--small-sample` on `pool`, `regress` and
//! `subgroup`: cluster-robust inference on the model (CR2 with Satterthwaite
//! and HTZ tests, or metafor's own robust() with `--small-sample none`).

use clap::Args;

use tau_core::robust::{RobustSpec, SmallSample};

// The robust-inference flags.
#[derive(Debug, Args)]
pub struct RobustArgs {
    /// Cluster-robust inference, clustered by this moderator (usually the
    /// study): CR2 standard errors, Satterthwaite t tests, and the HTZ test of
    /// the moderators (as metafor's robust(clubSandwich = TRUE)).
    #[arg(long, value_name = "CLUSTER")]
    robust: Option<String>,
    /// Small-sample corrections of --robust: satterthwaite (CR2, Satterthwaite
    /// t tests, HTZ F test) or none (metafor's robust(adjust = TRUE): t and F
    /// tests on clusters - p df).
    #[arg(long, requires = "robust", value_parser = parse_small_sample, default_value = "satterthwaite", value_name = "CORRECTION")]
    small_sample: SmallSample,
}

fn parse_small_sample(text: &str) -> Result<SmallSample, String> {
    SmallSample::parse(text).ok_or_else(|| {
        format!("{text:?} is not a small-sample correction; use satterthwaite or none")
    })
}

impl RobustArgs {
    /// What robust inference was asked for, if any.
    pub fn spec(&self) -> Option<RobustSpec> {
        self.robust.as_ref().map(|cluster| RobustSpec {
            cluster: cluster.trim().to_owned(),
            small_sample: self.small_sample,
        })
    }
}
