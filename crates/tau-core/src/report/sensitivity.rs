//! Text and CSV views of the sensitivity analyses (leave-one-out, cumulative,
//! influence, Baujat). Each text report ends with one plain sentence on what
//! the analysis suggests and what it cannot show.

use super::text::{back_transformed_table, p_phrase};
use super::{fmt_num, fmt_p, table};
use crate::regression::INTERCEPT;
use crate::sensitivity::RefitRow;
use crate::sensitivity::baujat::Baujat;
use crate::sensitivity::cumulative::Cumulative;
use crate::sensitivity::influence::Influence;
use crate::sensitivity::leave_one_out::{LeaveOneOut, TablesLeaveOneOut};
use crate::settings::Settings;

fn heading(title: &Option<String>, what: &str, k: usize, s: &Settings) -> String {
    let mut out = String::new();
    if let Some(title) = title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "{what} (k = {k}; tau^2 estimator: {}; test: {}; measure: {})\n\n",
        s.method.name(),
        s.test.name(),
        s.measure.label()
    ));
    out
}

fn refit_table(first: &str, rows: &[RefitRow]) -> String {
    let has_df = rows.iter().any(|r| r.df.is_some());
    let has_tau2 = rows.iter().any(|r| r.tau2.is_some());
    let sigma2 = rows
        .iter()
        .filter_map(|r| r.sigma2.as_ref().map(Vec::len))
        .max()
        .unwrap_or(0);
    let has_i2 = rows.iter().any(|r| r.i2.is_some());
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.study.clone(),
                fmt_num(r.estimate.value, 4),
                fmt_num(r.estimate.se, 4),
                fmt_num(r.estimate.ci_lower, 4),
                fmt_num(r.estimate.ci_upper, 4),
                fmt_p(r.estimate.p),
            ];
            if has_df {
                cells.push(fmt_num(r.df.unwrap_or(f64::NAN), 2));
            }
            if has_tau2 {
                cells.push(fmt_num(r.tau2.unwrap_or(f64::NAN), 4));
            }
            for l in 0..sigma2 {
                let value = r.sigma2.as_ref().and_then(|s| s.get(l).copied());
                cells.push(fmt_num(value.unwrap_or(f64::NAN), 4));
            }
            if has_i2 {
                cells.push(format!("{}%", fmt_num(r.i2.unwrap_or(f64::NAN), 2)));
            }
            cells.push(fmt_num(r.q, 4));
            cells
        })
        .collect();
    let mut header: Vec<String> = [first, "estimate", "se", "ci.lb", "ci.ub", "pval"]
        .map(str::to_owned)
        .to_vec();
    if has_df {
        header.push("df".into());
    }
    if has_tau2 {
        header.push("tau^2".into());
    }
    header.extend((1..=sigma2).map(|l| format!("sigma^2.{l}")));
    if has_i2 {
        header.push("I^2".into());
    }
    header.push("Q".into());
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    table(&header, &cells)
}

