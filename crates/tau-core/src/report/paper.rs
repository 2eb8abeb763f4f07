//! Tables for a paper: what the Markdown ([`super::markdown`]) and LaTeX
//! ([`super::latex`]) views print, built once per result so that both
//! formats show the same rounded numbers.
//!
//! Numbers are rounded to `digits` decimals (`--digits`, default
//! [`DEFAULT_DIGITS`]); p-values are written as journals print them
//! (".034", "< .001"); estimates as `estimate [CI]`, back-transformed to
//! OR, RR, r or a proportion where the measure has a natural scale (as
//! `pool` reports them). CSV and JSON keep full precision.

use crate::bias::BiasResult;
use crate::data::dataset::{Dataset, Study};
use crate::effect_size::measure::Measure;
use crate::effect_size::scale::Scale;
use crate::estimate::Estimate;
use crate::fields::FORMAT;
use crate::model::Method;
use crate::multilevel::{MultilevelResult, MultilevelSubgroups, Test as MultilevelTest};
use crate::pool::PoolResult;
use crate::regression::RegressionResult;
use crate::report::PoolReport;
use crate::sensitivity::RefitRow;
use crate::sensitivity::baujat::Baujat;
use crate::sensitivity::cumulative::Cumulative;
use crate::sensitivity::influence::Influence;
use crate::sensitivity::leave_one_out::LeaveOneOut;
use crate::simulate::SimulationResult;
use crate::subgroup::{SubgroupResult, Tau2Mode};

mod glmm;

/// Decimals of a paper table unless `--digits` says otherwise.
pub const DEFAULT_DIGITS: usize = 2;

/// A table for a paper: a caption, a header, rows (the first column holds
/// labels, the others numbers) and notes below it.
#[derive(Debug, Clone, PartialEq)]
pub struct PaperTable {
    /// What the table shows.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// The rows, as many cells as the header has names.
    pub rows: Vec<Vec<String>>,
    /// Rows from this index on summarise the ones above (pooled rows):
    /// set off by a rule (LaTeX) or in bold (Markdown).
    pub summary_from: usize,
    /// Sentences printed under the table (heterogeneity, tests).
    pub notes: Vec<String>,
}

/// A result that has a table for a paper.
pub trait PaperView {
    /// The table with numbers rounded to `digits` decimals; a result without
    /// one says which formats it has.
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String>;
}

/// A p-value as journals print it: "< .001", else three decimals without
/// the leading zero (".034"); "NA" when missing.
pub fn paper_p(p: f64) -> String {
    if p.is_nan() {
        "NA".into()
    } else if p < 0.001 {
        "< .001".into()
    } else {
        let text = fmt_num(p, 3);
        text.strip_prefix('0').map(str::to_owned).unwrap_or(text)
    }
}

/// "p = .034" or "p < .001".
pub(super) fn p_is(p: f64) -> String {
    let text = paper_p(p);
    if text.starts_with('<') {
        format!("p {text}")
    } else {
        format!("p = {text}")
    }
}

/// "0.45 [0.12, 0.78]", shown on the scale `to` (back-transformed).
fn estimate_ci(value: f64, lower: f64, upper: f64, digits: usize, to: Scale) -> String {
    let f = |x: f64| fmt_num(to.to_display(x), digits);
    format!("{} [{}, {}]", f(value), f(lower), f(upper))
}

/// The estimate column's name on `scale`: "RR [95% CI]", "SMD [95% CI]".
fn estimate_header(measure: Measure, scale: Scale, level: f64) -> String {
    let name = match measure.shown_as() {
        Some(name) if !scale.is_linear() => name,
        _ if measure == Measure::GEN => "Estimate",
        _ => measure.name(),
    };
    format!("{name} [{}% CI]", fmt_num(level, 0))
}

/// What the numbers are, shown on `scale`, for the notes.
fn measure_note(measure: Measure, scale: Scale) -> String {
    match measure.shown_as().filter(|_| !scale.is_linear()) {
        Some(scale) => format!(
            "Effect measure: {}; estimates and CIs are shown as {scale} (back-transformed).",
            measure.label()
        ),
        None => format!("Effect measure: {}.", measure.label()),
    }
}

