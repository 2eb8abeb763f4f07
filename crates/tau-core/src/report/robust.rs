//! The text view of robust inference: a "Robust inference (CR2, clusters: n)"
//! block with the coefficient table (estimate, SE, t, df, p, CI) and the test
//! of the moderators, laid out like metafor's `print.robust.rma`.

use super::text::{p_phrase, stars};
use super::{fmt_num, fmt_p, table};
use crate::robust::{RobustResult, SmallSample};

/// The robust block of a text report.
pub fn text(r: &RobustResult) -> String {
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
            SmallSample::Satterthwaite => "HTZ test of moderators",
            SmallSample::None => "Test of moderators",
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
