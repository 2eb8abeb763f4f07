//! The analysis request: every setting of one analysis, as the command line
//! and the browser page give it, before anything is checked.
//!
//! A [`Spec`] is deliberately close to what a user chooses (ripgrep's "low
//! arguments"): plain values with metafor's defaults, no cross-field rules.
//! [`Spec::validate`](super::validate) turns it into a [`Plan`](super::Plan)
//! or returns every refusal at once, each naming its [`Field`].
//!
//! The page sends a `Spec` as JSON: the field names below are its keys, and
//! the values are written as on the command line (`"method": "REML"`,
//! `"test": "knha"`, `"random": ["study", "es_id"]`).

use serde::Deserialize;
use serde::de::{Deserializer, Error as _};

use crate::bayes::{MuPrior, TauPrior};
use crate::bias::selection::{Alternative, SelectionType};
use crate::glmm::GlmmModel;
use crate::model::{Method, Test};
use crate::multilevel::general::KnownCorrelation;
use crate::pool_tables::TablesMethod;
use crate::regression::predict::PredictSpec;
use crate::report::Format;
use crate::robust::SmallSample;
use crate::subgroup::Tau2Mode;

/// The question an analysis answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Question {
    /// The pooled effect (`tau pool`, metafor's intercept-only `rma`).
    #[default]
    Pool,
    /// A meta-regression on `mods` (`tau regress`, `rma(mods = ...)`).
    Regress,
    /// The pooled effect per level of `by` and the test of their
    /// differences (`tau subgroup`).
    Subgroup,
    /// A Bayesian random-effects meta-analysis (`tau bayes`, bayesmeta) with
    /// the priors `tau_prior` and `mu_prior`.
    Bayes,
    /// A selection model for publication bias (`tau selection`, metafor's
    /// `selmodel`) with the weight function `type`, its cut-points `steps`
    /// and the favoured direction `alternative`.
    Selection,
    /// Small-study effects and publication bias (`tau bias`): Egger, Begg,
    /// trim-and-fill, fail-safe N, PET-PEESE; with `robust` the checks for
    /// dependent effects (the robust 3PSM, and with `random` multilevel
    /// Egger and PET-PEESE regressions).
    Bias,
}

/// What `method` names: a τ² estimator, or a method that pools 2×2 tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodChoice {
    /// An inverse-variance model with this τ² estimator (metafor's `rma`,
    /// or `rma.mv` with `random`).
    Model(Method),
    /// Mantel-Haenszel or Peto (metafor's `rma.mh`, `rma.peto`).
    Tables(TablesMethod),
}

impl MethodChoice {
    /// Parses metafor's name of an estimator, `MH` or `PETO`.
    pub fn parse(name: &str) -> Option<MethodChoice> {
        Method::parse(name)
            .map(MethodChoice::Model)
            .or_else(|| TablesMethod::parse(name).map(MethodChoice::Tables))
    }

    /// The name as written in `method`.
    pub fn name(self) -> &'static str {
        match self {
            MethodChoice::Model(m) => m.name(),
            MethodChoice::Tables(t) => t.name(),
        }
    }
}

/// What `test` names: z or Knapp-Hartung tests of a model with one τ², or
/// the t tests of a multilevel model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestChoice {
    /// z or Knapp-Hartung (`z`, `knha`).
    Uni(Test),
    /// t tests on k − p df (metafor's `test = "t"` of `rma.mv`).
    T,
}

impl TestChoice {
    /// Parses `z`, `knha` or `t` (case-insensitive).
    pub fn parse(name: &str) -> Option<TestChoice> {
        match Test::parse(name) {
            Some(test) => Some(TestChoice::Uni(test)),
            None if name.eq_ignore_ascii_case("t") => Some(TestChoice::T),
            None => None,
        }
    }
}

/// The CI of τ² (with I² and H²) of a model with one τ².
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tau2Ci {
    /// Q-profile (metafor's `confint` default).
    #[default]
    Qp,
    /// Wald-type: τ² ± z·SE, floored at 0 (ML, REML, EB, PM).
    Wald,
    /// Profile likelihood (`confint(type = "PL")`).
    Profile,
}