/// The study's sample size where the record gives it (n1 + n2, or n).
fn study_n(study: &Study) -> Option<f64> {
    let raw = study.raw.as_deref()?;
    match (raw.n1, raw.n2, raw.n) {
        (Some(n1), Some(n2), _) => Some(n1 + n2),
        (_, _, Some(n)) => Some(n),
        _ => None,
    }
}

/// "z = -5.60, p < .001" or "t(12) = -5.60, p < .001".
fn test_phrase(e: &Estimate, df: Option<f64>, digits: usize) -> String {
    let stat = match df {
        Some(df) => format!("t({})", fmt_num(df, 0)),
        None => "z".to_owned(),
    };
    format!("{stat} = {}, {}", fmt_num(e.statistic, digits), p_is(e.p))
}

fn model_name(method: Method) -> String {
    if method == Method::EE {
        "Common-effect model".to_owned()
    } else {
        format!("Random-effects model ({})", method.name())
    }
}

/// The heterogeneity sentence: "τ² = 0.31, I² = 92.2%, Q(12) = 152.23, p < .001".
fn heterogeneity(tau2: Option<f64>, i2: f64, q: f64, df: usize, digits: usize) -> String {
    let mut parts = Vec::new();
    if let Some(tau2) = tau2 {
        parts.push(format!("τ² = {}", fmt_num(tau2, digits.max(2))));
    }
    parts.push(format!("I² = {}%", fmt_num(i2, 1)));
    parts.push(format!("Q({df}) = {}", fmt_num(q, digits)));
    parts.join(", ")
}

impl PaperView for PoolReport<'_> {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(pool_table(self.result, self.data, digits))
    }
}

fn pool_table(r: &PoolResult, data: &Dataset, digits: usize) -> PaperTable {
    let s = &r.settings;
    let to = data.scale();
    let n: Vec<Option<f64>> = data.studies.iter().map(study_n).collect();
    let with_n = n.iter().any(Option::is_some);
    let mut header = vec!["Study".to_owned()];
    if with_n {
        header.push("n".into());
    }
    header.extend([estimate_header(s.measure, to, s.level), "Weight (%)".into()]);
    let mut rows = Vec::with_capacity(r.weights.len() + 2);
    for (row, n) in r.rows(data).zip(&n) {
        let mut cells = vec![row.study.to_owned()];
        if with_n {
            cells.push(n.map_or_else(String::new, |n| fmt_num(n, 0)));
        }
        cells.push(estimate_ci(row.yi, row.ci_lower, row.ci_upper, digits, to));
        cells.push(fmt_num(row.weight, 1));
        rows.push(cells);
    }
    let summary_from = rows.len();
    let e = &r.estimate;
    let mut pooled = vec![model_name(s.method)];
    if with_n {
        let total: f64 = n.iter().flatten().sum();
        let all = n.iter().all(Option::is_some);
        pooled.push(if all {
            fmt_num(total, 0)
        } else {
            String::new()
        });
    }
    pooled.push(estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, to));
    pooled.push(fmt_num(100.0, 1));
    rows.push(pooled);
    if s.method != Method::EE {
        let f = |x: f64| fmt_num(to.to_display(x), digits);
        let mut pi = vec!["Prediction interval".to_owned()];
        if with_n {
            pi.push(String::new());
        }
        pi.push(format!("[{}, {}]", f(r.pi_lower), f(r.pi_upper)));
        pi.push(String::new());
        rows.push(pi);
    }
    let tau2 = (s.method != Method::EE).then_some(r.tau2);
    let notes = vec![
        format!(
            "Heterogeneity: {}, {}.",
            heterogeneity(tau2, r.i2, r.q, r.q_df, digits),
            p_is(r.q_p)
        ),
        format!("Test for overall effect: {}.", test_phrase(e, r.df, digits)),
        measure_note(s.measure, to),
    ];
    PaperTable {
        caption: caption(
            &r.title,
            format!(
                "{} meta-analysis of {} {}",
                if s.method == Method::EE {
                    "Common-effect"
                } else {
                    "Random-effects"
                },
                r.k,
                crate::warning::studies(r.k)
            ),
        ),
        header,
        rows,
        summary_from,
        notes,
    }
}

