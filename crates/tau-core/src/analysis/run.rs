//! Running a checked analysis request: the one caller of the model entry
//! points for `pool`, `regress` and `subgroup`, whatever the model family
//! and the inference.

use crate::bayes::{BayesError, BayesResult};
use crate::bias::selection::{SelectionError, SelectionModel};
use crate::bias::{BiasError, BiasResult};
use crate::data::dataset::Dataset;
use crate::glmm::{self, GlmmFitError, GlmmResult};
use crate::location_scale::{self, LocationScaleError, LocationScaleResult};
use crate::model::FitError;
use crate::model::two_by_two::TableError;
use crate::multilevel::{self, MultilevelError, MultilevelResult, MultilevelSubgroups};
use crate::pool::PoolResult;
use crate::pool_tables::{TablesMethod, TablesResult, pool_tables};
use crate::regression::permutation::PermutationSpec;
use crate::regression::predict::PredictError;
use crate::regression::subset_test::{SubsetTestError, subset_test};
use crate::regression::{RegressionError, RegressionOptions, RegressionResult, regress_weighted};
use crate::robust::{self, RhoSensitivity, RobustError, RobustResult};
use crate::subgroup::permutation::permutation_test;
use crate::subgroup::{SubgroupError, SubgroupOptions, SubgroupResult, Tau2Mode};
use crate::warning::Warning;

use super::spec::{Question, Spec, Tau2Ci};
use super::validate::{Model, Plan, Refusals};

/// The result of one analysis request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Analysis {
    /// A pooled model with one τ² (`rma`).
    Pool(PoolResult),
    /// 2×2 tables pooled by Mantel-Haenszel or Peto.
    Tables(TablesResult),
    /// A meta-regression.
    Regression(RegressionResult),
    /// Subgroups, each pooled (or with a common τ²).
    Subgroup(SubgroupResult),
    /// A multilevel model (`rma.mv`), pooled or with moderators.
    Multilevel(MultilevelResult),
    /// A multilevel model with the subgroups as a factor.
    MultilevelSubgroups(MultilevelSubgroups),
    /// A location-scale model (`scale`).
    LocationScale(LocationScaleResult),
    /// A GLMM (`glmm`).
    Glmm(GlmmResult),
    /// A GLMM with moderators (`glmm` and `mods`).
    GlmmRegression(glmm::moderators::GlmmRegression),
    /// A model with cluster-robust inference: `model` is the working model,
    /// `tested` what the omnibus test covers.
    Robust {
        /// The working model's own result.
        model: Box<Analysis>,
        /// The working model's result with every number derived from the
        /// coefficients (CIs, prediction interval, back-transformation,
        /// `vcov`, subgroup means and their test) taken from the robust
        /// inference ([`robust::uni::robust_pooled`],
        /// [`robust::multilevel::robust_summary`], [`robust::subgroup`]): what
        /// every view shows.
        shown: Option<Box<Analysis>>,
        /// Its robust inference.
        robust: RobustResult,
        /// "moderators" or "subgroup differences".
        tested: &'static str,
    },
    /// The working model fitted at each of several ρ, with robust inference.
    RhoSensitivity(RhoSensitivity),
    /// A Bayesian random-effects meta-analysis.
    Bayes(BayesResult),
    /// The small-study and publication-bias checks.
    Bias(Box<BiasResult>),
    /// A selection model for publication bias.
    Selection(Box<SelectionModel>),
}

impl Analysis {
    /// The warnings of the analysis (and, with robust inference, of both
    /// the model and the robust step), in the order they arose.
    pub fn warnings(&self) -> Vec<&Warning> {
        match self {
            Analysis::Pool(r) => r.warnings.iter().collect(),
            Analysis::Tables(r) => r.warnings.iter().collect(),
            Analysis::Regression(r) => r.warnings.iter().collect(),
            Analysis::Subgroup(r) => r.warnings.iter().collect(),
            Analysis::Multilevel(r) => r.warnings.iter().collect(),
            Analysis::MultilevelSubgroups(r) => r.model.warnings.iter().collect(),
            Analysis::LocationScale(r) => r.warnings.iter().collect(),
            Analysis::Glmm(r) => r.warnings.iter().collect(),
            Analysis::GlmmRegression(r) => r.warnings.iter().collect(),
            Analysis::Robust { model, robust, .. } => {
                let mut all = model.warnings();
                all.extend(robust.warnings.iter());
                all
            }
            Analysis::RhoSensitivity(r) => r.warnings.iter().collect(),
            Analysis::Bayes(_) => Vec::new(),
            Analysis::Bias(r) => r.warnings.iter().collect(),
            Analysis::Selection(r) => r.warnings.iter().collect(),
        }
    }
}

