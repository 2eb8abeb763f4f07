//! Reports of the leave-one-out analysis of a moderator test
//! ([`crate::sensitivity::moderator_test`]): text and CSV.

use super::text::p_phrase;
use super::{fmt_num, fmt_p, table};
use crate::sensitivity::moderator_test::ModeratorLeaveOneOut;

/// The text report: the test with every study, then without each.
pub fn text(r: &ModeratorLeaveOneOut) -> String {
    let what = match r.statistic {
        "Q_between" => format!(
            "test of subgroup differences by '{}'",
            r.moderators.join(", ")
        ),
        _ => format!(
            "omnibus test of the moderators {}",
            r.moderators
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut out = format!("Leave-one-out: the {what}, without each study in turn\n\n");
    out.push_str(&format!(
        "All {} studies: {}(df = {}) = {}, p-val {}\n\n",
        r.studies.len(),
        r.statistic,
        r.all.df,
        fmt_num(r.all.statistic, 4),
        p_phrase(r.all.p)
    ));
    let rows: Vec<Vec<String>> = r
        .studies
        .iter()
        .map(|row| match &row.test {
            Some(t) => vec![
                row.study.clone(),
                fmt_num(t.statistic, 4),
                t.df.to_string(),
                fmt_p(t.p),
            ],
            None => vec![row.study.clone(), "NA".into(), "NA".into(), "NA".into()],
        })
        .collect();
    out.push_str(&table(&["without", r.statistic, "df", "pval"], &rows));
    let level = 0.05;
    let flips: Vec<&str> = r
        .studies
        .iter()
        .filter(|row| row.test.is_some_and(|t| (t.p < level) != (r.all.p < level)))
        .map(|row| row.study.as_str())
        .collect();
    out.push('\n');
    if flips.is_empty() {
        out.push_str("Leaving out any one study does not move p across 0.05.\n");
    } else {
        out.push_str(&format!(
            "Leaving out one of these studies moves p across 0.05: {}\n",
            flips
                .iter()
                .map(|s| format!("'{s}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

/// One row per study left out: study, statistic, df, p (empty when the refit failed).
pub fn csv(r: &ModeratorLeaveOneOut) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["without", "statistic", "df", "p"])?;
    for row in &r.studies {
        match &row.test {
            Some(t) => writer.write_record([
                row.study.clone(),
                t.statistic.to_string(),
                t.df.to_string(),
                t.p.to_string(),
            ])?,
            None => writer.write_record([row.study.as_str(), "", "", ""])?,
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