impl PaperView for SubgroupResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let s = &self.settings;
        let to = s.measure.scale();
        let header = vec![
            "Subgroup".to_owned(),
            "k".into(),
            estimate_header(s.measure, s.measure.scale(), s.level),
            "p".into(),
            "τ²".into(),
            "I² (%)".into(),
        ];
        let rows = self
            .groups
            .iter()
            .map(|g| {
                let e = &g.estimate;
                vec![
                    g.level.clone(),
                    g.k.to_string(),
                    estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, to),
                    paper_p(e.p),
                    g.tau2
                        .map_or_else(|| "–".into(), |t| fmt_num(t, digits.max(2))),
                    g.i2.map_or_else(|| "–".into(), |i| fmt_num(i, 1)),
                ]
            })
            .collect::<Vec<_>>();
        let mut notes = Vec::new();
        if let (Some(q), Some(p)) = (self.q_between, self.q_between_p) {
            let stat = match self.q_between_df2 {
                Some(df2) => format!("F({}, {})", self.q_between_df, fmt_num(df2, 0)),
                None => format!("Q({})", self.q_between_df),
            };
            notes.push(format!(
                "Test for subgroup differences: {stat} = {}, {}.",
                fmt_num(q, digits),
                p_is(p)
            ));
        }
        if s.test.is_knapp_hartung() {
            notes.push("Subgroup p-values from Knapp-Hartung t tests.".into());
        }
        if s.tau2 == Tau2Mode::Common {
            notes.push("One τ² shared by all subgroups (mixed-effects model).".into());
        }
        notes.push(measure_note(s.measure, s.measure.scale()));
        Ok(PaperTable {
            caption: caption(
                &self.title,
                format!(
                    "Subgroups by '{}' ({} {}, {})",
                    s.by,
                    self.k,
                    crate::warning::studies(self.k),
                    model_name(s.method)
                ),
            ),
            summary_from: rows.len(),
            header,
            rows,
            notes,
        })
    }
}

impl PaperView for RegressionResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let s = &self.settings.model;
        let stat = if s.test.is_knapp_hartung() { "t" } else { "z" };
        let header = vec![
            "Term".to_owned(),
            format!("Estimate [{}% CI]", fmt_num(s.level, 0)),
            "SE".into(),
            stat.into(),
            "p".into(),
        ];
        let rows = self
            .coefficients
            .iter()
            .map(|c| {
                let e = &c.estimate;
                vec![
                    c.name.clone(),
                    estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, Scale::Linear),
                    fmt_num(e.se, digits),
                    fmt_num(e.statistic, digits),
                    paper_p(c.p_permutation.unwrap_or(e.p)),
                ]
            })
            .collect::<Vec<_>>();
        let qm = match self.qm_df2 {
            Some(df2) => format!("F({}, {})", self.qm_df, fmt_num(df2, 0)),
            None => format!("QM({})", self.qm_df),
        };
        let mut notes = vec![format!(
            "Test of moderators: {qm} = {}, {}.",
            fmt_num(self.qm, digits),
            p_is(self.qm_p)
        )];
        let tau2 = (s.method != Method::EE).then_some(self.tau2);
        let mut residual = format!(
            "Residual heterogeneity: {}, {}",
            heterogeneity(tau2, self.i2, self.qe, self.qe_df, digits),
            p_is(self.qe_p)
        );
        if let Some(r2) = self.r2 {
            residual.push_str(&format!("; R² = {}%", fmt_num(r2, 1)));
        }
        notes.push(residual + ".");
        if self.permutation.is_some() {
            notes.push("p-values from a permutation test.".into());
        }
        notes.push(format!(
            "Coefficients on the scale of the {}.",
            s.measure.label()
        ));
        Ok(PaperTable {
            caption: caption(
                &self.title,
                format!(
                    "Meta-regression on {} ({} {}, {})",
                    self.settings.moderators.join(", "),
                    self.k,
                    crate::warning::studies(self.k),
                    model_name(s.method)
                ),
            ),
            summary_from: rows.len(),
            header,
            rows,
            notes,
        })
    }
}

