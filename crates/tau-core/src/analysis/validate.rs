//! Checking a [`Spec`] before anything is read or fitted: every cross-field
//! rule in one place, every refusal at once, each naming its [`Field`].
//!
//! Messages name the other settings by their field names in backticks
//! (`` `random` ``); each front end writes its own name for them (the CLI
//! its flags, the page its controls): see [`Refusal::render`].

use crate::glmm::{GlmmModel, GlmmOptions};
use crate::location_scale::LocationScaleOptions;
use crate::model::{Control, FitOptions, Method, Test};
use crate::multilevel::general::{self, GeneralOptions, Struct, Term};
use crate::multilevel::{self, MultilevelOptions};
use crate::pool_tables::TablesMethod;
use crate::regression::DesignSpec;
use crate::regression::permutation::PermutationSpec;
use crate::report::Format;
use crate::robust::RobustSpec;
use crate::subgroup::Tau2Mode;

use super::spec::{Field, MethodChoice, Question, Spec, Tau2Ci, TestChoice};
use crate::bayes::{BayesOptions, MuPrior, TauPrior};

/// Why a [`Spec`] cannot be run: the field at fault and the reason, in
/// words that name fields in backticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The setting at fault.
    pub field: Field,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Refusal {
    fn new(field: Field, message: impl Into<String>) -> Refusal {
        Refusal {
            field,
            message: message.into(),
        }
    }

    /// The message with each field written as `name` gives it (a flag, a
    /// control's label); a field `name` does not know keeps its field name.
    pub fn render(&self, name: impl Fn(&str) -> Option<String>) -> String {
        crate::fields::render(&self.message, name)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(|_| None))
    }
}

/// Every refusal of one [`Spec`], in the order the fields are checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct Refusals(pub Vec<Refusal>);

impl crate::Kinded for Refusals {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Input
    }
}

/// The model a valid [`Spec`] fits.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// 2×2 tables pooled by Mantel-Haenszel or Peto (`rma.mh`, `rma.peto`).
    Tables(TablesMethod),
    /// A model with one τ² (`rma`).
    Univariate(FitOptions),
    /// A multilevel model (`rma.mv`) of one nested term; with `robust`,
    /// `rhos` may list several working correlations (the options carry the
    /// first).
    Multilevel(MultilevelOptions),
    /// A Bayesian random-effects model (bayesmeta).
    Bayes(BayesOptions),
    /// A general `rma.mv` model: crossed or structured random terms.
    General(GeneralOptions),
    /// A location-scale model (`rma(scale = ~ ...)`), with `scale`.
    LocationScale(LocationScaleOptions),
    /// A GLMM (`rma.glmm`), with `glmm`.
    Glmm(GlmmOptions),
}

/// A checked [`Spec`]: the model to fit and how to infer, resolved once.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What is asked.
    pub question: Question,
    /// The model.
    pub model: Model,
    /// Cluster-robust inference, if asked for.
    pub robust: Option<RobustSpec>,
    /// The design of a meta-regression.
    pub design: Option<DesignSpec>,
}

impl Plan {
    /// Whether the records' `weight` field is used (the inverse-variance
    /// models of `pool` and `regress`, without `robust`). Other analyses
    /// refuse a file with weights.
    pub fn uses_weights(&self) -> bool {
        self.robust.is_none()
            && matches!(self.question, Question::Pool | Question::Regress)
            && matches!(
                self.model,
                Model::Univariate(_) | Model::Multilevel(_) | Model::General(_)
            )
    }
}

impl Spec {
    /// [`Spec::validate`] for the views drawn from one nested multilevel
    /// model (the multilevel forest and funnel plots, the dependent-effects
    /// bias checks): crossed or structured terms are refused. The model's
    /// options, or `None` without `random`.
    pub fn validate_nested(&self) -> Result<Option<MultilevelOptions>, Refusals> {
        match self.validate()?.model {
            Model::Multilevel(options) => Ok(Some(options)),
            Model::General(_) => Err(Refusals(vec![Refusal::new(
                Field::Random,
                "this view draws or tests a model of one nested term of `random` (such as study/es); crossed or structured terms (metafor's rma.mv with random = list(...) or struct) are fitted by the pool and regress analyses",
            )])),
            _ => Ok(None),
        }
    }

