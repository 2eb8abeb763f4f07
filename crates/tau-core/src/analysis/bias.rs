//! The rules of the publication-bias questions and how they are run:
//! `question` bias, the checks of one model with one τ² (metafor's
//! `regtest`, `ranktest`, `trimfill`, `fsn`, PET-PEESE), and with `robust`
//! those that allow for dependent effects within its clusters
//! ([`crate::bias::bias_dependent`]); `question` selection, a selection
//! model (metafor's `selmodel`), with cluster-robust SEs under `robust`.

use crate::bias::selection::{SelectionOptions, selection as fit_selection, selection_clustered};
use crate::bias::{DependentSpec, bias, bias_dependent};
use crate::data::dataset::Dataset;
use crate::model::{Method, Test};
use crate::multilevel::general;
use crate::regression::DesignSpec;
use crate::report::Format;
use crate::warning::Warning;

use super::run::{Analysis, AnalysisError};
use super::spec::{Field, MethodChoice, Spec, TestChoice};
use super::validate::{Model, Plan};

/// The settings the bias checks cannot use, refused by field.
pub(super) fn rules(spec: &Spec, refuse: &mut impl FnMut(Field, String)) {
    if spec.format == Format::Csv {
        refuse(
            Field::Format,
            "the bias checks have no per-study table: use `format` text or `format` json (or markdown or latex for a paper table)".into(),
        );
    }
    if let MethodChoice::Tables(method) = spec.method {
        refuse(
            Field::Method,
            format!(
                "the bias checks fit inverse-variance models, not `method` {}: give a tau^2 estimator such as REML or EE",
                method.name()
            ),
        );
    }
    if spec.rho.len() > 1 {
        refuse(
            Field::Rho,
            "the bias checks take one `rho` (the working model of their multilevel regressions); run them once per value to compare them".into(),
        );
    }
    if !spec.random.is_empty() && spec.robust.is_none() {
        refuse(
            Field::Random,
            "with `random`, Egger's test and PET-PEESE are multilevel meta-regressions with cluster-robust tests, which need the cluster: add `robust` CLUSTER (usually the outermost level of `random`, e.g. `random` study/es_id with `robust` study)".into(),
        );
    }
    if general::needs_general(&spec.random) || !spec.vcov.is_empty() || !spec.corr.is_empty() {
        refuse(
            Field::Random,
            "the bias checks use a model of one nested term of `random` (such as study/es); crossed or structured terms and known matrices (metafor's rma.mv with random = list(...), struct, V or R) are fitted by the pool and regress analyses".into(),
        );
    }
    for (given, field) in [
        (!spec.mods.is_empty(), Field::Mods),
        (spec.by.is_some(), Field::By),
        (spec.blup, Field::Blup),
        (!spec.predict.is_empty(), Field::Predict),
        (spec.permutations.is_some(), Field::Permutations),
    ] {
        if given {
            refuse(
                field,
                format!(
                    "`{}` is not used by the bias checks (they test the model without moderators); leave it out",
                    field.name()
                ),
            );
        }
    }
}

/// Runs the bias checks of a valid request.
pub(super) fn run(spec: &Spec, plan: &Plan, data: &Dataset) -> Result<Analysis, AnalysisError> {
    let MethodChoice::Model(method) = spec.method else {
        return Err(AnalysisError::Data(
            "the bias checks fit inverse-variance models".into(),
        ));
    };
    let options = spec.fit_options(method);
    let multilevel = match &plan.model {
        Model::Multilevel(options) => Some(options.clone()),
        _ => None,
    };
    let result = match &plan.robust {
        None => bias(data, &options)?,
        Some(robust) => bias_dependent(
            data,
            &options,
            &DependentSpec {
                cluster: robust.cluster.clone(),
                multilevel,
            },
        )?,
    };
    Ok(Analysis::Bias(Box::new(result)))
}

/// The settings a selection model cannot use, refused by field.
pub(super) fn selection_rules(spec: &Spec, refuse: &mut impl FnMut(Field, String)) {
    if spec.format == Format::Csv {
        refuse(
            Field::Format,
            "a selection model has no per-study table: use `format` text or `format` json (or markdown or latex for a paper table)".into(),
        );
    }
    if let MethodChoice::Tables(method) = spec.method {
        refuse(
            Field::Method,
            format!(
                "a selection model is fitted by ML to the effect sizes, not by `method` {}: leave `method` out (ML), or write EE for a common-effect model",
                method.name()
            ),
        );
    }
    for (given, field) in [
        (!spec.random.is_empty(), Field::Random),
        (spec.by.is_some(), Field::By),
        (spec.blup, Field::Blup),
        (!spec.predict.is_empty(), Field::Predict),
        (spec.permutations.is_some(), Field::Permutations),
        (!spec.scale.is_empty(), Field::Scale),
    ] {
        if given {
            refuse(
                field,
                format!(
                    "`{}` is not used by a selection model (metafor's selmodel takes a model with one tau^2 and its moderators); leave it out",
                    field.name()
                ),
            );
        }
    }
}

/// Fits the selection model of a valid request.
pub(super) fn selection(
    spec: &Spec,
    plan: &Plan,
    data: &Dataset,
) -> Result<Analysis, AnalysisError> {
    let MethodChoice::Model(method) = spec.method else {
        return Err(AnalysisError::Data(
            "a selection model is fitted to the effect sizes".into(),
        ));
    };
    let fit = spec.fit_options(method);
    let options = SelectionOptions {
        kind: spec.selection_type,
        steps: spec.steps.clone(),
        alternative: spec.alternative,
        common_effect: method == Method::EE,
        level: fit.level,
        control: fit.control,
    };
    let design = (!spec.mods.is_empty()).then(|| DesignSpec {
        moderators: spec.mods.iter().map(|m| m.trim().to_owned()).collect(),
        references: Vec::new(),
        intercept: true,
    });
    let mut result = match &plan.robust {
        None => fit_selection(data, design.as_ref(), &options)?,
        Some(robust) => selection_clustered(data, design.as_ref(), &options, &robust.cluster)?,
    };
    if matches!(
        spec.test,
        TestChoice::Uni(Test::Knha | Test::Adhoc) | TestChoice::T
    ) {
        result.warnings.push(Warning::NotApplied(
            "selection models use z tests (as metafor's selmodel); `test` is ignored".into(),
        ));
    }
    Ok(Analysis::Selection(Box::new(result)))
}
