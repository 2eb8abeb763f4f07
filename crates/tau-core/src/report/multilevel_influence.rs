//! Text and CSV views of the case diagnostics of a multilevel model
//! ([`crate::sensitivity::multilevel_influence`]): a table per record
//! (metafor's `rstandard`, `rstudent`, `hatvalues`, `cooks.distance`,
//! `dfbetas` of `rma.mv`), and with a cluster a table per cluster.

use std::io::Write;

use super::csv::CsvView;
use super::paper::{PaperTable, PaperView};
use super::table::{Cells, layout};
use super::text::{MAX_STUDY_ROWS, TextView};
use crate::fields::FORMAT;
use crate::sensitivity::multilevel_influence::MultilevelInfluence;

impl TextView for MultilevelInfluence {
    fn text(&self) -> String {
        text(self)
    }
}

impl CsvView for MultilevelInfluence {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let table = csv(self).map_err(|e| std::io::Error::other(e.to_string()))?;
        out.write_all(table.as_bytes())
    }
}

impl PaperView for MultilevelInfluence {
    fn paper_table(&self, _digits: usize) -> Result<PaperTable, String> {
        Err(format!(
            "the diagnostics of a multilevel model have no table for a paper: use {FORMAT} text, json or csv"
        ))
    }
}

/// A number with 4 decimals, or "NA" (a refit that failed).
fn push(cells: &mut Cells, value: Option<f64>) {
    match value {
        Some(v) => cells.push_num(v, 4),
        None => cells.push("NA"),
    }
}

fn text(r: &MultilevelInfluence) -> String {
    let levels: Vec<String> = r
        .sigma2_names
        .iter()
        .zip(&r.sigma2)
        .map(|(name, s)| format!("sigma^2 {name} = {}", super::fmt_num(*s, 4)))
        .collect();
    let mut out = format!(
        "Case diagnostics of the multilevel model ({}; {}; k = {}), as metafor's rstandard, rstudent, hatvalues, cooks.distance and dfbetas of rma.mv, the variance components re-estimated in each refit\n\n",
        r.settings.method.name(),
        levels.join(", "),
        r.k
    );
    let clustered = r.clusters.is_some();
    let mut header = vec!["study", "rstandard", "rstudent", "hat"];
    if !clustered {
        header.push("cook.d");
        header.extend(r.coefficients.iter().map(|c| c.as_str()));
    }
    let mut cells = Cells::new();
    for s in r.studies.iter().take(MAX_STUDY_ROWS) {
        cells.push(&s.study);
        cells.push_num(s.rstandard.z, 4);
        push(&mut cells, s.rstudent.map(|x| x.z));
        cells.push_num(s.hat, 4);
        if !clustered {
            push(&mut cells, s.cooks_distance);
            for j in 0..r.coefficients.len() {
                push(
                    &mut cells,
                    s.dfbetas.as_ref().and_then(|d| d.values.get(j).copied()),
                );
            }
        }
    }
    if !clustered {
        out.push_str("(rstandard and rstudent are z values; the last columns are the DFBETAS of each coefficient)\n\n");
    }
    out.push_str(&layout(&header, &cells, true));
    if r.studies.len() > MAX_STUDY_ROWS {
        out.push_str(&format!(
            "... and {} more records ({FORMAT} csv or json lists every record)\n",
            r.studies.len() - MAX_STUDY_ROWS
        ));
    }
    if let (Some(clusters), Some(name)) = (&r.clusters, &r.cluster) {
        out.push_str(&format!(
            "\nPer cluster of \"{name}\" (each left out in turn; rstudent above is that of the record's cluster left out):\n\n"
        ));
        let mut header = vec![name.as_str(), "k", "X2.rstandard", "X2.rstudent", "cook.d"];
        header.extend(r.coefficients.iter().map(|c| c.as_str()));
        let mut cells = Cells::new();
        for c in clusters.iter().take(MAX_STUDY_ROWS) {
            cells.push(&c.cluster);
            cells.push(&c.k.to_string());
            push(&mut cells, c.rstandard_x2);
            push(&mut cells, c.rstudent_x2);
            push(&mut cells, c.cooks_distance);
            for j in 0..r.coefficients.len() {
                push(
                    &mut cells,
                    c.dfbetas.as_ref().and_then(|d| d.values.get(j).copied()),
                );
            }
        }
        out.push_str(&layout(&header, &cells, true));
        if clusters.len() > MAX_STUDY_ROWS {
            out.push_str(&format!(
                "... and {} more clusters ({FORMAT} csv or json lists every cluster)\n",
                clusters.len() - MAX_STUDY_ROWS
            ));
        }
    }
    out
}

/// Without a cluster, one row per record; with one, one row per cluster.
fn csv(r: &MultilevelInfluence) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let cell = |v: Option<f64>| v.map_or_else(|| "NA".to_owned(), |x| x.to_string());
    let dfbetas_names = r.coefficients.iter().map(|c| format!("dfbetas_{c}"));
    if let Some(clusters) = &r.clusters {
        let mut header: Vec<String> = [
            "cluster",
            "k",
            "rstandard_X2",
            "rstudent_X2",
            "cooks_distance",
        ]
        .map(String::from)
        .to_vec();
        header.extend(dfbetas_names);
        writer.write_record(&header)?;
        for c in clusters {
            let mut row = vec![
                c.cluster.clone(),
                c.k.to_string(),
                cell(c.rstandard_x2),
                cell(c.rstudent_x2),
                cell(c.cooks_distance),
            ];
            row.extend(
                (0..r.coefficients.len())
                    .map(|j| cell(c.dfbetas.as_ref().and_then(|d| d.values.get(j).copied()))),
            );
            writer.write_record(&row)?;
        }
    } else {
        let mut header: Vec<String> = [
            "study",
            "rstandard_resid",
            "rstandard_se",
            "rstandard_z",
            "rstudent_resid",
            "rstudent_se",
            "rstudent_z",
            "hat",
            "cooks_distance",
        ]
        .map(String::from)
        .to_vec();
        header.extend(dfbetas_names);
        writer.write_record(&header)?;
        for s in &r.studies {
            let mut row = vec![
                s.study.clone(),
                s.rstandard.resid.to_string(),
                s.rstandard.se.to_string(),
                s.rstandard.z.to_string(),
                cell(s.rstudent.map(|x| x.resid)),
                cell(s.rstudent.map(|x| x.se)),
                cell(s.rstudent.map(|x| x.z)),
                s.hat.to_string(),
                cell(s.cooks_distance),
            ];
            row.extend(
                (0..r.coefficients.len())
                    .map(|j| cell(s.dfbetas.as_ref().and_then(|d| d.values.get(j).copied()))),
            );
            writer.write_record(&row)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
