//! `--robust CLUSTER` and `--small-sample` on `pool`, `regress` and
//! `subgroup`: cluster-robust inference on the model (CR2 with Satterthwaite
//! and HTZ tests, or metafor's own robust() with `--small-sample none`).

use clap::Args;

use super::CliError;
use super::output::{emit_report, warn_analysis};
use tau_core::robust::{RobustResult, RobustSpec, SmallSample};
use tau_core::{Dataset, report};

/// The robust-inference flags.
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

/// The studies with a cluster value; the others are left out with a
/// warning that the analysis's result carries.
pub fn clustered(data: &Dataset, spec: &RobustSpec, file: &str) -> Result<Dataset, CliError> {
    tau_core::robust::uni::keep_clustered(data, &spec.cluster)
        .map_err(|e| CliError::from(e).with_file(file))
}

/// Writes a model's report followed by its robust inference
/// ([`report::RobustReport`]), after the robust warnings.
pub fn emit_robust<M: report::Report + serde::Serialize + ?Sized>(
    output: Option<&std::path::Path>,
    format: report::Format,
    model: &M,
    robust: &RobustResult,
    tested: &str,
) -> Result<(), CliError> {
    warn_analysis(&robust.warnings);
    emit_report(
        output,
        format,
        &report::RobustReport {
            model,
            robust,
            tested,
        },
    )
}