    /// Checks every rule that involves more than one setting, and resolves
    /// the model. Returns every refusal at once.
    pub fn validate(&self) -> Result<Plan, Refusals> {
        let mut refusals = Vec::new();
        let mut refuse = |field, message: String| refusals.push(Refusal::new(field, message));
        if !(self.level > 0.0 && self.level < 100.0) {
            refuse(
                Field::Level,
                format!(
                    "the level must be a percentage between 1 and 100, e.g. 95 (got {}); write 95 for a 95% CI",
                    self.level
                ),
            );
        }
        if self.max_iter == 0 {
            refuse(Field::MaxIter, "`max_iter` must be at least 1".into());
        }
        match self.question {
            Question::Regress if self.mods.is_empty() => refuse(
                Field::Mods,
                "a meta-regression needs moderators: name them in `mods`".into(),
            ),
            Question::Subgroup if self.by.as_deref().is_none_or(|b| b.trim().is_empty()) => {
                refuse(
                    Field::By,
                    "a subgroup analysis needs the moderator whose levels are the subgroups: name it in `by`".into(),
                )
            }
            _ => {}
        }
        check_options(self, &mut refuse);
        match self.question {
            Question::Bias => super::bias::rules(self, &mut refuse),
            Question::Selection => super::bias::selection_rules(self, &mut refuse),
            _ => {}
        }
        if let Some(model) = self.glmm {
            super::families::glmm(self, model, &mut refuse);
        }
        let model = match self.method {
            _ if self.question == Question::Bayes => Model::Bayes(bayes(self, &mut refuse)),
            _ if self.glmm.is_some() => Model::Glmm(GlmmOptions {
                model: self.glmm.unwrap_or(GlmmModel::UmFs),
                level: self.level,
                max_iter: self.max_iter,
                t_test: self.test == TestChoice::T,
            }),
            MethodChoice::Model(method) if !self.scale.is_empty() => {
                Model::LocationScale(super::families::location_scale(self, method, &mut refuse))
            }
            MethodChoice::Tables(_) if !self.scale.is_empty() => {
                refuse(
                    Field::Scale,
                    "`scale` fits a location-scale model by REML or ML; it cannot pool 2x2 tables by `method` MH or PETO: write `method` REML".into(),
                );
                Model::Univariate(FitOptions::default())
            }
            MethodChoice::Tables(method) => {
                check_tables(self, method, &mut refuse);
                Model::Tables(method)
            }
            MethodChoice::Model(method)
                if general::needs_general(&self.random)
                    || (!self.random.is_empty()
                        && (!self.vcov.is_empty() || !self.corr.is_empty())) =>
            {
                let options = multilevel(self, method, &mut refuse);
                Model::General(general_model(self, options, &mut refuse))
            }
            MethodChoice::Model(method) if !self.random.is_empty() => {
                Model::Multilevel(multilevel(self, method, &mut refuse))
            }
            MethodChoice::Model(method) => {
                check_univariate(self, method, &mut refuse);
                Model::Univariate(self.fit_options(method))
            }
        };
        if !refusals.is_empty() {
            return Err(Refusals(refusals));
        }
        let design = (self.question == Question::Regress).then(|| DesignSpec {
            moderators: self.mods.iter().map(|m| m.trim().to_owned()).collect(),
            references: self.references.clone(),
            intercept: self.intercept,
        });
        let model = match model {
            Model::Multilevel(options) => Model::Multilevel(MultilevelOptions {
                design: design.clone(),
                ..options
            }),
            Model::General(options) => Model::General(GeneralOptions {
                design: design.clone(),
                ..options
            }),
            other => other,
        };
        Ok(Plan {
            question: self.question,
            model,
            robust: self.robust.as_ref().map(|cluster| RobustSpec {
                cluster: cluster.trim().to_owned(),
                small_sample: self.small_sample,
            }),
            design,
        })
    }
}

