//! The views of a Bayesian meta-analysis ([`crate::bayes::BayesResult`]):
//! a text report with a plain reading, the per-study table as CSV (the
//! posterior of each θᵢ), and a table of the posteriors of τ, μ and θ_new
//! for a paper. JSON is the result's own serialisation.

use std::io::Write;

use super::csv::CsvView;
use super::paper::{PaperTable, PaperView};
use super::text::TextView;
use super::{fmt_num, table};
use crate::bayes::{BayesResult, Summary};

impl TextView for BayesResult {
    fn text(&self) -> String {
        text(self)
    }
}

impl CsvView for BayesResult {
    fn write_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let table = csv(self).map_err(|e| std::io::Error::other(e.to_string()))?;
        out.write_all(table.as_bytes())
    }
}

impl PaperView for BayesResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        Ok(paper_table(self, digits))
    }
}

fn summary_row(name: &str, s: &Summary) -> Vec<String> {
    let mut row = vec![name.to_owned()];
    row.extend(
        [
            s.mode,
            s.median,
            s.mean,
            s.sd,
            s.ci_lower,
            s.ci_upper,
            s.ci_shortest[0],
            s.ci_shortest[1],
        ]
        .iter()
        .map(|&v| fmt_num(v, 4)),
    );
    row
}

/// A number in R's `%g`-like short form for Bayes factors and likelihoods.
fn short(value: f64) -> String {
    if value.is_nan() {
        "NA".into()
    } else if value != 0.0 && (value.abs() >= 1e4 || value.abs() < 1e-3) {
        format!("{value:.4e}")
    } else {
        fmt_num(value, 4)
    }
}

/// The text report.
pub fn text(r: &BayesResult) -> String {
    let s = &r.settings;
    let level = fmt_num(s.level, 0);
    let mut out = format!(
        "Bayesian Random-Effects Model (k = {}; measure: {})\n\n",
        r.k, r.measure
    );
    out.push_str(&format!(
        "Priors: tau ~ {}{}; mu ~ {}\n",
        s.tau_prior.label(),
        if s.tau_prior.is_proper() {
            ""
        } else {
            " (improper)"
        },
        s.mu_prior.label()
    ));
    out.push_str(&format!(
        "Posterior by numerical integration ({} nodes, relative tolerance {:e}; as bayesmeta)\n\n",
        s.nodes, s.rel_tol
    ));
    out.push_str(&format!(
        "Posterior summaries ({level}% intervals: central, and shortest):\n\n"
    ));
    let rows = vec![
        summary_row("tau", &r.tau),
        summary_row("mu", &r.mu),
        summary_row("theta_new", &r.theta_new),
    ];
    out.push_str(&table(
        &[
            "", "mode", "median", "mean", "sd", "ci.lb", "ci.ub", "short.lb", "short.ub",
        ],
        &rows,
    ));
    match (r.marginal_likelihood, r.log_marginal_likelihood, r.bayes_factor) {
        (Some(ml), Some(log_ml), Some(bf)) => out.push_str(&format!(
            "\nMarginal likelihood: {} (log: {})\nBayes factors BF01: tau = 0: {}; mu = 0: {}\n",
            short(ml),
            fmt_num(log_ml, 4),
            short(bf.tau_zero),
            short(bf.mu_zero)
        )),
        _ => out.push_str(
            "\nMarginal likelihood and Bayes factors: not defined (they need proper priors on both tau and mu)\n",
        ),
    }
    out.push_str(&format!(
        "\nStudy posteriors (shrinkage; {level}% central intervals):\n\n"
    ));
    let rows: Vec<Vec<String>> = r
        .studies
        .iter()
        .map(|st| {
            vec![
                st.study.clone(),
                fmt_num(st.yi, 4),
                fmt_num(st.vi.sqrt(), 4),
                fmt_num(st.mean, 4),
                fmt_num(st.sd, 4),
                fmt_num(st.median, 4),
                fmt_num(st.ci_lower, 4),
                fmt_num(st.ci_upper, 4),
            ]
        })
        .collect();
    out.push_str(&table(
        &["", "yi", "sei", "mean", "sd", "median", "ci.lb", "ci.ub"],
        &rows,
    ));
    if let (Some(m), Some(inc), Some(avg)) = (&r.models, &r.inclusion_bf, &r.averaged) {
        out.push_str("\nModel averaging (prior probability 0.25 each):\n\n");
        let rows: Vec<Vec<String>> = [
            ("fixed_H0 (mu = 0, tau = 0)", m.fixed_h0),
            ("fixed_H1 (mu free, tau = 0)", m.fixed_h1),
            ("random_H0 (mu = 0, tau > 0)", m.random_h0),
            ("random_H1 (mu free, tau > 0)", m.random_h1),
        ]
        .iter()
        .map(|(name, model)| {
            vec![
                (*name).to_owned(),
                fmt_num(model.log_marginal_likelihood, 4),
                fmt_num(model.posterior_prob, 4),
            ]
        })
        .collect();
        out.push_str(&table(&["", "log ML", "posterior"], &rows));
        out.push_str(&format!(
            "\nInclusion Bayes factors: effect {}; heterogeneity {}\nModel-averaged mu: mean {}, median {} ({level}% interval: {}, {})\n",
            short(inc.effect),
            short(inc.heterogeneity),
            fmt_num(avg.mu.mean, 4),
            fmt_num(avg.mu.median, 4),
            fmt_num(avg.mu.ci_lower, 4),
            fmt_num(avg.mu.ci_upper, 4)
        ));
    }
    out.push_str(&reading(r, &level));
    for note in &r.notes {
        out.push_str(&format!("\nNote: {note}\n"));
    }
    out
}

