//! `--random`, `--rho` and `--fit-only`: the multilevel model (metafor's
//! `rma.mv` with nested random effects). Which other settings it can go
//! with is decided by the analysis request (`tau_core::analysis`).

use clap::Args;

use super::CliError;

// The multilevel flags.
#[derive(Debug, Clone, Args)]
pub struct MultilevelArgs {
    /// A random term of a multilevel model (metafor's rma.mv); repeat for
    /// several, in order: nested intercepts outermost first (--random
    /// study/es_id, ~ 1 | study/es_id), crossed intercepts (--random study
    /// --random lab), or a structured term with --struct (--random
    /// 'outcome | study' --struct UN, ~ outcome | study).
    #[arg(long, value_name = "TERM", value_parser = parse_random)]
    pub random: Vec<String>,
    /// The structure of each structured random term (inner | outer), in
    /// order: CS, HCS, UN, DIAG, ID, AR, HAR, CAR or GEN (metafor's struct).
    #[arg(long = "struct", value_name = "STRUCT", requires = "random")]
    pub structs: Vec<String>,
    /// With --random: the sampling covariance matrix (metafor's V), a CSV
    /// with header study_i,study_j,cov naming record labels; each pair
    /// once, a record with itself is its variance, pairs not listed are 0.
    #[arg(long, value_name = "FILE.csv", requires = "random")]
    pub vcov: Option<std::path::PathBuf>,
    /// With --random: a known correlation matrix of the levels of a term
    /// ~ 1 | TERM (metafor's R = list(TERM = M)), e.g. a phylogeny: a
    /// square CSV with a header row of level names and each row's name in
    /// the first column. Repeat for several terms.
    #[arg(long, value_name = "TERM=FILE.csv", requires = "random")]
    pub corr: Vec<String>,
    /// With --random: the correlation of the sampling errors of effect sizes
    /// in the same outermost cluster, in [0, 1) (metafor's vcalc(vi,
    /// cluster, obs, rho)), e.g. --rho 0.6.
    #[arg(
        long,
        value_name = "R",
        requires = "random",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub rho: Vec<f64>,
    /// With --random: fit the model only, without the profile-likelihood CI
    /// of each sigma^2 and the likelihood-ratio test per level, which refit
    /// the model many times (metafor's confint() and anova()); for large
    /// data, where they take most of the time.
    #[arg(long, requires = "random")]
    pub fit_only: bool,
}

/// One random term, checked for empty levels.
fn parse_random(text: &str) -> Result<String, String> {
    let (inner, outer) = text.split_once('|').unwrap_or(("1", text));
    let names = outer.split('/').chain(std::iter::once(inner));
    if names.map(str::trim).any(str::is_empty) {
        return Err(format!(
            "{text:?} has an empty level: name the grouping moderators outermost first, separated by '/', e.g. --random study/es_id, or a structured term, e.g. --random 'outcome | study'"
        ));
    }
    Ok(text.trim().to_owned())
}

/// The error of a flag that a multilevel model cannot use.
pub fn refuse(flag: &str, why: &str) -> CliError {
    CliError::Input(format!("{flag} cannot be used with --random: {why}"))
}