impl Spec {
    /// The options of a model with one τ² fitted by `method`, from the
    /// request's test, level and iteration settings.
    pub(super) fn fit_options(&self, method: crate::model::Method) -> FitOptions {
        FitOptions {
            method,
            test: match self.test {
                TestChoice::Uni(test) => test,
                TestChoice::T => Test::Z,
            },
            level: self.level,
            control: Control {
                max_iter: self.max_iter,
                fallback: self.fallback,
                ..Control::default()
            },
        }
    }
}

/// A Bayesian analysis: its priors, and the settings of the frequentist
/// models it has no use for.
fn bayes(spec: &Spec, refuse: &mut impl FnMut(Field, String)) -> BayesOptions {
    let tau_prior = spec.tau_prior.unwrap_or_else(|| {
        refuse(
            Field::TauPrior,
            "a Bayesian analysis needs a prior on tau: give `tau_prior`, e.g. half-normal:0.5 on the scale of the effect sizes".into(),
        );
        TauPrior::Jeffreys
    });
    if spec.average {
        if spec.mu_prior == MuPrior::Flat {
            refuse(
                Field::MuPrior,
                "`average` needs a proper prior on mu (model averaging compares models with and without an effect): give `mu_prior` normal:MEAN,SD, e.g. normal:0,1 on the scale of the effect sizes".into(),
            );
        }
        if spec.tau_prior.is_some() && !tau_prior.is_proper() {
            refuse(
                Field::TauPrior,
                format!(
                    "`average` needs a proper prior on tau, not the improper {} prior: choose e.g. `tau_prior` half-normal:0.5",
                    tau_prior.label()
                ),
            );
        }
    }
    for (given, field) in [
        (!spec.mods.is_empty(), Field::Mods),
        (spec.by.is_some(), Field::By),
        (!spec.random.is_empty(), Field::Random),
        (spec.robust.is_some(), Field::Robust),
        (spec.blup, Field::Blup),
        (!spec.predict.is_empty(), Field::Predict),
        (spec.permutations.is_some(), Field::Permutations),
        (spec.tau2_ci != Tau2Ci::Qp, Field::Tau2Ci),
    ] {
        if given {
            refuse(
                field,
                format!(
                    "`{}` is not available in a Bayesian analysis (bayesmeta's model of one mu and one tau); Bayesian meta-regression (bayesmeta's bmr) is not built yet: leave it out, or use the frequentist command",
                    field.name()
                ),
            );
        }
    }
    BayesOptions {
        tau_prior,
        mu_prior: spec.mu_prior,
        level: spec.level,
        average: spec.average,
    }
}

/// The rules of the extras: which go with `robust`, which with which view.
fn check_options(spec: &Spec, refuse: &mut impl FnMut(Field, String)) {
    if let Some(iterations) = spec.permutations {
        let permutations = PermutationSpec {
            iterations,
            seed: 0,
            by: None,
        };
        if let Err(e) = permutations.validate() {
            refuse(Field::Permutations, e.to_string());
        }
    }
    if spec.permute_by.is_some() {
        if spec.permutations.is_none() {
            refuse(
                Field::PermuteBy,
                "`permute_by` chooses what the permutation test permutes: give the number of permutations in `permutations`, or leave out `permute_by`".into(),
            );
        } else if spec.question != Question::Regress {
            refuse(
                Field::PermuteBy,
                "`permute_by` permutes whole clusters in the permutation test of a meta-regression (tau regress); leave it out here".into(),
            );
        }
    }
    if spec.robust.is_some() {
        for (given, field) in [
            (spec.permutations.is_some(), Field::Permutations),
            (spec.blup, Field::Blup),
            (spec.tau2_ci != Tau2Ci::Qp, Field::Tau2Ci),
            (!spec.predict.is_empty(), Field::Predict),
            (spec.btt.is_some(), Field::Btt),
        ] {
            if given {
                refuse(
                    field,
                    format!(
                        "`{}` cannot be used with `robust`: it belongs to the model-based fit; leave out one of them",
                        field.name()
                    ),
                );
            }
        }
        if spec.question == Question::Subgroup && spec.tau2 == Some(Tau2Mode::Separate) {
            refuse(
                Field::Tau2,
                "`tau2` separate cannot be combined with `robust`: robust subgroup means come from one model with `by` as a factor and one tau^2 (metafor's robust(rma(yi, vi, mods = ~ factor(by) - 1), cluster)); leave out `tau2`".into(),
            );
        }
        if !spec.weighted {
            refuse(
                Field::Weighted,
                "`weighted` cannot be combined with `robust`: the robust variance is that of the inverse-variance fit; leave out one of them".into(),
            );
        }
    }
    let predict = !spec.predict.is_empty();
    let field = match (predict, spec.blup) {
        (false, false) => return,
        (true, true) if spec.format == Format::Csv => {
            refuse(
                Field::Format,
                "`format` csv writes one table, so it cannot hold both `predict` and `blup`: ask for one of them, or use `format` json for both".into(),
            );
            return;
        }
        (true, _) => Field::Predict,
        (false, true) => Field::Blup,
    };
    if matches!(spec.format, Format::Markdown { .. } | Format::Latex { .. }) {
        refuse(
            Field::Format,
            format!(
                "`{}` is not shown in `format` {}, which gives the model's table for a paper only; use `format` text, json or csv",
                field.name(),
                spec.format.name()
            ),
        );
    }
}

