//! Text and CSV views of the residuals of a Mantel-Haenszel or Peto fit
//! ([`crate::sensitivity::tables_residuals`], metafor's
//! `rstandard` and `rstudent` of `rma.mh` and `rma.peto`).

use std::io::Write;

use super::csv::CsvView;
use super::paper::{PaperTable, PaperView};
use super::table::{Cells, layout};
use super::text::TextView;
use crate::fields::FORMAT;
use crate::sensitivity::tables_residuals::TablesResiduals;

impl TextView for TablesResiduals {
    fn text(&self) -> String {
        let mut out = String::new();
        if let Some(title) = &self.title {
            out.push_str(&format!("{title}\n\n"));
        }
        out.push_str(&format!(
            "Residuals of the {} fit (k = {}; estimate {}, {}), as metafor's rstandard and rstudent; metafor has no other case diagnostics of these fits\n\n",
            self.settings.method.name(),
            self.k,
            super::fmt_num(self.estimate.value, 4),
            self.settings.measure.description()
        ));
        let mut cells = Cells::new();
        for s in &self.studies {
            cells.push(&s.study);
            for v in [s.rstandard.resid, s.rstandard.se, s.rstandard.z] {
                cells.push_num(v, 4);
            }
            match s.rstudent {
                Some(r) => {
                    for v in [r.resid, r.se, r.z] {
                        cells.push_num(v, 4);
                    }
                }
                None => (0..3).for_each(|_| cells.push("NA")),
            }
        }
        out.push_str(&layout(
            &[
                "study",
                "resid",
                "se",
                "rstandard",
                "resid.del",
                "se.del",
                "rstudent",
            ],
            &cells,
            true,
        ));
        out
    }
}

impl CsvView for TablesResiduals {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| std::io::Error::other(e.to_string());
        writer
            .write_record([
                "study",
                "rstandard_resid",
                "rstandard_se",
                "rstandard_z",
                "rstudent_resid",
                "rstudent_se",
                "rstudent_z",
            ])
            .map_err(io)?;
        for s in &self.studies {
            let mut row = vec![
                s.study.clone(),
                s.rstandard.resid.to_string(),
                s.rstandard.se.to_string(),
                s.rstandard.z.to_string(),
            ];
            row.extend(match s.rstudent {
                Some(r) => [r.resid, r.se, r.z].map(|v| v.to_string()),
                None => ["NA", "NA", "NA"].map(String::from),
            });
            writer.write_record(&row).map_err(io)?;
        }
        let bytes = writer.into_inner().map_err(|e| io(e.into_error().into()))?;
        out.write_all(&bytes)
    }
}

impl PaperView for TablesResiduals {
    fn paper_table(&self, _digits: usize) -> Result<PaperTable, String> {
        Err(format!(
            "the residuals of a Mantel-Haenszel or Peto fit have no table for a paper: use {FORMAT} text, json or csv"
        ))
    }
}