/// Every setting of one analysis. `Spec::default()` is metafor's `rma(yi,
/// vi)`: REML, z tests, 95% intervals.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spec {
    /// What is asked.
    pub question: Question,
    /// The τ² estimator, or MH/PETO for 2×2 tables (metafor's `method`).
    #[serde(deserialize_with = "method_choice")]
    pub method: MethodChoice,
    /// z, Knapp-Hartung (`knha`) or, for a multilevel model, t tests.
    #[serde(deserialize_with = "test_choice")]
    pub test: TestChoice,
    /// Confidence level in percent (95).
    pub level: f64,
    /// The estimator used when `method` does not converge (metafor's
    /// `method = c("REML", "DL")`).
    #[serde(deserialize_with = "fallback")]
    pub fallback: Option<Method>,
    /// Iteration limit (metafor's `maxiter`).
    pub max_iter: usize,
    /// Whether the fixed effects are weighted (metafor's `weighted`); with
    /// `false`, ordinary least squares with sandwich SEs.
    pub weighted: bool,
    /// Moderators of a meta-regression, in model order.
    pub mods: Vec<String>,
    /// Reference levels of categorical moderators: (moderator, level).
    pub references: Vec<(String, String)>,
    /// Whether the meta-regression has an intercept.
    pub intercept: bool,
    /// The moderator whose levels are the subgroups.
    pub by: Option<String>,
    /// The order of the subgroups (every level once); `None` sorts them.
    pub levels: Option<Vec<String>>,
    /// A τ² per subgroup or one shared by all; `None`: separate, or common
    /// for a multilevel model.
    #[serde(deserialize_with = "tau2_mode")]
    pub tau2: Option<Tau2Mode>,
    /// The random terms, one per element as written (metafor's `random =
    /// list(...)`): `study` (`~ 1 | study`), `study/es_id` (nested, `~ 1 |
    /// study/es_id`), `outcome | study` (structured, with `struct`); empty
    /// for a model with one τ².
    pub random: Vec<String>,
    /// The structure of each structured term, in order (metafor's `struct`:
    /// CS, HCS, UN, DIAG, ID, AR, HAR, CAR).
    #[serde(rename = "struct")]
    pub structs: Vec<String>,
    /// Known sampling covariances (metafor's `V` as a matrix): [record,
    /// record, covariance] by study label; a record twice is its variance.
    pub vcov: Vec<(String, String, f64)>,
    /// Known correlation matrices of `~ 1 | g` terms (metafor's `R`).
    pub corr: Vec<KnownCorrelation>,
    /// Correlation of the sampling errors within an outermost cluster; a
    /// list (with `robust`) is a sensitivity analysis over working models.
    pub rho: Vec<f64>,
    /// Fit a multilevel model only, without the profile CIs and the
    /// likelihood-ratio test of each level.
    pub fit_only: bool,
    /// Cluster-robust inference, clustered by this moderator.
    pub robust: Option<String>,
    /// The small-sample correction of `robust`.
    #[serde(deserialize_with = "small_sample")]
    pub small_sample: SmallSample,
    /// The CI of τ².
    pub tau2_ci: Tau2Ci,
    /// Each study's BLUP (metafor's `blup`).
    pub blup: bool,
    /// Predictions at moderator values (metafor's `predict(newmods = )`).
    #[serde(deserialize_with = "predictions")]
    pub predict: Vec<PredictSpec>,
    /// Moderators or coefficients tested together (metafor's `anova(btt = )`).
    pub btt: Option<Vec<String>>,
    /// Iterations of a permutation test (metafor's `permutest`).
    pub permutations: Option<usize>,
    /// Seed of the permutation test; `None` draws one (by the caller).
    pub seed: Option<u64>,
    /// The prior of τ of a Bayesian analysis, as bayesmeta names it
    /// (`half-normal:0.5`, `jeffreys`, ...).
    #[serde(deserialize_with = "tau_prior")]
    pub tau_prior: Option<TauPrior>,
    /// The prior of μ of a Bayesian analysis (`flat` or `normal:M,S`).
    #[serde(deserialize_with = "mu_prior")]
    pub mu_prior: MuPrior,
    /// Average a Bayesian analysis over the four models {μ = 0, μ free} ×
    /// {τ = 0, τ > 0} (metaBMA).
    pub average: bool,
    /// Permute whole clusters of this moderator in the permutation test of a
    /// meta-regression (a cluster-level moderator); `None` permutes records.
    pub permute_by: Option<String>,
    /// Moderators of τ² (a location-scale model, metafor's `rma(scale = ~
    /// b + c)` with the log link); empty for one τ².
    pub scale: Vec<String>,
    /// A generalized linear mixed model of the 2×2 tables or counts
    /// (metafor's `rma.glmm(model = ...)`); `None` for the models of yi, vi.
    #[serde(deserialize_with = "glmm_model")]
    pub glmm: Option<GlmmModel>,
    /// The weight function of a selection model (metafor's `type`).
    #[serde(rename = "type")]
    pub selection_type: SelectionType,
    /// The cut-points of a selection model's weight function on the
    /// one-sided p-values (metafor's `steps`).
    pub steps: Vec<f64>,
    /// The direction of effect a selection model favours (metafor's
    /// `alternative`).
    pub alternative: Alternative,
    /// The view the result is shown in (`text`, `json`, `csv`,
    /// `markdown`, `latex`), with `digits` for the paper tables.
    #[serde(deserialize_with = "format")]
    pub format: Format,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            question: Question::Pool,
            method: MethodChoice::Model(Method::REML),
            test: TestChoice::Uni(Test::Z),
            level: 95.0,
            fallback: None,
            max_iter: 100,
            weighted: true,
            mods: Vec::new(),
            references: Vec::new(),
            intercept: true,
            by: None,
            levels: None,
            tau2: None,
            random: Vec::new(),
            structs: Vec::new(),
            vcov: Vec::new(),
            corr: Vec::new(),
            rho: Vec::new(),
            fit_only: false,
            robust: None,
            small_sample: SmallSample::default(),
            tau2_ci: Tau2Ci::default(),
            blup: false,
            predict: Vec::new(),
            btt: None,
            permutations: None,
            seed: None,
            tau_prior: None,
            mu_prior: MuPrior::Flat,
            average: false,
            permute_by: None,
            scale: Vec::new(),
            glmm: None,
            selection_type: SelectionType::Step,
            steps: Vec::new(),
            alternative: Alternative::Greater,
            format: Format::Json,
        }
    }
}