/// A Bayes factor in a sentence: two decimals, or scientific beyond 10⁴.
fn times(bf: f64) -> String {
    if bf >= 1e4 {
        format!("{bf:.2e}")
    } else {
        fmt_num(bf, 2)
    }
}

/// How strong a Bayes factor is, in Jeffreys' words (as Lee & Wagenmakers 2013).
fn strength(bf: f64) -> &'static str {
    match bf {
        b if b > 100.0 => "extreme",
        b if b > 30.0 => "very strong",
        b if b > 10.0 => "strong",
        b if b > 3.0 => "moderate",
        _ => "anecdotal",
    }
}

/// What the numbers say, in plain words.
fn reading(r: &BayesResult, level: &str) -> String {
    let n = |v: f64| fmt_num(v, 2);
    let mut out = format!(
        "\nReading: given these priors and the data, the overall effect mu lies between {} and {} with {level}% probability (median {}); the heterogeneity tau lies between {} and {} (median {}), and the true effect of a new study between {} and {}.",
        n(r.mu.ci_lower),
        n(r.mu.ci_upper),
        n(r.mu.median),
        n(r.tau.ci_lower),
        n(r.tau.ci_upper),
        n(r.tau.median),
        n(r.theta_new.ci_lower),
        n(r.theta_new.ci_upper)
    );
    if let Some(bf) = r.bayes_factor {
        let bf10 = 1.0 / bf.mu_zero;
        out.push_str(&if bf10 >= 1.0 {
            format!(
                " The data are {} times more likely with an effect than with mu = 0 ({} evidence for an effect).",
                times(bf10),
                strength(bf10)
            )
        } else {
            format!(
                " The data are {} times more likely with mu = 0 than with an effect ({} evidence for no effect).",
                times(bf.mu_zero),
                strength(bf.mu_zero)
            )
        });
    }
    if let Some(m) = &r.models {
        let effect = m.fixed_h1.posterior_prob + m.random_h1.posterior_prob;
        let hetero = m.random_h0.posterior_prob + m.random_h1.posterior_prob;
        out.push_str(&format!(
            " Averaged over the four models, the probability that there is an effect is {} and that the effects differ between studies {}.",
            n(effect),
            n(hetero)
        ));
    }
    out.push_str(
        " These are statements about the parameters given the priors: with few studies the prior on tau shapes them, so compare another prior (e.g. a wider half-normal) before relying on them.\n",
    );
    out
}

/// The posterior of each study's θᵢ as CSV.
pub fn csv(r: &BayesResult) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "study", "yi", "vi", "mean", "sd", "median", "ci_lower", "ci_upper",
    ])?;
    for s in &r.studies {
        writer.write_record([
            s.study.clone(),
            s.yi.to_string(),
            s.vi.to_string(),
            s.mean.to_string(),
            s.sd.to_string(),
            s.median.to_string(),
            s.ci_lower.to_string(),
            s.ci_upper.to_string(),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The posteriors of τ, μ and θ_new for a paper.
pub fn paper_table(r: &BayesResult, digits: usize) -> PaperTable {
    let s = &r.settings;
    let level = fmt_num(s.level, 0);
    let n = |v: f64| fmt_num(v, digits);
    let row = |name: &str, x: &Summary| {
        vec![
            name.to_owned(),
            n(x.median),
            format!("{} ({})", n(x.mean), n(x.sd)),
            format!("[{}, {}]", n(x.ci_lower), n(x.ci_upper)),
            format!("[{}, {}]", n(x.ci_shortest[0]), n(x.ci_shortest[1])),
        ]
    };
    let mut rows = vec![
        row("Heterogeneity (τ)", &r.tau),
        row("Overall effect (μ)", &r.mu),
        row("New study (θ_new)", &r.theta_new),
    ];
    if let Some(avg) = &r.averaged {
        rows.push(vec![
            "Overall effect, model-averaged".to_owned(),
            n(avg.mu.median),
            format!("{} (–)", n(avg.mu.mean)),
            format!("[{}, {}]", n(avg.mu.ci_lower), n(avg.mu.ci_upper)),
            String::new(),
        ]);
    }
    let mut notes = vec![format!(
        "Bayesian random-effects meta-analysis of k = {} studies ({}); priors: τ ~ {}, μ ~ {}; posteriors by numerical integration.",
        r.k,
        r.measure,
        s.tau_prior.label(),
        s.mu_prior.label()
    )];
    if let Some(bf) = r.bayes_factor {
        notes.push(format!(
            "Bayes factors BF01: τ = 0: {}; μ = 0: {}.",
            short(bf.tau_zero),
            short(bf.mu_zero)
        ));
    }
    if let Some(inc) = &r.inclusion_bf {
        notes.push(format!(
            "Inclusion Bayes factors (four models, prior probability 1/4 each): effect {}; heterogeneity {}.",
            short(inc.effect),
            short(inc.heterogeneity)
        ));
    }
    PaperTable {
        caption: "Posterior summaries".to_owned(),
        header: vec![
            String::new(),
            "Median".to_owned(),
            "Mean (SD)".to_owned(),
            format!("{level}% CrI"),
            format!("Shortest {level}% CrI"),
        ],
        rows,
        summary_from: 3,
        notes,
    }
}
