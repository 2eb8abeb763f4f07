//! `tau vcalc`: the sampling covariance matrix of dependent effect sizes
//! from the design (metafor's `vcalc()`), written as the CSV that
//! `--vcov` reads.

use clap::Args;

use super::CliError;
use super::args::InputArgs;
use super::output::{emit_with, warn};
use tau_core::multilevel::vcalc::{VcalcSettings, vcalc};

// Flags of `tau vcalc`.
#[derive(Debug, Args)]
pub struct VcalcArgs {
    #[command(flatten)]
    input: InputArgs,
    /// The moderator whose levels hold correlated effect sizes, e.g. the
    /// study (metafor's cluster).
    #[arg(long, value_name = "MODERATOR")]
    cluster: String,
    /// Independent samples within a cluster (metafor's subgroup).
    #[arg(long, value_name = "MODERATOR")]
    subgroup: Option<String>,
    /// The observation (outcome, measure) of each effect size; different
    /// observations of one cluster correlate by --rho (metafor's obs).
    #[arg(long, value_name = "MODERATOR")]
    obs: Option<String>,
    /// The construct of each effect size; different constructs correlate
    /// by --rho (the second value with --obs) (metafor's type).
    #[arg(long = "type", value_name = "MODERATOR")]
    construct: Option<String>,
    /// The correlations: of different observations (--obs), of different
    /// constructs (--type), or both in that order, e.g. --rho 0.6,0.3.
    #[arg(
        long,
        value_name = "R",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    rho: Vec<f64>,
    /// The time of each effect size's (first group's) measurement; effect
    /// sizes of one group correlate by --phi to the power of the time
    /// between them (metafor's time1).
    #[arg(long, value_name = "MODERATOR")]
    time1: Option<String>,
    /// The time of the second group's measurement (metafor's time2).
    #[arg(long, value_name = "MODERATOR")]
    time2: Option<String>,
    /// The autocorrelation per unit of time, with --time1 (metafor's phi).
    #[arg(long, value_name = "PHI", allow_negative_numbers = true)]
    phi: Option<f64>,
    /// The first group each effect size compares, e.g. the treatment arm
    /// (metafor's grp1).
    #[arg(long, value_name = "MODERATOR")]
    grp1: Option<String>,
    /// The second group, e.g. a control group that several effect sizes
    /// share (metafor's grp2).
    #[arg(long, value_name = "MODERATOR")]
    grp2: Option<String>,
    /// The first group's size (metafor's w1).
    #[arg(long, value_name = "MODERATOR")]
    w1: Option<String>,
    /// The second group's size (metafor's w2).
    #[arg(long, value_name = "MODERATOR")]
    w2: Option<String>,
    /// Write the matrix to this file instead of standard output.
    #[arg(short, long, value_name = "FILE.csv")]
    output: Option<std::path::PathBuf>,
}

/// Runs `tau vcalc`.
pub fn run(args: &VcalcArgs) -> Result<(), CliError> {
    let data = args.input.load()?;
    let settings = VcalcSettings {
        cluster: args.cluster.clone(),
        subgroup: args.subgroup.clone(),
        obs: args.obs.clone(),
        construct: args.construct.clone(),
        rho: args.rho.clone(),
        time1: args.time1.clone(),
        time2: args.time2.clone(),
        phi: args.phi,
        grp1: args.grp1.clone(),
        grp2: args.grp2.clone(),
        w1: args.w1.clone(),
        w2: args.w2.clone(),
    };
    let v = vcalc(&data, &settings)
        .map_err(|e| CliError::from(e).with_file(&args.input.display_name()))?;
    if !v.not_positive_definite.is_empty() {
        warn(&format!(
            "the sampling covariance matrix is not positive definite in cluster{} {} (as metafor's vcalc warns): check --rho and --phi",
            if v.not_positive_definite.len() == 1 {
                ""
            } else {
                "s"
            },
            v.not_positive_definite.join(", ")
        ));
    }
    emit_with(args.output.as_deref(), |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["study_i", "study_j", "cov"])?;
        for (a, b, c) in &v.pairs {
            out.write_record([a.as_str(), b.as_str(), &c.to_string()])?;
        }
        out.flush()
    })
}
