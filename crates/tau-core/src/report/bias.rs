//! The text report of `tau bias`: each method's numbers, then one plain
//! sentence on what they suggest and what the method cannot show.

use super::text::p_phrase;
use super::{fmt_num, fmt_p, table};
use crate::bias::selection::SelectionModel;
use crate::bias::{Begg, BiasResult, DependentBias, Egger, FailSafe, PetPeese, TrimFill};
use crate::robust::RobustCoefficient;

/// Below this many studies the tests are too weak to detect asymmetry (Sterne et al. 2011).
const FEW_STUDIES: usize = 10;

/// Below this many clusters the uncorrected (CR0) sandwich of the robust
/// 3PSM is known to be too small (the CR0 literature: Cameron & Miller 2015).
const FEW_CLUSTERS: usize = 20;

/// The text report of a bias analysis.
pub fn bias_report(r: &BiasResult) -> String {
    let s = &r.settings.model;
    let level = fmt_num(s.level, 0);
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Small-study effects and publication bias (k = {}; tau^2 estimator: {}; measure: {})\n\n",
        r.k,
        s.method.name(),
        s.measure.label()
    ));
    out.push_str(&format!(
        "Unadjusted estimate: {} ({level}% CI: {}, {}), tau^2 = {}\n",
        fmt_num(r.unadjusted.estimate, 4),
        fmt_num(r.unadjusted.ci_lower, 4),
        fmt_num(r.unadjusted.ci_upper, 4),
        fmt_num(r.unadjusted.tau2, 4)
    ));
    if r.k < FEW_STUDIES {
        out.push_str(&format!(
            "\nNote: with only {} studies, every method below has little power; a non-significant test says almost nothing about bias.\n",
            r.k
        ));
    }
    let stat = if s.test.is_knapp_hartung() { "t" } else { "z" };
    if let Some(e) = &r.egger {
        out.push_str(&egger_section(e, r, stat, &level));
    }
    if let Some(b) = &r.begg {
        out.push_str(&begg_section(b));
    }
    if let Some(t) = &r.trimfill {
        out.push_str(&trimfill_section(t, r, &level));
    }
    out.push_str(&failsafe_section(&r.failsafe));
    if let Some(pp) = &r.pet_peese {
        out.push_str(&pet_peese_section(pp, &level));
    }
    if let Some(m) = &r.selection {
        out.push_str(&selection_section(m, &level));
    }
    if let Some(d) = &r.dependent {
        out.push_str(&dependent_section(d, &level));
    }
    for warning in &r.warnings {
        out.push_str(&format!("\nNot available: {warning}\n"));
    }
    out.push_str(&side_by_side(r, &level));
    out
}

fn selection_section(m: &SelectionModel, level: &str) -> String {
    let mut out = format!(
        "\nThree-parameter selection model (3PSM; step at one-sided p = 0.025, alternative = {}; tau selection for details):\n",
        m.settings.alternative.name()
    );
    out.push_str(&format!(
        "  adjusted estimate: {} (SE = {}; {level}% CI: {}, {}), tau^2 = {}; weight of studies with p > 0.025: {} (SE = {})\n",
        fmt_num(m.estimate.value, 4),
        fmt_num(m.estimate.se, 4),
        fmt_num(m.estimate.ci_lower, 4),
        fmt_num(m.estimate.ci_upper, 4),
        fmt_num(m.tau2, 4),
        fmt_num(m.delta[1], 4),
        fmt_num(m.delta_se[1], 4)
    ));
    out.push_str(&format!(
        "  LRT for selection: {} (df = {}), p {}\n",
        fmt_num(m.LRT, 4),
        m.LRT_df,
        p_phrase(m.LRT_p)
    ));
    match super::selection::reversed_selection(m) {
        Some(reversed) => out.push_str(&format!("  {reversed}\n")),
        None if m.LRT_p < 0.05 => out.push_str(
            "  The p-values are distributed as selective publication would make them; the adjusted estimate is what the model expects without that selection.\n",
        ),
        None => out.push_str(
            "  There is no clear evidence of selection, but the test has little power with few studies.\n",
        ),
    }
    for warning in &m.warnings {
        out.push_str(&format!("  Warning: {warning}\n"));
    }
    out
}

