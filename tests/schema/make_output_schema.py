#!/usr/bin/env python3
"""Writes docs/src/output.schema.json: the JSON Schema of every report.

Run from the repository root after `cargo build`:

    python3 tests/schema/make_output_schema.py

It runs every command of tests/schema/commands.tsv with --format json and
infers, per report kind, the keys, their JSON types and which are always
present; descriptions come from VOCABULARY below (one meaning per key across
all reports, metafor's `res$` names where metafor has one). The schema is
then what `tau schema --output` prints, and tests/output_schema.rs checks
every command's output against it, so a renamed or new key fails until the
schema (and the changelog) say so.
"""
import json
import shlex
import subprocess
import sys

VOCABULARY = {
    "title": "Title of the data set.",
    "k": "Number of effect sizes (studies) in the model.",
    "estimate": "Estimate (log scale for ratio measures).",
    "se": "Standard error of the estimate.",
    "statistic": "Test statistic: z, or t under Knapp-Hartung / t tests / robust inference.",
    "p": "Two-sided p-value of the estimate.",
    "ci_lower": "Lower confidence limit.",
    "ci_upper": "Upper confidence limit.",
    "df": "Degrees of freedom of the t test (null for z tests).",
    "tau2": "Between-study variance tau^2 (metafor res$tau2).",
    "tau2_se": "Standard error of tau^2 (metafor res$se.tau2).",
    "tau": "Square root of tau^2.",
    "tau2_ci": "Confidence interval of tau^2 ([lower, upper]).",
    "I2": "I^2 in percent (metafor res$I2).",
    "I2_ci": "Confidence interval of I^2.",
    "H2": "H^2 (metafor res$H2).",
    "H2_ci": "Confidence interval of H^2.",
    "Q": "Cochran's Q (heterogeneity test statistic).",
    "Q_df": "Degrees of freedom of Q.",
    "Q_p": "p-value of Q.",
    "QE": "Test statistic of (residual) heterogeneity (metafor res$QE).",
    "QE_df": "Its degrees of freedom, k - p.",
    "QE_p": "Its p-value (metafor res$QEp).",
    "QM": "Omnibus test of the moderators (metafor res$QM): chi^2, or F under Knapp-Hartung, t tests or robust inference.",
    "QM_df": "Its (numerator) degrees of freedom.",
    "QM_df2": "Denominator degrees of freedom of an F test.",
    "QM_p": "Its p-value (metafor res$QMp).",
    "QM_distribution": "\"chisq\" or \"F\".",
    "Q_between": "Test of subgroup differences.",
    "Q_between_df": "Its (numerator) degrees of freedom, L - 1.",
    "Q_between_df2": "Denominator degrees of freedom when it is an F statistic.",
    "Q_between_p": "Its p-value.",
    "Q_between_distribution": "\"chisq\" or \"F\".",
    "logLik": "Log-likelihood (restricted under REML; metafor fit.stats).",
    "deviance": "Deviance.",
    "AIC": "Akaike's information criterion.",
    "BIC": "Bayesian information criterion.",
    "AICc": "AIC with the small-sample correction.",
    "R2": "Proportion of heterogeneity accounted for, percent (metafor res$R2).",
    "pi_lower": "Lower limit of the prediction interval.",
    "pi_upper": "Upper limit of the prediction interval.",
    "transformed": "The summary back-transformed to the measure's natural scale (e.g. RR).",
    "settings": "How the result was computed (estimator, test, level, measure, convergence).",
    "warnings": "Things to know about the result, as sentences.",
    "studies": "One entry per study (effect size) in the model.",
    "provenance": "Where the result came from: tau's version, the command line, the input file and its SHA-256, the studies used.",
    "coefficients": "The model coefficients: name, estimate, se, statistic, p, CI (robust ones under robust inference).",
    "vcov": "Variance-covariance matrix of the coefficients, row by row (robust under robust inference).",
    "model_based": "Under robust inference: the working model's own (model-based) values of the keys the robust inference replaced.",
    "robust": "Robust inference: its type (CR2 or CR1), cluster variable, number of clusters and small-sample correction.",
    "QE_Wld": "Wald test of the GLMM's saturated model against the common-effect model (metafor res$QE.Wld).",
    "QE_Wld_p": "p-value of QE_Wld (metafor res$QEp.Wld).",
    "QE_LRT": "Likelihood-ratio test of the GLMM's saturated model against the common-effect model (metafor res$QE.LRT).",
    "QE_LRT_p": "p-value of QE_LRT (metafor res$QEp.LRT).",
    "sigma2": "Variance components (metafor res$sigma2): of a multilevel model, outermost level first; of a GLMM with random study effects (UM.RS), the variance of the study intercepts.",
    "sigma2_names": "The levels of the variance components (metafor res$s.names).",
    "sigma2_levels": "Number of units at each level (metafor res$s.nlevels).",
    "sigma2_at_zero": "Whether each variance component is estimated at 0.",
    "sigma2_ci": "Profile-likelihood CI of each variance component (metafor confint).",
    "rho_ci": "Profile-likelihood CI of each rho of the first structured term (metafor confint(res, rho = j)).",
    "gamma2": "Variances of the second structured term (metafor res$gamma2).",
    "gamma2_ci": "Profile-likelihood CI of each gamma^2 (metafor confint(res, gamma2 = j)).",
    "phi": "Correlations of the second structured term (metafor res$phi).",
    "phi_ci": "Profile-likelihood CI of each phi (metafor confint(res, phi = j)).",
    "user_weights": "Whether the records' user weights gave the coefficients (metafor rma.mv's W); absent without them.",
    "g_levels": "Inner levels of the first structured term (metafor g.levels.f).",
    "h_levels": "Inner levels of the second structured term (metafor h.levels.f).",
    "I2_levels": "I^2 of each level of a multilevel model, percent.",
    "I2_total": "I^2 of all levels together, percent.",
    "level_tests": "Likelihood-ratio test of each level (that its variance is 0).",
    "dropped": "Records left out for a missing moderator.",
    "groups": "One entry per subgroup, in the order asked for.",
    "by": "The moderator whose levels are the subgroups.",
    "blups": "Best linear unbiased predictions per study (metafor blup).",
    "predictions": "Predicted values at given moderator values (metafor predict).",
    "weight": "Weight in the model, percent.",
    "yi": "Effect size on the analysis scale.",
    "vi": "Sampling variance.",
    "sei": "Standard error of the effect size.",
    "study": "Study label.",
    "measure": "Effect-size measure (metafor's names).",
    "method": "tau^2 estimator or pooling method.",
    "test": "How coefficients are tested (z, knha, adhoc, t).",
    "level": "Confidence level, percent.",
    "version": "tau's version.",
    "tau_version": "tau's version.",
    "rho": "Correlation of the sampling errors within clusters.",
    "mu": "Posterior summary of the mean effect mu.",
    "theta_new": "Posterior predictive summary of a new study's true effect.",
    "marginal_likelihood": "Marginal likelihood of the model.",
    "log_marginal_likelihood": "Its logarithm.",
    "bayes_factor": "Bayes factors BF01 for tau = 0 and mu = 0.",
    "ranef": "BLUPs of the random effects per level of a multilevel model, keyed by level name (metafor ranef(res)).",
    "rstandard": "Standardised residual {resid, se, z} (metafor rstandard).",
    "rstandard_X2": "X^2 of a cluster's standardised residuals (metafor rstandard(res, cluster)$cluster$X2).",
    "rstudent_X2": "X^2 of a cluster's deleted residuals (metafor rstudent(res, cluster)$cluster$X2).",
    "clusters": "One row per cluster left out (metafor's cluster = argument).",
    "model": "The GLMM, as metafor's rma.glmm(model = ...): UM.FS, UM.RS, CM.EL or CM.AL.",
    "left_out": "2x2 tables (or studies) with no events, or only events, in both groups, left out of a GLMM (metafor's drop00).",
    "missing_moderators": "Number of studies left out for a missing moderator value.",
    "moderators": "The moderators, in model order.",
    "QE_Wld": "Wald test of the saturated GLMM against the fitted one (metafor res$QE.Wld).",
    "QE_Wld_p": "Its p-value (metafor res$QEp.Wld).",
    "QE_LRT": "Likelihood-ratio test of the saturated GLMM against the common-effect one (metafor res$QE.LRT).",
    "QE_LRT_p": "Its p-value (metafor res$QEp.LRT).",
}