impl PaperView for MultilevelResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let s = &self.settings;
        let stat = if s.test == MultilevelTest::T {
            "t"
        } else {
            "z"
        };
        let rows: Vec<Vec<String>> = match (&self.summary, &self.coefficients) {
            (Some(e), _) => {
                let to = s.measure.scale();
                vec![vec![
                    "Pooled estimate".to_owned(),
                    estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, to),
                    fmt_num(e.se, digits),
                    fmt_num(e.statistic, digits),
                    paper_p(e.p),
                ]]
            }
            (None, coefficients) => coefficients
                .iter()
                .flatten()
                .map(|c| {
                    let e = &c.estimate;
                    vec![
                        c.name.clone(),
                        estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, Scale::Linear),
                        fmt_num(e.se, digits),
                        fmt_num(e.statistic, digits),
                        paper_p(e.p),
                    ]
                })
                .collect(),
        };
        let estimate = if self.summary.is_some() {
            estimate_header(s.measure, s.measure.scale(), s.level)
        } else {
            format!("Estimate [{}% CI]", fmt_num(s.level, 0))
        };
        let header = vec![
            "Term".to_owned(),
            estimate,
            "SE".into(),
            stat.into(),
            "p".into(),
        ];
        let mut notes = Vec::new();
        if let (Some(qm), Some(df), Some(p)) = (self.qm, self.qm_df, self.qm_p) {
            let stat = match self.qm_df2 {
                Some(df2) => format!("F({df}, {})", fmt_num(df2, 0)),
                None => format!("QM({df})"),
            };
            notes.push(format!(
                "Test of moderators: {stat} = {}, {}.",
                fmt_num(qm, digits),
                p_is(p)
            ));
        }
        if let (Some(lower), Some(upper)) = (self.pi_lower, self.pi_upper) {
            let to = s.measure.scale();
            let f = |x: f64| fmt_num(to.to_display(x), digits);
            notes.push(format!(
                "{}% prediction interval: [{}, {}].",
                fmt_num(s.level, 0),
                f(lower),
                f(upper)
            ));
        }
        notes.extend(variance_notes(self, digits));
        if self.summary.is_some() {
            notes.push(measure_note(s.measure, s.measure.scale()));
        } else {
            notes.push(format!(
                "Coefficients on the scale of the {}.",
                s.measure.label()
            ));
        }
        Ok(PaperTable {
            caption: caption(&self.title, multilevel_caption(self)),
            summary_from: rows.len(),
            header,
            rows,
            notes,
        })
    }
}

impl PaperView for MultilevelSubgroups {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let m = &self.model;
        let s = &m.settings;
        let to = s.measure.scale();
        let header = vec![
            "Subgroup".to_owned(),
            "k".into(),
            estimate_header(s.measure, s.measure.scale(), s.level),
            "p".into(),
        ];
        let rows: Vec<Vec<String>> = self
            .groups
            .iter()
            .map(|g| {
                let e = &g.estimate;
                vec![
                    g.level.clone(),
                    g.k.to_string(),
                    estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, to),
                    paper_p(e.p),
                ]
            })
            .collect();
        let stat = match self.q_between_df2 {
            Some(df2) => format!("F({}, {})", self.q_between_df, fmt_num(df2, 0)),
            None => format!("Q({})", self.q_between_df),
        };
        let mut notes = vec![format!(
            "Test for subgroup differences: {stat} = {}, {}.",
            fmt_num(self.q_between, digits),
            p_is(self.q_between_p)
        )];
        notes.push("Variance components shared by all subgroups.".into());
        notes.extend(variance_notes(m, digits));
        notes.push(measure_note(s.measure, s.measure.scale()));
        Ok(PaperTable {
            caption: caption(
                &m.title,
                format!("Subgroups by '{}' in a {}", self.by, multilevel_caption(m)),
            ),
            summary_from: rows.len(),
            header,
            rows,
            notes,
        })
    }
}

/// "Multilevel model (random = study/es_id; k = 66; REML)".
fn multilevel_caption(r: &MultilevelResult) -> String {
    format!(
        "Multilevel model (random = {}; k = {}; {})",
        r.settings.random.join("/"),
        r.k,
        r.settings.method.name()
    )
}

