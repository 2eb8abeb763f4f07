//! The path every analysis command takes: flags → [`Spec`] → validate
//! (refused before the file is read) → load → [`run`](tau_core::analysis::run())
//! → the report. The flag groups here fill their part of the request.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tau_core::analysis::{Analysis, AnalysisError, Spec, Tau2Ci};
use tau_core::report::paper::PaperView;
use tau_core::report::{PoolReport, RobustReport};
use tau_core::{Dataset, Kinded};

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, Tau2CiArgs, Tau2CiKind, WeightArgs};
use super::multilevel::MultilevelArgs;
use super::output::{emit_report, emit_with, warn_analysis};
use super::provenance::WithProvenance;
use super::robust::RobustArgs;
use tau_core::report::Format;

impl ModelArgs {
    /// Sets the model's fields of `spec`.
    pub fn fill(&self, spec: &mut Spec) {
        spec.method = self.method;
        spec.test = self.test;
        spec.level = self.level;
        spec.fallback = self.fallback;
        spec.max_iter = self.max_iter as usize;
    }
}

impl MultilevelArgs {
    /// Sets the random effects of `spec`, reading the known matrices.
    pub fn fill(&self, spec: &mut Spec) -> Result<(), CliError> {
        spec.random = self.random.clone();
        spec.structs = self.structs.clone();
        spec.rho = self.rho.clone();
        spec.fit_only = self.fit_only;
        if let Some(path) = &self.vcov {
            spec.vcov = super::matrices::read_vcov(path)?;
        }
        spec.corr = (self.corr.iter())
            .map(|c| super::matrices::read_corr(c))
            .collect::<Result<_, _>>()?;
        Ok(())
    }
}

impl RobustArgs {
    /// Sets the robust inference of `spec`.
    pub fn fill(&self, spec: &mut Spec) {
        if let Some(robust) = self.spec() {
            spec.robust = Some(robust.cluster);
            spec.small_sample = robust.small_sample;
        }
    }
}

impl Tau2CiArgs {
    /// Sets the CI of τ² of `spec`.
    pub fn fill(&self, spec: &mut Spec) {
        spec.tau2_ci = match self.kind {
            Tau2CiKind::Qp => Tau2Ci::Qp,
            Tau2CiKind::Wald => Tau2Ci::Wald,
            Tau2CiKind::Profile => Tau2Ci::Profile,
        };
    }
}

impl WeightArgs {
    /// Sets the weighting of `spec`.
    pub fn fill(&self, spec: &mut Spec) {
        spec.weighted = !self.unweighted;
    }
}

impl OutputArgs {
    /// Sets the view of `spec`.
    pub fn fill(&self, spec: &mut Spec) {
        spec.format = self.report_format();
    }
}

/// Checks `spec`, refusing it (exit 2) with every reason, each naming its
/// flag, before any file is read.
pub fn validate(spec: &Spec) -> Result<(), CliError> {
    spec.validate().map(drop).map_err(refused)
}

/// The refusals of a request, one `error:` line each, fields named as flags.
pub fn refused(refusals: tau_core::analysis::Refusals) -> CliError {
    let lines: Vec<String> = refusals
        .0
        .iter()
        .map(|r| r.render(super::fields::name))
        .collect();
    CliError::Input(lines.join("\nerror: "))
}

/// Runs `spec` on the file of `input` and writes its report as `output` asks.
pub fn run(spec: &Spec, input: &InputArgs, output: &OutputArgs) -> Result<(), CliError> {
    validate(spec)?;
    let data = input.load_weighted()?;
    let file = input.display_name();
    let bar = match spec.permutations {
        Some(_) => progress_bar(),
        None => None,
    };
    let progress = |total: usize| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.inc(1);
        }
    };
    let result = tau_core::analysis::run(spec, &data, &progress);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let analysis = result.map_err(|e| failed(&e, &file))?;
    warn_analysis(&analysis.warnings().into_iter().cloned().collect::<Vec<_>>());
    emit(&analysis, &data, output)
}