def types(values):
    names = set()
    for v in values:
        if v is None:
            names.add("null")
        elif isinstance(v, bool):
            names.add("boolean")
        elif isinstance(v, (int, float)):
            names.add("number")
        elif isinstance(v, str):
            names.add("string")
        elif isinstance(v, list):
            names.add("array")
        else:
            names.add("object")
    return sorted(names)

def infer(values):
    """The schema of a list of JSON values seen at one place."""
    kinds = types(values)
    schema = {"type": kinds[0] if len(kinds) == 1 else kinds}
    objects = [v for v in values if isinstance(v, dict)]
    if objects:
        keys = []
        for o in objects:
            keys += [k for k in o if k not in keys]
        schema["properties"] = {}
        for key in keys:
            inner = infer([o[key] for o in objects if key in o])
            if key in VOCABULARY:
                inner = {"description": VOCABULARY[key], **inner}
            schema["properties"][key] = inner
        schema["required"] = [k for k in keys if all(k in o for o in objects)]
        schema["additionalProperties"] = False
    arrays = [x for v in values if isinstance(v, list) for x in v]
    if any(isinstance(v, list) for v in values):
        schema["items"] = infer(arrays) if arrays else {}
    return schema

def main():
    reports = {}
    with open("tests/schema/commands.tsv") as commands:
        for line in commands:
            if not line.strip() or line.startswith("#"):
                continue
            kind, args = line.rstrip("\n").split("\t")
            out = subprocess.run(["target/debug/tau", *shlex.split(args), "--format", "json"],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"tau {args}: {out.stderr}")
            reports.setdefault(kind, []).append(json.loads(out.stdout))
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/tau-meta/tau/output.schema.json",
        "title": "tau's JSON reports (--format json)",
        "description": "One definition per kind of report in $defs; a report is an object of one of them. Generated by tests/schema/make_output_schema.py and checked by tests/output_schema.rs.",
        "oneOf": [{"$ref": f"#/$defs/{kind}"} for kind in reports],
        "$defs": {kind: infer(values) for kind, values in reports.items()},
    }
    with open("docs/src/output.schema.json", "w") as out:
        json.dump(schema, out, indent=2, ensure_ascii=False)
        out.write("\n")

main()
