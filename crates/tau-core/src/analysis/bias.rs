//! The rules of the bias question (`question` bias) and how it is run: the
//! checks of one model with one τ² (metafor's `regtest`, `ranktest`,
//! `trimfill`, `fsn`, PET-PEESE), and with `robust` those that allow for
//! dependent effects within its clusters ([`crate::bias::bias_dependent`]).

use crate::bias::{DependentSpec, bias, bias_dependent};
use crate::data::dataset::Dataset;
use crate::multilevel::general;
use crate::report::Format;

use super::run::{Analysis, AnalysisError};
use super::spec::{Field, MethodChoice, Spec};
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