/// The checks for dependent effect sizes.
fn dependent_section(d: &DependentBias, level: &str) -> String {
    let mut out = format!(
        "\nDependent effect sizes (clustered by '{}'; {} clusters): the checks above treat every effect as independent; these allow for correlated effects within a cluster.\n",
        d.cluster, d.clusters
    );
    if let Some(u) = &d.unadjusted {
        out.push_str(&format!(
            "\nUnadjusted estimate allowing for the dependence ({}; CR2 robust t test, df = {}): {} ({level}% CI: {}, {}), p {}\n",
            d.working_model
                .as_ref()
                .map_or_else(|| "random-effects model".to_owned(), |m| format!("random = {m}")),
            u.df.map_or("NA".to_owned(), |df| fmt_num(df, 2)),
            fmt_num(u.estimate, 4),
            fmt_num(u.ci_lower, 4),
            fmt_num(u.ci_upper, 4),
            p_phrase(u.p)
        ));
    }
    if let (Some(egger), Some(pp), Some(model)) = (&d.egger, &d.pet_peese, &d.working_model) {
        let coefficient = |c: &RobustCoefficient| {
            format!(
                "{} (SE = {}; t = {}, df = {}, p {}; {level}% CI: {}, {})",
                fmt_num(c.estimate, 4),
                fmt_num(c.se, 4),
                fmt_num(c.statistic, 4),
                c.df.map_or("NA".to_owned(), |df| fmt_num(df, 2)),
                p_phrase(c.p),
                fmt_num(c.ci_lower, 4),
                fmt_num(c.ci_upper, 4)
            )
        };
        out.push_str(&format!(
            "\nEgger's test and PET-PEESE as multilevel meta-regressions (random = {model}; CR2 standard errors, Satterthwaite t tests):\n  Egger's test (slope on sqrt(vi)): {}\n",
            coefficient(egger)
        ));
        out.push_str(if egger.p < 0.05 {
            "  Effects with larger standard errors differ systematically from those with smaller ones (funnel asymmetry), allowing for the dependence within clusters.\n"
        } else {
            "  There is no clear sign that effects with larger standard errors differ, but the test has little power, so bias cannot be ruled out.\n"
        });
        out.push_str(&format!(
            "  PET  : intercept {}\n  PEESE: intercept {}\n  Rule: {}.\n  {} is the bias-corrected estimate under this rule.\n",
            coefficient(&pp.pet.intercept),
            coefficient(&pp.peese.intercept),
            pp.rule,
            pp.selected
        ));
    }
    for warning in &d.warnings {
        out.push_str(&format!("  Warning: {warning}\n"));
    }
    if let Some(m) = &d.selection {
        let model_se = m.robust.as_ref().map_or(f64::NAN, |r| r.model_se);
        out.push_str(&format!(
            "\n3PSM with cluster-robust standard errors (sandwich of the per-cluster scores, CR0):\n  adjusted estimate: {} (robust SE = {}, model-based {}; {level}% CI: {}, {}); weight of studies with p > 0.025: {} (robust SE = {}; z = {}, p {})\n",
            fmt_num(m.estimate.value, 4),
            fmt_num(m.estimate.se, 4),
            fmt_num(model_se, 4),
            fmt_num(m.estimate.ci_lower, 4),
            fmt_num(m.estimate.ci_upper, 4),
            fmt_num(m.delta[1], 4),
            fmt_num(m.delta_se[1], 4),
            fmt_num(m.delta_statistic[1], 4),
            p_phrase(m.delta_p[1])
        ));
        out.push_str(if m.delta_p[1] < 0.05 {
            "  The robust test finds that non-significant effects are published at a different rate from significant ones.\n"
        } else {
            "  The robust test finds no clear evidence of selection; with few clusters it has little power.\n"
        });
        if let Some(reversed) = super::selection::reversed_selection(m) {
            out.push_str(&format!("  {reversed}\n"));
        }
        if d.clusters < FEW_CLUSTERS {
            out.push_str(&format!(
                "  With only {} clusters these sandwich standard errors (no small-sample correction) are likely too small: read this test as optimistic.\n",
                d.clusters
            ));
        }
        for warning in &m.warnings {
            out.push_str(&format!("  Warning: {warning}\n"));
        }
    }
    out
}