/// The error of a failed analysis of `file`, its fields named as flags.
pub fn failed(e: &AnalysisError, file: &str) -> CliError {
    // Only the request's own messages name fields in backticks; the others
    // are already named (main sets the names) and may quote the input,
    // whose words must not turn into flags.
    let message = match e {
        AnalysisError::Refused(_) | AnalysisError::Data(_) => super::fields::render(&e.to_string()),
        _ => e.to_string(),
    };
    CliError::of_kind(e.kind(), format!("{file}: {message}"))
}

/// Writes the report of `analysis` (of `data`): one match over the result
/// kinds, so that each view is chosen in one place.
pub fn emit(analysis: &Analysis, data: &Dataset, output: &OutputArgs) -> Result<(), CliError> {
    let path = output.output.as_deref();
    let format = output.report_format();
    match analysis {
        Analysis::Pool(result) => emit_report(path, format, &PoolReport { result, data }),
        Analysis::Tables(result) => emit_report(path, format, result),
        Analysis::Regression(result) => emit_report(path, format, result),
        Analysis::Subgroup(result) => emit_report(path, format, result),
        Analysis::Multilevel(result) => emit_report(path, format, result),
        Analysis::MultilevelSubgroups(result) => emit_report(path, format, result),
        Analysis::RhoSensitivity(result) => emit_report(path, format, result),
        Analysis::Bayes(result) => emit_report(path, format, result),
        Analysis::LocationScale(result) => emit_report(path, format, result),
        Analysis::Glmm(result) => emit_report(path, format, result),
        // One JSON view of every robust analysis: the core's.
        Analysis::Robust { .. } if format == Format::Json => {
            let value = analysis.to_json(data);
            emit_with(path, |w| {
                tau_core::report::json::write_json(w, &WithProvenance::new(&value))
            })
        }
        Analysis::Robust {
            model,
            shown,
            robust,
            tested,
        } => {
            // The model block shows the numbers the robust inference gives.
            let model = shown.as_deref().unwrap_or(model);
            match model {
                Analysis::Pool(result) => {
                    robust_report(path, format, &PoolReport { result, data }, robust, tested)
                }
                Analysis::Regression(m) => robust_report(path, format, m, robust, tested),
                Analysis::Subgroup(m) => robust_report(path, format, m, robust, tested),
                Analysis::Multilevel(m) => robust_report(path, format, m, robust, tested),
                Analysis::MultilevelSubgroups(m) => robust_report(path, format, m, robust, tested),
                other => Err(CliError::Analysis(format!(
                    "no report for robust inference on {other:?}"
                ))),
            }
        }
        _ => Err(CliError::Analysis(
            "this analysis has no report in this version of tau".into(),
        )),
    }
}

fn robust_report<M: tau_core::report::Report + PaperView + serde::Serialize>(
    path: Option<&std::path::Path>,
    format: tau_core::report::Format,
    model: &M,
    robust: &tau_core::robust::RobustResult,
    tested: &str,
) -> Result<(), CliError> {
    emit_report(
        path,
        format,
        &RobustReport {
            model,
            robust,
            tested,
        },
    )
}

/// A progress bar on standard error, only when that is a terminal.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("permutations {bar:40} {pos}/{len} ({eta} left)")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// The multilevel model that `model` and `multilevel` describe for a
/// command that pools (forest, funnel, bias), or `None` without
/// `--random`; refused as the analysis request refuses it.
pub fn multilevel_options(
    model: &ModelArgs,
    multilevel: &MultilevelArgs,
) -> Result<Option<tau_core::multilevel::MultilevelOptions>, CliError> {
    if multilevel.random.is_empty() {
        return Ok(None);
    }
    let mut spec = Spec::default();
    model.fill(&mut spec);
    multilevel.fill(&mut spec)?;
    match spec.validate().map_err(refused)?.model {
        tau_core::analysis::Model::Multilevel(options) => Ok(Some(options)),
        tau_core::analysis::Model::General(_) => Err(CliError::Input(
            "this command draws or tests a model of one nested random term (--random A/B); crossed or structured terms (metafor's rma.mv with random = list(...) or struct) are fitted by tau pool and tau regress".into(),
        )),
        _ => Ok(None),
    }
}
