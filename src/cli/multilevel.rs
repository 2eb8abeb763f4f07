//! `--random`, `--rho` and `--fit-only`: the multilevel model (metafor's
//! `rma.mv` with nested random effects). Which other settings it can go
//! with is decided by the analysis request (`tau_core::analysis`).

use clap::Args;

use super::CliError;

/// The multilevel flags.
#[derive(Debug, Clone, Args)]
pub struct MultilevelArgs {
    /// Multilevel model with nested random effects by these moderators,
    /// outermost first (metafor's rma.mv(random = ~ 1 | A/B)), e.g.
    /// --random study/es_id for the three-level model.
    #[arg(long, value_name = "A/B[/C...]", value_parser = parse_random)]
    pub random: Option<Levels>,
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

/// The grouping variables of `--random`, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels(pub Vec<String>);

fn parse_random(text: &str) -> Result<Levels, String> {
    let names: Vec<String> = text.split('/').map(|n| n.trim().to_owned()).collect();
    if names.iter().any(String::is_empty) {
        return Err(format!(
            "{text:?} has an empty level: name the grouping moderators outermost first, separated by '/', e.g. --random study/es_id"
        ));
    }
    Ok(Levels(names))
}

/// The error of a flag that a multilevel model cannot use.
pub fn refuse(flag: &str, why: &str) -> CliError {
    CliError::Input(format!("{flag} cannot be used with --random: {why}"))
}
