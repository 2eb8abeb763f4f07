//! The path every analysis command takes: flags → [`Spec`] → validate
//! (refused before the file is read) → load → [`run`](tau_core::analysis::run())
//! → the report. The flag groups here fill their part of the request.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tau_core::analysis::{Analysis, AnalysisError, ReportVisitor, Spec, Tau2Ci};
use tau_core::report::Report;
use tau_core::{Dataset, Kinded};

use super::CliError;
use super::args::{InputArgs, ModelArgs, OutputArgs, Tau2CiArgs, Tau2CiKind, WeightArgs};
use super::multilevel::MultilevelArgs;
use super::output::{emit_report, warn_analysis};
use super::provenance::InputProvenance;
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
    let (data, provenance) = input.load_weighted_for(output.report_format())?;
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
    emit(&analysis, &data, output, provenance.as_ref())
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

/// Writes the report of `analysis` (of `data`, read from `input`) as
/// `output` asks; the core says which report each result has
/// ([`Analysis::visit_report`]).
pub fn emit(
    analysis: &Analysis,
    data: &Dataset,
    output: &OutputArgs,
    input: Option<&InputProvenance>,
) -> Result<(), CliError> {
    let emit = Emit {
        path: output.output.as_deref(),
        format: output.report_format(),
        input,
    };
    analysis.visit_report(data, emit).unwrap_or_else(|| {
        Err(CliError::Analysis(
            "this analysis has no report in this version of tau".into(),
        ))
    })
}

/// Writes a report to a file or standard output.
struct Emit<'a> {
    path: Option<&'a std::path::Path>,
    format: Format,
    input: Option<&'a InputProvenance>,
}

impl ReportVisitor for Emit<'_> {
    type Output = Result<(), CliError>;

    fn visit<R: Report + serde::Serialize + ?Sized>(self, report: &R) -> Self::Output {
        emit_report(self.path, self.format, report, self.input)
    }
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
    validate_nested(&spec)
}

/// Checks `spec` for a view of one nested multilevel model
/// ([`Spec::validate_nested`]), before any file is read.
pub fn validate_nested(
    spec: &Spec,
) -> Result<Option<tau_core::multilevel::MultilevelOptions>, CliError> {
    spec.validate_nested().map_err(refused)
}
