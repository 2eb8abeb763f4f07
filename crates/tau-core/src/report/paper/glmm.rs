//! The table for a paper of a GLMM (metafor's `rma.glmm`): the pooled
//! estimate with its CI on the measure's natural scale, and beneath it τ²,
//! I², the Wald and likelihood-ratio tests of heterogeneity against the
//! saturated model, and the test of the overall effect, as `tau pool`
//! reports them (the same rounded numbers in Markdown and LaTeX).
//!
//! A GLMM weights no study (the likelihood does), so the table has no
//! per-study rows or weights: metafor's `weights()` stops for `rma.glmm`
//! fits too.

use crate::effect_size::measure::Measure;
use crate::glmm::GlmmResult;

use super::{
    PaperTable, PaperView, caption, estimate_ci, estimate_header, fmt_num, measure_note, p_is,
};

impl PaperView for GlmmResult {
    fn paper_table(&self, digits: usize) -> Result<PaperTable, String> {
        let fit = &self.fit;
        let measure = Measure::parse(self.measure).ok_or_else(|| {
            format!(
                "a GLMM of measure {} has no table for a paper",
                self.measure
            )
        })?;
        let to = measure.scale();
        let model = self.model.name();
        let mut notes = vec![
            format!(
                "Heterogeneity: τ² = {}, I² = {}%; Wald test Q({df}) = {}, {}; likelihood-ratio test LRT({df}) = {}, {}.",
                fmt_num(fit.tau2, digits.max(2)),
                fmt_num(fit.i2, 1),
                fmt_num(fit.qe_wld, digits),
                p_is(fit.qe_wld_p),
                fmt_num(fit.qe_lrt, digits),
                p_is(fit.qe_lrt_p),
                df = fit.qe_df,
            ),
            format!(
                "Test for overall effect: z = {}, {}.",
                fmt_num(fit.statistic, digits),
                p_is(fit.p)
            ),
            format!(
                "Model: {} (metafor's rma.glmm, model {model}), fitted by maximum likelihood.",
                self.model_type()
            ),
        ];
        if let Some(sigma2) = self.sigma2 {
            notes.push(format!(
                "Variance of the random study intercepts: σ² = {}.",
                fmt_num(sigma2, digits.max(2))
            ));
        }
        if self.left_out > 0 {
            notes.push(format!(
                "{} {} without events in both groups (or only events) left out.",
                self.left_out,
                if self.left_out == 1 {
                    "study"
                } else {
                    "studies"
                }
            ));
        }
        notes.push(measure_note(measure, to));
        Ok(PaperTable {
            caption: caption(
                &self.title,
                format!(
                    "Random-effects GLMM ({model}) of {} {}",
                    fit.k,
                    crate::warning::studies(fit.k)
                ),
            ),
            header: vec!["Model".to_owned(), estimate_header(measure, to, self.level)],
            rows: vec![vec![
                format!("Random-effects GLMM ({model})"),
                estimate_ci(fit.estimate, fit.ci_lower, fit.ci_upper, digits, to),
            ]],
            summary_from: 1,
            notes,
        })
    }
}
