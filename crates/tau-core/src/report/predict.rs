//! Text and CSV views of predictions at new moderator values (`--predict`,
//! metafor's `print(predict(res, newmods = ...))`) and of BLUPs (`--blup`,
//! metafor's `print(blup(res))`).

use super::table::{Cells, layout};
use super::text::MAX_STUDY_ROWS;
use crate::fields::FORMAT;
use crate::model::blup::Blup;
use crate::regression::predict::PredictedValue;

/// The "Predicted values" table: a column per moderator, then pred, se and
/// the limits; and, for measures with a natural scale, the same
/// back-transformed. Empty without predictions.
pub fn predictions_text(predictions: &[PredictedValue]) -> String {
    let Some(first) = predictions.first() else {
        return String::new();
    };
    let names: Vec<&str> = first.moderators.iter().map(|(n, _)| n.as_str()).collect();
    let table = |scale: Option<&str>, values: &dyn Fn(&PredictedValue) -> Vec<f64>| {
        let mut cells = Cells::new();
        for p in predictions {
            for (_, value) in &p.moderators {
                cells.push(&value.to_string());
            }
            for v in values(p) {
                cells.push_num(v, 4);
            }
        }
        let mut header = names.clone();
        match scale {
            None => header.extend(["pred", "se"]),
            Some(scale) => header.push(scale),
        }
        header.extend(["ci.lb", "ci.ub", "pi.lb", "pi.ub"]);
        layout(&header, &cells, false)
    };
    let mut out = format!(
        "\nPredicted values at new moderator values:\n\n{}",
        table(None, &|p| vec![
            p.pred, p.se, p.ci_lower, p.ci_upper, p.pi_lower, p.pi_upper
        ])
    );
    if let Some(scale) = first.transformed.as_ref().map(|t| t.scale) {
        out.push_str(&format!(
            "\nPredicted values at new moderator values, back-transformed ({scale}):\n\n{}",
            table(Some(scale), &|p| p
                .transformed
                .as_ref()
                .map_or_else(Vec::new, |t| vec![
                    t.estimate, t.ci_lower, t.ci_upper, t.pi_lower, t.pi_upper
                ]))
        ));
    }
    out
}

/// The "BLUPs" table, cut at [`MAX_STUDY_ROWS`] studies.
pub fn blups_text(blups: &[Blup]) -> String {
    let mut cells = Cells::new();
    for b in blups.iter().take(MAX_STUDY_ROWS) {
        cells.push(&b.study);
        for v in [b.pred, b.se, b.pi_lower, b.pi_upper] {
            cells.push_num(v, 4);
        }
    }
    let mut out = format!(
        "\nBLUPs (best linear unbiased predictions of the study effects):\n\n{}",
        layout(&["study", "pred", "se", "pi.lb", "pi.ub"], &cells, true)
    );
    if blups.len() > MAX_STUDY_ROWS {
        out.push_str(&format!(
            "... and {} more studies ({FORMAT} csv or json lists every study)\n",
            blups.len() - MAX_STUDY_ROWS
        ));
    }
    out
}

/// The predictions as CSV: a column per moderator, then pred, se, the
/// limits, and their back-transformed values (`pred_RR`, `ci_lower_RR`, ...).
pub fn predictions_csv(predictions: &[PredictedValue]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let first = predictions.first();
    let mut header: Vec<String> = first
        .map(|p| p.moderators.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let limits = ["pred", "ci_lower", "ci_upper", "pi_lower", "pi_upper"];
    header.extend(["pred", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper"].map(String::from));
    if let Some(t) = first.and_then(|p| p.transformed.as_ref()) {
        header.extend(limits.map(|l| format!("{l}_{}", t.scale)));
    }
    writer.write_record(&header)?;
    for p in predictions {
        let mut row: Vec<String> = p.moderators.iter().map(|(_, v)| v.to_string()).collect();
        row.extend(
            [p.pred, p.se, p.ci_lower, p.ci_upper, p.pi_lower, p.pi_upper].map(|v| v.to_string()),
        );
        if let Some(t) = &p.transformed {
            row.extend(
                [t.estimate, t.ci_lower, t.ci_upper, t.pi_lower, t.pi_upper].map(|v| v.to_string()),
            );
        }
        writer.write_record(&row)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The BLUPs as CSV: study, pred, se, pi_lower, pi_upper.
pub fn blups_csv(blups: &[Blup]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["study", "pred", "se", "pi_lower", "pi_upper"])?;
    for b in blups {
        writer.write_field(&b.study)?;
        writer.write_record([b.pred, b.se, b.pi_lower, b.pi_upper].map(|v| v.to_string()))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