/// Every estimate side by side, and a reading that does not over-claim.
fn side_by_side(r: &BiasResult, level: &str) -> String {
    let rows: Vec<Vec<String>> = r
        .adjusted
        .iter()
        .map(|a| {
            vec![
                a.method.to_owned(),
                fmt_num(a.estimate, 4),
                format!("[{}, {}]", fmt_num(a.ci_lower, 4), fmt_num(a.ci_upper, 4)),
                if a.test.is_empty() {
                    String::new()
                } else {
                    format!("{} p {}", a.test, p_phrase(a.p))
                },
            ]
        })
        .collect();
    let ci = format!("{level}% CI");
    let mut out = format!(
        "\nAll estimates side by side:\n\n{}",
        table(&["", "estimate", &ci, "bias test"], &rows)
    );
    let (lo, hi) = r
        .adjusted
        .iter()
        .map(|a| a.estimate)
        .filter(|e| e.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| {
            (lo.min(e), hi.max(e))
        });
    out.push_str(&format!(
        "\nReading: the estimates range from {} to {}. Each method assumes a different mechanism:\n",
        fmt_num(lo, 4),
        fmt_num(hi, 4)
    ));
    for a in &r.adjusted {
        out.push_str(&format!("  - {}: {}.\n", a.method, a.assumes));
    }
    out.push_str(
        "No method can tell bias from genuine differences between small and large studies, and none is reliable with few studies. When they agree, the result is robust to the kinds of bias they model; when they disagree, that disagreement is itself the finding: report the range, not the most convenient number.\n",
    );
    out
}

/// How smaller studies' effects differ from larger ones', in words that do
/// not depend on the sign of the effects: relative to zero (the null) where
/// the measure has one and the pooled estimate is not zero, else larger or
/// smaller values.
fn small_study_direction(slope: f64, pooled: f64, has_null: bool) -> &'static str {
    if !has_null || pooled == 0.0 || pooled.is_nan() {
        return if slope > 0.0 {
            "larger values"
        } else {
            "smaller values"
        };
    }
    if (slope > 0.0) == (pooled > 0.0) {
        "effects further from zero"
    } else {
        "effects closer to zero"
    }
}

fn egger_section(e: &Egger, r: &BiasResult, stat: &str, level: &str) -> String {
    let verdict = if e.p < 0.05 {
        format!(
            "Smaller studies report {} than larger ones, which fits publication bias but could equally come from heterogeneity, chance or differences in how small studies were done.",
            small_study_direction(
                e.slope,
                r.unadjusted.estimate,
                r.settings.model.measure.null_value().is_some()
            )
        )
    } else {
        "There is no clear sign that smaller studies report different effects, but the test has little power, so bias cannot be ruled out.".to_owned()
    };
    format!(
        "\nEgger's regression test (mixed-effects model with the standard error as predictor):\n  {stat} = {}, p {}; limit estimate (SE -> 0): {} ({level}% CI: {}, {})\n  {verdict}\n",
        fmt_num(e.statistic, 4),
        p_phrase(e.p),
        fmt_num(e.limit_estimate, 4),
        fmt_num(e.limit_ci_lower, 4),
        fmt_num(e.limit_ci_upper, 4),
    )
}

fn begg_section(b: &Begg) -> String {
    let verdict = if b.p < 0.05 {
        "Effect sizes are correlated with their variances, a sign of funnel-plot asymmetry; the test cannot tell whether publication bias or something else caused it."
    } else {
        "Effect sizes are not clearly correlated with their variances; this rank test has even less power than Egger's, so this does not rule out bias."
    };
    format!(
        "\nBegg & Mazumdar rank correlation:\n  Kendall's tau = {}, p {} ({} p-value)\n  {verdict}\n",
        fmt_num(b.tau, 4),
        p_phrase(b.p),
        b.p_method
    )
}

