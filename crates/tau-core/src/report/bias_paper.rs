//! The paper table of `tau bias` (Markdown and LaTeX): every method in one
//! table, then, with dependent effect sizes, their dependent-effects versions
//! under a heading row. Estimates and CIs are back-transformed where the
//! measure has a natural scale (RR, OR, r), as `pool`'s table shows them;
//! test statistics stay on the model's scale. Numbers are in fixed point
//! (`--digits` decimals), never in e-notation.

use super::fmt_num;
use super::paper::{PaperTable, paper_p};
use super::simulate::column_num;
use crate::bias::BiasResult;
use crate::bias::dependent::DependentBias;
use crate::effect_size::measure::BackTransform;
use crate::robust::RobustCoefficient;

/// Formats estimates with their CIs, back-transformed by `to` where given.
struct Numbers {
    digits: usize,
    to: Option<BackTransform>,
}

impl Numbers {
    fn n(&self, x: f64) -> String {
        column_num(x, self.digits)
    }

    fn est(&self, value: f64, lower: f64, upper: f64) -> String {
        let f = |x: f64| column_num(self.to.map_or(x, |t| t(x)), self.digits);
        format!("{} [{}, {}]", f(value), f(lower), f(upper))
    }

    fn coefficient(&self, c: &RobustCoefficient) -> String {
        self.est(c.estimate, c.ci_lower, c.ci_upper)
    }

    fn t(&self, c: &RobustCoefficient) -> String {
        match c.df {
            Some(df) => format!("t({}) = {}", fmt_num(df, 1), self.n(c.statistic)),
            None => format!("t = {}", self.n(c.statistic)),
        }
    }
}

/// The table of a bias analysis.
pub fn paper(r: &BiasResult, digits: usize) -> PaperTable {
    let s = &r.settings.model;
    let back = s.measure.back_transform();
    let f = Numbers {
        digits,
        to: back.map(|(_, t)| t),
    };
    let mut rows = independent_rows(r, &f);
    let mut notes = vec![match back {
        Some((scale, _)) => format!(
            "Effect measure: {}; estimates and CIs are shown as {scale} (back-transformed), test statistics on the model's scale.",
            s.measure.label()
        ),
        None => format!(
            "Effect measure: {}; estimates and CIs on its scale.",
            s.measure.label()
        ),
    }];
    notes.push(format!(
        "Unadjusted: the {} model ({}); 3PSM: step function at one-sided p = .025, selection favouring the direction of the pooled effect, its p from the likelihood-ratio test of no selection.",
        if s.method == crate::model::Method::EE {
            "common-effect"
        } else {
            "random-effects"
        },
        s.method.name()
    ));
    if let Some(m) = &r.selection
        && let Some(reversed) = super::selection::reversed_selection(m)
    {
        notes.push(format!("3PSM: {reversed}"));
    }
    if let Some(d) = &r.dependent {
        rows.extend(dependent_rows(d, &f));
        notes.push(dependent_note(d));
        if let Some(m) = &d.selection
            && r.selection.is_none()
            && let Some(reversed) = super::selection::reversed_selection(m)
        {
            notes.push(format!("3PSM: {reversed}"));
        }
    }
    for warning in &r.warnings {
        notes.push(format!("Not available: {warning}."));
    }
    PaperTable {
        caption: {
            let what = format!(
                "Small-study effects and publication bias ({} {})",
                r.k,
                crate::warning::studies(r.k)
            );
            match &r.title {
                Some(title) => format!("{title}: {what}"),
                None => what,
            }
        },
        header: vec![
            "Method".into(),
            format!("Result [{}% CI]", fmt_num(s.level, 0)),
            "p".into(),
        ],
        summary_from: rows.len(),
        rows,
        notes,
    }
}

