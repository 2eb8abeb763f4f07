//! Reports of the ρ sensitivity analysis ([`crate::robust::rho`]): text, one
//! table with a column per ρ, and CSV, one row per ρ.

use super::{fmt_num, fmt_p, table};
use crate::robust::{RhoSensitivity, SmallSample};

/// The text report: σ̂² per level, then per coefficient its estimate, robust
/// SE, df and p, then the robust test of the moderators, a column per ρ.
pub fn text(r: &RhoSensitivity) -> String {
    let info = &r.robust;
    let mut out = format!(
        "Sensitivity to the assumed correlation rho (robust inference: {}, clusters: {}; cluster variable: {})\n",
        info.estimator, info.clusters, info.cluster
    );
    out.push_str(&format!(
        "Working model: random = {}, sampling errors correlated by rho within each {}, {}; k = {}\n\n",
        r.random.join("/"),
        r.random.first().map_or("", String::as_str),
        r.method.name(),
        r.k
    ));
    let heads: Vec<String> = r.fits.iter().map(|f| format!("rho = {}", f.rho)).collect();
    let mut header: Vec<&str> = vec![""];
    header.extend(heads.iter().map(String::as_str));
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |label: String, cell: &dyn Fn(&crate::robust::RhoFit) -> String| {
        let mut cells = vec![label];
        cells.extend(r.fits.iter().map(cell));
        rows.push(cells);
    };
    for (l, name) in r.sigma2_names.iter().enumerate() {
        row(format!("sigma^2.{} ({name})", l + 1), &|f| {
            fmt_num(f.sigma2[l], 4)
        });
    }
    let coefficients = r.fits.first().map_or(0, |f| f.coefficients.len());
    for j in 0..coefficients {
        let name = r.fits[0].coefficients[j].name.clone();
        row(name, &|f| fmt_num(f.coefficients[j].estimate, 4));
        row("  se (robust)".into(), &|f| {
            fmt_num(f.coefficients[j].se, 4)
        });
        row("  df".into(), &|f| {
            f.coefficients[j].df.map_or("NA".into(), |d| fmt_num(d, 2))
        });
        row("  pval".into(), &|f| fmt_p(f.coefficients[j].p));
    }
    if r.fits.iter().any(|f| f.qm.is_some()) {
        let test = match info.small_sample {
            SmallSample::Satterthwaite => "HTZ test of moderators: F",
            SmallSample::None => "Test of moderators: F",
        };
        row(test.into(), &|f| fmt_num(f.qm.unwrap_or(f64::NAN), 4));
        row("  df1, df2".into(), &|f| {
            format!(
                "{}, {}",
                f.qm_df.unwrap_or(0),
                f.qm_df2.map_or("NA".into(), |d| fmt_num(d, 2))
            )
        });
        row("  pval".into(), &|f| fmt_p(f.qm_p.unwrap_or(f64::NAN)));
    }
    if r.fits.len() > RHO_COLUMNS {
        out.push_str(&transposed(&r.fits, &rows));
    } else {
        out.push_str(&table(&header, &rows));
    }
    let notes: Vec<String> = r
        .warnings
        .iter()
        .map(ToString::to_string)
        .chain(r.fits.iter().flat_map(|f| {
            f.warnings
                .iter()
                .map(move |w| format!("rho = {}: {w}", f.rho))
        }))
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for note in notes {
            out.push_str(&format!("Note: {note}\n"));
        }
    }
    out
}

/// The most ρ values shown as columns; a longer list is shown a row per ρ,
/// so that a line never grows with the list (1,000 values made one line of
/// 14,462 characters).
const RHO_COLUMNS: usize = 8;

/// The table of [`text`] a row per ρ: `rows` (a label, then a cell per fit)
/// become the columns, an indented label qualified by the one above it
/// (`intrcpt se (robust)`).
fn transposed(fits: &[crate::robust::RhoFit], rows: &[Vec<String>]) -> String {
    let mut names = vec!["rho".to_owned()];
    let mut parent = String::new();
    for row in rows {
        let label = row.first().map_or("", String::as_str);
        match label.strip_prefix("  ") {
            Some(sub) => names.push(format!("{parent} {sub}")),
            None => {
                parent = label.to_owned();
                names.push(parent.clone());
            }
        }
    }
    let header: Vec<&str> = names.iter().map(String::as_str).collect();
    let by_rho: Vec<Vec<String>> = fits
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut cells = vec![f.rho.to_string()];
            cells.extend(
                rows.iter()
                    .map(|row| row.get(i + 1).cloned().unwrap_or_default()),
            );
            cells
        })
        .collect();
    table(&header, &by_rho)
}

/// One row per ρ: rho, each σ̂², each coefficient's estimate, se, df and p,
/// and the moderator test (empty for an intercept-only model).
pub fn csv(r: &RhoSensitivity) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rho".to_owned()];
    header.extend(r.sigma2_names.iter().map(|n| format!("sigma2 {n}")));
    if let Some(first) = r.fits.first() {
        for c in &first.coefficients {
            for what in ["estimate", "se", "df", "p"] {
                header.push(format!("{} {what}", c.name));
            }
        }
    }
    header.extend(["QM", "QM_df", "QM_df2", "QM_p"].map(String::from));
    writer.write_record(&header)?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for f in &r.fits {
        let mut record = vec![f.rho.to_string()];
        record.extend(f.sigma2.iter().map(f64::to_string));
        for c in &f.coefficients {
            record.extend([
                c.estimate.to_string(),
                c.se.to_string(),
                c.df.map_or("NA".into(), |d| d.to_string()),
                c.p.to_string(),
            ]);
        }
        record.extend([
            opt(f.qm),
            f.qm_df.map_or(String::new(), |d| d.to_string()),
            opt(f.qm_df2),
            opt(f.qm_p),
        ]);
        writer.write_record(&record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