fn trimfill_section(t: &TrimFill, r: &BiasResult, level: &str) -> String {
    let side = t.side.name();
    let verdict = if t.k0 == 0 {
        "No studies are imputed, so the estimate is unchanged; the method only looks for missing studies on one side and can miss other forms of bias.".to_owned()
    } else {
        format!(
            "Filling in {} {} on the {side} moves the estimate from {} to {}; this is what the estimate would be if the asymmetry came entirely from unpublished studies, an assumption the data cannot confirm.",
            t.k0,
            if t.k0 == 1 { "study" } else { "studies" },
            fmt_num(r.unadjusted.estimate, 4),
            fmt_num(t.estimate, 4)
        )
    };
    format!(
        "\nTrim-and-fill (L0 estimator, missing studies on the {side}):\n  estimated missing studies k0 = {} (SE = {}); adjusted estimate: {} (SE = {}; {level}% CI: {}, {}), tau^2 = {}\n  {verdict}\n",
        t.k0,
        fmt_num(t.k0_se, 4),
        fmt_num(t.estimate, 4),
        fmt_num(t.se, 4),
        fmt_num(t.ci_lower, 4),
        fmt_num(t.ci_upper, 4),
        fmt_num(t.tau2, 4)
    )
}

fn failsafe_section(f: &FailSafe) -> String {
    format!(
        "\nFail-safe N (alpha = {}):\n  Rosenthal: {} (combined one-sided p {}); Orwin: {} (target effect {}); Rosenberg: {} (combined p {})\n  It would take about {} unpublished studies averaging no effect to make the combined result non-significant; fail-safe numbers ignore heterogeneity and assume the missing studies average exactly zero, so they say little about bias.\n",
        fmt_num(f.alpha, 2),
        count(f.rosenthal),
        p_phrase(f.rosenthal_p),
        count(f.orwin),
        fmt_num(f.orwin_target, 4),
        count(f.rosenberg),
        p_phrase(f.rosenberg_p),
        count(f.rosenthal)
    )
}

/// A fail-safe number, or "infinitely many".
fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "infinitely many".to_owned(), |n| n.to_string())
}

fn pet_peese_section(pp: &PetPeese, level: &str) -> String {
    let line = |name: &str, l: &crate::bias::pet_peese::Limit| {
        format!(
            "  {name}: intercept {} (SE = {}; t = {}, p = {}; {level}% CI: {}, {})\n",
            fmt_num(l.estimate.value, 4),
            fmt_num(l.estimate.se, 4),
            fmt_num(l.estimate.statistic, 4),
            fmt_p(l.estimate.p),
            fmt_num(l.estimate.ci_lower, 4),
            fmt_num(l.estimate.ci_upper, 4)
        )
    };
    let verdict = format!(
        "PET's intercept is {}significant, so the {} estimate {} is the bias-corrected effect; both regressions assume that bias grows with the standard error and are unreliable with few studies or much heterogeneity.",
        if pp.selected == "PEESE" { "" } else { "not " },
        pp.selected,
        fmt_num(pp.estimate, 4)
    );
    format!(
        "\nPET-PEESE (weighted least squares, t tests with df = {}):\n{}{}  Rule: {}.\n  {verdict}\n",
        fmt_num(pp.df, 0),
        line("PET  ", &pp.pet),
        line("PEESE", &pp.peese),
        pp.rule
    )
}

#[cfg(test)]
mod tests {
    use super::small_study_direction;

    #[test]
    fn egger_direction_is_relative_to_zero() {
        // A benefit on a negative scale (log RR < 0) with more negative small
        // studies: slope < 0, pooled < 0, so further from zero.
        assert_eq!(
            small_study_direction(-1.2, -0.7, true),
            "effects further from zero"
        );
        assert_eq!(
            small_study_direction(1.2, 0.4, true),
            "effects further from zero"
        );
        assert_eq!(
            small_study_direction(1.2, -0.4, true),
            "effects closer to zero"
        );
        assert_eq!(
            small_study_direction(-1.2, 0.4, true),
            "effects closer to zero"
        );
        assert_eq!(small_study_direction(1.2, 0.4, false), "larger values");
    }
}
