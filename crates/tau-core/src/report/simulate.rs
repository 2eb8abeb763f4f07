//! Text and CSV views of a simulation study (JSON is its serde serialisation, [`super::json`]).

use super::paper::PaperTable;
use super::{fmt_num, table};
use crate::numerics::fixed::push_fixed;
use crate::simulate::{Cell, SimulationResult};

/// A number in a column of the table: `digits` decimals, as the rest of the
/// column (a bias of 3e-7 is `0.0000`, not `3.0000e-07` beside `0.0123`);
/// e-notation only from 10⁶ on, where fixed point would run long.
pub(super) fn column_num(value: f64, digits: usize) -> String {
    if value.is_finite() && value.abs() < 1e6 {
        let mut out = String::new();
        push_fixed(&mut out, value, digits);
        // -0.0003 at three decimals is 0.000, not -0.000.
        if out.starts_with('-') && out.bytes().all(|b| matches!(b, b'-' | b'0' | b'.')) {
            out.remove(0);
        }
        out
    } else {
        fmt_num(value, digits)
    }
}

/// "0.0123 (0.0004)": a value with its Monte Carlo SE.
fn with_mcse(value: f64, mcse: f64) -> String {
    format!("{} ({})", column_num(value, 4), column_num(mcse, 4))
}

/// A proportion as a percentage with its Monte Carlo SE.
fn percent(value: f64, mcse: f64) -> String {
    format!(
        "{} ({})",
        column_num(100.0 * value, 1),
        column_num(100.0 * mcse, 1)
    )
}

/// The text report of a simulation study.
pub fn text(result: &SimulationResult) -> String {
    let s = &result.settings;
    let sc = &s.scenario;
    let mut out = format!(
        "Simulation of {} meta-analyses (tau {}, seed {})\n\n",
        s.reps, result.version, s.seed
    );
    out.push_str(&format!(
        "True model: mu = {}, tau^2 = {}, k = {} studies of a standardised mean difference\n",
        sc.mu, sc.tau2, sc.k
    ));
    out.push_str(&format!(
        "Per-arm sizes n1, n2 ~ uniform integers in [{}, {}]; vi = 1/n1 + 1/n2 + mu^2/(2(n1 + n2)), known\n",
        sc.n_min, sc.n_max
    ));
    out.push_str(
        "yi ~ N(mu, tau^2 + vi); the PI is judged against a new study's true effect ~ N(mu, tau^2)\n",
    );
    out.push_str(&format!(
        "Intervals at {}%; Monte Carlo standard errors in parentheses; coverage in percent\n\n",
        fmt_num(s.level, 1)
    ));
    let rows: Vec<Vec<String>> = result.results.iter().map(accuracy_row).collect();
    out.push_str("Estimates: bias and RMSE against the true mu and tau^2; mean I^2 in percent\n");
    out.push_str(&table(
        &[
            "method",
            "test",
            "fits",
            "failed",
            "bias(mu)",
            "RMSE(mu)",
            "bias(tau^2)",
            "RMSE(tau^2)",
            "mean I^2",
        ],
        &rows,
    ));
    let rows: Vec<Vec<String>> = result.results.iter().map(interval_row).collect();
    out.push_str(&format!(
        "\nIntervals and tests: coverage of mu (CI) and of a new study's effect (PI); share of tests rejecting at p < {} in percent\n",
        fmt_num(1.0 - s.level / 100.0, 3)
    ));
    out.push_str(&table(
        &[
            "method",
            "test",
            "CI cover",
            "CI width",
            "PI cover",
            "PI width",
            "reject mu=0",
            "reject Q",
        ],
        &rows,
    ));
    for cell in &result.results {
        if let Some(failure) = &cell.performance.first_failure {
            out.push_str(&format!(
                "\n{} {}: {} of {} fits failed and are left out of every measure above; the first, replicate {}: {}\n",
                cell.method.name(),
                cell.test.name(),
                cell.performance.failed,
                cell.performance.failed + cell.performance.fits,
                failure.replicate,
                failure.message
            ));
        }
    }
    out
}

fn accuracy_row(cell: &Cell) -> Vec<String> {
    let p = &cell.performance;
    vec![
        cell.method.name().into(),
        cell.test.name().into(),
        p.fits.to_string(),
        p.failed.to_string(),
        with_mcse(p.estimate.bias, p.estimate.bias_mcse),
        column_num(p.estimate.rmse, 4),
        with_mcse(p.tau2.bias, p.tau2.bias_mcse),
        column_num(p.tau2.rmse, 4),
        format!(
            "{} ({})",
            column_num(p.i2.value, 1),
            column_num(p.i2.mcse, 1)
        ),
    ]
}

fn interval_row(cell: &Cell) -> Vec<String> {
    let p = &cell.performance;
    vec![
        cell.method.name().into(),
        cell.test.name().into(),
        percent(p.ci_coverage.value, p.ci_coverage.mcse),
        column_num(p.ci_mean_width, 4),
        percent(p.pi_coverage.value, p.pi_coverage.mcse),
        column_num(p.pi_mean_width, 4),
        percent(p.null_rejection.value, p.null_rejection.mcse),
        percent(p.q_rejection.value, p.q_rejection.mcse),
    ]
}