/// The variance components with their CIs and I², and the heterogeneity test.
fn variance_notes(r: &MultilevelResult, digits: usize) -> Vec<String> {
    let d = digits.max(2);
    let parts: Vec<String> = (0..r.sigma2.len())
        .map(|l| {
            let ci = match r.sigma2_ci.as_ref().map(|c| c[l]) {
                Some([Some(lower), upper]) => format!(
                    " [{}, {}]",
                    fmt_num(lower, d),
                    upper.map_or_else(|| "NA".into(), |u| fmt_num(u, d))
                ),
                _ => String::new(),
            };
            format!(
                "σ²({}) = {}{ci}, I² = {}%",
                r.sigma2_names[l],
                fmt_num(r.sigma2[l], d),
                fmt_num(r.i2_levels[l], 1)
            )
        })
        .collect();
    let q = if r.coefficients.is_some() { "QE" } else { "Q" };
    vec![
        format!(
            "Variance components{}: {}; total I² = {}%.",
            if r.sigma2_ci.is_some() {
                " (profile-likelihood CIs)"
            } else {
                ""
            },
            parts.join("; "),
            fmt_num(r.i2_total, 1)
        ),
        format!(
            "{q}({}) = {}, {}.",
            r.qe_df,
            fmt_num(r.qe, digits),
            p_is(r.qe_p)
        ),
    ]
}

impl PaperView for BiasResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(super::bias_paper::paper(self, digits))
    }
}

/// The table of refitted models (leave-one-out, cumulative).
pub(crate) fn refit_table(
    caption: String,
    first: &str,
    rows_in: &[RefitRow],
    overall: Option<&RefitRow>,
    (measure, level): (Measure, f64),
    digits: usize,
) -> PaperTable {
    let to = measure.scale();
    let all = rows_in.iter().chain(overall);
    let has_tau2 = all.clone().any(|r| r.tau2.is_some());
    let has_i2 = all.clone().any(|r| r.i2.is_some());
    let sigma2 = all
        .filter_map(|r| r.sigma2.as_ref().map(Vec::len))
        .max()
        .unwrap_or(0);
    let row = |r: &RefitRow| {
        let e = &r.estimate;
        let mut cells = vec![
            r.study.clone(),
            r.k.to_string(),
            estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, to),
            paper_p(e.p),
        ];
        if has_tau2 {
            cells.push(fmt_num(r.tau2.unwrap_or(f64::NAN), digits.max(2)));
        }
        for l in 0..sigma2 {
            let value = r.sigma2.as_ref().and_then(|s| s.get(l).copied());
            cells.push(fmt_num(value.unwrap_or(f64::NAN), digits.max(2)));
        }
        if has_i2 {
            cells.push(fmt_num(r.i2.unwrap_or(f64::NAN), 1));
        }
        cells
    };
    let mut rows: Vec<Vec<String>> = rows_in.iter().map(row).collect();
    let summary_from = rows.len();
    if let Some(o) = overall {
        let mut cells = row(o);
        cells[0] = "All studies".into();
        rows.push(cells);
    }
    PaperTable {
        caption,
        header: {
            let mut header = vec![
                first.to_owned(),
                "k".into(),
                estimate_header(measure, measure.scale(), level),
                "p".into(),
            ];
            if has_tau2 {
                header.push("τ²".into());
            }
            header.extend((1..=sigma2).map(|l| format!("σ²({l})")));
            if has_i2 {
                header.push("I² (%)".into());
            }
            header
        },
        rows,
        summary_from,
        notes: vec![measure_note(measure, measure.scale())],
    }
}

impl PaperView for LeaveOneOut {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(refit_table(
            caption(&self.title, "Leave-one-out analysis".into()),
            "Study left out",
            &self.studies,
            Some(&self.overall),
            (self.settings.measure, self.settings.level),
            digits,
        ))
    }
}

impl PaperView for Cumulative {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(refit_table(
            caption(&self.title, "Cumulative meta-analysis".into()),
            "Study added",
            &self.studies,
            None,
            (self.settings.measure, self.settings.level),
            digits,
        ))
    }
}

impl PaperView for crate::sensitivity::leave_one_out::TablesLeaveOneOut {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(refit_table(
            caption(
                &self.title,
                format!(
                    "Leave-one-out analysis ({} method)",
                    tables_method_name(self.settings.method)
                ),
            ),
            "Study left out",
            &self.studies,
            Some(&self.overall),
            (self.settings.measure, self.settings.level),
            digits,
        ))
    }
}

