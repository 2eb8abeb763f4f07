//! `--random` and `--rho` on `pool`, `regress` and `subgroup`: the
//! multilevel model (metafor's `rma.mv` with nested random effects), and
//! the refusal of the flags that cannot apply to it.

use clap::Args;

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, TestFlag};
use super::output::{emit_report, warn_analysis};
use super::robust::emit_robust;
use tau_core::model::Test as UniTest;
use tau_core::multilevel::{MultilevelOptions, Test};
use tau_core::regression::DesignSpec;
use tau_core::robust::multilevel::fitted;
use tau_core::robust::{RobustSpec, rho_sensitivity};

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

/// Refuses `--tau2-ci wald|profile` with `--random`: a multilevel model has
/// no single tau^2, and reports the profile CI of each sigma^2 itself.
pub fn refuse_tau2_ci(tau2_ci: &super::args::Tau2CiArgs) -> Result<(), CliError> {
    if tau2_ci.kind != super::args::Tau2CiKind::Qp {
        return Err(refuse(
            "--tau2-ci",
            "a multilevel model reports the profile-likelihood CI of each sigma^2 (as metafor's confint()); leave out --tau2-ci",
        ));
    }
    Ok(())
}

impl MultilevelArgs {
    /// The model these flags and `model` describe, or `None` without
    /// `--random`. Refuses what a multilevel model cannot use.
    /// With `robust`, a list of ρ is allowed (the sensitivity analysis of
    /// [`run_robust`]); the options then carry the first.
    pub fn options(
        &self,
        model: &ModelArgs,
        design: Option<DesignSpec>,
        robust: bool,
    ) -> Result<Option<MultilevelOptions>, CliError> {
        let Some(Levels(random)) = &self.random else {
            return Ok(None);
        };
        let test = match model.test {
            TestFlag::Uni(UniTest::Z) => Test::Z,
            TestFlag::T => Test::T,
            TestFlag::Uni(UniTest::Knha) => {
                return Err(refuse(
                    "--test knha",
                    "Knapp-Hartung rescales the standard errors by the residual heterogeneity of a model with a single tau^2, which a multilevel model does not have. Use --test t (t tests on k - p df, metafor's test = \"t\")",
                ));
            }
        };
        if model.fallback.is_some() {
            return Err(refuse(
                "--fallback",
                "a multilevel model is estimated by REML or ML only, with no other estimator to fall back to; raise --max-iter if it does not converge",
            ));
        }
        let rho = match self.rho.as_slice() {
            [] => None,
            [rho] => Some(*rho),
            [rho, ..] if robust => Some(*rho),
            _ => {
                return Err(CliError::Input(format!(
                    "--rho {}: a list of rho values needs --robust (a sensitivity analysis over working models); give one value, e.g. --rho 0.6",
                    self.rho
                        .iter()
                        .map(f64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )));
            }
        };
        Ok(Some(MultilevelOptions {
            random: random.clone(),
            rho,
            method: model.estimator()?,
            test,
            level: model.level,
            max_iter: model.max_iter as usize,
            design,
            profile: !self.fit_only,
            level_tests: !self.fit_only,
        }))
    }
}

/// `--random` with `--robust`: the multilevel model with cluster-robust
/// inference (metafor `robust(rma.mv(...), cluster)`), or with a list of ρ
/// the sensitivity table (the model fitted at each ρ). `tested` names what
/// the omnibus test covers.
pub fn run_robust(
    input: &InputArgs,
    options: &MultilevelOptions,
    rhos: &[f64],
    spec: &RobustSpec,
    output: &OutputArgs,
) -> Result<(), CliError> {
    let data = input.load()?;
    let fail = |e| CliError::from(e).with_file(&input.display_name());
    if rhos.len() > 1 {
        let result = rho_sensitivity(&data, options, rhos, spec).map_err(fail)?;
        warn_analysis(&result.warnings);
        return emit_report(output.output.as_deref(), output.report_format(), &result);
    }
    let (result, robust) = fitted(&data, options, spec).map_err(fail)?;
    warn_analysis(&result.warnings);
    emit_robust(
        output.output.as_deref(),
        output.format,
        &result,
        &robust,
        "moderators",
    )
}

/// Fits the model and writes its report.
pub fn run(
    input: &InputArgs,
    options: &MultilevelOptions,
    output: &OutputArgs,
) -> Result<(), CliError> {
    let data = input.load()?;
    let result = tau_core::multilevel::fit(&data, options)
        .map_err(|e| CliError::from(e).with_file(&input.display_name()))?;
    warn_analysis(&result.warnings);
    emit_report(output.output.as_deref(), output.report_format(), &result)
}