/// `method` MH or PETO: the tables are pooled in a common-effect model.
fn check_tables(spec: &Spec, method: TablesMethod, refuse: &mut impl FnMut(Field, String)) {
    let name = method.name();
    if spec.question != Question::Pool {
        refuse(
            Field::Method,
            format!(
                "`method` {name} pools 2x2 tables and is accepted by tau pool, tau leave-one-out, tau cumulative and tau influence only; here give a tau^2 estimator such as EE or REML"
            ),
        );
        return;
    }
    if !spec.random.is_empty() {
        refuse(
            Field::Method,
            format!(
                "`method` {name} cannot be used with `random`: it pools the 2x2 tables in a common-effect model; a multilevel model is fitted by REML or ML (`method` REML or ML)"
            ),
        );
        return;
    }
    if spec.blup {
        refuse(
            Field::Blup,
            format!(
                "`method` {name} pools the 2x2 tables directly and has no BLUPs (metafor's blup is for rma.uni); leave out `blup`, or use an inverse-variance `method` such as EE or REML with it"
            ),
        );
    }
    if spec.robust.is_some() {
        refuse(
            Field::Robust,
            format!(
                "`method` {name} pools the 2x2 tables directly and has no robust variance; leave out `robust`, or use an inverse-variance `method` such as EE or REML with it"
            ),
        );
    }
    match spec.test {
        TestChoice::Uni(Test::Z) => {}
        TestChoice::Uni(test @ (Test::Knha | Test::Adhoc)) => refuse(
            Field::Test,
            format!(
                "`method` {name} uses z tests; leave out `test` {}",
                test.name()
            ),
        ),
        TestChoice::T => refuse(
            Field::Test,
            format!("`method` {name} uses z tests; leave out `test` t"),
        ),
    }
    if !spec.weighted {
        refuse(
            Field::Weighted,
            format!(
                "`weighted` cannot be combined with `method` {name}: it weights the 2x2 tables its own way; leave out one of them"
            ),
        );
    }
}

/// A model with one τ².
fn check_univariate(spec: &Spec, method: Method, refuse: &mut impl FnMut(Field, String)) {
    if spec.test == TestChoice::T {
        refuse(
            Field::Test,
            "`test` t is the t test of a multilevel model (with `random`); a random-effects model uses z tests or Knapp-Hartung t tests: write `test` knha".into(),
        );
    }
    for (given, field) in [
        (spec.fit_only, Field::Random),
        (!spec.rho.is_empty(), Field::Rho),
        (!spec.structs.is_empty(), Field::Struct),
        (!spec.vcov.is_empty(), Field::Vcov),
        (!spec.corr.is_empty(), Field::Corr),
    ] {
        if given {
            refuse(
                field,
                format!("`{}` needs a multilevel model (`random`)", field.name()),
            );
        }
    }
    match spec.tau2_ci {
        Tau2Ci::Wald if method == Method::EE => refuse(
            Field::Tau2Ci,
            "`tau2_ci` wald needs a random-effects model: the common-effect model (`method` EE) has no tau^2; choose a tau^2 estimator such as REML".into(),
        ),
        Tau2Ci::Profile if method == Method::EE => refuse(
            Field::Tau2Ci,
            "`tau2_ci` profile needs a random-effects model: the common-effect model (`method` EE) has no tau^2; choose a tau^2 estimator such as REML".into(),
        ),
        _ => {}
    }
    if spec.blup && !spec.weighted {
        refuse(
            Field::Weighted,
            "`weighted` cannot be combined with `blup`: BLUPs shrink each study by its inverse-variance weight (metafor's blup() stops for other weights); leave out one of them".into(),
        );
    }
}