impl PaperView for crate::sensitivity::refits::Refits {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        use crate::sensitivity::refits::RefitKind;
        let unit = match &self.cluster {
            Some(c) => c.clone(),
            None => "Study".to_owned(),
        };
        let (what, first) = match self.analysis {
            RefitKind::LeaveOneOut => ("Leave-one-out analysis", format!("{unit} left out")),
            RefitKind::Cumulative => ("Cumulative meta-analysis", format!("{unit} added")),
        };
        let mut table = refit_table(
            caption(&self.title, format!("{what} ({})", self.model)),
            &first,
            &self.studies,
            self.overall.as_ref(),
            (self.measure, self.level),
            digits,
        );
        if !self.sigma2_names.is_empty() {
            let levels: Vec<String> = self
                .sigma2_names
                .iter()
                .enumerate()
                .map(|(l, name)| format!("σ²({}): {name}", l + 1))
                .collect();
            table
                .notes
                .insert(0, format!("Variance components: {}.", levels.join(", ")));
        }
        Ok(table)
    }
}

/// "Mantel-Haenszel" or "Peto", as captions name the methods.
fn tables_method_name(method: crate::TablesMethod) -> &'static str {
    match method {
        crate::TablesMethod::MH => "Mantel-Haenszel",
        crate::TablesMethod::PETO => "Peto",
    }
}

/// The RevMan-style table of a Mantel-Haenszel or Peto analysis: each
/// study's estimate and weight, then the pooled row.
impl PaperView for crate::TablesResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let s = &self.settings;
        let to = s.measure.scale();
        let mut rows: Vec<Vec<String>> = self
            .studies
            .iter()
            .map(|row| {
                vec![
                    row.study.clone(),
                    estimate_ci(row.yi, row.ci_lower, row.ci_upper, digits, to),
                    fmt_num(row.weight, 1),
                ]
            })
            .collect();
        let summary_from = rows.len();
        let e = &self.estimate;
        let method = tables_method_name(s.method);
        rows.push(vec![
            format!("Common-effect model ({method})"),
            estimate_ci(e.value, e.ci_lower, e.ci_upper, digits, to),
            fmt_num(100.0, 1),
        ]);
        let mut notes = vec![
            format!(
                "Heterogeneity: {}, {}.",
                heterogeneity(None, self.i2, self.q, self.q_df, digits),
                p_is(self.q_p)
            ),
            format!("Test for overall effect: {}.", test_phrase(e, None, digits)),
        ];
        if let (Some(cmh), Some(cmh_p)) = (self.cmh, self.cmh_p) {
            notes.push(format!(
                "Cochran-Mantel-Haenszel test: χ²(1) = {}, {}.",
                fmt_num(cmh, digits),
                p_is(cmh_p)
            ));
        }
        notes.push(measure_note(s.measure, s.measure.scale()));
        Ok(PaperTable {
            caption: caption(
                &self.title,
                format!(
                    "{method} meta-analysis of {} {}",
                    self.k,
                    crate::warning::studies(self.k)
                ),
            ),
            header: vec![
                "Study".to_owned(),
                estimate_header(s.measure, s.measure.scale(), s.level),
                "Weight (%)".into(),
            ],
            rows,
            summary_from,
            notes,
        })
    }
}

/// A caption: what the table shows, after the data set's title if it has one.
fn caption(title: &Option<String>, what: String) -> String {
    match title {
        Some(title) => format!("{title}: {what}"),
        None => what,
    }
}

/// The answer of a result without a paper table.
fn no_table(what: &str) -> Result<PaperTable, String> {
    Err(format!(
        "{what} has no table for a paper: use {FORMAT} text, json or csv"
    ))
}

impl PaperView for crate::glmm::moderators::GlmmRegression {
    fn paper_table(&self, _digits: usize) -> Result<PaperTable, String> {
        no_table("a GLMM with moderators")
    }
}

impl PaperView for crate::location_scale::LocationScaleResult {
    fn paper_table(&self, _digits: usize) -> Result<PaperTable, String> {
        no_table("a location-scale model")
    }
}