/// A setting of the [`Spec`], named in refusals so that each front end can
/// point at its own control (the CLI at a flag, the page at a menu).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// [`Spec::question`].
    Question,
    /// [`Spec::method`].
    Method,
    /// [`Spec::test`].
    Test,
    /// [`Spec::level`].
    Level,
    /// [`Spec::fallback`].
    Fallback,
    /// [`Spec::max_iter`].
    MaxIter,
    /// [`Spec::weighted`].
    Weighted,
    /// [`Spec::mods`].
    Mods,
    /// [`Spec::by`].
    By,
    /// [`Spec::levels`].
    Levels,
    /// [`Spec::tau2`].
    Tau2,
    /// [`Spec::random`].
    Random,
    /// [`Spec::rho`].
    Rho,
    /// [`Spec::structs`].
    Struct,
    /// [`Spec::vcov`].
    Vcov,
    /// [`Spec::corr`].
    Corr,
    /// [`Spec::robust`].
    Robust,
    /// [`Spec::tau2_ci`].
    Tau2Ci,
    /// [`Spec::blup`].
    Blup,
    /// [`Spec::predict`].
    Predict,
    /// [`Spec::btt`].
    Btt,
    /// [`Spec::permutations`].
    Permutations,
    /// [`Spec::tau_prior`].
    TauPrior,
    /// [`Spec::mu_prior`].
    MuPrior,
    /// [`Spec::average`].
    Average,
    /// [`Spec::permute_by`].
    PermuteBy,
    /// [`Spec::format`].
    Format,
    /// [`Spec::scale`].
    Scale,
    /// [`Spec::glmm`].
    Glmm,
    /// [`Spec::selection_type`].
    Type,
    /// [`Spec::steps`].
    Steps,
    /// [`Spec::alternative`].
    Alternative,
}

