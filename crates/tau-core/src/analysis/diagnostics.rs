//! Case diagnostics of the model an analysis request describes, where the
//! influence analysis of one τ² (`crate::sensitivity::influence`) does not
//! apply: a nested multilevel model (metafor's `rstandard`, `rstudent`,
//! `hatvalues`, `cooks.distance` and `dfbetas` of `rma.mv`).
//!
//! Each refusal names metafor's limitation, before the file is read:
//! metafor has no such diagnostics for a `robust()` fit (`notav =
//! "robust.rma"`), and tau has not built them for crossed or structured
//! terms or known matrices.

use crate::data::dataset::Dataset;
use crate::sensitivity::multilevel_influence::{MultilevelInfluence, multilevel_influence};

use super::run::AnalysisError;
use super::spec::{Field, Spec};
use super::validate::{Model, Plan, Refusal, Refusals};

/// Checks that `spec` asks for a model whose diagnostics are built: the
/// plan, or every refusal.
pub fn check_multilevel(spec: &Spec) -> Result<Plan, Refusals> {
    let plan = spec.validate()?;
    let mut refusals = Vec::new();
    if spec.robust.is_some() {
        refusals.push(Refusal {
            field: Field::Robust,
            message: "the case diagnostics are those of the model-based fit: metafor's rstandard, rstudent, cooks.distance and dfbetas are not available for a robust() fit; leave out `robust`".into(),
        });
    }
    match &plan.model {
        Model::Multilevel(_) => {}
        Model::General(_) => refusals.push(Refusal {
            field: Field::Random,
            message: "the case diagnostics of crossed or structured random terms, or with a known `vcov` or `corr` matrix (metafor's rstandard, rstudent, cooks.distance and dfbetas of such rma.mv fits), are not built yet; they are given for nested random intercepts (`random` A/B)".into(),
        }),
        _ => refusals.push(Refusal {
            field: Field::Random,
            message: "the diagnostics of a multilevel model need `random`".into(),
        }),
    }
    if refusals.is_empty() {
        Ok(plan)
    } else {
        Err(Refusals(refusals))
    }
}

/// The case diagnostics of the multilevel model of `spec` on `data`, per
/// record or (`cluster`) per cluster of that moderator.
pub fn multilevel(
    spec: &Spec,
    data: &Dataset,
    cluster: Option<&str>,
) -> Result<MultilevelInfluence, AnalysisError> {
    let plan = check_multilevel(spec)?;
    let Model::Multilevel(options) = plan.model else {
        return Err(AnalysisError::Data(
            "the diagnostics of a multilevel model need nested random intercepts".into(),
        ));
    };
    Ok(multilevel_influence(data, &options, cluster)?)
}