/// Why an analysis request could not be carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// The request itself is not valid ([`Spec::validate`]).
    #[error(transparent)]
    Refused(#[from] Refusals),
    /// The records cannot be used by this analysis (e.g. user weights where
    /// the model has its own).
    #[error("{0}")]
    Data(String),
    /// A model with one τ².
    #[error(transparent)]
    Fit(#[from] FitError),
    /// 2×2 tables.
    #[error(transparent)]
    Tables(#[from] TableError),
    /// A meta-regression.
    #[error(transparent)]
    Regression(#[from] RegressionError),
    /// A subgroup analysis.
    #[error(transparent)]
    Subgroup(#[from] SubgroupError),
    /// A multilevel model.
    #[error(transparent)]
    Multilevel(#[from] MultilevelError),
    /// Robust inference.
    #[error(transparent)]
    Robust(#[from] RobustError),
    /// A prediction.
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// A test of a subset of the coefficients.
    #[error(transparent)]
    SubsetTest(#[from] SubsetTestError),
    /// A Bayesian analysis.
    #[error(transparent)]
    Bayes(#[from] BayesError),
    /// The bias checks.
    #[error(transparent)]
    Bias(Box<BiasError>),
    /// A selection model.
    #[error(transparent)]
    Selection(Box<SelectionError>),
    /// A location-scale model.
    #[error(transparent)]
    LocationScale(#[from] LocationScaleError),
    /// A GLMM.
    #[error(transparent)]
    Glmm(#[from] GlmmFitError),
}

impl crate::Kinded for AnalysisError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            AnalysisError::Refused(e) => e.kind(),
            AnalysisError::Data(_) => crate::ErrorKind::Input,
            AnalysisError::Fit(e) => e.kind(),
            AnalysisError::Tables(e) => e.kind(),
            AnalysisError::Regression(e) => e.kind(),
            AnalysisError::Subgroup(e) => e.kind(),
            AnalysisError::Multilevel(e) => e.kind(),
            AnalysisError::Robust(e) => e.kind(),
            AnalysisError::Predict(e) => e.kind(),
            AnalysisError::SubsetTest(e) => e.kind(),
            AnalysisError::Bayes(e) => e.kind(),
            AnalysisError::Bias(e) => e.kind(),
            AnalysisError::Selection(e) => e.kind(),
            AnalysisError::LocationScale(e) => e.kind(),
            AnalysisError::Glmm(e) => e.kind(),
        }
    }
}

impl From<SelectionError> for AnalysisError {
    fn from(e: SelectionError) -> Self {
        AnalysisError::Selection(Box::new(e))
    }
}

impl From<BiasError> for AnalysisError {
    fn from(e: BiasError) -> Self {
        AnalysisError::Bias(Box::new(e))
    }
}

/// Carries out `spec` on `data`, with `progress` told the number of
/// permutations as they are done (none without a permutation test).
///
/// `spec.seed` must be set when `spec.permutations` is (the caller draws
/// one and reports it); otherwise 0 is used.
pub fn run(
    spec: &Spec,
    data: &Dataset,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Analysis, AnalysisError> {
    let plan = spec.validate()?;
    if !plan.uses_weights() {
        refuse_weights(data, &plan)?;
    }
    match spec.question {
        Question::Bias => return super::bias::run(spec, &plan, data),
        Question::Selection => return super::bias::selection(spec, &plan, data),
        _ => {}
    }
    match plan.model.clone() {
        Model::Tables(method) => {
            let odds_ratios;
            let data = match as_odds_ratios(data, method) {
                Some(converted) => {
                    odds_ratios = converted;
                    &odds_ratios
                }
                None => data,
            };
            Ok(Analysis::Tables(pool_tables(data, method, spec.level)?))
        }
        Model::Multilevel(options) => multilevel_analysis(spec, &plan, options, data),
        Model::Bayes(options) => Ok(Analysis::Bayes(crate::bayes::fit(data, &options)?)),
        Model::General(options) => {
            let mut result = multilevel::general::fit(data, &options)?;
            if spec.blup {
                result.ranef = Some(multilevel::general::ranef(data, &options)?);
            }
            Ok(Analysis::Multilevel(result))
        }
        Model::LocationScale(options) => {
            let mut result = location_scale::fit(data, &options)?;
            if !spec.predict.is_empty() {
                result.predictions = Some(
                    spec.predict
                        .iter()
                        .map(|p| result.predict_at(p))
                        .collect::<Result<_, _>>()?,
                );
            }
            Ok(Analysis::LocationScale(result))
        }
        Model::Glmm(options) if spec.question == Question::Regress => {
            let design = plan.design.clone().unwrap_or_default();
            match glmm::moderators::regress(data, &options, &design) {
                Err(e @ GlmmFitError::NotBuilt { .. }) => Err(glmm_not_built(e)),
                result => Ok(Analysis::GlmmRegression(result?)),
            }
        }
        Model::Glmm(options) => match glmm::fit(data, &options) {
            // A measure not built is refused as the request's other
            // refusals are (it is known only once the data are read).
            Err(e @ GlmmFitError::NotBuilt { .. }) => Err(glmm_not_built(e)),
            result => Ok(Analysis::Glmm(result?)),
        },
        Model::Univariate(fit) => match spec.question {
            // (validate plans a Bayesian question as Model::Bayes)
            Question::Pool | Question::Bayes | Question::Bias | Question::Selection => {
                pooled(spec, &plan, fit, data)
            }
            Question::Regress => regression(spec, &plan, fit, data, progress),
            Question::Subgroup => subgroups(spec, &plan, fit, data),
        },
    }
}

/// A GLMM whose measure is not built, refused as the request's other
/// refusals are (it is known only once the data are read).
fn glmm_not_built(e: GlmmFitError) -> AnalysisError {
    AnalysisError::Refused(Refusals(vec![super::validate::Refusal {
        field: super::spec::Field::Glmm,
        message: e.to_string(),
    }]))
}

/// Peto's method pools odds ratios whatever measure the file names (as
/// metafor's `rma.peto`, which takes the 2×2 tables only): the 2×2 tables of
/// a file whose measure is RR or RD, with each study's log odds ratio
/// (escalc "OR") as its effect size and a note saying so. `None` when there
/// is nothing to convert (already OR, or no study with a 2×2 table).
fn as_odds_ratios(data: &Dataset, method: TablesMethod) -> Option<Dataset> {
    use crate::effect_size::measure::Measure;
    if method != TablesMethod::PETO || !matches!(data.measure, Measure::RR | Measure::RD) {
        return None;
    }
    let mut converted = data.clone();
    for study in &mut converted.studies {
        let es = crate::effect_size::compute(study.raw.as_deref()?, Measure::OR).ok()?;
        study.yi = es.yi;
        study.vi = es.vi;
    }
    converted.measure = Measure::OR;
    converted.warnings.push(Warning::NotApplied(format!(
        "Peto's method pools odds ratios, so the 2x2 tables are analysed as odds ratios (OR), not as the file's {} (as metafor's rma.peto)",
        data.measure.name()
    )));
    Some(converted)
}

/// Refuses records with a `weight` for an analysis that does not use them.
fn refuse_weights(data: &Dataset, plan: &Plan) -> Result<(), AnalysisError> {
    let Some(study) = data.first_weighted() else {
        return Ok(());
    };
    Err(AnalysisError::Data(match &plan.model {
        Model::Tables(method) => format!(
            "study '{}' has a weight (the weight field), but `method` {} weights the 2x2 tables its own way (as metafor's rma.mh and rma.peto, which take no weights); remove the weight field, or pool with an inverse-variance `method` such as REML",
            study.label(),
            method.name()
        ),
        _ => format!(
            "study '{}' has a weight (the weight field): user weights (metafor's weights =, rma.mv's W =) are used only by tau pool and tau regress (with or without `random`) and tau forest (without `random`), with an inverse-variance `method` and without `robust` or `by`; remove the weight field (or column) for this analysis",
            study.label()
        ),
    }))
}

/// Refuses `blup` with user weights: BLUPs shrink each study by its
/// inverse-variance weight, and metafor's `blup()` stops for other weights.
fn refuse_weighted_blup(data: &Dataset) -> Result<(), AnalysisError> {
    match data.first_weighted() {
        Some(study) => Err(AnalysisError::Data(format!(
            "study '{}' has a `weight`, and `blup` cannot be used with user weights: BLUPs shrink each study by its inverse-variance weight (metafor's blup() stops for other weights); leave out `blup`, or the weight field",
            study.label()
        ))),
        None => Ok(()),
    }
}

fn pooled(
    spec: &Spec,
    plan: &Plan,
    fit: crate::model::FitOptions,
    data: &Dataset,
) -> Result<Analysis, AnalysisError> {
    if let Some(robust) = &plan.robust {
        let (result, robust) = robust::uni::pooled(data, &fit, robust)?;
        let shown = robust::uni::robust_pooled(&result, data, &robust);
        return Ok(Analysis::Robust {
            model: Box::new(Analysis::Pool(result)),
            shown: Some(Box::new(Analysis::Pool(shown))),
            robust,
            tested: "moderators",
        });
    }
    let mut result = crate::pool::pool_with(data, &fit, spec.weighted)?;
    match spec.tau2_ci {
        Tau2Ci::Qp => {}
        Tau2Ci::Wald => {
            result.use_wald_tau2_ci();
        }
        Tau2Ci::Profile => {
            result.use_profile_tau2_ci(data)?;
        }
    }
    if spec.blup {
        refuse_weighted_blup(data)?;
        result.blups = Some(result.blups(data));
    }
    Ok(Analysis::Pool(result))
}

fn regression(
    spec: &Spec,
    plan: &Plan,
    fit: crate::model::FitOptions,
    data: &Dataset,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Analysis, AnalysisError> {
    let options = RegressionOptions {
        fit,
        design: plan.design.clone().unwrap_or_default(),
        permutations: spec.permutations.map(|iterations| PermutationSpec {
            iterations,
            seed: spec.seed.unwrap_or(0),
            by: spec.permute_by.as_deref().map(|b| b.trim().to_owned()),
        }),
    };
    if let Some(robust) = &plan.robust {
        let (result, robust) = robust::uni::regression(data, &options, robust)?;
        return Ok(Analysis::Robust {
            model: Box::new(Analysis::Regression(result)),
            shown: None,
            robust,
            tested: "moderators",
        });
    }
    let mut result = regress_weighted(data, &options, spec.weighted, progress)?;
    match spec.tau2_ci {
        Tau2Ci::Qp => {}
        Tau2Ci::Wald => {
            result.use_wald_tau2_ci();
        }
        Tau2Ci::Profile => {
            result.use_profile_tau2_ci()?;
        }
    }
    if let Some(names) = &spec.btt {
        result.btt = Some(subset_test(&result, names)?);
    }
    if !spec.predict.is_empty() {
        result.predictions = Some(
            spec.predict
                .iter()
                .map(|p| result.predict_at(p))
                .collect::<Result<_, _>>()?,
        );
    }
    if spec.blup {
        refuse_weighted_blup(data)?;
        result.blups = Some(result.blups());
    }
    Ok(Analysis::Regression(result))
}

fn subgroups(
    spec: &Spec,
    plan: &Plan,
    fit: crate::model::FitOptions,
    data: &Dataset,
) -> Result<Analysis, AnalysisError> {
    let options = SubgroupOptions {
        fit,
        by: spec.by.clone().unwrap_or_default(),
        tau2: spec.tau2.unwrap_or(Tau2Mode::Separate),
        levels: spec.levels.clone(),
    };
    if let Some(robust) = &plan.robust {
        return robust_subgroups(data, options, robust);
    }
    let mut result = crate::subgroup::subgroup(data, &options)?;
    if let Some(iterations) = spec.permutations {
        let permutations = PermutationSpec {
            iterations,
            seed: spec.seed.unwrap_or(0),
            by: None,
        };
        result.permutation = Some(permutation_test(data, &options, &result, &permutations)?);
    }
    Ok(Analysis::Subgroup(result))
}

/// Subgroups with cluster-robust inference: one model with the moderator as
/// a factor and one τ² ([`robust::subgroup`]), the means and the test of
/// their differences robust.
fn robust_subgroups(
    data: &Dataset,
    options: SubgroupOptions,
    robust: &robust::RobustSpec,
) -> Result<Analysis, AnalysisError> {
    let options = SubgroupOptions {
        tau2: Tau2Mode::Common,
        ..options
    };
    let kept = robust::uni::keep_clustered(data, &robust.cluster)?;
    let result = crate::subgroup::subgroup(&kept, &options)?;
    let factor_data = crate::multilevel::subgroup::as_factor(data, &options.by);
    let factor = |intercept| RegressionOptions {
        fit: options.fit,
        design: crate::regression::DesignSpec {
            moderators: vec![options.by.clone()],
            references: Vec::new(),
            intercept,
        },
        permutations: None,
    };
    let (_, contrasts) = robust::uni::regression(&factor_data, &factor(true), robust)?;
    let (_, cell) = robust::uni::regression(&factor_data, &factor(false), robust)?;
    let levels: Vec<String> = result.groups.iter().map(|g| g.level.clone()).collect();
    let robust = robust::subgroup::means(cell, &contrasts, &options.by, &levels);
    let shown = robust::subgroup::uni_shown(&result, &robust);
    Ok(Analysis::Robust {
        model: Box::new(Analysis::Subgroup(result)),
        shown: Some(Box::new(Analysis::Subgroup(shown))),
        robust,
        tested: "subgroup differences",
    })
}

/// A nested model with the records' user weights (metafor's `rma.mv(...,
/// W = w)`), fitted by the general fit, which takes them.
fn weighted_nested(
    spec: &Spec,
    data: &Dataset,
    options: &multilevel::MultilevelOptions,
) -> Result<MultilevelResult, AnalysisError> {
    let refuse = |why: &str| {
        Err(AnalysisError::Multilevel(MultilevelError::Weights(
            why.to_owned(),
        )))
    };
    if options.rho.is_some() {
        return refuse(
            "a constant sampling correlation (`rho`) cannot be combined with them; give the sampling covariances as `vcov`, or remove the weight field",
        );
    }
    if spec.blup {
        return refuse(
            "BLUPs (`blup`; metafor's ranef) of a weighted multilevel model are not available; leave out `blup`, or remove the weight field",
        );
    }
    let general = multilevel::general::GeneralOptions {
        terms: vec![options.random.join("/")],
        method: options.method,
        test: options.test,
        level: options.level,
        max_iter: options.max_iter,
        design: options.design.clone(),
        profile: options.profile,
        ..Default::default()
    };
    Ok(multilevel::general::fit(data, &general)?)
}

fn multilevel_analysis(
    spec: &Spec,
    plan: &Plan,
    options: multilevel::MultilevelOptions,
    data: &Dataset,
) -> Result<Analysis, AnalysisError> {
    let by = spec.by.as_deref().map(str::trim).unwrap_or_default();
    let factor = || crate::regression::DesignSpec {
        moderators: vec![by.to_owned()],
        references: Vec::new(),
        intercept: true,
    };
    let Some(robust) = &plan.robust else {
        return Ok(match spec.question {
            Question::Subgroup => Analysis::MultilevelSubgroups(multilevel::fit_subgroups(
                data,
                &options,
                by,
                spec.levels.as_deref(),
            )?),
            _ if data.first_weighted().is_some() => {
                Analysis::Multilevel(weighted_nested(spec, data, &options)?)
            }
            _ => {
                let mut result = multilevel::fit(data, &options)?;
                if spec.blup {
                    result.ranef = Some(multilevel::ranef::ranef(data, &options, &result)?);
                }
                Analysis::Multilevel(result)
            }
        });
    };
    if spec.rho.len() > 1 {
        let options = match spec.question {
            // The sensitivity table of the model with the subgroup as a factor.
            Question::Subgroup => multilevel::MultilevelOptions {
                design: Some(factor()),
                ..options
            },
            _ => options,
        };
        return Ok(Analysis::RhoSensitivity(robust::rho_sensitivity(
            data, &options, &spec.rho, robust,
        )?));
    }
    Ok(match spec.question {
        Question::Subgroup => {
            let (result, inference) =
                robust::multilevel::subgroups(data, &options, by, spec.levels.as_deref(), robust)?;
            let shown = robust::subgroup::multilevel_shown(&result, &inference);
            Analysis::Robust {
                model: Box::new(Analysis::MultilevelSubgroups(result)),
                shown: Some(Box::new(Analysis::MultilevelSubgroups(shown))),
                robust: inference,
                tested: "subgroup differences",
            }
        }
        _ => {
            let (result, inference) = robust::multilevel::fitted(data, &options, robust)?;
            let shown = robust::multilevel::robust_summary(&result, &inference);
            Analysis::Robust {
                model: Box::new(Analysis::Multilevel(result)),
                shown: Some(Box::new(Analysis::Multilevel(shown))),
                robust: inference,
                tested: "moderators",
            }
        }
    })
}

impl Analysis {
    /// The JSON view of the analysis of `data`: the same keys as the
    /// command's `--format json` (without the provenance, which the CLI adds).
    pub fn to_json(&self, data: &Dataset) -> serde_json::Value {
        use crate::report::{PoolReport, RobustReport};
        fn value<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Value {
            serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
        }
        match self {
            Analysis::Pool(result) => value(&PoolReport { result, data }),
            Analysis::Tables(r) => value(r),
            Analysis::Regression(r) => value(r),
            Analysis::Subgroup(r) => value(r),
            Analysis::Multilevel(r) => value(r),
            Analysis::MultilevelSubgroups(r) => value(r),
            Analysis::LocationScale(r) => value(r),
            Analysis::Glmm(r) => value(r),
            Analysis::GlmmRegression(r) => value(r),
            Analysis::RhoSensitivity(r) => value(r),
            Analysis::Bayes(r) => value(r),
            Analysis::Bias(r) => value(r),
            Analysis::Selection(r) => value(r),
            Analysis::Robust {
                model,
                shown,
                robust,
                tested,
            } => {
                let model = model.to_json(data);
                let mut out = value(&RobustReport {
                    model: &model,
                    robust,
                    tested,
                });
                if let Some(shown) = shown {
                    shown_from(&mut out, &shown.to_json(data));
                }
                out
            }
        }
    }
}

/// Puts the numbers of the robust-consistent result `shown` that the robust
/// JSON does not already hold (the prediction interval, the back-transformed
/// summary, `vcov`, the subgroup means) into the robust JSON `out`, keeping
/// the working model's under `model_based`.
fn shown_from(out: &mut serde_json::Value, shown: &serde_json::Value) {
    let Some(object) = out.as_object_mut() else {
        return;
    };
    for key in ["pi_lower", "pi_upper", "transformed", "vcov", "groups"] {
        let new = shown.get(key).cloned();
        let old = match new {
            Some(new) => object.insert(key.to_owned(), new),
            None => object.remove(key),
        };
        if let (Some(old), Some(serde_json::Value::Object(model_based))) =
            (old, object.get_mut("model_based"))
        {
            // A key the robust view replaced already keeps its model-based value.
            model_based.entry(key).or_insert(old);
        }
    }
}

impl Analysis {
    /// The result every view shows: under robust inference the working
    /// model's result with the robust numbers in place (`shown`), otherwise
    /// the result itself.
    pub fn shown(&self) -> &Analysis {
        match self {
            Analysis::Robust {
                shown: Some(shown), ..
            } => shown,
            Analysis::Robust { model, .. } => model,
            other => other,
        }
    }
}

/// What the forest plot of a multilevel request draws, for the CLI and the
/// page alike: the pooled model as it is reported (robust where `robust` is
/// set) and, with `by`, the same model with the subgroups as a factor; with
/// the warnings of both fits. Profile CIs and level tests are skipped.
pub fn multilevel_forest(
    spec: &Spec,
    data: &Dataset,
) -> Result<(MultilevelResult, Option<MultilevelSubgroups>, Vec<Warning>), AnalysisError> {
    if spec.validate_nested()?.is_none() {
        return Err(AnalysisError::Data(
            "the forest plot of a multilevel model needs `random`".into(),
        ));
    }
    let pool = Spec {
        question: Question::Pool,
        by: None,
        levels: None,
        fit_only: true,
        ..spec.clone()
    };
    let mut warnings: Vec<Warning> = Vec::new();
    let mut note = |analysis: &Analysis| {
        for w in analysis.warnings() {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
    };
    let overall = run(&pool, data, &|_| {})?;
    note(&overall);
    let Analysis::Multilevel(result) = overall.shown() else {
        return Err(AnalysisError::Data(
            "the forest plot of a multilevel model needs `random`".into(),
        ));
    };
    let result = result.clone();
    let groups = match &spec.by {
        None => None,
        Some(_) => {
            let split = run(
                &Spec {
                    question: Question::Subgroup,
                    fit_only: true,
                    ..spec.clone()
                },
                data,
                &|_| {},
            )?;
            note(&split);
            match split.shown() {
                Analysis::MultilevelSubgroups(groups) => Some(groups.clone()),
                _ => None,
            }
        }
    };
    Ok((result, groups, warnings))
}