/// The rows of the checks that treat every effect as independent.
fn independent_rows(r: &BiasResult, f: &Numbers) -> Vec<Vec<String>> {
    let stat = if r.settings.model.test.is_knapp_hartung() {
        "t"
    } else {
        "z"
    };
    let mut rows = Vec::new();
    let u = &r.unadjusted;
    rows.push(vec![
        "Unadjusted estimate".to_owned(),
        f.est(u.estimate, u.ci_lower, u.ci_upper),
        String::new(),
    ]);
    if let Some(e) = &r.egger {
        rows.push(vec![
            "Egger's regression test".to_owned(),
            format!(
                "{stat} = {}; limit estimate {}",
                f.n(e.statistic),
                f.est(e.limit_estimate, e.limit_ci_lower, e.limit_ci_upper)
            ),
            paper_p(e.p),
        ]);
    }
    if let Some(b) = &r.begg {
        rows.push(vec![
            "Begg & Mazumdar rank correlation".to_owned(),
            format!("Kendall's τ = {}", f.n(b.tau)),
            paper_p(b.p),
        ]);
    }
    if let Some(t) = &r.trimfill {
        rows.push(vec![
            format!("Trim-and-fill ({} side)", t.side.name()),
            format!(
                "k0 = {}; adjusted estimate {}",
                t.k0,
                f.est(t.estimate, t.ci_lower, t.ci_upper)
            ),
            String::new(),
        ]);
    }
    if let Some(pp) = &r.pet_peese {
        for (name, l) in [("PET", &pp.pet), ("PEESE", &pp.peese)] {
            let e = &l.estimate;
            rows.push(vec![
                format!("{name} intercept"),
                f.est(e.value, e.ci_lower, e.ci_upper),
                paper_p(e.p),
            ]);
        }
    }
    if let Some(m) = &r.selection {
        let e = &m.estimate;
        rows.push(vec![
            "3PSM selection model".to_owned(),
            format!(
                "adjusted estimate {}; δ = {}",
                f.est(e.value, e.ci_lower, e.ci_upper),
                f.n(m.delta.get(1).copied().unwrap_or(f64::NAN))
            ),
            paper_p(m.LRT_p),
        ]);
    }
    let fs = &r.failsafe;
    rows.push(vec![
        "Fail-safe N (Rosenthal)".to_owned(),
        fs.rosenthal
            .map_or_else(|| "infinitely many".into(), |n| n.to_string()),
        paper_p(fs.rosenthal_p),
    ]);
    rows
}

/// The rows of the dependent-effects checks, under a heading row.
fn dependent_rows(d: &DependentBias, f: &Numbers) -> Vec<Vec<String>> {
    let row = |label: &str, result: String, p: String| vec![label.to_owned(), result, p];
    let mut rows = vec![row(
        &format!(
            "Dependent effects (clustered by {}, {} clusters):",
            d.cluster, d.clusters
        ),
        String::new(),
        String::new(),
    )];
    let unadjusted = match (&d.unadjusted, &d.working_model) {
        (_, Some(_)) => "Unadjusted estimate, multilevel CR2",
        (_, None) => "Unadjusted estimate, cluster-robust CR2",
    };
    rows.push(match &d.unadjusted {
        Some(u) => row(unadjusted, f.coefficient(u), paper_p(u.p)),
        None => row(
            unadjusted,
            "not available (see the notes)".into(),
            String::new(),
        ),
    });
    if let (Some(egger), Some(pp)) = (&d.egger, &d.pet_peese) {
        rows.push(row(
            "Egger's test, multilevel CR2",
            format!(
                "{}; limit estimate {}",
                f.t(egger),
                f.coefficient(&pp.pet.intercept)
            ),
            paper_p(egger.p),
        ));
        rows.push(row(
            "PET intercept, multilevel CR2",
            f.coefficient(&pp.pet.intercept),
            paper_p(pp.pet.intercept.p),
        ));
        rows.push(row(
            "PEESE intercept, multilevel CR2",
            f.coefficient(&pp.peese.intercept),
            paper_p(pp.peese.intercept.p),
        ));
    }
    if let Some(m) = &d.selection {
        let e = &m.estimate;
        rows.push(row(
            "3PSM, cluster-robust SE",
            format!(
                "adjusted estimate {}; δ = {}",
                f.est(e.value, e.ci_lower, e.ci_upper),
                f.n(m.delta.get(1).copied().unwrap_or(f64::NAN))
            ),
            paper_p(m.delta_p.get(1).copied().unwrap_or(f64::NAN)),
        ));
    }
    rows
}

/// How the dependent-effects rows were computed.
fn dependent_note(d: &DependentBias) -> String {
    let model = match &d.working_model {
        Some(model) => format!(
            "the unadjusted estimate, Egger's test and PET-PEESE are multilevel models (random = {model}) with CR2 standard errors and Satterthwaite t tests (clubSandwich)"
        ),
        None => "the unadjusted estimate is the random-effects model with CR2 standard errors and a Satterthwaite t test (clubSandwich); Egger's test and PET-PEESE need a multilevel working model".to_owned(),
    };
    format!(
        "Dependent effects: {model}; the robust 3PSM fits the effects as independent with CR0 sandwich standard errors of the per-cluster scores, its p from the robust z test of δ."
    )
}
