//! Text and CSV views of the BLUPs of a multilevel model
//! ([`crate::multilevel::ranef`], metafor's `ranef()` of `rma.mv`): one
//! short table per level.

use super::table::{Cells, layout};
use super::text::MAX_STUDY_ROWS;
use crate::fields::FORMAT;
use crate::multilevel::ranef::Ranef;

/// One table per level, each cut at [`MAX_STUDY_ROWS`] units.
pub fn text(ranef: &Ranef) -> String {
    let mut out = String::from(
        "\nBLUPs of the random effects (best linear unbiased predictions, as ranef()):\n",
    );
    for (name, effects) in &ranef.components {
        let mut cells = Cells::new();
        for e in effects.iter().take(MAX_STUDY_ROWS) {
            cells.push(&e.level);
            for v in [e.intrcpt, e.se, e.pi_lower, e.pi_upper] {
                cells.push_num(v, 4);
            }
        }
        out.push_str(&format!(
            "\n~ 1 | {name}:\n\n{}",
            layout(&["level", "intrcpt", "se", "pi.lb", "pi.ub"], &cells, true)
        ));
        if effects.len() > MAX_STUDY_ROWS {
            out.push_str(&format!(
                "... and {} more units ({FORMAT} csv or json lists every unit)\n",
                effects.len() - MAX_STUDY_ROWS
            ));
        }
    }
    out
}

/// The BLUPs as CSV: component, level, intrcpt, se, pi_lower, pi_upper.
pub fn csv(ranef: &Ranef) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "component",
        "level",
        "intrcpt",
        "se",
        "pi_lower",
        "pi_upper",
    ])?;
    for (name, effects) in &ranef.components {
        for e in effects {
            writer.write_field(name)?;
            writer.write_field(&e.level)?;
            writer
                .write_record([e.intrcpt, e.se, e.pi_lower, e.pi_upper].map(|v| v.to_string()))?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
