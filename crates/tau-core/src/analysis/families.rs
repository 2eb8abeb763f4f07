//! The rules of the model families beside the inverse-variance models:
//! location-scale models (`scale`) and GLMMs (`glmm`). Called by
//! [`Spec::validate`](super::Spec::validate); messages name fields in
//! backticks.

use crate::glmm::GlmmModel;
use crate::location_scale::LocationScaleOptions;
use crate::model::{Method, Test};
use crate::regression::DesignSpec;
use crate::report::Format;

use super::spec::{Field, MethodChoice, Question, Spec, Tau2Ci, TestChoice};

/// `scale`: a location-scale model, and the settings it cannot use.
pub(super) fn location_scale(
    spec: &Spec,
    method: Method,
    refuse: &mut impl FnMut(Field, String),
) -> LocationScaleOptions {
    let not = |what: &str, why: &str| format!("{what} cannot be used with `scale`: {why}");
    if spec.question == Question::Subgroup {
        refuse(
            Field::Scale,
            "`scale` fits a location-scale model with tau pool or tau regress; for subgroups, put the subgroup moderator in `scale` (a tau^2 per level) instead of `by`".into(),
        );
    }
    if !matches!(method, Method::REML | Method::ML) {
        refuse(
            Field::Method,
            format!(
                "a location-scale model (`scale`) is fitted by REML or ML, as metafor's rma(scale = ); got `method` {}: write `method` REML or ML",
                method.name()
            ),
        );
    }
    if !spec.random.is_empty() {
        refuse(
            Field::Random,
            not(
                "`random`",
                "a location-scale model has one tau^2 per study from its scale moderators; leave out one of them",
            ),
        );
    }
    if spec.robust.is_some() {
        refuse(
            Field::Robust,
            not(
                "`robust`",
                "cluster-robust inference is built for models with one tau^2 or a multilevel model; leave out one of them",
            ),
        );
    }
    let other_test = match spec.test {
        TestChoice::Uni(Test::Z) => None,
        TestChoice::Uni(test @ (Test::Knha | Test::Adhoc)) => Some(test.name()),
        TestChoice::T => Some("t"),
    };
    if let Some(test) = other_test {
        refuse(
            Field::Test,
            not(
                &format!("`test` {test}"),
                "tau's location-scale models use z tests (metafor's default); leave out `test`",
            ),
        );
    }
    for (given, field, why) in [
        (
            spec.fallback.is_some(),
            Field::Fallback,
            "there is no other estimator to fall back to; raise `max_iter` if the scale coefficients do not converge",
        ),
        (
            !spec.weighted,
            Field::Weighted,
            "the location model is weighted by 1/(vi + tau^2_i); leave out one of them",
        ),
        (
            spec.blup,
            Field::Blup,
            "BLUPs are built for models with one tau^2; leave out `blup`",
        ),
        (
            spec.tau2_ci != Tau2Ci::Qp,
            Field::Tau2Ci,
            "tau^2 is a function of the scale coefficients, whose CIs are reported; leave out `tau2_ci`",
        ),
        (
            spec.btt.is_some(),
            Field::Btt,
            "the report tests all location moderators (QM) and all scale moderators (QS); leave out `btt`",
        ),
        (
            spec.permutations.is_some(),
            Field::Permutations,
            "the permutation test refits a model with one tau^2; leave out `permutations`",
        ),
        (
            spec.fit_only,
            Field::Random,
            "`fit_only` belongs to multilevel models; leave it out",
        ),
        (
            !spec.rho.is_empty(),
            Field::Rho,
            "`rho` belongs to multilevel models; leave it out",
        ),
        (
            spec.tau2.is_some(),
            Field::Tau2,
            "`tau2` belongs to subgroup analyses; leave it out",
        ),
    ] {
        if given {
            refuse(field, not(&format!("`{}`", field.name()), why));
        }
    }
    if matches!(spec.format, Format::Markdown { .. } | Format::Latex { .. }) {
        refuse(
            Field::Format,
            format!(
                "a location-scale model (`scale`) has no table for a paper (`format` {}); use `format` text, json or csv",
                spec.format.name()
            ),
        );
    }
    let trimmed = |names: &[String]| names.iter().map(|m| m.trim().to_owned()).collect();
    LocationScaleOptions {
        method,
        level: spec.level,
        max_iter: spec.max_iter,
        location: DesignSpec {
            moderators: if spec.question == Question::Regress {
                trimmed(&spec.mods)
            } else {
                Vec::new()
            },
            references: spec.references.clone(),
            intercept: spec.intercept,
        },
        scale: trimmed(&spec.scale),
    }
}