/// "tau^2 = 0.0123, I^2 = 45.6%" (or the σ² of a multilevel model), as the
/// row has them.
pub(crate) fn heterogeneity_phrase(r: &RefitRow) -> String {
    let mut parts = Vec::new();
    if let Some(tau2) = r.tau2 {
        parts.push(format!("tau^2 = {}", fmt_num(tau2, 4)));
    }
    if let Some(sigma2) = &r.sigma2 {
        for (l, s) in sigma2.iter().enumerate() {
            parts.push(format!("sigma^2.{} = {}", l + 1, fmt_num(*s, 4)));
        }
    }
    if let Some(i2) = r.i2 {
        parts.push(format!("I^2 = {}%", fmt_num(i2, 2)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}

/// The refits' estimates back-transformed (OR, RR, r, proportion).
fn back_transformed_refits<'a>(
    first: &str,
    rows: impl Iterator<Item = (&'a str, &'a RefitRow)>,
    measure: crate::Measure,
) -> String {
    back_transformed_table(
        measure,
        "Back-transformed",
        first,
        rows.map(|(label, r)| {
            let e = &r.estimate;
            (label, e.value, e.ci_lower, e.ci_upper)
        }),
    )
}

fn significant(r: &RefitRow) -> bool {
    r.estimate.p < 0.05
}

/// The text report of a leave-one-out analysis.
pub fn leave_one_out_report(r: &LeaveOneOut) -> String {
    let mut out = heading(&r.title, "Leave-one-out analysis", r.k, &r.settings);
    out.push_str(&leave_one_out_body(
        "study",
        &r.overall,
        &r.studies,
        r.settings.level,
        r.settings.measure,
        &r.warnings,
    ));
    out
}

/// The text report of a Mantel-Haenszel or Peto leave-one-out analysis.
pub fn tables_leave_one_out_report(r: &TablesLeaveOneOut) -> String {
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    out.push_str(&format!(
        "Leave-one-out analysis (k = {}; method: {}; test: z; measure: {})\n\n",
        r.k,
        r.settings.method.name(),
        r.settings.measure
    ));
    out.push_str(&leave_one_out_body(
        "study",
        &r.overall,
        &r.studies,
        r.settings.level,
        r.settings.measure,
        &r.warnings,
    ));
    out
}

/// The overall line, the table and the summary sentence of a leave-one-out analysis.
pub(crate) fn leave_one_out_body(
    unit: &str,
    all: &RefitRow,
    studies: &[RefitRow],
    level: f64,
    measure: crate::Measure,
    notes: &[crate::Warning],
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "All studies: estimate {} ({}% CI: {}, {}), p {}{}\n\n",
        fmt_num(all.estimate.value, 4),
        fmt_num(level, 0),
        fmt_num(all.estimate.ci_lower, 4),
        fmt_num(all.estimate.ci_upper, 4),
        p_phrase(all.estimate.p),
        heterogeneity_phrase(all)
    ));
    let first = format!("omitted {unit}");
    out.push_str(&refit_table(&first, studies));
    out.push_str(&back_transformed_refits(
        &first,
        std::iter::once(("(none)", all)).chain(studies.iter().map(|row| (row.study.as_str(), row))),
        measure,
    ));
    let shift = |row: &RefitRow| (row.estimate.value - all.estimate.value).abs();
    if let Some(biggest) = studies
        .iter()
        .filter(|row| row.estimate.value.is_finite())
        .max_by(|a, b| shift(a).total_cmp(&shift(b)))
    {
        let flips: Vec<&str> = studies
            .iter()
            .filter(|row| row.estimate.p.is_finite() && significant(row) != significant(all))
            .map(|row| row.study.as_str())
            .collect();
        let flip_text = if flips.is_empty() {
            "no single omission changes whether the estimate is significant at the 5% level"
                .to_owned()
        } else {
            format!(
                "leaving out {} changes whether it is significant at the 5% level",
                quoted_list(&flips)
            )
        };
        out.push_str(&format!(
            "\nLeaving out '{}' moves the estimate most (from {} to {}) and {flip_text}; this shows how much the result rests on single studies, not whether those studies are wrong.\n",
            biggest.study,
            fmt_num(all.estimate.value, 4),
            fmt_num(biggest.estimate.value, 4)
        ));
    }
    out.push_str(&warnings(notes));
    out
}

/// The text report of a cumulative meta-analysis.
pub fn cumulative_report(r: &Cumulative) -> String {
    let mut out = heading(&r.title, &cumulative_what(&r.order), r.k, &r.settings);
    out.push_str(&cumulative_body(
        "study",
        &r.studies,
        r.settings.measure,
        &r.warnings,
    ));
    out
}

/// "Cumulative meta-analysis, ordered by year" (or in file order).
pub(crate) fn cumulative_what(order: &Option<String>) -> String {
    match order {
        Some(order) => format!("Cumulative meta-analysis, ordered by {order}"),
        None => "Cumulative meta-analysis, in file order".to_owned(),
    }
}

/// The table, the back-transformed table and the summary sentence of a
/// cumulative analysis.
pub(crate) fn cumulative_body(
    unit: &str,
    studies: &[RefitRow],
    measure: crate::Measure,
    notes: &[crate::Warning],
) -> String {
    let mut out = String::new();
    let first = format!("added {unit}");
    out.push_str(&refit_table(&first, studies));
    out.push_str(&back_transformed_refits(
        &first,
        studies.iter().map(|row| (row.study.as_str(), row)),
        measure,
    ));
    let first_significant = studies.iter().position(significant).map(|i| &studies[i]);
    let sentence = match (first_significant, studies.last()) {
        (Some(first), Some(last)) => format!(
            "The pooled estimate first reached significance at the 5% level when '{}' was added (k = {}) and ends at {}; a cumulative analysis shows how the evidence accrued, but repeatedly testing as studies arrive inflates the chance of a false positive.",
            first.study,
            first.k,
            fmt_num(last.estimate.value, 4)
        ),
        _ => "The pooled estimate never reached significance at the 5% level; a cumulative analysis shows how the evidence accrued, not whether more studies would change it.".to_owned(),
    };
    out.push_str(&format!("\n{sentence}\n"));
    out.push_str(&warnings(notes));
    out
}

