//! The text view of robust inference: a "Robust inference (CR2, clusters: n)"
//! block with the coefficient table (estimate, SE, t, df, p, CI) and the test
//! of the moderators, laid out like metafor's `print.robust.rma`.

use super::text::{p_phrase, stars};
use super::{fmt_num, fmt_p, table};
use serde_json::{Map, Value};

use crate::robust::{RobustResult, SmallSample};

/// The robust block of a text report; `tested` names what the omnibus test
/// covers ("moderators", or "subgroup differences").
pub fn text(r: &RobustResult, tested: &str) -> String {
    let info = &r.robust;
    let mut out = format!(
        "Robust inference ({}, clusters: {}; cluster variable: {})\n",
        info.estimator, info.clusters, info.cluster
    );
    out.push_str(match info.small_sample {
        SmallSample::Satterthwaite => {
            "Small-sample corrections: Satterthwaite t tests, HTZ test of the moderators (clubSandwich)\n\n"
        }
        SmallSample::None => {
            "Small-sample corrections: none (metafor's robust(adjust = TRUE): t and F tests on clusters - p df)\n\n"
        }
    });
    if r.coefficients.len() > 1 || r.qm_df > 1 {
        let test = match info.small_sample {
            SmallSample::Satterthwaite => format!("HTZ test of {tested}"),
            SmallSample::None => format!("Test of {tested}"),
        };
        let df2 = r.qm_df2.map_or("NA".to_owned(), |d| fmt_num(d, 2));
        out.push_str(&format!(
            "{test}:\nF(df1 = {}, df2 = {df2}) = {}, p-val {}\n\n",
            r.qm_df,
            fmt_num(r.qm, 4),
            p_phrase(r.qm_p)
        ));
    }
    let rows: Vec<Vec<String>> = r
        .coefficients
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                fmt_num(c.estimate, 4),
                fmt_num(c.se, 4),
                fmt_num(c.statistic, 4),
                c.df.map_or("NA".to_owned(), |d| fmt_num(d, 2)),
                fmt_p(c.p),
                fmt_num(c.ci_lower, 4),
                fmt_num(c.ci_upper, 4),
                stars(c.p).to_owned(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "", "estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub", "",
        ],
        &rows,
    ));
    out
}

/// The JSON view of a model with robust inference: the model's own JSON
/// object `base`, with the robust values where the model-based ones were
/// (the contract of issue 13) and the model-based ones kept under
/// `model_based`:
///
/// * a meta-regression's `coefficients` (`estimate, se, statistic, df, p,
///   ci_lower, ci_upper`) and `vcov`; a pooled model's top-level `estimate,
///   se, statistic, df, p, ci_lower, ci_upper`;
/// * `QM, QM_df, QM_df2, QM_p` and `QM_distribution: "F"`;
/// * `robust: {type, cluster, clusters, small_sample}`; the robust warnings
///   are added to `warnings`.
///
/// A subgroup analysis (`base` with `Q_between`) keeps its per-level results;
/// its `Q_between*` become the robust test of the subgroup differences and
/// the robust coefficients of the model with the moderator as a factor are
/// under `coefficients`.
pub fn json(mut base: Value, r: &RobustResult) -> Value {
    let Value::Object(object) = &mut base else {
        return base;
    };
    let mut model_based = Map::new();
    let mut replace = |object: &mut Map<String, Value>, key: &str, value: Value| {
        if let Some(old) = object.insert(key.to_owned(), value) {
            model_based.insert(key.to_owned(), old);
        }
    };
    let number = |v: f64| serde_json::to_value(v).unwrap_or(Value::Null);
    let prefix = if object.contains_key("Q_between") {
        "Q_between"
    } else {
        "QM"
    };
    if prefix == "Q_between" || object.contains_key("coefficients") {
        let coefficients = serde_json::to_value(&r.coefficients).unwrap_or(Value::Null);
        replace(object, "coefficients", coefficients);
        let vcov = serde_json::to_value(&r.vcov).unwrap_or(Value::Null);
        replace(object, "vcov", vcov);
    } else if let Some(c) = r.coefficients.first() {
        for (key, value) in [
            ("estimate", c.estimate),
            ("se", c.se),
            ("statistic", c.statistic),
            ("df", c.df.unwrap_or(f64::NAN)),
            ("p", c.p),
            ("ci_lower", c.ci_lower),
            ("ci_upper", c.ci_upper),
        ] {
            replace(object, key, number(value));
        }
    }
    replace(object, prefix, number(r.qm));
    replace(object, &format!("{prefix}_df"), Value::from(r.qm_df));
    replace(
        object,
        &format!("{prefix}_df2"),
        number(r.qm_df2.unwrap_or(f64::NAN)),
    );
    replace(object, &format!("{prefix}_p"), number(r.qm_p));
    replace(
        object,
        &format!("{prefix}_distribution"),
        Value::from(r.qm_distribution),
    );
    replace(
        object,
        "robust",
        serde_json::to_value(&r.robust).unwrap_or(Value::Null),
    );
    if let Some(Value::Array(warnings)) = object.get_mut("warnings") {
        warnings.extend(r.warnings.iter().map(|w| Value::from(w.to_string())));
    }
    object.insert("model_based".to_owned(), Value::Object(model_based));
    base
}

/// The robust coefficient table as CSV.
pub fn csv(r: &RobustResult) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "name",
        "estimate",
        "se",
        "statistic",
        "df",
        "p",
        "ci_lower",
        "ci_upper",
    ])?;
    for c in &r.coefficients {
        writer.write_record([
            c.name.clone(),
            c.estimate.to_string(),
            c.se.to_string(),
            c.statistic.to_string(),
            c.df.map_or("NA".to_owned(), |d| d.to_string()),
            c.p.to_string(),
            c.ci_lower.to_string(),
            c.ci_upper.to_string(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