/// `glmm`: the settings a GLMM cannot use, and the models not built yet
/// (refused by their metafor names; the measure is checked when the data
/// are read, [`crate::glmm::fit`]).
pub(super) fn glmm(spec: &Spec, model: GlmmModel, refuse: &mut impl FnMut(Field, String)) {
    let name = model.name();
    let not = |what: &str, why: &str| format!("{what} cannot be used with `glmm` {name}: {why}");
    if let MethodChoice::Tables(method) = spec.method {
        refuse(
            Field::Method,
            not(
                &format!("`method` {}", method.name()),
                "a GLMM is fitted by maximum likelihood (metafor's rma.glmm); leave out `method`",
            ),
        );
    }
    match spec.method {
        // REML is the request's default, so it reads as "not given".
        MethodChoice::Model(Method::ML | Method::REML) | MethodChoice::Tables(_) => {}
        MethodChoice::Model(Method::EE) => refuse(
            Field::Method,
            not(
                "`method` EE",
                "the common-effect GLMM (metafor's rma.glmm(method = \"EE\")) is not built yet in this version of tau; leave out `method` for the random-effects GLMM, or pool the tables with `method` MH",
            ),
        ),
        MethodChoice::Model(method) => refuse(
            Field::Method,
            not(
                &format!("`method` {}", method.name()),
                "a GLMM estimates tau^2 by maximum likelihood (metafor's rma.glmm takes method ML or EE); leave out `method`",
            ),
        ),
    }
    match spec.test {
        TestChoice::Uni(Test::Z) => {}
        TestChoice::T => {}
        TestChoice::Uni(test) => refuse(
            Field::Test,
            not(
                &format!("`test` {}", test.name()),
                "a GLMM's tests are z tests or t tests (metafor's rma.glmm takes test = \"z\" or \"t\"); write `test` t, or leave it out",
            ),
        ),
    }
    if spec.question == Question::Subgroup {
        refuse(
            Field::Glmm,
            "`glmm` fits a model with tau pool or tau regress; for subgroups, use tau regress with the subgroup moderator in `mods`".into(),
        );
    }
    for (given, field, why) in [
        (
            !spec.random.is_empty(),
            Field::Random,
            "a GLMM has its own random effects; leave out `random`",
        ),
        (
            spec.robust.is_some(),
            Field::Robust,
            "cluster-robust inference is built for the models of yi and vi; leave out `robust`",
        ),
        (
            !spec.scale.is_empty(),
            Field::Scale,
            "a location-scale model is a model of yi and vi; leave out one of them",
        ),
        (
            spec.blup,
            Field::Blup,
            "BLUPs are built for the models of yi and vi; leave out `blup`",
        ),
        (
            spec.permutations.is_some(),
            Field::Permutations,
            "the permutation test refits a model of yi and vi; leave out `permutations`",
        ),
        (
            spec.fallback.is_some(),
            Field::Fallback,
            "a GLMM has one estimator, maximum likelihood, and no other to fall back on; leave out `fallback`",
        ),
        (
            spec.tau2_ci != Tau2Ci::Qp,
            Field::Tau2Ci,
            "metafor's rma.glmm has no CI of tau^2 (its confint() stops for GLMMs); leave out `tau2_ci`",
        ),
        (
            !spec.weighted,
            Field::Weighted,
            "a GLMM weights the tables by its likelihood; leave out one of them",
        ),
    ] {
        if given {
            refuse(field, not(&format!("`{}`", field.name()), why));
        }
    }
    if model == GlmmModel::UmRs && spec.question == Question::Regress {
        refuse(
            Field::Mods,
            format!(
                "a GLMM with moderators and random study effects (metafor's rma.glmm(mods = , model = \"{name}\")) is not built yet in this version of tau; fit the moderators with `glmm` UM.FS, CM.AL or CM.EL, or pool without `mods`"
            ),
        );
    }
    for (given, field, why) in [
        (
            spec.btt.is_some(),
            Field::Btt,
            "the report tests every moderator together (QM); leave out `btt`",
        ),
        (
            !spec.predict.is_empty(),
            Field::Predict,
            "predictions are built for the models of yi and vi; leave out `predict`",
        ),
    ] {
        if given && spec.question == Question::Regress {
            refuse(field, not(&format!("`{}`", field.name()), why));
        }
    }
}
