//! CSV views: one row per study.

use crate::pool::PoolResult;

/// The per-study table of a pooled result: study, yi, vi, sei, ci_lower, ci_upper, weight (%).
pub fn pool_studies(result: &PoolResult) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["study", "yi", "vi", "sei", "ci_lower", "ci_upper", "weight"])?;
    for row in &result.studies {
        writer.write_record([
            row.study.clone(),
            row.yi.to_string(),
            row.vi.to_string(),
            row.sei.to_string(),
            row.ci_lower.to_string(),
            row.ci_upper.to_string(),
            row.weight.to_string(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
