//! Case diagnostics of the model an analysis request describes, where the
//! influence analysis of one τ² (`crate::sensitivity::influence`) does not
//! apply: a nested multilevel model (metafor's `rstandard`, `rstudent`,
//! `hatvalues`, `cooks.distance` and `dfbetas` of `rma.mv`), and the
//! residuals of a Mantel-Haenszel or Peto fit (metafor's `rstandard` and
//! `rstudent` of `rma.mh` and `rma.peto`, which have no `influence()`).
//!
//! Each refusal names metafor's limitation, before the file is read:
//! metafor has no such diagnostics for a `robust()` fit (`notav =
//! "robust.rma"`), and tau has not built them for crossed or structured
//! terms or known matrices.

use crate::data::dataset::Dataset;
use crate::effect_size::two_by_two::study_log_odds_ratio;
use crate::pool_tables::TablesMethod;
use crate::sensitivity::multilevel_influence::{
    MultilevelInfluence, Residual, multilevel_influence,
};
pub use crate::sensitivity::tables_residuals::{TablesResiduals, TablesStudyResiduals};

use super::run::{Analysis, AnalysisError, run};
use super::spec::{Field, MethodChoice, Question, Spec};
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

/// Checks that `spec` is a Mantel-Haenszel or Peto pool, the only model of
/// 2×2 tables metafor has residuals for.
pub fn check_tables(spec: &Spec) -> Result<(), Refusals> {
    let MethodChoice::Tables(method) = spec.method else {
        return Err(Refusals(vec![Refusal {
            field: Field::Method,
            message: "the residuals of 2x2 tables are those of `method` MH or PETO".into(),
        }]));
    };
    if spec.question != Question::Pool {
        return Err(Refusals(vec![Refusal {
            field: Field::Mods,
            message: format!(
                "`method` {} has no moderators (metafor's rma.mh and rma.peto pool the tables in one common-effect model); leave out `mods`",
                method.name()
            ),
        }]));
    }
    spec.validate().map(drop)
}

/// metafor's `rstandard` and `rstudent` of the Mantel-Haenszel or Peto fit
/// of `spec` on `data`: every study refitted out in turn (the refits of
/// `tau leave-one-out`). The outcomes are those metafor's fits keep in
/// `yi`: escalc's values of the file's measure (1/2 added to a table with a
/// zero cell) under MH, Peto's log odds ratio (escalc "PETO") under PETO;
/// a double-zero table has none and is left out (metafor's `NA`).
pub fn tables_residuals(spec: &Spec, data: &Dataset) -> Result<TablesResiduals, AnalysisError> {
    check_tables(spec)?;
    let MethodChoice::Tables(method) = spec.method else {
        return Err(AnalysisError::Data(
            "the residuals of 2x2 tables need `method` MH or PETO".into(),
        ));
    };
    let Analysis::Tables(full) = run(spec, data, &|_| {})? else {
        return Err(AnalysisError::Data(
            "no pooled estimate of the 2x2 tables".into(),
        ));
    };
    let tables = crate::pool_tables::tables(data, method.name())
        .map_err(|e| AnalysisError::Data(e.to_string()))?;
    let refits = super::refits::leave_one_out(spec, data, None)?;
    let beta = full.estimate.value;
    let studies =
        data.studies
            .iter()
            .zip(&tables)
            .zip(&refits.studies)
            .filter(|((_, table), _)| !table.is_double_zero())
            .map(|((study, table), refit)| {
                let (yi, vi) = match method {
                    TablesMethod::MH => (study.yi, study.vi),
                    TablesMethod::PETO => study_log_odds_ratio(table),
                };
                let rstudent = refit.error.is_none().then(|| {
                    Residual::new(yi - refit.estimate.value, vi + refit.estimate.se.powi(2))
                });
                TablesStudyResiduals {
                    study: study.label().to_owned(),
                    rstandard: Residual::new(yi - beta, vi),
                    rstudent,
                }
            })
            .collect();
    Ok(TablesResiduals {
        title: data.title.clone(),
        k: full.k,
        estimate: full.estimate,
        studies,
        settings: full.settings.clone(),
        warnings: refits.warnings,
    })
}