/// The error of a setting that a multilevel model cannot use.
fn not_multilevel(subject: &str, why: &str) -> String {
    format!("{subject} cannot be used with `random`: {why}")
}

/// `random`: the multilevel model, and the settings it cannot use.
fn multilevel(
    spec: &Spec,
    method: Method,
    refuse: &mut impl FnMut(Field, String),
) -> MultilevelOptions {
    let test = match spec.test {
        TestChoice::Uni(Test::Z) => multilevel::Test::Z,
        TestChoice::T => multilevel::Test::T,
        TestChoice::Uni(test @ (Test::Knha | Test::Adhoc)) => {
            refuse(
                Field::Test,
                not_multilevel(
                    &format!("`test` {}", test.name()),
                    "Knapp-Hartung rescales the standard errors by the residual heterogeneity of a model with a single tau^2, which a multilevel model does not have. Use `test` t (t tests on k - p df, metafor's test = \"t\")",
                ),
            );
            multilevel::Test::Z
        }
    };
    if spec.fallback.is_some() {
        refuse(
            Field::Fallback,
            not_multilevel(
                "`fallback`",
                "a multilevel model is estimated by REML or ML only, with no other estimator to fall back to; raise `max_iter` if it does not converge",
            ),
        );
    }
    if spec.rho.len() > 1 && spec.robust.is_none() {
        // At most 8 values, then a count: a message stays one short line.
        let mut list: Vec<String> = spec.rho.iter().take(8).map(f64::to_string).collect();
        if spec.rho.len() > 8 {
            list.push(format!("... ({} more)", spec.rho.len() - 8));
        }
        refuse(
            Field::Rho,
            format!(
                "`rho` {}: a list of rho values needs `robust` (a sensitivity analysis over working models); give one value, e.g. `rho` 0.6",
                list.join(",")
            ),
        );
    }
    if !spec.weighted {
        refuse(
            Field::Weighted,
            "`weighted` cannot be combined with `random`: a multilevel model is weighted by its marginal variance matrix, or by the records' weight field (rma.mv's W); leave out `weighted`".into(),
        );
    }
    for (given, field, why) in [
        (
            spec.tau2_ci != Tau2Ci::Qp,
            Field::Tau2Ci,
            "a multilevel model reports the profile-likelihood CI of each sigma^2 (as metafor's confint()); leave out `tau2_ci`",
        ),
        (
            !spec.predict.is_empty(),
            Field::Predict,
            "predictions at new moderator values are made from a model with one tau^2 (metafor's predict of rma.uni); fit the model without `random` to use it",
        ),
        (
            spec.blup && spec.question == Question::Subgroup,
            Field::Blup,
            "the BLUPs of a multilevel model (metafor's ranef) are given by tau pool and tau regress; leave out `blup` here",
        ),
        (
            spec.btt.is_some(),
            Field::Btt,
            "the multilevel report tests all moderators together (QM); fit the model with the moderators to test, or without `random`",
        ),
        (
            spec.tau2 == Some(Tau2Mode::Separate),
            Field::Tau2,
            "the subgroups share the variance components of one multilevel model (mods = ~ factor(g) - 1); leave out `tau2`, or fit each subgroup with tau pool `random` ... `filter`",
        ),
    ] {
        if given {
            let subject = match field {
                Field::Tau2 => "`tau2` separate".to_owned(),
                other => format!("`{}`", other.name()),
            };
            refuse(field, not_multilevel(&subject, why));
        }
    }
    if spec.permutations.is_some() {
        let why = match spec.question {
            Question::Subgroup => {
                "the permutation test refits a model with one tau^2 per arrangement; it is not defined for a multilevel model here"
            }
            _ => {
                "the permutation test refits a model with one tau^2 (metafor's permutest of rma.uni); it is not defined for a multilevel model here"
            }
        };
        refuse(Field::Permutations, not_multilevel("`permutations`", why));
    }
    if !spec.structs.is_empty()
        && !general::needs_general(&spec.random)
        && spec.vcov.is_empty()
        && spec.corr.is_empty()
    {
        refuse(
            Field::Struct,
            "`struct` gives the structure of a structured random term (inner | outer), and `random` has none: write the term, e.g. `random` 'outcome | study' `struct` UN".into(),
        );
    }
    MultilevelOptions {
        random: spec
            .random
            .first()
            .map(|term| term.split('/').map(|r| r.trim().to_owned()).collect())
            .unwrap_or_default(),
        rho: spec.rho.first().copied(),
        method,
        test,
        level: spec.level,
        max_iter: spec.max_iter,
        design: None,
        profile: !spec.fit_only,
        level_tests: !spec.fit_only,
    }
}

