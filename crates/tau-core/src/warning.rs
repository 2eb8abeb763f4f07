//! What a reader should know about a result: the one vocabulary of warnings.
//! Each analysis attaches its warnings to its result; the text of each is its
//! [`Display`](std::fmt::Display), and JSON writes that text (an array of strings).

use std::fmt;

use crate::fields::{METHOD, MODS, PERMUTE_BY, RANDOM, RI, STEPS, STRICT, TEST};
use crate::model::{HeterogeneityCi, Method, ModelFit};
use crate::text::list_labels;

/// One warning.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// 1/2 was added to every cell of the 2×2 tables with a zero cell
    /// (metafor `escalc(to = "only0", add = 1/2)`); a property of the data set.
    ZeroCells {
        /// The studies corrected.
        studies: Vec<String>,
    },
    /// 1/2 was added to the event counts of incidence-rate records with no
    /// events in a group (metafor `escalc(to = "only0", add = 1/2)` for IRR,
    /// IRD and IRLN); a property of the data set.
    ZeroEvents {
        /// The studies corrected.
        studies: Vec<String>,
    },
    /// 1/2 was added to the events and non-events of one-group records with
    /// no events or only events (metafor `escalc(to = "only0", add = 1/2)`
    /// for PLO, PLN, PR ...); a property of the data set.
    ZeroProportions {
        /// The studies corrected.
        studies: Vec<String>,
    },
    /// Records with missing effect data left out (metafor `na.action = "na.omit"`);
    /// a property of the data set.
    MissingEffectData {
        /// Each record: "'Lee' (record 4: vi missing)".
        records: Vec<String>,
    },
    /// Pre-post records without r given the value of `--ri`; a property of the data set.
    AssumedCorrelation {
        /// The value assumed.
        value: f64,
        /// The studies it was assumed for.
        studies: Vec<String>,
    },
    /// Effects turned round where lower is better (`yi -> -yi`; see
    /// [`crate::data::reverse`]); a property of the data set.
    Reversed {
        /// What turned them: `--reverse outcome=ECBI`, the reverse field.
        sources: Vec<String>,
        /// The studies turned round.
        studies: Vec<String>,
    },
    /// A categorical moderator with (nearly) one level per study: a number
    /// misread as text, or a study identifier.
    NearlyUnique(String),
    /// The sampling variances span 7 or more orders of magnitude (metafor `rma`, `evtol`).
    VarianceRatio {
        /// Largest over smallest sampling variance.
        ratio: f64,
    },
    /// The chosen τ² estimator failed and the fallback was used.
    Fallback {
        /// The estimator that failed.
        failed: Method,
        /// Why, e.g. "did not converge in 100 iterations".
        reason: String,
        /// The estimator used instead.
        used: Method,
    },
    /// A negative τ² estimate was truncated at 0.
    Truncated {
        /// The estimator.
        method: Method,
        /// The estimate before truncation.
        raw: f64,
    },
    /// Fisher scoring stopped where the likelihood was lower than at τ² = 0.
    ResetToZero {
        /// The estimator.
        method: Method,
        /// The subgroups where it happened (empty for a single model).
        levels: Vec<String>,
    },
    /// τ² was estimated at 0, on the boundary.
    Tau2AtZero {
        /// The estimator.
        method: Method,
    },
    /// The typical sampling variance, and so I² and H², are lost to rounding.
    NoTypicalVariance,
    /// Knapp-Hartung with the common-effect model.
    KnhaCommonEffect,
    /// Both Q-profile bounds of τ² fall below 0.
    Tau2CiEmpty,
    /// The Q-profile CI of τ² reaches beyond the search limit.
    Tau2CiBeyondSearch {
        /// The search limit, reported as the upper bound.
        upper: f64,
    },
    /// A Q-profile bound of τ² was not found.
    Tau2CiNotConverged,
    /// Studies left out of a subgroup analysis for lack of the moderator.
    NoGroup {
        /// The moderator.
        by: String,
        /// The studies left out.
        studies: Vec<String>,
    },
    /// Studies left out of a meta-regression for a missing moderator value.
    MissingModerators {
        /// Each study with the moderators it lacks, e.g. "Lee (no year)".
        studies: Vec<String>,
    },
    /// Subgroups whose Knapp-Hartung SE is smaller than their z SE
    /// (variance factor s² < 1).
    KnhaShrinks {
        /// The subgroups whose SE shrank.
        levels: Vec<String>,
    },
    /// A permutation test that permutes records although every moderator is
    /// constant within the clusters of records sharing a label.
    PermutedByRecord {
        /// The cluster variable (the label kept as moderator `study`).
        by: String,
    },
    /// Subgroups with a single study.
    SingleStudyGroups {
        /// The levels.
        levels: Vec<String>,
        /// Whether the subgroups share a common τ².
        common_tau2: bool,
        /// Whether Knapp-Hartung was asked for (not applied to one study).
        knha: bool,
    },
    /// A refit of a sensitivity analysis failed (its row is empty).
    RefitFailed {
        /// "without" (leave-one-out, influence) or "up to" (cumulative).
        what: &'static str,
        /// The study left out or added last.
        study: String,
        /// Why the refit failed.
        error: String,
    },
    /// Studies left out of a robust analysis for lack of a cluster value.
    NoCluster {
        /// The cluster moderator.
        cluster: String,
        /// The studies left out.
        studies: Vec<String>,
    },
    /// A robust t test with fewer than 4 degrees of freedom (Tipton 2015).
    FewRobustDf {
        /// The coefficient.
        coefficient: String,
        /// Its degrees of freedom.
        df: f64,
    },
    /// A robust t test whose Satterthwaite df are undefined (reported as NA).
    UndefinedRobustDf {
        /// The coefficient.
        coefficient: String,
    },
    /// An HTZ test with fewer than 4 denominator degrees of freedom (no
    /// p-value at all when they are not positive).
    FewHtzDf {
        /// The denominator df.
        df: f64,
        /// Number of coefficients tested.
        q: usize,
    },
    /// The robust variance of the moderators is singular: their test is NA.
    SingularRobustTest,
    /// Clusters whose CR2 adjustment block G_j = R_j(I − H_jj)Φ_jR_j' is
    /// singular, inverted as clubSandwich does (zero eigenvalues → 0).
    SingularCr2Blocks {
        /// The cluster moderator.
        cluster: String,
        /// The clusters' identifiers.
        clusters: Vec<String>,
    },
    /// Intervals of one-sided p-values with fewer than 3 studies in a
    /// selection model: their weights, and the adjusted estimate, are unstable.
    SparseIntervals {
        /// Each interval's label (e.g. "0.025 < p <= 1") and its study count.
        intervals: Vec<(String, usize)>,
    },
    /// A selection parameter is at or near its bound (metafor warns too).
    DeltaAtBound,
    /// The selection model has no standard errors.
    NoStandardErrors {
        /// Why.
        reason: &'static str,
    },
    /// Cut-points given to the beta selection model, which has none (metafor warns too).
    StepsIgnored,
    /// Study labels given more than once; the later ones are numbered.
    RepeatedLabels {
        /// How many studies repeat an earlier label.
        count: usize,
        /// The repeated labels (at most 5).
        labels: Vec<String>,
        /// Whether more labels are repeated than listed.
        more: bool,
    },
    /// A subgroup analysis by a number with about one study per value.
    NearlyContinuous {
        /// The moderator.
        by: String,
        /// Its number of values.
        levels: usize,
        /// The number of studies.
        k: usize,
    },
    /// Records left out of a multilevel model for a missing grouping value.
    NoGrouping {
        /// The grouping variables (`--random`).
        variables: Vec<String>,
        /// The studies left out.
        studies: Vec<String>,
    },
    /// A level of a multilevel model that does not vary within the level
    /// above it, so that its σ² is not identifiable.
    LevelNotIdentifiable {
        /// The grouping variable of the level.
        inner: String,
        /// The grouping variable above it.
        outer: String,
        /// The level's name, e.g. "study/es_id".
        level: String,
    },
    /// Levels of a multilevel model with a single unit, whose σ² is fixed
    /// at 0 (as metafor's `rma.mv` does).
    SingleUnitLevel {
        /// The levels.
        levels: Vec<String>,
    },
    /// Variance components of a multilevel model estimated at 0.
    Sigma2AtZero {
        /// The levels.
        levels: Vec<String>,
    },
    /// A profile-likelihood CI of a σ² reaches beyond the search limit.
    Sigma2CiBeyondSearch {
        /// The level.
        level: String,
        /// The search limit.
        limit: f64,
    },
    /// A section of a report could not be computed (e.g. a bias method
    /// that needs more studies); the text says why.
    NotApplied(String),
    /// A likelihood-ratio test between fits by an estimator other than ML or
    /// REML (metafor `anova` warns likewise).
    LrtEstimator(Method),
    /// Mantel-Haenszel or Peto: tables with no events (or no non-events) in
    /// either group, left out of the heterogeneity test (metafor `drop00`).
    DoubleZeroTables {
        /// The studies.
        studies: Vec<String>,
        /// Whether they still weigh in the pooled estimate (the MH risk difference).
        weighted: bool,
    },
}