/// The text report of a leave-one-out or cumulative analysis of any model.
pub fn refits_report(r: &crate::sensitivity::refits::Refits) -> String {
    use crate::sensitivity::refits::RefitKind;
    let mut out = String::new();
    if let Some(title) = &r.title {
        out.push_str(&format!("{title}\n\n"));
    }
    let what = match (r.analysis, &r.cluster) {
        (RefitKind::LeaveOneOut, None) => "Leave-one-out analysis".to_owned(),
        (RefitKind::LeaveOneOut, Some(c)) => {
            format!("Leave-one-out analysis, one cluster of {c} at a time")
        }
        (RefitKind::Cumulative, cluster) => {
            let mut what = cumulative_what(&r.order);
            if let Some(c) = cluster {
                what.push_str(&format!(", whole clusters of {c}"));
            }
            what
        }
    };
    out.push_str(&format!(
        "{what} (k = {}; {}; measure: {})\n\n",
        r.k,
        r.model,
        r.measure.label()
    ));
    if !r.sigma2_names.is_empty() {
        let levels: Vec<String> = r
            .sigma2_names
            .iter()
            .enumerate()
            .map(|(l, name)| format!("sigma^2.{}: {name}", l + 1))
            .collect();
        out.push_str(&format!("Variance components: {}\n\n", levels.join(", ")));
    }
    match (r.analysis, &r.overall) {
        (RefitKind::LeaveOneOut, Some(all)) => out.push_str(&leave_one_out_body(
            r.unit(),
            all,
            &r.studies,
            r.level,
            r.measure,
            &r.warnings,
        )),
        _ => out.push_str(&cumulative_body(
            r.unit(),
            &r.studies,
            r.measure,
            &r.warnings,
        )),
    }
    out
}

/// The text report of the influence diagnostics. With one coefficient its
/// DFBETAS is a column of the table; with several they follow in a table of
/// their own, as metafor prints them.
pub fn influence_report(r: &Influence) -> String {
    let mut out = heading(&r.title, "Influence diagnostics", r.k, &r.settings);
    if r.coefficients.len() > 1 || r.coefficients.first().is_some_and(|c| c != INTERCEPT) {
        out.push_str(&format!(
            "Meta-regression coefficients: {}\n\n",
            r.coefficients.join(", ")
        ));
    }
    let one = r.p == 1;
    let cells: Vec<Vec<String>> = r
        .studies
        .iter()
        .map(|s| {
            let mut row = vec![
                s.study.clone(),
                fmt_num(s.rstudent, 4),
                fmt_num(s.dffits, 4),
                fmt_num(s.cooks_distance, 4),
                fmt_num(s.cov_ratio, 4),
                fmt_num(s.tau2_deleted, 4),
                fmt_num(s.qe_deleted, 4),
                fmt_num(s.hat, 4),
                format!("{}%", fmt_num(s.weight, 2)),
            ];
            if one {
                row.extend(s.dfbetas.values.iter().map(|b| fmt_num(*b, 4)));
            }
            row.push(if s.influential { "*" } else { "" }.to_owned());
            row
        })
        .collect();
    let mut header = vec![
        "study", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight",
    ];
    if one {
        header.push("dfbs");
    }
    header.push("inf");
    out.push_str(&table(&header, &cells));
    if !one {
        let cells: Vec<Vec<String>> = r
            .studies
            .iter()
            .map(|s| {
                std::iter::once(s.study.clone())
                    .chain(s.dfbetas.values.iter().map(|b| fmt_num(*b, 4)))
                    .collect()
            })
            .collect();
        let header: Vec<&str> = std::iter::once("study")
            .chain(r.coefficients.iter().map(String::as_str))
            .collect();
        out.push_str("\nDFBETAS\n\n");
        out.push_str(&table(&header, &cells));
    }
    out.push_str(&format!("\n* {}\n", r.rule));
    if let Some(residuals) = &r.residuals {
        let cells: Vec<Vec<String>> = residuals
            .iter()
            .map(|e| {
                vec![
                    e.study.clone(),
                    fmt_num(e.resid, 4),
                    fmt_num(e.se, 4),
                    fmt_num(e.z, 4),
                ]
            })
            .collect();
        out.push_str("\nStandardised residuals (metafor's rstandard)\n\n");
        out.push_str(&table(&["study", "resid", "se", "z"], &cells));
        let cells: Vec<Vec<String>> = r
            .studies
            .iter()
            .map(|s| {
                vec![
                    s.study.clone(),
                    fmt_num(s.rstudent_resid, 4),
                    fmt_num(s.rstudent_se, 4),
                    fmt_num(s.rstudent, 4),
                ]
            })
            .collect();
        out.push_str("\nStudentised deleted residuals (metafor's rstudent)\n\n");
        out.push_str(&table(&["study", "resid", "se", "z"], &cells));
    }
    let flagged: Vec<&str> = r
        .studies
        .iter()
        .filter(|s| s.influential)
        .map(|s| s.study.as_str())
        .collect();
    let sentence = if flagged.is_empty() {
        "No study is flagged as influential; the diagnostics only look at one study at a time, so a group of similar studies can still drive the result together.".to_owned()
    } else {
        format!(
            "{} flagged as influential ({}); such studies deserve a closer look (data errors, a different population or design), not automatic removal.",
            if flagged.len() == 1 {
                "One study is".to_owned()
            } else {
                format!("{} studies are", flagged.len())
            },
            quoted_list(&flagged)
        )
    };
    out.push_str(&format!("\n{sentence}\n"));
    out.push_str(&warnings(&r.warnings));
    out
}