/// Crossed or structured random terms (`random` with several terms or an
/// `inner | outer` term): the general `rma.mv` fit, and what it does not
/// have yet.
fn general_model(
    spec: &Spec,
    nested: MultilevelOptions,
    refuse: &mut impl FnMut(Field, String),
) -> GeneralOptions {
    if spec.blup && !spec.corr.is_empty() {
        refuse(
            Field::Blup,
            "the BLUPs of a term with a known `corr` matrix (metafor's ranef of an rma.mv fit with R) are not built yet; leave out `blup`".into(),
        );
    }
    let mut structured = 0;
    for term in &spec.random {
        match Term::parse(term) {
            Ok(Term::Structured { .. }) => structured += 1,
            Ok(Term::Nested(_)) => {}
            Err(e) => refuse(Field::Random, e.to_string()),
        }
    }
    let structs: Vec<Struct> = spec
        .structs
        .iter()
        .filter_map(|name| {
            let parsed = Struct::parse(name);
            if parsed.is_none() {
                refuse(
                    Field::Struct,
                    format!(
                        "unknown structure {name:?}: use CS, HCS, UN, DIAG, ID, AR, HAR, CAR or GEN (metafor's GDIAG and spatial structures are not available; UNR and PHYBM are not structures metafor's rma.mv accepts)"
                    ),
                );
            }
            parsed
        })
        .collect();
    if structured > 2 {
        refuse(
            Field::Random,
            format!(
                "{structured} structured terms (inner | outer): a model has at most two (metafor's G and H)"
            ),
        );
    } else if structured != spec.structs.len() {
        refuse(
            Field::Struct,
            format!(
                "`random` has {structured} structured term{} (inner | outer) and `struct` {} structure{}: give one structure per structured term, in order",
                if structured == 1 { "" } else { "s" },
                spec.structs.len(),
                if spec.structs.len() == 1 { "" } else { "s" }
            ),
        );
    }
    if !spec.rho.is_empty() {
        refuse(
            Field::Rho,
            not_multilevel(
                "`rho`",
                "a constant sampling correlation (metafor's vcalc) is built for a single nested term only; with crossed or structured terms V is diagonal here",
            ),
        );
    }
    if spec.robust.is_some() {
        refuse(
            Field::Robust,
            "cluster-robust inference (metafor's robust() of rma.mv) is available for a single nested term only; leave out `robust` or write the model as one nested term".into(),
        );
    }
    if spec.question == Question::Subgroup {
        refuse(
            Field::By,
            "subgroups of a model with crossed or structured random terms are not available; fit `mods` with the subgroup moderator (metafor's mods = ~ factor(g)) instead".into(),
        );
    }
    GeneralOptions {
        terms: spec.random.iter().map(|t| t.trim().to_owned()).collect(),
        structs,
        method: nested.method,
        test: nested.test,
        level: nested.level,
        max_iter: nested.max_iter,
        design: None,
        vcov: spec.vcov.clone(),
        corr: spec.corr.clone(),
        profile: nested.profile,
    }
}