impl Field {
    /// The field's name in a [`Spec`] (its JSON key).
    pub fn name(self) -> &'static str {
        match self {
            Field::Question => "question",
            Field::Method => "method",
            Field::Test => "test",
            Field::Level => "level",
            Field::Fallback => "fallback",
            Field::MaxIter => "max_iter",
            Field::Weighted => "weighted",
            Field::Mods => "mods",
            Field::By => "by",
            Field::Levels => "levels",
            Field::Tau2 => "tau2",
            Field::Random => "random",
            Field::Rho => "rho",
            Field::Struct => "struct",
            Field::Vcov => "vcov",
            Field::Corr => "corr",
            Field::Robust => "robust",
            Field::Tau2Ci => "tau2_ci",
            Field::Blup => "blup",
            Field::Predict => "predict",
            Field::Btt => "btt",
            Field::Permutations => "permutations",
            Field::TauPrior => "tau_prior",
            Field::MuPrior => "mu_prior",
            Field::Average => "average",
            Field::PermuteBy => "permute_by",
            Field::Format => "format",
            Field::Scale => "scale",
            Field::Glmm => "glmm",
            Field::Type => "type",
            Field::Steps => "steps",
            Field::Alternative => "alternative",
        }
    }
}

fn named<'de, D, T>(
    d: D,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
    names: &str,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let name = String::deserialize(d)?;
    parse(name.trim())
        .ok_or_else(|| D::Error::custom(format!("unknown {what} {name:?}; use {names}")))
}

fn method_choice<'de, D: Deserializer<'de>>(d: D) -> Result<MethodChoice, D::Error> {
    named(
        d,
        "method",
        MethodChoice::parse,
        "a tau^2 estimator (e.g. REML), MH or PETO",
    )
}

fn fallback<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Method>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|name| {
            Method::parse(name.trim())
                .ok_or_else(|| D::Error::custom(format!("unknown estimator {name:?}")))
        })
        .transpose()
}

fn test_choice<'de, D: Deserializer<'de>>(d: D) -> Result<TestChoice, D::Error> {
    named(d, "test", TestChoice::parse, "z, knha or t")
}

fn tau2_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tau2Mode>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|name| match name.trim() {
            "separate" => Ok(Tau2Mode::Separate),
            "common" => Ok(Tau2Mode::Common),
            _ => Err(D::Error::custom(format!(
                "unknown tau2 mode {name:?}; use separate or common"
            ))),
        })
        .transpose()
}

fn glmm_model<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GlmmModel>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|name| {
            GlmmModel::parse(&name).ok_or_else(|| {
                D::Error::custom(format!(
                    "unknown GLMM {name:?}; use UM.FS, UM.RS, CM.EL or CM.AL"
                ))
            })
        })
        .transpose()
}

fn small_sample<'de, D: Deserializer<'de>>(d: D) -> Result<SmallSample, D::Error> {
    named(
        d,
        "small-sample correction",
        SmallSample::parse,
        "satterthwaite or none",
    )
}

fn format<'de, D: Deserializer<'de>>(d: D) -> Result<Format, D::Error> {
    named(
        d,
        "format",
        Format::parse,
        "text, json, csv, markdown or latex",
    )
}

fn tau_prior<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TauPrior>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| TauPrior::parse(text.trim()).map_err(D::Error::custom))
        .transpose()
}

fn mu_prior<'de, D: Deserializer<'de>>(d: D) -> Result<MuPrior, D::Error> {
    let text = String::deserialize(d)?;
    MuPrior::parse(text.trim()).map_err(D::Error::custom)
}

fn predictions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PredictSpec>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|text| PredictSpec::parse(text).map_err(D::Error::custom))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_sends_a_spec_as_json() {
        let spec: Spec = serde_json::from_str(
            r#"{"question": "regress", "method": "PM", "test": "knha", "mods": ["ablat"],
                "random": ["study/es"], "robust": "study", "format": "markdown"}"#,
        )
        .unwrap();
        assert_eq!(spec.question, Question::Regress);
        assert_eq!(spec.method, MethodChoice::Model(Method::PM));
        assert_eq!(spec.test, TestChoice::Uni(Test::Knha));
        assert_eq!(spec.random, ["study/es"]);
        assert_eq!(spec.level, 95.0);
        assert!(matches!(spec.format, Format::Markdown { .. }));
    }

    #[test]
    fn unknown_keys_and_names_are_refused() {
        assert!(serde_json::from_str::<Spec>(r#"{"methd": "PM"}"#).is_err());
        let e = serde_json::from_str::<Spec>(r#"{"method": "XX"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown method \"XX\""), "{e}");
    }
}