/// The text listing of Baujat coordinates.
pub fn baujat_report(r: &Baujat) -> String {
    let mut out = heading(
        &r.title,
        "Baujat plot coordinates",
        r.studies.len(),
        &r.settings,
    );
    let cells: Vec<Vec<String>> = r
        .studies
        .iter()
        .map(|p| vec![p.study.clone(), fmt_num(p.x, 4), fmt_num(p.y, 4)])
        .collect();
    out.push_str(&table(
        &["study", "heterogeneity (x)", "influence (y)"],
        &cells,
    ));
    out.push_str("\nStudies at the top right add most to the heterogeneity and move the pooled result most; the plot points to studies worth checking but cannot say why they differ.\n");
    out
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn warnings(list: &[crate::Warning]) -> String {
    list.iter().map(|w| format!("\nWarning: {w}\n")).collect()
}

fn csv_num(v: f64) -> String {
    if v.is_finite() {
        v.to_string()
    } else {
        String::new()
    }
}

/// CSV of a leave-one-out or cumulative table (empty cells for failed refits).
pub fn refit_csv(rows: &[RefitRow]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "study",
        "k",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "statistic",
        "p",
    ]
    .map(str::to_owned)
    .to_vec();
    let has_df = rows.iter().any(|r| r.df.is_some());
    let has_tau2 = rows.iter().any(|r| r.tau2.is_some());
    let has_i2 = rows.iter().any(|r| r.i2.is_some());
    let sigma2 = rows
        .iter()
        .filter_map(|r| r.sigma2.as_ref().map(Vec::len))
        .max()
        .unwrap_or(0);
    if has_df {
        header.push("df".into());
    }
    if has_tau2 {
        header.push("tau2".into());
    }
    header.extend((1..=sigma2).map(|l| format!("sigma2_{l}")));
    if has_i2 {
        header.extend(["I2".to_owned(), "H2".to_owned()]);
    }
    header.extend(["QE".to_owned(), "QE_p".to_owned()]);
    writer.write_record(&header)?;
    for r in rows {
        let mut record = vec![r.study.clone(), r.k.to_string()];
        let mut numbers = vec![
            r.estimate.value,
            r.estimate.se,
            r.estimate.ci_lower,
            r.estimate.ci_upper,
            r.estimate.statistic,
            r.estimate.p,
        ];
        if has_df {
            numbers.push(r.df.unwrap_or(f64::NAN));
        }
        if has_tau2 {
            numbers.push(r.tau2.unwrap_or(f64::NAN));
        }
        for l in 0..sigma2 {
            let value = r.sigma2.as_ref().and_then(|s| s.get(l).copied());
            numbers.push(value.unwrap_or(f64::NAN));
        }
        if has_i2 {
            numbers.extend([r.i2.unwrap_or(f64::NAN), r.h2.unwrap_or(f64::NAN)]);
        }
        numbers.extend([r.q, r.q_p]);
        record.extend(numbers.into_iter().map(csv_num));
        writer.write_record(record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// CSV of the influence diagnostics: one row per study, DFBETAS as
/// `dfbetas_<coefficient>`, and with `--residuals` the standardised
/// residual as `resid`, `resid_se` and `resid_z`.
pub fn influence_csv(r: &Influence) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "study",
        "rstudent",
        "dffits",
        "cooks_distance",
        "cov_ratio",
        "tau2_deleted",
        "QE_deleted",
        "hat",
        "weight",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(r.coefficients.iter().map(|name| format!("dfbetas_{name}")));
    header.push("influential".into());
    if r.residuals.is_some() {
        header.extend(["resid", "resid_se", "resid_z"].map(str::to_owned));
    }
    writer.write_record(&header)?;
    for (i, s) in r.studies.iter().enumerate() {
        let mut record = vec![s.study.clone()];
        record.extend(
            [
                s.rstudent,
                s.dffits,
                s.cooks_distance,
                s.cov_ratio,
                s.tau2_deleted,
                s.qe_deleted,
                s.hat,
                s.weight,
            ]
            .map(csv_num),
        );
        record.extend(s.dfbetas.values.iter().map(|b| csv_num(*b)));
        record.push(s.influential.to_string());
        if let Some(e) = r.residuals.as_ref().and_then(|all| all.get(i)) {
            record.extend([e.resid, e.se, e.z].map(csv_num));
        }
        writer.write_record(record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