/// One CSV row per method × test, full precision.
pub fn csv(result: &SimulationResult) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "method",
        "test",
        "fits",
        "failed",
        "estimate_bias",
        "estimate_bias_mcse",
        "estimate_rmse",
        "tau2_bias",
        "tau2_bias_mcse",
        "tau2_rmse",
        "ci_coverage",
        "ci_coverage_mcse",
        "ci_mean_width",
        "pi_coverage",
        "pi_coverage_mcse",
        "pi_mean_width",
        "i2_mean",
        "i2_mean_mcse",
        "null_rejection",
        "null_rejection_mcse",
        "q_rejection",
        "q_rejection_mcse",
    ])?;
    for cell in &result.results {
        let p = &cell.performance;
        let mut record = vec![
            cell.method.name().to_owned(),
            cell.test.name().to_owned(),
            p.fits.to_string(),
            p.failed.to_string(),
        ];
        record.extend(
            [
                p.estimate.bias,
                p.estimate.bias_mcse,
                p.estimate.rmse,
                p.tau2.bias,
                p.tau2.bias_mcse,
                p.tau2.rmse,
                p.ci_coverage.value,
                p.ci_coverage.mcse,
                p.ci_mean_width,
                p.pi_coverage.value,
                p.pi_coverage.mcse,
                p.pi_mean_width,
                p.i2.value,
                p.i2.mcse,
                p.null_rejection.value,
                p.null_rejection.mcse,
                p.q_rejection.value,
                p.q_rejection.mcse,
            ]
            .map(|v| v.to_string()),
        );
        writer.write_record(&record)?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The paper table: one row per method × test, the numbers rounded to
/// `digits` decimals in fixed point (percentages to one decimal), the Monte
/// Carlo standard errors' largest values in the notes.
pub fn paper(result: &SimulationResult, digits: usize) -> PaperTable {
    let s = &result.settings;
    let sc = &s.scenario;
    let level = fmt_num(s.level, 0);
    let rows = result
        .results
        .iter()
        .map(|cell| {
            let p = &cell.performance;
            vec![
                cell.method.name().to_owned(),
                cell.test.name().to_owned(),
                column_num(p.estimate.bias, digits.max(3)),
                column_num(p.estimate.rmse, digits.max(3)),
                column_num(p.tau2.bias, digits.max(3)),
                column_num(p.i2.value, 1),
                column_num(100.0 * p.ci_coverage.value, 1),
                column_num(100.0 * p.pi_coverage.value, 1),
                column_num(100.0 * p.null_rejection.value, 1),
                column_num(100.0 * p.q_rejection.value, 1),
            ]
        })
        .collect();
    let largest = |f: &dyn Fn(&Cell) -> f64| {
        result
            .results
            .iter()
            .map(f)
            .fold(0.0_f64, |a, b| if b > a { b } else { a })
    };
    let coverage_mcse = largest(&|c| {
        let p = &c.performance;
        p.ci_coverage
            .mcse
            .max(p.pi_coverage.mcse)
            .max(p.null_rejection.mcse)
            .max(p.q_rejection.mcse)
    });
    let bias_mcse = largest(&|c| c.performance.estimate.bias_mcse);
    let failed: u64 = result.results.iter().map(|c| c.performance.failed).sum();
    let mut notes = vec![
        format!(
            "{} simulated meta-analyses of k = {} studies (standardised mean differences, per-arm n uniform on [{}, {}]) with true μ = {} and τ² = {}; seed {}, tau {}.",
            s.reps, sc.k, sc.n_min, sc.n_max, sc.mu, sc.tau2, s.seed, result.version
        ),
        format!(
            "Coverage of μ by the {level}% CI and of a new study's true effect by the {level}% PI, and the share of tests rejecting μ = 0 and homogeneity (Q) at p < {}, in percent; mean I² is the average of the estimates, in percent.",
            fmt_num(1.0 - s.level / 100.0, 3)
        ),
        format!(
            "Monte Carlo standard errors at most {} (bias of μ) and {} percentage points (coverage and rejection rates).",
            column_num(bias_mcse, digits.max(3)),
            column_num(100.0 * coverage_mcse, 1)
        ),
    ];
    if failed > 0 {
        notes.push(format!(
            "{failed} fits failed and are left out of the measures (see the text or JSON report)."
        ));
    }
    PaperTable {
        caption: format!(
            "Simulation of τ² estimators and tests (k = {}, τ² = {}, μ = {})",
            sc.k, sc.tau2, sc.mu
        ),
        header: [
            "Method",
            "Test",
            "Bias (μ)",
            "RMSE (μ)",
            "Bias (τ²)",
            "Mean I² (%)",
            "CI coverage (%)",
            "PI coverage (%)",
            "Reject μ = 0 (%)",
            "Reject Q (%)",
        ]
        .map(str::to_owned)
        .to_vec(),
        summary_from: result.results.len(),
        rows,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_their_decimals() {
        assert_eq!(with_mcse(3e-7, 0.0123), "0.0000 (0.0123)");
        assert_eq!(percent(0.95, 1e-9), "95.0 (0.0)");
        assert_eq!(column_num(2.5e6, 4), "2.5000e+06");
        assert_eq!(column_num(-3e-4, 3), "0.000");
        assert_eq!(column_num(-3e-4, 4), "-0.0003");
    }
}