impl PaperView for Influence {
    fn paper_table(&self, _digits: usize) -> Result<PaperTable, String> {
        no_table("an influence analysis")
    }
}

impl PaperView for Baujat {
    fn paper_table(&self, _digits: usize) -> Result<PaperTable, String> {
        no_table("a Baujat analysis")
    }
}

impl PaperView for SimulationResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(super::simulate::paper(self, digits))
    }
}

/// The test of the moderators with every study, then without each: the
/// statistic (Q_between or QM), its df and p.
impl PaperView for crate::sensitivity::moderator_test::ModeratorLeaveOneOut {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let (what, symbol) = match self.statistic {
            "Q_between" => (
                format!(
                    "test of subgroup differences by {}",
                    self.moderators.join(", ")
                ),
                "Q_between",
            ),
            _ => (
                format!("omnibus test of {}", self.moderators.join(", ")),
                "QM",
            ),
        };
        let cells =
            |label: String, test: Option<&crate::sensitivity::moderator_test::TestValue>| match test
            {
                Some(t) => vec![
                    label,
                    fmt_num(t.statistic, digits),
                    t.df.to_string(),
                    paper_p(t.p),
                ],
                None => vec![label, "–".into(), "–".into(), "–".into()],
            };
        let mut rows: Vec<Vec<String>> = self
            .studies
            .iter()
            .map(|row| cells(row.study.clone(), row.test.as_ref()))
            .collect();
        let summary_from = rows.len();
        rows.push(cells("All studies".into(), Some(&self.all)));
        Ok(PaperTable {
            caption: format!("Leave-one-out analysis of the {what}"),
            header: vec![
                "Study left out".into(),
                symbol.into(),
                "df".into(),
                "p".into(),
            ],
            rows,
            summary_from,
            notes: vec![
                "Each row: the test recomputed without that study (the model refitted).".into(),
            ],
        })
    }
}

impl PaperView for crate::regression::compare::Comparison {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(super::compare::paper(self, digits))
    }
}

impl PaperView for crate::bias::selection::SelectionModel {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(super::selection::paper(self, digits))
    }
}

/// The rows of robust coefficients: term, estimate [CI], SE, t(df), p.
fn robust_rows(
    coefficients: &[crate::robust::RobustCoefficient],
    digits: usize,
) -> Vec<Vec<String>> {
    coefficients
        .iter()
        .map(|c| {
            let df = c.df.map_or("NA".to_owned(), |df| fmt_num(df, 1));
            vec![
                c.name.clone(),
                estimate_ci(c.estimate, c.ci_lower, c.ci_upper, digits, Scale::Linear),
                fmt_num(c.se, digits),
                fmt_num(c.statistic, digits),
                df,
                paper_p(c.p),
            ]
        })
        .collect()
}

fn robust_header(level: f64) -> Vec<String> {
    vec![
        "Term".to_owned(),
        format!("Estimate [{}% CI]", fmt_num(level, 0)),
        "SE".into(),
        "t".into(),
        "df".into(),
        "p".into(),
    ]
}

/// How the robust inference was made, for the notes.
fn robust_note(info: &crate::robust::RobustInfo) -> String {
    let tests = match info.small_sample {
        crate::robust::SmallSample::Satterthwaite => {
            "Satterthwaite t tests and the HTZ F test (clubSandwich)"
        }
        crate::robust::SmallSample::None => "t and F tests on clusters − p df (metafor's robust())",
    };
    format!(
        "Cluster-robust ({}) standard errors, clustered by {} ({} clusters); {tests}.",
        info.estimator, info.cluster, info.clusters
    )
}

fn omnibus(qm: f64, df: usize, df2: Option<f64>, p: f64, digits: usize) -> String {
    let df2 = df2.map_or("NA".to_owned(), |d| fmt_num(d, 1));
    format!("F({df}, {df2}) = {}, {}", fmt_num(qm, digits), p_is(p))
}