impl Warning {
    /// Whether the warning is about the data set itself (the same for every
    /// analysis of it) rather than about one analysis.
    pub fn is_about_data(&self) -> bool {
        matches!(
            self,
            Warning::ZeroCells { .. }
                | Warning::ZeroEvents { .. }
                | Warning::ZeroProportions { .. }
                | Warning::MissingEffectData { .. }
                | Warning::AssumedCorrelation { .. }
                | Warning::Reversed { .. }
                | Warning::RepeatedLabels { .. }
        )
    }
}

/// Level names in quotes, so that a name such as "both" cannot read as part
/// of the sentence: 'both', 'none' (at most [`list_labels`]'s number of them).
fn quoted_levels(levels: &[String]) -> String {
    let quoted: Vec<String> = levels.iter().map(|l| format!("'{l}'")).collect();
    list_labels(&quoted)
}

/// "1 study" or "3 studies".
pub(crate) fn studies(n: usize) -> &'static str {
    if n == 1 { "study" } else { "studies" }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LrtEstimator(method) => write!(
                f,
                "likelihood-ratio tests rest on ML (or REML) fits; with {} the ML likelihoods at its tau^2 estimates are compared (metafor warns likewise); use {METHOD} ML for a proper test",
                method.name()
            ),
            Warning::DoubleZeroTables {
                studies: labels,
                weighted,
            } => write!(
                f,
                "{} {} no events (or only events) in both groups: {}; left out of the heterogeneity test, as metafor's rma.mh and rma.peto do{}",
                labels.len(),
                if labels.len() == 1 {
                    "study has"
                } else {
                    "studies have"
                },
                list_labels(labels),
                if *weighted {
                    ", but weighted in the risk difference"
                } else {
                    ", and of no weight in the pooled estimate"
                }
            ),
            Warning::ZeroCells { studies } => write!(
                f,
                "1/2 added to every cell of {} table{} with a zero cell: {}",
                studies.len(),
                if studies.len() == 1 { "" } else { "s" },
                studies.join(", ")
            ),
            Warning::ZeroEvents { studies } => write!(
                f,
                "1/2 added to the event counts of {} incidence-rate record{} with no events in a group: {}",
                studies.len(),
                if studies.len() == 1 { "" } else { "s" },
                studies.join(", ")
            ),
            Warning::ZeroProportions { studies } => write!(
                f,
                "1/2 added to the events and non-events of {} record{} with no events or only events: {}",
                studies.len(),
                if studies.len() == 1 { "" } else { "s" },
                studies.join(", ")
            ),
            Warning::MissingEffectData { records } => write!(
                f,
                "left out {} record{} with missing effect data (as metafor's na.action = \"na.omit\"; pass {STRICT} to stop instead): {}",
                records.len(),
                if records.len() == 1 { "" } else { "s" },
                list_labels(records)
            ),
            Warning::AssumedCorrelation { value, studies: labels } => write!(
                f,
                "pre-post correlation r = {value} assumed ({RI}) for {} {} without r: {}; the results depend on it, so check them with other values",
                labels.len(),
                studies(labels.len()),
                quoted_levels(labels)
            ),
            Warning::Reversed {
                sources,
                studies: labels,
            } => write!(
                f,
                "effects turned round where lower is better (yi -> -yi; a ratio becomes its reciprocal) for {} {} ({}): {}",
                labels.len(),
                studies(labels.len()),
                sources.join(", "),
                quoted_levels(labels)
            ),
            Warning::NearlyUnique(text) => f.write_str(text),
            Warning::VarianceRatio { ratio } => write!(
                f,
                "the largest sampling variance is {} the smallest; results may be numerically unstable (metafor warns likewise); check the variances for unit or typing errors",
                // An infinite ratio (1e300 over 1e-300) is the widest spread of all.
                if ratio.is_finite() {
                    format!("{ratio:.1e} times")
                } else {
                    "more than 1e308 times".to_owned()
                }
            ),
            Warning::Fallback {
                failed,
                reason,
                used,
            } => write!(
                f,
                "the {} estimator {reason}; tau^2 was estimated with the fallback {} instead",
                failed.name(),
                used.name()
            ),
            Warning::Truncated { method, raw } => write!(
                f,
                "the {} estimate of tau^2 was negative ({}) and is truncated at 0, as metafor does: the studies vary less than their sampling variances predict",
                method.name(),
                if raw.abs() >= 1e6 {
                    crate::numerics::format::fmt_num(*raw, 4)
                } else if raw.abs() >= 1e-3 {
                    format!("{raw:.4}")
                } else {
                    format!("{raw:.3e}")
                }
            ),
            Warning::ResetToZero { method, levels } if levels.is_empty() => write!(
                f,
                "the {} likelihood was higher at tau^2 = 0 than where Fisher scoring stopped; tau^2 set to 0 (as metafor does)",
                method.name()
            ),
            Warning::ResetToZero { method, levels } => write!(
                f,
                "the {} likelihood was higher at tau^2 = 0 than where Fisher scoring stopped, so tau^2 was set to 0 (as metafor does) in: {}",
                method.name(),
                quoted_levels(levels)
            ),
            Warning::Tau2AtZero { method } => write!(
                f,
                "the {} estimate of tau^2 is 0, on the boundary of its range: no heterogeneity beyond sampling error is estimated, and the random-effects result equals the common-effect one",
                method.name()
            ),
            Warning::NoTypicalVariance => f.write_str(
                "I^2 and H^2 cannot be computed: the sampling variances span so many orders of magnitude that the typical sampling variance is lost to rounding; they are reported as NA",
            ),
            Warning::KnhaCommonEffect => f.write_str(
                "the Knapp-Hartung adjustment is meant for random-effects models, not the common-effect model",
            ),
            Warning::Tau2CiEmpty => f.write_str(
                "both Q-profile CI bounds for tau^2 fall below 0, so the CI is the empty set; it is reported as [0, 0], as metafor does",
            ),
            Warning::Tau2CiBeyondSearch { upper } => write!(
                f,
                "the Q-profile CI for tau^2 reaches beyond the search limit {upper}; that limit is reported as its upper bound (metafor prints \">{upper}\")",
                upper = crate::numerics::number::readable(*upper)
            ),
            Warning::Tau2CiNotConverged => f.write_str(
                "the search for a Q-profile CI bound for tau^2 did not converge; the bound is reported as NA",
            ),
            Warning::NoGroup { by, studies: left } => write!(
                f,
                "{} {} without a value of '{by}' left out: {}",
                left.len(),
                studies(left.len()),
                list_labels(left)
            ),
            Warning::MissingModerators { studies: left } => write!(
                f,
                "{} {} left out for a missing moderator value: {}",
                left.len(),
                studies(left.len()),
                list_labels(left)
            ),
            Warning::SingleStudyGroups {
                levels,
                common_tau2: true,
                ..
            } => write!(
                f,
                "one study only, so no tau^2 or I^2 of its own (its estimate uses the common tau^2): {}",
                quoted_levels(levels)
            ),
            Warning::KnhaShrinks { levels } => write!(
                f,
                "Knapp-Hartung made the standard error smaller than the z test's (its variance factor is below 1, common with few studies), which also inflates the test of subgroup differences: {}; {TEST} adhoc (metafor's test = \"adhoc\") floors the factor at 1",
                quoted_levels(levels)
            ),
            Warning::PermutedByRecord { by } => write!(
                f,
                "every moderator is constant within the clusters of \"{by}\" (records sharing a label), but the permutation test permutes records, which tears the clusters apart and makes the p-value too small when their effects are correlated; {PERMUTE_BY} {by} permutes whole clusters"
            ),
            Warning::SingleStudyGroups { levels, knha, .. } => write!(
                f,
                "one study only, so no tau^2 or I^2 and a normal-theory CI{}: {}",
                if *knha {
                    " (Knapp-Hartung needs k >= 2)"
                } else {
                    ""
                },
                quoted_levels(levels)
            ),
            Warning::RefitFailed { what, study, error } => write!(
                f,
                "the model {what} '{study}' could not be fitted: {error}"
            ),
            Warning::NoCluster {
                cluster,
                studies: left,
            } => write!(
                f,
                "{} {} without a value of the cluster moderator '{cluster}' left out: {}",
                left.len(),
                studies(left.len()),
                list_labels(left)
            ),
            Warning::FewRobustDf { coefficient, df } => write!(
                f,
                "the robust t test of '{coefficient}' has {df:.2} degrees of freedom (fewer than 4): its p-value and CI are unreliable (Tipton 2015); more clusters are needed"
            ),
            Warning::UndefinedRobustDf { coefficient } => write!(
                f,
                "the Satterthwaite degrees of freedom of '{coefficient}' are undefined (the working model gives its robust variance no variability); its p-value and CI are NA"
            ),
            Warning::FewHtzDf { df, q } if *df > 0.0 => write!(
                f,
                "the HTZ test of the {q} moderator coefficients has {df:.2} denominator degrees of freedom (fewer than 4): its p-value is unreliable (Tipton 2015); more clusters are needed"
            ),
            Warning::FewHtzDf { df, q } => write!(
                f,
                "the HTZ test of the {q} moderator coefficients has {df:.2} denominator degrees of freedom, so it has no p-value: too few clusters inform these coefficients"
            ),
            Warning::SingularRobustTest => f.write_str(
                "the robust variance-covariance matrix of the moderators is singular (a cluster determines a coefficient on its own), so the test of the moderators is NA",
            ),
            Warning::SingularCr2Blocks { cluster, clusters } => write!(
                f,
                "the CR2 adjustment (I - H_jj) is singular for {} {} of '{cluster}' ({}): such a cluster alone determines a coefficient (e.g. the only one with a moderator level); as clubSandwich, its inverse square root is a generalised one (zero eigenvalues stay 0), so that cluster adds nothing to that coefficient's robust variance",
                clusters.len(),
                if clusters.len() == 1 { "cluster" } else { "clusters" },
                list_labels(clusters)
            ),
            Warning::SparseIntervals { intervals } => write!(
                f,
                "fewer than 3 studies in the p-value interval{} {}: the selection model's estimates are unstable; consider fewer cut-points",
                if intervals.len() > 1 { "s" } else { "" },
                intervals
                    .iter()
                    .map(|(label, k)| format!("{label} ({k} {})", studies(*k)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Warning::DeltaAtBound => f.write_str(
                "one or more selection parameters (delta) are at or near their bound (0 or 100, as in metafor): treat the results with caution",
            ),
            Warning::NoStandardErrors { reason } => {
                write!(f, "{reason}: the selection model has no standard errors")
            }
            Warning::StepsIgnored => {
                write!(f, "{STEPS} is ignored by the beta selection model (as in metafor)")
            }
            Warning::RepeatedLabels {
                count,
                labels,
                more,
            } => write!(
                f,
                "{count} {} an earlier label ({}{}); the output shows them as 'label (2)', 'label (3)', ...; the label is kept as the moderator 'study', so that it can name clusters (e.g. {RANDOM} study/es); otherwise give each study its own label",
                if *count == 1 {
                    "study repeats"
                } else {
                    "studies repeat"
                },
                labels
                    .iter()
                    .map(|l| format!("'{l}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if *more { ", ..." } else { "" }
            ),
            Warning::NearlyContinuous { by, levels, k } => write!(
                f,
                "'{by}' is a number with {levels} different values among {k} studies, so most subgroups hold one study; for a continuous moderator use `tau regress {MODS} {by}`"
            ),
            Warning::NoGrouping {
                variables,
                studies: left,
            } => write!(
                f,
                "{} {} without a value for every grouping variable ({}) left out: {}",
                left.len(),
                studies(left.len()),
                variables.join(", "),
                list_labels(left)
            ),
            Warning::LevelNotIdentifiable {
                inner,
                outer,
                level,
            } => write!(
                f,
                "'{inner}' does not vary within '{outer}' (every '{outer}' holds one '{inner}'), so the variance at level '{level}' cannot be told apart from the one above it (its sigma^2 is not identifiable); if '{inner}' is the outer level, write the nesting the other way round ({RANDOM} {inner}/{outer}), otherwise drop '{inner}' from {RANDOM}"
            ),
            Warning::SingleUnitLevel { levels } => {
                let quoted: Vec<String> = levels.iter().map(|l| format!("'{l}'")).collect();
                let (noun, verb, pronoun) = if levels.len() == 1 {
                    ("level", "has", "its")
                } else {
                    ("levels", "have", "their")
                };
                write!(
                    f,
                    "{noun} {} {verb} a single unit, so {pronoun} sigma^2 cannot be estimated and is fixed at 0, as metafor's rma.mv does; the model is the one without {}: drop it from {RANDOM}",
                    quoted.join(", "),
                    if levels.len() == 1 { "that level" } else { "those levels" }
                )
            }
            Warning::Sigma2AtZero { levels } => write!(
                f,
                "sigma^2 is estimated at 0, on the boundary of its range, at level{} {}: no variance between its units beyond what the other levels and sampling error explain",
                if levels.len() == 1 { "" } else { "s" },
                levels.join(", ")
            ),
            Warning::Sigma2CiBeyondSearch { level, limit } => write!(
                f,
                "the profile-likelihood CI of sigma^2 at level '{level}' reaches beyond the search limit {limit}; its upper bound is reported as NA (metafor prints \">{limit}\")",
                limit = crate::numerics::number::readable(*limit)
            ),
            Warning::NotApplied(text) => f.write_str(text),
        }
    }
}

impl serde::Serialize for Warning {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What a reader should know about how a model's τ² was reached: the one
/// place where every analysis (pool, subgroup, regress, bias, sensitivity)
/// gets its model warnings.
pub fn model_warnings(model: &ModelFit) -> Vec<Warning> {
    let method = model.options.method;
    let convergence = &model.convergence;
    let mut warnings = Vec::new();
    if let Some(fallback) = &convergence.fallback_from {
        warnings.push(Warning::Fallback {
            failed: fallback.method,
            reason: fallback.error.reason(),
            used: method,
        });
    }
    if let Some(raw) = convergence.truncated_from {
        warnings.push(Warning::Truncated { method, raw });
    } else if convergence.reset_to_zero {
        warnings.push(Warning::ResetToZero {
            method,
            levels: Vec::new(),
        });
    } else if method != Method::EE && model.tau2 <= 0.0 {
        warnings.push(Warning::Tau2AtZero { method });
    }
    if model.typical_variance.is_nan() && method != Method::EE {
        warnings.push(Warning::NoTypicalVariance);
    }
    if method == Method::EE && model.options.test.is_knapp_hartung() {
        warnings.push(Warning::KnhaCommonEffect);
    }
    warnings
}

/// What a reader should know about the Q-profile interval of τ².
pub fn ci_warnings(ci: &HeterogeneityCi) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let [lower, upper] = ci.tau2;
    if ci.null_set {
        warnings.push(Warning::Tau2CiEmpty);
    } else if ci.upper_beyond_search {
        warnings.push(Warning::Tau2CiBeyondSearch { upper });
    }
    if lower.is_nan() || upper.is_nan() {
        warnings.push(Warning::Tau2CiNotConverged);
    }
    warnings
}

/// metafor's warning when the sampling variances span 7 or more orders of
/// magnitude (`rma()`, `control = list(evtol = 1e-07)`): the weights then differ
/// so much that the results may be numerically unstable.
pub fn variance_ratio_warning(vi: &[f64]) -> Option<Warning> {
    let max = vi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = vi.iter().copied().fold(f64::INFINITY, f64::min);
    let ratio = max / min;
    (ratio >= crate::model::tau2::EXTREME_VARIANCE_RATIO)
        .then_some(Warning::VarianceRatio { ratio })
}

#[cfg(test)]
mod search_limit_tests {
    #[test]
    fn search_limits_are_short() {
        let tau2 = crate::Warning::Tau2CiBeyondSearch { upper: 1e300 }.to_string();
        assert!(
            tau2.contains("search limit 1e300; ") && tau2.contains("\">1e300\""),
            "{tau2}"
        );
        let sigma2 = crate::Warning::Sigma2CiBeyondSearch {
            level: "cluster".into(),
            limit: 2.5e120,
        }
        .to_string();
        assert!(sigma2.contains("search limit 2.5e120; "), "{sigma2}");
    }
}
