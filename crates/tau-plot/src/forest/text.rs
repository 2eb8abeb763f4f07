//! The words and number formats of a forest plot.

use std::cmp::Ordering;

use super::super::scale::fixed;
use super::Model;
use tau_core::input::Moderator;
use tau_core::model::Method;
use tau_core::pool::PoolResult;
use tau_core::subgroup::{GroupResult, SubgroupResult, Tau2Mode};

/// "Random-effects model" or "Common-effect model".
pub(super) fn model_name(model: Model) -> &'static str {
    match model {
        Model::Random => "Random-effects model",
        Model::Common => "Common-effect model",
    }
}

/// "Random" or "Common", for column headers.
pub(super) fn model_short(model: Model) -> &'static str {
    match model {
        Model::Random => "Random",
        Model::Common => "Common",
    }
}

/// A p-value as journals print it: "p < 0.001" or "p = 0.039".
pub(super) fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {}", fixed(p, 3))
    }
}

/// A variance with three significant digits (two decimals from 0.1 up).
fn small(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        fixed(v, 0)
    } else if v.abs() >= 0.1 {
        fixed(v, 2)
    } else {
        let decimals = (2 - v.abs().log10().floor() as i64).clamp(0, 12) as usize;
        fixed(v, decimals)
    }
}

/// "Heterogeneity: τ² = 0.31 (REML), I² = 92.2%, Q(12) = 152.23, p < 0.001".
pub(super) fn heterogeneity(r: &PoolResult) -> String {
    heterogeneity_of(r.settings.method, r.tau2, r.i2, r.q, r.q_df, r.q_p)
}

/// A subgroup's heterogeneity line; a level with one study has no τ² or I²
/// (its diamond is the study's own estimate, as `tau subgroup` reports it).
pub(super) fn level_heterogeneity(g: &GroupResult, method: Method) -> String {
    match (g.tau2, g.i2) {
        (Some(tau2), Some(i2)) => heterogeneity_of(method, tau2, i2, g.q, g.q_df, g.q_p),
        _ => "One study: no τ² or I², normal-theory CI".into(),
    }
}

fn heterogeneity_of(method: Method, tau2: f64, i2: f64, q: f64, q_df: usize, q_p: f64) -> String {
    let mut parts = Vec::new();
    if method != Method::EE {
        parts.push(format!("τ² = {} ({})", small(tau2), method.name()));
    }
    parts.push(format!("I² = {}%", fixed(i2, 1)));
    parts.push(format!("Q({q_df}) = {}", fixed(q, 2)));
    parts.push(p_value(q_p));
    format!("Heterogeneity: {}", parts.join(", "))
}

/// "Test for overall effect: z = -3.97, p < 0.001", or t(df) under Knapp-Hartung.
fn overall_effect(statistic: f64, p: f64, df: Option<f64>) -> String {
    let name = match df {
        Some(df) => format!("t({})", fixed(df, 0)),
        None => "z".to_owned(),
    };
    format!(
        "Test for overall effect: {name} = {}, {}",
        fixed(statistic, 2),
        p_value(p)
    )
}

/// The test for the overall effect of a pooled result.
pub(super) fn pooled_effect_test(r: &PoolResult) -> String {
    overall_effect(r.estimate.statistic, r.estimate.p, r.df)
}

/// The test for a subgroup's effect: t with k − 1 df under Knapp-Hartung
/// with a τ² per subgroup (the residual df of the mixed-effects model with a
/// common τ²), z otherwise and for a level of one study (normal theory).
pub(super) fn level_effect_test(g: &GroupResult, result: &SubgroupResult) -> String {
    let s = &result.settings;
    let df = if !s.test.is_knapp_hartung() || g.k < 2 {
        None
    } else {
        match s.tau2 {
            Tau2Mode::Separate => Some((g.k - 1) as f64),
            Tau2Mode::Common => result.q_between_df2,
        }
    };
    overall_effect(g.estimate.statistic, g.estimate.p, df)
}

/// "Test for subgroup differences: Q(2) = 1.86, p = 0.394"; `None` with one level.
pub(super) fn subgroup_test(
    result: &SubgroupResult,
    model: Model,
    name_model: bool,
) -> Option<String> {
    let (q, p) = (result.q_between?, result.q_between_p?);
    let which = if name_model {
        format!(" ({})", model_short(model).to_lowercase())
    } else {
        String::new()
    };
    Some(format!(
        "Test for subgroup differences{which}: Q({}) = {}, {}",
        result.q_between_df,
        fixed(q, 2),
        p_value(p)
    ))
}

/// Orders moderator values: numbers ascending, then text alphabetically, then missing.
pub(super) fn compare_moderators(a: Option<&Moderator>, b: Option<&Moderator>) -> Ordering {
    let key = |value: Option<&Moderator>| match value {
        Some(Moderator::Number(v)) => (0, *v, String::new()),
        Some(other) => other
            .category()
            .map_or((2, 0.0, String::new()), |text| (1, 0.0, text)),
        None => (2, 0.0, String::new()),
    };
    let (a, b) = (key(a), key(b));
    a.0.cmp(&b.0)
        .then(a.1.total_cmp(&b.1))
        .then_with(|| a.2.cmp(&b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_variances_keep_three_significant_digits() {
        assert_eq!(small(0.3132), "0.31");
        assert_eq!(small(0.01234), "0.0123");
        assert_eq!(small(0.0), "0");
    }

    #[test]
    fn p_values_are_printed_as_journals_do() {
        assert_eq!(p_value(0.00001), "p < 0.001");
        assert_eq!(p_value(0.0394), "p = 0.039");
    }

    #[test]
    fn moderator_values_sort_numbers_text_missing() {
        let mut values = [
            None,
            Some(Moderator::Text("b".into())),
            Some(Moderator::Number(3.0)),
            Some(Moderator::Missing),
            Some(Moderator::Number(-1.0)),
            Some(Moderator::Text("a".into())),
        ];
        values.sort_by(|a, b| compare_moderators(a.as_ref(), b.as_ref()));
        assert_eq!(values[0], Some(Moderator::Number(-1.0)));
        assert_eq!(values[2], Some(Moderator::Text("a".into())));
        assert!(matches!(values[4], None | Some(Moderator::Missing)));
    }
}