impl PaperView for crate::robust::RhoSensitivity {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let mut rows = Vec::new();
        for fit in &self.fits {
            for mut row in robust_rows(&fit.coefficients, digits) {
                row.insert(0, fmt_num(fit.rho, 2));
                rows.push(row);
            }
        }
        let mut header = robust_header(self.robust.level);
        header.insert(0, "ρ".into());
        let mut notes = vec![robust_note(&self.robust)];
        for fit in &self.fits {
            let sigma2: Vec<String> = self
                .sigma2_names
                .iter()
                .zip(&fit.sigma2)
                .map(|(name, s)| format!("σ²({name}) = {}", fmt_num(*s, digits.max(2))))
                .collect();
            let mut note = format!("ρ = {}: {}", fmt_num(fit.rho, 2), sigma2.join(", "));
            if let (Some(qm), Some(df), Some(p)) = (fit.qm, fit.qm_df, fit.qm_p) {
                note.push_str(&format!(
                    "; test of moderators {}",
                    omnibus(qm, df, fit.qm_df2, p, digits)
                ));
            }
            notes.push(note + ".");
        }
        Ok(PaperTable {
            caption: caption(
                &self.title,
                format!(
                    "Sensitivity of the multilevel model ({}, {} effect sizes) to the assumed sampling correlation ρ",
                    self.method.name(),
                    self.k
                ),
            ),
            summary_from: rows.len(),
            header,
            rows,
            notes,
        })
    }
}

impl<M: PaperView + ?Sized> PaperView for crate::report::RobustReport<'_, M> {
    /// The model's own table is model-based; the paper table of a robust
    /// analysis is the robust one: the coefficients with their robust SEs,
    /// t tests and CIs, under the model's caption.
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let model = self.model.paper_table(digits).ok();
        let r = self.robust;
        let rows = robust_rows(&r.coefficients, digits);
        let mut notes = vec![robust_note(&r.robust)];
        if r.qm_df > 0 && r.coefficients.len() > 1 {
            notes.push(format!(
                "Robust test of the {}: {}.",
                self.tested,
                omnibus(r.qm, r.qm_df, r.qm_df2, r.qm_p, digits)
            ));
        }
        // The model block is the robust-consistent one: its prediction
        // interval (on the robust df) and variance components belong here.
        if let Some(m) = &model {
            notes.extend(
                m.notes
                    .iter()
                    .filter(|n| {
                        n.contains("% prediction interval") || n.starts_with("Variance components")
                    })
                    .cloned(),
            );
        }
        let what = model.as_ref().map_or_else(
            || "Cluster-robust inference".to_owned(),
            |m| format!("{}, with cluster-robust inference", m.caption),
        );
        Ok(PaperTable {
            caption: what,
            summary_from: rows.len(),
            header: robust_header(r.robust.level),
            rows,
            notes,
        })
    }
}

/// A number of a paper table: `digits` decimals in fixed notation, never
/// R's scientific notation (which the text reports use for tiny values); a
/// value that `digits` decimals would show as 0 gets the decimals of two
/// significant digits (0.0049, not 0.00 or 4.90e-03), down to 10⁻⁶, below
/// which it is shown as 0.
fn fmt_num(value: f64, digits: usize) -> String {
    if !value.is_finite() {
        return super::fmt_num(value, digits);
    }
    let magnitude = value.abs();
    let shown_as_zero = magnitude < 0.5 * 10f64.powi(-(digits as i32));
    let decimals = if shown_as_zero && magnitude >= 1e-6 {
        (-magnitude.log10()).floor() as usize + 2
    } else {
        digits
    };
    crate::numerics::fixed::fixed(value, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_as_journals_print_them() {
        assert_eq!(paper_p(0.0004), "< .001");
        assert_eq!(paper_p(0.0341), ".034");
        assert_eq!(paper_p(0.5), ".500");
        assert_eq!(paper_p(1.0), "1.000");
        assert_eq!(p_is(0.0004), "p < .001");
        assert_eq!(p_is(0.2), "p = .200");
    }

    #[test]
    fn ratio_estimates_are_back_transformed() {
        let to = Measure::RR.scale();
        assert_eq!(estimate_ci(0.0, -1.0, 1.0, 2, to), "1.00 [0.37, 2.72]");
        assert_eq!(estimate_header(Measure::RR, to, 95.0), "RR [95% CI]");
        assert_eq!(
            estimate_header(Measure::GEN, Scale::Linear, 90.0),
            "Estimate [90% CI]"
        );
    }
}
